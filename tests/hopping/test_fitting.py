"""Tests for aiida_boroglass.hopping.fitting: Arrhenius fit and the V0 / sigma_eps fit of paper 003, section V."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from aiida_boroglass.hopping.fitting import arrhenius_fit, fit_v0_sigma, reduced_activation_energy
from aiida_boroglass.hopping.percolation import K_B_EV, activation_energies


def test_arrhenius_fit_recovers_synthetic_data(read_only):
    t, = read_only(np.linspace(300.0, 560.0, 14))
    t_sigma = 3.0e4 * np.exp(-0.52 / (K_B_EV * t))
    fit = arrhenius_fit(t, t_sigma / t)
    assert fit.ea_ev == pytest.approx(0.52, rel=1e-10)
    assert fit.log_prefactor == pytest.approx(np.log(3.0e4), rel=1e-10)
    assert fit.ea_stderr_ev < 1e-8
    plain = arrhenius_fit(t, t_sigma, times_temperature=False)
    assert plain.ea_ev == pytest.approx(0.52, rel=1e-10)
    two = arrhenius_fit(t[:2], t_sigma[:2], times_temperature=False)
    assert two.ea_ev == pytest.approx(0.52) and np.isnan(two.ea_stderr_ev)


@pytest.mark.parametrize(
    't, s, message',
    [([300.0, 300.0], [1.0, 2.0], 'two distinct'), ([300.0, 400.0], [1.0, 0.0], '> 0'), ([300.0], [1.0, 2.0], 'shape')],
)
def test_arrhenius_fit_refuses_bad_input(t, s, message):
    with pytest.raises(ValueError, match=message):
        arrhenius_fit(t, s)


def synthetic_barrier(x, sigma):
    """A made-up reduced barrier: phosphate rises, borate falls with the noise."""
    return 0.5 + 0.4 * sigma if x == 0.0 else 0.8 - 0.3 * sigma


def test_fit_v0_sigma_inverts_the_model():
    v0, sigma = 0.7, 0.35
    ea_p, ea_b = v0 * synthetic_barrier(0.0, sigma), v0 * synthetic_barrier(1.0, sigma)
    fit_v0, fit_sigma = fit_v0_sigma(ea_p, ea_b, synthetic_barrier, xtol=1e-10)
    assert fit_sigma == pytest.approx(sigma, abs=1e-8)
    assert fit_v0 == pytest.approx(v0, rel=1e-8)
    with pytest.raises(ValueError, match='outside the range'):
        fit_v0_sigma(0.3, 0.9, synthetic_barrier)
    with pytest.raises(ValueError, match='ea_phosphate_ev'):
        fit_v0_sigma(0.0, 0.9, synthetic_barrier)


def test_reduced_activation_energy_is_delta_c_over_v0():
    reduced = reduced_activation_energy(0.5, 0.35, 0.3, size=10, n_landscapes=2, seed=3)
    mean, _, _ = activation_energies(10, 0.5, 0.35, 0.8, 0.3, 2, seed=3)
    assert reduced == pytest.approx(mean / 0.8, rel=1e-12)


def test_fit_v0_sigma_on_landscapes_recovers_the_parameters():
    barrier = functools.partial(reduced_activation_energy, y=0.35, size=10, n_landscapes=2, seed=1)

    def reduced(x, sigma):
        return barrier(x, sigma_eps=sigma)

    v0, sigma = 0.76, 0.3
    ea_p, ea_b = v0 * reduced(0.0, sigma), v0 * reduced(1.0, sigma)
    fit_v0, fit_sigma = fit_v0_sigma(ea_p, ea_b, reduced, sigma_bounds=(0.1, 0.6), xtol=1e-6)
    assert fit_sigma == pytest.approx(sigma, abs=1e-4)
    assert fit_v0 == pytest.approx(v0, rel=1e-3)
