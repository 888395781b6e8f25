"""Local deformation gradient F_i of every atom (paper 001, eqs. 1-4) and its average by atom class.

Pure numpy; no AiiDA import.

Method (paper 001, after Urata & Li, Acta Mater. 155, 153 (2018))
-----------------------------------------------------------------
With ``R_ij = R_j - R_i`` the minimum-image vector from atom i to atom j in the reference
(unstrained) frame and ``r_ij(t)`` the vector between the same two atoms, through the same
periodic image, in the current frame::

    M_i = sum_j w(|R_ij|) R_ij (x) R_ij                 (eq. 1)
    N_i = sum_j w(|R_ij|) r_ij(t) (x) R_ij              (eq. 2)
    F_i = N_i M_i^-1                                    (eq. 3)
    w(x) = exp(-x.x / h^2) / (pi h^2)^(3/2)             (eq. 4)

``F_i`` is the least-squares affine map of i's neighbourhood: it minimises
``sum_j w_ij |r_ij - F R_ij|^2``. The normalisation of ``w`` cancels in eq. 3. The paper sets
``h = 4 Å``, calls it "the radius of the support", and leaves lithium out of the sums
"because of their high diffusivity"; here the neighbours are the atoms within ``cutoff``
(default ``h``) in the reference frame, and the excluded elements (default Li, Na, K: the
mobile modifiers) are neither centres nor neighbours. The local strain along axis a is
``eps_aa = F_aa - 1``.

Current vectors follow each atom through the periodic boundary: an atom's fractional
coordinates are taken nearest to its reference ones, so wrapped and unwrapped frames give
the same ``F`` (valid while an atom's non-affine displacement stays below half a cell). A
uniform deformation ``x -> F x`` of the atoms and the cell gives ``F_i = F`` for every atom.

Computation. With ``h0``, ``h`` the reference and current cells (rows), ``d_j`` the fractional
displacement of atom j and ``G = (h0^-1 h)^T`` the cell's own deformation gradient,
``r_ij = R_ij h0^-1 h + (d_j - d_i) h`` exactly, so eqs. 2-3 become
``F_i = G + h^T (D_i - d_i (x) b_i) M_i^-1`` with ``b_i = sum_j w_ij R_ij`` and
``D_i = sum_j w_ij d_j (x) R_ij``. ``M_i^-1`` and ``b_i`` are computed once; per frame ``D`` is one
sparse (3 n_atoms x n_atoms) product with the displacements, so a frame costs about as much
as its fractional coordinates, not a pass over every pair.

Atom classes (paper 001, Figs. 9 and 13) come from the reference frame:
:func:`..rings.ring_atom_types` (``B3r``, ``B3n``, ``B4r``, ``B4n``, ``Or``, ``On``, ``Sir``,
...) tags every former and oxygen as in or out of a 3-ring.
"""
from __future__ import annotations

from typing import Mapping, NamedTuple, Sequence

import numpy as np
from scipy import sparse

from ..neighbors import as_cell, as_distance, as_frames, as_positions, as_species, neighbor_pairs
from ..rings import frame_rings, ring_atom_types
from ..speciation import network_frame

__all__ = ('DEFAULT_EXCLUDED', 'DEFAULT_WINDOW_A', 'LocalNeighbourhoods', 'atom_classes', 'class_averages',
           'deformation_gradients', 'local_neighbourhoods')

#: Paper 001's window h, Å.
DEFAULT_WINDOW_A = 4.0
#: Elements left out of centres and neighbours (paper 001: Li, for its diffusivity; Na and K alike).
DEFAULT_EXCLUDED = ('Li', 'Na', 'K')
#: Smallest accepted ``det(M) / (trace(M) / 3)^3``: below it the neighbours lie (nearly) in a
#: plane or on a line and ``F_i`` is undefined (NaN).
SINGULAR_RATIO = 1.0e-8


