"""Tests of plot_dendrogram and plot_morphology (2D, 3D with mplot3d, and Mayavi)."""

import gc
import os
import sys
from pathlib import Path

import brian2
import matplotlib.pyplot as plt
import numpy as np
import pytest
from brian2 import (
    Cylinder,
    Morphology,
    Section,
    Soma,
    SpatialNeuron,
    cm,
    mV,
    ohm,
    second,
    siemens,
    ufarad,
    um,
    volt,
)
from brian2.units.fundamentalunits import DimensionMismatchError
from matplotlib.collections import LineCollection, PatchCollection, PolyCollection
from matplotlib.colors import to_rgba
from mpl_toolkits.mplot3d import Axes3D
from mpl_toolkits.mplot3d.art3d import Line3DCollection

from brian2tools import brian_plot, plot_dendrogram, plot_morphology

SWC_FILE = Path(brian2.__file__).parent / "spatialneuron" / "mp_ma_40984_gc2.CNG.swc"


# --------------------------------------------------------------------------
# Morphologies and reference values from Brian's public API
# --------------------------------------------------------------------------


def brian_sections(morpho, depth=0):
    """(section, depth) in Brian's compartment order, via the public API."""
    result = [(morpho, depth)]
    for child in morpho.children:
        result.extend(brian_sections(child, depth + 1))
    return result


def cable_sections(morpho):
    return [(s, d) for s, d in brian_sections(morpho) if not isinstance(s, Soma)]


def swc_morphology():
    return Morphology.from_file(str(SWC_FILE))


def flat_tree():
    """A soma with a branching tree in the x-y plane (explicit coordinates)."""
    morpho = Soma(20 * um, x=5 * um, y=-3 * um, z=0 * um)
    morpho.dend = Cylinder(4 * um, n=4, x=[10, 50] * um, y=[0, 0] * um)
    morpho.dend.left = Cylinder(2 * um, n=2, x=[0, 20] * um, y=[0, 30] * um)
    morpho.dend.right = Section(
        diameter=[2, 1.5, 1] * um, n=2, x=[0, 10, 30] * um, y=[0, -10, -20] * um
    )
    morpho.dend.right.tip = Cylinder(0.5 * um, n=3, x=[0, 15] * um, y=[0, -5] * um)
    morpho.axon = Cylinder(1 * um, n=5, x=[-10, -100] * um, y=[0, 0] * um)
    return morpho


def code_tree_without_coordinates():
    morpho = Soma(30 * um)
    morpho.dend = Cylinder(2 * um, length=100 * um, n=5)
    morpho.dend.a = Cylinder(1 * um, length=50 * um, n=3)
    morpho.dend.b = Section(diameter=[2, 1, 0.5] * um, length=[20, 20] * um, n=2)
    morpho.axon = Cylinder(1 * um, length=200 * um, n=10)
    return morpho


def expected_paths_2d(morpho):
    return [np.asarray(s.coordinates / um)[:, :2] for s, _ in cable_sections(morpho)]


def expected_segments(morpho, dims=2):
    """Start/end of every non-soma compartment, (n, 2, dims), in um."""
    segments = []
    for section, _ in cable_sections(morpho):
        points = np.asarray(section.coordinates / um)[:, :dims]
        segments.append(np.stack([points[:-1], points[1:]], axis=1))
    return np.concatenate(segments)


def single_collection(axes, kind):
    found = [c for c in axes.collections if type(c) is kind]
    assert len(found) == 1, f"expected one {kind.__name__}, found {axes.collections}"
    return found[0]


def path_vertices(collection):
    return [np.asarray(path.vertices) for path in collection.get_paths()]


# --------------------------------------------------------------------------
# 2D
# --------------------------------------------------------------------------


def test_2d_sections_are_one_collection_with_the_coordinates():
    morpho = flat_tree()
    fig, ax = plt.subplots()
    returned = plot_morphology(morpho, axes=ax)
    assert returned is ax
    assert not isinstance(ax, Axes3D)  # flat morphology -> 2D
    lines = single_collection(ax, LineCollection)
    expected = expected_paths_2d(morpho)
    drawn = path_vertices(lines)
    assert len(drawn) == len(expected) == 5
    for got, want in zip(drawn, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-9)
    assert ax.get_xlabel() == "x (µm)" and ax.get_ylabel() == "y (µm)"
    assert ax.get_aspect() == 1.0


def legend_of(ax):
    legend = ax.get_legend()
    assert legend is not None, "expected a legend"
    texts = [text.get_text() for text in legend.get_texts()]
    colors = [to_rgba(handle.get_color()) for handle in legend.legend_handles]
    return legend.get_title().get_text(), texts, colors


