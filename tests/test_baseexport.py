"""Tests for the 'exporter' device: the description collected at each run()."""

# Brian finds external constants in the caller's frame at run time, so the
# scripts below define local variables that no Python code reads.
# ruff: noqa: F841

import os
import stat

import numpy as np
import pytest
from brian2 import (
    EventMonitor,
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
    TimedArray,
    Unit,
    amp,
    check_units,
    defaultclock,
    get_device,
    linked_var,
    ms,
    mV,
    network_operation,
    restore,
    run,
    second,
    seed,
    set_device,
    store,
    volt,
)
from brian2.groups.group import CodeRunner
from brian2.units.fundamentalunits import have_same_dimensions

import brian2tools.baseexport
from brian2tools.baseexport import (
    BaseExporter,
    UnsupportedFeatureError,
    collect_network,
    write_text_atomic,
)
from brian2tools.baseexport.monitors import NotSimulatedError


@pytest.fixture
def exporter():
    """The 'exporter' device, active for the test (conftest goes back to runtime)."""
    set_device("exporter")
    return get_device()


def assert_quantity_equal(actual, expected):
    assert have_same_dimensions(actual, expected), (actual, expected)
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected))


# ---------------------------------------------------------------------- #
# Neuron groups
# ---------------------------------------------------------------------- #
def test_neurongroup_equations_events_refractory_namespace(exporter):
    tau = 10 * ms
    v_th = 10 * mV
    n_max = 3
    group = NeuronGroup(
        4,
        """
        dv/dt = (v0 - v) / tau + sigma * xi * tau**-0.5 : volt (unless refractory)
        v0 : volt (constant)  # a comment Brian drops
        sigma : volt (shared)
        I = v / Mohm : amp
        count : integer
        """,
        threshold="v > v_th",
        reset="v = 0*mV",
        refractory="v > 5*mV",
        events={"custom": "count < n_max and v > 8*mV"},
        method="euler",
    )
    group.run_on_event("custom", "count += 1")
    run(5 * ms)

    description = exporter.runs[0]
    (described,) = description["neurongroups"]
    assert described["name"] == group.name
    assert described["N"] == 4
    equations = {eq["name"]: eq for eq in described["equations"]}
    assert set(equations) == {"v", "v0", "sigma", "I", "count"}
    v = equations["v"]
    assert v["type"] == "differential equation"
    # the user's expression, not Brian's int(not_refractory)*(...) rewriting
    assert v["expr"] == "(v0 - v) / tau + sigma * xi * tau**-0.5"
    assert v["unit"] == volt and v["var_type"] == "float"
    assert v["flags"] == ["unless refractory"]
    assert v["stochastic_variables"] == ["xi"]
    assert equations["v0"]["type"] == "parameter" and equations["v0"]["expr"] is None
    assert equations["v0"]["flags"] == ["constant"]
    assert equations["sigma"]["flags"] == ["shared"]
    assert equations["I"]["type"] == "subexpression"
    assert equations["I"]["expr"] == "v / Mohm" and equations["I"]["unit"] == amp
    assert equations["count"]["var_type"] == "integer"
    assert equations["count"]["unit"] == Unit(1)
    assert repr(equations["count"]["unit"]) == "Unit(1)"

    assert described["events"] == {
        "spike": {"threshold": "v > v_th", "reset": "v = 0*mV"},
        "custom": {"threshold": "count < n_max and v > 8*mV", "reset": "count += 1"},
    }
    assert described["refractory"] == "v > 5*mV"
    assert described["method"] == "euler"
    # external constants with their units; Brian's built-ins (mV, Mohm) are not listed
    assert set(described["namespace"]) == {"tau", "v_th", "n_max"}
    assert_quantity_equal(described["namespace"]["tau"], 10 * ms)
    assert_quantity_equal(described["namespace"]["v_th"], 10 * mV)
    assert described["namespace"]["n_max"] == 3 and isinstance(described["namespace"]["n_max"], int)
    assert set(described["initial_values"]) == {"v", "v0", "sigma", "count"}
    assert described["initial_values"]["sigma"].shape == (1,)


def test_refractory_period_and_no_refractoriness(exporter):
    with_period = NeuronGroup(
        2, "dv/dt = -v / (5*ms) : 1", threshold="v > 1", reset="v = 0", refractory=2 * ms
    )
    without = NeuronGroup(2, "dv/dt = -v / (5*ms) : 1", threshold="v > 1", reset="v = 0")
    run(1 * ms)
    first, second_group = exporter.runs[0]["neurongroups"]
    assert first["name"] == with_period.name and second_group["name"] == without.name
    assert_quantity_equal(first["refractory"], 2 * ms)
    assert second_group["refractory"] is None
    # Brian's book-keeping variables for refractoriness are not part of the model
    assert [eq["name"] for eq in first["equations"]] == ["v"]
    assert set(first["initial_values"]) == {"v"}


