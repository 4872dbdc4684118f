"""A custom event: a calcium-like variable raised whenever v crosses a level."""
from brian2 import *

prefs.codegen.target = 'numpy'
eqs = '''dv/dt = (1.2 - v)/(10*ms) : 1
         dca/dt = -ca/(50*ms) : 1'''
G = NeuronGroup(5, eqs, threshold='v > 1', reset='v = 0',
                events={'high': 'v > 0.8 and ca < 1'}, method='exact')
G.run_on_event('high', 'ca += 0.1')
G.v = 'rand()'
high_mon = EventMonitor(G, 'high')
mon = StateMonitor(G, 'ca', record=0)
run(100*ms)
