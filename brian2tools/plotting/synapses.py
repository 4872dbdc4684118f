"""Plots of synaptic connections and synaptic variables. (placeholder, being written)"""

__all__ = ["plot_synapses"]


def plot_synapses(*args, **kwds):
    raise NotImplementedError
