"""Tests for aiida_boroglass.hopping.landscape and .lattice: paper 003 section II (eqs. 1-2, Fig. 2)."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.hopping.landscape import (
    blocked_fraction,
    build_landscape,
    counter_charges,
    site_counts,
    site_energies,
    unit_counts,
)
from aiida_boroglass.hopping.lattice import face_sites, lattice_links, nfu_neighbours
from aiida_boroglass.hopping.units import UNIT_NAMES, hierarchical_units, unit_table

CHARGES = np.array([-1.0, 0.0, -1.0, 0.0, -1.0, -2.0, -3.0])
NBO = np.array([0, 0, 1, 0, 2, 3, 4])
DELOCALISED = np.array([True, False, False, False, False, False, False])
KIND = {name: k for k, name in enumerate(UNIT_NAMES)}


def test_blocked_fraction_is_eq_1():
    assert blocked_fraction(0.33, 0.05) == pytest.approx(1 - 0.33 / (0.67 * 0.95))
    assert blocked_fraction(0.4, 0.0) == pytest.approx(1 - 0.4 / 0.6)
    with pytest.raises(ValueError, match='y must be <= 0.487'):
        blocked_fraction(0.49, 0.05)
    with pytest.raises(ValueError, match='f0'):
        blocked_fraction(0.33, 1.0)


def test_nfu_neighbours_are_the_cube_corners():
    size = 4
    sites = np.ravel_multi_index(([0, 2], [0, 3], [0, 1]), (size,) * 3)
    got = nfu_neighbours(sites, size)
    want = [
        sorted(np.ravel_multi_index(((i - di) % size, (j - dj) % size, (k - dk) % size), (size,) * 3)
               for di in (0, 1) for dj in (0, 1) for dk in (0, 1))
        for i, j, k in [(0, 0, 0), (2, 3, 1)]
    ]
    np.testing.assert_array_equal(np.sort(got, axis=1), want)


def test_lattice_links_are_open_along_x_only():
    size = 4
    i, j = lattice_links(np.ones((size,) * 3, dtype=bool))
    assert i.size == 3 * size**3 - size**2  # the x wrap is cut
    a = np.stack(np.unravel_index(i, (size,) * 3), 1)
    b = np.stack(np.unravel_index(j, (size,) * 3), 1)
    step = (b - a) % size
    assert np.all(np.sort(step, axis=1) == [0, 0, 1])  # nearest neighbours, periodic in y and z
    assert not np.any((a[:, 0] == size - 1) & (b[:, 0] == 0))
    pairs = {frozenset(p) for p in zip(i.tolist(), j.tolist())}
    assert len(pairs) == i.size
    source, sink = face_sites(np.ones((size,) * 3, dtype=bool))
    assert source.size == sink.size == size**2


def test_unit_counts_largest_remainder():
    counts = unit_counts([0.5, 0.25, 0.25 - 1e-9, 1e-9], 10)
    assert counts.sum() == 10
    np.testing.assert_array_equal(counts, [5, 3, 2, 0])


def test_landscape_reproduces_eq_1_and_unit_concentrations():
    size, x, y, f0 = 20, 0.5, 0.33, 0.05
    land = build_landscape(size, x, y, 0.64, 0.42, f0=f0, seed=7)
    n = size**3
    assert land.n_ions == round(n * y / (1 - y))
    assert 1 - land.n_accessible / n == pytest.approx(blocked_fraction(y, f0), abs=1.0 / n)
    assert 1 - land.n_ions / land.n_accessible == pytest.approx(f0, abs=1.0 / land.n_accessible)
    fractions = unit_table(hierarchical_units(x, y))[0]
    counts = np.bincount(land.labels.ravel(), minlength=len(UNIT_NAMES))
    assert np.all(np.abs(counts - fractions * n) < 1.0)


@pytest.mark.parametrize('x, y', [(0.0, 0.33), (0.5, 0.35), (1.0, 0.4), (0.3, 0.45)])
def test_landscape_conserves_charge(x, y):
    land = build_landscape(16, x, y, 0.76, 0.3, seed=11)
    unit_charge = CHARGES[land.labels].sum()
    # every unit charge goes to ion sites or is reported as unassigned
    assert land.counter_charge.sum() + land.unassigned_charge == pytest.approx(unit_charge, abs=1e-9)
    # unit charges balance the ions up to the rounding of the counts (< 1 unit of each type)
    assert abs(unit_charge + land.n_ions) <= np.abs(CHARGES).sum() + 0.5
    assert np.all(land.counter_charge[~land.accessible] == 0.0)
    assert np.all(np.isinf(land.energies_ev[~land.accessible]))
    assert np.all(np.isfinite(land.energies_ev[land.accessible]))


def single_unit(kind, open_corners, size=3):
    """One unit at NFU site (1, 1, 1), all other NFU sites neutral B3; only ``open_corners`` accessible."""
    labels = np.full((size,) * 3, KIND['B3'], dtype=np.int8)
    labels[1, 1, 1] = KIND[kind]
    corners = nfu_neighbours([np.ravel_multi_index((1, 1, 1), (size,) * 3)], size)[0]
    accessible = np.zeros(size**3, dtype=bool)
    accessible[corners[list(open_corners)]] = True
    return labels, accessible.reshape((size,) * 3), corners


@pytest.mark.parametrize(
    'kind, open_corners, per_site, n_sites',
    [
        ('B4', range(8), -1 / 8, 8),  # delocalised: -1/z on all z = 8 sites
        ('B4', [0, 3, 5], -1 / 3, 3),  # z = 3
        ('P2', range(8), -1 / 2, 2),  # -1/2 on k = 2 random sites
        ('P1', range(8), -2 / 3, 3),
        ('P0', range(8), -3 / 4, 4),
        ('B2', [2, 6], -1.0, 1),
        ('P0', [1, 4], -3 / 2, 2),  # z = 2 < k = 4: shared by the z sites
    ],
)
def test_counter_charges_follow_fig_2(kind, open_corners, per_site, n_sites):
    labels, accessible, corners = single_unit(kind, open_corners)
    charge, unassigned = counter_charges(labels, accessible, CHARGES, NBO, DELOCALISED, np.random.default_rng(0))
    flat = charge.ravel()
    assert unassigned == 0.0
    hit = np.flatnonzero(flat)
    assert hit.size == n_sites
    np.testing.assert_allclose(flat[hit], per_site)
    assert set(hit) <= set(corners[list(open_corners)])


def test_unit_without_accessible_neighbour_is_unassigned():
    labels, accessible, _ = single_unit('P1', [])
    accessible = accessible.copy()
    accessible[0, 0, 0] = False
    charge, unassigned = counter_charges(labels, accessible, CHARGES, NBO, DELOCALISED, np.random.default_rng(0))
    assert unassigned == -2.0
    assert np.all(charge == 0.0)


def test_nbo_sites_are_chosen_at_random():
    labels, accessible, corners = single_unit('P2', range(8))
    hits = set()
    for seed in range(20):
        charge, _ = counter_charges(labels, accessible, CHARGES, NBO, DELOCALISED, np.random.default_rng(seed))
        hits.update(np.flatnonzero(charge.ravel()).tolist())
    assert hits == set(corners.tolist())


def test_site_energies_eq_2(read_only):
    charge, accessible, noise = read_only([-0.5, -1.0, 0.0], [True, True, False], [1.0, -2.0, 0.3])
    e = site_energies(charge, accessible, 0.8, 0.25, noise)
    np.testing.assert_allclose(e[:2], [0.8 * (-0.5 + 0.25), 0.8 * (-1.0 - 0.5)])
    assert e[2] == np.inf


def test_landscape_noise_and_reproducibility():
    a = build_landscape(12, 0.4, 0.35, 0.76, 0.3, seed=5)
    b = build_landscape(12, 0.4, 0.35, 0.76, 0.3, seed=5)
    quiet = build_landscape(12, 0.4, 0.35, 1.0, 0.0, seed=5)
    other = build_landscape(12, 0.4, 0.35, 0.76, 0.3, seed=6)
    np.testing.assert_array_equal(a.energies_ev, b.energies_ev)
    assert not np.array_equal(a.accessible, other.accessible)
    # same seed: same network, the noise only scales with sigma_eps (used by the V0/sigma fit)
    np.testing.assert_array_equal(a.counter_charge, quiet.counter_charge)
    np.testing.assert_array_equal(quiet.energies_ev[quiet.accessible], quiet.counter_charge[quiet.accessible])
    eta = (a.energies_ev / 0.76 - a.counter_charge)[a.accessible]
    assert eta.mean() == pytest.approx(0.0, abs=0.03)
    assert eta.std() == pytest.approx(0.3, rel=0.05)


def test_landscape_accepts_measured_units_and_refuses_bad_input():
    units = {'B4': 0.5, 'P3': 0.5}
    land = build_landscape(6, 0.5, 1.0 / 3.0, 0.7, 0.3, units=units, seed=0)
    assert set(np.unique(land.labels)) == {KIND['B4'], KIND['P3']}
    with pytest.raises(ValueError, match="unit 'P2'"):
        build_landscape(6, 0.5, 1.0 / 3.0, 0.7, 0.3, units={**units, 'P2': -0.1})
    for kwargs, field in [
        ({'size': 2}, 'size'),
        ({'v0_ev': 0.0}, 'v0_ev'),
        ({'sigma_eps': -0.1}, 'sigma_eps'),
        ({'y': 0.6}, 'y'),
    ]:
        args = {'size': 6, 'x': 0.5, 'y': 0.35, 'v0_ev': 0.7, 'sigma_eps': 0.3, **kwargs}
        with pytest.raises(ValueError, match=field):
            build_landscape(**args)


def test_site_counts():
    assert site_counts(10, 0.35) == (round(1000 * 0.35 / 0.65), round(round(1000 * 0.35 / 0.65) / 0.95))
