"""Fits: Arrhenius activation energy, and V0 and sigma_eps from the two end-member glasses.

Pure numpy/scipy; no AiiDA import. Paper 003, section V:

- Arrhenius plots of ``T sigma_dc`` (Fig. 7): the AHL conductances (eq. 8a) go as
  ``(1 / T) exp(-Delta / kT)``, so ``ln(T sigma) = ln A - E_a / kT`` is fitted;
- V0 and sigma_eps are fixed by requiring the model E_a to equal the measured ones of
  the two end members, the pure phosphate (x = 0) and the pure borate (x = 1; x is the
  B2O3 fraction, although the paper's conclusions name them the other way round). With
  ``u0 = 0.1 V0`` every energy of the model is proportional to V0 (eqs. 2 and 8b), so
  ``E_a(x) = V0 delta(x, sigma_eps)`` with a reduced barrier delta that does not
  depend on V0. The ratio ``E_a(0) / E_a(1) = delta(0, sigma) / delta(1, sigma)`` fixes
  sigma_eps (a one-dimensional root search), then ``V0 = E_a(0) / delta(0, sigma_eps)``.

The reduced barrier is estimated on landscapes with fixed seeds (common random numbers):
with the same seed only the noise amplitude changes with sigma_eps (:mod:`.landscape`),
so ``delta(x, sigma)`` is a continuous function that a root finder can use.
"""

from __future__ import annotations

from typing import Callable, Mapping, NamedTuple

import numpy as np
from scipy import optimize

from aiida_boroglass.analysis.diffusion import arrhenius_diffusion

from .percolation import DEFAULT_U0_PER_V0, activation_energies

__all__ = ('ArrheniusFit', 'arrhenius_fit', 'reduced_activation_energy', 'fit_v0_sigma')


class ArrheniusFit(NamedTuple):
    """``ln(T^m sigma) = log_prefactor - ea_ev / (k_B T)`` with m = 1 or 0.

    ``ea_stderr_ev`` is the standard error of the slope (nan with two points).
    """

    ea_ev: float
    log_prefactor: float
    ea_stderr_ev: float


def arrhenius_fit(temperature_k, sigma, *, times_temperature: bool = True) -> ArrheniusFit:
    """Least-squares Arrhenius fit.

    Parameters
    ----------
    temperature_k : array_like, shape (n,)
        Temperatures in K, > 0, at least two distinct.
    sigma : array_like, shape (n,)
        Conductivities (any unit, e.g. S/cm), > 0.
    times_temperature : bool
        Fit ``T sigma`` (default, as in Fig. 7 of paper 003; the hopping model's
        activation energy) rather than ``sigma``.

    Returns
    -------
    ArrheniusFit
        E_a and its standard error in eV; ``log_prefactor`` is ln of the prefactor in
        the unit of ``sigma`` (times K when ``times_temperature``).

    Raises
    ------
    ValueError
        Mismatched shapes, fewer than two distinct temperatures, or non-positive values.
    """
    t = np.asarray(temperature_k, dtype=float)
    s = np.asarray(sigma, dtype=float)
    if t.ndim != 1 or s.shape != t.shape:
        raise ValueError(f'temperature_k and sigma must be 1-d with one shape, got {t.shape} and {s.shape}')
    if np.unique(t).size < 2:
        raise ValueError('temperature_k needs at least two distinct temperatures')
    if np.any(t <= 0.0) or np.any(s <= 0.0):
        raise ValueError('temperature_k and sigma must be > 0')
    values = t * s if times_temperature else s
    # unweighted least squares of ln(values) against 1 / k_B T; two points fix the line (no error)
    fit = arrhenius_diffusion(t, values, values if t.size == 2 else None)
    return ArrheniusFit(fit.ea_ev, fit.ln_d0, fit.ea_stderr_ev if t.size > 2 else float('nan'))


