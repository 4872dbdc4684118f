"""
`MdExpander`: the rendering options of brian2tools 0.3's ``'markdown'`` device.

Scripts written for brian2tools 0.3 choose how the Markdown is written with
an expander object::

    from brian2tools.mdexport.expander import MdExpander
    set_device('markdown', expander=MdExpander(github_md=True, author='A. Author',
                                               add_meta=True), filename='model')

This module keeps these scripts working on top of the templates of
:mod:`brian2tools.mdexport.renderer`: the expander adjusts the rendering
instead of writing the text itself.

``github_md``
    Math for GitHub's Markdown: inline math as ``$`...`$`` and display math
    in ````math`` blocks, which GitHub renders without Markdown reading
    LaTeX's underscores and backslashes first.
``author``, ``add_meta``
    A header under the title with the author, and (``add_meta``) the date,
    the script, and the versions of Brian, brian2tools and Python.
``include_monitors``
    ``False`` leaves the monitors out of the description.

``brian_verbose`` and ``keep_initializer_order`` are accepted and change
nothing: the description always uses Brian's names, and lists each
object's initialisations in the order the script made them.

Subclasses that override `MdExpander.create_md_string` write the text
themselves; the ``expand_*`` methods of 0.3's expander do not exist here
(layout changes are made with templates, see :doc:`/mdexport`).
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from .renderer import Templates, render_markdown

__all__ = ["MdExpander", "github_math"]

# inline code is left alone; $$...$$ (display); $...$ (inline, as in htmlpage)
_MATH = re.compile(
    r"(?P<code>(?P<ticks>`+).+?(?P=ticks))"
    r"|\$\$(?P<display>.+?)\$\$"
    r"|(?<![\\$])\$(?P<inline>[^\s$](?:[^$\n]*?[^\s\\$])?)\$(?!\d)",
    re.DOTALL,
)
_MONITOR_LISTS = ("statemonitors", "spikemonitors", "ratemonitors")


def github_math(text: str) -> str:
    r"""
    Rewrite the math of a Markdown text for GitHub.

    Parameters
    ----------
    text : str
        Markdown with math as ``$...$`` and ``$$...$$``.

    Returns
    -------
    str
        The same text with inline math as ``$`...`$`` and display math as
        ````math`` blocks; code spans are left alone.

    Examples
    --------
    >>> from brian2tools.mdexport.expander import github_math
    >>> github_math('The rate $r_{0}$ and `$x$`.')
    'The rate $`r_{0}`$ and `$x$`.'
    >>> print(github_math('$$\nv = 1\n$$'))
    ```math
    v = 1
    ```
    """

    def rewrite(match: re.Match) -> str:
        if match.group("code"):
            return match.group("code")
        if match.group("display") is not None:
            return f"```math\n{match.group('display').strip()}\n```"
        return f"$`{match.group('inline')}`$"

    return _MATH.sub(rewrite, text)


class MdExpander:
    """
    How the ``'markdown'`` device writes its text (brian2tools 0.3's options).

    Parameters
    ----------
    github_md : bool, optional
        Write the math for GitHub (``$`...`$`` and ````math`` blocks).
    author : str, optional
        An author, named in a header under the title.
    add_meta : bool, optional
        Add the date, the script and the versions of Brian, brian2tools and
        Python to that header.
    include_monitors : bool, optional
        Describe the monitors (default: ``True``).
    brian_verbose, keep_initializer_order : bool, optional
        Accepted for 0.3's scripts; they change nothing.
    title : str, optional
        The document's title (default: the device's ``title`` option).
    templates : str, path, dict or list of them, optional
        Templates of your own (as the device's ``templates`` option).

    Raises
    ------
    TypeError
        If ``author`` is not a string, or ``title`` is not a string.

    Examples
    --------
    >>> from brian2tools.mdexport.expander import MdExpander
    >>> expander = MdExpander(github_md=True, author='Ada')
    >>> expander.meta(script='cuba.py', today='2024-01-31')[0]
    ('Author', 'Ada')
    """

    def __init__(
        self,
        github_md: bool = False,
        author: str | None = None,
        add_meta: bool = False,
        include_monitors: bool = True,
        brian_verbose: bool = False,
        keep_initializer_order: bool = False,
        title: str | None = None,
        templates: Templates = None,
    ) -> None:
        if author is not None and not isinstance(author, str):
            raise TypeError(f"MdExpander's author must be a string, got {type(author).__name__}.")
        if title is not None and not isinstance(title, str):
            raise TypeError(f"MdExpander's title must be a string, got {type(title).__name__}.")
        self.github_md = bool(github_md)
        self.author = author
        self.add_meta = bool(add_meta)
        self.include_monitors = bool(include_monitors)
        self.brian_verbose = bool(brian_verbose)
        self.keep_initializer_order = bool(keep_initializer_order)
        self.title = title
        self.templates = templates

    def meta(self, script: str | None = None, today: str | None = None) -> list[tuple[str, str]]:
        """
        The lines of the header under the title: ``[(label, value), ...]``.

        Parameters
        ----------
        script : str, optional
            The script's file name (default: ``sys.argv[0]``, if any).
        today : str, optional
            The date to give (default: today, ``YYYY-MM-DD``).

        Returns
        -------
        list of tuple
            Empty without ``author`` and ``add_meta``.
        """
        import brian2

        import brian2tools

        lines = []
        if self.author:
            lines.append(("Author", self.author))
        if self.add_meta:
            lines.append(("Date", today or datetime.date.today().isoformat()))
            if script is None and sys.argv and sys.argv[0] not in ("", "-c"):
                script = os.path.basename(sys.argv[0])
            if script:
                lines.append(("Script", script))
            lines.append(("Brian", brian2.__version__))
            lines.append(("brian2tools", brian2tools.__version__))
            lines.append(("Python", platform.python_version()))
        return lines

    def model_runs(self, runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The runs to describe: copies without monitors unless ``include_monitors``."""
        if self.include_monitors:
            return [dict(run) for run in runs]
        return [{**run, **{key: [] for key in _MONITOR_LISTS}} for run in runs]

    def create_md_string(self, runs: Sequence[Mapping[str, Any]], title: str = "Model description",
                         templates: Templates = None) -> str:
        """
        The Markdown text for the runs, with this expander's options.

        Parameters
        ----------
        runs : list of dict
            The descriptions (``device.runs``).
        title : str, optional
            The title, unless the expander has its own.
        templates : str, path, dict or list of them, optional
            The device's templates; the expander's own come first.

        Returns
        -------
        str
            The Markdown (math as ``$...$``, or for GitHub with ``github_md``).
        """
        return self.finish(self.standard_text(runs, title, templates))

    def standard_text(self, runs, title: str = "Model description",
                      templates: Templates = None) -> str:
        """The text with math as ``$...$``/``$$...$$`` (what the HTML page is made from)."""
        sources = [source for source in (self.templates, templates) if source is not None]
        flat: list = []
        for source in sources:
            flat.extend(source if isinstance(source, (list, tuple)) else [source])
        return render_markdown(self.model_runs(runs), templates=flat or None,
                               title=self.title or title, meta=self.meta())

    def finish(self, text: str) -> str:
        """The last step on the standard text: GitHub's math with ``github_md``."""
        return github_math(text) if self.github_md else text

    def __repr__(self) -> str:
        return (f"MdExpander(github_md={self.github_md}, author={self.author!r}, "
                f"add_meta={self.add_meta}, include_monitors={self.include_monitors})")
