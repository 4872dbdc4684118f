"""
Tests for the plots of recorded activity (brian2tools.plotting.data): what is
drawn (artist data against monitor data, labels, styles), where it is drawn,
and the errors for bad input. Each test runs its own small simulation.
"""

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from brian2 import (
    EventMonitor,
    Hz,
    Network,
    NeuronGroup,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
    kHz,
    ms,
    mV,
    run,
    second,
    volt,
)
from brian2.units.fundamentalunits import DimensionMismatchError
from matplotlib.colors import to_rgba

from brian2tools import brian_plot, plot_raster, plot_rate, plot_state
from brian2tools.plotting.data import LARGE_RASTER

# Neuron i is driven towards (8 + i) mV and fires at 10 mV: neurons 0-2 stay
# silent, the others fire regularly (faster for higher i). x counts spikes
# and decays (a dimensionless second variable).
EQUATIONS = """
dv/dt = (v0 - v) / (5*ms) : volt
dx/dt = -x / (3*ms) : 1
v0 : volt (constant)
"""


def simulate(duration=30 * ms, variables=("v",), record=(0, 3, 7)):
    """A 10-neuron network with every kind of monitor, run for ``duration``."""
    group = NeuronGroup(
        10, EQUATIONS, threshold="v > 10*mV", reset="v = 0*mV; x += 1",
        method="exact", events={"half": "v > 5*mV"},
    )
    group.v0 = "(8 + i) * mV"
    sim = SimpleNamespace(
        group=group,
        spike_mon=SpikeMonitor(group),
        event_mon=EventMonitor(group, "half"),
        rate_mon=PopulationRateMonitor(group),
        state_mon=StateMonitor(group, list(variables), record=list(record)),
    )
    # an explicit network: the monitors are not local variables that
    # Brian's implicit run() could find
    sim.net = Network(*vars(sim).values())
    if duration > 0 * ms:
        sim.net.run(duration)
    return sim


def only_line(ax):
    assert len(ax.lines) == 1
    return ax.lines[0]


# --------------------------------------------------------------------------
# plot_raster and brian_plot(SpikeMonitor / EventMonitor)
# --------------------------------------------------------------------------


def test_raster_draws_spike_times_and_indices_with_labels():
    sim = simulate()
    spike_mon = sim.spike_mon
    assert len(spike_mon.t) > 20
    ax = plot_raster(spike_mon.i, spike_mon.t, time_unit=ms)
    line = only_line(ax)
    np.testing.assert_allclose(line.get_xdata(), spike_mon.t / ms)
    np.testing.assert_array_equal(line.get_ydata(), spike_mon.i)
    assert line.get_linestyle() == "None"  # marks only, no connecting line
    assert line.get_marker() == "."
    assert ax.get_xlabel() == "time (ms)"
    assert ax.get_ylabel() == "neuron index"
    # the y axis only gets integer ticks (neuron indices)
    ticks = ax.get_yticks()
    np.testing.assert_array_equal(ticks, np.round(ticks))


def test_raster_time_unit_default_follows_range_and_can_be_chosen():
    sim = simulate(duration=30 * ms)
    ax = plot_raster(sim.spike_mon.i, sim.spike_mon.t)
    assert ax.get_xlabel() == "time (ms)"
    np.testing.assert_allclose(only_line(ax).get_xdata(), sim.spike_mon.t / ms)

    fig, ax_s = plt.subplots()
    plot_raster(sim.spike_mon.i, sim.spike_mon.t, time_unit=second, axes=ax_s)
    assert ax_s.get_xlabel() == "time (s)"
    np.testing.assert_allclose(only_line(ax_s).get_xdata(), sim.spike_mon.t / second)


