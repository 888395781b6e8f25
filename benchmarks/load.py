"""Benchmark: many light workflows submitted at once to a daemon, on the production and the embedded profile.

``--count`` (200) ``boroglass.hopping`` workflows (fast protocol, a 6 x 6 x 6 lattice: only
calcfunctions, no jobs) are submitted at once to a daemon with ``--workers`` (2) workers, on

- **production**: PostgreSQL storage (a fresh database on the local server) and RabbitMQ;
- **embedded**: what ``aiida-boroglass setup`` makes (SQLite storage, ZeroMQ broker).

Each profile lives in its own temporary ``AIIDA_PATH``. Printed per profile: how many
finished ok, failed, excepted, were killed or never ended within ``--timeout``, workflows
stored (a duplicated launch would show as more than ``--count``), and the throughput in
workflows per minute from the first submission to the last one ending.

``--restart`` repeats what a user reported (issue 18): ``verdi daemon restart`` right after
the submissions. The wait then also ends when no workflow has ended for ``--stall`` seconds;
the workflows left are counted by process state (``stuck``), ``verdi process repair`` runs
with the daemon stopped (the recovery docs/cluster.md gives) and the wait starts again
(``repaired``: how many of them then ended ok). Run on demand, from the repository root::

    python benchmarks/load.py                         # both profiles, 200 each: about 15 min on 2 cores
    python benchmarks/load.py --profiles embedded --count 50
    python benchmarks/load.py --restart --count 40    # daemon restarted right after the launches
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
SPEC = '0.35Na2O-0.65[xB2O3-(1-x)P2O5]'


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--count', type=int, default=200, help='workflows submitted at once')
    parser.add_argument('--workers', type=int, default=2, help='daemon workers')
    parser.add_argument('--profiles', default='production,embedded', help='production, embedded or both')
    parser.add_argument('--timeout', type=float, default=1800.0, help='seconds to wait for all to end')
    parser.add_argument('--restart', action='store_true', help='verdi daemon restart right after the submissions')
    parser.add_argument('--stall', type=float, default=180.0, help='seconds without a workflow ending: stuck')
    parser.add_argument('--submit-and-wait', type=Path, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run(arguments: list[str], env: dict, timeout: float = 600.0) -> str:
    """Run a command of this environment (``timeout`` s); raise with its output when it fails."""
    result = subprocess.run(arguments, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode:
        raise RuntimeError(f'{" ".join(arguments)} failed:\n{result.stdout}\n{result.stderr}')
    return result.stdout


def production_profile(root: Path, env: dict) -> str:
    """Create a PostgreSQL + RabbitMQ profile on a fresh database; return the database name."""
    import psycopg

    name = f'boroglass_load_{secrets.token_hex(4)}'
    with psycopg.connect(host='localhost', user='postgres', dbname='postgres', autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name} ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' "
                           'TEMPLATE template0')
    run([str(BIN / 'verdi'), 'profile', 'setup', 'core.psql_dos', '-n', '--profile-name', 'load',
         '--email', 'load@localhost', '--first-name', 'Load', '--last-name', 'Test', '--institution', 'boroglass',
         '--database-hostname', 'localhost', '--database-port', '5432', '--database-username', 'postgres',
         '--database-password', 'unused', '--database-name', name, '--repository-uri', f'file://{root / "repository"}',
         '--broker', 'core.rabbitmq'], env)
    return name


def drop_database(name: str) -> None:
    """Drop the benchmark's database."""
    import psycopg

    with psycopg.connect(host='localhost', user='postgres', dbname='postgres', autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)')


def verdi_line(*arguments: str) -> str:
    """Run ``verdi`` with ``arguments`` in this profile; its exit status and last output line."""
    result = subprocess.run([str(BIN / 'verdi'), *arguments], capture_output=True, text=True, timeout=300, check=False)
    lines = (result.stdout + result.stderr).strip().splitlines()
    return f'exit {result.returncode}: {lines[-1] if lines else ""}'


def wait_for(pks: list[int], timeout: float, stall: float) -> None:
    """Wait until every process of ``pks`` ended, ``timeout`` s passed, or none ended for ``stall`` s."""
    from aiida import orm

    started = last_change = time.time()
    ended = 0
    while time.time() - started < timeout and time.time() - last_change < stall:
        now_ended = sum(orm.load_node(pk).is_terminated for pk in pks)
        if now_ended == len(pks):
            return
        if now_ended > ended:
            ended, last_change = now_ended, time.time()
        time.sleep(2.0)


def states(pks: list[int]) -> dict[str, int]:
    """How many processes of ``pks`` are in each process state (``None``: never started)."""
    from aiida import orm

    counts: dict[str, int] = {}
    for pk in pks:
        state = orm.load_node(pk).process_state
        key = state.value if state is not None else 'None'
        counts[key] = counts.get(key, 0) + 1
    return counts


def repair_and_wait(pks: list[int], timeout: float, stall: float) -> dict:
    """Stop the daemon, ``verdi process repair``, start it again and wait for the unfinished processes of ``pks``."""
    from aiida import orm

    left = [pk for pk in pks if not orm.load_node(pk).is_terminated]
    from aiida.manage import get_manager

    verdi_line('daemon', 'stop', '--timeout', '60')
    repair = verdi_line('process', 'repair', '--force')
    get_manager().reset_profile_storage()  # on PostgreSQL, repair terminates every other connection: this one too
    verdi_line('daemon', 'start', '2')
    wait_for(left, timeout, stall)
    return {'repair_output': repair, 'repaired': sum(orm.load_node(pk).is_finished_ok for pk in left)}


