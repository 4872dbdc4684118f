"""
Tests of the NeuroML export of synapses with a state of their own
(brian2tools.nmlexport.plastic_synapses): STDP with clip(), short-term
plasticity (Tsodyks-Markram), event-driven and clock-driven synaptic
equations, on_post reached by the post-synaptic spike.

The models are driven by spike generators (deterministic), simulated by Brian
(runtime device, forward Euler) and by jNeuroML from the export, and compared
at every recorded sample except those at which an event arrives: jNeuroML
applies a pre-synaptic event at the start of the step after the one Brian
applies it in, and the synapse sees a post-synaptic spike one step after
Brian too (the values from the next sample on are equal again). jNeuroML
writes 8 significant digits, so values are compared within 1e-6 of their
scale.
"""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from brian2 import (
    Network,
    NeuronGroup,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    defaultclock,
    device,
    ms,
    prefs,
    seed,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete
from nml_helpers import (
    ModelSpec,
    export_model,
    needs_jneuroml,
    run_jneuroml,
    severe_lines,
    simulate_brian,
)

import brian2tools.nmlexport.lemsexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.baseexport import UnsupportedFeatureError
from brian2tools.nmlexport import load_recordings
from brian2tools.nmlexport.network_export import build_network_parts
from brian2tools.nmlexport.plastic_synapses import event_driven_update

DT = float(defaultclock.dt)




# ------------------------------------------------------------------ models
STDP = dict(taupre=20 * ms, taupost=20 * ms, wmax=0.01, dApre=0.005, dApost=-0.008)


def _stdp(method):
    """Brian's documented pair-based STDP rule, driven by spike generators."""
    # pre-synaptic spikes; the post-synaptic cells are made to spike by 'kick'
    # (a kick at t makes its cell spike at t + dt): pre[2] at 8.1 ms is in the
    # same step as the spike of post[0], pre[1] at 10 ms two steps before post[1]
    pre = SpikeGeneratorGroup(3, [0, 1, 2, 0, 1, 2, 0], [5, 10, 8.1, 20, 30, 30.2, 40] * ms,
                              name="pre")
    kicks = SpikeGeneratorGroup(2, [0, 1, 0, 1, 0], [8, 10.1, 25, 41, 30.1] * ms,
                                name="kicks")
    post = NeuronGroup(2, """dv/dt = (ge - v)/(10*ms) : 1
                             dge/dt = -ge/(5*ms) : 1""",
                       threshold="v > 0.5", reset="v = 0", method=method, name="post")
    kick = Synapses(kicks, post, on_pre="v += 1", name="kick")
    kick.connect(j="i")
    # written as Brian users write it: indented code in triple-quoted strings
    stdp = Synapses(pre, post, """
                    w : 1
                    dApre/dt = -Apre/taupre : 1 (event-driven)
                    dApost/dt = -Apost/taupost : 1 (event-driven)
                    """,
                    on_pre="""
                    ge += w
                    Apre += dApre
                    w = clip(w + Apost, 0, wmax)
                    """,
                    on_post="""
                    Apost += dApost
                    w = clip(w + Apre, 0, wmax)
                    """, namespace=dict(STDP), name="stdp")
    stdp.connect()
    stdp.w = "rand() * wmax"
    monitors = [StateMonitor(post, ["v", "ge"], record=True, name="post_state"),
                StateMonitor(stdp, ["w", "Apre", "Apost"], record=True, name="weights"),
                SpikeMonitor(post, name="post_spikes"), SpikeMonitor(pre, name="pre_spikes"),
                SpikeMonitor(kicks, name="kick_spikes")]
    return ModelSpec([pre, kicks, post, kick, stdp, *monitors], durations=[50 * ms])


def _short_term(method):
    """Tsodyks-Markram synapses (two ways of writing them) and a clock-driven variable."""
    times = [2, 4, 6, 8, 10, 12, 14, 16, 40, 41, 70]
    source = SpikeGeneratorGroup(1, [0] * len(times), times * ms, name="source")
    post = NeuronGroup(5, """dv/dt = (ge - v)/(10*ms) : 1
                             dge/dt = -ge/(5*ms) : 1""",
                       threshold="v > 0.3", reset="v = 0", method=method, name="cells")
    constants = dict(U=0.2, tauf=50 * ms, taud=20 * ms)
    # event-driven, as in the issue: facilitation and depression
    facilitating = Synapses(source, post, """w : 1
                                             du/dt = (U - u)/tauf : 1 (event-driven)
                                             dx/dt = (1 - x)/taud : 1 (event-driven)""",
                            on_pre="""u += U*(1 - u)
                                      ge += w*u*x
                                      x -= u*x""", namespace=constants, name="facilitating")
    facilitating.connect(j="0")
    facilitating.w = 1.5
    facilitating.u = 0.2
    facilitating.x = 1
    # Brian's documentation: the update written out with t and lastupdate
    written_out = Synapses(source, post, """x : 1
                                            u : 1
                                            w : 1
                                            lastupdate : second""",
                           on_pre="""u = U + (u - U)*exp(-(t - lastupdate)/tauf)
                                     x = 1 + (x - 1)*exp(-(t - lastupdate)/taud)
                                     ge += w*u*x
                                     x *= (1 - u)
                                     u += U*(1 - u)
                                     lastupdate = t""", delay=1 * ms,
                           namespace={"U": 0.5, "tauf": 10 * ms, "taud": 30 * ms},
                           name="written_out")
    written_out.connect(j="1")
    written_out.w = 2.0
    written_out.x = 1
    written_out.u = 0.5
    # a clock-driven synaptic variable read by on_pre (integrated like Brian's Euler step)
    clocked = Synapses(source, post, """dg/dt = -g/(3*ms) : 1 (clock-driven)
                                        w : 1""",
                       on_pre="g += 0.5\nge += w*g", method="euler", name="clocked")
    clocked.connect(j="2")
    clocked.w = 0.6
    # a plain linear synapse onto the same cells
    plain = Synapses(source, post, on_pre="ge += 0.05", name="plain")
    plain.connect(j="3")
    # Stimberg et al. (2018), as in Brian's examples: a temporary r_S in the code
    temporary = Synapses(source, post, """du_S/dt = (U_0 - u_S)/tau_f : 1 (event-driven)
                                          dx_S/dt = (1 - x_S)/tau_d : 1 (event-driven)""",
                         on_pre="""u_S += U_0*(1 - u_S)
                                   r_S = u_S*x_S
                                   x_S -= r_S
                                   ge_post += w_e*r_S""",
                         namespace={"U_0": 0.6, "tau_f": 30 * ms, "tau_d": 60 * ms, "w_e": 1.2},
                         name="with_temporary")
    temporary.connect(j="4")
    temporary.x_S = 1
    monitors = [StateMonitor(post, ["v", "ge"], record=True, name="cells_state"),
                StateMonitor(facilitating, ["u", "x"], record=True, name="facilitation"),
                StateMonitor(written_out, ["u", "x"], record=True, name="written_state"),
                StateMonitor(clocked, "g", record=True, name="clocked_state"),
                SpikeMonitor(post, name="cells_spikes"),
                SpikeMonitor(source, name="source_spikes")]
    return ModelSpec([source, post, facilitating, written_out, clocked, plain, temporary,
                      *monitors],
                     durations=[80 * ms])


# ----------------------------------------------------------------- helpers
def _steps(times):
    return np.round(np.asarray(times) / DT).astype(int)


def _compare(brian_values, lems_values, skip=(), what=""):
    """Equal within 1e-6 of each row's scale at every sample but those in ``skip`` (row, k)."""
    expected = np.asarray(brian_values)
    got = np.asarray(lems_values)[:, :expected.shape[1]]
    for row in range(expected.shape[0]):
        mask = np.ones(expected.shape[1], dtype=bool)
        mask[[sample for r, sample in skip if r == row and sample < len(mask)]] = False
        scale = max(np.max(np.abs(expected[row])), 1e-30)
        error = np.max(np.abs(got[row][mask] - expected[row][mask]))
        assert error <= 1e-6 * scale, f"{what} row {row}: difference {error:.3g} ({scale:.3g})"
        assert mask.mean() > 0.8


def _compare_spikes(brian, lems):
    assert len(lems["t"]) == len(brian["t"])
    for cell in np.unique(brian["i"]):
        np.testing.assert_allclose(np.sort(np.asarray(lems["t"])[np.asarray(lems["i"]) == cell]),
                                   np.sort(brian["t"][brian["i"] == cell]) + DT,
                                   rtol=0, atol=DT * 1e-3)


def _brian(build):
    """Brian's simulation (numpy target: exporting reset the preferences)."""
    prefs.codegen.target = "numpy"
    return simulate_brian(build)


def _export_and_run(build, folder):
    model = export_model(build, folder)
    log = run_jneuroml(model)
    assert severe_lines(log) == []
    assert [line for line in log.splitlines() if "(WARNING)" in line] == []
    return model, load_recordings(model)


def _describe(build):
    start_scope()
    set_device("exporter")
    try:
        seed(1)
        spec = build("euler")
        network = Network(spec.objects)
        for duration in spec.durations:
            network.run(duration)
        return device.runs[0]
    finally:
        reinit_and_delete()
        set_device("runtime")
        prefs.codegen.target = "numpy"


# ------------------------------------------------------------------- tests
def test_the_event_driven_update_is_brians_exact_one():
    update = event_driven_update({"u": "(U - u)/tauf", "x": "(1 - x)/taud"})
    assert ("u", "=", "_u") in update and ("x", "=", "_x") in update
    code = dict((target, expr) for target, _, expr in update)
    assert "exp(-(t - lastupdate) / tauf)" in code["_u"]
    # evaluated: u relaxes towards U exactly
    values = {"U": 0.2, "u": 0.8, "tauf": 0.05, "t": 0.03, "lastupdate": 0.01,
              "exp": np.exp}
    expected = 0.2 + (0.8 - 0.2) * np.exp(-0.02 / 0.05)
    assert eval(code["_u"], {}, values) == pytest.approx(expected, rel=1e-14)  # noqa: S307


def test_stdp_synapses_are_synapse_components_with_a_state(tmp_path):
    root = ET.parse(export_model(_stdp, tmp_path)).getroot()
    types = {t.get("name"): t for t in root.iter("ComponentType")}
    synapse = types["stdp_plastic_synapse"]
    assert synapse.get("extends") == "post_synapse"
    state = {v.get("name") for v in synapse.iter("StateVariable")}
    assert {"w", "Apre", "Apost", "lastupdate", "ge__state"} <= state
    assert [r.get("name") for r in synapse.iter("Requirement")] == ["lastspike"]
    handler = synapse.find("Dynamics/OnEvent")
    assignments = [(a.get("variable"), a.get("value")) for a in handler]
    # Brian's order: the event-driven update from lastupdate, the statements, lastupdate = t
    assert assignments[0] == ("t__event", "t - dt__step")
    assert ("Apre__next", "Apre * exp(-(t__event - lastupdate) / taupre)") in assignments
    assert [variable for variable, _ in assignments[-4:]] == ["ge__state", "Apre", "w",
                                                              "lastupdate"]
    condition = synapse.find("Dynamics/OnCondition")
    assert condition.get("test") == "lastspike .gt. lastspike__seen"
    assert [a.get("variable") for a in condition][-3:] == ["Apost", "w", "lastupdate"]
    # the cell shows its spikes to its synapses
    assert "lastspike" in {e.get("name") for e in types["post_cell"].iter("Exposure")}
    # one connection per synapse, its initial w as weight, Brian's order of synapses
    projection = root.find("network/projection")
    assert projection.get("synapse") == "stdp_plastic"
    connections = projection.findall("connectionWD")
    assert [(c.get("preCellId"), c.get("postCellId")) for c in connections] == [
        (f"../pre[{i}]", f"../post[{j}]") for i in range(3) for j in range(2)]
    brian = _brian(_stdp)
    np.testing.assert_allclose([float(c.get("weight")) for c in connections],
                               brian["weights"]["w"][:, 0], rtol=1e-15)


@needs_jneuroml
def test_stdp_weights_and_traces_are_brians(tmp_path):
    _, lems = _export_and_run(_stdp, tmp_path)
    brian = _brian(_stdp)
    weights = brian["weights"]
    # the rule did its work: weights moved, clip() held both bounds
    final = weights["w"][:, -1]
    assert np.any(final == 0) and np.any(final == STDP["wmax"])
    assert np.max(np.abs(final - weights["w"][:, 0])) > 1e-3
    # a pre- and a post-synaptic spike in the same step (pre first, as Brian)
    pre_steps = set(_steps(brian["pre_spikes"]["t"]))
    post_steps = _steps(brian["post_spikes"]["t"])
    assert pre_steps & set(post_steps)

    # samples that show an event one step later in jNeuroML
    i = np.repeat(np.arange(3), 2)
    j = np.tile(np.arange(2), 3)
    skip_synapses, skip_cells = set(), set()
    for cell, time in zip(brian["pre_spikes"]["i"], brian["pre_spikes"]["t"], strict=True):
        step = _steps(time)
        skip_synapses |= {(int(k), step + 1) for k in np.nonzero(i == cell)[0]}
        skip_cells |= {(cell_j, step + 1) for cell_j in range(2)}
    for cell, time in zip(brian["post_spikes"]["i"], brian["post_spikes"]["t"], strict=True):
        skip_synapses |= {(int(k), _steps(time) + 1) for k in np.nonzero(j == cell)[0]}
    for cell, time in zip(brian["kick_spikes"]["i"], brian["kick_spikes"]["t"], strict=True):
        skip_cells.add((int(cell), _steps(time) + 1))
    for variable in ("w", "Apre", "Apost"):
        _compare(weights[variable], lems["weights"][variable], skip_synapses, variable)
    # the weights at the end of the run
    np.testing.assert_allclose(np.asarray(lems["weights"]["w"])[:, len(weights["t"]) - 1],
                               final, rtol=1e-7, atol=1e-12)
    for variable in ("v", "ge"):
        _compare(brian["post_state"][variable], lems["post_state"][variable], skip_cells,
                 variable)
    _compare_spikes(brian["post_spikes"], lems["post_spikes"])


@needs_jneuroml
def test_short_term_plasticity_is_brians(tmp_path):
    _, lems = _export_and_run(_short_term, tmp_path)
    brian = _brian(_short_term)
    source_steps = _steps(brian["source_spikes"]["t"])
    delays = {0: 0, 1: 10, 2: 0, 3: 0, 4: 0}  # in steps, per post-synaptic cell
    skip = {(cell, step + delay + 1) for cell, delay in delays.items()
            for step in source_steps}
    for variable in ("v", "ge"):
        _compare(brian["cells_state"][variable], lems["cells_state"][variable], skip, variable)
    _compare_spikes(brian["cells_spikes"], lems["cells_spikes"])
    assert len(brian["cells_spikes"]["t"]) >= 3
    # the synapses' own state
    _compare(brian["facilitation"]["u"], lems["facilitation"]["u"],
             {(0, step + 1) for step in source_steps}, "u")
    _compare(brian["facilitation"]["x"], lems["facilitation"]["x"],
             {(0, step + 1) for step in source_steps}, "x")
    _compare(brian["written_state"]["x"], lems["written_state"]["x"],
             {(0, step + 11) for step in source_steps}, "x (written out)")
    _compare(brian["clocked_state"]["g"], lems["clocked_state"]["g"],
             {(0, step + 1) for step in source_steps}, "g (clock-driven)")
    assert np.ptp(brian["cells_state"]["ge"][4]) > 0.5  # the synapses with r_S acted
    # facilitation then depression really happened
    u = brian["facilitation"]["u"][0]
    assert u.max() > 0.5 and brian["facilitation"]["x"][0].min() < 0.5


def _cells_and(synapse_model, on_pre=None, on_post=None, setup=None):
    def build(method):
        cells = NeuronGroup(3, """dv/dt = (ge - v)/(10*ms) : volt
                                  dge/dt = -ge/(5*ms) : volt""",
                            threshold="v > 5*mV", reset="v = 0*mV", method=method,
                            name="cells")
        synapses = Synapses(cells, cells, synapse_model, on_pre=on_pre, on_post=on_post,
                            name="plastic")
        synapses.connect(j="(i + 1) % 3")
        if setup:
            setup(synapses)
        return ModelSpec([cells, synapses], durations=[1 * ms])
    return build


def _two_weights(synapses):
    synapses.w = "i * mV"
    synapses.a = "i * 0.1"


@pytest.mark.parametrize("build, fragment", [
    (_cells_and("w : volt", on_pre="v = w\nw += 0.1*mV"),
     "'v = w' changing the post-synaptic variable 'v' of 'cells' from plastic synapses"),
    (_cells_and("w : volt", on_pre="ge += w", on_post="ge += w\nw += 0.1*mV"),
     "'ge += w' changing the variable 'ge' of the post-synaptic neuron 'cells' in the 'post' "
     "pathway"),
    (_cells_and("w : volt", on_pre="ge += w\nv_pre += 1*mV\nw *= 0.9"),
     "'v_pre' (a variable of the pre-synaptic neuron) changed by the 'pre' pathway"),
    (_cells_and("w : volt", on_pre="ge += w\nw += 0.01*v_post"),
     "'v_post' (a neuron's variable) read in the 'pre' pathway"),
    (_cells_and("""w : volt
                   dg/dt = -g/(5*ms) : 1 (clock-driven)""",
                on_pre="ge += w*g", on_post="g += 1"),
     "the clock-driven variable 'g' together with the 'post' pathway"),
    (_cells_and("""w : volt
                   dg/dt = (sin(t/ms) - g)/(5*ms) : 1 (clock-driven)""", on_pre="ge += w*g"),
     "'t' in the clock-driven equation of 'g'"),
    (_cells_and("w : volt\na : 1", on_pre="ge += w*a\na *= 0.5", setup=_two_weights),
     "different initial values in each synapse for 'a', 'w'"),
    (_cells_and("w : volt", on_pre="ge += w\nw = w * rand()"),
     "the random function rand()"),
])
def test_what_cannot_be_exported_is_refused_by_name(build, fragment, tmp_path):
    with pytest.raises(UnsupportedFeatureError) as error:
        export_model(build, tmp_path)
    assert "plastic" in str(error.value) and fragment in str(error.value), str(error.value)


def test_a_delayed_post_pathway_is_refused_by_name():
    def build(method):
        cells = NeuronGroup(2, """dv/dt = (ge - v)/(10*ms) : volt
                                  dge/dt = -ge/(5*ms) : volt""", threshold="v > 5*mV",
                            reset="v = 0*mV", method=method, name="cells")
        synapses = Synapses(cells, cells, "w : volt", on_pre="ge += w",
                            on_post="w += 0.1*mV", name="plastic")
        synapses.connect(j="1 - i")
        synapses.post.delay = 1 * ms
        return ModelSpec([cells, synapses], durations=[1 * ms])

    with pytest.raises(UnsupportedFeatureError,
                       match="plastic.*a delay of the 'post' pathway of plastic synapses"):
        build_network_parts(_describe(build), DT, 0.001)


def test_pathways_out_of_brians_default_order_are_refused_by_name(tmp_path):
    def build(method):
        spec = _stdp(method)
        stdp = next(obj for obj in spec.objects if obj.name == "stdp")
        stdp.post.order = -2
        return spec

    with pytest.raises(UnsupportedFeatureError,
                       match="stdp.*'post' pathway of plastic synapses scheduled before"):
        export_model(build, tmp_path)


def test_the_portable_form_refuses_plastic_synapses_by_name(tmp_path):
    start_scope()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), portable=True)
    try:
        with pytest.raises(UnsupportedFeatureError,
                           match="stdp.*plastic synapses.*portable.*NEURON"):
            seed(1)
            spec = _stdp("linear")
            Network(spec.objects).run(1 * ms)
    finally:
        reinit_and_delete()
        set_device("runtime")
        prefs.codegen.target = "numpy"



