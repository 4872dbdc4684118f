"""
NeuronGroups on a clock of their own, in the jNeuroML form of the export.

Brian runs a group on a `Clock` with ``dt_g = k * dt`` (``dt`` the
simulation's step, ``k`` a whole number) only at its own steps ``t = 0,
dt_g, 2*dt_g, ...``: its state update (with ``dt_g`` as the integration step
and as the value of ``dt`` in its code), its threshold and its reset. The
exported model has one time step, ``dt``; the cell type of such a group
counts the steps of the simulation (the state variable ``clock_count``, the
step's index modulo ``k``) and

* multiplies every ``TimeDerivative`` by ``k`` on its own steps and by 0 on
  the others: jNeuroML's forward Euler step ``x += dt * k * f`` is Brian's
  ``x += dt_g * f`` on the own steps, and the state stays as it is between
  them;
* tests the threshold (and so runs the reset) only on its own steps;
  refractoriness counts the group's own steps (Brian's ``timestep(t -
  lastspike, dt_g)``, :mod:`.refractoriness`).

Brian's ``dt`` in the group's code is the constant ``clock_dt`` (``dt_g``);
the cell type's ``dt`` stays the simulation's step, which the exporter uses
for Brian's time (``t - dt``). Monitors that record a group on its own clock
(a ``SpikeMonitor`` on the group's clock, a ``StateMonitor`` whose ``dt`` is
a multiple of ``dt``) are recorded at every step and sampled as Brian does
(:mod:`.results`).

What this cannot write exactly is refused by name (`check_clocks`): a
``dt_g`` that is not a whole multiple of ``dt``, objects other than
NeuronGroups and their monitors on another clock, own-clock groups with
noise, synapses from or onto them,
PoissonInputs, TimedArrays, ``run_regularly`` operations or changes between
runs, and runs whose durations are not
whole multiples of ``dt_g`` (Brian's clock then restarts off its grid).
"""

from __future__ import annotations

from collections.abc import Mapping

import lems.api as lems
import numpy as np
from brian2 import second
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from .time_functions import STEP_FUNCTION

__all__ = ["clock_steps", "check_clocks", "monitor_steps", "start_clock", "gate_derivative",
           "gate_condition", "add_clock_counter"]

logger = get_logger(__name__)

#: the object lists whose items may run on the clock of their NeuronGroup
_GROUP_MONITORS = ("spikemonitors",)


def clock_steps(item: Mapping, dt: float) -> int | None:
    """
    How many simulation steps make one step of an object's own clock.

    Parameters
    ----------
    item : dict
        The object's description (its ``'clock'`` entry, if any).
    dt : float
        The simulation's time step in seconds.

    Returns
    -------
    int or None
        ``k`` with ``clock dt = k * dt``, or ``None`` for an object on the
        simulation's clock.

    Raises
    ------
    UnsupportedFeatureError
        If the clock's ``dt`` is not a whole multiple of ``dt``.

    Examples
    --------
    >>> from brian2 import ms
    >>> clock_steps({'name': 'slow', 'clock': {'name': 'c', 'dt': 1*ms}}, 0.1e-3)
    10
    >>> clock_steps({'name': 'fast'}, 0.1e-3) is None
    True
    """
    clock = item.get("clock")
    if not clock:
        return None
    return _whole_steps(item["name"], f"its own clock '{clock['name']}'", clock["dt"], dt)


def _whole_steps(owner: str, what: str, value, dt: float) -> int:
    if value is None:
        raise UnsupportedFeatureError(owner, f"{what} without a dt")
    ratio = float(value) / float(dt)
    steps = int(round(ratio))
    if steps < 1 or not np.isclose(ratio, steps, rtol=1e-9, atol=0):
        raise UnsupportedFeatureError(
            owner, f"{what} with dt={value!s}, not a whole multiple of the simulation's "
                   f"dt={dt * second!s}",
            "The NeuroML export runs other clocks on the steps of the simulation: use a dt "
            "that is a whole multiple of the default clock's dt.")
    return steps


def monitor_steps(monitor: Mapping, dt: float) -> int:
    """
    How many simulation steps lie between two samples of a StateMonitor.

    Parameters
    ----------
    monitor : dict
        The StateMonitor's description (``'dt'`` or ``'clock'``).
    dt : float
        The simulation's time step in seconds.

    Returns
    -------
    int
        1 for a monitor that records every step.

    Raises
    ------
    UnsupportedFeatureError
        If the monitor's ``dt`` is not a whole multiple of ``dt``.

    Examples
    --------
    >>> from brian2 import ms
    >>> monitor_steps({'name': 'm', 'dt': 1*ms}, 0.1e-3)
    10
    """
    if monitor.get("clock"):
        return clock_steps(monitor, dt)
    if monitor.get("dt") is None:
        return 1
    return _whole_steps(monitor["name"], "a recording time step", monitor["dt"], dt)


