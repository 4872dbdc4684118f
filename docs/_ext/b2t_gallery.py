"""
Sphinx extension for the examples gallery and for figures in the user guide.

When the builder starts, every example script (as chosen by
``examples/run_examples.py``) is run with that runner into one output folder,
and one page per example is written to ``docs/examples/generated/``: the
script's docstring, its source, and the files it produced (figures shown,
text files such as exported models included, anything else offered as a
download). The run is cached in the build's doctree folder and repeated only
when an example or the package changed. Setting the configuration value
``b2t_examples_output`` (``conf.py`` reads the environment variable
``BRIAN2TOOLS_EXAMPLES_OUTPUT``) to a folder already filled by
``run_examples.py --output DIR`` uses those files and runs nothing.

All examples write into one folder, so a produced file is attributed to the
example whose source names it: as a string literal (``'raster.png'``), an
f-string pattern (``f'{name}.png'``), a literal without the suffix
(``filename='model'`` for ``model.md``), or -- for companion files such as
``LEMSUnitsConstants.xml`` -- by being named inside a text file the example
produced.

Directives:

``.. examples-gallery::``
    Thumbnails of all examples, grouped by the prefix of their file name,
    and the (hidden) table of contents of the example pages.

``.. example-figure:: SCRIPT FIGURE``
    The code that made ``FIGURE`` in ``examples/SCRIPT`` and the figure. By
    default the code shown is the run of top-level statements that ends with
    the one naming the figure file and starts after the previous statement
    that saved another figure, closed a figure, called ``run()``, or imported
    something. ``:start-after:``/``:end-before:`` (text markers) or
    ``:lines:`` choose the code explicitly; ``:no-code:`` shows the figure
    only; ``:width:``/``:alt:`` are passed on to the figure. The directive's
    content becomes the figure caption.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg")
# produced text files shown on the example page, with their highlighting
TEXT_LEXERS = {
    ".xml": "xml", ".md": "markdown", ".txt": "text", ".json": "json",
    ".nml": "xml", ".csv": "text", ".dat": "text", ".spikes": "text",
}
TEXT_SHOWN_LINES = 120
# title and order of the gallery sections, by the start of the script names
GROUPS = [
    ("plotting_", "Plotting"),
    ("export_", "Exporting models"),
    ("", "More examples"),
]
GENERATED = "generated"  # folder for the example pages, below docs/examples/


@dataclass
class Example:
    """One example script and what it produced."""

    script: Path
    title: str
    description: str
    outputs: list[Path] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return self.script.stem

    @property
    def images(self) -> list[Path]:
        return [path for path in self.outputs if path.suffix.lower() in IMAGE_SUFFIXES]


# --------------------------------------------------------------------------
# Reading example scripts
# --------------------------------------------------------------------------


def load_runner(examples_dir: Path):
    """The examples' own runner module (``examples/run_examples.py``)."""
    spec = importlib.util.spec_from_file_location("b2t_run_examples", examples_dir / "run_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def name_patterns(tree: ast.AST) -> list[tuple[int, re.Pattern]]:
    """
    Every string in a script as a pattern for file names, with its line.

    Literals match themselves (or, without a suffix, any suffix); f-strings
    match with anything in place of their replacement fields.
    """
    patterns = []
    inside_fstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inside_fstrings.add(id(value))
                if isinstance(value, ast.Constant):
                    parts.append(re.escape(str(value.value)))
                else:
                    parts.append(".+")
            patterns.append((node.lineno, re.compile("".join(parts))))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in inside_fstrings):
            text = node.value.strip()
            if not text or "\n" in text or len(text) > 200:
                continue
            if Path(text).suffix:
                patterns.append((node.lineno, re.compile(re.escape(text))))
            elif len(text) >= 3 and re.fullmatch(r"[\w\-.]+", text):
                patterns.append((node.lineno, re.compile(re.escape(text) + r"\.\w+")))
    return patterns


def names_file(patterns, path: Path) -> int | None:
    """The first line whose string names the file, or None."""
    lines = [line for line, pattern in patterns
             if pattern.fullmatch(path.name) or pattern.fullmatch(path.as_posix())]
    return min(lines) if lines else None


