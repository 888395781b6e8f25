"""Tests for the LAMMPS log / dump parsers and the restart choice of the parser.

Synthetic logs and dumps are written by hand here in LAMMPS' formats; expected values are
computed by hand. One test runs the real ``lmp`` with ``timer timeout``.
"""
from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from aiida_boroglass.calculations.lammps_inputs import write_data_file, write_script
from aiida_boroglass.parsers.lammps import select_restart, stage_progress
from aiida_boroglass.parsers.parse_raw.lammps import (
    parse_dump,
    parse_log,
    parse_model_deviation,
    parse_single_point,
    parse_stdout,
)

HEADER = ('   Step          Time           Temp          Press          PotEng         KinEng         TotEng'
          '         Volume        Density           Lx             Ly             Lz      ')


def thermo_row(step, temp=300.0):
    return (f'{step:>10d}   {step * 0.001:<14g} {temp:<14g} 1.5            -100.25        2.5            -97.75'
            '         1000           2.2            10             10             10')


def synthetic_log(body):
    return '\n'.join(['LAMMPS (29 Aug 2024 - Update 1)', 'units metal', *body, 'Total wall time: 1:02:03']) + '\n'


def md_stage(index, name, steps, every, finished=True, extra=()):
    lines = [f'print "BOROGLASS_STAGE_BEGIN {index} {name}"', f'BOROGLASS_STAGE_BEGIN {index} {name}',
             'reset_timestep 0', f'run {steps}', 'Per MPI rank memory allocation (min/avg/max) = 3.1 | 3.1 | 3.1 Mbytes',
             HEADER]
    lines += [thermo_row(s) for s in range(0, steps + 1, every)]
    lines += list(extra)
    if finished:
        lines += [f'Loop time of 0.5 on 1 procs for {steps} steps with 64 atoms', '',
                  'Performance: 1.0 ns/day, 24.0 hours/ns, 100.0 timesteps/s, 45.4 katom-step/s',
                  '99.8% CPU use with 1 MPI tasks x 1 OpenMP threads',
                  'Nlocal:             64 ave          64 max          64 min',
                  f'write_restart restart.s{index}.end.bin',
                  f'print "BOROGLASS_STAGE_END {index} {name}"', f'BOROGLASS_STAGE_END {index} {name}']
    return lines


# ============================================================ parse_log
def test_parse_log_synthetic_two_stages():
    log = parse_log(synthetic_log(md_stage(0, 'melt', 300, 100) + md_stage(1, 'quench_1', 200, 50)))
    assert log['version'] == '29 Aug 2024 - Update 1'
    assert [(s['index'], s['name'], s['finished']) for s in log['stages']] == [(0, 'melt', True),
                                                                              (1, 'quench_1', True)]
    assert log['stages'][0]['thermo']['step'] == [0.0, 100.0, 200.0, 300.0]
    assert log['stages'][1]['thermo']['step'] == [0.0, 50.0, 100.0, 150.0, 200.0]
    assert log['stages'][1]['thermo']['time'] == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])
    thermo = log['stages'][0]['thermo']
    assert thermo['temp'] == [300.0] * 4 and thermo['press'] == [1.5] * 4
    assert thermo['pe'] == [-100.25] * 4 and thermo['ke'] == [2.5] * 4 and thermo['etotal'] == [-97.75] * 4
    assert thermo['vol'] == [1000.0] * 4 and thermo['density'] == [2.2] * 4
    assert thermo['lx'] == thermo['ly'] == thermo['lz'] == [10.0] * 4
    assert log['wall_time_s'] == 3723.0  # 1 h 2 min 3 s
    assert log['atom_steps_per_s'] == pytest.approx([45400.0, 45400.0])
    assert log['errors'] == [] and log['warnings'] == [] and log['timeout'] is False


