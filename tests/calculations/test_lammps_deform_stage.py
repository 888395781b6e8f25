"""The ``deform`` stage of boroglass.lammps: constant strain rate, zero lateral stress or strain, triaxial.

The script tests check the commands written; the ``lammps`` tests run them on 72-atom alpha-quartz
under the SHIK table (no k-space; the ideal cell starts near 2.8 GPa) and parse the log as the
parser does.
"""
from __future__ import annotations

import re
import subprocess
from collections import Counter

import numpy as np
import pytest

from aiida_boroglass.calculations.lammps_inputs import (
    BAR_PER_GPA,
    DEFORM_THERMO_COLUMNS,
    THERMO_COLUMNS,
    remaining_stages,
    validate_parameters,
    write_data_file,
    write_script,
)
from aiida_boroglass.glass.forcefields import build_forcefield, lammps_potential
from aiida_boroglass.parsers.parse_raw.lammps import parse_log

PULL = {'name': 'pull', 'type': 'deform', 'steps': 2000, 'temperature_k': 300.0, 'direction': 'x',
        'strain_rate_per_ps': 0.01}
SQUEEZE = {'name': 'squeeze', 'type': 'deform', 'steps': 1000, 'temperature_k': 300.0, 'triaxial': True,
           'strain_rate_per_ps': -0.01}


def lines_of(*stages, **extra):
    return write_script({'stages': list(stages), **extra}, ['pair_style zero 3.0', 'pair_coeff * *'], False).splitlines()


@pytest.mark.parametrize(('stage', 'fragment'), [
    ({**PULL, 'strain_rate_per_ps': 0.0}, 'strain_rate_per_ps must be a number of 1/ps with 0 < |rate| <= 1'),
    ({**PULL, 'strain_rate_per_ps': -2.0}, 'strain_rate_per_ps must be a number of 1/ps with 0 < |rate| <= 1'),
    ({**PULL, 'strain_rate_per_ps': 'fast'}, "got 'fast'"),
    ({**PULL, 'direction': 'xy'}, "direction must be one of ('x', 'y', 'z'), got 'xy'"),
    ({k: v for k, v in PULL.items() if k != 'direction'}, 'direction must be one of'),
    ({**PULL, 'lateral': 'free'}, "lateral must be one of ('stress', 'strain'), got 'free'"),
    ({**SQUEEZE, 'direction': 'x'}, "['direction'] not with triaxial"),
    ({**SQUEEZE, 'triaxial': 1}, 'triaxial must be true or false, got 1'),
    ({k: v for k, v in PULL.items() if k != 'temperature_k'}, 'temperature_k is required for a deform stage'),
    ({**PULL, 'pressure_gpa': 0.0}, "unknown keys ['pressure_gpa'] for a deform stage"),
])
def test_validate_refuses_and_names_the_key(stage, fragment):
    message = validate_parameters({'stages': [stage]})
    assert message is not None and fragment in message and message.startswith('parameters.stages[0]: ')


def test_validate_accepts_each_mode():
    for stage in (PULL, {**PULL, 'lateral': 'strain', 'direction': 'z', 'strain_rate_per_ps': -0.001}, SQUEEZE):
        assert validate_parameters({'stages': [stage]}) is None


