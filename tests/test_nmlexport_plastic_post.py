"""
Tests of plastic synapses that change a post-synaptic neuron variable
(brian2tools.nmlexport.plastic_delivery): ``v_post += w*(1 + fac)`` after
``fac += 0.1`` in the same ``on_pre``, several synapses arriving at one cell
in the same step, and Song et al.'s STDP rule with ``ge_post += w`` or
``v_post += w``.

The models are driven by spike generators (deterministic), simulated by
Brian (runtime device, forward Euler) and by jNeuroML from the export, and
compared at every recorded sample. With a delay of at least one step
every sample of the neurons and of the synapses' ``on_pre`` changes is
Brian's; without a delay the samples at which an event arrives lack its
increment (the relation of the other synapses without delay), which is
checked exactly. jNeuroML writes 8 significant digits, so values are
compared within 1e-6 of their scale.
"""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from brian2 import (
    NeuronGroup,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    defaultclock,
    ms,
    mV,
    prefs,
)
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

DT = float(defaultclock.dt)




# ------------------------------------------------------------------ models
# three inputs onto two cells (all to all): the three arrive together at 1 ms, input 0
# again one step later (cell 1 then crosses its threshold and spikes in the step in
# which input 1 arrives, which the reset overwrites), then during the refractory
# period, then two in the same step and others apart
INPUT_CELLS = [0, 1, 2, 0, 1, 1, 0, 2, 1, 2]
INPUT_TIMES = [1, 1, 1, 1.1, 1.2, 2.0, 5, 5.04, 7.5, 9] * ms


def _facilitation(delay_steps, refractory=True):
    """The coverage script's synapses (event-driven trace), with an input of spike generators."""
    def build(method):
        inputs = SpikeGeneratorGroup(3, INPUT_CELLS, INPUT_TIMES, name="inputs")
        flags = " (unless refractory)" if refractory else ""
        cells = NeuronGroup(2, f"dv/dt = -v/(10*ms) : 1{flags}", threshold="v > 0.3",
                            reset="v = 0", refractory=2 * ms if refractory else False,
                            method=method, name="cells")
        synapses = Synapses(inputs, cells, """w : 1
                                              dfac/dt = -fac/(20*ms) : 1 (event-driven)""",
                            on_pre="""fac += 0.1
                                      v_post += w*(1 + fac)""",
                            delay=delay_steps * defaultclock.dt, name="facilitating")
        synapses.connect()
        synapses.w = "0.05 + 0.02*i + 0.01*j"
        return ModelSpec([inputs, cells, synapses,
                          StateMonitor(cells, "v", record=True, name="cells_v"),
                          StateMonitor(synapses, ["fac", "w"], record=True, name="synapses_state"),
                          SpikeMonitor(cells, name="cells_spikes"),
                          SpikeMonitor(inputs, name="input_spikes")],
                         durations=[12 * ms])
    return build


SONG = dict(taum=10 * ms, taupre=20 * ms, taupost=20 * ms, Ee=0 * mV, vt=-54 * mV,
            vr=-60 * mV, El=-74 * mV, taue=5 * ms, gmax=0.5, dApre=0.05,
            dApost=-0.05 * 1.05)


