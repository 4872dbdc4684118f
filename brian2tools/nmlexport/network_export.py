"""
Networks in NeuroML2/LEMS: synapses, spike generators, Poisson groups and inputs.

Pure functions from the model description (see :doc:`/export_format`) to the
LEMS parts of a network. The NeuroML exporter (:mod:`.lemsexport`) adds them
to the cell types and to the ``network`` it builds for the neuron groups.

How a Brian network becomes LEMS (the reasons are in
:doc:`/nmlexport_network`):

* A synaptic pathway (``on_pre`` or ``on_post``) that adds to variables
  with linear dynamics of the receiving neurons (``ge += w``) becomes a
  NeuroML synapse component type that carries its own copy of them, and a
  ``projection`` with one connection (cells, weight, delay) per synapse
  (:mod:`.synapse_components`, written in the compact form of
  :mod:`.connections`).
* Any other pathway (``v += w``) runs its statements on the cell whose
  variables they change, as Brian does: the receiving cell type gets an
  ``EventPort`` and an ``OnEvent`` with the statements, and every synapse
  becomes a connection that sends the spikes of its trigger cell to that
  port (a component type extending NeuroML's ``explicitConnection``).
  Values that differ between synapses are grouped (each distinct value its
  own port) or, when there are many, given to the cells as parameters (the
  k-th synapse onto a cell arrives at port k).
* Timing (see `lems_delays`): jNeuroML reports a spike one step after
  Brian and delivers an event at the start of a step, before the cells are
  updated; Brian applies a synaptic effect after the update. An event with
  a delay of ``d >= 1`` Brian steps that only adds to variables (``v +=
  w``, ``ge += w``) is written with the delay ``(d - 1/2) * dt``: it
  arrives at the start of Brian's step, the receiving component collects
  it (``v__arriving``) and adds it after its update, in an ``OnCondition``
  right after the threshold's; the cells then integrate, record and spike
  exactly as in Brian. A delay of 0 cannot be shortened (jNeuroML would
  deliver the event during the update, before or after the receiving
  cell's depending on their order), so such events (and Poisson inputs,
  statements that read the receiving cell's variables such as ``v +=
  w*(E - v)``, and the portable form) arrive half a step after the next
  step begins (``(d + 1/2) * dt``) and change the state when they arrive,
  before the update: the dynamics and spikes are still Brian's, but the
  value recorded at the arrival lacks the event.
* A SpikeGeneratorGroup becomes a population of NeuroML ``spikeArray``
  sources with the spike times Brian uses (periods unrolled over the
  simulated time); a PoissonGroup a population of ``spikeGeneratorPoisson``
  sources with each cell's rate; a PoissonInput one Poisson source per
  target cell at ``N * rate`` sending its events to a port that applies the
  weight.
* Synapses with a state of their own (STDP, short-term plasticity) become
  synapse component types with that state (:mod:`.plastic_synapses`).
* What LEMS cannot reproduce is refused by name: plastic synapses that
  change neuron variables without linear dynamics, summed
  variables (gap junctions), reading the other cell's variables, resets
  that depend on what events change, too many differently weighted
  synapses onto one cell, custom events.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from brian2 import Hz, get_dimensions, second
from brian2.core.namespace import DEFAULT_UNITS
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from .connections import compact_connection_type, compact_lines
from .lemsrendering import identifiers_in, parse_statements, render_expression
from .plastic_synapses import add_plastic_parts, is_plastic, plan_plastic_synapses
from .supporting import format_repeated
from .synapse_components import (
    SynapseType,
    SynapticProjection,
    arriving_name,
    connected_sets,
    evaluate_increment,
    linear_components,
    own_name,
)
from .units import constant_value, format_quantity, lems_dimension

__all__ = [
    "MAX_PORTS_PER_PATHWAY",
    "MAX_INCOMING_PORTS",
    "SYNAPSE_FORMS",
    "EventPort",
    "Projection",
    "NetworkParts",
    "build_network_parts",
    "delay_steps",
    "lems_delays",
    "spike_generator_times",
    "add_event_ports",
    "connection_type_element",
    "connection_lines",
    "CellPaths",
]

logger = get_logger(__name__)

#: The most distinct per-synapse values (one event port each) a pathway may use;
#: beyond, each cell gets one port per incoming synapse of the pathway.
MAX_PORTS_PER_PATHWAY = 64
#: The most synapses of one pathway a cell may receive when each needs its own port.
MAX_INCOMING_PORTS = 2000

# Names Brian defines inside Synapses that a LEMS event cannot provide.
_SYNAPSE_INTERNALS = ("i", "j", "t", "dt", "N", "N_incoming", "N_outgoing", "lastupdate",
                      "delay", "xi")

_TIME = lems_dimension(second)
_RATE = lems_dimension(Hz)
_POISSON_PROTOTYPE = {"averageRate": "0 per_s"}


@dataclass
class EventPort:
    """
    An input port of a cell type and what an event arriving there does.

    Attributes
    ----------
    group : str
        The neuron group whose cell type gets the port.
    port : str
        The port's name.
    statements : list of (str, str)
        ``(variable, LEMS expression of its new value)``, in order.
    constants : dict
        LEMS name -> value (Quantity or number) of the constants the
        statements use.
    origin : str
        The Brian object (and pathway) the port implements, for comments.
    per_cell : dict
        LEMS name -> (Brian unit, array with one value per cell of the
        group) of the per-cell parameters the statements use (the values
        of the synapse each cell receives at this port).
    arrivals : dict
        LEMS variable -> gate (or None) of the additions that the statements
        collect in ``variable__arriving`` and the cell adds after its update
        (see `lems_delays`); empty if the statements change the variables
        when the event arrives.
    now_port : str or None
        For statements that collect their additions: the name of a second
        port whose events change the variables when they arrive (the
        synapses without a delay), with `now_statements`.
    now_statements : list of (str, str)
        The statements of `now_port`.
    """

    group: str
    port: str
    statements: list = field(default_factory=list)
    constants: dict = field(default_factory=dict)
    origin: str = ""
    per_cell: dict = field(default_factory=dict)
    arrivals: dict = field(default_factory=dict)
    now_port: str | None = None
    now_statements: list = field(default_factory=list)


@dataclass
class Projection:
    """
    The connections of one port: a trigger cell, a receiving cell and a delay each.

    Attributes
    ----------
    name : str
        The connection component type's name (unique in the model).
    port : str
        The receiving port.
    sources, targets : CellPaths or ndarray of str
        Paths (``'group[3]'``) of the trigger and receiving cells.
    delays : ndarray
        The LEMS delay of each connection (seconds, see `lems_delays`).
    origin : str
        The Brian object (and pathway) the connections implement.
    compact : bool
        Whether the connections are written in the compact form of
        :mod:`.connections` (a short type name, shared delays in the type).
    """

    name: str
    port: str
    sources: Any
    targets: Any
    delays: np.ndarray
    origin: str = ""
    compact: bool = False

    @property
    def uniform_delay(self) -> float | None:
        """The delay shared by all connections, or None if they differ."""
        if len(self.delays) and np.all(self.delays == self.delays[0]):
            return float(self.delays[0])
        return None


@dataclass
class NetworkParts:
    """
    Everything a network adds to the neuron groups' LEMS model.

    Attributes
    ----------
    ports : list of EventPort
        Ports to add to cell types (`add_event_ports`).
    written : dict
        Neuron group -> variables that events change (they must be LEMS
        state variables of the cell type).
    projections : list of Projection
        The connections.
    populations : list of Element
        ``<Component>`` elements of the spike sources (generators, Poisson
        groups, Poisson inputs), for the ``network``.
    source_types : list of Element
        The population component types of the spike sources, and the
        prototype component each population names.
    sources : dict
        Name of each spike-source group -> its size, so monitors can select
        ``'name[k]'``.
    synapse_types : list of SynapseType
        The synapse components of the pathways whose synapses carry their
        neuron variables (:mod:`.synapse_components`).
    synaptic_projections : list of SynapticProjection
        Their connections, with each synapse's weight and delay.
    carried : dict
        Neuron group -> {variable: its linear component} for the variables
        its synapses carry.
    synapse_bases : dict
        Neuron group -> name of its synapse base type.
    spike_times : set
        Neuron groups whose cells must keep the time of their last spike
        (``lastspike``) for the gates of their ports.
    plastic : list of PlasticSynapses
        The Synapses objects that keep a state per synapse
        (:mod:`.plastic_synapses`).
    """

    ports: list = field(default_factory=list)
    written: dict = field(default_factory=dict)
    projections: list = field(default_factory=list)
    populations: list = field(default_factory=list)
    source_types: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)
    synapse_types: list = field(default_factory=list)
    synaptic_projections: list = field(default_factory=list)
    carried: dict = field(default_factory=dict)
    synapse_bases: dict = field(default_factory=dict)
    spike_times: set = field(default_factory=set)
    plastic: list = field(default_factory=list)


# ---------------------------------------------------------------- timing
def delay_steps(delays, dt: float) -> np.ndarray:
    """
    Synaptic delays in time steps, rounded as Brian's spike queue does.

    Parameters
    ----------
    delays : array of float or Quantity
        Delays (seconds).
    dt : float
        The time step (seconds).

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> delay_steps([0, 0.0001, 0.00025], 0.0001).tolist()
    [0, 1, 3]
    """
    return (np.asarray(delays, dtype=float) / float(dt) + 0.5).astype(np.int64)


def lems_delays(steps, dt: float, after_update: bool = True) -> np.ndarray:
    """
    The LEMS delays that make jNeuroML apply events in Brian's time step.

    A spike Brian emits in step ``n`` through a synapse with a delay of
    ``d`` steps changes the state after the update of step ``n + d`` (the
    value recorded at step ``n + d + 1``). jNeuroML reports the same spike
    during its step ``n + 1`` and delivers the event at the start of the
    first step whose time reaches the spike's time plus the delay, before
    the cells are updated. Events whose additions the receiving component
    collects and applies after its update (``after_update``) must arrive at
    the start of step ``n + d + 1``: the delay is ``(d - 1/2) * dt``, the
    half step keeping jNeuroML's floating-point clock from moving it. This
    needs ``d >= 1``: with ``d = 0`` jNeuroML would have to deliver the event
    within the step that emits it, before or after the update of the
    receiving cell depending on the order of the cells. Events that change
    the state when they arrive (``after_update=False``, and the synapses
    without a delay) get ``(d + 1/2) * dt``: they arrive before the update
    of the step after Brian's, which gives the same new state (Brian adds
    after the update of step ``n + d``, jNeuroML before the update of step
    ``n + d + 1``), so only the value recorded at the arrival lacks them.

    Parameters
    ----------
    steps : array of int
        Delays in time steps (`delay_steps`).
    dt : float
        The time step (seconds).
    after_update : bool, optional
        Whether the receiving component applies the events of synapses with
        a delay after its update (default) or when they arrive.

    Returns
    -------
    ndarray
        Delays in seconds.

    Examples
    --------
    >>> lems_delays([0, 1, 3], 0.0001).tolist()
    [5e-05, 5e-05, 0.00025]
    >>> lems_delays([0, 1, 3], 0.001, after_update=False).tolist()
    [0.0005, 0.0015, 0.0035]
    """
    steps = np.asarray(steps, dtype=float)
    if after_update:
        delays = np.where(steps >= 1, steps - 0.5, 0.5) * float(dt)
    else:
        delays = (steps + 0.5) * float(dt)
    # without the floating-point noise of the product (0.15000000000000002 ms): the
    # half step leaves a margin far larger than this rounding
    return np.round(delays, 15)


def spike_generator_times(generator: Mapping, dt: float, duration: float) -> list[np.ndarray]:
    """
    The LEMS spike times of each cell of a SpikeGeneratorGroup.

    Brian puts a spike at time ``t`` in the step ``int((t + dt/1000)/dt)``
    and repeats the pattern every ``period``; a NeuroML ``spike`` fires at
    the first step whose time reaches its ``time``. Writing each time half a
    step after Brian's makes jNeuroML emit the spike one step after Brian,
    like the spikes of its cells, whatever the rounding of its clock.

    Parameters
    ----------
    generator : mapping
        A *spike generator* of the model description.
    dt : float
        The time step (seconds).
    duration : float
        The simulated time (seconds); periodic patterns are unrolled over it.

    Returns
    -------
    list of ndarray
        For each cell, its sorted spike times (seconds).

    Examples
    --------
    >>> from brian2 import ms
    >>> generator = {'name': 'g', 'N': 2, 'indices': [1, 0], 'times': [1, 2]*ms, 'period': 0*ms}
    >>> [times.tolist() for times in spike_generator_times(generator, 0.001, 0.005)]
    [[0.0025], [0.0015]]
    """
    dt = float(dt)
    size = int(generator["N"])
    indices = np.asarray(generator["indices"], dtype=np.int64)
    times = np.asarray(generator["times"], dtype=float)
    steps = ((times + 1e-3 * dt) / dt).astype(np.int64)
    period = float(generator.get("period") or 0.0)
    total_steps = int(round(float(duration) / dt))
    if period > 0:
        period_steps = int(round(period / dt))
        if period_steps > 0:
            repeats = int(np.ceil(total_steps / period_steps))
            offsets = np.arange(repeats, dtype=np.int64) * period_steps
            indices = np.tile(indices, repeats)
            steps = (steps[None, :] + offsets[:, None]).ravel()
    keep = steps < total_steps
    indices, steps = indices[keep], steps[keep]
    trains = []
    for cell in range(size):
        cell_steps = np.sort(steps[indices == cell])
        trains.append((cell_steps + 0.5) * dt)
    return trains


# ------------------------------------------------------------ synapses
class _Refuse:
    def __init__(self, owner: str):
        self.owner = owner

    def __call__(self, feature: str, hint: str | None = None) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(self.owner, feature, hint)


def _equations_by_name(description: Mapping) -> dict:
    return {eq["name"]: eq for eq in description.get("equations") or ()}


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


class CellPaths:
    """
    The paths ``group[k]`` of many cells, made when they are read.

    A network has hundreds of thousands of synapses: their cells are kept as
    indices (8 bytes each) rather than as strings, and a path is only
    written while the connection lines are.

    Parameters
    ----------
    group : str
        The population.
    indices : array of int
        The cells' indices in it.

    Examples
    --------
    >>> import numpy as np
    >>> CellPaths('P', np.array([0, 12])).tolist()
    ['P[0]', 'P[12]']
    """

    def __init__(self, group: str, indices) -> None:
        self.group = group
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self):
        group = self.group
        return (f"{group}[{index}]" for index in self.indices.tolist())

    def tolist(self) -> list[str]:
        """
        All the paths.

        Returns
        -------
        list of str
        """
        return list(self)


def _paths(group: str, start: int, indices: np.ndarray) -> CellPaths:
    """Paths ``group[k]`` of cells (made when they are read: see `CellPaths`)."""
    return CellPaths(group, np.asarray(indices, dtype=np.int64) + int(start))


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


def _connection_name(base: str, taken: set, compact: bool) -> str:
    """A connection type's name: short (``c0``, ``c1``...) in the compact form."""
    if not compact:
        return _unique(base, taken)
    number = 0
    while f"c{number}" in taken:
        number += 1
    taken.add(f"c{number}")
    return f"c{number}"


