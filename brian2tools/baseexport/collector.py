"""
Collecting the description of one run (see :doc:`/export_format`).

`collect_network` looks at every object of a `Network` once, understands it
with the describer of its class (:mod:`brian2tools.baseexport.describers`,
one function per Brian class) and returns the plain description of the run.
It resolves each object's external names like Brian's ``before_run`` would,
but it generates no code and integrates no equations, which is what makes
an export fast.

The steps of the collection live in their own modules, in the order the
data takes: the checks of the network and its objects
(:mod:`~brian2tools.baseexport.checks`), the describers and the pieces they
share (:mod:`~brian2tools.baseexport.describe_common`), and the changes
since the previous run (:mod:`~brian2tools.baseexport.changes`).

Anything that cannot be described faithfully is refused with an
`UnsupportedFeatureError` naming the object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from brian2.core.network import Network
from brian2.devices.device import get_device
from brian2.units.allunits import second
from brian2.units.fundamentalunits import Quantity
from brian2.utils.logger import get_logger

# The helpers imported under their own name (a redundant alias marks a re-export)
# used to live in this module: ``from .collector import clean_code`` keeps working.
from .changes import _add_operation_changes, _add_state_actions, _changes
from .checks import _check_clock as _check_clock
from .checks import _check_contained as _check_contained
from .checks import _check_network
from .describe_common import _code_identifiers as _code_identifiers
from .describe_common import _Context, _initial_values, group_reference
from .describe_common import _initializers as _initializers
from .describe_common import _main_slot as _main_slot
from .describe_common import _merge_namespaces as _merge_namespaces
from .describe_common import clean_code as clean_code
from .describers import LIST_KEYS, _add_own_clock, _describe
from .legacy import legacy_layout
from .log import ExportLog

__all__ = ["collect_network", "group_reference", "advance_network_time", "LIST_KEYS"]

logger = get_logger(__name__)


# ---------------------------------------------------------------------- #
# The network
# ---------------------------------------------------------------------- #
def _top_level_objects(network: Network) -> list:
    """The network's objects that are not part of another object (magic networks hold both)."""
    objects = list(network.objects)
    contained_ids = set()
    pending = list(objects)
    while pending:
        obj = pending.pop()
        for contained in obj.contained_objects:
            if contained.id not in contained_ids:
                contained_ids.add(contained.id)
                pending.append(contained)
    return [obj for obj in objects if obj.id not in contained_ids]


def _creation_rank(obj, creation_order: Mapping[Any, int]) -> tuple:
    """
    A sort key that puts objects in the order they were created.

    The device learns the order when the objects create their arrays. Objects
    without arrays (``PoissonInput``) come after, in the order of their
    names, which Brian numbers in creation order (``poissoninput``,
    ``poissoninput_1``, ...).
    """
    if obj.id in creation_order:
        return (0, creation_order[obj.id], "", 0)
    match = re.fullmatch(r"(.*?)(?:_(\d+))?", obj.name)
    return (1, 0, match.group(1), int(match.group(2) or 0) if match.group(2) else -1)


