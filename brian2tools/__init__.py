"""
brian2tools: tools for the Brian 2 simulator.

``from brian2tools import *`` gives the plotting functions (and nothing that
would shadow a Brian name). The exporters are devices: import
:mod:`brian2tools.nmlexport` (NeuroML2/LEMS), :mod:`brian2tools.mdexport`
(Markdown) or :mod:`brian2tools.baseexport` (the plain model description) and
select them with Brian's ``set_device``.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _package_version

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
