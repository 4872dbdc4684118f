"""
Tests of the 'markdown' device and of the Markdown/HTML renderer.

The device tests run small Brian scripts with ``set_device('markdown', ...)``
and assert on the text written: sizes, equations in LaTeX with units, events,
connection rules, effects in words and math, inputs, monitors and runs. The
renderer tests feed hand-written descriptions (see docs/export_format.rst) to
the pure functions.
"""

import os
import re

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
    nA,
    run,
    second,
    seed,
    set_device,
    volt,
)

import brian2tools.mdexport  # noqa: F401  (registers the 'markdown' device)
from brian2tools.mdexport import (
    MATHJAX_URL,
    TEMPLATE_NAMES,
    markdown_to_html,
    output_paths,
    render_markdown,
)
from brian2tools.mdexport.mathtext import code_to_latex, quantity_to_latex

# --------------------------------------------------------------------------- #
# Models
# --------------------------------------------------------------------------- #
CUBA_EQS = """
dv/dt = (ge+gi-(v + 49*mV))/(20*ms) : volt (unless refractory)
dge/dt = -ge/(5*ms) : volt
dgi/dt = -gi/(10*ms) : volt
"""


def cuba(n_exc=320, n_inh=80, record=(0, 100, 300)):
    """The CUBA network of Brian's documentation, smaller, with a Poisson input."""
    Vt = -50 * mV  # noqa: F841 (used by Brian through the namespace)
    Vr = -60 * mV  # noqa: F841
    we = (60 * 0.27 / 10) * mV  # noqa: F841
    wi = (-20 * 4.5 / 10) * mV  # noqa: F841
    P = NeuronGroup(n_exc + n_inh, CUBA_EQS, threshold="v>Vt", reset="v = Vr",
                    refractory=5 * ms, method="exact", name="P")
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    Ce = Synapses(P[:n_exc], P, on_pre="ge += we", name="Ce")
    Ci = Synapses(P[n_exc:], P, on_pre="gi += wi", name="Ci")
    Ce.connect(p=0.02)
    Ci.connect(p=0.02)
    noise = PoissonInput(P, "ge", 100, 2 * Hz, weight="we")
    spikes = SpikeMonitor(P, name="spikes")
    rate = PopulationRateMonitor(P, name="rate")
    state = StateMonitor(P, "v", record=list(record), name="state")
    run(1 * second)
    return P, Ce, Ci, noise, spikes, rate, state


def written(tmp_path, name="model.md"):
    return (tmp_path / name).read_text(encoding="utf-8")


def section(text, heading):
    """The text of the section that starts with ``heading`` up to the next one of its level."""
    level = heading.split(" ")[0]
    start = text.index(heading)
    following = re.search(rf"^{level} ", text[start + len(heading):], flags=re.MULTILINE)
    end = start + len(heading) + following.start() if following else len(text)
    return text[start:end]


