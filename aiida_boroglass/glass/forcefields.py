"""Classical force fields for alkali borate, borophosphate and borosilicate glasses.

Two published force fields are provided (parameters with citations in ``glass/data/*.yaml``):

``deng_du``
    Deng & Du, J. Am. Ceram. Soc. 102, 2482 (2019) with erratum doi:10.1111/jace.16897:
    partial charges, Teter-type Buckingham ``A exp(-r/rho) - C/r^6`` for cation-O and O-O with a
    repulsive core ``B/r^n + D r^2`` below ``r0``, composition-dependent B-O prefactor from the
    Dell-Bray-Xiao N4 model, long-range Coulomb by PPPM (accuracy 1e-5, as papers 002 and 004).
``shik``
    Sundararaman, Huang, Ispas, Kob, J. Chem. Phys. 148, 194504 (2018); 150, 154505 (2019);
    152, 104501 (2020): ``A exp(-B r) - C/r^6 + D/r^24`` cut and smoothed at 8 A, Wolf-truncated
    smoothed Coulomb at 10 A, O charge from charge neutrality.

:func:`build_forcefield` resolves a force field for one composition into a JSON-serializable dict
(what the AiiDA provenance graph stores); :func:`lammps_potential` renders that dict into LAMMPS
commands plus a ``pair_style table`` file; :func:`pair_energy`, :func:`pair_force` and the Coulomb
functions evaluate the same model analytically.

Composition ratios (Dell-Bray-Xiao convention): ``R = [M2O]/[B2O3]`` with ``[M2O]`` the summed
alkali oxide (Li2O + Na2O + K2O) and ``K = [SiO2]/[B2O3]``, in mole fractions. P2O5 enters neither:
papers 002 and 004 apply the Deng-Du potential to Li2O-B2O3-P2O5 unchanged and state no P2O5
correction to R, so ``R`` counts all of the alkali oxide, also the part that charge-balances
phosphate units (for 40Li2O-30B2O3-30P2O5, R = 4/3, K = 0).

Units throughout: r in A, energies in eV, forces in eV/A, charges in e.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import yaml

__all__ = (
    'FORCEFIELDS',
    'QQR2E_EV_A',
    'ForceFieldError',
    'build_forcefield',
    'coulomb_energy',
    'dell_bray_n4',
    'deng_du_a_bo',
    'lammps_potential',
    'model_coulomb_energy',
    'model_coulomb_force',
    'pair_energy',
    'pair_force',
    'pair_key',
    'table_distances',
    'table_energy',
    'table_force',
    'tabulated_pairs',
)

FORCEFIELDS = ('deng_du', 'shik')

#: e^2 / (4 pi eps0) in eV A, the value of LAMMPS ``units metal`` (``force->qqr2e``).
QQR2E_EV_A = 14.399645

_DATA_DIR = Path(__file__).parent / 'data'

#: Dell-Bray-Xiao model is defined for 0 <= K <= 8 (above K = 8, f < 0 in the R > R_d1 branch).
_DBX_K_MAX = 8.0


class ForceFieldError(ValueError):
    """Invalid force-field request: unknown name, uncovered element, or bad composition ratio."""


@functools.lru_cache(maxsize=None)
def _load(name: str) -> dict:
    """Return the parsed parameter file ``data/<name>.yaml`` (cached; do not mutate)."""
    with open(_DATA_DIR / f'{name}.yaml', encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def pair_key(a: str, b: str) -> str:
    """Return the canonical pair name: alphabetical, except that O always comes last.

    Examples: ``pair_key('O', 'B') == 'B-O'``, ``pair_key('Li', 'B') == 'B-Li'``.
    """
    first, second = sorted((a, b), key=lambda symbol: (symbol == 'O', symbol))
    return f'{first}-{second}'


def _check_ratio(field: str, value: float) -> float:
    """Return ``value`` as float if it is a finite number >= 0, else raise naming ``field``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ForceFieldError(f'{field} must be a number >= 0, got {value!r}') from None
    if not math.isfinite(number) or number < 0:
        raise ForceFieldError(f'{field} must be a finite number >= 0, got {value!r}')
    return number


