"""
The monitors of an exported script: no data unless an engine simulated it.

An exporting device does not simulate, so after ``run()`` the script's
monitors hold no recordings. Reading them anyway must not give an empty
array that looks like a silent network (or a raster with a negative time
axis): like Brian's standalone devices, the exporting devices raise
`NotSimulatedError` instead. When the device is asked to simulate the export
in an engine (``set_device('neuroml2', ..., simulate='jneuroml')``), the
engine's recordings are written into the monitors with the functions of this
module, in Brian's units, indices and time steps, and the rest of the script
(plotting included) works unchanged.
"""

from __future__ import annotations

import numpy as np
from brian2.monitors.ratemonitor import PopulationRateMonitor
from brian2.monitors.spikemonitor import EventMonitor
from brian2.monitors.statemonitor import StateMonitor
from brian2.utils.logger import get_logger

__all__ = [
    "NotSimulatedError",
    "is_monitor",
    "recorded_variable_names",
    "fill_state_monitor",
    "fill_event_monitor",
    "fill_rate_monitor",
]

logger = get_logger(__name__)


class NotSimulatedError(NotImplementedError):
    """
    Raised when a script reads a monitor whose run was exported, not simulated.

    A subclass of `NotImplementedError`, as Brian's standalone devices raise
    for values that are only known after the simulation.

    Parameters
    ----------
    monitor : str
        The name of the monitor.
    device : str
        The name of the exporting device.
    """

    def __init__(self, monitor: str, device: str) -> None:
        self.monitor = monitor
        self.device = device
        super().__init__(
            f"The recordings of '{monitor}' are not available: the '{device}' device "
            "exported the model instead of simulating it. Simulate the export and read "
            "its recordings (for NeuroML: set_device('neuroml2', filename=..., "
            "simulate='jneuroml'), which fills the monitors, or load_recordings()), "
            "or run the script with Brian's runtime device."
        )

    def __reduce__(self):
        return (type(self), (self.monitor, self.device))


def is_monitor(obj) -> bool:
    """
    Whether a Brian object is a monitor whose data come from a simulation.

    Parameters
    ----------
    obj : brian2.BrianObject

    Returns
    -------
    bool

    Examples
    --------
    >>> from brian2 import NeuronGroup, SpikeMonitor
    >>> from brian2tools.baseexport.monitors import is_monitor
    >>> group = NeuronGroup(1, 'v : 1', threshold='v > 1')
    >>> is_monitor(SpikeMonitor(group)), is_monitor(group)
    (True, False)
    """
    return isinstance(obj, (StateMonitor, EventMonitor, PopulationRateMonitor))


def recorded_variable_names(monitor) -> set[str]:
    """
    The names of a monitor's variables that hold recorded data.

    Parameters
    ----------
    monitor : StateMonitor, SpikeMonitor, EventMonitor or PopulationRateMonitor

    Returns
    -------
    set of str
        E.g. ``{'t', 'N', 'v'}`` for a StateMonitor of ``v``, ``{'t', 'i',
        'count', 'N'}`` for a SpikeMonitor.

    Examples
    --------
    >>> from brian2 import NeuronGroup, StateMonitor
    >>> from brian2tools.baseexport.monitors import recorded_variable_names
    >>> group = NeuronGroup(2, 'v : 1')
    >>> sorted(recorded_variable_names(StateMonitor(group, 'v', record=True)))
    ['N', 't', 'v']
    """
    names = {"t", "N"}
    if isinstance(monitor, StateMonitor):
        names.update(monitor.record_variables)
    elif isinstance(monitor, EventMonitor):
        names.update({"i", "count"})
        names.update(monitor.record_variables)
    elif isinstance(monitor, PopulationRateMonitor):
        names.add("rate")
    return names


def _write(device, monitor, name: str, values) -> None:
    """Resize a monitor's dynamic array (if it is one) and write the values."""
    variable = monitor.variables[name]
    values = np.asarray(values)
    if getattr(variable, "dynamic", False):
        variable.resize(values.shape if values.ndim > 1 else len(values))
    device.arrays[variable][:] = values