def _recurrent(method):
    """STDP between spiking neurons (refractory), with delays, driven by spike generators."""
    drive = SpikeGeneratorGroup(4, [0, 1, 2, 3, 0, 2, 1, 3, 0],
                                [2, 3, 3.5, 5, 12, 12.3, 20, 20.1, 31] * ms, name="drive")
    cells = NeuronGroup(4, """dv/dt = (ge - v)/(10*ms) : 1 (unless refractory)
                              dge/dt = -ge/(3*ms) : 1""",
                        threshold="v > 0.5", reset="v = 0", refractory=1 * ms, method=method,
                        name="cells")
    kick = Synapses(drive, cells, on_pre="v += 0.8", name="kick")
    kick.connect(j="i")
    stdp = Synapses(cells, cells, """w : 1
                                     dApre/dt = -Apre/taupre : 1 (event-driven)
                                     dApost/dt = -Apost/taupost : 1 (event-driven)""",
                    on_pre="""ge += w
                              Apre += dApre
                              w = clip(w + Apost, 0, wmax)""",
                    on_post="""Apost += dApost
                               w = clip(w + Apre, 0, wmax)""",
                    namespace=dict(STDP, wmax=0.3, dApre=0.05, dApost=-0.06),
                    name="recurrent_stdp")
    stdp.connect(condition="i != j")
    stdp.w = "0.1 + 0.05*i + 0.02*j"
    stdp.delay = "(i + j) * 0.2*ms"
    return ModelSpec([drive, cells, kick, stdp,
                      StateMonitor(stdp, "w", record=True, name="recurrent_weights"),
                      SpikeMonitor(cells, name="cells_spikes")], durations=[45 * ms])


