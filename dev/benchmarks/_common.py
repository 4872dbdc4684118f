"""
Shared timing helper for the benchmark scripts in this folder.

Each measurement runs in a fresh Python process (so caches, imports and
memory left over by an earlier run cannot favour either side): the process
executes a set-up snippet untimed, then times the CPU time of a call snippet
followed by saving the figure as a PNG at 100 dpi (drawing is where most of
the cost of a plot lies). ``compare`` alternates "ours" and "raw" runs and
prints the ratio of their best (smallest) CPU times, next to the medians.

Why the best time: with arrays of many megabytes a large part of the CPU
time is the kernel providing fresh memory (system time), and on a busy
machine that part varies by a factor of several between identical runs
(e.g. when it has to compact memory for huge pages). The noise only ever
adds time, so the smallest of a few runs is the most faithful measure of
what a call costs.

The snippets run with ``np`` (numpy), ``plt`` (pyplot, Agg backend), ``fig``
and ``ax`` (a fresh figure and axes) already defined.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import textwrap

__all__ = ["cpu_time", "compare"]

_TEMPLATE = """
import io
import time

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots()
{setup}
_buffer = io.BytesIO()
_start = time.process_time()
{call}
fig.savefig(_buffer, format="png", dpi=100)
print(repr(time.process_time() - _start))
"""


def cpu_time(setup: str, call: str, python: str | None = None) -> float:
    """
    CPU seconds of ``call`` plus ``fig.savefig(PNG, dpi=100)`` in a fresh process.

    Parameters
    ----------
    setup : str
        Code run before the clock starts (imports, test data).
    call : str
        The code being timed (e.g. ``"plot_raster(i, t)"``).
    python : str, optional
        The Python executable; by default the one running this script.
    """
    script = _TEMPLATE.format(setup=textwrap.dedent(setup), call=textwrap.dedent(call))
    result = subprocess.run(
        [python or sys.executable, "-c", script], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"benchmark snippet failed:\n{result.stderr}")
    return float(result.stdout.strip().splitlines()[-1])


def compare(
    label: str,
    setup: str,
    ours: str,
    raw: str,
    repeats: int = 5,
    python: str | None = None,
) -> float:
    """
    Time ``ours`` and ``raw`` (each after ``setup``) ``repeats`` times in
    alternation, print best and median times and their ratios, and return
    the ratio of the best times.
    """
    ours_times, raw_times = [], []
    for _ in range(repeats):
        ours_times.append(cpu_time(setup, ours, python))
        raw_times.append(cpu_time(setup, raw, python))
    ratio = min(ours_times) / min(raw_times)
    median_ratio = statistics.median(ours_times) / statistics.median(raw_times)
    print(
        f"{label}: ours {min(ours_times):.3f} s, raw {min(raw_times):.3f} s CPU "
        f"(best of {repeats}) -> ratio {ratio:.2f} "
        f"[medians {statistics.median(ours_times):.3f} / "
        f"{statistics.median(raw_times):.3f} s -> {median_ratio:.2f}]",
        flush=True,
    )
    return ratio