class LocalNeighbourhoods(NamedTuple):
    """The weighted neighbour pairs of the reference frame and the inverse of every ``M_i``."""

    #: Centre and neighbour atom of every pair, sorted by centre, shape (n_pairs,).
    i: np.ndarray
    j: np.ndarray
    #: Window weight ``exp(-|R_ij|^2 / h^2)`` of every pair, shape (n_pairs,).
    weight: np.ndarray
    #: ``R_ij``, minimum image in the reference frame, Å, shape (n_pairs, 3).
    vectors: np.ndarray
    #: Reference cell, Å, rows, shape (3, 3).
    cell: np.ndarray
    #: Reference fractional coordinates (not wrapped), shape (n_atoms, 3).
    fractional: np.ndarray
    #: ``M_i^-1``, Å^-2, NaN for atoms that are excluded, have no neighbours or a singular M, shape (n_atoms, 3, 3).
    m_inverse: np.ndarray
    #: ``b_i = sum_j w_ij R_ij``, Å, shape (n_atoms, 3).
    weighted_sum: np.ndarray
    #: Sparse (3 n_atoms, n_atoms) matrix, row ``3 i + b``, column j: ``w_ij R_ij[b]`` (Å).
    coupling: sparse.csr_matrix


def local_neighbourhoods(reference_positions, reference_cell, species: Sequence[str], window_a: float = DEFAULT_WINDOW_A,
                         cutoff_a: float | None = None, excluded: Sequence[str] = DEFAULT_EXCLUDED) -> LocalNeighbourhoods:
    """Neighbour pairs, weights and ``M_i^-1`` (eq. 1) of the reference frame.

    Parameters
    ----------
    reference_positions : array_like, shape (n_atoms, 3)
        Unstrained frame, Cartesian coordinates in Å.
    reference_cell : array_like, shape (3, 3)
        Its lattice vectors in Å as rows (any non-singular cell).
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    window_a : float
        ``h`` of eq. 4, Å.
    cutoff_a : float, optional
        Neighbours within this distance, Å; default ``window_a``. At most half the smallest
        perpendicular width of the cell.
    excluded : sequence of str
        Elements neither centre nor neighbour.

    Returns
    -------
    LocalNeighbourhoods
    """
    ref = as_positions(reference_positions, 'reference_positions')
    cell = as_cell(reference_cell, 'reference_cell')
    spec = as_species(species, ref.shape[0])
    h = as_distance(window_a, 'window_a')
    cutoff = h if cutoff_a is None else as_distance(cutoff_a, 'cutoff_a')
    kept = np.flatnonzero(~np.isin(spec, list(excluded)))
    i, j, d, vectors = neighbor_pairs(ref, cell, cutoff, centers=kept, others=kept, return_vectors=True)
    n_atoms = ref.shape[0]
    weight = np.exp(-(d / h) ** 2)
    weighted = weight[:, None] * vectors
    m = np.zeros((n_atoms, 3, 3))
    if i.size:
        centres, starts = np.unique(i, return_index=True)
        m[centres] = np.add.reduceat(weighted[:, :, None] * vectors[:, None, :], starts, axis=0)
    weighted_sum = np.stack([np.bincount(i, weighted[:, b], n_atoms) for b in range(3)], axis=1)
    rows = (3 * i[:, None] + np.arange(3)).ravel()
    coupling = sparse.csr_matrix((weighted.ravel(), (rows, np.repeat(j, 3))), shape=(3 * n_atoms, n_atoms))
    return LocalNeighbourhoods(i, j, weight, vectors, cell, np.linalg.solve(cell.T, ref.T).T, _safe_inverse(m),
                               weighted_sum, coupling)


def _safe_inverse(m: np.ndarray) -> np.ndarray:
    """Inverse of every (3, 3) ``m``; NaN where ``det / (trace / 3)^3`` is below :data:`SINGULAR_RATIO`."""
    scale = np.trace(m, axis1=1, axis2=2) / 3.0
    with np.errstate(divide='ignore', invalid='ignore'):
        regular = np.linalg.det(m) / scale**3 > SINGULAR_RATIO
    inverse = np.full_like(m, np.nan)
    inverse[regular] = np.linalg.inv(m[regular])
    return inverse


