"""Persistent homology of a periodic frame: weighted alpha filtration, persistence diagram, APF.

Pure numpy plus :mod:`gudhi` (CGAL's regular triangulation); no AiiDA import (see
DESIGN.md, layer "analysis kernels").

Method (paper 002, sections 2.10 and 3.4, after Hiraoka et al., PNAS 113, 7035 (2016) and
Sørensen et al., Sci. Adv. 6, eabc2320 (2020)). Every atom ``i`` is a ball of radius
``r_i`` (:data:`DEFAULT_RADII_A` by element). The balls grow together with a parameter
``alpha`` (the "time" of the paper), the ball of atom ``i`` having radius
``sqrt(r_i**2 + alpha)``: at ``alpha = 0`` every ball has its given radius, and a ball
appears at ``alpha = -r_i**2``. The nerve of the growing union, restricted to the power
cells, is the *weighted alpha complex* (weights ``r_i**2``); a simplex enters it at the
squared radius ``alpha`` of its smallest empty orthogonal sphere (the power distance of
its centre to the atoms). The births and deaths of its loops (1-dimensional homology
classes) form the persistence diagram. This is the convention of CGAL's weighted alpha
shapes, which Diode (the paper's tool, with Dionysus 2) exposes, and of Hiraoka et al.:

- **birth and death are values of alpha, in Å^2** (not radii); a loop born at ``b``
  appears when the balls have radii ``sqrt(r_i**2 + b)``. With all radii zero, alpha is
  the squared radius of the balls: two points at distance ``l`` are joined at
  ``(l / 2)**2``, a regular polygon of circumradius ``R`` is filled at ``R**2``.
- Homology over the field Z/2. Pairs of zero persistence (``death == birth``, e.g. a
  square's diagonal and its two triangles entering together) are not reported, nor, by
  default, pairs shorter than :data:`MIN_PERSISTENCE` (rounding noise of such ties).
- An atom whose ball never leaves the union of the others (empty power cell, e.g. a small
  B ball between O balls) is not a vertex of the complex; it changes no homology class.

Periodicity (exact, on the 3-torus). gudhi's alpha complex is not periodic. The periodic
filtration up to a value ``alpha_max`` is built as a quotient:

1. the atoms are wrapped into the cell, and every periodic image lying within the margin
   ``M = 2 sqrt(alpha_max + max r_i**2)`` of the cell is added (:func:`image_shell`);
2. the weighted alpha complex of this patch is built, up to ``alpha_max``;
3. of every simplex only the copy *anchored* in the central cell is kept: the copy whose
   vertex of smallest atom index is the central (unshifted) atom. Each periodic class of
   simplices has exactly one such copy. Its vertices, replaced by atom indices, form a
   simplicial complex on the n atoms (the quotient; :func:`periodic_filtration`);
4. its persistence is computed with gudhi.

Why it is exact: a simplex with filtration value ``a <= alpha_max`` has an empty
orthogonal sphere of squared power radius ``a`` through its vertices; every point that
could lie inside that sphere is within ``sqrt(a + r_anchor**2) + sqrt(a + r_max**2) <= M``
of the anchor vertex, i.e. inside the patch. So the anchored simplices and their values up
to ``alpha_max`` are those of the infinite periodic structure, and identifying the copies
gives the filtration of the periodic complex on the torus. The quotient is a simplicial
complex (no simplex holds two images of one atom, no two classes share a vertex set) when
``2 M`` is less than the smallest perpendicular width of the cell, which is checked: glass
cells (20-50 Å) are far above it; a small crystal cell must be replicated first.

By default the filtration is made *complete*: ``alpha_max`` is raised (doubled, starting
from twice the mean atomic spacing squared, ``2 (V / n)^(2/3)``) until the anchored
complex is a closed 3-pseudomanifold (every triangle in exactly two tetrahedra, i.e.
``n_triangles == 2 n_tetrahedra``), which happens only when it is the whole periodic
triangulation. Then
every loop dies except the three of the torus itself (``H_1(T^3) = Z^3``; born where
the structure first percolates, never dying); these *essential* classes (death = inf)
are dropped unless ``essential=True``. With a given ``alpha_max`` the filtration is cut
there and every class still alive at ``alpha_max`` is essential too.

What differs from an infinite glass is only the finite, periodic sample: the torus adds
its three essential loops, and the Euler characteristic ties the counts to the cell (a
simple cubic lattice of ``N`` cells has ``2 N - 2`` finite loops, not ``2 N``: the
two others close up into the torus's loops). A few classes out of thousands; nothing
local changes.

Cost: a 10,000-atom random Li2O-B2O3 packing (47 Å cell) takes about 6 s (wall, 2 cores;
gudhi runs on one), one pass, 22,000 points with the shell; plain gudhi on the 27-copy
supercell takes about 60 s for the same per-cell diagram (``benchmarks/medium_range_homology.py``).

The accumulated persistence function (paper 002, eq. 15; Biscio and Møller, J. Comput.
Graph. Stat. 28, 671 (2019))::

    APF(t) = sum over pairs i with m_i <= t of (d_i - b_i),   m_i = (b_i + d_i) / 2

in Å^2, with ``t`` on the same alpha axis (Å^2), unnormalised: it grows with the number of
atoms, so compare frames of equal size (the paper's are), or divide by the atom count
(``n_atoms`` argument). Essential pairs (``d = inf``) have ``m = inf`` and never count.
"""

