"""
The Brian -> NeuroML direction of the morphology mapping (morphology_to_nml,
write_morphology_nml) and round trips Brian -> NeuroML file -> Brian: the
topology, section names, compartment counts, lengths, diameters and areas
(and coordinates, where the morphology has them) come back; jNeuroML
validates the written documents.
"""

import subprocess
from pathlib import Path

import numpy as np
import pytest
from brian2 import Cylinder, Morphology, Section, Soma, um

from brian2tools.nmlimport import NMLMorphology, morphology_to_nml, write_morphology_nml
from brian2tools.nmlimport.morphology_mapping import SECTION_NEUROLEX_ID, section_groups

pytest.importorskip("neuroml")

from nml_helpers import jneuroml_jar, missing_jneuroml  # noqa: E402

RTOL = 1e-9  # the coordinates are written with Python's shortest exact float representation

SWC = """\
# a small reconstruction: soma, axon, a dendrite that branches, one branch branching again
1 1 0 0 0 10 -1
2 2 -10 0 0 1 1
3 2 -30 0 0 0.8 2
4 2 -60 0 0 0.5 3
5 3 10 0 0 2 1
6 3 30 5 0 1.5 5
7 3 50 20 0 1 6
8 3 45 -20 0 1 6
9 3 60 -40 5 0.5 8
10 3 70 -30 5 0.5 8
"""


def ball_and_sticks():
    neuron = Soma(diameter=25 * um)
    neuron.dend = Cylinder(diameter=2 * um, length=100 * um, n=4)
    neuron.dend.L = Section(diameter=[2, 1.5, 1.2, 1] * um, length=[10, 20, 30] * um, n=3)
    neuron.dend.R = Cylinder(diameter=1 * um, length=40 * um, n=2)
    neuron.axon = Section(diameter=np.linspace(2, 0.5, 11) * um, length=np.full(10, 15) * um, n=10)
    return neuron


def cylinder_tree():
    """No soma: the root is a section; names L/R on two levels."""
    root = Cylinder(diameter=3 * um, length=60 * um, n=3)
    root.L = Cylinder(diameter=2 * um, length=40 * um, n=2)
    root.R = Section(diameter=[2, 1] * um, length=[25] * um, n=1)
    root.L.L = Cylinder(diameter=1 * um, length=20 * um, n=5)
    root.L.R = Cylinder(diameter=1 * um, length=10 * um, n=1)
    return root


def numbered_children():
    """Children attached by number (``neuron['1']``), the names of unnamed subtrees."""
    neuron = Soma(diameter=15 * um)
    neuron["1"] = Cylinder(diameter=1 * um, length=30 * um, n=3)
    neuron["1"]["1"] = Cylinder(diameter=0.8 * um, length=10 * um, n=1)
    neuron["2"] = Section(diameter=[1.5, 1, 0.5] * um, length=[5, 8] * um, n=2)
    return neuron


def swc_morphology(folder: Path):
    path = folder / "small.swc"
    path.write_text(SWC)
    return Morphology.from_file(str(path))


def sections(morphology):
    """(path, section) for all sections, parents first, children in name order."""
    found, stack = [], [((), morphology)]
    while stack:
        path, section = stack.pop()
        found.append((path, section))
        named = sorted((section.children.name(c), c) for c in section.children)
        stack.extend((path + (name,), child) for name, child in reversed(named))
    return found


def assert_same_morphology(original, imported, coordinates: bool):
    first, second = sections(original), sections(imported)
    assert [path for path, _ in first] == [path for path, _ in second]
    for (path, a), (_, b) in zip(first, second, strict=True):
        where = ".".join(path) or "root"
        assert type(a) is type(b) or (isinstance(a, Section) and isinstance(b, Section)), where
        assert isinstance(b, Soma) == isinstance(a, Soma), where
        assert a.n == b.n, where
        for attribute in ("diameter", "area", "volume", "distance"):
            np.testing.assert_allclose(np.asarray(getattr(b, attribute)),
                                       np.asarray(getattr(a, attribute)), rtol=RTOL,
                                       err_msg=f"{attribute} of {where}")
        if isinstance(a, Soma):
            continue
        for attribute in ("length", "start_diameter", "end_diameter", "r_length_1",
                          "r_length_2"):
            np.testing.assert_allclose(np.asarray(getattr(b, attribute)),
                                       np.asarray(getattr(a, attribute)), rtol=RTOL,
                                       err_msg=f"{attribute} of {where}")
        if coordinates:
            for attribute in ("start_x", "start_y", "start_z", "end_x", "end_y", "end_z"):
                np.testing.assert_allclose(np.asarray(getattr(b, attribute) / um),
                                           np.asarray(getattr(a, attribute) / um),
                                           rtol=RTOL, atol=1e-9, err_msg=f"{attribute} of {where}")