def _initialised_group():
    """A group set up with every kind of assignment (used with both devices)."""
    v_rest = -70 * mV
    spread = 5 * mV
    group = NeuronGroup(8, "v : volt\nv0 : volt\nflag : boolean\ncount : integer")
    group.v0 = "v_rest + spread * i / (N - 1)"
    group.v = "v_rest + rand() * spread"
    group.v["i >= 6"] = -60 * mV
    group.v[:2] = [1, 2] * mV
    group.count = 3
    group.count[[4, 5]] = 7
    group.flag = "i % 2 == 0"
    group.v0_ = np.linspace(0, 0.007, 8)
    cells = group[2:5]
    cells.count = "i + N"
    cells.v["i > 0"] = "v_rest + randn() * mV"
    return group


def test_initializers_in_order_with_kinds(exporter):
    seed(2024)
    group = _initialised_group()
    run(1 * ms)
    assert exporter.runs[0]["seed"] == 2024
    (described,) = exporter.runs[0]["neurongroups"]
    initializers = described["initializers"]
    summary = [(init["variable"], init["kind"], init["random"]) for init in initializers]
    assert summary == [
        ("v0", "expression", False),
        ("v", "expression", True),
        ("v", "constant", False),
        ("v", "array", False),
        ("count", "constant", False),
        ("count", "constant", False),
        ("flag", "expression", False),
        ("v0", "array", False),
        ("count", "expression", False),
        ("v", "expression", True),
    ]
    whole = {"group": group.name, "start": 0, "stop": 8}
    assert initializers[0]["value"] == "v_rest + spread * i / (N - 1)"
    assert initializers[0]["index"] is None and initializers[0]["group"] == whole
    assert set(initializers[0]["namespace"]) == {"v_rest", "spread"}
    assert_quantity_equal(initializers[0]["namespace"]["spread"], 5 * mV)
    # Brian turns group.v['i >= 6'] = -60*mV into code; it stays a constant
    assert initializers[2]["index"] == "i >= 6"
    assert_quantity_equal(initializers[2]["value"], -60 * mV)
    np.testing.assert_array_equal(initializers[3]["index"], [0, 1])
    assert_quantity_equal(initializers[3]["value"], [1, 2] * mV)
    assert initializers[4]["value"] == 3 and initializers[4]["index"] is None
    np.testing.assert_array_equal(initializers[5]["index"], [4, 5])
    # values given without units through v0_ are described with the unit
    assert_quantity_equal(initializers[7]["value"], np.linspace(0, 7, 8) * mV)
    # assignments through a subgroup keep its reference; indices are relative to it
    assert initializers[8]["group"] == {"group": group.name, "start": 2, "stop": 5}
    assert initializers[8]["value"] == "i + N"
    assert initializers[9]["index"] == "i > 0"
    assert initializers[9]["value"] == "v_rest + randn() * mV"

    values = described["initial_values"]
    # i and N are relative to the subgroup group[2:5]
    np.testing.assert_array_equal(values["count"], [3, 3, 3, 4, 5, 7, 3, 3])
    np.testing.assert_array_equal(values["flag"], [True, False] * 4)
    assert_quantity_equal(values["v0"], np.linspace(0, 7, 8) * mV)
    assert_quantity_equal(values["v"][:2], [1, 2] * mV)
    assert_quantity_equal(values["v"][6:], [-60, -60] * mV)

    # the values drawn with rand()/randn() are exactly the runtime device's
    set_device("runtime")
    seed(2024)
    runtime_group = _initialised_group()
    assert_quantity_equal(values["v"], runtime_group.v[:])
    np.testing.assert_array_equal(values["count"], runtime_group.count[:])


def test_assignment_through_a_temporary_subgroup(exporter):
    # group[5:] is gone (only weakly referenced) when Brian hands the
    # assignment to the device: its reference must still be described
    group = NeuronGroup(10, "v : 1")
    group[5:].v[[1, 3]] = 0.7
    group[2:4].v = "i * 0.1"
    run(1 * ms)
    first, second = exporter.runs[0]["neurongroups"][0]["initializers"]
    assert first["group"] == {"group": group.name, "start": 5, "stop": 10}
    np.testing.assert_array_equal(first["index"], [1, 3])
    assert second["group"] == {"group": group.name, "start": 2, "stop": 4}
    np.testing.assert_allclose(
        exporter.runs[0]["neurongroups"][0]["initial_values"]["v"],
        [0, 0, 0, 0.1, 0, 0, 0.7, 0, 0.7, 0],
    )


def test_temporaries_in_reset_are_not_external_names(exporter):
    offset = 3
    group = NeuronGroup(2, "y : 1", threshold="y > 1", reset="tmp = y + offset\ny = 0.1*tmp")
    run(1 * ms)
    (described,) = exporter.runs[0]["neurongroups"]
    assert described["name"] == group.name
    assert described["namespace"] == {"offset": 3}
    assert described["events"]["spike"]["reset"] == "tmp = y + offset\ny = 0.1*tmp"


