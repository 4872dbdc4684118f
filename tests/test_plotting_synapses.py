"""Tests for plot_synapses and brian_plot of Synapses and synaptic variables."""

import weakref

import matplotlib.pyplot as plt
import numpy as np
import pytest
from brian2 import NeuronGroup, Synapses, ms, mV, second, volt
from brian2.synapses.synapses import SynapticPathway
from brian2.units.fundamentalunits import DimensionMismatchError
from matplotlib.colors import to_rgba

from brian2tools import add_background_pattern, brian_plot, plot_synapses
from brian2tools.plotting.synapses import default_plot_type


def make_synapses(n_sources, n_targets, sources, targets, weights_mV=None, on_post=None):
    """Synapses between two groups with the given connections (and weights in mV)."""
    source_group = NeuronGroup(n_sources, "v : volt", threshold="v > 1*volt", reset="")
    target_group = NeuronGroup(n_targets, "v : volt", threshold="v > 1*volt", reset="")
    synapses = Synapses(source_group, target_group, "w : volt", on_pre="v += w",
                        on_post=on_post)
    synapses.connect(i=np.asarray(sources), j=np.asarray(targets))
    if weights_mV is not None:
        synapses.w[:] = np.asarray(weights_mV, dtype=float) * mV
    # keep the groups alive as long as the synapses
    synapses._test_groups = (source_group, target_group)
    return synapses


def colorbar_of(mappable):
    assert mappable.colorbar is not None, "expected a colorbar"
    return mappable.colorbar


