"""Phase locking of neurons to a sinusoidal input (a function of t in the equations)."""
from brian2 import *

prefs.codegen.target = 'numpy'
tau = 20*ms
n = 100
b = 1.2
freq = 10*Hz
eqs = '''
dv/dt = (-v + a * sin(2 * pi * freq * t) + b) / tau : 1
a : 1
'''
neurons = NeuronGroup(n, model=eqs, threshold='v > 1', reset='v = 0', method='euler')
neurons.v = 'rand()'
neurons.a = '0.05 + 0.7*i/n'
S = SpikeMonitor(neurons)
trace = StateMonitor(neurons, 'v', record=50)
run(200*ms)
