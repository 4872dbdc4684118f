"""
Custom events and the values of the thresholds slot in a LEMS cell type.

Brian runs, in each time step after the state update, the *thresholds*
slot (the spike's threshold, which sets ``lastspike`` and
``not_refractory`` of the cells that spike), the *after_thresholds* slot
(the condition of each custom event of ``NeuronGroup(..., events={...})``,
which thus sees the spike's ``not_refractory``, and the EventMonitors),
the *resets* slot (the spike's reset) and then, by default, the
*after_resets* slot, where the code of ``run_on_event(event, code)`` runs
(objects of one slot by name). The cell types of :mod:`.neurongroup` follow
that order with these LEMS handlers, which jNeuroML runs one after the other
after its update:

1. one ``OnCondition`` that runs every step and copies into state variables
   ``<name>__thresholds`` the values after the update and before any reset:
   those of the variables that monitors record *in the thresholds slot* (a
   StateMonitor with ``when='thresholds'``, the ``variables`` of a
   SpikeMonitor or an EventMonitor), and those of the variables that the
   spike's reset changes when the group has custom events;
2. the spike's threshold and reset (:mod:`.neurongroup`);
3. for each custom event (by name), a state variable ``<event>__fired`` set
   to 1 or 0 by its condition, which reads the copies of step 1 for the
   variables the reset changed: the condition sees the state before the
   reset, with the spike's ``lastspike`` and ``not_refractory``, as in Brian;
4. for each custom event that fired, its ``run_on_event`` statements and an
   ``EventOut`` on a port named after the event (recorded by an
   ``EventOutputFile`` selecting that port, like the spikes).

Brian's refractoriness only blocks the spike: custom events are tested in
every step, unless their condition says otherwise (``not_refractory``).
Code of ``run_on_event`` in another slot than Brian's default,
``'after_resets'``, is refused by name.
"""

from __future__ import annotations

import lems.api as lems
from brian2 import get_dimensions
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from .lemsrendering import (
    parse_statements,
    render_condition,
    render_expression,
    strip_parentheses,
)

__all__ = ["custom_events_of", "event_targets", "event_code", "captured_name",
           "add_threshold_slot", "add_event_actions", "CAPTURE_SUFFIX"]

logger = get_logger(__name__)

#: Suffix of the state variables (and exposures) with a value of the thresholds slot
CAPTURE_SUFFIX = "__thresholds"
_TIME, _DT = "t", "dt"
_ALWAYS = "t .geq. 0"


def captured_name(variable: str) -> str:
    """
    The key of a variable's value in the thresholds slot (in ``CellTypes.exposures``).

    Parameters
    ----------
    variable : str
        A variable of the group.

    Returns
    -------
    str

    Examples
    --------
    >>> captured_name('v')
    'v__thresholds'
    """
    return f"{variable}{CAPTURE_SUFFIX}"


def custom_events_of(builder) -> dict[str, tuple[str, list]]:
    """
    The custom events of a group, in the order in which Brian tests them.

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        The builder of the group's cell type.

    Returns
    -------
    dict
        Event name -> (condition, statements of ``run_on_event``), in the
        order of their code in the ``after_resets`` slot (by ``order``, then
        by name, as Brian orders the objects of a slot).

    Raises
    ------
    UnsupportedFeatureError
        For a custom event without a condition, or whose code
        (``run_on_event``) or test runs in another slot than Brian's default.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> group = {'events': {'spike': {'threshold': 'v > 1', 'reset': 'v = 0'},
    ...                     'high': {'threshold': 'v > 0.8', 'reset': 'ca += 0.1'}}}
    >>> custom_events_of(SimpleNamespace(group=group, owner='g'))
    {'high': ('v > 0.8', [('ca', '+=', '0.1')])}
    """
    events, orders = {}, {}
    slots = builder.group.get("event_slots") or {}
    for name, event in sorted((builder.group.get("events") or {}).items()):
        if name == "spike":
            continue
        condition = (event or {}).get("threshold")
        if not condition:
            raise _refuse(builder, f"the custom event '{name}' without a condition")
        slot = slots.get(name) or {}
        for part, default in (("threshold", "after_thresholds"), ("reset", "after_resets")):
            when = (slot.get(part) or {}).get("when", default)
            if when != default:
                raise _refuse(builder, f"the {'test' if part == 'threshold' else 'code'} of "
                              f"the custom event '{name}' in the '{when}' slot",
                              f"The export runs it in Brian's default slot, '{default}'.")
        orders[name] = (int((slot.get("reset") or {}).get("order", 0)), name)
        code = (event or {}).get("reset")
        statements = parse_statements(code, builder.owner, f"the code of the event '{name}'") \
            if code else []
        events[name] = (condition, statements)
    return {name: events[name] for name in sorted(events, key=orders.get)}


