"""``aiida-boroglass dataset perturb``: perturbed copies stored as a trajectory to label; bad values one line."""
import click
import numpy as np
import pytest
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.datasets import dataset
from aiida_boroglass.cli.errors import OneLineGroup


@click.group(cls=OneLineGroup)
def cli():
    """The dataset group as aiida-boroglass runs it."""


cli.add_command(dataset)


def test_the_copies_are_stored_as_a_trajectory(aiida_profile, k_borate_21):
    k_borate_21.store()
    result = CliRunner().invoke(cli, ['dataset', 'perturb', str(k_borate_21.pk), '--copies', '4', '--seed', '3',
                                      '--label', 'copies'])
    assert result.exit_code == 0, result.output
    pk = int(result.output.split('TrajectoryData<')[1].split('>')[0])
    copies = orm.load_node(pk)
    assert copies.numsteps == 4 and copies.label == 'copies'
    assert f'aiida-boroglass label --trajectory {pk}' in result.output
    assert copies.creator.inputs.parameters.get_dict() == {'copies': 4, 'cell_fraction': 0.03,
                                                           'atom_distance_a': 0.1, 'seed': 3}
    assert np.abs(np.linalg.inv(np.array(k_borate_21.cell)) @ copies.get_cells() - np.eye(3)).max() <= 0.03


@pytest.mark.parametrize(('option', 'value', 'message'), [
    ('--copies', '0', 'Error: --copies: must be an integer >= 1, got 0'),
    ('--cell-fraction', '0.6', 'Error: --cell-fraction: must be a strain in [0, 0.5)'),
    ('--atom-distance', '2', 'Error: --atom-distance: must be a distance in [0, 1] Å'),
])
def test_bad_values_are_refused_before_anything_is_stored(aiida_profile, k_borate_21, option, value, message):
    k_borate_21.store()
    nodes = orm.QueryBuilder().append(orm.Node).count()
    result = CliRunner().invoke(cli, ['dataset', 'perturb', str(k_borate_21.pk), option, value])
    assert result.exit_code == 2 and result.output.startswith(message), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert orm.QueryBuilder().append(orm.Node).count() == nodes