def test_constant_value_kinds(exporter):
    group = NeuronGroup(3, "x : 1\ny : volt")
    group.x = 0.5
    group.y = "-70*mV"
    group.x[1] = 2
    run(1 * ms)
    first, second_init, third = exporter.runs[0]["neurongroups"][0]["initializers"]
    assert (
        first["kind"] == "constant" and first["value"] == 0.5 and isinstance(first["value"], float)
    )
    assert second_init["kind"] == "constant"
    assert_quantity_equal(second_init["value"], -70 * mV)
    # one value for some cells is a constant too
    assert third["kind"] == "constant" and third["value"] == 2
    np.testing.assert_array_equal(third["index"], [1])


# ---------------------------------------------------------------------- #
# Synapses
# ---------------------------------------------------------------------- #
def _connected_synapses():
    """Neurons and synapses with several connect() calls (used with both devices)."""
    w_max = 2 * mV
    source = NeuronGroup(
        10, "dv/dt = -v / (10*ms) : volt\nI : amp", threshold="v > 1*mV", reset="v = 0*mV"
    )
    target = source[4:9]
    synapses = Synapses(
        source,
        target,
        """
        w : volt
        dx/dt = -x / tau_x : 1 (event-driven)
        I_post = w / Mohm : amp (summed)
        """,
        on_pre={"pre": "v_post += w", "facilitation": "x += 1"},
        on_post="x *= 0.5",
        delay={"facilitation": 2 * ms},
    )
    synapses.connect("i != j", p=0.5)
    synapses.connect(i=[0, 1], j=3)
    synapses.connect(
        j="k for k in range(i - 1, i + 2) if k >= 0 and k < N_post", skip_if_invalid=True
    )
    synapses.w = "rand() * w_max"
    synapses.delay = "j * ms"
    synapses.post.delay = 1 * ms
    return source, synapses


def test_synapses_description(exporter):
    tau_x = 5 * ms
    seed(11)
    source, synapses = _connected_synapses()
    run(1 * ms)
    (described,) = exporter.runs[0]["synapses"]
    assert described["name"] == synapses.name
    assert described["source"] == {"group": source.name, "start": 0, "stop": 10}
    assert described["target"] == {"group": source.name, "start": 4, "stop": 9}

    equations = [(eq["name"], eq["type"], eq["expr"], eq["flags"]) for eq in described["equations"]]
    assert equations == [
        ("w", "parameter", None, []),
        ("x", "differential equation", "-x / tau_x", ["event-driven"]),
        ("I_post", "subexpression", "w / Mohm", ["summed"]),
    ]
    assert described["equations"][2]["unit"] == amp

    pathways = {p["name"]: p for p in described["pathways"]}
    assert set(pathways) == {"pre", "facilitation", "post"}
    assert (pathways["pre"]["prepost"], pathways["pre"]["code"]) == ("pre", "v_post += w")
    assert pathways["facilitation"]["prepost"] == "pre"
    assert (pathways["post"]["prepost"], pathways["post"]["code"]) == ("post", "x *= 0.5")
    assert all(p["event"] == "spike" for p in pathways.values())
    n_synapses = len(synapses)
    assert described["N"] == n_synapses
    assert_quantity_equal(pathways["pre"]["delay"], described["j"] * ms)
    assert_quantity_equal(pathways["facilitation"]["delay"], np.full(n_synapses, 2.0) * ms)
    assert_quantity_equal(pathways["post"]["delay"], np.full(n_synapses, 1.0) * ms)

    connections = described["connections"]
    assert [c["condition"] for c in connections] == ["i != j", None, None]
    assert connections[0]["p"] == 0.5 and connections[0]["n"] == 1
    np.testing.assert_array_equal(connections[1]["i"], [0, 1])
    np.testing.assert_array_equal(connections[1]["j"], [3, 3])
    assert connections[2]["j"] == "k for k in range(i - 1, i + 2) if k >= 0 and k < N_post"
    assert connections[2]["skip_if_invalid"] is True
    assert connections[0]["created"]["start"] == 0
    assert connections[2]["created"]["stop"] == n_synapses
    assert connections[1]["created"]["stop"] - connections[1]["created"]["start"] == 2

    assert set(described["namespace"]) == {"tau_x", "w_max"}
    assert [init["variable"] for init in described["initializers"]] == ["w", "delay", "post.delay"]
    assert set(described["initial_values"]) == {"w", "x"}

    set_device("runtime")
    seed(11)
    _, runtime_synapses = _connected_synapses()
    np.testing.assert_array_equal(described["i"], runtime_synapses.i[:])
    np.testing.assert_array_equal(described["j"], runtime_synapses.j[:])
    assert_quantity_equal(described["initial_values"]["w"], runtime_synapses.w[:])


