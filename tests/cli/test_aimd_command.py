"""``aiida-boroglass aimd``: the CP2K code missing, and how the options become protocol overrides."""
import pytest
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.aimd import aimd_overrides
from aiida_boroglass.cli.errors import Refusal
from aiida_boroglass.cli.launching import field_vector
from aiida_boroglass.cli.launcher import main


def test_missing_cp2k_code_is_refused_with_the_setup_command(local_codes, monkeypatch):
    """No CP2K code registered: one line naming the code and `aiida-boroglass setup`, nothing stored."""
    monkeypatch.setattr('aiida_boroglass.cli.aimd.CP2K_CODE', 'cp2k-missing@localhost')
    before = orm.QueryBuilder().append(orm.Node).count()
    result = CliRunner().invoke(main, ['aimd', '40K2O-60B2O3', '--protocol', 'fast'])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert 'cp2k-missing' in lines[0] and 'aiida-boroglass setup' in lines[0]
    assert orm.QueryBuilder().append(orm.Node).count() == before


def test_field_options_become_the_field_run():
    """--field 0,0,0.02 --fix-network --field-ps 0.5 -> the protocol's field section; default length: production."""
    values = aimd_overrides(None, 'fast', None, field_vector('0,0,0.02', 'atomic units', '0,0,0.02'), True, 0.5)
    assert values == {'field': {'field_au': [0.0, 0.0, 0.02], 'fix_network': True, 'duration_ps': 0.5}}
    values = aimd_overrides(None, 'fast', 40, [0.0, 0.01, 0.0], False, None)
    assert values['field']['duration_ps'] == 0.1 and values['n_atoms'] == 40  # the fast production_ps


@pytest.mark.parametrize('text', ['0,0', '0,0,0', 'a,b,c', '0;0;0.02'])
def test_bad_field_vector_is_refused(text):
    """Anything but three numbers, not all zero."""
    with pytest.raises(Refusal, match='--field'):
        field_vector(text, 'atomic units', '0,0,0.02')
