"""
Collecting the description of one run (see :doc:`/export_format`).

`collect_network` looks at every object of a `Network` once, understands it
with the describer of its class (one function per Brian class below) and
returns the plain description of the run. It resolves each object's
external names like Brian's ``before_run`` would, but it generates no code
and integrates no equations, which is what makes an export fast.

Anything that cannot be described faithfully is refused here with an
`UnsupportedFeatureError` naming the object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from brian2.core.clocks import Clock
from brian2.core.network import Network
from brian2.core.operations import NetworkOperation
from brian2.devices.device import get_device
from brian2.groups.group import CodeRunner
from brian2.groups.neurongroup import (
    NeuronGroup,
    Resetter,
    StateUpdater,
    SubexpressionUpdater,
    Thresholder,
)
from brian2.groups.subgroup import Subgroup
from brian2.input.poissongroup import PoissonGroup
from brian2.input.poissoninput import PoissonInput
from brian2.input.spikegeneratorgroup import SpikeGeneratorGroup
from brian2.monitors.ratemonitor import PopulationRateMonitor
from brian2.monitors.spikemonitor import EventMonitor
from brian2.monitors.statemonitor import StateMonitor
from brian2.parsing.statements import parse_statement
from brian2.spatialneuron.spatialneuron import SpatialNeuron, SpatialStateUpdater
from brian2.synapses.synapses import (
    StateUpdater as SynapticStateUpdater,
)
from brian2.synapses.synapses import (
    SummedVariableUpdater,
    Synapses,
    SynapticPathway,
)
from brian2.units.allunits import second
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity
from brian2.utils.logger import get_logger
from brian2.utils.stringtools import get_identifiers

from .equations import (
    equation_identifiers,
    neurongroup_equation_order,
    neurongroup_equations,
    synapses_equation_order,
    synapses_equations,
)
from .errors import UnsupportedFeatureError
from .legacy import legacy_layout
from .log import ExportLog
from .methods import chosen_method
from .namespace import external_values, plain_value
from .operations import describe_network_operation, own_clock

__all__ = ["collect_network", "group_reference", "advance_network_time", "LIST_KEYS"]

logger = get_logger(__name__)

#: The keys of a run description that hold lists of objects, in this order
LIST_KEYS = (
    "neurongroups",
    "poissongroups",
    "spikegeneratorgroups",
    "poissoninputs",
    "synapses",
    "statemonitors",
    "spikemonitors",
    "ratemonitors",
)

#: The helper objects Brian creates inside each class and that the description covers
_KNOWN_CONTAINED = {
    NeuronGroup: (StateUpdater, Thresholder, Resetter, SubexpressionUpdater),
    # after NeuronGroup: the last class that matches counts
    SpatialNeuron: (SpatialStateUpdater, StateUpdater, Thresholder, Resetter,
                    SubexpressionUpdater),
    PoissonGroup: (Thresholder,),
    Synapses: (
        SynapticPathway,
        SummedVariableUpdater,
        SynapticStateUpdater,
        SubexpressionUpdater,
    ),
}

#: Variables Brian keeps for the refractory mechanism of a group
_REFRACTORY_VARIABLES = ("lastspike", "not_refractory")


# ---------------------------------------------------------------------- #
# Small helpers
# ---------------------------------------------------------------------- #
def group_reference(group) -> dict[str, Any]:
    """
    The group reference of a group or subgroup.

    Parameters
    ----------
    group : brian2.Group
        A group, a `Subgroup` (``group[10:20]``) or a `Synapses` object.

    Returns
    -------
    reference : dict
        ``{'group': name, 'start': int, 'stop': int}``, ``stop`` exclusive.

    Examples
    --------
    >>> from brian2 import NeuronGroup
    >>> group = NeuronGroup(10, 'v : 1', name='cells')
    >>> group_reference(group[2:5])
    {'group': 'cells', 'start': 2, 'stop': 5}
    """
    if isinstance(group, Subgroup):
        return {"group": group.source.name, "start": int(group.start), "stop": int(group.stop)}
    return {"group": group.name, "start": 0, "stop": int(len(group))}


def _with_dim(values, dim):
    """A copy of ``values`` as a Quantity with ``dim``, or a plain array if dimensionless."""
    array = np.array(values, copy=True)
    if dim is DIMENSIONLESS:
        return array
    return Quantity(array, dim=dim)


def _merge_namespaces(object_name: str, parts) -> dict[str, Any]:
    """
    Merge the namespaces of an object's parts, refusing a name with two values.

    ``parts`` is a list of ``(where, namespace)``; a name can have different
    values if it changed between, say, an assignment and the run.
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for where, namespace in parts:
        for name, value in namespace.items():
            if name in merged and not _same(merged[name], value):
                raise UnsupportedFeatureError(
                    object_name,
                    f"the name '{name}' with two different values: {merged[name]!r} "
                    f"(in {origin[name]}) and {value!r} (in {where})",
                    "Use different names for different values.",
                )
            merged.setdefault(name, value)
            origin.setdefault(name, where)
    return dict(sorted(merged.items()))


