"""Tests for aiida_boroglass.calculations.lammps_inputs (expected values computed by hand).

The tests marked ``lammps`` run the real ``lmp`` executable on a 64-atom Lennard-Jones
system built with :func:`write_data_file` and a script from :func:`write_script`.
"""
from __future__ import annotations

import copy
import itertools
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from aiida_boroglass.calculations.lammps_inputs import (
    first_temperature_k,
    lammps_cell,
    remaining_stages,
    validate_parameters,
    write_data_file,
    write_script,
)
from aiida_boroglass.parsers.lammps import select_restart, stage_progress
from aiida_boroglass.parsers.parse_raw.lammps import parse_dump, parse_log

MINIMIZE = {'name': 'mini', 'type': 'minimize'}
NVT = {'name': 'eq', 'type': 'nvt', 'steps': 100, 'temperature_k': 300.0}
NPT = {'name': 'ramp', 'type': 'npt', 'steps': 100, 'temperature_k': 300.0, 'temperature_end_k': 100.0,
       'pressure_gpa': 1.0}
PUSH = {'name': 'push', 'type': 'push_off', 'steps': 50, 'temperature_k': 4000.0, 'max_displacement_a': 0.05}
NVE = {'name': 'free', 'type': 'nve', 'steps': 10}
LJ = ['pair_style lj/cut 3.0', 'pair_coeff * * 0.01 2.0']


def params(*stages, **extra):
    return {'stages': [copy.deepcopy(s) for s in stages], **extra}


def with_(stage, **changes):
    new = copy.deepcopy(stage)
    for key, value in changes.items():
        if value is KeyError:
            new.pop(key, None)
        else:
            new[key] = value
    return new


# ============================================================ validate_parameters
def test_validate_valid_full_run():
    p = params(MINIMIZE, PUSH, NVT, NPT, with_(NVE, dump_every=5), timestep_fs=0.5, thermo_every=10,
               restart_every=1000, seed=7, neighbor_skin_a=1.0, thermostat_damping_ps=0.05,
               barostat_damping_ps=0.5, timeout_s=3600)
    assert validate_parameters(p) is None


@pytest.mark.parametrize('p', [
    params(MINIMIZE),
    params(with_(NVT, steps=0)),
    params(with_(NVT, temperature_k=0.001, temperature_end_k=19999.9)),
    params(with_(NVT, dump_every=0), with_(NPT, dump_every=10)),  # 0 means "no dump": only one dumps
    params(with_(MINIMIZE, etol=0.0, ftol=1e-8, maxiter=10)),
    params(with_(NVT, name='A_1b')),
])
def test_validate_valid_edge_cases(p):
    assert validate_parameters(p) is None


@pytest.mark.parametrize(('p', 'fragments'), [
    ({**params(NVT), 'temperature': 300}, ['parameters', 'unknown', 'temperature']),
    (params(NVT, timestep_fs=0), ['timestep_fs']),
    (params(NVT, timestep_fs=-1.0), ['timestep_fs']),
    (params(NVT, thermostat_damping_ps=0.0), ['thermostat_damping_ps']),
    (params(NVT, barostat_damping_ps=-1.0), ['barostat_damping_ps']),
    (params(NVT, thermo_every=-1), ['thermo_every']),
    (params(NVT, thermo_every=10.5), ['thermo_every']),
    (params(NVT, restart_every=-100), ['restart_every']),
    ({}, ['stages']),
    ({'stages': []}, ['stages']),
    (params(MINIMIZE, with_(NVT, pressure_gpa=1.0)), ['stages[1]', 'pressure_gpa']),
    (params(MINIMIZE, with_(NVT, steps=-5)), ['stages[1]', 'steps']),
    (params(MINIMIZE, with_(NVT, steps=10.0)), ['stages[1]', 'steps']),
    (params(MINIMIZE, with_(NVT, steps=KeyError)), ['stages[1]', 'steps']),
    (params(MINIMIZE, with_(NVT, type='nph')), ['stages[1]', 'nph']),
    (params(MINIMIZE, with_(NVT, type=KeyError)), ['stages[1]', 'type']),
    (params(with_(MINIMIZE, steps=10)), ['stages[0]', 'steps']),
    (params(MINIMIZE, with_(NVE, temperature_k=300.0)), ['stages[1]', 'temperature_k']),
    (params(MINIMIZE, with_(NVT, temperature_k=0)), ['stages[1]', 'temperature_k']),
    (params(MINIMIZE, with_(NVT, temperature_k=-10.0)), ['stages[1]', 'temperature_k']),
    (params(MINIMIZE, with_(NVT, temperature_k=20000.0)), ['stages[1]', 'temperature_k']),
    (params(MINIMIZE, with_(NPT, temperature_end_k=25000.0)), ['stages[1]', 'temperature_end_k']),
    (params(MINIMIZE, with_(NVT, temperature_k=KeyError)), ['stages[1]', 'temperature_k']),
    (params(MINIMIZE, with_(PUSH, max_displacement_a=0.0)), ['stages[1]', 'max_displacement_a']),
    (params(MINIMIZE, with_(NVT, name='1eq')), ['stages[1]', 'name', '1eq']),
    (params(MINIMIZE, with_(NVT, name='eq run')), ['stages[1]', 'name']),
    (params(MINIMIZE, with_(NVT, name='eq-run')), ['stages[1]', 'name']),
    (params(MINIMIZE, with_(NVT, name='')), ['stages[1]', 'name']),
    (params(MINIMIZE, with_(NVT, name=KeyError)), ['stages[1]', 'name']),
    (params(MINIMIZE, NVT, with_(NPT, name='eq')), ['stages', 'unique', 'eq']),
    (params(with_(NVT, dump_every=10), with_(NPT, dump_every=20)), ['stages', 'dump_every', 'eq', 'ramp']),
])
def test_validate_rejects_and_names_the_field(p, fragments):
    message = validate_parameters(p)
    assert isinstance(message, str)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_validate_reports_first_bad_stage_index():
    message = validate_parameters(params(MINIMIZE, NVT, with_(NPT, steps=-1), with_(NVE, steps=-1)))
    assert 'stages[2]' in message
    assert 'stages[3]' not in message


