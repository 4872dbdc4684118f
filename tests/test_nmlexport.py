"""
Tests of the NeuroML2/LEMS export (brian2tools.nmlexport).

The end-to-end tests export models of our own with the ``'neuroml2'``
device, simulate the exported files with the real jNeuroML (the jar of the
pyneuroml wheel, run with the machine's Java) and compare every recording
with Brian's own simulation of the same script (runtime device, numpy
target, ``method='euler'``, same seed): traces within 1e-6 of their scale,
spike trains identical up to jNeuroML's one-step delay, no SEVERE line in
jNeuroML's log. All models are exported and simulated once per test module,
with the jNeuroML processes running in parallel.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from brian2 import (
    Hz,
    Network,
    NeuronGroup,
    PoissonGroup,
    PoissonInput,
    PopulationRateMonitor,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    amp,
    device,
    ms,
    mV,
    nA,
    nS,
    pA,
    pF,
    prefs,
    run,
    second,
    seed,
    set_device,
    siemens,
    start_scope,
    volt,
)
from brian2.devices.device import reinit_and_delete
from nml_helpers import (
    ModelSpec,
    compare_spikes,
    compare_traces,
    export_model,
    finish_jneuroml,
    missing_jneuroml,
    run_jneuroml,
    severe_lines,
    simulate_brian,
    start_jneuroml,
)

import brian2tools.nmlexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.baseexport import UnsupportedFeatureError
from brian2tools.nmlexport import NMLExporter, load_recordings
from brian2tools.nmlexport.lemsrendering import (
    parse_statements,
    render_condition,
    render_expression,
)
from brian2tools.nmlexport.units import (
    format_quantity,
    lems_dimension,
    parse_quantity,
    units_constants_xml,
)

JNEUROML_MISSING = missing_jneuroml()
needs_jneuroml = pytest.mark.skipif(JNEUROML_MISSING is not None,
                                    reason=f"jNeuroML cannot run: {JNEUROML_MISSING}")


# --------------------------------------------------------------------------
# Models of our own (each builder takes the integration method)
# --------------------------------------------------------------------------
def documented_lif(method):
    """The integrate-and-fire model of the documentation (fewer neurons, shorter)."""
    eqs = """
    dv/dt = (v0 - v) / tau : volt (unless refractory)
    v0 : volt
    """
    group = NeuronGroup(20, eqs, threshold="v > 10*mV", reset="v = 0*mV", refractory=5*ms,
                        method=method, namespace={"tau": 10*ms}, name="lif")
    group.v = 0*mV
    group.v0 = "20*mV * i / (N-1)"
    statemonitor = StateMonitor(group, "v", record=[2, 13, 19], name="lif_v")
    spikemonitor = SpikeMonitor(group, name="lif_spikes")
    return ModelSpec([group, statemonitor, spikemonitor], durations=[100*ms])


def cuba(method):
    """A CUBA-style neuron with several per-cell parameters and random initial values."""
    eqs = """
    dv/dt = (ge + gi - (v - El) + I) / taum : volt (unless refractory)
    dge/dt = -ge / taue : volt
    dgi/dt = -gi / taui : volt
    taum : second
    taue : second
    taui : second
    I : volt
    """
    group = NeuronGroup(8, eqs, threshold="v > Vt", reset="v = Vr", refractory=5*ms,
                        method=method, name="cuba",
                        namespace={"Vt": -50*mV, "Vr": -60*mV, "El": -60*mV})
    group.v = "Vr + rand() * (Vt - Vr)"
    group.taum = "(15 + 2*i) * ms"
    group.taue = 5*ms
    group.taui = 10*ms
    group.ge = "rand() * 5*mV"
    group.gi = "-rand() * 5*mV"
    group.I = [0, 5, 8, 10.5, 12, 15, 20, 25]*mV
    group.I["i >= 6"] = 18*mV
    states = StateMonitor(group, ["v", "ge"], record=[0, 3, 7], name="cuba_states")
    spikes = SpikeMonitor(group, name="cuba_spikes")
    rate = PopulationRateMonitor(group, name="cuba_rate")
    return ModelSpec([group, states, spikes, rate], durations=[80*ms])


def adex(method):
    """The adaptive exponential integrate-and-fire model: two variables, a two-statement reset."""
    eqs = """
    dv/dt = (gL*(EL - v) + gL*DeltaT*exp((v - VT)/DeltaT) + I - w) / C : volt (unless refractory)
    dw/dt = (a*(v - EL) - w) / tauw : amp
    I : amp
    """
    namespace = {"C": 281*pF, "gL": 30*nS, "EL": -70.6*mV, "VT": -50.4*mV, "DeltaT": 2*mV,
                 "tauw": 144*ms, "a": 4*nS, "b": 0.0805*nA, "Vr": -70.6*mV, "Vcut": -30*mV}
    group = NeuronGroup(5, eqs, threshold="v > Vcut", reset="v = Vr; w += b", refractory=2*ms,
                        method=method, namespace=namespace, name="adex")
    group.v = "EL + i*mV"
    group.I = "(0.5 + 0.25*i) * nA"
    states = StateMonitor(group, ["v", "w"], record=True, name="adex_states")
    spikes = SpikeMonitor(group, name="adex_spikes")
    return ModelSpec([group, states, spikes], durations=[60*ms])


def two_groups(method):
    """Two groups in one network (an integrate-and-fire and an exponential one), a subgroup monitor."""
    lif = NeuronGroup(6, "dv/dt = (I - v) / (10*ms) : 1\nI : 1", threshold="v > 1",
                      reset="v = 0", method=method, name="lif")
    lif.I = "0.8 + 0.1*i"
    eqs = """
    dv/dt = (-(v - EL) + DeltaT*exp((v - VT)/DeltaT) + R*I) / tau : volt (unless refractory)
    I : amp
    """
    eif = NeuronGroup(4, eqs, threshold="v > -30*mV", reset="v = -65*mV", refractory=1*ms,
                      method=method, name="eif",
                      namespace={"EL": -65*mV, "VT": -50*mV, "DeltaT": 2*mV, "R": 100*1e6*volt/amp,
                                 "tau": 10*ms})
    eif.v = -65*mV
    eif.I = "(0.16 + 0.05*i) * nA"
    return ModelSpec([lif, eif,
                      StateMonitor(lif, "v", record=[1, 5], name="lif_v"),
                      StateMonitor(eif, "v", record=[0, 3], name="eif_v"),
                      SpikeMonitor(lif, name="lif_spikes"),
                      SpikeMonitor(eif[1:3], name="eif_spikes")],
                     durations=[60*ms])


def conductance_two_runs(method):
    """A conductance-based neuron with subexpressions, time-dependent input, two run() calls."""
    eqs = """
    dv/dt = (gL*(EL - v) + I_syn + I_ext) / C : volt
    dg/dt = (2*nS*(1 + sin(2*pi*f*t)) - g) / tau_g : siemens
    I_syn = g * (Ee - v) : amp
    I_ext = amplitude * tanh(abs(v/mV) / 50) : amp
    amplitude : amp
    ref : second
    """
    group = NeuronGroup(4, eqs, threshold="v > Vt", reset="v = Vr\ng += dg", refractory="ref",
                        method=method, name="cond",
                        namespace={"gL": 10*nS, "EL": -65*mV, "Ee": 0*mV, "C": 200*pF,
                                   "tau_g": 5*ms, "dg": 3*nS, "f": 40*Hz, "Vt": -50*mV,
                                   "Vr": -65*mV})
    group.v = "Vr + rand() * (Vt - Vr)"
    group.amplitude = [100, 250, 400, 600]*pA
    group.ref = "(1 + i) * ms"
    group.g = 1*nS
    states = StateMonitor(group, ["v", "I_syn", "g"], record=[0, 2, 3], name="cond_states")
    spikes = SpikeMonitor(group, name="cond_spikes")
    return ModelSpec([group, states, spikes], durations=[40*ms, 20*ms])


def boolean_refractoriness(method):
    """Refractoriness given as a condition (stays refractory while x > 0.2)."""
    eqs = """
    dv/dt = (I - v) / (10*ms) : 1 (unless refractory)
    dx/dt = -x / (5*ms) : 1
    I : 1
    """
    group = NeuronGroup(3, eqs, threshold="v > 1", reset="v = 0; x = 1", refractory="x > 0.2",
                        method=method, name="boolref")
    group.I = [1.5, 2, 3]
    return ModelSpec([group, StateMonitor(group, ["v", "x"], record=True, name="boolref_states"),
                      SpikeMonitor(group, name="boolref_spikes")], durations=[50*ms])


FUNCTIONS = {
    "sin": "sin(x)", "cos": "cos(x)", "tan": "tan(x/4)", "sinh": "sinh(x/3)",
    "cosh": "cosh(x/5)", "tanh": "tanh(x)", "exp": "exp(-x)", "log": "log(2 + x)",
    "log10": "log10(3 + x)", "sqrt": "sqrt(1 + x**2)", "abs": "abs(x - 1)",
    "power": "x**3/10 + 2**x", "expm1": "expm1(x/10)", "log1p": "log1p(x)",
    "exprel": "exprel(x - 1)", "sign": "sign(x - 0.5)", "clip": "clip(x, 0.2, 0.8)",
    "floor": "floor(3*x)", "ceil": "ceil(2*x)", "int": "int(4*x)", "mod": "(7*x) % 2",
    "floordiv": "(5*x) // 1.5",
}


def functions(method):
    """Every function of Brian that LEMS can express, at values away from discontinuities."""
    eqs = "\n".join(f"dz_{name}/dt = ({code}) / second : 1" for name, code in FUNCTIONS.items())
    group = NeuronGroup(5, eqs + "\nx : 1 (constant)", method=method, name="functions")
    group.x = [0.1, 0.37, 0.55, 1.7, -0.3]
    return ModelSpec([group, StateMonitor(group, [f"z_{name}" for name in FUNCTIONS],
                                          record=True, name="function_values")],
                     durations=[1*ms])


MODELS = {model.__name__: model for model in (documented_lif, cuba, adex, two_groups,
                                              conductance_two_runs, boolean_refractoriness,
                                              functions)}
#: Brian's exact integration of the linear models (its steps are exported as
#: they are, :mod:`brian2tools.nmlexport.method_steps`); forward Euler for the others
METHODS = {"documented_lif": "exact", "cuba": "exact"}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """Every model exported, simulated by jNeuroML (in parallel) and by Brian."""
    if JNEUROML_MISSING is not None:
        pytest.skip(f"jNeuroML cannot run: {JNEUROML_MISSING}")
    # (the per-test fixture of conftest.py, which selects numpy, runs after this one)
    prefs.codegen.target = "numpy"
    folder = tmp_path_factory.mktemp("nml_models")
    files = {name: export_model(build, folder / name, name, random_seed=7,
                                method=METHODS.get(name, "euler"))
             for name, build in MODELS.items()}
    parallel = max(2, os.cpu_count() or 2)
    queue, running, logs, references = list(files.items()), {}, {}, {}

    def start_more():
        while queue and len(running) < parallel:
            name, model_file = queue.pop(0)
            running[name] = start_jneuroml(model_file)

    start_more()
    for name, build in MODELS.items():
        # Brian's simulations run while jNeuroML works
        references[name] = simulate_brian(build, random_seed=7,
                                          method=METHODS.get(name, "euler"))
        for finished in [n for n, process in running.items() if process.poll() is not None]:
            logs[finished] = finish_jneuroml(running.pop(finished))
        start_more()
    while running:
        name = next(iter(running))
        logs[name] = finish_jneuroml(running.pop(name))
        start_more()
    return {name: {"file": files[name], "log": logs[name], "brian": references[name],
                   "jneuroml": load_recordings(files[name])} for name in MODELS}


@needs_jneuroml
@pytest.mark.parametrize("name", list(MODELS))
def test_jneuroml_matches_brian(simulated, name):
    result = simulated[name]
    assert severe_lines(result["log"]) == []
    assert [line for line in result["log"].splitlines() if "WARNING" in line] == []
    brian, jneuroml = result["brian"], result["jneuroml"]
    dt = brian["dt"]
    compared = 0
    for monitor, recorded in brian.items():
        if monitor == "dt":
            continue
        if "i" in recorded:
            compare_spikes(recorded, jneuroml[monitor], dt)
        else:
            for variable in recorded:
                if variable not in ("t", "record"):
                    compare_traces(recorded, jneuroml[monitor], variable)
        compared += 1
    assert compared == len([m for m in brian if m != "dt"])


@needs_jneuroml
def test_models_really_spike(simulated):
    # the comparisons above are only meaningful if the neurons do fire
    for name in ("documented_lif", "cuba", "adex", "two_groups", "conductance_two_runs",
                 "boolean_refractoriness"):
        spikes = [data for monitor, data in simulated[name]["brian"].items()
                  if monitor != "dt" and "i" in data]
        assert all(len(data["t"]) > 3 for data in spikes), name
    # refractoriness is effective: the documented LIF's neuron 19 (v0 = 20 mV) fires every
    # 5 ms + 6.9 ms, not every 6.9 ms
    lif = simulated["documented_lif"]["brian"]["lif_spikes"]
    intervals = np.diff(lif["t"][lif["i"] == 19])
    assert np.all(intervals > 5e-3)


@needs_jneuroml
def test_population_rate_monitor_recorded_as_spikes(simulated):
    result = simulated["cuba"]
    rate = result["jneuroml"]["cuba_rate"]
    spikes = result["brian"]["cuba_spikes"]
    np.testing.assert_allclose(np.sort(np.asarray(rate["t"])),
                               np.sort(spikes["t"]) + result["brian"]["dt"], atol=1e-9)


@needs_jneuroml
def test_two_runs_simulated_as_one(simulated):
    result = simulated["conductance_two_runs"]
    root = ET.parse(result["file"]).getroot()
    assert root.find("Simulation").get("length") == "60 ms"
    assert len(result["jneuroml"]["cond_states"]["t"]) == 601
    assert len(result["brian"]["cond_states"]["t"]) == 600


@needs_jneuroml
def test_recordings_have_brian_units(simulated):
    recordings = simulated["conductance_two_runs"]["jneuroml"]["cond_states"]
    assert recordings["v"].has_same_dimensions(volt)
    assert recordings["I_syn"].has_same_dimensions(amp)
    assert recordings["g"].has_same_dimensions(siemens)
    assert recordings["t"].has_same_dimensions(second)
    assert list(recordings["record"]) == [0, 2, 3]
    assert recordings["v"].shape == (3, 601)
    spikes = simulated["two_groups"]["jneuroml"]["eif_spikes"]
    assert set(spikes["i"]) <= {0, 1}  # indices relative to the subgroup eif[1:3]


# --------------------------------------------------------------------------
# The exported file
# --------------------------------------------------------------------------
DOCUMENTED_SCRIPT = """
from brian2 import *
import brian2tools.nmlexport

