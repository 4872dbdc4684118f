"""
Scripts and exporters written for brian2tools 0.3 keep working.

* A custom exporter written against 0.3's documentation of ``device.runs``
  (``'components'``, ``'initializers_connectors'``, equations keyed by name,
  ``'identifiers'``, ``'user_method'``...) runs on real Brian scripts and
  writes what the model is.
* The ``'markdown'`` device's 0.3 options: ``expander=MdExpander(github_md=...,
  author=..., add_meta=...)``, ``filename=''``, ``debug``, ``device.md_text``.
"""

import os
import sys

import brian2
import numpy as np
import pytest
from brian2 import (
    EventMonitor,
    Hz,
    NeuronGroup,
    PoissonGroup,
    PoissonInput,
    PopulationRateMonitor,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    device,
    ms,
    mV,
    run,
    set_device,
    volt,
)
from brian2.devices.device import all_devices
from brian2.tests.utils import assert_allclose

import brian2tools
import brian2tools.mdexport  # noqa: F401 (registers the 'markdown' device)
from brian2tools.baseexport import BaseExporter, write_text_atomic
from brian2tools.baseexport.legacy import legacy_layout
from brian2tools.mdexport.expander import MdExpander


# --------------------------------------------------------------------------- #
# A custom exporter as 0.3's documentation told users to write one
# --------------------------------------------------------------------------- #
class LegacyTextExporter(BaseExporter):
    """Writes one line per fact, reading only 0.3's keys of ``self.runs``."""

    def build(self, direct_call=True, debug=False, filename=None):  # 0.3's signature
        lines = []
        for run_dict in self.runs:
            lines.append(f"run {float(run_dict['duration']):g} s")
            components = run_dict["components"]
            for group in components.get("neurongroup", []):
                lines.append(f"group {group['name']} N={group['N']} "
                             f"method={group['user_method']}")
                for var, equation in group["equations"].items():
                    lines.append(f"  eq {var} {equation['type']} "
                                 f"{equation.get('expr', '-')} [{equation['unit']!r}] "
                                 f"{','.join(equation.get('flags', []))}")
                for event, parts in group["events"].items():
                    lines.append(f"  event {event} if {parts['threshold']['code']} "
                                 f"({parts['threshold']['when']}) "
                                 f"then {parts.get('reset', {}).get('code')} "
                                 f"refractory={parts.get('refractory')}")
                for name, value in group["identifiers"].items():
                    lines.append(f"  const {name}={value!r}")
            for synapses in components.get("synapses", []):
                lines.append(f"synapses {synapses['name']} {synapses['source']}->"
                             f"{synapses['target']}")
                for pathway in synapses["pathways"]:
                    lines.append(f"  on {pathway['prepost']} {pathway['event']}: "
                                 f"{pathway['code']} ({pathway['name']}, {pathway['when']})")
            for kind in ("poissongroup", "spikegeneratorgroup", "poissoninput", "statemonitor",
                         "spikemonitor", "eventmonitor", "populationratemonitor"):
                for item in components.get(kind, []):
                    lines.append(f"{kind} {item['name']}")
            for step in run_dict["initializers_connectors"]:
                if step["type"] == "initializer":
                    lines.append(f"init {step['source']}.{step['variable']} = {step['value']!r}"
                                 f" at {step['index']!r}")
                else:
                    lines.append(f"connect {step['synapses']} p={step['probability']}")
            lines.append(f"inactive {run_dict['inactive']}")
        self.text = "\n".join(lines) + "\n"
        if filename:
            write_text_atomic(filename, self.text)


@pytest.fixture
def legacy_device():
    all_devices["legacy_text"] = LegacyTextExporter()
    yield
    del all_devices["legacy_text"]


