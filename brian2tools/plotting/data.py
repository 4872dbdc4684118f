"""
Plots of recorded activity: spike rasters (:func:`plot_raster`), population
rates (:func:`plot_rate`) and state-variable traces (:func:`plot_state`).

Importing this module also teaches :func:`~brian2tools.plotting.base.brian_plot`
the monitors: `~brian2.SpikeMonitor` and `~brian2.EventMonitor` (raster),
`~brian2.PopulationRateMonitor` (smoothed rate) and `~brian2.StateMonitor`
or an indexed one such as ``state_mon[3]`` (traces).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from brian2.core.variables import VariableView
from brian2.monitors.ratemonitor import PopulationRateMonitor
from brian2.monitors.spikemonitor import EventMonitor, SpikeMonitor
from brian2.monitors.statemonitor import StateMonitor, StateMonitorView
from brian2.units.allunits import hertz, msecond, second
from brian2.units.fundamentalunits import (
    DIMENSIONLESS,
    DimensionMismatchError,
    Quantity,
    Unit,
    get_dimensions,
    get_unit,
)
from brian2.utils.logger import get_logger
from matplotlib import cbook
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .base import (
    axis_label,
    brian_plot,
    check_same_length,
    display_unit,
    get_axes,
    to_plain_array,
    unwrap_variable_view,
)

__all__ = ["plot_raster", "plot_rate", "plot_state"]

logger = get_logger(__name__)

#: Rasters with more spikes than this are drawn with single-pixel markers
#: (and rasterized in vector formats) unless a marker is given: larger
#: markers only merge into a blot at that density but cost several times
#: the drawing time.
LARGE_RASTER = 100_000

#: Size (points) of the ``'.'`` markers for smaller rasters: (at most this
#: many spikes, markersize). Denser rasters get smaller dots, so that their
#: structure stays visible instead of merging into a coloured area.
RASTER_MARKERSIZES = ((1_000, 4.0), (10_000, 2.0), (LARGE_RASTER, 1.0))

#: `brian_plot` of a StateMonitor adds a legend of the neuron indices for at
#: most this many traces: a longer legend would cover the traces and its
#: colours (from a 10-colour cycle) would repeat.
MAX_LEGEND_TRACES = 10


# --------------------------------------------------------------------------
# Data preparation (no drawing)
# --------------------------------------------------------------------------


def _check_unit(unit: Any, dimension, name: str) -> None:
    """
    Raise a TypeError naming ``name`` if ``unit`` is not a Brian unit, and
    Brian's DimensionMismatchError if it is one of other dimensions.
    """
    if unit is None:
        return
    if not isinstance(unit, Unit):
        raise TypeError(
            f"'{name}' should be a Brian unit such as ms or mV, not "
            f"'{type(unit).__name__}' ({unit!r})."
        )
    if dimension is not None and get_dimensions(unit) is not dimension:
        raise DimensionMismatchError(
            f"'{name}' should be a unit of {get_unit(dimension)!r} "
            f"dimensions, but {unit!r} is not."
        )


def _axis_data(values: Any, name: str, dimension, unit: Unit | None, unit_name: str):
    """
    Check ``values`` (dimension, unit argument) and return them as a plain
    numeric array in the unit that will be shown, plus that unit.

    Quantities are not copied when they are shown in their base unit (e.g.
    spike times in seconds) and copied once otherwise; numeric arrays are
    not converted to float (matplotlib does that itself): for rasters of
    millions of spikes every fresh large array costs noticeable time.
    """
    values = unwrap_variable_view(values)
    _check_unit(unit, dimension, unit_name)
    if not isinstance(values, Quantity):
        return to_plain_array(values, name, dimension=dimension, unit=unit)
    if get_dimensions(values) is not dimension:
        # the dimension is wrong: let the shared helper word the error
        return to_plain_array(values, name, dimension=dimension)
    if unit is None:
        unit = display_unit(values)
    array = np.asarray(values)  # a view, in base units
    scale = 1.0 if unit is None else float(unit)
    if scale != 1.0:
        array = array / scale
    return array, unit


def _index_data(values: Any, name: str) -> np.ndarray:
    """
    Neuron indices as a plain array: integer arrays pass through uncopied,
    anything else is checked and converted by the shared helper.
    """
    values = unwrap_variable_view(values)
    if isinstance(values, np.ndarray) and not isinstance(values, Quantity):
        if values.dtype.kind in "iu":
            return values
    array, _ = to_plain_array(values, name, dimension=DIMENSIONLESS)
    return array


def _one_dimensional(array: np.ndarray, name: str) -> None:
    if array.ndim != 1:
        raise ValueError(
            f"'{name}' should be a one-dimensional array, but has shape {array.shape}."
        )


def _raster_marker(n_spikes: int, kwds: dict) -> dict:
    """The default marker style for a raster of ``n_spikes`` (see `RASTER_MARKERSIZES`)."""
    if n_spikes > LARGE_RASTER:
        return {"marker": ",", "rasterized": kwds.get("rasterized", True)}
    size = next(size for limit, size in RASTER_MARKERSIZES if n_spikes <= limit)
    return {"marker": ".", "markersize": kwds.get("markersize", size)}


def _line_kwds(kwds: dict) -> dict:
    """``kwds`` with matplotlib's aliases (``c``, ``ls``, ``ms``...) spelled out."""
    return dict(cbook.normalize_kwargs(kwds, Line2D))


