"""
The HTML description typesets its math in a real browser, offline.

The page of a real Brian model is opened in headless Chromium (Debian's
``chromium`` package) from a ``file://`` URL, with network access switched
off. A script added to a copy of the page measures what the browser laid
out: every ``<math>`` element has a size, the numerator of every fraction
sits above its denominator, and the text the reader sees holds no LaTeX.
The same checks on a control page that shows the LaTeX source instead of
MathML (what a MathJax page shows offline) fail, so they tell the two
apart. Screenshots of both pages are compared too.

Skipped only when no Chromium (or Chrome) is installed.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest
from brian2 import NeuronGroup, SpikeMonitor, Synapses, ms, mV, run, set_device
from matplotlib.image import imread

import brian2tools.mdexport  # noqa: F401 (registers the 'markdown' device)

# Debian's package is "chromium"; Google's Chrome (as on GitHub's Ubuntu runners) works
# the same; BRIAN2TOOLS_CHROMIUM names another binary
CHROMIUM = next((shutil.which(name) for name in (
    os.environ.get("BRIAN2TOOLS_CHROMIUM", ""), "chromium", "chromium-browser",
    "google-chrome", "google-chrome-stable") if name and shutil.which(name)), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian/Ubuntu: apt-get install chromium); it is needed "
           "to check that browsers typeset the MathML of the HTML description")

_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--hide-scrollbars"]

# Measures the layout once the page is loaded and writes it into the page as JSON
_MEASURE = """
<script>
(function () {
  function box(element) {
    var r = element.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, width: r.width, height: r.height};
  }
  var maths = Array.from(document.querySelectorAll('math')).map(box);
  var fractions = Array.from(document.querySelectorAll('mfrac')).map(function (f) {
    return {numerator: box(f.children[0]), denominator: box(f.children[1])};
  });
  var text = document.body.innerText;
  var pre = document.createElement('pre');
  pre.id = 'layout';
  pre.textContent = JSON.stringify({maths: maths, fractions: fractions, text: text});
  document.body.appendChild(pre);
})();
</script>
"""


def _chromium(*arguments, cwd):
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", *arguments],
                              cwd=cwd, capture_output=True, text=True, timeout=180, check=False)


def _layout(page, folder, name):
    """The layout the browser gave ``page`` (after adding the measuring script)."""
    path = folder / name
    path.write_text(page.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    result = _chromium("--dump-dom", path.as_uri(), cwd=folder)
    assert result.returncode == 0, result.stderr[-2000:]
    match = re.search(r'<pre id="layout">(.*?)</pre>', result.stdout, flags=re.DOTALL)
    assert match, f"no layout in Chromium's DOM: {result.stdout[-500:]}"
    import html

    return json.loads(html.unescape(match.group(1)))


def _screenshot(page, folder, name):
    path = folder / f"{name}.html"
    path.write_text(page, encoding="utf-8")
    png = folder / f"{name}.png"
    result = _chromium(f"--screenshot={png}", "--window-size=900,1300", path.as_uri(),
                       cwd=folder)
    assert png.exists(), result.stderr[-2000:]
    image = imread(str(png))[..., :3]
    return image.mean(axis=2)  # grey levels, 1 = white


def _raw_latex_page(page):
    """The control: each formula shown as its LaTeX source, as an offline MathJax page does."""
    def source(match):
        annotation = re.search(r'<annotation encoding="application/x-tex">(.*?)</annotation>',
                               match.group(0), flags=re.DOTALL)
        return annotation.group(1)
    return re.sub(r"<math.*?</math>", source, page, flags=re.DOTALL)


@pytest.fixture
def page(tmp_path):
    set_device("markdown", filename=str(tmp_path / "cuba"), format="html")
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms  # noqa: F841 (used by Brian)
    Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV  # noqa: F841
    we, wi = 1.62 * mV, -9 * mV  # noqa: F841
    P = NeuronGroup(100, """dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
                            dge/dt = -ge/taue : volt
                            dgi/dt = -gi/taui : volt""",
                    threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact")
    P.v = "Vr + rand() * (Vt - Vr)"
    Ce = Synapses(P[:80], P, on_pre="ge += we")
    Ci = Synapses(P[80:], P, on_pre="gi += wi")
    Ce.connect(p=0.02)
    Ci.connect(p=0.02)
    spikes = SpikeMonitor(P)  # noqa: F841
    run(10 * ms)
    return (tmp_path / "cuba.html").read_text(encoding="utf-8")


def test_browser_typesets_the_math(page, tmp_path):
    assert "<script" not in page  # the page needs nothing but itself
    layout = _layout(page, tmp_path, "measured.html")
    maths = layout["maths"]
    assert len(maths) == page.count("<math") > 20
    # every formula was laid out with a size
    assert all(box["width"] > 0 and box["height"] > 0 for box in maths)
    # fractions are typeset: the numerator is above the denominator, not beside it
    fractions = layout["fractions"]
    assert len(fractions) >= 6
    for fraction in fractions:
        numerator, denominator = fraction["numerator"], fraction["denominator"]
        assert numerator["bottom"] <= denominator["top"] + 1
        assert abs(numerator["left"] - denominator["left"]) < max(numerator["width"],
                                                                  denominator["width"])
    # the three equations are three rows of a display table, each taller than text
    display = max(maths, key=lambda box: box["height"])
    assert display["height"] > 3 * 30
    # what the reader sees: no LaTeX, the formulas' symbols instead
    text = layout["text"]
    assert "\\frac" not in text and "\\mathrm" not in text and "\\left" not in text
    # (Chromium shows a one-letter <mi> in mathematical italic: τ as U+1D70F)
    assert ("τ" in text or "\U0001d70f" in text) and "←" in text

    # the control page, with the LaTeX source instead of MathML, fails these checks
    control = _layout(_raw_latex_page(page), tmp_path, "control.html")
    assert control["maths"] == [] and control["fractions"] == []
    assert "\\frac" in control["text"]


def test_screenshot_shows_typeset_math(page, tmp_path):
    typeset = _screenshot(page, tmp_path, "typeset")
    raw = _screenshot(_raw_latex_page(page), tmp_path, "raw")
    assert typeset.shape == raw.shape
    # both pages are drawn (ink on white) ...
    assert (typeset < 0.5).mean() > 0.005 and (raw < 0.5).mean() > 0.005
    # ... and differ: raw LaTeX is long lines of text, typeset math is compact
    assert np.abs(typeset - raw).mean() > 0.01
    ink_rows_typeset = int(((typeset < 0.5).sum(axis=1) > 0).sum())
    ink_rows_raw = int(((raw < 0.5).sum(axis=1) > 0).sum())
    assert ink_rows_typeset != ink_rows_raw
