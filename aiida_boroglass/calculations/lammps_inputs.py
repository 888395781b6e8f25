"""Pure functions that write LAMMPS input for multi-stage glass runs (no AiiDA import).

A run is a list of *stages*; each stage is one LAMMPS ``run`` (or ``minimize``) with its
own fixes. Stage dictionaries use explicit units in their keys:

========================  =====================================================
key                       meaning
========================  =====================================================
``name``                  label of the stage (a letter, then letters, digits, ``_``); unique in a run
``type``                  one of :data:`STAGE_TYPES`
``steps``                 number of MD steps (not for ``minimize``)
``temperature_k``         thermostat temperature at the start of the stage, K
``temperature_end_k``     temperature at the end (linear ramp), K; default: start
``pressure_gpa``          ``npt``: target hydrostatic pressure, GPa; default 0. ``minimize``: the box
                          relaxes too, its three lengths independently (LAMMPS ``fix box/relax
                          aniso``, tilt factors scaled with the lengths), until the virial pressure
                          (the fix leaves the kinetic part out) is this one; absent: the box stays
                          fixed
``dump_every``            write unwrapped positions every N steps; 0 = no dump
``max_displacement_a``    ``push_off`` only: largest move per step, Å
``etol``, ``ftol``        ``minimize`` only: LAMMPS tolerances (eV, eV/Å)
``maxiter``               ``minimize`` only: iteration limit
``min_style``             ``minimize`` only: ``cg`` (default, conjugate gradients) or ``fire`` (damped
                          dynamics; it needs no line search, so it converges where a tabulated
                          potential's forces are not exactly its energy's gradient; not with
                          ``pressure_gpa``)
``single_point`` stage    no keys but ``name`` and ``type``: velocities set to zero, ``run 0``; the
                          potential energy and the pressure tensor (the virial alone) are printed on
                          one :data:`SINGLE_POINT` line and the forces written to
                          :data:`FORCES_FILENAME` (at most one such stage per run)
``efield_v_a``            ``nvt`` only: a uniform electric field ``[Ex, Ey, Ez]`` on every charge, V/Å
                          (LAMMPS ``fix efield``); the thermostat then ignores the centre-of-mass
                          drift of the integrated atoms (``temp/com``)
``average_stress``        ``nvt`` only: ``true`` averages the pressure tensor (kinetic part included)
                          over the stage's steps (LAMMPS ``fix ave/time``) and prints it, with the
                          number of steps averaged, on one :data:`STRESS_AVERAGE` line; a stage
                          continued after a restart averages the steps of its last segment only
``frozen_elements``       ``nvt`` only: elements held fixed (zero velocity, not integrated), e.g. the
                          network of a field run; the thermostat acts on the other atoms
``direction``             ``deform`` only: the axis strained, ``x``, ``y`` or ``z`` (of LAMMPS' frame, the
                          input cell's for an orthorhombic box)
``strain_rate_per_ps``    ``deform`` only: engineering strain rate of the strained axis (each axis with
                          ``triaxial``), 1/ps, > 0 in tension, < 0 in compression; the length grows
                          linearly, ``L(t) = L0 (1 + rate t)`` (LAMMPS ``fix deform ... vel``)
``lateral``               ``deform`` only, one axis: ``stress`` (default) holds the other two axes at zero
                          stress (their lengths under a barostat, ``fix npt`` on them alone), ``strain``
                          holds their lengths (``fix nvt``)
``triaxial``              ``deform`` only: ``true`` strains all three axes at the rate (``fix nvt``); then
                          no ``direction`` nor ``lateral``
``start_step``            MD stages: the stage's step counter at its start (default 0); set by
                          :func:`remaining_stages` when a stage is continued, so that frames,
                          thermo lines and restart files keep the step numbers (and times) of an
                          uninterrupted run
========================  =====================================================

A ``deform`` stage prints the pressure tensor with its thermo lines (columns
:data:`DEFORM_THERMO_COLUMNS`, the instantaneous ``pxx ... pyz`` of LAMMPS' frame, bar, positive
in compression); a continued ``deform`` stage keeps the rate of the uninterrupted run, since
its velocity is ``rate L0`` with ``L0`` recovered from the length at its ``start_step``.

The timestep counter is reset to ``start_step`` (0 unless continued) at the start of every
stage, so a restart file ``restart.s{k}.{step}.bin`` names its stage ``k`` and the step
inside it, and a frame at step ``n`` of a stage lies ``n * timestep`` into that stage.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from aiida_boroglass.data.trajectory import TRAJECTORY_PRECISIONS
from aiida_boroglass.functions.utils import is_count, is_real
from aiida_boroglass.glass.elements import atomic_mass_g_mol

STAGE_TYPES = ('minimize', 'push_off', 'nvt', 'npt', 'nve', 'single_point', 'deform')
MD_STAGE_TYPES = ('push_off', 'nvt', 'npt', 'nve', 'deform')
MIN_STYLES = ('cg', 'fire')
THERMO_COLUMNS = ('step', 'time', 'temp', 'press', 'pe', 'ke', 'etotal', 'vol', 'density', 'lx', 'ly', 'lz')
#: what a ``single_point`` stage prints after its marker: potential energy (eV), pressure tensor (bar)
SINGLE_POINT_COLUMNS = ('pe', 'pxx', 'pyy', 'pzz', 'pxy', 'pxz', 'pyz')
#: what an ``average_stress`` stage prints after its marker, stage index and steps averaged: pressure tensor (bar)
STRESS_AVERAGE_COLUMNS = SINGLE_POINT_COLUMNS[1:]
#: thermo columns of a ``deform`` stage: the usual ones and the pressure tensor (bar)
DEFORM_THERMO_COLUMNS = THERMO_COLUMNS + STRESS_AVERAGE_COLUMNS
#: axes a ``deform`` stage strains, and how it holds the other two
DEFORM_AXES = ('x', 'y', 'z')
LATERAL_CONDITIONS = ('stress', 'strain')
#: largest strain rate magnitude a ``deform`` stage accepts, 1/ps (paper 004: 0.05, paper 001: 0.001)
MAX_STRAIN_RATE_PER_PS = 1.0
BAR_PER_GPA = 1.0e4
DATA_FILENAME = 'structure.data'
RESTART_IN_FILENAME = 'restart.in.bin'
#: restart file written at the end of stage ``index`` (0-based)
STAGE_RESTART_TEMPLATE = 'restart.s{index}.end.bin'
TRAJECTORY_FILENAME = 'traj.dump'
FINAL_DUMP_FILENAME = 'final.dump'
LOG_FILENAME = 'log.lammps'
FORCES_FILENAME = 'forces.dump'
SINGLE_POINT = 'BOROGLASS_SINGLE_POINT'
STRESS_AVERAGE = 'BOROGLASS_STRESS_AVERAGE'
STAGE_BEGIN = 'BOROGLASS_STAGE_BEGIN'
STAGE_END = 'BOROGLASS_STAGE_END'

DEFAULT_PARAMETERS = {
    'timestep_fs': 1.0,
    'thermo_every': 100,
    'restart_every': 0,
    'seed': 12345,
    'neighbor_skin_a': 2.0,
    'thermostat_damping_ps': 0.1,
    'barostat_damping_ps': 1.0,
    'trajectory_precision': TRAJECTORY_PRECISIONS[0],
}
_ALLOWED_PARAMETERS = set(DEFAULT_PARAMETERS) | {'stages', 'timeout_s', 'timeout_every'}
_STAGE_KEYS = {
    'minimize': {'name', 'type', 'etol', 'ftol', 'maxiter', 'pressure_gpa', 'min_style'},
    'push_off': {'name', 'type', 'steps', 'start_step', 'temperature_k', 'max_displacement_a', 'dump_every'},
    'nvt': {'name', 'type', 'steps', 'start_step', 'temperature_k', 'temperature_end_k', 'dump_every', 'efield_v_a',
            'frozen_elements', 'average_stress'},
    'npt': {'name', 'type', 'steps', 'start_step', 'temperature_k', 'temperature_end_k', 'pressure_gpa',
            'dump_every'},
    'nve': {'name', 'type', 'steps', 'start_step', 'dump_every'},
    'single_point': {'name', 'type'},
    'deform': {'name', 'type', 'steps', 'start_step', 'temperature_k', 'direction', 'strain_rate_per_ps', 'lateral',
               'triaxial', 'dump_every'},
}


def validate_parameters(parameters: Mapping) -> str | None:
    """Check run parameters and their stages; return an error message or ``None``.

    Parameters
    ----------
    parameters : Mapping
        Run parameters: ``stages`` (list of stage dicts, see module docstring) and the
        keys of :data:`DEFAULT_PARAMETERS` (``timestep_fs`` in fs, ``*_every`` in steps).

    Returns
    -------
    str or None
        A message naming the offending field and the allowed values, or ``None`` if valid.
    """
    unknown = set(parameters) - _ALLOWED_PARAMETERS
    if unknown:
        return f'parameters: unknown keys {sorted(unknown)}; allowed: {sorted(_ALLOWED_PARAMETERS)}'
    message = validate_md_settings({k: v for k, v in parameters.items() if k != 'stages'}, prefix='parameters')
    if message:
        return message
    stages = parameters.get('stages')
    if not isinstance(stages, Sequence) or not stages:
        return 'parameters.stages: must be a non-empty list of stage dictionaries'
    for index, stage in enumerate(stages):
        message = _validate_stage(stage) if isinstance(stage, Mapping) else 'must be a dictionary'
        if message:
            return f'parameters.stages[{index}]: {message}'
    names = [stage['name'] for stage in stages]
    if len(set(names)) != len(names):
        return f'parameters.stages: stage names must be unique, got {names}'
    dumping = [stage['name'] for stage in stages if stage.get('dump_every')]
    if len(dumping) > 1:
        return f'parameters.stages: at most one stage per run may set dump_every, got {dumping}'
    single = [stage['name'] for stage in stages if stage['type'] == 'single_point']
    if len(single) > 1:
        return f'parameters.stages: at most one single_point stage per run, got {single}'
    return None


def validate_md_settings(settings: Mapping, prefix: str = 'md_parameters') -> str | None:
    """Check the run-wide MD settings (every key but ``stages``); return an error message or ``None``.

    Parameters
    ----------
    settings : Mapping
        Keys of :data:`DEFAULT_PARAMETERS` and ``timeout_s``: ``timestep_fs`` (fs),
        ``thermostat_damping_ps`` and ``barostat_damping_ps`` (ps), ``neighbor_skin_a`` (Å),
        ``timeout_s`` (s), ``timeout_every``, ``thermo_every`` and ``restart_every`` (steps), ``seed``,
        ``trajectory_precision`` (one of ``TRAJECTORY_PRECISIONS``: the dtype the parser stores
        the frames' positions and cells in).
    prefix : str
        Name of the input the settings come from, used in the message.

    Returns
    -------
    str or None
        A message naming ``<prefix>.<key>`` and the allowed values, or ``None`` if valid.
    """
    allowed = _ALLOWED_PARAMETERS - {'stages'}
    unknown = set(settings) - allowed
    if unknown:
        return f'{prefix}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}'
    for key in ('timestep_fs', 'thermostat_damping_ps', 'barostat_damping_ps', 'neighbor_skin_a', 'timeout_s'):
        value = settings.get(key, DEFAULT_PARAMETERS.get(key, 1.0))
        if not _is_positive_number(value) or not np.isfinite(value):
            return f'{prefix}.{key}: must be a finite number > 0, got {value!r}'
    for key in ('thermo_every', 'restart_every'):
        value = settings.get(key, DEFAULT_PARAMETERS[key])
        if not is_count(value):
            return f'{prefix}.{key}: must be a non-negative integer number of steps, got {value!r}'
    if not is_count(settings.get('timeout_every', 1)) or settings.get('timeout_every', 1) < 1:
        return f'{prefix}.timeout_every: must be a positive integer number of steps, got {settings["timeout_every"]!r}'
    seed = settings.get('seed', DEFAULT_PARAMETERS['seed'])
    if not is_count(seed) or not 1 <= seed < 2**31:
        return f'{prefix}.seed: must be an integer in [1, 2147483647], got {seed!r}'
    precision = settings.get('trajectory_precision', DEFAULT_PARAMETERS['trajectory_precision'])
    if precision not in TRAJECTORY_PRECISIONS:
        return f'{prefix}.trajectory_precision: must be one of {list(TRAJECTORY_PRECISIONS)}, got {precision!r}'
    return None


def _validate_stage(stage: Mapping) -> str | None:
    """Return an error message for one stage dictionary, or ``None`` if it is valid."""
    kind = stage.get('type')
    if kind not in STAGE_TYPES:
        return f'type {kind!r} is not one of {STAGE_TYPES}'
    if not re.fullmatch(r'[A-Za-z][A-Za-z0-9_]*', str(stage.get('name', ''))):
        return f'name {stage.get("name")!r} must start with a letter and hold only letters, digits and _'
    unknown = set(stage) - _STAGE_KEYS[kind]
    if unknown:
        return f'unknown keys {sorted(unknown)} for a {kind} stage; allowed: {sorted(_STAGE_KEYS[kind])}'
    if kind in MD_STAGE_TYPES and not is_count(stage.get('steps')):
        return f'steps must be a non-negative integer, got {stage.get("steps")!r}'
    if not is_count(stage.get('start_step', 0)):
        return f'start_step must be a non-negative integer, got {stage["start_step"]!r}'
    if not is_count(stage.get('dump_every', 0)):
        return f'dump_every must be a non-negative integer number of steps, got {stage["dump_every"]!r}'
    for key in ('etol', 'ftol'):
        if key in stage and not (is_real(stage[key]) and stage[key] >= 0):
            return f'{key} must be a number >= 0, got {stage[key]!r}'
    for key in ('maxiter', 'max_displacement_a'):
        if key in stage and not _is_positive_number(stage[key]):
            return f'{key} must be a number > 0, got {stage[key]!r}'
    if 'efield_v_a' in stage and not (isinstance(stage['efield_v_a'], Sequence) and len(stage['efield_v_a']) == 3
                                      and all(is_real(e) for e in stage['efield_v_a'])):
        return f'efield_v_a must be a list of three numbers (V/Å), got {stage["efield_v_a"]!r}'
    if 'frozen_elements' in stage and not (isinstance(stage['frozen_elements'], Sequence) and stage['frozen_elements']
                                           and all(isinstance(e, str) for e in stage['frozen_elements'])):
        return f'frozen_elements must be a non-empty list of element symbols, got {stage["frozen_elements"]!r}'
    if stage.get('min_style', 'cg') not in MIN_STYLES:
        return f'min_style must be one of {MIN_STYLES}, got {stage["min_style"]!r}'
    if stage.get('min_style') == 'fire' and 'pressure_gpa' in stage:
        return 'min_style fire cannot relax the box: leave pressure_gpa out or use cg'
    if not isinstance(stage.get('average_stress', False), bool):
        return f'average_stress must be true or false, got {stage["average_stress"]!r}'
    if 'pressure_gpa' in stage and not is_real(stage['pressure_gpa']):
        return f'pressure_gpa must be a number (GPa), got {stage["pressure_gpa"]!r}'
    for key in ('temperature_k', 'temperature_end_k'):
        if key in stage and not (is_real(stage[key]) and 0 < stage[key] < 20000):
            return f'{key} must lie in (0, 20000) K, got {stage[key]}'
    if kind in ('push_off', 'nvt', 'npt', 'deform') and 'temperature_k' not in stage:
        return f'temperature_k is required for a {kind} stage'
    if kind == 'deform':
        return _validate_deform(stage)
    return None


def _validate_deform(stage: Mapping) -> str | None:
    """Return an error message for the deformation keys of a ``deform`` stage, or ``None``."""
    rate = stage.get('strain_rate_per_ps')
    if not (is_real(rate) and 0 < abs(rate) <= MAX_STRAIN_RATE_PER_PS):
        return (f'strain_rate_per_ps must be a number of 1/ps with 0 < |rate| <= {MAX_STRAIN_RATE_PER_PS:g} '
                f'(> 0 tension, < 0 compression), got {rate!r}')
    if not isinstance(stage.get('triaxial', False), bool):
        return f'triaxial must be true or false, got {stage["triaxial"]!r}'
    if stage.get('triaxial'):
        given = sorted({'direction', 'lateral'} & set(stage))
        return f'{given} not with triaxial (all three axes are strained)' if given else None
    if stage.get('direction') not in DEFORM_AXES:
        return f'direction must be one of {DEFORM_AXES}, got {stage.get("direction")!r}'
    if stage.get('lateral', 'stress') not in LATERAL_CONDITIONS:
        return f'lateral must be one of {LATERAL_CONDITIONS}, got {stage["lateral"]!r}'
    return None


def _is_positive_number(value) -> bool:
    """Whether ``value`` is a real number > 0."""
    return is_real(value) and value > 0


def lammps_cell(cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotate a cell into LAMMPS' lower-triangular convention.

    Parameters
    ----------
    cell : np.ndarray, shape (3, 3)
        Cell vectors as rows, Å.

    Returns
    -------
    lower : np.ndarray, shape (3, 3)
        Equivalent cell with ``a`` along x and ``b`` in the xy plane (rows), Å.
    rotation : np.ndarray, shape (3, 3)
        Matrix ``M`` with ``positions @ M`` mapping Cartesian positions into the new frame.
    """
    cell = np.asarray(cell, dtype=float)
    a, b, c = cell
    lx = np.linalg.norm(a)
    xy = b @ a / lx
    ly = np.sqrt(b @ b - xy**2)
    xz = c @ a / lx
    yz = (b @ c - xy * xz) / ly
    lz = np.sqrt(c @ c - xz**2 - yz**2)
    lower = np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])
    return lower, np.linalg.solve(cell, lower)


