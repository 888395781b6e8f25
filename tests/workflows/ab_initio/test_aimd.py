"""``boroglass.aimd``: refusals before launch, and one real CP2K run of the whole ladder on a 21-atom glass.

The real run (fast protocol shortened to 15 MD steps, SZV / 200 Ry, one core) goes through
every stage kind: geometry optimisation, heating, top, final, production and a field run with
the B-O network fixed; it takes about a minute here.
"""
import re

import numpy as np
import pytest
from aiida import engine, orm
from aiida.common.log import configure_logging
from click.testing import CliRunner

from aiida_boroglass.calculations.cp2k_inputs import MIN_ATOMS, single_point_parameters
from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.glass.elements import ATOMIC_MASSES_G_MOL, AVOGADRO_PER_MOL, CM3_PER_A3, FIELD_AU_V_A
from aiida_boroglass.workflows.ab_initio.aimd import AimdWorkChain
from aiida_boroglass.workflows.ab_initio.cp2k_base import BoroglassCp2kBaseWorkChain

#: One core per CP2K job in tests (the machine has two and the suite runs other engines).
ONE_CORE = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1, 'num_cores_per_mpiproc': 1},
            'max_wallclock_seconds': 1800}

#: Ladder 300 -> 700 -> 300 K in 15 steps of 1 fs, every frame stored.
SHORT = {
    'geo_opt': {'max_iter': 2, 'max_force_ha_bohr': 1.0e-4},  # not converged in 2 steps: the MD takes the last
    'md': {'print_every': 1},
    'schedule': {'start_temperature_k': 300.0, 'top_temperature_k': 700.0, 'step_k': 400.0, 'step_ps': 0.003,
                 'top_ps': 0.003, 'final_ps': 0.002, 'production_ps': 0.004},
    'field': {'field_au': [0.0, 0.0, 0.02], 'fix_network': True, 'duration_ps': 0.002},
    'options': ONE_CORE,
}
#: Stage -> (first, last) MD step of the run above.
STAGE_STEPS = {'heat_0300K': (0, 3), 'top_0700K': (4, 6), 'final_0300K': (7, 8), 'production': (9, 12),
               'field': (13, 14)}


def node_count() -> int:
    return orm.QueryBuilder().append(orm.Node).count()


def assert_refused(build, field: str, allowed: str = ''):
    """Refused naming ``field`` (and ``allowed``) by the builder's port validators or at launch; nothing stored.

    ``build()`` returns the inputs a launch would pass; a port validator may already refuse there.
    """
    before = node_count()
    try:
        inputs = build()
    except ValueError as error:
        message = str(error)
    else:
        message = str(AimdWorkChain.spec().inputs.validate(inputs))
        with pytest.raises(ValueError, match=re.escape(field)):
            engine.run(AimdWorkChain, **inputs)
    assert field in message and allowed in message, message
    assert node_count() == before


def aimd_inputs(cp2k_code, structure, **overrides) -> dict:
    builder = AimdWorkChain.get_builder_from_protocol(cp2k_code, structure=structure, protocol='fast',
                                                      overrides=overrides)
    return builder._inputs(prune=True)


@pytest.mark.parametrize('overrides,field,allowed', [
    ({'dft': {'basis_set': 'TZVP-MOLOPT-GTH'}}, 'dft.basis_set', 'SZV-MOLOPT-SR-GTH'),
    ({'dft': {'cutoff_ry': 5}}, 'dft.cutoff_ry', '[50, 2000] Ry'),
    ({'schedule': {'step_k': -400.0}}, 'schedule.step_k', 'must be > 0'),
    ({'schedule': {'top_temperature_k': 100.0}}, 'schedule.top_temperature_k', 'below start_temperature_k'),
    ({'schedule': {'production_ps': 0.0001}}, 'schedule', 'shorter than one time step'),
    ({'field': {'field_au': [0.0, 0.02], 'duration_ps': 0.1}}, 'field.field_au', 'three numbers'),
    ({'field': {'field_au': [0.0, 0.0, 0.02], 'fix_network': 'yes', 'duration_ps': 0.1}}, 'field.fix_network',
     'true or false'),
    ({'md': {'timestep_fs': 5.0}}, 'md.timestep_fs', '(0, 2] fs'),
    ({'geo_opt': {'max_iter': 0}}, 'geo_opt.max_iter', 'integer >= 1'),
])
def test_bad_settings_are_refused_before_launch(cp2k_code, k_borate_21, overrides, field, allowed):
    """Bad DFT, ladder, field, MD and optimiser settings: one line naming the field, nothing stored."""
    assert_refused(lambda: aimd_inputs(cp2k_code, k_borate_21, **overrides), field, allowed)


