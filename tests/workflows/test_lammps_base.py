"""The restart handlers of LammpsBaseWorkChain, driven by real failing LAMMPS runs."""
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_boroglass.glass.composition import Composition
from aiida_boroglass.glass.forcefields import build_forcefield
from aiida_boroglass.glass.packing import box_length_a
from aiida_boroglass.workflows.lammps_base import LammpsBaseWorkChain


def lithium_borate(n_atoms=120, seed=3):
    """30Li2O-70B2O3 on a jittered cubic grid at 2.2 g/cm3, and its resolved Deng-Du force field."""
    glass = Composition.parse('Li2O-B2O3', x=0.3)
    counts = glass.atom_counts(n_atoms).counts
    symbols = [el for el, n in counts.items() for _ in range(n)]
    length = box_length_a(counts, 2.2)
    side = int(np.ceil(len(symbols) ** (1 / 3)))
    grid = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing='ij'), -1).reshape(-1, 3)[:len(symbols)]
    rng = np.random.default_rng(seed)
    positions = (grid + 0.5) * length / side + rng.normal(0, 0.05, grid.shape)
    structure = orm.StructureData(cell=(np.eye(3) * length).tolist())
    for symbol, position in zip(rng.permutation(symbols), positions):
        structure.append_atom(position=position.tolist(), symbols=symbol)
    forcefield = build_forcefield('deng_du', counts, ratio_r=glass.ratio_r, ratio_k=glass.ratio_k)
    return structure, orm.Dict(forcefield)


def run_lammps(code, parameters, max_iterations=5):
    """Run the restart workflow on the small glass with the given run parameters."""
    structure, forcefield = lithium_borate()
    builder = LammpsBaseWorkChain.get_builder()
    builder.max_iterations = max_iterations
    builder.lammps.code = code
    builder.lammps.structure = structure
    builder.lammps.forcefield = forcefield
    builder.lammps.parameters = orm.Dict(parameters)
    builder.lammps.settings = orm.Dict({'cmdline': ['-sf', 'omp']})
    builder.lammps.metadata.options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1},
                                       'environment_variables': {'OMP_NUM_THREADS': '1'}}
    return run_get_node(builder).node


def calcjobs(node):
    """The LAMMPS CalcJobs a LammpsBaseWorkChain ran, in order."""
    return sorted((n for n in node.called if isinstance(n, orm.CalcJobNode)), key=lambda n: n.ctime)


def test_walltime_handler_continues_from_restart_until_done(lammps_code):
    """LAMMPS' timer stops each run after 2 s; the workflow continues until all 4000 steps ran.

    4000 steps of 120 atoms take longer than 2 s on any machine of this kind (about 400-1000
    steps/s on one core); the iteration limit is raised so that a slow machine still finishes.
    """
    stages = [{'name': 'minimize', 'type': 'minimize', 'maxiter': 50},
              {'name': 'hot', 'type': 'nvt', 'steps': 4000, 'temperature_k': 2000.0, 'temperature_end_k': 1000.0}]
    node = run_lammps(lammps_code, {'stages': stages, 'timeout_s': 2, 'thermo_every': 50}, max_iterations=30)
    calcs = calcjobs(node)
    assert calcs[0].exit_status == 400  # ERROR_OUT_OF_WALLTIME from the real 'Wall time limit reached'
    assert len(calcs) >= 2 and node.is_finished_ok, node.exit_message
    done = 0
    for calc in calcs:
        results = calc.outputs.results.get_dict()
        run_stages = calc.inputs.parameters['stages']
        hot = run_stages[results['stage_names'].index('hot')]
        # every continuation resumes the ramp where the restart file left it
        assert hot['temperature_k'] == pytest.approx(2000.0 - 1000.0 * done / 4000, abs=1e-6)
        done += results['stage_steps_done'][results['stage_names'].index('hot')]
    assert done == 4000
    for before, after in zip(calcs, calcs[1:]):
        assert after.inputs.restart_file.uuid == before.outputs.restart_file.uuid
        assert [s['name'] for s in after.inputs.parameters['stages']] == ['hot']


