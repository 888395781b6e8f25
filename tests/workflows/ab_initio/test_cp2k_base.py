"""BoroglassCp2kBaseWorkChain: its pure parameter edits, the join of restarted segments, its setup,
and one real CP2K MD cut by its wall time and continued to the end, its trajectory stored once.

The parser -> handler tests on real failing CP2K output are in tests/parsers/test_cp2k_exit_codes.py.
"""
import copy
from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import run_get_node
from aiida.engine.utils import instantiate_process
from aiida.manage import get_manager
from aiida_cp2k.calculations import Cp2kCalculation
from aiida_cp2k.workchains import Cp2kBaseWorkChain

from aiida_boroglass.analysis.segments import kept_before_continuation
from aiida_boroglass.calculations import cp2k_inputs as ci
from aiida_boroglass.calculations.cp2k import TEMPORARY_FILES, BoroglassCp2kCalculation
from aiida_boroglass.functions.cp2k_segments import join_cp2k_segments
from aiida_boroglass.glass.elements import HARTREE_BOHR_EV_A, HARTREE_EV
from aiida_boroglass.parsers.parse_raw.cp2k import parse_xyz_frames
from aiida_boroglass.workflows.ab_initio.cp2k_base import (
    BoroglassCp2kBaseWorkChain,
    continue_md,
    cp2k_walltime_s,
    halve_mixing_alpha,
    md_last_step,
    more_geo_opt_iterations,
    next_scf_remedy,
    omp_threads,
    ot_cg_more_scf,
    restart_wave_function,
    switch_to_ot,
)

FIXTURES = Path(__file__).parents[2] / 'parsers' / 'fixtures'
#: the DFT and MD settings of the CP2K fixtures (tests/parsers/fixtures/README_cp2k.md)
DFT = {'basis_set': 'SZV-MOLOPT-SR-GTH', 'cutoff_ry': 200, 'rel_cutoff_ry': 30, 'eps_scf': 1.0e-5, 'max_scf': 30,
       'max_outer_scf': 5, 'scf_method': 'ot', 'ot_minimizer': 'DIIS', 'preconditioner': 'FULL_SINGLE_INVERSE',
       'mixing_alpha': 0.4, 'kpoints': None}
MD = {'timestep_fs': 1.0, 'nose_length': 3, 'thermostat_timecon_fs': 50.0, 'print_every': 1}
ELEMENTS = ['K'] * 4 + ['B'] * 6 + ['O'] * 11


def single_point(**dft):
    return ci.single_point_parameters(ELEMENTS, {**DFT, **dft})


# --- SCF remedies ------------------------------------------------------------------------------

def test_remedy_order_for_diagonalisation_and_ot():
    diagonalisation = single_point(scf_method='diagonalization')['FORCE_EVAL']['DFT']['SCF']
    ot = single_point()['FORCE_EVAL']['DFT']['SCF']
    assert next_scf_remedy(diagonalisation, []) == 'halve_mixing_alpha'
    assert next_scf_remedy(diagonalisation, ['halve_mixing_alpha']) == 'switch_to_ot'
    assert next_scf_remedy(diagonalisation, ['halve_mixing_alpha'], kpoints=True) is None  # OT is Γ-only
    assert next_scf_remedy(ot, ['halve_mixing_alpha', 'switch_to_ot']) == 'ot_cg_more_scf'
    assert next_scf_remedy(ot, ['ot_cg_more_scf']) is None
    assert next_scf_remedy(dict(ot, OT={'_': 'OFF'}), []) == 'halve_mixing_alpha'  # an OT section switched off


def test_halve_mixing_alpha_leaves_its_input_alone():
    parameters = single_point(scf_method='diagonalization')
    before = copy.deepcopy(parameters)
    halved = halve_mixing_alpha(parameters, 0.5)
    assert halved['FORCE_EVAL']['DFT']['SCF']['MIXING']['ALPHA'] == pytest.approx(0.2)
    assert parameters == before
    del parameters['FORCE_EVAL']['DFT']['SCF']['MIXING']
    assert halve_mixing_alpha(parameters)['FORCE_EVAL']['DFT']['SCF']['MIXING']['ALPHA'] == pytest.approx(0.2)