def submit_and_wait(count: int, timeout: float, restart: bool = False, stall: float = 180.0) -> dict:
    """Submit ``count`` hopping workflows to the running daemon and wait for all to end (in the profile's process).

    With ``restart`` the daemon is restarted right after the submissions; workflows that
    then never end are counted by state, repaired and waited for again.
    """
    from aiida import load_profile, orm
    from aiida.engine import submit

    from aiida_boroglass.workflows.hopping import HoppingWorkChain

    load_profile()
    from aiida_boroglass.data.composition import CompositionData
    from aiida_boroglass.glass.composition import Composition

    overrides = {'parameters': {'size': 6}}
    started = time.time()
    pks = []
    for index in range(count):
        glass = CompositionData(Composition.parse(SPEC, x=float(index % 2)))
        builder = HoppingWorkChain.get_builder_from_protocol({'x0': glass}, protocol='fast', overrides=overrides)
        builder.metadata.label = f'load {index}'
        pks.append(submit(builder).pk)
    submitted = time.time()
    recovery: dict = {}
    if restart:
        recovery['restart'] = verdi_line('daemon', 'restart')
        recovery['daemon_after_restart'] = verdi_line('daemon', 'status')
    wait_for(pks, timeout, stall if restart else timeout)
    nodes = [orm.load_node(pk) for pk in pks]
    if restart:
        recovery['stuck'] = states([node.pk for node in nodes if not node.is_terminated])
        if recovery['stuck']:
            recovery.update(repair_and_wait(pks, timeout, stall))
    ended = [node.mtime.timestamp() for node in nodes if node.is_terminated]
    stored = orm.QueryBuilder().append(orm.WorkflowNode, filters={'attributes.process_label': 'HoppingWorkChain'}).count()
    return {
        'count': count, 'submit_s': submitted - started, 'stored': stored,
        'finished_ok': sum(node.is_finished_ok for node in nodes),
        'failed': sum(node.is_finished and not node.is_finished_ok for node in nodes),
        'excepted': sum(node.is_excepted for node in nodes), 'killed': sum(node.is_killed for node in nodes),
        'not_ended': sum(not node.is_terminated for node in nodes),
        'per_minute': 60.0 * len(ended) / (max(ended) - started) if ended else 0.0, **recovery,
    }


def measure(kind: str, args: argparse.Namespace) -> dict:
    """Make a profile of ``kind``, start its daemon, run :func:`submit_and_wait` in it, stop and clean up."""
    with tempfile.TemporaryDirectory(prefix=f'boroglass-load-{kind}-') as folder:
        root = Path(folder)
        env = {**os.environ, 'AIIDA_PATH': str(root), 'PATH': f'{BIN}:{os.environ["PATH"]}'}
        database = production_profile(root, env) if kind == 'production' else None
        try:
            run([str(BIN / 'aiida-boroglass'), 'setup'], env)
            run([str(BIN / 'verdi'), 'daemon', 'start', str(args.workers)], env)
            try:
                result_file = root / 'result.json'
                run([sys.executable, __file__, '--count', str(args.count), '--timeout', str(args.timeout),
                     '--stall', str(args.stall), '--submit-and-wait', str(result_file)]
                    + (['--restart'] if args.restart else []), env, timeout=3 * args.timeout + 600.0)
                return {'profile': kind, **json.loads(result_file.read_text())}
            finally:
                subprocess.run([str(BIN / 'verdi'), 'daemon', 'stop'], env=env, capture_output=True, timeout=300,
                               check=False)
        finally:
            if database:
                drop_database(database)


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark on each profile and print one line each."""
    args = parse_args(argv)
    if args.submit_and_wait:
        result = submit_and_wait(args.count, args.timeout, args.restart, args.stall)
        args.submit_and_wait.write_text(json.dumps(result))
        return []
    rows = [measure(kind.strip(), args) for kind in args.profiles.split(',')]
    print(f'{"profile":>10} {"submitted":>9} {"stored":>6} {"ok":>4} {"failed":>6} {"excepted":>8} {"killed":>6} '
          f'{"not ended":>9} {"submit s":>8} {"per min":>8}')
    for row in rows:
        print(f'{row["profile"]:>10} {row["count"]:>9} {row["stored"]:>6} {row["finished_ok"]:>4} {row["failed"]:>6} '
              f'{row["excepted"]:>8} {row["killed"]:>6} {row["not_ended"]:>9} {row["submit_s"]:>8.1f} '
              f'{row["per_minute"]:>8.1f}')
        if 'stuck' in row:
            print(f'{"":>10} verdi daemon restart: {row["restart"]}; then verdi daemon status: '
                  f'{row["daemon_after_restart"]}')
            print(f'{"":>10} stuck by state: {row["stuck"] or "none"}; after verdi process repair: '
                  f'{row.get("repaired", 0)} of them finished ok {row.get("repair_output", "")}')
    return rows


if __name__ == '__main__':
    main()
