"""
Integration methods: Brian's ``exponential_euler`` steps in jNeuroML.

A Hodgkin-Huxley cell (Traub and Miles' rates, as in Brian's COBAHH
example) integrated by Brian with ``method='exponential_euler'`` at
dt = 0.1 ms, where forward Euler is not Brian's step; the export must give
Brian's traces and spikes in jNeuroML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from brian2 import (
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
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
        for variable in ("v", "m", "h", "n"):
            # f * exprel(A*dt) for jNeuroML; NEURON integrates f itself
            assert ("- 1) / (" in derivatives[variable]) is not portable, variable


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
