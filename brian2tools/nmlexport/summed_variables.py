"""
Summed variables (``x_post = expr : 1 (summed)``) in NeuroML2/LEMS.

Brian sets a summed variable of the post-synaptic neurons, at every time
step, to the sum over each neuron's synapses of an expression evaluated per
synapse. Onto a whole group, its ``SummedVariableUpdater`` runs in the
``'groups'`` slot just before the neurons' state updater, so the neurons
integrate with the sum of the synapses' values at the start of the step,
and a StateMonitor (which records at the start of the next step) sees the
sum computed one step earlier.

The export maps this onto NeuroML's way of summing synapses: the Synapses
object becomes a synapse component type with a state of its own
(:mod:`.plastic_synapses`, also when it has no equations) that exposes the
term as a derived variable ``x__term`` (reading the post-synaptic cell's
state through a ``Requirement``); the cell sums ``synapses[*]/x__term``
(``reduce="add"``) in a derived variable ``x__summed`` that its equations,
threshold and reset read instead of ``x``. jNeuroML evaluates derived
variables (the synapses' and the cell's) from the state at the start of the
step, before advancing it, which is Brian's order; a recorded ``x`` is a
state variable set to that sum after the update, as Brian's monitor sees
it. Every other synapse type of the group exposes a zero term, so that the
cell can sum one list.

Onto a subgroup, a per-cell flag keeps the other cells' own value, and
Brian's updater may run after the neurons' update (Brian orders a slot's
objects by ``order``, then name): the cell then reads the state variable
``x``, set to the sum after each step (`summed_onto`).

Gap junctions (``Igap_post = w*(v_pre - v_post) : 1 (summed)``): jNeuroML
gives a synapse its peer cell's values as they were when that cell last
evaluated them, which is the start of the current step for a cell updated
earlier in the step and the start of the previous step for a cell updated
later (a synapse pair joined by a ``Tunnel``, as NeuroML's ``gapJunction``
does, mixes values of two steps: 0.26 % of the current's range for the gap
junctions of Brian's documentation). But jNeuroML evaluates a population's
derived variables before it steps the population's cells, so a sum over the
population (``select="cells[*]/v" reduce="add"``) holds every cell's value
at the start of the step. A term linear in the pre-synaptic variables, with
one coefficient for all synapses, of synapses that connect every cell of a
group with every (other) cell of the group, is therefore split
(:mod:`.population_sums`): ``c*v_pre`` sums to ``c*(population sum)``
(minus the cell's own value without self-connections), which the cell reads
through a ``Requirement``; the rest (``-w*v_post``) is the synapses' term.
This is exact.

What is refused, by name (`plan_summed_variables`):

* other terms that read the pre-synaptic neurons' variables (other
  connectivity, another group, coefficients that differ between synapses);
* summed variables onto the pre-synaptic neurons, or in another slot than
  Brian's default, and orders of updaters in which Brian sums values that
  were already advanced;
* a variable that the reset of the neurons, or their ``run_regularly``
  code, also sets.
"""

from __future__ import annotations

from collections.abc import Mapping

import lems.api as lems
import numpy as np
from brian2.utils.logger import get_logger

from .lemsrendering import identifiers_in, parse_statements, render_expression
from .population_sums import GAP_JUNCTION_HINT, population_terms, split_pre_synaptic_part
from .synapse_components import ATTACHMENTS
from .time_functions import operation_targets
from .units import constant_value, format_quantity, lems_dimension

__all__ = ["term_name", "summed_name", "plan_summed_variables", "summed_onto",
           "add_summed_terms", "expose_summed_terms", "add_summed_sums"]

logger = get_logger(__name__)

# what Brian's summed-variable updater is scheduled with by default
_DEFAULT_SLOT = "groups"
_ALWAYS = "t .geq. 0"
def term_name(variable: str) -> str:
    """
    The LEMS name of a synapse's term of the summed variable ``variable``.

    Parameters
    ----------
    variable : str
        The post-synaptic neurons' variable (without ``_post``).

    Returns
    -------
    str

    Examples
    --------
    >>> term_name('g_syn'), summed_name('g_syn')
    ('g_syn__term', 'g_syn__summed')
    """
    return f"{variable}__term"


def summed_name(variable: str) -> str:
    """
    The LEMS name of a cell's sum over its synapses' terms of ``variable``.

    Parameters
    ----------
    variable : str
        The neurons' variable.

    Returns
    -------
    str

    Examples
    --------
    >>> summed_name('I')
    'I__summed'
    """
    return f"{variable}__summed"