def _same(first, second) -> bool:
    """Whether two description values are equal (Quantities, arrays, dicts, lists, ...)."""
    if isinstance(first, dict) and isinstance(second, dict):
        return first.keys() == second.keys() and all(
            _same(first[key], second[key]) for key in first
        )
    if isinstance(first, (list, tuple)) and isinstance(second, (list, tuple)):
        return len(first) == len(second) and all(
            _same(a, b) for a, b in zip(first, second, strict=True)
        )
    if isinstance(first, str) or isinstance(second, str) or first is None or second is None:
        return type(first) is type(second) and first == second
    if getattr(first, "dim", DIMENSIONLESS) is not getattr(second, "dim", DIMENSIONLESS):
        return False
    try:
        a, b = np.asarray(first), np.asarray(second)
    except Exception:  # pragma: no cover -- values of the description are array-like
        return first == second
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _check_clock(obj, dt, allow_own_dt: bool = False) -> Quantity:  # noqa: ARG001
    """The dt of ``obj``'s clock, refusing clocks that are not regular `Clock` objects."""
    clock = obj.clock
    if not isinstance(clock, Clock):
        raise UnsupportedFeatureError(
            obj.name,
            f"the clock '{clock.name}' of type {type(clock).__name__}",
            "Only regular clocks (Clock with a fixed dt) can be exported.",
        )
    # a clock with another dt is described (the object's 'clock' entry, see
    # _add_own_clock); exporters that cannot run it refuse it by name
    return clock.dt


def _is_run_regularly(obj) -> bool:
    """Whether ``obj`` is the code runner of a ``run_regularly`` call."""
    return type(obj) is CodeRunner and "run_regularly" in obj.name


def _check_contained(obj, dt, run_regularly: bool = False) -> list:
    """
    Refuse operations attached to ``obj`` beyond those its description covers.

    With ``run_regularly``, the ``run_regularly`` operations of ``obj`` and of
    its sub-groups are accepted and returned (in the order of Brian's list).
    """
    allowed = ()
    for cls, classes in _KNOWN_CONTAINED.items():
        if isinstance(obj, cls):
            allowed = classes
    accepted = []
    for contained in obj.contained_objects:
        if type(contained) in allowed:
            _check_clock(contained, dt)
            continue
        # an operation on a sub-group (G[:10].run_regularly(...)) is contained in
        # the sub-group, which the group keeps: name the operation, not the sub-group
        inner = [op for op in getattr(contained, "contained_objects", ())
                 if isinstance(op, CodeRunner)]
        if run_regularly and _is_run_regularly(contained):
            accepted.append(contained)
            continue
        if (run_regularly and isinstance(contained, Subgroup) and inner
                and len(inner) == len(contained.contained_objects)
                and all(_is_run_regularly(op) for op in inner)):
            accepted.extend(inner)
            continue
        if isinstance(contained, CodeRunner) and "run_regularly" in contained.name:
            feature = f"the run_regularly operation '{contained.name}'"
        elif inner:
            kind = "run_regularly operation" if "run_regularly" in inner[0].name else "operation"
            feature = (f"the {kind} '{inner[0].name}' on its sub-group "
                       f"'{contained.name}'")
        else:
            feature = f"the operation '{contained.name}' ({type(contained).__name__})"
        raise UnsupportedFeatureError(
            obj.name, feature, "Custom operations during a run cannot be exported."
        )
    return accepted


def _describe_run_regularly(operation, context) -> dict[str, Any]:
    """
    The description of one ``run_regularly`` operation of a NeuronGroup or sub-group.

    Its clock must tick on the default clock's steps (its dt a multiple of
    the default dt), since the description has no clock of its own for it.
    """
    group = operation.group
    dt = float(context.dt)
    own_dt = float(operation.clock.dt)
    steps = own_dt / dt
    if not isinstance(operation.clock, Clock) or abs(steps - round(steps)) > 1e-9 * steps:
        raise UnsupportedFeatureError(
            operation.name,
            f"a run_regularly dt of {operation.clock.dt!s}, not a multiple of the default "
            f"clock's dt={context.dt!s}",
            "Give run_regularly a dt that is a whole number of time steps.",
        )
    code = clean_code(operation.abstract_code)
    namespace = external_values(
        group, _code_identifiers(code, variables=group.variables), context.run_namespace,
        operation.name, "the run_regularly code")
    return {
        "name": operation.name,
        "code": code,
        "target": group_reference(group),
        "dt": Quantity(own_dt, dim=second.dim),
        "when": operation.when,
        "order": int(operation.order),
        "namespace": namespace,
    }


