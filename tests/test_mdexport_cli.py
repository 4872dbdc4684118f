"""
Tests of ``python -m brian2tools.mdexport`` (brian2tools.mdexport.cli), run as a
subprocess on unmodified Brian scripts, and of the shared script runner.
"""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import brian2tools
from brian2tools.baseexport.scriptrunner import run_script
from brian2tools.mdexport.cli import describe_script

ROOT = Path(__file__).resolve().parent.parent

# An unmodified script: it asks for the runtime device, and plots results after run().
SCRIPT = textwrap.dedent("""
    import sys
    from brian2 import *
    import matplotlib.pyplot as plt

    set_device('runtime')
    tau_m = 10*ms
    w_inh = -2*mV
    cells = NeuronGroup(int(sys.argv[1]) if len(sys.argv) > 1 else 3,
                        '''dv/dt = (gi - v)/tau_m : volt
                           dgi/dt = -gi/(5*ms) : volt''',
                        threshold='v > 4*mV', reset='v = 0*mV', method='euler', name='cells')
    cells.v = '1*mV + rand()*(3*mV - 1*mV)'
    inhibition = Synapses(cells, cells, on_pre='gi += w_inh', name='inhibition')
    inhibition.connect(condition='i != j')
    spikes = SpikeMonitor(cells, name='spikes')
    run(5*ms)
    plt.plot(spikes.t/ms, spikes.i, '.')
    print('first spike', spikes.t[0])
""")


@pytest.fixture(autouse=True)
def _numpy_code_generation(tmp_path):
    """Brian reads preferences from the working directory: no compilation in the subprocesses."""
    (tmp_path / "brian_preferences").write_text("codegen.target = 'numpy'\n")


def _cli(*arguments, cwd):
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "brian2tools.mdexport", *arguments],
                          cwd=cwd, capture_output=True, text=True, env=environment,
                          timeout=600, check=False)


def _write(folder, name, text):
    path = Path(folder) / name
    path.write_text(text, encoding="utf-8")
    return path


def test_describes_an_unmodified_script(tmp_path):
    _write(tmp_path, "network.py", SCRIPT)
    result = _cli("network.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "network.md").read_text(encoding="utf-8")
    assert sorted(os.listdir(tmp_path)) == ["brian_preferences", "network.md", "network.py"]
    assert f"Described 1 run(s) of network.py in {tmp_path / 'network.md'}" in result.stdout
    assert "3 neurons, each described by:" in text
    assert "Integrated with the `euler` method (`method='euler'`)." in text
    assert (r"$v = 1\,\mathrm{m}\mathrm{V} + \operatorname{rand}() \left(3\,\mathrm{m}\mathrm{V}"
            r" - 1\,\mathrm{m}\mathrm{V}\right)$") in text
    assert "a decrease" in text
    # the script's set_device is ignored, and the failure after run() is a note
    assert "ignored set_device('runtime')" in result.stderr
    # the first statement that reads a monitor: nothing was simulated
    assert "network.py failed after the export of 1 run(s): NotSimulatedError" in result.stderr
    assert re.search(r"\(line \d+: plt.plot\(spikes.t/ms, spikes.i, '.'\)\)", result.stderr)


def test_output_format_and_script_arguments(tmp_path):
    _write(tmp_path, "network.py", SCRIPT)
    result = _cli("network.py", "-o", "out/description", "--format", "both", "--", "7",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["description.html", "description.md"]
    text = (tmp_path / "out" / "description.md").read_text(encoding="utf-8")
    assert "7 neurons, each described by:" in text  # the argument reached the script
    page = (tmp_path / "out" / "description.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<math") > 10

    result = _cli("network.py", "--format", "html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "network.html").exists() and not (tmp_path / "network.md").exists()


def test_help_and_version(tmp_path):
    result = _cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "usage: python -m brian2tools.mdexport" in result.stdout
    assert "--format {markdown,html,both}" in result.stdout
    # argparse writes "-o, --output FILE" (Python 3.13) or "-o FILE, --output FILE"
    assert re.search(r"-o(?: FILE)?,? --output FILE", result.stdout)
    result = _cli("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == (f"python -m brian2tools.mdexport "
                                     f"(brian2tools {brian2tools.__version__})")


@pytest.mark.parametrize("body, message", [
    ("from brian2 import *\nG = NeuronGroup(1, 'v : 1')\n", "calls no run()"),
    ("from brian2 import *\nraise ValueError('broken before run')\n",
     "failed before its first run(), nothing was exported: ValueError: broken before run"),
    ("from brian2 import *\nG = NeuronGroup(1, 'v : 1')\nG.active = False\n"
     "run(1*ms)\n", "active=False"),
])
def test_failed_descriptions_say_why(tmp_path, body, message):
    _write(tmp_path, "bad.py", body)
    result = _cli("bad.py", cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "error: the script could not be described" in result.stderr
    assert not (tmp_path / "bad.md").exists()


def test_usage_errors(tmp_path):
    result = _cli("missing.py", cwd=tmp_path)
    assert result.returncode == 2 and "No Brian script at 'missing.py'" in result.stderr
    _write(tmp_path, "network.py", SCRIPT)
    result = _cli("network.py", "--format", "pdf", cwd=tmp_path)
    assert result.returncode == 2 and "invalid choice: 'pdf'" in result.stderr


def test_console_command_is_declared():
    # (tomllib is not in Python 3.10's standard library)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    scripts = pyproject.split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    target = re.search(r'^brian2tools-markdown = "([^"]+)"$', scripts, flags=re.MULTILINE)
    module, _, function = target.group(1).partition(":")
    assert (module, function) == ("brian2tools.mdexport.cli", "main")
    from brian2tools.mdexport import cli

    assert cli.main(["--format", "markdown", "no_such_script.py"]) == 2


def test_describe_script_in_process(tmp_path):
    script = _write(tmp_path, "network.py", SCRIPT)
    result = describe_script(script, tmp_path / "in_process", format="both")
    assert [path.name for path in result.files] == ["in_process.md", "in_process.html"]
    assert result.runs == 1 and len(result.notes) == 2
    # everything is put back: the runtime device, argv
    from brian2 import get_device
    from brian2.devices.device import RuntimeDevice

    assert type(get_device()) is RuntimeDevice
    assert sys.argv[0] != str(script)


def test_script_runner_collects_before_the_device_is_reset(tmp_path):
    import brian2tools.baseexport  # noqa: F401 -- registers 'exporter'

    script = _write(tmp_path, "network.py", SCRIPT)
    outcome = run_script(script, "exporter", {}, ["4"],
                         collect=lambda device: device.runs[0]["neurongroups"][0]["N"])
    assert outcome.runs == 1 and outcome.result == 4
    assert "exported to exporter with the 'exporter' device" in outcome.notes[0]