def dell_bray_n4(ratio_r: float, ratio_k: float) -> float:
    """Return the fraction of four-coordinated boron N4 of the Dell-Bray-Xiao model.

    Dell, Bray, Xiao, J. Non-Cryst. Solids 58, 1 (1983), with ``R_max = 1/2 + K/16``,
    ``R_d1 = 1/2 + K/4``, ``R_d3 = 2 + K``:

    * ``R < R_max``: ``N4 = R``;
    * ``R_max <= R < R_d1``: ``N4 = R_max``;
    * ``R_d1 <= R < R_d3``: ``N4 = (1/2 - K/16 - m1/3) + (K/8 - 2 m2/15)`` with
      ``m1 = f/(1+f) (R - R_d1)``, ``f = (2 - K/4)/(K + K/4)``, ``m2 = R - R_d1 - m1``;
    * ``R >= R_d3``: ``N4 = 0``.

    ``f/(1+f)`` is evaluated as ``(2 - K/4)/(2 + K)``, which is the same number for K > 0 and has
    no 0/0 at K = 0. K = 0 branch: this gives ``N4 = (2 - R)/3`` for binary borates, the
    lever rule between diborate (N4 = 1/2 at R = 1/2) and pyroborate (N4 = 0 at R = 2) units, and the
    K -> 0 limit of the published expression; N4 stays continuous in R and K. The ``N4 = 1 - R``
    used by one public implementation breaks continuity at R_d3 (it reaches 0 at R = 1 and goes
    negative beyond) and predicts no BO4 in metaborate glass, against the NMR data the model was
    built on, so it is not used.

    Parameters
    ----------
    ratio_r : float
        R = [M2O]/[B2O3] (mole ratio, >= 0).
    ratio_k : float
        K = [SiO2]/[B2O3] (mole ratio, 0 <= K <= 8, the range of the model).

    Returns
    -------
    float
        N4, dimensionless, in [0, 1].
    """
    r = _check_ratio('ratio_r', ratio_r)
    k = _check_ratio('ratio_k', ratio_k)
    if k > _DBX_K_MAX:
        raise ForceFieldError(f'ratio_k must be <= {_DBX_K_MAX} for the Dell-Bray-Xiao model, got {k}')
    r_max, r_d1, r_d3 = 0.5 + k / 16.0, 0.5 + k / 4.0, 2.0 + k
    if r < r_max:
        return r
    if r < r_d1:
        return r_max
    if r < r_d3:
        m1 = (2.0 - k / 4.0) / (2.0 + k) * (r - r_d1)
        m2 = r - r_d1 - m1
        return (0.5 - k / 16.0 - m1 / 3.0) + (k / 8.0 - 2.0 * m2 / 15.0)
    return 0.0


def deng_du_a_bo(ratio_r: float, ratio_k: float) -> float:
    """Return the composition-dependent B-O Buckingham prefactor A_BO of Deng & Du (2019).

    ``R_max = 1/2 + K/16``; for ``R <= R_max``
    ``A_BO = A1 + T1 [R_max - (R_max - N4)^2 / R_max] + T2 K^2``, otherwise
    ``A_BO = A2 + T3 N4 R_max / R`` with the erratum's ``T3 = (A1 + T2 K^2 - A2)/R_max + T1``,
    which makes A_BO continuous at R_max. N4 from :func:`dell_bray_n4`. A1, A2, T1, T2 are read
    from ``data/deng_du.yaml``. Checks: K = 7/3, R = 0 (30B2O3-70SiO2) gives 12362.78 eV;
    K = 0 gives 12683.00, 13531.25, 14075.00 eV at R = 0.1, 0.25, 0.5.

    Parameters
    ----------
    ratio_r : float
        R = [M2O]/[B2O3] (mole ratio, >= 0; see the module docstring for P2O5).
    ratio_k : float
        K = [SiO2]/[B2O3] (mole ratio, 0 <= K <= 8).

    Returns
    -------
    float
        A_BO in eV.
    """
    n4 = dell_bray_n4(ratio_r, ratio_k)
    r, k = float(ratio_r), float(ratio_k)
    p = _load('deng_du')['b_o_prefactor']
    a1, a2, t1, t2 = p['A1_eV'], p['A2_eV'], p['T1_eV'], p['T2_eV']
    r_max = 0.5 + k / 16.0
    if r <= r_max:
        return a1 + t1 * (r_max - (r_max - n4) ** 2 / r_max) + t2 * k**2
    t3 = (a1 + t2 * k**2 - a2) / r_max + t1
    return a2 + t3 * n4 * r_max / r


# --------------------------------------------------------------------------- Deng-Du core


def _buckingham_derivatives(a_ev: float, rho_a: float, c_ev_a6: float, r: float) -> tuple[float, ...]:
    """Return ``(V, V', V'', V''')`` of ``A exp(-r/rho) - C/r^6`` at r (eV, eV/A, eV/A^2, eV/A^3)."""
    e = a_ev * math.exp(-r / rho_a)
    return (
        e - c_ev_a6 / r**6,
        -e / rho_a + 6.0 * c_ev_a6 / r**7,
        e / rho_a**2 - 42.0 * c_ev_a6 / r**8,
        -e / rho_a**3 + 336.0 * c_ev_a6 / r**9,
    )


