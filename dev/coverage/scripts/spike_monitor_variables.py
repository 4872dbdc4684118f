"""A SpikeMonitor recording a variable at spike times, and a StateMonitor in 'thresholds'."""
from brian2 import *

prefs.codegen.target = 'numpy'
G = NeuronGroup(5, '''dv/dt = (1.5 - v)/(10*ms) : 1
                      dadapt/dt = -adapt/(30*ms) : 1''',
                threshold='v > 1 + adapt', reset='v = 0; adapt += 0.1', method='exact')
G.v = 'rand()'
spikes = SpikeMonitor(G, variables='adapt')
states = StateMonitor(G, 'v', record=0, when='thresholds')
run(100*ms)
