"""
Plots of synaptic connections and synaptic variables.

:func:`plot_synapses` draws connections given as source and target indices
(optionally coloured by a value per synapse) as an image of the connection
matrix, a scatter plot or a hexagonal 2D histogram. This module also teaches
:func:`~brian2tools.plotting.base.brian_plot` to plot `~brian2.Synapses`
objects and synaptic variables such as ``synapses.w`` or ``synapses.delay``.

In all plots the source neuron index is on the x axis and the target neuron
index on the y axis; pairs of neurons without a synapse are left empty
(never drawn as a value of 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from brian2.core.variables import VariableView
from brian2.synapses.synapses import Synapses, SynapticPathway
from brian2.units.fundamentalunits import (
    DIMENSIONLESS,
    DimensionMismatchError,
    Quantity,
    Unit,
    get_dimensions,
)
from brian2.utils.logger import get_logger
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize
from matplotlib.ticker import MaxNLocator

from .base import axis_label, brian_plot, check_same_length, get_axes, to_plain_array

__all__ = ["plot_synapses", "default_plot_type", "scatter_marker_size"]

logger = get_logger(__name__)

#: The values accepted for the ``plot_type`` argument of `plot_synapses`.
PLOT_TYPES = ("image", "scatter", "hexbin")

#: `brian_plot` draws the connection matrix as an image up to this many
#: source-target pairs (e.g. 200 x 200 neurons): every pair is still at least
#: about one pixel in a default-sized figure.
IMAGE_MAX_PAIRS = 40_000

#: Above this number of synapses, `brian_plot` uses a hexagonal 2D histogram
#: instead of a scatter plot: individual markers would merge into a blot and
#: drawing them would get slow.
SCATTER_MAX_SYNAPSES = 20_000

#: Count plots with at most this many different counts get one colour per
#: count; above it a continuous colormap (still with integer ticks).
DISCRETE_COUNTS_MAX = 20

#: Above this many pixels an image plot warns that it is memory-hungry.
IMAGE_WARN_PIXELS = 25_000_000

#: Scatter markers (unless ``s`` is given) cover this fraction of a cell of
#: the connection matrix, so that neighbouring pairs stay apart and markers
#: at the first and last index stay inside the limits; the rest of the cell
#: also absorbs a moderate shrinking of the axes by a layout engine.
SCATTER_CELL_FRACTION = 0.9

#: Bounds (points) of the automatic scatter marker size: never larger than
#: matplotlib's usual marker for small networks, never smaller than about a
#: pixel at 100 dpi for huge ones.
SCATTER_MARKER_POINTS = (0.72, 6.0)

#: Keyword arguments of `~matplotlib.axes.Axes.hexbin` that decide how the
#: hexagons' edges are drawn; if none is given, hexagons are drawn without
#: edges and without antialiasing (see `_draw_hexbin`).
HEXBIN_EDGE_KEYS = ("linewidths", "linewidth", "lw", "edgecolors", "edgecolor", "ec",
                    "antialiased", "antialiaseds", "aa")

_SOURCE_LABEL = "source neuron index"
_TARGET_LABEL = "target neuron index"
_COUNT_LABEL = "number of synapses"
#: A hexagon holds the synapses of many source-target pairs.
_HEXBIN_COUNT_LABEL = "synapses per bin"


# --------------------------------------------------------------------------
# Data preparation (no drawing)
# --------------------------------------------------------------------------


def _index_array(indices, name: str) -> np.ndarray:
    """Check neuron indices and return them as a 1-D integer array (read only use)."""
    if isinstance(indices, VariableView):
        indices = indices[:]
    if isinstance(indices, Quantity) and get_dimensions(indices) is not DIMENSIONLESS:
        raise DimensionMismatchError(
            f"'{name}' should be neuron indices (dimensionless integers), but has "
            f"units of {get_dimensions(indices)}."
        )
    array = np.asarray(indices)
    if array.ndim != 1:
        raise ValueError(
            f"'{name}' should be a 1-dimensional array of neuron indices, but has "
            f"shape {array.shape}."
        )
    if array.dtype.kind in "iu":
        integers = array
    elif array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValueError(f"'{name}' should contain integer neuron indices only.")
        integers = array.astype(np.int64)
    else:
        raise TypeError(
            f"'{name}' should be an array of integer neuron indices, not an array "
            f"of dtype '{array.dtype}'."
        )
    if integers.size and integers.min() < 0:
        raise ValueError(f"'{name}' contains negative neuron indices.")
    return integers


def _group_size(indices, role: str) -> int | None:
    """
    The number of neurons in the source (``role='source'``) or target group
    when ``indices`` is ``synapses.i`` or ``synapses.j`` of a Synapses object;
    None for plain arrays.
    """
    if not isinstance(indices, VariableView):
        return None
    try:
        synapses = _owning_synapses(indices.group)
    except (TypeError, ReferenceError):
        return None
    expected = {"source": ("i", "_synaptic_pre"), "target": ("j", "_synaptic_post")}
    if indices.name not in expected[role]:
        return None
    return len(synapses.source if role == "source" else synapses.target)


def _neuron_count(indices: np.ndarray, given: int | None, name: str) -> int:
    """The number of neurons to show: ``given`` if known, else the largest index + 1."""
    needed = int(indices.max()) + 1 if indices.size else 0
    if given is None:
        return max(needed, 1)
    if needed > given:
        raise ValueError(
            f"'{name}' contains the neuron index {needed - 1}, but the group only "
            f"has {given} neurons."
        )
    return int(given)


def _value_array(values, var_unit: Unit | None, n_synapses: int) -> tuple[np.ndarray, Unit | None]:
    """Values per synapse as a float array (a scalar is broadcast to all synapses)."""
    array, unit = to_plain_array(values, "values", unit=var_unit)
    if array.ndim == 0:
        array = np.broadcast_to(array, (n_synapses,))
    elif array.ndim != 1:
        raise ValueError(
            f"'values' should be a 1-dimensional array (one value per synapse), "
            f"but has shape {array.shape}."
        )
    return array, unit


def _unique_pairs(
    sources: np.ndarray, targets: np.ndarray, n_targets: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (source, target) pairs and the number of synapses for each."""
    keys = sources.astype(np.int64) * n_targets + targets
    unique_keys, counts = np.unique(keys, return_counts=True)
    return unique_keys // n_targets, unique_keys % n_targets, counts


