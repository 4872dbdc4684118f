"""
The changes between two runs of one script (the ``'changes'`` of a run description).

When a script runs several times, each run after the first lists what
changed since the run before it: objects added or removed, assignments and
``connect()`` calls made in between, a new default ``dt``, changed values of
external names and of the compared keys of each kind of object
(see :doc:`/export_format`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from brian2.utils.logger import get_logger

from .describe_common import _Context, _same
from .describers import LIST_KEYS
from .log import ExportLog

__all__: list[str] = []

logger = get_logger(__name__)


def _add_operation_changes(description: dict[str, Any]) -> None:
    """List a ``network_operation`` new in this run among the run's changes."""
    for operation in description.get("network_operations", ()):
        if not operation["continued"]:
            description["changes"].append({
                "object": operation["name"],
                "kind": "added",
                "detail": f"'{operation['name']}' (network_operations) is new in this run",
            })


def _add_state_actions(description: dict[str, Any], log: ExportLog, run_index: int) -> None:
    """The ``store()``/``restore()`` calls made since the previous run (``'actions'``)."""
    actions = [dict(data) for index, data in getattr(log, "actions", ()) if index == run_index]
    if actions:
        description["actions"] = actions


#: The keys whose values are compared between runs, for each kind of object
#: (neuron groups and synapses list their assignments and connect() calls instead)
_COMPARED_KEYS = {
    "poissongroups": ("N", "rates", "namespace"),
    "spikegeneratorgroups": ("indices", "times", "period"),
    "poissoninputs": ("target", "target_var", "N", "rate", "weight", "namespace"),
    "statemonitors": ("source", "variables", "record", "dt", "when"),
    "spikemonitors": ("source", "event", "record", "variables"),
    "ratemonitors": ("source",),
}


#: The lists whose objects' changes between runs are listed ('spatialneurons' only
#: exists in runs that have some)
_CHANGE_KEYS = (*LIST_KEYS, "spatialneurons")


def _describe_assignment(data: dict[str, Any]) -> str:
    index = data["index"]
    target = data["variable"]
    if isinstance(index, str):
        target += f"[{index!r}]"
    elif index is not None:
        target += f"[{len(index)} cells]"
    value = data["value"]
    if data["kind"] == "expression":
        value = repr(value)
    elif data["kind"] == "array":
        value = f"<{np.size(value)} values>"
    return f"{target} = {value}"


def _changes(description, previous, context: _Context, previous_objects) -> list[dict[str, Any]]:
    """What changed since the previous run (see the ``'changes'`` key)."""
    if previous is None:
        return []
    changes: list[dict[str, Any]] = []
    current_objects = context.current_objects
    for obj_id, name in previous_objects.items():
        if obj_id not in current_objects:
            changes.append(
                {
                    "object": name,
                    "kind": "removed",
                    "detail": f"'{name}' is no longer part of the run",
                }
            )
    previous_by_name = {
        item["name"]: (key, item) for key in _CHANGE_KEYS for item in previous.get(key, [])
    }
    if not _same(description["dt"], previous["dt"]):
        changes.append(
            {
                "object": "defaultclock",
                "kind": "dt",
                "detail": f"dt = {description['dt']!s} (was {previous['dt']!s})",
            }
        )
    for key in _CHANGE_KEYS:
        for item in description.get(key, ()):
            name = item["name"]
            if not item["continued"]:
                changes.append(
                    {
                        "object": name,
                        "kind": "added",
                        "detail": f"'{name}' ({key}) is new in this run",
                    }
                )
                continue
            before = previous_by_name.get(name, (None, {}))[1]
            for data in item.get("initializers", []):
                changes.append(
                    {
                        "object": name,
                        "kind": "assignment",
                        "detail": _describe_assignment(data),
                        "initializer": data,
                    }
                )
            for data in item.get("connections", []):
                if data["created"]["start"] >= before.get("N", 0):
                    changes.append(
                        {
                            "object": name,
                            "kind": "connection",
                            "detail": f"connect() created {data['created']['stop'] - data['created']['start']} synapses",
                            "connection": data,
                        }
                    )
            old_namespace = before.get("namespace", {})
            for identifier, value in item.get("namespace", {}).items():
                if identifier in old_namespace and not _same(old_namespace[identifier], value):
                    changes.append(
                        {
                            "object": name,
                            "kind": "namespace",
                            "detail": f"{identifier} = {value!s} (was {old_namespace[identifier]!s})",
                        }
                    )
            for compared in _COMPARED_KEYS.get(key, ()):
                if compared in before and not _same(before[compared], item[compared]):
                    changes.append(
                        {"object": name, "kind": "modified", "detail": f"'{compared}' changed"}
                    )
    return changes
