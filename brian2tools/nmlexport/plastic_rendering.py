"""
The LEMS of plastic synapses: the synapse component types planned by :mod:`.plastic_synapses`.

`complete_plastic_types` gives the synapse types made by
`~.synapse_rendering.synapse_type_definitions` (with their copies of the
post-synaptic variables) the synapses' state and pathways;
`expose_spike_time` lets them see their cell's spikes; and
`synapse_monitor_columns` records their variables. The timing these rely on
is explained in :mod:`.plastic_synapses`.
"""

from __future__ import annotations

from collections.abc import Mapping

import lems.api as lems
import numpy as np
from brian2 import second
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from .lemsrendering import identifiers_in, render_expression
from .method_steps import derive_steps, method_steps
from .plastic_delivery import delivered_name, delivery_handler
from .plastic_synapses import _EVENT_TIME, _LASTSPIKE, _RESERVED, _SEEN, PlasticSynapses
from .summed_variables import add_summed_terms
from .synapse_components import state_name
from .units import constant_value, format_quantity, lems_dimension

__all__ = ["complete_plastic_types", "expose_spike_time", "synapse_monitor_columns"]

logger = get_logger(__name__)

# Brian's lastspike of a neuron that never spiked (as the cell types of .neurongroup)
_NEVER_SPIKED = -1e4

class _Names:
    """The LEMS names of the constants of one synapse type (the Brian name when it is free)."""

    def __init__(self, component_type, dimensions: set, owner: str):
        self.type = component_type
        self.dimensions = dimensions
        self.owner = owner

    def constant(self, name: str, value) -> str:
        dimension = lems_dimension(value, self.owner)
        text = format_quantity(value, dimension)
        lems_name = name
        while lems_name in self.type.constants or lems_name in self.type.parameters \
                or lems_name in _RESERVED:
            existing = self.type.constants.get(lems_name) if lems_name in self.type.constants \
                else None
            if existing is not None and existing.value == text \
                    and existing.dimension == dimension.name:
                return lems_name
            lems_name += "_"
        self.dimensions.add(dimension)
        self.type.add(lems.Constant(lems_name, text, dimension.name))
        return lems_name


def _mapping(plan: PlasticSynapses, names: _Names, exprs, dt: float) -> dict:
    mapping = {variable: lems_name for variable, lems_name in plan.state.items()}
    mapping["t"] = _EVENT_TIME
    for identifier in sorted(set().union(*(identifiers_in(e) for e in exprs))):
        if identifier in mapping:
            continue
        if identifier == "dt" and "dt" not in plan.namespace:
            mapping["dt"] = names.constant("dt", dt * second)
            continue
        value = constant_value(identifier, plan.namespace)
        if value is not None:
            if np.ndim(value) != 0:
                raise UnsupportedFeatureError(plan.name, f"the non-scalar constant "
                                                         f"'{identifier}'")
            mapping[identifier] = names.constant(identifier, value)
    return mapping


def _actions(plan: PlasticSynapses, statements, mapping: dict, handler, names: _Names,
             temporaries: dict, context: str, pathway: str = "pre"):
    for target, op, expr in statements:
        value = render_expression(expr, mapping, plan.name, context)
        if target in temporaries:
            lems_target = temporaries[target]
        elif target in plan.state:
            lems_target = plan.state[target]
        else:  # a post-synaptic variable the synapse carries or delivers (see the plan)
            variable = target[:-5] if target.endswith("_post") else target
            delivered = plan.delivery is not None and variable in (
                plan.delivery.ops if pathway == "pre" else plan.delivery.post_ops)
            lems_target = (delivered_name(variable, pathway) if delivered
                           else state_name(variable))
        if op != "=":
            value = f"{lems_target} {op[0]} ({value})"
        handler.add(lems.StateAssignment(lems_target, value))


