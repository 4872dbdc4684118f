"""Plots of neuronal morphologies. (placeholder, being written)"""

__all__ = ["plot_dendrogram", "plot_morphology"]


def plot_dendrogram(*args, **kwds):
    raise NotImplementedError


def plot_morphology(*args, **kwds):
    raise NotImplementedError