def test_connect_strings_namespace(exporter):
    p_conn = 0.3
    width = 2
    k_max = 3
    inputs = PoissonGroup(10, 5 * Hz)
    group = NeuronGroup(10, "v : 1")
    synapses = Synapses(inputs, group, "w : 1", on_pre="v += w")
    synapses.connect(j="k for k in sample(N_post, p=p_conn) if abs(k - i) < width")
    synapses.connect(condition="i == j", p="p_conn * 0.5", n="k_max")
    run(1 * ms)
    (described,) = exporter.runs[0]["synapses"]
    assert described["source"] == {"group": inputs.name, "start": 0, "stop": 10}
    first, second_call = described["connections"]
    assert first["namespace"] == {"p_conn": 0.3, "width": 2}
    assert second_call["namespace"] == {"k_max": 3, "p_conn": 0.3}
    assert (second_call["p"], second_call["n"]) == ("p_conn * 0.5", "k_max")
    assert described["namespace"] == {"k_max": 3, "p_conn": 0.3, "width": 2}


def test_synapses_scalar_delay_and_custom_event(exporter):
    group = NeuronGroup(3, "v : 1", threshold="v > 1", events={"burst": "v > 2"})
    synapses = Synapses(group, group, on_pre="v += 0.1", delay=3 * ms, on_event={"pre": "burst"})
    synapses.connect(j="i")
    run(1 * ms)
    (pathway,) = exporter.runs[0]["synapses"][0]["pathways"]
    assert pathway["event"] == "burst"
    assert_quantity_equal(pathway["delay"], [3, 3, 3] * ms)
    assert exporter.runs[0]["synapses"][0]["name"] == synapses.name


# ---------------------------------------------------------------------- #
# Inputs and monitors
# ---------------------------------------------------------------------- #
def test_inputs(exporter):
    base_rate = 10 * Hz
    weight = 0.5 * mV
    target = NeuronGroup(4, "dv/dt = -v / (10*ms) : volt")
    by_expression = PoissonGroup(5, rates="base_rate + i*Hz")
    by_values = PoissonGroup(3, rates=[1, 2, 3] * Hz)
    generator = SpikeGeneratorGroup(3, [0, 2, 1], [1, 2, 3] * ms, period=10 * ms)
    input_expression = PoissonInput(target[1:3], "v", 20, 5 * Hz, weight="weight * 2")
    input_quantity = PoissonInput(target, "v", 10, 2 * Hz, weight=0.1 * mV)
    run(1 * ms)
    description = exporter.runs[0]

    first, second_group = description["poissongroups"]
    assert (first["name"], first["N"]) == (by_expression.name, 5)
    assert first["rates"] == "base_rate + i*Hz"
    assert_quantity_equal(first["namespace"]["base_rate"], 10 * Hz)
    assert second_group["name"] == by_values.name
    assert_quantity_equal(second_group["rates"], [1, 2, 3] * Hz)

    (spikes,) = description["spikegeneratorgroups"]
    assert spikes["name"] == generator.name and spikes["N"] == 3
    np.testing.assert_array_equal(spikes["indices"], [0, 2, 1])
    assert_quantity_equal(spikes["times"], [1, 2, 3] * ms)
    assert_quantity_equal(spikes["period"], 10 * ms)

    expression_input, quantity_input = description["poissoninputs"]
    assert expression_input["name"] == input_expression.name
    assert expression_input["target"] == {"group": target.name, "start": 1, "stop": 3}
    assert (expression_input["target_var"], expression_input["N"]) == ("v", 20)
    assert_quantity_equal(expression_input["rate"], 5 * Hz)
    assert expression_input["weight"] == "weight * 2"
    assert_quantity_equal(expression_input["namespace"]["weight"], 0.5 * mV)
    assert quantity_input["name"] == input_quantity.name
    assert quantity_input["target"] == {"group": target.name, "start": 0, "stop": 4}
    # a Quantity weight is written as Brian's code for it
    assert_quantity_equal(
        eval(quantity_input["weight"], {"uvolt": mV / 1000, "mvolt": mV}), 0.1 * mV
    )


