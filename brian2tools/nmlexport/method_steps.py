"""
Brian's integration methods as LEMS time derivatives.

jNeuroML integrates a ``TimeDerivative`` ``dx/dt = f`` with forward Euler,
``x += dt*f``, every derivative taken from the state at the start of the
step. Any explicit one-step method of Brian (``exact``/``linear``,
``exponential_euler``, ``rk2``, ``rk4``, ``heun`` for deterministic
equations) computes the new value
``x'`` from that same state, so writing ``dx/dt = (x' - x)/dt`` makes
jNeuroML's Euler step Brian's step, to rounding. `method_steps` asks Brian's
own state updater for the code of ``x'`` (Brian's ``StateUpdateMethod``,
the code Brian itself runs) and returns its intermediate values (the
Runge-Kutta stages, ...) and new values, for the cell (:mod:`.neurongroup`)
and for the copies of linear variables that synapse components carry
(:mod:`.synapse_rendering`) to write as derived variables.

Only the default (jNeuroML) form uses this: NEURON integrates the
derivatives itself. Forward Euler needs nothing (it is jNeuroML's step), and
equations with noise keep their Euler-Maruyama step (:mod:`.noise`). For
``exponential_euler`` Brian's code splits each equation into ``A*x + B`` as
Brian does (``A`` the terms that are literally linear in ``x``), which a
derivative of the equation would not reproduce where ``B`` depends on ``x``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import lems.api as lems
from brian2.equations.codestrings import Expression
from brian2.equations.equations import (
    DIFFERENTIAL_EQUATION,
    FLOAT,
    SUBEXPRESSION,
    Equations,
    SingleEquation,
)
from brian2.stateupdaters.base import StateUpdateMethod
from brian2.units.fundamentalunits import get_dimensions
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from .lemsrendering import identifiers_in, render_expression

__all__ = ["STEPPED_METHODS", "MethodSteps", "stepped_method", "method_steps", "derive_steps",
           "cell_steps"]

logger = get_logger(__name__)

#: The methods written as Brian's own steps (``euler`` is jNeuroML's step already).
STEPPED_METHODS = frozenset({"exact", "linear", "rk2", "rk4", "heun", "milstein",
                             "exponential_euler"})

#: Methods that evaluate the equations between the steps (at ``t + dt/2``, ...).
_MULTI_STAGE = frozenset({"rk2", "rk4", "heun", "milstein"})

_STATEMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(.+?)\s*$")


@dataclass
class MethodSteps:
    """
    Brian's state-update code for some equations, as values to derive.

    Attributes
    ----------
    method : str
        The method.
    temporaries : list of (str, str, str)
        The intermediate values in the order Brian computes them: Brian's
        name, its Brian code, and the variable whose dimension it has.
    new_values : dict
        Variable -> Brian code of its value after the step (in terms of the
        state at the start of the step and the temporaries).
    """

    method: str
    temporaries: list = field(default_factory=list)
    new_values: dict = field(default_factory=dict)


def stepped_method(group: Mapping) -> str | None:
    """
    The method of ``group`` that the export writes as Brian's steps, if any.

    Parameters
    ----------
    group : mapping
        A neuron group's (or synapses') description, with the method Brian
        uses (``'method_used'``) or the one the script asked for
        (``'method'``).

    Returns
    -------
    str or None
        ``None`` for forward Euler and unknown methods, and for equations
        with noise.

    Examples
    --------
    >>> stepped_method({'method_used': 'exact', 'equations': []})
    'exact'
    >>> stepped_method({'method': 'euler', 'equations': []}) is None
    True
    """
    method = group.get("method_used") or group.get("method")
    if not isinstance(method, str) or method.lower() not in STEPPED_METHODS:
        # a copy of a linked source takes the source's steps (:mod:`.linked_variables`)
        copied = {str(link.get("method") or "").lower()
                  for link in group.get("linked_copies") or ()}
        return "euler" if copied & STEPPED_METHODS else None
    if any(eq.get("stochastic_variables") for eq in group.get("equations") or ()):
        return None
    if method.lower() in _MULTI_STAGE and any(
            "TimedArray" in feature for feature in group.get("time_features") or ()):
        # Brian's stages would call the TimedArray between its steps; the
        # export writes it as windows of the time, which stay Euler's
        logger.debug(f"'{group.get('name')}': forward Euler steps with a TimedArray")
        return None
    method = method.lower()
    constant = set(group.get("time_subexpressions") or ())
    differential = {eq["name"]: (eq["expr"], eq["unit"]) for eq in group.get("equations") or ()
                    if eq["type"] == "differential equation"}
    subexpressions = {eq["name"]: (eq["expr"], eq["unit"])
                      for eq in group.get("equations") or ()
                      if eq["type"] == "subexpression" and eq["name"] not in constant}
    try:
        # the steps the cell builder asks for (cached): Brian's solver runs once
        method_steps(differential, method, str(group.get("name")), subexpressions)
    except UnsupportedFeatureError as error:
        # the export device does not run Brian's state updater, so a script
        # can name a method that Brian would refuse for these equations
        logger.warning(f"'{group.get('name')}' is integrated with forward Euler in "
                       f"jNeuroML: Brian's method '{method}' cannot integrate its "
                       f"equations ({error.hint})", once=True)
        return None
    return method


def _dimension_owner(temporary: str, variables) -> str | None:
    """The variable whose dimension Brian's intermediate value ``temporary`` has."""
    # Brian names them after their variable: _v, __k_1_v, __k_v, _BA_v, __x_support_v
    candidates = [name for name in variables
                  if temporary == f"_{name}" or temporary.endswith(f"_{name}")]
    return max(candidates, key=len) if candidates else None