def _unique(base: str, taken: set) -> str:
    name = base
    while name in taken:
        name += "_"
    taken.add(name)
    return name


# --------------------------------------------------------------- sources
def _rates(group: Mapping, refuse: _Refuse) -> np.ndarray:
    rates = group["rates"]
    size = int(group["N"])
    if isinstance(rates, str):
        namespace = {key: (float(value) if np.ndim(value) == 0 else np.asarray(value, float))
                     for key, value in (group.get("namespace") or {}).items()}
        used = identifiers_in(rates)
        if "t" in used:
            raise refuse(f"the time-dependent rates '{rates}'",
                         "NeuroML Poisson sources have constant rates.")
        context = {**{key: float(value) for key, value in DEFAULT_UNITS.items()
                      if key in used}, **namespace,
                   "i": np.arange(size, dtype=float), "N": size}
        allowed = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin,
                   "cos": np.cos, "abs": np.abs}
        try:
            values = eval(compile(rates, "<rates>", "eval"), {"__builtins__": {}},  # noqa: S307
                          {**allowed, **context})
        except Exception as error:  # noqa: BLE001 -- reported as unsupported
            raise refuse(f"the rates '{rates}'", f"They could not be evaluated ({error}).") \
                from None
        return np.broadcast_to(np.asarray(values, dtype=float), (size,)).copy()
    return np.broadcast_to(np.asarray(rates, dtype=float), (size,)).copy()


