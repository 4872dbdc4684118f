"""
Tests of the NeuroML export of networks: synapses, spike generators, Poisson
groups and inputs (brian2tools.nmlexport.network_export and its use by the
'neuroml2' device).

The fidelity tests export a network, simulate it with jNeuroML and with Brian
(runtime device, forward Euler, same dt) and compare: spike trains must be
identical up to jNeuroML's one-step delay in reporting them, and traces equal
within 1e-6 of their scale at every sample. Synapses with a delay of at least
one time step act in Brian's step. The events of synapses without a delay
reach the cell before the update of the next step (jNeuroML cannot deliver an
event within the step that emits it): the new state, and so the dynamics and
the spikes, are Brian's, but the value recorded at the arrival lacks exactly
the increment; the tests check that difference.
"""

import os
import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

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
    defaultclock,
    device,
    ms,
    mV,
    prefs,
    run,
    second,
    seed,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete
from nml_helpers import (
    finish_jneuroml,
    needs_jneuroml,
    severe_lines,
    start_jneuroml,
)

import brian2tools.nmlexport.lemsexport  # registers the 'neuroml2' device
from brian2tools.baseexport import UnsupportedFeatureError
from brian2tools.nmlexport import load_recordings
from brian2tools.nmlexport.network_export import (
    MAX_INCOMING_PORTS,
    MAX_PORTS_PER_PATHWAY,
    build_network_parts,
    delay_steps,
    lems_delays,
    spike_generator_times,
)
from brian2tools.nmlexport.units import parse_quantity

# until the 'neuroml2' device uses network_export, it refuses synapses and inputs
needs_network_device = pytest.mark.skipif(
    "build_network_parts" not in vars(brian2tools.nmlexport.lemsexport),
    reason="the 'neuroml2' device does not export networks yet")
DT = 0.1 * ms


# ------------------------------------------------------------------ helpers
def _export(build, folder, name="model", method="euler", **options):
    """Run ``build(method)`` under the 'neuroml2' device; returns the model file."""
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    model_file = os.path.join(folder, f"{name}.xml")
    start_scope()
    set_device("neuroml2", filename=model_file, **options)
    try:
        seed(1)
        defaultclock.dt = DT
        objects, duration = build(method)
        Network(objects).run(duration)
    finally:
        reinit_and_delete()
        set_device("runtime")
        prefs.codegen.target = "numpy"
    return model_file


def _simulate(build, random_seed=1, method="euler"):
    """Run ``build(method)`` with Brian; returns the objects by name."""
    start_scope()
    seed(random_seed)
    defaultclock.dt = DT
    objects, duration = build(method)
    Network(objects).run(duration)
    return {obj.name: obj for obj in objects}


def _missing_at_arrival(objects, additions, n_samples):
    """
    What jNeuroML's recording lacks at the arrival of events without a delay.

    ``additions``: ``{synapses name: increment}`` (a float, or one per synapse)
    for the recorded variable. A spike Brian emits at step n through a synapse
    without a delay changes the value recorded at step n + 1; jNeuroML adds it
    just after recording that sample. Returns ``{(cell, sample): total}``.
    """
    dt = float(DT)
    missing = {}
    for name, increment in additions.items():
        synapses = objects[name]
        source = getattr(synapses.source, "source", synapses.source)  # a subgroup's group
        start = getattr(synapses.source, "start", 0)
        monitor = next(obj for obj in objects.values() if isinstance(obj, SpikeMonitor)
                       and obj.source.name == source.name)
        steps = delay_steps(np.broadcast_to(np.asarray(synapses.delay[:]), (len(synapses),)),
                            dt)
        increments = np.broadcast_to(np.asarray(increment, dtype=float), (len(synapses),))
        i, j = np.asarray(synapses.i[:]), np.asarray(synapses.j[:]) + synapses.target.start
        for index, time in zip(monitor.i[:], monitor.t[:], strict=True):
            sample = int(round(float(time) / dt)) + 1
            for synapse in np.nonzero((i == index - start) & (steps == 0))[0]:
                if sample < n_samples:
                    key = (int(j[synapse]), sample)
                    missing[key] = missing.get(key, 0.0) + increments[synapse]
    return missing


def _describe(build):
    """The model description of ``build`` (the 'exporter' device)."""
    start_scope()
    set_device("exporter")
    try:
        seed(1)
        defaultclock.dt = DT
        objects, duration = build("euler")
        Network(objects).run(duration)
        return device.runs[0]
    finally:
        reinit_and_delete()
        set_device("runtime")
        prefs.codegen.target = "numpy"


def _connections(root, container):
    """
    The connections in ``container`` (the network or a projection), compact form.

    Returns a list of dicts: ``f``, ``t`` (the paths), ``d`` (the delay,
    seconds, read with the model's units), ``w`` (the weight, for synapse
    components), ``synapse`` (the id of the synapse component the
    connection creates on its cell, through the network's reference),
    ``port`` (the receiving port, for events on the cell) and ``type`` (the
    tag).
    """
    units = {u.get("symbol"): float(u.get("scale")) * 10 ** int(u.get("power"))
             for u in root.iter("Unit")}
    network = root.find("network")
    types = {}
    for component_type in root.iter("ComponentType"):
        if component_type.get("extends") not in ("connection", "explicitConnection") \
                or component_type.find("Path[@name='f']") is None:
            continue
        # a weight all connections share is a number in the type's Assign
        weight = component_type.find("Structure/EventConnection/Assign")
        shared = {} if weight is None or weight.get("value") == "w" else {"w": weight.get("value")}
        receiver = component_type.find("Structure/EventConnection").get("receiver")
        if receiver:  # ../S_pre: a reference of the network
            assert receiver.startswith("../")
            shared["synapse"] = network.get(receiver[3:])
        types[component_type.get("name")] = shared
    found = []
    for element in container:
        if element.tag not in types:
            continue
        values = {**types[element.tag], **element.attrib}
        number, unit = re.fullmatch(r"([-+0-9.eE]+)\s*([a-zA-Z]*)", values["d"]).groups()
        delay = (float(number) * units[unit] if unit in units
                 else parse_quantity(f"{number} {unit}"))
        found.append({"type": element.tag, "f": values["f"], "t": values["t"],
                      "d": delay, "port": values.get("p"), "synapse": values.get("synapse"),
                      "w": float(values["w"]) if "w" in values else None})
    return found