# The following three inputs make LAMMPS stop with an error ("Invalid dump frequency -5",
# "Illegal velocity create seed argument: 0") or make the validator itself raise, although
# validate_parameters promises to return a message for bad input.
def test_validate_rejects_negative_dump_every():
    message = validate_parameters(params(with_(NVT, dump_every=-5)))
    assert message is not None and 'stages[0]' in message and 'dump_every' in message


def test_validate_rejects_non_positive_seed():
    message = validate_parameters(params(NVT, seed=0))
    assert message is not None and 'seed' in message


def test_validate_returns_message_for_non_dict_stage():
    message = validate_parameters({'stages': [NVT, 'nvt']})
    assert message is not None and 'stages[1]' in message


# ============================================================ lammps_cell
def random_rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


def lengths_angles(cell):
    a, b, c = cell
    norm = np.linalg.norm

    def angle(u, v):
        return np.degrees(np.arccos(u @ v / norm(u) / norm(v)))

    return np.array([norm(a), norm(b), norm(c), angle(b, c), angle(a, c), angle(a, b)])


def random_cells(seed=0, count=20):
    rng = np.random.default_rng(seed)
    cells = []
    for _ in range(count):
        cell = rng.normal(size=(3, 3)) * 2.0 + np.diag(rng.uniform(6.0, 14.0, 3))
        if np.linalg.det(cell) < 0:
            cell[2] *= -1
        cells.append(cell @ random_rotation(rng))
    return cells


@pytest.mark.parametrize('cell', random_cells())
def test_lammps_cell_random_triclinic(cell):
    lower, rotation = lammps_cell(cell)
    assert lower.shape == (3, 3)
    assert lower[0, 1] == 0 and lower[0, 2] == 0 and lower[1, 2] == 0
    assert lower[0, 0] > 0 and lower[1, 1] > 0 and lower[2, 2] > 0
    np.testing.assert_allclose(lengths_angles(lower), lengths_angles(cell), rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(np.linalg.det(lower), abs(np.linalg.det(cell)), rtol=1e-10)
    np.testing.assert_allclose(cell @ rotation, lower, atol=1e-10)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(np.linalg.det(rotation), 1.0, atol=1e-10)
    # positions: pairwise distances are preserved; fractional coordinates unchanged
    rng = np.random.default_rng(1)
    frac = rng.uniform(-0.2, 1.2, (12, 3))
    positions = frac @ cell
    moved = positions @ rotation
    d_old = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
    d_new = np.linalg.norm(moved[:, None] - moved[None], axis=-1)
    np.testing.assert_allclose(d_new, d_old, atol=1e-10)
    np.testing.assert_allclose(moved @ np.linalg.inv(lower), frac, atol=1e-10)


def test_lammps_cell_left_handed_cell_keeps_metric():
    cell = np.array([[5.0, 0.0, 0.0], [1.0, 6.0, 0.0], [0.5, 0.7, -7.0]])  # det < 0
    lower, rotation = lammps_cell(cell)
    np.testing.assert_allclose(lower, [[5.0, 0, 0], [1.0, 6.0, 0], [0.5, 0.7, 7.0]], atol=1e-12)
    np.testing.assert_allclose(cell @ rotation, lower, atol=1e-12)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)


def test_lammps_cell_by_hand_rotated_orthorhombic():
    # a along +y, b along -x, c along z: a 90 degree rotation of diag(5, 6, 7)
    cell = np.array([[0.0, 5.0, 0.0], [-6.0, 0.0, 0.0], [0.0, 0.0, 7.0]])
    lower, rotation = lammps_cell(cell)
    np.testing.assert_allclose(lower, np.diag([5.0, 6.0, 7.0]), atol=1e-12)
    np.testing.assert_allclose(rotation, [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)


def test_lammps_cell_by_hand_hexagonal_already_lower():
    cell = np.array([[4.0, 0.0, 0.0], [-2.0, 2.0 * np.sqrt(3.0), 0.0], [0.0, 0.0, 6.0]])
    lower, rotation = lammps_cell(cell)
    np.testing.assert_allclose(lower, cell, atol=1e-12)
    np.testing.assert_allclose(rotation, np.eye(3), atol=1e-12)


def test_lammps_cell_by_hand_tilts():
    # a = (3, 4, 0) (|a| = 5), b = (0, 0, 6), c = (0, 8, 0) -> xy = 0, ly = 6, xz = 32/5, yz = 0
    cell = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 6.0], [0.0, 8.0, 0.0]])
    lower, _ = lammps_cell(cell)
    xz = 32.0 / 5.0
    np.testing.assert_allclose(lower, [[5.0, 0, 0], [0.0, 6.0, 0], [xz, 0.0, np.sqrt(64.0 - xz**2)]], atol=1e-12)