@needs_jneuroml
def test_stdp_between_spiking_neurons_with_delays_is_brians(tmp_path):
    _, lems = _export_and_run(_recurrent, tmp_path)
    brian = _brian(_recurrent)
    _compare_spikes(brian["cells_spikes"], lems["cells_spikes"])
    assert len(brian["cells_spikes"]["t"]) >= 8
    weights = brian["recurrent_weights"]["w"]
    assert np.max(np.abs(weights[:, -1] - weights[:, 0])) > 0.01
    # the weights once every event has been handled (no spike in the last 5 ms)
    assert brian["cells_spikes"]["t"].max() < 0.04
    np.testing.assert_allclose(np.asarray(lems["recurrent_weights"]["w"])[:, weights.shape[1] - 1],
                               weights[:, -1], rtol=1e-7, atol=1e-12)
    # every sample, but those at which a pre-synaptic event (after its delay) or a
    # post-synaptic spike changes a weight
    pairs = [(i, j) for i in range(4) for j in range(4) if i != j]  # Brian's order
    skip = set()
    for cell, time in zip(brian["cells_spikes"]["i"], brian["cells_spikes"]["t"], strict=True):
        step = int(_steps(time))
        for synapse, (i, j) in enumerate(pairs):
            if i == cell:
                skip.add((synapse, step + 2 * (i + j) + 1))
            if j == cell:
                skip.add((synapse, step + 1))
    _compare(weights, lems["recurrent_weights"]["w"], skip, "w")


