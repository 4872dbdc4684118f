"""
The mapping between Brian morphologies and NeuroML cells, shared by the
import (:class:`~brian2tools.nmlimport.NMLMorphology`) and the export of
multi-compartment cells (`morphology_to_nml`).

Conventions (both directions)
-----------------------------
* A Brian `Soma` is a NeuroML segment whose proximal and distal points are
  both the centre of the sphere, with the sphere's diameter (the NeuroML
  convention for a spherical soma; its area is ``pi*d**2`` either way).
* Every compartment of a Brian `Section` is one NeuroML segment, from the
  compartment's start point and diameter (``proximal``) to its end point and
  diameter (``distal``). The first segment of a section is attached to the
  last segment of the parent section (``fractionAlong`` 1) or to the soma.
* Every section is an unbranched segment group (NeuroLex id
  ``sao864921383``) with the property ``numberInternalDivisions`` equal to
  its number of compartments. Its id is the section's name, prefixed by its
  parent's group id for sections deeper than the soma's children: the
  section ``L`` below ``dend`` is ``dend_L`` (see `section_group_id`).
* The groups ``all``, ``soma_group``, ``axon_group`` and ``dendrite_group``
  include these groups, as NeuroML tools expect them.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass

import numpy as np
from brian2 import Morphology, Soma, um
from brian2.utils.logger import get_logger

from brian2tools.baseexport.files import write_text_atomic

__all__ = [
    "SECTION_NEUROLEX_ID",
    "KIND_GROUPS",
    "section_group_id",
    "brian_section_name",
    "section_groups",
    "morphology_to_nml",
    "write_morphology_nml",
]

logger = get_logger(__name__)

#: NeuroLex id of an unbranched segment group (a "cable", a Brian section).
SECTION_NEUROLEX_ID = "sao864921383"

#: The conventional groups of NeuroML cells: kind -> (group id, NeuroLex id).
KIND_GROUPS = {
    "soma": ("soma_group", "GO:0043025"),
    "axon": ("axon_group", "GO:0030424"),
    "dendrite": ("dendrite_group", "GO:0030425"),
}
_SHORT_NAMES = {"soma_group": "soma", "axon_group": "axon", "dendrite_group": "dend"}
_RESERVED_IDS = {"all"} | {group for group, _ in KIND_GROUPS.values()}
_NML_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Brian reads names such as 'LR' or '12' as paths of child names
_BRIAN_PATH_NAME = re.compile(r"^[LR1-9]{2,}$")


def _as_nml_id(text: str) -> str:
    """``text`` with every character that a NeuroML id cannot contain replaced by ``_``."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text)
    if not cleaned or cleaned[0].isdigit():
        cleaned = "_" + cleaned
    return cleaned


def section_group_id(name: str, parent_group: str | None, parent_is_root: bool) -> str:
    """
    The NeuroML segment group id of a Brian section.

    Children of the root keep their name (``dend``, ``axon``); deeper
    sections get their parent's group id as prefix (``dend_L``), and so does
    a root child whose name is no valid NeuroML id on its own (``soma_1``).
    `brian_section_name` inverts this.

    Parameters
    ----------
    name : str
        The section's name below its parent (``'L'``, ``'dend'``, ``'1'``).
    parent_group : str or None
        The group id of the parent section (None for the root itself).
    parent_is_root : bool
        Whether the parent is the root of the morphology.

    Returns
    -------
    group_id : str
        A valid NeuroML id.

    Examples
    --------
    >>> section_group_id('dend', 'soma', parent_is_root=True)
    'dend'
    >>> section_group_id('L', 'dend', parent_is_root=False)
    'dend_L'
    >>> section_group_id('1', 'soma', parent_is_root=True)
    'soma_1'
    """
    if parent_group is None:
        return _as_nml_id(name)
    if (parent_is_root and _NML_ID.match(name) and name not in _RESERVED_IDS
            and not name.startswith(parent_group + "_")):
        return name
    return _as_nml_id(f"{parent_group}_{name}")