def _initializers(log: ExportLog, obj, since_run: int) -> tuple[list[dict], list]:
    """The recorded assignments of ``obj`` since run ``since_run``, and their namespaces."""
    initializers = []
    namespaces = []
    for entry in log.entries_for("assignments", obj.id, since_run):
        if entry.problem is not None:
            raise entry.problem
        data = dict(entry.data)
        initializers.append(data)
        namespaces.append((f"the assignment to '{data['variable']}'", data["namespace"]))
    return initializers, namespaces


def _initial_values(group, names) -> dict[str, Any]:
    """Copies of the current values of the variables ``names``, with units."""
    values = {}
    linked = getattr(group, "_linked_variables", set())
    for name in names:
        if name in linked:  # the values of another group (the equation's 'linked' entry)
            continue
        variable = group.variables[name]
        values[name] = _with_dim(variable.get_value(), variable.dim)
    return values


def _method(method_choice):
    """The integration method asked for: a name, a list of names, or ``None`` (Brian's choice)."""
    if method_choice is None or isinstance(method_choice, str):
        return method_choice
    if isinstance(method_choice, (list, tuple)):
        return [str(method) for method in method_choice]
    return str(method_choice)


def _slot(obj) -> dict[str, Any] | None:
    """When ``obj`` runs in a time step: ``{'when': slot name, 'order': int}``."""
    if obj is None:
        return None
    return {"when": obj.when, "order": int(obj.order)}


def _main_slot(obj, updater=None) -> dict[str, Any]:
    """The ``'when'``/``'order'`` keys of an object: those of its state updater if it has one."""
    slot = _slot(updater) if updater is not None else _slot(obj)
    return {"when": slot["when"], "order": slot["order"]}


def clean_code(code: str) -> str:
    """
    Brian code as the description keeps it: comments and indentation removed.

    Brian accepts code over several lines, indented as in a triple-quoted
    string, with Python comments (``on_pre='v += w  # kick'``); the
    description keeps one statement per line, without either (its code
    holds no strings, so ``#`` always starts a comment).

    Parameters
    ----------
    code : str

    Returns
    -------
    str

    Examples
    --------
    >>> clean_code('''
    ...     v_post += w  # kick
    ...     w = clip(w + 1, 0, 5)
    ...     ''')
    'v_post += w\nw = clip(w + 1, 0, 5)'
    """
    lines = (line.split("#", 1)[0].strip() for line in code.splitlines())
    return "\n".join(line for line in lines if line)


def _code_identifiers(*codes, variables=()) -> set[str]:
    """
    The names that ``codes`` read from outside: temporaries that a statement
    defines (``tmp = v + 1`` where ``tmp`` is not one of ``variables``, as
    Brian allows in resets and pathways) are left out.
    """
    identifiers: set[str] = set()
    temporaries: set[str] = set()
    for code in codes:
        if not isinstance(code, str):
            continue
        code = clean_code(code)
        identifiers |= get_identifiers(code)
        for line in code.splitlines():
            if not line.strip() or line.strip().startswith("#"):
                continue
            try:
                name, operation, _, _ = parse_statement(line)
            except ValueError:  # a condition (threshold), not a statement
                continue
            if operation == "=" and name not in variables:
                temporaries.add(name)
    return identifiers - temporaries


# ---------------------------------------------------------------------- #
# One describer per Brian class
# ---------------------------------------------------------------------- #
class _Context:
    """What every describer needs: the run's namespace, the log, and what came before."""

    def __init__(self, run_namespace, log, dt, continued_ids):
        self.run_namespace = run_namespace
        self.log = log
        self.dt = dt
        self.continued_ids = continued_ids
        self.run_index = 0
        self.spatial_neurons = True

    def continued(self, obj) -> bool:
        return obj.id in self.continued_ids

    def since_run(self, obj) -> int:
        """Assignments to list: all for a new object, the latest for a continued one."""
        return self.run_index if self.continued(obj) else 0


