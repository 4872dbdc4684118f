"""
Monitors of custom events, of values at event times and of the thresholds slot.

The export side (:mod:`.lemsexport` calls it) and the reading side
(:mod:`.results`) of what :mod:`.custom_events` adds to the cell types:

* an ``EventMonitor(G, 'high')`` is an ``EventOutputFile`` whose
  ``EventSelection`` s select the cells' port ``high`` (jNeuroML's event
  writer records the events of any port; it reports them one step after
  Brian, like spikes);
* the ``variables`` of a SpikeMonitor or EventMonitor: Brian records their
  value after the state update and before the reset. jNeuroML's event files
  hold only times and indices, so the exported model also records, at every
  step, the cells' ``<variable>__thresholds`` (the value of that slot) into
  ``<monitor>__values``; the reader takes, for each event, the value of its
  step;
* a StateMonitor with ``when='thresholds'`` (or ``'before_thresholds'``,
  ``'after_thresholds'``: the same state) records the same
  ``<variable>__thresholds`` state variables, one step later in jNeuroML's
  file than a ``'start'`` recording;
* a monitor created between two ``run()`` calls (see `add_later_monitor`)
  records from the start of the one simulation; the reader keeps Brian's
  window, from the start of the run that created it.

None of this is written in the portable (NEURON) form, where it has not
been verified: `refuse_in_portable_form` refuses it by name.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from . import supporting
from .custom_events import captured_name

__all__ = ["THRESHOLD_SLOTS", "captured_variables", "event_lag", "thresholds_view", "add_event_values",
           "values_id", "add_later_monitor", "window_note", "refuse_in_portable_form",
           "monitor_windows", "event_values", "fill_event_values"]

logger = get_logger(__name__)

#: StateMonitor slots that see the state after the update, before resets and synapses
THRESHOLD_SLOTS = ("before_thresholds", "thresholds", "after_thresholds")
_MONITOR_LISTS = ("statemonitors", "spikemonitors", "ratemonitors")
_SCHEDULE = ("start", "groups", "thresholds", "synapses", "resets", "end")


def _slot_rank(when: str) -> int:
    """Brian's position of a scheduling slot (``before_x``, ``x``, ``after_x``)."""
    for prefix, offset in (("before_", 0), ("after_", 2)):
        if when.startswith(prefix) and when[len(prefix):] in _SCHEDULE:
            return 3 * _SCHEDULE.index(when[len(prefix):]) + offset
    return 3 * _SCHEDULE.index(when) + 1 if when in _SCHEDULE else -1


def event_lag(monitor: dict) -> int:
    """
    Whether Brian's monitor records the events of the step before (1) or of its step (0).

    Brian tests the spike in the ``thresholds`` slot and a custom event in
    ``after_thresholds`` (order 0, objects of a slot by name); a monitor
    scheduled before that test (an ``EventMonitor`` of a sub-group takes the
    sub-group's ``thresholds`` slot) reads the events of the previous step
    and stamps them with its own step's time.

    Parameters
    ----------
    monitor : dict
        A SpikeMonitor or EventMonitor description.

    Returns
    -------
    int

    Examples
    --------
    >>> event_lag({'event': 'spike', 'when': 'thresholds', 'order': 1, 'name': 'spikes',
    ...            'source': {'group': 'g'}})
    0
    >>> event_lag({'event': 'up', 'when': 'thresholds', 'order': 2, 'name': 'up',
    ...            'source': {'group': 'g'}})
    1
    """
    event = monitor.get("event", "spike")
    test_slot = "thresholds" if event == "spike" else "after_thresholds"
    group = (monitor.get("source") or {}).get("group", "")
    test = (_slot_rank(test_slot), 0, f"{group}_{event}_thresholder")
    own = (_slot_rank(monitor.get("when") or test_slot), int(monitor.get("order") or 0),
           monitor["name"])
    return int(own < test)


