"""Periodic neighbour search, the base of every structural analysis kernel.

Pure numpy/scipy; no AiiDA import (see DESIGN.md, layer "analysis kernels").

Conventions used throughout :mod:`aiida_boroglass.analysis`:

- ``positions``: Cartesian coordinates in Å, shape ``(n_atoms, 3)`` for one frame or
  ``(n_frames, n_atoms, 3)`` for a trajectory. Atoms may lie outside the cell (unwrapped
  coordinates); they are wrapped internally, the input is never modified.
- ``cell``: lattice vectors in Å as the ROWS of a ``(3, 3)`` array (ASE / AiiDA
  convention), or ``(n_frames, 3, 3)`` for a trajectory with a changing cell.
- ``species``: element symbols, shape ``(n_atoms,)``, the same for every frame.

Method. The cell is checked for orthorhombic shape (all off-diagonal elements zero,
positive diagonal). Orthorhombic cells use :class:`scipy.spatial.cKDTree` with
``boxsize`` on the wrapped positions. Any other (triclinic) cell is handled by wrapping
to fractional coordinates in ``[0, 1)`` and adding ghost images of the ``others`` atoms
whose fractional coordinate lies within ``cutoff / w_k`` of face ``k`` (``w_k`` the
perpendicular width), then searching a plain k-d tree. Both methods require
``cutoff <= min(w) / 2`` (:func:`max_cutoff`); under that condition at most one
periodic image of any atom lies within ``cutoff`` of another atom, no atom sees its own
image, and the pair found is the minimum-image pair. A larger cutoff raises
:class:`ValueError`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.spatial import cKDTree

__all__ = (
    'as_cell',
    'as_distance',
    'as_frames',
    'as_positive',
    'as_positions',
    'as_species',
    'cell_is_orthorhombic',
    'max_cutoff',
    'neighbor_pairs',
    'perpendicular_widths',
    'wrap_positions',
)

#: Relative tolerance below which off-diagonal cell elements count as zero.
ORTHORHOMBIC_RTOL = 1e-12

#: Relative volume below which a cell counts as singular: |det| / prod(|a_k|).
SINGULAR_RTOL = 1e-10

#: Fractional padding added to the ghost-image slab, for floating-point safety.
_GHOST_PAD_EPS = 1e-9

_IMAGE_SHIFTS = np.array([(x, y, z) for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1)], dtype=float)


def as_cell(cell, name: str = 'cell') -> np.ndarray:
    """Validate one cell and return it as a float array.

    Parameters
    ----------
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    name : str
        Field name used in error messages.

    Returns
    -------
    numpy.ndarray, shape (3, 3), float
        A new array (the input is not modified).

    Raises
    ------
    ValueError
        If the shape is wrong, an element is not finite, or the cell is singular.
    """
    arr = np.array(cell, dtype=float)
    if arr.shape != (3, 3):
        raise ValueError(f'{name} must have shape (3, 3) with the lattice vectors in Å as rows, got shape {arr.shape}')
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'{name} must contain only finite numbers (Å)')
    lengths = np.linalg.norm(arr, axis=1)
    volume = abs(np.linalg.det(arr))
    if np.any(lengths == 0.0) or volume <= SINGULAR_RTOL * np.prod(lengths):
        raise ValueError(f'{name} is singular (volume {volume:.3g} Å^3): its three rows must be linearly independent')
    return arr


def as_positions(positions, name: str = 'positions') -> np.ndarray:
    """Validate the positions of one frame and return them as a float array.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å.
    name : str
        Field name used in error messages.

    Returns
    -------
    numpy.ndarray, shape (n_atoms, 3), float
    """
    arr = np.asarray(positions, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f'{name} must have shape (n_atoms, 3) in Å, got shape {arr.shape}')
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'{name} must contain only finite numbers (Å)')
    return arr


def as_frames(positions, cell) -> tuple[np.ndarray, np.ndarray]:
    """Bring one frame or a trajectory to trajectory shape.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows; a single ``(3, 3)`` cell is used for every frame.

    Returns
    -------
    positions : numpy.ndarray, shape (n_frames, n_atoms, 3), float
    cells : numpy.ndarray, shape (n_frames, 3, 3), float

    Raises
    ------
    ValueError
        On wrong shapes (naming ``positions`` or ``cell``), non-finite values, a singular
        cell, or a number of cells different from the number of frames.
    """
    pos = np.asarray(positions, dtype=float)
    if pos.ndim == 2:
        pos = pos[np.newaxis]
    if pos.ndim != 3 or pos.shape[2] != 3:
        raise ValueError(
            f'positions must have shape (n_atoms, 3) or (n_frames, n_atoms, 3) in Å, got shape {np.shape(positions)}'
        )
    if pos.shape[0] == 0:
        raise ValueError('positions must contain at least one frame')
    if not np.all(np.isfinite(pos)):
        raise ValueError('positions must contain only finite numbers (Å)')
    cells = np.asarray(cell, dtype=float)
    if cells.ndim == 2:
        cells = np.broadcast_to(as_cell(cells), (pos.shape[0], 3, 3))
    elif cells.ndim == 3 and cells.shape[1:] == (3, 3):
        if cells.shape[0] != pos.shape[0]:
            raise ValueError(
                f'cell has {cells.shape[0]} frames but positions has {pos.shape[0]}: '
                'give one (3, 3) cell or one per frame'
            )
        for frame, one in enumerate(cells):
            as_cell(one, name=f'cell[{frame}]')
    else:
        raise ValueError(f'cell must have shape (3, 3) or (n_frames, 3, 3) in Å, got shape {np.shape(cell)}')
    return pos, cells


def as_species(species: Sequence[str], n_atoms: int, name: str = 'species') -> np.ndarray:
    """Validate element symbols and return them as a string array.

    Parameters
    ----------
    species : sequence of str, length n_atoms
        Element symbols (any labels are accepted here).
    n_atoms : int
        Number of atoms the positions hold.
    name : str
        Field name used in error messages.

    Returns
    -------
    numpy.ndarray, shape (n_atoms,), str
    """
    arr = np.asarray(species)
    if arr.ndim != 1:
        raise ValueError(f'{name} must be a one-dimensional sequence of element symbols, got shape {arr.shape}')
    if arr.shape[0] != n_atoms:
        raise ValueError(f'{name} has {arr.shape[0]} entries but positions has {n_atoms} atoms')
    if arr.size and arr.dtype.kind not in 'US':
        if not all(isinstance(s, str) for s in arr.tolist()):
            raise ValueError(f'{name} must hold element symbols (str)')
    return arr.astype(str)


def perpendicular_widths(cell) -> np.ndarray:
    """Distances between opposite faces of the cell.

    ``w_k = V / |a_l x a_m|`` for the face spanned by the other two lattice vectors.

    Parameters
    ----------
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.

    Returns
    -------
    numpy.ndarray, shape (3,), float
        Width in Å across the faces opposite ``a_1``, ``a_2``, ``a_3``.
    """
    arr = as_cell(cell)
    volume = abs(np.linalg.det(arr))
    normals = np.cross(arr[[1, 2, 0]], arr[[2, 0, 1]])
    return volume / np.linalg.norm(normals, axis=1)


def max_cutoff(cell) -> float:
    """Largest cutoff (Å) that :func:`neighbor_pairs` accepts for this cell.

    Half the smallest perpendicular width; below it, every pair has at most one periodic
    image within the cutoff, so the minimum-image pair is the only one.

    Parameters
    ----------
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.

    Returns
    -------
    float
        Limit in Å.
    """
    return 0.5 * float(perpendicular_widths(cell).min())


def cell_is_orthorhombic(cell) -> bool:
    """True when the cell is diagonal with a positive diagonal (lattice vectors along x, y, z).

    Parameters
    ----------
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    """
    arr = as_cell(cell)
    diag = np.diag(arr)
    off = arr - np.diag(diag)
    return bool(np.all(diag > 0.0) and np.all(np.abs(off) <= ORTHORHOMBIC_RTOL * diag.max()))


def _wrapped_fractional(positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Fractional coordinates wrapped into [0, 1), shape (n_atoms, 3)."""
    frac = np.linalg.solve(cell.T, positions.T).T
    frac -= np.floor(frac)
    frac[frac >= 1.0] = 0.0  # -1e-17 wraps to 1.0 in floating point
    return frac