def test_2d_legend_explains_the_level_colours_away_from_the_cell():
    morpho = flat_tree()  # levels 0 (soma) to 3
    ax = plot_morphology(morpho)
    title, texts, colors = legend_of(ax)
    assert title == "branch level (root: 0)"
    assert texts == ["levels 0, 2", "levels 1, 3"]
    assert colors == [to_rgba("darkblue"), to_rgba("darkred")]
    # in a corner of the axes without any point of the cell
    fig = ax.figure
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    points = ax.transData.transform(np.vstack(expected_paths_2d(morpho)))
    inside = ((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
              & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1))
    assert not inside.any()
    # three colours, four levels: the first colour is used twice
    fig, ax3 = plt.subplots()
    plot_morphology(morpho, colors=("red", "green", "blue"), axes=ax3)
    assert legend_of(ax3)[1] == ["levels 0, 3", "level 1", "level 2"]
    # one colour, values (a colorbar), or legend=False: no legend
    for kwds in ({"colors": "black"}, {"color": "gray"},
                 {"values": np.zeros(morpho.total_compartments) * mV}, {"legend": False}):
        fig, other = plt.subplots()
        plot_morphology(morpho, axes=other, **kwds)
        assert other.get_legend() is None, kwds


def test_2d_colors_cycle_per_section_level():
    morpho = flat_tree()
    ax = plot_morphology(morpho, colors=("red", "green", "blue"))
    lines = single_collection(ax, LineCollection)
    depths = [d for _, d in cable_sections(morpho)]
    assert depths == [1, 2, 2, 3, 1]
    palette = [to_rgba(c) for c in ("red", "green", "blue")]
    np.testing.assert_allclose(lines.get_colors(), [palette[d % 3] for d in depths])
    soma = single_collection(ax, PatchCollection)
    np.testing.assert_allclose(soma.get_facecolor(), [palette[0]])


def test_2d_default_colors_alternate_and_single_colors():
    morpho = flat_tree()
    ax = plot_morphology(morpho)
    depths = [d for _, d in cable_sections(morpho)]
    default = [to_rgba("darkblue"), to_rgba("darkred")]
    np.testing.assert_allclose(
        single_collection(ax, LineCollection).get_colors(), [default[d % 2] for d in depths]
    )
    for single in (("darkblue",), "darkblue", (0.0, 0.0, 0.545)):
        fig, ax = plt.subplots()
        plot_morphology(morpho, colors=single, axes=ax)
        colors = single_collection(ax, LineCollection).get_colors()
        np.testing.assert_allclose(colors, [to_rgba("darkblue")] * 5, atol=1e-3)


def test_2d_soma_circle_and_data_limits():
    morpho = flat_tree()
    ax = plot_morphology(morpho)
    soma = single_collection(ax, PatchCollection)
    (circle,) = path_vertices(soma)
    center = (circle.max(axis=0) + circle.min(axis=0)) / 2
    np.testing.assert_allclose(center, [5, -3], atol=1e-9)
    # a circle of Bezier curves: every third vertex is on the curve
    np.testing.assert_allclose(np.hypot(*(circle[:-1:3] - center).T), 10.0, atol=1e-9)
    # everything (the soma disk included) inside the data limits
    limits = ax.dataLim
    points = np.vstack(expected_paths_2d(morpho) + [circle])
    assert limits.x0 <= points[:, 0].min() and limits.x1 >= points[:, 0].max()
    assert limits.y0 <= points[:, 1].min() and limits.y1 >= points[:, 1].max()
    np.testing.assert_allclose(
        [limits.x0, limits.x1, limits.y0, limits.y1],
        [points[:, 0].min(), points[:, 0].max(), points[:, 1].min(), points[:, 1].max()],
    )
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    assert xlim[0] <= limits.x0 and xlim[1] >= limits.x1
    assert ylim[0] <= limits.y0 and ylim[1] >= limits.y1


def test_2d_show_diameter_polygons_have_the_real_width():
    morpho = flat_tree()
    ax = plot_morphology(morpho, show_diameter=True)
    assert not any(type(c) is LineCollection for c in ax.collections)
    polygons = single_collection(ax, PolyCollection)
    quads = [v[:4] for v in path_vertices(polygons)]
    compartments = [
        (section, i) for section, _ in cable_sections(morpho) for i in range(section.n)
    ]
    assert len(quads) == len(compartments) == 16
    for quad, (section, i) in zip(quads, compartments, strict=True):
        start_width = np.hypot(*(quad[0] - quad[3]))
        end_width = np.hypot(*(quad[1] - quad[2]))
        np.testing.assert_allclose(start_width, section.start_diameter[i] / um, rtol=1e-9)
        np.testing.assert_allclose(end_width, section.end_diameter[i] / um, rtol=1e-9)
        # centred on the compartment's axis
        start = np.asarray([section.start_x[i], section.start_y[i]]) / float(um)
        np.testing.assert_allclose((quad[0] + quad[3]) / 2, start, atol=1e-9)
    # the first quadrilateral of the axon: 1 um wide, from x=-5 (soma end + -10) leftwards
    axon_first = quads[11]
    np.testing.assert_allclose(sorted(axon_first[:, 1]), [-3.5, -3.5, -2.5, -2.5])


def compartment_dots(ax):
    (dots,) = [c for c in ax.collections if type(c).__name__ == "PathCollection"]
    return dots