def _compare_spikes(brian_monitor, lems, dt=float(DT)):
    expected_i = np.asarray(brian_monitor.i[:])
    expected_t = np.asarray(brian_monitor.t[:])
    got_i, got_t = np.asarray(lems["i"]), np.asarray(lems["t"])
    assert len(got_t) == len(expected_t), (
        f"{brian_monitor.name}: {len(got_t)} spikes in jNeuroML, {len(expected_t)} in Brian")
    for index in np.unique(expected_i):
        np.testing.assert_allclose(np.sort(got_t[got_i == index]),
                                   np.sort(expected_t[expected_i == index]) + dt,
                                   rtol=0, atol=dt * 1e-3,
                                   err_msg=f"{brian_monitor.name}: spikes of cell {index}")


def _compare_trace(brian_monitor, lems, variable, missing=None):
    """
    Equal within 1e-6 of the scale at every recorded sample.

    ``missing``: ``{(cell, sample): increment}`` that jNeuroML's value lacks
    at the arrival of events without a delay (`_missing_at_arrival`).
    """
    expected = np.asarray(getattr(brian_monitor, variable))
    got = np.asarray(lems[variable])[:, :expected.shape[1]]
    np.testing.assert_allclose(np.asarray(lems["t"])[:expected.shape[1]],
                               np.asarray(brian_monitor.t[:]), rtol=0, atol=1e-12)
    for row, cell in enumerate(np.asarray(brian_monitor.record)):
        target = expected[row].copy()
        for (missing_cell, sample), increment in (missing or {}).items():
            if missing_cell == cell:
                target[sample] -= increment
        scale = max(np.max(np.abs(expected[row])), 1e-30)
        error = np.abs(got[row] - target)
        assert np.max(error) <= 1e-6 * scale, (
            f"{variable} of cell {cell}: difference {np.max(error):.3g} (scale {scale:.3g}) "
            f"first at sample {int(np.argmax(error > 1e-6 * scale))}")


# ------------------------------------------------------------- pure parts
def test_delays_are_rounded_like_brian_and_written_half_a_step_shorter():
    delays = np.array([0.0, 0.1, 0.14, 0.15, 0.25, 2.5]) * ms
    start_scope()
    defaultclock.dt = DT
    source = SpikeGeneratorGroup(1, [0], [1] * ms)
    cells = NeuronGroup(len(delays), "v : 1")
    synapses = Synapses(source, cells, on_pre="v += 1")
    synapses.connect()
    synapses.delay = delays
    monitor = StateMonitor(cells, "v", record=True)
    run(5 * ms)
    # Brian changes v in step 10 + d, so the value recorded at step 11 + d
    brian_steps = np.argmax(np.asarray(monitor.v) > 0, axis=1) - 11
    steps = delay_steps(np.asarray(delays), float(DT))
    assert steps.tolist() == brian_steps.tolist()
    # at least one step; events applied on arrival (portable form) half a step longer
    np.testing.assert_allclose(lems_delays(steps, float(DT)),
                               (np.maximum(steps, 1) - 0.5) * float(DT))
    np.testing.assert_allclose(lems_delays(steps, float(DT), after_update=False),
                               (steps + 0.5) * float(DT))


def test_spike_generator_times_are_half_a_step_after_brians_bins():
    start_scope()
    defaultclock.dt = DT
    times = [0.0, 1.0, 1.04, 2.96, 3.05] * ms
    generator = SpikeGeneratorGroup(2, [0, 1, 0, 1, 0], times, period=4 * ms)
    monitor = SpikeMonitor(generator)
    run(10 * ms)
    trains = spike_generator_times(
        {"name": "g", "N": 2, "indices": [0, 1, 0, 1, 0], "times": times, "period": 4 * ms},
        float(DT), 0.01)
    for cell in range(2):
        brian = np.asarray(monitor.t[monitor.i == cell])
        np.testing.assert_allclose(trains[cell], brian + 0.5 * float(DT), rtol=0, atol=1e-12)


def _small_network(method):
    stimulus = SpikeGeneratorGroup(2, [0, 1], [1, 2] * ms, name="stimulus")
    cells = NeuronGroup(10, """dv/dt = (ge - v)/(10*ms) : volt
                               dge/dt = -ge/(5*ms) : volt""",
                        threshold="v > 5*mV", reset="v = 0*mV", method=method, name="cells")
    excitation = Synapses(stimulus, cells[2:8], "w : volt", on_pre="ge += w",
                          delay=0.25 * ms, name="excitation")
    excitation.connect(p=1)
    excitation.w = "(exp(-(i - j)**2/10.) + 0.5*rand())*mV"
    recurrent = Synapses(cells[:5], cells, on_pre="v += w_rec", name="recurrent")
    recurrent.connect("i != j")
    recurrent.delay = "(i % 2) * 0.2*ms"  # half without a delay, half with two steps
    recurrent.namespace["w_rec"] = 0.5 * mV
    return [stimulus, cells, excitation, recurrent], 5 * ms


def _by_name(root, tag, name):
    return next(e for e in root.iter(tag) if e.get("name") == name)


