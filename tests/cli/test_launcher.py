"""The aiida-boroglass command line: composition, and an in-process screening tabulated again from the database."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.data import data_boroglass
from aiida_boroglass.cli.launcher import main
from aiida_boroglass.cli.screening import format_table


def test_composition_json_reports_counts_ratios_and_cited_density():
    """LB70 = 70B2O3-30Li2O: R = 3/7, K = 0, density 2.22 g/cm3 from paper 001 Table II."""
    result = CliRunner().invoke(main, ['composition', 'LB70', '--atoms', '500', '--json'])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data['fractions'] == pytest.approx({'Li2O': 0.3, 'B2O3': 0.7})
    assert data['R'] == pytest.approx(3 / 7)
    assert data['density_g_cm3'] == pytest.approx(2.22)
    assert 'Table II' in data['density_source']
    counts = data['counts']
    assert counts['B'] % 2 == 0 and counts['Li'] % 2 == 0
    assert abs(sum(counts.values()) - 500) <= 5


def test_screen_runs_prints_table_and_writes_plot(lammps_code, packmol_code, tmp_path, tiny_overrides):
    """Two compositions through the screening WorkChain, in process, on the embedded profile."""
    overrides = tmp_path / 'tiny.yaml'
    overrides.write_text(yaml.safe_dump(tiny_overrides))
    output = tmp_path / 'results'
    result = CliRunner().invoke(main, ['screen', 'Li2O-B2O3', '--x', '0.2,0.4', '--overrides', str(overrides),
                                       '--output', str(output)])
    assert result.exit_code == 0, result.output
    assert 'N4' in result.output and '20Li2O-80B2O3' in result.output and '40Li2O-60B2O3' in result.output
    rows = json.loads((output / 'screening.json').read_text())
    assert [row['x'] for row in sorted(rows, key=lambda r: r['x'])] == [0.2, 0.4]
    for row in rows:
        assert 1.5 < row['density_g_cm3'] < 3.0
        assert 0.0 <= row['nbo_fraction'] <= 1.0
        assert row['reference_density_g_cm3'] == pytest.approx({0.2: 2.13, 0.4: 2.26}[row['x']])
        assert row['reference_n4'] == pytest.approx({0.2: 0.281, 0.4: 0.457}[row['x']])  # paper 001 Table II
    png = (output / 'screening.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 10_000

    # the same table and plot again, from the database
    node = orm.load_node(int(result.output.split('ScreeningWorkChain<')[1].split('>')[0]))
    again = CliRunner().invoke(data_boroglass, ['table', str(node.pk), '-o', str(tmp_path / 'again')])
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / 'again' / 'screening.json').read_text()) == rows
    assert format_table(rows) in again.output and format_table(rows) in result.output


def test_replicas_are_independent_glasses_and_the_table_gives_their_mean_and_spread(
        lammps_code, packmol_code, tmp_path, tiny_overrides):
    """``screen --replicas 2``: two glasses of one composition with distinct seeds; statistics equal numpy's."""
    import numpy as np

    from aiida_boroglass.workflows.screening import screening_glasses

    overrides = tmp_path / 'tiny.yaml'
    overrides.write_text(yaml.safe_dump(tiny_overrides))
    output = tmp_path / 'replicas'
    result = CliRunner().invoke(main, ['screen', 'Li2O-B2O3', '--x', '0.3', '--replicas', '2', '--overrides',
                                       str(overrides), '--output', str(output)])
    assert result.exit_code == 0, result.output
    node = orm.load_node(int(result.output.split('ScreeningWorkChain<')[1].split('>')[0]))
    glasses = screening_glasses(node)
    assert list(glasses) == ['x0300_r0', 'x0300_r1']
    first, second = glasses.values()
    assert first.inputs.packing.seed.value == 12345  # replica 0 is the glass a single screening makes
    assert second.inputs.packing.seed.value != first.inputs.packing.seed.value
    assert second.inputs.md_parameters['seed'] != first.inputs.md_parameters['seed']
    positions = [np.array([site.position for site in glass.outputs.structure.sites]) for glass in glasses.values()]
    assert not np.allclose(*positions)

    densities = [glass.outputs.density_g_cm3.value for glass in glasses.values()]
    n4 = [glass.outputs.boron['n4'] for glass in glasses.values()]
    stats = node.outputs.summary['compositions']['x0300']
    assert stats['replicas'] == 2
    assert stats['density_g_cm3']['mean'] == pytest.approx(np.mean(densities))
    assert stats['density_g_cm3']['std'] == pytest.approx(np.std(densities, ddof=1))
    assert stats['n4']['std'] == pytest.approx(np.std(n4, ddof=1))

    [row] = json.loads((output / 'screening.json').read_text())
    assert row['n_replicas'] == 2 and [glass['replica'] for glass in row['replicas']] == [0, 1]
    assert [glass['density_g_cm3'] for glass in row['replicas']] == pytest.approx(densities)
    assert row['n4'] == pytest.approx(np.mean(n4)) and row['n4_std'] == pytest.approx(np.std(n4, ddof=1))
    assert f'{np.mean(n4):.3f} ± {np.std(n4, ddof=1):.3f}' in result.output


def test_composition_without_tabulated_density_still_reports():
    """A glass with Al2O3 has no cited density: the command says so instead of failing."""
    result = CliRunner().invoke(main, ['composition', '10Al2O3-30Li2O-60B2O3', '--json'])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data['density_g_cm3'] is None and 'pass a density' in data['density_source']
    assert data['R'] == pytest.approx(30 / 60)


def test_composition_of_a_borophosphate_reports_its_cited_density():
    """Li40B30P30 lies in Kumar et al.'s series (SciGlass): tabulated 2.449 g/cm3."""
    result = CliRunner().invoke(main, ['composition', 'Li40B30P30', '--json'])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data['density_g_cm3'] == pytest.approx(2.449)
    assert data['density_source'].startswith('tabulated 40Li2O-30B2O3-30P2O5 (Kumar 2004)')


def test_without_any_profile_a_launch_is_refused_in_one_line(tmp_path):
    """A new user who skipped `aiida-boroglass setup`: one line naming the profile and the fix, status 2."""
    command = [str(Path(sys.executable).parent / 'aiida-boroglass'), 'screen', 'Li2O-B2O3', '--x', '0.3']
    result = subprocess.run(command, env={**os.environ, 'AIIDA_PATH': str(tmp_path)}, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith('Error:')]
    assert len(errors) == 1 and 'profile:' in errors[0] and 'aiida-boroglass setup' in errors[0]
    assert 'Traceback' not in result.stderr + result.stdout


def test_setup_gives_the_profile_a_daemon_timeout_that_survives_a_busy_daemon_but_keeps_a_users(aiida_profile):
    from aiida.manage.configuration import get_config

    from aiida_boroglass.cli.setup import DAEMON_TIMEOUT_S, ensure_daemon_timeout

    config = get_config()
    name = aiida_profile.name
    default = config.get_option('daemon.timeout')
    before = config.get_option('daemon.timeout', scope=name, default=False)  # the suite's own (conftest.py)
    try:
        config.get_profile(name).unset_option('daemon.timeout')
        assert ensure_daemon_timeout(name) == DAEMON_TIMEOUT_S > default
        assert get_config().get_option('daemon.timeout', scope=name) == DAEMON_TIMEOUT_S
        config.set_option('daemon.timeout', 7, scope=name)
        assert ensure_daemon_timeout(name) == 7
    finally:
        config.get_profile(name).unset_option('daemon.timeout')
        if before is not None:
            config.set_option('daemon.timeout', before, scope=name)
