"""
Plotting of Brian 2 objects and simulation results.

:func:`brian_plot` picks a suitable plot for a Brian object; the specific
functions (:func:`plot_raster`, :func:`plot_rate`, :func:`plot_state`,
:func:`plot_synapses`, :func:`plot_dendrogram`, :func:`plot_morphology`)
give full control over the details.
"""

# Importing the modules registers their types with the brian_plot dispatcher.
from .base import add_background_pattern, brian_plot
from .data import plot_raster, plot_rate, plot_state
from .morphology import plot_dendrogram, plot_morphology
from .synapses import plot_synapses

__all__ = [
    "brian_plot",
    "add_background_pattern",
    "plot_raster",
    "plot_rate",
    "plot_state",
    "plot_synapses",
    "plot_dendrogram",
    "plot_morphology",
]
