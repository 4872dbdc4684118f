"""
Random features beyond noise, exported to NeuroML/LEMS and judged in jNeuroML.

* comparisons and logical operators used as numbers (Heaviside steps): exact,
  every sample against Brian, ties included;
* ``rand()`` in a threshold (one draw per neuron and step, after the update),
  with rates from a TimedArray of (t, i); ``rand()`` in run_regularly;
* PoissonGroups with rates in time (a draw per cell and step);
* PoissonInputs with ``N*rate*dt`` above one event in two steps (Brian's
  binomial draw: exact, and its normal approximation).

jNeuroML draws its own random numbers: the random features are compared with
their distribution (the expected counts, means and variances, which Brian's
runs match too), within several standard errors, and with deterministic
limits (rate 0 or probability 1) that must hold exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import (
    Hz,
    NeuronGroup,
    PoissonGroup,
    PoissonInput,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    defaultclock,
    ms,
    mV,
    prefs,
    run,
    seed,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete
from nml_helpers import needs_jneuroml

import brian2tools.nmlexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.baseexport import UnsupportedFeatureError
from brian2tools.nmlexport.lemsrendering import render_condition, render_expression
from brian2tools.nmlexport.stochastic_sources import _SourceUnits, binomial_input_draw
from brian2tools.nmlexport.truth_values import comparison_units

DT = 0.1 * ms


def _recordings(monitors):
    data = {}
    for name, monitor in monitors.items():
        if isinstance(monitor, StateMonitor):
            data[name] = {"t": np.array(monitor.t[:])}
            for variable in monitor.record_variables:
                data[name][variable] = np.array(getattr(monitor, variable + "_")[:])
        else:
            data[name] = {"t": np.array(monitor.t[:]), "i": np.array(monitor.i[:])}
    return data


def _run(build, folder=None, random_seed=1):
    """The recordings of ``build()`` in Brian (no folder) or in jNeuroML (exported there)."""
    prefs.codegen.target = "numpy"
    reinit_and_delete()
    if folder is None:
        set_device("runtime")
    else:
        set_device("neuroml2", filename=str(folder / f"model{random_seed}.xml"),
                   simulate="jneuroml")
    try:
        start_scope()
        seed(random_seed)
        defaultclock.dt = DT
        return _recordings(build())
    finally:
        reinit_and_delete()
        set_device("runtime")


def _within(observed, expected, standard_error, errors=4.0, what=""):
    assert abs(observed - expected) <= errors * standard_error, (
        f"{what}: {observed:.6g} vs {expected:.6g} (standard error {standard_error:.3g})")


# ---------------------------------------------------------------------- #
# Comparisons and logical operators as numbers
# ---------------------------------------------------------------------- #
@pytest.fixture
def known_units():
    """Render as in a source type without constants: the units of comparisons are known."""
    with comparison_units(_SourceUnits("model", {}, {})):
        yield


def test_comparisons_are_written_with_steps_that_give_brians_ties(known_units):
    mapping = {"x": "x", "y": "y"}
    values = [(-1.5, 2.0), (2.0, 2.0), (3.0, -1.0), (0.0, -0.0), (1e-300, 0.0)]
    for code in ("x < y", "x <= y", "x > y", "x >= y", "x == y", "x != y",
                 "x < y and not y > 0", "x >= y or x == 1"):
        lems = render_expression(f"1*({code})", mapping)
        # jLEMS's H: 0.5 * (signum(x) + 1)
        python = lems.replace("H(", "_h(")
        for x, y in values:
            got = eval(python, {"_h": lambda a: 0.5 * (np.sign(a) + 1), "x": x, "y": y})  # noqa: S307
            assert got == float(eval(code, {"x": x, "y": y})), (code, x, y, lems)  # noqa: S307


def test_a_random_draw_is_compared_once(known_units):
    mapping = {"p": "p"}
    text = render_expression("2*int(rand() < p)", mapping, random=True)
    assert text == "2 * H(-(random(1) - p))"
    assert render_condition("rand() < p", mapping, random=True) == "random(1) .lt. p"
    for code, feature in (("int(rand()*3)", "random number in int()"),
                          ("rand() % 2", "random number in '%'"),
                          ("1*(rand() == p)", "equality test of a random number"),
                          ("poisson(p)", "random function poisson()")):
        with pytest.raises(UnsupportedFeatureError, match=feature.replace("(", r"\(")
                           .replace(")", r"\)")):
            render_expression(code, mapping, random=True)
    # outside thresholds, resets and run_regularly: a draw would be repeated
    with pytest.raises(UnsupportedFeatureError, match=r"rand\(\)"):
        render_expression("rand()", mapping)


def _deterministic_comparisons():
    group = NeuronGroup(4, """dv/dt = (I*int(v < 8) + 12*int(v >= 6 and I > 5) - v)/(5*ms) : 1
                              du/dt = (int(u < 3*mV)*4*mV - u)/(2*ms) : volt
                              I : 1
                              k : 1""",
                        threshold="v > 9", reset="v = 2*int(I > 5) + int(not I <= 5); k += 1",
                        method="euler", name="cells")
    group.I = [0, 5, 12, 20]  # I == 5: the tie of '> 5' and '<= 5'
    group.run_regularly("I = I + 5*int(I == 5) - 5*int(I >= 20 or I == 0)", dt=2 * ms)
    state = StateMonitor(group, ["v", "u", "I", "k"], record=True, name="state")
    spikes = SpikeMonitor(group, name="spikes")
    run(20 * ms)
    return {"state": state, "spikes": spikes}


@pytest.mark.slow
@needs_jneuroml
def test_comparisons_as_numbers_every_sample_in_jneuroml(tmp_path):
    brian, exported = _run(_deterministic_comparisons), _run(_deterministic_comparisons,
                                                             tmp_path)
    assert len(brian["spikes"]["t"]) > 0 and brian["state"]["k"][:, -1].max() > 0
    np.testing.assert_array_equal(exported["spikes"]["i"], brian["spikes"]["i"])
    np.testing.assert_allclose(exported["spikes"]["t"], brian["spikes"]["t"], atol=1e-9)
    for variable, scale in (("v", 1), ("I", 1), ("k", 1), ("u", 1e-3)):
        np.testing.assert_allclose(exported["state"][variable], brian["state"][variable],
                                   rtol=0, atol=2e-5 * scale, err_msg=variable)


def test_comparisons_as_numbers_in_synaptic_code_are_refused_by_name(tmp_path):
    # synaptic code has no unit constants: jLEMS would reject H of a voltage
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    try:
        start_scope()
        cells = NeuronGroup(2, "dv/dt = -v/(10*ms) : volt", threshold="v > 1*volt",
                            reset="v = 0*volt", method="exact", name="cells")
        synapses = Synapses(cells, cells, on_pre="v += 2*mV*int(v < 10*mV)", name="kick")
        synapses.connect()
        with pytest.raises(UnsupportedFeatureError,
                           match="'kick'.*comparison or logical operator as a number"):
            run(1 * ms)
    finally:
        reinit_and_delete()
        set_device("runtime")


# ---------------------------------------------------------------------- #
# rand() in a threshold and in run_regularly
# ---------------------------------------------------------------------- #
_CELLS = 1000
_WINDOW = 100 * ms
# rates of (window, cell): the first half of the cells is silent in the first window
_RATES = np.vstack([np.r_[np.zeros(_CELLS // 2), np.full(_CELLS // 2, 100.0)],
                    np.full(_CELLS, 200.0),
                    np.r_[np.full(_CELLS // 2, 50.0), np.full(_CELLS // 2, 150.0)]])


def _random_threshold():
    rates = TimedArray(_RATES * Hz, dt=_WINDOW)  # noqa: F841 -- read by run()
    group = NeuronGroup(_CELLS, "rate = rates(t, i) : Hz", threshold="rand() < rate*dt",
                        name="inputs")
    spikes = SpikeMonitor(group, name="spikes")
    run(3 * _WINDOW)
    return {"spikes": spikes}


@pytest.mark.slow
@needs_jneuroml
def test_random_threshold_follows_the_timed_rates_in_jneuroml(tmp_path):
    for recording in (_run(_random_threshold), _run(_random_threshold, tmp_path)):
        t, i = recording["spikes"]["t"], recording["spikes"]["i"]
        window = np.floor(t / float(_WINDOW) + 1e-9).astype(int)
        # rate 0: never a spike, whatever the draws
        assert not np.any((window == 0) & (i < _CELLS // 2))
        steps = int(round(float(_WINDOW / DT)))
        for number in range(3):
            for half in (slice(0, _CELLS // 2), slice(_CELLS // 2, _CELLS)):
                probability = _RATES[number, half] * float(DT)
                expected = steps * probability.sum()
                if expected == 0:
                    continue
                chosen = (window == number) & (i >= half.start) & (i < half.stop)
                # binomial counts: within 4 standard errors (2 % to 3 % here)
                _within(chosen.sum(), expected,
                        np.sqrt(steps * np.sum(probability * (1 - probability))),
                        what=f"window {number}, cells {half}")
        # one spike at most per cell and step, on Brian's time grid
        steps_of = np.round(t / float(DT)).astype(int)
        np.testing.assert_allclose(steps_of * float(DT), t, atol=1e-9)
        assert len(set(zip(steps_of, i, strict=True))) == len(t)


def _certain_after_the_update():
    # v is 0 before each update and 1 after it: rand() < v holds after the update only
    group = NeuronGroup(3, "dv/dt = 1/dt : 1", threshold="rand() < v", reset="v = 0",
                        method="euler", name="cells")
    spikes = SpikeMonitor(group, name="spikes")
    run(1 * ms)
    return {"spikes": spikes}


@pytest.mark.slow
@needs_jneuroml
def test_random_threshold_is_tested_after_the_update_in_jneuroml(tmp_path):
    brian = _run(_certain_after_the_update)
    exported = _run(_certain_after_the_update, tmp_path)
    # every cell at every step, from the first one
    assert len(brian["spikes"]["t"]) == 3 * 10 and brian["spikes"]["t"].min() == 0
    np.testing.assert_array_equal(exported["spikes"]["i"], brian["spikes"]["i"])
    np.testing.assert_allclose(exported["spikes"]["t"], brian["spikes"]["t"], atol=1e-9)


def _random_switch():
    group = NeuronGroup(400, """dv/dt = (I - v)/(10*ms) : 1
                                I : 1""", threshold="v > 1", reset="v = 0",
                        method="exact", name="cells")
    group.run_regularly("I = 2*int(rand() < 0.5)", dt=20 * ms)
    state = StateMonitor(group, "I", record=True, name="state")
    run(100 * ms)
    return {"state": state}


@pytest.mark.slow
@needs_jneuroml
def test_random_run_regularly_draws_once_per_cell_and_call_in_jneuroml(tmp_path):
    for recording in (_run(_random_switch), _run(_random_switch, tmp_path)):
        values = recording["state"]["I"]
        assert set(np.unique(values)) <= {0.0, 2.0}
        periods = values.reshape(400, 5, 200)
        # constant within each period of 20 ms: the draws are made at the calls only
        assert np.all(periods == periods[:, :, :1])
        drawn = periods[:, :, 0] == 2
        # 2000 fair coins: about half, and independent from one call to the next
        _within(drawn.mean(), 0.5, np.sqrt(0.25 / drawn.size), what="fraction of 2")
        changed = drawn[:, 1:] != drawn[:, :-1]
        _within(changed.mean(), 0.5, np.sqrt(0.25 / changed.size), what="fraction changed")


# ---------------------------------------------------------------------- #
# PoissonGroup with rates in time
# ---------------------------------------------------------------------- #
def _sine_rates():
    group = PoissonGroup(500, rates="50*Hz*(1 + sin(2*pi*5*Hz*t))", name="poisson")
    spikes = SpikeMonitor(group, name="spikes")
    run(400 * ms)
    return {"spikes": spikes}


@pytest.mark.slow
@needs_jneuroml
def test_poisson_group_with_rates_in_time_in_jneuroml(tmp_path):
    steps = np.arange(4000) * float(DT)
    probability = 50 * (1 + np.sin(2 * np.pi * 5 * steps)) * float(DT)
    bins = np.arange(0, 4001, 200)  # 20 ms
    expected = 500 * np.add.reduceat(probability, bins[:-1])
    for recording in (_run(_sine_rates), _run(_sine_rates, tmp_path)):
        t = recording["spikes"]["t"]
        _within(len(t), expected.sum(), np.sqrt(expected.sum()), what="total count")
        counts = np.bincount(np.round(t / float(DT)).astype(int) // 200, minlength=20)
        # the PSTH follows the rate: chi-square of 20 bins below its 99.9 % quantile
        chi_square = np.sum((counts - expected) ** 2 / expected)
        assert chi_square < 45.3, (chi_square, counts, expected.round())


def _spike_at_chosen_steps():
    # probability 1 at the step of (1 + i) ms only: each cell spikes exactly there
    group = PoissonGroup(5, rates="int(t > (0.95 + i)*ms and t < (1.05 + i)*ms) / dt", name="poisson")
    spikes = SpikeMonitor(group, name="spikes")
    run(10 * ms)
    return {"spikes": spikes}


@pytest.mark.slow
@needs_jneuroml
def test_poisson_group_rates_are_those_of_brians_step_in_jneuroml(tmp_path):
    brian, exported = _run(_spike_at_chosen_steps), _run(_spike_at_chosen_steps, tmp_path)
    np.testing.assert_allclose(brian["spikes"]["t"], (1 + np.arange(5)) * 1e-3, atol=1e-9)
    np.testing.assert_array_equal(exported["spikes"]["i"], brian["spikes"]["i"])
    np.testing.assert_allclose(exported["spikes"]["t"], brian["spikes"]["t"], atol=1e-9)


def test_poisson_group_with_rates_in_time_is_refused_in_the_portable_form(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), portable=True)
    try:
        start_scope()
        group = PoissonGroup(3, rates="5*Hz*(1 + sin(t/ms))", name="poisson")
        with pytest.raises(UnsupportedFeatureError, match="'poisson'.*time-dependent rates"):
            run(1 * ms)
        del group
    finally:
        reinit_and_delete()
        set_device("runtime")


# ---------------------------------------------------------------------- #
# PoissonInput: Brian's binomial draw of each step
# ---------------------------------------------------------------------- #
def test_exact_binomial_draw_has_the_binomial_distribution():
    from scipy.stats import binom

    for size, probability in ((1000, 0.002), (40, 0.1), (12, 0.7), (8, 0.95)):
        text = binomial_input_draw(size, probability, None)
        # evaluate the nested steps for many uniform numbers: one per random(1)
        draws = text.count("random(1)")
        rng = np.random.default_rng(3)
        uniforms = rng.random((draws, 200_000))
        python = text.replace("H(", "_h(")
        for k in range(draws):
            python = python.replace("random(1)", f"_u[{k}]", 1)
        values = eval(python, {"_h": lambda a: 0.5 * (np.sign(a) + 1), "_u": uniforms})  # noqa: S307
        counts = np.bincount(np.asarray(values, dtype=int), minlength=size + 1)
        expected = binom.pmf(np.arange(size + 1), size, probability) * 200_000
        kept = expected > 5
        chi_square = np.sum((counts[kept] - expected[kept]) ** 2 / expected[kept])
        assert chi_square < 3 * kept.sum() + 20, (size, probability, chi_square)
        assert np.all(counts[~kept] <= 5 * expected[~kept] + 5)


_INPUTS = {"exact": (1000, 20 * Hz, 0.1 * mV), "normal": (1000, 100 * Hz, 0.1 * mV)}


def _poisson_inputs():
    (n_exact, rate_exact, w_exact), (n_normal, rate_normal, w_normal) = _INPUTS.values()
    exact = NeuronGroup(200, "dv/dt = 0*mV/ms : volt", name="exact")
    exact_input = PoissonInput(exact, "v", N=n_exact, rate=rate_exact, weight=w_exact)  # noqa: F841
    normal = NeuronGroup(200, "dv/dt = 0*mV/ms : volt", name="normal")
    normal_input = PoissonInput(normal, "v", N=n_normal, rate=rate_normal,  # noqa: F841
                                weight=w_normal)
    # run() finds the monitors among the local names
    exact_state = StateMonitor(exact, "v", record=True, name="exact_state")
    normal_state = StateMonitor(normal, "v", record=True, name="normal_state")
    run(50 * ms)
    return {"exact": exact_state, "normal": normal_state}


@pytest.mark.slow
@needs_jneuroml
def test_poisson_input_mean_and_variance_of_each_step_in_jneuroml(tmp_path):
    # jNeuroML records a state before the events of the step arrive: the input
    # of step k shows at sample k + 2, not k + 1 (the delays in the user guide)
    for lag, recording in ((0, _run(_poisson_inputs)), (1, _run(_poisson_inputs, tmp_path))):
        for name, (size, rate, weight) in _INPUTS.items():
            p = float(rate * DT)
            v = recording[name]["v"] / float(weight)
            assert v.shape == (200, 500) and np.all(v[:, :1 + lag] == 0)
            increments = np.diff(v[:, lag:], axis=1).ravel()
            mean, variance = size * p, size * p * (1 - p)
            samples = increments.size
            _within(increments.mean(), mean, np.sqrt(variance / samples), what=f"{name} mean")
            # the variance of the variance of a normal-like sample: 2 sigma^4 / n
            _within(increments.var(), variance, variance * np.sqrt(3.0 / samples),
                    what=f"{name} variance")
            if name == "exact":  # whole numbers of events
                np.testing.assert_allclose(increments, np.round(increments), atol=1e-3)
            # from the first step on: v after k steps holds k draws
            for k in (1, 2, 5):
                _within(v[:, k + lag].mean(), k * mean, np.sqrt(k * variance / 200),
                        what=f"{name} after {k} steps")


def _corpus_poisson_input():
    group = NeuronGroup(100, "dv/dt = -v/(20*ms) : volt", threshold="v > 20*mV",
                        reset="v = 10*mV", refractory=2 * ms, method="exact", name="cells")
    background = PoissonInput(group, "v", N=1000, rate=20 * Hz, weight=0.1 * mV)  # noqa: F841
    spikes = SpikeMonitor(group, name="spikes")
    run(100 * ms)
    return {"spikes": spikes}


@pytest.mark.slow
@needs_jneuroml
def test_poisson_input_corpus_firing_rate_in_jneuroml(tmp_path):
    brian = [len(_run(_corpus_poisson_input, random_seed=s)["spikes"]["t"]) for s in (1, 2, 3)]
    exported = [len(_run(_corpus_poisson_input, tmp_path, random_seed=s)["spikes"]["t"])
                for s in (1, 2, 3)]
    assert min(brian) > 500
    assert abs(np.mean(exported) - np.mean(brian)) <= 0.1 * np.mean(brian), (brian, exported)
    # different seeds, different draws
    assert len(set(exported)) > 1 or exported[0] != brian[0]


def test_poisson_input_written_as_a_draw_of_each_step(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    try:
        start_scope()
        defaultclock.dt = DT
        group = NeuronGroup(3, "dv/dt = 0*mV/ms : volt", name="cells")
        background = PoissonInput(group, "v", N=1000, rate=100 * Hz, weight=0.1 * mV)  # noqa: F841
        run(1 * ms)
    finally:
        reinit_and_delete()
        set_device("runtime")
    text = (tmp_path / "model.xml").read_text()
    # N*p = 10: Brian's normal approximation, mean 10 and deviation sqrt(9.9)
    assert "(10 + 3.146426544510455 * (sqrt(-2 * log(1 - random(1)))" in text
    assert 'test="t .geq. 0"' in text  # the source firing in every step
    assert "spikeGeneratorPoisson\"" not in text.split("<network")[1]


# ---------------------------------------------------------------------- #
# The portable form (NEURON): comparisons as numbers, rand() in a reset
# ---------------------------------------------------------------------- #
def _random_reset():
    group = NeuronGroup(200, """dv/dt = (I*int(v < 15*mV) + 20*mV*int(v >= 15*mV) - v)/(10*ms)
                                : volt
                                I : volt""",
                        threshold="v > 18*mV", reset="v = 5*mV*rand()", method="euler",
                        name="cells")
    group.I = 25 * mV
    state = StateMonitor(group, "v", record=True, name="state")
    spikes = SpikeMonitor(group, name="spikes")
    run(200 * ms)
    return {"state": state, "spikes": spikes}


def _after_spikes(recording):
    """The values sampled in the step after each spike (the reset's draws)."""
    v, t, i = recording["state"]["v"], recording["spikes"]["t"], recording["spikes"]["i"]
    steps = np.round(t / float(DT)).astype(int) + 1
    kept = steps < v.shape[1]
    return v[i[kept], steps[kept]]


@pytest.mark.slow
def test_random_reset_and_comparisons_in_neuron(tmp_path):
    from brian2tools.nmlexport.engines import engine_available

    if engine_available("neuron") is not None:
        pytest.skip(engine_available("neuron"))
    brian = _run(_random_reset)
    prefs.codegen.target = "numpy"
    reinit_and_delete()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="neuron")
    try:
        start_scope()
        defaultclock.dt = DT
        exported = _recordings(_random_reset())
    finally:
        reinit_and_delete()
        set_device("runtime")
    # the drive switches at 15 mV (a comparison as a number): the same spike count
    assert len(exported["spikes"]["t"]) == len(brian["spikes"]["t"]) > 1000
    for recording, drift in ((brian, 0.0), (exported, 0.25e-3)):
        values = _after_spikes(recording)
        # uniform in [0, 5 mV); NEURON's sample after a spike holds one step of drift
        # (25 mV * dt / tau = 0.25 mV)
        _within(values.mean(), 2.5e-3 + drift, 5e-3 / np.sqrt(12 * len(values)),
                what="mean of the reset values")
        _within(values.std(), 5e-3 / np.sqrt(12), 5e-3 / np.sqrt(12) / np.sqrt(len(values)),
                errors=5, what="spread of the reset values")
