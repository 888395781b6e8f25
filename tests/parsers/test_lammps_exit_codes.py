"""Every exit code of the boroglass.lammps parser on real LAMMPS output (fixtures/lammps_*), and
every recoverable one driven on into the handler of LammpsBaseWorkChain.

The fixtures were recorded with ``mpirun -np 2`` (see fixtures/README.md); a node is built from
each as the engine would have left it, the real parser runs on it, and its outputs are linked so
that the handlers see exactly what they see in a workflow.
"""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType
from aiida.engine.utils import instantiate_process
from aiida.manage import get_manager
from aiida.plugins import ParserFactory

from aiida_boroglass.calculations.lammps import BoroglassLammpsCalculation
from aiida_boroglass.glass.composition import Composition
from aiida_boroglass.glass.forcefields import build_forcefield
from aiida_boroglass.workflows.lammps_base import LammpsBaseWorkChain

FIXTURES = Path(__file__).parent / 'fixtures'
RETRIEVED = ('lammps.out', '_scheduler-stderr.txt', 'log.lammps')
#: The dumps, retrieved temporarily (the repository keeps their frames once, as the parser's nodes).
DUMPS = ('final.dump', 'traj.dump')
CODES = BoroglassLammpsCalculation.exit_codes


def fixture_inputs(case: str) -> dict:
    """The CalcJob inputs the fixture ``case`` was made with: parameters, structure, force field (the
    ``deepmd`` case ran the fixture models, not stored here: the parser does not read them)."""
    folder = FIXTURES / f'lammps_{case}'
    atoms = json.loads((folder / 'structure.json').read_text())
    structure = orm.StructureData(cell=atoms['cell'])
    for symbol, position in zip(atoms['symbols'], atoms['positions']):
        structure.append_atom(position=position, symbols=symbol)
    inputs = {'parameters': orm.Dict(json.loads((folder / 'parameters.json').read_text())), 'structure': structure}
    if case != 'deepmd':
        glass = Composition.parse('Li2O-B2O3', x=0.3)
        inputs['forcefield'] = orm.Dict(build_forcefield('deng_du', glass.atom_counts(120).counts,
                                                         ratio_r=glass.ratio_r, ratio_k=glass.ratio_k))
    return inputs


def finished_lammps(code, case: str, tmp_path: Path, drop=(), replace=None, scheduler_status=None, parameters=None):
    """A stored CalcJobNode of the fixture ``case`` with its retrieved files, and the temporary folder.

    ``drop`` leaves files out, ``replace`` maps a file name to other content (a trimmed file),
    each in the folder the job retrieves it to; ``scheduler_status`` is what the scheduler's parser set before the parser runs;
    ``parameters`` replaces the run parameters of the fixture.
    """
    folder = FIXTURES / f'lammps_{case}'
    node = orm.CalcJobNode(computer=code.computer, process_type='aiida.calculations:boroglass.lammps')
    node.set_option('resources', {'num_machines': 1, 'num_mpiprocs_per_machine': 2})
    node.set_option('output_filename', 'lammps.out')
    node.set_option('scheduler_stderr', '_scheduler-stderr.txt')
    inputs = fixture_inputs(case)
    if parameters is not None:
        inputs['parameters'] = orm.Dict(parameters)
    for label, value in inputs.items():
        node.base.links.add_incoming(value.store(), link_type=LinkType.INPUT_CALC, link_label=label)
    node.store()
    if scheduler_status is not None:
        node.set_exit_status(scheduler_status)
    retrieved = orm.FolderData()
    replace = replace or {}
    for name in RETRIEVED:
        if (folder / name).exists() and name not in drop and name not in replace:
            retrieved.base.repository.put_object_from_filelike(open(folder / name, 'rb'), name)
    for name, content in replace.items():
        if name not in DUMPS:
            retrieved.base.repository.put_object_from_bytes(content.encode(), name)
    retrieved.base.links.add_incoming(node, link_type=LinkType.CREATE, link_label='retrieved')
    retrieved.store()
    temporary = tmp_path / f'{case}_temporary'
    temporary.mkdir()
    dumps = [folder / name for name in DUMPS if (folder / name).exists() and name not in drop and name not in replace]
    for temporary_file in [*folder.glob('restart.s*.bin'), *folder.glob('model_devi.s*.out'), *dumps]:
        shutil.copy(temporary_file, temporary)
    for name, content in replace.items():
        if name in DUMPS:
            (temporary / name).write_text(content)
    return node, temporary


