"""A neuron with an adaptive threshold raised at each spike."""
from brian2 import *

prefs.codegen.target = 'numpy'
eqs = '''
dv/dt = -v/(10*ms) + 1.5/(10*ms) : 1
dvt/dt = (1 - vt)/(50*ms) : 1
'''
G = NeuronGroup(1, eqs, threshold='v > vt', reset='v = 0; vt += 0.2', method='exact')
G.vt = 1
mon = StateMonitor(G, ['v', 'vt'], record=0)
spikes = SpikeMonitor(G)
run(150*ms)