set_device('neuroml2', filename="nml2model.xml")

n = 100
duration = 1*second
tau = 10*ms

eqs = '''
dv/dt = (v0 - v) / tau : volt (unless refractory)
v0 : volt
'''
group = NeuronGroup(n, eqs, threshold='v > 10*mV', reset='v = 0*mV',
                    refractory=5*ms, method='linear')
group.v = 0*mV
group.v0 = '20*mV * i / (N-1)'

rec_idx = [2, 63]
statemonitor = StateMonitor(group, 'v', record=rec_idx)
spikemonitor = SpikeMonitor(group, record=rec_idx)

run(duration)
"""


def run_script(script: str, folder) -> None:
    """Run a user script in ``folder`` like Python would (it uses Brian's magic run())."""
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        exec(compile(script, "script.py", "exec"), {"__name__": "__main__"})
    finally:
        os.chdir(cwd)


def test_documented_example_structure(tmp_path):
    run_script(DOCUMENTED_SCRIPT, tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["LEMSUnitsConstants.xml", "nml2model.xml"]
    root = ET.parse(tmp_path / "nml2model.xml").getroot()
    assert root.tag == "Lems"
    assert [include.get("file") for include in root.findall("Include")] == [
        "NeuroML2CoreTypes.xml", "Simulation.xml", "LEMSUnitsConstants.xml"]
    types = {element.get("name"): element for element in root.findall("ComponentType")}
    cell = types["neurongroup_cell"]
    assert cell.get("extends") == "baseCell"
    assert cell.find("EventPort").attrib == {"name": "spike", "direction": "out"}
    assert "v" in {exposure.get("name") for exposure in cell.findall("Exposure")}
    dynamics = cell.find("Dynamics")
    derivative = dynamics.find("TimeDerivative")
    # the script's method='linear': Brian's exact step, reached by jNeuroML's Euler step
    assert derivative.attrib == {"variable": "v",
                                 "value": "not_refractory * ((step_v - v) / dt)"}
    step = next(d for d in dynamics.findall("DerivedVariable") if d.get("name") == "step_v")
    assert step.get("value") == "v * exp(-dt / tau) + v0 - v0 * exp(-dt / tau)"
    threshold = dynamics.findall("OnCondition")[0]
    assert threshold.get("test") == "(v .gt. 10 * mV) .and. (not_refractory .gt. 0.5)"
    assert [(a.get("variable"), a.get("value")) for a in threshold.findall("StateAssignment")] == [
        ("lastspike", "t - dt"), ("not_refractory", "0"), ("v", "0 * mV")]
    assert threshold.find("EventOut").get("port") == "spike"
    constants = {c.get("name"): (c.get("value"), c.get("dimension"))
                 for c in cell.findall("Constant")}
    assert constants["tau"] == ("10 ms", "time")
    assert constants["mV"] == ("1 mV", "voltage")
    assert constants["refractory_steps"] == ("50", "none")
    population_type = types["neurongroup_population"]
    assert population_type.get("extends") == "basePopulation"
    assert population_type.find("Children").attrib == {"name": "cells",
                                                       "type": "neurongroup_cell"}
    network = root.find("network")
    population = network.find("Component")
    assert population.get("id") == "neurongroup"
    cells = population.findall("Component")
    assert len(cells) == 100
    v0 = np.array([parse_quantity(c.get("v0")) for c in cells])
    np.testing.assert_allclose(v0, 0.02 * np.arange(100) / 99, rtol=1e-15, atol=0)
    simulation = root.find("Simulation")
    assert simulation.attrib == {"id": "sim1", "length": "1 s", "step": "0.1 ms",
                                 "target": network.get("id")}
    display = simulation.find("Display")
    # the y range spans what the model says about v: 0 mV (initial value and
    # reset), 10 mV (threshold) and v0 up to 20 mV, with a small margin
    low, high = float(display.get("ymin")), float(display.get("ymax"))
    assert low < 0 and 20 < high and high - low <= 30
    assert display.get("timeScale") == "1 ms"
    assert {line.get("scale") for line in display.findall("Line")} == {"1 mV"}
    lines = simulation.find("Display").findall("Line")
    assert [line.get("quantity") for line in lines] == ["neurongroup[2]/v", "neurongroup[63]/v"]
    output = simulation.find("OutputFile")
    # the documented names: recording_<stem of filename>.dat and .spikes
    # (Brian numbers the default name when an earlier test left a 'statemonitor')
    assert output.get("fileName") == "recording_nml2model.dat"
    assert output.get("id").startswith("statemonitor")
    assert [(c.get("id"), c.get("quantity")) for c in output.findall("OutputColumn")] == [
        ("v_2", "neurongroup[2]/v"), ("v_63", "neurongroup[63]/v")]
    events = simulation.find("EventOutputFile")
    assert events.get("fileName") == "recording_nml2model.spikes"
    assert events.get("format") == "TIME_ID"
    # like Brian, which records every neuron (record= only switches recording on or off)
    selections = events.findall("EventSelection")
    assert [(s.get("id"), s.get("select")) for s in selections[:3]] == [
        ("0", "neurongroup[0]"), ("1", "neurongroup[1]"), ("2", "neurongroup[2]")]
    assert len(selections) == 100
    assert root.find("Target").get("component") == "sim1"
    constants_file = ET.parse(tmp_path / "LEMSUnitsConstants.xml").getroot()
    values = {c.get("name"): (c.get("value"), c.get("dimension"))
              for c in constants_file.findall("Constant")}
    assert values["mV"] == ("0.001", "voltage")
    assert values["nS"] == ("1e-09", "conductance")


@needs_jneuroml
def test_documented_example_runs_in_jneuroml(tmp_path):
    script = DOCUMENTED_SCRIPT.replace("duration = 1*second", "duration = 20*ms")
    run_script(script, tmp_path)
    log = run_jneuroml(tmp_path / "nml2model.xml")
    assert severe_lines(log) == []
    recordings = load_recordings(tmp_path / "nml2model.xml")
    # (Brian numbers the default names of the script's objects after earlier ones)
    states = next(data for data in recordings.values() if "v" in data)
    assert states["v"].shape == (2, 201)
    assert list(states["record"]) == [2, 63]
    # neuron 2 relaxes towards v0 = 20 mV * 2/99 with tau = 10 ms (Brian's exact
    # steps of method='linear')
    expected = 20e-3 * 2 / 99 * (1 - np.exp(-200 * 0.1 / 10))
    assert float(states["v"][0, -1]) == pytest.approx(expected, rel=1e-6)
    # neuron 63 (v0 = 12.7 mV) fires and is reset
    assert float(states["v"][1].max()) <= 0.0101


def test_output_is_deterministic(tmp_path):
    first = export_model(cuba, tmp_path / "a", "model", random_seed=3)
    second_file = export_model(cuba, tmp_path / "b", "model", random_seed=3)
    assert first.read_bytes() == second_file.read_bytes()
    text = first.read_text()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Lems>\n  <Include')
    assert "\n      <Component type=\"cuba_cell\"" in text  # pretty-printed


def _cell_values(model_file, population, parameter):
    root = ET.parse(model_file).getroot()
    for element in root.iter("Component"):
        if element.get("id") == population:
            return np.array([parse_quantity(cell.get(parameter)) for cell in element])
    raise AssertionError(f"no population {population}")


def test_initial_values_are_brians(tmp_path):
    # every initialiser: random, expressions of i, constants, arrays, conditional assignment
    model_file = export_model(cuba, tmp_path, "cuba", random_seed=11)
    start_scope()
    seed(11)
    spec = cuba("euler")
    group = spec.objects[0]
    for variable, parameter in (("v", "v_init"), ("ge", "ge_init"), ("gi", "gi_init"),
                                ("taum", "taum"), ("I", "I")):
        np.testing.assert_array_equal(_cell_values(model_file, "cuba", parameter),
                                      np.asarray(getattr(group, variable)[:]), err_msg=variable)
    root = ET.parse(model_file).getroot()
    cell = next(t for t in root.iter("ComponentType") if t.get("name") == "cuba_cell")
    constants = {c.get("name"): c.get("value") for c in cell.findall("Constant")}
    # values shared by all cells are constants of the cell type
    assert constants["taue"] == "5 ms"
    assert constants["taui"] == "10 ms"
    assert {p.get("name") for p in cell.findall("Parameter")} == {
        "taum", "I", "v_init", "ge_init", "gi_init"}


def test_several_groups_are_populations_named_after_them(tmp_path):
    model_file = export_model(two_groups, tmp_path, "two")
    root = ET.parse(model_file).getroot()
    network = root.find("network")
    assert [(p.get("id"), p.get("type"), len(p)) for p in network.findall("Component")] == [
        ("lif", "lif_population", 6), ("eif", "eif_population", 4)]
    events = {e.get("id"): e for e in root.iter("EventOutputFile")}
    assert [(s.get("id"), s.get("select")) for s in events["eif_spikes"]] == [
        ("0", "eif[1]"), ("1", "eif[2]")]


def test_monitored_subexpression_is_recorded_after_the_step(tmp_path):
    model_file = export_model(conductance_two_runs, tmp_path, "cond")
    root = ET.parse(model_file).getroot()
    cell = next(t for t in root.iter("ComponentType") if t.get("name") == "cond_cell")
    dynamics = cell.find("Dynamics")
    derived = {d.get("name"): d.get("value") for d in dynamics.findall("DerivedVariable")}
    assert derived["I_syn"] == "g * (Ee - v)"
    recording = dynamics.findall("OnCondition")[-1]
    assert recording.get("test") == "t .geq. 0"
    assert recording.find("StateAssignment").attrib == {"variable": "I_syn_recorded",
                                                        "value": "g * (Ee - v)"}
    columns = [c.get("quantity") for c in root.iter("OutputColumn")]
    assert "cond[2]/I_syn_recorded" in columns
    # Brian's t during an update is one step behind jNeuroML's
    derivative = {d.get("variable"): d.get("value") for d in dynamics.findall("TimeDerivative")}
    assert "(t - dt)" in derivative["g"]


def test_reset_temporaries_keep_their_value(tmp_path):
    # Brian allows temporary names in a reset; the cell type stores them in state variables
    group = {"name": "cells", "N": 2, "refractory": None, "namespace": {},
             "equations": [{"name": "v", "type": "differential equation", "expr": "1/ms",
                            "unit": volt / volt, "var_type": "float", "flags": []},
                           {"name": "half", "type": "subexpression", "expr": "v / 2",
                            "unit": volt / volt, "var_type": "float", "flags": []}],
             "events": {"spike": {"threshold": "v > 1", "reset": "tmp = half\nv = 0\nv += tmp"}},
             "initial_values": {"v": np.array([0.0, 0.5])}}
    from brian2tools.nmlexport.neurongroup import build_cell_types

    cell = ET.fromstring(build_cell_types(group, 0.1*ms).cell_type.toxml())
    assert "tmp_temporary" in {sv.get("name") for sv in cell.iter("StateVariable")}
    on_spike = cell.find("Dynamics").find("OnCondition")
    assert on_spike.get("test") == "v .gt. 1"
    assert [(a.get("variable"), a.get("value")) for a in on_spike.findall("StateAssignment")] == [
        ("tmp_temporary", "(v / 2)"), ("v", "0"), ("v", "v + (tmp_temporary)")]


def test_filename_gets_xml_extension_and_constants_file_options(tmp_path):
    model_file = tmp_path / "model"
    start_scope()
    set_device("neuroml2", filename=str(model_file), constants_file="units.xml")
    NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", name="single")
    run(1*ms)
    assert sorted(os.listdir(tmp_path)) == ["model.xml", "units.xml"]
    root = ET.parse(tmp_path / "model.xml").getroot()
    assert root.findall("Include")[-1].get("file") == "units.xml"
    reinit_and_delete()
    start_scope()
    set_device("neuroml2", filename=str(tmp_path / "other.xml"), lems_const_save=False)
    NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", name="single")
    run(1*ms)
    assert sorted(os.listdir(tmp_path)) == ["model.xml", "other.xml", "units.xml"]


def test_ids_do_not_clash_with_brian_names(tmp_path):
    start_scope()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    group = NeuronGroup(2, "dv/dt = -v/(10*ms) : 1", name="net")
    monitor = StateMonitor(group, "v", record=0, name="sim1")
    run(1*ms)
    assert monitor.name == "sim1"
    root = ET.parse(tmp_path / "model.xml").getroot()
    network = root.find("network")
    simulation = root.find("Simulation")
    assert network.get("id") not in ("net", "sim1")
    assert simulation.get("id") not in ("net", "sim1")
    assert simulation.get("target") == network.get("id")
    assert network.find("Component").get("id") == "net"
    assert simulation.find("OutputFile").get("id") == "sim1"


def test_units_constants_file_is_always_the_same():
    text = units_constants_xml()
    assert text == units_constants_xml()
    root = ET.fromstring(text)
    assert all(float(c.get("value")) > 0 for c in root.findall("Constant"))


# --------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------
def export_in(tmp_path, build_objects, duration=1*ms, **options):
    """Export the objects ``build_objects()`` returns (a list); returns the model file path."""
    start_scope()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), **options)
    Network(*build_objects()).run(duration)
    return tmp_path / "model.xml"