def test_2d_show_compartments_marks_every_boundary():
    morpho = flat_tree()
    ax = plot_morphology(morpho, show_compartments=True, colors=("green", "orange"))
    dots = compartment_dots(ax)
    drawn = dots.get_offsets()
    expected = np.vstack(expected_paths_2d(morpho))
    assert len(drawn) == len(expected) == sum(s.n + 1 for s, _ in cable_sections(morpho))
    assert sorted(map(tuple, np.round(drawn, 9))) == sorted(map(tuple, np.round(expected, 9)))
    # each dot has the colour of its section (not black, which hid it), and
    # a white rim that sets it apart from the line
    lines = single_collection(ax, LineCollection)
    depth_of_point = np.concatenate(
        [[d] * (s.n + 1) for s, d in cable_sections(morpho)])
    # (point, colour) pairs: a section's first point is also its parent's
    # last one, each with its own section's colour
    expected_pairs = sorted(
        tuple(np.round(p, 9)) + to_rgba(("green", "orange")[d % 2])
        for p, d in zip(expected, depth_of_point, strict=True))
    drawn_pairs = sorted(
        tuple(np.round(p, 9)) + tuple(c)
        for p, c in zip(drawn, dots.get_facecolor(), strict=True))
    np.testing.assert_allclose(drawn_pairs, expected_pairs, atol=1e-6)
    assert set(map(tuple, lines.get_colors())) == {to_rgba("green"), to_rgba("orange")}
    np.testing.assert_allclose(dots.get_edgecolor(), [to_rgba("white")])
    assert 0 < dots.get_linewidths()[0] < 1
    # with values: the colour of each compartment's value
    values = np.linspace(-70, -50, morpho.total_compartments) * mV
    fig, ax2 = plt.subplots()
    plot_morphology(morpho, values=values, show_compartments=True, axes=ax2)
    dots = compartment_dots(ax2)
    colored = single_collection(ax2, LineCollection)
    last_dot = dots.get_facecolor()[-1]  # end of the last compartment
    assert tuple(last_dot) == pytest.approx(
        tuple(colored.get_cmap()(colored.norm(-50))))


def test_2d_values_color_each_compartment_with_a_labelled_colorbar():
    morpho = flat_tree()
    n = morpho.total_compartments
    values = np.linspace(-70, -50, n) * mV
    original = values.copy()
    ax = plot_morphology(morpho, values=values, value_name="v", value_colormap="viridis")
    np.testing.assert_array_equal(values, original)  # not modified
    lines = single_collection(ax, LineCollection)
    np.testing.assert_allclose(
        [seg for seg in lines.get_segments()], expected_segments(morpho), atol=1e-9
    )
    np.testing.assert_allclose(lines.get_array(), np.asarray(values[1:] / mV))
    assert lines.get_cmap().name == "viridis"
    assert (lines.norm.vmin, lines.norm.vmax) == pytest.approx((-70, -50))
    soma = single_collection(ax, PatchCollection)
    np.testing.assert_allclose(soma.get_array(), [-70])
    assert soma.norm is lines.norm
    colorbar = lines.colorbar
    assert colorbar is not None and colorbar.ax.get_ylabel() == "v (mV)"


def test_2d_values_norm_unit_and_no_colorbar():
    morpho = flat_tree()
    n = morpho.total_compartments
    values = np.linspace(-0.07, -0.05, n) * volt
    ax = plot_morphology(
        morpho, values=values, value_norm=(-80 * mV, -40), value_unit=mV,
        value_colorbar=False,
    )
    lines = single_collection(ax, LineCollection)
    assert (lines.norm.vmin, lines.norm.vmax) == pytest.approx((-80, -40))
    np.testing.assert_allclose(lines.get_array(), np.asarray(values[1:] / mV))
    assert lines.colorbar is None and len(ax.figure.axes) == 1
    # show_diameter colours the polygons instead
    fig, ax = plt.subplots()
    plot_morphology(morpho, values=values, show_diameter=True, axes=ax)
    polygons = single_collection(ax, PolyCollection)
    np.testing.assert_allclose(polygons.get_array(), np.asarray(values[1:] / mV))
    assert polygons.colorbar.ax.get_ylabel() == "mV"


def test_values_of_a_spatial_neuron():
    morpho = flat_tree()
    neuron = SpatialNeuron(
        morpho, "Im = gL * (EL - v) : amp/meter**2\ngL : siemens/meter**2\nEL : volt",
        Cm=1 * ufarad / cm**2, Ri=100 * ohm * cm,
        method="exponential_euler",
    )
    neuron.gL = 1e-4 * siemens / cm**2
    neuron.EL = -70 * mV
    # set by Brian from each compartment's distance to the soma (running the
    # neuron with numpy would need scipy, which is no dependency)
    neuron.v = "-70*mV + 20*mV * distance / (200*um)"
    ax = plot_morphology(neuron.morphology, values=neuron.v)
    lines = single_collection(ax, LineCollection)
    v = np.asarray(neuron.v[:] / mV)
    np.testing.assert_allclose(lines.get_array(), v[1:])
    np.testing.assert_allclose(single_collection(ax, PatchCollection).get_array(), v[:1])
    assert lines.colorbar.ax.get_ylabel() == "v (mV)"


