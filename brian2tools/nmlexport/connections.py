"""
The compact form of a network's connections: one short line per Brian synapse.

A network has hundreds of thousands of synapses, and what one connection line
holds sets the size of the model file. NeuroML's ``connectionWD`` spells out
an ``id``, ``preCellId``, ``postCellId``, a ``weight`` and a ``delay`` for
every synapse (about 130 bytes each for the CUBA network with Brian's default
names). In the compact form each set of connections (a projection's, or the
connections to one event port of the cells) gets a component type of its own
with a short name (``c0``, ``c1``, ...) that

* extends NeuroML's ``connection`` (inside a ``projection``: the event goes to
  a new instance of the projection's synapse on the receiving cell) or
  ``explicitConnection`` (in the ``network``: the event goes to the port
  ``p`` of the receiving cell; jNeuroML reads a port name from each
  connection only, a name written in the type sends every event to the
  cell's first port);
* names its two cells ``f`` (the cell that fires) and ``t`` (the cell that
  receives);
* holds the weight ``w`` in the type when all its connections share it (the
  usual case: a weight of 1), as a parameter of each connection otherwise;
* gives each connection its delay ``d``: jNeuroML reads a delay from each
  connection's own parameters only (a constant of the type, or a ``Fixed``
  value, is taken as 0).

So a synapse costs ``<c0 f="../P[12]" t="../P[7]" d="0.05ms"/>`` (and the
port, ``<c1 f="P[12]" t="P[7]" p="S_pre" d="0.05ms"/>``, for events on the
cell), written without indentation. jNeuroML (jLEMS) reads these types like NeuroML's own and simulates
them identically (the tests compare both forms with Brian). The portable form keeps NeuroML's standard
``connectionWD`` elements, which jNeuroML's NEURON export (``jnml -neuron``)
needs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
from brian2 import second

from .supporting import format_repeated
from .units import lems_dimension

__all__ = ["shared_value", "compact_connection_type", "compact_lines"]

_TIME = lems_dimension(second)


def shared_value(values) -> float | None:
    """
    The value all entries share, or None if they differ (or there are none).

    Parameters
    ----------
    values : array of float

    Returns
    -------
    float or None

    Examples
    --------
    >>> shared_value([0.5, 0.5]), shared_value([1, 2]), shared_value([])
    (0.5, None, None)
    """
    values = np.asarray(values, dtype=float)
    if len(values) and np.all(values == values[0]):
        return float(values[0])
    return None


def compact_connection_type(name: str, delays, weights=None, *, port: str | None = None,
                            description: str = "") -> ET.Element:
    """
    The component type of a set of compact connections.

    Parameters
    ----------
    name : str
        The type's name, which is also the tag of each connection line.
    delays : array of float
        The LEMS delay of each connection (seconds).
    weights : array of float, optional
        The weight of each connection, for connections to a projection's
        synapse; None for connections to the event ``port`` of the cells.
    port : str, optional
        The receiving cells' event port (connections without weights); each
        connection names it (see above).
    description : str, optional
        What the connections implement, for the reader.

    Returns
    -------
    Element

    Examples
    --------
    >>> element = compact_connection_type('c0', [5e-05, 5e-05], port='S_pre')
    >>> print(ET.tostring(element, encoding='unicode'))  # doctest: +NORMALIZE_WHITESPACE
    <ComponentType name="c0" extends="explicitConnection"><Path name="f" /><Path name="t" />\