def _describe_neurongroup(group: NeuronGroup, context: _Context) -> dict[str, Any]:
    _check_clock(group, context.dt)
    run_regularly = [_describe_run_regularly(operation, context)
                     for operation in _check_contained(group, context.dt, run_regularly=True)]
    namespace = context.run_namespace
    equations = neurongroup_equations(group)
    # Brian checks the units of the equations at the start of each run
    group.equations.check_units(group, namespace)
    identifiers, stochastic = equation_identifiers(equations)
    parts = [
        (
            "the equations",
            external_values(
                group, identifiers, namespace, group.name, "the equations", ignore=stochastic
            ),
        )
    ]
    events = {}
    for event, threshold in group.events.items():
        reset = group.event_codes.get(event)
        events[event] = {
            "threshold": clean_code(threshold),
            "reset": None if reset is None else clean_code(reset),
        }
        where = f"the '{event}' event"
        parts.append(
            (
                where,
                external_values(
                    group,
                    _code_identifiers(threshold, reset, variables=group.variables),
                    namespace,
                    group.name,
                    where,
                ),
            )
        )
    for event in group.event_codes:
        if event not in group.events:  # pragma: no cover -- Brian refuses this itself
            raise UnsupportedFeatureError(group.name, f"code run on the unknown event '{event}'")
    refractory = group._refractory
    if refractory is False or refractory is None:
        refractory = None
    elif isinstance(refractory, str):
        refractory = clean_code(refractory)
        parts.append(
            (
                "the refractoriness",
                external_values(
                    group, get_identifiers(refractory), namespace, group.name, "the refractoriness"
                ),
            )
        )
    else:
        refractory = plain_value(refractory)
    parts += [(f"the run_regularly operation '{operation['name']}'", operation["namespace"])
              for operation in run_regularly]
    since = context.since_run(group)
    initializers, initializer_namespaces = _initializers(context.log, group, since)
    state_names = [
        eq["name"] for eq in equations if eq["type"] in ("differential equation", "parameter")
    ]
    event_slots = {
        event: {
            "threshold": _slot(group.thresholder.get(event)),
            "reset": _slot(group.resetter.get(event)),
        }
        for event in events
    }
    return {
        "name": group.name,
        "N": int(group.N),
        "equations": equations,
        "equation_order": neurongroup_equation_order(group),
        "events": events,
        "event_slots": event_slots,
        **_main_slot(group, getattr(group, "state_updater", None)),
        "refractory": refractory,
        "method": _method(getattr(group, "method_choice", None)),
        "method_used": chosen_method(group.equations, group.variables,
                                     getattr(group, "method_choice", None)),
        "namespace": _merge_namespaces(group.name, parts + initializer_namespaces),
        "run_regularly": run_regularly,
        "initializers": initializers,
        "initial_values": None if context.continued(group) else _initial_values(group, state_names),
        "continued": context.continued(group),
    }


def _describe_synapses(synapses: Synapses, context: _Context) -> dict[str, Any]:
    _check_clock(synapses, context.dt)
    _check_contained(synapses, context.dt)
    if len(synapses) == 0 and not synapses._connect_called:
        raise TypeError(
            f"Synapses object '{synapses.name}' does not do anything, since it has "
            "not created synapses with 'connect'."
        )
    namespace = context.run_namespace
    equations = synapses_equations(synapses)
    synapses.equations.check_units(synapses, namespace)
    identifiers, stochastic = equation_identifiers(equations)
    parts = [
        (
            "the equations",
            external_values(
                synapses, identifiers, namespace, synapses.name, "the equations", ignore=stochastic
            ),
        )
    ]
    n_synapses = len(synapses)
    pathways = []
    for pathway in synapses._pathways:
        _check_clock(pathway, context.dt)
        pathway_name = pathway.name[len(synapses.name) + 1 :]
        where = f"the '{pathway_name}' pathway"
        parts.append(
            (
                where,
                external_values(
                    synapses,
                    _code_identifiers(pathway.code, variables=synapses.variables),
                    namespace,
                    synapses.name,
                    where,
                ),
            )
        )
        delay_variable = pathway.variables["delay"]
        delays = np.asarray(delay_variable.get_value())
        if delay_variable.scalar or delays.size != n_synapses:
            delays = np.full(n_synapses, delays.ravel()[0] if delays.size else 0.0)
        pathways.append(
            {
                "name": pathway_name,
                "prepost": pathway.prepost,
                "event": pathway.event,
                "code": clean_code(pathway.code),
                "delay": Quantity(np.array(delays, dtype=float), dim=second.dim),
                **_slot(pathway),
            }
        )
    connections = []
    for entry in context.log.entries_for("connections", synapses.id):
        if entry.problem is not None:
            raise entry.problem
        data = dict(entry.data)
        connections.append(data)
        parts.append(("the connect() call", data["namespace"]))
    since = context.since_run(synapses)
    initializers, initializer_namespaces = _initializers(context.log, synapses, since)
    state_names = [
        eq["name"] for eq in equations if eq["type"] in ("differential equation", "parameter")
    ]
    return {
        "name": synapses.name,
        "source": group_reference(synapses.source),
        "target": group_reference(synapses.target),
        "equations": equations,
        "equation_order": synapses_equation_order(synapses),
        "pathways": pathways,
        "summed_slots": {
            varname: _slot(updater) for varname, updater in synapses.summed_updaters.items()
        },
        **_main_slot(synapses, getattr(synapses, "state_updater", None)),
        "method": _method(getattr(getattr(synapses, "state_updater", None), "method_choice", None)),
        "method_used": chosen_method(
            synapses.equations, synapses.variables,
            getattr(getattr(synapses, "state_updater", None), "method_choice", None)),
        "namespace": _merge_namespaces(synapses.name, parts + initializer_namespaces),
        "connections": connections,
        # relative to source and target: for subgroups Brian computes them
        "i": np.array(synapses.state("i")[:], dtype=np.int64),
        "j": np.array(synapses.state("j")[:], dtype=np.int64),
        "N": n_synapses,
        "initializers": initializers,
        "initial_values": None
        if context.continued(synapses)
        else _initial_values(synapses, state_names),
        "continued": context.continued(synapses),
    }


