"""Local non-affine displacement: Falk-Langer D2min, cumulative D_cum, mobile/immobile.

Pure numpy; no AiiDA import (see DESIGN.md, layer "analysis kernels"). Positions in Å
as ``(n_atoms, 3)`` per frame or ``(n_frames, n_atoms, 3)``, cells in Å with the
lattice vectors as ROWS (the conventions of :mod:`aiida_boroglass.analysis.neighbors`).

Definitions (Falk & Langer, Phys. Rev. E 57, 7192 (1998); paper 004, section 4.5,
eqs. 7-8):

- For a central atom ``i`` with neighbours ``j`` (``|d0_ij| < cutoff`` in the
  REFERENCE frame), ``d0_ij`` is the minimum-image vector ``r_j - r_i`` in the
  reference and ``d_ij`` the vector of the same pair (same periodic image, see
  :func:`current_pair_vectors`) in the current frame.
- ``X_i = sum_j d_ij d0_ij^T``, ``Y_i = sum_j d0_ij d0_ij^T`` and the best local affine
  map ``J_i = X_i Y_i^-1`` (least squares).
- ``D2min_i = (1 / M_i) sum_j |d_ij - J_i d0_ij|^2`` in Å^2, with ``M_i`` the number of
  neighbours: paper 004 (eq. 7) divides by ``M_k``; ``normalize=False`` gives Falk and
  Langer's plain sum.
- ``D_cum_i = sum_t sqrt(D2min_i(t -> t + lag))`` in Å over consecutive,
  non-overlapping intervals (paper 004, eq. 8: "the sum of the square-root of the
  incremental non-affine displacements"); ``root=False`` sums D2min itself (Å^2).
"""

from __future__ import annotations

import numpy as np

from .neighbors import _index_set, as_cell, as_finite, as_positions, check_cutoff, neighbor_pairs

__all__ = (
    'classify_mobile',
    'cumulative_d2min',
    'current_pair_vectors',
    'd2min',
    'local_affine_fit',
)

#: Y_i counts as singular when its smallest eigenvalue is below this fraction of its largest.
SINGULAR_RTOL = 1e-10


def current_pair_vectors(pairs_i, pairs_j, ref_vectors, ref_cell, cur_positions, cur_cell) -> np.ndarray:
    """Vectors ``r_j - r_i`` in the current frame for the same periodic image as in the reference.

    The reference vector in fractional coordinates, ``s0 = d0 H0^-1``, fixes the periodic
    image. In the current frame the fractional difference ``s = f_j - f_i`` is shifted by
    the integer vector ``round(s0 - s)`` and mapped back with the current cell:
    ``d = (s + round(s0 - s)) H``. This is exact for an affine deformation applied with
    the cell (fractional coordinates unchanged), for wrapped or unwrapped current
    positions, and for strains that change which image is the nearest; it only assumes
    each pair's fractional vector changes by less than half a cell between the frames
    (always true for the short lags D2min is meant for).

    Parameters
    ----------
    pairs_i, pairs_j : numpy.ndarray, shape (n_pairs,), int
        Atom indices of each pair.
    ref_vectors : numpy.ndarray, shape (n_pairs, 3)
        Minimum-image vectors ``r_j - r_i`` in the reference frame, Å.
    ref_cell, cur_cell : numpy.ndarray, shape (3, 3)
        Reference and current lattice vectors as rows, Å.
    cur_positions : numpy.ndarray, shape (n_atoms, 3)
        Current Cartesian coordinates, Å (wrapped or not).

    Returns
    -------
    numpy.ndarray, shape (n_pairs, 3)
        Current pair vectors in Å.
    """
    s0 = np.linalg.solve(np.asarray(ref_cell, float).T, np.asarray(ref_vectors, float).T).T
    frac = np.linalg.solve(np.asarray(cur_cell, float).T, np.asarray(cur_positions, float).T).T
    s = frac[pairs_j] - frac[pairs_i]
    s += np.round(s0 - s)
    return s @ np.asarray(cur_cell, float)


