"""Tests for aiida_boroglass.analysis.rdf: partial g_ab(r) and its first minimum."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.analysis.neighbors import max_cutoff
from aiida_boroglass.analysis.rdf import all_partial_rdfs, first_minimum, partial_rdf, running_coordination

A_ROCK_SALT = 4.2  # Å, the conftest default


def ideal_gas(n_frames=3, n_atoms=3000, box=28.0, seed=0):
    rng = np.random.default_rng(seed)
    positions = rng.random((n_frames, n_atoms, 3)) * box
    species = np.where(rng.random(n_atoms) < 0.3, 'Na', 'O')
    cell = np.eye(3) * box
    for arr in (positions, species, cell):
        arr.setflags(write=False)
    return positions, cell, species


@pytest.mark.parametrize('pair', [('O', 'O'), ('Na', 'O'), ('O', 'Na'), ('Na', 'Na')])
def test_ideal_gas_is_one(pair):
    positions, cell, species = ideal_gas()
    r, g = partial_rdf(positions, cell, species, *pair, r_max=8.0, n_bins=32)
    far = r > 2.0
    assert np.all(np.abs(g[far] - 1.0) < 0.15)
    assert abs(g[far].mean() - 1.0) < 0.02


def test_rock_salt_first_peaks(rock_salt_crystal):
    positions, cell, species = rock_salt_crystal
    # 130 bins: no shell distance falls on a bin edge
    r, g_ab = partial_rdf(positions, cell, species, 'Na', 'O', r_max=6.0, n_bins=130)
    assert r[np.argmax(g_ab)] == pytest.approx(A_ROCK_SALT / 2, abs=0.05)
    r, g_aa = partial_rdf(positions, cell, species, 'Na', 'Na', r_max=6.0, n_bins=130)
    assert r[np.argmax(g_aa)] == pytest.approx(A_ROCK_SALT / np.sqrt(2), abs=0.05)
    assert np.all(g_aa[r < 2.5] == 0.0)


def test_integral_of_g_gives_coordination_number(rock_salt_crystal):
    positions, cell, species = rock_salt_crystal
    r, g = partial_rdf(positions, cell, species, 'Na', 'O', r_max=0.6 * A_ROCK_SALT, n_bins=300)
    dr = r[1] - r[0]
    rho_o = np.count_nonzero(species == 'O') / abs(np.linalg.det(cell))
    shells = 4.0 / 3.0 * np.pi * ((r + dr / 2) ** 3 - (r - dr / 2) ** 3)
    assert np.sum(rho_o * g * shells) == pytest.approx(6.0)


def test_same_crystal_in_equivalent_cell_gives_same_rdf(rock_salt_crystal, crystals):
    positions, cell, species = rock_salt_crystal
    new_positions, new_cell = crystals.equivalent_cell(positions, cell, seed=5)
    r_max = 0.99 * max_cutoff(new_cell)
    for a, b in (('Na', 'O'), ('O', 'O')):
        r1, g1 = partial_rdf(positions, cell, species, a, b, r_max=r_max, n_bins=80)
        r2, g2 = partial_rdf(new_positions, new_cell, species, a, b, r_max=r_max, n_bins=80)
        np.testing.assert_allclose(r1, r2)
        np.testing.assert_allclose(g1, g2, rtol=1e-12)


def test_frames_are_averaged(rock_salt_crystal, crystals):
    positions, cell, species = rock_salt_crystal
    frames = crystals.jiggle(positions, 0.1, 2, seed=1)
    r, g0 = partial_rdf(frames[0], cell, species, 'Na', 'O', r_max=5.0, n_bins=50)
    _, g1 = partial_rdf(frames[1], cell, species, 'Na', 'O', r_max=5.0, n_bins=50)
    _, g = partial_rdf(frames, cell, species, 'Na', 'O', r_max=5.0, n_bins=50)
    np.testing.assert_allclose(g, 0.5 * (g0 + g1))
    cells = np.broadcast_to(cell, (2, 3, 3))
    _, g_cells = partial_rdf(frames, cells, species, 'Na', 'O', r_max=5.0, n_bins=50)
    np.testing.assert_allclose(g_cells, g)


def test_first_minimum_between_shells_of_a_jiggled_crystal(rock_salt_crystal, crystals):
    positions, cell, species = rock_salt_crystal
    frames = crystals.jiggle(positions, 0.15, 4, seed=2)
    r, g = partial_rdf(frames, cell, species, 'Na', 'O', r_max=6.0, n_bins=150)
    r_min = first_minimum(r, g)
    first, second = A_ROCK_SALT / 2, A_ROCK_SALT * np.sqrt(3) / 2  # Na-O shells
    assert first + 0.4 < r_min < second - 0.4


def test_first_minimum_of_perfect_crystal_is_middle_of_the_gap(rock_salt_crystal):
    positions, cell, species = rock_salt_crystal
    r, g = partial_rdf(positions, cell, species, 'Na', 'O', r_max=6.0, n_bins=120)
    first, second = A_ROCK_SALT / 2, A_ROCK_SALT * np.sqrt(3) / 2
    assert first_minimum(r, g) == pytest.approx(0.5 * (first + second), abs=0.2)


def test_first_minimum_of_noisy_two_peak_curve():
    rng = np.random.default_rng(0)
    r = np.linspace(0.0, 8.0, 400)
    g = 3.0 * np.exp(-((r - 2.0) ** 2) / 0.05) + 1.2 * np.exp(-((r - 4.0) ** 2) / 0.3)
    g += 0.3 * (r > 1.5) + rng.normal(scale=0.03, size=r.size)
    noiseless = 3.0 * np.exp(-((r - 2.0) ** 2) / 0.05) + 1.2 * np.exp(-((r - 4.0) ** 2) / 0.3) + 0.3
    window = (r > 2.0) & (r < 4.0)
    exact = r[window][np.argmin(noiseless[window])]
    assert first_minimum(r, g) == pytest.approx(exact, abs=0.15)
    # a spurious bump at small r is skipped by r_start
    g_spurious = g + 5.0 * np.exp(-((r - 0.8) ** 2) / 0.01)
    assert first_minimum(r, g_spurious, r_start=1.5) == pytest.approx(exact, abs=0.15)


def test_first_minimum_raises_without_a_minimum():
    r = np.linspace(0.0, 8.0, 200)
    g = 1.0 - np.exp(-r)
    with pytest.raises(ValueError, match='peak|minimum'):
        first_minimum(r, g)
    with pytest.raises(ValueError, match='r and g'):
        first_minimum(r, g[:-1])


def test_inputs_are_not_modified(rock_salt_crystal):
    positions, cell, species = rock_salt_crystal
    before = positions.copy()
    partial_rdf(positions, cell, species, 'Na', 'O', r_max=5.0)
    np.testing.assert_array_equal(positions, before)


def test_r_max_too_large_names_r_max_and_limit(rock_salt_crystal):
    positions, cell, species = rock_salt_crystal
    limit = max_cutoff(cell)
    with pytest.raises(ValueError, match='r_max') as info:
        partial_rdf(positions, cell, species, 'Na', 'O', r_max=limit + 0.1)
    assert f'{limit:g}' in str(info.value)


@pytest.mark.parametrize(
    'kwargs, field',
    [
        ({'a': 'Li'}, r"^a = 'Li'"),
        ({'b': 'K'}, r"^b = 'K'"),
        ({'n_bins': 0}, 'n_bins'),
        ({'r_max': -1.0}, 'r_max'),
        ({'species': ['Na'] * 5}, '^species'),
        ({'cell': np.broadcast_to(np.eye(3) * 12.6, (3, 3, 3))}, 'cell'),
    ],
)
def test_bad_input_names_the_field(rock_salt_crystal, kwargs, field):
    positions, cell, species = rock_salt_crystal
    args = {'positions': positions, 'cell': cell, 'species': species, 'a': 'Na', 'b': 'O', 'r_max': 5.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=field):
        partial_rdf(**args)


@pytest.mark.parametrize('labels', [('X', 'X'), ('Na', 'O')])
def test_normalisation_of_a_single_pair(labels):
    # one pair 3.2 Å apart in a 1000 Å^3 box: g = V / V_shell in its bin, for a == b as for a != b
    # (same species: ordered pairs over N_a (N_a - 1) / V, so the ideal gas is exactly 1)
    positions = np.array([[1.0, 1.0, 1.0], [4.2, 1.0, 1.0]])
    cell = np.eye(3) * 10.0
    r, g = partial_rdf(positions, cell, list(labels), labels[0], labels[1], r_max=5.0, n_bins=10)
    k = 6  # bin [3.0, 3.5) Å
    shell = 4.0 / 3.0 * np.pi * ((3.5) ** 3 - 3.0**3)
    assert g[k] == pytest.approx(1000.0 / shell)
    assert np.count_nonzero(g) == 1


def naive_pair_histogram(positions, cell, species, a, b, edges):
    """O(N^2) minimum-image histogram of unordered a-b pairs (orthorhombic cell)."""
    box = np.diag(cell)
    counts = np.zeros(edges.size - 1)
    n = len(species)
    for i in range(n):
        for j in range(i + 1, n):
            if {species[i], species[j]} != {a, b} or (a == b and species[i] != a):
                continue
            d = positions[j] - positions[i]
            d -= box * np.round(d / box)
            counts += np.histogram([np.linalg.norm(d)], bins=edges)[0]
    return counts


def test_all_partials_match_naive_reference():
    rng = np.random.default_rng(3)
    positions = rng.random((120, 3)) * 11.0
    species = rng.choice(['B', 'Li', 'O'], size=120)
    cell = np.eye(3) * 11.0
    rdfs = all_partial_rdfs(positions, cell, species, r_max=5.0, n_bins=25)
    assert rdfs.elements == ('B', 'Li', 'O')
    assert rdfs.pairs == (('B', 'B'), ('B', 'Li'), ('B', 'O'), ('Li', 'Li'), ('Li', 'O'), ('O', 'O'))
    for k, (a, b) in enumerate(rdfs.pairs):
        np.testing.assert_array_equal(rdfs.pair_counts[k], naive_pair_histogram(positions, cell, species, a, b, rdfs.edges))


def test_all_partials_equal_single_partials_and_are_symmetric(crystals):
    positions, cell, species = crystals.fluorite(labels=('Ca', 'F'))
    frames = crystals.jiggle(positions, 0.05, 2)
    rdfs = all_partial_rdfs(frames, cell, species, r_max=5.0, n_bins=97)
    for k, (a, b) in enumerate(rdfs.pairs):
        _, g_ab = partial_rdf(frames, cell, species, a, b, r_max=5.0, n_bins=97)
        _, g_ba = partial_rdf(frames, cell, species, b, a, r_max=5.0, n_bins=97)
        np.testing.assert_allclose(rdfs.g[k], g_ab, rtol=1e-12)
        np.testing.assert_allclose(rdfs.g[k], g_ba, rtol=1e-12)
    assert rdfs.number_density_a3 == pytest.approx(len(species) / np.linalg.det(cell))


def test_all_partials_ideal_gas_and_triclinic_equivalent(crystals):
    positions, cell, species = ideal_gas(n_frames=2)
    rdfs = all_partial_rdfs(positions, cell, species, r_max=8.0, n_bins=32)
    assert np.all(np.abs(rdfs.g[:, rdfs.r > 2.0] - 1.0) < 0.15)
    crystal, crystal_cell, crystal_species = crystals.rock_salt()
    skewed, skewed_cell = crystals.equivalent_cell(crystal, crystal_cell, seed=2)
    r_max = 0.99 * max_cutoff(skewed_cell)
    straight = all_partial_rdfs(crystal, crystal_cell, crystal_species, r_max=r_max, n_bins=70)
    tilted = all_partial_rdfs(skewed, skewed_cell, crystal_species, r_max=r_max, n_bins=70)
    np.testing.assert_allclose(straight.g, tilted.g, rtol=1e-12)


@pytest.mark.parametrize(('builder', 'center', 'neighbor', 'shell_a', 'expected'), [
    ('rock_salt', 'Na', 'O', 2.5, 6.0), ('rock_salt', 'O', 'Na', 2.5, 6.0), ('rock_salt', 'Na', 'Na', 3.2, 12.0),
    ('fluorite', 'Ca', 'F', 2.6, 8.0), ('fluorite', 'F', 'Ca', 2.6, 4.0), ('fluorite', 'F', 'F', 3.0, 6.0),
])
def test_running_coordination_counts_crystal_shells(crystals, builder, center, neighbor, shell_a, expected):
    positions, cell, species = getattr(crystals, builder)()
    rdfs = all_partial_rdfs(positions, cell, species, r_max=4.0, n_bins=400)
    running = running_coordination(rdfs, center, neighbor)
    assert running[np.searchsorted(rdfs.edges[1:], shell_a)] == pytest.approx(expected)


def test_all_partials_refuse_bad_input():
    positions, cell, species = ideal_gas(n_frames=1)
    with pytest.raises(ValueError, match='r_max = 20 Å exceeds 14 Å'):
        all_partial_rdfs(positions, cell, species, r_max=20.0)
    with pytest.raises(ValueError, match='n_bins must be a positive integer'):
        all_partial_rdfs(positions, cell, species, r_max=5.0, n_bins=0)
    rdfs = all_partial_rdfs(positions, cell, species, r_max=5.0, n_bins=10)
    with pytest.raises(ValueError, match=r"center = 'K' is not among the elements \['Na', 'O'\]"):
        running_coordination(rdfs, 'K', 'O')
