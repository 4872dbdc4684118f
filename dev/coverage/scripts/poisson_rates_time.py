"""A PoissonGroup with a time-dependent rate expression."""
from brian2 import *

prefs.codegen.target = 'numpy'
P = PoissonGroup(100, rates='20*Hz*(1 + sin(2*pi*5*Hz*t))')
G = NeuronGroup(10, 'dv/dt = -v/(10*ms) : 1', threshold='v > 1', reset='v = 0',
                method='exact')
S = Synapses(P, G, on_pre='v += 0.1')
S.connect(p=0.2)
spikes = SpikeMonitor(P)
run(100*ms)