def captured_variables(groups: dict, state_monitors, event_monitors) -> dict[str, set]:
    """
    The variables each group must keep from the thresholds slot, checking the monitors.

    Parameters
    ----------
    groups : dict
        Group name -> NeuronGroup description.
    state_monitors, event_monitors : list of dict
        The StateMonitors, and the SpikeMonitors and EventMonitors.

    Returns
    -------
    dict
        Group name -> set of variable names.

    Raises
    ------
    UnsupportedFeatureError
        For an EventMonitor of an event that its group does not define,
        variables recorded at the spikes of a spike source (``PoissonGroup``,
        ...), or variables recorded by a monitor outside the thresholds
        slots.

    Examples
    --------
    >>> groups = {'g': {'events': {'spike': {}}}}
    >>> spikes = {'name': 's', 'event': 'spike', 'variables': ['v'], 'source': {'group': 'g'}}
    >>> captured_variables(groups, [], [spikes])
    {'g': {'v'}}
    """
    captured = {name: set() for name in groups}
    for monitor in state_monitors:
        if "event" not in monitor and monitor.get("when", "start") in THRESHOLD_SLOTS:
            captured[monitor["source"]["group"]].update(monitor["variables"])
    for monitor in event_monitors:
        group = monitor["source"]["group"]
        if group not in groups:
            if monitor.get("variables"):
                raise UnsupportedFeatureError(
                    monitor["name"], f"the recording of {', '.join(monitor['variables'])} "
                    f"of '{group}' at its spike times",
                    "Only NeuronGroups keep their values at spike times in the export.")
            continue  # a spike source: its spikes are recorded elsewhere
        event = monitor.get("event", "spike")
        if event not in (groups[group].get("events") or {}):
            raise UnsupportedFeatureError(
                monitor["name"], f"the recording of the event '{event}', which '{group}' "
                "does not define")
        if monitor.get("variables") and monitor.get("when", "thresholds") not in THRESHOLD_SLOTS:
            raise UnsupportedFeatureError(
                monitor["name"], f"the recording of {', '.join(monitor['variables'])} at event "
                f"times in the '{monitor['when']}' slot",
                "The export keeps the values of the thresholds slot (after the update, "
                "before resets and synaptic effects), where Brian's monitors record by "
                "default.")
        captured[group].update(monitor.get("variables") or ())
    return captured


def thresholds_view(monitor: dict) -> dict:
    """
    A StateMonitor description as the export writes it: thresholds-slot variables renamed.

    Parameters
    ----------
    monitor : dict
        A StateMonitor description.

    Returns
    -------
    dict
        The same monitor, recording ``<variable>__thresholds`` if it records
        in a thresholds slot.

    Examples
    --------
    >>> thresholds_view({'when': 'thresholds', 'variables': ['v']})['variables']
    ['v__thresholds']
    """
    if monitor.get("when", "start") not in THRESHOLD_SLOTS:
        return monitor
    return dict(monitor, variables=[captured_name(name) for name in monitor["variables"]])


def values_id(monitor_name: str) -> str:
    """
    The id of the output file with an event monitor's variables.

    Parameters
    ----------
    monitor_name : str

    Returns
    -------
    str

    Examples
    --------
    >>> values_id('spikemonitor')
    'spikemonitor__values'
    """
    return f"{monitor_name}__values"


def add_event_values(simulation: ET.Element, monitor: dict, cell, file_name: str,
                     path) -> None:
    """
    Record, at every step, the thresholds-slot values of an event monitor's variables.

    Parameters
    ----------
    simulation : Element
        The ``Simulation`` element (changed).
    monitor : dict
        A SpikeMonitor or EventMonitor description with ``variables``.
    cell : CellTypes
        The cell types of the monitored group (built with these variables
        captured).
    file_name : str
        The file to write.
    path : callable
        ``path(group, index)``: the LEMS path of a cell.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> simulation = ET.Element('Simulation')
    >>> cell = SimpleNamespace(exposures={'w__thresholds': ('w__thresholds', None)})
    >>> monitor = {'name': 's', 'variables': ['w'], 'source': {'group': 'g', 'stop': 1}}
    >>> add_event_values(simulation, monitor, cell, 'r.dat', lambda g, i: f'{g}[{i}]')
    >>> [c.get('quantity') for c in simulation.iter('OutputColumn')]
    ['g[0]/w__thresholds']
    """
    source = monitor["source"]
    start, stop = int(source.get("start") or 0), int(source["stop"])
    values = supporting.output_file(values_id(monitor["name"]), file_name)
    values.append(ET.Comment(
        f" the values of {', '.join(monitor['variables'])} after the update and before the "
        f"reset, at every step: the reader takes those of the steps of {monitor['name']}'s "
        "events "))
    for variable in monitor["variables"]:
        exposure = cell.exposures[captured_name(variable)][0]
        for index in range(stop - start):
            values.append(supporting.output_column(
                f"{captured_name(variable)}_{index}",
                f"{path(source['group'], start + index)}/{exposure}"))
    simulation.append(values)


