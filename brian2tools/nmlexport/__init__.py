"""
Export of Brian 2 models to NeuroML2/LEMS.

Importing this package registers the ``'neuroml2'`` device: with
``set_device('neuroml2', filename='nml2model.xml')``, the ``run()`` of an
otherwise unchanged script writes ``nml2model.xml`` (a LEMS model that
jNeuroML simulates) and ``LEMSUnitsConstants.xml`` next to it, instead of
simulating. `load_recordings` reads back what jNeuroML recorded.

Modules: `~.lemsexport` (`NMLExporter`), `~.device` (`LEMSDevice`),
`~.portable` (the NEURON-ready form), `~.engines` and `~.netpyne_engine`
(running an export in jNeuroML, NEURON or NetPyNE), `~.neuron_code` (one
NEURON mechanism per cell type), `~.spatial_cells`, `~.spatial_channels`,
`~.spatial_outputs`, `~.spatial_synapses` and `~.spatial_runs`
(multi-compartment neurons), `~.simulation_file`
(the simulation's displays and recording files), `~.results` (simulating
the export and filling the script's monitors), `~.neurongroup` (the
component types of a NeuronGroup), `~.network_export` (synapses, spike
sources, Poisson inputs), `~.synapse_components` (synapses that carry
their neurons' linear variables), `~.lemsrendering` (Brian code as LEMS
expressions), `~.supporting` (network and simulation elements), `~.units`
(dimensions and values), `~.recordings` (reading results), `~.cli` (the
command line ``python -m brian2tools.nmlexport SCRIPT.py [-o MODEL.xml] [--run]``).
"""

from .device import LEMSDevice
from .lemsexport import NMLExporter
from .recordings import load_recordings

__all__ = ["NMLExporter", "LEMSDevice", "load_recordings"]
