"""Code strings with Python comments, as users write them."""
from brian2 import *

prefs.codegen.target = 'numpy'
G = NeuronGroup(10, 'dv/dt = (1.2 - v)/(10*ms) : 1  # membrane',
                threshold="v > 1",
                reset='v = 0  # back to rest', method='exact')
G.v = 'rand()'
S = Synapses(G, G, 'w : 1', on_pre='v_post += w  # kick')
S.connect(j='i if i < 2')
S.w = 0.1
mon = SpikeMonitor(G)
run(50*ms)
