"""
Import of NeuroML cells (brian2tools.nmlimport.NMLMorphology): real NeuroML
example cells and hand-made files, checked against the numbers in the files.
"""

from pathlib import Path

import numpy as np
import pytest
from brian2 import (
    Cylinder,
    Section,
    Soma,
    SpatialNeuron,
    StateMonitor,
    cm,
    mS,
    ms,
    mV,
    ohm,
    run,
    siemens,
    uF,
    um,
)
from brian2.units.fundamentalunits import have_same_dimensions

from brian2tools.nmlimport import (
    NMLImportError,
    NMLMorphology,
    NMLMorphologyError,
    validate_morphology,
)

pytest.importorskip("neuroml")

DATA = Path(__file__).parent / "data" / "nml"


def frustum_area(d0, d1, length):
    return np.pi * (d0 + d1) / 2 * np.sqrt(length**2 + ((d1 - d0) / 2) ** 2)


def assert_quantity(value, expected, rtol=1e-12):
    assert have_same_dimensions(value, expected), (value, expected)
    np.testing.assert_allclose(np.asarray(value), np.asarray(expected), rtol=rtol)


# --- simple cells ------------------------------------------------------------------------

def test_single_compartment_hh_cell_is_a_soma():
    cell = NMLMorphology(DATA / "NML2_SingleCompHHCell.nml")
    morphology = cell.morphology
    assert isinstance(morphology, Soma)
    assert morphology.total_compartments == 1
    assert_quantity(morphology.diameter[0], 17.841242 * um)
    # the file's comment: "gives a convenient surface area of 1000.0 um^2"
    assert abs(float(morphology.area[0] / um**2) - 1000.0) < 1e-3
    assert list(cell.segment_groups["soma_group"]) == [0]
    assert cell.group_sections["soma_group"] == [""]
    assert morphology.type == "soma"
    assert set(cell.ion_channels) == {"passiveChan", "naChan", "kChan"}


def test_ball_axon_dend_sections_names_and_geometry():
    cell = NMLMorphology(DATA / "ball_axon_dend.cell.nml")
    morphology = cell.morphology
    assert isinstance(morphology, Soma)
    assert_quantity(morphology.diameter[0], 20 * um)
    assert sorted(morphology.children.name(c) for c in morphology.children) == ["axon", "dend"]
    assert sorted(morphology.dend.children.name(c) for c in morphology.dend.children) == ["L", "R"]
    # axon: 2 segments, numberInternalDivisions=4 -> 4 compartments of equal length, the
    # diameter interpolated linearly along each segment (2 -> 1.5 -> 1 um)
    axon = morphology.axon
    assert axon.n == 4 and axon.type == "axon"
    assert_quantity(axon.length, [25, 25, 25, 25] * um)
    assert_quantity(axon.start_diameter, [2, 1.75, 1.5, 1.25] * um)
    assert_quantity(axon.end_diameter, [1.75, 1.5, 1.25, 1] * um)
    # coordinates are those of the file (the axon starts on the soma's surface)
    assert_quantity(axon.start_x, [-10, -35, -60, -85] * um)
    assert_quantity(axon.end_x[-1], -110 * um)
    # the axon's area is the sum of the two segments' frustum areas
    expected = frustum_area(2, 1.5, 50) + frustum_area(1.5, 1, 50)
    np.testing.assert_allclose(float(np.sum(axon.area) / um**2), expected, rtol=1e-12)
    # the dendrite: one compartment per segment; the children are attached at its end
    dend = morphology.dend
    assert dend.n == 2 and dend.type == "dend"
    assert_quantity(dend.start_diameter, [3, 3] * um)
    assert_quantity(dend.end_diameter, [3, 2] * um)
    right = dend.R
    assert_quantity(right.start_x, [70] * um)
    assert_quantity(right.end_z, [10] * um)
    np.testing.assert_allclose(float(right.area[0] / um**2),
                               frustum_area(1, 0.5, np.sqrt(30**2 + 30**2 + 10**2)), rtol=1e-12)