# --------------------------------------------------------------------------- #
# The device on whole models
# --------------------------------------------------------------------------- #
def test_cuba_network_description(tmp_path):
    set_device("markdown", filename=str(tmp_path / "model"))
    P, Ce, Ci, noise, *_ = cuba()
    text = written(tmp_path)
    assert device.files == [str(tmp_path / "model.md")]
    assert device.text == text
    assert text.startswith("# Model description\n")
    assert "## Run 1\n" in text
    assert "Duration $1\\,\\mathrm{s}$, from $t = 0\\,\\mathrm{s}$" in text
    assert "with time step $dt = 100\\,\\mathrm{\\mu}\\mathrm{s}$" in text

    group = section(text, "#### Neuron group `P`")
    assert group.startswith("#### Neuron group `P`\n\n400 neurons, each described by:")
    # the equations in display math, as d/dt, with units and flags, as the script wrote
    # them: terms in the script's order, multi-letter names upright as one symbol
    assert (r"\frac{\mathrm{d}v}{\mathrm{d}t} &= \frac{\mathrm{ge} + \mathrm{gi} - "
            r"\left(v + 49\,\mathrm{m}\mathrm{V}\right)}{20\,\mathrm{m}\mathrm{s}} && "
            r"[\mathrm{V}] && \text{unless refractory}") in group
    assert (r"\frac{\mathrm{d}\mathrm{ge}}{\mathrm{d}t} &= -\frac{\mathrm{ge}}"
            r"{5\,\mathrm{m}\mathrm{s}} && [\mathrm{V}]") in group
    # equations in the order of the script (v, ge, gi), not Brian's alphabetical one
    rows = [line for line in group.splitlines() if r"\frac{\mathrm{d}" in line]
    assert [row.split("}{")[0] for row in rows] == [
        r"\frac{\mathrm{d}v", r"\frac{\mathrm{d}\mathrm{ge}", r"\frac{\mathrm{d}\mathrm{gi}"]
    assert group.count("$$") == 2 and r"\begin{aligned}" in group
    # the integration method of the script
    assert "Integrated with the `exact` method (`method='exact'`)." in group
    assert "- **Threshold**: a spike when $v > \\mathrm{Vt}$." in group
    assert ("  $v \\leftarrow \\mathrm{Vr}$ (sets `v` to `Vr`, i.e. "
            "$-60\\,\\mathrm{m}\\mathrm{V}$).") in group
    assert "- **Refractoriness**: refractory for $5\\,\\mathrm{m}\\mathrm{s}$ after each spike." \
        in group
    assert "$\\mathrm{Vr} = -60\\,\\mathrm{m}\\mathrm{V}$" in group
    assert "$\\mathrm{Vt} = -50\\,\\mathrm{m}\\mathrm{V}$" in group
    # the initialisation as the script wrote it, not rearranged
    assert (r"- $v = \mathrm{Vr} + \operatorname{rand}() \left(\mathrm{Vt} - \mathrm{Vr}\right)$"
            " (random)") in group
    assert "- $\\mathrm{ge} = 0\\,\\mathrm{V}$" in group
    assert "$\\operatorname{rand}()$ is drawn uniformly from $[0, 1)$" in group

    excitatory = section(text, "#### Synapses `Ce`\n")
    assert (f"From neurons 0 to 319 (320 neurons) of `P` to all 400 neurons of "
            f"`P`: {len(Ce)} synapses.") in excitatory
    assert f"- all pairs of neurons, each with probability $0.02$ ({len(Ce)} synapses)." \
        in excitatory
    assert "- **On each spike of the pre-synaptic neuron**, without delay:" in excitatory
    assert (r"  $\mathrm{ge} \leftarrow \mathrm{ge} + \mathrm{we}$ (adds `we` to `ge` of the "
            r"post-synaptic neuron, i.e. $1.62\,\mathrm{m}\mathrm{V}$: an increase).") in excitatory
    assert "$\\mathrm{we} = 1.62\\,\\mathrm{m}\\mathrm{V}$" in excitatory
    inhibitory = section(text, "#### Synapses `Ci`")
    assert "From neurons 320 to 399 (80 neurons) of `P` to all 400" in inhibitory
    assert f"`P`: {len(Ci)} synapses." in inhibitory
    assert "$\\mathrm{wi} = -9\\,\\mathrm{m}\\mathrm{V}$" in inhibitory
    # gi += wi with a negative wi: written as the script wrote it, and said to decrease gi
    assert (r"  $\mathrm{gi} \leftarrow \mathrm{gi} + \mathrm{wi}$ (adds `wi` to `gi` of the "
            r"post-synaptic neuron, i.e. $-9\,\mathrm{m}\mathrm{V}$: a decrease).") in inhibitory
    assert "increases" not in inhibitory

    poisson = section(text, f"#### Poisson input `{noise.name}`")
    assert ("Targets all 400 neurons of `P`: each receives 100 independent Poisson "
            "spike trains at rate $2\\,\\mathrm{Hz}$.") in poisson
    assert (r"adds `we` to `ge`, i.e. $1.62\,\mathrm{m}\mathrm{V}$: an increase: "
            r"$\mathrm{ge} \leftarrow \mathrm{ge} + \mathrm{we}$.") in poisson

    monitors = section(text, "### Monitors")
    assert ("- **State monitor `state`** records $v$ of neurons 0, 100, 300 of "
            "`P`, every $100\\,\\mathrm{\\mu}\\mathrm{s}$.") in monitors
    assert ("- **Spike monitor `spikes`** records the spikes of all 400 neurons of "
            "`P`.") in monitors
    assert ("- **Population rate monitor `rate`** records the population rate of all "
            "400 neurons of `P`.") in monitors
    # sections in reading order
    order = [text.index(h) for h in ("### Neuron groups", "### Inputs", "### Synapses",
                                     "### Monitors")]
    assert order == sorted(order)