@needs_network_device
def test_linear_synapses_are_synapse_components_with_each_synapses_weight(tmp_path):
    model_file = _export(_small_network, tmp_path)
    objects = _simulate(_small_network)
    root = ET.parse(model_file).getroot()
    network = root.find("network")

    # one connection per Brian synapse, directly in the network (no projection): its
    # cells (subgroup offset), weight and delay, and the synapse it creates on its cell
    assert network.find("projection") is None
    connections = [c for c in _connections(root, network) if c["synapse"]]
    (synapse_id,) = {c["synapse"] for c in connections}
    (tag,) = {c["type"] for c in connections}
    assert re.fullmatch(r"c\d+", tag)
    # the network's own type refers to the synapse component (NeuroML's network plus
    # one ComponentReference per synapse)
    network_type = _by_name(root, "ComponentType", network.get("type"))
    assert network_type.get("extends") == "network"
    assert [r.attrib for r in network_type.iter("ComponentReference")] == [
        {"name": synapse_id, "type": "baseSynapse"}]
    assert network.get(synapse_id) == synapse_id
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    comments = [node.text for node in ET.parse(model_file, parser=parser).getroot().find(
        "network") if node.tag is ET.Comment]
    assert f" {tag}: excitation (pre), from stimulus to cells through {synapse_id} " \
        in comments
    synapse_type = root.find(f"Component[@id='{synapse_id}']").get("type")
    amplitude = _by_name(_by_name(root, "ComponentType", synapse_type), "Constant",
                         "ge__amplitude").get("value")
    assert amplitude.endswith("V")
    excitation = objects["excitation"]
    expected = {(f"stimulus[{i}]", f"cells[{j + 2}]"): float(w) for i, j, w in zip(
        excitation.i[:], excitation.j[:], np.asarray(excitation.w[:]), strict=True)}
    got = {(c["f"], c["t"]): c["w"] * parse_quantity(amplitude) for c in connections}
    assert got.keys() == expected.keys() and len(connections) == len(excitation) == 12
    for key, weight in expected.items():
        assert got[key] == pytest.approx(weight, rel=1e-15)
    assert len(set(expected.values())) == 12  # random weights: every synapse its own
    steps = delay_steps(np.broadcast_to(np.asarray(excitation.delay[:]), (12,)), float(DT))
    assert {c["d"] for c in connections} == {float(lems_delays(steps, float(DT))[0])}
    # each line holds the two cells, the weight and the delay, in half time steps
    lines = [element for element in network if element.tag == tag]
    assert [sorted(element.attrib) for element in lines] == [["d", "f", "t", "w"]] * 12
    assert {element.get("d") for element in lines} == {
        f"{round(float(lems_delays(steps, float(DT))[0]) / (float(DT) / 2))}hdt"}
    assert [u.attrib for u in root.iter("Unit") if u.get("symbol") == "hdt"] == [
        {"symbol": "hdt", "dimension": "time", "power": "0", "scale": "5e-05"}]

    # the synapse carries ge with the neuron's equation and adds its weight
    definition = _by_name(root, "ComponentType", synapse_type)
    assert definition.get("extends") == "cells_synapse"
    assert _by_name(root, "ComponentType", "cells_synapse").get("extends") == "baseSynapse"
    dynamics = definition.find("Dynamics")
    assert dynamics.find("TimeDerivative").attrib == {"variable": "ge__state",
                                                      "value": "-ge__state / (5 * ms)"}
    # the event's addition waits for the synapse's update, as in Brian's time step
    assert dynamics.find("OnEvent/StateAssignment").attrib == {
        "variable": "ge__state__arriving", "value": "ge__state__arriving + weight * ge__amplitude"}
    assert [a.attrib for a in dynamics.find("OnCondition")] == [
        {"variable": "ge__state", "value": "ge__state + ge__state__arriving"},
        {"variable": "ge__state__arriving", "value": "0"}]
    # the cell keeps its own copy and reads the sum over its synapses
    cell = _by_name(root, "ComponentType", "cells_cell")
    assert cell.find("Attachments").attrib == {"name": "synapses", "type": "cells_synapse"}
    derived = {d.get("name"): d.attrib for d in cell.iter("DerivedVariable")}
    assert derived["ge__synapses"]["select"] == "synapses[*]/ge"
    assert derived["ge__total"]["value"] == "ge__own + ge__synapses"
    derivatives = {d.get("variable"): d.get("value") for d in cell.iter("TimeDerivative")}
    assert derivatives == {"ge__own": "-ge__own / (5 * ms)",
                           "v": "(ge__total - v) / (10 * ms)"}

    # v += w_rec cannot live in a synapse: a port on the cell, connections per synapse;
    # the synapses without a delay get a port of their own (see below)
    ports = {p.get("name") for p in cell.iter("EventPort") if p.get("direction") == "in"}
    assert ports == {"recurrent_pre", "recurrent_pre_now"}
    handlers = {h.get("port"): [(a.get("variable"), a.get("value")) for a in h]
                for h in cell.iter("OnEvent")}
    # with a delay, the event's addition waits for the cell's update, after the
    # threshold; the addition of the step in which the cell spikes is overwritten by
    # Brian's reset (the gate)
    assert handlers["recurrent_pre"] == [("v__arriving", "v__arriving + (recurrent__w_rec)")]
    conditions = cell.findall("Dynamics/OnCondition")
    assert conditions[0].find("EventOut").get("port") == "spike"
    assert [(a.get("variable"), a.get("value")) for a in conditions[1]] == [
        ("v", "v + H((t - lastspike) / dt - 1.5) * (v__arriving)"), ("v__arriving", "0")]
    # without a delay, it changes v when it arrives, at the start of the next step
    assert handlers["recurrent_pre_now"] == [
        ("v", "v + H((t - lastspike) / dt - 1.5) * (recurrent__w_rec)")]
    recurrent = objects["recurrent"]
    steps = delay_steps(recurrent.delay[:], float(DT))
    assert sorted(set(steps.tolist())) == [0, 2]
    for port, chosen in (("recurrent_pre", steps == 2), ("recurrent_pre_now", steps == 0)):
        expected_pairs = sorted(zip(
            (f"cells[{i}]" for i in np.asarray(recurrent.i[:])[chosen]),
            (f"cells[{j}]" for j in np.asarray(recurrent.j[:])[chosen]), strict=True))
        elements = [c for c in _connections(root, network) if c["port"] == port]
        assert sorted((c["f"], c["t"]) for c in elements) == expected_pairs
        assert {round(c["d"] / float(DT), 9) for c in elements} == {
            1.5 if port == "recurrent_pre" else 0.5}


