"""
What the Markdown device describes beyond the NeuroML export, and the NeuroML export refuses.

For each feature the collection layer now describes (network operations,
groups on their own clock, linked variables, ``store()``/``restore()``,
custom events, noise, multi-compartment neurons), a tiny script runs under
the ``'markdown'`` device and the test reads the Markdown it wrote; the
same script under the ``'neuroml2'`` device must be refused with an
`UnsupportedFeatureError` that names the object and the feature, and write
no model file.
"""

import numpy as np
import pytest
from brian2 import (
    Clock,
    Cylinder,
    EventMonitor,
    NeuronGroup,
    Soma,
    SpatialNeuron,
    StateMonitor,
    cm,
    device,
    linked_var,
    ms,
    mV,
    network_operation,
    nS,
    ohm,
    restore,
    run,
    set_device,
    siemens,
    store,
    uF,
    um,
)
from brian2.units.fundamentalunits import Quantity

import brian2tools.mdexport  # noqa: F401 -- registers the 'markdown' device
import brian2tools.nmlexport  # noqa: F401 -- registers the 'neuroml2' device
from brian2tools.baseexport import UnsupportedFeatureError
from brian2tools.baseexport.legacy import legacy_layout
from brian2tools.nmlexport.unsupported import refuse_unsupported


# --------------------------------------------------------------------------- #
# Tiny scripts (each in its own frame, so Brian finds its names)
# --------------------------------------------------------------------------- #
def network_operation_script():
    group = NeuronGroup(2, "dv/dt = (I - v)/(10*ms) : 1\nI : 1", method="exact", name="cells")

    @network_operation(dt=1 * ms, name="drive")
    def drive_cells(t):
        """Drive the cells with a ramp.

        A second paragraph that the description leaves out.
        """
        group.I = float(t / ms) / 10

    run(2 * ms)


def own_clock_script():
    fast = NeuronGroup(2, "dv/dt = -v/(10*ms) : 1", method="exact", name="fast")  # noqa: F841
    slow = NeuronGroup(2, "dw/dt = -w/(50*ms) : 1", method="exact", name="slow",  # noqa: F841
                       clock=Clock(dt=0.5 * ms, name="slow_clock"))
    run(2 * ms)


def linked_script():
    source = NeuronGroup(2, "dx/dt = (1 - x)/(10*ms) : 1", method="exact", name="driver")
    follower = NeuronGroup(4, "dv/dt = (x_in - v)/(10*ms) : 1\nx_in : 1 (linked)",
                           method="exact", name="follower")
    follower.x_in = linked_var(source, "x", index=[0, 0, 1, 1])
    run(1 * ms)


def store_restore_script():
    group = NeuronGroup(3, "dv/dt = (I - v)/(10*ms) : 1\nI : 1 (shared)", method="exact",
                        name="trial_cells")
    store("trial")
    for amplitude in (1.5, 2.5):
        restore("trial")
        group.I = amplitude
        run(2 * ms)


def odd_clock_script():
    # a dt that is not a whole number of simulation steps: refused by the NeuroML export
    slow = NeuronGroup(2, "dw/dt = -w/(50*ms) : 1", method="exact", name="slow",  # noqa: F841
                       clock=Clock(dt=0.25 * ms, name="slow_clock"))
    run(2 * ms)


def linked_to_reset_script():
    # a source with a reset cannot be copied into the linked cells: refused
    source = NeuronGroup(2, "dx/dt = (2 - x)/(10*ms) : 1", threshold="x > 1", reset="x = 0",
                         method="exact", name="driver")
    follower = NeuronGroup(4, "dv/dt = (x_in - v)/(10*ms) : 1\nx_in : 1 (linked)",
                           method="exact", name="follower")
    follower.x_in = linked_var(source, "x", index=[0, 0, 1, 1])
    run(1 * ms)


def custom_event_script():
    group = NeuronGroup(2, "dv/dt = (1.2 - v)/(10*ms) : 1\ndca/dt = -ca/(50*ms) : 1",
                        threshold="v > 1", reset="v = 0", events={"high": "v > 0.8"},
                        method="exact", name="calcium")
    group.run_on_event("high", "ca += 0.1")
    monitor = EventMonitor(group, "high", name="high_events")  # noqa: F841
    run(1 * ms)


def noise_script():
    noisy = NeuronGroup(3, "dv/dt = -v/(10*ms) + 0.5*xi/sqrt(10*ms) : 1",  # noqa: F841
                        method="euler", name="noisy")
    ou = NeuronGroup(2, "dI/dt = -I/(5*ms) + xi_input/sqrt(5*ms) + xi_2/sqrt(5*ms) : 1",  # noqa: F841
                     method="euler", name="ou")
    run(1 * ms)


