"""``aiida-boroglass learn``: the options reach the builder, SPEC/--x is checked against the cell, nothing runs."""
import dpdata
import numpy as np
import pytest
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli import learning
from aiida_boroglass.cli.launcher import main
from aiida_boroglass.cli.plotting import text_table
from aiida_boroglass.data.dataset import LabelledDatasetData


@pytest.fixture(scope='module')
def k_borate_dataset(aiida_profile, k_borate_21):
    """Four frames of the 21-atom K borate glass (labels arbitrary: nothing trains here)."""
    symbols = [site.kind_name for site in k_borate_21.sites]
    names = sorted(set(symbols))
    rng = np.random.default_rng(0)
    positions = np.array([site.position for site in k_borate_21.sites])
    system = dpdata.LabeledSystem(data={
        'atom_names': names, 'atom_numbs': [symbols.count(name) for name in names],
        'atom_types': np.array([names.index(symbol) for symbol in symbols]), 'orig': np.zeros(3), 'nopbc': False,
        'cells': np.tile(np.array(k_borate_21.cell), (4, 1, 1)),
        'coords': positions + rng.normal(size=(4, 21, 3)) * 0.01,
        'energies': rng.random(4), 'forces': rng.random((4, 21, 3)),
    })
    return LabelledDatasetData.from_dpdata([system], [[('test', i) for i in range(4)]], 0.25, 0).store()


def test_the_options_reach_the_builder(k_borate_dataset, lammps_code, monkeypatch):
    launched = []
    monkeypatch.setattr(learning, 'launch', lambda builder, *args: launched.append(builder))
    nodes = orm.QueryBuilder().append(orm.Node).count()
    result = CliRunner().invoke(main, ['learn', 'K2O-B2O3', '--x', '0.4', '--dataset', str(k_borate_dataset.pk),
                                       '--engine', 'classical', '--protocol', 'fast', '--trust-lo', '0.2',
                                       '--trust-hi', '0.9', '--max-labels', '3', '--max-iterations', '2',
                                       '--models', '3'])
    assert result.exit_code == 0, result.output
    (builder,) = launched
    learning_settings = builder.learning.get_dict()
    assert (learning_settings['trust_lo_ev_a'], learning_settings['trust_hi_ev_a']) == (0.2, 0.9)
    assert (learning_settings['max_labels'], learning_settings['max_iterations']) == (3, 2)
    assert builder.training.models.value == 3
    assert builder.labelling.engine.value == 'classical'
    assert builder.labelling.dft.get_dict() == {'forcefield': 'deng_du'}
    assert builder.labelling.code.uuid == lammps_code.uuid
    assert builder.dataset.uuid == k_borate_dataset.uuid and 'structure' not in builder
    # the fast protocol's explorations, untouched
    assert [c['name'] for c in builder.exploration['conditions']] == ['glass_300k', 'liquid_1000k', 'quench']
    assert orm.QueryBuilder().append(orm.Node).count() == nodes


def test_a_trust_window_upside_down_is_refused_before_anything_is_stored(k_borate_dataset, monkeypatch):
    monkeypatch.setattr(learning, 'launch', lambda *args: pytest.fail('launched'))
    nodes = orm.QueryBuilder().append(orm.Node).count()
    result = CliRunner().invoke(main, ['learn', 'K2O-B2O3', '--x', '0.4', '--dataset', str(k_borate_dataset.pk),
                                       '--engine', 'classical', '--trust-lo', '0.5', '--trust-hi', '0.2'])
    assert result.exit_code == 2 and 'learning.trust_hi_ev_a' in result.output, result.output
    assert 'Traceback' not in result.output and len(result.output.strip().splitlines()) == 1
    assert orm.QueryBuilder().append(orm.Node).count() == nodes


def test_the_adaptive_mode_reaches_the_builder_and_refuses_a_fixed_trust_lo(k_borate_dataset, lammps_code,
                                                                            monkeypatch):
    launched = []
    monkeypatch.setattr(learning, 'launch', lambda builder, *args: launched.append(builder))
    arguments = ['learn', 'K2O-B2O3', '--x', '0.4', '--dataset', str(k_borate_dataset.pk), '--engine', 'classical',
                 '--protocol', 'fast', '--trust-mode', 'adaptive']
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    assert launched[0].learning['trust_mode'] == 'adaptive'
    result = CliRunner().invoke(main, [*arguments, '--trust-lo', '0.2'])
    assert result.exit_code == 2 and result.output.strip().startswith('Error: --trust-lo: a fixed lower level')
    assert len(launched) == 1 and len(result.output.strip().splitlines()) == 1


def test_the_table_shows_the_trust_levels_of_every_iteration():
    rows = [{'iteration': f'iteration_0{i}', 'trust_lo_ev_a': level, 'trust_hi_ev_a': 0.5,
             'energy_rmse_ev_per_atom_mean': 0.01} for i, level in enumerate((0.1234, 0.0871))]
    lines = text_table(learning.LEARNING_COLUMNS, learning.learning_rows({'iterations': rows})).splitlines()
    assert 'trust lo (eV/Å)' in lines[0] and 'trust hi (eV/Å)' in lines[0]
    assert '0.1234' in lines[2] and '0.0871' in lines[3] and lines[3].count('0.5000') == 1
