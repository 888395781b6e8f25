"""Stage options of the elastic workflow: box relaxation and FIRE in ``minimize``, the averaged stress of ``nvt``.

The script tests check the commands written; the ``lammps`` tests run them on 72-atom alpha-quartz
under the SHIK table (one ``pair_style table``, no k-space) and parse the log as the parser does.
"""
from __future__ import annotations

import subprocess
from collections import Counter

import numpy as np
import pytest

from aiida_boroglass.calculations.lammps_inputs import (
    BAR_PER_GPA,
    STRESS_AVERAGE,
    validate_parameters,
    write_data_file,
    write_script,
)
from aiida_boroglass.glass.forcefields import build_forcefield, lammps_potential
from aiida_boroglass.parsers.parse_raw.lammps import parse_log, parse_single_point, parse_stress_averages

BOX = {'name': 'box', 'type': 'minimize', 'pressure_gpa': 1.0, 'etol': 0.0, 'ftol': 1e-10, 'maxiter': 5000}
FIRE = {'name': 'atoms', 'type': 'minimize', 'min_style': 'fire', 'etol': 0.0, 'ftol': 1e-10, 'maxiter': 5000}
AVERAGE = {'name': 'average', 'type': 'nvt', 'steps': 300, 'temperature_k': 300.0, 'average_stress': True}


def lines_of(*stages, **extra):
    return write_script({'stages': list(stages), **extra}, ['pair_style zero 3.0', 'pair_coeff * *'], False).splitlines()


def test_validate_accepts_the_new_keys():
    assert validate_parameters({'stages': [BOX, FIRE, AVERAGE, {'name': 'sp', 'type': 'single_point'}]}) is None


@pytest.mark.parametrize(('stage', 'fragment'), [
    ({**FIRE, 'min_style': 'sd'}, "min_style must be one of ('cg', 'fire'), got 'sd'"),
    ({**BOX, 'min_style': 'fire'}, 'min_style fire cannot relax the box'),
    ({**AVERAGE, 'average_stress': 1}, 'average_stress must be true or false, got 1'),
    ({**BOX, 'pressure_gpa': 'zero'}, "pressure_gpa must be a number (GPa), got 'zero'"),
    ({'name': 'p', 'type': 'npt', 'steps': 10, 'temperature_k': 300.0, 'average_stress': True},
     "unknown keys ['average_stress'] for a npt stage"),
])
def test_validate_refuses_and_names_the_key(stage, fragment):
    message = validate_parameters({'stages': [stage]})
    assert message is not None and fragment in message and message.startswith('parameters.stages[0]: ')


def test_script_box_relaxation_and_fire():
    lines = lines_of(BOX, FIRE)
    box = lines.index(f'fix md_box all box/relax aniso {1.0 * BAR_PER_GPA} vmax 0.001')
    assert lines[box + 1:box + 4] == ['min_style cg', 'minimize 0.0 1e-10 5000 50000', 'unfix md_box']
    atoms = lines.index('min_style fire')
    assert lines[atoms + 1] == 'minimize 0.0 1e-10 5000 50000'
    assert sum('box/relax' in line for line in lines) == 1


def test_script_default_minimize_is_unchanged():
    lines = lines_of({'name': 'm', 'type': 'minimize'})
    assert 'min_style cg' in lines and not any('box/relax' in line for line in lines)


@pytest.mark.parametrize(('start', 'steps'), [(0, 300), (120, 180)])
def test_script_averages_from_the_stage_start_to_its_last_step(start, steps):
    """``fix ave/time 1 N Nfreq``: N = the steps run, output at the last one (start + steps), printed after the run."""
    stage = {**AVERAGE, 'steps': steps, **({'start_step': start} if start else {})}
    lines = lines_of(stage)
    fix = next(line for line in lines if line.startswith('fix md_stress'))
    assert fix.split()[3:6] == ['ave/time', '1', str(steps)] and fix.split()[6] == str(start + steps)
    assert fix.split()[7:] == [f'c_thermo_press[{k}]' for k in range(1, 7)]
    run = lines.index(f'run {steps}')
    assert lines.index(fix) < run
    assert lines[run + 1].startswith(f'print "{STRESS_AVERAGE} 0 {steps} $(f_md_stress[1]:%.15g)')
    assert lines[run + 2] == 'unfix md_stress'