def complete_plastic_types(component_types: list, plans: list[PlasticSynapses],
                           dt: float) -> set:
    """
    Give the synapse component types of plastic synapses their state and pathways.

    The types come from `~.synapse_rendering.synapse_type_definitions`
    (the copies of the post-synaptic variables they carry, and an empty
    ``OnEvent``); this adds the synaptic state variables, their initial
    values, the clock-driven equations, the ``on_pre`` statements to the
    ``OnEvent`` and an ``OnCondition`` on the cell's ``lastspike`` for
    ``on_post``.

    Parameters
    ----------
    component_types : list of lems.ComponentType
        Modified in place (those named by the plans).
    plans : list of PlasticSynapses
    dt : float
        The time step (seconds).

    Returns
    -------
    set of LEMSDimension
        The dimensions used.

    Examples
    --------
    >>> import lems.api as lems
    >>> from brian2 import Unit, ms
    >>> plan = PlasticSynapses('S', 'P', ['ge'], {'w': 'w'}, {'w': Unit(1)}, {'w': 0.5},
    ...                        pre=[('w', '*=', 'f')], namespace={'f': 0.5},
    ...                        type_name='S_synapse')
    >>> synapse_type = lems.ComponentType('S_synapse')
    >>> synapse_type.dynamics.add(lems.OnEvent('in'))
    >>> _ = complete_plastic_types([synapse_type], [plan], 1e-4)
    >>> print(synapse_type.dynamics.event_handlers[0].actions[1].toxml())
    <StateAssignment variable="w" value="w * (f)"/>
    """
    by_name = {component_type.name: component_type for component_type in component_types}
    dimensions: set = set()
    for plan in plans:
        component_type = by_name[plan.type_name]
        names = _Names(component_type, dimensions, plan.name)
        dynamics = component_type.dynamics
        time = lems_dimension(second)
        dimensions.add(time)
        if plan.weighted is not None and "weight" not in component_type.properties:
            component_type.add(lems.Property("weight", "none", default_value="1"))
        on_start = lems.OnStart()
        temporaries = {}
        for variable, lems_name in plan.state.items():
            dimension = lems_dimension(plan.units[variable], plan.name)
            dimensions.add(dimension)
            # exposed, so that a StateMonitor can record it
            component_type.add(lems.Exposure(lems_name, dimension.name))
            dynamics.add(lems.StateVariable(lems_name, dimension.name, exposure=lems_name))
            if variable == plan.weighted:
                unit = names.constant(f"{lems_name}__unit", _unit_of(plan.units[variable]))
                on_start.add(lems.StateAssignment(lems_name, f"weight * {unit}"))
            else:
                value = plan.initial[variable] * _unit_of(plan.units[variable])
                on_start.add(lems.StateAssignment(
                    lems_name, names.constant(f"{lems_name}__init", value)))
            temporaries[f"_{variable}"] = f"{lems_name}__next"
            if any(target == f"_{variable}" for target, _, _ in plan.pre + plan.post):
                dynamics.add(lems.StateVariable(f"{lems_name}__next", dimension.name))
        for variable, unit in plan.temporaries.items():
            dimension = lems_dimension(unit, plan.name)
            dimensions.add(dimension)
            temporaries[variable] = f"{variable}__temporary"
            dynamics.add(lems.StateVariable(temporaries[variable], dimension.name))
        dynamics.add(lems.StateVariable(_EVENT_TIME, time.name))
        exprs = [expr for _, _, expr in plan.pre + plan.post] + list(plan.clock_driven.values())
        exprs += [entry[0] for entry in plan.summed.values()]
        mapping = _mapping(plan, names, exprs, dt)
        mapping.update({temporary: name for temporary, name in temporaries.items()})
        new_values = {}
        if plan.method and plan.clock_driven:  # Brian's steps of the synapses' method
            mapping.setdefault("dt", names.constant("dt", dt * second))
            steps = method_steps({variable: (expr, plan.units[variable])
                                  for variable, expr in plan.clock_driven.items()},
                                 plan.method, plan.name)
            new_values = derive_steps(
                steps, dynamics, mapping, lambda base: f"{base}__clock",
                lambda variable, plan=plan: lems_dimension(plan.units[variable], plan.name).name,
                plan.name)
        for variable, expr in plan.clock_driven.items():
            state = plan.state[variable]
            dynamics.add(lems.TimeDerivative(
                state, f"({new_values[variable]} - {state}) / {mapping['dt']}"
                if variable in new_values else render_expression(
                    expr, mapping, plan.name, f"the clock-driven equation of '{variable}'")))
        add_summed_terms(component_type, plan, mapping, dimensions)
        step = names.constant("dt__step", dt * second)
        on_event = next(h for h in dynamics.event_handlers
                        if isinstance(h, lems.OnEvent) and h.port == "in")
        # synapses that change their cell's variables may run on_pre in a condition
        handler = delivery_handler(plan, dynamics, on_event, on_start)
        handler.add(lems.StateAssignment(_EVENT_TIME, f"t - {step}"))
        _actions(plan, plan.pre, mapping, handler, names, temporaries,
                 f"the 'pre' pathway of {plan.name}")
        if plan.post:
            component_type.add(lems.Requirement(_LASTSPIKE, time.name))
            dynamics.add(lems.StateVariable(_SEEN, time.name))
            on_start.add(lems.StateAssignment(_SEEN, names.constant(
                "never_spiked", _NEVER_SPIKED * second)))
            condition = lems.OnCondition(f"{_LASTSPIKE} .gt. {_SEEN}")
            condition.add(lems.StateAssignment(_SEEN, _LASTSPIKE))
            condition.add(lems.StateAssignment(_EVENT_TIME, _LASTSPIKE))
            _actions(plan, plan.post, mapping, condition, names, temporaries,
                     f"the 'post' pathway of {plan.name}", "post")
            dynamics.add(condition)
        if handler is not on_event:  # after on_post: Brian's order of the steps
            dynamics.add(handler)
        dynamics.add(on_start)
    return dimensions


