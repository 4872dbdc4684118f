"""
What changes with time in an exported NeuronGroup: TimedArrays, run_regularly
operations and changes between consecutive runs.

The NeuroML export describes one simulation. Everything here is rewritten
into a NeuronGroup description that the cell builder (:mod:`.neurongroup`)
renders like any other group:

* a `TimedArray` called as ``stim(t)`` or ``stim(t, i)`` becomes a
  subexpression that is a sum of windows ``v_k * (H(t/dt - a_k) -
  H(t/dt - a_{k+1}))``, one per run of time steps over which Brian's value
  stays the same (``a_k`` are half-integers: Heaviside is exactly 0 or 1, so
  the sum is exactly the value Brian reads at every step). The change steps
  are computed with Brian's own rule (the index ``int(round(t/epsilon)/K)``
  clipped to the last value) on the steps of the simulation. With the neuron
  index, the window values are per-cell parameters;
* an external constant that changes between runs becomes the same kind of
  piecewise-constant subexpression, switching at the run boundaries
  (:mod:`.run_changes`, which merges consecutive runs);
* ``run_regularly`` operations and assignments to group variables between
  runs become *timed operations*: statements executed at given steps, in
  Brian's slot (before the state update for the ``start`` slot, after the
  resets for the ``end`` slot). The cell builder turns each into LEMS
  ``OnCondition`` s (and ``OnStart`` statements for step 0) driven by a
  counter of the next step, see `add_start_operations` and
  `add_operation_handlers`.

Anything that cannot be written this way exactly is refused, naming the
object and the feature.
"""

from __future__ import annotations

import ast

import lems.api as lems
import numpy as np
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from .lemsrendering import parse_statements, render_condition, render_expression
from .units import format_number

__all__ = [
    "timed_array_steps",
    "operation_targets",
    "operation_code",
    "add_start_operations",
    "add_operation_handlers",
    "STEP_FUNCTION",
]

logger = get_logger(__name__)

#: The internal function name rendered as LEMS's Heaviside ``H`` (Brian names
#: cannot start with an underscore, so it cannot clash with a user's function)
STEP_FUNCTION = "_step"

#: Brian slots before the state update and after the resets
_START_SLOTS = ("before_start", "start", "after_start", "before_groups")
_END_SLOTS = ("after_resets", "before_end", "end", "after_end")
_SCHEDULE = ("start", "groups", "thresholds", "synapses", "resets", "end")
#: The counter value of an operation that never runs again
_NEVER = "1e18"


def _slot_rank(when: str) -> int:
    for position, slot in enumerate(_SCHEDULE):
        if when == f"before_{slot}":
            return 3 * position
        if when == slot:
            return 3 * position + 1
        if when == f"after_{slot}":
            return 3 * position + 2
    return -1


# ---------------------------------------------------------------------- #
# Piecewise-constant functions of time
# ---------------------------------------------------------------------- #
def timed_array_steps(values, array_dt: float, dt: float, n_steps: int) -> np.ndarray:
    """
    The index of the value Brian's `TimedArray` reads at each time step.

    Parameters
    ----------
    values : array
        The values of the TimedArray (first axis: time).
    array_dt : float
        The TimedArray's dt in seconds.
    dt : float
        The simulation's time step in seconds.
    n_steps : int
        The number of steps of the simulation.

    Returns
    -------
    numpy.ndarray
        ``n_steps`` indices into the first axis of ``values``.

    Examples
    --------
    >>> timed_array_steps([0, 1, 2], 1e-3, 0.5e-3, 8).tolist()
    [0, 0, 1, 1, 2, 2, 2, 2]
    """
    # Brian's rule (brian2.input.timedarray): an upsampling factor K, then
    # int(round(t/epsilon)/K) clipped to the last value
    ratio = array_dt / dt
    K = max(int(2 ** np.ceil(np.log2(8 * ratio))), 1)
    epsilon = array_dt / K
    times = np.arange(n_steps) * dt
    indices = np.int_(np.round(times / epsilon) / K)
    return np.clip(indices, 0, len(values) - 1)


def _windows(step_values: np.ndarray) -> list[tuple[int, int]]:
    """(first step, index into step_values) of each run of equal values (along axis 0)."""
    windows = [(0, 0)]
    for step in range(1, len(step_values)):
        if not np.array_equal(step_values[step], step_values[step - 1]):
            windows.append((step, step))
    return windows