def test_custom_exporter_written_for_0_3(tmp_path, legacy_device):
    target = tmp_path / "model.txt"
    set_device("legacy_text", filename=str(target))
    tau_m = 20 * ms  # noqa: F841 (used through the namespace)
    v_th = -50 * mV  # noqa: F841
    wi = -9 * mV  # noqa: F841
    cells = NeuronGroup(4, """dv/dt = (ge + gi - v)/tau_m : volt (unless refractory)
                              dge/dt = -ge/(5*ms) : volt
                              dgi/dt = -gi/(10*ms) : volt""",
                        threshold="v > v_th", reset="v = 0*mV", refractory=2 * ms,
                        method="exact", name="cells")
    cells.v = "-60*mV + rand()*10*mV"
    inh = Synapses(cells[2:], cells, on_pre="gi += wi", name="inh")
    inh.connect(p=0.5)
    cells.ge = 1 * mV
    trace = StateMonitor(cells, "v", record=[0, 3], name="trace")  # noqa: F841
    spikes = SpikeMonitor(cells, name="spikes")  # noqa: F841
    run(10 * ms)
    text = target.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "run 0.01 s"
    assert lines[1] == "group cells N=4 method=exact"
    # equations keyed by name, in the order the script wrote them; 0.3 left out empty keys
    assert lines[2:5] == [
        "  eq v differential equation (ge + gi - v)/tau_m [volt] unless refractory",
        "  eq ge differential equation -ge/(5*ms) [volt] ",
        "  eq gi differential equation -gi/(10*ms) [volt] ",
    ]
    assert lines[5] == ("  event spike if v > v_th (thresholds) then v = 0*mV "
                        "refractory=2. ms")
    assert "  const tau_m=20. * msecond" in lines and "  const v_th=-50. * mvolt" in lines
    assert "synapses inh cells->cells" in lines
    assert "  on pre spike: gi += wi (inh_pre, synapses)" in lines
    assert "statemonitor trace" in lines and "spikemonitor spikes" in lines
    # assignments and connect() in the order of the script
    steps = [line for line in lines if line.startswith(("init", "connect"))]
    assert steps == ["init cells.v = '-60*mV + rand()*10*mV' at True",
                     "connect inh p=0.5",
                     "init cells.ge = 1. * mvolt at True"]
    assert lines[-1] == "inactive []"


def test_every_kind_in_the_0_3_layout(legacy_device):
    set_device("exporter")
    group = NeuronGroup(6, "dv/dt = -v/(10*ms) : 1\nI : 1", threshold="v > 1", reset="v = 0",
                        events={"half": "v > 0.5"}, name="group")
    group.run_on_event("half", "I += 1")
    rates = PoissonGroup(3, 5 * Hz, name="rates")  # noqa: F841 (in the network)
    generator = SpikeGeneratorGroup(2, [0, 1], [1, 2] * ms, name="generator")
    synapses = Synapses(generator, group, "w : 1\nI_post = w : 1 (summed)",
                        on_pre="v += 0.1", name="syn")
    synapses.connect(i=[0, 1], j=[2, 3])
    # (run() collects the objects the script's variables name)
    poisson_input = PoissonInput(group, "v", 5, 10 * Hz, weight=0.01)  # noqa: F841
    state = StateMonitor(group[1:4], "v", record=True, name="part")  # noqa: F841
    halves = EventMonitor(group, "half", name="halves")  # noqa: F841
    rate = PopulationRateMonitor(group, name="rate")  # noqa: F841
    group.v["i > 2"] = 0.2
    run(5 * ms)
    layout = device.runs[0]
    assert set(layout["components"]) == {
        "neurongroup", "poissongroup", "spikegeneratorgroup", "synapses", "poissoninput",
        "statemonitor", "eventmonitor", "populationratemonitor"}
    neurons = layout["components"]["neurongroup"][0]
    assert neurons["user_method"] == ["exact", "euler", "heun"]  # what Brian was given
    assert neurons["events"]["half"]["threshold"]["when"] == "after_thresholds"
    assert neurons["events"]["half"]["reset"] == {"code": "I += 1", "when": "after_resets",
                                                  "order": 0, "dt": layout["dt"]}
    assert neurons["run_regularly"] == []
    assert neurons["when"] == "groups"
    poisson = layout["components"]["poissongroup"][0]
    assert poisson["name"] == "rates" and poisson["N"] == 3
    assert_allclose(poisson["rates"], [5, 5, 5] * Hz)
    generator_dict = layout["components"]["spikegeneratorgroup"][0]
    assert list(generator_dict["indices"]) == [0, 1]
    syn = layout["components"]["synapses"][0]
    assert syn["summed_variables"][0]["code"] == "I_post"
    assert syn["summed_variables"][0]["target"] == "group"
    assert syn["pathways"][0]["source"] == "generator"
    part = layout["components"]["statemonitor"][0]
    # indices in the whole group, as 0.3 gave them
    assert part["source"] == "group" and list(part["record"]) == [1, 2, 3]
    assert part["n_indices"] == 3
    assert layout["components"]["eventmonitor"][0]["event"] == "half"
    assert layout["components"]["eventmonitor"][0]["source_size"] == 6
    steps = layout["initializers_connectors"]
    assert [step["type"] for step in steps] == ["connect", "initializer"]
    assert steps[0]["i"].tolist() == [0, 1] and steps[0]["j"].tolist() == [2, 3]
    assert steps[1]["index"] == "i > 2"
    # the legacy keys are derived from the current ones by one pure function
    rebuilt = legacy_layout(device.runs[0])
    assert rebuilt["components"].keys() == layout["components"].keys()
    assert rebuilt["initializers_connectors"][1]["value"] == steps[1]["value"]


