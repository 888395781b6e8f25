"""Oxide glass compositions: parsing, ratios, atom counts, molar mass and density.

Plain Python (no AiiDA import). A :class:`Composition` holds the mole fractions of the
oxides of an alkali borate / borophosphate / borosilicate glass and is built with
:meth:`Composition.parse` from any of the notations used in the literature::

    Composition.parse({'Li2O': 30, 'B2O3': 70})               # mol% or mole fractions
    Composition.parse('Li2O-B2O3', x=0.3)                      # x = fraction of first oxide
    Composition.parse('xK2O-(1-x)B2O3', x=0.2)                 # also 0.3Li2O·0.7B2O3, 30Li2O-70B2O3
    Composition.parse('(Li2O)40(B2O3)30(P2O5)30')              # also (B2O3)66.6(Li2O)33.3
    Composition.parse('0.33Li2O-0.67[xB2O3-(1-x)P2O5]', x=0.5) # nested, [] or ()
    Composition.parse('xLi2O-(100-x)(0.5B2O3-0.5P2O5)', x=38)  # x in mol% (paper 002)
    Composition.parse('LB70')                                  # 70 mol% B2O3, 30 Li2O
    Composition.parse('LBS-10-50-40')                          # SiO2-B2O3-Li2O mol% (paper 001)
    Composition.parse('Li40B30P30')                            # element -> its oxide, mol%
    Composition.parse('38LiBP')                                # 38Li2O-62[0.5B2O3-0.5P2O5]

Every bad input raises :class:`CompositionError` naming the offending field or token.
"""
from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from pathlib import Path

import numpy as np
import yaml

from aiida_boroglass.glass.elements import ATOMIC_MASSES_G_MOL

__all__ = (
    'OXIDES',
    'ALKALI_OXIDES',
    'CompositionError',
    'Composition',
    'AtomCounts',
    'DensityEstimate',
)

#: Supported oxides (in canonical order) -> {element: atoms per formula unit}.
OXIDES: dict[str, dict[str, int]] = {
    'Li2O': {'Li': 2, 'O': 1},
    'Na2O': {'Na': 2, 'O': 1},
    'K2O': {'K': 2, 'O': 1},
    'B2O3': {'B': 2, 'O': 3},
    'P2O5': {'P': 2, 'O': 5},
    'SiO2': {'Si': 1, 'O': 2},
    'Al2O3': {'Al': 2, 'O': 3},
}
ALKALI_OXIDES = ('Li2O', 'Na2O', 'K2O')

#: Canonical element order of :attr:`Composition.elements` and :attr:`AtomCounts.counts`.
_ELEMENT_ORDER = ('Li', 'Na', 'K', 'B', 'P', 'Si', 'Al', 'O')

#: Element symbol -> its oxide, for short names such as ``Li40B30P30`` and ``LB70``.
_ELEMENT_OXIDE = {'Li': 'Li2O', 'Na': 'Na2O', 'K': 'K2O', 'B': 'B2O3', 'P': 'P2O5', 'Si': 'SiO2', 'Al': 'Al2O3'}
_LETTER_ALKALI = {'L': 'Li2O', 'N': 'Na2O', 'K': 'K2O'}

#: Percent notation (66.6 + 33.3) carries fewer digits: its sum may be off by this (mole fraction).
_PERCENT_MIN_TOL = 5e-3
#: Two compositions closer than this (max mole-fraction difference) are the same glass for density look-up.
_DENSITY_MATCH_TOL = 5e-3
#: Fractions are rounded to this many decimals so that equal glasses written differently compare equal.
_FRACTION_DECIMALS = 12
#: Glasses of the density table that must hold an oxide pair for the molar-volume model to fit its excess volume.
_MIN_PAIR_GLASSES = 3
_DENSITY_TABLE = Path(__file__).parent / 'data' / 'densities.yaml'


class CompositionError(ValueError):
    """Invalid composition input; the message names the offending field/token and what is allowed."""


# --------------------------------------------------------------------------------------------
# data classes
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AtomCounts:
    """Whole-formula-unit atom counts for a simulation cell.

    Attributes
    ----------
    counts : dict[str, int]
        Element -> number of atoms (order Li, Na, K, B, P, Si, Al, O).
    formula_units : dict[str, int]
        Oxide -> number of oxide formula units (molecules), each >= 1.
    n_atoms : int
        Achieved total number of atoms.
    achieved_fractions : dict[str, float]
        Oxide -> achieved mole fraction (formula units / total formula units).
    max_deviation : float
        Max over oxides of ``|achieved - requested|`` mole fraction.
    requested_atoms : int
        The number of atoms that was asked for.

    Notes
    -----
    Whole oxide units make the cell charge neutral with the formal charges
    Li/Na/K +1, B/Al +3, P +5, Si +4, O -2.
    """

    counts: dict[str, int]
    formula_units: dict[str, int]
    n_atoms: int
    achieved_fractions: dict[str, float]
    max_deviation: float
    requested_atoms: int


@dataclass(frozen=True)
class DensityEstimate:
    """A glass density and where it comes from.

    Attributes
    ----------
    value_g_cm3 : float
        Density in g/cm3.
    source : str
        Citation or description of how the value was obtained (``user value``,
        ``tabulated ...``, ``interpolated between ...`` or ``estimate: ...``); an estimate
        extrapolated beyond its cited data ends with ``; WARNING: `` and :attr:`warning`.
    warning : str or None
        One line saying that the value is extrapolated beyond the cited data, or ``None``.
    """

    value_g_cm3: float
    source: str
    warning: str | None = None


