"""Ion transport at one temperature: pooled MSD, D with its window and error, field-driven drift.

Pure numpy; no AiiDA import. Builds on :mod:`aiida_boroglass.analysis.diffusion`:

- :func:`species_transport` pools the ions of one species over independent replicas,
  finds the diffusive window of the pooled MSD and takes D from it (paper 002 eqs. 6-7);
  its standard error comes from the spread of the per-ion slopes in that window (the
  mean of per-ion slopes equals the slope of the mean MSD, so this is the bootstrap
  over ions of the issue, in closed form);
- :func:`field_mobility` turns the drift of the ions along an applied field (paper 000,
  section 2.3) into a mobility and, with the ion density, a conductivity
  ``sigma = n |q| mu``.

Units: positions Å, times ps, D cm^2/s, field V/Å, mobility cm^2/(V s), sigma S/cm.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from .diffusion import (
    A2_PER_PS_IN_CM2_PER_S,
    ELEMENTARY_CHARGE_C,
    _as_trajectory,
    _check_dt,
    diffusive_window,
    msd,
    non_gaussian,
)

#: 1 Å/ps = 1e4 cm/s, 1 V/Å = 1e8 V/cm: mobility (cm^2/(V s)) = v (Å/ps) / E (V/Å) * 1e-4.
MOBILITY_CM2_VS_PER_A2_PS_V = 1.0e-4


class SpeciesTransport(NamedTuple):
    """MSD and D of one species at one temperature, pooled over replicas.

    ``window`` is ``(start, stop)`` into ``lags_ps`` or None when the MSD never becomes
    diffusive; then ``d_cm2_s`` and ``d_stderr_cm2_s`` are NaN and only
    ``apparent_d_cm2_s`` (MSD slope / 6 over the second half of the usable lags, for
    orientation only: sub-diffusive motion makes it depend on the run length) is given.
    """

    lags_ps: np.ndarray
    msd_a2: np.ndarray
    non_gaussian: np.ndarray
    window: tuple[int, int] | None
    d_cm2_s: float
    d_stderr_cm2_s: float
    apparent_d_cm2_s: float
    n_ions: int


def _pooled(trajectories) -> list[np.ndarray]:
    """The replicas as checked arrays cut to the shortest one, shape (n_frames, n_ions_r, 3) each."""
    arrays = [_as_trajectory(t, f'trajectories[{k}]') for k, t in enumerate(trajectories)]
    if not arrays:
        raise ValueError('trajectories must hold at least one trajectory')
    n_frames = min(a.shape[0] for a in arrays)
    if n_frames < 3:
        raise ValueError(f'trajectories need at least 3 frames each, the shortest has {n_frames}')
    return [a[:n_frames] for a in arrays]


def _ion_slopes(lags: np.ndarray, per_atom: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Least-squares slope (Å^2/ps) of every column of ``per_atom`` over lags ``start:stop``."""
    t = lags[start:stop]
    return np.polyfit(t, per_atom[start:stop], 1)[0]


