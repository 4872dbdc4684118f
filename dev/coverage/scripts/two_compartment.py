"""A two-compartment neuron (soma and dendrite) written as coupled equations."""
from brian2 import *

prefs.codegen.target = 'numpy'
gc = 5*nS
gL = 10*nS
C = 100*pF
EL = -70*mV
eqs = '''
dvs/dt = (gL*(EL - vs) + gc*(vd - vs))/C : volt
dvd/dt = (gL*(EL - vd) + gc*(vs - vd) + Id)/C : volt
Id : amp
'''
G = NeuronGroup(1, eqs, threshold='vs > -55*mV', reset='vs = EL', method='euler')
G.vs = EL
G.vd = EL
G.Id = 0.5*nA
mon = StateMonitor(G, ['vs', 'vd'], record=0)
run(100*ms)
