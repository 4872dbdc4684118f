"""
The parts of a description that a NeuroML2/LEMS model cannot run, refused by name.

The collection layer describes some parts of a script for readers (the
Markdown device) that a simulator format may not reproduce:
``network_operation`` functions (Python code), groups on a clock with
another ``dt``, linked variables and ``restore()`` of a stored state (see
:mod:`brian2tools.baseexport.operations`). `refuse_unsupported` is the one
place where the NeuroML export checks for them, before it writes anything,
so that none of them is dropped silently: each is refused with an
`UnsupportedFeatureError` that names the object and the feature, except
what the caller says it exports itself (the jNeuroML form writes own clocks,
:mod:`.own_clock`, linked variables, :mod:`.linked_variables`, and the
device writes trials, :mod:`.trials`; each refuses what it cannot write).

A ``store()`` without a later ``restore()`` changes nothing in the
simulation and is not refused.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from typing import Any

from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

__all__ = ["refuse_unsupported"]

logger = get_logger(__name__)

#: the lists whose objects may run on a clock of their own (see .own_clock)
_CLOCKED = ("neurongroups", "spikemonitors", "statemonitors")


def _objects(run: Mapping) -> Iterable[Mapping]:
    """Every object description of a run (all its lists of named dicts)."""
    for value in run.values():
        if isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping) and "name" in item:
                    yield item


def _refuse_network_operations(run: Mapping) -> None:
    for operation in run.get("network_operations") or ():
        doc = f" ({operation['doc']})" if operation.get("doc") else ""
        raise UnsupportedFeatureError(
            operation["name"],
            f"the network_operation '{operation['name']}': the Python function "
            f"'{operation['function']}'{doc}, run every {operation['dt']!s} during the simulation",
            "NeuroML/LEMS cannot run Python code; write the operation as equations, or describe "
            "the script with the 'markdown' device.",
        )


def _refuse_own_clocks(run: Mapping, exported: Container[str]) -> None:
    for key, value in run.items():
        if key in _CLOCKED and "clocks" in exported:
            continue  # checked by .own_clock
        for item in _objects({key: value}):
            clock = item.get("clock")
            if not clock:
                continue
            raise UnsupportedFeatureError(
                item["name"],
                f"its own clock '{clock['name']}' with dt={clock['dt']!s}, different from the "
                f"simulation's dt={run['dt']!s}",
                "The NeuroML export runs only NeuronGroups (and their monitors) on clocks of "
                "their own, in the default form: give the other objects the default clock.",
            )


def _refuse_linked_variables(run: Mapping) -> None:
    for item in _objects(run):
        for equation in item.get("equations") or ():
            if not isinstance(equation, Mapping) or "linked" not in (equation.get("flags") or ()):
                continue
            link = equation.get("linked") or {}
            source = (f" (linked to '{link['variable']}' of '{link['group']}')"
                      if link.get("group") else "")
            raise UnsupportedFeatureError(
                item["name"],
                f"the linked variable '{equation['name']}'{source}",
                "NeuroML cells cannot read the state of another population's cells.",
            )


def _refuse_restore(run: Mapping) -> None:
    for action in run.get("actions") or ():
        if action.get("action") == "restore":
            raise UnsupportedFeatureError(
                action.get("network", "network"),
                f"restore() of the state '{action['name']}' (back to t = {action['t']!s}) "
                f"before run {run['index'] + 1}",
                "A NeuroML/LEMS simulation cannot go back in time: the 'neuroml2' device "
                "exports each trial as a simulation of its own (brian2tools.nmlexport.trials), "
                "or split the runs with trials.split_trials() and trials.trial_runs().",
            )


def refuse_unsupported(runs: Iterable[Mapping[str, Any]], exported: Container[str] = ()) -> None:
    """
    Refuse, by name, the parts of the runs that a NeuroML2/LEMS model cannot run.

    Parameters
    ----------
    runs : iterable of dict
        The descriptions of the ``run()`` calls (see :doc:`/export_format`).
    exported : container of str, optional
        What the caller exports itself and checks in detail: ``'clocks'``
        (NeuronGroups and monitors on own clocks, :mod:`.own_clock`),
        ``'linked'`` (linked variables, :mod:`.linked_variables`) and
        ``'restore'`` (trials, :mod:`.trials`).

    Raises
    ------
    UnsupportedFeatureError
        For the first of: a ``network_operation``, an object on a clock with
        another ``dt`` than the simulation's, a linked variable, a
        ``restore()`` between runs; naming the object and the feature.

    Examples
    --------
    >>> from brian2 import ms
    >>> operation = {'name': 'nudge', 'function': 'nudge', 'doc': None, 'dt': 1*ms}
    >>> refuse_unsupported([{'index': 0, 'dt': 0.1*ms, 'network_operations': [operation]}])
    Traceback (most recent call last):
    ...
    brian2tools.baseexport.errors.UnsupportedFeatureError: Cannot export 'nudge': it uses the network_operation 'nudge': the Python function 'nudge', run every 1. ms during the simulation, which the exporter cannot describe. NeuroML/LEMS cannot run Python code; write the operation as equations, or describe the script with the 'markdown' device.
    """
    for run in runs:
        _refuse_network_operations(run)
        _refuse_own_clocks(run, exported)
        if "linked" not in exported:
            _refuse_linked_variables(run)
        if "restore" not in exported:
            _refuse_restore(run)
