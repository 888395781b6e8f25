"""Heavy analyses as jobs: the two routes of the structure panel, medium range, transport, hopping and deformation
store the same results; jobs cap their threads; a size above the threshold without a code is refused."""
import json
import re

import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import run_get_node

from aiida_boroglass.analysis.job import LOG_FILENAME, THREAD_VARIABLES, analysis_functions
from aiida_boroglass.calculations.analysis import AnalysisCalculation, ensure_python_code
from aiida_boroglass.functions.structure import pair_distributions
from aiida_boroglass.workflows.analysis_jobs import JOB_OUTPUTS
from aiida_boroglass.workflows.medium_range import MediumRangeWorkChain
from aiida_boroglass.workflows.structure_panel import StructurePanelWorkChain

#: Two cores for every analysis job: its threads must be capped at 2.
JOB_OPTIONS = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1, 'num_cores_per_mpiproc': 2}}


@pytest.fixture(scope='module')
def python_code(aiida_profile, tmp_path_factory):
    """``python@localhost-analysis``: this environment's Python on a local computer polled every 0.2 s."""
    computer = orm.Computer(label='localhost-analysis', hostname='localhost', transport_type='core.local',
                            scheduler_type='core.direct', workdir=str(tmp_path_factory.mktemp('analysis_jobs'))).store()
    computer.configure()
    computer.set_minimum_job_poll_interval(0.2)
    return ensure_python_code(computer)


@pytest.fixture(scope='module')
def k_borate_glass(aiida_profile, k_borate_21):
    """Three jiggled frames (0.05 Å) of the 21-atom K borate glass replicated 2 x 2 x 2: 168 atoms, a 13.6 Å cell."""
    structure = k_borate_21.clone()
    atoms = structure.get_ase().repeat(2)
    rng = np.random.default_rng(3)
    frames = atoms.positions[None] + rng.normal(scale=0.05, size=(3, *atoms.positions.shape))
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(symbols=atoms.get_chemical_symbols(), positions=frames,
                              cells=np.repeat(np.asarray(atoms.cell)[None], 3, axis=0))
    return trajectory.store()


def both_routes(workflow, inputs, python_code):
    """``workflow`` run twice on ``inputs``: as calcfunctions (threshold far above) and as jobs (threshold 0)."""
    _, local = run_get_node(workflow, **inputs, job_threshold_atom_frames=10**9)
    _, jobs = run_get_node(workflow, **inputs, job_threshold_atom_frames=0, analysis_code=python_code,
                           analysis_options=orm.Dict(JOB_OPTIONS))
    return local, jobs


@pytest.fixture(scope='module')
def panels(k_borate_glass, python_code):
    """The structure panel of the glass by both routes."""
    parameters = orm.Dict({'q_max_neutron_a': 30.0, 'dq_a': 0.05})
    return both_routes(StructurePanelWorkChain, {'glass': k_borate_glass, 'parameters': parameters}, python_code)


@pytest.fixture(scope='module')
def medium_ranges(k_borate_glass, python_code):
    """The medium-range order of the glass's last frame by both routes."""
    inputs = {'glass': k_borate_glass, 'parameters': orm.Dict({'max_frames': 1})}
    return both_routes(MediumRangeWorkChain, inputs, python_code)


def assert_same_node(first, second, label):
    """Same type and content, exactly: Dicts equal, ArrayData with equal attributes and arrays (floats pass as JSON and .npy)."""
    assert type(first) is type(second), label
    if isinstance(first, orm.Dict):
        assert first.get_dict() == second.get_dict(), label
        return
    assert first.base.attributes.all == second.base.attributes.all, label
    for name in first.get_arraynames():
        np.testing.assert_array_equal(first.get_array(name), second.get_array(name), err_msg=f'{label}.{name}')


#: Outputs of each workflow expected from a K borate glass.
OUTPUTS = {
    'panels': {'rdf', 'cutoffs', 'coordination', 'network_units', 'bond_populations', 'bond_distances', 'angles',
               'angle_summary', 'neutron', 'xray', 'volumes'},
    'medium_ranges': {'cutoffs', 'rings', 'ring_membership', 'superstructural_units', 'homology', 'cavities',
                      'cavity_volumes'},
}


