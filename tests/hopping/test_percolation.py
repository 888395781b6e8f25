"""Tests for aiida_boroglass.hopping.percolation: eq. (4), eq. (8b) and Delta_c of eq. (9)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse import csgraph

from aiida_boroglass.hopping.landscape import build_landscape
from aiida_boroglass.hopping.percolation import (
    K_B_EV,
    activation_energies,
    activation_energy,
    bottleneck,
    fermi_level,
    link_barriers,
    occupations,
)

#: Bond percolation threshold of the simple cubic lattice (Lorenz & Ziff, PRE 57, 230 (1998)).
P_C_SC_BOND = 0.2488


def bisection_bottleneck(w, i, j, n, source, sink):
    """Reference: scan the sorted weights with connected_components (no spanning tree)."""
    values = np.unique(w)
    lo, hi = 0, values.size - 1

    def joined(limit):
        keep = w <= limit
        graph = sparse.coo_matrix((np.ones(keep.sum()), (i[keep], j[keep])), shape=(n, n))
        _, label = csgraph.connected_components(graph, directed=False)
        return np.intersect1d(label[source], label[sink]).size > 0

    if not joined(values[-1]):
        return np.inf
    while lo < hi:
        mid = (lo + hi) // 2
        if joined(values[mid]):
            hi = mid
        else:
            lo = mid + 1
    return values[lo]


def test_uniform_bond_weights_give_the_percolation_threshold(cube):
    # Delta_c of uniform [0, 1) link weights is the fraction of links needed to span: p_c
    rng = np.random.default_rng(2024)
    values = []
    for size in (30, 34, 38, 40):
        n, i, j, source, sink = cube(size)
        values.append(bottleneck(rng.random(i.size), i, j, n, source, sink))
    assert np.mean(values) == pytest.approx(P_C_SC_BOND, abs=0.01)


@pytest.mark.parametrize('seed', range(5))
def test_bottleneck_equals_bisection_reference(seed, cube, read_only):
    rng = np.random.default_rng(seed)
    n, i, j, source, sink = cube(7)
    keep = rng.random(i.size) < 0.8  # a diluted lattice
    i, j = i[keep], j[keep]
    (w,) = read_only(np.round(rng.random(i.size), 2))  # with ties
    assert bottleneck(w, i, j, n, source, sink) == bisection_bottleneck(w, i, j, n, source, sink)


def test_bottleneck_small_graph_by_hand():
    # 0 -a- 1 -b- 3 and 0 -c- 2 -d- 3: min over the two paths of the larger weight
    i, j = np.array([0, 1, 0, 2]), np.array([1, 3, 2, 3])
    assert bottleneck([0.3, 0.9, 0.6, 0.5], i, j, 4, [0], [3]) == 0.6
    assert bottleneck([0.3, 0.5, 0.6, 0.5], i, j, 4, [0], [3]) == 0.5
    assert bottleneck([0.0, 0.0, 1.0, 1.0], i, j, 4, [0], [3]) == 0.0
    assert bottleneck([0.3, 0.9], i[[0, 2]], j[[0, 2]], 4, [0], [3]) == np.inf


def test_fermi_level_fixes_the_number_of_ions(read_only):
    rng = np.random.default_rng(1)
    (e,) = read_only(np.append(rng.normal(-0.5, 0.3, 999), np.inf))
    n_ions = 950
    e_f = fermi_level(e, n_ions)
    assert np.count_nonzero(e < e_f) == n_ions
    for temperature in (50.0, 300.0, 1000.0):
        mu = fermi_level(e, n_ions, temperature)
        assert occupations(e, mu, temperature).sum() == pytest.approx(n_ions, rel=1e-10)
    # T -> 0 limit
    assert fermi_level(e, n_ions, 1.0) == pytest.approx(e_f, abs=0.5 * np.ptp(np.sort(e[:-1])[n_ions - 1 : n_ions + 1]))
    with pytest.raises(ValueError, match='n_ions'):
        fermi_level(e, 999)
    with pytest.raises(ValueError, match='temperature_k'):
        fermi_level(e, 10, -1.0)


def test_mean_occupation_of_a_landscape_is_one_minus_f0(sodium_landscape):
    land = sodium_landscape
    mu = fermi_level(land.energies_ev, land.n_ions, 400.0)
    n = occupations(land.energies_ev, mu, 400.0)
    assert n[land.accessible].mean() == pytest.approx(land.n_ions / land.n_accessible, rel=1e-10)
    assert land.n_ions / land.n_accessible == pytest.approx(0.95, abs=1e-3)
    assert np.all(n[~land.accessible] == 0.0)


def test_occupations_are_fermi_function():
    e = np.array([-0.1, 0.0, 0.1])
    kt = K_B_EV * 300.0
    np.testing.assert_allclose(occupations(e, 0.0, 300.0), 1 / (np.exp(e / kt) + 1))


def test_link_barriers_eq_8b():
    d = link_barriers([-0.4, 0.2], [0.1, 0.3], -0.1, 0.07)
    np.testing.assert_allclose(d, [0.07 + 0.5 * (0.5 + 0.3 + 0.2), 0.07 + 0.5 * (0.1 + 0.3 + 0.4)])
    np.testing.assert_allclose(d, link_barriers([0.1, 0.3], [-0.4, 0.2], -0.1, 0.07))
    # both ends on the Fermi level: only the minimal barrier is left
    assert link_barriers([0.2], [0.2], 0.2, 0.05)[0] == pytest.approx(0.05)


def test_activation_energy_scales_with_v0():
    # u0 = 0.1 V0 makes every energy proportional to V0 (used by fitting.fit_v0_sigma)
    one = activation_energy(build_landscape(12, 0.3, 0.35, 1.0, 0.3, seed=4))
    two = activation_energy(build_landscape(12, 0.3, 0.35, 2.0, 0.3, seed=4))
    assert two == pytest.approx(2.0 * one, rel=1e-12)
    assert 0.1 < one < 2.0


def test_activation_energy_lower_bound_is_u0(sodium_landscape):
    delta_c = activation_energy(sodium_landscape)
    assert delta_c > 0.1 * sodium_landscape.v0_ev
    assert activation_energy(sodium_landscape, u0_ev=0.2) == pytest.approx(delta_c - 0.1 * 0.76 + 0.2)


def test_activation_energies_average():
    mean, std, values = activation_energies(10, 0.5, 0.35, 0.76, 0.3, 3, seed=1)
    assert values.shape == (3,)
    assert mean == pytest.approx(values.mean())
    assert std == pytest.approx(values.std(ddof=1))
    again = activation_energies(10, 0.5, 0.35, 0.76, 0.3, 3, seed=1)[2]
    np.testing.assert_array_equal(values, again)
    with pytest.raises(ValueError, match='n_landscapes'):
        activation_energies(10, 0.5, 0.35, 0.76, 0.3, 0)