def test_switch_to_ot_keeps_convergence_settings_and_drops_diagonalisation():
    parameters = single_point(scf_method='diagonalization', eps_scf=1e-6, max_scf=40)
    parameters['FORCE_EVAL']['DFT']['SCF']['SCF_GUESS'] = 'RESTART'
    scf = switch_to_ot(parameters, 'FULL_ALL', 7)['FORCE_EVAL']['DFT']['SCF']
    assert scf == {'SCF_GUESS': 'RESTART', 'EPS_SCF': 1e-6, 'MAX_SCF': 40,
                   'OT': {'MINIMIZER': 'DIIS', 'PRECONDITIONER': 'FULL_ALL'},
                   'OUTER_SCF': {'EPS_SCF': 1e-6, 'MAX_SCF': 7}}


def test_ot_cg_more_scf_and_wave_function_restart():
    parameters = restart_wave_function(ot_cg_more_scf(single_point(), 2))
    dft = parameters['FORCE_EVAL']['DFT']
    assert dft['SCF']['OT']['MINIMIZER'] == 'CG' and dft['SCF']['MAX_SCF'] == 60
    assert dft['SCF']['SCF_GUESS'] == 'RESTART' and dft['RESTART_FILE_NAME'] == './parent_calc/aiida-RESTART.wfn'


# --- continuations -----------------------------------------------------------------------------

def test_md_last_step_counts_steps_from_the_start_of_the_run():
    parameters = ci.md_parameters(ELEMENTS, DFT, 1000.0, 30, MD)
    assert md_last_step(parameters, first_step_done=1) == 30  # a fresh run starts at 0
    assert md_last_step(parameters, first_step_done=11) == 40  # a continuation from step 10


def test_continue_md_asks_for_the_steps_left():
    parameters = continue_md(ci.md_parameters(ELEMENTS, DFT, 1000.0, 30, MD), restart_step=12, last_step=30)
    assert parameters['MOTION']['MD']['STEPS'] == 18
    assert parameters['EXT_RESTART']['RESTART_COUNTERS'] == parameters['EXT_RESTART']['RESTART_THERMOSTAT'] == '.TRUE.'
    assert parameters['FORCE_EVAL']['DFT']['SCF']['SCF_GUESS'] == 'RESTART'


def test_more_geo_opt_iterations_adds_at_least_one():
    """aiida-cp2k's int(1.4 * MAX_ITER) gives no more iterations for MAX_ITER 1 or 2."""
    parameters = ci.geo_opt_parameters(ELEMENTS, DFT, {'max_iter': 2, 'max_force_ha_bohr': 4.5e-4})
    assert more_geo_opt_iterations(parameters, 2)['MOTION']['GEO_OPT']['MAX_ITER'] == 3
    parameters['MOTION']['GEO_OPT']['MAX_ITER'] = 28
    assert more_geo_opt_iterations(parameters, 20)['MOTION']['GEO_OPT']['MAX_ITER'] == 28


def test_walltime_and_threads():
    assert cp2k_walltime_s(3600) == 3420 and cp2k_walltime_s(86400) == 82080 and cp2k_walltime_s(90) == 30
    assert omp_threads({'num_machines': 1, 'num_cores_per_mpiproc': 2}) == '2'
    assert omp_threads({'num_machines': 1}) == '1'


# --- joining segments --------------------------------------------------------------------------

@pytest.mark.parametrize('steps, expected', [
    # the continuation starts after the restart step (CP2K with RESTART_COUNTERS): all kept
    ([[0, 1], [2, 3, 4]], [[True, True], [True, True, True]]),
    # the energy file ran past the restart step (restart every 2 steps): superseded lines dropped
    ([[0, 1, 2, 3], [3, 4, 5]], [[True, True, True, False], [True, True, True]]),
    # a run that restarted from scratch (no restart file written) replaces the first one whole
    ([[0], [0, 1, 2], [3, 4]], [[False], [True, True, True], [True, True]]),
    # a segment without rows
    ([[0, 1], [], [2]], [[True, True], [], [True]]),
])
def test_kept_before_continuation(steps, expected):
    kept = kept_before_continuation([np.array(s, dtype=int) for s in steps])
    assert [k.tolist() for k in kept] == expected


