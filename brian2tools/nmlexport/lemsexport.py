"""
The NeuroML2/LEMS exporter and the ``'neuroml2'`` device.

`NMLExporter` turns model descriptions (see :doc:`/export_format`) into the
text of a LEMS file that jNeuroML simulates: a cell and a population
component type per NeuronGroup (see :mod:`.neurongroup`; standard
populations of NEURON-ready cells in the portable form, :mod:`.portable`),
a ``network`` of the populations with the synapses, spike sources and
Poisson inputs (see :mod:`.network_export`), and a ``Simulation`` with a
``Display``, an ``OutputFile`` per StateMonitor and an ``EventOutputFile``
per SpikeMonitor or PopulationRateMonitor (:mod:`.simulation_file`). It
never looks at Brian objects: description in, text out.

`LEMSDevice`, the ``'neuroml2'`` device that renders with `NMLExporter`, is
defined in :mod:`brian2tools.nmlexport.device` and importable from here too.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from functools import partial
from typing import Any
from xml.dom import minidom

import lems.api as lems
import numpy as np
from brian2 import second
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError, write_text_atomic

from . import supporting
from .cell_parts import order_derived_variables
from .connections import (
    connection_type_for,
    delay_note,
    half_step_unit,
    lines_for,
    network_type,
)
from .event_monitors import (
    THRESHOLD_SLOTS,
    add_event_values,
    captured_variables,
    thresholds_view,
    window_note,
)
from .event_monitors import refuse_in_portable_form as refuse_events_in_portable_form
from .linked_variables import rewrite_linked_variables
from .network_export import (
    add_event_ports,
    build_network_parts,
    connection_lines,
    connection_type_element,
)
from .neurongroup import build_cell_types
from .own_clock import check_clocks
from .plastic_delivery import deliver_to_cells
from .plastic_rendering import complete_plastic_types, expose_spike_time, synapse_monitor_columns
from .population_sums import add_population_sums
from .portable import INITIAL_TAG, group_cells, make_portable
from .portable_network import (
    check_portable_network,
    portable_sources,
    prepare_current_synapses,
    split_projection,
)
from .run_changes import merge_runs, refuse_in_portable_form
from .simulation_file import (
    add_event_monitor,
    add_state_monitor,
    check_state_monitor,
    recording_file_names,
    recordings_name_for,
)
from .summed_variables import expose_summed_terms, summed_onto
from .synapse_rendering import projection_element, projection_lines, synapse_type_definitions
from .synaptic_subexpressions import inline_synaptic_subexpressions
from .units import (
    LEMS_UNITS_CONSTANTS_FILE,
    format_quantity,
    lems_dimension,
)
from .unsupported import refuse_unsupported

__all__ = ["NMLExporter", "INCLUDES", "recording_file_names", "recordings_name_for"]

logger = get_logger(__name__)

#: Files of NeuroML2's core types every exported model includes.
INCLUDES = ("NeuroML2CoreTypes.xml", "Simulation.xml")

_TIME_DIMENSION = lems_dimension(second)


class _Ids:
    """Component ids that do not clash with Brian names (which are ids too)."""

    def __init__(self, taken):
        self.taken = set(taken)

    def new(self, base: str) -> str:
        name, counter = base, 1
        while name in self.taken:
            counter += 1
            name = f"{base}{counter}"
        self.taken.add(name)
        return name


def _check_runs(runs: list[dict]) -> dict:
    """
    The description to export: consecutive runs as one simulation.

    What changes in time (TimedArrays, run_regularly operations, NeuronGroup
    variables and constants changed between runs) is rewritten by
    `merge_runs`, which refuses other changes by name.
    """
    return merge_runs(runs)


class NMLExporter:
    """
    Renders model descriptions as a NeuroML2/LEMS model.

    Build the model with `create_lems_model`, then write it with
    `export_to_file`, or get its text from `to_xml` or its DOM from `model`.

    Examples
    --------
    >>> from brian2 import NeuronGroup, StateMonitor, ms, run, set_device, device
    >>> from brian2tools.nmlexport import NMLExporter
    >>> set_device('exporter')
    >>> group = NeuronGroup(3, 'dv/dt = (1 - v)/(10*ms) : 1', threshold='v > 0.8',
    ...                     reset='v = 0', method='euler', name='neurons')
    >>> monitor = StateMonitor(group, 'v', record=[0, 2], name='voltages')
    >>> run(10*ms)
    >>> exporter = NMLExporter()
    >>> exporter.create_lems_model(device.runs)
    >>> '<OutputColumn id="v_2" quantity="neurons[2]/v" />' in exporter.to_xml()
    True
    >>> exporter.names['recordings']
    {'voltages': 'recording_voltages.dat'}
    """

    def __init__(self) -> None:
        self._lems_model: lems.Model | None = None
        self._root: ET.Element | None = None
        self._text: str | None = None
        self._skeleton: str | None = None
        self._connections: dict = {}
        self._dom = None
        #: names of the model's parts: network, simulation, populations, files
        self.names: dict[str, Any] = {}

    # ------------------------------------------------------------------ API
    def create_lems_model(self, runs, constants_file: str | None = None,
                          includes=(), simulation_name: str = "sim1",
                          network_name: str = "net", synapses: str = "components",
                          recordingsname: str | None = None, portable: bool = False) -> None:
        """
        Build the LEMS model of the given runs.

        Parameters
        ----------
        runs : list of dict or dict
            The model descriptions of the ``run()`` calls (``device.runs`` of
            the ``'exporter'`` device), or a single description. Consecutive
            runs are exported as one simulation of their total duration;
            changes of NeuronGroup variables and constants between them
            switch at the run boundaries (:mod:`.time_functions`).
        constants_file : str, optional
            The file of unit constants to include (default
            ``'LEMSUnitsConstants.xml'``).
        includes : iterable of str, optional
            More files to include, after the NeuroML2 core types.
        simulation_name, network_name : str, optional
            Ids of the ``Simulation`` and of the ``network`` (changed if a
            Brian object has the same name).
        synapses : {'components', 'events'}, optional
            How synapses that add to a linear variable of their neurons are
            written: as synapse components in projections (default), or as
            events on the receiving cells (see :doc:`/nmlexport_network`).
        recordingsname : str, optional
            The common name of the recording files, e.g.
            ``'recording_nml2model'`` (the ``'neuroml2'`` device passes
            ``'recording_'`` and the stem of its model file): the first
            StateMonitor records into ``<recordingsname>.dat``, the first
            SpikeMonitor into ``<recordingsname>.spikes``, further monitors
            into ``<recordingsname>_<monitor name>.dat`` (or ``.spikes``).
            Without it, every monitor records into ``recording_<monitor
            name>.dat`` (or ``.spikes``). See `recording_file_names`.
        portable : bool, optional
            Write the portable form (:mod:`.portable`): standard NeuroML
            ``population`` elements (one per distinct set of cell values) of
            cell types that jNeuroML's NEURON writer translates, so that the
            model also runs in NEURON. Networks (synapses, spike sources,
            inputs) are not yet exported in this form.

        Raises
        ------
        UnsupportedFeatureError
            For parts of the model that cannot be exported faithfully
            (plastic synapses, custom events, functions without LEMS
            equivalent, objects added between runs, network operations, own
            clocks and linked variables that cannot be written exactly
            (:mod:`.own_clock`, :mod:`.linked_variables`), ``restore()`` (the
            device writes trials, :mod:`.trials`): see :mod:`.unsupported`,
            ...), naming the object.
        ValueError
            For an unknown form of ``synapses``.
        """
        if isinstance(runs, dict):
            runs = [runs]
        runs = list(runs)
        # what the description states for readers but NeuroML cannot run: refused by name
        refuse_unsupported(runs, exported=("clocks", "linked"))
        description = inline_synaptic_subexpressions(_check_runs(runs))
        duration = sum(float(run["duration"]) for run in runs)
        dt = float(description["dt"])
        check_clocks(description, dt, portable, [run["duration"] for run in runs])
        rewrite_linked_variables(description, portable)  # a copy of the source in each cell

        groups = {group["name"]: group for group in description.get("neurongroups") or ()}
        state_monitors = list(description.get("statemonitors") or ())
        spike_monitors = list(description.get("spikemonitors") or ())
        rate_monitors = list(description.get("ratemonitors") or ())
        parts = build_network_parts(description, dt, duration, synapses=synapses,
                                    after_update=not portable)
        plastic_plans = {plan.name: plan for plan in parts.plastic}
        # StateMonitors of plastic Synapses record the synapse components' state
        synapse_monitors = [m for m in state_monitors
                            if m["source"]["group"] in plastic_plans]
        state_monitors = [m for m in state_monitors if m not in synapse_monitors]
        for records_state, monitor in ([(True, m) for m in state_monitors]
                                       + [(False, m) for m in spike_monitors + rate_monitors]):
            source = monitor["source"]["group"]
            if source in parts.sources and not records_state:
                continue  # spikes of a spike source
            if source not in groups:
                raise UnsupportedFeatureError(
                    monitor["name"], f"a monitor of '{source}'",
                    "Only monitors of NeuronGroups (and spike monitors of spike sources) "
                    "can be exported.",
                )
        monitored = {name: set() for name in groups}
        for monitor in state_monitors:
            check_state_monitor(monitor, dt)
            if monitor.get("when", "start") not in THRESHOLD_SLOTS:
                monitored[monitor["source"]["group"]].update(monitor["variables"])
        # values of the thresholds slot (custom_events.py): when='thresholds', event variables
        captured = captured_variables(groups, state_monitors, spike_monitors)

        if portable:
            refuse_in_portable_form(groups.values())
            refuse_events_in_portable_form(groups, state_monitors,
                                           spike_monitors + rate_monitors)
            check_portable_network(description, parts)
        for name, variables in parts.written.items():
            monitored[name].update(variables)  # changed by events: LEMS state variables
        summed = {name: summed_onto(parts.plastic, name) for name in groups}
        for name, variables in summed.items():  # the sum of the previous step: a state
            monitored[name].update(v for v, cells in variables.items() if cells[0][2])
        cells = {name: build_cell_types(group, dt, monitored[name],
                                        carried=parts.carried.get(name) or (),
                                        synapse_base=parts.synapse_bases.get(name),
                                        track_spikes=name in parts.spike_times,
                                        brian_steps=not portable,
                                        summed=summed[name], captured=captured[name])
                 for name, group in groups.items()}
        for cell in cells.values():
            add_population_sums(cell)  # sums over the other cells (gap junctions)
        synapse_types, synapse_components, synapse_dimensions = synapse_type_definitions(
            parts.synapse_types, groups, parts.carried, monitored, dt,
            after_update=not portable)
        synapse_dimensions |= complete_plastic_types(synapse_types, parts.plastic, dt)
        synapse_dimensions |= deliver_to_cells({name: cell.cell_type for name, cell in cells.items()},
                                               synapse_types, parts.plastic, parts.synapse_bases)
        synapse_dimensions |= expose_summed_terms(synapse_types, parts.plastic,
                                                  parts.synapse_bases, parts.carried)
        for plan in parts.plastic:
            if plan.post:  # the synapses see their cell's spikes through lastspike
                expose_spike_time(cells[plan.group].cell_type)
        if portable:
            synapse_types = prepare_current_synapses(cells, groups, parts, synapse_types,
                                                     monitored)
        for port in parts.ports:
            cells[port.group].dimensions.update(
                add_event_ports(cells[port.group].cell_type, [port]))
            for name, (unit, values) in port.per_cell.items():
                cells[port.group].per_cell[name] = (lems_dimension(unit, port.origin),
                                                    values)

        model = lems.Model(include_includes=False)
        for include in INCLUDES:
            model.add(lems.Include(include))
        model.add(lems.Include(constants_file or LEMS_UNITS_CONSTANTS_FILE))
        for include in includes:
            if include not in INCLUDES:
                model.add(lems.Include(include))
        all_dimensions = synapse_dimensions.union(*(cell.dimensions for cell in cells.values()))
        dimensions = sorted({dimension for dimension in all_dimensions if not dimension.is_core},
                            key=lambda d: d.name)
        for dimension in dimensions:
            model.add(lems.Dimension(dimension.name, **{
                key: int(value) for key, value in dimension.dimension_attributes().items()}))
            model.add(lems.Unit(dimension.unit, dimension.unit, dimension.name))
        grouped = {}
        source_populations, source_components = parts.populations, parts.source_types
        if portable:
            for name, cell in cells.items():
                make_portable(cell, groups[name])
                grouped[name] = group_cells(cell)
            source_groups, source_populations, source_components = portable_sources(parts)
            grouped.update(source_groups)
        for cell in cells.values():
            model.add(cell.cell_type)
            if not portable:
                model.add(cell.population_type)
        for synapse_type in synapse_types:
            model.add(synapse_type)
        self._lems_model = model

        ids = _Ids(set(groups) | set(parts.sources) | {p.name for p in parts.projections}
                   | {p.name for p in parts.synaptic_projections}
                   | {t.component for t in parts.synapse_types}
                   | {e.get("id") for e in parts.source_types if e.tag == "Component"}
                   | {m["name"] for m in state_monitors + spike_monitors
                                  + rate_monitors + synapse_monitors})
        root = ET.Element("Lems")
        for element in (ET.fromstring(include.toxml()) for include in model.includes):
            root.append(element)
        for dimension in model.dimensions:
            root.append(_element(dimension.toxml()))
        for unit in model.units:
            root.append(_element(unit.toxml()))
        for component_type in model.component_types:
            order_derived_variables(component_type)
            root.append(_element(component_type.toxml()))
        root.extend(source_components)
        root.extend(connection_type_element(projection) for projection in parts.projections)
        # compact connections (connections.py): in the network, their delays in half steps
        compact = [p for p in parts.synaptic_projections if p.connection]
        root.extend(connection_type_for(projection) for projection in compact)
        if compact or any(projection.compact for projection in parts.projections):
            root.append(half_step_unit(dt))
        if compact:
            taken = {component_type.name for component_type in model.component_types}
            typed = network_type(_fresh("network_with_synapses", taken),
                                 [projection.synapse for projection in compact])
            root.append(typed)

        network_id = ids.new(network_name)
        populations = []
        for name, group_populations in grouped.items():
            if name not in cells:
                continue  # a spike source: its populations come with the network parts
            for position, values in enumerate(group_populations.components):
                component_id = ids.new(f"{name}__cell{position}")
                supporting.cell_component(cells[name].cell_type.name, values, component_id,
                                          parent=root)
                size = int(np.count_nonzero(group_populations.population_of == position))
                population = ET.Element("population", {
                    "id": group_populations.populations[position],
                    "component": component_id, "size": str(size)})
                for parameter, initial in group_populations.initial.get(position, {}).items():
                    ET.SubElement(population, "property", {
                        "tag": INITIAL_TAG + parameter,
                        "value": " ".join(map(repr, initial.tolist()))})
                populations.append(population)
        for name, cell in ((n, c) for n, c in cells.items() if n not in grouped):
            prototype_id = ids.new(f"{name}_prototype")
            per_cell = {parameter: supporting.format_numbers(values, dimension.unit)
                        for parameter, (dimension, values) in cell.per_cell.items()}
            supporting.cell_component(cell.cell_type.name,
                                      {parameter: texts[0] for parameter, texts in per_cell.items()},
                                      prototype_id, parent=root)
            populations.append(supporting.population_component(
                name, cell.population_type.name, cell.cell_type.name, prototype_id, per_cell,
                cell.size))
        root.extend(synapse_components)
        network = supporting.network(network_id, populations + source_populations)
        if compact:  # the network refers to the synapses of its compact connections
            network.set("type", typed.get("name"))
            for projection in compact:
                network.set(projection.synapse, projection.synapse)
        if parts.synaptic_projections or parts.projections:
            network.append(ET.Comment(delay_note(dt, after_update=not portable)))
        # connections are text, put in place of a marker once the rest is written
        connections = {}
        synaptic_projections = parts.synaptic_projections
        if portable:
            synaptic_projections = [split for projection in synaptic_projections
                                    for split in split_projection(projection, grouped)]
        half_step = float(dt) / 2
        for projection in synaptic_projections:
            if projection.connection:
                network.append(ET.Comment(
                    f" {projection.connection}: {projection.origin}, from {projection.presynaptic}"
                    f" to {projection.postsynaptic} through {projection.synapse} "))
                network.append(ET.Comment(_marker(len(connections))))
                connections[_marker(len(connections))] = partial(lines_for, projection, half_step)
                continue
            element = projection_element(projection)
            element.append(ET.Comment(_marker(len(connections))))
            connections[_marker(len(connections))] = partial(projection_lines, projection)
            network.append(element)
        for projection in parts.projections:
            if projection.compact:
                network.append(ET.Comment(f" {projection.name}: {projection.origin} "))
            network.append(ET.Comment(_marker(len(connections))))
            connections[_marker(len(connections))] = partial(connection_lines, projection,
                                                             half_step)
        root.append(network)

        simulation_id = ids.new(simulation_name)
        simulation = supporting.simulation(
            simulation_id, format_quantity(duration, _TIME_DIMENSION),
            format_quantity(dt, _TIME_DIMENSION), network_id)
        if isinstance(description.get("seed"), (int, np.integer)):
            # the script's seed() for the engine's own random numbers (noise, Poisson
            # sources): the same script then gives the same simulation again
            simulation.set("seed", str(int(description["seed"])))
        def path(group: str, index: int) -> str:
            return grouped[group].path(index) if group in grouped else f"{group}[{index}]"

        files = {}
        for position, monitor in enumerate(state_monitors):
            file_name = recording_file_names(monitor["name"], recordingsname,
                                             first=position == 0)["values"]
            if monitor.get("recorded_from") is not None:
                simulation.append(window_note(monitor))
            files[monitor["name"]] = add_state_monitor(
                simulation, thresholds_view(monitor), cells[monitor["source"]["group"]],
                groups[monitor["source"]["group"]], duration, ids, file_name, path)
        synapses_by_name = {s["name"]: s for s in description.get("synapses") or ()}
        for monitor in synapse_monitors:
            check_state_monitor(monitor, dt)
            file_name = recording_file_names(monitor["name"], recordingsname,
                                             first=not state_monitors and
                                             monitor is synapse_monitors[0])["values"]
            plan = plastic_plans[monitor["source"]["group"]]
            values_file = supporting.output_file(monitor["name"], file_name)
            for column, quantity in synapse_monitor_columns(
                    monitor, synapses_by_name[plan.name], plan, path):
                values_file.append(supporting.output_column(column, quantity))
            simulation.append(values_file)
            files[monitor["name"]] = file_name
        # NEURON records a cell's spikes into one event file only (the last one
        # that asks): in the portable form the event monitors of a group share
        # one file of all its cells, with the group's indices
        shared_events = {}  # monitor -> (recording id, start, stop)
        recorded_groups = {}
        for position, monitor in enumerate(spike_monitors + rate_monitors):
            # only a SpikeMonitor takes the documented plain name
            first = position == 0 and bool(spike_monitors)
            file_name = recording_file_names(monitor["name"], recordingsname,
                                             first=first)["spikes"]
            source = monitor["source"]
            if portable:
                group = source["group"]
                start, stop = int(source.get("start") or 0), int(source["stop"])
                if group not in recorded_groups:
                    recorded_groups[group] = monitor["name"]
                    size = (int(groups[group]["N"]) if group in groups
                            else len(grouped[group].population_of))
                    whole = dict(monitor, source={"group": group, "start": 0, "stop": size})
                    files[monitor["name"]] = add_event_monitor(simulation, whole, file_name,
                                                               path)
                else:
                    files[monitor["name"]] = files[recorded_groups[group]]
                shared_events[monitor["name"]] = (recorded_groups[group], start, stop)
                continue
            if monitor.get("recorded_from") is not None:
                simulation.append(window_note(monitor))
            files[monitor["name"]] = add_event_monitor(simulation, monitor, file_name, path)
            if monitor.get("variables"):
                add_event_values(simulation, monitor, cells[source["group"]],
                                 recording_file_names(f"{monitor['name']}_values",
                                                      recordingsname)["values"], path)
        root.append(simulation)
        root.append(supporting.target(simulation_id))
        ET.indent(root, space="  ")
        self._root = root
        self._skeleton = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                          + ET.tostring(root, encoding="unicode") + "\n")
        self._connections = connections
        self._text = None
        self._dom = None
        self.names = {"network": network_id, "simulation": simulation_id,
                      "populations": ({name: list(g.populations) for name, g in grouped.items()}
                                      if portable else list(cells)),
                      "recordings": files, "shared_events": shared_events}

    def to_xml(self) -> str:
        """
        The text of the model file.

        Returns
        -------
        str

        Raises
        ------
        RuntimeError
            If `create_lems_model` has not been called.
        """
        if self._skeleton is None:
            raise RuntimeError("No model yet: call create_lems_model() first.")
        if self._text is None:
            self._text = "".join(self._chunks())
        return self._text

    def _chunks(self):
        """
        The model text in pieces: the skeleton, with each projection's connections.

        The connections of a large network (hundreds of thousands of lines)
        are made one projection at a time, while the file is written, so
        that they are never all in memory at once.
        """
        if self._text is not None:
            yield self._text
            return
        text, position = self._skeleton, 0
        for marker, make_lines in self._connections.items():
            at = text.index(f"<!--{marker}-->", position)
            indent = text[text.rindex("\n", 0, at) + 1:at]
            yield text[position:at]
            lines = make_lines()
            # compact connections (c0, c1...) without indentation: 6 bytes of 70 a line
            compact = bool(lines) and lines[0][1:2] == "c" and lines[0][2:3].isdigit()
            yield ("\n" if compact else f"\n{indent}").join(lines)
            position = at + len(marker) + len("<!---->")
        yield text[position:]

    @property
    def model(self) -> minidom.Document:
        """The model as a DOM document (:mod:`xml.dom.minidom`)."""
        if self._dom is None:
            self._dom = minidom.parseString(self.to_xml())
        return self._dom

    @property
    def lems_model(self) -> lems.Model:
        """The pylems model of the includes, dimensions, units and component types."""
        if self._lems_model is None:
            raise RuntimeError("No model yet: call create_lems_model() first.")
        return self._lems_model

    def export_to_file(self, filename: str | os.PathLike) -> str:
        """
        Write the model file (atomically).

        Parameters
        ----------
        filename : str or os.PathLike

        Returns
        -------
        str
            The absolute path of the written file.
        """
        if self._skeleton is None:
            raise RuntimeError("No model yet: call create_lems_model() first.")
        return write_text_atomic(filename, self._chunks())


def _marker(number: int) -> str:
    return f"brian2tools connections {number}"


def _fresh(name: str, taken: set) -> str:
    """``name``, with underscores added until it is not in ``taken``."""
    while name in taken:
        name += "_"
    return name


def _element(xml_text: str) -> ET.Element:
    """Parse pylems's XML of one element, dropping its empty descriptions."""
    element = ET.fromstring(xml_text)
    for node in element.iter():
        if node.attrib.get("description", None) == "":
            del node.attrib["description"]
    return element


def __getattr__(name: str):
    # The device lives in its own module (device.py), which imports this one;
    # ``brian2tools.nmlexport.lemsexport.LEMSDevice`` keeps working through this.
    if name == "LEMSDevice":
        from .device import LEMSDevice

        return LEMSDevice
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