def test_custom_events_and_event_driven_effects(tmp_path):
    set_device("markdown", filename=str(tmp_path / "events.md"))
    group = NeuronGroup(
        5, """dv/dt = (1.2 - v)/tau : 1
              bursts : integer""",
        threshold="v > 1", reset="v = 0", refractory="v > 0.9",
        events={"burst": "v > 0.5 and bursts < 3"}, method="exact",
        namespace={"tau": 10 * ms}, name="G",
    )
    group.run_on_event("burst", "bursts += 1")
    synapses = Synapses(group, group, "w : 1", on_pre={"up": "v_post += w"},
                        on_event={"up": "burst"}, delay={"up": 2 * ms}, name="S")
    synapses.connect(condition="i != j")
    synapses.w = "0.1 * j"
    monitor = EventMonitor(group, "burst", variables=["v"], name="burst_monitor")  # noqa: F841
    run(20 * ms)
    text = written(tmp_path, "events.md")
    group_text = section(text, "#### Neuron group `G`")
    assert r"\mathrm{bursts} &\ \text{(parameter)} && [1]\ \text{integer}" in group_text
    assert r"\frac{\mathrm{d}v}{\mathrm{d}t} &= \frac{1.2 - v}{\tau} && [1]" in group_text
    assert "- **Threshold**: a spike when $v > 1$." in group_text
    assert (r"- **Custom event `burst`** when $v > 0.5 \land \mathrm{bursts} < 3$, then:"
            in group_text)
    assert (r"  $\mathrm{bursts} \leftarrow \mathrm{bursts} + 1$ (adds `1` to `bursts`)."
            in group_text)
    assert "refractory after a spike for as long as $v > 0.9$" in group_text
    assert "$\\tau = 10\\,\\mathrm{m}\\mathrm{s}$" in group_text

    synapses_text = section(text, "#### Synapses `S`")
    assert "all 5 neurons of `G` to all 5 neurons of `G`: 20 synapses" \
        in synapses_text
    assert "- all pairs of neurons $(i, j)$ with $i \\neq j$ (20 synapses)." in synapses_text
    assert r"w &\ \text{(parameter)} && [1]" in synapses_text
    assert ("- **On each `burst` event of the pre-synaptic neuron** (pathway `up`), after a delay of "
            "$2\\,\\mathrm{m}\\mathrm{s}$ for all 20 synapses:") in synapses_text
    assert (r"  $v_{\mathrm{post}} \leftarrow v_{\mathrm{post}} + w$ (adds `w` to `v` of the "
            "post-synaptic neuron).") in synapses_text
    assert "- $w = 0.1 j$" in synapses_text
    assert ("- **Event monitor `burst_monitor`** records the `burst` events of all 5 neurons "
            "of `G`, with the values of $v$ at each one.") in text


def test_two_runs(tmp_path):
    set_device("markdown", filename=str(tmp_path / "model"))
    group = NeuronGroup(3, "dv/dt = (R*I - v)/(10*ms) : volt\nI : amp",
                        namespace={"R": 1 * volt / nA}, method="exact", name="G")
    group.I = 1 * nA
    run(10 * ms)
    group.I[:2] = 2 * nA
    monitor = StateMonitor(group, "v", record=True, name="trace")  # noqa: F841 (added for the second run)
    run(20 * ms)
    text = written(tmp_path)
    assert "The script simulated the model in 2 runs, one after the other." in text
    first, second_run = section(text, "## Run 1 of 2"), section(text, "## Run 2 of 2")
    assert "Duration $10\\,\\mathrm{m}\\mathrm{s}$, from $t = 0\\,\\mathrm{s}$ to " \
           "$t = 10\\,\\mathrm{m}\\mathrm{s}$" in first
    assert "- $I = 1\\,\\mathrm{n}\\mathrm{A}$" in first
    assert "State monitor" not in first
    assert "Duration $20\\,\\mathrm{m}\\mathrm{s}$, from $t = 10\\,\\mathrm{m}\\mathrm{s}$ to " \
           "$t = 30\\,\\mathrm{m}\\mathrm{s}$" in second_run
    changes = section(second_run, "### Changes since run 1")
    assert "- `G`: $I = 2\\,\\mathrm{n}\\mathrm{A}$ for neurons 0, 1" in changes
    assert "- `trace` is new in this run (described below)" in changes
    # the unchanged group is not described again, the new monitor is
    assert "#### Neuron group" not in second_run
    assert ("- **State monitor `trace`** records $v$ of all 3 neurons of "
            "`G`") in second_run