def _song(target, delay_steps=1):
    """Song et al.'s STDP rule (Brian's example), ``ge_post += w`` or ``v_post += w*mV``."""
    def build(method):
        times = [1, 1.5, 2, 2.2, 2.4, 3, 8, 8.1, 8.2, 8.3, 12, 20, 20.3, 20.5, 21, 30]
        inputs = SpikeGeneratorGroup(4, [k % 4 for k in range(len(times))], times * ms,
                                     name="inputs")
        if target == "ge":
            equations = """dv/dt = (ge * (Ee - v) + El - v) / taum : volt
                           dge/dt = -ge / taue : 1"""
            increment = "ge_post += w"
        else:
            equations = "dv/dt = (El - v) / taum : volt"
            increment = "v_post += w*15*mV"
        neurons = NeuronGroup(2, equations, threshold="v > vt", reset="v = vr",
                              method=method, namespace=SONG, name="neurons")
        neurons.v = SONG["El"]
        stdp = Synapses(inputs, neurons, """w : 1
                        dApre/dt = -Apre / taupre : 1 (event-driven)
                        dApost/dt = -Apost / taupost : 1 (event-driven)""",
                        on_pre=f"""{increment}
                                   Apre += dApre
                                   w = clip(w + Apost, 0, gmax)""",
                        on_post="""Apost += dApost
                                   w = clip(w + Apre, 0, gmax)""",
                        delay=delay_steps * defaultclock.dt, namespace=SONG, name="stdp")
        stdp.connect()
        stdp.w = "0.2 + 0.05*i + 0.1*j"
        return ModelSpec([inputs, neurons, stdp,
                          StateMonitor(neurons, ["v"] + (["ge"] if target == "ge" else []),
                                       record=True, name="neurons_state"),
                          StateMonitor(stdp, ["w", "Apre", "Apost"], record=True,
                                       name="stdp_state"),
                          SpikeMonitor(neurons, name="neurons_spikes")],
                         durations=[35 * ms])
    return build


# ----------------------------------------------------------------- helpers
def _steps(times):
    return np.round(np.asarray(times) / DT).astype(int)


def _compare(brian_values, lems_values, skip=(), what=""):
    """Equal within 1e-6 of each row's scale at every sample but those in ``skip`` (row, k)."""
    expected = np.asarray(brian_values)
    got = np.asarray(lems_values)[:, :expected.shape[1]]
    assert got.shape == expected.shape
    for row in range(expected.shape[0]):
        mask = np.ones(expected.shape[1], dtype=bool)
        mask[[sample for r, sample in skip if r == row and sample < len(mask)]] = False
        scale = max(np.max(np.abs(expected[row])), 1e-30)
        error = np.max(np.abs(got[row][mask] - expected[row][mask]))
        assert error <= 1e-6 * scale, f"{what} row {row}: difference {error:.3g} ({scale:.3g})"


def _compare_spikes(brian, lems):
    assert len(lems["t"]) == len(brian["t"])
    for cell in np.unique(brian["i"]):
        np.testing.assert_allclose(np.sort(np.asarray(lems["t"])[np.asarray(lems["i"]) == cell]),
                                   np.sort(brian["t"][brian["i"] == cell]) + DT,
                                   rtol=0, atol=DT * 1e-3)


def _export_and_run(build, folder, method="euler"):
    model = export_model(build, folder, method=method)
    log = run_jneuroml(model)
    assert severe_lines(log) == []
    return model, load_recordings(model)


def _brian(build, method="euler"):
    prefs.codegen.target = "numpy"
    return simulate_brian(build, method=method)


# ------------------------------------------------------------------- tests
def test_the_synapses_deliver_and_the_cell_sums(tmp_path):
    model = export_model(_facilitation(2), tmp_path)
    root = ET.parse(model).getroot()
    types = {t.get("name"): t for t in root.iter("ComponentType")}
    base = types["cells_synapse"]
    assert [e.get("name") for e in base.iter("Exposure")] == ["v__delivered"]
    synapse = types["facilitating_plastic_synapse"]
    # the event is noted, on_pre runs in a condition of the step: fac first, then
    # the increment with the new fac
    assert [(a.get("variable"), a.get("value")) for a in synapse.find("Dynamics/OnEvent")] \
        == [("pre__pending", "1")]
    pending = next(c for c in synapse.iter("OnCondition")
                   if c.get("test") == "pre__pending .gt. 0.5")
    variables = [a.get("variable") for a in pending]
    assert variables.index("fac") < variables.index("v__delivered")
    assert next(a.get("value") for a in pending if a.get("variable") == "v__delivered") \
        == "v__delivered + (w * (1 + fac))"
    cell = types["cells_cell"]
    total = next(d for d in cell.iter("DerivedVariable") if d.get("name") == "v__delivered_sum")
    assert (total.get("select"), total.get("reduce")) == ("synapses[*]/v__delivered", "add")
    # Brian's delay of 2 steps arrives at the start of Brian's step (1.5 steps)
    projection = root.find("network/projection")
    delays = {c.get("delay") for c in projection.iter("connectionWD")}
    assert delays == {"0.15 ms"}


