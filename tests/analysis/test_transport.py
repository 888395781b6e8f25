"""Tests for aiida_boroglass.analysis.transport: pooled D with its error over ions, field mobility."""
from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.analysis.transport import field_conductivity, field_mobility, species_transport

DT_PS = 0.1


def walk(n_frames, n_ions, d_a2_ps, seed, drift_a_ps=(0.0, 0.0, 0.0)):
    """Gaussian walk, each component with step variance 2 D dt (MSD = 6 D t), plus a constant drift."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(scale=np.sqrt(2.0 * d_a2_ps * DT_PS), size=(n_frames - 1, n_ions, 3))
    steps += np.asarray(drift_a_ps) * DT_PS
    start = rng.uniform(0.0, 20.0, size=(1, n_ions, 3))
    return np.concatenate([start, start + np.cumsum(steps, axis=0)])


def caged(n_frames, n_ions, seed, width_a=0.3):
    """Ions rattling around fixed sites: MSD saturates at 6 width^2."""
    rng = np.random.default_rng(seed)
    sites = rng.uniform(0.0, 20.0, size=(1, n_ions, 3))
    return sites + rng.normal(scale=width_a, size=(n_frames, n_ions, 3))


def test_pooled_replicas_recover_d_within_the_error_over_ions():
    d_true = 0.2  # Å^2/ps = 2e-5 cm^2/s
    replicas = [walk(600, 60, d_true, seed) for seed in (1, 2, 3)]
    result = species_transport(replicas, DT_PS)
    assert result.n_ions == 180 and result.window is not None
    assert result.msd_a2.shape == result.lags_ps.shape == result.non_gaussian.shape == (600,)
    assert abs(result.d_cm2_s - d_true * 1e-4 / 6 * 6) < 3 * result.d_stderr_cm2_s
    assert result.d_stderr_cm2_s < 0.1 * result.d_cm2_s
    # a Gaussian walk has a vanishing non-Gaussian parameter
    assert np.max(np.abs(result.non_gaussian[1:100])) < 0.1


def test_error_over_ions_matches_the_spread_of_independent_runs():
    """The standard error over ions predicts how much D scatters between independent runs."""
    estimates = [species_transport([walk(300, 40, 0.3, seed)], DT_PS) for seed in range(12)]
    values = np.array([e.d_cm2_s for e in estimates])
    predicted = np.mean([e.d_stderr_cm2_s for e in estimates])
    assert 0.5 < values.std(ddof=1) / predicted < 2.0


def test_pooling_equals_the_ion_weighted_mean_of_replica_msds():
    a, b = walk(200, 10, 0.5, 7), walk(250, 30, 0.1, 8)
    pooled = species_transport([a, b], DT_PS)
    one, two = species_transport([a], DT_PS), species_transport([b[:200]], DT_PS)
    np.testing.assert_allclose(pooled.msd_a2, (10 * one.msd_a2 + 30 * two.msd_a2) / 40, rtol=1e-12)
    assert pooled.lags_ps.shape == (200,)  # cut to the shortest replica


def test_caged_and_ballistic_motion_give_no_d_but_an_apparent_one():
    cage = species_transport([caged(400, 50, 3)], DT_PS)
    assert cage.window is None and np.isnan(cage.d_cm2_s) and np.isnan(cage.d_stderr_cm2_s)
    assert abs(cage.apparent_d_cm2_s) < 1e-7  # flat plateau
    velocities = np.random.default_rng(4).normal(size=(1, 30, 3))
    ballistic = velocities * (DT_PS * np.arange(300))[:, None, None]
    result = species_transport([ballistic], DT_PS)
    assert result.window is None and np.isnan(result.d_cm2_s)


def test_drift_along_the_field_gives_the_mobility_by_hand():
    drift = 0.05  # Å/ps along z
    ions = walk(500, 200, 0.2, 11, drift_a_ps=(0.0, 0.0, drift))
    result = field_mobility(ions, DT_PS, [0.0, 0.0, 0.1])
    assert abs(result.drift_a_ps - drift) < 3 * result.drift_stderr_a_ps
    # mu = v / E: 0.05 Å/ps = 500 cm/s over 0.1 V/Å = 1e7 V/cm -> 5e-5 cm^2/(V s)
    assert result.mobility_cm2_vs == pytest.approx(result.drift_a_ps / 0.1 * 1e-4)
    assert abs(result.mobility_cm2_vs - 5e-5) < 3 * result.mobility_stderr_cm2_vs
    # the field direction is what counts, the drift across it is ignored
    tilted = field_mobility(ions, DT_PS, [0.0, 0.1, 0.1])
    assert abs(tilted.drift_a_ps - drift / np.sqrt(2)) < 3 * tilted.drift_stderr_a_ps


def test_anions_drifting_against_the_field_have_positive_mobility():
    ions = walk(300, 100, 0.1, 12, drift_a_ps=(-0.03, 0.0, 0.0))
    result = field_mobility(ions, DT_PS, [0.2, 0.0, 0.0], charge=-2)
    assert result.drift_a_ps > 0 and result.mobility_cm2_vs > 0


def test_field_conductivity_by_hand():
    # 1e22 ions/cm^3 of charge 1 with mu = 1e-5 cm^2/(V s): 1e22 * 1.602176634e-19 * 1e-5 S/cm
    assert field_conductivity(1e-5, 1e22) == pytest.approx(1.602176634e-2)
    assert field_conductivity(1e-5, 1e22, charge=-2) == pytest.approx(2 * 1.602176634e-2)


@pytest.mark.parametrize(('kwargs', 'fragment'), [
    ({'field_v_a': [0.0, 0.0, 0.0]}, 'field_v_a must be a finite non-zero 3-vector'),
    ({'field_v_a': [0.0, 1.0]}, 'field_v_a must be a finite non-zero 3-vector'),
    ({'field_v_a': [0.0, 0.0, 1.0], 'charge': 0}, 'charge must be a finite non-zero'),
])
def test_field_mobility_refuses_bad_input(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        field_mobility(walk(20, 3, 0.1, 0), DT_PS, **kwargs)


def test_species_transport_refuses_bad_input():
    with pytest.raises(ValueError, match='at least one trajectory'):
        species_transport([], DT_PS)
    with pytest.raises(ValueError, match='at least 3 frames'):
        species_transport([walk(2, 3, 0.1, 0)], DT_PS)
    with pytest.raises(ValueError, match='dt_ps'):
        species_transport([walk(20, 3, 0.1, 0)], 0.0)