def _describe_poissongroup(group: PoissonGroup, context: _Context) -> dict[str, Any]:
    _check_clock(group, context.dt)
    _check_contained(group, context.dt)
    rates = group._rates
    namespace: dict[str, Any] = {}
    if isinstance(rates, str):
        rates = clean_code(rates)
        namespace = external_values(
            group, get_identifiers(rates), context.run_namespace, group.name, "the rates"
        )
    else:
        rates = _with_dim(
            np.broadcast_to(group.variables["rates"].get_value(), (group.N,)),
            group.variables["rates"].dim,
        )
    # the initialisers of a Poisson group only set its rates, described above
    _initializers(context.log, group, 0)
    return {
        "name": group.name,
        "N": int(group.N),
        "rates": rates,
        "namespace": namespace,
        **_slot(group),
        "continued": context.continued(group),
    }


def _describe_spikegeneratorgroup(group: SpikeGeneratorGroup, context: _Context) -> dict[str, Any]:
    _check_clock(group, context.dt)
    _check_contained(group, context.dt)
    indices = np.array(group.variables["neuron_index"].get_value(), dtype=np.int64)
    times = np.array(group.variables["spike_time"].get_value(), dtype=float)
    period = float(np.asarray(group.variables["period"].get_value()).ravel()[0])
    dt = float(group.clock.dt)
    # Brian refuses two spikes of one neuron within a time step when the run starts
    bins = np.round(times / dt).astype(np.int64)
    if len(set(zip(indices.tolist(), bins.tolist(), strict=True))) != len(indices):
        raise ValueError(
            f"Using a dt of {group.clock.dt!s}, some neurons of SpikeGeneratorGroup "
            f"'{group.name}' spike more than once during a time step."
        )
    return {
        "name": group.name,
        "N": int(group.N),
        "indices": indices,
        "times": Quantity(times, dim=second.dim),
        "period": Quantity(period, dim=second.dim),
        **_slot(group),
        "continued": context.continued(group),
    }


def _describe_poissoninput(poisson_input: PoissonInput, context: _Context) -> dict[str, Any]:
    _check_clock(poisson_input, context.dt)
    target = poisson_input._group
    if target.dt_ != poisson_input._stored_dt:
        raise NotImplementedError(
            f"The dt used for simulating {target.name} changed after the "
            f"PoissonInput '{poisson_input.name}' was created."
        )
    weight = poisson_input.weight
    if isinstance(weight, str):
        weight = clean_code(weight)
        namespace = external_values(
            target, get_identifiers(weight), context.run_namespace, poisson_input.name, "the weight"
        )
    else:
        weight = repr(weight)
        namespace = {}
    return {
        "name": poisson_input.name,
        "target": group_reference(target),
        "target_var": poisson_input.target_var,
        "N": int(poisson_input.N),
        "rate": plain_value(poisson_input.rate),
        "weight": weight,
        "namespace": namespace,
        **_slot(poisson_input),
        "continued": context.continued(poisson_input),
    }


def _describe_statemonitor(monitor: StateMonitor, context: _Context) -> dict[str, Any]:
    dt = _check_clock(monitor, context.dt, allow_own_dt=True)
    return {
        "name": monitor.name,
        "source": group_reference(monitor.source),
        "variables": list(monitor.record_variables),
        "record": np.array(monitor.record, dtype=np.int64),
        "dt": dt,
        "when": monitor.when,
        "order": int(monitor.order),
        "continued": context.continued(monitor),
    }