def test_script_without_steps_or_flag_averages_nothing():
    for stage in ({**AVERAGE, 'steps': 0}, {**AVERAGE, 'average_stress': False}):
        assert not any('md_stress' in line for line in lines_of(stage))


def test_parse_stress_averages_by_hand():
    log = '\n'.join(['print "BOROGLASS_STRESS_AVERAGE 2 300 $(f_md_stress[1]:%.15g)"',  # the echoed command
                     f'{STRESS_AVERAGE} 2 300 1 2 3 4 5 6', 'Loop time of 1.0'])
    (pressure, steps), = parse_stress_averages(log).values()
    assert list(parse_stress_averages(log)) == [2] and steps == 300
    assert pressure == pytest.approx(np.array([[1, 4, 5], [4, 2, 6], [5, 6, 3]]))
    assert parse_stress_averages('no marker') == {}


def run_quartz(crystals, directory, stages):
    """Run ``stages`` on the 72-atom quartz under SHIK (thermo every step); return the log."""
    positions, cell, species = crystals.alpha_quartz()
    forcefield = build_forcefield('shik', dict(Counter(species)))
    order = sorted(set(species))
    commands, table = lammps_potential(forcefield, order)
    (directory / 'potential.table').write_text(table)
    (directory / 'structure.data').write_text(write_data_file(positions, cell, list(species), order, forcefield['charges_e']))
    parameters = {'stages': stages, 'thermo_every': 1}
    assert validate_parameters(parameters) is None
    (directory / 'in.lmp').write_text(write_script(parameters, commands, False, order))
    result = subprocess.run(['boroglass-lmp', '-in', 'in.lmp'], cwd=directory, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    return (directory / 'log.lammps').read_text()


@pytest.mark.lammps
def test_box_relaxes_to_the_target_virial_pressure(crystals, tmp_path):
    """The ideal cell is at 2.8 GPa under SHIK; relaxed towards 1 GPa it ends within 0.05 GPa of it, hydrostatic.

    The later NVT stage makes the run draw 300 K velocities at its start: their kinetic pressure
    (0.3 GPa) does not enter the box relaxation (LAMMPS' fix box/relax targets the virial).
    """
    later = {'name': 'later', 'type': 'nvt', 'steps': 0, 'temperature_k': 300.0}
    log = run_quartz(crystals, tmp_path, [BOX, FIRE, {'name': 'sp', 'type': 'single_point'}, later])
    assert 'velocity all create 300.0' in (tmp_path / 'in.lmp').read_text()
    _, pressure = parse_single_point(log)
    gpa = pressure / BAR_PER_GPA
    assert np.diag(gpa) == pytest.approx(np.full(3, 1.0), abs=0.05)
    assert np.abs(gpa - np.diag(np.diag(gpa))).max() < 0.01


@pytest.mark.lammps
def test_averaged_pressure_is_the_mean_over_the_stage_steps(crystals, tmp_path):
    """trace / 3 of the averaged tensor equals the mean thermo pressure of steps 1..300 (step 0 excluded)."""
    log = run_quartz(crystals, tmp_path, [{'name': 'heat', 'type': 'nvt', 'steps': 200, 'temperature_k': 300.0}, AVERAGE])
    (pressure, steps), = parse_stress_averages(log).values()
    assert list(parse_stress_averages(log)) == [1] and steps == 300
    thermo = parse_log(log)['stages'][1]['thermo']
    assert thermo['step'][0] == 0 and thermo['step'][-1] == 300
    assert np.trace(pressure) / 3 == pytest.approx(np.mean(thermo['press'][1:]), rel=1e-6)  # thermo prints 8 digits
    assert np.trace(pressure) / 3 != pytest.approx(np.mean(thermo['press']), rel=1e-6)