def _core_radius(a_ev: float, rho_a: float, c_ev_a6: float) -> float:
    """Return r0 in A: the inner zero of V''' of the Buckingham part (maximum of V'').

    This is the rule the published r0 of Deng & Du follow (to their printed 3 decimals); it fixes
    r0 of the composition-dependent B-O pair. Found by scanning 0.3-3 A and bisection.
    """
    grid = np.linspace(0.3, 3.0, 2701)
    third = np.array([_buckingham_derivatives(a_ev, rho_a, c_ev_a6, x)[3] for x in grid])
    crossing = np.nonzero(np.sign(third[:-1]) != np.sign(third[1:]))[0]
    if crossing.size == 0:
        raise ForceFieldError(f'no core radius: V\'\'\' of A={a_ev}, rho={rho_a}, C={c_ev_a6} has no zero')
    lo, hi = grid[crossing[0]], grid[crossing[0] + 1]
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        same = np.sign(_buckingham_derivatives(a_ev, rho_a, c_ev_a6, mid)[3]) == np.sign(third[crossing[0]])
        lo, hi = (mid, hi) if same else (lo, mid)
    return float(0.5 * (lo + hi))


def _solve_core(a_ev: float, rho_a: float, c_ev_a6: float, r0_a: float) -> dict:
    """Return the core ``B/r^n + D r^2`` whose V, V', V'' equal the Buckingham ones at r0.

    With ``u = B r0^-n``, ``a = V(r0)``, ``b = r0 V'(r0)``, ``c = r0^2 V''(r0)`` the three
    conditions ``u + D r0^2 = a``, ``-n u + 2 D r0^2 = b``, ``n(n+1) u + 2 D r0^2 = c`` give
    ``n = 1 + (c - 2a)/(2a - b)``, ``u = (2a - b)/(n + 2)``, ``D = (a - u)/r0^2`` in closed form.

    Returns
    -------
    dict
        ``{'r0_A', 'B_eV_An', 'n', 'D_eV_A2'}`` (B in eV A^n, D in eV/A^2).
    """
    v0, v1, v2, _ = _buckingham_derivatives(a_ev, rho_a, c_ev_a6, r0_a)
    a, b, c = v0, r0_a * v1, r0_a**2 * v2
    n = 1.0 + (c - 2.0 * a) / (2.0 * a - b)
    u = (2.0 * a - b) / (n + 2.0)
    return {'r0_A': r0_a, 'B_eV_An': u * r0_a**n, 'n': n, 'D_eV_A2': (a - u) / r0_a**2}


# --------------------------------------------------------------------------- build


def _check_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """Return ``counts`` as a plain dict after checking the atom numbers are integers >= 0."""
    if not isinstance(counts, Mapping) or not counts:
        raise ForceFieldError(f'counts must be a non-empty mapping element -> number of atoms, got {counts!r}')
    checked = {}
    for symbol, number in counts.items():
        if isinstance(number, bool) or int(number) != number or number < 0:
            raise ForceFieldError(f'counts[{symbol!r}] must be an integer >= 0, got {number!r}')
        if number:
            checked[str(symbol)] = int(number)
    if 'O' not in checked:
        raise ForceFieldError(f'counts must contain O (oxide glass force fields), got {sorted(checked)}')
    return checked


def _check_elements(name: str, elements: Sequence[str], covered: Sequence[str]) -> None:
    """Raise if an element is not covered by force field ``name``."""
    missing = sorted(set(elements) - set(covered))
    if missing:
        raise ForceFieldError(
            f'force field {name!r} has no parameters for {", ".join(missing)}; it covers {", ".join(sorted(covered))}'
        )


