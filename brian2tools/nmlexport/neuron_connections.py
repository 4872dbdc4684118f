"""
The connections of a network for NEURON, read from the export instead of written by jNeuroML.

``jnml -neuron`` spends most of its time on a large network's connections:
it parses every ``connectionWD`` of the LEMS file and writes two hoc
statements for each (CUBA: 320,000 connections, 10 to 15 seconds and a
124 MB script, which the engine then rewrites as tables,
:func:`.neuron_code.compact_connections`). The export's own connections are
plain data, so the NEURON engine:

1. reads the projections of the LEMS file (`read_projections`; only the
   form the portable export writes, else the engine lets jNeuroML do it
   all);
2. gives jNeuroML a copy of the file with one connection per projection
   (`strip_connections`): the script it writes has each projection's hoc
   arrays, and one synapse and one ``NetCon`` line, from which the synapse
   type, the populations, the spike source and the threshold are read;
3. builds the tables of all connections from the export's numbers
   (`expand_connections`) for :func:`.neuron_code.compact_connections`,
   which writes them as loops, as it does with jNeuroML's lines.

The network NEURON builds is the same. The delays and weights are the
export's values with all their digits; jNeuroML writes them rounded to
single precision (a delay of ``1.0499999999999998 ms`` becomes ``1.05``, a
weight of ``1.0769230769230769`` becomes ``1.0769231``). The rounding of a
delay never moves an event to another step, since every delay is half a
step away from a step boundary (:mod:`.network_rendering`); that of a
weight changes traces in their 7th digit (tested).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .neuron_code import ConnectionColumns

__all__ = ["Projection", "read_projections", "strip_connections", "expand_connections",
           "stripped_path"]

_PROJECTION = re.compile(
    r'<projection id="(?P<id>[^"]+)" presynapticPopulation="(?P<pre>[^"]+)" '
    r'postsynapticPopulation="(?P<post>[^"]+)" synapse="(?P<synapse>[^"]+)">'
    r'(?P<body>.*?)</projection>', re.DOTALL)
_CONNECTION = re.compile(
    r'\s*<connectionWD id="\d+" preCellId="\.\./(?P<pre>\w+)\[(?P<i>\d+)\]" '
    r'postCellId="\.\./(?P<post>\w+)\[(?P<j>\d+)\]" weight="(?P<weight>[^"\s]+)" '
    r'delay="(?P<delay>[-+.\dEe]+) (?P<unit>s|ms|us)" />')
_MILLISECONDS = {"s": 1e3, "ms": 1.0, "us": 1e-3}
# the script's hoc arrays of one projection, and its connection lines
_ARRAY = re.compile(r'^(?P<start>\s*h\("objectvar (?P<name>(?:syn|netConn)_\w+))\[1\]("\))\s*$',
                    re.MULTILINE)
_SYNAPSE = re.compile(r'^\s*h\("(?P<post>\w+)\[\d+\] (?P<array>syn_\w+)\[0\] = '
                      r'new (?P<type>\w+)\(0\.5\)"\)\s*$', re.MULTILINE)
_NETCON = re.compile(
    r'^\s*h\("(?P<pre>\w+)\[\d+\] (?P<array>netConn_\w+)\[0\] = new NetCon\('
    r'(?:&v\(0\.5\)|(?P<source>\w+)\[\d+\]), (?P<synapses>syn_\w+)\[0\], '
    r'(?P<threshold>[-+.\dEe]+), [-+.\dEe]+, [-+.\dEe]+\)"\)\s*$', re.MULTILINE)


@dataclass
class Projection:
    """
    The connections of one projection of an export.

    Attributes
    ----------
    id, pre, post, synapse : str
        The projection's id, populations and synapse component.
    i, j : ndarray of int
        Each connection's pre- and post-synaptic cell (in the populations).
    weight, delay : ndarray of float
        Each connection's weight, and delay in ms.
    start, end : int
        Where the projection's connections are in the file's text.
    """

    id: str
    pre: str
    post: str
    synapse: str
    i: np.ndarray
    j: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    start: int
    end: int


def read_projections(text: str) -> dict | None:
    """
    The projections of a LEMS file's text, if all are in the portable export's form.

    Parameters
    ----------
    text : str
        The LEMS file's text.

    Returns
    -------
    dict or None
        Projection id -> `Projection`, in the file's order; None if the
        file has none, or a projection or connection of another form (then
        jNeuroML writes the connections itself).

    Examples
    --------
    >>> text = ('<projection id="p" presynapticPopulation="A" postsynapticPopulation="B" '
    ...         'synapse="s">\\n  <connectionWD id="0" preCellId="../A[1]" '
    ...         'postCellId="../B[2]" weight="1" delay="0.05 ms" />\\n</projection>')
    >>> projection = read_projections(text)['p']
    >>> projection.i, projection.j, projection.delay
    (array([1]), array([2]), array([0.05]))
    """
    if text.count("<projection ") == 0:
        return None
    projections = {}
    for found in _PROJECTION.finditer(text):
        body = found.group("body")
        rows = _CONNECTION.findall(body)
        # everything in the body must be such a connection
        if not rows or len(rows) != body.count("<"):
            return None
        pre, i, post, j, weight, delay, unit = (np.array(column) for column in zip(*rows, strict=True))
        if np.any(pre != found.group("pre")) or np.any(post != found.group("post")):
            return None
        milliseconds = delay.astype(float)
        for symbol, factor in _MILLISECONDS.items():
            milliseconds[unit == symbol] *= factor
        projections[found.group("id")] = Projection(
            found.group("id"), found.group("pre"), found.group("post"), found.group("synapse"),
            i.astype(np.int64), j.astype(np.int64), weight.astype(float), milliseconds,
            found.start("body"), found.end("body"))
    if len(projections) != text.count("<projection "):
        return None
    return projections


def strip_connections(text: str, projections: dict) -> str:
    """
    The LEMS text with only the first connection of each projection.

    Parameters
    ----------
    text : str
        The LEMS file's text.
    projections : dict
        As `read_projections` returns for it.

    Returns
    -------
    str

    Examples
    --------
    >>> text = ('<projection id="p" presynapticPopulation="A" postsynapticPopulation="B" '
    ...         'synapse="s">\\n  <connectionWD id="0" preCellId="../A[1]" '
    ...         'postCellId="../B[2]" weight="1" delay="0.05 ms" />\\n  <connectionWD id="1" '
    ...         'preCellId="../A[0]" postCellId="../B[0]" weight="1" delay="0.05 ms" />\\n'
    ...         '</projection>')
    >>> strip_connections(text, read_projections(text)).count('<connectionWD')
    1
    """
    pieces, position = [], 0
    for projection in projections.values():
        body = text[projection.start:projection.end]
        first = _CONNECTION.match(body)
        pieces += [text[position:projection.start], first.group(0), "\n    "]
        position = projection.end
    pieces.append(text[position:])
    return "".join(pieces)


def expand_connections(script_text: str, projections: dict, share: bool) -> tuple[str, dict]:
    """
    The tables of every connection, from the one-connection script jNeuroML wrote.

    Parameters
    ----------
    script_text : str
        The script jNeuroML wrote for `strip_connections`'s text.
    projections : dict
        As `read_projections` returns for the full file.
    share : bool
        Give all connections of one synapse type onto one cell one point
        process (as :func:`.neuron_code.share_synapses` does).

    Returns
    -------
    str
        The script with each projection's hoc arrays sized for all its
        connections.
    dict
        Name of a projection's synapse array -> its connections as
        :class:`.neuron_code.ConnectionColumns`, for
        :func:`.neuron_code.compact_connections`.

    Raises
    ------
    ValueError
        If the script does not have the lines of a projection.

    Examples
    --------
    >>> text = ('<projection id="p" presynapticPopulation="A" postsynapticPopulation="B" '
    ...         'synapse="s">\\n  <connectionWD id="0" preCellId="../A[1]" '
    ...         'postCellId="../B[2]" weight="1" delay="0.05 ms" />\\n  <connectionWD id="1" '
    ...         'preCellId="../A[0]" postCellId="../B[2]" weight="2" delay="0.15 ms" />\\n'
    ...         '</projection>')
    >>> script = ('        h("objectvar syn_p_s[1]")\\n'
    ...           '        h("objectvar netConn_p_s[1]")\\n'
    ...           '        h("B[2] syn_p_s[0] = new s(0.5)")\\n'
    ...           '        h("A[1] netConn_p_s[0] = new NetCon(&v(0.5), syn_p_s[0], -50.0, '
    ...           '0.05, 1.0)")\\n')
    >>> script, expanded = expand_connections(script, read_projections(text), share=True)
    >>> script.splitlines()[0].strip()
    'h("objectvar syn_p_s[2]")'
    >>> columns = expanded['syn_p_s']
    >>> columns.created, columns.same  # the second shares the first's point process
    ({('B', 'syn_p_s', 's'): {'j': [2], 'k': [0]}}, {('syn_p_s', 'syn_p_s'): {'k': [1], 'first': [0]}})
    >>> netcons = columns.netcons[('A', 'netConn_p_s', 'syn_p_s', '')]
    >>> netcons['i'], netcons['delay'], netcons['weight']
    (array([1, 0]), array([0.05, 0.15]), array([1., 2.]))
    """
    synapse_lines = {m.group("array"): m for m in _SYNAPSE.finditer(script_text)}
    netcon_lines = {m.group("synapses"): m for m in _NETCON.finditer(script_text)}
    sizes = {}
    expanded = {}
    first: dict[tuple, tuple] = {}
    for projection in projections.values():
        array = f"syn_{projection.id}_{projection.synapse}"
        synapse, netcon = synapse_lines.get(array), netcon_lines.get(array)
        if synapse is None or netcon is None or synapse.group("post") != projection.post:
            raise ValueError(f"jNeuroML's script has no connection lines for projection "
                             f"{projection.id}")
        count = len(projection.i)
        sizes[array] = sizes[netcon.group("array")] = count
        kind = synapse.group("type")
        columns = ConnectionColumns()
        created, same = {"j": [], "k": []}, {}
        for k, j in enumerate(projection.j.tolist()):
            key = (projection.post, j, kind)
            if share and key in first:
                origin, at = first[key]
                group = same.setdefault(origin, {"k": [], "first": []})
                group["k"].append(k)
                group["first"].append(at)
                continue
            first.setdefault(key, (array, k))
            created["j"].append(j)
            created["k"].append(k)
        if created["k"]:
            columns.created[(projection.post, array, kind)] = created
        columns.same = {(array, origin): group for origin, group in same.items()}
        source = netcon.group("source")
        columns.netcons[(projection.pre, netcon.group("array"), array, source or "")] = {
            "i": projection.i, "s": projection.i if source else np.zeros(count, np.int64),
            "k": np.arange(count), "threshold": np.full(count, float(netcon.group("threshold"))),
            "delay": projection.delay, "weight": projection.weight}
        expanded[array] = columns

    def resize(match: re.Match) -> str:
        size = sizes.get(match.group("name"))
        return match.group(0) if size is None else f'{match.group("start")}[{size}]")'

    return _ARRAY.sub(resize, script_text), expanded


def stripped_path(lems_file: Path) -> Path:
    """
    Where the one-connection copy of a LEMS file goes (beside it, for its includes).

    Parameters
    ----------
    lems_file : Path
        The LEMS file.

    Returns
    -------
    Path

    Examples
    --------
    >>> stripped_path(Path('model.xml')).name
    'model__b2t_neuron.xml'
    """
    return lems_file.with_name(f"{lems_file.stem}__b2t_neuron{lems_file.suffix}")
