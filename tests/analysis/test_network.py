"""Network-former units, oxygen labels and bond-type-resolved distances on hand-built structures."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.analysis.populations import labelled_distances, population_summary
from aiida_boroglass.analysis.speciation import network_frame, network_units, oxygen_speciation

BO3, BO4, PO_BRIDGE, PO_TERMINAL, LI_O = 1.37, 1.47, 1.60, 1.50, 2.00
FORMER_CUTOFFS = {'B': 2.0, 'P': 2.0}


def tetrahedral_directions(axis_sign=1.0):
    """Three unit vectors at 109.47 deg from ``-axis_sign * x`` and from each other."""
    phis = np.deg2rad([0.0, 120.0, 240.0])
    return np.stack([np.full(3, -axis_sign / 3.0), np.sqrt(8.0) / 3 * np.cos(phis), np.sqrt(8.0) / 3 * np.sin(phis)], axis=1)


def molecules():
    """A pyroborate B2O5, an isolated BO4 (4 NBO), a pyrophosphate P2O7, two Li and a free O in a 30 Å box.

    Hand counts: B-O bonds 3B-BO 2, 3B-NBO 4, 4B-NBO 4; units B(1) 2, B(4) 1, P(1) 2;
    oxygens BO 2, NBO 14, free 1; Li-BO 1 and Li-NBO 1 at 2.0 Å; O-O pairs below 3 Å:
    BO-NBO 4 + 6, NBO-NBO 2 + 6 + 6.
    """
    atoms = []
    ob = np.array([5.0, 5.0, 5.0])
    atoms.append(('O', ob))
    for sign in (-1.0, 1.0):
        b = ob + [sign * BO3, 0.0, 0.0]
        atoms.append(('B', b))
        for angle in (60.0, -60.0):  # the two NBOs at 120 deg from the B-Ob bond
            rad = np.deg2rad(angle)
            atoms.append(('O', b + BO3 * np.array([sign * np.cos(rad), np.sin(rad), 0.0])))
    atoms.append(('Li', ob + [0.0, 0.0, LI_O]))  # Li on the bridging O
    b4 = np.array([15.0, 15.0, 15.0])
    atoms.append(('B', b4))
    corners = np.array([[1, 1, 1], [-1, -1, 1], [-1, 1, -1], [1, -1, -1]]) / np.sqrt(3.0)
    atoms += [('O', b4 + BO4 * c) for c in corners]
    atoms.append(('Li', b4 + (BO4 + LI_O) * corners[0]))  # Li on one NBO of the BO4
    op = np.array([5.0, 20.0, 5.0])
    atoms.append(('O', op))
    for sign in (-1.0, 1.0):
        p = op + [sign * PO_BRIDGE, 0.0, 0.0]
        atoms.append(('P', p))
        atoms += [('O', p + PO_TERMINAL * u) for u in tetrahedral_directions(-sign)]
    atoms.append(('O', np.array([25.0, 25.0, 25.0])))
    species = np.array([a for a, _ in atoms])
    positions = np.array([x for _, x in atoms])
    for arr in (species, positions):
        arr.setflags(write=False)
    return positions, np.eye(3) * 30.0, species


def test_molecule_geometry_is_as_described():
    positions, cell, species = molecules()
    frame = network_frame(positions, cell, species, FORMER_CUTOFFS)
    assert frame.distance.size == 2 * 3 + 4 + 2 * 4
    np.testing.assert_allclose(np.sort(frame.distance), np.sort([BO3] * 6 + [BO4] * 4 + [PO_BRIDGE] * 2 + [PO_TERMINAL] * 6))


def test_units_of_hand_built_molecules():
    positions, cell, species = molecules()
    units = network_units(positions, cell, species, FORMER_CUTOFFS)
    assert sorted(units) == ['B(1)', 'B(4)', 'P(1)']
    assert units['B(1)'] == pytest.approx({'count': 2.0, 'fraction_of_element': 2 / 3, 'fraction_of_formers': 2 / 5})
    assert units['B(4)'] == pytest.approx({'count': 1.0, 'fraction_of_element': 1 / 3, 'fraction_of_formers': 1 / 5})
    assert units['P(1)'] == pytest.approx({'count': 2.0, 'fraction_of_element': 1.0, 'fraction_of_formers': 2 / 5})
    oxygen = oxygen_speciation(positions, cell, species, FORMER_CUTOFFS)
    assert (oxygen['n_bo'], oxygen['n_nbo'], oxygen['n_free']) == (2, 14, 1)


@pytest.mark.parametrize(
    ('builder', 'expected'),
    [('cristobalite_bo4', 'B(4)'), ('honeycomb_b2o3', 'B(3)'), ('isolated_bo3', 'B(0)')],
)
def test_units_of_crystals(crystals, builder, expected):
    positions, cell, species = getattr(crystals, builder)()
    units = network_units(positions, cell, species, {'B': 2.0})
    assert list(units) == [expected]
    assert units[expected]['fraction_of_formers'] == 1.0


def test_defect_coordination_gets_bracket_label(crystals):
    positions, cell, species = crystals.cristobalite_bo4()
    # a cutoff between the B-O bond and the second shell still gives B(4); one so short that
    # no O is bonded labels every boron B[0]
    assert list(network_units(positions, cell, species, {'B': 1.0})) == ['B[0]']


def test_units_pool_frames_like_single_frames(crystals):
    positions, cell, species = crystals.isolated_bo3()
    frames = crystals.jiggle(positions, 0.02, 3)
    pooled = network_units(frames, cell, species, {'B': 2.0})
    assert pooled == {'B(0)': {'count': 8.0, 'fraction_of_element': 1.0, 'fraction_of_formers': 1.0}}


def test_labelled_distances_of_hand_built_molecules():
    positions, cell, species = molecules()
    distances = labelled_distances(positions, cell, species, FORMER_CUTOFFS, {'Li-O': 2.6, 'O-O': 3.0})
    assert {k: len(v) for k, v in distances['B-O'].items()} == {'3B-BO': 2, '3B-NBO': 4, '4B-NBO': 4}
    assert {k: len(v) for k, v in distances['Li-O'].items()} == {'Li-BO': 1, 'Li-NBO': 1}
    assert {k: len(v) for k, v in distances['O-O'].items()} == {'BO-NBO': 10, 'NBO-NBO': 14}
    summary = population_summary(distances, n_frames=1)
    assert summary['B-O']['4B-NBO']['peak_a'] == pytest.approx(BO4, abs=0.003)
    assert summary['B-O']['3B-BO']['fraction'] == pytest.approx(0.2)
    assert summary['Li-O']['Li-BO']['mean_a'] == pytest.approx(LI_O)
    # BO-NBO: 4 pairs in the pyroborate, 6 (more) in the pyrophosphate at a longer distance
    p_distance = np.sqrt(PO_BRIDGE**2 + PO_TERMINAL**2 + 2 * PO_BRIDGE * PO_TERMINAL / 3.0)
    assert summary['O-O']['BO-NBO']['peak_a'] == pytest.approx(p_distance, abs=0.003)


def test_o_o_classes_of_triangle_are_exact():
    positions, cell, species = molecules()
    distances = labelled_distances(positions, cell, species, FORMER_CUTOFFS, {'O-O': 3.0})
    bo_nbo = np.sort(distances['O-O']['BO-NBO'])
    np.testing.assert_allclose(bo_nbo[:4], BO3 * np.sqrt(3.0))
    expected_p = np.sqrt(PO_BRIDGE**2 + PO_TERMINAL**2 + 2 * PO_BRIDGE * PO_TERMINAL / 3.0)
    np.testing.assert_allclose(bo_nbo[4:], expected_p)
    assert 'Li-O' not in distances  # no Li-O cutoff given: family left out


def test_bo4_crystal_is_all_4b_bo_and_pools_frames(crystals):
    positions, cell, species = crystals.cristobalite_bo4()
    frames = crystals.jiggle(positions, 0.01, 2)
    summary = population_summary(labelled_distances(frames, cell, species, {'B': 2.0}, {}), n_frames=2)
    assert list(summary) == ['B-O']
    assert summary['B-O']['4B-BO']['count_per_frame'] == 4 * np.count_nonzero(species == 'B')
    assert summary['B-O']['4B-BO']['peak_a'] == pytest.approx(1.47, abs=0.01)


def test_missing_former_cutoff_names_the_field():
    positions, cell, species = molecules()
    with pytest.raises(ValueError, match=r"cutoffs has no entry for the network former\(s\) \['P'\]"):
        network_units(positions, cell, species, {'B': 2.0})
