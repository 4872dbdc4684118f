"""A LIF neuron driven by a step current from a TimedArray of time."""
from brian2 import *

prefs.codegen.target = 'numpy'
stimulus = TimedArray(np.hstack([[0, 0], [2, 2, 2], [0]*5])*nA, dt=10*ms)
C = 200*pF
gL = 10*nS
EL = -70*mV
G = NeuronGroup(3, 'dv/dt = (gL*(EL - v) + stimulus(t))/C : volt',
                threshold='v > -50*mV', reset='v = EL', method='euler')
G.v = EL
mon = StateMonitor(G, 'v', record=0)
spikes = SpikeMonitor(G)
run(100*ms)
