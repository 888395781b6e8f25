"""Tests for aiida_boroglass.analysis.speciation: coordination, N4, BO/NBO/free oxygen."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.analysis.speciation import (
    NETWORK_FORMERS,
    boron_n4,
    coordination_distribution,
    coordination_numbers,
    oxygen_former_counts,
    oxygen_speciation,
)

A_ROCK_SALT = 4.2
A_FLUORITE = 5.46
CUTOFFS = {'B': 2.0, 'P': 2.0, 'Si': 2.2}


def test_network_formers():
    assert NETWORK_FORMERS == ('B', 'P', 'Si', 'Al')


def test_rock_salt_coordination(rock_salt_crystal):
    positions, cell, species = rock_salt_crystal
    cut = 0.6 * A_ROCK_SALT  # between a/2 and a/sqrt(2)
    cn = coordination_numbers(positions, cell, species, 'Na', 'O', cut)
    assert cn.shape == (np.count_nonzero(species == 'Na'),)
    assert cn.dtype.kind == 'i'
    assert np.all(cn == 6)
    assert np.all(coordination_numbers(positions, cell, species, 'O', 'Na', cut) == 6)
    assert np.all(coordination_numbers(positions, cell, species, 'Na', 'Na', cut) == 0)
    # second shell: 12 like neighbours at a/sqrt(2), the next at a
    assert np.all(coordination_numbers(positions, cell, species, 'Na', 'Na', 0.85 * A_ROCK_SALT) == 12)


def test_fluorite_coordination(fluorite_crystal):
    positions, cell, species = fluorite_crystal
    cut = 2.6  # Ca-F at a*sqrt(3)/4 = 2.36 Å, next Ca-F at a*sqrt(11)/4 = 4.53 Å
    assert np.all(coordination_numbers(positions, cell, species, 'Ca', 'F', cut) == 8)
    assert np.all(coordination_numbers(positions, cell, species, 'F', 'Ca', cut) == 4)
    # anions form a simple cubic lattice of edge a/2
    assert np.all(coordination_numbers(positions, cell, species, 'F', 'F', 0.6 * A_FLUORITE) == 6)
    assert coordination_distribution(positions, cell, species, 'F', 'Ca', cut) == {4: 1.0}


def test_equivalent_cell_gives_same_coordination(crystals):
    positions, cell, species = crystals.fluorite(reps=3)
    new_positions, new_cell = crystals.equivalent_cell(positions, cell, seed=3)
    for center, neighbor, cut in (('Ca', 'F', 2.6), ('F', 'F', 3.0), ('F', 'Ca', 4.6)):
        np.testing.assert_array_equal(
            coordination_numbers(positions, cell, species, center, neighbor, cut),
            coordination_numbers(new_positions, new_cell, species, center, neighbor, cut),
        )


def test_bo4_network_is_fully_four_coordinated_and_bridging(bo4_network):
    positions, cell, species = bo4_network
    assert boron_n4(positions, cell, species) == 1.0
    assert coordination_distribution(positions, cell, species, 'B', 'O', 2.0) == {4: 1.0}
    counts = oxygen_former_counts(positions, cell, species, CUTOFFS)
    assert counts.shape == (np.count_nonzero(species == 'O'),)
    assert np.all(counts == 2)
    spec = oxygen_speciation(positions, cell, species, CUTOFFS)
    assert spec['bo_fraction'] == 1.0
    assert spec['nbo_fraction'] == spec['free_fraction'] == 0.0
    assert spec['n_bo'] == spec['n_oxygen'] == 128


def test_bo3_sheets_in_hexagonal_cell(bo3_sheets):
    positions, cell, species = bo3_sheets
    assert boron_n4(positions, cell, species) == 0.0
    assert coordination_distribution(positions, cell, species, 'B', 'O', 2.0) == {3: 1.0}
    assert oxygen_speciation(positions, cell, species, {'B': 2.0})['bo_fraction'] == 1.0


def test_isolated_bo3_units_and_a_lone_oxygen(bo3_units):
    positions, cell, species = bo3_units
    n_units = np.count_nonzero(species == 'B')
    assert boron_n4(positions, cell, species) == 0.0
    counts = oxygen_former_counts(positions, cell, species, CUTOFFS)
    np.testing.assert_array_equal(counts, [1] * (3 * n_units) + [0])  # the lone O is last
    spec = oxygen_speciation(positions, cell, species, CUTOFFS)
    n_o = 3 * n_units + 1
    assert spec['nbo_fraction'] == pytest.approx(3 * n_units / n_o)
    assert spec['free_fraction'] == pytest.approx(1 / n_o)
    assert spec['bo_fraction'] == 0.0
    assert spec['bo_fraction'] + spec['nbo_fraction'] + spec['free_fraction'] == pytest.approx(1.0)
    assert (spec['n_nbo'], spec['n_free'], spec['n_oxygen']) == (3 * n_units, 1, n_o)


def test_each_former_uses_its_own_cutoff():
    # one O 2.1 Å from a B and 2.1 Å from a Si: bonded to Si (2.2) but not to B (2.0)
    positions = np.array([[5.0, 5.0, 5.0], [7.1, 5.0, 5.0], [2.9, 5.0, 5.0]])
    cell = np.eye(3) * 12.0
    species = np.array(['O', 'B', 'Si'])
    np.testing.assert_array_equal(oxygen_former_counts(positions, cell, species, CUTOFFS), [1])
    np.testing.assert_array_equal(oxygen_former_counts(positions, cell, species, {'B': 2.2, 'Si': 2.2}), [2])
    # alkalis never count as formers
    species_li = np.array(['O', 'Li', 'Si'])
    assert oxygen_speciation(positions, cell, species_li, CUTOFFS)['nbo_fraction'] == 1.0


def test_trajectory_shapes_and_pooling(bo4_network, crystals):
    positions, cell, species = bo4_network
    frames = crystals.jiggle(positions, 0.05, 3, seed=4)
    cn = coordination_numbers(frames, cell, species, 'B', 'O', 2.0)
    assert cn.shape == (3, np.count_nonzero(species == 'B'))
    assert np.all(cn == 4)
    counts = oxygen_former_counts(frames, np.broadcast_to(cell, (3, 3, 3)), species, CUTOFFS)
    assert counts.shape == (3, np.count_nonzero(species == 'O'))
    n4_single = [boron_n4(f, cell, species) for f in frames]
    assert boron_n4(frames, cell, species) == pytest.approx(np.mean(n4_single))


def test_pooled_fractions_equal_mean_of_frames(bo3_units):
    positions, cell, species = bo3_units
    shifted = np.array(positions)
    shifted[-1] = shifted[0] + [0.0, 0.0, 1.5]  # the lone O now bonded to the first B (BO4)
    frames = np.stack([positions, shifted])
    spec = oxygen_speciation(frames, cell, species, CUTOFFS)
    one = oxygen_speciation(positions, cell, species, CUTOFFS)
    two = oxygen_speciation(shifted, cell, species, CUTOFFS)
    assert two['free_fraction'] == 0.0
    for key in ('bo_fraction', 'nbo_fraction', 'free_fraction', 'n_bo', 'n_nbo', 'n_free'):
        assert spec[key] == pytest.approx(0.5 * (one[key] + two[key]))
    assert boron_n4(shifted, cell, species) == pytest.approx(1 / np.count_nonzero(species == 'B'))


def test_inputs_are_not_modified(bo4_network):
    positions, cell, species = bo4_network
    before = positions.copy()
    oxygen_speciation(positions, cell, species, CUTOFFS)
    boron_n4(positions, cell, species)
    np.testing.assert_array_equal(positions, before)


def test_missing_former_cutoff_names_cutoffs(bo4_network):
    positions, cell, species = bo4_network
    with pytest.raises(ValueError, match=r"cutoffs.*'B'"):
        oxygen_speciation(positions, cell, species, {'Si': 2.2})
    with pytest.raises(ValueError, match='cutoffs'):
        oxygen_speciation(positions, cell, species, {'B': -1.0})
    with pytest.raises(ValueError, match='cutoffs'):
        oxygen_speciation(positions, cell, species, {})


def test_cutoff_too_large_names_cutoff(bo4_network):
    positions, cell, species = bo4_network
    with pytest.raises(ValueError, match='cutoff'):
        boron_n4(positions, cell, species, cutoff_bo=50.0)
    with pytest.raises(ValueError, match='cutoff'):
        oxygen_speciation(positions, cell, species, {'B': 50.0})


def test_absent_species(rock_salt_crystal):
    positions, cell, species = rock_salt_crystal
    with pytest.raises(ValueError, match='boron'):
        boron_n4(positions, cell, species)
    with pytest.raises(ValueError, match='center'):
        coordination_distribution(positions, cell, species, 'K', 'O', 2.0)
    assert coordination_numbers(positions, cell, species, 'K', 'O', 2.0).shape == (0,)
    with pytest.raises(ValueError, match='species'):
        coordination_numbers(positions, cell, species[:-1], 'Na', 'O', 2.0)
