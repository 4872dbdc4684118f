"""
Consecutive runs as one simulation, for the NeuroML export.

`merge_runs` turns the descriptions of consecutive ``run()`` calls into the
description of one simulation: the first run's, with its NeuronGroups
rewritten by :mod:`.time_functions` (TimedArrays, run_regularly operations)
and with what changed between the runs switching at the run boundaries:

* an external constant of a NeuronGroup whose value changes becomes a
  piecewise-constant subexpression of time (exact, like a TimedArray);
* an assignment to a NeuronGroup variable (a constant, an array, an
  expression, on all cells, on some indices or under a condition) becomes a
  one-shot timed operation at the boundary step, before everything else in
  that step, as Brian assigns before the run.

A monitor created between runs is added to the description with the time
from which Brian records it (:mod:`.event_monitors`).

Every other change (another object added or removed, a changed ``dt``, a change
of synapses, inputs or monitors) is refused, naming the object and the
change. `refuse_in_portable_form` refuses all of this in the portable
(NEURON) form.
"""

from __future__ import annotations

import copy

import numpy as np
from brian2.units.fundamentalunits import get_dimensions

from brian2tools.baseexport import UnsupportedFeatureError

from .event_monitors import add_later_monitor
from .time_functions import _GroupRewriter, _names_in
from .units import format_number

__all__ = ["merge_runs", "refuse_in_portable_form"]


# ---------------------------------------------------------------------- #
# Changes between runs
# ---------------------------------------------------------------------- #
def _refuse_change(change: dict, previous: dict, run: dict, hint: str | None = None):
    detail = f" ({change['detail']})" if change.get("detail") else ""
    return UnsupportedFeatureError(
        change["object"],
        f"a change between run {previous['index']} and run {run['index']}: "
        f"{change['kind']}{detail}",
        hint or "The NeuroML export supports changes of NeuronGroup variables and of "
        "constants used by NeuronGroups between runs.")


def _assignment_operation(rewriter: _GroupRewriter, data: dict, step: int, where: str):
    """An assignment between runs as a one-shot operation at the boundary step."""
    variable = data["variable"]
    n_cells = int(rewriter.group["N"])
    start, stop = int(data["group"]["start"]), int(data["group"]["stop"])
    index = data["index"]
    equation = next((eq for eq in rewriter.group["equations"] if eq["name"] == variable), None)
    if equation is None or equation["type"] not in ("parameter", "differential equation"):
        raise UnsupportedFeatureError(
            rewriter.owner, f"the assignment to '{variable}' {where}",
            "Only parameters and state variables of the equations can be changed between runs.")
    cells = np.zeros(n_cells, dtype=bool)
    condition = None
    if isinstance(index, str):
        if (start, stop) != (0, n_cells):
            raise UnsupportedFeatureError(
                rewriter.owner, f"the conditional assignment to '{variable}' on a sub-group "
                f"{where}")
        cells[:] = True
        condition = index
        chosen = np.arange(n_cells)
    elif index is None:
        chosen = np.arange(start, stop)
    else:
        chosen = start + np.asarray(index, dtype=np.int64)
    cells[chosen] = True
    kind, value = data["kind"], data["value"]
    if kind == "expression":
        if (start, stop) != (0, n_cells) and "i" in _names_in(value):
            raise UnsupportedFeatureError(
                rewriter.owner, f"the index 'i' in the assignment to '{variable}' on a "
                f"sub-group {where}")
        for name, constant in (data.get("namespace") or {}).items():
            _add_constant(rewriter, name, constant, where)
        code = f"{variable} = {value}"
    elif kind == "constant":
        name = rewriter.new_name(f"{variable}__set")
        rewriter.group["namespace"][name] = value
        code = f"{variable} = {name}"
    elif kind == "array":
        full = np.zeros(n_cells)
        full[chosen] = np.broadcast_to(np.asarray(value, dtype=float), chosen.shape)
        name = rewriter.add_parameter(f"{variable}__set", full, equation["unit"])
        code = f"{variable} = {name}"
    else:  # pragma: no cover -- the log knows these three kinds only
        raise UnsupportedFeatureError(rewriter.owner, f"an assignment of kind {kind!r} {where}")
    rewriter.add_operation(code, step, None, "start", f"the assignment to '{variable}' {where}",
                           cells, condition)


def _add_constant(rewriter: _GroupRewriter, name: str, value, where: str) -> None:
    namespace = rewriter.group["namespace"]
    if name in namespace and not _equal(namespace[name], value):
        raise UnsupportedFeatureError(
            rewriter.owner, f"the name '{name}' with another value in the assignment {where}")
    namespace[name] = value
    rewriter.taken.add(name)


def _equal(first, second) -> bool:
    if isinstance(first, dict) or isinstance(second, dict):  # TimedArrays
        return (isinstance(first, dict) and isinstance(second, dict)
                and first.keys() == second.keys()
                and all(_equal(first[key], second[key]) for key in first))
    if isinstance(first, str) or isinstance(second, str):
        return first == second
    return (get_dimensions(first) is get_dimensions(second)
            and np.array_equal(np.asarray(first), np.asarray(second)))


