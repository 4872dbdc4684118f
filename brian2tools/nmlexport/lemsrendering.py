"""
Brian code (expressions, conditions, statements) rendered as LEMS expressions.

LEMS has its own expression syntax: ``^`` for powers, ``.gt.``/``.and.``/...
in conditions, a short list of functions (``exp``, ``log`` (natural), ``sqrt``, ``abs``,
``sin``, ``cos``, ``tan``, ``sinh``, ``cosh``, ``tanh``, ``ceil``, ``H``) and no
``not``. The renderers here walk Python's syntax tree of the Brian code and
write the equivalent LEMS text:

* every Brian function that can be written with the LEMS ones is (``log10``, ``floor``, ``expm1``, ``log1p``, ``exprel``, ``sign``,
  ``clip``, ``int``, ``timestep``, the operators ``//`` and ``%``); any other
  function is refused with an error naming it;
* the evaluation order of Brian's code is kept by parenthesising, so that
  jNeuroML computes the same floating point numbers;
* identifiers are replaced by what the caller maps them to (a LEMS variable
  name, or a parenthesised expression for inlined subexpressions and time);
* comparisons and logical operators used as numbers (``2*int(rand() < 0.5)``)
  are written with Heaviside steps (:mod:`.truth_values`);
* ``rand()`` and ``randn()`` are written as the engine's draws where the
  caller allows them (``random=True``: thresholds, resets and run_regularly
  statements, which Brian evaluates once per neuron and step or call).

The functions are pure: Brian code and a mapping in, LEMS text out.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable, Collection, Mapping

from brian2tools.baseexport import UnsupportedFeatureError

from .truth_values import (
    RANDOM_FUNCTIONS,
    comparison_units_active,
    draw_count,
    random_draw,
    truth_of_comparison,
    unit_of_comparison,
)
from .units import format_number

__all__ = [
    "render_expression",
    "render_condition",
    "parse_statements",
    "identifiers_in",
    "strip_parentheses",
    "LEMS_FUNCTIONS",
]

# Precedence levels of the rendered text, to decide about parentheses.
_ADDITIVE, _MULTIPLICATIVE, _UNARY, _POWER, _ATOM = 1, 2, 3, 4, 5

_ARITHMETIC = {ast.Add: ("+", _ADDITIVE), ast.Sub: ("-", _ADDITIVE),
               ast.Mult: ("*", _MULTIPLICATIVE), ast.Div: ("/", _MULTIPLICATIVE)}

_COMPARISONS = {ast.Gt: ".gt.", ast.GtE: ".geq.", ast.Lt: ".lt.", ast.LtE: ".leq.",
                ast.Eq: ".eq.", ast.NotEq: ".neq."}
_NEGATED_COMPARISONS = {ast.Gt: ".leq.", ast.GtE: ".lt.", ast.Lt: ".geq.", ast.LtE: ".gt.",
                        ast.Eq: ".neq.", ast.NotEq: ".eq."}

_CONSTANTS = {"pi": math.pi, "e": math.e}

#: Functions LEMS (jNeuroML) evaluates natively, with the same meaning as in Brian.
LEMS_FUNCTIONS = ("exp", "sqrt", "abs", "sin", "cos", "tan", "sinh", "cosh", "tanh", "ceil")

_LN10 = format_number(math.log(10.0))  # log is the natural logarithm in LEMS


def _call(function: str, x: str) -> str:
    return f"{function}({strip_parentheses(x)})"


def _floor(x: str) -> str:
    return f"(-ceil(-{x}))"


def _sign(x: str) -> str:
    # H(0) is 0.5 in LEMS, so the difference is exactly 0 at 0, like Brian's sign
    return f"({_call('H', x)} - H(-{x}))"


def _is_zero(x: str) -> str:
    # 1 when x == 0, 0 otherwise: H(x)*H(-x) is 0.25 at 0 and 0 elsewhere
    return f"(4 * {_call('H', x)} * H(-{x}))"


def _maximum(a: str, b: str) -> str:
    return f"(({a} + {b} + abs({a} - {b})) / 2)"


def _minimum(a: str, b: str) -> str:
    return f"(({a} + {b} - abs({a} - {b})) / 2)"


# Brian functions written with LEMS ones: name -> (number of arguments, builder);
# the builders receive atomic (parenthesised if needed) argument texts.
_DERIVED_FUNCTIONS: dict[str, tuple[int, Callable[..., str]]] = {
    "log": (1, lambda x: _call("log", x)),
    "log10": (1, lambda x: f"({_call('log', x)} / {_LN10})"),
    "floor": (1, _floor),
    "expm1": (1, lambda x: f"({_call('exp', x)} - 1)"),
    "log1p": (1, lambda x: f"log(1 + {x})"),
    "exprel": (1, lambda x: f"(({_call('exp', x)} - 1 + {_is_zero(x)}) / "
                            f"({strip_parentheses(x)} + {_is_zero(x)}))"),
    "sign": (1, _sign),
    "int": (1, lambda x: f"({_sign(x)} * {_floor(_call('abs', x))})"),
    "clip": (3, lambda x, low, high: _minimum(_maximum(x, low), high)),
    "timestep": (2, lambda t, dt: _floor(f"(({t} + 0.001 * {dt}) / {dt})")),
    # Heaviside, for the exporter's own piecewise-constant functions of time
    # (time_functions.py); Brian names cannot start with '_'
    "_step": (1, lambda x: _call("H", x)),
}


class _Renderer:
    """Walks the syntax tree of one piece of Brian code."""

    def __init__(self, code: str, identifiers: Mapping[str, str],
                 boolean_identifiers: Collection[str], owner: str, context: str,
                 random: bool = False):
        self.code = code
        self.identifiers = identifiers
        self.boolean_identifiers = boolean_identifiers
        self.owner = owner
        self.context = context
        self.random = random

    # -- errors ---------------------------------------------------------------
    def refuse(self, what: str, hint: str | None = None) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(
            self.owner, f"{what} in {self.context} '{self.code.strip()}'", hint
        )

    # -- arithmetic -----------------------------------------------------------
    def value(self, node) -> tuple[str, int]:
        """Render an arithmetic node; returns (text, precedence)."""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return str(int(node.value)), _ATOM  # Brian's int(True) and int(False)
            if not isinstance(node.value, (int, float)):
                raise self.refuse(f"the constant {node.value!r} as a number")
            if not math.isfinite(node.value):
                raise self.refuse(f"the value {node.value!r}", "LEMS has no infinite values.")
            return format_number(node.value), _ATOM
        if isinstance(node, ast.Name):
            return self.name(node.id), _ATOM
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                operand, precedence = self.value(node.operand)
                return f"-{self.wrap(operand, precedence, _UNARY)}", _UNARY
            if isinstance(node.op, ast.UAdd):
                return self.value(node.operand)
            return self.truth(node), _ATOM
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node), _ATOM
        if isinstance(node, (ast.Compare, ast.BoolOp)):
            return self.truth(node), _ATOM
        raise self.refuse(f"the syntax '{ast.unparse(node)}'")

    @staticmethod
    def wrap(text: str, precedence: int, minimum: int) -> str:
        return text if precedence >= minimum else f"({text})"

    def binary(self, node: ast.BinOp) -> tuple[str, int]:
        left, left_precedence = self.value(node.left)
        right, right_precedence = self.value(node.right)
        op_type = type(node.op)
        if op_type in _ARITHMETIC:
            symbol, precedence = _ARITHMETIC[op_type]
            # left-associative: an operand of the same level on the right keeps
            # its parentheses, so that jNeuroML adds/multiplies in Brian's order
            return (f"{self.wrap(left, left_precedence, precedence)} {symbol} "
                    f"{self.wrap(right, right_precedence, precedence + 1)}", precedence)
        if op_type is ast.Pow:
            negative = _negative_integer(node.right)
            if negative is not None:
                # jLEMS cannot give x^(-n) the dimension of x to the power -n
                # ('mV**-1'): written 1 / x^n, which it checks
                power = (self.wrap(left, left_precedence, _ATOM) if negative == 1 else
                         f"{self.wrap(left, left_precedence, _ATOM)}^{negative}")
                return f"(1 / {power})", _ATOM
            # LEMS's '^' is left-associative: parenthesise every compound operand
            return (f"{self.wrap(left, left_precedence, _ATOM)}^"
                    f"{self.wrap(right, right_precedence, _ATOM)}", _POWER)
        atomic_left = self.wrap(left, left_precedence, _ATOM)
        atomic_right = self.wrap(right, right_precedence, _ATOM)
        if op_type is ast.FloorDiv:
            return _floor(f"({atomic_left} / {atomic_right})"), _ATOM
        if op_type is ast.Mod:
            # Python's (and Brian's) modulo: x - y*floor(x/y)
            quotient = _floor(f"({atomic_left} / {atomic_right})")
            return self.single_draws(f"({atomic_left} - {atomic_right} * {quotient})",
                                     [atomic_left, atomic_right], "'%'"), _ATOM
        raise self.refuse(f"the operation '{ast.unparse(node)}'")

    def name(self, identifier: str) -> str:
        if identifier in self.identifiers:
            return self.identifiers[identifier]
        if identifier in _CONSTANTS:
            return format_number(_CONSTANTS[identifier])
        if identifier in ("True", "False"):
            return "1" if identifier == "True" else "0"
        if identifier == "xi" or identifier.startswith("xi_"):
            raise self.refuse(
                f"the noise term {identifier} (a stochastic equation)",
                "jNeuroML's random numbers cannot reproduce Brian's: only initial values "
                "may be random in a NeuroML export.",
            )
        if identifier in ("inf", "nan"):
            raise self.refuse(f"the value {identifier}", "LEMS has no infinite values.")
        raise self.refuse(f"the name '{identifier}'", "The NeuroML exporter does not know what it refers to.")

    def call(self, node: ast.Call) -> str:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise self.refuse(f"the call '{ast.unparse(node)}'")
        function = node.func.id
        if function in RANDOM_FUNCTIONS:
            draw = random_draw(function, len(node.args)) if self.random else None
            if draw is None:
                raise self.refuse(
                    f"the random function {function}()",
                    "Random numbers are exported in thresholds, resets and run_regularly "
                    "statements (rand() and randn(), one draw per cell and evaluation); "
                    "here jNeuroML would draw them again wherever the value is used.",
                )
            return draw
        if function in ("int", "float") and len(node.args) == 1 and _is_truth(node.args[0]):
            return self.truth(node.args[0])  # already 0 or 1
        arguments = []
        for argument in node.args:
            text, precedence = self.value(argument)
            arguments.append(self.wrap(text, precedence, _ATOM))
        if function in LEMS_FUNCTIONS:
            expected, build = 1, lambda x: _call(function, x)
        elif function in _DERIVED_FUNCTIONS:
            expected, build = _DERIVED_FUNCTIONS[function]
        else:
            raise self.refuse(f"the function {function}()", "LEMS has no equivalent function.")
        if len(arguments) != expected:
            raise self.refuse(f"{function}() with {len(arguments)} argument(s) (it takes {expected})")
        return self.single_draws(build(*arguments), arguments, f"{function}()")

    def single_draws(self, text: str, operands: list[str], what: str) -> str:
        """``text``, unless it repeats an operand with a random draw (two draws for one)."""
        if draw_count(text) > sum(draw_count(operand) for operand in operands):
            raise self.refuse(f"a random number in {what}",
                              f"LEMS writes {what} with its argument twice, which would "
                              "draw two numbers where Brian draws one.")
        return text

    # -- truth values as numbers ------------------------------------------------
    def truth(self, node) -> str:
        """A comparison or logical expression as the number 0 or 1 (see `.truth_values`)."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return f"(1 - {self.truth(node.operand)})"
        if isinstance(node, ast.BoolOp):
            parts = [self.truth(value) for value in node.values]
            if isinstance(node.op, ast.And):
                return "(" + " * ".join(parts) + ")"
            # a or b == not (not a and not b)
            return "(1 - " + " * ".join(f"(1 - {part})" for part in parts) + ")"
        if isinstance(node, ast.Compare):
            terms, left = [], node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                if type(op) not in _COMPARISONS:
                    raise self.refuse(f"the comparison '{ast.unparse(node)}'")
                left_text, left_precedence = self.value(left)
                right_text, right_precedence = self.value(right)
                difference = (f"{self.wrap(left_text, left_precedence, _ADDITIVE)} - "
                              f"{self.wrap(right_text, right_precedence, _MULTIPLICATIVE)}")
                term = truth_of_comparison(type(op).__name__, difference)
                if term is None:
                    raise self.refuse(f"the equality test of a random number "
                                      f"'{ast.unparse(node)}'")
                if not comparison_units_active():
                    raise self.refuse(
                        "a comparison or logical operator as a number",
                        "jLEMS's H takes dimensionless arguments: they are exported in the "
                        "code of neuron groups and Poisson rates, whose units are known.")
                unit = unit_of_comparison(ast.unparse(left))
                if unit is not None:  # jLEMS's H takes dimensionless arguments only
                    term = truth_of_comparison(type(op).__name__, f"({difference}) / {unit}")
                terms.append(term)
                left = right
            return terms[0] if len(terms) == 1 else "(" + " * ".join(terms) + ")"
        text, precedence = self.value(node)  # a boolean variable: already 0 or 1
        return self.wrap(text, precedence, _ATOM)

    # -- conditions -----------------------------------------------------------
    def condition(self, node, negate: bool = False) -> str:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.condition(node.operand, not negate)
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And)
            # De Morgan: not (a and b) == (not a) or (not b)
            joiner = ".and." if is_and != negate else ".or."
            parts = [f"({self.condition(value, negate)})" for value in node.values]
            return f" {joiner} ".join(parts)
        if isinstance(node, ast.Compare):
            comparisons = []
            left = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                table = _NEGATED_COMPARISONS if negate else _COMPARISONS
                if type(op) not in table:
                    raise self.refuse(f"the comparison '{ast.unparse(node)}'")
                comparisons.append(f"{self.value(left)[0]} {table[type(op)]} {self.value(right)[0]}")
                left = right
            if len(comparisons) == 1:
                return comparisons[0]
            # a < b < c is (a < b) and (b < c)
            joiner = ".or." if negate else ".and."
            return f" {joiner} ".join(f"({text})" for text in comparisons)
        if isinstance(node, ast.Name) and node.id in self.boolean_identifiers:
            return f"{self.name(node.id)} {'.lt.' if negate else '.gt.'} 0.5"
        raise self.refuse(f"'{ast.unparse(node)}' as a condition", "LEMS conditions are comparisons joined by and/or/not.")