from __future__ import annotations

from itertools import chain
from typing import Mapping, Sequence

import gudhi
import numpy as np

from .neighbors import as_cell, as_finite, as_frames, as_positions, as_species, perpendicular_widths

__all__ = (
    'DEFAULT_RADII_A',
    'HOMOLOGY_FIELD',
    'MIN_PERSISTENCE',
    'accumulated_persistence',
    'atomic_radii',
    'diagram_histogram',
    'image_shell',
    'max_alpha',
    'mean_accumulated_persistence',
    'periodic_filtration',
    'persistence_diagram',
    'persistence_diagrams',
    'pooled_diagram',
)

#: Ball radii in Å by element. Li, B, O, P: paper 002, section 2.10 (after Hiraoka et al.,
#: 2016). Na, K, Si, not in the paper: Shannon's effective ionic radii (Acta Cryst. A32,
#: 751 (1976)), Na+ and K+ six-fold (as the paper's Li, 0.69 Å, lies between Li+ four-
#: and six-fold), Si4+ four-fold.
DEFAULT_RADII_A: dict[str, float] = {
    'Li': 0.69,
    'B': 0.20,
    'O': 1.21,
    'P': 0.26,
    'Na': 1.02,
    'K': 1.38,
    'Si': 0.26,
}

#: Coefficient field of the homology, Z/HOMOLOGY_FIELD (Dionysus 2's default, Z/2).
HOMOLOGY_FIELD = 2

#: Default of ``min_persistence``, Å^2: pairs no longer than this are dropped. Degenerate
#: (cospherical) positions, e.g. a crystal or a regular ring, give pairs of zero length whose
#: computed length is rounding noise, about 1e-14 Å^2.
MIN_PERSISTENCE = 1e-9

#: Largest homology dimension a three-dimensional frame has (voids).
_MAX_DIMENSION = 2

#: Relative padding of the image margin, for floating-point safety.
_MARGIN_PAD = 1e-9

#: First try of a complete filtration: alpha_max = this times the mean atomic spacing squared
#: ((V / n)^(2/3)); about 1.4 suffices for a random 10,000-atom Li2O-B2O3 packing.
_FIRST_ALPHA_SPACINGS = 2.0

#: Factor by which alpha_max grows between two tries of a complete filtration.
_ALPHA_GROWTH = 2.0


