"""
Custom events, values recorded at event times, the thresholds slot and
monitors created between runs, exported to NeuroML/LEMS and simulated in jNeuroML.

Each model is simulated by Brian (runtime device, numpy) and by jNeuroML
through ``set_device('neuroml2', ..., simulate='jneuroml')``; the script's
monitors must hold the same recordings: every sample, every event time and
index, every value recorded at an event. What the portable (NEURON) form
does not verify is refused there by name.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from brian2 import (
    EventMonitor,
    Hz,
    NeuronGroup,
    PoissonGroup,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    defaultclock,
    ms,
    prefs,
    run,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete
from nml_helpers import monitor_data, needs_jneuroml

import brian2tools.nmlexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.baseexport import UnsupportedFeatureError
from brian2tools.nmlexport import NMLExporter

#: jNeuroML writes about 7 significant digits
_DIGITS = 1e-6




def _brian_and_jneuroml(build, folder):
    """The recordings of ``build()`` (which returns its monitors) in Brian and in jNeuroML."""
    prefs.codegen.target = "numpy"
    reinit_and_delete()
    set_device("runtime")
    start_scope()
    brian = monitor_data(build())
    reinit_and_delete()
    set_device("neuroml2", filename=str(folder / "model.xml"), simulate="jneuroml")
    try:
        start_scope()
        exported = monitor_data(build())
    finally:
        reinit_and_delete()
        set_device("runtime")
    return brian, exported


def _same_recordings(brian, exported, scales):
    """Every sample, event and value of every monitor, within jNeuroML's digits."""
    assert brian.keys() == exported.keys()
    for name, data in brian.items():
        assert exported[name].keys() == data.keys(), name
        np.testing.assert_allclose(exported[name]["t"], data["t"], rtol=0, atol=1e-9,
                                   err_msg=f"{name}.t")
        for variable, values in data.items():
            if variable == "t":
                continue
            if variable in ("i", "count"):
                np.testing.assert_array_equal(exported[name][variable], values,
                                              err_msg=f"{name}.{variable}")
                continue
            assert exported[name][variable].shape == values.shape, f"{name}.{variable}"
            np.testing.assert_allclose(exported[name][variable], values, rtol=0,
                                       atol=_DIGITS * scales[variable],
                                       err_msg=f"{name}.{variable}")


def _export_text(build, **options) -> str:
    """The LEMS text of ``build()``'s runs (exporter device, no simulation)."""
    prefs.codegen.target = "numpy"
    reinit_and_delete()
    set_device("exporter")
    try:
        start_scope()
        build()
        from brian2 import device

        exporter = NMLExporter()
        exporter.create_lems_model(device.runs, **options)
        return exporter.to_xml()
    finally:
        reinit_and_delete()
        set_device("runtime")


# ---------------------------------------------------------------------- #
# Custom events
# ---------------------------------------------------------------------- #
def _custom_event():
    defaultclock.dt = 0.1 * ms
    group = NeuronGroup(5, """dv/dt = (1.2 - v)/(10*ms) : 1
                              dca/dt = -ca/(50*ms) : 1""",
                        threshold="v > 1", reset="v = 0",
                        events={"high": "v > 0.8 and ca < 1"}, method="euler", name="cells")
    group.run_on_event("high", "ca += 0.1")
    group.v = "0.2 * i"
    high = EventMonitor(group, "high", name="high")
    high_values = EventMonitor(group, "high", variables=["v", "ca"], name="high_values")
    spikes = SpikeMonitor(group, name="spikes")
    state = StateMonitor(group, ["v", "ca"], record=True, name="state")
    run(60 * ms)
    return {"high": high, "high_values": high_values, "spikes": spikes, "state": state}


@needs_jneuroml
def test_custom_event_every_sample_and_event(tmp_path):
    brian, exported = _brian_and_jneuroml(_custom_event, tmp_path)
    assert len(brian["high"]["t"]) > 20 and len(brian["spikes"]["t"]) > 0
    _same_recordings(brian, exported, {"v": 1, "ca": 1})


