"""A Wilson-Cowan rate model (no spikes) of an excitatory and an inhibitory population."""
from brian2 import *

prefs.codegen.target = 'numpy'
tau_e = 10*ms
tau_i = 20*ms
eqs = '''
dE/dt = (-E + 1/(1 + exp(-(12*E - 10*I + P - 3))))/tau_e : 1
dI/dt = (-I + 1/(1 + exp(-(10*E - 2*I - 3.5))))/tau_i : 1
P : 1
'''
pop = NeuronGroup(1, eqs, method='rk4')
pop.P = 1.25
pop.E = 0.1
mon = StateMonitor(pop, ['E', 'I'], record=0)
run(200*ms)