def _duplicate_error(n_pairs: int) -> ValueError:
    return ValueError(
        f"Cannot plot one value per synapse: {n_pairs} source-target pair(s) are "
        f"connected by more than one synapse, so it is ambiguous which value to "
        f"show. Plot without 'values' to see the number of synapses per pair, or "
        f"use plot_type='hexbin', which shows the mean value per hexagon."
    )


# --------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------


def _add_colorbar(axes: Axes, mappable: ScalarMappable, label: str, integer: bool = False):
    """A colorbar next to ``axes`` for ``mappable``, labelled ``label``."""
    colorbar = axes.figure.colorbar(mappable, ax=axes)
    colorbar.set_label(label)
    if integer:
        vmin, vmax = mappable.norm.vmin, mappable.norm.vmax
        low, high = int(np.ceil(vmin)), int(np.floor(vmax))
        ticks = MaxNLocator(integer=True, nbins=min(high - low + 1, 8)).tick_values(low, high)
        colorbar.set_ticks([t for t in ticks if low <= t <= high])
    return colorbar


def _count_norm(max_count: int, cmap: Any, kwds: dict) -> None:
    """
    Put a norm for counts 1..max_count into ``kwds`` (unless the caller chose
    one): one colour per count when there are few different counts.
    """
    if "norm" in kwds or "vmin" in kwds or "vmax" in kwds:
        return
    if max_count <= DISCRETE_COUNTS_MAX:
        n_colors = colormaps.get_cmap(cmap).N
        kwds["norm"] = BoundaryNorm(np.arange(0.5, max_count + 1.5), ncolors=n_colors)
    else:
        kwds["norm"] = Normalize(vmin=1, vmax=max_count)