def _balanced_sum(terms: list[str]) -> str:
    """A sum as a balanced tree of parentheses (shallow for the parser of jLEMS)."""
    if not terms:
        return "0"
    while len(terms) > 1:
        terms = [f"({terms[k]} + {terms[k + 1]})" if k + 1 < len(terms) else terms[k]
                 for k in range(0, len(terms), 2)]
    return terms[0]


def _window_code(starts: list[int], position: int) -> str:
    """Brian code (with the step function) that is 1 during window ``position``, else 0."""
    def step(first: int) -> str:
        return f"{STEP_FUNCTION}(t/dt - {format_number(first - 0.5)})"

    lower = step(starts[position]) if position > 0 else None
    upper = step(starts[position + 1]) if position + 1 < len(starts) else None
    if lower and upper:
        return f"({lower} - {upper})"
    if lower:
        return lower
    return f"(1 - {upper})"


def _piecewise_terms(starts: list[int], values: list[str], zero: list[bool]) -> list[str]:
    """The terms ``values[k] * window_k``, leaving out windows whose value is zero."""
    if len(starts) == 1:
        return [] if zero[0] else [values[0]]
    return [f"{value} * {_window_code(starts, k)}"
            for k, (value, is_zero) in enumerate(zip(values, zero, strict=True))
            if not is_zero]


#: Windows per derived variable: pylems parses an expression in a time that grows
#: with the square of its length (1000 windows: 1.7 s, 2000: 7 s), so long
#: sums are split into parts (each exactly 0 or the value: their sum is exact)
_WINDOWS_PER_PART = 200


