"""
Simulating an export and giving its recordings back to the script's monitors.

With ``set_device('neuroml2', filename='model.xml', simulate='jneuroml')``
the device writes the model at ``run()``, simulates it with jNeuroML and
fills the script's own ``StateMonitor``, ``SpikeMonitor`` and
``PopulationRateMonitor`` with what the engine recorded, so the rest of the
script (plots included) works as if Brian had simulated it. This module
does the two steps after the files are written: `simulate_model` runs the
engine, `brian_recordings` turns its recordings into Brian's conventions
(time steps, indices, units) for `fill_monitors`.

Brian's conventions, and how jNeuroML's recordings are brought to them:

* A StateMonitor records the state at the start of each time step, from
  ``t_start`` to the end of the run, without the end; jNeuroML also writes
  the state at the end, which is dropped. A StateMonitor with its own
  ``dt`` (a whole number ``k`` of steps) keeps every ``k``-th sample.
* jNeuroML reports each spike one time step after Brian (its threshold is
  tested after the update, Brian's before the next one): spike times are
  moved back by one step, which gives Brian's spike times for deterministic
  models.
* Values recorded at event times and in the thresholds slot, custom
  events and monitors created between runs: see :mod:`.event_monitors`.
* A PopulationRateMonitor is recorded as the spikes of its group: the rate
  of each time step is the number of spikes in it divided by the number of
  neurons and by ``dt``.
"""

from __future__ import annotations

import os

import numpy as np
from brian2.utils.logger import get_logger

from brian2tools.baseexport.monitors import (
    fill_event_monitor,
    fill_rate_monitor,
    fill_state_monitor,
)

from .custom_events import captured_name
from .event_monitors import (
    THRESHOLD_SLOTS,
    event_lag,
    event_values,
    fill_event_values,
    monitor_windows,
)
from .own_clock import monitor_steps
from .recordings import load_recordings

__all__ = ["ENGINES", "PORTABLE_ENGINES", "simulate_model", "brian_recordings",
           "fill_monitors"]

logger = get_logger(__name__)

#: The engines `simulate_model` can run an export in.
ENGINES = ("jneuroml", "neuron", "netpyne")
#: The engines that run the portable form of the export (jNeuroML's NEURON code).
PORTABLE_ENGINES = ("neuron", "netpyne")


def simulate_model(model_file: str | os.PathLike, engine: str = "jneuroml",
                   timeout: float | None = None, ranks: int = 1) -> dict[str, dict]:
    """
    Simulate an exported model in an engine and read its recordings.

    Parameters
    ----------
    model_file : str or os.PathLike
        The LEMS file written by the ``'neuroml2'`` device.
    engine : {'jneuroml', 'neuron', 'netpyne'}
        The engine. jNeuroML runs from the jar shipped with pyNeuroML (with
        the machine's Java); NEURON and NetPyNE run the code jNeuroML writes
        for them (``jnml -neuron`` or ``-netpyne``, ``nrnivmodl``, the
        generated script), which needs the portable form of the export
        (:mod:`.portable`). See :mod:`.engines`.
    timeout : float, optional
        Seconds to wait for the engine.
    ranks : int, optional
        MPI ranks for NetPyNE (``mpiexec -n ranks``).

    Returns
    -------
    dict
        The recordings as `load_recordings` gives them.

    Raises
    ------
    ValueError
        For an unknown engine.
    RuntimeError
        If the engine fails (its messages are in the error).

    Examples
    --------
    >>> recordings = simulate_model('nml2model.xml')  # doctest: +SKIP
    """
    if engine not in ENGINES:
        raise ValueError(f"Unknown engine {engine!r}: the exported model can be simulated "
                         f"with {', '.join(repr(name) for name in ENGINES)}.")
    from .engines import simulate

    # the portable form's synapses are linear: NEURON may simulate those of a
    # cell as one (see .neuron_code.share_synapses)
    options = {"linear_synapses": True} if engine == "neuron" else {"ranks": ranks}
    run = simulate(model_file, engine, timeout=timeout, **options)
    logger.debug(f"{engine} simulated {model_file} in {run.wall_time:.1f} s")
    return load_recordings(model_file)


