"""
Geometry of a Brian `~brian2.spatialneuron.morphology.Morphology`, computed
apart from any drawing.

The plotting functions in :mod:`brian2tools.plotting.morphology` (matplotlib)
and :mod:`brian2tools.plotting.morphology_mayavi` (Mayavi) draw what this
module computes: flat arrays of points and segments in micrometres, one entry
per compartment or per section, in the order in which Brian numbers the
compartments of a `~brian2.spatialneuron.spatialneuron.SpatialNeuron`
(each section's compartments, then its sub-trees, depth first). Nothing here
imports matplotlib.

The tree is walked iteratively (an explicit stack), so deep morphologies do
not hit Python's recursion limit, and each section is visited once: Brian's
public coordinate properties walk up to the root on every access, which would
make a plot of a large tree quadratic in its depth.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
from brian2.spatialneuron.morphology import Morphology, Soma
from brian2.units import um

__all__ = [
    "MorphologyLayout",
    "DendrogramLayout",
    "SectionTree",
    "check_morphology",
    "walk_sections",
    "with_coordinates",
    "morphology_layout",
    "dendrogram_layout",
]

_UM = float(um)


def check_morphology(morphology, function_name: str) -> Morphology:
    """
    Check that an argument is a `Morphology`.

    Parameters
    ----------
    morphology : object
        The argument to check.
    function_name : str
        The function it was given to, for the error message.

    Returns
    -------
    morphology : `~brian2.spatialneuron.morphology.Morphology`
        The argument, unchanged.

    Raises
    ------
    TypeError
        If it is not a Morphology (with a hint for a SpatialNeuron or a part
        of a section).

    Examples
    --------
    >>> from brian2 import Soma, um
    >>> check_morphology(Soma(10*um), 'plot_morphology')
    Soma(diameter=10. * umetre)
    """
    if isinstance(morphology, Morphology):
        return morphology
    hint = ""
    if hasattr(morphology, "morphology") and isinstance(
        getattr(morphology, "morphology", None), Morphology
    ):
        hint = " (for a SpatialNeuron, pass its 'morphology' attribute)"
    elif type(morphology).__name__ == "SubMorphology":
        hint = " (a part of a section cannot be plotted on its own; pass the whole section)"
    raise TypeError(
        f"{function_name} needs a brian2 Morphology (Soma, Cylinder, Section or a "
        f"tree of them), not an object of type '{type(morphology).__name__}'{hint}."
    )


@dataclass(frozen=True)
class SectionTree:
    """
    The sections of a morphology in Brian's compartment order.

    Attributes
    ----------
    sections : list of `Morphology`
        The sections, depth first (a section before its sub-trees, children
        in the order they were added).
    parent : `numpy.ndarray` of int
        Index (into ``sections``) of each section's parent; -1 for the root.
    depth : `numpy.ndarray` of int
        Number of sections between each section and the root (root: 0).
    n_compartments : `numpy.ndarray` of int
        Compartments per section.
    is_soma : `numpy.ndarray` of bool
        Whether a section is a `~brian2.spatialneuron.morphology.Soma`.
    """

    sections: list
    parent: np.ndarray
    depth: np.ndarray
    n_compartments: np.ndarray
    is_soma: np.ndarray

    @property
    def total_compartments(self) -> int:
        """The number of compartments of the whole tree."""
        return int(self.n_compartments.sum())

    @property
    def first_compartment(self) -> np.ndarray:
        """Index of each section's first compartment in the flat numbering."""
        return np.concatenate([[0], np.cumsum(self.n_compartments)[:-1]]).astype(int)