@dataclass(frozen=True)
class Composition:
    """Mole fractions of the oxides of a glass.

    Build it with :meth:`parse` (or :meth:`from_dict`); the constructor only checks that
    ``fractions`` and ``label`` are already canonical.

    Attributes
    ----------
    fractions : dict[str, float]
        Oxide -> mole fraction; only nonzero oxides, ordered as in :data:`OXIDES`, sum 1.
        Treat as read-only.
    label : str
        Canonical readable label in mol%, e.g. ``'30Li2O-70B2O3'``.
    """

    fractions: dict[str, float]
    label: str

    def __post_init__(self):
        if not isinstance(self.fractions, Mapping) or not self.fractions:
            raise CompositionError(
                f'fractions must be a non-empty mapping oxide -> mole fraction, got {self.fractions!r}'
            )
        _check_oxides(self.fractions)
        if list(self.fractions) != [oxide for oxide in OXIDES if oxide in self.fractions]:
            raise CompositionError(f'fractions must be ordered as in OXIDES {tuple(OXIDES)}; use Composition.parse')
        if any(not _is_real(v) or not 0 < v <= 1 for v in self.fractions.values()):
            raise CompositionError(f'fractions must be mole fractions in (0, 1], got {dict(self.fractions)}')
        total = math.fsum(self.fractions.values())
        if abs(total - 1) > 1e-9:
            raise CompositionError(f'fractions must sum to 1, they sum to {total:.12g}; use Composition.parse')
        if self.label != _make_label(self.fractions):
            raise CompositionError(
                f'label {self.label!r} does not match the fractions (expected {_make_label(self.fractions)!r})'
            )

    def __hash__(self):
        return hash(tuple(self.fractions.items()))

    # ---------------------------------------------------------------- construction
    @classmethod
    def parse(cls, spec: str | Mapping[str, float], x: float | None = None, tol: float = 1e-3) -> Composition:
        """Parse a composition written in any supported notation.

        Parameters
        ----------
        spec : str or Mapping[str, float]
            A mapping oxide -> amount (mol% if the amounts sum to ~100, mole fractions if they
            sum to ~1), or a string in one of the notations listed in the module docstring.
        x : float, optional
            Value of the variable ``x`` in the spec. A mole fraction in [0, 1] where ``x`` is a
            fraction (``xK2O-(1-x)B2O3``, ``Li2O-B2O3``: x is the fraction of the first oxide);
            mol% in [0, 100] where the amounts are percent (``xLi2O-(100-x)(...)``).
            Must be given exactly when the spec contains ``x``.
        tol : float
            Allowed deviation of a sum of amounts from 1, as a mole fraction. Percent amounts
            (sum ~100) are allowed at least 0.5 mol% (``(B2O3)66.6(Li2O)33.3`` sums to 99.9).
            Accepted sums are normalized.

        Returns
        -------
        Composition

        Raises
        ------
        CompositionError
            Unknown oxide, unparseable text (with its position), negative amount, sum not 1 or
            100 within tolerance, ``x`` missing, unused or out of range.
        """
        if not _is_real(tol) or not 0 < tol < 0.1:
            raise CompositionError(f'tol must be a mole fraction in (0, 0.1), got {tol!r}')
        if x is not None:
            if not _is_real(x) or not math.isfinite(x):
                raise CompositionError(f'x must be a finite number, got {x!r}')
            if x < 0:
                raise CompositionError(f'x must be >= 0 (a mole fraction in [0, 1] or mol% in [0, 100]), got {x}')
        if isinstance(spec, Mapping):
            if x is not None:
                raise CompositionError(f'x={x} was given but a mapping spec has no x')
            amounts = _normalize_mapping(spec, tol)
        elif isinstance(spec, str):
            amounts = _parse_string(spec, x, tol)
        else:
            raise CompositionError(f'spec must be a string or a mapping oxide -> amount, got {type(spec).__name__}')
        return cls._from_amounts(amounts)

    @classmethod
    def _from_amounts(cls, amounts: Mapping[str, float]) -> Composition:
        """Build from nonnegative amounts summing to ~1: drop zeros, order, round, label."""
        total = math.fsum(amounts.values())
        fractions = {
            oxide: round(amounts[oxide] / total, _FRACTION_DECIMALS)
            for oxide in OXIDES
            if amounts.get(oxide, 0) > 0
        }
        return cls(fractions=fractions, label=_make_label(fractions))

    def to_dict(self) -> dict:
        """Return a JSON-serializable dict ``{'fractions': {oxide: mole fraction}, 'label': str}``."""
        return {'fractions': dict(self.fractions), 'label': self.label}

    @classmethod
    def from_dict(cls, d: Mapping) -> Composition:
        """Rebuild a composition from :meth:`to_dict` output (exact round trip).

        Parameters
        ----------
        d : Mapping
            ``{'fractions': {oxide: mole fraction}, 'label': str}``; ``label`` is optional and,
            when present, must match the fractions.
        """
        if not isinstance(d, Mapping) or not isinstance(d.get('fractions'), Mapping):
            raise CompositionError(f"from_dict needs a mapping with a 'fractions' mapping, got {d!r}")
        _check_oxides(d['fractions'])
        fractions = {oxide: d['fractions'][oxide] for oxide in OXIDES if oxide in d['fractions']}
        return cls(fractions=fractions, label=d.get('label', _make_label(fractions)))

    # ---------------------------------------------------------------- derived quantities
    @property
    def elements(self) -> tuple[str, ...]:
        """Elements present, ordered Li, Na, K, B, P, Si, Al, O."""
        present = {element for oxide in self.fractions for element in OXIDES[oxide]}
        return tuple(element for element in _ELEMENT_ORDER if element in present)

    @property
    def ratio_r(self) -> float:
        """R = [M2O]/[B2O3] (molar ratio), M2O = Li2O + Na2O + K2O.

        Defined as stated for borophosphates and borosilicates too (P2O5, SiO2 do not enter).

        Raises
        ------
        CompositionError
            If the glass has no B2O3 (R is undefined; no inf is returned).
        """
        alkali = math.fsum(self.fractions.get(oxide, 0.0) for oxide in ALKALI_OXIDES)
        return alkali / self._b2o3('ratio_r')

    @property
    def ratio_k(self) -> float:
        """K = [SiO2]/[B2O3] (molar ratio).

        Raises
        ------
        CompositionError
            If the glass has no B2O3.
        """
        return self.fractions.get('SiO2', 0.0) / self._b2o3('ratio_k')

    def _b2o3(self, name: str) -> float:
        if 'B2O3' not in self.fractions:
            raise CompositionError(f'{name} is undefined for {self.label}: it contains no B2O3')
        return self.fractions['B2O3']

    def molar_mass_g_mol(self) -> float:
        """Molar mass of the oxide mixture in g/mol (per mole of oxide formula units)."""
        return math.fsum(frac * _oxide_mass_g_mol(oxide) for oxide, frac in self.fractions.items())

    def atom_counts(self, n_atoms: int) -> AtomCounts:
        """Whole oxide formula units giving about ``n_atoms`` atoms.

        Algorithm: ``n_atoms`` must be at least the atoms of the smallest split giving every
        oxide one unit. The ideal number of formula units is ``T* = n_atoms / a``, with ``a`` the
        mean atoms per formula unit. For each total ``T`` within 4 of ``T*``, the units are
        split by largest-remainder rounding of ``fraction * T``. Among the splits that give
        every oxide at least one unit and whose atom total is within one formula unit of the
        largest oxide (e.g. 7 atoms with P2O5) of ``n_atoms``, the one with the smallest mole
        fraction deviation wins (ties: closer atom total, then fewer units); when none is
        that close, the closest atom total wins. Composition accuracy is preferred over the
        exact atom total: LB70 at 300 atoms gives 20 Li2O + 47 B2O3 = 295 atoms (0.15 mol%
        off) rather than 20 + 48 = 300 atoms (0.59 mol% off).

        Parameters
        ----------
        n_atoms : int
            Requested number of atoms (> 0).

        Returns
        -------
        AtomCounts

        Raises
        ------
        CompositionError
            If ``n_atoms`` is not a positive integer, or is too small for one unit of every
            oxide (the message gives the minimum number of atoms).
        """
        if isinstance(n_atoms, bool) or not isinstance(n_atoms, (int, np.integer)) or n_atoms <= 0:
            raise CompositionError(f'n_atoms must be a positive integer, got {n_atoms!r}')
        min_atoms = self._min_atoms()
        if n_atoms < min_atoms:
            raise CompositionError(
                f'n_atoms={n_atoms} is too small for {self.label}: one formula unit of every oxide '
                f'needs at least {min_atoms} atoms'
            )
        atoms_per_unit = {oxide: sum(OXIDES[oxide].values()) for oxide in self.fractions}
        window = max(atoms_per_unit.values())
        ideal_units = n_atoms / math.fsum(f * atoms_per_unit[o] for o, f in self.fractions.items())
        candidates = []  # (max deviation, |atoms - n_atoms|, total units, units)
        for total in range(max(1, math.floor(ideal_units) - 4), math.ceil(ideal_units) + 5):
            units = _largest_remainder(self.fractions, total)
            if min(units.values()) > 0:
                miss = abs(sum(units[o] * atoms_per_unit[o] for o in units) - n_atoms)
                candidates.append((_max_deviation(self.fractions, units), miss, total, units))
        near = [c for c in candidates if c[1] <= window]
        if near:
            units = min(near, key=lambda c: c[:3])[3]
        else:
            units = min(candidates, key=lambda c: (c[1], c[0], c[2]))[3]
        return self._atom_counts_from_units(units, n_atoms)

    def _min_atoms(self) -> int:
        """Atom total of the smallest largest-remainder split giving every oxide >= 1 unit."""
        total = len(self.fractions)
        while min((units := _largest_remainder(self.fractions, total)).values()) == 0:
            total += 1
        return sum(units[o] * sum(OXIDES[o].values()) for o in units)

    def _atom_counts_from_units(self, units: dict[str, int], n_atoms: int) -> AtomCounts:
        counts: dict[str, int] = {}
        for oxide, n in units.items():
            for element, k in OXIDES[oxide].items():
                counts[element] = counts.get(element, 0) + k * n
        counts = {element: counts[element] for element in _ELEMENT_ORDER if element in counts}
        n_units = sum(units.values())
        return AtomCounts(
            counts=counts,
            formula_units=dict(units),
            n_atoms=sum(counts.values()),
            achieved_fractions={oxide: n / n_units for oxide, n in units.items()},
            max_deviation=_max_deviation(self.fractions, units),
            requested_atoms=int(n_atoms),
        )

    def density(self, density_g_cm3: float | None = None) -> DensityEstimate:
        """Room-temperature glass density in g/cm3, with its source.

        Order of precedence:

        1. ``density_g_cm3`` if given (must be in (0, 10) g/cm3);
        2. a glass of ``glass/data/densities.yaml`` within 0.5 mol% of this one;
        3. linear interpolation (in mole fraction) between the two closest glasses of one series
           of that table whose join passes within 0.5 mol% of this composition;
        4. the molar-volume model ``V_m = sum_i x_i V_i + sum_(i<j) x_i x_j W_ij``: partial molar
           volumes ``V_i`` (cm3/mol) of every oxide of the table and excess volumes ``W_ij`` of every
           oxide pair that at least three of its glasses hold, least-squares fitted to all its glasses;
           the source states the volumes and the rms and maximum error of the model on those
           glasses. Outside the range of mole fractions the table covers, the estimate comes
           with a :attr:`DensityEstimate.warning` (extrapolated, not refused).

        Parameters
        ----------
        density_g_cm3 : float, optional
            User density in g/cm3; wins over the table.

        Returns
        -------
        DensityEstimate

        Raises
        ------
        CompositionError
            If ``density_g_cm3`` is out of range, or the glass holds an oxide that no glass of
            the table holds (then the caller must pass ``density_g_cm3``).
        """
        if density_g_cm3 is not None:
            if not _is_real(density_g_cm3) or not 0 < density_g_cm3 < 10:
                raise CompositionError(f'density_g_cm3 must be a number in (0, 10) g/cm3, got {density_g_cm3!r}')
            return DensityEstimate(float(density_g_cm3), 'user value')
        return _tabulated(self) or _interpolated(self) or _molar_volume_estimate(self)

    def reference_n4(self) -> tuple[float, str] | None:
        """Tabulated N4 (fraction of four-fold boron) of this glass, with its source.

        Only a table glass within 0.5 mol% counts (no interpolation: N4 is not linear in
        composition). Values: paper 001 Table II (lithium borates and borosilicates).

        Returns
        -------
        tuple (float, str) or None
            N4 as a fraction in [0, 1] and the citation, or ``None`` when not tabulated.
        """
        glass = _closest_table_glass(self)
        if glass is None or glass.n4 is None:
            return None
        return glass.n4, f'tabulated {glass.name}: {glass.source}'


