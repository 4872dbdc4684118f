"""
The example scripts of the brian2tools 0.2 documentation, run as written.

The scripts below are the code of the 0.2 user's guide (``Plotting tools`` and
``NeuroML exporter``), copied without change except for the layout the PDF
export broke (indentation of continuation lines, page headers). They run
with Brian's numpy target (set by the test set-up, the scripts set no
target) at their documented sizes, and the tests check what they draw or
write against what the documentation says.

Documented behaviour that differs (see the release notes):

* the documented model shows the display lines of neurons 3 and 64 and
  spike selections for those two only, for ``record=[2, 63]``; the export
  records neurons 2 and 63 (Brian's indices) and, as Brian does for
  ``SpikeMonitor(group, record=...)`` (``record`` is a flag there, not a
  list of neurons), the spikes of all 100 neurons;
* component names (``neurongroup_cell`` instead of ``neuron1``) and the
  network's structure (one component per cell instead of a
  ``MultiInstantiate``) differ; jNeuroML runs the model unchanged.
"""

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import brian2
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from nml_helpers import missing_jneuroml

# ---- "Plotting recorded activity" --------------------------------------------
CUBA = """
from brian2 import *

Vt = -50*mV
Vr = -60*mV

eqs = '''dv/dt = (ge+gi-(v + 49*mV))/(20*ms) : volt (unless refractory)
dge/dt = -ge/(5*ms) : volt
dgi/dt = -gi/(10*ms) : volt
'''
P = NeuronGroup(4000, eqs, threshold='v>Vt', reset='v = Vr', refractory=5*ms,
                method='linear')
P.v = 'Vr + rand() * (Vt - Vr)'
P.ge = 0*mV
P.gi = 0*mV

we = (60*0.27/10)*mV # excitatory synaptic weight (voltage)
wi = (-20*4.5/10)*mV # inhibitory synaptic weight
Ce = Synapses(P[:3200], P, on_pre='ge += we')
Ci = Synapses(P[3200:], P, on_pre='gi += wi')
Ce.connect(p=0.02)
Ci.connect(p=0.02)

spike_mon = SpikeMonitor(P)
rate_mon = PopulationRateMonitor(P)
state_mon = StateMonitor(P, 'v', record=[0, 100, 1000]) # record three cells

run(1 * second)
"""

IMPORT = "from brian2tools import *\n"

# ---- "Plotting synaptic connections and variables" ---------------------------
SYNAPSES = """
from brian2 import *

group = NeuronGroup(100, 'dv/dt = -v / (10*ms) : volt',
                    threshold='v > -50*mV', reset='v = -60*mV')

synapses = Synapses(group, group, 'w : volt', on_pre='v += w')

# Connect to cells with indices no more than +/- 10 from the source index with
# a probability of 50% (but do not create self-connections)
synapses.connect(j='i+k for k in sample(-10, 10, p=0.5) if k != 0',
                 skip_if_invalid=True) # ignore values outside of the limits
# Set synaptic weights depending on the distance (in terms of indices) between
# the source and target cell and add some randomness
synapses.w = '(exp(-(i - j)**2/10.) + 0.5 * rand())*mV'
# Set synaptic weights randomly
synapses.delay = '1*ms + 2*ms*rand()'
"""

# ---- "Plotting neuronal morphologies" ----------------------------------------
MORPHOLOGY = """
from brian2 import *

morpho = Morphology.from_file('51-2a.CNG.swc')
"""

# ---- "NeuroML exporter: Working example" -------------------------------------
NML_EXPORT = """
from brian2 import *
import brian2tools.nmlexport

set_device('neuroml2', filename="nml2model.xml")

n = 100
duration = 1*second
tau = 10*ms

eqs = '''
dv/dt = (v0 - v) / tau : volt (unless refractory)
v0 : volt
'''
group = NeuronGroup(n, eqs, threshold='v > 10*mV', reset='v = 0*mV',
                    refractory=5*ms, method='linear')
group.v = 0*mV
group.v0 = '20*mV * i / (N-1)'

rec_idx = [2, 63]
statemonitor = StateMonitor(group, 'v', record=rec_idx)
spikemonitor = SpikeMonitor(group, record=rec_idx)

run(duration)
"""