def atomic_radii(species: Sequence[str], radii: Mapping[str, float] | None = None) -> np.ndarray:
    """Ball radius of every atom, from :data:`DEFAULT_RADII_A` updated by ``radii``.

    Parameters
    ----------
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    radii : mapping of str to float, optional
        Radii in Å (``>= 0``) that replace or add to the defaults, e.g. ``{'O': 1.35}``.

    Returns
    -------
    numpy.ndarray, shape (n_atoms,), float
        Radii in Å.

    Raises
    ------
    ValueError
        If a radius is negative or not finite (naming ``radii[element]``), or an element of
        ``species`` has no radius (naming ``species``).
    """
    table = dict(DEFAULT_RADII_A)
    if radii is not None:
        if not isinstance(radii, Mapping):
            raise ValueError(f'radii must map element symbols to radii in Å, got {type(radii).__name__}')
        for element, value in radii.items():
            try:
                number = float(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f'radii[{element!r}] must be a radius in Å, got {value!r}') from exc
            if not np.isfinite(number) or number < 0.0:
                raise ValueError(f'radii[{element!r}] must be a finite radius >= 0 Å, got {value!r}')
            table[str(element)] = number
    symbols = np.asarray(species).astype(str)
    if symbols.ndim != 1:
        raise ValueError(f'species must be a one-dimensional sequence of element symbols, got shape {symbols.shape}')
    elements, inverse = np.unique(symbols, return_inverse=True)
    missing = [e for e in elements.tolist() if e not in table]
    if missing:
        raise ValueError(
            f'species holds elements without a ball radius: {", ".join(missing)}; '
            f'give them in radii (Å); known: {", ".join(sorted(table))}'
        )
    return np.array([table[e] for e in elements.tolist()], dtype=float)[inverse.reshape(-1)]


def max_alpha(cell, max_radius: float) -> float:
    """Largest ``alpha_max`` (Å^2) for which the periodic quotient of this cell is exact.

    The quotient needs ``4 sqrt(alpha_max + max_radius**2)`` below the smallest
    perpendicular width ``w`` of the cell, i.e. ``alpha_max < (w / 4)**2 - max_radius**2``.

    Parameters
    ----------
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    max_radius : float
        Largest ball radius of the frame, Å.

    Returns
    -------
    float
        Limit in Å^2 (negative when not even the bare balls fit).
    """
    width = float(perpendicular_widths(cell).min())
    return (0.25 * width) ** 2 * (1.0 - 1e-6) - float(max_radius) ** 2