def synapses():
    source = NeuronGroup(2, "v : 1", threshold="v > 1", name="source")
    target = NeuronGroup(2, "v : 1", name="target")
    connections = Synapses(source, target, on_pre="v += 1", name="syn")
    connections.connect()
    return [source, target, connections]


def poisson_input():
    receiver = NeuronGroup(2, "v : 1", name="receiver")
    return [receiver, PoissonInput(receiver, "v", 5, 10*Hz, weight=0.1)]


@pytest.mark.parametrize("make, name, feature", [
    (synapses, "syn", "Synapses"),
    (lambda: [PoissonGroup(3, 10*Hz, name="poisson")], "poisson", "PoissonGroup"),
    (lambda: [SpikeGeneratorGroup(2, [0, 1], [1, 2]*ms, name="generator")], "generator",
     "SpikeGeneratorGroup"),
    (poisson_input, "poissoninput", "PoissonInput"),
])
def test_synapses_and_inputs_are_exported(tmp_path, make, name, feature):
    # networks are exported by network_export (tests/test_nmlexport_network.py)
    root = ET.parse(export_in(tmp_path, make)).getroot()
    parts = {element.get("id") or element.tag for element in root.find("network")}
    # compact connections (<c0 .../>) name their Synapses in their type's description
    described = {element.get("name") for element in root.iter("ComponentType")
                 if (element.get("description") or "").startswith(f"{name} (")}
    assert any(part.startswith(name) or part in described for part in parts), (feature, parts)


