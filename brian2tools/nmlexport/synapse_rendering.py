"""
The LEMS of the synapse components of :mod:`.synapse_components`.

`synapse_type_definitions` writes one synapse ``ComponentType`` (and its
component) per `~.synapse_components.SynapseType`: the carried variables as
state with their homogeneous dynamics, derived copies that the cell sums,
the event that adds the weight (after the synapse's update when the pathway
has a delay, see :func:`.network_parts.lems_delays`), and the base type that
the cell's attachments accept. `projection_element` and `projection_lines`
write a `~.synapse_components.SynapticProjection`: the ``projection`` and
its connections, as text made from the synapses' indices while the file is
written (``connectionWD`` elements in the portable form; the compact
connection types of :mod:`.connections` otherwise, which go directly in the
network).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping

import lems.api as lems
from brian2 import second
from brian2.utils.logger import get_logger

from .connections import lines_for
from .lemsrendering import identifiers_in, render_expression
from .method_steps import derive_steps, method_steps, stepped_method
from .supporting import format_repeated
from .synapse_components import (
    SynapseType,
    SynapticProjection,
    arriving_name,
    homogeneous_part,
    state_name,
)
from .units import constant_value, format_quantity, lems_dimension

__all__ = ["synapse_type_definitions", "projection_element", "projection_lines"]

logger = get_logger(__name__)

def _constants_in(exprs, namespace: Mapping) -> dict:
    constants = {}
    for expr in exprs:
        for identifier in sorted(identifiers_in(expr)):
            value = constant_value(identifier, namespace)
            if value is not None:
                constants[identifier] = value
    return constants


def synapse_type_definitions(types: list[SynapseType], groups: Mapping[str, Mapping],
                             carried: Mapping[str, Collection[str]],
                             recorded: Mapping[str, Collection[str]], dt: float,
                             after_update: bool = True):
    """
    The LEMS definitions of the synapse types, and their components.

    Every group that has synapses gets a base type (extending NeuroML's
    ``baseSynapse``) exposing each variable the group's synapses carry; a
    synapse type defines a zero for the variables other pathways carry, so
    that the cell can sum one list.

    Parameters
    ----------
    types : list of SynapseType
    groups : mapping
        Name -> *neuron group* of the model description.
    carried : mapping
        Group -> variables its synapses carry.
    recorded : mapping
        Group -> variables recorded by a StateMonitor.
    dt : float
        The time step (seconds).
    after_update : bool, optional
        Whether an event's addition waits in ``x__state__arriving`` until the
        synapse's update (default: Brian applies it after the update of its
        step, see :func:`.network_parts.lems_delays`) or is made when the
        event arrives (the portable form).

    Returns
    -------
    component_types : list of lems.ComponentType
    components : list of Element
        One ``<Component id=... type=.../>`` per synapse type.
    dimensions : set of LEMSDimension

    Examples
    --------
    >>> from brian2 import ms, volt
    >>> group = {'name': 'P', 'namespace': {'tau': 5*ms}, 'equations': [
    ...     {'name': 'ge', 'type': 'differential equation', 'expr': '-ge/tau',
    ...      'unit': volt, 'var_type': 'float', 'flags': []}]}
    >>> synapse = SynapseType('S_pre_synapse', 'S_pre', 'P', 'P_synapse', ('ge',),
    ...                       [('ge', None)], amplitude=0.001)
    >>> types, components, _ = synapse_type_definitions([synapse], {'P': group},
    ...                                                 {'P': {'ge'}}, {}, 1e-4)
    >>> [t.name for t in types], components[0].attrib
    (['P_synapse', 'S_pre_synapse'], {'id': 'S_pre', 'type': 'S_pre_synapse'})
    >>> print(types[1].dynamics.event_handlers[0].actions[0].toxml())
    ... # doctest: +NORMALIZE_WHITESPACE
    <StateAssignment variable="ge__state__arriving"
                     value="ge__state__arriving + weight * ge__amplitude"/>
    >>> print(types[1].dynamics.event_handlers[1].toxml())  # doctest: +NORMALIZE_WHITESPACE
    <OnCondition test="t .geq. 0"><StateAssignment variable="ge__state"
    value="ge__state + ge__state__arriving"/><StateAssignment variable="ge__state__arriving"
    value="0"/></OnCondition>
    """
    component_types, components, dimensions = [], [], set()
    bases = {}
    for synapse in types:
        bases.setdefault(synapse.group, synapse.base)
    for group_name, base_name in bases.items():
        equations = {eq["name"]: eq for eq in groups[group_name]["equations"]}
        base = lems.ComponentType(base_name, extends="baseSynapse")
        for variable in sorted(carried[group_name]):
            dimension = lems_dimension(equations[variable]["unit"], group_name)
            dimensions.add(dimension)
            base.add(lems.Exposure(variable, dimension.name))
            if variable in recorded.get(group_name, ()):
                base.add(lems.Exposure(state_name(variable), dimension.name))
        component_types.append(base)

    for synapse in types:
        group = groups[synapse.group]
        equations = {eq["name"]: eq for eq in group["equations"]}
        namespace = dict(group.get("namespace") or {})
        component_type = lems.ComponentType(synapse.name, extends=synapse.base)
        exprs = {variable: homogeneous_part(equations[variable]["expr"], synapse.carried)
                 for variable in synapse.carried}
        constants = _constants_in(exprs.values(), namespace)
        # the copies take the group's steps (Brian's method), in jNeuroML's form
        method = stepped_method(group) if after_update else None
        if (method or any("dt" in identifiers_in(expr) for expr in exprs.values())) \
                and "dt" not in namespace:
            constants["dt"] = dt * _si(second)
        names = {identifier: (identifier if identifier != "weight" else "weight_constant")
                 for identifier in constants}
        if any(value is None for _, value in synapse.increments):
            component_type.add(lems.Property("weight", "none", default_value="1"))
        for identifier, value in sorted(constants.items()):
            dimension = lems_dimension(value, synapse.origin)
            dimensions.add(dimension)
            component_type.add(lems.Constant(names[identifier],
                                             format_quantity(value, dimension), dimension.name))
        mapping = {**names, **{variable: state_name(variable) for variable in synapse.carried}}
        dynamics = component_type.dynamics
        new_values = {}
        if method:
            steps = method_steps({variable: (exprs[variable], equations[variable]["unit"])
                                  for variable in synapse.carried}, method, synapse.group)
            new_values = derive_steps(
                steps, dynamics, mapping, lambda base: f"{base}__state",
                lambda variable, units=equations, group=synapse.group:
                    lems_dimension(units[variable]["unit"], group).name, synapse.group)
        # NeuroML synapses expose a current; these change the neuron through the
        # variables they carry, so theirs stays 0 (a state variable costs nothing
        # per step in jNeuroML, unlike a derived one)
        dynamics.add(lems.StateVariable("i", "current", exposure="i"))
        for variable in sorted(carried[synapse.group]):
            unit = equations[variable]["unit"]
            dimension = lems_dimension(unit, synapse.group)
            is_recorded = variable in recorded.get(synapse.group, ())
            if variable not in synapse.carried:
                zero = f"{variable}__zero"
                component_type.add(lems.Constant(zero, format_quantity(0 * unit, dimension),
                                                 dimension.name))
                dynamics.add(lems.DerivedVariable(variable, dimension=dimension.name,
                                                  exposure=variable, value=zero))
                if is_recorded:
                    dynamics.add(lems.DerivedVariable(state_name(variable),
                                                      dimension=dimension.name,
                                                      exposure=state_name(variable), value=zero))
                continue
            dynamics.add(lems.StateVariable(state_name(variable), dimension.name,
                                            exposure=state_name(variable) if is_recorded
                                            else None))
            dynamics.add(lems.DerivedVariable(variable, dimension=dimension.name,
                                              exposure=variable, value=state_name(variable)))
            if variable in new_values:  # Brian's step: x += dt * (x' - x)/dt
                derivative = f"({new_values[variable]} - {state_name(variable)}) / dt"
            else:
                derivative = render_expression(
                    exprs[variable], mapping, synapse.group,
                    f"the equation of {variable} (in the synapses of {synapse.origin})")
            dynamics.add(lems.TimeDerivative(state_name(variable), derivative))
        handler = lems.OnEvent("in")
        apply = lems.OnCondition("t .geq. 0")
        for index, (variable, value) in enumerate(synapse.increments):
            unit = equations[variable]["unit"]
            dimension = lems_dimension(unit, synapse.group)
            state = state_name(variable)
            if after_update and not synapse.on_arrival:
                # collected now, added after the update (Brian's order)
                target = arriving_name(state)
                if target not in dynamics.state_variables:
                    dynamics.add(lems.StateVariable(target, dimension.name))
                    apply.add(lems.StateAssignment(state, f"{state} + {target}"))
                    apply.add(lems.StateAssignment(target, "0"))
                state = target
            if value is None:
                scale = f"{variable}__amplitude"
                component_type.add(lems.Constant(
                    scale, format_quantity(synapse.amplitude * _si(unit), dimension),
                    dimension.name))
                handler.add(lems.StateAssignment(state, f"{state} + weight * {scale}"))
            else:
                constant = f"{variable}__increment_{index}"
                component_type.add(lems.Constant(constant, format_quantity(
                    value * _si(unit), dimension), dimension.name))
                handler.add(lems.StateAssignment(state, f"{state} + {constant}"))
        dynamics.add(handler)
        if apply.actions:
            dynamics.add(apply)
        component_types.append(component_type)
        components.append(ET.Element("Component", {"id": synapse.component,
                                                   "type": synapse.name}))
    return component_types, components, dimensions


def _si(unit):
    """One SI unit of the dimensions of ``unit`` (a Quantity, or 1 if dimensionless)."""
    from brian2 import Quantity, get_dimensions

    dimensions = get_dimensions(unit)
    return 1.0 if dimensions.is_dimensionless else Quantity(1.0, dim=dimensions)


def projection_element(projection: SynapticProjection) -> ET.Element:
    """
    A NeuroML ``<projection>``, without its connections (see `projection_lines`).

    Parameters
    ----------
    projection : SynapticProjection

    Returns
    -------
    Element

    Examples
    --------
    >>> import numpy as np
    >>> element = projection_element(SynapticProjection(
    ...     'S_pre', 'S_pre_synapse', 'P', 'P', np.array(['P[0]']), np.array(['P[1]']),
    ...     np.array([0.001]), np.array([5e-05])))
    >>> element.get('synapse'), len(element)
    ('S_pre_synapse', 0)
    """
    return ET.Element("projection", {"id": projection.name,
                                     "presynapticPopulation": projection.presynaptic,
                                     "postsynapticPopulation": projection.postsynaptic,
                                     "synapse": projection.synapse})


def projection_lines(projection: SynapticProjection) -> list[str]:
    """
    The connection lines of a projection, one per synapse.

    NeuroML's ``<connectionWD>``, put inside the `projection_element`, or
    the compact form of :mod:`.connections` (lines that go directly in the
    network) if the projection names a compact
    `SynapticProjection.connection` type. Text rather than elements, for
    the reason given in `~.network_rendering.connection_lines`.

    Parameters
    ----------
    projection : SynapticProjection

    Returns
    -------
    list of str

    Examples
    --------
    >>> import numpy as np
    >>> projection_lines(SynapticProjection(
    ...     'S_pre', 'S_pre_synapse', 'P', 'P', np.array(['P[0]', 'P[1]']),
    ...     np.array(['P[1]', 'P[0]']), np.array([0.001, 0.002]), np.array([5e-05, 5e-05])))
    ... # doctest: +NORMALIZE_WHITESPACE
    ['<connectionWD id="0" preCellId="../P[0]" postCellId="../P[1]" weight="0.001"
      delay="0.05 ms" />',
     '<connectionWD id="1" preCellId="../P[1]" postCellId="../P[0]" weight="0.002"
      delay="0.05 ms" />']
    >>> projection_lines(SynapticProjection(
    ...     'S_pre', 'S_pre_synapse', 'P', 'P', np.array(['P[0]', 'P[1]']),
    ...     np.array(['P[1]', 'P[0]']), np.array([1.0, 1.0]), np.array([5e-05, 5e-05]),
    ...     connection='c0'))
    ... # doctest: +NORMALIZE_WHITESPACE
    ['<c0 f="P[0]" t="P[1]" d="0.05ms"/>', '<c0 f="P[1]" t="P[0]" d="0.05ms"/>']
    """
    if projection.connection:
        return lines_for(projection)
    delays = format_repeated(projection.delays, "s")
    weights = format_repeated(projection.weights)
    return [f'<connectionWD id="{index}" preCellId="../{source}" postCellId="../{target}" '
            f'weight="{weight}" delay="{delay}" />'
            for index, (source, target, weight, delay) in enumerate(zip(
                projection.sources, projection.targets, weights, delays, strict=True))]
