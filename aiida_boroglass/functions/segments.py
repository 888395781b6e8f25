"""Calcfunction that joins the segments of a restarted LAMMPS run into the whole run."""
from __future__ import annotations

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.analysis.segments import check_increasing, kept_rows
from aiida_boroglass.calculations.lammps_inputs import DEFORM_THERMO_COLUMNS, THERMO_COLUMNS
from aiida_boroglass.functions.exit_codes import returns_exit_codes


@calcfunction
@returns_exit_codes
def join_lammps_segments(plan: orm.Dict, **segments) -> dict:
    """Join thermo, trajectory and model deviation of the segments of one restarted run (continuous time, no repeated frame).

    Parameters
    ----------
    plan : Dict
        ``segments``: one dict per segment, in run order, with ``stages`` (names of the stages
        it ran), ``cut_stage`` and ``cut_step`` (where the next segment continues; ``None``
        for the last), ``dump_stage`` (the stage that wrote frames, or ``None``) and
        ``timestep_fs`` (fs).
    **segments : ArrayData, TrajectoryData
        ``thermo_<i>`` of every segment ``i``, ``trajectory_<i>`` of those that wrote frames and
        ``model_deviation_<i>`` of those that wrote a DeePMD model deviation.

    Returns
    -------
    dict
        ``thermo`` (ArrayData, arrays ``<stage>_<column>`` in LAMMPS metal units; attributes
        ``stage_names``, ``units``, ``segments`` and ``timesteps_fs``) and, when any segment
        wrote frames, ``trajectory`` (TrajectoryData: unwrapped positions and cells in Å,
        times in ps; step ids count the smallest time step of the run); when any segment wrote
        one, ``model_deviation`` (ArrayData, the arrays of the parser's output, rows ordered by
        stage and then time, ``stage_index`` into the attribute ``stage_names`` of the whole run).
    """
    parts = plan.get_dict()['segments']
    outputs = {'thermo': _join_thermo(parts, [segments[f'thermo_{i}'] for i in range(len(parts))])}
    frames = {i: segments[f'trajectory_{i}'] for i in range(len(parts)) if f'trajectory_{i}' in segments}
    if frames:
        outputs['trajectory'] = _join_trajectories(parts, frames)
    deviations = {i: segments[f'model_deviation_{i}'] for i in range(len(parts)) if f'model_deviation_{i}' in segments}
    if deviations:
        outputs['model_deviation'] = _join_model_deviations(parts, deviations)
    return outputs


def _join_thermo(parts: list[dict], thermos: list[orm.ArrayData]) -> orm.ArrayData:
    """Concatenate the kept thermo rows of every stage over the segments."""
    names = list(dict.fromkeys(name for part in parts for name in part['stages']))
    joined = orm.ArrayData()
    for name in names:
        wide = any(f'{name}_{DEFORM_THERMO_COLUMNS[-1]}' in thermo.get_arraynames() for thermo in thermos)
        columns = DEFORM_THERMO_COLUMNS if wide else THERMO_COLUMNS  # a deform stage prints the pressure tensor too
        pieces = {column: [] for column in columns}
        for part, thermo in zip(parts, thermos):
            if f'{name}_step' not in thermo.get_arraynames():
                continue
            keep = kept_rows(thermo.get_array(f'{name}_step'), name, part['stages'], part['cut_stage'], part['cut_step'])
            for column in columns:
                pieces[column].append(thermo.get_array(f'{name}_{column}')[keep])
        for column, arrays in pieces.items():
            joined.set_array(f'{name}_{column}', np.concatenate(arrays) if arrays else np.zeros(0))
        if pieces['time']:
            check_increasing(joined.get_array(f'{name}_time'), f'thermo of stage {name}')
    joined.base.attributes.set('stage_names', names)
    joined.base.attributes.set('units', thermos[-1].base.attributes.get('units'))
    joined.base.attributes.set('segments', len(parts))
    joined.base.attributes.set('timesteps_fs', [part['timestep_fs'] for part in parts])
    return joined


def _join_trajectories(parts: list[dict], frames: dict[int, orm.TrajectoryData]) -> orm.TrajectoryData:
    """Concatenate the kept frames of the segments' trajectories, in their class and precision (a run's segments share them)."""
    positions, cells, times = [], [], []
    for index, trajectory in frames.items():
        part = parts[index]
        keep = kept_rows(trajectory.get_stepids(), part['dump_stage'], part['stages'], part['cut_stage'], part['cut_step'])
        positions.append(trajectory.get_positions()[keep])
        cells.append(trajectory.get_cells()[keep])
        times.append(trajectory.get_times()[keep])
    times = np.concatenate(times)
    check_increasing(times, 'trajectory')
    smallest_step_ps = min(part['timestep_fs'] for part in parts) * 1e-3
    first = next(iter(frames.values()))
    joined = type(first)()
    joined.set_trajectory(symbols=first.symbols, positions=np.concatenate(positions), cells=np.concatenate(cells),
                          times=times, stepids=np.rint(times / smallest_step_ps).astype(int), pbc=first.pbc)
    for key in ('units', 'unwrapped'):
        joined.base.attributes.set(key, first.base.attributes.get(key))
    return joined


def _join_model_deviations(parts: list[dict], deviations: dict[int, orm.ArrayData]) -> orm.ArrayData:
    """Concatenate the kept model-deviation rows of every stage over the segments, stage by stage."""
    names = list(dict.fromkeys(name for part in parts for name in part['stages']))
    columns = [name for name in next(iter(deviations.values())).get_arraynames() if name != 'stage_index']
    pieces = {column: [] for column in [*columns, 'stage_index']}
    for position, name in enumerate(names):
        times = []
        for index, deviation in deviations.items():
            part = parts[index]
            if name not in part['stages']:
                continue
            rows = deviation.get_array('stage_index') == part['stages'].index(name)
            keep = kept_rows(deviation.get_array('steps')[rows], name, part['stages'], part['cut_stage'], part['cut_step'])
            for column in columns:
                pieces[column].append(deviation.get_array(column)[rows][keep])
            pieces['stage_index'].append(np.full(int(keep.sum()), position))
            times.append(deviation.get_array('time_ps')[rows][keep])
        if times:
            check_increasing(np.concatenate(times), f'model deviation of stage {name}')
    joined = orm.ArrayData()
    for column, arrays in pieces.items():
        joined.set_array(column, np.concatenate(arrays))
    joined.base.attributes.set('stage_names', names)
    joined.base.attributes.set('units', next(iter(deviations.values())).base.attributes.get('units'))
    return joined
