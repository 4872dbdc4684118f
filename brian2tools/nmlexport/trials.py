"""
Trials of a script that uses ``store()`` and ``restore()``, each exported as its own simulation.

A LEMS simulation cannot go back in time. A script that stores the
network's state and restores it before each run (or group of runs) is a set
of *trials*, each starting from the restored state; the ``'neuroml2'``
device writes each trial as a complete LEMS simulation of its own:

* trial ``k`` (counted from 1, in the order of the script) is the runs
  from one ``restore()`` to the next (the runs before the first
  ``restore()``, if any, are trial 1); it is written to
  ``<stem>_trial<k>.xml`` next to the model file ``<stem>.xml`` (which is
  not written), with its recordings in ``recording_<stem>_trial<k>...``;
* a trial starts from the state the script restored, with the assignments
  it made after ``restore()`` (the collector's ``'restored_values'``, see
  :doc:`/export_format`), exactly as Brian starts the run;
* with ``simulate=``, each ``run()`` simulates the trial it belongs to and
  fills the script's monitors with that trial's recordings: after
  ``restore()`` Brian's monitors also hold only what was recorded since
  the stored state (for a store at the start: only the trial's data), so
  the monitors the script reads between and after the trials are Brian's.

Refused by name: a ``restore()`` to a time other than 0 (each LEMS
simulation starts at ``t = 0``; the time-dependent parts of the trial would
be shifted), and trials in the portable (NEURON) form, which are not
verified there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

__all__ = ["is_trial_script", "split_trials", "trial_runs", "trial_file_name"]

logger = get_logger(__name__)


def _restore_of(run: Mapping) -> Mapping | None:
    restores = [action for action in run.get("actions") or () if action.get("action") == "restore"]
    return restores[-1] if restores else None


def split_trials(runs: list[Mapping]) -> list[list[Mapping]]:
    """
    The runs grouped into trials: a new trial at each run that follows a ``restore()``.

    Parameters
    ----------
    runs : list of dict
        The descriptions of the ``run()`` calls.

    Returns
    -------
    list of list of dict
        The runs of each trial, in order. A script without ``restore()``
        is one trial.

    Examples
    --------
    >>> runs = [{'index': 0, 'actions': [{'action': 'store', 'name': 'default'}]},
    ...         {'index': 1, 'actions': [{'action': 'restore', 'name': 'default'}]},
    ...         {'index': 2}]
    >>> [[run['index'] for run in trial] for trial in split_trials(runs)]
    [[0], [1, 2]]
    """
    trials: list[list[Mapping]] = []
    for run in runs:
        if not trials or _restore_of(run) is not None:
            trials.append([])
        trials[-1].append(run)
    return trials


def trial_runs(trial: list[Mapping]) -> list[dict]:
    """
    A trial's runs as those of a script of its own, starting from the restored state.

    Parameters
    ----------
    trial : list of dict
        The runs of one trial (`split_trials`).

    Returns
    -------
    list of dict
        Copies of the runs; in the first, every object is new (``'continued'``
        is ``False``), NeuronGroups and Synapses start from their
        ``'restored_values'``, and the ``restore()`` call and the changes
        before it (already in the restored values) are gone.

    Raises
    ------
    UnsupportedFeatureError
        For a ``restore()`` to a time other than 0, or an object whose
        restored state is not in the description.

    Examples
    --------
    >>> from brian2 import ms
    >>> group = {'name': 'cells', 'continued': True, 'initial_values': None,
    ...          'restored_values': {'v': [0.5]}}
    >>> first = {'index': 1, 't_start': 0*ms, 'changes': [{'object': 'cells'}],
    ...          'actions': [{'action': 'restore', 'name': 'default', 't': 0*ms}],
    ...          'neurongroups': [group]}
    >>> run = trial_runs([first])[0]
    >>> run['neurongroups'][0]['initial_values'], run['changes'], 'actions' in run
    ({'v': [0.5]}, [], False)
    """
    first = dict(trial[0])
    restore = _restore_of(first)
    if restore is None:
        return [first, *(dict(run) for run in trial[1:])]
    if float(restore.get("t") or 0.0) != 0.0:
        raise UnsupportedFeatureError(
            restore.get("network", "network"),
            f"restore() of the state '{restore['name']}' back to t = {restore['t']!s}",
            "Each trial is exported as a LEMS simulation that starts at t = 0: store() the "
            "state before the first run to export the trials.")
    first.pop("actions", None)
    first["changes"] = []  # the assignments after restore() are in the restored values
    for key, items in list(first.items()):
        if not isinstance(items, list):
            continue
        renewed = []
        for item in items:
            if isinstance(item, Mapping) and item.get("continued"):
                item = dict(item, continued=False)
                if "initial_values" in item and item["initial_values"] is None:
                    if item.get("restored_values") is None:
                        raise UnsupportedFeatureError(
                            item.get("name", key), "a trial after restore() without its "
                            "restored state in the description")
                    item["initial_values"] = item["restored_values"]
            renewed.append(item)
        first[key] = renewed
    return [first, *(dict(run) for run in trial[1:])]


def trial_file_name(filename: str | os.PathLike, number: int) -> str:
    """
    The model file of trial ``number`` (from 1): ``<stem>_trial<number><extension>``.

    Parameters
    ----------
    filename : str or os.PathLike
        The model file given to the device.
    number : int
        The trial's number, from 1.

    Returns
    -------
    str

    Examples
    --------
    >>> trial_file_name('out/model.xml', 2)
    'out/model_trial2.xml'
    """
    stem, extension = os.path.splitext(os.fspath(filename))
    return f"{stem}_trial{number}{extension}"


def is_trial_script(runs: list[Mapping]) -> bool:
    """
    Whether the runs contain a ``restore()``, so that they are exported as trials.

    Parameters
    ----------
    runs : list of dict
        The descriptions of the ``run()`` calls.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_trial_script([{'index': 0, 'actions': [{'action': 'store', 'name': 'default'}]}])
    False
    """
    return any(_restore_of(run) is not None for run in runs)
