"""
3D morphology plots with Mayavi, used by
:func:`~brian2tools.plotting.morphology.plot_morphology` with
``backend='mayavi'`` (or when given a Mayavi scene).

Mayavi is optional (``pip install brian2tools[mayavi]``) and imported only
when a plot is drawn. Without a display, set the environment variable
``ETS_TOOLKIT=null`` before the first import of Mayavi and switch on
``mlab.options.offscreen = True``; ``mlab.savefig`` then renders to a file.

All compartments go into one VTK poly-data set (two points and one line per
compartment, so that each compartment can carry its own colour value), drawn
as lines, or as tubes of the compartment radii with ``show_diameter``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .morphology_layout import MorphologyLayout

__all__ = ["draw_morphology_mayavi"]

#: Line width (pixels) of the sections when not drawn as tubes.
MAYAVI_LINE_WIDTH = 2.0

#: Number of sides of the tubes drawn with ``show_diameter``.
TUBE_SIDES = 8


def _import_mlab():
    try:
        from mayavi import mlab
    except ImportError as exc:
        raise ImportError(
            "plot_morphology(..., backend='mayavi') needs the optional Mayavi "
            "packages: pip install brian2tools[mayavi] (or use the default "
            f"backend='matplotlib'). The import failed with: {exc}"
        ) from exc
    return mlab


def _scene(mlab, scene: Any):
    from mayavi.core.scene import Scene

    if scene is None:
        return mlab.gcf()
    if not isinstance(scene, Scene):
        raise TypeError(
            f"With backend='mayavi', 'axes' has to be a Mayavi scene (e.g. "
            f"mlab.figure()), not '{type(scene).__name__}'."
        )
    return scene


def _lookup_table(colors: np.ndarray) -> np.ndarray:
    """A VTK lookup table (n x 4 bytes) from RGBA colours in 0..1."""
    return np.round(np.asarray(colors) * 255).astype(np.uint8)


def draw_morphology_mayavi(layout: MorphologyLayout, style, scene: Any = None, **kwds):
    """
    Draw a morphology layout into a Mayavi scene (see
    :func:`~brian2tools.plotting.morphology.plot_morphology`).

    Parameters
    ----------
    layout : `~brian2tools.plotting.morphology_layout.MorphologyLayout`
        The geometry (with diameters if ``style.show_diameter``).
    style : object
        Colours, values and options, as prepared by ``plot_morphology``.
    scene : Mayavi scene, optional
        Where to draw; by default the current scene.
    **kwds
        Passed on to ``mlab.pipeline.surface``.

    Returns
    -------
    scene : Mayavi scene
        The scene that was drawn into.

    Examples
    --------
    >>> from brian2 import *
    >>> from brian2tools import plot_morphology
    >>> morpho = Soma(20*um)
    >>> morpho.dend = Cylinder(2*um, length=100*um, n=10)
    >>> scene = plot_morphology(morpho, backend='mayavi')  # doctest: +SKIP
    """
    mlab = _import_mlab()
    from tvtk.api import tvtk

    scene = _scene(mlab, scene)
    previous_disable_render = scene.scene.disable_render
    scene.scene.disable_render = True  # draw once at the end, not per pipeline step
    try:
        cable = ~layout.is_soma
        n_cable = int(np.count_nonzero(cable))
        if n_cable:
            points = np.empty((2 * n_cable, 3))
            points[0::2] = layout.start[cable]
            points[1::2] = layout.end[cable]
            lines = np.arange(2 * n_cable).reshape(-1, 2)
            polydata = tvtk.PolyData(points=points, lines=lines)
            if style.values is not None:
                scalars = np.repeat(style.values[cable], 2)
                vmin, vmax = style.norm.vmin, style.norm.vmax
                table = _lookup_table(style.cmap(np.linspace(0, 1, 256)))
            else:
                # the colour index of each compartment's section level; the
                # range is chosen so that index k falls into table entry k
                n_colors = len(style.section_colors)
                scalars = np.repeat(layout.depth[cable] % n_colors, 2).astype(float)
                vmin, vmax = -0.5, n_colors - 0.5
                table = _lookup_table(style.section_colors)
            polydata.point_data.scalars = scalars
            polydata.point_data.scalars.name = "color"
            if style.show_diameter:
                radius = np.empty(2 * n_cable)
                radius[0::2] = layout.start_diameter[cable] / 2
                radius[1::2] = layout.end_diameter[cable] / 2
                radius_array = polydata.point_data.add_array(radius)
                polydata.point_data.get_array(radius_array).name = "radius"
            source = mlab.pipeline.add_dataset(polydata, name="sections", figure=scene)
            if style.show_diameter:
                by_radius = mlab.pipeline.set_active_attribute(source, point_scalars="radius")
                tubes = mlab.pipeline.tube(by_radius, tube_sides=TUBE_SIDES)
                tubes.filter.vary_radius = "vary_radius_by_absolute_scalar"
                drawn = mlab.pipeline.set_active_attribute(tubes, point_scalars="color")
            else:
                drawn = source
            kwds.setdefault("line_width", MAYAVI_LINE_WIDTH)
            surface = mlab.pipeline.surface(drawn, vmin=vmin, vmax=vmax, figure=scene, **kwds)
            lut_manager = surface.module_manager.scalar_lut_manager
            lut_manager.lut.number_of_colors = len(table)
            lut_manager.lut.table = table
            if style.colorbar:
                mlab.colorbar(surface, title=style.value_label, orientation="vertical")

        for center, diameter, color in zip(
            layout.soma_center, layout.soma_diameter, style.soma_colors(layout), strict=True
        ):
            mlab.points3d(
                center[0], center[1], center[2], diameter, scale_factor=1.0,
                scale_mode="scalar", resolution=16, color=tuple(float(c) for c in color[:3]),
                name="soma", figure=scene,
            )

        if style.show_compartments and n_cable:
            boundaries = layout.boundaries
            size = float(np.median(layout.end_diameter[cable])) if style.show_diameter else 1.0
            mlab.points3d(
                boundaries[:, 0], boundaries[:, 1], boundaries[:, 2], scale_factor=size,
                color=(0.0, 0.0, 0.0), resolution=8, name="compartment boundaries",
                figure=scene,
            )
    finally:
        scene.scene.disable_render = previous_disable_render
    return scene