# --------------------------------------------------------------------------
# Public plotting functions
# --------------------------------------------------------------------------


def plot_raster(
    spike_indices,
    spike_times,
    time_unit: Unit | None = None,
    axes: Axes | None = None,
    **kwds,
) -> Axes:
    """
    Plot a raster: one mark per spike, at its time and neuron index.

    The default look depends on the number of spikes: up to 100 000 spikes,
    dots (``marker='.'``) that get smaller as the raster gets denser (4, 2
    or 1 point for up to 1000, 10 000 or 100 000 spikes); above that,
    single-pixel markers (``marker=','``) that keep very large rasters fast
    to draw, rasterized in vector formats (PDF, SVG). Everything is one
    `~matplotlib.lines.Line2D` without connecting lines, in the colour of
    the axes' colour cycle.

    Parameters
    ----------
    spike_indices : array-like of int
        The index of the neuron for each spike (e.g. ``spike_mon.i``).
    spike_times : `~brian2.Quantity` or array-like
        The time of each spike (e.g. ``spike_mon.t``), same length as
        ``spike_indices``. Plain numbers are taken to be in ``time_unit``
        (or in no known unit if it is not given).
    time_unit : `~brian2.Unit`, optional
        The unit of the time axis; by default a unit that suits the range of
        the spike times.
    axes : `~matplotlib.axes.Axes`, optional
        The axes to plot into; by default the current axes.
    **kwds
        Passed on to matplotlib's `~matplotlib.axes.Axes.plot`, e.g.
        ``marker``, ``color``, ``markersize``; they override the defaults.

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        The axes that were drawn on.

    Raises
    ------
    DimensionMismatchError
        (``brian2.units.fundamentalunits.DimensionMismatchError``) If
        ``spike_times`` or ``time_unit`` are not times, or ``spike_indices``
        has physical units.
    TypeError
        If an argument is not numbers, or ``time_unit`` is not a Brian unit.
    ValueError
        If the two arrays are not one-dimensional or differ in length.

    Examples
    --------
    >>> from brian2 import *
    >>> from brian2tools import plot_raster
    >>> group = NeuronGroup(10, 'dv/dt = (1.1 + 0.1*i/10 - v)/(10*ms) : 1',
    ...                     threshold='v > 1', reset='v = 0', method='exact')
    >>> spike_mon = SpikeMonitor(group)
    >>> run(100*ms)
    >>> ax = plot_raster(spike_mon.i, spike_mon.t, time_unit=ms, color='k')
    >>> ax.get_xlabel()
    'time (ms)'
    """
    times, time_unit = _axis_data(spike_times, "spike_times", second.dim, time_unit, "time_unit")
    indices = _index_data(spike_indices, "spike_indices")
    _one_dimensional(times, "spike_times")
    _one_dimensional(indices, "spike_indices")
    check_same_length(spike_indices=indices, spike_times=times)

    axes = get_axes(axes)
    kwds = _line_kwds(kwds)
    kwds.setdefault("linestyle", "none")
    if "marker" not in kwds:
        kwds.update(_raster_marker(len(times), kwds))
    axes.plot(times, indices, **kwds)
    axes.set_xlabel(axis_label("time", time_unit))
    axes.set_ylabel("neuron index")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return axes


