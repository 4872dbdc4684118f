"""Poisson-like input rates varying per neuron and in time: TimedArray of (t, i)."""
from brian2 import *

prefs.codegen.target = 'numpy'
n = 20
values = np.random.RandomState(3).rand(10, n) * 50
rates = TimedArray(values*Hz, dt=10*ms)
inputs = NeuronGroup(n, 'rate = rates(t, i) : Hz', threshold='rand() < rate*dt')
target = NeuronGroup(1, 'dv/dt = -v/(10*ms) : 1')
S = Synapses(inputs, target, on_pre='v += 0.1')
S.connect()
spikes = SpikeMonitor(inputs)
run(100*ms)