def jneuroml_validate(path: Path) -> str:
    result = subprocess.run(["java", "-jar", jneuroml_jar(), "-validate", path.name],
                            cwd=path.parent, capture_output=True, text=True, timeout=300)
    return result.stdout + result.stderr


# --- the written NeuroML ------------------------------------------------------------------

def test_cell_segments_and_groups_follow_the_conventions():
    neuron = ball_and_sticks()
    cell = morphology_to_nml(neuron, "bs")
    morphology = cell.morphology
    assert cell.id == "bs" and morphology.id == "bs_morphology"
    segments = {s.id: s for s in morphology.segments}
    assert len(segments) == neuron.total_compartments == 1 + 4 + 3 + 2 + 10
    soma = segments[0]
    assert soma.parent is None and soma.name == "soma"
    for point in (soma.proximal, soma.distal):  # the spherical soma convention
        assert (point.x, point.y, point.z, point.diameter) == (0, 0, 0, 25)
    groups = {g.id: g for g in morphology.segment_groups}
    assert set(groups) == {"soma", "dend", "dend_L", "dend_R", "axon", "soma_group",
                           "axon_group", "dendrite_group", "all"}
    for section_id, brian_section in [("soma", neuron), ("dend", neuron.dend),
                                      ("dend_L", neuron.dend.L), ("dend_R", neuron.dend.R),
                                      ("axon", neuron.axon)]:
        group = groups[section_id]
        assert group.neuro_lex_id == SECTION_NEUROLEX_ID
        assert [(p.tag, p.value) for p in group.properties] == [
            ("numberInternalDivisions", str(brian_section.n))]
        members = [m.segments for m in group.members]
        assert len(members) == brian_section.n
        # one segment per compartment, in order, each with the compartment's end diameters
        if not isinstance(brian_section, Soma):
            np.testing.assert_allclose([segments[m].proximal.diameter for m in members],
                                       brian_section.start_diameter / um, rtol=1e-15)
            np.testing.assert_allclose([segments[m].distal.diameter for m in members],
                                       brian_section.end_diameter / um, rtol=1e-15)
            lengths = [np.linalg.norm([segments[m].distal.x - segments[m].proximal.x,
                                       segments[m].distal.y - segments[m].proximal.y,
                                       segments[m].distal.z - segments[m].proximal.z])
                       for m in members]
            np.testing.assert_allclose(lengths, brian_section.length / um, rtol=RTOL)
            for previous, current in zip(members[:-1], members[1:], strict=True):
                assert segments[current].parent.segments == previous
    # children hang at the end of their parent section (or at the soma)
    assert segments[groups["dend_L"].members[0].segments].parent.segments == \
        groups["dend"].members[-1].segments
    assert segments[groups["axon"].members[0].segments].parent.segments == 0
    includes = {g: [i.segment_groups for i in groups[g].includes]
                for g in ("soma_group", "axon_group", "dendrite_group", "all")}
    assert includes == {"soma_group": ["soma"], "axon_group": ["axon"],
                        "dendrite_group": ["dend", "dend_L", "dend_R"],
                        "all": ["soma", "dend", "dend_L", "dend_R", "axon"]}
    assert groups["soma_group"].neuro_lex_id == "GO:0043025"
    assert groups["axon_group"].neuro_lex_id == "GO:0030424"
    assert groups["dendrite_group"].neuro_lex_id == "GO:0030425"