def test_raster_doc_example_kwds_reach_the_artist():
    sim = simulate()
    ax = plot_raster(sim.spike_mon.i, sim.spike_mon.t, time_unit=second, marker=",", color="k")
    line = only_line(ax)
    assert line.get_marker() == ","
    assert to_rgba(line.get_color()) == to_rgba("k")
    # matplotlib's short aliases work too and override the defaults
    fig, ax2 = plt.subplots()
    plot_raster(sim.spike_mon.i, sim.spike_mon.t, axes=ax2, c="r", marker="|", ms=9)
    line2 = only_line(ax2)
    assert to_rgba(line2.get_color()) == to_rgba("r")
    assert (line2.get_marker(), line2.get_markersize()) == ("|", 9)


def test_raster_accepts_plain_arrays_without_units():
    indices = [0, 2, 1, 2]
    times = np.array([1.5, 2.0, 3.25, 4.0])
    ax = plot_raster(indices, times)
    line = only_line(ax)
    np.testing.assert_array_equal(line.get_xdata(), times)
    np.testing.assert_array_equal(line.get_ydata(), indices)
    assert ax.get_xlabel() == "time"
    # plain numbers given with their unit
    fig, ax2 = plt.subplots()
    plot_raster(indices, times, time_unit=ms, axes=ax2)
    assert ax2.get_xlabel() == "time (ms)"
    np.testing.assert_array_equal(only_line(ax2).get_xdata(), times)


def test_raster_dots_get_smaller_as_the_raster_gets_denser():
    rng = np.random.default_rng(0)
    sizes = []
    for n_spikes in (1_000, 10_000, LARGE_RASTER):
        fig, ax = plt.subplots()
        plot_raster(rng.integers(0, 100, n_spikes), rng.uniform(0, 1, n_spikes) * second,
                    axes=ax)
        assert only_line(ax).get_marker() == "."
        sizes.append(only_line(ax).get_markersize())
    assert sizes[0] > sizes[1] > sizes[2] > 0
    # an explicit size wins over the default
    fig, ax = plt.subplots()
    plot_raster([1, 2], [1, 2] * ms, axes=ax, markersize=7)
    assert only_line(ax).get_markersize() == 7


def test_large_raster_uses_pixel_markers_unless_told_otherwise():
    rng = np.random.default_rng(0)
    n_spikes = LARGE_RASTER + 1
    times = np.sort(rng.uniform(0, 1, n_spikes)) * second
    indices = rng.integers(0, 100, n_spikes)
    ax = plot_raster(indices, times)
    line = only_line(ax)
    assert line.get_marker() == ","
    assert line.get_rasterized()  # keeps PDF/SVG files small
    assert ax.get_xlabel() == "time (s)"
    np.testing.assert_array_equal(line.get_xdata(), np.asarray(times))
    fig, ax2 = plt.subplots()
    plot_raster(indices, times, axes=ax2, marker="o", rasterized=False)
    assert (ax2.lines[0].get_marker(), ax2.lines[0].get_rasterized()) == ("o", False)


def test_raster_draws_only_on_the_given_or_current_axes():
    sim = simulate()
    fig, (left, right) = plt.subplots(1, 2)
    plt.sca(left)
    assert plot_raster(sim.spike_mon.i, sim.spike_mon.t, axes=right) is right
    assert len(left.lines) == 0 and len(right.lines) == 1
    # without axes=, the current axes (as with the doc's subplot() calls)
    plt.subplot(1, 2, 1)
    assert plot_raster(sim.spike_mon.i, sim.spike_mon.t) is left
    assert len(left.lines) == 1 and len(right.lines) == 1
    assert len(plt.get_fignums()) == 1


def test_raster_leaves_the_callers_arrays_alone():
    rng = np.random.default_rng(1)
    times = np.sort(rng.uniform(0, 0.2, 50)) * second
    indices = rng.integers(0, 10, 50)
    times_before, indices_before = times.copy(), indices.copy()
    ax = plot_raster(indices, times, time_unit=ms)
    ax.figure.canvas.draw()
    line = only_line(ax)
    # matplotlib holds its own data: changing the plot does not reach the caller
    line.get_xdata()[:] = -1
    np.testing.assert_array_equal(times, times_before)
    np.testing.assert_array_equal(indices, indices_before)
    assert times.dim == second.dim


