"""Geometry of the bcc lattice of the hopping model (paper 003, section II and Fig. 2).

Pure numpy; no AiiDA import.

Two interpenetrating simple cubic sublattices of ``size**3`` sites each, periodic in all
three directions, lattice constant a (the mean jump distance):

- NFU sites at the integer points ``(i, j, k)``;
- ion sites at the cell centres ``(i + 1/2, j + 1/2, k + 1/2)``, indexed by ``(i, j, k)``.

Every array over sites has shape ``(size, size, size)`` indexed ``[i, j, k]`` (i along x)
or is its C-order flattening, flat index ``(i * size + j) * size + k``. An NFU site
touches the 8 ion sites ``(i - di, j - dj, k - dk)``, ``di, dj, dk in {0, 1}``; an ion
site has 6 ion-site neighbours at distance a.

For conductance and percolation the lattice is cut open along x: the ion sites at
``i = 0`` and ``i = size - 1`` are the two opposite faces (electrodes, section IV), and
the links across the periodic x boundary are left out; y and z stay periodic.
"""

from __future__ import annotations

import numpy as np

__all__ = ('check_size', 'nfu_neighbours', 'lattice_links', 'face_sites')

#: The 8 offsets (di, dj, dk) from an NFU site to the ion sites around it.
CORNER_OFFSETS = np.array([(di, dj, dk) for di in (0, 1) for dj in (0, 1) for dk in (0, 1)])


def check_size(size) -> int:
    """Validate the linear lattice size (number of sites along each axis).

    Parameters
    ----------
    size : int
        Sites per axis; at least 3, so that the +1 and -1 neighbours differ.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        ``size`` not an integer >= 3.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 3:
        raise ValueError(f'size must be an integer >= 3 (sites per axis), got {size!r}')
    return int(size)


def nfu_neighbours(sites, size: int) -> np.ndarray:
    """Ion sites around NFU sites.

    Parameters
    ----------
    sites : array_like of int, shape (m,)
        Flat indices of NFU sites.
    size : int
        Sites per axis.

    Returns
    -------
    numpy.ndarray, shape (m, 8), int64
        Flat indices of the 8 ion sites (cell centres) touching each NFU site, in the
        order of ``CORNER_OFFSETS``.
    """
    i, j, k = np.unravel_index(np.asarray(sites, dtype=np.int64), (size, size, size))
    di, dj, dk = (CORNER_OFFSETS[:, axis][None, :] for axis in range(3))
    return (((i[:, None] - di) % size) * size + (j[:, None] - dj) % size) * size + (k[:, None] - dk) % size


def lattice_links(accessible) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour links between accessible ion sites, open along x.

    Parameters
    ----------
    accessible : array_like of bool, shape (size, size, size)
        True for ion sites, False for blocked sites.

    Returns
    -------
    i, j : numpy.ndarray, shape (n_links,), int64
        Flat site indices of the two ends; every link appears once, ``i`` is the site
        with the smaller coordinate along the link (before the periodic wrap in y and
        z). Links are grouped by direction: x, then y, then z.
    """
    acc = np.asarray(accessible, dtype=bool)
    size = check_size(acc.shape[0])
    if acc.shape != (size,) * 3:
        raise ValueError(f'accessible must have shape (size, size, size), got {acc.shape}')
    index = np.arange(size**3, dtype=np.int64).reshape(acc.shape)
    starts, ends = [], []
    for axis in range(3):
        forward = np.roll(index, -1, axis=axis)
        a, b = index, forward
        if axis == 0:
            a, b = index[:-1], forward[:-1]
        a = a.ravel()
        b = b.ravel()
        keep = acc.ravel()[a] & acc.ravel()[b]
        starts.append(a[keep])
        ends.append(b[keep])
    return np.concatenate(starts), np.concatenate(ends)


def face_sites(accessible) -> tuple[np.ndarray, np.ndarray]:
    """Accessible ion sites of the two faces normal to x.

    Parameters
    ----------
    accessible : array_like of bool, shape (size, size, size)

    Returns
    -------
    source, sink : numpy.ndarray, int64
        Flat indices of the accessible sites at ``i = 0`` and at ``i = size - 1``.
    """
    acc = np.asarray(accessible, dtype=bool)
    size = acc.shape[0]
    flat = np.flatnonzero(acc.ravel())
    first = flat[flat < size * size]
    last = flat[flat >= (size - 1) * size * size]
    return first, last