# ============================================================ write_data_file
def parse_data_file(text):
    """Independent reader of the data file written by write_data_file."""
    lines = text.splitlines()
    out = {'tilt': None, 'masses': {}, 'atoms': []}
    section = None
    for line in lines[1:]:
        stripped = line.split('#')[0].strip()
        if not stripped:
            continue
        tokens = stripped.split()
        if stripped in ('Masses', 'Atoms'):
            section = stripped
        elif section is None:
            if tokens[-1] == 'atoms':
                out['n_atoms'] = int(tokens[0])
            elif tokens[-2:] == ['atom', 'types']:
                out['n_types'] = int(tokens[0])
            elif tokens[-2:] in (['xlo', 'xhi'], ['ylo', 'yhi'], ['zlo', 'zhi']):
                out[tokens[-2][0]] = (float(tokens[0]), float(tokens[1]))
            elif tokens[-3:] == ['xy', 'xz', 'yz']:
                out['tilt'] = tuple(float(t) for t in tokens[:3])
        elif section == 'Masses':
            out['masses'][int(tokens[0])] = (float(tokens[1]), line.split('#')[1].strip())
        else:
            out['atoms'].append((int(tokens[0]), int(tokens[1]), float(tokens[2]),
                                 float(tokens[3]), float(tokens[4]), float(tokens[5])))
    return out


def b2o3_atoms(cell, n_units=6, seed=3):
    rng = np.random.default_rng(seed)
    symbols = ['B', 'O', 'O', 'B', 'O'] * n_units
    frac = rng.uniform(0.0, 1.0, (len(symbols), 3))
    return frac @ cell, frac, symbols


TRICLINIC = np.array([[9.0, 0.0, 0.0], [2.0, 8.0, 0.0], [-1.5, 1.0, 10.0]])


@pytest.mark.parametrize('cell', [TRICLINIC, TRICLINIC @ random_rotation(np.random.default_rng(5)), *random_cells(9, 4)])
def test_write_data_file_round_trip(cell):
    positions, frac, symbols = b2o3_atoms(cell)
    charges = {'B': 1.8, 'O': -1.2}
    data = parse_data_file(write_data_file(positions, cell, symbols, ['O', 'B'], charges))
    n = len(symbols)
    assert data['n_atoms'] == n == len(data['atoms'])
    assert data['n_types'] == 2
    # masses by hand: O 15.999, B 10.81 g/mol
    assert data['masses'][1][1] == 'O' and data['masses'][1][0] == pytest.approx(15.999, abs=0.01)
    assert data['masses'][2][1] == 'B' and data['masses'][2][0] == pytest.approx(10.81, abs=0.01)
    ids = [a[0] for a in data['atoms']]
    assert ids == list(range(1, n + 1))
    assert [a[1] for a in data['atoms']] == [1 if s == 'O' else 2 for s in symbols]
    assert [a[2] for a in data['atoms']] == [charges[s] for s in symbols]
    assert sum(a[2] for a in data['atoms']) == pytest.approx(0.0, abs=1e-9)  # 12 B * 1.8 = 18 O * 1.2
    # box: the lower-triangular cell with the same metric as the input cell
    lx, ly, lz = (data[k][1] - data[k][0] for k in 'xyz')
    assert data['x'][0] == data['y'][0] == data['z'][0] == 0.0
    xy, xz, yz = data['tilt'] if data['tilt'] is not None else (0.0, 0.0, 0.0)
    box = np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])
    np.testing.assert_allclose(box @ box.T, cell @ cell.T, atol=1e-7)
    # positions: same fractional coordinates in the LAMMPS box; distances preserved
    written = np.array([a[3:] for a in data['atoms']])
    np.testing.assert_allclose(written @ np.linalg.inv(box), frac, atol=1e-8)
    d_in = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
    d_out = np.linalg.norm(written[:, None] - written[None], axis=-1)
    np.testing.assert_allclose(d_out, d_in, atol=1e-8)


def test_write_data_file_tilt_values_by_hand():
    positions, _, symbols = b2o3_atoms(TRICLINIC, n_units=1)
    text = write_data_file(positions, TRICLINIC, symbols, ['B', 'O'], {'B': 1.8, 'O': -1.2})
    data = parse_data_file(text)
    assert data['tilt'] == pytest.approx((2.0, -1.5, 1.0), abs=1e-9)
    assert (data['x'], data['y'], data['z']) == ((0.0, 9.0), (0.0, 8.0), (0.0, 10.0))
    assert len([line for line in text.splitlines() if line.endswith('xy xz yz')]) == 1


@pytest.mark.parametrize('cell', [
    np.diag([9.0, 8.0, 10.0]),
    np.array([[0.0, 5.0, 0.0], [-6.0, 0.0, 0.0], [0.0, 0.0, 7.0]]),
    np.diag([9.0, 8.0, 10.0]) @ random_rotation(np.random.default_rng(11)),
])
def test_write_data_file_no_tilt_line_for_orthorhombic(cell):
    positions, frac, symbols = b2o3_atoms(cell, n_units=2)
    text = write_data_file(positions, cell, symbols, ['B', 'O'], {'B': 1.8, 'O': -1.2})
    assert 'xy xz yz' not in text
    data = parse_data_file(text)
    lengths = sorted(np.linalg.norm(cell, axis=1))
    assert sorted([data[k][1] for k in 'xyz']) == pytest.approx(lengths, abs=1e-9)


