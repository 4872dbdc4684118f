"""Precisely timed input spikes from a SpikeGeneratorGroup, with delays."""
from brian2 import *

prefs.codegen.target = 'numpy'
indices = array([0, 1, 2, 0, 1])
times = array([5, 10, 15, 40, 45])*ms
inp = SpikeGeneratorGroup(3, indices, times)
G = NeuronGroup(2, 'dv/dt = -v/(10*ms) : 1', threshold='v > 1', reset='v = 0',
                method='exact')
S = Synapses(inp, G, 'w : 1', on_pre='v_post += w', delay=2*ms)
S.connect(p=1)
S.w = 'rand() * 0.8'
mon = StateMonitor(G, 'v', record=True)
run(60*ms)