def wrap_positions(positions, cell) -> np.ndarray:
    """Wrap Cartesian positions into the cell (fractional coordinates in [0, 1)).

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.

    Returns
    -------
    numpy.ndarray, shape (n_atoms, 3), float
        New array of wrapped Cartesian coordinates in Å.
    """
    cell_arr = as_cell(cell)
    return _wrapped_fractional(as_positions(positions), cell_arr) @ cell_arr


def _index_set(indices, n_atoms: int, name: str) -> np.ndarray:
    """Sorted unique atom indices from an index array or boolean mask."""
    arr = np.asarray(indices)
    if arr.dtype == bool:
        if arr.shape != (n_atoms,):
            raise ValueError(f'{name} as a boolean mask must have shape ({n_atoms},), got {arr.shape}')
        return np.flatnonzero(arr)
    if arr.size == 0:
        return np.zeros(0, dtype=np.intp)
    if arr.ndim != 1 or arr.dtype.kind not in 'iu':
        raise ValueError(f'{name} must be a one-dimensional array of integer atom indices or a boolean mask')
    if arr.min() < 0 or arr.max() >= n_atoms:
        raise ValueError(f'{name} must hold atom indices in [0, {n_atoms - 1}], got {arr.min()}..{arr.max()}')
    unique = np.unique(arr)
    if unique.size != arr.size:
        raise ValueError(f'{name} must not repeat an atom index')
    return unique.astype(np.intp)


