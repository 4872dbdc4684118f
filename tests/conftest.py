"""Shared test set-up: a headless backend, fast code generation, no figure leaks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from brian2 import prefs, set_device, start_scope  # noqa: E402
from brian2.devices.device import reinit_and_delete  # noqa: E402


@pytest.fixture(autouse=True)
def _brian_and_figures():
    """Numpy code generation, a fresh Brian scope and runtime device, and every figure closed."""
    prefs.codegen.target = "numpy"
    start_scope()
    yield
    plt.close("all")
    reinit_and_delete()
    set_device("runtime")
    prefs.codegen.target = "numpy"


# Tests that run an engine (jNeuroML, NEURON, NetPyNE), a browser, whole
# scripts in subprocesses, or large documented models: `pytest -m "not slow"`
# leaves them out for a quick check (CI runs everything).
_SLOW_MODULES = {
    "test_engines", "test_engines_netpyne", "test_nmlexport_portable",
    "test_nmlexport_simulate", "test_documented_scripts", "test_mdexport_browser",
    "test_mdexport_cli", "test_nmlexport_cli", "test_compat_devices",
}
_SLOW_WORDS = ("jneuroml", "neuron", "jnml", "validates", "netpyne")


def pytest_collection_modifyitems(config, items):
    """Mark the slow tests (see above) with ``slow``."""
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if (module in _SLOW_MODULES or any(word in item.name.lower() for word in _SLOW_WORDS)
                or "simulated" in getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
