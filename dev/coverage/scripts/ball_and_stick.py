"""A ball-and-stick neuron with a passive dendrite and an active soma."""
from brian2 import *

prefs.codegen.target = 'numpy'
morpho = Soma(diameter=20*um)
morpho.dendrite = Cylinder(length=200*um, diameter=2*um, n=10)
gL = 1e-4*siemens/cm**2
EL = -65*mV
eqs = '''
Im = gL*(EL - v) : amp/meter**2
I : amp (point current)
'''
neuron = SpatialNeuron(morphology=morpho, model=eqs, Cm=1*uF/cm**2, Ri=150*ohm*cm,
                       threshold='v > -50*mV', threshold_location=0, reset='v = EL',
                       refractory=2*ms, method='exponential_euler')
neuron.v = EL
neuron.I[0] = 0.2*nA
mon = StateMonitor(neuron, 'v', record=[0, 5])
spikes = SpikeMonitor(neuron)
run(50*ms)
