"""
Exporting `SpatialNeuron` models: a NeuroML ``<cell>`` per neuron and a LEMS
simulation for NEURON.

For a run whose description has ``'spatialneurons'`` (and nothing else but
monitors of them), `write_spatial_model` writes

* ``<stem>.net.nml``: a NeuroML document (libNeuroML objects and writer)
  with one ``<cell>`` per neuron -- the morphology from
  :func:`~brian2tools.nmlimport.morphology_mapping.morphology_to_nml` (one
  segment per compartment, one unbranched group per section), the
  biophysical properties (``Cm``, ``Ri``, the initial ``v``, the spike
  threshold) and one channel density per term of ``Im`` (see
  :mod:`.spatial_channels`) --, the ion channels, a ``pulseGenerator`` per
  compartment with a constant point current, and a network with one
  population per neuron;
* the LEMS file (the ``filename`` of the device) that includes it and
  records what the monitors record (see :mod:`.spatial_outputs`).

jNeuroML's LEMS interpreter does not simulate multi-compartment cells:
these models run in NEURON (``simulate='neuron'``), and
:func:`~.spatial_outputs.spatial_recordings` reads NEURON's recordings back
in Brian's conventions.
"""

from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET

import numpy as np
from brian2.parsing.sympytools import str_to_sympy
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError, write_text_atomic

from .spatial_channels import SpatialModel, membrane_channels
from .spatial_outputs import lems_outputs
from .spatial_runs import merge_runs
from .spatial_synapses import add_synapses, synaptic_conductances
from .spatial_timed import calls_timed_array, timed_point_current

__all__ = ["write_spatial_model", "spike_compartment"]

logger = get_logger(__name__)

_THRESHOLD = re.compile(r"^v\s*>\s*(?P<value>.+)$")


def _number(value) -> str:
    return repr(float(f"{float(value):.12g}"))


def _region_groups(cell, groups: dict) -> dict:
    """
    Section path -> a group that includes only that section's group.

    jNeuroML's NEURON code writes a property placed on a group as a loop
    over a NEURON SectionList, which it makes for every group but the
    unbranched ones (those are sections): properties per section go on
    these groups.
    """
    from neuroml import Include, SegmentGroup

    regions = {}
    for path, group in groups.items():
        region = f"{group}_region"
        cell.morphology.segment_groups.append(
            SegmentGroup(id=region, includes=[Include(segment_groups=group)]))
        regions[path] = region
    return regions


def _uniform_groups(values: np.ndarray, sections: dict, groups: dict, what: str, name: str):
    """``[(segment group, value)]``: ``'all'`` if uniform, else one group per section."""
    values = np.asarray(values, dtype=float)
    if np.allclose(values, values[0], rtol=1e-12, atol=0):
        return [("all", values[0])]
    placed = []
    for path, (start, stop) in sections.items():
        part = values[start:stop]
        if not np.allclose(part, part[0], rtol=1e-12, atol=0):
            raise UnsupportedFeatureError(
                name, f"{what} varying within the section '{path or 'root'}' (NeuroML channel "
                "densities are written per section)")
        placed.append((groups[path], part[0]))
    return placed


def _check_runs(runs: list[dict]) -> tuple[dict, dict]:
    """The run (all runs merged, see :mod:`.spatial_runs`), and the point currents' schedule."""
    synaptic = {neuron["name"]: set(synaptic_conductances(neuron))
                for neuron in runs[0]["spatialneurons"]}
    run, schedule = merge_runs(runs, synaptic)
    names = {neuron["name"] for neuron in run["spatialneurons"]}
    # synapses (from SpikeGeneratorGroups) are checked by .spatial_synapses
    for key in ("neurongroups", "poissongroups", "poissoninputs", "ratemonitors"):
        for item in run.get(key, ()):
            raise UnsupportedFeatureError(
                item["name"], f"{key[:-1]} in the same network as the SpatialNeuron "
                f"'{sorted(names)[0]}'", "Export multi-compartment neurons on their own.")
    for key in ("statemonitors", "spikemonitors"):
        for monitor in run.get(key, ()):
            if monitor["source"]["group"] not in names:
                raise UnsupportedFeatureError(
                    monitor["name"], f"a monitor of '{monitor['source']['group']}' in the "
                    f"same network as the SpatialNeuron '{sorted(names)[0]}'",
                    "Only the spatial neurons are recorded.")
    return run, schedule