def _is_truth(node) -> bool:
    return isinstance(node, (ast.Compare, ast.BoolOp)) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not))


def strip_parentheses(text: str) -> str:
    """
    Drop one pair of parentheses enclosing the whole text, if there is one.

    Parameters
    ----------
    text : str
        A rendered expression.

    Returns
    -------
    str

    Examples
    --------
    >>> from brian2tools.nmlexport.lemsrendering import strip_parentheses
    >>> strip_parentheses('(a + b)'), strip_parentheses('(a) + (b)')
    ('a + b', '(a) + (b)')
    """
    if text.startswith("(") and text.endswith(")"):
        depth = 0
        for position, character in enumerate(text):
            depth += {"(": 1, ")": -1}.get(character, 0)
            if depth == 0 and position < len(text) - 1:
                return text
        return text[1:-1]
    return text


def _parse_expression(code: str, owner: str, context: str):
    try:
        return ast.parse(code.strip(), mode="eval").body
    except SyntaxError as error:
        raise UnsupportedFeatureError(
            owner, f"code that is not an expression in {context} '{code.strip()}' ({error.msg})"
        ) from None


def render_expression(code: str, identifiers: Mapping[str, str], owner: str = "model",
                      context: str = "the expression",
                      boolean_identifiers: Collection[str] = (), random: bool = False) -> str:
    """
    Render a Brian arithmetic expression as a LEMS expression.

    Parameters
    ----------
    code : str
        Brian code, e.g. ``'(v0 - v) / tau'``.
    identifiers : mapping
        Brian identifier -> LEMS text to write for it (a variable name, or a
        parenthesised expression).
    owner : str, optional
        The Brian name of the object the code belongs to, for error messages.
    context : str, optional
        Where the code comes from, for error messages (``'the equation of v'``).
    boolean_identifiers : collection of str, optional
        Identifiers that hold booleans (0 or 1 as numbers).
    random : bool, optional
        Write ``rand()`` and ``randn()`` as draws of the engine (for code
        that the engine evaluates once per cell where Brian does); refused
        otherwise.

    Returns
    -------
    str
        The LEMS expression.

    Raises
    ------
    UnsupportedFeatureError
        For functions, operators or identifiers without a LEMS equivalent.

    Examples
    --------
    >>> from brian2tools.nmlexport.lemsrendering import render_expression
    >>> render_expression('v**2/(10*mV) - log(x)', {'v': 'v', 'mV': 'mV', 'x': 'x'})
    'v^2 / (10 * mV) - log(x)'
    """
    renderer = _Renderer(code, identifiers, boolean_identifiers, owner, context, random)
    return renderer.value(_parse_expression(code, owner, context))[0]


