"""
Tests of the NeuroML export of summed variables (brian2tools.nmlexport.summed_variables
and brian2tools.nmlexport.population_sums).

Models with summed variables are exported and simulated by jNeuroML, and
every sample of the neurons' ``v`` and of the summed variable is compared
with Brian (runtime device, forward Euler), within jNeuroML's 8 significant
digits, with the spikes: clock-driven alpha conductances
(``g_syn_post = w*g : 1 (summed)``), summed weights from a subgroup of
sources, a current reading the post-synaptic ``v``, summed and carried
synapses onto the same cells, two Synapses objects summing onto subgroups
(in Brian's order of updaters), and gap junctions (``Igap_post = w*(v_pre -
v_post)``) between all cells of a group, with and without self-connections.
What the export cannot reproduce exactly is refused by name.
"""

import numpy as np
import pytest
from brian2 import (
    NeuronGroup,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    ms,
    prefs,
)
from nml_helpers import (
    ModelSpec,
    compare_spikes,
    export_model,
    needs_jneuroml,
    run_jneuroml,
    severe_lines,
    simulate_brian,
)

import brian2tools.nmlexport.lemsexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.baseexport import UnsupportedFeatureError
from brian2tools.nmlexport import load_recordings


# ------------------------------------------------------------------ models
def _alpha(method):
    """Clock-driven alpha conductances summed onto spiking neurons (3 cells, 2 sources)."""
    tau_s = 2 * ms
    inp = SpikeGeneratorGroup(2, [0, 1, 0, 1, 0, 0], [5, 20, 40, 40, 41.3, 60] * ms,
                              name="inp")
    cells = NeuronGroup(3, """dv/dt = (-v + 3*g_syn)/(10*ms) : 1
                              g_syn : 1""",
                        threshold="v > 0.6", reset="v = 0", method=method, name="cells")
    cells.v = [0.0, 0.2, 0.4]
    synapses = Synapses(inp, cells, """w : 1
                                       dg/dt = (-g + h)/tau_s : 1 (clock-driven)
                                       dh/dt = -h/tau_s : 1 (clock-driven)
                                       g_syn_post = w*g : 1 (summed)""",
                        on_pre="h += 1", method=method, name="alpha")
    synapses.connect(i=[0, 0, 1, 1, 0], j=[0, 1, 1, 2, 2])
    synapses.w = [1.0, 0.5, 0.8, 1.2, 0.3]
    state = StateMonitor(cells, ["v", "g_syn"], record=True, name="state")
    spikes = SpikeMonitor(cells, name="spikes")
    return ModelSpec([inp, cells, synapses, state, spikes], namespace={"tau_s": tau_s},
                     durations=[80 * ms])


def _gap_junctions(method):
    """The gap junctions of Brian's documentation (5 cells)."""
    cells = NeuronGroup(5, """dv/dt = (1.05 - v + Igap)/(10*ms) : 1
                              Igap : 1""",
                        threshold="v > 1", reset="v = 0", method=method, name="cells")
    cells.v = "i * 1.0 / 4"
    synapses = Synapses(cells, cells, """w : 1
                                         Igap_post = w * (v_pre - v_post) : 1 (summed)""",
                        name="gaps")
    synapses.connect()
    synapses.w = 0.02
    return ModelSpec([cells, synapses,
                      StateMonitor(cells, ["v", "Igap"], record=True, name="state"),
                      SpikeMonitor(cells, name="spikes")], durations=[80 * ms])


# ------------------------------------------------------------------- tests
@needs_jneuroml
def test_summed_alpha_conductances_are_brians_at_every_sample(tmp_path):
    model = export_model(_alpha, tmp_path)
    text = model.read_text()
    assert 'select="synapses[*]/g_syn__term"' in text and 'reduce="add"' in text
    log = run_jneuroml(model)
    assert severe_lines(log) == []
    lems = load_recordings(model)
    prefs.codegen.target = "numpy"
    brian = simulate_brian(_alpha)
    steps = brian["state"]["v"].shape[1]
    for variable in ("v", "g_syn"):
        expected = brian["state"][variable]
        got = np.asarray(lems["state"][variable])[:, :steps]
        assert got.shape == expected.shape
        # every sample, within jNeuroML's 8 significant digits
        np.testing.assert_allclose(got, expected, rtol=2e-7,
                                   atol=2e-7 * np.max(np.abs(expected)), err_msg=variable)
    # the conductances did something: spikes, in Brian's steps
    assert len(brian["spikes"]["t"]) >= 3
    compare_spikes(brian["spikes"], lems["spikes"], brian["dt"], neurons=range(3))
    # Brian's monitor sees the sum computed one step earlier: 0 at the first sample
    # after an event, before the conductance has grown
    assert np.all(brian["state"]["g_syn"][:, 0] == 0)