def test_write_data_file_unknown_element_fails():
    with pytest.raises(KeyError):
        write_data_file(np.zeros((1, 3)), np.eye(3) * 5, ['Na'], ['B', 'O'], {'B': 1.8, 'O': -1.2})


# ============================================================ write_script
def script_lines(p, from_restart=False, potential=LJ):
    return write_script(p, potential, from_restart).splitlines()


def index_of(lines, predicate):
    return [i for i, line in enumerate(lines) if predicate(line)]


def stage_block(lines, index):
    begin = index_of(lines, lambda l: l.startswith(f'print "BOROGLASS_STAGE_BEGIN {index} '))
    end = index_of(lines, lambda l: l.startswith(f'print "BOROGLASS_STAGE_END {index} '))
    assert len(begin) == 1 and len(end) == 1
    return lines[begin[0]:end[0] + 1]


def test_write_script_stage_markers_and_structure():
    stages = [MINIMIZE, PUSH, NVT, NPT, NVE]
    lines = script_lines(params(*stages))
    markers = [line for line in lines if 'BOROGLASS_STAGE' in line]
    expected = []
    for k, s in enumerate(stages):
        expected += [f'print "BOROGLASS_STAGE_BEGIN {k} {s["name"]}"', f'print "BOROGLASS_STAGE_END {k} {s["name"]}"']
    assert markers == expected
    assert lines.count('reset_timestep 0') == len(stages)
    for k, stage in enumerate(stages):
        block = stage_block(lines, k)
        assert block[1] == 'reset_timestep 0'
        assert block[-2] == f'write_restart restart.s{k}.end.bin'
        runs = [line for line in block if line.startswith(('run ', 'minimize '))]
        assert len(runs) == 1
        if stage['type'] != 'minimize':
            assert runs[0] == f'run {stage["steps"]}'
            assert 'unfix md' in block
    assert lines[-1] == 'write_dump all custom final.dump id type x y z modify sort id format float %.10g'
    assert lines[:4] == ['# multi-stage glass run written by aiida-boroglass', 'units metal',
                         'atom_style charge', 'boundary p p p']
    # potential lines verbatim, after reading the structure and before the first stage
    read = lines.index('read_data structure.data')
    assert lines[read + 1:read + 3] == LJ
    assert 'dump' not in ' '.join(lines[:-1]).replace('write_dump', '')


def test_write_script_fresh_start_reads_data_and_creates_velocities():
    lines = script_lines(params(MINIMIZE, NVE, with_(NVT, temperature_k=1500.0), NPT, seed=4242))
    assert 'read_data structure.data' in lines
    assert not any(line.startswith('read_restart') for line in lines)
    velocity = [line for line in lines if line.startswith('velocity')]
    assert len(velocity) == 1
    tokens = velocity[0].split()
    assert tokens[:3] == ['velocity', 'all', 'create'] and float(tokens[3]) == 1500.0 and tokens[4] == '4242'
    assert lines.index(velocity[0]) < index_of(lines, lambda l: 'BOROGLASS_STAGE_BEGIN 0' in l)[0]


def test_write_script_from_restart_keeps_velocities():
    lines = script_lines(params(NVT, NPT), from_restart=True)
    assert 'read_restart restart.in.bin' in lines
    assert not any(line.startswith(('read_data', 'velocity')) for line in lines)


def test_write_script_no_velocities_without_temperature():
    lines = script_lines(params(MINIMIZE, NVE))
    assert not any(line.startswith('velocity') for line in lines)


@pytest.mark.parametrize(('seconds', 'hms'), [
    (3725, '01:02:05'), (3725.9, '01:02:05'), (59, '00:00:59'), (3600, '01:00:00'), (90061, '25:01:01'),
    (0.3, '00:00:01'),
])
def test_write_script_timer_timeout(seconds, hms):
    lines = script_lines(params(NVT, timeout_s=seconds))
    timer = [line for line in lines if line.startswith('timer')]
    assert timer == [f'timer timeout {hms} every 1']  # every step until a step time was measured
    assert lines.index(timer[0]) < index_of(lines, lambda l: l.startswith('run '))[0]


def test_write_script_timer_check_interval():
    lines = script_lines(params(NVT, timeout_s=100, timeout_every=37))
    assert [line for line in lines if line.startswith('timer')] == ['timer timeout 00:01:40 every 37']


@pytest.mark.parametrize('every', [0, -3, 2.5, True])
def test_validate_refuses_a_bad_timer_check_interval(every):
    assert 'timeout_every' in validate_parameters(params(NVT, timeout_s=100, timeout_every=every))


def test_continued_stage_keeps_its_step_counter():
    """A stage continued at step 250 starts its counter there, so frames keep the uninterrupted steps."""
    stages = remaining_stages([dict(NVT, steps=1000, dump_every=50)], 0, 250)
    assert stages[0]['start_step'] == 250 and stages[0]['steps'] == 750
    lines = script_lines(params(*stages))
    assert 'reset_timestep 250' in lines and 'run 750' in lines
    again = remaining_stages(stages, 0, 100, step_factor=2)  # halved step: counter and steps doubled
    assert again[0]['start_step'] == 700 and again[0]['steps'] == 1300 and again[0]['dump_every'] == 100


