"""
Reading a NeuroML cell: `NMLMorphology`.

The file is read with libNeuroML; the files it ``<include>``\\ s are read
too (relative to the including file), for the ion channels they define. The
cell's segments are checked (`validate_morphology`), its segment groups
resolved (``member``, ``include``, ``path`` and ``subTree``), and its
morphology built by :func:`~brian2tools.nmlimport.segment_tree.build_morphology`.
"""

from __future__ import annotations

import os

import numpy as np
from brian2.utils.logger import get_logger

from .morphology_mapping import KIND_GROUPS, SECTION_NEUROLEX_ID
from .segment_tree import build_morphology
from .units import nml_quantity
from .validation import NMLImportError, NMLMorphologyError, validate_morphology

__all__ = ["NMLMorphology"]

logger = get_logger(__name__)

_SOMA_IDS = {"soma_group", "soma", KIND_GROUPS["soma"][1], "sao1044911821"}
_AXON_IDS = {"axon_group", KIND_GROUPS["axon"][1]}
_DEND_IDS = {"dendrite_group", KIND_GROUPS["dendrite"][1], "sao1211023249"}
# membrane and intracellular properties read into NMLMorphology.properties
_MEMBRANE_PROPERTIES = {"spikeThresh": "spike_threshes",
                        "specificCapacitance": "specific_capacitances",
                        "initMembPotential": "init_memb_potentials"}
_INTRACELLULAR_PROPERTIES = {"resistivity": "resistivities"}
# channel placements read into NMLMorphology.channel_properties: element -> (list attribute,
# quantities to read as Brian quantities)
_CHANNELS = {
    "channelDensity": ("channel_densities", ("cond_density", "erev")),
    "channelDensityNernst": ("channel_density_nernsts", ("cond_density",)),
    "channelDensityGHK": ("channel_density_ghks", ("permeability",)),
    "channelDensityGHK2": ("channel_density_ghk2s", ("cond_density",)),
    "channelDensityVShift": ("channel_density_v_shifts", ("cond_density", "erev", "v_shift")),
    "channelPopulation": ("channel_populations", ("erev",)),
}
_NOT_IMPORTED = ("channel_density_non_uniforms", "channel_density_non_uniform_nernsts",
                 "channel_density_non_uniform_ghks")


def _load_documents(path: str, loaded: dict, require_includes: bool) -> None:
    """Read ``path`` and, recursively, the files it includes into ``loaded`` (path -> document)."""
    from neuroml.loaders import NeuroMLLoader

    try:
        document = NeuroMLLoader.load(path)
    except Exception as exc:  # libNeuroML raises bare Exceptions and TypeErrors
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        raise NMLImportError(f"Cannot read the NeuroML file {path}: {message}") from exc
    loaded[path] = document
    folder = os.path.dirname(path)
    for include in document.includes:
        included = os.path.abspath(os.path.join(folder, include.href))
        if included in loaded:
            continue
        if not os.path.isfile(included):
            message = (f"The NeuroML file {path} includes {include.href!r}, which does not "
                       f"exist (looked for {included})")
            if require_includes:
                raise FileNotFoundError(message + ".")
            # the morphology does not need it; only the channels it defines are missing
            logger.warning(message + "; the ion channels it defines are not available.",
                           name_suffix="missing_include")
            continue
        _load_documents(included, loaded, require_includes)


