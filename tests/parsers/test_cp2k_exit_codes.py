"""Every exit code of the boroglass.cp2k parser on real CP2K output (fixtures/cp2k_*), and every
recoverable one driven on into the handlers of BoroglassCp2kBaseWorkChain.

A CalcJobNode is built from each fixture as the engine would have left it (inputs, retrieved
files, a remote folder), the real parser runs on it, and its outputs are linked so that the
handlers see exactly what they see in a workflow.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType
from aiida.engine.utils import instantiate_process
from aiida.manage import get_manager
from aiida.plugins import ParserFactory
from aiida_cp2k.calculations import Cp2kCalculation

from aiida_boroglass.glass.elements import HARTREE_BOHR_EV_A, HARTREE_EV
from aiida_boroglass.workflows.ab_initio.cp2k_base import BoroglassCp2kBaseWorkChain

FIXTURES = Path(__file__).parent / 'fixtures'
RETRIEVED = ('aiida.out', 'aiida-1.restart', 'aiida-pos-1.xyz', 'aiida-frc-1.xyz', 'aiida-1.cell', 'aiida-1.ener')
CODES = Cp2kCalculation.exit_codes
OPTIONS = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}}


def fixture_parameters(case: str) -> dict:
    return json.loads((FIXTURES / f'cp2k_{case}' / 'parameters.json').read_text())


def finished_cp2k(code, structure, case, tmp_path, drop=(), replace=None, scheduler_status=None):
    """A stored CalcJobNode of fixture ``case`` with its retrieved files and a remote folder.

    ``drop`` leaves retrieved files out, ``replace`` maps a file name to other content;
    ``scheduler_status`` is what the scheduler's parser set before the parser runs.
    """
    folder = FIXTURES / f'cp2k_{case}'
    node = orm.CalcJobNode(computer=code.computer, process_type='aiida.calculations:cp2k')
    node.set_option('resources', OPTIONS['resources'])
    node.set_option('output_filename', 'aiida.out')
    inputs = {'parameters': orm.Dict(fixture_parameters(case)), 'structure': structure, 'code': code}
    for label, value in inputs.items():
        node.base.links.add_incoming(value.store(), link_type=LinkType.INPUT_CALC, link_label=label)
    node.store()
    if scheduler_status is not None:
        node.set_exit_status(scheduler_status)
    retrieved = orm.FolderData()
    for name in RETRIEVED:
        if (folder / name).exists() and name not in drop:
            retrieved.base.repository.put_object_from_filelike(open(folder / name, 'rb'), name)
    for name, content in (replace or {}).items():
        retrieved.base.repository.put_object_from_bytes(content.encode(), name)
    retrieved.base.links.add_incoming(node, link_type=LinkType.CREATE, link_label='retrieved')
    retrieved.store()
    remote = orm.RemoteData(computer=code.computer, remote_path=str(tmp_path / f'{case}_remote'))
    remote.base.links.add_incoming(node, link_type=LinkType.CREATE, link_label='remote_folder')
    remote.store()
    return node


def parse(node):
    """Run the parser as the engine does: (outputs, exit status, exit message)."""
    results, parse_node = ParserFactory('boroglass.cp2k').parse_from_node(node, store_provenance=False)
    return results, parse_node.exit_status, parse_node.exit_message


def parsed_calcjob(code, structure, case, tmp_path, **kwargs):
    """The fixture as a finished CalcJob with the parser's outputs and exit status, as a handler receives it."""
    node = finished_cp2k(code, structure, case, tmp_path, **kwargs)
    parser = ParserFactory('boroglass.cp2k')(node)
    exit_code = parser.parse()
    for label, output in parser.outputs.items():
        output.base.links.add_incoming(node, link_type=LinkType.CREATE, link_label=label)
        output.store()
    node.set_exit_status(exit_code.status)
    node.set_exit_message(exit_code.message or None)
    node.set_process_state('finished')
    node.seal()
    return node


