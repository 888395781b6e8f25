"""Site-energy landscape built from NFU concentrations (paper 003, section II, eqs. 1-2).

Pure numpy; no AiiDA import. Geometry in :mod:`.lattice`, units in :mod:`.units`.

Construction, for one glass ``y M2O - (1 - y)[x B2O3 - (1 - x) P2O5]``:

1. Every NFU site gets a unit; the counts are the concentrations times ``size**3``
   (largest-remainder rounding) in random order. The paper draws each site
   independently with the concentration as probability; fixed counts keep the same
   mean and make every landscape charge-neutral up to rounding.
2. ``N = round(R size**3)`` ions (``R = y / (1 - y)``, since both sublattices have
   ``size**3`` sites), ``N_acc = round(N / (1 - f0))`` accessible ion sites, and the
   other ``N_bl`` sites, chosen at random, blocked: ``N_bl / size**3`` is eq. (1),
   ``f_bl = 1 - y / ((1 - y)(1 - f0))``, up to rounding.
3. Counter-charges (Fig. 2). A unit with charge ``q`` spreads it over surrounding
   accessible ion sites; ``z`` is the number of accessible sites among its 8:

   - B4 (delocalised charge): ``q / z`` to each of the ``z`` sites;
   - a unit with ``k`` nbOs: ``q / k`` to each of ``k`` sites chosen at random among
     the ``z``. Where ``z < k`` (a choice the paper leaves open) the charge is shared
     equally by all ``z`` sites, ``q / z`` each, so it is conserved;
   - ``z = 0``: no ion site touches the unit and its charge acts on no ion; it is
     reported as ``unassigned_charge``.

   The contributions carry the sign of the unit charge (a P(2) gives -1/2 to two sites,
   as in the caption of Fig. 2, which writes ``-q/k`` with q the magnitude), so
   ``sum_i Q_i + unassigned_charge = sum of the unit charges``, which is ``-N`` up to
   the rounding of step 1.
4. Site energies, eq. (2): ``eps_i = V0 (Q_i + eta_i)``, ``eta_i`` independent normal
   with zero mean and standard deviation ``sigma_eps`` (dimensionless, in units of V0,
   as in the paper: sigma_eps = 0.42 with V0 = 0.64 eV). Blocked sites get ``+inf``.

The random numbers are drawn in this order from one :class:`numpy.random.Generator`:
unit placement, blocked sites, nbO choice, then a standard normal ``eta_i / sigma_eps``
for every site. The same seed therefore gives the same network and the same noise
pattern for any ``V0`` and ``sigma_eps`` (energies linear in both), which
:mod:`.fitting` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping

import numpy as np

from .lattice import check_size, nfu_neighbours
from .units import alkali_per_former, hierarchical_units, unit_table, validate_composition, validate_units

__all__ = (
    'Landscape',
    'blocked_fraction',
    'site_counts',
    'unit_counts',
    'place_units',
    'block_sites',
    'counter_charges',
    'site_energies',
    'build_landscape',
    'landscape_ensemble',
    'ensemble_statistics',
)

#: Vacancy fraction N_vac / N_acc of the accessible ion sites used in paper 003.
DEFAULT_F0 = 0.05


@dataclass(frozen=True)
class Landscape:
    """One site-energy landscape; arrays of shape ``(size, size, size)`` (see :mod:`.lattice`).

    Attributes
    ----------
    size : int
        Sites per axis of each sublattice.
    units : dict of str to float
        NFU concentrations per former atom used (:mod:`.units`).
    labels : numpy.ndarray, int8
        Index into :data:`.units.UNIT_NAMES` of the unit on each NFU site.
    accessible : numpy.ndarray, bool
        True for ion sites, False for blocked sites.
    counter_charge : numpy.ndarray, float64
        Q_i in e (0 on blocked sites).
    energies_ev : numpy.ndarray, float64
        eps_i in eV, eq. (2); ``+inf`` on blocked sites.
    n_ions : int
        Number N of mobile ions.
    unassigned_charge : float
        e; total charge of units with no accessible site around them.
    v0_ev : float
        Energy scale V0 in eV.
    sigma_eps : float
        Noise strength, units of V0.
    """

    size: int
    units: dict
    labels: np.ndarray
    accessible: np.ndarray
    counter_charge: np.ndarray
    energies_ev: np.ndarray
    n_ions: int
    unassigned_charge: float
    v0_ev: float
    sigma_eps: float

    @property
    def n_accessible(self) -> int:
        """Number N_acc of accessible ion sites."""
        return int(np.count_nonzero(self.accessible))


def blocked_fraction(y: float, f0: float = DEFAULT_F0) -> float:
    """Fraction of blocked sites on the ion sublattice, eq. (1).

    Parameters
    ----------
    y : float
        Molar fraction of alkali oxide, in (0, 1).
    f0 : float
        Vacant fraction N_vac / N_acc of the accessible sites, in [0, 1).

    Returns
    -------
    float
        ``f_bl = 1 - y / ((1 - y)(1 - f0))``, in [0, 1).

    Raises
    ------
    ValueError
        ``f0`` outside [0, 1), ``y`` outside (0, 1), or ``y`` so large that more sites
        than exist would be needed (the message gives the largest ``y``).
    """
    if not 0.0 <= f0 < 1.0:
        raise ValueError(f'f0 must be in [0, 1) (vacant fraction of the accessible sites), got {f0!r}')
    if not 0.0 < y < 1.0:
        raise ValueError(f'y must be in (0, 1) (molar fraction of alkali oxide), got {y!r}')
    f_bl = 1.0 - alkali_per_former(y) / (1.0 - f0)
    if f_bl < 0.0:
        y_max = (1.0 - f0) / (2.0 - f0)
        raise ValueError(f'y = {y!r} needs more ion sites than NFU sites; with f0 = {f0!r}, y must be <= {y_max:.6g}')
    return f_bl


def site_counts(size: int, y: float, f0: float = DEFAULT_F0) -> tuple[int, int]:
    """Numbers of ions and of accessible sites on a ``size**3`` ion sublattice (eq. 1).

    Parameters
    ----------
    size : int
        Sites per axis.
    y, f0 : float
        See :func:`blocked_fraction`.

    Returns
    -------
    n_ions : int
        ``round(size**3 y / (1 - y))``.
    n_accessible : int
        ``round(n_ions / (1 - f0))``, at most ``size**3``.
    """
    blocked_fraction(y, f0)
    n_sites = check_size(size) ** 3
    n_ions = int(round(n_sites * alkali_per_former(y)))
    n_accessible = min(int(round(n_ions / (1.0 - f0))), n_sites)
    return n_ions, n_accessible


def unit_counts(fractions, n_sites: int) -> np.ndarray:
    """Integer unit counts closest to ``fractions * n_sites`` (largest remainder).

    Parameters
    ----------
    fractions : array_like, shape (n_types,)
        Non-negative, summing to 1.
    n_sites : int

    Returns
    -------
    numpy.ndarray, shape (n_types,), int64
        Counts summing to ``n_sites``, each within 1 of ``fractions * n_sites``.
    """
    raw = np.asarray(fractions, dtype=float) * n_sites
    counts = np.floor(raw).astype(np.int64)
    short = n_sites - int(counts.sum())
    order = np.argsort(counts - raw, kind='stable')
    counts[order[:short]] += 1
    return counts


def place_units(size: int, fractions, rng: np.random.Generator) -> np.ndarray:
    """Random arrangement of units on the NFU sublattice (step 1 of the module docstring).

    Parameters
    ----------
    size : int
        Sites per axis.
    fractions : array_like, shape (7,)
        Unit fractions in the order of :data:`.units.UNIT_NAMES`, summing to 1.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (size, size, size), int8
        Unit index of every NFU site.
    """
    counts = unit_counts(fractions, size**3)
    labels = np.repeat(np.arange(len(counts), dtype=np.int8), counts)
    return rng.permutation(labels).reshape(size, size, size)


def block_sites(size: int, n_accessible: int, rng: np.random.Generator) -> np.ndarray:
    """Random choice of the accessible ion sites (step 2).

    Parameters
    ----------
    size : int
        Sites per axis.
    n_accessible : int
        Number of accessible sites, at most ``size**3``.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (size, size, size), bool
        True on exactly ``n_accessible`` sites.
    """
    n_sites = size**3
    accessible = np.ones(n_sites, dtype=bool)
    accessible[rng.choice(n_sites, size=n_sites - n_accessible, replace=False)] = False
    return accessible.reshape(size, size, size)


def counter_charges(
    labels, accessible, charges, nbo, delocalised, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Counter-charges Q_i induced by the NFUs at the ion sites (step 3, Fig. 2).

    Parameters
    ----------
    labels : array_like of int, shape (size, size, size)
        Unit index of every NFU site.
    accessible : array_like of bool, shape (size, size, size)
        True for ion sites.
    charges : array_like, shape (n_types,)
        Unit charges in e.
    nbo : array_like of int, shape (n_types,)
        Number k of nbOs per unit.
    delocalised : array_like of bool, shape (n_types,)
        True for units that spread their charge over all surrounding ion sites.
    rng : numpy.random.Generator
        Chooses the k sites of each localised unit.

    Returns
    -------
    charge : numpy.ndarray, shape (size, size, size), float64
        Q_i in e; 0 on blocked sites.
    unassigned : float
        e; summed charge of the units without an accessible site around them.
    """
    lab = np.asarray(labels).ravel()
    acc = np.asarray(accessible, dtype=bool).ravel()
    size = np.asarray(labels).shape[0]
    q_type = np.asarray(charges, dtype=float)
    sites = np.flatnonzero(q_type[lab] != 0.0)
    kind = lab[sites]
    q = q_type[kind]
    neighbours = nfu_neighbours(sites, size)
    open_ = acc[neighbours]
    z = open_.sum(axis=1)
    k = np.where(np.asarray(delocalised)[kind], z, np.minimum(np.asarray(nbo)[kind], z))
    keys = rng.random(neighbours.shape)
    keys[~open_] = 2.0  # blocked sites rank last and are never chosen (k <= z)
    rank = np.argsort(np.argsort(keys, axis=1), axis=1)
    chosen = rank < k[:, None]
    share = np.divide(q, k, out=np.zeros_like(q), where=k > 0)
    charge = np.bincount(
        neighbours[chosen], weights=np.broadcast_to(share[:, None], chosen.shape)[chosen], minlength=acc.size
    )
    return charge.reshape(np.shape(labels)), float(q[k == 0].sum())


