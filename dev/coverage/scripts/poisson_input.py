"""LIF neurons bombarded by PoissonInput (Brunel-style background)."""
from brian2 import *

prefs.codegen.target = 'numpy'
tau = 20*ms
G = NeuronGroup(100, 'dv/dt = -v/tau : volt', threshold='v > 20*mV', reset='v = 10*mV',
                refractory=2*ms, method='exact')
inp = PoissonInput(G, 'v', N=1000, rate=20*Hz, weight=0.1*mV)
spikes = SpikeMonitor(G)
run(100*ms)
