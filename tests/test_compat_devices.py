"""
Compatibility with scripts written for brian2tools 0.3 and for Brian's standalone mode.

* ``import brian2tools`` registers the ``'exporter'``, ``'markdown'`` and
  ``'neuroml2'`` devices, but loads none of the exporters until a device is
  used (checked in fresh interpreters, where nothing was imported before).
* Brian's standalone build options (``device.build(directory=..., compile=...,
  run=..., debug=...)``) are accepted and ignored by the export devices.
* The ``brian2tools-neuroml`` command (``--version``, ``--help``).
"""

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from importlib import import_module
from pathlib import Path

import pytest
from brian2 import NeuronGroup, SpikeMonitor, StateMonitor, device, ms, run, set_device
from brian2.devices.device import all_devices, get_device
from brian2.utils.logger import catch_logs

import brian2tools
from brian2tools.devices import EXPORT_DEVICES, LazyDevice

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("brian2tools.nmlexport", "brian2tools.mdexport", "brian2tools.baseexport",
         "markdown", "lems", "neuroml", "jinja2")


def _python(code, cwd, *options):
    """Run ``code`` in a fresh interpreter that imports this checkout; return stdout."""
    (Path(cwd) / "brian_preferences").write_text("codegen.target = 'numpy'\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]), MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, *options, "-c", textwrap.dedent(code)], cwd=cwd,
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result


def _lems_seconds(text):
    """A LEMS time such as '0.002 s' or '2ms' in seconds."""
    match = re.fullmatch(r"\s*([-+0-9.eE]+)\s*(ms|s)\s*", text)
    assert match, text
    return float(match.group(1)) * (1e-3 if match.group(2) == "ms" else 1.0)


def _heavy(modules):
    return sorted(name for name in modules
                  if any(name == heavy or name.startswith(heavy + ".") for heavy in HEAVY))


# --------------------------------------------------------------------------- #
# 1. Devices registered on import, loaded on use
# --------------------------------------------------------------------------- #
def test_import_registers_the_devices_without_loading_the_exporters(tmp_path):
    # brian2 itself loads jinja2 (for its code templates): only what brian2tools adds counts
    output = _python("""
        import json, sys
        import brian2
        before = set(sys.modules)
        from brian2tools import *
        from brian2.devices.device import all_devices
        print(json.dumps({
            'added': sorted(set(sys.modules) - before),
            'devices': {name: type(all_devices[name]).__name__
                        for name in ('exporter', 'markdown', 'neuroml2')},
        }))
    """, tmp_path).stdout
    found = json.loads(output)
    assert _heavy(found["added"]) == []
    assert found["devices"] == dict.fromkeys(("exporter", "markdown", "neuroml2"), "LazyDevice")


def test_importtime_of_brian2tools_shows_no_exporter_modules(tmp_path):
    # python -X importtime lists every module an import loads (on stderr)
    def imported(statement):
        log = _python(statement, tmp_path, "-X", "importtime").stderr
        return {line.rsplit("|", 1)[1].strip() for line in log.splitlines()
                if line.startswith("import time:") and line.count("|") == 2}

    ours = imported("import brian2tools")
    brian = imported("import brian2")
    assert "brian2tools" in ours
    assert _heavy(ours - brian) == []
    assert _heavy(ours) == _heavy(brian)  # i.e. only brian2's own jinja2


@pytest.mark.parametrize("name, module, device_class, written", [
    ("markdown", "brian2tools.mdexport", "MarkdownExporter", ["model.md"]),
    ("neuroml2", "brian2tools.nmlexport", "LEMSDevice", ["LEMSUnitsConstants.xml", "model.xml"]),
    ("exporter", "brian2tools.baseexport", "BaseExporter", []),
])
def test_star_import_then_set_device_runs_end_to_end(tmp_path, name, module, device_class,
                                                      written):
    # the script of a brian2tools 0.3 user: no import of the subpackage
    output = _python(f"""
        import json, os, sys
        from brian2 import *
        from brian2tools import *
        from brian2.devices.device import all_devices

        loaded_before = {module!r} in sys.modules
        options = {{'filename': 'model'}} if {name!r} != 'exporter' else {{}}
        set_device({name!r}, **options)
        group = NeuronGroup(3, 'dv/dt = -v / (10*ms) : volt', threshold='v > 1*mV',
                            reset='v = 0*mV', method='exact')
        group.v = 'i * mV'
        monitor = StateMonitor(group, 'v', record=True)
        run(2*ms)
        real = get_device()
        print(json.dumps({{
            'loaded_before': loaded_before,
            'class': type(real).__name__,
            'module': type(real).__module__,
            'registered': all_devices[{name!r}] is real,
            'proxy': device.runs is real.runs,
            'runs': len(device.runs),
            'duration': float(device.runs[0]['duration']),
            'initial': [float(v) for v in device.runs[0]['neurongroups'][0]['initial_values']['v']],
            'files': sorted(os.listdir('.')),
        }}))
    """, tmp_path).stdout
    found = json.loads(output)
    assert not found["loaded_before"]
    assert found["class"] == device_class
    assert found["module"].startswith(module)
    assert found["registered"] and found["proxy"]
    assert found["runs"] == 1
    assert found["duration"] == pytest.approx(2e-3)
    assert found["initial"] == pytest.approx([0, 1e-3, 2e-3])
    assert sorted(set(found["files"]) - {"brian_preferences"}) == written
    if name == "markdown":
        text = (tmp_path / "model.md").read_text()
        assert text.startswith("# Model description") and "`neurongroup`" in text
    if name == "neuroml2":
        root = ET.parse(tmp_path / "model.xml").getroot()
        simulation = root.find("Simulation")
        assert _lems_seconds(simulation.get("length")) == pytest.approx(2e-3)


def test_reinit_devices_loads_nothing_and_subpackages_replace_the_stand_ins(tmp_path):
    output = _python("""
        import importlib, json, sys
        import brian2tools
        from brian2 import NeuronGroup, ms, run, set_device, device
        from brian2.devices.device import all_devices, get_device, reinit_devices
        heavy = ('brian2tools.nmlexport', 'brian2tools.mdexport', 'brian2tools.baseexport')
        stand_in = all_devices['exporter']
        reinit_devices()
        after_reinit = [name for name in heavy if name in sys.modules]
        text_before = repr(stand_in)

        set_device('exporter')
        group = NeuronGroup(2, 'dv/dt = -v / (10*ms) : 1')
        run(1*ms)
        real = get_device()
        # importing the subpackage, or brian2tools again, keeps the device and its runs
        import brian2tools.baseexport
        importlib.reload(brian2tools)
        kept = all_devices['exporter'] is real and len(real.runs) == 1
        # the stand-in someone kept passes everything on to the real device
        forwards = stand_in.runs is real.runs and stand_in.resolve() is real
        import brian2tools.nmlexport
        print(json.dumps({
            'after_reinit': after_reinit,
            'text_before': text_before,
            'kept': kept,
            'forwards': forwards,
            'neuroml2': type(all_devices['neuroml2']).__name__,
            'markdown': type(all_devices['markdown']).__name__,
        }))
        reinit_devices()  # now with real devices among the stand-ins
        assert real.runs == []
    """, tmp_path).stdout
    found = json.loads(output)
    assert found["after_reinit"] == []
    assert "not loaded yet" in found["text_before"]
    assert found["kept"] and found["forwards"]
    assert found["neuroml2"] == "LEMSDevice"
    assert found["markdown"] == "LazyDevice"  # still not needed by this script


def test_stand_in_swaps_itself_for_the_real_device_with_the_options(tmp_path):
    # in this process the exporters may already be loaded: a new stand-in still hands over
    import brian2tools.mdexport

    real = all_devices["markdown"]
    stand_in = LazyDevice("markdown", "brian2tools.mdexport")
    set_device(stand_in, filename=str(tmp_path / "swapped"), title="Swapped")
    assert get_device() is real
    assert real.build_options == {"filename": str(tmp_path / "swapped"), "title": "Swapped"}
    NeuronGroup(1, "dv/dt = -v / (10*ms) : 1")
    run(1 * ms)
    assert (tmp_path / "swapped.md").read_text().startswith("# Swapped")
    assert stand_in.text == real.text  # attributes come from the real device
    assert isinstance(real, brian2tools.mdexport.MarkdownExporter)


def test_stand_in_for_a_module_without_the_device_says_so():
    stand_in = LazyDevice("no-such-device", "brian2tools.plotting")
    with pytest.raises(RuntimeError, match="did not register the Brian device 'no-such-device'"):
        stand_in.resolve()
    stand_in.reinit()  # nothing loaded, nothing to do, no error


def test_every_export_device_is_registered():
    assert set(EXPORT_DEVICES) == {"exporter", "markdown", "neuroml2"}
    for name, module in EXPORT_DEVICES.items():
        registered = all_devices[name]
        if isinstance(registered, LazyDevice):
            registered = registered.resolve()
        assert type(registered).__module__.startswith(module)


# --------------------------------------------------------------------------- #
# 2. Brian's standalone build options
# --------------------------------------------------------------------------- #
STANDALONE_OPTIONS = dict(directory="output", results_directory="results", compile=True,
                          run=True, debug=False, clean=True, with_output=True,
                          additional_source_files=None, run_args=[])


@pytest.mark.parametrize("name, options, written", [
    ("neuroml2", {"filename": "model.xml"}, {"model.xml", "LEMSUnitsConstants.xml"}),
    ("markdown", {"filename": "model"}, {"model.md"}),
    ("exporter", {}, set()),
])
def test_devices_accept_and_ignore_standalone_build_options(tmp_path, monkeypatch, name,
                                                            options, written):
    monkeypatch.chdir(tmp_path)
    import_module(EXPORT_DEVICES[name])
    # a standalone script: build_on_run=False, then device.build(...) after the runs
    set_device(name, build_on_run=False, **options)
    group = NeuronGroup(2, "dv/dt = -v / (10*ms) : volt", threshold="v > 1*mV",
                        reset="v = 0*mV", method="exact")
    StateMonitor(group, "v", record=True)
    SpikeMonitor(group)
    run(1 * ms)
    assert set(os.listdir(tmp_path)) == set()  # nothing before build
    with catch_logs(log_level=logging.INFO, only_from=("brian2tools",)) as logs:
        device.build(**STANDALONE_OPTIONS)
    assert set(os.listdir(tmp_path)) == written  # and no 'output' folder
    messages = [message for _, logger_name, message in logs if "standalone option" in message]
    assert len(messages) == 1, logs
    assert f"'{name}' device" in messages[0]
    # debug is an option of the Markdown device itself (it prints the text, as in 0.3)
    own = {"debug"} if name == "markdown" else set()
    for option in STANDALONE_OPTIONS:
        assert (option in messages[0]) != (option in own), option
    assert "direct_call" not in messages[0]
    # other options are still refused, by name
    with pytest.raises(TypeError, match="nonsense"):
        device.build(nonsense=1)


@pytest.mark.parametrize("name", ["neuroml2", "markdown", "exporter"])
def test_standalone_options_in_set_device(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    import_module(EXPORT_DEVICES[name])
    options = {"filename": "model"} if name != "exporter" else {}
    set_device(name, directory=None, debug=True, profile=True, **options)
    NeuronGroup(2, "dv/dt = -v / (10*ms) : 1")
    run(1 * ms)
    assert len(device.runs) == 1
    assert os.listdir(tmp_path) or name == "exporter"


STANDALONE_SCRIPT = textwrap.dedent("""
    from brian2 import *

    set_device('cpp_standalone', build_on_run=False)
    prefs.devices.cpp_standalone.openmp_threads = 2
    tau = 10*ms
    group = NeuronGroup(5, 'dv/dt = (1.2 - v) / tau : 1', threshold='v > 1',
                        reset='v = 0', method='exact')
    group.v = 'i / 5.'
    spikes = SpikeMonitor(group)
    state = StateMonitor(group, 'v', record=[0, 4])
    run(20*ms)
    device.build(directory='standalone_output', compile=True, run=True, debug=False,
                 clean=True)
""")


def test_cli_exports_a_standalone_script(tmp_path):
    (tmp_path / "standalone.py").write_text(STANDALONE_SCRIPT)
    result = _python("""
        import sys
        from brian2tools.nmlexport.cli import main
        sys.exit(main(['standalone.py']))
    """, tmp_path)
    model = tmp_path / "standalone.xml"
    assert f"Exported 1 run(s) of standalone.py to {model}" in result.stdout
    assert "ignored set_device('cpp_standalone')" in result.stderr
    assert "does not know the option" not in result.stderr
    assert "failed after the export" not in result.stderr
    assert "ignored the standalone option(s) clean, compile, debug, directory, run" \
        in result.stdout + result.stderr
    assert not (tmp_path / "standalone_output").exists()
    root = ET.parse(model).getroot()
    assert root.find("Simulation") is not None
    assert root.find("network") is not None


# --------------------------------------------------------------------------- #
# 3. The brian2tools-neuroml command
# --------------------------------------------------------------------------- #
def test_module_command_prints_the_version(tmp_path):
    result = subprocess.run([sys.executable, "-m", "brian2tools.nmlexport", "--version"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"brian2tools {brian2tools.__version__}"


def test_console_command_is_declared_and_works(tmp_path):
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    target = scripts["brian2tools-neuroml"]
    module, function = target.split(":")
    assert getattr(import_module(module), function) is import_module(
        "brian2tools.nmlexport.__main__").main
    # what the installed wrapper does: sys.argv[0] is the command, exit with main()
    wrapper = f"""
        import sys
        sys.argv[0] = 'brian2tools-neuroml'
        from {module} import {function}
        sys.argv[1:] = {{}}
        sys.exit({function}())
    """
    version = _python(wrapper.format(["--version"]), tmp_path).stdout
    assert version.strip() == f"brian2tools {brian2tools.__version__}"
    usage = _python(wrapper.format(["--help"]), tmp_path).stdout
    assert usage.startswith("usage: brian2tools-neuroml ")
    assert "--version" in usage and "--run" in usage
