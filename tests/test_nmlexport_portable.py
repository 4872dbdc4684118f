"""
The portable form of the export: standard populations and NEURON-ready cells.

The same models are simulated by Brian, by jNeuroML (from the portable form:
it must match Brian as exactly as the default form does) and by NEURON
(through jNeuroML's NEURON writer). NEURON integrates the generated
mechanisms with its own methods and detects a spike when ``v`` crosses the
threshold after a step, so it is compared with stated tolerances: equal
spike counts, spike times within 0.5 ms, traces within 2% of their range.
Traces are compared at every sample, each NEURON sample with Brian's
samples within two time steps (0.2 ms) of it: NEURON advances the generated
mechanism with the rates of the previous step (its trace is one step late),
and where it detects a spike it still holds, for one sample, the value that
crossed the threshold (checked separately: above the threshold by less than
one step's rise), since the reset arrives as an event at the next step. The
median difference without any shift must be within the tolerance too.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from brian2 import (
    Hz,
    NeuronGroup,
    PoissonGroup,
    PopulationRateMonitor,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    defaultclock,
    ms,
    mV,
    run,
    seed,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete

import brian2tools.nmlexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.baseexport import UnsupportedFeatureError
from brian2tools.nmlexport import load_recordings
from brian2tools.nmlexport.engines import engine_available, simulate
from brian2tools.nmlexport.units import parse_quantity

pytestmark = pytest.mark.slow

DT = 0.1 * ms


def _lif(method="linear", duration=60 * ms):
    """Eight LIF cells with refractoriness, v0 taking four values, two cells below threshold."""
    start_scope()
    defaultclock.dt = DT
    eqs = """
    dv/dt = (v0 - v) / tau : volt (unless refractory)
    v0 : volt
    """
    group = NeuronGroup(8, eqs, threshold="v > 10*mV", reset="v = 0*mV", refractory=5 * ms,
                        method=method, namespace={"tau": 10 * ms}, name="lif")
    group.v = "i * 0.5*mV"
    group.v0 = "(8 + 4*(i % 4))*mV"   # 8 mV: never reaches the threshold
    state = StateMonitor(group, "v", record=[0, 1, 7], name="lif_v")
    spikes = SpikeMonitor(group, name="lif_spikes")
    # a second event monitor of the same cells, on a sub-group (NEURON records
    # a cell's spikes into one file only: the portable form shares it)
    rate = PopulationRateMonitor(group[2:6], name="lif_rate")
    run(duration)
    return state, spikes, rate


def _adaptive(method="linear", duration=60 * ms):
    """LIF with an adaptation current (a second state variable, recorded)."""
    start_scope()
    defaultclock.dt = DT
    eqs = """
    dv/dt = (v0 - v - w) / tau : volt
    dw/dt = -w / tau_w : volt
    v0 : volt
    """
    group = NeuronGroup(3, eqs, threshold="v > 10*mV", reset="v = 0*mV; w += 2*mV",
                        method=method, namespace={"tau": 10 * ms, "tau_w": 30 * ms},
                        name="adaptive")
    group.v0 = "(15 + 5*i)*mV"
    state = StateMonitor(group, ["v", "w"], record=[0, 2], name="adaptive_vw")
    spikes = SpikeMonitor(group, name="adaptive_spikes")
    run(duration)
    return state, spikes


def _copies(state, spikes, rate=None):
    values = {name: np.array(getattr(state, name)) for name in state.record_variables}
    copies = {"t": np.array(state.t[:]), "values": values,
              "spike_t": np.array(spikes.t[:]), "spike_i": np.array(spikes.i[:])}
    if rate is not None:
        copies["rate"] = np.array(rate.rate[:])
    return copies


def _brian(build, method, extra=0 * ms):
    """Brian's recordings; ``extra`` simulates past the end, for comparisons near it."""
    try:
        recordings = _copies(*build(method=method, duration=60 * ms + extra))
    finally:
        reinit_and_delete()
    recorded = recordings["spike_t"] < float(60 * ms)
    recordings["spike_t"] = recordings["spike_t"][recorded]
    recordings["spike_i"] = recordings["spike_i"][recorded]
    return recordings


def _exported(build, folder, **options):
    set_device("neuroml2", filename=str(folder / f"{build.__name__[1:]}.xml"), **options)
    try:
        return _copies(*build())
    finally:
        reinit_and_delete()
        set_device("runtime")


def _skip_without(engine):
    reason = engine_available(engine)
    if reason is not None:
        pytest.skip(reason)


