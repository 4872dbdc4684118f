"""
Brian equations as plain lists of dicts (the ``'equations'`` entries of the description).

`describe_equations` turns an `Equations` object into a list of dicts with
the name, type, right-hand side, unit, value type and flags of each
variable. Brian stores some equations of a model apart from the rest (the
``constant over dt`` subexpressions, the event-driven equations and summed
variables of synapses); `neurongroup_equations` and `synapses_equations`
put a model back together, leaving out the variables Brian adds for its own
book-keeping (``lastspike``, ``not_refractory``, ``lastupdate``) and its
rewriting of ``(unless refractory)`` equations.
"""

from __future__ import annotations

from typing import Any

from brian2.equations.equations import (
    BOOLEAN,
    DIFFERENTIAL_EQUATION,
    FLOAT,
    INTEGER,
    PARAMETER,
    SUBEXPRESSION,
)
from brian2.units.fundamentalunits import DIMENSIONLESS, Unit, get_unit
from brian2.utils.stringtools import get_identifiers

from .operations import linked_variables

__all__ = [
    "unit_of",
    "describe_equation",
    "describe_equations",
    "neurongroup_equations",
    "synapses_equations",
    "neurongroup_equation_order",
    "synapses_equation_order",
    "equation_identifiers",
]

_TYPES = {
    DIFFERENTIAL_EQUATION: "differential equation",
    SUBEXPRESSION: "subexpression",
    PARAMETER: "parameter",
}
_VAR_TYPES = {FLOAT: "float", INTEGER: "integer", BOOLEAN: "boolean"}


def unit_of(dim) -> Unit:
    """
    The unit of a dimension, ``Unit(1)`` for dimensionless ones.

    `get_unit` returns ``radian`` (a dimensionless unit) for dimensionless
    variables, which is not what the equations say.

    Parameters
    ----------
    dim : brian2.Dimension
        The dimensions.

    Returns
    -------
    unit : brian2.Unit

    Examples
    --------
    >>> from brian2 import volt
    >>> unit_of(volt.dim), unit_of(DIMENSIONLESS)
    (volt, Unit(1))
    """
    if dim is DIMENSIONLESS:
        return Unit(1)
    return get_unit(dim)


def describe_equation(equation) -> dict[str, Any]:
    """
    One `SingleEquation` as a dict.

    Parameters
    ----------
    equation : brian2.equations.equations.SingleEquation
        The equation.

    Returns
    -------
    description : dict
        Keys ``'name'``, ``'type'``, ``'expr'``, ``'unit'``, ``'var_type'``,
        ``'flags'`` and ``'stochastic_variables'`` (see :doc:`/export_format`).

    Examples
    --------
    >>> from brian2 import Equations
    >>> eq = Equations('dv/dt = -v / (10*ms) : volt (unless refractory)')['v']
    >>> description = describe_equation(eq)
    >>> description['type'], description['expr'], description['flags']
    ('differential equation', '-v / (10*ms)', ['unless refractory'])
    """
    expr = equation.expr
    return {
        "name": equation.varname,
        "type": _TYPES[equation.type],
        "expr": None if expr is None else str(expr.code).strip(),
        "unit": unit_of(equation.dim),
        "var_type": _VAR_TYPES.get(equation.var_type, str(equation.var_type)),
        "flags": list(equation.flags),
        "stochastic_variables": sorted(equation.stochastic_variables),
    }


def describe_equations(equations, exclude=()) -> list[dict[str, Any]]:
    """
    All equations of an `Equations` object, in Brian's order.

    Parameters
    ----------
    equations : brian2.Equations
        The equations.
    exclude : iterable of str, optional
        Variable names to leave out.

    Returns
    -------
    descriptions : list of dict
        One dict per equation, see `describe_equation`.

    Examples
    --------
    >>> from brian2 import Equations
    >>> eqs = Equations('dv/dt = (v0 - v) / (10*ms) : 1\\nv0 : 1 (constant)')
    >>> [(eq['name'], eq['type']) for eq in describe_equations(eqs)]
    [('v', 'differential equation'), ('v0', 'parameter')]
    """
    excluded = set(exclude)
    return [describe_equation(eq) for eq in equations.ordered if eq.varname not in excluded]


def _restore_constant_over_dt(descriptions, updater) -> None:
    """
    Put back the ``constant over dt`` subexpressions Brian turned into parameters.

    Brian replaces each such subexpression by a parameter that its
    `SubexpressionUpdater` sets, once per time step, with lines
    ``name = expression``.
    """
    if updater is None:
        return
    expressions = {}
    for line in updater.abstract_code.splitlines() if updater.abstract_code else []:
        name, _, expr = line.partition("=")
        expressions[name.strip()] = expr.strip()
    for description in descriptions:
        if description["name"] in expressions:
            description["type"] = "subexpression"
            description["expr"] = expressions[description["name"]]
            description["flags"] = description["flags"] + ["constant over dt"]


def neurongroup_equations(group) -> list[dict[str, Any]]:
    """
    The model of a `NeuronGroup` as the user wrote it.

    Brian multiplies the right-hand side of ``(unless refractory)`` equations
    by ``int(not_refractory)`` and adds the variables ``lastspike`` and
    ``not_refractory`` when the group has a ``refractory`` period; the
    description keeps the user's equations (``group.user_equations``), the
    flag and the ``'refractory'`` entry say the rest.

    Parameters
    ----------
    group : brian2.NeuronGroup
        The group.

    Returns
    -------
    descriptions : list of dict

    Examples
    --------
    >>> from brian2 import NeuronGroup, ms
    >>> group = NeuronGroup(1, 'dv/dt = -v / (10*ms) : 1 (unless refractory)',
    ...                     threshold='v > 1', reset='v = 0', refractory=2*ms)
    >>> [(eq['name'], eq['expr']) for eq in neurongroup_equations(group)]
    [('v', '-v / (10*ms)')]
    """
    descriptions = describe_equations(group.user_equations)
    linked_variables(group, descriptions)
    return descriptions