def test_write_script_no_timer_without_timeout():
    assert not any(line.startswith('timer') for line in script_lines(params(NVT)))


def test_write_script_npt_pressure_and_ramp():
    lines = script_lines(params(NPT, with_(NPT, name='p0', pressure_gpa=KeyError, temperature_end_k=KeyError)))
    fix = [line.split() for line in lines if line.startswith('fix md all npt')]
    assert len(fix) == 2
    # fix md all npt temp T0 T1 Tdamp iso P P Pdamp
    assert fix[0][4] == 'temp' and fix[0][8] == 'iso'
    assert [float(x) for x in fix[0][5:8]] == [300.0, 100.0, 0.1]
    assert [float(x) for x in fix[0][9:12]] == [10000.0, 10000.0, 1.0]  # 1 GPa = 10 kbar
    assert [float(x) for x in fix[1][5:8]] == [300.0, 300.0, 0.1]  # no end temperature: constant
    assert [float(x) for x in fix[1][9:12]] == [0.0, 0.0, 1.0]


def test_write_script_nvt_ramp_and_damping():
    lines = script_lines(params(with_(NVT, temperature_k=3000.0, temperature_end_k=300.0), thermostat_damping_ps=0.25,
                                barostat_damping_ps=2.0, timestep_fs=2.0, thermo_every=25, neighbor_skin_a=1.5))
    fix = [line.split() for line in lines if line.startswith('fix md all nvt')]
    assert len(fix) == 1
    assert fix[0][4] == 'temp' and [float(x) for x in fix[0][5:8]] == [3000.0, 300.0, 0.25]
    timestep = [line.split() for line in lines if line.startswith('timestep')]
    assert len(timestep) == 1 and float(timestep[0][1]) == pytest.approx(0.002)  # ps
    assert 'thermo 25' in lines
    assert 'neighbor 1.5 bin' in lines


def test_write_script_push_off_and_nve():
    lines = script_lines(params(PUSH, NVE))
    block = stage_block(lines, 0)
    assert 'fix md all nve/limit 0.05' in block
    berendsen = [line.split() for line in block if 'temp/berendsen' in line]
    assert len(berendsen) == 1 and [float(x) for x in berendsen[0][4:7]] == [4000.0, 4000.0, 0.1]
    assert 'unfix md_t' in block and block.index('unfix md_t') > block.index('run 50')
    nve = stage_block(lines, 1)
    assert 'fix md all nve' in nve and not any('md_t' in line for line in nve)


def test_write_script_minimize_defaults_and_values():
    lines = script_lines(params(MINIMIZE, with_(MINIMIZE, name='m2', etol=1e-8, ftol=1e-5, maxiter=50)))
    mins = [line.split() for line in lines if line.startswith('minimize')]
    assert [float(x) for x in mins[0][1:]] == [1e-6, 1e-4, 1000, 10000]
    assert [float(x) for x in mins[1][1:]] == [1e-8, 1e-5, 50, 500]
    assert lines.count('min_style cg') == 2


def test_write_script_dump_only_in_dumping_stage():
    stages = [MINIMIZE, NVT, with_(NPT, dump_every=25), NVE]
    lines = script_lines(params(*stages))
    for k in (0, 1, 3):
        assert not any('dump' in line for line in stage_block(lines, k))
    block = stage_block(lines, 2)
    dump = [line for line in block if line.startswith('dump ')]
    assert dump == ['dump traj all custom 25 traj.dump id type xu yu zu']
    assert block.index(dump[0]) < block.index('run 100') < block.index('undump traj')
    assert any(line.startswith('dump_modify traj') and 'sort id' in line for line in block)
    assert sum(line.startswith('dump ') for line in lines) == 1


def test_write_script_periodic_restarts_only_for_md_stages():
    lines = script_lines(params(MINIMIZE, NVT, NPT, restart_every=500))
    assert not any(line.startswith('restart ') for line in stage_block(lines, 0))
    for k in (1, 2):
        block = stage_block(lines, k)
        restart = [line for line in block if line.startswith('restart ')]
        assert restart == [f'restart 500 restart.s{k}.*.bin', 'restart 0']
        assert block.index(restart[0]) < block.index('run 100') < block.index('restart 0')
    assert not any(line.startswith('restart ') for line in script_lines(params(NVT)))


def test_write_script_does_not_mutate_parameters():
    p = params(MINIMIZE, NVT)
    before = copy.deepcopy(p)
    write_script(p, LJ, False)
    assert p == before


# ============================================================ first_temperature_k / remaining_stages
def test_first_temperature_k():
    assert first_temperature_k([MINIMIZE, NVE, with_(NVT, temperature_k=1234.0), NPT]) == 1234.0
    assert first_temperature_k([MINIMIZE, NVE]) is None
    assert first_temperature_k([]) is None


RAMP = {'name': 'quench', 'type': 'npt', 'steps': 1000, 'temperature_k': 3000.0, 'temperature_end_k': 300.0,
        'pressure_gpa': 0.0}