def brian_recordings(recordings: dict[str, dict], runs: list[dict],
                     engine: str = "jneuroml", shared: dict | None = None) -> dict[str, dict]:
    """
    An engine's recordings in Brian's conventions, monitor by monitor.

    Parameters
    ----------
    recordings : dict
        Monitor name -> recordings, as `load_recordings` gives them.
    runs : list of dict
        The model descriptions of the exported runs.
    engine : {'jneuroml', 'neuron', 'netpyne'}
        The engine that recorded them. jNeuroML reports each spike one time
        step after Brian (moved back here); NEURON's (and NetPyNE's) spike
        times are kept as it reports them (it integrates with its own methods, see
        :doc:`/nmlexport`).
    shared : dict, optional
        Event monitors recorded in a file they share (the portable form: one
        file per group): monitor name -> (recording id, start, stop), the
        group's indices of the monitored cells (``NMLExporter.names
        ['shared_events']``).

    Returns
    -------
    dict
        Monitor name -> ``{'kind': 'state', 't': ..., 'values': {name:
        array}}``, ``{'kind': 'events', 't': ..., 'i': ..., 'values': {name:
        array}}`` (the variables recorded at the events, see
        :mod:`.event_monitors`) or ``{'kind': 'rate', 't': ..., 'rate':
        ...}``; plain arrays in SI units. A monitor created between runs
        gets Brian's window only, from the start of its first run.

    Raises
    ------
    ValueError
        If a monitor of the description has no recordings.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import ms
    >>> runs = [{'dt': 0.1*ms, 't_start': 0*ms, 'duration': 0.3*ms, 'statemonitors': [],
    ...          'spikemonitors': [{'name': 'spikes'}], 'ratemonitors': []}]
    >>> jneuroml = {'spikes': {'t': np.array([0.0002, 0.0004]), 'i': np.array([1, 0])}}
    >>> converted = brian_recordings(jneuroml, runs)
    >>> converted['spikes']['t'], converted['spikes']['i']  # one step back; the last is past the end
    (array([0.0001]), array([1]))
    """
    if engine not in ENGINES:
        raise ValueError(f"Unknown engine {engine!r}.")
    first = runs[0]
    dt = float(first["dt"])
    t_start = float(first.get("t_start") or 0.0)
    n_steps = int(round(sum(float(run["duration"]) for run in runs) / dt))
    times = t_start + np.arange(n_steps) * dt
    converted = {}
    # a monitor created between runs keeps Brian's window: from its run on (`begin`)
    for monitor, begin in monitor_windows(runs, "statemonitors"):
        data = _recordings_of(recordings, monitor["name"])
        # the thresholds slot's values of Brian's step k are in jNeuroML's row k + 1
        shift = 1 if monitor.get("when", "start") in THRESHOLD_SLOTS else 0
        values = {name: np.asarray(data[captured_name(name) if shift else name],
                                   dtype=float)[:, begin + shift:n_steps + shift]
                  for name in monitor["variables"]}
        if any(array.shape[1] < n_steps - begin for array in values.values()):
            raise ValueError(f"The simulation recorded fewer samples for '{monitor['name']}' "
                             f"than the {n_steps} time steps of the run.")
        # a monitor with its own dt (a whole number of steps) samples every k-th step
        every = monitor_steps(monitor, dt)
        converted[monitor["name"]] = {"kind": "state", "t": times[begin:][::every],
                                      "values": {name: array[:, ::every]
                                                 for name, array in values.items()}}
    lag = dt if engine == "jneuroml" else 0.0
    recordings = _split_shared(recordings, shared or {})
    for monitor, begin in monitor_windows(runs, "spikemonitors"):
        data = _recordings_of(recordings, monitor["name"])
        if engine != "jneuroml":
            spike_times = np.asarray(data["t"], dtype=float)
            keep = (spike_times >= t_start) & (spike_times < t_start + n_steps * dt - dt / 2)
            converted[monitor["name"]] = {"kind": "events", "t": spike_times[keep],
                                          "i": np.asarray(data["i"], dtype=int)[keep]}
            continue
        # a monitor before its event's test records the previous step's events
        steps = _brian_steps(data["t"], dt, t_start) + event_lag(monitor)
        # jNeuroML simulates one step more than Brian: its spikes there are not Brian's
        keep = (steps >= begin) & (steps < n_steps)
        indices = np.asarray(data["i"], dtype=int)[keep]
        converted[monitor["name"]] = {
            "kind": "events", "t": t_start + steps[keep] * dt, "i": indices,
            "values": event_values(recordings, monitor, steps[keep], indices)}
    for monitor, begin in monitor_windows(runs, "ratemonitors"):
        data = _recordings_of(recordings, monitor["name"])
        steps = _brian_steps(data["t"], dt, t_start, lag)
        steps = steps[(steps >= 0) & (steps < n_steps)]
        size = int(monitor["source"]["stop"]) - int(monitor["source"].get("start") or 0)
        counts = np.bincount(steps, minlength=n_steps)[:n_steps]
        converted[monitor["name"]] = {"kind": "rate", "t": times[begin:],
                                      "rate": counts[begin:] / (size * dt)}
    return converted


