"""--daemon submits and returns at once; --daemon --wait follows and ends with the table (the hopping model: no LAMMPS)."""
import time

import pytest
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.data import data_boroglass
from aiida_boroglass.cli.launcher import main

HOPPING = ['hopping', '0.35Na2O-0.65[xB2O3-(1-x)P2O5]', '--x', '0,1', '--protocol', 'fast', '--size', '6',
           '--temperatures', '400']


@pytest.fixture
def daemon(started_daemon_client, stop_daemon):
    """A running daemon of the test profile, stopped afterwards (other tests expect none)."""
    yield started_daemon_client
    stop_daemon(started_daemon_client)


def test_daemon_submits_and_returns_then_wait_follows_to_the_table(daemon, tmp_path):
    submitted = CliRunner().invoke(main, [*HOPPING, '--daemon', '--output', str(tmp_path / 'never')])
    assert submitted.exit_code == 0, submitted.output
    assert not (tmp_path / 'never').exists()  # it returned without waiting for the table
    pk = int(submitted.output.split('HoppingWorkChain<')[1].split('>')[0])
    assert f'verdi data boroglass table {pk}' in submitted.output
    node = orm.load_node(pk)
    deadline = time.monotonic() + 180
    while not node.is_terminated and time.monotonic() < deadline:
        time.sleep(1)
    assert node.is_finished_ok, node.process_state
    table = CliRunner().invoke(data_boroglass, ['table', str(pk), '-o', str(tmp_path / 'table')])
    assert table.exit_code == 0, table.output
    assert (tmp_path / 'table' / 'hopping.json').is_file()

    followed = CliRunner().invoke(main, [*HOPPING, '--daemon', '--wait', '--output', str(tmp_path / 'waited')])
    assert followed.exit_code == 0, followed.output
    assert 'finished with exit status 0' in followed.output and 'E_a (eV)' in followed.output
    assert (tmp_path / 'waited' / 'hopping.json').is_file()
