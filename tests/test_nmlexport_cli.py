"""
Tests of ``python -m brian2tools.nmlexport`` (brian2tools.nmlexport.cli), run as a
subprocess on unmodified Brian scripts.
"""

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from nml_helpers import missing_jneuroml, needs_jneuroml

import brian2tools.nmlexport.lemsexport

# until the 'neuroml2' device uses network_export, it refuses synapses and inputs
needs_network_device = pytest.mark.skipif(
    "build_network_parts" not in vars(brian2tools.nmlexport.lemsexport),
    reason="the 'neuroml2' device does not export networks yet")

# An unmodified script: it asks for the runtime device, and plots results after run().
SCRIPT = textwrap.dedent("""
    from brian2 import *
    import matplotlib.pyplot as plt

    set_device('runtime')
    defaultclock.dt = 0.1*ms
    stimulus = SpikeGeneratorGroup(2, [0, 1, 0], [1, 2, 6]*ms, name='stimulus')
    cells = NeuronGroup(3, '''dv/dt = (ge - v)/(10*ms) : volt
                              dge/dt = -ge/(5*ms) : volt''',
                        threshold='v > 4*mV', reset='v = 0*mV', method='euler', name='cells')
    synapses = Synapses(stimulus, cells, on_pre='ge += 30*mV', delay=0.5*ms, name='synapses')
    synapses.connect(i=[0, 1, 1], j=[0, 1, 2])
    spikes = SpikeMonitor(cells, name='spikes')
    state = StateMonitor(cells, 'v', record=[0, 2], name='state')
    run(15*ms)
    print('SPIKES', list(spikes.i[:]), [round(float(t/ms), 3) for t in spikes.t[:]])
    plt.plot(state.t/ms, state.v[0]/mV)
    plt.show()
    print('final v', state.v[0][-1])
""")


@pytest.fixture(autouse=True)
def _numpy_code_generation(tmp_path):
    """Brian reads preferences from the working directory: no compilation in the subprocesses."""
    (tmp_path / "brian_preferences").write_text("codegen.target = 'numpy'\n")


def _cli(*arguments, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "brian2tools.nmlexport", *arguments],
                          cwd=cwd, capture_output=True, text=True, env=env, timeout=600,
                          check=False)


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return path


