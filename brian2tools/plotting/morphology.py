"""
Plots of neuronal morphologies: :func:`plot_dendrogram` (the branching
structure with section lengths) and :func:`plot_morphology` (the cell in 2D or
3D, optionally coloured by a value per compartment).

The geometry is computed by :mod:`brian2tools.plotting.morphology_layout`;
this module only draws it, with one matplotlib collection per kind of element
(all sections, all somata, ...) instead of one artist per section. 3D plots use
matplotlib's mplot3d, or Mayavi on request
(:mod:`brian2tools.plotting.morphology_mayavi`).

Importing this module teaches :func:`~brian2tools.plotting.base.brian_plot`
to draw a `~brian2.spatialneuron.morphology.Morphology` as a dendrogram.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from brian2.core.variables import VariableView
from brian2.spatialneuron.morphology import Morphology
from brian2.units import um
from brian2.units.fundamentalunits import (
    DimensionMismatchError,
    Quantity,
    Unit,
    get_dimensions,
    get_unit,
)
from brian2.utils.logger import get_logger
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PatchCollection, PolyCollection
from matplotlib.colors import Colormap, Normalize, to_rgba_array
from matplotlib.patches import Circle
from matplotlib.ticker import MaxNLocator

from .base import axis_label, brian_plot, get_axes, to_plain_array
from .morphology_layout import (
    MorphologyLayout,
    check_morphology,
    dendrogram_layout,
    morphology_layout,
)

__all__ = ["plot_dendrogram", "plot_morphology"]

logger = get_logger(__name__)

#: Line width (points) of sections and dendrogram lines unless given.
DEFAULT_LINEWIDTH = 1.5

#: Thinnest line (points) in 3D plots with ``show_diameter``: thinner ones
#: would disappear.
MIN_3D_LINEWIDTH = 0.5

#: Size (points) of the dots marking compartment boundaries in 2D.
COMPARTMENT_MARKERSIZE = 2.0

#: z coordinates (um) smaller than this count as "flat" for ``plot_3d=None``.
FLAT_TOLERANCE_UM = 1e-6

_COLOR_KEYS = ("color", "colors", "edgecolor", "edgecolors", "ec")
_WIDTH_KEYS = ("linewidth", "linewidths", "lw")


def _with_defaults(kwds: dict, color: Any = None, linewidth: Any = None) -> dict:
    """Add a colour/line width to matplotlib keywords unless given under any alias."""
    kwds = dict(kwds)
    if color is not None and not any(key in kwds for key in _COLOR_KEYS):
        kwds["colors"] = color
    if linewidth is not None and not any(key in kwds for key in _WIDTH_KEYS):
        kwds["linewidths"] = linewidth
    return kwds


# --------------------------------------------------------------------------
# Dendrogram
# --------------------------------------------------------------------------


def plot_dendrogram(morphology: Morphology, axes: Axes | None = None, **kwds) -> Axes:
    """
    Plot a dendrogram of a morphology: its branching structure, with the
    distance of each point from the root.

    Each section is a vertical line from the distance where it starts to the
    distance where it ends (in um); the children of a section hang from a
    horizontal line at its end. Terminal sections are spread evenly along
    the x axis in Brian's order of the sections (depth first), every other
    section sits midway between its first and last child. A soma (which Brian
    treats as a point without length) is marked with a dot.

    Parameters
    ----------
    morphology : `~brian2.spatialneuron.morphology.Morphology`
        The morphology (coordinates are not needed).
    axes : `~matplotlib.axes.Axes`, optional
        The axes to plot into; by default the current axes.
    **kwds
        Passed on to the `~matplotlib.collections.LineCollection` of all
        lines (e.g. ``color``, ``linewidth``).

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        The axes that were drawn on.

    Raises
    ------
    TypeError
        If ``morphology`` is not a `~brian2.spatialneuron.morphology.Morphology`.

    Examples
    --------
    >>> from brian2 import *
    >>> from brian2tools import plot_dendrogram
    >>> morpho = Soma(20*um)
    >>> morpho.dend = Cylinder(2*um, length=100*um, n=10)
    >>> morpho.dend.left = Cylinder(1*um, length=50*um, n=5)
    >>> morpho.dend.right = Cylinder(1*um, length=80*um, n=5)
    >>> ax = plot_dendrogram(morpho, color='black')
    """
    morphology = check_morphology(morphology, "plot_dendrogram")
    axes = get_axes(axes)
    layout = dendrogram_layout(morphology)
    segments = np.concatenate([layout.vertical, layout.horizontal])
    lines = LineCollection(
        segments, **_with_defaults(kwds, color="darkblue", linewidth=DEFAULT_LINEWIDTH)
    )
    axes.add_collection(lines)
    somata = layout.soma_positions
    if len(somata):
        axes.plot(
            somata[:, 0], somata[:, 1], linestyle="none", marker="o",
            color=lines.get_edgecolor()[0], clip_on=False, zorder=lines.get_zorder() + 0.1,
        )
    axes.autoscale_view()
    axes.set_xticks([])
    axes.set_ylabel(axis_label("distance from root", um))
    return axes


@brian_plot.register(Morphology)
def _brian_plot_morphology(brian_obj: Morphology, axes: Axes | None = None, **kwds) -> Axes:
    return plot_dendrogram(brian_obj, axes=axes, **kwds)


# --------------------------------------------------------------------------
# Morphology: argument checks
# --------------------------------------------------------------------------


def _section_colors(colors: Any) -> np.ndarray:
    """The colours to cycle through, as an (n, 4) RGBA array."""
    if colors is None:
        raise ValueError("'colors' needs at least one colour, got None.")
    try:
        rgba = to_rgba_array(colors)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"'colors' should be a matplotlib colour or a sequence of colours "
            f"such as ('darkblue', 'darkred'), not {colors!r} ({exc})."
        ) from None
    if len(rgba) == 0:
        raise ValueError("'colors' needs at least one colour, got an empty sequence.")
    return rgba


def _norm_limit(limit: Any, unit: Unit | None, which: str) -> float | None:
    if limit is None:
        return None
    if isinstance(limit, Quantity) and get_dimensions(limit) is not get_dimensions(
        unit if unit is not None else 1
    ):
        raise DimensionMismatchError(
            f"The {which} limit in 'value_norm' has units of "
            f"{get_unit(get_dimensions(limit))!r}, which do not match the values "
            f"({unit if unit is not None else 'dimensionless'})."
        )
    if isinstance(limit, Quantity) and unit is not None:
        return float(limit / unit)
    try:
        return float(limit)
    except (TypeError, ValueError):
        raise TypeError(
            f"The {which} limit in 'value_norm' should be a number or quantity, "
            f"not {limit!r}."
        ) from None


def _compartment_values(
    values: Any,
    n_compartments: int,
    value_unit: Unit | None,
    value_norm: Any,
    value_name: str | None,
) -> tuple[np.ndarray, Normalize, str]:
    """Check the per-compartment values; return them, their norm and a label."""
    if isinstance(values, VariableView):
        value_name = value_name or values.name
        values = values[:]
    if value_unit is not None and not isinstance(value_unit, Unit):
        raise TypeError(
            f"'value_unit' should be a Brian unit such as mV, not "
            f"'{type(value_unit).__name__}' ({value_unit!r})."
        )
    array, unit = to_plain_array(values, "values", unit=value_unit)
    if array.ndim != 1 or len(array) != n_compartments:
        raise ValueError(
            f"'values' needs one value per compartment: the morphology has "
            f"{n_compartments} compartments (somata included), but 'values' has "
            f"shape {array.shape}."
        )
    try:
        vmin, vmax = value_norm
    except (TypeError, ValueError):
        raise TypeError(
            f"'value_norm' should be a pair (vmin, vmax) (each may be None), "
            f"not {value_norm!r}."
        ) from None
    vmin = _norm_limit(vmin, unit, "lower")
    vmax = _norm_limit(vmax, unit, "upper")
    finite = array[np.isfinite(array)]
    if vmin is None:
        vmin = float(finite.min()) if finite.size else 0.0
    if vmax is None:
        vmax = float(finite.max()) if finite.size else 1.0
    if vmin > vmax:
        raise ValueError(
            f"'value_norm' has a lower limit ({vmin}) above its upper limit ({vmax})."
        )
    return array, Normalize(vmin=vmin, vmax=vmax), axis_label(value_name, unit)


def _colormap(value_colormap: Any) -> Colormap:
    if isinstance(value_colormap, Colormap):
        return value_colormap
    try:
        return colormaps[value_colormap]
    except (KeyError, TypeError):
        raise ValueError(
            f"'value_colormap' should be a matplotlib colormap or its name "
            f"(e.g. 'hot', 'viridis'), not {value_colormap!r}."
        ) from None


def _choose_backend(backend: str | None, axes: Any) -> str:
    if backend is None:
        return "mayavi" if type(axes).__module__.startswith("mayavi") else "matplotlib"
    if backend not in ("matplotlib", "mayavi"):
        raise ValueError(
            f"'backend' should be 'matplotlib' or 'mayavi' (or None), not {backend!r}."
        )
    return backend


# --------------------------------------------------------------------------
# Morphology: drawing
# --------------------------------------------------------------------------


def plot_morphology(
    morphology: Morphology,
    plot_3d: bool | None = None,
    show_compartments: bool = False,
    show_diameter: bool = False,
    colors: Sequence = ("darkblue", "darkred"),
    values: Any = None,
    value_norm: tuple = (None, None),
    value_colormap: str | Colormap = "hot",
    value_colorbar: bool = True,
    value_unit: Unit | None = None,
    axes: Any = None,
    *,
    value_name: str | None = None,
    backend: str | None = None,
    **kwds,
) -> Any:
    """
    Plot a morphology in space, in 2D or 3D.

    Sections are drawn as lines through their compartments, a soma as a
    disk (2D) or sphere (3D) of its diameter. Sections without coordinates
    (e.g. ``Cylinder(1*um, length=100*um)``) are placed with Brian's
    `~brian2.spatialneuron.morphology.Morphology.generate_coordinates`, on a
    copy: the morphology itself is never changed.

    Parameters
    ----------
    morphology : `~brian2.spatialneuron.morphology.Morphology`
        The morphology, e.g. loaded with ``Morphology.from_file``, or
        ``neuron.morphology`` of a `~brian2.spatialneuron.SpatialNeuron`.
    plot_3d : bool, optional
        Whether to plot in 3D. By default, 3D if any z coordinate is not 0.
        A 2D plot shows the x and y coordinates.
    show_compartments : bool, optional
        Whether to mark the boundaries between compartments with dots.
    show_diameter : bool, optional
        Whether to draw the sections with their real diameter: in 2D as
        polygons in data coordinates (exact), in 3D with matplotlib as line
        widths converted from the diameter at the scale of the axes when
        plotted (approximate: 3D lines have a width in points; at least
        0.5 points so that thin sections stay visible), with Mayavi as tubes.
    colors : color or sequence of colors, optional
        Colours cycled through by section level: the root section gets the
        first, its children the second, and so on. Any matplotlib colour
        specification; a single colour colours everything. Ignored for
        compartments when ``values`` are given.
    values : `~brian2.Quantity`, array or `~brian2.core.variables.VariableView`, optional
        One value per compartment (somata included), in Brian's order of the
        compartments, e.g. ``neuron.v`` of a
        `~brian2.spatialneuron.SpatialNeuron`. Colours each compartment.
    value_norm : (vmin, vmax), optional
        The values mapped to the ends of the colormap; ``None`` for the
        minimum/maximum of ``values``. Plain numbers are taken to be in the
        displayed unit (``value_unit``).
    value_colormap : str or `~matplotlib.colors.Colormap`, optional
        The colormap for ``values``; ``'hot'`` by default.
    value_colorbar : bool, optional
        Whether to add a colorbar (labelled with the name and unit of the
        values) when ``values`` are given.
    value_unit : `~brian2.Unit`, optional
        The unit to show ``values`` in; by default the best unit for them.
    axes : `~matplotlib.axes.Axes` or Mayavi scene, optional
        Where to draw; by default the current axes (Mayavi: current scene).
        For a 3D plot with matplotlib, a 2D axes without any content (such as
        the one ``plt.subplots()`` or ``plt.gca()`` gives) is replaced by an
        `~mpl_toolkits.mplot3d.axes3d.Axes3D` at the same place in the
        figure; a 2D axes that already shows data is an error.
    value_name : str, optional
        Name of the values for the colorbar label; by default the variable's
        name when ``values`` is a variable such as ``neuron.v``.
    backend : {'matplotlib', 'mayavi'}, optional
        What draws 3D plots. By default matplotlib (mplot3d, always
        available), or Mayavi if ``axes`` is a Mayavi scene. Mayavi needs the
        optional dependencies (``pip install brian2tools[mayavi]``) and only
        draws in 3D. 2D plots always use matplotlib.
    **kwds
        Passed on to the matplotlib collection of the sections
        (`~matplotlib.collections.LineCollection`, its 3D version, or a
        `~matplotlib.collections.PolyCollection` with ``show_diameter`` in
        2D), e.g. ``linewidth`` or ``alpha``; with Mayavi, to
        ``mlab.pipeline.surface``.

    Returns
    -------
    axes : `~matplotlib.axes.Axes`, `~mpl_toolkits.mplot3d.axes3d.Axes3D` or Mayavi scene
        What was drawn on: a 2D axes, a 3D axes, or (Mayavi) the scene.

    Raises
    ------
    DimensionMismatchError
        (``brian2.units.fundamentalunits.DimensionMismatchError``) If
        ``value_unit`` or the limits in ``value_norm`` do not match the
        units of ``values``.
    TypeError
        If ``morphology`` is not a Morphology, or ``values`` are not
        numbers.
    ValueError
        If ``values`` does not have one value per compartment, or other
        arguments are invalid.
    ImportError
        If ``backend='mayavi'`` and Mayavi is not installed.

    Examples
    --------
    >>> from brian2 import *
    >>> from brian2tools import plot_morphology
    >>> morpho = Soma(20*um)
    >>> morpho.dend = Cylinder(2*um, length=100*um, n=10)
    >>> morpho.axon = Cylinder(1*um, length=200*um, n=20)
    >>> ax = plot_morphology(morpho, show_compartments=True)

    Colour the 31 compartments (soma, 10 + 20 in the cables) by a value:

    >>> v = np.linspace(-70, -50, 31)*mV
    >>> ax = plot_morphology(morpho, values=v, value_name='v')
    """
    morphology = check_morphology(morphology, "plot_morphology")
    section_colors = _section_colors(colors)
    backend = _choose_backend(backend, axes)
    if backend == "mayavi" and plot_3d is False:
        raise ValueError("Mayavi only draws 3D plots: use backend='matplotlib' for plot_3d=False.")
    layout = morphology_layout(morphology, diameters=show_diameter)
    value_array = norm = value_label = None
    cmap = None
    if values is not None:
        value_array, norm, value_label = _compartment_values(
            values, layout.tree.total_compartments, value_unit, value_norm, value_name
        )
        cmap = _colormap(value_colormap)
    if plot_3d is None:
        plot_3d = backend == "mayavi" or bool(
            np.any(np.abs(layout.all_points[:, 2]) > FLAT_TOLERANCE_UM)
        )
    style = _Style(
        section_colors=section_colors,
        values=value_array,
        norm=norm,
        cmap=cmap,
        colorbar=bool(value_colorbar) and values is not None,
        value_label=value_label,
        show_compartments=show_compartments,
        show_diameter=show_diameter,
    )
    if backend == "mayavi":
        from .morphology_mayavi import draw_morphology_mayavi

        return draw_morphology_mayavi(layout, style, scene=axes, **kwds)
    if plot_3d:
        return _draw_3d(layout, style, _axes_3d(axes), kwds)
    return _draw_2d(layout, style, get_axes(axes), kwds)


class _Style:
    """What to draw and in which colours (shared by the 2D, 3D and Mayavi drawing)."""

    def __init__(self, section_colors, values, norm, cmap, colorbar, value_label,
                 show_compartments, show_diameter):
        self.section_colors = section_colors
        self.values = values
        self.norm = norm
        self.cmap = cmap
        self.colorbar = colorbar
        self.value_label = value_label
        self.show_compartments = show_compartments
        self.show_diameter = show_diameter

    def depth_colors(self, depth: np.ndarray) -> np.ndarray:
        """RGBA colour for each given section depth."""
        return self.section_colors[np.asarray(depth) % len(self.section_colors)]

    def soma_colors(self, layout: MorphologyLayout) -> np.ndarray:
        """RGBA colour of each soma (by level, or by its value)."""
        if self.values is not None:
            return self.cmap(self.norm(self.values[layout.soma_compartment]))
        return self.depth_colors(layout.tree.depth[layout.tree.is_soma])


def _colored(collection, style: _Style, cable: np.ndarray):
    """Map a collection's elements (compartments ``cable``) through the value colormap."""
    collection.set_array(style.values[cable])
    collection.set_cmap(style.cmap)
    collection.set_norm(style.norm)
    return collection


