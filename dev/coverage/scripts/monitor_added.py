"""A warm-up run without recording, then a monitored run (a monitor added between runs)."""
from brian2 import *

prefs.codegen.target = 'numpy'
G = NeuronGroup(20, 'dv/dt = (1.1 - v)/(10*ms) + 0.2*xi/sqrt(ms) : 1', threshold='v > 1',
                reset='v = 0', method='euler')
run(50*ms)
spikes = SpikeMonitor(G)
run(100*ms)
