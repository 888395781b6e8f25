"""Bond-angle triplets and bond-angle distributions.

Pure numpy/scipy; no AiiDA import. Built on :func:`.neighbors.neighbor_pairs`.

Method. For a centre atom ``i`` with bonded neighbours ``j`` and ``k`` (minimum-image
distances below the bond cutoff of the neighbour atom), the bond angle is the angle
between the minimum-image bond vectors ``u = r_j - r_i`` and ``v = r_k - r_i``,
``theta = atan2(|u x v|, u . v)``, in degrees; the two-argument form stays accurate
near 0 and 180 degrees, where ``arccos`` of the normalised dot product loses digits.
Every unordered pair of a centre's bonded neighbours gives one angle, so a centre with
``k`` bonds gives ``k (k - 1) / 2`` angles.

These are the distributions the papers behind this package use to follow the
BO4 -> BO3 conversion and the order of the phosphate tetrahedra: O-B-O near 109.5 deg
(BO4) and 120 deg (BO3) in Chen et al., J. Power Sources (2023) 232302,
doi:10.1016/j.jpowsour.2022.232302, Fig. 1F, and Du et al., Mater. Today Energy (2023)
101390, doi:10.1016/j.mtener.2023.101390, Supporting Figs. S4 (O-B-O) and
S6 (O-P-O, centred at 109 deg); the O-B-O angle of potassium borate glasses in
Song et al., Dalton Trans. (2024), Fig. S5. Per-neighbour cutoffs let one call measure
e.g. B-O-P and B-O-B angles around oxygen with a B-O cutoff and a P-O cutoff at once.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .neighbors import _index_set, as_cell, as_distance, as_positions, max_cutoff, neighbor_pairs

__all__ = ('AngleTriplets', 'angle_histogram', 'bond_angles')


class AngleTriplets(NamedTuple):
    """Bond angles ``j - center - k`` of one frame, one entry per triplet.

    Triplets are sorted by ``center``, then ``j``, then ``k``, with ``j < k``; the
    indices refer to the full ``positions`` array.

    Attributes
    ----------
    center : numpy.ndarray, shape (n_triplets,), intp
        Index of the vertex atom.
    j, k : numpy.ndarray, shape (n_triplets,), intp
        Indices of the two bonded neighbours, ``j < k``.
    angle_deg : numpy.ndarray, shape (n_triplets,), float
        Angle ``j - center - k`` in degrees, in [0, 180].
    """

    center: np.ndarray
    j: np.ndarray
    k: np.ndarray
    angle_deg: np.ndarray


def _per_atom_cutoffs(cutoffs, n_atoms: int, neighbor_idx: np.ndarray) -> np.ndarray:
    """Bond cutoff (Å) of every atom, shape (n_atoms,); only the neighbour atoms' values are checked."""
    if np.ndim(cutoffs) == 0:
        return np.full(n_atoms, as_distance(cutoffs, 'cutoffs'))
    arr = np.asarray(cutoffs, dtype=float)
    if arr.shape != (n_atoms,):
        raise ValueError(
            f'cutoffs must be one distance in Å or an array of shape ({n_atoms},) (one per atom), got shape {arr.shape}'
        )
    values = arr[neighbor_idx]
    if not np.all(np.isfinite(values) & (values > 0.0)):
        raise ValueError('cutoffs must be positive finite distances in Å for every atom in neighbors')
    return arr