def _refuse(builder, feature: str, hint: str | None = None):
    return UnsupportedFeatureError(builder.owner, feature, hint)


def event_targets(builder) -> list[str]:
    """
    The variables the custom events' statements write (they become state variables).

    Parameters
    ----------
    builder : neurongroup._CellBuilder

    Returns
    -------
    list of str

    Raises
    ------
    UnsupportedFeatureError
        For an assignment to a name that is not a parameter or state variable.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> builder = SimpleNamespace(custom_events={'high': ('v > 1', [('ca', '+=', '0.1')])},
    ...                           parameters=[], differential=['ca'], carried=set(), owner='g')
    >>> event_targets(builder)
    ['ca']
    """
    targets = []
    for name, (_, statements) in builder.custom_events.items():
        for target, _, _ in statements:
            if target in builder.carried:
                raise _refuse(builder, f"the assignment to '{target}' (a variable that "
                              f"synapses add to) in the code of the event '{name}'",
                              "The cell keeps only its own part of that variable.")
            if target not in builder.parameters and target not in builder.differential:
                raise _refuse(builder, f"the assignment to '{target}' in the code of the "
                              f"event '{name}'",
                              "Only parameters and state variables of the equations can be "
                              "changed by an event's code.")
            targets.append(target)
    return targets


def event_code(builder) -> list[str]:
    """
    The Brian code of the custom events (conditions and statements).

    Parameters
    ----------
    builder : neurongroup._CellBuilder

    Returns
    -------
    list of str

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> event_code(SimpleNamespace(custom_events={'high': ('v > a', [('ca', '+=', 'b')])}))
    ['v > a', 'b']
    """
    code = []
    for condition, statements in builder.custom_events.values():
        code.append(condition)
        code += [expr for _, _, expr in statements]
    return code


def add_threshold_slot(builder, dynamics, on_start, captured=()) -> None:
    """
    Add the copies of the values of the thresholds slot (before any reset).

    To be called after the time derivatives, before the spike's threshold.

    Parameters
    ----------
    builder : neurongroup._CellBuilder
    dynamics : lems.Dynamics
        The cell type's dynamics (changed).
    on_start : lems.OnStart
        Its initial-state handler (the new state variables start at 0).
    captured : iterable of str
        The group's variables recorded in the thresholds slot.

    Raises
    ------
    UnsupportedFeatureError
        For a recorded variable that is not a variable of the equations.

    Examples
    --------
    >>> from brian2 import ms, volt
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> group = {'name': 'g', 'N': 1, 'refractory': None,
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '-v/(10*ms)', 'unit': volt, 'var_type': 'float',
    ...                         'flags': []}],
    ...          'events': {'spike': {'threshold': 'v > 1*volt', 'reset': 'v = 0*volt'}},
    ...          'namespace': {}, 'initial_values': {'v': [0]*volt}}
    >>> cell = build_cell_types(group, 0.1*ms, captured=['v'])  # uses this module
    >>> cell.exposures['v__thresholds'][0]
    'v__thresholds'
    """
    step = builder.inlined(f"({_TIME} - {_DT})")
    capture = lems.OnCondition(_ALWAYS)
    builder.copies = {}  # variable -> its copy, for the events' conditions
    captured = set(captured)
    if builder.custom_events and builder.reset:
        captured |= {target for target, _, _ in
                     parse_statements(builder.reset, builder.owner, "the reset")
                     if target in builder.equations and target not in builder.carried}
    for variable in sorted(captured):
        equation = builder.equations.get(variable)
        if variable in builder.carried:
            raise _refuse(builder, f"the recording of '{variable}' (a variable that synapses "
                          "add to) in the thresholds slot",
                          "The cell keeps only its own part of it there; record it in the "
                          "'start' slot.")
        if equation is None:
            raise _refuse(builder, f"the recording of '{variable}' in the thresholds slot",
                          "Only variables of the equations can be recorded there: Brian's "
                          "spike thresholder changes lastspike and not_refractory in that "
                          "slot (before or after the monitor, by their names); record them "
                          "in the 'start' slot.")
        name = builder.names.new(captured_name(variable))
        dimension = builder.variable_dimension(variable)
        builder.cell_type.add(lems.Exposure(name, dimension.name))
        dynamics.add(lems.StateVariable(name, dimension.name, exposure=name))
        on_start.add(lems.StateAssignment(name, "0"))
        capture.add(lems.StateAssignment(name, strip_parentheses(step[variable])))
        builder.copies[variable] = name
        builder.result.exposures[captured_name(variable)] = (name,
                                                             get_dimensions(equation["unit"]))
    if captured:
        dynamics.add(capture)


