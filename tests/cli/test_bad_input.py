"""Every refused input of every command: one line naming the field, exit status 2, no traceback, no node stored.

Nothing here may launch a workflow: ``run_here`` is replaced by a function that fails the
test, so a refusal that is missing shows as a failure instead of a LAMMPS run.
"""
import numpy as np
import pytest
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.data import data_boroglass
from aiida_boroglass.cli.launcher import main

SERIES = '0.35Na2O-0.65[xB2O3-(1-x)P2O5]'

#: YAML files the rows refer to as ``{yaml:NAME}``.
FILES = {
    'broken': 'schedule: [\n',
    'list': '- 1\n- 2\n',
    'top_typo': 'melt_ps: fast\n',
    'nested_typo': 'schedule: {melt_pss: 5}\n',
    'melt_ps_fast': 'schedule: {melt_ps: fast}\n',
    'thermo_float': 'md: {thermo_every: 1.5}\n',
    'negative_density': 'density_g_cm3: -2\n',
    'negative_tolerance': 'packing: {tolerance_a: -1}\n',
    'negative_restart': 'md: {restart_every: -5}\n',
    'negative_cutoff': 'analysis: {cutoff_bo_a: -1}\n',
    'borophosphate_density': 'density_g_cm3: 2.3\n',
    'production_long': 'schedule: {production_ps: long}\n',
    'haven_typo': 'parameters: {haven: 1.0}\n',
    'd2min_too_long': 'parameters: {d2min_interval_ps: 100}\n',
    'units_broken': '{0.5: [\n',
    'units_keys': 'fast: {B4: 0.4}\n',
    'bad_basis': 'dft: {basis_set: TZVP-GTH}\n',
    'rcut_typo': 'descriptor: {rcutt: 5.0}\n',
    'wide_axis': 'descriptor: {axis_neuron: 99}\n',
    'learning_typo': 'learning: {trust_low: 0.1}\n',
}