def test_later_runs_list_only_their_own_steps():
    set_device("exporter")
    group = NeuronGroup(3, "v : volt", name="g")
    synapses = Synapses(group, group, "w : 1", name="s")
    synapses.connect(i=0, j=1)
    group.v = 1 * mV
    run(1 * ms)
    synapses.connect(i=1, j=2)
    group.v = 2 * mV
    run(1 * ms)
    first, second = (run_dict["initializers_connectors"] for run_dict in device.runs)
    assert [step["type"] for step in first] == ["connect", "initializer"]
    assert [(step["type"], step.get("value")) for step in second] == [
        ("connect", None), ("initializer", 2 * mV)]
    assert second[0]["i"].tolist() == [1]


# --------------------------------------------------------------------------- #
# The 'markdown' device with 0.3's options
# --------------------------------------------------------------------------- #
def _decay_model():
    tau_m = 10 * ms  # noqa: F841
    group = NeuronGroup(3, "dv/dt = -v/tau_m : volt", threshold="v > 10*mV",
                        reset="v = 0*mV", method="exact", name="G")
    group.v = "i*mV"
    trace = StateMonitor(group, "v", record=True, name="trace")  # noqa: F841
    run(2 * ms)


def test_md_expander_github_author_meta(tmp_path):
    expander = MdExpander(github_md=True, author="Ada Lovelace", add_meta=True)
    set_device("markdown", expander=expander, filename=str(tmp_path / "model"),
               format="both")
    _decay_model()
    text = (tmp_path / "model.md").read_text(encoding="utf-8")
    assert device.md_text == text == device.text
    # a header with author, date and versions right under the title
    header = text.split("## Run 1")[0]
    assert "- **Author:** Ada Lovelace" in header
    assert f"- **Brian:** {brian2.__version__}" in header
    assert f"- **brian2tools:** {brian2tools.__version__}" in header
    assert "- **Date:** 20" in header
    # GitHub's math: $`...`$ inline and ```math blocks, no bare $...$ left
    assert "```math\n\\begin{aligned}\n\\frac{\\mathrm{d}v}{\\mathrm{d}t} &= -\\frac{v}" in text
    assert "- **Threshold**: a spike when $`v > 10\\,\\mathrm{m}\\mathrm{V}`$." in text
    assert "$$" not in text
    stripped = text.replace("$`", "").replace("`$", "")
    assert "$" not in stripped
    # the HTML page is made from the standard text, math as MathML
    page = (tmp_path / "model.html").read_text(encoding="utf-8")
    assert page.count("<math") > 5 and "$`" not in page and "Ada Lovelace" in page


def test_md_expander_without_monitors_and_default_options(tmp_path):
    set_device("markdown", expander=MdExpander(include_monitors=False),
               filename=str(tmp_path / "m"))
    _decay_model()
    assert "State monitor" not in device.md_text
    assert "**Author:**" not in device.md_text
    assert "$v > 10\\,\\mathrm{m}\\mathrm{V}$" in device.md_text  # standard math
    # the description itself still has the monitor
    assert device.runs[0]["statemonitors"][0]["name"] == "trace"


def test_md_expander_subclass_writes_its_own_text(tmp_path):
    class Summary(MdExpander):
        def create_md_string(self, runs, title="Model description", templates=None):
            groups = runs[0]["components"]["neurongroup"]
            return "".join(f"* {group['name']}: {group['N']} neurons\n" for group in groups)

    set_device("markdown", expander=Summary(), filename=str(tmp_path / "s"))
    _decay_model()
    assert (tmp_path / "s.md").read_text(encoding="utf-8") == "* G: 3 neurons\n"


