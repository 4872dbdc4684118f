"""
Benchmark: ``brian_plot(synapses)`` for one million synapses against a raw
``ax.hexbin(i, j)`` of the same connections.

The network is built before the clock starts; the raw side gets the index
arrays ``synapses.i[:]`` and ``synapses.j[:]`` for free, our side starts from
the Synapses object (so its time includes fetching the indices, choosing the
plot type, hiding empty hexagons and the "synapses per bin" colorbar).
Both are timed as call + PNG at 100 dpi, each in a fresh process (see
``_common.py``, also for why the median of several runs is compared).

Two connectivities: uniformly random (every hexagon has synapses: the worst
case for us) and a band of distance-dependent connections (most hexagons are
empty, and are not drawn by brian_plot).
Target: a ratio (of the medians) of at most 1.0 (the published brian2tools: 1.7).

Usage::

    python dev/benchmarks/bench_synapses.py [--repeats N]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import compare  # noqa: E402

SETUP = """
from brian2 import NeuronGroup, Synapses, prefs, seed
from brian2tools import brian_plot

prefs.codegen.target = "numpy"
seed(4321)
group = NeuronGroup({n_neurons}, "")
synapses = Synapses(group, group)
synapses.connect({connect})
i, j = synapses.i[:], synapses.j[:]
assert 950_000 < len(synapses) < 1_050_000, len(synapses)
"""

CONNECTIVITIES = {
    "uniform random": (2000, "p=0.25"),
    "distance-dependent band": (
        5000, "j='i+k for k in range(-300, 300) if rand() < exp(-(k/113.)**2)', "
              "skip_if_invalid=True",
    ),
}

OURS = "brian_plot(synapses, axes=ax)"
RAW = "ax.hexbin(i, j)"

TARGET = 1.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    ratios = {}
    for name, (n_neurons, connect) in CONNECTIVITIES.items():
        ratios[name] = compare(
            f"synapses, ~1,000,000 ({name})",
            SETUP.format(n_neurons=n_neurons, connect=connect),
            OURS,
            RAW,
            repeats=args.repeats,
        )
    worst = max(ratios.values())
    verdict = "meets" if worst <= TARGET else "MISSES"
    print(f"1 million synapses: worst ratio {worst:.2f} {verdict} the target of {TARGET}")


if __name__ == "__main__":
    main()
