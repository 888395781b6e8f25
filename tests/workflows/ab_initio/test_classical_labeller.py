"""The classical force field as a labeller: boroglass.dft_label with engine 'classical' on the 21-atom K borate.

Two frames are labelled by real LAMMPS single points: the quenched glass and the same glass
turned by a rotation (its cell no longer LAMMPS' lower-triangular one). The labels are checked
against an independent LAMMPS run of the same force field: its thermo ``pe`` (energy), central
finite differences of that energy (forces) and its thermo ``press`` (trace of the pressure
tensor).
"""
import re
import subprocess

import numpy as np
import pytest
from aiida import engine, orm

from aiida_boroglass.calculations import lammps_inputs as li
from aiida_boroglass.functions.utils import site_symbols
from aiida_boroglass.glass.forcefields import lammps_potential
from aiida_boroglass.workflows.ab_initio.classical_labeller import ClassicalLabeller, frame_forcefield
from aiida_boroglass.workflows.ab_initio.dft_label import DftLabelWorkChain
from aiida_boroglass.workflows.ab_initio.labellers import LABELLERS, Labeller

#: finite-difference step, Å. The force field is tabulated linearly in r^2 (spacing 0.002 Å^2, about
#: 7e-4 Å in r near the B-O bond); the slope of the interpolated energy then differs from the
#: interpolated force by up to |dF/dr| x spacing / 2, a few 1e-3 eV/Å, whatever the step (seen
#: 0.3-3e-3 eV/Å for steps of 0.5-8 mÅ on these atoms). 4 mÅ spans several table intervals and keeps
#: the h^2 error of the central difference below that.
STEP_A = 0.004
#: agreement of forces and finite differences, eV/Å (the table's ripple above; forces are 0.1-1 eV/Å)
FORCE_TOLERANCE_EV_A = 5e-3
#: atoms whose forces are differentiated: one K, one B, one O of the fixture
PROBED_ATOMS = (0, 4, 12)


def rotation_matrix(seed=3):
    """A proper rotation, (3, 3)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def turned(structure, rotation):
    """``structure`` rotated: positions and cell rows mapped by ``v -> rotation @ v``."""
    result = orm.StructureData(cell=(np.array(structure.cell) @ rotation.T).tolist())
    for site in structure.sites:
        result.append_atom(position=(np.array(site.position) @ rotation.T).tolist(), symbols=site.kind_name)
    return result


@pytest.fixture(scope='module')
def labelled(lammps_code, k_borate_21):
    """dft_label with the classical labeller on the glass and on its rotated copy, two at a time."""
    builder = DftLabelWorkChain.get_builder()
    builder.structures = {'glass': k_borate_21, 'turned': turned(k_borate_21, rotation_matrix())}
    builder.engine = 'classical'
    builder.code = lammps_code
    builder.dft = {'forcefield': 'deng_du'}
    builder.options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1},
                       'withmpi': False, 'max_wallclock_seconds': 600}
    builder.max_concurrent = 2
    _, node = engine.run_get_node(builder)
    return node


def finite_difference_script(commands):
    """LAMMPS input: energy at rest, then the energy with each probed atom moved by ±STEP_A along x, y, z."""
    lines = ['units metal', 'atom_style charge', 'boundary p p p', 'read_data structure.data', *commands,
             'thermo_style custom step pe press', 'thermo_modify format float %.15g', 'run 0']
    for atom in PROBED_ATOMS:
        lines.append(f'group probe id {atom + 1}')
        for axis in range(3):
            for sign in (1, -1):
                move = [0.0, 0.0, 0.0]
                move[axis] = sign * STEP_A
                lines += [f'displace_atoms probe move {move[0]} {move[1]} {move[2]} units box', 'run 0',
                          f'print "FD {atom} {axis} {sign} $(pe:%.15g)"',
                          f'displace_atoms probe move {-move[0]} {-move[1]} {-move[2]} units box']
        lines.append('group probe delete')
    return '\n'.join(lines) + '\n'


@pytest.fixture(scope='module')
def independent(k_borate_21, tmp_path_factory):
    """An independent LAMMPS run of the glass with the same force field: thermo pe (eV), press (bar), and
    energies at ±STEP_A moves of the probed atoms {(atom, axis, sign): eV}."""
    folder = tmp_path_factory.mktemp('classical_fd')
    symbols = site_symbols(k_borate_21)
    forcefield = frame_forcefield(symbols, 'deng_du')
    species = sorted(set(symbols))
    commands, table = lammps_potential(forcefield, species)
    (folder / 'potential.table').write_text(table)
    positions = [site.position for site in k_borate_21.sites]
    (folder / 'structure.data').write_text(li.write_data_file(positions, k_borate_21.cell, symbols, species,
                                                              forcefield['charges_e']))
    (folder / 'in.lmp').write_text(finite_difference_script(commands))
    subprocess.run(['boroglass-lmp', '-in', 'in.lmp'], cwd=folder, check=True, capture_output=True)
    log = (folder / 'log.lammps').read_text()
    header = log.splitlines().index(next(line for line in log.splitlines() if line.split() == ['Step', 'PotEng', 'Press']))
    _, pe, press = log.splitlines()[header + 1].split()
    moved = {(int(a), int(x), int(s)): float(e) for a, x, s, e in re.findall(r'^FD (\d+) (\d) (-?1) (\S+)$', log, re.M)}
    return float(pe), float(press), moved


def test_the_classical_labeller_is_registered():
    assert isinstance(LABELLERS['classical'], ClassicalLabeller) and isinstance(LABELLERS['classical'], Labeller)


@pytest.mark.lammps
def test_labels_are_lammps_energy_and_the_gradient_of_it(labelled, independent):
    """Energy = LAMMPS' thermo pe; forces = -dE/dx by central differences; trace/3 of the stress = thermo press."""
    assert labelled.is_finished_ok, labelled.exit_message
    dataset = labelled.outputs.dataset
    assert dataset.base.attributes.get('engine') == 'classical'
    assert dataset.base.attributes.get('frame_keys') == ['glass', 'turned']
    pe, press_bar, moved = independent
    energies, forces = dataset.get_array('energies'), dataset.get_array('forces')
    assert energies[0] == pytest.approx(pe, abs=1e-8)
    for atom in PROBED_ATOMS:
        gradient = [(moved[atom, axis, 1] - moved[atom, axis, -1]) / (2 * STEP_A) for axis in range(3)]
        assert forces[0, atom] == pytest.approx(-np.array(gradient), abs=FORCE_TOLERANCE_EV_A), atom
    assert np.abs(forces[0]).max() > 0.5  # forces worth checking
    pressure_gpa = -dataset.get_array('stress')[0]  # the dataset holds the physical stress: minus the pressure tensor
    assert np.trace(pressure_gpa) / 3 == pytest.approx(press_bar * 1e-4, rel=1e-9, abs=1e-9)
    assert np.allclose(pressure_gpa, pressure_gpa.T)


