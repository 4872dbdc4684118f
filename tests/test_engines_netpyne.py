"""
The NetPyNE engine: an exported model simulated by NetPyNE on one and two MPI ranks.

The model is deterministic (LIF cells with refractoriness, v0 taking four
values, exported in the portable form), so distributing the cells over two
ranks must change nothing: the spikes (times and indices) and the traces of
two ranks equal those of one rank, and the spikes equal those of the NEURON
engine (both integrate the same generated mechanisms with NEURON). NetPyNE
records the samples of [0, duration) (one row fewer than NEURON), and at
the sample of a spike it records either the value that crossed the
threshold (as NEURON) or already the reset (NetPyNE samples with events at
fixed times, which can come after the spike's event at the same time);
elsewhere the traces agree to within 1e-8 V.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from brian2 import (
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    defaultclock,
    ms,
    prefs,
    run,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete

import brian2tools.nmlexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.nmlexport.engines import EngineError, engine_available, simulate
from brian2tools.nmlexport.recordings import load_recordings

pytestmark = pytest.mark.slow

DT = 0.1 * ms
DURATION = 60 * ms


def _lif():
    """Eight LIF cells with refractoriness, v0 taking four values (two cells stay silent)."""
    start_scope()
    defaultclock.dt = DT
    eqs = """
    dv/dt = (v0 - v) / tau : volt (unless refractory)
    v0 : volt
    """
    group = NeuronGroup(8, eqs, threshold="v > 10*mV", reset="v = 0*mV", refractory=5 * ms,
                        method="linear", namespace={"tau": 10 * ms}, name="lif")
    group.v = "i * 0.5*mV"
    group.v0 = "(8 + 4*(i % 4))*mV"   # 8 mV: never reaches the threshold
    state = StateMonitor(group, "v", record=[0, 1, 7], name="lif_v")
    spikes = SpikeMonitor(group, name="lif_spikes")
    run(DURATION)
    return state, spikes


def _adaptive():
    """LIF with an adaptation variable ``w`` (a second state variable, recorded)."""
    start_scope()
    defaultclock.dt = DT
    eqs = """
    dv/dt = (v0 - v - w) / tau : volt
    dw/dt = -w / tau_w : volt
    v0 : volt
    """
    group = NeuronGroup(3, eqs, threshold="v > 10*mV", reset="v = 0*mV; w += 2*mV",
                        method="linear", namespace={"tau": 10 * ms, "tau_w": 30 * ms},
                        name="adaptive")
    group.v0 = "(15 + 5*i)*mV"
    state = StateMonitor(group, ["v", "w"], record=[0, 2], name="adaptive_vw")
    spikes = SpikeMonitor(group, name="adaptive_spikes")
    run(DURATION)
    return state, spikes


def _export(folder, build=_lif):
    name = build.__name__[1:]
    set_device("neuroml2", filename=str(folder / f"{name}.xml"), portable=True)
    try:
        build()
    finally:
        reinit_and_delete()
        set_device("runtime")
    return folder / f"{name}.xml"


def _brian():
    prefs.codegen.target = "numpy"
    state, spikes = _lif()
    return np.array(spikes.t[:]), np.array(spikes.i[:])


def _skip_without(*engines):
    for engine in engines:
        reason = engine_available(engine)
        if reason is not None:
            pytest.skip(reason)


def _run(lems_file, engine, ranks=1):
    """Simulate; the spikes (sorted by time, then index) and the trace rows."""
    result = simulate(lems_file, engine, ranks=ranks, timeout=300)
    folder, name = lems_file.parent, f"recording_{lems_file.stem}"
    spikes = np.loadtxt(folder / f"{name}.spikes", ndmin=2)
    order = np.lexsort((spikes[:, 1], spikes[:, 0]))
    traces = np.loadtxt(folder / f"{name}.dat", ndmin=2)
    kept = folder / f"{engine}_{ranks}"  # the next run overwrites the recordings
    kept.mkdir()
    for suffix in (".spikes", ".dat"):
        shutil.copy(folder / (name + suffix), kept / (name + suffix))
    return result, spikes[order], traces


def _differ_only_at_spikes(traces, traces_n, spikes, recorded):
    """Whether NetPyNE's trace columns equal NEURON's but at samples of spikes."""
    samples = len(traces)
    differ = np.abs(traces[:, 1:] - traces_n[:samples, 1:]) > 1e-8
    at_spikes = np.zeros_like(differ)
    for column, index in enumerate(recorded):
        steps = np.round(spikes[spikes[:, 1] == index, 0] / float(DT)).astype(int)
        at_spikes[steps[steps < samples], column] = True
    return not np.any(differ & ~at_spikes), differ, at_spikes


def test_two_ranks_give_the_spikes_and_traces_of_one_rank_and_of_neuron(tmp_path):
    _skip_without("netpyne", "neuron")
    lems_file = _export(tmp_path)
    one, spikes_1, traces_1 = _run(lems_file, "netpyne", 1)
    two, spikes_2, traces_2 = _run(lems_file, "netpyne", 2)
    nrn, spikes_n, traces_n = _run(lems_file, "neuron", 1)

    # where the recordings are and how the runs went
    assert one.ranks == 1 and two.ranks == 2
    assert two.work_folder == tmp_path / "lif_netpyne"
    assert two.recordings == [tmp_path / "recording_lif.dat", tmp_path / "recording_lif.spikes"]
    assert "numprocs=2" in two.log and "2 workers" in two.log
    assert "numprocs=1" in one.log
    assert set(two.step_times) == {"jnml", "nrnivmodl", "simulation"}

    # spikes: 'time index' lines in seconds, the same on 1 and 2 ranks and in NEURON
    assert spikes_2.shape[1] == 2 and len(spikes_2) > 15
    assert set(spikes_2[:, 1].astype(int)) == {1, 2, 3, 5, 6, 7}
    np.testing.assert_array_equal(spikes_2, spikes_1)
    np.testing.assert_array_equal(spikes_2, spikes_n)

    # and Brian's spikes within the stated NEURON tolerance (0.5 ms)
    brian_t, brian_i = _brian()
    for index in range(8):
        ours = spikes_2[spikes_2[:, 1] == index, 0]
        theirs = brian_t[brian_i == index]
        assert len(ours) == len(theirs), index
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=0.5e-3)

    # traces: time + three columns in volts; 2 ranks exactly as 1 rank
    np.testing.assert_array_equal(traces_2, traces_1)
    samples = int(round(float(DURATION / DT)))
    assert traces_2.shape == (samples, 4)
    assert traces_n.shape == (samples + 1, 4)
    np.testing.assert_allclose(traces_2[:, 0], np.arange(samples) * float(DT), atol=1e-12)
    assert 0.009 < traces_2[:, 3].max() <= 0.0101  # cell 7: up to the threshold, in volts
    # the same values as NEURON's but at some samples of the spikes, where
    # NetPyNE may already show the reset
    only_there, differ, at_spikes = _differ_only_at_spikes(traces_2, traces_n, spikes_2,
                                                           [0, 1, 7])
    assert only_there and at_spikes[:, 2].sum() >= 5
    assert np.all(np.abs(traces_2[:, 1:][differ]) < 1e-9)  # the reset, 0 V
    assert np.all(traces_n[:samples, 1:][at_spikes] > 0.01)  # NEURON: above the threshold

    # Brian's reader takes NetPyNE's files as written
    recordings = load_recordings(lems_file, tmp_path / "netpyne_2")
    assert len(recordings["lif_spikes"]["t"]) == len(spikes_2)
    assert recordings["lif_v"]["v"].shape == (3, samples)


def test_a_second_state_variable_is_recorded_from_the_cells_mechanism(tmp_path):
    _skip_without("netpyne", "neuron")
    lems_file = _export(tmp_path, _adaptive)
    two, spikes_2, traces_2 = _run(lems_file, "netpyne", 2)
    nrn, spikes_n, traces_n = _run(lems_file, "neuron", 1)
    assert "'pointp':'adaptive__cell2','var':'w'" in \
        (two.work_folder / "adaptive_netpyne.py").read_text()
    np.testing.assert_array_equal(spikes_2, spikes_n)
    assert set(spikes_2[:, 1].astype(int)) == {0, 1, 2}
    # columns: t, v of cells 0 and 2, w of cells 0 and 2 (volts)
    assert traces_2.shape == (600, 5)
    only_there, differ, at_spikes = _differ_only_at_spikes(traces_2, traces_n, spikes_2,
                                                           [0, 2, 0, 2])
    assert only_there
    w = traces_2[:, 3:]
    assert np.all(w[0] == 0) and 0.002 < w.max() < 0.02
    # w jumps by 2 mV at (or one sample after) each spike and decays in between
    jumps = np.diff(w[:, 0]) > 1e-3
    assert jumps.sum() == np.sum(spikes_2[:, 1] == 0) - np.sum(spikes_2[:, 0] >= 0.0599)


def test_a_failing_netpyne_run_raises_an_engine_error(tmp_path):
    _skip_without("netpyne")
    lems_file = _export(tmp_path)
    # NetPyNE refuses a population called 'pop' ("Giving up") and exits with status 0
    text = lems_file.read_text().replace('"lif__3"', '"pop"').replace(
        '"lif__3[0]', '"pop[0]')
    lems_file.write_text(text)
    with pytest.raises(EngineError) as caught:
        simulate(lems_file, "netpyne", ranks=2, timeout=300)
    assert caught.value.engine == "netpyne" and caught.value.step == "simulation"
    assert "Giving up" in str(caught.value)


def test_ranks_must_be_a_positive_integer_for_netpyne_only(tmp_path):
    lems_file = _export(tmp_path)
    with pytest.raises(ValueError, match="positive integer"):
        simulate(lems_file, "netpyne", ranks=0)
    with pytest.raises(ValueError, match="positive integer"):
        simulate(lems_file, "netpyne", ranks=1.5)
    with pytest.raises(ValueError, match="Only the 'netpyne' engine"):
        simulate(lems_file, "neuron", ranks=2)
