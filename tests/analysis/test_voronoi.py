"""Tests for aiida_boroglass.analysis.voronoi: Voronoi atomic volumes through freud.

freud hands positions and box to voro++ in single precision, so per-atom volumes are
compared with ``rtol=1e-5`` and sums of volumes with the cell volume at ``rtol=1e-6``
(observed: ~1e-6 per atom and ~1e-7 for the sum on cells of some tens of Å).
"""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.analysis.voronoi import volumes_by_species, voronoi_volumes

RTOL_ATOM = 1e-5
RTOL_SUM = 1e-6


def cell_volume(cell):
    return abs(np.linalg.det(cell))


@pytest.mark.parametrize('basis, per_atom', [
    ([[0.0, 0.0, 0.0]], 1.0),  # simple cubic
    ([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]], 0.5),  # bcc
    ([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]], 0.25),  # fcc
])
def test_cubic_lattices(crystals, basis, per_atom):
    a = 3.17
    positions, cell, species = crystals.supercell(basis, ['X'] * len(basis), np.eye(3) * a, (4, 4, 4))
    volumes = voronoi_volumes(positions, cell)
    assert volumes.shape == (positions.shape[0],) and volumes.dtype == float
    np.testing.assert_allclose(volumes, per_atom * a**3, rtol=RTOL_ATOM)


def test_random_system_fills_the_cell():
    rng = np.random.default_rng(2)
    cell = np.array([[13.1, 0.0, 0.0], [4.3, 11.7, 0.0], [-2.9, 3.1, 12.3]]) @ np.linalg.qr(rng.normal(size=(3, 3)))[0]
    positions = rng.uniform(0.0, 1.0, (400, 3)) @ cell + rng.integers(-3, 4, (400, 3)) @ cell  # unwrapped
    volumes = voronoi_volumes(positions, cell)
    assert np.all(volumes > 0.0)
    assert volumes.sum() == pytest.approx(cell_volume(cell), rel=RTOL_SUM)


def test_equivalent_cell_gives_same_volumes(crystals):
    positions, cell, species = crystals.fluorite()
    positions = crystals.jiggle(positions, 0.2, 1, seed=1)[0]  # break the symmetry: unequal volumes
    reference = voronoi_volumes(positions, cell)
    assert np.ptp(reference) > 1.0
    for seed in (0, 1):
        new_positions, new_cell = crystals.equivalent_cell(positions, cell, seed=seed)
        np.testing.assert_allclose(voronoi_volumes(new_positions, new_cell), reference, rtol=RTOL_ATOM)


def test_left_handed_cell(crystals):
    positions, cell, species = crystals.fluorite()
    positions = crystals.jiggle(positions, 0.2, 1, seed=2)[0]
    swapped = cell[[1, 0, 2]]  # same lattice, negative determinant
    assert np.linalg.det(swapped) < 0
    np.testing.assert_allclose(voronoi_volumes(positions, swapped), voronoi_volumes(positions, cell), rtol=RTOL_ATOM)


def test_hexagonal_cell(bo3_sheets):
    positions, cell, species = bo3_sheets
    volumes = voronoi_volumes(positions, cell)
    assert volumes.sum() == pytest.approx(cell_volume(cell), rel=RTOL_SUM)
    for symbol in ('B', 'O'):  # all B (all O) are equivalent by symmetry
        np.testing.assert_allclose(volumes[species == symbol], volumes[species == symbol][0], rtol=RTOL_ATOM)


def test_rock_salt_volumes_by_species(rock_salt_crystal):
    positions, cell, species = rock_salt_crystal
    a = 4.2
    stats = volumes_by_species(voronoi_volumes(positions, cell), species)
    assert list(stats) == ['Na', 'O']
    for symbol in ('Na', 'O'):
        assert stats[symbol]['n'] == 108
        assert stats[symbol]['mean_a3'] == pytest.approx(a**3 / 8.0, rel=RTOL_ATOM)
        assert stats[symbol]['std_a3'] < 1e-5 * a**3
        assert stats[symbol]['total_a3'] == pytest.approx(108 * a**3 / 8.0, rel=RTOL_ATOM)


def test_trajectory_with_changing_cell(crystals):
    positions, cell, species = crystals.rock_salt(reps=2)
    scale = np.array([1.0, 1.02, 0.97])
    frames = crystals.jiggle(positions, 0.1, 3, seed=5) * scale[:, None, None]
    cells = cell[None] * scale[:, None, None]
    volumes = voronoi_volumes(frames, cells)
    assert volumes.shape == (3, positions.shape[0])
    np.testing.assert_allclose(volumes.sum(axis=1), scale**3 * cell_volume(cell), rtol=RTOL_SUM)
    np.testing.assert_allclose(volumes[1], voronoi_volumes(frames[1], cells[1]), rtol=1e-12)


def test_volumes_by_species_hand_case():
    volumes = np.array([[1.0, 2.0, 3.0, 4.0], [3.0, 2.0, 1.0, 4.0]])
    species = ['Li', 'B', 'Li', 'B']
    stats = volumes_by_species(volumes, species)
    assert stats == {
        'B': {'mean_a3': 3.0, 'std_a3': 1.0, 'total_a3': 6.0, 'n': 2},
        'Li': {'mean_a3': 2.0, 'std_a3': 1.0, 'total_a3': 4.0, 'n': 2},
    }
    assert volumes_by_species(volumes[0], species)['Li'] == {'mean_a3': 2.0, 'std_a3': 1.0, 'total_a3': 4.0, 'n': 2}


def test_bad_input_names_the_field():
    with pytest.raises(ValueError, match='species'):
        volumes_by_species([1.0, 2.0], ['Li'])
    with pytest.raises(ValueError, match='volumes'):
        volumes_by_species([1.0, -2.0], ['Li', 'B'])
    with pytest.raises(ValueError, match='volumes'):
        volumes_by_species(np.ones((1, 2, 2)), ['Li', 'B'])
    with pytest.raises(ValueError, match='positions'):
        voronoi_volumes(np.zeros((0, 3)), np.eye(3) * 5.0)
    with pytest.raises(ValueError, match='cell'):
        voronoi_volumes(np.zeros((2, 3)), np.ones((3, 3)))
