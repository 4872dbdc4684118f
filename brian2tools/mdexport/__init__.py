"""
Model descriptions in Markdown: the ``'markdown'`` device.

Importing this package registers the Brian device ``'markdown'``. A script
that sets it runs as usual up to each ``run()``, which, instead of
simulating, writes a readable description of the model that would have
run: groups with their equations (typeset in LaTeX, with units),
thresholds, resets, refractoriness and custom events, constants,
initialisation, synapses with their connection rules and effects, inputs,
monitors and the duration of each run::

    from brian2 import *
    import brian2tools.mdexport

    set_device('markdown', filename='model')        # writes model.md
    group = NeuronGroup(100, 'dv/dt = (1 - v)/(10*ms) : 1',
                        threshold='v > 0.8', reset='v = 0', method='exact')
    group.v = 'rand()'
    run(100*ms)

``format='html'`` (or ``'both'``) writes a standalone HTML page with the math
typeset as MathML (no network needed). The text is available as
``device.text`` (or ``device.md_text``, as in brian2tools 0.3), and 0.3's
``expander=MdExpander(github_md=..., author=..., add_meta=...)`` option is
supported (`MdExpander`). The layout comes from Jinja2 templates, one per kind of object, that
users can replace with ``template_dir=`` or ``templates=`` (see
:doc:`/mdexport`). The text is produced by the pure function
`render_markdown` from the descriptions of the ``'exporter'`` device
(:mod:`brian2tools.baseexport`), which can also be called directly.
"""

from brian2.devices.device import all_devices

from .device import FORMATS, MarkdownExporter, output_paths
from .expander import MdExpander, github_math
from .htmlpage import MATHJAX_URL, latex_to_mathml, markdown_to_html
from .renderer import TEMPLATE_NAMES, make_environment, render_markdown

__all__ = [
    "FORMATS",
    "MATHJAX_URL",
    "MarkdownExporter",
    "MdExpander",
    "TEMPLATE_NAMES",
    "github_math",
    "latex_to_mathml",
    "make_environment",
    "markdown_to_html",
    "output_paths",
    "render_markdown",
]

all_devices["markdown"] = MarkdownExporter()