@pytest.mark.lammps
def test_the_rerun_oracle_of_the_learning_tests_gives_the_labellers_numbers(labelled, classical_labels, k_borate_21,
                                                                           tmp_path):
    """The one-rerun Deng-Du oracle of tests/conftest.py (datasets of the learning tests) equals the labeller:
    energy, forces and the full pressure tensor of the glass frame."""
    reference = np.array([site.position for site in k_borate_21.sites])
    moved = reference.copy()
    moved[0, 0] += 0.05
    energies, forces, pressure = classical_labels(np.stack([reference, moved]), np.array(k_borate_21.cell),
                                                  site_symbols(k_borate_21), tmp_path)
    dataset = labelled.outputs.dataset
    assert energies[0] == pytest.approx(dataset.get_array('energies')[0], abs=1e-8)
    np.testing.assert_allclose(forces[0], dataset.get_array('forces')[0], atol=1e-8)
    np.testing.assert_allclose(pressure[0], -dataset.get_array('stress')[0], atol=1e-8)
    assert np.abs(pressure[0] - np.diag(np.diag(pressure[0]))).max() > 1e-3  # shear terms worth checking
    assert energies[1] != pytest.approx(energies[0], abs=1e-3)  # the second frame, one atom moved, is its own step


@pytest.mark.lammps
def test_labels_of_a_turned_frame_turn_with_it(labelled):
    """The rotated frame: the same energy, forces and pressure tensor rotated (LAMMPS' frame turned back)."""
    dataset = labelled.outputs.dataset
    rotation = rotation_matrix()
    energies, forces, stress = (dataset.get_array(name) for name in ('energies', 'forces', 'stress'))
    assert energies[1] == pytest.approx(energies[0], abs=1e-6)
    assert np.allclose(forces[1], forces[0] @ rotation.T, atol=1e-6)
    assert np.allclose(stress[1], rotation @ stress[0] @ rotation.T, atol=1e-6)


@pytest.mark.parametrize('settings, message', [
    ({'forcefield': 'buckingham'}, "dft.forcefield: 'buckingham' is not one of"),
    ({}, "dft: the classical labeller takes exactly \\['forcefield'\\]"),
    ({'forcefield': 'deng_du', 'cutoff': 10}, 'dft: the classical labeller takes exactly'),
])
def test_bad_classical_settings_are_refused(lammps_code, k_borate_21, settings, message):
    builder = DftLabelWorkChain.get_builder()
    builder.structures = {'glass': k_borate_21}
    builder.engine = 'classical'
    builder.code = lammps_code
    builder.dft = settings
    builder.options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}}
    before = orm.QueryBuilder().append(orm.Node).count()
    with pytest.raises(ValueError, match=message):
        engine.run_get_node(builder)
    assert orm.QueryBuilder().append(orm.Node).count() == before


def test_a_charged_frame_is_refused_naming_it(k_borate_21):
    symbols = site_symbols(k_borate_21)[:-1]  # one oxygen short
    assert LABELLERS['classical'].validate({'forcefield': 'deng_du'}, symbols, 'structures.glass').startswith(
        'structures.glass: counts give a net charge')