@needs_jneuroml
def test_gap_junctions_are_brians_at_every_sample(tmp_path):
    model = export_model(_gap_junctions, tmp_path)
    text = model.read_text()
    # the coupling to the other cells: their population's sum at the start of the step
    assert 'select="cells[*]/v" reduce="add"' in text
    assert severe_lines(run_jneuroml(model)) == []
    lems = load_recordings(model)
    prefs.codegen.target = "numpy"
    brian = simulate_brian(_gap_junctions)
    _compare_every_sample(brian["state"], lems["state"], ("v", "Igap"))
    assert len(brian["spikes"]["t"]) >= 5
    compare_spikes(brian["spikes"], lems["spikes"], brian["dt"], neurons=range(5))
    # the coupling did something: Igap is not 0
    assert np.max(np.abs(brian["state"]["Igap"])) > 0.01


@pytest.mark.parametrize("connect, weights, fragment", [
    ({"i": [0, 1], "j": [1, 0]}, 0.02, "every (other) cell"),
    ({}, "0.01 * i", "must be the same constant in every synapse"),
])
def test_gap_junctions_the_export_cannot_sum_are_refused_by_name(connect, weights, fragment,
                                                                 tmp_path):
    def build(method):
        spec = _gap_junctions(method)
        cells, _, monitor = spec.objects[:3]
        synapses = Synapses(cells, cells, """w : 1
                                             Igap_post = w * (v_pre - v_post) : 1 (summed)""",
                            name="other_gaps")
        synapses.connect(**connect)
        synapses.w = weights
        return ModelSpec([cells, synapses, monitor], durations=[1 * ms])

    with pytest.raises(UnsupportedFeatureError) as raised:
        export_model(build, tmp_path)
    message = str(raised.value)
    assert "other_gaps" in message and "Igap_post" in message and "'v_pre'" in message
    assert "pre-synaptic neurons" in message and fragment in message