# --------------------------------------------------------------------------------------------
# helpers: validation, labels, rounding
# --------------------------------------------------------------------------------------------
def _is_real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _check_oxides(names) -> None:
    for name in names:
        if name not in OXIDES:
            raise CompositionError(f'unknown oxide {name!r}; allowed: {", ".join(OXIDES)}')


def _format_percent(value: float) -> str:
    """Mol% with at most two decimals, no trailing zeros (three significant digits below 0.01)."""
    text = f'{value:.2f}'.rstrip('0').rstrip('.')
    return text if text != '0' else f'{value:.3g}'


def _make_label(fractions: Mapping[str, float]) -> str:
    return '-'.join(f'{_format_percent(100 * frac)}{oxide}' for oxide, frac in fractions.items())


def _oxide_mass_g_mol(oxide: str) -> float:
    return math.fsum(k * ATOMIC_MASSES_G_MOL[element] for element, k in OXIDES[oxide].items())


def _largest_remainder(fractions: Mapping[str, float], total: int) -> dict[str, int]:
    """Split ``total`` units over oxides proportionally to ``fractions`` (largest remainder)."""
    exact = {oxide: frac * total for oxide, frac in fractions.items()}
    units = {oxide: math.floor(value) for oxide, value in exact.items()}
    by_remainder = sorted(exact, key=lambda oxide: exact[oxide] - units[oxide], reverse=True)
    for oxide in by_remainder[: total - sum(units.values())]:
        units[oxide] += 1
    return units