def _split_shared(recordings: dict, shared: dict) -> dict:
    """Each monitor's events from a file shared by a group: its cells, its indices."""
    recordings = dict(recordings)
    for name, (source, start, stop) in shared.items():
        data = _recordings_of(recordings, source)
        indices = np.asarray(data["i"], dtype=int)
        keep = (indices >= start) & (indices < stop)
        recordings[name] = {"t": np.asarray(data["t"])[keep], "i": indices[keep] - start}
    return recordings


def _brian_steps(times, dt: float, t_start: float, lag: float | None = None) -> np.ndarray:
    """The time steps of spikes reported ``lag`` (by default one step) after Brian's."""
    lag = dt if lag is None else lag
    return np.rint((np.asarray(times, dtype=float) - lag - t_start) / dt).astype(int)


def _recordings_of(recordings: dict, name: str) -> dict:
    if name not in recordings:
        raise ValueError(f"The simulation recorded nothing for the monitor '{name}'.")
    return recordings[name]


def fill_monitors(device, monitors: dict, converted: dict[str, dict]) -> list[str]:
    """
    Write converted recordings into the script's monitors.

    Parameters
    ----------
    device : brian2tools.baseexport.BaseExporter
        The device that holds the monitors' arrays.
    monitors : dict
        Monitor name -> the monitor (or a weak reference to it).
    converted : dict
        The output of `brian_recordings`.

    Returns
    -------
    list of str
        The names of the monitors that were filled (those that still exist).

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import NeuronGroup, SpikeMonitor, get_device
    >>> monitor = SpikeMonitor(NeuronGroup(2, 'v : 1', threshold='v > 1'))
    >>> converted = {monitor.name: {'kind': 'events', 't': np.array([1e-4]), 'i': np.array([1])}}
    >>> fill_monitors(get_device(), {monitor.name: monitor}, converted) == [monitor.name]
    True
    """
    filled = []
    for name, data in converted.items():
        monitor = monitors.get(name)
        if monitor is not None and callable(monitor) and not hasattr(monitor, "variables"):
            monitor = monitor()  # a weak reference
        if monitor is None:
            continue  # the script no longer holds it
        if data["kind"] == "state":
            fill_state_monitor(device, monitor, data["t"], data["values"])
        elif data["kind"] == "events":
            fill_event_monitor(device, monitor, data["t"], data["i"])
            fill_event_values(device, monitor, data["t"], data["i"], data.get("values") or {})
        else:
            fill_rate_monitor(device, monitor, data["t"], data["rate"])
        filled.append(name)
    return filled
