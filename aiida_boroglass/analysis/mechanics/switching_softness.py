"""Softness of network formers trained on their bond switching during fracture (paper 004, Figs. 4 and 6).

Pure numpy plus scikit-learn (through :mod:`..softness`); no AiiDA import.

Paper 004 labels each B atom by whether it switches bonds (decreased, increased or swapped O
coordination against the unstrained glass, :mod:`.bond_switching`) while the glass is
stretched to fracture, trains a logistic hyperplane on the radial structure functions of the
*unstrained* glass (:mod:`..softness`), tests it on a held-out sample, and follows the
softness of B along the strain (Fig. 6b: the model applied to every strained frame) and the
propensity to switch against softness (Fig. 4b).

Held-out sample: with several replicas, one replica (the paper holds out one composition);
with one replica, the atoms of the upper half of the cell along x (:data:`HALF_AXIS`). The
pre-crack is centred, so each half holds one crack tip. Under paper 002's 1 x 2 x 2
replication x is not replicated, so the halves are no periodic copies of each other (a cell
replicated along x would be: the fracture workflow refuses one replica then). Features of atoms
near the boundary between the halves see atoms of both, so a held-out half is a weaker test
than a held-out replica.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from ..softness import SoftnessModel, apply_softness, radial_structure_functions, train_softness
from .bond_switching import UNCHANGED

__all__ = ('HALF_AXIS', 'ReplicaSwitching', 'StrainSoftness', 'first_switch', 'held_out', 'quantile_groups',
           'strain_softness', 'switched_by_strain', 'switching_softness')

#: Axis along which a lone replica is cut in two halves for the held-out test (x: not replicated by paper 002).
HALF_AXIS = 0


def first_switch(classes, strain) -> tuple[np.ndarray, np.ndarray]:
    """Whether each atom switched bonds at any frame, and the strain of its first switch.

    Parameters
    ----------
    classes : array_like of int, shape (n_frames, n_atoms)
        Bond-switching class per frame (:attr:`.bond_switching.BondSwitching.classes`; 0 is
        ``unchanged``), frames in order of increasing strain.
    strain : array_like, shape (n_frames,)
        Strain of each frame, dimensionless.

    Returns
    -------
    switched : numpy.ndarray of bool, shape (n_atoms,)
        Not ``unchanged`` in at least one frame.
    first_strain : numpy.ndarray of float, shape (n_atoms,)
        Strain of the first frame in which the atom is not ``unchanged``; NaN if never.
    """
    codes = np.asarray(classes)
    strain = np.asarray(strain, dtype=float)
    if codes.ndim != 2 or strain.shape != (codes.shape[0],):
        raise ValueError(f'classes must have shape (n_frames, n_atoms) and strain (n_frames,), got {codes.shape} and '
                         f'{strain.shape}')
    moved = codes != UNCHANGED
    switched = moved.any(axis=0)
    first_strain = np.full(codes.shape[1], np.nan)
    first_strain[switched] = strain[np.argmax(moved, axis=0)[switched]]
    return switched, first_strain


def quantile_groups(values, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Split values into ``n_groups`` groups of (nearly) equal size by their quantiles.

    Parameters
    ----------
    values : array_like, shape (n,)
        E.g. the softness of every B atom.
    n_groups : int
        Number of groups (4: quartiles), >= 1.

    Returns
    -------
    groups : numpy.ndarray of int, shape (n,)
        Group of each value, 0 (lowest) .. n_groups - 1 (highest).
    edges : numpy.ndarray, shape (n_groups + 1,)
        Quantiles bounding the groups (minimum, ..., maximum).
    """
    values = np.asarray(values, dtype=float)
    if isinstance(n_groups, bool) or not isinstance(n_groups, (int, np.integer)) or n_groups < 1:
        raise ValueError(f'n_groups must be an integer >= 1, got {n_groups!r}')
    if values.ndim != 1 or values.size < n_groups:
        raise ValueError(f'values must be one-dimensional with at least n_groups = {n_groups} entries, got shape '
                         f'{values.shape}')
    edges = np.quantile(values, np.linspace(0.0, 1.0, n_groups + 1))
    return np.clip(np.searchsorted(edges[1:-1], values, side='right'), 0, n_groups - 1), edges


def switched_by_strain(first_strain, strain, groups, n_groups: int) -> np.ndarray:
    """Fraction of the atoms of each group that have switched bonds by each strain.

    Parameters
    ----------
    first_strain : array_like, shape (n_atoms,)
        Strain of each atom's first switch, NaN if never (:func:`first_switch`).
    strain : array_like, shape (n_frames,)
        Strains at which the fraction is counted.
    groups : array_like of int, shape (n_atoms,)
        Group of each atom, 0 .. n_groups - 1 (:func:`quantile_groups`).
    n_groups : int
        Number of groups.

    Returns
    -------
    numpy.ndarray, shape (n_groups, n_frames)
        ``fraction[g, k]``: share of group g with ``first_strain <= strain[k]``; NaN for an
        empty group.
    """
    first = np.asarray(first_strain, dtype=float)
    groups = np.asarray(groups)
    by = np.where(np.isnan(first), np.inf, first)[:, None] <= np.asarray(strain, dtype=float)[None, :] + 1e-12
    fraction = np.full((n_groups, by.shape[1]), np.nan)
    for group in range(n_groups):
        if np.any(groups == group):
            fraction[group] = by[groups == group].mean(axis=0)
    return fraction