def test_changes_between_runs_in_words(tmp_path):
    set_device("markdown", filename=str(tmp_path / "model"))
    tau_m = 10 * ms
    group = NeuronGroup(3, "dv/dt = -v/tau_m : 1", threshold="v > 1", reset="",
                        method="exact", name="H")
    synapses = Synapses(group, group, "w : 1", on_pre="v += w", name="S")
    synapses.connect(i=0, j=1)
    run(10 * ms)
    tau_m = 20 * ms  # noqa: F841 (read by Brian at the next run)
    synapses.connect(i=1, j=2)
    run(10 * ms)
    changes = section(written(tmp_path), "### Changes since run 1")
    assert "- `H` (namespace): tau\\_m = 20. ms (was 10. ms)\n" in changes
    assert "- `S`: new synapses, explicitly listed pairs (pre → post): 1 → 2 (1 synapse)\n" \
        in changes
    page = markdown_to_html(changes)
    assert "<li><code>H</code> (namespace): tau_m = 20. ms (was 10. ms)</li>" in page


def test_subgroups_and_inputs(tmp_path):
    set_device("markdown", filename=str(tmp_path / "model"))
    group = NeuronGroup(10, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                        method="exact", name="G")
    generator = SpikeGeneratorGroup(3, [0, 2, 1], [1, 2, 3] * ms, name="generator")
    poisson = PoissonGroup(4, rates=np.array([5, 10, 15, 20]) * Hz, name="poisson")
    feed = Synapses(generator, group[2:5], on_pre="v += 0.5")
    feed.connect(i=[0, 1, 2], j=[0, 1, 2])
    drive = Synapses(poisson, group[5:], on_pre="v += 0.2")
    drive.connect(j="i + k for k in range(2)", skip_if_invalid=True)
    tail = group[5:]
    tail.v = "0.1 * i"
    tail.v[[1, 3]] = 0.7
    seed(2024)
    trace = StateMonitor(group[5:], "v", record=[0, 2], name="trace", when="end")  # noqa: F841
    spikes = SpikeMonitor(group[:5], record=False, name="spikes")  # noqa: F841
    run(5 * ms)
    text = written(tmp_path)
    assert "From all 3 neurons of `generator` to neurons 2 to 4 (3 neurons) of " \
           "`G`: 3 synapses." in text
    assert "- explicitly listed pairs (pre → post): 0 → 0, 1 → 1, 2 → 2 (3 synapses)." in text
    assert "From all 4 neurons of `poisson` to neurons 5 to 9 (5 neurons) of " \
           f"`G`: {len(drive)} synapses." in text
    assert ("- each pre-synaptic neuron $i$ connects to the post-synaptic neurons "
            "`j = i + k for k in range(2)` (indices outside the target are skipped) "
            f"({len(drive)} synapses).") in text
    generator_text = section(text, "#### Spike generator `generator`")
    assert "3 neurons emitting 3 given spikes." in generator_text
    assert "| 2 | $2\\,\\mathrm{m}\\mathrm{s}$ |" in generator_text
    assert ("4 neurons firing as independent Poisson processes with rate $5\\,\\mathrm{Hz}$, "
            "$10\\,\\mathrm{Hz}$, $15\\,\\mathrm{Hz}$, $20\\,\\mathrm{Hz}$.") in text
    # a sub-group's recorded indices are given in the whole group
    assert ("records $v$ of neurons 5, 7 of `G`, every $100\\,\\mathrm{\\mu}\\mathrm{s}$ "
            "(in the `end` slot of the time step).") in text
    assert "counts the spikes of neurons 0 to 4 (5 neurons) of `G`." in text
    # assignments through a sub-group
    assert "- $v = 0.1 i$ for neurons 5 to 9 (5 neurons) of `G` (counting $i$ from 5)" in text
    assert "- $v = 0.7$ for neurons 6, 8" in text
    assert "Random numbers seeded with `seed(2024)`." in text


