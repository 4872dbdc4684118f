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
    NeuronGroup,
    Soma,
    SpatialNeuron,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    cm,
    defaultclock,
    device,
    ms,
    msiemens,
    mV,
    nA,
    nS,
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


SYNAPTIC = """
Is = gs * (Es - v) : amp (point current)
dgs/dt = -gs / taus : siemens
"""


def _hh_ball_and_stick(extra="", **options):
    """An HH soma and a dendrite with a tenth of its channels (dt 10 µs)."""
    defaultclock.dt = 0.01 * ms
    morphology = Soma(diameter=20 * um)
    morphology.dendrite = Cylinder(diameter=2 * um, length=400 * um, n=10)
    namespace = dict(CONSTANTS, Es=0 * mV, taus=2 * ms)
    neuron = SpatialNeuron(morphology, HH + extra, Cm=1 * uF / cm**2, Ri=100 * ohm * cm,
                           method="exponential_euler", namespace=namespace,
                           name="cell", **options)
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


# ---------------------------------------------------------------------- #
# Synapses onto compartments
# ---------------------------------------------------------------------- #
def _passive_with_synapses(values=True):
    defaultclock.dt = 0.01 * ms
    morphology = Soma(diameter=20 * um)
    morphology.dendrite = Cylinder(diameter=2 * um, length=400 * um, n=10)
    equations = """Im = gL * (EL - v) : amp/meter**2
                   gL : siemens/meter**2""" + SYNAPTIC
    neuron = SpatialNeuron(morphology, equations, Cm=1 * uF / cm**2, Ri=100 * ohm * cm,
                           method="exponential_euler", name="cell",
                           namespace={"EL": -70 * mV, "Es": 0 * mV, "taus": 2 * ms})
    neuron.v = -70 * mV
    neuron.gL = 0.1 * msiemens / cm**2
    stim = SpikeGeneratorGroup(2, [0, 1, 0, 1], [2, 5, 10, 12.003] * ms, name="stim")
    # two sources onto the middle of the dendrite (compartment 6), per-synapse weights
    middle = Synapses(stim, neuron[morphology.dendrite[200 * um]], "w : siemens",
                      on_pre="gs += w", name="middle")
    middle.connect()
    middle.w = [1, 2] * nS
    # one onto compartment 8, by index, with a delay
    far = Synapses(stim, neuron[8:9], on_pre="gs += 0.5*nS", delay=1 * ms, name="far")
    far.connect(i=0, j=0)
    voltage = StateMonitor(neuron, "v", record=[0, 6, 8])
    run(20 * ms)
    return np.array(voltage.v) if values else None


def test_synapses_written(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    _passive_with_synapses(values=False)
    document = ET.parse(tmp_path / "model.net.nml").getroot()
    (synapse,) = document.findall(f"{NML}expOneSynapse")
    assert synapse.attrib == {"id": "cell_gs_synapse", "gbase": "2e-09 S", "erev": "0.0 V",
                              "tauDecay": "0.002 s"}
    spikes = {array.get("id"): [spike.get("time") for spike in array]
              for array in document.findall(f"{NML}spikeArray")}
    # half a step before Brian's step of each spike (see spatial_synapses)
    assert spikes == {"stim_0": ["0.001995 s", "0.009995 s"],
                      "stim_1": ["0.004995 s", "0.011995 s"]}
    projections = {projection.get("id"): projection
                   for projection in document.iter(f"{NML}projection")}
    assert sorted(projections) == ["far_0", "middle_0", "middle_1"]
    for name, pre, segment, weight, delay in [("middle_0", "stim_0", "6", "0.5", "0.0 s"),
                                              ("middle_1", "stim_1", "6", "1.0", "0.0 s"),
                                              ("far_0", "stim_0", "8", "0.25", "0.001 s")]:
        projection = projections[name]
        assert projection.get("presynapticPopulation") == f"{pre}_pop"
        assert projection.get("postsynapticPopulation") == "cell_pop"
        assert projection.get("synapse") == "cell_gs_synapse"
        (connection,) = projection
        assert connection.get("preCellId") == f"../{pre}_pop/0/{pre}"
        assert connection.get("postCellId") == "../cell_pop/0/cell"
        assert connection.get("postSegmentId") == segment
        # the middle of the segment (0.5, NeuroML's default, which libNeuroML leaves out)
        assert connection.get("postFractionAlong", "0.5") == "0.5"
        assert (connection.get("weight"), connection.get("delay")) == (weight, delay)
    # the synaptic current is not a pulse generator
    assert not document.findall(f"{NML}pulseGenerator")


@pytest.mark.slow
@pytest.mark.skipif(NEURON_MISSING is not None, reason=str(NEURON_MISSING))
def test_passive_synapses_in_neuron(tmp_path):
    reference = _passive_with_synapses()
    start_scope()
    device.reinit()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="neuron")
    exported = _passive_with_synapses()
    assert exported.shape == reference.shape == (3, 2000)
    span = reference.max(axis=1) - reference.min(axis=1)
    assert np.all(span > 0.005)  # the synapses depolarise by several mV
    error = np.abs(exported - reference).max(axis=1) / span
    assert np.all(error < 0.02), error