@pytest.mark.parametrize("equations, function", [
    ("dv/dt = arcsin(v) / (10*ms) : 1", "arcsin"),
    ("dv/dt = (rand() - v) / (10*ms) : 1", "rand"),
    ("dv/dt = (arctan(v) - v) / (10*ms) : 1", "arctan"),
])
def test_functions_without_lems_equivalent_are_refused(tmp_path, equations, function):
    with pytest.raises(UnsupportedFeatureError, match=rf"{function}\(\)") as error:
        export_in(tmp_path, lambda: [NeuronGroup(2, equations, name="neurons")])
    assert "'neurons'" in str(error.value)


def test_noise_is_exported_as_a_draw_of_each_step(tmp_path):
    path = export_in(tmp_path, lambda: [NeuronGroup(
        2, "dv/dt = -v/(10*ms) + xi*sqrt(1/(10*ms)) : 1", name="noisy", method="euler")])
    cell = next(c for c in ET.parse(path).getroot().iter("ComponentType")
                if c.get("name") == "noisy_cell")
    derivative = cell.find("Dynamics/TimeDerivative")
    # Euler-Maruyama: dt * (drift + amplitude * n / dt), amplitude = sqrt(dt)*coefficient
    value = derivative.get("value")
    assert value.startswith("-v / (10 * ms) + ") and value.endswith(" * xi__draw / dt")
    amplitude = value[len("-v / (10 * ms) + "):-len(" * xi__draw / dt")]
    assert eval(amplitude.replace("^", "**"), {"sqrt": np.sqrt, "ms": 1e-3, "dt": 1e-4}) == \
        pytest.approx(np.sqrt(1e-4 / 1e-2), rel=1e-14)
    draws = [a.get("value") for a in cell.iter("StateAssignment")
             if a.get("variable") == "xi__draw"]
    assert len(draws) == 2  # at the start and at each step
    assert set(draws) == {"sqrt(-2 * log(1 - random(1))) * cos(6.283185307179586 * random(1))"}


