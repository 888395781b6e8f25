"""A screening's group, exported as an AiiDA archive and imported into another profile, gives the same table."""
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.data import data_boroglass
from aiida_boroglass.cli.launcher import main

BIN = Path(sys.executable).parent


def _in_other_profile(aiida_path: Path, *command: str) -> subprocess.CompletedProcess:
    """Run a command of this environment with its own AiiDA configuration folder ``aiida_path``."""
    env = {**os.environ, 'AIIDA_PATH': str(aiida_path)}
    return subprocess.run([str(BIN / command[0]), *command[1:]], env=env, capture_output=True, text=True, timeout=300,
                          cwd=aiida_path)


def test_named_screening_round_trips_through_an_archive_into_another_profile(lammps_code, packmol_code, tmp_path,
                                                                            tiny_overrides):
    overrides = tmp_path / 'tiny.yaml'
    overrides.write_text(yaml.safe_dump(tiny_overrides))
    result = CliRunner().invoke(main, ['screen', 'K2O-B2O3', '--x', '0.25', '--overrides', str(overrides),
                                       '--name', 'round-trip', '--output', str(tmp_path / 'results')])
    assert result.exit_code == 0, result.output

    group = orm.Group.collection.get(label='boroglass/round-trip')
    kinds = sorted(node.process_label if isinstance(node, orm.ProcessNode) else node.node_type for node in group.nodes)
    assert kinds == ['MeltQuenchWorkChain', 'ScreeningWorkChain', 'data.core.dict.Dict.']
    here = CliRunner().invoke(data_boroglass, ['table', 'round-trip', '-o', str(tmp_path / 'here')])
    assert here.exit_code == 0, here.output
    rows = json.loads((tmp_path / 'here' / 'screening.json').read_text())
    assert [row['x'] for row in rows] == [0.25]

    archive = tmp_path / 'round-trip.aiida'
    exported = CliRunner().invoke(main, ['export', 'round-trip', '-o', str(archive)])
    assert exported.exit_code == 0, exported.output
    again = CliRunner().invoke(main, ['export', 'round-trip', '-o', str(archive)])
    assert again.exit_code == 2 and '--output' in again.output and archive.stat().st_size > 0

    other = tmp_path / 'other'
    other.mkdir()
    for command in (('aiida-boroglass', 'setup'), ('verdi', 'archive', 'import', str(archive)),
                    ('verdi', 'data', 'boroglass', 'table', 'round-trip', '-o', str(other / 'table'))):
        done = _in_other_profile(other, *command)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert json.loads((other / 'table' / 'screening.json').read_text()) == rows
    assert sorted(path.name for path in (other / 'table').iterdir()) == sorted(
        path.name for path in (tmp_path / 'here').iterdir())
    # the glass arrived with its whole provenance: its LAMMPS jobs and their inputs
    listed = _in_other_profile(other, 'verdi', 'process', 'list', '-a', '-p', '1', '-P', 'process_label')
    assert listed.stdout.count('BoroglassLammpsCalculation') == 1, listed.stdout  # every phase in one job


def test_export_of_an_unknown_name_is_refused_in_one_line(aiida_profile, tmp_path):
    result = CliRunner().invoke(main, ['export', 'no-such-screening', '-o', str(tmp_path / 'x.aiida')])
    assert result.exit_code == 2
    assert 'NAME' in result.output and 'boroglass/no-such-screening' in result.output
    assert not (tmp_path / 'x.aiida').exists()


def test_a_bad_group_name_is_refused_before_anything_is_stored(lammps_code, packmol_code):
    before = orm.QueryBuilder().append(orm.Node).count()
    result = CliRunner().invoke(main, ['screen', 'Li2O-B2O3', '--x', '0.3', '--name', 'no/slashes'])
    assert result.exit_code == 2
    assert "group: use 1-100 letters, digits" in result.output and '--name' in result.output
    assert orm.QueryBuilder().append(orm.Node).count() == before