def workchain_for(code, structure, case, max_wallclock_seconds=None):
    """A BoroglassCp2kBaseWorkChain set up on the inputs of fixture ``case`` (not run)."""
    options = dict(OPTIONS)
    if max_wallclock_seconds:
        options['max_wallclock_seconds'] = max_wallclock_seconds
    process = instantiate_process(get_manager().get_runner(), BoroglassCp2kBaseWorkChain, cp2k={
        'code': code, 'structure': structure, 'parameters': orm.Dict(fixture_parameters(case)),
        'metadata': {'options': options}})
    process.setup()
    return process


def stdout_cut_short(case: str) -> str:
    """The fixture's stdout without its end (from the trimmed statistics on): a run that was killed."""
    content = (FIXTURES / f'cp2k_{case}' / 'aiida.out').read_text()
    return content[:content.index(' [trimmed', content.index('ENERGY|'))]


@pytest.fixture
def cp2k(cp2k_code, k_borate_21, tmp_path):
    """Helpers bound to the CP2K code, the 21-atom glass and a temporary folder."""
    class Bound:
        parse = staticmethod(lambda case, **kw: parse(finished_cp2k(cp2k_code, k_borate_21, case, tmp_path, **kw)))
        calcjob = staticmethod(lambda case, **kw: parsed_calcjob(cp2k_code, k_borate_21, case, tmp_path, **kw))
        workchain = staticmethod(lambda case, **kw: workchain_for(cp2k_code, k_borate_21, case, **kw))
    return Bound


# --- parser: one test per exit code -----------------------------------------------------------

def test_md_gives_trajectory_and_thermo_in_our_units(cp2k):
    results, status, _ = cp2k.parse('md')
    assert status == 0
    trajectory = results['output_trajectory']
    assert trajectory.get_stepids().tolist() == [0, 1, 2, 3, 4]
    assert np.allclose(trajectory.get_times(), [0.0, 0.001, 0.002, 0.003, 0.004])  # ps
    assert trajectory.get_array('energies')[0] == pytest.approx(-306.4779724054 * HARTREE_EV)
    assert trajectory.get_array('forces')[0, 0] == pytest.approx(np.array([0.0159917511, 0.0191708631, 0.0066547862])
                                                                 * HARTREE_BOHR_EV_A)
    assert trajectory.get_cells().shape == (5, 3, 3)
    assert trajectory.base.attributes.get('units')['forces'] == 'eV/A'
    thermo = results['thermo']
    assert thermo.get_array('step').tolist() == [0, 1, 2, 3, 4]
    assert np.allclose(thermo.get_array('potential_ev'), trajectory.get_array('energies'), atol=1e-6)
    parameters = results['output_parameters'].get_dict()
    assert parameters['md_last_step'] == 4 and parameters['restart_step'] == 4
    assert parameters['energy'] == pytest.approx(-306.472823314, abs=1e-8)  # aiida-cp2k's key, Hartree
    assert len(results['output_structure'].sites) == 21
    assert 'labels' not in results


def test_md_files_retrieved_temporarily_are_read_from_the_temporary_folder(cp2k_code, k_borate_21, tmp_path):
    """As BoroglassCp2kCalculation leaves them: dumps and energies only in the temporary folder, same outputs."""
    temporary_files = ('aiida-pos-1.xyz', 'aiida-frc-1.xyz', 'aiida-1.cell', 'aiida-1.ener')
    temporary = tmp_path / 'retrieved_temporary'
    temporary.mkdir()
    for name in temporary_files:
        (temporary / name).write_bytes((FIXTURES / 'cp2k_md' / name).read_bytes())
    node = finished_cp2k(cp2k_code, k_borate_21, 'md', tmp_path, drop=temporary_files)
    results, parse_node = ParserFactory('boroglass.cp2k').parse_from_node(
        node, store_provenance=False, retrieved_temporary_folder=str(temporary))
    reference, status, _ = parse(finished_cp2k(cp2k_code, k_borate_21, 'md', tmp_path))
    assert parse_node.exit_status == status == 0
    assert set(results) == set(reference)
    for label in ('output_trajectory', 'thermo'):
        names = reference[label].get_arraynames()
        assert sorted(results[label].get_arraynames()) == sorted(names)
        for name in names:
            assert np.array_equal(results[label].get_array(name), reference[label].get_array(name))