def _run(code, namespace, name):
    exec(compile(code, f"<0.2 docs: {name}>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def cuba():
    """The CUBA network of the documentation, simulated once for all plotting examples."""
    brian2.prefs.codegen.target = "numpy"
    brian2.start_scope()
    namespace = _run(CUBA, {}, "CUBA")
    return _run(IMPORT, namespace, "import")


def _snippet(namespace, code):
    """Run one documented snippet in a new figure; return the figure."""
    plt.figure()
    _run(code, dict(namespace), "plot")
    return plt.gcf()


def _same_colour(actual, expected):
    return to_rgba(actual) == pytest.approx(to_rgba(expected))


# ------------------------------------------------------------------------------
# Plotting recorded activity
# ------------------------------------------------------------------------------
def test_raster_of_the_spike_monitor(cuba):
    spike_mon = cuba["spike_mon"]
    assert spike_mon.num_spikes > 1000  # the network is active
    (line,) = _snippet(cuba, "brian_plot(spike_mon)").axes[0].lines
    scale = 1.0 if "(s)" in line.axes.get_xlabel() else 1e3
    assert line.get_xdata() == pytest.approx(np.asarray(spike_mon.t) * scale)
    assert np.array_equal(line.get_ydata(), spike_mon.i[:])
    assert line.get_linestyle() == "None"
    assert line.axes.get_ylabel() == "neuron index"

    ax = _snippet(cuba, "plot_raster(spike_mon.i, spike_mon.t, time_unit=second, "
                        "marker=',', color='k')").axes[0]
    (line,) = ax.lines
    assert ax.get_xlabel() == "time (s)"
    assert line.get_xdata() == pytest.approx(np.asarray(spike_mon.t))
    assert line.get_marker() == "," and _same_colour(line.get_color(), "k")


def test_rates(cuba):
    rate_mon = cuba["rate_mon"]
    ax = _snippet(cuba, "brian_plot(rate_mon)").axes[0]
    (line,) = ax.lines
    # "the rate smoothed with a Gaussian window with 1ms standard deviation":
    # Brian's window (cut at two standard deviations), normalised by its overlap
    # with the recording, so that the ends are not pulled towards zero
    brian_smoothed = np.asarray(rate_mon.smooth_rate(window="gaussian", width=1 * brian2.ms))
    steps = int(round(float(1 * brian2.ms / rate_mon.clock.dt)))
    offsets = np.arange(-2 * steps, 2 * steps + 1)
    window = np.exp(-offsets**2 / (2 * steps**2))
    window /= window.sum()
    overlap = np.convolve(np.ones(len(brian_smoothed)), window, mode="same")
    assert line.get_ydata() == pytest.approx(brian_smoothed / overlap)
    inside = slice(2 * steps, -2 * steps)  # away from the ends: Brian's own values
    assert line.get_ydata()[inside] == pytest.approx(brian_smoothed[inside])
    assert ax.get_ylabel() == "rate (Hz)"

    code = ("plot_rate(rate_mon.t, rate_mon.smooth_rate(window='flat', width=10.1*ms),\n"
            "          linewidth=3, color='gray')")
    (line,) = _snippet(cuba, code).axes[0].lines
    flat = np.asarray(rate_mon.smooth_rate(window="flat", width=10.1 * brian2.ms))
    assert line.get_ydata() == pytest.approx(flat)
    assert line.get_linewidth() == 3 and _same_colour(line.get_color(), "gray")


def test_state_variables(cuba):
    state_mon = cuba["state_mon"]
    ax = _snippet(cuba, "brian_plot(state_mon)").axes[0]
    assert len(ax.lines) == 3
    for line, trace in zip(ax.lines, state_mon.v, strict=True):
        assert line.get_ydata() == pytest.approx(np.asarray(trace / brian2.mV))
    assert ax.get_ylabel() == "v (mV)"

    (line,) = _snippet(cuba, "brian_plot(state_mon[1000])").axes[0].lines
    assert line.get_ydata() == pytest.approx(np.asarray(state_mon[1000].v / brian2.mV))

    code = ("ax = plot_state(state_mon.t, state_mon.v.T, var_name='membrane potential', lw=2)\n"
            "ax.legend(['neuron 0', 'neuron 100', 'neuron 1000'], frameon=False, loc='best')")
    ax = _snippet(cuba, code).axes[0]
    assert [line.get_linewidth() for line in ax.lines] == [2, 2, 2]
    assert ax.get_ylabel() == "membrane potential (mV)"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "neuron 0", "neuron 100", "neuron 1000"]


# ------------------------------------------------------------------------------
# Plotting synaptic connections and variables
# ------------------------------------------------------------------------------
@pytest.fixture
def synapse_example():
    return _run(IMPORT, _run(SYNAPSES, {}, "synapses"), "import")


def _connection_counts(synapses):
    counts = np.zeros((100, 100))
    np.add.at(counts, (synapses.i[:], synapses.j[:]), 1)
    return counts


def test_connections(synapse_example):
    synapses = synapse_example["synapses"]
    ax = _snippet(synapse_example, "brian_plot(synapses)").axes[0]
    (image,) = ax.images
    # the connection matrix, sources along x
    assert np.array_equal(np.asarray(image.get_array()).T != 0,
                          _connection_counts(synapses) != 0)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("source neuron index", "target neuron index")

    code = "plot_synapses(synapses.i, synapses.j, plot_type='scatter', color='gray', marker='s')"
    (points,) = _snippet(synapse_example, code).axes[0].collections
    assert np.array_equal(points.get_offsets(), np.column_stack([synapses.i[:], synapses.j[:]]))
    assert _same_colour(points.get_facecolor()[0], "gray")


def test_many_synapses_as_a_hexagonal_histogram(synapse_example):
    code = """
big_group = NeuronGroup(10000, '')
many_synapses = Synapses(big_group, big_group)
many_synapses.connect(j='i+k for k in range(-2000, 2000) if rand() < exp(-(k/1000.)**2)',
                      skip_if_invalid=True)
brian_plot(many_synapses)
"""
    namespace = dict(synapse_example)
    plt.figure()
    _run(code, namespace, "many synapses")
    hexbin = plt.gcf().axes[0].collections[0]
    assert type(hexbin).__name__ == "PolyCollection"
    assert hexbin.get_array().sum() == len(namespace["many_synapses"]) > 10**7


def test_synaptic_variables(synapse_example):
    synapses = synapse_example["synapses"]
    code = ("subplot(1, 2, 1)\nbrian_plot(synapses.w)\nsubplot(1, 2, 2)\n"
            "brian_plot(synapses.delay)\ntight_layout()")
    figure = _snippet(synapse_example, code)
    images = [ax.images[0] for ax in figure.axes if ax.images]
    labels = [ax.get_ylabel() for ax in figure.axes if not ax.images]
    assert labels == ["w (mV)", "delay (ms)"]
    weights = np.full((100, 100), np.nan)
    weights[synapses.i[:], synapses.j[:]] = synapses.w[:] / brian2.mV
    assert np.ma.filled(images[0].get_array(), np.nan).T == pytest.approx(weights, nan_ok=True)

    code = ("ax = plot_synapses(synapses.i, synapses.j, synapses.w, var_name='synaptic weights',\n"
            "                   plot_type='scatter', cmap='hot')\n"
            "add_background_pattern(ax)\nax.set_title('Recurrent connections')")
    figure = _snippet(synapse_example, code)
    ax = figure.axes[0]
    (points,) = ax.collections
    assert np.ma.getdata(points.get_array()) == pytest.approx(np.asarray(synapses.w[:] / brian2.mV))
    assert points.get_cmap().name == "hot"
    assert ax.get_title() == "Recurrent connections"
    assert ax.patches  # the background pattern
    assert figure.axes[1].get_ylabel() == "synaptic weights (mV)"


def test_multiple_synapses_per_pair(synapse_example):
    code = ("synapses.connect(j='i+k for k in sample(-10, 10, p=0.5) if k != 0',\n"
            "                 skip_if_invalid=True)\nbrian_plot(synapses)")
    figure = _snippet(synapse_example, code)
    synapses = synapse_example["synapses"]
    counts = _connection_counts(synapses)
    assert counts.max() == 2
    (image,) = figure.axes[0].images
    assert np.ma.filled(image.get_array(), 0).T == pytest.approx(counts)
    assert figure.axes[1].get_ylabel() == "number of synapses"


# ------------------------------------------------------------------------------
# Plotting neuronal morphologies
# ------------------------------------------------------------------------------
@pytest.fixture
def morphology_example(tmp_path, monkeypatch):
    # The documented reconstruction (NeuroMorpho.org 51-2a) is not shipped and
    # cannot be downloaded here: Brian's own SWC file stands in for it, under
    # the documented name, so that the script runs as written.
    swc = Path(brian2.__file__).parent / "spatialneuron" / "mp_ma_40984_gc2.CNG.swc"
    shutil.copy(swc, tmp_path / "51-2a.CNG.swc")
    monkeypatch.chdir(tmp_path)
    return _run(IMPORT, _run(MORPHOLOGY, {}, "morphology"), "import")


def test_morphology_plots(morphology_example):
    ax = _snippet(morphology_example, "brian_plot(morpho)").axes[0]
    assert ax.get_ylabel() == "distance from root (µm)"  # a dendrogram
    ax = _snippet(morphology_example, "plot_morphology(morpho)").axes[0]
    assert ax.name == "3d"
    ax = _snippet(morphology_example, "plot_morphology(morpho, plot_3d=False)").axes[0]
    assert ax.name == "rectilinear" and ax.get_xlabel() == "x (µm)"
    # the default: sections alternately blue and red
    lines = [c for c in ax.collections if type(c).__name__ == "LineCollection"]
    colours = {tuple(np.round(colour, 3)) for colour in lines[0].get_edgecolor()}
    assert len(colours) == 2
    code = ("plot_morphology(morpho, plot_3d=True, show_compartments=True,\n"
            "                show_diameter=True, colors=('darkblue',))")
    ax = _snippet(morphology_example, code).axes[0]
    assert ax.name == "3d"
    morpho = morphology_example["morpho"]
    compartments = [c for c in ax.collections if type(c).__name__ == "Path3DCollection"]
    # a marker for every compartment (and the ends of the sections)
    assert len(compartments) == 1
    assert len(compartments[0].get_offsets()) >= morpho.total_compartments
    # "do not use the default alternation between blue and red for each section"
    sections = [c for c in ax.collections if type(c).__name__ == "Line3DCollection"]
    assert all(_same_colour(colour, "darkblue") for colour in sections[0].get_edgecolor())
    soma = [c for c in ax.collections if type(c).__name__ == "Poly3DCollection"]
    faces = soma[0].get_facecolor()  # darkblue, shaded by the 3D lighting
    assert len(faces) and np.all(faces[:, :2] == 0) and np.all(faces[:, 2] > 0)


# ------------------------------------------------------------------------------
# NeuroML exporter
# ------------------------------------------------------------------------------
@pytest.fixture
def nml_export(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _run(NML_EXPORT, {}, "NeuroML export")
    return tmp_path


def test_export_writes_the_documented_files(nml_export):
    # "a file nml2model.xml and an additional file LEMSUnitsConstants.xml"
    assert sorted(path.name for path in nml_export.iterdir()) == [
        "LEMSUnitsConstants.xml", "nml2model.xml"]
    root = ET.parse(nml_export / "nml2model.xml").getroot()
    assert root.tag == "Lems"
    assert [include.get("file") for include in root.findall("Include")] == [
        "NeuroML2CoreTypes.xml", "Simulation.xml", "LEMSUnitsConstants.xml"]
    (cell,) = [c for c in root.findall("ComponentType") if c.get("extends") == "baseCell"]
    assert cell.find("EventPort[@name='spike']") is not None
    assert cell.find("Exposure[@name='v']").get("dimension") == "voltage"
    constants = ET.parse(nml_export / "LEMSUnitsConstants.xml").getroot()
    assert any(c.get("name") == "mV" or c.get("symbol") == "mV" for c in constants.iter())
    simulation = root.find("Simulation")
    assert simulation.get("length").replace(" ", "") == "1s"
    assert simulation.get("step").replace(" ", "") in ("0.1ms", "0.0001s")
    assert root.find("network") is not None
    # the recorded neurons: Brian's indices 2 and 63 (the 0.2 docs show 3 and 64)
    lines = [line.get("quantity") for line in simulation.iter("Line")]
    columns = [column.get("quantity") for column in simulation.iter("OutputColumn")]
    assert [q.split("/")[0].split("[")[1] for q in lines] == ["2]", "63]"]
    assert lines == columns and all(q.endswith("/v") for q in lines)
    assert simulation.find("EventOutputFile").get("format") == "TIME_ID"


def test_recording_files_are_named_after_the_model_file(nml_export):
    # "The name of the output file is recording_<<filename>>.dat" (and .spikes)
    simulation = ET.parse(nml_export / "nml2model.xml").getroot().find("Simulation")
    assert [output.get("fileName") for output in simulation.iter("OutputFile")] == [
        "recording_nml2model.dat"]
    assert [output.get("fileName") for output in simulation.iter("EventOutputFile")] == [
        "recording_nml2model.spikes"]


@pytest.mark.skipif(missing_jneuroml() is not None, reason=str(missing_jneuroml()))
def test_jnml_simulates_the_exported_model(nml_export):
    # "With jnml installed you can run the simulation as follows: jnml nml2model.xml"
    from brian2tools.nmlexport.cli import run_jneuroml

    _, recordings = run_jneuroml(nml_export / "nml2model.xml", timeout=600)
    (state,) = [path for path in recordings if path.suffix == ".dat"]
    (spikes,) = [path for path in recordings if path.suffix == ".spikes"]
    trace = np.loadtxt(state)
    assert trace.shape == (10001, 3)  # time, v of neurons 2 and 63
    # neuron 2 relaxes towards v0 = 20 mV * 2/99 without spiking
    assert trace[-1, 1] == pytest.approx(20e-3 * 2 / 99, rel=1e-3)
    assert trace[:, 2].max() <= 10e-3 + 1e-4  # neuron 63 is reset at threshold
    fired = np.loadtxt(spikes, ndmin=2)[:, 1].astype(int)
    # only neurons whose v0 is above the threshold of 10 mV fire
    assert set(fired) == set(range(50, 100))
