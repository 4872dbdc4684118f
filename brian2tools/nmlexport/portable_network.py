"""
Synapses in the portable form: currents into the membrane, projections per population.

In NEURON a synapse is a point process on the cell's section: it can only
inject a current, which changes the membrane potential through the
section's capacitance (jNeuroML's NEURON code gives the section of an
abstract cell 1 nF). So a Brian synapse is exported to the portable form
when it adds to a variable ``x`` (``ge += w``) that enters the equation of
``v`` linearly with a constant coefficient ``k`` (``dv/dt = (ge - v)/tau``:
``k = 1/tau``): each synapse carries its own copy of ``x`` with ``x``'s
linear dynamics (:mod:`.synapse_components`) and gives the current ``i = C k
x`` with ``C = 1 nF``; the cell adds ``iSyn / C`` (the sum of its synapses'
currents) to ``dv/dt``, and integrates its own copy of ``x`` (its initial
value) as before. jNeuroML computes the same sum; NEURON adds the currents
on the section.

When ``v`` is ``(unless refractory)``, the synapses' currents must not move
it during the refractory period, but in NEURON they flow into the membrane
whatever the cell's mechanism does: so the synapse types onto such a cell
read the cell's ``not_refractory`` (a LEMS ``Requirement``, resolved from
the parent cell) and give ``not_refractory * C k x``; in NEURON the
requirement becomes a ``POINTER`` to the cell (:mod:`.neuron_gates`).

Refused by name: synapses that change a variable of the cell directly (``v +=
w``: NEURON cannot give a current that jumps ``v``), variables that enter
``v``'s equation non-linearly or with a coefficient that varies, and
variables a monitor records or other equations read.

Spike sources (``SpikeGeneratorGroup``, ``PoissonGroup``) become standard
populations of ``spikeArray`` or ``spikeGeneratorPoisson`` cells, one per
distinct source cell (`portable_sources`).

NeuroML's projections connect one population to one population; in the
portable form a group is one population per distinct set of cell values
(:mod:`.portable`), so a Brian ``Synapses`` object becomes one projection
per pair of populations it connects (`split_projection`), refused above
`MAX_PROJECTIONS`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import lems.api as lems
import numpy as np
import sympy
from brian2.core.namespace import DEFAULT_UNITS
from brian2.parsing.sympytools import str_to_sympy, sympy_to_str
from brian2.units.allunits import second
from brian2.units.fundamentalunits import Quantity, get_dimensions

from brian2tools.baseexport import UnsupportedFeatureError

from .network_parts import CellPaths
from .neuron_gates import GATE
from .portable import PortableGroup
from .stochastic_sources import refuse_time_varying_sources
from .synapse_components import SynapticProjection, own_name, state_name, sum_name, total_name
from .units import format_quantity, lems_dimension

__all__ = ["MAX_PROJECTIONS", "NEURON_CAPACITANCE", "prepare_current_synapses",
           "split_projection", "portable_sources", "check_portable_network"]

#: The capacitance of an abstract cell's section in jNeuroML's NEURON code.
NEURON_CAPACITANCE = "1 nF"
#: The most projections one Brian ``Synapses`` object may become.
MAX_PROJECTIONS = 500

_REASON = ("The portable (NEURON-ready) form exports synapses as currents into the "
           "membrane potential.")


def _refuse(name: str, feature: str) -> UnsupportedFeatureError:
    return UnsupportedFeatureError(name, feature, _REASON)


def _coefficient(group: dict, variable: str) -> Quantity:
    """``d(dv/dt)/dx``: constant, or the model is refused."""
    name = group["name"]
    equations = {eq["name"]: eq for eq in group.get("equations") or ()}
    expression = str_to_sympy(equations["v"]["expr"])
    symbols = {str(symbol): symbol for symbol in expression.free_symbols}
    if variable not in symbols:
        raise _refuse(name, f"synapses that change '{variable}', which the equation of v "
                            "does not use")
    slope = sympy.diff(expression, symbols[variable])
    if sympy.diff(slope, symbols[variable]) != 0:
        raise _refuse(name, f"'{variable}' entering the equation of v non-linearly")
    values = dict(DEFAULT_UNITS)
    values.update(group.get("namespace") or {})
    unknown = {str(symbol) for symbol in slope.free_symbols} - set(values)
    if unknown:
        raise _refuse(name, f"'{variable}' entering the equation of v with a coefficient "
                            f"that depends on {', '.join(sorted(unknown))}")
    value = eval(sympy_to_str(slope), {"__builtins__": {}}, values)  # noqa: S307
    value = value if isinstance(value, Quantity) else Quantity(value)
    if get_dimensions(value) != get_dimensions(1 / second):
        raise _refuse(name, f"'{variable}' entering the equation of v with the coefficient "
                            f"{value} (not a rate)")
    return value


def _check_group(group: dict, carried, monitored) -> None:
    name = group["name"]
    equations = {eq["name"]: eq for eq in group.get("equations") or ()}
    if "v" not in equations:
        raise _refuse(name, "synapses onto a group without a membrane potential 'v'")
    for variable in carried:
        if variable in monitored:
            raise _refuse(name, f"a StateMonitor of '{variable}', which its synapses carry")
        pattern = re.compile(rf"\b{re.escape(variable)}\b")
        for other, spec in equations.items():
            if other in ("v", variable) or other in carried:
                continue
            if spec.get("expr") and pattern.search(spec["expr"]):
                raise _refuse(name, f"'{variable}' read by the equation of '{other}'")


def prepare_current_synapses(cells: dict, groups: dict, parts, synapse_types: list,
                             monitored: dict) -> list:
    """
    Rewrite the cells and synapse types of a network into current synapses.

    Parameters
    ----------
    cells : dict
        Group name -> `~.neurongroup.CellTypes` (changed in place).
    groups : dict
        Group name -> its description.
    parts : NetworkParts
        The network's parts (:mod:`.network_export`).
    synapse_types : list of lems.ComponentType
        The synapse component types (:mod:`.synapse_components`).
    monitored : dict
        Group name -> the variables StateMonitors record.

    Returns
    -------
    list of lems.ComponentType
        The synapse types to write (current synapses; the groups' base
        types are no longer needed).

    Raises
    ------
    UnsupportedFeatureError
        For what the portable form cannot export (see the module).

    Examples
    --------
    >>> prepare_current_synapses({}, {}, type('Parts', (), {'projections': [], 'ports': [],
    ...                          'sources': {}, 'synapse_types': [], 'carried': {}})(), [], {})
    []
    """
    direct = ("a synapse that changes a variable of the neurons directly{} (NEURON's "
              "synapses can only give a current)")
    for origin in [port.origin or port.group for port in parts.ports] + \
            [projection.origin or projection.name for projection in parts.projections]:
        name, _, pathway = origin.partition(" (")
        raise _refuse(name, direct.format(f" (its {pathway.rstrip(')')} pathway)"
                                          if pathway else ""))
    coefficients = {}
    gated = set()
    for name, carried in parts.carried.items():
        if not carried:
            continue
        group = groups[name]
        _check_group(group, carried, monitored.get(name, set()))
        coefficients[name] = {variable: _coefficient(group, variable) for variable in carried}
        if _held_when_refractory(group):
            gated.add(name)
        _rewrite_cell(cells[name], carried, name in gated)
    by_name = {component_type.name: component_type for component_type in synapse_types}
    bases = {spec.base for spec in parts.synapse_types}
    for spec in parts.synapse_types:
        _rewrite_synapse(by_name[spec.name], spec, coefficients[spec.group],
                         spec.group in gated)
    return [t for t in synapse_types if t.name not in bases]


def _held_when_refractory(group: dict) -> bool:
    """Whether Brian holds the group's ``v`` during its refractory period."""
    equations = {eq["name"]: eq for eq in group.get("equations") or ()}
    return bool(group.get("refractory")) and \
        "unless refractory" in (equations["v"].get("flags") or ())


