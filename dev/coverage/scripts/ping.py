"""Pyramidal-interneuron gamma (PING) oscillation with delays."""
from brian2 import *

prefs.codegen.target = 'numpy'
NE, NI = 160, 40
tau_e, tau_i = 20*ms, 10*ms
eqs = '''dv/dt = (mu - v + ge - gi)/tau : 1
         dge/dt = -ge/(2*ms) : 1
         dgi/dt = -gi/(5*ms) : 1
         mu : 1
         tau : second'''
E = NeuronGroup(NE, eqs, threshold='v > 1', reset='v = 0', method='euler')
I = NeuronGroup(NI, eqs, threshold='v > 1', reset='v = 0', method='euler')
E.tau = tau_e
I.tau = tau_i
E.mu = 'rand()*0.2 + 1.1'
I.mu = 0.8
EI = Synapses(E, I, on_pre='ge += 0.4', delay=1*ms)
EI.connect(p=0.3)
IE = Synapses(I, E, on_pre='gi += 0.6', delay=1*ms)
IE.connect(p=0.3)
rates_e = PopulationRateMonitor(E)
rates_i = PopulationRateMonitor(I)
run(150*ms)