def _add_event_conditions(builder, dynamics) -> None:
    """Each custom event's flag, from the state before the reset (after the spike's test)."""
    builder.event_flags = {}
    if not builder.custom_events:
        return
    mapping = dict(builder.identifiers, t=f"({_TIME} - {_DT})")
    mapping.update(builder.copies)
    step = builder.inlined(mapping[_TIME], mapping)
    clear = lems.OnCondition(_ALWAYS)  # every flag to 0, then to 1 where the event happens
    dynamics.add(clear)
    for event, (condition, _) in builder.custom_events.items():
        flag = builder.names.new(f"{event}__fired")
        builder.event_flags[event] = flag
        dynamics.add(lems.StateVariable(flag, "none"))
        clear.add(lems.StateAssignment(flag, "0"))
        test = render_condition(condition, step, builder.owner,
                                f"the condition of the event '{event}'", builder.booleans)
        handler = lems.OnCondition(test)
        handler.add(lems.StateAssignment(flag, "1"))
        dynamics.add(handler)


def add_event_actions(builder, dynamics) -> None:
    """
    Add each custom event's condition, statements and ``EventOut`` (after the spike's reset).

    Parameters
    ----------
    builder : neurongroup._CellBuilder
        After `add_threshold_slot`.
    dynamics : lems.Dynamics
        The cell type's dynamics (changed).

    Examples
    --------
    >>> from brian2 import ms, volt
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> group = {'name': 'g', 'N': 1, 'refractory': None,
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '-v/(10*ms)', 'unit': volt, 'var_type': 'float',
    ...                         'flags': []}],
    ...          'events': {'up': {'threshold': 'v > 1*volt', 'reset': 'v = 0*volt'}},
    ...          'namespace': {}, 'initial_values': {'v': [0]*volt}}
    >>> cell = build_cell_types(group, 0.1*ms)  # uses this module
    >>> sorted(port.name for port in cell.cell_type.event_ports)
    ['spike', 'up']
    """
    _add_event_conditions(builder, dynamics)
    for event, (_, statements) in builder.custom_events.items():
        builder.cell_type.add(lems.EventPort(event, "out"))
        handler = lems.OnCondition(f"{builder.event_flags[event]} .gt. 0.5")
        mapping = builder.inlined(f"({_TIME} - {_DT})")
        for target, op, expr in statements:
            value = render_expression(expr, mapping, builder.owner,
                                      f"the code of the event '{event}'", builder.booleans)
            if op != "=":
                value = f"{target} {op[0]} ({value})"
            handler.add(lems.StateAssignment(target, value))
        handler.add(lems.EventOut(event))
        dynamics.add(handler)