def _minimum_image_orthorhombic(vectors: np.ndarray, box: np.ndarray) -> None:
    """Map difference vectors of wrapped positions, shape (n, 3) Å, to the minimum image in place.

    Inputs lie in ``(-box, box)``, so one shift by ``box`` (Å, shape (3,)) suffices.
    """
    half = 0.5 * box
    for k in range(3):
        column = vectors[:, k]
        column[column > half[k]] -= box[k]
        column[column < -half[k]] += box[k]


def as_positive(value, name: str, kind: str = 'number') -> float:
    """Return ``value`` as a positive finite float; raise ``ValueError`` naming ``name`` and ``kind``."""
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f'{name} must be a positive {kind}, got {value!r}') from exc
    if not np.isfinite(number) or number <= 0.0:
        raise ValueError(f'{name} must be a positive finite {kind}, got {value!r}')
    return number


def as_finite(value, name: str, kind: str = 'number') -> float:
    """Return ``value`` as a finite float; raise ``ValueError`` naming ``name`` and ``kind``."""
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f'{name} must be a finite {kind}, got {value!r}') from exc
    if not np.isfinite(number):
        raise ValueError(f'{name} must be a finite {kind}, got {value!r}')
    return number


def as_distance(value, name: str) -> float:
    """Return ``value`` as a positive finite distance in Å; raise ``ValueError`` naming ``name``."""
    return as_positive(value, name, 'distance in Å')


def check_cutoff(cutoff, cell: np.ndarray, name: str = 'cutoff') -> float:
    """Return ``cutoff`` (Å) after checking it is positive and below :func:`max_cutoff` of ``cell``."""
    value = as_distance(cutoff, name)
    limit = max_cutoff(cell)
    if value > limit:
        raise ValueError(
            f'{name} = {value:g} Å exceeds {limit:g} Å, half the smallest perpendicular width of the cell '
            '(the largest distance with a unique minimum image); use a larger cell or a smaller cutoff'
        )
    return value