def test_ball_axon_dend_segment_groups_are_compartment_indices():
    cell = NMLMorphology(DATA / "ball_axon_dend.cell.nml")
    morphology = cell.morphology
    groups = cell.segment_groups
    assert list(groups["soma_group"]) == [0]
    assert list(groups["axon_group"]) == list(morphology.axon.indices[:])
    assert list(groups["dendrite_group"]) == sorted(
        list(morphology.dend.indices[:]) + list(morphology.dend.L.indices[:])
        + list(morphology.dend.R.indices[:]))
    assert list(groups["all"]) == list(range(morphology.total_compartments))
    # a subTree from segment 5 (dend_L) plus the member 6 (dend_R)
    assert list(groups["distal_dendrites"]) == sorted([*morphology.dend.L.indices[:],
                                                       *morphology.dend.R.indices[:]])
    # a path from segment 3 (dend, first segment) to segment 5 (dend_L)
    assert list(groups["soma_to_L"]) == [*morphology.dend.indices[:], *morphology.dend.L.indices[:]]
    assert cell.group_sections["soma_to_L"] == ["dend", "dend.L"]
    assert cell.group_sections["dendrite_group"] == ["dend", "dend.L", "dend.R"]


def test_ball_axon_dend_properties_and_channels():
    cell = NMLMorphology(DATA / "ball_axon_dend.cell.nml")
    props = cell.properties
    assert_quantity(props["spikeThresh"]["all"], -20 * mV)
    assert_quantity(props["initMembPotential"]["all"], -70 * mV)
    assert_quantity(props["resistivity"]["all"], 150 * ohm * cm)
    assert set(props["specificCapacitance"]) == {"soma_group", "dendrite_group", "axon_group"}
    assert_quantity(props["specificCapacitance"]["dendrite_group"], 2 * uF / cm**2)
    assert_quantity(props["specificCapacitance"]["axon_group"], 0.5 * uF / cm**2)
    channels = cell.channel_properties
    assert set(channels) == {"leak_all", "na_axon", "na_soma"}
    assert channels["leak_all"]["segment_group"] == "all"
    assert channels["leak_all"]["ion_channel"] == "leak"
    assert_quantity(channels["leak_all"]["cond_density"], 0.3 * mS / cm**2)
    assert_quantity(channels["leak_all"]["erev"], -70 * mV)
    assert channels["na_axon"]["segment_group"] == "axon_group"
    assert channels["na_axon"]["ion"] == "na"
    assert_quantity(channels["na_axon"]["cond_density"], 120 * mS / cm**2)
    assert channels["na_soma"]["type"] == "channelDensityNernst"
    assert "erev" not in channels["na_soma"]  # Nernst: the reversal potential is computed
    assert_quantity(channels["na_soma"]["cond_density"], 30 * siemens / cm**0 / (100 * cm) ** 2)
    # NaConductance comes from the included NML2_SimpleIonChannel.nml
    assert set(cell.ion_channels) == {"leak", "NaConductance"}
    assert type(cell.ion_channels["NaConductance"]).__name__ == "IonChannelHH"


def test_imported_cell_simulates_with_its_properties():
    """A passive SpatialNeuron from the imported morphology, groups and properties."""
    pytest.importorskip("scipy")  # Brian's numpy target needs it for SpatialNeuron
    cell = NMLMorphology(DATA / "ball_axon_dend.cell.nml")
    leak = cell.channel_properties["leak_all"]
    neuron = SpatialNeuron(cell.morphology, "Im = gL*(EL - v) : amp/meter**2\ngL : siemens/meter**2",
                           Cm=1 * uF / cm**2, Ri=cell.properties["resistivity"]["all"],
                           namespace={"EL": leak["erev"]}, method="exponential_euler")
    neuron.gL = leak["cond_density"]
    neuron.v = cell.properties["initMembPotential"]["all"]
    neuron.v[cell.segment_groups["axon_group"]] = 0 * mV
    monitor = StateMonitor(neuron, "v", record=True)
    run(2 * ms)
    v = monitor.v[:, -1] / mV
    axon = cell.segment_groups["axon_group"]
    others = np.setdiff1d(np.arange(len(neuron)), axon)
    # the depolarised axon charged the rest of the cell, and relaxed towards -70 mV
    assert np.all(v[others] > -70 + 1e-3)
    assert np.all(v[axon] < -1)
    assert np.all(np.diff(monitor.v[axon[-1], :] / mV) < 0)