def brian_section_name(group_id: str, parent_group: str | None) -> str:
    """
    The Brian name of a section made from a NeuroML segment group.

    The parent group's id is removed from the front of the group id
    (``dend_L`` below ``dend`` is ``L``), which inverts `section_group_id`.
    The conventional groups ``soma_group``, ``axon_group`` and
    ``dendrite_group`` give the names ``soma``, ``axon`` and ``dend``. A name
    that Brian would read as a path of child names (``LR``, ``12``) gets the
    prefix ``sec_``.

    Parameters
    ----------
    group_id : str
        The id of the segment group the section is made from.
    parent_group : str or None
        The group id of the parent section, if any.

    Returns
    -------
    name : str
        The name to attach the section under (``parent[name] = section``).

    Examples
    --------
    >>> brian_section_name('dend_L', 'dend')
    'L'
    >>> brian_section_name('apical2', 'apical0')
    'apical2'
    >>> brian_section_name('dendrite_group', 'soma_group')
    'dend'
    """
    name = _SHORT_NAMES.get(group_id, group_id)
    if parent_group and group_id.startswith(parent_group + "_") and len(group_id) > len(parent_group) + 1:
        name = group_id[len(parent_group) + 1:]
    if _BRIAN_PATH_NAME.match(name):
        name = "sec_" + name
    return name


def _section_kind(section, top_name: str | None) -> str:
    """'soma', 'axon' or 'dendrite': from the section's type, else from its top-level name."""
    section_type = (getattr(section, "type", None) or "").lower()
    if isinstance(section, Soma) or section_type == "soma":
        return "soma"
    if section_type.startswith("axon"):
        return "axon"
    if section_type:
        return "dendrite"
    if top_name and "axon" in top_name.lower():
        return "axon"
    return "dendrite"


def _has_coordinates(morphology) -> bool:
    stack = [morphology]
    while stack:
        section = stack.pop()
        if section.x is None:
            return False
        stack.extend(section.children)
    return True


def _generated_coordinates(morphology):
    """
    A copy of the morphology in which every section has coordinates.

    Sections with coordinates keep them. Brian's
    ``generate_coordinates`` places the others, except when the root is a
    section without coordinates (which it cannot handle): then all sections
    are laid out here, the root along x and every child turned away from its
    parent's direction, keeping every compartment's length and diameters.
    """
    if isinstance(morphology, Soma) or morphology.x is not None:
        return morphology.generate_coordinates()
    from brian2 import Section

    def rotate(direction, angle):
        cos, sin = np.cos(angle), np.sin(angle)
        return np.array([cos * direction[0] - sin * direction[1],
                         sin * direction[0] + cos * direction[1], 0.0])

    def laid_out(section, direction):
        lengths = np.asarray(section.length / um)
        steps = np.concatenate([[0.0], np.cumsum(lengths)])
        points = steps[:, None] * direction[None, :]
        diameters = np.concatenate([[section.start_diameter[0] / um],
                                    np.asarray(section.end_diameter / um)])
        copy = Section(n=section.n, diameter=diameters * um, x=points[:, 0] * um,
                       y=points[:, 1] * um, z=points[:, 2] * um, type=section.type)
        children = list(section.children)
        for index, child in enumerate(children):
            angle = -np.pi / 2 + np.pi * (index + 1) / (len(children) + 1)
            name = section.children.name(child) or str(index + 1)
            copy.children.add(name, laid_out(child, rotate(direction, angle)))
        return copy

    return laid_out(morphology, np.array([1.0, 0.0, 0.0]))


@dataclass
class _WalkedSection:
    section: Morphology
    path: tuple
    group_id: str
    parent_group: str | None
    kind: str


def _walk_sections(morphology: Morphology, cell_id: str = "cell"):
    """Every section with its path, group id, parent's group id and kind; parents first."""
    used_ids: set[str] = set(_RESERVED_IDS)
    root_group = "soma" if isinstance(morphology, Soma) else "root"
    # (section, path, parent group id, top-level name)
    stack = [(morphology, (), None, None)]
    while stack:
        section, path, parent_group, top_name = stack.pop()
        if not path:
            group_id = root_group
        else:
            group_id = section_group_id(path[-1], parent_group, parent_is_root=len(path) == 1)
        if group_id in used_ids:
            unique = 2
            while f"{group_id}_{unique}" in used_ids:
                unique += 1
            logger.warning(f"cell {cell_id}: the NeuroML group id {group_id!r} of section "
                           f"{'.'.join(path)!r} is taken; using {group_id}_{unique}", once=True)
            group_id = f"{group_id}_{unique}"
        used_ids.add(group_id)
        yield _WalkedSection(section, path, group_id, parent_group,
                             _section_kind(section, top_name))
        children = list(section.children)
        # reversed: the stack then visits children in their order
        for index, child in reversed(list(enumerate(children))):
            name = section.children.name(child) or str(index + 1)
            stack.append((child, path + (name,), group_id, top_name or name))


