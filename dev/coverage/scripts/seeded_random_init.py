"""Random initial conditions and connectivity, seeded for reproducibility."""
from brian2 import *

prefs.codegen.target = 'numpy'
seed(42)
G = NeuronGroup(50, '''dv/dt = (I - v)/tau : 1
                       I : 1
                       tau : second''', threshold='v > 1', reset='v = 0', method='exact')
G.v = 'rand()'
G.I = '0.9 + 0.4*rand()'
G.tau = '(5 + 10*rand())*ms'
S = Synapses(G, G, on_pre='v_post += 0.05')
S.connect(p=0.1)
spikes = SpikeMonitor(G)
run(100*ms)
