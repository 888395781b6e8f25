"""Tests for aiida_boroglass.analysis.rearrangement: D2min, D_cum, mobile/immobile."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.analysis.rearrangement import classify_mobile, cumulative_d2min, d2min

TRICLINIC = np.array([[12.0, 0.0, 0.0], [2.5, 11.5, 0.0], [-1.8, 1.4, 12.6]])


def cubic_lattice(n=5, a=2.0):
    """Simple cubic lattice, n^3 atoms, spacing a (Å); atom 0 at the origin."""
    grid = np.arange(n) * a
    pos = np.array(np.meshgrid(grid, grid, grid, indexing='ij')).reshape(3, -1).T
    return pos, np.eye(3) * n * a


def random_config(n=120, cell=TRICLINIC, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 3)) @ cell


def affine_map():
    """Homogeneous strain followed by a rotation (row-vector convention r' = r F^T)."""
    strain = np.array([[0.04, 0.01, -0.02], [0.01, -0.03, 0.015], [-0.02, 0.015, 0.05]])
    angle = 0.4
    axis = np.array([1.0, 2.0, -0.5]) / np.linalg.norm([1.0, 2.0, -0.5])
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rot = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
    return rot @ (np.eye(3) + strain)


def naive_d2min(ref, cell, cur_unwrapped, cur_cell, cutoff, normalize=True):
    """Per-atom loop reference: 27-image neighbour search and np.linalg.lstsq.

    ``cur_unwrapped`` must be the continuous image of ``ref`` (fractional coordinates
    changed by much less than half a cell), so the current vector of a pair with image
    shift n is (f_j - f_i + n) H_cur.
    """
    frac0 = ref @ np.linalg.inv(cell)
    frac1 = cur_unwrapped @ np.linalg.inv(cur_cell)
    shifts = np.array([(x, y, z) for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1)], dtype=float)
    out = np.full(len(ref), np.nan)
    for i in range(len(ref)):
        d0_rows, d_rows = [], []
        for j in range(len(ref)):
            if j == i:
                continue
            cand = (frac0[j] - frac0[i] + shifts) @ cell
            dist = np.linalg.norm(cand, axis=1)
            best = np.argmin(dist)
            if dist[best] < cutoff:
                d0_rows.append(cand[best])
                d_rows.append((frac1[j] - frac1[i] + shifts[best]) @ cur_cell)
        d0, d = np.array(d0_rows), np.array(d_rows)
        jt, *_ = np.linalg.lstsq(d0, d, rcond=None)  # d0 @ J^T ~ d
        res = np.sum((d - d0 @ jt) ** 2)
        out[i] = res / len(d0) if normalize else res
    return out


@pytest.mark.parametrize('cell', [np.diag([11.0, 12.0, 13.0]), TRICLINIC])
def test_affine_deformation_gives_zero(cell):
    ref = random_config(cell=cell, seed=1)
    f = affine_map()
    cur = ref @ f.T
    cur_cell = cell @ f.T
    values = d2min(ref, cell, cur, cur_cell, cutoff_a=4.0)
    assert np.all(np.isfinite(values))
    np.testing.assert_allclose(values, 0.0, atol=1e-10)
    # wrapped current positions, plain sum: still zero
    frac = cur @ np.linalg.inv(cur_cell)
    wrapped = (frac - np.floor(frac)) @ cur_cell
    values = d2min(ref, cell, wrapped, cur_cell, cutoff_a=4.0, normalize=False)
    np.testing.assert_allclose(values, 0.0, atol=1e-10)


