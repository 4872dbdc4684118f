"""Input current changed by Python code every millisecond (network_operation)."""
from brian2 import *

prefs.codegen.target = 'numpy'
G = NeuronGroup(4, '''dv/dt = (I - v)/(10*ms) : 1
                      I : 1''', threshold='v > 1', reset='v = 0', method='exact')


@network_operation(dt=1*ms)
def update_input(t):
    """Drive the cells with a slow sine wave."""
    G.I = 1.5 + np.sin(2*np.pi*10*Hz*t)


mon = StateMonitor(G, 'I', record=0)
run(50*ms)
