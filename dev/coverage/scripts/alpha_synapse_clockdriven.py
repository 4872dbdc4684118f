"""Alpha-shaped synaptic conductance integrated in the Synapses (clock-driven)."""
from brian2 import *

prefs.codegen.target = 'numpy'
tau_s = 2*ms
inp = SpikeGeneratorGroup(2, [0, 1, 0], [5, 20, 40]*ms)
G = NeuronGroup(1, '''dv/dt = (-v + g_syn)/(10*ms) : 1
                      g_syn : 1''', method='euler')
S = Synapses(inp, G, '''dg/dt = (-g + h)/tau_s : 1 (clock-driven)
                        dh/dt = -h/tau_s : 1 (clock-driven)
                        g_syn_post = g : 1 (summed)''',
             on_pre='h += 1', method='euler')
S.connect()
mon = StateMonitor(G, ['v', 'g_syn'], record=0)
run(60*ms)
