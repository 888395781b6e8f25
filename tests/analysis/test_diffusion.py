"""Tests for aiida_boroglass.analysis.diffusion: MSD, window, D, Arrhenius, Nernst-Einstein."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.analysis.diffusion import (
    K_B_EV,
    arrhenius_diffusion,
    block_uncertainty,
    diffusion_coefficient,
    diffusive_window,
    extrapolate,
    ion_number_density_cm3,
    local_slope,
    msd,
    nernst_einstein,
    non_gaussian,
    unwrap,
)
from aiida_boroglass.hopping.fitting import arrhenius_fit

D_TRUE_A2_PS = 0.5  # Å^2/ps
DT_PS = 0.1


def random_walk(n_frames=2000, n_atoms=200, d_a2_ps=D_TRUE_A2_PS, dt_ps=DT_PS, seed=0):
    """3D Gaussian walk: each component steps with variance 2 D dt, so MSD = 6 D t."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(scale=np.sqrt(2.0 * d_a2_ps * dt_ps), size=(n_frames - 1, n_atoms, 3))
    start = rng.uniform(0.0, 10.0, size=(1, n_atoms, 3))
    return np.concatenate([start, start + np.cumsum(steps, axis=0)])


@pytest.fixture(scope='module')
def walk():
    return random_walk()


def naive_msd(r):
    n = r.shape[0]
    out = np.zeros((n, r.shape[1]))
    for m in range(1, n):
        acc = np.zeros(r.shape[1])
        for t0 in range(n - m):
            acc += np.sum((r[t0 + m] - r[t0]) ** 2, axis=1)
        out[m] = acc / (n - m)
    return out


