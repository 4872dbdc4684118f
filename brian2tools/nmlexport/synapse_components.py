"""
Synapses as NeuroML synapse components, each carrying its own copy of what it adds.

Brian's ``on_pre='ge += w'`` onto neurons with ``dge/dt = -ge/taue`` is
linear: a neuron's ``ge`` is the sum of what each synapse added, every
contribution decaying with the same equation. So each synapse can carry its
own ``ge`` in a NeuroML synapse component (one instance per connection, made
by jNeuroML from a ``projection`` whose connections give the synapse's weight
and delay: compact ones, :mod:`.connections`, or ``connectionWD`` elements in
the portable form), and the neuron reads the sum over its synapses.
The neuron keeps one copy of its own (``ge__own``) for everything else that
changes the variable: its initial value, and inputs applied as events on the
neuron (Poisson inputs, synapses whose values are not a weight).

A variable can move into the synapses when it belongs to a *linear
component* of the neuron's equations: differential equations without flags,
linear in each other with constant coefficients, using nothing but each
other and constants (``dg/dt = (h - g)/tau1; dh/dt = -h/tau2`` is one
component of two variables). The synapses then carry the whole component,
with the homogeneous part of its equations (``f(x) - f(0)``; the neuron's
copy keeps ``f``), which makes the sum exact. Variables that the threshold,
the reset or the refractoriness use, or that some code sets or reads, stay
in the neuron (see `linear_components`).

How jNeuroML orders one time step decides what the neuron reads (checked
against Brian step by step, see :doc:`/nmlexport_network`): a synapse's
*derived* variables are evaluated before the synapse is advanced, so the
neuron's equations sum derived copies (the state at the start of the step,
like Brian's Euler step); a synapse's *state* variables are already advanced
when the neuron's conditions run, so the value a StateMonitor records sums
those. An event's addition waits in ``x__state__arriving`` until the
synapse's update, so that it takes effect in Brian's time step (see
:func:`.network_parts.lems_delays`); the synapses of a pathway without a
delay, and the portable form, add it when the event arrives.

The LEMS types and projections of these synapses are written by
:mod:`.synapse_rendering`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy
from brian2.core.namespace import DEFAULT_UNITS
from brian2.parsing.sympytools import str_to_sympy, sympy_to_str

from .lemsrendering import identifiers_in

__all__ = [
    "ATTACHMENTS",
    "SynapseType",
    "SynapticProjection",
    "own_name",
    "arriving_name",
    "linear_components",
    "connected_sets",
    "homogeneous_part",
    "evaluate_increment",
]

#: The attachments of a cell that jNeuroML fills with the synapses of ``connectionWD``.
ATTACHMENTS = "synapses"

# Brian identifiers that are not constants in a neuron's equations
_NOT_CONSTANT = {"t", "i", "N", "xi", "lastspike", "not_refractory"}

# numpy functions for the increments synapses add (same meaning as in Brian)
_NUMPY_FUNCTIONS = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs,
                    "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh,
                    "cosh": np.cosh, "tanh": np.tanh, "Abs": np.abs}


# ----------------------------------------------------------------- names
def own_name(variable: str) -> str:
    """
    The LEMS names around a neuron variable that synapses carry.

    ``own_name``: the neuron's own copy; `sum_name`: the neuron's sum over
    its synapses' copies (their state at the start of the step);
    `total_name`: what the neuron's equations read (own copy plus sum);
    `recorded_sum_name`: the sum over the synapses' advanced states, for
    recording; `state_name`: a synapse's state variable for its copy.

    Parameters
    ----------
    variable : str
        The Brian name of the neuron variable.

    Returns
    -------
    str
        The LEMS name.

    Examples
    --------
    >>> [name('ge') for name in (own_name, sum_name, total_name, recorded_sum_name,
    ...                          state_name)]
    ['ge__own', 'ge__synapses', 'ge__total', 'ge__synapses_now', 'ge__state']
    """
    return f"{variable}__own"


# the other names of the family (documented with own_name, not exported by *)
def sum_name(variable: str) -> str:  # noqa: D103
    return f"{variable}__synapses"


def total_name(variable: str) -> str:  # noqa: D103
    return f"{variable}__total"


def recorded_sum_name(variable: str) -> str:  # noqa: D103
    return f"{variable}__synapses_now"


def state_name(variable: str) -> str:  # noqa: D103
    return f"{variable}__state"


def arriving_name(variable: str) -> str:
    """
    The LEMS state variable that collects the events' additions to ``variable``.

    Events arrive at the start of jNeuroML's step; Brian applies them after
    the update. The additions wait in this variable, which an
    ``OnCondition`` adds to ``variable`` (and sets to 0) after the update.

    Parameters
    ----------
    variable : str
        The LEMS name of the variable the events add to.

    Returns
    -------
    str

    Examples
    --------
    >>> arriving_name('ge__state')
    'ge__state__arriving'
    """
    return f"{variable}__arriving"


# -------------------------------------------------------------- analysis
def _is_constant(identifier: str, equations: Mapping, namespace: Mapping) -> bool:
    if identifier in equations or identifier in _NOT_CONSTANT:
        return False
    if identifier in namespace:
        return np.ndim(namespace[identifier]) == 0
    return identifier in DEFAULT_UNITS or identifier == "dt"


def linear_components(group: Mapping, blocked: Collection[str] = ()) -> dict[str, frozenset]:
    """
    The variables of a neuron group that synapses can carry, each with what its equation needs.

    A variable can be carried if its equation, and (transitively) the
    equations of the variables it uses, are linear with constant
    coefficients and without flags, and none of these variables is blocked.
    Variables that only *read* a carried variable (``v`` reading ``ge``)
    stay in the neuron and read the total.

    Parameters
    ----------
    group : mapping
        A *neuron group* of the model description.
    blocked : collection of str, optional
        Variables that must stay in the neuron (set or read by code, used by
        the threshold, the reset or the refractoriness).

    Returns
    -------
    dict
        Variable -> the frozenset of the variables a synapse must carry
        with it (itself and what its equation uses, transitively).

    Examples
    --------
    >>> from brian2 import ms, volt
    >>> def eq(name, expr, flags=()):
    ...     return {'name': name, 'type': 'differential equation', 'expr': expr,
    ...             'unit': volt, 'var_type': 'float', 'flags': list(flags)}
    >>> group = {'name': 'P', 'namespace': {'tau': 5*ms}, 'equations': [
    ...     eq('v', '(ge - v)/tau', ['unless refractory']), eq('ge', '(h - ge)/tau'),
    ...     eq('h', '-h/tau'), eq('x', '-x**2/(tau*volt)')]}
    >>> {name: sorted(needed) for name, needed in linear_components(group).items()}
    {'ge': ['ge', 'h'], 'h': ['h']}
    >>> sorted(linear_components(group, blocked={'h'}))
    []
    """
    equations = {eq["name"]: eq for eq in group.get("equations") or ()}
    namespace = dict(group.get("namespace") or {})
    differential = {name for name, eq in equations.items()
                    if eq["type"] == "differential equation"}
    dependencies: dict[str, set] = {}
    for name in sorted(differential):
        equation = equations[name]
        if equation.get("flags") or name in blocked:
            continue
        used = identifiers_in(equation["expr"])
        if not all(identifier in differential or _is_constant(identifier, equations, namespace)
                   for identifier in used - differential):
            continue
        try:
            expression = str_to_sympy(equation["expr"])
            state = {symbol for symbol in expression.free_symbols if symbol.name in differential}
            linear = not any(sympy.diff(expression, symbol).free_symbols & state
                             for symbol in state)
        except Exception:  # noqa: BLE001 -- anything sympy cannot read or derive (comparisons)
            continue  # stays in the neuron
        if not linear:
            continue
        dependencies[name] = used & differential
    # a variable whose equation uses a variable that cannot move cannot move either
    changed = True
    while changed:
        changed = False
        for name in list(dependencies):
            if not dependencies[name] <= dependencies.keys():
                del dependencies[name]
                changed = True
    return {name: _reachable(name, dependencies) for name in dependencies}


def _reachable(start: str, edges: Mapping[str, set]) -> frozenset:
    """``start`` and every name reachable from it through ``edges``."""
    found, stack = set(), [start]
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(edges[current] - found)
    return frozenset(found)


def connected_sets(variables: Collection[str], needs: Mapping[str, frozenset]) -> list[frozenset]:
    """
    Split carried variables into sets that do not use each other.

    A synapse type must carry every variable connected to the ones it
    changes (what they use, and what uses them), so that each synapse's
    copies follow the same linear system as the neuron's.

    Parameters
    ----------
    variables : collection of str
        The variables a group's synapses carry (closed under `linear_components`).
    needs : mapping
        Variable -> what it needs (from `linear_components`).

    Returns
    -------
    list of frozenset

    Examples
    --------
    >>> sets = connected_sets({'ge', 'h', 'gi'}, {'ge': frozenset({'ge', 'h'}),
    ...                       'h': frozenset({'h'}), 'gi': frozenset({'gi'})})
    >>> [sorted(variables) for variables in sets]
    [['ge', 'h'], ['gi']]
    """
    neighbours = {name: set() for name in variables}
    for name in variables:
        for other in needs[name] & set(variables):
            neighbours[name].add(other)
            neighbours[other].add(name)
    found, seen = [], set()
    for name in sorted(variables):
        if name not in seen:
            component = _reachable(name, neighbours)
            seen |= component
            found.append(component)
    return found


def homogeneous_part(expr: str, component: Collection[str]) -> str:
    """
    The equation a synapse's copy follows: ``f(x) - f(0)`` for ``dx/dt = f(x)``.

    Parameters
    ----------
    expr : str
        Brian code of the right-hand side.
    component : collection of str
        The variables of the linear component.

    Returns
    -------
    str
        Brian code (``expr`` itself if it has no constant part).

    Examples
    --------
    >>> homogeneous_part('-ge/tau', {'ge'})
    '-ge/tau'
    >>> homogeneous_part('(g0 - ge)/tau', {'ge'})
    '-ge/tau'
    """
    expression = str_to_sympy(expr)
    constant = expression.subs({symbol: 0 for symbol in expression.free_symbols
                                if symbol.name in component})
    if constant == 0:
        return expr
    return sympy_to_str(sympy.simplify(expression - constant))


def evaluate_increment(expr: str, values: Mapping[str, object]) -> np.ndarray | None:
    """
    The value (SI) of a synaptic increment for each synapse, or None if it cannot be computed.

    Parameters
    ----------
    expr : str
        Brian code using per-synapse parameters and constants only.
    values : mapping
        Identifier -> value (scalar or one value per synapse, SI or Quantity).

    Returns
    -------
    ndarray or None

    Examples
    --------
    >>> from brian2 import mV
    >>> evaluate_increment('w * 2', {'w': [1, 2] * mV}).tolist()
    [0.002, 0.004]
    """
    try:
        expression = str_to_sympy(expr)
        symbols = sorted(expression.free_symbols, key=lambda symbol: symbol.name)
        function = sympy.lambdify(symbols, expression, modules=[_NUMPY_FUNCTIONS, "numpy"])
        arguments = [np.asarray(values[symbol.name], dtype=float) for symbol in symbols]
        result = np.asarray(function(*arguments), dtype=float)
    except Exception:  # noqa: BLE001 -- increments numpy cannot compute go through ports
        return None
    if not np.all(np.isfinite(result)):
        return None
    return result


# ------------------------------------------------------------ the plan
@dataclass
class SynapseType:
    """
    A synapse component type: the copies of neuron variables one pathway changes.

    Attributes
    ----------
    name : str
        The component type's name.
    component : str
        The id of its component (the ``synapse`` of the projection).
    group : str
        The neuron group the synapses are attached to.
    base : str
        The group's synapse base type (its exposures are what the cell sums).
    carried : tuple of str
        The variables this type has a state for (whole linear components).
    increments : list of (str, float or None)
        What an event adds to each variable, in order: a value (SI), or
        None for the connection's weight times `amplitude`.
    amplitude : float
        The increment (SI) of a connection of weight 1: the most common
        increment, so that the usual weight is exactly 1.
    origin : str
        The Brian object and pathway, for error messages and comments.
    on_arrival : bool
        Whether an event changes the state when it arrives (the synapses of
        this pathway without a delay, and the portable form) rather than
        after the synapse's update (see :func:`.network_parts.lems_delays`).
    """

    name: str
    component: str
    group: str
    base: str
    carried: tuple
    increments: list = field(default_factory=list)
    amplitude: float = 1.0
    origin: str = ""
    on_arrival: bool = False


@dataclass
class SynapticProjection:
    """
    A NeuroML ``projection``: one connection per Brian synapse.

    Attributes
    ----------
    name : str
        The projection's id.
    synapse : str
        The id of the synapse component.
    presynaptic, postsynaptic : str
        The populations the events come from and go to.
    sources, targets : ndarray of str
        Paths (``'group[3]'``) of the cell sending and the cell receiving
        (`~.network_parts.CellPaths` or arrays of str).
    weights : ndarray
        Each synapse's weight: its increment divided by the synapse type's
        `SynapseType.amplitude`.
    delays : ndarray
        Each synapse's LEMS delay (seconds).
    origin : str
        The Brian object and pathway.
    connection : str
        The name of the compact connection type (:mod:`.connections`) its
        connections are written with; empty for NeuroML's ``connectionWD``.
    """

    name: str
    synapse: str
    presynaptic: str
    postsynaptic: str
    sources: Any
    targets: Any
    weights: np.ndarray
    delays: np.ndarray
    origin: str = ""
    connection: str = ""


# ------------------------------------------------------------ rendering
