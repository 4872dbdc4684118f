"""
Gap junctions in NeuroML2/LEMS: sums over a population at the start of the step.

A summed variable that reads the pre-synaptic neurons' variables
(``Igap_post = w*(v_pre - v_post) : 1 (summed)``) needs every cell's value
at the start of the step, as Brian's summed-variable updater runs before
the neurons' update. jNeuroML gives a synapse the variables of its peer cell
(through a ``Tunnel``, as NeuroML's ``gapJunction`` does) as they were when
that cell last evaluated them: the start of the current step for a cell
updated earlier in the step, the start of the previous step for one updated
later (a copy of ``v`` kept by the cells is read the same way). A
population's derived variables, however, are evaluated before jNeuroML
steps the population's cells, so ``select="cells[*]/v" reduce="add"`` holds
the sum of every cell's value at the start of the step.

So for synapses that connect every cell of a group with every cell (or every
other cell) of the same group, a term linear in the pre-synaptic variables
with one coefficient ``c`` for all synapses is split
(`split_pre_synaptic_part`): the synapses compute the rest (``-w*v_post``,
:mod:`.summed_variables`), and the cell adds ``c*(v__population_sum - v)``
(`population_terms`), the sum its population exposes
(`add_population_sums`). Other terms that read the pre-synaptic neurons are
refused by name.
"""

from __future__ import annotations

from collections.abc import Mapping

import lems.api as lems
import numpy as np
import sympy
from brian2 import Quantity, get_dimensions
from brian2.parsing.sympytools import str_to_sympy, sympy_to_str
from brian2.utils.logger import get_logger

from .lemsrendering import identifiers_in, parse_statements
from .synapse_components import evaluate_increment
from .units import constant_value

__all__ = ["GAP_JUNCTION_HINT", "split_pre_synaptic_part", "population_terms",
           "add_population_sums"]

logger = get_logger(__name__)

#: Why a summed term cannot read the other cells' variables through a synapse.
GAP_JUNCTION_HINT = (
    "jNeuroML gives a synapse the variables of its peer cell as they were when that cell "
    "last evaluated them: the start of the step for a cell updated earlier, the start of "
    "the previous step for one updated later. Brian uses the values at the start of the "
    "step for every cell.")


def split_pre_synaptic_part(synapses: Mapping, name: str, expr: str, sides: Mapping,
                       synaptic: set, namespace: Mapping, refuse) -> tuple[str, tuple]:
    """
    Split a summed term into what the synapse computes and a sum over the population.

    jNeuroML evaluates a population's derived variables before its cells, so
    ``select="cells[*]/v" reduce="add"`` gives every cell the sum of the
    group's ``v`` at the start of the step. A term ``c*v_pre + f(...)``
    (``w*(v_pre - v_post)``) of synapses coupling every cell of a group with
    every cell (or every other cell) of the same group, with a coefficient
    ``c`` shared by all synapses, sums to ``c*(sum of v) + sum of f``: the
    first part is the population's sum, the second the synapses' terms.

    Parameters
    ----------
    synapses : mapping
        A *synapses* entry of the model description.
    name : str
        The summed variable (``Igap_post``).
    expr : str
        Its term (Brian code).
    sides : mapping
        ``'pre'`` and ``'post'`` -> the groups connected.
    synaptic : set of str
        The synapses' own variables.
    namespace : mapping
        The synapses' namespace.
    refuse : callable
        ``refuse(feature, hint)`` -> the `UnsupportedFeatureError` to raise.

    Returns
    -------
    rest : str
        The synapses' part of the term (Brian code; ``expr`` if it reads no
        pre-synaptic variable).
    parts : tuple
        For each pre-synaptic variable, ``(variable, coefficient (SI), unit
        of the coefficient, whether the cell itself is left out, unit of the
        variable)``.

    Raises
    ------
    UnsupportedFeatureError
        For terms that read the pre-synaptic neurons otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import Unit
    >>> cells = {'name': 'P', 'N': 2, 'equations': [{'name': 'v', 'unit': Unit(1),
    ...          'type': 'differential equation', 'flags': []}]}
    >>> gaps = {'name': 'S', 'source': {'group': 'P'}, 'target': {'group': 'P'},
    ...         'i': np.array([0, 0, 1, 1]), 'j': np.array([0, 1, 0, 1]),
    ...         'initial_values': {'w': np.array([0.5] * 4)},
    ...         'equations': [{'name': 'I_post', 'unit': Unit(1), 'flags': ['summed']}]}
    >>> rest, parts = split_pre_synaptic_part(gaps, 'I_post', 'w*(v_pre - v_post)',
    ...                                       {'pre': cells, 'post': cells}, {'w'}, {}, None)
    >>> rest, [part[:2] for part in parts]
    ('-v_post*w', [('v', 0.5)])
    """
    pre, post = sides["pre"], sides["post"]
    pre_equations = {eq["name"]: eq for eq in pre.get("equations") or ()}
    used = {identifier[:-4]: identifier for identifier in identifiers_in(expr)
            if identifier.endswith("_pre") and identifier[:-4] in pre_equations}
    if not used:
        return expr, ()
    feature = (f"the summed variable '{name}' reading '{sorted(used.values())[0]}' (a "
               "variable of the pre-synaptic neurons)")
    source, target = synapses.get("source") or {}, synapses.get("target") or {}
    size = int(post["N"])
    i = np.asarray(synapses.get("i", ()), dtype=np.int64)
    j = np.asarray(synapses.get("j", ()), dtype=np.int64)
    whole = all(int(reference.get("start") or 0) == 0
                and int(reference.get("stop", size)) == size
                for reference in (source, target))
    pairs = np.unique(i * size + j)
    everyone = len(pairs) == len(i) == size * size
    others = len(pairs) == len(i) == size * size - size and not np.any(i == j)
    if pre["name"] != post["name"] or not whole or not (everyone or others):
        raise refuse(feature, GAP_JUNCTION_HINT + " Terms linear in the pre-synaptic "
                     "variables are exported for synapses that connect every cell of a "
                     "group with every (other) cell of the group, with one coefficient.")
    expression = str_to_sympy(expr)
    symbols = {symbol.name: symbol for symbol in expression.free_symbols}
    rest = expression.subs({symbols[identifier]: 0 for identifier in used.values()})
    initial = synapses.get("initial_values") or {}
    written = set()
    for pathway in synapses.get("pathways") or ():
        code = (pathway.get("code") or "").strip()
        if code:
            written |= {t for t, _, _ in parse_statements(code, synapses["name"], "a pathway")}
    parts = []
    for variable, identifier in sorted(used.items()):
        equation = pre_equations[variable]
        coefficient = sympy.diff(expression, symbols[identifier])
        values = {}
        for symbol in coefficient.free_symbols:
            given = np.asarray(initial.get(symbol.name, np.nan), dtype=float).ravel() \
                if symbol.name in synaptic else None
            if given is not None and given.size and np.all(given == given[0]) \
                    and np.all(np.isfinite(given)) and symbol.name not in written:
                values[symbol.name] = float(given[0])
            elif given is None and constant_value(symbol.name, namespace) is not None:
                values[symbol.name] = constant_value(symbol.name, namespace)
            else:
                raise refuse(feature, f"The coefficient of '{identifier}' must be the same "
                                      "constant in every synapse.")
        value = evaluate_increment(sympy_to_str(coefficient), values) \
            if coefficient.free_symbols else np.asarray(float(coefficient))
        if equation["type"] != "differential equation" or value is None:
            raise refuse(feature, f"The term must be linear in '{identifier}', a variable "
                                  "with a differential equation.")
        summed_unit = get_dimensions(next(eq["unit"] for eq in synapses["equations"]
                                          if eq["name"] == name))
        unit = Quantity(1.0, dim=summed_unit / get_dimensions(equation["unit"]))
        parts.append((variable, float(value), unit, bool(others), equation["unit"]))
    return sympy_to_str(rest), tuple(parts)


