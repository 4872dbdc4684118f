"""Ornstein-Uhlenbeck input current to a LIF neuron."""
from brian2 import *

prefs.codegen.target = 'numpy'
tau_m = 20*ms
tau_I = 5*ms
I0 = 12*mV
sigma_I = 4*mV
eqs = '''
dv/dt = (-v + I)/tau_m : volt
dI/dt = (I0 - I)/tau_I + sigma_I*sqrt(2/tau_I)*xi_input : volt
'''
G = NeuronGroup(50, eqs, threshold='v > 15*mV', reset='v = 0*mV', method='euler')
G.I = I0
M = StateMonitor(G, 'I', record=range(5))
run(100*ms)
