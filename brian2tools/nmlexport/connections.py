"""
The compact form of a network's connections: one short line per Brian synapse.

A network has hundreds of thousands of synapses, and what one connection line
holds sets the size of the model file. NeuroML's ``connectionWD`` spells out
an ``id``, ``preCellId``, ``postCellId``, a ``weight`` and a ``delay`` for
every synapse (about 130 bytes each for the CUBA network with Brian's default
names). In the compact form each set of connections (a projection's, or the
connections to one event port of the cells) gets a component type of its own
with a short name (``c0``, ``c1``, ...) that

* extends NeuroML's ``explicitConnection``, so that its connections are
  children of the ``network`` and name their cells relative to it
  (``P[12]``, where a connection inside a ``projection`` needs
  ``../P[12]``);
* sends each event to a new instance of a synapse component on the
  receiving cell (the synapse is a reference of the network's own type,
  `network_type`: jNeuroML reads the receiver of an event only from the
  connection or its parent), or to the port ``p`` of the receiving cell
  (jNeuroML reads a port name from each connection only, a name written in
  the type sends every event to the cell's first port);
* names its two cells ``f`` (the cell that fires) and ``t`` (the cell that
  receives);
* holds the weight ``w`` in the type when all its connections share it (the
  usual case: a weight of 1), as a parameter of each connection otherwise;
* gives each connection its delay ``d``: jNeuroML reads a delay from each
  connection's own attributes only (a constant of the type, a ``Fixed``
  value or a prototype's value is taken as 0). The delays are odd multiples
  of half a time step (see `~.network_parts.lems_delays`), written in the
  unit ``hdt`` that the model defines as half its time step
  (`half_step_unit`): ``1hdt``, ``19hdt``.

So a synapse costs ``<c0 f="P[12]" t="P[7]" d="1hdt"/>`` (and, for events
on the cell, ``<c1 f="P[12]" t="P[7]" p="S_pre" d="1hdt"/>``), written
without indentation. jNeuroML (jLEMS) reads these types like NeuroML's own
and simulates them identically (the tests compare both forms with Brian).
The portable form keeps NeuroML's standard ``projection`` and
``connectionWD`` elements, which jNeuroML's NEURON export (``jnml
-neuron``) needs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

import numpy as np
from brian2 import second

from .supporting import format_repeated
from .synapse_components import SynapticProjection
from .units import format_quantity, lems_dimension

__all__ = [
    "delay_note",
    "HALF_STEP",
    "shared_value",
    "half_step_unit",
    "network_type",
    "compact_connection_type",
    "compact_lines",
    "connection_type_for",
    "lines_for",
]

_TIME = lems_dimension(second)

#: The symbol of the unit of the compact connections' delays: half a time step
HALF_STEP = "hdt"


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


def half_step_unit(dt: float) -> ET.Element:
    """
    The LEMS unit ``hdt``, half the time step, in which the delays are written.

    Parameters
    ----------
    dt : float
        The time step (seconds).

    Returns
    -------
    Element

    Examples
    --------
    >>> ET.tostring(half_step_unit(0.0001))
    b'<Unit symbol="hdt" dimension="time" power="0" scale="5e-05" />'
    """
    return ET.Element("Unit", {"symbol": HALF_STEP, "dimension": _TIME.name, "power": "0",
                               "scale": repr(float(dt) / 2)})


def network_type(name: str, synapses: Iterable[str]) -> ET.Element:
    """
    A type of network that refers to the synapse components of its connections.

    A compact connection in the network names its synapse as ``../S_pre``:
    jNeuroML finds it among the references of the connection's parent. The
    network element takes this type (``<network type=...>``) and an
    attribute per synapse (``S_pre="S_pre"``).

    Parameters
    ----------
    name : str
        The type's name.
    synapses : iterable of str
        The ids of the synapse components.

    Returns
    -------
    Element

    Examples
    --------
    >>> element = network_type('network_with_synapses', ['S_pre'])
    >>> element.get('extends'), [c.attrib for c in element]
    ('network', [{'name': 'S_pre', 'type': 'baseSynapse'}])
    """
    element = ET.Element("ComponentType", {
        "name": name, "extends": "network",
        "description": "A network whose compact connections (c0, c1, ...) create instances "
                       "of these synapses on their receiving cells"})
    for synapse in dict.fromkeys(synapses):
        ET.SubElement(element, "ComponentReference", {"name": synapse, "type": "baseSynapse"})
    return element


def compact_connection_type(name: str, delays, weights=None, *, port: str | None = None,
                            synapse: str | None = None, description: str = "") -> ET.Element:
    """
    The component type of a set of compact connections.

    Parameters
    ----------
    name : str
        The type's name, which is also the tag of each connection line.
    delays : array of float
        The LEMS delay of each connection (seconds).
    weights : array of float, optional
        The weight of each connection, for connections to a ``synapse``;
        None for connections to the event ``port`` of the cells.
    port : str, optional
        The receiving cells' event port (connections without weights); each
        connection names it (see above).
    synapse : str, optional
        With weights: the id of the synapse component, a reference of the
        network (`network_type`).
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
    >>> element = compact_connection_type('c1', [5e-05, 0.00015], [1.0, 1.0], synapse='S_pre')
    >>> [(child.tag, child.get('name')) for child in element][:3]
    [('Path', 'f'), ('Path', 't'), ('Parameter', 'd')]
    >>> element.find('Structure/EventConnection').get('receiver')
    '../S_pre'
    >>> element.find('Structure/EventConnection/Assign').attrib  # the shared weight
    {'property': 'weight', 'value': '1'}
    """
    synaptic = weights is not None
    if synaptic and not synapse:
        raise ValueError(f"The connection type {name} with weights needs the id of its "
                         "synapse component.")
    attributes = {"name": name, "extends": "explicitConnection"}
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
            "from": "a", "to": "b", "receiver": f"../{synapse}", "delay": "d"})
        # a shared weight is written as a number: jNeuroML does not read a
        # constant of a connection type here either
        weight = "w" if shared_weight is None else format_repeated(
            np.array([shared_weight]))[0]
        ET.SubElement(connection, "Assign", {"property": "weight", "value": weight})
    else:
        ET.SubElement(structure, "EventConnection", {"from": "a", "to": "b",
                                                     "targetPort": "p", "delay": "d"})
    return element


def _delay_texts(values, half_step: float | None) -> list[str]:
    """Each distinct delay in ``hdt`` if it is a whole number of them, else in ms."""
    texts = []
    for value in values:
        halves = value / half_step if half_step else 0.5
        if half_step and round(halves) >= 1 and abs(halves - round(halves)) <= 1e-6:
            texts.append(f"{round(halves)}{HALF_STEP}")
        else:
            # in ms with 12 digits, without a space ("0.45ms"): a delay only has to fall
            # well inside its time step (see network_parts.lems_delays), so the exact
            # float (0.44999999999999996 ms) is not needed
            texts.append(f"{value * 1e3:.12g}ms")
    return texts


def compact_lines(name: str, sources, targets, delays, weights=None, port: str | None = None,
                  half_step: float | None = None) -> list[str]:
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
        The weights (connections to a synapse).
    port : str, optional
        The receiving port, for connections to the cells' ports.
    half_step : float, optional
        Half the time step (seconds): the delays that are whole multiples of
        it are written in the unit ``hdt`` (`half_step_unit`), the others
        (and all without it) in ms.

    Returns
    -------
    list of str

    Examples
    --------
    >>> compact_lines('c1', ['P[0]'], ['P[1]'], [5e-05], port='S_pre', half_step=5e-05)
    ['<c1 f="P[0]" t="P[1]" p="S_pre" d="1hdt"/>']
    >>> compact_lines('c0', ['P[0]', 'P[1]'], ['P[1]', 'P[0]'], [5e-05, 0.00095], [1.0, 0.5],
    ...               half_step=5e-05)  # doctest: +NORMALIZE_WHITESPACE
    ['<c0 f="P[0]" t="P[1]" w="1" d="1hdt"/>',
     '<c0 f="P[1]" t="P[0]" w="0.5" d="19hdt"/>']
    >>> compact_lines('c0', ['P[0]'], ['P[1]'], [5e-05], [1.0])
    ['<c0 f="P[0]" t="P[1]" d="0.05ms"/>']
    """
    columns = [("p", [port] * len(delays))] if port is not None else []
    if weights is not None and shared_value(weights) is None:
        columns.append(("w", format_repeated(np.asarray(weights, dtype=float))))
    distinct, index = np.unique(np.asarray(delays, dtype=float), return_inverse=True)
    texts = _delay_texts(distinct.tolist(), half_step)
    columns.append(("d", [texts[which] for which in np.asarray(index).ravel().tolist()]))
    sources, targets = list(sources), list(targets)
    extra = [" ".join(f'{key}="{value}"' for key, value in zip(
        [key for key, _ in columns], row, strict=True))
        for row in zip(*(texts for _, texts in columns), strict=True)]
    return [f'<{name} f="{source}" t="{target}" {more}/>'
            for source, target, more in zip(sources, targets, extra, strict=True)]


