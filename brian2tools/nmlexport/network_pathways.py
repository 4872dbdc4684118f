"""
The synaptic pathways of a network that run as events on the receiving cells.

A pathway (``on_pre`` or ``on_post``) whose synapses do not carry the
variables it changes (see :mod:`.network_synapses`) runs its statements
on the cell whose variables they change, as Brian does: the receiving cell
type gets an ``EventPort`` and an ``OnEvent`` with the statements
(`~.network_parts.EventPort`), and every synapse becomes a connection that
sends the spikes of its trigger cell to that port. LEMS events carry no
value, so values that differ between synapses are grouped (each distinct
value its own port, at most `~.network_export.MAX_PORTS_PER_PATHWAY`)
or, when there are many, given to the cells as parameters (the k-th
synapse onto a cell arrives at port k, at most
`~.network_export.MAX_INCOMING_PORTS` per cell).

Events change the cell's variables as Brian allows it: changes to a
variable flagged ``(unless refractory)`` are dropped while the cell is
refractory, and an event of the step in which the cell spikes is dropped
when the reset sets the variable (the gates of the statements). What
events cannot reproduce is refused by name: summed variables (gap
junctions), reading the other cell's variables, resets that depend on
what events change, too many differently weighted synapses onto one cell,
custom events.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from brian2 import get_dimensions
from brian2.core.namespace import DEFAULT_UNITS
from brian2.utils.logger import get_logger

from .lemsrendering import identifiers_in, parse_statements, render_expression
from .network_parts import EventPort, _equations_by_name, _Refuse
from .synapse_components import arriving_name, own_name
from .units import constant_value

__all__ = ["MAX_PORTS_PER_PATHWAY", "MAX_INCOMING_PORTS"]

logger = get_logger(__name__)

#: The most distinct per-synapse values (one event port each) a pathway may use;
#: beyond, each cell gets one port per incoming synapse of the pathway.
MAX_PORTS_PER_PATHWAY = 64
#: The most synapses of one pathway a cell may receive when each needs its own port.
MAX_INCOMING_PORTS = 2000

# Names Brian defines inside Synapses that a LEMS event cannot provide.
_SYNAPSE_INTERNALS = ("i", "j", "t", "dt", "N", "N_incoming", "N_outgoing", "lastupdate",
                      "delay", "xi")


def _check_synaptic_equations(synapses: Mapping, refuse: _Refuse):
    """
    Refuse the synaptic variables of synapses without a state of their own.

    Called only for synapses that are not plastic (`is_plastic`), so they have no
    differential equations and their pathways change no synaptic variable
    (those become plastic synapse components).
    """
    for name, eq in _equations_by_name(synapses).items():
        flags = set(eq.get("flags") or ())
        if "summed" in flags:
            raise refuse(
                f"the summed variable '{name}'",
                "Summed variables (gap junctions, continuous coupling) need a value "
                "transmitted at every time step; NeuroML event connections only carry "
                "spikes.",
            )
        if eq["type"] == "subexpression":
            raise refuse(f"the synaptic subexpression '{name}'",
                         "Write its expression where it is used.")


def _side_of(identifier: str, synaptic: set, groups: Mapping[str, set]) -> tuple[str, str] | None:
    """('pre' | 'post', variable) for a cell variable used in synaptic code, else None."""
    if identifier in synaptic:
        return None
    for suffix, side in (("_pre", "pre"), ("_post", "post")):
        if identifier.endswith(suffix) and identifier[: -len(suffix)] in groups[side]:
            return side, identifier[: -len(suffix)]
    if identifier in groups["post"]:
        return "post", identifier
    return None


def _constant_name(synapses: str, identifier: str) -> str:
    return f"{synapses}__{identifier}"


def _refractory_gate(group: Mapping, variable: str, dt: float, refuse: _Refuse,
                     what: str) -> str | None:
    """
    The LEMS factor (1 or 0) that lets an event change a variable, as Brian allows it.

    Brian ignores changes by synapses and inputs to a variable flagged
    ``(unless refractory)`` while its neuron is refractory, judged after the
    threshold of the step in which the change happens. An event reaches the
    LEMS cell at the start of the next step, when the cell knows its
    ``lastspike`` (from the cell types of :mod:`.neurongroup`), so the gate is
    Brian's test written with the number of steps since the last spike.
    """
    equation = _equations_by_name(group).get(variable) or {}
    refractory = group.get("refractory")
    if refractory is None or "unless refractory" not in (equation.get("flags") or ()):
        return None
    if isinstance(refractory, str):
        raise refuse(
            f"{what} changing '{variable}' (unless refractory) of '{group['name']}', whose "
            f"refractoriness is the code '{refractory}'",
            "Brian ignores such changes during refractoriness; the NeuroML export "
            "reproduces this for a refractory period given as a time only.",
        )
    steps = max(int((float(refractory) + 1e-3 * dt) / dt), 1)
    return f"H((t - lastspike) / dt - {steps + 0.5})"


def _reset_gate(group: Mapping, variable: str, op: str, refuse: _Refuse,
                what: str) -> str | None:
    """
    The LEMS factor that drops an event the reset of the same step would overwrite.

    Brian applies synaptic effects and inputs after the threshold and before
    the reset of a time step, so an event arriving in the step in which the
    neuron spikes is overwritten by a reset ``v = Vr``; jNeuroML applies it
    at the start of the next step, after the reset. The gate is 0 for an
    event of that step (one step since ``lastspike`` when it arrives). A
    reset that adds to the variable (``w += b``) commutes with additions and
    needs no gate; a reset that uses the variable otherwise is refused.
    """
    spike = (group.get("events") or {}).get("spike") or {}
    reset = (spike.get("reset") or "").strip()
    if not reset:
        return None
    gate = None
    for target, reset_op, expr in parse_statements(reset, group["name"], "the reset"):
        reads = identifiers_in(expr)
        commutes = (target == variable and reset_op in ("+=", "-=") and op in ("+=", "-=")
                    and variable not in reads)
        if commutes:
            continue
        if target == variable and reset_op == "=" and variable not in reads:
            gate = "H((t - lastspike) / dt - 1.5)"
            continue
        if target == variable or variable in reads:
            raise refuse(
                f"{what} changing '{variable}' of '{group['name']}', whose reset "
                f"'{target} {reset_op} {expr}' depends on it",
                "Brian applies the synaptic effects of a time step before the reset, "
                "jNeuroML after it; the export can reproduce this for resets that set the "
                "variable (v = Vr) or add to it only.",
            )
    return gate


def _combined_gate(*gates: str | None) -> str | None:
    present = [gate for gate in gates if gate is not None]
    return " * ".join(present) if present else None


def _assignment(variable: str, op: str, value: str, gate: str | None) -> str:
    """The new value of ``variable`` for ``variable op value``, through an optional gate."""
    if gate is None:
        return value if op == "=" else f"{variable} {op[0]} ({value})"
    if op in ("+=", "-="):
        return f"{variable} {op[0]} {gate} * ({value})"
    new = value if op == "=" else f"{variable} {op[0]} ({value})"
    return f"{variable} + {gate} * (({new}) - {variable})"


def _pathway_ports(synapses: Mapping, pathway: Mapping, groups: Mapping[str, dict],
                   written: dict, refuse: _Refuse, dt: float, carried: Mapping[str, Mapping],
                   parts_spike_times: set, after_update: bool = True,
                   ) -> list[tuple[EventPort, np.ndarray, str]]:
    """The ports of one pathway, with the synapses each one serves and its receiving side."""
    name = synapses["name"]
    pathway_name = pathway.get("name") or pathway["prepost"]
    origin = f"{name} ({pathway_name})"
    if pathway.get("event", "spike") != "spike":
        raise refuse(f"the pathway '{pathway_name}' triggered by the custom event "
                     f"'{pathway['event']}'")
    code = (pathway.get("code") or "").strip()
    if not code:
        return []
    statements = parse_statements(code, name, f"the '{pathway_name}' pathway")
    synaptic_equations = _equations_by_name(synapses)
    synaptic = set(synaptic_equations)
    variables = {side: {eq["name"]: eq for eq in groups[side].get("equations") or ()}
                 for side in ("pre", "post")}
    cell_variables = {side: set(variables[side]) for side in variables}
    namespace = dict(synapses.get("namespace") or {})

    receiving = set()
    used_parameters: list[str] = []
    for target, _, expr in statements:
        side = _side_of(target, synaptic, cell_variables)
        if side is None:
            # (a pathway changing a synaptic variable makes the synapses plastic:
            # they never get here, see _plan_carried)
            raise refuse(f"the assignment to '{target}' in the '{pathway_name}' pathway",
                         "The statements of a pathway can only change variables of the "
                         "pre- or post-synaptic neurons.")
        receiving.add(side[0])
        for identifier in sorted(identifiers_in(expr)):
            if identifier in synaptic:
                if synaptic_equations[identifier]["type"] == "parameter" \
                        and identifier not in used_parameters:
                    used_parameters.append(identifier)
                continue
            used = _side_of(identifier, synaptic, cell_variables)
            if used is not None:
                if used[0] != side[0]:
                    raise refuse(
                        f"'{identifier}' in the '{pathway_name}' pathway",
                        "An event can only use the variables of the neuron it changes: "
                        f"'{target}' belongs to the {side[0]}-synaptic neuron.",
                    )
                equation = variables[used[0]][used[1]]
                if equation["type"] == "subexpression":
                    raise refuse(f"the subexpression '{identifier}' in the '{pathway_name}' "
                                 "pathway", "Write out its expression in the pathway.")
                continue
            if identifier in namespace or identifier in DEFAULT_UNITS:
                continue
            if identifier in _SYNAPSE_INTERNALS:
                raise refuse(f"'{identifier}' in the '{pathway_name}' pathway",
                             "Synaptic code exported to NeuroML can use the neurons' "
                             "variables, constants and per-synapse parameters only.")
            raise refuse(f"the unknown identifier '{identifier}' in the '{pathway_name}' pathway")
    if len(receiving) > 1:
        raise refuse(f"the '{pathway_name}' pathway changing both pre- and post-synaptic "
                     "variables", "Split it into two Synapses objects.")
    side = receiving.pop()
    group = groups[side]
    if group.get("kind") != "neurongroup":
        raise refuse(f"the '{pathway_name}' pathway changing the variables of "
                     f"'{group['name']}'", "Only neuron groups have variables an event can change.")
    moved = carried.get(group["name"]) or {}
    for target, _, _ in statements:
        variable = _side_of(target, synaptic, cell_variables)[1]
        equation = variables[side][variable]
        if equation["type"] == "subexpression":
            raise refuse(f"the assignment to the subexpression '{target}'")
        if variable not in moved:
            written.setdefault(group["name"], set()).add(variable)

    # per-synapse values: one port per distinct combination
    n_synapses = int(synapses.get("N", len(synapses.get("i", ()))))
    values = synapses.get("initial_values") or {}
    if used_parameters:
        columns = []
        for parameter in used_parameters:
            if parameter not in values or values[parameter] is None:
                raise refuse(f"the per-synapse parameter '{parameter}' without values")
            columns.append(np.broadcast_to(np.asarray(values[parameter], dtype=float),
                                           (n_synapses,)))
        table = np.column_stack(columns) if n_synapses else np.zeros((0, len(columns)))
        distinct, inverse = np.unique(table, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
    else:
        distinct, inverse = np.zeros((1, 0)), np.zeros(n_synapses, dtype=np.int64)
    # LEMS events carry no value: with few distinct values, one port per value;
    # with many, one port per incoming synapse of a cell, the values as per-cell
    # parameters (the k-th synapse of each cell arrives at port k)
    per_cell_ports = len(distinct) > MAX_PORTS_PER_PATHWAY
    if per_cell_ports:
        start = int(synapses["target" if side == "post" else "source"].get("start") or 0)
        receivers = np.asarray(synapses["j" if side == "post" else "i"], dtype=np.int64) + start
        order = np.argsort(receivers, kind="stable")
        sorted_receivers = receivers[order]
        first = np.searchsorted(sorted_receivers, sorted_receivers, side="left")
        rank = np.empty(n_synapses, dtype=np.int64)
        rank[order] = np.arange(n_synapses) - first
        n_ports = int(rank.max()) + 1 if n_synapses else 0
        if n_ports > MAX_INCOMING_PORTS:
            raise refuse(
                f"{len(distinct)} different values of "
                f"{', '.join(repr(p) for p in used_parameters)} in the '{pathway_name}' "
                f"pathway, with up to {n_ports} synapses onto one cell",
                "LEMS events carry no value and a synapse cannot change the variables of its "
                "cell, so each synapse needs its own event port on the cell (at most "
                f"{MAX_INCOMING_PORTS}). Use fewer distinct values, or let the synapses add "
                "to a variable with linear dynamics (e.g. 'dI/dt = -I/tau_s' in the neurons "
                "and on_pre='I += w'), which the export gives each synapse a copy of.",
            )

    mapping_base = {}
    constants = {}
    for identifier in set().union(*(identifiers_in(expr) for _, _, expr in statements)):
        used = _side_of(identifier, synaptic, cell_variables)
        if used is not None:
            mapping_base[identifier] = used[1]
        elif (value := constant_value(identifier, namespace)) is not None:
            if np.ndim(value) != 0:
                raise refuse(f"the non-scalar constant '{identifier}'")
            constants[_constant_name(name, identifier)] = value
            mapping_base[identifier] = _constant_name(name, identifier)
    booleans = {n for n, eq in variables[side].items() if eq.get("var_type") == "boolean"}
    gates = {}
    for target, op, _ in statements:
        variable = _side_of(target, synaptic, cell_variables)[1]
        what = f"the '{pathway_name}' pathway"
        gates[target] = _combined_gate(_refractory_gate(group, variable, dt, refuse, what),
                                       _reset_gate(group, variable, op, refuse, what))
    if any(gate is not None and "lastspike" in gate for gate in gates.values()):
        parts_spike_times.add(group["name"])
    # additions of values that do not depend on the cell's state can wait for the
    # cell's update, so that they land in Brian's step (see lems_delays)
    collected = after_update and all(
        op in ("+=", "-=") and not any(_side_of(identifier, synaptic, cell_variables)
                                       for identifier in identifiers_in(expr))
        for _, op, expr in statements)
    ports = []
    base_port = f"{name}_{pathway_name}"
    n_cells = int(group["N"])
    for index in range(n_ports if per_cell_ports else len(distinct)):
        port_name = base_port if len(distinct) == 1 else f"{base_port}_{index}"
        port = EventPort(group["name"], port_name, constants=dict(constants), origin=origin)
        mapping = dict(mapping_base)
        if per_cell_ports:
            members = np.nonzero(rank == index)[0]
            for column, parameter in enumerate(used_parameters):
                values_of_cells = np.zeros(n_cells)
                values_of_cells[receivers[members]] = table[members, column]
                parameter_name = _constant_name(port_name, parameter)
                port.per_cell[parameter_name] = (synaptic_equations[parameter]["unit"],
                                                 values_of_cells)
                mapping[parameter] = parameter_name
        else:
            members = np.nonzero(inverse == index)[0]
            for parameter, value in zip(used_parameters, distinct[index], strict=True):
                unit = synaptic_equations[parameter]["unit"]
                constant = _constant_name(port_name, parameter)
                port.constants[constant] = _with_unit(value, unit)
                mapping[parameter] = constant
        for target, op, expr in statements:
            variable = _side_of(target, synaptic, cell_variables)[1]
            value = render_expression(expr, mapping, name, f"the '{pathway_name}' pathway",
                                      booleans)
            # additions to a variable the synapses carry go to the neuron's own copy
            lems_variable = own_name(variable) if variable in moved else variable
            if collected:
                arriving = arriving_name(lems_variable)
                port.statements.append((arriving, f"{arriving} {op[0]} ({value})"))
                port.arrivals[lems_variable] = gates[target]
                # for the synapses without a delay (see lems_delays)
                port.now_statements.append((lems_variable, _assignment(
                    lems_variable, op, value, gates[target])))
                continue
            port.statements.append((lems_variable, _assignment(lems_variable, op, value,
                                                               gates[target])))
        ports.append((port, members, side))
    return ports


def _with_unit(value: float, unit):
    dimensions = get_dimensions(unit)
    if dimensions.is_dimensionless:
        return float(value)
    from brian2 import Quantity

    return Quantity(value, dim=dimensions)


def _synapse_sides(synapses: Mapping, groups: Mapping[str, dict], refuse: _Refuse) -> dict:
    sides = {}
    for side in ("pre", "post"):
        reference = synapses["source" if side == "pre" else "target"]
        if reference["group"] not in groups:
            raise refuse(f"the {side}-synaptic group '{reference['group']}'",
                         "Synapses can connect neuron groups, Poisson groups and spike "
                         "generators of the exported network.")
        sides[side] = groups[reference["group"]]
    return sides
