"""Plots of recorded activity: spikes, rates and state variables. (placeholder, being written)"""

__all__ = ["plot_raster", "plot_rate", "plot_state"]


def plot_raster(*args, **kwds):
    raise NotImplementedError


def plot_rate(*args, **kwds):
    raise NotImplementedError


def plot_state(*args, **kwds):
    raise NotImplementedError