def write_data_file(
    positions: np.ndarray, cell: np.ndarray, symbols: Sequence[str], species_order: Sequence[str],
    charges_e: Mapping[str, float],
) -> str:
    """Return a LAMMPS ``atom_style charge`` data file.

    Parameters
    ----------
    positions : np.ndarray, shape (n_atoms, 3)
        Cartesian positions, Å.
    cell : np.ndarray, shape (3, 3)
        Cell vectors as rows, Å.
    symbols : sequence of str, length n_atoms
        Element of each atom.
    species_order : sequence of str
        ``species_order[k]`` is LAMMPS atom type ``k + 1``.
    charges_e : Mapping[str, float]
        Charge of each element, e.

    Returns
    -------
    str
        The data file text; atom ids follow the input order (1-based).
    """
    lower, rotation = lammps_cell(cell)
    rotated = np.asarray(positions, dtype=float) @ rotation
    type_of = {element: index + 1 for index, element in enumerate(species_order)}
    lines = [
        'LAMMPS data file written by aiida-boroglass (units metal, atom_style charge)',
        '',
        f'{len(symbols)} atoms',
        f'{len(species_order)} atom types',
        '',
        f'0.0 {lower[0, 0]:.10f} xlo xhi',
        f'0.0 {lower[1, 1]:.10f} ylo yhi',
        f'0.0 {lower[2, 2]:.10f} zlo zhi',
    ]
    if np.any(np.abs([lower[1, 0], lower[2, 0], lower[2, 1]]) > 1e-10):
        lines.append(f'{lower[1, 0]:.10f} {lower[2, 0]:.10f} {lower[2, 1]:.10f} xy xz yz')
    lines += ['', 'Masses', '']
    lines += [f'{type_of[el]} {atomic_mass_g_mol(el)} # {el}' for el in species_order]
    lines += ['', 'Atoms # charge', '']
    lines += [
        f'{index + 1} {type_of[el]} {charges_e[el]:.10f} {x:.10f} {y:.10f} {z:.10f}'
        for index, (el, (x, y, z)) in enumerate(zip(symbols, rotated))
    ]
    return '\n'.join(lines) + '\n'