def _max_deviation(fractions: Mapping[str, float], units: Mapping[str, int]) -> float:
    n_units = sum(units.values())
    return max(abs(units[oxide] / n_units - frac) for oxide, frac in fractions.items())


def _classify_sum(total: float, tol: float, where: str) -> float:
    """Return the divisor (1 or 100) of a sum of amounts, or raise naming the sum."""
    percent_tol = max(tol, _PERCENT_MIN_TOL)
    if abs(total - 1) <= tol:
        return 1.0
    if abs(total / 100 - 1) <= percent_tol:
        return 100.0
    raise CompositionError(
        f'amounts of {where} sum to {total:.6g}; expected 1 (mole fractions, within {tol:g}) '
        f'or 100 (mol%, within {100 * percent_tol:g})'
    )


def _normalize_mapping(spec: Mapping, tol: float) -> dict[str, float]:
    """Mapping oxide -> mol% or mole fraction -> oxide -> amount summing to 1."""
    if not spec:
        raise CompositionError('composition mapping is empty; give oxide -> amount')
    _check_oxides(spec)
    for oxide, value in spec.items():
        if not _is_real(value) or not math.isfinite(value):
            raise CompositionError(f'amount of {oxide} must be a finite number, got {value!r}')
        if value < 0:
            raise CompositionError(f'amount of {oxide} is negative ({value}); amounts must be >= 0')
    divisor = _classify_sum(math.fsum(spec.values()), tol, f'composition {dict(spec)}')
    if not any(spec.values()):
        raise CompositionError(f'composition {dict(spec)} has no nonzero amount')
    return {oxide: value / divisor for oxide, value in spec.items()}