def plot_rate(
    time,
    rate,
    time_unit: Unit | None = None,
    rate_unit: Unit | None = None,
    axes: Axes | None = None,
    **kwds,
) -> Axes:
    """
    Plot a population rate over time.

    Parameters
    ----------
    time : `~brian2.Quantity` or array-like
        The time of each rate value (e.g. ``rate_mon.t``).
    rate : `~brian2.Quantity` or array-like
        The rate values (e.g. ``rate_mon.smooth_rate(width=1*ms)``), same
        length as ``time``. Plain numbers are taken to be in ``rate_unit``.
    time_unit : `~brian2.Unit`, optional
        The unit of the time axis; by default one that suits the range.
    rate_unit : `~brian2.Unit`, optional
        The unit of the rate axis; by default Hz.
    axes : `~matplotlib.axes.Axes`, optional
        The axes to plot into; by default the current axes.
    **kwds
        Passed on to matplotlib's `~matplotlib.axes.Axes.plot`.

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        The axes that were drawn on.

    Raises
    ------
    DimensionMismatchError
        (``brian2.units.fundamentalunits.DimensionMismatchError``) If
        ``time``/``time_unit`` are not times or ``rate``/``rate_unit`` not
        rates.
    TypeError
        If an argument is not numbers, or a unit is not a Brian unit.
    ValueError
        If the arrays are not one-dimensional or differ in length.

    Examples
    --------
    >>> from brian2 import *
    >>> from brian2tools import plot_rate
    >>> group = NeuronGroup(100, 'dv/dt = (1.1 + 0.1*i/100 - v)/(10*ms) : 1',
    ...                     threshold='v > 1', reset='v = 0', method='exact')
    >>> rate_mon = PopulationRateMonitor(group)
    >>> run(100*ms)
    >>> ax = plot_rate(rate_mon.t, rate_mon.smooth_rate(width=5*ms), color='gray')
    >>> ax.get_ylabel()
    'rate (Hz)'
    """
    rate = unwrap_variable_view(rate)
    if rate_unit is None and isinstance(rate, Quantity) and get_dimensions(rate) is hertz.dim:
        rate_unit = hertz
    times, time_unit = _axis_data(time, "time", second.dim, time_unit, "time_unit")
    rates, rate_unit = _axis_data(rate, "rate", hertz.dim, rate_unit, "rate_unit")
    _one_dimensional(times, "time")
    _one_dimensional(rates, "rate")
    check_same_length(time=times, rate=rates)

    axes = get_axes(axes)
    axes.plot(times, rates, **kwds)
    axes.set_xlabel(axis_label("time", time_unit))
    axes.set_ylabel(axis_label("rate", rate_unit))
    return axes


def plot_state(
    time,
    values,
    time_unit: Unit | None = None,
    var_unit: Unit | None = None,
    var_name: str | None = None,
    axes: Axes | None = None,
    **kwds,
) -> Axes:
    """
    Plot the trace(s) of a recorded variable over time.

    Parameters
    ----------
    time : `~brian2.Quantity` or array-like
        The recording times (e.g. ``state_mon.t``).
    values : `~brian2.Quantity` or array-like
        One trace (1-D, same length as ``time``) or several (2-D, time x
        neurons, e.g. ``state_mon.v.T``); each column becomes one line.
        Plain numbers are taken to be in ``var_unit``.
    time_unit : `~brian2.Unit`, optional
        The unit of the time axis; by default one that suits the range.
    var_unit : `~brian2.Unit`, optional
        The unit of the values; by default one that suits their range.
    var_name : str, optional
        The name of the variable for the axis label (e.g. ``'v'`` gives
        ``'v (mV)'``). By default the name of a Brian variable view such as
        ``group.v``, otherwise only the unit.
    axes : `~matplotlib.axes.Axes`, optional
        The axes to plot into; by default the current axes.
    **kwds
        Passed on to matplotlib's `~matplotlib.axes.Axes.plot` (applying to
        every line).

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        The axes that were drawn on (one `~matplotlib.lines.Line2D` per
        trace, in column order, e.g. for a legend).

    Raises
    ------
    DimensionMismatchError
        (``brian2.units.fundamentalunits.DimensionMismatchError``) If
        ``time``/``time_unit`` are not times or ``var_unit`` does not match
        the units of ``values``.
    TypeError
        If an argument is not numbers, or a unit is not a Brian unit.
    ValueError
        If ``values`` is not 1-D or 2-D or its first dimension differs from
        the length of ``time``.

    Examples
    --------
    >>> from brian2 import *
    >>> from brian2tools import plot_state
    >>> group = NeuronGroup(3, 'dv/dt = (i*mV - v)/(10*ms) : volt', method='exact')
    >>> state_mon = StateMonitor(group, 'v', record=True)
    >>> run(50*ms)
    >>> ax = plot_state(state_mon.t, state_mon.v.T, var_name='membrane potential', lw=2)
    >>> ax.get_ylabel()
    'membrane potential (mV)'
    >>> legend = ax.legend(['neuron 0', 'neuron 1', 'neuron 2'])
    """
    if var_name is None and isinstance(values, VariableView):
        var_name = values.name
    values = unwrap_variable_view(values)
    times, time_unit = _axis_data(time, "time", second.dim, time_unit, "time_unit")
    if isinstance(values, Quantity):
        dimension = get_dimensions(values)
    else:  # plain numbers: taken to be in var_unit (if given)
        dimension = get_dimensions(var_unit) if isinstance(var_unit, Unit) else None
    traces, var_unit = _axis_data(values, "values", dimension, var_unit, "var_unit")
    _one_dimensional(times, "time")
    if traces.ndim not in (1, 2):
        raise ValueError(
            f"'values' should be one trace (1-D) or one trace per column "
            f"(2-D, time x neurons), but has shape {traces.shape}."
        )
    if traces.shape[0] != len(times):
        hint = ""
        if traces.ndim == 2 and traces.shape[1] == len(times):
            hint = " It looks transposed: use e.g. 'state_mon.v.T' (time x neurons)."
        raise ValueError(
            f"'values' needs one row per time point: 'time' has {len(times)}, "
            f"but 'values' has shape {traces.shape}.{hint}"
        )

    axes = get_axes(axes)
    axes.plot(times, traces, **kwds)
    axes.set_xlabel(axis_label("time", time_unit))
    axes.set_ylabel(axis_label(var_name, var_unit))
    return axes