# --- detailed cells, includes, fractionAlong --------------------------------------------------

def test_full_cell_with_include_spine_in_the_middle():
    cell = NMLMorphology(DATA / "NML2_FullCell.nml")
    morphology = cell.morphology
    # the soma segment is a 10x10 um cylinder: NEURON's convention for a sphere of the same area
    assert isinstance(morphology, Soma)
    np.testing.assert_allclose(float(morphology.area[0] / um**2), np.pi * 10 * 10, rtol=1e-12)
    assert_quantity(morphology.x, [5] * um)
    # segment 2 (Dendrite2) carries the spine at fractionAlong=0.5: it is cut there
    print(morphology.topology())
    dend = morphology.dend
    assert dend.n == 2
    assert_quantity(dend.end_x, [20, 25] * um)
    assert_quantity(dend.end_diameter, [3, 2] * um)  # 3 -> 1 um over segment 2: 2 um halfway
    assert sorted(dend.children.name(c) for c in dend.children) == ["dend_2", "spines"]
    assert_quantity(dend.dend_2.end_x, [30] * um)
    assert_quantity(dend.spines.start_x, [25] * um)
    assert_quantity(dend.spines.end_y, [0.2] * um)
    # the two halves of segment 2 have its total area (a cut cone)
    half_areas = dend.area[1] + dend.dend_2.area[0]
    np.testing.assert_allclose(float(half_areas / um**2), frustum_area(3, 1, 10), rtol=1e-12)
    # groups: the spine's compartment only in 'spines'; segment 2's halves in dendrite_group
    assert list(cell.segment_groups["spines"]) == list(dend.spines.indices[:])
    assert len(cell.segment_groups["dendrite_group"]) == 4
    assert_quantity(cell.properties["specificCapacitance"]["dendrite_group"], 2 * uF / cm**2)
    assert_quantity(cell.properties["resistivity"]["all"], 0.1 * 1000 * ohm * cm)
    population = cell.channel_properties["naChansDend"]
    assert population["type"] == "channelPopulation"
    assert population["number"] == 120000 and population["segment"] == 2
    assert cell.channel_properties["naChansSoma"]["segment_group"] == "soma_group"
    assert "NaConductance" in cell.ion_channels  # from the included file


def test_multicompartment_cell_number_internal_divisions():
    cell = NMLMorphology(DATA / "NML2_MultiCompCellNetwork.nml")
    morphology = cell.morphology
    assert cell.cell.id == "MultiCompCell"  # the included hhcell is not a candidate
    section = morphology.dendSec1.dendSec2
    assert section.n == 9  # numberInternalDivisions of dendSec2
    assert_quantity(section.length, np.full(9, 30 / 9) * um, rtol=1e-12)
    # the divisions fall on the segments' common point (30 um in, at y=30), so the area is exact
    expected = frustum_area(3, 2.5, 10) + frustum_area(2.5, 1.5, 20)
    np.testing.assert_allclose(float(np.sum(section.area) / um**2), expected, rtol=1e-12)
    assert cell.sections[-1].compartment_segments == [2, 2, 2, 3, 3, 3, 3, 3, 3]
    # one compartment per segment on request
    per_segment = NMLMorphology(DATA / "NML2_MultiCompCellNetwork.nml", use_divisions=False)
    assert per_segment.morphology.dendSec1.dendSec2.n == 2
    # without the name heuristic, the continuous dendrite is one section
    plain = NMLMorphology(DATA / "NML2_MultiCompCellNetwork.nml", name_heuristic=False)
    assert [info.name for info in plain.sections] == ["", "sec0"]
    assert plain.morphology.sec0.n == 3


