"""Voronoi atomic volumes under full three-dimensional periodic boundary conditions.

Pure numpy plus :mod:`freud`; no AiiDA import (see DESIGN.md, layer "analysis kernels").

Method. The Voronoi cell of an atom is the region of space closer to it than to any
other atom or periodic image; its volume is the atom's "atomic volume". This is the
quantity Du et al., Mater. Today Energy (2023) 101390, doi:10.1016/j.mtener.2023.101390,
section 4.2, take from OVITO's Voronoi analysis (Stukowski, Modelling Simul. Mater.
Sci. Eng. 18, 015012 (2010)) to follow the local expansion of boron sites under
tension. Here the
tessellation is done by :class:`freud.locality.Voronoi` (freud 3, Ramasubramani et al.,
Comput. Phys. Commun. 254, 107275 (2020)), which wraps voro++ (Rycroft, Chaos 19,
041111 (2009)). The plain (unweighted) tessellation is used, as in OVITO's default:
every face is the perpendicular bisector plane of the two atoms, whatever their
species.

Cell orientation. freud describes a periodic box by ``Lx, Ly, Lz, xy, xz, yz``: its
lattice vectors are the COLUMNS of an upper-triangular matrix, the first along x, the
second in the xy plane (the LAMMPS convention). Our cells are rows in any orientation
(ASE / AiiDA). The cell is brought to freud's orientation by the orthogonal factor of a
QR decomposition, ``cell.T = Q U`` with ``diag(U) > 0``; positions are mapped by the
same ``Q`` (``r -> r @ Q``), wrapped into the cell and centred on the origin, as freud
wants. Both steps go through fractional coordinates ``f`` wrapped to ``[0, 1)``:
``r @ Q = f @ U.T``, so ``Q`` itself is never formed. ``Q`` is a rotation, or a
rotation times a reflection for a left-handed cell; both preserve every volume.

Precision. freud hands positions and the box to its C++ layer in SINGLE precision
(``float32``: ``freud.util._convert_array`` casts the points, and ``Box`` stores its
lengths and tilts as ``float``); voro++ then computes in double precision and freud
returns ``float64`` volumes. Measured with freud 3.4: the volumes of a frame sum to
the volume of the float32-rounded box to ~1e-12, i.e. to the true cell volume within a
relative ~1e-7; single volumes agree with exact values (ideal lattices) or between
equivalent descriptions of one cell within a relative ~1e-6 for cells of 10-25 Å.
Do not expect double-precision agreement.

freud's Voronoi needs a three-dimensional box periodic in all three directions; that
is the only case handled here (every cell passed in is taken as fully periodic).
"""

from __future__ import annotations

from typing import Sequence

import freud
import numpy as np

from .neighbors import as_frames, as_species

__all__ = ('volumes_by_species', 'voronoi_volumes')


def _freud_frame(positions: np.ndarray, cell: np.ndarray) -> tuple[freud.box.Box, np.ndarray]:
    """One frame in freud's orientation: an upper-triangular box and centred wrapped points.

    Parameters
    ----------
    positions : numpy.ndarray, shape (n_atoms, 3), float
        Cartesian coordinates in Å (may be unwrapped).
    cell : numpy.ndarray, shape (3, 3), float
        Lattice vectors in Å as rows, any orientation and handedness, non-singular.

    Returns
    -------
    box : freud.box.Box
        Periodic 3D box with the same lattice, first vector along x, second in the xy
        plane (lengths in Å).
    points : numpy.ndarray, shape (n_atoms, 3), float
        Positions in Å in the box's frame, wrapped into the box centred on the origin.
    """
    upper = np.linalg.qr(cell.T, mode='r')
    upper *= np.sign(np.diag(upper))[:, np.newaxis]  # diag(upper) > 0
    lx, ly, lz = np.diag(upper)
    box = freud.box.Box(
        Lx=lx, Ly=ly, Lz=lz, xy=upper[0, 1] / ly, xz=upper[0, 2] / lz, yz=upper[1, 2] / lz, is2D=False
    )
    frac = np.linalg.solve(cell.T, positions.T).T
    frac -= np.floor(frac)
    return box, (frac - 0.5) @ upper.T  # frac @ upper.T == r @ Q, wrapped


def voronoi_volumes(positions, cell) -> np.ndarray:
    """Voronoi volume of every atom, under full 3D periodic boundary conditions.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Cartesian coordinates in Å; may be unwrapped (the input is not modified).
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows; any non-singular cell, in any orientation
        (triclinic, rotated, left-handed). Periodic along all three vectors.

    Returns
    -------
    numpy.ndarray, float
        Volumes in Å^3, shape ``(n_atoms,)`` for one frame or ``(n_frames, n_atoms)``
        for a trajectory; each frame sums to its cell volume (within freud's single
        precision, relative ~1e-6, see the module notes).

    Raises
    ------
    ValueError
        On bad shapes, non-finite values or a singular cell (naming ``positions`` or
        ``cell``), or when there are no atoms.
    """
    single = np.ndim(positions) == 2
    pos, cells = as_frames(positions, cell)
    if pos.shape[1] == 0:
        raise ValueError('positions must contain at least one atom for a Voronoi tessellation')
    voronoi = freud.locality.Voronoi()
    result = np.empty(pos.shape[:2])
    for frame, (frame_pos, frame_cell) in enumerate(zip(pos, cells)):
        result[frame] = voronoi.compute(_freud_frame(frame_pos, frame_cell)).volumes
    return result[0] if single else result


def volumes_by_species(volumes, species: Sequence[str]) -> dict[str, dict]:
    """Statistics of atomic volumes per species, pooling all frames.

    Parameters
    ----------
    volumes : array_like, shape (n_atoms,) or (n_frames, n_atoms)
        Atomic volumes in Å^3, e.g. from :func:`voronoi_volumes`.
    species : sequence of str, shape (n_atoms,)
        Element symbols, the same for every frame.

    Returns
    -------
    dict[str, dict]
        ``{symbol: stats}`` with symbols in sorted order and ``stats``:

        - ``mean_a3`` (float): mean volume of one atom of the species in Å^3, over all
          its atoms and frames;
        - ``std_a3`` (float): population standard deviation (ddof 0) of those volumes
          in Å^3;
        - ``total_a3`` (float): volume of all atoms of the species in one frame, in Å^3,
          averaged over frames (``n * mean_a3``);
        - ``n`` (int): number of atoms of the species (per frame).

    Raises
    ------
    ValueError
        If ``volumes`` has the wrong shape or holds non-finite or negative values, or
        ``species`` does not match its number of atoms.
    """
    vol = np.asarray(volumes, dtype=float)
    if vol.ndim not in (1, 2):
        raise ValueError(f'volumes must have shape (n_atoms,) or (n_frames, n_atoms) in Å^3, got shape {vol.shape}')
    vol = np.atleast_2d(vol)
    if not np.all(np.isfinite(vol)) or np.any(vol < 0.0):
        raise ValueError('volumes must contain only finite non-negative numbers (Å^3)')
    spec = as_species(species, vol.shape[1])
    stats = {}
    for symbol in np.unique(spec):
        values = vol[:, spec == symbol]
        stats[str(symbol)] = {
            'mean_a3': float(values.mean()),
            'std_a3': float(values.std()),
            'total_a3': float(values.sum(axis=1).mean()),
            'n': int(values.shape[1]),
        }
    return stats