class _GroupRewriter:
    """Rewrites one NeuronGroup description (a deep copy) for the cell builder."""

    def __init__(self, group: dict, dt: float, n_steps: int):
        self.group = group
        self.owner = group["name"]
        self.dt = dt
        self.n_steps = n_steps
        self.taken = ({eq["name"] for eq in group["equations"]}
                      | set(group.get("namespace") or {}))
        self.group.setdefault("timed_operations", [])
        # what changes in time, for the refusal in the portable form
        self.group.setdefault("time_features", [])
        if self.group.get("initial_values") is None:
            self.group["initial_values"] = {}

    def new_name(self, base: str) -> str:
        name = base
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        return name

    def add_parameter(self, base: str, values, unit) -> str:
        name = self.new_name(base)
        self.group["equations"].append({
            "name": name, "type": "parameter", "unit": unit, "var_type": "float",
            "flags": ["constant"], "expr": None})
        self.group["initial_values"][name] = np.asarray(values, dtype=float)
        return name

    def add_subexpression(self, name: str, code: str, unit) -> None:
        self.group["equations"].append({
            "name": name, "type": "subexpression", "unit": unit, "var_type": "float",
            "flags": [], "expr": code})

    def add_piecewise(self, name: str, starts: list[int], values: list[str],
                      zero: list[bool], dim, factor: bool) -> None:
        """
        The subexpression ``name``: ``values[k]`` during window ``k``.

        ``values`` are numbers (``factor``: multiplied by 1 in the unit of
        ``dim``) or names of parameters with the unit.
        """
        unit = Quantity(1.0, dim=dim)
        # functions of time only: Brian's steps read them as constants (.method_steps)
        self.group.setdefault("time_subexpressions", []).append(name)
        terms = _piecewise_terms(starts, values, zero)
        if not terms:  # always zero
            terms, factor = ["0"], True
        suffix = self.unit_factor(name, dim) if factor else ""
        if len(terms) <= _WINDOWS_PER_PART:
            self.add_subexpression(name, f"({_balanced_sum(terms)}){suffix}", unit)
            return
        parts = []
        for first in range(0, len(terms), _WINDOWS_PER_PART):
            part = self.new_name(f"{name}__part{first // _WINDOWS_PER_PART}")
            self.group["time_subexpressions"].append(part)
            chunk = terms[first:first + _WINDOWS_PER_PART]
            self.add_subexpression(part, f"({_balanced_sum(chunk)}){suffix}", unit)
            parts.append(part)
        self.add_subexpression(name, _balanced_sum(parts), unit)

    def unit_factor(self, base: str, dim) -> str:
        """A namespace constant of 1 in the SI unit of ``dim`` (exact: a factor of 1.0)."""
        if dim is DIMENSIONLESS:
            return ""
        name = self.new_name(f"{base}__unit")
        self.group["namespace"][name] = Quantity(1.0, dim=dim)
        return f" * {name}"

    # -------------------------------------------------------------- TimedArray
    def timed_array(self, name: str, spec: dict, with_index: bool) -> str:
        values = spec["values"]
        dim = get_dimensions(values)
        array = np.asarray(values, dtype=float)
        if with_index != (spec["dimensions"] == 2):
            call = f"{name}(t, i)" if with_index else f"{name}(t)"
            raise UnsupportedFeatureError(
                self.owner, f"the call {call} of the {spec['dimensions']}-dimensional "
                f"TimedArray '{name}'")
        indices = timed_array_steps(array, float(spec["dt"]), self.dt, self.n_steps)
        step_values = array[indices]
        windows = _windows(step_values)
        starts = [first for first, _ in windows]
        sub_name = self.new_name(f"{name}__ti" if with_index else f"{name}__t")
        if with_index:
            n_cells = int(self.group["N"])
            if array.shape[1] != n_cells:
                raise UnsupportedFeatureError(
                    self.owner, f"the TimedArray '{name}' of {array.shape[1]} columns called "
                    f"with the index of {n_cells} cells")
            value_names, zero = [], []
            for position, (_, step) in enumerate(windows):
                column = step_values[step]
                zero.append(not np.any(column))
                value_names.append("" if zero[-1] else self.add_parameter(
                    f"{name}__v{position}", column, Quantity(1.0, dim=dim)))
            self.add_piecewise(sub_name, starts, value_names, zero, dim, factor=False)
        else:
            texts = [format_number(step_values[step], self.owner) for _, step in windows]
            zero = [step_values[step] == 0 for _, step in windows]
            self.add_piecewise(sub_name, starts, texts, zero, dim, factor=True)
        logger.debug(f"TimedArray '{name}' of '{self.owner}': {len(windows)} windows")
        return sub_name

    def replace_calls(self, code: str, timed: dict, calls: dict, context: str) -> str:
        """``code`` with every ``stim(t)``/``stim(t, i)`` replaced by its subexpression."""
        if not code or not any(name in code for name in timed):
            return code
        tree = ast.parse(code.strip(), mode="exec")
        owner = self.owner

        class Replace(ast.NodeTransformer):
            def visit_Call(inner, node):  # noqa: N805 -- the transformer is ``inner``
                inner.generic_visit(node)
                if not (isinstance(node.func, ast.Name) and node.func.id in timed):
                    return node
                name = node.func.id
                arguments = [ast.unparse(argument) for argument in node.args]
                if arguments not in (["t"], ["t", "i"]) or node.keywords:
                    raise UnsupportedFeatureError(
                        owner, f"the call {ast.unparse(node)} of the TimedArray '{name}' in "
                        f"{context}", "Only stim(t) and stim(t, i) can be exported.")
                key = (name, len(arguments) == 2)
                if key not in calls:
                    calls[key] = self.timed_array(name, timed[name], key[1])
                return ast.copy_location(ast.Name(calls[key], ast.Load()), node)

        tree = Replace().visit(tree)
        return "\n".join(ast.unparse(statement) for statement in tree.body)

    def rewrite_timed_arrays(self) -> None:
        namespace = self.group.get("namespace") or {}
        timed = {name: value for name, value in namespace.items()
                 if isinstance(value, dict) and value.get("type") == "TimedArray"}
        if not timed:
            return
        calls: dict = {}
        for equation in list(self.group["equations"]):
            if equation.get("expr"):
                equation["expr"] = self.replace_calls(
                    equation["expr"], timed, calls, f"the equation of {equation['name']}")
        for event, codes in (self.group.get("events") or {}).items():
            for key in ("threshold", "reset"):
                codes[key] = self.replace_calls(codes.get(key), timed, calls,
                                                f"the '{event}' {key}")
        if isinstance(self.group.get("refractory"), str):
            self.group["refractory"] = self.replace_calls(
                self.group["refractory"], timed, calls, "the refractoriness")
        for operation in self.group.get("run_regularly") or ():
            operation["code"] = self.replace_calls(
                operation["code"], timed, calls, f"the operation '{operation['name']}'")
        for name in timed:
            del namespace[name]
        self.group["time_features"] += [f"the TimedArray '{name}'"
                                        for name, _ in sorted(calls)]

    # -------------------------------------------------------------- operations
    def add_operation(self, code: str, first: int, period: int | None, slot: str,
                      context: str, cells: np.ndarray | None = None,
                      condition: str | None = None) -> None:
        mask = None
        if cells is not None and not np.all(cells):
            mask = self.add_parameter("operation__mask", cells.astype(float), 1)
        self.group["timed_operations"].append({
            "code": code, "first": int(first), "period": period, "slot": slot,
            "context": context, "mask": mask, "condition": condition})

    def rewrite_run_regularly(self, monitors: list) -> None:
        for operation in self.group.get("run_regularly") or ():
            name = operation["name"]
            when = operation["when"]
            if when in _START_SLOTS:
                slot = "start"
                rank = (_slot_rank(when), operation["order"], name)
                for monitor in monitors:
                    if monitor["source"]["group"] == self.owner and (
                            _slot_rank(monitor["when"]), monitor["order"],
                            monitor["name"]) < rank:
                        raise UnsupportedFeatureError(
                            name, f"a run_regularly operation scheduled after the StateMonitor "
                            f"'{monitor['name']}' in the same time step",
                            "jNeuroML records after the operation; give the operation a "
                            "lower 'order' (or the monitor a higher one).")
            elif when in _END_SLOTS:
                slot = "end"
            else:
                raise UnsupportedFeatureError(
                    name, f"a run_regularly operation in the '{when}' slot",
                    "Only operations before the state update (start) or after the resets "
                    "(end) can be exported.")
            period = int(round(float(operation["dt"]) / self.dt))
            target = operation["target"]
            cells = None
            if (target["start"], target["stop"]) != (0, int(self.group["N"])):
                cells = np.zeros(int(self.group["N"]), dtype=bool)
                cells[target["start"]:target["stop"]] = True
                if "i" in _names_in(operation["code"]):
                    raise UnsupportedFeatureError(
                        name, "the index 'i' in a run_regularly operation on a sub-group")
            self.add_operation(operation["code"], 0, period, slot,
                               f"the run_regularly operation '{name}'", cells)