def test_pyramidal_cell_fraction_zero_and_missing_includes(caplog):
    cell = NMLMorphology(DATA / "pyr_4_sym.cell.nml")
    morphology = cell.morphology
    # the soma is a 17 um long, 23 um wide cylinder: the root section
    assert isinstance(morphology, Section) and not isinstance(morphology, Soma)
    np.testing.assert_allclose(float(morphology.area[0] / um**2), np.pi * 23 * 17, rtol=1e-12)
    names = [info.name for info in cell.sections]
    assert names == ["", "apical0", "apical0.apical2", "apical0.apical2.apical3",
                     "apical0.apical2.apical3.apical4", "apical0.apical1", "basal0",
                     "basal0.basal1", "basal0.basal2"]
    # basal0 hangs at fractionAlong=0 of the soma; Brian attaches it at the soma's end but it
    # keeps its coordinates
    assert_quantity(morphology.basal0.start_y, [0] * um)
    assert_quantity(morphology.basal0.end_y, [-50] * um)
    assert_quantity(morphology.basal0.basal1.end_x, [106.07] * um)
    assert list(cell.segment_groups["basal_dends"]) == list(range(6, 9))
    assert cell.group_sections["middle_apical_dendrite"] == ["apical0.apical2.apical3"]
    assert_quantity(cell.properties["specificCapacitance"]["all"], 2.84 * uF / cm**2)
    assert set(cell.channel_properties) == {"Ca_pyr_soma_group", "Kahp_pyr_soma_group",
                                            "Kdr_pyr_soma_group", "LeakConductance_pyr_all",
                                            "Na_pyr_soma_group"}
    assert_quantity(cell.channel_properties["LeakConductance_pyr_all"]["cond_density"],
                    0.1420051 * mS / cm**2)
    assert cell.ion_channels == {}  # the channel files are not shipped (see data/nml/README)


def test_missing_include_warns_or_raises():
    with pytest.raises(FileNotFoundError, match="no_such_channels.nml"):
        NMLMorphology(DATA / "invalid" / "missing_include.nml", require_includes=True)
    cell = NMLMorphology(DATA / "invalid" / "missing_include.nml")
    assert isinstance(cell.morphology, Soma)


def test_several_cells_need_a_cell_id(tmp_path):
    source = (DATA / "NML2_SingleCompHHCell.nml").read_text()
    second = source.replace('<cell id="hhcell">', '<cell id="hhcell2">').split("<cell ")[1]
    second = "<cell " + second.split("</cell>")[0] + "</cell>"
    two = source.replace("</cell>", "</cell>\n" + second, 1)
    path = tmp_path / "two_cells.nml"
    path.write_text(two)
    with pytest.raises(NMLImportError, match="several cells.*hhcell, hhcell2.*cell_id"):
        NMLMorphology(path)
    assert NMLMorphology(path, cell_id="hhcell2").cell.id == "hhcell2"
    with pytest.raises(NMLImportError, match="no cell 'pyramid'"):
        NMLMorphology(path, cell_id="pyramid")


# --- invalid files -------------------------------------------------------------------------

@pytest.mark.parametrize("name, error, message", [
    ("duplicate_id", NMLMorphologyError, "cell 'broken'.*segment id 1 is used twice"),
    ("missing_parent", NMLMorphologyError, "segment 2 has parent 7, which is not a segment"),
    ("cycle", NMLMorphologyError, "parents of segment 1 form a cycle: 1 -> 2 -> 1"),
    ("two_roots", NMLMorphologyError, r"segments \[0, 1\] have no parent"),
    ("negative_diameter", NMLMorphologyError, "segment 1 has a distal diameter of -1.0 um"),
    ("root_without_proximal", NMLMorphologyError, "root segment 0 has no proximal point"),
    ("missing_group", NMLMorphologyError, "'soma_group' includes the group 'somata'"),
    ("no_cell", NMLImportError, "defines no <cell>"),
    ("bad_unit", NMLImportError, "specificCapacitance: Unknown unit 'furlong2'"),
    ("truncated", NMLImportError, "Cannot read the NeuroML file .*truncated.nml"),
])
def test_invalid_files_raise_clear_errors(name, error, message):
    with pytest.raises(error, match=message):
        NMLMorphology(DATA / "invalid" / f"{name}.nml")


def test_errors_are_value_errors_and_missing_file():
    assert issubclass(NMLMorphologyError, NMLImportError)
    assert issubclass(NMLImportError, ValueError)
    with pytest.raises(FileNotFoundError, match="no_such_file.nml"):
        NMLMorphology(DATA / "no_such_file.nml")


