"""Calcfunctions of the machine-learning potentials: validation tables, frame selection, the learning report."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.analysis.neighbors import max_cutoff
from aiida_boroglass.analysis.selection import (
    ADAPTIVE_KEYS,
    CLASS_NAMES,
    adaptive_trust_lo,
    class_fractions,
    classify_deviation,
    frame_fingerprints,
    select_candidates,
)
from aiida_boroglass.functions.exit_codes import returns_exit_codes
from aiida_boroglass.functions.labels import frame_key

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


#: widest pair distance of the selection fingerprints, Å (less in cells narrower than twice this)
FINGERPRINT_R_MAX_A = 5.0


def frame_deviations(frame_steps: np.ndarray, deviation_steps: np.ndarray, max_devi_f: np.ndarray) -> np.ndarray:
    """The model deviation row of every dumped frame, matched by MD step.

    Parameters
    ----------
    frame_steps : np.ndarray
        (n_frames,) MD step of every frame of a trajectory.
    deviation_steps, max_devi_f : np.ndarray
        (n_rows,) MD step and largest force deviation (eV/Å) of every row of a model deviation.

    Returns
    -------
    np.ndarray
        (n_frames,) the frame's ``max_devi_f`` (eV/Å), NaN for a frame without a row.
    """
    by_step = dict(zip(np.asarray(deviation_steps).tolist(), np.asarray(max_devi_f, dtype=float).tolist()))
    return np.array([by_step.get(step, np.nan) for step in np.asarray(frame_steps).tolist()], dtype=float)


def explored_frames(trajectories: Mapping[str, orm.TrajectoryData],
                    deviations: Mapping[str, orm.ArrayData]) -> tuple[list[tuple[str, int, int]], np.ndarray]:
    """Every dumped frame after step 0 that has a model deviation row (NaN: failed), pooled over the runs in name order.

    The frame at step 0 of a run is its starting structure, which is known (it comes from the
    dataset or was given): it is neither classified nor labelled.

    Returns
    -------
    list of (str, int, int)
        Run name, frame index in its trajectory and MD step of every pooled frame.
    np.ndarray
        (n_pooled,) ``max_devi_f`` of every pooled frame, eV/Å.
    """
    origins, values = [], []
    for name in sorted(trajectories):
        steps = trajectories[name].get_stepids()
        deviation = deviations[name]
        rows = deviation.get_array('steps')
        matched = frame_deviations(steps, rows, deviation.get_array('max_devi_f'))
        for frame in np.flatnonzero(np.isin(steps, rows) & (steps > 0)):
            origins.append((name, int(frame), int(steps[frame])))
            values.append(matched[frame])
    return origins, np.array(values, dtype=float)


def pooled_positions(trajectories: Mapping[str, orm.TrajectoryData],
                     origins: list[tuple[str, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Positions (n_pooled, n_atoms, 3) Å and cells (n_pooled, 3, 3) Å of the pooled frames."""
    arrays = {name: (node.get_positions(), node.get_cells()) for name, node in trajectories.items()}
    positions = np.array([arrays[name][0][frame] for name, frame, _ in origins])
    cells = np.array([arrays[name][1][frame] for name, frame, _ in origins])
    return positions, cells


def condition_rows(origins: list[tuple[str, int, int]], classes: np.ndarray, max_devi_f: np.ndarray) -> dict:
    """Per exploration run: frames, frames of each class and mean finite ``max_devi_f`` (eV/Å; None if none is)."""
    rows = {}
    for name in sorted({origin[0] for origin in origins}):
        mine = np.array([origin[0] == name for origin in origins])
        counts = class_fractions(classes[mine])
        finite = max_devi_f[mine & np.isfinite(max_devi_f)]
        rows[name] = {'n_frames': int(mine.sum()), **{f'n_{c}': counts[f'n_{c}'] for c in CLASS_NAMES},
                      'max_devi_f_mean_ev_a': float(finite.mean()) if finite.size else None}
    return rows


def trust_lo_of(settings: Mapping, max_devi_f: np.ndarray) -> tuple[float, str]:
    """The lower trust level of an iteration (eV/Å) and why.

    Parameters
    ----------
    settings : Mapping
        Learning settings: ``trust_mode`` (``fixed`` when absent: ``trust_lo_ev_a``;
        ``adaptive``: :func:`~aiida_boroglass.analysis.selection.adaptive_trust_lo` with
        ``trust_hi_ev_a`` and the ``adaptive`` settings).
    max_devi_f : np.ndarray
        (n_frames,) largest force deviation of every explored frame, eV/Å.
    """
    if settings.get('trust_mode', 'fixed') == 'fixed':
        return settings['trust_lo_ev_a'], 'fixed'
    adaptive = settings['adaptive']
    return adaptive_trust_lo(max_devi_f, settings['trust_hi_ev_a'], *(adaptive[key] for key in ADAPTIVE_KEYS))