def _threshold(neuron: dict, model_values) -> float | None:
    """The spike threshold (volt), or None without threshold."""
    name = neuron["name"]
    if neuron["threshold"] is None:
        return None
    match = _THRESHOLD.match(neuron["threshold"])
    if match is None:
        raise UnsupportedFeatureError(
            name, f"the threshold '{neuron['threshold']}'",
            "NeuroML cells detect spikes as v crossing a value: use 'v > value'.")
    if neuron["reset"]:
        raise UnsupportedFeatureError(name, f"the reset '{neuron['reset']}'")
    # jNeuroML's NEURON code detects a cell's spikes at the middle of its root
    # section (v(0.5)): the compartment int(n/2) of the root's n compartments
    detected = spike_compartment(neuron)
    if neuron["N"] > 1 and neuron["threshold_location"] != detected:
        where = "every compartment (no threshold_location)" \
            if neuron["threshold_location"] is None \
            else f"compartment {neuron['threshold_location']}"
        raise UnsupportedFeatureError(
            name, f"a threshold in {where}",
            f"NEURON detects spikes at the middle of the root section: give "
            f"threshold_location={detected}.")
    refractory = neuron["refractory"]
    value = model_values(match.group("value"))
    if not isinstance(refractory, str) or _THRESHOLD.match(refractory) is None or \
            model_values(_THRESHOLD.match(refractory).group("value")) > value:
        raise UnsupportedFeatureError(
            name, f"the refractoriness {refractory!r}",
            "NEURON counts upward crossings of the threshold: use refractory='v > value' with "
            "a value at or below the threshold's.")
    return value


def spike_compartment(neuron: dict) -> int:
    """
    The compartment where NEURON detects the spikes of an exported neuron.

    jNeuroML's NEURON code watches ``v(0.5)`` of the root section, which is
    its compartment ``int(n/2)``: the soma for a `Soma` root.

    Parameters
    ----------
    neuron : dict
        The description of a `SpatialNeuron`.

    Returns
    -------
    int
        The compartment index (Brian's numbering).

    Examples
    --------
    >>> spike_compartment({'sections': {'': (0, 7), 'dend': (7, 9)}})
    3
    """
    start, stop = neuron["sections"][""]
    return start + (stop - start) // 2


def _evaluator(neuron: dict):
    model = SpatialModel(neuron)
    return lambda text: float(model.evaluate(str_to_sympy(text)))