@needs_jneuroml
@pytest.mark.parametrize("delay_steps", [1, 3])
def test_increments_with_a_delay_are_brians_at_every_sample(tmp_path, delay_steps):
    build = _facilitation(delay_steps)
    _, lems = _export_and_run(build, tmp_path)
    brian = _brian(build)
    _compare(brian["cells_v"]["v"], lems["cells_v"]["v"], what="v")
    _compare(brian["synapses_state"]["fac"], lems["synapses_state"]["fac"], what="fac")
    _compare_spikes(brian["cells_spikes"], lems["cells_spikes"])
    # the cases the model is made for happened in Brian: an arrival in the step of a
    # spike (overwritten by the reset), one during the refractory period, and fac grew
    spikes = set(zip(brian["cells_spikes"]["i"].tolist(),
                     _steps(brian["cells_spikes"]["t"]).tolist(), strict=True))
    arrivals = {(cell, int(step) + delay_steps) for cell in (0, 1)
                for step in _steps(brian["input_spikes"]["t"])}
    assert arrivals & spikes
    assert any(cell == spiking and 0 < arrival - step < 20
               for cell, arrival in arrivals for spiking, step in spikes)
    assert brian["synapses_state"]["fac"].max() > 0.15


@needs_jneuroml
@pytest.mark.parametrize("refractory, method", [(False, "euler"), (True, "euler"),
                                                (True, "exact")])
def test_increments_without_a_delay_lack_only_at_the_arrival_sample(tmp_path, refractory,
                                                                    method):
    # (with 'exact', Brian's step starts from v plus what arrived, as with Euler)
    build = _facilitation(0, refractory=refractory)
    _, lems = _export_and_run(build, tmp_path, method)
    brian = _brian(build, method)
    _compare_spikes(brian["cells_spikes"], lems["cells_spikes"])
    v_brian = brian["cells_v"]["v"]
    v_lems = np.asarray(lems["cells_v"]["v"])[:, :v_brian.shape[1]]
    fac = brian["synapses_state"]["fac"]
    weights = brian["synapses_state"]["w"][:, 0]
    i, j = np.repeat(np.arange(3), 2), np.tile(np.arange(2), 3)  # Brian's order of synapses
    spiked = list(zip(brian["cells_spikes"]["i"].tolist(),
                      _steps(brian["cells_spikes"]["t"]).tolist(), strict=True))
    # Brian drops an increment in the step of a spike (the reset) and while refractory
    # (2 ms: 20 steps)
    ignoring = 20 if refractory else 1
    expected = np.zeros_like(v_brian)
    dropped = 0
    for source, step in zip(brian["input_spikes"]["i"], _steps(brian["input_spikes"]["t"]),
                            strict=True):
        for synapse in np.nonzero(i == source)[0]:
            cell = int(j[synapse])
            if not any(cell == spiking and 0 <= step - spike < ignoring
                       for spiking, spike in spiked):
                expected[cell, step + 1] += weights[synapse] * (1 + fac[synapse, step + 1])
            else:
                dropped += 1
    np.testing.assert_allclose(v_brian - v_lems, expected, rtol=0, atol=1e-6)
    assert np.count_nonzero(expected) >= 6 and dropped >= (3 if refractory else 1)
    arrivals = {(int(k), step + 1) for source, step in
                zip(brian["input_spikes"]["i"], _steps(brian["input_spikes"]["t"]), strict=True)
                for k in np.nonzero(i == source)[0]}
    _compare(fac, lems["synapses_state"]["fac"], arrivals, "fac")