def _rewrite_cell(cell, carried, gated: bool) -> None:
    """The cell integrates its own copies and adds its synapses' currents to dv/dt."""
    cell_type = cell.cell_type
    dynamics = cell_type.dynamics
    for variable in carried:
        for derived in (sum_name(variable), total_name(variable)):
            if derived in dynamics.derived_variables:
                del dynamics.derived_variables[derived]
    totals = re.compile(r"\b(" + "|".join(re.escape(total_name(v)) for v in carried) + r")\b")

    def own(text: str) -> str:
        return totals.sub(lambda match: own_name(match.group(1)[:-len("__total")]), text)

    for derivative in dynamics.time_derivatives:
        derivative.value = own(derivative.value)
    for derived in dynamics.derived_variables:
        if derived.value:
            derived.value = own(derived.value)
    for handler in dynamics.event_handlers:
        for action in handler.actions:
            if getattr(action, "value", None):
                action.value = own(action.value)
    v_derivative = next(d for d in dynamics.time_derivatives if d.variable == "v")
    current = f"{GATE} * iSyn / neuron_C" if gated else "iSyn / neuron_C"
    v_derivative.value = f"{v_derivative.value} + {current}"
    for attachment in list(cell_type.attachments):
        del cell_type.attachments[attachment.name]
    cell_type.add(lems.Attachments("synapses", "basePointCurrent"))
    cell_type.add(lems.Constant("neuron_C", NEURON_CAPACITANCE, "capacitance"))
    cell_type.add(lems.Exposure("iSyn", "current"))
    dynamics.add(lems.DerivedVariable("iSyn", dimension="current", exposure="iSyn",
                                      select="synapses[*]/i", reduce="add"))