def collect_network(
    network: Network,
    duration,
    run_namespace: Mapping[str, Any],
    log: ExportLog | None = None,
    run_index: int = 0,
    previous: dict[str, Any] | None = None,
    creation_order: Mapping[Any, int] | None = None,
    spatial_neurons: bool = True,
) -> dict[str, Any]:
    """
    The description of one run of ``network`` (see :doc:`/export_format`).

    Parameters
    ----------
    network : brian2.Network
        The network about to run (the `MagicNetwork` for ``run()``).
    duration : Quantity
        The duration of the run.
    run_namespace : dict
        The run's namespace: the ``namespace`` argument of ``run()`` or the
        locals and globals of its caller (`get_local_namespace`).
    log : ExportLog, optional
        The assignments and ``connect()`` calls recorded by the device. Without
        a log (e.g. under the runtime device) the ``'initializers'`` and
        ``'connections'`` lists are empty, while ``'initial_values'``, ``'i'``
        and ``'j'`` are still complete.
    run_index : int, optional
        The position of this run (0 for the first).
    previous : dict, optional
        The description of the previous run, to list the changes.
    creation_order : mapping, optional
        Object id -> creation rank, to list objects in creation order
        (by default, the order of ``network.objects``).
    spatial_neurons : bool, optional
        Describe `SpatialNeuron` objects in the list ``'spatialneurons'``
        (default); with ``False`` they are refused.

    Returns
    -------
    description : dict
        The description of the run.

    Raises
    ------
    UnsupportedFeatureError
        If an object or a feature cannot be described faithfully.

    Examples
    --------
    >>> from brian2 import NeuronGroup, Network, ms
    >>> group = NeuronGroup(3, 'dv/dt = -v / tau : 1', name='cells')
    >>> net = Network(group)
    >>> run = collect_network(net, 10*ms, {'tau': 5*ms})
    >>> run['neurongroups'][0]['namespace']
    {'tau': 5. * msecond}
    """
    if log is None:
        log = ExportLog()
    objects = _top_level_objects(network)
    objects.sort(key=lambda obj: _creation_rank(obj, creation_order or {}))
    _check_network(network, objects)
    dt = get_device().defaultclock.dt
    previous_objects = log.run_objects[-1] if previous is not None and log.run_objects else {}
    context = _Context(run_namespace, log, dt, set(previous_objects))
    context.run_index = run_index
    context.spatial_neurons = spatial_neurons
    description: dict[str, Any] = {
        "index": run_index,
        "duration": Quantity(duration, dim=second.dim, copy=True),
        "dt": Quantity(dt, copy=True),
        "t_start": Quantity(network.t, copy=True),
        "seed": log.seed_since(run_index),
    }
    for key in LIST_KEYS:
        description[key] = []
    current_objects = {}
    restored = any(action.get("action") == "restore"
                   for index, action in getattr(log, "actions", ()) if index == run_index)
    for obj in objects:
        described = _describe(obj, context)
        if described is None:
            continue
        key, item = described
        _add_own_clock(key, item, obj, context)
        if restored and item.get("continued") and "initial_values" in item:
            # after restore(): the whole state the run starts from (a trial of its own)
            item["restored_values"] = _initial_values(obj, [
                eq["name"] for eq in item.get("equations") or ()
                if eq["type"] in ("differential equation", "parameter")])
        # 'spatialneurons' (and 'network_operations') are only there when the run has some
        description.setdefault(key, []).append(item)
        current_objects[obj.id] = obj.name
    context.current_objects = current_objects
    description["changes"] = _changes(description, previous, context, previous_objects)
    _add_state_actions(description, log, run_index)
    if previous is not None:
        _add_operation_changes(description)
    log.run_objects.append(current_objects)
    # the layout of brian2tools 0.3, built from the description above (no second collection)
    description.update(legacy_layout(description))
    return description


def advance_network_time(network: Network, duration) -> None:
    """
    Move the network's time and clocks to the end of a run of ``duration``, as Brian would.

    Parameters
    ----------
    network : brian2.Network
        The network.
    duration : Quantity
        The duration of the run that was described instead of simulated.

    Examples
    --------
    >>> from brian2 import Network, NeuronGroup, ms
    >>> net = Network(NeuronGroup(1, 'v : 1'))
    >>> advance_network_time(net, 5*ms)
    >>> net.t
    5. * msecond
    """
    t_end = network.t + duration
    clocks = {obj.clock for obj in network.sorted_objects}
    for clock in clocks:
        clock.set_interval(network.t, t_end)
        end_step = clock._i_end
        clock.variables["timestep"].set_value(end_step)
        clock.variables["t"].set_value(end_step * clock.dt_)
    network.t_ = float(t_end)
