"""
The portable form of the exported cells: standard populations, NEURON-ready types.

jNeuroML's LEMS interpreter runs the default form of the export (one
population component type per NeuronGroup whose children each carry their
own values). Other engines read NeuroML's *standard* network elements and
translate the cell types into their own code: jNeuroML's NEURON writer
(``jnml model.xml -neuron``) writes one NMODL mechanism per cell component and
a Python script that builds the network in NEURON. It accepts only some
forms of LEMS, measured with jNeuroML 0.14 and NEURON 9:

* the cell type must extend ``baseIaf`` (membrane potential ``v`` in volts,
  parameters ``thresh`` and ``reset``): NEURON detects spikes, for
  recordings and for every connection, by ``v`` crossing ``thresh``; other
  cell types are recorded from the mechanism instead of the membrane
  (``'v' not a public member``) or spike when ``v`` crosses 0 mV;
* a condition on ``v`` becomes a ``WATCH`` statement, which holds a single
  ``>`` or ``<`` comparison: the threshold with refractoriness,
  ``(v > 10*mV) and not_refractory``, is written
  ``(v - thresh) * not_refractory .gt. 0`` (the same test, since
  ``not_refractory`` is 0 or 1 and the sign of a floating point difference
  is the sign of the comparison);
* every state variable needs a time derivative (``0`` for ``lastspike``,
  ``not_refractory`` and the parameters the reset changes);
* NEURON tests a condition that does not involve ``v`` during a step (at
  its midpoint), jNeuroML after it: the end of the refractory period is
  tested with half a step of slack, which gives Brian's step in both;
* only the dimensions NeuroML declares are known to NEURON.

Standard NeuroML has no per-cell parameters: a population is made of
copies of one component. So the cells of a group are grouped by their
values (parameters and initial values, exactly Brian's): each distinct set
of values is one cell component and one ``population``
(``<group>__<k>``), and Brian's index ``i`` is found in population
``<group>__<k>`` at position ``j`` (`PortableGroup.path`). The cost: one
component and one population per distinct set of values in the file.
jNeuroML's NEURON writer writes one mechanism per component; the engine
compiles one per cell type (:mod:`.neuron_code`).

Values drawn at random for each cell would make one population per cell, and
a ``Synapses`` object one projection per pair of them. So above
`MAX_VALUE_POPULATIONS` sets of values, cells that differ only in their
*initial* values (CUBA's random ``v``) share a population; each such
population keeps its cells' initial values in a standard ``<property>``
(tag ``brian2tools:initial:<parameter>``, SI numbers in the population's
order) and its component holds those of its first cell. NeuroML engines do
not read such a property: brian2tools' NEURON and NetPyNE engines set the
values on every cell before the simulation starts
(:mod:`.per_cell_initial`); jNeuroML would start every cell from its
component's values, so the ``'jneuroml'`` engine refuses such a file and
simulates the default form instead (``simulate='jneuroml'`` without
``portable=True``), which has every cell's own values.

`make_portable` rewrites the cell types of :mod:`.neurongroup` into this
form, or refuses, naming the group and the reason, what the NEURON writer
cannot express; `group_cells` makes the populations.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import numpy as np
from brian2 import get_dimensions, volt
from brian2.core.namespace import DEFAULT_UNITS
from brian2.units.fundamentalunits import Quantity

from brian2tools.baseexport import UnsupportedFeatureError

from . import supporting
from .neurongroup import CellTypes
from .per_cell_initial import INITIAL_TAG
from .units import lems_dimension

__all__ = ["PORTABLE_BASE", "MAX_VALUE_POPULATIONS", "INITIAL_TAG", "PortableGroup",
           "make_portable", "group_cells"]  # INITIAL_TAG: of .per_cell_initial

#: The NeuroML type the portable cell types extend.
PORTABLE_BASE = "baseIaf"
#: Above this many distinct sets of values in a group, cells that differ only
#: in their initial values share a population (see `group_cells`).
MAX_VALUE_POPULATIONS = 50

_REASON = ("The portable (NEURON-ready) form of the export needs what jNeuroML's NEURON "
           "writer can translate.")


@dataclass
class PortableGroup:
    """
    The populations of one NeuronGroup in the portable form.

    Attributes
    ----------
    group : str
        The Brian name of the group.
    components : list of dict
        One dict of parameter values (LEMS value strings) per distinct set of
        values, in the order of the populations.
    populations : list of str
        The id of each population (``<group>__<k>``).
    population_of : ndarray of int
        For each cell (Brian's index), the position of its population.
    index_in_population : ndarray of int
        For each cell, its index in its population.
    initial : dict
        Position of a population -> {parameter: ndarray}: the initial values
        (SI) of its cells, in their order, where they differ within the
        population (see `group_cells`).
    """

    group: str
    components: list
    populations: list
    population_of: np.ndarray
    index_in_population: np.ndarray
    initial: dict = field(default_factory=dict)

    def path(self, index: int) -> str:
        """
        The LEMS path of one cell, e.g. ``'neurongroup__2[0]'``.

        Parameters
        ----------
        index : int
            Brian's index of the cell in its group.

        Returns
        -------
        str

        Examples
        --------
        >>> import numpy as np
        >>> group = PortableGroup('g', [{}, {}], ['g__0', 'g__1'], np.array([0, 1, 0]),
        ...                       np.array([0, 0, 1]))
        >>> group.path(2)
        'g__0[1]'
        """
        return (f"{self.populations[self.population_of[index]]}"
                f"[{self.index_in_population[index]}]")


#: Names of the C library that NEURON's generated C code cannot declare again
_C_LIBRARY_NAMES = ("j0", "j1", "jn", "y0", "y1", "yn")


def _refuse(group: str, feature: str) -> UnsupportedFeatureError:
    return UnsupportedFeatureError(group, feature, _REASON)


def _threshold_value(group: dict, written: set) -> np.ndarray:
    """The threshold of each cell, for a threshold ``v > <constant or parameter>``."""
    name = group["name"]
    code = ((group.get("events") or {}).get("spike") or {}).get("threshold")
    if not code:
        raise _refuse(name, "a group without a threshold (NEURON's cells detect spikes)")
    node = ast.parse(code.strip(), mode="eval").body
    bound = None
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right, op = node.left, node.comparators[0], node.ops[0]
        if isinstance(left, ast.Name) and left.id == "v" and isinstance(op, ast.Gt):
            bound = right
        elif isinstance(right, ast.Name) and right.id == "v" and isinstance(op, ast.Lt):
            bound = left
    if bound is None:
        raise _refuse(name, f"the threshold '{code}' (only 'v > <constant or parameter>' is "
                            "a spike NEURON detects)")
    size = int(group["N"])
    values = dict(DEFAULT_UNITS)
    values.update(group.get("namespace") or {})
    parameters = {eq["name"] for eq in group.get("equations") or ()
                  if eq["type"] == "parameter"}
    for variable, initial in (group.get("initial_values") or {}).items():
        if variable in parameters and variable not in written:
            values[variable] = initial
    names = {n.id for n in ast.walk(bound) if isinstance(n, ast.Name)}
    unknown = names - set(values)
    if unknown:
        raise _refuse(name, f"the threshold '{code}', which depends on "
                            f"{', '.join(sorted(unknown))} (it must be a constant or a "
                            "parameter for NEURON)")
    try:
        value = eval(compile(ast.Expression(bound), "<threshold>", "eval"),  # noqa: S307
                     {"__builtins__": {}}, values)
    except Exception as error:  # the user's code, already accepted by Brian
        raise _refuse(name, f"the threshold '{code}' ({error})") from error
    if not isinstance(value, Quantity) or get_dimensions(value) != get_dimensions(volt):
        raise _refuse(name, f"the threshold '{code}' (not a voltage)")
    return np.broadcast_to(np.asarray(value, dtype=float), (size,)).copy()


def _reset_value(group: dict, size: int) -> np.ndarray:
    """The value ``reset`` of baseIaf: that of ``v = <constant>`` in the reset, else 0 V."""
    code = ((group.get("events") or {}).get("spike") or {}).get("reset") or ""
    values = dict(DEFAULT_UNITS)
    values.update(group.get("namespace") or {})
    for line in code.splitlines():
        target, _, expression = line.partition("=")
        if target.strip() == "v" and expression and not expression.startswith("="):
            try:
                value = eval(expression.strip(), {"__builtins__": {}}, values)  # noqa: S307
            except Exception:  # not a constant: baseIaf's reset is then unused
                break
            if isinstance(value, Quantity) and get_dimensions(value) == get_dimensions(volt):
                return np.broadcast_to(np.asarray(value, dtype=float), (size,)).copy()
    return np.zeros(size)


def make_portable(cell: CellTypes, group: dict) -> None:
    """
    Rewrite a group's cell type into the NEURON-ready form.

    Parameters
    ----------
    cell : CellTypes
        The cell types of the group (:mod:`.neurongroup`); changed in place:
        the cell type extends ``baseIaf``, its spike test is a single
        comparison, every state variable has a time derivative, and
        ``thresh`` and ``reset`` are parameters of each cell.
    group : dict
        The group's description.

    Raises
    ------
    UnsupportedFeatureError
        Naming the group, for what NEURON's code generator cannot run: a
        membrane potential ``v`` that is not a voltage, a threshold other
        than ``v > <constant or parameter>``, variables named ``thresh`` or
        ``reset``, dimensions NeuroML does not declare, conditions on ``v``
        other than the threshold, synapses that the cell sums.

    Examples
    --------
    >>> from brian2 import ms, mV, volt
    >>> from brian2tools.nmlexport.neurongroup import build_cell_types
    >>> group = {'name': 'lif', 'N': 2, 'refractory': None,
    ...          'equations': [{'name': 'v', 'type': 'differential equation',
    ...                         'expr': '-v/(10*ms)', 'unit': volt, 'var_type': 'float',
    ...                         'flags': []}],
    ...          'events': {'spike': {'threshold': 'v > 10*mV', 'reset': 'v = 0*mV'}},
    ...          'namespace': {}, 'initial_values': {'v': [0, 1]*mV}}
    >>> cell = build_cell_types(group, 0.1*ms)
    >>> make_portable(cell, group)
    >>> cell.cell_type.extends, cell.per_cell['thresh'][1].tolist()
    ('baseIaf', [0.01, 0.01])
    """
    name = group["name"]
    equations = {eq["name"]: eq for eq in group.get("equations") or ()}
    if "v" not in equations or equations["v"]["type"] != "differential equation" or \
            get_dimensions(equations["v"]["unit"]) != get_dimensions(volt):
        raise _refuse(name, "a model without a membrane potential 'v' in volt, defined by a "
                            "differential equation (NEURON's v is the membrane voltage)")
    for clash in ("thresh", "reset"):
        if clash in equations or clash in (group.get("namespace") or {}):
            raise _refuse(name, f"a variable or constant named '{clash}' (a parameter of "
                                "NeuroML's integrate-and-fire cells)")
    for variable, equation in equations.items():
        # NEURON's C code declares '<state>0' for each state variable: 'y0' and 'j0'
        # are the C library's Bessel functions, and such a mechanism does not compile
        if equation["type"] != "subexpression" and (
                f"{variable}0" in _C_LIBRARY_NAMES or variable in _C_LIBRARY_NAMES):
            raise _refuse(name, f"the variable name '{variable}' (NEURON's C code for it "
                                "clashes with the C library's Bessel functions j0, j1, y0, "
                                "y1; rename it)")
    if any(attachment.type != "basePointCurrent" for attachment in cell.cell_type.attachments):
        # current synapses are prepared by .portable_network; anything else cannot be
        raise _refuse(name, "synapses that add to a variable of the cell (in NEURON, a "
                            "synapse can only give a current)")
    unknown = sorted(d.name for d in cell.dimensions if not d.is_core)
    if unknown:
        raise _refuse(name, f"quantities of the dimension(s) {', '.join(unknown)}, which "
                            "NeuroML does not declare and NEURON's code generator does not know")
    cell_type = cell.cell_type
    dynamics = cell_type.dynamics
    reset_code = ((group.get("events") or {}).get("spike") or {}).get("reset") or ""
    written = {line.split("=")[0].strip().rstrip("+-*/") for line in reset_code.splitlines()
               if "=" in line}
    thresh = _threshold_value(group, written)
    voltage = lems_dimension(volt)

    cell_type.extends = PORTABLE_BASE
    # v and the spike port are the base type's
    for table, key in ((cell_type.exposures, "v"), (cell_type.event_ports, "spike")):
        if key in table:
            del table[key]
    dynamics.state_variables["v"].exposure = "v"

    refractory = "not_refractory" in dynamics.state_variables
    for handler in dynamics.event_handlers:
        test = getattr(handler, "test", "")
        spikes = any(type(action).__name__ == "EventOut" for action in handler.actions)
        if spikes:
            handler.test = ("(v - thresh) * not_refractory .gt. 0" if refractory
                            else "v .gt. thresh")
        elif _mentions_v(test):
            raise _refuse(name, f"the condition '{test}' on v other than the threshold "
                                "(NEURON watches one comparison per condition)")
    for handler in dynamics.event_handlers:
        if any(getattr(action, "variable", None) == "not_refractory" and
               getattr(action, "value", None) == "1" for action in handler.actions) or \
                "lastspike" in getattr(handler, "test", ""):
            # jNeuroML tests this after the step at t = t_n+1, NEURON during
            # the step at t = t_n + dt/2, and NEURON's flag takes effect one
            # step later: a slack of half a step makes both end the
            # refractory period on Brian's step (jNeuroML's outcome does not change)
            handler.test = handler.test.replace("+ 0.001 * dt)", "+ 0.501 * dt)")
    derived = set(dynamics.time_derivatives.keys()) if hasattr(
        dynamics.time_derivatives, "keys") else {td.variable for td in dynamics.time_derivatives}
    for variable in list(dynamics.state_variables):
        if variable.name not in derived:
            # NEURON's code generator needs a derivative for every state
            dynamics.add(_time_derivative(variable.name))
    cell.per_cell["thresh"] = (voltage, thresh)
    cell.per_cell["reset"] = (voltage, _reset_value(group, cell.size))


def _time_derivative(name: str):
    import lems.api as lems

    return lems.TimeDerivative(name, "0")


def _mentions_v(test: str) -> bool:
    import re

    return re.search(r"(?<![\w.])v(?![\w])", test or "") is not None


def group_cells(cell: CellTypes) -> PortableGroup:
    """
    Group the cells of a NeuronGroup by their values: one population per set.

    Parameters
    ----------
    cell : CellTypes
        The group's cell types, with the values of each cell in ``per_cell``.

    Returns
    -------
    PortableGroup
        The populations are ordered by the first cell (Brian's index) they
        hold, and cells keep Brian's order within their population.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import mV
    >>> from brian2tools.nmlexport.neurongroup import CellTypes
    >>> from brian2tools.nmlexport.units import lems_dimension
    >>> cell = CellTypes('g', 3, None, None,
    ...                  per_cell={'v0': (lems_dimension(mV), np.array([0.02, 0.01, 0.02]))})
    >>> grouped = group_cells(cell)
    >>> grouped.components, [grouped.path(i) for i in range(3)]
    ([{'v0': '20 mV'}, {'v0': '10 mV'}], ['g__0[0]', 'g__1[0]', 'g__0[1]'])
    """
    names = list(cell.per_cell)
    shared_initial = []
    if names:
        table = np.column_stack([np.asarray(cell.per_cell[n][1], dtype=float).reshape(-1)
                                 for n in names])
        _, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
        if len(first) > MAX_VALUE_POPULATIONS:
            # too many populations (and projections between them): cells that
            # differ only in their initial values share one
            keep = [k for k, n in enumerate(names) if n not in cell.initial]
            shared_initial = [n for n in names if n in cell.initial]
            _, first, inverse = np.unique(table[:, keep], axis=0, return_index=True,
                                          return_inverse=True)
        inverse = np.asarray(inverse).reshape(-1)
        # populations in the order of their first cell
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        population_of = rank[inverse]
        representatives = first[order]
    else:
        population_of = np.zeros(cell.size, dtype=int)
        representatives = np.array([0])
    index_in_population = np.empty(cell.size, dtype=int)
    for population in range(len(representatives)):
        members = np.flatnonzero(population_of == population)
        index_in_population[members] = np.arange(len(members))
    components = []
    for representative in representatives:
        components.append({
            n: supporting.format_numbers(
                np.asarray([cell.per_cell[n][1][representative]], dtype=float),
                cell.per_cell[n][0].unit)[0]
            for n in names})
    populations = [f"{cell.group}__{k}" for k in range(len(representatives))]
    initial = {}
    for population in range(len(representatives)):
        members = np.flatnonzero(population_of == population)
        differing = {n: np.asarray(cell.per_cell[n][1], dtype=float)[members]
                     for n in shared_initial}
        differing = {n: values for n, values in differing.items()
                     if np.any(values != values[0])}
        if differing:
            initial[population] = differing
    return PortableGroup(cell.group, components, populations, population_of,
                         index_in_population, initial)
