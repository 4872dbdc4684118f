"""
Model descriptions to Markdown, with one Jinja2 template per kind of object.

`render_markdown` is a pure function: it takes the descriptions collected by
the ``'exporter'`` device (``device.runs``, see :doc:`/export_format`) and
returns the text; it never looks at Brian objects. The layout lives in the
templates of the ``templates`` folder of this package, one per kind of
object; the filters of :mod:`brian2tools.mdexport.filters` turn the pieces of a description (code,
values, group references...) into Markdown and LaTeX for them.

Users change the layout by giving templates of their own, a folder or a
dict, which take precedence over the built-in ones of the same name (see
:doc:`/mdexport`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jinja2
from brian2.utils.logger import get_logger

from .filters import FILTERS

__all__ = [
    "TEMPLATE_NAMES",
    "TemplateSource",
    "Templates",
    "make_environment",
    "render_markdown",
    "render_template",
]

logger = get_logger(__name__)

#: Where user templates come from: a folder, a dict name -> Jinja2 source, or a list of these
TemplateSource = str | os.PathLike | Mapping[str, str]
Templates = TemplateSource | Sequence[TemplateSource] | None

#: The built-in templates; a user template of the same name replaces one.
TEMPLATE_NAMES = (
    "document.md",
    "run.md",
    "equations.md",
    "neurongroup.md",
    "spatialneuron.md",
    "poissongroup.md",
    "spikegeneratorgroup.md",
    "poissoninput.md",
    "synapses.md",
    "statemonitor.md",
    "spikemonitor.md",
    "ratemonitor.md",
    "page.html",
)

_EXTRA_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_BLANKS = re.compile(r"[ \t]+\n")


# --------------------------------------------------------------------------- #
# Environment and rendering
# --------------------------------------------------------------------------- #
def _user_loader(templates: TemplateSource) -> jinja2.BaseLoader:
    """A loader for the user's templates: a folder or a dict name -> source."""
    if isinstance(templates, Mapping):
        for name, source in templates.items():
            if not isinstance(source, str):
                raise TypeError(
                    f"The template {name!r} must be given as a string of Jinja2 source, "
                    f"got {type(source).__name__}."
                )
        names = set(templates)
        description = "templates"
        loader: jinja2.BaseLoader = jinja2.DictLoader(dict(templates))
    elif isinstance(templates, (str, os.PathLike)):
        folder = os.fspath(templates)
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f"The template folder '{folder}' (template_dir) does not exist."
            )
        names = set(os.listdir(folder))
        description = f"template folder '{folder}'"
        loader = jinja2.FileSystemLoader(folder)
    else:
        raise TypeError(
            "templates must be a folder (str or path) or a dict mapping template names "
            f"to Jinja2 source, got {type(templates).__name__}."
        )
    unknown = sorted(name for name in names
                     if name not in TEMPLATE_NAMES and name.endswith((".md", ".html")))
    if unknown:
        logger.warning(
            f"The {description} has templates that replace no built-in template: "
            f"{', '.join(unknown)}. They are used only where another template includes "
            f"them; the built-in templates are: {', '.join(TEMPLATE_NAMES)}.",
            once=True,
        )
    return loader


def make_environment(
    templates: Templates = None,
) -> jinja2.Environment:
    """
    The Jinja2 environment of the Markdown renderer, with its filters.

    Parameters
    ----------
    templates : str, path, dict or list of them, optional
        The user's templates: a folder, or a dict mapping template names
        (e.g. ``'neurongroup.md'``) to Jinja2 source, or a list of such
        sources (the first one that has a template wins). They take
        precedence over the built-in templates of the same name.

    Returns
    -------
    jinja2.Environment
        With the built-in templates, the user's templates and the filters.

    Raises
    ------
    FileNotFoundError
        If ``templates`` names a folder that does not exist.
    TypeError
        If ``templates`` is neither a folder nor a dict of strings.

    Examples
    --------
    >>> from brian2tools.mdexport.renderer import make_environment
    >>> env = make_environment({'ratemonitor.md': 'Rate of {{ monitor.source.group }}'})
    >>> env.get_template('ratemonitor.md').render(monitor={'source': {'group': 'P'}})
    'Rate of P'
    """
    if templates is None:
        sources = []
    elif isinstance(templates, (list, tuple)):
        sources = list(templates)
    else:
        sources = [templates]
    loaders = [_user_loader(source) for source in sources]
    loaders.append(jinja2.PackageLoader("brian2tools.mdexport", "templates"))
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown and LaTeX, not HTML (page.html escapes itself)
    )
    environment.filters.update(FILTERS)
    return environment