def test_single_point_gives_labels(cp2k, k_borate_21):
    results, status, _ = cp2k.parse('energy_force')
    assert status == 0
    labels = results['labels']
    assert labels.get_array('energy_ev').shape == (1,)
    assert labels.get_array('energy_ev')[0] == pytest.approx(-306.477972405388925 * HARTREE_EV)
    forces = labels.get_array('forces_ev_a')
    assert forces.shape == (len(k_borate_21.sites), 3)
    assert forces[20] == pytest.approx(np.array([-0.01912795, 0.02882068, -0.04495524]) * HARTREE_BOHR_EV_A)
    assert labels.get_array('stress_gpa')[2, 2] == pytest.approx(5.55434935342)
    assert 'output_trajectory' not in results and 'thermo' not in results


def test_unconverged_single_point_is_scf_not_converged_450_without_labels(cp2k):
    """CP2K 2023.1 only warns 'SCF run NOT converged' and prints energy and forces anyway."""
    assert 'ABORT' not in (FIXTURES / 'cp2k_scf_ot' / 'aiida.out').read_text()
    for case in ('scf_ot', 'scf_diagonalization'):
        results, status, _ = cp2k.parse(case)
        assert status == CODES.ERROR_SCF_NOT_CONVERGED.status == 450
        assert 'labels' not in results
        assert results['output_parameters']['scf_not_converged'] == 1


def test_walltime_400_keeps_the_frames_written(cp2k):
    results, status, _ = cp2k.parse('walltime')
    assert status == CODES.ERROR_OUT_OF_WALLTIME.status == 400
    assert results['output_trajectory'].get_stepids().tolist() == [0, 1]
    assert results['thermo'].get_array('step').tolist() == [0, 1]
    assert results['output_parameters']['exceeded_walltime'] is True
    assert results['output_parameters']['restart_step'] == 1


def test_geo_opt_out_of_iterations_501(cp2k):
    results, status, _ = cp2k.parse('geo_opt_max_iter')
    assert status == CODES.ERROR_MAXIMUM_NUMBER_OPTIMIZATION_STEPS_REACHED.status == 501
    trajectory = results['output_trajectory']
    assert trajectory.get_stepids().tolist() == [1, 2, 3]
    assert 'times' not in trajectory.get_arraynames()
    assert np.allclose(trajectory.get_cells()[0], np.eye(3) * 6.8045597439507)  # the input cell, no cell file


def test_output_cut_short_is_incomplete_303(cp2k):
    _, status, _ = cp2k.parse('energy_force', replace={'aiida.out': stdout_cut_short('energy_force')})
    assert status == CODES.ERROR_OUTPUT_INCOMPLETE.status == 303


def test_output_cut_short_by_the_scheduler_wall_time_is_400(cp2k):
    _, status, _ = cp2k.parse('energy_force', replace={'aiida.out': stdout_cut_short('energy_force')},
                              scheduler_status=120)
    assert status == 400


def test_stdout_missing_210(cp2k):
    _, status, _ = cp2k.parse('md', drop=('aiida.out',))
    assert status == CODES.ERROR_OUTPUT_MISSING.status == 210


def test_finished_md_whose_forces_miss_a_frame_323(cp2k):
    forces = (FIXTURES / 'cp2k_md' / 'aiida-frc-1.xyz').read_text()
    _, status, _ = cp2k.parse('md', replace={'aiida-frc-1.xyz': forces[:forces.rindex('      21')]})
    assert status == CODES.ERROR_FORCES_TRAJECTORY_READ.status == 323


def test_finished_md_whose_cells_miss_a_frame_325(cp2k):
    cells = (FIXTURES / 'cp2k_md' / 'aiida-1.cell').read_text().splitlines()
    _, status, _ = cp2k.parse('md', replace={'aiida-1.cell': '\n'.join(cells[:-1]) + '\n'})
    assert status == CODES.ERROR_CELLS_TRAJECTORY_READ.status == 325


