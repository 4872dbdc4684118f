"""
The layout of brian2tools 0.3's ``device.runs``, built from our description.

brian2tools 0.3 documented a different layout for the description of a run:
the objects under ``'components'``, grouped by kind (``'neurongroup'``,
``'synapses'``...), equations keyed by variable name, external constants
as ``'identifiers'``, and the assignments and ``connect()`` calls of the
script in one list, ``'initializers_connectors'``. Exporters written against
that documentation keep working: `legacy_layout` derives these keys from
the description of :doc:`/export_format` (it is a pure function; nothing is
collected twice), and every run description carries them next to the
current keys (see the table of :doc:`/export_format`). The Python
operations the description states (``'network_operations'``) are listed
under the kind ``'network_operation'``, and an object on a clock of its own
gets that clock's ``dt``.

The values (quantities, arrays, strings) are the same objects as in the
current keys, not copies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["LEGACY_KINDS", "legacy_layout"]

#: The kinds of 0.3's ``'components'`` and the list of the description each comes from
LEGACY_KINDS = {
    "neurongroup": "neurongroups",
    "poissongroup": "poissongroups",
    "spikegeneratorgroup": "spikegeneratorgroups",
    "synapses": "synapses",
    "poissoninput": "poissoninputs",
    "statemonitor": "statemonitors",
    "spikemonitor": "spikemonitors",
    "eventmonitor": "spikemonitors",
    "populationratemonitor": "ratemonitors",
}


def _equations(description: Mapping) -> dict[str, dict[str, Any]]:
    """0.3's equations: keyed by variable, in the script's order, without empty entries."""
    by_name = {equation["name"]: equation for equation in description.get("equations", ())}
    order = [name for name in description.get("equation_order", ()) if name in by_name]
    order += [name for name in by_name if name not in order]
    equations = {}
    for name in order:
        equation = by_name[name]
        entry = {"type": equation["type"], "unit": equation["unit"],
                 "var_type": equation["var_type"]}
        if equation.get("expr") is not None:
            entry["expr"] = equation["expr"]
        if equation.get("flags"):
            entry["flags"] = list(equation["flags"])
        equations[name] = entry
    return equations


def _slot(description: Mapping, dt) -> dict[str, Any]:
    return {"when": description.get("when"), "order": description.get("order"), "dt": dt}


def _events(group: Mapping, dt) -> dict[str, dict[str, Any]]:
    events = {}
    slots = group.get("event_slots", {})
    for name, event in group.get("events", {}).items():
        slot = slots.get(name) or {}
        entry: dict[str, Any] = {"threshold": {"code": event["threshold"],
                                               **(slot.get("threshold") or {}), "dt": dt}}
        if event.get("reset"):
            entry["reset"] = {"code": event["reset"], **(slot.get("reset") or {}), "dt": dt}
        if name == "spike" and group.get("refractory") is not None:
            entry["refractory"] = group["refractory"]
        events[name] = entry
    return events


def _neurongroup(group: Mapping, dt) -> dict[str, Any]:
    return {
        "name": group["name"],
        "N": group["N"],
        "user_method": group.get("method"),
        "equations": _equations(group),
        "events": _events(group, dt),
        "run_regularly": [{key: operation[key] for key in ("name", "code", "dt", "when", "order")}
                          for operation in group.get("run_regularly") or ()],
        "identifiers": dict(group.get("namespace", {})),
        "when": group.get("when"),
        "order": group.get("order"),
        "dt": dt,
    }


def _synapses(synapses: Mapping, dt) -> dict[str, Any]:
    source, target = synapses["source"]["group"], synapses["target"]["group"]
    pathways = []
    for pathway in synapses.get("pathways", ()):
        pre = pathway["prepost"] == "pre"
        pathways.append({
            "prepost": pathway["prepost"],
            "event": pathway["event"],
            "code": pathway["code"],
            "source": source if pre else target,
            "target": target if pre else source,
            "name": f"{synapses['name']}_{pathway['name']}",
            "clock": dt,
            "when": pathway.get("when"),
            "order": pathway.get("order"),
            "delay": pathway.get("delay"),
        })
    summed = []
    slots = synapses.get("summed_slots", {})
    for equation in synapses.get("equations", ()):
        if "summed" in equation.get("flags", ()):
            summed.append({
                "target": target,
                "code": equation["name"],
                "name": f"{synapses['name']}_summed_variable_{equation['name']}",
                "expr": equation["expr"],
                "dt": dt,
                **(slots.get(equation["name"]) or {}),
            })
    return {
        "name": synapses["name"],
        "source": source,
        "target": target,
        "equations": _equations(synapses),
        "user_method": synapses.get("method"),
        "pathways": pathways,
        "summed_variables": summed,
        "run_regularly": [],
        "identifiers": dict(synapses.get("namespace", {})),
        "N": synapses.get("N"),
        "when": synapses.get("when"),
        "order": synapses.get("order"),
    }


def _component(kind: str, item: Mapping, dt) -> dict[str, Any]:
    """One object of ``'components'`` in 0.3's layout."""
    if kind == "neurongroup":
        return _neurongroup(item, dt)
    if kind == "synapses":
        return _synapses(item, dt)
    common = {"name": item["name"], **_slot(item, item.get("dt", dt))}
    if kind == "poissongroup":
        entry = {"N": item["N"], "rates": item["rates"]}
        if item.get("namespace"):
            entry["identifiers"] = dict(item["namespace"])
        return {**common, **entry}
    if kind == "spikegeneratorgroup":
        return {**common, "N": item["N"], "indices": item["indices"], "times": item["times"],
                "period": item["period"]}
    if kind == "poissoninput":
        return {**common, "target": item["target"]["group"], "target_var": item["target_var"],
                "N": item["N"], "rate": item["rate"], "weight": item["weight"],
                "identifiers": dict(item.get("namespace", {}))}
    source = item["source"]
    start, stop = int(source["start"]), int(source["stop"])
    if kind == "statemonitor":
        record = np.asarray(item["record"]) + start
        everything = record.size == stop - start and np.array_equal(
            record, np.arange(start, stop))
        return {**common, "source": source["group"], "variables": list(item["variables"]),
                "record": True if everything and start == 0 else record,
                "n_indices": int(record.size)}
    if kind in ("spikemonitor", "eventmonitor"):
        return {**common, "source": source["group"], "event": item["event"],
                "record": item["record"], "variables": list(item["variables"]),
                "source_size": stop - start}
    return {**common, "source": source["group"]}  # populationratemonitor