def test_custom_events_are_exported_with_their_port(tmp_path):
    def make():
        group = NeuronGroup(2, "dv/dt = 1/ms : 1", threshold="v > 1", reset="v = 0",
                            events={"half": "v > 0.5"}, name="neurons")
        group.run_on_event("half", "v += 0.01")
        return [group]

    # simulated and compared with Brian in test_nmlexport_events.py
    root = ET.parse(export_in(tmp_path, make)).getroot()
    cell = next(t for t in root.iter("ComponentType") if t.get("name") == "neurons_cell")
    assert [p.get("name") for p in cell.iter("EventPort")] == ["spike", "half"]
    assert [a.get("value") for h in cell.iter("OnCondition") for a in h
            if a.get("variable") == "v"][-1] == "v + (0.01)"


@pytest.mark.parametrize("make, message", [
    (lambda g: StateMonitor(g, "v", record=0, when="end", name="late"), "'end' slot"),
    (lambda g: StateMonitor(g, "v", record=0, dt=0.25*ms, name="slow"), "not a whole multiple"),
])
def test_monitors_jneuroml_cannot_reproduce_are_refused(tmp_path, make, message):
    def build():
        group = NeuronGroup(2, "dv/dt = 1/ms : 1", threshold="v > 1", reset="v = 0",
                            name="neurons")
        return [group, make(group)]

    with pytest.raises(UnsupportedFeatureError, match=message):
        export_in(tmp_path, build)