def check_clocks(description: Mapping, dt: float, portable: bool = False,
                 durations=()) -> dict[str, int]:
    """
    Refuse, by name, the own clocks the export cannot write exactly.

    Parameters
    ----------
    description : dict
        The merged description of the runs (:mod:`.run_changes`).
    dt : float
        The simulation's time step in seconds.
    portable : bool, optional
        The portable (NEURON) form, which does not write own clocks.
    durations : iterable of Quantity, optional
        The durations of the merged runs: each must be a whole number of the
        steps of every own clock.

    Returns
    -------
    dict
        Name of each NeuronGroup on its own clock -> its steps ``k``.

    Raises
    ------
    UnsupportedFeatureError
        For the first object that cannot be written, naming it.

    Examples
    --------
    >>> from brian2 import ms
    >>> group = {'name': 'slow', 'clock': {'name': 'c', 'dt': 1*ms}, 'equations': []}
    >>> check_clocks({'neurongroups': [group]}, 0.1e-3)
    {'slow': 10}
    """
    steps = {}
    for group in description.get("neurongroups") or ():
        k = clock_steps(group, dt)
        if k is None or k == 1:
            continue
        if portable:
            raise UnsupportedFeatureError(
                group["name"], f"its own clock '{group['clock']['name']}' in the portable "
                               "(NEURON-ready) form",
                "NEURON integrates every cell with one time step; export the model in the "
                "default form (jNeuroML), which runs the group on its own steps.")
        _check_group(group, description, durations)
        steps[group["name"]] = k
    for key, items in description.items():
        if not isinstance(items, list):
            continue
        for item in items:
            if not isinstance(item, Mapping) or not item.get("clock") or \
                    item.get("name") in steps:
                continue
            source = (item.get("source") or {}).get("group") if key in _GROUP_MONITORS else None
            k = clock_steps(item, dt)
            if source is not None and steps.get(source) == k:
                continue  # a SpikeMonitor on its group's clock records the group's spikes
            if key == "statemonitors" and k is not None:
                continue  # sampled every k steps (results.py)
            raise UnsupportedFeatureError(
                item["name"], f"its own clock '{item['clock']['name']}' with "
                              f"dt={item['clock']['dt']!s}",
                "The NeuroML export runs NeuronGroups (with their spike monitors) and "
                "StateMonitors on clocks of their own; give this object the default clock.")
    return steps


def _check_group(group: Mapping, description: Mapping, durations) -> None:
    name, clock = group["name"], group["clock"]

    def refuse(feature: str) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(
            name, f"its own clock '{clock['name']}' together with {feature}",
            "The export runs a group on its own clock for a deterministic update without "
            "synapses or inputs that change in time; give the group the default clock.")

    if group.get("run_regularly") or group.get("timed_operations"):
        raise refuse("run_regularly operations or changes between runs")
    for equation in group.get("equations") or ():
        if equation.get("stochastic_variables") or "xi" in str(equation.get("expr") or ""):
            raise refuse(f"the noise in the equation of '{equation['name']}'")
        if f"{STEP_FUNCTION}(" in str(equation.get("expr") or ""):
            # windows of simulation steps (t/dt), while dt is the group's own step here
            raise refuse("a TimedArray or a constant that changes between runs")
    for synapses in description.get("synapses") or ():
        if name in ((synapses.get("target") or {}).get("group"),
                    (synapses.get("source") or {}).get("group")):
            raise refuse(f"the synapses '{synapses['name']}' (its spikes or inputs)")
    for inputs in description.get("poissoninputs") or ():
        if (inputs.get("target") or {}).get("group") == name:
            raise refuse(f"the PoissonInput '{inputs['name']}'")
    for duration in durations:
        ratio = float(duration) / float(clock["dt"])
        if not np.isclose(ratio, round(ratio), rtol=1e-9, atol=0):
            raise refuse(f"a run of {duration!s}, not a whole multiple of its dt")


def gate_derivative(builder, expr: str) -> str:
    """
    The derivative of a group on its own clock: ``k`` times it on own steps, else 0.

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        The builder of the group's cell type (after `start_clock`).
    expr : str
        The LEMS code of the derivative.

    Returns
    -------
    str
        ``expr`` itself for a group on the simulation's clock.

    Examples
    --------
    >>> from brian2 import ms, volt
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> group = {'name': 'slow', 'N': 1, 'refractory': None, 'namespace': {},
    ...          'clock': {'name': 'c', 'dt': 1*ms},
    ...          'events': {'spike': {'threshold': 'v > 1*volt', 'reset': 'v = 0*volt'}},
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '(2*volt - v)/(10*ms)', 'unit': volt, 'var_type': 'float',
    ...                         'flags': []}], 'initial_values': {'v': [0.0]}}
    >>> dynamics = build_cell_types(group, 0.1*ms).cell_type.dynamics
    >>> [d.value for d in dynamics.time_derivatives]
    ['(1 - H(clock_count - 0.5)) * 10 * ((2 * volt - v) / (10 * ms))']
    """
    if not getattr(builder, "clock", None):
        return expr
    return f"{_gate(builder)} * {builder.clock} * ({expr})"


