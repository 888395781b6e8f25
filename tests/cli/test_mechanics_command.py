"""``aiida-boroglass mechanics`` on a real 60-atom Li borate glass, its table again from the database, bad input.

The command is invoked through a one-command group of the launcher's class (one-line usage
errors), so that these tests do not depend on where the command is registered. A real fracture
run is too long for this file (a 480-atom cell that had not separated at 100 % strain after
190 s, measured): the command's fracture builder is checked as launched, and its table and
plots on a hand-made fracture workflow node (tests/workflows/mechanics/test_fracture.py runs
the workflow).
"""
import json
import re

import numpy as np
import pytest
import yaml
from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import run_get_node
from aiida.engine.processes import ProcessState
from click.testing import CliRunner

from aiida_boroglass.cli.data import data_boroglass
from aiida_boroglass.cli.errors import OneLineGroup
from aiida_boroglass.cli.mechanics import mechanics, mechanics_table
from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

CLI = OneLineGroup(commands={'mechanics': mechanics})
#: Tension to 4 % in 800 steps, two frames, no equilibration: the cheapest run that has every output.
OVERRIDES = {'deformation': {'max_strain': 0.04, 'equilibrate_ps': 0.0, 'frames': 2, 'md': {'thermo_every': 5},
                             'analysis': {'curve_points': 4, 'modulus_strain': 0.01}}}
#: Fracture in three strain steps of 480 atoms (the glass 2 x 2 x 2), its pre-crack wide enough to hold cations.
FRACTURE = {'fracture': {'repeats': [2, 2, 2], 'crack': {'width_fraction': 0.5, 'height_fraction': 0.5},
                         'strain_step': 0.1, 'max_strain': 0.3}}
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
PLOTS = ('stress_strain.png', 'structure_strain.png', 'bond_switching.png', 'local_strain.png')


@pytest.fixture(scope='module')
def glass(aiida_profile, lammps_code, packmol_code, tiny_overrides):
    """A finished 60-atom melt-quench of 30Li2O-70B2O3 (the tiny schedule of the CLI tests)."""
    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        lammps_code, CompositionData('Li2O-B2O3', x=0.3), protocol='fast', overrides={**tiny_overrides, 'n_atoms': 60})
    node = run_get_node(builder).node
    assert node.is_finished_ok, node.exit_message
    return node


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """YAML overrides files by name: the cheap run, and refused ones."""
    folder = tmp_path_factory.mktemp('mechanics')
    contents = {'cheap': OVERRIDES, 'mode': {'tension': {'mode': 'compression'}}, 'section': {'fracturee': {}},
                'rate': {**OVERRIDES, 'tension': {'strain_rate_per_ps': 0.0}},
                'one_cell': {'fracture': {'repeats': [1, 1, 1]}}, 'fracture': FRACTURE}
    paths = {name: folder / f'{name}.yaml' for name in contents}
    for name, values in contents.items():
        paths[name].write_text(yaml.safe_dump(values))
    return paths


@pytest.fixture(scope='module')
def command(glass, files, tmp_path_factory):
    """``mechanics --glass PK --elastic --tension`` on the fast protocol: the result, its output folder, the nodes."""
    output = tmp_path_factory.mktemp('mechanics_out')
    result = CliRunner().invoke(CLI, ['mechanics', '--glass', str(glass.pk), '--elastic', '--tension', '--overrides',
                                      str(files['cheap']), '--max-concurrent', '7', '-o', str(output)])
    assert result.exit_code == 0, result.output
    nodes = {name: orm.load_node(int(pk)) for name, pk in re.findall(r'(\w+)WorkChain<(\d+)> finished', result.output)}
    return result, output, nodes