@needs_jneuroml
@pytest.mark.parametrize("target", ["ge", "v"])
def test_song_stdp_is_brians(tmp_path, target):
    build = _song(target)
    _, lems = _export_and_run(build, tmp_path)
    brian = _brian(build)
    spikes = brian["neurons_spikes"]
    _compare_spikes(spikes, lems["neurons_spikes"])
    assert len(spikes["t"]) >= 3
    for variable in ["v"] + (["ge"] if target == "ge" else []):
        _compare(brian["neurons_state"][variable], lems["neurons_state"][variable],
                 what=variable)
    state = brian["stdp_state"]
    assert np.any(state["w"] == SONG["gmax"]) or np.any(state["w"] == 0)
    # every sample of the pre pathway's changes; on_post's show one sample later (the
    # synapse sees the post-synaptic spike one step after Brian, documented)
    j = np.tile(np.arange(2), 4)
    skip = {(int(k), step + 1) for cell, step in zip(spikes["i"], _steps(spikes["t"]),
                                                     strict=True)
            for k in np.nonzero(j == cell)[0]}
    # (on_post updates the stored Apre too, Brian's event-driven update to its time)
    for variable in ("w", "Apre", "Apost"):
        _compare(state[variable], lems["stdp_state"][variable], skip, variable)


def _several(second_delay_steps):
    """Two plastic objects adding to v (one subtracts) and plain synapses adding to ge."""
    def build(method):
        inputs = SpikeGeneratorGroup(3, INPUT_CELLS, INPUT_TIMES, name="inputs")
        cells = NeuronGroup(2, """dv/dt = (ge - v)/(10*ms) : 1
                                  dge/dt = -ge/(5*ms) : 1""", threshold="v > 0.3",
                            reset="v = 0", method=method, name="cells")
        first = Synapses(inputs, cells, """w : 1
                                           dfac/dt = -fac/(20*ms) : 1 (event-driven)""",
                         on_pre="""fac += 0.1
                                   v_post += w*(1 + fac)""",
                         delay=defaultclock.dt, name="facilitating")
        first.connect()
        first.w = "0.05 + 0.02*i + 0.01*j"
        second = Synapses(inputs, cells, """dx/dt = (1 - x)/(10*ms) : 1 (event-driven)""",
                          on_pre="""v_post -= 0.04*x
                                    x *= 0.5""",
                          delay=second_delay_steps * defaultclock.dt, name="depressing")
        second.connect(j="i % 2")
        second.x = 1
        plain = Synapses(inputs, cells, on_pre="ge += 0.2", name="plain")
        plain.connect(j="1")
        return ModelSpec([inputs, cells, first, second, plain,
                          StateMonitor(cells, ["v", "ge"], record=True, name="cells_state"),
                          StateMonitor(second, "x", record=True, name="depressing_x"),
                          SpikeMonitor(cells, name="cells_spikes")], durations=[12 * ms])
    return build


@needs_jneuroml
@pytest.mark.parametrize("form", ["components", "events"])
def test_several_synapse_objects_onto_one_cell_add_up(tmp_path, form):
    build = _several(2)
    model = export_model(build, tmp_path, synapses=form)
    assert severe_lines(run_jneuroml(model)) == []
    lems = load_recordings(model)
    brian = _brian(build)
    _compare_spikes(brian["cells_spikes"], lems["cells_spikes"])
    assert len(brian["cells_spikes"]["t"]) >= 1
    # the plain synapses have no delay: ge (and so v) as Brian's but at their arrivals
    plain = {(1, int(step) + 1) for step in _steps(INPUT_TIMES)}
    _compare(brian["cells_state"]["ge"], lems["cells_state"]["ge"], plain, "ge")
    _compare(brian["cells_state"]["v"], lems["cells_state"]["v"], what="v")
    _compare(brian["depressing_x"]["x"], lems["depressing_x"]["x"], what="x")
    if form == "components":
        # the plain synapses' type delivers nothing to v: a zero
        root = ET.parse(model).getroot()
        plain_type = next(t for t in root.iter("ComponentType")
                          if t.get("name", "").startswith("plain"))
        assert any(d.get("name") == "v__delivered" and d.get("value") == "v__delivered__zero"
                   for d in plain_type.iter("DerivedVariable"))