_POPULATION_SUM = "__population_sum"


def population_terms(builder, variable: str, pre_part) -> str:
    """
    The LEMS terms of a summed variable that are sums over the cell's population.

    Parameters
    ----------
    builder : object
        The cell builder of :mod:`.neurongroup`; its cell type gets a
        ``Requirement`` of each population sum and a constant per coefficient.
    variable : str
        The summed variable.
    pre_part : tuple
        From `split_pre_synaptic_part`.

    Returns
    -------
    str
        `` + c * (v__population_sum - v)`` (or without ``- v``) per part.

    Raises
    ------
    UnsupportedFeatureError
        If synapses carry the variable read.

    Examples
    --------
    >>> population_terms(None, 'I', ())
    ''
    """
    text = ""
    for cell_variable, coefficient, unit, others, cell_unit in pre_part:
        if cell_variable in builder.carried:
            raise builder.refuse(f"the summed variable '{variable}' reading '{cell_variable}' "
                                 "of the other cells", f"Synapses carry '{cell_variable}'.")
        population_sum = f"{cell_variable}{_POPULATION_SUM}"
        if population_sum not in builder.cell_type.requirements:
            builder.cell_type.add(lems.Requirement(
                population_sum, builder.dimension_of(cell_unit).name))
        constant = f"{variable}__coupling_{cell_variable}"
        builder.constant(constant, coefficient * unit)
        text += (f" + {constant} * ({population_sum} - {cell_variable})" if others
                 else f" + {constant} * {population_sum}")
    return text


def add_population_sums(cell_types) -> None:
    """
    Give a population type the sums over its cells that the cells require.

    jNeuroML evaluates the population's derived variables before it steps its
    cells, so each cell reads the sum of the values at the start of the step
    (used for summed variables that read the other cells: gap junctions).

    Parameters
    ----------
    cell_types : CellTypes
        A group's types (:mod:`.neurongroup`); its population type is
        modified in place.

    Examples
    --------
    >>> import lems.api as lems
    >>> from brian2tools.nmlexport.neurongroup import CellTypes
    >>> cell = lems.ComponentType('P_cell')
    >>> cell.add(lems.Requirement('v__population_sum', 'voltage'))
    >>> types = CellTypes('P', 2, cell, lems.ComponentType('P_population'))
    >>> add_population_sums(types)
    >>> print(types.population_type.dynamics.derived_variables['v__population_sum'].select)
    cells[*]/v
    """
    population = cell_types.population_type
    for requirement in list(cell_types.cell_type.requirements):
        name = requirement.name
        if not name.endswith(_POPULATION_SUM) or name in population.exposures:
            continue
        population.add(lems.Exposure(name, requirement.dimension))
        population.dynamics.add(lems.DerivedVariable(
            name, dimension=requirement.dimension, exposure=name,
            select=f"cells[*]/{name[:-len(_POPULATION_SUM)]}", reduce="add"))
