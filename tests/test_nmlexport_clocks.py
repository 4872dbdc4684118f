"""
Own clocks and store()/restore() trials, exported to NeuroML/LEMS and simulated in jNeuroML.

Each model is simulated by Brian (runtime device, numpy) and by jNeuroML
through ``set_device('neuroml2', ..., simulate='jneuroml')``; the script's
monitors must hold the same recordings, every sample and every spike. What
cannot be exported faithfully is refused, naming the object and the feature.
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import (
    Clock,
    Hz,
    NeuronGroup,
    PoissonGroup,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    linked_var,
    ms,
    prefs,
    restore,
    run,
    seed,
    set_device,
    start_scope,
    store,
)
from brian2.devices.device import reinit_and_delete
from nml_helpers import monitor_data, needs_jneuroml

import brian2tools.nmlexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.baseexport import UnsupportedFeatureError
from brian2tools.nmlexport.trials import split_trials, trial_runs

#: jNeuroML writes about 7 significant digits
_DIGITS = 1e-6




def _in(device_name, build, **options):
    prefs.codegen.target = "numpy"
    reinit_and_delete()
    set_device(device_name, **options)
    try:
        start_scope()
        seed(11)
        return build()
    finally:
        reinit_and_delete()
        set_device("runtime")


def _brian_and_jneuroml(build, folder):
    """What ``build()`` returns (recordings) in Brian and in jNeuroML."""
    brian = _in("runtime", build)
    exported = _in("neuroml2", build, filename=str(folder / "model.xml"), simulate="jneuroml")
    return brian, exported


def _same(brian, exported):
    """Every sample and every spike of every monitor."""
    assert brian.keys() == exported.keys()
    for name, data in brian.items():
        assert exported[name]["t"].shape == data["t"].shape, name
        np.testing.assert_allclose(exported[name]["t"], data["t"], rtol=0, atol=1e-9)
        for variable, values in data.items():
            if variable == "i":
                np.testing.assert_array_equal(exported[name]["i"], values, err_msg=name)
            elif variable != "t":
                assert exported[name][variable].shape == values.shape
                scale = max(1.0, float(np.max(np.abs(values))))
                np.testing.assert_allclose(exported[name][variable], values, rtol=0,
                                           atol=_DIGITS * scale, err_msg=f"{name}.{variable}")


# ---------------------------------------------------------------------- #
# Own clocks
# ---------------------------------------------------------------------- #
def _slow_and_fast():
    slow_clock = Clock(dt=1 * ms, name="slow_clock")
    fast = NeuronGroup(3, "dv/dt = (1.2 - v)/(4*ms) : 1", threshold="v > 1", reset="v = 0",
                       method="euler", name="fast")
    fast.v = [0.0, 0.2, 0.5]
    # dt in the reset is the group's own (1 ms): w restarts at 0.1*i + 0.1
    slow = NeuronGroup(3, "dw/dt = (2 - w)/(5*ms) : 1", threshold="w > 1",
                       reset="w = 0.1*i + dt/(10*ms)", method="euler", clock=slow_clock,
                       name="slow")
    slow.w = [0.0, 0.3, 0.5]
    sampled = StateMonitor(slow, "w", record=True, dt=1 * ms, name="sampled")
    own = StateMonitor(slow, "w", record=True, name="own")  # on the group's clock
    every_step = StateMonitor(fast, "v", record=True, name="every_step")
    every_2 = StateMonitor(fast, "v", record=[1], dt=0.2 * ms, name="every_2")
    slow_spikes = SpikeMonitor(slow, name="slow_spikes")
    fast_spikes = SpikeMonitor(fast, name="fast_spikes")
    run(12 * ms)
    run(8 * ms)  # a second run: 20 steps of the slow clock in all
    return monitor_data({"sampled": sampled, "own": own, "every_step": every_step,
                        "every_2": every_2, "slow_spikes": slow_spikes,
                        "fast_spikes": fast_spikes})


@needs_jneuroml
@pytest.mark.slow
def test_a_group_on_its_own_clock_matches_brian_every_sample(tmp_path):
    brian, exported = _brian_and_jneuroml(_slow_and_fast, tmp_path)
    _same(brian, exported)
    # the slow group moves only on its own steps: 20 samples, and spikes at whole ms
    assert len(brian["sampled"]["t"]) == len(brian["own"]["t"]) == 20
    assert len(brian["slow_spikes"]["t"]) > 3
    np.testing.assert_allclose(np.round(brian["slow_spikes"]["t"] / 1e-3),
                               brian["slow_spikes"]["t"] / 1e-3, atol=1e-9)
    text = (tmp_path / "model.xml").read_text()
    assert '<Constant name="clock_dt" value="1 ms" dimension="time" />' in text
    assert "(1 - H(clock_count - 0.5)) * 10 * ((2 - w) / (5 * ms))" in text
    assert "w .gt. 1) .and. ((1 - H(clock_count - 0.5)) .gt. 0.5)" in text


def _own_clock_exact():
    slow_clock = Clock(dt=1 * ms, name="slow_clock")
    fast = NeuronGroup(2, "dv/dt = (1.1 - v)/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                       method="exact", name="fast")
    slow = NeuronGroup(3, "dw/dt = (2 - w)/(50*ms) : 1", threshold="w > 1", reset="w = 0",
                       method="exact", clock=slow_clock, name="slow")
    slow.w = [0.0, 0.3, 0.5]
    sampled = StateMonitor(slow, "w", record=True, dt=1 * ms, name="sampled")
    every_step = StateMonitor(fast, "v", record=True, name="every_step")
    slow_spikes = SpikeMonitor(slow, name="slow_spikes")
    run(100 * ms)
    return monitor_data({"sampled": sampled, "every_step": every_step,
                        "slow_spikes": slow_spikes})


@needs_jneuroml
@pytest.mark.slow
def test_a_group_on_its_own_clock_takes_brians_exact_steps(tmp_path):
    # the corpus' form: Brian's exact step with the group's own dt, on its own steps
    brian, exported = _brian_and_jneuroml(_own_clock_exact, tmp_path)
    _same(brian, exported)
    assert len(brian["slow_spikes"]["t"]) >= 3
    text = (tmp_path / "model.xml").read_text()
    assert "(step_w - w) / clock_dt" in text


def _refractory_on_own_clock(refractory):
    def build():
        slow = NeuronGroup(3, "dw/dt = (2 - w)/(5*ms) : 1 (unless refractory)",
                           threshold="w > 1", reset="w = 0.1*i", refractory=refractory,
                           method="euler", clock=Clock(dt=1 * ms), name="slow")
        slow.w = [0.0, 0.3, 0.5]
        fast = NeuronGroup(1, "dv/dt = 1/ms : 1", method="euler", name="fast")  # noqa: F841
        state = StateMonitor(slow, "w", record=True, name="state")
        spikes = SpikeMonitor(slow, name="spikes")
        run(40 * ms)
        return monitor_data({"state": state, "spikes": spikes})
    return build


@needs_jneuroml
@pytest.mark.slow
@pytest.mark.parametrize("refractory", [2.5 * ms, "2*ms + i*ms"])
def test_refractoriness_on_its_own_clock_counts_its_own_steps(tmp_path, refractory):
    # Brian: timestep(t - lastspike, 1 ms) >= timestep(refractory, 1 ms): 2.5 ms is 2 steps
    brian, exported = _brian_and_jneuroml(_refractory_on_own_clock(refractory), tmp_path)
    _same(brian, exported)
    assert len(brian["spikes"]["t"]) > 10


def _export(build, folder):
    return _in("neuroml2", build, filename=str(folder / "model.xml"))


@pytest.mark.parametrize("make, name, feature", [
    (lambda: NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", clock=Clock(dt=0.25 * ms), name="odd"),
     "odd", "not a whole multiple"),
    (lambda: NeuronGroup(1, "dv/dt = -v/(10*ms) + xi/sqrt(ms) : 1", clock=Clock(dt=1 * ms),
                         name="noisy"), "noisy", "noise"),
    (lambda: PoissonGroup(2, 10 * Hz, dt=1 * ms, name="own_poisson"), "own_poisson",
     "own clock"),
    (lambda: NeuronGroup(1, "dv/dt = (stim(t) - v)/(10*ms) : 1", clock=Clock(dt=1 * ms),
                         name="stimulated", namespace={"stim": TimedArray([0, 1, 2], dt=1 * ms)}),
     "stimulated", "TimedArray"),
])
def test_own_clocks_that_cannot_be_written_are_refused_by_name(tmp_path, make, name, feature):
    def build():
        made = make()
        run(2 * ms, namespace={"made": made})

    with pytest.raises(UnsupportedFeatureError, match=feature) as error:
        _export(build, tmp_path)
    assert error.value.object_name == name
    assert not (tmp_path / "model.xml").exists()


def test_a_run_off_the_own_clock_grid_is_refused(tmp_path):
    def build():
        slow = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", clock=Clock(dt=1 * ms), name="slow")
        run(2.5 * ms, namespace={"slow": slow})

    with pytest.raises(UnsupportedFeatureError, match="not a whole multiple of its dt"):
        _export(build, tmp_path)


def test_own_clocks_are_refused_in_the_portable_form(tmp_path):
    def build():
        slow = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", clock=Clock(dt=1 * ms), name="slow")
        run(2 * ms, namespace={"slow": slow})

    with pytest.raises(UnsupportedFeatureError, match="portable") as error:
        _in("neuroml2", build, filename=str(tmp_path / "model.xml"), portable=True)
    assert error.value.object_name == "slow"


# ---------------------------------------------------------------------- #
# store()/restore() trials
# ---------------------------------------------------------------------- #
def _trials():
    group = NeuronGroup(6, """dv/dt = (I - v)/(10*ms) : 1
                              I : 1 (shared)""", threshold="v > 1", reset="v = 0",
                        method="euler", name="cells")
    group.v = "rand()"
    spikes = SpikeMonitor(group, name="spikes")
    state = StateMonitor(group, "v", record=[0, 5], name="state")
    store()
    per_trial = []
    for amplitude in [1.2, 1.5, 2.0]:
        restore()
        group.I = amplitude
        run(20 * ms)
        # read between the trials: the monitors hold the trial's recordings
        per_trial.append((spikes.num_spikes, monitor_data({"spikes": spikes, "state": state})))
    return per_trial


@needs_jneuroml
@pytest.mark.slow
def test_store_restore_trials_match_brian_trial_by_trial(tmp_path):
    brian, exported = _brian_and_jneuroml(_trials, tmp_path)
    assert [count for count, _ in exported] == [count for count, _ in brian]
    assert len({count for count, _ in brian}) == 3  # three different trials
    for (_, expected), (_, got) in zip(brian, exported, strict=True):
        _same(expected, got)
    names = sorted(path.name for path in tmp_path.glob("model*.xml"))
    assert names == ["model_trial1.xml", "model_trial2.xml", "model_trial3.xml"]
    assert (tmp_path / "recording_model_trial2.spikes").exists()
    # each trial starts from the stored state, with its own current
    for number, amplitude in enumerate(["1.2", "1.5", "2"], start=1):
        text = (tmp_path / f"model_trial{number}.xml").read_text()
        assert f'<Constant name="I" value="{amplitude}" dimension="none" />' in text


def _trials_of_a_network():
    inputs = SpikeGeneratorGroup(2, [0, 1, 0, 1], [1, 2, 6, 9] * ms, name="inputs")
    cells = NeuronGroup(3, "dv/dt = -v/(5*ms) : 1", threshold="v > 0.9", reset="v = 0",
                        method="euler", name="cells")
    synapses = Synapses(inputs, cells, "w : 1", on_pre="v += w", name="synapses")
    synapses.connect(i=[0, 0, 1, 1], j=[0, 1, 1, 2])
    synapses.w = [0.5, 0.8, 0.6, 1.0]
    synapses.delay = 1 * ms
    spikes = SpikeMonitor(cells, name="spikes")
    state = StateMonitor(cells, "v", record=True, name="state")
    store()
    per_trial = []
    for factor in [1.0, 2.0]:
        restore()
        synapses.w *= factor  # each trial from the stored weights
        run(15 * ms)
        per_trial.append(monitor_data({"spikes": spikes, "state": state}))
    return per_trial


@needs_jneuroml
@pytest.mark.slow
def test_trials_of_a_network_restore_the_synapses(tmp_path):
    brian, exported = _brian_and_jneuroml(_trials_of_a_network, tmp_path)
    assert len(brian[1]["spikes"]["t"]) > len(brian[0]["spikes"]["t"]) > 0
    for expected, got in zip(brian, exported, strict=True):
        _same(expected, got)


def test_trials_are_written_without_simulation_and_reading_a_monitor_is_refused(tmp_path):
    from brian2tools.baseexport.monitors import NotSimulatedError

    def build():
        group = NeuronGroup(2, "dv/dt = (1.5 - v)/(10*ms) : 1", threshold="v > 1",
                            reset="v = 0", name="cells")
        spikes = SpikeMonitor(group, name="spikes")
        store()
        restore()
        run(5 * ms)
        restore()
        group.v = 0.5
        run(5 * ms)
        assert (tmp_path / "model_trial2.xml").exists()
        with pytest.raises(NotSimulatedError, match="spikes"):
            spikes.num_spikes  # noqa: B018 -- the read is the test

    _export(build, tmp_path)
    assert '<Constant name="v_init" value="0.5"' in (tmp_path / "model_trial2.xml").read_text()
    assert not (tmp_path / "model.xml").exists()


def test_trial_runs_start_from_the_restored_state():
    reinit_and_delete()
    set_device("exporter")
    try:
        start_scope()
        group = NeuronGroup(2, "dv/dt = -v/(10*ms) : 1", name="cells")
        group.v = [0.25, 0.75]
        store()
        run(1 * ms)
        restore()
        group.v[1] = 2
        run(1 * ms)
        from brian2 import device

        trials = split_trials(device.runs)
        assert [[run["index"] for run in trial] for trial in trials] == [[0], [1]]
        first = trial_runs(trials[1])[0]
        assert "actions" not in first and first["changes"] == []
        values = first["neurongroups"][0]["initial_values"]["v"]
        np.testing.assert_array_equal(np.asarray(values), [0.25, 2.0])
    finally:
        reinit_and_delete()
        set_device("runtime")


def test_restore_to_a_later_time_is_refused(tmp_path):
    def build():
        cells = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", name="cells")
        run(1 * ms, namespace={"cells": cells})
        store()
        run(1 * ms)
        restore()
        run(1 * ms)

    with pytest.raises(UnsupportedFeatureError, match="back to t = 1. ms"):
        _export(build, tmp_path)


def test_trials_are_refused_in_the_portable_form(tmp_path):
    def build():
        cells = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", name="cells")
        store()
        restore()
        run(1 * ms, namespace={"cells": cells})

    with pytest.raises(UnsupportedFeatureError, match="portable"):
        _in("neuroml2", build, filename=str(tmp_path / "model.xml"), portable=True)


# ---------------------------------------------------------------------- #
# Linked variables
# ---------------------------------------------------------------------- #
def _linked(driver_name):
    """Brian updates the groups in the order of their names: the driver's decides."""
    def build():
        tau_d = 20 * ms  # noqa: F841 -- read by run()
        driver = NeuronGroup(2, """dx/dt = (a - x)/tau_d + 0.1*sin(2*pi*t/(3*ms))/ms : 1
                                   a : 1""", method="euler", name=driver_name)
        driver.a = [2, 3]
        driver.x = [0.1, 0.7]
        cells = NeuronGroup(5, """dv/dt = (x_in + 0.1*a_in - v)/(10*ms) : 1
                                  x_in : 1 (linked)
                                  a_in : 1 (linked)""", threshold="v > 0.7 + 0.2*x_in",
                            reset="v = 0.1*x_in", method="euler", name="cells")
        cells.x_in = linked_var(driver, "x", index=[0, 1, 1, 0, 1])
        cells.a_in = linked_var(driver, "a", index=[0, 1, 1, 0, 1])  # a constant parameter
        same = NeuronGroup(2, """du/dt = (y - u)/(5*ms) : 1
                                 y : 1 (linked)""", method="euler", name="same")
        same.y = linked_var(driver, "x")  # a group of the same size, without index
        state = StateMonitor(cells, ["v", "x_in"], record=True, name="state")
        same_state = StateMonitor(same, "u", record=True, name="same_state")
        spikes = SpikeMonitor(cells, name="spikes")
        run(30 * ms)
        return monitor_data({"state": state, "same_state": same_state, "spikes": spikes})
    return build


