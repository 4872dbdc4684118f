"""
What changes with time, exported to NeuroML/LEMS and simulated in jNeuroML:
TimedArrays of time and of time and neuron index, ``run_regularly``
operations (on a group and on a sub-group) and changes between runs.

Each model is simulated by Brian (runtime device, numpy, Euler) and by
jNeuroML through ``set_device('neuroml2', ..., simulate='jneuroml')``; the
script's monitors must hold the same recordings, every sample and every
spike. What cannot be exported is refused, naming the object and the feature.
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import (
    Network,
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    defaultclock,
    ms,
    mV,
    nA,
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
    """Every sample of every monitor, within jNeuroML's digits of each variable's scale."""
    assert brian.keys() == exported.keys()
    for name, data in brian.items():
        np.testing.assert_allclose(exported[name]["t"], data["t"], rtol=0, atol=1e-9)
        for variable, values in data.items():
            if variable == "t":
                continue
            if variable in ("i", "count"):  # indices and spike counts: equal
                np.testing.assert_array_equal(exported[name][variable], values)
                continue
            assert exported[name][variable].shape == values.shape
            np.testing.assert_allclose(exported[name][variable], values, rtol=0,
                                       atol=_DIGITS * scales[variable],
                                       err_msg=f"{name}.{variable}")


def _export_text(build) -> str:
    """The LEMS text of ``build()``'s runs (exporter device, no simulation)."""
    prefs.codegen.target = "numpy"
    reinit_and_delete()
    set_device("exporter")
    try:
        start_scope()
        build()
        from brian2 import device

        exporter = NMLExporter()
        exporter.create_lems_model(device.runs)
        return exporter.to_xml()
    finally:
        reinit_and_delete()
        set_device("runtime")


# ---------------------------------------------------------------------- #
# TimedArray
# ---------------------------------------------------------------------- #
def _timed_array_of_time():
    defaultclock.dt = 0.1 * ms
    # steps of 2.5 ms (not a multiple of 1 ms), negative and zero values, clipped at the end
    stim = TimedArray([0, 2, 2, -1, 0, 3, 1.5, 0] * nA, dt=2.5 * ms)  # noqa: F841 -- read by run()
    group = NeuronGroup(2, """dv/dt = (R*stim(t) - v)/(5*ms) : volt
                              R : ohm""",
                        threshold="v > 8*mV", reset="v = 0*mV", method="euler", name="cells")
    group.R = [4, 6] * (mV / nA)
    state = StateMonitor(group, "v", record=True, name="state")
    spikes = SpikeMonitor(group, name="spikes")
    run(25 * ms)
    return {"state": state, "spikes": spikes}


@needs_jneuroml
def test_timed_array_of_time_every_sample(tmp_path):
    brian, exported = _brian_and_jneuroml(_timed_array_of_time, tmp_path)
    assert len(brian["spikes"]["t"]) > 0
    _same_recordings(brian, exported, {"v": 0.01})


def _timed_array_of_time_and_index():
    defaultclock.dt = 0.1 * ms
    # dt of the values a multiple of the simulation's; 3 cells, one of them always 0
    rates = np.array([[0, 1, 0], [2, 1, 0], [2, 3, 0], [0.5, 0.5, 0]])
    r = TimedArray(rates * nA, dt=4 * ms)  # noqa: F841 -- read by run()
    group = NeuronGroup(3, """dv/dt = (5*mV/nA * I - v)/(5*ms) : volt
                              I = r(t, i) : amp""",
                        method="euler", name="cells")
    state = StateMonitor(group, ["v", "I"], record=True, name="state")
    run(20 * ms)
    return {"state": state}


@needs_jneuroml
def test_timed_array_of_time_and_index_every_sample(tmp_path):
    brian, exported = _brian_and_jneuroml(_timed_array_of_time_and_index, tmp_path)
    assert set(np.unique(brian["state"]["I"].round(12))) > {0.0, 1e-9, 2e-9, 3e-9}
    _same_recordings(brian, exported, {"v": 0.01, "I": 1e-9})


def test_timed_array_is_described_and_written_as_steps_of_the_changes():
    text = _export_text(_timed_array_of_time_and_index)
    # the values of the windows where some cell is not zero are per-cell parameters
    assert 'name="r__v1"' in text and 'name="r__v0"' in text
    # a change at 4 ms = step 40: Heaviside half a step before it, exactly 0 or 1
    assert "H(t / dt - 39.5)" in text