def test_unsupported_changes_between_runs_are_refused_and_keep_the_previous_file(tmp_path):
    start_scope()
    model_file = tmp_path / "model.xml"
    set_device("neuroml2", filename=str(model_file))
    group = NeuronGroup(2, "dv/dt = (v0 - v)/(10*ms) : 1\nv0 : 1", name="neurons")
    group.v0 = 1
    run(5*ms)
    first = model_file.read_bytes()
    group.v0 = 2  # exported (test_nmlexport_timed.py)
    # a monitor created between runs is exported (test_nmlexport_events.py), not this slot
    late = StateMonitor(group, "v", record=0, when="end", name="late")  # noqa: F841
    with pytest.raises(UnsupportedFeatureError, match="'end' slot") as error:
        run(5*ms)
    assert "'late'" in str(error.value)
    assert model_file.read_bytes() == first
    assert sorted(os.listdir(tmp_path)) == ["LEMSUnitsConstants.xml", "model.xml"]


def test_missing_filename_and_unknown_options_are_refused(tmp_path):
    start_scope()
    set_device("neuroml2")
    NeuronGroup(1, "dv/dt = -v/(10*ms) : 1")
    with pytest.raises(TypeError, match="filename"):
        run(1*ms)
    reinit_and_delete()
    start_scope()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), colour="red")
    NeuronGroup(1, "dv/dt = -v/(10*ms) : 1")
    with pytest.raises(TypeError, match="colour"):
        run(1*ms)
    assert os.listdir(tmp_path) == []