# --------------------------------------------------------------------------
# Real reconstruction and morphologies without coordinates
# --------------------------------------------------------------------------


def test_shipped_swc_2d_and_automatic_3d():
    morpho = swc_morphology()
    fig, ax = plt.subplots()
    plot_morphology(morpho, plot_3d=False, axes=ax)
    drawn = path_vertices(single_collection(ax, LineCollection))
    expected = expected_paths_2d(morpho)
    assert len(drawn) == len(expected) == morpho.total_sections - 1
    for got, want in zip(drawn, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-9)
    (circle,) = path_vertices(single_collection(ax, PatchCollection))
    radius = (circle[:, 0].max() - circle[:, 0].min()) / 2
    assert radius == pytest.approx(float(morpho.diameter[0] / um) / 2)
    # the reconstruction has z coordinates: 3D by default
    fig = plt.figure()
    ax3d = plot_morphology(morpho)
    assert isinstance(ax3d, Axes3D) and ax3d.figure is fig


def test_morphology_without_coordinates_uses_generated_ones():
    morpho = code_tree_without_coordinates()
    ax = plot_morphology(morpho)
    assert not isinstance(ax, Axes3D)
    generated = morpho.generate_coordinates()
    drawn = path_vertices(single_collection(ax, LineCollection))
    for got, want in zip(drawn, expected_paths_2d(generated), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-9)
    # the morphology itself is unchanged
    assert morpho.x is None and morpho.dend.x is None and morpho.dend.b.x is None
    assert [s for s, _ in brian_sections(morpho)][1] is morpho.dend


def test_root_section_without_coordinates_and_soma_without_coordinates():
    # Brian's generate_coordinates cannot start from a non-soma root
    morpho = Cylinder(2 * um, length=100 * um, n=4)
    morpho.a = Cylinder(1 * um, length=50 * um, n=2)
    morpho.b = Cylinder(1 * um, length=30 * um, n=2)
    ax = plot_morphology(morpho)
    drawn = path_vertices(single_collection(ax, LineCollection))
    lengths = [np.sum(np.hypot(*np.diff(p, axis=0).T)) for p in drawn]
    np.testing.assert_allclose(lengths, [100, 50, 30])
    np.testing.assert_allclose(drawn[0][0], [0, 0], atol=1e-9)
    np.testing.assert_allclose(drawn[1][0], drawn[0][-1], atol=1e-9)
    assert morpho.x is None and morpho.a.parent is morpho
    # a soma without coordinates whose sections have them: soma at the origin
    tree = Soma(10 * um)
    tree.dend = Cylinder(1 * um, n=2, x=[5, 25] * um, y=[0, 0] * um)
    ax = plot_morphology(tree, axes=plt.figure().gca())
    np.testing.assert_allclose(
        path_vertices(single_collection(ax, LineCollection))[0], [[5, 0], [15, 0], [25, 0]]
    )
    (circle,) = path_vertices(single_collection(ax, PatchCollection))
    np.testing.assert_allclose((circle.max(axis=0) + circle.min(axis=0)) / 2, [0, 0], atol=1e-9)


def test_a_subtree_is_drawn_where_it_is():
    morpho = swc_morphology()
    subtree = morpho.dend2.dend
    ax = plot_morphology(subtree, plot_3d=False)
    drawn = path_vertices(single_collection(ax, LineCollection))
    for got, want in zip(drawn, expected_paths_2d(subtree), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-9)


def test_deep_tree_does_not_hit_the_recursion_limit():
    depth = 1500
    root = Cylinder(1 * um, n=1, x=[0, 1] * um, y=[0, 0] * um)
    section = root
    for _ in range(depth - 1):
        child = Cylinder(1 * um, n=1, x=[0, 1] * um, y=[0, 0.1] * um)
        section.children.add("next", child)
        section = child
    ax = plot_morphology(root)
    drawn = path_vertices(single_collection(ax, LineCollection))
    assert len(drawn) == depth
    np.testing.assert_allclose(drawn[-1][-1], [depth, 0.1 * (depth - 1)])
    fig, ax = plt.subplots()
    plot_dendrogram(root, axes=ax)
    vertical = single_collection(ax, LineCollection).get_segments()
    assert len(vertical) == depth
    assert vertical[-1][1][1] == pytest.approx(1 + (depth - 1) * np.hypot(1, 0.1))


# --------------------------------------------------------------------------
# 3D with matplotlib
# --------------------------------------------------------------------------