def _names_in(code: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(code, mode="exec"))
            if isinstance(node, ast.Name)}


# ---------------------------------------------------------------------- #
# Timed operations in the cell builder
# ---------------------------------------------------------------------- #
def operation_targets(group: dict, owner: str) -> list[str]:
    """
    The variables the group's timed operations write (they must be state variables).

    Parameters
    ----------
    group : dict
        A NeuronGroup description rewritten by `~.run_changes.merge_runs`.
    owner : str
        The group's name, for errors.

    Returns
    -------
    list of str

    Examples
    --------
    >>> operation_targets({'timed_operations': [{'code': 'v = 0', 'context': 'x'}]}, 'g')
    ['v']
    """
    targets = []
    for operation in group.get("timed_operations") or ():
        for target, _, _ in parse_statements(operation["code"], owner, operation["context"]):
            if target not in targets:
                targets.append(target)
    return targets


def operation_code(group: dict) -> list[str]:
    """
    The code of the group's timed operations (statements and conditions).

    Parameters
    ----------
    group : dict
        A NeuronGroup description rewritten by `~.run_changes.merge_runs`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> operation_code({'timed_operations': [{'code': 'v = 0', 'condition': 'i < 2'}]})
    ['v = 0', 'i < 2']
    """
    code = []
    for operation in group.get("timed_operations") or ():
        code.append(operation["code"])
        if operation.get("condition"):
            code.append(operation["condition"])
    return code


def _check_targets(builder, operation) -> list:
    statements = parse_statements(operation["code"], builder.owner, operation["context"])
    allowed = set(builder.differential) | set(builder.parameters)
    read = set().union(*(_names_in(expr) for _, _, expr in statements))
    if operation.get("condition"):
        read |= _names_in(operation["condition"])
    for name in sorted(read & set(builder.carried)):
        raise UnsupportedFeatureError(
            builder.owner, f"the variable '{name}', which synapses add to, read by "
            f"{operation['context']}",
            "The synapses' part is only known during the state update.")
    for target, _, _ in statements:
        if target not in allowed or target in builder.carried:
            raise UnsupportedFeatureError(
                builder.owner, f"an assignment to '{target}' in {operation['context']}",
                "Timed operations can only change the group's parameters and state "
                "variables (not those synapses add to).")
    return statements


def _statements(builder, operation, handler, time_text: str, mask: str | None = None) -> None:
    mapping = builder.inlined(time_text)
    for target, op, expr in _check_targets(builder, operation):
        # one draw of rand() per cell and call of the operation, as in Brian
        value = render_expression(expr, mapping, builder.owner, operation["context"],
                                  builder.booleans, random=True)
        if op != "=":
            value = f"{target} {op[0]} ({value})"
        if mask is not None:
            # OnStart has no conditions: mask * new + (1 - mask) * old is exactly
            # the new value (mask 1) or the old one (mask 0)
            value = f"{mask} * ({value}) + (1 - {mask}) * {target}"
        handler.add(lems.StateAssignment(target, value))