def _thousand_values():
    defaultclock.dt = 0.1 * ms
    values = np.sin(np.arange(1000) / 7.0) * nA
    stim = TimedArray(values, dt=0.1 * ms)  # noqa: F841 -- read by run()
    group = NeuronGroup(1, "dv/dt = (5*mV/nA * stim(t) - v)/(5*ms) : volt",
                        method="euler", name="cells")
    state = StateMonitor(group, "v", record=True, name="state")
    run(100 * ms)
    return {"state": state}


@needs_jneuroml
def test_timed_array_of_a_thousand_values_every_sample(tmp_path):
    import time

    start = time.perf_counter()
    brian, exported = _brian_and_jneuroml(_thousand_values, tmp_path)
    elapsed = time.perf_counter() - start
    _same_recordings(brian, exported, {"v": 0.005})
    text = (tmp_path / "model.xml").read_text()
    # 1000 windows in 5 derived variables of 200 (pylems parses long sums slowly)
    assert 'name="stim__t__part4"' in text and 'name="stim__t__part5"' not in text
    print(f"1000-value TimedArray: {text.count('H(')} Heaviside terms, "
          f"{len(text)} characters, Brian + jNeuroML {elapsed:.1f} s")


def test_a_timed_array_of_zeros_is_written_as_zero():
    def build():
        zeros = TimedArray(np.zeros((3, 2)) * nA, dt=1 * ms)  # noqa: F841 -- read by run()
        group = NeuronGroup(2, "dv/dt = (5*mV/nA * zeros(t, i) - v)/(5*ms) : volt",
                            name="cells")
        run(1 * ms)
        return group

    text = _export_text(build)
    assert '<DerivedVariable name="zeros__ti" dimension="current" value="0 * zeros__ti__unit"' \
        in text


def test_timed_array_called_otherwise_is_refused_by_name():
    def build():
        stim = TimedArray([0, 1] * nA, dt=1 * ms)
        group = NeuronGroup(1, "dv/dt = (5*mV/nA * stim(t - 1*ms) - v)/(5*ms) : volt",
                            name="cells")
        run(1 * ms)
        return group, stim

    with pytest.raises(UnsupportedFeatureError, match=r"'cells'.*stim\(t - 1 \* ms\)"):
        _export_text(build)


# ---------------------------------------------------------------------- #
# run_regularly
# ---------------------------------------------------------------------- #
def _run_regularly():
    defaultclock.dt = 0.1 * ms
    group = NeuronGroup(4, """dv/dt = (5*mV/nA * I - v)/(5*ms) : volt
                              I : amp""",
                        threshold="v > 2.5*mV", reset="v = 0*mV", method="euler", name="cells")
    group.I = [0.5, 1, 1.5, 2] * nA
    group.run_regularly("v = 0*mV", dt=5 * ms)
    # a periodic switch of the input on a sub-group, first at t=0
    group[2:4].run_regularly("I = (I + 1*nA) % (2*nA)", dt=2 * ms)
    state = StateMonitor(group, ["v", "I"], record=True, name="state")
    spikes = SpikeMonitor(group, name="spikes")
    run(20 * ms)
    return {"state": state, "spikes": spikes}


@needs_jneuroml
def test_run_regularly_on_group_and_subgroup_every_sample(tmp_path):
    brian, exported = _brian_and_jneuroml(_run_regularly, tmp_path)
    # the operations happened: v is 0 at 5 ms, the input of cell 2 switched
    assert np.all(brian["state"]["v"][:, 50] == 0)
    assert len(set(brian["state"]["I"][2].round(12))) == 2
    assert len(brian["spikes"]["t"]) > 0
    _same_recordings(brian, exported, {"v": 0.01, "I": 1e-9})


def _run_regularly_at_the_end():
    defaultclock.dt = 0.1 * ms
    group = NeuronGroup(2, "dv/dt = (6*mV - v)/(5*ms) : volt", method="euler", name="cells")
    group.run_regularly("v = v / 2", dt=1 * ms, when="end")
    state = StateMonitor(group, "v", record=True, name="state")
    run(5 * ms)
    return {"state": state}


@needs_jneuroml
def test_run_regularly_in_the_end_slot_every_sample(tmp_path):
    brian, exported = _brian_and_jneuroml(_run_regularly_at_the_end, tmp_path)
    _same_recordings(brian, exported, {"v": 0.01})