def _target_variable(name: str, post: Mapping, refuse) -> str:
    """The post-synaptic variable a summed variable of the Synapses sets."""
    if name.endswith("_pre"):
        raise refuse(f"the summed variable '{name}' onto the pre-synaptic neurons",
                     "The synapses live on their post-synaptic cells, which sum them.")
    variable = name[:-5] if name.endswith("_post") else name
    equations = {eq["name"]: eq for eq in post.get("equations") or ()}
    equation = equations.get(variable)
    if equation is None or equation["type"] != "parameter":
        raise refuse(f"the summed variable '{name}'",
                     f"'{variable}' is not a parameter of '{post['name']}'.")
    return variable


def plan_summed_variables(synapses: Mapping, sides: Mapping[str, Mapping],
                          synaptic: set, refuse) -> dict[str, tuple[str, object]]:
    """
    Check the summed variables of a ``Synapses`` object with a state of its own.

    Parameters
    ----------
    synapses : mapping
        A *synapses* entry of the model description.
    sides : mapping
        ``'pre'`` and ``'post'`` -> the groups (model description) connected.
    synaptic : set of str
        The synapses' own variables (their state and parameters).
    refuse : callable
        ``refuse(feature, hint)`` -> the `UnsupportedFeatureError` to raise.

    Returns
    -------
    dict
        Post-synaptic variable -> (Brian expression of the term, its unit, the
        post-synaptic variables it reads: Brian name -> (variable, unit), and
        ``(start, stop, previous, pre_part)``: the cells it sums onto, whether
        Brian sums after their update, and the part that is a sum over the
        population, for gap junctions).

    Raises
    ------
    UnsupportedFeatureError
        For the summed variables the export cannot reproduce exactly (see
        the module's documentation), naming them.

    Examples
    --------
    >>> from brian2 import Unit
    >>> post = {'name': 'G', 'N': 1, 'equations': [
    ...     {'name': 'g_syn', 'type': 'parameter', 'unit': Unit(1), 'flags': []}]}
    >>> synapses = {'name': 'S', 'target': {'group': 'G', 'start': 0, 'stop': 1},
    ...             'equations': [{'name': 'g_syn_post', 'type': 'subexpression',
    ...                            'expr': 'g', 'unit': Unit(1), 'flags': ['summed']}]}
    >>> plan_summed_variables(synapses, {'pre': post, 'post': post}, {'g'}, None)
    {'g_syn': ('g', Unit(1), {}, (0, 1, False, ()))}
    """
    post = sides["post"]
    namespace = dict(synapses.get("namespace") or {})
    slots = synapses.get("summed_slots") or {}
    cell_variables = {side: {eq["name"] for eq in group.get("equations") or ()}
                      for side, group in sides.items()}
    post_equations = {eq["name"]: eq for eq in post.get("equations") or ()}
    planned = {}
    for equation in synapses.get("equations") or ():
        if "summed" not in (equation.get("flags") or ()):
            continue
        name = equation["name"]
        variable = _target_variable(name, post, refuse)
        slot = slots.get(name) or {}
        if slot.get("when", _DEFAULT_SLOT) != _DEFAULT_SLOT:
            raise refuse(f"the summed variable '{name}' updated in the '{slot['when']}' slot",
                         "The export reproduces Brian's default schedule (the 'groups' "
                         "slot, before the neurons' state update).")
        target = synapses.get("target") or {}
        cells = (int(target.get("start") or 0), int(target.get("stop", post["N"])))
        reads = {}  # Brian name -> (post-synaptic variable, unit)
        # a coupling of a group's cells with all others (gap junctions): the part
        # linear in the pre-synaptic variables is a sum over the whole population
        expr, pre_part = split_pre_synaptic_part(synapses, name, equation["expr"], sides,
                                                 synaptic, namespace, refuse)
        for identifier in sorted(identifiers_in(expr)):
            if identifier in synaptic or identifier == "dt":
                continue
            side = next((side for suffix, side in (("_pre", "pre"), ("_post", "post"))
                         if identifier.endswith(suffix)
                         and identifier[:-len(suffix)] in cell_variables[side]),
                        "post" if identifier in cell_variables["post"] else None)
            if side == "pre":
                raise refuse(f"the summed variable '{name}' reading '{identifier}' (a "
                             "variable of the pre-synaptic neurons)",
                             GAP_JUNCTION_HINT + " A term may be linear in them (see the "
                             "gap junctions of the NeuroML export's documentation).")
            if side == "post":
                # the synapse reads its own cell's state at the start of the step
                cell_variable = identifier[:-5] if identifier.endswith("_post") else identifier
                if post_equations[cell_variable]["type"] != "differential equation":
                    raise refuse(f"the summed variable '{name}' reading '{identifier}'",
                                 "A summed term can read the post-synaptic neurons' "
                                 "differential equations' variables only.")
                reads[identifier] = (cell_variable, post_equations[cell_variable]["unit"])
                continue
            value = constant_value(identifier, namespace)
            if value is None or np.ndim(value) != 0:
                raise refuse(f"'{identifier}' in the summed variable '{name}'",
                             "Summed terms can use the synapses' own variables and scalar "
                             "constants only.")
        reset = ((post.get("events") or {}).get("spike") or {}).get("reset") or ""
        if reset.strip() and variable in {
                written for written, _, _ in parse_statements(reset, post["name"], "the reset")}:
            raise refuse(f"the summed variable '{name}' onto '{variable}', which the reset "
                         f"of '{post['name']}' also sets")
        if variable in operation_targets(post, post["name"]):
            raise refuse(f"the summed variable '{name}' onto '{variable}', which code of "
                         f"'{post['name']}' run during the simulation also sets")
        previous = _after_the_update(synapses, name, slot, post, equation,
                                     {**reads, **{f"{part[0]}_pre": None
                                                  for part in pre_part}}, refuse)
        planned[variable] = (expr, equation["unit"], reads, cells + (previous, pre_part))
    return planned