def walk_sections(morphology: Morphology) -> SectionTree:
    """
    Collect the sections of ``morphology`` (and its sub-trees) in Brian's order.

    Parameters
    ----------
    morphology : `~brian2.spatialneuron.morphology.Morphology`
        The root of the tree to walk (it may have a parent; that is ignored).

    Returns
    -------
    tree : `SectionTree`

    Examples
    --------
    >>> from brian2 import Cylinder, Soma, um
    >>> morpho = Soma(10*um)
    >>> morpho.dend = Cylinder(1*um, length=50*um, n=5)
    >>> tree = walk_sections(morpho)
    >>> tree.depth.tolist(), tree.n_compartments.tolist()
    ([0, 1], [1, 5])
    """
    sections = []
    parent = []
    depth = []
    stack = [(morphology, -1, 0)]
    while stack:
        section, parent_index, level = stack.pop()
        index = len(sections)
        sections.append(section)
        parent.append(parent_index)
        depth.append(level)
        # reversed, so that the first child is taken from the stack first
        stack.extend((child, index, level + 1) for child in reversed(list(section.children)))
    return SectionTree(
        sections=sections,
        parent=np.asarray(parent, dtype=int),
        depth=np.asarray(depth, dtype=int),
        n_compartments=np.asarray([section.n for section in sections], dtype=int),
        is_soma=np.asarray([isinstance(section, Soma) for section in sections], dtype=bool),
    )


# --------------------------------------------------------------------------
# Coordinates
# --------------------------------------------------------------------------
# Brian stores the points of a Section/Cylinder relative to the end of its
# parent section (in its private ``_x``, ``_y``, ``_z`` arrays, n+1 points in
# metres) and the centre of a Soma as absolute coordinates. Reading those
# arrays lets us place every section with a single pass from the root; the
# public ``start_x_``/``end_x_`` properties would recompute the whole chain of
# parents for every section. When the private arrays are not there (a future
# Brian version), the public properties are used instead.

_NO_ATTRIBUTE = object()


def _has_coordinates(section: Morphology) -> bool:
    stored = getattr(section, "_x", _NO_ATTRIBUTE)
    if stored is _NO_ATTRIBUTE:
        return section.x_ is not None
    return stored is not None


def _absolute_points(section: Morphology, parent_end: np.ndarray | None) -> np.ndarray:
    """The n+1 points (soma: its centre) of a section in metres, shape (n+1, 3)."""
    if isinstance(section, Soma):
        if section.x_ is None:
            # Brian places the children of a soma without coordinates as if
            # it were at the origin; do the same for the soma itself.
            return np.zeros((1, 3)) if parent_end is None else parent_end[None, :].copy()
        return np.array([[section.x_[0], section.y_[0], section.z_[0]]], dtype=float)
    stored = [getattr(section, name, _NO_ATTRIBUTE) for name in ("_x", "_y", "_z")]
    if any(coord is _NO_ATTRIBUTE for coord in stored):
        return np.asarray(section.coordinates_, dtype=float)
    relative = np.column_stack([np.asarray(coord, dtype=float) for coord in stored])
    if parent_end is None:
        return relative
    return relative + parent_end


def _root_parent_end(root: Morphology) -> np.ndarray | None:
    """Where the parent of a sub-tree's root ends (None for a real root)."""
    parent = root.parent
    if parent is None or isinstance(root, Soma) or not _has_coordinates(parent):
        return None
    return np.array([parent.end_x_[-1], parent.end_y_[-1], parent.end_z_[-1]], dtype=float)


