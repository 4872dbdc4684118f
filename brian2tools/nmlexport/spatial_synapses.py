"""
Synapses onto the compartments of an exported `SpatialNeuron`.

The exported form is the common exponential conductance synapse. The
neuron's equations have a point current and a conductance that decays
exponentially::

    Is = gs*(Es - v) : amp (point current)
    dgs/dt = -gs/taus : siemens

and ``Synapses(source, neuron[...], 'w : siemens', on_pre='gs += w')``
adds to the conductance of the compartments it targets. In NeuroML each
such conductance becomes an ``expOneSynapse`` (``erev`` = ``Es``,
``tauDecay`` = ``taus``, ``gbase`` the largest increment), and each
Brian synapse a ``connectionWD`` in a ``projection``: onto the target
compartment's segment at fraction 0.5 (its middle, where Brian's
compartment sits), with weight ``w/gbase`` and Brian's delay. The
sources must be a `SpikeGeneratorGroup`, whose neurons become
``spikeArray`` cells. Everything else -- other sources, other synaptic
dynamics, synapses with equations of their own, postsynaptic pathways --
is refused by name.

The sum of the synapses' conductances in one compartment is Brian's
conductance of that compartment: the synapses are linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import sympy
from brian2.core.namespace import DEFAULT_UNITS
from brian2.parsing.sympytools import str_to_sympy
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from .spatial_channels import SpatialModel

__all__ = ["SynapticConductance", "synaptic_conductances", "add_synapses"]

logger = get_logger(__name__)

_INCREMENT = re.compile(r"^\s*(?P<target>[A-Za-z_]\w*)\s*\+=\s*(?P<value>[^\n;]+?)\s*$")


@dataclass
class SynapticConductance:
    """
    A point current ``g*(E - v)`` with ``dg/dt = -g/tau``.

    Parameters
    ----------
    current : str
        The point current (``'Is'``).
    conductance : str
        The conductance (``'gs'``).
    erev : float
        The reversal potential (V).
    tau : float
        The decay time constant (s).
    """

    current: str
    conductance: str
    erev: float
    tau: float


def _uniform(value, neuron: str, what: str) -> float:
    values = np.atleast_1d(np.asarray(value, dtype=float))
    if not np.allclose(values, values[0], rtol=1e-12, atol=0):
        raise UnsupportedFeatureError(neuron, f"{what} varying between compartments")
    return float(values[0])


def synaptic_conductances(neuron: dict) -> dict[str, SynapticConductance]:
    """
    The point currents of a spatial neuron that are exponential conductance synapses.

    Parameters
    ----------
    neuron : dict
        The description of a `SpatialNeuron`.

    Returns
    -------
    dict
        Point current name -> `SynapticConductance`, for the point currents
        that read ``g*(E - v)`` with ``dg/dt = -g/tau`` (``E`` and ``tau``
        the same in all compartments). Other point currents are not included.

    Raises
    ------
    UnsupportedFeatureError
        If such a conductance does not start at zero.

    Examples
    --------
    >>> from brian2 import Soma, SpatialNeuron, Network, ms, mV, um
    >>> from brian2tools.baseexport import collect_network
    >>> neuron = SpatialNeuron(Soma(diameter=20*um), '''
    ...     Im = gL*(EL - v) : amp/meter**2
    ...     Is = gs*(Es - v) : amp (point current)
    ...     dgs/dt = -gs/taus : siemens
    ...     gL : siemens/meter**2''', namespace={'EL': -70*mV, 'Es': 0*mV, 'taus': 2*ms})
    >>> run = collect_network(Network(neuron), 1*ms, {})
    >>> synaptic_conductances(run['spatialneurons'][0])
    {'Is': SynapticConductance(current='Is', conductance='gs', erev=0.0, tau=0.002)}
    """
    model = SpatialModel(neuron)
    equations = {eq["name"]: eq for eq in neuron["equations"]}
    found = {}
    for current in neuron["point_currents"]:
        equation = equations[current]
        if equation["type"] != "subexpression":
            continue
        expr = model.substituted(str_to_sympy(equation["expr"]))
        v = next((symbol for symbol in expr.free_symbols if symbol.name == "v"), None)
        if v is None:
            continue
        slope = sympy.diff(expr, v)
        if v in slope.free_symbols:
            continue
        conductance = -slope
        if not (isinstance(conductance, sympy.Symbol) and conductance.name in model.gates):
            continue
        erev = sympy.simplify(expr.xreplace({v: 0}) / conductance)
        rhs = model.substituted(model.gates[conductance.name])
        g = next(symbol for symbol in rhs.free_symbols | {conductance}
                 if symbol.name == conductance.name)
        rate = -sympy.diff(rhs, g)
        if sympy.simplify(rhs.xreplace({g: 0})) != 0 or \
                model.names(rate) & (set(model.gates) | {"v"}) or \
                model.names(erev) & (set(model.gates) | {"v"}):
            continue
        name = neuron["name"]
        decay = _uniform(model.evaluate(rate), name, f"the decay rate of '{g.name}'")
        initial = np.asarray(neuron["initial_values"][g.name], dtype=float)
        if np.any(initial != 0):
            raise UnsupportedFeatureError(
                name, f"the initial values of the synaptic conductance '{g.name}' (NeuroML "
                "synapses start without conductance)", f"Start with {g.name} = 0.")
        found[current] = SynapticConductance(
            current, g.name, _uniform(model.evaluate(erev), name, f"the reversal potential "
                                      f"of '{current}'"), 1.0 / decay)
    return found


def _increments(synapses: dict, conductances: dict, target: str) -> tuple[str, np.ndarray]:
    """The conductance a `Synapses` adds to, and the increment of each synapse (S)."""
    name = synapses["name"]
    if [eq["name"] for eq in synapses["equations"] if eq["type"] != "parameter"]:
        raise UnsupportedFeatureError(
            name, "synapses with equations of their own onto the SpatialNeuron "
            f"'{target}'", "Only exponential conductances of the neuron (g += w) are exported.")
    if synapses.get("summed_slots"):
        raise UnsupportedFeatureError(name, f"summed variables onto the SpatialNeuron '{target}'")
    pathways = synapses["pathways"]
    if len(pathways) != 1 or pathways[0]["prepost"] != "pre" or pathways[0]["event"] != "spike":
        raise UnsupportedFeatureError(
            name, "pathways other than on_pre onto the SpatialNeuron "
            f"'{target}' ({', '.join(p['name'] for p in pathways)})")
    match = _INCREMENT.match(pathways[0]["code"].strip())
    by_conductance = {item.conductance: item for item in conductances.values()}
    if match is None or match.group("target") not in by_conductance:
        raise UnsupportedFeatureError(
            name, f"the on_pre code '{pathways[0]['code']}' onto the SpatialNeuron '{target}'",
            "Exported: one statement 'g += w' adding to an exponentially decaying conductance "
            f"of the neuron ({', '.join(sorted(by_conductance)) or 'none in its equations'}).")
    value = str_to_sympy(match.group("value"))
    values = {unit: float(quantity) for unit, quantity in DEFAULT_UNITS.items()}
    values.update({key: np.asarray(item, dtype=float)
                   for key, item in synapses["namespace"].items()})
    values.update({key: np.asarray(item, dtype=float)
                   for key, item in synapses["initial_values"].items()})
    symbols = sorted(value.free_symbols, key=lambda symbol: symbol.name)
    unknown = [symbol.name for symbol in symbols if symbol.name not in values]
    if unknown:
        raise UnsupportedFeatureError(
            name, f"the increment '{match.group('value')}' (uses {', '.join(unknown)}, not "
            "a synaptic parameter or constant)")
    function = sympy.lambdify(symbols, value, modules="numpy")
    increments = np.broadcast_to(np.asarray(function(*[values[s.name] for s in symbols]),
                                            dtype=float), (len(synapses["i"]),))
    return match.group("target"), increments


def add_synapses(run: dict, cells: dict, document, network) -> None:
    """
    Add the synapses onto spatial neurons to the NeuroML document.

    Parameters
    ----------
    run : dict
        The description of the run.
    cells : dict
        Spatial neuron name -> ``{'population': id, 'cell': id}``.
    document : neuroml.NeuroMLDocument
        Receives the ``expOneSynapse`` and ``spikeArray`` components.
    network : neuroml.Network
        Receives the populations of spike sources and the projections.

    Raises
    ------
    UnsupportedFeatureError
        For synapses that are not exponential conductance synapses from a
        `SpikeGeneratorGroup` onto a spatial neuron, naming them.

    Examples
    --------
    >>> add_synapses(run, cells, document, network)  # doctest: +SKIP
    """
    import neuroml

    neurons = {neuron["name"]: neuron for neuron in run["spatialneurons"]}
    generators = {group["name"]: group for group in run.get("spikegeneratorgroups", ())}
    conductances = {name: synaptic_conductances(neuron) for name, neuron in neurons.items()}
    sources_made = {}
    synapse_components = {}
    for synapses in run.get("synapses", ()):
        name = synapses["name"]
        target, source = synapses["target"]["group"], synapses["source"]["group"]
        if target not in neurons:
            raise UnsupportedFeatureError(
                name, f"synapses onto '{target}' in the same network as a SpatialNeuron",
                "Export multi-compartment neurons on their own.")
        if source not in generators:
            raise UnsupportedFeatureError(
                name, f"synapses from '{source}' onto the SpatialNeuron '{target}'",
                "Exported sources of synapses onto a SpatialNeuron: SpikeGeneratorGroups.")
        generator = generators[source]
        if float(generator["period"]) != 0:
            raise UnsupportedFeatureError(source, "a repeating SpikeGeneratorGroup (period) "
                                                  f"driving the SpatialNeuron '{target}'")
        variable, increments = _increments(synapses, conductances[target], target)
        conductance = next(item for item in conductances[target].values()
                           if item.conductance == variable)
        key = (target, variable)
        if key not in synapse_components:
            component = f"{cells[target]['cell']}_{variable}_synapse"
            synapse_components[key] = (component, [])
        synapse_components[key][1].append((synapses, generator, increments, conductance))
    for (target, _variable), (component, uses) in synapse_components.items():
        gbase = max(float(np.max(np.abs(increments))) for _, _, increments, _ in uses) or 1.0
        conductance = uses[0][3]
        document.exp_one_synapses.append(neuroml.ExpOneSynapse(
            id=component, gbase=f"{_number(gbase)} S", erev=f"{_number(conductance.erev)} V",
            tau_decay=f"{_number(conductance.tau)} s"))
        cell = cells[target]
        for synapses, generator, increments, _ in uses:
            i = np.asarray(synapses["i"], dtype=int) + int(synapses["source"]["start"])
            j = np.asarray(synapses["j"], dtype=int) + int(synapses["target"]["start"])
            delays = np.broadcast_to(np.asarray(synapses["pathways"][0]["delay"], dtype=float),
                                     i.shape)
            for index in np.unique(i):
                population, source_cell = _spike_source(generator, int(index), float(run["dt"]),
                                                         document, network, sources_made)
                chosen = np.flatnonzero(i == index)
                network.projections.append(neuroml.Projection(
                    id=f"{synapses['name']}_{index}", presynaptic_population=population,
                    postsynaptic_population=cell["population"], synapse=component,
                    connection_wds=[neuroml.ConnectionWD(
                        id=k, pre_cell_id=f"../{population}/0/{source_cell}",
                        post_cell_id=f"../{cell['population']}/0/{cell['cell']}",
                        post_segment_id=int(j[s]), post_fraction_along=0.5,
                        weight=_number(increments[s] / gbase),
                        delay=f"{_number(delays[s])} s") for k, s in enumerate(chosen)]))
    logger.debug(f"{len(synapse_components)} synapse types onto spatial neurons")


def _spike_source(generator: dict, index: int, dt: float, document, network, made: dict):
    """
    The population and component (made once) of a ``spikeArray`` with the
    spikes of one source neuron.

    Brian emits a spike in the time step its time falls in (rounded to the
    step), and the synapses act from the next step on. jNeuroML's NEURON
    code for a ``spikeArray`` watches ``t > time``, which fires at the end
    of the step after the one that reaches ``time`` and delivers a step
    later than Brian: written half a step before Brian's step, the spike
    acts in NEURON at the step it acts in Brian.
    """
    import neuroml

    key = (generator["name"], index)
    if key not in made:
        component = f"{generator['name']}_{index}"
        times = np.asarray(generator["times"], dtype=float)[
            np.asarray(generator["indices"], dtype=int) == index]
        times = np.maximum(np.round(times / dt) * dt - dt / 2, 0.0)
        document.spike_arrays.append(neuroml.SpikeArray(
            id=component, spikes=[neuroml.Spike(id=k, time=f"{_number(t)} s")
                                  for k, t in enumerate(np.sort(times))]))
        population = f"{component}_pop"
        network.populations.append(neuroml.Population(
            id=population, component=component, size=1, type="populationList",
            instances=[neuroml.Instance(id=0, location=neuroml.Location(x=0, y=0, z=0))]))
        made[key] = (population, component)
    return made[key]


def _number(value) -> str:
    return repr(float(f"{float(value):.12g}"))
