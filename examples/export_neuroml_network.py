"""
Exporting a network to NeuroML2/LEMS: the CUBA network of the documentation.

4000 current-based integrate-and-fire neurons, 3200 excitatory and 800
inhibitory (the sub-groups ``P[:3200]`` and ``P[3200:]``), randomly
connected (p = 2 %), with a spike monitor. With the ``'neuroml2'`` device
nothing is simulated: at ``run()`` the device writes, into the current
working directory,

- ``cuba_network.xml``: the LEMS model. The excitatory and inhibitory
  synapses add to ``ge`` and ``gi``, which have linear dynamics, so each
  becomes a NeuroML synapse component carrying its own copy of the
  variable, and a ``projection`` with one ``connectionWD`` (weight, delay)
  per synapse;
- ``cuba_network_units.xml``: common units as LEMS constants (the
  ``constants_file`` option names it; by default it is
  ``LEMSUnitsConstants.xml``).

The script then prints what the model holds. Simulate it with jNeuroML in
that folder (``jnml cuba_network.xml -nogui``, or ``java -jar <jNeuroML
jar> cuba_network.xml -nogui``; slow: jNeuroML advances every cell and
every synapse at every step) and read the spikes back with
``brian2tools.nmlexport.load_recordings('cuba_network.xml')``. Or skip the
``set_device`` line and run ``python -m brian2tools.nmlexport SCRIPT.py
--run``.
"""

import os
import xml.etree.ElementTree as ET
from collections import Counter

from brian2 import (
    NeuronGroup,
    SpikeMonitor,
    Synapses,
    ms,
    mV,
    run,
    second,
    seed,
    set_device,
)

import brian2tools.nmlexport  # noqa: F401 (registers the 'neuroml2' device)

set_device("neuroml2", filename="cuba_network.xml", constants_file="cuba_network_units.xml")
seed(11922)  # the same random connections and initial values at every run

Vt = -50 * mV
Vr = -60 * mV

eqs = """
dv/dt = (ge+gi-(v + 49*mV))/(20*ms) : volt (unless refractory)
dge/dt = -ge/(5*ms) : volt
dgi/dt = -gi/(10*ms) : volt
"""
P = NeuronGroup(4000, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms,
                method="linear")
P.v = "Vr + rand() * (Vt - Vr)"
P.ge = 0 * mV
P.gi = 0 * mV

we = (60 * 0.27 / 10) * mV  # excitatory synaptic weight (voltage)
wi = (-20 * 4.5 / 10) * mV  # inhibitory synaptic weight
Ce = Synapses(P[:3200], P, on_pre="ge += we")
Ci = Synapses(P[3200:], P, on_pre="gi += wi")
Ce.connect(p=0.02)
Ci.connect(p=0.02)

spike_mon = SpikeMonitor(P)

run(1 * second)  # writes cuba_network.xml and cuba_network_units.xml

network = ET.parse("cuba_network.xml").getroot().find("network")
elements = Counter(child.tag for child in network)
for projection in network.iter("projection"):
    print(f"projection {projection.get('id')}: {len(projection)} connections "
          f"through the synapse '{projection.get('synapse')}'")
print(f"network: {dict(elements)}")
for name in ("cuba_network.xml", "cuba_network_units.xml"):
    print(f"wrote {name} ({os.path.getsize(name) / 1e6:.1f} MB)")
