"""
Point currents of a SpatialNeuron driven by a `TimedArray` of time.

A point current written as an expression of one ``TimedArray`` of ``t``
(``I = stim(t)*int(i == 0) : amp (point current)``) is piecewise constant:
it changes only where Brian's index into the array changes. Each piece
becomes, in each compartment where it is not zero, a ``pulseGenerator``
that starts and stops with it, the same form as a constant point current
changed between runs (:mod:`.spatial_runs`). The pieces start at the
simulation steps where Brian's value changes, found with Brian's own rule
(`.time_functions.timed_array_steps`), and the expression is evaluated for
each piece and compartment with Brian's values (``i`` the compartment index,
constants, the compartments' parameters).

Refused by name: other functions of time, a TimedArray of more than time,
calls with another argument than ``t``, and expressions that read a
variable that changes during the simulation (``v``, gating variables).
"""

from __future__ import annotations

import ast

import numpy as np
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from .spatial_channels import _numeric_functions, _symbol_values
from .time_functions import timed_array_steps

__all__ = ["timed_point_current", "calls_timed_array"]

logger = get_logger(__name__)


def _timed_arrays(neuron: dict) -> dict:
    return {name: value for name, value in (neuron.get("namespace") or {}).items()
            if isinstance(value, dict) and value.get("type") == "TimedArray"}


def calls_timed_array(neuron: dict, expr: str) -> bool:
    """
    Whether ``expr`` uses a TimedArray of the neuron's namespace.

    Parameters
    ----------
    neuron : dict
        The SpatialNeuron's description.
    expr : str
        Code of the neuron.

    Returns
    -------
    bool

    Examples
    --------
    >>> neuron = {'namespace': {'stim': {'type': 'TimedArray'}}}
    >>> calls_timed_array(neuron, 'stim(t)*2'), calls_timed_array(neuron, 'g*(E - v)')
    (True, False)
    """
    names = {node.id for node in ast.walk(ast.parse(expr.strip(), mode="eval"))
             if isinstance(node, ast.Name)}
    return bool(names & set(_timed_arrays(neuron)))


def timed_point_current(neuron: dict, current: str, duration: float,
                        dt: float) -> list[tuple[float, float, np.ndarray]]:
    """
    The pieces of a point current given by an expression of a TimedArray of time.

    Parameters
    ----------
    neuron : dict
        The SpatialNeuron's description.
    current : str
        The name of the point current (a subexpression of the neuron).
    duration : float
        The simulated time (seconds, all runs).
    dt : float
        The time step (seconds).

    Returns
    -------
    list of (float, float, ndarray)
        For each piece: its start and duration (seconds) and the current in
        each compartment (ampere).

    Raises
    ------
    UnsupportedFeatureError
        If the expression is not one of a TimedArray of ``t``, or reads a
        variable that changes during the simulation.

    Examples
    --------
    >>> from brian2 import nA, ms
    >>> stim = {'type': 'TimedArray', 'name': 'stim', 'values': [0, 2, 0]*nA, 'dt': 1*ms,
    ...         'dimensions': 1}
    >>> neuron = {'name': 'cell', 'N': 2, 'namespace': {'stim': stim}, 'initial_values': {},
    ...           'Cm': [0.01, 0.01], 'equations': [
    ...               {'name': 'I', 'type': 'subexpression', 'expr': 'stim(t)*int(i == 1)'}]}
    >>> [(round(start, 6), values.tolist()) for start, _, values in
    ...  timed_point_current(neuron, 'I', 0.004, 0.0005)]
    [(0.0, [0.0, 0.0]), (0.001, [0.0, 2e-09]), (0.002, [0.0, 0.0])]
    """
    name = neuron["name"]
    equation = next(eq for eq in neuron["equations"] if eq["name"] == current)
    expr = equation["expr"]

    def refuse(reason: str) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(
            name, f"the point current '{current} = {expr}'",
            f"{reason} Exported point currents: constants (also changed between runs), "
            "expressions of one TimedArray of t, and exponential conductance synapses.")

    arrays = _timed_arrays(neuron)
    tree = ast.parse(expr.strip(), mode="eval")
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id in arrays]
    used = {node.func.id for node in calls}
    if len(used) != 1:
        raise refuse("It is not an expression of one TimedArray.")
    array_name = used.pop()
    array = arrays[array_name]
    if int(array.get("dimensions", 1)) != 1:
        raise refuse(f"'{array_name}' is a TimedArray of time and index.")
    for call in calls:
        if len(call.args) != 1 or not isinstance(call.args[0], ast.Name) or \
                call.args[0].id != "t" or call.keywords:
            raise refuse(f"'{ast.unparse(call)}' calls the TimedArray with another "
                         "argument than t.")
    # every other name must keep its value during the simulation
    values = _symbol_values(neuron)
    functions = _numeric_functions()
    # v, the state variables, the subexpressions and the point currents change
    changing = {"v"} | set(neuron.get("point_currents") or ()) | {
        eq["name"] for eq in neuron["equations"] if eq["type"] != "parameter"}
    steady = (set(values) - changing) | set(functions) | {"i", array_name}
    calls_ids = {id(node) for call in calls for node in (call.func, *call.args)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in calls_ids and node.id not in steady:
            raise refuse(f"It reads '{node.id}', which is not a constant"
                         f"{' outside the TimedArray' if node.id == 't' else ''}.")
    n_steps = int(round(duration / dt))
    array_values = np.asarray(array["values"], dtype=float)
    indices = timed_array_steps(array_values, float(array["dt"]), dt, n_steps)
    starts = [0] + [step for step in range(1, n_steps) if indices[step] != indices[step - 1]]
    code = compile(tree, f"<point current {current}>", "eval")
    compartments = np.arange(int(neuron["N"]))
    pieces = []
    for position, start in enumerate(starts):
        stop = starts[position + 1] if position + 1 < len(starts) else n_steps
        value = array_values[indices[start]]
        namespace = {**values, **functions, "i": compartments, "t": start * dt,
                     array_name: lambda t, value=value: value}
        try:
            current_values = eval(code, {"__builtins__": {}}, namespace)  # noqa: S307
        except Exception as error:  # the user's expression, already accepted by Brian
            raise refuse(f"It could not be evaluated ({error}).") from None
        pieces.append((start * dt, (stop - start) * dt,
                       np.broadcast_to(np.asarray(current_values, dtype=float),
                                       compartments.shape).copy()))
    logger.debug(f"point current '{current}' of '{name}': {len(pieces)} pieces of "
                 f"the TimedArray '{array_name}'")
    return pieces