def test_lost_atoms_handler_halves_the_timestep_twice_then_stops(lammps_code):
    """A 30 fs step at 3000 K loses atoms for real; the handler retries at 15 and 7.5 fs, then gives up."""
    stages = [{'name': 'blast', 'type': 'nvt', 'steps': 400, 'temperature_k': 3000.0}]
    node = run_lammps(lammps_code, {'stages': stages, 'timestep_fs': 30.0, 'thermo_every': 10})
    calcs = calcjobs(node)
    timesteps = [calc.inputs.parameters['timestep_fs'] for calc in calcs]
    assert timesteps[:3] == [30.0, 15.0, 7.5]
    assert calcs[0].exit_status in (410, 411, 412)  # lost atoms / out of PPPM range / inside table radius
    for before, after in zip(calcs, calcs[1:]):
        done = before.outputs.results['stage_steps_done'][0] or 0
        # the remaining simulated time is kept: twice the remaining steps at half the step
        assert after.inputs.parameters['stages'][0]['steps'] == 2 * (before.inputs.parameters['stages'][0]['steps'] - done)
    if len(calcs) == 3 and calcs[-1].exit_status in (410, 411, 412):
        assert node.exit_status == LammpsBaseWorkChain.exit_codes.ERROR_TIMESTEP_HALVINGS_EXHAUSTED.status
    else:
        assert node.is_finished_ok


def test_restarted_run_returns_the_whole_run(lammps_code):
    """A stage that writes frames, cut by LAMMPS' timer into several CalcJobs, is returned whole.

    The joined trajectory and thermo equal an uninterrupted run of the same input in frame
    count, step ids and time axis (continuous, no frame twice); the frames written before the
    first restart point are the uninterrupted run's own.
    """
    stages = [{'name': 'relax', 'type': 'minimize', 'maxiter': 50},
              {'name': 'prod', 'type': 'nvt', 'steps': 3000, 'temperature_k': 1500.0, 'dump_every': 100}]
    whole = run_lammps(lammps_code, {'stages': stages, 'thermo_every': 100})
    cut = run_lammps(lammps_code, {'stages': stages, 'thermo_every': 100, 'timeout_s': 1}, max_iterations=30)
    assert whole.is_finished_ok and cut.is_finished_ok, cut.exit_message
    segments = calcjobs(cut)
    assert len(segments) >= 2 and segments[0].exit_status == 400
    reference, joined = whole.outputs.trajectory, cut.outputs.trajectory
    assert len(segments[-1].outputs.trajectory.get_stepids()) < 31  # the last segment alone is not the run
    assert joined.get_stepids().tolist() == reference.get_stepids().tolist() == list(range(0, 3001, 100))
    assert np.allclose(joined.get_times(), reference.get_times())
    kept = int(np.sum(segments[0].outputs.trajectory.get_stepids() < segments[1].inputs.parameters['stages'][0]['start_step']))
    assert kept >= 1
    assert np.array_equal(joined.get_positions()[:kept], reference.get_positions()[:kept])
    thermo, thermo_reference = cut.outputs.thermo, whole.outputs.thermo
    steps, reference_steps = thermo.get_array('prod_step'), thermo_reference.get_array('prod_step')
    # every line of the uninterrupted run, plus the first line of each continuation (LAMMPS prints
    # thermo where a run starts), once each, on one continuous time axis
    starts = {c.inputs.parameters['stages'][0].get('start_step', 0) for c in segments[1:]}
    assert set(steps) == set(reference_steps) | starts and np.all(np.diff(steps) > 0)
    assert np.allclose(thermo.get_array('prod_time'), steps * 1e-3)
    assert thermo.base.attributes.get('segments') == len(segments)
