"""
The synapses of a network: which carry their neuron variables, and their LEMS parts.

* A synaptic pathway that adds to variables with linear dynamics of the
  receiving neurons (``ge += w``) becomes a NeuroML synapse component type
  that carries its own copy of them, and a projection with one connection
  (cells, weight, delay) per synapse (:mod:`.synapse_components`, written in
  the compact form of :mod:`.connections`). Which pathways do is decided
  first, for the whole network, from what the neurons' own code and the
  other pathways and inputs do to the variables.
* Any other pathway runs as events on the receiving cells
  (:mod:`.network_pathways`), connected by one
  `~.network_parts.Projection` per port.
* Synapses with a state of their own (STDP, short-term plasticity) become
  synapse component types with that state (:mod:`.plastic_synapses`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from brian2.utils.logger import get_logger

from .lemsrendering import identifiers_in, parse_statements
from .network_parts import (
    NetworkParts,
    Projection,
    _connection_name,
    _equations_by_name,
    _paths,
    _Refuse,
    _unique,
    delay_steps,
    lems_delays,
)
from .network_pathways import (
    _check_synaptic_equations,
    _pathway_ports,
    _side_of,
    _synapse_sides,
)
from .plastic_parts import add_plastic_parts
from .plastic_synapses import is_plastic, plan_plastic_synapses
from .synapse_components import (
    SynapseType,
    SynapticProjection,
    connected_sets,
    evaluate_increment,
    linear_components,
)
from .units import constant_value

# the planning and building of synapse parts is used by build_network_parts only
__all__: list[str] = []

logger = get_logger(__name__)


def _blocked_variables(description: Mapping, groups: Mapping[str, dict]) -> dict[str, set]:
    """
    Neuron variables that must stay in the neuron: set (``=``, ``*=``) or read by code.

    The threshold, reset and refractoriness of a group are checked by
    `linear_components` from the group itself; this adds what synaptic
    pathways and Poisson inputs do to the variables.
    """
    blocked: dict[str, set] = {name: set() for name in groups}
    for synapses in description.get("synapses") or ():
        sides = {}
        for side in ("pre", "post"):
            reference = synapses["source" if side == "pre" else "target"]
            if reference["group"] in groups:
                sides[side] = groups[reference["group"]]
        if len(sides) < 2:
            continue
        synaptic = set(_equations_by_name(synapses))
        cell_variables = {side: set(_equations_by_name(group)) for side, group in sides.items()}
        for pathway in synapses.get("pathways") or ():
            code = (pathway.get("code") or "").strip()
            if not code:
                continue
            for target, op, expr in parse_statements(code, synapses["name"], "a pathway"):
                side = _side_of(target, synaptic, cell_variables)
                if side is not None and op not in ("+=", "-="):
                    blocked[sides[side[0]]["name"]].add(side[1])
                for identifier in identifiers_in(expr):
                    used = _side_of(identifier, synaptic, cell_variables)
                    if used is not None:
                        blocked[sides[used[0]]["name"]].add(used[1])
    for poisson_input in description.get("poissoninputs") or ():
        group = poisson_input["target"]["group"]
        if group in groups:
            blocked[group].update(identifiers_in(str(poisson_input["weight"]))
                                  & set(_equations_by_name(groups[group])))
    for name, group in groups.items():
        if group.get("kind") != "neurongroup":
            continue
        # Brian code of the group that needs the variable's value in the neuron
        code = []
        spike = (group.get("events") or {}).get("spike") or {}
        code += [spike.get("threshold") or "", spike.get("reset") or ""]
        if isinstance(group.get("refractory"), str):
            code.append(group["refractory"])
        subexpressions = {eq["name"]: eq["expr"] for eq in group.get("equations") or ()
                          if eq["type"] == "subexpression"}
        used = set().union(*(identifiers_in(text) for text in code if text.strip()))
        # subexpressions used there, and recorded ones, count with what they use
        recorded = set()
        for monitor in description.get("statemonitors") or ():
            if monitor["source"]["group"] == name:
                recorded.update(monitor["variables"])
        pending = list((used | recorded) & subexpressions.keys())
        seen = set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            inner = identifiers_in(subexpressions[current])
            used |= inner
            pending.extend(inner & subexpressions.keys())
        blocked[name] |= used
    return blocked


def _carried_pathway(synapses: Mapping, pathway: Mapping, sides: Mapping[str, dict],
                     components: Mapping[str, Mapping]) -> tuple | None:
    """
    ``(receiving side, [(variable, increments or None)], weighted index)`` if
    the synapses of a pathway can carry the variables it changes, else None.

    That is the case when every statement adds (``+=``, ``-=``) to a
    variable of a linear component of one neuron group a value that depends
    on per-synapse parameters and constants only.
    """
    if pathway.get("event", "spike") != "spike":
        return None
    code = (pathway.get("code") or "").strip()
    if not code:
        return None
    name = synapses["name"]
    statements = parse_statements(code, name, "a pathway")
    synaptic_equations = _equations_by_name(synapses)
    cell_variables = {side: set(_equations_by_name(group)) for side, group in sides.items()}
    namespace = dict(synapses.get("namespace") or {})
    initial = synapses.get("initial_values") or {}
    receiving = set()
    increments = []
    for target, op, expr in statements:
        side = _side_of(target, set(synaptic_equations), cell_variables)
        if op not in ("+=", "-=") or side is None:
            return None
        group = sides[side[0]]
        if group.get("kind") != "neurongroup" or side[1] not in (
                components.get(group["name"]) or {}):
            return None
        receiving.add(side[0])
        values = {}
        for identifier in identifiers_in(expr):
            equation = synaptic_equations.get(identifier)
            if equation is not None:
                if equation["type"] != "parameter" or initial.get(identifier) is None:
                    return None
                values[identifier] = initial[identifier]
            else:
                value = constant_value(identifier, namespace)
                if value is None or np.ndim(value) != 0:
                    return None
                values[identifier] = value
        increment = evaluate_increment(expr, values)
        if increment is None:
            return None
        increments.append((side[1], -increment if op == "-=" else increment))
    if len(receiving) != 1:
        return None
    n_synapses = len(synapses.get("i", ()))
    varying = [index for index, (_, values) in enumerate(increments)
               if np.ndim(values) and len(values) and np.any(values != values.ravel()[0])]
    if len(varying) > 1:
        return None  # one weight per connection: left to the ports, which explain
    weighted = varying[0] if varying else 0
    plan = []
    for index, (variable, values) in enumerate(increments):
        values = np.broadcast_to(np.asarray(values, dtype=float), (n_synapses,))
        plan.append((variable, values if index == weighted else
                     (float(values[0]) if n_synapses else 0.0)))
    return receiving.pop(), plan, weighted


def _plan_carried(description: Mapping, groups: Mapping[str, dict], parts: NetworkParts,
                  taken: set, carry: bool = True) -> dict:
    """Decide which pathways' synapses carry their variables; fills ``parts.carried``."""
    blocked = _blocked_variables(description, groups)
    components = {name: linear_components(group, blocked[name])
                  for name, group in groups.items() if group.get("kind") == "neurongroup"}
    plans = {}
    for synapses in description.get("synapses") or ():
        refuse = _Refuse(synapses["name"])
        sides = _synapse_sides(synapses, groups, refuse)
        if is_plastic(synapses):
            # a state per synapse: a synapse component type of its own, which
            # carries the post-synaptic variables its 'pre' pathway adds to
            plan = plan_plastic_synapses(synapses, sides, components)
            parts.plastic.append(plan)
            moved = parts.carried.setdefault(plan.group, {})
            for variable in plan.changed:
                for member in components[plan.group][variable]:
                    moved[member] = None
            continue
        _check_synaptic_equations(synapses, refuse)
        if not carry:
            continue
        for index, pathway in enumerate(synapses.get("pathways") or ()):
            plan = _carried_pathway(synapses, pathway, sides, components)
            if plan is None:
                continue
            plans[(synapses["name"], index)] = plan
            group = sides[plan[0]]["name"]
            moved = parts.carried.setdefault(group, {})
            for variable, _ in plan[1]:
                for member in components[group][variable]:
                    moved[member] = None
    # each carried variable with the connected set a synapse must carry along
    for group, moved in parts.carried.items():
        for variables in connected_sets(moved, components[group]):
            for variable in variables:
                moved[variable] = variables
        parts.synapse_bases[group] = _unique(f"{group}_synapse", taken)
    return plans


