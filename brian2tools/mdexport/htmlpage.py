"""
The Markdown description as a standalone HTML page, with the math typeset.

The Markdown is converted with the `markdown` package (Python-Markdown, with
its ``tables`` and ``toc`` extensions). Before the conversion, every math
span (``$...$`` inline, ``$$...$$`` display) is taken out of the text, so
that Markdown never reads the underscores, asterisks and backslashes of
LaTeX as emphasis or escapes, and converted to MathML with `latex2mathml`
(`latex_to_mathml`). Browsers render MathML natively: the page is one file
that needs neither other files nor a network connection (no MathJax). The
LaTeX source stays in the page as the MathML annotation.
"""

from __future__ import annotations

import html
import re

import markdown
from brian2.utils.logger import get_logger
from latex2mathml.converter import convert as _convert_to_mathml
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from .renderer import Templates, render_template

__all__ = ["MATHJAX_URL", "latex_to_mathml", "markdown_to_html"]

logger = get_logger(__name__)

#: MathJax, which pages of earlier versions loaded from a CDN. The page no
#: longer loads it (the math is MathML); kept for templates that refer to it.
MATHJAX_URL = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"

# latex2mathml drops the upright style of a single letter in \mathrm{..} ({\rm ..}
# keeps it) and does not know the "aligned" environment ("align*" is the same table)
_SINGLE_MATHRM = re.compile(r"\\mathrm\{([^{}\\])\}")
_ALIGNED = re.compile(r"\\(begin|end)\{aligned\}")
_MATH_ELEMENT = re.compile(r"^<math([^>]*)>(.*)</math>$", re.DOTALL)


def latex_to_mathml(latex: str, display: bool = False) -> str:
    r"""
    Convert LaTeX math (as the Markdown renderer writes it) to a MathML element.

    Parameters
    ----------
    latex : str
        The math, without ``$``.
    display : bool, optional
        A display (block) formula rather than an inline one.

    Returns
    -------
    str
        ``<math>`` with the LaTeX source as its ``application/x-tex``
        annotation. LaTeX that cannot be converted is returned as
        ``<code class="math-source">`` with the source (and logged).

    Examples
    --------
    >>> from brian2tools.mdexport.htmlpage import latex_to_mathml
    >>> print(latex_to_mathml(r'\tau_{\mathrm{m}}')[:62])
    <math xmlns="http://www.w3.org/1998/Math/MathML" display="inli
    >>> '<mi>&#x003C4;</mi>' in latex_to_mathml(r'\tau_{\mathrm{m}}')
    True
    """
    source = _ALIGNED.sub(lambda match: rf"\{match.group(1)}{{align*}}", latex)
    source = _SINGLE_MATHRM.sub(r"{\\rm \1}", source)
    try:
        mathml = _convert_to_mathml(source, display="block" if display else "inline")
    except Exception as error:  # noqa: BLE001 -- a formula left as source beats no page
        logger.warning(f"Could not convert the formula {latex!r} to MathML ({error}); "
                       "the page shows its LaTeX source.", "mathml")
        return f'<code class="math-source">{html.escape(latex, quote=False)}</code>'
    match = _MATH_ELEMENT.match(mathml.strip())
    if match is None:  # pragma: no cover -- latex2mathml always returns one <math> element
        return mathml
    annotation = html.escape(latex, quote=False)
    return (f"<math{match.group(1)}><semantics>{match.group(2)}"
            f'<annotation encoding="application/x-tex">{annotation}</annotation>'
            "</semantics></math>")

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
                mathml = latex_to_mathml(match.group("display").strip(), display=True)
                placeholder = self.md.htmlStash.store(f'<div class="math">{mathml}</div>')
                return f"\n\n{placeholder}\n\n"
            mathml = latex_to_mathml(match.group("inline"))
            return self.md.htmlStash.store(f'<span class="math">{mathml}</span>')

        return _MATH.sub(stash, text).split("\n")


class _MathExtension(Extension):
    """Turn ``$...$`` and ``$$...$$`` math into MathML before Markdown reads the text."""

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
        The HTML page, with the math as MathML (see `latex_to_mathml`):
        browsers typeset it without scripts or network access.

    Examples
    --------
    >>> from brian2tools.mdexport.htmlpage import markdown_to_html
    >>> page = markdown_to_html('# Model\n\nThe rate is $r_{0}$.')
    >>> '<span class="math"><math' in page, 'mathjax' in page.lower()
    (True, False)
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
