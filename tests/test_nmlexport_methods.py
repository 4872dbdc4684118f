"""
Integration methods: Brian's own steps in jNeuroML.

A Hodgkin-Huxley cell (Traub and Miles' rates, as in Brian's COBAHH
example) integrated by Brian with ``method='exponential_euler'`` at
dt = 0.1 ms, where forward Euler is not Brian's step; and networks
integrated with ``'exact'`` (a coupled linear system with synapses that
carry its variables), ``'rk2'`` and ``'rk4'`` (a non-linear Izhikevich
cell). The export must give Brian's traces and spikes in jNeuroML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from brian2 import (
    NeuronGroup,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    cm,
    defaultclock,
    ms,
    msiemens,
    mV,
    nA,
    run,
    set_device,
    siemens,
    start_scope,
    ufarad,
    umetre,
)
from brian2.devices.device import reinit_and_delete

import brian2tools.nmlexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.nmlexport.engines import engine_available
from brian2tools.nmlexport.method_steps import method_steps, stepped_method

AREA = 20000 * umetre**2
NAMESPACE = {"Cm": 1 * ufarad * cm**-2 * AREA, "gl": 5e-5 * siemens * cm**-2 * AREA,
             "El": -65 * mV, "EK": -90 * mV, "ENa": 50 * mV, "VT": -63 * mV,
             "g_na": 100 * msiemens * cm**-2 * AREA, "g_kd": 30 * msiemens * cm**-2 * AREA}
EQUATIONS = """
dv/dt = (gl*(El-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK) + I)/Cm : volt
dm/dt = 0.32*(mV**-1)*4*mV/exprel((13.*mV-v+VT)/(4*mV))/ms*(1-m)-0.28*(mV**-1)*5*mV/exprel((v-VT-40.*mV)/(5*mV))/ms*m : 1
dn/dt = 0.032*(mV**-1)*5*mV/exprel((15.*mV-v+VT)/(5*mV))/ms*(1.-n)-.5*exp((10.*mV-v+VT)/(40.*mV))/ms*n : 1
dh/dt = 0.128*exp((17.*mV-v+VT)/(18.*mV))/ms*(1.-h)-4./(1+exp((40.*mV-v+VT)/(5.*mV)))/ms*h : 1
I : amp
"""


def _hh(read: bool = True, refractory="v > -40*mV"):
    start_scope()
    defaultclock.dt = 0.1 * ms
    cells = NeuronGroup(3, EQUATIONS, threshold="v > -40*mV", refractory=refractory,
                        method="exponential_euler", namespace=NAMESPACE, name="hh")
    cells.v = -65 * mV
    cells.I = [0.5, 1, 2] * nA
    state = StateMonitor(cells, ["v", "m", "h", "n"], record=True, name="hh_state")
    spikes = SpikeMonitor(cells, name="hh_spikes")
    run(50 * ms)
    if not read:  # exported, not simulated
        return None
    return ({name: np.array(getattr(state, name)) for name in ("v", "m", "h", "n")},
            np.array(spikes.i[:]), np.array(spikes.t[:]))


def test_exponential_euler_is_written_as_brians_step(tmp_path):
    for portable in (False, True):
        folder = tmp_path / str(portable)
        folder.mkdir()
        set_device("neuroml2", filename=str(folder / "hh.xml"), portable=portable)
        # NEURON's cells watch one comparison on v: a fixed refractory period there
        _hh(read=False, refractory=3 * ms if portable else "v > -40*mV")
        reinit_and_delete()
        set_device("runtime")
        cell = next(c for c in ET.parse(folder / "hh.xml").getroot().iter("ComponentType")
                    if c.get("name", "").startswith("hh_cell"))
        derivatives = {d.get("variable"): d.get("value")
                       for d in cell.iter("TimeDerivative")}
        derived = {d.get("name"): d.get("value") for d in cell.iter("DerivedVariable")}
        for variable in ("v", "m", "h", "n"):
            # Brian's exponential Euler step for jNeuroML; NEURON integrates f itself
            step = f"(step_{variable} - {variable}) / dt"
            assert (derivatives[variable] == step) is not portable, variable
            assert (f"step_BA_{variable}" in derived) is not portable, variable


@pytest.mark.skipif(engine_available("jneuroml") is not None,
                    reason=str(engine_available("jneuroml")))
def test_exponential_euler_in_jneuroml_gives_brians_traces_and_spikes(tmp_path):
    brian_state, brian_i, brian_t = _hh()
    reinit_and_delete()
    set_device("neuroml2", filename=str(tmp_path / "hh.xml"), simulate="jneuroml")
    try:
        state, spike_i, spike_t = _hh()
    finally:
        reinit_and_delete()
        set_device("runtime")
    assert len(brian_t) > 10
    np.testing.assert_array_equal(spike_i, brian_i)
    np.testing.assert_allclose(spike_t, brian_t, rtol=0, atol=1e-9)
    for name, values in brian_state.items():
        span = np.ptp(values)
        # every sample; jNeuroML writes about 8 significant digits
        assert np.max(np.abs(state[name] - values)) <= 1e-6 * span, name


def _network(method: str, read: bool = True):
    """Cells driven by delayed synapses; linear (CUBA-like) for 'exact', Izhikevich else."""
    start_scope()
    defaultclock.dt = 0.1 * ms
    inputs = SpikeGeneratorGroup(2, [0, 1, 0, 1], [2, 2, 7.3, 15] * ms, name="inputs")
    if method == "exact":
        cells = NeuronGroup(3, """
            dv/dt = (ge + gi - (v + 49*mV))/(20*ms) + I/(20*ms) : volt (unless refractory)
            dge/dt = -ge/(5*ms) : volt
            dgi/dt = -gi/(10*ms) : volt
            I : volt""", threshold="v > -50*mV", reset="v = -60*mV", refractory=3 * ms,
            method=method, name="cells")
        cells.v = "-60*mV + i*3*mV"
        cells.I = [12, 15, 20] * mV
    else:
        cells = NeuronGroup(3, """
            dv/dt = (0.04*v**2/mV + 5*v + 140*mV - u + I + ge)/ms : volt
            du/dt = 0.02*(0.2*v - u)/ms : volt
            dge/dt = -ge/(5*ms) : volt
            I : volt""", threshold="v > 30*mV", reset="v = -65*mV; u += 8*mV",
            method=method, name="cells")
        cells.v = -65 * mV
        cells.u = -13 * mV
        cells.I = [5, 10, 15] * mV
    synapses = Synapses(inputs, cells, on_pre="ge += 3*mV", delay=1 * ms, name="synapses")
    synapses.connect()
    state = StateMonitor(cells, ["v", "ge"], record=True, name="cells_state")
    spikes = SpikeMonitor(cells, name="cells_spikes")
    run(40 * ms)
    if not read:
        return None
    return ({name: np.array(getattr(state, name)) for name in ("v", "ge")},
            np.array(spikes.i[:]), np.array(spikes.t[:]))


def test_brians_steps_are_written_as_derived_values(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    try:
        _network("rk4", read=False)
    finally:
        reinit_and_delete()
        set_device("runtime")
    root = ET.parse(tmp_path / "model.xml").getroot()
    cell = next(c for c in root.iter("ComponentType") if c.get("name") == "cells_cell")
    derived = {d.get("name"): d.get("value") for d in cell.iter("DerivedVariable")}
    derivatives = {d.get("variable"): d.get("value") for d in cell.iter("TimeDerivative")}
    # four Runge-Kutta stages per variable, then the new values
    for variable in ("v", "u"):
        assert {f"step__k_{k}_{variable}" for k in range(1, 5)} <= set(derived)
        assert derivatives[variable] == f"(step_{variable} - {variable}) / dt"
    assert "step__k_1_v / 6" in derived["step_v"]
    # ge, carried by the synapses: the cell's own copy and each synapse's copy take rk4 steps
    assert derivatives["ge__own"] == "(step_ge - ge__own) / dt"
    synapse = next(c for c in root.iter("ComponentType")
                   if c.get("name", "").startswith("synapses_pre"))
    assert {d.get("variable"): d.get("value") for d in synapse.iter("TimeDerivative")} == {
        "ge__state": "(step_ge__state - ge__state) / dt"}


@pytest.mark.skipif(engine_available("jneuroml") is not None,
                    reason=str(engine_available("jneuroml")))
@pytest.mark.parametrize("method", ["exact", "rk2", "rk4"])
def test_brians_steps_in_jneuroml_give_brians_traces_and_spikes(tmp_path, method):
    brian_state, brian_i, brian_t = _network(method)
    reinit_and_delete()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="jneuroml")
    try:
        state, spike_i, spike_t = _network(method)
    finally:
        reinit_and_delete()
        set_device("runtime")
    assert len(brian_t) >= 5
    np.testing.assert_array_equal(spike_i, brian_i)
    np.testing.assert_allclose(spike_t, brian_t, rtol=0, atol=1e-9)
    for name, values in brian_state.items():
        span = np.ptp(values)
        # every sample, arrivals and spikes included (forward Euler: 1e-3 and more)
        assert np.max(np.abs(state[name] - values)) <= 1e-6 * span, name


def test_method_steps_are_brians_code():
    from brian2 import volt

    steps = method_steps({"v": ("(E - v)/tau", volt)}, "rk2", "G")
    assert [name for name, _, _ in steps.temporaries] == ["__k_v", "_v"]
    assert [variable for _, _, variable in steps.temporaries] == ["v", "v"]
    assert steps.new_values == {"v": "_v"}
    # heun without noise: Brian's code has unused supports, which are left out
    steps = method_steps({"v": ("-v/tau", volt)}, "heun", "G")
    assert [name for name, _, _ in steps.temporaries] == ["_v"]


def test_a_method_brian_cannot_apply_stays_forward_euler_with_a_warning(caplog):
    group = {"name": "adex", "method": "linear", "equations": [
        {"name": "v", "type": "differential equation", "unit": mV,
         "expr": "(gL*(EL - v) + gL*DeltaT*exp((v - VT)/DeltaT))/C"}]}
    with caplog.at_level("WARNING"):
        assert stepped_method(group) is None
    assert "forward Euler" in caplog.text and "'linear'" in caplog.text
    group["method"] = "rk4"
    assert stepped_method(group) == "rk4"
    group["equations"][0]["stochastic_variables"] = ["xi"]
    assert stepped_method(group) is None  # the noise has its own step


def _alpha_synapse(method):
    """Clock-driven synaptic conductances summed onto a cell (Brian's default: exact)."""
    start_scope()
    defaultclock.dt = 0.1 * ms
    inputs = SpikeGeneratorGroup(2, [0, 1, 0], [5, 20, 40] * ms, name="inputs")
    cell = NeuronGroup(1, """dv/dt = (-v + g_syn)/(10*ms) : 1
                             g_syn : 1""", method="euler", name="cell")
    options = {} if method is None else {"method": method}
    synapses = Synapses(inputs, cell, """dg/dt = (-g + h)/(2*ms) : 1 (clock-driven)
                                         dh/dt = -h/(2*ms) : 1 (clock-driven)
                                         g_syn_post = g : 1 (summed)""",
                        on_pre="h += 1", delay=1 * ms, name="alpha", **options)
    synapses.connect()
    state = StateMonitor(cell, ["v", "g_syn"], record=0, name="cell_state")
    run(60 * ms)
    return {name: np.array(getattr(state, name)[0]) for name in ("v", "g_syn")}


@pytest.mark.skipif(engine_available("jneuroml") is not None,
                    reason=str(engine_available("jneuroml")))
@pytest.mark.parametrize("method", [None, "rk4"], ids=["default", "rk4"])
def test_clock_driven_synaptic_equations_take_brians_steps(tmp_path, method):
    brian = _alpha_synapse(method)
    reinit_and_delete()
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="jneuroml")
    try:
        exported = _alpha_synapse(method)
    finally:
        reinit_and_delete()
        set_device("runtime")
    for name, values in brian.items():
        # every sample (Brian integrates these linear equations exactly by default)
        assert np.max(np.abs(exported[name] - values)) <= 1e-6 * np.ptp(values), name
    text = (tmp_path / "model.xml").read_text()
    assert "(step_g__clock - g) / dt" in text


