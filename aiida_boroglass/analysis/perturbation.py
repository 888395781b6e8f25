"""Perturbed copies of frames: starting data for concurrent learning, as DP-GEN's ``perturb``.

Pure numpy; no AiiDA import (see DESIGN.md, layer "analysis kernels").

An ensemble trained on a few frames of one glass at one temperature runs away as soon as it
explores (docs/learning.md, "Measured here"). DP-GEN (``dpgen init_bulk``, dpdata's
``System.perturb``) starts from copies of each frame with the cell strained by a few per cent
and every atom displaced by 0.01-0.1 Å. The conventions here are dpdata's:

- the cell (lattice vectors as rows) becomes ``cell @ (I + E)`` with ``E`` symmetric, its
  diagonal uniform in ``[-f, f]`` and its off-diagonal elements uniform in ``[-f/2, f/2]``
  (``f = cell_fraction``); the positions are strained with it, ``x @ (I + E)``, so that the
  fractional coordinates are unchanged by this part;
- each atom is then displaced by a vector uniform in the ball of radius ``atom_distance_a``
  (dpdata's ``atom_pert_style='uniform'``: a random direction, length ``r u**(1/3)``).

Unlike dpdata, the copies are drawn from one seeded generator (the same seed, the same
copies) and the cell is not rotated to a lower-triangular form, so the strain and the
displacements can be measured back from the copies.
"""

from __future__ import annotations

import numpy as np

from .neighbors import as_frames

__all__ = ('ATOM_DISTANCE_MAX_A', 'ball_displacements', 'check_perturbation', 'perturb_frames', 'symmetric_strains')

#: Largest atom displacement, Å: B-O and Si-O bonds are 1.37-1.62 Å; 1 Å would let atoms meet.
ATOM_DISTANCE_MAX_A = 1.0


def check_perturbation(copies: int, cell_fraction: float, atom_distance_a: float, seed: int) -> None:
    """Refuse perturbation settings in one line naming the first bad one.

    Parameters
    ----------
    copies : int
        Perturbed copies of every frame, >= 1.
    cell_fraction : float
        Largest strain component, in ``[0, 0.5)``: by Gershgorin's theorem every eigenvalue of
        ``I + E`` is then at least ``1 - 2 f > 0``, so no cell collapses.
    atom_distance_a : float
        Largest atom displacement, Å, in ``[0, ATOM_DISTANCE_MAX_A]``.
    seed : int
        Seed of the random generator, >= 0.

    Raises
    ------
    ValueError
        ``'<name> must be <allowed values>, got <value>'``.
    """
    def is_integer(value) -> bool:
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

    def is_real(value) -> bool:
        return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
                and bool(np.isfinite(value)))

    if not (is_integer(copies) and copies >= 1):
        raise ValueError(f'copies must be an integer >= 1, got {copies!r}')
    if not (is_real(cell_fraction) and 0.0 <= cell_fraction < 0.5):
        raise ValueError(f'cell_fraction must be a strain in [0, 0.5), e.g. 0.03, got {cell_fraction!r}')
    if not (is_real(atom_distance_a) and 0.0 <= atom_distance_a <= ATOM_DISTANCE_MAX_A):
        raise ValueError(f'atom_distance_a must be a distance in [0, {ATOM_DISTANCE_MAX_A:g}] Å, e.g. 0.1, '
                         f'got {atom_distance_a!r}')
    if not (is_integer(seed) and seed >= 0):
        raise ValueError(f'seed must be an integer >= 0, got {seed!r}')


def symmetric_strains(rng: np.random.Generator, n: int, cell_fraction: float) -> np.ndarray:
    """Random symmetric strain tensors, dpdata's convention.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the random numbers (six per tensor).
    n : int
        Number of tensors.
    cell_fraction : float
        ``f``: diagonal components uniform in ``[-f, f]``, off-diagonal ones in ``[-f/2, f/2]``.

    Returns
    -------
    numpy.ndarray, shape (n, 3, 3)
        ``E``, dimensionless, ``E[k] == E[k].T``.
    """
    draws = rng.uniform(-cell_fraction, cell_fraction, size=(n, 6))
    rows, columns = np.triu_indices(3, k=1)
    strains = np.zeros((n, 3, 3))
    strains[:, np.arange(3), np.arange(3)] = draws[:, :3]
    strains[:, rows, columns] = 0.5 * draws[:, 3:]
    strains[:, columns, rows] = 0.5 * draws[:, 3:]
    return strains


def ball_displacements(rng: np.random.Generator, shape: tuple[int, ...], radius: float) -> np.ndarray:
    """Vectors uniform in the ball of ``radius``: a uniform direction, length ``radius * u**(1/3)``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the random numbers.
    shape : tuple of int
        Leading shape of the result, e.g. ``(n_copies, n_atoms)``.
    radius : float
        Radius of the ball, Å.

    Returns
    -------
    numpy.ndarray, shape (*shape, 3)
        Displacements in Å, each of length at most ``radius``.
    """
    directions = rng.standard_normal((*shape, 3))
    norms = np.linalg.norm(directions, axis=-1, keepdims=True)
    lengths = radius * np.cbrt(rng.uniform(size=(*shape, 1)))
    return directions / np.where(norms > 0.0, norms, 1.0) * lengths


def perturb_frames(positions, cells, copies: int, cell_fraction: float, atom_distance_a: float,
                   seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``copies`` perturbed copies of every frame: cell and positions strained, then atoms displaced.

    Parameters
    ----------
    positions : array_like, shape (n_frames, n_atoms, 3) or (n_atoms, 3)
        Cartesian coordinates, Å.
    cells : array_like, shape (n_frames, 3, 3) or (3, 3)
        Lattice vectors as rows, Å.
    copies, cell_fraction, atom_distance_a, seed
        See :func:`check_perturbation`.

    Returns
    -------
    positions : numpy.ndarray, shape (n_frames * copies, n_atoms, 3)
        Å; copy ``c`` of frame ``i`` is row ``i * copies + c``.
    cells : numpy.ndarray, shape (n_frames * copies, 3, 3)
        Å.
    source_frames : numpy.ndarray, shape (n_frames * copies,), int
        Index of the frame each copy was made from.

    Raises
    ------
    ValueError
        From :func:`check_perturbation`, or on shapes that do not match.
    """
    check_perturbation(copies, cell_fraction, atom_distance_a, seed)
    frames, frame_cells = as_frames(positions, cells)
    source = np.repeat(np.arange(frames.shape[0]), copies)
    rng = np.random.default_rng(seed)
    deformation = np.eye(3) + symmetric_strains(rng, source.size, cell_fraction)
    new_cells = frame_cells[source] @ deformation
    new_positions = frames[source] @ deformation
    new_positions += ball_displacements(rng, new_positions.shape[:2], atom_distance_a)
    return new_positions, new_cells, source
