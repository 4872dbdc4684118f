"""
Exporting a model to NeuroML2/LEMS: the working example of the documentation.

100 unconnected integrate-and-fire neurons with refractoriness, each driven
towards its own value ``v0``, with a StateMonitor on two neurons and a
SpikeMonitor. With the ``'neuroml2'`` device of ``brian2tools.nmlexport``
nothing is simulated: at ``run()`` the device writes, into the current
working directory,

- ``nml2model.xml``: the LEMS model (cell and population component types, a
  network, and a simulation of 1 s with its displays and output files);
- ``LEMSUnitsConstants.xml``: common units as LEMS constants, included by
  the model.

Simulate the model with jNeuroML in that folder (``jnml nml2model.xml
-nogui``, or ``java -jar <jNeuroML jar> nml2model.xml -nogui``) and read the
recordings back with ``brian2tools.nmlexport.load_recordings('nml2model.xml')``.
"""

import os

from brian2 import (
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    ms,
    mV,
    run,
    second,
    set_device,
)

import brian2tools.nmlexport  # noqa: F401 (registers the 'neuroml2' device)

set_device("neuroml2", filename="nml2model.xml")

n = 100
duration = 1 * second
tau = 10 * ms

eqs = """
dv/dt = (v0 - v) / tau : volt (unless refractory)
v0 : volt
"""
group = NeuronGroup(n, eqs, threshold="v > 10*mV", reset="v = 0*mV",
                    refractory=5 * ms, method="linear")
group.v = 0 * mV
group.v0 = "20*mV * i / (N-1)"

rec_idx = [2, 63]
statemonitor = StateMonitor(group, "v", record=rec_idx)
spikemonitor = SpikeMonitor(group, record=rec_idx)

run(duration)  # writes nml2model.xml and LEMSUnitsConstants.xml

for name in ("nml2model.xml", "LEMSUnitsConstants.xml"):
    print(f"wrote {name} ({os.path.getsize(name)} bytes)")