def _add_colorbar(axes, mappable, style: _Style) -> None:
    colorbar = axes.figure.colorbar(mappable, ax=axes)
    colorbar.set_label(style.value_label)


def _compartment_polygons(layout: MorphologyLayout, cable: np.ndarray) -> np.ndarray:
    """
    One quadrilateral per compartment (x-y plane), as wide as its diameter at
    both ends. Inside a section, neighbouring quadrilaterals share their
    edges (the normal at an inner point is the mean of both segments').
    """
    start = layout.start[cable, :2]
    end = layout.end[cable, :2]
    direction = end - start
    length = np.hypot(direction[:, 0], direction[:, 1])
    length[length == 0] = 1.0
    normal = np.column_stack([-direction[:, 1], direction[:, 0]]) / length[:, None]
    section = layout.section_of[cable]
    same_as_next = np.zeros(len(section), dtype=bool)
    same_as_next[:-1] = section[1:] == section[:-1]
    start_normal = normal.copy()
    end_normal = normal.copy()
    joint = normal[:-1][same_as_next[:-1]] + normal[1:][same_as_next[:-1]]
    joint_length = np.hypot(joint[:, 0], joint[:, 1])
    joint_length[joint_length == 0] = 1.0
    joint /= joint_length[:, None]
    end_normal[:-1][same_as_next[:-1]] = joint
    start_normal[1:][same_as_next[:-1]] = joint
    start_radius = layout.start_diameter[cable][:, None] / 2
    end_radius = layout.end_diameter[cable][:, None] / 2
    return np.stack(
        [
            start + start_normal * start_radius,
            end + end_normal * end_radius,
            end - end_normal * end_radius,
            start - start_normal * start_radius,
        ],
        axis=1,
    )