def test_custom_event_written_as_port_and_handlers():
    root = ET.fromstring(_export_text(_custom_event))
    cell = next(t for t in root.iter("ComponentType") if t.get("name") == "cells_cell")
    assert {p.get("name"): p.get("direction") for p in cell.iter("EventPort")} == \
        {"spike": "out", "high": "out"}
    # the EventMonitor selects the cells' port 'high'; the SpikeMonitor their spikes
    files = {f.get("id"): f for f in root.iter("EventOutputFile")}
    assert [s.get("eventPort") for s in files["high"]] == ["high"] * 5
    assert [s.get("eventPort") for s in files["spikes"]] == ["spike"] * 5
    # handlers in Brian's order: the copy of the reset's target before the spike's test
    # and reset, then the event's condition (reading the copy), then its code
    handlers = [h for h in cell.iter("OnCondition")]
    actions = [(a.get("variable") or a.get("port"), a.get("value"))
               for h in handlers for a in h]
    assert actions.index(("v__thresholds", "v")) < actions.index(("spike", None)) \
        < actions.index(("high__fired", "1")) < actions.index(("ca", "ca + (0.1)")) \
        < actions.index(("high", None))
    fired = next(h for h in handlers if h[0].get("value") == "1"
                 and h[0].get("variable") == "high__fired")
    assert fired.get("test") == "(v__thresholds .gt. 0.8) .and. (ca__thresholds .lt. 1)"


def _refractory_event():
    defaultclock.dt = 0.1 * ms
    # the event is not blocked by refractoriness; 'spike' and 'a_low' read not_refractory
    group = NeuronGroup(3, """dv/dt = (20*mV - v)/(5*ms) : volt (unless refractory)
                              dn/dt = -n/(20*ms) : 1""",
                        threshold="v > 10*mV", reset="v = 0*mV", refractory=2 * ms,
                        events={"above": "v > 5*mV", "a_low": "not not_refractory and n < 50"},
                        method="euler", name="cells")
    group.run_on_event("above", "n += 0.1")
    group.run_on_event("a_low", "v += 0.1*mV")
    group.v = "3*mV * i"
    above = EventMonitor(group, "above", variables="n", name="above")
    low = EventMonitor(group, "a_low", name="low")
    spikes = SpikeMonitor(group, variables=["v", "n"], name="spikes")
    state = StateMonitor(group, ["v", "n"], record=True, name="state")
    run(30 * ms)
    return {"above": above, "low": low, "spikes": spikes, "state": state}


@needs_jneuroml
def test_custom_events_with_refractoriness(tmp_path):
    brian, exported = _brian_and_jneuroml(_refractory_event, tmp_path)
    assert len(brian["low"]["t"]) > 0 and len(brian["above"]["t"]) > len(brian["spikes"]["t"])
    _same_recordings(brian, exported, {"v": 0.01, "n": 10})


def test_event_code_in_another_slot_is_refused():
    def build():
        group = NeuronGroup(2, "dv/dt = (1.2 - v)/(5*ms) : 1", threshold="v > 1",
                            reset="v = 0", events={"half": "v > 0.5"}, name="cells")
        group.run_on_event("half", "v += 0.01", when="resets")
        run(1 * ms)
        return group

    with pytest.raises(UnsupportedFeatureError,
                       match="'cells'.*code of the custom event 'half' in the 'resets' slot"):
        _export_text(build)


def test_custom_event_refused_in_portable_form():
    with pytest.raises(UnsupportedFeatureError,
                       match="custom event 'high' in the portable"):
        _export_text(_custom_event, portable=True)


# ---------------------------------------------------------------------- #
# Values at spike times and in the thresholds slot
# ---------------------------------------------------------------------- #
def _spike_variables():
    defaultclock.dt = 0.1 * ms
    group = NeuronGroup(5, """dv/dt = (1.5 - v)/(10*ms) : 1
                              dadapt/dt = -adapt/(30*ms) : 1
                              drive = 2*v + adapt : 1""",
                        threshold="v > 1 + adapt", reset="v = 0; adapt += 0.1",
                        method="euler", name="cells")
    group.v = "0.2 * i"
    spikes = SpikeMonitor(group, variables=["adapt", "v", "drive"], name="spikes")
    states = StateMonitor(group, ["v", "adapt", "drive"], record=[0, 3], when="thresholds",
                          name="states")
    starts = StateMonitor(group, "v", record=[0, 3], name="starts")
    run(80 * ms)
    return {"spikes": spikes, "states": states, "starts": starts}


@needs_jneuroml
def test_spike_variables_and_thresholds_slot_every_value(tmp_path):
    brian, exported = _brian_and_jneuroml(_spike_variables, tmp_path)
    assert len(brian["spikes"]["t"]) > 10
    # Brian records before the reset: the values at the spikes are above threshold
    assert np.all(brian["spikes"]["v"] > 1 + brian["spikes"]["adapt"])
    assert np.any(brian["states"]["v"] > 1)
    _same_recordings(brian, exported, {"v": 1, "adapt": 1, "drive": 3})


