"""
The recordings of an exported `SpatialNeuron`: LEMS output files, and
NEURON's recordings read back in Brian's conventions.

`lems_outputs` turns the run's StateMonitors and SpikeMonitors into the
``OutputFile``/``EventOutputFile`` elements of the LEMS simulation:

* ``v`` of compartment ``k`` is ``POP/0/CELL/k/v`` (segment ``k`` is Brian's
  compartment ``k``);
* a gating variable ``m`` of compartment ``k`` is the state ``q`` of the
  gate ``m`` of the channel density that covers segment ``k``:
  ``POP/0/CELL/k/BIOPHYSICS/membraneProperties/DENSITY/CHANNEL/m/q``
  (``BIOPHYSICS`` is the id of the cell's ``biophysicalProperties``, as
  jNeuroML's NEURON writer expects);
* a synaptic variable whose synapse is exported as a NeuroML synapse (see
  :mod:`.spatial_synapses`) is the synapse's own state, on its segment;
* anything else (``Im``, subexpressions, parameters) is refused by name.

A monitor of a part of the neuron (``neuron.dendrite``,
``neuron[morpho.dendrite[50*um]]``) records the compartments of that part.
`spatial_recordings` reads the files NEURON wrote.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import numpy as np
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

__all__ = ["lems_outputs", "spatial_recordings"]

logger = get_logger(__name__)


def _quantity(monitor: dict, neuron: dict, variable: str, compartment: int,
              prefix: str, cell: dict) -> str:
    """The LEMS path of ``variable`` in ``compartment``."""
    if variable == "v":
        return f"{prefix}/{compartment}/v"
    gate = cell["gates"].get(variable)
    if gate is not None and compartment in gate:
        return f"{prefix}/{compartment}/{gate[compartment]}"
    synaptic = cell.get("synaptic", {}).get(variable)
    if synaptic is not None:
        if compartment not in synaptic:
            raise UnsupportedFeatureError(
                monitor["name"], f"recording '{variable}' of the SpatialNeuron "
                f"'{neuron['name']}' in compartment {compartment}",
                f"'{variable}' is exported as the state of synapses; it is recorded in the "
                f"compartments that receive synapses: {sorted(synaptic)}.")
        return synaptic[compartment]
    kinds = {eq["name"]: eq["type"] for eq in neuron["equations"]}
    kind = kinds.get(variable, "variable")
    raise UnsupportedFeatureError(
        monitor["name"], f"recording the {kind} '{variable}' of the SpatialNeuron "
        f"'{neuron['name']}'",
        "The NeuroML cell has the membrane potential v, the gating variables of its channels "
        f"({', '.join(sorted(cell['gates'])) or 'none'}) and the states of its synapses: "
        "record one of these.")


def lems_outputs(run: dict, cells: dict, simulation: ET.Element, stem: str) -> dict:
    """
    Add the output files of the run's monitors to the LEMS simulation.

    Parameters
    ----------
    run : dict
        The description of the run.
    cells : dict
        Neuron name -> ``{'population': id, 'cell': id, 'gates': {gate name:
        {compartment: path below the segment}}, 'synaptic': {variable:
        {compartment: full path}}, 'spike_compartment': index}``.
    simulation : xml.etree.ElementTree.Element
        The ``<Simulation>`` element to add the output files to.
    stem : str
        The model's file name without suffix (names the recording files).

    Returns
    -------
    dict
        Monitor name -> ``(file name, kind, compartments, variables)``,
        ``kind`` ``'state'`` or ``'events'``; a state file has one column
        per variable and compartment, variable by variable.

    Raises
    ------
    UnsupportedFeatureError
        For a monitor that records what the NeuroML cell does not have, at
        another dt, or events other than the spikes.

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> run = {'dt': 1e-4, 'spatialneurons': [{'name': 'n', 'equations': []}],
    ...        'statemonitors': [{'name': 'mon', 'variables': ['v'], 'dt': 1e-4,
    ...                           'record': [1], 'source': {'group': 'n', 'start': 2}}]}
    >>> cells = {'n': {'population': 'n_pop', 'cell': 'n', 'gates': {}}}
    >>> simulation = ET.Element('Simulation')
    >>> lems_outputs(run, cells, simulation, 'model')
    {'mon': ('recording_model_mon.dat', 'state', [3], ['v'])}
    >>> simulation.find('OutputFile/OutputColumn').get('quantity')
    'n_pop/0/n/3/v'
    """
    dt = float(run["dt"])
    neurons = {neuron["name"]: neuron for neuron in run["spatialneurons"]}
    outputs = {}
    for monitor in run.get("statemonitors", ()):
        neuron = neurons[monitor["source"]["group"]]
        cell = cells[neuron["name"]]
        if not np.isclose(float(monitor["dt"]), dt):
            raise UnsupportedFeatureError(monitor["name"], "a recording dt different from the "
                                          "simulation's")
        compartments = [int(index) + int(monitor["source"]["start"])
                        for index in monitor["record"]]
        variables = list(monitor["variables"])
        prefix = f"{cell['population']}/0/{cell['cell']}"
        file_name = f"recording_{stem}_{monitor['name']}.dat"
        output = ET.SubElement(simulation, "OutputFile", id=monitor["name"], fileName=file_name)
        for variable in variables:
            for compartment in compartments:
                ET.SubElement(output, "OutputColumn", id=f"{variable}_{compartment}",
                              quantity=_quantity(monitor, neuron, variable, compartment,
                                                 prefix, cell))
        outputs[monitor["name"]] = (file_name, "state", compartments, variables)
    for monitor in run.get("spikemonitors", ()):
        neuron = neurons[monitor["source"]["group"]]
        if monitor["event"] != "spike" or monitor["variables"] or neuron["threshold"] is None:
            raise UnsupportedFeatureError(monitor["name"], "an event monitor other than the "
                                          "spikes of a SpatialNeuron with a threshold")
        cell = cells[neuron["name"]]
        file_name = f"recording_{stem}_{monitor['name']}.spikes"
        output = ET.SubElement(simulation, "EventOutputFile", id=monitor["name"],
                               fileName=file_name, format="TIME_ID")
        ET.SubElement(output, "EventSelection", id="0",
                      select=f"{cell['population']}/0/{cell['cell']}", eventPort="spike")
        outputs[monitor["name"]] = (file_name, "events", [cell["spike_compartment"]], [])
    return outputs


def spatial_recordings(written: dict, runs: list[dict]) -> dict[str, dict]:
    """
    NEURON's recordings of a spatial model in Brian's conventions.

    Parameters
    ----------
    written : dict
        What :func:`~.spatial_cells.write_spatial_model` returned (after the
        simulation).
    runs : list of dict
        The run descriptions.

    Returns
    -------
    dict
        Monitor name -> ``{'kind': 'state', 't': ..., 'values': {variable:
        array}}`` (one row per recorded compartment) or ``{'kind': 'events',
        't': ..., 'i': ...}``, in SI units, as
        :func:`~brian2tools.nmlexport.results.fill_monitors` takes them.

    Raises
    ------
    ValueError
        If a recording has fewer samples than the run has time steps.

    Examples
    --------
    >>> converted = spatial_recordings(written, device.runs)  # doctest: +SKIP
    """
    run = runs[0]
    dt, t_start = float(run["dt"]), float(run.get("t_start") or 0.0)
    # several runs are simulated as one (see .spatial_runs)
    n_steps = int(round(sum(float(item["duration"]) for item in runs) / dt))
    folder = os.path.dirname(written["lems"])
    converted = {}
    for name, (file_name, kind, compartments, variables) in written["outputs"].items():
        table = np.loadtxt(os.path.join(folder, file_name), ndmin=2)
        if kind == "state":
            if table.shape[0] < n_steps:
                raise ValueError(f"NEURON recorded {table.shape[0]} samples for '{name}', "
                                 f"fewer than the {n_steps} time steps of the run.")
            columns = table[:n_steps, 1:].T
            n = len(compartments)
            converted[name] = {"kind": "state", "t": t_start + np.arange(n_steps) * dt,
                               "values": {variable: columns[k * n:(k + 1) * n].copy()
                                          for k, variable in enumerate(variables)}}
        else:
            times = table[:, 0] if table.size else np.zeros(0)
            times = times[times < n_steps * dt - dt / 2] + t_start
            converted[name] = {"kind": "events", "t": times,
                               "i": np.full(len(times), compartments[0], dtype=int)}
    return converted