def _wang_buzsaki():
    """Instantaneous m as a subexpression of v: Brian's A*v + B split keeps v in B."""
    start_scope()
    defaultclock.dt = 0.1 * ms
    namespace = {"Cm": 1 * ufarad, "gL": 0.1 * msiemens, "EL": -65 * mV, "ENa": 55 * mV,
                 "EK": -90 * mV, "gNa": 35 * msiemens, "gK": 9 * msiemens}
    cell = NeuronGroup(2, """
        dv/dt = (-gNa*m**3*h*(v-ENa)-gK*n**4*(v-EK)-gL*(v-EL)+Iapp)/Cm : volt
        m = alpha_m/(alpha_m+beta_m) : 1
        alpha_m = 0.1/mV*10*mV/exprel(-(v+35*mV)/(10*mV))/ms : Hz
        beta_m = 4*exp(-(v+60*mV)/(18*mV))/ms : Hz
        dh/dt = 5*(alpha_h*(1-h)-beta_h*h) : 1
        alpha_h = 0.07*exp(-(v+58*mV)/(20*mV))/ms : Hz
        beta_h = 1./(exp(-0.1/mV*(v+28*mV))+1)/ms : Hz
        dn/dt = 5*(alpha_n*(1-n)-beta_n*n) : 1
        alpha_n = 0.01/mV*10*mV/exprel(-(v+34*mV)/(10*mV))/ms : Hz
        beta_n = 0.125*exp(-(v+44*mV)/(80*mV))/ms : Hz
        Iapp : amp""", threshold="v > -20*mV", refractory="v > -20*mV",
        method="exponential_euler", namespace=namespace, name="wb")
    cell.v = -70 * mV
    cell.h = 1
    cell.Iapp = [1, 2] * nA * 1000
    state = StateMonitor(cell, ["v", "h", "n"], record=True, name="wb_state")
    run(50 * ms)
    return {name: np.array(getattr(state, name)) for name in ("v", "h", "n")}


@pytest.mark.skipif(engine_available("jneuroml") is not None,
                    reason=str(engine_available("jneuroml")))
def test_exponential_euler_splits_the_equations_as_brian(tmp_path):
    brian = _wang_buzsaki()
    reinit_and_delete()
    set_device("neuroml2", filename=str(tmp_path / "wb.xml"), simulate="jneuroml")
    try:
        exported = _wang_buzsaki()
    finally:
        reinit_and_delete()
        set_device("runtime")
    assert brian["v"].max() > 0  # it spikes
    for name, values in brian.items():
        assert np.max(np.abs(exported[name] - values)) <= 1e-6 * np.ptp(values), name
