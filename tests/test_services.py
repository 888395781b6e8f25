"""A PostgreSQL + RabbitMQ profile with a running daemon runs a melt-quench submitted from the CLI."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.services
BIN = Path(sys.executable).parent


def _run(arguments, env, timeout=900):
    """Run a command, returning the completed process; fail the test with its output on error."""
    result = subprocess.run(arguments, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f'{arguments}\n{result.stdout}\n{result.stderr}'
    return result


@pytest.fixture
def postgres_database():
    """A fresh database with C.UTF-8 collation on the local PostgreSQL server, dropped afterwards."""
    import psycopg

    name = f'boroglass_test_{secrets.token_hex(4)}'
    with psycopg.connect(host='localhost', user='postgres', dbname='postgres', autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name} ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' "
                           'TEMPLATE template0')
    yield name
    with psycopg.connect(host='localhost', user='postgres', dbname='postgres', autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')


def test_daemon_runs_screening_on_postgres_and_rabbitmq(postgres_database, tmp_path, tiny_overrides):
    """Profile setup -> code registration -> daemon -> submitted screening -> table printed."""
    env = {**os.environ, 'AIIDA_PATH': str(tmp_path / 'aiida'), 'PATH': f'{BIN}:{os.environ["PATH"]}'}
    verdi = [str(BIN / 'verdi')]
    _run(verdi + ['profile', 'setup', 'core.psql_dos', '-n', '--profile-name', 'services', '--email', 'ci@localhost',
                  '--first-name', 'CI', '--last-name', 'Test', '--institution', 'boroglass',
                  '--database-hostname', 'localhost', '--database-port', '5432', '--database-username', 'postgres',
                  '--database-password', 'unused', '--database-name', postgres_database,
                  '--repository-uri', f'file://{tmp_path / "repository"}', '--broker', 'core.rabbitmq'], env)
    _run([str(BIN / 'aiida-boroglass'), 'setup'], env)
    overrides = tmp_path / 'tiny.yaml'
    overrides.write_text(yaml.safe_dump(tiny_overrides))
    _run(verdi + ['daemon', 'start', '1'], env)
    try:
        result = _run([str(BIN / 'aiida-boroglass'), 'screen', 'Li2O-B2O3', '--x', '0.3', '--daemon', '--wait',
                       '--overrides', str(overrides), '--output', str(tmp_path / 'out')], env)
    finally:
        subprocess.run(verdi + ['daemon', 'stop'], env=env, capture_output=True, check=False, timeout=120)
    assert 'finished with exit status 0' in result.stdout
    assert '30Li2O-70B2O3' in result.stdout
    listing = _run(verdi + ['process', 'list', '-a', '-p', '1', '-r'], env).stdout
    assert 'MeltQuenchWorkChain' in listing and 'Finished [0]' in listing
    assert (tmp_path / 'out' / 'screening.png').is_file()