@pytest.mark.parametrize('workflow', list(OUTPUTS))
def test_both_routes_give_identical_outputs(request, workflow):
    local, jobs = request.getfixturevalue(workflow)
    assert local.is_finished_ok, local.exit_message
    assert jobs.is_finished_ok, jobs.exit_message
    labels = set(local.outputs)
    assert labels == set(jobs.outputs) and OUTPUTS[workflow] <= labels
    for label in labels:
        assert_same_node(local.outputs[label], jobs.outputs[label], label)


def test_the_glass_is_a_real_one(panels, medium_ranges):
    """Not an empty comparison: three- and four-fold B, non-bridging O next to K, 1-cycles and cavities."""
    assert 0 < panels[1].outputs.coordination['n4'] < 1
    assert panels[1].outputs.coordination['oxygen']['nbo_fraction'] > 0
    assert len(medium_ranges[1].outputs.homology.get_array('diagram_a2')) > 0
    assert medium_ranges[1].outputs.cavities['n_cavities'] > 0


HEAVY = {'rdf': 'pair_distributions', 'cutoffs': 'pair_distributions', 'coordination': 'short_range_order',
         'bond_distances': 'short_range_order', 'angles': 'bond_angle_distributions', 'volumes': 'volume_analysis'}


def test_job_route_outputs_come_from_analysis_jobs_with_capped_threads(panels, k_borate_glass):
    local, jobs = panels
    for label, function in HEAVY.items():
        creator = jobs.outputs[label].creator
        assert isinstance(creator, orm.CalcJobNode) and creator.process_type == 'aiida.calculations:boroglass.analysis'
        assert creator.caller.pk == jobs.pk and creator.inputs.function.value == function
        assert creator.inputs.nodes.glass.uuid == k_borate_glass.uuid
        assert creator.get_option('resources')['num_cores_per_mpiproc'] == 2
        log = json.loads(creator.outputs.retrieved.base.repository.get_object_content(LOG_FILENAME))
        assert log['threads'] == 2 and log['function'] == function
        assert {log['environment'][name] for name in THREAD_VARIABLES} == {'2'}
        assert log['thread_pools'] and all(pool['num_threads'] <= 2 for pool in log['thread_pools'])
        # the calcfunction route: the same analysis under the same call-link label, from the same inputs
        twin = local.outputs[label].creator
        assert isinstance(twin, orm.CalcFunctionNode) and twin.process_label == function
        assert twin.inputs.glass.uuid == k_borate_glass.uuid
        assert (twin.base.links.get_incoming(link_type=LinkType.CALL_CALC).one().link_label
                == creator.base.links.get_incoming(link_type=LinkType.CALL_CALC).one().link_label)
    # g(r) is analysed on the daemon side only in S(Q): a calcfunction in both routes, on the job's rdf
    assert jobs.outputs.neutron.creator.inputs.rdf.uuid == jobs.outputs.rdf.uuid
    # the trajectory is not stored a second time in the job's repository
    assert 'inputs.npz' not in jobs.outputs.rdf.creator.base.repository.list_object_names()


def test_every_medium_range_output_comes_from_an_analysis_job(medium_ranges):
    _, jobs = medium_ranges
    functions = {'cutoffs': 'pair_distributions', 'rings': 'ring_analysis', 'homology': 'persistent_homology',
                 'cavities': 'cavity_analysis'}
    for label, function in functions.items():
        creator = jobs.outputs[label].creator
        assert creator.process_type == 'aiida.calculations:boroglass.analysis' and creator.caller.pk == jobs.pk
        assert creator.inputs.function.value == function


def test_a_refused_analysis_fails_the_job_as_it_fails_the_calcfunction(k_borate_glass, python_code):
    """``max_frames = 0`` passes the job's ports (it does not check parameters) and is refused by the analysis."""
    parameters = orm.Dict({'max_frames': 0})
    _, function_node = pair_distributions.run_get_node(k_borate_glass, parameters)
    _, job_node = run_get_node(AnalysisCalculation, function='pair_distributions', code=python_code,
                               nodes={'glass': k_borate_glass, 'parameters': parameters})
    assert function_node.exit_status == job_node.exit_status == 301
    assert job_node.exit_message == function_node.exit_message == 'parameters.max_frames must be a positive integer, got 0'


def node_count():
    return orm.QueryBuilder().append(orm.Node).count()