# --------------------------------------------------------------------------------------------
# string notations
# --------------------------------------------------------------------------------------------
_NUM = r'\d+(?:\.\d+)?'
_SHORT_ALKALI_BORATE = re.compile(rf'([LNK])B({_NUM})')  # LB70 = 70 mol% B2O3, rest alkali
_SHORT_BOROSILICATE = re.compile(rf'([LNK])BS-({_NUM})-({_NUM})-({_NUM})')  # SiO2-B2O3-M2O mol%
_SHORT_BOROPHOSPHATE = re.compile(rf'({_NUM})(Li|Na|K)BP')  # 38LiBP (paper 002 labels)
_SHORT_ELEMENTS = re.compile(rf'(?:(?:Li|Na|K|B|P|Si|Al){_NUM})+')  # Li40B30P30
_SHORT_ELEMENT_TERM = re.compile(rf'(Li|Na|K|Si|Al|B|P)({_NUM})')
_UNICODE = str.maketrans({
    **{chr(0x2080 + i): str(i) for i in range(10)},  # subscript digits
    '\u2212': '-', '\u2013': '-', '\u2014': '-',  # minus, en dash, em dash
    '\u2022': '\u00b7', '\u22c5': '\u00b7',  # bullet, dot operator -> middle dot
})


def _parse_short_name(text: str) -> dict[str, float] | None:
    """Short names (LB70, LBS-10-50-40, 38LiBP, Li40B30P30) -> oxide -> mol%; None if not one."""
    if match := _SHORT_ALKALI_BORATE.fullmatch(text):
        b2o3 = float(match[2])
        if b2o3 > 100:
            raise CompositionError(f'{text!r}: B2O3 content {b2o3} mol% must be in [0, 100]')
        return {_LETTER_ALKALI[match[1]]: 100 - b2o3, 'B2O3': b2o3}
    if match := _SHORT_BOROSILICATE.fullmatch(text):
        return {'SiO2': float(match[2]), 'B2O3': float(match[3]), _LETTER_ALKALI[match[1][0]]: float(match[4])}
    if match := _SHORT_BOROPHOSPHATE.fullmatch(text):
        alkali = float(match[1])
        if alkali > 100:
            raise CompositionError(f'{text!r}: alkali oxide content {alkali} mol% must be in [0, 100]')
        return {_ELEMENT_OXIDE[match[2]]: alkali, 'B2O3': (100 - alkali) / 2, 'P2O5': (100 - alkali) / 2}
    if _SHORT_ELEMENTS.fullmatch(text):
        amounts: dict[str, float] = {}
        for element, value in _SHORT_ELEMENT_TERM.findall(text):
            if _ELEMENT_OXIDE[element] in amounts:
                raise CompositionError(f'{text!r}: element {element} appears twice')
            amounts[_ELEMENT_OXIDE[element]] = float(value)
        return amounts
    return None


def _parse_string(spec: str, x: float | None, tol: float) -> dict[str, float]:
    text = spec.translate(_UNICODE)
    compact = re.sub(r'\s+', '', text)
    if not compact:
        raise CompositionError('composition string is empty')
    short = _parse_short_name(compact)
    if short is not None:
        if x is not None:
            raise CompositionError(f'x={x} was given but {spec!r} has no x')
        return _normalize_mapping(short, tol)
    level = _Parser(text).parse()
    context = _Evaluation(x=x, tol=tol, text=spec)
    amounts = context.level(level)
    if x is not None and not context.used_x:
        raise CompositionError(f'x={x} was given but {spec!r} does not use x')
    return amounts


_TOKEN = re.compile(
    r'(?P<num>\d+(?:\.\d*)?|\.\d+)|(?P<formula>[A-Z][A-Za-z0-9]*)|(?P<x>x)|(?P<op>[-+*/()\[\]\u00b7])|(?P<ws>\s+)'
)


@dataclass(frozen=True)
class _Token:
    kind: str  # 'num', 'formula', 'x', 'op'
    text: str
    pos: int


@dataclass(frozen=True)
class _Term:
    """``coef * unit``; coef is an arithmetic tree or None, unit an oxide name or a _Level."""

    coef: tuple | None
    unit: str | _Level
    pos: int


@dataclass(frozen=True)
class _Level:
    """Terms at one bracket depth, and the text they were written as."""

    terms: tuple[_Term, ...]
    text: str


def _parse_error(text: str, pos: int, message: str) -> CompositionError:
    return CompositionError(f'cannot parse composition {text!r} at position {pos}: {message}\n  {text}\n  {" " * pos}^')


