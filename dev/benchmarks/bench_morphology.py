"""
Benchmark: ``plot_morphology`` (2D) and ``plot_dendrogram`` of a large tree
against one raw matplotlib ``LineCollection`` of the same segments.

The tree is a random binary tree of 2000 sections (a soma, then `Section`
objects of 5 compartments each, with random-walk coordinates relative to
their parent, like a reconstruction). The raw side draws the compartments
(start and end points, in um, kept while building the tree, before the
clock starts) as one ``LineCollection`` plus ``autoscale_view``. Both
sides are timed as call + PNG at 100 dpi, each in a fresh process (see
``_common.py``, also for why the median of several runs is compared).

Targets (ratios of the medians): ``plot_morphology`` and ``plot_dendrogram``
at most 1.2x the raw collection (the published brian2tools 0.3 measured 12x
and 55x).
Extra lines (no target) show the other options.

Usage::

    python dev/benchmarks/bench_morphology.py [--repeats N] [--sections 2000] [--all]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import compare  # noqa: E402

SETUP = """
from brian2 import Section, Soma, um
from matplotlib.collections import LineCollection
from brian2tools import plot_dendrogram, plot_morphology

rng = np.random.default_rng(42)
n_sections = {n_sections}
n_compartments = 5

def random_section(parent_end):
    steps = rng.normal(0, 1, (n_compartments, 3)) + np.array([3.0, 0, 0])
    steps = steps @ np.linalg.qr(rng.normal(size=(3, 3)))[0]  # random direction
    points = np.vstack([[0, 0, 0], np.cumsum(steps, axis=0)])  # relative to the parent's end
    section = Section(diameter=np.linspace(2, 1, n_compartments + 1) * um, n=n_compartments,
                      x=points[:, 0] * um, y=points[:, 1] * um, z=points[:, 2] * um)
    return section, points + parent_end

# a random binary tree: split a randomly chosen terminal section until the
# tree has n_sections sections (the soma counts as one). The absolute points
# (um) of every section are kept for the raw side.
morpho = Soma(20 * um, x=0 * um, y=0 * um, z=0 * um)
morpho.dend, dend_points = random_section(np.zeros(3))
leaves = [(morpho.dend, dend_points)]
all_points = [dend_points]
total = 2
while total + 2 <= n_sections:
    parent, parent_points = leaves.pop(rng.integers(len(leaves)))
    for name in ("left", "right"):
        child, child_points = random_section(parent_points[-1])
        parent.children.add(name, child)
        leaves.append((child, child_points))
        all_points.append(child_points)
    total += 2

segments = np.concatenate(
    [np.stack([points[:-1, :2], points[1:, :2]], axis=1) for points in all_points]
)
values = rng.normal(-65, 5, 1 + n_compartments * (total - 1)) * 1e-3
"""

RAW = """
ax.add_collection(LineCollection(segments))
ax.autoscale_view()
"""

CASES = [
    # label, our call, target (None: reported only)
    ("plot_morphology 2D", "plot_morphology(morpho, plot_3d=False, axes=ax)", 1.2),
    ("plot_dendrogram", "plot_dendrogram(morpho, axes=ax)", 1.2),
]

EXTRA_CASES = [
    ("plot_morphology 2D, values",
     "from brian2 import volt\n"
     "plot_morphology(morpho, plot_3d=False, values=values * volt, axes=ax)", None),
    ("plot_morphology 2D, show_diameter",
     "plot_morphology(morpho, plot_3d=False, show_diameter=True, axes=ax)", None),
    ("plot_morphology 2D, show_compartments",
     "plot_morphology(morpho, plot_3d=False, show_compartments=True, axes=ax)", None),
    ("plot_morphology 3D (mplot3d)", "plot_morphology(morpho, plot_3d=True, axes=ax)", None),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sections", type=int, default=2000)
    parser.add_argument("--all", action="store_true", help="also time the other options")
    args = parser.parse_args(argv)
    setup = SETUP.format(n_sections=args.sections)
    verdicts = []
    for label, ours, target in CASES + (EXTRA_CASES if args.all else []):
        ratio = compare(f"{label}, {args.sections} sections", setup, ours, RAW,
                        repeats=args.repeats)
        if target is not None:
            verdict = "meets" if ratio <= target else "MISSES"
            verdicts.append(f"{label}: ratio {ratio:.2f} {verdict} the target of {target}")
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