def test_too_small_and_unsupported_structures_are_refused(cp2k_code, k_borate_21):
    """Fewer atoms than a Γ-point cell allows, and an element without a GTH-PBE pseudopotential."""
    small = orm.StructureData(ase=k_borate_21.get_ase()[:MIN_ATOMS - 1])
    assert_refused(lambda: aimd_inputs(cp2k_code, small), 'structure', f'at least {MIN_ATOMS} atoms')
    atoms = k_borate_21.get_ase()
    atoms.symbols[0] = 'Ca'
    assert_refused(lambda: aimd_inputs(cp2k_code, orm.StructureData(ase=atoms)), 'dft',
                   "no GTH-PBE pseudopotential for ['Ca']")


def test_composition_without_classical_route_or_structure_is_refused(cp2k_code):
    """No structure and no LAMMPS inputs for the classical start: refused naming melt_quench."""
    builder = AimdWorkChain.get_builder_from_protocol(cp2k_code, structure=None, protocol='fast')
    builder.composition = CompositionData('40K2O-60B2O3')
    builder.n_atoms = 40
    assert_refused(lambda: builder._inputs(prune=True), 'melt_quench', 'give a structure')
    bare = AimdWorkChain.get_builder_from_protocol(cp2k_code, protocol='fast')
    assert_refused(lambda: bare._inputs(prune=True), 'structure', 'composition and n_atoms')


@pytest.fixture(scope='module')
def aimd_node(cp2k_code, k_borate_21):
    """The shortened fast AIMD of the 21-atom glass with a field run (real CP2K)."""
    configure_logging(with_orm=True)  # a `verdi` command run in-process earlier leaves reports out of the database
    builder = AimdWorkChain.get_builder_from_protocol(cp2k_code, structure=k_borate_21, protocol='fast',
                                                      overrides=SHORT)
    _, node = engine.run_get_node(builder)
    assert node.is_finished_ok, (node.exit_status, node.exit_message)
    return node


def test_unconverged_pre_relaxation_hands_its_last_geometry_to_the_md(aimd_node):
    """One CP2K run of 2 BFGS steps, not converged and not continued: its last geometry starts the MD, reported."""
    from aiida.cmdline.utils.common import get_workchain_report

    geo_opt = next(node for node in aimd_node.called if node.label == 'geo_opt')
    calculations = [node for node in geo_opt.called if 'output_structure' in node.outputs]
    assert geo_opt.exit_status == 401 and len(calculations) == 1
    optimised = aimd_node.outputs.optimised_structure
    assert optimised.uuid == calculations[0].outputs.output_structure.uuid
    cell = np.array(optimised.cell)
    moved = optimised.get_ase().positions - aimd_node.outputs.initial_structure.get_ase().positions
    fractional = moved @ np.linalg.inv(cell)
    moved = (fractional - np.round(fractional)) @ cell  # minimum image: CP2K may wrap what the start did not
    assert 1e-4 < np.abs(moved).max() < 0.5  # two BFGS steps moved the atoms, a little
    assert 'the MD starts from its last geometry' in get_workchain_report(aimd_node, 'REPORT')


