"""
The record of what a script does to its model before each run.

The ``'exporter'`` device executes assignments and ``connect()`` calls like
the runtime device, and hands each of them to an `ExportLog`, which keeps a
plain description of it (the *initialiser* and *connection* dicts of
:doc:`/export_format`). At ``run()`` time the collector picks from the log
the entries of the objects in the network.

Entries are recorded when the Brian call succeeded. A problem that makes an
entry impossible to describe (a user-defined function in the expression, an
assignment to a variable of another group) is kept with the entry and
raised at collection time, and only if the object takes part in a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from brian2.core.namespace import DEFAULT_CONSTANTS, DEFAULT_UNITS
from brian2.groups.subgroup import Subgroup
from brian2.synapses.parse_synaptic_generator_syntax import parse_synapse_generator
from brian2.synapses.synapses import SynapticPathway
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity
from brian2.utils.stringtools import get_identifiers

from .errors import UnsupportedFeatureError
from .namespace import external_values, plain_value

__all__ = ["ExportLog", "LogEntry"]

#: Names that may appear in a string without making it depend on the model
_LITERAL_NAMES = frozenset({"True", "False"})
_RANDOM_FUNCTIONS = frozenset({"rand", "randn"})


@dataclass
class LogEntry:
    """
    One recorded step of the script.

    Attributes
    ----------
    owner_id : object
        The Brian id (``obj.id``) of the object the step belongs to (the
        `NeuronGroup` for an assignment through a subgroup).
    owner_name : str
        Its name.
    run_index : int
        How many runs had been collected when the step happened.
    data : dict
        The initialiser or connection dict of :doc:`/export_format`.
    problem : UnsupportedFeatureError or None
        Why the step cannot be exported, raised if the object is collected.
    """

    owner_id: Any
    owner_name: str
    run_index: int
    data: dict[str, Any]
    problem: UnsupportedFeatureError | None = None


@dataclass
class ExportLog:
    """
    Assignments, ``connect()`` calls and seeds, in the order the script made them.

    Attributes
    ----------
    assignments : list of LogEntry
        Initialisers (data as in *Initialiser* of :doc:`/export_format`).
    connections : list of LogEntry
        ``connect()`` calls (data as in the ``'connections'`` list).
    seeds : list of tuple
        ``(run_index, seed)`` for each call of ``seed()``.
    run_objects : list of dict
        For each collected run, the objects it described (Brian id -> name).
    actions : list of tuple
        ``(run_index, action)`` for each ``store()`` or ``restore()`` call.

    Examples
    --------
    >>> from brian2 import NeuronGroup
    >>> group = NeuronGroup(3, 'v : 1')
    >>> log = ExportLog()
    >>> log.record_assignment(group.v, item=slice(None), value='i * 2',
    ...                       run_namespace={}, run_index=0)
    >>> [(entry.data['variable'], entry.data['kind'], entry.data['value'])
    ...  for entry in log.entries_for('assignments', group.id)]
    [('v', 'expression', 'i * 2')]
    """

    assignments: list[LogEntry] = field(default_factory=list)
    connections: list[LogEntry] = field(default_factory=list)
    seeds: list[tuple[int, Any]] = field(default_factory=list)
    run_objects: list[dict[Any, str]] = field(default_factory=list)
    #: ``(run_index, action)`` for each ``store()``/``restore()`` (see `.operations.state_action`)
    actions: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def _next_sequence(self) -> int:
        """The position of the next assignment or ``connect()`` call among all of them."""
        return len(self.assignments) + len(self.connections)

    # ------------------------------------------------------------------ #
    def entries_for(self, kind: str, owner_id: Any, since_run: int = 0) -> list[LogEntry]:
        """
        The entries of one object, in order.

        Parameters
        ----------
        kind : {'assignments', 'connections'}
            Which list to look at.
        owner_id : object
            The Brian id of the object.
        since_run : int, optional
            Only entries made after this many runs had been collected.

        Returns
        -------
        entries : list of LogEntry
        """
        return [
            entry
            for entry in getattr(self, kind)
            if entry.owner_id == owner_id and entry.run_index >= since_run
        ]

    def seed_since(self, run_index: int) -> Any:
        """
        The seed set just before a run.

        Parameters
        ----------
        run_index : int
            The run.

        Returns
        -------
        seed : int or None
            The argument of the last ``seed()`` call made after run
            ``run_index - 1`` was collected (``None`` if there was none).
        """
        seeds = [seed for index, seed in self.seeds if index == run_index]
        return seeds[-1] if seeds else None

    def record_seed(self, seed: Any, run_index: int) -> None:
        """
        Record a call of ``seed(seed)``.

        Parameters
        ----------
        seed : int or None
            The seed.
        run_index : int
            How many runs have been collected so far.
        """
        self.seeds.append((run_index, seed))

    # ------------------------------------------------------------------ #
    def record_assignment(
        self,
        variableview,
        item,
        value,
        run_namespace,
        run_index: int,
        conditional: bool = False,
    ) -> None:
        """
        Record an assignment to a state variable, made through ``variableview``.

        Parameters
        ----------
        variableview : brian2.core.variables.VariableView
            The view the assignment went through (``group.v``, ``group.v_``,
            ``subgroup.v``, ``synapses.w``, ``synapses.delay``, ...).
        item
            The index: a string condition when ``conditional``, otherwise a
            slice, an integer array, ... as handed to Brian's setter.
        value
            A string of code or the values (scalar or array).
        run_namespace : dict or None
            The namespace of the assignment's caller (string values only).
        run_index : int
            How many runs have been collected so far.
        conditional : bool, optional
            Whether ``item`` is a string condition.
        """
        variable = variableview.variable
        try:
            group = variableview.group
            if isinstance(group, SynapticPathway):
                group = group.synapses
            is_subgroup = isinstance(group, Subgroup)
        except ReferenceError:
            # A temporary sub-group (``group[5:].v = ...``) is gone by the time
            # Brian calls the device, and the view only holds a weak proxy to it.
            # Its variable still belongs to the full group, and its index
            # variable holds the sub-group's (contiguous) cell indices.
            group, is_subgroup = None, True
        if is_subgroup:
            if group is not None:
                owner = group.source
                start, stop = int(group.start), int(group.stop)
            else:
                owner = variable.owner
                indices = np.asarray(variableview.index_var.get_value())
                start, stop = int(indices[0]), int(indices[-1]) + 1
        else:
            owner = group
            start, stop = 0, len(group)
        owner_name = owner.name
        problem = None

        variable_name = variableview.name
        pathway_name = _delay_pathway(owner, variable)
        if pathway_name is not None:
            variable_name = "delay" if pathway_name == "pre" else f"{pathway_name}.delay"
        elif getattr(variable.owner, "name", owner_name) != owner_name:
            problem = UnsupportedFeatureError(
                owner_name,
                f"an assignment to '{variable_name}', a variable of "
                f"'{variable.owner.name}' set through '{owner_name}'",
                f"Set it on '{variable.owner.name}' directly.",
            )

        data: dict[str, Any] = {
            "variable": variable_name,
            "kind": None,
            "value": None,
            "index": None,
            "random": False,
            "group": {"group": owner_name, "start": start, "stop": stop},
            "namespace": {},
        }
        # --- which cells
        code_parts = []
        if conditional:
            condition = str(item).strip()
            if condition != "True":
                data["index"] = condition
                code_parts.append(condition)
        elif not (isinstance(item, slice) and item == slice(None)):
            indices = np.asarray(variableview.indexing(item), dtype=np.int64).ravel()
            data["index"] = indices - start if is_subgroup else indices

        # --- which values
        if isinstance(value, str):
            code = value.strip()
            constant = _constant_value(code)
            if constant is not None:
                data["kind"] = "constant"
                data["value"] = plain_value(_with_unit(constant, variableview, variable))
            else:
                data["kind"], data["value"] = "expression", code
                code_parts.append(code)
        else:
            values = _with_unit(value, variableview, variable)
            if np.ndim(values) == 0 or (np.size(values) == 1 and data["index"] is None):
                data["kind"] = "constant"
                data["value"] = plain_value(values.reshape(()) if np.ndim(values) else values)
            else:
                data["kind"] = "array"
                data["value"] = values.copy()

        if code_parts:
            identifiers = set().union(*(get_identifiers(part) for part in code_parts))
            data["random"] = bool(identifiers & _RANDOM_FUNCTIONS)
            context = f"the assignment to '{variable_name}'"
            try:
                data["namespace"] = external_values(
                    group,
                    identifiers,
                    run_namespace if run_namespace is not None else {},
                    object_name=owner_name,
                    context=context,
                )
            except UnsupportedFeatureError as error:
                problem = problem or error
            except KeyError as error:  # Brian resolved them, so we should too
                problem = problem or UnsupportedFeatureError(
                    owner_name, f"names in {context} that cannot be resolved ({error})"
                )
        data["sequence"] = self._next_sequence()
        self.assignments.append(LogEntry(owner.id, owner_name, run_index, data, problem))

    # ------------------------------------------------------------------ #
    def record_connect(
        self,
        synapses,
        condition,
        i,
        j,
        p,
        n,
        skip_if_invalid,
        run_namespace,
        first_synapse: int,
        run_index: int,
    ) -> None:
        """
        Record a (successful) ``Synapses.connect`` call.

        Parameters
        ----------
        synapses : brian2.Synapses
            The synapses that were connected.
        condition, i, j, p, n, skip_if_invalid
            The arguments of the call.
        run_namespace : dict
            The namespace the call's strings were resolved in.
        first_synapse : int
            The number of synapses before the call.
        run_index : int
            How many runs have been collected so far.
        """
        condition, i, j, n, p = (
            getattr(argument, "code", argument) for argument in (condition, i, j, n, p)
        )
        if isinstance(condition, bool) or isinstance(condition, np.bool_):
            condition = "True" if condition else "False"
        if i is not None and j is not None and not isinstance(i, str) and not isinstance(j, str):
            if hasattr(i, "_indices"):
                i = i._indices()
            if hasattr(j, "_indices"):
                j = j._indices()
            i, j = (np.array(array, dtype=np.int64) for array in np.broadcast_arrays(i, j))
            i, j = np.atleast_1d(i), np.atleast_1d(j)
        else:
            i = _copy_indices(i)
            j = _copy_indices(j)
        if not isinstance(n, str) and np.ndim(n) > 0:
            n = np.array(n, dtype=np.int64)
        elif not isinstance(n, str):
            n = int(n)
        if not isinstance(p, str):
            p = float(p)

        identifiers: set[str] = set()
        for code in (condition, p, n):
            if isinstance(code, str):
                identifiers |= get_identifiers(code)
        for code in (i, j):
            if isinstance(code, str):
                identifiers |= _generator_identifiers(code)
        problem = None
        namespace: dict[str, Any] = {}
        try:
            namespace = external_values(
                synapses,
                identifiers,
                run_namespace,
                object_name=synapses.name,
                context="the connect() call",
            )
        except UnsupportedFeatureError as error:
            problem = error
        except KeyError as error:  # Brian resolved them, so we should too
            problem = UnsupportedFeatureError(
                synapses.name, f"names in the connect() call that cannot be resolved ({error})"
            )
        data = {
            "condition": condition,
            "i": i,
            "j": j,
            "p": p,
            "n": n,
            "skip_if_invalid": bool(skip_if_invalid),
            "namespace": namespace,
            "created": {"start": int(first_synapse), "stop": int(len(synapses))},
        }
        data["sequence"] = self._next_sequence()
        self.connections.append(LogEntry(synapses.id, synapses.name, run_index, data, problem))


def _delay_pathway(owner, variable) -> str | None:
    """The name of the synaptic pathway whose delays ``variable`` holds (or ``None``)."""
    for pathway in getattr(owner, "_pathways", ()):
        if pathway.variables["delay"] is variable:
            return pathway.name[len(owner.name) + 1 :]
    return None


def _copy_indices(indices):
    """A string stays a string, ``None`` stays ``None``, indices become an int array."""
    if indices is None or isinstance(indices, str):
        return indices
    if hasattr(indices, "_indices"):
        indices = indices._indices()
    return np.atleast_1d(np.array(indices, dtype=np.int64))


def _generator_identifiers(code: str) -> set[str]:
    """The names a generator expression (``'k for k in range(i-3, i+4) if k != i'``) uses."""
    if not re.search(r"\bfor\b", code):
        # Brian's short forms: 'i + 1' and 'i if i < 2' (one target per source at most)
        element, _, condition = code.partition(" if ")
        return get_identifiers(element) | (get_identifiers(condition) if condition else set())
    try:
        parsed = parse_synapse_generator(code)
    except SyntaxError:  # a plain expression such as j='i'
        return get_identifiers(code)
    identifiers = get_identifiers(parsed["element"])
    identifiers |= get_identifiers(parsed["if_expression"])
    # the arguments of range()/sample(); 'sample_size' is a mode, not code
    for key in ("low", "high", "step", "p", "size"):
        argument = parsed["iterator_kwds"].get(key)
        if argument is not None:
            identifiers |= get_identifiers(str(argument))
    identifiers.discard(parsed["inner_variable"])
    return identifiers


def _constant_value(code: str):
    """
    The value of ``code`` when it is made of numbers and units only (``'-70. * mvolt'``).

    Brian turns ``group.v['i > 5'] = -70*mV`` into the code ``'-70. * mvolt'``;
    such assignments are described as constants. Returns ``None`` for anything
    that depends on the model or on external names.
    """
    identifiers = get_identifiers(code)
    allowed = set(DEFAULT_UNITS) | set(DEFAULT_CONSTANTS) | _LITERAL_NAMES
    if not identifiers <= allowed:
        return None
    names = {name: DEFAULT_UNITS[name] for name in identifiers if name in DEFAULT_UNITS}
    names.update(
        {name: DEFAULT_CONSTANTS[name].value for name in identifiers if name in DEFAULT_CONSTANTS}
    )
    names.update({"True": True, "False": False})
    try:
        value = eval(code, {"__builtins__": {}}, names)  # noqa: S307 -- numbers and units only
    except Exception:
        return None
    if isinstance(value, (bool, int, float, np.number, np.bool_, Quantity)) and np.ndim(value) == 0:
        return value
    return None


def _with_unit(value, variableview, variable):
    """
    ``value`` as a Quantity in the variable's dimensions (a plain array if dimensionless).

    Assignments through the unit-less view (``group.v_ = -0.07``) carry no
    unit; the description always does.
    """
    dim = getattr(variable, "dim", DIMENSIONLESS)
    if variableview.dim is None and dim is not DIMENSIONLESS:
        array = np.array(value, copy=True)
        return Quantity(array, dim=dim)
    if isinstance(value, Quantity):
        if value.dim is DIMENSIONLESS:
            return np.array(np.asarray(value), copy=True)
        return Quantity(value, copy=True)
    array = np.array(value, copy=True)
    if dim is not DIMENSIONLESS:
        return Quantity(array, dim=dim)
    return array