def _distance_weights(method):
    """The documentation's synapse example: v += w with a different w for every synapse."""
    group = NeuronGroup(100, "dv/dt = -v / (10*ms) : volt", threshold="v > -50*mV",
                        reset="v = -60*mV", method=method, name="group")
    synapses = Synapses(group, group, "w : volt", on_pre="v += w", name="synapses")
    synapses.connect(j="i+k for k in sample(-10, 10, p=0.5) if k != 0", skip_if_invalid=True)
    synapses.w = "(exp(-(i - j)**2/10.) + 0.5 * rand())*mV"
    synapses.delay = "1*ms + 2*ms*rand()"
    monitors = [StateMonitor(group, "v", record=[0, 50, 99], name="group_state"),
                SpikeMonitor(group, name="group_spikes")]
    return [group, synapses, *monitors], 20 * ms


@needs_network_device
@pytest.mark.parametrize("synapses", ["components", "events"])
def test_the_timing_of_every_delay_is_explained_in_the_file(tmp_path, synapses):
    model_file = _export(_small_network, tmp_path, synapses=synapses)
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.parse(model_file, parser=parser).getroot()
    network = root.find("network")
    comments = [node.text for node in network if node.tag is ET.Comment]
    notes = [comment for comment in comments if "Delays:" in comment]
    assert len(notes) == 1
    assert "Brian's delay minus half a time step (0.05 ms)" in notes[0]
    assert ("Synapses without a delay are written with 0.05 ms: their events change the "
            "state when they arrive") in notes[0]
    # and the unit of the compact connections' delays
    assert "d is the delay in hdt, a unit of half a time step (0.05 ms" in notes[0]
    # each set of connections is introduced by its origin (and, for synapse
    # components, the populations and the synapse)
    assert {comment.strip().split(": ")[1] for comment in comments if comment not in notes} \
        == {"recurrent (pre)"} | ({"excitation (pre)"} if synapses == "events" else
                                  {"excitation (pre), from stimulus to cells through "
                                   "excitation_pre"})
    # the recurrent synapses: two steps written as 1.5, none as half a step
    connections = _connections(root, network)
    delays = {round(c["d"] / float(DT), 9) for c in connections
              if c["port"] and "recurrent" in c["port"]}
    assert delays == {0.5, 1.5}


@needs_network_device
def test_many_different_values_get_one_port_per_incoming_synapse(tmp_path):
    root = ET.parse(_export(_distance_weights, tmp_path)).getroot()
    synapses = _simulate(_distance_weights)["synapses"]
    i, j = np.asarray(synapses.i[:]), np.asarray(synapses.j[:])
    w = np.asarray(synapses.w[:])
    assert len(np.unique(w)) > MAX_PORTS_PER_PATHWAY
    cell = _by_name(root, "ComponentType", "group_cell")
    ports = [p.get("name") for p in cell.iter("EventPort") if p.get("direction") == "in"]
    assert len(ports) == np.bincount(j).max()  # as many as the most synapses onto a cell
    parameters = {p.get("name") for p in cell.iter("Parameter")}
    assert {f"{port}__w" for port in ports} <= parameters
    population = next(c for c in root.find("network") if c.get("id") == "group")
    cells = list(population)
    # each synapse arrives at a port whose per-cell value on its target is its weight
    for connection in _connections(root, root.find("network")):
        source = int(connection["f"][6:-1])
        target = int(connection["t"][6:-1])
        value = parse_quantity(cells[target].get(f"{connection['port']}__w"))
        synapse = np.nonzero((i == source) & (j == target))[0]
        assert len(synapse) == 1 and value == w[synapse[0]]


@needs_network_device
def test_spike_sources_are_populations_with_the_right_values(tmp_path):
    def build(method):
        noise = PoissonGroup(5, rates="(i + 1) * 10*Hz", name="noise")
        fixed = PoissonGroup(3, rates=[5, 6, 7] * Hz, name="fixed")
        generator = SpikeGeneratorGroup(3, [2, 0], [1, 2] * ms, name="generator")
        monitors = [SpikeMonitor(noise, name="noise_spikes"),
                    SpikeMonitor(generator, name="generator_spikes"),
                    PopulationRateMonitor(fixed, name="fixed_rate")]
        return [noise, fixed, generator, *monitors], 5 * ms

    root = ET.parse(_export(build, tmp_path)).getroot()
    populations = {c.get("id"): c for c in root.find("network")}
    assert [c.get("averageRate") for c in populations["noise"]] == [
        f"{10 * (k + 1)} per_s" for k in range(5)]
    assert [c.get("averageRate") for c in populations["fixed"]] == ["5 per_s", "6 per_s",
                                                                   "7 per_s"]
    spikes = [[parse_quantity(s.get("time")) for s in cell]
              for cell in populations["generator"]]
    assert spikes[1] == [] and spikes[0] == [pytest.approx(2.05e-3)]
    assert spikes[2] == [pytest.approx(1.05e-3)]
    selections = {f.get("id"): [s.get("select") for s in f]
                  for f in root.iter("EventOutputFile")}
    assert selections["generator_spikes"] == ["generator[0]", "generator[1]", "generator[2]"]
    assert selections["fixed_rate"] == ["fixed[0]", "fixed[1]", "fixed[2]"]