def with_coordinates(morphology: Morphology, tree: SectionTree | None = None) -> Morphology:
    """
    Make sure that every section of a morphology has coordinates.

    Sections without coordinates get them from Brian's
    `~brian2.spatialneuron.morphology.Morphology.generate_coordinates`
    (existing coordinates are kept), on a copy: the argument is never
    modified. A soma without coordinates needs none (it is placed where its
    parent ends, or at the origin).

    Parameters
    ----------
    morphology : `~brian2.spatialneuron.morphology.Morphology`
        The morphology.
    tree : `SectionTree`, optional
        Its sections, if already collected with `walk_sections`.

    Returns
    -------
    morphology : `~brian2.spatialneuron.morphology.Morphology`
        ``morphology`` itself if nothing was missing, otherwise a copy with
        coordinates.

    Examples
    --------
    >>> from brian2 import Cylinder, Soma, um
    >>> morpho = Soma(10*um)
    >>> morpho.dend = Cylinder(1*um, length=50*um, n=5)
    >>> placed = with_coordinates(morpho)
    >>> placed.dend.x is None, morpho.dend.x is None
    (False, True)
    """
    if tree is None:
        tree = walk_sections(morphology)
    # A soma without coordinates needs none: it sits where its parent ends
    # (the root one at the origin), see _absolute_points.
    if all(
        is_soma or _has_coordinates(section)
        for section, is_soma in zip(tree.sections, tree.is_soma, strict=True)
    ):
        return morphology
    if isinstance(morphology, Soma) or _has_coordinates(morphology):
        return morphology.generate_coordinates()
    # Brian cannot place a root section that is not a soma and has no
    # coordinates (it has no direction to start from). Hang a copy of the
    # tree from a point-like soma at the origin and take it back off.
    detached = copy.deepcopy(morphology)
    holder = Soma(diameter=0 * um, x=0 * um, y=0 * um, z=0 * um)
    holder.children.add("tree", detached)
    return holder.generate_coordinates().children["tree"]


@dataclass(frozen=True)
class MorphologyLayout:
    """
    Positions and sizes of all compartments of a morphology, in micrometres.

    Per compartment (Brian's order), soma compartments included: a soma's
    start and end are both its centre.

    Attributes
    ----------
    tree : `SectionTree`
        The sections the compartments belong to.
    start, end : `numpy.ndarray`, shape (n_compartments, 3)
        Start and end point of each compartment.
    start_diameter, end_diameter : `numpy.ndarray` or None
        Diameter at the start and end of each compartment (a soma: its
        diameter); None unless the layout was made with ``diameters=True``.
    section_of : `numpy.ndarray` of int
        Section index of each compartment.
    soma_center : `numpy.ndarray`, shape (n_somata, 3)
        Centre of each soma.
    soma_diameter : `numpy.ndarray`
        Diameter of each soma.
    soma_compartment : `numpy.ndarray` of int
        Compartment index of each soma.
    """

    tree: SectionTree
    start: np.ndarray
    end: np.ndarray
    start_diameter: np.ndarray | None
    end_diameter: np.ndarray | None
    section_of: np.ndarray
    soma_center: np.ndarray
    soma_diameter: np.ndarray
    soma_compartment: np.ndarray

    @property
    def depth(self) -> np.ndarray:
        """Section depth (root: 0) of each compartment."""
        return self.tree.depth[self.section_of]

    @property
    def is_soma(self) -> np.ndarray:
        """Whether each compartment is a soma."""
        return self.tree.is_soma[self.section_of]

    @property
    def section_paths(self) -> list[np.ndarray]:
        """One polyline (n+1 points) per non-soma section, in section order."""
        first = self.tree.first_compartment
        paths = []
        for index in np.flatnonzero(~self.tree.is_soma):
            begin, stop = first[index], first[index] + self.tree.n_compartments[index]
            paths.append(np.vstack([self.start[begin:begin + 1], self.end[begin:stop]]))
        return paths

    @property
    def boundaries(self) -> np.ndarray:
        """The compartment boundaries of the non-soma sections, shape (n, 3)."""
        first_of_section = np.zeros(len(self.section_of), dtype=bool)
        first_of_section[self.tree.first_compartment] = True
        cable = ~self.is_soma
        return np.vstack([self.start[cable & first_of_section], self.end[cable]])

    @property
    def all_points(self) -> np.ndarray:
        """Every start/end point, for computing data limits."""
        return np.vstack([self.start, self.end])