def test_single_point_without_its_forces_block_302(cp2k):
    stdout = (FIXTURES / 'cp2k_energy_force' / 'aiida.out').read_text().replace('ATOMIC FORCES in [a.u.]', 'x')
    _, status, _ = cp2k.parse('energy_force', replace={'aiida.out': stdout})
    assert status == CODES.ERROR_OUTPUT_PARSE.status == 302


def test_parser_exception_becomes_350(cp2k):
    positions = (FIXTURES / 'cp2k_md' / 'aiida-pos-1.xyz').read_text().replace('21', '2l', 1)
    _, status, message = cp2k.parse('md', replace={'aiida-pos-1.xyz': positions})
    assert status == CODES.ERROR_UNEXPECTED_PARSER_EXCEPTION.status == 350
    assert 'ValueError' in message


# --- parser -> handler: one test per recoverable exit code -------------------------------------

def test_scf_ot_450_switches_to_cg_with_twice_max_scf_from_the_wave_function(cp2k):
    node = cp2k.calcjob('scf_ot')
    assert node.exit_status == 450
    process = cp2k.workchain('scf_ot')
    report = process.handle_scf_not_converged(node)
    assert report.do_break and report.exit_code.status == 0
    parameters = process.ctx.inputs.parameters.get_dict()
    scf = parameters['FORCE_EVAL']['DFT']['SCF']
    assert scf['OT']['MINIMIZER'] == 'CG' and scf['MAX_SCF'] == 4  # DIIS, 2 in the failed run
    assert scf['SCF_GUESS'] == 'RESTART'
    assert parameters['FORCE_EVAL']['DFT']['RESTART_FILE_NAME'] == './parent_calc/aiida-RESTART.wfn'
    assert process.ctx.inputs.parent_calc_folder.uuid == node.outputs.remote_folder.uuid
    assert 'EXT_RESTART' not in parameters
    exhausted = process.handle_scf_not_converged(node)
    assert exhausted.exit_code.status == BoroglassCp2kBaseWorkChain.exit_codes.ERROR_SCF_REMEDIES_EXHAUSTED.status


def test_scf_diagonalization_450_halves_alpha_then_switches_to_ot_then_cg(cp2k):
    node = cp2k.calcjob('scf_diagonalization')
    process = cp2k.workchain('scf_diagonalization')
    process.handle_scf_not_converged(node)
    scf = process.ctx.inputs.parameters['FORCE_EVAL']['DFT']['SCF']
    assert scf['MIXING']['ALPHA'] == pytest.approx(0.2) and 'DIAGONALIZATION' in scf
    process.handle_scf_not_converged(node)
    scf = process.ctx.inputs.parameters['FORCE_EVAL']['DFT']['SCF']
    assert scf['OT']['MINIMIZER'] == 'DIIS' and 'OUTER_SCF' in scf
    assert not {'DIAGONALIZATION', 'MIXING', 'SMEAR', 'ADDED_MOS'} & set(scf)
    assert scf['SCF_GUESS'] == 'RESTART' and scf['MAX_SCF'] == 2
    process.handle_scf_not_converged(node)
    scf = process.ctx.inputs.parameters['FORCE_EVAL']['DFT']['SCF']
    assert scf['OT']['MINIMIZER'] == 'CG' and scf['MAX_SCF'] == 4
    assert process.ctx.scf_remedies == ['halve_mixing_alpha', 'switch_to_ot', 'ot_cg_more_scf']
    assert process.handle_scf_not_converged(node).exit_code.status == 320


def test_md_walltime_400_continues_from_the_restart_to_the_same_last_step(cp2k):
    """Stopped after step 1 of 30; the continuation restarts at step 1 and runs the 29 steps left."""
    node = cp2k.calcjob('walltime')
    assert cp2k.workchain('md', max_wallclock_seconds=3600).ctx.inputs.parameters['GLOBAL']['WALLTIME'] == 3420
    process = cp2k.workchain('walltime', max_wallclock_seconds=3600)
    assert process.ctx.inputs.parameters['GLOBAL']['WALLTIME'] == 50  # the input's own limit is the smaller
    report = process.handle_md_interrupted(node)
    assert report.do_break and report.exit_code.status == 0
    parameters = process.ctx.inputs.parameters.get_dict()
    restart = parameters['EXT_RESTART']
    assert restart['RESTART_FILE_NAME'] == './parent_calc/aiida-1.restart'
    assert restart['RESTART_COUNTERS'] == restart['RESTART_POS'] == restart['RESTART_VEL'] == '.TRUE.'
    assert parameters['MOTION']['MD']['STEPS'] == 29
    assert parameters['FORCE_EVAL']['DFT']['SCF']['SCF_GUESS'] == 'RESTART'
    assert process.ctx.inputs.parent_calc_folder.uuid == node.outputs.remote_folder.uuid
    assert BoroglassCp2kBaseWorkChain.restart_incomplete_calculation.enabled  # aiida-cp2k's handler, switched on