def add_start_operations(builder, dynamics, on_start) -> None:
    """
    Declare the counters of the timed operations and run those due at step 0.

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        The builder of the group's cell type.
    dynamics : lems.Dynamics
        The cell type's dynamics.
    on_start : lems.OnStart
        The initial-state handler, after the initial values.

    Examples
    --------
    The cell builder calls it; an operation at step 0 runs in ``OnStart``:

    >>> from brian2 import ms, volt
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> operation = {'code': 'v = 0*volt', 'first': 0, 'period': 50, 'slot': 'start',
    ...              'context': 'the operation', 'mask': None, 'condition': None}
    >>> group = {'name': 'g', 'N': 1, 'refractory': None, 'events': {}, 'namespace': {},
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '-v/(10*ms)', 'unit': volt, 'var_type': 'float',
    ...                         'flags': []}],
    ...          'initial_values': {'v': [0.0]}, 'timed_operations': [operation]}
    >>> dynamics = build_cell_types(group, 0.1*ms).cell_type.dynamics
    >>> [(a.variable, a.value) for h in dynamics.event_handlers if not hasattr(h, 'test')
    ...  for a in h.actions]
    [('v', 'v_init'), ('v', '0 * volt'), ('operation0_next', '50')]
    """
    builder.operation_counters = []
    for number, operation in enumerate(builder.group.get("timed_operations") or ()):
        counter = builder.names.new(f"operation{number}_next")
        builder.operation_counters.append(counter)
        dynamics.add(lems.StateVariable(counter, "none"))
        first = operation["first"]
        if operation["slot"] == "start" and first == 0:
            # Brian runs it before the first state update (and before the monitors)
            if operation.get("condition"):  # pragma: no cover -- only between runs
                raise UnsupportedFeatureError(
                    builder.owner, f"{operation['context']} at t=0 with a condition")
            _statements(builder, operation, on_start, "t", operation.get("mask"))
            first = operation["period"] if operation["period"] else None
        on_start.add(lems.StateAssignment(counter, _NEVER if first is None else str(first)))


def add_operation_handlers(builder, dynamics) -> None:
    """
    The ``OnCondition`` s of the timed operations (after the threshold and reset).

    In a jNeuroML step, the conditions see the time ``t`` of the next Brian
    step: operations of the ``start`` slot of that step run here with ``t``,
    operations of the ``end`` slot of the step just computed with ``t - dt``.

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        The builder of the group's cell type.
    dynamics : lems.Dynamics
        The cell type's dynamics.

    Examples
    --------
    The cell builder calls it; the operation, then its counter, every 50 steps:

    >>> from brian2 import ms, volt
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> operation = {'code': 'v = 0*volt', 'first': 0, 'period': 50, 'slot': 'start',
    ...              'context': 'the operation', 'mask': None, 'condition': None}
    >>> group = {'name': 'g', 'N': 1, 'refractory': None, 'events': {}, 'namespace': {},
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '-v/(10*ms)', 'unit': volt, 'var_type': 'float',
    ...                         'flags': []}],
    ...          'initial_values': {'v': [0.0]}, 'timed_operations': [operation]}
    >>> dynamics = build_cell_types(group, 0.1*ms).cell_type.dynamics
    >>> [(h.test, [a.value for a in h.actions]) for h in dynamics.event_handlers
    ...  if hasattr(h, 'test')]  # doctest: +NORMALIZE_WHITESPACE
    [('t / dt .gt. operation0_next - 0.5', ['0 * volt']),
     ('t / dt .gt. operation0_next - 0.5', ['operation0_next + 50'])]
    """
    for operation, counter in zip(builder.group.get("timed_operations") or (),
                                  builder.operation_counters, strict=True):
        time_text = "t" if operation["slot"] == "start" else "(t - dt)"
        due = f"{time_text} / dt .gt. {counter} - 0.5"
        test = due
        if operation.get("mask"):
            test += f" .and. ({operation['mask']} .gt. 0.5)"
        if operation.get("condition"):
            test += " .and. (" + render_condition(
                operation["condition"], builder.inlined(time_text), builder.owner,
                operation["context"], builder.booleans) + ")"
        handler = lems.OnCondition(test)
        _statements(builder, operation, handler, time_text)
        dynamics.add(handler)
        # the counter moves on for every cell, whether the operation applied or not
        advance = lems.OnCondition(due)
        period = operation["period"]
        advance.add(lems.StateAssignment(
            counter, f"{counter} + {period}" if period else _NEVER))
        dynamics.add(advance)