def pixel_colour(fig, ax, x, y):
    """RGBA (0..1) of the rendered figure at data coordinates (x, y)."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    px, py = ax.transData.transform((x, y))
    row = rgba.shape[0] - int(round(py))
    return rgba[row, int(round(px))] / 255.0


# ---------------------------------------------------------------------------
# image
# ---------------------------------------------------------------------------


def test_image_is_connection_matrix_with_sources_on_x():
    # 5 sources, 7 targets; source 4 and target 6 have no synapse at all
    sources, targets, weights = [0, 1, 3, 2], [5, 2, 0, 2], [0.5, 1.0, 1.5, 2.0]
    synapses = make_synapses(5, 7, sources, targets, weights)
    ax = plot_synapses(synapses.i, synapses.j, synapses.w, plot_type="image")
    (image,) = ax.images
    data = image.get_array()
    assert data.shape == (7, 5)  # rows: all targets, columns: all sources
    assert image.origin == "lower"
    assert image.get_extent() == [-0.5, 4.5, -0.5, 6.5]
    for i, j, w in zip(sources, targets, weights, strict=True):
        assert data[j, i] == pytest.approx(w)
    # all other pairs are masked, not 0
    assert np.ma.count(data) == 4
    assert data.mask.sum() == 7 * 5 - 4
    assert ax.get_xlabel() == "source neuron index"
    assert ax.get_ylabel() == "target neuron index"
    assert colorbar_of(image).ax.get_ylabel() == "w (mV)"


def test_image_asymmetric_connection_lands_on_right_pixel():
    # 1 -> 3 exists, 3 -> 1 does not
    synapses = make_synapses(6, 6, [1], [3], [1.0])
    fig, ax = plt.subplots()
    brian_plot(synapses, axes=ax)
    assert len(ax.images) == 1
    connected = pixel_colour(fig, ax, 1, 3)
    assert np.allclose(connected, to_rgba("C0"), atol=0.02)
    empty = pixel_colour(fig, ax, 3, 1)
    assert np.allclose(empty, to_rgba("white"), atol=0.02)  # transparent: axes background


def test_image_covers_all_neurons_of_subgroups():
    group = NeuronGroup(20, "v : volt", threshold="v > 1*volt", reset="")
    synapses = Synapses(group[5:10], group[12:15], "w : volt", on_pre="v += w")
    synapses.connect(i=[0, 1], j=[1, 0])
    ax = brian_plot(synapses)
    data = ax.images[0].get_array()
    assert data.shape == (3, 5)
    assert not data.mask[1, 0] and not data.mask[0, 1]
    assert np.ma.count(data) == 2


def test_plain_arrays_without_units():
    sources = np.array([0, 2, 4])
    targets = np.array([1, 1, 3])
    values = np.array([10.0, 20.0, 30.0])
    ax = plot_synapses(sources, targets, values, var_name="strength", plot_type="image")
    image = ax.images[0]
    data = image.get_array()
    assert data.shape == (4, 5)  # largest index + 1
    assert data[1, 0] == 10.0 and data[1, 2] == 20.0 and data[3, 4] == 30.0
    assert colorbar_of(image).ax.get_ylabel() == "strength"
    # plain numbers in a given unit
    plt.figure()
    ax = plot_synapses(sources, targets, values, var_unit=mV, var_name="w", plot_type="image")
    assert colorbar_of(ax.images[0]).ax.get_ylabel() == "w (mV)"


# ---------------------------------------------------------------------------
# scatter
# ---------------------------------------------------------------------------


def test_scatter_offsets_and_values():
    sources, targets, weights = [0, 4, 2, 3], [1, 1, 5, 0], [0.25, 0.5, 0.75, 3.0]
    synapses = make_synapses(5, 6, sources, targets, weights)
    ax = plot_synapses(synapses.i, synapses.j, synapses.w, plot_type="scatter", cmap="hot")
    (collection,) = ax.collections
    assert np.array_equal(collection.get_offsets(), np.column_stack([sources, targets]))
    assert np.allclose(collection.get_array(), synapses.w[:] / mV)
    assert collection.get_cmap().name == "hot"
    assert colorbar_of(collection).ax.get_ylabel() == "w (mV)"
    assert ax.get_xlim() == (-0.5, 4.5)
    assert ax.get_ylim() == (-0.5, 5.5)


def test_scatter_passes_style_to_matplotlib():
    synapses = make_synapses(4, 4, [0, 1, 2], [3, 2, 0])
    ax = plot_synapses(synapses.i, synapses.j, plot_type="scatter", color="gray", marker="s")
    (collection,) = ax.collections
    assert np.allclose(collection.get_facecolor()[0], to_rgba("gray"))
    assert collection.colorbar is None
    assert np.array_equal(collection.get_offsets(), [[0, 3], [1, 2], [2, 0]])


def marker_extent_px(fig, collection):
    """Diameter in pixels of the (single-sized) markers of ``collection``."""
    (size,) = collection.get_sizes()
    return np.sqrt(size) * fig.dpi / 72.0


@pytest.mark.parametrize("with_values", [False, True])
def test_scatter_markers_fit_one_cell_of_a_100x100_network(with_values):
    rng = np.random.default_rng(5)
    sources = np.concatenate([[0, 99, 0, 99], rng.integers(0, 100, 300)])
    targets = np.concatenate([[0, 99, 99, 0], rng.integers(0, 100, 300)])
    keep = np.unique(sources * 100 + targets, return_index=True)[1]  # one per pair
    sources, targets = sources[np.sort(keep)], targets[np.sort(keep)]
    values = rng.uniform(0, 1, len(sources)) if with_values else None
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    plot_synapses(sources, targets, values, plot_type="scatter", axes=ax)
    (collection,) = ax.collections
    assert collection.colorbar is not None if with_values else collection.colorbar is None
    fig.canvas.draw()
    box = ax.get_window_extent()
    cell_px = min(box.width / 100, box.height / 100)
    diameter = marker_extent_px(fig, collection)
    # not merging into blobs: less than one cell, yet clearly visible
    assert 0.5 * cell_px < diameter < cell_px
    assert np.all(collection.get_linewidths() == 0)  # no edge beyond that size
    # limits one half cell beyond the first and last index, and the corner
    # markers lie completely inside them
    assert ax.get_xlim() == (-0.5, 99.5) and ax.get_ylim() == (-0.5, 99.5)
    for corner in [(0, 0), (99, 99), (0, 99), (99, 0)]:
        x, y = ax.transData.transform(corner)
        assert box.x0 <= x - diameter / 2 and x + diameter / 2 <= box.x1
        assert box.y0 <= y - diameter / 2 and y + diameter / 2 <= box.y1


def test_scatter_marker_size_follows_network_and_user_choice():
    fig, (small, large, own) = plt.subplots(1, 3, figsize=(9, 3))
    plot_synapses([0, 1, 2], [2, 1, 0], plot_type="scatter", axes=small)
    plot_synapses([0, 499], [499, 0], plot_type="scatter", axes=large)
    plot_synapses([0, 499], [499, 0], plot_type="scatter", axes=own, s=50, marker="s")
    # small networks get matplotlib's usual marker (6 points), not giant discs
    assert small.collections[0].get_sizes()[0] == pytest.approx(36.0)
    assert large.collections[0].get_sizes()[0] < 1.0
    # an explicit size (and the edge that comes with it) is the user's
    assert own.collections[0].get_sizes()[0] == 50
    assert own.collections[0].get_linewidths()[0] > 0


def test_var_name_and_unit_override():
    synapses = make_synapses(3, 3, [0, 1], [1, 2], [1.0, 2.0])
    ax = plot_synapses(synapses.i, synapses.j, synapses.w, var_unit=volt,
                       var_name="synaptic weights")
    (collection,) = ax.collections
    assert np.allclose(collection.get_array(), [0.001, 0.002])
    assert colorbar_of(collection).ax.get_ylabel() == "synaptic weights (V)"


# ---------------------------------------------------------------------------
# several synapses per pair
# ---------------------------------------------------------------------------


def multi_synapses():
    # (0->1) twice, (2->0) three times, (1->2) once
    return make_synapses(3, 4, [0, 2, 1, 0, 2, 2], [1, 0, 2, 1, 0, 0])


def test_counts_image_with_integer_colorbar():
    synapses = multi_synapses()
    ax = brian_plot(synapses)
    image = ax.images[0]
    data = image.get_array()
    assert data.shape == (4, 3)
    assert data[1, 0] == 2 and data[0, 2] == 3 and data[2, 1] == 1
    assert np.ma.count(data) == 3
    colorbar = colorbar_of(image)
    assert colorbar.ax.get_ylabel() == "number of synapses"
    assert list(colorbar.get_ticks()) == [1, 2, 3]
    # one colour per count
    colours = [tuple(image.cmap(image.norm(count))) for count in (1, 2, 3)]
    assert len(set(colours)) == 3


def test_counts_scatter():
    synapses = multi_synapses()
    ax = plot_synapses(synapses.i, synapses.j, plot_type="scatter")
    (collection,) = ax.collections
    pairs = {tuple(p): c for p, c in zip(collection.get_offsets().tolist(),
                                         collection.get_array(), strict=True)}
    assert pairs == {(0, 1): 2, (1, 2): 1, (2, 0): 3}
    colorbar = colorbar_of(collection)
    assert colorbar.ax.get_ylabel() == "number of synapses"
    assert all(float(t).is_integer() for t in colorbar.get_ticks())


@pytest.mark.parametrize("plot_type", ["image", "scatter"])
def test_values_with_several_synapses_per_pair_are_refused(plot_type):
    synapses = multi_synapses()
    with pytest.raises(ValueError, match="more than one synapse"):
        plot_synapses(synapses.i, synapses.j, synapses.w, plot_type=plot_type)
    with pytest.raises(ValueError, match="more than one synapse"):
        brian_plot(synapses.w, plot_type=plot_type)


def test_hexbin_values_with_several_synapses_per_pair_show_mean():
    # two synapses on one pair (1 mV and 3 mV) far from a third one
    synapses = make_synapses(1000, 1000, [10, 10, 900], [10, 10, 900], [1.0, 3.0, 5.0])
    ax = plot_synapses(synapses.i, synapses.j, synapses.w, plot_type="hexbin", gridsize=10)
    (collection,) = ax.collections
    assert sorted(collection.get_array()) == pytest.approx([2.0, 5.0])
    assert colorbar_of(collection).ax.get_ylabel() == "w (mV)"


# ---------------------------------------------------------------------------
# hexbin
# ---------------------------------------------------------------------------


def test_hexbin_counts_and_no_empty_cells():
    rng = np.random.default_rng(2)
    sources = rng.integers(0, 100, 500)
    targets = sources // 2  # a thin band: most hexagons are empty
    ax = plot_synapses(sources, targets, plot_type="hexbin", gridsize=20)
    (collection,) = ax.collections
    counts = collection.get_array()
    assert counts.sum() == 500
    assert counts.min() >= 1  # empty hexagons are not drawn at all
    assert len(collection.get_offsets()) == len(counts) < 20 * 20
    colorbar = colorbar_of(collection)
    assert colorbar.ax.get_ylabel() == "synapses per bin"
    assert all(float(t).is_integer() for t in colorbar.get_ticks())
    # hexagons without edges or antialiasing (no seams between neighbours)
    assert list(collection.get_linewidths()) == [0]
    assert not any(collection.get_antialiased())
    # a logarithmic colour scale chosen by the caller is kept
    plt.figure()
    ax = plot_synapses(sources, targets, plot_type="hexbin", gridsize=20, bins="log")
    assert ax.collections[0].get_array().min() >= 0  # log10 of counts >= 1


# ---------------------------------------------------------------------------
# brian_plot
# ---------------------------------------------------------------------------


def random_synapses(n, p):
    group = NeuronGroup(n, "")
    synapses = Synapses(group, group)
    synapses.connect(p=p)
    synapses._test_groups = (group,)
    return synapses


def test_brian_plot_heuristics_pick_each_type():
    assert default_plot_type(100, 100, 500) == "image"
    assert default_plot_type(1000, 1000, 5000) == "scatter"
    assert default_plot_type(1000, 1000, 100_000) == "hexbin"

    small = random_synapses(50, 0.1)
    ax = brian_plot(small)
    assert len(ax.images) == 1 and not ax.collections

    moderate = random_synapses(400, 0.01)
    fig, ax = plt.subplots()
    brian_plot(moderate, axes=ax)
    (collection,) = ax.collections
    assert not ax.images
    assert np.array_equal(collection.get_offsets(),
                          np.column_stack([moderate.i[:], moderate.j[:]]))

    large = random_synapses(1000, 0.03)
    fig, ax = plt.subplots()
    brian_plot(large, axes=ax)
    (collection,) = ax.collections
    assert collection.get_array().sum() == len(large)  # hexbin counts


def test_brian_plot_weights_and_delays():
    sources, targets = [0, 1, 2, 3], [1, 2, 3, 0]
    synapses = make_synapses(4, 4, sources, targets, [1.0, 2.0, 3.0, 4.0])
    synapses.delay[:] = [1.0, 1.5, 2.0, 2.5] * ms
    # in brian2 a variable's group is a weakref proxy; the delay's is the pathway
    assert isinstance(synapses.w.group, weakref.ProxyTypes)
    assert isinstance(synapses.delay.group, weakref.ProxyTypes)
    assert isinstance(synapses.delay.group, SynapticPathway)
    plt.subplot(1, 2, 1)
    ax_w = brian_plot(synapses.w)
    plt.subplot(1, 2, 2)
    ax_delay = brian_plot(synapses.delay)
    plt.tight_layout()
    data_w = ax_w.images[0].get_array()
    data_delay = ax_delay.images[0].get_array()
    for k, (i, j) in enumerate(zip(sources, targets, strict=True)):
        assert data_w[j, i] == pytest.approx(k + 1.0)
        assert data_delay[j, i] == pytest.approx(1.0 + 0.5 * k)
    assert colorbar_of(ax_w.images[0]).ax.get_ylabel() == "w (mV)"
    assert colorbar_of(ax_delay.images[0]).ax.get_ylabel() == "delay (ms)"


def test_brian_plot_delay_of_post_pathway_and_scalar_delay():
    synapses = make_synapses(3, 3, [0, 1], [1, 2], on_post="w += 0*mV")
    synapses.post.delay[:] = [2.0, 4.0] * ms
    ax = brian_plot(synapses.post.delay, plot_type="scatter")
    (collection,) = ax.collections
    assert np.allclose(collection.get_array(), [2.0, 4.0])
    assert colorbar_of(collection).ax.get_ylabel() == "delay (ms)"

    group = NeuronGroup(3, "v : volt", threshold="v > 1*volt", reset="")
    fixed = Synapses(group, group, on_pre="v += 1*mV", delay=3 * ms)
    fixed.connect(i=[0, 2], j=[1, 1])
    plt.figure()
    ax = brian_plot(fixed.delay, plot_type="scatter")
    (collection,) = ax.collections
    assert np.allclose(collection.get_array(), [3.0, 3.0])
    assert colorbar_of(collection).ax.get_ylabel() == "delay (ms)"


def test_brian_plot_of_neuron_variable_is_refused():
    group = NeuronGroup(3, "v : volt")
    with pytest.raises(TypeError, match="only plot variables of Synapses.*'v'.*NeuronGroup"):
        brian_plot(group.v)


# ---------------------------------------------------------------------------
# background pattern, axes handling, inputs
# ---------------------------------------------------------------------------


def test_background_pattern_below_data():
    synapses = make_synapses(5, 5, [0, 1, 2], [1, 2, 3], [1.0, 2.0, 3.0])
    ax = plot_synapses(synapses.i, synapses.j, synapses.w, plot_type="scatter", cmap="hot")
    patch = add_background_pattern(ax)
    assert patch in ax.patches
    assert patch.get_hatch() == "xxx"
    assert patch.get_zorder() < ax.collections[0].get_zorder()
    # in axes coordinates: covers the whole axes, whatever the data limits
    ax.set_xlim(-100, 100)
    ax.figure.canvas.draw()
    assert np.allclose(patch.get_window_extent().extents, ax.bbox.extents)


def test_draws_only_on_given_or_current_axes():
    synapses = make_synapses(4, 4, [0, 1], [2, 3])
    fig, (left, right) = plt.subplots(1, 2)
    returned = plot_synapses(synapses.i, synapses.j, axes=left)
    assert returned is left
    assert len(left.collections) == 1 and not right.collections and not right.images
    plt.sca(right)
    assert plot_synapses(synapses.i, synapses.j) is right
    assert len(right.collections) == 1 and len(left.collections) == 1


def test_caller_arrays_are_not_modified():
    sources = np.array([3, 0, 2, 0])
    targets = np.array([1, 1, 0, 1])
    values = np.array([1.0, 2.0, 3.0, 4.0]) * mV
    copies = sources.copy(), targets.copy(), np.asarray(values).copy()
    for array in (sources, targets):
        array.flags.writeable = False
    for plot_type in ("image", "scatter", "hexbin"):
        plt.figure()
        plot_synapses(sources, targets, plot_type=plot_type)
    plt.figure()
    plot_synapses(sources, targets, values, plot_type="hexbin")
    assert np.array_equal(sources, copies[0])
    assert np.array_equal(targets, copies[1])
    assert np.array_equal(np.asarray(values), copies[2])


def test_bad_input():
    with pytest.raises(ValueError, match="'image', 'scatter', 'hexbin'"):
        plot_synapses([0, 1], [1, 0], plot_type="matrix")
    with pytest.raises(ValueError, match="'sources' has 3.*'targets' has 2"):
        plot_synapses([0, 1, 2], [1, 0])
    with pytest.raises(ValueError, match="'values' has 1"):
        plot_synapses([0, 1], [1, 0], [1.0] * mV)
    with pytest.raises(TypeError, match="'axes' has to be a matplotlib Axes"):
        plot_synapses([0, 1], [1, 0], axes="left")
    with pytest.raises(ValueError, match="'sources' contains negative"):
        plot_synapses([-1, 1], [1, 0])
    with pytest.raises(ValueError, match="'targets' should contain integer"):
        plot_synapses([0, 1], [0.5, 0])
    with pytest.raises(DimensionMismatchError, match="'sources' should be neuron indices"):
        plot_synapses([0, 1] * second, [1, 0])
    with pytest.raises(DimensionMismatchError, match="'values'"):
        plot_synapses([0, 1], [1, 0], [1, 2] * mV, var_unit=ms)
    with pytest.raises(ValueError, match="'targets' contains the neuron index 5.*3 neurons"):
        plot_synapses([0, 1], [5, 0], n_targets=3)


@pytest.mark.parametrize("edges", [{}, pytest.param(
    {"linewidths": 0, "antialiased": True},
    marks=pytest.mark.xfail(strict=True, reason="antialiasing without edges leaves seams"))])
def test_hexbin_of_a_dense_block_has_no_seams_between_hexagons(edges):
    """Neighbouring hexagons of equal count render as one even colour."""
    rng = np.random.default_rng(3)
    # every hexagon of a 200 x 200 block gets about the same (large) count
    sources = rng.integers(0, 200, 400_000)
    targets = rng.integers(0, 200, 400_000)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.set_facecolor("black")  # a seam would let the black background through
    plot_synapses(sources, targets, plot_type="hexbin", gridsize=20, axes=ax,
                  n_sources=200, n_targets=200, cmap="Greys_r", vmin=0, vmax=1, **edges)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255.0
    box = ax.get_window_extent()
    # the middle of the axes: all counts >= 1 -> white (vmax=1), no darker
    # lines where hexagons meet
    rows = slice(int(rgba.shape[0] - box.y1 + 0.3 * box.height),
                 int(rgba.shape[0] - box.y1 + 0.7 * box.height))
    cols = slice(int(box.x0 + 0.3 * box.width), int(box.x0 + 0.7 * box.width))
    assert rgba[rows, cols].min() > 0.99
    # edges chosen by the caller are kept
    fig, ax2 = plt.subplots()
    plot_synapses(sources, targets, plot_type="hexbin", axes=ax2, linewidths=0.5)
    assert list(ax2.collections[0].get_linewidths()) == [0.5]
