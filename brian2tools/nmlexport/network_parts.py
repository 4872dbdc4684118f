"""
The parts of a network in NeuroML2/LEMS, and the timing of its events.

`~.network_export.build_network_parts` plans the LEMS parts of a
network into a `NetworkParts`: the input ports its synapses and inputs add
to cell types (`EventPort`), the connections of those ports (`Projection`,
their cells as `CellPaths`), the synapse components and spike sources.
This module holds those containers, the naming helpers the planning shares,
and the timing that makes jNeuroML apply every event in Brian's time step:

* jNeuroML reports a spike one step after Brian and delivers an event at
  the start of a step, before the cells are updated; Brian applies a
  synaptic effect after the update. An event with a delay of ``d >= 1``
  Brian steps that only adds to variables (``v += w``, ``ge += w``) is
  written with the delay ``(d - 1/2) * dt``: it arrives at the start of
  Brian's step, the receiving component collects it (``v__arriving``) and
  adds it after its update, in an ``OnCondition`` right after the
  threshold's; the cells then integrate, record and spike exactly as in
  Brian. A delay of 0 cannot be shortened (jNeuroML would deliver the event
  during the update, before or after the receiving cell's depending on
  their order), so such events (and Poisson inputs, statements that read
  the receiving cell's variables such as ``v += w*(E - v)``, and the
  portable form) arrive half a step after the next step begins (``(d +
  1/2) * dt``) and change the state when they arrive, before the update:
  the dynamics and spikes are still Brian's, but the value recorded at the
  arrival lacks the event (`lems_delays`).
* The spikes of a SpikeGeneratorGroup are written half a step after
  Brian's, so that jNeuroML emits them one step after Brian, like the
  spikes of its cells (`spike_generator_times`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

__all__ = [
    "EventPort",
    "Projection",
    "NetworkParts",
    "CellPaths",
    "delay_steps",
    "lems_delays",
    "spike_generator_times",
]

logger = get_logger(__name__)


@dataclass
class EventPort:
    """
    An input port of a cell type and what an event arriving there does.

    Attributes
    ----------
    group : str
        The neuron group whose cell type gets the port.
    port : str
        The port's name.
    statements : list of (str, str)
        ``(variable, LEMS expression of its new value)``, in order.
    constants : dict
        LEMS name -> value (Quantity or number) of the constants the
        statements use.
    origin : str
        The Brian object (and pathway) the port implements, for comments.
    per_cell : dict
        LEMS name -> (Brian unit, array with one value per cell of the
        group) of the per-cell parameters the statements use (the values
        of the synapse each cell receives at this port).
    arrivals : dict
        LEMS variable -> gate (or None) of the additions that the statements
        collect in ``variable__arriving`` and the cell adds after its update
        (see `lems_delays`); empty if the statements change the variables
        when the event arrives.
    now_port : str or None
        For statements that collect their additions: the name of a second
        port whose events change the variables when they arrive (the
        synapses without a delay), with `now_statements`.
    now_statements : list of (str, str)
        The statements of `now_port`.
    """

    group: str
    port: str
    statements: list = field(default_factory=list)
    constants: dict = field(default_factory=dict)
    origin: str = ""
    per_cell: dict = field(default_factory=dict)
    arrivals: dict = field(default_factory=dict)
    now_port: str | None = None
    now_statements: list = field(default_factory=list)


@dataclass
class Projection:
    """
    The connections of one port: a trigger cell, a receiving cell and a delay each.

    Attributes
    ----------
    name : str
        The connection component type's name (unique in the model).
    port : str
        The receiving port.
    sources, targets : CellPaths or ndarray of str
        Paths (``'group[3]'``) of the trigger and receiving cells.
    delays : ndarray
        The LEMS delay of each connection (seconds, see `lems_delays`).
    origin : str
        The Brian object (and pathway) the connections implement.
    compact : bool
        Whether the connections are written in the compact form of
        :mod:`.connections` (a short type name, shared delays in the type).
    """

    name: str
    port: str
    sources: Any
    targets: Any
    delays: np.ndarray
    origin: str = ""
    compact: bool = False

    @property
    def uniform_delay(self) -> float | None:
        """The delay shared by all connections, or None if they differ."""
        if len(self.delays) and np.all(self.delays == self.delays[0]):
            return float(self.delays[0])
        return None


@dataclass
class NetworkParts:
    """
    Everything a network adds to the neuron groups' LEMS model.

    Attributes
    ----------
    ports : list of EventPort
        Ports to add to cell types (`add_event_ports`).
    written : dict
        Neuron group -> variables that events change (they must be LEMS
        state variables of the cell type).
    projections : list of Projection
        The connections.
    populations : list of Element
        ``<Component>`` elements of the spike sources (generators, Poisson
        groups, Poisson inputs), for the ``network``.
    source_types : list of Element
        The population component types of the spike sources, and the
        prototype component each population names.
    sources : dict
        Name of each spike-source group -> its size, so monitors can select
        ``'name[k]'``.
    synapse_types : list of SynapseType
        The synapse components of the pathways whose synapses carry their
        neuron variables (:mod:`.synapse_components`).
    synaptic_projections : list of SynapticProjection
        Their connections, with each synapse's weight and delay.
    carried : dict
        Neuron group -> {variable: its linear component} for the variables
        its synapses carry.
    synapse_bases : dict
        Neuron group -> name of its synapse base type.
    spike_times : set
        Neuron groups whose cells must keep the time of their last spike
        (``lastspike``) for the gates of their ports.
    plastic : list of PlasticSynapses
        The Synapses objects that keep a state per synapse
        (:mod:`.plastic_synapses`).
    """

    ports: list = field(default_factory=list)
    written: dict = field(default_factory=dict)
    projections: list = field(default_factory=list)
    populations: list = field(default_factory=list)
    source_types: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)
    synapse_types: list = field(default_factory=list)
    synaptic_projections: list = field(default_factory=list)
    carried: dict = field(default_factory=dict)
    synapse_bases: dict = field(default_factory=dict)
    spike_times: set = field(default_factory=set)
    plastic: list = field(default_factory=list)


class CellPaths:
    """
    The paths ``group[k]`` of many cells, made when they are read.

    A network has hundreds of thousands of synapses: their cells are kept as
    indices (8 bytes each) rather than as strings, and a path is only
    written while the connection lines are.

    Parameters
    ----------
    group : str
        The population.
    indices : array of int
        The cells' indices in it.

    Examples
    --------
    >>> import numpy as np
    >>> CellPaths('P', np.array([0, 12])).tolist()
    ['P[0]', 'P[12]']
    """

    def __init__(self, group: str, indices) -> None:
        self.group = group
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self):
        group = self.group
        return (f"{group}[{index}]" for index in self.indices.tolist())

    def tolist(self) -> list[str]:
        """
        All the paths.

        Returns
        -------
        list of str
        """
        return list(self)


def _paths(group: str, start: int, indices: np.ndarray) -> CellPaths:
    """Paths ``group[k]`` of cells (made when they are read: see `CellPaths`)."""
    return CellPaths(group, np.asarray(indices, dtype=np.int64) + int(start))


# ---------------------------------------------------------------- timing
def delay_steps(delays, dt: float) -> np.ndarray:
    """
    Synaptic delays in time steps, rounded as Brian's spike queue does.

    Parameters
    ----------
    delays : array of float or Quantity
        Delays (seconds).
    dt : float
        The time step (seconds).

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> delay_steps([0, 0.0001, 0.00025], 0.0001).tolist()
    [0, 1, 3]
    """
    return (np.asarray(delays, dtype=float) / float(dt) + 0.5).astype(np.int64)


def lems_delays(steps, dt: float, after_update: bool = True) -> np.ndarray:
    """
    The LEMS delays that make jNeuroML apply events in Brian's time step.

    A spike Brian emits in step ``n`` through a synapse with a delay of
    ``d`` steps changes the state after the update of step ``n + d`` (the
    value recorded at step ``n + d + 1``). jNeuroML reports the same spike
    during its step ``n + 1`` and delivers the event at the start of the
    first step whose time reaches the spike's time plus the delay, before
    the cells are updated. Events whose additions the receiving component
    collects and applies after its update (``after_update``) must arrive at
    the start of step ``n + d + 1``: the delay is ``(d - 1/2) * dt``, the
    half step keeping jNeuroML's floating-point clock from moving it. This
    needs ``d >= 1``: with ``d = 0`` jNeuroML would have to deliver the event
    within the step that emits it, before or after the update of the
    receiving cell depending on the order of the cells. Events that change
    the state when they arrive (``after_update=False``, and the synapses
    without a delay) get ``(d + 1/2) * dt``: they arrive before the update
    of the step after Brian's, which gives the same new state (Brian adds
    after the update of step ``n + d``, jNeuroML before the update of step
    ``n + d + 1``), so only the value recorded at the arrival lacks them.

    Parameters
    ----------
    steps : array of int
        Delays in time steps (`delay_steps`).
    dt : float
        The time step (seconds).
    after_update : bool, optional
        Whether the receiving component applies the events of synapses with
        a delay after its update (default) or when they arrive.

    Returns
    -------
    ndarray
        Delays in seconds.

    Examples
    --------
    >>> lems_delays([0, 1, 3], 0.0001).tolist()
    [5e-05, 5e-05, 0.00025]
    >>> lems_delays([0, 1, 3], 0.001, after_update=False).tolist()
    [0.0005, 0.0015, 0.0035]
    """
    steps = np.asarray(steps, dtype=float)
    if after_update:
        delays = np.where(steps >= 1, steps - 0.5, 0.5) * float(dt)
    else:
        delays = (steps + 0.5) * float(dt)
    # without the floating-point noise of the product (0.15000000000000002 ms): the
    # half step leaves a margin far larger than this rounding
    return np.round(delays, 15)


def spike_generator_times(generator: Mapping, dt: float, duration: float) -> list[np.ndarray]:
    """
    The LEMS spike times of each cell of a SpikeGeneratorGroup.

    Brian puts a spike at time ``t`` in the step ``int((t + dt/1000)/dt)``
    and repeats the pattern every ``period``; a NeuroML ``spike`` fires at
    the first step whose time reaches its ``time``. Writing each time half a
    step after Brian's makes jNeuroML emit the spike one step after Brian,
    like the spikes of its cells, whatever the rounding of its clock.

    Parameters
    ----------
    generator : mapping
        A *spike generator* of the model description.
    dt : float
        The time step (seconds).
    duration : float
        The simulated time (seconds); periodic patterns are unrolled over it.

    Returns
    -------
    list of ndarray
        For each cell, its sorted spike times (seconds).

    Examples
    --------
    >>> from brian2 import ms
    >>> generator = {'name': 'g', 'N': 2, 'indices': [1, 0], 'times': [1, 2]*ms, 'period': 0*ms}
    >>> [times.tolist() for times in spike_generator_times(generator, 0.001, 0.005)]
    [[0.0025], [0.0015]]
    """
    dt = float(dt)
    size = int(generator["N"])
    indices = np.asarray(generator["indices"], dtype=np.int64)
    times = np.asarray(generator["times"], dtype=float)
    steps = ((times + 1e-3 * dt) / dt).astype(np.int64)
    period = float(generator.get("period") or 0.0)
    total_steps = int(round(float(duration) / dt))
    if period > 0:
        period_steps = int(round(period / dt))
        if period_steps > 0:
            repeats = int(np.ceil(total_steps / period_steps))
            offsets = np.arange(repeats, dtype=np.int64) * period_steps
            indices = np.tile(indices, repeats)
            steps = (steps[None, :] + offsets[:, None]).ravel()
    keep = steps < total_steps
    indices, steps = indices[keep], steps[keep]
    trains = []
    for cell in range(size):
        cell_steps = np.sort(steps[indices == cell])
        trains.append((cell_steps + 0.5) * dt)
    return trains


# ---------------------------------------------------------------- naming
class _Refuse:
    def __init__(self, owner: str):
        self.owner = owner

    def __call__(self, feature: str, hint: str | None = None) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(self.owner, feature, hint)


def _equations_by_name(description: Mapping) -> dict:
    return {eq["name"]: eq for eq in description.get("equations") or ()}


def _connection_name(base: str, taken: set, compact: bool) -> str:
    """A connection type's name: short (``c0``, ``c1``...) in the compact form."""
    if not compact:
        return _unique(base, taken)
    number = 0
    while f"c{number}" in taken:
        number += 1
    taken.add(f"c{number}")
    return f"c{number}"


def _unique(base: str, taken: set) -> str:
    name = base
    while name in taken:
        name += "_"
    taken.add(name)
    return name