def _draw_2d(layout: MorphologyLayout, style: _Style, axes: Axes, kwds: dict) -> Axes:
    cable = ~layout.is_soma
    per_compartment = style.values is not None or style.show_diameter
    mappable = None
    if style.show_diameter:
        polygons = _compartment_polygons(layout, cable)
        poly_kwds = dict(kwds)
        if style.values is None and not any(
            key in poly_kwds for key in ("color", "facecolor", "facecolors", "fc")
        ):
            poly_kwds["facecolors"] = style.depth_colors(layout.depth[cable])
        if not any(key in poly_kwds for key in _COLOR_KEYS):
            poly_kwds["edgecolors"] = "face"  # keeps very thin sections visible
        sections = PolyCollection(polygons, **poly_kwds)
    elif per_compartment:
        segments = np.stack([layout.start[cable, :2], layout.end[cable, :2]], axis=1)
        sections = LineCollection(segments, **_with_defaults(kwds, linewidth=DEFAULT_LINEWIDTH))
    else:
        paths = [path[:, :2] for path in layout.section_paths]
        colors = style.depth_colors(layout.tree.depth[~layout.tree.is_soma])
        sections = LineCollection(
            paths, **_with_defaults(kwds, color=colors, linewidth=DEFAULT_LINEWIDTH)
        )
    if style.values is not None:
        mappable = _colored(sections, style, cable)
    axes.add_collection(sections)

    if len(layout.soma_center):
        disks = [
            Circle(center[:2], radius=diameter / 2)
            for center, diameter in zip(layout.soma_center, layout.soma_diameter, strict=True)
        ]
        somata = PatchCollection(disks, zorder=sections.get_zorder() + 0.1, linewidths=0)
        if style.values is not None:
            _colored(somata, style, layout.soma_compartment)
            mappable = mappable or somata
        else:
            somata.set_facecolor(style.depth_colors(layout.tree.depth[layout.tree.is_soma]))
        axes.add_collection(somata)

    if style.show_compartments and np.any(cable):
        boundaries = layout.boundaries
        axes.plot(
            boundaries[:, 0], boundaries[:, 1], linestyle="none", marker="o",
            markersize=COMPARTMENT_MARKERSIZE, color="black",
            zorder=sections.get_zorder() + 0.2,
        )
    axes.autoscale_view()
    axes.set_aspect("equal")
    axes.set_xlabel(axis_label("x", um))
    axes.set_ylabel(axis_label("y", um))
    if style.colorbar:
        _add_colorbar(axes, mappable, style)
    return axes


