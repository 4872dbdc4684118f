"""Tsodyks-Markram short-term plasticity onto LIF cells."""
from brian2 import *

prefs.codegen.target = 'numpy'
tau_m = 20*ms
tau_e = 3*ms
U = 0.5
tau_d = 200*ms
tau_f = 50*ms
A = 5*mV

source = SpikeGeneratorGroup(1, [0]*8, [10, 20, 30, 40, 50, 60, 70, 150]*ms)
target = NeuronGroup(2, '''dv/dt = (I - v)/tau_m : volt
                           dI/dt = -I/tau_e : volt''', method='exact')
syn = Synapses(source, target,
               model='''dx/dt = (1 - x)/tau_d : 1 (event-driven)
                        du/dt = (U - u)/tau_f : 1 (event-driven)''',
               on_pre='''
               u += U * (1 - u)
               I_post += A * u * x
               x -= u * x
               ''')
syn.connect()
syn.x = 1
syn.u = U
mon = StateMonitor(target, ['v', 'I'], record=True)
run(200*ms)