def test_raster_errors_name_the_bad_argument():
    indices = np.array([0, 1, 2])
    with pytest.raises(DimensionMismatchError, match="spike_times"):
        plot_raster(indices, [1, 2, 3] * mV)
    with pytest.raises(DimensionMismatchError, match="time_unit"):
        plot_raster(indices, [1, 2, 3] * ms, time_unit=mV)
    with pytest.raises(TypeError, match="time_unit"):
        plot_raster(indices, [1, 2, 3] * ms, time_unit="ms")
    with pytest.raises(DimensionMismatchError, match="spike_indices"):
        plot_raster(indices * mV, [1, 2, 3] * ms)
    with pytest.raises(ValueError, match="spike_indices.*spike_times"):
        plot_raster(np.array([0, 1]), [1, 2, 3] * ms)
    with pytest.raises(ValueError, match="spike_times"):
        plot_raster(indices, np.ones((3, 2)) * ms)


def test_brian_plot_spike_and_event_monitors():
    sim = simulate()
    ax = brian_plot(sim.spike_mon)
    line = only_line(ax)
    np.testing.assert_allclose(line.get_xdata(), sim.spike_mon.t / ms)
    np.testing.assert_array_equal(line.get_ydata(), sim.spike_mon.i)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("time (ms)", "neuron index")

    # an EventMonitor plots the times of its own event (here: more of them)
    assert len(sim.event_mon.t) > len(sim.spike_mon.t)
    fig, ax2 = plt.subplots()
    assert brian_plot(sim.event_mon, axes=ax2, color="g") is ax2
    line2 = only_line(ax2)
    np.testing.assert_allclose(line2.get_xdata(), sim.event_mon.t / ms)
    np.testing.assert_array_equal(line2.get_ydata(), sim.event_mon.i)
    assert to_rgba(line2.get_color()) == to_rgba("g")


def test_brian_plot_empty_spike_monitor_gives_empty_labelled_plot():
    sim = simulate(duration=0 * ms)  # never run: no spikes
    ax = brian_plot(sim.spike_mon)
    assert len(only_line(ax).get_xdata()) == 0
    assert ax.get_xlabel().startswith("time (")
    assert ax.get_ylabel() == "neuron index"


def test_brian_plot_refuses_event_monitor_without_recording():
    group = NeuronGroup(2, "v : 1", threshold="v > 1")
    counter = EventMonitor(group, "spike", record=False, name="counter")
    with pytest.raises(ValueError, match="counter.*record=False"):
        brian_plot(counter)


# --------------------------------------------------------------------------
# plot_rate and brian_plot(PopulationRateMonitor)
# --------------------------------------------------------------------------


def test_rate_doc_example():
    sim = simulate()
    rate_mon = sim.rate_mon
    smoothed = rate_mon.smooth_rate(window="flat", width=10.1 * ms)
    ax = plot_rate(rate_mon.t, smoothed, linewidth=3, color="gray")
    line = only_line(ax)
    np.testing.assert_allclose(line.get_xdata(), rate_mon.t / ms)
    np.testing.assert_allclose(line.get_ydata(), smoothed / Hz)
    assert line.get_linewidth() == 3
    assert to_rgba(line.get_color()) == to_rgba("gray")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("time (ms)", "rate (Hz)")


