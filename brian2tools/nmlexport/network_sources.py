"""
The spike sources of a network: spike generators, Poisson groups and Poisson inputs.

* A SpikeGeneratorGroup becomes a population of NeuroML ``spikeArray``
  sources with the spike times Brian uses (periods unrolled over the
  simulated time, see `~.network_parts.spike_generator_times`);
* a PoissonGroup a population of ``spikeGeneratorPoisson`` sources with
  each cell's rate, or, if its rates depend on time, sources that draw
  Brian's ``rand() < rates*dt`` in each step (:mod:`.stochastic_sources`);
* a PoissonInput one Poisson source per target cell at ``N * rate``
  sending its events to a port of the target cell that applies the weight
  (with the gates of :mod:`.network_pathways`), or, when ``N*rate*dt`` is
  too large for one event per step, a source firing in every step whose
  events add ``weight`` times Brian's binomial draw (normal approximation).

Each population has a component type of its own extending NeuroML's
``basePopulation``, and the prototype component it names.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

import numpy as np
from brian2 import Hz, second
from brian2.core.namespace import DEFAULT_UNITS
from brian2.utils.logger import get_logger

from .lemsrendering import identifiers_in, render_expression
from .network_parts import (
    EventPort,
    NetworkParts,
    Projection,
    _connection_name,
    _equations_by_name,
    _paths,
    _Refuse,
    _unique,
    lems_delays,
    spike_generator_times,
)
from .network_pathways import (
    _assignment,
    _combined_gate,
    _constant_name,
    _refractory_gate,
    _reset_gate,
)
from .stochastic_sources import binomial_input_draw, every_step_source, time_varying_poisson_source
from .synapse_components import own_name
from .units import constant_value, format_quantity, lems_dimension

# the source parts are made by build_network_parts only
__all__: list[str] = []

logger = get_logger(__name__)

_TIME = lems_dimension(second)
_RATE = lems_dimension(Hz)
_POISSON_PROTOTYPE = {"averageRate": "0 per_s"}


def _rates(group: Mapping, refuse: _Refuse) -> np.ndarray:
    rates = group["rates"]
    size = int(group["N"])
    if isinstance(rates, str):
        namespace = {key: (float(value) if np.ndim(value) == 0 else np.asarray(value, float))
                     for key, value in (group.get("namespace") or {}).items()}
        used = identifiers_in(rates)  # rates in time: stochastic_sources
        context = {**{key: float(value) for key, value in DEFAULT_UNITS.items()
                      if key in used}, **namespace,
                   "i": np.arange(size, dtype=float), "N": size}
        allowed = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin,
                   "cos": np.cos, "abs": np.abs}
        try:
            values = eval(compile(rates, "<rates>", "eval"), {"__builtins__": {}},  # noqa: S307
                          {**allowed, **context})
        except Exception as error:  # noqa: BLE001 -- reported as unsupported
            raise refuse(f"the rates '{rates}'", f"They could not be evaluated ({error}).") \
                from None
        return np.broadcast_to(np.asarray(values, dtype=float), (size,)).copy()
    return np.broadcast_to(np.asarray(rates, dtype=float), (size,)).copy()


def _source_population(name: str, child_type: str, children: list[ET.Element],
                       parts: NetworkParts, taken: set, prototype_values=None):
    type_name = f"{name}_population"
    population_type = ET.Element("ComponentType", {"name": type_name,
                                                    "extends": "basePopulation"})
    ET.SubElement(population_type, "Children", {"name": "cells", "type": child_type})
    parts.source_types.append(population_type)
    # NeuroML's basePopulation names the component its cells are made of
    prototype = _unique(f"{name}_prototype", taken)
    parts.source_types.append(ET.Element("Component", {"id": prototype, "type": child_type,
                                                       **(prototype_values or {})}))
    population = ET.Element("Component", {"id": name, "type": type_name,
                                          "component": prototype})
    population.extend(children)
    parts.populations.append(population)
    parts.sources[name] = len(children)


def _spike_generator_parts(generator: Mapping, dt: float, duration: float, parts: NetworkParts,
                           taken: set):
    children = []
    for times in spike_generator_times(generator, dt, duration):
        cell = ET.Element("Component", {"type": "spikeArray"})
        for time in times:
            ET.SubElement(cell, "spike", {"time": format_quantity(time, _TIME)})
        children.append(cell)
    _source_population(generator["name"], "spikeArray", children, parts, taken)


def _poisson_children(rates: np.ndarray) -> list[ET.Element]:
    children = []
    for rate in rates:
        children.append(ET.Element("Component", {"type": "spikeGeneratorPoisson",
                                                 "averageRate": format_quantity(rate, _RATE)}))
    return children


def _poisson_group_parts(group: Mapping, dt: float, parts: NetworkParts, taken: set):
    refuse = _Refuse(group["name"])
    if isinstance(group["rates"], str) and "t" in identifiers_in(group["rates"]):
        type_name = _unique(f"{group['name']}_source", taken)
        source, children, prototype = time_varying_poisson_source(group, dt, type_name, refuse)
        parts.source_types.append(source)
        _source_population(group["name"], type_name, children, parts, taken, prototype)
        return
    rates = _rates(group, refuse)
    if np.any(rates < 0):
        raise refuse("negative rates")
    if np.any(rates * dt > 0.5):
        raise refuse(f"rates up to {np.max(rates):g} Hz with dt = {dt:g} s",
                     "jNeuroML's Poisson sources fire at most once per time step; keep "
                     "rate * dt small.")
    _source_population(group["name"], "spikeGeneratorPoisson", _poisson_children(rates), parts,
                       taken, _POISSON_PROTOTYPE)


def _poisson_input_parts(poisson_input: Mapping, groups: Mapping[str, dict], dt: float,
                         parts: NetworkParts, taken: set, compact: bool = False):
    name = poisson_input["name"]
    refuse = _Refuse(name)
    target = poisson_input["target"]
    group = groups.get(target["group"])
    if group is None or group.get("kind") != "neurongroup":
        raise refuse(f"the target '{target['group']}'", "Only neuron groups can be targeted.")
    rate = float(poisson_input["rate"]) * int(poisson_input["N"])
    # above one event in two steps, Brian's binomial draw of each step instead of a source
    draw = (binomial_input_draw(int(poisson_input["N"]), float(poisson_input["rate"]) * dt,
                                refuse) if rate * dt > 0.5 else None)
    variable = poisson_input["target_var"]
    variables = _equations_by_name(group)
    if variable not in variables or variables[variable]["type"] == "subexpression":
        raise refuse(f"the target variable '{variable}'")
    weight = str(poisson_input["weight"])
    namespace = dict(poisson_input.get("namespace") or {})
    mapping, constants = {}, {}
    for identifier in identifiers_in(weight):
        if identifier in variables and variables[identifier]["type"] != "subexpression":
            mapping[identifier] = identifier
        elif (value := constant_value(identifier, namespace)) is not None:
            constants[_constant_name(name, identifier)] = value
            mapping[identifier] = _constant_name(name, identifier)
        else:
            raise refuse(f"'{identifier}' in the weight '{weight}'")
    value = render_expression(weight, mapping, name, "the weight")
    if draw is not None:
        value = f"({value}) * {draw}"
    gate = _combined_gate(_refractory_gate(group, variable, dt, refuse, "the input"),
                          _reset_gate(group, variable, "+=", refuse, "the input"))
    if gate is not None:
        parts.spike_times.add(group["name"])
    moved = parts.carried.get(group["name"]) or {}
    # an input to a variable the synapses carry adds to the neuron's own copy
    lems_variable = own_name(variable) if variable in moved else variable
    port = EventPort(group["name"], name,
                     [(lems_variable, _assignment(lems_variable, "+=", value, gate))],
                     constants, origin=name)
    parts.ports.append(port)
    if variable not in moved:
        parts.written.setdefault(group["name"], set()).add(variable)
    start, stop = int(target.get("start") or 0), int(target["stop"])
    sources_name = _unique(f"{name}_sources", taken)
    cells = np.arange(stop - start)
    if draw is None:
        _source_population(sources_name, "spikeGeneratorPoisson",
                           _poisson_children(np.full(stop - start, rate)), parts, taken,
                           _POISSON_PROTOTYPE)
        sources = cells
    else:
        # one source for all targets: each target cell draws its own number per event
        clock_type = _unique(f"{name}_every_step", taken)
        parts.source_types.append(every_step_source(clock_type))
        _source_population(sources_name, clock_type,
                           [ET.Element("Component", {"type": clock_type})], parts, taken)
        sources = np.zeros(len(cells), dtype=int)
    parts.projections.append(Projection(
        _connection_name(f"{name}_connection", taken, compact), port.port,
        _paths(sources_name, 0, sources),
        _paths(group["name"], start, cells), lems_delays(np.zeros(len(cells)), dt, False),
        origin=name, compact=compact,
    ))