def _rewrite_synapse(component_type, spec, coefficients: dict, gated: bool) -> None:
    """A synapse type that keeps its copies and gives the current ``C * sum(k x)``."""
    component_type.extends = "baseCurrentBasedSynapse"
    dynamics = component_type.dynamics
    for derived in list(dynamics.derived_variables):
        if derived.exposure:  # the copies the cell used to read
            del dynamics.derived_variables[derived.name]
    for constant in list(component_type.constants):
        if constant.name.endswith("__zero"):
            del component_type.constants[constant.name]
    if "i" in dynamics.state_variables:
        del dynamics.state_variables["i"]
    terms = []
    for variable in spec.carried:
        if variable not in coefficients:
            continue  # a partner of a rise/decay pair: it drives the carried one
        constant = f"{variable}__k"
        value = coefficients[variable]
        component_type.add(lems.Constant(constant, format_quantity(value),
                                         lems_dimension(value).name))
        terms.append(f"{constant} * {state_name(variable)}")
    component_type.add(lems.Constant("neuron_C", NEURON_CAPACITANCE, "capacitance"))
    current = f"neuron_C * ({' + '.join(terms) or '0'})"
    if gated:  # the cell's refractoriness, read from the parent cell
        component_type.add(lems.Requirement(GATE, "none"))
        current = f"{GATE} * {current}"
    dynamics.add(lems.DerivedVariable("i", dimension="current", exposure="i", value=current))