def _seconds_to_hms(seconds: float) -> str:
    """Format a duration in s as ``HH:MM:SS`` for LAMMPS' ``timer timeout``."""
    seconds = max(int(seconds), 1)
    return f'{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}'


def _field_commands(stage: Mapping, species_order: Sequence[str]) -> tuple[list[str], list[str], str]:
    """Set-up and clean-up commands of a stage's field and frozen atoms, and the integrated group.

    Parameters
    ----------
    stage : Mapping
        An ``nvt`` stage, possibly with ``efield_v_a`` (V/Å) and ``frozen_elements``.
    species_order : sequence of str
        ``species_order[k]`` is LAMMPS atom type ``k + 1``.

    Returns
    -------
    setup, cleanup : list of str
        Commands before the stage's fixes and after its run.
    group : str
        The group the thermostat integrates (``all``, or the atoms not frozen).
    """
    setup, cleanup, group = [], [], 'all'
    frozen = stage.get('frozen_elements')
    if frozen:
        types = ' '.join(str(species_order.index(element) + 1) for element in frozen)
        group = 'md_moving'
        setup += [f'group md_frozen type {types}', 'group md_moving subtract all md_frozen',
                  'velocity md_frozen set 0.0 0.0 0.0']
        cleanup += ['group md_frozen delete', 'group md_moving delete']
    if 'efield_v_a' in stage:
        ex, ey, ez = stage['efield_v_a']
        setup.append(f'fix md_field all efield {ex} {ey} {ez}')
        cleanup.insert(0, 'unfix md_field')
    return setup, cleanup, group


