"""
Sphinx extension writing the brian2tools API reference from the code itself.

``.. api-package:: brian2tools.plotting`` documents a package and every public
submodule below it: each module's docstring, then each name of its
``__all__`` with autodoc (rendered by numpydoc). An object that several
modules export (``plot_raster`` is in ``brian2tools.plotting.__all__`` and in
``brian2tools.plotting.data.__all__``) is documented once, in the shortest
module path below the top-level package; the other modules link to it. With
the ``:summary:`` flag only the module docstring and a table of its
``__all__`` are shown (used for the top-level ``brian2tools`` package, which
only re-exports).

The extension also

* warns when a public module of the package is documented on no page, or
  has no ``__all__`` (so a new module cannot silently miss the reference);
* resolves a reference by its last components when the exact name is not
  documented (``plot_raster`` written in ``brian2tools.plotting.base``
  finds ``brian2tools.plotting.plot_raster``), as long as one object fits.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache
from types import ModuleType

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode, nested_parse_with_titles

logger = logging.getLogger(__name__)

TOP_PACKAGE = "brian2tools"


def is_public(module_name: str) -> bool:
    """No component of the dotted name starts with an underscore."""
    return not any(part.startswith("_") for part in module_name.split("."))


@cache
def import_module(module_name: str) -> ModuleType | None:
    """The module, or None (with a warning) if importing it fails."""
    try:
        return importlib.import_module(module_name)
    except Exception as exc:  # any error in the package's code: report it, go on
        logger.warning("api-package: cannot import %s: %s: %s", module_name,
                       type(exc).__name__, exc, type="b2t_api")
        return None


@cache
def public_modules(package_name: str) -> tuple[str, ...]:
    """The package and all its public submodules, parents before children."""
    package = import_module(package_name)
    if package is None:
        return ()
    names = [package_name]
    if hasattr(package, "__path__"):
        for info in pkgutil.walk_packages(package.__path__, prefix=package_name + ".",
                                          onerror=import_module):
            if is_public(info.name):
                names.append(info.name)
    return tuple(sorted(names, key=lambda name: (name.count("."), name)))


def exported_names(module: ModuleType) -> list[str]:
    """The module's ``__all__`` (or, without one, its public own members)."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name for name, obj in vars(module).items()
        if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__
    ]


def object_key(obj) -> tuple:
    """A key identifying an exported object across the modules exporting it."""
    if inspect.isclass(obj) or inspect.isroutine(obj):
        return ("def", getattr(obj, "__module__", None), getattr(obj, "__qualname__", None))
    return ("obj", id(obj))


@cache
def canonical_locations() -> dict[tuple, str]:
    """
    For every object exported by a brian2tools module: the full name it is
    documented under.

    The shortest exporting module path below the top-level package wins
    (the top-level package only re-exports); a tie goes to the module
    defining the object.
    """
    candidates: dict[tuple, list[tuple]] = {}
    for module_name in public_modules(TOP_PACKAGE):
        if module_name == TOP_PACKAGE:
            continue
        module = import_module(module_name)
        if module is None:
            continue
        for name in exported_names(module):
            if name.startswith("__"):
                continue
            obj = getattr(module, name, None)
            if obj is None:
                continue
            defined_in = getattr(obj, "__module__", None) or ""
            if not (defined_in == TOP_PACKAGE or defined_in.startswith(TOP_PACKAGE + ".")):
                if inspect.isclass(obj) or inspect.isroutine(obj):
                    continue  # re-exported from another package: not ours to document
            rank = (module_name.count("."), module_name != defined_in, module_name)
            candidates.setdefault(object_key(obj), []).append((rank, f"{module_name}.{name}"))
    return {key: min(found)[1] for key, found in candidates.items()}


def autodoc_directive(obj) -> tuple[str, list[str]]:
    """The autodoc directive (and its options) suited to an object."""
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return "autoexception", [":show-inheritance:"]
        return "autoclass", [":members:", ":show-inheritance:"]
    if inspect.isroutine(obj):
        return "autofunction", []
    return "autodata", [":no-value:"]