def _describe_eventmonitor(monitor: EventMonitor, context: _Context) -> dict[str, Any]:
    _check_clock(monitor, context.dt)
    return {
        "name": monitor.name,
        "source": group_reference(monitor.source),
        "event": monitor.event,
        "record": bool(monitor.record),
        "variables": sorted(set(monitor.record_variables) - {"i", "t"}),
        **_slot(monitor),
        "continued": context.continued(monitor),
    }


def _describe_ratemonitor(monitor: PopulationRateMonitor, context: _Context) -> dict[str, Any]:
    _check_clock(monitor, context.dt)
    return {
        "name": monitor.name,
        "source": group_reference(monitor.source),
        **_slot(monitor),
        "continued": context.continued(monitor),
    }


def _describe(obj, context: _Context) -> tuple[str, dict[str, Any]] | None:
    """The list key and description of one top-level object (``None`` for subgroups)."""
    if isinstance(obj, SpatialNeuron):
        if not context.spatial_neurons:
            raise UnsupportedFeatureError(
                obj.name,
                "a SpatialNeuron (multi-compartment model)",
                "This exporter only describes single-compartment NeuronGroups.",
            )
        from .spatial import describe_spatialneuron  # the spatial module uses our helpers

        return "spatialneurons", describe_spatialneuron(obj, context)
    if isinstance(obj, Subgroup):
        return None  # described through the group references that use it
    if isinstance(obj, NetworkOperation):
        return "network_operations", _describe_network_operation(obj, context)
    if isinstance(obj, PoissonInput):
        return "poissoninputs", _describe_poissoninput(obj, context)
    if isinstance(obj, Synapses):
        return "synapses", _describe_synapses(obj, context)
    if isinstance(obj, NeuronGroup):
        return "neurongroups", _describe_neurongroup(obj, context)
    if isinstance(obj, PoissonGroup):
        return "poissongroups", _describe_poissongroup(obj, context)
    if isinstance(obj, SpikeGeneratorGroup):
        return "spikegeneratorgroups", _describe_spikegeneratorgroup(obj, context)
    if isinstance(obj, StateMonitor):
        return "statemonitors", _describe_statemonitor(obj, context)
    if isinstance(obj, EventMonitor):  # also SpikeMonitor
        return "spikemonitors", _describe_eventmonitor(obj, context)
    if isinstance(obj, PopulationRateMonitor):
        return "ratemonitors", _describe_ratemonitor(obj, context)
    if isinstance(obj, CodeRunner):
        raise UnsupportedFeatureError(
            obj.name,
            f"a custom operation ({type(obj).__name__})",
            "Custom code runners cannot be exported.",
        )
    raise UnsupportedFeatureError(obj.name, f"an object of type {type(obj).__name__}")


# ---------------------------------------------------------------------- #
# Described for readers, refused by simulator exports (see .operations)
# ---------------------------------------------------------------------- #
def _describe_network_operation(operation, context: _Context) -> dict[str, Any]:
    _check_clock(operation, context.dt)
    return describe_network_operation(operation, context.dt, context.continued(operation))


def _add_own_clock(key: str, item: dict[str, Any], obj, context: _Context) -> None:
    """The ``'clock'`` entry of an object on a clock with another ``dt`` (not for StateMonitors,
    whose ``'dt'`` says it)."""
    if key in ("statemonitors", "network_operations"):
        return
    clock = own_clock(obj, context.dt)
    if clock is not None:
        item["clock"] = clock


def _add_operation_changes(description: dict[str, Any]) -> None:
    """List a ``network_operation`` new in this run among the run's changes."""
    for operation in description.get("network_operations", ()):
        if not operation["continued"]:
            description["changes"].append({
                "object": operation["name"],
                "kind": "added",
                "detail": f"'{operation['name']}' (network_operations) is new in this run",
            })


def _add_state_actions(description: dict[str, Any], log: ExportLog, run_index: int) -> None:
    """The ``store()``/``restore()`` calls made since the previous run (``'actions'``)."""
    actions = [dict(data) for index, data in getattr(log, "actions", ()) if index == run_index]
    if actions:
        description["actions"] = actions


# ---------------------------------------------------------------------- #
# Changes between runs
# ---------------------------------------------------------------------- #
_COMPARED_KEYS = {
    "poissongroups": ("N", "rates", "namespace"),
    "spikegeneratorgroups": ("indices", "times", "period"),
    "poissoninputs": ("target", "target_var", "N", "rate", "weight", "namespace"),
    "statemonitors": ("source", "variables", "record", "dt", "when"),
    "spikemonitors": ("source", "event", "record", "variables"),
    "ratemonitors": ("source",),
}