def _source_population(name: str, child_type: str, children: list[ET.Element],
                       parts: NetworkParts, taken: set, prototype_values=None):
    type_name = f"{name}_population"
    population_type = ET.Element("ComponentType", {"name": type_name,
                                                    "extends": "basePopulation"})
    ET.SubElement(population_type, "Children", {"name": "cells", "type": child_type})
    parts.source_types.append(population_type)
    # NeuroML's basePopulation names the component its cells are made of
    prototype = _unique(f"{name}_prototype", taken)
    parts.source_types.append(ET.Element("Component", {"id": prototype, "type": child_type,
                                                       **(prototype_values or {})}))
    population = ET.Element("Component", {"id": name, "type": type_name,
                                          "component": prototype})
    population.extend(children)
    parts.populations.append(population)
    parts.sources[name] = len(children)


def _spike_generator_parts(generator: Mapping, dt: float, duration: float, parts: NetworkParts,
                           taken: set):
    children = []
    for times in spike_generator_times(generator, dt, duration):
        cell = ET.Element("Component", {"type": "spikeArray"})
        for time in times:
            ET.SubElement(cell, "spike", {"time": format_quantity(time, _TIME)})
        children.append(cell)
    _source_population(generator["name"], "spikeArray", children, parts, taken)


def _poisson_children(rates: np.ndarray) -> list[ET.Element]:
    children = []
    for rate in rates:
        children.append(ET.Element("Component", {"type": "spikeGeneratorPoisson",
                                                 "averageRate": format_quantity(rate, _RATE)}))
    return children


