"""A passive cable with a current injected at one end."""
from brian2 import *

prefs.codegen.target = 'numpy'
morpho = Cylinder(length=500*um, diameter=1*um, n=50)
gL = 1e-4*siemens/cm**2
EL = -70*mV
eqs = '''
Im = gL * (EL - v) : amp/meter**2
I : amp (point current)
'''
neuron = SpatialNeuron(morphology=morpho, model=eqs, Cm=1*uF/cm**2, Ri=100*ohm*cm,
                       method='exponential_euler')
neuron.v = EL
neuron.I[0] = 0.05*nA
mon = StateMonitor(neuron, 'v', record=[0, 25, 49])
run(20*ms)
