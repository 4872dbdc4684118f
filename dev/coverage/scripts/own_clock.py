"""A slow population on its own clock next to a fast one."""
from brian2 import *

prefs.codegen.target = 'numpy'
slow_clock = Clock(dt=1*ms)
fast = NeuronGroup(10, 'dv/dt = (1.1 - v)/(10*ms) : 1', threshold='v > 1',
                   reset='v = 0', method='exact')
slow = NeuronGroup(10, 'dw/dt = (2 - w)/(50*ms) : 1', threshold='w > 1', reset='w = 0',
                   method='exact', clock=slow_clock)
mon = StateMonitor(slow, 'w', record=0, dt=1*ms)
run(100*ms)