def test_table_holds_the_workflows_outputs(command, glass):
    result, output, nodes = command
    elastic, tension = nodes['Elastic'], nodes['Deformation']
    assert elastic.label == tension.label == '30Li2O-70B2O3'
    assert elastic.inputs.max_concurrent.value == tension.inputs.max_concurrent.value == 7
    assert tension.inputs.mode.value == 'tension' and tension.inputs.max_strain.value == 0.04
    assert elastic.inputs.structures.r0.uuid == tension.inputs.structures.r0.uuid == glass.outputs.structure.uuid
    rows = {row['run']: row for row in json.loads((output / 'mechanics.json').read_text())}
    assert set(rows) == {'elastic', 'tension'}
    constants = elastic.outputs.elastic.r0
    for key in ('youngs_modulus_gpa', 'poisson_ratio', 'bulk_modulus_hill_gpa', 'shear_modulus_hill_gpa'):
        assert rows['elastic'][key] == constants[key] and rows['elastic'][f'{key}_std'] is None  # one replica
    # the strength is the largest binned stress of the one run, at its strain
    curve = tension.outputs.curves.r0_x
    stress, strain = curve.get_array('stress_gpa'), curve.get_array('strain')
    assert rows['tension']['strength_gpa'] == pytest.approx(stress.max())
    assert rows['tension']['strain_at_strength'] == pytest.approx(strain[np.argmax(stress)])
    assert rows['tension']['n_runs'] == 1 and rows['elastic']['n_runs'] == 1
    assert cells(result.output, 'tension')[8:10] == [f'{stress.max():.2f}', f'{strain[np.argmax(stress)]:.3f}']
    assert cells(result.output, 'elastic')[4:6] == [f'{constants["youngs_modulus_gpa"]:.1f}',
                                                    f'{constants["poisson_ratio"]:.3f}']


