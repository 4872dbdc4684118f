"""
Drawing a morphology in 3D with matplotlib's mplot3d, for
:func:`~brian2tools.plotting.morphology.plot_morphology`.

The geometry comes from :mod:`brian2tools.plotting.morphology_layout` and the
colours from :mod:`brian2tools.plotting.morphology_style`; this module puts
them into an `~mpl_toolkits.mplot3d.axes3d.Axes3D` (one collection for all
sections) and makes the box readable: equal scales, few ticks on short
sides, axis labels clear of the tick labels, and little empty space around
a flat cell.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from brian2.utils.logger import get_logger
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from .base import axis_label
from .morphology_layout import MorphologyLayout
from .morphology_style import (
    COMPARTMENT_EDGEWIDTH,
    COMPARTMENT_MARKERSIZE,
    DEFAULT_LINEWIDTH,
    MIN_3D_LINEWIDTH,
    WIDTH_KEYS,
    MorphologyStyle,
    add_level_legend,
    level_legend_entries,
    with_defaults,
)

__all__ = ["axes_3d", "draw_3d"]

logger = get_logger(__name__)

#: The unit of all coordinates, as written in axis labels.
UM_LABEL = "µm"

#: Most ticks on the longest side of the 3D box (shorter sides get fewer, in
#: proportion): more make the labels of neighbouring ticks touch, and those
#: of two axes collide at the box corner where they meet.
MAX_3D_TICKS = 4

#: A side of the box is drawn at least this fraction of the longest side,
#: so that a flat cell does not become a sheet whose axis labels overlap;
#: its real extent is still what the ticks say.
MIN_BOX_FRACTION = 0.25

#: Elevation (degrees) of the view of a flat cell in a fresh axes (matplotlib:
#: 30): seen from higher up, a cell that lies mostly in the x-y plane fills
#: more of the figure's height instead of leaving it blank.
FLAT_CELL_ELEVATION = 45

#: Space (points) between the tick labels and the axis labels.
LABEL_PAD = 12


def axes_3d(axes: Any):
    """
    A 3D axes: ``axes``/the current axes if 3D, else a 3D axes in place of an
    empty 2D one.

    Parameters
    ----------
    axes : `~matplotlib.axes.Axes` or None
        The axes given to the plot (None: the current one).

    Returns
    -------
    axes : `~mpl_toolkits.mplot3d.axes3d.Axes3D`

    Raises
    ------
    TypeError
        If ``axes`` is not a matplotlib Axes.
    ValueError
        If ``axes`` is a 2D axes that already shows data.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> axes_3d(ax).name
    '3d'
    """
    from mpl_toolkits.mplot3d import Axes3D

    if axes is None:
        figure = plt.gcf()
        if not figure.axes:
            return figure.add_subplot(projection="3d")
        axes = figure.gca()
    elif not isinstance(axes, Axes):
        raise TypeError(
            f"'axes' has to be a matplotlib Axes (or a Mayavi scene with "
            f"backend='mayavi'), not '{type(axes).__name__}'."
        )
    if isinstance(axes, Axes3D):
        return axes
    if axes.has_data():
        raise ValueError(
            "A 3D morphology plot needs a 3D axes, but the given/current axes is "
            "a 2D axes that already shows data. Pass an axes created with "
            "projection='3d', start a new figure, or use plot_3d=False."
        )
    figure = axes.figure
    subplotspec = axes.get_subplotspec()
    position = axes.get_position()
    axes.remove()
    if subplotspec is not None:
        return figure.add_subplot(subplotspec, projection="3d")
    return figure.add_axes(position, projection="3d")


def _points_per_um(axes, extent_um: float) -> float:
    """Roughly how many points one micrometre spans in a 3D axes showing ``extent_um``."""
    bbox = axes.get_window_extent()
    size_points = min(bbox.width, bbox.height) * 72.0 / axes.figure.dpi
    return size_points / max(extent_um, 1e-12)


def _sphere(center: np.ndarray, radius: float, resolution: int = 12):
    theta, phi = np.meshgrid(
        np.linspace(0, np.pi, resolution), np.linspace(0, 2 * np.pi, 2 * resolution)
    )
    return (
        center[0] + radius * np.sin(theta) * np.cos(phi),
        center[1] + radius * np.sin(theta) * np.sin(phi),
        center[2] + radius * np.cos(theta),
    )


def _bounds(layout: MorphologyLayout) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest x, y, z (um) of all points and somata."""
    low = np.min(layout.all_points, axis=0)
    high = np.max(layout.all_points, axis=0)
    if len(layout.soma_center):
        radius = layout.soma_diameter[:, None] / 2
        low = np.minimum(low, np.min(layout.soma_center - radius, axis=0))
        high = np.maximum(high, np.max(layout.soma_center + radius, axis=0))
    return low, high