# --------------------------------------------------------------------------
# brian_plot for monitors
# --------------------------------------------------------------------------


@brian_plot.register(SpikeMonitor)
@brian_plot.register(EventMonitor)
def _brian_plot_event_monitor(monitor: EventMonitor, axes: Axes | None = None, **kwds) -> Axes:
    """Raster plot of the events (spikes) recorded by ``monitor``."""
    if not monitor.record:
        raise ValueError(
            f"'{monitor.name}' was created with record=False and only counts "
            f"events: there are no event times to plot."
        )
    return plot_raster(monitor.i, monitor.t, axes=axes, **kwds)


@brian_plot.register(PopulationRateMonitor)
def _brian_plot_rate_monitor(
    monitor: PopulationRateMonitor, axes: Axes | None = None, **kwds
) -> Axes:
    """The recorded rate, smoothed with a Gaussian window of 1 ms standard deviation."""
    return plot_rate(monitor.t, _gaussian_smoothed_rate(monitor), axes=axes, **kwds)


def _smooth_rate_edges(rate: np.ndarray, window: np.ndarray) -> np.ndarray:
    """
    Smooth ``rate`` with ``window`` (odd length, centred), normalising each
    point by the part of the window that overlaps the recording.

    A plain convolution (what ``PopulationRateMonitor.smooth_rate`` does)
    treats the time before the start and after the end of the recording as
    silence, so the smoothed rate falls towards zero within a window's
    half-width of both ends. Dividing by the window's overlap with the data
    makes every point a weighted mean of recorded values only: a constant
    rate stays constant up to the ends, and points far from the ends are
    unchanged. Works for windows longer than the recording, too.
    """
    rate = np.asarray(rate, dtype=float)
    n_steps = len(rate)
    if n_steps == 0:
        return rate.copy()
    half = len(window) // 2
    # 'full' convolution, then the part centred on the data (valid for any
    # window length, unlike mode='same', which returns max(len) values)
    smoothed = np.convolve(rate, window, mode="full")[half:half + n_steps]
    overlap = np.convolve(np.ones(n_steps), window, mode="full")[half:half + n_steps]
    return smoothed / overlap


def _gaussian_smoothed_rate(monitor: PopulationRateMonitor, width=1 * msecond) -> Quantity:
    """
    The rate of ``monitor`` smoothed with Brian's Gaussian window (standard
    deviation ``width``, cut off at two standard deviations on each side),
    corrected at both ends of the recording (see `_smooth_rate_edges`): away
    from the ends identical to ``monitor.smooth_rate('gaussian', width)``.
    """
    rate = np.asarray(monitor.rate_)
    if len(rate) == 0:
        return Quantity(np.zeros(0), dim=hertz.dim)
    sigma_steps = float(width / monitor.clock.dt)
    half = int(np.round(2 * sigma_steps))
    offsets = np.arange(-half, half + 1)
    window = np.exp(-(offsets**2) / (2 * sigma_steps**2))
    return Quantity(_smooth_rate_edges(rate, window / window.sum()), dim=hertz.dim)