# --------------------------------------------------------------------------- #
# HTML
# --------------------------------------------------------------------------- #
def test_html_page_has_typeset_math_and_structure(tmp_path):
    set_device("markdown", filename=str(tmp_path / "model"), format="both")
    cuba(80, 20, record=(0, 10))
    markdown_text = written(tmp_path)
    page = written(tmp_path, "model.html")
    assert sorted(os.listdir(tmp_path)) == ["model.html", "model.md"]
    assert page.startswith("<!DOCTYPE html>")
    # self-contained: no script, nothing loaded from elsewhere
    assert "<script" not in page and MATHJAX_URL not in page
    assert not re.search(r"(src|href)=", page) and "<link" not in page
    assert "<title>Model description</title>" in page
    assert '<h1 id="model-description">Model description</h1>' in page
    assert re.search(r"<h4[^>]*>Neuron group <code>P</code></h4>", page)
    # display math as a MathML table (one row per equation), inline math as MathML,
    # each with its LaTeX source as annotation
    display = re.search(r'<div class="math">(<math[^>]*display="block".*?</math>)</div>',
                        page, flags=re.DOTALL)
    assert display is not None and display.group(1).count("<mtr>") == 3
    assert "<mfrac>" in display.group(1)
    assert ('<annotation encoding="application/x-tex">v &gt; \\mathrm{Vt}</annotation>'
            in page)
    assert re.search(r'<span class="math"><math [^>]*display="inline"><semantics><mrow>'
                     r'<mi>v</mi><mo>&#x0003E;</mo>', page)
    # Markdown did not read LaTeX as emphasis, and no $ delimiter is left in the body
    body = page[page.index("<body>"):]
    assert "<em>" not in body and "$" not in body
    assert "<li><strong>Threshold</strong>: a spike when" in body
    # the same number of math spans as in the Markdown
    inline = len(re.findall(r"(?<!\$)\$(?!\$)", markdown_text.replace("$$", ""))) // 2
    assert body.count('<span class="math"><math') == inline
    assert body.count('<div class="math"><math') == markdown_text.count("$$") // 2
    assert "math-source" not in body  # every formula converted


def test_html_only(tmp_path):
    set_device("markdown", filename=str(tmp_path / "page.html"), format="html",
               title="A small network")
    NeuronGroup(2, "dv/dt = -v/(5*ms) : 1", method="exact")
    run(1 * ms)
    assert os.listdir(tmp_path) == ["page.html"]
    page = written(tmp_path, "page.html")
    assert "<title>A small network</title>" in page
    assert '<h1 id="a-small-network">A small network</h1>' in page


def test_markdown_to_html_keeps_code_and_math_apart():
    page = markdown_to_html("# T\n\nCode `a_$x$_b`, math $a_1 * b_2 * c$ and $$x_{*}^{*}$$.")
    assert "<code>a_$x$_b</code>" in page
    assert re.search(r'<span class="math"><math[^>]*><semantics><mrow><msub><mi>a</mi>'
                     r'<mn>1</mn></msub>', page)
    assert '<annotation encoding="application/x-tex">a_1 * b_2 * c</annotation>' in page
    assert re.search(r'<div class="math"><math[^>]*display="block"><semantics>.*'
                     r'<annotation encoding="application/x-tex">x_\{\*\}\^\{\*\}</annotation>',
                     page)


# --------------------------------------------------------------------------- #
# Templates
# --------------------------------------------------------------------------- #
def _small_model():
    group = NeuronGroup(4, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0",
                        method="exact", name="G")
    rate = PopulationRateMonitor(group, name="rate")  # noqa: F841
    run(1 * ms)


def test_template_dir_replaces_templates_by_name(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "neurongroup.md").write_text(
        "#### {{ group.name }} ({{ group.N }} cells)\n\n"
        "{% for eq in group.equations %}- {{ eq.name }}: {{ eq.expr | math(group) }}\n"
        "{% endfor %}", encoding="utf-8")
    set_device("markdown", filename=str(tmp_path / "model"), template_dir=str(templates),
               templates={"ratemonitor.md": "Rate of `{{ monitor.source.group }}`.\n"})
    _small_model()
    text = written(tmp_path)
    assert "#### G (4 cells)\n\n- v: $-\\frac{v}{10\\,\\mathrm{m}\\mathrm{s}}$" in text
    assert "Rate of `G`." in text
    assert "Neuron group `G`" not in text  # the built-in template is replaced
    assert "## Run 1" in text  # the other templates are the built-in ones