def parse(node, temporary):
    """Run the parser as the engine does: (outputs, exit status, exit message)."""
    results, parse_node = ParserFactory('boroglass.lammps').parse_from_node(
        node, store_provenance=False, retrieved_temporary_folder=str(temporary))
    return results, parse_node.exit_status, parse_node.exit_message


def parsed_calcjob(code, case, tmp_path):
    """The fixture as a finished CalcJob with the parser's outputs and exit status, as a handler receives it."""
    node, temporary = finished_lammps(code, case, tmp_path)
    parser = ParserFactory('boroglass.lammps')(node)
    exit_code = parser.parse(retrieved_temporary_folder=str(temporary))
    for label, output in parser.outputs.items():
        output.base.links.add_incoming(node, link_type=LinkType.CREATE, link_label=label)
        output.store()
    node.set_exit_status(exit_code.status if exit_code else 0)
    node.set_exit_message(exit_code.message if exit_code else None)
    node.set_process_state('finished')
    node.seal()
    return node


def workchain_for(code, case, max_wallclock_seconds=None):
    """A LammpsBaseWorkChain set up on the inputs of fixture ``case`` (not run)."""
    inputs = fixture_inputs(case)
    options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 2}}
    if max_wallclock_seconds:
        options['max_wallclock_seconds'] = max_wallclock_seconds
    process = instantiate_process(get_manager().get_runner(), LammpsBaseWorkChain,
                                  lammps={'code': code, **inputs, 'metadata': {'options': options}})
    process.setup()
    return process


# --- parser: one test per exit code -----------------------------------------------------------

def test_complete_run_gives_structure_trajectory_and_last_restart(lammps_code, tmp_path):
    results, status, _ = parse(*finished_lammps(lammps_code, 'ok', tmp_path))
    assert status == 0
    assert len(results['structure'].sites) == 119
    trajectory = results['trajectory']
    assert trajectory.get_stepids().tolist() == [0, 50, 100, 150, 200]  # dump_every 50 over 200 steps
    assert np.allclose(trajectory.get_times(), [0.0, 0.05, 0.1, 0.15, 0.2])
    assert results['results']['stage_steps_done'] == [0, 200]
    assert results['results']['restart_stage'] == 1 and results['results']['termination'] is None


def test_deepmd_run_gives_the_model_deviation_of_its_md_stage(lammps_code, tmp_path):
    """The real two-model run: the rows of ``model_devi.s1.out`` (stage ``hot``), times from the steps."""
    results, status, _ = parse(*finished_lammps(lammps_code, 'deepmd', tmp_path))
    assert status == 0
    deviation = results['model_deviation']
    assert deviation.base.attributes.get('stage_names') == ['relax', 'hot']
    assert deviation.get_array('steps').tolist() == [0, 10, 20, 30, 40, 50, 60]
    assert deviation.get_array('stage_index').tolist() == [1] * 7
    assert np.allclose(deviation.get_array('time_ps'), np.arange(7) * 0.01)
    assert deviation.get_array('max_devi_f')[[0, -1]].tolist() == [1.462186, 1.452417]
    assert deviation.get_array('avg_devi_v')[2] == 0.1916228
    assert deviation.base.attributes.get('units')['max_devi_f'] == 'eV/A'
    assert results['trajectory'].get_stepids().tolist() == deviation.get_array('steps').tolist()
    assert 'labels' not in results


def test_log_missing_301(lammps_code, tmp_path):
    _, status, _ = parse(*finished_lammps(lammps_code, 'ok', tmp_path, drop=('log.lammps',)))
    assert status == CODES.ERROR_LOG_MISSING.status == 301


def test_final_structure_missing_302(lammps_code, tmp_path):
    _, status, _ = parse(*finished_lammps(lammps_code, 'ok', tmp_path, drop=('final.dump',)))
    assert status == CODES.ERROR_FINAL_STRUCTURE_MISSING.status == 302


def test_trajectory_cut_in_a_complete_run_is_unreadable_303(lammps_code, tmp_path):
    """A complete run whose dump lost its end (disk full) is refused, not silently shortened."""
    text = (FIXTURES / 'lammps_ok' / 'traj.dump').read_text()
    _, status, message = parse(*finished_lammps(lammps_code, 'ok', tmp_path, replace={'traj.dump': text[:-500]}))
    assert status == CODES.ERROR_TRAJECTORY_UNREADABLE.status == 303
    assert 'dump' in message