def test_fft_msd_equals_double_loop():
    r = np.random.default_rng(1).normal(size=(37, 4, 3)) * 3.0 + 100.0
    lags, per = msd(r, 0.5, per_atom=True)
    expected = naive_msd(r)
    np.testing.assert_allclose(per, expected, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(lags, 0.5 * np.arange(37))
    lags2, mean = msd(r, 0.5, max_lag=10)
    assert lags2.shape == (11,)
    np.testing.assert_allclose(mean, expected[:11].mean(axis=1), rtol=1e-10, atol=1e-9)


def test_msd_rejects_bad_input():
    with pytest.raises(ValueError, match='unwrapped'):
        msd(np.zeros((5, 3)), 1.0)
    with pytest.raises(ValueError, match='dt_ps'):
        msd(np.zeros((5, 2, 3)), 0.0)
    with pytest.raises(ValueError, match='max_lag'):
        msd(np.zeros((5, 2, 3)), 1.0, max_lag=5)


def test_random_walk_recovers_d(walk):
    lags, curve = msd(walk, DT_PS)
    np.testing.assert_allclose(local_slope(lags, curve)[1:100], 1.0, atol=0.05)
    window = diffusive_window(lags, curve)
    assert window is not None
    start, stop = window
    assert stop - start >= 5 and lags[stop - 1] <= 0.5 * lags[-1]
    d = diffusion_coefficient(lags, curve, window)
    d_true = D_TRUE_A2_PS * 1e-4  # 1 Å^2/ps = 1e-4 cm^2/s
    assert d == pytest.approx(d_true, rel=0.1)
    est = block_uncertainty(walk, DT_PS, n_blocks=5)
    assert est.n_blocks == 5
    assert 0.0 < est.d_stderr_cm2_s < 0.1 * est.d_cm2_s
    assert abs(est.d_cm2_s - d_true) < 3.0 * est.d_stderr_cm2_s


def test_block_uncertainty_accepts_replicas_and_fixed_window():
    reps = [random_walk(400, 50, seed=s) for s in (2, 3)]
    est = block_uncertainty(reps, DT_PS, window=(1, 40), n_blocks=2)
    assert est.n_blocks == 4
    assert abs(est.d_cm2_s - D_TRUE_A2_PS * 1e-4) < 4.0 * est.d_stderr_cm2_s
    with pytest.raises(ValueError, match='window'):
        block_uncertainty(reps, DT_PS, window=(1, 400), n_blocks=2)


def test_ballistic_and_caged_have_no_window():
    rng = np.random.default_rng(4)
    t = DT_PS * np.arange(1000)
    v = rng.normal(size=(1, 50, 3))
    ballistic = t[:, None, None] * v
    lags, curve = msd(ballistic, DT_PS)
    np.testing.assert_allclose(local_slope(lags, curve)[1:], 2.0, atol=1e-6)
    assert diffusive_window(lags, curve) is None
    sites = rng.uniform(0.0, 20.0, size=(1, 50, 3))
    caged = sites + rng.normal(scale=0.3, size=(1000, 50, 3))  # bounded thermal noise in wells
    lags, curve = msd(caged, DT_PS)
    assert diffusive_window(lags, curve) is None
    # an Ornstein-Uhlenbeck particle in a harmonic well: diffusive at short times only
    # when the well is soft; with a stiff well it is caged over the whole run
    x = np.zeros((1000, 50, 3))
    for k in range(1, 1000):
        x[k] = 0.8 * x[k - 1] + rng.normal(scale=0.2, size=(50, 3))
    lags, curve = msd(x, DT_PS)
    assert diffusive_window(lags, curve) is None


def test_diffusive_window_takes_latest_range():
    # slope 1, then a plateau, then slope 1 again: the later range is the diffusive one
    t = np.arange(0, 400, dtype=float)
    m = np.where(t < 40, t, 40.0 * np.maximum(t / 120.0, 1.0))  # MSD ~ t, plateau, MSD ~ t
    m[0] = 0.0
    window = diffusive_window(t, m + 1e-12, slope_tol=0.1)
    assert window is not None and t[window[0]] > 120


def test_non_gaussian_zero_for_gaussian_walk(walk):
    lags, alpha = non_gaussian(walk[:600], DT_PS, max_lag=50)
    assert lags.shape == alpha.shape == (50,)
    assert np.all(np.abs(alpha) < 0.05)
    # a hopping-like mixture (half the atoms still) is non-Gaussian
    mixed = walk[:600].copy()
    mixed[:, :100] = mixed[:1, :100]
    _, alpha_mixed = non_gaussian(mixed, DT_PS, max_lag=50)
    assert np.all(alpha_mixed > 0.5)


@pytest.mark.parametrize(
    'cell',
    [
        np.diag([7.0, 8.0, 9.0]),
        np.array([[7.0, 0.0, 0.0], [2.5, 8.0, 0.0], [-1.5, 2.0, 9.0]]),
    ],
)
def test_unwrap_recovers_walk(cell):
    r = random_walk(300, 20, d_a2_ps=2.0, seed=5)
    frac = r @ np.linalg.inv(cell)
    wrapped = (frac - np.floor(frac)) @ cell
    assert not np.allclose(wrapped, r)
    out = unwrap(wrapped, cell)
    np.testing.assert_allclose(out - out[0], r - r[0], atol=1e-9)
    cells = np.broadcast_to(cell, (300, 3, 3))
    np.testing.assert_allclose(unwrap(wrapped, cells) - wrapped[0], r - r[0], atol=1e-9)
    with pytest.raises(ValueError, match='cells'):
        unwrap(wrapped, np.eye(2))


def test_arrhenius_recovers_ea_and_extrapolates():
    rng = np.random.default_rng(6)
    ea, d0 = 0.45, 3e-3
    temps = np.array([700.0, 750.0, 800.0, 850.0, 900.0, 950.0, 1000.0])
    d_true = d0 * np.exp(-ea / (K_B_EV * temps))
    rel = 0.05
    d_obs = d_true * np.exp(rng.normal(scale=rel, size=temps.size))
    fit = arrhenius_diffusion(temps, d_obs, d_err=rel * d_obs)
    assert abs(fit.ea_ev - ea) < 3.0 * fit.ea_stderr_ev
    assert fit.ea_stderr_ev < 0.05
    assert abs(np.log(fit.d0_cm2_s / d0)) < 3.0 * fit.ln_d0_stderr
    d300, lo, hi = extrapolate(fit, 300.0)
    truth = d0 * np.exp(-ea / (K_B_EV * 300.0))
    assert lo < truth < hi and lo < d300 < hi
    # unweighted fit gives the same E_a as the existing hopping Arrhenius fit
    plain = arrhenius_diffusion(temps, d_obs)
    assert plain.ea_ev == pytest.approx(arrhenius_fit(temps, d_obs, times_temperature=False).ea_ev, rel=1e-10)
    d300u, lou, hiu = extrapolate(plain, 300.0)
    assert lou < truth < hiu
    # exact data: exact parameters
    exact = arrhenius_diffusion(temps, d_true, d_err=0.01 * d_true)
    assert exact.ea_ev == pytest.approx(ea, rel=1e-10)
    assert exact.d0_cm2_s == pytest.approx(d0, rel=1e-10)
    with pytest.raises(ValueError, match='d_cm2_s'):
        arrhenius_diffusion(temps, -d_true)


def test_nernst_einstein_by_hand():
    # 100 Li+ in a (20 Å)^3 cell: V = 8000 Å^3 = 8000e-24 cm^3 = 8e-21 cm^3
    n = ion_number_density_cm3(100, 20.0**3)
    assert n == pytest.approx(100 / 8e-21)  # 1.25e22 cm^-3
    # sigma = n e^2 D / (k_B T)
    #   e^2     = (1.602176634e-19 C)^2        = 2.566969932e-38 C^2
    #   k_B T   = 1.380649e-23 J/K * 600 K     = 8.283894e-21 J
    #   n e^2 D = 1.25e22 * 2.566969932e-38 * 1e-6 = 3.208712415e-22 C^2 / (cm s)
    #   sigma   = 3.208712415e-22 / 8.283894e-21 = 3.87343e-2 S/cm
    sigma = nernst_einstein(1e-6, n, 600.0)
    assert sigma == pytest.approx(3.87343e-2, rel=1e-5)
    assert nernst_einstein(1e-6, n, 600.0, charge=2, haven_ratio=0.5) == pytest.approx(8 * 3.87343e-2, rel=1e-5)
    with pytest.raises(ValueError, match='haven_ratio'):
        nernst_einstein(1e-6, n, 600.0, haven_ratio=0.0)
    with pytest.raises(ValueError, match='volume_a3'):
        ion_number_density_cm3(100, 0.0)


def test_noisy_walk_gets_a_wide_window():
    """Few atoms: the long-lag MSD is noisy, yet the slope over a factor 1.5 in time finds a wide diffusive range."""
    lags, curve = msd(random_walk(1000, 20, seed=8), DT_PS)
    start, stop = diffusive_window(lags, curve)
    assert stop - start > 200  # of the 500 lags up to half the run
    assert diffusion_coefficient(lags, curve, (start, stop)) == pytest.approx(D_TRUE_A2_PS * 1e-4, rel=0.25)


def test_local_slope_is_exact_on_power_laws_and_refuses_a_bad_width():
    t = np.linspace(0.0, 50.0, 501)
    for exponent in (0.3, 1.0, 2.0):
        np.testing.assert_allclose(local_slope(t, t**exponent, log_width=0.7)[1:], exponent, rtol=1e-10)
    with pytest.raises(ValueError, match='log_width'):
        local_slope(t, t, log_width=0.0)