def _constant_terms(method):
    """A summed synaptic weight (constant terms) onto a group, from a subgroup of sources."""
    source = NeuronGroup(4, "dv/dt = 1.2/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                         method=method, name="source")
    source.v = [0.0, 0.3, 0.6, 0.9]
    cells = NeuronGroup(3, """dv/dt = (I - v)/(10*ms) : 1
                              I : 1""",
                        threshold="v > 0.7", reset="v = 0", method=method, name="cells")
    synapses = Synapses(source[1:4], cells, """w : 1
                                               I_post = w : 1 (summed)""",
                        name="weights")
    synapses.connect(i=[0, 1, 2, 2], j=[0, 0, 1, 2])
    synapses.w = [0.5, 0.4, 1.1, 0.2]
    state = StateMonitor(cells, ["v", "I"], record=True, name="state")
    return ModelSpec([source, cells, synapses, state, SpikeMonitor(cells, name="spikes")],
                     durations=[30 * ms])


def _compare_every_sample(brian, lems, variables):
    steps = brian["v"].shape[1]
    for variable in variables:
        expected = brian[variable]
        got = np.asarray(lems[variable])[:, :steps]
        assert got.shape == expected.shape
        # every sample, within jNeuroML's 8 significant digits
        np.testing.assert_allclose(got, expected, rtol=2e-7,
                                   atol=2e-7 * np.max(np.abs(expected)), err_msg=variable)


@needs_jneuroml
def test_summed_weights_from_a_subgroup_are_brians_at_every_sample(tmp_path):
    model = export_model(_constant_terms, tmp_path)
    assert severe_lines(run_jneuroml(model)) == []
    lems = load_recordings(model)
    prefs.codegen.target = "numpy"
    brian = simulate_brian(_constant_terms)
    _compare_every_sample(brian["state"], lems["state"], ("v", "I"))
    # the sums of each cell's synapses, from the second sample on (Brian's monitor
    # records the parameter's initial value first)
    np.testing.assert_allclose(brian["state"]["I"][:, 1], [0.9, 1.1, 0.2])
    assert np.all(brian["state"]["I"][:, 0] == 0)
    assert len(brian["spikes"]["t"]) >= 4
    compare_spikes(brian["spikes"], lems["spikes"], brian["dt"], neurons=range(3))


def _conductance(method):
    """A summed synaptic current that reads the post-synaptic v: I = g*(E - v)."""
    inp = SpikeGeneratorGroup(2, [0, 1, 0, 1, 0], [2, 3, 10, 10.5, 11] * ms, name="inp")
    cells = NeuronGroup(2, """dv/dt = (-v + I)/(5*ms) : 1
                              I : 1""",
                        threshold="v > 0.3", reset="v = -0.1", method=method, name="cells")
    synapses = Synapses(inp, cells, """dg/dt = -g/(3*ms) : 1 (clock-driven)
                                       I_post = g*(1.5 - v_post) : 1 (summed)""",
                        on_pre="g += 0.8", method=method, name="conductances")
    synapses.connect()
    state = StateMonitor(cells, ["v", "I"], record=True, name="state")
    return ModelSpec([inp, cells, synapses, state, SpikeMonitor(cells, name="spikes")],
                     durations=[25 * ms])


@needs_jneuroml
def test_summed_currents_reading_the_post_synaptic_v_are_brians(tmp_path):
    model = export_model(_conductance, tmp_path)
    assert '<Requirement name="v"' in model.read_text()
    assert severe_lines(run_jneuroml(model)) == []
    lems = load_recordings(model)
    prefs.codegen.target = "numpy"
    brian = simulate_brian(_conductance)
    _compare_every_sample(brian["state"], lems["state"], ("v", "I"))
    assert len(brian["spikes"]["t"]) >= 2
    compare_spikes(brian["spikes"], lems["spikes"], brian["dt"], neurons=range(2))


def _refused(variant):
    """Models with a summed variable the export refuses, and what the refusal names."""
    def build(method):
        inp = SpikeGeneratorGroup(1, [0], [1] * ms, name="inp")
        cells = NeuronGroup(3, """dv/dt = (-v + I)/(5*ms) : 1
                                  I : 1
                                  c : 1""",
                            threshold="v > 1", reset="I = 0" if variant == "reset" else "v = 0",
                            method=method, name="cells")
        if variant == "regularly":
            cells.run_regularly("I = 0.5", dt=1 * ms)
        target = cells[1:3] if variant == "subgroup" else cells
        term = {"parameter": "I_post = g*c_post : 1 (summed)"}
        synapses = Synapses(inp, target, f"""dg/dt = -g/(3*ms) : 1 (clock-driven)
                                                {term.get(variant, 'I_post = g : 1 (summed)')}""",
                            on_pre="g += 1", method=method, name="summing")
        synapses.connect()
        return ModelSpec([inp, cells, synapses], durations=[1 * ms])
    return build


@pytest.mark.parametrize("variant, fragments", [
    ("subgroup", ["summing", "clock-driven", "after the synapses' state update"]),
    ("reset", ["summing", "which the reset of 'cells' also sets"]),
    ("regularly", ["summing", "which code of 'cells' run during the simulation also sets"]),
    ("parameter", ["summing", "reading 'c_post'"]),
])
def test_what_cannot_be_summed_is_refused_by_name(variant, fragments, tmp_path):
    with pytest.raises(UnsupportedFeatureError) as raised:
        export_model(_refused(variant), tmp_path)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_summed_variables_onto_the_pre_synaptic_neurons_are_refused_by_name(tmp_path):
    def build(method):
        cells = NeuronGroup(2, """dv/dt = -v/(5*ms) : 1
                                  x : 1""", threshold="v > 1", reset="v = 0",
                            method=method, name="cells")
        synapses = Synapses(cells, cells, """dg/dt = -g/(3*ms) : 1 (clock-driven)
                                             x_pre = g : 1 (summed)""",
                            method=method, name="summing")
        synapses.connect()
        return ModelSpec([cells, synapses], durations=[1 * ms])

    with pytest.raises(UnsupportedFeatureError) as raised:
        export_model(build, tmp_path)
    assert "summing" in str(raised.value) and "onto the pre-synaptic neurons" in str(
        raised.value)


def test_the_portable_form_refuses_summed_variables_by_name(tmp_path):
    with pytest.raises(UnsupportedFeatureError) as raised:
        export_model(_alpha, tmp_path, portable=True)
    message = str(raised.value)
    assert "alpha" in message and "summed variable 'g_syn'" in message and "portable" in message


def _with_carried(method):
    """Summed conductances and synapses that carry 'ge' onto the same cells."""
    inp = SpikeGeneratorGroup(2, [0, 1, 0, 1], [3, 6, 12, 12] * ms, name="inp")
    cells = NeuronGroup(2, """dv/dt = (-v + g_syn + ge)/(10*ms) : 1
                              dge/dt = -ge/(4*ms) : 1
                              g_syn : 1""",
                        threshold="v > 0.5", reset="v = 0", method=method, name="cells")
    summing = Synapses(inp, cells, """dg/dt = -g/(2*ms) : 1 (clock-driven)
                                      g_syn_post = g : 1 (summed)""",
                       on_pre="g += 1", method=method, name="summing")
    summing.connect(i=[0, 1], j=[0, 1])
    carrying = Synapses(inp, cells, on_pre="ge += 1.5", delay=1 * ms, name="carrying")
    carrying.connect(i=[1, 0], j=[0, 1])
    state = StateMonitor(cells, ["v", "ge", "g_syn"], record=True, name="state")
    return ModelSpec([inp, cells, summing, carrying, state], durations=[25 * ms])


@needs_jneuroml
def test_summed_and_carried_synapses_onto_the_same_cells_are_brians(tmp_path):
    model = export_model(_with_carried, tmp_path)
    text = model.read_text()
    assert "g_syn__term__zero" in text  # the carrying synapses' zero term
    assert severe_lines(run_jneuroml(model)) == []
    lems = load_recordings(model)
    prefs.codegen.target = "numpy"
    brian = simulate_brian(_with_carried)
    _compare_every_sample(brian["state"], lems["state"], ("v", "ge", "g_syn"))
    assert np.max(brian["state"]["ge"]) > 1 and np.max(brian["state"]["g_syn"]) > 0.5


def _subgroups(method):
    """Two Synapses objects summing onto parts of a group; the last cell keeps its I."""
    inp = SpikeGeneratorGroup(2, [0, 1, 0, 1], [2, 4, 9, 9.5] * ms, name="inp")
    cells = NeuronGroup(5, """dv/dt = (-v + I)/(5*ms) : 1
                              I : 1""",
                        threshold="v > 0.4", reset="v = 0", method=method, name="cells")
    cells.I = [0.1, 0.2, 0.3, 0.4, 0.5]
    # onto a subgroup, Brian sums after the cells' update: they use the previous sum
    first = Synapses(inp, cells[0:2], """w : 1
                                         I_post = w : 1 (summed)""",
                     on_pre="w += 0.4", name="first")
    first.connect()
    second = Synapses(inp, cells[2:4], """w : 1
                                          I_post = w : 1 (summed)""", name="second")
    second.connect(i=[0, 1], j=[0, 0])
    second.w = [0.25, 0.5]
    state = StateMonitor(cells, ["v", "I"], record=True, name="state")
    return ModelSpec([inp, cells, first, second, state], durations=[20 * ms])


@needs_jneuroml
def test_summed_variables_onto_subgroups_are_brians(tmp_path):
    model = export_model(_subgroups, tmp_path)
    assert severe_lines(run_jneuroml(model)) == []
    lems = load_recordings(model)
    prefs.codegen.target = "numpy"
    brian = simulate_brian(_subgroups)
    _compare_every_sample(brian["state"], lems["state"], ("v", "I"))
    current = brian["state"]["I"]
    # the second Synapses: cell 2 sums 0.75, cell 3 has no synapse (0); cell 4 keeps 0.5
    np.testing.assert_allclose(current[2:, -1], [0.75, 0, 0.5])
    assert np.max(current[0]) > 0.5
    # the cells integrated their initial I in the first step (the previous sum)
    np.testing.assert_allclose(brian["state"]["v"][:2, 1], [0.1 * 0.02, 0.2 * 0.02])
    np.testing.assert_allclose(current[:2, 1], [0, 0])


def _gap_junctions_without_self(method):
    """Gap junctions between every two different cells, with a conductance from the namespace."""
    cells = NeuronGroup(4, """dv/dt = (1.1 - v + Igap)/(10*ms) : 1
                              Igap : 1""",
                        threshold="v > 1", reset="v = 0", refractory=2 * ms, method=method,
                        name="cells")
    cells.v = "i * 0.3"
    synapses = Synapses(cells, cells, "Igap_post = g_gap * (v_pre - v_post) : 1 (summed)",
                        name="gaps")
    synapses.connect(condition="i != j")
    return ModelSpec([cells, synapses,
                      StateMonitor(cells, ["v", "Igap"], record=True, name="state"),
                      SpikeMonitor(cells, name="spikes")], namespace={"g_gap": 0.05},
                     durations=[60 * ms])


@needs_jneuroml
def test_gap_junctions_without_self_connections_are_brians(tmp_path):
    model = export_model(_gap_junctions_without_self, tmp_path)
    assert severe_lines(run_jneuroml(model)) == []
    lems = load_recordings(model)
    prefs.codegen.target = "numpy"
    brian = simulate_brian(_gap_junctions_without_self)
    _compare_every_sample(brian["state"], lems["state"], ("v", "Igap"))
    assert len(brian["spikes"]["t"]) >= 4
    compare_spikes(brian["spikes"], lems["spikes"], brian["dt"], neurons=range(4))
