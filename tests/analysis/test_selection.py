"""Tests for aiida_boroglass.analysis.selection: classes, fingerprints and candidate selection."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from aiida_boroglass.analysis.neighbors import max_cutoff
from aiida_boroglass.analysis.selection import (
    ACCURATE,
    CANDIDATE,
    CLASS_NAMES,
    FAILED,
    SELECTION_METHODS,
    adaptive_trust_lo,
    class_fractions,
    classify_deviation,
    farthest_point_order,
    frame_fingerprints,
    select_candidates,
)

# --- classification --------------------------------------------------------------------


def test_classification_at_the_boundaries():
    f = [0.0, 0.0999, 0.1, 0.2, 0.2999, 0.3, 5.0, np.nan, np.inf, -np.inf]
    classes = classify_deviation(f, 0.1, 0.3)
    expected = [ACCURATE, ACCURATE, CANDIDATE, CANDIDATE, CANDIDATE, FAILED, FAILED, FAILED, FAILED, FAILED]
    assert classes.dtype == np.int8
    np.testing.assert_array_equal(classes, expected)


def test_classification_of_no_frame_is_empty():
    classes = classify_deviation([], 0.1, 0.3)
    assert classes.shape == (0,) and classes.dtype == np.int8


@pytest.mark.parametrize(
    ('lo', 'hi', 'field'),
    [(-0.1, 0.3, 'trust_lo'), (np.nan, 0.3, 'trust_lo'), ('x', 0.3, 'trust_lo'), (0.3, 0.3, 'trust_hi'),
     (0.3, 0.1, 'trust_hi'), (0.1, np.inf, 'trust_hi'), (0.1, None, 'trust_hi')],
)
def test_bad_trust_levels_are_refused(lo, hi, field):
    with pytest.raises(ValueError, match=field):
        classify_deviation([0.2], lo, hi)


def test_fractions_and_counts():
    classes = [ACCURATE, ACCURATE, CANDIDATE, FAILED, ACCURATE, CANDIDATE, ACCURATE, ACCURATE]
    result = class_fractions(classes)
    assert result['n_accurate'] == 5 and result['n_candidate'] == 2 and result['n_failed'] == 1
    assert result['accurate'] == pytest.approx(5 / 8)
    assert result['candidate'] == pytest.approx(2 / 8)
    assert result['failed'] == pytest.approx(1 / 8)
    assert sum(result[name] for name in CLASS_NAMES) == pytest.approx(1.0)
    assert all(isinstance(result[f'n_{name}'], int) for name in CLASS_NAMES)


def test_fractions_sum_to_one_on_random_deviations():
    f = np.random.default_rng(3).exponential(0.2, 1000)
    result = class_fractions(classify_deviation(f, 0.05, 0.25))
    assert sum(result[name] for name in CLASS_NAMES) == pytest.approx(1.0)
    assert sum(result[f'n_{name}'] for name in CLASS_NAMES) == 1000


def test_fractions_of_no_frame_are_nan():
    result = class_fractions(np.zeros(0, dtype=int))
    assert all(np.isnan(result[name]) for name in CLASS_NAMES)
    assert all(result[f'n_{name}'] == 0 for name in CLASS_NAMES)


def test_fractions_refuse_unknown_codes():
    with pytest.raises(ValueError, match='classes'):
        class_fractions([0, 1, 3])


# --- fingerprints ----------------------------------------------------------------------


def test_fingerprint_of_two_atoms_across_the_boundary():
    box = 10.0
    positions = np.array([[[0.5, 5.0, 5.0], [9.2, 5.0, 5.0]]])  # 1.3 Å apart through x = 0, 8.7 Å inside
    fp = frame_fingerprints(positions, np.eye(3)[None] * box, ['O', 'B'], r_max=5.0, n_bins=25)
    # pairs in sorted order (B, B), (B, O), (O, O); dr = 0.2 Å, so 1.3 Å is bin 6 of (B, O)
    assert fp.shape == (1, 3 * 25)
    expected = np.zeros(75)
    expected[25 + 6] = 1.0 / 2.0  # one B-O pair, per atom
    np.testing.assert_array_equal(fp[0], expected)


def test_fingerprint_is_per_atom_so_supercells_compare():
    rng = np.random.default_rng(1)
    box = 11.0
    positions = rng.random((1, 40, 3)) * box
    species = np.where(np.arange(40) % 3 == 0, 'B', 'O')
    cell = np.eye(3) * box
    shifts = np.array(list(itertools.product((0, 1), repeat=3))) * box
    big = (positions[0][None, :, :] + shifts[:, None, :]).reshape(1, -1, 3)
    fp_small = frame_fingerprints(positions, cell[None], species, r_max=5.0)
    fp_big = frame_fingerprints(big, 2 * cell[None], np.tile(species, 8), r_max=5.0)
    np.testing.assert_allclose(fp_big, fp_small, rtol=1e-12)


def naive_fingerprint(positions, cell, species, r_max, n_bins):
    """O(N^2) reference: minimum image over 5^3 shifts, sorted elements, unordered pairs."""
    elements = sorted(set(species))
    pairs = [(a, b) for k, a in enumerate(elements) for b in elements[k:]]
    fp = np.zeros((len(pairs), n_bins))
    shifts = np.array(list(itertools.product(range(-2, 3), repeat=3))) @ cell
    for i in range(len(positions)):
        for j in range(i + 1, len(positions)):
            d = np.linalg.norm(positions[j] - positions[i] + shifts, axis=1).min()
            if d < r_max:
                key = tuple(sorted((species[i], species[j])))
                fp[pairs.index(key), int(d // (r_max / n_bins))] += 1.0
    return fp.ravel() / len(positions)


@pytest.mark.parametrize(
    'cell',
    [np.diag([12.0, 13.0, 14.0]), np.array([[12.0, 0.0, 0.0], [3.0, 12.5, 0.0], [-2.0, 2.5, 13.0]])],
    ids=['orthorhombic', 'triclinic'],
)
def test_fingerprint_equals_a_naive_loop(cell):
    rng = np.random.default_rng(7)
    n_atoms = 60
    frac = rng.random((2, n_atoms, 3)) * 1.6 - 0.3  # some atoms outside the cell
    positions = frac @ cell
    species = rng.choice(['Li', 'B', 'O'], n_atoms)
    r_max = 0.95 * max_cutoff(cell)
    fp = frame_fingerprints(positions, np.stack([cell, cell]), species, r_max=r_max, n_bins=17)
    assert fp.shape == (2, 6 * 17)
    for frame in range(2):
        np.testing.assert_allclose(fp[frame], naive_fingerprint(positions[frame], cell, species, r_max, 17))


def test_fingerprints_are_fast_enough():
    rng = np.random.default_rng(0)
    box = 11.5
    positions = rng.random((200, 100, 3)) * box
    species = np.array(['Li'] * 20 + ['B'] * 30 + ['O'] * 50)
    start = time.perf_counter()
    fp = frame_fingerprints(positions, np.broadcast_to(np.eye(3) * box, (200, 3, 3)), species)
    assert time.perf_counter() - start < 2.0  # well under 1 s on a quiet core
    assert fp.shape == (200, 6 * 25)


@pytest.mark.parametrize(('kwargs', 'field'), [({'r_max': 6.0}, 'r_max'), ({'r_max': -1.0}, 'r_max'),
                                               ({'n_bins': 0}, 'n_bins')])
def test_fingerprint_refuses_bad_arguments(kwargs, field):
    positions = np.zeros((1, 2, 3))
    with pytest.raises(ValueError, match=field):
        frame_fingerprints(positions, np.eye(3)[None] * 10.0, ['B', 'O'], **kwargs)


def test_fingerprint_refuses_wrong_species_length():
    with pytest.raises(ValueError, match='species'):
        frame_fingerprints(np.zeros((1, 2, 3)), np.eye(3)[None] * 10.0, ['B'])


# --- farthest-point order --------------------------------------------------------------


def test_farthest_point_on_a_line():
    points = np.array([[0.0], [1.0], [2.0], [10.0]])
    assert farthest_point_order(points, 4, 0) == [0, 3, 2, 1]  # 2 is 2 from 0, 1 only 1
    assert farthest_point_order(points, 2, 0) == [0, 3]
    assert farthest_point_order(points, 3, 3) == [3, 0, 2]  # 0 is 10 from 3; then 2 (d = 2 to 0)
    assert farthest_point_order(points, 10, 1) == [1, 3, 0, 2]  # tie 0 / 2 at 1: lowest index


def test_farthest_point_ties_and_duplicates():
    points = np.zeros((5, 3))
    points[3] = 1.0
    order = farthest_point_order(points, 5, 2)
    assert order == [2, 3, 0, 1, 4]
    assert sorted(order) == list(range(5))
    assert farthest_point_order(points, 0, 2) == []
    assert farthest_point_order(np.zeros((0, 2)), 3, 0) == []


@pytest.mark.parametrize(('k', 'first', 'field'), [(-1, 0, 'k'), (1.5, 0, 'k'), (True, 0, 'k'), (2, 4, 'first'),
                                                    (2, -1, 'first')])
def test_farthest_point_refuses_bad_arguments(k, first, field):
    with pytest.raises(ValueError, match=field):
        farthest_point_order(np.zeros((4, 2)), k, first)


# --- selection -------------------------------------------------------------------------


def clustered_run():
    """Twelve frames: accurate 0-1, candidates 2-9, failed 10-11.

    Candidates 2-5 are near-duplicates (cluster A), 6-7 cluster B, 8-9 cluster C; the
    failed frames have far-away features and the largest deviation.
    """
    classes = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2], dtype=np.int8)
    devi = np.array([0.01, 0.02, 0.15, 0.16, 0.14, 0.13, 0.12, 0.11, 0.17, 0.12, 9.0, np.nan])
    centres = {'A': [0.0, 0.0], 'B': [5.0, 0.0], 'C': [0.0, 5.0], 'far': [50.0, 50.0]}
    labels = ['far', 'far', 'A', 'A', 'A', 'A', 'B', 'B', 'C', 'C', 'far', 'far']
    offsets = np.random.default_rng(2).normal(0.0, 0.01, (12, 2))
    features = np.array([centres[label] for label in labels]) + offsets
    return classes, devi, features, labels


def test_spread_picks_distinct_clusters_where_first_picks_duplicates():
    classes, devi, features, labels = clustered_run()
    first = select_candidates(classes, devi, features, 3, method='first')
    np.testing.assert_array_equal(first, [2, 3, 4])
    assert {labels[i] for i in first} == {'A'}
    spread = select_candidates(classes, devi, features, 3, method='spread')
    # starts at frame 8 (largest candidate deviation, cluster C), then one of A and B each
    assert 8 in spread
    assert {labels[i] for i in spread} == {'A', 'B', 'C'}
    assert list(spread) == sorted(spread)


@pytest.mark.parametrize('method', SELECTION_METHODS)
@pytest.mark.parametrize('cap', [0, 1, 3, 8, 20])
def test_only_candidates_and_at_most_the_cap(method, cap):
    classes, devi, features, _ = clustered_run()
    picked = select_candidates(classes, devi, features, cap, method=method)
    assert picked.size == min(cap, 8)
    assert np.all(classes[picked] == CANDIDATE)
    assert np.unique(picked).size == picked.size
    assert list(picked) == sorted(picked)


def test_deviation_takes_the_largest():
    classes, devi, features, _ = clustered_run()
    np.testing.assert_array_equal(select_candidates(classes, devi, None, 2, method='deviation'), [3, 8])


def test_no_candidate_gives_nothing():
    classes = np.array([ACCURATE, FAILED, FAILED])
    for method in SELECTION_METHODS:
        picked = select_candidates(classes, [0.0, 1.0, np.nan], np.zeros((3, 4)), 5, method=method)
        assert picked.shape == (0,)


def test_selection_with_classify_and_fingerprints_end_to_end():
    rng = np.random.default_rng(4)
    box = 11.0
    positions = rng.random((30, 50, 3)) * box
    species = np.array(['B'] * 20 + ['O'] * 30)
    features = frame_fingerprints(positions, np.eye(3) * box, species)
    devi = rng.random(30)
    classes = classify_deviation(devi, 0.3, 0.8)
    picked = select_candidates(classes, devi, features, 5)
    assert picked.size == 5
    assert np.all((devi[picked] >= 0.3) & (devi[picked] < 0.8))
    candidates = np.flatnonzero(classes == CANDIDATE)
    assert candidates[np.argmax(devi[candidates])] in picked


@pytest.mark.parametrize(
    ('kwargs', 'field'),
    [({'max_labels': -1}, 'max_labels'), ({'max_labels': 2.0}, 'max_labels'), ({'max_labels': None}, 'max_labels'),
     ({'method': 'random'}, 'method'), ({'features': None}, 'features'), ({'features': np.zeros((3, 2))}, 'features')],
)
def test_selection_refuses_bad_arguments(kwargs, field):
    classes, devi, features, _ = clustered_run()
    arguments = {'max_labels': 3, 'method': 'spread', 'features': features, **kwargs}
    with pytest.raises(ValueError, match=field) as info:
        select_candidates(classes, devi, arguments['features'], arguments['max_labels'], method=arguments['method'])
    if field == 'method':
        assert all(name in str(info.value) for name in SELECTION_METHODS)


def test_selection_refuses_mismatched_deviation():
    classes, devi, features, _ = clustered_run()
    with pytest.raises(ValueError, match='max_devi_f'):
        select_candidates(classes, devi[:5], features, 3)


# --- adaptive lower trust level --------------------------------------------------------

#: eight frames: six below trust_hi = 0.5 eV/Å (sorted: 0.01 0.02 0.05 0.08 0.2 0.3), one beyond, one NaN
DEVIATIONS = np.array([0.01, 0.02, 0.3, 0.05, 0.08, 0.2, np.nan, 0.9])
WIDE = {'trust_lo_min_ev_a': 0.0, 'trust_lo_max_ev_a': 0.4}


def adapted(candidates=0, rate=0.0, deviations=DEVIATIONS, **bounds):
    return adaptive_trust_lo(deviations, 0.5, candidates, rate, **{**WIDE, **bounds})


@pytest.mark.parametrize(('candidates', 'rate', 'level'), [
    (3, 0.0, 0.08),   # the third largest below trust_hi
    (1, 0.0, 0.3),
    (0, 0.25, 0.2),   # ceil(0.25 x 8 frames) = 2: the NaN and the failed frame count in the rate
    (1, 0.25, 0.2),   # max(1, 2)
    (4, 0.25, 0.05),  # max(4, 2)
    (0, 0.3, 0.08),   # ceil(2.4) = 3
    (10, 0.0, 0.01),  # more wanted than there are: every frame below trust_hi is a candidate
])
def test_the_adapted_level_makes_the_target_number_of_candidates(candidates, rate, level):
    frozen = DEVIATIONS.copy()
    frozen.flags.writeable = False
    lo, reason = adaptive_trust_lo(frozen, 0.5, candidates, rate, **WIDE)
    assert lo == level and 'start at' in reason
    classes = classify_deviation(DEVIATIONS, lo, 0.5)
    expected = min(max(candidates, int(np.ceil(rate * DEVIATIONS.size))), 6)
    assert class_fractions(classes)['n_candidate'] == expected


def test_a_rate_of_the_frames_is_not_spoiled_by_round_off():
    deviations = np.linspace(0.001, 0.03, 30)  # 0.1 x 30 is 3.0000000000000004 in floats
    lo, _ = adaptive_trust_lo(deviations, 0.5, 0, 0.1, **WIDE)
    assert lo == deviations[-3]


def test_the_level_is_clipped_to_its_bounds():
    lo, reason = adapted(candidates=3, trust_lo_min_ev_a=0.1)
    assert lo == 0.1 and 'trust_lo_min_ev_a' in reason  # 0.08 raised: only 0.2 and 0.3 are candidates
    assert class_fractions(classify_deviation(DEVIATIONS, lo, 0.5))['n_candidate'] == 2
    lo, reason = adapted(candidates=1, trust_lo_max_ev_a=0.15)
    assert lo == 0.15 and 'trust_lo_max_ev_a' in reason  # 0.3 lowered: 0.2 joins


def test_an_ensemble_confident_everywhere_has_every_frame_accurate():
    deviations = np.array([0.001, 0.004, 0.002, 0.003])
    lo, reason = adapted(candidates=2, deviations=deviations, trust_lo_min_ev_a=0.05)
    assert lo == 0.05 and 'raised' in reason
    assert class_fractions(classify_deviation(deviations, lo, 0.5))['accurate'] == 1.0


@pytest.mark.parametrize('deviations', [np.array([0.5, 0.9, np.inf, np.nan]), np.zeros(0)])
def test_with_every_frame_failed_the_level_is_its_upper_bound(deviations):
    lo, reason = adapted(candidates=2, deviations=deviations, trust_lo_max_ev_a=0.35)
    assert lo == 0.35 and 'no frame' in reason


def test_non_finite_deviations_never_set_the_level():
    deviations = np.array([np.nan, np.inf, -np.inf, 0.1, 0.2])
    lo, _ = adapted(candidates=5, deviations=deviations)
    assert lo == 0.1  # only the two finite frames are counted
    np.testing.assert_array_equal(classify_deviation(deviations, lo, 0.5), [FAILED] * 3 + [CANDIDATE] * 2)


def test_equal_deviations_at_the_level_are_all_candidates():
    deviations = np.array([0.1, 0.2, 0.2, 0.2])
    lo, _ = adapted(candidates=2, deviations=deviations)
    assert lo == 0.2 and class_fractions(classify_deviation(deviations, lo, 0.5))['n_candidate'] == 3


@pytest.mark.parametrize(('arguments', 'field'), [
    ({'trust_hi': np.inf}, 'trust_hi must be'),
    ({'candidates': -1}, 'candidates must be an integer >= 0'),
    ({'candidates': 2.5}, 'candidates must be an integer >= 0'),
    ({'candidate_rate': 1.5}, 'candidate_rate must be a fraction in'),
    ({'candidate_rate': True}, 'candidate_rate must be a fraction in'),
    ({'candidates': 0, 'candidate_rate': 0.0}, 'candidates must be above 0 where candidate_rate is 0'),
    ({'trust_lo_min_ev_a': -0.1}, 'trust_lo_min_ev_a must be'),
    ({'trust_lo_max_ev_a': 0.5}, 'trust_lo_max_ev_a must be a force deviation in'),
    ({'trust_lo_min_ev_a': 0.3, 'trust_lo_max_ev_a': 0.2}, 'trust_lo_max_ev_a must be a force deviation in'),
])
def test_bad_adaptive_settings_are_refused_in_one_line(arguments, field):
    values = {'trust_hi': 0.5, 'candidates': 2, 'candidate_rate': 0.1, **WIDE, **arguments}
    with pytest.raises(ValueError) as info:
        adaptive_trust_lo(DEVIATIONS, values.pop('trust_hi'), **values)
    assert str(info.value).startswith(field) and '\n' not in str(info.value)
