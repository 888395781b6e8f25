"""A DeePMD melt-quench of a 63-atom K borate glass, end to end in LAMMPS, and the glass analyses on it.

The two models of the ``deepmd_models`` fixture (trained on classically labelled K borate
frames) drive every phase; the glass then goes through the commands a user runs on any
glass: the screening table, ``analyze`` (structure panel) and ``diffusion`` (transport with the
same ensemble).
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
from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

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
def deepmd_glass(lammps_code, packmol_code, deepmd_models):
    """The finished DeePMD melt-quench of 40K2O-60B2O3."""
    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        lammps_code, CompositionData('K2O-B2O3', x=0.4), protocol='fast', overrides=GLASS,
        ensemble=ensemble(deepmd_models))
    node = run_get_node(builder).node
    assert node.is_finished_ok, node.exit_message
    return node


def test_every_phase_ran_on_the_ensemble_with_its_model_deviation(deepmd_glass):
    node = deepmd_glass
    assert 'forcefield' not in node.outputs and 'forcefield' not in node.inputs
    phases = {'melt', 'quench', 'relax', 'production'}
    assert set(node.outputs.model_deviation) == phases
    for phase in phases:
        run = node.base.links.get_outgoing(link_label_filter=phase).one().node
        calcjob = run.called[-1]
        script = calcjob.base.repository.get_object_content('input.in')
        assert 'pair_style deepmd m0.pb m1.pb out_file' in script and 'kspace_style' not in script
        deviation = node.outputs.model_deviation[phase]
        steps, stage_index = deviation.get_array('steps'), deviation.get_array('stage_index')
        max_f = deviation.get_array('max_devi_f')
        names = deviation.base.attributes.get('stage_names')
        thermo = node.outputs.thermo[phase]
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
