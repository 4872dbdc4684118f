"""Synapses with an event-driven trace: facilitation of a postsynaptic current."""
from brian2 import *

prefs.codegen.target = 'numpy'
inp = PoissonGroup(20, rates=40*Hz)
G = NeuronGroup(1, 'dv/dt = -v/(10*ms) : 1', threshold='v > 1', reset='v = 0',
                method='exact')
S = Synapses(inp, G, '''w : 1
                        dfac/dt = -fac/(100*ms) : 1 (event-driven)''',
             on_pre='''fac += 0.1
                       v_post += w*(1 + fac)''')
S.connect()
S.w = 0.05
spikes = SpikeMonitor(G)
run(100*ms)