def describe(script: Path) -> tuple[str, str, ast.Module | None]:
    """Title and description (from the docstring) and the syntax tree of a script."""
    source = script.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source, filename=str(script))
    except SyntaxError as exc:
        logger.warning("examples gallery: cannot parse %s: %s", script.name, exc, type="b2t_gallery")
        return script.stem, "", None
    docstring = ast.get_docstring(tree) or ""
    if not docstring:
        logger.warning("examples gallery: %s has no docstring to title its page",
                       script.name, type="b2t_gallery")
        return script.stem.replace("_", " ").capitalize(), "", tree
    first, _, rest = docstring.strip().partition("\n")
    title = first.strip().rstrip(".")
    if set(rest.strip().split("\n", 1)[0].strip()) <= set("=-~^\"'`#*+") and rest.strip():
        rest = rest.strip().split("\n", 1)[1] if "\n" in rest.strip() else ""  # underlined title
    return title, rest.strip(), tree


# --------------------------------------------------------------------------
# Running the examples
# --------------------------------------------------------------------------


def fingerprint(paths: list[Path]) -> str:
    """A hash of the content of files (and of the Python running them)."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(paths):
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_of_examples(root: Path) -> list[Path]:
    """Files whose change makes the examples' output outdated."""
    examples = [p for p in (root / "examples").iterdir() if p.is_file()]
    package = [
        p for p in (root / "brian2tools").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]
    return examples + package


def run_examples(root: Path, output: Path) -> list[str]:
    """
    Run all examples into ``output`` (unless already done for the same
    sources). Returns the names of the examples that failed.
    """
    stamp = output / ".b2t_fingerprint"
    current = fingerprint(inputs_of_examples(root))
    if stamp.exists() and stamp.read_text() == current:
        logger.info("examples gallery: reusing the examples' output in %s", output)
        return []
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    logger.info("examples gallery: running the examples into %s ...", output)
    result = subprocess.run(
        [sys.executable, str(root / "examples" / "run_examples.py"), "--output", str(output)],
        capture_output=True, text=True,
    )
    failed = re.findall(r"^(\S+\.py): FAILED", result.stdout, flags=re.MULTILINE)
    logger.info(result.stdout.strip())
    if result.returncode != 0 and not failed:
        failed = ["run_examples.py"]
    if failed:
        logger.warning("examples gallery: examples failed: %s\n%s", ", ".join(failed),
                       result.stderr.strip()[-3000:], type="b2t_gallery")
    else:
        stamp.write_text(current)
    return failed


def attribute_outputs(examples: list[Example], trees: dict[str, ast.Module | None],
                      output: Path) -> None:
    """Give each example the produced files that its source names (see module docstring)."""
    produced = sorted(
        path.relative_to(output) for path in output.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    )
    owners: dict[Path, list[tuple[int, Example]]] = {}
    for example in examples:
        tree = trees.get(example.stem)
        if tree is None:
            continue
        patterns = name_patterns(tree)
        for path in produced:
            line = names_file(patterns, path)
            if line is not None:
                owners.setdefault(path, []).append((line, example))
    # companion files named inside text files that an example produced
    changed = True
    while changed:
        changed = False
        for owned, claims in list(owners.items()):
            if owned.suffix.lower() not in TEXT_LEXERS or len(claims) != 1:
                continue
            text = (output / owned).read_text(encoding="utf-8", errors="replace")
            line, example = claims[0]
            for path in produced:
                if path not in owners and path.name in text:
                    owners[path] = [(line + 0.5, example)]
                    changed = True
    for path in produced:
        claims = owners.get(path, [])
        if len(claims) > 1:
            names = ", ".join(example.script.name for _, example in claims)
            logger.warning(
                "examples gallery: %s is named by several examples (%s); in one output "
                "folder they overwrite each other's file: give them distinct names",
                path, names, type="b2t_gallery")
        elif not claims and path.suffix.lower() in IMAGE_SUFFIXES:
            logger.warning(
                "examples gallery: no example names the figure %s in its source, so it is "
                "in no gallery page (save it under a literal name)", path, type="b2t_gallery")
    for path, claims in owners.items():
        for _, example in claims:
            example.outputs.append(path)
    order = {(id(ex), path): line for path, claims in owners.items() for line, ex in claims}
    def kind(path: Path) -> int:  # figures first, then text shown inline, then downloads
        suffix = path.suffix.lower()
        return 0 if suffix in IMAGE_SUFFIXES else 1 if suffix in TEXT_LEXERS else 2

    for example in examples:
        example.outputs.sort(
            key=lambda path, ex=example: (order[(id(ex), path)], kind(path), str(path)))


