"""
The ``Simulation`` of an exported model: recordings, displays and their files.

Each StateMonitor becomes a ``Display`` per variable (its y range taken
from what the model says about the variable) and an ``OutputFile``; each
SpikeMonitor or PopulationRateMonitor an ``EventOutputFile``. The files have
the names the documentation of brian2tools gives them
(`recording_file_names`).
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

import numpy as np
from brian2 import Quantity, have_same_dimensions
from brian2.core.namespace import DEFAULT_UNITS

from brian2tools.baseexport import UnsupportedFeatureError

from . import supporting
from .neurongroup import CellTypes
from .own_clock import monitor_steps
from .units import format_in_unit, format_number, lems_dimension

# StateMonitor slots recorded after the update (event_monitors.THRESHOLD_SLOTS)
_THRESHOLD_SLOTS = ("before_thresholds", "thresholds", "after_thresholds")

__all__ = [
    "recording_file_names",
    "recordings_name_for",
    "check_state_monitor",
    "add_state_monitor",
    "add_event_monitor",
]


def recording_file_names(monitor_name: str, recordings_name: str | None = None,
                         first: bool = False) -> dict[str, str]:
    """
    The files jNeuroML writes for a monitor, relative to the model file.

    With the name of the recordings (``'recording_'`` and the stem of the
    model file, as the ``'neuroml2'`` device passes it), the first
    StateMonitor writes ``<recordings_name>.dat`` and the first SpikeMonitor
    ``<recordings_name>.spikes``, as the documentation of brian2tools has
    always said; every further monitor adds its Brian name:
    ``<recordings_name>_<monitor name>.dat`` (or ``.spikes``). Without it,
    each monitor writes ``recording_<monitor name>.dat`` (or ``.spikes``).

    Parameters
    ----------
    monitor_name : str
        The Brian name of the monitor.
    recordings_name : str, optional
        The common part of the file names, e.g. ``'recording_nml2model'``.
    first : bool, optional
        Whether this is the first monitor of its kind (state or spikes), which
        gets the plain name.

    Returns
    -------
    dict
        ``{'values': '....dat', 'spikes': '....spikes'}``

    Examples
    --------
    >>> from brian2tools.nmlexport.lemsexport import recording_file_names
    >>> recording_file_names('statemonitor')['values']
    'recording_statemonitor.dat'
    >>> recording_file_names('statemonitor', 'recording_nml2model', first=True)['values']
    'recording_nml2model.dat'
    >>> recording_file_names('spikemonitor_1', 'recording_nml2model')['spikes']
    'recording_nml2model_spikemonitor_1.spikes'
    """
    if recordings_name is None:
        stem = f"recording_{monitor_name}"
    elif first:
        stem = recordings_name
    else:
        stem = f"{recordings_name}_{monitor_name}"
    return {"values": f"{stem}.dat", "spikes": f"{stem}.spikes"}


def recordings_name_for(filename: str | os.PathLike) -> str:
    """
    The documented common name of the recordings of a model file.

    Parameters
    ----------
    filename : str or os.PathLike
        The model file (``set_device('neuroml2', filename=...)``).

    Returns
    -------
    str
        ``'recording_'`` followed by the file's name without folder and
        extension.

    Examples
    --------
    >>> from brian2tools.nmlexport.lemsexport import recordings_name_for
    >>> recordings_name_for('results/nml2model.xml')
    'recording_nml2model'
    """
    stem = os.path.splitext(os.path.basename(os.fspath(filename)))[0]
    return f"recording_{stem}"


def _default_path(group: str, index: int) -> str:
    return f"{group}[{index}]"


def check_state_monitor(monitor: dict, dt: float) -> None:
    """
    Refuse a StateMonitor that jNeuroML cannot record like Brian.

    Parameters
    ----------
    monitor : dict
        The monitor's description.
    dt : float
        The simulation's time step (seconds).

    Raises
    ------
    UnsupportedFeatureError
        For a recording time step that is not a whole multiple of ``dt``, or a recording slot
        other than Brian's default ``'start'``.

    Examples
    --------
    >>> check_state_monitor({'name': 'm', 'dt': None, 'when': 'start'}, 1e-4)
    """
    monitor_steps(monitor, dt)  # a whole number of steps: sampled from every step's record
    if monitor.get("when", "start") not in ("start", *_THRESHOLD_SLOTS):
        raise UnsupportedFeatureError(
            monitor["name"], f"recording in the '{monitor['when']}' slot",
            "The export records the state at the start of a time step (Brian's default "
            "when='start') or after the update, before synaptic effects and resets "
            "(when='thresholds'); the state of the other slots is not kept.",
        )

def add_state_monitor(simulation: ET.Element, monitor: dict, cell: CellTypes, group: dict,
                      duration: float, ids, file_name: str, path=None) -> str:
    """
    Add a StateMonitor's displays (one per variable) and its output file.

    Parameters
    ----------
    simulation : Element
        The ``Simulation`` element.
    monitor : dict
        The monitor's description.
    cell : CellTypes
        The cell types of the monitored group (for the exposures).
    group : dict
        The description of the monitored group (for the display ranges).
    duration : float
        The simulated time (seconds).
    ids : object with a ``new(base)`` method
        Gives ids that do not clash with the model's other ids.
    file_name : str
        The recording file (`recording_file_names`).
    path : callable, optional
        ``path(group, index)`` gives the LEMS path of a cell (default
        ``'<group>[<index>]'``; the portable form has its own).

    Returns
    -------
    str
        ``file_name``.

    Examples
    --------
    >>> add_state_monitor(simulation, monitor, cell, group, 1.0, ids, 'r.dat')  # doctest: +SKIP
    'r.dat'
    """
    path = path or _default_path
    name = monitor["name"]
    population = monitor["source"]["group"]
    start = int(monitor["source"].get("start") or 0)
    record = [int(index) for index in np.asarray(monitor["record"]).ravel()]
    values_file = supporting.output_file(name, file_name)
    time_scale = "1 ms"
    for variable in monitor["variables"]:
        exposure, dimension = cell.exposures[variable]
        scale_value = _display_scale(dimension)
        lems_dim = lems_dimension(dimension)
        scale = format_in_unit(scale_value, lems_dim.unit)
        low, high = _display_range(group, variable, dimension, scale_value)
        plot = supporting.display(ids.new(f"{name}_{variable}"), f"{name}: {variable}",
                                  time_scale, "0", format_number(duration * 1000),
                                  format_number(low), format_number(high))
        for position, index in enumerate(record):
            quantity = f"{path(population, start + index)}/{exposure}"
            plot.append(supporting.line(
                f"{variable}_{index}", quantity, scale, time_scale,
                supporting.LINE_COLOURS[position % len(supporting.LINE_COLOURS)]))
            values_file.append(supporting.output_column(f"{variable}_{index}", quantity))
        simulation.append(plot)
    simulation.append(values_file)
    return file_name

def add_event_monitor(simulation: ET.Element, monitor: dict, file_name: str,
                      path=None) -> str:
    """
    Add the ``EventOutputFile`` of a SpikeMonitor, EventMonitor or PopulationRateMonitor.

    An EventMonitor of a custom event selects the cells' port of that event.

    Parameters
    ----------
    simulation : Element
        The ``Simulation`` element.
    monitor : dict
        The monitor's description.
    file_name : str
        The recording file (`recording_file_names`).
    path : callable, optional
        ``path(group, index)`` gives the LEMS path of a cell (default
        ``'<group>[<index>]'``).

    Returns
    -------
    str
        ``file_name``.

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> simulation = ET.Element('Simulation')
    >>> add_event_monitor(simulation, {'name': 'spikes', 'source': {'group': 'g', 'stop': 2}},
    ...                   'recording_model.spikes')
    'recording_model.spikes'
    >>> [e.get('select') for e in simulation.iter('EventSelection')]
    ['g[0]', 'g[1]']
    """
    path = path or _default_path
    name = monitor["name"]
    source = monitor["source"]
    start = int(source.get("start") or 0)
    stop = int(source["stop"])
    events = supporting.event_output_file(name, file_name)
    for index in range(stop - start):
        events.append(supporting.event_selection(str(index),
                                                 path(source["group"], start + index),
                                                 monitor.get("event", "spike")))
    simulation.append(events)
    return file_name


# Units of the displays, by LEMS dimension (SI for the others)
_DISPLAY_UNITS = {"voltage": 1e-3, "time": 1e-3, "current": 1e-9, "conductance": 1e-9,
                  "capacitance": 1e-12}


def _display_scale(dimension) -> float:
    """The unit a display shows a quantity in (mV for voltages, nA for currents, ...)."""
    return _DISPLAY_UNITS.get(lems_dimension(dimension).name, 1.0)


_LITERAL_QUANTITY = re.compile(
    r"(?<![\w.])([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\*\s*([A-Za-z_]\w*)")


def _model_values(group: dict, dimension) -> list[np.ndarray]:
    """
    The values a variable of the given dimensions can be expected to take.

    They come from what the model says: the initial values of the group's
    variables of these dimensions (a parameter such as ``v0`` included), its
    constants, and the literal quantities (``10*mV``) of its threshold,
    reset and other event code.
    """
    dim = getattr(dimension, "dim", dimension)
    found = []
    for values in (group.get("initial_values") or {}).values():
        if values is not None and have_same_dimensions(values, dim):
            found.append(np.asarray(values, dtype=float).ravel())
    for value in (group.get("namespace") or {}).values():
        if isinstance(value, (Quantity, int, float)) and have_same_dimensions(value, dim):
            found.append(np.asarray(value, dtype=float).ravel())
    for event in (group.get("events") or {}).values():
        for code in event.values():
            if not isinstance(code, str):
                continue
            for number, unit_name in _LITERAL_QUANTITY.findall(code):
                unit = DEFAULT_UNITS.get(unit_name)
                if isinstance(unit, Quantity) and have_same_dimensions(unit, dim):
                    found.append(np.array([float(number) * float(unit)]))
    return found


def _display_range(group: dict, variable: str, dimension, scale: float) -> tuple[float, float]:
    """
    The y range of a display: the span of the model's values for the variable.

    Threshold, reset, constants, parameters and initial values of the
    variable's dimensions (see `_model_values`), with a margin of a tenth of
    the span (at least one display unit), rounded outwards.
    """
    found = _model_values(group, dimension)
    if not found:
        return -1.0, 1.0
    array = np.concatenate(found) / scale
    array = array[np.isfinite(array)]
    if not array.size:
        return -1.0, 1.0
    low, high = float(np.min(array)), float(np.max(array))
    margin = max(1.0, 0.1 * (high - low))
    return float(np.floor(low - margin)), float(np.ceil(high + margin))
