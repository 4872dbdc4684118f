"""
Linked variables (``x_in : 1 (linked)``), in the jNeuroML form of the export.

Brian reads the source group's current value each time the linked
variable is used. A LEMS cell cannot read the state of a cell of another
population, so the export gives each linked cell its own exact copy of the
source cell it is linked to: the source group's state variables, parameters,
constants and subexpressions are added to the linked group under new names
(``x__driver`` for the variable ``x`` of the group ``driver``), with the
values of the source cell ``index[i]`` (or ``i`` without an index), and
follow the same equations. The copy takes the source's steps (its
method's, :func:`.method_steps.cell_steps`) from the same values, so it is
the source's state at every step, to the last digit.

The order of the state updates within a step matters, and the export follows
Brian's: the groups' state updaters run in the order of (slot, order, name)
(Brian's ``Network`` sorts its objects so).

* The linked group updates first (e.g. ``cells`` before ``driver``): its
  update reads the source's value at the start of the step, which is the
  copy's value (``x_in`` becomes the subexpression ``x__driver``).
* The source updates first: the linked group's update reads the source's
  new value (``x + dt*f(x)`` for forward Euler, the step of the source's
  method otherwise); its differential equations read the subexpression
  ``x__driver__next`` holding it, while its threshold, reset and monitors
  (after or before the update) read the copy itself.

A linked constant parameter of the source becomes a parameter of the linked
group with the source cells' values.

Refused by name, with the reason: a source that cannot be copied exactly
(it has a reset or refractoriness, noise, inputs
from synapses or PoissonInputs, operations at given steps, a TimedArray, or
linked variables itself), linked groups or sources on their own clocks,
links through an index variable, a linked variable used in a subexpression
when the source updates first, and links in the portable (NEURON) form.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from brian2 import Unit
from brian2.utils.stringtools import get_identifiers, word_substitute

from brian2tools.baseexport import UnsupportedFeatureError

__all__ = ["rewrite_linked_variables"]

_SCHEDULE = ("start", "groups", "thresholds", "synapses", "resets", "end")


def _slot(when: str) -> int:
    for position, slot in enumerate(_SCHEDULE):
        if when in (f"before_{slot}", slot, f"after_{slot}"):
            return 3 * position + (0 if when.startswith("before_") else
                                   2 if when.startswith("after_") else 1)
    return -1


def _updates_first(source: Mapping, group: Mapping) -> bool:
    """Whether Brian runs the source's state update before the group's in a step."""
    def key(item):
        return (_slot(item.get("when") or "groups"), int(item.get("order") or 0),
                f"{item['name']}_stateupdater")
    return key(source) < key(group)


def rewrite_linked_variables(description: Mapping, portable: bool = False) -> None:
    """
    Give each NeuronGroup with linked variables an exact copy of their source cells.

    Parameters
    ----------
    description : dict
        The merged description of the runs (:mod:`.run_changes`); its
        NeuronGroups (copies) are changed in place.
    portable : bool, optional
        The portable (NEURON) form, which refuses linked variables.

    Raises
    ------
    UnsupportedFeatureError
        For a link that cannot be written exactly, naming the group, the
        variable and the reason.

    Examples
    --------
    >>> from brian2 import Unit
    >>> driver = {'name': 'driver', 'N': 1, 'namespace': {}, 'events': {}, 'refractory': None,
    ...           'when': 'groups', 'order': 0, 'method': 'euler',
    ...           'equations': [{'name': 'x', 'type': 'differential equation',
    ...                          'expr': '(2 - x)/(20*ms)', 'unit': Unit(1), 'flags': []}],
    ...           'initial_values': {'x': [0.5]}}
    >>> link = {'group': 'driver', 'variable': 'x', 'index': [0, 0], 'index_variable': None}
    >>> cells = {'name': 'cells', 'N': 2, 'namespace': {}, 'events': {}, 'refractory': None,
    ...          'when': 'groups', 'order': 0, 'method': 'euler', 'initial_values': {'v': [0, 0]},
    ...          'equations': [{'name': 'v', 'type': 'differential equation', 'flags': [],
    ...                         'expr': '(x_in - v)/(10*ms)', 'unit': Unit(1)},
    ...                        {'name': 'x_in', 'type': 'parameter', 'flags': ['linked'],
    ...                         'linked': link, 'unit': Unit(1)}]}
    >>> rewrite_linked_variables({'neurongroups': [driver, cells]})
    >>> [(eq['name'], eq['expr']) for eq in cells['equations']]
    [('v', '(x_in - v)/(10*ms)'), ('x__driver', '(2 - x__driver)/(20*ms)'), ('x_in', 'x__driver')]
    >>> cells['initial_values']['x__driver']
    array([0.5, 0.5])
    """
    groups = {group["name"]: group for group in description.get("neurongroups") or ()}
    for group in groups.values():
        links = [eq for eq in group.get("equations") or ()
                 if "linked" in (eq.get("flags") or ())]
        for equation in links:
            _rewrite(group, equation, groups, description, portable)
        group.pop("_linked_copies", None)


def _rewrite(group: dict, equation: Mapping, groups: Mapping, description: Mapping,
             portable: bool) -> None:
    name = equation["name"]
    link = equation.get("linked") or {}
    source_name = link.get("group")

    def refuse(reason: str) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(
            group["name"], f"the linked variable '{name}' (linked to '{link.get('variable')}' "
                           f"of '{source_name}')", reason)

    if portable:
        raise refuse("The portable (NEURON) form does not copy source cells; export the model "
                     "in the default form (jNeuroML).")
    source = groups.get(source_name)
    if source is None:
        raise refuse("Only links to NeuronGroups can be exported.")
    if link.get("index_variable"):
        raise refuse("A link through an index variable cannot be exported.")
    if group.get("clock") or source.get("clock"):
        raise refuse("A link between groups on different clocks cannot be exported.")
    size = int(group["N"])
    index = (np.arange(size) if link.get("index") is None
             else np.asarray(link["index"], dtype=int).reshape(-1))
    if index.size == 1 and size > 1:
        index = np.full(size, int(index[0]))
    variable = link["variable"]
    target = next(eq for eq in source["equations"] if eq["name"] == variable)
    source_values = source.get("initial_values") or {}
    values = dict(group.get("initial_values") or {})
    group["initial_values"] = values
    others = [eq for eq in group["equations"] if eq["name"] != name]
    if target["type"] == "parameter":  # a constant: the source cells' values
        if source.get("timed_operations") or source.get("run_regularly") or variable in \
                _identifiers(str((source.get("events") or {}).get("spike", {}).get("reset"))):
            raise refuse(f"The parameter '{variable}' of '{source_name}' changes during the "
                         "simulation.")
        values[name] = _of_cells(source_values[variable], source, index)
        replacement = {key: value for key, value in equation.items() if key != "linked"}
        group["equations"] = others + [dict(replacement, flags=[])]
        return
    _check_source(source, description, refuse)
    # one copy per source cell map, shared by the links of the group to that source
    copies = group.setdefault("_linked_copies", {})
    key = (source_name, tuple(index.tolist()))
    if key not in copies:
        copies[key] = _add_copy(group, source, index, refuse)
        others = [eq for eq in group["equations"] if eq["name"] != name]
        # the copy takes the source's steps (:mod:`.method_steps`)
        group.setdefault("linked_copies", []).append({
            "variables": [copies[key][eq["name"]] for eq in source["equations"]
                          if eq["type"] == "differential equation"],
            "method": source.get("method_used") or source.get("method")})
    renamed = copies[key]
    replacement = {"name": name, "type": "subexpression", "expr": renamed[variable],
                   "flags": [], "unit": equation["unit"], "var_type": "float"}
    group["equations"] = others + [replacement]
    if _updates_first(source, group):
        if target["type"] != "differential equation":
            raise refuse(f"The source updates first and '{variable}' is a subexpression, "
                         "read both before and after the update.")
        _read_new_value(group, name, renamed[variable],
                        word_substitute(target["expr"], renamed), refuse)


def _of_cells(value, source: Mapping, index: np.ndarray) -> np.ndarray:
    """The values of the source cells ``index`` (a shared value for all)."""
    full = np.broadcast_to(np.asarray(value), (int(source["N"]),))
    return np.asarray(full)[index]


def _add_copy(group: dict, source: Mapping, index: np.ndarray, refuse) -> dict:
    """Add the source's variables (renamed) to the group; returns the renaming."""
    source_name = source["name"]
    taken = ({eq["name"] for eq in group["equations"]} | set(group.get("namespace") or {})
             | {"t", "dt", "i", "N", "lastspike", "not_refractory"})
    renamed = {}
    for eq in source["equations"]:
        renamed[eq["name"]] = _new_name(f"{eq['name']}__{source_name}", taken)
    namespace = dict(group.get("namespace") or {})
    for constant, value in (source.get("namespace") or {}).items():
        if isinstance(value, Mapping):
            raise refuse(f"The source uses the TimedArray or function '{constant}'.")
        renamed[constant] = _new_name(f"{constant}__{source_name}", taken)
        namespace[renamed[constant]] = value
    renamed["N"] = _new_name(f"N__{source_name}", taken)
    namespace[renamed["N"]] = int(source["N"])
    group["namespace"] = namespace
    values = group["initial_values"]
    copies = []
    if "i" in set().union(*(_identifiers(eq.get("expr") or "") for eq in source["equations"])):
        # the source cell's index, read by its equations
        renamed["i"] = _new_name(f"i__{source_name}", taken)
        copies.append({"name": renamed["i"], "type": "parameter", "expr": None, "flags": [],
                       "unit": Unit(1), "var_type": "float"})
        values[renamed["i"]] = index.astype(float)
    source_values = source.get("initial_values") or {}
    for eq in source["equations"]:
        copy = dict(eq, name=renamed[eq["name"]])
        if eq.get("expr"):
            copy["expr"] = word_substitute(eq["expr"], renamed)
        if eq["type"] != "subexpression":
            values[copy["name"]] = _of_cells(source_values[eq["name"]], source, index)
            copy["flags"] = []
        copies.append(copy)
    group["equations"] = group["equations"] + copies
    return renamed