def section_groups(morphology: Morphology) -> dict:
    """
    The NeuroML segment group id of every section of a Brian morphology.

    These are the ids `morphology_to_nml` gives the sections' unbranched
    groups, e.g. to place channel densities on them.

    Parameters
    ----------
    morphology : `Morphology`
        The morphology.

    Returns
    -------
    groups : dict
        Section path (``''`` for the root, ``'dend'``, ``'dend.L'``, ...) ->
        group id, parents before children.

    Raises
    ------
    TypeError
        If ``morphology`` is not a Brian `Morphology`.

    Examples
    --------
    >>> from brian2 import Soma, Cylinder, um
    >>> neuron = Soma(diameter=20*um)
    >>> neuron.dend = Cylinder(diameter=2*um, length=100*um, n=4)
    >>> neuron.dend.L = Cylinder(diameter=1*um, length=50*um, n=2)
    >>> section_groups(neuron)
    {'': 'soma', 'dend': 'dend', 'dend.L': 'dend_L'}
    """
    if not isinstance(morphology, Morphology):
        raise TypeError(f"section_groups needs a Brian Morphology, not {type(morphology).__name__}.")
    return {".".join(walked.path): walked.group_id for walked in _walk_sections(morphology)}


def _point(x, y, z, diameter):
    from neuroml import Point3DWithDiam

    return Point3DWithDiam(x=float(x / um), y=float(y / um), z=float(z / um),
                           diameter=float(diameter / um))


