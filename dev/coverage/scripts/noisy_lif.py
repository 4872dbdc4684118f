"""A population of noisy leaky integrate-and-fire neurons (white noise xi)."""
from brian2 import *

prefs.codegen.target = 'numpy'
tau = 10*ms
sigma = 5*mV
v_th = -50*mV
v_reset = -65*mV
mu = -52*mV
eqs = 'dv/dt = (mu - v)/tau + sigma*sqrt(2/tau)*xi : volt'
G = NeuronGroup(100, eqs, threshold='v > v_th', reset='v = v_reset',
                refractory=2*ms, method='euler')
G.v = v_reset
spikes = SpikeMonitor(G)
rate = PopulationRateMonitor(G)
run(200*ms)
print(spikes.num_spikes / (100 * 0.2))