def morphology_layout(morphology: Morphology, diameters: bool = False) -> MorphologyLayout:
    """
    Compute the positions (in um) of all compartments of ``morphology``.

    Sections without coordinates get coordinates from Brian's
    `~brian2.spatialneuron.morphology.Morphology.generate_coordinates`
    (on a copy); the morphology itself is never modified.

    Parameters
    ----------
    morphology : `~brian2.spatialneuron.morphology.Morphology`
        The morphology.
    diameters : bool, optional
        Whether to also collect the compartment diameters.

    Returns
    -------
    layout : `MorphologyLayout`

    Examples
    --------
    >>> from brian2 import Cylinder, Soma, um
    >>> morpho = Soma(10*um, x=0*um, y=0*um, z=0*um)
    >>> morpho.dend = Cylinder(1*um, n=2, x=[5, 25]*um)
    >>> morphology_layout(morpho).end.tolist()
    [[0.0, 0.0, 0.0], [15.0, 0.0, 0.0], [25.0, 0.0, 0.0]]
    """
    tree = walk_sections(morphology)
    # a sub-tree is placed where its parent (outside the plotted tree) ends
    root_offset = _root_parent_end(morphology)
    placed_root = with_coordinates(morphology, tree)
    if placed_root is not morphology:
        tree = walk_sections(placed_root)
    sections = tree.sections
    n_sections = len(sections)

    point_blocks = []
    section_end = [None] * n_sections
    for index, section in enumerate(sections):
        parent_index = tree.parent[index]
        if parent_index < 0:
            parent_end = root_offset
        else:
            parent_end = section_end[parent_index]
        points = _absolute_points(section, parent_end)
        section_end[index] = points[-1]
        point_blocks.append(points)

    # Soma blocks have one point (start = end = centre); other sections n+1.
    is_soma = tree.is_soma
    n_comp = tree.n_compartments
    points = np.vstack(point_blocks) / _UM
    block_start = np.concatenate([[0], np.cumsum(n_comp + ~is_soma)[:-1]]).astype(int)
    section_of = np.repeat(np.arange(n_sections), n_comp)
    within = np.arange(len(section_of)) - np.repeat(tree.first_compartment, n_comp)
    start_index = block_start[section_of] + within
    end_index = start_index + (~is_soma[section_of]).astype(int)
    start = points[start_index]
    end = points[end_index]

    soma_sections = np.flatnonzero(is_soma)
    soma_diameter = np.array(
        [float(sections[i].diameter[0]) / _UM for i in soma_sections], dtype=float
    )
    start_diameter = end_diameter = None
    if diameters:
        start_diameter = np.concatenate(
            [np.asarray(_diameters(section)[0], dtype=float) for section in sections]
        ) / _UM
        end_diameter = np.concatenate(
            [np.asarray(_diameters(section)[1], dtype=float) for section in sections]
        ) / _UM
    return MorphologyLayout(
        tree=tree,
        start=start,
        end=end,
        start_diameter=start_diameter,
        end_diameter=end_diameter,
        section_of=section_of,
        soma_center=start[tree.first_compartment[soma_sections]].reshape(-1, 3),
        soma_diameter=soma_diameter,
        soma_compartment=tree.first_compartment[soma_sections],
    )


def _diameters(section: Morphology):
    if isinstance(section, Soma):
        return section.diameter, section.diameter
    return section.start_diameter, section.end_diameter


def compartment_polygons(layout: MorphologyLayout, cable: np.ndarray) -> np.ndarray:
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