class _Parser:
    """Recursive-descent parser for string compositions (no eval).

    Grammar (SEP is ``-``, ``+`` or ``·``; juxtaposed terms need no SEP)::

        level  := term (SEP? term)*
        term   := coef? unit | group NUMBER          # (Li2O)40: amount after the group
        coef   := NUMBER | 'x' | '(' arith ')'       # '(' holding no oxide is arithmetic
        unit   := OXIDE | group
        group  := '[' level ']' | '(' level ')'
        arith  := prod (('+'|'-') prod)* ; prod := unary (('*'|'/') unary)*
        unary  := '-' unary | NUMBER | 'x' | '(' arith ')'

    A level is a :class:`_Level` of :class:`_Term`; an arithmetic tree is a nested tuple
    ``('num', v)``, ``('x',)``, ``('neg', a)`` or ``(op, a, b)``.
    """

    _CLOSING = {'(': ')', '[': ']'}

    def __init__(self, text: str):
        self.text = text
        self.tokens = self._tokenize(text)
        self.i = 0

    def _tokenize(self, text: str) -> list[_Token]:
        tokens, pos = [], 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:
                hint = ' (the only variable is x)' if text[pos].isalpha() else ''
                raise _parse_error(text, pos, f'unexpected character {text[pos]!r}{hint}')
            if match.lastgroup != 'ws':
                tokens.append(_Token(match.lastgroup, match.group(), pos))
            pos = match.end()
        return tokens

    # token helpers
    def _peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _is(self, kind: str, text: str | None = None) -> bool:
        token = self._peek()
        return token is not None and token.kind == kind and (text is None or token.text == text)

    def _next(self) -> _Token:
        token = self._peek()
        if token is None:
            raise _parse_error(self.text, len(self.text), 'unexpected end of text')
        self.i += 1
        return token

    def _expect(self, text: str) -> None:
        token = self._peek()
        if token is None or token.text != text:
            pos = len(self.text) if token is None else token.pos
            found = 'end of text' if token is None else repr(token.text)
            raise _parse_error(self.text, pos, f'expected {text!r}, found {found}')
        self.i += 1

    def _error_here(self, message: str) -> CompositionError:
        token = self._peek()
        return _parse_error(self.text, len(self.text) if token is None else token.pos, message)

    # grammar
    def parse(self) -> _Level:
        level = self._level(closing=None)
        if self._peek() is not None:
            raise self._error_here(f'unexpected {self._peek().text!r}')
        return level

    def _level(self, closing: str | None) -> _Level:
        start = self._peek().pos if self._peek() is not None else len(self.text)
        terms = [self._term()]
        while (token := self._peek()) is not None and token.text != closing:
            if token.kind == 'op' and token.text in '-+\u00b7':
                self.i += 1
            elif not self._starts_term():
                raise self._error_here(f'unexpected {token.text!r}, expected a separator (-, +, ·) or a term')
            terms.append(self._term())
        end = len(self.text) if self._peek() is None else self._peek().pos
        return _Level(tuple(terms), self.text[start:end].strip())

    def _starts_term(self) -> bool:
        return self._is('num') or self._is('x') or self._is('formula') or self._is('op', '(') or self._is('op', '[')

    def _term(self) -> _Term:
        token = self._peek()
        if token is None:
            raise self._error_here('expected a term (amount and oxide)')
        coef = None
        if token.kind in ('num', 'x') or (token.text == '(' and not self._group_ahead()):
            coef = self._unary()
        unit_token = self._peek()
        if unit_token is not None and unit_token.kind == 'formula':
            self.i += 1
            if unit_token.text not in OXIDES:
                raise _parse_error(
                    self.text, unit_token.pos, f'unknown oxide {unit_token.text!r}; allowed: {", ".join(OXIDES)}'
                )
            return _Term(coef, unit_token.text, token.pos)
        if unit_token is not None and unit_token.text in self._CLOSING:
            self.i += 1
            unit = self._level(closing=self._CLOSING[unit_token.text])
            self._expect(self._CLOSING[unit_token.text])
            if coef is None and self._is('num'):
                coef = ('num', float(self._next().text))
            return _Term(coef, unit, token.pos)
        raise self._error_here('expected an oxide (one of ' + ', '.join(OXIDES) + ') or a bracketed group')

    def _group_ahead(self) -> bool:
        """True if the '(' at the cursor encloses an oxide (a group), False if it is arithmetic."""
        depth = 0
        for token in self.tokens[self.i :]:
            if token.text in '([':
                depth += 1
            elif token.text in ')]':
                depth -= 1
                if depth == 0:
                    return False
            elif token.kind == 'formula':
                return True
        raise self._error_here("unclosed '('")

    def _sum(self) -> tuple:
        tree = self._product()
        while self._is('op', '+') or self._is('op', '-'):
            tree = (self._next().text, tree, self._product())
        return tree

    def _product(self) -> tuple:
        tree = self._unary()
        while self._is('op', '*') or self._is('op', '/'):
            tree = (self._next().text, tree, self._unary())
        return tree

    def _unary(self) -> tuple:
        token = self._next()
        if token.text == '-':
            return ('neg', self._unary())
        if token.kind == 'num':
            return ('num', float(token.text))
        if token.kind == 'x':
            return ('x',)
        if token.text == '(':
            tree = self._sum()
            self._expect(')')
            return tree
        raise _parse_error(self.text, token.pos, f'unexpected {token.text!r}, expected a number, x or (')


class _Evaluation:
    """Evaluate a parsed level into oxide -> amount (sum 1), checking x and sums."""

    def __init__(self, x: float | None, tol: float, text: str):
        self.x, self.tol, self.text = x, tol, text
        self.used_x = False

    def _x(self) -> float:
        if self.x is None:
            raise CompositionError(f'{self.text!r} contains x but no x was given; pass x=...')
        self.used_x = True
        return self.x

    def _arith(self, tree: tuple) -> float:
        kind = tree[0]
        if kind == 'num':
            return tree[1]
        if kind == 'x':
            return self._x()
        if kind == 'neg':
            return -self._arith(tree[1])
        a, b = self._arith(tree[1]), self._arith(tree[2])
        if kind == '+':
            return a + b
        if kind == '-':
            return a - b
        if kind == '*':
            return a * b
        if b == 0:
            raise CompositionError(f'{self.text!r}: division by zero in an amount')
        return a / b

    @staticmethod
    def _uses_x(tree: tuple) -> bool:
        return tree[0] == 'x' or any(isinstance(t, tuple) and _Evaluation._uses_x(t) for t in tree[1:])

    def _coefficients(self, level: _Level) -> tuple[list[float], bool]:
        """Amounts of the terms of a level, and whether they depend on x."""
        terms = level.terms
        if all(term.coef is None for term in terms):
            if len(terms) == 1:
                return [1.0], False
            if len(terms) == 2:  # 'Li2O-B2O3': x is the mole fraction of the first component
                if self.x is None:
                    raise CompositionError(
                        f'{level.text!r} gives no amounts: pass x = mole fraction of the first component'
                    )
                return [self._x(), 1 - self._x()], True
            raise CompositionError(f'{level.text!r} lists {len(terms)} components without amounts; give the amounts')
        for term in terms:
            if term.coef is None:
                raise _parse_error(self.text, term.pos, 'this term has no amount while the others have one')
        return [self._arith(term.coef) for term in terms], any(self._uses_x(term.coef) for term in terms)

    def level(self, level: _Level) -> dict[str, float]:
        coefs, uses_x = self._coefficients(level)
        divisor = _classify_sum(math.fsum(coefs), self.tol, repr(level.text))
        if uses_x and self.x > divisor:
            allowed = 'a mole fraction in [0, 1]' if divisor == 1 else 'mol% in [0, 100]'
            raise CompositionError(f'x={self.x} is out of range: in {level.text!r} x is {allowed}')
        amounts: dict[str, float] = {}
        for term, coef in zip(level.terms, coefs):
            if coef < 0:
                with_x = '' if self.x is None else f' with x={self.x}'
                raise _parse_error(self.text, term.pos, f'amount {coef:g}{with_x} is negative; amounts must be >= 0')
            parts = {term.unit: 1.0} if isinstance(term.unit, str) else self.level(term.unit)
            for oxide, part in parts.items():
                amounts[oxide] = amounts.get(oxide, 0.0) + coef / divisor * part
        if not any(amounts.values()):
            raise CompositionError(f'{level.text!r}: all amounts are zero')
        return amounts


