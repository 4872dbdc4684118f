"""
Colours, line widths and legends shared by the morphology plots (2D, 3D with
mplot3d, Mayavi, and the dendrogram): what colour each section, soma and
compartment boundary gets, and the legend that explains the colours by
branch level.

Nothing here computes geometry (:mod:`brian2tools.plotting.morphology_layout`)
or adds the main artists to axes (:mod:`brian2tools.plotting.morphology`,
:mod:`brian2tools.plotting.morphology_3d`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from brian2.utils.logger import get_logger
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from .morphology_layout import MorphologyLayout

__all__ = ["MorphologyStyle", "level_legend_entries", "add_level_legend"]

logger = get_logger(__name__)

#: Line width (points) of sections and dendrogram lines unless given.
DEFAULT_LINEWIDTH = 1.5

#: Thinnest line (points) in 3D plots with ``show_diameter``: thinner ones
#: would disappear.
MIN_3D_LINEWIDTH = 0.5

#: Size (points) of the dots marking compartment boundaries in 2D: a little
#: wider than a default section line, so that they read as beads on it.
COMPARTMENT_MARKERSIZE = 3.0

#: Width (points) of the white rim around each compartment dot: it separates
#: the dot from the line it sits on while the dot keeps the section's colour.
COMPARTMENT_EDGEWIDTH = 0.4

#: Level numbers listed per colour in the legend before "…".
LEGEND_LEVELS_SHOWN = 3

COLOR_KEYS = ("color", "colors", "edgecolor", "edgecolors", "ec")
WIDTH_KEYS = ("linewidth", "linewidths", "lw")


def with_defaults(kwds: dict, color: Any = None, linewidth: Any = None) -> dict:
    """Add a colour/line width to matplotlib keywords unless given under any alias."""
    kwds = dict(kwds)
    if color is not None and not any(key in kwds for key in COLOR_KEYS):
        kwds["colors"] = color
    if linewidth is not None and not any(key in kwds for key in WIDTH_KEYS):
        kwds["linewidths"] = linewidth
    return kwds


class MorphologyStyle:
    """
    What to draw and in which colours (shared by the 2D, 3D and Mayavi drawing).

    Parameters
    ----------
    section_colors : `numpy.ndarray`
        RGBA colours (n, 4) cycled through by section level.
    values : `numpy.ndarray` or None
        One value per compartment (colours them through ``cmap``/``norm``).
    norm : `~matplotlib.colors.Normalize` or None
        Maps ``values`` to the colormap.
    cmap : `~matplotlib.colors.Colormap` or None
        The colormap for ``values``.
    colorbar : bool
        Whether to add a colorbar for ``values``.
    value_label : str or None
        The colorbar label.
    show_compartments : bool
        Whether to mark the compartment boundaries.
    show_diameter : bool
        Whether to draw the real diameters.
    legend : bool, optional
        Whether to explain the level colours in a legend.
    """

    def __init__(self, section_colors, values, norm, cmap, colorbar, value_label,
                 show_compartments, show_diameter, legend=True):
        self.section_colors = section_colors
        self.values = values
        self.norm = norm
        self.cmap = cmap
        self.colorbar = colorbar
        self.value_label = value_label
        self.show_compartments = show_compartments
        self.show_diameter = show_diameter
        self.legend = legend

    def depth_colors(self, depth: np.ndarray) -> np.ndarray:
        """RGBA colour for each given section depth."""
        return self.section_colors[np.asarray(depth) % len(self.section_colors)]

    def compartment_colors(self, layout: MorphologyLayout, compartments: np.ndarray) -> np.ndarray:
        """RGBA colour of the given compartments (by section level, or by value)."""
        if self.values is not None:
            return self.cmap(self.norm(self.values[compartments]))
        return self.depth_colors(layout.depth[compartments])

    def soma_colors(self, layout: MorphologyLayout) -> np.ndarray:
        """RGBA colour of each soma (by level, or by its value)."""
        return self.compartment_colors(layout, layout.soma_compartment)

    def boundary_colors(self, layout: MorphologyLayout) -> np.ndarray:
        """
        RGBA colour of each compartment boundary, in the order of
        ``layout.boundaries``: the colour of the compartment it belongs to
        (a section's first point: its first compartment).
        """
        return self.compartment_colors(layout, boundary_compartments(layout))


def boundary_compartments(layout: MorphologyLayout) -> np.ndarray:
    """The compartment index of each point of ``layout.boundaries``."""
    first_of_section = np.zeros(len(layout.section_of), dtype=bool)
    first_of_section[layout.tree.first_compartment] = True
    cable = ~layout.is_soma
    return np.concatenate([np.flatnonzero(cable & first_of_section), np.flatnonzero(cable)])


def level_legend_entries(section_colors: np.ndarray, depths: np.ndarray) -> list[tuple]:
    """
    The legend entries that explain colours cycled by section level.

    Parameters
    ----------
    section_colors : `numpy.ndarray`
        The RGBA colours (n, 4) cycled through by level.
    depths : `numpy.ndarray` of int
        The levels of the sections that are drawn (root: 0).

    Returns
    -------
    entries : list of (colour, label)
        One entry per colour that is used, e.g. ``(darkblue, 'levels 0, 2,
        4, …')``; empty if all drawn sections have the same colour (nothing
        to explain).

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.colors import to_rgba_array
    >>> colors = to_rgba_array(['darkblue', 'darkred'])
    >>> [label for _, label in level_legend_entries(colors, np.array([0, 1, 2, 3, 4, 5, 6, 7]))]
    ['levels 0, 2, 4, …', 'levels 1, 3, 5, …']
    """
    depths = np.unique(np.asarray(depths, dtype=int))
    n_colors = len(section_colors)
    if len(depths) == 0:
        return []
    used = np.unique(depths % n_colors)
    if len(np.unique(section_colors[used], axis=0)) < 2:
        return []
    entries = []
    for index in used:
        levels = depths[depths % n_colors == index]
        shown = ", ".join(str(level) for level in levels[:LEGEND_LEVELS_SHOWN])
        more = ", …" if len(levels) > LEGEND_LEVELS_SHOWN else ""
        word = "level" if len(levels) == 1 else "levels"
        entries.append((section_colors[index], f"{word} {shown}{more}"))
    return entries


def add_level_legend(axes: Axes, entries: list[tuple], **legend_kwds):
    """
    A legend of the level colours (``entries`` from `level_legend_entries`),
    titled so that it says what a level is; None if there are no entries.

    Parameters
    ----------
    axes : `~matplotlib.axes.Axes`
        Where the legend goes.
    entries : list of (colour, label)
        The colours and their labels.
    **legend_kwds
        Passed on to `~matplotlib.axes.Axes.legend` (e.g. ``loc``).

    Returns
    -------
    legend : `~matplotlib.legend.Legend` or None

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> legend = add_level_legend(ax, [('darkblue', 'level 0'), ('darkred', 'level 1')])
    >>> legend.get_title().get_text()
    'branch level (root: 0)'
    """
    if not entries:
        return None
    handles = [Line2D([], [], color=color, linewidth=DEFAULT_LINEWIDTH) for color, _ in entries]
    labels = [label for _, label in entries]
    legend_kwds.setdefault("fontsize", "small")
    legend_kwds.setdefault("title_fontsize", "small")
    return axes.legend(handles, labels, title="branch level (root: 0)", **legend_kwds)


def emptiest_corner(points: np.ndarray, xlim: tuple, ylim: tuple) -> str:
    """
    The axes corner (a legend ``loc`` such as ``'upper right'``) with the
    fewest of ``points`` (n, 2) inside a box of 45% of the width and a
    third of the height (generously the size of the legend). Matplotlib's
    ``loc='best'`` ignores the lines of a
    `~matplotlib.collections.LineCollection`; counting the points of the
    morphology is cheap and keeps the legend off the cell.
    """
    (x0, x1), (y0, y1) = sorted(xlim), sorted(ylim)
    width, height = 0.45 * (x1 - x0), (y1 - y0) / 3
    boxes = {
        "upper right": (x1 - width, x1, y1 - height, y1),
        "upper left": (x0, x0 + width, y1 - height, y1),
        "lower right": (x1 - width, x1, y0, y0 + height),
        "lower left": (x0, x0 + width, y0, y0 + height),
    }
    x, y = points[:, 0], points[:, 1]
    counts = {
        corner: int(np.count_nonzero((x >= left) & (x <= right) & (y >= low) & (y <= high)))
        for corner, (left, right, low, high) in boxes.items()
    }
    return min(counts, key=counts.get)  # ties: the first, upper right
