"""
Plots of neuronal morphologies: :func:`plot_dendrogram` (the branching
structure with section lengths) and :func:`plot_morphology` (the cell in 2D or
3D, optionally coloured by a value per compartment).

The geometry is computed by :mod:`brian2tools.plotting.morphology_layout`
and the colours (and the legend that explains them) come from
:mod:`brian2tools.plotting.morphology_style`; this module checks the
arguments and draws dendrograms and 2D views, with one matplotlib collection
per kind of element (all sections, all somata, ...) instead of one artist per
section. 3D plots use matplotlib's mplot3d
(:mod:`brian2tools.plotting.morphology_3d`), or Mayavi on request
(:mod:`brian2tools.plotting.morphology_mayavi`).

Importing this module teaches :func:`~brian2tools.plotting.base.brian_plot`
to draw a `~brian2.spatialneuron.morphology.Morphology` as a dendrogram.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from brian2.core.variables import VariableView
from brian2.spatialneuron.morphology import Morphology
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

from .base import axis_label, brian_plot, get_axes, to_plain_array
from .morphology_3d import UM_LABEL, axes_3d, draw_3d
from .morphology_layout import (
    MorphologyLayout,
    check_morphology,
    compartment_polygons,
    dendrogram_layout,
    morphology_layout,
)
from .morphology_style import (
    COLOR_KEYS,
    COMPARTMENT_EDGEWIDTH,
    COMPARTMENT_MARKERSIZE,
    DEFAULT_LINEWIDTH,
    MorphologyStyle,
    add_level_legend,
    emptiest_corner,
    level_legend_entries,
    with_defaults,
)

__all__ = ["plot_dendrogram", "plot_morphology"]

logger = get_logger(__name__)

#: z coordinates (um) smaller than this count as "flat" for ``plot_3d=None``.
FLAT_TOLERANCE_UM = 1e-6

#: Width and distance from the axes (inches) of the colorbar for ``values``.
COLORBAR_WIDTH_IN = 0.15
COLORBAR_PAD_IN = 0.1

#: Dendrogram: margin (fraction of the distance range) above the longest
#: branch, so that its end is not on the frame.
DENDROGRAM_TOP_MARGIN = 0.03


# --------------------------------------------------------------------------
# Dendrogram
# --------------------------------------------------------------------------


def plot_dendrogram(
    morphology: Morphology,
    axes: Axes | None = None,
    *,
    colors: Any = ("darkblue", "darkred"),
    legend: bool = True,
    **kwds,
) -> Axes:
    """
    Plot a dendrogram of a morphology: its branching structure, with the
    distance of each point from the root.

    Each section is a vertical line from the distance where it starts to the
    distance where it ends (in µm); the children of a section hang from a
    horizontal line at its end. Terminal sections are spread evenly along
    the x axis in Brian's order of the sections (depth first), every other
    section sits midway between its first and last child. A soma (which Brian
    treats as a point without length) is marked with a dot. The sections are
    coloured by branch level as in `plot_morphology` (the root is level 0,
    its children level 1, ...), and a legend below the axes says which
    colour stands for which levels. The limits fit the tree closely.

    Parameters
    ----------
    morphology : `~brian2.spatialneuron.morphology.Morphology`
        The morphology (coordinates are not needed).
    axes : `~matplotlib.axes.Axes`, optional
        The axes to plot into; by default the current axes.
    colors : color or sequence of colors, optional
        Colours cycled through by branch level; a single colour colours
        everything (and needs no legend).
    legend : bool, optional
        Whether to explain the level colours in a legend.
    **kwds
        Passed on to the `~matplotlib.collections.LineCollection` of all
        lines (e.g. ``linewidth``; ``color`` colours all of them and
        replaces ``colors``).

    Returns
    -------
    axes : `~matplotlib.axes.Axes`
        The axes that were drawn on.

    Raises
    ------
    TypeError
        If ``morphology`` is not a `~brian2.spatialneuron.morphology.Morphology`.
    ValueError
        If ``colors`` are not colours.

    Examples
    --------
    >>> from brian2 import *
    >>> from brian2tools import plot_dendrogram
    >>> morpho = Soma(20*um)
    >>> morpho.dend = Cylinder(2*um, length=100*um, n=10)
    >>> morpho.dend.left = Cylinder(1*um, length=50*um, n=5)
    >>> morpho.dend.right = Cylinder(1*um, length=80*um, n=5)
    >>> ax = plot_dendrogram(morpho)
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['levels 0, 2', 'level 1']
    >>> ax = plot_dendrogram(morpho, color='black')  # one colour, no legend
    """
    morphology = check_morphology(morphology, "plot_dendrogram")
    section_colors = _section_colors(colors)
    axes = get_axes(axes)
    had_data = axes.has_data()
    layout = dendrogram_layout(morphology)
    tree = layout.tree
    segments = np.concatenate([layout.vertical, layout.horizontal])
    user_color = any(key in kwds for key in COLOR_KEYS)
    style = MorphologyStyle(section_colors, None, None, None, False, None, False, False)
    if not user_color:
        # a horizontal line joins the children of a branching section: its colour
        n_children = np.bincount(tree.parent[tree.parent >= 0], minlength=len(tree.depth))
        depths = np.concatenate([tree.depth, tree.depth[n_children > 1]])
        kwds = with_defaults(kwds, color=style.depth_colors(depths))
    lines = LineCollection(segments, **with_defaults(kwds, linewidth=DEFAULT_LINEWIDTH))
    axes.add_collection(lines)
    somata = layout.soma_positions
    if len(somata):
        soma_color = (lines.get_edgecolor()[:1] if user_color
                      else style.depth_colors(tree.depth[tree.is_soma]))
        axes.scatter(
            somata[:, 0], somata[:, 1], marker="o", s=36, c=soma_color,
            clip_on=False, zorder=lines.get_zorder() + 0.1,
        )
    if had_data:
        axes.autoscale_view()
    else:
        top = float(np.max(layout.end_distance)) if len(layout.end_distance) else 0.0
        margin = DENDROGRAM_TOP_MARGIN * (top or 1.0)
        axes.set_xlim(-0.5, max(layout.n_leaves, 1) - 0.5)
        axes.set_ylim(-margin, top + margin)
    axes.set_xticks([])
    axes.set_ylabel(axis_label("distance from root", UM_LABEL))
    if legend and not user_color:
        entries = level_legend_entries(section_colors, tree.depth)
        # below the axes, where a dendrogram has no tick labels: never on a branch
        add_level_legend(axes, entries, loc="upper center", bbox_to_anchor=(0.5, -0.01),
                         ncols=max(len(entries), 1), frameon=False)
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
    legend: bool = True,
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
        Whether to mark the boundaries between compartments with dots, in
        the colour of their compartment (with a thin white rim, so that
        they stand out from the line without hiding its colour).
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
        compartments when ``values`` are given. With several colours in
        use, a legend says which colour stands for which levels (in the
        emptiest corner in 2D).
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
    legend : bool, optional
        Whether to explain the level colours in a legend (matplotlib only;
        never with ``values``, which get a colorbar).
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
    style = MorphologyStyle(
        section_colors=section_colors,
        values=value_array,
        norm=norm,
        cmap=cmap,
        colorbar=bool(value_colorbar) and values is not None,
        value_label=value_label,
        show_compartments=show_compartments,
        show_diameter=show_diameter,
        legend=legend,
    )
    if backend == "mayavi":
        from .morphology_mayavi import draw_morphology_mayavi

        return draw_morphology_mayavi(layout, style, scene=axes, **kwds)
    if plot_3d:
        return draw_3d(layout, style, axes_3d(axes), kwds)
    return _draw_2d(layout, style, get_axes(axes), kwds)


def _colored(collection, style: MorphologyStyle, cable: np.ndarray):
    """Map a collection's elements (compartments ``cable``) through the value colormap."""
    collection.set_array(style.values[cable])
    collection.set_cmap(style.cmap)
    collection.set_norm(style.norm)
    return collection


