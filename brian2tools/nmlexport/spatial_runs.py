"""
Several ``run()`` calls of a `SpatialNeuron` model as one NeuroML simulation.

Between runs, a script may change the point currents (``neuron.I[0] =
0.5*nA``, ``neuron.dendrite.I = 0*nA``): `merge_runs` turns the runs into
one description for the whole simulation (the first run's, with the total
duration) and the value of each point current in each compartment during
each run, which become ``pulseGenerator`` inputs that start and stop with
the runs. Any other change between runs -- another variable or parameter
set, a value given by an expression or at random, objects added or
removed, a different time step, new spikes of a SpikeGeneratorGroup -- is
refused by name.
"""

from __future__ import annotations

import numpy as np
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

__all__ = ["merge_runs"]

logger = get_logger(__name__)

_OBJECTS = ("spatialneurons", "statemonitors", "spikemonitors", "synapses",
            "spikegeneratorgroups")


def _names(run: dict) -> dict[str, list[str]]:
    return {key: sorted(item["name"] for item in run.get(key, ())) for key in _OBJECTS}


def _apply(values: dict, neuron: dict, initializer: dict, fixed: set) -> None:
    """Apply one assignment made between runs to the point currents' ``values``."""
    variable, kind = initializer["variable"], initializer["kind"]
    name = neuron["name"]
    if variable not in values or variable in fixed:
        raise UnsupportedFeatureError(
            name, f"setting '{variable}' between runs",
            "Between runs of a SpatialNeuron, only constant point currents may change.")
    if kind not in ("constant", "array") or initializer.get("random"):
        raise UnsupportedFeatureError(
            name, f"setting the point current '{variable}' between runs to "
            f"{initializer['value']!r} ({kind})",
            "Set it to quantities (neuron.I[0] = 0.5*nA), not expressions.")
    start, stop = int(initializer["group"]["start"]), int(initializer["group"]["stop"])
    index = initializer.get("index")
    target = np.arange(start, stop) if index is None else \
        start + np.asarray(index, dtype=int).ravel()
    values[variable][target] = np.asarray(initializer["value"], dtype=float)


def merge_runs(runs: list[dict], synaptic: dict) -> tuple[dict, dict]:
    """
    One description for all runs, and the point currents during each run.

    Parameters
    ----------
    runs : list of dict
        The run descriptions (each with ``'spatialneurons'``).
    synaptic : dict
        Neuron name -> the names of its point currents that are synapses
        (they cannot be set between runs).

    Returns
    -------
    run : dict
        The first run's description with ``'duration'`` the total.
    schedule : dict
        Neuron name -> point current -> list of ``(start, duration,
        values)``: seconds from the start of the simulation, and the value
        (ampere) in each compartment during that run.

    Raises
    ------
    UnsupportedFeatureError
        For any change between runs other than of constant point currents.

    Examples
    --------
    >>> run = {'dt': 1e-4, 'duration': 0.01, 'spatialneurons': [{
    ...     'name': 'cell', 'point_currents': ['I'], 'equations': [
    ...         {'name': 'I', 'type': 'parameter'}],
    ...     'initial_values': {'I': np.array([1e-9, 0.0])}}]}
    >>> later = {'dt': 1e-4, 'duration': 0.005, 'spatialneurons': [{
    ...     'name': 'cell', 'initializers': [{'variable': 'I', 'kind': 'constant',
    ...     'value': 0.0, 'index': None, 'group': {'start': 0, 'stop': 2}}]}]}
    >>> merged, schedule = merge_runs([run, later], {'cell': set()})
    >>> merged['duration']
    0.015
    >>> [(start, values.tolist()) for start, _, values in schedule['cell']['I']]
    [(0.0, [1e-09, 0.0]), (0.01, [0.0, 0.0])]
    """
    first = runs[0]
    dt = float(first["dt"])
    names = _names(first)
    values = {}
    for neuron in first["spatialneurons"]:
        parameters = {eq["name"] for eq in neuron["equations"] if eq["type"] == "parameter"}
        values[neuron["name"]] = {
            current: np.array(neuron["initial_values"][current], dtype=float)
            for current in neuron["point_currents"]
            if current in parameters and current not in synaptic.get(neuron["name"], ())}
    schedule = {name: {current: [] for current in currents}
                for name, currents in values.items()}
    start = 0.0
    for number, run in enumerate(runs):
        label = f"run {number + 1}"
        if number:
            if not np.isclose(float(run["dt"]), dt, rtol=1e-9, atol=0):
                raise UnsupportedFeatureError(
                    first["spatialneurons"][0]["name"], f"a time step changed in {label}")
            if _names(run) != names:
                changed = sorted({name for key in _OBJECTS for name in
                                  set(_names(run)[key]) ^ set(names[key])})
                raise UnsupportedFeatureError(
                    changed[0], f"being added or removed before {label} of a SpatialNeuron",
                    "Every run must simulate the same objects.")
            _check_unchanged(run, first, label)
            for neuron in run["spatialneurons"]:
                for initializer in neuron.get("initializers", ()):
                    _apply(values[neuron["name"]], neuron, initializer,
                           set(synaptic.get(neuron["name"], ())))
        duration = float(run["duration"])
        for name, currents in values.items():
            for current, now in currents.items():
                schedule[name][current].append((start, duration, now.copy()))
        start += duration
    merged = dict(first)
    merged["duration"] = float(f"{start:.12g}")
    if len(runs) > 1:
        logger.debug(f"{len(runs)} runs of spatial neurons merged ({merged['duration']} s)")
    return merged, schedule


def _check_unchanged(run: dict, first: dict, label: str) -> None:
    """Refuse changes of anything but the spatial neurons' point currents."""
    for key in ("synapses", "spikegeneratorgroups", "statemonitors", "spikemonitors"):
        before = {item["name"]: item for item in first.get(key, ())}
        for item in run.get(key, ()):
            initializers = item.get("initializers") or []
            if initializers:
                raise UnsupportedFeatureError(
                    item["name"], f"setting '{initializers[0]['variable']}' before {label} "
                    "of a SpatialNeuron", "Only point currents may change between runs.")
            if key == "spikegeneratorgroups":
                old = before[item["name"]]
                if not (np.array_equal(np.asarray(old["times"], dtype=float),
                                       np.asarray(item["times"], dtype=float))
                        and np.array_equal(old["indices"], item["indices"])):
                    raise UnsupportedFeatureError(
                        item["name"], f"new spikes before {label} of a SpatialNeuron",
                        "Give all spikes before the first run.")
