"""Domain cavities: the empty space of a periodic frame, cut into connected regions.

Pure numpy/scipy; no AiiDA import (see DESIGN.md, layer "analysis kernels").

What is computed. This is the "domain" cavity definition of pyMolDyn (Heimbach et al.,
J. Comput. Chem. 38, 389 (2017), doi:10.1002/jcc.24697), as used with a cutoff radius of
2.0 Å for every element by paper 000 (potassium borate glass, section 3.2.3, Figs. 9 and
10d): a point of the periodic cell is *cavity space* when its distance to every atom
(every periodic image) is at least the cutoff radius ``r`` of that atom; a *cavity* (a
"domain") is a connected region of cavity space, and connectivity runs across the
periodic faces of the cell. Reported are the fraction of the cell volume that is cavity
space, the number of cavities, the volume of each (Å^3), and, for selected mobile ions,
the distance from the ion to the nearest cavity point (paper 000, Fig. 10d: ions "directly
attached to the cavity" move first). pyMolDyn also offers "surface-based" cavities
(each domain grown into the excluded spheres by the points that lie closer to one of
its surface points than to any atom) and "center-based" cavities (the same, grown from
the domain centres); only the domain method is implemented here.

Method. The cell is cut into ``n_1 x n_2 x n_3`` voxels, parallelepipeds spanned by
``a_k / n_k`` (``n_k = ceil(|a_k| / resolution_a)``, so every voxel edge is at most
``resolution_a``); each voxel stands for its centre, at fractional coordinates
``(i_k + 1/2) / n_k``, and carries the volume ``V / (n_1 n_2 n_3)``. pyMolDyn uses the
same kind of discretisation (a regular grid, each point a volume element).

1. *Excluded voxels* (those with an atom closer than ``r``) are found by stamping one
   precomputed stencil per atom: the integer voxel offsets ``d`` whose centre can lie
   within ``r`` of an atom sitting anywhere in its own voxel. For an atom at grid
   coordinate ``g = n * f`` (``f`` its wrapped fractional position) in voxel
   ``b = floor(g)``, the vector to the voxel ``b + d`` is ``s + h_d`` with
   ``s = ((b + 1/2 - g) / n) @ cell`` and ``h_d = (d / n) @ cell``; ``|s + h_d|^2 < r^2``
   is evaluated exactly for every atom and offset (one matrix product per chunk of
   atoms) and the voxels ``(b + d) mod n`` are marked. The modulo makes every periodic
   image count, in any triclinic cell and for any ``r`` (also ``r`` larger than half
   the cell): the cavity mask is exact for the voxel centres, with ties
   (distance exactly ``r``) counted as cavity space.
2. *Domains*: :func:`scipy.ndimage.label` labels the mask inside the grid, with voxels
   touching at a face, an edge or a corner connected (26 neighbours, as pyMolDyn's
   split-and-merge domain search does on its grid; ``connectivity=6`` keeps faces only);
   labels that touch across the periodic boundary (voxel ``n_k - 1`` and voxel ``0``
   along axis ``k``, also diagonally and across edges and corners) are merged with
   :func:`scipy.sparse.csgraph.connected_components`. A cavity that runs through the
   whole cell (percolates) counts once. Face-only connectivity cuts the thin tips of
   cavity space (cusps between excluded spheres) into spurious one-voxel domains when
   the voxels are sheared (triclinic cells); 26-connectivity keeps them attached.
3. *Ion distances*: a :class:`scipy.spatial.cKDTree` of the cavity voxel centres is
   queried with periodic images of each ion; the range of images is widened until it
   provably contains the minimum image (any triclinic cell).

Accuracy. The voxel centres are classified exactly, so the only error is the
discretisation: a cavity volume is a count of voxels, off from the true volume of the
region only through the voxels its boundary cuts (each adds an error between ``-v`` and
``+v``, ``v`` the voxel volume; for a boundary of area ``A`` and voxel edge ``h`` the
errors add up to a random error of order ``h^2 sqrt(A)``, e.g. 0.1-0.5 Å^3 for a 2 Å
sphere at ``h = 0.25`` Å). Regions or bottlenecks thinner than a voxel may appear or
vanish: very small cavities (a few voxels, where the largest distance to the atoms just
exceeds the cutoff) come and go with the resolution, as pyMolDyn's "critical domains"
do, while the fraction and the larger cavities converge. Distances to the nearest
cavity point are exact for the voxel centres and never smaller than the ion's own
cutoff (the ion excludes its own sphere); subtract ``r`` for the gap between the ion's
exclusion sphere and the cavity.

Cost. For 10,000 atoms in a (47 Å)^3 cell at ``resolution_a = 0.25`` (188^3 = 6.6
million voxels, a stencil of 2,945 offsets at ``r = 2`` Å) a frame takes 1.5-3.5 s on
one core here (``benchmarks/medium_range_cavities.py``); time and memory grow as
``(L / resolution_a)^3``, the stamping also as ``n_atoms (r / resolution_a)^3``.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple, Sequence

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .neighbors import (
    _index_set,
    _wrapped_fractional,
    as_cell,
    as_distance,
    as_frames,
    as_positions,
    as_species,
    perpendicular_widths,
)

__all__ = (
    'CavityStatistics',
    'DomainCavities',
    'cavity_points',
    'domain_cavities',
    'grid_points',
    'grid_shape',
    'trajectory_cavities',
    'volume_histogram',
)

#: Default cutoff radius around every atom, Å (pyMolDyn's and paper 000's value).
DEFAULT_CUTOFF_A = 2.0
#: Default voxel edge, Å: 8 million voxels for a (50 Å)^3 cell.
DEFAULT_RESOLUTION_A = 0.25
#: Largest accepted ``resolution_a / cutoff_a``: at least 4 voxels across an excluded sphere.
MAX_RESOLUTION_PER_CUTOFF = 0.5
#: Largest grid accepted (voxels); above it the label array alone takes more than 512 MiB.
MAX_GRID_POINTS = 2**27
#: Stencil entries evaluated per chunk of atoms (bounds the temporary memory, ~100 MiB).
_CHUNK_ENTRIES = 4_000_000


class DomainCavities(NamedTuple):
    """Domain cavities of one frame (see :func:`domain_cavities`)."""

    #: Cavity volume / cell volume (dimensionless, 0..1).
    volume_fraction: float
    #: Number of connected cavities (connected across the periodic faces).
    n_cavities: int
    #: Volume of each cavity in Å^3, shape (n_cavities,), largest first.
    volumes_a3: np.ndarray
    #: Volume of the cell in Å^3.
    cell_volume_a3: float
    #: Voxels along the three lattice vectors, (n_1, n_2, n_3).
    grid_shape: tuple
    #: Volume of one voxel in Å^3.
    voxel_volume_a3: float
    #: Cutoff radius of every atom in Å, shape (n_atoms,).
    cutoffs_a: np.ndarray
    #: Grid of cavity labels, shape grid_shape, int32: 0 outside cavities, k for the cavity
    #: ``volumes_a3[k - 1]``; ``None`` when not kept. Voxel (i, j, k) is centred at
    #: fractional coordinates ((i, j, k) + 1/2) / grid_shape.
    labels: np.ndarray | None
    #: Indices of the mobile ions, shape (n_ions,).
    ion_indices: np.ndarray
    #: Distance from each mobile ion to the nearest cavity voxel centre in Å, shape
    #: (n_ions,); ``inf`` when the frame has no cavity.
    ion_cavity_distance_a: np.ndarray


class CavityStatistics(NamedTuple):
    """Domain cavities pooled over the frames of a trajectory (see :func:`trajectory_cavities`)."""

    #: Cavity volume fraction of every frame, shape (n_frames,).
    volume_fraction: np.ndarray
    #: Number of cavities of every frame, shape (n_frames,), int.
    n_cavities: np.ndarray
    #: Mean cavity volume fraction over the frames.
    mean_volume_fraction: float
    #: Mean number of cavities per frame.
    mean_n_cavities: float
    #: Volumes of all cavities of all frames in Å^3, shape (sum of n_cavities,), frame by
    #: frame, largest first within a frame.
    volumes_a3: np.ndarray
    #: Frame of each entry of ``volumes_a3``, shape like ``volumes_a3``, int.
    frame_of_volume: np.ndarray
    #: Cell volume of every frame in Å^3, shape (n_frames,).
    cell_volume_a3: np.ndarray
    #: Indices of the mobile ions, shape (n_ions,).
    ion_indices: np.ndarray
    #: Ion to nearest cavity point in Å, shape (n_frames, n_ions).
    ion_cavity_distance_a: np.ndarray


def grid_shape(cell, resolution_a: float = DEFAULT_RESOLUTION_A) -> tuple[int, int, int]:
    """Voxels along each lattice vector for a voxel edge of at most ``resolution_a``.

    Parameters
    ----------
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    resolution_a : float
        Largest voxel edge along a lattice vector, Å.

    Returns
    -------
    tuple of int, length 3
        ``n_k = ceil(|a_k| / resolution_a)`` (at least 1).

    Raises
    ------
    ValueError
        If ``resolution_a`` is not a positive distance, or the grid would exceed
        :data:`MAX_GRID_POINTS` voxels.
    """
    cell_arr = as_cell(cell)
    res = as_distance(resolution_a, 'resolution_a')
    lengths = np.linalg.norm(cell_arr, axis=1)
    shape = tuple(int(n) for n in np.maximum(np.ceil(lengths / res - 1e-9), 1))
    total = shape[0] * shape[1] * shape[2]
    if total > MAX_GRID_POINTS:
        raise ValueError(
            f'resolution_a = {res:g} Å makes a grid of {shape[0]} x {shape[1]} x {shape[2]} = {total} voxels, '
            f'more than {MAX_GRID_POINTS}; use a larger resolution_a'
        )
    return shape


def grid_points(cell, shape) -> np.ndarray:
    """Cartesian coordinates of the voxel centres.

    Parameters
    ----------
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    shape : sequence of int, length 3
        Voxels along each lattice vector (:func:`grid_shape`).

    Returns
    -------
    numpy.ndarray, shape (n_1, n_2, n_3, 3), float
        Å; voxel ``(i, j, k)`` is centred at fractional ``((i, j, k) + 1/2) / shape``.
    """
    cell_arr = as_cell(cell)
    shape = _checked_shape(shape)
    axes = [(np.arange(n) + 0.5) / n for n in shape]
    frac = np.stack(np.meshgrid(*axes, indexing='ij'), axis=-1)
    return frac @ cell_arr


def cavity_points(result: DomainCavities, cell, cavity: int | None = None) -> np.ndarray:
    """Cartesian coordinates of the cavity voxel centres of one result.

    Parameters
    ----------
    result : DomainCavities
        Output of :func:`domain_cavities` with ``keep_labels=True``.
    cell : array_like, shape (3, 3)
        The lattice vectors in Å (rows) the result was computed for.
    cavity : int, optional
        Only the voxels of this cavity (1 = the largest); default all cavity voxels.

    Returns
    -------
    numpy.ndarray, shape (n_points, 3), float
        Å, inside the cell, in C order of the grid.
    """
    if result.labels is None:
        raise ValueError('result has no labels: compute it with keep_labels=True')
    if cavity is None:
        index = np.nonzero(result.labels)
    else:
        if not 1 <= int(cavity) <= result.n_cavities:
            raise ValueError(f'cavity must be a cavity label in [1, {result.n_cavities}], got {cavity!r}')
        index = np.nonzero(result.labels == int(cavity))
    return _voxel_centres(np.column_stack(index), result.grid_shape, as_cell(cell))


def _checked_shape(shape) -> tuple[int, int, int]:
    """Return ``shape`` as three positive ints; raise ``ValueError`` naming ``shape``."""
    arr = np.asarray(shape)
    if arr.shape != (3,) or arr.dtype.kind not in 'iu' or np.any(arr < 1):
        raise ValueError(f'shape must be three positive integers (voxels per lattice vector), got {shape!r}')
    return tuple(int(n) for n in arr)


def _voxel_centres(index: np.ndarray, shape: Sequence[int], cell: np.ndarray) -> np.ndarray:
    """Cartesian centres (Å, shape (n, 3)) of the voxels with integer grid ``index`` (shape (n, 3))."""
    return ((index + 0.5) / np.asarray(shape, dtype=float)) @ cell


def _atom_cutoffs(cutoff_a, species, n_atoms: int) -> np.ndarray:
    """Cutoff radius of every atom, Å, shape (n_atoms,), from one radius or a radius per element.

    Parameters
    ----------
    cutoff_a : float or mapping of str to float
        Å; one radius for all atoms, or a radius for every element present.
    species : numpy.ndarray or None, shape (n_atoms,)
        Element symbols; needed with a mapping.
    n_atoms : int
        Number of atoms.
    """
    if isinstance(cutoff_a, Mapping):
        if species is None:
            raise ValueError('cutoff_a given per element needs species')
        missing = sorted(set(species.tolist()) - set(cutoff_a))
        if missing:
            raise ValueError(f'cutoff_a has no radius (Å) for the element(s) {missing}')
        radii = {str(k): as_distance(v, f'cutoff_a[{k!r}]') for k, v in cutoff_a.items()}
        return np.array([radii[s] for s in species.tolist()], dtype=float)
    return np.full(n_atoms, as_distance(cutoff_a, 'cutoff_a'))


def _check_resolution(resolution_a, cutoffs: np.ndarray) -> float:
    """Return ``resolution_a`` (Å) after checking it resolves the smallest excluded sphere."""
    res = as_distance(resolution_a, 'resolution_a')
    smallest = float(cutoffs.min())
    if res > MAX_RESOLUTION_PER_CUTOFF * smallest:
        raise ValueError(
            f'resolution_a = {res:g} Å is too coarse for cutoff_a = {smallest:g} Å: it must be at most '
            f'{MAX_RESOLUTION_PER_CUTOFF:g} x cutoff_a = {MAX_RESOLUTION_PER_CUTOFF * smallest:g} Å'
        )
    return res


def _ion_indices(mobile_ions, species, n_atoms: int) -> np.ndarray:
    """Atom indices (shape (n_ions,), intp) of the mobile ions.

    Parameters
    ----------
    mobile_ions : None, str, sequence of str, array_like of int, or bool mask
        ``None``: no ion; an element symbol or several (e.g. ``'K'``, ``['Li', 'Na']``):
        all atoms of these elements; otherwise atom indices or a mask of shape (n_atoms,).
    species : numpy.ndarray or None, shape (n_atoms,)
        Element symbols; needed when ions are named by element.
    n_atoms : int
        Number of atoms.
    """
    if mobile_ions is None:
        return np.zeros(0, dtype=np.intp)
    if isinstance(mobile_ions, str):
        mobile_ions = [mobile_ions]
    arr = np.asarray(mobile_ions)
    if arr.dtype.kind in 'US':
        if species is None:
            raise ValueError('mobile_ions given as element symbols needs species')
        return np.flatnonzero(np.isin(species, arr)).astype(np.intp)
    return _index_set(arr, n_atoms, 'mobile_ions')


def _stencil(cell: np.ndarray, shape: Sequence[int], radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Voxel offsets whose centre can lie within ``radius`` of an atom anywhere in voxel 0.

    Parameters
    ----------
    cell : numpy.ndarray, shape (3, 3)
        Lattice vectors in Å as rows.
    shape : sequence of int, length 3
        Voxels per lattice vector.
    radius : float
        Å.

    Returns
    -------
    offsets : numpy.ndarray, shape (n_offsets, 3), intp
        Integer voxel offsets ``d``.
    vectors : numpy.ndarray, shape (n_offsets, 3), float
        ``h_d = (d / shape) @ cell`` in Å.
    """
    n = np.asarray(shape, dtype=float)
    widths = perpendicular_widths(cell)
    reach = np.ceil(radius * n / widths + 0.5).astype(int)  # |d_k + residual_k| <= r n_k / w_k, |residual| <= 1/2
    axes = [np.arange(-m, m + 1) for m in reach]
    offsets = np.stack(np.meshgrid(*axes, indexing='ij'), axis=-1).reshape(-1, 3)
    vectors = (offsets / n) @ cell
    corners = np.array([(x, y, z) for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    half_diagonal = float(np.linalg.norm((corners / n) @ cell, axis=1).max())
    keep = np.einsum('ij,ij->i', vectors, vectors) <= (radius + half_diagonal) ** 2 * (1.0 + 1e-12)
    return offsets[keep].astype(np.intp), vectors[keep]


def _stamp(excluded: np.ndarray, grid: np.ndarray, cell: np.ndarray, radius: float) -> None:
    """Mark every voxel whose centre lies closer than ``radius`` to one of the atoms.

    The stencil is stamped into a grid padded by its reach on every side (so no index
    wraps), which is then folded back periodically onto ``excluded``.

    Parameters
    ----------
    excluded : numpy.ndarray, shape (n_1, n_2, n_3), bool
        Marked in place.
    grid : numpy.ndarray, shape (n_atoms, 3), float
        Atom positions in grid units, ``shape * f`` with ``f`` wrapped to [0, 1).
    cell : numpy.ndarray, shape (3, 3)
        Lattice vectors in Å as rows.
    radius : float
        Å, the same for all these atoms.
    """
    shape = np.asarray(excluded.shape, dtype=np.intp)
    offsets, vectors = _stencil(cell, excluded.shape, radius)
    pad = np.abs(offsets).max(axis=0)
    padded = np.zeros(shape + 2 * pad, dtype=bool)
    strides = np.array([padded.shape[1] * padded.shape[2], padded.shape[2], 1], dtype=np.intp)
    base = np.minimum(np.floor(grid).astype(np.intp), shape - 1)
    residual = ((base + 0.5 - grid) / shape) @ cell  # s: atom -> centre of its own voxel, Å
    base_flat = (base + pad) @ strides
    offset_flat = offsets @ strides
    h2 = np.einsum('ij,ij->i', vectors, vectors)
    r2 = radius * radius
    flat = padded.reshape(-1)
    chunk = max(1, _CHUNK_ENTRIES // len(offsets))
    for start in range(0, len(grid), chunk):
        s = residual[start:start + chunk]
        d2 = s @ vectors.T
        d2 *= 2.0
        d2 += h2[np.newaxis, :]
        d2 += np.einsum('ij,ij->i', s, s)[:, np.newaxis]
        atom, entry = np.nonzero(d2 < r2)
        flat[base_flat[start:start + chunk][atom] + offset_flat[entry]] = True
    excluded |= _fold(padded, pad, excluded.shape)


def _fold(padded: np.ndarray, pad: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """OR a padded grid back onto the periodic grid: padded index ``j`` -> ``(j - pad) mod n``.

    Parameters
    ----------
    padded : numpy.ndarray, shape (n_1 + 2 p_1, n_2 + 2 p_2, n_3 + 2 p_3), bool
    pad : numpy.ndarray, shape (3,), int
        Padding ``p_k`` on each side.
    shape : sequence of int, length 3
        The periodic grid ``(n_1, n_2, n_3)``.

    Returns
    -------
    numpy.ndarray, shape ``shape``, bool
    """
    out = padded
    for axis, (n, p) in enumerate(zip(shape, pad)):
        length = out.shape[axis]
        folded = np.zeros(out.shape[:axis] + (n,) + out.shape[axis + 1:], dtype=bool)
        for start in range(0, length, n):
            stop = min(start + n, length)
            target = (np.arange(start, stop) - p) % n
            index = [slice(None)] * 3
            index[axis] = target
            source = [slice(None)] * 3
            source[axis] = slice(start, stop)
            folded[tuple(index)] |= out[tuple(source)]
        out = folded
    return out


def _excluded_mask(positions: np.ndarray, cell: np.ndarray, cutoffs: np.ndarray, shape) -> np.ndarray:
    """Voxels (shape ``shape``, bool) whose centre lies closer than its cutoff to some atom (any image).

    Parameters
    ----------
    positions : numpy.ndarray, shape (n_atoms, 3)
        Cartesian coordinates in Å (may be unwrapped).
    cell : numpy.ndarray, shape (3, 3)
        Lattice vectors in Å as rows.
    cutoffs : numpy.ndarray, shape (n_atoms,)
        Cutoff radius of every atom, Å.
    shape : tuple of int, length 3
        Voxels per lattice vector.
    """
    excluded = np.zeros(shape, dtype=bool)
    grid = _wrapped_fractional(positions, cell) * np.asarray(shape, dtype=float)
    for radius in np.unique(cutoffs):
        _stamp(excluded, grid[cutoffs == radius], cell, float(radius))
    return excluded


def _periodic_labels(mask: np.ndarray, connectivity: int = 26) -> tuple[np.ndarray, int]:
    """Connected regions of ``mask`` on the periodic grid.

    Parameters
    ----------
    mask : numpy.ndarray, shape (n_1, n_2, n_3), bool
        Cavity voxels.
    connectivity : {26, 6}
        Voxels touching at a face, edge or corner (26 neighbours) or at a face only (6).

    Returns
    -------
    labels : numpy.ndarray, shape (n_1, n_2, n_3), int32
        0 outside ``mask``, 1..n_regions inside.
    n_regions : int

    Notes
    -----
    :func:`scipy.ndimage.label` labels the grid without its periodicity; the labels that
    touch across the periodic boundary are then merged. The grid is padded by one voxel
    with its periodic images; across the high face of axis ``k`` the last layer touches
    the padded layer (a copy of layer 0) at the in-plane offsets of the connectivity,
    the padding of the other two axes supplying the pairs that also wrap across an edge
    or a corner. The low faces give the same pairs again, by periodicity.
    """
    structure = ndimage.generate_binary_structure(3, 3 if connectivity == 26 else 1)
    labels, n_raw = ndimage.label(mask, structure=structure, output=np.int32)
    if n_raw == 0:
        return labels, 0
    padded = np.pad(labels, 1, mode='wrap')
    in_plane = [(0, 0)] if connectivity == 6 else [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)]
    first, second = [], []
    for axis in range(3):
        n = labels.shape[axis]
        last = np.take(padded, n, axis=axis)[1:-1, 1:-1]  # the last layer, inner part, shape (m_1, m_2)
        wrapped = np.take(padded, n + 1, axis=axis)  # layer 0 again, padded, shape (m_1 + 2, m_2 + 2)
        m1, m2 = last.shape
        for a, b in in_plane:
            other = wrapped[1 + a:1 + a + m1, 1 + b:1 + b + m2]
            both = (last > 0) & (other > 0)
            first.append(last[both])
            second.append(other[both])
    first, second = np.concatenate(first), np.concatenate(second)
    graph = coo_matrix((np.ones(first.size, dtype=np.int8), (first, second)), shape=(n_raw + 1, n_raw + 1))
    _, component = connected_components(graph, directed=False)
    # node 0 (background) has no edge, so it is a component of its own; number the others 1..n
    merged, inverse = np.unique(component[1:], return_inverse=True)
    table = np.zeros(n_raw + 1, dtype=np.int32)
    table[1:] = inverse + 1
    return table[labels], int(merged.size)


def _sorted_by_volume(labels: np.ndarray, n_regions: int) -> tuple[np.ndarray, np.ndarray]:
    """Relabel regions largest first; return the new labels and voxel counts (shape (n_regions,))."""
    counts = np.bincount(labels.reshape(-1), minlength=n_regions + 1)[1:]
    order = np.argsort(-counts, kind='stable')
    table = np.zeros(n_regions + 1, dtype=np.int32)
    table[order + 1] = np.arange(1, n_regions + 1, dtype=np.int32)
    return table[labels], counts[order]


def _nearest_periodic_distance(queries: np.ndarray, targets: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Minimum-image distance (Å) from each query point to the nearest target point.

    Parameters
    ----------
    queries : numpy.ndarray, shape (n_queries, 3)
        Cartesian points in Å, wrapped into the cell.
    targets : numpy.ndarray, shape (n_targets, 3), n_targets >= 1
        Cartesian points in Å, inside the cell.
    cell : numpy.ndarray, shape (3, 3)
        Lattice vectors in Å as rows.

    Returns
    -------
    numpy.ndarray, shape (n_queries,), float

    Notes
    -----
    Both sets lie in the cell, so their fractional differences lie in (-1, 1); an image
    ``T`` at distance below ``d`` needs ``|T_k| < 1 + d / w_k`` (``w_k`` the perpendicular
    widths). Shifts up to 1 give an upper bound ``d``; the range is widened until it
    covers that bound.
    """
    if queries.shape[0] == 0:
        return np.zeros(0)
    tree = cKDTree(targets)
    widths = perpendicular_widths(cell)
    reach = np.ones(3, dtype=int)
    while True:
        axes = [np.arange(-m, m + 1) for m in reach]
        shifts = np.stack(np.meshgrid(*axes, indexing='ij'), axis=-1).reshape(-1, 3) @ cell
        images = (queries[:, np.newaxis, :] + shifts[np.newaxis, :, :]).reshape(-1, 3)
        distance = tree.query(images)[0].reshape(queries.shape[0], -1).min(axis=1)
        needed = np.floor(1.0 + distance.max() / widths).astype(int)
        if np.all(needed <= reach):
            return distance
        reach = np.maximum(reach, needed)


def domain_cavities(
    positions,
    cell,
    species: Sequence[str] | None = None,
    *,
    cutoff_a: float | Mapping[str, float] = DEFAULT_CUTOFF_A,
    resolution_a: float = DEFAULT_RESOLUTION_A,
    mobile_ions=None,
    connectivity: int = 26,
    keep_labels: bool = True,
) -> DomainCavities:
    """Domain cavities of one periodic frame (pyMolDyn's domain method; see the module notes).

    A voxel centre is cavity space when it lies at least ``cutoff_a`` from every atom
    (every periodic image); cavities are the face-connected regions of cavity voxels,
    connected across the periodic faces. Only the *domain* method is implemented, not
    pyMolDyn's surface-based or center-based cavities.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å (may be unwrapped); at least one atom.
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows; any non-singular (triclinic) cell.
    species : sequence of str, shape (n_atoms,), optional
        Element symbols; needed when ``cutoff_a`` is per element or ``mobile_ions`` names
        elements.
    cutoff_a : float or mapping of str to float
        Cutoff radius around every atom in Å (default 2.0, as in paper 000), or one radius
        per element, e.g. ``{'B': 2.0, 'O': 2.0, 'K': 2.0}``.
    resolution_a : float
        Largest voxel edge along a lattice vector in Å (default 0.25); at most half the
        smallest cutoff.
    mobile_ions : str, sequence of str, array_like of int or bool mask, optional
        Ions whose distance to the nearest cavity point is reported: element symbol(s)
        (``'K'``, ``['Li', 'Na']``), atom indices, or a mask of shape (n_atoms,).
    connectivity : {26, 6}
        Cavity voxels touching at a face, edge or corner belong to one cavity (26, the
        default, as pyMolDyn's domain search), or only those sharing a face (6).
    keep_labels : bool
        Return the label grid (int32, ``4 n_1 n_2 n_3`` bytes); default True.

    Returns
    -------
    DomainCavities
        ``volume_fraction``, ``n_cavities``, ``volumes_a3`` (largest first),
        ``cell_volume_a3``, ``grid_shape``, ``voxel_volume_a3``, ``cutoffs_a``, ``labels``,
        ``ion_indices``, ``ion_cavity_distance_a`` (Å, ``>=`` the ion's cutoff; ``inf``
        without cavities).

    Raises
    ------
    ValueError
        On bad shapes, no atoms, a non-positive ``cutoff_a``, a ``resolution_a`` above
        half the cutoff or giving more than :data:`MAX_GRID_POINTS` voxels, or bad
        ``mobile_ions`` / ``species`` (the message names the argument).
    """
    pos = as_positions(positions)
    cell_arr = as_cell(cell)
    n_atoms = pos.shape[0]
    if n_atoms == 0:
        raise ValueError('positions must hold at least one atom')
    names = None if species is None else as_species(species, n_atoms)
    cutoffs = _atom_cutoffs(cutoff_a, names, n_atoms)
    res = _check_resolution(resolution_a, cutoffs)
    ions = _ion_indices(mobile_ions, names, n_atoms)
    if isinstance(connectivity, bool) or connectivity not in (6, 26):
        raise ValueError(f'connectivity must be 26 (face, edge or corner) or 6 (face), got {connectivity!r}')
    shape = grid_shape(cell_arr, res)

    cavity = ~_excluded_mask(pos, cell_arr, cutoffs, shape)
    labels, n_regions = _periodic_labels(cavity, connectivity)
    labels, counts = _sorted_by_volume(labels, n_regions)

    cell_volume = float(abs(np.linalg.det(cell_arr)))
    voxel_volume = cell_volume / float(np.prod(shape))
    if n_regions and ions.size:
        centres = _voxel_centres(np.column_stack(np.nonzero(cavity)), shape, cell_arr)
        wrapped_ions = _wrapped_fractional(pos[ions], cell_arr) @ cell_arr
        distances = _nearest_periodic_distance(wrapped_ions, centres, cell_arr)
    else:
        distances = np.full(ions.size, np.inf)
    return DomainCavities(
        volume_fraction=float(counts.sum()) / float(np.prod(shape)),
        n_cavities=int(n_regions),
        volumes_a3=counts * voxel_volume,
        cell_volume_a3=cell_volume,
        grid_shape=shape,
        voxel_volume_a3=voxel_volume,
        cutoffs_a=cutoffs,
        labels=labels if keep_labels else None,
        ion_indices=ions,
        ion_cavity_distance_a=distances,
    )


def trajectory_cavities(
    positions,
    cell,
    species: Sequence[str] | None = None,
    *,
    cutoff_a: float | Mapping[str, float] = DEFAULT_CUTOFF_A,
    resolution_a: float = DEFAULT_RESOLUTION_A,
    mobile_ions=None,
    connectivity: int = 26,
) -> CavityStatistics:
    """Domain cavities of every frame, pooled (mean fraction, mean count, all volumes).

    Parameters
    ----------
    positions : array_like, shape (n_frames, n_atoms, 3) or (n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows, one cell for all frames or one per frame.
    species : sequence of str, shape (n_atoms,), optional
        Element symbols, the same for every frame.
    cutoff_a, resolution_a, mobile_ions, connectivity
        As for :func:`domain_cavities`.

    Returns
    -------
    CavityStatistics
        Per-frame fractions and counts, their means, the pooled volumes (Å^3) with their
        frame, the cell volumes (Å^3) and the ion distances (Å, shape (n_frames, n_ions)).
    """
    frames, cells = as_frames(positions, cell)
    results = [
        domain_cavities(pos, one, species, cutoff_a=cutoff_a, resolution_a=resolution_a,
                        mobile_ions=mobile_ions, connectivity=connectivity, keep_labels=False)
        for pos, one in zip(frames, cells)
    ]
    fractions = np.array([r.volume_fraction for r in results])
    counts = np.array([r.n_cavities for r in results], dtype=int)
    return CavityStatistics(
        volume_fraction=fractions,
        n_cavities=counts,
        mean_volume_fraction=float(fractions.mean()),
        mean_n_cavities=float(counts.mean()),
        volumes_a3=np.concatenate([r.volumes_a3 for r in results]),
        frame_of_volume=np.repeat(np.arange(len(results)), counts),
        cell_volume_a3=np.array([r.cell_volume_a3 for r in results]),
        ion_indices=results[0].ion_indices,
        ion_cavity_distance_a=np.stack([r.ion_cavity_distance_a for r in results]),
    )


def volume_histogram(
    volumes_a3,
    n_bins: int = 20,
    range_a3: tuple[float, float] | None = None,
    *,
    log_bins: bool = False,
    volume_weighted: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Distribution of cavity volumes (paper 000, Fig. 9).

    Parameters
    ----------
    volumes_a3 : array_like, shape (n_cavities,)
        Cavity volumes in Å^3 (e.g. ``DomainCavities.volumes_a3`` or the pooled
        ``CavityStatistics.volumes_a3``); all positive.
    n_bins : int
        Number of bins.
    range_a3 : (float, float), optional
        Lowest and highest edge in Å^3; default the smallest and largest volume.
    log_bins : bool
        Logarithmically spaced edges (cavity volumes span decades).
    volume_weighted : bool
        Weight each cavity by its volume: the histogram then holds the cavity volume (Å^3)
        per bin instead of the number of cavities.

    Returns
    -------
    counts : numpy.ndarray, shape (n_bins,), float
        Number of cavities (or cavity volume in Å^3) per bin.
    edges_a3 : numpy.ndarray, shape (n_bins + 1,), float
        Bin edges in Å^3.
    """
    volumes = np.asarray(volumes_a3, dtype=float)
    if volumes.ndim != 1 or not np.all(np.isfinite(volumes)) or np.any(volumes <= 0.0):
        raise ValueError('volumes_a3 must be a one-dimensional array of positive finite volumes (Å^3)')
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f'n_bins must be a positive integer, got {n_bins!r}')
    if range_a3 is None:
        low, high = (float(volumes.min()), float(volumes.max())) if volumes.size else (1.0, 2.0)
        if high <= low:
            low, high = 0.5 * low, 1.5 * high
    else:
        low, high = (float(v) for v in range_a3)
        if not (np.isfinite(low) and np.isfinite(high) and 0.0 <= low < high) or (log_bins and low <= 0.0):
            raise ValueError(f'range_a3 must be (low, high) in Å^3 with 0 <= low < high (low > 0 for log_bins), '
                             f'got {range_a3!r}')
    edges = np.geomspace(low, high, n_bins + 1) if log_bins else np.linspace(low, high, n_bins + 1)
    counts, edges = np.histogram(volumes, bins=edges, weights=volumes if volume_weighted else None)
    return counts.astype(float), edges