def _single_point_commands() -> list[str]:
    """``run 0`` at rest; energy and pressure tensor printed on one line, forces dumped sorted by atom id."""
    values = ' '.join(f'$({column}:%.15g)' for column in SINGLE_POINT_COLUMNS)
    return ['velocity all set 0.0 0.0 0.0', 'run 0', f'print "{SINGLE_POINT} {values}"',
            f'write_dump all custom {FORCES_FILENAME} id type fx fy fz modify sort id format float %.15g']


def _stress_average_commands(index: int, stage: Mapping) -> tuple[list[str], list[str]]:
    """Commands before and after the run of a stage that averages its pressure tensor (bar) over its steps.

    ``fix ave/time`` samples steps ``start + 1`` to ``start + steps`` and holds the mean at the
    last one (its ``Nfreq`` is that step), where the :data:`STRESS_AVERAGE` line prints it. A
    stage without steps averages nothing and prints no line.
    """
    steps = stage['steps']
    if not stage.get('average_stress') or not steps:
        return [], []
    columns = ' '.join(f'c_thermo_press[{k}]' for k in range(1, len(STRESS_AVERAGE_COLUMNS) + 1))
    values = ' '.join(f'$(f_md_stress[{k}]:%.15g)' for k in range(1, len(STRESS_AVERAGE_COLUMNS) + 1))
    return ([f'fix md_stress all ave/time 1 {steps} {stage.get("start_step", 0) + steps} {columns}'],
            [f'print "{STRESS_AVERAGE} {index} {steps} {values}"', 'unfix md_stress'])