def test_render_markdown_with_template_dict(tmp_path):
    set_device("exporter")
    _small_model()
    text = render_markdown(device.runs, templates={"run.md": "Ran {{ run.duration }}.\n"},
                           title="Short")
    assert text == "# Short\n\nRan 1. ms.\n"


def test_broken_templates_are_reported_by_name(tmp_path):
    set_device("markdown", filename=str(tmp_path / "model"),
               templates={"synapses.md": "{% for x in %}"})
    group = NeuronGroup(2, "v : 1", threshold="v > 1")
    synapses = Synapses(group, group, on_pre="v += 1")
    synapses.connect()
    with pytest.raises(ValueError, match="template 'synapses.md' has a syntax error"):
        run(1 * ms)
    assert os.listdir(tmp_path) == []


def test_template_using_unknown_variable():
    with pytest.raises(ValueError, match="Rendering the template 'document.md'.*'nothing'"):
        render_markdown([_hand_run()], templates={"document.md": "{{ nothing.here }}"})


def test_bad_options(tmp_path):
    set_device("markdown", filename=str(tmp_path / "model"), colour="red")
    NeuronGroup(1, "v : 1")
    with pytest.raises(TypeError, match="does not know the option.*colour"):
        run(1 * ms)
    set_device("markdown", filename=str(tmp_path / "model"), format="pdf")
    with pytest.raises(ValueError, match="format must be one of 'markdown', 'html', 'both'"):
        run(1 * ms)
    set_device("markdown", filename=str(tmp_path / "model"), template_dir=str(tmp_path / "no"))
    with pytest.raises(FileNotFoundError, match="template folder .*no' .* does not exist"):
        run(1 * ms)
    assert os.listdir(tmp_path) == []


def test_all_builtin_templates_exist():
    from importlib.resources import files

    folder = files("brian2tools.mdexport") / "templates"
    assert sorted(TEMPLATE_NAMES) == sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- #
# Writing files
# --------------------------------------------------------------------------- #
def test_failed_export_keeps_the_previous_file(tmp_path):
    target = tmp_path / "model.md"
    target.write_text("previous description\n", encoding="utf-8")
    set_device("markdown", filename=str(tmp_path / "model"),
               templates={"neurongroup.md": "{{ group.no_such_key }}"})
    group = NeuronGroup(1, "v : 1")  # noqa: F841
    with pytest.raises(ValueError, match="neurongroup.md|no_such_key"):
        run(1 * ms)
    assert target.read_text(encoding="utf-8") == "previous description\n"
    assert os.listdir(tmp_path) == ["model.md"]  # no temporary file left behind


def test_successful_export_replaces_the_file(tmp_path):
    target = tmp_path / "model.md"
    target.write_text("previous description\n", encoding="utf-8")
    set_device("markdown", filename=str(target))
    NeuronGroup(1, "v : 1")
    run(1 * ms)
    assert target.read_text(encoding="utf-8").startswith("# Model description\n")
    assert os.listdir(tmp_path) == ["model.md"]


@pytest.mark.parametrize("filename, fmt, expected", [
    ("model", "markdown", {".md": "model.md"}),
    ("model.md", "markdown", {".md": "model.md"}),
    ("model.txt", "markdown", {".md": "model.txt.md"}),
    ("out/model", "both", {".md": "out/model.md", ".html": "out/model.html"}),
    ("model.md", "html", {".html": "model.html"}),
    ("model.htm", "html", {".html": "model.htm"}),
])
def test_output_paths(filename, fmt, expected):
    assert output_paths(filename, fmt) == expected


# --------------------------------------------------------------------------- #
# The renderer on hand-written descriptions
# --------------------------------------------------------------------------- #
def _hand_run(**objects):
    run_description = {
        "index": 0, "duration": 100 * ms, "dt": 0.1 * ms, "t_start": 0 * ms,
        "neurongroups": [], "poissongroups": [], "spikegeneratorgroups": [],
        "poissoninputs": [], "synapses": [], "statemonitors": [], "spikemonitors": [],
        "ratemonitors": [], "changes": [],
    }
    run_description.update(objects)
    return run_description