def trajectory(steps, shift_ps=0.0, forces=True):
    """A 2-atom TrajectoryData with frames at ``steps`` (1 fs each), positions = step, as the parser writes it."""
    steps = np.array(steps)
    node = orm.TrajectoryData()
    node.set_trajectory(symbols=['B', 'O'], positions=np.repeat(steps[:, None, None], 2, 1) * np.ones((1, 2, 3)),
                        stepids=steps, cells=np.repeat(np.eye(3)[None] * 5, len(steps), 0),
                        times=steps * 1e-3 + shift_ps, pbc=(True, True, True))
    node.set_array('energies', -steps.astype(float))
    if forces:
        node.set_array('forces', np.ones((len(steps), 2, 3)))
    node.base.attributes.set('units', {'positions': 'A'})
    node.base.attributes.set('unwrapped', True)
    return node


def thermo(steps):
    node = orm.ArrayData()
    steps = np.array(steps)
    node.set_array('step', steps)
    node.set_array('time_ps', steps * 1e-3)
    node.set_array('potential_ev', -steps.astype(float))
    node.base.attributes.set('units', {'step': 'step'})
    return node


def test_join_keeps_each_step_once_on_one_time_axis():
    joined = join_cp2k_segments(trajectory_0=trajectory([0]), trajectory_1=trajectory([0, 1, 2]),
                                trajectory_2=trajectory([3, 4]), thermo_0=thermo([0]), thermo_1=thermo([0, 1, 2, 3]),
                                thermo_2=thermo([3, 4]))
    frames = joined['output_trajectory']
    assert frames.get_stepids().tolist() == [0, 1, 2, 3, 4]
    assert np.allclose(frames.get_times(), [0, 0.001, 0.002, 0.003, 0.004])
    assert np.allclose(frames.get_positions()[:, 0, 0], [0, 1, 2, 3, 4])
    assert frames.get_array('energies').tolist() == [0, -1, -2, -3, -4]
    assert frames.get_array('forces').shape == (5, 2, 3)
    assert frames.base.attributes.get('segments') == 3
    assert joined['thermo'].get_array('step').tolist() == [0, 1, 2, 3, 4]


def test_join_drops_forces_unless_every_segment_has_them():
    joined = join_cp2k_segments(trajectory_0=trajectory([0, 1]), trajectory_1=trajectory([2], forces=False))
    assert 'forces' not in joined['output_trajectory'].get_arraynames()
    assert 'thermo' not in joined


def test_join_refuses_segments_whose_times_go_back():
    _, node = join_cp2k_segments.run_get_node(trajectory_0=trajectory([0, 1]),
                                              trajectory_1=trajectory([2, 3], shift_ps=-0.002))
    assert node.exit_status == 320 and 'segments overlap' in node.exit_message


# --- setup and results -------------------------------------------------------------------------

def setup_workchain(code, structure, parameters, options, settings=None):
    inputs = {'code': code, 'structure': structure, 'parameters': orm.Dict(parameters),
              'metadata': {'options': options}}
    if settings is not None:
        inputs['settings'] = orm.Dict(settings)
    process = instantiate_process(get_manager().get_runner(), BoroglassCp2kBaseWorkChain, cp2k=inputs)
    process.setup()
    return process


def test_setup_sets_parser_threads_and_walltime(cp2k_code, k_borate_21):
    options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1, 'num_cores_per_mpiproc': 2},
               'max_wallclock_seconds': 7200, 'parser_name': 'cp2k_base_parser'}
    process = setup_workchain(cp2k_code, k_borate_21, ci.md_parameters(ELEMENTS, DFT, 1000.0, 10, MD), options,
                              settings={'additional_retrieve_list': ['aiida-1.xyz']})
    inputs = process.ctx.inputs
    assert inputs.metadata['options']['parser_name'] == 'boroglass.cp2k'
    assert inputs.metadata['options']['environment_variables'] == {'OMP_NUM_THREADS': '2'}
    assert inputs.metadata['options']['withmpi'] is False
    assert inputs.settings['additional_retrieve_list'] == ['aiida-1.xyz']  # the energy file: BoroglassCp2kCalculation
    assert inputs.parameters['GLOBAL']['WALLTIME'] == 7200 - 360
    single = setup_workchain(cp2k_code, k_borate_21, single_point(),
                             {'resources': {'num_machines': 1}, 'environment_variables': {'OMP_NUM_THREADS': '3'}})
    assert 'settings' not in single.ctx.inputs and 'WALLTIME' not in single.ctx.inputs.parameters['GLOBAL']
    assert single.ctx.inputs.metadata['options']['environment_variables'] == {'OMP_NUM_THREADS': '3'}