def _add_colorbar(axes: Axes, mappable, style: MorphologyStyle) -> None:
    """
    A colorbar of a fixed width right next to the axes' drawn box.

    ``figure.colorbar(ax=axes)`` takes a share of the axes' layout slot, and
    with the equal aspect of a morphology the axes then shrinks into a
    narrow column far from its colorbar. An inset axes follows the axes'
    box as drawn (after the aspect is applied), and layout engines and
    ``bbox_inches='tight'`` take it into account.
    """
    axes.apply_aspect()  # the box as it will be drawn, to size the bar in inches
    box = axes.get_position()
    width_in = max(box.width * axes.figure.get_figwidth(), 1e-6)
    bar = COLORBAR_WIDTH_IN / width_in
    pad = COLORBAR_PAD_IN / width_in
    cax = axes.inset_axes([1 + pad, 0.0, bar, 1.0])
    colorbar = axes.figure.colorbar(mappable, cax=cax)
    colorbar.set_label(style.value_label)


def _draw_2d(layout: MorphologyLayout, style: MorphologyStyle, axes: Axes, kwds: dict) -> Axes:
    cable = ~layout.is_soma
    per_compartment = style.values is not None or style.show_diameter
    mappable = None
    if style.show_diameter:
        polygons = compartment_polygons(layout, cable)
        poly_kwds = dict(kwds)
        if style.values is None and not any(
            key in poly_kwds for key in ("color", "facecolor", "facecolors", "fc")
        ):
            poly_kwds["facecolors"] = style.depth_colors(layout.depth[cable])
        if not any(key in poly_kwds for key in COLOR_KEYS):
            poly_kwds["edgecolors"] = "face"  # keeps very thin sections visible
        sections = PolyCollection(polygons, **poly_kwds)
    elif per_compartment:
        segments = np.stack([layout.start[cable, :2], layout.end[cable, :2]], axis=1)
        sections = LineCollection(segments, **with_defaults(kwds, linewidth=DEFAULT_LINEWIDTH))
    else:
        paths = [path[:, :2] for path in layout.section_paths]
        colors = style.depth_colors(layout.tree.depth[~layout.tree.is_soma])
        sections = LineCollection(
            paths, **with_defaults(kwds, color=colors, linewidth=DEFAULT_LINEWIDTH)
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
        # in the colour of their compartment, with a thin white rim: the dots
        # mark the boundaries without hiding the colour that was asked for
        dot_colors = (style.boundary_colors(layout) if not _user_color(kwds)
                      else _first_color(sections))
        axes.scatter(
            boundaries[:, 0], boundaries[:, 1], marker="o", s=COMPARTMENT_MARKERSIZE**2,
            c=dot_colors, edgecolors="white", linewidths=COMPARTMENT_EDGEWIDTH,
            zorder=sections.get_zorder() + 0.2,
        )
    axes.autoscale_view()
    axes.set_aspect("equal")
    axes.set_xlabel(axis_label("x", UM_LABEL))
    axes.set_ylabel(axis_label("y", UM_LABEL))
    if style.legend and style.values is None and not _user_color(kwds):
        entries = level_legend_entries(style.section_colors, layout.tree.depth)
        if entries:
            # the cell's points, and the edges of the somata (large disks)
            radius = layout.soma_diameter[:, None] / 2
            soma_edges = [layout.soma_center[:, :2] + radius * np.array(offset)
                          for offset in ((1, 0), (-1, 0), (0, 1), (0, -1))]
            points = np.vstack([layout.all_points[:, :2], *soma_edges])
            corner = emptiest_corner(points, axes.get_xlim(), axes.get_ylim())
            add_level_legend(axes, entries, loc=corner)
    if style.colorbar:
        _add_colorbar(axes, mappable, style)
    return axes


def _user_color(kwds: dict) -> bool:
    """Whether the caller chose one colour for the sections (so levels are not coloured)."""
    return any(key in kwds for key in COLOR_KEYS + ("facecolor", "facecolors", "fc"))


def _first_color(collection) -> np.ndarray:
    """The (first) face or edge colour of a collection, for marks drawn on it."""
    colors = collection.get_facecolor()
    if not len(colors) or isinstance(collection, LineCollection):
        colors = collection.get_edgecolor()
    return np.asarray(colors[:1])