def gate_condition(builder, test: str) -> str:
    """
    A threshold tested only on the group's own steps.

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        The builder of the group's cell type (after `start_clock`).
    test : str
        The LEMS condition of the threshold.

    Returns
    -------
    str
        ``test`` itself for a group on the simulation's clock.

    Examples
    --------
    >>> from brian2 import ms, volt
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> group = {'name': 'slow', 'N': 1, 'refractory': None, 'namespace': {},
    ...          'clock': {'name': 'c', 'dt': 1*ms},
    ...          'events': {'spike': {'threshold': 'v > 1*volt', 'reset': 'v = 0*volt'}},
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '(2*volt - v)/(10*ms)', 'unit': volt, 'var_type': 'float',
    ...                         'flags': []}], 'initial_values': {'v': [0.0]}}
    >>> dynamics = build_cell_types(group, 0.1*ms).cell_type.dynamics
    >>> dynamics.event_handlers[1].test
    '(v .gt. 1 * volt) .and. ((1 - H(clock_count - 0.5)) .gt. 0.5)'
    """
    if not getattr(builder, "clock", None):
        return test
    return f"({test}) .and. ({_gate(builder)} .gt. 0.5)"


def _gate(builder) -> str:
    # 1 on the group's own steps (count 0), 0 on the others
    return f"(1 - H({builder.clock_count} - 0.5))"


def start_clock(builder, identifiers: dict) -> None:
    """
    Declare the group's own clock in its cell type (the cell builder calls it).

    Sets ``builder.clock`` (``k``, or ``None`` for the simulation's clock) and
    maps Brian's ``dt`` of the group's code to the constant of its clock's step.

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        The builder of the group's cell type.
    identifiers : dict
        Brian name -> LEMS name of the group's code; ``'dt'`` is changed.

    Examples
    --------
    >>> from brian2 import ms, volt
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> group = {'name': 'slow', 'N': 1, 'refractory': None, 'namespace': {},
    ...          'clock': {'name': 'c', 'dt': 1*ms},
    ...          'events': {'spike': {'threshold': 'v > 1*volt', 'reset': 'v = 0*volt'}},
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '(2*volt - v)/(10*ms)', 'unit': volt, 'var_type': 'float',
    ...                         'flags': []}], 'initial_values': {'v': [0.0]}}
    >>> cell = build_cell_types(group, 0.1*ms).cell_type
    >>> [(c.name, c.value) for c in cell.constants if c.name == 'clock_dt']
    [('clock_dt', '1 ms')]
    """
    group = builder.group
    k = clock_steps(group, builder.dt)
    builder.clock = k if k and k > 1 else None
    if not builder.clock:
        return
    name = builder.names.new("clock_dt")
    builder.constant(name, group["clock"]["dt"])
    identifiers["dt"] = name
    builder.clock_count = builder.names.new("clock_count")


def add_clock_counter(builder, dynamics, on_start) -> None:
    """
    Count the simulation's steps modulo ``k`` (after the threshold and reset).

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        The builder of the group's cell type (after `start_clock`).
    dynamics : lems.Dynamics
        The cell type's dynamics.
    on_start : lems.OnStart
        The initial-state handler (the count starts at 0: an own step).

    Examples
    --------
    >>> from brian2 import ms, volt
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> group = {'name': 'slow', 'N': 1, 'refractory': None, 'namespace': {},
    ...          'clock': {'name': 'c', 'dt': 1*ms},
    ...          'events': {'spike': {'threshold': 'v > 1*volt', 'reset': 'v = 0*volt'}},
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '(2*volt - v)/(10*ms)', 'unit': volt, 'var_type': 'float',
    ...                         'flags': []}], 'initial_values': {'v': [0.0]}}
    >>> dynamics = build_cell_types(group, 0.1*ms).cell_type.dynamics
    >>> [a.value for a in dynamics.event_handlers[-1].actions]
    ['(clock_count + 1) * H(10 - 1.5 - clock_count)']
    """
    if not getattr(builder, "clock", None):
        return
    count = builder.clock_count
    dynamics.add(lems.StateVariable(count, "none"))
    on_start.add(lems.StateAssignment(count, "0"))
    advance = lems.OnCondition("t .geq. 0")
    # count + 1, back to 0 after k - 1 (H is exactly 0 or 1 half a count away)
    advance.add(lems.StateAssignment(count, f"({count} + 1) * H({builder.clock} - 1.5 - {count})"))
    dynamics.add(advance)