def _read_new_value(group: dict, name: str, copy: str, derivative: str, refuse) -> None:
    """The group's update reads the source's new value: ``x + dt*f`` in its equations."""
    for eq in group["equations"]:
        if eq["type"] == "subexpression" and eq.get("expr") and name in _identifiers(eq["expr"]):
            raise refuse(f"The source updates first and the linked variable is used in the "
                         f"subexpression '{eq['name']}', read both before and after the update.")
    # the new value as a subexpression of its own, which the steps of other
    # methods replace by the source's step (:func:`.method_steps.cell_steps`)
    taken = {eq["name"] for eq in group["equations"]} | set(group.get("namespace") or {})
    following = _new_name(f"{copy}__next", taken)
    group["equations"] = group["equations"] + [{
        "name": following, "type": "subexpression", "expr": f"{copy} + dt*({derivative})",
        "flags": [], "unit": next(eq["unit"] for eq in group["equations"] if eq["name"] == copy),
        "var_type": "float"}]
    group.setdefault("linked_next", {})[following] = copy
    for eq in group["equations"]:
        if eq["type"] == "differential equation":
            eq["expr"] = word_substitute(eq["expr"], {name: following})


def _identifiers(code: str) -> set[str]:
    return set(get_identifiers(code))


def _new_name(base: str, taken: set) -> str:
    name, counter = base, 1
    while name in taken:
        counter += 1
        name = f"{base}{counter}"
    taken.add(name)
    return name


def _check_source(source: Mapping, description: Mapping, refuse) -> None:
    """A source the copy follows exactly: deterministic, without resets or inputs."""
    name = source["name"]
    if any((event or {}).get("reset") for event in (source.get("events") or {}).values()):
        raise refuse(f"The source '{name}' has a reset, which the copy would not see.")
    if source.get("refractory") is not None:
        raise refuse(f"The source '{name}' has refractoriness.")
    if source.get("timed_operations") or source.get("run_regularly"):
        raise refuse(f"The source '{name}' changes at given steps (run_regularly or changes "
                     "between runs).")
    for eq in source.get("equations") or ():
        if eq.get("stochastic_variables") or "linked" in (eq.get("flags") or ()):
            raise refuse(f"The source '{name}' has noise or linked variables of its own.")
    for kind in ("synapses", "poissoninputs"):
        for item in description.get(kind) or ():
            if (item.get("target") or {}).get("group") == name:
                raise refuse(f"The source '{name}' receives inputs ('{item['name']}').")