def switching_softness(softness, first_strain, strain) -> np.ndarray:
    """Mean softness of the atoms whose first switch happens at each strain.

    Parameters
    ----------
    softness : array_like, shape (n_atoms,)
        Softness of each atom in the unstrained glass.
    first_strain : array_like, shape (n_atoms,)
        Strain of each atom's first switch, NaN if never.
    strain : array_like, shape (n_frames,)
        The strains of the frames.

    Returns
    -------
    numpy.ndarray, shape (n_frames,)
        Mean softness of the atoms with ``first_strain == strain[k]`` (to 1e-9); NaN where none.
    """
    softness = np.asarray(softness, dtype=float)
    first = np.asarray(first_strain, dtype=float)
    result = np.full(len(strain), np.nan)
    for k, value in enumerate(np.asarray(strain, dtype=float)):
        at = np.abs(first - value) < 1e-9
        if at.any():
            result[k] = softness[at].mean()
    return result


class ReplicaSwitching(NamedTuple):
    """One strained sample: its frames and the bond-switching labels of the atoms classified."""

    #: Frames in order of strain, Å, shape (n_frames, n_atoms, 3); frame 0 unstrained.
    positions: np.ndarray
    #: Lattice vectors as rows, Å, shape (n_frames, 3, 3).
    cells: np.ndarray
    #: Element of each atom, shape (n_atoms,).
    symbols: np.ndarray
    #: Indices of the classified atoms (e.g. every B), ascending, shape (n_labelled,).
    indices: np.ndarray
    #: Whether each classified atom switched bonds, bool, shape (n_labelled,).
    switched: np.ndarray


class StrainSoftness(NamedTuple):
    """The softness model trained on bond switching and the softness of every labelled atom in every frame."""

    #: The logistic hyperplane, its accuracies and the softness of the unstrained atoms (replicas in order).
    model: SoftnessModel
    #: Per replica: softness of each labelled atom in each frame, shape (n_frames, n_labelled).
    frame_softness: list
    #: Shell radii, Å, shape (n_r,).
    r_a: np.ndarray
    #: Neighbour species of the feature blocks, sorted.
    feature_species: tuple


def held_out(replicas: Sequence[ReplicaSwitching], test_replica: int) -> np.ndarray:
    """Group of every labelled atom, replicas in order: the replica index, or for one replica 1 in the upper half along x.

    Returns
    -------
    numpy.ndarray of int, shape (n_labelled_total,)
        With one replica, 1 for atoms whose fractional coordinate along :data:`HALF_AXIS` in the
        unstrained frame is >= 0.5 (the held-out half) and 0 otherwise; else the replica index.
    """
    if len(replicas) > 1:
        return np.concatenate([np.full(len(replica.indices), index) for index, replica in enumerate(replicas)])
    replica = replicas[0]
    fractional = replica.positions[0][replica.indices] @ np.linalg.inv(replica.cells[0])
    return (np.mod(fractional[:, HALF_AXIS], 1.0) >= 0.5).astype(int)


def strain_softness(replicas: Sequence[ReplicaSwitching], test_replica: int, r_max_a: float = 10.0,
                    dr_a: float = 0.2, c: float = 1.0, balance: bool = True, seed: int = 0) -> StrainSoftness:
    """Train softness on the bond switching of the unstrained glass; apply it to every strained frame.

    Parameters
    ----------
    replicas : sequence of ReplicaSwitching
        The strained samples, labels from their whole strain history.
    test_replica : int
        Index of the held-out replica; with one replica ignored (its upper half along x is held out).
    r_max_a, dr_a : float
        Last shell and shell spacing of the radial structure functions, Å (paper 004: 10, 0.2).
    c : float
        Inverse L2 regularisation strength.
    balance : bool
        Train on equally many switching and non-switching atoms.
    seed : int
        Seed of the balancing subsample and the solver.

    Returns
    -------
    StrainSoftness

    Raises
    ------
    ValueError
        ``test_replica`` out of range, a cell too small for ``r_max_a``, or a training set
        without both classes (the message names the field).
    """
    if not replicas:
        raise ValueError('replicas: need at least one strained sample')
    if len(replicas) > 1 and not 0 <= test_replica < len(replicas):
        raise ValueError(f'test_replica must be a replica index in [0, {len(replicas) - 1}], got {test_replica!r}')
    neighbours = sorted({str(symbol) for replica in replicas for symbol in replica.symbols})

    def features(replica, frame):
        return radial_structure_functions(replica.positions[frame], replica.cells[frame], replica.symbols,
                                          replica.indices, neighbours, r_max_a, dr_a)

    initial = [features(replica, 0) for replica in replicas]
    _, r_a, species = initial[0]
    groups = held_out(replicas, test_replica)
    model = train_softness(np.concatenate([rows for rows, _, _ in initial]),
                           np.concatenate([replica.switched for replica in replicas]), groups,
                           test_replica if len(replicas) > 1 else 1, C=c, balance=balance, seed=seed)
    frame_softness = [np.stack([apply_softness(model, rows)] + [apply_softness(model, features(replica, frame)[0])
                                                              for frame in range(1, len(replica.positions))])
                      for replica, (rows, _, _) in zip(replicas, initial)]  # frame 0's features are the training ones
    return StrainSoftness(model, frame_softness, r_a, tuple(species))
