"""Network-former units (NFUs) of alkali borophosphate glasses and their concentrations.

Pure numpy; no AiiDA import. Reference: M. Bosi and P. Maass, "Predicting conductivities
of alkali borophosphate glasses based on site energy distributions derived from network
former unit concentrations" (2021), shared/papers/003, section II and Fig. 1.

Glass ``y M2O - (1 - y)[x B2O3 - (1 - x) P2O5]``; the units of Fig. 1 (valid for alkali
contents above about 30 mol%, where no P(4) units occur):

====  ======  ======  ====================================================
unit  former  charge  non-bridging oxygens (nbOs) carrying the charge, k
====  ======  ======  ====================================================
B4    B       -1      none: the charge is delocalised over all bOs
B3    B        0      0
B2    B       -1      1
P3    P        0      (one P=O, neutral: no counter-charge)
P2    P       -1      2
P1    P       -2      3
P0    P       -3      4
====  ======  ======  ====================================================

Normalisation used throughout: **units per network-former atom** (B + P). Per mole of
glass there are ``2y`` alkali ions, ``2x(1 - y)`` B and ``2(1 - x)(1 - y)`` P atoms, so
per former atom

- the B units add up to ``x`` and the P units to ``1 - x`` (all seven add up to 1);
- the alkali ions number ``R = y / (1 - y)`` (the ``N / N_tot`` of the paper, eq. 1),
  and charge neutrality reads ``sum_u q_u c_u = -R``.

Oxygen balance needs no separate check: counting a bO as 1/2 and an nbO as 1, every
unit holds ``3/2`` (B) or ``5/2`` (P) oxygens plus ``|q_u| / 2`` from the alkali oxide,
so the oxygen count equals the glass formula exactly when the charges balance.

The statistical mechanical model of the published work (Schuch, Trott and Maass, RSC
Adv. 1, 1370 (2011); Bosi, Fischer and Maass, J. Phys. Chem. C 125, 6260 (2021)) is not
stated in paper 003, so :func:`hierarchical_units` is a simpler stand-in (see there);
measured or published concentrations can be passed through :func:`validate_units`.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

__all__ = (
    'UNIT_NAMES',
    'UNIT_FORMER',
    'UNIT_CHARGE',
    'UNIT_NBO',
    'DELOCALISED_UNITS',
    'alkali_per_former',
    'validate_composition',
    'validate_units',
    'hierarchical_units',
    'units_from_network',
    'unit_table',
)

#: The seven units of Fig. 1, in the order used by every array in this package.
UNIT_NAMES = ('B4', 'B3', 'B2', 'P3', 'P2', 'P1', 'P0')
#: Network-former element of each unit.
UNIT_FORMER = {'B4': 'B', 'B3': 'B', 'B2': 'B', 'P3': 'P', 'P2': 'P', 'P1': 'P', 'P0': 'P'}
#: Charge of each unit in units of the elementary charge (P(m): m - 3).
UNIT_CHARGE = {'B4': -1, 'B3': 0, 'B2': -1, 'P3': 0, 'P2': -1, 'P1': -2, 'P0': -3}
#: Number k of nbOs that share the unit's charge (0 for neutral and delocalised units).
UNIT_NBO = {'B4': 0, 'B3': 0, 'B2': 1, 'P3': 0, 'P2': 2, 'P1': 3, 'P0': 4}
#: Units whose charge is spread over all surrounding ion sites instead of k nbOs.
DELOCALISED_UNITS = frozenset({'B4'})


def alkali_per_former(y: float) -> float:
    """Alkali ions per network-former atom, ``R = y / (1 - y)`` (paper 003, before eq. 1).

    Parameters
    ----------
    y : float
        Molar fraction of alkali oxide M2O, in (0, 1).

    Returns
    -------
    float
        R, dimensionless.
    """
    return y / (1.0 - y)


def validate_composition(x: float, y: float) -> tuple[float, float]:
    """Check the composition variables of ``y M2O - (1 - y)[x B2O3 - (1 - x) P2O5]``.

    Parameters
    ----------
    x : float
        Borate fraction of the former oxides, in [0, 1].
    y : float
        Molar fraction of alkali oxide, in (0, 1).

    Returns
    -------
    (float, float)
        ``x`` and ``y`` as floats.

    Raises
    ------
    ValueError
        Naming ``x`` or ``y`` and its allowed range.
    """
    x = float(x)
    y = float(y)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f'x must be in [0, 1] (borate fraction of the former oxides), got {x!r}')
    if not 0.0 < y < 1.0:
        raise ValueError(f'y must be in (0, 1) (molar fraction of alkali oxide), got {y!r}')
    return x, y


def validate_units(units: Mapping[str, float], x: float, y: float, atol: float = 1e-3) -> dict[str, float]:
    """Check a set of NFU concentrations against the glass composition.

    Parameters
    ----------
    units : mapping of str to float
        Concentration of each unit per network-former atom (module docstring), keys from
        :data:`UNIT_NAMES`; missing units count as 0.
    x, y : float
        Composition, see :func:`validate_composition`.
    atol : float
        Absolute tolerance, per former atom, of the three sum rules below (default 1e-3,
        about the precision of NMR-derived fractions).

    Returns
    -------
    dict of str to float
        All seven units in the order of :data:`UNIT_NAMES`.

    Raises
    ------
    ValueError
        An unknown unit name, a negative or non-finite concentration (the message names
        the unit), B units not adding up to ``x``, P units not adding up to ``1 - x``, or
        the unit charges not balancing the ``R = y / (1 - y)`` alkali ions.
    """
    x, y = validate_composition(x, y)
    unknown = sorted(set(units) - set(UNIT_NAMES))
    if unknown:
        raise ValueError(f'unknown unit {unknown[0]!r}; allowed units are {list(UNIT_NAMES)}')
    out = {}
    for name in UNIT_NAMES:
        value = float(units.get(name, 0.0))
        if not np.isfinite(value) or value < 0.0:
            raise ValueError(f'unit {name!r}: concentration must be finite and >= 0, got {value!r}')
        out[name] = value
    b_total = sum(v for k, v in out.items() if UNIT_FORMER[k] == 'B')
    p_total = sum(v for k, v in out.items() if UNIT_FORMER[k] == 'P')
    charge = sum(UNIT_CHARGE[k] * v for k, v in out.items())
    r = alkali_per_former(y)
    if abs(b_total - x) > atol:
        raise ValueError(f'units B4 + B3 + B2 = {b_total:.6g} per former atom, must equal x = {x:.6g}')
    if abs(p_total - (1.0 - x)) > atol:
        raise ValueError(f'units P3 + P2 + P1 + P0 = {p_total:.6g} per former atom, must equal 1 - x = {1.0 - x:.6g}')
    if abs(charge + r) > atol:
        raise ValueError(
            f'unit charges -B4 - B2 - P2 - 2 P1 - 3 P0 = {charge:.6g} per former atom, must balance the '
            f'alkali ions: -y/(1-y) = {-r:.6g}'
        )
    return out


def hierarchical_units(x: float, y: float, n4_borate: float = 0.5) -> dict[str, float]:
    """NFU concentrations from a simple charge-balance hierarchy (NOT the published model).

    This is **not** the statistical mechanical model of Schuch, Trott and Maass (RSC
    Adv. 1, 1370 (2011)) or its analytical form (Bosi, Fischer and Maass, J. Phys. Chem. C
    125, 6260 (2021)), whose equations paper 003 does not give. It is the simplest
    assignment of the ``R = y / (1 - y)`` negative charges per former atom that respects
    the unit charges of Fig. 1 and the composition:

    1. B(3) -> B(4) first: ``B4 = min(R, x, n4_borate * x + (1 - x))``. Boron diluted in
       phosphate can be all tetrahedral (B(4) bonded to P); the pure borate (x = 1)
       reaches ``N4 = n4_borate``, the measured N4 of the binary alkali borate glass with
       the same y, and the cap falls linearly in between;
    2. the remaining charge depolymerises the phosphate, P(3) -> P(2) -> P(1) -> P(0),
       one step at a time (only two neighbouring P(m) coexist; capacity ``3(1 - x)``);
    3. any charge still left makes B(2) from B(3).

    Parameters
    ----------
    x, y : float
        Composition, see :func:`validate_composition`.
    n4_borate : float
        Fraction of four-coordinated boron in the binary glass ``y M2O - (1 - y) B2O3``,
        in [0, 1]; the default 0.5 gives Bray's ``N4 = R`` up to R = 0.5 (lithium
        borate at y = 0.33: about 0.42, between 0.399 at y = 0.3 and 0.457 at y = 0.4).

    Returns
    -------
    dict of str to float
        Concentration per network-former atom of every unit of :data:`UNIT_NAMES`; passes
        :func:`validate_units`.

    Raises
    ------
    ValueError
        Bad ``x``, ``y`` or ``n4_borate``, or more alkali than the units can compensate
        (``R > x + 3(1 - x)``).
    """
    x, y = validate_composition(x, y)
    if not 0.0 <= n4_borate <= 1.0:
        raise ValueError(f'n4_borate must be in [0, 1] (N4 of the binary alkali borate), got {n4_borate!r}')
    r = alkali_per_former(y)
    p = 1.0 - x
    b4 = min(r, x, n4_borate * x + p)
    r_p = min(r - b4, 3.0 * p)
    b2 = r - b4 - r_p
    if b2 > x - b4 + 1e-12:
        raise ValueError(
            f'y = {y!r} is too large for this model: {r:.4g} alkali per former atom exceed the '
            f'{x + 3.0 * p:.4g} charges the units can carry at x = {x!r}'
        )
    b2 = min(b2, x - b4)
    units = dict.fromkeys(UNIT_NAMES, 0.0)
    units.update(B4=b4, B3=x - b4 - b2, B2=b2)
    if p > 0.0:
        mean_charge = r_p / p  # in [0, 3]: P(3 - k) and P(2 - k) with k = floor(mean_charge)
        k = min(int(np.floor(mean_charge)), 2)
        frac = mean_charge - k
        units[f'P{3 - k}'] = p * (1.0 - frac)
        units[f'P{2 - k}'] = p * frac
    return units


def units_from_network(fractions: Mapping[str, float], x: float, max_other: float = 0.05) -> dict[str, float]:
    """NFU concentrations from the unit fractions of a simulated glass.

    Parameters
    ----------
    fractions : mapping of str to float
        Fraction of all network-former atoms in each unit, with the labels of
        :func:`aiida_boroglass.analysis.speciation.unit_labels` (``'B(4)'``, ``'B(3)'``,
        ``'P(2)'``, ...; the ``fraction_of_formers`` column of the structure panel's
        ``network_units`` output).
    x : float
        Borate fraction of the former oxides, in [0, 1].
    max_other : float
        Largest summed fraction of units outside Fig. 1 (``B(1)``, ``B(0)``, ``P(4)``,
        over- or under-coordinated defects ``B[k]``, ``P[k]``) that may be left out.

    Returns
    -------
    dict of str to float
        Concentration per former atom of every unit of :data:`UNIT_NAMES`: the Fig. 1
        units, rescaled so that the B units add up to ``x`` and the P units to ``1 - x``
        (the composition fixes both totals; only the split among the units comes from the
        simulation). Charge balance is checked by :func:`validate_units` afterwards.

    Raises
    ------
    ValueError
        A former other than B or P, more than ``max_other`` in units outside Fig. 1 (the
        message lists them), or no B (P) unit at all although ``x > 0`` (``x < 1``).
    """
    known = {f'{name[0]}({name[1]})': name for name in UNIT_NAMES}
    foreign = sorted(label for label in fractions if label.split('(')[0].split('[')[0] not in ('B', 'P'))
    if foreign:
        raise ValueError(f'the hopping model knows B and P units only; the glass has {foreign}')
    other = {label: float(v) for label, v in fractions.items() if label not in known and float(v) > 0.0}
    if sum(other.values()) > max_other:
        listed = ', '.join(f'{label} {v:.3f}' for label, v in sorted(other.items()))
        raise ValueError(
            f'{sum(other.values()):.3f} of the formers are in units outside paper 003 Fig. 1 ({listed}); '
            f'at most max_other = {max_other} may be left out'
        )
    units = dict.fromkeys(UNIT_NAMES, 0.0)
    units.update({known[label]: float(v) for label, v in fractions.items() if label in known})
    for former, total in (('B', x), ('P', 1.0 - x)):
        names = [name for name in UNIT_NAMES if UNIT_FORMER[name] == former]
        found = sum(units[name] for name in names)
        if total > 0.0 and found <= 0.0:
            raise ValueError(f'x = {x!r} needs {former} units, but the glass has none of {names}')
        for name in names:
            units[name] = units[name] * total / found if total > 0.0 else 0.0
    return units


def unit_table(units: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The units as arrays in the order of :data:`UNIT_NAMES`.

    Parameters
    ----------
    units : mapping of str to float
        Concentrations per former atom (validated: see :func:`validate_units`).

    Returns
    -------
    fractions : numpy.ndarray, shape (7,), float
        Concentrations normalised to sum 1 (probability of a unit on an NFU site).
    charges : numpy.ndarray, shape (7,), float
        Unit charges in e.
    nbo : numpy.ndarray, shape (7,), int
        k, the number of nbOs sharing the charge (0 for neutral and delocalised units).
    delocalised : numpy.ndarray, shape (7,), bool
        True for units whose charge spreads over all surrounding ion sites (B4).
    """
    fractions = np.array([units.get(name, 0.0) for name in UNIT_NAMES], dtype=float)
    fractions = fractions / fractions.sum()
    charges = np.array([UNIT_CHARGE[name] for name in UNIT_NAMES], dtype=float)
    nbo = np.array([UNIT_NBO[name] for name in UNIT_NAMES], dtype=int)
    delocalised = np.array([name in DELOCALISED_UNITS for name in UNIT_NAMES])
    return fractions, charges, nbo, delocalised