def test_exporter_refuses_empty_runs_and_reports_missing_model():
    exporter = NMLExporter()
    with pytest.raises(RuntimeError, match="create_lems_model"):
        exporter.to_xml()
    with pytest.raises(ValueError, match="empty"):
        exporter.create_lems_model([])


def test_exporter_works_on_collected_descriptions():
    start_scope()
    set_device("exporter")
    group = NeuronGroup(3, "dv/dt = (1 - v)/tau : 1", threshold="v > 0.8", reset="v = 0",
                        namespace={"tau": 10*ms}, name="neurons")
    group.v = "i / 3"
    run(2*ms)
    exporter = NMLExporter()
    exporter.create_lems_model(device.runs[0])
    dom = exporter.model
    assert dom.documentElement.tagName == "Lems"
    assert [c.getAttribute("v_init") for c in
            dom.getElementsByTagName("network")[0].getElementsByTagName("Component")[1:]] == [
        "0", "0.3333333333333333", "0.6666666666666666"]
    assert [t.name for t in exporter.lems_model.component_types] == [
        "neurons_cell", "neurons_population"]


# --------------------------------------------------------------------------
# Expressions, units and recordings
# --------------------------------------------------------------------------
IDENTIFIERS = {name: name for name in ("v", "w", "x", "a", "b", "tau", "mV", "dt")}


@pytest.mark.parametrize("code, expected", [
    ("(v0 - v) / tau".replace("v0", "a"), "(a - v) / tau"),
    ("v**2 / (10*mV)", "v^2 / (10 * mV)"),
    ("a - (b - x)", "a - (b - x)"),
    ("(a - b) - x", "a - b - x"),
    ("a / (b * x)", "a / (b * x)"),
    ("-x**2", "-x^2"),
    ("(-x)**2", "(-x)^2"),
    ("x**a**b", "x^(a^b)"),
    ("x**-1", "(1 / x)"),  # jLEMS checks the dimension of 1/x, not of x^(-1)
    ("log(x)", "log(x)"),
    ("log10(x)", "(log(x) / 2.302585092994046)"),
    ("floor(x)", "(-ceil(-x))"),
    ("sign(x)", "(H(x) - H(-x))"),
    ("x % a", "(x - a * (-ceil(-(x / a))))"),
    ("2*pi*x", "2 * 3.141592653589793 * x"),
    ("exp(-v/mV)", "exp(-v / mV)"),
])
def test_render_expression(code, expected):
    assert render_expression(code, IDENTIFIERS) == expected


@pytest.mark.parametrize("code, expected, negated", [
    ("v > 10*mV", "v .gt. 10 * mV", "v .leq. 10 * mV"),
    ("v >= a and x < b", "(v .geq. a) .and. (x .lt. b)", "(v .lt. a) .or. (x .geq. b)"),
    ("not (a == b or x != w)", "(a .neq. b) .and. (x .eq. w)", "(a .eq. b) .or. (x .neq. w)"),
    ("a < x < b", "(a .lt. x) .and. (x .lt. b)", "(a .geq. x) .or. (x .geq. b)"),
])
def test_render_condition(code, expected, negated):
    assert render_condition(code, IDENTIFIERS) == expected
    assert render_condition(code, IDENTIFIERS, negate=True) == negated