@needs_network_device
def test_exports_an_unmodified_script(tmp_path):
    script = _write(tmp_path, "network.py", SCRIPT)
    result = _cli("network.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    model = tmp_path / "network.xml"
    assert f"Exported 1 run(s) of network.py to {model}" in result.stdout
    # the script's device switch is ignored and its plotting failure reported, by name
    assert "ignored set_device('runtime')" in result.stderr
    assert "failed after the export of 1 run(s)" in result.stderr
    # the first statement that reads a monitor: nothing was simulated
    assert "NotSimulatedError" in result.stderr and "line 16" in result.stderr
    assert (tmp_path / "LEMSUnitsConstants.xml").exists()
    root = ET.parse(model).getroot()
    network = root.find("network")
    # compact connections, directly in the network: the cells and the delay (Brian's 5
    # steps, less half a step: see the user guide's timing section, in half steps) per
    # line; the synapse (a reference of the network) and the shared weight in the type
    lines = [e for e in network if e.get("f")]
    connection_type = root.find(f"ComponentType[@name='{lines[0].tag}']")
    event = connection_type.find("Structure/EventConnection")
    assert event.get("receiver") == "../synapses_pre"
    assert network.get("synapses_pre") == "synapses_pre"
    assert event.find("Assign").get("value") == "1"
    connections = sorted((e.get("f"), e.get("t"), e.get("d")) for e in lines)
    assert connections == [("stimulus[0]", "cells[0]", "9hdt"),
                           ("stimulus[1]", "cells[1]", "9hdt"),
                           ("stimulus[1]", "cells[2]", "9hdt")]
    assert root.find("Unit[@symbol='hdt']").get("scale") == "5e-05"
    assert script.read_text() == SCRIPT


def test_synapses_as_events_on_request(tmp_path):
    _write(tmp_path, "network.py", SCRIPT)
    result = _cli("network.py", "--synapses", "events", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    root = ET.parse(tmp_path / "network.xml").getroot()
    assert root.find("network/projection") is None
    connections = sorted((e.get("f"), e.get("t"), e.get("p"))
                         for e in root.find("network") if e.get("p"))
    assert connections == [("stimulus[0]", "cells[0]", "synapses_pre"),
                           ("stimulus[1]", "cells[1]", "synapses_pre"),
                           ("stimulus[1]", "cells[2]", "synapses_pre")]


def test_output_option_and_script_arguments(tmp_path):
    _write(tmp_path, "sized.py", textwrap.dedent("""
        import sys
        from brian2 import *
        group = NeuronGroup(int(sys.argv[1]), 'dv/dt = -v/(10*ms) : 1', name='group')
        run(1*ms)
    """))
    result = _cli("sized.py", "-o", "out/model", "7", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    population = ET.parse(tmp_path / "out" / "model.xml").getroot().find("network")[0]
    assert population.get("id") == "group" and len(population) == 7


@pytest.mark.parametrize("body, message", [
    ("G = NeuronGroup(2, 'dv/dt = -v/(10*ms) : 1')\n",
     "calls no run(): there is no network to export"),
    ("G = NeuronGroup(2, 'dv/dt = -v/(10*ms) : 1', threshold='v > 1', reset='v = 0')\n"
     "S = Synapses(G, G, 'w : 1', on_pre='w += 0.1', on_post='v_post = w', "
     "name='plastic')\n"
     "S.connect()\nrun(1*ms)\n",
     "'plastic'"),
    ("raise ValueError('broken script')\n", "failed before its first run(), nothing was "
     "exported: ValueError: broken script"),
])
def test_failed_exports_say_why(tmp_path, body, message):
    _write(tmp_path, "bad.py", "from brian2 import *\n" + body)
    result = _cli("bad.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "error: the script could not be exported" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "bad.xml").exists()


def test_missing_script_is_a_usage_error(tmp_path):
    result = _cli("nowhere.py", cwd=tmp_path)
    assert result.returncode == 2 and "No Brian script at 'nowhere.py'" in result.stderr


def test_missing_java_or_jneuroml_says_how_to_install_them(tmp_path):
    _write(tmp_path, "network.py", SCRIPT)
    env = dict(os.environ, PATH=str(tmp_path))  # no java on the PATH
    result = _cli("network.py", "--run", cwd=tmp_path, env=env)
    assert result.returncode == 3
    assert "Java was not found" in result.stderr and "https://adoptium.net" in result.stderr
    result = _cli("network.py", "--run", "--jar", str(tmp_path / "missing.jar"), cwd=tmp_path)
    if missing_jneuroml() is None or "Java" not in str(missing_jneuroml()):
        assert result.returncode == 3
        assert "No jNeuroML jar" in result.stderr and "pip install pyneuroml" in result.stderr


@needs_jneuroml
@needs_network_device
def test_run_simulates_and_lists_the_recordings(tmp_path):
    _write(tmp_path, "network.py", SCRIPT)
    result = _cli("network.py", "--run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    listed = [line.strip() for line in lines[lines.index(next(
        line for line in lines if line.startswith("Recordings"))) + 1:]]
    assert sorted(os.path.basename(path) for path in listed) == [
        "recording_network.dat", "recording_network.spikes"]
    # the spikes jNeuroML recorded are Brian's, one step later
    brian = subprocess.run([sys.executable, "network.py"], cwd=tmp_path, capture_output=True,
                           text=True, env=dict(os.environ, MPLBACKEND="Agg"), check=True)
    line = next(line for line in brian.stdout.splitlines() if line.startswith("SPIKES"))
    indices, times = eval(line[len("SPIKES"):].replace("] [", "], ["))  # noqa: S307
    recorded = np.loadtxt(tmp_path / "recording_network.spikes", ndmin=2)
    order = np.lexsort((recorded[:, 1], recorded[:, 0]))
    expected = sorted(zip(np.asarray(times) + 0.1, indices, strict=True))
    np.testing.assert_allclose(recorded[order][:, 0] * 1000, [t for t, _ in expected],
                               atol=1e-6)
    assert recorded[order][:, 1].astype(int).tolist() == [i for _, i in expected]
