"""Coordination numbers, the fraction of four-coordinated boron (N4) and oxygen speciation.

Pure numpy/scipy; no AiiDA import. Built on :func:`.neighbors.neighbor_pairs`.

Definitions used here (cutoff-based, the usual ones in MD studies of borate and
borosilicate glasses, e.g. Kieu et al., J. Non-Cryst. Solids 357, 3313 (2011)):

- coordination number of an atom: number of ``neighbor`` atoms with minimum-image
  distance ``d < cutoff`` (Å);
- N4: fraction of boron atoms with EXACTLY four oxygen neighbours within ``cutoff_bo``
  (Å); the full distribution is given by :func:`coordination_distribution`;
- an oxygen bonded (``d < cutoffs[former]``) to 0 network formers is free, to 1 is
  non-bridging (NBO), to 2 or more is bridging (BO; oxygen triclusters count as BO).

Every function accepts one frame (``(n_atoms, 3)`` positions) or a trajectory
(``(n_frames, n_atoms, 3)`` positions with a ``(3, 3)`` or ``(n_frames, 3, 3)`` cell);
fractions pool all frames, which equals the average over frames since the atom counts
do not change.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple, Sequence

import numpy as np

from .neighbors import as_distance, as_frames, as_species, neighbor_pairs

__all__ = (
    'NETWORK_FORMERS',
    'NetworkFrame',
    'former_cutoffs',
    'network_frame',
    'network_units',
    'unit_labels',
    'boron_n4',
    'coordination_distribution',
    'coordination_numbers',
    'oxygen_former_counts',
    'oxygen_speciation',
)

#: Elements treated as network formers; each present one needs a former-O cutoff.
NETWORK_FORMERS = ('B', 'P', 'Si', 'Al')


def coordination_numbers(
    positions,
    cell,
    species: Sequence[str],
    center: str,
    neighbor: str,
    cutoff: float,
) -> np.ndarray:
    """Number of ``neighbor`` atoms within ``cutoff`` of each ``center`` atom.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    center, neighbor : str
        Element symbols; may be equal (an atom never counts itself).
    cutoff : float
        Å; neighbours with ``d < cutoff`` count. At most half the smallest perpendicular
        width of the cell.

    Returns
    -------
    numpy.ndarray, int
        Shape ``(n_center_atoms,)`` for one frame, ``(n_frames, n_center_atoms)`` for a
        trajectory; centre atoms in the order they appear in ``species``. Empty when
        ``center`` is absent.
    """
    single = np.ndim(positions) == 2
    pos, cells = as_frames(positions, cell)
    spec = as_species(species, pos.shape[1])
    idx_c = np.flatnonzero(spec == center)
    idx_n = np.flatnonzero(spec == neighbor)
    result = np.zeros((pos.shape[0], idx_c.size), dtype=int)
    for frame, (frame_pos, frame_cell) in enumerate(zip(pos, cells)):
        i, _, _ = neighbor_pairs(frame_pos, frame_cell, cutoff, centers=idx_c, others=idx_n)
        result[frame] = np.bincount(np.searchsorted(idx_c, i), minlength=idx_c.size)
    return result[0] if single else result


def coordination_distribution(
    positions,
    cell,
    species: Sequence[str],
    center: str,
    neighbor: str,
    cutoff: float,
) -> dict[int, float]:
    """Fraction of ``center`` atoms with each coordination number, pooled over frames.

    Parameters are those of :func:`coordination_numbers` (positions, cell in Å; cutoff
    in Å).

    Returns
    -------
    dict[int, float]
        ``{coordination number: fraction}``, keys ascending, only numbers that occur;
        fractions sum to 1.

    Raises
    ------
    ValueError
        If no atom of species ``center`` exists.
    """
    numbers = coordination_numbers(positions, cell, species, center, neighbor, cutoff)
    if numbers.size == 0:
        raise ValueError(f'center = {center!r} is not among the species')
    values, counts = np.unique(numbers, return_counts=True)
    total = counts.sum()
    return {int(v): float(c / total) for v, c in zip(values, counts)}


def boron_n4(positions, cell, species: Sequence[str], cutoff_bo: float = 2.0) -> float:
    """N4: fraction of boron atoms with exactly four oxygen neighbours.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols; boron is ``'B'``, oxygen ``'O'``.
    cutoff_bo : float
        B-O cutoff in Å (default 2.0, past the first minimum of g_BO near 1.9-2.0 Å in
        classical and ab initio borate glasses).

    Returns
    -------
    float
        N4 in [0, 1], pooled over frames. Boron with 5 or more O neighbours does NOT
        count; see ``coordination_distribution(..., 'B', 'O', cutoff_bo)`` for all.

    Raises
    ------
    ValueError
        If there is no boron.
    """
    numbers = coordination_numbers(positions, cell, species, 'B', 'O', cutoff_bo)
    if numbers.size == 0:
        raise ValueError("species contains no boron ('B'): N4 is undefined")
    return float(np.mean(numbers == 4))


def former_cutoffs(cutoffs: Mapping[str, float], species: Sequence[str], oxygen: str = 'O') -> dict[str, float]:
    """Check a ``{former element: former-O cutoff}`` mapping against the species present.

    Parameters
    ----------
    cutoffs : Mapping[str, float]
        ``{former element: former-O cutoff in Å}``, e.g. ``{'B': 2.0, 'P': 2.0}``.
    species : sequence of str
        Element symbols of the atoms.
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    dict[str, float]
        The cutoffs as floats (Å).

    Raises
    ------
    ValueError
        Empty or non-mapping ``cutoffs``, a key equal to ``oxygen``, a value that is not a
        positive distance, or a network former of :data:`NETWORK_FORMERS` present in
        ``species`` without a cutoff (the message names ``cutoffs``).
    """
    if not isinstance(cutoffs, Mapping) or not cutoffs:
        raise ValueError('cutoffs must be a non-empty mapping {former element: former-O cutoff in Å}')
    checked = {}
    for element, value in cutoffs.items():
        if element == oxygen:
            raise ValueError(f'cutoffs must not name the oxygen species {oxygen!r}')
        checked[str(element)] = as_distance(value, f'cutoffs[{element!r}]')
    present = set(np.asarray(species).tolist())
    missing = sorted(f for f in NETWORK_FORMERS if f in present and f not in checked)
    if missing:
        raise ValueError(f'cutoffs has no entry for the network former(s) {missing} present in species')
    return checked


class NetworkFrame(NamedTuple):
    """Former-oxygen bonds of one frame and the counts derived from them."""

    #: Index of the former atom of each bond, shape (n_bonds,).
    former: np.ndarray
    #: Index of the oxygen atom of each bond, shape (n_bonds,).
    oxygen: np.ndarray
    #: Bond length in Å, shape (n_bonds,).
    distance: np.ndarray
    #: Number of formers bonded to each atom (0 for non-oxygens), shape (n_atoms,).
    oxygen_formers: np.ndarray
    #: Number of oxygens bonded to each atom (0 for non-formers), shape (n_atoms,).
    former_oxygens: np.ndarray
    #: Number of bridging oxygens (bonded to >= 2 formers) bonded to each atom, shape (n_atoms,).
    former_bridging: np.ndarray


def network_frame(positions, cell, species: Sequence[str], cutoffs: Mapping[str, float], oxygen: str = 'O') -> NetworkFrame:
    """Former-O bonds of ONE frame: a former and an oxygen closer than ``cutoffs[former]`` are bonded.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    cutoffs : Mapping[str, float]
        ``{former element: former-O cutoff in Å}`` (see :func:`former_cutoffs`).
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    NetworkFrame
        Bonds sorted by oxygen index, and the per-atom counts.
    """
    spec = as_species(species, np.shape(positions)[0])
    cut = former_cutoffs(cutoffs, spec, oxygen)
    idx_o = np.flatnonzero(spec == oxygen)
    if idx_o.size == 0:
        raise ValueError(f'species contains no oxygen ({oxygen!r})')
    per_atom = np.full(spec.shape, np.nan)
    for element, value in cut.items():
        per_atom[spec == element] = value
    idx_f = np.flatnonzero(~np.isnan(per_atom))
    if idx_f.size:
        i, j, d = neighbor_pairs(positions, cell, float(per_atom[idx_f].max()), centers=idx_o, others=idx_f)
        bonded = d < per_atom[j]
        o_of_bond, f_of_bond, d = i[bonded], j[bonded], d[bonded]
    else:
        o_of_bond = f_of_bond = np.zeros(0, dtype=np.intp)
        d = np.zeros(0)
    n_atoms = spec.size
    oxygen_formers = np.bincount(o_of_bond, minlength=n_atoms)
    former_oxygens = np.bincount(f_of_bond, minlength=n_atoms)
    former_bridging = np.bincount(f_of_bond, weights=oxygen_formers[o_of_bond] >= 2, minlength=n_atoms).astype(int)
    return NetworkFrame(f_of_bond, o_of_bond, d, oxygen_formers, former_oxygens, former_bridging)


def oxygen_former_counts(
    positions,
    cell,
    species: Sequence[str],
    cutoffs: Mapping[str, float],
    oxygen: str = 'O',
) -> np.ndarray:
    """Number of network-former atoms bonded to each oxygen.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    cutoffs : Mapping[str, float]
        ``{former element: former-O cutoff in Å}``, e.g. ``{'B': 2.0, 'P': 2.0,
        'Si': 2.2}``. The keys define which elements are formers; every element of
        :data:`NETWORK_FORMERS` present in ``species`` must have one. Keys absent from
        ``species`` are ignored.
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    numpy.ndarray, int
        Shape ``(n_oxygen,)`` for one frame or ``(n_frames, n_oxygen)``; oxygens in the
        order they appear in ``species``. A former counts when ``d < cutoffs[former]``.

    Raises
    ------
    ValueError
        No oxygen, a bad or missing cutoff (naming ``cutoffs``), or a cutoff above half
        the smallest perpendicular width of the cell.
    """
    single = np.ndim(positions) == 2
    pos, cells = as_frames(positions, cell)
    spec = as_species(species, pos.shape[1])
    idx_o = np.flatnonzero(spec == oxygen)
    result = np.stack([network_frame(p, c, spec, cutoffs, oxygen).oxygen_formers[idx_o] for p, c in zip(pos, cells)])
    return result[0] if single else result


def unit_labels(species: Sequence[str], frame: NetworkFrame) -> np.ndarray:
    """Network-former unit of every atom of one frame (empty string for non-formers).

    Labels follow paper 003 (Fig. 1) and the Q^n notation:

    - boron: ``'B(4)'`` for every four-coordinated boron (the tetrahedral B^(4) unit);
      ``'B(n)'`` for a three-coordinated boron with ``n`` bridging oxygens (B^(3) neutral,
      B^(2) with one NBO, ... B^(0) orthoborate);
    - phosphorus, silicon, aluminium: ``'P(n)'``, ``'Si(n)'``, ``'Al(n)'`` for a
      four-coordinated atom with ``n`` bridging oxygens (Q^n);
    - any other coordination ``k``: ``'B[k]'``, ``'P[k]'``, ... (defects).

    Parameters
    ----------
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    frame : NetworkFrame
        From :func:`network_frame` on the same atoms.

    Returns
    -------
    numpy.ndarray of str, shape (n_atoms,)
    """
    spec = np.asarray(species).astype(str)
    k, n = frame.former_oxygens, frame.former_bridging
    is_former = (k > 0) | np.isin(spec, NETWORK_FORMERS)
    is_boron = spec == 'B'
    regular = np.where(is_boron, (k == 3) | (k == 4), k == 4)
    value = np.where(regular, np.where(is_boron & (k == 4), 4, n), k).astype(str)
    opening = np.where(regular, '(', '[')
    closing = np.where(regular, ')', ']')
    labels = np.char.add(np.char.add(np.char.add(spec, opening), value), closing)
    return np.where(is_former, labels, '')


def network_units(
    positions,
    cell,
    species: Sequence[str],
    cutoffs: Mapping[str, float],
    oxygen: str = 'O',
) -> dict[str, dict[str, float]]:
    """Concentrations of the network-former units (B^(n), P^(m), Q^n), pooled over frames.

    Parameters are those of :func:`oxygen_former_counts` (Å throughout).

    Returns
    -------
    dict[str, dict[str, float]]
        ``{label: {'count', 'fraction_of_element', 'fraction_of_formers'}}`` with labels
        of :func:`unit_labels`, sorted: ``count`` is the mean number per frame,
        ``fraction_of_element`` the share among atoms of that element (e.g. N4 for
        ``'B(4)'``), ``fraction_of_formers`` the share among all network-former atoms
        (the NFU concentrations of the hopping model, paper 003 section II).

    Raises
    ------
    ValueError
        As :func:`oxygen_former_counts`; also if no network former is present.
    """
    pos, cells = as_frames(positions, cell)
    spec = as_species(species, pos.shape[1])
    labels = np.concatenate([unit_labels(spec, network_frame(p, c, spec, cutoffs, oxygen)) for p, c in zip(pos, cells)])
    labels = labels[labels != '']
    if labels.size == 0:
        raise ValueError(f'species contains no network former ({", ".join(NETWORK_FORMERS)})')
    n_frames = pos.shape[0]
    names, counts = np.unique(labels, return_counts=True)
    element_totals = {e: np.count_nonzero(spec == e) * n_frames for e in set(spec.tolist())}
    result = {}
    for name, count in zip(names.tolist(), counts):
        element = name.split('(')[0].split('[')[0]
        result[name] = {
            'count': float(count / n_frames),
            'fraction_of_element': float(count / element_totals[element]),
            'fraction_of_formers': float(count / labels.size),
        }
    return result


def oxygen_speciation(
    positions,
    cell,
    species: Sequence[str],
    cutoffs: Mapping[str, float],
    oxygen: str = 'O',
) -> dict[str, float]:
    """Bridging, non-bridging and free oxygen fractions.

    Parameters are those of :func:`oxygen_former_counts` (Å throughout).

    Returns
    -------
    dict[str, float]
        ``bo_fraction``, ``nbo_fraction``, ``free_fraction``: fractions of all oxygens
        bonded to >= 2, exactly 1 and 0 formers (sum 1; pooled over frames);
        ``n_bo``, ``n_nbo``, ``n_free``: mean numbers per frame (float);
        ``n_oxygen``: number of oxygen atoms per frame.
    """
    counts = np.atleast_2d(oxygen_former_counts(positions, cell, species, cutoffs, oxygen=oxygen))
    n_frames, n_oxygen = counts.shape
    n_free = float(np.count_nonzero(counts == 0)) / n_frames
    n_nbo = float(np.count_nonzero(counts == 1)) / n_frames
    n_bo = float(np.count_nonzero(counts >= 2)) / n_frames
    return {
        'bo_fraction': n_bo / n_oxygen,
        'nbo_fraction': n_nbo / n_oxygen,
        'free_fraction': n_free / n_oxygen,
        'n_bo': n_bo,
        'n_nbo': n_nbo,
        'n_free': n_free,
        'n_oxygen': n_oxygen,
    }