# --------------------------------------------------------------------------------------------
# densities
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _TableGlass:
    name: str
    series: str
    composition: Composition
    density_g_cm3: float
    n4: float | None
    source: str


@functools.lru_cache(maxsize=1)
def _density_table() -> tuple[_TableGlass, ...]:
    """Glasses of ``data/densities.yaml`` (composition in mol%, density in g/cm3)."""
    with _DENSITY_TABLE.open(encoding='utf-8') as handle:
        entries = yaml.safe_load(handle)['glasses']
    return tuple(
        _TableGlass(e['name'], e['series'], Composition.parse(e['composition']), float(e['density_g_cm3']),
                    e.get('n4'), e['source'])
        for e in entries
    )


def _vector(composition: Composition) -> np.ndarray:
    """Mole fractions as a vector over all OXIDES."""
    return np.array([composition.fractions.get(oxide, 0.0) for oxide in OXIDES])


def _closest_table_glass(composition: Composition) -> _TableGlass | None:
    """The closest table glass within 0.5 mol% (max difference of mole fractions), if any."""
    target = _vector(composition)
    distance, glass = min(
        ((float(np.abs(_vector(g.composition) - target).max()), g) for g in _density_table()), key=lambda d: d[0]
    )
    return glass if distance <= _DENSITY_MATCH_TOL else None


def _tabulated(composition: Composition) -> DensityEstimate | None:
    """The density of the closest table glass within 0.5 mol%, if any."""
    glass = _closest_table_glass(composition)
    if glass is None:
        return None
    return DensityEstimate(glass.density_g_cm3, f'tabulated {glass.name}: {glass.source}')


def _interpolated(composition: Composition) -> DensityEstimate | None:
    """Linear interpolation on the shortest join of two glasses of one series passing the target."""
    target = _vector(composition)
    best = None
    table = _density_table()
    for i, a in enumerate(table):
        for b in table[i + 1 :]:
            if a.series != b.series:
                continue
            va, vb = _vector(a.composition), _vector(b.composition)
            step = vb - va
            t = float(np.dot(target - va, step) / np.dot(step, step))
            off_line = np.abs(va + t * step - target).max()
            if 0 < t < 1 and off_line <= _DENSITY_MATCH_TOL:
                length = float(np.linalg.norm(step))
                if best is None or length < best[0]:
                    best = (length, t, a, b)
    if best is None:
        return None
    _, t, a, b = best
    value = (1 - t) * a.density_g_cm3 + t * b.density_g_cm3
    source = (
        f'interpolated between {a.name} ({a.density_g_cm3} g/cm3) and {b.name} ({b.density_g_cm3} g/cm3), '
        f'weight {t:.3f} on {b.name}; {a.name}: {a.source}; {b.name}: {b.source}'
    )
    return DensityEstimate(value, source)


@dataclass(frozen=True)
class _MolarVolumeModel:
    """Partial molar volumes and pair excess volumes fitted to a set of glasses, their ranges and errors."""

    volumes_cm3_mol: dict[str, float]
    excess_cm3_mol: dict[tuple[str, str], float]
    ranges: dict[str, tuple[float, float]]
    rms_error: float
    max_error: float
    n_glasses: int
    series: tuple[str, ...]

    def molar_volume(self, fractions: Mapping[str, float]) -> float:
        """``V_m = sum_i x_i V_i + sum_{i<j} x_i x_j W_ij`` in cm3/mol, for mole fractions ``x``."""
        linear = (x * self.volumes_cm3_mol[oxide] for oxide, x in fractions.items())
        excess = (fractions.get(a, 0.0) * fractions.get(b, 0.0) * w for (a, b), w in self.excess_cm3_mol.items())
        return math.fsum((*linear, *excess))


def _model_terms(glasses: tuple[_TableGlass, ...]) -> tuple[list[str], list[tuple[str, str]]]:
    """Oxides held by some glass, and the oxide pairs held together by at least :data:`_MIN_PAIR_GLASSES` glasses."""
    oxides = [oxide for oxide in OXIDES if any(oxide in g.composition.fractions for g in glasses)]
    pairs = [(a, b) for i, a in enumerate(oxides) for b in oxides[i + 1:]
             if sum(a in g.composition.fractions and b in g.composition.fractions for g in glasses)
             >= _MIN_PAIR_GLASSES]
    return oxides, pairs


