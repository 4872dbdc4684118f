"""
Reading the recordings of a jNeuroML simulation back into Brian quantities.

jNeuroML writes the files that the exported model's ``Simulation`` asks for,
next to the model file: for the model ``nml2model.xml``,
``recording_nml2model.dat`` for the first StateMonitor (time and one column
per recorded variable and neuron, all in SI units) and
``recording_nml2model.spikes`` for the first SpikeMonitor (one line ``time
index`` per spike, time in seconds, index relative to the monitored group);
further monitors add their name (``recording_nml2model_<name>.dat``, and
``.spikes`` for further SpikeMonitors and PopulationRateMonitors).
`load_recordings` reads them, using the model file to know which file and
column holds what and in which unit.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import numpy as np
from brian2 import Quantity, second

from .units import brian_dimension

__all__ = ["load_recordings"]


# exposures that NeuroML's base cell types give the cell types extending them
_INHERITED_EXPOSURES = {"baseCellMembPot": {"v": "voltage"}, "baseIaf": {"v": "voltage"}}


def _type_exposures(types: dict, name: str) -> dict[str, str]:
    """The exposures of a component type and of the types it extends."""
    exposures = {}
    seen = set()
    while name and name not in seen:
        seen.add(name)
        exposures.update({key: value for key, value in _INHERITED_EXPOSURES.get(name, {}).items()
                          if key not in exposures})
        element = types.get(name)
        if element is None:
            break
        for exposure in element.iter("Exposure"):
            exposures.setdefault(exposure.get("name"), exposure.get("dimension"))
        name = element.get("extends")
    return exposures


def _exposure_dimensions(root: ET.Element) -> dict[str, dict[str, str]]:
    """Population id -> {exposure name: LEMS dimension name}."""
    types = {element.get("name"): element for element in root.iter("ComponentType")}
    components = {element.get("id"): element.get("type")
                  for element in root.iter("Component") if element.get("id")}
    populations = {}
    for network in root.iter("network"):
        for population in network:
            if population.tag == "population":
                # a standard population of copies of one component (the portable form)
                cell_type = components.get(population.get("component"))
                if cell_type is not None:
                    populations[population.get("id")] = _type_exposures(types, cell_type)
                continue
            population_type = types.get(population.get("type"))
            if population_type is None:
                continue
            children = population_type.find("Children")
            cell_type = types.get(children.get("type")) if children is not None else None
            if cell_type is None:
                continue
            populations[population.get("id")] = _type_exposures(types, cell_type.get("name"))
    return populations


def _read_table(path: str, columns: int) -> np.ndarray:
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"The recording '{path}' does not exist: run the model with jNeuroML first "
            "(java -jar <jNeuroML jar> <model file> -nogui)."
        )
    if os.path.getsize(path) == 0:  # no event recorded (numpy would warn)
        return np.zeros((0, columns))
    table = np.loadtxt(path, ndmin=2)
    if table.size == 0:
        return np.zeros((0, columns))
    return table


def load_recordings(model_file: str | os.PathLike,
                    folder: str | os.PathLike | None = None) -> dict[str, dict]:
    """
    Read the recordings of a simulated NeuroML2/LEMS model exported from Brian.

    Parameters
    ----------
    model_file : str or os.PathLike
        The model file written by the ``'neuroml2'`` device; jNeuroML must
        have been run on it.
    folder : str or os.PathLike, optional
        Where jNeuroML wrote the recordings: its working directory when it
        ran. By default the model's folder (run jNeuroML there).

    Returns
    -------
    dict
        Monitor name -> its recordings, like the monitor's attributes in Brian:

        * StateMonitor: ``{'t': times, 'record': indices, <variable>: values}``
          with ``values`` of shape ``(len(record), len(t))`` as Brian's
          ``monitor.v``. jNeuroML also writes the state at the end of the
          simulation, so there is one time point more than in Brian.
        * SpikeMonitor and PopulationRateMonitor: ``{'t': spike times, 'i':
          neuron indices}`` (indices relative to the monitored group). jNeuroML
          reports each spike one time step later than Brian.

        Times and values are Brian quantities in their units (SI).

    Raises
    ------
    FileNotFoundError
        If the model file or a recording does not exist.
    ValueError
        If the model file was not written by the ``'neuroml2'`` device.

    Examples
    --------
    >>> recordings = load_recordings('nml2model.xml')  # doctest: +SKIP
    >>> recordings['statemonitor']['v'][0]  # doctest: +SKIP
    """
    model_file = os.fspath(model_file)
    if folder is None:
        folder = os.path.dirname(os.path.abspath(model_file))
    folder = os.fspath(folder)
    root = ET.parse(model_file).getroot()
    if root.tag != "Lems":
        raise ValueError(f"'{model_file}' is not a LEMS file.")
    declared = {element.get("name"): dict(element.attrib) for element in root.iter("Dimension")}
    exposures = _exposure_dimensions(root)
    types = {element.get("name"): element for element in root.iter("ComponentType")}
    components = {element.get("id"): element.get("type")
                  for element in root.iter("Component") if element.get("id")}
    recordings = {}
    for simulation in root.iter("Simulation"):
        for output in simulation.iter("OutputFile"):
            columns = list(output.iter("OutputColumn"))
            table = _read_table(os.path.join(folder, output.get("fileName")), len(columns) + 1)
            result = {"t": Quantity(table[:, 0], dim=second.dim)}
            values, indices = {}, {}
            for position, column in enumerate(columns, start=1):
                variable, index = column.get("id").rsplit("_", 1)
                path = column.get("quantity")
                population, exposure = path.split("[", 1)[0], path.rsplit("/", 1)[1]
                owner = path.rsplit("/", 2)[-2]
                if ":" in owner:  # a synapse on a cell: 'cell/synapses:<component>:<k>/x'
                    owner_exposures = _type_exposures(types, components.get(owner.split(":")[1]))
                else:
                    owner_exposures = exposures[population]
                dimension = brian_dimension(owner_exposures[exposure], declared)
                values.setdefault(variable, ([], dimension))[0].append(table[:, position])
                indices.setdefault(variable, []).append(int(index))
            for variable, (rows, dimension) in values.items():
                result[variable] = Quantity(np.array(rows), dim=dimension)
            if indices:
                result["record"] = np.array(next(iter(indices.values())))
            recordings[output.get("id")] = result
        for output in simulation.iter("EventOutputFile"):
            table = _read_table(os.path.join(folder, output.get("fileName")), 2)
            if output.get("format", "TIME_ID") == "ID_TIME":
                table = table[:, ::-1]
            recordings[output.get("id")] = {
                "t": Quantity(table[:, 0], dim=second.dim),
                "i": table[:, 1].astype(int),
            }
    if not recordings:
        raise ValueError(f"'{model_file}' does not ask for any recording.")
    return recordings
