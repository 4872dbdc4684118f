"""Izhikevich neurons, regular spiking and fast spiking."""
from brian2 import *

prefs.codegen.target = 'numpy'
eqs = '''dv/dt = (0.04*v**2 + 5*v + 140 - u + I)/ms : 1
         du/dt = a*(b*v - u)/ms : 1
         a : 1
         b : 1
         c : 1
         d : 1
         I : 1'''
G = NeuronGroup(2, eqs, threshold='v >= 30', reset='v = c; u += d', method='euler')
G.a = [0.02, 0.1]
G.b = 0.2
G.c = -65
G.d = [8, 2]
G.v = -65
G.u = 'b*v'
G.I = 10
mon = StateMonitor(G, 'v', record=True)
run(100*ms)