def test_run_regularly_between_state_update_and_reset_is_refused_by_name():
    def build():
        group = NeuronGroup(1, "dv/dt = -v/(5*ms) : volt", name="cells")
        group.run_regularly("v = 0*mV", dt=1 * ms, when="thresholds")
        run(1 * ms)

    with pytest.raises(UnsupportedFeatureError,
                       match=r"'cells_run_regularly'.*'thresholds' slot"):
        _export_text(build)


def test_run_regularly_with_a_dt_off_the_steps_is_refused_by_name():
    def build():
        defaultclock.dt = 0.1 * ms
        group = NeuronGroup(1, "dv/dt = -v/(5*ms) : volt", name="cells")
        group.run_regularly("v = 0*mV", dt=0.25 * ms)
        run(1 * ms)

    with pytest.raises(UnsupportedFeatureError, match=r"'cells_run_regularly'.*multiple"):
        _export_text(build)


# ---------------------------------------------------------------------- #
# Changes between runs
# ---------------------------------------------------------------------- #
def _changes_between_runs():
    defaultclock.dt = 0.1 * ms
    group = NeuronGroup(3, """dv/dt = (5*mV/nA * (I + I_ext) - v)/(5*ms) : volt
                              I : amp""",
                        threshold="v > 6*mV", reset="v = 0*mV", method="euler", name="cells")
    I_ext = 0 * nA
    state = StateMonitor(group, ["v", "I"], record=True, name="state")
    spikes = SpikeMonitor(group, name="spikes")
    run(10 * ms)
    I_ext = 1.5 * nA  # a changed external constant
    group.I = [0, 0.5, 1] * nA  # a changed group variable
    run(10 * ms)
    group.v["i > 0"] = "v + 2*mV"  # a conditional change of a state variable
    group.I[1] = 0 * nA
    I_ext = 0.5 * nA  # noqa: F841 -- read by run()
    run(10 * ms)
    return {"state": state, "spikes": spikes}


@needs_jneuroml
def test_changes_between_runs_every_sample(tmp_path):
    brian, exported = _brian_and_jneuroml(_changes_between_runs, tmp_path)
    assert brian["state"]["v"].shape == (3, 300)
    assert len(brian["spikes"]["t"]) > 0
    _same_recordings(brian, exported, {"v": 0.01, "I": 1e-9})


def _everything_over_two_runs():
    defaultclock.dt = 0.1 * ms
    # a TimedArray that ends during the first run, read in the threshold and the
    # equations, a run_regularly operation, and a change of a parameter in between
    stim = TimedArray([1, 3, 0.5] * nA, dt=3 * ms)  # noqa: F841 -- read by run()
    level = TimedArray([3, 2] * mV, dt=7 * ms)  # noqa: F841
    group = NeuronGroup(2, """dv/dt = (5*mV/nA * stim(t) * gain - v)/(4*ms) : volt
                              gain : 1""",
                        threshold="v > level(t)", reset="v = 0*mV", method="euler",
                        name="cells")
    group.gain = [1, 1.5]
    group.run_regularly("v = v * 0.5", dt=2.5 * ms)
    state = StateMonitor(group, "v", record=True, name="state")
    spikes = SpikeMonitor(group, name="spikes")
    run(12 * ms)
    group.gain = [2, 0.5]
    run(8 * ms)
    return {"state": state, "spikes": spikes}


@needs_jneuroml
def test_timed_array_run_regularly_and_a_change_over_two_runs_every_sample(tmp_path):
    brian, exported = _brian_and_jneuroml(_everything_over_two_runs, tmp_path)
    assert len(brian["spikes"]["t"]) > 3
    _same_recordings(brian, exported, {"v": 0.01})


def test_an_object_added_in_a_later_run_is_refused_by_name():
    # (a monitor created between runs is exported: test_nmlexport_events.py)
    def build():
        group = NeuronGroup(1, "dv/dt = -v/(5*ms) : volt", threshold="v > 1*mV",
                            name="cells")
        network = Network(group)
        network.run(1 * ms)
        late = Synapses(group, group, on_pre="v += 1*mV", name="late")
        late.connect()
        network.add(late)
        network.run(1 * ms)
        return late

    with pytest.raises(UnsupportedFeatureError, match=r"'late'.*between run 0 and run 1: added"):
        _export_text(build)