def neighbor_pairs(
    positions,
    cell,
    cutoff: float,
    centers=None,
    others=None,
    *,
    return_vectors: bool = False,
    sort: bool = True,
):
    """All atom pairs closer than ``cutoff`` under full periodic boundary conditions.

    Pair convention:

    - ``centers`` and ``others`` both ``None``: every unordered pair once, with ``i < j``
      (a half neighbour list).
    - otherwise: every ORDERED pair ``(i, j)`` with ``i`` in ``centers`` (default all
      atoms), ``j`` in ``others`` (default all atoms) and ``i != j``. When the two sets
      are disjoint this is each pair once; when they overlap, a pair of atoms that are
      both in ``centers`` and in ``others`` appears twice, as ``(i, j)`` and ``(j, i)``.
      This is what a coordination count needs: ``np.bincount(i)`` counts each centre's
      neighbours in ``others``.

    The result is sorted by ``i`` then ``j`` (unless ``sort=False``); ``i`` and ``j`` index
    the full ``positions`` array (not ``centers`` / ``others``). Coincident atoms
    (distance 0) are pairs.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å (one frame; may be unwrapped).
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows; any non-singular (triclinic) cell.
    cutoff : float
        Å; pairs with distance ``d < cutoff`` are returned. At most
        :func:`max_cutoff` (half the smallest perpendicular width).
    centers, others : array_like of int or bool mask, optional
        Atom indices (or a boolean mask of shape ``(n_atoms,)``) for the first and second
        member of each pair. Indices must not repeat.
    return_vectors : bool
        Also return the minimum-image vectors ``r_j - r_i``.
    sort : bool
        Sort the pairs by ``i`` then ``j`` (default). Histograms need no order; skipping
        the sort saves about a third of the time for millions of pairs.

    Returns
    -------
    i : numpy.ndarray, shape (n_pairs,), intp
    j : numpy.ndarray, shape (n_pairs,), intp
    d : numpy.ndarray, shape (n_pairs,), float
        Minimum-image distances in Å.
    vectors : numpy.ndarray, shape (n_pairs, 3), float
        Only with ``return_vectors=True``: ``r_j - r_i`` in Å (minimum image).

    Raises
    ------
    ValueError
        If ``cutoff`` exceeds :func:`max_cutoff` or is not positive, or on bad shapes or
        indices (the message names the field).

    Notes
    -----
    Orthorhombic cells: :class:`scipy.spatial.cKDTree` with ``boxsize``. Triclinic cells:
    ghost images of ``others`` within ``cutoff`` of the cell faces and a plain k-d tree.
    Cost is O(N log N); there is no Python loop over atoms.
    """
    pos = as_positions(positions)
    cell_arr = as_cell(cell)
    r_cut = check_cutoff(cutoff, cell_arr)
    n_atoms = pos.shape[0]
    half = centers is None and others is None
    c_idx = np.arange(n_atoms, dtype=np.intp) if centers is None else _index_set(centers, n_atoms, 'centers')
    o_idx = np.arange(n_atoms, dtype=np.intp) if others is None else _index_set(others, n_atoms, 'others')

    if c_idx.size == 0 or o_idx.size == 0:
        empty_i = np.zeros(0, dtype=np.intp)
        result = (empty_i, empty_i.copy(), np.zeros(0))
        return (*result, np.zeros((0, 3))) if return_vectors else result

    frac = _wrapped_fractional(pos, cell_arr)

    if cell_is_orthorhombic(cell_arr):
        box = np.diag(cell_arr).copy()
        wrapped = frac * box
        wrapped = np.where(wrapped >= box, 0.0, wrapped)
        if half:
            tree = cKDTree(wrapped, boxsize=box)
            pairs = tree.query_pairs(r_cut, output_type='ndarray')
            i, j = pairs[:, 0].astype(np.intp), pairs[:, 1].astype(np.intp)
        else:
            tree_c = cKDTree(wrapped[c_idx], boxsize=box)
            tree_o = cKDTree(wrapped[o_idx], boxsize=box)
            rec = tree_c.sparse_distance_matrix(tree_o, r_cut, output_type='ndarray')
            i, j = c_idx[rec['i']], o_idx[rec['j']]
        vectors = np.take(wrapped, j, axis=0)
        vectors -= np.take(wrapped, i, axis=0)
        _minimum_image_orthorhombic(vectors, box)
    else:
        pad = r_cut / perpendicular_widths(cell_arr) + _GHOST_PAD_EPS
        frac_o = frac[o_idx]
        shifted = frac_o[np.newaxis, :, :] + _IMAGE_SHIFTS[:, np.newaxis, :]  # (27, n_others, 3)
        inside = np.all((shifted >= -pad) & (shifted < 1.0 + pad), axis=2)
        image, member = np.nonzero(inside)
        ghosts = shifted[image, member] @ cell_arr
        ghost_owner = o_idx[member]
        centres_cart = frac[c_idx] @ cell_arr
        rec = cKDTree(centres_cart).sparse_distance_matrix(cKDTree(ghosts), r_cut, output_type='ndarray')
        i, j = c_idx[rec['i']], ghost_owner[rec['j']]
        vectors = ghosts[rec['j']] - centres_cart[rec['i']]
        if half:
            keep = i < j
            i, j, vectors = i[keep], j[keep], vectors[keep]

    distances = np.sqrt(np.einsum('ij,ij->i', vectors, vectors))
    keep = (i != j) & (distances < r_cut)
    if not keep.all():
        i, j, distances, vectors = i[keep], j[keep], distances[keep], vectors[keep]
    if sort:
        order = np.lexsort((j, i))
        i, j, distances, vectors = i[order], j[order], distances[order], vectors[order]
    if return_vectors:
        return i, j, distances, vectors
    return i, j, distances
