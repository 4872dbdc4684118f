"""
Noise terms (``xi``) of exported equations: Euler–Maruyama with the engine's random numbers.

Brian integrates ``dx/dt = f + g*xi`` with the ``'euler'`` method as
``x += dt*f + sqrt(dt)*g*n``, where ``n`` is a standard normal number drawn
for each cell, each noise variable (``xi``, ``xi_1``, ...) and each time step.
LEMS integrates a ``TimeDerivative`` with forward Euler, so the export keeps
one dimensionless state variable per noise variable that holds ``n`` for the
current step and writes the equation as ``f + (sqrt(dt)*g) * n / dt``.

LEMS has no fractional dimensions: ``g`` (volt per square-root second in
``sigma*sqrt(2/tau)*xi``) cannot be written alone, but ``sqrt(dt)*g`` has the
dimension of ``x``. `noise_terms` multiplies the coefficient by ``sqrt(dt)``
and gathers all square roots of the product under one, so that
``sigma*sqrt(2/tau)`` becomes ``sigma * sqrt(2*dt/tau)``; a coefficient that
still needs a fractional dimension is refused by name.

The normal numbers come from the engine's uniform ``random(1)`` through the
Box–Muller transform. They are not Brian's numbers: a stochastic model is
faithful in distribution, not sample by sample (see
:doc:`/nmlexport` for what the tests check).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import sympy
from brian2 import get_dimensions, second
from brian2.equations.codestrings import Expression
from brian2.parsing.sympytools import str_to_sympy, sympy_to_str
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_or_create_dimension
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

__all__ = ["noise_terms", "NORMAL_DRAW", "noise_state_name"]

logger = get_logger(__name__)

#: A standard normal number from two uniform draws (Box–Muller); ``1 - random(1)``
#: is in (0, 1], so the logarithm is finite.
NORMAL_DRAW = "sqrt(-2 * log(1 - random(1))) * cos(6.283185307179586 * random(1))"

_DT = "dt"


def noise_state_name(noise: str) -> str:
    """
    The name of the state variable that holds a noise variable's draw of the step.

    Parameters
    ----------
    noise : str
        Brian's name of the noise variable (``'xi'``, ``'xi_1'``, ...).

    Returns
    -------
    str

    Examples
    --------
    >>> noise_state_name('xi_1')
    'xi_1__draw'
    """
    return f"{noise}__draw"


def _half_integer(exponent) -> sympy.Rational | None:
    """``exponent`` as a rational k/2 (k odd), whether written 0.5 or 1/2; else None."""
    if exponent.is_Number:
        rational = sympy.nsimplify(exponent, rational=True)
        if rational.q == 2:
            return rational
    return None


def _as_powers(expression: sympy.Expr) -> sympy.Expr:
    """Brian's ``sqrt`` function written as a power of one half, which sympy can combine."""
    return expression.replace(
        lambda node: isinstance(node, sympy.Function) and node.func.__name__ == "sqrt",
        lambda node: sympy.Pow(node.args[0], sympy.Rational(1, 2)),
    )


