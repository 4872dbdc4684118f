"""
The public API is documented the way the API reference needs it: every public
module has a docstring and an ``__all__``, every public function and class a
numpydoc docstring whose Parameters match the signature, with Returns (when
something is returned) and, for functions, Examples -- and the Examples run,
as doctests in the namespace of their module. Public methods need at least a
summary, and a complete Parameters section if they have one.
"""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import inspect
import pkgutil

import pytest

import brian2tools

validate = pytest.importorskip("numpydoc.validate").validate
ClassDoc = pytest.importorskip("numpydoc.docscrape").ClassDoc

# numpydoc's checks that the reference relies on (numpydoc.validate.ERROR_MSGS)
REQUIRED = {
    "GL08": "no docstring",
    "SS01": "no one-line summary",
    "PR01": "parameters not documented",
    "PR02": "documented parameters that the signature does not have",
    "RT01": "no Returns section although something is returned",
}
EXAMPLES = {"EX01": "no Examples section"}


def public_modules() -> list[str]:
    names = [brian2tools.__name__]
    for info in pkgutil.walk_packages(brian2tools.__path__, prefix="brian2tools."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def public_objects() -> dict[str, object]:
    """Every public function and class of brian2tools, by its defining module's name."""
    found = {}
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if not callable(obj):
                continue
            defined_in = getattr(obj, "__module__", "") or ""
            qualname = getattr(obj, "__qualname__", None)
            if qualname and defined_in.startswith("brian2tools"):
                found[f"{defined_in}.{qualname}"] = obj
    return dict(sorted(found.items()))


def public_methods() -> dict[str, object]:
    """Public methods that brian2tools classes add (not overrides of Brian's methods)."""
    found = {}
    for path, cls in public_objects().items():
        if not inspect.isclass(cls) or issubclass(cls, BaseException):
            continue
        for name, member in vars(cls).items():
            if name.startswith("_") or not inspect.isfunction(member):
                continue
            inherited = any(name in vars(base) for base in cls.__mro__[1:]
                            if not base.__module__.startswith("brian2tools"))
            if not inherited:
                found[f"{path}.{name}"] = member
    return found


MODULES = public_modules()
OBJECTS = public_objects()
METHODS = public_methods()


@pytest.mark.parametrize("module_name", MODULES)
def test_module_has_docstring_and_all(module_name):
    module = importlib.import_module(module_name)
    assert (module.__doc__ or "").strip(), f"module {module_name} has no docstring"
    assert hasattr(module, "__all__"), f"module {module_name} has no __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names {missing}, which it does not have"


def errors_of(path: str, checks: dict[str, str]) -> list[str]:
    return [f"{code} ({checks[code]}): {message}"
            for code, message in validate(path)["errors"] if code in checks]


FUNCTIONS = [path for path, obj in OBJECTS.items() if not inspect.isclass(obj)]
CLASSES = [path for path, obj in OBJECTS.items() if inspect.isclass(obj)]


@pytest.mark.parametrize("path", FUNCTIONS)
def test_public_function_docstring(path):
    errors = errors_of(path, REQUIRED | EXAMPLES)
    assert not errors, f"docstring of {path}:\n  " + "\n  ".join(errors)


@pytest.mark.parametrize("path", CLASSES)
def test_public_class_docstring(path):
    cls = OBJECTS[path]
    checks = dict(REQUIRED)
    if dataclasses.is_dataclass(cls):
        # the fields of a data class may be documented as its Attributes
        documented = {name.strip() for item in ClassDoc(cls)["Attributes"]
                      for name in item.name.split(",")}
        fields = {field.name for field in dataclasses.fields(cls)}
        if fields <= documented:
            checks.pop("PR01")
            checks.pop("PR02")
    errors = errors_of(path, checks)
    assert not errors, f"docstring of {path}:\n  " + "\n  ".join(errors)


@pytest.mark.parametrize("path", list(METHODS))
def test_public_method_docstring(path):
    # Methods (often hooks that Brian calls) need a summary; their parameters
    # may be explained in the text, but a Parameters section must be complete.
    checks = {code: REQUIRED[code] for code in ("GL08", "SS01", "PR02")}
    if ClassDoc(type("_", (), {"__doc__": inspect.getdoc(METHODS[path])}))["Parameters"]:
        checks["PR01"] = REQUIRED["PR01"]
    errors = errors_of(path, checks)
    assert not errors, f"docstring of {path}:\n  " + "\n  ".join(errors)


def test_plotting_functions_are_covered():
    """The check above really sees the documented public face of the package."""
    for name in ["brian_plot", "plot_raster", "plot_rate", "plot_state", "plot_synapses",
                 "plot_dendrogram", "plot_morphology", "add_background_pattern"]:
        obj = getattr(brian2tools, name)
        assert any(found is obj for found in OBJECTS.values()), name


@pytest.mark.parametrize("path", [path for path, obj in OBJECTS.items()
                                  if ">>>" in (inspect.getdoc(obj) or "")])
def test_docstring_examples_run(path, tmp_path, monkeypatch):
    """Run the Examples section as a doctest (in an empty folder: exporters write files)."""
    monkeypatch.chdir(tmp_path)
    obj = OBJECTS[path]
    # as doctest itself does: the example sees the globals of the object's module
    module = inspect.getmodule(obj)
    tests = doctest.DocTestFinder(recurse=False).find(
        obj, path, module=module, globs=dict(vars(module)))
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    for test in tests:
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)
