"""A stimulus that switches every 20 ms, changed with run_regularly."""
from brian2 import *

prefs.codegen.target = 'numpy'
G = NeuronGroup(10, '''dv/dt = (I - v)/(10*ms) : 1
                       I : 1''', threshold='v > 1', reset='v = 0', method='exact')
G.run_regularly('I = 2*int(rand() < 0.5)', dt=20*ms)
mon = SpikeMonitor(G)
run(100*ms)