def test_3d_segments_and_axes():
    morpho = swc_morphology()
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    returned = plot_morphology(morpho, axes=ax)
    assert returned is ax
    lines = single_collection(ax, Line3DCollection)
    expected = [np.asarray(s.coordinates / um) for s, _ in cable_sections(morpho)]
    for got, want in zip(lines._segments3d, expected, strict=True):
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-9)
    points = np.vstack(expected)
    for axis, (low, high) in zip("xyz", (ax.get_xlim3d(), ax.get_ylim3d(), ax.get_zlim3d()),
                                 strict=True):
        index = "xyz".index(axis)
        assert low <= points[:, index].min() and high >= points[:, index].max()
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("x (µm)", "y (µm)", "z (µm)")
    # the soma: a sphere (surface) in the first colour
    assert len([c for c in ax.collections if type(c).__name__ == "Poly3DCollection"]) == 1


def test_3d_replaces_an_empty_2d_axes_and_refuses_a_used_one():
    morpho = flat_tree()
    fig, axes = plt.subplots(1, 2)
    ax3d = plot_morphology(morpho, plot_3d=True, axes=axes[1])
    assert isinstance(ax3d, Axes3D) and ax3d.figure is fig
    assert axes[1] not in fig.axes and axes[0] in fig.axes
    assert ax3d.get_subplotspec().get_geometry() == axes[1].get_subplotspec().get_geometry()
    axes[0].plot([0, 1], [0, 1])
    with pytest.raises(ValueError, match="projection='3d'"):
        plot_morphology(morpho, plot_3d=True, axes=axes[0])
    # no axes given: the current (empty) figure gets a 3D axes
    fig = plt.figure()
    ax = plot_morphology(morpho, plot_3d=True)
    assert isinstance(ax, Axes3D) and fig.axes == [ax]


def test_3d_show_diameter_widths_and_compartments_and_colors():
    morpho = flat_tree()
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    plot_morphology(morpho, axes=ax, plot_3d=True, show_diameter=True, show_compartments=True,
                    colors=("darkblue",))
    lines = single_collection(ax, Line3DCollection)
    np.testing.assert_allclose(
        np.asarray(lines._segments3d), expected_segments(morpho, dims=3), atol=1e-9
    )
    diameters = np.concatenate(
        [np.asarray((s.start_diameter + s.end_diameter) / 2 / um) for s, _ in
         cable_sections(morpho)]
    )
    widths = np.asarray(lines.get_linewidths())
    thick = widths > 0.5  # above the minimum width
    assert thick.sum() >= 10
    ratio = widths[thick] / diameters[thick]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    np.testing.assert_allclose(lines.get_colors(), [to_rgba("darkblue")] * len(diameters))
    (scatter,) = [c for c in ax.collections if type(c).__name__ == "Path3DCollection"]
    drawn = np.column_stack([np.asarray(a) for a in scatter._offsets3d])
    assert len(drawn) == sum(s.n + 1 for s, _ in cable_sections(morpho))


def test_3d_values():
    morpho = swc_morphology()
    # up to ~ -70 mV, so that mV is the unit that reads best
    values = -np.linspace(0, 70, morpho.total_compartments) * mV
    ax = plot_morphology(morpho, values=values, value_name="v")
    lines = single_collection(ax, Line3DCollection)
    np.testing.assert_allclose(lines.get_array(), np.asarray(values[1:] / mV))
    assert lines.colorbar.ax.get_ylabel() == "v (mV)"


# --------------------------------------------------------------------------
# Dendrogram
# --------------------------------------------------------------------------


def test_dendrogram_structure():
    morpho = flat_tree()
    fig, ax = plt.subplots()
    assert plot_dendrogram(morpho, axes=ax) is ax
    segments = np.asarray(single_collection(ax, LineCollection).get_segments())
    sections = brian_sections(morpho)
    branching = [s for s, _ in sections if len(s.children) > 1]
    vertical = segments[: len(sections)]
    horizontal = segments[len(sections):]
    assert len(horizontal) == len(branching) == 2  # the soma and dend
    assert np.all(vertical[:, 0, 0] == vertical[:, 1, 0])
    assert np.all(horizontal[:, 0, 1] == horizontal[:, 1, 1])
    # vertical extent = distance from the root (Brian's end_distance)
    for (section, _), segment in zip(sections, vertical, strict=True):
        start = 0 if section.parent is None else section.parent.end_distance / um
        assert segment[0, 1] == pytest.approx(start)
        assert segment[1, 1] == pytest.approx(section.end_distance / um)
    # leaves at 0, 1, 2 in Brian's order; parents midway between their children
    x = vertical[:, 0, 0]
    names = ["soma", "dend", "left", "right", "tip", "axon"]
    leaf_x = {name: x[i] for i, name in enumerate(names) if name in ("left", "tip", "axon")}
    assert leaf_x == {"left": 0, "tip": 1, "axon": 2}
    assert x[names.index("right")] == 1
    assert x[names.index("dend")] == 0.5
    assert x[names.index("soma")] == 1.25
    np.testing.assert_allclose(horizontal[0], [[0.5, 0], [2, 0]])  # soma: dend .. axon
    # the soma marker
    (soma_marker,) = [c for c in ax.collections if type(c).__name__ == "PathCollection"]
    np.testing.assert_allclose(soma_marker.get_offsets(), [[1.25, 0]])
    assert ax.get_ylabel() == "distance from root (µm)"
    assert list(ax.get_xticks()) == []
    assert ax.dataLim.y1 == pytest.approx(max(s.end_distance / um for s, _ in sections))


