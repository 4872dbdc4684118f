"""A synfire chain: groups of neurons activating the next group in turn."""
from brian2 import *

prefs.codegen.target = 'numpy'
Vr = -70*mV
Vt = -55*mV
taum = 10*ms
taupsp = 0.325*ms
weight = 4.86*mV
n_groups = 5
group_size = 40
eqs = Equations('''
dV/dt = (-(V-Vr)+x)*(1./taum) : volt
dx/dt = (-x+y)*(1./taupsp) : volt
dy/dt = -y*(1./taupsp)+25.27*mV/ms : volt
''')
P = NeuronGroup(n_groups*group_size, model=eqs, threshold='V>Vt', reset='V=Vr',
                refractory=1*ms, method='euler')
P.V = 'Vr + rand() * (Vt - Vr)'
S = Synapses(P, P, on_pre='y += weight')
S.connect(j='k for k in range((int(i/group_size)+1)*group_size, (int(i/group_size)+2)*group_size) '
            'if i<N_pre-group_size')
Mgp = SpikeMonitor(P)
run(60*ms)
