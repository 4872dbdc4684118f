"""
Plastic synapses that change a variable of their post-synaptic neuron (``v_post += w*(1 + fac)``).

A synapse component cannot change its cell's state and a LEMS event
carries no value, so the value travels the other way: the synapse computes
what its ``on_pre`` adds (with the values the earlier statements of the
pathway left, as in Brian) into a state variable of its own,
``v__delivered``, that the group's synapse base type exposes (every other
synapse type of the group exposes a zero), and the cell sums its
synapses' values (``synapses[*]/v__delivered``, reduce add) and adds the
sum to ``v``. Synapses arriving at one cell in the same step add up. The
additions go through the same gates as the other synapses' events (Brian
ignores them while a variable ``(unless refractory)`` is refractory, and a
reset ``v = Vr`` of the same step overwrites them).

jNeuroML advances a cell's synapses, each with its conditions, before the
cell itself (evaluating the cell's sums after them), so one of two timings
applies (see :doc:`/nmlexport_network`):

* **every synapse has a delay of at least one step** (`delivery_delays`
  writes Brian's ``d`` steps as ``(d - 1/2) * dt``, as for the other
  synapses): the event reaches the synapse at the start of Brian's step
  ``n``, which only notes it; the synapse runs ``on_pre`` in an
  ``OnCondition`` placed after the one of ``on_post`` (which handles the
  post-synaptic spike of step ``n - 1``), so the pathways keep Brian's
  order, at Brian's time ``t - dt``, after the synapse's update. The cell
  adds the sum after its update and threshold, in the condition where the
  other synapses' arrivals are added: every sample of the neuron and of
  the synapses' ``on_pre`` changes is Brian's.
* **some synapse has no delay**: the synapse runs ``on_pre`` when the
  event arrives, at the start of the next step (as plastic synapses do,
  :mod:`.plastic_synapses`), and its value is kept for that one step. The
  cell's equations read ``v`` plus the sum (so it integrates from Brian's
  new state) and a condition before the threshold adds the sum to ``v``:
  the dynamics and spikes are Brian's, the value recorded at the arrival
  lacks the increment (the relation of the other synapses without delay).

``on_post`` adds to the neuron's variables (``x__delivered_post``) in the
next-step timing whatever the delays: the synapse sees the post-synaptic
spike of a step only in the next step (its conditions run before its
cell's threshold). Variables the synapses carry (``ge``) stay refused
there: their copies would change one step late.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import lems.api as lems
import numpy as np
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from .network_parts import lems_delays
from .network_pathways import _assignment, _combined_gate, _refractory_gate, _reset_gate
from .network_rendering import _add_arrivals
from .synapse_components import ATTACHMENTS
from .units import format_quantity, lems_dimension

__all__ = ["Delivery", "delivered_name", "plan_delivery", "delivery_delays",
           "delivery_handler", "deliver_to_cells"]

logger = get_logger(__name__)

# LEMS names inside the synapse (Brian names have no double underscore)
_PENDING = "pre__pending"
_AGE = "delivered__age"


@dataclass
class Delivery:
    """
    What a plastic synapse's ``on_pre`` adds to its post-synaptic neuron's variables.

    Also the timing of plastic synapses that add nothing to such variables
    but have a delay of at least one step (``ops`` empty, ``group`` ``{}``).

    Attributes
    ----------
    group : dict
        The post-synaptic neuron group (model description).
    gates : dict
        Variable -> the LEMS factor (or None) through which the cell adds
        (see :mod:`.network_pathways`), filled by `delivery_delays`.
    ops : dict
        Variable -> the operators ``on_pre`` uses (``+=``, ``-=``).
    post_ops, post_gates : dict
        The same for ``on_post`` (always in the next-step timing).
    in_step : bool
        Whether every synapse has a delay of at least one step (``on_pre``
        runs in Brian's step, the cell adds after its update); otherwise the
        cell integrates from the delivered value in the next step.
    """

    group: dict
    gates: dict = field(default_factory=dict)
    ops: dict = field(default_factory=dict)
    post_ops: dict = field(default_factory=dict)
    post_gates: dict = field(default_factory=dict)
    in_step: bool = True


def delivered_name(variable: str, pathway: str = "pre") -> str:
    """
    The LEMS name of what a synapse adds to the neuron variable ``variable``.

    ``x__delivered`` in the synapses (``x__delivered_post`` for
    ``on_post``); the cell's sum over its synapses adds ``_sum`` and, in the
    next-step timing, what its equations add to ``x`` is
    ``x__delivered_pending``.

    Parameters
    ----------
    variable : str
        The Brian name of the post-synaptic variable.
    pathway : str, optional
        ``'pre'`` (default) or ``'post'``.

    Returns
    -------
    str

    Examples
    --------
    >>> delivered_name('v'), delivered_name('v', 'post')
    ('v__delivered', 'v__delivered_post')
    """
    return f"{variable}__delivered" + ("_post" if pathway == "post" else "")


def plan_delivery(plan, post: Mapping, variable: str, op: str, expr: str, prepost: str,
                  carried: Mapping, refuse) -> bool:
    """
    Check a plastic pathway's change of a post-synaptic neuron variable; record it if delivered.

    Parameters
    ----------
    plan : PlasticSynapses
        The plan being made (`~.plastic_synapses.plan_plastic_synapses`);
        its ``delivery`` is created or extended.
    post : mapping
        The post-synaptic neuron group.
    variable, op, expr : str
        The statement ``variable_post op expr``.
    prepost : str
        ``'pre'`` or ``'post'``: the pathway.
    carried : mapping
        The group's variables that synapses can carry
        (`~.synapse_components.linear_components`).
    refuse : callable
        ``refuse(feature, hint)`` gives the UnsupportedFeatureError.

    Returns
    -------
    bool
        True if the synapse carries its own copy of the variable (an addition
        to a variable with linear dynamics), False if it delivers the value.

    Raises
    ------
    UnsupportedFeatureError
        For ``on_post`` changing a variable the synapses carry, other
        operators than ``+=`` and ``-=``, and variables that are not numbers
        of the neuron's state.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from brian2 import Unit
    >>> post = {'name': 'P', 'equations': [{'name': 'v', 'type': 'differential equation',
    ...         'unit': Unit(1), 'var_type': 'float', 'flags': []}]}
    >>> plan = SimpleNamespace(delivery=None)
    >>> plan_delivery(plan, post, 'v', '+=', 'w', 'pre', {}, None), plan.delivery.ops
    (False, {'v': {'+='}})
    """
    target = f"{variable} {op} {expr}"
    if prepost == "post" and variable in carried:
        raise refuse(f"'{target}' changing the variable '{variable}' of the post-synaptic "
                     f"neuron '{post['name']}' in the 'post' pathway of plastic synapses",
                     "'on_post' can add to the neuron's variables the synapses do not carry "
                     "(such as 'v'); those with linear dynamics can be carried by the "
                     "synapses, whose own copies 'on_post' would change one step late.")
    if op in ("+=", "-=") and variable in carried:
        return True
    equation = next(eq for eq in post.get("equations") or () if eq["name"] == variable)
    if op not in ("+=", "-=") or equation["type"] == "subexpression" \
            or equation.get("var_type", "float") != "float" or post.get("kind") not in (
                None, "neurongroup"):
        raise refuse(f"'{target}' changing the post-synaptic variable '{variable}' of "
                     f"'{post['name']}' from plastic synapses",
                     "A plastic synapse adds to (+=, -=) a variable of its neuron's state: "
                     "it computes the increment, the cell sums its synapses' increments.")
    if plan.delivery is None:
        plan.delivery = Delivery(dict(post))
    ops = plan.delivery.post_ops if prepost == "post" else plan.delivery.ops
    ops.setdefault(variable, set()).add(op)
    return False


def delivery_delays(plan, steps, dt: float, parts) -> np.ndarray:
    """
    The LEMS delays of the pre-synaptic events of plastic synapses, which choose their timing.

    With a delay of at least one step for every synapse, ``(d - 1/2) * dt``
    (`~.network_parts.lems_delays`) and ``on_pre`` runs in Brian's step
    (`Delivery.in_step`; plastic synapses that deliver nothing get a
    `Delivery` for this too); otherwise ``(d + 1/2) * dt``, the delays of
    `~.plastic_synapses.plastic_delays`. For the variables delivered, sets
    `Delivery.gates` and marks the variables as changed by events
    (``parts.written``) and, for gates, the cell as keeping ``lastspike``.

    Parameters
    ----------
    plan : PlasticSynapses
        Its `Delivery` is set or completed here.
    steps : array of int
        Brian's delays in time steps.
    dt : float
        The time step (seconds).
    parts : NetworkParts
        Modified in place.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> plan = SimpleNamespace(name='S', delivery=Delivery({'name': 'P', 'equations': []}))
    >>> parts = SimpleNamespace(written={}, spike_times=set())
    >>> delivery_delays(plan, [1, 3], 0.0001, parts).tolist(), plan.delivery.in_step
    ([5e-05, 0.00025], True)
    """
    from .network_parts import _Refuse

    steps = np.asarray(steps, dtype=np.int64)
    in_step = bool(np.all(steps >= 1))
    if plan.delivery is None:
        if not in_step:
            from .plastic_synapses import plastic_delays  # (it imports this module)

            return plastic_delays(steps, dt)
        plan.delivery = Delivery({})
    delivery = plan.delivery
    delivery.in_step = in_step
    group = delivery.group
    refuse = _Refuse(plan.name)
    for pathway, all_ops, gates in (("pre", delivery.ops, delivery.gates),
                                    ("post", delivery.post_ops, delivery.post_gates)):
        for variable, ops in all_ops.items():
            what = f"the '{pathway}' pathway"
            gate = _combined_gate(_refractory_gate(group, variable, dt, refuse, what),
                                  *(_reset_gate(group, variable, op, refuse, what)
                                    for op in ops))
            if gate is not None and (pathway == "post" or not delivery.in_step):
                # evaluated in the cell's next step, one step after Brian's change
                gate = gate.replace("(t - lastspike)", "(t - dt - lastspike)")
            gates[variable] = gate
            if gate is not None and "lastspike" in gate:
                parts.spike_times.add(group["name"])
            parts.written.setdefault(group["name"], set()).add(variable)
    if delivery.in_step:
        return lems_delays(steps, dt)
    from .plastic_synapses import plastic_delays

    return plastic_delays(steps, dt)


def delivery_handler(plan, dynamics, on_event, on_start):
    """
    Where a synapse that delivers runs its ``on_pre`` statements, and its delivered state.

    Adds the state variables ``x__delivered`` and what clears them; in the
    in-step timing, the ``OnEvent`` only notes the event and the statements go
    to an ``OnCondition`` that the caller adds after the ``on_post`` one.

    Parameters
    ----------
    plan : PlasticSynapses
        With a `Delivery` (otherwise ``on_event`` is returned unchanged).
    dynamics : lems.Dynamics
        The synapse type's dynamics (modified in place).
    on_event : lems.OnEvent
        The handler of the pre-synaptic events.
    on_start : lems.OnStart
        The initial assignments.

    Returns
    -------
    lems.OnEvent or lems.OnCondition

    Examples
    --------
    >>> import lems.api as lems
    >>> from types import SimpleNamespace
    >>> from brian2 import Unit
    >>> plan = SimpleNamespace(name='S', delivery=Delivery({'name': 'P', 'equations': [
    ...     {'name': 'v', 'unit': Unit(1)}]}, ops={'v': {'+='}}))
    >>> dynamics, event = lems.Dynamics(), lems.OnEvent('in')
    >>> delivery_handler(plan, dynamics, event, lems.OnStart()).test
    'pre__pending .gt. 0.5'
    """
    delivery = plan.delivery
    if delivery is None:
        return on_event
    units = {eq["name"]: eq["unit"] for eq in delivery.group.get("equations") or ()}
    for pathway, ops in (("pre", delivery.ops), ("post", delivery.post_ops)):
        for variable in ops:
            dimension = lems_dimension(units[variable], plan.name)
            name = delivered_name(variable, pathway)
            dynamics.add(lems.StateVariable(name, dimension.name, exposure=name))
            on_start.add(lems.StateAssignment(name, "0"))
    if delivery.post_ops:
        # set by on_post, read by the cell in the same step: cleared before on_post
        clear = lems.OnCondition("t .geq. 0")
        for variable in delivery.post_ops:
            clear.add(lems.StateAssignment(delivered_name(variable, "post"), "0"))
        dynamics.add(clear)
    if not (delivery.ops or delivery.in_step):
        return on_event
    if delivery.in_step:
        dynamics.add(lems.StateVariable(_PENDING, "none"))
        on_start.add(lems.StateAssignment(_PENDING, "0"))
        on_event.add(lems.StateAssignment(_PENDING, "1"))
        # each step's value only: cleared before the conditions that set it
        if delivery.ops:
            clear = lems.OnCondition("t .geq. 0")
            for variable in delivery.ops:
                clear.add(lems.StateAssignment(delivered_name(variable), "0"))
            dynamics.add(clear)
        pending = lems.OnCondition(f"{_PENDING} .gt. 0.5")
        pending.add(lems.StateAssignment(_PENDING, "0"))
        return pending
    # next-step timing: the value set at the event is read by the cell in that
    # step and cleared in the next one (the synapse's conditions run first)
    dynamics.add(lems.StateVariable(_AGE, "none"))
    on_start.add(lems.StateAssignment(_AGE, "2"))
    on_event.add(lems.StateAssignment(_AGE, "0"))
    keep = lems.OnCondition(f"{_AGE} .lt. 1.5")
    for variable in delivery.ops:
        on_event.add(lems.StateAssignment(delivered_name(variable), "0"))
        keep.add(lems.StateAssignment(delivered_name(variable),
                                      f"{delivered_name(variable)} * (1 - {_AGE})"))
    keep.add(lems.StateAssignment(_AGE, f"{_AGE} + 1"))
    dynamics.add(keep)
    return on_event


def deliver_to_cells(cell_types: Mapping, synapse_types: list, plans: list,
                     bases: Mapping[str, str]) -> set:
    """
    Let the cells receive what their plastic synapses deliver (`Delivery`).

    The group's synapse base type exposes ``x__delivered`` and every synapse
    type of the group that does not deliver it defines it as zero; the cell
    sums its synapses' values and adds the sum to ``x`` (after its update,
    or, in the next-step timing, reads it in its equations and adds it before
    its threshold).

    Parameters
    ----------
    cell_types : mapping
        Group -> its cell ``lems.ComponentType`` (modified in place).
    synapse_types : list of lems.ComponentType
        The synapse types and base types (modified in place).
    plans : list of PlasticSynapses
    bases : mapping
        Group -> the name of its synapse base type.

    Returns
    -------
    set of LEMSDimension
        The dimensions used.

    Raises
    ------
    UnsupportedFeatureError
        If synapses with and without delays deliver to the same group.

    Examples
    --------
    >>> deliver_to_cells({}, [], [], {})
    set()
    """
    dimensions: set = set()
    by_group: dict = {}
    for plan in plans:
        if plan.delivery is not None and (plan.delivery.ops or plan.delivery.post_ops):
            by_group.setdefault(plan.group, []).append(plan)
    for group_name, group_plans in by_group.items():
        group = group_plans[0].delivery.group
        units = {eq["name"]: eq["unit"] for eq in group["equations"]}
        base = bases[group_name]
        if len({plan.delivery.in_step for plan in group_plans if plan.delivery.ops}) > 1:
            raise UnsupportedFeatureError(
                ", ".join(plan.name for plan in group_plans),
                f"plastic synapses with and without delays adding to variables of "
                f"'{group_name}'",
                "The cell adds the increments of synapses with a delay after its update "
                "and those of synapses without one before it; give all of them a delay "
                "of at least one time step, or none.")
        cell_type = cell_types[group_name]
        if ATTACHMENTS not in cell_type.attachments:
            cell_type.add(lems.Attachments(ATTACHMENTS, base))
        # (variable, pathway) -> the deliveries of that kind
        kinds: dict = {}
        for plan in group_plans:
            for pathway, ops in (("pre", plan.delivery.ops), ("post", plan.delivery.post_ops)):
                for variable in ops:
                    kinds.setdefault((variable, pathway), []).append(plan.delivery)
        for variable, pathway in sorted(kinds):
            dimension = lems_dimension(units[variable], group_name)
            dimensions.add(dimension)
            _expose(synapse_types, base, delivered_name(variable, pathway), units[variable],
                    dimension)
        for variable in sorted({variable for variable, _ in kinds}):
            dimension = lems_dimension(units[variable], group_name)
            _add_to_cell(cell_type, variable, dimension.name, kinds.get((variable, "pre"), []),
                         kinds.get((variable, "post"), []))
        logger.debug(f"'{group_name}': receives {sorted(kinds)} from plastic synapses")
    return dimensions


def _expose(synapse_types: list, base: str, name: str, unit, dimension) -> None:
    """The base type exposes ``name``; the types that do not set it define a zero."""
    for synapse_type in synapse_types:
        if synapse_type.name == base:
            synapse_type.add(lems.Exposure(name, dimension.name))
        elif synapse_type.extends == base \
                and name not in synapse_type.dynamics.state_variables:
            zero = f"{name}__zero"
            synapse_type.add(lems.Constant(zero, format_quantity(0 * unit, dimension),
                                           dimension.name))
            synapse_type.dynamics.add(lems.DerivedVariable(
                name, dimension=dimension.name, exposure=name, value=zero))


def _add_to_cell(cell_type, variable: str, dimension: str, pre: list, post: list) -> None:
    """Add the sums of what ``on_pre`` (``pre``) and ``on_post`` (``post``) deliver."""
    dynamics = cell_type.dynamics
    pending_terms = []
    for pathway, deliveries in (("pre", pre), ("post", post)):
        if not deliveries:
            continue
        total = f"{delivered_name(variable, pathway)}_sum"
        dynamics.add(lems.DerivedVariable(
            total, dimension=dimension, reduce="add",
            select=f"{ATTACHMENTS}[*]/{delivered_name(variable, pathway)}"))
        if pathway == "pre" and deliveries[0].in_step:
            # added with the other synapses' arrivals, after the update and threshold
            gate = deliveries[0].gates.get(variable)
            _add_arrivals(cell_type, {variable: gate})
            apply = next(handler for handler in dynamics.event_handlers
                         if getattr(handler, "brian2tools_arrivals", False))
            apply.add(lems.StateAssignment(variable, _assignment(variable, "+=", total, gate)))
            continue
        gates = (deliveries[0].gates if pathway == "pre" else deliveries[0].post_gates)
        gate = gates.get(variable)
        pending_terms.append(total if gate is None else f"{gate} * {total}")
    if not pending_terms:
        return
    # the cell integrates from x plus what arrived, then adds it before its threshold
    pending = f"{variable}__delivered_pending"
    dynamics.add(lems.DerivedVariable(pending, dimension=dimension,
                                      value=" + ".join(pending_terms)))
    word = re.compile(rf"\b{re.escape(variable)}\b")
    for derivative in dynamics.time_derivatives:
        derivative.value = word.sub(f"({variable} + {pending})", derivative.value)
    for derived in dynamics.derived_variables:
        if derived.value and not derived.name.startswith(f"{variable}__delivered"):
            derived.value = word.sub(f"({variable} + {pending})", derived.value)
    add = lems.OnCondition("t .geq. 0")
    add.add(lems.StateAssignment(variable, f"{variable} + {pending}"))
    handlers = dynamics.event_handlers
    spiking = [index for index, handler in enumerate(handlers)
               if isinstance(handler, lems.OnCondition)
               and any(isinstance(action, lems.EventOut) for action in handler.actions)]
    handlers.insert(spiking[0] if spiking else len(handlers), add)