def _resolve_groups(morphology, cell_id: str) -> dict:
    """Group id -> list of segment ids (in segment order) of every segment group."""
    segment_ids = [int(segment.id) for segment in morphology.segments]
    parent = {int(s.id): (int(s.parent.segments) if s.parent is not None else None)
              for s in morphology.segments}
    children: dict[int, list] = {segment_id: [] for segment_id in segment_ids}
    for segment_id, parent_id in parent.items():
        if parent_id is not None:
            children[parent_id].append(segment_id)
    groups = {group.id: group for group in morphology.segment_groups}
    resolved: dict[str, set] = {}

    def known(segment_id, group_id, what):
        segment_id = int(segment_id)
        if segment_id not in parent:
            raise NMLMorphologyError(f"Cell {cell_id}: segment group {group_id!r} {what} "
                                     f"segment {segment_id}, which does not exist.")
        return segment_id

    def subtree(start):
        found, stack = set(), [start]
        while stack:
            current = stack.pop()
            found.add(current)
            stack.extend(children[current])
        return found

    def to_root(end):
        found = []
        while end is not None:
            found.append(end)
            end = parent[end]
        return found

    def resolve(group_id, visiting):
        if group_id in resolved:
            return resolved[group_id]
        if group_id in visiting:
            raise NMLMorphologyError(f"Cell {cell_id}: segment group {group_id!r} includes "
                                     "itself (through " + " -> ".join(visiting) + ").")
        group = groups[group_id]
        found = {known(member.segments, group_id, "has the member") for member in group.members}
        for include in group.includes:
            if include.segment_groups not in groups:
                raise NMLMorphologyError(
                    f"Cell {cell_id}: segment group {group_id!r} includes the group "
                    f"{include.segment_groups!r}, which does not exist.")
            found |= resolve(include.segment_groups, visiting + [group_id])
        for path in group.paths:
            start = known(path.from_.segments, group_id, "has a path from") if path.from_ else None
            end = known(path.to.segments, group_id, "has a path to") if path.to else None
            if end is None:
                found |= subtree(start) if start is not None else set()
                continue
            chain = to_root(end)
            if start is not None:
                if start not in chain:
                    raise NMLMorphologyError(
                        f"Cell {cell_id}: segment group {group_id!r} has a path from segment "
                        f"{start} to segment {end}, which is not below it.")
                chain = chain[:chain.index(start) + 1]
            found |= set(chain)
        for tree in group.sub_trees:
            start = known(tree.from_.segments, group_id, "has a subTree from") if tree.from_ else None
            end = known(tree.to.segments, group_id, "has a subTree to") if tree.to else None
            if start is not None:
                found |= subtree(start)
            elif end is not None:
                found |= set(to_root(end))
        resolved[group_id] = found
        return found

    result = {}
    for group_id in groups:
        members = resolve(group_id, [])
        result[group_id] = [segment_id for segment_id in segment_ids if segment_id in members]
    if "all" not in result:
        result["all"] = list(segment_ids)
    return result


def _divisions(group, cell_id: str) -> int | None:
    for prop in group.properties:
        if prop.tag == "numberInternalDivisions":
            try:
                value = int(prop.value)
            except (TypeError, ValueError):
                value = 0
            if value < 1:
                raise NMLMorphologyError(
                    f"Cell {cell_id}: segment group {group.id!r} has numberInternalDivisions="
                    f"{prop.value!r}; it must be a positive integer.")
            return value
    return None


