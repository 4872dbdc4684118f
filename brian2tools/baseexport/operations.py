"""
Describing what runs outside the equations: Python operations, own clocks, links, stored states.

A description (see :doc:`/export_format`) can state some parts of a script
that no simulator format can run, so that a *reader* (the Markdown device)
still gets the whole script while a *simulator export* (the NeuroML device)
refuses them by name (:mod:`brian2tools.nmlexport.unsupported`):

* a ``network_operation``: its name, the name and docstring of its Python
  function, its clock and its slot in the time step
  (`describe_network_operation`, the ``'network_operations'`` list);
* a group on a clock of its own: its clock's name and ``dt``
  (`own_clock`, the ``'clock'`` entry of the object);
* a linked variable: the group and variable it reads, and the index
  (`linked_variables`, the ``'linked'`` entry of the equation);
* ``store()`` and ``restore()``: recorded as actions between runs
  (`state_action`, the ``'actions'`` list of the run that follows).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from brian2.core.clocks import Clock
from brian2.units.allunits import second
from brian2.units.fundamentalunits import Quantity
from brian2.utils.logger import get_logger

__all__ = [
    "describe_network_operation",
    "own_clock",
    "linked_variables",
    "state_action",
]

logger = get_logger(__name__)


def own_clock(obj, dt) -> dict[str, Any] | None:
    """
    The clock of ``obj`` if it ticks with another ``dt`` than the default clock.

    Parameters
    ----------
    obj : brian2.BrianObject
        A group, synapses, monitor or operation.
    dt : Quantity
        The default clock's ``dt``.

    Returns
    -------
    dict or None
        ``{'name': clock name, 'dt': Quantity}``, or ``None`` when ``obj``
        uses the default clock's ``dt``.

    Examples
    --------
    >>> from brian2 import Clock, NeuronGroup, ms
    >>> group = NeuronGroup(1, 'v : 1', clock=Clock(dt=1*ms, name='slow'))
    >>> own_clock(group, 0.1*ms)
    {'name': 'slow', 'dt': 1. * msecond}
    >>> own_clock(NeuronGroup(1, 'v : 1'), 0.1*ms) is None
    True
    """
    clock = obj.clock
    if not isinstance(clock, Clock):  # pragma: no cover -- Brian has no other clocks today
        return {"name": clock.name, "dt": None}
    if np.isclose(float(clock.dt), float(dt), rtol=1e-9, atol=0):
        return None
    return {"name": clock.name, "dt": Quantity(clock.dt, copy=True)}


def _first_paragraph(text: str | None) -> str | None:
    if not text:
        return None
    return text.strip().split("\n\n", 1)[0].replace("\n", " ").strip() or None


def describe_network_operation(operation, default_dt, continued: bool = False) -> dict[str, Any]:
    """
    The description of a `NetworkOperation` (Python code run during the simulation).

    Parameters
    ----------
    operation : brian2.NetworkOperation
        The operation (``@network_operation`` or ``NetworkOperation(f)``).
    default_dt : Quantity
        The default clock's ``dt``.
    continued : bool, optional
        Whether it was part of the previous run.

    Returns
    -------
    dict
        ``'name'``, ``'function'`` (the Python function's name),
        ``'doc'`` (the first paragraph of its docstring, or ``None``),
        ``'dt'`` (how often it runs), ``'clock'`` (`own_clock`),
        ``'when'``, ``'order'`` and ``'continued'``.

    Examples
    --------
    >>> from brian2 import NetworkOperation, ms
    >>> def jitter(t):
    ...     '''Move the input a little.'''
    >>> operation = NetworkOperation(jitter, dt=1*ms, name='jitter_op')
    >>> described = describe_network_operation(operation, 0.1*ms)
    >>> described['function'], described['doc'], described['dt']
    ('jitter', 'Move the input a little.', 1. * msecond)
    """
    function = operation.function
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    return {
        "name": operation.name,
        "function": name or type(function).__name__,
        "doc": _first_paragraph(inspect.getdoc(function)),
        "dt": Quantity(operation.clock.dt, copy=True),
        "clock": own_clock(operation, default_dt),
        "when": operation.when,
        "order": int(operation.order),
        "continued": continued,
    }


def linked_variables(group, descriptions) -> None:
    """
    Add a ``'linked'`` entry to the equations of ``group``'s linked variables.

    Parameters
    ----------
    group : brian2.Group
        The group (or synapses) the equations belong to.
    descriptions : list of dict
        Its equation descriptions; those with the flag ``'linked'`` get
        ``'linked': {'group': source name, 'variable': source variable,
        'index': None or int array, 'index_variable': None or name}``
        (``'index'`` is the source index of each cell; ``None`` means cell
        ``k`` reads the source's cell ``k``).

    Examples
    --------
    >>> from brian2 import NeuronGroup, linked_var
    >>> source = NeuronGroup(2, 'x : 1', name='source')
    >>> cells = NeuronGroup(4, 'y : 1 (linked)', name='cells')
    >>> cells.y = linked_var(source, 'x', index=[0, 0, 1, 1])
    >>> from brian2tools.baseexport.equations import describe_equations
    >>> equations = describe_equations(cells.user_equations)
    >>> linked_variables(cells, equations)
    >>> link = equations[0]['linked']
    >>> link['group'], link['variable'], link['index'].tolist()
    ('source', 'x', [0, 0, 1, 1])
    """
    for description in descriptions:
        if "linked" not in description["flags"]:
            continue
        name = description["name"]
        if name not in group.variables:  # pragma: no cover -- Brian refuses an unlinked run
            description["linked"] = None
            continue
        variable = group.variables[name]
        index_name = group.variables.indices[name]
        index = None
        if index_name not in ("_idx", "0") and index_name in group.variables:
            index = np.array(group.variables[index_name].get_value(), dtype=np.int64)
        owner = getattr(variable, "owner", None)
        description["linked"] = {
            "group": getattr(owner, "name", None),
            "variable": variable.name,
            "index": index,
            "index_variable": None if index_name.startswith("_") or index_name == "0"
            else index_name,
        }


def state_action(action: str, network, name: str = "default", filename=None) -> dict[str, Any]:
    """
    The description of a ``store()`` or ``restore()`` call.

    Parameters
    ----------
    action : {'store', 'restore'}
        What the script did.
    network : brian2.Network
        The network it did it to (the magic network for ``store()``).
    name : str, optional
        The snapshot's name.
    filename : str, optional
        The file the snapshot is written to / read from.

    Returns
    -------
    dict
        ``{'action', 'name', 'filename', 'network', 't'}``; ``'t'`` is the
        network's time after the call (the stored time for ``restore``).

    Examples
    --------
    >>> from brian2 import Network
    >>> state_action('store', Network(), 'trial')['t']
    0. * second
    """
    return {
        "action": action,
        "name": name,
        "filename": None if filename is None else str(filename),
        "network": network.name,
        "t": Quantity(float(network.t_), dim=second.dim),
    }
