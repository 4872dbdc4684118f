"""
The ``'markdown'`` device: writes a readable description of what a script ran.

`MarkdownExporter` is the ``'exporter'`` device of
:mod:`brian2tools.baseexport` (which collects each ``run()`` into a model
description without simulating) with one more step: it renders the
descriptions with `~brian2tools.mdexport.render_markdown` (and, if asked,
`~brian2tools.mdexport.markdown_to_html`) and writes the file(s)
atomically.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from brian2.utils.logger import get_logger

from ..baseexport import BaseExporter, write_text_atomic
from .expander import MdExpander
from .htmlpage import markdown_to_html

__all__ = ["FORMATS", "MarkdownExporter", "output_paths"]

logger = get_logger(__name__)

#: The values of the ``format`` option and the files each one writes.
FORMATS = {"markdown": (".md",), "html": (".html",), "both": (".md", ".html")}
_KNOWN_SUFFIXES = (".md", ".html", ".htm")


def output_paths(filename: str | os.PathLike, format: str = "markdown") -> dict[str, str]:
    """
    The files the ``'markdown'`` device writes for a ``filename`` and ``format``.

    ``.md`` is added to the file name unless it already ends with it; the
    HTML page gets the same name with ``.html`` instead (a name that ends
    with ``.html`` or ``.htm`` is used as given for the page).

    Parameters
    ----------
    filename : str or os.PathLike
        The name given to ``set_device``, e.g. ``'model'`` or
        ``'results/model.md'``.
    format : {'markdown', 'html', 'both'}
        Which files to write.

    Returns
    -------
    dict
        ``{'.md': path, '.html': path}`` with the entries of ``format``.

    Raises
    ------
    ValueError
        If ``format`` is not one of the three, or ``filename`` is empty.
    TypeError
        If ``filename`` is not a string or path.

    Examples
    --------
    >>> from brian2tools.mdexport.device import output_paths
    >>> output_paths('model')
    {'.md': 'model.md'}
    >>> output_paths('out/model.md', format='both')
    {'.md': 'out/model.md', '.html': 'out/model.html'}
    """
    if format not in FORMATS:
        raise ValueError(
            f"The 'markdown' device's format must be one of {', '.join(map(repr, FORMATS))}, "
            f"got {format!r}."
        )
    if not isinstance(filename, (str, os.PathLike)):
        raise TypeError(
            f"The 'markdown' device's filename must be a string or path, "
            f"got {type(filename).__name__}."
        )
    filename = os.fspath(filename)
    if not filename or filename.endswith(os.sep):
        raise ValueError(f"The 'markdown' device needs a file name, got {filename!r}.")
    stem, suffix = os.path.splitext(filename)
    if suffix.lower() not in _KNOWN_SUFFIXES:
        stem, suffix = filename, ""
    paths = {".md": stem + ".md", ".html": stem + ".html"}
    if suffix.lower() in (".html", ".htm"):
        paths[".html"] = filename
    return {suffix_: paths[suffix_] for suffix_ in FORMATS[format]}


class MarkdownExporter(BaseExporter):
    """
    A Brian device that describes the runs of a script in a Markdown file.

    Registered as ``'markdown'`` by ``import brian2tools.mdexport``. Use it
    with ``set_device('markdown', filename='model')``: each ``run()`` is
    collected (not simulated) and ``model.md`` is (re)written at its end
    with the description of all runs so far.

    The options of ``set_device`` (or of ``device.build`` with
    ``build_on_run=False``):

    ``filename`` (default ``'model'``)
        The file to write; ``.md`` is added unless given.
    ``format`` (default ``'markdown'``)
        ``'markdown'`` for ``model.md``, ``'html'`` for a standalone page
        ``model.html`` with the math typeset by MathJax, ``'both'`` for both.
    ``template_dir``
        A folder of Jinja2 templates that replace the built-in ones of the
        same name (``neurongroup.md``, ``synapses.md``...).
    ``templates``
        The same as a dict ``{template name: Jinja2 source}`` (it takes
        precedence over ``template_dir``).
    ``title`` (default ``'Model description'``)
        The document's title.
    ``expander``
        An `~brian2tools.mdexport.expander.MdExpander` with brian2tools
        0.3's options (``github_md``, ``author``, ``add_meta``, ...).
    ``debug`` (default ``False``)
        Also print the Markdown (as 0.3 did).

    As in brian2tools 0.3, ``filename=''`` names the file after the script
    that runs (``cuba.py`` writes ``cuba.md``).

    Attributes
    ----------
    runs : list of dict
        The collected descriptions (see :doc:`/export_format`).
    text : str or None
        The Markdown written last.
    md_text : str or None
        The same (the name brian2tools 0.3 used).
    files : list of str
        The absolute paths of the files written last.

    Examples
    --------
    >>> from brian2 import NeuronGroup, device, ms, run, set_device
    >>> import brian2tools.mdexport
    >>> set_device('markdown', filename='model')
    >>> group = NeuronGroup(10, 'dv/dt = -v/(10*ms) : 1', method='exact')
    >>> run(100*ms)  # writes model.md in the current folder
    >>> [path.rsplit('/', 1)[-1] for path in device.files]
    ['model.md']
    >>> print(device.text.splitlines()[0])
    # Model description
    """

    #: multi-compartment neurons are described too (``spatialneuron.md``)
    spatial_neurons = True

    def __init__(self) -> None:
        super().__init__()
        self.text: str | None = None
        self.files: list[str] = []

    @property
    def md_text(self) -> str | None:
        """The Markdown written last (brian2tools 0.3's name for `text`)."""
        return self.text

    def render_and_write(
        self,
        runs: list[dict[str, Any]],
        filename: str | os.PathLike = "model",
        format: str = "markdown",
        template_dir: str | os.PathLike | None = None,
        templates: Mapping[str, str] | None = None,
        title: str = "Model description",
        expander: MdExpander | None = None,
        debug: bool = False,
        **unknown: Any,
    ) -> None:
        """
        Render the descriptions and write the Markdown (and/or HTML) file.

        Parameters
        ----------
        runs : list of dict
            The collected descriptions, one per ``run()``.
        filename, format, template_dir, templates, title, expander, debug
            The device's options (see `MarkdownExporter`).
        **unknown
            Refused.

        Raises
        ------
        TypeError
            For an unknown option.
        ValueError
            For a bad ``format`` or a failing template.
        FileNotFoundError
            If ``template_dir`` or the folder of ``filename`` does not exist.
        """
        if unknown:
            raise TypeError(
                f"The 'markdown' device does not know the option(s) "
                f"{', '.join(sorted(unknown))}; its options are filename, format, "
                "template_dir, templates, title, expander and debug."
            )
        if expander is None:
            expander = MdExpander()
        elif not isinstance(expander, MdExpander):
            raise TypeError(
                "The 'markdown' device's expander must be an MdExpander (from "
                f"brian2tools.mdexport.expander), got {type(expander).__name__}."
            )
        if isinstance(filename, str) and filename == "":
            filename = _script_stem()
        paths = output_paths(filename, format)
        if templates is not None and not isinstance(templates, Mapping):
            raise TypeError(
                "The 'markdown' device's templates option must be a dict mapping template "
                f"names to Jinja2 source, got {type(templates).__name__}; use template_dir "
                "for a folder."
            )
        # the dict first: it takes precedence over the folder
        user_templates = [source for source in (templates, template_dir) if source is not None]
        # render everything before writing anything: a failure leaves no file behind
        if type(expander).create_md_string is MdExpander.create_md_string:
            standard = expander.standard_text(runs, title, user_templates or None)
            text = expander.finish(standard)
        else:  # a subclass writes its own text: the page shows that text
            standard = text = expander.create_md_string(runs, title, user_templates or None)
        contents = {".md": text}
        if ".html" in paths:
            contents[".html"] = markdown_to_html(standard, title=expander.title or title,
                                                 templates=user_templates)
        written = [write_text_atomic(path, contents[suffix]) for suffix, path in paths.items()]
        self.text = text
        self.files = written
        logger.debug(f"Wrote the model description to {', '.join(written)}")
        if debug:
            print(text)


def _script_stem() -> str:
    """The running script's name without folder and suffix (``'model'`` without a script)."""
    script = sys.argv[0] if sys.argv else ""
    if not script or script == "-c" or not os.path.splitext(script)[1] == ".py":
        return "model"
    return os.path.splitext(os.path.basename(script))[0]