def _build_deng_du(counts: dict[str, int], ratio_r: float, ratio_k: float) -> dict:
    """Resolve the Deng-Du force field for the elements in ``counts`` (see build_forcefield)."""
    data = _load('deng_du')
    elements = sorted(counts)
    _check_elements('deng_du', elements, data['charges_e'])
    charges = {el: data['charges_e'][el] for el in elements}
    net = sum(charges[el] * n for el, n in counts.items())
    if abs(net) > 1e-6:
        raise ForceFieldError(f'counts give a net charge of {net:+.6f} e with the deng_du charges; the glass must be neutral')
    pairs = {}
    for el in elements:
        key = pair_key(el, 'O')
        params = dict(data['pairs'][key])
        if key == 'B-O':
            params['A_eV'] = deng_du_a_bo(ratio_r, ratio_k)
            params['r0_A'] = _core_radius(params['A_eV'], params['rho_A'], params['C_eV_A6'])
        params.pop('published_core', None)
        r0 = params.pop('r0_A', None)
        term = {'A_eV': params['A_eV'], 'rho_A': params['rho_A'], 'C_eV_A6': params['C_eV_A6']}
        if r0 is not None:
            term['core'] = _solve_core(term['A_eV'], term['rho_A'], term['C_eV_A6'], r0)
        pairs[key] = term
    ff = {
        'name': 'deng_du',
        'description': data['description'],
        'citations': list(data['citations']),
        'elements': elements,
        'counts': counts,
        'charges_e': charges,
        'pairs': pairs,
        'cutoff_short_range_A': data['cutoff_short_range_A'],
        'coulomb': {
            'method': 'ewald_pppm',
            'cutoff_real_space_A': data['cutoff_coulomb_real_space_A'],
            'kspace_style': data['kspace_style'],
            'kspace_accuracy_relative': data['kspace_accuracy_relative'],
            'kspace_order': data['kspace_order'],
            'tabulated': False,
        },
        'table': {'inner_A': data['table_inner_A'], 'file_points': data['table_file_points'], 'points': data['table_points']},
    }
    if 'B' in counts:
        ff['composition'] = {'ratio_r': ratio_r, 'ratio_k': ratio_k, 'n4_dell_bray_xiao': dell_bray_n4(ratio_r, ratio_k)}
    return ff


def _build_shik(counts: dict[str, int]) -> dict:
    """Resolve the SHIK force field for the elements in ``counts`` (see build_forcefield)."""
    data = _load('shik')
    elements = sorted(counts)
    _check_elements('shik', elements, [*data['charges_e'], 'O'])
    charges = {el: data['charges_e'][el] for el in elements if el != 'O'}
    charges['O'] = -sum(charges[el] * n for el, n in counts.items() if el != 'O') / counts['O']
    pairs = {}
    for i, a in enumerate(elements):
        for b in elements[i:]:
            key = pair_key(a, b)
            if key not in data['pairs']:
                raise ForceFieldError(f'force field \'shik\' has no published {key} term (mixed-alkali cross terms are not part of SHIK)')
            pairs[key] = dict(data['pairs'][key])
    return {
        'name': 'shik',
        'description': data['description'],
        'citations': list(data['citations']),
        'elements': elements,
        'counts': counts,
        'charges_e': dict(sorted(charges.items())),
        'pairs': pairs,
        'cutoff_short_range_A': data['cutoff_short_range_A'],
        'smoothing_width_A': data['smoothing_width_A'],
        'coulomb': {'method': 'wolf_smoothed', 'cutoff_A': data['cutoff_coulomb_A'], 'tabulated': True},
        'table': {'inner_A': data['table_inner_A'], 'file_points': data['table_file_points'], 'points': data['table_points']},
    }


def build_forcefield(name: str, counts: Mapping[str, int], ratio_r: float = 0.0, ratio_k: float = 0.0) -> dict:
    """Return the force field ``name`` fully resolved for one glass, as a JSON-serializable dict.

    Parameters
    ----------
    name : str
        One of :data:`FORCEFIELDS`.
    counts : Mapping[str, int]
        Number of atoms per element symbol in the simulation cell, e.g. ``{'Li': 80, 'B': 60,
        'P': 60, 'O': 310}``. The elements present are its keys with a non-zero count. SHIK
        needs the numbers for its O charge (neutrality); Deng-Du checks that they are neutral.
    ratio_r : float
        R = [M2O]/[B2O3] (>= 0), used by Deng-Du for B-O; see the module docstring for P2O5.
    ratio_k : float
        K = [SiO2]/[B2O3] (0 <= K <= 8), used by Deng-Du for B-O.

    Returns
    -------
    dict
        ``name``, ``description``, ``citations``, ``elements`` (sorted), ``counts``,
        ``charges_e`` {element: q in e}, ``pairs`` {pair_key: parameters with units in keys;
        Deng-Du ``{'A_eV', 'rho_A', 'C_eV_A6'[, 'core': {'r0_A', 'B_eV_An', 'n', 'D_eV_A2'}]}``,
        SHIK ``{'A_eV', 'B_inv_A', 'C_eV_A6', 'D_eV_A24'}``}, ``cutoff_short_range_A``,
        ``coulomb`` {``method``, cut-off in A, k-space style and accuracy where used,
        ``tabulated``: whether the LAMMPS table carries the Coulomb term}, ``table``
        {``inner_A``, ``points``}; Deng-Du with boron adds ``composition`` {``ratio_r``,
        ``ratio_k``, ``n4_dell_bray_xiao``}, SHIK adds ``smoothing_width_A``.

    Raises
    ------
    ForceFieldError
        Unknown ``name`` (the message lists :data:`FORCEFIELDS`), an element the force field does
        not cover, a missing pair term, non-integer counts, a non-neutral Deng-Du cell, or R/K
        outside their range.
    """
    if name not in FORCEFIELDS:
        raise ForceFieldError(f'unknown force field {name!r}; available: {", ".join(FORCEFIELDS)}')
    ratio_r = _check_ratio('ratio_r', ratio_r)
    ratio_k = _check_ratio('ratio_k', ratio_k)
    checked = _check_counts(counts)
    if name == 'deng_du':
        return _build_deng_du(checked, ratio_r, ratio_k)
    return _build_shik(checked)