def tidy_markdown(text: str) -> str:
    """Remove trailing blanks and runs of blank lines that template logic leaves."""
    text = _TRAILING_BLANKS.sub("\n", text)
    return _EXTRA_BLANK_LINES.sub("\n\n", text).strip() + "\n"


def _check_runs(runs: Any) -> list[Mapping]:
    if isinstance(runs, Mapping):
        runs = [runs]
    if not isinstance(runs, Iterable) or isinstance(runs, (str, bytes)):
        raise TypeError(
            "render_markdown expects the list of run descriptions (device.runs), "
            f"got {type(runs).__name__}."
        )
    runs = list(runs)
    if not runs:
        raise ValueError("render_markdown got no run description: the script did not run().")
    for position, run in enumerate(runs):
        if not isinstance(run, Mapping) or "duration" not in run:
            raise TypeError(
                f"Run description {position} is not a description of a run (a dict with "
                f"'duration', 'neurongroups', ... as in device.runs); got {type(run).__name__}."
            )
    return runs


def render_template(
    name: str,
    context: Mapping[str, Any],
    templates: Templates = None,
    environment: jinja2.Environment | None = None,
) -> str:
    """
    Render one template, turning template errors into errors that name the template.

    Parameters
    ----------
    name : str
        The template's name, e.g. ``'document.md'``.
    context : mapping
        The template's variables.
    templates : str, path, dict or list of them, optional
        The user's templates (see `make_environment`).
    environment : jinja2.Environment, optional
        An environment to reuse (``templates`` is then ignored).

    Returns
    -------
    str
        The rendered text.

    Raises
    ------
    ValueError
        If a template cannot be found, does not parse, or uses a name it is
        not given.

    Examples
    --------
    >>> from brian2tools.mdexport.renderer import render_template
    >>> monitor = {'name': 'rate', 'source': {'group': 'P', 'start': 0, 'stop': 10}}
    >>> render_template('ratemonitor.md', {'monitor': monitor, 'run': {}})
    '- **Population rate monitor `rate`** records the population rate of neurons 0 to 9 (10 neurons) of `P`.\\n'
    """
    if environment is None:
        environment = make_environment(templates)
    try:
        return environment.get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as error:
        raise ValueError(
            f"The template '{error.name or name}' has a syntax error in line "
            f"{error.lineno}: {error.message}"
        ) from error
    except jinja2.TemplateNotFound as error:
        raise ValueError(f"The template '{error.name}' (needed by '{name}') was not found.") \
            from error
    except jinja2.UndefinedError as error:
        raise ValueError(
            f"Rendering the template '{name}' (or one it includes) failed: {error.message}. "
            "See the documentation of the 'markdown' device for the variables each "
            "template is given."
        ) from error


def render_markdown(
    runs: list[Mapping] | Mapping,
    templates: Templates = None,
    title: str = "Model description",
    meta: Sequence[tuple[str, str]] | None = None,
) -> str:
    """
    Describe the runs of a script in Markdown, with the math in LaTeX.

    Parameters
    ----------
    runs : list of dict, or dict
        The descriptions collected by the ``'exporter'`` device
        (``device.runs``, see :doc:`/export_format`), or a single one.
    templates : str, path, dict or list of them, optional
        Templates of your own that replace built-in ones of the same name:
        a folder, or a dict mapping template names (``'neurongroup.md'``...)
        to Jinja2 source, or a list of these (the first that has a template
        wins).
    title : str, optional
        The title (first heading) of the document.
    meta : list of (str, str), optional
        Lines ``label: value`` for a header under the title (author, date,
        versions; see `~brian2tools.mdexport.expander.MdExpander`).

    Returns
    -------
    str
        The Markdown text; math is written as ``$...$`` (inline) and
        ``$$...$$`` (display).

    Raises
    ------
    TypeError
        If ``runs`` is not a list of run descriptions.
    ValueError
        If ``runs`` is empty, or a template fails.

    Examples
    --------
    >>> from brian2tools.mdexport.renderer import render_markdown
    >>> from brian2 import NeuronGroup, ms, run, set_device, device
    >>> import brian2tools.baseexport
    >>> set_device('exporter')
    >>> group = NeuronGroup(10, 'dv/dt = -v/(10*ms) : 1', threshold='v > 1', reset='v = 0')
    >>> run(10*ms)
    >>> text = render_markdown(device.runs)
    >>> print(text.splitlines()[0])
    # Model description
    """
    runs = _check_runs(runs)
    meta = [(str(label), str(value)) for label, value in (meta or ())]
    text = render_template("document.md", {"runs": runs, "title": title, "meta": meta},
                           templates)
    return tidy_markdown(text)