@pytest.mark.parametrize(('function', 'nodes', 'message'), [
    ('rm_rf', ['glass', 'parameters'], "function: 'rm_rf' is not an analysis that runs as a job; allowed: ['bond_angle"),
    ('pair_distributions', ['glass'], "nodes: pair_distributions takes ['glass', 'parameters'], got ['glass']"),
])
def test_a_bad_function_or_inputs_are_refused_naming_the_field(k_borate_glass, python_code, function, nodes, message):
    inputs = {'function': orm.Str(function), 'code': python_code,
              'nodes': {'glass': k_borate_glass, 'parameters': orm.Dict()} if len(nodes) == 2 else {'glass': k_borate_glass}}
    error = AnalysisCalculation.spec().inputs.validate(inputs)
    assert error is not None and message in str(error) and '\n' not in str(error), str(error)
    before = node_count()
    with pytest.raises(ValueError, match=re.escape(message.split(';')[0])):
        run_get_node(AnalysisCalculation, **inputs)
    assert node_count() == before


@pytest.mark.parametrize(('extra', 'message'), [
    ({'job_threshold_atom_frames': 100}, 'analysis_code: the glass has 504 atoms x analysed frames, above '
                                        'job_threshold_atom_frames = 100'),
    ({'analysis_options': {'wall_time': 60}}, "analysis_options: Unexpected ports {'wall_time': 60}"),
    ({'analysis_options': {'max_wallclock_seconds': 'an hour'}}, 'analysis_options: '),
])
def test_the_panel_refuses_a_job_route_it_cannot_run(k_borate_glass, extra, message):
    inputs = {'glass': k_borate_glass, **{key: orm.Dict(value) if isinstance(value, dict) else orm.Int(value)
                                          for key, value in extra.items()}}
    error = StructurePanelWorkChain.spec().inputs.validate(inputs)
    assert error is not None and message in str(error), str(error)
    before = node_count()
    with pytest.raises(ValueError, match=re.escape(message.split(',')[0])):
        run_get_node(StructurePanelWorkChain, **inputs)
    assert node_count() == before


