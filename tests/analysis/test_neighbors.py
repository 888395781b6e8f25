"""Tests for aiida_boroglass.analysis.neighbors: periodic neighbour search."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.analysis.neighbors import (
    as_frames,
    cell_is_orthorhombic,
    max_cutoff,
    neighbor_pairs,
    perpendicular_widths,
    wrap_positions,
)

ORTHORHOMBIC = np.diag([9.0, 10.0, 11.5])
TRICLINIC = np.array([[9.0, 0.0, 0.0], [3.1, 9.5, 0.0], [-2.2, 1.7, 10.4]])
VERY_SKEWED = np.array([[10.0, 0.0, 0.0], [7.5, 8.0, 0.0], [6.0, 5.5, 9.0]])


def naive_pairs(positions, cell, cutoff, centers=None, others=None):
    """O(N^2) reference: minimum image over the 27 neighbouring images, on wrapped atoms."""
    positions = np.asarray(positions, dtype=float)
    cell = np.asarray(cell, dtype=float)
    frac = positions @ np.linalg.inv(cell)
    wrapped = (frac - np.floor(frac)) @ cell
    n = len(positions)
    half = centers is None and others is None
    centers = np.arange(n) if centers is None else np.asarray(centers)
    others = np.arange(n) if others is None else np.asarray(others)
    images = np.array([(x, y, z) for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1)]) @ cell
    delta = wrapped[others][None, :, None, :] - wrapped[centers][:, None, None, :] + images[None, None, :, :]
    dist = np.linalg.norm(delta, axis=-1).min(axis=-1)
    ii, jj = np.meshgrid(centers, others, indexing='ij')
    keep = (dist < cutoff) & (ii != jj)
    if half:
        keep &= ii < jj
    return {(int(i), int(j)): float(d) for i, j, d in zip(ii[keep], jj[keep], dist[keep])}


def random_points(cell, n, seed):
    rng = np.random.default_rng(seed)
    positions = rng.random((n, 3)) @ np.asarray(cell)
    positions += rng.integers(-2, 3, size=(n, 3)) @ np.asarray(cell)  # unwrapped on purpose
    positions.setflags(write=False)
    return positions


def as_dict(i, j, d):
    return {(int(a), int(b)): float(c) for a, b, c in zip(i, j, d)}


def test_perpendicular_widths_orthorhombic():
    np.testing.assert_allclose(perpendicular_widths(ORTHORHOMBIC), [9.0, 10.0, 11.5])
    assert max_cutoff(ORTHORHOMBIC) == pytest.approx(4.5)


def test_perpendicular_widths_hexagonal():
    a, c = 4.0, 7.0
    cell = np.array([[a, 0, 0], [0.5 * a, 0.5 * np.sqrt(3) * a, 0], [0, 0, c]])
    np.testing.assert_allclose(perpendicular_widths(cell), [0.5 * np.sqrt(3) * a, 0.5 * np.sqrt(3) * a, c])
    assert not cell_is_orthorhombic(cell)
    assert cell_is_orthorhombic(ORTHORHOMBIC)


@pytest.mark.parametrize('cell', [ORTHORHOMBIC, TRICLINIC, VERY_SKEWED], ids=['ortho', 'triclinic', 'skewed'])
@pytest.mark.parametrize('selection', ['half', 'overlapping', 'disjoint', 'centers_only'])
def test_matches_naive_reference(cell, selection):
    cell = cell.copy()
    cell.setflags(write=False)
    positions = random_points(cell, 160, seed=7)
    cutoff = 0.95 * max_cutoff(cell)
    kwargs = {
        'half': {},
        'overlapping': {'centers': np.arange(0, 100), 'others': np.arange(50, 160)},
        'disjoint': {'centers': np.arange(0, 60), 'others': np.arange(60, 160)},
        'centers_only': {'centers': np.arange(10, 40)},
    }[selection]
    i, j, d = neighbor_pairs(positions, cell, cutoff, **kwargs)
    expected = naive_pairs(positions, cell, cutoff, **kwargs)
    got = as_dict(i, j, d)
    assert len(expected) > 100
    assert set(got) == set(expected)
    np.testing.assert_allclose([got[k] for k in sorted(expected)], [expected[k] for k in sorted(expected)], rtol=1e-10)
    assert len(got) == len(i)  # no pair twice
    assert np.all(np.diff(i) >= 0)  # sorted by i
    if selection == 'half':
        assert np.all(i < j)


@pytest.mark.parametrize('cell', [ORTHORHOMBIC, VERY_SKEWED], ids=['ortho', 'skewed'])
def test_matches_naive_at_the_cutoff_limit(cell):
    positions = random_points(cell, 120, seed=3)
    cutoff = max_cutoff(cell)
    got = as_dict(*neighbor_pairs(positions, cell, cutoff))
    assert got.keys() == naive_pairs(positions, cell, cutoff).keys()


def test_vectors_are_minimum_image_differences():
    positions = random_points(TRICLINIC, 100, seed=11)
    i, j, d, vectors = neighbor_pairs(positions, TRICLINIC, 4.0, return_vectors=True)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), d)
    lattice_shift = (positions[i] + vectors - positions[j]) @ np.linalg.inv(TRICLINIC)
    np.testing.assert_allclose(lattice_shift, np.round(lattice_shift), atol=1e-9)


def test_same_crystal_in_equivalent_skewed_cell(rock_salt_crystal, crystals):
    positions, cell, _ = rock_salt_crystal
    new_positions, new_cell = crystals.equivalent_cell(positions, cell)
    assert not cell_is_orthorhombic(new_cell)
    cutoff = 0.99 * min(max_cutoff(cell), max_cutoff(new_cell))
    a = as_dict(*neighbor_pairs(positions, cell, cutoff))
    b = as_dict(*neighbor_pairs(new_positions, new_cell, cutoff))
    assert a.keys() == b.keys()
    np.testing.assert_allclose([a[k] for k in sorted(a)], [b[k] for k in sorted(a)], rtol=1e-10)


def test_inputs_are_not_modified():
    positions = random_points(TRICLINIC, 50, seed=1)
    cell = TRICLINIC.copy()
    cell.setflags(write=False)
    before = positions.copy()
    neighbor_pairs(positions, cell, 3.0)
    neighbor_pairs(positions, cell, 3.0, centers=np.arange(10))
    wrap_positions(positions, cell)
    np.testing.assert_array_equal(positions, before)


def test_wrap_positions_into_the_cell():
    positions = random_points(TRICLINIC, 50, seed=2)
    frac = wrap_positions(positions, TRICLINIC) @ np.linalg.inv(TRICLINIC)
    assert np.all((frac >= -1e-12) & (frac < 1.0))


def test_boolean_masks_equal_index_arrays():
    positions = random_points(ORTHORHOMBIC, 80, seed=4)
    mask = np.zeros(80, dtype=bool)
    mask[::3] = True
    a = neighbor_pairs(positions, ORTHORHOMBIC, 3.0, centers=mask, others=~mask)
    b = neighbor_pairs(positions, ORTHORHOMBIC, 3.0, centers=np.flatnonzero(mask), others=np.flatnonzero(~mask))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert np.all(mask[a[0]]) and not np.any(mask[a[1]])


def test_empty_selection_gives_no_pairs():
    positions = random_points(ORTHORHOMBIC, 20, seed=5)
    i, j, d = neighbor_pairs(positions, ORTHORHOMBIC, 3.0, centers=[])
    assert i.shape == j.shape == d.shape == (0,)


def test_cutoff_too_large_names_cutoff_and_limit():
    positions = random_points(TRICLINIC, 20, seed=6)
    limit = max_cutoff(TRICLINIC)
    with pytest.raises(ValueError, match=r'cutoff') as info:
        neighbor_pairs(positions, TRICLINIC, limit * 1.01)
    assert f'{limit:g}' in str(info.value)


@pytest.mark.parametrize(
    'positions, cell, cutoff, kwargs, field',
    [
        (np.zeros((4, 2)), ORTHORHOMBIC, 2.0, {}, 'positions'),
        (np.zeros((4, 3)), np.eye(3)[:2], 2.0, {}, 'cell'),
        (np.zeros((4, 3)), np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0]]), 0.1, {}, 'cell'),
        (np.zeros((4, 3)), ORTHORHOMBIC, -1.0, {}, 'cutoff'),
        (np.zeros((4, 3)), ORTHORHOMBIC, 2.0, {'centers': [0, 7]}, 'centers'),
        (np.zeros((4, 3)), ORTHORHOMBIC, 2.0, {'others': [1, 1]}, 'others'),
        (np.full((4, 3), np.nan), ORTHORHOMBIC, 2.0, {}, 'positions'),
    ],
)
def test_bad_input_names_the_field(positions, cell, cutoff, kwargs, field):
    with pytest.raises(ValueError, match=field):
        neighbor_pairs(positions, cell, cutoff, **kwargs)


def test_as_frames_checks_cell_count():
    with pytest.raises(ValueError, match='cell'):
        as_frames(np.zeros((3, 4, 3)), np.broadcast_to(np.eye(3) * 5, (2, 3, 3)))
    pos, cells = as_frames(np.zeros((4, 3)), np.eye(3) * 5)
    assert pos.shape == (1, 4, 3) and cells.shape == (1, 3, 3)