def _cell(neuron: dict, cell_id: str, document):
    """
    The libNeuroML cell of one neuron; adds its ion channels to ``document``.

    Also returns, per gating variable, the LEMS path of its gate in each
    compartment below the segment (``CELL_biophysics/membraneProperties/
    DENSITY/CHANNEL/GATE/q``): the recordings need it.
    """
    import neuroml

    from brian2tools.nmlimport.morphology_mapping import morphology_to_nml, section_groups

    name = neuron["name"]
    cell = morphology_to_nml(neuron["morphology"], cell_id)
    groups = _region_groups(cell, section_groups(neuron["morphology"]))
    sections = neuron["sections"]
    membrane = neuroml.MembraneProperties()
    initial_v = np.asarray(neuron["initial_values"]["v"], dtype=float)
    for group, value in _uniform_groups(neuron["Cm"], sections, groups, "Cm", name):
        membrane.specific_capacitances.append(neuroml.SpecificCapacitance(
            value=f"{_number(value)} F_per_m2", segment_groups=group))
    for group, value in _uniform_groups(initial_v, sections, groups, "the initial v", name):
        membrane.init_memb_potentials.append(neuroml.InitMembPotential(
            value=f"{_number(value)} V", segment_groups=group))
    threshold = _threshold(neuron, _evaluator(neuron))
    membrane.spike_threshes.append(neuroml.SpikeThresh(
        value=f"{_number(0.0 if threshold is None else threshold)} V", segment_groups="all"))
    compartments_of = {"all": range(int(neuron["N"]))}
    compartments_of.update({groups[path]: range(*sections[path]) for path in sections})
    gate_paths: dict[str, dict[int, str]] = {}
    for index, channel in enumerate(membrane_channels(neuron)):
        channel_id = f"{cell_id}_channel{index}"
        densities_before = len(membrane.channel_densities)
        if channel.gates:
            ion_channel = neuroml.IonChannelHH(id=channel_id, conductance="10pS", species=None,
                                               notes=f"Brian: {channel.term}")
            for gate in channel.gates:
                initial = np.asarray(neuron["initial_values"][gate.name], dtype=float)
                steady = gate.steady_state(initial_v)
                if not np.allclose(initial, steady, rtol=0, atol=1e-6):
                    raise UnsupportedFeatureError(
                        name, f"the initial values of '{gate.name}' (not at steady state for "
                        "the initial v; NeuroML's HH gates start there)",
                        f"Set {gate.name} to alpha/(alpha+beta) at the initial v.")
                ion_channel.gate_hh_rates.append(neuroml.GateHHRates(
                    id=gate.name, instances=gate.power,
                    forward_rate=_rate(gate.forward), reverse_rate=_rate(gate.reverse)))
            document.ion_channel_hhs.append(ion_channel)
        else:
            document.ion_channel.append(neuroml.IonChannelHH(
                id=channel_id, conductance="10pS", type="ionChannelPassive",
                notes=f"Brian: {channel.term}"))
        placed = _uniform_groups(channel.gbar, sections, groups, f"the conductance of "
                                 f"'{channel.term}'", name)
        reversal = dict(_uniform_groups(channel.erev, sections, groups, f"the reversal "
                                        f"potential of '{channel.term}'", name))
        for group, gbar in placed:
            erev = reversal.get(group, reversal.get("all"))
            if erev is None:  # uniform conductance, reversal per section
                for section_group, section_erev in reversal.items():
                    membrane.channel_densities.append(_density(
                        channel_id, section_group, gbar, section_erev))
                continue
            membrane.channel_densities.append(_density(channel_id, group, gbar, erev))
        for density in membrane.channel_densities[densities_before:]:
            for gate in channel.gates:
                paths = gate_paths.setdefault(gate.name, {})
                for compartment in compartments_of[density.segment_groups]:
                    paths.setdefault(compartment, f"{cell_id}_biophysics/membraneProperties/"
                                                  f"{density.id}/"
                                                  f"{channel_id}/{gate.name}/q")
    intracellular = neuroml.IntracellularProperties(resistivities=[neuroml.Resistivity(
        value=f"{_number(neuron['Ri'])} ohm_m", segment_groups="all")])
    cell.biophysical_properties = neuroml.BiophysicalProperties(
        id=f"{cell_id}_biophysics", membrane_properties=membrane,
        intracellular_properties=intracellular)
    used = {item.segment_groups for values in (
        membrane.channel_densities, membrane.specific_capacitances,
        membrane.init_memb_potentials) for item in values}
    cell.morphology.segment_groups = [
        group for group in cell.morphology.segment_groups
        if group.id in used or group.id not in set(groups.values())]
    return cell, gate_paths


def _density(channel_id: str, group: str, gbar: float, erev: float):
    import neuroml

    return neuroml.ChannelDensity(
        id=f"{channel_id}_{group}", ion_channel=channel_id, segment_groups=group,
        cond_density=f"{_number(gbar)} S_per_m2", erev=f"{_number(erev)} V", ion="non_specific")


def _rate(kwargs: dict):
    import neuroml

    return neuroml.HHRate(type=kwargs["type"], rate=f"{_number(kwargs['rate'])} per_s",
                          midpoint=f"{_number(kwargs['midpoint'])} V",
                          scale=f"{_number(kwargs['scale'])} V")


def _point_currents(neuron: dict, cell_id: str, population: str, schedule: dict,
                    document, network, duration: float, dt: float) -> None:
    """A ``pulseGenerator`` per compartment and run in which a point current is not 0."""
    import neuroml

    synaptic = synaptic_conductances(neuron)
    for current in neuron["point_currents"]:
        if current in synaptic:  # written by .spatial_synapses
            continue
        equation = next(eq for eq in neuron["equations"] if eq["name"] == current)
        if equation["type"] == "subexpression" and calls_timed_array(neuron, equation["expr"]):
            runs = timed_point_current(neuron, current, duration, dt)
        elif equation["type"] != "parameter":
            raise UnsupportedFeatureError(
                neuron["name"], f"the point current '{current}' defined by an equation",
                "Exported point currents: constants (parameters), expressions of a "
                "TimedArray of t, and exponential conductance synapses 'g*(E - v)' with "
                "'dg/dt = -g/tau'.")
        else:
            runs = schedule[current]
        for number, (start, duration, values) in enumerate(runs):
            # the last pulse lasts beyond the end: NEURON's last step must not miss it
            length = 2 * duration if number == len(runs) - 1 else duration
            # one generator and input list per compartment: a list has one component
            for compartment in np.flatnonzero(values):
                generator = f"{cell_id}_{current}_{compartment}"
                if len(runs) > 1:
                    generator += f"_run{number + 1}"
                document.pulse_generators.append(neuroml.PulseGenerator(
                    id=generator, delay=f"{_number(start)} s", duration=f"{_number(length)} s",
                    amplitude=f"{_number(values[compartment])} A"))
                network.input_lists.append(neuroml.InputList(
                    id=f"{generator}_input", populations=population, component=generator,
                    input=[neuroml.Input(id=0, target=f"../{population}/0/{cell_id}",
                                         destination="synapses", segment_id=int(compartment),
                                         fraction_along=0.5)]))


