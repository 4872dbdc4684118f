"""
Import of NeuroML cell morphologies into Brian: ``brian2tools.nmlimport``.

`NMLMorphology` reads a ``<cell>`` from a NeuroML 2 file (with the files it
``<include>``\\ s) and gives the Brian `Morphology`, the segment groups as
compartment indices, the cell's biophysical properties and its channel
densities as Brian quantities. `validate_morphology` checks the structure of
NeuroML segments. The mapping between the two descriptions lives in
:mod:`brian2tools.nmlimport.morphology_mapping`, which also gives the other
direction (`morphology_to_nml`, `write_morphology_nml`) used by the export of
multi-compartment neurons.

Needs libNeuroML (``pip install libNeuroML``).
"""

from .morphology_mapping import morphology_to_nml, write_morphology_nml
from .nml import NMLMorphology
from .validation import NMLImportError, NMLMorphologyError, validate_morphology

__all__ = [
    "NMLMorphology",
    "NMLImportError",
    "NMLMorphologyError",
    "validate_morphology",
    "morphology_to_nml",
    "write_morphology_nml",
]