def test_rate_units_can_be_chosen_and_plain_arrays_work():
    time = np.linspace(0, 1, 11) * second
    rate = np.linspace(0, 2000, 11) * Hz
    ax = plot_rate(time, rate, time_unit=ms, rate_unit=kHz)
    line = only_line(ax)
    np.testing.assert_allclose(line.get_xdata(), np.linspace(0, 1000, 11))
    np.testing.assert_allclose(line.get_ydata(), np.linspace(0, 2, 11))
    assert ax.get_xlabel() == "time (ms)" and ax.get_ylabel() == "rate (kHz)"
    fig, ax2 = plt.subplots()
    plot_rate([0, 1, 2], [5, 6, 7], axes=ax2)
    assert (ax2.get_xlabel(), ax2.get_ylabel()) == ("time", "rate")


def test_rate_errors_name_the_bad_argument():
    with pytest.raises(DimensionMismatchError, match="'rate'"):
        plot_rate([0, 1] * ms, [1, 2] * mV)
    with pytest.raises(DimensionMismatchError, match="'time'"):
        plot_rate([0, 1] * Hz, [1, 2] * Hz)
    with pytest.raises(DimensionMismatchError, match="rate_unit"):
        plot_rate([0, 1] * ms, [1, 2] * Hz, rate_unit=ms)
    with pytest.raises(ValueError, match="'time'.*'rate'"):
        plot_rate([0, 1, 2] * ms, [1, 2] * Hz)


def test_brian_plot_rate_monitor_uses_1ms_gaussian_smoothing():
    sim = simulate()
    ax = brian_plot(sim.rate_mon)
    line = only_line(ax)
    expected = sim.rate_mon.smooth_rate(window="gaussian", width=1 * ms)
    # Brian's 1 ms Gaussian window (+- 2 ms = 20 steps) away from the ends,
    # where only recorded values fall inside the window
    np.testing.assert_allclose(line.get_ydata()[20:-20], expected[20:-20] / Hz)
    np.testing.assert_allclose(line.get_xdata(), sim.rate_mon.t / ms)
    assert ax.get_ylabel() == "rate (Hz)"


def test_brian_plot_rate_monitor_constant_rate_stays_constant_at_the_ends():
    """
    The time outside the recording is no silence: a constant rate smoothed
    for the plot is the same constant up to the first and last time step
    (a plain convolution halves it at the ends).
    """
    group = NeuronGroup(200, "")
    # every neuron spikes in every 0.1 ms step: 10 kHz throughout
    drive = NeuronGroup(200, "", threshold="True")
    rate_mon = PopulationRateMonitor(drive)
    net = Network(group, drive, rate_mon)
    net.run(10 * ms)
    ax = brian_plot(rate_mon)
    drawn = only_line(ax).get_ydata()
    assert ax.get_ylabel() == "rate (Hz)"
    np.testing.assert_allclose(drawn, 10_000.0)  # every point, both ends included
    plain = rate_mon.smooth_rate(window="gaussian", width=1 * ms) / Hz
    assert plain[0] < 6000 and plain[-1] < 6000  # what the edge correction avoids
    # a step in the rate stays a step: the corrected ends keep their level
    up_down = NeuronGroup(200, "", threshold="t < 5*ms")
    step_mon = PopulationRateMonitor(up_down)
    Network(up_down, step_mon).run(10 * ms)
    fig, ax2 = plt.subplots()
    step = only_line(brian_plot(step_mon, axes=ax2)).get_ydata()
    assert step[0] == pytest.approx(10_000.0) and step[-1] == pytest.approx(0.0, abs=1e-9)
    assert step[49] == pytest.approx(5000.0, abs=600)  # halfway at the step


def test_brian_plot_rate_monitor_empty_and_short_recordings():
    sim = simulate(duration=0 * ms)
    ax = brian_plot(sim.rate_mon)
    assert len(only_line(ax).get_ydata()) == 0
    assert ax.get_ylabel() == "rate (Hz)" and ax.get_xlabel().startswith("time")
    # shorter than the smoothing window: still one smoothed value per step,
    # each a weighted mean of the recorded rates
    sim.net.run(0.5 * ms)
    fig, ax2 = plt.subplots()
    brian_plot(sim.rate_mon, axes=ax2)
    line = only_line(ax2)
    assert len(line.get_xdata()) == len(sim.rate_mon.t) == 5
    rate = np.asarray(sim.rate_mon.rate / Hz)
    assert np.all(line.get_ydata() >= rate.min() - 1e-9)
    assert np.all(line.get_ydata() <= rate.max() + 1e-9)