def _single_colour_cmap(kwds: dict) -> None:
    """For a plain connection image: connected pairs in one colour (unless a cmap is given)."""
    if "cmap" not in kwds:
        kwds["cmap"] = ListedColormap([kwds.pop("color", "C0")])
    if "norm" not in kwds and "vmin" not in kwds and "vmax" not in kwds:
        kwds["norm"] = Normalize(vmin=0.5, vmax=1.5)


def _draw_image(axes, sources, targets, values, n_sources, n_targets, value_label, kwds):
    n_pixels = n_sources * n_targets
    if n_pixels > IMAGE_WARN_PIXELS:
        logger.warn(
            f"Plotting the connection matrix of {n_sources} x {n_targets} neurons as "
            f"an image needs a lot of memory; consider plot_type='hexbin'.",
            name_suffix="large_image",
        )
    # Rows are targets (y), columns are sources (x).
    flat_index = targets.astype(np.int64) * n_sources + sources
    counts = np.bincount(flat_index, minlength=n_pixels).reshape(n_targets, n_sources)
    empty = counts == 0
    kwds.setdefault("interpolation", "nearest")
    kwds.setdefault("aspect", "auto")
    extent = (-0.5, n_sources - 0.5, -0.5, n_targets - 0.5)
    max_count = int(counts.max()) if counts.size else 0
    if values is not None:
        if max_count > 1:
            raise _duplicate_error(int(np.count_nonzero(counts > 1)))
        matrix = np.zeros((n_targets, n_sources), dtype=float)
        matrix[targets, sources] = values
        image = axes.imshow(np.ma.masked_array(matrix, mask=empty), origin="lower",
                            extent=extent, **kwds)
        _add_colorbar(axes, image, value_label)
    elif max_count > 1:
        _count_norm(max_count, kwds.get("cmap"), kwds)
        image = axes.imshow(np.ma.masked_array(counts, mask=empty), origin="lower",
                            extent=extent, **kwds)
        _add_colorbar(axes, image, _COUNT_LABEL, integer=True)
    else:
        _single_colour_cmap(kwds)
        image = axes.imshow(np.ma.masked_array(counts, mask=empty), origin="lower",
                            extent=extent, **kwds)
    return image


def scatter_marker_size(axes: Axes, n_sources: int, n_targets: int) -> float:
    """
    The scatter marker size (``s``, in points squared) that fits one cell of a
    connection matrix of ``n_sources`` x ``n_targets`` in ``axes``.

    The cell size is taken from the axes' current size on the figure (in
    points, so independent of the resolution the figure is saved at); the
    marker spans `SCATTER_CELL_FRACTION` of the smaller side of a cell, within
    `SCATTER_MARKER_POINTS`.

    Parameters
    ----------
    axes : `~matplotlib.axes.Axes`
        The axes of the plot, already in its final place (e.g. after adding
        a colorbar).
    n_sources, n_targets : int
        The number of source and target neurons (cells along x and y).

    Returns
    -------
    size : float
        The marker area in points squared, as used by
        `~matplotlib.axes.Axes.scatter`.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from brian2tools.plotting.synapses import scatter_marker_size
    >>> fig, ax = plt.subplots(figsize=(4, 4))
    >>> scatter_marker_size(ax, 1000, 1000) < scatter_marker_size(ax, 100, 100)
    True
    """
    figure = axes.figure
    box = axes.get_position()  # figure fraction
    width_pt = box.width * figure.get_figwidth() * 72.0
    height_pt = box.height * figure.get_figheight() * 72.0
    cell_pt = min(width_pt / max(n_sources, 1), height_pt / max(n_targets, 1))
    low, high = SCATTER_MARKER_POINTS
    diameter = float(np.clip(SCATTER_CELL_FRACTION * cell_pt, low, high))
    return diameter**2