def _thermo_commands(columns: Sequence[str]) -> list[str]:
    """``thermo_style`` with ``columns`` and the ``thermo_modify`` settings it resets."""
    return [f'thermo_style custom {" ".join(columns)}', 'thermo_modify flush yes lost error norm no']


def _deform_commands(stage: Mapping, parameters: Mapping) -> tuple[list[str], list[str]]:
    """Fixes of a ``deform`` stage before its run, and the commands that undo them after it.

    Each strained axis moves at ``rate * L0`` Å/ps, ``L0`` its length at the stage's step 0:
    ``L / (1 + rate * start_step * timestep)`` from the length ``L`` when the fix is defined.
    """
    rate = stage['strain_rate_per_ps']
    t_damp, p_damp = parameters['thermostat_damping_ps'], parameters['barostat_damping_ps']
    t = stage['temperature_k']
    start_ps = stage.get('start_step', 0) * parameters['timestep_fs'] * 1e-3
    axes = DEFORM_AXES if stage.get('triaxial') else (stage['direction'],)
    moves = ' '.join(f'{axis} vel $(l{axis}*{rate}/(1.0+{rate}*{start_ps}))' for axis in axes)
    lines = _thermo_commands(DEFORM_THERMO_COLUMNS) + [f'fix md_deform all deform 1 {moves} remap x units box']
    if not stage.get('triaxial') and stage.get('lateral', 'stress') == 'stress':
        barostat = ' '.join(f'{axis} 0.0 0.0 {p_damp}' for axis in DEFORM_AXES if axis != stage['direction'])
        lines.append(f'fix md all npt temp {t} {t} {t_damp} {barostat} couple none')
    else:
        lines.append(f'fix md all nvt temp {t} {t} {t_damp}')
    return lines, ['unfix md_deform', *_thermo_commands(THERMO_COLUMNS)]