def _sum_outer(index: np.ndarray, a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Per-atom sums of outer products ``a_p b_p^T``: shape (n, 3, 3), units of a times b."""
    outer = np.einsum('pa,pb->pab', a, b).reshape(-1, 9)
    sums = np.stack([np.bincount(index, weights=outer[:, k], minlength=n) for k in range(9)], axis=1)
    return sums.reshape(n, 3, 3)


def local_affine_fit(index, ref_vectors, cur_vectors, n_atoms: int):
    """Least-squares local affine maps ``J_i = X_i Y_i^-1`` and their squared residuals.

    Parameters
    ----------
    index : numpy.ndarray, shape (n_pairs,), int
        Central atom of each pair, in ``[0, n_atoms)``.
    ref_vectors, cur_vectors : numpy.ndarray, shape (n_pairs, 3)
        Pair vectors ``d0`` (reference) and ``d`` (current) in Å.
    n_atoms : int
        Number of atoms (length of the outputs).

    Returns
    -------
    J : numpy.ndarray, shape (n_atoms, 3, 3)
        Dimensionless local affine maps; ``nan`` where ``Y_i`` is singular.
    residual : numpy.ndarray, shape (n_atoms,)
        ``sum_j |d_ij - J_i d0_ij|^2`` in Å^2; ``nan`` where ``Y_i`` is singular.
    count : numpy.ndarray, shape (n_atoms,), int
        Number of neighbours ``M_i``.

    Notes
    -----
    ``Y_i`` is singular when atom ``i`` has fewer than three neighbours or they are
    coplanar (smallest eigenvalue below ``SINGULAR_RTOL`` times the largest); the affine
    map is then undetermined and ``J``, ``residual`` are ``nan`` for that atom.
    """
    index = np.asarray(index, dtype=np.intp)
    d0 = np.asarray(ref_vectors, dtype=float)
    d = np.asarray(cur_vectors, dtype=float)
    count = np.bincount(index, minlength=n_atoms)
    x = _sum_outer(index, d, d0, n_atoms)
    y = _sum_outer(index, d0, d0, n_atoms)
    eig = np.linalg.eigvalsh(y)
    ok = (count >= 3) & (eig[:, 0] > SINGULAR_RTOL * np.maximum(eig[:, 2], np.finfo(float).tiny))
    jac = np.full((n_atoms, 3, 3), np.nan)
    # J Y = X  <=>  Y^T J^T = X^T, and Y is symmetric.
    jac[ok] = np.linalg.solve(y[ok], np.swapaxes(x[ok], 1, 2)).swapaxes(1, 2)
    res_vec = d - np.einsum('pab,pb->pa', jac[index], d0)
    residual = np.bincount(index, weights=np.einsum('pa,pa->p', res_vec, res_vec), minlength=n_atoms)
    residual[~ok] = np.nan
    return jac, residual, count


def d2min(ref_positions, ref_cell, cur_positions, cur_cell, cutoff_a: float = 4.0, centers=None, *, normalize=True):
    """Falk-Langer non-affine squared displacement of each atom between two frames.

    Parameters
    ----------
    ref_positions, cur_positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å of the reference frame (time ``t``) and the current
        frame (``t + dt``), same atom order; wrapped or unwrapped.
    ref_cell, cur_cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows (the cell may deform between the frames).
    cutoff_a : float
        Neighbour cutoff in Å, applied in the REFERENCE frame; at most half the smallest
        perpendicular width of ``ref_cell``. Paper 004 uses 4 Å.
    centers : array_like of int or bool mask, optional
        Atoms for which D2min is computed (default all); neighbours are all atoms.
    normalize : bool
        Divide by the neighbour count ``M_i`` (paper 004, eq. 7; default). ``False``:
        Falk and Langer's plain sum.

    Returns
    -------
    numpy.ndarray, shape (n_atoms,)
        D2min in Å^2. ``nan`` for atoms not in ``centers`` and for atoms whose neighbours
        do not span 3-D space (fewer than three, or coplanar: the local affine map is
        undetermined).

    Raises
    ------
    ValueError
        On bad shapes, non-finite values, a singular cell, a bad ``cutoff_a`` or
        ``centers`` (the message names the argument).

    Notes
    -----
    Pairs come from the reference frame (:func:`neighbor_pairs`); the current vector of
    each pair uses the same periodic image, see :func:`current_pair_vectors`.
    Vectorised with ``einsum`` and ``bincount``; no Python loop over atoms.
    """
    ref = as_positions(ref_positions, 'ref_positions')
    cur = as_positions(cur_positions, 'cur_positions')
    if cur.shape != ref.shape:
        raise ValueError(f'cur_positions has shape {cur.shape} but ref_positions has shape {ref.shape}')
    h0 = as_cell(ref_cell, 'ref_cell')
    h1 = as_cell(cur_cell, 'cur_cell')
    r_cut = check_cutoff(cutoff_a, h0, 'cutoff_a')
    n_atoms = ref.shape[0]
    c_idx = np.arange(n_atoms) if centers is None else _index_set(centers, n_atoms, 'centers')
    out = np.full(n_atoms, np.nan)
    if c_idx.size == 0:
        return out
    i, j, _, d0 = neighbor_pairs(ref, h0, r_cut, centers=c_idx, return_vectors=True)
    d = current_pair_vectors(i, j, d0, h0, cur, h1)
    _, residual, count = local_affine_fit(i, d0, d, n_atoms)
    values = residual / np.maximum(count, 1) if normalize else residual
    out[c_idx] = values[c_idx]
    return out


def cumulative_d2min(
    frames,
    cells,
    cutoff_a: float = 4.0,
    lag: int = 1,
    centers=None,
    *,
    root: bool = True,
    normalize: bool = True,
    return_history: bool = False,
):
    """Cumulative non-affine displacement D_cum of each atom along a trajectory.

    ``D_cum_i = sum_k sqrt(D2min_i(t_k -> t_k + lag))`` with ``t_k = 0, lag, 2 lag, ...``
    (consecutive, non-overlapping intervals; paper 004, eq. 8), each D2min with
    frame ``t_k`` as reference (neighbours found there, eq. 7).

    Parameters
    ----------
    frames : array_like, shape (n_frames, n_atoms, 3)
        Cartesian coordinates in Å (wrapped or unwrapped).
    cells : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows, one for all frames or one per frame.
    cutoff_a : float
        Neighbour cutoff in Å (reference frame of each interval).
    lag : int
        Frames per interval, >= 1 and < n_frames.
    centers : array_like of int or bool mask, optional
        Atoms to compute (default all); the others are ``nan``.
    root : bool
        Sum ``sqrt(D2min)`` (Å; paper 004, default) or ``D2min`` itself (Å^2).
    normalize : bool
        Passed to :func:`d2min` (divide by the neighbour count).
    return_history : bool
        Also return the running sum after each interval.

    Returns
    -------
    d_cum : numpy.ndarray, shape (n_atoms,)
        Å with ``root=True``, Å^2 otherwise. ``nan`` for atoms not in ``centers`` and for
        an atom whose D2min was undefined in any interval (nan propagates).
    history : numpy.ndarray, shape (n_intervals, n_atoms)
        Only with ``return_history=True``: running sum at the end of each interval
        (``history[-1] == d_cum``); interval ``k`` ends at frame ``(k + 1) * lag``.

    Raises
    ------
    ValueError
        On bad shapes, a bad ``lag``, ``cutoff_a`` or ``centers`` (naming the argument).
    """
    pos = np.asarray(frames, dtype=float)
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise ValueError(f'frames must have shape (n_frames, n_atoms, 3) in Å, got shape {pos.shape}')
    n_frames = pos.shape[0]
    cell_arr = np.asarray(cells, dtype=float)
    if cell_arr.shape == (3, 3):
        cell_arr = np.broadcast_to(cell_arr, (n_frames, 3, 3))
    elif cell_arr.shape != (n_frames, 3, 3):
        raise ValueError(f'cells must have shape (3, 3) or ({n_frames}, 3, 3) in Å, got shape {cell_arr.shape}')
    if isinstance(lag, bool) or not isinstance(lag, (int, np.integer)) or lag < 1:
        raise ValueError(f'lag must be a positive integer number of frames, got {lag!r}')
    if lag >= n_frames:
        raise ValueError(f'lag = {lag} must be smaller than the number of frames ({n_frames})')
    starts = range(0, n_frames - lag, lag)
    increments = np.empty((len(starts), pos.shape[1]))
    for k, t in enumerate(starts):
        value = d2min(pos[t], cell_arr[t], pos[t + lag], cell_arr[t + lag], cutoff_a, centers, normalize=normalize)
        # tiny negative round-off cannot occur (sum of squares), so sqrt is safe
        increments[k] = np.sqrt(value) if root else value
    history = np.cumsum(increments, axis=0)
    if return_history:
        return history[-1].copy(), history
    return history[-1].copy()


def classify_mobile(values, threshold=None, quantile=None):
    """Split atoms into mobile (value above a threshold) and immobile.

    Give exactly one of ``threshold`` or ``quantile``. Paper 004 uses a D_cum threshold
    ``Dc`` for Li (about 30 % of Li mobile); ``quantile=0.7`` reproduces such a split.

    Parameters
    ----------
    values : array_like, shape (n_atoms,)
        Per-atom measure, e.g. D_cum in Å or D2min in Å^2; ``nan`` allowed (never mobile).
    threshold : float, optional
        Same unit as ``values``; atoms with ``value > threshold`` are mobile.
    quantile : float, optional
        In [0, 1]: the threshold is this quantile of the finite ``values``, so that
        about ``1 - quantile`` of them are mobile.

    Returns
    -------
    mobile : numpy.ndarray, shape (n_atoms,), bool
    threshold : float
        The threshold used, in the unit of ``values``.

    Raises
    ------
    ValueError
        If ``values`` is not 1-D or has no finite entry (with ``quantile``), if both or
        neither of ``threshold`` / ``quantile`` are given, or either is out of range.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f'values must be one-dimensional (one value per atom), got shape {arr.shape}')
    if (threshold is None) == (quantile is None):
        raise ValueError('give exactly one of threshold or quantile')
    if threshold is not None:
        cut = as_finite(threshold, 'threshold')
    else:
        try:
            q = float(quantile)
        except (TypeError, ValueError) as exc:
            raise ValueError(f'quantile must be a number in [0, 1], got {quantile!r}') from exc
        if not 0.0 <= q <= 1.0:
            raise ValueError(f'quantile must be a number in [0, 1], got {quantile!r}')
        finite = arr[np.isfinite(arr)]
        if finite.size == 0:
            raise ValueError('values has no finite entry to take a quantile of')
        cut = float(np.quantile(finite, q))
    with np.errstate(invalid='ignore'):
        mobile = arr > cut
    return mobile, cut