def test_parse_log_lost_atoms_error_unfinished_stage():
    extra = ['ERROR: Lost atoms: original 10 current 9 (src/thermo.cpp:1)', 'Last command: run 300']
    body = md_stage(0, 'melt', 300, 100) + md_stage(1, 'quench', 300, 100, finished=False, extra=extra)
    log = parse_log('\n'.join(['LAMMPS (29 Aug 2024)', *body]))
    assert log['version'] == '29 Aug 2024'
    assert [(s['name'], s['finished']) for s in log['stages']] == [('melt', True), ('quench', False)]
    assert log['stages'][1]['thermo']['step'] == [0.0, 100.0, 200.0, 300.0]
    assert len(log['errors']) == 1
    assert log['errors'][0].startswith('Lost atoms: original 10 current 9')
    assert log['wall_time_s'] is None
    assert log['atom_steps_per_s'] == [45400.0]
    assert log['timeout'] is False


def test_parse_log_error_on_proc():
    body = md_stage(0, 'melt', 100, 100) + ['ERROR on proc 3: Out of range atoms - cannot compute PPPM (src/pppm.cpp:1)']
    log = parse_log('\n'.join(body))
    assert log['version'] is None
    assert log['errors'] == ['Out of range atoms - cannot compute PPPM (src/pppm.cpp:1)']


def test_parse_log_error_inside_thermo_block():
    extra = ['ERROR on proc 0: Lost atoms: original 64 current 63 (src/thermo.cpp:480)']
    log = parse_log('\n'.join(md_stage(0, 'melt', 200, 100, finished=False, extra=extra)))
    assert log['stages'][0]['thermo']['step'] == [0.0, 100.0, 200.0]
    assert log['errors'] == ['Lost atoms: original 64 current 63 (src/thermo.cpp:480)']


def test_parse_log_timeout_warning():
    extra = ['WARNING: Wall time limit reached (src/timer.cpp:201)']
    body = md_stage(0, 'melt', 300, 100, extra=extra) + ['WARNING: Triclinic box skew is large (src/domain.cpp:221)']
    log = parse_log(synthetic_log(body))
    assert log['timeout'] is True
    assert log['warnings'] == ['WARNING: Wall time limit reached (src/timer.cpp:201)',
                               'WARNING: Triclinic box skew is large (src/domain.cpp:221)']
    assert log['stages'][0]['finished'] is True
    assert log['stages'][0]['thermo']['step'] == [0.0, 100.0, 200.0, 300.0]
    assert log['errors'] == []


def test_parse_log_warning_between_thermo_rows():
    body = md_stage(0, 'melt', 200, 100)
    body.insert(body.index(thermo_row(100)), 'WARNING: Neighbor list overflow, boost neigh_modify one (src/npair.cpp:1)')
    log = parse_log('\n'.join(body))
    assert log['stages'][0]['thermo']['step'] == [0.0, 100.0, 200.0]
    assert len(log['warnings']) == 1 and log['timeout'] is False


@pytest.mark.parametrize(('line', 'expected'), [
    ('Performance: 1.0 ns/day, 24.0 hours/ns, 100.0 timesteps/s, 45.4 katom-step/s', 45400.0),
    ('Performance: 9812.991 ns/day, 0.002 hours/ns, 113576.284 timesteps/s, 7.269 Matom-step/s', 7.269e6),
    ('Performance: 0.500 ns/day, 48.000 hours/ns, 5.787 timesteps/s, 370.370 atom-step/s', 370.37),
])
def test_parse_log_performance_units(line, expected):
    log = parse_log(line + '\n')
    assert log['atom_steps_per_s'] == pytest.approx([expected])


def test_parse_log_wall_time_hours_above_24():
    assert parse_log('Total wall time: 30:00:01\n')['wall_time_s'] == 30 * 3600 + 1.0