# ------------------------------------------------------------------ the files
def test_cells_are_grouped_by_their_values_into_standard_populations(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "lif.xml"), portable=True)
    monitors = _lif(duration=1 * ms)  # noqa: F841
    v0 = (8 + 4 * (np.arange(8) % 4)) * 1e-3
    v_init = np.arange(8) * 0.5e-3
    reinit_and_delete()
    set_device("runtime")
    root = ET.parse(tmp_path / "lif.xml").getroot()
    cell_type = next(t for t in root.iter("ComponentType") if t.get("name") == "lif_cell")
    assert cell_type.get("extends") == "baseIaf"
    dynamics = cell_type.find("Dynamics")
    states = {s.get("name") for s in dynamics.findall("StateVariable")}
    derived = {d.get("variable") for d in dynamics.findall("TimeDerivative")}
    assert states == derived == {"v", "lastspike", "not_refractory"}
    tests = [c.get("test") for c in dynamics.findall("OnCondition")]
    assert tests[0] == "(v - thresh) * not_refractory .gt. 0"
    assert not any(".and." in test for test in tests)
    components = {c.get("id"): c for c in root.iter("Component")}
    network = root.find("network")
    populations = network.findall("population")
    # every cell has its own v_init here: one population per cell, Brian's order
    assert [p.get("id") for p in populations] == [f"lif__{k}" for k in range(8)]
    for index, population in enumerate(populations):
        assert population.get("size") == "1"
        component = components[population.get("component")]
        assert parse_quantity(component.get("v0")) == v0[index]
        assert parse_quantity(component.get("v_init")) == v_init[index]
        assert parse_quantity(component.get("thresh")) == 10e-3
        assert parse_quantity(component.get("reset")) == 0
    columns = [c.get("quantity") for c in root.iter("OutputColumn")]
    assert columns == ["lif__0[0]/v", "lif__1[0]/v", "lif__7[0]/v"]
    # one event file for the group, shared by the SpikeMonitor and the rate monitor
    (events,) = root.iter("EventOutputFile")
    assert events.get("fileName") == "recording_lif.spikes"
    selections = [(e.get("id"), e.get("select")) for e in events.iter("EventSelection")]
    assert selections == [(str(k), f"lif__{k}[0]") for k in range(8)]


def test_cells_that_share_values_share_a_population(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "shared.xml"), portable=True)
    start_scope()
    group = NeuronGroup(6, "dv/dt = (v0 - v)/(10*ms) : volt\nv0 : volt",
                        threshold="v > 10*mV", reset="v = 0*mV", method="exact", name="cells")
    group.v0 = "(12 + 4*(i % 2))*mV"
    monitor = StateMonitor(group, "v", record=[0, 1, 4, 5], name="v_monitor")  # noqa: F841
    run(1 * ms)
    reinit_and_delete()
    set_device("runtime")
    root = ET.parse(tmp_path / "shared.xml").getroot()
    sizes = {p.get("id"): p.get("size") for p in root.iter("population")}
    assert sizes == {"cells__0": "3", "cells__1": "3"}
    columns = [c.get("quantity") for c in root.iter("OutputColumn")]
    assert columns == ["cells__0[0]/v", "cells__1[0]/v", "cells__0[2]/v", "cells__1[2]/v"]


@pytest.mark.parametrize("equations, threshold, fragment", [
    ("dv/dt = -v/(10*ms) : 1", "v > 0.5", "membrane potential 'v' in volt"),
    ("dv/dt = (vt - v)/(10*ms) : volt\ndvt/dt = -vt/(50*ms) : volt", "v > vt",
     "depends on vt"),
    ("dv/dt = -v/(10*ms) : volt", "v > 10*mV and v < 20*mV", "only 'v > <constant"),
])
def test_what_neuron_cannot_run_is_refused_by_name(tmp_path, equations, threshold, fragment):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), portable=True)
    group = NeuronGroup(2, equations, threshold=threshold, method="euler",  # noqa: F841
                        name="refused_group")
    with pytest.raises(UnsupportedFeatureError, match=f"'refused_group'.*{fragment}"):
        run(1 * ms)


def test_networks_are_refused_by_name_in_the_portable_form(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="neuron")
    group = NeuronGroup(2, "dv/dt = -v/(10*ms) : volt", threshold="v > 10*mV",
                        reset="v = 0*mV", method="exact")
    synapses = Synapses(group, group, on_pre="v += 1*mV", name="recurrent")
    synapses.connect()
    with pytest.raises(UnsupportedFeatureError, match="'recurrent'.*portable"):
        run(1 * ms)


def test_neuron_needs_the_portable_form(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="neuron",
               portable=False)
    NeuronGroup(1, "dv/dt = -v/(10*ms) : volt", threshold="v > 1*mV",  # noqa: F841
                method="exact")
    with pytest.raises(ValueError, match="portable=True"):
        run(1 * ms)


