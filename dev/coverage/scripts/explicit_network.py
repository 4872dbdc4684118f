"""The explicit Network object API: Network(...), net.add, net.run."""
from brian2 import *

prefs.codegen.target = 'numpy'


def build_and_run():
    tau = 10*ms
    group = NeuronGroup(20, 'dv/dt = (1.2 - v)/tau : 1', threshold='v > 1', reset='v = 0',
                        method='exact')
    group.v = 'rand()'
    spikes = SpikeMonitor(group)
    net = Network(group)
    net.add(spikes)
    net.run(50*ms, namespace={'tau': tau})
    return spikes


if __name__ == '__main__':
    build_and_run()
