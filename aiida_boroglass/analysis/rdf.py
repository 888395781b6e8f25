"""Partial pair distribution functions g_ab(r) and the position of their first minimum.

Pure numpy/scipy; no AiiDA import. Built on :func:`.neighbors.neighbor_pairs`.

Definition (e.g. Allen & Tildesley, *Computer Simulation of Liquids*, 2nd ed., 2017,
section 2.6; the partial form as in Keen, J. Appl. Cryst. 34, 172 (2001))::

    g_ab(r) = <n_ab(r, r + dr)> / (N_a * rho_b * 4/3 pi ((r + dr)^3 - r^3))

with ``n_ab`` the number of ordered pairs (i of species a, j of species b, i != j) at
distance in the shell, ``rho_b = N_b / V`` for ``a != b`` and ``(N_b - 1) / V`` for
``a == b`` (the ideal-gas density of the *other* b atoms), so that an ideal gas gives
g(r) = 1 exactly on average. With these densities ``g_ab = g_ba``.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from .neighbors import as_distance, as_frames, as_species, max_cutoff, neighbor_pairs

__all__ = (
    'PartialRDFs',
    'all_partial_rdfs',
    'first_minimum',
    'partial_rdf',
    'running_coordination',
    'shell_volumes',
    'species_pairs',
)


def shell_volumes(edges) -> np.ndarray:
    """Volumes of the spherical shells between consecutive bin edges.

    Parameters
    ----------
    edges : array_like, shape (n_bins + 1,)
        Bin edges in Å, increasing.

    Returns
    -------
    numpy.ndarray, shape (n_bins,)
        Shell volumes in Å^3.
    """
    e = np.asarray(edges, dtype=float)
    return 4.0 / 3.0 * np.pi * (e[1:] ** 3 - e[:-1] ** 3)


def species_pairs(elements: Sequence[str]) -> list[tuple[str, str]]:
    """Unordered species pairs ``(a, b)`` with ``a`` not after ``b`` in ``elements``.

    This is the pair order of every ``(n_pairs, ...)`` array of the structure analyses.

    Parameters
    ----------
    elements : sequence of str, shape (n_elements,)
        Distinct element symbols, in the order wanted.

    Returns
    -------
    list of tuple(str, str), length n_elements * (n_elements + 1) / 2
        ``['Li', 'B', 'O']`` gives ``[('Li', 'Li'), ('Li', 'B'), ('Li', 'O'), ('B', 'B'),
        ('B', 'O'), ('O', 'O')]``.
    """
    names = [str(e) for e in elements]
    if len(set(names)) != len(names):
        raise ValueError(f'elements must be distinct, got {names}')
    return [(a, b) for k, a in enumerate(names) for b in names[k:]]


class PartialRDFs(NamedTuple):
    """Every partial g_ab(r) of a structure or trajectory (see :func:`all_partial_rdfs`)."""

    #: Bin centres in Å, shape (n_bins,).
    r: np.ndarray
    #: Bin edges in Å, shape (n_bins + 1,).
    edges: np.ndarray
    #: Element symbols in alphabetical order, shape (n_elements,).
    elements: tuple[str, ...]
    #: Atoms of each element, shape (n_elements,).
    counts: np.ndarray
    #: Species pairs in :func:`species_pairs` order, length n_pairs.
    pairs: tuple[tuple[str, str], ...]
    #: g_ab(r), dimensionless, shape (n_pairs, n_bins).
    g: np.ndarray
    #: Mean number per frame of unordered a-b pairs in each bin, shape (n_pairs, n_bins).
    pair_counts: np.ndarray
    #: Mean total number density over frames, Å^-3.
    number_density_a3: float


def all_partial_rdfs(positions, cell, species: Sequence[str], r_max: float, n_bins: int = 400) -> PartialRDFs:
    """All partial g_ab(r) at once, averaged over frames, from one neighbour search per frame.

    The definition is that of :func:`partial_rdf` (and so ``g_ab = g_ba``, an ideal gas
    gives 1); one half neighbour list of all atoms within ``r_max`` per frame is binned by
    species pair and distance with a single :func:`numpy.bincount`.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    r_max : float
        Å; at most half the smallest perpendicular width of every frame's cell.
    n_bins : int
        Equal-width bins on ``[0, r_max)``.

    Returns
    -------
    PartialRDFs
        ``g`` is NaN for a same-species pair with a single atom (no pair exists).

    Raises
    ------
    ValueError
        On the conditions of :func:`partial_rdf` (the message names the field).
    """
    pos, cells = as_frames(positions, cell)
    spec = as_species(species, pos.shape[1])
    r_max = _checked_r_max(r_max, cells)
    n_bins = _checked_n_bins(n_bins)
    elements, codes, counts = np.unique(spec, return_inverse=True, return_counts=True)
    n_el = elements.size
    pairs = species_pairs(elements.tolist())
    pair_index = np.zeros((n_el, n_el), dtype=np.intp)
    for k, (a, b) in enumerate(pairs):
        ia, ib = int(np.searchsorted(elements, a)), int(np.searchsorted(elements, b))
        pair_index[ia, ib] = pair_index[ib, ia] = k
    edges = np.linspace(0.0, r_max, n_bins + 1)
    histogram = np.zeros(len(pairs) * n_bins)
    inverse_volume = 0.0
    for frame_pos, frame_cell in zip(pos, cells):
        i, j, d = neighbor_pairs(frame_pos, frame_cell, r_max, sort=False)
        bins = np.minimum((d * (n_bins / r_max)).astype(np.intp), n_bins - 1)
        histogram += np.bincount(pair_index[codes[i], codes[j]] * n_bins + bins, minlength=histogram.size)
        inverse_volume += 1.0 / abs(np.linalg.det(frame_cell))
    n_frames = pos.shape[0]
    pair_counts = histogram.reshape(len(pairs), n_bins) / n_frames
    n_a = np.array([counts[np.searchsorted(elements, a)] for a, _ in pairs], dtype=float)
    n_b = np.array([counts[np.searchsorted(elements, b)] for _, b in pairs], dtype=float)
    same = np.array([a == b for a, b in pairs])
    # unordered pairs: a == b holds N(N-1)/2 of them, a != b holds N_a N_b
    ideal_pairs = np.where(same, 0.5 * n_a * (n_a - 1.0), n_a * n_b) * (inverse_volume / n_frames)
    with np.errstate(invalid='ignore', divide='ignore'):
        g = pair_counts / (ideal_pairs[:, None] * shell_volumes(edges)[None, :])
    return PartialRDFs(
        r=0.5 * (edges[1:] + edges[:-1]),
        edges=edges,
        elements=tuple(elements.tolist()),
        counts=counts,
        pairs=tuple(pairs),
        g=g,
        pair_counts=pair_counts,
        number_density_a3=float(spec.size * inverse_volume / n_frames),
    )


def running_coordination(rdfs: PartialRDFs, center: str, neighbor: str) -> np.ndarray:
    """Mean number of ``neighbor`` atoms within ``r`` of a ``center`` atom, at each upper bin edge.

    Parameters
    ----------
    rdfs : PartialRDFs
        From :func:`all_partial_rdfs`.
    center, neighbor : str
        Element symbols.

    Returns
    -------
    numpy.ndarray, shape (n_bins,)
        n_ab(r) at ``rdfs.edges[1:]`` (Å); n_ab(r_1st min) is the coordination number.
    """
    for name, value in (('center', center), ('neighbor', neighbor)):
        if value not in rdfs.elements:
            raise ValueError(f'{name} = {value!r} is not among the elements {list(rdfs.elements)}')
    key = (center, neighbor) if (center, neighbor) in rdfs.pairs else (neighbor, center)
    per_pair = rdfs.pair_counts[rdfs.pairs.index(key)]
    ordered = 2.0 * per_pair if center == neighbor else per_pair
    return np.cumsum(ordered) / rdfs.counts[rdfs.elements.index(center)]


def _checked_n_bins(n_bins) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f'n_bins must be a positive integer, got {n_bins!r}')
    return int(n_bins)


def _checked_r_max(r_max, cells: np.ndarray) -> float:
    value = as_distance(r_max, 'r_max')
    limit = min(max_cutoff(c) for c in cells)
    if value > limit:
        raise ValueError(
            f'r_max = {value:g} Å exceeds {limit:g} Å, half the smallest perpendicular width of the cell '
            '(smallest over all frames)'
        )
    return value


def partial_rdf(
    positions,
    cell,
    species: Sequence[str],
    a: str,
    b: str,
    r_max: float,
    n_bins: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Partial radial distribution function g_ab(r), averaged over frames.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows (one cell for all frames, or one per frame).
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    a, b : str
        Centre and neighbour species.
    r_max : float
        Å, upper end of the histogram; at most half the smallest perpendicular width of
        every frame's cell.
    n_bins : int
        Number of equal-width bins on ``[0, r_max)``.

    Returns
    -------
    r : numpy.ndarray, shape (n_bins,)
        Bin centres in Å.
    g : numpy.ndarray, shape (n_bins,)
        g_ab(r), dimensionless.

    Raises
    ------
    ValueError
        ``r_max`` above the limit (the message gives it) or not positive, ``n_bins`` < 1,
        species ``a`` or ``b`` absent, ``a == b`` with fewer than two such atoms, or
        mismatched shapes.

    Notes
    -----
    Frames are averaged as a ratio of sums: ``g = sum_f n_ab,f / sum_f ideal_f``, where
    ``ideal_f = N_a rho_b,f V_shell``. For a constant cell this is the plain average of
    the per-frame g(r); for a changing cell it weights each frame by its ideal count.
    """
    pos, cells = as_frames(positions, cell)
    n_atoms = pos.shape[1]
    spec = as_species(species, n_atoms)
    idx_a = np.flatnonzero(spec == a)
    idx_b = np.flatnonzero(spec == b)
    if idx_a.size == 0:
        raise ValueError(f'a = {a!r} is not among the species {sorted(set(spec.tolist()))}')
    if idx_b.size == 0:
        raise ValueError(f'b = {b!r} is not among the species {sorted(set(spec.tolist()))}')
    same = a == b
    if same and idx_a.size < 2:
        raise ValueError(f'a = b = {a!r} needs at least two such atoms, found {idx_a.size}')
    n_bins = _checked_n_bins(n_bins)
    r_max = _checked_r_max(r_max, cells)

    edges = np.linspace(0.0, r_max, n_bins + 1)
    shells = shell_volumes(edges)
    n_b_other = idx_b.size - 1 if same else idx_b.size
    counts = np.zeros(n_bins)
    ideal = np.zeros(n_bins)
    for frame_pos, frame_cell in zip(pos, cells):
        _, _, d = neighbor_pairs(frame_pos, frame_cell, r_max, centers=idx_a, others=idx_b)
        counts += np.histogram(d, bins=edges)[0]
        volume = abs(np.linalg.det(frame_cell))
        ideal += idx_a.size * n_b_other / volume * shells
    r = 0.5 * (edges[1:] + edges[:-1])
    return r, counts / ideal