def test_stages_continue_one_step_counter_without_gap_or_duplicate(aimd_node):
    """Every stage's trace starts one step after the previous ended; the steps 0..14 appear once each."""
    thermo = aimd_node.outputs.thermo
    assert set(thermo) == set(STAGE_STEPS)
    for name, (first, last) in STAGE_STEPS.items():
        steps = thermo[name].get_array('step')
        assert list(steps) == list(range(first, last + 1)), name
        assert np.all(np.diff(thermo[name].get_array('time_ps')) == pytest.approx(0.001))


def test_thermostat_follows_the_ladder_and_energy_is_conserved(aimd_node):
    """The Nose-Hoover conserved quantity drifts by under 1 meV/atom in every stage; each stage's thermostat
    runs at its rung, a new rung with a fresh Nose-Hoover chain, the field stage keeping production's chain."""
    thermo = aimd_node.outputs.thermo
    for name in STAGE_STEPS:
        conserved = thermo[name].get_array('conserved_ev')
        assert np.ptp(conserved) / 21 < 1e-3, name
    assert thermo['heat_0300K'].get_array('temperature_k')[0] == pytest.approx(300.0)  # velocities drawn at 300 K
    stages = {node.label: node.inputs.cp2k.parameters.get_dict() for node in aimd_node.called
              if node.label in STAGE_STEPS}
    expected = {'heat_0300K': 300.0, 'top_0700K': 700.0, 'final_0300K': 300.0, 'production': 300.0, 'field': 300.0}
    assert {name: params['MOTION']['MD']['TEMPERATURE'] for name, params in stages.items()} == expected
    assert 'EXT_RESTART' not in stages['heat_0300K']
    assert {name: stages[name]['EXT_RESTART']['RESTART_THERMOSTAT'] for name in expected if name != 'heat_0300K'} == {
        'top_0700K': '.FALSE.', 'final_0300K': '.FALSE.', 'production': '.TRUE.', 'field': '.FALSE.'}


def test_production_trajectory_is_in_our_units(aimd_node):
    """Frames 9..12 at 1 fs; positions Å inside a few Å of the cell, energies eV, forces eV/Å, cells Å."""
    trajectory = aimd_node.outputs.trajectory
    assert list(trajectory.get_stepids()) == [9, 10, 11, 12]
    assert np.allclose(np.diff(trajectory.get_array('times')), 0.001)
    assert np.allclose(trajectory.get_cells(), aimd_node.outputs.initial_structure.cell)
    energies = trajectory.get_array('energies')
    assert energies.shape == (4,) and -9000 < energies.mean() < -7000  # about -306 Ha = -8340 eV
    forces = trajectory.get_array('forces')
    assert forces.shape == (4, 21, 3) and 0.05 < np.abs(forces).max() < 20
    assert np.allclose(aimd_node.outputs.structure.get_ase().positions, trajectory.get_positions()[-1], atol=1e-5)


def test_network_is_fixed_in_the_field_run(aimd_node):
    """With fix_network, B and O do not move in the field run, K does; the field output is in V/Å."""
    trajectory = aimd_node.outputs.field_trajectory
    positions = trajectory.get_positions()
    symbols = np.array(trajectory.symbols)
    network = np.isin(symbols, ['B', 'O'])
    assert np.abs(positions[:, network] - positions[0, network]).max() < 1e-6
    assert np.abs(positions[:, ~network] - positions[0, ~network]).max() > 1e-4
    field = aimd_node.outputs.field.get_dict()
    assert field['efield_v_a'] == pytest.approx([0.0, 0.0, 0.02 * FIELD_AU_V_A])
    assert field['frozen_elements'] == ['B', 'O'] and 'K' in field['species']


def test_glass_is_analysed_like_a_classical_one(aimd_node):
    """Density by hand from masses and volume; N4 and oxygen fractions present; ``verdi data boroglass show``."""
    from aiida_boroglass.cli.data import data_boroglass

    structure = aimd_node.outputs.structure
    mass = sum(ATOMIC_MASSES_G_MOL[site.kind_name] for site in structure.sites) / AVOGADRO_PER_MOL
    assert aimd_node.outputs.density_g_cm3.value == pytest.approx(mass / (structure.get_cell_volume() * CM3_PER_A3))
    assert 0.0 <= aimd_node.outputs.boron['n4'] <= 1.0
    oxygen = aimd_node.outputs.oxygen
    assert oxygen['bo_fraction'] + oxygen['nbo_fraction'] + oxygen['free_fraction'] == pytest.approx(1.0)
    result = CliRunner().invoke(data_boroglass, ['show', str(aimd_node.pk)])
    assert result.exit_code == 0, result.output
    assert 'PBE/SZV-MOLOPT-SR-GTH' in result.output and 'n4' in result.output


