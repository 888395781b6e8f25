"""Tests for aiida_boroglass.analysis.homology: weighted alpha persistence of periodic frames, APF.

Expected values are derived by hand (see each test) in the convention of the module: a ball
of radius ``r`` has radius ``sqrt(r**2 + alpha)`` at filtration value ``alpha`` (Å^2).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from scipy.optimize import brentq

from aiida_boroglass.analysis.homology import (
    DEFAULT_RADII_A,
    accumulated_persistence,
    atomic_radii,
    diagram_histogram,
    image_shell,
    max_alpha,
    mean_accumulated_persistence,
    periodic_filtration,
    persistence_diagram,
    persistence_diagrams,
    pooled_diagram,
)

BIG_BOX = np.eye(3) * 30.0
POINT = {'X': 0.0}


def ring(n_points, radius, center=15.0):
    """``n_points`` on a circle of ``radius`` Å in the z = center plane, centred at (center, center)."""
    angle = 2.0 * np.pi * np.arange(n_points) / n_points
    return np.c_[radius * np.cos(angle), radius * np.sin(angle), np.zeros(n_points)] + center


def simple_cubic(a, n):
    """Simple cubic lattice of ``n**3`` atoms, lattice constant ``a`` Å, in its cubic n x n x n cell."""
    grid = np.array([(x, y, z) for x in range(n) for y in range(n) for z in range(n)], dtype=float)
    return grid * a, np.eye(3) * a * n


def multiset(diagram, decimals=9):
    """The pairs of a diagram (or a dict of pair: count) as a Counter of rounded (birth, death)."""
    if isinstance(diagram, dict):
        return Counter({tuple(np.round(pair, decimals)): count for pair, count in diagram.items()})
    return Counter(map(tuple, np.round(np.asarray(diagram, dtype=float), decimals)))


def random_packing(n_atoms, length, min_distance, seed):
    """Random sequential addition in a periodic cube of ``length`` Å; species O, B, Li at random."""
    rng = np.random.default_rng(seed)
    points = np.zeros((0, 3))
    while len(points) < n_atoms:
        trial = rng.uniform(0.0, length, 3)
        delta = points - trial
        delta -= length * np.round(delta / length)
        if not len(points) or np.min(np.linalg.norm(delta, axis=1)) > min_distance:
            points = np.vstack([points, trial])
    species = rng.choice(['O', 'B', 'Li'], size=n_atoms, p=[0.6, 0.25, 0.15])
    return points, np.eye(3) * length, species


@pytest.fixture(scope='module')
def packing():
    """150 atoms in a 13 Å cube, nearest neighbours >= 1.6 Å apart (complete filtration fits)."""
    return random_packing(150, 13.0, 1.6, seed=1)


# --- radii -----------------------------------------------------------------------------------


def test_default_radii_are_the_papers():
    assert {k: DEFAULT_RADII_A[k] for k in ('Li', 'B', 'O', 'P')} == {'Li': 0.69, 'B': 0.20, 'O': 1.21, 'P': 0.26}
    radii = atomic_radii(['O', 'Li', 'B', 'P', 'Na', 'K', 'Si', 'O'])
    np.testing.assert_array_equal(radii, [1.21, 0.69, 0.20, 0.26, 1.02, 1.38, 0.26, 1.21])


def test_radii_override_and_errors():
    np.testing.assert_array_equal(atomic_radii(['O', 'Zr'], {'O': 1.35, 'Zr': 0.72}), [1.35, 0.72])
    with pytest.raises(ValueError, match=r'species.*Zr'):
        atomic_radii(['O', 'Zr'])
    with pytest.raises(ValueError, match=r"radii\['O'\]"):
        atomic_radii(['O'], {'O': -1.0})
    with pytest.raises(ValueError, match=r"radii\['O'\]"):
        atomic_radii(['O'], {'O': 'big'})
    with pytest.raises(ValueError, match='radii'):
        atomic_radii(['O'], [1.0])
    with pytest.raises(ValueError, match=r'species.*Zr'):
        persistence_diagram(np.zeros((1, 3)), BIG_BOX, ['Zr'], alpha_max=1.0)


# --- analytic cases -------------------------------------------------------------------------


@pytest.mark.parametrize('n_points', [6, 12])
def test_ring_of_points_has_one_loop(n_points):
    """Born when neighbours touch, at (chord / 2)^2; dies when the triangles filling the polygon
    enter, at the squared circumradius R^2 of the polygon (every fan triangle has it)."""
    radius = 3.0
    diagram = persistence_diagram(ring(n_points, radius), BIG_BOX, ['X'] * n_points, POINT,
                                  alpha_max=radius**2 + 1.0, essential=True)
    chord = 2.0 * radius * np.sin(np.pi / n_points)
    np.testing.assert_allclose(diagram, [[(chord / 2.0) ** 2, radius**2]], rtol=1e-9)


def test_equal_radii_shift_the_ring_by_r_squared():
    """With equal radii r the power distance is shifted by -r^2: birth and death both move by -r^2
    (negative birth: O balls of 1.21 Å on a 2.8 Å ring already overlap at alpha = 0)."""
    n_points, radius, r_o = 8, 2.8, 1.21
    diagram = persistence_diagram(ring(n_points, radius), BIG_BOX, ['O'] * n_points, alpha_max=10.0)
    chord = 2.0 * radius * np.sin(np.pi / n_points)
    np.testing.assert_allclose(diagram, [[(chord / 2.0) ** 2 - r_o**2, radius**2 - r_o**2]], rtol=1e-9)
    assert diagram[0, 0] < 0.0


def test_unequal_radii_join_where_the_grown_balls_touch():
    """Two balls, O and Li, 2.5 Å apart: a ball appears at -r^2 (O first, it is bigger) and the
    Li component dies when sqrt(r_O^2 + a) + sqrt(r_Li^2 + a) = 2.5 Å."""
    distance, r_o, r_li = 2.5, 1.21, 0.69
    positions = [[15.0, 15.0, 15.0], [15.0 + distance, 15.0, 15.0]]
    diagram = persistence_diagram(positions, BIG_BOX, ['O', 'Li'], dimension=0, alpha_max=4.0, essential=True)
    joined = brentq(lambda a: np.sqrt(r_o**2 + a) + np.sqrt(r_li**2 + a) - distance, -r_li**2, 10.0, xtol=1e-14)
    np.testing.assert_allclose(diagram, [[-r_o**2, np.inf], [-r_li**2, joined]], rtol=1e-9)
    assert joined < (distance / 2.0) ** 2  # bigger balls than bare points: they touch earlier


@pytest.mark.parametrize('n', [4, 8])
def test_simple_cubic_lattice_on_the_torus(n):
    """Simple cubic, lattice constant a, balls of radius r, N = n^3 cells on the 3-torus.

    Edges (a apart) enter at a^2/4 - r^2: the graph V = N, E = 3N has E - V + 1 = 2N + 1
    independent loops. Squares (and their diagonals, whose own loops have zero length) fill at
    a^2/2 - r^2 (half a face diagonal squared); cubes at 3a^2/4 - r^2 (half a body diagonal).
    F = 3N squares bound 2N - 2 independent loops (Euler: b2 of the 2-skeleton is N + 2, so
    rank = 3N - N - 2), leaving b1 = 3 = b1(T^3), the torus's essential loops. Voids: N + 2
    at a^2/2, of which N - 1 fill at 3a^2/4 and 3 = b2(T^3) stay. Per cell in the bulk: two
    loops (not three: the three faces of a cell bound only two independent loops).
    """
    a, r = 2.0, 0.3
    positions, cell = simple_cubic(a, n)
    species = ['X'] * len(positions)
    radii = {'X': r}
    n_cells = n**3
    loops = multiset(persistence_diagram(positions, cell, species, radii, essential=True))
    assert loops == multiset({(a**2 / 4 - r**2, a**2 / 2 - r**2): 2 * n_cells - 2, (a**2 / 4 - r**2, np.inf): 3})
    voids = multiset(persistence_diagram(positions, cell, species, radii, dimension=2, essential=True))
    assert voids == multiset({(a**2 / 2 - r**2, 3 * a**2 / 4 - r**2): n_cells - 1, (a**2 / 2 - r**2, np.inf): 3})
    # the quotient is the whole periodic triangulation: chi(T^3) = 0, every triangle in two tetrahedra
    counts = [len(values) for _, values in periodic_filtration(positions, cell, np.full(n_cells, r**2), 3 * a**2 / 4)]
    assert counts[0] - counts[1] + counts[2] - counts[3] == 0 and counts[2] == 2 * counts[3]


# --- periodicity ----------------------------------------------------------------------------


def test_cell_and_its_supercell_give_the_same_diagram_per_cell(packing):
    """Ours is exact on the torus, so the 2x2x2 supercell differs from 8 copies only by the
    torus's global loops: with E - V + 1 positive edges and 3 essential loops, it has exactly
    14 finite pairs more than 8 times the cell (8(E - V) - 2 vs 8(E - V - 2)), and the pairs
    that differ are a few out of thousands."""
    positions, cell, species = packing
    single = persistence_diagram(positions, cell, species)
    shifts = np.array(list(np.ndindex(2, 2, 2)), dtype=float) @ cell
    double = persistence_diagram((positions[None] + shifts[:, None]).reshape(-1, 3), 2 * cell, np.tile(species, 8))
    assert len(single) > 500
    assert len(double) == 8 * len(single) + 14
    difference = multiset(double)
    difference.subtract({pair: 8 * count for pair, count in multiset(single).items()})
    n_different = sum(abs(v) for v in difference.values())
    assert n_different < 0.02 * len(double)
    # so the APF per cell differs by at most those pairs' lifetimes (here ~2.5 % of the total)
    grid = np.linspace(-1.5, 8.0, 96)
    bound = n_different * np.max(double[:, 1] - double[:, 0]) / 8
    assert np.max(np.abs(accumulated_persistence(double, grid) / 8 - accumulated_persistence(single, grid))) <= bound
    assert bound < 0.1 * accumulated_persistence(single, grid)[-1]


def test_same_crystal_in_a_skewed_rotated_cell(crystals, packing):
    """The diagram depends on the periodic structure only: not on the cell chosen to describe it,
    its orientation, the wrapping of the atoms or a rigid translation."""
    positions, cell, species = packing
    reference = persistence_diagram(positions, cell, species, alpha_max=3.0, essential=True)
    skew_positions, skew_cell = crystals.equivalent_cell(positions, cell, seed=3)
    unwrap = np.random.default_rng(7).integers(-2, 3, (len(species), 3)) @ np.asarray(skew_cell)
    moved = np.asarray(skew_positions) + np.array([0.3, -7.1, 2.2]) + unwrap
    diagram = persistence_diagram(moved, skew_cell, species, alpha_max=3.0, essential=True)
    assert np.isinf(reference[:, 1]).sum() > 3
    np.testing.assert_allclose(diagram, reference, rtol=1e-9, atol=1e-9)


def test_alpha_max_cuts_the_filtration(packing):
    """Cut at alpha_max: pairs dying after it become essential, the others are unchanged."""
    positions, cell, species = packing
    full = persistence_diagram(positions, cell, species, essential=True)
    cut = persistence_diagram(positions, cell, species, alpha_max=1.5, essential=True)
    expected = full[full[:, 0] <= 1.5].copy()
    expected[expected[:, 1] > 1.5, 1] = np.inf
    assert multiset(cut) == multiset(expected)
    limit = max_alpha(cell, DEFAULT_RADII_A['O'])
    np.testing.assert_array_equal(persistence_diagram(positions, cell, species, alpha_max=limit),
                                  full[np.isfinite(full[:, 1])])
    assert np.isinf(full[:, 1]).sum() == 3  # complete: only the torus's loops never die


def test_image_shell_holds_every_image_near_the_cell():
    cell = np.array([[9.0, 0.0, 0.0], [3.1, 9.5, 0.0], [-2.2, 1.7, 10.4]])
    rng = np.random.default_rng(5)
    positions = rng.uniform(-1.0, 2.0, (40, 3)) @ cell
    margin = 3.0
    points, atoms, central = image_shell(positions, cell, margin)
    frac = np.linalg.solve(cell.T, positions.T).T
    wrapped = (frac - np.floor(frac)) @ cell
    np.testing.assert_allclose(points[:40], wrapped, atol=1e-12)
    assert central.sum() == 40 and central[:40].all()
    offset = np.linalg.solve(cell.T, (points - wrapped[atoms]).T).T  # whole lattice vectors
    np.testing.assert_allclose(offset, np.round(offset), atol=1e-9)
    shifts = np.array(list(np.ndindex(3, 3, 3))) - 1
    every = (wrapped[None] + (shifts @ cell)[:, None]).reshape(-1, 3)
    near = every[np.min(np.linalg.norm(every[:, None] - wrapped[None], axis=2), axis=1) <= margin]
    found = np.min(np.linalg.norm(near[:, None] - points[None], axis=2), axis=1)
    assert np.all(found < 1e-9)
    with pytest.raises(ValueError, match='margin'):
        image_shell(positions, cell, 20.0)


def test_too_small_a_cell_is_refused():
    positions, cell = simple_cubic(2.0, 1)
    with pytest.raises(ValueError, match='replicate'):
        persistence_diagram(positions, cell, ['X'], POINT)
    positions, cell = simple_cubic(2.0, 4)
    limit = max_alpha(cell, 0.0)
    assert limit == pytest.approx(4.0, rel=1e-5)
    with pytest.raises(ValueError, match='alpha_max'):
        persistence_diagram(positions, cell, ['X'] * 64, POINT, alpha_max=limit + 0.1)


def test_bad_arguments():
    positions, cell = simple_cubic(2.0, 4)
    species = ['X'] * 64
    for kwargs, field in [({'dimension': 3}, 'dimension'), ({'dimension': 1.0}, 'dimension'),
                          ({'min_persistence': -1.0}, 'min_persistence'), ({'alpha_max': 'x'}, 'alpha_max'),
                          ({'alpha_max': np.inf}, 'alpha_max')]:
        with pytest.raises(ValueError, match=field):
            persistence_diagram(positions, cell, species, POINT, **kwargs)
    with pytest.raises(ValueError, match='species'):
        persistence_diagram(positions, cell, species[:-1], POINT)
    with pytest.raises(ValueError, match='positions'):
        persistence_diagram(positions[:, :2], cell, species, POINT)
    with pytest.raises(ValueError, match='cell'):
        persistence_diagram(positions, np.ones((3, 3)), species, POINT)


# --- APF, frames, histogram -----------------------------------------------------------------


def test_apf_by_hand():
    """Pairs (b, d): (0, 2), (1, 2), (0.5, 4): mean ages 1, 1.5, 2.25; lifetimes 2, 1, 3.5.
    The essential pair never counts. Eq. (15) sums lifetimes of pairs with mean age <= t,
    not birth <= t: at t = 1 (the largest birth) only the first pair counts."""
    diagram = [[0.0, 2.0], [1.0, 2.0], [0.5, 4.0], [0.2, np.inf]]
    grid = [-1.0, 0.99, 1.0, 1.2, 1.5, 2.0, 2.25, 10.0]
    expected = np.array([0, 0, 2, 2, 3, 3, 6.5, 6.5])
    np.testing.assert_allclose(accumulated_persistence(diagram, grid), expected)
    np.testing.assert_allclose(accumulated_persistence(diagram, grid, n_atoms=4), expected / 4)
    np.testing.assert_array_equal(accumulated_persistence(np.zeros((0, 2)), grid), np.zeros(8))


def test_apf_of_a_real_diagram(packing):
    positions, cell, species = packing
    diagram = persistence_diagram(positions, cell, species)
    grid = np.linspace(-2.0, 10.0, 500)
    apf = accumulated_persistence(diagram, grid)
    assert apf.shape == grid.shape
    assert np.all(np.diff(apf) >= 0.0) and apf[0] == 0.0
    mean_age = diagram.mean(axis=1)
    assert grid[-1] > mean_age.max()
    assert apf[-1] == pytest.approx(np.sum(diagram[:, 1] - diagram[:, 0]), rel=1e-12)


def test_apf_refuses_bad_input():
    with pytest.raises(ValueError, match='diagram'):
        accumulated_persistence([[1.0, 0.5]], [0.0])
    with pytest.raises(ValueError, match='diagram'):
        accumulated_persistence([1.0, 2.0, 3.0], [0.0])
    with pytest.raises(ValueError, match='grid'):
        accumulated_persistence([[0.0, 1.0]], [[0.0]])
    with pytest.raises(ValueError, match='n_atoms'):
        accumulated_persistence([[0.0, 1.0]], [0.0], n_atoms=0)
    with pytest.raises(ValueError, match='diagrams'):
        mean_accumulated_persistence([], [0.0])


def test_frames_pool_and_average(crystals, packing):
    positions, cell, species = packing
    frames = crystals.jiggle(positions, 0.05, 2, seed=4)
    diagrams = persistence_diagrams(frames, cell, species, alpha_max=2.0)
    assert len(diagrams) == 2
    for frame, diagram in zip(frames, diagrams):
        np.testing.assert_array_equal(diagram, persistence_diagram(frame, cell, species, alpha_max=2.0))
    assert not np.array_equal(diagrams[0], diagrams[1][: len(diagrams[0])])
    pooled = pooled_diagram(diagrams)
    assert pooled.shape == (len(diagrams[0]) + len(diagrams[1]), 2)
    grid = np.linspace(-1.0, 2.0, 50)
    each = [accumulated_persistence(diagram, grid) for diagram in diagrams]
    np.testing.assert_allclose(mean_accumulated_persistence(diagrams, grid), 0.5 * (each[0] + each[1]))
    np.testing.assert_allclose(mean_accumulated_persistence(diagrams, grid), 0.5 * accumulated_persistence(pooled, grid))


def test_diagram_histogram():
    diagram = [[0.0, 1.0], [0.5, 2.0], [0.6, 2.1], [0.1, np.inf]]
    counts, birth_edges, death_edges = diagram_histogram(diagram, bins=(2, 4), limits=((0.0, 1.0), (0.0, 4.0)))
    assert counts.shape == (2, 4) and birth_edges.shape == (3,) and death_edges.shape == (5,)
    np.testing.assert_array_equal(counts, [[0, 1, 0, 0], [0, 0, 2, 0]])
    with pytest.raises(ValueError, match='bins'):
        diagram_histogram(diagram, bins=-3)
