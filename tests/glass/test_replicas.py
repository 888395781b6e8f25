"""Replica seeds, link labels and statistics (pure functions, no AiiDA)."""
import numpy as np
import pytest

from aiida_boroglass.glass.replicas import (
    REPLICA_RANGE,
    REPLICA_SEED_STRIDE,
    composition_of_key,
    replica_key,
    replica_seed,
    replica_statistics,
)


@pytest.mark.parametrize('seed', [1, 12345, 4928459, 2**31 - 1])
def test_replica_seeds_are_distinct_valid_and_start_at_the_given_seed(seed):
    seeds = [replica_seed(seed, replica) for replica in range(REPLICA_RANGE[1])]
    assert seeds[0] == seed
    assert len(set(seeds)) == len(seeds)
    assert all(1 <= value <= 2**31 - 1 for value in seeds)


def test_replica_seeds_step_by_the_stride_and_stay_clear_of_the_packing_retries():
    """A packing retry takes seed + 1: the next replica's seed is far from it."""
    assert replica_seed(12345, 2) - replica_seed(12345, 1) == REPLICA_SEED_STRIDE
    assert replica_seed(2**31 - 1, 1) == REPLICA_SEED_STRIDE  # wraps into [1, 2**31 - 1]


@pytest.mark.parametrize('key', ['x0300', 'x1000', 'glass_a', 'r_rich'])
@pytest.mark.parametrize('replicas', [1, 3])
def test_the_composition_key_is_read_back_from_the_link_label(key, replicas):
    for replica in range(replicas):
        label = replica_key(key, replica, replicas)
        assert composition_of_key(label) == (key, replica)
    assert replica_key(key, 0, 1) == key


def test_statistics_equal_numpys_mean_and_sample_standard_deviation():
    rows = [{'n4': 0.276, 'density_g_cm3': 2.069}, {'n4': 0.345, 'density_g_cm3': 2.090},
            {'n4': 0.301, 'density_g_cm3': 2.081}]
    stats = replica_statistics(rows, ('n4', 'density_g_cm3'))
    assert stats['n4']['mean'] == pytest.approx(np.mean([0.276, 0.345, 0.301]))
    assert stats['n4']['std'] == pytest.approx(np.std([0.276, 0.345, 0.301], ddof=1))
    # by hand: mean 2.080, deviations -0.011, 0.010, 0.001 -> sqrt(222e-6 / 2)
    assert stats['density_g_cm3']['std'] == pytest.approx(0.0105357, abs=1e-7)


def test_one_replica_has_a_mean_and_no_spread():
    stats = replica_statistics([{'n4': 0.4}], ('n4',))
    assert stats == {'n4': {'mean': 0.4, 'std': None}}
