"""
Sentences for the pieces of a model description: updates, connection rules, values.

Each function turns one entry of the description (see
:doc:`/export_format`) into a short piece of Markdown text, with inline math
from :mod:`brian2tools.mdexport.mathtext` where it helps. The templates use
them through the filters of :mod:`brian2tools.mdexport.renderer`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
from brian2.core.namespace import DEFAULT_CONSTANTS, DEFAULT_UNITS
from brian2.parsing.statements import parse_statement
from brian2.units.fundamentalunits import Quantity
from brian2.utils.stringtools import get_identifiers

from .mathtext import (
    code_to_latex,
    display_unit,
    is_condition,
    number_to_latex,
    quantity_to_latex,
    statement_to_latex,
)

__all__ = [
    "known_value",
    "cells_text",
    "connection_text",
    "describe_statements",
    "index_text",
    "refractory_text",
    "values_text",
]

# how many values are listed one by one before a summary is given instead
LISTED_VALUES = 10
# Brian's update operators in words, as the script wrote them ({target}, {value})
_OPERATOR_WORDS = {
    "=": "sets {target} to {value}",
    "+=": "adds {value} to {target}",
    "-=": "subtracts {value} from {target}",
    "*=": "multiplies {target} by {value}",
    "/=": "divides {target} by {value}",
}
# the sign of the value of "+=" / "-=" that makes the update an increase
_INCREASING_SIGN = {"+=": 1, "-=": -1}
# variables every Synapses object has besides those of its equations
_SYNAPSE_BUILTINS = {"delay", "lastupdate", "N_incoming", "N_outgoing"}


def _math(latex: str) -> str:
    return f"${latex}$"


def values_text(values: Any, cell: str = "cell", listed: int = LISTED_VALUES) -> str:
    """
    Describe a value or an array of values (one per cell) in a few words.

    Parameters
    ----------
    values : Quantity, number or array
        A single value or one value per cell.
    cell : str, optional
        What the values belong to, for the summary (``'neuron'``,
        ``'synapse'``...).
    listed : int, optional
        Arrays up to this length are listed value by value.

    Returns
    -------
    str
        Markdown, e.g. ``'$5\\,\\mathrm{m}\\mathrm{s}$ for all 3200 synapses'``.

    Examples
    --------
    >>> from brian2tools.mdexport.wording import values_text
    >>> from brian2 import ms
    >>> values_text([1, 2, 3]*ms)
    '$1\\\\,\\\\mathrm{m}\\\\mathrm{s}$, $2\\\\,\\\\mathrm{m}\\\\mathrm{s}$, $3\\\\,\\\\mathrm{m}\\\\mathrm{s}$'
    """
    dimensioned = isinstance(values, Quantity) and not values.dim.is_dimensionless
    array = np.asarray(values)
    if array.ndim == 0:
        return _math(quantity_to_latex(values))
    flat = array.ravel()
    if flat.size == 0:
        return f"no {cell}s"

    unit = display_unit(values) if dimensioned else None

    def element(value):
        return Quantity(value, dim=values.dim) if dimensioned else value

    def show(value):
        return _math(quantity_to_latex(element(value), unit=unit))

    if np.all(flat == flat[0]):
        if flat.size == 1:
            return show(flat[0])
        return f"{show(flat[0])} for all {flat.size} {cell}s"
    if flat.size <= listed:
        return ", ".join(show(value) for value in flat)
    if flat.dtype == bool:
        return f"true for {int(flat.sum())} of {flat.size} {cell}s"
    low, high = np.min(flat), np.max(flat)
    mean = np.mean(flat)
    return f"{flat.size} values from {show(low)} to {show(high)} (mean {show(mean)})"


def cells_text(reference: Mapping, size: int | None, cell: str = "neuron") -> str:
    """
    Describe a group reference: the whole group or a range of its cells.

    Parameters
    ----------
    reference : mapping
        ``{'group': name, 'start': int, 'stop': int}`` (``stop`` exclusive).
    size : int or None
        The number of cells of the referenced group, if known.
    cell : str, optional
        What the group's members are called.

    Returns
    -------
    str
        Markdown, e.g. ``'neurons 0 to 3199 of `neurongroup`'``.

    Examples
    --------
    >>> from brian2tools.mdexport.wording import cells_text
    >>> cells_text({'group': 'neurongroup', 'start': 0, 'stop': 3200}, 4000)
    'neurons 0 to 3199 (3200 neurons) of `neurongroup`'
    >>> cells_text({'group': 'neurongroup', 'start': 0, 'stop': 4000}, 4000)
    'all 4000 neurons of `neurongroup`'
    """
    name, start, stop = reference["group"], int(reference["start"]), int(reference["stop"])
    count = stop - start
    if start == 0 and size is not None and stop == size:
        if size == 1:
            return f"the single {cell} of `{name}`"
        return f"all {size} {cell}s of `{name}`"
    if count == 1:
        return f"{cell} {start} of `{name}`"
    return f"{cell}s {start} to {stop - 1} ({count} {cell}s) of `{name}`"


def index_text(index: Any, cell: str = "neuron", listed: int = LISTED_VALUES) -> str:
    """
    Describe which cells an assignment applies to.

    Parameters
    ----------
    index : None, str or array of int
        ``None`` for all cells, a condition, or the cells' indices.
    cell : str, optional
        What the cells are called.
    listed : int, optional
        Up to this many indices are listed.

    Returns
    -------
    str
        Markdown, e.g. ``'for neurons where $i > 10$'``; empty for all cells.

    Examples
    --------
    >>> from brian2tools.mdexport.wording import index_text
    >>> index_text('i > 10')
    'for the neurons where $i > 10$'
    >>> index_text([0, 5])
    'for neurons 0, 5'
    """
    if index is None:
        return ""
    if isinstance(index, str):
        return f"for the {cell}s where {_math(code_to_latex(index))}"
    indices = np.atleast_1d(np.asarray(index)).ravel()
    if indices.size == 1:
        return f"for {cell} {int(indices[0])}"
    if indices.size <= listed:
        return f"for {cell}s " + ", ".join(str(int(k)) for k in indices)
    return (f"for {indices.size} {cell}s (indices {int(indices.min())} "
            f"to {int(indices.max())})")


def _target_words(variable: str, synaptic_variables: Collection[str] | None) -> str:
    """Which variable a statement changes, in words (for Synapses: whose variable)."""
    if synaptic_variables is None:
        return f"`{variable}`"
    if variable.endswith("_post"):
        return f"`{variable[:-5]}` of the post-synaptic neuron"
    if variable.endswith("_pre"):
        return f"`{variable[:-4]}` of the pre-synaptic neuron"
    if variable in synaptic_variables or variable in _SYNAPSE_BUILTINS:
        return f"the synaptic variable `{variable}`"
    # Brian resolves names that are not the synapses' own to the target group
    return f"`{variable}` of the post-synaptic neuron"


def describe_statements(
    code: str,
    variables: Collection[str] = (),
    namespace: Mapping | None = None,
    synaptic_variables: Collection[str] | None = None,
) -> list[dict[str, str]]:
    """
    Split code into statements, each in math and in words.

    Parameters
    ----------
    code : str
        Statements separated by ``'\\n'`` (a reset, an ``on_pre`` pathway...).
    variables, namespace
        As for :func:`~brian2tools.mdexport.mathtext.code_to_latex`.
    synaptic_variables : collection of str, optional
        For the code of a Synapses object: its own variables. Names that are
        not among them (and carry no ``_pre``/``_post`` suffix) are described
        as variables of the post-synaptic neuron, as Brian resolves them.

    Returns
    -------
    list of dict
        One ``{'code', 'variable', 'operator', 'expression', 'latex', 'words'}``
        per statement, e.g. ``words='adds `we` to `ge` of the post-synaptic
        neuron'``; when the value is known from the constants, it follows in
        math with whether the update increases or decreases the variable
        (``'adds `wi` to `gi` ..., i.e. $-9\\,\\mathrm{m}\\mathrm{V}$: a decrease'``).

    Raises
    ------
    ValueError
        If a line is not a Brian statement.

    Examples
    --------
    >>> from brian2tools.mdexport.wording import describe_statements
    >>> [s['words'] for s in describe_statements('v = v_r')]
    ['sets `v` to `v_r`']
    """
    statements = []
    for line in code.split("\n"):
        line = line.strip()
        if not line:
            continue
        try:
            variable, operator, expression, _ = parse_statement(line)
        except ValueError as error:
            raise ValueError(f"Cannot describe the statement {line!r}: {error}") from error
        target = _target_words(variable, synaptic_variables)
        if operator in _OPERATOR_WORDS:
            words = _OPERATOR_WORDS[operator].format(target=target, value=f"`{expression}`")
            words += _known_value_words(operator, expression, variables, namespace)
        else:
            words = f"updates {target} with `{operator} {expression}`"
        statements.append({
            "code": line,
            "variable": variable,
            "operator": operator,
            "expression": expression,
            "latex": statement_to_latex(variable, operator, expression, variables, namespace),
            "words": words,
        })
    return statements


def known_value(expression: str, variables: Collection[str] = (),
                namespace: Mapping | None = None) -> Any:
    """
    The value of an expression made only of numbers, units and external constants.

    Parameters
    ----------
    expression : str
        Brian code, e.g. ``'wi'`` or ``'-9*mV'``.
    variables : collection of str, optional
        The names of the object's variables (an expression using one has no
        value known before the simulation).
    namespace : mapping, optional
        The object's external constants.

    Returns
    -------
    Quantity, number or None
        The value, or ``None`` when it depends on the model's state or on a
        function.

    Examples
    --------
    >>> from brian2tools.mdexport.wording import known_value
    >>> from brian2 import mV
    >>> known_value('2*wi', namespace={'wi': -9*mV})
    -18. * mvolt
    >>> known_value('v + 1', variables={'v'}) is None
    True
    """
    namespace = namespace or {}
    values = {}
    for name in get_identifiers(expression):
        if name in variables:
            return None
        if name in namespace and not callable(namespace[name]):
            values[name] = namespace[name]
        elif name in DEFAULT_UNITS:
            values[name] = DEFAULT_UNITS[name]
        elif name in DEFAULT_CONSTANTS:
            values[name] = DEFAULT_CONSTANTS[name].value
        else:
            return None
    try:
        # only numbers, units and the user's constants are in scope: no names, no builtins
        value = eval(compile(expression, "<expression>", "eval"), {"__builtins__": {}}, values)  # noqa: S307
    except Exception:  # noqa: BLE001 -- a value that cannot be computed is just not shown
        return None
    return value if np.ndim(value) == 0 else None


def _known_value_words(operator: str, expression: str, variables, namespace) -> str:
    """``', i.e. $-9\\,mV$: a decrease'`` for an update by a known value, else nothing."""
    value = known_value(expression, variables, namespace)
    if value is None or not get_identifiers(expression) - set(DEFAULT_UNITS):
        return ""  # unknown, or written out as a number in the code already
    try:
        words = f", i.e. {_math(quantity_to_latex(value))}"
    except TypeError:
        return ""
    sign = float(np.sign(np.asarray(value, dtype=float)))
    if operator in _INCREASING_SIGN and sign != 0:
        words += ": an increase" if sign == _INCREASING_SIGN[operator] else ": a decrease"
    return words


def _probability_text(p: float | str, variables, namespace) -> str:
    if isinstance(p, str):
        return f"with probability {_math(code_to_latex(p, variables, namespace))}"
    return f"with probability {_math(number_to_latex(p))}"


def _pairs_text(i: Sequence, j: Sequence, listed: int) -> str:
    pairs = list(zip(np.atleast_1d(i), np.atleast_1d(j), strict=False))
    if len(pairs) <= listed:
        listing = ", ".join(f"{int(a)} → {int(b)}" for a, b in pairs)
        return f"explicitly listed pairs (pre → post): {listing}"
    return f"{len(pairs)} explicitly listed pairs of pre- and post-synaptic neurons"


def connection_text(
    connection: Mapping,
    variables: Collection[str] = (),
    namespace: Mapping | None = None,
    listed: int = LISTED_VALUES,
) -> str:
    """
    Describe one ``connect()`` call in words.

    Parameters
    ----------
    connection : mapping
        ``{'condition', 'i', 'j', 'p', 'n', 'skip_if_invalid'}`` as in the
        description of a Synapses object.
    variables, namespace
        As for :func:`~brian2tools.mdexport.mathtext.code_to_latex`.
    listed : int, optional
        Up to this many explicit pairs are listed.

    Returns
    -------
    str
        Markdown, e.g. ``'all pairs of neurons, each with probability $0.02$'``.

    Examples
    --------
    >>> from brian2tools.mdexport.wording import connection_text
    >>> connection_text({'condition': None, 'i': None, 'j': None, 'p': 0.02,
    ...                  'n': 1, 'skip_if_invalid': False})
    'all pairs of neurons, each with probability $0.02$'
    """
    condition = connection.get("condition")
    i, j = connection.get("i"), connection.get("j")
    p, n = connection.get("p", 1.0), connection.get("n", 1)
    if isinstance(j, str):
        text = (f"each pre-synaptic neuron $i$ connects to the post-synaptic neurons "
                f"`j = {j}`")
        if connection.get("skip_if_invalid"):
            text += " (indices outside the target are skipped)"
    elif i is not None and j is not None:
        text = _pairs_text(i, j, listed)
    elif i is not None or j is not None:
        fixed, name = (i, "pre") if i is not None else (j, "post")
        indices = ", ".join(str(int(k)) for k in np.atleast_1d(fixed)[:listed])
        text = f"all pairs with {name}-synaptic neuron among {indices}"
    elif condition in (None, "True") or condition is True:
        text = "all pairs of neurons"
    else:
        text = (f"all pairs of neurons $(i, j)$ with "
                f"{_math(code_to_latex(condition, variables, namespace))}")
    if isinstance(p, str) or float(p) != 1.0:
        text += ", each " + _probability_text(p, variables, namespace)
    if isinstance(n, str):
        text += f", with {_math(code_to_latex(n, variables, namespace))} synapses per pair"
    elif np.ndim(n) > 0:
        text += f", with {values_text(np.asarray(n), 'pair')} synapses per pair"
    elif int(n) != 1:
        text += f", with {int(n)} synapses per pair"
    return text


def refractory_text(
    refractory: Any,
    variables: Collection[str] = (),
    namespace: Mapping | None = None,
) -> str:
    """
    Describe a group's refractoriness.

    Parameters
    ----------
    refractory : None, Quantity or str
        As in the description of a neuron group.
    variables, namespace
        As for :func:`~brian2tools.mdexport.mathtext.code_to_latex`.

    Returns
    -------
    str
        Markdown; empty when the group has no refractoriness.

    Examples
    --------
    >>> from brian2tools.mdexport.wording import refractory_text
    >>> from brian2 import ms
    >>> refractory_text(5*ms)
    'refractory for $5\\\\,\\\\mathrm{m}\\\\mathrm{s}$ after each spike'
    """
    if refractory is None or refractory is False:
        return ""
    if isinstance(refractory, str):
        latex = _math(code_to_latex(refractory, variables, namespace))
        if is_condition(refractory):
            return f"refractory after a spike for as long as {latex}"
        return f"refractory for {latex} after each spike"
    return f"refractory for {_math(quantity_to_latex(refractory))} after each spike"