def test_rank_killed_by_a_signal_is_an_unexpected_termination_305(lammps_code, tmp_path):
    """SIGKILL of rank 1 (as the out-of-memory killer does): no LAMMPS error, no time-out: 305, not 400."""
    _, status, message = parse(*finished_lammps(lammps_code, 'killed', tmp_path))
    assert status == CODES.ERROR_UNEXPECTED_TERMINATION.status == 305
    assert 'Killed (signal 9)' in message


def test_segfault_without_any_message_is_an_unexpected_termination_305(lammps_code, tmp_path):
    results, status, message = parse(*finished_lammps(lammps_code, 'segfault', tmp_path))
    assert status == 305, message
    assert 'without an error message' in message
    assert results['results']['stage_steps_done'] == [None]


def test_scheduler_out_of_memory_is_an_unexpected_termination_305(lammps_code, tmp_path):
    _, status, message = parse(*finished_lammps(lammps_code, 'segfault', tmp_path, scheduler_status=110))
    assert status == 305 and 'out of memory' in message


def test_error_on_another_rank_is_read_from_stdout_412(lammps_code, tmp_path):
    """'Pair distance < table inner cutoff' on proc 1 reaches stdout only: log.lammps has no error."""
    assert 'ERROR' not in (FIXTURES / 'lammps_table_rank1' / 'log.lammps').read_text()
    results, status, _ = parse(*finished_lammps(lammps_code, 'table_rank1', tmp_path))
    assert status == CODES.ERROR_PAIR_DISTANCE_BELOW_TABLE.status == 412
    assert results['results']['errors'] == ['Pair distance < table inner cutoff (src/src/OPENMP/pair_table_omp.cpp:129)']


def test_lost_atoms_410(lammps_code, tmp_path):
    _, status, _ = parse(*finished_lammps(lammps_code, 'lost_atoms', tmp_path))
    assert status == CODES.ERROR_LOST_ATOMS.status == 410


def test_lammps_timer_is_a_real_timeout_400(lammps_code, tmp_path):
    results, status, message = parse(*finished_lammps(lammps_code, 'timeout', tmp_path))
    assert status == CODES.ERROR_OUT_OF_WALLTIME.status == 400
    assert 'timer timeout' in message
    assert results['results']['stage_steps_done'] == [900]  # 'Loop time ... for 900 steps'
    assert 'restart_file' in results


def test_scheduler_walltime_kill_is_a_timeout_400(lammps_code, tmp_path):
    """The scheduler's 120 (Slurm killed the job) on a run that stopped without a message: a time-out."""
    _, status, message = parse(*finished_lammps(lammps_code, 'segfault', tmp_path, scheduler_status=120))
    assert status == 400 and 'scheduler' in message


def test_other_lammps_error_309(lammps_code, tmp_path):
    """A LAMMPS error that is no instability: continuing from a corrupt restart file."""
    _, status, message = parse(*finished_lammps(lammps_code, 'corrupt_restart', tmp_path))
    assert status == CODES.ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR.status == 309
    assert 'Incomplete or corrupted LAMMPS restart file' in message


def test_parser_exception_becomes_350(lammps_code, tmp_path):
    """A final dump whose atom count line is garbage makes the parser fail inside: exit code, not Excepted."""
    text = (FIXTURES / 'lammps_ok' / 'final.dump').read_text().replace('119', 'l19', 1)
    _, status, message = parse(*finished_lammps(lammps_code, 'ok', tmp_path, replace={'final.dump': text}))
    assert status == CODES.ERROR_UNEXPECTED_PARSER_EXCEPTION.status == 350
    assert 'ValueError' in message


# --- parser -> handler: one test per recoverable exit code -------------------------------------