# --------------------------------------------------------------------------- analytic model


def _pair_params(ff: dict, a: str, b: str) -> dict | None:
    """Return the short-range parameters of pair a-b, or None if it has no short-range term."""
    for element in (a, b):
        if element not in ff['charges_e']:
            raise ForceFieldError(f'element {element!r} is not in force field {ff["name"]!r} ({", ".join(ff["elements"])})')
    return ff['pairs'].get(pair_key(a, b))


def _smoothing(r: np.ndarray, cutoff: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Return SHIK's ``g = exp(-width^2/(r - cutoff)^2)`` and ``dg/dr`` (1/A), both 0 for r >= cutoff."""
    inside = r < cutoff
    gap = np.where(inside, r - cutoff, -1.0)
    g = np.where(inside, np.exp(-(width**2) / gap**2), 0.0)
    return g, g * 2.0 * width**2 / gap**3


def _shik_short_range(p: dict, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``u(r)`` (eV) and ``u'(r)`` (eV/A) for ``u = A exp(-B r) - C/r^6 + D/r^24``."""
    e = p['A_eV'] * np.exp(-p['B_inv_A'] * r)
    u = e - p['C_eV_A6'] / r**6 + p['D_eV_A24'] / r**24
    du = -p['B_inv_A'] * e + 6.0 * p['C_eV_A6'] / r**7 - 24.0 * p['D_eV_A24'] / r**25
    return u, du


def _short_range(ff: dict, a: str, b: str, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the short-range energy (eV) and force -dV/dr (eV/A) of pair a-b at distances r."""
    r = np.asarray(r, dtype=float)
    p = _pair_params(ff, a, b)
    cutoff = ff['cutoff_short_range_A']
    if p is None:
        return np.zeros_like(r), np.zeros_like(r)
    if ff['name'] == 'shik':
        u, du = _shik_short_range(p, r)
        u_cut, _ = _shik_short_range(p, np.asarray(cutoff))
        g, dg = _smoothing(r, cutoff, ff['smoothing_width_A'])
        return (u - u_cut) * g, -(du * g + (u - u_cut) * dg)
    energy, force = _buckingham(p, r)
    core_energy, core_force = _core_correction(p, r)
    beyond = r > cutoff
    return np.where(beyond, 0.0, energy + core_energy), np.where(beyond, 0.0, force + core_force)


def _buckingham(p: dict, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``A exp(-r/rho) - C/r^6`` (eV) and its force -dV/dr (eV/A) at r (A), shape (n,) each."""
    e = p['A_eV'] * np.exp(-r / p['rho_A'])
    return e - p['C_eV_A6'] / r**6, e / p['rho_A'] - 6.0 * p['C_eV_A6'] / r**7


def _core_correction(p: dict, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the Deng-Du core minus the Buckingham term: energy (eV) and force (eV/A), 0 beyond r0.

    ``B/r^n + D r^2 - (A exp(-r/rho) - C/r^6)`` for r <= r0, 0 for r > r0 and for a pair without a
    core; it and its first two derivatives vanish at r0 (:func:`_solve_core`). Shape (n,) each.
    """
    if 'core' not in p:
        return np.zeros_like(r), np.zeros_like(r)
    core = p['core']
    buckingham_energy, buckingham_force = _buckingham(p, r)
    energy = core['B_eV_An'] / r ** core['n'] + core['D_eV_A2'] * r**2 - buckingham_energy
    force = core['n'] * core['B_eV_An'] / r ** (core['n'] + 1) - 2.0 * core['D_eV_A2'] * r - buckingham_force
    in_core = r <= core['r0_A']
    return np.where(in_core, energy, 0.0), np.where(in_core, force, 0.0)


def pair_energy(ff: dict, a: str, b: str, r: np.ndarray) -> np.ndarray:
    """Return the short-range pair energy (core and smoothing included, Coulomb excluded).

    Parameters
    ----------
    ff : dict
        Output of :func:`build_forcefield`.
    a, b : str
        Element symbols of the pair (order irrelevant).
    r : numpy.ndarray, shape (n,)
        Distances in A (> 0).

    Returns
    -------
    numpy.ndarray, shape (n,)
        Energy in eV; 0 beyond the short-range cut-off and for pairs without a short-range term.
    """
    return _short_range(ff, a, b, r)[0]


def pair_force(ff: dict, a: str, b: str, r: np.ndarray) -> np.ndarray:
    """Return -dV/dr of the short-range pair energy (:func:`pair_energy`).

    Parameters
    ----------
    ff : dict
        Output of :func:`build_forcefield`.
    a, b : str
        Element symbols of the pair.
    r : numpy.ndarray, shape (n,)
        Distances in A (> 0).

    Returns
    -------
    numpy.ndarray, shape (n,)
        Force in eV/A, positive = repulsive.
    """
    return _short_range(ff, a, b, r)[1]


def coulomb_energy(ff: dict, a: str, b: str, r: np.ndarray) -> np.ndarray:
    """Return the bare Coulomb energy ``q_a q_b e^2 / (4 pi eps0 r)`` of an isolated pair.

    Parameters
    ----------
    ff : dict
        Output of :func:`build_forcefield` (charges from ``ff['charges_e']``).
    a, b : str
        Element symbols.
    r : numpy.ndarray, shape (n,)
        Distances in A.

    Returns
    -------
    numpy.ndarray, shape (n,)
        Energy in eV, with e^2/(4 pi eps0) = 14.399645 eV A (LAMMPS ``units metal``).
    """
    _pair_params(ff, a, b)
    return QQR2E_EV_A * ff['charges_e'][a] * ff['charges_e'][b] / np.asarray(r, dtype=float)


def _model_coulomb(ff: dict, a: str, b: str, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the model's Coulomb energy (eV) and force (eV/A) of an isolated pair."""
    r = np.asarray(r, dtype=float)
    qq = QQR2E_EV_A * ff['charges_e'][a] * ff['charges_e'][b]
    if ff['coulomb']['method'] == 'ewald_pppm':
        return coulomb_energy(ff, a, b, r), qq / r**2
    _pair_params(ff, a, b)
    cutoff = ff['coulomb']['cutoff_A']
    g, dg = _smoothing(r, cutoff, ff['smoothing_width_A'])
    shifted = 1.0 / r - 1.0 / cutoff + (r - cutoff) / cutoff**2
    return qq * shifted * g, -qq * ((-1.0 / r**2 + 1.0 / cutoff**2) * g + shifted * dg)


def model_coulomb_energy(ff: dict, a: str, b: str, r: np.ndarray) -> np.ndarray:
    """Return the Coulomb energy of an isolated pair as the force field defines it.

    ``deng_du``: the bare Coulomb energy (Ewald/PPPM sums exactly that for an isolated pair).
    ``shik``: ``q_a q_b e^2/(4 pi eps0) [1/r - 1/rc + (r - rc)/rc^2] exp(-gamma^2/(r - rc)^2)``
    for r < rc = 10 A, 0 beyond (the authors' shik/wolf pair style).

    Parameters
    ----------
    ff : dict
        Output of :func:`build_forcefield`.
    a, b : str
        Element symbols.
    r : numpy.ndarray, shape (n,)
        Distances in A.

    Returns
    -------
    numpy.ndarray, shape (n,)
        Energy in eV.
    """
    return _model_coulomb(ff, a, b, r)[0]


def model_coulomb_force(ff: dict, a: str, b: str, r: np.ndarray) -> np.ndarray:
    """Return -dV/dr (eV/A) of :func:`model_coulomb_energy`; same parameters, shape (n,)."""
    return _model_coulomb(ff, a, b, r)[1]


def table_energy(ff: dict, a: str, b: str, r: np.ndarray) -> np.ndarray:
    """Return the energy (eV) that the LAMMPS table holds for pair a-b at distances r (A).

    SHIK (``ff['coulomb']['tabulated']``): the short-range part (:func:`pair_energy`) plus the
    model Coulomb term. Deng-Du: only the repulsive core minus the Buckingham term below r0 (0
    beyond r0 and for a pair without a core); LAMMPS' native ``buck/coul/long`` adds the rest.
    Shape (n,) in, shape (n,) out.
    """
    return _table_terms(ff, a, b, r)[0]


def table_force(ff: dict, a: str, b: str, r: np.ndarray) -> np.ndarray:
    """Return the force -dV/dr (eV/A) that the LAMMPS table holds; see :func:`table_energy`."""
    return _table_terms(ff, a, b, r)[1]


def _table_terms(ff: dict, a: str, b: str, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the energy (eV) and force (eV/A) of the LAMMPS table of pair a-b at r (A), shape (n,) each."""
    r = np.asarray(r, dtype=float)
    if not ff['coulomb']['tabulated']:
        p = _pair_params(ff, a, b)
        return _core_correction(p, r) if p is not None else (np.zeros_like(r), np.zeros_like(r))
    energy, force = _short_range(ff, a, b, r)
    coulomb_energy_, coulomb_force = _model_coulomb(ff, a, b, r)
    return energy + coulomb_energy_, force + coulomb_force


# --------------------------------------------------------------------------- LAMMPS rendering


def tabulated_pairs(ff: dict, species_order: Sequence[str]) -> list[tuple[int, int]]:
    """Return the 0-based type pairs (i <= j) of ``species_order`` that the LAMMPS table carries.

    SHIK: every pair (the table holds the whole interaction). Deng-Du: the pairs with a repulsive
    core (the table holds only its correction to the Buckingham term).
    """
    species = list(species_order)
    return [
        (i, j) for i in range(len(species)) for j in range(i, len(species))
        if ff['coulomb']['tabulated'] or 'core' in ff['pairs'].get(pair_key(species[i], species[j]), {})
    ]


def _table_cutoff(ff: dict, a: str, b: str) -> float:
    """Return the outer radius (A) of the LAMMPS table of pair a-b (Deng-Du: the core radius r0)."""
    if ff['coulomb']['tabulated']:
        return max(ff['cutoff_short_range_A'], ff['coulomb']['cutoff_A'])
    return ff['pairs'][pair_key(a, b)]['core']['r0_A']


def table_distances(ff: dict, a: str, b: str) -> np.ndarray:
    """Return the distances (A) of pair a-b's table in the file, shape (file_points,), evenly spaced in r."""
    return np.linspace(ff['table']['inner_A'], _table_cutoff(ff, a, b), ff['table']['file_points'])


def _table_force_slopes(ff: dict, a: str, b: str, r: np.ndarray) -> tuple[float, float]:
    """Return dF/dr (eV/A^2) of the tabulated force at both ends of r (A, shape (n,)).

    Second-order one-sided differences with a 1e-4 A step, inside [r[0], r[-1]] so that the
    short-range cut-off is never crossed. Only used for the ``FPRIME`` end conditions of the cubic
    spline that LAMMPS lays through the file.
    """
    h = 1e-4
    lo = table_force(ff, a, b, r[0] + h * np.arange(3))
    hi = table_force(ff, a, b, r[-1] - h * np.arange(3))
    return float(-3.0 * lo[0] + 4.0 * lo[1] - lo[2]) / (2.0 * h), float(3.0 * hi[0] - 4.0 * hi[1] + hi[2]) / (2.0 * h)


def _table_section(ff: dict, a: str, b: str) -> str:
    """Return one ``pair_style table`` section (keyword, header, rows) for pair a-b."""
    r = table_distances(ff, a, b)
    energy, force = _table_terms(ff, a, b, r)
    slopes = _table_force_slopes(ff, a, b, r)
    header = f'{pair_key(a, b)}\nN {r.size} R {r[0]:.12g} {r[-1]:.12g} FPRIME {slopes[0]:.12e} {slopes[1]:.12e}\n\n'
    rows = '\n'.join(f'{i} {x:.12e} {e:.12e} {f:.12e}' for i, (x, e, f) in enumerate(zip(r, energy, force), 1))
    return header + rows + '\n'


def _native_commands(ff: dict, species: list[str], with_table: bool) -> list[str]:
    """Return the ``pair_style`` and ``buck/coul/long`` ``pair_coeff`` lines of a Deng-Du potential.

    Every type pair gets ``A rho C`` of its Buckingham term, or ``0 1 0 0`` (no short range: its
    own short-range cut-off 0) when the force field gives it none; with ``with_table`` the style is
    ``hybrid/overlay`` with ``table linear N`` for the core corrections.
    """
    cutoffs = f'{ff["cutoff_short_range_A"]:g} {ff["coulomb"]["cutoff_real_space_A"]:g}'
    style = 'hybrid/overlay buck/coul/long' if with_table else 'buck/coul/long'
    table = f' table linear {ff["table"]["points"]}' if with_table else ''
    commands = [f'pair_style {style} {cutoffs}{table}']
    sub_style = ' buck/coul/long' if with_table else ''
    for i, a in enumerate(species):
        for j in range(i, len(species)):
            term = ff['pairs'].get(pair_key(a, species[j]))
            coefficients = f'{term["A_eV"]!r} {term["rho_A"]!r} {term["C_eV_A6"]!r}' if term else '0.0 1.0 0.0 0.0'
            commands.append(f'pair_coeff {i + 1} {j + 1}{sub_style} {coefficients}')
    return commands


def lammps_potential(
    ff: dict, species_order: Sequence[str], table_filename: str = 'potential.table'
) -> tuple[list[str], str]:
    """Render the force field as LAMMPS commands and a ``pair_style table`` file.

    Deng-Du: ``pair_style hybrid/overlay buck/coul/long RS RC table linear N``; LAMMPS' native
    ``buck/coul/long`` carries the Buckingham terms and the real-space Coulomb of every pair
    (cation-cation pairs ``0 1 0`` with a zero short-range cut-off: Coulomb only), and the table
    only the repulsive core's correction below r0 (``table_energy``) for the pairs with a core, cut
    at r0; ``kspace_style pppm 1e-05`` and ``kspace_modify order 7``. The table style still loops
    over its pairs' whole neighbour list (LAMMPS 2025 does not trim a hybrid sub-style's skip list to
    its cut-off), but only looks up a distance below r0; a table of the whole short range to the
    10 A cut-off had cost twice the pair time of ``buck/coul/long`` (``benchmarks/lammps_overhead.py``).
    SHIK: ``pair_style table linear N`` with one entry for every type
    pair; each entry holds the complete SHIK pair interaction, smoothed Wolf Coulomb included,
    because no built-in LAMMPS style has SHIK's smoothing factor (coul/dsf with alpha = 0 is the
    unsmoothed shifted-force form); the data-file charges are then used by analysis only.
    The file holds ``ff['table']['file_points']`` rows evenly spaced in r from ``inner_A`` to the
    table's end with exact energies and forces (and ``FPRIME`` force slopes at both ends); LAMMPS lays a
    clamped cubic spline through them, samples it on ``ff['table']['points']`` points evenly spaced
    in r^2, and interpolates linearly in r^2 between those during the run. The cubic spline through
    the fine file is exact to < 1e-8 relative, so the run-time error is the linear-interpolation one,
    kept small by the large ``points``; the file stays a few hundred kB per pair for the provenance
    store. ``buck/coul/long``, ``table``, ``coul/long`` and ``pppm`` all have ``/omp`` variants for ``-sf omp``.
    Charges are not set here: the data file carries ``ff['charges_e']``.

    Parameters
    ----------
    ff : dict
        Output of :func:`build_forcefield`.
    species_order : Sequence[str]
        ``species_order[k]`` is the element of LAMMPS atom type k + 1.
    table_filename : str
        Name under which the caller writes the returned table text (referenced in ``pair_coeff``).

    Returns
    -------
    tuple[list[str], str]
        LAMMPS command lines (no newlines) and the text of the table file.
    """
    species = list(species_order)
    unknown = [el for el in species if el not in ff['charges_e']]
    if unknown or len(set(species)) != len(species):
        raise ForceFieldError(
            f'species_order must list distinct elements of force field {ff["name"]!r} '
            f'({", ".join(ff["elements"])}), got {species}'
        )
    points, tabulated = ff['table']['points'], ff['coulomb']['tabulated']
    table_pairs = tabulated_pairs(ff, species)
    commands = [f'pair_style table linear {points}'] if tabulated else _native_commands(ff, species, bool(table_pairs))
    sections = []
    for i, j in table_pairs:
        a, b = species[i], species[j]
        style = '' if tabulated else ' table'
        commands.append(f'pair_coeff {i + 1} {j + 1}{style} {table_filename} {pair_key(a, b)} {_table_cutoff(ff, a, b):.12g}')
        sections.append(_table_section(ff, a, b))
    if not tabulated:
        commands.append(f'kspace_style {ff["coulomb"]["kspace_style"]} {ff["coulomb"]["kspace_accuracy_relative"]:g}')
        if 'kspace_order' in ff['coulomb']:  # a force field stored before the order was set keeps LAMMPS' 5
            commands.append(f'kspace_modify order {ff["coulomb"]["kspace_order"]}')
    title = f'# {ff["name"]} pair table written by aiida_boroglass.glass.forcefields; r in A, energy in eV, force in eV/A\n'
    return commands, title + '\n' + '\n'.join(sections)