def test_render_refusals_name_the_object_and_the_code():
    with pytest.raises(UnsupportedFeatureError) as error:
        render_expression("arccos(x) * mV", IDENTIFIERS, "cells", "the equation of v")
    message = str(error.value)
    assert "'cells'" in message and "arccos()" in message and "arccos(x) * mV" in message
    # comparisons are numbers (tests/test_nmlexport_stochastic.py), except an equality of draws
    with pytest.raises(UnsupportedFeatureError, match="equality test of a random number"):
        render_expression("x * (rand() == a)", IDENTIFIERS, random=True)
    with pytest.raises(UnsupportedFeatureError, match="'unknown'"):
        render_expression("unknown + x", IDENTIFIERS)
    with pytest.raises(UnsupportedFeatureError, match="statement"):
        parse_statements("if v > 1: v = 0")


def test_parse_statements():
    assert parse_statements("v = Vr; w += b\nx *= 2") == [
        ("v", "=", "Vr"), ("w", "+=", "b"), ("x", "*=", "2")]


def test_dimensions_and_quantities():
    assert lems_dimension(mV).name == "voltage"
    assert lems_dimension(nS).unit == "S"
    assert lems_dimension(1).name == "none"
    derived = lems_dimension(mV / ms)
    assert (derived.name, derived.unit, derived.is_core) == (
        "dim_l2_m1_t-4_i-1", "SI_dim_l2_m1_t-4_i-1", False)
    assert format_quantity(10*ms) == "10 ms"
    assert format_quantity(-70.6*mV) == "-70.6 mV"
    assert format_quantity(0.25) == "0.25"


def test_load_recordings_reports_missing_files(tmp_path):
    model_file = export_model(documented_lif, tmp_path, "lif")
    with pytest.raises(FileNotFoundError, match="recording_lif.dat"):
        load_recordings(model_file)


def test_recording_files_have_the_documented_names(tmp_path):
    # the first StateMonitor and the first SpikeMonitor write
    # recording_<stem>.dat/.spikes; further monitors add their Brian name
    start_scope()
    set_device("neuroml2", filename=str(tmp_path / "mymodel.xml"))
    group = NeuronGroup(3, "dv/dt = (2 - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                        method="exact", name="cells")
    state_1 = StateMonitor(group, "v", record=[0], name="first_state")  # noqa: F841
    state_2 = StateMonitor(group, "v", record=[1, 2], name="second_state")  # noqa: F841
    rate = PopulationRateMonitor(group, name="rate")  # noqa: F841
    spikes_1 = SpikeMonitor(group, name="first_spikes")  # noqa: F841
    spikes_2 = SpikeMonitor(group, name="more_spikes")  # noqa: F841
    run(1*ms)
    reinit_and_delete()
    set_device("runtime")
    simulation = ET.parse(tmp_path / "mymodel.xml").getroot().find("Simulation")
    values = {e.get("id"): e.get("fileName") for e in simulation.iter("OutputFile")}
    spikes = {e.get("id"): e.get("fileName") for e in simulation.iter("EventOutputFile")}
    assert values == {"first_state": "recording_mymodel.dat",
                      "second_state": "recording_mymodel_second_state.dat"}
    assert spikes == {"first_spikes": "recording_mymodel.spikes",
                      "more_spikes": "recording_mymodel_more_spikes.spikes",
                      "rate": "recording_mymodel_rate.spikes"}


def test_the_display_range_includes_the_threshold_written_in_the_code(tmp_path):
    start_scope()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    group = NeuronGroup(2, "dv/dt = (8*mV - v)/(10*ms) : volt", threshold="v > 5*mV",
                        reset="v = -2*mV", method="exact", name="cells")
    monitor = StateMonitor(group, "v", record=True)  # noqa: F841
    run(1*ms)
    reinit_and_delete()
    set_device("runtime")
    display = ET.parse(tmp_path / "model.xml").getroot().find("Simulation/Display")
    # initial values 0 mV, threshold 5 mV and reset -2 mV: all visible
    assert (float(display.get("ymin")), float(display.get("ymax"))) == (-3, 6)


def _negative_powers(method):
    """HH-style rate functions written with negative powers of units, as COBAHH does."""
    group = NeuronGroup(2, """dm/dt = alpha*(1 - m) - beta*m : 1
                              alpha = 0.32*(mV**-1)*(13*mV - v)/ms : Hz
                              beta = 0.28*(mV**-1)*(v - 40*mV)/ms / (1 + (v/(40*mV))**-2) : Hz
                              v : volt""", method=method, name="gates")
    group.v = [-60, -30] * mV
    return ModelSpec([group, StateMonitor(group, "m", record=True, name="gates_m")],
                     durations=[5 * ms])


def test_negative_powers_of_units_are_written_as_quotients():
    assert render_expression("0.32*(mV**-1)*(13*mV - v)", {"mV": "mV", "v": "v"},
                             "g", "x") == "0.32 * (1 / mV) * (13 * mV - v)"
    assert render_expression("x**-2", {"x": "x"}, "g", "x") == "(1 / x^2)"


@needs_jneuroml
def test_negative_powers_of_units_load_and_match_in_jneuroml(tmp_path):
    model_file = export_model(_negative_powers, tmp_path, "powers")
    log = run_jneuroml(model_file)
    assert not severe_lines(log), log
    compare_traces(simulate_brian(_negative_powers)["gates_m"],
                   load_recordings(model_file)["gates_m"], "m")