def _stage_commands(index: int, stage: Mapping, parameters: Mapping, species_order: Sequence[str],
                    potential_commands: Sequence[str] = ()) -> list[str]:
    """LAMMPS commands of one stage, between its begin and end markers; ``potential_commands`` open it."""
    t_damp = parameters['thermostat_damping_ps']
    p_damp = parameters['barostat_damping_ps']
    kind = stage['type']
    name = stage['name']
    lines = [f'print "{STAGE_BEGIN} {index} {name}"', f'reset_timestep {stage.get("start_step", 0)}',
             *potential_commands]
    if parameters['restart_every'] and kind in MD_STAGE_TYPES:
        lines.append(f'restart {parameters["restart_every"]} restart.s{index}.*.bin')
    if kind == 'single_point':
        lines += _single_point_commands()
    elif kind == 'minimize':
        etol, ftol, maxiter = stage.get('etol', 1e-6), stage.get('ftol', 1e-4), stage.get('maxiter', 1000)
        box = 'pressure_gpa' in stage
        if box:
            bar = stage['pressure_gpa'] * BAR_PER_GPA
            lines.append(f'fix md_box all box/relax aniso {bar} vmax 0.001')
        lines += [f'min_style {stage.get("min_style", "cg")}', f'minimize {etol} {ftol} {maxiter} {10 * maxiter}']
        if box:
            lines.append('unfix md_box')
    else:
        t0 = stage.get('temperature_k')
        t1 = stage.get('temperature_end_k', t0)
        if kind == 'push_off':
            dmax = stage.get('max_displacement_a', 0.1)
            lines += [f'fix md all nve/limit {dmax}', f'fix md_t all temp/berendsen {t0} {t0} {t_damp}']
        elif kind == 'nvt':
            setup, cleanup, group = _field_commands(stage, species_order)
            lines += setup + [f'fix md {group} nvt temp {t0} {t1} {t_damp}']
            if 'efield_v_a' in stage:
                lines += [f'compute md_tcom {group} temp/com', 'fix_modify md temp md_tcom']
                cleanup.insert(0, 'uncompute md_tcom')
        elif kind == 'npt':
            bar = stage.get('pressure_gpa', 0.0) * BAR_PER_GPA
            lines.append(f'fix md all npt temp {t0} {t1} {t_damp} iso {bar} {bar} {p_damp}')
        elif kind == 'deform':
            deforming, cleanup = _deform_commands(stage, parameters)
            lines += deforming
        else:
            lines.append('fix md all nve')
        averaging, averaged = _stress_average_commands(index, stage)
        lines += averaging
        if stage.get('dump_every'):
            lines += [
                f'dump traj all custom {stage["dump_every"]} {TRAJECTORY_FILENAME} id type xu yu zu',
                'dump_modify traj sort id format float %.8g',
            ]
        lines.append(f'run {stage["steps"]}')
        lines += averaged
        if stage.get('dump_every'):
            lines.append('undump traj')
        lines += ['unfix md'] + (['unfix md_t'] if kind == 'push_off' else [])
        if kind in ('nvt', 'deform'):
            lines += cleanup
    if parameters['restart_every'] and kind in MD_STAGE_TYPES:
        lines.append('restart 0')
    lines += [f'write_restart {STAGE_RESTART_TEMPLATE.format(index=index)}', f'print "{STAGE_END} {index} {name}"']
    return lines


