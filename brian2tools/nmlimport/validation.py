"""
Errors of the NeuroML import and the structural check of a NeuroML morphology.

`validate_morphology` looks at the segments of a NeuroML ``<morphology>``
before anything is built from them: unique ids, existing parents, a single
root, no cycles, a proximal point where one is required, positive diameters
and fractions along the parent between 0 and 1. Every problem is reported
with an `NMLMorphologyError` that names the cell (when known) and the
segment.
"""

from __future__ import annotations

import math

from brian2.utils.logger import get_logger

__all__ = ["NMLImportError", "NMLMorphologyError", "validate_morphology"]

logger = get_logger(__name__)


class NMLImportError(ValueError):
    """
    A NeuroML document cannot be imported.

    Raised for problems of the document as a whole (it cannot be parsed, has
    no cell or not the requested one, a value has an unknown unit, ...).
    Missing files raise :class:`FileNotFoundError` instead.
    """


class NMLMorphologyError(NMLImportError):
    """
    The morphology of a NeuroML cell is invalid.

    The message names the cell and the segment concerned.
    """


def _segments_of(obj) -> tuple[list, str]:
    """The list of libNeuroML segments of ``obj`` and a description of where they come from."""
    # NMLMorphology, neuroml.Cell and neuroml.Morphology are told apart by
    # what they carry, so that this module needs no import of the others
    if hasattr(obj, "cell") and hasattr(obj, "morphology") and hasattr(obj, "segment_groups"):
        obj = obj.cell  # an NMLMorphology
    where = "the morphology"
    if hasattr(obj, "morphology") and hasattr(obj, "biophysical_properties"):
        where = f"the morphology of cell {obj.id!r}"
        if obj.morphology is None:
            raise NMLMorphologyError(f"Cell {obj.id!r} has no <morphology>.")
        obj = obj.morphology
    if hasattr(obj, "segments") and hasattr(obj, "segment_groups"):
        if getattr(obj, "id", None) and where == "the morphology":
            where = f"morphology {obj.id!r}"
        obj = obj.segments
    try:
        segments = list(obj)
    except TypeError:
        raise TypeError(
            "validate_morphology needs a list of NeuroML segments, a neuroml.Morphology, a "
            f"neuroml.Cell or an NMLMorphology, not {type(obj).__name__}."
        ) from None
    for segment in segments:
        if not (hasattr(segment, "distal") and hasattr(segment, "id")):
            raise TypeError(
                f"validate_morphology: {segment!r} is not a NeuroML segment "
                "(it has no id and distal point)."
            )
    return segments, where


def _check_point(point, segment_id, which: str, where: str) -> None:
    values = [point.x, point.y, point.z, point.diameter]
    try:
        values = [float(value) for value in values]
    except (TypeError, ValueError):
        raise NMLMorphologyError(
            f"In {where}, the {which} point of segment {segment_id} has a non-numeric "
            f"coordinate or diameter: {values}."
        ) from None
    if not all(math.isfinite(value) for value in values):
        raise NMLMorphologyError(
            f"In {where}, the {which} point of segment {segment_id} is not finite: {values}."
        )
    if values[3] <= 0:
        raise NMLMorphologyError(
            f"In {where}, segment {segment_id} has a {which} diameter of {values[3]} um; "
            "diameters must be positive."
        )


