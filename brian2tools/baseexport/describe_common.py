"""
The small pieces every describer of the collection shares.

The describers (:mod:`brian2tools.baseexport.describers`, and
:mod:`brian2tools.baseexport.spatial` for `SpatialNeuron` objects) turn one
Brian object into its plain description; they all refer to groups the same
way (`group_reference`), keep code the same way (`clean_code`), merge the
namespaces of an object's parts, read the assignments the device recorded
and share one context per run (the run's namespace, the export log and what
the previous run held).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from brian2.groups.subgroup import Subgroup
from brian2.parsing.statements import parse_statement
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity
from brian2.utils.logger import get_logger
from brian2.utils.stringtools import get_identifiers

from .errors import UnsupportedFeatureError
from .log import ExportLog

__all__ = ["group_reference", "clean_code"]

logger = get_logger(__name__)


def group_reference(group) -> dict[str, Any]:
    """
    The group reference of a group or subgroup.

    Parameters
    ----------
    group : brian2.Group
        A group, a `Subgroup` (``group[10:20]``) or a `Synapses` object.

    Returns
    -------
    reference : dict
        ``{'group': name, 'start': int, 'stop': int}``, ``stop`` exclusive.

    Examples
    --------
    >>> from brian2 import NeuronGroup
    >>> group = NeuronGroup(10, 'v : 1', name='cells')
    >>> group_reference(group[2:5])
    {'group': 'cells', 'start': 2, 'stop': 5}
    """
    if isinstance(group, Subgroup):
        return {"group": group.source.name, "start": int(group.start), "stop": int(group.stop)}
    return {"group": group.name, "start": 0, "stop": int(len(group))}


def _with_dim(values, dim):
    """A copy of ``values`` as a Quantity with ``dim``, or a plain array if dimensionless."""
    array = np.array(values, copy=True)
    if dim is DIMENSIONLESS:
        return array
    return Quantity(array, dim=dim)


def _merge_namespaces(object_name: str, parts) -> dict[str, Any]:
    """
    Merge the namespaces of an object's parts, refusing a name with two values.

    ``parts`` is a list of ``(where, namespace)``; a name can have different
    values if it changed between, say, an assignment and the run.
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for where, namespace in parts:
        for name, value in namespace.items():
            if name in merged and not _same(merged[name], value):
                raise UnsupportedFeatureError(
                    object_name,
                    f"the name '{name}' with two different values: {merged[name]!r} "
                    f"(in {origin[name]}) and {value!r} (in {where})",
                    "Use different names for different values.",
                )
            merged.setdefault(name, value)
            origin.setdefault(name, where)
    return dict(sorted(merged.items()))


def _same(first, second) -> bool:
    """Whether two description values are equal (Quantities, arrays, dicts, lists, ...)."""
    if isinstance(first, dict) and isinstance(second, dict):
        return first.keys() == second.keys() and all(
            _same(first[key], second[key]) for key in first
        )
    if isinstance(first, (list, tuple)) and isinstance(second, (list, tuple)):
        return len(first) == len(second) and all(
            _same(a, b) for a, b in zip(first, second, strict=True)
        )
    if isinstance(first, str) or isinstance(second, str) or first is None or second is None:
        return type(first) is type(second) and first == second
    if getattr(first, "dim", DIMENSIONLESS) is not getattr(second, "dim", DIMENSIONLESS):
        return False
    try:
        a, b = np.asarray(first), np.asarray(second)
    except Exception:  # pragma: no cover -- values of the description are array-like
        return first == second
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _initializers(log: ExportLog, obj, since_run: int) -> tuple[list[dict], list]:
    """The recorded assignments of ``obj`` since run ``since_run``, and their namespaces."""
    initializers = []
    namespaces = []
    for entry in log.entries_for("assignments", obj.id, since_run):
        if entry.problem is not None:
            raise entry.problem
        data = dict(entry.data)
        initializers.append(data)
        namespaces.append((f"the assignment to '{data['variable']}'", data["namespace"]))
    return initializers, namespaces


def _initial_values(group, names) -> dict[str, Any]:
    """Copies of the current values of the variables ``names``, with units."""
    values = {}
    linked = getattr(group, "_linked_variables", set())
    for name in names:
        if name in linked:  # the values of another group (the equation's 'linked' entry)
            continue
        variable = group.variables[name]
        values[name] = _with_dim(variable.get_value(), variable.dim)
    return values


def _method(method_choice):
    """The integration method asked for: a name, a list of names, or ``None`` (Brian's choice)."""
    if method_choice is None or isinstance(method_choice, str):
        return method_choice
    if isinstance(method_choice, (list, tuple)):
        return [str(method) for method in method_choice]
    return str(method_choice)


def _slot(obj) -> dict[str, Any] | None:
    """When ``obj`` runs in a time step: ``{'when': slot name, 'order': int}``."""
    if obj is None:
        return None
    return {"when": obj.when, "order": int(obj.order)}


def _main_slot(obj, updater=None) -> dict[str, Any]:
    """The ``'when'``/``'order'`` keys of an object: those of its state updater if it has one."""
    slot = _slot(updater) if updater is not None else _slot(obj)
    return {"when": slot["when"], "order": slot["order"]}


def clean_code(code: str) -> str:
    r"""
    Brian code as the description keeps it: comments and indentation removed.

    Brian accepts code over several lines, indented as in a triple-quoted
    string, with Python comments (``on_pre='v += w  # kick'``); the
    description keeps one statement per line, without either (its code
    holds no strings, so ``#`` always starts a comment).

    Parameters
    ----------
    code : str
        Brian code: a threshold, a reset, a pathway's code, ...

    Returns
    -------
    str
        The code, one statement per line.

    Examples
    --------
    >>> clean_code('''
    ...     v_post += w  # kick
    ...     w = clip(w + 1, 0, 5)
    ...     ''')
    'v_post += w\nw = clip(w + 1, 0, 5)'
    """
    lines = (line.split("#", 1)[0].strip() for line in code.splitlines())
    return "\n".join(line for line in lines if line)


def _code_identifiers(*codes, variables=()) -> set[str]:
    """
    The names that ``codes`` read from outside: temporaries that a statement
    defines (``tmp = v + 1`` where ``tmp`` is not one of ``variables``, as
    Brian allows in resets and pathways) are left out.
    """
    identifiers: set[str] = set()
    temporaries: set[str] = set()
    for code in codes:
        if not isinstance(code, str):
            continue
        code = clean_code(code)
        identifiers |= get_identifiers(code)
        for line in code.splitlines():
            if not line.strip() or line.strip().startswith("#"):
                continue
            try:
                name, operation, _, _ = parse_statement(line)
            except ValueError:  # a condition (threshold), not a statement
                continue
            if operation == "=" and name not in variables:
                temporaries.add(name)
    return identifiers - temporaries



class _Context:
    """What every describer needs: the run's namespace, the log, and what came before."""

    def __init__(self, run_namespace, log, dt, continued_ids):
        self.run_namespace = run_namespace
        self.log = log
        self.dt = dt
        self.continued_ids = continued_ids
        self.run_index = 0
        self.spatial_neurons = True

    def continued(self, obj) -> bool:
        return obj.id in self.continued_ids

    def since_run(self, obj) -> int:
        """Assignments to list: all for a new object, the latest for a continued one."""
        return self.run_index if self.continued(obj) else 0

