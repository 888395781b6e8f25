"""Calcfunctions of the machine-learning potentials: the validation table of a model ensemble."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

#: RMSEs of the validation table, each with its mean and standard deviation over the models
RMSE_KEYS = ('energy_rmse_ev_per_atom', 'force_rmse_ev_a')


def ensemble_table(validation: Mapping[str, Mapping]) -> dict:
    """Validation RMSEs per model, with their mean and standard deviation over the ensemble.

    Parameters
    ----------
    validation : Mapping
        Model key -> the ``validation`` Dict of its training job (:data:`RMSE_KEYS` in eV/atom, eV/Å).

    Returns
    -------
    dict
        ``models`` (key -> the RMSEs), and for each RMSE key ``<key>_mean`` and ``<key>_std``
        (population standard deviation over the models), same units.
    """
    table = {'models': {key: {name: values[name] for name in RMSE_KEYS} for key, values in validation.items()}}
    for name in RMSE_KEYS:
        values = np.array([row[name] for row in validation.values()])
        table[f'{name}_mean'] = float(values.mean())
        table[f'{name}_std'] = float(values.std())
    return table


def force_deviation_statistics(max_devi_f: np.ndarray) -> dict:
    """Mean, median and largest of an ensemble's per-frame largest force deviation.

    Parameters
    ----------
    max_devi_f : np.ndarray
        (n_rows,) largest force deviation over the atoms of each evaluated frame, eV/Å (the
        ``max_devi_f`` array of a ``model_deviation`` output).

    Returns
    -------
    dict
        ``rows`` (int), ``mean_ev_a``, ``median_ev_a``, ``max_ev_a`` (eV/Å; NaN without rows).
    """
    values = np.asarray(max_devi_f, dtype=float)
    if values.size == 0:
        return {'rows': 0, 'mean_ev_a': float('nan'), 'median_ev_a': float('nan'), 'max_ev_a': float('nan')}
    return {'rows': int(values.size), 'mean_ev_a': float(values.mean()), 'median_ev_a': float(np.median(values)),
            'max_ev_a': float(values.max())}


@calcfunction
def ensemble_validation(**validation: orm.Dict) -> orm.Dict:
    """The validation table (:func:`ensemble_table`) of the models' ``validation`` Dicts, keyed by model."""
    return orm.Dict(ensemble_table({key: node.get_dict() for key, node in validation.items()}))
