"""
Filters for the parts of a script that only a reader gets: operations, clocks, links, states.

The description states some parts of a script that no simulator format runs
(see :mod:`brian2tools.baseexport.operations`): ``network_operation``
functions, objects on a clock of their own, linked variables,
``store()``/``restore()`` calls, and multi-compartment neurons. The filters
here put them into words for the templates; they are registered in
`~brian2tools.mdexport.filters.FILTERS` with the others.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import jinja2
import numpy as np

from .mathtext import name_to_latex, quantity_to_latex
from .wording import values_text

__all__ = ["OPERATION_FILTERS"]


def _math(latex: str) -> str:
    return f"${latex}$"


@jinja2.pass_context
def own_clock_filter(context, item: Mapping) -> str:
    """
    A sentence on the clock of an object that ticks with its own ``dt`` (or nothing).

    The template's ``run`` gives the simulation's ``dt`` to compare with.
    """
    clock = item.get("clock")
    if not clock:
        return ""
    run = context.get("run") or {}
    text = (f"Simulated on its own clock `{clock['name']}`, with time step "
            f"{_math('dt = ' + quantity_to_latex(clock['dt']))}")
    if run.get("dt") is not None:
        text += f" (the simulation's is {_math(quantity_to_latex(run['dt']))})"
    return text + "."


def linked_filter(owner: Mapping) -> list[str]:
    """
    One sentence per linked variable of ``owner``: the group and variable it reads.

    Examples
    --------
    >>> owner = {'equations': [{'name': 'x_in', 'flags': ['linked'],
    ...          'linked': {'group': 'driver', 'variable': 'x', 'index': None,
    ...                     'index_variable': None}}]}
    >>> linked_filter(owner)
    ['$x_{\\\\mathrm{in}}$ is linked to $x$ of `driver`: each neuron reads the value of the neuron with the same index.']
    """
    cell = "synapse" if "pathways" in owner else "neuron"
    lines = []
    for equation in owner.get("equations", ()):
        if "linked" not in (equation.get("flags") or ()):
            continue
        link = equation.get("linked")
        name = _math(name_to_latex(equation["name"]))
        if not link or not link.get("group"):
            lines.append(f"{name} is a linked variable (it reads a variable of another group).")
            continue
        text = f"{name} is linked to {_math(name_to_latex(link['variable']))} of `{link['group']}`"
        index = link.get("index")
        if link.get("index_variable"):
            text += f": {cell} $k$ reads the value at index ${name_to_latex(link['index_variable'])}_k$"
        elif index is None:
            text += f": each {cell} reads the value of the {cell} with the same index"
        else:
            index = np.asarray(index)
            sources = np.unique(index)
            if sources.size == 1:
                text += f": every {cell} reads the value of {cell} {int(sources[0])}"
            else:
                text += (f": {cell} $k$ reads the value of {cell} "
                         f"{values_text(index, cell)} of `{link['group']}`")
        lines.append(text + ".")
    return lines


def network_operation_filter(operation: Mapping) -> str:
    """
    Markdown for one ``network_operation``.

    Examples
    --------
    >>> from brian2 import ms
    >>> print(network_operation_filter({'name': 'networkoperation', 'function': 'update',
    ...       'doc': 'Drive the cells.', 'dt': 1*ms, 'when': 'start', 'order': 0}))
    **Network operation `networkoperation`** calls the Python function `update()` every $1\\,\\mathrm{m}\\mathrm{s}$ (in the `start` slot of the time step): "Drive the cells."
    """
    text = (f"**Network operation `{operation['name']}`** calls the Python function "
            f"`{operation['function']}()` every {_math(quantity_to_latex(operation['dt']))}")
    if operation.get("when") and operation["when"] != "start":
        text += f" (in the `{operation['when']}` slot of the time step)"
    elif operation.get("when"):
        text += " (in the `start` slot of the time step)"
    doc = operation.get("doc")
    if doc:
        return text + f': "{doc}"'
    return text + " (the function has no docstring; its code is not part of this description)."


def state_action_filter(action: Mapping) -> str:
    """
    Markdown for one ``store()`` or ``restore()`` call.

    Examples
    --------
    >>> from brian2 import ms
    >>> state_action_filter({'action': 'restore', 'name': 'default', 'filename': None,
    ...                      'network': 'magicnetwork', 't': 0*ms})
    '`restore()`: the state stored as `default` was restored, back to $t = 0\\\\,\\\\mathrm{s}$.'
    """
    name = action.get("name", "default")
    call_args = "" if name == "default" else repr(name)
    if action.get("filename"):
        call_args += (", " if call_args else "") + f"filename={action['filename']!r}"
    t = _math("t = " + quantity_to_latex(action["t"]))
    if action.get("action") == "restore":
        return (f"`restore({call_args})`: the state stored as `{name}` was restored, "
                f"back to {t}.")
    return f"`store({call_args})`: the state at {t} was stored as `{name}`."


def _sections(morphology) -> Iterator[tuple[str, Any]]:
    """(path, section) for every section, in Brian's order (the root first)."""
    stack = [(morphology, ())]
    while stack:
        section, path = stack.pop()
        yield ".".join(path), section
        children = list(section.children)
        for index, child in reversed(list(enumerate(children))):
            name = section.children.name(child) or str(index + 1)
            stack.append((child, path + (name,)))