def first_minimum(
    r,
    g,
    r_start: float | None = None,
    *,
    smooth_sigma: float = 2.0,
    peak_fraction: float = 0.5,
    prominence: float = 0.05,
) -> float:
    """Position (Å) of the first minimum after the first peak of g(r).

    Method:

    1. Smooth ``g`` with a Gaussian of ``smooth_sigma`` bins
       (:func:`scipy.ndimage.gaussian_filter1d`, ``mode='nearest'``).
    2. First peak: the first local maximum at ``r >= r_start`` whose smoothed height is
       at least ``peak_fraction`` times the largest smoothed value at ``r >= r_start``
       (skips noise in the nearly empty region at small r).
    3. First minimum: the first local minimum after that peak with topographic prominence
       of at least ``prominence`` times the peak height (:func:`scipy.signal.find_peaks`
       on ``-g``); shallow noise dips on the falling flank are skipped. A flat minimum
       (g = 0 between the shells of a crystal) gives the middle of the flat stretch.
    4. A non-flat minimum is refined below the bin width by the vertex of the parabola
       through the smoothed value and its two neighbours.

    Parameters
    ----------
    r : array_like, shape (n,)
        Equally spaced, increasing distances in Å (bin centres).
    g : array_like, shape (n,)
        g(r) at ``r``.
    r_start : float, optional
        Å; ignore everything below (e.g. a spurious short-range feature).
    smooth_sigma : float
        Gaussian width in bins; 0 disables smoothing.
    peak_fraction : float
        In (0, 1]; relative height a maximum needs to count as the first peak.
    prominence : float
        Relative depth (fraction of the first peak height) a minimum needs.

    Returns
    -------
    float
        Position of the first minimum in Å.

    Raises
    ------
    ValueError
        Bad shapes, or no peak / no qualifying minimum is found (the message says which).
    """
    r_arr = np.asarray(r, dtype=float)
    g_arr = np.asarray(g, dtype=float)
    if r_arr.ndim != 1 or g_arr.shape != r_arr.shape:
        raise ValueError(f'r and g must be one-dimensional with the same shape, got {r_arr.shape} and {g_arr.shape}')
    if r_arr.size < 5:
        raise ValueError(f'r must have at least 5 points, got {r_arr.size}')
    if not (np.all(np.isfinite(r_arr)) and np.all(np.isfinite(g_arr))):
        raise ValueError('r and g must contain only finite numbers')
    if np.any(np.diff(r_arr) <= 0.0):
        raise ValueError('r must be strictly increasing')
    if not 0.0 < peak_fraction <= 1.0:
        raise ValueError(f'peak_fraction must be in (0, 1], got {peak_fraction!r}')
    if smooth_sigma < 0.0:
        raise ValueError(f'smooth_sigma must be >= 0 bins, got {smooth_sigma!r}')

    smooth = gaussian_filter1d(g_arr, smooth_sigma, mode='nearest') if smooth_sigma > 0 else g_arr.copy()
    start = 0 if r_start is None else int(np.searchsorted(r_arr, float(r_start)))
    if start >= r_arr.size - 2:
        raise ValueError(f'r_start = {r_start!r} Å leaves fewer than 3 points of r')
    top = smooth[start:].max()
    if top <= 0.0:
        raise ValueError('g has no positive peak at r >= r_start')
    peaks, _ = find_peaks(smooth, height=peak_fraction * top)
    peaks = peaks[peaks >= start]
    if peaks.size == 0:
        raise ValueError('no first peak found in g(r) (maximum at the edge of the range?)')
    peak = int(peaks[0])
    minima, _ = find_peaks(-smooth, prominence=prominence * smooth[peak])
    minima = minima[minima > peak]
    if minima.size == 0:
        raise ValueError(f'no minimum found after the first peak at r = {r_arr[peak]:g} Å')
    k = int(minima[0])
    if 0 < k < r_arr.size - 1:
        left, mid, right = smooth[k - 1], smooth[k], smooth[k + 1]
        curvature = left - 2.0 * mid + right
        if curvature > 0.0:
            offset = 0.5 * (left - right) / curvature
            return float(r_arr[k] + np.clip(offset, -0.5, 0.5) * (r_arr[k + 1] - r_arr[k]))
    return float(r_arr[k])