def _hand_group(**keys):
    group = {
        "name": "neurons", "N": 100,
        "equations": [{"name": "v", "type": "differential equation",
                       "expr": "(El - v)/tau + sigma*sqrt(2/tau)*xi", "unit": volt,
                       "var_type": "float", "flags": []}],
        "events": {}, "refractory": None,
        "namespace": {"El": -70 * mV, "tau": 10 * ms, "sigma": 2 * mV},
        "initializers": [], "initial_values": {},
    }
    group.update(keys)
    return group


def _hand_synapses(**keys):
    synapses = {
        "name": "synapses", "source": {"group": "neurons", "start": 0, "stop": 100},
        "target": {"group": "neurons", "start": 0, "stop": 100},
        "equations": [{"name": "w", "type": "parameter", "expr": None, "unit": volt,
                       "var_type": "float", "flags": ["constant"]}],
        "pathways": [], "namespace": {"sigma_c": 5.0}, "connections": [],
        "i": np.arange(4), "j": np.arange(4), "initializers": [], "initial_values": {},
    }
    synapses.update(keys)
    return synapses


def test_stochastic_equations_and_noise_note():
    text = render_markdown(_hand_run(neurongroups=[_hand_group()]))
    assert (r"\frac{\mathrm{d}v}{\mathrm{d}t} &= \frac{\mathrm{El} - v}{\tau} + "
            r"\sigma \sqrt{\frac{2}{\tau}} \xi && [\mathrm{V}]") in text
    assert "$\\xi$ is Gaussian white noise" in text
    assert "without equations" not in text


def test_connection_rules_in_words():
    connections = [
        {"condition": "abs(i - j) < 10 and i != j", "i": None, "j": None,
         "p": "exp(-(i - j)**2/(2*sigma_c**2))", "n": 2, "skip_if_invalid": False},
        {"condition": None, "i": None, "j": None, "p": 1.0, "n": 1, "skip_if_invalid": False},
        {"condition": None, "i": np.arange(12), "j": np.arange(12), "p": 1.0, "n": 1,
         "skip_if_invalid": False},
    ]
    synapses = _hand_synapses(connections=connections, pathways=[
        {"prepost": "post", "event": "spike", "code": "w = clip(w + A, 0*mV, wmax)\nv_pre += w",
         "delay": np.array([1, 2, 3, 4]) * ms}],
        namespace={"sigma_c": 5.0, "A": 0.5 * mV, "wmax": 3 * mV})
    text = render_markdown(_hand_run(neurongroups=[_hand_group()], synapses=[synapses]))
    assert "Connected by 3 rules, one after the other:" in text
    assert (r"- all pairs of neurons $(i, j)$ with $\left\vert i - j\right\vert  < 10 \land "
            r"i \neq j$, each with probability $\exp\left(-\frac{{\left(i - j\right)}^{2}}"
            r"{2 {\sigma_{\mathrm{c}}}^{2}}\right)$, with 2 synapses per pair.") in text
    assert "- all pairs of neurons.\n" in text
    assert "- 12 explicitly listed pairs of pre- and post-synaptic neurons." in text
    assert ("- **On each spike of the post-synaptic neuron**, after a delay of "
            "$1\\,\\mathrm{m}\\mathrm{s}$, $2\\,\\mathrm{m}\\mathrm{s}$, "
            "$3\\,\\mathrm{m}\\mathrm{s}$, $4\\,\\mathrm{m}\\mathrm{s}$:") in text
    assert ("sets the synaptic variable `w` to `clip(w + A, 0*mV, wmax)`") in text
    assert "adds `w` to `v` of the pre-synaptic neuron" in text
    assert r"w &\ \text{(parameter)} && [\mathrm{V}] && \text{constant}" in text
    assert "$\\sigma_{\\mathrm{c}} = 5$" in text
    assert "$\\mathrm{wmax} = 3\\,\\mathrm{m}\\mathrm{V}$" in text