# --------------------------------------------------------------------------
# Writing the example pages
# --------------------------------------------------------------------------


def write_if_changed(path: Path, data: bytes) -> None:
    """Write only changed files, so that Sphinx rebuilds only what changed."""
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def example_page(example: Example, output: Path) -> str:
    """The reStructuredText of one example's page."""
    name = example.script.name
    lines = [
        f".. _example-{example.stem}:", "",
        example.title, "=" * len(example.title), "",
    ]
    if example.description:
        lines += [example.description, ""]
    lines += [
        f"Run it with ``python {name}``: it writes the files shown below into the "
        f"current folder. (:download:`Download {name} <../../../examples/{name}>`)", "",
        f".. literalinclude:: ../../../examples/{name}",
        f"   :caption: examples/{name}",
        "   :language: python",
        "   :linenos:", "",
    ]
    if not example.outputs:
        logger.warning("examples gallery: %s produced no files", name, type="b2t_gallery")
        return "\n".join(lines) + "\n"
    lines += ["Output", "------", ""]
    for path in example.outputs:
        local = f"{example.stem}/{path.as_posix()}"
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            lines += [f".. figure:: {local}", f"   :alt: {path.name}", "", f"   ``{path.name}``", ""]
        elif suffix in TEXT_LEXERS:
            count = len((output / path).read_text(encoding="utf-8", errors="replace").splitlines())
            lines += [f".. literalinclude:: {local}", f"   :caption: {path.name}",
                      f"   :language: {TEXT_LEXERS[suffix]}"]
            if count > TEXT_SHOWN_LINES:
                lines += [f"   :lines: 1-{TEXT_SHOWN_LINES}", "",
                          f"(first {TEXT_SHOWN_LINES} of {count} lines; "
                          f":download:`download the whole file <{local}>`)"]
            lines.append("")
        else:
            lines += [f"* :download:`{path.name} <{local}>`", ""]
    return "\n".join(lines) + "\n"


def generate_pages(app, examples: list[Example], output: Path) -> None:
    """Write the example pages and copy their outputs below ``examples/generated``."""
    target = Path(app.srcdir) / "examples" / GENERATED
    wanted = set()
    for example in examples:
        page = target / f"{example.stem}.rst"
        write_if_changed(page, example_page(example, output).encode("utf-8"))
        wanted.add(page)
        for path in example.outputs:
            copy = target / example.stem / path
            write_if_changed(copy, (output / path).read_bytes())
            wanted.add(copy)
    if target.exists():  # remove what belongs to removed examples or outputs
        for path in sorted(target.rglob("*"), reverse=True):
            if path.is_file() and path not in wanted:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def builder_inited(app) -> None:
    root = Path(app.srcdir).resolve().parent
    examples_dir = root / "examples"
    runner = load_runner(examples_dir)
    scripts = runner.example_scripts()
    examples, trees = [], {}
    for script in scripts:
        title, description, tree = describe(script)
        examples.append(Example(script, title, description))
        trees[script.stem] = tree
    configured = app.config.b2t_examples_output
    if configured:
        output = Path(configured)
        if not output.is_absolute():
            output = (Path.cwd() / output).resolve()
        if not output.is_dir():
            logger.warning("examples gallery: b2t_examples_output %s is not a folder",
                           output, type="b2t_gallery")
            output = None
        else:
            logger.info("examples gallery: using the examples' output in %s", output)
    else:
        output = None
    if output is None:
        output = Path(app.doctreedir) / "b2t_examples_output"
        run_examples(root, output)
    attribute_outputs(examples, trees, output)
    generate_pages(app, examples, output)
    env = app.env
    signature = repr([(ex.stem, ex.title, [str(p) for p in ex.outputs]) for ex in examples])
    env.b2t_gallery_changed = signature != getattr(env, "b2t_gallery_signature", None)
    env.b2t_gallery_signature = signature
    env.b2t_examples = examples  # read by the directives below
    env.b2t_examples_output_dir = str(output)