def spatial_script():
    morphology = Soma(diameter=20 * um)
    morphology.dend = Cylinder(length=100 * um, diameter=2 * um, n=4)
    neuron = SpatialNeuron(morphology, "Im = gL*(EL - v) : amp/meter**2\nI : amp (point current)",
                           Cm=1 * uF / cm**2, Ri=100 * ohm * cm, method="exponential_euler",
                           name="ball_stick",
                           namespace={"gL": 1e-4 * siemens / cm**2, "EL": -65 * mV})
    neuron.v = -65 * mV
    neuron.I[0] = 0.1 * nS * mV
    monitor = StateMonitor(neuron, "v", record=[0, 4], name="dendrite_v")  # noqa: F841
    run(1 * ms)


def _markdown(tmp_path, script):
    set_device("markdown", filename=str(tmp_path / "model"))
    script()
    return device.runs, (tmp_path / "model.md").read_text(encoding="utf-8")


def _refused_by_neuroml(tmp_path, script) -> UnsupportedFeatureError:
    set_device("neuroml2", filename=str(tmp_path / "model.xml"))
    with pytest.raises(UnsupportedFeatureError) as raised:
        script()
    assert not (tmp_path / "model.xml").exists()
    return raised.value


# --------------------------------------------------------------------------- #
# Described and rendered
# --------------------------------------------------------------------------- #
def test_network_operation_described(tmp_path):
    runs, text = _markdown(tmp_path, network_operation_script)
    operation = runs[0]["network_operations"][0]
    assert operation["name"] == "drive"
    assert operation["function"] == "network_operation_script.<locals>.drive_cells"
    assert operation["doc"] == "Drive the cells with a ramp."
    assert float(operation["dt"]) == pytest.approx(1e-3)
    assert operation["when"] == "start" and operation["continued"] is False
    assert "### Python code run during the simulation\n\n" in text
    assert ("- **Network operation `drive`** calls the Python function "
            "`network_operation_script.<locals>.drive_cells()` every $1\\,\\mathrm{m}\\mathrm{s}$ "
            "(in the `start` slot of the time step): \"Drive the cells with a ramp.\"") in text
    assert "second paragraph" not in text


def test_own_clock_described(tmp_path):
    runs, text = _markdown(tmp_path, own_clock_script)
    groups = {group["name"]: group for group in runs[0]["neurongroups"]}
    assert "clock" not in groups["fast"]
    assert groups["slow"]["clock"]["name"] == "slow_clock"
    assert float(groups["slow"]["clock"]["dt"]) == pytest.approx(0.5e-3)
    slow = text[text.index("#### Neuron group `slow`"):]
    assert ("Simulated on its own clock `slow_clock`, with time step "
            "$dt = 0.5\\,\\mathrm{m}\\mathrm{s}$ (the simulation's is "
            "$100\\,\\mathrm{\\mu}\\mathrm{s}$).") in slow
    fast = text[text.index("#### Neuron group `fast`"):text.index("#### Neuron group `slow`")]
    assert "own clock" not in fast


def test_linked_variable_described(tmp_path):
    runs, text = _markdown(tmp_path, linked_script)
    follower = next(g for g in runs[0]["neurongroups"] if g["name"] == "follower")
    equation = next(eq for eq in follower["equations"] if eq["name"] == "x_in")
    assert equation["linked"]["group"] == "driver"
    assert equation["linked"]["variable"] == "x"
    np.testing.assert_array_equal(equation["linked"]["index"], [0, 0, 1, 1])
    # the values belong to the driver: not listed as the follower's own
    assert "x_in" not in follower["initial_values"]
    assert ("$x_{\\mathrm{in}}$ is linked to $x$ of `driver`: neuron $k$ reads the value of "
            "neuron") in text
    assert "x_{\\mathrm{in}} &\\ \\text{(parameter)} && [1] && \\text{linked}" in text


def test_store_restore_described(tmp_path):
    runs, text = _markdown(tmp_path, store_restore_script)
    assert len(runs) == 2
    assert [action["action"] for action in runs[0]["actions"]] == ["store", "restore"]
    assert [action["action"] for action in runs[1]["actions"]] == ["restore"]
    assert runs[1]["actions"][0]["name"] == "trial"
    # restore() took the second trial back to the stored time
    assert float(runs[1]["t_start"]) == 0.0
    assert "from $t = 0\\,\\mathrm{s}$ to $t = 2\\,\\mathrm{m}\\mathrm{s}$" in text.split(
        "## Run 2")[1]
    second = text.split("## Run 2 of 2")[1]
    assert ("- `restore('trial')`: the state stored as `trial` was restored, back to "
            "$t = 0\\,\\mathrm{s}$.") in second
    assert "- `store('trial')`: the state at $t = 0\\,\\mathrm{s}$ was stored as `trial`." in text
    assert "$I = 2.5$" in second


def test_custom_event_and_noise_described(tmp_path):
    _, text = _markdown(tmp_path, custom_event_script)
    assert "- **Custom event `high`** when $v > 0.8$, then:" in text
    assert "- **Event monitor `high_events`** records the `high` events" in text
    set_device("runtime")
    _, text = _markdown(tmp_path, noise_script)
    noisy = text[text.index("#### Neuron group `noisy`"):text.index("#### Neuron group `ou`")]
    assert "\n$\\xi$ is Gaussian white noise (unit $\\mathrm{s}^{-1/2}$).\n" in noisy
    ou = text[text.index("#### Neuron group `ou`"):]
    assert ("$\\xi_{2}$ and $\\xi_{\\mathrm{input}}$ are independent Gaussian white noises "
            "(unit $\\mathrm{s}^{-1/2}$).") in ou