def _draw_scatter(axes, sources, targets, values, n_sources, n_targets, value_label, kwds):
    auto_size = not any(key in kwds for key in ("s", "sizes"))
    if auto_size and not any(key in kwds for key in ("linewidths", "linewidth", "lw")):
        # an edge would make the marker larger than the size computed for it
        kwds["linewidths"] = 0
    pair_sources, pair_targets, counts = _unique_pairs(sources, targets, n_targets)
    has_duplicates = len(counts) < len(sources)
    if values is not None:
        if has_duplicates:
            raise _duplicate_error(int(np.count_nonzero(counts > 1)))
        collection = axes.scatter(sources, targets, c=values, **kwds)
        _add_colorbar(axes, collection, value_label)
    elif has_duplicates:
        for colour_arg in ("c", "color"):
            if colour_arg in kwds:
                raise ValueError(
                    f"The '{colour_arg}' argument cannot be used here: some source-target "
                    f"pairs have several synapses, so the colour shows the number of "
                    f"synapses per pair. Use 'cmap' to choose the colours."
                )
        _count_norm(int(counts.max()), kwds.get("cmap"), kwds)
        collection = axes.scatter(pair_sources, pair_targets, c=counts, **kwds)
        _add_colorbar(axes, collection, _COUNT_LABEL, integer=True)
    else:
        collection = axes.scatter(sources, targets, **kwds)
    axes.set_xlim(-0.5, n_sources - 0.5)
    axes.set_ylim(-0.5, n_targets - 0.5)
    if auto_size:  # now that the colorbar (if any) has taken its space
        collection.set_sizes([scatter_marker_size(axes, n_sources, n_targets)])
    return collection


def _draw_hexbin(axes, sources, targets, values, n_sources, n_targets, value_label, kwds):
    if sources.size == 0:
        raise ValueError("Cannot draw a hexbin plot without any synapses.")
    kwds.setdefault("extent", (-0.5, n_sources - 0.5, -0.5, n_targets - 0.5))
    if not any(key in kwds for key in HEXBIN_EDGE_KEYS):
        # Matplotlib strokes every hexagon with its own colour only to hide
        # the light seams that antialiasing leaves between neighbours. Without
        # antialiasing neighbouring hexagons share their edge pixels exactly
        # (no seams, no stroke needed), and drawing takes about a third less.
        kwds["linewidths"] = 0
        kwds["antialiased"] = False
    if values is not None:
        # matplotlib's default reduce_C_function is np.mean: the mean value per hexagon.
        collection = axes.hexbin(sources, targets, C=values, **kwds)
        _add_colorbar(axes, collection, value_label)
    else:
        # Only hexagons with at least one synapse are drawn (empty ones are not 0).
        kwds.setdefault("mincnt", 1)
        collection = axes.hexbin(sources, targets, **kwds)
        counts = collection.get_array()
        user_norm = any(key in kwds for key in ("norm", "vmin", "vmax", "bins"))
        if not user_norm and counts is not None and counts.size:
            norm_kwds: dict = {}
            _count_norm(int(np.max(counts)), collection.get_cmap(), norm_kwds)
            collection.set_norm(norm_kwds["norm"])
        _add_colorbar(axes, collection, _HEXBIN_COUNT_LABEL, integer=not user_norm)
    return collection


_DRAWERS = {"image": _draw_image, "scatter": _draw_scatter, "hexbin": _draw_hexbin}


# --------------------------------------------------------------------------
# Public function
# --------------------------------------------------------------------------