def gallery_users(env) -> dict[str, bool]:
    """The documents using the directives below (kept in the build environment)."""
    if not hasattr(env, "b2t_gallery_docs"):
        env.b2t_gallery_docs = {}
    return env.b2t_gallery_docs


def outdated_gallery_users(app, env, added, changed, removed) -> list[str]:
    """Re-read the pages using the directives when examples or their outputs changed."""
    if getattr(env, "b2t_gallery_changed", False):
        return [doc for doc in gallery_users(env) if doc not in removed]
    return []


def purge_doc(app, env, docname: str) -> None:
    gallery_users(env).pop(docname, None)


def merge_info(app, env, docnames, other) -> None:
    for docname in docnames:
        if docname in gallery_users(other):
            gallery_users(env)[docname] = True


# --------------------------------------------------------------------------
# Directives
# --------------------------------------------------------------------------


def examples_of(env) -> list[Example]:
    return getattr(env, "b2t_examples", [])


class ExamplesGallery(SphinxDirective):
    """``.. examples-gallery::`` -- thumbnails and table of contents of all examples."""

    def run(self) -> list[nodes.Node]:
        gallery_users(self.env)[self.env.docname] = True
        examples = examples_of(self.env)
        lines = [".. toctree::", "   :hidden:", ""]
        pages = {}
        for example in examples:
            page = (Path("examples") / GENERATED / example.stem)
            pages[example.stem] = Path("/" + page.as_posix())
            lines.append(f"   /{page.as_posix()}")
        lines.append("")
        seen = set()
        for prefix, heading in GROUPS:
            group = [ex for ex in examples if ex.stem.startswith(prefix) and ex.stem not in seen]
            if not group:
                continue
            seen.update(ex.stem for ex in group)
            lines += [heading, "-" * len(heading), "", ".. container:: b2t-gallery", ""]
            for example in group:
                page = pages[example.stem].as_posix()
                lines += ["   .. container:: b2t-gallery-item", ""]
                if example.images:
                    image = f"/examples/{GENERATED}/{example.stem}/{example.images[0].as_posix()}"
                    uri = self.env.app.builder.get_relative_uri(
                        self.env.docname, page.lstrip("/"))
                    lines += [f"      .. image:: {image}", f"         :alt: {example.title}",
                              f"         :target: {uri}", ""]
                lines += [f"      :doc:`{example.title} <{page}>`", ""]
        container = nodes.container()
        nested_parse_with_titles(self.state, StringList(lines, source="<examples-gallery>"),
                                 container)
        return container.children


BOUNDARY_CALLS = {"close", "run", "show"}


