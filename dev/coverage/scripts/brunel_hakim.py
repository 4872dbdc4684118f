"""Sparsely connected inhibitory network with noise (Brunel & Hakim 1999)."""
from brian2 import *

prefs.codegen.target = 'numpy'
N = 500
Vr = 10*mV
theta = 20*mV
tau = 20*ms
delta = 2*ms
taurefr = 2*ms
C = 100
sparseness = float(C)/N
J = .1*mV
muext = 25*mV
sigmaext = 1*mV
eqs = """
dV/dt = (-V+muext + sigmaext * sqrt(tau) * xi)/tau : volt
"""
group = NeuronGroup(N, eqs, threshold='V>theta', reset='V=Vr', refractory=taurefr,
                    method='euler')
group.V = Vr
conn = Synapses(group, group, on_pre='V += -J', delay=delta)
conn.connect(p=sparseness)
M = SpikeMonitor(group)
LFP = PopulationRateMonitor(group)
run(100*ms)
