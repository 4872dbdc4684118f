"""
The results of an export back in the script: ``simulate=`` fills the monitors,
and without it reading a monitor says that nothing was simulated.

The documentation's model is run twice, with Brian's runtime device and with
``set_device('neuroml2', ..., simulate='jneuroml')``; the script's own
monitors must then hold the same recordings (every sample, every spike), and
the documentation's plotting code must draw them.
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from brian2 import (
    NeuronGroup,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
    defaultclock,
    ms,
    mV,
    run,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete
from nml_helpers import missing_jneuroml, needs_jneuroml

import brian2tools.nmlexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools import brian_plot
from brian2tools.baseexport.monitors import NotSimulatedError
from brian2tools.nmlexport.engines import engine_available


def _documented_model(duration=100 * ms, method="linear"):
    """
    The model of the documentation's export example, with a rate monitor.

    The export writes Brian's exact steps for ``method='linear'``, so the
    jNeuroML run is compared with Brian's linear integration; NEURON
    integrates with its own method.
    """
    start_scope()
    defaultclock.dt = 0.1 * ms
    tau = 10 * ms
    eqs = """
    dv/dt = (v0 - v) / tau : volt (unless refractory)
    v0 : volt
    """
    group = NeuronGroup(100, eqs, threshold="v > 10*mV", reset="v = 0*mV",
                        refractory=5 * ms, method=method, namespace={"tau": tau})
    group.v = 0 * mV
    group.v0 = "20*mV * i / (N-1)"
    state = StateMonitor(group, "v", record=[2, 63])
    spikes = SpikeMonitor(group)
    rate = PopulationRateMonitor(group)
    run(duration)
    return state, spikes, rate


def _recordings(state, spikes, rate):
    # copies: the monitors' memory is released with the device
    return {"t": np.array(state.t[:]), "v": np.array(state.v[:]),
            "spike_t": np.array(spikes.t[:]), "spike_i": np.array(spikes.i[:]),
            "count": np.array(spikes.count[:]), "num_spikes": int(spikes.num_spikes),
            "rate_t": np.array(rate.t[:]), "rate": np.array(rate.rate[:])}


@pytest.fixture(scope="module")
def brian_and_jneuroml(tmp_path_factory):
    if missing_jneuroml() is not None:
        pytest.skip(missing_jneuroml())
    folder = tmp_path_factory.mktemp("simulate")
    brian = _recordings(*_documented_model())
    reinit_and_delete()
    set_device("neuroml2", filename=str(folder / "nml2model.xml"), simulate="jneuroml")
    try:
        monitors = _documented_model()
        exported = _recordings(*monitors)
        axes = brian_plot(monitors[1])
        drawn = np.asarray(axes.lines[0].get_xydata()) if axes.lines else np.asarray(
            axes.collections[0].get_offsets())
    finally:
        reinit_and_delete()
        set_device("runtime")
    return brian, exported, drawn, folder


@needs_jneuroml
def test_simulate_fills_the_state_monitor_with_every_sample(brian_and_jneuroml):
    brian, exported, _, _ = brian_and_jneuroml
    np.testing.assert_array_equal(exported["t"], brian["t"])
    assert exported["v"].shape == brian["v"].shape == (2, 1000)
    # jNeuroML writes about 7 significant digits; 1e-6 of the 0..10 mV scale
    np.testing.assert_allclose(exported["v"], brian["v"], rtol=0, atol=1e-6 * 0.01)


@needs_jneuroml
def test_simulate_fills_the_spike_and_rate_monitors_with_brians_spikes(brian_and_jneuroml):
    brian, exported, _, _ = brian_and_jneuroml
    assert exported["num_spikes"] == brian["num_spikes"] > 100
    np.testing.assert_array_equal(exported["spike_i"], brian["spike_i"])
    np.testing.assert_allclose(exported["spike_t"], brian["spike_t"], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(exported["count"], brian["count"])
    np.testing.assert_array_equal(exported["rate_t"], brian["rate_t"])
    np.testing.assert_allclose(exported["rate"], brian["rate"], rtol=1e-9)


@needs_jneuroml
def test_simulated_recordings_are_plotted_by_the_documented_code(brian_and_jneuroml):
    brian, _, drawn, folder = brian_and_jneuroml
    # brian_plot(spikemonitor) draws the raster of the simulated spikes, in ms
    np.testing.assert_allclose(np.sort(drawn[:, 0]), np.sort(brian["spike_t"] / 1e-3),
                               atol=1e-6)
    assert sorted(os.listdir(folder))[:3] == ["LEMSUnitsConstants.xml", "nml2model.xml",
                                              "recording_nml2model.dat"]


def test_without_simulate_reading_a_monitor_says_the_model_was_exported(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    state, spikes, rate = _documented_model(duration=1 * ms)
    for read in (lambda: state.v, lambda: state.t[:], lambda: spikes.t[:], lambda: spikes.i[:],
                 lambda: spikes.count[:], lambda: rate.rate[:], lambda: spikes.num_spikes):
        with pytest.raises(NotSimulatedError, match="exported the model instead of simulating"):
            read()
    # a plot of it is refused too, instead of an empty raster
    with pytest.raises(NotSimulatedError, match=f"'{spikes.name}'"):
        brian_plot(spikes)
    # what the script set up is still readable
    assert list(state.record) == [2, 63]
    assert os.path.exists(tmp_path / "model.xml")


def test_the_refusal_pickles_for_multiprocessing():
    error = NotSimulatedError("spikemonitor", "neuroml2")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is NotSimulatedError and str(copy) == str(error)
    assert isinstance(copy, NotImplementedError)


def test_an_unknown_engine_is_refused_before_anything_is_written(tmp_path):
    set_device("neuroml2", filename=str(tmp_path / "model.xml"), simulate="nest")
    with pytest.raises(ValueError, match="cannot simulate with 'nest'.*'jneuroml'"):
        _documented_model(duration=1 * ms)
    assert not os.path.exists(tmp_path / "model.xml")


@pytest.mark.skipif(engine_available("neuron") is not None,
                    reason=str(engine_available("neuron")))
def test_the_documented_model_runs_in_neuron_like_brian(tmp_path):
    # every cell has its own v0: 100 components, compiled as one NEURON mechanism
    brian = _recordings(*_documented_model(duration=200 * ms, method="euler"))
    reinit_and_delete()
    set_device("neuroml2", filename=str(tmp_path / "nml2model.xml"), simulate="neuron")
    try:
        monitors = _documented_model(duration=200 * ms)
        nrn = _recordings(*monitors)
        axes = brian_plot(monitors[1])
        drawn = np.asarray(axes.collections[0].get_offsets()) if axes.collections else \
            np.asarray(axes.lines[0].get_xydata())
    finally:
        reinit_and_delete()
        set_device("runtime")
    assert len(list((tmp_path / "nml2model_neuron").glob("*.mod"))) == 1
    assert nrn["num_spikes"] == brian["num_spikes"] > 300
    np.testing.assert_array_equal(nrn["count"], brian["count"])
    for index in np.unique(brian["spike_i"]):
        np.testing.assert_allclose(nrn["spike_t"][nrn["spike_i"] == index],
                                   brian["spike_t"][brian["spike_i"] == index], rtol=0,
                                   atol=0.5e-3)
    # the documentation's plot draws what NEURON simulated
    np.testing.assert_allclose(np.sort(drawn[:, 0]), np.sort(nrn["spike_t"] / 1e-3), atol=1e-6)