def test_monitors(exporter):
    group = NeuronGroup(
        6,
        "dv/dt = -v / (10*ms) : volt\nI = v / Mohm : amp",
        threshold="v > 1*mV",
        reset="v = 0*mV",
        events={"half": "v > 0.5*mV"},
    )
    synapses = Synapses(group, group, "w : 1", on_pre="v += w*mV")
    synapses.connect(j="i")
    states = StateMonitor(group[2:6], ["v", "I"], record=[0, 3], dt=1 * ms, when="end")
    synaptic_states = StateMonitor(synapses, "w", record=True)
    spikes = SpikeMonitor(group)
    events = EventMonitor(group, "half", variables=["v"], record=False)
    rate = PopulationRateMonitor(group[:3])
    run(2 * ms)
    description = exporter.runs[0]

    state, synaptic = description["statemonitors"]
    assert state["name"] == states.name
    assert state["source"] == {"group": group.name, "start": 2, "stop": 6}
    assert state["variables"] == ["v", "I"]
    np.testing.assert_array_equal(state["record"], [0, 3])
    assert_quantity_equal(state["dt"], 1 * ms)
    assert state["when"] == "end"
    assert synaptic["name"] == synaptic_states.name
    assert synaptic["source"] == {"group": synapses.name, "start": 0, "stop": 6}
    np.testing.assert_array_equal(synaptic["record"], np.arange(6))
    assert_quantity_equal(synaptic["dt"], defaultclock.dt)

    spike, event = description["spikemonitors"]
    assert (spike["name"], spike["event"], spike["record"], spike["variables"]) == (
        spikes.name,
        "spike",
        True,
        [],
    )
    assert (event["name"], event["event"], event["record"], event["variables"]) == (
        events.name,
        "half",
        False,
        ["v"],
    )
    (rates,) = description["ratemonitors"]
    assert rates["name"] == rate.name
    assert rates["source"] == {"group": group.name, "start": 0, "stop": 3}


# ---------------------------------------------------------------------- #
# Runs
# ---------------------------------------------------------------------- #
def test_two_runs_durations_and_changes(exporter):
    tau = 10 * ms
    group = NeuronGroup(3, "dv/dt = -v / tau : volt")
    group.v = 1 * mV
    net = Network(group)
    net.run(10 * ms)
    group.v[0] = 5 * mV
    tau = 20 * ms
    monitor = StateMonitor(group, "v", record=0)
    net.add(monitor)
    defaultclock.dt = 0.05 * ms
    net.run(20 * ms)

    first, second_run = exporter.runs
    assert first["index"] == 0 and second_run["index"] == 1
    assert_quantity_equal(first["duration"], 10 * ms)
    assert_quantity_equal(second_run["duration"], 20 * ms)
    assert_quantity_equal(first["t_start"], 0 * ms)
    assert_quantity_equal(second_run["t_start"], 10 * ms)
    assert_quantity_equal(first["dt"], 0.1 * ms)
    assert_quantity_equal(second_run["dt"], 0.05 * ms)
    assert_quantity_equal(net.t, 30 * ms)
    assert first["changes"] == []

    (group_first,) = first["neurongroups"]
    (group_second,) = second_run["neurongroups"]
    assert group_first["continued"] is False and group_second["continued"] is True
    assert_quantity_equal(group_first["namespace"]["tau"], 10 * ms)
    assert_quantity_equal(group_second["namespace"]["tau"], 20 * ms)
    # the state of a continued group is the simulated one: not known, not made up
    assert group_second["initial_values"] is None
    assert [init["variable"] for init in group_second["initializers"]] == ["v"]
    assert second_run["statemonitors"][0]["continued"] is False

    kinds = {(change["object"], change["kind"]) for change in second_run["changes"]}
    assert kinds == {
        ("defaultclock", "dt"),
        (group.name, "assignment"),
        (group.name, "namespace"),
        (monitor.name, "added"),
    }
    assignment = next(c for c in second_run["changes"] if c["kind"] == "assignment")
    np.testing.assert_array_equal(assignment["initializer"]["index"], [0])
    assert_quantity_equal(assignment["initializer"]["value"], 5 * mV)
    namespace_change = next(c for c in second_run["changes"] if c["kind"] == "namespace")
    assert "tau" in namespace_change["detail"]


def test_removed_objects_and_new_connections(exporter):
    group = NeuronGroup(4, "v : 1", threshold="v > 1")
    synapses = Synapses(group, group, "w : 1", on_pre="v += w")
    synapses.connect(i=0, j=1)
    monitor = SpikeMonitor(group)
    net = Network(group, synapses, monitor)
    net.run(1 * ms)
    net.remove(monitor)
    synapses.connect(i=2, j=3)
    net.run(1 * ms)
    changes = exporter.runs[1]["changes"]
    assert {(c["object"], c["kind"]) for c in changes} == {
        (monitor.name, "removed"),
        (synapses.name, "connection"),
    }
    connection = next(c for c in changes if c["kind"] == "connection")
    np.testing.assert_array_equal(connection["connection"]["i"], [2])
    np.testing.assert_array_equal(exporter.runs[1]["synapses"][0]["i"], [0, 2])


def test_new_spikes_between_runs_are_a_change(exporter):
    generator = SpikeGeneratorGroup(2, [0, 1], [1, 2] * ms)
    net = Network(generator)
    net.run(5 * ms)
    generator.set_spikes([1], [7] * ms)
    net.run(5 * ms)
    first, second_run = exporter.runs
    assert exporter.runs[0]["seed"] is None
    np.testing.assert_array_equal(second_run["spikegeneratorgroups"][0]["indices"], [1])
    assert_quantity_equal(second_run["spikegeneratorgroups"][0]["times"], [7] * ms)
    details = {(c["object"], c["kind"], c["detail"]) for c in second_run["changes"]}
    assert details == {
        (generator.name, "modified", "'indices' changed"),
        (generator.name, "modified", "'times' changed"),
    }