def _values_with_synapses():
    defaultclock.dt = 0.1 * ms
    # Brian's synapses act after the thresholds slot: a value recorded at a spike, or in
    # the thresholds slot, does not include what arrives in that step
    source = NeuronGroup(2, "dv/dt = (1.3 - v)/(4*ms) : 1", threshold="v > 1", reset="v = 0",
                         method="euler", name="source")
    source.v = "0.4 * i"
    target = NeuronGroup(3, """dv/dt = (0.9 - v)/(10*ms) : 1
                               dw/dt = -w/(20*ms) : 1""",
                         threshold="v > 1", reset="v = 0; w += 0.5",
                         events={"busy": "w > 0.6"}, method="euler", name="target")
    target.run_on_event("busy", "v -= 0.01")
    synapses = Synapses(source, target, on_pre="v += 0.15", name="synapses")
    synapses.connect()
    spikes = SpikeMonitor(target, variables=["v", "w"], name="spikes")
    busy = EventMonitor(target, "busy", variables="v", name="busy")
    states = StateMonitor(target, ["v", "w"], record=True, when="thresholds", name="states")
    # (a 'start' recording lacks, at the step a synaptic event arrives, its effect: see
    # the network guide; the thresholds slot has it)
    run(40 * ms)
    return {"spikes": spikes, "busy": busy, "states": states}


@needs_jneuroml
def test_values_at_events_with_synapses(tmp_path):
    brian, exported = _brian_and_jneuroml(_values_with_synapses, tmp_path)
    assert len(brian["spikes"]["t"]) > 5 and len(brian["busy"]["t"]) > 5
    _same_recordings(brian, exported, {"v": 1, "w": 1})


def _sub_group_values():
    defaultclock.dt = 0.1 * ms
    group = NeuronGroup(6, """dv/dt = (1.3 - v)/(5*ms) : 1
                              dn/dt = -n/(10*ms) : 1""",
                        threshold="v > 1", reset="v = 0; n += 1", events={"up": "v > 0.5"},
                        method="euler", name="cells")
    group.v = "0.15 * i"
    group.run_on_event("up", "n += 0.01")
    up = EventMonitor(group[2:5], "up", variables=["n", "v"], name="up")
    spikes = SpikeMonitor(group[1:3], variables="n", name="spikes")
    states = StateMonitor(group[3:6], "n", record=[0, 2], when="thresholds", name="states")
    run(20 * ms)
    return {"up": up, "spikes": spikes, "states": states}


@needs_jneuroml
def test_values_at_events_of_sub_groups(tmp_path):
    brian, exported = _brian_and_jneuroml(_sub_group_values, tmp_path)
    assert set(brian["up"]["i"]) == {0, 1, 2} and set(brian["spikes"]["i"]) == {0, 1}
    _same_recordings(brian, exported, {"v": 1, "n": 10})


def test_values_at_spikes_of_a_spike_source_are_refused():
    def build():
        source = PoissonGroup(2, rates=100 * Hz, name="source")
        spikes = SpikeMonitor(source, variables="rates", name="spikes")
        run(1 * ms)
        return spikes

    with pytest.raises(UnsupportedFeatureError, match="'spikes'.*rates of 'source' at its "
                       "spike times"):
        _export_text(build)


def test_spike_variables_written_as_values_file():
    root = ET.fromstring(_export_text(_spike_variables))
    values = next(f for f in root.iter("OutputFile") if f.get("id") == "spikes__values")
    assert [c.get("quantity") for c in values.iter("OutputColumn")][:2] == \
        ["cells[0]/adapt__thresholds", "cells[1]/adapt__thresholds"]
    assert len(list(values.iter("OutputColumn"))) == 15
    states = next(f for f in root.iter("OutputFile") if f.get("id") == "states")
    assert [c.get("quantity") for c in states.iter("OutputColumn")][:2] == \
        ["cells[0]/v__thresholds", "cells[3]/v__thresholds"]


