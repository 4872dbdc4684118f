"""
Noise (``xi``) in exported equations, judged statistically in jNeuroML and NEURON.

The engines draw their own random numbers, so a stochastic export cannot
reproduce Brian's samples. The tests compare what the noise must give: the
stationary variance of Ornstein–Uhlenbeck processes (theory of the
Euler–Maruyama scheme, and Brian), the firing rate of a noisy LIF
population, the same draw for a noise variable shared by two equations
(exactly), and independent draws for different noise variables.
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import (
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    defaultclock,
    ms,
    mV,
    run,
    seed,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete

import brian2tools.nmlexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.baseexport import UnsupportedFeatureError
from brian2tools.nmlexport.engines import engine_available
from brian2tools.nmlexport.noise import noise_terms

DT = 0.1 * ms
TAU = 5 * ms
SIGMA = 2 * mV
DURATION = 400 * ms
#: samples before this time are left out of the variances: 5 time constants from v = 0
BURN_IN = 25 * ms
#: the stationary variance of x += -x*dt/tau + sigma*sqrt(2*dt/tau)*n
EULER_VARIANCE = float(SIGMA) ** 2 / (1 - float(DT / TAU) / 2)


def _noise_model(diffusion_form: bool = True):
    """
    Four groups: OU written two ways, a shared/independent noise trio, a noisy LIF.

    The second way, ``sqrt(2*D)*xi``, has a constant ``D`` in volt squared per
    second, a dimension that NeuroML does not declare and NEURON's code
    generator refuses (by name): without ``diffusion_form`` it is left out.
    """
    start_scope()
    seed(11)
    defaultclock.dt = DT
    namespace = {"tau": TAU, "sigma": SIGMA, "D": SIGMA ** 2 / TAU, "mu": 9 * mV,
                 "s": 1.5 * mV}
    # thresholds that are never reached: NEURON's cells need one (the portable form)
    never = {"threshold": "v > 1*volt", "reset": "", "method": "euler", "namespace": namespace}
    ou = NeuronGroup(200, "dv/dt = -v/tau + sigma*sqrt(2/tau)*xi : volt", name="ou", **never)
    if diffusion_form:
        diffusion = NeuronGroup(200, "dv/dt = -v/tau + sqrt(2*D)*xi : volt", name="diffusion",
                                **never)
        diffusion_state = StateMonitor(diffusion, "v", record=True, name="diffusion_state")
    # NEURON integrates v apart from the mechanism's states: the shared draw is
    # compared between two of the latter
    trio = NeuronGroup(40, """dv/dt = -v/tau : volt
                              du/dt = -u/tau + s*sqrt(2/tau)*xi_1 : volt
                              dw/dt = -w/tau - s*sqrt(2/tau)*xi_1 : volt
                              dz/dt = -z/tau + s*sqrt(2/tau)*xi_2 : volt""",
                       name="trio", **never)
    lif = NeuronGroup(300, "dv/dt = (mu - v)/tau + sigma*sqrt(2/tau)*xi : volt "
                           "(unless refractory)",
                      threshold="v > 10*mV", reset="v = 0*mV", refractory=2 * ms,
                      method="euler", name="lif", namespace=namespace)
    # run() finds the objects among the local names (not inside a dict)
    ou_state = StateMonitor(ou, "v", record=True, name="ou_state")
    trio_state = StateMonitor(trio, ["u", "w", "z"], record=True, name="trio_state")
    lif_spikes = SpikeMonitor(lif, name="lif_spikes")
    run(DURATION)
    monitors = {"ou": ou_state, "trio": trio_state, "lif": lif_spikes}
    return {"t": np.array(monitors["ou"].t[:]),
            "ou": np.array(monitors["ou"].v[:]),
            "diffusion": np.array(diffusion_state.v[:]) if diffusion_form else None,
            "x": np.array(monitors["trio"].u[:]), "y": np.array(monitors["trio"].w[:]),
            "z": np.array(monitors["trio"].z[:]),
            "spikes": int(monitors["lif"].num_spikes)}


def _simulate(engine: str | None, folder) -> dict:
    if engine is not None:
        set_device("neuroml2", filename=str(folder / f"noise_{engine}.xml"), simulate=engine)
    try:
        return _noise_model(diffusion_form=engine != "neuron")
    finally:
        reinit_and_delete()
        set_device("runtime")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("noise")
    results = {"brian": _simulate(None, folder)}
    for engine in ("jneuroml", "neuron"):
        if engine_available(engine) is None:
            results[engine] = _simulate(engine, folder)
    return results


def _stationary(recording: dict, name: str) -> np.ndarray:
    return recording[name][:, recording["t"] >= float(BURN_IN)]


@pytest.mark.parametrize("engine", ["brian", "jneuroml", "neuron"])
def test_ornstein_uhlenbeck_variance_in_each_engine(recordings, engine):
    if engine not in recordings:
        pytest.skip(engine_available(engine))
    recording, brian = recordings[engine], recordings["brian"]
    assert recording["ou"].shape == brian["ou"].shape == (200, int(DURATION / DT))
    for name in ("ou", "diffusion"):  # sigma*sqrt(2/tau)*xi and sqrt(2*D)*xi
        if recording[name] is None:
            continue  # not in NEURON (see _noise_model)
        samples = _stationary(recording, name)
        # about 7500 independent samples: the variance within 5 % (3 standard errors)
        assert abs(samples.var() - EULER_VARIANCE) <= 0.05 * EULER_VARIANCE, (name, samples.var())
        assert abs(samples.mean()) <= 0.05 * float(SIGMA), name
        assert abs(samples.var() - _stationary(brian, name).var()) <= 0.05 * EULER_VARIANCE
        # it starts at 0 and is not a constant
        assert np.all(recording[name][:, 0] == 0)
        assert np.all(np.std(samples, axis=1) > 0.5 * float(SIGMA))


@pytest.mark.parametrize("engine", ["jneuroml", "neuron"])
def test_a_shared_noise_variable_is_one_draw_and_others_are_independent(recordings, engine):
    if engine not in recordings:
        pytest.skip(engine_available(engine))
    recording = recordings[engine]
    x, y, z = recording["x"], recording["y"], recording["z"]
    # du = ... + s*xi_1, dw = ... - s*xi_1 from 0: w == -u at every sample
    scale = np.max(np.abs(x))
    assert scale > 1e-3
    np.testing.assert_allclose(y, -x, rtol=0, atol=1e-6 * scale)
    # xi_2 is another draw: x and z are uncorrelated (40 cells, ~1500 samples each)
    correlation = np.corrcoef(x[:, 250:].ravel(), z[:, 250:].ravel())[0, 1]
    assert abs(correlation) < 0.1, correlation
    expected = (1.5e-3) ** 2 / (1 - float(DT / TAU) / 2)
    assert abs(z[:, 250:].var() - expected) < 0.15 * expected


@pytest.mark.parametrize("engine", ["jneuroml", "neuron"])
def test_noisy_lif_population_fires_at_brians_rate(recordings, engine):
    if engine not in recordings:
        pytest.skip(engine_available(engine))
    brian_spikes = recordings["brian"]["spikes"]
    assert brian_spikes > 2000  # about 37 Hz: a Poisson spread of 2 %
    assert abs(recordings[engine]["spikes"] - brian_spikes) <= 0.10 * brian_spikes


def test_the_noise_amplitude_is_written_with_whole_dimensions():
    units = {"v": mV, "tau": ms, "sigma": mV, "D": mV ** 2 / ms}
    drift, amplitudes, constants = noise_terms("-v/tau + sigma*sqrt(2/tau)*xi", "v", "cells",
                                               units)
    assert drift == "-v/tau"
    assert amplitudes == {"xi": "(sigma) * sqrt(2*dt/tau)"}
    assert constants == {}
    # the same amplitude however the square roots are written
    for written in ("sigma*sqrt(2)/sqrt(tau)*xi", "sigma*xi/sqrt(tau)*sqrt(2)",
                    "sigma*sqrt(2*tau)/tau*xi"):
        assert noise_terms(written, "v", "cells", units)[1] == amplitudes
    # a square root with a squared dimension keeps its unit outside
    _, amplitudes, constants = noise_terms("sqrt(2*D)*xi", "v", "cells", units)
    assert amplitudes["xi"] == "(1) * sqrt((2*D*dt) / v__xi__unit**2) * v__xi__unit"
    assert float(constants["v__xi__unit"]) == 1.0
    assert constants["v__xi__unit"].dim == mV.dim
    # without noise, nothing changes
    assert noise_terms("-v/tau", "v", "cells", units) == ("-v/tau", {}, {})


def test_noise_with_a_fractional_dimension_is_refused_by_name(tmp_path):
    with pytest.raises(UnsupportedFeatureError,
                       match=r"'cells'.*noise term 'sigma/tau\*\*0.25\*xi'.*fractional"):
        noise_terms("-v/tau + sigma*xi/tau**0.25", "v", "cells", {"v": mV, "tau": ms,
                                                                   "sigma": mV})
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    try:
        start_scope()
        group = NeuronGroup(1, "dv/dt = -v/tau + v*xi/sqrt(tau) : 1", method="milstein",
                            namespace={"tau": 10 * ms}, name="multiplicative")
        with pytest.raises(UnsupportedFeatureError,
                           match=r"'multiplicative'.*'v/sqrt\(tau\)\*xi' of v.*depends on v"):
            run(1 * ms)
        assert group.N == 1
    finally:
        reinit_and_delete()
        set_device("runtime")