def test_namespace_argument_and_function_frames(exporter):
    def build_and_run():
        tau_local = 4 * ms
        group = NeuronGroup(1, "dv/dt = -v / tau_local : 1")
        Network(group).run(1 * ms)
        return group

    build_and_run()
    assert_quantity_equal(exporter.runs[0]["neurongroups"][0]["namespace"]["tau_local"], 4 * ms)

    group = NeuronGroup(1, "dv/dt = -v / tau_given : 1")
    Network(group).run(1 * ms, namespace={"tau_given": 7 * ms})
    assert_quantity_equal(exporter.runs[1]["neurongroups"][0]["namespace"]["tau_given"], 7 * ms)

    missing = NeuronGroup(1, "dv/dt = -v / tau_missing : 1")
    with pytest.raises(Exception, match="tau_missing"):
        Network(missing).run(1 * ms)


def test_run_does_not_simulate(exporter):
    group = NeuronGroup(2, "dv/dt = 1 / (10*ms) : 1", threshold="v > 0.5", reset="v = 0")
    group.v = 0.25
    monitor = SpikeMonitor(group)
    run(100 * ms)
    np.testing.assert_array_equal(group.v[:], [0.25, 0.25])
    # the monitor's recordings do not exist: reading them says so (no silent zero)
    with pytest.raises(NotSimulatedError, match="exported the model instead of simulating"):
        monitor.num_spikes  # noqa: B018
    assert_quantity_equal(defaultclock.t, 100 * ms)


def test_collect_network_without_the_device():
    duration_constant = 3 * ms
    group = NeuronGroup(3, "dv/dt = -v / duration_constant : 1", name="plain")
    group.v = "i"
    net = Network(group)
    description = collect_network(net, 5 * ms, {"duration_constant": duration_constant})
    (described,) = description["neurongroups"]
    assert described["name"] == "plain"
    assert_quantity_equal(described["namespace"]["duration_constant"], 3 * ms)
    np.testing.assert_array_equal(described["initial_values"]["v"], [0, 1, 2])
    assert described["initializers"] == []
    assert_quantity_equal(description["duration"], 5 * ms)


# ---------------------------------------------------------------------- #
# Refusals
# ---------------------------------------------------------------------- #
# Each script builds a model that cannot be exported and runs it (in its own
# frame, so that Brian finds its names); the run must refuse it by name.
def _network_operation():
    group = NeuronGroup(1, "v : 1")

    @network_operation(dt=1 * ms, name="nudge")
    def nudge():
        group.v += 1

    run(1 * ms)


def _python_function():
    @check_units(x=1, result=1)
    def squash(x):
        return x / (1 + abs(x))

    group = NeuronGroup(1, "dv/dt = squash(v) / (10*ms) : 1", name="squashed")
    run(1 * ms)


def _run_regularly_off_the_steps():
    group = NeuronGroup(1, "v : 1", name="regular")
    group.run_regularly("v = 0", dt=0.25 * ms)  # not on the default clock's 0.1 ms steps
    run(1 * ms)


def test_timed_arrays_are_described_by_their_values(exporter):
    stimulus = TimedArray([1, 2] * mV, dt=1 * ms)  # noqa: F841 -- used by the equations
    rates = TimedArray(np.array([[1.0, 2.0], [3.0, 4.0]]), dt=2 * ms)  # noqa: F841
    group = NeuronGroup(2, """dv/dt = (stimulus(t) - v) / (10*ms) : volt
                              r = rates(t, i) : 1""", name="driven")  # noqa: F841
    run(1 * ms)
    namespace = exporter.runs[0]["neurongroups"][0]["namespace"]
    assert namespace["stimulus"]["type"] == "TimedArray"
    np.testing.assert_allclose(namespace["stimulus"]["values"], [1, 2] * mV)
    assert namespace["stimulus"]["dt"] == 1 * ms and namespace["stimulus"]["dimensions"] == 1
    assert namespace["rates"]["values"].shape == (2, 2)
    assert namespace["rates"]["dimensions"] == 2 and namespace["rates"]["dt"] == 2 * ms


def test_run_regularly_is_described_with_its_slot_and_cells(exporter):
    group = NeuronGroup(4, "v : 1", name="regular")
    group.run_regularly("v = 0", dt=1 * ms)
    group[:2].run_regularly("v = v + step", dt=2 * ms, when="end", order=3)
    run(1 * ms, namespace={"step": 0.5})
    described = exporter.runs[0]["neurongroups"][0]
    whole, part = described["run_regularly"]
    assert whole["code"] == "v = 0" and whole["dt"] == 1 * ms and whole["when"] == "start"
    assert whole["target"] == {"group": "regular", "start": 0, "stop": 4}
    assert part["target"] == {"group": "regular", "start": 0, "stop": 2}
    assert (part["when"], part["order"], part["namespace"]) == ("end", 3, {"step": 0.5})
    assert described["namespace"] == {"step": 0.5}