def reduced_activation_energy(
    x: float,
    y: float,
    sigma_eps: float,
    *,
    size: int = 100,
    n_landscapes: int = 20,
    seed: int = 0,
    f0: float = 0.05,
    units: Callable[[float, float], Mapping[str, float]] | None = None,
    u0_per_v0: float = DEFAULT_U0_PER_V0,
    units_atol: float = 1e-3,
) -> float:
    """Reduced barrier ``delta = Delta_c / V0`` with ``u0 = u0_per_v0 V0``, averaged over landscapes.

    Parameters
    ----------
    x, y : float
        Composition (x: borate fraction of the former oxides).
    sigma_eps : float
        Noise strength in units of V0.
    size, n_landscapes : int
        Lattice size and number of landscapes (paper 003: 100 and 20).
    seed : int
        Root seed; keep it fixed across calls for common random numbers.
    f0 : float
        Vacant fraction of the accessible sites.
    units : callable, optional
        ``units(x, y)`` giving NFU concentrations per former atom; default
        :func:`.units.hierarchical_units` (not the published model).
    u0_per_v0 : float
        Minimal barrier in units of V0 (paper 003: 0.1).
    units_atol : float
        Tolerance of the sum rules of the units (:func:`.units.validate_units`).

    Returns
    -------
    float
        Mean Delta_c / V0, dimensionless.
    """
    concentrations = None if units is None else units(x, y)
    mean, _, _ = activation_energies(
        size, x, y, 1.0, sigma_eps, n_landscapes, u0_ev=u0_per_v0, seed=seed, f0=f0, units=concentrations,
        units_atol=units_atol,
    )
    return mean


def fit_v0_sigma(
    ea_phosphate_ev: float,
    ea_borate_ev: float,
    reduced_barrier: Callable[[float, float], float],
    sigma_bounds: tuple[float, float] = (0.0, 1.0),
    xtol: float = 1e-3,
) -> tuple[float, float]:
    """V0 and sigma_eps from the measured E_a of the pure phosphate (x = 0) and borate (x = 1).

    Parameters
    ----------
    ea_phosphate_ev, ea_borate_ev : float
        Measured activation energies in eV, > 0.
    reduced_barrier : callable
        ``reduced_barrier(x, sigma_eps)`` -> Delta_c / V0 (e.g. a
        :func:`functools.partial` of :func:`reduced_activation_energy`); must be
        deterministic (fixed seeds).
    sigma_bounds : (float, float)
        Search interval for sigma_eps (units of V0).
    xtol : float
        Absolute tolerance on sigma_eps.

    Returns
    -------
    v0_ev : float
        Energy scale V0 in eV.
    sigma_eps : float
        Noise strength in units of V0.

    Raises
    ------
    ValueError
        Non-positive activation energies, or a measured ratio the model cannot reach
        inside ``sigma_bounds`` (the message gives the reachable range).
    """
    if not (ea_phosphate_ev > 0.0 and ea_borate_ev > 0.0):
        raise ValueError(
            f'ea_phosphate_ev and ea_borate_ev must be > 0 eV, got {ea_phosphate_ev!r} and {ea_borate_ev!r}'
        )
    target = ea_phosphate_ev / ea_borate_ev

    def mismatch(sigma):
        return reduced_barrier(0.0, sigma) / reduced_barrier(1.0, sigma) - target

    lo, hi = sigma_bounds
    f_lo, f_hi = mismatch(lo), mismatch(hi)
    if f_lo * f_hi > 0.0:
        raise ValueError(
            f'E_a(x=0) / E_a(x=1) = {target:.4g} is outside the range [{f_lo + target:.4g}, {f_hi + target:.4g}] '
            f'the model reaches for sigma_eps in {sigma_bounds}'
        )
    sigma = optimize.brentq(mismatch, lo, hi, xtol=xtol)
    return ea_phosphate_ev / reduced_barrier(0.0, sigma), float(sigma)