def test_plots_are_png_images(command):
    _, output, _ = command
    for name in PLOTS:
        data = (output / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 10_000, name


def test_verdi_table_of_each_workflow_gives_its_rows_again(command, tmp_path):
    result, output, nodes = command
    rows = {row['run']: row for row in json.loads((output / 'mechanics.json').read_text())}
    for name, run in (('Elastic', 'elastic'), ('Deformation', 'tension')):
        again = CliRunner().invoke(data_boroglass, ['table', str(nodes[name].pk), '-o', str(tmp_path / name)])
        assert again.exit_code == 0, again.output
        assert json.loads((tmp_path / name / 'mechanics.json').read_text()) == [rows[run]]
        assert cells(again.output, run) == cells(result.output, run)
    assert all((tmp_path / 'Deformation' / name).read_bytes()[:8] == PNG_MAGIC for name in PLOTS)
    assert not list((tmp_path / 'Elastic').glob('*.png'))


def cells(output: str, run: str) -> list[str]:
    """The cells of the table line of ``run`` in a command's output."""
    line = next(line for line in output.splitlines() if re.match(rf'\s*30Li2O-70B2O3\s+{run}\s', line))
    return re.split(r'\s{2,}', line.strip())


def test_spread_over_replicas_is_shown_as_mean_plus_minus_std():
    row = {'glass': 'g', 'run': 'elastic', 'pk': 1, 'n_runs': 3, 'youngs_modulus_gpa': 72.66, 'youngs_modulus_gpa_std': 1.24,
           'poisson_ratio': 0.27, 'poisson_ratio_std': None}
    header, _, line = mechanics_table([row]).splitlines()
    assert '72.7 ± 1.2' in line and ' 0.270 ' in f'{line} ' and line.rstrip().endswith('-')
    assert header.split()[:4] == ['glass', 'run', 'PK', 'n'] and 'K_IC' not in header  # no fracture row


@pytest.fixture
def launched(monkeypatch):
    """The builders the command launches, in order, with their progress totals; nothing runs."""
    builders = []

    def record(builder, daemon, wait, progress):
        builders.append((builder, progress.total))

    monkeypatch.setattr('aiida_boroglass.cli.mechanics.launch', record)
    return builders


def test_flags_options_and_glass_reach_the_builders(glass, launched):
    """Without a flag one elastic run; each mode flag one deformation run with the directions, codes and job options."""
    result = CliRunner().invoke(CLI, ['mechanics', '--glass', str(glass.pk)])
    assert result.exit_code == 0, result.output
    [(builder, total)] = launched
    assert builder._process_class.__name__ == 'ElasticWorkChain' and total == 14  # 1 reference + 13 cells
    assert builder.route.value == 'static' and builder.max_concurrent == 2  # the fast protocol's

    launched.clear()
    result = CliRunner().invoke(CLI, ['mechanics', '--glass', str(glass.pk), '--compression', '--tension', '--directions',
                                      'y,z', '--max-concurrent', '3', '--walltime', '1:30:00', '--queue', 'short',
                                      '--mpi-procs', '2'])
    assert result.exit_code == 0, result.output
    assert [(builder.mode.value, total) for builder, total in launched] == [('tension', 2), ('compression', 2)]
    for builder, _ in launched:
        assert builder.directions.get_list() == ['y', 'z'] and builder.max_concurrent == 3
        assert builder.metadata.label == '30Li2O-70B2O3'
        assert builder.structures['r0'].uuid == glass.outputs.structure.uuid
        assert builder.forcefield.uuid == glass.outputs.forcefield.uuid
        assert builder.md.lammps.code.full_label.startswith('lmp@')
        options = dict(builder.md.lammps.metadata.options)
        assert options['max_wallclock_seconds'] == 5400 and options['queue_name'] == 'short'
        assert options['resources'] == {'num_machines': 1, 'num_mpiprocs_per_machine': 2} and options['withmpi']


def test_fracture_follows_the_elastic_run_and_takes_its_e_and_nu(glass, command, files, monkeypatch):
    """--fracture alone: the elastic run first, then the fracture builder with the elastic run's average as input."""
    elastic = command[2]['Elastic']
    launched = []

    def record(builder, daemon, wait, progress):
        launched.append((builder, progress.total))
        return elastic if builder._process_class.__name__ == 'ElasticWorkChain' else None

    monkeypatch.setattr('aiida_boroglass.cli.mechanics.launch', record)
    result = CliRunner().invoke(CLI, ['mechanics', '--glass', str(glass.pk), '--fracture', '--overrides',
                                      str(files['fracture'])])
    assert result.exit_code == 0, result.output
    (first, _), (fracture, total) = launched
    assert first._process_class.__name__ == 'ElasticWorkChain'
    assert fracture.elastic.uuid == elastic.outputs.average.uuid
    assert fracture.repeats.get_list() == [2, 2, 2] and fracture.max_strain.value == 0.3
    assert total == 5  # the relaxation and the steps at strain 0, 0.1, 0.2, 0.3


def fracture_node(glass) -> orm.WorkflowNode:
    """A stored finished ``boroglass.fracture`` node of two replicas with hand-made outputs, their average made by the
    workflow's own calcfunction: K_IC 0.5 and 0.7 MPa m^0.5, peak stress 3 and 4 GPa at strain 0.1 and 0.2."""
    from aiida_boroglass.functions.fracture import fracture_replica_average

    structure = glass.outputs.structure
    positions = np.array([site.position for site in structure.sites])
    cell = np.array(structure.cell)
    node = orm.WorkflowNode(label='30Li2O-70B2O3')
    node.set_process_type('aiida.workflows:boroglass.fracture')
    node.base.links.add_incoming(orm.Dict({'youngs_modulus_gpa': 60.0, 'poisson_ratio': 0.25}).store(),
                                 LinkType.INPUT_WORK, 'elastic')
    replicas = {'r0': (0.5, 3.0, 0.1), 'r1': (0.7, 4.0, 0.2)}
    for key in replicas:
        node.base.links.add_incoming(structure, LinkType.INPUT_WORK, f'structures__{key}')
    node.set_process_state(ProcessState.FINISHED)
    node.set_exit_status(0)
    node.store()
    results = {}
    for key, (k_ic, peak, at) in replicas.items():
        strain = np.array([0.0, 0.1, 0.2, 0.3])
        stretch = np.diag([1.0, 1.0, 1.0])[None] + np.einsum('k,ij->kij', strain, np.diag([0.0, 0.0, 1.0]))
        frames = orm.TrajectoryData()
        frames.set_trajectory(list(structure.get_site_kindnames()), np.einsum('na,kab->knb', positions, stretch),
                              cells=np.einsum('ab,kbc->kac', cell, stretch), pbc=(True, True, True))
        curve = orm.ArrayData()
        for name, values in (('strain', strain), ('stress_gpa', np.interp(strain, [0.0, at, 0.3], [0.0, peak, 0.0])),
                             ('crack_area_a2', np.array([0.0, 5.0, 60.0, 80.0]))):
            curve.set_array(name, values)
        results[key] = orm.Dict({'separated': True, 'k_ic_mpa_m05': k_ic, 'g_c_j_m2': 2.0 * k_ic, 'crack_area_a2': 80.0,
                                 'peak_stress_gpa': peak, 'strain_at_peak': at})
        for name, data in (('curve', curve), ('frames', frames), ('k_ic', orm.Float(k_ic)), ('fracture', results[key])):
            data.store().base.links.add_incoming(node, LinkType.RETURN, f'{name}__{key}')
    fracture_replica_average(**results).base.links.add_incoming(node, LinkType.RETURN, 'average')
    return node


def test_fracture_table_and_plots(glass, tmp_path):
    node = fracture_node(glass)
    result = CliRunner().invoke(data_boroglass, ['table', str(node.pk), '-o', str(tmp_path)])
    assert result.exit_code == 0, result.output
    [row] = json.loads((tmp_path / 'mechanics.json').read_text())
    assert row['run'] == 'fracture' and row['n_runs'] == 2 and row['elastic']['youngs_modulus_gpa'] == 60.0
    assert row['k_ic_mpa_m05'] == pytest.approx(0.6) and row['k_ic_mpa_m05_std'] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert row['strength_gpa'] == pytest.approx(3.5) and row['strain_at_strength'] == pytest.approx(0.15)
    assert row['per_run']['r1']['k_ic_mpa_m05'] == 0.7
    assert 'K_IC (MPa m^0.5)' in result.output
    assert cells(result.output, 'fracture')[-1] == '0.600 ± 0.141'
    for name in ('fracture_curve.png', 'fracture_snapshots.png'):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 10_000, name


def other_composition_glass(glass) -> orm.WorkflowNode:
    """A stored finished ``boroglass.melt_quench`` node of 40Li2O-60B2O3 with the glass's force field, and nothing else.

    The replica check reads only the composition and the potential of a melt-quench.
    """
    composition = CompositionData('Li2O-B2O3', x=0.4).store()
    node = orm.WorkflowNode()
    node.set_process_type('aiida.workflows:boroglass.melt_quench')
    node.base.links.add_incoming(composition, LinkType.INPUT_WORK, 'composition')
    node.set_process_state(ProcessState.FINISHED)
    node.set_exit_status(0)
    node.store()
    forcefield = orm.Dict(glass.outputs.forcefield.get_dict()).store()
    forcefield.base.links.add_incoming(node, LinkType.RETURN, 'forcefield')
    return node


@pytest.fixture
def nothing_launches(monkeypatch):
    """Fail the test if the command gets as far as running a workflow."""
    def launched(builder):
        raise AssertionError(f'{builder._process_class.__name__} was launched')

    monkeypatch.setattr('aiida_boroglass.cli.foreground.run_here', launched)


@pytest.mark.parametrize('arguments, field', [
    (['--glass', '{not_melt_quench}'], '--glass'),
    (['--glass', '{glass}', '--glass', '{other}'], '--glass'),
    (['--glass', '{glass}', '--tension', '--directions', 'x,w'], '--directions'),
    (['--glass', '{glass}', '--tension', '--directions', 'x,x'], '--directions'),
    (['--glass', '{glass}', '--tension', '--overrides', '{mode}'], '--overrides'),
    (['--glass', '{glass}', '--overrides', '{section}'], '--overrides'),
    (['--glass', '{glass}', '--elastic', '--tension', '--overrides', '{rate}'], 'strain_rate_per_ps'),
    (['--glass', '{glass}', '--elastic', '--fracture', '--overrides', '{one_cell}'], 'repeats'),
    (['--glass', '{glass}', '--protocol', 'quick'], '--protocol'),
    (['--elastic'], '--glass'),
], ids=['not-melt-quench', 'two-compositions', 'unknown-direction', 'repeated-direction', 'mode-in-overrides',
        'unknown-section', 'bad-rate-after-elastic', 'fracture-cell-too-small', 'protocol', 'no-glass'])
def test_bad_input_is_one_line_naming_the_option_and_stores_nothing(glass, files, nothing_launches, arguments, field):
    """Exit status 2, one line ``Error: ...`` naming the option, no node stored; the elastic run is not launched
    when the tension run behind it is refused."""
    values = {'glass': str(glass.pk), 'not_melt_quench': str(orm.WorkflowNode().store().pk),
              'other': str(other_composition_glass(glass).pk), **{name: str(path) for name, path in files.items()}}
    arguments = [values[argument[1:-1]] if argument.startswith('{') else argument for argument in arguments]
    before = orm.QueryBuilder().append(orm.Node).count()
    result = CliRunner().invoke(CLI, ['mechanics', *arguments])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith('Error: ') and field in lines[0], result.output
    assert orm.QueryBuilder().append(orm.Node).count() == before