def test_parse_log_ignores_thermo_outside_stage_and_echoed_markers():
    text = '\n'.join([HEADER, thermo_row(0), 'Loop time of 0.1 on 1 procs for 0 steps with 64 atoms',
                      'print "BOROGLASS_STAGE_BEGIN 0 melt"'])
    log = parse_log(text)
    assert log['stages'] == []


def test_parse_log_empty():
    log = parse_log('')
    assert log == {'version': None, 'stages': [], 'errors': [], 'warnings': [], 'timeout': False,
                   'wall_time_s': None, 'atom_steps_per_s': []}


# ============================================================ parse_dump
def dump_frame(step, bounds_header, bounds, rows, columns='id type xu yu zu'):
    lines = ['ITEM: TIMESTEP', str(step), 'ITEM: NUMBER OF ATOMS', str(len(rows)), f'ITEM: BOX BOUNDS {bounds_header}']
    lines += [' '.join(f'{v:.16e}' for v in b) for b in bounds]
    lines += [f'ITEM: ATOMS {columns}']
    lines += [f'{int(r[0])} {int(r[1])} {r[2]:.10g} {r[3]:.10g} {r[4]:.10g}' for r in rows]
    return '\n'.join(lines) + '\n'


def triclinic_bounds(origin, lengths, tilts):
    """LAMMPS' bounding box convention for a triclinic dump header (written by hand)."""
    xlo, ylo, zlo = origin
    lx, ly, lz = lengths
    xy, xz, yz = tilts
    xhi, yhi, zhi = xlo + lx, ylo + ly, zlo + lz
    xlo_b = xlo + min(0.0, xy, xz, xy + xz)
    xhi_b = xhi + max(0.0, xy, xz, xy + xz)
    ylo_b = ylo + min(0.0, yz)
    yhi_b = yhi + max(0.0, yz)
    return [(xlo_b, xhi_b, xy), (ylo_b, yhi_b, xz), (zlo, zhi, yz)]


@pytest.mark.parametrize(('origin', 'lengths', 'tilts'), [
    ((0.0, 0.0, 0.0), (10.0, 9.0, 8.0), (2.0, 1.5, -1.0)),
    ((-1.0, 2.0, 0.5), (10.0, 9.0, 8.0), (-3.0, 1.0, 2.5)),
    ((0.25, -0.5, -3.0), (12.0, 11.0, 13.0), (-2.0, -2.5, -4.0)),
    ((1.0, 1.0, 1.0), (12.0, 11.0, 13.0), (4.0, -6.0, 3.0)),
])
def test_parse_dump_triclinic_box(origin, lengths, tilts):
    rows = [(2, 1, 0.1, 0.2, 0.3), (1, 2, 1.0, 2.0, 3.0)]
    header = 'xy xz yz pp pp pp'
    text = dump_frame(500, header, triclinic_bounds(origin, lengths, tilts), rows)
    frames = parse_dump(text)
    (lx, ly, lz), (xy, xz, yz) = lengths, tilts
    np.testing.assert_allclose(frames.cells[0], [[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]], atol=1e-12)
    np.testing.assert_allclose(frames.origins[0], origin, atol=1e-12)
    assert frames.steps.tolist() == [500]


def test_parse_dump_orthogonal_sorted_multi_frame():
    rng = np.random.default_rng(0)
    n = 7
    true = rng.uniform(0, 10, (2, n, 3))
    types = np.array([1, 2, 2, 1, 3, 1, 2])
    text = ''
    for f, step in enumerate((0, 250)):
        order = rng.permutation(n)
        rows = [(i + 1, types[i], *true[f, i]) for i in order]
        bounds = [(-1.0, 9.0), (0.0, 11.0), (2.0, 14.0)] if f == 0 else [(-1.5, 9.5), (0.0, 11.0), (2.0, 14.0)]
        text += dump_frame(step, 'pp pp pp', bounds, rows, columns='id type x y z')
    frames = parse_dump(text)
    assert frames.steps.tolist() == [0, 250]
    assert frames.types.tolist() == types.tolist()
    np.testing.assert_allclose(frames.positions, true, atol=1e-8)
    np.testing.assert_allclose(frames.cells[0], np.diag([10.0, 11.0, 12.0]))
    np.testing.assert_allclose(frames.cells[1], np.diag([11.0, 11.0, 12.0]))
    np.testing.assert_allclose(frames.origins, [[-1.0, 0.0, 2.0], [-1.5, 0.0, 2.0]])
    assert frames.cells.shape == (2, 3, 3) and frames.positions.shape == (2, n, 3)