def sections_filter(neuron: Mapping) -> list[dict[str, str]]:
    """
    One row per section of a multi-compartment neuron: path, shape, compartments, size.

    Examples
    --------
    >>> from brian2 import Soma, Cylinder, um
    >>> morphology = Soma(diameter=20*um)
    >>> morphology.dend = Cylinder(diameter=2*um, length=100*um, n=4)
    >>> rows = sections_filter({'morphology': morphology})
    >>> [(row['section'], row['shape'], row['compartments']) for row in rows]
    [('soma (root)', 'Soma', '0'), ('dend', 'Cylinder', '1 to 4')]
    """
    morphology = neuron.get("morphology")
    if morphology is None:
        return []
    rows = []
    position = 0
    for path, section in _sections(morphology):
        n = int(section.n)
        shape = type(section).__name__
        diameters = section.diameter  # a Quantity, one value per compartment
        uniform = np.allclose(np.asarray(diameters), np.asarray(diameters).ravel()[0])
        length = None
        if shape != "Soma":
            length = quantity_to_latex(np.sum(section.length))
        rows.append({
            "section": path or f"{'soma' if shape == 'Soma' else 'root'} (root)",
            "shape": shape,
            "compartments": str(position) if n == 1 else f"{position} to {position + n - 1}",
            "length": "" if length is None else _math(length),
            "diameter": _math(quantity_to_latex(diameters[0])) if uniform else "varies",
        })
        position += n
    return rows


def user_initializers_filter(neuron: Mapping) -> list[Mapping]:
    """
    The initialisers of a multi-compartment neuron that the script made.

    Brian sets the morphology's variables (``Cm``, ``Ri``, ``area``,
    ``diameter``, ...) itself when it creates a `SpatialNeuron`; the
    description keeps those assignments, the Markdown shows only those of
    ``v`` and of the model's own variables.

    Examples
    --------
    >>> neuron = {'equations': [{'name': 'I'}], 'initializers': [
    ...     {'variable': 'area'}, {'variable': 'v'}, {'variable': 'I'}]}
    >>> [item['variable'] for item in user_initializers_filter(neuron)]
    ['v', 'I']
    """
    names = {"v"} | {equation["name"] for equation in neuron.get("equations", ())}
    return [initializer for initializer in neuron.get("initializers", ())
            if initializer["variable"] in names]


def noise_filter(owner: Mapping) -> str:
    r"""
    The sentence that says what the noise terms of ``owner``'s equations are (or nothing).

    Examples
    --------
    >>> noise_filter({'equations': [{'stochastic_variables': ['xi_input']}]})
    '$\\xi_{\\mathrm{input}}$ is Gaussian white noise (unit $\\mathrm{s}^{-1/2}$).'
    >>> print(noise_filter({'equations': [{'stochastic_variables': ['xi_1', 'xi_2']}]}))
    $\xi_{1}$ and $\xi_{2}$ are independent Gaussian white noises (unit $\mathrm{s}^{-1/2}$).
    """
    names = sorted({name for equation in owner.get("equations", ())
                    for name in equation.get("stochastic_variables") or ()})
    if not names:
        return ""
    symbols = [_math(name_to_latex(name)) for name in names]
    if len(symbols) == 1:
        return f"{symbols[0]} is Gaussian white noise (unit $\\mathrm{{s}}^{{-1/2}}$)."
    listed = ", ".join(symbols[:-1]) + " and " + symbols[-1]
    return f"{listed} are independent Gaussian white noises (unit $\\mathrm{{s}}^{{-1/2}}$)."


#: The filters of this module, by the names the templates use
OPERATION_FILTERS = {
    "own_clock": own_clock_filter,
    "linked": linked_filter,
    "network_operation": network_operation_filter,
    "state_action": state_action_filter,
    "sections": sections_filter,
    "user_initializers": user_initializers_filter,
    "noise": noise_filter,
}
