"""Self-diffusion from MD trajectories: MSD, diffusive window, D, Arrhenius, Nernst-Einstein.

Pure numpy/scipy; no AiiDA import. Follows paper 002 (shared/papers/002), section 2.6:

- eq. 6: ``MSD(t) = (1/N) sum_i |r_i(t) - r_i(0)|^2`` over the N ions of one species,
  here also averaged over all time origins (computed with FFTs, Wiener-Khinchin);
- eq. 7: ``D = (1/6) lim_{t->oo} d MSD / dt``, fitted in the diffusive window (the
  range where ``d ln MSD / d ln t`` is 1);
- eq. 8: ``D = D0 exp(-E_a / k_B T)``, a weighted least-squares fit of ``ln D`` against
  ``1 / k_B T``, extrapolated to low T (paper 002 extrapolates 700-800 K to 300 K);
- eq. 9: Nernst-Einstein ``sigma = N (Z e)^2 D / (V k_B T)``; here with an optional
  Haven ratio H_R (``sigma = N (Z e)^2 D / (H_R V k_B T)``; the paper's form is H_R = 1).

Units: positions Å, times ps, temperatures K, D cm^2/s (1 Å^2/ps = 1e-4 cm^2/s),
energies eV, conductivity S/cm.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from scipy import fft as sp_fft
from scipy import stats

from aiida_boroglass.hopping.percolation import K_B_EV

from .neighbors import as_cell

__all__ = (
    'A2_PER_PS_IN_CM2_PER_S',
    'ArrheniusDiffusionFit',
    'BlockEstimate',
    'ELEMENTARY_CHARGE_C',
    'K_B_EV',
    'K_B_J_PER_K',
    'arrhenius_diffusion',
    'block_uncertainty',
    'diffusion_coefficient',
    'diffusive_window',
    'extrapolate',
    'ion_number_density_cm3',
    'local_slope',
    'msd',
    'nernst_einstein',
    'non_gaussian',
    'unwrap',
)

A2_PER_PS_IN_CM2_PER_S = 1e-4
"""1 Å^2/ps = 1e-16 cm^2 / 1e-12 s = 1e-4 cm^2/s."""
ELEMENTARY_CHARGE_C = 1.602176634e-19
"""Elementary charge in C (exact, SI 2019)."""
K_B_J_PER_K = 1.380649e-23
"""Boltzmann constant in J/K (exact, SI 2019)."""
CM3_PER_A3 = 1e-24


# ----------------------------------------------------------------------------- validation


def _as_trajectory(unwrapped, name: str = 'unwrapped') -> np.ndarray:
    """Validate a trajectory ``(n_frames, n_atoms, 3)`` in Å and return it as float array."""
    arr = np.asarray(unwrapped, dtype=float)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f'{name} must have shape (n_frames, n_atoms, 3) in Å, got shape {arr.shape}')
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f'{name} needs at least 2 frames and 1 atom, got shape {arr.shape}')
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'{name} must contain only finite positions (Å)')
    return arr


def _check_dt(dt_ps: float) -> float:
    dt = float(dt_ps)
    if not (np.isfinite(dt) and dt > 0.0):
        raise ValueError(f'dt_ps must be a finite time step > 0 ps, got {dt_ps!r}')
    return dt


def _check_max_lag(max_lag, n_frames: int) -> int:
    if max_lag is None:
        return n_frames - 1
    if int(max_lag) != max_lag or not 1 <= max_lag <= n_frames - 1:
        raise ValueError(f'max_lag must be an integer in [1, {n_frames - 1}] (frames), got {max_lag!r}')
    return int(max_lag)


def _check_curve(lags, msd_a2) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(lags, dtype=float)
    m = np.asarray(msd_a2, dtype=float)
    if t.ndim != 1 or m.shape != t.shape:
        raise ValueError(f'lags and msd must be 1-d with one shape, got {t.shape} and {m.shape}')
    if t.size < 2 or np.any(np.diff(t) <= 0.0) or t[0] < 0.0:
        raise ValueError('lags must be >= 0 ps and strictly increasing, with at least two values')
    if not np.all(np.isfinite(m)):
        raise ValueError('msd must contain only finite values (Å^2)')
    return t, m


# ----------------------------------------------------------------------------- MSD


def msd(unwrapped, dt_ps: float, max_lag: int | None = None, per_atom: bool = False):
    """Mean-square displacement averaged over all time origins (FFT algorithm).

    Uses ``MSD(m) = S1(m) - 2 S2(m)`` with ``S2`` the position autocorrelation computed
    by zero-padded FFTs (Wiener-Khinchin) and ``S1`` a running sum of ``|r|^2``
    (Kneller et al., Comput. Phys. Commun. 91, 191 (1995)); O(n_frames log n_frames)
    per atom, exact (the same numbers as a double loop over origins). Atoms are done in
    cache-sized chunks shared over the available cores (memory beyond the input and the
    result stays a few MB), and the power spectra of the three components are summed
    before one inverse transform.

    Parameters
    ----------
    unwrapped : array_like, shape (n_frames, n_atoms, 3)
        Unwrapped positions in Å, frames equally spaced in time.
    dt_ps : float
        Time between frames in ps, > 0.
    max_lag : int, optional
        Largest lag in frames, 1 <= max_lag <= n_frames - 1 (default n_frames - 1).
    per_atom : bool
        Return the MSD of every atom instead of the average over atoms.

    Returns
    -------
    lags_ps : numpy.ndarray, shape (max_lag + 1,)
        Lags ``m dt_ps`` in ps, starting at 0.
    msd_a2 : numpy.ndarray, shape (max_lag + 1,) or (max_lag + 1, n_atoms)
        MSD in Å^2 (eq. 6 of paper 002 averaged over time origins); per atom if
        ``per_atom``.

    Raises
    ------
    ValueError
        Bad shape or non-finite ``unwrapped``, ``dt_ps`` <= 0 or ``max_lag`` out of range.
    """
    r = _as_trajectory(unwrapped)
    dt = _check_dt(dt_ps)
    n, n_atoms, _ = r.shape
    max_lag = _check_max_lag(max_lag, n)
    n_lags = max_lag + 1
    counts = (n - np.arange(n_lags)).astype(float)
    n_fft = sp_fft.next_fast_len(2 * n - 1, real=True)  # >= 2n - 1: no circular wrap-around
    # Atoms in chunks of about _MSD_CHUNK_BYTES of padded signal (cache-sized, bounded memory),
    # the chunks shared out over threads (the FFTs and numpy kernels release the GIL).
    chunk = int(max(1, min(n_atoms, _MSD_CHUNK_BYTES // (3 * 8 * n_fft))))
    starts = list(range(0, n_atoms, chunk))
    per = np.empty((n_lags, n_atoms)) if per_atom else None
    threads = max(1, min(_cpu_count(), len(starts)))

    def work(first: int):
        buf = np.zeros((3 * chunk, n_fft))
        total = np.zeros(n_lags)
        for a0 in starts[first::threads]:
            part = _msd_chunk(r[:, a0:a0 + chunk, :], buf, n_lags, counts)
            if per_atom:
                per[:, a0:a0 + part.shape[0]] = part.T
            else:
                total += part.sum(axis=0)
        return total

    if threads == 1:
        totals = [work(0)]
    else:
        with ThreadPoolExecutor(threads) as pool:
            totals = list(pool.map(work, range(threads)))
    lags = dt * np.arange(n_lags)
    if per_atom:
        return lags, per
    return lags, np.sum(totals, axis=0) / n_atoms


#: Bytes of padded signal per chunk of atoms in :func:`msd` (fits in a core's cache).
_MSD_CHUNK_BYTES = 1 << 20


def _cpu_count() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)


def _msd_chunk(x: np.ndarray, buf: np.ndarray, n_lags: int, counts: np.ndarray) -> np.ndarray:
    """Time-origin averaged MSD of a chunk of atoms, shape (n_atoms_chunk, n_lags).

    ``x`` is (n_frames, c, 3); ``buf`` a zeroed (>= 3c, n_fft) work array whose columns
    from n_frames on stay zero (the padding). ``MSD(m) = S1(m) - 2 S2(m)`` per atom, with
    the three components' power spectra summed before one inverse transform.
    """
    n, c, _ = x.shape
    b = buf[: 3 * c]
    sig = b[:, :n]
    sig[...] = x.reshape(n, 3 * c).T
    sig -= sig.mean(axis=1, keepdims=True)  # shift-invariant; improves the FFT round-off
    d = (sig * sig).reshape(c, 3, n).sum(axis=1)  # |r(t)|^2, (c, n)
    spec = sp_fft.rfft(b, axis=1)
    power = (spec.real * spec.real + spec.imag * spec.imag).reshape(c, 3, -1).sum(axis=1)
    acf = sp_fft.irfft(power, n=b.shape[1], axis=1)[:, :n_lags]  # sum_t r(t) . r(t+m)
    # S1(m) (n - m) = 2 sum_t |r|^2 - sum_{t<m} |r(t)|^2 - sum_{t<m} |r(n-1-t)|^2
    out = np.empty((c, n_lags))
    out[:, 0] = 0.0
    if n_lags > 1:
        out[:, 1:] = 2.0 * d.sum(axis=1, keepdims=True)
        out[:, 1:] -= np.cumsum(d[:, : n_lags - 1], axis=1)
        out[:, 1:] -= np.cumsum(d[:, ::-1][:, : n_lags - 1], axis=1)
        out[:, 1:] -= 2.0 * acf[:, 1:]
        out[:, 1:] /= counts[1:]
    return np.clip(out, 0.0, None, out=out)


def non_gaussian(unwrapped, dt_ps: float, max_lag: int | None = None):
    """Non-Gaussian parameter ``alpha_2(t) = 3 <r^4> / (5 <r^2>^2) - 1``.

    Averages over all time origins and atoms, vectorised over both (a loop over lags
    only): O(max_lag n_frames n_atoms). Zero for Gaussian (free or harmonic) motion;
    positive for hopping (dynamic heterogeneity).

    Parameters
    ----------
    unwrapped : array_like, shape (n_frames, n_atoms, 3)
        Unwrapped positions in Å.
    dt_ps : float
        Time between frames in ps, > 0.
    max_lag : int, optional
        Largest lag in frames (default n_frames // 2, at least 1).

    Returns
    -------
    lags_ps : numpy.ndarray, shape (max_lag,)
        Lags in ps, from ``dt_ps`` (lag 0 is undefined).
    alpha2 : numpy.ndarray, shape (max_lag,)
        alpha_2, dimensionless (nan where ``<r^2>`` is 0).

    Raises
    ------
    ValueError
        Bad ``unwrapped``, ``dt_ps`` or ``max_lag``.
    """
    r = _as_trajectory(unwrapped)
    dt = _check_dt(dt_ps)
    n = r.shape[0]
    max_lag = _check_max_lag(max(1, n // 2) if max_lag is None else max_lag, n)
    alpha = np.empty(max_lag)
    for m in range(1, max_lag + 1):
        r2 = np.sum((r[m:] - r[:-m]) ** 2, axis=2)
        m2 = r2.mean()
        alpha[m - 1] = 3.0 * np.mean(r2 * r2) / (5.0 * m2 * m2) - 1.0 if m2 > 0.0 else np.nan
    return dt * np.arange(1, max_lag + 1), alpha


# ----------------------------------------------------------------------------- unwrapping


def unwrap(positions, cells) -> np.ndarray:
    """Unwrap a trajectory stored wrapped into its periodic cell.

    Each frame-to-frame displacement is replaced by its minimum image in the cell of
    the later frame (fractional displacement minus its nearest integer), then summed
    from the first frame. Correct as long as no atom moves more than half a cell
    (along any fractional axis) between two stored frames.

    Parameters
    ----------
    positions : array_like, shape (n_frames, n_atoms, 3)
        Wrapped Cartesian positions in Å.
    cells : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows; one cell, or one per frame (NPT).

    Returns
    -------
    numpy.ndarray, shape (n_frames, n_atoms, 3)
        Unwrapped positions in Å; the first frame is unchanged.

    Raises
    ------
    ValueError
        Bad shapes, non-finite values or a singular cell.
    """
    r = _as_trajectory(positions, 'positions')
    c = np.asarray(cells, dtype=float)
    if c.shape == (3, 3):
        c = np.broadcast_to(as_cell(c, 'cells'), (r.shape[0], 3, 3))
    elif c.shape == (r.shape[0], 3, 3):
        c = np.stack([as_cell(ci, f'cells[{i}]') for i, ci in enumerate(c)])
    else:
        raise ValueError(f'cells must have shape (3, 3) or (n_frames, 3, 3) = ({r.shape[0]}, 3, 3) in Å, got {c.shape}')
    step = np.diff(r, axis=0)  # (n-1, n_atoms, 3)
    cell = c[1:]
    frac = np.einsum('tai,tij->taj', step, np.linalg.inv(cell))
    frac -= np.round(frac)
    step = np.einsum('taj,tjk->tak', frac, cell)
    out = np.empty_like(r)
    out[0] = r[0]
    out[1:] = r[0] + np.cumsum(step, axis=0)
    return out


# ----------------------------------------------------------------------------- window and D


def local_slope(lags, msd_a2, log_width: float = 0.4) -> np.ndarray:
    """Local log-log slope ``d ln MSD / d ln t`` over a fixed width in ln t.

    The slope at ``t`` is the secant between the lags nearest to ``t exp(-w/2)`` and
    ``t exp(w/2)`` (``w = log_width``; one-sided where the curve ends). Adjacent-point
    differences would shrink to ``dt / t`` at long lags, where the MSD is averaged over
    few time origins, and their noise would hide a diffusive range; a fixed width in
    ln t keeps the noise of every slope alike. Exact on any power law.

    Parameters
    ----------
    lags : array_like, shape (n,)
        Lags in ps, >= 0, strictly increasing.
    msd_a2 : array_like, shape (n,)
        MSD in Å^2.
    log_width : float
        Width of the secant in ln t, > 0 (0.4: a factor 1.5 in time).

    Returns
    -------
    numpy.ndarray, shape (n,)
        Slope, dimensionless: 2 ballistic, 1 diffusive, ~0 caged; nan where the lag or
        the MSD is not > 0.
    """
    t, m = _check_curve(lags, msd_a2)
    if not log_width > 0.0:
        raise ValueError(f'log_width must be > 0, got {log_width!r}')
    slope = np.full(t.shape, np.nan)
    ok = (t > 0.0) & (m > 0.0)
    if ok.sum() >= 2:
        idx = np.flatnonzero(ok)
        ln_t, ln_m = np.log(t[idx]), np.log(m[idx])
        last = idx.size - 1
        low = np.clip(np.searchsorted(ln_t, ln_t - log_width / 2), 0, last)
        high = np.clip(np.searchsorted(ln_t, ln_t + log_width / 2), 0, last)
        high = np.where(high == low, np.minimum(low + 1, last), high)
        low = np.where(high == low, high - 1, low)
        slope[idx] = (ln_m[high] - ln_m[low]) / (ln_t[high] - ln_t[low])
    return slope


def diffusive_window(lags, msd_a2, slope_tol: float = 0.1, min_points: int = 5, max_fraction: float = 0.5):
    """Lag indices of the diffusive regime, the latest range where ``d ln MSD / d ln t`` ~ 1.

    An MSD goes from ballistic (slope 2) through a cage plateau (slope < 1) to the
    diffusive limit (slope 1, eq. 7 of paper 002 takes ``t -> oo``). The diffusive range
    is therefore the *latest* contiguous run of lags whose slope is within
    ``slope_tol`` of 1: an earlier crossing of slope 1 (on the way from 2 down to the
    plateau) is transient, not diffusion. Lags above ``max_fraction`` of the longest lag
    are excluded: they are averaged over few time origins and are noisy.

    Parameters
    ----------
    lags : array_like, shape (n,)
        Lags in ps, >= 0, strictly increasing (e.g. from :func:`msd`).
    msd_a2 : array_like, shape (n,)
        MSD in Å^2.
    slope_tol : float
        Accepted ``|slope - 1|``, > 0.
    min_points : int
        Fewest lags in the window, >= 2.
    max_fraction : float
        Only lags <= ``max_fraction * lags[-1]`` are considered, in (0, 1].

    Returns
    -------
    (int, int) or None
        ``(start, stop)`` indices into ``lags`` (``stop`` exclusive) of the window, or
        None when the MSD is never diffusive over ``min_points`` lags (ballistic or
        caged motion).

    Raises
    ------
    ValueError
        Bad curve, ``slope_tol``, ``min_points`` or ``max_fraction``.
    """
    t, m = _check_curve(lags, msd_a2)
    if not slope_tol > 0.0:
        raise ValueError(f'slope_tol must be > 0, got {slope_tol!r}')
    if int(min_points) != min_points or min_points < 2:
        raise ValueError(f'min_points must be an integer >= 2, got {min_points!r}')
    if not 0.0 < max_fraction <= 1.0:
        raise ValueError(f'max_fraction must be in (0, 1], got {max_fraction!r}')
    slope = local_slope(t, m)
    good = np.abs(slope - 1.0) <= slope_tol  # nan compares False
    good &= t <= max_fraction * t[-1]
    edges = np.diff(np.concatenate([[0], good.astype(int), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    for start, stop in zip(starts[::-1], stops[::-1]):
        if stop - start >= min_points:
            return int(start), int(stop)
    return None


def _check_window(window, n: int) -> tuple[int, int]:
    try:
        start, stop = (int(w) for w in window)
    except (TypeError, ValueError):
        raise ValueError(f'window must be a (start, stop) pair of lag indices, got {window!r}') from None
    if not 0 <= start < stop <= n or stop - start < 2:
        raise ValueError(f'window must satisfy 0 <= start < stop <= {n} with >= 2 lags, got {window!r}')
    return start, stop


def diffusion_coefficient(lags, msd_a2, window) -> float:
    """Self-diffusion coefficient from ``MSD = 6 D t + c`` fitted in the window (eq. 7, paper 002).

    The intercept ``c`` absorbs the ballistic/cage offset, so only the slope counts.

    Parameters
    ----------
    lags : array_like, shape (n,)
        Lags in ps.
    msd_a2 : array_like, shape (n,)
        MSD in Å^2.
    window : (int, int)
        ``(start, stop)`` lag indices, ``stop`` exclusive (e.g. from
        :func:`diffusive_window`).

    Returns
    -------
    float
        D in cm^2/s (slope / 6 in Å^2/ps times 1e-4).

    Raises
    ------
    ValueError
        Bad curve or window.
    """
    t, m = _check_curve(lags, msd_a2)
    start, stop = _check_window(window, t.size)
    slope, _ = np.polyfit(t[start:stop], m[start:stop], 1)
    return float(slope / 6.0 * A2_PER_PS_IN_CM2_PER_S)


class BlockEstimate(NamedTuple):
    """D from time blocks: the mean over blocks (cm^2/s), its standard error, the block count."""

    d_cm2_s: float
    d_stderr_cm2_s: float
    n_blocks: int


def block_uncertainty(unwrapped, dt_ps: float, window=None, n_blocks: int = 5, **window_options) -> BlockEstimate:
    """D and its standard error from non-overlapping time blocks (of one or several replicas).

    Every trajectory is cut into ``n_blocks`` equal consecutive blocks; D is fitted in
    each block (:func:`msd`, :func:`diffusion_coefficient`) and the blocks of all
    replicas are pooled: ``D = mean``, ``stderr = std(ddof=1) / sqrt(n_total)``. Blocks
    longer than the diffusive window's time are nearly independent.

    Parameters
    ----------
    unwrapped : array_like, shape (n_frames, n_atoms, 3), or sequence of them
        Unwrapped positions in Å; a list gives independent replicas (frame and atom
        counts may differ between replicas).
    dt_ps : float
        Time between frames in ps, > 0 (the same for all replicas).
    window : (int, int), optional
        ``(start, stop)`` lag indices used in every block; ``stop`` must not exceed the
        block length in frames. Default: :func:`diffusive_window` of each block.
    n_blocks : int
        Blocks per trajectory, >= 1 (at least two blocks in total).
    **window_options
        Passed to :func:`diffusive_window` when ``window`` is None.

    Returns
    -------
    BlockEstimate
        D and its standard error in cm^2/s, and the number of blocks.

    Raises
    ------
    ValueError
        Bad trajectories, ``n_blocks`` < 1 or fewer than two blocks in total, blocks too
        short for the window, or a block without a diffusive window.
    """
    trajs = [unwrapped] if isinstance(unwrapped, np.ndarray) else list(unwrapped)
    if trajs and np.ndim(trajs[0]) == 2:  # a nested list of one trajectory
        trajs = [unwrapped]
    if not trajs:
        raise ValueError('unwrapped must be a trajectory or a non-empty list of trajectories')
    if int(n_blocks) != n_blocks or n_blocks < 1:
        raise ValueError(f'n_blocks must be an integer >= 1, got {n_blocks!r}')
    dt = _check_dt(dt_ps)
    values = []
    for k, traj in enumerate(trajs):
        r = _as_trajectory(traj, f'unwrapped[{k}]')
        length = r.shape[0] // n_blocks
        if length < 3:
            raise ValueError(f'unwrapped[{k}] has {r.shape[0]} frames, too few for n_blocks={n_blocks}')
        for b in range(n_blocks):
            lags, curve = msd(r[b * length:(b + 1) * length], dt)
            win = window if window is not None else diffusive_window(lags, curve, **window_options)
            if win is None:
                raise ValueError(f'block {b} of unwrapped[{k}] has no diffusive window; pass window or longer blocks')
            values.append(diffusion_coefficient(lags, curve, win))
    if len(values) < 2:
        raise ValueError('block_uncertainty needs at least two blocks in total (n_blocks or replicas)')
    v = np.asarray(values)
    return BlockEstimate(float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)), int(v.size))


# ----------------------------------------------------------------------------- Arrhenius


class ArrheniusDiffusionFit(NamedTuple):
    """``ln D = ln_d0 - ea_ev / (k_B T)`` (eq. 8 of paper 002).

    ``cov`` is the covariance of ``(ea_ev, ln_d0)``; ``dof`` the residual degrees of
    freedom; ``absolute_sigma`` True when the errors ``d_err`` were taken as absolute
    (normal quantiles), False when the covariance was scaled by the residuals (Student t).
    """

    ea_ev: float
    ea_stderr_ev: float
    d0_cm2_s: float
    ln_d0: float
    ln_d0_stderr: float
    cov: np.ndarray
    dof: int
    absolute_sigma: bool


def arrhenius_diffusion(temperatures_k, d_cm2_s, d_err=None) -> ArrheniusDiffusionFit:
    """Weighted least-squares Arrhenius fit of D (eq. 8 of paper 002).

    Fits ``y = ln D`` against ``x = 1 / (k_B T)`` (eV^-1). With ``d_err`` the weights are
    ``(D / d_err)^2`` (the error of ln D is ``d_err / D``) and the covariance is taken as
    absolute; without, an unweighted fit with the covariance scaled by ``chi^2 / (n - 2)``
    (:func:`aiida_boroglass.hopping.fitting.arrhenius_fit` of the hopping model is this fit).

    Parameters
    ----------
    temperatures_k : array_like, shape (n,)
        Temperatures in K, > 0, at least two distinct (three for an unweighted error).
    d_cm2_s : array_like, shape (n,)
        Diffusion coefficients in cm^2/s, > 0.
    d_err : array_like, shape (n,), optional
        Standard errors of D in cm^2/s, > 0.

    Returns
    -------
    ArrheniusDiffusionFit
        E_a in eV with its standard error, D0 in cm^2/s, ln D0 and its standard error,
        covariance of ``(E_a, ln D0)`` (eV, dimensionless).

    Raises
    ------
    ValueError
        Mismatched shapes, non-positive values or too few temperatures.
    """
    t = np.asarray(temperatures_k, dtype=float)
    d = np.asarray(d_cm2_s, dtype=float)
    if t.ndim != 1 or d.shape != t.shape:
        raise ValueError(f'temperatures_k and d_cm2_s must be 1-d with one shape, got {t.shape} and {d.shape}')
    if np.any(~np.isfinite(t)) or np.any(t <= 0.0):
        raise ValueError('temperatures_k must be finite and > 0 K')
    if np.any(~np.isfinite(d)) or np.any(d <= 0.0):
        raise ValueError('d_cm2_s must be finite and > 0 cm^2/s')
    if np.unique(t).size < 2:
        raise ValueError('temperatures_k needs at least two distinct temperatures')
    if d_err is None:
        if t.size < 3:
            raise ValueError('temperatures_k needs at least three points for an unweighted fit (give d_err)')
        sigma_y = np.ones_like(d)
    else:
        e = np.asarray(d_err, dtype=float)
        if e.shape != t.shape or np.any(~np.isfinite(e)) or np.any(e <= 0.0):
            raise ValueError(f'd_err must be finite, > 0 cm^2/s and of shape {t.shape}')
        sigma_y = e / d
    x = 1.0 / (K_B_EV * t)
    y = np.log(d)
    design = np.column_stack([-x, np.ones_like(x)])  # parameters (E_a, ln D0)
    w = 1.0 / sigma_y
    params, *_ = np.linalg.lstsq(design * w[:, None], y * w, rcond=None)
    cov = np.linalg.inv((design * (w * w)[:, None]).T @ design)
    dof = t.size - 2
    if d_err is None:
        chi2 = float(np.sum((y - design @ params) ** 2))
        cov = cov * chi2 / dof
    ea, ln_d0 = (float(p) for p in params)
    return ArrheniusDiffusionFit(
        ea, float(np.sqrt(cov[0, 0])), float(np.exp(ln_d0)), ln_d0, float(np.sqrt(cov[1, 1])), cov, dof,
        d_err is not None,
    )


def extrapolate(fit: ArrheniusDiffusionFit, temperature_k, confidence: float = 0.95):
    """D at a temperature from an Arrhenius fit, with a confidence interval.

    ``ln D(T) = ln D0 - E_a x`` with ``x = 1 / (k_B T)``; its variance
    ``g^T cov g`` with ``g = (-x, 1)``; the interval is ``exp(ln D +- q sigma)`` with
    ``q`` the normal quantile (absolute errors) or Student-t with ``fit.dof`` (scaled).

    Parameters
    ----------
    fit : ArrheniusDiffusionFit
        From :func:`arrhenius_diffusion`.
    temperature_k : float or array_like, shape (m,)
        Temperatures in K, > 0.
    confidence : float
        Two-sided confidence level in (0, 1).

    Returns
    -------
    d_cm2_s, lower_cm2_s, upper_cm2_s : float or numpy.ndarray, shape (m,)
        D and the interval bounds in cm^2/s.

    Raises
    ------
    ValueError
        Non-positive temperature or ``confidence`` outside (0, 1).
    """
    t = np.asarray(temperature_k, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t <= 0.0):
        raise ValueError(f'temperature_k must be finite and > 0 K, got {temperature_k!r}')
    if not 0.0 < confidence < 1.0:
        raise ValueError(f'confidence must be in (0, 1), got {confidence!r}')
    x = 1.0 / (K_B_EV * t)
    ln_d = fit.ln_d0 - fit.ea_ev * x
    cov = np.asarray(fit.cov)
    var = x * x * cov[0, 0] - 2.0 * x * cov[0, 1] + cov[1, 1]
    p = 0.5 + confidence / 2.0
    q = stats.norm.ppf(p) if fit.absolute_sigma else stats.t.ppf(p, fit.dof)
    half = q * np.sqrt(var)
    out = np.exp(ln_d), np.exp(ln_d - half), np.exp(ln_d + half)
    return tuple(float(o) for o in out) if t.ndim == 0 else out


# ----------------------------------------------------------------------------- Nernst-Einstein


def ion_number_density_cm3(n_ions, volume_a3):
    """Number density of the mobile ions.

    Parameters
    ----------
    n_ions : int or float
        Number of ions in the cell, >= 0.
    volume_a3 : float
        Cell volume in Å^3, > 0.

    Returns
    -------
    float
        Ions per cm^3 (1 Å^3 = 1e-24 cm^3).

    Raises
    ------
    ValueError
        Negative ``n_ions`` or non-positive ``volume_a3``.
    """
    if not n_ions >= 0:
        raise ValueError(f'n_ions must be >= 0, got {n_ions!r}')
    if not (np.isfinite(volume_a3) and volume_a3 > 0):
        raise ValueError(f'volume_a3 must be a finite volume > 0 Å^3, got {volume_a3!r}')
    return float(n_ions) / (float(volume_a3) * CM3_PER_A3)


def nernst_einstein(d_cm2_s, number_density_cm3, temperature_k, charge: float = 1, haven_ratio: float = 1.0):
    """Ionic conductivity from the tracer diffusion coefficient (Nernst-Einstein).

    Paper 002, eq. 9: ``sigma = N (Z e)^2 D / (V k_B T)``, with ``N / V`` the number
    density of the mobile ions. Generalised with the Haven ratio
    ``H_R = D_tracer / D_sigma``: ``sigma = (N / V) (Z e)^2 D / (H_R k_B T)``
    (the paper's form is H_R = 1). In SI-cm units
    ``cm^-3 C^2 cm^2 s^-1 / J = C^2 / (J s cm) = S/cm``.

    Parameters
    ----------
    d_cm2_s : float or array_like
        Self-diffusion coefficient in cm^2/s, >= 0.
    number_density_cm3 : float or array_like
        Mobile ions per cm^3, >= 0 (see :func:`ion_number_density_cm3`).
    temperature_k : float or array_like
        Temperature in K, > 0.
    charge : float
        Ion charge number Z (1 for Li+, Na+), non-zero.
    haven_ratio : float
        Haven ratio H_R, > 0.

    Returns
    -------
    float or numpy.ndarray
        sigma in S/cm (broadcast shape of the inputs).

    Raises
    ------
    ValueError
        Negative D or density, non-positive temperature or Haven ratio, zero charge.
    """
    d = np.asarray(d_cm2_s, dtype=float)
    n = np.asarray(number_density_cm3, dtype=float)
    t = np.asarray(temperature_k, dtype=float)
    if np.any(~(d >= 0.0)):
        raise ValueError(f'd_cm2_s must be >= 0 cm^2/s, got {d_cm2_s!r}')
    if np.any(~(n >= 0.0)):
        raise ValueError(f'number_density_cm3 must be >= 0 per cm^3, got {number_density_cm3!r}')
    if np.any(~(t > 0.0)) or np.any(~np.isfinite(t)):
        raise ValueError(f'temperature_k must be finite and > 0 K, got {temperature_k!r}')
    if not charge or not np.isfinite(charge):
        raise ValueError(f'charge must be a finite non-zero charge number, got {charge!r}')
    if not haven_ratio > 0.0:
        raise ValueError(f'haven_ratio must be > 0, got {haven_ratio!r}')
    q = charge * ELEMENTARY_CHARGE_C
    sigma = n * q * q * d / (haven_ratio * K_B_J_PER_K * t)
    return float(sigma) if sigma.ndim == 0 else sigma