# --------------------------------------------------------------------------
# plot_state and brian_plot(StateMonitor)
# --------------------------------------------------------------------------


def test_state_doc_example_one_line_per_neuron_with_legend():
    sim = simulate()
    state_mon = sim.state_mon
    ax = plot_state(state_mon.t, state_mon.v.T, var_name="membrane potential", lw=2)
    assert len(ax.lines) == 3
    for line, trace in zip(ax.lines, state_mon.v, strict=True):
        np.testing.assert_allclose(line.get_xdata(), state_mon.t / ms)
        np.testing.assert_allclose(line.get_ydata(), trace / mV)
        assert line.get_linewidth() == 2
    assert ax.get_xlabel() == "time (ms)"
    assert ax.get_ylabel() == "membrane potential (mV)"
    legend = ax.legend(["neuron 0", "neuron 100", "neuron 1000"], frameon=False, loc="best")
    assert [text.get_text() for text in legend.get_texts()] == [
        "neuron 0", "neuron 100", "neuron 1000"]


def test_state_single_trace_units_and_plain_values():
    time = np.arange(5) * ms
    values = np.array([-70, -65, -60, -65, -70]) * mV
    ax = plot_state(time, values, var_unit=volt, time_unit=second)
    line = only_line(ax)
    np.testing.assert_allclose(line.get_ydata(), [-0.07, -0.065, -0.06, -0.065, -0.07])
    np.testing.assert_allclose(line.get_xdata(), np.arange(5) / 1000)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("time (s)", "V")
    fig, ax2 = plt.subplots()
    plot_state([0, 1, 2], [3.0, 4.0, 5.0], var_name="w", axes=ax2)
    assert (ax2.get_xlabel(), ax2.get_ylabel()) == ("time", "w")
    np.testing.assert_array_equal(ax2.lines[0].get_ydata(), [3, 4, 5])


def test_state_leaves_the_callers_arrays_alone():
    time = np.arange(4) * ms
    values = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]) * mV
    before = values.copy()
    ax = plot_state(time, values, color="c")
    ax.figure.canvas.draw()
    np.testing.assert_array_equal(values, before)
    assert [to_rgba(line.get_color()) for line in ax.lines] == [to_rgba("c")] * 2


def test_state_errors_name_the_bad_argument():
    time = np.arange(4) * ms
    with pytest.raises(ValueError, match=r"transposed.*\.T"):
        plot_state(time, np.zeros((2, 4)) * mV)
    with pytest.raises(ValueError, match="'time'.*'values'"):
        plot_state(time, np.zeros(5) * mV)
    with pytest.raises(DimensionMismatchError, match="var_unit"):
        plot_state(time, np.zeros(4) * mV, var_unit=ms)
    with pytest.raises(DimensionMismatchError, match="'time'"):
        plot_state(np.arange(4) * mV, np.zeros(4) * mV)
    with pytest.raises(ValueError, match="values"):
        plot_state(time, np.zeros((4, 2, 2)))


def legend_texts(ax):
    legend = ax.get_legend()
    return None if legend is None else [text.get_text() for text in legend.get_texts()]