def morphology_to_nml(morphology: Morphology, cell_id: str = "cell", morphology_id: str | None = None):
    """
    Describe a Brian morphology as a NeuroML cell (libNeuroML objects).

    Every compartment becomes a segment with proximal and distal point and
    diameter, a `Soma` a spherical segment (proximal and distal point at the
    centre); every section becomes an unbranched segment group named after
    the section (see `section_group_id`), with ``numberInternalDivisions``
    equal to its number of compartments, and the groups ``all``,
    ``soma_group``, ``axon_group`` and ``dendrite_group`` (the last three
    when not empty) include them. A section goes into ``soma_group``,
    ``axon_group`` or ``dendrite_group`` by its ``type`` (``'soma'``,
    ``'axon...'``, any other type), else by its name: sections below a root
    child whose name contains ``axon`` are axon, all others dendrite. A root
    section that is not a `Soma` gets the group id ``root``.

    Morphologies without coordinates get Brian's generated coordinates (on
    a copy); lengths, diameters and so areas are kept.

    Parameters
    ----------
    morphology : `Morphology`
        The morphology (its root: a `Soma` or a `Section`).
    cell_id : str, optional
        The id of the cell, ``'cell'`` by default.
    morphology_id : str, optional
        The id of the ``<morphology>``, ``cell_id + '_morphology'`` by default.

    Returns
    -------
    cell : neuroml.Cell
        The cell, with its morphology only (no biophysical properties).

    Raises
    ------
    TypeError
        If ``morphology`` is not a Brian `Morphology`.
    ValueError
        If ``cell_id`` is not a valid NeuroML id.

    Examples
    --------
    >>> from brian2 import Soma, Cylinder, um
    >>> neuron = Soma(diameter=20*um)
    >>> neuron.dend = Cylinder(diameter=2*um, length=100*um, n=4)
    >>> cell = morphology_to_nml(neuron, 'ball_and_stick')
    >>> len(cell.morphology.segments)
    5
    >>> [group.id for group in cell.morphology.segment_groups]
    ['soma', 'dend', 'soma_group', 'dendrite_group', 'all']
    """
    from neuroml import Cell, Include, Member, Property, Segment, SegmentGroup, SegmentParent
    from neuroml import Morphology as NMLMorphologyElement

    if not isinstance(morphology, Morphology):
        raise TypeError(f"morphology_to_nml needs a Brian Morphology, not {type(morphology).__name__}.")
    if not isinstance(cell_id, str) or not _NML_ID.match(cell_id):
        raise ValueError(f"The cell id {cell_id!r} is not a valid NeuroML id "
                         "(letters, digits and '_', not starting with a digit).")
    if not _has_coordinates(morphology):
        logger.debug(f"cell {cell_id}: morphology without coordinates, generating them")
        morphology = _generated_coordinates(morphology)

    segments: list = []
    section_groups: list = []
    kinds: dict[str, list[str]] = {kind: [] for kind in KIND_GROUPS}
    last_segment: dict[str, int] = {}  # group id -> its section's last segment
    for walked in _walk_sections(morphology, cell_id):
        section, group_id = walked.section, walked.group_id
        first = len(segments)
        if isinstance(section, Soma):
            point = (section.x[0], section.y[0], section.z[0], section.diameter[0])
            segments.append(Segment(id=first, name=group_id, proximal=_point(*point),
                                    distal=_point(*point)))
        else:
            parent_segment = last_segment.get(walked.parent_group)
            for index in range(section.n):
                parent = None
                if index > 0:
                    parent = SegmentParent(segments=first + index - 1)
                elif parent_segment is not None:
                    parent = SegmentParent(segments=parent_segment)
                segments.append(Segment(
                    id=first + index, name=f"{group_id}_{index}", parent=parent,
                    proximal=_point(section.start_x[index], section.start_y[index],
                                    section.start_z[index], section.start_diameter[index]),
                    distal=_point(section.end_x[index], section.end_y[index],
                                  section.end_z[index], section.end_diameter[index]),
                ))
        last_segment[group_id] = len(segments) - 1
        section_groups.append(SegmentGroup(
            id=group_id, neuro_lex_id=SECTION_NEUROLEX_ID,
            properties=[Property(tag="numberInternalDivisions", value=str(section.n))],
            members=[Member(segments=segment_id) for segment_id in range(first, len(segments))],
        ))
        kinds[walked.kind].append(group_id)

    groups = list(section_groups)
    for kind, (kind_group, neurolex_id) in KIND_GROUPS.items():
        if kinds[kind]:
            groups.append(SegmentGroup(id=kind_group, neuro_lex_id=neurolex_id,
                                       includes=[Include(segment_groups=g) for g in kinds[kind]]))
    groups.append(SegmentGroup(id="all", includes=[Include(segment_groups=g.id)
                                                   for g in section_groups]))
    nml_morphology = NMLMorphologyElement(id=morphology_id or f"{cell_id}_morphology",
                                          segments=segments, segment_groups=groups)
    return Cell(id=cell_id, morphology=nml_morphology)


def write_morphology_nml(morphology: Morphology, filename: str | os.PathLike, cell_id: str = "cell") -> str:
    """
    Write a Brian morphology as a complete NeuroML document with one cell.

    The cell is made by `morphology_to_nml` and written with libNeuroML's
    writer; the file is replaced atomically.

    Parameters
    ----------
    morphology : `Morphology`
        The morphology to write.
    filename : str or os.PathLike
        The file to write (usually ending in ``.cell.nml``).
    cell_id : str, optional
        The id of the cell (also used for the document's id).

    Returns
    -------
    path : str
        The absolute path of the written file.

    Raises
    ------
    TypeError
        If ``morphology`` is not a Brian `Morphology`.
    ValueError
        If ``cell_id`` is not a valid NeuroML id.

    Examples
    --------
    >>> from brian2 import Soma, Cylinder, um
    >>> neuron = Soma(diameter=20*um)
    >>> neuron.axon = Cylinder(diameter=1*um, length=300*um, n=10)
    >>> path = write_morphology_nml(neuron, 'neuron.cell.nml', cell_id='neuron')
    >>> print(open(path).read().count('<segment '))
    11
    """
    from neuroml import NeuroMLDocument
    from neuroml.writers import NeuroMLWriter

    cell = morphology_to_nml(morphology, cell_id)
    document = NeuroMLDocument(id=cell_id, cells=[cell])
    buffer = _KeptOpenStringIO()
    NeuroMLWriter.write(document, buffer)
    return write_text_atomic(filename, buffer.getvalue())


class _KeptOpenStringIO(io.StringIO):
    """A text buffer that keeps its content when closed (libNeuroML's writer closes its file)."""

    def close(self):
        pass
