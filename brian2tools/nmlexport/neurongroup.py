"""
The LEMS component types of one NeuronGroup.

Each NeuronGroup of the model description becomes a cell ``ComponentType``
(extending NeuroML's ``baseCell``) and a population ``ComponentType`` whose
children are the group's N cells. Every per-cell value the group starts from
(parameters and initial values of state variables, exactly as Brian computed
them, including ``rand()`` draws) is a ``Parameter`` of the cell type and is
set on each child component; values shared by all cells are ``Constant`` s of
the cell type.

The dynamics follow the order in which jNeuroML advances a component, so
that the exported model reproduces Brian's forward-Euler integration step by
step (jNeuroML's time ``t`` is one step ahead of Brian's during an update,
hence ``t - dt`` in the dynamics):

1. derived variables (Brian's subexpressions) from the state at the start of
   the step, then every ``TimeDerivative`` (``not_refractory * (...)`` for
   equations flagged ``(unless refractory)``);
2. the threshold, tested on the new state and only when ``not_refractory``;
   it sets ``lastspike`` and ``not_refractory`` like Brian's thresholder,
   runs the reset statements in order and emits the ``spike`` event;
3. what Brian computes at the start of the next step: whether the neuron is
   still refractory (``timestep(t - lastspike, dt) >= timestep(refractory,
   dt)`` or the negated boolean condition), and the values of monitored
   subexpressions.

Brian's refractoriness is modelled with these two state variables rather than
with LEMS regimes, because jNeuroML updates the state variables of a regime
one after the other and one step late, which is not Euler's method.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lems.api as lems
import numpy as np
from brian2 import get_dimensions, second
from brian2.core.namespace import DEFAULT_UNITS

from brian2tools.baseexport import UnsupportedFeatureError

from . import custom_events as events
from .cell_parts import NameSource, per_cell_values, sorted_subexpressions
from .lemsrendering import (
    identifiers_in,
    parse_statements,
    render_condition,
    render_expression,
    strip_parentheses,
)
from .method_steps import cell_steps, stepped_method
from .noise import NORMAL_DRAW, noise_state_name, noise_terms
from .own_clock import add_clock_counter, gate_condition, gate_derivative, start_clock
from .refractoriness import add_refractoriness_update, refractory_steps_of
from .summed_variables import add_summed_sums
from .synapse_components import (
    ATTACHMENTS,
    own_name,
    recorded_sum_name,
    state_name,
    sum_name,
    total_name,
)
from .time_functions import (
    add_operation_handlers,
    add_start_operations,
    operation_code,
    operation_targets,
)
from .truth_values import comparison_units
from .units import LEMSDimension, format_number, format_quantity, lems_dimension

__all__ = ["CellTypes", "build_cell_types", "SUPPORTED_FLAGS"]

#: Equation flags the NeuroML export understands.
SUPPORTED_FLAGS = ("unless refractory", "constant", "shared")

# Names Brian defines for every NeuronGroup, usable in its code.
_TIME, _DT, _INDEX, _SIZE = "t", "dt", "i", "N"
_LASTSPIKE, _NOT_REFRACTORY = "lastspike", "not_refractory"
# Brian's value of lastspike for neurons that never spiked
_NEVER_SPIKED = -1e4
_ALWAYS = "t .geq. 0"


@dataclass
class CellTypes:
    """
    What the exporter needs to know about one exported NeuronGroup.

    Attributes
    ----------
    group : str
        The Brian name of the group.
    size : int
        Number of cells.
    cell_type : lems.ComponentType
        The cell component type.
    population_type : lems.ComponentType
        The population component type (children: the cells).
    per_cell : dict
        Name of each ``Parameter`` of the cell type -> (LEMSDimension, array
        of N values in SI units), in the order the parameters are declared.
    exposures : dict
        Brian variable -> (name of the LEMS exposure, Brian Dimension), for
        every variable a StateMonitor may record.
    dimensions : set of LEMSDimension
        Every dimension used by the cell type.
    initial : set of str
        The parameters that hold initial values of state variables.
    """

    group: str
    size: int
    cell_type: lems.ComponentType
    population_type: lems.ComponentType
    per_cell: dict = field(default_factory=dict)
    exposures: dict = field(default_factory=dict)
    dimensions: set = field(default_factory=set)
    initial: set = field(default_factory=set)


class _CellBuilder:
    """Builds the component types of one NeuronGroup description."""

    def __init__(self, group: dict, dt, monitored: set, carried=(), synapse_base=None,
                 track_spikes=False, brian_steps=False, summed=(), captured=()):
        self.group = group
        self.summed = dict(summed)  # summed variable -> cells summed onto (.summed_variables)
        self.captured = set(captured)  # recorded in the thresholds slot (custom_events.py)
        # Brian's steps of its method (jNeuroML only: NEURON integrates itself)
        self.stepped = stepped_method(group) if brian_steps else None
        # keep lastspike even without refractoriness (events are gated with it)
        self.track_spikes = track_spikes
        # variables that synapses carry: the cell keeps its own copy and sums the synapses'
        self.carried = set(carried)
        self.brian_name = {own_name(name): name for name in self.carried}
        self.synapse_base = synapse_base
        self.owner = group["name"]
        self.size = int(group["N"])
        self.dt = float(dt)
        self.monitored = set(monitored)
        equations = group["equations"]
        self.equations = {eq["name"]: eq for eq in equations}
        self.differential = [eq["name"] for eq in equations if eq["type"] == "differential equation"]
        self.parameters = [eq["name"] for eq in equations if eq["type"] == "parameter"]
        self.subexpressions = {
            eq["name"]: eq["expr"] for eq in equations if eq["type"] == "subexpression"
        }
        self.namespace = dict(group.get("namespace") or {})
        self.refractory = group.get("refractory")
        self._check_features()
        self.threshold, self.reset = self._spike_event()

        self.names = NameSource(
            set(self.equations) | set(self.namespace)
            | {_TIME, _DT, _INDEX, _SIZE, _LASTSPIKE, _NOT_REFRACTORY}
            | {function(name) for name in self.carried
               for function in (own_name, sum_name, total_name, recorded_sum_name)}
        )
        if (self.carried or self.summed) and synapse_base is None:
            raise ValueError("carried variables need the synapse base type")
        self.cell_name = self.names.new(f"{self.owner}_cell")
        self.population_name = self.names.new(f"{self.owner}_population")
        self.cell_type = lems.ComponentType(self.cell_name, extends="baseCell")
        self.result = CellTypes(self.owner, self.size, self.cell_type, None)

    # ------------------------------------------------------------------ checks
    def refuse(self, feature: str, hint: str | None = None) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(self.owner, feature, hint)

    def _check_features(self):
        for name, equation in self.equations.items():
            for flag in equation.get("flags") or ():
                if flag not in SUPPORTED_FLAGS:
                    raise self.refuse(
                        f"the flag '{flag}' of the variable '{name}'",
                        f"The NeuroML export supports the flags {', '.join(SUPPORTED_FLAGS)}.",
                    )
        for name in self.monitored:
            known = set(self.equations) | (
                {_LASTSPIKE, _NOT_REFRACTORY} if self.refractory is not None else set()
            )
            if name not in known:
                raise self.refuse(f"a StateMonitor recording '{name}'",
                                  "Only variables of the model equations can be recorded.")

    def _spike_event(self):
        self.custom_events = events.custom_events_of(self)
        spike = (self.group.get("events") or {}).get("spike") or {}
        return spike.get("threshold"), spike.get("reset")

    # ---------------------------------------------------------------- helpers
    def dimension_of(self, value) -> LEMSDimension:
        dimension = lems_dimension(value, self.owner)
        self.result.dimensions.add(dimension)
        return dimension

    def variable_dimension(self, name: str) -> LEMSDimension:
        return self.dimension_of(self._unit_of(name))

    def constant(self, name: str, value, dimension: LEMSDimension | None = None):
        if dimension is None:
            dimension = self.dimension_of(value)
        self.cell_type.add(lems.Constant(name, format_quantity(value, dimension), dimension.name))

    def per_cell_or_constant(self, name: str, values: np.ndarray, dimension: LEMSDimension):
        """A name for values of each cell: a Constant if they are all equal, else a Parameter."""
        if np.all(values == values[0]):
            format_number(values[0], self.owner)  # refuses infinite values, naming the owner
            text = format_quantity(values[0], dimension)
            self.cell_type.add(lems.Constant(name, text, dimension.name))
        else:
            self.cell_type.add(lems.Parameter(name, dimension.name))
            self.result.per_cell[name] = (dimension, values)

    def initial_values(self, name: str) -> np.ndarray:
        name = self.brian_name.get(name, name)
        values = (self.group.get("initial_values") or {}).get(name)
        if values is None:
            if name == _LASTSPIKE:
                return np.full(self.size, _NEVER_SPIKED)
            if name == _NOT_REFRACTORY:
                return np.ones(self.size)
            raise self.refuse(f"the variable '{name}' without initial values in the description")
        return per_cell_values(values, self.size, self.owner, name)

    # ------------------------------------------------------------------ build
    def build(self) -> CellTypes:
        has_refractoriness = self.refractory is not None
        reset_statements = (
            parse_statements(self.reset, self.owner, "the reset") if self.reset else []
        )
        written = [target for target, _, _ in reset_statements]
        for target in written:
            if target in self.subexpressions or target in self.namespace or target in (
                _TIME, _DT, _INDEX, _SIZE, _LASTSPIKE, _NOT_REFRACTORY
            ):
                raise self.refuse(f"an assignment to '{target}' in the reset '{self.reset}'")
        # run_regularly, between runs; run_on_event
        written += operation_targets(self.group, self.owner) + events.event_targets(self)
        state_parameters = [p for p in self.parameters if p in written or p in self.monitored]
        state_variables = [own_name(name) if name in self.carried else name
                           for name in self.differential] + state_parameters
        if has_refractoriness:
            state_variables += [_LASTSPIKE, _NOT_REFRACTORY]
        elif self.track_spikes and self.threshold:
            state_variables += [_LASTSPIKE]

        code = [eq.get("expr") or "" for eq in self.equations.values()]
        code += [self.threshold or "", self.reset or ""]
        code += [self.refractory if isinstance(self.refractory, str) else ""]
        code += operation_code(self.group) + events.event_code(self)
        used = set().union(*(identifiers_in(text) for text in code if text))

        identifiers = {}
        # constants from the namespace, and Brian's units (mV, ...) used in the code
        for name in sorted(used - set(self.equations)):
            if name in self.namespace:
                value = self.namespace[name]
                if np.ndim(value) != 0:
                    raise self.refuse(f"the non-scalar constant '{name}'")
            elif name in DEFAULT_UNITS:
                value = DEFAULT_UNITS[name]
            else:
                continue
            self.constant(name, value)
            identifiers[name] = name
        self.constant(_DT, self.dt * second)
        identifiers[_DT] = _DT
        start_clock(self, identifiers)  # a group on its own clock: its dt in its code
        if _SIZE in used:
            self.constant(_SIZE, self.size)
            identifiers[_SIZE] = _SIZE
        if _INDEX in used:
            self.per_cell_or_constant(_INDEX, np.arange(self.size, dtype=float),
                                      self.dimension_of(1))
            identifiers[_INDEX] = _INDEX

        # parameters that never change: a per-cell Parameter or a Constant
        for name in self.parameters:
            if name not in state_parameters:
                self.per_cell_or_constant(name, self.initial_values(name),
                                          self.variable_dimension(name))
            identifiers[name] = name
        # state variables start from a per-cell value
        initial_names = {}
        for name in state_variables:
            initial_names[name] = self.names.new(f"{name}_init")
            self.result.initial.add(initial_names[name])
            self.per_cell_or_constant(initial_names[name], self.initial_values(name),
                                      self.variable_dimension(name))
            identifiers[name] = name
        for name in self.carried:
            identifiers[name] = total_name(name)
        booleans = {eq for eq, spec in self.equations.items() if spec.get("var_type") == "boolean"}
        booleans |= {name for name, value in self.namespace.items()
                     if isinstance(value, (bool, np.bool_))}
        if has_refractoriness:
            booleans.add(_NOT_REFRACTORY)
        self.booleans = booleans
        self.identifiers = identifiers
        refractory_steps = refractory_steps_of(self) if has_refractoriness else None

        dynamics = self.cell_type.dynamics
        self.cell_type.add(lems.EventPort("spike", "out"))
        for name in state_variables:
            dimension = self.variable_dimension(name)
            if name in self.brian_name:
                dynamics.add(lems.StateVariable(name, dimension.name))
                continue
            self.cell_type.add(lems.Exposure(name, dimension.name))
            dynamics.add(lems.StateVariable(name, dimension.name, exposure=name))
            self.result.exposures[name] = (name, get_dimensions(self._unit_of(name)))
        carried_recorded = self._carried_sums(dynamics)
        add_summed_sums(self, dynamics, self.summed)
        temporaries = self._temporaries(reset_statements, set(state_variables))
        for temporary in temporaries.values():
            dynamics.add(lems.StateVariable(temporary, "none"))
        recorded = {}
        for name in self.subexpressions:
            if name in self.monitored:
                recorded[name] = self.names.new(f"{name}_recorded")
                dimension = self.variable_dimension(name)
                self.cell_type.add(lems.Exposure(recorded[name], dimension.name))
                dynamics.add(lems.StateVariable(recorded[name], dimension.name,
                                                exposure=recorded[name]))
                self.result.exposures[name] = (recorded[name],
                                               get_dimensions(self.equations[name]["unit"]))

        # subexpressions as derived variables, for the time derivatives
        step_identifiers = dict(identifiers, t=f"({_TIME} - {_DT})")
        order = sorted_subexpressions(self.subexpressions, self.owner)
        for name in order:
            dynamics.add(lems.DerivedVariable(
                name, dimension=self.variable_dimension(name).name,
                value=render_expression(self.subexpressions[name], {**step_identifiers,
                                        **{s: s for s in self.subexpressions}},
                                        self.owner, f"the subexpression {name}", booleans),
            ))
        new_values = cell_steps(self, dynamics, step_identifiers) if self.stepped else {}
        draws = {}  # noise variable -> the state variable with its draw of the step
        for name in self.differential:
            mapping = {**step_identifiers, **{s: s for s in self.subexpressions}}
            if name in self.carried:
                # the own copy follows the same linear equation on the own copies
                mapping.update({other: own_name(other) for other in self.carried})
            drift, amplitudes, units = noise_terms(self.equations[name]["expr"], name,
                                                   self.owner, self._units(), state_variables)
            expr = render_expression(drift, mapping, self.owner, f"the equation of {name}",
                                     booleans)
            for noise, amplitude in amplitudes.items():
                for unit_name, value in units.items():
                    mapping[unit_name] = self.names.new(unit_name)
                    self.constant(mapping[unit_name], value)
                if noise not in draws:
                    draws[noise] = self.names.new(noise_state_name(noise))
                    dynamics.add(lems.StateVariable(draws[noise], "none"))
                step = render_expression(amplitude, mapping, self.owner,
                                         f"the noise term of {name}", booleans)
                expr = f"{expr} + {step} * {draws[noise]} / {_DT}"
            state = own_name(name) if name in self.carried else name
            if name in new_values:  # Brian's step: x += dt * (x' - x)/dt
                expr = f"({new_values[name]} - {state}) / {identifiers.get('dt', _DT)}"
            if has_refractoriness and "unless refractory" in (self.equations[name].get("flags") or ()):
                expr = f"{_NOT_REFRACTORY} * ({expr})"
            dynamics.add(lems.TimeDerivative(state, gate_derivative(self, expr)))

        # initial state
        on_start = lems.OnStart()
        if draws:
            # a new normal number for each noise variable at each step (Euler-Maruyama)
            redraw = lems.OnCondition(_ALWAYS)
            for draw in draws.values():
                on_start.add(lems.StateAssignment(draw, NORMAL_DRAW))
                redraw.add(lems.StateAssignment(draw, NORMAL_DRAW))
            dynamics.add(redraw)
        for name in state_variables:
            on_start.add(lems.StateAssignment(name, initial_names[name]))
        for temporary in temporaries.values():
            on_start.add(lems.StateAssignment(temporary, "0"))
        add_start_operations(self, dynamics, on_start)
        for name in carried_recorded:
            on_start.add(lems.StateAssignment(name, initial_names[own_name(name)]))
        start_identifiers = self.inlined(_TIME)
        for name, recording in recorded.items():
            on_start.add(lems.StateAssignment(recording, strip_parentheses(
                start_identifiers[name])))
        dynamics.add(on_start)

        # threshold and reset (and custom events: Brian tests all conditions first)
        events.add_threshold_slot(self, dynamics, on_start, self.captured)
        if self.threshold:
            step = self.inlined(f"({_TIME} - {_DT})")
            test = render_condition(self.threshold, step, self.owner, "the threshold", booleans, random=True)
            if has_refractoriness:
                test = f"({test}) .and. ({_NOT_REFRACTORY} .gt. 0.5)"
            on_spike = lems.OnCondition(gate_condition(self, test))
            if has_refractoriness or self.track_spikes:
                on_spike.add(lems.StateAssignment(_LASTSPIKE, f"{_TIME} - {_DT}"))
            if has_refractoriness:
                on_spike.add(lems.StateAssignment(_NOT_REFRACTORY, "0"))
            self._reset_actions(on_spike, reset_statements, temporaries)
            on_spike.add(lems.EventOut("spike"))
            dynamics.add(on_spike)
        elif reset_statements:
            raise self.refuse("a reset without a threshold")
        events.add_event_actions(self, dynamics)  # run_on_event code, after the resets
        add_operation_handlers(self, dynamics)  # Brian's next step starts
        add_clock_counter(self, dynamics, on_start)

        # what Brian computes at the start of the next step
        if carried_recorded:
            record = lems.OnCondition(_ALWAYS)
            for name in carried_recorded:
                record.add(lems.StateAssignment(
                    name, f"{own_name(name)} + {recorded_sum_name(name)}"))
            dynamics.add(record)
        if has_refractoriness:
            add_refractoriness_update(self, dynamics, refractory_steps)
        if recorded:
            record = lems.OnCondition(_ALWAYS)
            next_step = self.inlined(_TIME)
            for name, recording in recorded.items():
                record.add(lems.StateAssignment(recording, strip_parentheses(next_step[name])))
            dynamics.add(record)

        population = lems.ComponentType(self.population_name, extends="basePopulation")
        population.add(lems.Children("cells", self.cell_name, multiple=True))
        self.result.population_type = population
        return self.result

    def _carried_sums(self, dynamics) -> list[str]:
        """
        The cell's sums over its synapses; returns the carried variables that are recorded.

        The equations use ``x__total``: the own copy plus the synapses' derived
        copies (their state at the start of the step). A recorded variable is a
        state variable set after the update from the synapses' advanced states.
        """
        if not self.carried:
            return []
        self.cell_type.add(lems.Attachments(ATTACHMENTS, self.synapse_base))
        recorded = []
        for name in sorted(self.carried):
            dimension = self.variable_dimension(name).name
            dynamics.add(lems.DerivedVariable(sum_name(name), dimension=dimension,
                                              select=f"{ATTACHMENTS}[*]/{name}", reduce="add"))
            dynamics.add(lems.DerivedVariable(total_name(name), dimension=dimension,
                                              value=f"{own_name(name)} + {sum_name(name)}"))
            if name in self.monitored:
                recorded.append(name)
                dynamics.add(lems.DerivedVariable(
                    recorded_sum_name(name), dimension=dimension,
                    select=f"{ATTACHMENTS}[*]/{state_name(name)}", reduce="add"))
                self.cell_type.add(lems.Exposure(name, dimension))
                dynamics.add(lems.StateVariable(name, dimension, exposure=name))
                self.result.exposures[name] = (name, get_dimensions(self._unit_of(name)))
        return recorded

    def _units(self) -> dict:
        """The unit (or value) of every name the group's code may use, for unit checks."""
        units = dict(DEFAULT_UNITS)
        units.update(self.namespace)
        units.update({name: eq["unit"] for name, eq in self.equations.items()})
        return units

    def _unit_of(self, name: str):
        name = self.brian_name.get(name, name)
        if name == _LASTSPIKE:
            return second
        if name == _NOT_REFRACTORY:
            return 1
        return self.equations[name]["unit"]

    def inlined(self, time_text: str, mapping: dict | None = None) -> dict:
        """Identifiers with every subexpression written out (Brian recomputes them where used)."""
        mapping = dict(self.identifiers, t=time_text) if mapping is None else mapping
        for name in sorted_subexpressions(self.subexpressions, self.owner):
            mapping[name] = "(" + render_expression(
                self.subexpressions[name], mapping, self.owner, f"the subexpression {name}",
                self.booleans) + ")"
        return mapping

    def _temporaries(self, statements, state_variables: set) -> dict:
        """Variables the reset defines for itself: LEMS state variables, to keep their value."""
        temporaries = {}
        for target, op, _ in statements:
            if target in state_variables or target in temporaries:
                continue
            if target in self.parameters:
                continue
            if op != "=":
                raise self.refuse(f"the update '{target} {op} ...' of an undefined variable "
                                  f"in the reset '{self.reset}'")
            temporaries[target] = self.names.new(f"{target}_temporary")
        return temporaries

    def _reset_actions(self, handler, statements, temporaries: dict):
        mapping = self.inlined(f"({_TIME} - {_DT})")
        for target, op, expr in statements:
            value = render_expression(expr, mapping, self.owner, "the reset", self.booleans, random=True)
            lems_target = temporaries.get(target, target)
            if op != "=":
                value = f"{lems_target} {op[0]} ({value})"
            handler.add(lems.StateAssignment(lems_target, value))
            if target in temporaries:
                mapping[target] = lems_target
                # subexpressions read the temporary's new value from now on
                mapping = self.inlined(mapping[_TIME], mapping)


