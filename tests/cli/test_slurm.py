"""A screening through a real Slurm: the one-node cluster of scripts/slurm.sh and the computer ``localhost-slurm``.

The cluster must start here (root, slurm-wlm and munge from scripts/environment.sh): when it
does not, the test fails with the reason scripts/slurm.sh printed, it is never skipped.
"""
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.launcher import main
from aiida_boroglass.cli.setup import SLURM_COMPUTER_LABEL, ensure_codes, ensure_computer

pytestmark = pytest.mark.slurm

SCRIPT = Path(__file__).parents[2] / 'scripts' / 'slurm.sh'


@pytest.fixture(scope='session')
def slurm_cluster():
    """Start (or find running) the one-node Slurm cluster; the path of its job-completion log."""
    result = subprocess.run(['bash', str(SCRIPT)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f'the local Slurm cluster did not start: {(result.stderr or result.stdout).strip()}'
    config = subprocess.run(['scontrol', 'show', 'config'], capture_output=True, text=True, check=True).stdout
    return Path(re.search(r'^JobCompLoc\s*=\s*(\S+)', config, re.MULTILINE).group(1))


@pytest.fixture(scope='session')
def slurm_computer(slurm_cluster, aiida_profile, tmp_path_factory):
    """``localhost-slurm`` with its codes, registered as ``aiida-boroglass setup --slurm`` does."""
    computer = ensure_computer(workdir=str(tmp_path_factory.mktemp('slurm_run')), label=SLURM_COMPUTER_LABEL)
    found = ensure_codes(computer)
    assert {'lmp', 'packmol'} <= set(found), found
    return computer


def completed_jobs(log: Path) -> dict[str, str]:
    """Slurm job id -> final state, from the job-completion log (``JobId=12 ... JobState=COMPLETED ...`` lines)."""
    return dict(re.findall(r'JobId=(\d+) .*?JobState=(\S+)', log.read_text())) if log.exists() else {}


def test_a_screening_runs_its_jobs_through_slurm(slurm_cluster, slurm_computer, tmp_path):
    """One tiny glass: packmol and the four LAMMPS phases are Slurm jobs with the given wall time, queue and account."""
    overrides = tmp_path / 'tiny.yaml'
    overrides.write_text(yaml.safe_dump({
        'n_atoms': 40,
        'schedule': {'push_off_ps': 0.1, 'melt_ps': 0.2, 'cooling_rate_k_ps': 10000.0, 'relax_nvt_ps': 0.1,
                     'relax_npt_ps': 0.1, 'production_ps': 0.1, 'dump_every_ps': 0.05},
    }))
    result = CliRunner().invoke(main, [
        'screen', 'Li2O-B2O3', '--x', '0.3', '--overrides', str(overrides), '--output', str(tmp_path / 'out'),
        '--lammps-code', f'lmp@{SLURM_COMPUTER_LABEL}', '--packmol-code', f'packmol@{SLURM_COMPUTER_LABEL}',
        '--walltime', '0:10:00', '--queue', 'debug', '--account', 'boroglass'])
    assert result.exit_code == 0, result.output
    screening = orm.load_node(int(result.output.split('ScreeningWorkChain<')[1].split('>')[0]))
    assert screening.is_finished_ok

    jobs = [node for node in screening.called_descendants if isinstance(node, orm.CalcJobNode)]
    assert sorted(job.process_label for job in jobs) == ['BoroglassLammpsCalculation', 'PackmolCalculation']
    completed = completed_jobs(slurm_cluster)
    for job in jobs:
        assert job.computer.label == SLURM_COMPUTER_LABEL
        assert completed.get(job.get_job_id()) == 'COMPLETED', (job.process_label, job.get_job_id(), completed)
        options = job.get_option
        assert (options('max_wallclock_seconds'), options('queue_name'), options('account')) == (600, 'debug',
                                                                                                 'boroglass')
        script = Path(job.get_remote_workdir(), '_aiidasubmit.sh').read_text()
        assert '#SBATCH --partition=debug' in script and '#SBATCH --time=00:10:00' in script
