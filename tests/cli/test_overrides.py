"""Overrides files: checked key by key against the protocol, integers made floats where a number is expected."""
import click
import pytest
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.errors import Refusal
from aiida_boroglass.cli.launcher import main
from aiida_boroglass.cli.overrides import checked_overrides

REFERENCE = {'n_atoms': 400, 'density_g_cm3': None, 'temperatures_k': [700.0, 800.0], 'lammps_cmdline': ['-sf', 'omp'],
             'schedule': {'melt_ps': 10.0}, 'parameters': {}, 'field': None, 'freeze': False}


def test_integers_become_floats_where_a_number_is_expected():
    checked = checked_overrides({'n_atoms': 150, 'density_g_cm3': 2, 'temperatures_k': [700, 750.5],
                                 'schedule': {'melt_ps': 5}, 'parameters': {'haven': 1}, 'freeze': True}, REFERENCE, '-o')
    assert checked == {'n_atoms': 150, 'density_g_cm3': 2.0, 'temperatures_k': [700.0, 750.5],
                       'schedule': {'melt_ps': 5.0}, 'parameters': {'haven': 1}, 'freeze': True}
    assert [type(v) for v in (checked['density_g_cm3'], checked['schedule']['melt_ps'], *checked['temperatures_k'])] \
        == [float] * 4
    assert type(checked['n_atoms']) is int


CONDITIONS = {'conditions': [{'name': 'glass', 'temperature_k': 300.0, 'steps': 500},
                             {'name': 'quench', 'temperature_k': 1000.0, 'temperature_end_k': 300.0, 'steps': 500}]}


def test_a_list_item_may_hold_any_key_of_the_protocol_items_and_no_other():
    """A quench may come first in the user's list: its key is one the protocol's second item has."""
    values = {'conditions': [{'name': 'quench', 'temperature_k': 1500, 'temperature_end_k': 300, 'steps': 400}]}
    assert checked_overrides(values, CONDITIONS, '-o')['conditions'][0]['temperature_end_k'] == 300.0
    with pytest.raises(Refusal) as refusal:
        checked_overrides({'conditions': [{'name': 'x', 'temperature_start_k': 1.0}]}, CONDITIONS, '-o')
    assert "unknown key 'conditions[0].temperature_start_k'" in refusal.value.format_message()


@pytest.mark.parametrize('values, message', [
    ({'n_atom': 3}, "-o: unknown key 'n_atom'; allowed: density_g_cm3, field,"),
    ({'schedule': {'melt': 1.0}}, "-o: unknown key 'schedule.melt'; allowed in schedule: melt_ps"),
    ({'schedule': 5}, '-o: schedule: must be a mapping of melt_ps, got 5'),
    ({'schedule': {'melt_ps': 'fast'}}, "-o: schedule.melt_ps: must be a number, got 'fast'"),
    ({'schedule': {'melt_ps': float('nan')}}, '-o: schedule.melt_ps: must be a number, got nan'),
    ({'n_atoms': 150.5}, '-o: n_atoms: must be an integer, got 150.5'),
    ({'n_atoms': True}, '-o: n_atoms: must be an integer, got True'),
    ({'temperatures_k': 700}, '-o: temperatures_k: must be a list, got 700'),
    ({'temperatures_k': [700, 'hot']}, "-o: temperatures_k[1]: must be a number, got 'hot'"),
    ({'lammps_cmdline': ['-sf', 2]}, '-o: lammps_cmdline[1]: must be a str, got 2'),
    ({'freeze': 'yes'}, "-o: freeze: must be true or false, got 'yes'"),
])
def test_unknown_keys_and_wrong_kinds_are_refused_naming_the_key(values, message):
    with pytest.raises(Refusal) as refusal:
        checked_overrides(values, REFERENCE, '-o')
    assert refusal.value.format_message().startswith(message)
    assert refusal.value.exit_code == 2


def test_an_integer_density_reaches_the_workflow_as_a_float(aiida_profile, lammps_code, packmol_code, tmp_path,
                                                            monkeypatch):
    """``density_g_cm3: 2`` (an int) was refused by the workflow; now the screening gets Float(2.0)."""
    launched = []

    def capture(builder):
        launched.append(builder)
        raise click.exceptions.Exit(0)

    monkeypatch.setattr('aiida_boroglass.cli.foreground.run_here', capture)
    overrides = tmp_path / 'density.yaml'
    overrides.write_text('density_g_cm3: 2\nschedule: {melt_ps: 5}\n')
    before = orm.QueryBuilder().append(orm.Node).count()
    result = CliRunner().invoke(main, ['screen', 'Na2O-B2O3', '--x', '0.3', '--overrides', str(overrides)])
    assert result.exit_code == 0, result.output
    (builder,) = launched
    assert isinstance(builder.melt_quench.density_g_cm3, orm.Float) and builder.melt_quench.density_g_cm3.value == 2.0
    assert builder.melt_quench.schedule['melt_ps'] == 5.0
    assert builder.metadata.label == 'Na2O-B2O3'
    assert orm.QueryBuilder().append(orm.Node).count() == before
