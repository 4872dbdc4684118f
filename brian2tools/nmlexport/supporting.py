"""
Builders for the NeuroML2/LEMS elements around the cell types.

The cell and population component types are built with pylems
(:mod:`brian2tools.nmlexport.neurongroup`); the elements that instantiate and
simulate them (the ``network`` with its populations, the ``Simulation`` with
``Display``/``Line``, ``OutputFile``/``OutputColumn``,
``EventOutputFile``/``EventSelection``, and the ``Target``) are components
of NeuroML2's core types that pylems would only write in the generic
``<Component type="...">`` form; they are built here as
:mod:`xml.etree.ElementTree` elements with the element names NeuroML2 tools
use. Each builder takes plain values and returns an element.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping

import numpy as np

from .units import format_in_unit

__all__ = [
    "format_numbers",
    "format_repeated",
    "cell_component",
    "population_component",
    "network",
    "simulation",
    "display",
    "line",
    "output_file",
    "output_column",
    "event_output_file",
    "event_selection",
    "target",
    "LINE_COLOURS",
]

#: Colours given to the lines of a display, in turn.
LINE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def format_numbers(values: np.ndarray, unit: str = "") -> list[str]:
    """
    Many numbers as exact LEMS value strings, in their natural unit.

    Parameters
    ----------
    values : ndarray
        The numbers (SI).
    unit : str, optional
        The symbol of their SI unit (``'V'``); each value is written in the
        natural unit (see `~.units.format_in_unit`).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import numpy as np
    >>> from brian2tools.nmlexport.supporting import format_numbers
    >>> format_numbers(np.array([0.0, 0.001, 2.5]), 'V')
    ['0 V', '1 mV', '2.5 V']
    """
    numbers = np.asarray(values, dtype=float).tolist()
    if unit:
        return [format_in_unit(number, unit) for number in numbers]
    texts = []
    for number in numbers:
        if number == int(number) and abs(number) < 1e15:
            texts.append(str(int(number)))
        else:
            texts.append(repr(number))
    return texts


def format_repeated(values: np.ndarray, unit: str = "") -> list[str]:
    """
    Many numbers with few distinct values as LEMS value strings, each value formatted once.

    Parameters
    ----------
    values : ndarray
        The numbers (SI), such as the delays of all synapses.
    unit : str, optional
        A unit symbol appended to each value.

    Returns
    -------
    list of str
        One string per value, in order.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2tools.nmlexport.supporting import format_repeated
    >>> format_repeated(np.array([5e-05, 0.00015, 5e-05]), 's')
    ['0.05 ms', '0.15 ms', '0.05 ms']
    """
    distinct, index = np.unique(np.asarray(values, dtype=float), return_inverse=True)
    texts = format_numbers(distinct, unit)
    return [texts[which] for which in np.asarray(index).ravel().tolist()]


def cell_component(cell_type: str, parameters: Mapping[str, str], component_id: str | None = None,
                   parent: ET.Element | None = None) -> ET.Element:
    """
    One cell: ``<Component [id=...] type="cell_type" p1="..." .../>``.

    Parameters
    ----------
    cell_type : str
        The cell component type.
    parameters : mapping
        Parameter name -> LEMS value string.
    component_id : str, optional
        The component's id (cells of a population need none).
    parent : Element, optional
        Where to append the element.

    Returns
    -------
    Element

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from brian2tools.nmlexport.supporting import cell_component
    >>> ET.tostring(cell_component('neurons_cell', {'v0': '0.01 V'}))
    b'<Component type="neurons_cell" v0="0.01 V" />'
    """
    attributes = {"id": component_id} if component_id else {}
    attributes["type"] = cell_type
    attributes.update(parameters)
    if parent is None:
        return ET.Element("Component", attributes)
    return ET.SubElement(parent, "Component", attributes)


def population_component(population_id: str, population_type: str, cell_type: str,
                         prototype_id: str, per_cell: Mapping[str, list[str]],
                         size: int) -> ET.Element:
    """
    A population with one child component per cell, each with its own values.

    Parameters
    ----------
    population_id : str
        The id (the Brian name of the group), used in paths such as
        ``neurongroup[3]/v``.
    population_type : str
        The population component type (children ``cells`` of ``cell_type``).
    cell_type : str
        The cell component type.
    prototype_id : str
        A cell component standing for the population's ``component``
        reference (required by NeuroML's ``basePopulation``).
    per_cell : mapping
        Parameter name -> list of ``size`` LEMS value strings.
    size : int
        Number of cells.

    Returns
    -------
    Element

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from brian2tools.nmlexport.supporting import population_component
    >>> population = population_component('neurons', 'neurons_population', 'neurons_cell',
    ...                                   'neurons_prototype', {'v0': ['0 V', '0.01 V']}, 2)
    >>> [cell.get('v0') for cell in population]
    ['0 V', '0.01 V']
    """
    element = ET.Element("Component", {"id": population_id, "type": population_type,
                                       "component": prototype_id})
    names = list(per_cell)
    columns = [per_cell[name] for name in names]
    for index in range(size):
        ET.SubElement(element, "Component",
                      {"type": cell_type, **{name: column[index]
                                              for name, column in zip(names, columns, strict=True)}})
    return element


def network(network_id: str, populations: Iterable[ET.Element]) -> ET.Element:
    """
    A NeuroML ``<network>`` holding the populations (room for projections and inputs).

    Parameters
    ----------
    network_id : str
    populations : iterable of Element

    Returns
    -------
    Element

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from brian2tools.nmlexport.supporting import network
    >>> ET.tostring(network('net', [ET.Element('Component', id='neurons')]))
    b'<network id="net"><Component id="neurons" /></network>'
    """
    element = ET.Element("network", {"id": network_id})
    element.extend(populations)
    return element


def simulation(simulation_id: str, length: str, step: str, target_id: str) -> ET.Element:
    """
    A ``<Simulation>`` of the target network.

    Parameters
    ----------
    simulation_id : str
    length : str
        Total duration as a LEMS value (``'0.1 s'``).
    step : str
        Time step as a LEMS value (``'0.0001 s'``).
    target_id : str
        The id of the network to simulate.

    Returns
    -------
    Element

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from brian2tools.nmlexport.supporting import simulation
    >>> simulation('sim1', '0.1 s', '0.0001 s', 'net').attrib['length']
    '0.1 s'
    """
    return ET.Element("Simulation", {"id": simulation_id, "length": length, "step": step,
                                     "target": target_id})


def display(display_id: str, title: str, time_scale: str, xmin: str, xmax: str, ymin: str,
            ymax: str) -> ET.Element:
    """
    A ``<Display>`` (a plot window in jNeuroML's GUI mode).

    Parameters
    ----------
    display_id, title : str
    time_scale : str
        Unit of the time axis as a LEMS value (``'0.001 s'`` for ms).
    xmin, xmax, ymin, ymax : str
        The plotted region, in display units.

    Returns
    -------
    Element

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from brian2tools.nmlexport.supporting import display
    >>> display('d1', 'v', '0.001 s', '0', '100', '-80', '20').get('xmax')
    '100'
    """
    return ET.Element("Display", {"id": display_id, "title": title, "timeScale": time_scale,
                                  "xmin": xmin, "xmax": xmax, "ymin": ymin, "ymax": ymax})


def line(line_id: str, quantity: str, scale: str, time_scale: str, colour: str) -> ET.Element:
    """
    A ``<Line>`` of a display.

    Parameters
    ----------
    line_id : str
    quantity : str
        Path of the plotted quantity (``'neurongroup[3]/v'``).
    scale : str
        The quantity is divided by this LEMS value before plotting.
    time_scale : str
    colour : str
        ``'#rrggbb'``.

    Returns
    -------
    Element

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from brian2tools.nmlexport.supporting import line
    >>> line('v_3', 'neurons[3]/v', '0.001 V', '0.001 s', '#1f77b4').get('quantity')
    'neurons[3]/v'
    """
    return ET.Element("Line", {"id": line_id, "quantity": quantity, "scale": scale,
                               "timeScale": time_scale, "color": colour})


def output_file(file_id: str, file_name: str) -> ET.Element:
    """
    An ``<OutputFile>``: time (s) in the first column, one column per ``OutputColumn``.

    Parameters
    ----------
    file_id : str
    file_name : str
        Relative to the model file.

    Returns
    -------
    Element

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from brian2tools.nmlexport.supporting import output_file
    >>> output_file('statemonitor', 'recording_statemonitor.dat').get('fileName')
    'recording_statemonitor.dat'
    """
    return ET.Element("OutputFile", {"id": file_id, "fileName": file_name})


def output_column(column_id: str, quantity: str) -> ET.Element:
    """
    An ``<OutputColumn>`` (values in SI units).

    Parameters
    ----------
    column_id : str
    quantity : str
        Path of the recorded quantity.

    Returns
    -------
    Element

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from brian2tools.nmlexport.supporting import output_column
    >>> ET.tostring(output_column('v_3', 'neurons[3]/v'))
    b'<OutputColumn id="v_3" quantity="neurons[3]/v" />'
    """
    return ET.Element("OutputColumn", {"id": column_id, "quantity": quantity})


def event_output_file(file_id: str, file_name: str, file_format: str = "TIME_ID") -> ET.Element:
    """
    An ``<EventOutputFile>``: one line per event, ``time id`` (time in s).

    Parameters
    ----------
    file_id : str
    file_name : str
        Relative to the model file.
    file_format : {'TIME_ID', 'ID_TIME'}

    Returns
    -------
    Element

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from brian2tools.nmlexport.supporting import event_output_file
    >>> event_output_file('spikemonitor', 'recording_spikemonitor.spikes').get('format')
    'TIME_ID'
    """
    return ET.Element("EventOutputFile", {"id": file_id, "fileName": file_name,
                                          "format": file_format})


def event_selection(selection_id: str, select: str, port: str = "spike") -> ET.Element:
    """
    An ``<EventSelection>``: the events of one cell, written with ``selection_id``.

    Parameters
    ----------
    selection_id : str
        Written as the id column of the event file.
    select : str
        Path of the cell (``'neurongroup[3]'``).
    port : str
        The event port.

    Returns
    -------
    Element

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from brian2tools.nmlexport.supporting import event_selection
    >>> ET.tostring(event_selection('3', 'neurons[3]'))
    b'<EventSelection id="3" select="neurons[3]" eventPort="spike" />'
    """
    return ET.Element("EventSelection", {"id": selection_id, "select": select,
                                         "eventPort": port})


def target(component_id: str) -> ET.Element:
    """
    The ``<Target>`` telling LEMS which simulation to run.

    Parameters
    ----------
    component_id : str

    Returns
    -------
    Element

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from brian2tools.nmlexport.supporting import target
    >>> ET.tostring(target('sim1'))
    b'<Target component="sim1" />'
    """
    return ET.Element("Target", {"component": component_id})
