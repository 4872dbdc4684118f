"""
Describing a model in Markdown: the CUBA network of the documentation.

Runs the CUBA example (4000 integrate-and-fire neurons with current-based
excitatory and inhibitory synapses, 1 s) with the ``'markdown'`` device of
``brian2tools.mdexport``. Nothing is simulated: at ``run()`` the device
collects the network and writes, into the current working directory,

- ``cuba.md``: the description in Markdown, with the equations, thresholds,
  resets and synaptic effects as LaTeX math (rendered e.g. on GitHub);
- ``cuba.html``: the same description as a standalone web page, the math
  as MathML, which browsers typeset without a network connection.

The same files come from the unchanged CUBA script on the command line:
``python -m brian2tools.mdexport cuba.py --format both``.
"""

import os

from brian2 import (
    NeuronGroup,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    device,
    ms,
    mV,
    run,
    second,
    seed,
    set_device,
)

import brian2tools.mdexport  # noqa: F401 (registers the 'markdown' device)

# 'both' writes cuba.md and cuba.html; the default format writes cuba.md only
set_device("markdown", filename="cuba", format="both")
seed(11922)

Vt = -50 * mV
Vr = -60 * mV

eqs = """dv/dt = (ge+gi-(v + 49*mV))/(20*ms) : volt (unless refractory)
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
rate_mon = PopulationRateMonitor(P)
state_mon = StateMonitor(P, "v", record=[0, 100, 1000])  # record three cells

run(1 * second)  # writes cuba.md and cuba.html

print("wrote " + ", ".join(os.path.basename(path) for path in device.files))