<Text name="p" /><Parameter name="d" dimension="time" /><Structure>\
<With instance="f" as="a" /><With instance="t" as="b" /><EventConnection from="a" to="b" \
targetPort="p" delay="d" /></Structure></ComponentType>
    >>> element = compact_connection_type('c1', [5e-05, 0.00015], [1.0, 1.0])
    >>> [(child.tag, child.get('name')) for child in element][:3]
    [('Path', 'f'), ('Path', 't'), ('Parameter', 'd')]
    >>> element.find('Structure/EventConnection/Assign').attrib  # the shared weight
    {'property': 'weight', 'value': '1'}
    """
    synaptic = weights is not None
    attributes = {"name": name, "extends": "connection" if synaptic else "explicitConnection"}
    if description:
        attributes["description"] = description
    element = ET.Element("ComponentType", attributes)
    ET.SubElement(element, "Path", {"name": "f"})
    ET.SubElement(element, "Path", {"name": "t"})
    if not synaptic:
        ET.SubElement(element, "Text", {"name": "p"})
    shared_weight = shared_value(weights) if synaptic else None
    if synaptic and shared_weight is None:
        ET.SubElement(element, "Parameter", {"name": "w", "dimension": "none"})
    ET.SubElement(element, "Parameter", {"name": "d", "dimension": _TIME.name})
    structure = ET.SubElement(element, "Structure")
    ET.SubElement(structure, "With", {"instance": "f", "as": "a"})
    ET.SubElement(structure, "With", {"instance": "t", "as": "b"})
    if synaptic:
        connection = ET.SubElement(structure, "EventConnection", {
            "from": "a", "to": "b", "receiver": "../synapse", "delay": "d"})
        # a shared weight is written as a number: jNeuroML does not read a
        # constant of a connection type here either
        weight = "w" if shared_weight is None else format_repeated(
            np.array([shared_weight]))[0]
        ET.SubElement(connection, "Assign", {"property": "weight", "value": weight})
    else:
        ET.SubElement(structure, "EventConnection", {"from": "a", "to": "b",
                                                     "targetPort": "p", "delay": "d"})
    return element


def compact_lines(name: str, sources, targets, delays, weights=None,
                  prefix: str = "", port: str | None = None) -> list[str]:
    """
    One line per connection, with the values its type does not hold.

    Parameters
    ----------
    name : str
        The connection type (`compact_connection_type`).
    sources, targets : iterable of str
        The paths of the cells (``'P[3]'``).
    delays : array of float
        The LEMS delays (seconds).
    weights : array of float, optional
        The weights (connections to a projection's synapse).
    prefix : str, optional
        Put before each path: ``'../'`` inside a projection.
    port : str, optional
        The receiving port, for connections to the cells' ports.

    Returns
    -------
    list of str

    Examples
    --------
    >>> compact_lines('c1', ['P[0]'], ['P[1]'], [5e-05], port='S_pre')
    ['<c1 f="P[0]" t="P[1]" p="S_pre" d="0.05ms"/>']
    >>> compact_lines('c0', ['P[0]', 'P[1]'], ['P[1]', 'P[0]'], [5e-05, 5e-05], [1.0, 0.5],
    ...               prefix='../')
    ... # doctest: +NORMALIZE_WHITESPACE
    ['<c0 f="../P[0]" t="../P[1]" w="1" d="0.05ms"/>',
     '<c0 f="../P[1]" t="../P[0]" w="0.5" d="0.05ms"/>']
    """
    columns = [("p", [port] * len(delays))] if port is not None else []
    if weights is not None and shared_value(weights) is None:
        columns.append(("w", format_repeated(np.asarray(weights, dtype=float))))
    # in ms with 12 digits, without a space ("0.45ms"): a delay only has to fall
    # well inside its time step (see network_parts.lems_delays), so the exact
    # float (0.44999999999999996 ms) is not needed
    distinct, index = np.unique(np.asarray(delays, dtype=float), return_inverse=True)
    texts = [f"{value * 1e3:.12g}ms" for value in distinct.tolist()]
    columns.append(("d", [texts[which] for which in np.asarray(index).ravel().tolist()]))
    sources, targets = list(sources), list(targets)
    extra = [" ".join(f'{key}="{value}"' for key, value in zip(
        [key for key, _ in columns], row, strict=True))
        for row in zip(*(texts for _, texts in columns), strict=True)]
    return [f'<{name} f="{prefix}{source}" t="{prefix}{target}" {more}/>'
            for source, target, more in zip(sources, targets, extra, strict=True)]
