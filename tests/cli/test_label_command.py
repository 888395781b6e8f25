"""``aiida-boroglass label``: every refused input in one line naming the field, and real launches in the foreground.

The command is tested in a group of its own with the launcher's one-line error handling
(``OneLineGroup``), the way ``aiida-boroglass`` runs it.
"""
import json

import click
import numpy as np
import pytest
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.calculations.cp2k_inputs import MIN_ATOMS
from aiida_boroglass.cli.errors import OneLineGroup
from aiida_boroglass.cli.labelling import label


@click.group(cls=OneLineGroup)
def cli():
    """The label command as aiida-boroglass runs it."""


cli.add_command(label)

#: YAML files the rows refer to as ``{yaml:NAME}``.
FILES = {
    'typo': 'dft: {cutof_ry: 300}\n',
    'basis': 'dft: {basis_set: TZV2P-MOLOPT-GTH}\n',
    'cutoff_text': 'dft: {cutoff_ry: high}\n',
    'cheap': 'dft: {cutoff_ry: 100, eps_scf: 1.0e-5}\n',
}

#: (id, command line, fragment the one-line message must hold); ``{NAME}`` is a PK or a file path of ``context``.
ROWS = [
    ('no-source', ['label'], '--trajectory/--structures'),
    ('two-sources', ['label', '--trajectory', '{trajectory}', '--structures', '{glass}'], '--trajectory/--structures'),
    ('stride-of-structures', ['label', '--structures', '{glass}', '--stride', '2'], '--stride/--frames'),
    ('frames-text', ['label', '--trajectory', '{trajectory}', '--frames', '0,a'], '--frames'),
    ('frames-range', ['label', '--trajectory', '{trajectory}', '--frames', '0,4'], 'frames: [4] outside'),
    ('frames-and-stride', ['label', '--trajectory', '{trajectory}', '--frames', '0', '--stride', '2'],
     'stride/frames'),
    ('stride-zero', ['label', '--trajectory', '{trajectory}', '--stride', '0'], '--stride'),
    ('max-concurrent', ['label', '--trajectory', '{trajectory}', '--max-concurrent', '0'], '--max-concurrent'),
    ('trajectory-missing', ['label', '--trajectory', '987654321'], '--trajectory'),
    ('trajectory-not-one', ['label', '--trajectory', '{integer}'], '--trajectory'),
    ('structures-missing', ['label', '--structures', '987654321'], '--structures'),
    ('structures-not-one', ['label', '--structures', '{glass},{integer}'], '--structures'),
    ('structure-small', ['label', '--structures', '{small}'], 'structures.frame_00000'),
    ('structures-differ', ['label', '--structures', '{glass},{swapped}'], 'hold other atoms'),
    ('protocol', ['label', '--structures', '{glass}', '--protocol', 'quick'], '--protocol'),
    ('overrides-typo', ['label', '--structures', '{glass}', '--overrides', '{yaml:typo}'], 'dft.cutof_ry'),
    ('overrides-basis', ['label', '--structures', '{glass}', '--overrides', '{yaml:basis}'], 'dft.basis_set'),
    ('overrides-kind', ['label', '--structures', '{glass}', '--overrides', '{yaml:cutoff_text}'], 'dft.cutoff_ry'),
    ('code', ['label', '--structures', '{glass}', '--code', 'nowhere@localhost'], 'code'),
    ('wait-alone', ['label', '--structures', '{glass}', '--wait'], '--wait'),
    ('no-daemon', ['label', '--structures', '{glass}', '--daemon'], '--daemon'),
]