@pytest.mark.parametrize("synapse_model, on_pre, fragment", [
    # plastic synapses (test_nmlexport_plasticity.py) can add to a neuron variable
    # (test_nmlexport_plastic_post.py), not set or multiply it
    ("dx/dt = -x/(5*ms) : 1 (clock-driven)", "v *= x",
     "'v *= x' changing the post-synaptic variable 'v' of 'cells' from plastic synapses"),
    ("w : volt", "v = w\nw += 0.1*mV",
     "'v = w' changing the post-synaptic variable 'v' of 'cells' from plastic synapses"),
    ("", "v += v_pre*0.1", "'v_pre'"),
    ("Igap_post = (v_pre - v_post)/(10*ms) : volt/second (summed)", "",
     "summed variable 'Igap_post'"),
])
def test_unsupported_synapses_are_refused_by_name(synapse_model, on_pre, fragment):
    def build(method):
        cells = NeuronGroup(MAX_PORTS_PER_PATHWAY + 2, """dv/dt = -v/(10*ms) + Igap : volt
                                                         Igap : volt/second""",
                            threshold="v > 5*mV", reset="v = 0*mV", method=method,
                            name="cells")
        synapses = Synapses(cells, cells, synapse_model, on_pre=on_pre or None, name="syn")
        synapses.connect(j="i")
        if "w : volt" in synapse_model:
            synapses.w = "i * 0.01*mV"
        return [cells, synapses], 1 * ms

    with pytest.raises(UnsupportedFeatureError) as error:
        build_network_parts(_describe(build), float(DT), 0.001)
    assert "syn" in str(error.value) and fragment in str(error.value)


def test_too_many_synapses_onto_one_cell_each_with_its_value_are_refused():
    def build(method):
        cells = NeuronGroup(MAX_INCOMING_PORTS + 1, "dv/dt = -v/(10*ms) : volt",
                            threshold="v > 5*mV", reset="v = 0*mV", method=method, name="cells")
        synapses = Synapses(cells, cells, "w : volt", on_pre="v += w", name="syn")
        synapses.connect(j="0")
        synapses.w = "i * 0.001*mV"
        return [cells, synapses], 1 * ms

    with pytest.raises(UnsupportedFeatureError, match=(
            f"syn.*{MAX_INCOMING_PORTS + 1} different values of 'w'.*"
            f"{MAX_INCOMING_PORTS + 1} synapses onto one cell.*'I \\+= w'")):
        build_network_parts(_describe(build), float(DT), 0.001)


def test_resets_that_depend_on_a_variable_events_change_are_refused():
    def build(method):
        cells = NeuronGroup(2, "dv/dt = -v/(10*ms) : volt", threshold="v > 5*mV",
                            reset="v = 0.5*v", method=method, name="cells")
        synapses = Synapses(cells, cells, on_pre="v += 1*mV", name="syn")
        synapses.connect(j="1 - i")
        return [cells, synapses], 1 * ms

    with pytest.raises(UnsupportedFeatureError, match="syn.*reset 'v = 0.5 \\* v'"):
        build_network_parts(_describe(build), float(DT), 0.001)


def test_which_variables_the_synapses_carry():
    def build(method):
        cells = NeuronGroup(3, """dv/dt = (g + ga + gt - v)/(10*ms) : volt (unless refractory)
                                  dg/dt = (h - g)/(2*ms) : volt
                                  dh/dt = -h/(5*ms) : volt
                                  dga/dt = (1*mV - ga)/(4*ms) : volt
                                  dgt/dt = -gt/(3*ms) : volt""",
                            threshold="v + gt > 5*mV", reset="v = 0*mV", refractory=1 * ms,
                            method=method, name="cells")
        rise = Synapses(cells, cells, "w : volt", on_pre="h += w", name="rise")
        rise.connect(j="i")
        rise.w = "i*mV"
        affine = Synapses(cells, cells, on_pre="ga += 2*mV", name="affine")
        affine.connect(j="i")
        # gt is read by the threshold: it must stay in the neuron
        threshold_read = Synapses(cells, cells, on_pre="gt += 1*mV", name="threshold_read")
        threshold_read.connect(j="i")
        return [cells, rise, affine, threshold_read], 1 * ms

    parts = build_network_parts(_describe(build), float(DT), 0.001)
    # g only reads h: it stays in the neuron and reads the total of h
    assert {name: sorted(variables) for name, variables in parts.carried["cells"].items()} == {
        "h": ["h"], "ga": ["ga"]}
    types = {t.origin: t for t in parts.synapse_types}
    assert types["rise (pre)"].carried == ("h",)

    def build_both(method):
        objects, duration = build(method)
        direct = Synapses(objects[0], objects[0], on_pre="g += 1*mV", name="direct")
        direct.connect(j="i")
        return [*objects, direct], duration

    # once g is changed by synapses too, every synapse carries g with h
    parts = build_network_parts(_describe(build_both), float(DT), 0.001)
    assert {name: sorted(variables) for name, variables in parts.carried["cells"].items()} == {
        "g": ["g", "h"], "h": ["g", "h"], "ga": ["ga"]}
    types = {t.origin: t for t in parts.synapse_types}
    assert types["rise (pre)"].carried == ("g", "h")
    assert types["direct (pre)"].carried == ("g", "h")
    assert types["rise (pre)"].increments == [("h", None)]
    assert types["affine (pre)"].carried == ("ga",)
    assert [port.port for port in parts.ports] == ["threshold_read_pre"]
    projections = {p.name: p for p in parts.synaptic_projections}
    np.testing.assert_array_equal(projections["rise_pre_projection"].weights
                                  * types["rise (pre)"].amplitude, [0, 0.001, 0.002])


