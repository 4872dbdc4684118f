"""
The :func:`brian_plot` dispatcher, :func:`add_background_pattern`, and the
small helpers that every plotting module shares (axes selection, unit
handling, axis labels, input checks).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from brian2.core.variables import VariableView
from brian2.units.fundamentalunits import (
    DIMENSIONLESS,
    DimensionMismatchError,
    Quantity,
    Unit,
    get_dimensions,
    get_unit,
)
from brian2.utils.logger import get_logger
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

__all__ = ["brian_plot", "add_background_pattern"]

logger = get_logger(__name__)


@functools.singledispatch
def brian_plot(
    brian_obj: Any, axes: Axes | Sequence[Axes] | None = None, **kwds
) -> Axes | list[Axes]:
    """
    Plot a Brian object with a plot type chosen for it.

    This is a convenience function for a quick look at a simulation: the
    kind of plot and its details depend on the object and may change between
    versions. For full control, call the specific function that it hands
    off to.

    ===============================================  ===============================
    Object                                           Plot (function)
    ===============================================  ===============================
    `~brian2.SpikeMonitor`, `~brian2.EventMonitor`   raster (`plot_raster`)
    `~brian2.PopulationRateMonitor`                  rate smoothed with a 1 ms
                                                     Gaussian, corrected at the
                                                     ends (`plot_rate`)
    `~brian2.StateMonitor` (or an indexed one)       traces (`plot_state`),
                                                     a legend of the neuron
                                                     indices for 2 to 10
                                                     neurons; one panel per
                                                     variable if several are
                                                     recorded
    `~brian2.Synapses`                               connections (`plot_synapses`)
    a synaptic variable (``synapses.w``)             its values per connection
                                                     (`plot_synapses`)
    `~brian2.Morphology`                             dendrogram (`plot_dendrogram`)
    ===============================================  ===============================

    The dispatcher is a :func:`functools.singledispatch` function, so other
    packages can teach it their own types with ``@brian_plot.register``.

    Parameters
    ----------
    brian_obj : object
        The object to plot.
    axes : `~matplotlib.axes.Axes` or sequence of Axes, optional
        The axes to plot into; by default the current axes (a new figure is
        created if there is none). For a `~brian2.StateMonitor` recording
        several variables, either one axes (split into stacked panels that
        share the time axis) or a sequence of axes, one per variable in the
        monitor's order.
    **kwds
        Passed on to the specific plotting function and from there to
        matplotlib.

    Returns
    -------
    axes : `~matplotlib.axes.Axes` or list of Axes
        The axes that were drawn on; for a `~brian2.StateMonitor` recording
        several variables, the list of axes, one per variable in the
        monitor's order (``monitor.record_variables``).

    Raises
    ------
    TypeError
        If no plot is registered for the type of ``brian_obj``.

    Examples
    --------
    >>> from brian2 import *
    >>> from brian2tools import brian_plot
    >>> group = NeuronGroup(10, 'dv/dt = (1.1 - v)/(10*ms) : 1',
    ...                     threshold='v > 1', reset='v = 0', method='exact')
    >>> spikes = SpikeMonitor(group)
    >>> run(50*ms)
    >>> ax = brian_plot(spikes)  # a raster plot

    A monitor of two variables gives two panels:

    >>> start_scope()
    >>> cells = NeuronGroup(2, '''dv/dt = (w - v)/(10*ms) : volt
    ...                           dw/dt = -w/(50*ms) : volt''', method='exact')
    >>> cells.w = '(i + 1)*mV'
    >>> state = StateMonitor(cells, ['v', 'w'], record=True)
    >>> run(10*ms)
    >>> ax_v, ax_w = brian_plot(state)
    >>> ax_v.get_ylabel(), ax_w.get_ylabel()
    ('v (mV)', 'w (mV)')
    """
    supported = sorted(
        cls.__name__ for cls in brian_plot.registry if cls is not object
    )
    raise TypeError(
        f"brian_plot does not know how to plot an object of type "
        f"'{type(brian_obj).__name__}'. Supported types: {', '.join(supported)}. "
        f"Use one of the specific plot_* functions for other data, or register "
        f"your own type with @brian_plot.register."
    )


def add_background_pattern(
    axes: Axes,
    hatch: str = "xxx",
    fill: bool = True,
    fc: Any = (0.9, 0.9, 0.9),
    ec: Any = (0.8, 0.8, 0.8),
    zorder: float = -10,
    **kwds,
) -> Rectangle:
    """
    Cover the background of an axes with a hatch pattern.

    Useful when a colormap includes the background colour (e.g. white in
    ``'hot'``): empty regions then stay distinguishable from data.

    Parameters
    ----------
    axes : `~matplotlib.axes.Axes`
        The axes whose background gets the pattern.
    hatch : str, optional
        A matplotlib hatch pattern, by default ``'xxx'``.
    fill : bool, optional
        Whether to fill the background with ``fc`` below the hatching.
    fc, ec : color, optional
        Face colour (the fill) and edge colour (the hatching lines).
    zorder : float, optional
        Drawing order; the default puts the pattern below all data.
    **kwds
        Passed on to `~matplotlib.patches.Rectangle`.

    Returns
    -------
    patch : `~matplotlib.patches.Rectangle`
        The background patch (in axes coordinates, so it follows zooming).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from brian2tools import add_background_pattern
    >>> fig, ax = plt.subplots()
    >>> patch = add_background_pattern(ax, hatch='//')
    """
    patch = Rectangle(
        (0, 0), 1, 1, transform=axes.transAxes, hatch=hatch, fill=fill,
        fc=fc, ec=ec, zorder=zorder, **kwds,
    )
    axes.add_patch(patch)
    return patch


# --------------------------------------------------------------------------
# Helpers shared by the plotting modules (not public)
# --------------------------------------------------------------------------


def get_axes(axes: Axes | None) -> Axes:
    """Return ``axes``, or the current axes (created if needed) when None."""
    if axes is None:
        return plt.gca()
    if not isinstance(axes, Axes):
        raise TypeError(
            f"'axes' has to be a matplotlib Axes, not '{type(axes).__name__}'."
        )
    return axes


def unwrap_variable_view(values: Any) -> Any:
    """
    Turn a Brian `VariableView` (e.g. ``spike_mon.t``, ``synapses.w``) into the
    Quantity or array it stands for; anything else is returned unchanged.
    """
    if isinstance(values, VariableView):
        return values[:]
    return values


def display_unit(values, unit: Unit | None = None) -> Unit | None:
    """
    Choose the unit to display ``values`` in.

    ``unit`` wins when given; plain or dimensionless values have no unit;
    otherwise the unit in which the largest magnitude reads best (ms for spike
    times up to 0.2 s). Brian's own choice for long arrays only looks at the
    first and last printed elements (microseconds for sorted spike times that
    start near 0), and an axis is about the whole range. Two reductions, no
    copy of the data.
    """
    if unit is not None:
        return unit
    if not isinstance(values, Quantity):
        return None
    dim = get_dimensions(values)
    if dim is DIMENSIONLESS:
        return None
    plain = np.asarray(values)
    if plain.size == 0 or not np.issubdtype(plain.dtype, np.number):
        return get_unit(dim)
    with warnings.catch_warnings():  # all-NaN input is handled below
        warnings.simplefilter("ignore", RuntimeWarning)
        peak = max(abs(float(np.nanmin(plain))), abs(float(np.nanmax(plain))))
    if not np.isfinite(peak):
        finite = plain[np.isfinite(plain)]
        peak = float(np.max(np.abs(finite))) if finite.size else 0.0
    if peak == 0.0:
        return get_unit(dim)
    best = Quantity(peak, dim=dim).get_best_unit()
    # no named unit for these dimensions (e.g. V/s): the SI combination
    return best if isinstance(best, Unit) else get_unit(dim)


def to_plain_array(
    values,
    name: str,
    dimension=None,
    unit: Unit | None = None,
) -> tuple[np.ndarray, Unit | None]:
    """
    Check ``values`` and return them as a plain float array plus the unit the
    array is expressed in.

    Parameters
    ----------
    values : array-like or `~brian2.Quantity`
        The data. Plain numbers are taken to be in ``unit`` (if given).
    name : str
        The argument's name, used in error messages.
    dimension : `~brian2.units.fundamentalunits.Dimension`, optional
        The required physical dimension. A quantity of another dimension is
        an error.
    unit : `~brian2.Unit`, optional
        The unit to express the values in; by default the best unit.

    Returns
    -------
    array : `numpy.ndarray`
        The values (never the caller's own array if it needed converting;
        never written to).
    unit : `~brian2.Unit` or None

    Raises
    ------
    DimensionMismatchError
        If ``values`` or ``unit`` do not have the required dimensions (Brian's
        own exception, so that ``except DimensionMismatchError`` catches it).
    TypeError
        If ``values`` are not numbers.
    """
    values = unwrap_variable_view(values)
    if isinstance(values, Quantity):
        dim = get_dimensions(values)
        if dimension is not None and dim is not dimension:
            raise DimensionMismatchError(
                f"'{name}' should have the dimensions of {get_unit(dimension)!r} "
                f"but has units of {get_unit(dim)!r}."
            )
        if unit is not None and get_dimensions(unit) is not dim:
            raise DimensionMismatchError(
                f"The unit {unit!r} chosen for '{name}' does not match its "
                f"units ({get_unit(dim)!r})."
            )
        shown_unit = display_unit(values, unit)
        if shown_unit is None:
            return np.asarray(values, dtype=float), None
        return np.asarray(values / shown_unit, dtype=float), shown_unit
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"'{name}' should be an array of numbers, not "
            f"'{type(values).__name__}' ({exc})."
        ) from None
    return array, unit


def axis_label(name: str | None, unit: Unit | None) -> str:
    """Axis label from a variable name and unit: ``'v (mV)'``, ``'v'``, ``'mV'``."""
    unit_text = str(unit) if unit is not None and str(unit) not in ("1", "") else None
    if name and unit_text:
        return f"{name} ({unit_text})"
    return name or unit_text or ""


def check_same_length(**arrays: Sequence) -> None:
    """Raise a ValueError naming the arguments if their lengths differ."""
    lengths = {name: len(arr) for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"'{name}' has {n}" for name, n in lengths.items())
        raise ValueError(f"The arguments need to have the same length, but {described}.")