PROD = {'name': 'prod', 'type': 'nvt', 'steps': 400, 'temperature_k': 300.0, 'dump_every': 20}


def test_remaining_stages_ramp_interrupted():
    stages = [MINIMIZE, NVT, RAMP, PROD]
    before = copy.deepcopy(stages)
    rest = remaining_stages(stages, 2, 250)
    assert stages == before
    assert [s['name'] for s in rest] == ['quench', 'prod']
    assert rest[0]['steps'] == 750
    assert rest[0]['temperature_k'] == pytest.approx(2325.0)  # 3000 - 0.25 * 2700
    assert rest[0]['temperature_end_k'] == 300.0
    assert rest[0]['pressure_gpa'] == 0.0 and rest[0]['type'] == 'npt'
    assert rest[1] == PROD
    rest[1]['steps'] = 1
    assert stages[3]['steps'] == 400
    assert validate_parameters({'stages': rest}) is None


def test_remaining_stages_step_factor():
    stages = [MINIMIZE, NVT, RAMP, PROD]
    before = copy.deepcopy(stages)
    rest = remaining_stages(stages, 1, 40, step_factor=2)
    assert stages == before
    assert [s['name'] for s in rest] == ['eq', 'quench', 'prod']
    assert [s['steps'] for s in rest] == [120, 2000, 800]  # (100 - 40) * 2, 1000 * 2, 400 * 2
    assert rest[2]['dump_every'] == 40
    assert rest[1]['temperature_k'] == 3000.0 and rest[1]['temperature_end_k'] == 300.0
    assert rest[0]['temperature_k'] == 300.0 and 'temperature_end_k' not in rest[0]


def test_remaining_stages_start_of_stage_and_minimize():
    rest = remaining_stages([MINIMIZE, NVT], 0, 0)
    assert rest == [MINIMIZE, NVT]
    rest = remaining_stages([MINIMIZE, RAMP], 1, 0, step_factor=3)
    assert rest == [with_(RAMP, steps=3000)]


def test_remaining_stages_overrun_clamped():
    rest = remaining_stages([RAMP, PROD], 0, 1500)
    assert rest[0]['steps'] == 0
    assert rest[0]['temperature_k'] == pytest.approx(300.0)
    assert rest[1]['steps'] == 400


def test_remaining_stages_production_interrupted():
    rest = remaining_stages([MINIMIZE, PROD], 1, 100, step_factor=2)
    assert rest == [with_(PROD, steps=600, dump_every=40, start_step=200)]  # the step counter goes on


# ============================================================ real LAMMPS
def run_lammps(directory: Path, timeout=120):
    result = subprocess.run(['boroglass-lmp', '-in', 'in.lmp'], cwd=directory, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return (directory / 'log.lammps').read_text()


def lj_system(seed=0):
    """64 atoms, two species, jittered simple-cubic lattice (3 Å spacing) in a 12 Å box."""
    rng = np.random.default_rng(seed)
    grid = np.array(list(itertools.product(range(4), repeat=3)), dtype=float) * 3.0 + 1.5
    positions = grid + rng.uniform(-0.1, 0.1, grid.shape)
    symbols = ['Li' if i % 2 else 'O' for i in range(64)]
    return positions, np.eye(3) * 12.0, symbols


RUN_STAGES = [
    {'name': 'mini', 'type': 'minimize'},
    {'name': 'eq', 'type': 'nvt', 'steps': 200, 'temperature_k': 300.0, 'dump_every': 50},
    {'name': 'cool', 'type': 'npt', 'steps': 100, 'temperature_k': 300.0, 'temperature_end_k': 100.0,
     'pressure_gpa': 0.0},
]


@pytest.fixture(scope='module')
def lammps_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp('lammps_run')
    positions, cell, symbols = lj_system()
    (directory / 'structure.data').write_text(write_data_file(positions, cell, symbols, ['O', 'Li'],
                                                              {'O': 0.0, 'Li': 0.0}))
    p = {'stages': copy.deepcopy(RUN_STAGES), 'thermo_every': 50, 'restart_every': 100}
    assert validate_parameters(p) is None
    (directory / 'in.lmp').write_text(write_script(p, LJ, from_restart=False))
    log = run_lammps(directory)
    return directory, log, symbols


@pytest.mark.lammps
def test_lammps_run_log(lammps_run):
    directory, text, _ = lammps_run
    log = parse_log(text)
    assert log['errors'] == [] and log['timeout'] is False
    assert log['version'] is not None and re.search(r'\d{4}', log['version'])
    assert [(s['index'], s['name'], s['finished']) for s in log['stages']] == [(0, 'mini', True), (1, 'eq', True),
                                                                              (2, 'cool', True)]
    eq, cool = log['stages'][1]['thermo'], log['stages'][2]['thermo']
    assert eq['step'] == [0.0, 50.0, 100.0, 150.0, 200.0]
    assert cool['step'] == [0.0, 50.0, 100.0]
    assert eq['time'] == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])  # ps with a 1 fs step
    for column in ('temp', 'press', 'pe', 'ke', 'etotal', 'vol', 'density', 'lx', 'ly', 'lz'):
        assert len(eq[column]) == 5 and len(cool[column]) == 3
    assert all(0.0 < t < 2000.0 for t in eq['temp'] + cool['temp'])
    assert eq['vol'] == pytest.approx([1728.0] * 5)  # NVT: 12^3 Å^3
    assert eq['lx'] == pytest.approx([12.0] * 5)
    # density of 32 O + 32 Li in 1728 Å^3, by hand: (32 * 15.999 + 32 * 6.94) / 6.02214e23 / 1.728e-21
    assert eq['density'][0] == pytest.approx((32 * 15.999 + 32 * 6.94) / 6.02214076e23 / 1.728e-21, rel=1e-3)
    assert len(log['stages'][0]['thermo']['step']) >= 1  # minimisation thermo
    # one Performance line per MD run; compare with "Loop time of T on 1 procs for N steps with 64 atoms"
    loops = [(float(m.group(1)), int(m.group(2))) for m in
             re.finditer(r'^Loop time of (\S+) on \d+ procs for (\d+) steps with 64 atoms', text, re.M)]
    md_loops = loops[1:]
    assert len(log['atom_steps_per_s']) == len(md_loops) == 2
    for (seconds, steps), rate in zip(md_loops, log['atom_steps_per_s']):
        assert rate == pytest.approx(64 * steps / seconds, rel=0.02)
    assert log['wall_time_s'] is not None and 0 <= log['wall_time_s'] < 120