def plot_synapses(
    sources,
    targets,
    values=None,
    var_unit: Unit | None = None,
    var_name: str | None = None,
    plot_type: str = "scatter",
    axes: Axes | None = None,
    *,
    n_sources: int | None = None,
    n_targets: int | None = None,
    **kwds,
) -> Axes:
    """
    Plot synaptic connections, optionally coloured by a value per synapse.

    The source neuron index is on the x axis and the target neuron index on
    the y axis. Pairs of neurons without a synapse stay empty (transparent),
    they are never drawn as a value of 0. If some pairs are connected by more
    than one synapse and no ``values`` are given, the colour shows the number
    of synapses per pair (with a colorbar labelled "number of synapses").

    Parameters
    ----------
    sources : array-like of int
        The source neuron index of each synapse (e.g. ``synapses.i``).
    targets : array-like of int
        The target neuron index of each synapse (e.g. ``synapses.j``).
    values : array-like or `~brian2.Quantity`, optional
        A value per synapse (e.g. ``synapses.w``) shown with a colormap and a
        colorbar labelled with ``var_name`` and the unit. A scalar is used
        for all synapses.
    var_unit : `~brian2.Unit`, optional
        The unit to show ``values`` in; by default a suitable unit is chosen
        (e.g. mV). For plain numbers, the unit they are expressed in.
    var_name : str, optional
        The name of the variable for the colorbar label (by default the
        name of ``values`` if it is a Brian variable such as ``synapses.w``).
    plot_type : {'scatter', 'image', 'hexbin'}, optional
        ``'scatter'`` (default): a marker per connected pair, sized (unless
        ``s`` is given) to fit one cell of the connection matrix in the
        axes at the time of the call, see `scatter_marker_size`.
        ``'image'``: the connection matrix as an image (origin at the lower
        left, covering all neurons).
        ``'hexbin'``: a hexagonal 2D histogram (`~matplotlib.axes.Axes.hexbin`)
        of the number of synapses (colorbar "synapses per bin"), or of the
        mean of ``values`` (change the reduction with ``reduce_C_function``),
        per hexagon; hexagons without synapses are not drawn, the others
        without edges or antialiasing (neighbours then meet without seams;
        pass ``linewidths``/``edgecolors``/``antialiased`` to change that).
        Suited to very many synapses.
    axes : `~matplotlib.axes.Axes`, optional
        The axes to plot into; by default the current axes.
    n_sources, n_targets : int, optional
        The number of source/target neurons, so that the plot covers neurons
        without any synapse, too. Taken from the Synapses object when
        ``sources``/``targets`` are ``synapses.i``/``synapses.j``; otherwise
        the largest index plus one.
    **kwds
        Passed on to matplotlib's `~matplotlib.axes.Axes.scatter`,
        `~matplotlib.axes.Axes.imshow` or `~matplotlib.axes.Axes.hexbin`
        (e.g. ``cmap``, ``marker``, ``color``, ``gridsize``).

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        The axes that were drawn on (a colorbar, if any, is added next to it).

    Raises
    ------
    ValueError
        If ``plot_type`` is unknown, the arguments have different lengths,
        the indices are not valid neuron indices, or ``values`` are given
        while some pairs have several synapses (except for ``'hexbin'``).
    DimensionMismatchError
        (``brian2.units.fundamentalunits.DimensionMismatchError``) If the
        indices have physical units, or ``var_unit`` does not match the
        units of ``values``.
    TypeError
        If ``axes`` is not a matplotlib Axes, or the indices or values are
        not numbers.

    Examples
    --------
    >>> from brian2 import *
    >>> from brian2tools import plot_synapses
    >>> group = NeuronGroup(10, 'v : volt', threshold='v > 1*volt', reset='')
    >>> synapses = Synapses(group, group, 'w : volt', on_pre='v += w')
    >>> synapses.connect(p=0.5)
    >>> synapses.w = 'rand()*mV'
    >>> ax = plot_synapses(synapses.i, synapses.j, synapses.w,
    ...                    plot_type='image', cmap='hot')
    """
    if plot_type not in PLOT_TYPES:
        raise ValueError(
            f"Unknown plot_type {plot_type!r}; use one of "
            f"{', '.join(repr(p) for p in PLOT_TYPES)}."
        )
    axes = get_axes(axes)
    if n_sources is None:
        n_sources = _group_size(sources, "source")
    if n_targets is None:
        n_targets = _group_size(targets, "target")
    if var_name is None and isinstance(values, VariableView):
        var_name = values.name
    if isinstance(values, VariableView):
        values = values[:]
    source_array = _index_array(sources, "sources")
    target_array = _index_array(targets, "targets")
    check_same_length(sources=source_array, targets=target_array)
    value_array = value_unit = None
    if values is not None:
        value_array, value_unit = _value_array(values, var_unit, len(source_array))
        check_same_length(sources=source_array, values=value_array)
    n_sources = _neuron_count(source_array, n_sources, "sources")
    n_targets = _neuron_count(target_array, n_targets, "targets")

    _DRAWERS[plot_type](
        axes, source_array, target_array, value_array, n_sources, n_targets,
        axis_label(var_name, value_unit), dict(kwds),
    )
    axes.set_xlabel(_SOURCE_LABEL)
    axes.set_ylabel(_TARGET_LABEL)
    return axes