def test_initialisers_and_values_in_words():
    initializers = [
        {"variable": "v", "kind": "expression", "value": "El + randn()*sigma", "index": "i > 10",
         "random": True},
        {"variable": "v", "kind": "array", "value": np.linspace(-70, -50, 100) * mV,
         "index": None, "random": False},
        {"variable": "v", "kind": "constant", "value": -65 * mV, "index": np.array([3, 4]),
         "random": False},
    ]
    group = _hand_group(initializers=initializers, refractory="2*tau",
                        events={"spike": {"threshold": "v > El + 20*mV", "reset": None}})
    text = render_markdown(_hand_run(neurongroups=[group]))
    assert ("- $v = \\mathrm{El} + \\operatorname{randn}() \\sigma$ for the neurons where "
            "$i > 10$ (random)") in text
    assert ("- $v$ set to 100 values from $-70\\,\\mathrm{m}\\mathrm{V}$ to "
            "$-50\\,\\mathrm{m}\\mathrm{V}$ (mean $-60\\,\\mathrm{m}\\mathrm{V}$)") in text
    assert "- $v = -65\\,\\mathrm{m}\\mathrm{V}$ for neurons 3, 4" in text
    assert ("Random values: $\\operatorname{randn}()$ from the standard normal distribution, "
            "independently for each neuron.") in text
    assert "refractory for $2 \\tau$ after each spike" in text
    assert "- **Threshold**: a spike when $v > \\mathrm{El} + 20\\,\\mathrm{m}\\mathrm{V}$." in text
    assert "**Reset**" not in text


def test_render_markdown_refuses_what_is_not_a_description():
    with pytest.raises(TypeError, match="list of run descriptions"):
        render_markdown("model")
    with pytest.raises(ValueError, match="no run description"):
        render_markdown([])
    with pytest.raises(TypeError, match="Run description 0 is not a description of a run"):
        render_markdown([{"neurongroups": []}])


#: 3 V/s, as Brian may display it (see test_math_of_values_and_code)
RATE_3_V_PER_S = (
    r"3\,\frac{\mathrm{V}}{\mathrm{s}}",
    r"3\,\frac{\mathrm{m}\mathrm{V}}{\mathrm{m}\mathrm{s}}",
)


def test_math_of_values_and_code():
    # Brian's unit registry is global: once any code in this process has made
    # the unit mV/ms, Brian (and so the description) prefers it to V/s
    assert quantity_to_latex(3 * mV / ms) in RATE_3_V_PER_S
    assert quantity_to_latex(2.5e-5) == r"2.5 \times 10^{-5}"
    assert quantity_to_latex(1 / mV) == r"1\,\mathrm{m}\mathrm{V}^{-1}"
    # a variable named like a unit stays a variable; units are set upright
    assert code_to_latex("ms * mV", variables={"ms"}) == r"\mathrm{ms}\,\mathrm{m}\mathrm{V}"
    assert code_to_latex("ms * mV") == r"\mathrm{m}\mathrm{s}\,\mathrm{m}\mathrm{V}"
    assert code_to_latex("int(v > 3) and flag") == (
        r"\operatorname{int}\left(v > 3\right) \land \mathrm{flag}")
    # code that cannot be typeset is shown verbatim rather than dropped
    assert code_to_latex("v[3] + 1") == r"\texttt{v[3] + 1}"


def test_build_on_run_false_writes_at_build(tmp_path):
    set_device("markdown", build_on_run=False, filename=str(tmp_path / "early"))
    group = NeuronGroup(2, "dv/dt = -v/(5*ms) : 1", method="exact", name="G")  # noqa: F841
    run(1 * ms)
    run(2 * ms)
    assert os.listdir(tmp_path) == []
    device.build(filename=str(tmp_path / "late"), format="both")
    assert sorted(os.listdir(tmp_path)) == ["late.html", "late.md"]
    text = written(tmp_path, "late.md")
    assert "## Run 1 of 2" in text and "## Run 2 of 2" in text


def test_rendering_leaves_descriptions_and_brian_units_alone():
    from brian2.units.fundamentalunits import Quantity

    volt_per_second = volt.dim / second.dim  # dimensions only: creating units registers them
    group = _hand_group(namespace={"rate": Quantity(3.0, dim=volt_per_second), "k": 2.0})
    run_description = _hand_run(neurongroups=[group])
    before = repr(run_description)
    best_before = repr(Quantity(1.0, dim=volt_per_second).get_best_unit())
    text = render_markdown([run_description])
    assert any(f"$\\mathrm{{rate}} = {latex}$" in text for latex in RATE_3_V_PER_S)
    assert repr(run_description) == before
    # choosing a readable unit must not register new units with Brian
    assert repr(Quantity(1.0, dim=volt_per_second).get_best_unit()) == best_before
