"""
The public face of the package: what ``from brian2tools import *`` gives,
that it does not shadow Brian's own names, and the version string.
"""

import inspect

import pytest
from packaging.version import Version

import brian2tools

# The plotting functions of the documentation (brian2tools 0.2 docs, "Plotting tools").
DOCUMENTED_PLOTTING_FUNCTIONS = {
    "brian_plot",
    "plot_raster",
    "plot_rate",
    "plot_state",
    "plot_synapses",
    "add_background_pattern",
    "plot_dendrogram",
    "plot_morphology",
}


def star_import(module_name):
    namespace = {}
    exec(f"from {module_name} import *", namespace)
    namespace.pop("__builtins__")
    return namespace


def test_star_import_gives_exactly_the_plotting_functions_and_version():
    namespace = star_import("brian2tools")
    assert set(namespace) == DOCUMENTED_PLOTTING_FUNCTIONS | {"__version__"}
    for name in DOCUMENTED_PLOTTING_FUNCTIONS:
        assert callable(namespace[name]), name
        # the real functions, with their documentation (not placeholders)
        assert namespace[name].__module__.startswith("brian2tools.plotting"), name
        assert inspect.getdoc(namespace[name]), name


def test_star_import_does_not_shadow_brian_names():
    # the documented usage is "from brian2 import *" followed by "from brian2tools import *"
    brian = star_import("brian2")
    ours = set(star_import("brian2tools"))
    assert not ours & set(brian)
    combined = {}
    exec("from brian2 import *\nfrom brian2tools import *", combined)
    changed = [name for name, value in brian.items() if combined[name] is not value]
    assert changed == []


def test_version_is_a_version_string():
    assert isinstance(brian2tools.__version__, str)
    Version(brian2tools.__version__)  # raises InvalidVersion if malformed


def test_import_makes_the_export_devices_known_to_set_device():
    # as in brian2tools 0.3: set_device('markdown') after "from brian2tools import *"
    from brian2.devices.device import all_devices

    namespace = star_import("brian2tools")
    assert {"exporter", "markdown", "neuroml2"} <= set(all_devices)
    # the machinery behind it is not part of the star import
    assert not {"devices", "LazyDevice", "register_export_devices"} & set(namespace)


def test_mdexpander_is_reached_from_the_package_as_in_03():
    import brian2tools
    from brian2tools import MdExpander
    from brian2tools.mdexport import MdExpander as from_subpackage

    assert MdExpander is from_subpackage
    assert "MdExpander" not in brian2tools.__all__  # not brought in by a star import
    with pytest.raises(AttributeError, match="no attribute 'plot_everything'"):
        brian2tools.plot_everything  # noqa: B018
