"""
One NEURON mechanism per cell type, not per cell component.

jNeuroML's NEURON writer (``jnml model.xml -neuron``) writes one NMODL file
per cell *component*. The portable form of the export has one component per
distinct set of cell values (standard NeuroML has no per-cell values), so a
group whose cells all differ (random initial values) gives one NMODL file
per cell, and ``nrnivmodl`` compiles each (about a second each: hours for
the 4000 cells of the CUBA network).

The files of the components of one cell type differ only in the name of the
mechanism and in the default values of its parameters, and the script
jNeuroML writes sets every parameter of every cell explicitly after creating
it (``h.m_<mechanism>_<population>[i].v0 = 11.515152``). So one mechanism per
type is the same model: `share_mechanisms` keeps the first file of each set
of identical files (identical once the name and the defaults are set
aside), makes the script create that mechanism for the other components,
and deletes their files. It checks, for each merged component, that the
script sets every parameter whose default differs; otherwise the component
keeps its own file.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["share_mechanisms", "share_synapses"]

_TITLE = re.compile(r"^TITLE .*$", re.MULTILINE)
_POINT_PROCESS = re.compile(r"^(\s*POINT_PROCESS\s+)(\w+)", re.MULTILINE)
_PARAMETER_BLOCK = re.compile(r"^PARAMETER\s*\{(.*?)^\}", re.MULTILINE | re.DOTALL)
_PARAMETER = re.compile(r"^\s*(\w+)\s*=\s*([^\s:(]+)", re.MULTILINE)


def _shape(text: str) -> tuple[str, dict[str, str]]:
    """The file without its title, name and parameter defaults; and those defaults."""
    block = _PARAMETER_BLOCK.search(text)
    defaults = dict(_PARAMETER.findall(block.group(1))) if block else {}
    shape = _TITLE.sub("", text)
    shape = _POINT_PROCESS.sub(r"\1MECHANISM", shape)
    if block:
        shape = shape.replace(block.group(1), "\n".join(sorted(defaults)))
    return shape, defaults


def share_mechanisms(mod_files: list[Path], script: Path) -> list[Path]:
    """
    Merge the NMODL files of components of one cell type into one mechanism.

    Parameters
    ----------
    mod_files : list of Path
        The NMODL files jNeuroML wrote (changed: merged ones are deleted).
    script : Path
        The Python script jNeuroML wrote (changed: the merged components'
        cells are created with the kept mechanism).

    Returns
    -------
    list of Path
        The NMODL files left to compile.

    Examples
    --------
    >>> share_mechanisms([], Path('model_nrn.py'))
    []
    """
    if not mod_files:
        return []
    text = script.read_text()
    kept: dict[str, tuple[str, dict[str, str]]] = {}  # shape -> (mechanism, defaults)
    renamed: dict[str, str] = {}
    for path in mod_files:
        content = path.read_text()
        match = _POINT_PROCESS.search(content)
        if match is None:  # a density mechanism (or anything else): left alone
            continue
        name = match.group(2)
        shape, defaults = _shape(content)
        if shape not in kept:
            kept[shape] = (name, defaults)
            continue
        target, target_defaults = kept[shape]
        differing = {parameter for parameter, value in defaults.items()
                     if target_defaults.get(parameter) != value}
        # every differing parameter must be set on each cell by the script
        assigned = set(re.findall(rf"h\.m_{re.escape(name)}_\w+\[i\]\.(\w+) = ", text))
        if not differing <= assigned:
            continue
        renamed[name] = target
    if not renamed:
        return list(mod_files)
    pattern = re.compile(r"new (" + "|".join(map(re.escape, renamed)) + r")\(")
    text = pattern.sub(lambda match: f"new {renamed[match.group(1)]}(", text)
    script.write_text(text)
    remaining = []
    for path in mod_files:
        match = _POINT_PROCESS.search(path.read_text())
        if match is not None and match.group(2) in renamed:
            path.unlink()
        else:
            remaining.append(path)
    return remaining


_NEW_SYNAPSE = re.compile(
    r'^(?P<indent>\s*)h\("(?P<section>\S+) (?P<name>syn_\w+\[\d+\]) = new (?P<type>\w+)\(0\.5\)"\)\s*$',
    re.MULTILINE)


def share_synapses(script: Path) -> int:
    """
    One synapse point process per cell and synapse type, not per connection.

    jNeuroML's NEURON script creates a point process for every connection.
    The synapses of the portable form are linear (a state that decays
    linearly and jumps by the connection's weight), so the synapses of one
    type on one cell add up to one synapse that receives all their events
    with their weights: the script is made to create the first and to give
    the others' connections to it. Exact, and the cost of a network is then
    that of its cells, not of its synapses.

    Parameters
    ----------
    script : Path
        The Python script jNeuroML wrote (changed in place).

    Returns
    -------
    int
        The number of point processes no longer created.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / 'model_nrn.py'
    >>> _ = path.write_text('        h("P[0] syn_a[0] = new S(0.5)")\\n'
    ...                     '        h("P[0] syn_a[1] = new S(0.5)")\\n')
    >>> share_synapses(path), path.read_text().splitlines()[1].strip()
    (1, 'h("syn_a[1] = syn_a[0]")')
    """
    text = script.read_text()
    first: dict[tuple[str, str], str] = {}
    shared = 0

    def replace(match: re.Match) -> str:
        nonlocal shared
        key = (match.group("section"), match.group("type"))
        if key not in first:
            first[key] = match.group("name")
            return match.group(0)
        shared += 1
        return f'{match.group("indent")}h("{match.group("name")} = {first[key]}")'

    text = _NEW_SYNAPSE.sub(replace, text)
    if shared:
        script.write_text(text)
    return shared