def test_brian_plot_state_monitor_one_variable():
    sim = simulate()
    state_mon = sim.state_mon
    ax = brian_plot(state_mon)
    assert isinstance(ax, plt.Axes)
    assert len(ax.figure.axes) == 1
    assert len(ax.lines) == 3
    for line, trace in zip(ax.lines, state_mon.v, strict=True):
        np.testing.assert_allclose(line.get_ydata(), trace / mV)
    assert [line.get_label() for line in ax.lines] == ["neuron 0", "neuron 3", "neuron 7"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("time (ms)", "v (mV)")
    # a legend tells the traces apart, in the traces' colours
    assert legend_texts(ax) == ["neuron 0", "neuron 3", "neuron 7"]
    handles = ax.get_legend().legend_handles
    assert [h.get_color() for h in handles] == [line.get_color() for line in ax.lines]


def test_brian_plot_state_monitor_legend_only_for_a_few_traces():
    one = simulate(record=(4,))
    ax = brian_plot(one.state_mon)
    assert only_line(ax).get_label() == "neuron 4" and ax.get_legend() is None
    ten = simulate(record=range(10))
    fig, ax10 = plt.subplots()
    brian_plot(ten.state_mon, axes=ax10)
    assert legend_texts(ax10) == [f"neuron {i}" for i in range(10)]
    fig, ax_many = plt.subplots()
    # 11 traces: more than MAX_LEGEND_TRACES, no legend
    big = NeuronGroup(11, "v : volt")
    big_mon = StateMonitor(big, "v", record=True)
    Network(big, big_mon).run(1 * ms)
    brian_plot(big_mon, axes=ax_many)
    assert len(ax_many.lines) == 11 and ax_many.get_legend() is None
    # the user's own labels: no legend is forced on them
    fig, ax_own = plt.subplots()
    brian_plot(ten.state_mon[[1, 2]], axes=ax_own, label=["a", "b"])
    assert ax_own.get_legend() is None
    assert [line.get_label() for line in ax_own.lines] == ["a", "b"]


def test_brian_plot_state_monitor_returns_one_axes_per_variable():
    sim = simulate(variables=("v", "x"))
    state_mon = sim.state_mon
    panels = brian_plot(state_mon)
    assert isinstance(panels, list) and len(panels) == 2
    ax_v, ax_x = panels
    assert (ax_v.get_ylabel(), ax_x.get_ylabel()) == ("v (mV)", "x")
    np.testing.assert_allclose(ax_x.lines[2].get_ydata(), state_mon.x[2])
    assert legend_texts(ax_v) == ["neuron 0", "neuron 3", "neuron 7"]
    # the monitor's order of the variables decides the order of the panels
    reverse = simulate(variables=("x", "v"), record=(3,))
    fig, ax = plt.subplots()
    first, second_panel = brian_plot(reverse.state_mon, axes=ax)
    assert (first.get_ylabel(), second_panel.get_ylabel()) == ("x", "v (mV)")


def test_brian_plot_state_monitor_into_given_sequence_of_axes():
    sim = simulate(variables=("v", "x"))
    state_mon = sim.state_mon
    fig, axes = plt.subplots(1, 2)  # side by side: a numpy array of Axes
    returned = brian_plot(state_mon, axes=axes)
    assert returned == list(axes) and len(fig.axes) == 2
    assert (axes[0].get_ylabel(), axes[1].get_ylabel()) == ("v (mV)", "x")
    # not sharing the time axis: each keeps its own time label
    assert axes[0].get_xlabel() == axes[1].get_xlabel() == "time (ms)"
    for line, trace in zip(axes[1].lines, state_mon.x, strict=True):
        np.testing.assert_allclose(line.get_ydata(), trace)
    fig2, shared = plt.subplots(2, sharex=True)
    top, bottom = brian_plot(state_mon, axes=list(shared))
    assert (top.get_xlabel(), bottom.get_xlabel()) == ("", "time (ms)")
    with pytest.raises(ValueError, match="records 2 variable.*v, x.*3 axes"):
        brian_plot(state_mon, axes=plt.subplots(3)[1])
    with pytest.raises(TypeError, match="sequence of them"):
        brian_plot(state_mon, axes="top")


def test_brian_plot_state_monitor_one_panel_per_variable():
    sim = simulate(variables=("v", "x"))
    state_mon = sim.state_mon
    fig, (other, target) = plt.subplots(1, 2)
    _, bottom = brian_plot(state_mon, axes=target)
    # the target area now holds two stacked panels; the other axes is untouched
    assert len(fig.axes) == 3 and len(other.lines) == 0
    top = target
    assert bottom is not top and bottom.figure is fig
    assert top.get_shared_x_axes().joined(top, bottom)
    assert (top.get_ylabel(), bottom.get_ylabel()) == ("v (mV)", "x")
    assert (top.get_xlabel(), bottom.get_xlabel()) == ("", "time (ms)")
    for line, trace in zip(top.lines, state_mon.v, strict=True):
        np.testing.assert_allclose(line.get_ydata(), trace / mV)
    for line, trace in zip(bottom.lines, state_mon.x, strict=True):
        np.testing.assert_allclose(line.get_ydata(), trace)
    # stacked inside the right half: same horizontal extent, top above bottom
    fig.canvas.draw()
    top_box, bottom_box = top.get_position(), bottom.get_position()
    assert top_box.x0 == pytest.approx(bottom_box.x0) and top_box.x0 > 0.5
    assert top_box.y0 > bottom_box.y1
    with pytest.raises(ValueError, match="var_name"):
        brian_plot(state_mon, var_name="something")


def test_brian_plot_state_monitor_panels_in_hand_placed_axes():
    sim = simulate(variables=("v", "x"))
    fig = plt.figure()
    axes = fig.add_axes([0.1, 0.1, 0.8, 0.8])
    top, bottom = brian_plot(sim.state_mon, axes=axes)
    assert top is axes
    assert len(fig.axes) == 2
    assert axes.get_position().y0 > bottom.get_position().y1 - 1e-9
    assert bottom.get_position().y0 == pytest.approx(0.1)
    assert axes.get_position().y1 == pytest.approx(0.9)


def test_brian_plot_indexed_state_monitor_only_those_neurons():
    sim = simulate()
    state_mon = sim.state_mon
    ax = brian_plot(state_mon[3])
    line = only_line(ax)
    np.testing.assert_allclose(line.get_ydata(), state_mon[3].v / mV)
    np.testing.assert_allclose(line.get_xdata(), state_mon.t / ms)
    assert line.get_label() == "neuron 3"
    assert ax.get_ylabel() == "v (mV)"
    fig, ax2 = plt.subplots()
    brian_plot(state_mon[[0, 7]], axes=ax2)
    assert [line.get_label() for line in ax2.lines] == ["neuron 0", "neuron 7"]
    np.testing.assert_allclose(ax2.lines[1].get_ydata(), state_mon[7].v / mV)


def test_brian_plot_empty_state_monitors_give_labelled_plots():
    sim = simulate(duration=0 * ms)  # never run: nothing recorded yet
    ax = brian_plot(sim.state_mon)
    assert len(ax.lines) == 3
    assert all(len(line.get_xdata()) == 0 for line in ax.lines)
    assert ax.get_xlabel().startswith("time (") and ax.get_ylabel().startswith("v (")

    group = NeuronGroup(3, "v : volt")
    no_neurons = StateMonitor(group, "v", record=False)
    run(1 * ms)
    fig, ax2 = plt.subplots()
    brian_plot(no_neurons, axes=ax2)
    assert len(ax2.lines) == 0
    assert ax2.get_xlabel() == "time (ms)" and ax2.get_ylabel().startswith("v (")


# --------------------------------------------------------------------------
# brian_plot with something it cannot plot
# --------------------------------------------------------------------------


def test_brian_plot_unsupported_type_names_it():
    class Unplottable:
        pass

    with pytest.raises(TypeError, match="Unplottable"):
        brian_plot(Unplottable())
    with pytest.raises(TypeError, match="'list'"):
        brian_plot([1, 2, 3])