def connection_type_for(projection) -> ET.Element:
    """
    The compact connection type of a projection.

    Parameters
    ----------
    projection : Projection or SynapticProjection
        Connections to a port of the cells (`~.network_parts.Projection`,
        its type named by ``name``), or to instances of a synapse
        (`~.synapse_components.SynapticProjection`, its type named by
        ``connection``).

    Returns
    -------
    Element

    Examples
    --------
    >>> from brian2tools.nmlexport.network_parts import Projection
    >>> projection = Projection('c0', 'S_pre', np.array(['P[0]']), np.array(['P[1]']),
    ...                         np.array([5e-05]), origin='S (pre)', compact=True)
    >>> connection_type_for(projection).get('description')
    'S (pre): the spikes of the cell f to the port S_pre of the cell t, after the delay d'
    """
    if isinstance(projection, SynapticProjection):
        return compact_connection_type(
            projection.connection, projection.delays, projection.weights,
            synapse=projection.synapse,
            description=f"{projection.origin}: a synapse {projection.synapse} on the cell t "
                        "for the spikes of the cell f, with the weight w, after the delay d")
    return compact_connection_type(
        projection.name, projection.delays, port=projection.port,
        description=f"{projection.origin}: the spikes of the cell f to the port "
                    f"{projection.port} of the cell t, after the delay d")