@needs_jneuroml
@pytest.mark.slow
@pytest.mark.parametrize("driver_name", ["a_driver", "z_driver"])
def test_linked_variables_match_brian_in_both_update_orders(tmp_path, driver_name):
    brian, exported = _brian_and_jneuroml(_linked(driver_name), tmp_path)
    _same(brian, exported)
    assert len(brian["spikes"]["t"]) > 10
    text = (tmp_path / "model.xml").read_text()
    copy = f"x__{driver_name}"
    assert f'<TimeDerivative variable="{copy}" value="(a__{driver_name} - {copy})' in text
    if driver_name == "a_driver":  # the driver updates first: cells read its new value
        assert (f'<DerivedVariable name="{copy}__next" dimension="none" '
                f'value="{copy} + dt * ((a__') in text
        assert f'<TimeDerivative variable="v" value="({copy}__next + 0.1 * a_in' in text
    else:  # the cells update first: they read the value at the start of the step
        assert '<TimeDerivative variable="v" value="(x_in + 0.1 * a_in - v) / (10 * ms)" />' \
            in text
    # the linked parameter: the values of the source cells 0, 1, 1, 0, 1
    cells = [line.strip() for line in text.splitlines()
             if line.strip().startswith('<Component type="cells_cell"')]
    assert [line.split('a_in="')[1][0] for line in cells] == ["2", "3", "3", "2", "3"]


