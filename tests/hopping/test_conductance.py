"""Tests for aiida_boroglass.hopping.conductance: eqs. (5), (7), (10)-(13)."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.hopping import conductance
from aiida_boroglass.hopping.conductance import (
    conductivity_factor,
    ensemble_transport,
    dc_conductivity,
    jump_rates,
    kron_reduction,
    log_link_conductances,
    network_conductance,
)
from aiida_boroglass.hopping.fitting import arrhenius_fit
from aiida_boroglass.hopping.landscape import build_landscape
from aiida_boroglass.hopping.lattice import face_sites, lattice_links
from aiida_boroglass.hopping.percolation import K_B_EV, activation_energies, activation_energy, fermi_level

E_CHARGE = 1.602176634e-19


@pytest.fixture(params=['sparse', 'dense'])
def solver(request, monkeypatch):
    """Run network_conductance with only the sparse or only the dense elimination."""
    if request.param == 'sparse':
        monkeypatch.setattr(conductance, 'DENSE_NODES', 0)
    else:
        monkeypatch.setattr(conductance, 'DENSE_NODES', 10**9)
        monkeypatch.setattr(conductance, 'DENSE_FILL', 0.0)
    return request.param


def test_rates_obey_detailed_balance(read_only):
    rng = np.random.default_rng(0)
    e_i, e_j = read_only(rng.normal(0, 0.3, 50), rng.normal(0, 0.3, 50))
    for temperature in (200.0, 600.0):
        kt = K_B_EV * temperature
        forward = jump_rates(e_i, e_j, temperature, 1e13, 0.07)
        backward = jump_rates(e_j, e_i, temperature, 1e13, 0.07)
        np.testing.assert_allclose(np.exp(-e_i / kt) * forward, np.exp(-e_j / kt) * backward, rtol=1e-12)
        assert np.all(np.maximum(forward, backward) == pytest.approx(1e13 * np.exp(-0.07 / kt)))


def test_link_conductances_eq_7_and_symmetry():
    rng = np.random.default_rng(1)
    e_i, e_j = rng.normal(0, 0.1, 40), rng.normal(0, 0.1, 40)
    temperature, mu = 500.0, 0.02
    kt = K_B_EV * temperature
    log_g = log_link_conductances(e_i, e_j, mu, temperature, 1e13, 0.05)
    np.testing.assert_allclose(log_g, log_link_conductances(e_j, e_i, mu, temperature, 1e13, 0.05), rtol=1e-13)
    n_i, n_j = 1 / (np.exp((e_i - mu) / kt) + 1), 1 / (np.exp((e_j - mu) / kt) + 1)
    # g = beta q^2 w n_i (1 - n_j); beta q^2 = e / (kT in eV) in C/V
    direct = E_CHARGE / kt * jump_rates(e_i, e_j, temperature, 1e13, 0.05) * n_i * (1 - n_j)
    np.testing.assert_allclose(np.exp(log_g), direct, rtol=1e-12)


@pytest.mark.parametrize('size', [3, 5, 8])
def test_uniform_cube(size, cube, solver):
    # L planes of L^2 nodes, faces at potential 1 and 0: L^2 parallel chains of L - 1 links
    # in series (transverse links carry no current), G = g L^2 / (L - 1)
    n, i, j, source, sink = cube(size)
    g = 0.7
    result = network_conductance(n, i, j, np.full(i.size, g), source, sink, drop_tol=0.0)
    assert result.conductance == pytest.approx(g * size**2 / (size - 1), rel=1e-12)
    assert result.dropped == 0.0
    rough = network_conductance(n, i, j, np.full(i.size, g), source, sink)
    assert rough.conductance <= result.conductance * (1 + 1e-12)
    assert rough.conductance + rough.dropped >= result.conductance * (1 - 1e-12)
    # sigma = G (L - 1) / (L^2 a) = g / a for any size
    assert result.conductance * conductivity_factor(size, 5.0) == pytest.approx(g / 5e-8, rel=1e-12)


def test_series_parallel_and_bridge(solver):
    # source 0, sink 3; 0-1-3 and 0-2-3 with a balanced Wheatstone bridge 1-2 (no current):
    # G = (1 * 2) / (1 + 2) + (3 * 6) / (3 + 6) = 8 / 3
    i, j = np.array([0, 1, 0, 2, 1]), np.array([1, 3, 2, 3, 2])
    g = np.array([1.0, 2.0, 3.0, 6.0, 5.0])
    assert network_conductance(4, i, j, g, [0], [3]).conductance == pytest.approx(8 / 3, rel=1e-14)
    # unbalanced bridge (0-2 = 1): current leaving node 0 with the potentials of nodes 1 and 2
    g = np.array([1.0, 2.0, 1.0, 6.0, 5.0])
    # Kirchhoff at 1: (1 - p1) + 5 (p2 - p1) = 2 p1; at 2: (1 - p2) + 5 (p1 - p2) = 6 p2
    p1, p2 = np.linalg.solve([[8.0, -5.0], [-5.0, 12.0]], [1.0, 1.0])
    assert network_conductance(4, i, j, g, [0], [3]).conductance == pytest.approx((1 - p1) + (1 - p2), rel=1e-14)
    # a dangling branch and a link inside a face change nothing
    i2, j2 = np.append(i, [3, 0]), np.append(j, [4, 5])
    g2 = np.append(g, [9.0, 9.0])
    result = network_conductance(6, i2, j2, g2, [0, 5], [3])
    assert result.conductance == pytest.approx((1 - p1) + (1 - p2), rel=1e-14)


@pytest.mark.parametrize('size', [4, 5])
def test_elimination_equals_kron_reduction_eq_11(size, cube, solver, read_only):
    n, i, j, source, sink = cube(size)
    rng = np.random.default_rng(size)
    (g,) = read_only(10.0 ** rng.uniform(-4, 4, i.size))
    reduced = kron_reduction(n, i, j, g, source, sink)
    assert reduced.shape == (size**2, size**2)
    np.testing.assert_allclose(reduced, reduced.T, rtol=1e-10, atol=1e-12 * np.abs(reduced).max())
    result = network_conductance(n, i, j, g, source, sink, drop_tol=0.0)
    assert result.conductance == pytest.approx(reduced.sum(), rel=1e-9)
    assert result.dropped == 0.0


def test_sparse_and_dense_agree_on_a_diluted_high_contrast_lattice(monkeypatch):
    land = build_landscape(12, 0.5, 0.35, 0.76, 0.3, seed=2)
    energies = land.energies_ev.ravel()
    mu = fermi_level(energies, land.n_ions, 250.0)
    i, j = lattice_links(land.accessible)
    source, sink = face_sites(land.accessible)
    log_g = log_link_conductances(energies[i], energies[j], mu, 250.0, 1e13, 0.076)
    g = np.exp(log_g - log_g.max())  # about 60 decades
    values = []
    for dense_nodes, fill in ((0, 1.0), (10**9, 0.0)):
        monkeypatch.setattr(conductance, 'DENSE_NODES', dense_nodes)
        monkeypatch.setattr(conductance, 'DENSE_FILL', fill)
        values.append(network_conductance(land.size**3, i, j, g, source, sink, drop_tol=0.0).conductance)
    assert values[0] > 0.0
    assert values[0] == pytest.approx(values[1], rel=1e-9)


def test_dropped_fill_brackets_the_exact_value(monkeypatch):
    monkeypatch.setattr(conductance, 'DENSE_NODES', 0)  # the sparse rounds are where fill is dropped
    land = build_landscape(12, 0.5, 0.35, 0.76, 0.3, seed=8)
    energies = land.energies_ev.ravel()
    mu = fermi_level(energies, land.n_ions, 500.0)
    i, j = lattice_links(land.accessible)
    source, sink = face_sites(land.accessible)
    g = np.exp(log_link_conductances(energies[i], energies[j], mu, 500.0, 1e13, 0.076))
    g /= g.max()
    exact = network_conductance(land.size**3, i, j, g, source, sink, drop_tol=0.0).conductance
    rough = network_conductance(land.size**3, i, j, g, source, sink, drop_tol=1e-2)
    assert rough.dropped > 0.0
    assert rough.conductance <= exact <= rough.conductance + rough.dropped


def test_no_path_gives_zero(cube):
    n, i, j, source, sink = cube(4)
    cut = np.isin(i, np.arange(2 * 16, 3 * 16)) & (j - i == 16)  # links from plane 2 to plane 3
    assert network_conductance(n, i[~cut], j[~cut], np.ones((~cut).sum()), source, sink) == (0.0, 0.0)
    with pytest.raises(ValueError, match='disjoint'):
        network_conductance(n, i, j, np.ones(i.size), source, source)
    with pytest.raises(ValueError, match='g must be'):
        network_conductance(n, i, j, -np.ones(i.size), source, sink)


def test_dc_conductivity_units_and_scaling(sodium_landscape):
    base = dc_conductivity(sodium_landscape, 450.0)
    assert 0.0 < base.sigma_s_cm <= base.sigma_upper_s_cm <= base.sigma_s_cm * (1 + 1e-6)
    assert dc_conductivity(sodium_landscape, 450.0, nu_hz=4e13).sigma_s_cm == pytest.approx(4 * base.sigma_s_cm)
    assert dc_conductivity(sodium_landscape, 450.0, a_angstrom=2.5).sigma_s_cm == pytest.approx(2 * base.sigma_s_cm)
    assert base.mu_ev == pytest.approx(fermi_level(sodium_landscape.energies_ev, sodium_landscape.n_ions, 450.0))
    with pytest.raises(ValueError, match='temperature_k'):
        dc_conductivity(sodium_landscape, 0.0)


def test_arrhenius_activation_energy_is_delta_c(sodium_landscape):
    # At low T, ln(T sigma) = const - Delta_c / kT + (slowly varying corrections from the links
    # just above the critical one and from the T dependence of mu). Over 100-160 K these shift
    # the fitted slope by a fraction of kT; 1.5 kT at 160 K (0.021 eV, 3 % of Delta_c) bounds it,
    # while leaving out u0 (0.076 eV) or the occupation factors would not fit.
    temperatures = np.linspace(100.0, 160.0, 4)
    sigma = [dc_conductivity(sodium_landscape, t).sigma_s_cm for t in temperatures]
    fit = arrhenius_fit(temperatures, sigma)
    assert fit.ea_ev == pytest.approx(activation_energy(sodium_landscape), abs=1.5 * K_B_EV * 160.0)


def test_ensemble_transport_builds_each_landscape_once_for_both_quantities():
    both = ensemble_transport(8, 0.5, 0.35, 0.76, 0.3, 3, [400.0, 500.0], seed=2)
    assert both.sigma_s_cm.shape == both.sigma_upper_s_cm.shape == (3, 2)
    assert np.all(both.sigma_upper_s_cm >= both.sigma_s_cm)
    assert np.all(both.sigma_s_cm[:, 1] > both.sigma_s_cm[:, 0])  # thermally activated
    # landscape k is built from child k of the root seed, as in activation_energies
    first = build_landscape(8, 0.5, 0.35, 0.76, 0.3, seed=np.random.default_rng(np.random.SeedSequence(2).spawn(3)[0]))
    assert both.sigma_s_cm[0, 0] == dc_conductivity(first, 400.0).sigma_s_cm
    assert both.activation_energy_ev[0] == activation_energy(first)
    np.testing.assert_array_equal(activation_energies(8, 0.5, 0.35, 0.76, 0.3, 3, seed=2)[2], both.activation_energy_ev)
    assert ensemble_transport(8, 0.5, 0.35, 0.76, 0.3, 3, seed=2).sigma_s_cm.shape == (3, 0)
    with pytest.raises(ValueError, match='n_landscapes'):
        ensemble_transport(8, 0.5, 0.35, 0.76, 0.3, 0, [400.0])
