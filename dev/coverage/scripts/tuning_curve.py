"""Firing rate against input current (f-I curve) from one group of independent cells."""
from brian2 import *

prefs.codegen.target = 'numpy'
n = 50
duration = 200*ms
tau = 10*ms
eqs = '''
dv/dt = (v0 - v) / tau : volt (unless refractory)
v0 : volt
'''
group = NeuronGroup(n, eqs, threshold='v > 10*mV', reset='v = 0*mV',
                    refractory=5*ms, method='exact')
group.v = 0*mV
group.v0 = '20*mV * i / (n-1)'
monitor = SpikeMonitor(group)
run(duration)
if __name__ == '__main__':
    import matplotlib.pyplot as plt
    plt.plot(group.v0/mV, monitor.count / duration)
    plt.xlabel('v0 (mV)')