def species_transport(trajectories: Sequence, dt_ps: float, slope_tol: float = 0.15, min_points: int = 5,
                      max_fraction: float = 0.5) -> SpeciesTransport:
    """MSD, non-Gaussian parameter and D of one ion species from one or more replicas.

    Parameters
    ----------
    trajectories : sequence of array_like, each shape (n_frames_r, n_ions_r, 3)
        Unwrapped positions (Å) of the ions of one species, one array per independent
        replica, frames every ``dt_ps``; longer replicas are cut to the shortest.
    dt_ps : float
        Time between frames, ps.
    slope_tol, min_points, max_fraction
        Passed to :func:`~aiida_boroglass.analysis.diffusion.diffusive_window`.

    Returns
    -------
    SpeciesTransport
        ``lags_ps`` shape (n_frames,), ``msd_a2`` and ``non_gaussian`` shape (n_frames,)
        (MSD averaged over all ions and time origins; alpha_2 averaged over replicas
        weighted by their ion counts, NaN at lag 0 and beyond half the run), the window, D and its standard error over ions
        (cm^2/s), the apparent D of the second half of the usable lags, the ion count.

    Raises
    ------
    ValueError
        No or malformed trajectories, fewer than 3 frames, a non-positive ``dt_ps``.
    """
    arrays = _pooled(trajectories)
    dt = _check_dt(dt_ps)
    per_replica = [msd(a, dt, per_atom=True) for a in arrays]
    lags = per_replica[0][0]
    per_atom = np.concatenate([curve for _, curve in per_replica], axis=1)
    weights = np.array([a.shape[1] for a in arrays], dtype=float)
    alpha = np.full(lags.shape, np.nan)  # lag 0 undefined, lags beyond half the run too few origins
    half = np.average([non_gaussian(a, dt)[1] for a in arrays], axis=0, weights=weights)
    alpha[1:half.size + 1] = half
    mean = per_atom.mean(axis=1)
    window = diffusive_window(lags, mean, slope_tol=slope_tol, min_points=min_points, max_fraction=max_fraction)
    usable = max(int(np.searchsorted(lags, max_fraction * lags[-1], side='right')), 4)
    apparent = float(np.polyfit(lags[usable // 2:usable], mean[usable // 2:usable], 1)[0])
    d, stderr = np.nan, np.nan
    if window is not None:
        slopes = _ion_slopes(lags, per_atom, *window)
        d = float(slopes.mean() / 6.0 * A2_PER_PS_IN_CM2_PER_S)
        stderr = float(slopes.std(ddof=1) / np.sqrt(slopes.size) / 6.0 * A2_PER_PS_IN_CM2_PER_S) if slopes.size > 1 else np.nan
    return SpeciesTransport(lags, mean, alpha, window, d, stderr, apparent / 6.0 * A2_PER_PS_IN_CM2_PER_S,
                            int(per_atom.shape[1]))


class FieldMobility(NamedTuple):
    """Drift along an applied field: velocity (Å/ps), mobility (cm^2/(V s)), both with standard errors."""

    drift_a_ps: float
    drift_stderr_a_ps: float
    mobility_cm2_vs: float
    mobility_stderr_cm2_vs: float


def field_mobility(unwrapped_ions, dt_ps: float, field_v_a, charge: float = 1.0) -> FieldMobility:
    """Drift velocity and mobility of ions in a uniform field.

    Each ion's displacement along the field direction is fitted by a line in time; the
    drift is the mean slope, its error the spread over ions. The mobility is
    ``mu = v / |E|`` with the sign of the charge taken out (a cation drifting along the
    field has mu > 0).

    Parameters
    ----------
    unwrapped_ions : array_like, shape (n_frames, n_ions, 3)
        Unwrapped positions of the ions, Å, frames every ``dt_ps`` (in the frame of zero
        total momentum, as LAMMPS keeps it with ``fix efield`` on a neutral cell).
    dt_ps : float
        Time between frames, ps.
    field_v_a : array_like, shape (3,)
        The field, V/Å, non-zero.
    charge : float
        Charge number of the ions (sign used), non-zero.

    Returns
    -------
    FieldMobility
        Drift along the field in Å/ps and the mobility in cm^2/(V s), with standard errors.

    Raises
    ------
    ValueError
        Bad trajectory, zero field or charge.
    """
    r = _as_trajectory(unwrapped_ions, 'unwrapped_ions')
    dt = _check_dt(dt_ps)
    field = np.asarray(field_v_a, dtype=float)
    strength = float(np.linalg.norm(field)) if field.shape == (3,) else 0.0
    if not strength > 0.0 or not np.isfinite(strength):
        raise ValueError(f'field_v_a must be a finite non-zero 3-vector (V/Å), got {field_v_a!r}')
    if not charge or not np.isfinite(charge):
        raise ValueError(f'charge must be a finite non-zero charge number, got {charge!r}')
    along = (r - r[0]) @ (field / strength)  # (n_frames, n_ions), Å
    times = dt * np.arange(r.shape[0])
    slopes = np.polyfit(times, along, 1)[0] * np.sign(charge)
    drift = float(slopes.mean())
    stderr = float(slopes.std(ddof=1) / np.sqrt(slopes.size)) if slopes.size > 1 else np.nan
    scale = MOBILITY_CM2_VS_PER_A2_PS_V / strength
    return FieldMobility(drift, stderr, drift * scale, stderr * scale)


def field_conductivity(mobility_cm2_vs, number_density_cm3, charge: float = 1.0):
    """``sigma = n |Z| e mu`` in S/cm from a mobility (cm^2/(V s)) and an ion density (cm^-3)."""
    return np.asarray(number_density_cm3) * abs(charge) * ELEMENTARY_CHARGE_C * np.asarray(mobility_cm2_vs)