def method_steps(differential: Mapping[str, tuple[str, object]], method: str, owner: str,
                 subexpressions: Mapping[str, tuple[str, object]] | None = None,
                 wanted=None) -> MethodSteps:
    """
    Brian's code for one step of ``method`` on the given equations.

    Parameters
    ----------
    differential : mapping
        Variable -> (Brian code of its right-hand side, its unit).
    method : str
        One of `STEPPED_METHODS`.
    owner : str
        The group (for messages).
    subexpressions : mapping, optional
        Subexpression -> (Brian code, unit), which Brian writes out in the
        steps (evaluated at each stage, as Brian does).
    wanted : collection of str, optional
        The variables whose new values are needed (default: all).

    Returns
    -------
    MethodSteps

    Raises
    ------
    UnsupportedFeatureError
        If Brian's method cannot integrate the equations, or its code holds
        a value whose dimension is not known.

    Examples
    --------
    >>> from brian2 import ms, volt
    >>> steps = method_steps({'v': ('-v / (10*ms)', volt)}, 'exact', 'G')
    >>> steps.temporaries, steps.new_values['v']
    ([('_v', 'v*exp(-dt/(10*ms))', 'v')], '_v')
    >>> [name for name, _, _ in method_steps({'v': ('-v / (10*ms)', volt)}, 'rk2',
    ...                                      'G').temporaries]
    ['__k_v', '_v']
    """
    key = (tuple((name, code, str(unit)) for name, (code, unit) in differential.items()),
           tuple((name, code, str(unit)) for name, (code, unit) in (subexpressions or {}).items()),
           method)
    if key not in _STEPS:  # identical groups, and the check of `stepped_method`
        if len(_STEPS) > 256:
            _STEPS.pop(next(iter(_STEPS)))
        _STEPS[key] = _method_steps(differential, method, owner, subexpressions)
    steps = _STEPS[key]
    if wanted is None:
        return steps
    # keep only what the wanted new values need (Brian's heun writes unused supports)
    new_values = {name: value for name, value in steps.new_values.items() if name in wanted}
    return MethodSteps(method, _needed(steps.temporaries, new_values), new_values)