def _linked_exact(driver_name):
    """Both groups integrated with Brian's exact steps (the corpus' form)."""
    def build():
        driver = NeuronGroup(2, "dx/dt = (a - x)/(20*ms) : 1\na : 1", method="exact",
                             name=driver_name)
        driver.a = [2, 3]
        cells = NeuronGroup(4, """dv/dt = (x_in - v)/(10*ms) : 1
                                  x_in : 1 (linked)""", threshold="v > 1", reset="v = 0",
                            method="exact", name="cells")
        cells.x_in = linked_var(driver, "x", index=[0, 1, 1, 0])
        cells.v = [0, 0.2, 0.4, 0.6]
        state = StateMonitor(cells, "v", record=True, name="state")
        spikes = SpikeMonitor(cells, name="spikes")
        run(40 * ms)
        return monitor_data({"state": state, "spikes": spikes})
    return build


@needs_jneuroml
@pytest.mark.slow
@pytest.mark.parametrize("driver_name", ["a_driver", "z_driver"])
def test_linked_variables_with_brians_exact_steps_match_brian(tmp_path, driver_name):
    # the copy takes the source's exact step, the group its own with the linked
    # value constant over the step (start or new value, as Brian's order says)
    brian, exported = _brian_and_jneuroml(_linked_exact(driver_name), tmp_path)
    _same(brian, exported)
    assert len(brian["spikes"]["t"]) > 5
    text = (tmp_path / "model.xml").read_text()
    assert f'<TimeDerivative variable="x__{driver_name}" value="(step_x__{driver_name} - ' \
        in text


