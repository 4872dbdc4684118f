"""
Benchmark: ``plot_raster(i, t)`` against a raw ``ax.plot(t, i, ',k')``.

Both sides get the same spikes (times as a Brian quantity for ours, as a
plain array in seconds for the raw call; int32 neuron indices) and are timed
as call + PNG at 100 dpi, each in a fresh process (see ``_common.py``,
also for why the median of several runs is compared).
Target: a ratio (of the medians) of at most 1.1 for 10 million spikes (the
published brian2tools 0.2 measured 4.9).

Usage::

    python dev/benchmarks/bench_raster.py [--repeats N] [--sizes 100000 10000000]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import compare  # noqa: E402

SETUP = """
from brian2 import ms, second
from brian2tools import plot_raster

rng = np.random.default_rng(2024)
n_spikes = {n_spikes}
t = np.sort(rng.uniform(0, 1, n_spikes)) * second  # like SpikeMonitor.t
i = rng.integers(0, 4000, n_spikes).astype(np.int32)
t_plain = np.asarray(t)
"""

OURS = "plot_raster(i, t, axes=ax)"
RAW = "ax.plot(t_plain, i, ',k')"
# shown in ms: our call then needs one converted copy of the times (the raw
# call stays the same, so this ratio includes the cost of the conversion)
OURS_MS = "plot_raster(i, t, time_unit=ms, axes=ax)"

TARGET = 1.1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 10_000_000])
    args = parser.parse_args(argv)
    ratios = {}
    for n_spikes in args.sizes:
        ratios[n_spikes] = compare(
            f"raster, {n_spikes:,} spikes",
            SETUP.format(n_spikes=n_spikes),
            OURS,
            RAW,
            repeats=args.repeats,
        )
    largest = max(ratios)
    compare(
        f"raster, {largest:,} spikes, ours with time_unit=ms",
        SETUP.format(n_spikes=largest),
        OURS_MS,
        RAW,
        repeats=args.repeats,
    )
    verdict = "meets" if ratios[largest] <= TARGET else "MISSES"
    print(f"{largest:,} spikes: ratio {ratios[largest]:.2f} {verdict} the target of {TARGET}")


if __name__ == "__main__":
    main()