def fill_state_monitor(device, monitor: StateMonitor, t, values: dict) -> None:
    """
    Write recorded traces into a StateMonitor.

    Parameters
    ----------
    device : brian2.devices.device.RuntimeDevice
        The device holding the monitor's arrays.
    monitor : StateMonitor
    t : Quantity
        The sample times (Brian's: one per recording time step).
    values : dict
        Variable name -> array of shape ``(number of recorded neurons,
        len(t))`` (as ``monitor.v``), in SI units.

    Raises
    ------
    ValueError
        If a variable is missing or the shapes do not match the monitor.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import NeuronGroup, StateMonitor, ms, get_device
    >>> from brian2tools.baseexport.monitors import fill_state_monitor
    >>> group = NeuronGroup(2, 'v : 1')
    >>> monitor = StateMonitor(group, 'v', record=[1])
    >>> values = {"v": np.array([[0.5, 0.25]])}
    >>> fill_state_monitor(get_device(), monitor, np.array([0, 1e-4]), values)
    >>> monitor.v[0]
    array([0.5 , 0.25])
    """
    t = np.asarray(t, dtype=float)
    n_recorded = len(monitor.record)
    for name in monitor.record_variables:
        if name not in values:
            raise ValueError(f"The recordings for '{monitor.name}' have no variable '{name}'.")
        data = np.asarray(values[name], dtype=float)
        if data.shape != (n_recorded, len(t)):
            raise ValueError(
                f"The recordings of '{name}' for '{monitor.name}' have the shape {data.shape}, "
                f"expected {(n_recorded, len(t))} (recorded neurons, time steps)."
            )
        _write(device, monitor, name, data.T)
    _write(device, monitor, "t", t)
    device.arrays[monitor.variables["N"]][:] = len(t)


def fill_event_monitor(device, monitor: EventMonitor, t, i) -> None:
    """
    Write recorded events (spikes) into a SpikeMonitor or EventMonitor.

    Parameters
    ----------
    device : brian2.devices.device.RuntimeDevice
        The device holding the monitor's arrays.
    monitor : SpikeMonitor or EventMonitor
    t : Quantity or array
        The event times (seconds), in the order of the events.
    i : array of int
        The indices of the neurons, relative to the monitored group.

    Raises
    ------
    ValueError
        If the lengths differ or an index is outside the monitored group.

    Examples
    --------
    >>> from brian2 import NeuronGroup, SpikeMonitor, get_device
    >>> from brian2tools.baseexport.monitors import fill_event_monitor
    >>> group = NeuronGroup(3, 'v : 1', threshold='v > 1')
    >>> monitor = SpikeMonitor(group)
    >>> fill_event_monitor(get_device(), monitor, [2e-3, 1e-3], [2, 0])
    >>> monitor.i[:], monitor.count[:]
    (array([0, 2], dtype=int32), array([1, 0, 1], dtype=int32))
    """
    t = np.asarray(t, dtype=float)
    i = np.asarray(i, dtype=np.int32)
    if t.shape != i.shape:
        raise ValueError(f"The recordings for '{monitor.name}' have {len(t)} times but "
                         f"{len(i)} indices.")
    size = len(monitor.source)
    if len(i) and (i.min() < 0 or i.max() >= size):
        raise ValueError(f"The recordings for '{monitor.name}' have indices outside "
                         f"0..{size - 1}.")
    order = np.lexsort((i, t))  # Brian's order: by time, then by index
    _write(device, monitor, "t", t[order])
    _write(device, monitor, "i", i[order])
    device.arrays[monitor.variables["count"]][:] = np.bincount(i, minlength=size)
    device.arrays[monitor.variables["N"]][:] = len(t)


def fill_rate_monitor(device, monitor: PopulationRateMonitor, t, rate) -> None:
    """
    Write a population rate into a PopulationRateMonitor.

    Parameters
    ----------
    device : brian2.devices.device.RuntimeDevice
        The device holding the monitor's arrays.
    monitor : PopulationRateMonitor
    t : Quantity or array
        The time steps (seconds).
    rate : Quantity or array
        The rate in each time step (Hz).

    Raises
    ------
    ValueError
        If the lengths differ.

    Examples
    --------
    >>> from brian2 import NeuronGroup, PopulationRateMonitor, get_device
    >>> from brian2tools.baseexport.monitors import fill_rate_monitor
    >>> monitor = PopulationRateMonitor(NeuronGroup(4, 'v : 1', threshold='v > 1'))
    >>> fill_rate_monitor(get_device(), monitor, [0, 1e-4], [0, 2500])
    >>> monitor.rate[:]
    array([0. , 2.5]) * khertz
    """
    t = np.asarray(t, dtype=float)
    rate = np.asarray(rate, dtype=float)
    if t.shape != rate.shape:
        raise ValueError(f"The recordings for '{monitor.name}' have {len(t)} times but "
                         f"{len(rate)} rates.")
    _write(device, monitor, "t", t)
    _write(device, monitor, "rate", rate)
    device.arrays[monitor.variables["N"]][:] = len(t)
