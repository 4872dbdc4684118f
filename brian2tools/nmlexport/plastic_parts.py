"""
Plastic synapses in the network's parts.

`add_plastic_parts` turns a plan of :mod:`.plastic_synapses` into the parts
the network export writes (:mod:`.network_parts`): the synapse type that
carries the post-synaptic variables it changes, and the projection with one
connection per Brian synapse, whose weight is the initial value of the one
variable that differs between synapses (`initial_weights`) and whose delay
follows the synapse's timing (:func:`.plastic_delivery.delivery_delays`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .network_parts import CellPaths
from .plastic_delivery import delivery_delays
from .plastic_synapses import PlasticSynapses
from .synapse_components import SynapseType, SynapticProjection

__all__ = ["initial_weights", "add_plastic_parts"]


def initial_weights(synapses: Mapping, plan: PlasticSynapses) -> np.ndarray:
    """
    The ``weight`` of each connection: the initial value (SI) of `PlasticSynapses.weighted`.

    Parameters
    ----------
    synapses : mapping
        The *synapses* entry.
    plan : PlasticSynapses

    Returns
    -------
    ndarray

    Examples
    --------
    >>> plan = PlasticSynapses('S', 'P', weighted='w')
    >>> initial_weights({'i': [0, 1], 'initial_values': {'w': [0.5, 0.25]}}, plan).tolist()
    [0.5, 0.25]
    """
    n_synapses = len(synapses.get("i", ()))
    if plan.weighted is None:
        return np.ones(n_synapses)
    values = np.asarray(synapses["initial_values"][plan.weighted], dtype=float)
    return np.broadcast_to(values, (n_synapses,)).copy()


def add_plastic_parts(plan: PlasticSynapses, synapses: Mapping, parts, unique, dt: float):
    """
    Add the synapse type and the projection of plastic synapses to the network's parts.

    Parameters
    ----------
    plan : PlasticSynapses
        From `plan_plastic_synapses`; its type and component names are set here.
    synapses : mapping
        The *synapses* entry.
    parts : NetworkParts
        The network's parts (`~.network_parts.NetworkParts`), modified in place:
        a `~.synapse_components.SynapseType` carrying the post-synaptic
        variables, a `~.synapse_components.SynapticProjection` with one
        connection per synapse, and the post-synaptic group's spike times.
    unique : callable
        ``unique(base)`` gives a name not used yet in the model.
    dt : float
        The time step (seconds).

    Examples
    --------
    >>> add_plastic_parts(plan, synapses, parts, unique, 1e-4)  # doctest: +SKIP
    """
    name = synapses["name"]
    components = parts.carried[plan.group]
    carried = sorted(set().union(*(components[variable] for variable in plan.changed)))
    plan.type_name = unique(f"{name}_plastic_synapse")
    plan.component = unique(f"{name}_plastic")
    parts.synapse_types.append(SynapseType(
        plan.type_name, plan.component, plan.group, parts.synapse_bases[plan.group],
        tuple(carried), [], amplitude=1.0, origin=name))
    if plan.post:
        parts.spike_times.add(plan.group)
    i = np.asarray(synapses["i"], dtype=np.int64)
    j = np.asarray(synapses["j"], dtype=np.int64)
    pre = next((p for p in synapses.get("pathways") or () if p["prepost"] == "pre"), {})
    delays = np.broadcast_to(np.asarray(pre.get("delay", 0.0), dtype=float), i.shape)
    steps = (delays / float(dt) + 0.5).astype(np.int64)  # Brian's rounding
    source, target = synapses["source"], synapses["target"]
    def paths(reference, indices):
        return CellPaths(reference["group"], indices + int(reference.get("start") or 0))

    parts.synaptic_projections.append(SynapticProjection(
        unique(f"{name}_projection"), plan.component, source["group"], target["group"],
        paths(source, i), paths(target, j), initial_weights(synapses, plan),
        delivery_delays(plan, steps, dt, parts), origin=name))