def test_dendrogram_of_the_swc_via_brian_plot_and_kwds():
    morpho = swc_morphology()
    ax = brian_plot(morpho, color="red", linewidth=3)
    lines = single_collection(ax, LineCollection)
    n_sections = morpho.total_sections
    n_leaves = sum(1 for s, _ in brian_sections(morpho) if len(s.children) == 0)
    n_branching = sum(1 for s, _ in brian_sections(morpho) if len(s.children) > 1)
    segments = np.asarray(lines.get_segments())
    assert len(segments) == n_sections + n_branching
    leaf_x = sorted(
        seg[0, 0] for (s, _), seg in zip(brian_sections(morpho), segments, strict=False)
        if len(s.children) == 0
    )
    assert leaf_x == list(range(n_leaves))
    np.testing.assert_allclose(lines.get_colors(), [to_rgba("red")])
    np.testing.assert_allclose(lines.get_linewidths(), [3])


def test_dendrogram_of_a_morphology_without_coordinates():
    morpho = code_tree_without_coordinates()
    ax = plot_dendrogram(morpho)
    segments = np.asarray(single_collection(ax, LineCollection).get_segments())
    np.testing.assert_allclose(segments[1], [[0.5, 0], [0.5, 100]])  # dend
    np.testing.assert_allclose(segments[3], [[1, 100], [1, 140]])  # dend.b


# --------------------------------------------------------------------------
# Errors and axes handling
# --------------------------------------------------------------------------


def test_errors():
    morpho = flat_tree()
    with pytest.raises(TypeError, match="plot_morphology needs a brian2 Morphology.*'list'"):
        plot_morphology([1, 2, 3])
    with pytest.raises(TypeError, match="plot_dendrogram needs a brian2 Morphology"):
        plot_dendrogram(np.zeros(3))
    with pytest.raises(TypeError, match="brian_plot does not know"):
        brian_plot(morpho.dend[10 * um:20 * um])
    with pytest.raises(ValueError, match="the morphology has 17 compartments.*shape \\(5,\\)"):
        plot_morphology(morpho, values=np.zeros(5) * mV)
    with pytest.raises(DimensionMismatchError, match="chosen for 'values' does not match"):
        plot_morphology(morpho, values=np.zeros(17) * mV, value_unit=second)
    with pytest.raises(ValueError, match="'colors'"):
        plot_morphology(morpho, colors=())
    with pytest.raises(ValueError, match="'colors'"):
        plot_morphology(morpho, colors=("notacolor",))
    with pytest.raises(TypeError, match="value_norm"):
        plot_morphology(morpho, values=np.zeros(17) * mV, value_norm=5)
    with pytest.raises(DimensionMismatchError, match="lower limit in 'value_norm'"):
        plot_morphology(morpho, values=np.zeros(17) * mV, value_norm=(1 * second, None))
    with pytest.raises(ValueError, match="value_colormap"):
        plot_morphology(morpho, values=np.zeros(17) * mV, value_colormap="nocolormap")
    with pytest.raises(ValueError, match="'backend'"):
        plot_morphology(morpho, backend="vtk")
    with pytest.raises(ValueError, match="Mayavi only draws 3D"):
        plot_morphology(morpho, plot_3d=False, backend="mayavi")
    with pytest.raises(TypeError, match="'axes' has to be a matplotlib Axes"):
        plot_morphology(morpho, axes="ax")


def test_soma_only_in_2d_and_3d():
    soma = Soma(10 * um)
    ax = plot_morphology(soma, values=[-65.0] * mV)
    disks = single_collection(ax, PatchCollection)
    np.testing.assert_allclose(disks.get_array(), [-65])
    assert (ax.dataLim.x0, ax.dataLim.x1) == pytest.approx((-5, 5))
    fig = plt.figure()
    ax3d = plot_morphology(soma, plot_3d=True)
    assert isinstance(ax3d, Axes3D) and ax3d.figure is fig
    assert not any(type(c) is Line3DCollection for c in ax3d.collections)
    assert ax3d.get_xlim3d()[0] <= -5 and ax3d.get_xlim3d()[1] >= 5


def test_mayavi_backend_without_mayavi_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mayavi", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install brian2tools\[mayavi\]"):
        plot_morphology(flat_tree(), backend="mayavi")


def test_spatial_neuron_instead_of_morphology_gets_a_hint():
    neuron = SpatialNeuron(flat_tree(), "Im = 0*amp/meter**2 : amp/meter**2")
    with pytest.raises(TypeError, match="pass its 'morphology' attribute"):
        plot_morphology(neuron)


def test_draws_on_the_current_axes_and_keeps_existing_content():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    ax2.plot([0, 1], [0, 1])
    plt.sca(ax2)
    morpho = flat_tree()
    assert plot_morphology(morpho, alpha=0.5) is ax2
    assert plot_dendrogram(morpho) is ax2
    assert len(ax1.collections) == 0 and len(ax2.lines) == 1
    assert ax2.dataLim.x0 <= 0 and ax2.dataLim.y1 >= 1  # the line still fits
    lines = [c for c in ax2.collections if type(c) is LineCollection]
    assert lines[0].get_alpha() == 0.5