# --------------------------------------------------------------------------
# Dendrogram
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DendrogramLayout:
    """
    A dendrogram of a morphology: each section a vertical line spanning its
    distance from the root (in um), branches joined by horizontal lines.

    Attributes
    ----------
    tree : `SectionTree`
        The sections.
    x : `numpy.ndarray`
        Horizontal position of each section: leaves at 0, 1, 2, ... in depth
        first order, every other section midway between its first and last
        child.
    start_distance, end_distance : `numpy.ndarray`
        Distance from the root (um) where each section starts and ends (a
        soma has no length).
    vertical : `numpy.ndarray`, shape (n_sections, 2, 2)
        One vertical segment per section.
    horizontal : `numpy.ndarray`, shape (n_branching, 2, 2)
        One horizontal segment per section with more than one child, at its
        end distance, from its first to its last child.
    n_leaves : int
        Number of terminal sections.
    """

    tree: SectionTree
    x: np.ndarray
    start_distance: np.ndarray
    end_distance: np.ndarray
    vertical: np.ndarray
    horizontal: np.ndarray
    n_leaves: int

    @property
    def soma_positions(self) -> np.ndarray:
        """(x, distance) of each soma, shape (n_somata, 2)."""
        somata = self.tree.is_soma
        return np.column_stack([self.x[somata], self.end_distance[somata]])


def _section_length(section: Morphology) -> float:
    if isinstance(section, Soma):
        return 0.0  # Brian treats a soma as a point: it adds no distance
    return float(np.sum(np.asarray(section.length, dtype=float))) / _UM


def dendrogram_layout(morphology: Morphology) -> DendrogramLayout:
    """
    Compute a dendrogram layout of ``morphology``.

    Parameters
    ----------
    morphology : `~brian2.spatialneuron.morphology.Morphology`
        The morphology (coordinates are not needed).

    Returns
    -------
    layout : `DendrogramLayout`

    Examples
    --------
    >>> from brian2 import Cylinder, Soma, um
    >>> morpho = Soma(10*um)
    >>> morpho.left = Cylinder(1*um, length=50*um)
    >>> morpho.right = Cylinder(1*um, length=20*um)
    >>> layout = dendrogram_layout(morpho)
    >>> layout.x.tolist(), layout.end_distance.tolist()
    ([0.5, 0.0, 1.0], [0.0, 50.0, 20.0])
    """
    tree = walk_sections(morphology)
    n_sections = len(tree.sections)
    parent = tree.parent
    lengths = np.array([_section_length(section) for section in tree.sections])

    # Parents come before their children in depth-first order, so one forward
    # pass accumulates the distances and one backward pass places the parents.
    end_distance = np.empty(n_sections)
    start_distance = np.empty(n_sections)
    for index in range(n_sections):
        origin = 0.0 if parent[index] < 0 else end_distance[parent[index]]
        start_distance[index] = origin
        end_distance[index] = origin + lengths[index]

    n_children = np.bincount(parent[parent >= 0], minlength=n_sections)
    is_leaf = n_children == 0
    x = np.full(n_sections, np.nan)
    x[is_leaf] = np.arange(np.count_nonzero(is_leaf))
    first_child_x = np.full(n_sections, np.nan)
    last_child_x = np.full(n_sections, np.nan)
    for index in range(n_sections - 1, -1, -1):
        if not is_leaf[index]:
            x[index] = 0.5 * (first_child_x[index] + last_child_x[index])
        parent_index = parent[index]
        if parent_index >= 0:
            # walking backwards: the first child seen is the last one added
            if np.isnan(last_child_x[parent_index]):
                last_child_x[parent_index] = x[index]
            first_child_x[parent_index] = x[index]

    vertical = np.stack(
        [np.column_stack([x, start_distance]), np.column_stack([x, end_distance])], axis=1
    )
    branching = np.flatnonzero(n_children > 1)
    horizontal = np.stack(
        [
            np.column_stack([first_child_x[branching], end_distance[branching]]),
            np.column_stack([last_child_x[branching], end_distance[branching]]),
        ],
        axis=1,
    ).reshape(-1, 2, 2)
    return DendrogramLayout(
        tree=tree,
        x=x,
        start_distance=start_distance,
        end_distance=end_distance,
        vertical=vertical,
        horizontal=horizontal,
        n_leaves=int(np.count_nonzero(is_leaf)),
    )