def test_results_refuse_segments_that_cannot_be_joined(cp2k_code, k_borate_21):
    """Two runs whose frames go back in time: the work chain ends with 321, not with a broken trajectory."""
    process = setup_workchain(cp2k_code, k_borate_21, ci.md_parameters(ELEMENTS, DFT, 1000.0, 4, MD),
                              {'resources': {'num_machines': 1}})
    children = []
    for frames in (trajectory([0, 1]), trajectory([2, 3], shift_ps=-0.002)):
        node = orm.CalcJobNode(computer=cp2k_code.computer, process_type='aiida.calculations:cp2k').store()
        frames.base.links.add_incoming(node, link_type=LinkType.CREATE, link_label='output_trajectory')
        frames.store()
        children.append(node)
    process.ctx.children, process.ctx.iteration = children, 2
    exit_code = process.results()
    assert exit_code.status == BoroglassCp2kBaseWorkChain.exit_codes.ERROR_SEGMENTS_NOT_JOINED.status == 321
    assert 'segments overlap' in exit_code.message


def test_runs_boroglass_cp2k_calculation_with_aiida_cp2k_ports():
    """The CalcJob is ours; the ``cp2k`` namespace, outputs and handled exit codes are aiida-cp2k's."""
    assert BoroglassCp2kBaseWorkChain._process_class is BoroglassCp2kCalculation
    spec = BoroglassCp2kBaseWorkChain.spec()
    assert set(spec.inputs['cp2k']) == set(Cp2kBaseWorkChain.spec().inputs['cp2k'])
    assert set(spec.outputs) >= set(Cp2kBaseWorkChain.spec().outputs) | {'thermo', 'labels'}
    assert spec.inputs['cp2k']['metadata']['options']['parser_name'].default == 'boroglass.cp2k'
    assert BoroglassCp2kCalculation.exit_codes == Cp2kCalculation.exit_codes


def test_a_wall_time_within_the_margin_is_refused(cp2k_code, k_borate_21):
    builder = BoroglassCp2kBaseWorkChain.get_builder()
    builder.cp2k.code = cp2k_code
    builder.cp2k.structure = k_borate_21
    builder.cp2k.parameters = orm.Dict(single_point())
    builder.cp2k.metadata.options = {'resources': {'num_machines': 1}, 'max_wallclock_seconds': 60}
    with pytest.raises(ValueError, match='max_wallclock_seconds: 60 s'):
        run_get_node(builder)


# --- one real CP2K MD, cut by its wall time -----------------------------------------------------

#: MD steps of the real run and CP2K's wall time of its first job, s: here the first SCF alone
#: takes about 25 s of CPU and each further step about 5 s (70 s for the run), so the first
#: job is cut on this machine, idle or busy, and on one up to 1.5 times faster
STEPS, FIRST_JOB_WALLTIME_S = 10, 45


class FirstJobCutShort(BoroglassCp2kBaseWorkChain):
    """The work chain with CP2K's ``GLOBAL/WALLTIME`` short for the first job only.

    A cut of every job would make the number of jobs, and whether any makes progress, depend
    on the load of the machine; one short first job is cut for certain and the continuation
    runs to the end.
    """

    def run_process(self):
        """Give the first job the short wall time and the later ones none, then run it."""
        parameters = self.ctx.inputs.parameters.get_dict()
        if self.ctx.iteration == 0:
            parameters['GLOBAL']['WALLTIME'] = FIRST_JOB_WALLTIME_S
        else:
            parameters['GLOBAL'].pop('WALLTIME', None)
        self.ctx.inputs.parameters = orm.Dict(parameters)
        return super().run_process()