def test_on_post_synapses_carry_the_presynaptic_variable():
    def build(method):
        first = NeuronGroup(3, "dge/dt = -ge/(5*ms) : volt", method=method, name="first")
        second = NeuronGroup(2, "dv/dt = -v/(10*ms) : volt", threshold="v > 1*mV",
                             reset="v = 0*mV", method=method, name="second")
        back = Synapses(first, second, "w : volt", on_post="ge_pre += w",
                        delay={"post": 0.2 * ms}, name="back")
        back.connect(i=[0, 2, 1], j=[1, 0, 0])
        back.w = [1, 2, 3] * mV
        return [first, second, back], 1 * ms

    parts = build_network_parts(_describe(build), float(DT), 0.001)
    assert parts.carried == {"first": {"ge": frozenset({"ge"})}}
    (projection,) = parts.synaptic_projections
    # the events come from the post-synaptic cells and go to the pre-synaptic ones
    assert (projection.presynaptic, projection.postsynaptic) == ("second", "first")
    assert projection.sources.tolist() == ["second[1]", "second[0]", "second[0]"]
    assert projection.targets.tolist() == ["first[0]", "first[2]", "first[1]"]
    amplitude = parts.synapse_types[0].amplitude
    np.testing.assert_allclose(projection.weights * amplitude, [1e-3, 2e-3, 3e-3], rtol=1e-15)
    np.testing.assert_allclose(projection.delays, lems_delays([2, 2, 2], float(DT)))


def test_an_unknown_form_of_synapses_is_refused():
    with pytest.raises(ValueError, match="synapses must be one of 'components', 'events'"):
        build_network_parts(_describe(_small_network), float(DT), 0.005, synapses="tables")


def test_fast_and_timed_inputs_are_drawn_in_every_step():
    # statistics in jNeuroML: tests/test_nmlexport_stochastic.py
    def fast_input(method):
        cells = NeuronGroup(2, "dv/dt = -v/(10*ms) : volt", method=method, name="cells")
        drive = PoissonInput(cells, "v", 1000, 10 * Hz, weight=0.1 * mV)
        return [cells, drive], 1 * ms

    parts = build_network_parts(_describe(fast_input), float(DT), 0.001)
    # N*rate*dt = 1: Brian's exact binomial draw (up to its bound 1 + 10*sqrt(1.999) -> 15)
    assert [port.statements[0][1].count("random(1)") for port in parts.ports] == [15]
    assert {element.get("name") for element in parts.source_types} >= {
        "poissoninput_every_step"}

    def timed_rates(method):
        noise = PoissonGroup(2, rates="10*Hz*(1 + sin(2*pi*t/(10*ms)))", name="noise")
        return [noise], 1 * ms

    parts = build_network_parts(_describe(timed_rates), float(DT), 0.001)
    source = next(element for element in parts.source_types
                  if element.get("name") == "noise_source")
    assert source.find("Dynamics/OnCondition").get("test").startswith("random(1) .lt. ")


# ------------------------------------------------------- fidelity (jNeuroML)
_TIMING_STEPS = (0, 1, 3)


def _timing_network(method):
    """One spike source, v += w and ge += w onto three cells, delays of 0, 1 and 3 steps."""
    stimulus = SpikeGeneratorGroup(1, [0, 0, 0], [1, 2.5, 2.6] * ms, name="stimulus")
    # the threshold keeps v in the cell: 'v += w' stays an event on the cell,
    # 'ge += w' becomes a synapse component (synapses='components')
    cells = NeuronGroup(len(_TIMING_STEPS), """dv/dt = (ge - v)/(10*ms) : volt
                                               dge/dt = -ge/(5*ms) : volt""",
                        threshold="v > 1*volt", reset="v = 0*volt", method=method,
                        name="cells")
    kick = Synapses(stimulus, cells, on_pre="v += 1*mV", name="kick")
    drive = Synapses(stimulus, cells, on_pre="ge += 2*mV", name="drive")
    for synapses in (kick, drive):
        synapses.connect()
        synapses.delay = np.array(_TIMING_STEPS) * DT
    return [stimulus, cells, kick, drive, SpikeMonitor(stimulus, name="stimulus_spikes"),
            StateMonitor(cells, ["v", "ge"], record=True, name="state")], 4 * ms


@needs_jneuroml
@needs_network_device
def test_synaptic_events_act_in_brians_time_step(tmp_path):
    files = {form: _export(_timing_network, tmp_path / form, synapses=form)
             for form in ("components", "events")}
    processes = {form: start_jneuroml(path) for form, path in files.items()}
    for process in processes.values():
        finish_jneuroml(process)
    objects = _simulate(_timing_network)
    brian = objects["state"]
    n_samples = len(brian.t)
    for form, path in files.items():
        lems = load_recordings(path)["state"]
        for variable, synapses, increment in (("v", "kick", 1e-3), ("ge", "drive", 2e-3)):
            got = np.asarray(lems[variable])[:, :n_samples]
            expected = np.asarray(getattr(brian, variable))
            # delays of 1 and 3 steps: every sample as in Brian (jNeuroML writes 7 digits)
            np.testing.assert_allclose(got[1:], expected[1:], rtol=0, atol=1e-9,
                                       err_msg=f"{form}: {variable}")
            # no delay: the value recorded at each arrival lacks exactly the increment
            # (three spikes, at 1, 2.5 and 2.6 ms), every other sample is Brian's
            missing = _missing_at_arrival(objects, {synapses: increment}, n_samples)
            assert sorted(missing) == [(0, 11), (0, 26), (0, 27)]
            difference = got[0] - expected[0]
            np.testing.assert_allclose(difference[[11, 26, 27]], -increment, rtol=1e-6)
            difference[[11, 26, 27]] = 0
            np.testing.assert_allclose(difference, 0, rtol=0, atol=1e-9,
                                       err_msg=f"{form}: {variable}")