def _pairs_within_groups(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs ``(a, b)``, ``a < b``, of a sorted group label array, shape (n_pairs,) each.

    ``group`` is sorted; ``a`` and ``b`` index it and share a label. Pairs come out
    sorted by ``a`` then ``b``.
    """
    n = group.size
    group_end = np.searchsorted(group, group, side='right')  # one past the last member
    n_after = group_end - np.arange(n) - 1  # partners of each member that come after it
    first = np.repeat(np.arange(n), n_after)
    run_start = np.cumsum(n_after) - n_after  # where each member's run of partners starts
    second = first + 1 + np.arange(first.size) - np.repeat(run_start, n_after)
    return first, second


def bond_angles(positions, cell, centers, neighbors, cutoffs) -> AngleTriplets:
    """Every bond angle ``j - center - k`` of one frame.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å of one frame (may be unwrapped; not modified).
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows; any non-singular (triclinic) cell.
    centers : array_like of int, shape (n_centers,), or bool mask, shape (n_atoms,)
        The vertex atoms, e.g. ``species == 'B'`` for O-B-O angles. Indices must not
        repeat.
    neighbors : array_like of int, shape (n_neighbors,), or bool mask, shape (n_atoms,)
        The atoms that may be bonded to a centre, e.g. ``species == 'O'``. An atom in
        both sets is never its own neighbour.
    cutoffs : float or array_like, shape (n_atoms,)
        Bond cutoff in Å: atom ``j`` in ``neighbors`` is bonded to centre ``i`` when
        their minimum-image distance ``d < cutoffs`` (one value) or
        ``d < cutoffs[j]`` (the cutoff of the NEIGHBOUR atom, e.g. 1.9 for B and 2.0
        for P around oxygen). Values of atoms outside ``neighbors`` are ignored (NaN is
        fine there). The largest one used is at most half the smallest perpendicular
        width of the cell.

    Returns
    -------
    AngleTriplets
        ``(center, j, k, angle_deg)``, each of shape ``(n_triplets,)``: indices
        (``intp``) into ``positions``, ``j < k``, and the angle in degrees
        (``float``, in [0, 180]); sorted by centre, then ``j``, then ``k``. A centre
        with ``n`` bonds gives ``n (n - 1) / 2`` triplets; empty arrays when there
        are none.

    Raises
    ------
    ValueError
        On bad shapes or indices (naming ``positions``, ``cell``, ``centers`` or
        ``neighbors``), a non-positive cutoff, or a largest cutoff above half the
        smallest perpendicular width of the cell (naming ``cutoffs``).
    """
    pos = as_positions(positions)
    cell_arr = as_cell(cell)
    n_atoms = pos.shape[0]
    center_idx = _index_set(centers, n_atoms, 'centers')
    neighbor_idx = _index_set(neighbors, n_atoms, 'neighbors')
    per_atom = _per_atom_cutoffs(cutoffs, n_atoms, neighbor_idx)
    empty = np.zeros(0, dtype=np.intp)
    if center_idx.size == 0 or neighbor_idx.size == 0:
        return AngleTriplets(empty, empty.copy(), empty.copy(), np.zeros(0))
    r_search = float(per_atom[neighbor_idx].max())
    limit = max_cutoff(cell_arr)
    if r_search > limit:
        raise ValueError(
            f'cutoffs reach {r_search:g} Å, above {limit:g} Å, half the smallest perpendicular width of the cell; '
            'use a larger cell or smaller cutoffs'
        )
    i, j, d, vectors = neighbor_pairs(
        pos, cell_arr, r_search, centers=center_idx, others=neighbor_idx, return_vectors=True
    )
    bonded = d < per_atom[j]
    i, j, vectors = i[bonded], j[bonded], vectors[bonded]
    first, second = _pairs_within_groups(i)
    u, v = vectors[first], vectors[second]
    angle = np.degrees(np.arctan2(np.linalg.norm(np.cross(u, v), axis=1), np.einsum('ij,ij->i', u, v)))
    return AngleTriplets(i[first], j[first], j[second], angle)


def angle_histogram(angles_deg, n_bins: int = 180, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Bond-angle distribution on [0, 180] degrees, normalised to unit area.

    Parameters
    ----------
    angles_deg : array_like, shape (n_angles,)
        Angles in degrees, each in [0, 180] (e.g. ``bond_angles(...).angle_deg``, or
        several frames' angles concatenated).
    n_bins : int
        Number of equal bins on [0, 180] deg; width ``180 / n_bins`` deg.
    weights : array_like, shape (n_angles,), optional
        Non-negative weight of each angle (default 1 each).

    Returns
    -------
    centres_deg : numpy.ndarray, shape (n_bins,), float
        Bin centres in degrees.
    density : numpy.ndarray, shape (n_bins,), float
        Probability density in 1/deg: ``sum(density) * 180 / n_bins == 1``. All zeros
        when there are no angles (or all weights are zero).

    Raises
    ------
    ValueError
        If ``n_bins`` is not a positive integer, an angle is not finite or lies outside
        [0, 180] (naming ``angles_deg``), or ``weights`` has another shape or a negative
        or non-finite entry.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f'n_bins must be a positive integer, got {n_bins!r}')
    angles = np.asarray(angles_deg, dtype=float)
    if angles.ndim != 1:
        raise ValueError(f'angles_deg must have shape (n_angles,) in degrees, got shape {angles.shape}')
    if not np.all(np.isfinite(angles) & (angles >= 0.0) & (angles <= 180.0)):
        raise ValueError('angles_deg must hold finite angles in degrees within [0, 180]')
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != angles.shape:
            raise ValueError(f'weights must have the shape of angles_deg {angles.shape}, got {weights.shape}')
        if not np.all(np.isfinite(weights) & (weights >= 0.0)):
            raise ValueError('weights must be finite and non-negative')
    edges = np.linspace(0.0, 180.0, n_bins + 1)
    counts, _ = np.histogram(angles, bins=edges, weights=weights)
    total = counts.sum()
    density = counts / (total * (180.0 / n_bins)) if total > 0 else np.zeros(n_bins)
    return 0.5 * (edges[:-1] + edges[1:]), density
