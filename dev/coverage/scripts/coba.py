"""COBA network with conductance-based exponential synapses."""
from brian2 import *

prefs.codegen.target = 'numpy'
area = 20000*umetre**2
Cm = (1*ufarad*cm**-2) * area
gl = (5e-5*siemens*cm**-2) * area
El = -60*mV
Ee = 0*mV
Ei = -80*mV
taue = 5*ms
taui = 10*ms
we = 6*nS
wi = 67*nS

eqs = Equations('''
dv/dt = (gl*(El-v) + ge*(Ee-v) + gi*(Ei-v) + I)/Cm : volt (unless refractory)
dge/dt = -ge/taue : siemens
dgi/dt = -gi/taui : siemens
I : amp
''')
P = NeuronGroup(300, model=eqs, threshold='v>-50*mV', reset='v=-60*mV',
                refractory=5*ms, method='euler')
Pe = P[:240]
Pi = P[240:]
Ce = Synapses(Pe, P, on_pre='ge+=we')
Ci = Synapses(Pi, P, on_pre='gi+=wi')
Ce.connect(p=0.05)
Ci.connect(p=0.05)
P.v = 'El + (randn() * 5 - 5)*mV'
P.I = 0.2*nA
M = SpikeMonitor(P)
trace = StateMonitor(P, 'v', record=[0, 10])
run(100*ms)
print(M.num_spikes)
