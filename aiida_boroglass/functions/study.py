"""Paper 001's study: one composition made with a machine-learnt potential and with the classical force field.

Each potential makes the same glass in independent replicas; :func:`compare_potentials` puts
their density, N4, NBO fraction, 3-rings and neutron S(Q) side by side (mean and spread over
replicas), and the ensemble's force deviation along the quench next to them as the
uncertainty of the machine-learnt glass.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.analysis.scattering import r_chi
from aiida_boroglass.functions.exit_codes import returns_exit_codes
from aiida_boroglass.glass.replicas import composition_of_key, replica_statistics

#: The two potentials of a study, in table order.
POTENTIALS = ('classical', 'mlp')
#: Quantities compared per glass (units in the names; rings per network-former atom).
STUDY_QUANTITIES = ('density_g_cm3', 'n4', 'nbo_fraction', 'three_rings_per_former', 'boroxol_fraction')


def glass_quantities(density_g_cm3: float, boron: Mapping, oxygen: Mapping, rings: Mapping) -> dict[str, float]:
    """The :data:`STUDY_QUANTITIES` of one glass from its melt-quench and medium-range outputs.

    Parameters
    ----------
    density_g_cm3 : float
        Density of the glass, g/cm^3.
    boron, oxygen : Mapping
        The melt-quench's ``boron`` (``n4``) and ``oxygen`` (``nbo_fraction``) Dicts.
    rings : Mapping
        The medium-range ``rings`` Dict: ``per_former_by_formers`` (``{size: rings per former
        atom}``, sizes without a ring left out) and ``boroxol_fraction``.
    """
    return {'density_g_cm3': float(density_g_cm3), 'n4': float(boron['n4']),
            'nbo_fraction': float(oxygen['nbo_fraction']),
            'three_rings_per_former': float(rings['per_former_by_formers'].get('3', 0.0)),
            'boroxol_fraction': float(rings['boroxol_fraction'])}


def nominal_quench_temperature(steps: np.ndarray, melt_k: float, final_k: float) -> np.ndarray:
    """Temperature of the linear quench ramp at each step, from ``melt_k`` at the first to ``final_k`` at the last.

    Parameters
    ----------
    steps : np.ndarray
        (n_rows,) MD steps of the quench's model-deviation rows, increasing.
    melt_k, final_k : float
        Temperatures at the start and the end of the ramp, K.

    Returns
    -------
    np.ndarray
        (n_rows,) K.
    """
    steps = np.asarray(steps, dtype=float)
    span = steps[-1] - steps[0] if steps.size else 0.0
    fraction = (steps - steps[0]) / span if span > 0 else np.zeros_like(steps)
    return melt_k + (final_k - melt_k) * fraction


def curve_spread(curves: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample standard deviation (ddof = 1; zeros for one curve) of curves on one grid.

    Parameters
    ----------
    curves : sequence of np.ndarray
        n_replicas curves of shape (n_points,).

    Returns
    -------
    (np.ndarray, np.ndarray)
        Mean and standard deviation, each (n_points,).
    """
    stack = np.asarray(curves, dtype=float)
    std = stack.std(axis=0, ddof=1) if len(stack) > 1 else np.zeros(stack.shape[1])
    return stack.mean(axis=0), std


def split_glass_inputs(glasses: Mapping) -> dict[str, dict[str, dict]]:
    """``{potential: {replica label: {name: node}}}`` of inputs keyed ``{potential}_r{replica}__{name}``.

    Replicas in numeric order; potentials outside :data:`POTENTIALS` are left out.
    """
    grouped: dict[str, dict[int, tuple[str, dict]]] = {}
    for key, node in glasses.items():
        label, name = key.split('__')
        potential, replica = composition_of_key(label)
        if potential == label:  # no replica suffix: not a glass of the study
            continue
        grouped.setdefault(potential, {}).setdefault(replica, (label, {}))[1][name] = node
    return {potential: dict(grouped[potential][replica] for replica in sorted(grouped[potential]))
            for potential in POTENTIALS if potential in grouped}