def module_rst(module_name: str, summary_only: bool) -> list[str]:
    """The reStructuredText documenting one module (without a title)."""
    module = import_module(module_name)
    if module is None:
        return []
    if not hasattr(module, "__all__"):
        logger.warning(
            "api-package: module %s has no __all__; documenting its public own members",
            module_name, type="b2t_api",
        )
    lines = [f".. automodule:: {module_name}", ""]
    documented, elsewhere, plain = [], [], []
    for name in exported_names(module):
        if not hasattr(module, name):
            logger.warning("api-package: %s.__all__ names %r, which the module does not have",
                           module_name, name, type="b2t_api")
            continue
        obj = getattr(module, name)
        location = canonical_locations().get(object_key(obj))
        if name.startswith("__") or location is None:
            plain.append(name)
        elif location == f"{module_name}.{name}":
            documented.append((name, obj))
        else:
            elsewhere.append(location)
    if summary_only:
        if elsewhere or documented:
            # autosummary wants names relative to the current module
            lines += [".. autosummary::", "   :nosignatures:", ""]
            lines += [f"   ~{location.removeprefix(module_name + '.')}" for location in elsewhere]
            lines += [f"   ~{name}" for name, _ in documented]
            lines.append("")
        return lines
    if elsewhere:
        links = ", ".join(f":obj:`~{location}`" for location in elsewhere)
        lines += [f"Also public in this module, documented with the shorter name: {links}.", ""]
    for name, obj in documented:
        directive, options = autodoc_directive(obj)
        lines.append(f".. {directive}:: {module_name}.{name}")
        lines += [f"   {option}" for option in options]
        lines.append("")
    return lines


class ApiPackage(SphinxDirective):
    """``.. api-package:: dotted.name`` -- see the module docstring."""

    required_arguments = 1
    option_spec = {"summary": directives.flag}

    def run(self) -> list[nodes.Node]:
        package_name = self.arguments[0]
        summary_only = "summary" in self.options
        modules = public_modules(package_name)
        if not modules:
            return []
        if summary_only:
            modules = modules[:1]
        lines = module_rst(package_name, summary_only)
        for module_name in modules[1:]:
            title = f"``{module_name}``"
            lines += [title, "-" * len(title), ""]
            lines += module_rst(module_name, summary_only=False) or ["(cannot be imported)", ""]
        store = api_modules(self.env)
        store.setdefault(self.env.docname, set()).update(modules)
        for module_name in modules:
            module_file = getattr(import_module(module_name), "__file__", None)
            if module_file:
                self.env.note_dependency(module_file)
        container = nodes.container()
        content = StringList(lines, source=f"<api-package {package_name}>")
        nested_parse_with_titles(self.state, content, container)
        return container.children


def api_modules(env) -> dict[str, set[str]]:
    """The modules documented per document (kept in the build environment)."""
    if not hasattr(env, "b2t_api_modules"):
        env.b2t_api_modules = {}
    return env.b2t_api_modules


def purge_doc(app, env, docname: str) -> None:
    api_modules(env).pop(docname, None)


def merge_info(app, env, docnames, other) -> None:
    for docname in docnames:
        if docname in api_modules(other):
            api_modules(env)[docname] = api_modules(other)[docname]


def outdated_api_pages(app, env, added, changed, removed) -> list[str]:
    """Re-read the API pages when public modules were added or removed since."""
    pages = api_modules(env)
    covered = set().union(*pages.values()) if pages else set()
    if pages and covered != set(public_modules(TOP_PACKAGE)):
        return [doc for doc in pages if doc not in removed]
    return []


def check_coverage(app, env) -> None:
    """Warn about public modules that no page documents."""
    covered = set().union(*api_modules(env).values()) if api_modules(env) else set()
    for module_name in public_modules(TOP_PACKAGE):
        if module_name not in covered:
            logger.warning(
                "api-package: public module %s is not in the API reference "
                "(add an '.. api-package::' for it or its package under docs/api/)",
                module_name, type="b2t_api",
            )


def resolve_by_suffix(app, env, node, contnode):
    """Resolve an unresolved Python reference whose last components fit one object."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if not target or target.startswith("brian2.") or target.startswith("matplotlib."):
        return None
    domain = env.get_domain("py")
    # 'brian2tools.plotting.data.plot_raster' may be documented as
    # 'brian2tools.plotting.plot_raster': then only the last component counts
    last = target.rsplit(".", 1)[-1] if target.startswith(TOP_PACKAGE + ".") else target
    suffix = "." + last
    matches = [
        (name, entry) for name, entry in domain.objects.items()
        if name.startswith(TOP_PACKAGE + ".") and (name.endswith(suffix) or name == target)
        and not getattr(entry, "aliased", False)
    ]
    if len(matches) != 1:
        return None
    name, entry = matches[0]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, name)


def setup(app):
    app.add_directive("api-package", ApiPackage)
    app.connect("env-purge-doc", purge_doc)
    app.connect("env-merge-info", merge_info)
    app.connect("env-get-outdated", outdated_api_pages)
    app.connect("env-check-consistency", check_coverage)
    app.connect("missing-reference", resolve_by_suffix)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
