"""Bond switching of network formers against the unstrained glass (papers 002 section 2.9, 004 section 4.4).

Pure numpy; no AiiDA import. Built on :func:`..speciation.network_frame` (the former-O bonds of
one frame: a former and an oxygen closer than ``cutoffs[former]``, minimum image in any
periodic cell), so that "bonded" means here what it means for N4, BO/NBO and rings.

Each former atom (every atom whose element is a key of ``cutoffs``: B, P, Si, ...) of a
strained frame is compared with itself in the reference (unstrained) frame:

=============  =========================================================================
class          condition
=============  =========================================================================
``decreased``  fewer O neighbours than in the reference
``increased``  more O neighbours than in the reference
``swapped``    as many O neighbours, but at least one of them is another oxygen atom
``unchanged``  the same set of O atoms
=============  =========================================================================

Papers 002 and 004 take the cutoffs from the first minimum of the former-O g(r) (002: B-O
1.8 Å, P-O 1.7 Å; 004: 2.0 Å for both); :func:`..cutoffs.bond_cutoffs` gives them.

The public API is two functions: :func:`switching_classes` (per atom, per frame) and
:func:`bond_switching` (the same plus counts per element and frame, for a trajectory whose
first frame, or a given frame, is the reference).
"""
from __future__ import annotations

from typing import Mapping, NamedTuple, Sequence

import numpy as np

from ..neighbors import as_frames, as_positions, as_species
from ..speciation import former_cutoffs, network_frame

__all__ = ('SWITCH_CLASSES', 'BondSwitching', 'bond_switching', 'switching_classes')

#: Class names; a class code is the index into this tuple.
SWITCH_CLASSES = ('unchanged', 'decreased', 'increased', 'swapped')
UNCHANGED, DECREASED, INCREASED, SWAPPED = range(len(SWITCH_CLASSES))


class BondSwitching(NamedTuple):
    """Bond-switching classes of the former atoms in every frame, and their counts."""

    #: Atom indices of the former atoms, ascending, shape (n_formers,).
    formers: np.ndarray
    #: Element of each former atom, shape (n_formers,).
    elements: np.ndarray
    #: O neighbours of each former atom in the reference frame, shape (n_formers,).
    reference_coordination: np.ndarray
    #: Class code (index into :data:`SWITCH_CLASSES`) per frame and former, shape (n_frames, n_formers).
    classes: np.ndarray
    #: ``{element: counts}``, counts of shape (n_frames, 4) in the order of :data:`SWITCH_CLASSES`.
    counts: dict


def _bond_keys(former: np.ndarray, oxygen: np.ndarray, n_atoms: int) -> np.ndarray:
    """One integer per former-O bond, ``former * n_atoms + oxygen``, shape (n_bonds,)."""
    return former.astype(np.int64) * n_atoms + oxygen.astype(np.int64)


def switching_classes(reference_positions, reference_cell, positions, cell, species: Sequence[str],
                      cutoffs: Mapping[str, float], oxygen: str = 'O') -> np.ndarray:
    """Class code of every former atom of one strained frame against the reference frame.

    Parameters
    ----------
    reference_positions : array_like, shape (n_atoms, 3)
        Unstrained frame, Cartesian coordinates in Å (may be unwrapped).
    reference_cell : array_like, shape (3, 3)
        Its lattice vectors in Å as rows.
    positions : array_like, shape (n_atoms, 3)
        Strained frame, the same atoms in the same order, Å.
    cell : array_like, shape (3, 3)
        Its lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    cutoffs : Mapping[str, float]
        ``{former element: former-O cutoff in Å}``, e.g. ``{'B': 1.9, 'P': 2.0}``; every
        network former present needs one (:func:`..speciation.former_cutoffs`).
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    numpy.ndarray of int, shape (n_atoms,)
        Index into :data:`SWITCH_CLASSES` for former atoms (elements of ``cutoffs``), -1 for
        every other atom.

    Raises
    ------
    ValueError
        Bad shapes, cutoffs, or a cutoff above half the smallest cell width (naming the field).
    """
    ref = as_positions(reference_positions, 'reference_positions')
    now = as_positions(positions)
    if ref.shape != now.shape:
        raise ValueError(f'positions has shape {now.shape} but reference_positions has {ref.shape}: the same atoms')
    spec = as_species(species, ref.shape[0])
    before = network_frame(ref, reference_cell, spec, cutoffs, oxygen)
    after = network_frame(now, cell, spec, cutoffs, oxygen)
    return _classes(before, after, np.isin(spec, list(former_cutoffs(cutoffs, spec, oxygen))))


def _classes(before, after, is_former: np.ndarray) -> np.ndarray:
    """Class codes, shape (n_atoms,), from the :class:`NetworkFrame` of the reference and the strained frame."""
    n_atoms = is_former.size
    cn_before, cn_after = before.former_oxygens, after.former_oxygens
    new_bond = ~np.isin(_bond_keys(after.former, after.oxygen, n_atoms), _bond_keys(before.former, before.oxygen, n_atoms))
    new_neighbours = np.bincount(after.former[new_bond], minlength=n_atoms)
    codes = np.full(n_atoms, UNCHANGED)
    codes[(cn_after == cn_before) & (new_neighbours > 0)] = SWAPPED
    codes[cn_after < cn_before] = DECREASED
    codes[cn_after > cn_before] = INCREASED
    codes[~is_former] = -1
    return codes


def bond_switching(positions, cell, species: Sequence[str], cutoffs: Mapping[str, float], reference: int = 0,
                   oxygen: str = 'O') -> BondSwitching:
    """Bond-switching classes of every former atom in every frame of a deformation trajectory.

    Parameters
    ----------
    positions : array_like, shape (n_frames, n_atoms, 3)
        Cartesian coordinates in Å (unwrapped or wrapped).
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows, per frame for a deforming cell.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    cutoffs : Mapping[str, float]
        ``{former element: former-O cutoff in Å}`` (see :func:`switching_classes`).
    reference : int
        Index of the unstrained frame (default the first).
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    BondSwitching
        Classes per frame and former atom (the reference frame is all ``unchanged``) and
        counts per former element and frame.

    Raises
    ------
    ValueError
        Bad shapes or cutoffs, or ``reference`` not a frame index (naming the field).
    """
    pos, cells = as_frames(positions, cell)
    spec = as_species(species, pos.shape[1])
    n_frames = pos.shape[0]
    if isinstance(reference, bool) or not isinstance(reference, (int, np.integer)) or not -n_frames <= reference < n_frames:
        raise ValueError(f'reference must be a frame index in [0, {n_frames - 1}], got {reference!r}')
    elements = sorted(former_cutoffs(cutoffs, spec, oxygen))
    formers = np.flatnonzero(np.isin(spec, elements))
    before = network_frame(pos[reference], cells[reference], spec, cutoffs, oxygen)
    is_former = np.isin(spec, elements)
    classes = np.stack([_classes(before, network_frame(p, c, spec, cutoffs, oxygen), is_former)[formers]
                        for p, c in zip(pos, cells)])
    former_elements = spec[formers]
    counts = {element: np.stack([np.bincount(row[former_elements == element], minlength=len(SWITCH_CLASSES))
                                 for row in classes])
              for element in elements if np.any(former_elements == element)}
    return BondSwitching(formers, former_elements, before.former_oxygens[formers], classes, counts)
