"""
The numbers of the NeuroML/LEMS export: each in its natural unit, and exact.

Issue #15 asked that values be written in the quantity's natural unit (not
in SI base units with 17 digits, ``v0="0.00020202020202020202 V"``) and that
they round-trip to the same float. These tests read the values back from
files the 'neuroml2' device wrote, as jLEMS converts them
(:func:`~brian2tools.nmlexport.units.parse_quantity`), and compare them with
Brian's own values bit for bit.
"""

import re
import xml.etree.ElementTree as ET

import numpy as np
from brian2 import (
    NeuronGroup,
    StateMonitor,
    defaultclock,
    ms,
    mV,
    nS,
    prefs,
    run,
    seed,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete

import brian2tools.nmlexport.lemsexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.nmlexport.units import format_in_unit, format_quantity, parse_quantity

_QUANTITY = re.compile(r"^(-?[0-9.]+(?:e-?[0-9]+)?) ([a-zA-Z_]+)$")


def _export_random_cells(tmp_path):
    """A group whose initial values and per-cell parameters are random floats."""
    start_scope()
    model_file = tmp_path / "numbers.xml"
    set_device("neuroml2", filename=str(model_file))
    try:
        seed(3)
        defaultclock.dt = 0.1 * ms
        group = NeuronGroup(300, """dv/dt = (El - v)/tau : volt
                                    g : siemens (constant)
                                    El : volt (constant)""",
                            threshold="v > -50*mV", reset="v = -60*mV", method="exact",
                            namespace={"tau": 20 * ms}, name="cells")
        group.v = "-60*mV + rand() * 10*mV"
        group.g = "1*nS + rand() * 2*nS"
        group.El = "-49*mV - rand() * 2*mV"
        values = {"v": np.asarray(group.v[:]), "g": np.asarray(group.g[:]),
                  "El": np.asarray(group.El[:])}
        StateMonitor(group, "v", record=[0])
        run(1 * ms)
    finally:
        reinit_and_delete()
        set_device("runtime")
        prefs.codegen.target = "numpy"
    return model_file, values


def test_per_cell_values_are_brians_floats_in_natural_units(tmp_path):
    model_file, values = _export_random_cells(tmp_path)
    population = ET.parse(model_file).getroot().find("network/Component[@id='cells']")
    cells = population.findall("Component")
    assert len(cells) == 300
    voltages, conductances = {"mV", "uV", "V"}, {"nS", "pS", "uS"}
    for name, natural, near in (("v", "mV", voltages), ("g", "nS", conductances),
                                ("El", "mV", voltages)):
        texts = [cell.get(f"{name}_init" if name == "v" else name) for cell in cells]
        assert None not in texts, name
        # exactly Brian's float, read as jLEMS reads it
        read = np.array([parse_quantity(text) for text in texts])
        assert np.array_equal(read, values[name]), name
        # a number and a unit, the number at most 17 significant digits
        parts = [_QUANTITY.match(text) for text in texts]
        assert all(parts), [t for t, p in zip(texts, parts, strict=True) if not p][:3]
        assert all(len(p.group(1).lstrip("-").replace(".", "").lstrip("0")) <= 17
                   for p in parts), name
        # the natural unit (mV for these voltages, nS for these conductances); a
        # neighbouring one only where no decimal in it converts back exactly
        units = [p.group(2) for p in parts]
        assert units.count(natural) >= 0.8 * len(units), (name, set(units))
        assert set(units) <= near, (name, set(units))


def test_the_issues_example_and_random_values_round_trip_exactly():
    # the value the issue quotes, in mV and exact
    assert format_in_unit(0.00020202020202020202, "V") == "0.20202020202020202 mV"
    assert parse_quantity("0.20202020202020202 mV") == 0.00020202020202020202
    assert format_quantity(-70.6 * mV) == "-70.6 mV"
    assert format_quantity(0.5 * nS) == "500 pS"  # the largest unit with a value >= 1
    rng = np.random.default_rng(0)
    for si_unit in ("V", "s", "S", "A"):
        for exponent in range(-15, 3):
            for number in rng.uniform(-1, 1, 50) * 10.0 ** exponent:
                text = format_in_unit(number, si_unit)
                assert parse_quantity(text) == number, (number, text)