def _other_dt():
    group = NeuronGroup(1, "dv/dt = -v / (10*ms) : 1", dt=0.5 * ms, name="slow")
    run(1 * ms)


def _linked_variable():
    source = NeuronGroup(2, "v : 1")
    follower = NeuronGroup(2, "w : 1 (linked)", name="follower")
    follower.w = linked_var(source, "v")
    run(1 * ms)


def _inactive():
    group = NeuronGroup(1, "v : 1", name="switched_off")
    group.active = False
    run(1 * ms)


def _reference_assignment():
    group = NeuronGroup(2, "v : 1", threshold="v > 1", reset="")
    synapses = Synapses(group, group, on_pre="v += 1", name="through")
    synapses.connect()
    synapses.v_post = 2
    run(1 * ms)


def _two_values():
    value = 1
    group = NeuronGroup(2, "dv/dt = value / (10*ms) : 1", name="ambiguous")
    group.v = "value"
    value = 2
    run(1 * ms)


def _spatial_neuron():
    from brian2 import Soma, SpatialNeuron, cm, uF, um

    neuron = SpatialNeuron(
        Soma(30 * um),
        "Im = 1e-4*siemens/cm**2 * (-70*mV - v) : amp/meter**2",
        Cm=1 * uF / cm**2,
        name="compartments",
    )
    run(1 * ms)


def _code_runner():
    group = NeuronGroup(1, "v : 1")
    runner = CodeRunner(group, "stateupdate", code="v = 0", name="custom_runner")
    Network(group, runner).run(1 * ms)


@pytest.mark.parametrize(
    "script, name, feature",
    [
        (_python_function, "squashed", "function 'squash'"),
        (_run_regularly_off_the_steps, "regular_run_regularly", "not a multiple"),
        (_inactive, "switched_off", "active=False"),
        (_reference_assignment, "through", "assignment to 'v_post'"),
        (_two_values, "ambiguous", "'value' with two different values"),
        (_spatial_neuron, "compartments", "SpatialNeuron"),
        (_code_runner, "custom_runner", "custom operation"),
    ],
)
def test_refusals_name_object_and_feature(exporter, script, name, feature):
    with pytest.raises(UnsupportedFeatureError) as raised:
        script()
    message = str(raised.value)
    assert f"'{name}'" in message
    assert feature in message
    assert raised.value.object_name == name
    assert isinstance(raised.value, NotImplementedError)
    assert exporter.runs == []


def test_event_clock_refused(exporter):
    clocks = pytest.importorskip("brian2.core.clocks")
    if not hasattr(clocks, "EventClock"):
        pytest.skip("this Brian version has no EventClock")
    group = NeuronGroup(1, "v : 1")
    monitor = StateMonitor(
        group, "v", record=0, clock=clocks.EventClock([0, 1] * ms), name="irregular"
    )
    with pytest.raises(UnsupportedFeatureError, match="'irregular'.*EventClock"):
        Network(group, monitor).run(2 * ms)


@pytest.mark.parametrize(
    "script, key",
    [(_network_operation, "network_operations"), (_other_dt, "neurongroups"),
     (_linked_variable, "neurongroups")],
)
def test_described_for_readers(exporter, script, key):
    # described (for the Markdown device), refused by the NeuroML export
    # (see tests/test_mdexport_coverage.py)
    script()
    assert exporter.runs[0][key]


def test_store_restore_recorded(exporter):
    group = NeuronGroup(1, "v : 1")  # noqa: F841 -- found by the magic network
    store()
    run(1 * ms)
    restore()
    run(1 * ms)
    assert [action["action"] for action in exporter.runs[0]["actions"]] == ["store"]
    assert [action["action"] for action in exporter.runs[1]["actions"]] == ["restore"]
    assert float(exporter.runs[1]["t_start"]) == 0.0


# ---------------------------------------------------------------------- #
# The device contract for renderers, and files
# ---------------------------------------------------------------------- #
class RecordingRenderer(BaseExporter):
    """A renderer that remembers what it was asked to write."""

    def __init__(self):
        super().__init__()
        self.rendered = []

    def render_and_write(self, runs, filename=None, **unknown):
        if unknown:
            raise TypeError(f"unknown options {sorted(unknown)}")
        self.rendered.append(([run["index"] for run in runs], filename))


@pytest.fixture
def renderer():
    from brian2.devices.device import all_devices

    all_devices["recording_renderer"] = RecordingRenderer()
    yield all_devices["recording_renderer"]
    del all_devices["recording_renderer"]