@pytest.mark.parametrize(('resource_class', 'resources', 'threads'), [
    ('NodeNumberJobResource', {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, 1),
    ('NodeNumberJobResource', {'num_machines': 2, 'num_mpiprocs_per_machine': 3, 'num_cores_per_mpiproc': 4}, 24),
    ('ParEnvJobResource', {'parallel_env': 'mpi', 'tot_num_mpiprocs': 5}, 5),
])
def test_a_job_gets_as_many_threads_as_its_resources_give_cores(resource_class, resources, threads):
    from aiida.schedulers import datastructures

    from aiida_boroglass.calculations.analysis import job_threads

    assert job_threads(getattr(datastructures, resource_class)(**resources)) == threads


# --- transport, hopping and deformation: the analyses of boroglass.diffusion, boroglass.hopping, boroglass.deformation


def job_outputs(node):
    """The result nodes of a finished calcfunction or analysis job, by output label."""
    links = node.base.links.get_outgoing(link_type=LinkType.CREATE).all()
    return {link.link_label: link.node for link in links if link.link_label not in JOB_OUTPUTS}


def assert_routes_agree(python_code, name, **nodes):
    """``name`` as its calcfunction and as a job on ``nodes``: both finish ok with identical outputs; return them."""
    function, _ = analysis_functions(name)
    _, local = function.run_get_node(**nodes)
    _, job = run_get_node(AnalysisCalculation, function=name, code=python_code, nodes=nodes,
                          metadata={'options': JOB_OPTIONS})
    assert local.is_finished_ok, local.exit_message
    assert job.is_finished_ok, job.exit_message
    outputs = job_outputs(local)
    assert set(outputs) == set(job_outputs(job))
    for label, node in job_outputs(job).items():
        assert_same_node(outputs[label], node, f'{name}.{label}')
    return outputs


def test_hopping_workflow_gives_the_same_outputs_by_both_routes(python_code):
    from aiida_boroglass.data.composition import CompositionData
    from aiida_boroglass.workflows.hopping import HoppingWorkChain

    inputs = {'compositions': {'x0500': CompositionData('0.33Li2O-0.67[xB2O3-(1-x)P2O5]', x=0.5)},
              'parameters': orm.Dict({'size': 8, 'n_landscapes': 2, 'temperatures_k': [400.0, 600.0], 'seed': 3})}
    _, local = run_get_node(HoppingWorkChain, **inputs)  # 8^3 x 2 x 3 site solves: far below the default threshold
    _, jobs = run_get_node(HoppingWorkChain, **inputs, job_threshold_site_solves=0, analysis_code=python_code,
                           analysis_options=orm.Dict(JOB_OPTIONS))
    assert local.is_finished_ok and jobs.is_finished_ok, (local.exit_message, jobs.exit_message)
    assert set(local.outputs) == set(jobs.outputs) == {'units', 'transport', 'summary', 'curves'}
    for label in ('summary', 'curves'):
        assert_same_node(local.outputs[label], jobs.outputs[label], label)
    assert_same_node(local.outputs.transport.x0500, jobs.outputs.transport.x0500, 'transport')
    assert local.outputs.transport.x0500.creator.process_label == 'hopping_transport'
    creator = jobs.outputs.transport.x0500.creator
    assert creator.process_type == 'aiida.calculations:boroglass.analysis' and creator.caller.pk == jobs.pk
    assert creator.inputs.nodes.units.uuid == jobs.outputs.units.x0500.uuid
    assert np.all(np.isfinite(jobs.outputs.transport.x0500.get_array('sigma_s_cm')))
    # the command's progress counts the glasses done by either route
    from aiida_boroglass.cli.launcher import glasses_transported

    assert glasses_transported(local) == glasses_transported(jobs) == 1


def test_deformation_job_gives_the_calcfunctions_outputs(python_code, k_borate_glass):
    """A 168-atom glass stretched affinely to 3 % along x in 4 frames, jiggled, and a linear 50 GPa thermo."""
    from aiida_boroglass.calculations.lammps_inputs import BAR_PER_GPA

    rng = np.random.default_rng(5)
    reference, cell = k_borate_glass.get_positions()[0], k_borate_glass.get_cells()[0]
    strains = np.linspace(0.0, 0.03, 4)
    stretch = np.array([np.diag([1 + e, 1.0, 1.0]) for e in strains])
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(symbols=list(k_borate_glass.symbols),
                              positions=reference @ stretch + rng.normal(scale=0.03, size=(4, *reference.shape)),
                              cells=cell @ stretch, pbc=(True, True, True))
    thermo = orm.ArrayData()
    strain = np.linspace(0.0, 0.03, 31)
    for axis, factor in zip('xyz', (1 + strain, np.ones_like(strain), np.ones_like(strain))):
        thermo.set_array(f'deform_l{axis}', cell[0, 0] * factor)
    thermo.set_array('deform_pxx', -50.0 * strain * BAR_PER_GPA + rng.normal(scale=100.0, size=strain.size))
    thermo.set_array('deform_pyy', np.zeros_like(strain))
    thermo.set_array('deform_pzz', np.zeros_like(strain))
    settings = orm.Dict({'stage': 'deform', 'axes': [0], 'sign': 1, 'curve_points': 5, 'modulus_strain': 0.02,
                         'window_a': 4.0})
    cutoffs = orm.Dict({'B-O': {'value_a': 1.9, 'source': 'given'}})
    outputs = assert_routes_agree(python_code, 'deformation_analysis', thermo=thermo.store(),
                                  trajectory=trajectory.store(), cutoffs=cutoffs.store(), settings=settings.store())
    assert outputs['properties']['initial_modulus_gpa'] == pytest.approx(50.0, rel=0.05)
    np.testing.assert_allclose(outputs['evolution'].get_array('strain'), strains, atol=1e-12)
    assert 0 < outputs['evolution'].get_array('n4')[0] < 1


def k_borate_builder(workflow, k_borate_21, lammps_code, overrides):
    """Inputs of ``workflow`` (diffusion or deformation) on the 21-atom K borate glass under Deng-Du, from ``fast``."""
    from aiida_boroglass.workflows.ab_initio.classical_labeller import frame_forcefield

    forcefield = orm.Dict(frame_forcefield([site.kind_name for site in k_borate_21.sites], 'deng_du'))
    builder = workflow.get_builder_from_protocol(lammps_code, [k_borate_21], forcefield, protocol='fast',
                                                 overrides=overrides)
    return builder._inputs(prune=True)


@pytest.mark.parametrize(('workflow', 'overrides', 'message'), [
    ('diffusion', {'schedule': {'equilibration_ps': 0.1, 'production_ps': 1.0, 'dump_every_ps': 0.05},
                   'parameters': {'d2min_interval_ps': 0.2}},
     'analysis_code: each production run has 441 atoms x analysed frames, above job_threshold_atom_frames = 100'),
    ('deformation', {'frames': 5, 'max_strain': 0.1, 'analysis': {'window_a': 3.0}},
     'analysis_code: each deformation run has 126 atoms x analysed frames, above job_threshold_atom_frames = 100'),
    ('hopping', {}, 'analysis_code: each glass has 108000 lattice sites x landscapes x (1 + temperatures), above '
                    'job_threshold_site_solves = 100'),
])
def test_analyses_above_the_threshold_without_a_code_are_refused_naming_it(k_borate_21, lammps_code, workflow,
                                                                            overrides, message):
    from aiida_boroglass.data.composition import CompositionData
    from aiida_boroglass.workflows.diffusion import DiffusionWorkChain
    from aiida_boroglass.workflows.hopping import HoppingWorkChain
    from aiida_boroglass.workflows.mechanics.deformation import DeformationWorkChain

    if workflow == 'hopping':  # 30^3 sites x 1 landscape x (1 + 3 temperatures)
        process = HoppingWorkChain
        inputs = {'compositions': {'x0500': CompositionData('0.33Li2O-0.67[xB2O3-(1-x)P2O5]', x=0.5)},
                  'parameters': orm.Dict({'size': 30, 'n_landscapes': 1, 'temperatures_k': [400.0, 500.0, 600.0]}),
                  'nfu_source': orm.Str('model'), 'job_threshold_site_solves': orm.Int(100)}
    else:
        process = DiffusionWorkChain if workflow == 'diffusion' else DeformationWorkChain
        inputs = {**k_borate_builder(process, k_borate_21, lammps_code, overrides),
                  'job_threshold_atom_frames': orm.Int(100)}
    error = process.spec().inputs.validate(inputs)
    assert error is not None and message in str(error) and '\n' not in error.message, str(error)
    assert process.spec().inputs.validate({**inputs, 'analysis_code': lammps_code}) is None
    before = node_count()
    with pytest.raises(ValueError, match=re.escape(message.split(',')[0])):
        run_get_node(process, **inputs)
    assert node_count() == before


def test_diffusion_workflow_runs_its_analyses_as_jobs_with_the_calcfunctions_outputs(k_borate_21, lammps_code,
                                                                                     python_code):
    """One 1 ps production run of the 21-atom K borate glass at 2000 K, its analyses as jobs (threshold 0)."""
    from aiida_boroglass.workflows.diffusion import DiffusionWorkChain

    overrides = {'temperatures_k': [2000.0], 'schedule': {'equilibration_ps': 0.1, 'production_ps': 1.0,
                                                          'dump_every_ps': 0.05},
                 'parameters': {'d2min_interval_ps': 0.2, 'd2min_cutoff_a': 3.0, 'min_points': 3}}
    inputs = k_borate_builder(DiffusionWorkChain, k_borate_21, lammps_code, overrides)
    _, jobs = run_get_node(DiffusionWorkChain, **inputs, job_threshold_atom_frames=0, analysis_code=python_code,
                           analysis_options=orm.Dict(JOB_OPTIONS))
    assert jobs.is_finished_ok, jobs.exit_message
    trajectory = jobs.outputs.trajectories.T2000_r0
    _, diffusion = analysis_functions('diffusion_at_temperature')[0].run_get_node(
        temperature_k=orm.Float(2000.0), parameters=inputs['parameters'], r0=trajectory)
    _, rearrangement = analysis_functions('ion_rearrangement')[0].run_get_node(trajectory=trajectory,
                                                                              parameters=inputs['parameters'])
    expected = {**{f'{label}.T2000': node for label, node in job_outputs(diffusion).items()},
                **{f'{label}.T2000_r0': node for label, node in job_outputs(rearrangement).items()}}
    for label, node in expected.items():
        namespace, key = label.split('.')
        made = jobs.outputs[namespace][key]
        assert made.creator.process_type == 'aiida.calculations:boroglass.analysis', label
        assert_same_node(node, made, label)
    assert jobs.outputs.msd.T2000.get_array('msd_a2_K')[-1] > 0