@calcfunction
@returns_exit_codes
def select_frames(learning: orm.Dict, **explored) -> dict:
    """Classify every explored frame by its model deviation and select the candidates to label.

    Parameters
    ----------
    learning : Dict
        ``trust_lo_ev_a``, ``trust_hi_ev_a`` (eV/Å), ``max_labels``, ``selection``, and
        ``trust_mode`` with the ``adaptive`` settings (:func:`trust_lo_of`; other keys ignored).
    **explored
        ``trajectories`` ({run name: TrajectoryData}, frames with ``steps`` and cells, Å) and
        ``deviations`` ({run name: ArrayData}, the runs' ``model_deviation``: ``steps``,
        ``max_devi_f`` eV/Å), the same names. Frames are matched to deviation rows by step.

    Returns
    -------
    dict
        ``selection`` (Dict: ``n_frames``, the trust levels used ``trust_lo_ev_a`` and
        ``trust_hi_ev_a`` (eV/Å) with ``trust_reason``, ``counts``, ``fractions`` of the classes accurate /
        candidate / failed, ``conditions`` per run, ``selected``: key, run, frame, step and
        ``max_devi_f_ev_a`` of every selected frame, ``fingerprint_r_max_a``) and ``structures``
        ({``<run>_frame_<index>``: StructureData}, the selected frames, Å).
    """
    settings = learning.get_dict()
    trajectories, deviations = explored.get('trajectories', {}), explored.get('deviations', {})
    if not trajectories or set(trajectories) != set(deviations):
        raise ValueError(f'trajectories/deviations: need both for every run, got {sorted(trajectories)} and '
                         f'{sorted(deviations)}')
    origins, max_devi_f = explored_frames(trajectories, deviations)
    if not origins:
        raise ValueError('deviations: no dumped frame has a model deviation row (dump and deviation every '
                         'deviation_every steps)')
    trust_lo, reason = trust_lo_of(settings, max_devi_f)
    classes = classify_deviation(max_devi_f, trust_lo, settings['trust_hi_ev_a'])
    positions, cells = pooled_positions(trajectories, origins)
    r_max = min(FINGERPRINT_R_MAX_A, min(max_cutoff(cell) for cell in cells))
    symbols = list(next(iter(trajectories.values())).symbols)
    features = frame_fingerprints(positions, cells, symbols, r_max=r_max)
    chosen = select_candidates(classes, max_devi_f, features, settings['max_labels'], settings['selection'])
    counts = class_fractions(classes)
    selected = [{'key': f'{origins[i][0]}_{frame_key(origins[i][1])}', 'run': origins[i][0], 'frame': origins[i][1],
                 'step': origins[i][2], 'max_devi_f_ev_a': float(max_devi_f[i])} for i in chosen]
    selection = orm.Dict({
        'n_frames': len(origins), 'trust_lo_ev_a': float(trust_lo), 'trust_hi_ev_a': float(settings['trust_hi_ev_a']),
        'trust_reason': reason, 'counts': {name: counts[f'n_{name}'] for name in CLASS_NAMES},
        'fractions': {name: counts[name] for name in CLASS_NAMES},
        'conditions': condition_rows(origins, classes, max_devi_f), 'selected': selected,
        'fingerprint_r_max_a': float(r_max),
    })
    structures = {row['key']: trajectories[row['run']].get_step_structure(row['frame']) for row in selected}
    return {'selection': selection, 'structures': structures}


#: columns of a learning report row that are wall times, s
TIMING_KEYS = ('train_s', 'explore_s', 'select_s', 'label_s', 'iteration_s')


def report_row(iteration: str, selection: Mapping, validation: Mapping | None, n_labels: int, timing: Mapping) -> dict:
    """One row of the learning report.

    Parameters
    ----------
    iteration : str
        Key of the iteration.
    selection : Mapping
        The iteration's ``select_frames`` Dict.
    validation : Mapping or None
        Validation table of the iteration's ensemble (:func:`ensemble_table`).
    n_labels : int
        Frames labelled and added in the iteration.
    timing : Mapping
        Wall times of :data:`TIMING_KEYS` (s) and ``dataset_frames`` (frames trained on).

    Returns
    -------
    dict
        ``iteration``, ``dataset_frames``, ``n_explored``, ``trust_lo_ev_a`` and ``trust_hi_ev_a``
        (eV/Å, None for a selection made before they were recorded), ``accurate``/``candidate``/``failed``
        (fractions), ``labels_added``, the validation RMSE means and spreads (eV/atom, eV/Å;
        None without a table), the wall times (s) and ``bookkeeping_s``: the iteration's wall
        time not spent in its steps.
    """
    validation = validation or {}
    rmse = {f'{name}_{stat}': validation.get(f'{name}_{stat}') for name in RMSE_KEYS
            for stat in ('mean', 'std')}
    times = {key: float(timing.get(key, 0.0)) for key in TIMING_KEYS}
    steps = sum(value for key, value in times.items() if key != 'iteration_s')
    return {'iteration': iteration, 'dataset_frames': int(timing.get('dataset_frames', 0)),
            'n_explored': int(selection['n_frames']), 'trust_lo_ev_a': selection.get('trust_lo_ev_a'),
            'trust_hi_ev_a': selection.get('trust_hi_ev_a'), **selection['fractions'], 'labels_added': int(n_labels),
            **rmse, **times, 'bookkeeping_s': max(0.0, times['iteration_s'] - steps)}


@calcfunction
def learning_report(settings: orm.Dict, **records) -> orm.Dict:
    """The per-iteration table of a concurrent-learning run.

    Parameters
    ----------
    settings : Dict
        ``learning`` (the loop's settings) and ``timing`` ({iteration: wall times, s, and
        ``dataset_frames``}).
    **records
        ``selection``, ``validation`` ({iteration: Dict}) and ``labels`` ({iteration: the
        labelled TrajectoryData}); an iteration that labelled nothing has no ``labels``.

    Returns
    -------
    Dict
        ``learning`` (the settings) and ``iterations``: :func:`report_row` of every iteration, in order.
    """
    values = settings.get_dict()
    selection, validation, labels = (records.get(name, {}) for name in ('selection', 'validation', 'labels'))
    rows = [report_row(key, selection[key].get_dict(), validation[key].get_dict() if key in validation else None,
                       len(labels[key].get_array('energies')) if key in labels else 0, values['timing'].get(key, {}))
            for key in sorted(selection)]
    return orm.Dict({'learning': values['learning'], 'iterations': rows})
