"""Melt-quench schedules in physical units, turned into LAMMPS stages (no AiiDA).

The classical protocol of papers 002 and 004: melt in NVT at ``melt_temperature_k``,
quench in NPT at zero pressure at ``cooling_rate_k_ps`` to ``final_temperature_k``, relax
in NVT then NPT at that temperature, then an NVT production run that writes frames.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

#: Keys of a schedule with their units (documentation and validation).
SCHEDULE_KEYS = {
    'melt_temperature_k': 'K',
    'final_temperature_k': 'K',
    'push_off_ps': 'ps',
    'melt_ps': 'ps',
    'cooling_rate_k_ps': 'K/ps',
    'relax_nvt_ps': 'ps',
    'relax_npt_ps': 'ps',
    'production_ps': 'ps',
    'dump_every_ps': 'ps',
    'pressure_gpa': 'GPa',
}
PHASES = ('melt', 'quench', 'relax', 'production')


def validate_schedule(schedule: Mapping) -> str | None:
    """Return a message naming the bad field of a schedule, or ``None`` when it is valid.

    Parameters
    ----------
    schedule : Mapping
        The keys of :data:`SCHEDULE_KEYS` (all required), in the units given there.

    Returns
    -------
    str or None
        The problem, with the allowed values, or ``None``.
    """
    message = _keys_and_numbers(schedule, SCHEDULE_KEYS)
    if message:
        return message
    for key in ('melt_temperature_k', 'final_temperature_k', 'cooling_rate_k_ps', 'dump_every_ps', 'production_ps'):
        if not schedule[key] > 0:
            return f'schedule.{key}: must be > 0 {SCHEDULE_KEYS[key]}, got {schedule[key]}'
    for key in ('push_off_ps', 'melt_ps', 'relax_nvt_ps', 'relax_npt_ps'):
        if schedule[key] < 0:
            return f'schedule.{key}: must be >= 0 {SCHEDULE_KEYS[key]}, got {schedule[key]}'
    if schedule['melt_temperature_k'] <= schedule['final_temperature_k']:
        return (f'schedule.melt_temperature_k: {schedule["melt_temperature_k"]} K must exceed '
                f'final_temperature_k ({schedule["final_temperature_k"]} K)')
    if schedule['dump_every_ps'] > schedule['production_ps']:
        return f'schedule.dump_every_ps: {schedule["dump_every_ps"]} ps exceeds production_ps'
    return None


def _keys_and_numbers(schedule: Mapping, units: Mapping[str, str]) -> str | None:
    """A message when ``schedule`` lacks or adds keys to ``units``, or holds a value that is not a number."""
    missing = sorted(set(units) - set(schedule))
    unknown = sorted(set(schedule) - set(units))
    if missing or unknown:
        return f'schedule: missing keys {missing}, unknown keys {unknown}; expected {sorted(units)}'
    return _non_number(schedule, units)


def _non_number(schedule: Mapping, units: Mapping[str, str]) -> str | None:
    """A message naming the first key of ``units`` whose value in ``schedule`` is not a finite number."""
    for key, unit in units.items():
        value = schedule[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return f'schedule.{key}: must be a finite number ({unit}), got {value!r}'
    return None


def _steps(duration_ps: float, timestep_fs: float) -> int:
    """Number of MD steps covering ``duration_ps`` with a time step in fs."""
    return int(round(duration_ps * 1000.0 / timestep_fs))


def quench_steps(schedule: Mapping, timestep_fs: float) -> int:
    """MD steps of the quench ramp: (T_melt - T_final) / rate, in steps of ``timestep_fs``."""
    duration_ps = (schedule['melt_temperature_k'] - schedule['final_temperature_k']) / schedule['cooling_rate_k_ps']
    return _steps(duration_ps, timestep_fs)


def melt_quench_phases(schedule: Mapping, timestep_fs: float) -> dict[str, list[dict]]:
    """Turn a schedule into LAMMPS stage lists, one list per phase.

    Parameters
    ----------
    schedule : Mapping
        A valid schedule (see :func:`validate_schedule`).
    timestep_fs : float
        MD time step, fs.

    Returns
    -------
    dict
        ``{'melt': [...], 'quench': [...], 'relax': [...], 'production': [...]}``; each value
        is a list of stage dicts for :mod:`aiida_boroglass.calculations.lammps_inputs`.
    """
    t_melt, t_final = schedule['melt_temperature_k'], schedule['final_temperature_k']
    pressure = schedule['pressure_gpa']
    melt = [{'name': 'minimize', 'type': 'minimize', 'etol': 1e-6, 'ftol': 1e-4, 'maxiter': 500}]
    if schedule['push_off_ps'] > 0:
        melt.append({'name': 'push_off', 'type': 'push_off', 'steps': _steps(schedule['push_off_ps'], timestep_fs),
                     'temperature_k': t_melt, 'max_displacement_a': 0.1})
    melt.append({'name': 'melt', 'type': 'nvt', 'steps': _steps(schedule['melt_ps'], timestep_fs),
                 'temperature_k': t_melt})
    quench = [{'name': 'quench', 'type': 'npt', 'steps': quench_steps(schedule, timestep_fs),
               'temperature_k': t_melt, 'temperature_end_k': t_final, 'pressure_gpa': pressure}]
    relax = [
        {'name': 'relax_nvt', 'type': 'nvt', 'steps': _steps(schedule['relax_nvt_ps'], timestep_fs),
         'temperature_k': t_final},
        {'name': 'relax_npt', 'type': 'npt', 'steps': _steps(schedule['relax_npt_ps'], timestep_fs),
         'temperature_k': t_final, 'pressure_gpa': pressure},
    ]
    production = [{'name': 'production', 'type': 'nvt', 'steps': _steps(schedule['production_ps'], timestep_fs),
                   'temperature_k': t_final, 'dump_every': max(1, _steps(schedule['dump_every_ps'], timestep_fs))}]
    return {'melt': melt, 'quench': quench, 'relax': relax, 'production': production}


#: Keys of a transport schedule (``boroglass.diffusion``) with their units.
TRANSPORT_KEYS = {'equilibration_ps': 'ps', 'production_ps': 'ps', 'dump_every_ps': 'ps'}


def validate_transport_schedule(schedule: Mapping) -> str | None:
    """Return a message naming the bad field of a transport schedule, or ``None``.

    Parameters
    ----------
    schedule : Mapping
        The keys of :data:`TRANSPORT_KEYS` (all required), ps.
    """
    message = _keys_and_numbers(schedule, TRANSPORT_KEYS)
    if message:
        return message
    for key in TRANSPORT_KEYS:
        value = schedule[key]
        low_ok = value >= 0 if key == 'equilibration_ps' else value > 0
        if not low_ok:
            bound = '>= 0' if key == 'equilibration_ps' else '> 0'
            return f'schedule.{key}: must be a number {bound} ps, got {value!r}'
    if schedule['dump_every_ps'] * 20 > schedule['production_ps']:
        return (f'schedule.dump_every_ps: {schedule["dump_every_ps"]} ps gives fewer than 20 frames in '
                f'production_ps = {schedule["production_ps"]} ps')
    return None


def transport_stages(temperature_k: float, schedule: Mapping, timestep_fs: float,
                     field: Mapping | None = None) -> list[dict]:
    """LAMMPS stages of one transport run: NVT equilibration, then NVT production with frames.

    Parameters
    ----------
    temperature_k : float
        Temperature of both stages, K.
    schedule : Mapping
        A valid transport schedule (:func:`validate_transport_schedule`), ps.
    timestep_fs : float
        MD time step, fs.
    field : Mapping, optional
        ``{'efield_v_a': [Ex, Ey, Ez], 'frozen_elements': [...]}`` (V/Å; the list may be
        empty): both stages run in the field, so that production starts in the steady
        drift state; the network is frozen in both.

    Returns
    -------
    list of dict
        Stage dicts for :mod:`aiida_boroglass.calculations.lammps_inputs`.
    """
    extra = {}
    if field is not None:
        extra['efield_v_a'] = [float(e) for e in field['efield_v_a']]
        if field.get('frozen_elements'):
            extra['frozen_elements'] = list(field['frozen_elements'])
    stages = []
    if schedule['equilibration_ps'] > 0:
        stages.append({'name': 'equilibration', 'type': 'nvt', 'temperature_k': float(temperature_k),
                       'steps': _steps(schedule['equilibration_ps'], timestep_fs), **extra})
    stages.append({'name': 'production', 'type': 'nvt', 'temperature_k': float(temperature_k),
                   'steps': _steps(schedule['production_ps'], timestep_fs),
                   'dump_every': max(1, _steps(schedule['dump_every_ps'], timestep_fs)), **extra})
    return stages


# --- AIMD temperature ladder (paper 000 section 2) ------------------------------------------

#: Keys of an AIMD ladder with their units.
LADDER_KEYS = {
    'start_temperature_k': 'K',
    'top_temperature_k': 'K',
    'step_k': 'K',
    'step_ps': 'ps',
    'top_ps': 'ps',
    'final_ps': 'ps',
    'production_ps': 'ps',
}


def validate_ladder(schedule: Mapping) -> str | None:
    """Return a message naming the bad field of an AIMD ladder, or ``None`` when it is valid.

    Parameters
    ----------
    schedule : Mapping
        The keys of :data:`LADDER_KEYS` (all required), in the units given there.

    Returns
    -------
    str or None
    """
    message = _keys_and_numbers(schedule, LADDER_KEYS)
    if message:
        return message
    for key in LADDER_KEYS:
        if not schedule[key] > 0:
            return f'schedule.{key}: must be > 0 {LADDER_KEYS[key]}, got {schedule[key]}'
    if schedule['top_temperature_k'] < schedule['start_temperature_k']:
        return (f'schedule.top_temperature_k: {schedule["top_temperature_k"]} K is below start_temperature_k '
                f'({schedule["start_temperature_k"]} K)')
    return None


def ladder_temperatures(start_k: float, top_k: float, step_k: float) -> list[float]:
    """Rungs of the heating ladder below the top: ``start, start + step, ...`` while below ``top_k``, K."""
    count = math.ceil((top_k - start_k) / step_k - 1e-9)
    return [start_k + i * step_k for i in range(count)]


def aimd_stages(schedule: Mapping, timestep_fs: float) -> list[dict]:
    """The NVT stages of the AIMD melt-quench, each with the step at which it ends.

    Paper 000: from ``start`` up in steps of ``step_k`` to the top (``step_ps`` each), hold
    the top for ``top_ps``, come back down the same rungs (``step_ps`` each), hold the start
    temperature for ``final_ps``, then ``production_ps`` of production at that temperature.
    The stages continue one step counter, so ``last_step`` is cumulative.

    Parameters
    ----------
    schedule : Mapping
        A valid ladder (:data:`LADDER_KEYS`).
    timestep_fs : float
        MD time step, fs.

    Returns
    -------
    list of dict
        ``name`` (e.g. ``heat_0698K``, ``top_1398K``, ``cool_0698K``, ``final_0298K``,
        ``production``), ``temperature_k`` (K), ``steps`` and ``last_step``.
    """
    rungs = ladder_temperatures(schedule['start_temperature_k'], schedule['top_temperature_k'], schedule['step_k'])
    top, start = schedule['top_temperature_k'], schedule['start_temperature_k']
    plan = [(f'heat_{t:04.0f}K', t, schedule['step_ps']) for t in rungs]
    plan.append((f'top_{top:04.0f}K', top, schedule['top_ps']))
    plan += [(f'cool_{t:04.0f}K', t, schedule['step_ps']) for t in reversed(rungs[1:])]
    plan += [(f'final_{start:04.0f}K', start, schedule['final_ps']), ('production', start, schedule['production_ps'])]
    stages, last = [], 0
    for name, temperature, duration in plan:
        steps = _steps(duration, timestep_fs)
        last += steps
        stages.append({'name': name, 'temperature_k': temperature, 'steps': steps, 'last_step': last})
    return stages