def _cell_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


class _KeptOpen(io.StringIO):
    """libNeuroML's writer closes the file it writes to; the text must survive that."""

    def close(self):
        pass


def write_spatial_model(runs: list[dict], filename: str | os.PathLike) -> dict:
    """
    Write the NeuroML cells and the LEMS simulation of a run with spatial neurons.

    Parameters
    ----------
    runs : list of dict
        The run descriptions (one run, whose ``'spatialneurons'`` is not empty).
    filename : str or os.PathLike
        The LEMS file to write; the NeuroML document is written next to it
        as ``<stem>.net.nml``.

    Returns
    -------
    dict
        ``{'lems': path, 'nml': path, 'outputs': {monitor name: (file name,
        kind, compartments, variables)}}``, where ``kind`` is ``'state'`` or
        ``'events'`` (see :func:`~.spatial_outputs.lems_outputs`).

    Raises
    ------
    UnsupportedFeatureError
        For anything the NeuroML cell cannot represent, naming it.

    Examples
    --------
    >>> written = write_spatial_model(device.runs, 'model.xml')  # doctest: +SKIP
    >>> os.path.basename(written['nml'])  # doctest: +SKIP
    'model.net.nml'
    """
    import neuroml
    from neuroml.writers import NeuroMLWriter

    run, schedule = _check_runs(runs)
    filename = os.path.abspath(os.fspath(filename))
    folder, stem = os.path.dirname(filename), os.path.splitext(os.path.basename(filename))[0]
    nml_name = f"{stem}.net.nml"
    duration, dt = float(run["duration"]), float(run["dt"])
    document = neuroml.NeuroMLDocument(id=_cell_id(stem))
    network = neuroml.Network(id=f"{_cell_id(stem)}_network")
    cells = {}
    for neuron in run["spatialneurons"]:
        cell_id = _cell_id(neuron["name"])
        cell, gates = _cell(neuron, cell_id, document)
        document.cells.append(cell)
        population = f"{cell_id}_pop"
        cells[neuron["name"]] = {"population": population, "cell": cell_id, "gates": gates,
                                 "spike_compartment": spike_compartment(neuron)}
        network.populations.append(neuroml.Population(
            id=population, component=cell_id, size=1, type="populationList",
            instances=[neuroml.Instance(id=0, location=neuroml.Location(x=0, y=0, z=0))]))
        _point_currents(neuron, cell_id, population, schedule[neuron["name"]], document,
                        network, duration, dt)
    add_synapses(run, cells, document, network)
    document.networks.append(network)
    buffer = _KeptOpen()
    NeuroMLWriter.write(document, buffer)
    nml_path = write_text_atomic(os.path.join(folder, nml_name), buffer.getvalue())

    lems = ET.Element("Lems")
    ET.SubElement(lems, "Target", component="sim")
    for include in ("Cells.xml", "Networks.xml", "Simulation.xml", nml_name):
        ET.SubElement(lems, "Include", file=include)
    simulation = ET.SubElement(lems, "Simulation", id="sim", length=f"{_number(duration)}s",
                               step=f"{_number(dt)}s", target=network.id)
    outputs = lems_outputs(run, cells, simulation, stem)
    ET.indent(lems)
    lems_path = write_text_atomic(filename, ET.tostring(lems, encoding="unicode") + "\n")
    logger.debug(f"spatial neurons written to {nml_path} and {lems_path}")
    return {"lems": lems_path, "nml": nml_path, "outputs": outputs}
