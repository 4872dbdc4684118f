"""An input population whose current follows a shared driver (linked variable)."""
from brian2 import *

prefs.codegen.target = 'numpy'
driver = NeuronGroup(1, 'dx/dt = (2 - x)/(20*ms) : 1', method='exact')
cells = NeuronGroup(20, '''dv/dt = (x_in - v)/(10*ms) : 1
                           x_in : 1 (linked)''', threshold='v > 1', reset='v = 0',
                    method='exact')
cells.x_in = linked_var(driver, 'x', index=np.zeros(20, dtype=int))
mon = SpikeMonitor(cells)
run(100*ms)
