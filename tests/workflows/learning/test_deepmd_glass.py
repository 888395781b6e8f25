"""DeePMD melt-quenches of a 63-atom K borate glass, end to end in LAMMPS, and the glass analyses on them.

Paper 001's study (``boroglass.glass_study``) makes the glass twice with the two models of the
``deepmd_models`` fixture (trained on classically labelled K borate frames) and twice with the
Deng-Du force field, and compares them. Its first DeePMD glass then goes through the commands a
user runs on any glass: the screening table, ``analyze`` (structure panel) and ``diffusion``
(transport with the same ensemble).
"""
import json

import numpy as np
import pytest
import yaml
from aiida import orm
from aiida.engine import run_get_node
from click.testing import CliRunner

from aiida_boroglass.cli.launcher import main
from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.workflows.learning.glass_study import GlassStudyWorkChain
from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain
from aiida_boroglass.workflows.screening import screening_glasses

#: 63 atoms (three K4B6O11 units) melted at 1500 K for 1 ps and quenched at 2000 K/ps: plumbing, not physics.
GLASS = {
    'n_atoms': 63,
    'schedule': {'melt_temperature_k': 1500.0, 'push_off_ps': 0.1, 'melt_ps': 1.0, 'cooling_rate_k_ps': 2000.0,
                 'relax_nvt_ps': 0.3, 'relax_npt_ps': 0.3, 'production_ps': 0.5, 'dump_every_ps': 0.1},
    'md': {'thermo_every': 50, 'restart_every': 0},
}
#: Two short NVT runs; the analysis windows fit 1 ps of frames.
TRANSPORT = {
    'schedule': {'equilibration_ps': 0.1, 'production_ps': 1.0, 'dump_every_ps': 0.05},
    'md': {'thermo_every': 50},
    'parameters': {'d2min_interval_ps': 0.2},
}


def ensemble(deepmd_models, every=GLASS['md']['thermo_every']):
    """The fixture's two models as the ``ensemble`` argument of the builders."""
    paths, type_map = deepmd_models
    return {'models': {f'model_{index}': orm.SinglefileData(path) for index, path in enumerate(paths)},
            'deepmd': orm.Dict({'type_map': type_map, 'model_deviation_every': every})}


@pytest.fixture(scope='module')
def study(lammps_code, packmol_code, deepmd_models):
    """Paper 001's study of 40K2O-60B2O3: two DeePMD glasses and two Deng-Du glasses, compared."""
    builder = GlassStudyWorkChain.get_builder_from_protocol(
        lammps_code, CompositionData('K2O-B2O3', x=0.4), ensemble(deepmd_models), protocol='fast', overrides=GLASS,
        replicas=2)
    node = run_get_node(builder).node
    assert node.is_finished_ok, node.exit_message
    return node


def study_glasses(study, potential: str) -> list:
    """The melt-quenches of one potential of the study, replica 0 first."""
    screening = study.base.links.get_outgoing(link_label_filter=potential).one().node
    return list(screening_glasses(screening).values())


@pytest.fixture(scope='module')
def deepmd_glass(study):
    """The first DeePMD melt-quench of the study (the seeds of a single melt-quench)."""
    return study_glasses(study, 'mlp')[0]


def test_every_phase_ran_on_the_ensemble_with_its_model_deviation(deepmd_glass):
    node = deepmd_glass
    assert 'forcefield' not in node.outputs and 'forcefield' not in node.inputs
    calcjob = node.base.links.get_outgoing(link_label_filter='md').one().node.called[-1]
    script = calcjob.base.repository.get_object_content('input.in')
    assert 'pair_style deepmd m0.pb m1.pb out_file' in script and 'kspace_style' not in script
    deviation, thermo = node.outputs.model_deviation, node.outputs.thermo
    steps, stage_index = deviation.get_array('steps'), deviation.get_array('stage_index')
    max_f = deviation.get_array('max_devi_f')
    names = deviation.base.attributes.get('stage_names')
    md_stages = [stage['name'] for stage in calcjob.inputs.parameters['stages'] if stage['type'] != 'minimize']
    assert [names[index] for index in np.unique(stage_index)] == md_stages  # melt, quench, relax and production
    for index in np.unique(stage_index):  # every MD stage, from its step 0 to its last step
        stage_steps = steps[stage_index == index]
        assert stage_steps[0] == 0 and np.all(stage_steps % GLASS['md']['thermo_every'] == 0)
        assert stage_steps[-1] == thermo.get_array(f'{names[index]}_step').max()
    assert np.all(np.isfinite(max_f)) and np.all(max_f >= deviation.get_array('avg_devi_f'))
    assert np.all(max_f > 0)  # two models differing by their seeds never agree exactly