def render_condition(code: str, identifiers: Mapping[str, str], owner: str = "model",
                     context: str = "the condition",
                     boolean_identifiers: Collection[str] = (), negate: bool = False,
                     random: bool = False) -> str:
    """
    Render a Brian boolean expression as a LEMS condition.

    Parameters
    ----------
    code : str
        Brian code, e.g. ``'v > 10*mV and not_refractory'``.
    identifiers : mapping
        Brian identifier -> LEMS text, as for `render_expression`.
    owner : str, optional
        The Brian name of the object the code belongs to, for error messages.
    context : str, optional
        Where the code comes from, for error messages (``'the threshold'``).
    boolean_identifiers : collection of str, optional
        Identifiers holding booleans; written as ``x .gt. 0.5``.
    negate : bool, optional
        Render the negation of the condition instead (LEMS has no ``not``).
    random : bool, optional
        Write ``rand()`` and ``randn()`` as draws of the engine, as for
        `render_expression`.

    Returns
    -------
    str

    Raises
    ------
    UnsupportedFeatureError
        If the code is not a condition LEMS can express.

    Examples
    --------
    >>> from brian2tools.nmlexport.lemsrendering import render_condition
    >>> render_condition('v > 10*mV', {'v': 'v', 'mV': 'mV'})
    'v .gt. 10 * mV'
    >>> render_condition('v > 10*mV', {'v': 'v', 'mV': 'mV'}, negate=True)
    'v .leq. 10 * mV'
    """
    renderer = _Renderer(code, identifiers, boolean_identifiers, owner, context, random)
    return renderer.condition(_parse_expression(code, owner, context), negate)


