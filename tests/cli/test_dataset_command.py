"""``aiida-boroglass dataset``: import a folder dpdata wrote, build from labels, show; every bad input one line.

The group is tested with the launcher's one-line error handling (``OneLineGroup``), the way
``aiida-boroglass`` runs it.
"""
import re

import click
import numpy as np
import pytest
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.datasets import dataset, index_ranges
from aiida_boroglass.cli.errors import OneLineGroup
from aiida_boroglass.data.dataset import labelled_system


@click.group(cls=OneLineGroup)
def cli():
    """The dataset group as aiida-boroglass runs it."""


cli.add_command(dataset)


def _glass_system(n_frames, energies=None):
    """A labelled K-B-O system of 5 atoms: energies -40, -41, ... eV unless given, forces of norm up to 2 eV/Å."""
    rng = np.random.default_rng(0)
    forces = np.zeros((n_frames, 5, 3))
    forces[-1, 0] = [0.0, 2.0, 0.0]
    return labelled_system(['B', 'K', 'O'], np.array([0, 1, 2, 2, 2]), {
        'coords': rng.uniform(0, 7, (n_frames, 5, 3)), 'cells': np.array([np.eye(3) * 7.0] * n_frames),
        'energies': -40.0 - np.arange(n_frames) if energies is None else energies, 'forces': forces,
        'virials': np.zeros((n_frames, 3, 3))})


@pytest.fixture(scope='module')
def context(aiida_profile, tmp_path_factory):
    """Folders (a DeePMD system of 10 frames written by dpdata, bad ones) and PKs the rows refer to."""
    root = tmp_path_factory.mktemp('dataset_input')
    _glass_system(10).to('deepmd/npy', str(root / 'kbo'))
    (root / 'empty').mkdir()
    _glass_system(2, energies=np.array([-1.0, np.nan])).to('deepmd/npy', str(root / 'nan'))
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(['B', 'O'], np.zeros((2, 2, 3)), cells=np.array([np.eye(3)] * 2), pbc=(True, True, True))
    values = {'kbo': root / 'kbo', 'empty': root / 'empty', 'nan': root / 'nan', 'missing': root / 'nowhere',
              'integer': orm.Int(5).store().pk, 'unlabelled': trajectory.store().pk}
    return {key: str(value) for key, value in values.items()}


def _filled(arguments, context):
    return [context.get(argument[1:-1], argument) if argument.startswith('{') else argument for argument in arguments]


ROWS = [
    ('not-deepmd', ['import', '{empty}'], 'DIR: folder: not a DeePMD data folder'),
    ('missing-dir', ['import', '{missing}'], "'DIR'"),
    ('nan-labels', ['import', '{nan}'], 'DIR: systems[0].energies: 1 values are NaN or inf'),
    ('fraction-big', ['import', '{kbo}', '--validation-fraction', '0.7'], "'--validation-fraction': 0.7 is not in"),
    ('fraction-zero', ['import', '{kbo}', '--validation-fraction', '0'], "'--validation-fraction'"),
    ('seed', ['import', '{kbo}', '--seed', '-1'], "'--seed'"),
    ('show-not-dataset', ['show', '{integer}'], "'PK'"),
    ('build-not-labels', ['build', '{integer}'], 'LABEL_PK: '),
    ('build-unlabelled', ['build', '{unlabelled}'], 'LABEL_PK: '),
    ('build-twice', ['build', '{unlabelled}', '{unlabelled}'], 'LABEL_PK'),
    ('build-none', ['build'], 'LABEL_PK'),
]


@pytest.mark.parametrize('row, arguments, field', ROWS, ids=[row for row, _, _ in ROWS])
def test_bad_input_is_one_line_naming_the_field(context, row, arguments, field):
    """Exit status 2, one line ``Error: ...`` naming the option, no traceback, no new node."""
    before = orm.QueryBuilder().append(orm.Node).count()
    result = CliRunner().invoke(cli, ['dataset', *_filled(arguments, context)])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith('Error: '), result.output
    assert field in lines[0], lines[0]
    assert orm.QueryBuilder().append(orm.Node).count() == before


def _stored_pk(output):
    return int(re.search(r'LabelledDatasetData<(\d+)>', output).group(1))


def test_import_prints_the_split_and_show_the_sources(context):
    """10 frames at 0.2: 8 train and 2 validation; E from -40/5 to -49/5 eV/atom; |F| max 2 eV/Å; sources 0-9."""
    result = CliRunner().invoke(cli, ['dataset', 'import', context['kbo'], '--validation-fraction', '0.2',
                                      '--seed', '3', '--label', 'kbo-test'])
    assert result.exit_code == 0, result.output
    table = {line.split()[0]: line.split() for line in result.output.splitlines() if line.split()}
    assert table['B1K1O3'][1:4] == ['5', '8', '2'] and table['all'][1:4] == ['5', '8', '2']
    assert table['all'][4:8] == ['-9.8000', '-8.0000', '2.000', 'True']
    assert 'species (type map): B K O' in result.output and 'forces eV/Å' in result.output
    node = orm.load_node(_stored_pk(result.output))
    assert node.label == 'kbo-test' and node.n_frames == 10
    folder = node.creator.inputs.folder
    assert isinstance(folder, orm.FolderData) and 'type_map.raw' in folder.base.repository.list_object_names()
    shown = CliRunner().invoke(cli, ['dataset', 'show', str(node.pk)])
    assert shown.exit_code == 0, shown.output
    assert re.search(rf'B1K1O3\s+FolderData<{folder.pk}>\s+10\s+0-9', shown.output), shown.output
    assert 'virial = -stress x volume' in shown.output


def test_build_from_labels_and_a_dataset(context, k_borate_21):
    """A label output and the imported dataset merged: the frames of both, sources of both."""
    imported = CliRunner().invoke(cli, ['dataset', 'import', context['kbo']])
    kbo = orm.load_node(_stored_pk(imported.output))
    positions = np.array([k_borate_21.get_ase().positions] * 3)
    labels = orm.TrajectoryData()
    labels.set_trajectory(k_borate_21.get_ase().get_chemical_symbols(), positions,
                          cells=np.array([k_borate_21.cell] * 3), pbc=(True, True, True))
    labels.set_array('energies', np.array([-300.0, -301.0, -302.0]))
    labels.set_array('forces', np.zeros_like(positions))
    result = CliRunner().invoke(cli, ['dataset', 'build', str(labels.store().pk), str(kbo.pk), '--label', 'both'])
    assert result.exit_code == 0, result.output
    merged = orm.load_node(_stored_pk(result.output.split('merge_datasets')[1]))
    assert merged.label == 'both' and merged.n_frames == 13
    assert {uuid for system in merged.systems for uuid, _ in system['sources']} == {
        labels.uuid, kbo.creator.inputs.folder.uuid}
    assert [s['has_virials'] for s in merged.systems] == [False, True]


def test_index_ranges():
    assert index_ranges([8, 0, 1, 2, 5, 7]) == '0-2,5,7-8'