def add_later_monitor(description: dict, run: dict, name: str) -> bool:
    """
    Add to the merged description a monitor created between two runs.

    Parameters
    ----------
    description : dict
        The merged description (`~.run_changes.merge_runs`), changed.
    run : dict
        The description of the run in which the monitor is new.
    name : str
        The object that the change names.

    Returns
    -------
    bool
        Whether ``name`` is a monitor of the run (and was added, with its
        ``'recorded_from'`` time: the run's start).

    Examples
    --------
    >>> from brian2 import ms
    >>> description = {'spikemonitors': []}
    >>> run = {'t_start': 5*ms, 'spikemonitors': [{'name': 'spikes'}]}
    >>> add_later_monitor(description, run, 'spikes'), description['spikemonitors']
    (True, [{'name': 'spikes', 'recorded_from': 5. * msecond}])
    """
    for key in _MONITOR_LISTS:
        for monitor in run.get(key) or ():
            if monitor["name"] == name:
                description[key] = list(description.get(key) or ()) + [
                    dict(monitor, recorded_from=run["t_start"])]
                return True
    return False


def window_note(monitor: dict) -> ET.Comment:
    """
    The comment on the recording of a monitor created between runs.

    Parameters
    ----------
    monitor : dict
        The monitor's description, with ``'recorded_from'``.

    Returns
    -------
    Comment

    Examples
    --------
    >>> from brian2 import ms
    >>> window_note({'name': 'spikes', 'recorded_from': 50*ms}).text.split(':')[0]
    ' spikes was created between runs, at t = 50. ms'
    """
    return ET.Comment(
        f" {monitor['name']} was created between runs, at t = {monitor['recorded_from']!s}: "
        "this file records from the start of the simulation; with simulate='jneuroml' "
        "the script's monitor gets Brian's window, from that time on ")


def refuse_in_portable_form(groups: dict, state_monitors, event_monitors) -> None:
    """
    Refuse custom events, thresholds-slot values and later monitors in the portable form.

    Parameters
    ----------
    groups : dict
        Group name -> NeuronGroup description.
    state_monitors, event_monitors : list of dict

    Raises
    ------
    UnsupportedFeatureError
        For the first of these features, naming its object.

    Examples
    --------
    >>> refuse_in_portable_form({'g': {'name': 'g', 'events': {'spike': {}}}}, [], [])
    """
    hint = ("It is exported, and verified, for jNeuroML only: export the model in the "
            "default form.")
    for group in groups.values():
        for event in group.get("events") or {}:
            if event != "spike":
                raise UnsupportedFeatureError(
                    group["name"], f"the custom event '{event}' in the portable (NEURON) form",
                    hint)
    for monitor in list(state_monitors) + list(event_monitors):
        if monitor.get("recorded_from") is not None:
            raise UnsupportedFeatureError(
                monitor["name"], "a monitor created between runs in the portable (NEURON) form",
                hint)
        if monitor.get("variables") and "event" in monitor:
            raise UnsupportedFeatureError(
                monitor["name"], "the recording of variables at event times in the portable "
                "(NEURON) form", hint)
        if "event" not in monitor and monitor.get("when", "start") in THRESHOLD_SLOTS:
            raise UnsupportedFeatureError(
                monitor["name"], f"recording in the '{monitor['when']}' slot in the portable "
                "(NEURON) form", hint)


