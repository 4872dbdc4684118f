"""
SpatialNeuron export, the model's inputs and outputs: monitors of gating
variables and of parts of the neuron, and synapses onto compartments --
written to NeuroML/LEMS, simulated in NEURON and compared with Brian
(numpy target, same dt and compartments).
"""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
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
    run,
    set_device,
    start_scope,
    uF,
    um,
)

from brian2tools.baseexport import UnsupportedFeatureError
from brian2tools.nmlexport.engines import engine_available

NEURON_MISSING = engine_available("neuron")
NML = "{http://www.neuroml.org/schema/neuroml2}"

# Hodgkin-Huxley at rest near -65 mV
HH = """
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
CONSTANTS = {"EL": -54.4 * mV, "ENa": 50 * mV, "EK": -77 * mV, "gL": 0.3 * msiemens / cm**2}


def _hh_ball_and_stick(extra="", morphology=None):
    """An HH soma and a dendrite with a tenth of its channels (dt 10 µs)."""
    defaultclock.dt = 0.01 * ms
    if morphology is None:
        morphology = Soma(diameter=20 * um)
        morphology.dendrite = Cylinder(diameter=2 * um, length=400 * um, n=10)
    neuron = SpatialNeuron(morphology, HH + extra, Cm=1 * uF / cm**2, Ri=100 * ohm * cm,
                           method="exponential_euler", namespace=dict(CONSTANTS),
                           name="cell")
    neuron.v = -65 * mV
    neuron.gNa = 12 * msiemens / cm**2
    neuron.gK = 3.6 * msiemens / cm**2
    neuron.gNa[0] = 120 * msiemens / cm**2
    neuron.gK[0] = 36 * msiemens / cm**2
    neuron.m = "alpham / (alpham + betam)"
    neuron.h = "alphah / (alphah + betah)"
    neuron.n = "alphan / (alphan + betan)"
    return neuron, morphology


def _gates_recorded(values=True):
    neuron, morphology = _hh_ball_and_stick()
    neuron.I[0] = 0.3 * nA
    # a compartment chosen by its distance along the dendrite, and two by index
    middle = StateMonitor(neuron[morphology.dendrite[200 * um]], ["v", "m", "h", "n"],
                          record=True, name="middle")
    ends = StateMonitor(neuron, ["m", "v"], record=[0, 10], name="ends")
    run(20 * ms)
    if not values:  # only exported
        return None
    return ({name: np.array(getattr(middle, name)) for name in "vmhn"},
            {name: np.array(getattr(ends, name)) for name in "mv"})


def test_gate_recordings_written(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    _gates_recorded(values=False)
    lems = ET.parse(tmp_path / "model.xml").getroot()
    columns = {output.get("id"): [column.get("quantity") for column in output]
               for output in lems.iter("OutputFile")}
    membrane = "cell_pop/0/cell/{}/cell_biophysics/membraneProperties"
    # dendrite[200 um] is the middle of the dendrite: compartment 1 + 5
    assert columns["middle"] == [
        "cell_pop/0/cell/6/v",
        f"{membrane.format(6)}/cell_channel2_dendrite_region/cell_channel2/m/q",
        f"{membrane.format(6)}/cell_channel2_dendrite_region/cell_channel2/h/q",
        f"{membrane.format(6)}/cell_channel1_dendrite_region/cell_channel1/n/q"]
    # the gate of the density that covers the soma, and of the dendrite's
    assert columns["ends"] == [
        f"{membrane.format(0)}/cell_channel2_soma_region/cell_channel2/m/q",
        f"{membrane.format(10)}/cell_channel2_dendrite_region/cell_channel2/m/q",
        "cell_pop/0/cell/0/v", "cell_pop/0/cell/10/v"]
    # the densities named in the paths are the cell's
    document = ET.parse(tmp_path / "model.net.nml").getroot()
    densities = {density.get("id"): density.get("ionChannel")
                 for density in document.iter(f"{NML}channelDensity")}
    assert densities["cell_channel2_dendrite_region"] == "cell_channel2"
    assert densities["cell_channel1_dendrite_region"] == "cell_channel1"
    assert document.find(f".//{NML}biophysicalProperties").get("id") == "cell_biophysics"


@pytest.mark.parametrize("variable, kind", [("Im", "subexpression"), ("gNa", "parameter"),
                                            ("alpham", "subexpression")])
def test_unreachable_variable_refused_by_name(tmp_path, variable, kind):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    neuron, _ = _hh_ball_and_stick()
    monitor = StateMonitor(neuron, ["v", variable], record=[0], name="watcher")
    assert monitor.record_variables == ["v", variable]  # kept for the magic network
    with pytest.raises(UnsupportedFeatureError,
                       match=f"'watcher'.*the {kind} '{variable}' of the SpatialNeuron 'cell'"):
        run(1 * ms)


@pytest.mark.slow
@pytest.mark.skipif(NEURON_MISSING is not None, reason=str(NEURON_MISSING))
def test_gating_variables_in_neuron(tmp_path):
    brian_middle, brian_ends = _gates_recorded()
    start_scope()
    device.reinit()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="neuron")
    neuron_middle, neuron_ends = _gates_recorded()
    for brian, exported in ((brian_middle, neuron_middle), (brian_ends, neuron_ends)):
        for name, values in brian.items():
            assert exported[name].shape == values.shape == (len(values), 2000)
            span = values.max(axis=1) - values.min(axis=1)
            error = np.abs(exported[name] - values).max(axis=1) / span
            # spikes: NEURON's first-order time steps shift them by about 0.05 ms,
            # which is a few per cent of a trace's range at the steepest points
            assert np.all(error < 0.06), (name, error)
    # the soma spikes: its sodium activation goes from rest to near 1
    assert brian_ends["m"][0].min() < 0.1 and neuron_ends["m"][0].max() > 0.9
    assert np.ptp(neuron_middle["h"]) > 0.05  # the dendrite's gates move too
