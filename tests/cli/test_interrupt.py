"""Ctrl-C on a foreground screening kills it and everything it launched; the table command shows what finished."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.data import data_boroglass


def _wait_for(condition, timeout_s: float, what: str):
    """Poll ``condition()`` every half second until it returns a true value; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f'timed out waiting for {what}')


def _screening_after(pk: int):
    """The first screening workflow stored after node ``pk``, if any."""
    query = orm.QueryBuilder().append(orm.WorkflowNode, filters={
        'id': {'>': pk}, 'attributes.process_label': 'ScreeningWorkChain'})
    return next(iter(query.all(flat=True)), None)


@pytest.mark.lammps
def test_ctrl_c_stops_a_screening_and_its_steps_then_table_shows_what_finished(lammps_code, packmol_code,
                                                                                tiny_overrides, tmp_path):
    overrides = tmp_path / 'tiny.yaml'
    overrides.write_text(yaml.safe_dump(tiny_overrides))
    last = orm.QueryBuilder().append(orm.Node, project='id').order_by({orm.Node: {'id': 'desc'}}).first(flat=True)
    command = [str(Path(sys.executable).parent / 'aiida-boroglass'), 'screen', 'Li2O-B2O3', '--x', '0.2,0.4',
               '--max-concurrent', '1', '--overrides', str(overrides), '--output', str(tmp_path / 'out')]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, 'OMP_NUM_THREADS': '1'})
    try:
        screening = _wait_for(lambda: _screening_after(last), 180, 'the screening to start')
        _wait_for(lambda: len(screening.called) == 2, 600, 'the second glass to start')  # the first one finished
        time.sleep(3)
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)  # a second Ctrl-C while stopping changes nothing
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert f'verdi data boroglass table {screening.pk}' in stderr and 'Traceback' not in stderr
    assert screening.is_killed
    below = screening.called_descendants
    assert all(node.is_terminated for node in below)
    assert not any(node.is_excepted for node in below)
    first, second = sorted(screening.called, key=lambda node: node.pk)
    assert first.is_finished_ok and second.is_killed
    jobs = [node.get_job_id() for node in below if isinstance(node, orm.CalcJobNode) and node.is_killed]
    _wait_for(lambda: not any(job and Path(f'/proc/{job}').exists() for job in jobs), 120, 'the LAMMPS jobs to end')

    result = CliRunner().invoke(data_boroglass, ['table', str(screening.pk), '-o', str(tmp_path / 'table')])
    assert result.exit_code == 0, result.output
    assert 'not finished: 40Li2O-60B2O3 (killed)' in result.output
    (row,) = json.loads((tmp_path / 'table' / 'screening.json').read_text())
    assert row['composition'] == '20Li2O-80B2O3' and row['x'] == 0.2
    assert (tmp_path / 'table' / 'screening.png').is_file()
