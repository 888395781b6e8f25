"""Bond cutoffs from the first minimum of the partial g_ab(r), one helper for every analysis.

Pure numpy/scipy; no AiiDA import. Every structural analysis that needs "bonded"
(coordination, N4, BO/NBO, Q^n, rings, ...) takes its cutoffs from here, so that all of
them agree on what a bond is.

For each pair type with a rule in :data:`BOND_CUTOFF_RULES` the cutoff is the first
minimum of g_ab(r) (:func:`.rdf.first_minimum`), accepted only inside a window around the
values reported for oxide glasses; outside the window, or when g_ab(r) has no minimum,
the rule's default is used. A cutoff given by the user always wins. The windows bracket
the first minima of g(r) in MD of borate, phosphate and silicate glasses (B-O 1.9-2.0 Å,
P-O 2.0-2.1 Å, Si-O 2.0-2.2 Å, Li-O 2.6-2.8 Å, Na-O 3.0-3.2 Å, K-O 3.4-3.7 Å, O-O about
2.9-3.0 Å; e.g. papers 000, 002 and 004 of ``shared/papers`` and Kieu et al., J.
Non-Cryst. Solids 357, 3313 (2011)).
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import numpy as np

from .neighbors import as_distance
from .rdf import PartialRDFs, first_minimum

__all__ = ('BOND_CUTOFF_RULES', 'BondCutoff', 'bond_cutoffs', 'pair_key', 'rule_cutoff', 'split_pair_key')

#: ``'A-O'``: (lowest accepted first minimum, highest accepted, default), all in Å.
BOND_CUTOFF_RULES: dict[str, tuple[float, float, float]] = {
    'B-O': (1.6, 2.4, 2.0),
    'P-O': (1.7, 2.5, 2.0),
    'Si-O': (1.8, 2.6, 2.2),
    'Al-O': (1.8, 2.6, 2.2),
    'Li-O': (2.2, 3.2, 2.6),
    'Na-O': (2.6, 3.6, 3.1),
    'K-O': (3.0, 4.2, 3.6),
    'O-O': (2.6, 3.4, 3.0),
}


class BondCutoff(NamedTuple):
    """A bond cutoff and where it came from."""

    #: Cutoff in Å; atoms closer than it are bonded.
    value_a: float
    #: ``'given'``, ``'first minimum'`` or ``'default'``.
    source: str


def pair_key(a: str, b: str) -> str:
    """Canonical name of a pair type: oxygen last, otherwise alphabetical (``'B-O'``, ``'B-P'``).

    Parameters
    ----------
    a, b : str
        Element symbols.
    """
    first, second = sorted((a, b), key=lambda e: (e == 'O', e))
    return f'{first}-{second}'


def split_pair_key(key: str) -> tuple[str, str]:
    """Inverse of :func:`pair_key`; accepts either order (``'O-B'`` gives ``('B', 'O')``).

    Raises
    ------
    ValueError
        If ``key`` is not two element symbols joined by ``-``.
    """
    parts = str(key).split('-')
    if len(parts) != 2 or not all(p.isalpha() for p in parts):
        raise ValueError(f'cutoff key {key!r} must be two element symbols joined by "-", e.g. "B-O"')
    canonical = pair_key(*parts)
    first, second = canonical.split('-')
    return first, second


def bond_cutoffs(rdfs: PartialRDFs, given: Mapping[str, float] | None = None) -> dict[str, BondCutoff]:
    """Cutoffs for every pair type present that has a rule, or that the user gave.

    Parameters
    ----------
    rdfs : PartialRDFs
        Partial g_ab(r) of the structure (:func:`.rdf.all_partial_rdfs`).
    given : Mapping[str, float], optional
        ``{'B-O': 1.9, ...}`` in Å; either element order; wins over the first minimum.

    Returns
    -------
    dict[str, BondCutoff]
        Keyed by :func:`pair_key`, for pairs of elements present in ``rdfs``.

    Raises
    ------
    ValueError
        A given key is not a pair of present elements, or its value is not a positive
        distance (the message names ``cutoffs[...]``).
    """
    result: dict[str, BondCutoff] = {}
    present = set(rdfs.elements)
    for key, value in (given or {}).items():
        a, b = split_pair_key(key)
        if a not in present or b not in present:
            raise ValueError(f'cutoffs[{key!r}]: the glass has no {a}-{b} pairs (elements: {sorted(present)})')
        result[pair_key(a, b)] = BondCutoff(as_distance(value, f'cutoffs[{key!r}]'), 'given')
    for pair, g in zip(rdfs.pairs, rdfs.g):
        key = pair_key(*pair)
        if key not in result and key in BOND_CUTOFF_RULES:
            result[key] = rule_cutoff(key, rdfs.r, g)
    return dict(sorted(result.items()))


def rule_cutoff(key: str, r, g) -> BondCutoff:
    """Cutoff of pair type ``key`` from its g(r) by the rule of :data:`BOND_CUTOFF_RULES`.

    Parameters
    ----------
    key : str
        A key of :data:`BOND_CUTOFF_RULES`, e.g. ``'B-O'``.
    r : array_like, shape (n_bins,)
        Equally spaced bin centres in Å.
    g : array_like, shape (n_bins,)
        g_ab(r), dimensionless.

    Returns
    -------
    BondCutoff
        The first minimum (Å) if it lies inside the rule's window, else the rule's default.
    """
    low, high, default = BOND_CUTOFF_RULES[key]
    if not np.all(np.isfinite(g)):
        return BondCutoff(default, 'default')
    try:
        minimum = first_minimum(r, g, r_start=0.5 * low)
    except ValueError:
        return BondCutoff(default, 'default')
    if low <= minimum <= high:
        return BondCutoff(float(minimum), 'first minimum')
    return BondCutoff(default, 'default')
