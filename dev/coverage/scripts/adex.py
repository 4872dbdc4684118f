"""Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005)."""
from brian2 import *

prefs.codegen.target = 'numpy'
C = 281*pF
gL = 30*nS
taum = C / gL
EL = -70.6*mV
VT = -50.4*mV
DeltaT = 2*mV
Vcut = VT + 5 * DeltaT
tauw, a, b, Vr = 144*ms, 4*nS, 0.0805*nA, -70.6*mV
eqs = """
dvm/dt = (gL*(EL - vm) + gL*DeltaT*exp((vm - VT)/DeltaT) + I - w)/C : volt
dw/dt = (a*(vm - EL) - w)/tauw : amp
I : amp
"""
neuron = NeuronGroup(1, model=eqs, threshold='vm>Vcut', reset="vm=Vr; w+=b",
                     method='euler')
neuron.vm = EL
trace = StateMonitor(neuron, 'vm', record=0)
spikes = SpikeMonitor(neuron)
run(20 * ms)
neuron.I = 1*nA
run(100 * ms)
neuron.I = 0*nA
run(20 * ms)