def test_parse_dump_errors():
    with pytest.raises(ValueError):
        parse_dump('')
    good = dump_frame(0, 'pp pp pp', [(0, 5), (0, 5), (0, 5)], [(1, 1, 0, 0, 0), (2, 1, 1, 1, 1)])
    bad = dump_frame(10, 'pp pp pp', [(0, 5), (0, 5), (0, 5)], [(1, 1, 0, 0, 0)])
    with pytest.raises(ValueError):
        parse_dump(good + bad)


# ============================================================ stage_progress / select_restart
STAGES = [
    {'name': 'mini', 'type': 'minimize'},
    {'name': 'melt', 'type': 'nvt', 'steps': 1000, 'temperature_k': 3000.0},
    {'name': 'quench', 'type': 'npt', 'steps': 2000, 'temperature_k': 3000.0, 'temperature_end_k': 300.0},
]


def parsed(index, finished, steps, loop_steps=None):
    """A parsed stage as parse_log returns it; ``loop_steps`` defaults to the last thermo step."""
    if loop_steps is None and finished and steps:
        loop_steps = int(steps[-1])
    return {'index': index, 'name': STAGES[index]['name'], 'finished': finished, 'loop_steps': loop_steps,
            'thermo': {'step': [float(s) for s in steps]}}


def test_stage_progress():
    assert stage_progress(STAGES, []) == [None, None, None]
    complete = [parsed(0, True, [0, 37]), parsed(1, True, [0, 500, 1000]), parsed(2, True, [0, 1000, 2000])]
    assert stage_progress(STAGES, complete) == [0, 1000, 2000]  # a minimisation counts as 0 steps
    crashed = [parsed(0, True, [0, 37]), parsed(1, False, [0, 500])]
    assert stage_progress(STAGES, crashed) == [0, None, None]
    timed_out = [parsed(0, True, [0, 37]), parsed(1, True, [0, 500, 700]), parsed(2, True, [])]
    assert stage_progress(STAGES, timed_out) == [0, 700, 0]
    # a timeout stops between thermo lines: the Loop-time step count is the progress, not the last thermo row
    between = [parsed(0, True, [0, 37]), parsed(1, True, [0, 500, 700], loop_steps=741), parsed(2, True, [])]
    assert stage_progress(STAGES, between) == [0, 741, 0]


def test_select_restart_complete_run():
    names = ['restart.s0.end.bin', 'restart.s1.end.bin', 'restart.s2.end.bin', 'restart.s2.1000.bin',
             'restart.s1.500.bin']
    assert select_restart(STAGES, [0, 1000, 2000], names) == ('restart.s2.end.bin', 2, 2000)


def test_select_restart_timed_out_stage_with_end_file():
    names = ['restart.s0.end.bin', 'restart.s1.500.bin', 'restart.s1.end.bin', 'restart.s2.end.bin']
    assert select_restart(STAGES, [0, 700, 0], names) == ('restart.s1.end.bin', 1, 700)


def test_select_restart_crash_with_periodic_restarts():
    names = ['restart.s0.end.bin', 'restart.s1.end.bin', 'restart.s2.200.bin', 'restart.s2.1000.bin',
             'restart.s2.800.bin', 'restart.s1.500.bin']
    # highest step numerically (1000 > 800 although '800' > '1000' as strings)
    assert select_restart(STAGES, [0, 1000, None], names) == ('restart.s2.1000.bin', 2, 1000)