def test_the_order_of_the_updates_changes_brian_s_result():
    first = _in("runtime", _linked("a_driver"))
    second = _in("runtime", _linked("z_driver"))
    assert np.max(np.abs(first["same_state"]["u"] - second["same_state"]["u"])) > 1e-3


@pytest.mark.parametrize("source_code, reset, feature", [
    ("dx/dt = (2 - x)/(20*ms) : 1", "x = 0", "has a reset"),
    ("dx/dt = (2 - x)/(20*ms) + 0.1*xi/sqrt(ms) : 1", None, "noise"),
])
def test_linked_variables_that_cannot_be_copied_are_refused_by_name(tmp_path, source_code,
                                                                     reset, feature):
    def build():
        driver = NeuronGroup(1, source_code, threshold="x > 1" if reset else None,
                             reset=reset, name="driver")
        cells = NeuronGroup(3, """dv/dt = (x_in - v)/(10*ms) : 1
                                  x_in : 1 (linked)""", name="cells")
        cells.x_in = linked_var(driver, "x", index=np.zeros(3, dtype=int))
        run(1 * ms, namespace={"driver": driver, "cells": cells})

    with pytest.raises(UnsupportedFeatureError, match=feature) as error:
        _export(build, tmp_path)
    assert error.value.object_name == "cells"
    assert "linked variable 'x_in'" in str(error.value)