def _onto_a_subgroup(method):
    """Plastic synapses onto a sub-group, read back through a StateMonitor of two synapses."""
    source = SpikeGeneratorGroup(2, [0, 1, 0, 1], [1, 1.5, 3, 6] * ms, name="source")
    cells = NeuronGroup(3, """dv/dt = (ge - v)/(10*ms) : 1
                              dge/dt = -ge/(5*ms) : 1""", method=method, name="cells")
    synapses = Synapses(source, cells[1:], """w : 1
                                              dA/dt = -A/(5*ms) : 1 (event-driven)""",
                        on_pre="ge += w*A\nA += 1\nw *= 0.9", name="onto_sub")
    synapses.connect()
    synapses.w = "0.5 + 0.1*i + 0.2*j"
    return ModelSpec([source, cells, synapses,
                      StateMonitor(synapses, ["A", "w"], record=[1, 2], name="sub_state"),
                      StateMonitor(cells, "ge", record=True, name="cells_ge"),
                      SpikeMonitor(source, name="source_spikes")], durations=[10 * ms])


@needs_jneuroml
@pytest.mark.parametrize("form", ["components", "events"])
def test_plastic_synapses_onto_a_subgroup_in_both_forms(tmp_path, form):
    model = export_model(_onto_a_subgroup, tmp_path, synapses=form)
    assert run_jneuroml(model)
    lems = load_recordings(model)
    brian = _brian(_onto_a_subgroup)
    output = next(f for f in ET.parse(model).getroot().iter("OutputFile")
                  if f.get("id") == "sub_state")
    columns = [c.get("quantity") for c in output]
    assert columns[:2] == ["cells[2]/synapses:onto_sub_plastic:0/A",
                           "cells[1]/synapses:onto_sub_plastic:1/A"]
    # synapse 1 is source[0] -> cells[2], synapse 2 source[1] -> cells[1]
    spikes = {0: _steps([1, 3] * ms), 1: _steps([1.5, 6] * ms)}
    skip = {(row, step + 1) for row, cell in enumerate((0, 1)) for step in spikes[cell]}
    for variable in ("A", "w"):
        _compare(brian["sub_state"][variable], lems["sub_state"][variable], skip, variable)
    assert brian["sub_state"]["A"].max() > 1.5  # A decayed exactly between two events
    arrivals = {(cell, step + 1) for cell in (1, 2) for steps in spikes.values()
                for step in steps}
    _compare(brian["cells_ge"]["ge"], lems["cells_ge"]["ge"], arrivals, "ge")


@needs_jneuroml
def test_the_scripts_synapse_monitor_gets_jneuromls_weights(tmp_path):
    """With simulate='jneuroml', the StateMonitor of the Synapses holds jNeuroML's weights."""
    start_scope()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="jneuroml")
    try:
        seed(1)
        spec = _stdp("linear")
        Network(spec.objects).run(50 * ms)
        monitor = next(obj for obj in spec.objects if obj.name == "weights")
        simulated = np.array(monitor.w)
    finally:
        reinit_and_delete()
        set_device("runtime")
    brian = _brian(_stdp)
    assert simulated.shape == brian["weights"]["w"].shape
    np.testing.assert_allclose(simulated[:, -1], brian["weights"]["w"][:, -1], rtol=1e-7,
                               atol=1e-12)
