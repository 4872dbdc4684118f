"""
One describer per Brian class: an object of the network -> its plain description.

``_describe`` picks the describer by the class of a top-level object and
returns the list of the run description that the object goes to (one of
`LIST_KEYS`, or ``'spatialneurons'``/``'network_operations'``) with its
description (see :doc:`/export_format`). The describers check what they
cannot describe faithfully and refuse it with an `UnsupportedFeatureError`
naming the object.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from brian2.core.clocks import Clock
from brian2.core.operations import NetworkOperation
from brian2.groups.group import CodeRunner
from brian2.groups.neurongroup import (
    NeuronGroup,
)
from brian2.groups.subgroup import Subgroup
from brian2.input.poissongroup import PoissonGroup
from brian2.input.poissoninput import PoissonInput
from brian2.input.spikegeneratorgroup import SpikeGeneratorGroup
from brian2.monitors.ratemonitor import PopulationRateMonitor
from brian2.monitors.spikemonitor import EventMonitor
from brian2.monitors.statemonitor import StateMonitor
from brian2.spatialneuron.spatialneuron import SpatialNeuron
from brian2.synapses.synapses import (
    Synapses,
)
from brian2.units.allunits import second
from brian2.units.fundamentalunits import Quantity
from brian2.utils.logger import get_logger
from brian2.utils.stringtools import get_identifiers

from .checks import _check_clock, _check_contained
from .describe_common import (
    _code_identifiers,
    _Context,
    _initial_values,
    _initializers,
    _main_slot,
    _merge_namespaces,
    _method,
    _slot,
    _with_dim,
    clean_code,
    group_reference,
)
from .equations import (
    equation_identifiers,
    neurongroup_equation_order,
    neurongroup_equations,
    synapses_equation_order,
    synapses_equations,
)
from .errors import UnsupportedFeatureError
from .methods import chosen_method
from .namespace import external_values, plain_value
from .operations import describe_network_operation, own_clock
from .spatial import describe_spatialneuron

__all__ = ["LIST_KEYS"]

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


#: Variables Brian keeps for the refractory mechanism of a group
_REFRACTORY_VARIABLES = ("lastspike", "not_refractory")


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


# ---------------------------------------------------------------------- #
# One describer per Brian class
# ---------------------------------------------------------------------- #


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
