"""
brian2tools: tools for the Brian 2 simulator.

``from brian2tools import *`` gives the plotting functions (and nothing that
would shadow a Brian name). The exporters are Brian devices, known to
``set_device`` as soon as brian2tools is imported: ``'neuroml2'``
(NeuroML2/LEMS, :mod:`brian2tools.nmlexport`), ``'markdown'``
(:mod:`brian2tools.mdexport`) and ``'exporter'`` (the plain model
description, :mod:`brian2tools.baseexport`). Each is loaded when it is
first used (see :mod:`brian2tools.devices`), so importing brian2tools only
to plot costs nothing more.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version

from .devices import register_export_devices
from .plotting import (
    add_background_pattern,
    brian_plot,
    plot_dendrogram,
    plot_morphology,
    plot_raster,
    plot_rate,
    plot_state,
    plot_synapses,
)

register_export_devices()

try:
    __version__ = _package_version("brian2tools")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0.dev0"

__all__ = [
    "brian_plot",
    "plot_raster",
    "plot_rate",
    "plot_state",
    "plot_synapses",
    "add_background_pattern",
    "plot_dendrogram",
    "plot_morphology",
    "__version__",
]

# Names that scripts written for brian2tools 0.3 import from the package
# itself; loaded on first use, so that importing brian2tools stays light.
_LAZY_NAMES = {"MdExpander": "brian2tools.mdexport"}


def __getattr__(name):
    if name in _LAZY_NAMES:
        import importlib

        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    raise AttributeError(f"module 'brian2tools' has no attribute {name!r}")