# --------------------------------------------------------------------------
# 3D with matplotlib (mplot3d)
# --------------------------------------------------------------------------


def _axes_3d(axes: Any):
    """A 3D axes: ``axes``/the current axes if 3D, else a 3D axes in place of an empty 2D one."""
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


def _draw_3d(layout: MorphologyLayout, style: _Style, axes, kwds: dict):
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    cable = ~layout.is_soma
    had_data = axes.has_data()
    low = np.min(layout.all_points, axis=0)
    high = np.max(layout.all_points, axis=0)
    if len(layout.soma_center):
        radius = layout.soma_diameter[:, None] / 2
        low = np.minimum(low, np.min(layout.soma_center - radius, axis=0))
        high = np.maximum(high, np.max(layout.soma_center + radius, axis=0))

    line_kwds = _with_defaults(kwds, linewidth=DEFAULT_LINEWIDTH)
    if style.values is not None or style.show_diameter:
        segments = np.stack([layout.start[cable], layout.end[cable]], axis=1)
        if style.values is None:
            line_kwds = _with_defaults(line_kwds, color=style.depth_colors(layout.depth[cable]))
        if style.show_diameter and not any(key in kwds for key in _WIDTH_KEYS):
            diameter = 0.5 * (layout.start_diameter[cable] + layout.end_diameter[cable])
            widths = diameter * _points_per_um(axes, float(np.max(high - low)))
            line_kwds["linewidths"] = np.maximum(widths, MIN_3D_LINEWIDTH)
    else:
        segments = layout.section_paths
        line_kwds = _with_defaults(
            line_kwds, color=style.depth_colors(layout.tree.depth[~layout.tree.is_soma])
        )
    mappable = None
    if np.any(cable):  # (mplot3d cannot add an empty collection)
        sections = Line3DCollection(segments, **line_kwds)
        if style.values is not None:
            mappable = _colored(sections, style, cable)
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
        axes.scatter(
            boundaries[:, 0], boundaries[:, 1], boundaries[:, 2],
            marker="o", s=COMPARTMENT_MARKERSIZE**2 / 2, color="black", depthshade=False,
        )
    axes.auto_scale_xyz(
        [low[0], high[0]], [low[1], high[1]], [low[2], high[2]], had_data=had_data
    )
    axes.set_aspect("equal")
    # With equal scales a flat cell gets a thin box: fewer ticks on its short
    # sides, so that their labels do not overlap.
    ranges = np.maximum(high - low, 1e-12)
    for axis, extent in zip((axes.xaxis, axes.yaxis, axes.zaxis), ranges, strict=True):
        axis.set_major_locator(MaxNLocator(nbins=max(2, round(6 * extent / ranges.max()))))
    axes.set_xlabel(axis_label("x", um))
    axes.set_ylabel(axis_label("y", um))
    axes.set_zlabel(axis_label("z", um))
    if style.colorbar:
        _add_colorbar(axes, mappable, style)
    return axes