def validate_morphology(segments) -> None:
    """
    Check that NeuroML segments form a valid morphology.

    The checks are: every segment has an id, unique among the segments, and
    a distal point; every parent exists; exactly one segment (the root) has
    no parent and it has a proximal point; following the parents from any
    segment ends at the root (no cycles); all diameters are positive and all
    coordinates finite; every ``fractionAlong`` lies between 0 and 1.

    Parameters
    ----------
    segments : list of neuroml.Segment, neuroml.Morphology, neuroml.Cell or NMLMorphology
        The segments to check, or an object holding them.

    Raises
    ------
    NMLMorphologyError
        For the first problem found, naming the segment.
    TypeError
        If ``segments`` is none of the accepted types.

    Examples
    --------
    >>> from neuroml import Point3DWithDiam, Segment, SegmentParent
    >>> soma = Segment(id=0, proximal=Point3DWithDiam(x=0, y=0, z=0, diameter=10),
    ...                distal=Point3DWithDiam(x=0, y=0, z=0, diameter=10))
    >>> dend = Segment(id=1, parent=SegmentParent(segments=7),
    ...                distal=Point3DWithDiam(x=50, y=0, z=0, diameter=2))
    >>> validate_morphology([soma])
    >>> validate_morphology([soma, dend])
    Traceback (most recent call last):
    ...
    brian2tools.nmlimport.validation.NMLMorphologyError: In the morphology, segment 1 has parent 7, which is not a segment of the morphology.
    """
    segments, where = _segments_of(segments)
    if not segments:
        raise NMLMorphologyError(f"{where[0].upper()}{where[1:]} has no segments.")
    by_id = {}
    for position, segment in enumerate(segments):
        if segment.id is None:
            raise NMLMorphologyError(f"In {where}, segment number {position + 1} has no id.")
        try:
            segment_id = int(segment.id)
        except (TypeError, ValueError):
            raise NMLMorphologyError(
                f"In {where}, segment id {segment.id!r} is not a non-negative integer."
            ) from None
        if segment_id < 0:
            raise NMLMorphologyError(f"In {where}, segment id {segment_id} is negative.")
        if segment_id in by_id:
            raise NMLMorphologyError(f"In {where}, segment id {segment_id} is used twice.")
        by_id[segment_id] = segment

    roots = []
    parents = {}
    for segment_id, segment in by_id.items():
        if segment.distal is None:
            raise NMLMorphologyError(f"In {where}, segment {segment_id} has no distal point.")
        _check_point(segment.distal, segment_id, "distal", where)
        if segment.proximal is not None:
            _check_point(segment.proximal, segment_id, "proximal", where)
        if segment.parent is None:
            roots.append(segment_id)
            continue
        parent_id = int(segment.parent.segments)
        if parent_id not in by_id:
            raise NMLMorphologyError(
                f"In {where}, segment {segment_id} has parent {parent_id}, which is not a "
                "segment of the morphology."
            )
        if parent_id == segment_id:
            raise NMLMorphologyError(f"In {where}, segment {segment_id} is its own parent.")
        fraction = segment.parent.fraction_along
        fraction = 1.0 if fraction is None else float(fraction)
        if not 0 <= fraction <= 1:
            raise NMLMorphologyError(
                f"In {where}, segment {segment_id} is attached at fractionAlong={fraction} of "
                f"segment {parent_id}; it must lie between 0 and 1."
            )
        parents[segment_id] = parent_id

    if len(roots) != 1:
        if not roots:
            raise NMLMorphologyError(
                f"In {where}, every segment has a parent: the segments form a cycle and "
                "there is no root segment."
            )
        raise NMLMorphologyError(
            f"In {where}, segments {roots} have no parent; a morphology has exactly one root "
            "segment (the others are not connected to it)."
        )
    root = roots[0]
    if by_id[root].proximal is None:
        raise NMLMorphologyError(
            f"In {where}, the root segment {root} has no proximal point (only segments with "
            "a parent may leave it out)."
        )
    # every chain of parents must end at the root: otherwise there is a cycle
    reaches_root = {root}
    for start in by_id:
        chain = []
        current = start
        while current not in reaches_root:
            if current in chain:
                cycle = chain[chain.index(current):] + [current]
                raise NMLMorphologyError(
                    f"In {where}, the parents of segment {start} form a cycle: "
                    + " -> ".join(str(s) for s in cycle) + "."
                )
            chain.append(current)
            current = parents[current]
        reaches_root.update(chain)
    logger.debug(f"{where}: {len(by_id)} segments, root {root}: valid")
