"""
Helpers for the NeuroML export tests: export a model, simulate it with Brian
and with jNeuroML, and compare the recordings.

A *model builder* is a function ``build(method)`` that creates Brian objects
(with ``method`` as integration method) and returns a `ModelSpec`. The same
builder is used twice: once with the ``'neuroml2'`` device (export), once
with the runtime device and ``method='euler'`` (reference), both after
``seed(spec_seed)`` so that random initial values are the same.

jNeuroML is the jar shipped in the pyneuroml wheel, run with the machine's
Java: ``java -jar <jar> model.xml -nogui`` in the model's folder (jNeuroML
writes recordings relative to its working directory).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from brian2 import (
    Network,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
    defaultclock,
    seed,
    set_device,
    start_scope,
)
from brian2.devices.device import reinit_and_delete


@dataclass
class ModelSpec:
    """What a model builder made: the objects, their namespace and the run() durations."""

    objects: list
    namespace: dict = field(default_factory=dict)
    durations: list = field(default_factory=list)


def jneuroml_jar() -> str | None:
    """The jNeuroML jar inside the installed pyneuroml package (None if not installed)."""
    spec = importlib.util.find_spec("pyneuroml")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        jars = sorted(glob.glob(os.path.join(location, "lib", "jNeuroML-*-jar-with-dependencies.jar")))
        if jars:
            return jars[-1]
    return None


def missing_jneuroml() -> str | None:
    """Why jNeuroML cannot be run here, or None if it can."""
    if shutil.which("java") is None:
        return "no Java runtime on this machine (needed to run jNeuroML)"
    if jneuroml_jar() is None:
        return "pyneuroml (which ships the jNeuroML jar) is not installed"
    return None


def start_jneuroml(model_file: str | os.PathLike) -> subprocess.Popen:
    """Start jNeuroML on a model, in the model's folder; its log goes to ``<model>.log``."""
    model_file = Path(model_file)
    log = open(model_file.with_suffix(".log"), "w")  # noqa: SIM115 -- closed in finish_jneuroml
    process = subprocess.Popen(
        ["java", "-jar", jneuroml_jar(), model_file.name, "-nogui"],
        cwd=model_file.parent, stdout=log, stderr=subprocess.STDOUT,
    )
    process.log_file = log
    process.log_path = model_file.with_suffix(".log")
    return process


def finish_jneuroml(process: subprocess.Popen, timeout: float = 300) -> str:
    """Wait for jNeuroML; returns its log (raises if it failed)."""
    process.wait(timeout=timeout)
    process.log_file.close()
    log = process.log_path.read_text()
    if process.returncode != 0 or "Finished reading, building, running" not in log:
        raise RuntimeError(f"jNeuroML failed (exit code {process.returncode}):\n{log[-3000:]}")
    return log


def run_jneuroml(model_file: str | os.PathLike) -> str:
    """Run jNeuroML on a model and return its log."""
    return finish_jneuroml(start_jneuroml(model_file))


def severe_lines(log: str) -> list[str]:
    """The lines of a jNeuroML log that report a SEVERE problem."""
    return [line for line in log.splitlines() if "SEVERE" in line]


def _run(spec: ModelSpec) -> None:
    network = Network(spec.objects)
    for duration in spec.durations:
        network.run(duration, namespace=spec.namespace)


def export_model(build, folder: str | os.PathLike, name: str = "model", random_seed: int = 1,
                 method: str = "euler", **options) -> Path:
    """Export a model built by ``build(method)`` with the 'neuroml2' device; returns the model file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model_file = folder / f"{name}.xml"
    start_scope()
    set_device("neuroml2", filename=str(model_file), **options)
    try:
        seed(random_seed)
        _run(build(method))
    finally:
        reinit_and_delete()
        set_device("runtime")
    return model_file


def simulate_brian(build, random_seed: int = 1, method: str = "euler") -> dict:
    """Simulate a model built by ``build(method)`` with Brian; returns its monitors' data."""
    start_scope()
    seed(random_seed)
    spec = build(method)
    _run(spec)
    results = {}
    for obj in spec.objects:
        if isinstance(obj, StateMonitor):
            data = {"t": np.array(obj.t[:]), "record": np.array(obj.record)}
            for variable in obj.record_variables:
                data[variable] = np.array(getattr(obj, variable))
            results[obj.name] = data
        elif isinstance(obj, SpikeMonitor):
            results[obj.name] = {"t": np.array(obj.t[:]), "i": np.array(obj.i[:])}
    results["dt"] = float(defaultclock.dt)
    return results


def compare_traces(brian: dict, jneuroml: dict, variable: str, tolerance: float = 1e-6):
    """Assert that jNeuroML's trace of ``variable`` matches Brian's within ``tolerance`` of its scale."""
    expected = brian[variable]
    steps = expected.shape[1]
    np.testing.assert_array_equal(jneuroml["record"], brian["record"])
    got = np.asarray(jneuroml[variable])[:, :steps]
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(np.asarray(jneuroml["t"])[:steps], brian["t"], rtol=0, atol=1e-12)
    for row, (trace, reference) in enumerate(zip(got, expected, strict=True)):
        scale = max(np.max(np.abs(reference)), np.ptp(reference))
        if scale == 0:
            scale = 1.0
        error = np.max(np.abs(trace - reference))
        assert error <= tolerance * scale, (
            f"{variable} of neuron {brian['record'][row]}: max difference {error:.3g} "
            f"exceeds {tolerance} of the scale {scale:.3g}"
        )


def compare_spikes(brian: dict, jneuroml: dict, dt: float, neurons=None):
    """Assert identical spike trains, jNeuroML's one time step after Brian's."""
    indices = set(np.unique(brian["i"])) | set(np.unique(jneuroml["i"]))
    if neurons is not None:
        indices |= set(neurons)
    for index in sorted(indices):
        expected = np.sort(brian["t"][brian["i"] == index]) + dt
        got = np.sort(np.asarray(jneuroml["t"])[np.asarray(jneuroml["i"]) == index])
        assert len(got) == len(expected), (
            f"neuron {index}: {len(got)} spikes in jNeuroML, {len(expected)} in Brian"
        )
        np.testing.assert_allclose(got, expected, rtol=0, atol=dt * 1e-3,
                                   err_msg=f"spike times of neuron {index}")


#: Skips a test when jNeuroML cannot run here (no jar or no Java)
needs_jneuroml = pytest.mark.skipif(missing_jneuroml() is not None,
                                    reason=str(missing_jneuroml()))


def monitor_data(monitors: dict) -> dict:
    """
    Copies (SI floats) of what monitors recorded, by name: times and variables of
    StateMonitors, times and rates of PopulationRateMonitors, and times, indices,
    recorded variables and counts of spike and event monitors.
    """
    data = {}
    for name, monitor in monitors.items():
        if isinstance(monitor, StateMonitor):
            data[name] = {"t": np.array(monitor.t_[:])}
            for variable in monitor.record_variables:
                data[name][variable] = np.array(getattr(monitor, variable + "_")[:])
        elif isinstance(monitor, PopulationRateMonitor):
            data[name] = {"t": np.array(monitor.t_[:]), "rate": np.array(monitor.rate_[:])}
        else:
            data[name] = {"t": np.array(monitor.t_[:]), "i": np.array(monitor.i[:])}
            for variable in monitor.record_variables:
                if variable not in ("t", "i"):
                    data[name][variable] = np.array(getattr(monitor, variable + "_")[:])
            data[name]["count"] = np.array(monitor.count[:])
    return data