def lines_for(projection, half_step: float | None = None) -> list[str]:
    """
    The compact connection lines of a projection (see `connection_type_for`).

    Parameters
    ----------
    projection : Projection or SynapticProjection
    half_step : float, optional
        Half the time step (seconds), for the delays (`compact_lines`).

    Returns
    -------
    list of str

    Examples
    --------
    >>> from brian2tools.nmlexport.network_parts import Projection
    >>> lines_for(Projection('c0', 'S_pre', np.array(['P[0]']), np.array(['P[1]']),
    ...                      np.array([5e-05]), compact=True), 5e-05)
    ['<c0 f="P[0]" t="P[1]" p="S_pre" d="1hdt"/>']
    """
    if isinstance(projection, SynapticProjection):
        return compact_lines(projection.connection, projection.sources, projection.targets,
                             projection.delays, projection.weights, half_step=half_step)
    return compact_lines(projection.name, projection.sources, projection.targets,
                         projection.delays, port=projection.port, half_step=half_step)


def delay_note(dt: float, after_update: bool = True) -> str:
    """
    The comment that explains the delays of the connections in the model file.

    Parameters
    ----------
    dt : float
        The time step (seconds).
    after_update : bool, optional
        Whether synaptic additions wait for the receiving cell's update
        (the default form) or act on arrival (the portable form).

    Returns
    -------
    str

    Examples
    --------
    >>> print(delay_note(1e-4, after_update=False).split(':')[0].strip())
    Every delay is Brian's delay plus half a time step (0.05 ms), also for synapses without a delay
    """
    half = format_quantity(dt / 2, _TIME)
    if not after_update:
        return (f" Every delay is Brian's delay plus half a time step ({half}), also for "
                "synapses without a delay: NEURON and jNeuroML report a spike one step "
                "after Brian, and the extra half step keeps each event in the step after "
                "the one in which Brian applies it, whatever the rounding of the clock. ")
    return (f" Delays: a delay of d >= 1 Brian time steps is written as Brian's delay minus "
            f"half a time step ({half}): jNeuroML reports a spike one step after Brian and "
            "delivers events at the start of a step, and the synapses and cells collect what "
            "an event adds (x__arriving) and add it after their update, in the step in which "
            f"Brian applies it. Synapses without a delay are written with {half}: their "
            "events change the state when they arrive, before the update of the next step, "
            "which gives Brian's new state; only the value recorded at that step lacks them. "
            "Connections c0, c1, ...: f fires, t receives (at the port p), d is the delay in "
            f"hdt, a unit of half a time step ({half}: 1hdt is {half}, 19hdt is 19 times "
            f"{half}), w the weight (a number in the connection type when all its "
            "connections share it). ")