def _deterministic_network(method):
    """Spike generators, two groups, delays, recurrent and feedback connections."""
    stimulus = SpikeGeneratorGroup(3, [0, 1, 2, 0, 1], [1, 2, 3.3, 6, 7.05] * ms,
                                   period=12 * ms, name="stimulus")
    first = NeuronGroup(6, """dv/dt = (ge + gi - v)/(10*ms) : volt (unless refractory)
                              dge/dt = -ge/(5*ms) : volt
                              dgi/dt = -gi/(10*ms) : volt""",
                        threshold="v > 4*mV", reset="v = 0*mV", refractory=2 * ms,
                        method=method, name="first")
    second_group = NeuronGroup(4, """dv/dt = (ge - v)/(8*ms) : volt
                                     dge/dt = -ge/(3*ms) : volt""",
                               threshold="v > 3*mV", reset="v = -1*mV", method=method,
                               name="second")
    drive = Synapses(stimulus, first, "w : volt", on_pre="ge += w", name="drive")
    drive.connect(i=[0, 0, 1, 1, 2, 2], j=[0, 1, 2, 3, 4, 5])
    drive.w = [25, 20, 25, 20, 25, 20] * mV
    drive.delay = [0, 0.1, 0.25, 1, 2.5, 0.4] * ms
    recurrent = Synapses(first, first, on_pre="v += 1.5*mV", delay=0.1 * ms, name="recurrent")
    recurrent.connect("i != j and abs(i - j) < 3")
    forward = Synapses(first[:4], second_group, "w : volt", on_pre="ge += w", delay=1 * ms,
                       name="forward")
    forward.connect(p=1)
    forward.w = "(exp(-(i - j)**2/10.) + 0.5*rand()) * 6*mV"  # each synapse its own weight
    feedback = Synapses(second_group, first[2:], on_pre="gi -= 2*mV", name="feedback")
    feedback.connect(j="i")
    # a synaptic variable with a rise time (h drives g, both carried by each synapse) and
    # an equation with a constant part
    third = NeuronGroup(3, """dv/dt = (g + ga - v)/(10*ms) : volt
                              dg/dt = (h - g)/(3*ms) : volt
                              dh/dt = -h/(2*ms) : volt
                              dga/dt = (1*mV - ga)/(4*ms) : volt""", method=method,
                        name="third")
    rise = Synapses(stimulus, third, "w : volt", on_pre="h += w", delay=0.3 * ms, name="rise")
    rise.connect(p=1)
    rise.w = "(1 + rand()) * mV"
    direct = Synapses(first, third, on_pre="g += 0.5*mV; ga += 0.25*mV", name="direct")
    direct.connect(j="i % 3")
    monitors = [StateMonitor(first, ["v", "ge"], record=[0, 2, 4], name="first_state"),
                StateMonitor(second_group, ["v", "ge"], record=True, name="second_state"),
                StateMonitor(third, ["v", "g", "h", "ga"], record=True, name="third_state"),
                SpikeMonitor(first, name="first_spikes"),
                SpikeMonitor(second_group, name="second_spikes"),
                SpikeMonitor(stimulus, name="stimulus_spikes")]
    return [stimulus, first, second_group, third, drive, recurrent, forward, feedback, rise,
            direct, *monitors], 30 * ms


def _cuba(method, n=1000, duration=100 * ms):
    """The documented CUBA network, scaled to n cells (80 inputs per cell) and Poisson-driven."""
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
    Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV  # noqa: N806 -- the documented names
    cells = NeuronGroup(n, """dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
                              dge/dt = -ge/taue : volt
                              dgi/dt = -gi/taui : volt""",
                        threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method=method,
                        namespace={"taum": taum, "taue": taue, "taui": taui, "Vt": Vt,
                                   "Vr": Vr, "El": El}, name="cuba")
    cells.v = "Vr + rand() * (Vt - Vr)"
    n_exc = int(0.8 * n)
    we, wi = (60 * 0.27 / 10) * mV, (-20 * 4.5 / 10) * mV
    excitatory = Synapses(cells[:n_exc], cells, on_pre="ge += we", namespace={"we": we},
                          name="excitatory")
    excitatory.connect(p=80 / n)
    inhibitory = Synapses(cells[n_exc:], cells, on_pre="gi += wi", namespace={"wi": wi},
                          name="inhibitory")
    inhibitory.connect(p=80 / n)
    noise = PoissonInput(cells, "ge", 20, 10 * Hz, weight=0.5 * mV)
    spikes = SpikeMonitor(cells, name="cuba_spikes")
    return [cells, excitatory, inhibitory, noise, spikes], duration


def _poisson_sources(method):
    noise = PoissonGroup(40, rates="(1 + i % 4) * 20*Hz", name="noise")
    listener = NeuronGroup(2, "dv/dt = -v/(10*ms) : volt", threshold="v > 1*volt",
                           reset="", method=method, name="listener")
    synapses = Synapses(noise, listener, on_pre="v += 0.1*mV", name="listening")
    synapses.connect(j="i % 2")
    return [noise, listener, synapses, SpikeMonitor(noise, name="noise_spikes"),
            StateMonitor(listener, "v", record=True, name="listener_state")], 1 * second