def image_shell(positions, cell, margin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Atoms wrapped into the cell plus their periodic images within ``margin`` of it.

    An image is kept when its fractional coordinate ``f_k`` along every lattice vector lies
    in ``[-margin / w_k, 1 + margin / w_k)`` (``w_k`` the perpendicular width), a
    parallelepiped holding every point within ``margin`` of the cell.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å (may be unwrapped).
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    margin : float
        Thickness of the shell, Å, ``0 <= margin < min(w_k)`` (one image layer).

    Returns
    -------
    points : numpy.ndarray, shape (n_points, 3), float
        Cartesian coordinates in Å; the first ``n_atoms`` rows are the wrapped atoms in
        their order, the images follow.
    atoms : numpy.ndarray, shape (n_points,), int
        Atom index of every point.
    central : numpy.ndarray, shape (n_points,), bool
        True for the first ``n_atoms`` points (the atoms in the cell itself).

    Raises
    ------
    ValueError
        If ``margin`` is negative, not finite or not below the smallest width.
    """
    cell_arr = as_cell(cell)
    pos = as_positions(positions)
    widths = perpendicular_widths(cell_arr)
    margin = float(margin)
    if not np.isfinite(margin) or margin < 0.0 or margin >= widths.min():
        raise ValueError(
            f'margin must be a distance in [0, {widths.min():g}) Å (the smallest width of the cell), got {margin!r}'
        )
    frac = np.linalg.solve(cell_arr.T, pos.T).T
    frac -= np.floor(frac)
    frac[frac >= 1.0] = 0.0
    pad = margin / widths
    n_atoms = pos.shape[0]
    blocks, atoms = [frac], [np.arange(n_atoms)]
    for shift in np.array([(x, y, z) for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1)], dtype=float):
        if not shift.any():
            continue
        moved = frac + shift
        keep = np.flatnonzero(np.all((moved >= -pad) & (moved < 1.0 + pad), axis=1))
        blocks.append(moved[keep])
        atoms.append(keep)
    atom_index = np.concatenate(atoms)
    central = np.zeros(atom_index.size, dtype=bool)
    central[:n_atoms] = True
    return np.concatenate(blocks) @ cell_arr, atom_index, central


def _simplices_by_dimension(tree: gudhi.SimplexTree) -> list[tuple[np.ndarray, np.ndarray]]:
    """All simplices of ``tree`` as ``(vertices (n_k, k + 1) int, filtration (n_k,) Å^2)``, k = 0..3."""
    items = list(tree.get_simplices())
    if not items:
        return [(np.zeros((0, k + 1), dtype=np.int64), np.zeros(0)) for k in range(4)]
    simplices, values = zip(*items)
    sizes = np.fromiter(map(len, simplices), dtype=np.int64, count=len(simplices))
    flat = np.fromiter(chain.from_iterable(simplices), dtype=np.int64, count=int(sizes.sum()))
    starts = np.cumsum(sizes) - sizes
    values = np.asarray(values, dtype=float)
    result = []
    for k in range(4):
        rows = np.flatnonzero(sizes == k + 1)
        result.append((flat[starts[rows, np.newaxis] + np.arange(k + 1)], values[rows]))
    return result


def periodic_filtration(positions, cell, weights, alpha_max: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weighted alpha filtration of the periodic frame up to ``alpha_max``, on the atoms (quotient).

    See the module docstring for the method and why it is exact.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å (may be unwrapped).
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    weights : array_like, shape (n_atoms,)
        Squared ball radii, Å^2 (``>= 0``).
    alpha_max : float
        Largest filtration value kept, Å^2, at most :func:`max_alpha`.

    Returns
    -------
    list of 4 tuples (simplices, values)
        For dimension k = 0..3: ``simplices`` shape (n_k, k + 1) int, atom indices sorted
        ascending along each row, and ``values`` shape (n_k,) float, their filtration values
        in Å^2 (a vertex enters at ``-weight``).

    Raises
    ------
    ValueError
        If ``alpha_max`` exceeds :func:`max_alpha` of the cell (naming ``alpha_max``), or
        the weights are not non-negative finite numbers, one per atom (naming ``weights``).
    RuntimeError
        If, against the guarantee, the quotient is not a simplicial complex.
    """
    pos = as_positions(positions)
    cell_arr = as_cell(cell)
    w = np.asarray(weights, dtype=float)
    if w.shape != (pos.shape[0],) or not np.all(np.isfinite(w)) or np.any(w < 0.0):
        raise ValueError(f'weights must hold one squared radius >= 0 Å^2 per atom, shape ({pos.shape[0]},)')
    alpha_max = float(alpha_max)
    limit = max_alpha(cell_arr, np.sqrt(w.max()) if w.size else 0.0)
    if not np.isfinite(alpha_max) or alpha_max > limit:
        raise ValueError(
            f'alpha_max = {alpha_max!r} Å^2 exceeds {limit:g} Å^2, the largest value the periodic quotient of this '
            'cell supports (its smallest width must exceed 4 sqrt(alpha_max + r_max^2)); replicate the cell'
        )
    n_atoms = pos.shape[0]
    if n_atoms == 0:
        return [(np.zeros((0, k + 1), dtype=np.int64), np.zeros(0)) for k in range(4)]
    margin = 2.0 * np.sqrt(max(alpha_max + w.max(), 0.0)) * (1.0 + _MARGIN_PAD)
    points, atoms, central = image_shell(pos, cell_arr, margin)
    tree = gudhi.AlphaComplex(points=points, weights=w[atoms]).create_simplex_tree(max_alpha_square=alpha_max)
    result = []
    for k, (simplices, values) in enumerate(_simplices_by_dimension(tree)):
        atom_sets = atoms[simplices]
        anchor = np.argmin(atom_sets, axis=1)
        keep = central[simplices[np.arange(simplices.shape[0]), anchor]]
        atom_sets = np.sort(atom_sets[keep], axis=1)
        if k and np.any(atom_sets[:, 1:] == atom_sets[:, :-1]):
            raise RuntimeError(f'a {k}-simplex joins an atom to its own image: the cell is too small for alpha_max')
        if np.unique(atom_sets, axis=0).shape[0] != atom_sets.shape[0]:
            raise RuntimeError(f'two periodic {k}-simplices share their atoms: the cell is too small for alpha_max')
        result.append((atom_sets, values[keep]))
    return result


def _is_complete(filtration: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """True when the anchored complex is a closed 3-pseudomanifold: the whole periodic triangulation."""
    n_triangles = filtration[2][0].shape[0]
    n_tetrahedra = filtration[3][0].shape[0]
    return n_tetrahedra > 0 and n_triangles == 2 * n_tetrahedra


def _simplex_tree(filtration: list[tuple[np.ndarray, np.ndarray]]) -> gudhi.SimplexTree:
    """A gudhi simplex tree of the quotient filtration (vertices = atom indices)."""
    tree = gudhi.SimplexTree()
    total = 0
    for simplices, values in filtration:
        if simplices.shape[0]:
            tree.insert_batch(np.ascontiguousarray(simplices.T), values)
            total += simplices.shape[0]
    if tree.num_simplices() != total:
        raise RuntimeError(
            f'the periodic quotient lacks faces of its simplices ({tree.num_simplices()} simplices after inserting '
            f'{total}): the periodic triangulation is inconsistent'
        )
    return tree


def _checked_alpha_max(alpha_max) -> float | None:
    """``alpha_max`` as a finite float (Å^2) or None; raise ValueError naming it."""
    if alpha_max is None:
        return None
    return as_finite(alpha_max, 'alpha_max', 'filtration value in Å^2 (or None)')


def _complete_filtration(pos: np.ndarray, cell: np.ndarray, weights: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The whole periodic filtration: alpha_max raised until the complex closes (module docstring)."""
    limit = max_alpha(cell, np.sqrt(weights.max()))
    spacing_sq = (abs(np.linalg.det(cell)) / pos.shape[0]) ** (2.0 / 3.0)
    alpha = min(_FIRST_ALPHA_SPACINGS * spacing_sq, limit)
    while True:
        filtration = periodic_filtration(pos, cell, weights, alpha)
        if _is_complete(filtration):
            return filtration
        if alpha >= limit:
            raise ValueError(
                f'the cell is too small to hold the complete periodic filtration (it would need alpha_max above '
                f'{limit:g} Å^2): replicate the cell, or give alpha_max'
            )
        alpha = min(_ALPHA_GROWTH * alpha, limit)


def persistence_diagram(
    positions,
    cell,
    species: Sequence[str],
    radii: Mapping[str, float] | None = None,
    dimension: int = 1,
    alpha_max: float | None = None,
    essential: bool = False,
    min_persistence: float = MIN_PERSISTENCE,
) -> np.ndarray:
    """Persistence diagram of one periodic frame in the weighted alpha filtration.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å (may be unwrapped).
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows; the frame is periodic along all three.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    radii : mapping of str to float, optional
        Ball radii in Å replacing or adding to :data:`DEFAULT_RADII_A`.
    dimension : int
        Homology dimension: 1 for loops (the paper's), 0 for components, 2 for voids.
    alpha_max : float, optional
        Cut the filtration at this alpha (Å^2); classes alive there become essential.
        Default: the complete filtration (module docstring).
    essential : bool
        Keep the essential classes, with death ``numpy.inf``. Default: drop them.
    min_persistence : float
        Report only pairs with ``death - birth > min_persistence`` (Å^2, ``>= 0``); the
        default :data:`MIN_PERSISTENCE` drops the zero-length pairs of ties.

    Returns
    -------
    numpy.ndarray, shape (n_pairs, 2), float
        ``(birth, death)`` in Å^2 of alpha (a ball's radius is ``sqrt(r_i**2 + alpha)``),
        rows sorted by birth, then death.

    Raises
    ------
    ValueError
        On bad input (naming the argument), or a cell too small for the periodic quotient.
    """
    pos = as_positions(positions)
    cell_arr = as_cell(cell)
    symbols = as_species(species, pos.shape[0])
    integer = isinstance(dimension, (int, np.integer)) and not isinstance(dimension, bool)
    if not integer or not 0 <= dimension <= _MAX_DIMENSION:
        raise ValueError(f'dimension must be 0, 1 or 2 (components, loops, voids), got {dimension!r}')
    if not isinstance(min_persistence, (int, float, np.floating, np.integer)) or not (
        np.isfinite(min_persistence) and min_persistence >= 0.0
    ):
        raise ValueError(f'min_persistence must be a finite value >= 0 Å^2, got {min_persistence!r}')
    alpha_max = _checked_alpha_max(alpha_max)
    if pos.shape[0] == 0:
        return np.zeros((0, 2))
    weights = atomic_radii(symbols, radii) ** 2
    if alpha_max is None:
        filtration = _complete_filtration(pos, cell_arr, weights)
    else:
        filtration = periodic_filtration(pos, cell_arr, weights, alpha_max)
    tree = _simplex_tree(filtration)
    tree.compute_persistence(homology_coeff_field=HOMOLOGY_FIELD, min_persistence=float(min_persistence))
    pairs = np.asarray(tree.persistence_intervals_in_dimension(int(dimension)), dtype=float).reshape(-1, 2)
    if not essential:
        pairs = pairs[np.isfinite(pairs[:, 1])]
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def persistence_diagrams(
    positions,
    cell,
    species: Sequence[str],
    radii: Mapping[str, float] | None = None,
    dimension: int = 1,
    alpha_max: float | None = None,
    essential: bool = False,
    min_persistence: float = MIN_PERSISTENCE,
) -> list[np.ndarray]:
    """Persistence diagram of every frame of a trajectory (:func:`persistence_diagram`).

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows, one for all frames or one per frame.
    species : sequence of str, shape (n_atoms,)
        Element symbols, the same in every frame.
    radii, dimension, alpha_max, essential, min_persistence
        As in :func:`persistence_diagram`.

    Returns
    -------
    list of numpy.ndarray, one per frame, shape (n_pairs_f, 2)
        ``(birth, death)`` in Å^2.
    """
    frames, cells = as_frames(positions, cell)
    return [
        persistence_diagram(one, one_cell, species, radii, dimension, alpha_max, essential, min_persistence)
        for one, one_cell in zip(frames, cells)
    ]


def _as_diagram(diagram, name: str = 'diagram') -> np.ndarray:
    """``diagram`` as a float array (n_pairs, 2); births finite, deaths >= births (inf allowed)."""
    arr = np.asarray(diagram, dtype=float)
    if arr.size == 0:
        return np.zeros((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f'{name} must have shape (n_pairs, 2) of (birth, death) in Å^2, got shape {arr.shape}')
    if not np.all(np.isfinite(arr[:, 0])) or np.any(np.isnan(arr[:, 1])):
        raise ValueError(f'{name} must hold finite births and deaths that are numbers or inf (Å^2)')
    if np.any(arr[:, 1] < arr[:, 0]):
        raise ValueError(f'{name} has a pair that dies before it is born (death < birth)')
    return arr


def _as_grid(grid) -> np.ndarray:
    """``grid`` as a one-dimensional finite float array (Å^2)."""
    arr = np.asarray(grid, dtype=float)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise ValueError(f'grid must be a one-dimensional array of finite alpha values in Å^2, got shape {arr.shape}')
    return arr


def pooled_diagram(diagrams: Sequence) -> np.ndarray:
    """All pairs of several diagrams (e.g. the frames of a trajectory) in one diagram.

    Parameters
    ----------
    diagrams : sequence of array_like, each shape (n_pairs_f, 2)
        ``(birth, death)`` in Å^2.

    Returns
    -------
    numpy.ndarray, shape (sum of n_pairs_f, 2), float
    """
    if len(diagrams) == 0:
        return np.zeros((0, 2))
    return np.concatenate([_as_diagram(d, f'diagrams[{i}]') for i, d in enumerate(diagrams)])


def accumulated_persistence(diagram, grid, n_atoms: int | None = None) -> np.ndarray:
    """Accumulated persistence function, paper 002 eq. (15), on a grid of mean ages.

    ``APF(t) = sum over pairs i with m_i <= t of (d_i - b_i)``, ``m_i = (b_i + d_i) / 2``.
    A non-decreasing step function of ``t``, zero below the smallest mean age, equal to the
    total persistence ``sum(d_i - b_i)`` from the largest mean age on. Essential pairs
    (``d_i = inf``) never count.

    Parameters
    ----------
    diagram : array_like, shape (n_pairs, 2)
        ``(birth, death)`` in Å^2.
    grid : array_like, shape (n_grid,)
        Values of ``t`` (mean age), Å^2.
    n_atoms : int, optional
        Divide by this atom count (APF per atom, to compare frames of different size).
        Default: none, the paper's unnormalised sum.

    Returns
    -------
    numpy.ndarray, shape (n_grid,), float
        APF in Å^2 (Å^2 per atom with ``n_atoms``).
    """
    pairs = _as_diagram(diagram)
    t = _as_grid(grid)
    pairs = pairs[np.isfinite(pairs[:, 1])]
    mean_age = 0.5 * (pairs[:, 0] + pairs[:, 1])
    order = np.argsort(mean_age, kind='stable')
    cumulative = np.concatenate([[0.0], np.cumsum((pairs[:, 1] - pairs[:, 0])[order])])
    apf = cumulative[np.searchsorted(mean_age[order], t, side='right')]
    if n_atoms is not None:
        if isinstance(n_atoms, bool) or not isinstance(n_atoms, (int, np.integer)) or n_atoms < 1:
            raise ValueError(f'n_atoms must be a positive integer atom count, got {n_atoms!r}')
        apf = apf / n_atoms
    return apf


def mean_accumulated_persistence(diagrams: Sequence, grid, n_atoms: int | None = None) -> np.ndarray:
    """APF averaged over frames: the mean of :func:`accumulated_persistence` of each diagram.

    Parameters
    ----------
    diagrams : sequence of array_like, each shape (n_pairs_f, 2)
        ``(birth, death)`` in Å^2, one diagram per frame.
    grid : array_like, shape (n_grid,)
        Values of ``t`` (mean age), Å^2.
    n_atoms : int, optional
        As in :func:`accumulated_persistence`.

    Returns
    -------
    numpy.ndarray, shape (n_grid,), float
        Mean APF in Å^2 (per atom with ``n_atoms``).
    """
    if len(diagrams) == 0:
        raise ValueError('diagrams must hold at least one diagram')
    return np.mean([accumulated_persistence(d, grid, n_atoms) for d in diagrams], axis=0)


def diagram_histogram(diagram, bins=100, limits=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-dimensional histogram of the finite pairs of a diagram, for plotting it as a density.

    Parameters
    ----------
    diagram : array_like, shape (n_pairs, 2)
        ``(birth, death)`` in Å^2; essential pairs (death inf) are left out.
    bins : int or (int, int)
        Number of bins along birth and death.
    limits : ((float, float), (float, float)), optional
        ``((birth_min, birth_max), (death_min, death_max))`` in Å^2; default: the range of
        the finite pairs.

    Returns
    -------
    counts : numpy.ndarray, shape (n_birth_bins, n_death_bins), float
        Pairs per bin.
    birth_edges : numpy.ndarray, shape (n_birth_bins + 1,)
        Bin edges along birth, Å^2.
    death_edges : numpy.ndarray, shape (n_death_bins + 1,)
        Bin edges along death, Å^2.
    """
    pairs = _as_diagram(diagram)
    pairs = pairs[np.isfinite(pairs[:, 1])]
    try:
        counts, birth_edges, death_edges = np.histogram2d(pairs[:, 0], pairs[:, 1], bins=bins, range=limits)
    except (TypeError, ValueError) as exc:
        raise ValueError(f'bins and limits must be valid histogram bins and ranges (Å^2): {exc}') from exc
    return counts, birth_edges, death_edges
