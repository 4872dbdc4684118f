"""
LaTeX for Brian code and names, in the order the script wrote them.

Brian code (right-hand sides, conditions, initial values) is read with
Python's own parser (:mod:`ast`) -- Brian's code is Python syntax -- and each
node is typeset where it stands: nothing is simplified, reordered or
expanded, so ``Vr + rand() * (Vt - Vr)`` stays in that order. Only the
parentheses that the structure needs are written (fractions need none).

Names are typeset as single symbols (`name_to_latex`): Greek names as Greek
letters (``tau`` as :math:`\\tau`), one-letter names in italics, longer
names upright (``ge`` as :math:`\\mathrm{ge}`), the part after the first
underscore and trailing digits as a subscript (``tau_m`` as
:math:`\\tau_{\\mathrm{m}}`, ``v0`` as :math:`v_{0}`), as well as what follows
a long Greek name (``taum`` as :math:`\\tau_{\\mathrm{m}}`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Mapping

from brian2.units.fundamentalunits import Unit

__all__ = ["GREEK", "expression_to_latex", "name_to_latex"]

#: Names typeset as Greek letters (capitals only where they differ from Latin ones)
GREEK = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi",
    "Psi", "Omega",
})
_TRAILING_DIGITS = re.compile(r"^([A-Za-z]+?)(\d+)$")
# Greek names long enough that a name starting with one reads as that letter with a
# subscript (taum, taupre, sigmav): the short ones (mu, nu, pi, xi, eta, ...) begin
# too many ordinary words
_GREEK_PREFIX = re.compile(
    r"^(tau|sigma|alpha|beta|gamma|delta|theta|lambda|omega|epsilon|kappa|Delta|Theta|Omega)"
    r"([A-Za-z0-9]+)$")
# functions LaTeX knows by name
_KNOWN_FUNCTIONS = {
    "exp": r"\exp", "log": r"\log", "log10": r"\log_{10}", "sin": r"\sin", "cos": r"\cos",
    "tan": r"\tan", "sinh": r"\sinh", "cosh": r"\cosh", "tanh": r"\tanh",
    "arcsin": r"\arcsin", "arccos": r"\arccos", "arctan": r"\arctan",
}
_COMPARISONS = {
    ast.Lt: "<", ast.Gt: ">", ast.LtE: r"\leq", ast.GtE: r"\geq", ast.Eq: "=",
    ast.NotEq: r"\neq",
}
# binding strength, as in Python: higher binds tighter
_PRECEDENCE = {
    ast.Or: 1, ast.And: 2, ast.Not: 3, ast.Compare: 4, ast.Add: 5, ast.Sub: 5,
    ast.Mult: 6, ast.Div: 6, ast.FloorDiv: 6, ast.Mod: 6, ast.USub: 7, ast.UAdd: 7,
    ast.Pow: 8,
}
_ATOM = 10


def _name_part(part: str, subscript: bool) -> str:
    """One piece of a name: Greek, a number, one italic letter, or upright text."""
    if part in GREEK:
        return "\\" + part
    if part.isdigit():
        return part
    if len(part) == 1 and not subscript:
        return part
    return rf"\mathrm{{{part}}}"


def name_to_latex(name: str) -> str:
    r"""
    Typeset an identifier as one symbol.

    Parameters
    ----------
    name : str
        A variable, constant or parameter name.

    Returns
    -------
    str
        LaTeX (without ``$``).

    Examples
    --------
    >>> from brian2tools.mdexport.codelatex import name_to_latex
    >>> name_to_latex('ge'), name_to_latex('tau_m'), name_to_latex('v0'), name_to_latex('v')
    ('\\mathrm{ge}', '\\tau_{\\mathrm{m}}', 'v_{0}', 'v')
    >>> name_to_latex('I_syn_post'), name_to_latex('taum')
    ('I_{\\mathrm{syn},\\mathrm{post}}', '\\tau_{\\mathrm{m}}')
    """
    base, _, rest = name.partition("_")
    subscripts = [part for part in rest.split("_") if part]
    if not base:  # a name starting with "_": show it as written
        return r"\mathrm{" + name.replace("_", r"\_") + "}"
    match = _TRAILING_DIGITS.match(base) or _GREEK_PREFIX.match(base)
    if match and not subscripts:
        base, subscripts = match.group(1), [match.group(2)]
    latex = _name_part(base, subscript=False)
    if subscripts:
        latex += "_{" + ",".join(_name_part(part, subscript=True) for part in subscripts) + "}"
    return latex


class _Printer:
    """Typesets one parsed expression; ``unit_latex`` says which names are units."""

    def __init__(self, unit_latex: Callable[[str], str | None]):
        self.unit_latex = unit_latex

    # each method returns (latex, precedence, kind) where kind is 'number', 'unit' or 'other'
    def visit(self, node):
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise ValueError(f"cannot typeset {type(node).__name__}")
        return method(node)

    def wrapped(self, node, minimum: int, strict: bool = False) -> str:
        latex, precedence, _ = self.visit(node)
        if precedence < minimum or (strict and precedence == minimum):
            return rf"\left({latex}\right)"
        return latex

    def visit_Expression(self, node):
        return self.visit(node.body)

    def visit_Constant(self, node):
        from .mathtext import number_to_latex

        value = node.value
        if isinstance(value, bool):
            return rf"\mathrm{{{value}}}", _ATOM, "other"
        if isinstance(value, int):
            return str(value), _ATOM, "number"
        if isinstance(value, float):
            return number_to_latex(value, precision=12), _ATOM, "number"
        raise ValueError(f"cannot typeset the constant {value!r}")

    def visit_Name(self, node):
        unit = self.unit_latex(node.id)
        if unit is not None:
            return unit, _ATOM, "unit"
        if node.id == "inf":
            return r"\infty", _ATOM, "other"
        return name_to_latex(node.id), _ATOM, "other"

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.Not):
            return rf"\lnot {self.wrapped(node.operand, 3)}", 3, "other"
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        operand, precedence, kind = self.visit(node.operand)
        if precedence <= 7:
            operand = rf"\left({operand}\right)"
        return f"{sign}{operand}", 7, kind if kind == "number" else "other"

    def visit_BinOp(self, node):
        op = type(node.op)
        if op is ast.Div:
            numerator, sign = node.left, ""
            if isinstance(numerator, ast.UnaryOp) and isinstance(numerator.op, ast.USub):
                # "-ge/tau" reads -(ge/tau): the sign goes before the fraction
                numerator, sign = numerator.operand, "-"
            left, _, _ = self.visit(numerator)
            right, _, _ = self.visit(node.right)
            return rf"{sign}\frac{{{left}}}{{{right}}}", 7 if sign else _ATOM - 1, "other"
        if op is ast.Pow:
            simple = isinstance(node.left, (ast.Name, ast.Call)) or (
                isinstance(node.left, ast.Constant) and not str(node.left.value).startswith("-"))
            base = self.visit(node.left)[0] if simple else self.wrapped(node.left, _ATOM + 1)
            exponent, _, _ = self.visit(node.right)
            return f"{{{base}}}^{{{exponent}}}", 8, "other"
        precedence = _PRECEDENCE[op]
        left = self.wrapped(node.left, precedence)
        # a - (b - c), a / (b * c): the right operand needs parentheses at equal strength
        right = self.wrapped(node.right, precedence, strict=op is not ast.Add)
        if op in (ast.Add, ast.Sub):
            symbol = "+" if op is ast.Add else "-"
            return f"{left} {symbol} {right}", precedence, "other"
        if op is ast.Mult:
            return self._product(node, left, right), precedence, "other"
        if op is ast.FloorDiv:
            return rf"\left\lfloor {left} / {right} \right\rfloor", _ATOM, "other"
        return rf"{left} \bmod {right}", precedence, "other"

    def _product(self, node, left: str, right: str) -> str:
        left_kind = self.visit(node.left)[2]
        right_kind = self.visit(node.right)[2]
        if right_kind == "number" or (left_kind == "number" and right.startswith("-")):
            return rf"{left} \cdot {right}"
        if right_kind == "unit":
            return rf"{left}\,{right}"
        return rf"{left} {right}"

    def visit_BoolOp(self, node):
        precedence = _PRECEDENCE[type(node.op)]
        symbol = r" \land " if isinstance(node.op, ast.And) else r" \lor "
        parts = [self.wrapped(value, precedence, strict=True) for value in node.values]
        return symbol.join(parts), precedence, "other"

    def visit_Compare(self, node):
        parts = [self.wrapped(node.left, 5)]
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            if type(op) not in _COMPARISONS:
                raise ValueError(f"cannot typeset the comparison {type(op).__name__}")
            parts.append(_COMPARISONS[type(op)])
            parts.append(self.wrapped(comparator, 5))
        return " ".join(parts), 4, "other"

    def visit_Call(self, node):
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise ValueError("cannot typeset this call")
        name = node.func.id
        args = [self.visit(arg)[0] for arg in node.args]
        if name == "sqrt" and len(args) == 1:
            return rf"\sqrt{{{args[0]}}}", _ATOM, "other"
        if name == "abs" and len(args) == 1:
            return rf"\left\vert {args[0]}\right\vert ", _ATOM, "other"
        if name in _KNOWN_FUNCTIONS:
            function = _KNOWN_FUNCTIONS[name]
        else:
            function = r"\operatorname{" + name.replace("_", r"\_") + "}"
        if not args:
            return f"{function}()", _ATOM, "other"
        return rf"{function}\left({', '.join(args)}\right)", _ATOM, "other"


def expression_to_latex(
    code: str,
    unit_latex: Callable[[str], str | None] | None = None,
) -> str:
    r"""
    Typeset one Brian expression or condition, keeping the order it was written in.

    Parameters
    ----------
    code : str
        The expression, e.g. ``'Vr + rand() * (Vt - Vr)'``.
    unit_latex : callable, optional
        Called with each name; returns the LaTeX of the unit the name stands
        for, or ``None`` for a variable or constant.

    Returns
    -------
    str
        LaTeX (without ``$``).

    Raises
    ------
    ValueError
        If the code is not an expression that can be typeset.

    Examples
    --------
    >>> from brian2tools.mdexport.codelatex import expression_to_latex
    >>> expression_to_latex('Vr + rand() * (Vt - Vr)')
    '\\mathrm{Vr} + \\operatorname{rand}() \\left(\\mathrm{Vt} - \\mathrm{Vr}\\right)'
    """
    try:
        tree = ast.parse(code.strip(), mode="eval")
    except SyntaxError as error:
        raise ValueError(f"{code!r} is not an expression: {error.msg}") from error
    printer = _Printer(unit_latex or (lambda name: None))
    return printer.visit(tree)[0]


def unit_name_latex(
    name: str, variables: Collection[str], namespace: Mapping, units: Mapping[str, Unit]
) -> str | None:
    """The LaTeX of the unit ``name`` stands for in code, or ``None`` if it is no unit there."""
    from .mathtext import unit_to_latex

    if name in variables or name not in units:
        return None
    # a constant of the user's namespace hides Brian's unit of the same name
    if name in namespace and not isinstance(namespace[name], Unit):
        return None
    return unit_to_latex(units[name]) or None