def test_render_and_write_called_after_each_run_with_options(renderer):
    set_device("recording_renderer", filename="model.txt")
    group = NeuronGroup(1, "v : 1")
    net = Network(group)
    net.run(1 * ms)
    net.run(1 * ms)
    assert renderer.rendered == [([0], "model.txt"), ([0, 1], "model.txt")]


def test_render_and_write_on_explicit_build(renderer):
    set_device("recording_renderer", build_on_run=False, filename="a.txt")
    NeuronGroup(1, "v : 1")
    with pytest.raises(RuntimeError, match="Nothing to export"):
        renderer.build()
    run(1 * ms)
    assert renderer.rendered == []
    renderer.build(filename="b.txt")
    assert renderer.rendered == [([0], "b.txt")]


def test_exporter_has_no_build_options_and_reinit_forgets(exporter):
    set_device("exporter", filename="x")
    NeuronGroup(1, "v : 1")
    with pytest.raises(TypeError, match="filename"):
        run(1 * ms)
    exporter.reinit()
    assert exporter.runs == [] and exporter.log.assignments == []
    assert brian2tools.baseexport.BaseExporter is type(exporter)


def test_write_text_atomic(tmp_path):
    path = tmp_path / "model.md"
    assert write_text_atomic(path, "first\n") == str(path)
    assert path.read_text() == "first\n"
    os.chmod(path, 0o640)
    write_text_atomic(str(path), "second\n")
    assert path.read_text() == "second\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    # a failure while writing leaves the old file and no temporary file
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(path, "caf\u00e9", encoding="ascii")
    assert path.read_text() == "second\n"
    assert sorted(os.listdir(tmp_path)) == ["model.md"]
    with pytest.raises(TypeError, match="str"):
        write_text_atomic(path, b"bytes")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_text_atomic(tmp_path / "missing" / "model.md", "text")


def test_duration_is_checked(exporter):
    NeuronGroup(1, "v : 1")
    with pytest.raises(Exception, match="time|second"):
        run(5)
    with pytest.raises(ValueError, match="non-negative"):
        run(-1 * ms)
    assert second == second


# --------------------------------------------------------------------------- #
# Keys added for the Markdown description and 0.3's layout
# --------------------------------------------------------------------------- #
def test_scheduling_slots_method_and_script_order(exporter):
    group = NeuronGroup(3, """dw/dt = -w/(5*ms) : 1
                              a : 1
                              dv/dt = (w - v)/(10*ms) : 1""",
                        threshold="v > 1", reset="v = 0", events={"low": "v < -1"},
                        name="group")
    group.run_on_event("low", "v = 0", when="before_resets")
    synapses = Synapses(group, group, "x : 1", on_pre="v += x", delay=1 * ms, name="syn")
    synapses.connect(j="i")
    synapses.x = 0.5
    group.a = 2
    state = StateMonitor(group, "v", record=0, when="end", order=3)
    run(1 * ms)
    described = exporter.runs[0]
    neurons = described["neurongroups"][0]
    # Brian's list order (by type, then name) is unchanged; the script's order is added
    assert [eq["name"] for eq in neurons["equations"]] == ["v", "w", "a"]
    assert neurons["equation_order"] == ["w", "a", "v"]
    assert neurons["method_used"] == "exact"
    assert neurons["when"] == "groups" and neurons["order"] == 0
    assert neurons["event_slots"]["spike"] == {"threshold": {"when": "thresholds", "order": 0},
                                               "reset": {"when": "resets", "order": 0}}
    assert neurons["event_slots"]["low"]["reset"] == {"when": "before_resets", "order": 0}
    pathway = described["synapses"][0]["pathways"][0]
    assert (pathway["when"], pathway["order"]) == ("synapses", -1)
    assert described["statemonitors"][0]["when"] == "end"
    assert described["statemonitors"][0]["order"] == 3
    # every step of the script has its place among all of them
    connection = described["synapses"][0]["connections"][0]
    synapse_init = described["synapses"][0]["initializers"][0]
    group_init = neurons["initializers"][0]
    assert (connection["sequence"], synapse_init["sequence"], group_init["sequence"]) == (0, 1, 2)


def test_collect_network_gives_both_layouts():
    group = NeuronGroup(2, "dv/dt = -v/tau : 1", threshold="v > 1", reset="v = 0",
                        method="euler", name="cells")
    network = Network(group)
    description = collect_network(network, 5 * ms, {"tau": 10 * ms})
    assert description["neurongroups"][0]["name"] == "cells"  # the current layout
    legacy = description["components"]["neurongroup"][0]
    assert legacy["user_method"] == "euler"
    assert legacy["equations"] == {"v": {"type": "differential equation", "unit": Unit(1),
                                         "var_type": "float", "expr": "-v/tau"}}
    assert legacy["events"]["spike"]["threshold"]["code"] == "v > 1"
    assert legacy["identifiers"] == {"tau": 10 * ms}
    assert description["initializers_connectors"] == [] and description["inactive"] == []