def test_synapses_with_and_without_delay_onto_one_variable_are_refused(tmp_path):
    with pytest.raises(UnsupportedFeatureError,
                       match="plastic synapses with and without delays adding to variables "
                             "of 'cells'"):
        export_model(_several(0), tmp_path)


def _adapting(method):
    """on_post adds to an adaptation variable (and to v, which the reset overwrites)."""
    inputs = SpikeGeneratorGroup(3, INPUT_CELLS, INPUT_TIMES, name="inputs")
    cells = NeuronGroup(2, """dv/dt = (-v - a)/(10*ms) : 1 (unless refractory)
                              da/dt = -a/(30*ms) : 1""", threshold="v > 0.25",
                        reset="v = 0; a += 0.05", refractory=1 * ms, method=method,
                        name="cells")
    synapses = Synapses(inputs, cells, """w : 1
                                          dfac/dt = -fac/(20*ms) : 1 (event-driven)""",
                        on_pre="""fac += 0.1
                                  v_post += w*(1 + fac)""",
                        on_post="""a_post += 0.1*w
                                   v_post += 0.5
                                   fac *= 0.5""",
                        delay=defaultclock.dt, name="adapting")
    synapses.connect()
    synapses.w = "0.1 + 0.05*i + 0.02*j"
    return ModelSpec([inputs, cells, synapses,
                      StateMonitor(cells, ["v", "a"], record=True, name="cells_state"),
                      SpikeMonitor(cells, name="cells_spikes")], durations=[10 * ms])


@needs_jneuroml
def test_on_post_adds_to_the_neuron_with_the_arrival_sample_relation(tmp_path):
    _, lems = _export_and_run(_adapting, tmp_path)
    brian = _brian(_adapting)
    spikes = brian["cells_spikes"]
    _compare_spikes(spikes, lems["cells_spikes"])
    assert len(spikes["t"]) >= 2
    # v: every sample (on_post's v_post += 0.5 is overwritten by the reset, as in Brian)
    _compare(brian["cells_state"]["v"], lems["cells_state"]["v"], what="v")
    # a: Brian's dynamics; the sample after a spike lacks on_post's increment (the
    # synapse sees the spike one step later, the cell integrates from it)
    a_brian = brian["cells_state"]["a"]
    a_lems = np.asarray(lems["cells_state"]["a"])[:, :a_brian.shape[1]]
    weights = 0.1 + 0.05 * np.arange(3)
    expected = np.zeros_like(a_brian)
    for cell, step in zip(spikes["i"], _steps(spikes["t"]), strict=True):
        expected[cell, step + 1] += 0.1 * np.sum(weights + 0.02 * cell)
    np.testing.assert_allclose(a_brian - a_lems, expected, rtol=0, atol=1e-7)
    assert np.count_nonzero(expected) >= 2


def _refused(on_pre, on_post=None):
    def build(method):
        inputs = SpikeGeneratorGroup(1, [0], [1] * ms, name="inputs")
        cells = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                            method=method, name="cells")
        synapses = Synapses(inputs, cells, "w : 1", on_pre=on_pre, on_post=on_post,
                            name="plastic")
        synapses.connect()
        return ModelSpec([inputs, cells, synapses], durations=[2 * ms])
    return build


@pytest.mark.parametrize("build, fragment", [
    (_refused("w += 0.1", on_post="v_post *= 0.5"),
     "'v *= 0.5' changing the post-synaptic variable 'v' of 'cells' from plastic synapses"),
    (_refused("w += 0.1\nv_post = w"),
     "'v = w' changing the post-synaptic variable 'v' of 'cells' from plastic synapses"),
])
def test_what_cannot_be_delivered_is_refused_by_name(build, fragment, tmp_path):
    with pytest.raises(UnsupportedFeatureError) as error:
        export_model(build, tmp_path)
    assert "'plastic'" in str(error.value) and fragment in str(error.value)
    assert "adds to (+=, -=)" in str(error.value)