def test_the_deepmd_glass_is_a_glass_of_the_composition(deepmd_glass):
    node = deepmd_glass
    structure = node.outputs.structure
    symbols = [site.kind_name for site in structure.sites]
    assert {symbol: symbols.count(symbol) for symbol in set(symbols)} == {'K': 12, 'B': 18, 'O': 33}
    density = node.outputs.density_g_cm3.value
    assert 0.5 < density < 5.0
    assert 0.0 <= node.outputs.boron['n4'] <= 1.0
    oxygen = node.outputs.oxygen
    assert abs(oxygen['bo_fraction'] + oxygen['nbo_fraction'] + oxygen['free_fraction'] - 1.0) < 1e-9
    assert node.outputs.trajectory.numsteps == 6  # 0.5 ps production, a frame every 0.1 ps


def test_screen_table_names_the_ensemble(deepmd_glass, tmp_path):
    from aiida_boroglass.cli.screening import melt_quench_summary

    assert melt_quench_summary(deepmd_glass)['forcefield'] == 'DeePMD x2'


def output_lines(output: str) -> dict:
    """``label: value`` lines of a command's output as a dict."""
    return {line.split(':')[0].strip(): line.split(':', 1)[1].strip() for line in output.splitlines() if ':' in line}


def test_the_structure_panel_takes_the_deepmd_glass(deepmd_glass, tmp_path):
    """``analyze`` (the medium-range panel needs a cell of about 200 atoms or more, whatever the potential)."""
    result = CliRunner().invoke(main, ['analyze', str(deepmd_glass.pk), '-o', str(tmp_path / 'panel')])
    assert result.exit_code == 0, result.output
    assert 0.0 <= float(output_lines(result.output)['N4']) <= 1.0
    assert {'rdf.png', 'scattering.png'} <= {path.name for path in (tmp_path / 'panel').iterdir()}


def test_diffusion_runs_the_glass_on_its_own_ensemble(deepmd_glass, tmp_path):
    overrides = tmp_path / 'transport.yaml'
    overrides.write_text(yaml.safe_dump(TRANSPORT))
    output = tmp_path / 'transport'
    result = CliRunner().invoke(main, ['diffusion', '--glass', str(deepmd_glass.pk), '--temperatures', '1200,1500',
                                       '--overrides', str(overrides), '--output', str(output)])
    assert result.exit_code == 0, result.output
    node = orm.load_node(int(result.output.split('DiffusionWorkChain<')[1].split('>')[0]))
    assert node.is_finished_ok and 'forcefield' not in node.inputs
    models = deepmd_glass.inputs.md.lammps.models
    assert {m.uuid for m in node.inputs.md.lammps.models.values()} == {m.uuid for m in models.values()}
    rows = json.loads((output / 'transport.json').read_text())
    assert [(row['species'], row['n_replicas']) for row in rows] == [('K', 1)]
    assert [p['temperature_k'] for p in rows[0]['points']] == [1200.0, 1500.0]



def test_the_study_made_independent_replicas_on_each_potential(study):
    mlp, classical = study_glasses(study, 'mlp'), study_glasses(study, 'classical')
    assert len(mlp) == len(classical) == 2
    assert all('forcefield' not in glass.inputs and 'model_deviation' in glass.outputs for glass in mlp)
    assert all(glass.inputs.forcefield.value == 'deng_du' and 'model_deviation' not in glass.outputs
               for glass in classical)
    for glasses in (mlp, classical):
        assert glasses[0].inputs.packing.seed.value != glasses[1].inputs.packing.seed.value
        assert glasses[0].inputs.md_parameters['seed'] != glasses[1].inputs.md_parameters['seed']


def test_the_comparison_holds_numpys_statistics_of_the_stored_glasses(study):
    comparison = study.outputs.comparison
    for potential in ('mlp', 'classical'):
        glasses = study_glasses(study, potential)
        density = [glass.outputs.density_g_cm3.value for glass in glasses]
        n4 = [glass.outputs.boron['n4'] for glass in glasses]
        nbo = [glass.outputs.oxygen['nbo_fraction'] for glass in glasses]
        row = comparison[potential]
        assert row['replicas'] == 2
        assert row['density_g_cm3']['values'] == pytest.approx(density)
        assert row['density_g_cm3']['mean'] == pytest.approx(np.mean(density))
        assert row['density_g_cm3']['std'] == pytest.approx(np.std(density, ddof=1))
        assert row['n4']['values'] == pytest.approx(n4) and row['nbo_fraction']['values'] == pytest.approx(nbo)
        assert all(value >= 0.0 for value in row['three_rings_per_former']['values'])


def test_the_structure_factors_tend_to_one_and_the_replicas_differ(study):
    """Faber-Ziman S(Q) -> 1 at large Q for any glass; two replicas are not the same glass."""
    factors = study.outputs.structure_factors
    q = factors.get_array('q_a')
    for potential in ('mlp', 'classical'):
        mean, std = factors.get_array(f's_{potential}_mean'), factors.get_array(f's_{potential}_std')
        assert mean.shape == std.shape == q.shape
        assert abs(np.mean(mean[q > 15.0]) - 1.0) < 0.1
        assert np.all(std >= 0.0) and np.any(std > 0.0)
    assert 0.0 < study.outputs.comparison['sq_r_chi'] < 1.0