@pytest.mark.lammps
def test_lammps_run_progress_and_restart_choice(lammps_run):
    directory, text, _ = lammps_run
    log = parse_log(text)
    done = stage_progress(RUN_STAGES, log['stages'])
    assert done == [0, 200, 100]
    names = sorted(p.name for p in directory.glob('restart.s*.bin'))
    for expected in ('restart.s0.end.bin', 'restart.s1.end.bin', 'restart.s2.end.bin', 'restart.s1.100.bin',
                     'restart.s1.200.bin', 'restart.s2.100.bin'):
        assert expected in names
    assert not any(name.startswith('restart.s0.') and not name.endswith('end.bin') for name in names)
    assert select_restart(RUN_STAGES, done, names) == ('restart.s2.end.bin', 2, 100)


@pytest.mark.lammps
def test_lammps_run_dumps(lammps_run):
    directory, _, symbols = lammps_run
    frames = parse_dump((directory / 'traj.dump').read_text())
    assert frames.steps.tolist() == [0, 50, 100, 150, 200]
    assert frames.positions.shape == (5, 64, 3)
    assert frames.types.tolist() == [1 if s == 'O' else 2 for s in symbols]  # sorted by id
    np.testing.assert_allclose(frames.cells, np.broadcast_to(np.diag([12.0] * 3), (5, 3, 3)), atol=1e-9)
    np.testing.assert_allclose(frames.origins, 0.0, atol=1e-9)
    # frame 0 is the minimised structure: every atom near its lattice site
    positions, _, _ = lj_system()
    assert np.max(np.linalg.norm(frames.positions[0] - positions, axis=1)) < 0.5
    # unwrapped coordinates: no jump of a box length between frames 50 steps apart
    assert np.max(np.abs(np.diff(frames.positions, axis=0))) < 2.0
    final = parse_dump((directory / 'final.dump').read_text())
    assert final.steps.tolist() == [100]
    assert final.types.tolist() == frames.types.tolist()
    lx = final.cells[0, 0, 0]
    assert final.cells[0] == pytest.approx(np.diag([lx] * 3), abs=1e-9)
    inside = (final.positions[0] - final.origins[0]) / lx
    assert np.all((inside >= -1e-6) & (inside <= 1 + 1e-6))  # wrapped positions


@pytest.mark.lammps
def test_lammps_continuation_from_periodic_restart(lammps_run, tmp_path):
    directory, _, _ = lammps_run
    # a crash in stage 1 after step 100: select_restart picks restart.s1.100.bin
    available = ['restart.s0.end.bin', 'restart.s1.100.bin']
    choice = select_restart(RUN_STAGES, [0, None, None], available)
    assert choice == ('restart.s1.100.bin', 1, 100)
    shutil.copy(directory / choice[0], tmp_path / 'restart.in.bin')
    rest = remaining_stages(RUN_STAGES, choice[1], choice[2])
    assert [(s['name'], s.get('steps')) for s in rest] == [('eq', 100), ('cool', 100)]
    p = {'stages': rest, 'thermo_every': 50}
    assert validate_parameters(p) is None
    (tmp_path / 'in.lmp').write_text(write_script(p, LJ, from_restart=True))
    log = parse_log(run_lammps(tmp_path))
    assert log['errors'] == []
    assert [(s['name'], s['finished']) for s in log['stages']] == [('eq', True), ('cool', True)]
    assert log['stages'][0]['thermo']['step'] == [100.0, 150.0, 200.0]  # the stage's counter goes on from 100
    assert stage_progress(rest, log['stages']) == [100, 100]
    frames = parse_dump((tmp_path / 'traj.dump').read_text())
    assert frames.steps.tolist() == [100, 150, 200]
    # the restart file holds the state at step 100 of the first run, unwrapped positions included
    original = parse_dump((directory / 'traj.dump').read_text())
    np.testing.assert_allclose(frames.positions[0], original.positions[2], atol=1e-5)
    assert (tmp_path / 'restart.s0.end.bin').exists() and (tmp_path / 'restart.s1.end.bin').exists()


