"""
Resolving the external names of a piece of model code, like Brian does.

Brian resolves each name in an object's code (equations, threshold, reset,
assigned expressions, ...) first among the object's own variables, then
among its built-in names (units such as ``mV``, the constants ``pi``, ``e``,
``inf``, functions such as ``exp`` or ``rand``), then in the object's
``namespace`` argument or the run's namespace. `external_values` performs the
same resolution (with Brian's own `Group.resolve_all`) and keeps the values
of the names found outside the object and Brian's built-ins: the
``'namespace'`` entries of the model description.

A `TimedArray` is described by its values (see `timed_array_description`):
it is piecewise constant, so its values, their unit and its ``dt`` are all
of its behaviour. A name that resolves to any other user-defined function
(a `Function` that is not one of Brian's defaults) or to a variable of some
other object is refused: its behaviour cannot be written down as a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from brian2.core.functions import DEFAULT_FUNCTIONS, Function
from brian2.core.namespace import DEFAULT_CONSTANTS, DEFAULT_UNITS
from brian2.core.variables import Constant, Variable
from brian2.input.timedarray import TimedArray
from brian2.units.allunits import second
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity

from .errors import UnsupportedFeatureError

__all__ = ["external_values", "plain_value", "timed_array_description", "CODE_KEYWORDS"]

#: Words of Brian's code syntax that `get_identifiers` reports as names
CODE_KEYWORDS = frozenset({"and", "or", "not", "True", "False"})


def plain_value(value: Any) -> Any:
    """
    A value as the description stores it.

    Quantities with dimensions stay (scalar) Quantities; dimensionless values
    become Python ``bool``, ``int`` or ``float`` (scalars) or numpy arrays.

    Parameters
    ----------
    value : Quantity, numpy scalar or array, or Python number
        The value.

    Returns
    -------
    value : Quantity, bool, int, float or numpy.ndarray

    Examples
    --------
    >>> from brian2 import mV
    >>> plain_value(np.float64(3.0)), plain_value(5*mV)
    (3.0, 5. * mvolt)
    """
    dim = getattr(value, "dim", DIMENSIONLESS)
    array = np.asarray(value)
    if dim is not DIMENSIONLESS:
        return Quantity(array.copy(), dim=dim)
    if array.ndim == 0:
        return array.item()
    return array.copy()


def timed_array_description(name: str, timed_array: TimedArray) -> dict[str, Any]:
    """
    The description of a `TimedArray`: what the namespace of a description stores for it.

    Parameters
    ----------
    name : str
        The name the code uses for it.
    timed_array : TimedArray

    Returns
    -------
    description : dict
        ``{'type': 'TimedArray', 'name': name, 'values': ..., 'dt': ...,
        'dimensions': 1 or 2}``: the values (a Quantity with the array's unit,
        or a plain array; shape ``(n_times,)``, or ``(n_times, n_neurons)`` for
        a function of time and neuron index) and the time step of the values
        (a Quantity in seconds).

    Examples
    --------
    >>> from brian2 import TimedArray, nA, ms
    >>> described = timed_array_description('stim', TimedArray([0, 1, 2]*nA, dt=1*ms))
    >>> described['values'], described['dt'], described['dimensions']
    (array([0., 1., 2.]) * namp, 1. * msecond, 1)
    """
    values = np.array(timed_array.values, dtype=float, copy=True)
    return {
        "type": "TimedArray",
        "name": name,
        "values": plain_value(Quantity(values, dim=timed_array.dim))
        if timed_array.dim is not DIMENSIONLESS else values,
        "dt": Quantity(float(timed_array.dt), dim=second.dim),
        "dimensions": int(values.ndim),
    }


def _is_builtin(name: str, resolved: Any) -> bool:
    """Whether ``resolved`` is Brian's built-in meaning of ``name``."""
    if isinstance(resolved, Function):
        return DEFAULT_FUNCTIONS.get(name) is resolved
    # Built-in units and constants take precedence over every user namespace
    # in Brian's resolution order
    return name in DEFAULT_UNITS or name in DEFAULT_CONSTANTS


def external_values(
    group,
    identifiers: Iterable[str],
    run_namespace: Mapping[str, Any],
    object_name: str,
    context: str,
    ignore: Iterable[str] = (),
) -> dict[str, Any]:
    """
    The external constants among ``identifiers``, resolved in ``group``'s context.

    Parameters
    ----------
    group : brian2.Group
        The object whose code uses the names (its variables, its
        ``namespace`` argument and Brian's built-ins come first, as in Brian).
    identifiers : iterable of str
        The names used by the code (e.g. from `get_identifiers`).
    run_namespace : dict
        The run's namespace (explicit or the caller's locals and globals).
    object_name : str
        The name to report in errors.
    context : str
        Where the names are used (``"the equations"``, ``"the threshold"``, ...),
        for errors.
    ignore : iterable of str, optional
        Names that are not to be resolved (e.g. the stochastic ``xi``).

    Returns
    -------
    namespace : dict
        Name -> value (Quantity, bool, int or float) of every used name found
        outside ``group`` and Brian's built-ins, sorted by name; a `TimedArray`
        is described by a dict (`timed_array_description`).

    Raises
    ------
    UnsupportedFeatureError
        If a name is a user-defined function other than a `TimedArray`, or a
        variable of another object.
    KeyError
        If a name cannot be resolved (Brian's message).

    Examples
    --------
    >>> from brian2 import NeuronGroup, ms
    >>> group = NeuronGroup(1, 'dv/dt = -v / tau : 1')
    >>> external_values(group, {'v', 'tau', 'ms'}, {'tau': 10*ms}, 'neurongroup', 'the equations')
    {'tau': 10. * msecond}
    """
    names = sorted(set(identifiers) - CODE_KEYWORDS - set(ignore))
    if not names:
        return {}
    resolved = group.resolve_all(names, run_namespace, user_identifiers=names)
    own_variables = getattr(group, "variables", {})
    namespace: dict[str, Any] = {}
    for name in names:
        obj = resolved[name]
        if name in own_variables and own_variables[name] is obj:
            continue
        if _is_builtin(name, obj):
            continue
        if isinstance(obj, TimedArray):
            namespace[name] = timed_array_description(name, obj)
            continue
        if isinstance(obj, Function):
            kind = type(obj).__name__
            raise UnsupportedFeatureError(
                object_name,
                f"the function '{name}' ({kind}, a user-defined function) in {context}",
                "Only Brian's built-in functions can be exported.",
            )
        if isinstance(obj, Constant):
            value = obj.value
            if obj.dim is not DIMENSIONLESS:
                value = Quantity(value, dim=obj.dim)
            namespace[name] = plain_value(value)
        elif isinstance(obj, Variable):
            owner = getattr(getattr(obj, "owner", None), "name", "another object")
            raise UnsupportedFeatureError(
                object_name,
                f"the name '{name}' in {context}, which refers to a variable of "
                f"'{owner}' given in the namespace",
            )
        else:  # pragma: no cover -- resolve_all only returns the types above
            raise UnsupportedFeatureError(
                object_name, f"the name '{name}' in {context} ({type(obj).__name__})"
            )
    return namespace