def test_empty_filename_names_the_file_after_the_script(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "my_model.py")])
    set_device("markdown", filename="", debug=True)
    _decay_model()
    assert os.listdir(tmp_path) == ["my_model.md"]
    # debug prints the text, as 0.3 did
    assert capsys.readouterr().out.strip() == device.md_text.strip()


def test_md_expander_imports_and_bad_options():
    from brian2tools.mdexport import MdExpander as top_level

    assert top_level is MdExpander
    with pytest.raises(TypeError, match="author must be a string"):
        MdExpander(author=3)
    set_device("markdown", expander="github")
    NeuronGroup(1, "v : volt")
    with pytest.raises(TypeError, match="expander must be an MdExpander"):
        run(1 * ms)


def test_updates_worded_from_the_sign_of_known_values(tmp_path):
    set_device("markdown", filename=str(tmp_path / "m"))
    w_neg = -2 * mV  # noqa: F841
    w_pos = 3 * mV  # noqa: F841
    factor = 0.5  # noqa: F841
    group = NeuronGroup(2, "v : volt\nx : 1", threshold="False", name="G")
    synapses = Synapses(group, group, on_pre="v += w_neg\nv -= w_neg\nx *= factor\nv += x*mV",
                        name="S")
    synapses.connect(i=0, j=1)
    run(1 * ms)
    text = device.md_text
    assert ("adds `w_neg` to `v` of the post-synaptic neuron, i.e. "
            "$-2\\,\\mathrm{m}\\mathrm{V}$: a decrease") in text
    assert ("subtracts `w_neg` from `v` of the post-synaptic neuron, i.e. "
            "$-2\\,\\mathrm{m}\\mathrm{V}$: an increase") in text
    assert "multiplies `x` of the post-synaptic neuron by `factor`, i.e. $0.5$)" in text
    # a value that depends on the state has no sign before the simulation
    assert "adds `x*mV` to `v` of the post-synaptic neuron)" in text
    assert "increases" not in text and "decreases" not in text


def test_integration_method_chosen_by_brian(tmp_path):
    set_device("markdown", filename=str(tmp_path / "m"))
    linear = NeuronGroup(1, "dv/dt = -v/(10*ms) : 1", name="linear")  # noqa: F841
    nonlinear = NeuronGroup(1, "dv/dt = -v**2/(10*ms) : 1", name="nonlinear")  # noqa: F841
    listed = NeuronGroup(1, "dv/dt = -v**2/(10*ms) : 1", method=["exact", "heun"],  # noqa: F841
                         name="listed")
    static = NeuronGroup(1, "v : 1", name="static")  # noqa: F841
    run(1 * ms)
    text = device.md_text
    described = {group["name"]: group for group in device.runs[0]["neurongroups"]}
    assert described["linear"]["method_used"] == "exact"
    assert described["nonlinear"]["method_used"] == "euler"
    assert described["listed"]["method_used"] == "heun"
    assert described["static"]["method_used"] is None
    linear = text.split("`linear`")[1].split("####")[0]
    assert ("Integrated with the `exact` method (Brian's choice: the script names none)."
            in linear)
    nonlinear = text.split("`nonlinear`")[1].split("####")[0]
    assert "Integrated with the `euler` method (Brian's choice" in nonlinear
    listed = text.split("`listed`")[1].split("####")[0]
    assert ("Integrated with the `heun` method: the script names no single method, and "
            "`heun` is the first of `exact`, `heun` that can integrate these equations") in listed
    assert "Integrated" not in text.split("`static`")[1]


def test_equation_order_of_synapses():
    # Brian sorts a Synapses model by name before the exporter sees it: the order is
    # that of its parts (clock-driven, event-driven, summed), the same in both layouts
    set_device("exporter")
    group = NeuronGroup(2, "v : volt\nI : amp", threshold="False", name="G")
    synapses = Synapses(group, group, """x : 1
                                          dapre/dt = -apre/(5*ms) : 1 (event-driven)
                                          I_post = x*nA : amp (summed)
                                          c : 1""", on_pre="apre += 1", name="S")
    synapses.connect()
    run(1 * ms)
    described = device.runs[0]["synapses"][0]
    assert described["equation_order"] == ["c", "x", "apre", "I_post"]
    assert list(device.runs[0]["components"]["synapses"][0]["equations"]) == [
        "c", "x", "apre", "I_post"]
    assert np.all(described["i"] >= 0)
    assert described["equations"][0]["unit"] == volt / volt  # unchanged old keys