def _hh_with_synapses(values=True):
    neuron, morphology = _hh_ball_and_stick(SYNAPTIC, threshold="v > -20*mV",
                                            threshold_location=0, refractory="v > -40*mV")
    stim = SpikeGeneratorGroup(1, [0, 0, 0, 0], [2, 8, 9, 20] * ms, name="stim")
    synapses = Synapses(stim, neuron[morphology.dendrite[100 * um]], on_pre="gs += 20*nS",
                        name="excitation")
    synapses.connect()
    voltage = StateMonitor(neuron, "v", record=[0, 3])
    spikes = SpikeMonitor(neuron)
    run(30 * ms)
    return (np.array(voltage.v), np.array(spikes.t / ms)) if values else None


@pytest.mark.slow
@pytest.mark.skipif(NEURON_MISSING is not None, reason=str(NEURON_MISSING))
def test_hh_synapses_in_neuron(tmp_path):
    reference, brian_spikes = _hh_with_synapses()
    start_scope()
    device.reinit()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="neuron")
    exported, neuron_spikes = _hh_with_synapses()
    assert len(brian_spikes) >= 2  # the synapses make the soma fire
    assert len(neuron_spikes) == len(brian_spikes)
    assert np.allclose(neuron_spikes, brian_spikes, atol=0.5), (neuron_spikes, brian_spikes)


@pytest.mark.parametrize("model, code, message", [
    ("", "v += 1*mV", r"'bad'.*on_pre code 'v \+= 1\*mV'.*\(gs\)"),
    ("", "gs += 1*nS; v += 1*mV", r"'bad'.*on_pre code"),
    ("dx/dt = -x/ms : 1 (clock-driven)", "gs += 1*nS",
     r"'bad'.*synapses with equations of their own onto the SpatialNeuron 'cell'"),
])
def test_other_synapses_refused_by_name(tmp_path, model, code, message):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    neuron, _ = _hh_ball_and_stick(SYNAPTIC)
    stim = SpikeGeneratorGroup(1, [0], [1] * ms, name="stim")
    synapses = Synapses(stim, neuron[0:1], model, on_pre=code, name="bad")
    synapses.connect()
    with pytest.raises(UnsupportedFeatureError, match=message):
        run(1 * ms)