def deformation_gradients(neighbourhoods: LocalNeighbourhoods, positions, cell) -> np.ndarray:
    """``F_i`` (eqs. 2-3) of every atom in every frame.

    Parameters
    ----------
    neighbourhoods : LocalNeighbourhoods
        Of the reference frame (:func:`local_neighbourhoods`).
    positions : array_like, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Current frames, Cartesian coordinates in Å, wrapped or unwrapped.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Their lattice vectors in Å as rows.

    Returns
    -------
    numpy.ndarray, shape (n_atoms, 3, 3) or (n_frames, n_atoms, 3, 3)
        Dimensionless; NaN for atoms without ``F`` (excluded, isolated, planar neighbours).
    """
    single = np.ndim(positions) == 2
    pos, cells = as_frames(positions, cell)
    nb = neighbourhoods
    n_atoms = nb.fractional.shape[0]
    if pos.shape[1] != n_atoms:
        raise ValueError(f'positions has {pos.shape[1]} atoms but the reference frame {n_atoms}')
    inverse_cell = np.linalg.inv(nb.cell)
    result = np.empty((pos.shape[0], n_atoms, 3, 3))
    for frame, (frame_pos, frame_cell) in enumerate(zip(pos, cells)):
        shift = np.linalg.solve(frame_cell.T, frame_pos.T).T - nb.fractional
        shift -= np.rint(shift)
        coupled = (nb.coupling @ shift).reshape(n_atoms, 3, 3).transpose(0, 2, 1)  # D_i[c, b]
        coupled -= shift[:, :, None] * nb.weighted_sum[:, None, :]
        result[frame] = (inverse_cell @ frame_cell).T + frame_cell.T @ coupled @ nb.m_inverse
    return result[0] if single else result


def atom_classes(positions, cell, species: Sequence[str], cutoffs: Mapping[str, float], oxygen: str = 'O') -> np.ndarray:
    """Paper 001's class of every atom of one frame: ``B3r``, ``B3n``, ``B4r``, ``B4n``, ``Or``, ``On``, ...

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å (the reference frame).
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    cutoffs : Mapping[str, float]
        ``{former element: former-O cutoff in Å}``.
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    numpy.ndarray of str, shape (n_atoms,)
        :func:`..rings.ring_atom_types` with 3-rings (3 formers + 3 O); ``''`` for modifiers.
    """
    frame = network_frame(positions, cell, species, cutoffs, oxygen)
    rings = frame_rings(positions, cell, species, cutoffs, max_atoms=6, oxygen=oxygen)
    return ring_atom_types(species, frame.former_oxygens, rings, n_formers=3, oxygen=oxygen)


def class_averages(gradients, classes) -> dict[str, np.ndarray]:
    """Mean ``F`` over the atoms of each class, per frame, atoms without ``F`` left out.

    Parameters
    ----------
    gradients : array_like, shape (n_frames, n_atoms, 3, 3)
        ``F_i`` (:func:`deformation_gradients`).
    classes : array_like of str, shape (n_atoms,)
        Class of every atom (:func:`atom_classes`); ``''`` is no class.

    Returns
    -------
    dict[str, numpy.ndarray]
        ``{class: mean F, shape (n_frames, 3, 3)}`` for the classes with at least one atom
        that has ``F``, sorted by name.
    """
    f = np.asarray(gradients, dtype=float)
    labels = np.asarray(classes).astype(str)
    if f.ndim != 4 or f.shape[2:] != (3, 3) or f.shape[1] != labels.size:
        raise ValueError(f'gradients must have shape (n_frames, {labels.size}, 3, 3), got {f.shape}')
    defined = np.all(np.isfinite(f), axis=(0, 2, 3))
    return {name: f[:, (labels == name) & defined].mean(axis=1)
            for name in sorted(set(labels[defined].tolist()) - {''})}
