"""An E/I network built from subgroups, with different weights for each pathway."""
from brian2 import *

prefs.codegen.target = 'numpy'
N = 200
eqs = '''dv/dt = (I_ext - v + ge - gi)/(20*ms) : 1
         dge/dt = -ge/(5*ms) : 1
         dgi/dt = -gi/(10*ms) : 1
         I_ext : 1'''
G = NeuronGroup(N, eqs, threshold='v > 1', reset='v = 0', refractory=5*ms, method='exact')
E = G[:160]
I = G[160:]
G.I_ext = 'rand()*0.3 + 0.9'
S_ee = Synapses(E, E, on_pre='ge += 0.05')
S_ee.connect(p=0.1)
S_ei = Synapses(E, I, on_pre='ge += 0.1')
S_ei.connect(p=0.1)
S_ie = Synapses(I, G, on_pre='gi += 0.2')
S_ie.connect(p=0.1)
spikes_e = SpikeMonitor(E)
spikes_i = SpikeMonitor(I)
run(100*ms)
