"""Tests for aiida_boroglass.analysis.softness: radial structure functions and the softness hyperplane."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from aiida_boroglass.analysis.neighbors import max_cutoff
from aiida_boroglass.analysis.softness import (
    TAIL_WIDTHS,
    apply_softness,
    radial_structure_functions,
    standardise,
    train_softness,
    weights_by_species,
)

TRICLINIC = np.array([[11.0, 0.0, 0.0], [3.0, 12.0, 0.0], [-2.0, 2.5, 11.5]])


def read_only(*arrays):
    for arr in arrays:
        arr.setflags(write=False)
    return arrays


def random_box(n_atoms=60, seed=1, cell=TRICLINIC, symbols=('B', 'Li', 'O')):
    rng = np.random.default_rng(seed)
    cell = np.array(cell, dtype=float)
    positions = rng.random((n_atoms, 3)) @ cell
    species = rng.choice(np.array(symbols), n_atoms)
    return read_only(positions, cell, species)


def naive_rsf(positions, cell, species, blocks, r, width, truncate):
    """G_X(i; r) by a double loop over atoms, with all 27 periodic images of each pair."""
    images = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=float) @ cell
    out = np.zeros((len(positions), len(blocks), len(r)))
    for i in range(len(positions)):
        for j in range(len(positions)):
            if species[j] not in blocks:
                continue
            d = np.linalg.norm(positions[j] + images - positions[i], axis=1)  # (27,)
            if i == j:
                d = d[d > 0]  # its own images only
            g = np.exp(-((d[:, np.newaxis] - r) ** 2) / (2 * width**2))
            if truncate:
                g[np.abs(d[:, np.newaxis] - r) >= TAIL_WIDTHS * width] = 0.0
            out[i, blocks.index(species[j])] += g.sum(axis=0)
    return out.reshape(len(positions), -1)


@pytest.mark.parametrize(('r_max', 'width'), [(4.0, None), (3.4, 0.35)])
def test_matches_naive_periodic_loop_triclinic(r_max, width):
    positions, cell, species = random_box()
    dr = 0.2
    assert r_max + TAIL_WIDTHS * (width or dr) <= max_cutoff(cell)
    features, r, blocks = radial_structure_functions(
        positions, cell, species, r_max_a=r_max, dr_a=dr, width_a=width
    )
    assert blocks == ('B', 'Li', 'O')
    n_r = int(round(r_max / dr))
    np.testing.assert_allclose(r, dr * np.arange(1, n_r + 1), rtol=1e-12)
    assert features.shape == (60, 3 * n_r)
    w = width or dr
    exact = naive_rsf(positions, cell, species, list(blocks), r, w, truncate=True)
    np.testing.assert_allclose(features, exact, rtol=1e-10, atol=1e-12)
    # the truncation of the Gaussians changes nothing visible
    untruncated = naive_rsf(positions, cell, species, list(blocks), r, w, truncate=False)
    np.testing.assert_allclose(features, untruncated, atol=1e-4)
    assert features.max() > 1.0  # not trivially zero


def test_unwrapped_positions_and_center_subset():
    positions, cell, species = random_box(seed=2)
    full, _, _ = radial_structure_functions(positions, cell, species, r_max_a=4.0)
    shifted = positions + np.random.default_rng(0).integers(-2, 3, positions.shape) @ cell
    moved, _, _ = radial_structure_functions(shifted, cell, species, r_max_a=4.0)
    np.testing.assert_allclose(moved, full, atol=1e-10)
    mask = species == 'B'
    subset, _, _ = radial_structure_functions(positions, cell, species, centers=mask, r_max_a=4.0)
    np.testing.assert_allclose(subset, full[mask], rtol=1e-12)
    reverse = np.flatnonzero(mask)[::-1]
    listed, _, _ = radial_structure_functions(positions, cell, species, centers=reverse, r_max_a=4.0)
    np.testing.assert_allclose(listed, full[mask], rtol=1e-12)


def test_absent_neighbor_species_gives_zero_block():
    positions, cell, species = random_box(seed=3)
    full, r, _ = radial_structure_functions(positions, cell, species, r_max_a=4.0)
    features, r2, blocks = radial_structure_functions(
        positions, cell, species, neighbor_species=['P', 'O'], r_max_a=4.0
    )
    assert blocks == ('O', 'P')
    np.testing.assert_array_equal(r2, r)
    n_r = r.size
    np.testing.assert_allclose(features[:, :n_r], full[:, 2 * n_r :], rtol=1e-12)
    assert np.all(features[:, n_r:] == 0.0)


def simple_cubic(a=2.0, n=6):
    grid = np.array(list(itertools.product(range(n), repeat=3)))
    positions = grid * a
    species = np.where(grid.sum(axis=1) % 2 == 0, 'Cl', 'Na')
    return read_only(positions.astype(float), np.eye(3) * a * n, species)


def test_simple_cubic_shell_counts():
    a = 2.0
    positions, cell, species = simple_cubic(a)
    dr = width = 0.05
    features, r, blocks = radial_structure_functions(positions, cell, species, r_max_a=3.8, dr_a=dr, width_a=width)
    assert blocks == ('Cl', 'Na')
    per_block = features.reshape(len(features), 2, r.size)
    # every Cl sees what every Na sees, with the species swapped
    is_cl = species == 'Cl'
    g_cl, g_na = per_block[is_cl][0]
    np.testing.assert_allclose(per_block[is_cl], np.broadcast_to([g_cl, g_na], per_block[is_cl].shape), atol=1e-10)
    np.testing.assert_allclose(per_block[~is_cl], np.broadcast_to([g_na, g_cl], per_block[~is_cl].shape), atol=1e-10)
    total = g_cl + g_na
    norm = np.sqrt(2 * np.pi) * width / dr  # integral of one Gaussian / dr

    def count(g, shell):
        window = np.abs(r - shell) < 0.26  # just over TAIL_WIDTHS * width; shells lie >= 0.53 apart
        return g[window].sum() / norm

    # distance: (total neighbours, same species (Cl), other species (Na))
    expected = {a: (6, 0, 6), a * np.sqrt(2): (12, 12, 0), a * np.sqrt(3): (8, 0, 8)}
    for shell, (n_all, n_same, n_other) in expected.items():
        assert count(total, shell) == pytest.approx(n_all, rel=1e-5, abs=1e-5)
        assert count(g_cl, shell) == pytest.approx(n_same, rel=1e-5, abs=1e-5)
        assert count(g_na, shell) == pytest.approx(n_other, rel=1e-5, abs=1e-5)
        window = np.abs(r - shell) < 0.2
        assert r[window][np.argmax(total[window])] == pytest.approx(shell, abs=dr / 2 + 1e-9)
    assert np.all(total[r < a - 0.3] < 1e-6)  # nothing closer than a


def test_inputs_not_modified():
    positions, cell, species = random_box(seed=4)
    before = positions.copy()
    radial_structure_functions(positions, cell, species, r_max_a=3.0)
    np.testing.assert_array_equal(positions, before)


@pytest.mark.parametrize(
    ('kwargs', 'name'),
    [
        ({'r_max_a': 5.0}, 'r_max_a'),  # 5 + 5 * 0.2 exceeds max_cutoff
        ({'r_max_a': -1.0}, 'r_max_a'),
        ({'dr_a': 0.0}, 'dr_a'),
        ({'r_max_a': 1.0, 'dr_a': 2.0}, 'dr_a'),
        ({'width_a': -0.1}, 'width_a'),
        ({'width_a': 0.5, 'r_max_a': 4.0}, 'width'),  # 4 + 2.5 too far
        ({'neighbor_species': []}, 'neighbor_species'),
        ({'neighbor_species': ['O', 'O']}, 'neighbor_species'),
        ({'centers': [0, 0]}, 'centers'),
        ({'centers': [1000]}, 'centers'),
    ],
)
def test_rsf_errors(kwargs, name):
    positions, cell, species = random_box()
    assert 5.0 < max_cutoff(cell) < 6.0
    with pytest.raises(ValueError, match=name):
        radial_structure_functions(positions, cell, species, **{'r_max_a': 3.0, **kwargs})


def test_rsf_species_length_error():
    positions, cell, species = random_box()
    with pytest.raises(ValueError, match='species'):
        radial_structure_functions(positions, cell, species[:-1], r_max_a=3.0)


def test_standardise_uses_training_statistics():
    train = np.array([[1.0, 5.0, 0.3], [3.0, 5.0, 0.3], [2.0, 5.0, 0.3]])
    test = np.array([[4.0, 7.0, 1.0], [0.0, 5.0, 0.3]])
    read_only(train, test)
    std0 = np.sqrt(2.0 / 3.0)  # population std of (1, 3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        with np.errstate(all='raise'):
            z_train, z_test = standardise(train, test)
    np.testing.assert_allclose(z_train, [[-1 / std0, 0, 0], [1 / std0, 0, 0], [0, 0, 0]], atol=1e-12)
    np.testing.assert_allclose(z_test, [[2 / std0, 0, 0], [-2 / std0, 0, 0]], atol=1e-12)
    (alone,) = standardise(train)
    np.testing.assert_allclose(alone, z_train)


def test_standardise_errors():
    with pytest.raises(ValueError, match='others'):
        standardise(np.ones((3, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match='train'):
        standardise(np.ones(3))
    with pytest.raises(ValueError, match='train'):
        standardise(np.zeros((0, 2)))


@pytest.fixture(scope='module')
def three_compositions():
    """Real RSFs of B atoms in random boxes of three 'compositions' (same density)."""
    rows, groups = [], []
    for k, frac_li in enumerate((0.2, 0.3, 0.4)):
        rng = np.random.default_rng(10 + k)
        box = 24.0
        n_atoms = 1400
        positions = rng.random((n_atoms, 3)) * box
        species = rng.choice(np.array(['B', 'Li', 'O']), n_atoms, p=[0.3, frac_li, 0.7 - frac_li])
        features, r, blocks = radial_structure_functions(
            positions, np.eye(3) * box, species, centers=species == 'B', r_max_a=4.0, dr_a=0.2
        )
        rows.append(features)
        groups += [f'comp{k}'] * len(features)
    features = np.vstack(rows)
    return read_only(features, r, np.array(groups)) + (blocks,)


def test_planted_signal_is_found(three_compositions):
    features, r, groups, blocks = three_compositions
    column = blocks.index('O') * r.size + int(np.flatnonzero(np.isclose(r, 3.0))[0])
    labels = features[:, column] > np.median(features[:, column])
    model = train_softness(features, labels, groups, 'comp1')
    assert model.test_mask.sum() > 300
    assert model.accuracy > 0.9
    assert model.train_accuracy > 0.9
    # the planted column carries the largest weight, with positive sign (more -> mobile)
    assert np.argmax(np.abs(model.weights)) == column
    assert model.weights[column] > 0
    curves = weights_by_species(model.weights, r, blocks)
    assert list(curves) == list(blocks)
    assert curves['O'][np.isclose(r, 3.0)][0] == model.weights[column]
    # confusion matrix: test samples, rows true, columns predicted
    test_labels = labels[model.test_mask]
    assert model.confusion.sum() == model.test_mask.sum()
    assert model.confusion[1].sum() == test_labels.sum()
    assert np.trace(model.confusion) / model.confusion.sum() == pytest.approx(model.accuracy)
    # softness sign is the prediction; new samples scored the same way
    predicted = model.softness > 0
    assert np.mean(predicted[model.test_mask] == test_labels) == pytest.approx(model.accuracy)
    np.testing.assert_allclose(apply_softness(model, features), model.softness, rtol=1e-10, atol=1e-10)


def test_random_labels_give_chance_accuracy(three_compositions):
    features, r, groups, _ = three_compositions
    labels = np.random.default_rng(5).random(len(features)) < 0.5
    model = train_softness(features, labels.astype(int), groups, 'comp2', C=0.01)
    assert 0.4 < model.accuracy < 0.6


def test_balancing_and_training_only_statistics(three_compositions):
    features, r, groups, _ = three_compositions
    rng = np.random.default_rng(6)
    labels = rng.random(len(features)) < 0.25  # imbalanced
    model = train_softness(features, labels, groups, 'comp0', seed=3)
    fitted = labels[model.train_mask]
    assert fitted.sum() == (~fitted).sum() == labels[groups != 'comp0'].sum()
    assert not np.any(model.train_mask & model.test_mask)
    np.testing.assert_allclose(model.mean, features[model.train_mask].mean(axis=0))
    again = train_softness(features, labels, groups, 'comp0', seed=3)
    np.testing.assert_array_equal(again.train_mask, model.train_mask)
    unbalanced = train_softness(features, labels, groups, 'comp0', balance=False)
    np.testing.assert_array_equal(unbalanced.train_mask, groups != 'comp0')


def test_train_softness_errors():
    rng = np.random.default_rng(0)
    x = rng.random((8, 3))
    groups = np.array(['a', 'a', 'a', 'a', 'b', 'b', 'c', 'c'])
    good = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match='labels'):
        train_softness(x, good * 2, groups, 'c')
    with pytest.raises(ValueError, match='labels'):
        train_softness(x, np.array(list('01010101')), groups, 'c')
    with pytest.raises(ValueError, match='labels.*mobile'):
        train_softness(x, np.array([0, 0, 0, 0, 0, 0, 1, 1]), groups, 'c')
    with pytest.raises(ValueError, match='test_group'):
        train_softness(x, good, groups, 'z')
    with pytest.raises(ValueError, match='groups'):
        train_softness(x, good, groups[:-1], 'c')
    with pytest.raises(ValueError, match='groups'):
        train_softness(x, good, np.full(8, 'c'), 'c')
    with pytest.raises(ValueError, match='C'):
        train_softness(x, good, groups, 'c', C=0.0)
    with pytest.raises(ValueError, match='features'):
        train_softness(x[:, 0], good, groups, 'c')
    with pytest.raises(ValueError, match='weights'):
        weights_by_species(np.ones(7), np.ones(3), ['B', 'O'])