def site_energies(counter_charge, accessible, v0_ev: float, sigma_eps: float, noise) -> np.ndarray:
    """Site energies, eq. (2): ``eps_i = V0 (Q_i + eta_i)``, ``eta_i = sigma_eps * noise_i``.

    Parameters
    ----------
    counter_charge : array_like, float
        Q_i in e.
    accessible : array_like of bool, same shape
        Blocked sites (False) get ``+inf``.
    v0_ev : float
        V0 in eV, > 0.
    sigma_eps : float
        Standard deviation of eta in units of V0, >= 0.
    noise : array_like, same shape
        Standard normal numbers.

    Returns
    -------
    numpy.ndarray, float64, same shape
        eps_i in eV.
    """
    energies = v0_ev * (np.asarray(counter_charge, dtype=float) + sigma_eps * np.asarray(noise, dtype=float))
    return np.where(np.asarray(accessible, dtype=bool), energies, np.inf)


def build_landscape(
    size: int,
    x: float,
    y: float,
    v0_ev: float,
    sigma_eps: float,
    *,
    f0: float = DEFAULT_F0,
    units: Mapping[str, float] | None = None,
    units_atol: float = 1e-3,
    seed=None,
) -> Landscape:
    """Build one site-energy landscape (the whole construction of the module docstring).

    Parameters
    ----------
    size : int
        Sites per axis of each sublattice, >= 3 (the paper: 100 for E_a, 35 for sigma_dc).
    x, y : float
        Composition ``y M2O - (1 - y)[x B2O3 - (1 - x) P2O5]``.
    v0_ev : float
        Energy scale V0 in eV, > 0 (paper: 0.64-0.93 eV).
    sigma_eps : float
        Noise strength in units of V0, >= 0 (paper: 0.25-0.42).
    f0 : float
        Vacant fraction of the accessible sites, in [0, 1) (paper: 0.05).
    units : mapping of str to float, optional
        NFU concentrations per former atom (checked with :func:`.units.validate_units`);
        default :func:`.units.hierarchical_units` (not the published model).
    units_atol : float
        Tolerance of the sum rules of ``units`` per former atom (see
        :func:`.units.validate_units`).
    seed : int, numpy.random.Generator or None
        Passed to :func:`numpy.random.default_rng`.

    Returns
    -------
    Landscape

    Raises
    ------
    ValueError
        Bad ``size``, ``x``, ``y``, ``f0``, ``v0_ev``, ``sigma_eps`` or ``units`` (the
        message names the field).
    """
    size = check_size(size)
    x, y = validate_composition(x, y)
    if not (np.isfinite(v0_ev) and v0_ev > 0.0):
        raise ValueError(f'v0_ev must be a positive energy in eV, got {v0_ev!r}')
    if not (np.isfinite(sigma_eps) and sigma_eps >= 0.0):
        raise ValueError(f'sigma_eps must be >= 0 (units of V0), got {sigma_eps!r}')
    units = hierarchical_units(x, y) if units is None else validate_units(units, x, y, atol=units_atol)
    n_ions, n_accessible = site_counts(size, y, f0)
    fractions, charges, nbo, delocalised = unit_table(units)
    rng = np.random.default_rng(seed)
    labels = place_units(size, fractions, rng)
    accessible = block_sites(size, n_accessible, rng)
    charge, unassigned = counter_charges(labels, accessible, charges, nbo, delocalised, rng)
    noise = rng.standard_normal(accessible.shape)
    energies = site_energies(charge, accessible, v0_ev, sigma_eps, noise)
    return Landscape(
        size=size,
        units=dict(units),
        labels=labels,
        accessible=accessible,
        counter_charge=charge,
        energies_ev=energies,
        n_ions=n_ions,
        unassigned_charge=unassigned,
        v0_ev=float(v0_ev),
        sigma_eps=float(sigma_eps),
    )