@pytest.mark.lammps
def test_lammps_reads_triclinic_data_file(tmp_path):
    """LAMMPS reads the rotated triclinic cell: the box and the wrapped positions match."""
    rng = np.random.default_rng(21)
    lower_in = np.array([[11.0, 0.0, 0.0], [2.5, 10.0, 0.0], [-1.5, 2.0, 12.0]])
    cell = lower_in @ random_rotation(rng)
    frac = (np.array(list(itertools.product(range(3), repeat=3)), dtype=float) + 0.5
            + rng.uniform(-0.05, 0.05, (27, 3))) / 3.0
    positions = frac @ cell
    symbols = ['Li', 'O', 'O'] * 9
    (tmp_path / 'structure.data').write_text(write_data_file(positions, cell, symbols, ['Li', 'O'],
                                                             {'Li': 0.0, 'O': 0.0}))
    p = {'stages': [{'name': 'zero', 'type': 'nve', 'steps': 0}]}
    (tmp_path / 'in.lmp').write_text(write_script(p, LJ, from_restart=False))
    log = parse_log(run_lammps(tmp_path))
    assert log['errors'] == [] and [s['finished'] for s in log['stages']] == [True]
    final = parse_dump((tmp_path / 'final.dump').read_text())
    np.testing.assert_allclose(final.cells[0], lower_in, atol=1e-8)
    np.testing.assert_allclose(final.origins[0], 0.0, atol=1e-12)
    assert final.types.tolist() == [1, 2, 2] * 9
    back = (final.positions[0] - final.origins[0]) @ np.linalg.inv(final.cells[0])
    np.testing.assert_allclose(back, frac, atol=1e-4)  # write_dump writes x y z with %g (6 digits)


# ============================================================ field and frozen atoms
FIELD = {'name': 'field', 'type': 'nvt', 'steps': 300, 'temperature_k': 300.0, 'dump_every': 100,
         'efield_v_a': [0.0, 0.0, 0.2], 'frozen_elements': ['O']}


@pytest.mark.parametrize(('changes', 'fragment'), [
    ({'efield_v_a': [0.0, 1.0]}, 'efield_v_a must be a list of three numbers'),
    ({'efield_v_a': 'z'}, 'efield_v_a must be a list of three numbers'),
    ({'frozen_elements': []}, 'frozen_elements must be a non-empty list'),
    ({'frozen_elements': [8]}, 'frozen_elements must be a non-empty list'),
])
def test_validate_rejects_bad_field_stage(changes, fragment):
    message = validate_parameters(params(with_(FIELD, **changes)))
    assert message is not None and fragment in message and 'stages[0]' in message


def test_validate_field_only_on_nvt():
    message = validate_parameters(params(with_(NPT, efield_v_a=[0.0, 0.0, 0.1])))
    assert message is not None and 'efield_v_a' in message


def test_write_script_field_and_frozen_commands():
    lines = script_lines_species(params(FIELD), ['Li', 'O'])
    block = stage_block(lines, 0)
    # O is type 2 of (Li, O); the thermostat integrates the others and ignores their drift
    assert block.index('group md_frozen type 2') < block.index('fix md md_moving nvt temp 300.0 300.0 0.1')
    assert 'velocity md_frozen set 0.0 0.0 0.0' in block
    assert 'fix md_field all efield 0.0 0.0 0.2' in block
    assert block.index('compute md_tcom md_moving temp/com') < block.index('fix_modify md temp md_tcom')
    run = block.index('run 300')
    after = block[run:]
    # what uses a group goes before the group
    assert after.index('unfix md') < after.index('group md_moving delete')
    assert after.index('uncompute md_tcom') < after.index('group md_moving delete')
    assert after.index('unfix md_field') < after.index('group md_frozen delete')


def test_write_script_field_without_frozen_atoms_thermostats_all():
    lines = script_lines_species(params(with_(FIELD, frozen_elements=KeyError)), ['Li', 'O'])
    assert 'fix md all nvt temp 300.0 300.0 0.1' in lines
    assert 'compute md_tcom all temp/com' in lines
    assert not any('group' in line for line in lines)


def script_lines_species(p, species):
    return write_script(p, LJ, False, species).splitlines()


@pytest.mark.lammps
def test_lammps_field_drives_ions_and_frozen_atoms_stay(tmp_path):
    """Real LAMMPS: frozen O do not move at all; +1 ions drift along a field along +z."""
    positions, cell, symbols = lj_system(seed=3)
    (tmp_path / 'structure.data').write_text(write_data_file(positions, cell, symbols, ['Li', 'O'],
                                                             {'Li': 1.0, 'O': -1.0}))
    p = params(FIELD, thermo_every=100)
    assert validate_parameters(p) is None
    (tmp_path / 'in.lmp').write_text(write_script(p, LJ, False, ['Li', 'O']))
    log = parse_log(run_lammps(tmp_path))
    assert log['errors'] == [] and [s['finished'] for s in log['stages']] == [True]
    frames = parse_dump((tmp_path / 'traj.dump').read_text())
    oxygen = frames.types == 2
    moved = frames.positions[-1] - frames.positions[0]
    np.testing.assert_allclose(moved[oxygen], 0.0, atol=1e-6)
    drift = moved[~oxygen].mean(axis=0)
    # 0.2 eV/Å on 32 ions over 0.3 ps: the mean z displacement dominates the x and y ones
    assert drift[2] > 0.1 and drift[2] > 5 * np.abs(drift[:2]).max()
