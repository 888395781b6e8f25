"""The AiiDA-free CP2K text parsers on real CP2K 2023.1 output (fixtures/cp2k_*, see README_cp2k.md)."""
from pathlib import Path

import ase.io
import numpy as np
import pytest

from aiida_boroglass.glass.elements import HARTREE_BOHR_EV_A, HARTREE_EV
from aiida_boroglass.parsers.parse_raw.cp2k import (
    parse_atomic_forces,
    parse_cell_file,
    parse_energy_file,
    parse_restart_step,
    parse_stdout,
    parse_stress,
    parse_total_energy,
    parse_xyz_frames,
)

FIXTURES = Path(__file__).parent / 'fixtures'
STRUCTURE = Path(__file__).parents[1] / 'fixtures' / 'k_borate_21.extxyz'


def text(case: str, name: str) -> str:
    return (FIXTURES / f'cp2k_{case}' / name).read_text()


# --- XYZ trajectories ---------------------------------------------------------------------------

def test_md_positions_are_the_input_structure_at_step_zero():
    frames = parse_xyz_frames(text('md', 'aiida-pos-1.xyz'))
    atoms = ase.io.read(STRUCTURE)
    assert frames.steps.tolist() == [0, 1, 2, 3, 4]
    assert np.allclose(frames.times_fs, [0.0, 1.0, 2.0, 3.0, 4.0])
    assert frames.symbols == atoms.get_chemical_symbols()
    assert frames.values.shape == (5, 21, 3)
    assert np.allclose(frames.values[0], atoms.positions, atol=1e-8)
    assert not np.allclose(frames.values[4], atoms.positions, atol=1e-3)  # the atoms moved
    assert frames.energies_ha[0] == pytest.approx(-306.4779724054)


def test_md_forces_of_step_zero_equal_the_single_point_on_the_same_structure():
    """The MD's frame 0 and the ENERGY_FORCE run saw the same structure and DFT settings."""
    md = parse_xyz_frames(text('md', 'aiida-frc-1.xyz')).values[0] * HARTREE_BOHR_EV_A
    single_point = parse_atomic_forces(text('energy_force', 'aiida.out'))
    assert np.allclose(md, single_point, atol=1e-6)


def test_geo_opt_frames_have_no_time_and_start_at_iteration_one():
    frames = parse_xyz_frames(text('geo_opt_max_iter', 'aiida-pos-1.xyz'))
    assert frames.steps.tolist() == [1, 2, 3]
    assert frames.times_fs is None
    assert np.all(np.diff(frames.energies_ha) < 0)  # BFGS lowers the energy


def test_a_frame_cut_while_written_is_refused_unless_the_run_stopped_early():
    content = text('md', 'aiida-pos-1.xyz')
    cut = content[:content.rfind(' O ') + 5]  # the last frame loses its last atom line's numbers
    with pytest.raises(ValueError, match='holds'):
        parse_xyz_frames(cut)
    assert parse_xyz_frames(cut, partial=True).steps.tolist() == [0, 1, 2, 3]


def test_xyz_without_frames_is_refused():
    with pytest.raises(ValueError, match='no frame'):
        parse_xyz_frames('')


# --- cell, energy and restart files -------------------------------------------------------------

def test_cell_file_rows_are_cell_vectors_in_angstrom():
    steps, cells = parse_cell_file(text('md', 'aiida-1.cell'))
    assert steps.tolist() == [0, 1, 2, 3, 4]
    length = ase.io.read(STRUCTURE).cell[0, 0]
    assert np.allclose(cells, np.eye(3) * length, atol=1e-9)