#: The lists whose objects' changes between runs are listed ('spatialneurons' only
#: exists in runs that have some)
_CHANGE_KEYS = (*LIST_KEYS, "spatialneurons")


def _describe_assignment(data: dict[str, Any]) -> str:
    index = data["index"]
    target = data["variable"]
    if isinstance(index, str):
        target += f"[{index!r}]"
    elif index is not None:
        target += f"[{len(index)} cells]"
    value = data["value"]
    if data["kind"] == "expression":
        value = repr(value)
    elif data["kind"] == "array":
        value = f"<{np.size(value)} values>"
    return f"{target} = {value}"


def _changes(description, previous, context: _Context, previous_objects) -> list[dict[str, Any]]:
    """What changed since the previous run (see the ``'changes'`` key)."""
    if previous is None:
        return []
    changes: list[dict[str, Any]] = []
    current_objects = context.current_objects
    for obj_id, name in previous_objects.items():
        if obj_id not in current_objects:
            changes.append(
                {
                    "object": name,
                    "kind": "removed",
                    "detail": f"'{name}' is no longer part of the run",
                }
            )
    previous_by_name = {
        item["name"]: (key, item) for key in _CHANGE_KEYS for item in previous.get(key, [])
    }
    if not _same(description["dt"], previous["dt"]):
        changes.append(
            {
                "object": "defaultclock",
                "kind": "dt",
                "detail": f"dt = {description['dt']!s} (was {previous['dt']!s})",
            }
        )
    for key in _CHANGE_KEYS:
        for item in description.get(key, ()):
            name = item["name"]
            if not item["continued"]:
                changes.append(
                    {
                        "object": name,
                        "kind": "added",
                        "detail": f"'{name}' ({key}) is new in this run",
                    }
                )
                continue
            before = previous_by_name.get(name, (None, {}))[1]
            for data in item.get("initializers", []):
                changes.append(
                    {
                        "object": name,
                        "kind": "assignment",
                        "detail": _describe_assignment(data),
                        "initializer": data,
                    }
                )
            for data in item.get("connections", []):
                if data["created"]["start"] >= before.get("N", 0):
                    changes.append(
                        {
                            "object": name,
                            "kind": "connection",
                            "detail": f"connect() created {data['created']['stop'] - data['created']['start']} synapses",
                            "connection": data,
                        }
                    )
            old_namespace = before.get("namespace", {})
            for identifier, value in item.get("namespace", {}).items():
                if identifier in old_namespace and not _same(old_namespace[identifier], value):
                    changes.append(
                        {
                            "object": name,
                            "kind": "namespace",
                            "detail": f"{identifier} = {value!s} (was {old_namespace[identifier]!s})",
                        }
                    )
            for compared in _COMPARED_KEYS.get(key, ()):
                if compared in before and not _same(before[compared], item[compared]):
                    changes.append(
                        {"object": name, "kind": "modified", "detail": f"'{compared}' changed"}
                    )
    return changes


# ---------------------------------------------------------------------- #
# The network
# ---------------------------------------------------------------------- #
def _top_level_objects(network: Network) -> list:
    """The network's objects that are not part of another object (magic networks hold both)."""
    objects = list(network.objects)
    contained_ids = set()
    pending = list(objects)
    while pending:
        obj = pending.pop()
        for contained in obj.contained_objects:
            if contained.id not in contained_ids:
                contained_ids.add(contained.id)
                pending.append(contained)
    return [obj for obj in objects if obj.id not in contained_ids]


def _creation_rank(obj, creation_order: Mapping[Any, int]) -> tuple:
    """
    A sort key that puts objects in the order they were created.

    The device learns the order when the objects create their arrays. Objects
    without arrays (``PoissonInput``) come after, in the order of their
    names, which Brian numbers in creation order (``poissoninput``,
    ``poissoninput_1``, ...).
    """
    if obj.id in creation_order:
        return (0, creation_order[obj.id], "", 0)
    match = re.fullmatch(r"(.*?)(?:_(\d+))?", obj.name)
    return (1, 0, match.group(1), int(match.group(2) or 0) if match.group(2) else -1)


def _check_network(network: Network, objects) -> None:
    """The checks of Brian's ``Network.before_run`` that do not need code generation."""
    all_objects = [obj for obj in network.sorted_objects]
    names = [obj.name for obj in all_objects]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        formatted = ", ".join(f"'{name}'" for name in duplicates)
        raise ValueError(
            "All objects in a network need to have unique names, the following "
            f"name(s) were used more than once: {formatted}"
        )
    network.check_dependencies()
    for obj in all_objects:
        if obj._network is None:
            obj._network = network.id
        elif obj._network != network.id:
            raise RuntimeError(
                f"'{obj.name}' has already been run in the context of another network. "
                "Use add/remove to change the objects in a simulated network instead "
                "of creating a new one."
            )
    for obj in objects:
        if not obj.active:
            raise UnsupportedFeatureError(
                obj.name,
                "active=False (an object switched off for this run)",
                "Remove the object from the network instead.",
            )