def test_thresholds_slot_refusals():
    def spike_state():
        group = NeuronGroup(1, "dv/dt = -v/(5*ms) : 1 (unless refractory)", threshold="v > 1",
                            reset="v = 0", refractory=1 * ms, name="cells")
        states = StateMonitor(group, "not_refractory", record=0, when="thresholds",
                              name="states")
        run(1 * ms)
        return states

    with pytest.raises(UnsupportedFeatureError,
                       match="'cells'.*recording of 'not_refractory' in the thresholds slot"):
        _export_text(spike_state)

    def other_slot():
        group = NeuronGroup(1, "dv/dt = -v/(5*ms) : 1", name="cells")
        states = StateMonitor(group, "v", record=0, when="resets", name="states")
        run(1 * ms)
        return states

    with pytest.raises(UnsupportedFeatureError, match="'states'.*'resets' slot"):
        _export_text(other_slot)

    def values_at_end():
        group = NeuronGroup(1, "dv/dt = (1.2 - v)/(5*ms) : 1", threshold="v > 1",
                            reset="v = 0", method="euler", name="cells")
        spikes = SpikeMonitor(group, variables="v", when="end", name="spikes")
        run(1 * ms)
        return spikes

    with pytest.raises(UnsupportedFeatureError, match="'spikes'.*v at event times in the "
                       "'end' slot"):
        _export_text(values_at_end)
    with pytest.raises(UnsupportedFeatureError, match="'states'.*'thresholds' slot in the "
                       "portable"):
        _export_text(_spike_variables, portable=True)


# ---------------------------------------------------------------------- #
# Monitors created between runs
# ---------------------------------------------------------------------- #
def _monitors_added():
    defaultclock.dt = 0.1 * ms
    group = NeuronGroup(4, """dv/dt = (I - v)/(10*ms) : 1
                              I : 1""",
                        threshold="v > 1", reset="v = 0", events={"half": "v > 0.5"},
                        method="euler", name="cells")
    group.v = "0.25 * i"
    group.I = 1.2
    first = SpikeMonitor(group, name="first")
    run(20 * ms)
    later = SpikeMonitor(group, variables="v", name="later")
    state = StateMonitor(group, "v", record=[1, 2], name="state")
    run(15 * ms)
    group.I = 1.6
    half = EventMonitor(group, "half", name="half")
    rate = PopulationRateMonitor(group, name="rate")
    run(10 * ms)
    return {"first": first, "later": later, "state": state, "half": half, "rate": rate}


@needs_jneuroml
def test_monitors_added_between_runs_keep_brians_window(tmp_path):
    brian, exported = _brian_and_jneuroml(_monitors_added, tmp_path)
    assert brian["later"]["t"].min() >= 0.020 and brian["half"]["t"].min() >= 0.035
    assert brian["state"]["t"][0] == pytest.approx(0.020)
    _same_recordings(brian, exported, {"v": 1, "rate": 1e4})
    text = (tmp_path / "model.xml").read_text()
    assert "later was created between runs, at t = 20. ms" in text


def _events_across_runs():
    defaultclock.dt = 0.1 * ms
    group = NeuronGroup(3, """dv/dt = (1.2 - v)/(8*ms) : 1
                              dc/dt = -c/(15*ms) : 1""",
                        threshold="v > 1", reset="v = 0", events={"over": "v > level"},
                        method="euler", name="cells", namespace={"level": 0.5})
    group.run_on_event("over", "c += 0.05")
    group.v = "0.3 * i"
    over = EventMonitor(group, "over", variables="c", name="over")
    run(15 * ms)
    group.namespace["level"] = 0.8  # the event's condition changes between runs
    group.c = 0
    states = StateMonitor(group, ["v", "c"], record=True, when="thresholds", name="states")
    run(15 * ms)
    return {"over": over, "states": states}


@needs_jneuroml
def test_custom_events_across_runs_with_changes(tmp_path):
    brian, exported = _brian_and_jneuroml(_events_across_runs, tmp_path)
    late = brian["over"]["t"] >= 0.015
    assert late.any() and (~late).any()
    _same_recordings(brian, exported, {"v": 1, "c": 1})


def test_monitor_added_refused_in_portable_form():
    def spikes_later():
        group = NeuronGroup(2, "dv/dt = (12*mV - v)/(10*ms) : volt", threshold="v > 10*mV",
                            reset="v = 0*mV", method="euler", name="cells")
        run(1 * ms)
        later = SpikeMonitor(group, name="later")
        run(1 * ms)
        return later

    with pytest.raises(UnsupportedFeatureError, match="'later'.*created between runs in the "
                       "portable"):
        _export_text(spikes_later, portable=True)

    def spike_values():
        group = NeuronGroup(2, "dv/dt = (12*mV - v)/(10*ms) : volt", threshold="v > 10*mV",
                            reset="v = 0*mV", method="euler", name="cells")
        spikes = SpikeMonitor(group, variables="v", name="spikes")
        run(1 * ms)
        return spikes

    with pytest.raises(UnsupportedFeatureError, match="'spikes'.*variables at event times in "
                       "the portable"):
        _export_text(spike_values, portable=True)
    assert "spikes__values" in _export_text(spike_values)