def _timed_constant(rewriter: _GroupRewriter, name: str, values: list, boundaries: list[int]):
    """A namespace constant whose value changes at run boundaries, as a subexpression."""
    dim = get_dimensions(values[0])
    for value in values:
        if isinstance(value, dict) or np.ndim(value) != 0:
            raise UnsupportedFeatureError(
                rewriter.owner, f"a change of '{name}' between runs (not a scalar constant)")
    numbers = [float(np.asarray(value)) for value in values]
    starts, texts, zero = [0], [format_number(numbers[0], rewriter.owner)], [numbers[0] == 0]
    previous = numbers[0]
    for boundary, number in zip(boundaries, numbers[1:], strict=True):
        if number != previous:
            starts.append(boundary)
            texts.append(format_number(number, rewriter.owner))
            zero.append(number == 0)
        previous = number
    del rewriter.group["namespace"][name]
    rewriter.add_piecewise(name, starts, texts, zero, dim, factor=True)
    rewriter.group["time_features"].append(f"the change of '{name}' between runs")


def refuse_in_portable_form(groups) -> None:
    """
    Refuse, naming the group and the feature, what changes in time in the portable form.

    NEURON (through jNeuroML's NEURON writer) evaluates expressions of time and
    tests conditions that do not involve ``v`` in the middle of a step,
    where jNeuroML uses its end; the piecewise-constant functions and the
    step counters of this module are exact in jNeuroML only (measured with
    NEURON 9: a TimedArray input 8 mV away from Brian, run_regularly spikes
    shifted, assignments between runs not compiled).

    Parameters
    ----------
    groups : iterable of dict
        The NeuronGroup descriptions rewritten by `merge_runs`.

    Raises
    ------
    UnsupportedFeatureError
        For the first group with a TimedArray, a run_regularly operation or a
        change between runs.

    Examples
    --------
    >>> refuse_in_portable_form([{'name': 'g', 'time_features': []}])
    """
    for group in groups:
        features = list(group.get("time_features") or ())
        features += [operation["context"] for operation in group.get("timed_operations") or ()]
        if features:
            raise UnsupportedFeatureError(
                group["name"], f"{features[0]} in the portable (NEURON-ready) form",
                "NEURON evaluates functions of time and conditions in the middle of a step, "
                "jNeuroML at its end: export the model in the default form (jNeuroML).")


def merge_runs(runs: list[dict]) -> dict:
    """
    One description for consecutive runs: the first run's, with what changes in time.

    Parameters
    ----------
    runs : list of dict
        The descriptions of consecutive runs (see :doc:`/export_format`).

    Returns
    -------
    description : dict
        A copy of the first description whose NeuronGroups have their
        TimedArrays, run_regularly operations and changes between runs
        rewritten (subexpressions, parameters and ``'timed_operations'``).

    Raises
    ------
    UnsupportedFeatureError
        For a change that cannot be exported (an object added or removed, a
        changed dt, a change of a non-NeuronGroup object, ...), naming the
        object and the change.
    ValueError
        If ``runs`` is empty.

    Examples
    --------
    >>> from brian2 import NeuronGroup, StateMonitor, ms, nA, run, set_device, device
    >>> set_device('exporter')
    >>> group = NeuronGroup(1, 'dv/dt = (I*Mohm - v)/(10*ms) : volt', name='cell')
    >>> I = 0*nA
    >>> run(5*ms)
    >>> I = 1*nA
    >>> run(5*ms)
    >>> merged = merge_runs(device.runs)
    >>> [eq['name'] for eq in merged['neurongroups'][0]['equations']]
    ['v', 'I']
    """
    if not runs:
        raise ValueError("No run to export: the list of model descriptions is empty.")
    first = runs[0]
    description = dict(first)
    dt = float(first["dt"])
    n_steps = sum(int(round(float(run["duration"]) / dt)) for run in runs)
    groups = [copy.deepcopy(group) for group in first.get("neurongroups") or ()]
    description["neurongroups"] = groups
    rewriters = {group["name"]: _GroupRewriter(group, dt, n_steps) for group in groups}
    # constants that change between runs: name -> values of each run
    constants: dict[tuple[str, str], list] = {}
    boundaries = []
    for previous, run in zip(runs, runs[1:], strict=False):
        if float(run["dt"]) != dt:
            raise UnsupportedFeatureError(
                "network", f"a change of dt between run {previous['index']} and run "
                f"{run['index']}")
        boundary = int(round(float(run["t_start"]) / dt))
        boundaries.append(boundary)
        where = f"between run {previous['index']} and run {run['index']}"
        for change in run.get("changes") or ():
            if change["kind"] == "added" and add_later_monitor(description, run,
                                                               change["object"]):
                continue  # a monitor created between runs: recorded in its window
            rewriter = rewriters.get(change["object"])
            if rewriter is None or change["kind"] not in ("assignment", "namespace"):
                raise _refuse_change(change, previous, run)
            if change["kind"] == "assignment":
                _assignment_operation(rewriter, change["initializer"], boundary, where)
        for group in run.get("neurongroups") or ():
            old = next(g for g in first["neurongroups"] if g["name"] == group["name"])
            for name, value in (group.get("namespace") or {}).items():
                if name in old["namespace"] and not _equal(old["namespace"][name], value):
                    if isinstance(value, dict):
                        raise UnsupportedFeatureError(
                            group["name"], f"a TimedArray '{name}' replaced {where}")
                    constants.setdefault((group["name"], name), [])
    for group_name, name in constants:
        values = [next(g for g in run["neurongroups"] if g["name"] == group_name)
                  ["namespace"][name] for run in runs]
        _timed_constant(rewriters[group_name], name, values, boundaries)
    monitors = list(description.get("statemonitors") or ())
    for rewriter in rewriters.values():
        rewriter.rewrite_timed_arrays()
        rewriter.rewrite_run_regularly(monitors)
    return description
