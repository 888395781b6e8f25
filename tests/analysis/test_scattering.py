"""Tests for aiida_boroglass.analysis.scattering: S(Q), D(r), T(r), R_chi, scattering data."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.analysis.neighbors import neighbor_pairs
from aiida_boroglass.analysis.rdf import partial_rdf, species_pairs
from aiida_boroglass.analysis.scattering import (
    broadened_real_space,
    faber_ziman_partials,
    interference_function,
    lorch,
    neutron_scattering_lengths,
    r_chi,
    read_curve,
    real_space_functions,
    reciprocal_to_real,
    weighted_total,
    xray_form_factors,
)

B_NA, B_O = 3.63, 5.8037  # fm, periodictable


def partials(positions, cell, species, elements, r_max, n_bins):
    """Partial g_ij(r) in species_pairs order, the concentrations and rho0 (Å^-3)."""
    rows = []
    for a, b in species_pairs(elements):
        r, g = partial_rdf(positions, cell, species, a, b, r_max=r_max, n_bins=n_bins)
        rows.append(g)
    c = np.array([np.mean(np.asarray(species) == e) for e in elements])
    rho0 = len(species) / abs(np.linalg.det(cell))
    return r, np.array(rows), c / c.sum(), rho0


def random_system(n_frames, n_atoms, box, seed=0):
    rng = np.random.default_rng(seed)
    positions = rng.random((n_frames, n_atoms, 3)) * box
    species = np.where(rng.random(n_atoms) < 0.3, 'Na', 'O')
    return positions, np.eye(3) * box, species


@pytest.fixture(scope='module')
def ideal_gas():
    positions, cell, species = random_system(n_frames=3, n_atoms=3000, box=28.0)
    return partials(positions, cell, species, ['Na', 'O'], r_max=10.0, n_bins=100)


@pytest.fixture
def jiggled_rock_salt(crystals):
    positions, cell, species = crystals.rock_salt()
    frames = crystals.jiggle(positions, sigma=0.15, n_frames=4)
    return partials(frames, cell, species, ['Na', 'O'], r_max=6.0, n_bins=300)


def test_species_pairs_order():
    assert species_pairs(['Li', 'B', 'O']) == [
        ('Li', 'Li'),
        ('Li', 'B'),
        ('Li', 'O'),
        ('B', 'B'),
        ('B', 'O'),
        ('O', 'O'),
    ]
    with pytest.raises(ValueError, match='elements'):
        species_pairs(['B', 'B'])


def test_ideal_gas_partials_tend_to_one(ideal_gas):
    r, g, c, rho0 = ideal_gas
    q = np.linspace(2.0, 20.0, 50)
    s = faber_ziman_partials(r, g, rho0, q)
    assert s.shape == (3, q.size)
    assert np.all(np.abs(s - 1.0) < 0.1)
    assert np.all(np.abs(s.mean(axis=1) - 1.0) < 0.02)


def test_g_one_gives_no_structure():
    r = np.arange(0.025, 8.0, 0.05)
    g = np.ones((3, r.size))
    c, b, rho0 = np.array([0.4, 0.6]), np.array([B_NA, B_O]), 0.08
    out = real_space_functions(r, g, c, b, rho0)
    assert np.all(out['G_barn'] == 0.0)
    assert np.all(out['D_barn_A2'] == 0.0)
    assert np.array_equal(out['T_barn_A2'], out['T0_barn_A2'])
    assert out['T0_barn_A2'] == pytest.approx(4 * np.pi * rho0 * r * np.dot(c, b) ** 2 / 100.0)
    assert np.all(faber_ziman_partials(r, g, rho0, [0.0, 1.0, 7.0]) == 1.0)
    broad = broadened_real_space(r, g, c, b, rho0, q_max=20.0)
    assert np.all(broad['D_barn_A2'] == 0.0)
    assert np.array_equal(broad['T_barn_A2'], out['T0_barn_A2'])


def test_total_is_transform_of_weighted_g(jiggled_rock_salt):
    """Linearity: one transform of the neutron-weighted G(r) equals the weighted sum of the partial transforms."""
    r, g, c, rho0 = jiggled_rock_salt
    b = np.array([B_NA, B_O])
    q = np.linspace(0.3, 15.0, 60)
    total = weighted_total(faber_ziman_partials(r, g, rho0, q), c, b)

    g_of = {(0, 0): g[0], (0, 1): g[1], (1, 0): g[1], (1, 1): g[2]}
    big_g = sum(c[i] * b[i] * c[j] * b[j] * (g_of[i, j] - 1.0) for i in (0, 1) for j in (0, 1))  # fm^2
    out = real_space_functions(r, g, c, b, rho0)
    assert out['G_barn'] == pytest.approx(big_g / 100.0, abs=1e-12)
    assert out['D_barn_A2'] == pytest.approx(4 * np.pi * r * rho0 * big_g / 100.0, abs=1e-12)

    dr = r[1] - r[0]
    r_max = r[-1] + dr / 2
    window = np.sin(np.pi * r / r_max) / (np.pi * r / r_max)
    integrand = 4 * np.pi * r**2 * big_g / np.dot(c, b) ** 2 * window
    direct = 1.0 + rho0 * dr * np.array([np.sum(integrand * np.sin(x * r) / (x * r)) for x in q])
    assert np.max(np.abs(direct - 1.0)) > 0.3  # the crystal has structure
    assert total == pytest.approx(direct, abs=1e-10)


def test_xray_total_is_sum_over_ordered_pairs(jiggled_rock_salt):
    r, g, c, rho0 = jiggled_rock_salt
    q = np.linspace(0.5, 12.0, 30)
    s = faber_ziman_partials(r, g, rho0, q)
    f = xray_form_factors(['Na', 'O'], q)
    s_of = {(0, 0): s[0], (0, 1): s[1], (1, 0): s[1], (1, 1): s[2]}
    numerator = sum(c[i] * c[j] * f[i] * f[j] * s_of[i, j] for i in (0, 1) for j in (0, 1))
    expected = numerator / (c[0] * f[0] + c[1] * f[1]) ** 2
    assert weighted_total(s, c, f) == pytest.approx(expected, rel=1e-12)
    # with weights constant in Q the X-ray form equals the neutron form
    b = np.array([B_NA, B_O])
    assert weighted_total(s, c, np.repeat(b[:, None], q.size, axis=1)) == pytest.approx(weighted_total(s, c, b))


@pytest.mark.parametrize('window', [None, 'lorch'])
def test_partials_match_debye_sum(window):
    """Midpoint transform of binned g against the exact sum over minimum-image pairs."""
    positions, cell, species = random_system(n_frames=1, n_atoms=200, box=12.6, seed=3)
    r_max = 6.0
    r, g, c, rho0 = partials(positions, cell, species, ['Na', 'O'], r_max=r_max, n_bins=1500)
    q = np.array([0.7, 1.5, 3.0, 5.0, 8.0])
    s = faber_ziman_partials(r, g, rho0, q, window=window)

    n_atoms = species.size
    for row, (a, b) in enumerate(species_pairs(['Na', 'O'])):
        idx_a, idx_b = np.flatnonzero(species == a), np.flatnonzero(species == b)
        _, _, d = neighbor_pairs(positions[0], cell, r_max, centers=idx_a, others=idx_b)
        n_b_other = idx_b.size - (a == b)
        w_d = 1.0 if window is None else np.sinc(d / r_max)
        pair_sum = np.array([np.sum(np.sin(x * d) / (x * d) * w_d) for x in q])
        if window is None:  # rho0 int_0^rmax 4 pi r^2 sin(Qr)/(Qr) dr, analytically
            uniform = 4 * np.pi * rho0 * (np.sin(q * r_max) - q * r_max * np.cos(q * r_max)) / q**3
        else:  # with the window the uniform term is a fine numerical integral
            x = np.linspace(0.0, r_max, 200001)
            uniform = np.array(
                [4 * np.pi * rho0 * np.trapezoid(x**2 * np.sinc(x * k / np.pi) * np.sinc(x / r_max), x) for k in q]
            )
        reference = 1.0 + n_atoms / (idx_a.size * n_b_other) * pair_sum - uniform
        assert s[row] == pytest.approx(reference, abs=2e-3)


def test_t_tends_to_t0_at_large_r(ideal_gas, crystals):
    positions, cell, species = crystals.rock_salt()
    hot_crystal = partials(crystals.jiggle(positions, sigma=0.5, n_frames=4), cell, species, ['Na', 'O'], 6.0, 200)
    b = np.array([B_NA, B_O])
    for (r, g, c, rho0), r_far in ((ideal_gas, 4.0), (hot_crystal, 3.0)):
        out = real_space_functions(r, g, c, b, rho0)
        far = r > r_far
        t, t0 = out['T_barn_A2'][far], out['T0_barn_A2'][far]
        assert abs(t.mean() - t0.mean()) / t0.mean() < 0.02
    # ... but not at short range in the crystal, where D has its first-shell peak
    near = r < r_far
    assert np.max(np.abs(out['D_barn_A2'][near])) > 0.3 * np.max(out['T0_barn_A2'][near])


def test_neutron_scattering_lengths():
    lengths = neutron_scattering_lengths(['Li', 'B', 'O', 'P'])
    assert lengths['B'] == pytest.approx(5.30, abs=0.01)
    assert lengths['O'] == pytest.approx(5.803, abs=0.01)
    assert lengths['P'] == pytest.approx(5.13, abs=0.01)
    # periodictable follows Rauch 2003 (-1.93 fm); paper 004 quotes Sears 1992 (-1.90 fm)
    assert lengths['Li'] == pytest.approx(-1.90, abs=0.035)
    enriched = neutron_scattering_lengths(['Li', 'B', 'O'], isotopes={'B': 11, 'Li': 7})
    assert enriched['B'] == pytest.approx(6.65, abs=0.01)
    assert enriched['O'] == lengths['O']
    assert enriched['Li'] != lengths['Li']


@pytest.mark.parametrize(
    ('elements', 'isotopes', 'field'),
    [
        (['B', 'O'], {'B': 20}, 'isotopes'),
        (['B', 'O'], {'B': 12}, 'isotopes'),
        (['B', 'O'], {'Li': 7}, 'isotopes'),
        (['Xx', 'O'], None, 'elements'),
    ],
)
def test_neutron_scattering_lengths_errors(elements, isotopes, field):
    with pytest.raises(ValueError, match=field):
        neutron_scattering_lengths(elements, isotopes)


def test_xray_form_factors():
    q = np.linspace(0.0, 20.0, 41)
    f = xray_form_factors(['O', 'B', 'Li', 'P'], q)
    assert f.shape == (4, q.size)
    assert f[:, 0] == pytest.approx([8, 5, 3, 15], abs=0.01)
    assert np.all(np.diff(f, axis=1) < 0.0)
    with pytest.raises(ValueError, match='elements'):
        xray_form_factors(['Xx'], q)


def test_lorch_window():
    x = np.array([-1.0, 0.0, 1.0, 2.0, 4.0, 5.0])
    assert lorch(x, 2.0) == pytest.approx([2 / np.pi, 1.0, 2 / np.pi, 0.0, 0.0, 0.0], abs=1e-15)
    assert lorch(x, 2.0)[-2:].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match='x_max'):
        lorch(x, 0.0)
    with pytest.raises(ValueError, match='window'):
        faber_ziman_partials([0.5, 1.5], [[1.0, 1.0]], 0.1, [1.0], window='hann')


def test_reciprocal_to_real_gaussian():
    """D(r) = r exp(-r^2 / 2 s^2)  <->  i(Q) = sqrt(pi / 2) s^3 exp(-Q^2 s^2 / 2)."""
    s = 0.8
    q = np.linspace(0.0, 15.0, 6001)
    i_q = np.sqrt(np.pi / 2) * s**3 * np.exp(-(q**2) * s**2 / 2)
    r = np.linspace(0.0, 5.0, 101)
    d = reciprocal_to_real(q, i_q, r, q_max=15.0, window=None)
    assert d == pytest.approx(r * np.exp(-(r**2) / (2 * s**2)), abs=1e-6)
    with pytest.raises(ValueError, match='q_max'):
        reciprocal_to_real(q, i_q, r, q_max=16.0)


def test_reciprocal_to_real_single_distance_narrows_with_q_max():
    """i(Q) = sin(Qd)/(Qd) transforms to a peak of area 1/d at d."""
    d = 2.0
    q = np.linspace(0.0, 40.0, 8001)
    i_q = np.sinc(q * d / np.pi)
    r = np.linspace(0.005, 6.0, 1200)
    widths = []
    for q_max in (10.0, 20.0, 40.0):
        peak = reciprocal_to_real(q, i_q, r, q_max)
        assert r[np.argmax(peak)] == pytest.approx(d, abs=0.01)
        near = np.abs(r - d) < 1.5
        assert np.trapezoid(peak[near], r[near]) == pytest.approx(1 / d, rel=0.02)
        widths.append(np.ptp(r[peak > peak.max() / 2]))
    assert widths[0] > widths[1] > widths[2]
    assert widths[0] == pytest.approx(2 * widths[1], rel=0.1)


def test_broadened_real_space():
    """Round trip g -> S_ij(Q) -> i(Q) -> D(r) reproduces D(r) for large Q_max; Lorch M(Q) broadens."""
    r = np.arange(0.005, 9.0, 0.01)
    peak = lambda centre, width, height: height * np.exp(-((r - centre) ** 2) / (2 * width**2))  # noqa: E731
    g = np.vstack([1.0 + 0 * r, 1.0 + peak(1.4, 0.1, 8.0), 1.0 + peak(2.4, 0.12, 4.0) - peak(3.3, 0.3, 0.5)])
    c, b, rho0 = np.array([0.4, 0.6]), np.array([6.65, B_O]), 0.09
    exact = real_space_functions(r, g, c, b, rho0)
    sharp = broadened_real_space(r, g, c, b, rho0, q_max=70.0, window=None)
    assert sharp['D_barn_A2'] == pytest.approx(exact['D_barn_A2'], abs=1e-3 * np.abs(exact['D_barn_A2']).max())
    assert sharp['T_barn_A2'] - sharp['D_barn_A2'] == pytest.approx(exact['T0_barn_A2'])

    broad = broadened_real_space(r, g, c, b, rho0, q_max=15.0)
    bo = np.abs(r - 1.4) < 0.6
    assert r[bo][np.argmax(broad['D_barn_A2'][bo])] == pytest.approx(1.4, abs=0.02)
    assert broad['D_barn_A2'][bo].max() < 0.9 * exact['D_barn_A2'][bo].max()
    area = np.trapezoid(broad['D_barn_A2'][bo], r[bo])
    assert area == pytest.approx(np.trapezoid(exact['D_barn_A2'][bo], r[bo]), rel=0.02)


def test_interference_function():
    c, b = np.array([0.25, 0.75]), np.array([-1.9, 5.8])
    q = np.array([1.0, 2.0])
    i_q = interference_function(q, [0.0, 1.5], c, b)
    mean_b2 = (0.25 * -1.9 + 0.75 * 5.8) ** 2 / 100.0
    assert i_q == pytest.approx([-mean_b2, 0.5 * mean_b2])
    with pytest.raises(ValueError, match='concentrations'):
        interference_function(q, [1.0, 1.0], [0.5, 0.6], b)


def test_r_chi():
    x = np.linspace(0.0, 10.0, 11)
    y = np.sin(x) + 2.0
    assert r_chi(x, y, x, y) == 0.0
    assert r_chi([0, 1, 2], [1, 2, 2], [0, 1, 2], [1, 1, 2]) == pytest.approx(1 / 3)
    # a linear simulation on a coarser, longer grid is interpolated exactly
    assert r_chi(x, 3 * x + 1, [-5.0, 20.0], [-14.0, 61.0]) == pytest.approx(0.0, abs=1e-12)
    # only the overlap counts: the simulation is wrong outside [5, 10] but matches inside
    x_sim = np.linspace(5.0, 20.0, 31)
    assert r_chi(x, y, x_sim, np.sin(x_sim) + 2.0) == pytest.approx(0.0, abs=0.02)
    assert r_chi(x, y, x, y + (x < 3), x_range=(4.0, 10.0)) == 0.0
    assert r_chi(x, y, x, y + (x < 3), x_range=(0.0, 10.0)) > 0.0
    with pytest.raises(ValueError, match='overlap'):
        r_chi(x, y, x + 20.0, y)


def test_read_curve(tmp_path):
    path = tmp_path / 'dofr.dat'
    path.write_text('# r  D(r)\n\n0.0, 1.5\n0.5\t2.0   # comment\n1.0 , -3e-1, 0.01\n')
    x, y = read_curve(path)
    assert x.tolist() == [0.0, 0.5, 1.0]
    assert y.tolist() == [1.5, 2.0, -0.3]

    bad = tmp_path / 'bad.dat'
    bad.write_text('# header\n0.0 1.0\n0.5 abc\n')
    with pytest.raises(ValueError, match=r'bad\.dat, line 3'):
        read_curve(bad)
    bad.write_text('0.0 1.0\n0.5\n')
    with pytest.raises(ValueError, match='line 2'):
        read_curve(bad)
    bad.write_text('0.0 1.0\n0.5 1.0\n0.5 2.0\n')
    with pytest.raises(ValueError, match='line 3: x = 0.5 does not increase'):
        read_curve(bad)
    bad.write_text('# only\n1.0 2.0\n')
    with pytest.raises(ValueError, match='at least two'):
        read_curve(bad)