def _fit_molar_volumes(glasses: tuple[_TableGlass, ...]) -> _MolarVolumeModel:
    """Least-squares partial molar volumes and pair excess volumes (cm3/mol) of ``glasses``.

    Fits ``M_j / rho_j = sum_i x_ij V_i + sum_{a<b} x_aj x_bj W_ab`` over the glasses j (molar mass
    M in g/mol, density rho in g/cm3, mole fractions x), with a term W for every oxide pair that
    :func:`_model_terms` finds in enough glasses. The errors are those of the modelled density on
    the same glasses, relative: ``rho_model / rho - 1``, as root mean square and maximum of its
    absolute value.
    """
    oxides, pairs = _model_terms(glasses)
    fractions = np.array([[g.composition.fractions.get(oxide, 0.0) for oxide in oxides] for g in glasses])
    columns = {oxide: fractions[:, i] for i, oxide in enumerate(oxides)}
    design = np.column_stack([*columns.values(), *(columns[a] * columns[b] for a, b in pairs)])
    molar_volumes = np.array([g.composition.molar_mass_g_mol() / g.density_g_cm3 for g in glasses])
    coefficients, *_ = np.linalg.lstsq(design, molar_volumes, rcond=None)
    errors = molar_volumes / (design @ coefficients) - 1
    return _MolarVolumeModel(
        volumes_cm3_mol=dict(zip(oxides, coefficients[:len(oxides)].tolist())),
        excess_cm3_mol=dict(zip(pairs, coefficients[len(oxides):].tolist())),
        ranges={oxide: (float(lo), float(hi)) for oxide, lo, hi in zip(oxides, fractions.min(0), fractions.max(0))},
        rms_error=float(np.sqrt(np.mean(errors**2))),
        max_error=float(np.abs(errors).max()),
        n_glasses=len(glasses),
        series=tuple(dict.fromkeys(g.series for g in glasses)),
    )


@functools.lru_cache(maxsize=1)
def _molar_volume_model() -> _MolarVolumeModel:
    """The molar-volume model of the glasses of ``data/densities.yaml``."""
    return _fit_molar_volumes(_density_table())


def _out_of_range(composition: Composition, model: _MolarVolumeModel) -> list[str]:
    """``'<oxide> <mol%> (cited data <lo>-<hi> mol%)'`` for each oxide outside the model's data, 0.5 mol% slack."""
    outside = []
    for oxide, (lo, hi) in model.ranges.items():
        frac = composition.fractions.get(oxide, 0.0)
        if not lo - _DENSITY_MATCH_TOL <= frac <= hi + _DENSITY_MATCH_TOL:
            outside.append(f'{oxide} {_format_percent(100 * frac)} mol% '
                           f'(cited data {_format_percent(100 * lo)}-{_format_percent(100 * hi)} mol%)')
    return outside


def _unfitted_pairs(composition: Composition, model: _MolarVolumeModel) -> list[str]:
    """``'<a> with <b> (...)'`` for each oxide pair of ``composition`` without an excess volume in ``model``.

    Two alkali oxides are not counted: their mixing changes the molar volume little, unlike an
    alkali with a network former (W of -20 to -38 cm3/mol in the fitted pairs).
    """
    present = [oxide for oxide in OXIDES if composition.fractions.get(oxide, 0.0) > 0]
    return [f'{a} with {b} (no cited glass holds both: their excess volume is missing)'
            for i, a in enumerate(present) for b in present[i + 1:]
            if (a, b) not in model.excess_cm3_mol and not {a, b} <= set(ALKALI_OXIDES)]


def _molar_volume_estimate(composition: Composition) -> DensityEstimate:
    """The molar-volume model's density; with a warning outside its data (or for an unfitted pair); refused for an
    oxide it lacks."""
    model = _molar_volume_model()
    missing = [oxide for oxide in composition.fractions if oxide not in model.volumes_cm3_mol]
    if missing:
        raise CompositionError(
            f'no density for {composition.label}: no glass of {_DENSITY_TABLE.name} holds {", ".join(missing)}, '
            f'so its molar-volume model (oxides {", ".join(model.volumes_cm3_mol)}) cannot estimate one; '
            f'pass density_g_cm3 (g/cm3), e.g. a measured value'
        )
    value = composition.molar_mass_g_mol() / model.molar_volume(composition.fractions)
    volumes = ', '.join(f'{oxide} {volume:.2f}' for oxide, volume in model.volumes_cm3_mol.items())
    excess = ', '.join(f'{a}-{b} {w:.2f}' for (a, b), w in model.excess_cm3_mol.items())
    source = (
        f'estimate: molar volume V_m = sum_i x_i V_i + sum_(i<j) x_i x_j W_ij, partial molar volumes V (cm3/mol) '
        f'{volumes}, pair excess volumes W (cm3/mol) {excess}, least-squares fitted to the {model.n_glasses} '
        f'cited glasses of {_DENSITY_TABLE.name} '
        f'({"; ".join(model.series)}); density error of the model on them: rms {100 * model.rms_error:.1f}%, '
        f'max {100 * model.max_error:.1f}%'
    )
    outside = _out_of_range(composition, model) + _unfitted_pairs(composition, model)
    if not outside:
        return DensityEstimate(value, source)
    warning = (
        f'density of {composition.label} ({value:.3f} g/cm3) extrapolated by the molar-volume model beyond its '
        f'cited data: {"; ".join(outside)}; its error there may exceed the {100 * model.max_error:.1f}% it makes '
        f'on those data; pass density_g_cm3 to use a measured value'
    )
    return DensityEstimate(value, f'{source}; WARNING: {warning}', warning)