# --------------------------------------------------------------------- reading
def monitor_windows(runs: list[dict], key: str) -> list[tuple[dict, int]]:
    """
    The monitors of a kind over all runs, with the step from which Brian recorded them.

    Parameters
    ----------
    runs : list of dict
        The descriptions of the exported runs.
    key : {'statemonitors', 'spikemonitors', 'ratemonitors'}

    Returns
    -------
    list of (dict, int)
        Each monitor (in the order of creation) and its first step, counted
        from the start of the first run.

    Examples
    --------
    >>> from brian2 import ms
    >>> runs = [{'dt': 1*ms, 't_start': 0*ms, 'spikemonitors': []},
    ...         {'dt': 1*ms, 't_start': 5*ms, 'spikemonitors': [{'name': 's'}]}]
    >>> monitor_windows(runs, 'spikemonitors')
    [({'name': 's'}, 5)]
    """
    dt = float(runs[0]["dt"])
    origin = float(runs[0].get("t_start") or 0.0)
    found, seen = [], set()
    for run in runs:
        start = int(round((float(run.get("t_start") or 0.0) - origin) / dt))
        for monitor in run.get(key) or ():
            if monitor["name"] not in seen:
                seen.add(monitor["name"])
                found.append((monitor, start))
    return found


def event_values(recordings: dict, monitor: dict, steps: np.ndarray,
                 indices: np.ndarray) -> dict[str, np.ndarray]:
    """
    The values of an event monitor's variables at its events.

    Parameters
    ----------
    recordings : dict
        Recording id -> recordings (`~.recordings.load_recordings`).
    monitor : dict
        The monitor's description.
    steps, indices : array of int
        Brian's time step (from the start of the simulation) and the neuron
        index (relative to the monitored group) of each event.

    Returns
    -------
    dict
        Variable -> array of the values (SI units), one per event.

    Raises
    ------
    ValueError
        If the simulation did not record the values.

    Examples
    --------
    >>> recordings = {'s__values': {'record': np.array([0, 1]),
    ...                             'w__thresholds': np.array([[0., 1, 2], [0, 5, 6]])}}
    >>> event_values(recordings, {'name': 's', 'variables': ['w']}, np.array([1]), np.array([1]))
    {'w': array([6.])}
    """
    if not monitor.get("variables"):
        return {}
    data = recordings.get(values_id(monitor["name"]))
    if data is None:
        raise ValueError(f"The simulation recorded no values for the monitor "
                         f"'{monitor['name']}'.")
    rows = {int(index): row for row, index in enumerate(np.asarray(data["record"]))}
    found = {}
    for variable in monitor["variables"]:
        table = np.asarray(data[captured_name(variable)], dtype=float)
        # jNeuroML's row k + 1 holds the values of Brian's step k (after its update)
        found[variable] = table[[rows[int(i)] for i in indices], np.asarray(steps) + 1] \
            if len(steps) else np.zeros(0)
    return found


def fill_event_values(device, monitor, t, i, values: dict) -> None:
    """
    Write the recorded variables of an event monitor (after its times and indices).

    Parameters
    ----------
    device : brian2.devices.device.RuntimeDevice
        The device holding the monitor's arrays.
    monitor : SpikeMonitor or EventMonitor
    t, i : array
        The events' times and indices, in the order of ``values``.
    values : dict
        Variable -> array (SI units), one value per event.

    Examples
    --------
    >>> from brian2 import NeuronGroup, SpikeMonitor, get_device
    >>> monitor = SpikeMonitor(NeuronGroup(2, 'w : 1', threshold='w > 1'), variables='w')
    >>> fill_event_values(get_device(), monitor, [2e-3, 1e-3], [0, 1], {'w': [2.0, 3.0]})
    >>> monitor.w[:]
    array([3., 2.])
    """
    order = np.lexsort((np.asarray(i), np.asarray(t, dtype=float)))  # Brian's order
    for name, array in values.items():
        variable = monitor.variables[name]
        array = np.asarray(array, dtype=float)[order]
        variable.resize(len(array))
        device.arrays[variable][:] = array