def test_validate_morphology_accepts_cells_segments_and_imports():
    from neuroml.loaders import NeuroMLLoader

    cell = NMLMorphology(DATA / "ball_axon_dend.cell.nml")
    validate_morphology(cell)
    validate_morphology(cell.cell)
    validate_morphology(cell.cell.morphology)
    validate_morphology(cell.cell.morphology.segments)
    broken = NeuroMLLoader.load(str(DATA / "invalid" / "cycle.nml")).cells[0]
    with pytest.raises(NMLMorphologyError, match="cycle"):
        validate_morphology(broken)
    with pytest.raises(NMLMorphologyError, match="has no segments"):
        validate_morphology([])
    with pytest.raises(TypeError, match="not a NeuroML segment"):
        validate_morphology([Cylinder(diameter=1 * um, length=10 * um)])
    with pytest.raises(TypeError, match="not int"):
        validate_morphology(3)


def test_fraction_along_outside_0_1_is_rejected():
    from neuroml import Point3DWithDiam, Segment, SegmentParent

    soma = Segment(id=0, proximal=Point3DWithDiam(x=0, y=0, z=0, diameter=10),
                   distal=Point3DWithDiam(x=0, y=0, z=0, diameter=10))
    dend = Segment(id=1, parent=SegmentParent(segments=0, fraction_along=1.5),
                   distal=Point3DWithDiam(x=50, y=0, z=0, diameter=2))
    with pytest.raises(NMLMorphologyError, match="segment 1 is attached at fractionAlong=1.5"):
        validate_morphology([soma, dend])


def write_cell(path, segments, groups=()):
    """Write a NeuroML document with one cell made of ``segments`` (libNeuroML objects)."""
    from neuroml import Cell, NeuroMLDocument
    from neuroml import Morphology as NMLMorphologyElement
    from neuroml.writers import NeuroMLWriter

    cell = Cell(id="made", morphology=NMLMorphologyElement(
        id="made_morphology", segments=segments, segment_groups=list(groups)))
    NeuroMLWriter.write(NeuroMLDocument(id="made", cells=[cell]), str(path))
    return path


def segment(segment_id, parent, distal, proximal=None, fraction=None, name=None):
    from neuroml import Point3DWithDiam, Segment, SegmentParent

    return Segment(
        id=segment_id, name=name,
        parent=None if parent is None else SegmentParent(
            segments=parent, **({} if fraction is None else {"fraction_along": fraction})),
        proximal=None if proximal is None else Point3DWithDiam(
            x=proximal[0], y=proximal[1], z=proximal[2], diameter=proximal[3]),
        distal=Point3DWithDiam(x=distal[0], y=distal[1], z=distal[2], diameter=distal[3]))


def test_fraction_zero_on_a_later_segment_and_zero_length_segments(tmp_path):
    """
    A child at fractionAlong=0 of segment 2 hangs at the end of segment 1 (a branch point
    there); a zero-length segment (3) is left out and its child attached to its parent.
    """
    segments = [
        segment(0, None, (0, 0, 0, 10), proximal=(0, 0, 0, 10), name="soma"),
        segment(1, 0, (30, 0, 0, 2), proximal=(5, 0, 0, 2)),
        segment(2, 1, (60, 0, 0, 2)),
        segment(3, 2, (60, 0, 0, 2)),  # zero length, at the end of segment 2
        segment(4, 3, (90, 0, 0, 1)),
        segment(5, 2, (30, 20, 0, 1), proximal=(30, 0, 0, 1), fraction=0.0),
    ]
    path = write_cell(tmp_path / "made.nml", segments)
    cell = NMLMorphology(path, name_heuristic=False)
    morphology = cell.morphology
    assert [info.name for info in cell.sections] == ["", "sec0", "sec0.sec1", "sec0.sec2"]
    assert_quantity(morphology.sec0.end_x, [30] * um)  # segment 1 alone: the branch point
    # segment 2, then segment 4 (through the left-out segment 3) continue without a jump
    assert_quantity(morphology.sec0.sec1.end_x, [60, 90] * um)
    assert cell.sections[2].compartment_segments == [2, 4]
    assert_quantity(morphology.sec0.sec2.start_x, [30] * um)  # segment 5
    assert_quantity(morphology.sec0.sec2.end_y, [20] * um)
    assert morphology.total_compartments == 5
    assert list(cell.segment_groups["all"]) == list(range(5))