def _after_the_update(synapses: Mapping, name: str, slot: Mapping, post: Mapping,
                      equation: Mapping, reads: Mapping, refuse) -> bool:
    """
    Whether Brian sums after the neurons' state update (they then use the previous sum).

    Brian runs the objects of a slot by ``order``, then by name. The updater
    of a summed variable onto a whole group comes first (its order is the
    group's minus 1); onto a subgroup it has the group's order, and the
    names decide: it may run after the neurons' update (they then integrate
    with the sum of the previous step, which the cell keeps as a state
    variable) and after the synapses' own update (its terms then use their
    advanced values, which the export does not reproduce).
    """
    mine = (int(slot.get("order", -1)), f"{synapses['name']}_summed_variable_{name}")
    group = (int(post.get("order") or 0), f"{post['name']}_stateupdater")
    own = (int(synapses.get("order") or 0), f"{synapses['name']}_stateupdater")
    clock_driven = {eq["name"] for eq in synapses.get("equations") or ()
                    if eq["type"] == "differential equation"
                    and "event-driven" not in (eq.get("flags") or ())}
    used = identifiers_in(equation["expr"])
    if mine > own and used & clock_driven:
        raise refuse(f"the summed variable '{name}' of clock-driven variables, which Brian "
                     f"updates after the synapses' state update (order {mine[0]})",
                     "The export sums the terms at the start of the step; Brian does so "
                     "for a whole group (give the summed-variable updater a lower order "
                     "to keep this order for a subgroup).")
    if mine > group and reads:
        raise refuse(f"the summed variable '{name}' reading '{sorted(reads)[0]}', which "
                     f"Brian updates after the state update of '{post['name']}'",
                     "The export reads the post-synaptic variables at the start of the step.")
    return mine > group