def test_md_output_cut_short_303_continues_like_a_walltime(cp2k):
    """The walltime run's stdout cut in the SCF of step 2, before CP2K's own stop: an MD killed there."""
    stdout = (FIXTURES / 'cp2k_walltime' / 'aiida.out').read_text()
    node = cp2k.calcjob('walltime', replace={'aiida.out': stdout[:stdout.index(' *** SCF run terminated')]})
    assert node.exit_status == 303
    process = cp2k.workchain('walltime')
    process.handle_md_interrupted(node)
    assert process.ctx.inputs.parameters['MOTION']['MD']['STEPS'] == 29
    assert 'EXT_RESTART' in process.ctx.inputs.parameters.get_dict()


def test_md_walltime_400_before_any_restart_file_starts_again_once_from_the_wave_function(cp2k):
    """The walltime run as if stopped before step 1 was written (no restart file): once from its
    wave function (the same steps from step 0), a second time the work chain gives up (322)."""
    node = cp2k.calcjob('walltime', drop=('aiida-1.restart',))
    assert node.exit_status == 400 and 'output_trajectory' not in node.outputs
    process = cp2k.workchain('walltime')
    assert process.handle_md_interrupted(node).exit_code.status == 0
    parameters = process.ctx.inputs.parameters.get_dict()
    assert 'EXT_RESTART' not in parameters and parameters['MOTION']['MD']['STEPS'] == 30
    assert parameters['FORCE_EVAL']['DFT']['SCF']['SCF_GUESS'] == 'RESTART'
    assert process.ctx.inputs.parent_calc_folder.uuid == node.outputs.remote_folder.uuid
    again = cp2k.calcjob('walltime', drop=('aiida-1.restart',))
    report = process.handle_md_interrupted(again)
    assert report.exit_code.status == BoroglassCp2kBaseWorkChain.exit_codes.ERROR_MD_NO_PROGRESS.status == 322


def test_geo_opt_501_continues_with_max_iter_times_1_4(cp2k):
    node = cp2k.calcjob('geo_opt_max_iter')
    process = cp2k.workchain('geo_opt_max_iter')
    assert process.handle_md_interrupted(node) is None and process.handle_scf_not_converged(node) is None
    report = process.restart_incomplete_calculation(node)
    assert report.exit_code.status == 0
    parameters = process.ctx.inputs.parameters.get_dict()
    assert parameters['MOTION']['GEO_OPT']['MAX_ITER'] == 4  # int(1.4 * 3); CP2K counts it from iteration 1
    assert parameters['EXT_RESTART']['RESTART_COUNTERS'] == '.TRUE.'
    assert parameters['FORCE_EVAL']['DFT']['SCF']['SCF_GUESS'] == 'RESTART'


def test_single_point_cut_by_the_scheduler_restarts_from_the_wave_function(cp2k):
    """400 of a non-MD run is left to aiida-cp2k's handler: the same single point from the wave function."""
    node = cp2k.calcjob('energy_force', replace={'aiida.out': stdout_cut_short('energy_force')}, scheduler_status=120)
    assert node.exit_status == 400
    process = cp2k.workchain('energy_force')
    assert process.handle_md_interrupted(node) is None
    assert process.restart_incomplete_calculation(node).exit_code.status == 0
    parameters = process.ctx.inputs.parameters.get_dict()
    assert parameters['FORCE_EVAL']['DFT']['SCF']['SCF_GUESS'] == 'RESTART' and 'EXT_RESTART' not in parameters
