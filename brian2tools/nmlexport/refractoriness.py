"""
Brian's refractoriness in a LEMS cell type: ``lastspike`` and ``not_refractory``.

Brian ends the refractory period when ``timestep(t - lastspike, dt) >=
timestep(refractory, dt)`` (a fixed period, one per cell or an expression),
or when a refractoriness condition becomes false. The cell types of
:mod:`.neurongroup` keep both variables as state and update
``not_refractory`` after the threshold and reset, for the next step, in
the same way (LEMS regimes would update one step late).
"""

from __future__ import annotations

import ast

import lems.api as lems
from brian2.utils.logger import get_logger

from .lemsrendering import render_condition, render_expression

__all__ = ["refractory_steps_of", "add_refractoriness_update", "is_condition"]

logger = get_logger(__name__)

_TIME, _DT = "t", "dt"
_LASTSPIKE, _NOT_REFRACTORY = "lastspike", "not_refractory"


def refractory_steps_of(builder) -> str | None:
    """
    The refractory period of a cell type in time steps, as Brian's ``timestep()`` computes it.

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        The builder of the group's cell type (a fixed period becomes a
        ``Constant`` of the type).

    Returns
    -------
    str or None
        LEMS code of the number of steps, or ``None`` for a boolean
        refractoriness condition.

    Examples
    --------
    >>> from brian2 import ms, volt
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> group = {'name': 'lif', 'N': 1, 'refractory': 2*ms,
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '-v/(10*ms)', 'unit': volt, 'var_type': 'float',
    ...                         'flags': ['unless refractory']}],
    ...          'events': {'spike': {'threshold': 'v > 10*mV', 'reset': 'v = 0*mV'}},
    ...          'namespace': {}, 'initial_values': {'v': [0]*volt}}
    >>> cell = build_cell_types(group, 0.1*ms)  # uses this module
    >>> [(c.name, c.value) for c in cell.cell_type.constants if c.name == 'refractory_steps']
    [('refractory_steps', '20')]
    """
    if isinstance(builder.refractory, str):
        if is_condition(builder.refractory, builder.booleans):
            return None
        period = render_expression(builder.refractory, builder.inlined(_TIME), builder.owner,
                                   "the refractoriness", builder.booleans)
        # floor((period + 0.001*dt) / dt), with LEMS's ceil
        dt = _group_dt(builder)[0]
        return f"(-ceil(-(({period} + 0.001 * {dt}) / {dt})))"
    period = float(builder.refractory)
    dt = _group_dt(builder)[1]
    steps = int((period + 1e-3 * dt) / dt)
    name = builder.names.new("refractory_steps")
    builder.cell_type.add(lems.Constant(name, str(steps), "none"))
    return name


def add_refractoriness_update(builder, dynamics, refractory_steps) -> None:
    """
    Add what Brian computes at the start of each step: whether a cell is still refractory.

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        The builder of the group's cell type.
    dynamics : lems.Dynamics
        The cell type's dynamics (changed).
    refractory_steps : str or None
        `refractory_steps_of` the builder.

    Examples
    --------
    >>> from brian2 import ms, volt
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> group = {'name': 'lif', 'N': 1, 'refractory': 2*ms,
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '-v/(10*ms)', 'unit': volt, 'var_type': 'float',
    ...                         'flags': ['unless refractory']}],
    ...          'events': {'spike': {'threshold': 'v > 10*mV', 'reset': 'v = 0*mV'}},
    ...          'namespace': {}, 'initial_values': {'v': [0]*volt}}
    >>> cell = build_cell_types(group, 0.1*ms)  # uses this module
    >>> [h.test for h in cell.cell_type.dynamics.event_handlers if hasattr(h, 'test')][-2:]
    ['(t - lastspike + 0.001 * dt) / dt .geq. refractory_steps', \
'(t - lastspike + 0.001 * dt) / dt .lt. refractory_steps']
    """
    next_step = builder.inlined(_TIME)
    if refractory_steps is None:
        # boolean condition: Brian leaves refractoriness once it is false
        leave = render_condition(builder.refractory, next_step, builder.owner, "the refractoriness",
                                 builder.booleans, negate=True)
        handler = lems.OnCondition(leave)
        handler.add(lems.StateAssignment(_NOT_REFRACTORY, "1"))
        dynamics.add(handler)
        return
    dt = _group_dt(builder)[0]
    elapsed = f"({_TIME} - {_LASTSPIKE} + 0.001 * {dt}) / {dt}"
    for comparison, value in ((".geq.", "1"), (".lt.", "0")):
        handler = lems.OnCondition(f"{elapsed} {comparison} {refractory_steps}")
        handler.add(lems.StateAssignment(_NOT_REFRACTORY, value))
        dynamics.add(handler)


def _group_dt(builder) -> tuple[str, float]:
    """The LEMS name and the value (s) of Brian's ``dt`` of the group (its own clock's)."""
    if getattr(builder, "clock", None):  # a group on its own clock (.own_clock)
        return builder.identifiers[_DT], float(builder.group["clock"]["dt"])
    return _DT, builder.dt


def is_condition(code: str, booleans) -> bool:
    """
    Whether Brian code is a boolean condition (else: an arithmetic expression).

    Parameters
    ----------
    code : str
        Brian code.
    booleans : collection of str
        The boolean variables it may use.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_condition('v > 1', ()), is_condition('5*ms', ()), is_condition('flag', {'flag'})
    (True, False, True)
    """
    node = ast.parse(code.strip(), mode="eval").body
    return (
        isinstance(node, (ast.Compare, ast.BoolOp))
        or (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not))
        or (isinstance(node, ast.Name) and node.id in booleans)
        or (isinstance(node, ast.Constant) and isinstance(node.value, bool))
    )