def test_md_cut_by_the_wall_time_is_continued_and_returned_whole(cp2k_code, k_borate_21):
    """10 NVT steps of the 21-atom glass; CP2K stops the first job at its wall time, the handler continues it.

    Each job keeps only its stdout and restart file in ``retrieved``: the trajectory dumps
    and the energy file are stored once, as ``output_trajectory`` and ``thermo``.

    The continuation starts from the first job's restart file, or, when the machine was so
    busy that the first job stopped before writing one, from its wave function at step 0.
    The joined trajectory and thermo hold steps 0-10 once each on one time axis; their first
    five frames are those of the uninterrupted 4-step run of the same input kept in
    fixtures/cp2k_md.
    """
    builder = FirstJobCutShort.get_builder()
    builder.cp2k.code = cp2k_code
    builder.cp2k.structure = k_borate_21
    builder.cp2k.parameters = orm.Dict(ci.md_parameters(ELEMENTS, DFT, 1000.0, STEPS, MD))
    builder.cp2k.metadata.options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}}
    node = run_get_node(builder).node
    assert node.is_finished_ok, node.exit_message
    first, second = sorted((n for n in node.called if isinstance(n, orm.CalcJobNode)), key=lambda n: n.ctime)
    assert first.exit_status == 400 and first.outputs.output_parameters['exceeded_walltime']
    assert second.exit_status == 0 and second.inputs.parent_calc_folder.uuid == first.outputs.remote_folder.uuid
    continued = second.inputs.parameters.get_dict()
    restart_step = first.outputs.output_parameters.get('restart_step')
    if restart_step is not None:  # from the restart file: the steps left
        assert continued['MOTION']['MD']['STEPS'] == STEPS - restart_step
        assert continued['EXT_RESTART']['RESTART_COUNTERS'] == '.TRUE.'
        assert second.outputs.output_trajectory.get_stepids()[0] == restart_step + 1
    else:
        assert continued['MOTION']['MD']['STEPS'] == STEPS and 'EXT_RESTART' not in continued
    assert continued['FORCE_EVAL']['DFT']['SCF']['SCF_GUESS'] == 'RESTART'
    for job in (first, second):
        assert job.process_class is BoroglassCp2kCalculation
        retrieved = set(job.outputs.retrieved.base.repository.list_object_names())
        assert retrieved.isdisjoint(TEMPORARY_FILES) and 'aiida.out' in retrieved, retrieved
        # a restart file when the job wrote one: the first one only when it was not cut before
        assert ('aiida-1.restart' in retrieved) == (job is second or restart_step is not None)
    segment = second.outputs.output_trajectory
    assert segment.get_stepids()[-1] == STEPS and 'forces' in segment.get_arraynames()
    assert second.outputs.thermo.get_array('step')[-1] == STEPS

    frames = node.outputs.output_trajectory
    assert frames.get_stepids().tolist() == list(range(STEPS + 1))
    assert np.all(np.diff(frames.get_times()) > 0) and np.allclose(frames.get_times(), np.arange(STEPS + 1) * 1e-3)
    reference = parse_xyz_frames((FIXTURES / 'cp2k_md' / 'aiida-pos-1.xyz').read_text())
    assert np.allclose(frames.get_array('energies')[:5], reference.energies_ha * HARTREE_EV, atol=1e-3)
    assert np.allclose(frames.get_positions()[:5], reference.values, atol=1e-4)
    reference_forces = parse_xyz_frames((FIXTURES / 'cp2k_md' / 'aiida-frc-1.xyz').read_text()).values
    # forces of SCFs converged to EPS_SCF 1e-5 from other guesses differ by up to ~1e-3 eV/Å (measured)
    assert np.allclose(frames.get_array('forces')[:5], reference_forces * HARTREE_BOHR_EV_A, atol=1e-2)

    energies = node.outputs.thermo
    assert energies.get_array('step').tolist() == list(range(STEPS + 1))
    assert np.all(np.diff(energies.get_array('time_ps')) > 0)
    assert np.allclose(energies.get_array('potential_ev'), frames.get_array('energies'), atol=1e-5)