@calcfunction
@returns_exit_codes
def compare_potentials(schedule: orm.Dict, **glasses) -> dict:
    """The study's table, mean neutron S(Q) per potential and the ensemble's force deviation along the quench.

    Parameters
    ----------
    schedule : Dict
        The melt-quench schedule (``melt_temperature_k``, ``final_temperature_k``, K).
    **glasses
        Per glass ``{potential}_r{replica}__{name}`` with potential ``classical`` or ``mlp`` and
        name ``density`` (Float, g/cm^3), ``boron``, ``oxygen``, ``rings`` (Dict), ``neutron``
        (ArrayData: ``q_a``, ``s_total``); the ``mlp`` glasses also ``deviation`` (ArrayData:
        the melt-quench's model deviation, ``steps``, ``stage_index`` into the ``stage_names``
        attribute, ``max_devi_f`` in eV/Å; its ``quench`` stage is used).

    Returns
    -------
    dict
        ``comparison`` (Dict: per potential ``replicas`` and ``{quantity: {mean, std, values}}``,
        ``sq_r_chi`` (Wright's R_chi of the mean MLP S(Q) against the classical one),
        ``quench_deviation_ev_a`` (mean, median and max of ``max_devi_f`` over the replicas'
        quenches)); ``structure_factors`` (ArrayData: ``q_a``, ``s_{potential}_mean``,
        ``s_{potential}_std``); ``quench_deviation`` (ArrayData: ``temperature_k`` nominal
        ramp, ``max_devi_f`` eV/Å, ``replica``, one row per model-deviation row).
    """
    grouped = split_glass_inputs(glasses)
    missing = [potential for potential in POTENTIALS if potential not in grouped]
    if missing:
        raise ValueError(f'no glass of {missing}')
    comparison, factors = {}, orm.ArrayData()
    for potential, replicas in grouped.items():
        rows = [glass_quantities(glass['density'].value, glass['boron'], glass['oxygen'], glass['rings'])
                for glass in replicas.values()]
        stats = replica_statistics(rows, STUDY_QUANTITIES)
        comparison[potential] = {'replicas': len(rows), **{
            quantity: {**stats[quantity], 'values': [row[quantity] for row in rows]} for quantity in STUDY_QUANTITIES}}
        q = next(iter(replicas.values()))['neutron'].get_array('q_a')
        mean, std = curve_spread([glass['neutron'].get_array('s_total') for glass in replicas.values()])
        factors.set_array('q_a', q)
        factors.set_array(f's_{potential}_mean', mean)
        factors.set_array(f's_{potential}_std', std)
    q = factors.get_array('q_a')
    comparison['sq_r_chi'] = r_chi(q, factors.get_array('s_classical_mean'), q, factors.get_array('s_mlp_mean'))
    deviation = quench_deviation(grouped['mlp'], schedule['melt_temperature_k'], schedule['final_temperature_k'])
    values = deviation.get_array('max_devi_f')
    comparison['quench_deviation_ev_a'] = {'rows': int(values.size), 'mean': float(values.mean()),
                                           'median': float(np.median(values)), 'max': float(values.max())}
    factors.base.attributes.set('units', {'q_a': '1/Å', 's': 'dimensionless (Faber-Ziman, neutron)'})
    return {'comparison': orm.Dict(comparison), 'structure_factors': factors, 'quench_deviation': deviation}


def quench_deviation(replicas: Mapping[str, Mapping], melt_k: float, final_k: float) -> orm.ArrayData:
    """The MLP replicas' quench force deviations on the nominal temperature ramp, one row per deviation row."""
    temperatures, deviations, labels = [], [], []
    for index, glass in enumerate(replicas.values()):
        deviation = glass['deviation']
        rows = deviation.get_array('stage_index') == deviation.base.attributes.get('stage_names').index('quench')
        steps = deviation.get_array('steps')[rows]
        temperatures.append(nominal_quench_temperature(steps, melt_k, final_k))
        deviations.append(deviation.get_array('max_devi_f')[rows])
        labels.append(np.full(steps.size, index))
    node = orm.ArrayData()
    node.set_array('temperature_k', np.concatenate(temperatures))
    node.set_array('max_devi_f', np.concatenate(deviations))
    node.set_array('replica', np.concatenate(labels))
    node.base.attributes.set('units', {'temperature_k': 'K (nominal ramp)', 'max_devi_f': 'eV/Å', 'replica': 'index'})
    return node
