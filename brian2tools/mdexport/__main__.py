"""
``python -m brian2tools.mdexport SCRIPT.py [-o FILE] [--format markdown|html|both]``:
describe a Brian script in Markdown and/or HTML (see `.cli`).
"""

import sys

from .cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
