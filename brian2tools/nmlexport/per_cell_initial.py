"""
Per-cell initial values of the portable form, set on the cells in NEURON and NetPyNE.

A standard NeuroML ``population`` is made of copies of one component. When
a group's cells differ only in their initial values, and there are too many
distinct values for one population each (CUBA's random ``v``), the portable
form (:mod:`.portable`) puts them in one population with the values in a
``<property>`` (tag ``brian2tools:initial:<parameter>``, SI numbers in the
population's order). No NeuroML engine reads such a property, so:

* NEURON: jNeuroML's script sets each parameter of each cell in a loop over
  the population (``h.m_<component>_<population>[i].v_init = -52.811054 #
  NRN unit is: (mV)``); `set_in_script` makes those lines take each cell's
  own value from a table (in NEURON's units, with all of Brian's digits);
* NetPyNE: the runner (:mod:`.netpyne_engine`) calls `NETPYNE_FUNCTION`
  before the simulation starts, on every rank, for the cells of that rank;
* jNeuroML cannot be given per-cell values for a standard population:
  `refuse_for_jneuroml` refuses such a file with the way out (the default
  form has every cell's values).
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["INITIAL_TAG", "NETPYNE_FUNCTION", "read_initial_values", "set_in_script", "in_neuron_units",
           "refuse_for_jneuroml"]

#: The tag of a population's ``<property>`` with its cells' initial values of
#: a parameter: ``INITIAL_TAG + parameter``; the value: SI numbers, one per
#: cell in the population's order.
INITIAL_TAG = "brian2tools:initial:"

_POPULATION = re.compile(r'<population id="(?P<id>[^"]+)"[^>]*>(?P<body>(?:\s*<property [^>]*/>)+)')
_PROPERTY = re.compile(r'<property tag="' + re.escape(INITIAL_TAG)
                       + r'(?P<parameter>\w+)" value="(?P<values>[^"]*)"\s*/>')
# jNeuroML's NEURON code: the unit of each value it sets, and the SI factor
_NEURON_UNITS = {"": 1.0, "(mV)": 1e3, "(ms)": 1e3, "(nA)": 1e9, "(uS)": 1e6, "(nF)": 1e9,
                 "(kHz)": 1e-3, "(mM)": 1.0, "(um)": 1e6, "(K)": 1.0, "(degC)": 1.0}
_SETTING = re.compile(r"^(?P<indent>\s*)h\.(?P<object>m_\w+)\[i\]\."
                      r"(?P<parameter>\w+) = (?P<value>\S+) # NRN unit is: ?(?P<unit>\S*)\s*$")


def read_initial_values(lems_file: Path | str, text: str | None = None) -> dict:
    """
    The per-cell initial values a portable LEMS file keeps in its populations.

    Parameters
    ----------
    lems_file : Path or str
        The LEMS file of an export.
    text : str, optional
        Its text, if it was read already.

    Returns
    -------
    dict
        Population id -> {parameter: list of float (SI)}; empty if there
        are none.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / 'model.xml'
    >>> _ = path.write_text('<population id="P__0" component="c" size="2">\\n'
    ...                     '  <property tag="brian2tools:initial:v_init" value="-0.05 -0.06"/>\\n'
    ...                     '</population>')
    >>> read_initial_values(path)
    {'P__0': {'v_init': [-0.05, -0.06]}}
    """
    text = Path(lems_file).read_text() if text is None else text
    if INITIAL_TAG not in text:
        return {}
    found = {}
    for population in _POPULATION.finditer(text):
        for prop in _PROPERTY.finditer(population.group("body")):
            found.setdefault(population.group("id"), {})[prop.group("parameter")] = \
                [float(value) for value in prop.group("values").split()]
    return found


def set_in_script(script: Path, values: dict) -> int:
    """
    Make jNeuroML's NEURON script give every cell its own initial values.

    Parameters
    ----------
    script : Path
        The Python script jNeuroML wrote (changed in place).
    values : dict
        As `read_initial_values` returns.

    Returns
    -------
    int
        The number of (population, parameter) settings changed.

    Raises
    ------
    ValueError
        If the script does not set one of the values, or in a unit that is
        not known here.

    Examples
    --------
    >>> import tempfile
    >>> script = Path(tempfile.mkdtemp()) / 'model_nrn.py'
    >>> _ = script.write_text('import sys\\nclass S:\\n    def __init__(self):\\n'
    ...     '        for i in range(2):\\n'
    ...     '            h.m_c_P__0[i].v_init = -50.0 # NRN unit is: (mV)\\n')
    >>> set_in_script(script, {'P__0': {'v_init': [-0.05, -0.06]}})
    1
    >>> script.read_text().splitlines()[-1].strip()
    "h.m_c_P__0[i].v_init = _b2t_initial['P__0']['v_init'][i]"
    """
    if not values:
        return 0
    lines = script.read_text().splitlines()
    table: dict = {}
    changed = set()
    for position, line in enumerate(lines):
        setting = _SETTING.match(line)
        if setting is None:
            continue
        # the object is m_<component>_<population>
        parameter = setting.group("parameter")
        population = next((p for p in values if setting.group("object").endswith("_" + p)
                           and parameter in values[p]), None)
        if population is None:
            continue
        unit = setting.group("unit")
        if unit not in _NEURON_UNITS:
            raise ValueError(f"{script}: the initial values of {parameter} in population "
                             f"{population} are set in NEURON's unit {unit}, which is not "
                             "known to brian2tools.")
        factor = _NEURON_UNITS[unit]
        table.setdefault(population, {})[parameter] = [v * factor
                                                        for v in values[population][parameter]]
        lines[position] = (f"{setting.group('indent')}h.{setting.group('object')}[i]."
                           f"{parameter} = _b2t_initial[{population!r}][{parameter!r}][i]")
        changed.add((population, parameter))
    missing = {(p, name) for p, names in values.items() for name in names} - changed
    if missing:
        raise ValueError(f"{script}: jNeuroML's script does not set "
                         + ", ".join(f"{name} of population {p}" for p, name in sorted(missing)))
    for position, line in enumerate(lines):
        if line.startswith(("class ", "def ")):
            lines[position:position] = ["# brian2tools: the initial values of each cell, in "
                                        "NEURON's units", f"_b2t_initial = {table!r}", ""]
            break
    script.write_text("\n".join(lines) + "\n")
    return len(changed)


_MOD_PARAMETER = re.compile(r"^\s*(\w+) = \S+(?: (\([\w/]+\)))?", re.MULTILINE)
_PARAMETER_BLOCK = re.compile(r"^PARAMETER\s*\{(.*?)^\}", re.MULTILINE | re.DOTALL)


def in_neuron_units(values: dict, mod_files: list[Path]) -> dict:
    """
    The values of `read_initial_values` in the units of NEURON's mechanisms.

    Parameters
    ----------
    values : dict
        As `read_initial_values` returns (SI).
    mod_files : list of Path
        The NMODL files jNeuroML wrote: their ``PARAMETER`` blocks give the
        unit of each parameter.

    Returns
    -------
    dict
        The same structure, in NEURON's units.

    Raises
    ------
    ValueError
        If a parameter is not declared, or in a unit not known here.

    Examples
    --------
    >>> import tempfile
    >>> mod = Path(tempfile.mkdtemp()) / 'c.mod'
    >>> _ = mod.write_text('PARAMETER {\\n    v_init = -50 (mV)   : was\\n}\\n')
    >>> in_neuron_units({'P__0': {'v_init': [-0.05]}}, [mod])
    {'P__0': {'v_init': [-50.0]}}
    """
    units: dict = {}
    for path in mod_files:
        block = _PARAMETER_BLOCK.search(path.read_text())
        for name, unit in _MOD_PARAMETER.findall(block.group(1) if block else ""):
            units.setdefault(name, unit or "")
    converted: dict = {}
    for population, parameters in values.items():
        for parameter, numbers in parameters.items():
            unit = units.get(parameter)
            if unit not in _NEURON_UNITS:
                raise ValueError(f"The initial values of {parameter} (population {population}) "
                                 f"have no known unit in NEURON's mechanisms ({unit!r}).")
            converted.setdefault(population, {})[parameter] = [
                number * _NEURON_UNITS[unit] for number in numbers]
    return converted


#: Defined in the NetPyNE runner: sets the values on the cells of this rank.
NETPYNE_FUNCTION = '''
def _b2t_set_initial(sim, values):
    """values: population -> parameter -> values in NEURON's units; on this rank's cells."""
    start, first = {}, 0
    for name, parameters in sim.net.params.popParams.items():
        start[name] = first
        first += int(parameters.get("numCells") or len(parameters.get("cellsList") or ()))
    for cell in sim.net.cells:
        population = cell.tags.get("pop")
        if population not in values:
            continue
        k = cell.gid - start[population]
        for section in cell.secs.values():
            for process in section.get("pointps", {}).values():
                for parameter, numbers in values[population].items():
                    if hasattr(process["hObj"], parameter):
                        setattr(process["hObj"], parameter, numbers[k])
'''


def refuse_for_jneuroml(lems_file: Path | str) -> None:
    """
    Refuse a portable file with per-cell initial values: jNeuroML cannot set them.

    Parameters
    ----------
    lems_file : Path or str
        The LEMS file to simulate in jNeuroML.

    Raises
    ------
    ValueError
        If the file keeps per-cell initial values in population properties.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / 'model.xml'
    >>> _ = path.write_text('<Lems/>')
    >>> refuse_for_jneuroml(path)  # nothing to refuse
    """
    values = read_initial_values(lems_file)
    if values:
        populations = ", ".join(sorted(values))
        raise ValueError(
            f"{lems_file} keeps per-cell initial values in <property> elements of its "
            f"populations ({populations}), which jNeuroML does not read: every cell would "
            "start from its component's values. Simulate this file in NEURON or NetPyNE, or "
            "export without portable=True for jNeuroML (the default form has every cell's "
            "own values).")
