"""
The network's ports and connections written as LEMS.

`add_event_ports` gives a cell component type (pylems) the input ports of
its synapses and inputs (`~.network_parts.EventPort`), with the
``OnCondition`` that adds the collected arrivals after the cell's update
(see `~.network_parts.lems_delays`); `connection_type_element` and
`connection_lines` write the connections of a `~.network_parts.Projection`,
in the compact form of :mod:`.connections` or as components of a type
extending NeuroML's ``explicitConnection``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from brian2 import second
from brian2.utils.logger import get_logger

from .connections import connection_type_for, lines_for
from .network_parts import EventPort, Projection
from .network_pathways import _assignment
from .supporting import format_repeated
from .synapse_components import arriving_name
from .units import format_quantity, lems_dimension

__all__ = ["add_event_ports", "connection_type_element", "connection_lines"]

logger = get_logger(__name__)

_TIME = lems_dimension(second)


def add_event_ports(cell_type, ports: list[EventPort]) -> set:
    """
    Give a cell component type (pylems) the input ports of its synapses and inputs.

    Parameters
    ----------
    cell_type : lems.ComponentType
        The cell type (modified in place).
    ports : list of EventPort
        The ports of this cell type.

    Returns
    -------
    set of LEMSDimension
        The dimensions of the constants added (the model must declare those
        that NeuroML does not define).

    Examples
    --------
    >>> import lems.api as lems
    >>> from brian2 import mV
    >>> cell = lems.ComponentType('P_cell', extends='baseCell')
    >>> sorted(d.name for d in add_event_ports(
    ...     cell, [EventPort('P', 'S_pre', [('v', 'v + (S__w)')], {'S__w': 1*mV})]))
    ['voltage']
    >>> '<OnEvent port="S_pre"><StateAssignment variable="v" value="v + (S__w)"/>' \\
    ...     in cell.toxml()
    True
    """
    import lems.api as lems

    declared = set(cell_type.constants) | set(cell_type.parameters)
    dimensions = set()
    for port in ports:
        for name, (unit, _) in port.per_cell.items():
            dimension = lems_dimension(unit, port.origin or port.group)
            dimensions.add(dimension)
            cell_type.add(lems.Parameter(name, dimension.name))
            declared.add(name)
        for name, value in port.constants.items():
            if name in declared:
                continue
            dimension = lems_dimension(value, port.origin or port.group)
            dimensions.add(dimension)
            cell_type.add(lems.Constant(name, format_quantity(value, dimension),
                                        dimension.name))
            declared.add(name)
        cell_type.add(lems.EventPort(port.port, "in"))
        handler = lems.OnEvent(port.port)
        for variable, value in port.statements:
            handler.add(lems.StateAssignment(variable, value))
        cell_type.dynamics.add(handler)
        _add_arrivals(cell_type, port.arrivals)
        if port.now_port:
            cell_type.add(lems.EventPort(port.now_port, "in"))
            handler = lems.OnEvent(port.now_port)
            for variable, value in port.now_statements:
                handler.add(lems.StateAssignment(variable, value))
            cell_type.dynamics.add(handler)
    return dimensions


_ALWAYS = "t .geq. 0"


def _add_arrivals(cell_type, arrivals: Mapping[str, str | None]):
    """
    Let the cell add the collected arrivals after its update (see `lems_delays`).

    One ``OnCondition`` that is always true, placed right after the
    threshold's (so that, as in Brian, the threshold tests the state before
    the arrivals, and what a recorded value or the refractoriness computes
    after them includes them), adds each ``x__arriving`` to ``x`` through
    the variable's gate and sets it back to 0.
    """
    import lems.api as lems

    if not arrivals:
        return
    dynamics = cell_type.dynamics
    handlers = dynamics.event_handlers
    apply = next((handler for handler in handlers
                  if getattr(handler, "brian2tools_arrivals", False)), None)
    if apply is None:
        apply = lems.OnCondition(_ALWAYS)
        apply.brian2tools_arrivals = True
        conditions = [index for index, handler in enumerate(handlers)
                      if isinstance(handler, lems.OnCondition)]
        spiking = [index for index in conditions
                   if any(isinstance(action, lems.EventOut) and action.port == "spike"
                          for action in handlers[index].actions)]
        position = (spiking[0] + 1 if spiking else conditions[0] if conditions
                    else len(handlers))
        handlers.insert(position, apply)
    declared = {action.variable for action in apply.actions}
    for variable, gate in arrivals.items():
        arriving = arriving_name(variable)
        if arriving in declared:
            continue
        dimension = dynamics.state_variables[variable].dimension
        dynamics.add(lems.StateVariable(arriving, dimension))
        apply.add(lems.StateAssignment(variable, _assignment(variable, "+=", arriving, gate)))
        apply.add(lems.StateAssignment(arriving, "0"))
        declared.add(arriving)


def connection_type_element(projection: Projection) -> ET.Element:
    """
    The connection component type of a projection.

    In the compact form (:mod:`.connections`), a type with a short name
    whose connections name their cells ``f``, ``t``, the port ``p`` and the
    delay ``d``. Otherwise a type
    that extends NeuroML's ``explicitConnection`` (so that its components go
    in a ``network``) with a ``delay`` and an ``EventConnection`` from the
    cell ``from`` to the port ``targetPort`` of the cell ``to``, each given
    by every connection. Written as XML directly: pylems's
    ``EventConnection`` has no ``delay``.

    Parameters
    ----------
    projection : Projection

    Returns
    -------
    Element

    Examples
    --------
    >>> import numpy as np
    >>> import xml.etree.ElementTree as ET
    >>> projection = Projection('S_pre_connection', 'S_pre', np.array(['P[0]']),
    ...                         np.array(['P[1]']), np.array([5e-05]))
    >>> print(ET.tostring(connection_type_element(projection), encoding='unicode'))
    ... # doctest: +NORMALIZE_WHITESPACE
    <ComponentType name="S_pre_connection" extends="explicitConnection"><Path name="from" />\
