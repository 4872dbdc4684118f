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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["ConnectionColumns", "share_mechanisms", "share_synapses", "compact_connections",
           "exact_capacitance"]

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


# The connection lines of jNeuroML's script (after `share_synapses`), one hoc
# statement each: hoc parses every one of them, and Python compiles the script
# as one function of millions of lines.
_SYNAPSE_LINE = re.compile(
    r'^\s*h\("(?P<post>\w+)\[(?P<j>\d+)\] (?P<array>syn_\w+)\[(?P<k>\d+)\] = '
    r'new (?P<type>\w+)\(0\.5\)"\)\s*$')
_SHARED_LINE = re.compile(
    r'^\s*h\("(?P<array>syn_\w+)\[(?P<k>\d+)\] = (?P<origin>syn_\w+)\[(?P<first>\d+)\]"\)\s*$')
_NETCON_LINE = re.compile(
    r'^\s*h\("(?P<pre>\w+)\[(?P<i>\d+)\] (?P<array>netConn_\w+)\[(?P<k>\d+)\] = new NetCon\('
    r'(?:&v\(0\.5\)|(?P<source>\w+)\[(?P<s>\d+)\]), (?P<synapses>syn_\w+)\[(?P=k)\], '
    r'(?P<threshold>[-+.\dEe]+), (?P<delay>[-+.\dEe]+), (?P<weight>[-+.\dEe]+)\)"\)\s*$')
_CONNECTION_COMMENT = re.compile(r"^\s*# Connection \d+: .*$")

#: Defined once in the script, used by the compact connection blocks
_CONNECT_FUNCTIONS = '''
import os as _b2t_os

import numpy as _b2t_numpy

_b2t_tables = _b2t_numpy.load(_b2t_os.path.join(_b2t_os.path.dirname(
    _b2t_os.path.abspath(__file__)), TABLE_FILE))


def _b2t_table(name):
    """A table of the connections (written by brian2tools beside this script)."""
    return _b2t_tables[name].tolist()


def _b2t_synapses(h, post, array, kind, j, k):
    """New point processes of type kind on post[j], stored at array[k]."""
    cells, synapses, make = getattr(h, post), getattr(h, array), getattr(h, kind)
    for jj, kk in zip(j, k):
        synapses[kk] = make(cells[jj](0.5))


def _b2t_same(h, array, origin, k, first):
    """array[k] is the point process origin[first] (a shared synapse)."""
    synapses, origins = getattr(h, array), getattr(h, origin)
    for kk, ff in zip(k, first):
        synapses[kk] = origins[ff]


def _b2t_netcons(h, pre, array, synapses, source, i, s, k, threshold, delay, weight):
    """NetCons from v(0.5) of pre[i] (or from source[s]) to synapses[k]."""
    cells, netcons, targets = getattr(h, pre), getattr(h, array), getattr(h, synapses)
    sources = getattr(h, source) if source else None
    for ii, ss, kk, th, de, we in zip(i, s, k, threshold, delay, weight):
        if sources is None:
            cell = cells[ii]
            netcons[kk] = h.NetCon(cell(0.5)._ref_v, targets[kk], th, de, we, sec=cell)
        else:
            netcons[kk] = h.NetCon(sources[ss], targets[kk], th, de, we)

'''