def synapses_equations(synapses) -> list[dict[str, Any]]:
    """
    The model of a `Synapses` object, put back together.

    Brian keeps clock-driven equations, parameters and subexpressions in
    ``synapses.equations``, event-driven equations in
    ``synapses.event_driven`` and summed variables in its summed-variable
    updaters. The list holds the first group, then the event-driven
    differential equations, then the summed variables; the ``lastupdate``
    variable Brian adds for event-driven equations is left out.

    Parameters
    ----------
    synapses : brian2.Synapses
        The synapses.

    Returns
    -------
    descriptions : list of dict

    Examples
    --------
    >>> from brian2 import NeuronGroup, Synapses
    >>> group = NeuronGroup(2, 'dv/dt = -v / (10*ms) : 1\\nI : 1', threshold='v > 1', reset='')
    >>> synapses = Synapses(group, group, '''w : 1
    ...                     dx/dt = -x / (5*ms) : 1 (event-driven)
    ...                     I_post = w : 1 (summed)''', on_pre='x += 1')
    >>> [(eq['name'], eq['flags']) for eq in synapses_equations(synapses)]
    [('w', []), ('x', ['event-driven']), ('I_post', ['summed'])]
    """
    descriptions = describe_equations(synapses.equations, exclude=("lastupdate",))
    _restore_constant_over_dt(descriptions, getattr(synapses, "subexpression_updater", None))
    if synapses.event_driven is not None:
        descriptions += [
            describe_equation(eq)
            for eq in synapses.event_driven.ordered
            if eq.type == DIFFERENTIAL_EQUATION
        ]
    for varname, updater in synapses.summed_updaters.items():
        descriptions.append(
            {
                "name": varname,
                "type": "subexpression",
                "expr": str(updater.expression.code).strip(),
                "unit": unit_of(synapses.variables[varname].dim),
                "var_type": "float",
                "flags": ["summed"],
                "stochastic_variables": [],
            }
        )
    linked_variables(synapses, descriptions)
    return descriptions


def neurongroup_equation_order(group) -> list[str]:
    """
    The names of a group's equations in the order the script wrote them.

    Brian's ``Equations.ordered`` (and so the ``'equations'`` list) sorts
    the equations by type and name; the `Equations` object itself keeps the
    order of the model string.

    Parameters
    ----------
    group : brian2.NeuronGroup
        The group.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from brian2 import NeuronGroup
    >>> group = NeuronGroup(1, '''dv/dt = (ge + gi - v) / (20*ms) : 1
    ...                         dge/dt = -ge / (5*ms) : 1
    ...                         dgi/dt = -gi / (10*ms) : 1''')
    >>> neurongroup_equation_order(group)
    ['v', 'ge', 'gi']
    """
    return list(group.user_equations)


def synapses_equation_order(synapses) -> list[str]:
    """
    The names of a `Synapses` object's equations, as close to the script's order as known.

    Brian splits the model into clock-driven equations, event-driven
    equations and summed variables, and sorts the model by name on the way
    (``extract_constant_subexpressions``): the script's own order of a
    `Synapses` model is lost before the exporter sees it. The order is the
    one in which the model reads best that is still known: the
    clock-driven part (parameters, subexpressions and equations), then the
    event-driven equations, then the summed variables.

    Parameters
    ----------
    synapses : brian2.Synapses
        The synapses.

    Returns
    -------
    list of str
        The names of `synapses_equations`.

    Examples
    --------
    >>> from brian2 import NeuronGroup, Synapses
    >>> group = NeuronGroup(2, 'v : 1\\nI : 1')
    >>> synapses = Synapses(group, group, '''w : 1
    ...                     dx/dt = -x / (5*ms) : 1 (event-driven)
    ...                     I_post = w : 1 (summed)''')
    >>> synapses_equation_order(synapses)
    ['w', 'x', 'I_post']
    """
    names = [name for name in synapses.equations if name != "lastupdate"]
    if synapses.event_driven is not None:
        names += [name for name in synapses.event_driven
                  if synapses.event_driven[name].type == DIFFERENTIAL_EQUATION]
    names += list(synapses.summed_updaters)
    return names


def equation_identifiers(descriptions) -> tuple[set[str], set[str]]:
    """
    The names used by the right-hand sides, and the stochastic variables.

    Parameters
    ----------
    descriptions : list of dict
        Equation descriptions.

    Returns
    -------
    identifiers : set of str
        Every name in the expressions, without the variables the equations
        define and without the stochastic variables.
    stochastic : set of str
        The stochastic variables (``xi``, ``xi_1``, ...).

    Examples
    --------
    >>> from brian2 import Equations
    >>> eqs = Equations('dv/dt = (v0 - v) / tau + xi * sigma / sqrt(tau) : 1\\nv0 : 1')
    >>> identifiers, stochastic = equation_identifiers(describe_equations(eqs))
    >>> sorted(identifiers), sorted(stochastic)
    (['sigma', 'sqrt', 'tau'], ['xi'])
    """
    identifiers: set[str] = set()
    stochastic: set[str] = set()
    for description in descriptions:
        if description["expr"] is not None:
            identifiers |= get_identifiers(description["expr"])
        stochastic |= set(description["stochastic_variables"])
    defined = {description["name"] for description in descriptions}
    return identifiers - defined - stochastic, stochastic