def summed_onto(plans, group: str) -> dict[str, list[tuple[int, int]]]:
    """
    The summed variables of a neuron group, from the plans of plastic synapses.

    Parameters
    ----------
    plans : list of PlasticSynapses
        The plans (`~.plastic_synapses.PlasticSynapses`, with their ``summed``).
    group : str
        The neuron group.

    Returns
    -------
    dict
        Variable -> the cells that Synapses sum onto, ``(start, stop, previous,
        pre_part)`` (``previous``: Brian sums after the neurons' update, which
        use the sum of the previous step; ``pre_part``: the sums over the
        population, see `~.population_sums.split_pre_synaptic_part`).

    Raises
    ------
    UnsupportedFeatureError
        When two Synapses objects sum onto the same variable of the same cells.

    Examples
    --------
    >>> from brian2 import Unit
    >>> from brian2tools.nmlexport.plastic_synapses import PlasticSynapses
    >>> plans = [PlasticSynapses('S', 'G', summed={'I': ('w', Unit(1), {}, (0, 2, False, ()))}),
    ...          PlasticSynapses('T', 'G', summed={'I': ('w', Unit(1), {}, (2, 5, False, ()))})]
    >>> summed_onto(plans, 'G')
    {'I': [(0, 2, False, ()), (2, 5, False, ())]}
    """
    from brian2tools.baseexport import UnsupportedFeatureError

    found: dict = {}
    owners: dict = {}
    for plan in plans:
        if plan.group != group:
            continue
        for variable, (_, _, _, cells) in (getattr(plan, "summed", None) or {}).items():
            start, stop, previous, _ = cells
            for other_start, other_stop, other_previous, _ in found.get(variable, ()):
                if start < other_stop and other_start < stop:
                    raise UnsupportedFeatureError(
                        plan.name, f"the summed variable '{variable}' of '{group}', which "
                        f"'{owners[variable]}' also sums onto for the same cells")
                if previous != other_previous:
                    raise UnsupportedFeatureError(
                        plan.name, f"the summed variable '{variable}' of '{group}', which "
                        f"Brian updates {'after' if previous else 'before'} the neurons' "
                        f"update, and '{owners[variable]}' "
                        f"{'before' if previous else 'after'} it")
            found.setdefault(variable, []).append(cells)
            owners[variable] = plan.name
    return found


def add_summed_terms(component_type, plan, mapping: Mapping, dimensions: set) -> None:
    """
    Give a synapse component type the derived terms of its summed variables.

    Parameters
    ----------
    component_type : lems.ComponentType
        The synapse type of a `~.plastic_synapses.PlasticSynapses` plan,
        modified in place: an exposed ``DerivedVariable`` per summed
        variable, and a ``Requirement`` for each post-synaptic variable read.
    plan : PlasticSynapses
        The plan, with its ``summed`` terms (`plan_summed_variables`).
    mapping : mapping
        Brian name -> LEMS name of the synapse's variables and constants.
    dimensions : set
        The dimensions used so far (added to in place).

    Raises
    ------
    UnsupportedFeatureError
        When a term reads a post-synaptic variable named like a variable of
        the synapses.

    Examples
    --------
    >>> import lems.api as lems
    >>> from brian2 import Unit
    >>> from brian2tools.nmlexport.plastic_synapses import PlasticSynapses
    >>> plan = PlasticSynapses('S', 'G', state={'g': 'g'},
    ...                        summed={'I': ('g*(2 - v_post)', Unit(1),
    ...                                      {'v_post': ('v', Unit(1))}, (0, 1, False, ()))})
    >>> synapse_type = lems.ComponentType('S_synapse')
    >>> add_summed_terms(synapse_type, plan, {'g': 'g'}, set())
    >>> print(synapse_type.dynamics.derived_variables['I__term'].value)
    g * (2 - v)
    """
    from brian2tools.baseexport import UnsupportedFeatureError

    from .plastic_synapses import _RESERVED
    for variable, (expr, unit, reads, _) in sorted((plan.summed or {}).items()):
        dimension = lems_dimension(unit, plan.name)
        dimensions.add(dimension)
        names = dict(mapping)
        for identifier, (cell_variable, cell_unit) in sorted(reads.items()):
            if cell_variable in plan.state.values() or cell_variable in _RESERVED:
                raise UnsupportedFeatureError(
                    plan.name, f"the summed variable '{variable}' reading '{identifier}'",
                    f"'{cell_variable}' is also a variable of the synapses.")
            names[identifier] = cell_variable
            if cell_variable not in component_type.requirements:
                cell_dimension = lems_dimension(cell_unit, plan.name)
                dimensions.add(cell_dimension)
                component_type.add(lems.Requirement(cell_variable, cell_dimension.name))
        value = render_expression(expr, names, plan.name,
                                  f"the summed variable '{variable}'")
        component_type.add(lems.Exposure(term_name(variable), dimension.name))
        component_type.dynamics.add(lems.DerivedVariable(
            term_name(variable), dimension=dimension.name, exposure=term_name(variable),
            value=value))


