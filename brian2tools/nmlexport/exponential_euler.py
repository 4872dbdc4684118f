"""
Brian's ``exponential_euler`` method as LEMS time derivatives.

jNeuroML integrates a ``TimeDerivative`` ``dx/dt = f`` with forward Euler,
``x += dt*f``, from the state at the start of the step. Brian's exponential
Euler method treats each equation as linear in its own variable,
``f = A*x + B`` with ``A`` and ``B`` taken from the start of the step, and
steps ``x`` exactly for them: ``x <- -B/A + (x + B/A)*exp(A*dt)``. That is a
forward Euler step whose derivative is ``f`` times ``exprel(A*dt) =
(exp(A*dt) - 1)/(A*dt)``, so the export writes ``dx/dt = f * exprel(A*dt)``
and jNeuroML takes Brian's step (to rounding). Without it, forward Euler on
a Hodgkin-Huxley model at dt = 0.1 ms diverges where Brian's step is
stable.

Only the default (jNeuroML) form uses this: NEURON integrates the derivative
itself.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy
from brian2.parsing.sympytools import str_to_sympy, sympy_to_str
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from .lemsrendering import render_expression

__all__ = ["uses_exponential_euler", "linear_coefficient", "exponential_step"]

logger = get_logger(__name__)


def uses_exponential_euler(group: Mapping) -> bool:
    """
    Whether the script asked Brian to integrate ``group`` with ``exponential_euler``.

    Parameters
    ----------
    group : mapping
        A neuron group's description.

    Returns
    -------
    bool

    Examples
    --------
    >>> uses_exponential_euler({'method': 'exponential_euler'})
    True
    >>> uses_exponential_euler({'method': None})
    False
    """
    return group.get("method") == "exponential_euler"


def linear_coefficient(expr: str, variable: str, subexpressions: Mapping[str, str],
                       owner: str) -> str | None:
    """
    The coefficient ``A`` of ``variable`` in its own equation ``f = A*x + B``.

    Parameters
    ----------
    expr : str
        The right-hand side of the variable's equation.
    variable : str
        The variable.
    subexpressions : mapping
        The group's subexpressions (name -> code), written out before the
        derivative is taken, as Brian does.
    owner : str
        The group (for messages).

    Returns
    -------
    str or None
        Brian code of ``A`` (it does not contain ``variable``), or ``None``
        if the equation does not depend on the variable (then exponential
        Euler is forward Euler).

    Raises
    ------
    UnsupportedFeatureError
        If the equation is not linear in its own variable (Brian refuses the
        method then too).

    Examples
    --------
    >>> linear_coefficient('alpha*(1 - m) - beta*m', 'm', {}, 'hh')
    '-alpha - beta'
    >>> linear_coefficient('(El - v)/tau + I/C', 'v', {'I': 'g*(E - v)'}, 'hh')
    '-1/tau - g/C'
    >>> linear_coefficient('-w/tau', 'v', {}, 'hh') is None
    True
    """
    rhs = str_to_sympy(expr)
    symbols = {symbol.name: symbol for symbol in rhs.free_symbols}
    # subexpressions written out (they may use others: repeat until none is left)
    for _ in range(len(subexpressions) + 1):
        names = {symbol.name for symbol in rhs.free_symbols} & set(subexpressions)
        if not names:
            break
        rhs = rhs.subs({sympy.Symbol(name, real=True): str_to_sympy(subexpressions[name])
                        for name in names})
    symbols = {symbol.name: symbol for symbol in rhs.free_symbols}
    if variable not in symbols:
        return None
    x = symbols[variable]
    coefficient = sympy.diff(rhs, x)
    if x in coefficient.free_symbols:
        coefficient = sympy.simplify(coefficient)
    if x in coefficient.free_symbols:
        raise UnsupportedFeatureError(
            owner, f"the exponential Euler method for '{variable}'",
            f"Its equation is not linear in {variable} (Brian's exponential_euler needs "
            "that too).")
    if coefficient == 0:
        return None
    return sympy_to_str(coefficient)


def exponential_step(builder, variable: str, drift: str, expr: str, mapping: Mapping) -> str:
    """
    The time derivative that makes jNeuroML's Euler step Brian's exponential Euler step.

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        The builder of the group's cell type.
    variable : str
        The variable of the equation.
    drift : str
        Brian code of its right-hand side.
    expr : str
        The same, rendered in LEMS.
    mapping : mapping
        Brian names -> LEMS code, for rendering.

    Returns
    -------
    str
        LEMS code of ``f * exprel(A*dt)`` (``expr`` itself when the equation
        does not depend on its variable).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> builder = SimpleNamespace(subexpressions={}, owner='hh', booleans=set())
    >>> exponential_step(builder, 'm', 'a*(1 - m) - b*m', 'a * (1 - m) - b * m',
    ...                  {'a': 'a', 'b': 'b', 'm': 'm'})
    '(a * (1 - m) - b * m) * (exp((-a - b) * dt) - 1) / ((-a - b) * dt)'
    """
    coefficient = linear_coefficient(drift, variable, builder.subexpressions, builder.owner)
    if coefficient is None:
        return expr
    rate = render_expression(coefficient, mapping, builder.owner,
                             f"the exponential Euler step of {variable}", builder.booleans)
    step = f"({rate}) * dt"
    return f"({expr}) * (exp({step}) - 1) / ({step})"