def _poisson_group_parts(group: Mapping, dt: float, parts: NetworkParts, taken: set):
    refuse = _Refuse(group["name"])
    rates = _rates(group, refuse)
    if np.any(rates < 0):
        raise refuse("negative rates")
    if np.any(rates * dt > 0.5):
        raise refuse(f"rates up to {np.max(rates):g} Hz with dt = {dt:g} s",
                     "jNeuroML's Poisson sources fire at most once per time step; keep "
                     "rate * dt small.")
    _source_population(group["name"], "spikeGeneratorPoisson", _poisson_children(rates), parts,
                       taken, _POISSON_PROTOTYPE)


def _poisson_input_parts(poisson_input: Mapping, groups: Mapping[str, dict], dt: float,
                         parts: NetworkParts, taken: set, compact: bool = False):
    name = poisson_input["name"]
    refuse = _Refuse(name)
    target = poisson_input["target"]
    group = groups.get(target["group"])
    if group is None or group.get("kind") != "neurongroup":
        raise refuse(f"the target '{target['group']}'", "Only neuron groups can be targeted.")
    rate = float(poisson_input["rate"]) * int(poisson_input["N"])
    if rate * dt > 0.5:
        raise refuse(f"a total rate of {rate:g} Hz (N * rate) with dt = {dt:g} s",
                     "jNeuroML's Poisson sources fire at most once per time step, so "
                     "N * rate * dt must stay small; split the input or reduce dt.")
    variable = poisson_input["target_var"]
    variables = _equations_by_name(group)
    if variable not in variables or variables[variable]["type"] == "subexpression":
        raise refuse(f"the target variable '{variable}'")
    weight = str(poisson_input["weight"])
    namespace = dict(poisson_input.get("namespace") or {})
    mapping, constants = {}, {}
    for identifier in identifiers_in(weight):
        if identifier in variables and variables[identifier]["type"] != "subexpression":
            mapping[identifier] = identifier
        elif (value := constant_value(identifier, namespace)) is not None:
            constants[_constant_name(name, identifier)] = value
            mapping[identifier] = _constant_name(name, identifier)
        else:
            raise refuse(f"'{identifier}' in the weight '{weight}'")
    value = render_expression(weight, mapping, name, "the weight")
    gate = _combined_gate(_refractory_gate(group, variable, dt, refuse, "the input"),
                          _reset_gate(group, variable, "+=", refuse, "the input"))
    if gate is not None:
        parts.spike_times.add(group["name"])
    moved = parts.carried.get(group["name"]) or {}
    # an input to a variable the synapses carry adds to the neuron's own copy
    lems_variable = own_name(variable) if variable in moved else variable
    port = EventPort(group["name"], name,
                     [(lems_variable, _assignment(lems_variable, "+=", value, gate))],
                     constants, origin=name)
    parts.ports.append(port)
    if variable not in moved:
        parts.written.setdefault(group["name"], set()).add(variable)
    start, stop = int(target.get("start") or 0), int(target["stop"])
    sources_name = _unique(f"{name}_sources", taken)
    _source_population(sources_name, "spikeGeneratorPoisson",
                       _poisson_children(np.full(stop - start, rate)), parts, taken,
                       _POISSON_PROTOTYPE)
    cells = np.arange(stop - start)
    parts.projections.append(Projection(
        _connection_name(f"{name}_connection", taken, compact), port.port,
        _paths(sources_name, 0, cells),
        _paths(group["name"], start, cells), lems_delays(np.zeros(len(cells)), dt, False),
        origin=name, compact=compact,
    ))