def _gather_square_roots(product: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """A product split into the factors outside and the product under one square root."""
    outside, inside = [], []
    for factor in sympy.Mul.make_args(product):
        base, exponent = factor.as_base_exp()
        half = _half_integer(exponent)
        if half is not None:
            inside.append(base ** half.p)
        else:
            outside.append(factor)
    return sympy.Mul(*outside), sympy.Mul(*inside)


def _fractional_powers(expression: sympy.Expr) -> list[str]:
    """The bases of the fractional powers (square roots included) in ``expression``."""
    return [sympy_to_str(power.base) for power in expression.atoms(sympy.Pow)
            if not power.exp.is_integer]


def _dimension_of(code: str, units: Mapping[str, object]):
    used = Expression(code).identifiers
    namespace = {name: Quantity(1.0, dim=get_dimensions(unit)) for name, unit in units.items()
                 if name in used}
    namespace.update(sqrt=np.sqrt, exp=np.exp, log=np.log, abs=np.abs)
    return get_dimensions(eval(code, {"__builtins__": {}}, namespace))  # noqa: S307 (our own code strings)


def _refusal(owner: str, variable: str, term: str, reason: str) -> UnsupportedFeatureError:
    return UnsupportedFeatureError(owner, f"the noise term '{term}' of {variable}", reason)


def _half_dimension(dimension):
    """The dimension whose square is ``dimension``, or None if an exponent is odd."""
    exponents = np.asarray(dimension._dims)
    if np.any(np.asarray(exponents) % 2 != 0):
        return None
    return get_or_create_dimension(exponents / 2)


def noise_terms(expr: str, variable: str, owner: str, units: Mapping[str, object],
                state_variables: Collection[str] = ()
                ) -> tuple[str, dict[str, str], dict[str, Quantity]]:
    """
    Split the right-hand side of an equation into its drift and its noise amplitudes.

    Parameters
    ----------
    expr : str
        The right-hand side of ``d<variable>/dt`` as Brian wrote it.
    variable : str
        The variable of the equation (for messages and names).
    owner : str
        The name of the exported object (for messages).
    units : mapping
        The unit (or any value with its dimensions) of every name the
        coefficients of the noise terms may use; ``dt`` is added.
    state_variables : collection of str, optional
        The variables that change during the simulation: a noise coefficient
        that depends on them (multiplicative noise) is refused.

    Returns
    -------
    drift : str
        The expression without its noise terms (``expr`` if it has none).
    amplitudes : dict
        Noise variable -> the code of ``sqrt(dt) * g``, the amplitude of its
        draw in one step (the dimension of ``variable``).
    constants : dict
        Names the amplitudes use besides ``units`` -> their values: the unit
        taken out of a square root whose argument has a dimension
        (``sqrt(2*D*dt)`` is written ``sqrt(2*D*dt/u**2)*u``).

    Raises
    ------
    UnsupportedFeatureError
        If the noise enters non-linearly, is multiplicative, or if its
        amplitude needs a fractional dimension that LEMS cannot write.

    Examples
    --------
    >>> from brian2 import ms, mV
    >>> drift, amplitudes, _ = noise_terms('-v/tau + sigma*sqrt(2/tau)*xi', 'v', 'cells',
    ...                                    {'v': mV, 'tau': ms, 'sigma': mV})
    >>> drift
    '-v/tau'
    >>> amplitudes
    {'xi': '(sigma) * sqrt(2*dt/tau)'}
    """
    parsed = Expression(expr)
    if not any(name == "xi" or name.startswith("xi_") for name in parsed.identifiers):
        return expr, {}, {}
    try:
        drift, stochastic = parsed.split_stochastic()
    except ValueError as error:
        raise UnsupportedFeatureError(
            owner, f"the noise in the equation of {variable} '{expr}'", str(error)) from None
    units = {**units, _DT: second}
    amplitudes, constants = {}, {}
    for noise, coefficient in (stochastic or {}).items():
        term = f"{coefficient.code}*{noise}"
        changing = sorted(set(coefficient.identifiers) & set(state_variables))
        if changing:
            raise _refusal(owner, variable, term,
                           f"Its coefficient depends on {', '.join(changing)} (multiplicative "
                           "noise); the engines integrate with the Euler-Maruyama scheme, "
                           "which is Brian's method for additive noise only.")
        product = _as_powers(str_to_sympy(coefficient.code)) * sympy.sqrt(sympy.Symbol(_DT))
        outside, inside = _gather_square_roots(product)
        if _fractional_powers(outside):
            raise _refusal(owner, variable, term,
                           "Its coefficient has a power that is neither whole nor a square "
                           "root; LEMS has no fractional dimensions.")
        inside_code = sympy_to_str(inside)
        try:
            dimension = _dimension_of(inside_code, units)
        except Exception as error:  # an unknown name or a unit error: say which term
            raise _refusal(owner, variable, term,
                           f"Its amplitude could not be checked ({error}).") from None
        amplitude = f"({sympy_to_str(outside)}) * sqrt({inside_code})"
        if dimension is not DIMENSIONLESS:
            half = _half_dimension(dimension)
            if half is None:
                raise _refusal(owner, variable, term,
                               "Multiplied by sqrt(dt) it still takes the square root of "
                               f"'{inside_code}' (dimension {dimension}); LEMS has no "
                               "fractional dimensions.")
            unit = f"{variable}__{noise}__unit"
            constants[unit] = Quantity(1.0, dim=half)
            amplitude = (f"({sympy_to_str(outside)}) * sqrt(({inside_code}) / {unit}**2) "
                         f"* {unit}")
        amplitudes[noise] = amplitude
    return drift.code, amplitudes, constants