def test_energy_file_columns_in_ev_ps_and_k():
    thermo = parse_energy_file(text('md', 'aiida-1.ener'))
    assert sorted(thermo) == ['conserved_ev', 'kinetic_ev', 'potential_ev', 'step', 'temperature_k', 'time_ps']
    assert thermo['step'].tolist() == [0, 1, 2, 3, 4]
    assert np.allclose(thermo['time_ps'], [0.0, 0.001, 0.002, 0.003, 0.004])
    # first line:  0  0.000000  0.095004460  1000.000000000  -306.477972405  -306.381384537
    assert thermo['kinetic_ev'][0] == pytest.approx(0.095004460 * HARTREE_EV)
    assert thermo['temperature_k'][0] == pytest.approx(1000.0)
    assert thermo['potential_ev'][0] == pytest.approx(-306.477972405 * HARTREE_EV)
    assert thermo['conserved_ev'][0] == pytest.approx(-306.381384537 * HARTREE_EV)
    # the potential energy of each line is the xyz frame's E
    frames = parse_xyz_frames(text('md', 'aiida-pos-1.xyz'))
    assert np.allclose(thermo['potential_ev'], frames.energies_ha * HARTREE_EV, atol=1e-6)


def test_energy_file_drops_a_line_cut_while_written():
    content = text('walltime', 'aiida-1.ener')
    thermo = parse_energy_file(content[:-30])
    assert thermo['step'].tolist() == [0]


def test_restart_file_step_counter():
    assert parse_restart_step(text('walltime', 'aiida-1.restart')) == 1
    assert parse_restart_step(text('md', 'aiida-1.restart')) == 4
    assert parse_restart_step(text('geo_opt_max_iter', 'aiida-1.restart')) == 3
    assert parse_restart_step('&GLOBAL\n&END GLOBAL\n') is None


# --- standard output ----------------------------------------------------------------------------

def test_single_point_energy_forces_and_stress():
    stdout = text('energy_force', 'aiida.out')
    assert parse_total_energy(stdout) == pytest.approx(-306.477972405388925 * HARTREE_EV)
    forces = parse_atomic_forces(stdout)
    assert forces.shape == (21, 3)
    # atom 1:  1  1  K  0.01599175  0.01917086  0.00665479 (Hartree/Bohr)
    assert np.allclose(forces[0], np.array([0.01599175, 0.01917086, 0.00665479]) * HARTREE_BOHR_EV_A)
    # CP2K's own sum line:  SUM OF ATOMIC FORCES  0.01768569  0.00202443  0.00624007
    assert np.allclose(forces.sum(axis=0), np.array([0.01768569, 0.00202443, 0.00624007]) * HARTREE_BOHR_EV_A,
                       atol=2e-7 * HARTREE_BOHR_EV_A)
    stress = parse_stress(stdout)
    assert stress.shape == (3, 3) and np.allclose(stress, stress.T)
    assert stress[0, 1] == pytest.approx(-1.09990168708)
    assert np.trace(stress) / 3 == pytest.approx(2.45965583593)  # STRESS| 1/3 Trace


def test_stress_snippet_with_a_row_missing_is_refused():
    snippet = (' STRESS| Analytical stress tensor [GPa]\n'
               ' STRESS|                        x                   y                   z\n'
               ' STRESS|      x        1.12341097273E+00  -1.09990168708E+00   2.07338103682E+00\n'
               ' STRESS|      y       -1.09990168708E+00   7.01207181641E-01   3.72797446100E-01\n')
    with pytest.raises(ValueError, match='x, y and z'):
        parse_stress(snippet)


def test_md_output_has_no_forces_block_or_stress():
    stdout = text('md', 'aiida.out')
    assert parse_atomic_forces(stdout) is None and parse_stress(stdout) is None


@pytest.mark.parametrize('case, expected', [
    ('md', {'run_type': 'MD', 'md_first_step': 1, 'md_last_step': 4, 'md_steps_done': 4, 'scf_not_converged': 0,
            'exceeded_walltime': False}),
    ('walltime', {'run_type': 'MD', 'md_first_step': 1, 'md_last_step': 1, 'md_steps_done': 1,
                  'exceeded_walltime': True}),
    ('scf_ot', {'run_type': 'ENERGY_FORCE', 'md_first_step': None, 'scf_not_converged': 1,
                'exceeded_walltime': False}),
    ('geo_opt_max_iter', {'run_type': 'GEO_OPT', 'md_steps_done': 0, 'scf_not_converged': 0}),
])
def test_stdout_summary(case, expected):
    summary = parse_stdout(text(case, 'aiida.out'))
    assert summary['cp2k_version'] == '2023.1'
    assert {key: summary[key] for key in expected} == expected
