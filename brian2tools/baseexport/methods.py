"""
The integration method Brian uses for a group's differential equations.

When the script names no method (or a list of them), Brian tries its
default methods in order and uses the first that can integrate the
equations. `chosen_method` makes the same choice, so the description can
say which method the simulation would use (``'method_used'``), not only
what the script asked for (``'method'``).
"""

from __future__ import annotations

from brian2.stateupdaters.base import StateUpdateMethod, UnsupportedEquationsException
from brian2.utils.logger import get_logger

__all__ = ["chosen_method"]

logger = get_logger(__name__)


# (equations text, variable names, choices) -> method: trying 'exact' on large
# linear systems takes a second, and scripts often have several identical groups
_CHOSEN: dict[tuple, str | None] = {}
_CACHE_SIZE = 256


def _first_method(equations, variables, choices: tuple[str, ...]) -> str | None:
    """The first of ``choices`` that integrates the equations."""
    for name in choices:
        updater = StateUpdateMethod.stateupdaters.get(name.lower())
        if updater is None:
            continue
        try:
            updater(equations, variables)
        except UnsupportedEquationsException:
            continue
        return name.lower()
    return None


def chosen_method(equations, variables, method_choice) -> str | None:
    """
    The integration method Brian uses for ``equations``.

    Parameters
    ----------
    equations : brian2.Equations
        The equations Brian integrates (``group.equations``).
    variables : dict
        The group's variables (``group.variables``).
    method_choice : str, callable, list of str or None
        What the script asked for (``group.method_choice``).

    Returns
    -------
    str or None
        The name of the method; ``None`` when there is no differential
        equation, or no method fits (Brian refuses the model then).

    Examples
    --------
    >>> from brian2 import NeuronGroup
    >>> group = NeuronGroup(1, 'dv/dt = -v / (10*ms) : 1')
    >>> group.method_choice, chosen_method(group.equations, group.variables, group.method_choice)
    (('exact', 'euler', 'heun'), 'exact')
    """
    if not equations.diff_eq_names:
        return None
    if isinstance(method_choice, str):
        return method_choice.lower()
    if callable(method_choice):
        return getattr(method_choice, "__name__", repr(method_choice))
    choices = tuple(str(name) for name in (method_choice or ()) if isinstance(name, str))
    key = (str(equations), tuple(sorted(variables)), choices)
    if key not in _CHOSEN:
        try:
            chosen = _first_method(equations, variables, choices)
        except Exception as error:  # noqa: BLE001 -- the description stays usable without it
            logger.debug(f"Could not determine the integration method: {error}")
            return None
        if len(_CHOSEN) >= _CACHE_SIZE:
            _CHOSEN.clear()
        _CHOSEN[key] = chosen
    return _CHOSEN[key]
