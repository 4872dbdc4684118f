"""
What changes with time, exported to NeuroML/LEMS and simulated in jNeuroML:
TimedArrays of time and of time and neuron index, ``run_regularly``
operations (on a group and on a sub-group) and changes between runs.

Each model is simulated by Brian (runtime device, numpy, Euler) and by
jNeuroML through ``set_device('neuroml2', ..., simulate='jneuroml')``; the
script's monitors must hold the same recordings, every sample and every
spike. What cannot be exported is refused, naming the object and the feature.
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import (
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    TimedArray,
    defaultclock,
    mV,
    ms,
    nA,
    prefs,
    run,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete
from nml_helpers import missing_jneuroml

import brian2tools.nmlexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.baseexport import UnsupportedFeatureError
from brian2tools.nmlexport import NMLExporter

needs_jneuroml = pytest.mark.skipif(missing_jneuroml() is not None,
                                    reason=str(missing_jneuroml()))

#: jNeuroML writes about 7 significant digits
_DIGITS = 1e-6


def _recordings(monitors):
    data = {}
    for name, monitor in monitors.items():
        if isinstance(monitor, StateMonitor):
            data[name] = {"t": np.array(monitor.t[:])}
            for variable in monitor.record_variables:
                data[name][variable] = np.array(getattr(monitor, variable + "_")[:])
        else:
            data[name] = {"t": np.array(monitor.t[:]), "i": np.array(monitor.i[:])}
    return data


def _brian_and_jneuroml(build, folder):
    """The recordings of ``build()`` (which returns its monitors) in Brian and in jNeuroML."""
    prefs.codegen.target = "numpy"
    reinit_and_delete()
    set_device("runtime")
    start_scope()
    brian = _recordings(build())
    reinit_and_delete()
    set_device("neuroml2", filename=str(folder / "model.xml"), simulate="jneuroml")
    try:
        start_scope()
        exported = _recordings(build())
    finally:
        reinit_and_delete()
        set_device("runtime")
    return brian, exported


def _same_recordings(brian, exported, scales):
    """Every sample of every monitor, within jNeuroML's digits of each variable's scale."""
    assert brian.keys() == exported.keys()
    for name, data in brian.items():
        np.testing.assert_allclose(exported[name]["t"], data["t"], rtol=0, atol=1e-9)
        for variable, values in data.items():
            if variable == "t":
                continue
            if variable == "i":
                np.testing.assert_array_equal(exported[name]["i"], values)
                continue
            assert exported[name][variable].shape == values.shape
            np.testing.assert_allclose(exported[name][variable], values, rtol=0,
                                       atol=_DIGITS * scales[variable],
                                       err_msg=f"{name}.{variable}")


def _export_text(build) -> str:
    """The LEMS text of ``build()``'s runs (exporter device, no simulation)."""
    prefs.codegen.target = "numpy"
    reinit_and_delete()
    set_device("exporter")
    try:
        start_scope()
        build()
        from brian2 import device

        exporter = NMLExporter()
        exporter.create_lems_model(device.runs)
        return exporter.to_xml()
    finally:
        reinit_and_delete()
        set_device("runtime")


# ---------------------------------------------------------------------- #
# TimedArray
# ---------------------------------------------------------------------- #
def _timed_array_of_time():
    defaultclock.dt = 0.1 * ms
    # steps of 2.5 ms (not a multiple of 1 ms), negative and zero values, clipped at the end
    stim = TimedArray([0, 2, 2, -1, 0, 3, 1.5, 0] * nA, dt=2.5 * ms)
    group = NeuronGroup(2, """dv/dt = (R*stim(t) - v)/(5*ms) : volt
                              R : ohm""",
                        threshold="v > 8*mV", reset="v = 0*mV", method="euler", name="cells")
    group.R = [4, 6] * (mV / nA)
    state = StateMonitor(group, "v", record=True, name="state")
    spikes = SpikeMonitor(group, name="spikes")
    run(25 * ms)
    return {"state": state, "spikes": spikes}


@needs_jneuroml
def test_timed_array_of_time_every_sample(tmp_path):
    brian, exported = _brian_and_jneuroml(_timed_array_of_time, tmp_path)
    assert len(brian["spikes"]["t"]) > 0
    _same_recordings(brian, exported, {"v": 0.01})
