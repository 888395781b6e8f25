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


@calcfunction
def ensemble_validation(**validation: orm.Dict) -> orm.Dict:
    """The validation table (:func:`ensemble_table`) of the models' ``validation`` Dicts, keyed by model."""
    return orm.Dict(ensemble_table({key: node.get_dict() for key, node in validation.items()}))
