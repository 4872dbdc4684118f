"""
Sphinx configuration for the brian2tools documentation.

Build the site with ``python dev/build_docs.py`` (warnings are errors), or
directly with ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
The examples gallery runs every script in ``examples/`` during the build
(cached between builds); set the environment variable
``BRIAN2TOOLS_EXAMPLES_OUTPUT`` to a folder already filled by
``examples/run_examples.py --output DIR`` to reuse its files instead.
"""

import datetime
import os
import sys
from pathlib import Path

DOCS_DIR = Path(__file__).resolve().parent
ROOT_DIR = DOCS_DIR.parent
sys.path.insert(0, str(DOCS_DIR / "_ext"))
# Document the checkout we are in, even when another copy is installed.
sys.path.insert(0, str(ROOT_DIR))

import brian2tools  # noqa: E402

# -- Project information -----------------------------------------------------

project = "brian2tools"
author = "The brian2tools developers"
copyright = f"2016-{datetime.date.today().year}, the brian2tools developers"
release = brian2tools.__version__
# the short X.Y version
version = ".".join(release.split(".")[:2])

# -- General configuration ---------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "b2t_api",
    "b2t_gallery",
]

# `name` in docstrings (numpydoc style) refers to a Python object
default_role = "py:obj"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = []
root_doc = "index"
# plain code blocks (``::``) are Python
highlight_language = "python3"
pygments_style = "sphinx"

# -- autodoc / autosummary / numpydoc ----------------------------------------

autodoc_default_options = {"member-order": "bysource"}
# signatures keep the type hints; numpydoc's "Parameters" sections give types
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
# methods overriding Brian's (e.g. a device's build) are documented only with
# their own docstrings, not with Brian's
autodoc_inherit_docstrings = False
# autosummary only makes tables; the API pages are written by b2t_api
autosummary_generate = False
# classes document their members with autodoc's :members:, not numpydoc tables
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# the "Examples" sections of docstrings are doctests: show them as such
numpydoc_use_plots = False
numpydoc_xref_param_type = False

# -- Examples gallery (docs/_ext/b2t_gallery.py) -----------------------------

# A folder with the output of ``examples/run_examples.py --output DIR``: when
# set, the gallery uses those files instead of running the examples itself.
b2t_examples_output = os.environ.get("BRIAN2TOOLS_EXAMPLES_OUTPUT", "")

# -- HTML output -------------------------------------------------------------

html_theme = "alabaster"
html_title = f"brian2tools {release}"
html_theme_options = {
    "description": "Plotting and export tools for the Brian 2 simulator",
    "github_user": "brian-team",
    "github_repo": "brian2tools",
    "github_button": False,
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
    "show_relbars": True,
}
html_sidebars = {
    "**": ["about.html", "navigation.html", "relations.html", "searchbox.html"],
}
html_static_path = []
html_last_updated_fmt = ""
