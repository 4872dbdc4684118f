"""
From NeuroML segments to Brian sections (the import direction of the
morphology mapping, see :mod:`brian2tools.nmlimport.morphology_mapping`).

The segments are first cut into *pieces*: a segment to which another one is
attached part-way along (``0 < fractionAlong < 1``) is split at that point,
linearly interpolating position and diameter, which keeps its geometry (a
truncated cone cut in two is two truncated cones of the same total length
and area). A child attached at ``fractionAlong`` 0 hangs at the start of its
parent segment, i.e. at the end of the piece before it. Chains of pieces
become Brian sections; a chain ends at a branch point, where the next piece
does not start at the previous piece's end point and diameter, and (with
the name heuristic) where the segment group of the section changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from brian2 import Section, Soma, um
from brian2.utils.logger import get_logger

from .morphology_mapping import brian_section_name
from .validation import NMLMorphologyError

__all__ = ["SectionInfo", "build_morphology"]

logger = get_logger(__name__)

_SOMA = -1  # parent "piece" index standing for a spherical soma
_EPS = 1e-9  # fractions closer than this to 0 or 1 count as 0 or 1


@dataclass
class _Piece:
    segment: int
    proximal: np.ndarray  # x, y, z, diameter in um
    distal: np.ndarray
    parent: int | None = None
    children: list = field(default_factory=list)


@dataclass
class SectionInfo:
    """
    One Brian section made from NeuroML segments.

    Attributes
    ----------
    path : tuple of str
        The names leading from the root to the section (``()`` for the root).
    group : str or None
        The segment group the section was named after.
    section : `Morphology`
        The Brian section (or `Soma`).
    compartment_segments : list of int
        For every compartment, the NeuroML segment its midpoint lies in.
    """

    path: tuple
    group: str | None
    section: object
    compartment_segments: list

    @property
    def name(self) -> str:
        """The section's path as Brian prints it (``'dend.L'``, ``''`` for the root)."""
        return ".".join(self.path)


def _point(point) -> np.ndarray:
    return np.array([point.x, point.y, point.z, point.diameter], dtype=float)


def _same_point(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-9))


def _resample(points: np.ndarray, segments: list, boundaries: np.ndarray, n: int):
    """``n`` compartments of equal length along the polyline ``points`` (x, y, z, d rows)."""
    steps = np.sqrt(np.sum(np.diff(points[:, :3], axis=0) ** 2, axis=1))
    cumulative = np.concatenate([[0.0], np.cumsum(steps)])
    targets = np.linspace(0, cumulative[-1], n + 1)
    new_points = np.column_stack([np.interp(targets, cumulative, points[:, k]) for k in range(4)])
    midpoints = (targets[:-1] + targets[1:]) / 2
    owner = np.searchsorted(boundaries[1:-1], midpoints, side="right")
    return new_points, [segments[k] for k in owner]


def _frustum_areas(points: np.ndarray) -> np.ndarray:
    lengths = np.sqrt(np.sum(np.diff(points[:, :3], axis=0) ** 2, axis=1))
    r0, r1 = points[:-1, 3] / 2, points[1:, 3] / 2
    return np.pi * (r0 + r1) * np.sqrt(lengths**2 + (r1 - r0) ** 2)


