"""
Plotting neuronal morphologies: dendrograms, 2D and 3D views.

Loads the reconstruction that ships with Brian 2 (a cell from
neuromorpho.org, ``mp_ma_40984_gc2.CNG.swc``, found in the installed brian2
package) and draws the figures of the "Plotting neuronal morphologies"
section, each saved as a PNG file in the current working directory (cropped
to the drawing with ``bbox_inches='tight'``):

- ``morphology_dendrogram.png``: ``brian_plot(morpho)``, a dendrogram
- ``morphology_2d.png``: ``plot_morphology(morpho, plot_3d=False)``
- ``morphology_3d.png``: ``plot_morphology`` in 3D (matplotlib's mplot3d) with
  compartment boundaries, real diameters and a single colour
- ``morphology_values.png``: a morphology built in code (no coordinates: Brian
  generates them for the plot), each compartment coloured by the membrane
  potential of a `SpatialNeuron`, here set to grow with the distance from the
  soma

For a 3D view with Mayavi instead (``pip install brian2tools[mayavi]``), pass
``backend='mayavi'`` to ``plot_morphology``; it returns the Mayavi scene.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no windows

import brian2  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from brian2 import Cylinder, Morphology, Soma, SpatialNeuron, um  # noqa: E402

from brian2tools import brian_plot, plot_morphology  # noqa: E402

swc_file = Path(brian2.__file__).parent / "spatialneuron" / "mp_ma_40984_gc2.CNG.swc"
morpho = Morphology.from_file(str(swc_file))

# Dendrogram: the branching structure, with the distance from the root
plt.figure(layout="constrained")
ax = brian_plot(morpho)
ax.set_title("Dendrogram")
plt.savefig("morphology_dendrogram.png", dpi=100, bbox_inches="tight")

# The cell projected onto the x-y plane
plt.figure(layout="constrained")
ax = plot_morphology(morpho, plot_3d=False)
ax.set_title("Morphology (2D)")
plt.savefig("morphology_2d.png", dpi=100, bbox_inches="tight")

# In 3D, with compartment boundaries, real diameters and one colour
plt.figure(figsize=(5.5, 4.6))
ax = plot_morphology(morpho, plot_3d=True, show_compartments=True, show_diameter=True,
                     colors=("darkblue",))
ax.set_title("Morphology (3D)")
plt.savefig("morphology_3d.png", dpi=100)  # (tight cropping would cut the 3D box)

# A morphology built in code, coloured by a value per compartment
cell = Soma(30 * um)
cell.dend = Cylinder(3 * um, length=150 * um, n=15)
cell.dend.left = Cylinder(1.5 * um, length=100 * um, n=10)
cell.dend.right = Cylinder(1.5 * um, length=120 * um, n=12)
cell.axon = Cylinder(1 * um, length=300 * um, n=30)
neuron = SpatialNeuron(cell, "Im = 0*amp/meter**2 : amp/meter**2")
neuron.v = "-70*mV + 30*mV * distance / (300*um)"
plt.figure(figsize=(4, 6), layout="constrained")
ax = plot_morphology(neuron.morphology, values=neuron.v, show_diameter=True)
ax.set_title("Membrane potential per compartment")
plt.savefig("morphology_values.png", dpi=100, bbox_inches="tight")
