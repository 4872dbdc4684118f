"""
LaTeX for the pieces of a model description: code, statements, values and units.

Brian code (equation right-hand sides, conditions, statements) is typeset by
:mod:`brian2tools.mdexport.codelatex` in the order the script wrote it:
nothing is simplified or rearranged. Physical units written in the code
(``49*mV``) are set upright (:math:`\\mathrm{mV}`) unless a variable or
constant has the name, names are single symbols (``tau_m`` as
:math:`\\tau_{\\mathrm{m}}`), and vertical bars are written as ``\\vert``
so that the math can stand in a Markdown table. Code that cannot be typeset
is shown as typewriter text rather than refused: the description stays
complete.

All functions return LaTeX *without* the surrounding ``$`` signs.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Collection, Mapping
from functools import partial

import numpy as np
import sympy
from brian2.core.namespace import DEFAULT_UNITS
from brian2.parsing.sympytools import str_to_sympy
from brian2.units.fundamentalunits import Quantity, Unit, get_unit
from brian2.utils.logger import get_logger
from sympy.logic.boolalg import BooleanFunction

from .codelatex import expression_to_latex, name_to_latex, unit_name_latex

__all__ = [
    "code_to_latex",
    "display_unit",
    "is_condition",
    "name_to_latex",
    "number_to_latex",
    "quantity_to_latex",
    "statement_to_latex",
    "unit_to_latex",
]

logger = get_logger(__name__)

# Brian's in-place operators, as they read in an update "x <- x op expr"
_UPDATE_OPERATORS = {
    "+=": "+",
    "-=": "-",
    "*=": "*",
    "/=": "/",
    "//=": "//",
    "%=": "%",
    "**=": "**",
}


def _escape_bars(latex: str) -> str:
    """Replace ``|`` (which would split a Markdown table cell) with ``\\vert``."""
    latex = latex.replace(r"\left|", r"\left\vert ").replace(r"\right|", r"\right\vert ")
    return latex.replace("|", r"\vert ")


def texttt(text: str) -> str:
    """Typewriter LaTeX for text shown verbatim (code sympy cannot represent)."""
    escaped = re.sub(r"([\\{}_%#&$^~])", lambda m: {
        "\\": r"\backslash ", "^": r"\hat{}", "~": r"\sim ",
    }.get(m.group(1), "\\" + m.group(1)), text)
    return _escape_bars(rf"\texttt{{{escaped}}}")


def code_to_latex(
    code: str,
    variables: Collection[str] = (),
    namespace: Mapping | None = None,
) -> str:
    r"""
    Typeset one Brian expression (or condition) as LaTeX, in the order it was written.

    Parameters
    ----------
    code : str
        The expression as Brian code, e.g. ``'(v0 - v)/(10*ms)'``.
    variables : collection of str, optional
        Names of the variables of the object the code belongs to; an
        identifier named like a unit but listed here is a variable.
    namespace : mapping, optional
        The object's external constants; an identifier in it is a constant
        (unless its value is a Brian unit).

    Returns
    -------
    str
        LaTeX (without ``$``). Code that cannot be typeset is returned
        in ``\texttt{...}``.

    Examples
    --------
    >>> from brian2tools.mdexport.mathtext import code_to_latex
    >>> code_to_latex('(v0 - v)/(10*ms)')
    '\\frac{v_{0} - v}{10\\,\\mathrm{m}\\mathrm{s}}'
    """
    namespace = {} if namespace is None else namespace
    try:
        latex = expression_to_latex(
            code, partial(unit_name_latex, variables=variables, namespace=namespace,
                          units=DEFAULT_UNITS))
    except (ValueError, RecursionError) as error:
        # The code was valid for Brian (it ran); only its typesetting failed,
        # so show it as it was written rather than leave it out.
        logger.debug(f"Showing {code!r} verbatim, it cannot be typeset: {error}")
        return texttt(code)
    return _escape_bars(latex)


def is_condition(code: str) -> bool:
    r"""
    Whether a piece of code is a condition (boolean) rather than a value.

    Parameters
    ----------
    code : str
        Brian code, e.g. ``'v > -40*mV'`` or ``'5*ms'``.

    Returns
    -------
    bool
        ``True`` for comparisons and boolean combinations of them.

    Examples
    --------
    >>> from brian2tools.mdexport.mathtext import is_condition
    >>> is_condition('v > -40*mV'), is_condition('5*ms + tau')
    (True, False)
    """
    try:
        expr = str_to_sympy(code)
    except (SyntaxError, TypeError, ValueError):
        return bool(re.search(r"[<>]|==|!=|\b(and|or|not)\b", code))
    return bool(expr.is_Relational) or isinstance(expr, BooleanFunction) or expr in (
        sympy.true, sympy.false)


def statement_to_latex(
    variable: str,
    operator: str,
    expression: str,
    variables: Collection[str] = (),
    namespace: Mapping | None = None,
) -> str:
    r"""
    Typeset one update statement as ``x \leftarrow ...``.

    Parameters
    ----------
    variable : str
        The variable that is changed.
    operator : str
        ``'='`` or an in-place operator such as ``'+='``.
    expression : str
        The right-hand side.
    variables, namespace
        As for :func:`code_to_latex`.

    Returns
    -------
    str
        LaTeX (without ``$``), e.g. ``g_{e} \leftarrow g_{e} + w_{e}``.

    Examples
    --------
    >>> from brian2tools.mdexport.mathtext import statement_to_latex
    >>> statement_to_latex('v', '=', 'v_r')
    'v \\leftarrow v_{\\mathrm{r}}'
    """
    if operator == "=":
        code = expression
    elif operator in _UPDATE_OPERATORS:
        code = f"{variable} {_UPDATE_OPERATORS[operator]} ({expression})"
    else:
        return texttt(f"{variable} {operator} {expression}")
    return rf"{name_to_latex(variable)} \leftarrow {code_to_latex(code, variables, namespace)}"


def number_to_latex(value: float, precision: int = 6) -> str:
    r"""
    Typeset a plain number, with powers of ten written out.

    Parameters
    ----------
    value : float
        The number.
    precision : int, optional
        Significant digits (default: 6).

    Returns
    -------
    str
        LaTeX, e.g. ``2.5 \times 10^{-5}``.

    Examples
    --------
    >>> from brian2tools.mdexport.mathtext import number_to_latex
    >>> number_to_latex(2.5e-5)
    '2.5 \\times 10^{-5}'
    """
    if isinstance(value, (bool, np.bool_)):
        return r"\mathrm{True}" if value else r"\mathrm{False}"
    value = float(value)
    if np.isinf(value):
        return r"\infty" if value > 0 else r"-\infty"
    text = f"{value:.{precision}g}"
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return text
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def unit_to_latex(unit: Unit) -> str:
    r"""
    Typeset a Brian unit upright (``mV`` as :math:`\mathrm{mV}`).

    Parameters
    ----------
    unit : Unit
        The unit; a dimensionless unit gives an empty string.

    Returns
    -------
    str
        LaTeX (without ``$``).

    Examples
    --------
    >>> from brian2tools.mdexport.mathtext import unit_to_latex
    >>> from brian2 import mV
    >>> unit_to_latex(mV)
    '\\mathrm{m}\\mathrm{V}'
    """
    if unit.dim.is_dimensionless:
        return ""
    latex = sympy.latex(unit)
    if not latex:  # a combination of base units without a name of its own
        latex = rf"\mathrm{{{sympy.latex(unit.dim)}}}"
    return latex


def _si_units() -> tuple[list[Unit], list[Unit]]:
    """Named SI units to combine into a quotient or product for compound dimensions."""
    from brian2.units import allunits

    names = ["volt", "amp", "siemens", "farad", "ohm", "coulomb", "mole", "molar", "metre",
             "kilogram", "joule", "watt", "second", "hertz"]
    numerators = [getattr(allunits, name) for name in names]
    denominators = [getattr(allunits, name) for name in ["second", "metre2", "metre",
                                                           "metre3", "volt", "amp", "mole"]]
    return numerators, denominators


def display_unit(value: Quantity) -> Unit:
    """
    The unit in which a quantity (a value or an array) reads best.

    Brian's own choice when it names the dimension (``mV``, ``kHz``), else the
    inverse, quotient or product of named SI units (``1/V``, ``V/s``,
    ``S/m^2``, ``V^2``), else the SI base units.

    Parameters
    ----------
    value : Quantity
        A value or an array of values with physical dimensions.

    Returns
    -------
    Unit
        The unit to show the value(s) in.

    Examples
    --------
    >>> from brian2tools.mdexport.mathtext import display_unit
    >>> from brian2 import mV, ms
    >>> display_unit(-65*mV)
    mvolt
    >>> unit = display_unit(3*mV/ms)   # volt/second (its name depends on Brian's registry)
    >>> float(3*mV/ms / unit)
    3.0
    """
    best = value.get_best_unit()
    if isinstance(best, Unit) and sympy.latex(best):
        return best
    numerators, denominators = _si_units()
    # compare dimensions first: creating a unit has a side effect (see _unregistered)
    candidates = [(unit.dim ** -1, partial(operator.truediv, 1, unit)) for unit in numerators]
    for numerator in numerators:
        candidates += [(numerator.dim / other.dim, partial(operator.truediv, numerator, other))
                       for other in denominators]
        candidates += [(numerator.dim * other.dim, partial(operator.mul, numerator, other))
                       for other in numerators]
    for dim, make_unit in candidates:
        if dim == value.dim:
            return _unregistered(make_unit)
    return _unregistered(partial(get_unit, value.dim))


def _unregistered(make_unit) -> Unit:
    """
    Create a compound unit without adding it to Brian's registry of user units.

    Brian registers every unit created in a script, and then prefers it for
    displaying values: the description must not change how Brian shows values.
    """
    previous = Unit.automatically_register_units
    Unit.automatically_register_units = False
    try:
        return make_unit()
    finally:
        Unit.automatically_register_units = previous


def quantity_to_latex(value, precision: int = 6, unit: Unit | None = None) -> str:
    r"""
    Typeset a scalar value with its unit, in the unit it reads best in.

    Parameters
    ----------
    value : Quantity, float, int or bool
        The value.
    precision : int, optional
        Significant digits (default: 6).
    unit : Unit, optional
        The unit to show the value in (by default the one it reads best in).

    Returns
    -------
    str
        LaTeX (without ``$``), e.g. ``-60\,\mathrm{m}\mathrm{V}``.

    Raises
    ------
    TypeError
        If the value is not a number.

    Examples
    --------
    >>> from brian2tools.mdexport.mathtext import quantity_to_latex
    >>> from brian2 import mV
    >>> quantity_to_latex(-60*mV)
    '-60\\,\\mathrm{m}\\mathrm{V}'
    """
    if isinstance(value, Quantity) and not value.dim.is_dimensionless:
        if unit is None:
            unit = display_unit(value)
        number = np.asarray(value / unit, dtype=float)
        if number.size != 1:
            raise TypeError(f"Expected a single value, got {number.size} values: {value!r}")
        return rf"{number_to_latex(number.item(), precision)}\,{unit_to_latex(unit)}"
    number = np.asarray(value)
    if number.size != 1 or not np.issubdtype(number.dtype, np.number) and (
            number.dtype != bool):
        raise TypeError(f"Expected a single number, got {value!r}")
    return number_to_latex(number.item(), precision)
