"""
Comparisons as numbers and random draws, written with LEMS's ``H`` and ``random``.

Brian code may use a comparison or a logical operator as a number
(``I = 2*int(rand() < 0.5)``, ``v * (v > 0*mV)``): ``True`` is 1 and
``False`` 0. LEMS allows comparisons in conditions only, but it has the
Heaviside step ``H``, which jLEMS computes as ``0.5 * (signum(x) + 1)``:
``H(x)`` is 0 for ``x < 0``, 1 for ``x > 0`` and **0.5 at 0** (measured in
jNeuroML 0.14's ``FunctionNode``). `truth_of_comparison` writes ``a op b``
from the difference ``d = a - b``, whose sign is the result of the comparison
for all finite floating point numbers (``a - b`` is 0 only when ``a == b``):

* ``sign(d) = H(d) - H(-d)`` is exactly -1, 0 or 1; ``a > b`` is
  ``H(sign(d) - 0.5)`` and ``a >= b`` is ``H(sign(d) + 0.5)`` (and so on), so
  that ties give Brian's answer: 0 for the strict comparisons, 1 for ``<=``,
  ``>=`` and ``==``;
* ``a == b`` is ``4 * H(d) * H(-d)`` (0.25 times 4 at 0, 0 elsewhere).

These forms write ``d`` twice, which is wrong when ``d`` holds a random draw
(the engine would draw twice). A comparison with a draw is written with one
step, ``H(-d)`` for ``a < b``: it differs from Brian only at an exact tie,
which has probability ``2**-53`` per draw of ``random(1)`` (a double in
[0, 1)); an equality test of a draw is refused.

jLEMS accepts only dimensionless arguments to its functions (``H``
included): the difference of two voltages is divided by a constant of one
volt of the cell type (`comparison_units`, `unit_of_comparison`), which
changes no sign.

`random_draw` writes Brian's ``rand()`` as ``random(1)``, a uniform number in
[0, 1) like Brian's (jLEMS: ``1 * java.util.Random.nextDouble()``), and
``randn()`` as a Box–Muller normal number (:data:`.noise.NORMAL_DRAW`). Each
occurrence of ``random(1)`` in a LEMS expression is a new draw each time the
expression is evaluated, which is Brian's meaning where the renderer allows
draws (thresholds, resets, run_regularly statements: once per neuron and
evaluation).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
from brian2 import second
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions
from brian2.utils.logger import get_logger

from .noise import NORMAL_DRAW

__all__ = ["RANDOM_FUNCTIONS", "UNIFORM_DRAW", "random_draw", "truth_of_comparison",
           "draw_count", "comparison_units", "comparison_units_active", "unit_of_comparison"]

logger = get_logger(__name__)

#: Brian's random functions (``poisson`` is not exported).
RANDOM_FUNCTIONS = ("rand", "randn", "poisson")

#: A uniform number in [0, 1), drawn anew at each evaluation.
UNIFORM_DRAW = "random(1)"

# comparison (name of Python's ast class) -> the step of sign(d) that gives 0 or 1
_OF_SIGN = {"Gt": "H({s} - 0.5)", "GtE": "H({s} + 0.5)",
            "Lt": "H(-0.5 - {s})", "LtE": "H(0.5 - {s})"}
# the same with one occurrence of d (ties give 0.5: for random draws only)
_OF_DIFFERENCE = {"Gt": "H({d})", "GtE": "H({d})", "Lt": "H(-({d}))", "LtE": "H(-({d}))"}


def draw_count(text: str) -> int:
    """
    How many random draws a LEMS expression makes at each evaluation.

    Parameters
    ----------
    text : str
        A LEMS expression.

    Returns
    -------
    int

    Examples
    --------
    >>> draw_count('random(1) * 2 + v')
    1
    """
    return text.count("random(")


def random_draw(function: str, arguments: int) -> str | None:
    """
    The LEMS expression of one call of a Brian random function.

    Parameters
    ----------
    function : str
        ``'rand'``, ``'randn'`` or ``'poisson'``.
    arguments : int
        The number of arguments of the call.

    Returns
    -------
    str or None
        The expression, or None for a call that is not exported
        (``poisson(l)``, or arguments given to ``rand``/``randn``).

    Examples
    --------
    >>> random_draw('rand', 0)
    'random(1)'
    >>> random_draw('poisson', 1) is None
    True
    """
    if arguments:
        return None
    if function == "rand":
        return UNIFORM_DRAW
    if function == "randn":
        return f"({NORMAL_DRAW})"
    return None


def truth_of_comparison(comparison: str, difference: str) -> str | None:
    """
    A comparison as the number 0 or 1, written from the difference of its sides.

    Parameters
    ----------
    comparison : str
        The name of Python's comparison node: ``'Gt'``, ``'GtE'``, ``'Lt'``,
        ``'LtE'``, ``'Eq'`` or ``'NotEq'``.
    difference : str
        The LEMS expression of left side minus right side.

    Returns
    -------
    str or None
        The LEMS expression; None for an equality test of a random draw.

    Examples
    --------
    >>> truth_of_comparison('Gt', 'v - vt')
    'H((H(v - vt) - H(-(v - vt))) - 0.5)'
    >>> truth_of_comparison('Lt', 'random(1) - 0.5')
    'H(-(random(1) - 0.5))'
    """
    if draw_count(difference):
        template = _OF_DIFFERENCE.get(comparison)
        return None if template is None else template.format(d=difference)
    if comparison in ("Eq", "NotEq"):
        zero = f"(4 * H({difference}) * H(-({difference})))"
        return zero if comparison == "Eq" else f"(1 - {zero})"
    sign = f"(H({difference}) - H(-({difference})))"
    return _OF_SIGN[comparison].format(s=sign)


# functions of Brian code, for the dimension of a side of a comparison
_DIMENSION_FUNCTIONS = {
    **{name: (lambda x: x) for name in ("abs", "floor", "ceil", "int", "float")},
    **{name: (lambda *args: 1.0) for name in ("sin", "cos", "tan", "sinh", "cosh", "tanh",
                                              "exp", "log", "log10", "expm1", "log1p",
                                              "exprel", "sign", "rand", "randn", "timestep")},
    "sqrt": np.sqrt, "clip": lambda x, low, high: x,
}

_RESOLVER: ContextVar = ContextVar("brian2tools_comparison_units", default=None)


class _UnitConstants:
    """Constants of one cell type: one unit per dimension compared (``volt__unit``...)."""

    def __init__(self, builder):
        self.builder = builder
        self.names: dict = {}

    def __call__(self, code: str) -> str | None:
        units = {"t": second, "dt": second, "lastspike": second, "i": 1, "N": 1,
                 "not_refractory": 1, **self.builder._units()}
        namespace = {name: Quantity(1.0, dim=get_dimensions(unit))
                     for name, unit in units.items()}
        try:
            dimension = get_dimensions(eval(code, {"__builtins__": {}},  # noqa: S307 -- Brian code
                                            {**namespace, **_DIMENSION_FUNCTIONS}))
        except Exception:  # noqa: BLE001 -- unknown: written as is (jLEMS checks it)
            return None
        if dimension is DIMENSIONLESS:
            return None
        if dimension not in self.names:
            unit = Quantity(1.0, dim=dimension)
            name = self.builder.names.new(f"{self.builder.dimension_of(unit).name}__unit")
            self.builder.constant(name, unit)
            self.names[dimension] = name
        return self.names[dimension]


@contextmanager
def comparison_units(builder) -> Iterator[None]:
    """
    While building a cell type, give the comparisons written as numbers their units.

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        The builder of the cell type: its units and its constants.

    Yields
    ------
    None

    Examples
    --------
    Outside a cell type, no unit is known:

    >>> unit_of_comparison('v') is None
    True
    """
    token = _RESOLVER.set(_UnitConstants(builder))
    try:
        yield
    finally:
        _RESOLVER.reset(token)


def comparison_units_active() -> bool:
    """
    Whether the units of compared quantities are known (inside `comparison_units`).

    Outside a cell type or a source type (synaptic code, for instance) the
    renderer cannot make a difference dimensionless, and refuses comparisons
    used as numbers by name.

    Returns
    -------
    bool

    Examples
    --------
    >>> comparison_units_active()
    False
    """
    return _RESOLVER.get() is not None


def unit_of_comparison(code: str) -> str | None:
    """
    The LEMS constant that makes a side of a comparison dimensionless, if any.

    Parameters
    ----------
    code : str
        Brian code of one side of a comparison.

    Returns
    -------
    str or None
        The name of a constant of one SI unit of the dimension of ``code`` in
        the cell type being built (see `comparison_units`); None if ``code``
        is dimensionless or its dimension is not known.

    Examples
    --------
    >>> unit_of_comparison('rand()') is None
    True
    """
    resolver = _RESOLVER.get()
    return None if resolver is None else resolver(code)