def test_a_timed_array_replaced_between_runs_is_refused_by_name():
    def build():
        stim = TimedArray([0, 1] * nA, dt=1 * ms)
        group = NeuronGroup(1, "dv/dt = (5*mV/nA * stim(t) - v)/(5*ms) : volt", name="cells")
        run(1 * ms)
        stim = TimedArray([2, 1] * nA, dt=1 * ms)  # noqa: F841 -- read by run()
        run(1 * ms)
        return group

    with pytest.raises(UnsupportedFeatureError,
                       match=r"'cells'.*TimedArray 'stim' replaced between run 0 and run 1"):
        _export_text(build)


def test_a_changed_dt_is_refused_by_name():
    def build():
        NeuronGroup(1, "dv/dt = -v/(5*ms) : volt", name="cells")
        defaultclock.dt = 0.1 * ms
        run(1 * ms)
        defaultclock.dt = 0.05 * ms
        run(1 * ms)

    with pytest.raises(UnsupportedFeatureError, match=r"dt"):
        _export_text(build)


# ---------------------------------------------------------------------- #
# Markdown
# ---------------------------------------------------------------------- #
def test_markdown_states_timed_arrays_and_run_regularly(tmp_path):
    import brian2tools.mdexport  # noqa: F401 -- registers the 'markdown' device

    prefs.codegen.target = "numpy"
    reinit_and_delete()
    set_device("markdown", filename=str(tmp_path / "model"))
    try:
        start_scope()
        stim = TimedArray(np.arange(100) * nA, dt=1 * ms)  # noqa: F841 -- read by run()
        r = TimedArray(np.ones((20, 3)), dt=2 * ms)  # noqa: F841
        group = NeuronGroup(3, """dv/dt = (5*mV/nA*stim(t)*r(t, i) - v)/(5*ms) : volt
                                  I : amp""", name="cells")
        group.run_regularly("v = 0*mV", dt=5 * ms)
        group[1:3].run_regularly("I = (I + 1*nA) % (2*nA)", dt=2 * ms, when="end")
        run(1 * ms)
    finally:
        reinit_and_delete()
        set_device("runtime")
    text = (tmp_path / "model.md").read_text()
    assert "`stim`: TimedArray of 100 values, dt = $1\\,\\mathrm{m}\\mathrm{s}$" in text
    assert "`r`: TimedArray of 20 × 3 values (time × neuron index)" in text
    assert ("**Regularly** (every $5\\,\\mathrm{m}\\mathrm{s}$ from the start, before the "
            "state update, for all 3 neurons of `cells`)") in text
    assert "in the `end` slot, for neurons 1 to 2 (2 neurons) of `cells`" in text
    assert "$v \\leftarrow 0\\,\\mathrm{m}\\mathrm{V}$" in text


# ---------------------------------------------------------------------- #
# The portable (NEURON-ready) form
# ---------------------------------------------------------------------- #
@pytest.mark.parametrize("build, feature", [
    (_timed_array_of_time, "the TimedArray 'stim'"),
    (_run_regularly, "the run_regularly operation 'cells_run_regularly'"),
    (_changes_between_runs, "the change of 'I_ext' between runs"),
])
def test_the_portable_form_refuses_what_changes_in_time_by_name(tmp_path, build, feature):
    prefs.codegen.target = "numpy"
    reinit_and_delete()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), portable=True)
    try:
        start_scope()
        with pytest.raises(UnsupportedFeatureError) as raised:
            build()
    finally:
        reinit_and_delete()
        set_device("runtime")
    message = str(raised.value)
    assert "'cells'" in message and feature in message and "portable" in message


def test_run_regularly_reading_a_variable_synapses_add_to_is_refused_by_name():
    from brian2 import SpikeGeneratorGroup, Synapses

    def build():
        source = SpikeGeneratorGroup(1, [0], [1] * ms, name="source")
        group = NeuronGroup(1, """dv/dt = -v/(5*ms) : volt
                                  peak : volt""", name="cells")
        synapses = Synapses(source, group, on_pre="v += 1*mV", name="syn")
        synapses.connect()
        group.run_regularly("peak = v", dt=1 * ms)
        run(2 * ms)
        return source, group, synapses

    with pytest.raises(UnsupportedFeatureError,
                       match=r"'cells'.*'v', which synapses add to.*cells_run_regularly"):
        _export_text(build)