def test_spatial_neuron_described(tmp_path):
    _, text = _markdown(tmp_path, spatial_script)
    assert "#### Multi-compartment neuron `ball_stick`\n\n5 compartments in 2 sections:" in text
    assert ("| dend | Cylinder | 1 to 4 | $100\\,\\mathrm{\\mu}\\mathrm{m}$ | "
            "$2\\,\\mathrm{\\mu}\\mathrm{m}$ |") in text
    assert "| soma (root) | Soma | 0 |  | $20\\,\\mathrm{\\mu}\\mathrm{m}$ |" in text
    assert "intracellular resistivity $1\\,\\mathrm{ohm}\\,\\mathrm{m}$" in text
    assert "Point currents (injected into single compartments, in amperes): $I$." in text
    # the script's own initial values, not those Brian sets from the morphology
    initial = text.split("Initial values:")[1]
    assert "$v = -65\\,\\mathrm{m}\\mathrm{V}$" in initial
    assert "for compartment 0" in initial and "diameter" not in initial
    assert "records $v$ of compartments 0, 4 of `ball_stick`" in text


# --------------------------------------------------------------------------- #
# Refused by name by the NeuroML export
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("script, name, feature", [
    (network_operation_script, "drive",
     "the network_operation 'drive': the Python function "
     "'network_operation_script.<locals>.drive_cells' (Drive the cells with a ramp.)"),
    # own clocks, linked variables and trials are exported where exact; their
    # refusals, also of a restore() back to t > 0, in test_nmlexport_clocks.py
    (odd_clock_script, "slow", "its own clock 'slow_clock' with dt=250. us, not a whole "
                               "multiple of the simulation's dt=100. us"),
    (linked_to_reset_script, "follower",
     "the linked variable 'x_in' (linked to 'x' of 'driver')"),
])
def test_neuroml_refuses_by_name(tmp_path, script, name, feature):
    error = _refused_by_neuroml(tmp_path, script)
    assert error.object_name == name
    assert feature in error.feature
    assert f"Cannot export '{name}'" in str(error)


def test_refuse_unsupported_on_descriptions():
    dt = 0.1 * ms
    group = {"name": "cells", "equations": [], "clock": None}
    refuse_unsupported([{"index": 0, "dt": dt, "neurongroups": [group]}])  # nothing to refuse
    stored = {"action": "store", "name": "default", "network": "net", "t": 0 * ms}
    refuse_unsupported([{"index": 0, "dt": dt, "actions": [stored]}])  # store() alone is harmless
    restored = dict(stored, action="restore")
    with pytest.raises(UnsupportedFeatureError, match=r"'net'.*restore\(\) of the state "
                       r"'default' \(back to t = 0. s\) before run 2"):
        refuse_unsupported([{"index": 0, "dt": dt}, {"index": 1, "dt": dt,
                                                       "actions": [restored]}])
    clocked = dict(group, clock={"name": "slow_clock", "dt": Quantity(1 * ms)})
    with pytest.raises(UnsupportedFeatureError, match="'cells'.*own clock 'slow_clock'"):
        refuse_unsupported([{"index": 0, "dt": dt, "synapses": [clocked]}])


def test_legacy_layout_keeps_the_new_parts():
    set_device("exporter")
    network_operation_script()
    layout = legacy_layout(device.runs[0])
    (operation,) = layout["components"]["network_operation"]
    assert operation["name"] == "drive"
    assert operation["function"].endswith("drive_cells")
    device.reinit()
    set_device("exporter")
    own_clock_script()
    layout = legacy_layout(device.runs[0])
    slow = next(g for g in layout["components"]["neurongroup"] if g["name"] == "slow")
    assert float(slow["dt"]) == pytest.approx(0.5e-3)
    assert float(next(g for g in layout["components"]["neurongroup"]
                      if g["name"] == "fast")["dt"]) == pytest.approx(1e-4)


def test_nml_exporter_refuses_collected_runs():
    # the 'exporter' device's descriptions given to the NeuroML renderer directly
    from brian2tools.nmlexport import NMLExporter

    set_device("exporter")
    store_restore_script()
    with pytest.raises(UnsupportedFeatureError) as raised:
        # one simulation cannot go back in time; the device exports trials (.trials)
        NMLExporter().create_lems_model(device.runs)
    assert raised.value.object_name == "magicnetwork"
    assert "restore() of the state 'trial'" in raised.value.feature


def test_failed_render_is_not_an_exported_run(tmp_path):
    # a run whose Markdown cannot be rendered is not counted (the command line
    # reported such runs as described, with no file written)
    set_device("markdown", filename=str(tmp_path / "model"),
               templates={"neurongroup.md": "{{ group.no_such_key }}"})
    with pytest.raises(ValueError, match="no attribute .no_such_key."):
        noise_script()
    assert device.runs == []
    assert not (tmp_path / "model.md").exists()
