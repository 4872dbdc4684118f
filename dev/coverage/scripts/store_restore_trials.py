"""Several trials from the same initial state with store() and restore()."""
from brian2 import *

prefs.codegen.target = 'numpy'
tau = 10*ms
G = NeuronGroup(10, '''dv/dt = (I - v)/tau : 1
                       I : 1 (shared)''', threshold='v > 1', reset='v = 0',
                method='exact')
G.v = 'rand()'
spikes = SpikeMonitor(G)
store()
counts = []
for amplitude in [1.2, 1.5, 2.0]:
    restore()
    G.I = amplitude
    run(50*ms)
    counts.append(spikes.num_spikes)
print(counts)