_STEPS: dict[tuple, MethodSteps] = {}


def _needed(temporaries: list, new_values: Mapping[str, str]) -> list:
    """The temporaries that ``new_values`` need, in Brian's order."""
    needed = set(new_values.values())
    for target, code, _ in reversed(temporaries):
        if target in needed:
            needed |= identifiers_in(code)
    return [entry for entry in temporaries if entry[0] in needed]


def _method_steps(differential, method, owner, subexpressions) -> MethodSteps:
    single = [SingleEquation(DIFFERENTIAL_EQUATION, name, get_dimensions(unit),
                             var_type=FLOAT, expr=Expression(code))
              for name, (code, unit) in differential.items()]
    single += [SingleEquation(SUBEXPRESSION, name, get_dimensions(unit),
                              var_type=FLOAT, expr=Expression(code))
               for name, (code, unit) in (subexpressions or {}).items()]
    try:
        code = StateUpdateMethod.apply_stateupdater(Equations(single), {}, method,
                                                    group_name=owner)
    except Exception as error:  # Brian's reasons vary (not linear, unknown method, ...)
        raise UnsupportedFeatureError(
            owner, f"the integration method '{method}'",
            f"Brian's state updater could not write its steps: {error}") from error
    steps = MethodSteps(method)
    defined: dict[str, tuple[str, str]] = {}
    order: list[str] = []
    for line in str(code).splitlines():
        if not line.strip():
            continue
        match = _STATEMENT.match(line)
        if match is None:
            raise UnsupportedFeatureError(owner, f"the integration method '{method}'",
                                          f"Its step has the statement {line!r}.")
        target, value = match.groups()
        if target in differential and value.strip() in defined:
            steps.new_values[target] = value.strip()
            continue
        dimension_of = _dimension_owner(target, differential)
        if dimension_of is None:
            raise UnsupportedFeatureError(
                owner, f"the integration method '{method}'",
                f"Its step computes '{target}', whose dimension is not known.")
        defined[target] = (value, dimension_of)
        order.append(target)
    missing = set(differential) - set(steps.new_values)
    if missing:
        raise UnsupportedFeatureError(owner, f"the integration method '{method}'",
                                      f"Its step gives no new value of {sorted(missing)}.")
    steps.temporaries = _needed([(target, *defined[target]) for target in order],
                                steps.new_values)
    logger.debug(f"'{owner}': Brian's {method} steps with {len(steps.temporaries)} values")
    return steps


def derive_steps(steps: MethodSteps, dynamics, mapping: Mapping[str, str], names,
                 dimension_of, owner: str, booleans=()) -> dict[str, str]:
    """
    Write the steps' intermediate and new values as LEMS derived variables.

    Parameters
    ----------
    steps : MethodSteps
        From `method_steps`.
    dynamics : lems.Dynamics
        Where the derived variables go.
    mapping : mapping
        Brian names -> LEMS code for the state at the start of the step
        (extended here with the derived values).
    names : callable
        Gives a new, unused LEMS name for a base name.
    dimension_of : callable
        Variable -> its LEMS dimension name.
    owner : str
        The group (for messages).
    booleans : collection of str, optional
        Identifiers that hold truth values.

    Returns
    -------
    dict
        Variable -> the LEMS name of its value after the step.

    Examples
    --------
    >>> import lems.api as lems
    >>> from brian2 import ms, volt
    >>> dynamics = lems.Dynamics()
    >>> steps = method_steps({'v': ('-v / tau', volt)}, 'exact', 'G')
    >>> derive_steps(steps, dynamics, {'v': 'v', 'tau': 'tau', 'dt': 'dt'},
    ...              lambda base: base, lambda v: 'voltage', 'G')
    {'v': 'step_v'}
    >>> print(dynamics.derived_variables['step_v'].value)
    v * exp(-dt / tau)
    """
    mapping = dict(mapping)
    for target, code, variable in steps.temporaries:
        name = names(f"step{target}")
        dynamics.add(lems.DerivedVariable(name, dimension=dimension_of(variable),
                                          value=render_expression(
            code, mapping, owner, f"the {steps.method} step of {variable}", booleans)))
        mapping[target] = name
    return {variable: mapping[value] for variable, value in steps.new_values.items()}



