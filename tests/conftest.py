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
