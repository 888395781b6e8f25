"""Analysis calcfunctions on hand-built structures with known answers (provenance recorded)."""
import numpy as np
import pytest
from aiida import orm

from aiida_boroglass.functions.analysis import boron_coordination, boron_oxygen_rdf, glass_density, oxygen_bridging

B_O_A = 1.37  # B-O bond length of a BO3 triangle, Å


def isolated_bo3(n_side=3, spacing=6.0):
    """BO3 triangles on a cubic grid, 6 Å apart: every B three-fold, every O non-bridging."""
    structure = orm.StructureData(cell=(np.eye(3) * n_side * spacing).tolist())
    angles = np.radians([0.0, 120.0, 240.0])
    triangle = B_O_A * np.stack([np.cos(angles), np.sin(angles), np.zeros(3)], axis=1)
    for corner in np.stack(np.meshgrid(*[np.arange(n_side)] * 3, indexing='ij'), -1).reshape(-1, 3) * spacing:
        centre = corner + spacing / 2
        structure.append_atom(position=centre.tolist(), symbols='B')
        for offset in triangle:
            structure.append_atom(position=(centre + offset).tolist(), symbols='O')
    return structure


def test_isolated_triangles_have_no_four_fold_boron_and_only_nbo(aiida_profile):
    structure = isolated_bo3()
    boron = boron_coordination(structure, orm.Float(2.0))
    oxygen = oxygen_bridging(structure, orm.Float(2.0))
    assert boron['n4'] == 0.0 and boron['n3'] == 1.0 and boron['mean_coordination'] == pytest.approx(3.0)
    assert oxygen['nbo_fraction'] == 1.0 and oxygen['bo_fraction'] == 0.0
    assert boron.creator.inputs.glass.uuid == structure.uuid  # the result is linked to its structure


def test_density_of_hand_computed_cell(aiida_profile):
    """27 B + 81 O in an (18 Å)^3 cell: 27*(10.81 + 3*15.999) g/mol / N_A / 5832e-24 cm^3."""
    expected = 27 * (10.81 + 3 * 15.999) / 6.02214076e23 / (18.0**3 * 1e-24)
    assert glass_density(isolated_bo3()).value == pytest.approx(expected, rel=1e-9)


def test_bo_cutoff_falls_back_to_two_angstrom_without_a_clear_minimum(aiida_profile):
    """A single B-O distance gives no first minimum in 1.6-2.4 Å: the documented 2.0 Å is used."""
    result = boron_oxygen_rdf(isolated_bo3())
    assert result['cutoff_bo_a'].value == 2.0
    r = result['rdf'].get_x()[1]
    g = result['rdf'].get_y()[0][1]
    assert r[np.argmax(g)] == pytest.approx(B_O_A, abs=0.02)  # the peak sits at the bond length