def test_a_linked_variable_in_a_subexpression_read_after_the_source_s_update_is_refused(
        tmp_path):
    def build():
        driver = NeuronGroup(1, "dx/dt = (2 - x)/(20*ms) : 1", name="a_driver")
        cells = NeuronGroup(3, """dv/dt = drive/(10*ms) : 1
                                  drive = x_in - v : 1
                                  x_in : 1 (linked)""", name="cells")
        cells.x_in = linked_var(driver, "x", index=np.zeros(3, dtype=int))
        run(1 * ms, namespace={"driver": driver, "cells": cells})

    with pytest.raises(UnsupportedFeatureError, match="subexpression 'drive'") as error:
        _export(build, tmp_path)
    assert error.value.object_name == "cells"


def test_linked_variables_are_refused_in_the_portable_form(tmp_path):
    def build():
        driver = NeuronGroup(1, "dx/dt = (2 - x)/(20*ms) : 1", name="driver")
        cells = NeuronGroup(3, """dv/dt = (x_in - v)/(10*ms) : 1
                                  x_in : 1 (linked)""", name="cells")
        cells.x_in = linked_var(driver, "x", index=np.zeros(3, dtype=int))
        run(1 * ms, namespace={"driver": driver, "cells": cells})

    with pytest.raises(UnsupportedFeatureError, match="portable"):
        _in("neuroml2", build, filename=str(tmp_path / "model.xml"), portable=True)