@needs_jneuroml
@needs_network_device
def test_networks_run_in_jneuroml_like_brian(tmp_path):
    models = {"deterministic": _deterministic_network, "cuba": _cuba,
              "poisson": _poisson_sources, "documented": _distance_weights}
    files = {name: _export(build, tmp_path / name) for name, build in models.items()}
    # the same network with every synapse as an event on its receiving cell
    files["events"] = _export(_deterministic_network, tmp_path / "events", synapses="events")
    assert ET.parse(files["events"]).getroot().find("network/projection") is None
    processes = {name: start_jneuroml(path) for name, path in files.items()}
    with ThreadPoolExecutor(len(processes)) as pool:
        logs = dict(zip(processes, pool.map(lambda p: finish_jneuroml(p, timeout=600),
                                            processes.values()), strict=True))
    for name, log in logs.items():
        assert severe_lines(log) == [], name
        # jNeuroML's own warnings (not those a newer Java may print about the jar)
        assert [line for line in log.splitlines() if "(WARNING)" in line] == [], name
    recordings = {name: load_recordings(path) for name, path in files.items()}

    # deterministic: identical spikes (one step later), exact traces
    brian = _simulate(_deterministic_network)
    assert len(brian["first_spikes"].t) > 10 and len(brian["second_spikes"].t) > 3
    n_samples = len(brian["first_state"].t)
    # the synapses without a delay: drive (the first), direct (g and ga), feedback (gi)
    missing = {"ge": _missing_at_arrival(brian, {"drive": brian["drive"].w[:]}, n_samples),
               "g": _missing_at_arrival(brian, {"direct": 0.5e-3}, n_samples),
               "ga": _missing_at_arrival(brian, {"direct": 0.25e-3}, n_samples)}
    assert len(missing["ge"]) >= 2 and len(missing["g"]) > 5
    for lems in (recordings["deterministic"], recordings["events"]):
        for monitor in ("first_spikes", "second_spikes", "stimulus_spikes"):
            _compare_spikes(brian[monitor], lems[monitor])
        for variable in ("v", "ge"):
            _compare_trace(brian["first_state"], lems["first_state"], variable,
                           missing.get(variable))
            _compare_trace(brian["second_state"], lems["second_state"], variable)
        for variable in ("v", "g", "h", "ga"):
            _compare_trace(brian["third_state"], lems["third_state"], variable,
                           missing.get(variable))
    assert np.max(np.asarray(brian["third_state"].h)) > 0.5 * float(mV)

    # the documentation's synapses (v += w, w different for every synapse, random delays)
    documented = _simulate(_distance_weights)
    _compare_spikes(documented["group_spikes"], recordings["documented"]["group_spikes"])
    assert len(documented["group_spikes"].t) > 1000
    _compare_trace(documented["group_state"], recordings["documented"]["group_state"], "v")

    # CUBA (1000 cells): population rate within 15 %
    cuba = _simulate(_cuba)
    duration = 0.1
    brian_rate = len(cuba["cuba_spikes"].t) / 1000 / duration
    lems_rate = len(recordings["cuba"]["cuba_spikes"]["t"]) / 1000 / duration
    assert brian_rate > 1
    assert abs(lems_rate - brian_rate) <= 0.15 * brian_rate, (lems_rate, brian_rate)

    # Poisson group: each cell's rate
    counts = np.bincount(np.asarray(recordings["poisson"]["noise_spikes"]["i"]), minlength=40)
    expected = (1 + np.arange(40) % 4) * 20
    for level in range(4):
        observed = counts[np.arange(40) % 4 == level].mean()
        assert abs(observed - expected[level]) < 0.2 * expected[level] + 5, (level, observed)
    assert recordings["poisson"]["listener_state"]["v"][0].max() > 0


def _cuba_benchmark(method, n=2000):
    """The benchmark's CUBA network (dev/benchmarks), n cells, p = 0.02, Brian's names."""
    cells = NeuronGroup(n, """dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
                              dge/dt = -ge/taue : volt
                              dgi/dt = -gi/taui : volt""",
                        threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method=method,
                        namespace={"taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms,
                                   "Vt": -50 * mV, "Vr": -60 * mV, "El": -49 * mV},
                        name="neurongroup")
    cells.v = "-60*mV + rand() * 10*mV"
    excitatory = Synapses(cells, cells, on_pre="ge += 1.62*mV", name="synapses")
    inhibitory = Synapses(cells, cells, on_pre="gi += -9*mV", name="synapses_1")
    excitatory.connect(f"i<{int(0.8 * n)}", p=0.02)
    inhibitory.connect(f"i>={int(0.8 * n)}", p=0.02)
    return [cells, excitatory, inhibitory, SpikeMonitor(cells, name="spikemonitor")], 1 * ms


@needs_network_device
def test_a_network_file_costs_at_most_65_bytes_per_synapse(tmp_path):
    # issue #15: about 130 bytes per synapse before, to be cut at least in half
    model_file = _export(_cuba_benchmark, tmp_path)
    text = open(model_file, encoding="utf-8").read()
    root = ET.fromstring(text.encode())
    connections = _connections(root, root.find("network"))
    n_synapses = len(connections)
    assert 75_000 < n_synapses < 85_000
    per_synapse = len(text.encode()) / n_synapses
    assert per_synapse <= 65, f"{per_synapse:.1f} bytes per synapse"
    # what a line holds: the two cells relative to the network, and the delay in half
    # steps (the synapse and its weight of 1 are in the line's type)
    lines = [line for line in text.splitlines() if line.lstrip().startswith("<c")]
    assert len(lines) == n_synapses
    assert all(re.fullmatch(r'<c[01] f="neurongroup\[\d+\]" t="neurongroup\[\d+\]" '
                            r'd="1hdt"/>', line.strip()) for line in lines)
    assert {c["d"] for c in connections} == {float(DT) / 2}
    assert {c["synapse"] for c in connections} == {"synapses_pre", "synapses_1_pre"}
    # without indentation: only the first line of each set follows the comment's
    assert sum(line != line.lstrip() for line in lines) == 2