def test_synapses_from_neurons_refused_by_name(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    neuron, _ = _hh_ball_and_stick(SYNAPTIC)
    source = NeuronGroup(1, "v : volt", threshold="v > 0*volt", name="source")
    synapses = Synapses(source, neuron[0:1], on_pre="gs += 1*nS", name="from_neurons")
    synapses.connect()
    with pytest.raises(UnsupportedFeatureError, match="'source'"):
        run(1 * ms)


def test_non_exponential_synaptic_current_refused_by_name(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    neuron, _ = _hh_ball_and_stick(SYNAPTIC.replace("-gs / taus", "(1*nS - gs) / taus"))
    with pytest.raises(UnsupportedFeatureError,
                       match="'cell'.*point current 'Is' defined by an equation"):
        run(1 * ms)


# ---------------------------------------------------------------------- #
# Point currents changed between runs
# ---------------------------------------------------------------------- #
def _passive_stepped(values=True, build=False):
    defaultclock.dt = 0.01 * ms
    morphology = Soma(diameter=20 * um)
    morphology.dendrite = Cylinder(diameter=2 * um, length=400 * um, n=10)
    neuron = SpatialNeuron(morphology, """Im = gL * (EL - v) : amp/meter**2
                                          I : amp (point current)
                                          gL : siemens/meter**2""",
                           Cm=1 * uF / cm**2, Ri=100 * ohm * cm, method="exponential_euler",
                           namespace={"EL": -70 * mV}, name="cell")
    neuron.v = -70 * mV
    neuron.gL = 0.1 * msiemens / cm**2
    voltage = StateMonitor(neuron, "v", record=[0, 5, 10])
    neuron.I[0] = 0.1 * nA
    run(10 * ms)
    neuron.I[0] = 0.3 * nA  # a step at the soma
    neuron.I[morphology.dendrite[380 * um]] = -0.05 * nA  # and one near the dendrite's end
    run(10 * ms)
    neuron.dendrite.I = 0 * nA
    run(5 * ms)
    if build:  # one export and simulation for the three runs
        device.build()
    return np.array(voltage.v) if values else None


def test_point_currents_between_runs_written(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    _passive_stepped(values=False)
    document = ET.parse(tmp_path / "model.net.nml").getroot()
    pulses = {pulse.get("id"): (pulse.get("delay"), pulse.get("duration"),
                                pulse.get("amplitude"))
              for pulse in document.findall(f"{NML}pulseGenerator")}
    assert pulses == {"cell_I_0_run1": ("0.0 s", "0.01 s", "1e-10 A"),
                      "cell_I_0_run2": ("0.01 s", "0.01 s", "3e-10 A"),
                      "cell_I_10_run2": ("0.01 s", "0.01 s", "-5e-11 A"),
                      # the last run's pulse goes on past the end
                      "cell_I_0_run3": ("0.02 s", "0.01 s", "3e-10 A")}
    inputs = {inputs.get("component"): inputs.find(f"{NML}input").get("segmentId")
              for inputs in document.iter(f"{NML}inputList")}
    assert inputs == {"cell_I_0_run1": "0", "cell_I_0_run2": "0", "cell_I_10_run2": "10",
                      "cell_I_0_run3": "0"}
    lems = ET.parse(tmp_path / "model.xml").getroot()
    assert lems.find("Simulation").get("length") == "0.025s"


@pytest.mark.slow
@pytest.mark.skipif(NEURON_MISSING is not None, reason=str(NEURON_MISSING))
def test_point_currents_between_runs_in_neuron(tmp_path):
    reference = _passive_stepped()
    start_scope()
    device.reinit()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="neuron",
               build_on_run=False)
    exported = _passive_stepped(build=True)
    assert exported.shape == reference.shape == (3, 2500)
    span = reference.max(axis=1) - reference.min(axis=1)
    error = np.abs(exported - reference).max(axis=1) / span
    assert np.all(error < 0.01), error
    # the steps are seen: the soma depolarises more in the second run
    assert exported[0, 1999] > exported[0, 999] + 0.005


@pytest.mark.parametrize("change, message", [
    ("neuron.gL = 0.2*msiemens/cm**2", r"'cell'.*setting 'gL' between runs"),
    ("neuron.I = 'i*pA'", r"'cell'.*point current 'I' between runs to 'i\*pA'"),
    ("defaultclock.dt = 0.02*ms", r"'cell'.*time step changed in run 2"),
    ("StateMonitor(neuron, 'v', record=[1], name='late')",
     r"'late'.*added or removed before run 2"),
])
def test_other_changes_between_runs_refused_by_name(tmp_path, change, message):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    neuron = SpatialNeuron(Cylinder(diameter=2 * um, length=100 * um, n=3),
                           """Im = gL * (EL - v) : amp/meter**2
                              I : amp (point current)
                              gL : siemens/meter**2""",
                           namespace={"EL": -70 * mV}, name="cell")
    run(1 * ms)
    kept = eval(change, {"neuron": neuron, "StateMonitor": StateMonitor}) \
        if change.startswith("StateMonitor") else exec(change, {
            "neuron": neuron, "msiemens": msiemens, "cm": cm, "ms": ms,
            "defaultclock": defaultclock})
    with pytest.raises(UnsupportedFeatureError, match=message):
        run(1 * ms)
    del kept


@pytest.mark.skipif(NEURON_MISSING is not None, reason=str(NEURON_MISSING))
def test_synapse_document_validates(tmp_path):
    import subprocess

    from nml_helpers import jneuroml_jar

    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    _passive_with_synapses(values=False)
    result = subprocess.run(["java", "-jar", jneuroml_jar(), "-validate", "model.net.nml"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert "All valid and no warnings" in result.stdout, result.stdout[-2000:]


# ---------------------------------------------------------------------- #
# Point currents of a TimedArray of time
# ---------------------------------------------------------------------- #
def _passive_timed(current="stim(t)*int(i == 0) + 0.5*stim(t)*int(i == 10)", values=True):
    defaultclock.dt = 0.01 * ms
    morphology = Soma(diameter=20 * um)
    morphology.dendrite = Cylinder(diameter=2 * um, length=400 * um, n=10)
    # pieces of 2.5 ms (not a multiple of anything special), a negative one,
    # and the last value kept after the end of the array
    stim = TimedArray([0, 0.2, 0.5, -0.1, 0.3] * nA, dt=2.5 * ms)
    neuron = SpatialNeuron(morphology, f"""Im = gL * (EL - v) : amp/meter**2
                                           I = {current} : amp (point current)
                                           gL : siemens/meter**2""",
                           Cm=1 * uF / cm**2, Ri=100 * ohm * cm, method="exponential_euler",
                           namespace={"EL": -70 * mV, "stim": stim}, name="cell")
    neuron.v = -70 * mV
    neuron.gL = 0.1 * msiemens / cm**2
    voltage = StateMonitor(neuron, "v", record=[0, 5, 10])
    run(15 * ms)
    return np.array(voltage.v) if values else None


def test_timed_array_point_current_written_as_pulses(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    _passive_timed(values=False)
    document = ET.parse(tmp_path / "model.net.nml").getroot()
    pulses = {pulse.get("id"): (pulse.get("delay"), pulse.get("duration"),
                                pulse.get("amplitude"))
              for pulse in document.findall(f"{NML}pulseGenerator")}
    # one pulse per piece and compartment where the current is not 0; the
    # value 0 of the first piece needs none; the last one goes past the end
    assert pulses == {
        "cell_I_0_run2": ("0.0025 s", "0.0025 s", "2e-10 A"),
        "cell_I_10_run2": ("0.0025 s", "0.0025 s", "1e-10 A"),
        "cell_I_0_run3": ("0.005 s", "0.0025 s", "5e-10 A"),
        "cell_I_10_run3": ("0.005 s", "0.0025 s", "2.5e-10 A"),
        "cell_I_0_run4": ("0.0075 s", "0.0025 s", "-1e-10 A"),
        "cell_I_10_run4": ("0.0075 s", "0.0025 s", "-5e-11 A"),
        "cell_I_0_run5": ("0.01 s", "0.01 s", "3e-10 A"),
        "cell_I_10_run5": ("0.01 s", "0.01 s", "1.5e-10 A")}


@pytest.mark.slow
@pytest.mark.skipif(NEURON_MISSING is not None, reason=str(NEURON_MISSING))
def test_timed_array_point_current_in_neuron(tmp_path):
    reference = _passive_timed()
    start_scope()
    device.reinit()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="neuron")
    exported = _passive_timed()
    assert exported.shape == reference.shape == (3, 1500)
    span = reference.max(axis=1) - reference.min(axis=1)
    assert np.all(span > 1e-3)  # volt
    error = np.abs(exported - reference).max(axis=1) / span
    assert np.all(error < 0.01), error


@pytest.mark.parametrize("current, message", [
    ("stim(t - 1*ms)", r"'cell'.*'I = stim\(t - 1\*ms\)'.*another argument than t"),
    ("stim(t)*v/mV", r"'cell'.*reads 'v', which is not a constant"),
    ("stim(t)*t/ms", r"'cell'.*reads 't', which is not a constant outside the TimedArray"),
    ("stim2d(t, i)", r"'cell'.*'stim2d' is a TimedArray of time and index"),
])
def test_other_timed_point_currents_refused_by_name(tmp_path, current, message):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    stim = TimedArray([0, 0.2] * nA, dt=1 * ms)
    stim2d = TimedArray(np.zeros((2, 3)) * nA, dt=1 * ms)
    neuron = SpatialNeuron(Cylinder(diameter=2 * um, length=100 * um, n=3),
                           f"""Im = gL * (EL - v) : amp/meter**2
                               I = {current} : amp (point current)
                               gL : siemens/meter**2""",
                           namespace={"EL": -70 * mV, "stim": stim, "stim2d": stim2d},
                           name="cell")
    with pytest.raises(UnsupportedFeatureError, match=message):
        run(1 * ms)
    assert neuron.N == 3