class _Tables:
    """The number tables of the compact connections, kept out of the script's source."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def add(self, values, dtype) -> str:
        name = f"t{len(self.arrays)}"
        self.arrays[name] = np.asarray(values, dtype=dtype)
        return f"_b2t_table({name!r})"


@dataclass
class ConnectionColumns:
    """
    Connections of a script as columns of numbers, grouped by the arrays they fill.

    Attributes
    ----------
    created : dict
        ``(post population, synapse array, synapse type)`` -> ``{'j': cells,
        'k': positions in the array}``: new point processes.
    same : dict
        ``(synapse array, origin array)`` -> ``{'k': positions, 'first':
        positions in the origin}``: shared point processes.
    netcons : dict
        ``(pre population, NetCon array, synapse array, source array or '')``
        -> columns ``i``, ``s``, ``k``, ``threshold``, ``delay``, ``weight``.
    """

    created: dict = field(default_factory=dict)
    same: dict = field(default_factory=dict)
    netcons: dict = field(default_factory=dict)


def _columns_of(synapses: list, netcons: list) -> ConnectionColumns:
    """The columns of a run of the script's connection lines (their matches)."""
    columns = ConnectionColumns()
    for match in synapses:
        if "origin" in match:
            group = columns.same.setdefault((match["array"], match["origin"]),
                                            {"k": [], "first": []})
            group["first"].append(int(match["first"]))
        else:
            group = columns.created.setdefault((match["post"], match["array"], match["type"]),
                                               {"j": [], "k": []})
            group["j"].append(int(match["j"]))
        group["k"].append(int(match["k"]))
    names = ("i", "s", "k", "threshold", "delay", "weight")
    for match in netcons:
        key = (match["pre"], match["array"], match["synapses"], match["source"] or "")
        group = columns.netcons.setdefault(key, {name: [] for name in names})
        for name in ("i", "s", "k"):
            group[name].append(int(match[name] or 0))
        # float() of the script's text is the value Python would have read from it
        for name in ("threshold", "delay", "weight"):
            group[name].append(float(match[name]))
    return columns


def _block_code(indent: str, columns: ConnectionColumns, tables: _Tables) -> list[str]:
    """The compact form of some connections: calls that read the tables."""
    lines = []
    for (post, array, kind), group in columns.created.items():
        j, k = tables.add(group["j"], np.int64), tables.add(group["k"], np.int64)
        lines.append(f"{indent}_b2t_synapses(h, {post!r}, {array!r}, {kind!r}, {j}, {k})")
    for (array, origin), group in columns.same.items():
        k, first = tables.add(group["k"], np.int64), tables.add(group["first"], np.int64)
        lines.append(f"{indent}_b2t_same(h, {array!r}, {origin!r}, {k}, {first})")
    for (pre, array, synapses_array, source), group in columns.netcons.items():
        names = [tables.add(group[name], np.int64) for name in ("i", "s", "k")] + \
            [tables.add(group[name], np.float64) for name in ("threshold", "delay", "weight")]
        lines.append(f"{indent}_b2t_netcons(h, {pre!r}, {array!r}, {synapses_array!r}, "
                     f"{source!r}, {', '.join(names)})")
    return lines


