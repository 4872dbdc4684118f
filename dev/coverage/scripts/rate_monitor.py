"""Population rate of a Poisson-driven group, with a PopulationRateMonitor."""
import matplotlib.pyplot as plt
from brian2 import *

prefs.codegen.target = 'numpy'
P = PoissonGroup(50, rates=30*Hz)
G = NeuronGroup(50, 'dv/dt = -v/(5*ms) : 1', threshold='v > 1', reset='v = 0',
                method='exact')
S = Synapses(P, G, on_pre='v += 0.6')
S.connect(j='i')
R = PopulationRateMonitor(G)
run(100*ms)
plt.plot(R.t/ms, R.smooth_rate(width=5*ms)/Hz)
plt.savefig('/dev/null', format='png')
