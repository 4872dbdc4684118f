"""
Small parts of the cell types of :mod:`.neurongroup`.

Names for the LEMS identifiers a cell type adds (which must not clash with
Brian's), the order in which its subexpressions are derived (each after the
ones it uses), the per-cell values of a variable, and the order of the
derived variables of any component type as it is written (jLEMS checks them
in the order of the file: each must come after the ones it reads).
"""

from __future__ import annotations

import numpy as np

from brian2tools.baseexport import UnsupportedFeatureError

from .lemsrendering import identifiers_in

__all__ = ["NameSource", "sorted_subexpressions", "per_cell_values",
           "order_derived_variables"]


class NameSource:
    """
    Hands out LEMS names that do not clash with any Brian identifier.

    Parameters
    ----------
    taken : iterable of str
        The names in use (Brian's identifiers of the group).

    Examples
    --------
    >>> names = NameSource({'v', 'v_init'})
    >>> names.new('v_init'), names.new('tau')
    ('v_init_', 'tau')
    """

    def __init__(self, taken):
        self.taken = set(taken)

    def new(self, base: str) -> str:
        """A name made from ``base`` that is not taken yet (and is taken from now on)."""
        name = base
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        return name


def sorted_subexpressions(subexpressions: dict, owner: str) -> list[str]:
    """
    Subexpression names, each after the subexpressions it uses.

    Parameters
    ----------
    subexpressions : dict
        Name -> Brian code.
    owner : str
        The group (for messages).

    Returns
    -------
    list of str

    Raises
    ------
    UnsupportedFeatureError
        For subexpressions that use each other in a circle.

    Examples
    --------
    >>> sorted_subexpressions({'a': 'b + 1', 'b': 'v * 2'}, 'G')
    ['b', 'a']
    """
    dependencies = {
        name: identifiers_in(expr) & subexpressions.keys() for name, expr in subexpressions.items()
    }
    ordered, done = [], set()

    def visit(name, path):
        if name in done:
            return
        if name in path:
            raise UnsupportedFeatureError(owner, f"the circular subexpression '{name}'")
        for dependency in sorted(dependencies[name]):
            visit(dependency, path | {name})
        done.add(name)
        ordered.append(name)

    for name in subexpressions:
        visit(name, frozenset())
    return ordered


def per_cell_values(values, size: int, owner: str, variable: str) -> np.ndarray:
    """
    One float per cell (SI units) from an initial value or values of a variable.

    Parameters
    ----------
    values : array-like
        A scalar, the single value of a shared variable, or one per cell.
    size : int
        The number of cells.
    owner, variable : str
        The group and the variable (for messages).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    UnsupportedFeatureError
        If the number of values is neither 1 nor ``size``.

    Examples
    --------
    >>> per_cell_values(0.5, 3, 'G', 'v')
    array([0.5, 0.5, 0.5])
    """
    array = np.asarray(values, dtype=float)
    if array.size == 1:  # a scalar, or the single value of a shared variable
        array = np.full(size, float(array.ravel()[0]))
    if array.shape != (size,):
        raise UnsupportedFeatureError(
            owner, f"{array.size} initial values for the variable '{variable}' of {size} cells"
        )
    return array


def order_derived_variables(component_type) -> None:
    """
    Put the derived variables of ``component_type`` after the ones they read.

    Parts of the export add derived variables to a cell or synapse type after
    others that read them (the sums of what synapses deliver, Brian's steps,
    subexpressions); jLEMS checks them in the order of the file and refuses
    one that reads a later one. The order is otherwise kept.

    Parameters
    ----------
    component_type : lems.ComponentType
        Changed in place.

    Examples
    --------
    >>> import lems.api as lems
    >>> cell = lems.ComponentType('c')
    >>> cell.dynamics.add(lems.DerivedVariable('a', dimension='none', value='b + 1'))
    >>> cell.dynamics.add(lems.DerivedVariable('b', dimension='none', value='2'))
    >>> order_derived_variables(cell)
    >>> list(cell.dynamics.derived_variables.keys())
    ['b', 'a']
    """
    derived = component_type.dynamics.derived_variables
    if len(derived) < 2:
        return
    reads = {name: identifiers_in(variable.value or "") & derived.keys()
             for name, variable in derived.items()}
    names = list(derived.keys())  # (a lems Map iterates over its values)
    ordered: list[str] = []
    placed: set[str] = set()

    def place(name: str, path: frozenset) -> None:
        if name in placed or name in path:  # (a cycle: left for jLEMS to report)
            return
        for other in sorted(reads[name] - {name}, key=names.index):
            place(other, path | {name})
        placed.add(name)
        ordered.append(name)

    for name in names:
        place(name, frozenset())
    items = [(name, derived[name]) for name in ordered]
    derived.clear()
    derived.update(items)