def cell_steps(builder, dynamics, mapping: Mapping[str, str]) -> dict[str, str]:
    """
    Brian's steps of a cell's differential equations, as derived variables.

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        The builder of the group's cell type (its ``stepped`` method is set).
    dynamics : lems.Dynamics
        The cell type's dynamics.
    mapping : mapping
        Brian names -> LEMS code for the state at the start of the step.

    Returns
    -------
    dict
        Variable -> the LEMS name of its value after the step. A variable
        that synapses carry gets the step of the cell's own copy, which
        follows the same equations on the own copies.

    Raises
    ------
    UnsupportedFeatureError
        If Brian's method cannot integrate the equations.

    Examples
    --------
    The cell builder calls it for a group whose method is stepped:

    >>> from brian2 import ms, volt
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> group = {'name': 'G', 'N': 1, 'refractory': None, 'method': 'exact',
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '-v/tau', 'unit': volt, 'var_type': 'float',
    ...                         'flags': []}],
    ...          'events': {}, 'namespace': {'tau': 10*ms}, 'initial_values': {'v': [0]*volt}}
    >>> dynamics = build_cell_types(group, 0.1*ms, brian_steps=True).cell_type.dynamics
    >>> [(d.name, d.value) for d in dynamics.derived_variables]
    [('step_v', 'v * exp(-dt / tau)')]
    >>> [(d.variable, d.value) for d in dynamics.time_derivatives]
    [('v', '(step_v - v) / dt')]
    """
    equations = builder.equations
    full = {name: (equations[name]["expr"], equations[name]["unit"])
            for name in builder.differential}
    # a linked source's new value, read by the group when the source updates first
    following = builder.group.get("linked_next") or {}
    # TimedArrays (functions of time only) stay derived values, constant over the step
    constant = set(following) | set(builder.group.get("time_subexpressions") or ())
    subexpressions = {name: (code, equations[name]["unit"])
                      for name, code in builder.subexpressions.items() if name not in constant}

    def dimension(variable: str) -> str:
        return builder.variable_dimension(variable).name

    # copies of linked sources: the source's own steps (:mod:`.linked_variables`)
    new_values, copies = {}, set()
    for link in builder.group.get("linked_copies") or ():
        method = str(link.get("method") or "euler").lower()
        steps = method_steps({name: full[name] for name in link["variables"]},
                             method if method in STEPPED_METHODS else "euler",
                             builder.owner, subexpressions)
        new_values.update(derive_steps(steps, dynamics, mapping, builder.names.new,
                                       dimension, builder.owner, builder.booleans))
        copies.update(link["variables"])
    mapping = {**mapping, **{name: new_values[copy] for name, copy in following.items()}}
    own = set(builder.carried)
    steps = method_steps({name: full[name] for name in full if name not in copies},
                         builder.stepped, builder.owner, subexpressions,
                         wanted=set(full) - own - copies)
    new_values.update(derive_steps(steps, dynamics, mapping, builder.names.new, dimension,
                                   builder.owner, builder.booleans))
    if own:
        # the own copies follow the carried variables' equations among themselves
        from .synapse_components import own_name

        steps = method_steps({name: full[name] for name in own}, builder.stepped,
                             builder.owner, subexpressions)
        own_mapping = {**mapping, **{name: own_name(name) for name in own}}
        new_values.update(derive_steps(steps, dynamics, own_mapping, builder.names.new,
                                       dimension, builder.owner, builder.booleans))
    return new_values