@pytest.mark.parametrize(('stage', 'moves', 'fix'), [
    (PULL, 'x vel $(lx*0.01/(1.0+0.01*0.0))',
     'fix md all npt temp 300.0 300.0 0.1 y 0.0 0.0 1.0 z 0.0 0.0 1.0 couple none'),
    ({**PULL, 'direction': 'y', 'lateral': 'strain'}, 'y vel $(ly*0.01/(1.0+0.01*0.0))',
     'fix md all nvt temp 300.0 300.0 0.1'),
    (SQUEEZE, ' '.join(f'{a} vel $(l{a}*-0.01/(1.0+-0.01*0.0))' for a in 'xyz'), 'fix md all nvt temp 300.0 300.0 0.1'),
])
def test_script_deforms_the_axes_and_prints_the_pressure_tensor(stage, moves, fix):
    lines = lines_of({'name': 'heat', 'type': 'nvt', 'steps': 10, 'temperature_k': 300.0}, stage)
    deform = lines.index(f'fix md_deform all deform 1 {moves} remap x units box')
    assert lines[deform + 1] == fix
    wide, narrow = f'thermo_style custom {" ".join(DEFORM_THERMO_COLUMNS)}', f'thermo_style custom {" ".join(THERMO_COLUMNS)}'
    assert lines[deform - 2:deform] == [wide, 'thermo_modify flush yes lost error norm no']
    run = lines.index(f'run {stage["steps"]}')
    assert lines[run + 1:run + 5] == ['unfix md', 'unfix md_deform', narrow, 'thermo_modify flush yes lost error norm no']
    assert lines.count(wide) == 1 and lines.count(narrow) == 2  # the nvt stage prints the usual columns


def test_a_continued_stage_keeps_the_rate_of_the_whole_run():
    """Stopped after 1200 of 2000 steps (1 fs): the rest moves at rate x the length at step 0, L / (1 + rate x 1.2 ps)."""
    rest, = remaining_stages([PULL], 0, 1200)
    assert rest['start_step'] == 1200 and rest['steps'] == 800
    assert 'fix md_deform all deform 1 x vel $(lx*0.01/(1.0+0.01*1.2)) remap x units box' in lines_of(rest)


def test_parse_log_reads_the_pressure_tensor_of_a_deform_stage():
    header = 'Step Time Temp Press PotEng KinEng TotEng Volume Density Lx Ly Lz'
    log = '\n'.join(['BOROGLASS_STAGE_BEGIN 0 heat', header, ' '.join(['1'] * 12), 'Loop time of 1 on 1 procs for 1 steps',
                     'BOROGLASS_STAGE_END 0 heat', 'BOROGLASS_STAGE_BEGIN 1 pull', f'{header} Pxx Pyy Pzz Pxy Pxz Pyz',
                     ' '.join(map(str, range(18))), 'Loop time of 1 on 1 procs for 1 steps', 'BOROGLASS_STAGE_END 1 pull'])
    heat, pull = parse_log(log)['stages']
    assert set(heat['thermo']) == set(THERMO_COLUMNS)
    assert set(pull['thermo']) == set(DEFORM_THERMO_COLUMNS)
    assert [pull['thermo'][c][0] for c in ('lz', 'pxx', 'pyz')] == [11.0, 12.0, 17.0]


