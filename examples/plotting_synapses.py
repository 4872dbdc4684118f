"""
Plotting synaptic connections and synaptic variables.

Recreates the synapse figures of the brian2tools documentation and saves them
as PNG files into the current working directory (cropped to the drawing with
``bbox_inches='tight'``):

- ``synapses_connections.png``: ``brian_plot(synapses)`` (an image of the
  connection matrix for this small network)
- ``synapses_many.png``: a network of 10000 neurons with ~17 million synapses,
  which ``brian_plot`` shows as a hexagonal 2D histogram
- ``synapses_scatter.png``: ``plot_synapses`` as a scatter plot in a chosen style
- ``synapses_variables.png``: weights and delays side by side
- ``synapses_weights_hot.png``: weights with the 'hot' colormap on a hatched
  background (white values stay distinguishable from empty space)
- ``synapses_multiple.png``: the number of synapses per source-target pair
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from brian2 import NeuronGroup, Synapses, prefs, seed  # noqa: E402

from brian2tools import add_background_pattern, brian_plot, plot_synapses  # noqa: E402

prefs.codegen.target = "numpy"  # no compilation needed for this short script
seed(2016)

group = NeuronGroup(100, "dv/dt = -v / (10*ms) : volt",
                    threshold="v > -50*mV", reset="v = -60*mV")
synapses = Synapses(group, group, "w : volt", on_pre="v += w")
# Connect to cells with indices no more than +/- 10 from the source index with
# a probability of 50% (but no self-connections), ignoring indices outside the group
synapses.connect(j="i+k for k in sample(-10, 10, p=0.5) if k != 0", skip_if_invalid=True)
# Weights fall off with the index distance, plus some randomness
synapses.w = "(exp(-(i - j)**2/10.) + 0.5 * rand())*mV"
synapses.delay = "1*ms + 2*ms*rand()"

# All connections: brian_plot picks the plot type from the network size
plt.figure()
brian_plot(synapses)
plt.savefig("synapses_connections.png", bbox_inches="tight")

# A large network: shown as a hexagonal 2D histogram of the synapse counts
big_group = NeuronGroup(10000, "")
many_synapses = Synapses(big_group, big_group)
many_synapses.connect(j="i+k for k in range(-2000, 2000) if rand() < exp(-(k/1000.)**2)",
                      skip_if_invalid=True)
plt.figure()
brian_plot(many_synapses)
plt.savefig("synapses_many.png", bbox_inches="tight")

# More control with plot_synapses: the style goes to matplotlib
plt.figure()
plot_synapses(synapses.i, synapses.j, plot_type="scatter", color="gray", marker="s")
plt.savefig("synapses_scatter.png", bbox_inches="tight")

# Synaptic variables, labelled with name and unit
plt.figure(figsize=(10, 4), layout="constrained")
plt.subplot(1, 2, 1)
brian_plot(synapses.w)
plt.subplot(1, 2, 2)
brian_plot(synapses.delay)
plt.savefig("synapses_variables.png", bbox_inches="tight")

# A colormap that contains white: a hatched background keeps empty pairs visible
plt.figure()
ax = plot_synapses(synapses.i, synapses.j, synapses.w, var_name="synaptic weights",
                   plot_type="scatter", cmap="hot")
add_background_pattern(ax)
ax.set_title("Recurrent connections")
plt.savefig("synapses_weights_hot.png", bbox_inches="tight")

# Connecting a second time adds synapses: some pairs now have two
synapses.connect(j="i+k for k in sample(-10, 10, p=0.5) if k != 0", skip_if_invalid=True)
plt.figure()
brian_plot(synapses)
plt.savefig("synapses_multiple.png", bbox_inches="tight")

print("Saved synapses_*.png")