# --------------------------------------------------------------------------
# Mayavi (optional)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlab():
    os.environ.setdefault("ETS_TOOLKIT", "null")  # no GUI toolkit needed
    mlab = pytest.importorskip("mayavi.mlab")
    mlab.options.offscreen = True
    yield mlab
    mlab.close(all=True)
    # Collecting the closed scenes can make a VTK callback inside Mayavi/tvtk
    # fail with "TypeError: () missing 1 required positional argument:
    # 'key'" (reported through sys.excepthook, which Brian turns into an
    # alarming "Brian 2 encountered an unexpected error"). It happens only
    # after all drawing is done; collect here and let only that message pass.
    original_hook = sys.excepthook

    def ignore_vtk_teardown_error(kind, error, traceback):
        if not (kind is TypeError and "required positional argument: 'key'" in str(error)):
            original_hook(kind, error, traceback)

    sys.excepthook = ignore_vtk_teardown_error
    try:
        gc.collect()
    finally:
        sys.excepthook = original_hook


def _dataset(scene, name):
    (source,) = [child for child in scene.children if child.name == name]
    return source


def test_mayavi_scene_contents(mlab, tmp_path):
    morpho = swc_morphology()
    scene = mlab.figure()
    returned = plot_morphology(morpho, backend="mayavi", axes=scene, show_diameter=True,
                               show_compartments=True)
    assert returned is scene
    sections = _dataset(scene, "sections")
    polydata = sections.data
    segments = expected_segments(morpho, dims=3)
    points = np.asarray(polydata.points)
    np.testing.assert_allclose(points[0::2], segments[:, 0], atol=1e-9)
    np.testing.assert_allclose(points[1::2], segments[:, 1], atol=1e-9)
    assert polydata.number_of_lines == len(segments)
    # colour index per section level (default two colours), radius per point
    depths = np.concatenate([[d] * s.n for s, d in cable_sections(morpho)])
    np.testing.assert_array_equal(
        np.asarray(polydata.point_data.get_array("color")), np.repeat(depths % 2, 2)
    )
    radius = np.asarray(polydata.point_data.get_array("radius"))
    start_d = np.concatenate([np.asarray(s.start_diameter / um) for s, _ in
                              cable_sections(morpho)])
    np.testing.assert_allclose(radius[0::2], start_d / 2)
    # the pipeline draws tubes varying with the radius
    tube = sections.children[0].children[0]
    assert type(tube).__name__ == "Tube"
    assert tube.filter.vary_radius == "vary_radius_by_absolute_scalar"
    # the soma: one sphere glyph at its centre, scaled to its diameter
    soma = _dataset(scene, "soma")
    np.testing.assert_allclose(
        np.asarray(soma.data.points)[0],
        [morpho.x[0] / um, morpho.y[0] / um, morpho.z[0] / um], atol=1e-9
    )
    assert np.asarray(soma.data.point_data.scalars)[0] == pytest.approx(morpho.diameter[0] / um)
    boundaries = _dataset(scene, "compartment boundaries")
    assert len(np.asarray(boundaries.data.points)) == sum(
        s.n + 1 for s, _ in cable_sections(morpho)
    )
    mlab.savefig(str(tmp_path / "morphology.png"), figure=scene)
    assert (tmp_path / "morphology.png").stat().st_size > 1000


def test_mayavi_values_and_colorbar(mlab):
    morpho = flat_tree()
    scene = mlab.figure()
    values = np.linspace(-70, -50, morpho.total_compartments) * mV
    plot_morphology(morpho, backend="mayavi", axes=scene, values=values, value_name="v",
                    value_norm=(-80 * mV, None))
    polydata = _dataset(scene, "sections").data
    np.testing.assert_allclose(
        np.asarray(polydata.point_data.get_array("color")), np.repeat(values[1:] / mV, 2)
    )
    (surface,) = _dataset(scene, "sections").children[0].children
    lut_manager = surface.module_manager.scalar_lut_manager
    assert tuple(lut_manager.data_range) == pytest.approx((-80, -50))
    assert lut_manager.show_scalar_bar and lut_manager.scalar_bar.title == "v (mV)"
    # a mayavi scene as axes selects Mayavi without backend=
    other = mlab.figure()
    assert plot_morphology(morpho, axes=other) is other


def test_unit_errors_are_brians_dimension_mismatch_error():
    """Brian users catch DimensionMismatchError for wrong units, also from plots."""
    morpho = Soma(20 * um)
    morpho.dend = Cylinder(2 * um, length=100 * um, n=4)
    values = np.linspace(-70, -50, 5) * mV
    with pytest.raises(DimensionMismatchError, match="umetre chosen for 'values' does not match its units \\(volt\\)"):
        plot_morphology(morpho, values=values, value_unit=um)
    with pytest.raises(DimensionMismatchError, match="upper limit in 'value_norm'.*s"):
        plot_morphology(morpho, values=values, value_norm=(None, 3 * second))
    # nothing was drawn before the error
    assert not plt.gca().has_data()