def _synapse_parts(synapses: Mapping, groups: Mapping[str, dict], dt: float,
                   parts: NetworkParts, taken: set, carried_plans: Mapping,
                   after_update: bool = True):
    name = synapses["name"]
    refuse = _Refuse(name)
    source, target = synapses["source"], synapses["target"]
    sides = _synapse_sides(synapses, groups, refuse)
    plastic = next((plan for plan in parts.plastic if plan.name == name), None)
    if plastic is not None:
        add_plastic_parts(plastic, synapses, parts, lambda base: _unique(base, taken), dt)
        return
    i = np.asarray(synapses["i"], dtype=np.int64)
    j = np.asarray(synapses["j"], dtype=np.int64)
    cells = {"pre": (source, i), "post": (target, j)}
    for index, pathway in enumerate(synapses.get("pathways") or ()):
        delays = np.broadcast_to(np.asarray(pathway.get("delay", 0.0), dtype=float), i.shape)
        steps = delay_steps(delays, dt)
        trigger = "pre" if pathway["prepost"] == "pre" else "post"
        plan = carried_plans.get((name, index))
        if plan is not None:
            _carried_parts(synapses, pathway, sides, cells, trigger, plan, steps, dt,
                           parts, taken, after_update)
            continue
        for port, members, receiving in _pathway_ports(synapses, pathway, sides,
                                                       parts.written, refuse, dt,
                                                       parts.carried, parts.spike_times,
                                                       after_update):
            parts.ports.append(port)
            # synapses without a delay change the cell when their event arrives
            now = steps[members] == 0 if port.arrivals else np.zeros(len(members), bool)
            if len(members) and np.all(now):
                port.statements, port.now_statements = port.now_statements, []
                port.arrivals = {}
                now[:] = False
            elif np.any(now):
                port.now_port = _unique(f"{port.port}_now", taken)
            for chosen, port_name in ((~now, port.port), (now, port.now_port)):
                if not np.any(chosen):
                    continue
                chosen_members = members[chosen]
                from_ref, from_idx = cells[trigger][0], cells[trigger][1][chosen_members]
                to_ref, to_idx = cells[receiving][0], cells[receiving][1][chosen_members]
                parts.projections.append(Projection(
                    _connection_name(f"{port_name}_connection", taken, after_update),
                    port_name,
                    _paths(from_ref["group"], from_ref.get("start") or 0, from_idx),
                    _paths(to_ref["group"], to_ref.get("start") or 0, to_idx),
                    lems_delays(steps[chosen_members], dt, bool(port.arrivals)),
                    origin=port.origin, compact=after_update))