def first_temperature_k(stages: Sequence[Mapping]) -> float | None:
    """Return the temperature (K) of the first thermostatted stage, or ``None``."""
    return next((s['temperature_k'] for s in stages if 'temperature_k' in s), None)


def write_script(parameters: Mapping, potential_commands: Sequence[str], from_restart: bool,
                 species_order: Sequence[str] = (), stage_potential_commands: Sequence[Sequence[str]] = ()) -> str:
    """Return a multi-stage LAMMPS input script.

    Parameters
    ----------
    parameters : Mapping
        Validated run parameters (see :func:`validate_parameters`); missing keys take
        :data:`DEFAULT_PARAMETERS`. ``timeout_s`` (s), when present, stops LAMMPS cleanly
        with ``timer timeout`` so that a restart file is written before the wall time; LAMMPS
        checks the clock every ``timeout_every`` steps (default 1).
    potential_commands : sequence of str
        ``pair_style``/``pair_coeff``/``kspace_style`` lines of the potential, issued once after
        the structure is read (empty when ``stage_potential_commands`` define it).
    from_restart : bool
        Read :data:`RESTART_IN_FILENAME` (velocities kept) instead of :data:`DATA_FILENAME`
        (velocities drawn at the first stage temperature).
    species_order : sequence of str
        ``species_order[k]`` is LAMMPS atom type ``k + 1``; needed by stages with
        ``frozen_elements``.
    stage_potential_commands : sequence of sequence of str
        Commands that (re)define the potential at the start of each stage, one list per stage
        (a DeePMD ensemble with one model-deviation file per stage); empty: none.

    Returns
    -------
    str
        The input script.
    """
    parameters = {**DEFAULT_PARAMETERS, **parameters}
    lines = ['# multi-stage glass run written by aiida-boroglass', 'units metal', 'atom_style charge',
             'boundary p p p']
    if parameters.get('timeout_s'):
        lines.append(f'timer timeout {_seconds_to_hms(parameters["timeout_s"])} every {parameters.get("timeout_every", 1)}')
    lines.append(f'read_restart {RESTART_IN_FILENAME}' if from_restart else f'read_data {DATA_FILENAME}')
    lines += list(potential_commands)
    lines += [
        f'neighbor {parameters["neighbor_skin_a"]} bin',
        'neigh_modify every 1 delay 0 check yes',
        f'timestep {parameters["timestep_fs"] * 1e-3}',
        *_thermo_commands(THERMO_COLUMNS),
        f'thermo {parameters["thermo_every"]}',
    ]
    t_start = first_temperature_k(parameters['stages'])
    if not from_restart and t_start is not None:
        lines.append(f'velocity all create {t_start} {parameters["seed"]} dist gaussian mom yes rot yes')
    for index, stage in enumerate(parameters['stages']):
        potential = stage_potential_commands[index] if stage_potential_commands else ()
        lines += _stage_commands(index, stage, parameters, species_order, potential)
    lines.append(f'write_dump all custom {FINAL_DUMP_FILENAME} id type x y z modify sort id format float %.10g')
    return '\n'.join(lines) + '\n'