def statement_strings(stmt: ast.stmt) -> list[str]:
    return [node.value for node in ast.walk(stmt)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def ends_previous_figure(stmt: ast.stmt) -> bool:
    """Whether the code for a figure starts after this top-level statement."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return True  # the module docstring
    if called_names(stmt) & (BOUNDARY_CALLS | {"savefig"}):
        return True
    return any(text.lower().endswith(IMAGE_SUFFIXES) for text in statement_strings(stmt))


FIGURE_CALLS = {"figure", "subplots", "subplot_mosaic"}


def called_names(stmt: ast.stmt) -> set[str]:
    """The names of the functions and methods a statement calls."""
    names = set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def figure_lines(source: str, figure: str) -> tuple[int, int] | None:
    """
    First and last line (1-based) of the code that makes ``figure``.

    The code ends with the top-level statement naming the figure file. It
    starts after the previous statement that ends another figure (see
    `ends_previous_figure`), or -- if a figure is created on the way
    (``plt.figure()``, ``plt.subplots()``) -- with the paragraph (block
    without blank lines) in which the last such figure is created; comments
    right above are included.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    body = tree.body
    index = next((k for k, stmt in enumerate(body)
                  if names_file(name_patterns(stmt), Path(figure)) is not None), None)
    if index is None:
        return None
    start = index
    while start > 0 and not ends_previous_figure(body[start - 1]):
        start -= 1
    creating = [k for k in range(start, index + 1) if called_names(body[k]) & FIGURE_CALLS]
    if creating:
        first_stmt = creating[-1]

        def touching(k: int) -> bool:
            """No blank line between statement k - 1 and statement k."""
            gap = lines[body[k - 1].end_lineno:body[k].lineno - 1]
            return all(line.strip() for line in gap)

        while first_stmt > start and touching(first_stmt):
            first_stmt -= 1
        start = first_stmt
    first = body[start].lineno
    if getattr(body[start], "decorator_list", None):
        first = min(dec.lineno for dec in body[start].decorator_list)
    previous_end = body[start - 1].end_lineno if start > 0 else 0
    while first - 1 > previous_end and lines[first - 2].strip().startswith("#"):
        first -= 1
    return first, body[index].end_lineno


class ExampleFigure(SphinxDirective):
    """``.. example-figure:: SCRIPT FIGURE`` -- see the module docstring."""

    required_arguments = 2
    has_content = True
    option_spec = {
        "start-after": directives.unchanged_required,
        "start-at": directives.unchanged_required,
        "end-before": directives.unchanged_required,
        "end-at": directives.unchanged_required,
        "lines": directives.unchanged_required,
        "no-code": directives.flag,
        "width": directives.unchanged_required,
        "alt": directives.unchanged_required,
    }

    def run(self) -> list[nodes.Node]:
        script_name, figure = self.arguments
        gallery_users(self.env)[self.env.docname] = True
        stem = Path(script_name).stem
        example = next((ex for ex in examples_of(self.env) if ex.stem == stem), None)
        location = self.get_location()
        if example is None:
            logger.warning("example-figure: there is no example %s", script_name,
                           location=location, type="b2t_gallery")
            return []
        script = f"/../examples/{example.script.name}"
        lines = []
        if "no-code" not in self.options:
            lines += [f".. literalinclude:: {script}", "   :language: python",
                      f"   :caption: examples/{example.script.name}"]
            explicit = [key for key in ("start-after", "start-at", "end-before", "end-at", "lines")
                        if key in self.options]
            for key in explicit:
                lines.append(f"   :{key}: {self.options[key]}")
            if not explicit:
                region = figure_lines(example.script.read_text(encoding="utf-8"), figure)
                if region is None:
                    logger.warning("example-figure: %s does not name %s in its code",
                                   script_name, figure, location=location, type="b2t_gallery")
                    return []
                lines.append(f"   :lines: {region[0]}-{region[1]}")
            lines.append("")
        if Path(figure) not in example.outputs:
            logger.warning("example-figure: %s did not produce %s (see the examples' output "
                           "in %s)", script_name, figure,
                           getattr(self.env, "b2t_examples_output_dir", "?"),
                           location=location, type="b2t_gallery")
            return []
        lines += [f".. figure:: /examples/{GENERATED}/{stem}/{figure}",
                  f"   :alt: {self.options.get('alt', figure)}"]
        if "width" in self.options:
            lines.append(f"   :width: {self.options['width']}")
        lines.append("")
        caption = list(self.content) or [f"``{figure}``"]
        lines += [f"   {line}" for line in caption]
        lines += ["", f"   (from the example :ref:`example-{stem}`)"]
        container = nodes.container(classes=["b2t-example-figure"])
        self.state.nested_parse(StringList(lines, source=f"<example-figure {figure}>"),
                                self.content_offset, container)
        self.env.note_dependency(str(example.script))
        return [container]


def add_static(app) -> None:
    static = str(Path(__file__).parent / "static")
    if static not in app.config.html_static_path:
        app.config.html_static_path.append(static)


def setup(app):
    app.add_config_value("b2t_examples_output", "", "env", types=[str])
    app.connect("builder-inited", builder_inited)
    app.connect("builder-inited", add_static)
    app.connect("env-get-outdated", outdated_gallery_users)
    app.connect("env-purge-doc", purge_doc)
    app.connect("env-merge-info", merge_info)
    app.add_css_file("b2t_gallery.css")
    app.add_directive("examples-gallery", ExamplesGallery)
    app.add_directive("example-figure", ExampleFigure)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
