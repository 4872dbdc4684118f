"""
Shared timing helper for the benchmark scripts in this folder.

Each measurement runs in a fresh Python process (so caches, imports and
memory left over by an earlier run cannot favour either side): the process
executes a set-up snippet untimed, then times the CPU time of a call snippet
followed by saving the figure as a PNG at 100 dpi (drawing is where most of
the cost of a plot lies). ``compare`` alternates "ours" and "raw" runs, so
that a slow phase of a shared machine hits both sides alike, and reports the
ratio of their median CPU times (the number the targets refer to), next to
the ratio of the best times.

Why the median: a single run can be slowed by other work on the machine (or
by the kernel providing fresh memory for arrays of many megabytes, which
varies between identical runs), and the median of several alternating runs
of each side is robust to such outliers in either direction; the best-time
ratio is printed as a cross-check (noise only ever adds time).

Both sides run with ``NUMPY_MADVISE_HUGEPAGE=0``: by default numpy asks the
kernel for transparent huge pages for large arrays, and on a shared machine
the kernel time to provide them (zeroing, compacting memory) varies by a
factor of four between identical runs -- measured here for the raster of
10 million spikes: user time 1.23-1.30 s on both sides, system time
0.26-1.22 s at random. With small pages the system time is 0.24-0.30 s on
both sides, so the comparison measures the plotting code, not the kernel.

The snippets run with ``np`` (numpy), ``plt`` (pyplot, Agg backend), ``fig``
and ``ax`` (a fresh figure and axes) already defined.
"""

from __future__ import annotations

import os
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
    # same environment for both sides; see the module docstring for why
    env = dict(os.environ, NUMPY_MADVISE_HUGEPAGE="0", MPLBACKEND="Agg")
    result = subprocess.run(
        [python or sys.executable, "-c", script], capture_output=True, text=True, env=env
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
    alternation (each run a fresh process), print the median and best times
    and their ratios, and return the ratio of the median times.
    """
    ours_times, raw_times = [], []
    for _ in range(repeats):
        ours_times.append(cpu_time(setup, ours, python))
        raw_times.append(cpu_time(setup, raw, python))
    ours_median, raw_median = statistics.median(ours_times), statistics.median(raw_times)
    ratio = ours_median / raw_median
    best_ratio = min(ours_times) / min(raw_times)
    print(
        f"{label}: ours {ours_median:.3f} s, raw {raw_median:.3f} s CPU "
        f"(median of {repeats}) -> ratio {ratio:.2f} "
        f"[best {min(ours_times):.3f} / {min(raw_times):.3f} s -> {best_ratio:.2f}]",
        flush=True,
    )
    return ratio
