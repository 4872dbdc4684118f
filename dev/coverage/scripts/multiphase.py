"""A protocol in three phases: rest, a current step, rest again."""
from brian2 import *

prefs.codegen.target = 'numpy'
tau = 10*ms
eqs = '''dv/dt = (I - v)/tau : 1
I : 1 (shared)'''
G = NeuronGroup(5, eqs, threshold='v > 1', reset='v = 0', method='exact')
mon = StateMonitor(G, 'v', record=0)
G.I = 0
run(30*ms)
G.I = 1.5
run(50*ms)
G.I = 0
run(30*ms)