def test_select_restart_crash_without_periodic_restart():
    names = ['restart.s0.end.bin', 'restart.s1.end.bin', 'restart.s1.500.bin']
    assert select_restart(STAGES, [0, 1000, None], names) == ('restart.s1.end.bin', 2, 0)
    assert select_restart(STAGES, [0, None, None], ['restart.s0.end.bin']) == ('restart.s0.end.bin', 1, 0)


def test_select_restart_nothing():
    assert select_restart(STAGES, [None, None, None], []) is None
    assert select_restart(STAGES, [0, None, None], []) is None
    # a restart of another stage than the interrupted one is no use
    assert select_restart(STAGES, [0, None, None], ['restart.s2.100.bin']) is None


# ============================================================ real LAMMPS: timer timeout
def run_until_timeout(directory, thermo_every):
    """Run a 100-million-step NVT stage stopped after 1 s by ``timer timeout`` (checked every 100 steps)."""
    rng = np.random.default_rng(0)
    grid = np.array(list(itertools.product(range(4), repeat=3)), dtype=float) * 3.0 + 1.5
    positions = grid + rng.uniform(-0.1, 0.1, grid.shape)
    symbols = ['Li' if i % 2 else 'O' for i in range(64)]
    (directory / 'structure.data').write_text(write_data_file(positions, np.eye(3) * 12.0, symbols, ['O', 'Li'],
                                                              {'O': 0.0, 'Li': 0.0}))
    stages = [{'name': 'mini', 'type': 'minimize'},
              {'name': 'long', 'type': 'nvt', 'steps': 100_000_000, 'temperature_k': 300.0}]
    p = {'stages': stages, 'thermo_every': thermo_every, 'timeout_s': 1, 'timeout_every': 100}
    (directory / 'in.lmp').write_text(write_script(p, ['pair_style lj/cut 3.0', 'pair_coeff * * 0.01 2.0'], False))
    result = subprocess.run(['boroglass-lmp', '-in', 'in.lmp'], cwd=directory, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    text = (directory / 'log.lammps').read_text()
    # steps LAMMPS really ran in the timed-out stage ("Loop time of T on P procs for N steps ...")
    loops = re.findall(r'^Loop time of \S+ on \d+ procs for (\d+) steps', text, re.M)
    final = parse_dump((directory / 'final.dump').read_text())
    assert final.steps.tolist() == [int(loops[-1])]  # the end restart / final dump hold that step
    return stages, parse_log(text), int(loops[-1])


@pytest.mark.lammps
def test_lammps_timeout_is_detected_and_restartable(tmp_path):
    """A run stopped by ``timer timeout`` (1 s): the stage ends early with its end restart file."""
    stages, log, steps_run = run_until_timeout(tmp_path, thermo_every=100)
    assert log['timeout'] is True
    assert log['errors'] == []
    assert [(s['name'], s['finished']) for s in log['stages']] == [('mini', True), ('long', True)]
    assert 0 < steps_run < 100_000_000 and steps_run % 100 == 0
    done = stage_progress(stages, log['stages'])
    assert done == [0, steps_run]
    names = [path.name for path in tmp_path.glob('restart.s*.bin')]
    assert select_restart(stages, done, names) == ('restart.s1.end.bin', 1, steps_run)


@pytest.mark.lammps
def test_lammps_timeout_progress_with_sparse_thermo(tmp_path):
    """With ``thermo_every`` not dividing the timer's check interval (100 steps) LAMMPS stops between
    thermo lines and prints none at the stop step: the progress must still be the step of the
    end restart file, which the continuation starts from."""
    stages, log, steps_run = run_until_timeout(tmp_path, thermo_every=1_000_000)
    assert log['timeout'] is True and steps_run > 0
    done = stage_progress(stages, log['stages'])
    names = [path.name for path in tmp_path.glob('restart.s*.bin')]
    assert select_restart(stages, done, names) == ('restart.s1.end.bin', 1, steps_run)


def test_parse_dump_partial_drops_only_a_cut_last_frame():
    """A run killed while writing a frame: with ``partial`` the cut frame is dropped, without it refused."""
    frame = ('ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n0 10\n0 10\n0 10\n'
             'ITEM: ATOMS id type xu yu zu\n1 1 0.5 0.5 0.5\n2 2 1.5 1.5 1.5\n')
    text = frame.format(step=0) + frame.format(step=10)
    assert parse_dump(text, partial=True).steps.tolist() == [0, 10]  # a whole last frame is kept
    cut = text[:-8]
    assert parse_dump(cut, partial=True).steps.tolist() == [0]
    with pytest.raises(ValueError):
        parse_dump(cut)


def test_parse_stdout_collects_every_rank_and_the_launcher():
    text = ('ERROR on proc 1: Pair distance < table inner cutoff (src/pair_table.cpp:129)\n'
            'ERROR on proc 1: Pair distance < table inner cutoff (src/pair_table.cpp:129)\n'
            '=   EXIT CODE: 9\n'
            'YOUR APPLICATION TERMINATED WITH THE EXIT STRING: Killed (signal 9)\n')
    parsed = parse_stdout(text)
    assert parsed['errors'] == ['Pair distance < table inner cutoff (src/pair_table.cpp:129)']
    assert parsed['termination'] == 'Killed (signal 9)' and parsed['timeout'] is False
    assert parse_stdout('=   EXIT CODE: 139\n')['termination'] == 'exit code 139'


# ============================================================ DeePMD model deviation, single point
MODEL_DEVI = Path(__file__).parent / 'fixtures' / 'lammps_deepmd' / 'model_devi.s1.out'


def test_model_deviation_of_a_real_lammps_file():
    """LAMMPS' pair_style deepmd file (fixtures/lammps_deepmd): header skipped, every column by name."""
    rows = parse_model_deviation(MODEL_DEVI.read_text())
    assert rows['step'].dtype.kind == 'i' and rows['step'].tolist() == [0, 10, 20, 30, 40, 50, 60]
    # the row of step 30 as written: 4.451345e-01 4.093078e-03 2.007676e-01 1.063337e+00 1.942708e-01 5.031005e-01
    assert [rows[name][3] for name in ('max_devi_v', 'min_devi_v', 'avg_devi_v', 'max_devi_f', 'min_devi_f',
                                       'avg_devi_f')] == [0.4451345, 0.004093078, 0.2007676, 1.063337, 0.1942708, 0.5031005]


def test_model_deviation_after_a_restart_and_cut_short():
    """Opened after ``read_restart`` LAMMPS appends without a header; a row cut while written is dropped."""
    lines = MODEL_DEVI.read_text().splitlines(keepends=True)
    full = parse_model_deviation(''.join(lines))
    no_header = parse_model_deviation(''.join(lines[1:]))
    cut = parse_model_deviation(''.join(lines)[:-40])
    assert all(np.array_equal(full[name], no_header[name]) for name in full)
    assert cut['step'].tolist() == [0, 10, 20, 30, 40, 50]
    assert parse_model_deviation(lines[0])['max_devi_f'].shape == (0,)


def test_single_point_line_gives_energy_and_symmetric_pressure_tensor():
    log = ('print "BOROGLASS_SINGLE_POINT $(pe:%.15g) $(pxx:%.15g)"\n'
           'BOROGLASS_SINGLE_POINT -249.5 100 200 300 -10 -20 -30\n')
    energy, pressure = parse_single_point(log)
    assert energy == -249.5
    assert pressure.tolist() == [[100, -10, -20], [-10, 200, -30], [-20, -30, 300]]  # pxy, pxz, pyz off the diagonal
    assert parse_single_point('no such line\n') is None
