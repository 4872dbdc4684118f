"""
The Jinja2 filters of the Markdown templates.

Each filter turns one piece of a model description (see
:doc:`/export_format`) -- code, values, group references, equations,
connections, changes between runs -- into Markdown and LaTeX, with the
words of :mod:`brian2tools.mdexport.wording` and the math of
:mod:`brian2tools.mdexport.mathtext`. `FILTERS` maps the names the templates
use (``{{ code | math(owner) }}``) to the functions; the table in
:doc:`/mdexport` describes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jinja2
import numpy as np
from brian2.units.fundamentalunits import Unit

from .mathtext import (
    code_to_latex,
    name_to_latex,
    quantity_to_latex,
    unit_to_latex,
)
from .operation_filters import OPERATION_FILTERS
from .wording import (
    LISTED_VALUES,
    cells_text,
    connection_text,
    describe_statements,
    index_text,
    refractory_text,
    values_text,
)

__all__ = ["FILTERS"]

# names that every group or synapses object knows without declaring them
_BUILTIN_VARIABLES = frozenset({
    "i", "j", "N", "t", "dt", "t_in_timesteps", "xi", "lastspike", "not_refractory",
    "delay", "lastupdate", "N_incoming", "N_outgoing", "N_pre", "N_post",
})
# lists of a run's description that hold named objects, and what their cells are called
_OBJECT_LISTS = {
    "neurongroups": "neuron",
    "poissongroups": "neuron",
    "spikegeneratorgroups": "neuron",
    "synapses": "synapse",
    "poissoninputs": None,
    "statemonitors": None,
    "spikemonitors": None,
    "ratemonitors": None,
    "spatialneurons": "compartment",
    "network_operations": None,
}
# what Brian's groups try when the script names no method
_BRIAN_DEFAULT_METHODS = ("exact", "euler", "heun")
# characters that Markdown would read as markup in free text (e.g. "v = -55*mV")
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<>|]")


# --------------------------------------------------------------------------- #
# Helpers for the filters
# --------------------------------------------------------------------------- #
def _variables(owner: Mapping | None) -> set[str]:
    """Names of the variables of a group or synapses description."""
    if not owner:
        return set(_BUILTIN_VARIABLES)
    names = {equation["name"] for equation in owner.get("equations", ())}
    return names | _BUILTIN_VARIABLES


def _namespace(owner: Mapping | None) -> Mapping:
    return {} if not owner else owner.get("namespace", {}) or {}


def _is_synapses(owner: Mapping | None) -> bool:
    return bool(owner) and "pathways" in owner


def _cell_word(owner: Mapping | None) -> str:
    if bool(owner) and "morphology" in owner:
        return "compartment"
    return "synapse" if _is_synapses(owner) else "neuron"


def _run_objects(run: Mapping) -> dict[str, tuple[str | None, Mapping]]:
    """Name -> (what its cells are called, description) of every object of a run."""
    objects = {}
    for key, cell in _OBJECT_LISTS.items():
        for description in run.get(key, ()):
            objects[description["name"]] = (cell, description)
    return objects


def _size(description: Mapping) -> int | None:
    if "N" in description:
        return int(description["N"])
    if "i" in description:
        return len(description["i"])
    return None


def _escape_markdown(text: str) -> str:
    """Backslash-escape the characters of free text that Markdown would read as markup."""
    return _MARKDOWN_SPECIAL.sub(lambda match: "\\" + match.group(0), text)


# --------------------------------------------------------------------------- #
# Filters
# --------------------------------------------------------------------------- #
def math_filter(code: str, owner: Mapping | None = None) -> str:
    """Inline math (``$...$``) for Brian code of ``owner`` (a group's description)."""
    return f"${code_to_latex(code, _variables(owner), _namespace(owner))}$"


def tex_filter(code: str, owner: Mapping | None = None) -> str:
    """LaTeX (without ``$``) for Brian code of ``owner``."""
    return code_to_latex(code, _variables(owner), _namespace(owner))


def symbol_filter(name: str) -> str:
    """Inline math for a variable name (``tau_e`` as ``$\\tau_{e}$``)."""
    return f"${name_to_latex(name)}$"


def quantity_filter(value: Any) -> str:
    """LaTeX (without ``$``) for a single value with its unit."""
    return quantity_to_latex(value)


def value_filter(value: Any, cell: str = "neuron") -> str:
    """Markdown for a value, or a summary of an array of values (one per ``cell``)."""
    return values_text(value, cell)


def unit_filter(unit: Unit | None) -> str:
    """LaTeX (without ``$``) for a unit; ``1`` for dimensionless."""
    if unit is None:
        return "1"
    return unit_to_latex(unit) or "1"


def equation_filter(equation: Mapping, owner: Mapping | None = None) -> str:
    """
    One row of an ``aligned`` block: ``lhs &= rhs`` for an equation.

    Differential equations read ``\\frac{\\mathrm{d}v}{\\mathrm{d}t} &= ...``;
    parameters have no right-hand side.
    """
    name = name_to_latex(equation["name"])
    if equation["type"] == "parameter" or equation.get("expr") is None:
        return rf"{name} &\ \text{{(parameter)}}"
    rhs = code_to_latex(equation["expr"], _variables(owner), _namespace(owner))
    if equation["type"] == "differential equation":
        return rf"\frac{{\mathrm{{d}}{name}}}{{\mathrm{{d}}t}} &= {rhs}"
    return rf"{name} &= {rhs}"


def in_script_order_filter(owner: Mapping) -> list[Mapping]:
    """The equations of ``owner`` in the order the script wrote them (``'equation_order'``)."""
    equations = list(owner.get("equations", ()))
    order = {name: position for position, name in enumerate(owner.get("equation_order", ()))}
    # equations the order does not know keep their place after the known ones
    return sorted(equations, key=lambda equation: order.get(equation["name"], len(order)))


def method_filter(owner: Mapping) -> str:
    """
    A sentence on the integration method of ``owner``'s differential equations (or nothing).

    Names the method the script asked for and, when the script left the
    choice to Brian (no method, or a list), the one Brian uses.
    """
    if not any(equation["type"] == "differential equation"
               for equation in owner.get("equations", ())):
        return ""
    asked, used = owner.get("method"), owner.get("method_used")
    if isinstance(asked, str):
        text = f"Integrated with the `{asked}` method (`method='{asked}'`)"
        if used and used != asked.lower():
            text += f"; Brian uses `{used}`"
        return text + "."
    if used is None:
        return "The script does not name an integration method."
    if asked and list(asked) != list(_BRIAN_DEFAULT_METHODS):
        candidates = ", ".join(f"`{name}`" for name in asked)
        return (f"Integrated with the `{used}` method: the script names no single method, "
                f"and `{used}` is the first of {candidates} that can integrate these "
                "equations (Brian's choice).")
    return f"Integrated with the `{used}` method (Brian's choice: the script names none)."


def statements_filter(code: str | None, owner: Mapping | None = None) -> list[dict[str, str]]:
    """The statements of ``code`` (a reset, a pathway...), each with ``latex`` and ``words``."""
    if not code:
        return []
    synaptic = _variables(owner) if _is_synapses(owner) else None
    return describe_statements(code, _variables(owner), _namespace(owner), synaptic)


@jinja2.pass_context
def cells_filter(context, reference: Mapping) -> str:
    """Markdown for a group reference, e.g. ``neurons 0 to 3199 (3200 neurons) of `P` ``."""
    run = context.get("run") or {}
    cell, description = _run_objects(run).get(reference["group"], ("neuron", None))
    size = _size(description) if description is not None else None
    return cells_text(reference, size, cell or "neuron")


def connection_filter(connection: Mapping, owner: Mapping | None = None) -> str:
    """Markdown for one ``connect()`` call of a Synapses description, with what it created."""
    text = connection_text(connection, _variables(owner), _namespace(owner))
    created = connection.get("created")
    if created is not None:
        text += f" ({count_filter(int(created['stop']) - int(created['start']), 'synapse')})"
    return text


def refractory_filter(group: Mapping) -> str:
    """Markdown for a neuron group's refractoriness (empty without one)."""
    return refractory_text(group.get("refractory"), _variables(group), _namespace(group))


def initializer_filter(initializer: Mapping, owner: Mapping | None = None) -> str:
    """
    Markdown for one initialisation (``group.v = ...``) of ``owner``.

    An assignment through a sub-group (``P[3200:].v = ...``) names the
    sub-group's cells; its integer indices are given in the whole group.
    """
    variable = initializer["variable"]
    cell = _cell_word(owner)
    kind, value, index = initializer["kind"], initializer["value"], initializer.get("index")
    if kind == "expression":
        text = f"${name_to_latex(variable)} = {tex_filter(value, owner)}$"
    elif kind == "constant":
        text = f"${name_to_latex(variable)} = {quantity_to_latex(value)}$"
    else:
        text = f"${name_to_latex(variable)}$ set to {values_text(value, cell)}"
    through = initializer.get("group")
    size = _size(owner) if owner else None
    start = int(through["start"]) if through else 0
    partial = through is not None and (start != 0 or (size is not None
                                                      and int(through["stop"]) != size))
    if index is not None and not isinstance(index, str):
        index = np.asarray(index) + start  # indices in the whole group
    where = index_text(index, cell)
    if partial and (index is None or isinstance(index, str)):
        text += f" for {cells_text(through, size, cell)}"
        if start and (isinstance(index, str) or kind == "expression"):
            text += f" (counting $i$ from {start})"
    if where:
        text += f" {where}"
    return text


def constants_filter(owner: Mapping) -> list[dict[str, str]]:
    """The external constants of ``owner``: ``[{'name', 'symbol', 'value'}]`` (LaTeX)."""
    constants = []
    for name, value in _namespace(owner).items():
        if isinstance(value, Unit) or callable(value) or _is_timed_array(value):
            continue  # units are written as units in the math; functions have no value
        constants.append({
            "name": name,
            "symbol": name_to_latex(name),
            "value": quantity_to_latex(value) if np.ndim(value) == 0 else values_text(value),
        })
    return constants


def _is_timed_array(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("type") == "TimedArray"


def timed_arrays_filter(owner: Mapping) -> list[str]:
    """Markdown for each TimedArray ``owner`` uses: its name, number of values and dt."""
    texts = []
    for name, value in _namespace(owner).items():
        if not _is_timed_array(value):
            continue
        shape = np.shape(value["values"])
        count = (f"{shape[0]} values" if len(shape) == 1
                 else f"{shape[0]} × {shape[1]} values (time × neuron index)")
        texts.append(f"`{name}`: TimedArray of {count}, "
                     f"dt = ${quantity_to_latex(value['dt'])}$")
    return texts


def run_regularly_filter(operation: Mapping, group: Mapping) -> str:
    """Markdown for when and where a ``run_regularly`` operation runs."""
    when = operation.get("when", "start")
    slot = ("before the state update" if when in ("before_start", "start", "after_start",
                                                  "before_groups")
            else f"in the `{when}` slot")
    cells = cells_text(operation["target"], _size(group))
    return (f"every ${quantity_to_latex(operation['dt'])}$ from the start, {slot}, "
            f"for {cells}")


def delay_filter(pathway: Mapping) -> str:
    """Markdown for the delays of a pathway: none, one for all, or a summary."""
    delay = pathway.get("delay")
    if delay is None or np.size(delay) == 0 or not np.any(np.asarray(delay) != 0):
        return "without delay"
    flat = np.asarray(delay).ravel()
    if np.all(flat == flat[0]) or flat.size <= LISTED_VALUES:
        return f"after a delay of {values_text(delay, 'synapse')}"
    return f"after a delay that differs between synapses: {values_text(delay, 'synapse')}"


def count_filter(number: int, word: str) -> str:
    """``'1 neuron'``, ``'4000 neurons'``."""
    number = int(number)
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def nonzero_filter(value: Any) -> bool:
    """Whether a value (or any value of an array) is not zero."""
    return bool(np.any(np.asarray(value) != 0))


def only_added_filter(run: Mapping) -> dict[str, Any]:
    """A copy of ``run`` whose object lists keep only the objects new in this run."""
    added = {change["object"] for change in run.get("changes", ())
             if change.get("kind") == "added"}
    model = dict(run)
    for key in _OBJECT_LISTS:
        model[key] = [obj for obj in run.get(key, ())
                      if obj["name"] in added or obj.get("continued") is False]
    return model


@jinja2.pass_context
def change_filter(context, change: Mapping) -> str:
    """Markdown for one entry of a run's ``'changes'``, in the words of the other filters."""
    run = context.get("run") or {}
    name, kind = change["object"], change.get("kind")
    owner = _run_objects(run).get(name, (None, None))[1]
    if kind == "assignment" and change.get("initializer") is not None:
        return f"`{name}`: {initializer_filter(change['initializer'], owner)}"
    if kind == "connection" and change.get("connection") is not None:
        return f"`{name}`: new synapses, {connection_filter(change['connection'], owner)}"
    if kind == "added":
        return f"`{name}` is new in this run (described below)"
    if kind == "removed":
        return f"`{name}` is no longer part of the run"
    detail = change.get("detail")
    if not detail:
        return f"`{name}` ({kind})"
    return f"`{name}` ({kind}): {_escape_markdown(detail)}"


def random_note_filter(owner: Mapping) -> str:
    """A sentence on the random functions the initialisers of ``owner`` use (or nothing)."""
    codes = " ".join(str(initializer["value"]) for initializer in owner.get("initializers", ())
                     if initializer.get("random") and isinstance(initializer["value"], str))
    parts = []
    if re.search(r"\brand\(", codes):
        parts.append(r"$\operatorname{rand}()$ is drawn uniformly from $[0, 1)$")
    if re.search(r"\brandn\(", codes):
        parts.append(r"$\operatorname{randn}()$ from the standard normal distribution")
    if not parts:
        return ""
    return (f"Random values: {' and '.join(parts)}, independently for each "
            f"{_cell_word(owner)}.")


def uses_noise_filter(owner: Mapping) -> bool:
    """Whether the equations of ``owner`` use white noise (``xi`` or ``xi_...``)."""
    for equation in owner.get("equations", ()):
        if "stochastic_variables" in equation:
            if equation["stochastic_variables"]:
                return True
        elif re.search(r"\bxi(_\w+)?\b", equation.get("expr") or ""):
            return True
    return False


@jinja2.pass_context
def recorded_filter(context, monitor: Mapping) -> str:
    """Markdown for the cells a state monitor records (indices counted in the whole group)."""
    source = monitor["source"]
    start, stop = int(source["start"]), int(source["stop"])
    record = np.atleast_1d(np.asarray(monitor.get("record", []), dtype=int))
    if record.size == stop - start and np.array_equal(record, np.arange(stop - start)):
        return cells_filter(context, source)
    run = context.get("run") or {}
    cell = (_run_objects(run).get(source["group"], ("neuron", None))[0]) or "neuron"
    if record.size == 0:
        return f"no {cell} of `{source['group']}`"
    return f"{index_text(record + start, cell)[len('for '):]} of `{source['group']}`"


FILTERS = {
    "math": math_filter,
    "tex": tex_filter,
    "symbol": symbol_filter,
    "quantity": quantity_filter,
    "value": value_filter,
    "unit": unit_filter,
    "equation": equation_filter,
    "statements": statements_filter,
    "in_script_order": in_script_order_filter,
    "method": method_filter,
    "cells": cells_filter,
    "connection": connection_filter,
    "refractory": refractory_filter,
    "initializer": initializer_filter,
    "constants": constants_filter,
    "timed_arrays": timed_arrays_filter,
    "run_regularly": run_regularly_filter,
    "delay": delay_filter,
    "count": count_filter,
    "nonzero": nonzero_filter,
    "only_added": only_added_filter,
    "change": change_filter,
    "random_note": random_note_filter,
    "recorded": recorded_filter,
    "uses_noise": uses_noise_filter,
    # operations, own clocks, linked variables, stored states, compartments
    **OPERATION_FILTERS,
}