def run_quartz(crystals, directory, stages):
    """Run ``stages`` on the 72-atom quartz under SHIK (thermo every 10 steps); return the parsed stages of the log."""
    positions, cell, species = crystals.alpha_quartz()
    forcefield = build_forcefield('shik', dict(Counter(species)))
    order = sorted(set(species))
    commands, table = lammps_potential(forcefield, order)
    (directory / 'potential.table').write_text(table)
    (directory / 'structure.data').write_text(write_data_file(positions, cell, list(species), order, forcefield['charges_e']))
    parameters = {'stages': stages, 'thermo_every': 10, 'barostat_damping_ps': 0.2, 'seed': 4242}
    assert validate_parameters(parameters) is None
    (directory / 'in.lmp').write_text(write_script(parameters, commands, False, order))
    result = subprocess.run(['boroglass-lmp', '-in', 'in.lmp'], cwd=directory, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    return {stage['name']: stage['thermo'] for stage in parse_log((directory / 'log.lammps').read_text())['stages']}


def arrays(thermo):
    return {key: np.asarray(values) for key, values in thermo.items()}


@pytest.mark.lammps
def test_tension_at_zero_lateral_stress(crystals, tmp_path):
    """x grows as L0 (1 + rate t) (2 % in 2 ps); the barostat brings y and z from the ideal cell's 2.8 GPa to zero stress."""
    thermo = arrays(run_quartz(crystals, tmp_path, [PULL])['pull'])
    time_ps = thermo['time'] - thermo['time'][0]
    assert thermo['lx'] / thermo['lx'][0] - 1 == pytest.approx(0.01 * time_ps, rel=1e-5, abs=1e-6)
    late = slice(len(time_ps) // 2, None)
    lateral = (thermo['pyy'][late].mean() + thermo['pzz'][late].mean()) / 2 / BAR_PER_GPA
    assert abs(lateral) < 0.15  # GPa; the ideal cell starts at 2.8 GPa
    assert thermo['pyy'][0] / BAR_PER_GPA > 2.0
    assert thermo['ly'][-1] != thermo['ly'][0]


@pytest.mark.lammps
def test_tension_at_zero_lateral_strain(crystals, tmp_path):
    """y and z keep their lengths; the lateral stress stays far from zero (the ideal cell's compression)."""
    thermo = arrays(run_quartz(crystals, tmp_path, [{**PULL, 'lateral': 'strain'}])['pull'])
    time_ps = thermo['time'] - thermo['time'][0]
    assert thermo['lx'] / thermo['lx'][0] - 1 == pytest.approx(0.01 * time_ps, rel=1e-5, abs=1e-6)
    assert np.ptp(thermo['ly']) == 0 and np.ptp(thermo['lz']) == 0
    assert (thermo['pyy'] + thermo['pzz']).mean() / 2 / BAR_PER_GPA > 1.0


@pytest.mark.lammps
def test_triaxial_compression_and_a_continued_stage(crystals, tmp_path):
    """Each axis shrinks 1 % per ps: V = V0 (1 - 0.01 t)^3; a second stage continued at step 1000 (as after a
    restart) keeps the rate of the first, measured from the length at step 0."""
    rest = {**SQUEEZE, 'name': 'rest', 'start_step': 1000}
    stages = run_quartz(crystals, tmp_path, [SQUEEZE, rest])
    first, second = arrays(stages['squeeze']), arrays(stages['rest'])
    assert first['vol'] / first['vol'][0] == pytest.approx((1 - 0.01 * first['time']) ** 3, rel=1e-5)
    assert second['time'][0] == pytest.approx(1.0) and second['time'][-1] == pytest.approx(2.0)
    for axis in ('lx', 'ly', 'lz'):
        assert second[axis] / first[axis][0] == pytest.approx(1 - 0.01 * second['time'], rel=1e-5)
    assert re.search(r'fix md_deform all deform 1 x vel \$\(lx\*-0\.01/\(1\.0\+-0\.01\*1\.0\)\)', (tmp_path / 'in.lmp').read_text())


def test_restarted_deform_stage_keeps_its_pressure_tensor_when_the_segments_are_joined(aiida_profile):
    """join_lammps_segments joins the pressure columns of a deform stage cut at step 2 and continued."""
    from aiida import orm

    from aiida_boroglass.functions.segments import join_lammps_segments

    def segment(steps):
        data = orm.ArrayData()
        for column in DEFORM_THERMO_COLUMNS:
            values = np.asarray(steps, dtype=float)
            data.set_array(f'pull_{column}', values * 1e-3 if column == 'time' else values * 10 if column == 'pxx' else values)
        data.base.attributes.set('units', {'time': 'ps', 'pxx': 'bar'})
        return data

    plan = orm.Dict({'segments': [
        {'stages': ['pull'], 'cut_stage': 'pull', 'cut_step': 2, 'dump_stage': None, 'timestep_fs': 1.0},
        {'stages': ['pull'], 'cut_stage': None, 'cut_step': None, 'dump_stage': None, 'timestep_fs': 1.0}]})
    result, node = join_lammps_segments.run_get_node(plan=plan, thermo_0=segment([0, 1, 2, 3]), thermo_1=segment([2, 3, 4]))
    assert node.is_finished_ok, node.exit_message
    assert result['thermo'].get_array('pull_pxx').tolist() == [0, 10, 20, 30, 40]
    assert set(result['thermo'].get_arraynames()) == {f'pull_{column}' for column in DEFORM_THERMO_COLUMNS}
