"""Tests for aiida_boroglass.analysis.angles: bond-angle triplets and their distribution."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from aiida_boroglass.analysis.angles import AngleTriplets, angle_histogram, bond_angles
from aiida_boroglass.analysis.neighbors import neighbor_pairs
from aiida_boroglass.analysis.speciation import coordination_numbers

TETRAHEDRAL_DEG = np.degrees(np.arccos(-1.0 / 3.0))  # 109.4712...


def per_centre(triplets, centres):
    """Number of triplets of each atom in ``centres`` (index array)."""
    return np.bincount(triplets.center, minlength=centres.max() + 1)[centres]


def test_quartz_coordination(alpha_quartz):
    """Validates the alpha-quartz builder: SiO4 tetrahedra sharing every corner, Si-O ~1.61 Å."""
    positions, cell, species = alpha_quartz
    assert np.count_nonzero(species == 'Si') == 24 and np.count_nonzero(species == 'O') == 48
    assert np.all(coordination_numbers(positions, cell, species, 'Si', 'O', 2.0) == 4)
    assert np.all(coordination_numbers(positions, cell, species, 'O', 'Si', 2.0) == 2)
    _, _, d = neighbor_pairs(positions, cell, 2.0, centers=species == 'Si', others=species == 'O')
    np.testing.assert_allclose(d, 1.609, atol=0.006)  # 1.604 and 1.613 Å


def test_quartz_o_si_o(alpha_quartz):
    positions, cell, species = alpha_quartz
    triplets = bond_angles(positions, cell, species == 'Si', species == 'O', 2.0)
    assert isinstance(triplets, AngleTriplets)
    assert np.all(per_centre(triplets, np.flatnonzero(species == 'Si')) == 6)
    assert np.all(species[triplets.center] == 'Si')
    assert np.all(species[triplets.j] == 'O') and np.all(species[triplets.k] == 'O')
    assert abs(triplets.angle_deg.mean() - 109.5) < 1.0
    assert np.all(np.abs(triplets.angle_deg - 109.5) < 2.0)
    assert np.ptp(triplets.angle_deg) > 1.0  # slightly distorted tetrahedra, not ideal ones


def test_quartz_si_o_si(alpha_quartz):
    positions, cell, species = alpha_quartz
    triplets = bond_angles(positions, cell, species == 'O', species == 'Si', 2.0)
    assert np.all(per_centre(triplets, np.flatnonzero(species == 'O')) == 1)
    np.testing.assert_allclose(triplets.angle_deg, 143.6, atol=0.3)


def test_isolated_bo3_is_planar_120(crystals):
    positions, cell, species = crystals.isolated_bo3()
    boron = np.flatnonzero(species == 'B')
    triplets = bond_angles(positions, cell, boron, species == 'O', 1.9)
    assert np.all(per_centre(triplets, boron) == 3)
    assert triplets.angle_deg.size == 3 * boron.size
    np.testing.assert_allclose(triplets.angle_deg, 120.0, atol=1e-9)
    # every O has one boron and the lone O none: no angle around oxygen
    assert bond_angles(positions, cell, species == 'O', boron, 1.9).angle_deg.size == 0


def test_bo4_network_is_tetrahedral(bo4_network):
    positions, cell, species = bo4_network
    boron = np.flatnonzero(species == 'B')
    triplets = bond_angles(positions, cell, boron, species == 'O', 1.9)
    assert np.all(per_centre(triplets, boron) == 6)
    np.testing.assert_allclose(triplets.angle_deg, TETRAHEDRAL_DEG, atol=1e-6)
    # ideal cristobalite: straight B-O-B bridges
    bridges = bond_angles(positions, cell, species == 'O', boron, 1.9)
    assert bridges.angle_deg.size == np.count_nonzero(species == 'O')
    np.testing.assert_allclose(bridges.angle_deg, 180.0, atol=1e-6)


def test_bo3_sheets_hexagonal_cell(bo3_sheets):
    positions, cell, species = bo3_sheets
    assert cell[1, 0] != 0.0  # a non-orthorhombic cell
    boron = np.flatnonzero(species == 'B')
    triplets = bond_angles(positions, cell, boron, species == 'O', 1.9)
    assert np.all(per_centre(triplets, boron) == 3)
    np.testing.assert_allclose(triplets.angle_deg, 120.0, atol=1e-9)


def test_per_neighbour_cutoffs():
    """Around an O: B at 1.95 Å is beyond the B cutoff 1.9 Å though within the P cutoff 2.0 Å."""
    centre = np.array([6.0, 6.0, 6.0])
    positions = np.vstack(
        [
            centre,
            centre + [1.95, 0.0, 0.0],  # 1: B, excluded by its own cutoff
            centre + [0.0, 1.95, 0.0],  # 2: P, included
            centre + [0.0, 0.0, 1.8],  # 3: P, included
            centre + [-1.5, 0.0, 0.0],  # 4: B, included
        ]
    )
    species = np.array(['O', 'B', 'P', 'P', 'B'])
    cell = np.eye(3) * 12.0
    cutoffs = np.select([species == 'B', species == 'P'], [1.9, 2.0], default=np.nan)  # NaN: not a neighbour
    triplets = bond_angles(positions, cell, [0], species != 'O', cutoffs)
    assert 1 not in triplets.j and 1 not in triplets.k
    assert list(zip(triplets.j, triplets.k)) == [(2, 3), (2, 4), (3, 4)]
    np.testing.assert_allclose(triplets.angle_deg, 90.0, atol=1e-9)
    everything = bond_angles(positions, cell, [0], species != 'O', 2.0)
    assert everything.angle_deg.size == 6
    np.testing.assert_allclose(
        everything.angle_deg[(everything.j == 1) & (everything.k == 4)], 180.0, atol=1e-9
    )


@pytest.mark.parametrize('builder, center, neighbor, cutoff', [
    ('alpha_quartz', 'Si', 'O', 2.0),
    ('alpha_quartz', 'O', 'Si', 2.0),
    ('cristobalite_bo4', 'B', 'O', 1.9),
    ('honeycomb_b2o3', 'B', 'O', 1.9),
])
def test_equivalent_cell_gives_same_angles(crystals, builder, center, neighbor, cutoff):
    positions, cell, species = getattr(crystals, builder)()
    positions = crystals.jiggle(positions, 0.05, 1, seed=4)[0]
    new_positions, new_cell = crystals.equivalent_cell(positions, cell, seed=5)
    ref = bond_angles(positions, cell, species == center, species == neighbor, cutoff)
    new = bond_angles(new_positions, new_cell, species == center, species == neighbor, cutoff)
    assert ref.angle_deg.size > 0
    for field in ('center', 'j', 'k'):
        np.testing.assert_array_equal(getattr(new, field), getattr(ref, field))
    np.testing.assert_allclose(new.angle_deg, ref.angle_deg, atol=1e-9)


def random_system(n_atoms=60, seed=7):
    """Random atoms (unwrapped) in a skewed cell, with per-atom cutoffs between 2.0 and 2.6 Å."""
    rng = np.random.default_rng(seed)
    cell = np.array([[8.5, 0.0, 0.0], [1.5, 8.0, 0.0], [-1.0, 1.2, 8.2]])
    positions = rng.uniform(0.0, 1.0, (n_atoms, 3)) @ cell + rng.integers(-2, 3, (n_atoms, 1)) * cell[2]
    cutoffs = rng.uniform(2.0, 2.6, n_atoms)
    centers = np.flatnonzero(rng.random(n_atoms) < 0.5)
    neighbors = rng.random(n_atoms) < 0.7  # overlaps with centers
    return positions, cell, cutoffs, centers, neighbors


def naive_angles(positions, cell, cutoffs, centers, neighbors):
    """O(N^2 k^2) reference: {(centre, j, k): angle in degrees}."""
    images = np.array(list(itertools.product((-1, 0, 1), repeat=3))) @ cell
    result = {}
    for c in centers:
        bonds = {}
        for j in np.flatnonzero(neighbors):
            if j == c:
                continue
            # bring j near c first (unwrapped positions may be cells apart), then try 27 images
            frac = np.linalg.solve(cell.T, positions[j] - positions[c])
            candidates = (frac - np.round(frac)) @ cell + images
            lengths = np.linalg.norm(candidates, axis=1)
            best = np.argmin(lengths)
            if lengths[best] < cutoffs[j]:
                bonds[j] = candidates[best]
        for j, k in itertools.combinations(sorted(bonds), 2):
            u, v = bonds[j], bonds[k]
            cosine = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
            result[(c, j, k)] = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    return result


def test_agrees_with_naive_reference():
    positions, cell, cutoffs, centers, neighbors = random_system()
    triplets = bond_angles(positions, cell, centers, neighbors, cutoffs)
    reference = naive_angles(positions, cell, cutoffs, centers, neighbors)
    assert len(reference) > 100
    keys = list(zip(triplets.center.tolist(), triplets.j.tolist(), triplets.k.tolist()))
    assert keys == sorted(reference)
    np.testing.assert_allclose(triplets.angle_deg, [reference[key] for key in keys], atol=1e-6)
    assert triplets.center.dtype == np.intp and triplets.angle_deg.dtype == float


def test_triplets_per_centre_is_k_choose_2():
    positions, cell, cutoffs, centers, neighbors = random_system(seed=11)
    i, j, d = neighbor_pairs(positions, cell, cutoffs.max(), centers=centers, others=neighbors)
    bonds = np.bincount(i[d < cutoffs[j]], minlength=positions.shape[0])[centers]
    assert bonds.max() >= 4
    triplets = bond_angles(positions, cell, centers, neighbors, cutoffs)
    np.testing.assert_array_equal(per_centre(triplets, centers), bonds * (bonds - 1) // 2)
    assert np.all(triplets.j < triplets.k)


def test_read_only_inputs_are_not_modified(crystals):
    positions, cell, cutoffs, centers, neighbors = crystals.read_only(*random_system(seed=3))
    copies = [np.array(a) for a in (positions, cell, cutoffs, centers, neighbors)]
    bond_angles(positions, cell, centers, neighbors, cutoffs)
    for original, copy in zip((positions, cell, cutoffs, centers, neighbors), copies):
        np.testing.assert_array_equal(original, copy)


def test_no_centres_gives_empty_triplets(bo3_units):
    positions, cell, species = bo3_units
    triplets = bond_angles(positions, cell, species == 'Li', species == 'O', 1.9)
    assert all(field.shape == (0,) for field in triplets)
    assert triplets.center.dtype == np.intp and triplets.angle_deg.dtype == float


def test_bad_input_names_the_field(bo3_units):
    positions, cell, species = bo3_units
    boron, oxygen = species == 'B', species == 'O'
    with pytest.raises(ValueError, match='cutoffs'):
        bond_angles(positions, cell, boron, oxygen, np.ones(3))
    with pytest.raises(ValueError, match='cutoffs'):
        bond_angles(positions, cell, boron, oxygen, -1.0)
    with pytest.raises(ValueError, match='cutoffs'):
        bond_angles(positions, cell, boron, oxygen, np.where(oxygen, np.nan, 1.9))
    with pytest.raises(ValueError, match='cutoffs'):
        bond_angles(positions, cell, boron, oxygen, 7.0)  # > half the 12 Å cell
    with pytest.raises(ValueError, match='centers'):
        bond_angles(positions, cell, [0, 0], oxygen, 1.9)
    with pytest.raises(ValueError, match='neighbors'):
        bond_angles(positions, cell, boron, [positions.shape[0]], 1.9)
    with pytest.raises(ValueError, match='positions'):
        bond_angles(positions[None], cell, boron, oxygen, 1.9)


def test_angle_histogram_normalisation():
    centres, density = angle_histogram([10.0, 15.0, 100.0, 0.0, 180.0], n_bins=18)
    np.testing.assert_allclose(centres, np.arange(5.0, 180.0, 10.0))
    assert density.sum() * 10.0 == pytest.approx(1.0)
    np.testing.assert_allclose(density[[0, 1, 10, 17]], [1 / 50, 2 / 50, 1 / 50, 1 / 50])  # 0 and 180 counted
    _, weighted = angle_histogram([10.0, 100.0], n_bins=18, weights=[3.0, 1.0])
    np.testing.assert_allclose(weighted[[1, 10]], [0.075, 0.025])
    centres, density = angle_histogram(np.zeros(0))
    assert centres.shape == density.shape == (180,)
    assert np.all(density == 0.0)


def test_angle_histogram_of_bond_angles(bo4_network):
    positions, cell, species = bo4_network
    angles = bond_angles(positions, cell, species == 'B', species == 'O', 1.9).angle_deg
    centres, density = angle_histogram(angles)
    assert centres[np.argmax(density)] == 109.5
    assert density.max() == pytest.approx(1.0)  # all mass in one 1-degree bin


def test_angle_histogram_refuses_bad_input():
    with pytest.raises(ValueError, match='angles_deg'):
        angle_histogram([190.0])
    with pytest.raises(ValueError, match='angles_deg'):
        angle_histogram([[10.0]])
    with pytest.raises(ValueError, match='n_bins'):
        angle_histogram([10.0], n_bins=0)
    with pytest.raises(ValueError, match='weights'):
        angle_histogram([10.0], weights=[1.0, 2.0])
    with pytest.raises(ValueError, match='weights'):
        angle_histogram([10.0], weights=[-1.0])