def _unit_of(unit):
    """One SI unit of the dimensions of ``unit`` (a Quantity, or 1.0 if dimensionless)."""
    from brian2 import Quantity, get_dimensions

    dimensions = get_dimensions(unit)
    return 1.0 if dimensions.is_dimensionless else Quantity(1.0, dim=dimensions)


def expose_spike_time(cell_type) -> None:
    """
    Expose a cell type's ``lastspike`` so that its plastic synapses can see its spikes.

    Parameters
    ----------
    cell_type : lems.ComponentType
        A cell type that keeps ``lastspike`` (modified in place).

    Raises
    ------
    ValueError
        If the cell type has no state variable ``lastspike``.

    Examples
    --------
    >>> import lems.api as lems
    >>> cell = lems.ComponentType('P_cell')
    >>> cell.dynamics.add(lems.StateVariable('lastspike', 'time'))
    >>> expose_spike_time(cell)
    >>> cell.dynamics.state_variables['lastspike'].exposure
    'lastspike'
    """
    variable = cell_type.dynamics.state_variables.get(_LASTSPIKE)
    if variable is None:
        raise ValueError(f"The cell type '{cell_type.name}' does not keep lastspike.")
    if _LASTSPIKE not in cell_type.exposures:
        cell_type.add(lems.Exposure(_LASTSPIKE, variable.dimension))
    variable.exposure = _LASTSPIKE


def synapse_monitor_columns(monitor: Mapping, synapses: Mapping, plan: PlasticSynapses,
                            path=None) -> list[tuple[str, str]]:
    """
    The recorded columns ``(id, LEMS path)`` of a StateMonitor of plastic synapses.

    jNeuroML names the k-th synapse of the component ``S`` attached to a
    cell ``cell/synapses:S:k`` (in the order of the connections).

    Parameters
    ----------
    monitor : mapping
        The StateMonitor's description (its source is the Synapses object).
    synapses : mapping
        The *synapses* entry.
    plan : PlasticSynapses
    path : callable, optional
        ``path(group, index)`` of a cell (default ``'group[index]'``).

    Returns
    -------
    list of (str, str)

    Raises
    ------
    UnsupportedFeatureError
        For a variable the synapse does not keep.

    Examples
    --------
    >>> plan = PlasticSynapses('S', 'P', state={'w': 'w'}, component='S')
    >>> synapses = {'j': [0, 0, 1], 'target': {'group': 'P', 'start': 0}}
    >>> synapse_monitor_columns({'name': 'm', 'variables': ['w'], 'record': [1, 2]},
    ...                         synapses, plan)
    [('w_1', 'P[0]/synapses:S:1/w'), ('w_2', 'P[1]/synapses:S:0/w')]
    """
    path = path or (lambda group, index: f"{group}[{index}]")
    target = synapses["target"]
    start = int(target.get("start") or 0)
    j = np.asarray(synapses["j"], dtype=np.int64)
    # rank of each synapse among those of the same cell, in connection order
    rank = np.zeros(len(j), dtype=np.int64)
    counts: dict = {}
    for index, cell in enumerate(j.tolist()):
        rank[index] = counts.get(cell, 0)
        counts[cell] = rank[index] + 1
    columns = []
    for variable in monitor["variables"]:
        if variable not in plan.state:
            raise UnsupportedFeatureError(monitor["name"], f"the recording of '{variable}'",
                                          "Only the synapses' own variables are recorded.")
        for index in np.asarray(monitor["record"], dtype=np.int64).ravel().tolist():
            quantity = (f"{path(target['group'], start + int(j[index]))}/synapses:"
                        f"{plan.component}:{rank[index]}/{plan.state[variable]}")
            columns.append((f"{variable}_{index}", quantity))
    return columns
