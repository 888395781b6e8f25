"""Independent replicas of one glass: their seeds, link labels and the spread of their properties.

The papers make each glass three times from independent packings and velocities and report
the mean and spread; a screening does the same with ``replicas``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: Seed shift between replicas (prime, far beyond the packing retries' seed + 1 steps).
REPLICA_SEED_STRIDE = 1009
#: Replicas a screening accepts per composition.
REPLICA_RANGE = (1, 50)
#: Quantities of a glass averaged over its replicas, with their units in the key.
REPLICA_QUANTITIES = ('density_g_cm3', 'n4', 'nbo_fraction', 'bo_fraction')


def replica_seed(seed: int, replica: int) -> int:
    """The seed of replica ``replica`` (0: ``seed`` itself), kept in LAMMPS's and packmol's [1, 2**31 - 1]."""
    return (seed - 1 + REPLICA_SEED_STRIDE * replica) % (2**31 - 1) + 1


def replica_key(key: str, replica: int, replicas: int) -> str:
    """Link label of one glass: the composition key alone for a single replica, else ``{key}_r{replica}``."""
    return key if replicas == 1 else f'{key}_r{replica}'


def composition_of_key(label: str) -> tuple[str, int]:
    """``(composition key, replica)`` of a glass's link label (inverse of :func:`replica_key`)."""
    key, _, replica = label.rpartition('_r')
    return (key, int(replica)) if key and replica.isdigit() else (label, 0)


def replica_statistics(rows: Sequence[Mapping], quantities: Sequence[str] = REPLICA_QUANTITIES) -> dict[str, dict]:
    """Mean and sample standard deviation of ``quantities`` over the rows of one composition.

    Parameters
    ----------
    rows : sequence of mapping, length n_replicas
        One row per replica holding every quantity (units as in the key names).
    quantities : sequence of str
        The keys to average.

    Returns
    -------
    dict
        ``{quantity: {'mean': float, 'std': float or None}}``; ``std`` (ddof = 1) is None for one replica.
    """
    stats = {}
    for quantity in quantities:
        values = np.array([row[quantity] for row in rows], dtype=float)
        std = float(np.std(values, ddof=1)) if len(values) > 1 else None
        stats[quantity] = {'mean': float(np.mean(values)), 'std': std}
    return stats
