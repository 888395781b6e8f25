"""A PostgreSQL + RabbitMQ profile with a running daemon runs a melt-quench submitted from the CLI."""
import json
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


@pytest.fixture
def production_env(postgres_database, tmp_path):
    """The environment of a PostgreSQL + RabbitMQ profile with the codes of ``aiida-boroglass setup``."""
    env = {**os.environ, 'AIIDA_PATH': str(tmp_path / 'aiida'), 'PATH': f'{BIN}:{os.environ["PATH"]}'}
    _run([str(BIN / 'verdi'), 'profile', 'setup', 'core.psql_dos', '-n', '--profile-name', 'services',
          '--email', 'ci@localhost', '--first-name', 'CI', '--last-name', 'Test', '--institution', 'boroglass',
          '--database-hostname', 'localhost', '--database-port', '5432', '--database-username', 'postgres',
          '--database-password', 'unused', '--database-name', postgres_database,
          '--repository-uri', f'file://{tmp_path / "repository"}', '--broker', 'core.rabbitmq'], env)
    _run([str(BIN / 'aiida-boroglass'), 'setup'], env)
    return env


@pytest.fixture
def daemon(production_env):
    """Start the profile's daemon with two workers; stop it afterwards."""
    verdi = [str(BIN / 'verdi')]
    _run(verdi + ['daemon', 'start', '2'], production_env)
    yield production_env
    subprocess.run(verdi + ['daemon', 'stop'], env=production_env, capture_output=True, check=False, timeout=120)


def test_daemon_runs_screening_on_postgres_and_rabbitmq(daemon, tmp_path, tiny_overrides):
    """Profile setup -> code registration -> daemon -> submitted screening -> table printed."""
    overrides = tmp_path / 'tiny.yaml'
    overrides.write_text(yaml.safe_dump(tiny_overrides))
    result = _run([str(BIN / 'aiida-boroglass'), 'screen', 'Li2O-B2O3', '--x', '0.3', '--daemon', '--wait',
                   '--overrides', str(overrides), '--output', str(tmp_path / 'out')], daemon)
    assert 'finished with exit status 0' in result.stdout
    assert '30Li2O-70B2O3' in result.stdout
    listing = _run([str(BIN / 'verdi'), 'process', 'list', '-a', '-p', '1', '-r'], daemon).stdout
    assert 'MeltQuenchWorkChain' in listing and 'Finished [0]' in listing
    assert (tmp_path / 'out' / 'screening.png').is_file()


#: Run in the production profile: submit a two-glass screening, SIGKILL every daemon worker while a
#: LAMMPS job runs and again while a LammpsBaseWorkChain is in its results step (the daemon respawns
#: them; RabbitMQ hands their tasks to the new ones), wait for the end, print what is stored.
KILLER = """
import json, os, signal, sys, time
import yaml
from aiida import load_profile, orm
load_profile()
from aiida.engine import submit
from aiida.engine.daemon.client import get_daemon_client
from aiida_boroglass.cli.launcher import screening_builder
from aiida_boroglass.glass.composition import Composition

glasses = {key: Composition.parse('Li2O-B2O3', x=x) for key, x in (('x0200', 0.2), ('x0400', 0.4))}
builder = screening_builder('kill test', glasses, 'fast', yaml.safe_load(open(sys.argv[1])), 2)
screening = submit(builder)
client = get_daemon_client()

def kill_workers():
    for pid in client.get_worker_info()['info']:
        os.kill(int(pid), signal.SIGKILL)

def seen(condition, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not screening.is_terminated:
        if condition():
            return True
        time.sleep(0.05)
    return False

def running_job():
    query = orm.QueryBuilder().append(orm.CalcJobNode, filters={'attributes.process_state': 'waiting'})
    return query.count() > 0

def in_results():
    query = orm.QueryBuilder().append(orm.WorkChainNode, filters={
        'attributes.process_label': 'LammpsBaseWorkChain', 'attributes.stepper_state_info': {'like': '%results%'},
        'attributes.process_state': {'in': ['running', 'waiting', 'created']}})
    return query.count() > 0

kills = []
for name, condition in (('job', running_job), ('results', in_results)):
    if seen(condition):
        kill_workers()
        kills.append(name)
deadline = time.monotonic() + 900
while not screening.is_terminated and time.monotonic() < deadline:
    time.sleep(1.0)
processes = orm.QueryBuilder().append(orm.ProcessNode, project=['attributes.process_label', 'attributes.process_state',
                                                                 'attributes.exit_status']).all()
from aiida.common.links import LinkType
phases = {glass.pk: sorted(link.link_label for link in glass.base.links.get_outgoing(link_type=LinkType.CALL_WORK).all()
                           if link.node.process_label == 'LammpsBaseWorkChain' and link.node.is_finished_ok)
          for glass in screening.called if glass.process_label == 'MeltQuenchWorkChain'}
print(json.dumps({'kills': kills, 'screening': [screening.process_state.value, screening.exit_status],
                  'processes': processes, 'phases': phases}))
"""


def test_killed_workers_during_a_screening_lose_and_repeat_nothing(daemon, tmp_path, tiny_overrides):
    """SIGKILL of every worker, during a LAMMPS job and during a results step: the screening still finishes,
    each glass once, no process excepted, no LAMMPS job run twice."""
    overrides = tmp_path / 'tiny.yaml'
    overrides.write_text(yaml.safe_dump(tiny_overrides))
    out = _run([sys.executable, '-c', KILLER, str(overrides)], daemon, timeout=1500).stdout
    report = json.loads(out.strip().splitlines()[-1])
    assert report['kills'] and report['kills'][0] == 'job', report['kills']
    assert report['screening'] == ['finished', 0], report
    labels = [row[0] for row in report['processes']]
    assert labels.count('MeltQuenchWorkChain') == 2
    assert not [row for row in report['processes'] if row[1] == 'excepted'], report['processes']
    assert not [row for row in report['processes'] if row[1] not in ('finished', 'killed')], report['processes']
    # each glass ran its MD (every phase in one LAMMPS job) once
    assert list(report['phases'].values()) == [['md'], ['md']], report['phases']
    assert labels.count('BoroglassLammpsCalculation') == 2, report['processes']