def build_cell_types(group: dict, dt, monitored=(), carried=(),
                     synapse_base: str | None = None, track_spikes: bool = False,
                     brian_steps: bool = False, summed=(), captured=()) -> CellTypes:
    """
    Build the LEMS component types of one NeuronGroup.

    Parameters
    ----------
    group : dict
        A *neuron group* of the model description (see :doc:`/export_format`).
    dt : Quantity or float
        The simulation time step (seconds).
    monitored : iterable of str, optional
        The group's variables that StateMonitors record (they get exposures).
    carried : iterable of str, optional
        Variables that synapse components carry (:mod:`.synapse_components`):
        the cell keeps an own copy (``x__own``) and its equations use
        ``x__total``, the own copy plus the sum over its synapses.
    synapse_base : str, optional
        The synapse base type of the group (required with ``carried``).
    track_spikes : bool, optional
        Keep the time of the last spike in ``lastspike`` even without
        refractoriness (for events gated by it).
    brian_steps : bool, optional
        Write the steps of the group's method (:mod:`.method_steps`; for
        jNeuroML, not the portable form).
    summed : mapping, optional
        Summed variable -> the ranges of cells Synapses sum onto
        (:mod:`.summed_variables`; needs ``synapse_base``).
    captured : iterable of str, optional
        Variables recorded in the thresholds slot (:mod:`.custom_events`).

    Returns
    -------
    CellTypes

    Raises
    ------
    UnsupportedFeatureError
        For features LEMS cannot reproduce (custom events, unknown flags, ...).

    Examples
    --------
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> from brian2 import ms, mV, volt
    >>> group = {'name': 'neurons', 'N': 2, 'refractory': None,
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '-v/tau', 'unit': volt, 'var_type': 'float',
    ...                         'flags': []}],
    ...          'events': {}, 'namespace': {'tau': 10*ms},
    ...          'initial_values': {'v': [0, 1]*mV}}
    >>> types = build_cell_types(group, 0.1*ms)
    >>> types.cell_type.name, sorted(types.per_cell)
    ('neurons_cell', ['v_init'])
    """
    builder = _CellBuilder(group, dt, set(monitored), carried, synapse_base, track_spikes,
                           brian_steps, summed, captured)
    with comparison_units(builder):  # comparisons as numbers: H of dimensionless differences
        return builder.build()