# --------------------------------------------------------------------------
# brian_plot for Synapses and synaptic variables
# --------------------------------------------------------------------------


def _owning_synapses(group) -> Synapses:
    """The Synapses object behind a variable's group (Synapses or SynapticPathway, maybe proxied)."""
    if isinstance(group, SynapticPathway):
        group = group.synapses
    if isinstance(group, Synapses):  # also true for a weakref proxy to a Synapses object
        return group
    raise TypeError(type(group).__name__)


def default_plot_type(n_sources: int, n_targets: int, n_synapses: int) -> str:
    """
    The plot type `brian_plot` uses for connections between ``n_sources`` and
    ``n_targets`` neurons with ``n_synapses`` synapses.

    ``'image'`` if there are at most `IMAGE_MAX_PAIRS` (40 000) source-target
    pairs, else ``'scatter'`` for at most `SCATTER_MAX_SYNAPSES` (20 000)
    synapses, else ``'hexbin'``.

    Parameters
    ----------
    n_sources, n_targets : int
        The sizes of the source and target groups.
    n_synapses : int
        The number of synapses.

    Returns
    -------
    plot_type : str
        One of ``'image'``, ``'scatter'``, ``'hexbin'``.

    Examples
    --------
    >>> from brian2tools.plotting.synapses import default_plot_type
    >>> default_plot_type(100, 100, 500)
    'image'
    >>> default_plot_type(10000, 10000, 1000000)
    'hexbin'
    """
    if n_sources * n_targets <= IMAGE_MAX_PAIRS:
        return "image"
    if n_synapses <= SCATTER_MAX_SYNAPSES:
        return "scatter"
    return "hexbin"


@brian_plot.register(Synapses)
def _brian_plot_synapses(brian_obj: Synapses, axes: Axes | None = None, **kwds) -> Axes:
    """
    Plot the connections of a `~brian2.Synapses` object with `plot_synapses`;
    the plot type follows `default_plot_type` unless ``plot_type`` is given.
    """
    n_sources, n_targets = len(brian_obj.source), len(brian_obj.target)
    sources, targets = brian_obj.i[:], brian_obj.j[:]
    kwds.setdefault("plot_type", default_plot_type(n_sources, n_targets, len(sources)))
    return plot_synapses(sources, targets, axes=axes, n_sources=n_sources,
                         n_targets=n_targets, **kwds)


@brian_plot.register(VariableView)
def _brian_plot_variable(brian_obj: VariableView, axes: Axes | None = None, **kwds) -> Axes:
    """
    Plot a synaptic variable (e.g. ``synapses.w`` or ``synapses.delay``) per
    connection with `plot_synapses`, labelled with its name and unit.
    """
    try:
        synapses = _owning_synapses(brian_obj.group)
    except ReferenceError:
        raise ReferenceError(
            f"The group of the variable '{brian_obj.name}' no longer exists."
        ) from None
    except TypeError:
        raise TypeError(
            f"brian_plot can only plot variables of Synapses, but '{brian_obj.name}' "
            f"belongs to the {brian_obj.group.__class__.__name__} '{brian_obj.group_name}'. "
            f"Record it with a StateMonitor and plot that instead."
        ) from None
    n_sources, n_targets = len(synapses.source), len(synapses.target)
    sources, targets = synapses.i[:], synapses.j[:]
    kwds.setdefault("plot_type", default_plot_type(n_sources, n_targets, len(sources)))
    kwds.setdefault("var_name", brian_obj.name)
    return plot_synapses(sources, targets, brian_obj[:], axes=axes, n_sources=n_sources,
                         n_targets=n_targets, **kwds)