<Path name="to" /><Text name="targetPort" /><Parameter name="delay" dimension="time" />\
<Structure><With instance="from" as="a" /><With instance="to" as="b" /><EventConnection \
from="a" to="b" targetPort="targetPort" delay="delay" /></Structure></ComponentType>
    """
    if projection.compact:
        return connection_type_for(projection)
    element = ET.Element("ComponentType", {"name": projection.name,
                                           "extends": "explicitConnection"})
    ET.SubElement(element, "Path", {"name": "from"})
    ET.SubElement(element, "Path", {"name": "to"})
    ET.SubElement(element, "Text", {"name": "targetPort"})
    ET.SubElement(element, "Parameter", {"name": "delay", "dimension": _TIME.name})
    structure = ET.SubElement(element, "Structure")
    ET.SubElement(structure, "With", {"instance": "from", "as": "a"})
    ET.SubElement(structure, "With", {"instance": "to", "as": "b"})
    ET.SubElement(structure, "EventConnection", {"from": "a", "to": "b",
                                                 "targetPort": "targetPort",
                                                 "delay": "delay"})
    return element


def connection_lines(projection: Projection, half_step: float | None = None) -> list[str]:
    """
    One line of XML per connection: ``<c0 f="P[0]" t="P[5]" p="S_pre" d="1hdt"/>``.

    Written as text rather than as ElementTree elements: a network has
    hundreds of thousands of connections, and elements cost about a
    microsecond and half a kilobyte each (the export of the CUBA network
    took 2.3 s and 510 MB with elements). The values are Brian names
    (identifiers) and numbers, which need no escaping. In the compact form
    (:mod:`.connections`) a line holds the two cells, the port and the delay.

    Parameters
    ----------
    projection : Projection
    half_step : float, optional
        Half the time step (seconds): the compact form writes the delays in
        this unit (`~.connections.compact_lines`).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import numpy as np
    >>> projection = Projection('c0', 'S_pre', np.array(['P[0]', 'P[1]']),
    ...                         np.array(['P[1]', 'P[0]']), np.array([5e-05, 5e-05]),
    ...                         compact=True)
    >>> connection_lines(projection, half_step=5e-05)  # doctest: +NORMALIZE_WHITESPACE
    ['<c0 f="P[0]" t="P[1]" p="S_pre" d="1hdt"/>',
     '<c0 f="P[1]" t="P[0]" p="S_pre" d="1hdt"/>']
    >>> projection = Projection('S_pre_connection', 'S_pre', np.array(['P[0]', 'P[1]']),
    ...                         np.array(['P[1]', 'P[0]']), np.array([5e-05, 0.00015]))
    >>> connection_lines(projection)  # doctest: +NORMALIZE_WHITESPACE
    ['<S_pre_connection from="P[0]" to="P[1]" delay="0.05 ms" targetPort="S_pre" />',
     '<S_pre_connection from="P[1]" to="P[0]" delay="0.15 ms" targetPort="S_pre" />']
    """
    if projection.compact:
        return lines_for(projection, half_step)
    tag, port = projection.name, projection.port
    delays = format_repeated(projection.delays, _TIME.unit)
    return [f'<{tag} from="{source}" to="{target}" delay="{delay}" targetPort="{port}" />'
            for source, target, delay in zip(projection.sources, projection.targets, delays,
                                             strict=True)]