# ------------------------------------------------------------------ main
#: How synapses that add to a linear neuron variable can be exported.
SYNAPSE_FORMS = ("components", "events")


def build_network_parts(description: Mapping, dt: float, duration: float,
                        taken=(), synapses: str = "components",
                        after_update: bool = True) -> NetworkParts:
    """
    Plan the network parts of one model description.

    Parameters
    ----------
    description : mapping
        The description of a run (see :doc:`/export_format`).
    dt : float
        The time step (seconds).
    duration : float
        The simulated time (seconds).
    taken : iterable of str, optional
        Names already used in the LEMS model.
    synapses : {'components', 'events'}, optional
        ``'components'`` (default): synapses that add to a linear variable
        of their neurons become synapse components that carry it, connected
        by projections; ``'events'``: all synapses are events on the
        receiving cells (also exact, and faster to simulate in jNeuroML).
    after_update : bool, optional
        Whether synaptic additions are applied after the receiving cell's
        update, in Brian's time step (default; see `lems_delays`), or when
        the event arrives, at the start of the next step (for the portable
        form: NEURON's synapses cannot wait for the update).

    Returns
    -------
    NetworkParts

    Raises
    ------
    UnsupportedFeatureError
        For synapses or inputs LEMS events cannot reproduce exactly, naming
        the object and the feature.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import ms, mV, volt
    >>> cells = {'name': 'P', 'N': 2, 'equations': [
    ...     {'name': 'ge', 'type': 'differential equation', 'expr': '-ge/(5*ms)',
    ...      'unit': volt, 'var_type': 'float', 'flags': []}]}
    >>> synapses = {'name': 'S', 'source': {'group': 'P', 'start': 0, 'stop': 2},
    ...             'target': {'group': 'P', 'start': 0, 'stop': 2}, 'equations': [],
    ...             'pathways': [{'name': 'pre', 'prepost': 'pre', 'event': 'spike',
    ...                           'code': 'ge += w0', 'delay': [0, 0]*ms}],
    ...             'namespace': {'w0': 1*mV}, 'i': np.array([0, 1]), 'j': np.array([1, 0]),
    ...             'N': 2, 'initial_values': {}}
    >>> parts = build_network_parts({'neurongroups': [cells], 'synapses': [synapses]},
    ...                             1e-4, 0.01)
    >>> parts.carried
    {'P': {'ge': frozenset({'ge'})}}
    >>> projection = parts.synaptic_projections[0]
    >>> projection.sources.tolist(), projection.targets.tolist(), projection.weights.tolist()
    (['P[0]', 'P[1]'], ['P[1]', 'P[0]'], [1.0, 1.0])
    >>> parts.synapse_types[0].amplitude
    0.001
    """
    if synapses not in SYNAPSE_FORMS:
        raise ValueError(f"synapses must be one of {', '.join(map(repr, SYNAPSE_FORMS))}, "
                         f"not {synapses!r}.")
    carry = synapses == "components"
    dt, duration = float(dt), float(duration)
    parts = NetworkParts()
    taken = set(taken)
    groups: dict[str, dict] = {}
    for kind, key in (("neurongroup", "neurongroups"), ("poissongroup", "poissongroups"),
                      ("spikegenerator", "spikegeneratorgroups")):
        for group in description.get(key) or ():
            groups[group["name"]] = {**group, "kind": kind}
            taken.add(group["name"])
    for generator in description.get("spikegeneratorgroups") or ():
        _spike_generator_parts(generator, dt, duration, parts, taken)
    for group in description.get("poissongroups") or ():
        _poisson_group_parts(group, dt, parts, taken)
    for synapses in description.get("synapses") or ():
        taken.add(synapses["name"])
    for poisson_input in description.get("poissoninputs") or ():
        taken.add(poisson_input["name"])
    carried_plans = _plan_carried(description, groups, parts, taken, carry=carry)
    for synapses in description.get("synapses") or ():
        _synapse_parts(synapses, groups, dt, parts, taken, carried_plans, after_update)
    for poisson_input in description.get("poissoninputs") or ():
        _poisson_input_parts(poisson_input, groups, dt, parts, taken, after_update)
    return parts