def _readable_box(axes, low: np.ndarray, high: np.ndarray, had_data: bool) -> None:
    """Equal scales (short sides padded), few ticks, labels clear of the ticks."""
    ranges = np.maximum(high - low, 1e-12)
    longest = ranges.max()
    # A side shorter than MIN_BOX_FRACTION of the longest gets a larger range
    # around its data (same scale on every axis, so the cell keeps its shape).
    padded = np.maximum(ranges, MIN_BOX_FRACTION * longest)
    center = (low + high) / 2
    low_shown, high_shown = center - padded / 2, center + padded / 2
    axes.auto_scale_xyz(
        [low_shown[0], high_shown[0]], [low_shown[1], high_shown[1]],
        [low_shown[2], high_shown[2]], had_data=had_data,
    )
    axes.set_box_aspect(padded / longest)
    if not had_data and (axes.elev, axes.azim) == (30, -60) and padded[2] < 0.5 * longest:
        # a fresh axes with matplotlib's default view, and a flat cell
        axes.view_init(elev=FLAT_CELL_ELEVATION, azim=axes.azim)
    for axis, extent in zip((axes.xaxis, axes.yaxis, axes.zaxis), padded, strict=True):
        n_ticks = max(1, round(MAX_3D_TICKS * extent / longest))
        # 'both': no tick at the box corners, where two axes' labels meet
        axis.set_major_locator(MaxNLocator(nbins=n_ticks, prune="both"))
    axes.set_xlabel(axis_label("x", UM_LABEL), labelpad=LABEL_PAD)
    axes.set_ylabel(axis_label("y", UM_LABEL), labelpad=LABEL_PAD)
    axes.set_zlabel(axis_label("z", UM_LABEL), labelpad=LABEL_PAD)


def _add_colorbar_3d(axes, mappable, label: str) -> None:
    colorbar = axes.figure.colorbar(mappable, ax=axes, shrink=0.6, pad=0.08)
    colorbar.set_label(label)


def draw_3d(layout: MorphologyLayout, style: MorphologyStyle, axes, kwds: dict):
    """
    Draw ``layout`` into the 3D ``axes`` (see `plot_morphology`).

    Parameters
    ----------
    layout : `~brian2tools.plotting.morphology_layout.MorphologyLayout`
        The geometry (with diameters if ``style.show_diameter``).
    style : `~brian2tools.plotting.morphology_style.MorphologyStyle`
        What to draw, in which colours.
    axes : `~mpl_toolkits.mplot3d.axes3d.Axes3D`
        Where to draw.
    kwds : dict
        Passed on to the `~mpl_toolkits.mplot3d.art3d.Line3DCollection`.

    Returns
    -------
    axes : `~mpl_toolkits.mplot3d.axes3d.Axes3D`
        ``axes``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from brian2 import Cylinder, Soma, um
    >>> from brian2tools import plot_morphology
    >>> morpho = Soma(10*um)
    >>> morpho.dend = Cylinder(1*um, length=50*um, n=5)
    >>> ax = plot_morphology(morpho, plot_3d=True)  # calls draw_3d
    >>> ax.get_zlabel()
    'z (µm)'
    """
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    cable = ~layout.is_soma
    had_data = axes.has_data()
    low, high = _bounds(layout)

    line_kwds = with_defaults(kwds, linewidth=DEFAULT_LINEWIDTH)
    if style.values is not None or style.show_diameter:
        segments = np.stack([layout.start[cable], layout.end[cable]], axis=1)
        if style.values is None:
            line_kwds = with_defaults(line_kwds, color=style.depth_colors(layout.depth[cable]))
        if style.show_diameter and not any(key in kwds for key in WIDTH_KEYS):
            diameter = 0.5 * (layout.start_diameter[cable] + layout.end_diameter[cable])
            widths = diameter * _points_per_um(axes, float(np.max(high - low)))
            line_kwds["linewidths"] = np.maximum(widths, MIN_3D_LINEWIDTH)
    else:
        segments = layout.section_paths
        line_kwds = with_defaults(
            line_kwds, color=style.depth_colors(layout.tree.depth[~layout.tree.is_soma])
        )
    mappable = None
    if np.any(cable):  # (mplot3d cannot add an empty collection)
        sections = Line3DCollection(segments, **line_kwds)
        if style.values is not None:
            sections.set_array(style.values[cable])
            sections.set_cmap(style.cmap)
            sections.set_norm(style.norm)
            mappable = sections
        axes.add_collection3d(sections)

    for center, diameter, color in zip(
        layout.soma_center, layout.soma_diameter, style.soma_colors(layout), strict=True
    ):
        axes.plot_surface(*_sphere(center, diameter / 2), color=color, linewidth=0, shade=True)
    if style.values is not None and mappable is None:  # a soma on its own
        from matplotlib.cm import ScalarMappable

        mappable = ScalarMappable(norm=style.norm, cmap=style.cmap)

    if style.show_compartments and np.any(cable):
        boundaries = layout.boundaries
        # the colour of the compartment, with a white rim: the dots mark the
        # boundaries without hiding the colour that was asked for
        axes.scatter(
            boundaries[:, 0], boundaries[:, 1], boundaries[:, 2],
            marker="o", s=COMPARTMENT_MARKERSIZE**2, c=style.boundary_colors(layout),
            edgecolors="white", linewidths=COMPARTMENT_EDGEWIDTH, depthshade=False,
        )
    _readable_box(axes, low, high, had_data)
    if style.values is None and style.legend and not any(
        key in kwds for key in ("color", "colors", "edgecolor", "edgecolors", "ec")
    ):
        add_level_legend(
            axes, level_legend_entries(style.section_colors, layout.tree.depth),
            loc="upper left",
        )
    if style.colorbar:
        _add_colorbar_3d(axes, mappable, style.value_label)
    return axes