class NMLMorphology:
    """
    The morphology and biophysics of a NeuroML cell, for Brian.

    The morphology follows the conventions of
    :mod:`~brian2tools.nmlimport.morphology_mapping`. A root segment of zero
    length becomes a `Soma` (as does a soma segment as long as it is wide:
    NEURON's convention, with the same area); every other segment gives one
    compartment per segment, or, for a section that is exactly an unbranched
    segment group (NeuroLex id ``sao864921383``) with the property
    ``numberInternalDivisions``, that many compartments of equal length.
    With ``name_heuristic``, a section is named after its unbranched group
    (or, when the file has none, after the smallest group it lies in, with
    ``soma_group``/``axon_group``/``dendrite_group`` as ``soma``/``axon``/
    ``dend``), with the parent group's id removed from the front
    (``dend_L`` below ``dend`` is ``L``); sections also end where the group
    changes. Without it, sections end only at branch points and jumps in
    position or diameter, and are named ``sec0``, ``sec1``, ...

    Parameters
    ----------
    file : str or os.PathLike
        The NeuroML 2 file. The files it includes are read as well.
    name_heuristic : bool, optional
        Whether to name sections after segment groups (default) or
        ``sec0``, ``sec1``, ...
    cell_id : str, optional
        The id of the cell to read; needed when the file defines several.
    use_divisions : bool, optional
        Whether to follow ``numberInternalDivisions`` (default), or make one
        compartment per segment.
    require_includes : bool, optional
        Whether a missing included file is an error. By default it only
        gives a warning: the morphology does not depend on it (only
        `ion_channels` lacks the channels it would define).

    Attributes
    ----------
    morphology : `Morphology`
        The Brian morphology.
    segment_groups : dict
        Segment group id -> array of the indices of the compartments (in
        the order of Brian's `SpatialNeuron`) whose midpoint lies in a
        segment of the group; usable as ``neuron.gL[indices] = ...``.
    group_sections : dict
        Segment group id -> the names of the sections (paths such as
        ``'dend.L'``, ``''`` for the root) with compartments in the group.
    properties : dict
        ``'spikeThresh'``, ``'specificCapacitance'``, ``'initMembPotential'``
        and ``'resistivity'`` -> {segment group id: value as a Brian
        quantity} (the group is ``'all'`` when the file names none).
    channel_properties : dict
        Channel density (or population) id -> dict with ``'type'`` (the
        NeuroML element), ``'ion_channel'``, ``'ion'``, ``'segment_group'``
        and the values as Brian quantities: ``'cond_density'``, ``'erev'``
        (and ``'number'`` for populations, ``'permeability'`` or
        ``'v_shift'`` where given).
    ion_channels : dict
        Ion channel id -> the libNeuroML element defining it (from the file
        and its includes).
    sections : list of SectionInfo
        Every section with its path, naming group and, per compartment, the
        NeuroML segment it comes from.
    cell : neuroml.Cell
        The libNeuroML cell.
    file : str
        The absolute path of the file.

    Raises
    ------
    FileNotFoundError
        If the file (or, with ``require_includes``, a file it includes) does
        not exist.
    NMLImportError
        If the file cannot be read, has no cell, or not the one asked for,
        or a value has an unknown unit.
    NMLMorphologyError
        If the morphology is invalid (see `validate_morphology`).

    Examples
    --------
    >>> import os, tempfile
    >>> from brian2 import Soma, Cylinder, um
    >>> from brian2tools.nmlimport import write_morphology_nml
    >>> neuron = Soma(diameter=20*um)
    >>> neuron.dend = Cylinder(diameter=2*um, length=100*um, n=4)
    >>> path = write_morphology_nml(neuron, os.path.join(tempfile.mkdtemp(), 'n.cell.nml'))
    >>> imported = NMLMorphology(path)
    >>> [info.name for info in imported.sections]
    ['', 'dend']
    >>> print(imported.morphology.dend.length)
    [25. 25. 25. 25.] um
    >>> imported.segment_groups['dend']
    array([1, 2, 3, 4])
    """

    def __init__(self, file, name_heuristic: bool = True, cell_id: str | None = None,
                 use_divisions: bool = True, require_includes: bool = False):
        self.file = os.path.abspath(os.fspath(file))
        if not os.path.isfile(self.file):
            raise FileNotFoundError(f"NeuroML file {self.file} does not exist.")
        documents: dict = {}
        _load_documents(self.file, documents, require_includes)
        self.cell = self._select_cell(documents[self.file], cell_id)
        validate_morphology(self.cell)
        cell_id = self.cell.id
        morphology = self.cell.morphology
        groups = _resolve_groups(morphology, cell_id)
        group_elements = {group.id: group for group in morphology.segment_groups}
        by_id = {int(segment.id): segment for segment in morphology.segments}

        unbranched = [g.id for g in morphology.segment_groups if g.neuro_lex_id == SECTION_NEUROLEX_ID]
        divisions = {}
        for group_id in unbranched:
            value = _divisions(group_elements[group_id], cell_id)
            if value is not None:
                divisions[group_id] = value
        section_group_of = {}
        if unbranched:
            for group_id in reversed(unbranched):  # the first group listed wins
                for segment_id in groups[group_id]:
                    section_group_of[segment_id] = group_id
        else:
            # the smallest group a segment lies in (not one of all segments)
            candidates = sorted((len(groups[g]), position, g)
                                for position, g in enumerate(group_elements)
                                if len(groups[g]) < len(by_id))
            for _, _, group_id in reversed(candidates):
                for segment_id in groups[group_id]:
                    section_group_of[segment_id] = group_id

        def segments_of(ids):
            """The segments of the groups with one of these ids or NeuroLex ids."""
            found = set()
            for group_id, element in group_elements.items():
                if group_id in ids or element.neuro_lex_id in ids:
                    found.update(groups[group_id])
            return found

        soma_set, axon_set, dend_set = (segments_of(_SOMA_IDS), segments_of(_AXON_IDS),
                                        segments_of(_DEND_IDS))
        soma_segments, kind_of = set(), {}
        for segment_id, segment in by_id.items():
            name = (segment.name or "").lower()
            if segment_id in soma_set or "soma" in name:
                soma_segments.add(segment_id)
                kind_of[segment_id] = "soma"
            elif segment_id in axon_set or "axon" in name:
                kind_of[segment_id] = "axon"
            elif segment_id in dend_set or "dend" in name:
                kind_of[segment_id] = "dend"

        self.morphology, self.sections = build_morphology(
            morphology.segments, cell_id=cell_id, soma_segments=soma_segments,
            section_group_of=section_group_of,
            group_members={g: set(members) for g, members in groups.items()},
            divisions=divisions, kind_of=kind_of, name_heuristic=name_heuristic,
            use_divisions=use_divisions)

        # every compartment with its section and segment, to select groups at once
        compartments = np.concatenate([np.asarray(info.section.indices[:]).reshape(-1)
                                       for info in self.sections])
        owners = np.concatenate([info.compartment_segments for info in self.sections])
        section_of = np.concatenate([np.full(len(info.compartment_segments), position)
                                     for position, info in enumerate(self.sections)])
        self.segment_groups = {}
        self.group_sections = {}
        for group_id, members in groups.items():
            inside = np.isin(owners, np.asarray(members, dtype=int))
            self.segment_groups[group_id] = np.sort(compartments[inside]).astype(int)
            self.group_sections[group_id] = [self.sections[position].name
                                             for position in np.unique(section_of[inside])]

        self.ion_channels = {}
        for document in documents.values():
            for attribute in ("ion_channel", "ion_channel_hhs", "ion_channel_v_shifts",
                              "ion_channel_kses"):
                for channel in getattr(document, attribute, None) or []:
                    self.ion_channels[channel.id] = channel
        self.properties = self._read_properties()
        self.channel_properties = self._read_channels(groups)

    def _select_cell(self, document, cell_id):
        cells = list(document.cells)
        if not cells:
            raise NMLImportError(f"The NeuroML file {self.file} defines no <cell> (only cells "
                                 "with a morphology can be imported).")
        if cell_id is None:
            if len(cells) > 1:
                raise NMLImportError(
                    f"The NeuroML file {self.file} defines several cells "
                    f"({', '.join(c.id for c in cells)}); choose one with cell_id.")
            return cells[0]
        for cell in cells:
            if cell.id == cell_id:
                return cell
        raise NMLImportError(f"The NeuroML file {self.file} has no cell {cell_id!r} (its cells: "
                             f"{', '.join(c.id for c in cells)}).")

    def _quantity(self, text, what):
        try:
            return nml_quantity(text)
        except NMLImportError as exc:
            raise NMLImportError(f"Cell {self.cell.id}, {what}: {exc}") from None

    def _read_properties(self) -> dict:
        properties: dict = {}
        biophysics = self.cell.biophysical_properties
        if biophysics is None:
            return properties
        sources = [(biophysics.membrane_properties, _MEMBRANE_PROPERTIES),
                   (biophysics.intracellular_properties, _INTRACELLULAR_PROPERTIES)]
        for element, names in sources:
            if element is None:
                continue
            for name, attribute in names.items():
                for item in getattr(element, attribute) or []:
                    group = getattr(item, "segment_groups", None) or "all"
                    properties.setdefault(name, {})[group] = self._quantity(item.value, name)
        return properties

    def _read_channels(self, groups) -> dict:
        channels: dict = {}
        biophysics = self.cell.biophysical_properties
        membrane = biophysics.membrane_properties if biophysics is not None else None
        if membrane is None:
            return channels
        for element, (attribute, quantities) in _CHANNELS.items():
            for item in getattr(membrane, attribute, None) or []:
                entry = {"type": element, "ion_channel": item.ion_channel,
                         "ion": getattr(item, "ion", None),
                         "segment_group": getattr(item, "segment_groups", None) or "all"}
                if entry["segment_group"] not in groups:
                    raise NMLMorphologyError(
                        f"Cell {self.cell.id}: {element} {item.id!r} refers to the segment "
                        f"group {entry['segment_group']!r}, which does not exist.")
                for quantity in quantities:
                    text = getattr(item, quantity, None)
                    entry[quantity] = (None if text is None
                                       else self._quantity(text, f"{element} {item.id!r}"))
                if element == "channelPopulation":
                    entry["number"] = int(item.number)
                    if getattr(item, "segments", None) is not None:
                        entry["segment"] = int(item.segments)
                if item.ion_channel not in self.ion_channels:
                    logger.debug(f"cell {self.cell.id}: ion channel {item.ion_channel!r} is not "
                                 "defined in the file or its includes")
                channels[item.id] = entry
        for attribute in _NOT_IMPORTED:
            for item in getattr(membrane, attribute, None) or []:
                logger.warning(f"cell {self.cell.id}: the non-uniform channel density "
                               f"{item.id!r} is not imported", name_suffix="non_uniform")
        return channels

    def __repr__(self):
        return (f"<NMLMorphology of cell {self.cell.id!r} from {os.path.basename(self.file)!r}: "
                f"{len(self.sections)} sections, {self.morphology.total_compartments} "
                "compartments>")
