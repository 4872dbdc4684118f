"""
Exporting a multi-compartment neuron to NeuroML2 and simulating it in NEURON.

A small ball-and-stick neuron: a Hodgkin-Huxley soma (20 µm) and a passive
dendrite (400 µm, 10 compartments), with a constant current injected into
the soma. The script simulates it twice:

1. in Brian (runtime device, numpy code), recording ``v`` at the soma and at
   the far end of the dendrite;
2. with the ``'neuroml2'`` device and ``simulate='neuron'``: ``run()`` writes

   - ``ball_and_stick.net.nml``: the NeuroML document with the ``<cell>``
     (morphology, one channel density per term of ``Im``), its ion channels
     and the ``pulseGenerator`` of the injected current;
   - ``ball_and_stick.xml``: the LEMS simulation that includes it and says
     what to record;

   then jNeuroML translates them for NEURON, NEURON simulates the cell, and
   the same ``StateMonitor`` is filled with NEURON's recordings.

``ball_and_stick_neuron.png`` shows both runs: Brian solid, NEURON dashed.
Needs NEURON (``pip install neuron``) and Java for jNeuroML.
"""

import shutil

import matplotlib.pyplot as plt
import numpy as np
from brian2 import (
    Cylinder,
    Soma,
    SpatialNeuron,
    StateMonitor,
    cm,
    defaultclock,
    device,
    ms,
    msiemens,
    mV,
    nA,
    ohm,
    prefs,
    run,
    set_device,
    start_scope,
    uF,
    um,
)

import brian2tools.nmlexport  # noqa: F401 (registers the 'neuroml2' device)

prefs.codegen.target = "numpy"

equations = """
Im = gL * (EL - v) + gNa * m**3 * h * (ENa - v) + gK * n**4 * (EK - v) : amp/meter**2
I : amp (point current)
dm/dt = alpham * (1 - m) - betam * m : 1
dn/dt = alphan * (1 - n) - betan * n : 1
dh/dt = alphah * (1 - h) - betah * h : 1
alpham = (0.1/mV) * 10*mV / exprel(-(v + 40*mV) / (10*mV)) / ms : Hz
betam = 4 * exp(-(v + 65*mV) / (18*mV)) / ms : Hz
alphah = 0.07 * exp(-(v + 65*mV) / (20*mV)) / ms : Hz
betah = 1 / (exp(-(v + 35*mV) / (10*mV)) + 1) / ms : Hz
alphan = (0.01/mV) * 10*mV / exprel(-(v + 55*mV) / (10*mV)) / ms : Hz
betan = 0.125 * exp(-(v + 65*mV) / (80*mV)) / ms : Hz
gNa : siemens/meter**2
gK : siemens/meter**2
"""
constants = {"EL": -54.4 * mV, "ENa": 50 * mV, "EK": -77 * mV,
             "gL": 0.3 * msiemens / cm**2}


def ball_and_stick():
    """Build and run the model; return the times (ms) and v (mV) at soma and tip."""
    defaultclock.dt = 0.01 * ms
    morphology = Soma(diameter=20 * um)
    morphology.dendrite = Cylinder(diameter=2 * um, length=400 * um, n=10)
    neuron = SpatialNeuron(morphology, equations, Cm=1 * uF / cm**2, Ri=100 * ohm * cm,
                           method="exponential_euler", threshold="v > -20*mV",
                           threshold_location=0, refractory="v > -40*mV",
                           namespace=dict(constants), name="ball_and_stick")
    neuron.v = -65 * mV
    # Hodgkin-Huxley channels in the soma only: the dendrite is passive
    neuron.gNa[0] = 120 * msiemens / cm**2
    neuron.gK[0] = 36 * msiemens / cm**2
    # NeuroML's HH gates start at their steady state: so does Brian here
    neuron.m = "alpham / (alpham + betam)"
    neuron.h = "alphah / (alphah + betah)"
    neuron.n = "alphan / (alphan + betan)"
    neuron.I[0] = 0.3 * nA  # into the soma
    # compartment 0 is the soma, 1 to 10 the dendrite: 10 is its far end
    voltage = StateMonitor(neuron, "v", record=[0, 10])
    run(30 * ms)
    return np.asarray(voltage.t / ms), np.asarray(voltage.v / mV)


t_brian, v_brian = ball_and_stick()  # simulated by Brian

start_scope()
device.reinit()
set_device("neuroml2", filename="ball_and_stick.xml", simulate="neuron")
t_neuron, v_neuron = ball_and_stick()  # exported, simulated by NEURON
shutil.rmtree("ball_and_stick_neuron", ignore_errors=True)  # NEURON's work files

fig, ax = plt.subplots(figsize=(7, 3.5))
for row, (label, colour) in enumerate([("soma", "C0"), ("dendrite tip (400 µm)", "C1")]):
    ax.plot(t_brian, v_brian[row], color=colour, lw=1.5, label=f"Brian, {label}")
    ax.plot(t_neuron, v_neuron[row], color="k", lw=1, ls="--",
            label="NEURON" if row == 1 else None)
ax.set(xlabel="time (ms)", ylabel="v (mV)",
       title="Ball-and-stick neuron: Brian (solid) and NEURON (dashed)")
ax.legend(loc="upper right", fontsize=8)
fig.tight_layout()
fig.savefig("ball_and_stick_neuron.png", dpi=100)
plt.close(fig)



def upward_crossings(v, level=0.0):
    """The times (ms) at which ``v`` crosses ``level`` (mV) upwards."""
    steps = np.flatnonzero((v[:-1] <= level) & (v[1:] > level))
    return t_brian[steps] + (level - v[steps]) / (v[steps + 1] - v[steps]) * (
        t_brian[1] - t_brian[0])


for row, label in enumerate(("soma", "dendrite tip")):
    level = 0.0 if row == 0 else -40.0
    brian_times, neuron_times = upward_crossings(v_brian[row], level), upward_crossings(
        v_neuron[row], level)
    shift = np.abs(brian_times - neuron_times).max() if len(brian_times) == len(
        neuron_times) else np.nan
    print(f"{label}: {len(brian_times)} crossings of {level:g} mV in Brian, "
          f"{len(neuron_times)} in NEURON, at most {shift:.3f} ms apart")