def quench_rows(deviation) -> np.ndarray:
    """``max_devi_f`` of the rows of the stage named ``quench``, in order."""
    names = deviation.base.attributes.get('stage_names')
    return deviation.get_array('max_devi_f')[[names[index] == 'quench' for index in deviation.get_array('stage_index')]]


def test_the_quench_deviation_is_every_mlp_replicas_quench_on_the_nominal_ramp(study):
    deviation = study.outputs.quench_deviation
    glasses = study_glasses(study, 'mlp')
    expected = np.concatenate([quench_rows(glass.outputs.model_deviation) for glass in glasses])
    np.testing.assert_array_equal(deviation.get_array('max_devi_f'), expected)
    temperature, replica = deviation.get_array('temperature_k'), deviation.get_array('replica')
    schedule = study.inputs.mlp.schedule
    for index in (0, 1):
        ramp = temperature[replica == index]
        assert ramp[0] == schedule['melt_temperature_k'] and ramp[-1] == schedule['final_temperature_k']
        assert np.all(np.diff(ramp) < 0)
    assert study.outputs.comparison['quench_deviation_ev_a']['max'] == pytest.approx(expected.max())


def test_the_study_table_shows_both_potentials_and_writes_the_figure(study, tmp_path):
    from aiida_boroglass.cli.data import data_boroglass

    result = CliRunner().invoke(data_boroglass, ['table', str(study.pk), '-o', str(tmp_path / 'study')])
    assert result.exit_code == 0, result.output
    n4 = study.outputs.comparison['mlp']['n4']
    assert f'{n4["mean"]:.3f} ± {n4["std"]:.3f}' in result.output
    assert '2.271' in result.output  # the measured density of 40K2O-60B2O3 (Song 2024, Table 1) beside them
    saved = json.loads((tmp_path / 'study' / 'study.json').read_text())
    assert saved['classical']['n4'] == study.outputs.comparison['classical']['n4']
    png = (tmp_path / 'study' / 'study.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 20_000


def test_a_study_without_models_or_with_models_on_both_sides_is_refused(lammps_code, packmol_code, deepmd_models):
    builder = GlassStudyWorkChain.get_builder_from_protocol(
        lammps_code, CompositionData('K2O-B2O3', x=0.4), ensemble(deepmd_models), protocol='fast', overrides=GLASS)
    inputs = builder._inputs(prune=True)
    both = {**inputs, 'classical': {**inputs['classical'], 'md': inputs['mlp']['md']}}
    error = GlassStudyWorkChain.spec().inputs.validate(both)
    assert 'classical.md.lammps.models' in str(error) and '\n' not in str(error)
    none = {**inputs, 'mlp': {**inputs['mlp'], 'md': inputs['classical']['md']}}
    assert 'mlp.md.lammps.models: the machine-learnt glass needs a DeePMD ensemble' in str(
        GlassStudyWorkChain.spec().inputs.validate(none))


def test_a_field_run_on_a_deepmd_glass_is_refused_naming_the_field(deepmd_glass, lammps_code):
    from aiida_boroglass.workflows.diffusion import DiffusionWorkChain

    before = orm.QueryBuilder().append(orm.ProcessNode).count()
    builder = DiffusionWorkChain.get_builder_from_protocol(
        lammps_code, [deepmd_glass.outputs.structure], None, protocol='fast',
        overrides={**TRANSPORT, 'field': {'efield_v_a': [0, 0, 0.05]}},
        ensemble={'models': dict(deepmd_glass.inputs.md.lammps.models), 'deepmd': deepmd_glass.inputs.md.lammps.deepmd})
    with pytest.raises(ValueError, match='field: an applied field acts on the force field'):
        run_get_node(builder)
    assert orm.QueryBuilder().append(orm.ProcessNode).count() == before


@pytest.mark.parametrize('change, message', [
    ({'forcefield': 'deng_du'}, 'forcefield: give the potential as forcefield or as md.lammps.models'),
    ({'type_map': ['B', 'O']}, r"md.lammps.deepmd.type_map: the models know \['B', 'O'\], not the elements \['K'\]"),
    ({'models': 1}, 'md.lammps.models: a model deviation needs at least 2 models, got 1'),
    ({'deepmd': None}, 'md.lammps.deepmd: required with md.lammps.models'),
])
def test_a_bad_deepmd_melt_quench_is_refused_naming_the_field(lammps_code, packmol_code, deepmd_models, change, message):
    potential = ensemble(deepmd_models)
    if 'type_map' in change:
        potential['deepmd'] = orm.Dict({**potential['deepmd'].get_dict(), 'type_map': change['type_map']})
    if 'models' in change:
        potential['models'] = dict(list(potential['models'].items())[:change['models']])
    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        lammps_code, CompositionData('K2O-B2O3', x=0.4), protocol='fast', overrides=GLASS, ensemble=potential)
    if 'forcefield' in change:
        builder.forcefield = change['forcefield']
    if 'deepmd' in change:
        del builder.md.lammps['deepmd']
    before = orm.QueryBuilder().append(orm.ProcessNode).count()
    with pytest.raises(ValueError, match=message):
        run_get_node(builder)
    assert orm.QueryBuilder().append(orm.ProcessNode).count() == before