def _initializer(owner: str, initializer: Mapping) -> dict[str, Any]:
    through = initializer.get("group") or {}
    start = int(through.get("start", 0))
    index = initializer.get("index")
    if index is None:
        index = True
    elif not isinstance(index, str):
        index = np.asarray(index) + start  # 0.3 gave indices in the whole group
    entry = {"type": "initializer", "source": owner, "variable": initializer["variable"],
             "index": index, "value": initializer["value"]}
    if initializer.get("namespace"):
        entry["identifiers"] = dict(initializer["namespace"])
    return entry


def _connector(synapses: Mapping, connection: Mapping) -> dict[str, Any]:
    entry = {"type": "connect", "synapses": synapses["name"],
             "source": synapses["source"]["group"], "target": synapses["target"]["group"],
             "probability": connection.get("p", 1.0), "n_connections": connection.get("n", 1)}
    for key in ("i", "j", "condition"):
        if connection.get(key) is not None:
            entry[key] = connection[key]
    if connection.get("namespace"):
        entry["identifiers"] = dict(connection["namespace"])
    return entry


def _initializers_connectors(run: Mapping) -> list[dict[str, Any]]:
    """The assignments and ``connect()`` calls of the run, in the order the script made them."""
    steps = []
    for key in ("neurongroups", "poissongroups", "synapses"):
        for item in run.get(key, ()):
            for initializer in item.get("initializers", ()):
                steps.append((initializer.get("sequence", 0),
                              _initializer(item["name"], initializer)))
    new_calls = {id(change["connection"]) for change in run.get("changes", ())
                 if change.get("kind") == "connection"}
    for synapses in run.get("synapses", ()):
        for connection in synapses.get("connections", ()):
            # a continued object's earlier connect() calls were made before an earlier run
            if synapses.get("continued") and id(connection) not in new_calls:
                continue
            steps.append((connection.get("sequence", 0), _connector(synapses, connection)))
    steps.sort(key=lambda step: step[0])
    return [entry for _, entry in steps]


def _add_network_operations(components: dict[str, list], run: Mapping) -> None:
    """0.3's ``'network_operation'`` kind: name, function, docstring and slot of each one."""
    for operation in run.get("network_operations", ()):
        components.setdefault("network_operation", []).append({
            "name": operation["name"],
            "function": operation["function"],
            "doc": operation.get("doc"),
            **_slot(operation, operation.get("dt")),
        })


def legacy_layout(run: Mapping) -> dict[str, Any]:
    """
    The keys of brian2tools 0.3's run description, built from one of ours.

    Parameters
    ----------
    run : dict
        A run description (an entry of ``device.runs``, see
        :doc:`/export_format`).

    Returns
    -------
    dict
        ``{'components': {kind: [object dict, ...]}, 'initializers_connectors':
        [...], 'inactive': [...], 'duration': Quantity}``; only kinds that
        have objects are in ``'components'``, as in 0.3.

    Examples
    --------
    >>> from brian2 import NeuronGroup, Network, ms
    >>> from brian2tools.baseexport import collect_network
    >>> group = NeuronGroup(3, 'dv/dt = -v / tau : 1', method='exact', name='cells')
    >>> run = collect_network(Network(group), 10*ms, {'tau': 5*ms})
    >>> layout = legacy_layout(run)
    >>> cells = layout['components']['neurongroup'][0]
    >>> cells['user_method'], cells['equations']['v']['expr'], cells['identifiers']
    ('exact', '-v / tau', {'tau': 5. * msecond})
    """
    dt = run.get("dt")
    components: dict[str, list[dict[str, Any]]] = {}
    for kind, key in LEGACY_KINDS.items():
        for item in run.get(key, ()):
            if key == "spikemonitors" and (item.get("event") == "spike") != (
                    kind == "spikemonitor"):
                continue
            # an object on its own clock has that clock's dt (see .operations.own_clock)
            own_dt = (item.get("clock") or {}).get("dt", dt)
            components.setdefault(kind, []).append(_component(kind, item, own_dt))
    _add_network_operations(components, run)
    return {
        "components": components,
        "initializers_connectors": _initializers_connectors(run),
        # objects with active=False are refused when collecting: there are never any
        "inactive": [],
        "duration": run.get("duration"),
    }