def expose_summed_terms(component_types: list, plans, bases: Mapping[str, str],
                        carried: Mapping = None) -> set:
    """
    Declare the summed terms in the synapse base types; a zero term in the other types.

    Parameters
    ----------
    component_types : list of lems.ComponentType
        The synapse types (`~.synapse_rendering.synapse_type_definitions`),
        modified in place.
    plans : list of PlasticSynapses
        The plans of the plastic synapses.
    bases : mapping
        Neuron group -> the name of its synapse base type.
    carried : mapping, optional
        Neuron group -> the variables its synapses carry (a term cannot read them).

    Returns
    -------
    set of LEMSDimension
        The dimensions used.

    Examples
    --------
    >>> expose_summed_terms([], [], {})
    set()
    """
    from brian2tools.baseexport import UnsupportedFeatureError

    carried = carried or {}
    dimensions = set()
    by_name = {component_type.name: component_type for component_type in component_types}
    for plan in plans:
        base = by_name.get(bases.get(plan.group))
        for variable, (_, unit, reads, _) in sorted(
                (getattr(plan, "summed", None) or {}).items()):
            for identifier, (cell_variable, _) in reads.items():
                if cell_variable in (carried.get(plan.group) or ()):
                    raise UnsupportedFeatureError(
                        plan.name, f"the summed variable '{variable}' reading '{identifier}'",
                        f"Synapses carry '{cell_variable}' (the cell keeps no single value "
                        "of it).")
            dimension = lems_dimension(unit, plan.name)
            dimensions.add(dimension)
            term = term_name(variable)
            if term in base.exposures:
                continue  # another Synapses object sums onto other cells of the group
            base.add(lems.Exposure(term, dimension.name))
            for component_type in component_types:
                if component_type.extends != base.name:
                    continue
                if any(getattr(other, "summed", None) and variable in other.summed
                       and other.type_name == component_type.name for other in plans):
                    continue
                zero = f"{term}__zero"
                component_type.add(lems.Constant(zero, format_quantity(0 * unit, dimension),
                                                 dimension.name))
                component_type.dynamics.add(lems.DerivedVariable(
                    term, dimension=dimension.name, exposure=term, value=zero))
    return dimensions


def add_summed_sums(builder, dynamics, summed) -> None:
    """
    Make a cell type sum its synapses' terms of its summed variables.

    The cell's code reads ``x__summed`` (the sum of the terms at the start of
    the step) for ``x``; a recorded ``x`` is a state variable set to that sum
    after the update, the value Brian's monitor records at the next step.
    When Synapses sum onto some cells of the group only, a per-cell flag
    ``x__summing`` keeps the other cells' own value, as Brian does.

    Parameters
    ----------
    builder : object
        The cell builder of :mod:`.neurongroup` (its ``cell_type``,
        ``identifiers``, ``size``, ``synapse_base`` and helpers).
    dynamics : lems.Dynamics
        The cell type's dynamics, modified in place.
    summed : mapping
        The group's summed variables -> the cells summed onto (`summed_onto`);
        a variable that Brian sums after the neurons' update must be a state
        variable of the cell (recorded).

    Examples
    --------
    >>> add_summed_sums(None, None, {})  # nothing to sum
    """
    if not summed:
        return
    cell_type = builder.cell_type
    if ATTACHMENTS not in cell_type.attachments:
        cell_type.add(lems.Attachments(ATTACHMENTS, builder.synapse_base))
    record = lems.OnCondition(_ALWAYS)
    for variable, ranges in sorted(summed.items()):
        dimension = builder.variable_dimension(variable).name
        terms = f"{summed_name(variable)}__terms"
        dynamics.add(lems.DerivedVariable(terms, dimension=dimension,
                                          select=f"{ATTACHMENTS}[*]/{term_name(variable)}",
                                          reduce="add"))
        summing = np.zeros(builder.size)
        for start, stop, _, _ in ranges:
            summing[start:stop] = 1
        if np.all(summing == 1):
            value = terms
        else:
            flag = f"{variable}__summing"
            builder.per_cell_or_constant(flag, summing, builder.dimension_of(1))
            own = builder.identifiers[variable]
            value = f"{flag} * {terms} + (1 - {flag}) * {own}"
        for _, _, _, pre_part in ranges:
            value += population_terms(builder, variable, pre_part)
        dynamics.add(lems.DerivedVariable(summed_name(variable), dimension=dimension,
                                          value=value))
        if not ranges[0][2]:
            builder.identifiers[variable] = summed_name(variable)
        # else the cell reads the state variable: the sum of the previous step
        if variable in dynamics.state_variables:  # recorded
            record.add(lems.StateAssignment(variable, summed_name(variable)))
    if record.actions:
        dynamics.add(record)