def compact_connections(script: Path, expanded: dict | None = None) -> int:
    """
    Write the connections of jNeuroML's NEURON script as loops over tables.

    jNeuroML's script creates each synapse and each ``NetCon`` with a hoc
    statement of its own (two lines per connection: 260,000 connections are
    a million-line Python function that hoc then parses line by line). The
    connection lines are replaced by one call per projection to two small
    functions that create the same objects, in the same hoc arrays, with the
    same thresholds, delays and weights, from tables of numbers. Exact: the
    network is the same, only built faster.

    Parameters
    ----------
    script : Path
        The Python script jNeuroML wrote (changed in place), after
        `share_synapses` if that is used.
    expanded : dict, optional
        Name of a projection's synapse array -> `ConnectionColumns` of all
        its connections, which replace that projection's lines in the script
        (:func:`.neuron_connections.expand_connections`).

    Returns
    -------
    int
        The number of connection lines replaced. The tables of numbers are
        in ``<script stem>_tables.npz`` beside the script.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / 'model_nrn.py'
    >>> _ = path.write_text(
    ...     'from neuron import h\\n'
    ...     'class NeuronSimulation:\\n'
    ...     '    def __init__(self):\\n'
    ...     '        h("P[1] syn_a[0] = new S(0.5)")\\n'
    ...     '        h("P[0] nc_a[0] = new NetCon(&v(0.5), syn_a[0], -50.0, 1.05, 1.0)")\\n'
    ...     .replace('nc_a', 'netConn_a'))
    >>> compact_connections(path)
    2
    >>> [line.strip() for line in path.read_text().splitlines()
    ...  if line.strip().startswith(('_b2t_synapses(', '_b2t_netcons('))]  # doctest: +ELLIPSIS
    ["_b2t_synapses(h, 'P', 'syn_a', 'S', _b2t_table('t0'), _b2t_table('t1'))", "_b2t_netcons(...)"]
    >>> sorted(np.load(path.with_name('model_nrn_tables.npz')).files)[:3]
    ['t0', 't1', 't2']
    """
    lines = script.read_text().splitlines()
    output: list[str] = []
    replaced = 0
    synapses: list = []
    netcons: list = []
    indent = ""

    tables = _Tables()

    def flush():
        if synapses or netcons:
            output.extend(_block_code(indent, _columns_of(synapses, netcons), tables))
            synapses.clear()
            netcons.clear()

    expanded = expanded or {}
    # the NetCon arrays of the expanded projections: their lines in the script go
    skipped = {key[1] for columns in expanded.values() for key in columns.netcons}
    for line in lines:
        new = _SYNAPSE_LINE.match(line)
        shared = None if new else _SHARED_LINE.match(line)
        netcon = None if new or shared else _NETCON_LINE.match(line)
        if new or shared or netcon:
            if not (synapses or netcons):
                indent = line[:len(line) - len(line.lstrip())]
            if new and new.group("array") in expanded:
                # all of the projection's connections, where its first was
                flush()
                output.extend(_block_code(indent, expanded[new.group("array")], tables))
            elif netcon and netcon.group("array") in skipped:
                pass
            elif new:
                synapses.append(new.groupdict())
            elif shared:
                synapses.append(shared.groupdict())
            else:
                netcons.append(netcon.groupdict())
            replaced += 1
            continue
        if _CONNECTION_COMMENT.match(line) or (not line.strip() and (synapses or netcons)):
            continue  # the comments and blank lines between connections go with them
        flush()
        output.append(line)
    flush()
    if not replaced:
        return 0
    # the tables beside the script (Python compiles a script of list literals
    # slowly: 4.7 s for CUBA's), the functions before its first class or def
    table_file = script.with_name(script.stem + "_tables.npz")
    np.savez(table_file, **tables.arrays)
    for position, line in enumerate(output):
        if line.startswith(("class ", "def ")):
            output[position:position] = _CONNECT_FUNCTIONS.replace(
                "TABLE_FILE", repr(table_file.name)).splitlines()
            break
    script.write_text("\n".join(output) + "\n")
    return replaced


# jNeuroML gives an abstract cell's section (10 um long, 10 um wide) the
# specific capacitance of 1 nF, rounded: 318.31 uF/cm2
_ROUNDED_CM = re.compile(r"^(\s*h\.\w+\[i\]\(0\.5\)\.cm = )318\.31( #.*)?$", re.MULTILINE)
#: 1 nF over the section's area (pi * 10 um * 10 um), in uF/cm2
EXACT_CM = 1e-3 / (np.pi * 10e-4 * 10e-4)


def exact_capacitance(script: Path) -> int:
    """
    Give abstract cells' sections exactly 1 nF, as the mechanisms assume.

    jNeuroML's script sets their specific capacitance to ``318.31`` uF/cm2,
    which makes the section's capacitance 0.99999 nF: the mechanisms turn
    the rate of ``v`` into a current for 1 nF, so ``v`` changed 3e-6
    (relative) too fast, enough for a chaotic network to part from the same
    network in NetPyNE (which gives its cells 1 nF exactly).

    Parameters
    ----------
    script : Path
        The Python script jNeuroML wrote (changed in place).

    Returns
    -------
    int
        The number of populations changed.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / 'model_nrn.py'
    >>> _ = path.write_text('            h.P__0[i](0.5).cm = 318.31 # See the issue\\n')
    >>> exact_capacitance(path), path.read_text().strip()
    (1, 'h.P__0[i](0.5).cm = 318.3098861837907 # See the issue')
    """
    text, count = _ROUNDED_CM.subn(lambda m: f"{m.group(1)}{EXACT_CM!r}{m.group(2) or ''}",
                                   script.read_text())
    if count:
        script.write_text(text)
    return count