def test_table_error_on_rank1_halves_the_step_for_that_stage_only(lammps_code, tmp_path):
    node = parsed_calcjob(lammps_code, 'table_rank1', tmp_path)
    assert node.exit_status == 412
    process = workchain_for(lammps_code, 'table_rank1')
    report = process.handle_unstable_integration(node)
    assert report.do_break and report.exit_code.status == 0
    parameters = process.ctx.inputs.parameters.get_dict()
    assert parameters['timestep_fs'] == 5.0
    assert [s['name'] for s in parameters['stages']] == ['hot']  # the later stage waits for the original step
    assert parameters['stages'][0]['steps'] == 800  # 400 steps of 10 fs as 800 of 5 fs
    assert [s['name'] for s in process.ctx.pending_stages] == ['after']
    assert process.ctx.pending_stages[0]['steps'] == 100


def test_stage_done_at_half_step_restores_the_original_step(lammps_code, tmp_path):
    """After the halved stage finishes (a real finished run), the pending stages run at 10 fs from its restart."""
    failed = parsed_calcjob(lammps_code, 'table_rank1', tmp_path)
    finished = parsed_calcjob(lammps_code, 'ok', tmp_path)
    process = workchain_for(lammps_code, 'table_rank1')
    process.handle_unstable_integration(failed)
    assert process.restore_timestep(failed) is None  # only a finished run hands on
    report = process.restore_timestep(finished)
    assert report.do_break and report.exit_code.status == 0
    parameters = process.ctx.inputs.parameters.get_dict()
    assert parameters['timestep_fs'] == 10.0
    assert [s['name'] for s in parameters['stages']] == ['after'] and parameters['stages'][0]['steps'] == 100
    assert process.ctx.inputs.restart_file.uuid == finished.outputs.restart_file.uuid
    assert process.ctx.pending_stages == [] and process.ctx.timestep_halvings == 0


def test_lost_atoms_410_then_exhausted_halvings(lammps_code, tmp_path):
    node = parsed_calcjob(lammps_code, 'lost_atoms', tmp_path)
    process = workchain_for(lammps_code, 'lost_atoms')
    for expected in (25.0, 12.5):
        assert process.handle_unstable_integration(node).exit_code.status == 0
        assert process.ctx.inputs.parameters['timestep_fs'] == expected
    report = process.handle_unstable_integration(node)
    assert report.exit_code.status == LammpsBaseWorkChain.exit_codes.ERROR_TIMESTEP_HALVINGS_EXHAUSTED.status


def test_timeout_400_continues_from_the_restart_with_a_measured_clock_check(lammps_code, tmp_path):
    node = parsed_calcjob(lammps_code, 'timeout', tmp_path)
    process = workchain_for(lammps_code, 'timeout', max_wallclock_seconds=3600)
    report = process.handle_out_of_walltime(node)
    assert report.exit_code.status == 0
    parameters = process.ctx.inputs.parameters.get_dict()
    assert process.ctx.inputs.restart_file.uuid == node.outputs.restart_file.uuid
    stage = parameters['stages'][0]
    assert stage['start_step'] == 900 and stage['steps'] == 2000000 - 900
    rate = min(node.outputs.results['atom_steps_per_s'])
    # margin max(60, 5 % of 3600 s) = 180 s; a tenth of it in steps of 119 / rate s each, at most 100
    assert parameters['timeout_every'] == int(min(100, max(1, 18.0 // (119 / rate))))
    assert process.ctx.cuts[str(node.pk)] == ['hot', 900]


def test_crash_305_has_no_handler(lammps_code, tmp_path):
    """A crash is not retried as if it were a time-out: no handler takes 305."""
    node = parsed_calcjob(lammps_code, 'killed', tmp_path)
    process = workchain_for(lammps_code, 'killed')
    assert process.handle_out_of_walltime(node) is None
    assert process.handle_unstable_integration(node) is None


def test_failed_run_with_an_unreadable_dump_keeps_its_own_exit_code(lammps_code, tmp_path):
    """Rank 1 killed while the only frame was being written: still 305, not 303.

    The ``killed`` run with a dump stage planned and half of the ``ok`` run's first frame as its dump.
    """
    frame = (FIXTURES / 'lammps_ok' / 'traj.dump').read_text().split('ITEM: TIMESTEP')[1]
    parameters = json.loads((FIXTURES / 'lammps_killed' / 'parameters.json').read_text())
    parameters['stages'][0]['dump_every'] = 100
    _, status, message = parse(*finished_lammps(lammps_code, 'killed', tmp_path, parameters=parameters,
                                                replace={'traj.dump': 'ITEM: TIMESTEP' + frame[:len(frame) // 2]}))
    assert status == 305 and 'Killed (signal 9)' in message