def _carried_parts(synapses: Mapping, pathway: Mapping, sides: Mapping[str, dict],
                   cells: Mapping, trigger: str, plan: tuple, steps: np.ndarray, dt: float,
                   parts: NetworkParts, taken: set, after_update: bool = True):
    receiving, increments, weighted = plan
    group = sides[receiving]["name"]
    pathway_name = pathway.get("name") or pathway["prepost"]
    base_name = f"{synapses['name']}_{pathway_name}"
    components = parts.carried[group]
    carried = sorted(set().union(*(components[variable] for variable, _ in increments)))
    increments_of_weight = np.asarray(increments[weighted][1], dtype=float)
    distinct, counts = np.unique(increments_of_weight, return_counts=True)
    amplitude = float(distinct[np.argmax(counts)]) if len(distinct) else 1.0
    if amplitude == 0:
        amplitude = 1.0
    from_ref, from_idx = cells[trigger]
    to_ref, to_idx = cells[receiving]
    weights = increments_of_weight / amplitude
    # with after_update, the synapses without a delay get a type of their own whose
    # events change the state when they arrive (see lems_delays)
    now = steps == 0 if after_update else np.ones(len(steps), dtype=bool)
    kinds = [(chosen, on_arrival) for chosen, on_arrival in ((~now, False), (now, True))
             if np.any(chosen)] or [(now, not after_update)]
    for position, (chosen, on_arrival) in enumerate(kinds):
        suffix = "_now" if position else ""
        synapse_type = SynapseType(
            _unique(f"{base_name}{suffix}_synapse", taken), _unique(base_name + suffix, taken),
            group, parts.synapse_bases[group], tuple(carried),
            [(variable, None if index == weighted else value)
             for index, (variable, value) in enumerate(increments)],
            amplitude=amplitude, origin=f"{synapses['name']} ({pathway_name})",
            on_arrival=on_arrival)
        parts.synapse_types.append(synapse_type)
        parts.synaptic_projections.append(SynapticProjection(
            _unique(f"{base_name}{suffix}_projection", taken), synapse_type.component,
            from_ref["group"], to_ref["group"],
            _paths(from_ref["group"], from_ref.get("start") or 0, from_idx[chosen]),
            _paths(to_ref["group"], to_ref.get("start") or 0, to_idx[chosen]),
            weights[chosen], lems_delays(steps[chosen], dt, after_update),
            origin=synapse_type.origin,
            connection=_connection_name("", taken, True) if after_update else ""))
