"""
The Markdown description as a standalone HTML page, with the math typeset.

The Markdown is converted with the `markdown` package (Python-Markdown, with
its ``tables`` and ``toc`` extensions). Before the conversion, every math
span (``$...$`` inline, ``$$...$$`` display) is taken out of the text and
kept unchanged, so that Markdown never reads the underscores, asterisks and
backslashes of LaTeX as emphasis or escapes; it is put back as
``\\(...\\)`` / ``\\[...\\]`` inside ``<span class="math">`` and
``<div class="math">`` elements. The page loads MathJax from a CDN
(``page.html`` template) to typeset these in the browser: the HTML file is a
single file that needs no other file, but needs a network connection to show
the formulas typeset (without one, the LaTeX source is shown).
"""

from __future__ import annotations

import html
import re

import markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from .renderer import Templates, render_template

__all__ = ["MATHJAX_URL", "markdown_to_html"]

#: The MathJax build the page loads (TeX input, CommonHTML output).
MATHJAX_URL = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"

# inline code is left alone; $$...$$ (display, may span lines); $...$ (inline,
# one line, not starting or ending with a blank, as in Pandoc and GitHub)
_MATH = re.compile(
    r"(?P<code>(?P<ticks>`+).+?(?P=ticks))"
    r"|\$\$(?P<display>.+?)\$\$"
    r"|(?<![\\$])\$(?P<inline>[^\s$](?:[^$\n]*?[^\s\\$])?)\$(?!\d)",
    re.DOTALL,
)


class _MathPreprocessor(Preprocessor):
    """Stash math spans as raw HTML before Markdown reads the text."""

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)

        def stash(match: re.Match) -> str:
            if match.group("code"):
                return match.group("code")
            if match.group("display") is not None:
                latex = html.escape(match.group("display").strip(), quote=False)
                placeholder = self.md.htmlStash.store(f'<div class="math">\\[{latex}\\]</div>')
                return f"\n\n{placeholder}\n\n"
            latex = html.escape(match.group("inline"), quote=False)
            return self.md.htmlStash.store(f'<span class="math">\\({latex}\\)</span>')

        return _MATH.sub(stash, text).split("\n")


class _MathExtension(Extension):
    """Keep ``$...$`` and ``$$...$$`` math intact for MathJax."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        # after whitespace normalisation (priority 30), before raw HTML blocks (20)
        md.preprocessors.register(_MathPreprocessor(md), "brian2tools_math", 25)


def markdown_to_html(
    text: str,
    title: str = "Model description",
    templates: Templates = None,
) -> str:
    r"""
    Convert a Markdown description into a standalone HTML page.

    Parameters
    ----------
    text : str
        Markdown with math as ``$...$`` and ``$$...$$`` (as written by
        `~brian2tools.mdexport.render_markdown`).
    title : str, optional
        The page title.
    templates : str, path, dict or list of them, optional
        The user's templates (see `~brian2tools.mdexport.render_markdown`);
        ``page.html`` is the page around the converted text.

    Returns
    -------
    str
        The HTML page. Math is in ``\(...\)`` and ``\[...\]``, typeset by
        MathJax (loaded from `MATHJAX_URL`) when the page is opened.

    Examples
    --------
    >>> from brian2tools.mdexport.htmlpage import markdown_to_html
    >>> page = markdown_to_html('# Model\n\nThe rate is $r_{0}$.')
    >>> '<span class="math">\\(r_{0}\\)</span>' in page
    True
    """
    converter = markdown.Markdown(
        extensions=["tables", "toc", "sane_lists", _MathExtension()],
        output_format="html",
    )
    body = converter.convert(text)
    return render_template(
        "page.html",
        {"title": title, "body": body, "mathjax_url": MATHJAX_URL},
        templates,
    )