def test_affine_on_skewed_cell_and_large_shear_gives_zero():
    """Pair images must follow the reference, not the current minimum image.

    In a very skewed cell the Cartesian minimum image differs from rounding fractional
    coordinates, and a 60 % simple shear changes which image is nearest.
    """
    shear = np.array([[1.0, 1.2, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # x += 1.2 y
    skewed = np.array([[12.0, 0.0, 0.0], [9.5, 10.0, 0.0], [7.0, 6.5, 11.0]])
    for cell, cutoff in ((skewed, 4.2), (np.eye(3) * 10.0, 4.8)):
        ref = random_config(n=150, cell=cell, seed=7)
        for f in (affine_map(), shear):
            values = d2min(ref, cell, ref @ f.T, cell @ f.T, cutoff_a=cutoff)
            np.testing.assert_allclose(values, 0.0, atol=1e-10)


def test_affine_on_crystal_gives_zero():
    ref, cell = cubic_lattice()
    f = affine_map()
    values = d2min(ref, cell, ref @ f.T, cell @ f.T, cutoff_a=2.5)
    np.testing.assert_allclose(values, 0.0, atol=1e-10)


def test_non_affine_noise_is_detected():
    ref = random_config(seed=2)
    rng = np.random.default_rng(3)
    cur = ref + 0.1 * rng.standard_normal(ref.shape)
    assert np.all(d2min(ref, TRICLINIC, cur, TRICLINIC, cutoff_a=4.0) > 1e-4)


def test_single_displaced_atom_hand_computed():
    """Atom 0 of a simple cubic lattice (a = 2 Å, 6 first neighbours within 2.5 Å) moves by u = 0.3 Å along x.

    Every atom has Y = sum d0 d0^T = 2 a^2 I = 8 I (two neighbours along each axis).

    - Atom 0: d_0j = d0_0j - u for all six j, X = Y - u (sum_j d0_0j)^T = Y, so J = I and
      each residual is -u: D2min = 6 u^2 / 6 = u^2 = 0.09 Å^2.
    - Neighbour k at (a, 0, 0) (bond along u): only the pair to atom 0 changes,
      d0 = -a e_x, d = d0 + u. X = Y + u d0^T, J = I + u d0^T / (2 a^2) = I - (u / 2a) e_x e_x^T.
      Residuals: +-(u/2) e_x for the two x neighbours, 0 for y, z. D2min = (u^2 / 2) / 6.
    - Neighbour at (0, a, 0) (bond perpendicular to u): J = I - (u / 2a) e_x e_y^T,
      residuals (u/2) e_x for both y neighbours: again (u^2 / 2) / 6.
    - An atom at (2a, 0, 0) does not see atom 0 within 2.5 Å: 0.
    """
    ref, cell = cubic_lattice()
    u, a = 0.3, 2.0
    cur = ref.copy()
    cur[0, 0] += u
    values = d2min(ref, cell, cur, cell, cutoff_a=2.5)
    k_x = int(np.flatnonzero(np.all(np.isclose(ref, [a, 0, 0]), axis=1))[0])
    k_y = int(np.flatnonzero(np.all(np.isclose(ref, [0, a, 0]), axis=1))[0])
    far = int(np.flatnonzero(np.all(np.isclose(ref, [2 * a, 0, 0]), axis=1))[0])
    assert values[0] == pytest.approx(u**2, abs=1e-12)
    assert values[k_x] == pytest.approx(u**2 / 2 / 6, abs=1e-12)
    assert values[k_y] == pytest.approx(u**2 / 2 / 6, abs=1e-12)
    assert values[far] == pytest.approx(0.0, abs=1e-12)
    # the explicit least-squares fit for k_x agrees with the formula
    d0 = np.array([[a, 0, 0], [-a, 0, 0], [0, a, 0], [0, -a, 0], [0, 0, a], [0, 0, -a]])
    d = d0.copy()
    d[1, 0] += u  # the pair k_x -> atom 0
    jt, *_ = np.linalg.lstsq(d0, d, rcond=None)
    assert values[k_x] == pytest.approx(np.sum((d - d0 @ jt) ** 2) / 6, abs=1e-12)
    # unnormalised sums and centers
    plain = d2min(ref, cell, cur, cell, cutoff_a=2.5, centers=[0, k_x], normalize=False)
    assert plain[0] == pytest.approx(6 * u**2, abs=1e-12)
    assert plain[k_x] == pytest.approx(u**2 / 2, abs=1e-12)
    assert np.isnan(plain[far])


@pytest.mark.parametrize('cell', [np.diag([10.0, 10.5, 11.0]), TRICLINIC])
def test_agrees_with_naive_loop(cell):
    ref = random_config(n=60, cell=cell, seed=4)
    rng = np.random.default_rng(5)
    f = np.eye(3) + 0.02 * rng.standard_normal((3, 3))
    cur = ref @ f.T + 0.15 * rng.standard_normal(ref.shape)
    cur_cell = cell @ f.T
    expected = naive_d2min(ref, cell, cur, cur_cell, 4.0)
    frac = cur @ np.linalg.inv(cur_cell)
    wrapped = (frac - np.floor(frac)) @ cur_cell
    for current in (cur, wrapped + 3 * cur_cell[0]):  # image shifts of the input do not matter
        values = d2min(ref, cell, current, cur_cell, cutoff_a=4.0)
        finite = np.isfinite(expected)
        assert finite.sum() > 50
        np.testing.assert_array_equal(np.isfinite(values), finite)
        np.testing.assert_allclose(values[finite], expected[finite], rtol=1e-9, atol=1e-12)


def test_too_few_neighbours_give_nan():
    cell = np.eye(3) * 20.0
    # atom 0 with two neighbours; atoms 3-6: a planar square (coplanar neighbours)
    ref = np.array(
        [[1, 1, 1], [2.5, 1, 1], [1, 2.5, 1], [10, 10, 10], [11.5, 10, 10], [10, 11.5, 10], [11.5, 11.5, 10]],
        dtype=float,
    )
    values = d2min(ref, cell, ref + 0.1, cell, cutoff_a=3.0)
    assert np.all(np.isnan(values))


def test_cumulative_static_is_zero():
    ref = random_config(n=80, seed=6)
    frames = np.repeat(ref[np.newaxis], 5, axis=0)
    d_cum, history = cumulative_d2min(frames, TRICLINIC, cutoff_a=4.0, return_history=True)
    np.testing.assert_allclose(d_cum, 0.0, atol=1e-10)
    assert history.shape == (4, 80)


def test_cumulative_hopping_atom():
    ref, cell = cubic_lattice()
    u = 0.3
    frames = np.repeat(ref[np.newaxis], 7, axis=0)
    frames[1::2, 0, 0] += u  # atom 0 hops out and back: 6 intervals
    d_cum = cumulative_d2min(frames, cell, cutoff_a=2.5)
    dist0 = np.linalg.norm(ref - np.round(ref / 10.0) * 10.0, axis=1)  # minimum image distance to atom 0
    neighbours = (dist0 > 0) & (dist0 < 2.5)
    assert neighbours.sum() == 6
    assert d_cum[0] > 0 and np.all(d_cum[neighbours] > 0)
    np.testing.assert_allclose(d_cum[~neighbours & (dist0 > 0)], 0.0, atol=1e-6)
    # forward intervals give exactly u for atom 0 (sqrt(u^2)); 3 of the 6 intervals are forward
    assert d_cum[0] >= 3 * u - 1e-9
    # lag = 2 compares identical frames: nothing moves; root=False sums D2min
    np.testing.assert_allclose(cumulative_d2min(frames, cell, cutoff_a=2.5, lag=2), 0.0, atol=1e-6)
    plain = cumulative_d2min(frames[:2], cell, cutoff_a=2.5, root=False)
    assert plain[0] == pytest.approx(u**2, abs=1e-12)


def test_classify_mobile():
    values = np.array([0.1, 5.0, 2.0, np.nan, 3.0])
    mobile, cut = classify_mobile(values, threshold=2.5)
    assert cut == 2.5
    np.testing.assert_array_equal(mobile, [False, True, False, False, True])
    mobile, _ = classify_mobile(values, threshold=3.0)  # strictly above the threshold
    np.testing.assert_array_equal(mobile, [False, True, False, False, False])
    values = np.arange(10.0)
    mobile, cut = classify_mobile(values, quantile=0.7)
    assert cut == pytest.approx(6.3)
    np.testing.assert_array_equal(np.flatnonzero(mobile), [7, 8, 9])


@pytest.mark.parametrize(
    ('kwargs', 'name'),
    [
        ({'values': np.ones((2, 2)), 'threshold': 1.0}, 'values'),
        ({'values': np.ones(3)}, 'threshold'),
        ({'values': np.ones(3), 'threshold': 1.0, 'quantile': 0.5}, 'quantile'),
        ({'values': np.ones(3), 'threshold': np.nan}, 'threshold'),
        ({'values': np.ones(3), 'quantile': 1.5}, 'quantile'),
        ({'values': np.full(3, np.nan), 'quantile': 0.5}, 'values'),
    ],
)
def test_classify_mobile_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        classify_mobile(**kwargs)


def test_d2min_bad_input():
    ref, cell = cubic_lattice()
    with pytest.raises(ValueError, match='cur_positions'):
        d2min(ref, cell, ref[:-1], cell)
    with pytest.raises(ValueError, match='ref_positions'):
        d2min(ref[:, :2], cell, ref, cell)
    with pytest.raises(ValueError, match='cur_cell'):
        d2min(ref, cell, ref, np.zeros((3, 3)))
    with pytest.raises(ValueError, match='cutoff_a'):
        d2min(ref, cell, ref, cell, cutoff_a=6.0)
    with pytest.raises(ValueError, match='cutoff_a'):
        d2min(ref, cell, ref, cell, cutoff_a=-1.0)
    with pytest.raises(ValueError, match='centers'):
        d2min(ref, cell, ref, cell, cutoff_a=2.5, centers=[500])
    frames = np.repeat(ref[np.newaxis], 3, axis=0)
    with pytest.raises(ValueError, match='lag'):
        cumulative_d2min(frames, cell, cutoff_a=2.5, lag=3)
    with pytest.raises(ValueError, match='lag'):
        cumulative_d2min(frames, cell, cutoff_a=2.5, lag=0)
    with pytest.raises(ValueError, match='frames'):
        cumulative_d2min(ref, cell, cutoff_a=2.5)
    with pytest.raises(ValueError, match='cells'):
        cumulative_d2min(frames, np.stack([cell, cell]), cutoff_a=2.5)
