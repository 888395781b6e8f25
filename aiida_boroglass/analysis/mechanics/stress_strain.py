"""Stress-strain curves of constant-rate deformation runs: strain, axial stress, binning, strength, initial slope.

Pure numpy; no AiiDA import. Stress is positive in tension (``sigma = -P``, P the pressure
tensor LAMMPS reports, positive in compression), GPa; strain is the engineering strain
``L / L0 - 1`` of the loaded axes, dimensionless (negative in compression).
"""
from __future__ import annotations

import numpy as np

__all__ = ('axial_strain', 'axial_stress', 'binned_curve', 'initial_modulus', 'strength')


def _axes(axes) -> np.ndarray:
    """Axis indices (0, 1, 2 for x, y, z) as an int array; ValueError naming ``axes`` otherwise."""
    index = np.asarray(axes)
    if index.ndim != 1 or index.size == 0 or index.dtype.kind not in 'iu' or np.any((index < 0) | (index > 2)):
        raise ValueError(f'axes must be a non-empty list of axis indices 0, 1, 2 (x, y, z), got {axes!r}')
    return index


def axial_strain(lengths, axes) -> np.ndarray:
    """Engineering strain of the loaded axes, their mean when several are loaded (triaxial).

    Parameters
    ----------
    lengths : array_like, shape (n_points, 3)
        Box lengths ``lx, ly, lz`` in Å; the first row is the unstrained box.
    axes : sequence of int
        Loaded axes (0, 1, 2 for x, y, z).

    Returns
    -------
    numpy.ndarray, shape (n_points,)
        ``mean_a (L_a / L_a[0] - 1)``, dimensionless.
    """
    lengths = np.asarray(lengths, dtype=float)
    return np.mean(lengths[:, _axes(axes)] / lengths[0, _axes(axes)] - 1.0, axis=1)


def axial_stress(pressure_diagonal, axes) -> np.ndarray:
    """Stress along the loaded axes, their mean when several are loaded, positive in tension.

    Parameters
    ----------
    pressure_diagonal : array_like, shape (n_points, 3)
        ``pxx, pyy, pzz`` in GPa, positive in compression.
    axes : sequence of int
        Loaded axes (0, 1, 2 for x, y, z).

    Returns
    -------
    numpy.ndarray, shape (n_points,)
        ``-mean_a P_aa``, GPa.
    """
    return -np.mean(np.asarray(pressure_diagonal, dtype=float)[:, _axes(axes)], axis=1)


def binned_curve(strain, stress, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean stress in ``n_bins`` equal strain intervals from 0 to the last strain (noise of small cells).

    Parameters
    ----------
    strain : array_like, shape (n_points,)
        Dimensionless, monotonic from 0 (either sign).
    stress : array_like, shape (n_points,)
        GPa.
    n_bins : int
        Number of intervals, >= 1.

    Returns
    -------
    centres : numpy.ndarray, shape (n,)
        Mean strain of the points in each non-empty interval.
    mean : numpy.ndarray, shape (n,)
        Mean stress, GPa.
    error : numpy.ndarray, shape (n,)
        Standard error of the mean stress (0 for a single point), GPa.
    """
    strain, stress = np.asarray(strain, dtype=float), np.asarray(stress, dtype=float)
    if strain.shape != stress.shape or strain.ndim != 1 or strain.size == 0:
        raise ValueError(f'strain and stress must be one-dimensional of one length, got {strain.shape} and {stress.shape}')
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f'n_bins must be a positive integer, got {n_bins!r}')
    extent = strain[-1] if strain[-1] != 0 else 1.0
    index = np.minimum((strain / extent * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    per_bin = np.maximum(counts, 1)
    centres = np.bincount(index, strain, n_bins) / per_bin
    mean = np.bincount(index, stress, n_bins) / per_bin
    square = np.bincount(index, (stress - mean[index]) ** 2, n_bins)
    error = np.sqrt(square / np.maximum(counts - 1, 1) / per_bin)
    full = counts > 0
    return centres[full], mean[full], error[full]


def strength(strain, stress, sign: int = 1) -> tuple[float, float]:
    """Largest stress in the loading sense and the strain where it is reached.

    Parameters
    ----------
    strain, stress : array_like, shape (n_points,)
        Dimensionless; GPa, positive in tension.
    sign : {1, -1}
        1 for tension (largest stress), -1 for compression (most negative stress).

    Returns
    -------
    strength_gpa : float
        ``max(sign * stress)``: a magnitude, GPa.
    strain : float
        Strain at that point (signed).
    """
    if sign not in (1, -1):
        raise ValueError(f'sign must be 1 (tension) or -1 (compression), got {sign!r}')
    loaded = sign * np.asarray(stress, dtype=float)
    peak = int(np.argmax(loaded))
    return float(loaded[peak]), float(np.asarray(strain, dtype=float)[peak])


def initial_modulus(strain, stress, strain_limit: float) -> float:
    """Slope of the least-squares line through the points with ``|strain| <= strain_limit``, GPa.

    Parameters
    ----------
    strain, stress : array_like, shape (n_points,)
        Dimensionless; GPa.
    strain_limit : float
        Largest strain magnitude of the linear part, > 0.

    Returns
    -------
    float
        ``d stress / d strain``, GPa; NaN with fewer than two points in range.
    """
    strain, stress = np.asarray(strain, dtype=float), np.asarray(stress, dtype=float)
    if not strain_limit > 0:
        raise ValueError(f'strain_limit must be > 0, got {strain_limit!r}')
    inside = np.abs(strain) <= strain_limit
    if np.count_nonzero(inside) < 2 or np.ptp(strain[inside]) == 0:
        return float('nan')
    return float(np.polyfit(strain[inside], stress[inside], 1)[0])