def split_projection(projection: SynapticProjection, grouped: dict) -> list[SynapticProjection]:
    """
    One projection per pair of populations of the portable form.

    Parameters
    ----------
    projection : SynapticProjection
        A projection between two groups (cells as `~.network_parts.CellPaths`).
    grouped : dict
        Group name -> `~.portable.PortableGroup`.

    Returns
    -------
    list of SynapticProjection

    Raises
    ------
    UnsupportedFeatureError
        Above `MAX_PROJECTIONS` pairs.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2tools.nmlexport.portable import PortableGroup
    >>> grouped = {'g': PortableGroup('g', [{}, {}], ['g__0', 'g__1'], np.array([0, 1, 0]),
    ...                               np.array([0, 0, 1]))}
    >>> parts = split_projection(SynapticProjection(
    ...     'S', 'syn', 'g', 'g', CellPaths('g', [0, 1]), CellPaths('g', [2, 2]),
    ...     np.ones(2), np.zeros(2)), grouped)
    >>> [(p.presynaptic, p.postsynaptic, p.sources.tolist()) for p in parts]
    [('g__0', 'g__0', ['g__0[0]']), ('g__1', 'g__0', ['g__1[0]'])]
    """
    pre, post = grouped[projection.sources.group], grouped[projection.targets.group]
    pre_population = pre.population_of[projection.sources.indices]
    post_population = post.population_of[projection.targets.indices]
    pairs, inverse = np.unique(np.stack([pre_population, post_population], axis=1), axis=0,
                               return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    if len(pairs) > MAX_PROJECTIONS:
        raise _refuse(projection.origin or projection.name,
                      f"synapses between {len(pairs)} pairs of populations (cells with their "
                      f"own values are populations of their own; at most {MAX_PROJECTIONS})")
    if len(pairs) == 1 and len(pre.populations) == 1 and len(post.populations) == 1:
        source, target = pre.populations[0], post.populations[0]
        return [SynapticProjection(
            projection.name, projection.synapse, source, target,
            CellPaths(source, pre.index_in_population[projection.sources.indices]),
            CellPaths(target, post.index_in_population[projection.targets.indices]),
            projection.weights, projection.delays, projection.origin)]
    split = []
    for number, (source_population, target_population) in enumerate(pairs):
        chosen = np.flatnonzero(inverse == number)
        source = pre.populations[source_population]
        target = post.populations[target_population]
        split.append(SynapticProjection(
            f"{projection.name}__{number}", projection.synapse, source, target,
            CellPaths(source, pre.index_in_population[projection.sources.indices[chosen]]),
            CellPaths(target, post.index_in_population[projection.targets.indices[chosen]]),
            np.asarray(projection.weights)[chosen], np.asarray(projection.delays)[chosen],
            projection.origin))
    return split


def portable_sources(parts) -> tuple[dict, list, list]:
    """
    Spike sources as standard populations: one per distinct source cell.

    The default form writes a ``SpikeGeneratorGroup`` or ``PoissonGroup`` as
    a population component type whose children are ``spikeArray`` or
    ``spikeGeneratorPoisson`` components. In the portable form, the cells
    with the same spikes (or rate) are one component and one standard
    ``population`` (``<group>__<k>``), as for neurons.

    Parameters
    ----------
    parts : NetworkParts
        The network's parts; its ``populations`` are the default form's.

    Returns
    -------
    (dict, list of Element, list of Element)
        Source name -> `~.portable.PortableGroup`; the populations; the
        components they are made of (to write before the network).

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> source = ET.fromstring('<Component id="s" type="s_population" component="p">'
    ...     '<Component type="spikeArray"><spike time="1 ms"/></Component>'
    ...     '<Component type="spikeArray"/><Component type="spikeArray"/></Component>')
    >>> grouped, populations, components = portable_sources(
    ...     type('Parts', (), {'populations': [source], 'sources': {'s': 3}})())
    >>> [(p.get('id'), p.get('component'), p.get('size')) for p in populations]
    [('s__0', 's__cell0', '1'), ('s__1', 's__cell1', '2')]
    >>> grouped['s'].path(2)
    's__1[1]'
    """
    grouped, populations, components = {}, [], []
    for population in parts.populations:
        name = population.get("id")
        if name not in parts.sources:
            continue
        keys = [ET.tostring(child) for child in population]
        distinct = list(dict.fromkeys(keys))  # in the order of their first cell
        population_of = np.array([distinct.index(key) for key in keys], dtype=int)
        index_in_population = np.zeros(len(keys), dtype=int)
        names = []
        for number, key in enumerate(distinct):
            members = np.flatnonzero(population_of == number)
            index_in_population[members] = np.arange(len(members))
            component = ET.fromstring(key)
            component.set("id", f"{name}__cell{number}")
            # the id first, as NeuroML writes it
            component.attrib = {"id": component.attrib.pop("id"), **component.attrib}
            components.append(component)
            names.append(f"{name}__{number}")
            populations.append(ET.Element("population", {
                "id": names[-1], "component": component.get("id"),
                "size": str(len(members))}))
        grouped[name] = PortableGroup(name, [{}] * len(distinct), names, population_of,
                                      index_in_population)
    return grouped, populations, components


def check_portable_network(description: dict, parts) -> None:
    """
    Refuse, by name, the parts of a network the portable form does not export yet.

    Parameters
    ----------
    description : dict
        The model description of the export.
    parts : NetworkParts
        Its network parts (:func:`.network_export.build_network_parts`).

    Raises
    ------
    UnsupportedFeatureError
        For time-dependent Poisson rates, plastic synapses, summed variables
        and ``PoissonInput``, naming the object.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> check_portable_network({'poissoninputs': []}, SimpleNamespace(plastic=[]))
    """
    refuse_time_varying_sources(description)  # NEURON draws them mid-step
    for plan in parts.plastic:
        if plan.summed:
            raise UnsupportedFeatureError(
                plan.name, f"the summed variable '{sorted(plan.summed)[0]}' in the portable "
                "(NEURON-ready) form", "The portable form writes NEURON's standard synapse "
                "mechanisms, which have no term for the cell to sum (NeuroML's gapJunction "
                "would fit gap junctions between cells with a membrane potential in volts, but "
                "is not exported yet); export such networks in the default form (jNeuroML).")
        raise UnsupportedFeatureError(
            plan.name, "plastic synapses (a state per synapse) in the portable (NEURON-ready) "
            "form", "The portable form writes synapses as NEURON's standard mechanisms, which "
            "keep no per-synapse state or post-synaptic pathway; export such networks in the "
            "default form (jNeuroML).")
    for kind in ("poissoninputs",):
        for obj in description.get(kind) or ():
            raise UnsupportedFeatureError(
                obj["name"], f"a {kind[:-1]} in the portable (NEURON-ready) form",
                "The portable form exports neuron groups, their current synapses and their "
                "monitors so far; export such networks in the default form (jNeuroML).")