def test_field_changes_the_force_on_each_cation_by_q_e(cp2k_code, k_borate_21):
    """One step in 0.02 a.u. along z: each K+ feels ~ +1 e x E more along z, and little across (Born charge ~1)."""
    symbols = [site.kind_name for site in k_borate_21.sites]
    dft = AimdWorkChain.get_protocol_inputs('fast')['dft']
    forces = {}
    for label, field in (('none', None), ('z', [0.0, 0.0, 0.02])):
        builder = BoroglassCp2kBaseWorkChain.get_builder()
        builder.cp2k.code = cp2k_code
        builder.cp2k.structure = k_borate_21
        builder.cp2k.parameters = orm.Dict(single_point_parameters(symbols, {**dft, 'eps_scf': 1e-6}, field_au=field))
        builder.cp2k.metadata.options = {**ONE_CORE, 'withmpi': False}
        _, node = engine.run_get_node(builder)
        assert node.is_finished_ok, node.exit_status
        forces[label] = node.outputs.labels.get_array('forces_ev_a')
    qe = 0.02 * FIELD_AU_V_A  # eV/Å on a charge of +1 e
    cations = np.array(symbols) == 'K'
    change = forces['z'][cations] - forces['none'][cations]
    assert np.all(change[:, 2] / qe > 0.8) and np.all(change[:, 2] / qe < 1.25), change[:, 2] / qe
    assert np.abs(change[:, :2]).max() < 0.15 * qe


def test_table_and_ladder_plot(aimd_node, tmp_path):
    """``verdi data boroglass table`` of an AIMD: one row with the glass's numbers, JSON and the ladder plot."""
    import json

    from aiida_boroglass.cli.results import show_results

    assert show_results([aimd_node], tmp_path)
    rows = json.loads((tmp_path / 'aimd.json').read_text())
    assert len(rows) == 1 and rows[0]['pk'] == aimd_node.pk
    assert (rows[0]['n_atoms'], rows[0]['production_frames']) == (21, 4)
    assert rows[0]['n4'] == pytest.approx(aimd_node.outputs.boron['n4'])
    assert (tmp_path / 'aimd_ladder.png').stat().st_size > 10_000


def test_transport_and_structure_panel_take_the_aimd_trajectory(aimd_node):
    """One analysis path: the classical MSD calcfunction equals a naive double loop over the AIMD frames of K,
    and the structure panel's pair distributions run on the same node."""
    from aiida_boroglass.functions.structure import pair_distributions
    from aiida_boroglass.functions.transport import diffusion_at_temperature

    trajectory = aimd_node.outputs.trajectory
    result = diffusion_at_temperature(orm.Float(300.0), orm.Dict({'min_points': 3}), production=trajectory)
    msd = result['msd']
    positions = trajectory.get_positions()[:, np.array(trajectory.symbols) == 'K']
    lags = msd.get_array('lags_ps')
    for index, lag in enumerate(np.rint(lags / 0.001).astype(int)):
        naive = np.mean([np.sum((positions[t + lag] - positions[t]) ** 2, axis=-1).mean()
                         for t in range(len(positions) - lag)])
        assert msd.get_array('msd_a2_K')[index] == pytest.approx(naive, rel=1e-9, abs=1e-12)
    rdf = pair_distributions(trajectory, orm.Dict())['rdf']
    g_bo = rdf.get_array('g')[rdf.base.attributes.get('pairs').index('B-O')]
    assert 1.3 < rdf.get_array('r_a')[np.argmax(g_bo)] < 1.6  # the B-O bond, Å