#: (id, command line, fragment the one-line message must hold). ``{NAME}`` is replaced by the PK of a stored
#: node or the path of a file (see ``context``); rows on ``verdi data boroglass`` start with ``verdi``.
ROWS = [
    ('screen-no-density', ['screen', 'xLi2O-(1-x)[0.1Al2O3-0.9B2O3]', '--x', '0.3'], 'density_g_cm3'),
    ('screen-max-concurrent', ['screen', 'Li2O-B2O3', '--x', '0.3', '--max-concurrent', '0'], '--max-concurrent'),
    ('screen-replicas', ['screen', 'Li2O-B2O3', '--x', '0.3', '--replicas', '0'], '--replicas'),
    ('screen-atoms', ['screen', 'Li2O-B2O3', '--x', '0.3', '--atoms', '3'], 'n_atoms'),
    ('screen-unknown-option', ['screen', 'Li2O-B2O3', '--x', '0.3', '--atomz', '5'], '--atomz'),
    ('screen-x-text', ['screen', 'Li2O-B2O3', '--x', '0.1,abc'], '--x'),
    ('screen-x-range', ['screen', 'Li2O-B2O3', '--x', '0.1,1.2'], '--x'),
    ('screen-protocol', ['screen', 'Li2O-B2O3', '--x', '0.2', '--protocol', 'quick'], '--protocol'),
    ('screen-wait-alone', ['screen', 'Li2O-B2O3', '--x', '0.3', '--wait'], '--wait'),
    ('screen-no-daemon', ['screen', 'Li2O-B2O3', '--x', '0.3', '--daemon'], '--daemon'),
    ('screen-output-file', ['screen', 'Li2O-B2O3', '--x', '0.3', '--output', '{yaml:list}'], '--output'),
    ('screen-yaml-broken', ['screen', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:broken}'], 'line 2'),
    ('screen-yaml-list', ['screen', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:list}'], 'mapping'),
    ('screen-yaml-typo', ['screen', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:top_typo}'], "'melt_ps'"),
    ('screen-yaml-nested-typo', ['screen', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:nested_typo}'],
     'schedule.melt_pss'),
    ('screen-yaml-type', ['screen', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:melt_ps_fast}'], 'schedule.melt_ps'),
    ('screen-yaml-integer', ['screen', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:thermo_float}'],
     'md.thermo_every'),
    ('screen-negative-density', ['screen', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:negative_density}'],
     'density_g_cm3'),
    ('screen-negative-tolerance', ['screen', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:negative_tolerance}'],
     'tolerance_a'),
    ('screen-negative-restart', ['screen', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:negative_restart}'],
     'restart_every'),
    ('screen-negative-cutoff', ['screen', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:negative_cutoff}'],
     'cutoff_bo_a'),
    ('screen-without-b2o3', ['screen', 'Li2O-B2O3', '--x', '1.0'], 'B2O3'),
    ('screen-shik-p2o5', ['screen', '0.33Li2O-0.67[xB2O3-(1-x)P2O5]', '--x', '0.5', '--forcefield', 'shik',
                          '--overrides', '{yaml:borophosphate_density}'], 'forcefield'),
    ('composition-x', ['composition', 'Li2O-B2O3', '--x', '1.5'], 'x'),
    ('composition-oxide', ['composition', '(Li2O)40(B2O3)30(Xe2O)30'], 'Xe2O'),
    ('composition-atoms', ['composition', 'LB70', '--atoms', '3'], '--atoms'),
    ('diffusion-nothing', ['diffusion'], 'SPEC'),
    ('diffusion-spec-without-x', ['diffusion', 'Li2O-B2O3'], 'SPEC/--x'),
    ('diffusion-field-nan', ['diffusion', 'Li2O-B2O3', '--x', '0.3', '--field', '0,0,nan'], '--field'),
    ('diffusion-field-short', ['diffusion', '--glass', '{workflow}', '--field', '0,0'], '--field'),
    ('diffusion-temperatures', ['diffusion', 'Li2O-B2O3', '--x', '0.3', '--temperatures', 'hot'], '--temperatures'),
    ('diffusion-glass-missing', ['diffusion', '--glass', '987654321'], '--glass'),
    ('diffusion-glass-not-melt-quench', ['diffusion', '--glass', '{workflow}'], '--glass'),
    ('diffusion-spec-daemon', ['diffusion', 'Li2O-B2O3', '--x', '0.3', '--daemon'], '--daemon'),
    ('diffusion-overrides-type', ['diffusion', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:production_long}'],
     'schedule.production_ps'),
    ('diffusion-overrides-settings', ['diffusion', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:haven_typo}'],
     'haven'),
    ('diffusion-d2min-interval', ['diffusion', 'Li2O-B2O3', '--x', '0.3', '--overrides', '{yaml:d2min_too_long}'],
     'd2min_interval_ps'),
    ('diffusion-glass-overrides', ['diffusion', 'Li2O-B2O3', '--x', '0.3', '--glass-overrides',
                                   '{yaml:negative_density}'], 'density_g_cm3'),
    ('hopping-x-step', ['hopping', SERIES, '--x', '0:1:0'], '--x'),
    ('hopping-temperatures', ['hopping', SERIES, '--x', '0.5', '--temperatures', '300,hot'], '--temperatures'),
    ('hopping-v0', ['hopping', SERIES, '--x', '0.5', '--v0', '-1'], 'parameters.v0_ev'),
    ('hopping-fit-energies', ['hopping', SERIES, '--x', '0.5', '--fit-energies'], 'fit_energies'),
    ('hopping-units-broken', ['hopping', SERIES, '--x', '0.5', '--units', '{yaml:units_broken}'], '--units'),
    ('hopping-units-keys', ['hopping', SERIES, '--x', '0.5', '--units', '{yaml:units_keys}'], '--units'),
    ('hopping-panel-missing', ['hopping', SERIES, '--x', '0.5', '--from-panel', '987654321'], '--from-panel'),
    ('hopping-panel-count', ['hopping', SERIES, '--x', '0.5,1', '--from-panel', '{workflow}'], '--from-panel'),
    ('analyze-isotope', ['analyze', '{structure}', '--isotope', 'B=99'], 'isotopes'),
    ('analyze-cutoff-element', ['analyze', '{structure}', '--cutoff', 'Xx-O=2'], "cutoffs_a['Xx-O']"),
    ('analyze-cutoff-form', ['analyze', '{structure}', '--cutoff', 'B-O'], '--cutoff'),
    ('analyze-q-max', ['analyze', '{structure}', '--q-max-xray', '-3'], 'q_max_xray_a'),
    ('analyze-experiment-alone', ['analyze', '{structure}', '--experiment', '{yaml:list}'], 'experiment_quantity'),
    ('analyze-experiment-unreadable', ['analyze', '{structure}', '--experiment', '{yaml:list}', '--quantity',
                                       'S_neutron'], 'experiment'),
    ('analyze-not-a-glass', ['analyze', '{integer}'], 'NODE'),
    ('medium-range-tiny-cell', ['medium-range', '{tiny}'], 'too small'),
    ('medium-range-small-cell', ['medium-range', '{small}'], 'too small'),
    ('medium-range-max-ring', ['medium-range', '{structure}', '--max-ring', '2'], 'ring_max_atoms'),
    ('softness-test-not-given', ['softness', '{workflow}', '--test', '{other}'], '--test'),
    ('softness-not-diffusion', ['softness', '{workflow}', '{other}', '--test', '{workflow}'], 'WORKFLOWS'),
    ('softness-nothing-to-train-on', ['softness', '{workflow}', '--test', '{workflow}'], 'at least one other'),
    ('aimd-spec-without-x', ['aimd', 'K2O-B2O3'], 'SPEC'),
    ('aimd-field-shape', ['aimd', '40K2O-60B2O3', '--field', '0,0.02'], '--field'),
    ('aimd-fix-network-without-field', ['aimd', '40K2O-60B2O3', '--fix-network'], '--field-ps/--fix-network'),
    ('aimd-too-few-atoms', ['aimd', '50Li2O-50B2O3', '--atoms', '8'], 'n_atoms'),
    ('aimd-structure-for-two-glasses', ['aimd', 'xK2O-(1-x)B2O3', '--x', '0.1,0.4', '--structure', '{structure}'],
     '--structure'),
    ('aimd-basis', ['aimd', '40K2O-60B2O3', '--overrides', '{yaml:bad_basis}'], 'dft.basis_set'),
    ('screen-models-not-an-ensemble', ['screen', 'K2O-B2O3', '--x', '0.4', '--models', '{workflow}'], '--models'),
    ('screen-models-and-forcefield', ['screen', 'K2O-B2O3', '--x', '0.4', '--models', '{workflow}', '--forcefield',
                                      'shik'], '--forcefield/--models'),
    ('label-no-source', ['label'], '--trajectory/--structures'),
    ('dataset-import-missing', ['dataset', 'import', '{yaml:list}'], 'DIR'),
    ('study-no-models', ['study', 'K2O-B2O3', '--x', '0.4'], '--models'),
    ('study-models-not-an-ensemble', ['study', 'K2O-B2O3', '--x', '0.4', '--models', '{workflow}'], '--models'),
    ('study-replicas', ['study', 'K2O-B2O3', '--x', '0.4', '--models', '{workflow}', '--replicas', '0'],
     '--replicas'),
    ('study-no-x', ['study', 'K2O-B2O3', '--models', '{workflow}'], 'SPEC/--x'),
    ('train-one-model', ['train', '--dataset', '{dataset}', '--models', '1'], '--models'),
    ('train-not-a-dataset', ['train', '--dataset', '{integer}'], '--dataset'),
    ('train-no-validation', ['train', '--dataset', '{one_frame}', '--protocol', 'fast'], 'validation frames'),
    ('train-yaml-typo', ['train', '--dataset', '{dataset}', '--overrides', '{yaml:rcut_typo}'], 'descriptor.rcutt'),
    ('train-axis-neuron', ['train', '--dataset', '{dataset}', '--protocol', 'fast', '--overrides',
                           '{yaml:wide_axis}'], 'descriptor.axis_neuron'),
    ('learn-not-the-glass', ['learn', 'K2O-B2O3', '--x', '0.4', '--dataset', '{dataset}', '--engine', 'classical'],
     'SPEC/--x'),
    ('learn-vasp-without-code', ['learn', 'B2O3', '--dataset', '{dataset}', '--engine', 'vasp'], '--label-code'),
    ('learn-not-a-dataset', ['learn', 'B2O3', '--dataset', '{integer}'], '--dataset'),
    ('learn-one-model', ['learn', 'B2O3', '--dataset', '{dataset}', '--models', '1'], '--models'),
    ('learn-yaml-typo', ['learn', 'B2O3', '--dataset', '{dataset}', '--overrides', '{yaml:learning_typo}'],
     'learning.trust_low'),
    ('learning-not-a-loop', ['verdi', 'learning', '{workflow}'], 'PK'),
    ('table-not-boroglass', ['verdi', 'table', '{workflow}'], 'NODES'),
    ('table-unknown-name', ['verdi', 'table', 'no-such-screening'], 'NODES'),
    ('export-unknown-name', ['export', 'no-such-screening'], 'NAME'),
    ('mechanics-direction', ['mechanics', '--glass', '{workflow}', '--directions', 'w'], '--directions'),
    ('mechanics-not-melt-quench', ['mechanics', '--glass', '{workflow}'], '--glass'),
    ('screen-bad-group-name', ['screen', 'K2O-B2O3', '--x', '0.4', '--name', 'a/b'], '--name'),
    ('show-not-melt-quench', ['verdi', 'show', '{integer}'], 'NODE'),
    ('model-not-an-ensemble', ['verdi', 'model', '{integer}'], 'NODE'),
]


def dataset_of(n_frames: int):
    """A stored dataset of ``n_frames`` frames of a 4-atom B2O2 cell (labels are arbitrary: nothing trains)."""
    import dpdata

    from aiida_boroglass.data.dataset import LabelledDatasetData

    rng = np.random.default_rng(0)
    system = dpdata.LabeledSystem(data={
        'atom_names': ['B', 'O'], 'atom_numbs': [2, 2], 'atom_types': np.array([0, 0, 1, 1]), 'orig': np.zeros(3),
        'nopbc': False, 'cells': np.tile(5.0 * np.eye(3), (n_frames, 1, 1)), 'coords': rng.random((n_frames, 4, 3)),
        'energies': rng.random(n_frames), 'forces': rng.random((n_frames, 4, 3)),
    })
    return LabelledDatasetData.from_dpdata([system], [[('test', i) for i in range(n_frames)]], 0.5, 0).store()


def structure_of(crystal) -> orm.StructureData:
    """A stored StructureData of ``(positions, cell, species)``."""
    positions, cell, species = crystal
    structure = orm.StructureData(cell=np.asarray(cell).tolist())
    for position, symbol in zip(positions, species):
        structure.append_atom(position=np.asarray(position).tolist(), symbols=str(symbol))
    return structure.store()


@pytest.fixture(scope='module')
def context(aiida_profile, lammps_code, packmol_code, crystals, tmp_path_factory):
    """PKs of the stored nodes and paths of the files the rows refer to."""
    folder = tmp_path_factory.mktemp('bad_input')
    values = {f'yaml:{name}': folder / f'{name}.yaml' for name in FILES}
    for name, text in FILES.items():
        values[f'yaml:{name}'].write_text(text)
    values.update(
        structure=structure_of(crystals.honeycomb_b2o3()).pk,
        tiny=structure_of(crystals.honeycomb_b2o3(reps=(1, 1, 1))).pk,  # narrower than four ball radii
        small=structure_of(crystals.cristobalite_bo4(reps=2)).pk,  # 13.6 Å: too small for the complete filtration
        workflow=orm.WorkflowNode().store().pk,
        other=orm.WorkflowNode().store().pk,
        integer=orm.Int(3).store().pk,
        dataset=dataset_of(4).pk,
        one_frame=dataset_of(1).pk,
    )
    return {key: str(value) for key, value in values.items()}


@pytest.fixture
def nothing_launches(monkeypatch):
    """Fail the test if a command gets as far as running a workflow."""
    def launched(builder):
        raise AssertionError(f'{builder._process_class.__name__} was launched')

    monkeypatch.setattr('aiida_boroglass.cli.foreground.run_here', launched)


@pytest.mark.parametrize('row, arguments, field', ROWS, ids=[row for row, _, _ in ROWS])
def test_bad_input_is_one_line_naming_the_field(context, nothing_launches, row, arguments, field):
    """Exit status 2, one line ``Error: ...`` holding the field, no traceback, and no new node."""
    command, arguments = (data_boroglass, arguments[1:]) if arguments[0] == 'verdi' else (main, arguments)
    arguments = [context[argument[1:-1]] if argument.startswith('{') else argument for argument in arguments]
    before = orm.QueryBuilder().append(orm.Node).count()
    result = CliRunner().invoke(command, arguments)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert isinstance(result.exception, SystemExit), result.exc_info  # a refusal, not an exception
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith('Error: '), result.output
    assert field in lines[0]
    assert 'Traceback' not in result.output
    assert orm.QueryBuilder().append(orm.Node).count() == before


@pytest.mark.parametrize(('arguments', 'warned'), [
    (['screen', 'Li2O-B2O3', '--x', '0.8'], True),
    (['screen', 'Li2O-B2O3', '--x', '0.8', '--overrides', '{yaml:borophosphate_density}'], False),
    (['diffusion', 'Li2O-B2O3', '--x', '0.8'], True),
])
def test_extrapolated_density_is_one_warning_line_not_a_refusal(context, nothing_launches, arguments, warned):
    """80Li2O-20B2O3 lies beyond the cited densities: the model's value is used, said in one line; a user value is not."""
    arguments = [context[argument[1:-1]] if argument.startswith('{') else argument for argument in arguments]
    result = CliRunner().invoke(main, arguments)
    assert isinstance(result.exception, AssertionError) and 'was launched' in str(result.exception)  # not refused
    warnings = [line for line in result.output.splitlines() if line.startswith('warning: ')]
    if warned:
        assert len(warnings) == 1, result.output
        assert warnings[0].startswith('warning: density of 80Li2O-20B2O3 (') and 'Li2O 80 mol%' in warnings[0]
    else:
        assert not warnings, result.output


def test_the_table_has_a_row_for_every_command():
    commands = {arguments[0] if arguments[0] != 'verdi' else arguments[1] for _, arguments, _ in ROWS}
    assert commands == set(main.commands) - {'setup'} | set(data_boroglass.commands)
    assert len(ROWS) >= 25
