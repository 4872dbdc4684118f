"""
Networks in NeuroML2/LEMS: synapses, spike generators, Poisson groups and inputs.

Pure functions from the model description (see :doc:`/export_format`) to the
LEMS parts of a network. The NeuroML exporter (:mod:`.lemsexport`) adds them
to the cell types and to the ``network`` it builds for the neuron groups.

`build_network_parts` plans them, along the data's path (the reasons are in
:doc:`/nmlexport_network`):

* the spike sources (:mod:`.network_sources`): a SpikeGeneratorGroup
  becomes a population of ``spikeArray`` sources, a PoissonGroup one of
  ``spikeGeneratorPoisson`` sources, a PoissonInput one Poisson source per
  target cell sending its events to a port that applies the weight;
* the synapses (:mod:`.network_synapses`): those that add to variables with
  linear dynamics of the receiving neurons (``ge += w``) become NeuroML
  synapse components that carry their own copy of them
  (:mod:`.synapse_components`); synapses with a state of their own (STDP,
  short-term plasticity) synapse components with that state
  (:mod:`.plastic_synapses`); any other pathway (``v += w``) runs its
  statements as events on the receiving cells (:mod:`.network_pathways`);
* everything goes into a `~.network_parts.NetworkParts`
  (:mod:`.network_parts`, which also holds the timing that makes jNeuroML
  apply events in Brian's time step, `~.network_parts.lems_delays`), which
  :mod:`.network_rendering` writes as LEMS
  (`~.network_rendering.add_event_ports`,
  `~.network_rendering.connection_type_element`,
  `~.network_rendering.connection_lines`).

What LEMS cannot reproduce is refused by name: plastic synapses that
change neuron variables without linear dynamics, summed variables (gap
junctions), reading the other cell's variables, resets that depend on what
events change, too many differently weighted synapses onto one cell, custom
events.
"""

from __future__ import annotations

from collections.abc import Mapping

from brian2.utils.logger import get_logger

from .network_parts import (
    CellPaths,
    EventPort,
    NetworkParts,
    Projection,
    delay_steps,
    lems_delays,
    spike_generator_times,
)
from .network_pathways import MAX_INCOMING_PORTS, MAX_PORTS_PER_PATHWAY
from .network_rendering import add_event_ports, connection_lines, connection_type_element
from .network_sources import _poisson_group_parts, _poisson_input_parts, _spike_generator_parts
from .network_synapses import _plan_carried, _synapse_parts

__all__ = [
    "MAX_PORTS_PER_PATHWAY",
    "MAX_INCOMING_PORTS",
    "SYNAPSE_FORMS",
    "EventPort",
    "Projection",
    "NetworkParts",
    "build_network_parts",
    "delay_steps",
    "lems_delays",
    "spike_generator_times",
    "add_event_ports",
    "connection_type_element",
    "connection_lines",
    "CellPaths",
]

logger = get_logger(__name__)


#: How synapses that add to a linear neuron variable can be exported.
SYNAPSE_FORMS = ("components", "events")


def build_network_parts(description: Mapping, dt: float, duration: float,
                        taken=(), synapses: str = "components",
                        after_update: bool = True) -> NetworkParts:
    """
    Plan the network parts of one model description.

    Parameters
    ----------
    description : mapping
        The description of a run (see :doc:`/export_format`).
    dt : float
        The time step (seconds).
    duration : float
        The simulated time (seconds).
    taken : iterable of str, optional
        Names already used in the LEMS model.
    synapses : {'components', 'events'}, optional
        ``'components'`` (default): synapses that add to a linear variable
        of their neurons become synapse components that carry it, connected
        by projections; ``'events'``: all synapses are events on the
        receiving cells (also exact, and faster to simulate in jNeuroML).
    after_update : bool, optional
        Whether synaptic additions are applied after the receiving cell's
        update, in Brian's time step (default; see `lems_delays`), or when
        the event arrives, at the start of the next step (for the portable
        form: NEURON's synapses cannot wait for the update).

    Returns
    -------
    NetworkParts

    Raises
    ------
    UnsupportedFeatureError
        For synapses or inputs LEMS events cannot reproduce exactly, naming
        the object and the feature.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import ms, mV, volt
    >>> cells = {'name': 'P', 'N': 2, 'equations': [
    ...     {'name': 'ge', 'type': 'differential equation', 'expr': '-ge/(5*ms)',
    ...      'unit': volt, 'var_type': 'float', 'flags': []}]}
    >>> synapses = {'name': 'S', 'source': {'group': 'P', 'start': 0, 'stop': 2},
    ...             'target': {'group': 'P', 'start': 0, 'stop': 2}, 'equations': [],
    ...             'pathways': [{'name': 'pre', 'prepost': 'pre', 'event': 'spike',
    ...                           'code': 'ge += w0', 'delay': [0, 0]*ms}],
    ...             'namespace': {'w0': 1*mV}, 'i': np.array([0, 1]), 'j': np.array([1, 0]),
    ...             'N': 2, 'initial_values': {}}
    >>> parts = build_network_parts({'neurongroups': [cells], 'synapses': [synapses]},
    ...                             1e-4, 0.01)
    >>> parts.carried
    {'P': {'ge': frozenset({'ge'})}}
    >>> projection = parts.synaptic_projections[0]
    >>> projection.sources.tolist(), projection.targets.tolist(), projection.weights.tolist()
    (['P[0]', 'P[1]'], ['P[1]', 'P[0]'], [1.0, 1.0])
    >>> parts.synapse_types[0].amplitude
    0.001
    """
    if synapses not in SYNAPSE_FORMS:
        raise ValueError(f"synapses must be one of {', '.join(map(repr, SYNAPSE_FORMS))}, "
                         f"not {synapses!r}.")
    carry = synapses == "components"
    dt, duration = float(dt), float(duration)
    parts = NetworkParts()
    taken = set(taken)
    groups: dict[str, dict] = {}
    for kind, key in (("neurongroup", "neurongroups"), ("poissongroup", "poissongroups"),
                      ("spikegenerator", "spikegeneratorgroups")):
        for group in description.get(key) or ():
            groups[group["name"]] = {**group, "kind": kind}
            taken.add(group["name"])
    for generator in description.get("spikegeneratorgroups") or ():
        _spike_generator_parts(generator, dt, duration, parts, taken)
    for group in description.get("poissongroups") or ():
        _poisson_group_parts(group, dt, parts, taken)
    for synapses in description.get("synapses") or ():
        taken.add(synapses["name"])
    for poisson_input in description.get("poissoninputs") or ():
        taken.add(poisson_input["name"])
    carried_plans = _plan_carried(description, groups, parts, taken, carry=carry)
    for synapses in description.get("synapses") or ():
        _synapse_parts(synapses, groups, dt, parts, taken, carried_plans, after_update)
    for poisson_input in description.get("poissoninputs") or ():
        _poisson_input_parts(poisson_input, groups, dt, parts, taken, after_update)
    return parts