@brian_plot.register(StateMonitor)
def _brian_plot_state_monitor(
    monitor: StateMonitor, axes: Axes | Sequence[Axes] | None = None, **kwds
) -> Axes | list[Axes]:
    """
    Traces of every recorded neuron; one panel per recorded variable
    (sharing the time axis) when there are several, returned as a list.
    """
    return _plot_recorded_variables(
        monitor, monitor.record_variables, np.asarray(monitor.record), axes, kwds
    )


@brian_plot.register(StateMonitorView)
def _brian_plot_state_monitor_view(
    view: StateMonitorView, axes: Axes | Sequence[Axes] | None = None, **kwds
) -> Axes | list[Axes]:
    """Like a StateMonitor, restricted to the neurons of ``state_mon[...]``."""
    return _plot_recorded_variables(
        view, view.monitor.record_variables, np.atleast_1d(view.item), axes, kwds
    )


def _plot_recorded_variables(source, variables, neurons, axes, kwds) -> Axes | list[Axes]:
    """
    Draw each variable of ``source`` (a monitor or a view on it) into its own
    panel; the lines are labelled ``'neuron <index>'`` and, for 2 to
    `MAX_LEGEND_TRACES` neurons, listed in a legend on the first panel.
    Returns the axes for one variable, the list of panels for several.
    """
    kwds = dict(kwds)
    var_name = kwds.pop("var_name", None)
    if var_name is not None and len(variables) != 1:
        raise ValueError(
            f"'var_name' can only be given for a monitor recording one variable, "
            f"not {len(variables)} ({', '.join(variables)})."
        )
    our_labels = "label" not in kwds
    if our_labels:
        kwds["label"] = [f"neuron {index}" for index in neurons]
        if len(neurons) == 1:
            kwds["label"] = kwds["label"][0]
    panels = _panels(axes, variables, _source_name(source))
    if not variables:  # nothing recorded: an empty, labelled time axis
        panels[0].set_xlabel(axis_label("time", second))
        return panels[0]
    time = source.t
    for panel, variable in zip(panels, variables, strict=True):
        values = getattr(source, variable)
        plot_state(time, values.T, var_name=var_name or variable, axes=panel, **kwds)
    if our_labels and 1 < len(neurons) <= MAX_LEGEND_TRACES:
        panels[0].legend(loc="best", fontsize="small")
    if len(panels) == 1:
        return panels[0]
    for panel in panels[:-1]:
        if panel.get_shared_x_axes().joined(panel, panels[-1]):
            panel.set_xlabel("")  # the shared time axis is labelled at the bottom
    return panels


def _source_name(source) -> str:
    """The monitor's name, for error messages (a view names its monitor)."""
    monitor = getattr(source, "monitor", source)
    return getattr(monitor, "name", type(source).__name__)


def _panels(axes, variables, name: str) -> list[Axes]:
    """
    The axes to draw each variable into: the given sequence (one axes per
    variable), or the given/current axes split into stacked panels.
    """
    if axes is None or isinstance(axes, Axes):
        return _stacked_panels(get_axes(axes), max(len(variables), 1))
    if isinstance(axes, str) or not isinstance(axes, Sequence | np.ndarray):
        raise TypeError(
            f"'axes' has to be a matplotlib Axes or a sequence of them (one per "
            f"recorded variable), not '{type(axes).__name__}'."
        )
    panels = [get_axes(panel) for panel in np.asarray(axes, dtype=object).ravel()]
    if len(panels) != max(len(variables), 1):
        raise ValueError(
            f"'{name}' records {len(variables)} variable(s) "
            f"({', '.join(variables) or 'none'}), but {len(panels)} axes were given "
            f"in 'axes': give one per variable, or a single axes to split."
        )
    return panels


def _stacked_panels(axes: Axes, count: int) -> list[Axes]:
    """
    Split the area of ``axes`` into ``count`` panels stacked top to bottom
    that share the x axis; ``axes`` itself becomes the top panel.
    """
    if count == 1:
        return [axes]
    figure = axes.figure
    panels = [axes]
    spec = axes.get_subplotspec()
    if spec is not None:
        grid = spec.subgridspec(count, 1)
        axes.set_subplotspec(grid[0])
        panels += [figure.add_subplot(grid[k], sharex=axes) for k in range(1, count)]
    else:  # axes placed by hand (figure.add_axes): divide its rectangle
        left, bottom, width, height = axes.get_position().bounds
        panel_height = height / count
        axes.set_position([left, bottom + (count - 1) * panel_height, width, panel_height])
        panels += [
            figure.add_axes(
                [left, bottom + (count - 1 - k) * panel_height, width, panel_height],
                sharex=axes,
            )
            for k in range(1, count)
        ]
    for panel in panels[:-1]:
        panel.tick_params(labelbottom=False)
    return panels