def collect_network(
    network: Network,
    duration,
    run_namespace: Mapping[str, Any],
    log: ExportLog | None = None,
    run_index: int = 0,
    previous: dict[str, Any] | None = None,
    creation_order: Mapping[Any, int] | None = None,
    spatial_neurons: bool = True,
) -> dict[str, Any]:
    """
    The description of one run of ``network`` (see :doc:`/export_format`).

    Parameters
    ----------
    network : brian2.Network
        The network about to run (the `MagicNetwork` for ``run()``).
    duration : Quantity
        The duration of the run.
    run_namespace : dict
        The run's namespace: the ``namespace`` argument of ``run()`` or the
        locals and globals of its caller (`get_local_namespace`).
    log : ExportLog, optional
        The assignments and ``connect()`` calls recorded by the device. Without
        a log (e.g. under the runtime device) the ``'initializers'`` and
        ``'connections'`` lists are empty, while ``'initial_values'``, ``'i'``
        and ``'j'`` are still complete.
    run_index : int, optional
        The position of this run (0 for the first).
    previous : dict, optional
        The description of the previous run, to list the changes.
    creation_order : mapping, optional
        Object id -> creation rank, to list objects in creation order
        (by default, the order of ``network.objects``).
    spatial_neurons : bool, optional
        Describe `SpatialNeuron` objects in the list ``'spatialneurons'``
        (default); with ``False`` they are refused.

    Returns
    -------
    description : dict
        The description of the run.

    Raises
    ------
    UnsupportedFeatureError
        If an object or a feature cannot be described faithfully.

    Examples
    --------
    >>> from brian2 import NeuronGroup, Network, ms
    >>> group = NeuronGroup(3, 'dv/dt = -v / tau : 1', name='cells')
    >>> net = Network(group)
    >>> run = collect_network(net, 10*ms, {'tau': 5*ms})
    >>> run['neurongroups'][0]['namespace']
    {'tau': 5. * msecond}
    """
    if log is None:
        log = ExportLog()
    objects = _top_level_objects(network)
    objects.sort(key=lambda obj: _creation_rank(obj, creation_order or {}))
    _check_network(network, objects)
    dt = get_device().defaultclock.dt
    previous_objects = log.run_objects[-1] if previous is not None and log.run_objects else {}
    context = _Context(run_namespace, log, dt, set(previous_objects))
    context.run_index = run_index
    context.spatial_neurons = spatial_neurons
    description: dict[str, Any] = {
        "index": run_index,
        "duration": Quantity(duration, dim=second.dim, copy=True),
        "dt": Quantity(dt, copy=True),
        "t_start": Quantity(network.t, copy=True),
        "seed": log.seed_since(run_index),
    }
    for key in LIST_KEYS:
        description[key] = []
    current_objects = {}
    for obj in objects:
        described = _describe(obj, context)
        if described is None:
            continue
        key, item = described
        _add_own_clock(key, item, obj, context)
        # 'spatialneurons' (and 'network_operations') are only there when the run has some
        description.setdefault(key, []).append(item)
        current_objects[obj.id] = obj.name
    context.current_objects = current_objects
    description["changes"] = _changes(description, previous, context, previous_objects)
    _add_state_actions(description, log, run_index)
    if previous is not None:
        _add_operation_changes(description)
    log.run_objects.append(current_objects)
    # the layout of brian2tools 0.3, built from the description above (no second collection)
    description.update(legacy_layout(description))
    return description


def advance_network_time(network: Network, duration) -> None:
    """
    Move the network's time and clocks to the end of a run of ``duration``, as Brian would.

    Parameters
    ----------
    network : brian2.Network
        The network.
    duration : Quantity
        The duration of the run that was described instead of simulated.

    Examples
    --------
    >>> from brian2 import Network, NeuronGroup, ms
    >>> net = Network(NeuronGroup(1, 'v : 1'))
    >>> advance_network_time(net, 5*ms)
    >>> net.t
    5. * msecond
    """
    t_end = network.t + duration
    clocks = {obj.clock for obj in network.sorted_objects}
    for clock in clocks:
        clock.set_interval(network.t, t_end)
        end_step = clock._i_end
        clock.variables["timestep"].set_value(end_step)
        clock.variables["t"].set_value(end_step * clock.dt_)
    network.t_ = float(t_end)
