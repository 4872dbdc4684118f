"""
``python -m brian2tools.nmlexport SCRIPT.py [-o MODEL.xml] [--run]``: export a Brian
script to NeuroML2/LEMS and optionally simulate it with jNeuroML (see `.cli`); the same
as the installed command ``brian2tools-neuroml``.
"""

import sys

from .cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