# ------------------------------------------------------------ rendering
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
        return compact_connection_type(
            projection.name, projection.delays, port=projection.port,
            description=f"{projection.origin}: the spikes of the cell f to the port "
                        f"{projection.port} of the cell t, after the delay d")
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


def connection_lines(projection: Projection) -> list[str]:
    """
    One line of XML per connection: ``<c0 f="P[0]" t="P[5]" p="S_pre" d="0.05ms"/>``.

    Written as text rather than as ElementTree elements: a network has
    hundreds of thousands of connections, and elements cost about a
    microsecond and half a kilobyte each (the export of the CUBA network
    took 2.3 s and 510 MB with elements). The values are Brian names
    (identifiers) and numbers, which need no escaping. In the compact form
    (:mod:`.connections`) a line holds the two cells, the port and the delay.

    Parameters
    ----------
    projection : Projection

    Returns
    -------
    list of str

    Examples
    --------
    >>> import numpy as np
    >>> projection = Projection('c0', 'S_pre', np.array(['P[0]', 'P[1]']),
    ...                         np.array(['P[1]', 'P[0]']), np.array([5e-05, 5e-05]),
    ...                         compact=True)
    >>> connection_lines(projection)  # doctest: +NORMALIZE_WHITESPACE
    ['<c0 f="P[0]" t="P[1]" p="S_pre" d="0.05ms"/>',
     '<c0 f="P[1]" t="P[0]" p="S_pre" d="0.05ms"/>']
    >>> projection = Projection('S_pre_connection', 'S_pre', np.array(['P[0]', 'P[1]']),
    ...                         np.array(['P[1]', 'P[0]']), np.array([5e-05, 0.00015]))
    >>> connection_lines(projection)  # doctest: +NORMALIZE_WHITESPACE
    ['<S_pre_connection from="P[0]" to="P[1]" delay="0.05 ms" targetPort="S_pre" />',
     '<S_pre_connection from="P[1]" to="P[0]" delay="0.15 ms" targetPort="S_pre" />']
    """
    if projection.compact:
        return compact_lines(projection.name, projection.sources, projection.targets,
                             projection.delays, port=projection.port)
    tag, port = projection.name, projection.port
    delays = format_repeated(projection.delays, _TIME.unit)
    return [f'<{tag} from="{source}" to="{target}" delay="{delay}" targetPort="{port}" />'
            for source, target, delay in zip(projection.sources, projection.targets, delays,
                                             strict=True)]