def remaining_stages(stages: Sequence[Mapping], stage_index: int, steps_done: int, step_factor: int = 1) -> list[dict]:
    """Return the stages still to run after an interrupted run.

    Parameters
    ----------
    stages : sequence of Mapping
        The stages of the interrupted run.
    stage_index : int
        Index of the stage that was interrupted.
    steps_done : int
        MD steps of that stage already contained in the restart point.
    step_factor : int
        Multiplier for the remaining step counts, e.g. 2 when the time step is halved so
        that the same simulated time is covered.

    Returns
    -------
    list of dict
        The unfinished part of ``stages[stage_index]`` (its temperature ramp starting where
        it stopped, its name kept, its ``start_step`` where it stopped) followed by the later
        stages, step counts scaled.
    """
    current = dict(stages[stage_index])
    if current['type'] in MD_STAGE_TYPES:
        done = min(steps_done, current['steps'])
        if 'temperature_end_k' in current and current['steps']:
            t0, t1 = current['temperature_k'], current['temperature_end_k']
            current['temperature_k'] = t0 + done / current['steps'] * (t1 - t0)
        current['steps'] -= done
        if current.get('start_step', 0) + done:
            current['start_step'] = current.get('start_step', 0) + done
    rest = [current] + [dict(stage) for stage in stages[stage_index + 1:]]
    for stage in rest:
        for key in ('steps', 'start_step', 'dump_every'):
            if stage.get(key):
                stage[key] *= step_factor
    return rest