def parse_statements(code: str, owner: str = "model",
                     context: str = "the statements") -> list[tuple[str, str, str]]:
    """
    Split Brian statements (such as a reset) into assignments.

    Parameters
    ----------
    code : str
        One or more statements, separated by newlines or semicolons.
    owner : str, optional
        The Brian name of the object the code belongs to, for error messages.
    context : str, optional
        Where the code comes from, for error messages (``'the reset'``).

    Returns
    -------
    list of (target, operator, expression)
        ``operator`` is ``'='`` or an augmented operator (``'+='``, ``'-='``,
        ``'*='``, ``'/='``); ``expression`` is Brian code.

    Raises
    ------
    UnsupportedFeatureError
        For anything else than simple assignments.

    Examples
    --------
    >>> from brian2tools.nmlexport.lemsrendering import parse_statements
    >>> parse_statements('v = Vr\\nw += b')
    [('v', '=', 'Vr'), ('w', '+=', 'b')]
    """
    try:
        module = ast.parse(code.strip(), mode="exec")
    except SyntaxError as error:
        raise UnsupportedFeatureError(
            owner, f"code that cannot be parsed in {context} '{code.strip()}' ({error.msg})"
        ) from None
    augmented = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/="}
    statements = []
    for statement in module.body:
        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            statements.append((statement.targets[0].id, "=", ast.unparse(statement.value)))
        elif (isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name)
              and type(statement.op) in augmented):
            statements.append((statement.target.id, augmented[type(statement.op)],
                               ast.unparse(statement.value)))
        else:
            raise UnsupportedFeatureError(
                owner, f"the statement '{ast.unparse(statement)}' in {context}",
                "Only assignments such as 'v = ...' or 'w += ...' can be exported.",
            )
    return statements


def identifiers_in(code: str) -> set[str]:
    """
    The names (variables, constants, functions excluded) used by Brian code.

    Parameters
    ----------
    code : str

    Returns
    -------
    set of str

    Examples
    --------
    >>> from brian2tools.nmlexport.lemsrendering import identifiers_in
    >>> sorted(identifiers_in('exp(-v/tau) + w'))
    ['tau', 'v', 'w']
    """
    return set(_identifiers_in(code))


@functools.lru_cache(maxsize=256)
def _identifiers_in(code: str) -> frozenset[str]:
    # cached: the builders ask again for the same (sometimes long) expressions
    tree = ast.parse(code.strip(), mode="exec")
    functions = {node.func.id for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return frozenset(names - functions)


def _negative_integer(node: ast.AST) -> int | None:
    """``n`` for an exponent written ``-n`` (a negative integer literal), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node, sign = node.operand, -1
    else:
        sign = 1
    if isinstance(node, ast.Constant) and isinstance(node.value, int) \
            and not isinstance(node.value, bool) and sign * node.value < 0:
        return -sign * node.value
    return None
