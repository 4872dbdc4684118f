"""
Describing a `SpatialNeuron` (a multi-compartment neuron) for the export.

The description of a run lists spatial neurons under ``'spatialneurons'``
(see :doc:`/export_format`); `describe_spatialneuron` makes one entry: the
morphology (a copy of Brian's object), the sections with their compartment
ranges, ``Cm`` per compartment and ``Ri``, the membrane equations as the
user wrote them (``Im``, the gating variables, the parameters and the point
currents), the threshold and its location, and the values of all state
variables per compartment at the start of the run.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import numpy as np
from brian2.utils.logger import get_logger
from brian2.utils.stringtools import get_identifiers

from .checks import _check_clock, _check_contained
from .describe_common import (
    _code_identifiers,
    _initializers,
    _main_slot,
    _merge_namespaces,
    clean_code,
)
from .equations import describe_equations, equation_identifiers
from .errors import UnsupportedFeatureError
from .methods import chosen_method
from .namespace import external_values, plain_value

__all__ = ["describe_spatialneuron", "section_ranges"]

logger = get_logger(__name__)

# Brian adds "(<threshold>) and (i == <index>)" for threshold_location
_LOCATED_THRESHOLD = re.compile(r"^\((?P<threshold>.*)\) and \(i == (?P<index>\d+)\)$", re.S)


def section_ranges(morphology) -> dict[str, tuple[int, int]]:
    """
    The compartment indices of every section of a morphology, as Brian numbers them.

    Brian numbers the compartments of a `SpatialNeuron` section by section,
    the root first, then each child's subtree in the order the children were
    added.

    Parameters
    ----------
    morphology : brian2.Morphology
        The root of the morphology.

    Returns
    -------
    dict
        Section path (``''`` for the root, ``'dend'``, ``'dend.L'``) ->
        ``(start, stop)``, ``stop`` exclusive, in Brian's order.

    Examples
    --------
    >>> from brian2 import Soma, Cylinder, um
    >>> morphology = Soma(diameter=20*um)
    >>> morphology.dend = Cylinder(diameter=2*um, length=100*um, n=4)
    >>> morphology.dend.L = Cylinder(diameter=1*um, length=50*um, n=2)
    >>> morphology.axon = Cylinder(diameter=1*um, length=50*um, n=3)
    >>> section_ranges(morphology)
    {'': (0, 1), 'dend': (1, 5), 'dend.L': (5, 7), 'axon': (7, 10)}
    """
    ranges: dict[str, tuple[int, int]] = {}
    position = 0
    stack = [(morphology, ())]
    while stack:
        section, path = stack.pop()
        ranges[".".join(path)] = (position, position + int(section.n))
        position += int(section.n)
        children = list(section.children)
        for index, child in reversed(list(enumerate(children))):
            name = section.children.name(child) or str(index + 1)
            stack.append((child, path + (name,)))
    return ranges


# what SpatialNeuron adds to the user's equations (NeuronGroup keeps them all)
_INTERNAL = frozenset({
    "v", "length", "distance", "area", "volume", "Ic", "diameter", "Cm", "Ri", "r_length_1",
    "r_length_2", "time_constant", "space_constant", "x", "y", "z", "gtot__private",
    "I0__private"})
_POINT_CURRENT_TERM = re.compile(r"\+(?P<name>[A-Za-z_][A-Za-z0-9_]*)/area$")


def _user_equations(neuron) -> list[dict[str, Any]]:
    """
    The equations as the user wrote them.

    `NeuronGroup` replaces ``user_equations`` with the equations
    `SpatialNeuron` made: the internal variables added, and every point
    current ``I`` added to ``Im`` as ``+I/area`` and its flag removed. This
    undoes both.
    """
    equations = [eq for eq in describe_equations(neuron.user_equations)
                 if eq["name"] not in _INTERNAL]
    membrane = next(eq for eq in equations if eq["name"] == "Im")
    names = {eq["name"] for eq in equations}
    point_currents = []
    while True:
        match = _POINT_CURRENT_TERM.search(membrane["expr"])
        if match is None or match.group("name") not in names:
            break
        point_currents.append(match.group("name"))
        membrane["expr"] = membrane["expr"][:match.start()].strip()
    for eq in equations:
        if eq["name"] in point_currents:
            eq["flags"] = sorted(set(eq["flags"]) | {"point current"})
    return equations


def _values(neuron, name):
    from brian2 import Quantity
    from brian2.units.fundamentalunits import DIMENSIONLESS

    variable = neuron.variables[name]
    values = np.array(np.broadcast_to(variable.get_value(), (neuron.N,)), dtype=float)
    return values if variable.dim is DIMENSIONLESS else Quantity(values, dim=variable.dim)


def describe_spatialneuron(neuron, context) -> dict[str, Any]:
    """
    The description of a `SpatialNeuron` for one run.

    Parameters
    ----------
    neuron : brian2.SpatialNeuron
        The neuron.
    context : object
        The collector's context (run namespace, export log, dt, ...).

    Returns
    -------
    dict
        ``'name'``, ``'N'`` (compartments), ``'morphology'`` (a copy of the
        Brian morphology), ``'sections'`` (see `section_ranges`), ``'Cm'``
        (per compartment), ``'Ri'``, ``'equations'`` (the user's equations,
        see :func:`~brian2tools.baseexport.equations.describe_equations`),
        ``'membrane_current'`` (the expression of ``Im``),
        ``'point_currents'`` (names), ``'threshold'``,
        ``'threshold_location'`` (compartment index or ``None``),
        ``'reset'``, ``'refractory'``, ``'method'``, ``'method_used'``,
        ``'namespace'``, ``'initializers'``, ``'initial_values'`` (every
        state variable, parameter and point current and ``v``, per
        compartment), ``'when'``, ``'order'`` and ``'continued'``.

    Raises
    ------
    UnsupportedFeatureError
        For custom events, linked variables and user-defined functions.

    Examples
    --------
    >>> from brian2 import Soma, SpatialNeuron, Network, ms, mV, uF, cm, um, siemens, meter
    >>> from brian2tools.baseexport import collect_network
    >>> neuron = SpatialNeuron(Soma(diameter=20*um),
    ...                        'Im = gL*(EL - v) : amp/meter**2',
    ...                        Cm=1*uF/cm**2, name='ball',
    ...                        namespace={'EL': -70*mV, 'gL': 1*siemens/meter**2})
    >>> run = collect_network(Network(neuron), 1*ms, {})
    >>> run['spatialneurons'][0]['membrane_current']
    'gL*(EL - v)'
    """
    _check_clock(neuron, context.dt)
    _check_contained(neuron, context.dt)
    equations = _user_equations(neuron)
    for equation in equations:
        if "linked" in equation["flags"]:
            raise UnsupportedFeatureError(neuron.name, f"the linked variable '{equation['name']}'")
    neuron.equations.check_units(neuron, context.run_namespace)
    identifiers, stochastic = equation_identifiers(equations)
    if stochastic:
        raise UnsupportedFeatureError(
            neuron.name, "stochastic membrane equations (" + ", ".join(sorted(stochastic)) + ")")
    # the membrane equations may use the morphology's variables (area, diameter, ...)
    parts = [("the equations", external_values(neuron, identifiers, context.run_namespace,
                                               neuron.name, "the equations"))]
    extra_events = sorted(set(neuron.events) - {"spike"})
    if extra_events:
        raise UnsupportedFeatureError(neuron.name, f"the custom event '{extra_events[0]}'")
    threshold, location = neuron.events.get("spike"), None
    if threshold is not None:
        match = _LOCATED_THRESHOLD.match(threshold)
        if match:
            threshold, location = match.group("threshold"), int(match.group("index"))
        threshold = clean_code(threshold)
    reset = neuron.event_codes.get("spike")
    reset = None if reset is None else clean_code(reset)
    if threshold is not None or reset is not None:
        parts.append(("the threshold and reset", external_values(
            neuron, _code_identifiers(threshold, reset, variables=neuron.variables),
            context.run_namespace, neuron.name, "the threshold and reset")))
    refractory = neuron._refractory
    if refractory is False or refractory is None:
        refractory = None
    elif isinstance(refractory, str):
        refractory = clean_code(refractory)
        parts.append(("the refractoriness", external_values(
            neuron, get_identifiers(refractory), context.run_namespace, neuron.name,
            "the refractoriness")))
    else:
        refractory = plain_value(refractory)
    since = context.since_run(neuron)
    initializers, initializer_namespaces = _initializers(context.log, neuron, since)
    state_names = ["v"] + [eq["name"] for eq in equations
                           if eq["type"] in ("differential equation", "parameter")]
    membrane = next(eq for eq in equations if eq["name"] == "Im")
    method_choice = getattr(neuron, "method_choice", None)
    return {
        "name": neuron.name,
        "N": int(neuron.N),
        "morphology": copy.deepcopy(neuron.morphology),
        "sections": section_ranges(neuron.morphology),
        "Cm": _values(neuron, "Cm"),
        "Ri": plain_value(neuron.Ri[:].ravel()[0] if np.ndim(neuron.Ri[:]) else neuron.Ri[:]),
        "equations": equations,
        "membrane_current": membrane["expr"],
        "point_currents": [eq["name"] for eq in equations if "point current" in eq["flags"]],
        "threshold": threshold,
        "threshold_location": location,
        "reset": reset,
        "refractory": refractory,
        **_main_slot(neuron, getattr(neuron, "state_updater", None)),
        "method": method_choice if method_choice is None or isinstance(method_choice, str)
        else [str(method) for method in method_choice],
        "method_used": chosen_method(neuron.equations, neuron.variables, method_choice),
        "namespace": _merge_namespaces(neuron.name, parts + initializer_namespaces),
        "initializers": initializers,
        "initial_values": None if context.continued(neuron)
        else {name: _values(neuron, name) for name in state_names},
        "continued": context.continued(neuron),
    }