def test_root_section_and_swc_types(tmp_path):
    cell = morphology_to_nml(cylinder_tree(), "tree")
    groups = {g.id: g for g in cell.morphology.segment_groups}
    assert {"root", "L", "R", "L_L", "L_R", "dendrite_group", "all"} <= set(groups)
    assert "soma_group" not in groups and "axon_group" not in groups
    root_segment = cell.morphology.segments[0]
    assert root_segment.parent is None and root_segment.proximal is not None
    # an SWC file: the groups follow the section types
    cell = morphology_to_nml(swc_morphology(tmp_path), "swc")
    groups = {g.id: [i.segment_groups for i in g.includes] for g in cell.morphology.segment_groups}
    assert groups["soma_group"] == ["soma"]
    assert groups["axon_group"] == ["axon"]
    assert all(g.startswith("dend") for g in groups["dendrite_group"])


def test_section_groups_name_the_written_groups():
    neuron = ball_and_sticks()
    groups = section_groups(neuron)
    assert groups == {"": "soma", "dend": "dend", "dend.L": "dend_L", "dend.R": "dend_R",
                      "axon": "axon"}
    written = [g.id for g in morphology_to_nml(neuron).morphology.segment_groups]
    assert written[:len(groups)] == list(groups.values())
    assert section_groups(numbered_children()) == {"": "soma", "1": "soma_1", "1.1": "soma_1_1",
                                                   "2": "soma_2"}
    assert section_groups(cylinder_tree()) == {"": "root", "L": "L", "L.L": "L_L", "L.R": "L_R",
                                               "R": "R"}


def test_bad_arguments():
    with pytest.raises(TypeError, match="needs a Brian Morphology, not str"):
        morphology_to_nml("soma", "cell")
    with pytest.raises(ValueError, match="cell id '1cell' is not a valid NeuroML id"):
        morphology_to_nml(Soma(diameter=10 * um), "1cell")
    with pytest.raises(TypeError, match="needs a Brian Morphology, not list"):
        section_groups([])


# --- round trips --------------------------------------------------------------------------

@pytest.mark.parametrize("build, coordinates", [
    (lambda folder: ball_and_sticks(), False),
    (lambda folder: cylinder_tree(), False),
    (lambda folder: numbered_children(), False),
    (swc_morphology, True),
], ids=["soma-dend-axon-in-code", "cylinder-tree-in-code", "numbered-children", "swc-file"])
def test_round_trip_brian_nml_brian(tmp_path, build, coordinates):
    original = build(tmp_path)
    path = Path(write_morphology_nml(original, tmp_path / "cell.cell.nml", cell_id="roundtrip"))
    imported = NMLMorphology(path)
    assert imported.cell.id == "roundtrip"
    assert_same_morphology(original, imported.morphology, coordinates)
    assert imported.morphology.total_compartments == original.total_compartments
    # the section groups are the sections' compartments
    for info in imported.sections:
        group = info.group
        assert list(imported.segment_groups[group]) == list(info.section.indices[:])
    assert list(imported.segment_groups["all"]) == list(range(original.total_compartments))


def test_round_trip_keeps_generated_coordinates(tmp_path):
    """A morphology without coordinates is written with Brian's generated ones."""
    original = ball_and_sticks()
    generated = original.generate_coordinates()
    path = Path(write_morphology_nml(original, tmp_path / "bs.cell.nml", cell_id="bs"))
    assert_same_morphology(generated, NMLMorphology(path).morphology, coordinates=True)


@pytest.mark.skipif(missing_jneuroml() is not None, reason=str(missing_jneuroml()))
@pytest.mark.parametrize("build", [lambda folder: ball_and_sticks(), lambda folder: cylinder_tree(),
                                   swc_morphology], ids=["soma-dend-axon", "cylinder-tree", "swc"])
def test_written_document_validates_with_jneuroml(tmp_path, build):
    path = Path(write_morphology_nml(build(tmp_path), tmp_path / "cell.cell.nml", cell_id="cell"))
    log = jneuroml_validate(path)
    assert "Valid against schema and all tests" in log, log
    assert "No warnings" in log, log
    assert "1 passed" in log or "All valid" in log, log