def test_dendrogram_colours_by_level_with_legend_and_tight_limits():
    morpho = flat_tree()
    fig, ax = plt.subplots()
    plot_dendrogram(morpho, axes=ax)
    lines = single_collection(ax, LineCollection)
    sections = brian_sections(morpho)
    depths = [d for _, d in sections]
    palette = [to_rgba("darkblue"), to_rgba("darkred")]
    colours = lines.get_colors()
    # vertical lines in the colour of their section's level, the horizontal
    # line below a branch point in that of the branching section (soma, dend)
    np.testing.assert_allclose(colours[: len(sections)], [palette[d % 2] for d in depths])
    np.testing.assert_allclose(colours[len(sections):], [palette[0], palette[1]])
    (soma_marker,) = [c for c in ax.collections if type(c).__name__ == "PathCollection"]
    np.testing.assert_allclose(soma_marker.get_facecolor(), [palette[0]])
    title, texts, legend_colours = legend_of(ax)
    assert title == "branch level (root: 0)"
    assert texts == ["levels 0, 2", "levels 1, 3"] and legend_colours == palette
    # the legend sits below the axes (no tick labels there), off the branches
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().y1 <= ax.get_window_extent().y0
    # limits: half a leaf spacing left and right, a small margin in distance
    n_leaves = sum(1 for s, _ in sections if len(s.children) == 0)
    assert ax.get_xlim() == (-0.5, n_leaves - 0.5)
    top = max(s.end_distance / um for s, _ in sections)
    low, high = ax.get_ylim()
    assert -0.05 * top < low < 0 and top < high < 1.05 * top
    # a single colour: nothing to explain
    fig, ax2 = plt.subplots()
    plot_dendrogram(morpho, axes=ax2, colors="black")
    assert ax2.get_legend() is None
    np.testing.assert_allclose(single_collection(ax2, LineCollection).get_colors(),
                               [to_rgba("black")] * len(colours))


def test_3d_is_readable_for_a_flat_cell():
    morpho = swc_morphology()  # mostly in the x-y plane
    fig = plt.figure()
    ax = plot_morphology(morpho, plot_3d=True)
    assert ax.elev == 45  # seen from higher up: the cell fills more height
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    # axis labels clear of their tick labels
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        label_box = axis.label.get_window_extent(renderer)
        for tick in axis.get_ticklabels():
            if tick.get_visible() and tick.get_text():
                assert not label_box.overlaps(tick.get_window_extent(renderer)), axis
    # few ticks, none at the box corners (where two axes' labels meet)
    for axis, (low, high) in ((ax.xaxis, ax.get_xlim3d()), (ax.yaxis, ax.get_ylim3d()),
                              (ax.zaxis, ax.get_zlim3d())):
        ticks = [t for t in axis.get_ticklocs() if low <= t <= high]
        assert 1 <= len(ticks) <= 5
        assert min(ticks) > low and max(ticks) < high
    # the thin z side is drawn at least a quarter of the longest side
    aspect = ax.get_box_aspect()
    assert aspect[2] / max(aspect) == pytest.approx(0.25, rel=1e-3)
    title, texts, _ = legend_of(ax)
    assert texts[0].startswith("levels 0, 2")
    # a view the user chose is kept
    fig = plt.figure()
    ax = fig.add_subplot(projection="3d")
    ax.view_init(elev=10, azim=20)
    plot_morphology(morpho, plot_3d=True, axes=ax)
    assert (ax.elev, ax.azim) == (10, 20)


def test_values_colorbar_hugs_the_axes_instead_of_squeezing_it():
    morpho = code_tree_without_coordinates()
    values = np.linspace(-70, -40, morpho.total_compartments) * mV
    fig, ax = plt.subplots(figsize=(5, 6))
    plot_morphology(morpho, values=values, value_name="v", axes=ax)
    colorbar = single_collection(ax, LineCollection).colorbar
    assert colorbar.ax.get_ylabel() == "v (mV)"
    fig.canvas.draw()
    axes_box = ax.get_window_extent()
    bar_box = colorbar.ax.get_window_extent()
    dpi = fig.dpi
    # right next to the axes as drawn (after the equal aspect), as tall as
    # it, and a fixed, slim width
    assert 0 < (bar_box.x0 - axes_box.x1) / dpi < 0.2
    assert bar_box.y0 == pytest.approx(axes_box.y0, abs=1) and \
        bar_box.y1 == pytest.approx(axes_box.y1, abs=1)
    assert bar_box.width / dpi == pytest.approx(0.15, abs=0.02)
    # the axes keeps its whole layout slot in height (only the aspect narrows it)
    slot = ax.get_subplotspec().get_position(fig)
    assert axes_box.height == pytest.approx(slot.height * fig.bbox.height, rel=0.01)