def build_morphology(segments, *, cell_id: str, soma_segments: set, section_group_of: dict,
                     group_members: dict, divisions: dict, kind_of: dict,
                     name_heuristic: bool = True, use_divisions: bool = True):
    """
    Build the Brian morphology of validated NeuroML segments.

    Parameters
    ----------
    segments : list of neuroml.Segment
        The segments (already checked with `validate_morphology`).
    cell_id : str
        The cell's id, for messages.
    soma_segments : set of int
        The segments that belong to the soma (by group or name).
    section_group_of : dict
        Segment id -> the group naming its section (None: no group).
    group_members : dict
        Group id -> set of its segment ids (groups resolved).
    divisions : dict
        Unbranched group id -> its ``numberInternalDivisions``.
    kind_of : dict
        Segment id -> ``'soma'``, ``'axon'``, ``'dend'`` or None (the
        section's ``type``).
    name_heuristic : bool, optional
        Name sections after groups (else ``sec0``, ``sec1``... and cut only
        at branch points and discontinuities).
    use_divisions : bool, optional
        Give a section that is exactly an unbranched group with
        ``numberInternalDivisions`` that many compartments.

    Returns
    -------
    root : `Morphology`
        The root of the morphology.
    sections : list of SectionInfo
        Every section, parents before children.

    Examples
    --------
    >>> from neuroml import Point3DWithDiam as P, Segment, SegmentParent
    >>> segments = [Segment(id=0, proximal=P(x=0, y=0, z=0, diameter=10),
    ...                     distal=P(x=0, y=0, z=0, diameter=10)),
    ...             Segment(id=1, parent=SegmentParent(segments=0),
    ...                     proximal=P(x=5, y=0, z=0, diameter=2),
    ...                     distal=P(x=45, y=0, z=0, diameter=1))]
    >>> root, sections = build_morphology(
    ...     segments, cell_id='example', soma_segments={0},
    ...     section_group_of={0: 'soma', 1: 'dend'}, group_members={}, divisions={},
    ...     kind_of={0: 'soma', 1: 'dend'})
    >>> [(info.name, info.section.n) for info in sections]
    [('', 1), ('dend', 1)]
    >>> print(root.dend.length)
    [40.] um
    """
    by_id = {int(segment.id): segment for segment in segments}
    children_of: dict[int, list] = {segment_id: [] for segment_id in by_id}
    root_id = None
    for segment_id, segment in by_id.items():
        if segment.parent is None:
            root_id = segment_id
            continue
        fraction = segment.parent.fraction_along
        fraction = 1.0 if fraction is None else float(fraction)
        children_of[int(segment.parent.segments)].append((segment_id, fraction))

    # proximal points, parents first (a missing proximal point is the point of the parent
    # at fractionAlong)
    order = [root_id]
    for segment_id in order:
        order.extend(child for child, _ in children_of[segment_id])
    proximal, distal = {}, {}
    for segment_id in order:
        segment = by_id[segment_id]
        distal[segment_id] = _point(segment.distal)
        if segment.proximal is not None:
            proximal[segment_id] = _point(segment.proximal)
        else:
            parent = int(segment.parent.segments)
            fraction = segment.parent.fraction_along
            fraction = 1.0 if fraction is None else float(fraction)
            proximal[segment_id] = proximal[parent] + fraction * (distal[parent] - proximal[parent])

    # the soma
    root_p, root_d = proximal[root_id], distal[root_id]
    root_length = float(np.linalg.norm(root_d[:3] - root_p[:3]))
    soma = None
    if root_length <= 1e-9 * max(1.0, root_d[3]):
        soma = Soma(diameter=root_d[3] * um, x=[root_d[0]] * um, y=[root_d[1]] * um,
                    z=[root_d[2]] * um)
        centre = root_d[:3]
    elif (root_id in soma_segments and abs(root_p[3] - root_d[3]) <= 1e-9 * root_d[3]
          and abs(root_length - root_d[3]) <= 1e-6 * root_d[3]
          and all(segment_id not in soma_segments for segment_id, _ in children_of[root_id])):
        # NEURON's convention for a soma: a cylinder as long as wide, with a sphere's area
        centre = (root_p[:3] + root_d[:3]) / 2
        soma = Soma(diameter=root_d[3] * um, x=[centre[0]] * um, y=[centre[1]] * um,
                    z=[centre[2]] * um)
        logger.debug(f"cell {cell_id}: soma segment {root_id} is a cylinder as long as wide; "
                     "imported as a Soma of the same area")

    # cut segments where children are attached part-way along
    cuts: dict[int, set] = {segment_id: set() for segment_id in by_id}
    attach: dict[int, float] = {}
    for parent_id, children in children_of.items():
        for child_id, fraction in children:
            if soma is not None and parent_id == root_id:
                fraction = 1.0
            elif fraction <= _EPS and parent_id == root_id:
                logger.warning(
                    f"cell {cell_id}: segment {child_id} is attached at the start "
                    f"(fractionAlong=0) of the root segment {parent_id}; a Brian section can "
                    "only carry children at its end, so it is attached there.",
                    name_suffix="fraction_zero_root", once=True)
                fraction = 1.0
            elif fraction >= 1 - _EPS:
                fraction = 1.0
            elif fraction <= _EPS:
                fraction = 0.0
            else:
                cuts[parent_id].add(fraction)
            attach[child_id] = fraction

    pieces: list[_Piece] = []
    pieces_of: dict[int, list] = {}
    for segment_id in order:
        if soma is not None and segment_id == root_id:
            pieces_of[segment_id] = [(1.0, _SOMA)]
            continue
        p, d = proximal[segment_id], distal[segment_id]
        bounds = [0.0] + sorted(cuts[segment_id]) + [1.0]
        own = []
        for start, end in zip(bounds[:-1], bounds[1:], strict=True):
            pieces.append(_Piece(segment_id, p + start * (d - p), p + end * (d - p)))
            own.append((end, len(pieces) - 1))
        pieces_of[segment_id] = own

    # connect the pieces; a piece of zero length is left out (its area is zero)
    def start_of(segment_id):
        """The piece (or _SOMA / None) at the start of a segment."""
        if segment_id == root_id:
            return _SOMA if soma is not None else None
        first = pieces_of[segment_id][0][1]
        return pieces[first].parent if first != _SOMA else _SOMA

    skipped = set()
    for segment_id in order:
        if soma is not None and segment_id == root_id:
            continue
        if segment_id == root_id:
            parent = None
        else:
            parent_id = int(by_id[segment_id].parent.segments)
            fraction = attach[segment_id]
            if fraction == 0.0:
                parent = start_of(parent_id)
            else:
                parent = next(index for end, index in pieces_of[parent_id] if end >= fraction - _EPS)
            while parent in skipped:  # left-out pieces pass their children on to their parent
                parent = pieces[parent].parent
        for _, index in pieces_of[segment_id]:
            piece = pieces[index]
            piece.parent = parent
            length = np.linalg.norm(piece.distal[:3] - piece.proximal[:3])
            if length <= 1e-12 * max(1.0, piece.distal[3]) and parent is not None:
                skipped.add(index)
                continue
            if parent is not None and parent != _SOMA:
                pieces[parent].children.append(index)
            parent = index
    for index in skipped:
        logger.warning(f"cell {cell_id}: segment {pieces[index].segment} has zero length; it "
                       "is left out (its children are attached to its parent)",
                       name_suffix="zero_length", once=True)
    top = [index for index, piece in enumerate(pieces)
           if index not in skipped and piece.parent in (None, _SOMA)]
    if soma is None and len(top) != 1:
        raise NMLMorphologyError(f"Cell {cell_id}: the root segment {root_id} has zero length "
                                 "but is not a soma.")

    # chains of pieces -> sections
    sections: list[SectionInfo] = []
    counter = [0]
    part_of: dict[int, int] = {}  # id(SectionInfo) -> part number within its group
    pending: list = []  # sections still to make: (first piece, parent info, parent, end, names)

    def key(index):
        return section_group_of.get(pieces[index].segment) if name_heuristic else None

    def make_section(first, parent_info, parent_obj, parent_end, siblings_used):
        chain = [first]
        while True:
            current = pieces[chain[-1]]
            if len(current.children) != 1:
                break
            following = current.children[0]
            if not _same_point(current.distal, pieces[following].proximal):
                break
            if name_heuristic and key(following) != key(first):
                break
            chain.append(following)
        points = np.vstack([pieces[chain[0]].proximal] + [pieces[i].distal for i in chain])
        owners = [pieces[i].segment for i in chain]
        group = key(first)
        seg_set = set(owners)
        if (use_divisions and group in divisions and group_members.get(group) == seg_set
                and divisions[group] != len(chain)):
            boundaries = np.concatenate([[0.0], np.cumsum(np.sqrt(np.sum(
                np.diff(points[:, :3], axis=0) ** 2, axis=1)))])
            before = _frustum_areas(points).sum()
            points, owners = _resample(points, owners, boundaries, divisions[group])
            after = _frustum_areas(points).sum()
            if abs(after - before) > 1e-9 * before:
                logger.warning(
                    f"cell {cell_id}: dividing group {group!r} into {divisions[group]} "
                    "compartments of equal length (numberInternalDivisions) changes its area "
                    f"by {100 * (after - before) / before:.3g}% (diameters change within a "
                    "compartment)", name_suffix="divisions_area", once=True)
        # the name
        if parent_info is None:
            name = None
        elif not name_heuristic:
            name = f"sec{counter[0]}"
            counter[0] += 1
        else:
            parent_group = parent_info.group
            if group is None:
                base = by_id[owners[0]].name or "sec"
                base = brian_section_name(base, None)
            else:
                base = brian_section_name(group, parent_group)
            if group is not None and group == parent_group:
                # the group goes on after a cut (branch, diameter jump): number its parts
                part = part_of.get(id(parent_info), 1) + 1
                base = f"{base}_{part}"
            name = base
        if name is not None and name in siblings_used:
            suffix = 2
            while f"{name}_{suffix}" in siblings_used:
                suffix += 1
            name = f"{name}_{suffix}"
        if name is not None:
            siblings_used.add(name)
        relative = points[:, :3] - (parent_end if parent_end is not None else 0.0)
        section = Section(n=len(points) - 1, diameter=points[:, 3] * um, x=relative[:, 0] * um,
                          y=relative[:, 1] * um, z=relative[:, 2] * um,
                          type=kind_of.get(owners[0]))
        if parent_obj is not None:
            parent_obj[name] = section
        info = SectionInfo(path=(parent_info.path + (name,)) if parent_info else (),
                           group=group, section=section, compartment_segments=list(owners))
        sections.append(info)
        if name_heuristic and group is not None and parent_info is not None \
                and group == parent_info.group:
            part_of[id(info)] = part
        used: set = set()
        # reversed: the stack then makes the children in their order
        for child in reversed(pieces[chain[-1]].children):
            pending.append((child, info, section, points[-1, :3], used))
        return info

    def make_all():
        # a stack instead of recursion: deep reconstructions must not hit Python's limit
        while pending:
            make_section(*pending.pop())

    if soma is not None:
        soma_group = section_group_of.get(root_id) if name_heuristic else None
        soma_info = SectionInfo(path=(), group=soma_group, section=soma,
                                compartment_segments=[root_id])
        if kind_of.get(root_id) is not None:
            soma.type = kind_of[root_id]
        sections.append(soma_info)
        used: set = set()
        pending.extend((index, soma_info, soma, centre, used) for index in reversed(top))
        root = soma
    else:
        root = make_section(top[0], None, None, None, set()).section
    make_all()
    return root, sections