def landscape_ensemble(
    size: int, x: float, y: float, v0_ev: float, sigma_eps: float, n_landscapes: int, *, seed=None, **options
) -> Iterator[Landscape]:
    """Independent landscapes of one glass, each seeded from its own child of ``seed``.

    Parameters
    ----------
    size, x, y, v0_ev, sigma_eps
        See :func:`build_landscape`.
    n_landscapes : int
        Number of landscapes, >= 1 (paper 003: 20 at size 100 for E_a, 30 at size 35 for
        sigma_dc).
    seed : int or None
        Root of a :class:`numpy.random.SeedSequence`; landscape k uses its k-th child, so
        the k-th landscape does not depend on ``n_landscapes``.
    **options
        ``f0``, ``units`` and ``units_atol``, passed to :func:`build_landscape`.

    Yields
    ------
    Landscape

    Raises
    ------
    ValueError
        ``n_landscapes`` not a positive integer (raised before the first landscape).
    """
    if isinstance(n_landscapes, bool) or not isinstance(n_landscapes, (int, np.integer)) or n_landscapes < 1:
        raise ValueError(f'n_landscapes must be a positive integer, got {n_landscapes!r}')
    children = np.random.SeedSequence(seed).spawn(n_landscapes)
    return (
        build_landscape(size, x, y, v0_ev, sigma_eps, seed=np.random.default_rng(child), **options)
        for child in children
    )


def ensemble_statistics(values) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample standard deviation over landscapes (axis 0).

    Parameters
    ----------
    values : array_like, shape (n_landscapes, ...)
        One row per landscape (any unit).

    Returns
    -------
    mean, std : numpy.ndarray, shape (...)
        Same unit as ``values``; ``std`` uses ddof = 1 and is 0 for one landscape.
    """
    values = np.asarray(values, dtype=float)
    std = values.std(axis=0, ddof=1) if values.shape[0] > 1 else np.zeros(values.shape[1:])
    return values.mean(axis=0), std