@pytest.fixture(scope='module')
def context(aiida_profile, local_codes, k_borate_21, tmp_path_factory):
    """PKs of stored nodes and paths of the files the rows refer to."""
    folder = tmp_path_factory.mktemp('label_input')
    values = {f'yaml:{name}': folder / f'{name}.yaml' for name in FILES}
    for name, text in FILES.items():
        values[f'yaml:{name}'].write_text(text)
    ase = k_borate_21.get_ase()
    swapped = ase.copy()
    swapped.numbers[[0, 10]] = swapped.numbers[[10, 0]]
    collapsed = ase.copy()
    collapsed.positions[12] = collapsed.positions[11]  # two O atoms on one site: CP2K stops before the SCF
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(ase.get_chemical_symbols(), np.array([ase.positions, ase.positions + 0.02,
                                                                     collapsed.positions, ase.positions - 0.02]),
                              cells=np.array([ase.cell[:]] * 4), pbc=(True, True, True))
    values.update(
        glass=k_borate_21.clone().store().pk,
        swapped=orm.StructureData(ase=swapped).store().pk,
        collapsed=orm.StructureData(ase=collapsed).store().pk,
        small=orm.StructureData(ase=ase[:MIN_ATOMS - 1]).store().pk,
        trajectory=trajectory.store().pk,
        integer=orm.Int(3).store().pk,
    )
    return {key: str(value) for key, value in values.items()}


@pytest.fixture
def nothing_launches(monkeypatch):
    """Fail the test if the command gets as far as running a workflow."""
    def launched(builder):
        raise AssertionError(f'{builder._process_class.__name__} was launched')

    monkeypatch.setattr('aiida_boroglass.cli.foreground.run_here', launched)


def _filled(arguments, context):
    """``arguments`` with every ``{NAME}`` replaced by ``context[NAME]`` (within comma lists too)."""
    filled = []
    for argument in arguments:
        for key, value in context.items():
            argument = argument.replace('{' + key + '}', value)
        filled.append(argument)
    return filled


@pytest.mark.parametrize('row, arguments, field', ROWS, ids=[row for row, _, _ in ROWS])
def test_bad_input_is_one_line_naming_the_field(context, nothing_launches, row, arguments, field):
    """Exit status 2, one line ``Error: ...`` holding the field, no traceback, and no new node."""
    before = orm.QueryBuilder().append(orm.Node).count()
    result = CliRunner().invoke(cli, _filled(arguments, context))
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith('Error: '), result.output
    assert field in lines[0], lines[0]
    assert orm.QueryBuilder().append(orm.Node).count() == before


def test_trajectory_frames_labelled_in_the_foreground(context, tmp_path):
    """Frames 0 and 2 of a trajectory: frame 0 labelled by CP2K, frame 2 (collapsed) skipped; table and JSON.

    The fast protocol at 100 Ry and SCF to 1e-5 (an --overrides file): this checks the command, not the labels.
    """
    result = CliRunner().invoke(cli, _filled(['label', '--trajectory', '{trajectory}', '--frames', '0,2',
                                              '--protocol', 'fast', '--overrides', '{yaml:cheap}',
                                              '--output', str(tmp_path)], context))
    assert result.exit_code == 0, result.output
    assert 'DftLabelWorkChain<' in result.output and 'finished with exit status 0' in result.output
    rows = json.loads((tmp_path / 'labels.json').read_text())
    assert len(rows) == 1
    row = rows[0]
    assert (row['n_frames'], row['n_skipped'], row['frame_indices'], row['n_atoms']) == (1, 1, [0], 21)
    assert row['skipped'][0]['frame'] == 2
    assert f'frame 2 skipped, exit status {row["skipped"][0]["exit_status"]}' in result.output
    workflow = orm.load_node(row['pk'])
    assert workflow.inputs.trajectory.pk == int(context['trajectory'])
    assert workflow.inputs.frames.get_list() == [0, 2]
    assert workflow.outputs.dataset.pk == row['dataset_pk']
    assert (workflow.inputs.dft['basis_set'], workflow.inputs.dft['cutoff_ry']) == ('SZV-MOLOPT-SR-GTH', 100.0)


def test_structures_all_failing_end_with_status_1(context, tmp_path):
    """A launch of --structures whose only frame CP2K refuses: the workflow fails (401), the command says so."""
    result = CliRunner().invoke(cli, _filled(['label', '--structures', '{collapsed}', '--max-concurrent', '1',
                                              '--output', str(tmp_path)], context))
    workflow = orm.load_node(int(result.output.split('DftLabelWorkChain<')[1].split('>')[0]))
    assert workflow.inputs.dft['basis_set'] == 'DZVP-MOLOPT-SR-GTH'  # the command's default protocol: balanced
    assert workflow.inputs.max_concurrent.value == 1
    assert result.exit_code == 1, result.output
    assert 'finished with exit status 401' in result.output and 'did not finish (exit status 401)' in result.output