# ------------------------------------------------------------------ jNeuroML
def test_jneuroml_runs_the_portable_form_like_brian(tmp_path):
    _skip_without("jneuroml")
    brian = _brian(_lif, "euler")
    lems = _exported(_lif, tmp_path, portable=True, simulate="jneuroml")
    np.testing.assert_array_equal(lems["t"], brian["t"])
    np.testing.assert_allclose(lems["values"]["v"], brian["values"]["v"], rtol=0,
                               atol=1e-6 * 0.02)
    np.testing.assert_array_equal(lems["spike_i"], brian["spike_i"])
    np.testing.assert_allclose(lems["spike_t"], brian["spike_t"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(lems["rate"], brian["rate"], rtol=1e-9)
    assert len(brian["spike_t"]) > 10


# ------------------------------------------------------------------ NEURON
def _compare_with_neuron(brian, nrn, spiking, quiet, variables, threshold=10e-3, dt=DT,
                         shift=2):
    """``shift``: NEURON's lag in steps, see the module's docstring (for a network, the
    spike-time tolerance: NEURON's effect of a spike arrives later along each hop)."""
    dt = float(dt)
    for index in spiking + quiet:
        b_times = brian["spike_t"][brian["spike_i"] == index]
        n_times = nrn["spike_t"][nrn["spike_i"] == index]
        assert len(b_times) == len(n_times), index
        np.testing.assert_allclose(n_times, b_times, rtol=0, atol=0.5e-3)
    assert not any(np.isin(quiet, brian["spike_i"]))
    length = len(nrn["t"])
    np.testing.assert_array_equal(nrn["t"], brian["t"][:length])
    for variable in variables:
        b_values, n_values = brian["values"][variable], nrn["values"][variable]
        for row, index in enumerate(brian["record"]):
            span = np.ptp(b_values[row][:length]) or 1.0
            # Brian's run goes on past the end, so that the last samples have a window too
            padded = np.pad(b_values[row], (shift, 0), mode="edge")
            # every sample of NEURON against Brian's samples within `shift` steps of it
            nearest = np.min([np.abs(n_values[row] - padded[d:d + length])
                              for d in range(2 * shift + 1)], axis=0)
            # except at NEURON's spikes, where v is still above the threshold:
            # by less than one step's rise
            spiked = np.rint(nrn["spike_t"][nrn["spike_i"] == index] / dt).astype(int)
            spiked = spiked[spiked < len(n_values[row])]
            if variable == "v":
                rise = np.max(np.diff(b_values[row][:length]))
                assert np.all(n_values[row][spiked] > threshold)
                assert np.all(n_values[row][spiked] < threshold + rise)
                nearest[spiked] = 0
            assert nearest.max() <= 0.02 * span, (variable, row, nearest.argmax())
            assert np.median(np.abs(n_values[row] - b_values[row][:length])) <= 0.02 * span


def test_neuron_runs_the_lif_model_like_brian(tmp_path):
    _skip_without("neuron")
    brian = _brian(_lif, "euler", extra=1 * ms)
    brian["record"] = [0, 1, 7]
    nrn = _exported(_lif, tmp_path, simulate="neuron")
    _compare_with_neuron(brian, nrn, spiking=[1, 2, 3, 5, 6, 7], quiet=[0, 4],
                         variables=["v"])
    # the rate of cells 2..5, from the file the SpikeMonitor shares
    in_rate = (nrn["spike_i"] >= 2) & (nrn["spike_i"] < 6)
    assert nrn["rate"].sum() * 4 * float(DT) == pytest.approx(np.count_nonzero(in_rate))
    assert brian["rate"].sum() == pytest.approx(nrn["rate"].sum())


def test_neuron_runs_a_second_state_variable_like_brian(tmp_path):
    _skip_without("neuron")
    # NEURON integrates w exactly (cnexp): compared with Brian's exact solution
    brian = _brian(_adaptive, "linear", extra=1 * ms)
    brian["record"] = [0, 2]
    nrn = _exported(_adaptive, tmp_path, simulate="neuron")
    _compare_with_neuron(brian, nrn, spiking=[0, 1, 2], quiet=[], variables=["v", "w"])


def test_netpyne_on_two_mpi_ranks_fills_the_monitors_like_neuron(tmp_path):
    _skip_without("neuron")
    _skip_without("netpyne")
    (tmp_path / "neuron").mkdir()
    (tmp_path / "netpyne").mkdir()
    nrn = _exported(_lif, tmp_path / "neuron", simulate="neuron")
    mpi = _exported(_lif, tmp_path / "netpyne", simulate="netpyne", ranks=2)
    # the same spikes, whichever process simulated which cell
    np.testing.assert_array_equal(mpi["spike_i"], nrn["spike_i"])
    np.testing.assert_allclose(mpi["spike_t"], nrn["spike_t"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(mpi["rate"], nrn["rate"])
    assert len(mpi["spike_t"]) > 10
    # traces equal NEURON's but where NetPyNE already shows the reset at a spike
    # (the order of events at the same time)
    spiked = np.rint(nrn["spike_t"] / float(DT)).astype(int)
    same = np.isclose(mpi["values"]["v"], nrn["values"]["v"], rtol=0, atol=1e-8)
    for row, index in enumerate([0, 1, 7]):
        differ = np.flatnonzero(~same[row])
        assert set(differ) <= set(spiked[nrn["spike_i"] == index]), index


# ------------------------------------------------------------------ networks
def _feedforward(method="linear", duration=60 * ms, held=False):
    """
    Two pacemakers driving three cells through current synapses (strong enough that
    each input spike makes the targets fire: small timing differences do not grow).

    With dt = 0.05 ms: NEURON detects a spike a step or two after Brian and delivers
    its effect a step later, about four steps along a synaptic hop, and 0.5 ms is
    the tolerance of the spike times.
    """
    start_scope()
    defaultclock.dt = 0.05 * ms
    drivers = NeuronGroup(2, "dv/dt = (v0 - v)/(10*ms) : volt\nv0 : volt",
                          threshold="v > 10*mV", reset="v = 0*mV", method=method,
                          name="drivers")
    drivers.v0 = [15, 25] * mV
    if held:
        cells = NeuronGroup(3, """dv/dt = (ge - v)/(10*ms) : volt (unless refractory)
                                  dge/dt = -ge/(5*ms) : volt""",
                            threshold="v > 5*mV", reset="v = -2*mV", refractory=4 * ms,
                            method=method, name="cells")
    else:
        cells = NeuronGroup(3, """dv/dt = (ge - v)/(10*ms) : volt
                                  dge/dt = -ge/(5*ms) : volt""",
                            threshold="v > 5*mV", reset="v = 0*mV", method=method,
                            name="cells")
    excitation = Synapses(drivers, cells, "w : volt", on_pre="ge += w", delay=1 * ms,
                          name="excitation")
    excitation.connect()
    excitation.w = "(12 + i + j)*mV"
    state = StateMonitor(cells, "v", record=True, name="cells_v")
    spikes = SpikeMonitor(cells, name="cells_spikes")
    driver_spikes = SpikeMonitor(drivers, name="drivers_spikes")
    run(duration)
    return state, spikes, driver_spikes


def _network_copies(state, spikes, driver_spikes):
    copies = _copies(state, spikes)
    copies["driver_t"] = np.array(driver_spikes.t[:])
    copies["driver_i"] = np.array(driver_spikes.i[:])
    return copies


def _exported_network(folder, build=None, **options):
    build = build or _feedforward
    folder.mkdir(exist_ok=True)
    set_device("neuroml2", filename=str(folder / f"{build.__name__[1:]}.xml"), **options)
    try:
        return _network_copies(*build())
    finally:
        reinit_and_delete()
        set_device("runtime")


def test_current_synapses_and_one_projection_per_pair_of_populations(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "net.xml"), portable=True)
    monitors = _feedforward(duration=1 * ms)  # noqa: F841
    reinit_and_delete()
    set_device("runtime")
    root = ET.parse(tmp_path / "net.xml").getroot()
    types = {t.get("name"): t for t in root.iter("ComponentType")}
    synapse = types["excitation_pre_synapse"]
    assert synapse.get("extends") == "baseCurrentBasedSynapse"
    current = next(d for d in synapse.iter("DerivedVariable") if d.get("name") == "i")
    assert current.get("value") == "neuron_C * (ge__k * ge__state)"
    constants = {c.get("name"): c.get("value") for c in synapse.iter("Constant")}
    assert constants["neuron_C"] == "1 nF" and constants["ge__k"] == "100 per_s"
    cell = types["cells_cell"]
    derivative = next(d for d in cell.iter("TimeDerivative") if d.get("variable") == "v")
    assert derivative.get("value").endswith("+ iSyn / neuron_C")
    assert "ge__total" not in ET.tostring(cell, encoding="unicode")
    assert next(cell.iter("Attachments")).get("type") == "basePointCurrent"
    # the drivers differ (v0): two populations, so two projections onto the cells
    projections = root.findall("network/projection")
    assert [(p.get("presynapticPopulation"), p.get("postsynapticPopulation"))
            for p in projections] == [("drivers__0", "cells__0"), ("drivers__1", "cells__0")]
    text = (tmp_path / "net.xml").read_text()
    assert text.count("<connectionWD ") == 6
    assert 'preCellId="../drivers__1[0]" postCellId="../cells__0[2]"' in text


@pytest.mark.parametrize("equations, on_pre, fragment", [
    ("dv/dt = (ge**2/mV - v)/(10*ms) : volt\ndge/dt = -ge/(5*ms) : volt", "ge += 1*mV",
     "non-linearly"),
    ("dv/dt = (ge - v)/tau_v : volt\ndge/dt = -ge/(5*ms) : volt\ntau_v : second",
     "ge += 1*mV", "depends on tau_v"),
    ("dv/dt = -v/(10*ms) : volt", "v += 1*mV", "changes a variable of the neurons directly"),
])
def test_synapses_neuron_cannot_run_are_refused_by_name(tmp_path, equations, on_pre, fragment):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), portable=True)
    group = NeuronGroup(2, equations, threshold="v > 10*mV", reset="v = 0*mV",
                        method="euler", name="targets")
    if "tau_v" in equations:
        group.tau_v = 10 * ms
    synapses = Synapses(group, group, on_pre=on_pre, name="recurrent")
    synapses.connect("i != j")
    with pytest.raises(UnsupportedFeatureError, match=fragment):
        run(1 * ms)


def test_jneuroml_runs_the_portable_network_like_brian(tmp_path):
    _skip_without("jneuroml")
    start_scope()
    # the default form in jNeuroML takes Brian's steps of the script's method ('linear')
    brian = _network_copies(*_feedforward(method="linear"))
    reinit_and_delete()
    lems = _exported_network(tmp_path / "lems", simulate="jneuroml")
    np.testing.assert_array_equal(lems["spike_i"], brian["spike_i"])
    np.testing.assert_allclose(lems["spike_t"], brian["spike_t"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(lems["values"]["v"], brian["values"]["v"], rtol=0, atol=1e-8)
    assert len(brian["spike_t"]) > 30


def test_neuron_and_netpyne_on_two_ranks_run_the_network_like_brian(tmp_path):
    _skip_without("neuron")
    start_scope()
    brian = _network_copies(*_feedforward(method="linear"))
    reinit_and_delete()
    nrn = _exported_network(tmp_path / "neuron", simulate="neuron")
    for times, indices in (("spike_t", "spike_i"), ("driver_t", "driver_i")):
        for index in np.unique(brian[indices]):
            b_times = brian[times][brian[indices] == index]
            n_times = nrn[times][nrn[indices] == index]
            assert len(n_times) == len(b_times), (indices, index)
            np.testing.assert_allclose(n_times, b_times, rtol=0, atol=0.5e-3)
    if engine_available("netpyne") is None:
        mpi = _exported_network(tmp_path / "netpyne", simulate="netpyne", ranks=2)
        np.testing.assert_array_equal(mpi["spike_i"], nrn["spike_i"])
        np.testing.assert_allclose(mpi["spike_t"], nrn["spike_t"], rtol=0, atol=1e-9)
        np.testing.assert_array_equal(mpi["driver_i"], nrn["driver_i"])


def _stimulated(method="linear", duration=40 * ms):
    """A SpikeGeneratorGroup driving cells through current synapses."""
    start_scope()
    defaultclock.dt = 0.05 * ms
    stimulus = SpikeGeneratorGroup(3, [0, 1, 2, 0, 2], [2, 5, 5, 12, 20] * ms, name="stimulus")
    cells = NeuronGroup(2, """dv/dt = (ge - v)/(10*ms) : volt
                              dge/dt = -ge/(5*ms) : volt""",
                        threshold="v > 5*mV", reset="v = 0*mV", method=method, name="cells")
    excitation = Synapses(stimulus, cells, on_pre="ge += 15*mV", delay=0.5 * ms,
                          name="excitation")
    excitation.connect()
    state = StateMonitor(cells, "v", record=True, name="cells_v")
    spikes = SpikeMonitor(cells, name="cells_spikes")
    stimulus_spikes = SpikeMonitor(stimulus, name="stimulus_spikes")
    run(duration)
    return state, spikes, stimulus_spikes


def test_spike_generators_are_standard_populations_and_run_in_both_engines(tmp_path):
    _skip_without("jneuroml")
    brian_euler = _network_copies(*_stimulated(method="euler"))
    reinit_and_delete()
    brian = _network_copies(*_stimulated(method="linear"))
    reinit_and_delete()
    results = {}
    for engine in ("jneuroml", "neuron"):
        if engine_available(engine) is not None:
            continue
        folder = tmp_path / engine
        folder.mkdir()
        set_device("neuroml2", filename=str(folder / "stimulated.xml"), simulate=engine,
                   portable=True)
        try:
            results[engine] = _network_copies(*_stimulated())
        finally:
            reinit_and_delete()
            set_device("runtime")
    root = ET.parse(tmp_path / "jneuroml" / "stimulated.xml").getroot()
    # every generator cell has its own spikes: three spikeArray components
    arrays = [c for c in root.iter("Component") if c.get("type") == "spikeArray"]
    assert [a.get("id") for a in arrays] == [f"stimulus__cell{k}" for k in range(3)]
    assert [p.get("id") for p in root.iter("population")][-3:] == [
        f"stimulus__{k}" for k in range(3)]
    lems = results["jneuroml"]
    np.testing.assert_array_equal(lems["spike_i"], brian_euler["spike_i"])
    np.testing.assert_allclose(lems["spike_t"], brian_euler["spike_t"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(lems["driver_i"], brian_euler["driver_i"])
    np.testing.assert_allclose(lems["driver_t"], brian_euler["driver_t"], rtol=0, atol=1e-9)
    assert len(brian["spike_t"]) >= 4
    if "neuron" in results:
        nrn = results["neuron"]
        for index in np.unique(brian["spike_i"]):
            np.testing.assert_allclose(nrn["spike_t"][nrn["spike_i"] == index],
                                       brian["spike_t"][brian["spike_i"] == index],
                                       rtol=0, atol=0.5e-3)
        np.testing.assert_array_equal(np.sort(nrn["driver_i"]), np.sort(brian["driver_i"]))


def _chaotic(method="euler", duration=200 * ms):
    """A recurrent excitatory-inhibitory network driven by Poisson spikes (CUBA: its
    refractoriness and random initial v, so one population whose cells keep their own
    initial values; every synapse with a delay of 1 ms, as NEURON needs between MPI
    ranks)."""
    start_scope()
    seed(4)
    defaultclock.dt = DT
    namespace = {"taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms, "El": -49 * mV,
                 "Vt": -50 * mV, "Vr": -60 * mV}
    cells = NeuronGroup(500, """dv/dt = (ge + gi - (v - El))/taum : volt (unless refractory)
                                dge/dt = -ge/taue : volt
                                dgi/dt = -gi/taui : volt""",
                        threshold="v > Vt", reset="v = Vr", refractory=5 * ms, method=method,
                        namespace=namespace, name="P")
    cells.v = "Vr + rand() * (Vt - Vr)"
    drive = PoissonGroup(500, 20 * Hz, name="drive")
    inputs = Synapses(drive, cells, on_pre="ge += 4*mV", delay=1 * ms, name="inputs")
    inputs.connect(j="i")
    excitation = Synapses(cells, cells, on_pre="ge += 1.62*mV", delay=1 * ms,
                          name="excitation")
    excitation.connect("i < 400", p=0.05)
    inhibition = Synapses(cells, cells, on_pre="gi -= 9*mV", delay=1 * ms, name="inhibition")
    inhibition.connect("i >= 400", p=0.05)
    spikes = SpikeMonitor(cells, name="P_spikes")
    run(duration, namespace=namespace)
    return int(spikes.num_spikes)


def test_a_chaotic_network_fires_at_brians_rate_in_neuron_and_on_two_mpi_ranks(tmp_path):
    _skip_without("neuron")
    brian = _chaotic()
    reinit_and_delete()
    counts = {}
    for engine, options in (("neuron", {}), ("netpyne", {"ranks": 2})):
        if engine_available(engine) is not None:
            continue
        (tmp_path / engine).mkdir()
        set_device("neuroml2", filename=str(tmp_path / engine / "chaotic.xml"),
                   simulate=engine, **options)
        try:
            counts[engine] = _chaotic()
        finally:
            reinit_and_delete()
            set_device("runtime")
    assert brian > 500  # about 11 Hz
    # Poisson drive from each engine's own random numbers: rates within 15%
    for engine, count in counts.items():
        assert abs(count - brian) <= 0.15 * brian, (engine, count, brian)


def test_sharing_the_linear_synapses_of_a_cell_changes_nothing_in_neuron(tmp_path):
    _skip_without("neuron")
    set_device("neuroml2", filename=str(tmp_path / "feedforward.xml"), portable=True)
    monitors = _feedforward()  # noqa: F841
    reinit_and_delete()
    set_device("runtime")
    model = tmp_path / "feedforward.xml"
    recordings = {}
    # jNeuroML's script as written; synapses shared; and the connections read from the
    # export instead of jNeuroML's script, as loops over tables (with and without sharing)
    variants = ((False, False), (True, False), (False, True), (True, True))
    for shared, compact in variants:
        run = simulate(model, "neuron", linear_synapses=shared, compact_script=compact)
        assert ("synapses merged" in run.log) == (shared and not compact)
        assert ("written as loops" in run.log) == compact
        assert ("6 connections of 2 projections read from the export" in run.log) == compact
        recordings[shared, compact] = load_recordings(model)
        if compact:  # jNeuroML was given one connection per projection, now deleted
            assert not list(tmp_path.glob("*__b2t_neuron*"))
            script = (tmp_path / "feedforward_neuron" / "feedforward_nrn.py").read_text()
            assert script.count("= new excitation_pre(0.5)") == 0
            assert 'objectvar syn_excitation_pre_projection__0_excitation_pre[3]' in script
    script = (tmp_path / "feedforward_neuron" / "feedforward_nrn.py").read_text()
    # every connection's NetCon is made by the loop (those left record spikes)
    assert "_b2t_netcons(h, " in script
    assert re.search(r'h\("\w+\[\d+\] netConn_', script) is None
    for name in ("cells_v", "cells_spikes"):
        for key, values in recordings[False, False][name].items():
            for shared, compact in variants[1:]:
                # jNeuroML's script rounds weights and delays to single precision
                # (1.0769230769230769 -> 1.0769231); the export's are Brian's: the
                # traces then differ in the 7th digit, never by a step
                atol = 1e-8 if compact and name == "cells_v" else 1e-12
                np.testing.assert_allclose(np.asarray(recordings[shared, compact][name][key]),
                                           np.asarray(values), rtol=0, atol=atol)


def _held(method="linear", duration=60 * ms):
    """
    The feed-forward network with CUBA's refractoriness: the targets' ``v`` is held
    for 4 ms after each spike while their synapses go on receiving and decaying.
    """
    return _feedforward(method, duration, held=True)


def test_synaptic_currents_stop_while_the_cell_is_refractory(tmp_path):
    _skip_without("jneuroml")
    start_scope()
    # jNeuroML takes forward Euler steps of the portable form's equations
    brian_euler = _network_copies(*_held(method="euler"))
    reinit_and_delete()
    brian = _network_copies(*_held(method="linear"))
    reinit_and_delete()
    lems = _exported_network(tmp_path / "lems", _held, simulate="jneuroml", portable=True)
    root = ET.parse(tmp_path / "lems" / "held.xml").getroot()
    synapse = next(t for t in root.iter("ComponentType")
                   if t.get("name") == "excitation_pre_synapse")
    assert [r.get("name") for r in synapse.iter("Requirement")] == ["not_refractory"]
    current = next(d for d in synapse.iter("DerivedVariable") if d.get("name") == "i")
    assert current.get("value").startswith("not_refractory * ")
    # jNeuroML: Brian's spikes and every sample, the held ones included
    np.testing.assert_array_equal(lems["spike_i"], brian_euler["spike_i"])
    np.testing.assert_allclose(lems["spike_t"], brian_euler["spike_t"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(lems["values"]["v"], brian_euler["values"]["v"], rtol=0,
                               atol=1e-8)
    dt = 0.05e-3
    held = 0
    for index in range(3):
        for time in brian["spike_t"][brian["spike_i"] == index]:
            # input goes on arriving while v is held: ge is far from zero
            start = int(round(time / dt)) + 1
            window = brian["values"]["v"][index][start:start + 78]
            assert np.all(window == -2e-3), (index, time)
            held += 1
    assert held >= 15
    if engine_available("neuron") is not None:
        return
    nrn = _exported_network(tmp_path / "neuron", _held, simulate="neuron")
    held_brian = _network_copies(*_held(method="linear", duration=61 * ms))
    reinit_and_delete()
    recorded = held_brian["spike_t"] < 60e-3
    held_brian["spike_t"] = held_brian["spike_t"][recorded]
    held_brian["spike_i"] = held_brian["spike_i"][recorded]
    held_brian["record"] = [0, 1, 2]
    # every spike, and every sample against Brian's within the spike-time tolerance
    # (0.5 ms: ten of this network's steps)
    _compare_with_neuron(held_brian, nrn, spiking=[0, 1, 2], quiet=[], variables=["v"],
                         threshold=5e-3, dt=0.05 * ms, shift=10)
    for index in range(3):
        b_times = brian["spike_t"][brian["spike_i"] == index]
        n_times = nrn["spike_t"][nrn["spike_i"] == index]
        assert len(n_times) == len(b_times), index
        np.testing.assert_allclose(n_times, b_times, rtol=0, atol=0.5e-3)
        # NEURON holds v too, exactly, for the refractory period after its reset
        for time in n_times:
            start = int(round(time / dt)) + 2
            window = nrn["values"]["v"][index][start:start + 76]
            np.testing.assert_allclose(window, -2e-3, rtol=0, atol=1e-12)
    if engine_available("netpyne") is None:
        mpi = _exported_network(tmp_path / "netpyne", _held, simulate="netpyne", ranks=2)
        np.testing.assert_array_equal(mpi["spike_i"], nrn["spike_i"])
        np.testing.assert_allclose(mpi["spike_t"], nrn["spike_t"], rtol=0, atol=1e-9)


def _scattered(method="linear", duration=60 * ms):
    """
    Sixty LIF cells that differ only in their random initial ``v`` (more sets of values
    than MAX_VALUE_POPULATIONS): each cell's first spike time depends on its own value.
    """
    start_scope()
    seed(11)
    defaultclock.dt = DT
    group = NeuronGroup(60, "dv/dt = (20*mV - v) / (10*ms) : volt (unless refractory)",
                        threshold="v > 10*mV", reset="v = 0*mV", refractory=5 * ms,
                        method=method, name="scattered")
    group.v = "rand() * 10*mV"
    spikes = SpikeMonitor(group, name="scattered_spikes")
    state = StateMonitor(group, "v", record=[0, 59], name="scattered_v")
    run(duration)
    return state, spikes


def test_random_initial_values_share_a_population_and_reach_every_cell(tmp_path):
    from brian2tools.nmlexport.portable import INITIAL_TAG, MAX_VALUE_POPULATIONS

    _skip_without("jneuroml")
    brian = _copies(*_scattered(method="linear"))
    reinit_and_delete()
    start_scope()
    seed(11)
    expected_v = np.array(_initial_v_of_scattered())
    assert len(np.unique(expected_v)) == 60 > MAX_VALUE_POPULATIONS
    (tmp_path / "file").mkdir()
    set_device("neuroml2", filename=str(tmp_path / "file" / "scattered.xml"), portable=True)
    try:
        monitors = _scattered()  # noqa: F841 -- exported, not simulated
    finally:
        reinit_and_delete()
        set_device("runtime")
    root = ET.parse(tmp_path / "file" / "scattered.xml").getroot()
    populations = list(root.iter("population"))
    assert [p.get("id") for p in populations] == ["scattered__0"]
    assert populations[0].get("size") == "60"
    prop = populations[0].find("property")
    assert prop.get("tag") == INITIAL_TAG + "v_init"
    # every cell's value, exactly Brian's float, in Brian's order
    np.testing.assert_array_equal(np.array(prop.get("value").split(), dtype=float), expected_v)
    # jNeuroML would start every cell from the component's value: refused, with the way out
    with pytest.raises(ValueError, match="without portable=True"):
        simulate(tmp_path / "file" / "scattered.xml", "jneuroml")
    # the default form runs in jNeuroML with every cell's value (Euler steps of 'linear'
    # are Brian's exact ones, see test_nmlexport_methods)
    (tmp_path / "lems").mkdir()
    lems = _exported(_scattered, tmp_path / "lems", simulate="jneuroml")
    np.testing.assert_array_equal(lems["spike_i"], brian["spike_i"])
    np.testing.assert_allclose(lems["spike_t"], brian["spike_t"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(lems["values"]["v"], brian["values"]["v"], rtol=0, atol=1e-8)
    if engine_available("neuron") is not None:
        return
    (tmp_path / "neuron").mkdir()
    nrn = _exported(_scattered, tmp_path / "neuron", simulate="neuron")
    # NEURON's step of this mechanism is a forward Euler step (see
    # test_neuron_runs_the_lif_model_like_brian); Brian's run goes on for 1 ms
    brian_euler = _brian(_scattered, "euler", extra=1 * ms)
    brian_euler["record"] = [0, 59]
    assert len(brian_euler["spike_t"]) > 200
    # every cell's spikes, and every sample of the recorded traces
    _compare_with_neuron(brian_euler, nrn, spiking=list(range(60)), quiet=[], variables=["v"])
    # the first sample is each cell's own initial value (cell 59's differs from the
    # component's, which is cell 0's), to the digits NEURON's script writes
    np.testing.assert_allclose(nrn["values"]["v"][:, 0], expected_v[[0, 59]], rtol=1e-6)
    assert abs(expected_v[59] - expected_v[0]) > 1e-3
    if engine_available("netpyne") is None:
        (tmp_path / "netpyne").mkdir()
        mpi = _exported(_scattered, tmp_path / "netpyne", simulate="netpyne", ranks=2)
        np.testing.assert_array_equal(mpi["spike_i"], nrn["spike_i"])
        np.testing.assert_allclose(mpi["spike_t"], nrn["spike_t"], rtol=0, atol=1e-9)
        # NetPyNE has no sample at the end time (see netpyne_engine); the others equal
        # NEURON's but where NetPyNE already shows a reset at a spike
        count = mpi["values"]["v"].shape[1]
        spiked = np.rint(nrn["spike_t"] / float(DT)).astype(int)
        for row, index in enumerate([0, 59]):
            same = np.isclose(mpi["values"]["v"][row], nrn["values"]["v"][row][:count],
                              rtol=0, atol=1e-8)
            assert set(np.flatnonzero(~same)) <= set(spiked[nrn["spike_i"] == index]), index


def _initial_v_of_scattered():
    group = NeuronGroup(60, "v : volt")
    group.v = "rand() * 10*mV"
    return np.array(group.v[:])
