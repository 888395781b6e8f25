"""Create an AiiDA profile if needed and register the local computer and engine codes."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

#: Codes registered when their executable is found: label -> (executable, default CalcJob plugin).
ENGINES = {
    'lmp': ('boroglass-lmp', 'boroglass.lammps'),
    'packmol': ('packmol', 'boroglass.packmol'),
    'cp2k': ('cp2k.psmp', 'boroglass.cp2k'),
    'dp': ('dp', None),
}
COMPUTER_LABEL = 'localhost'
#: The computer of the one-node Slurm cluster that scripts/slurm.sh starts on this machine (docs/cluster.md).
SLURM_COMPUTER_LABEL = 'localhost-slurm'
#: Scheduler of each computer ``setup`` registers.
SCHEDULERS = {COMPUTER_LABEL: 'core.direct', SLURM_COMPUTER_LABEL: 'core.slurm'}
#: Seconds ``verdi daemon stop/restart`` wait for the daemon's answer (aiida's default, 2 s, is too short for a
#: daemon whose workers are busy: ``benchmarks/load.py --restart`` measured restarts that timed out half-done).
DAEMON_TIMEOUT_S = 30
#: Seconds between two ``squeue`` calls of the local Slurm computer (aiida's default, 10 s, suits remote clusters).
SLURM_POLL_INTERVAL_S = 1.0
#: Transport settings of both computers. A non-login shell: aiida's default ``bash -l`` sources the login
#: profile for every command, about 100 ms of CPU here for each job poll (once a second), which slowed a
#: LAMMPS job on every core by 20-28 % (``benchmarks/lammps_overhead.py``); jobs get their environment from
#: the job script and the engine's own, as with the direct scheduler and Slurm's default export.
TRANSPORT_SETTINGS = {'use_login_shell': False}


def find_executable(name: str) -> str | None:
    """Absolute path of ``name``: next to the running Python first (its virtual env), then on PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file():
        return str(local)
    return shutil.which(name)


def verdi(*arguments: str) -> subprocess.CompletedProcess:
    """Run ``verdi`` of this Python environment; raise with its output on failure."""
    result = subprocess.run([sys.executable, '-m', 'aiida', *arguments], capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f'verdi {" ".join(arguments)} failed:\n{result.stdout}\n{result.stderr}')
    return result


def ensure_profile(profile_name: str | None) -> str:
    """Load the named (or default) profile; create an embedded one with ``verdi presto`` if none exists.

    The embedded profile uses SQLite storage and the ZeroMQ broker (no services needed).
    """
    from aiida.manage.configuration import get_config, reset_config

    config = get_config(create=True)
    name = profile_name or (config.default_profile_name if config.profiles else None)
    if name is None or name not in config.profile_names:
        arguments = ['presto', '--use-zeromq'] + (['--profile-name', name] if name else [])
        verdi(*arguments)
        reset_config()
        config = get_config(create=True)
        name = name or config.default_profile_name
    return name


def ensure_daemon_timeout(profile_name: str) -> int:
    """Give the profile a ``daemon.timeout`` of :data:`DAEMON_TIMEOUT_S` unless one is set; return the one in force (s)."""
    from aiida.manage.configuration import get_config

    config = get_config()
    if config.get_option('daemon.timeout', scope=profile_name, default=False) is None \
            and 'daemon.timeout' not in config.options:
        config.set_option('daemon.timeout', DAEMON_TIMEOUT_S, scope=profile_name)
        config.store()
    return config.get_option('daemon.timeout', scope=profile_name)


def ensure_computer(workdir: str | None = None, label: str = COMPUTER_LABEL):
    """Return the computer ``label`` of this machine, configured to launch MPI with this environment's ``mpirun``.

    ``label`` is ``localhost`` (jobs run directly) or ``localhost-slurm`` (jobs go through the
    local Slurm of scripts/slurm.sh, polled every :data:`SLURM_POLL_INTERVAL_S`); ``workdir``
    (default ``~/.aiida_run``) is where jobs run when the computer is created here.
    """
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    try:
        computer = orm.load_computer(label)
    except NotExistent:
        computer = orm.Computer(label=label, hostname='localhost', transport_type='core.local',
                                scheduler_type=SCHEDULERS[label], workdir=workdir or str(Path.home() / '.aiida_run')).store()
        if label == SLURM_COMPUTER_LABEL:
            computer.set_minimum_job_poll_interval(SLURM_POLL_INTERVAL_S)
    configure_transport(computer)
    mpirun = find_executable('mpirun')
    if mpirun:
        computer.set_mpirun_command([mpirun, '-np', '{tot_num_mpiprocs}'])
    computer.set_default_mpiprocs_per_machine(1)
    return computer


def configure_transport(computer) -> None:
    """Give ``computer`` the :data:`TRANSPORT_SETTINGS` for the default user, configuring it if it is not yet."""
    from aiida import orm

    user = orm.User.collection.get_default()
    if not computer.is_user_configured(user):
        computer.configure(user, **TRANSPORT_SETTINGS)
        return
    authinfo = computer.get_authinfo(user)
    params = authinfo.get_auth_params()
    if any(params.get(key) != value for key, value in TRANSPORT_SETTINGS.items()):
        authinfo.set_auth_params({**params, **TRANSPORT_SETTINGS})


def ensure_codes(computer) -> dict[str, str]:
    """Register every engine found on this machine and this Python for analysis jobs; return label -> executable."""
    from aiida import orm

    from aiida_boroglass.calculations.analysis import ensure_python_code
    from aiida.common.exceptions import NotExistent

    found = {}
    for label, (executable, plugin) in ENGINES.items():
        path = find_executable(executable)
        if path is None:
            continue
        found[label] = path
        try:
            code = orm.load_code(f'{label}@{computer.label}')
            if str(code.filepath_executable) == path:
                continue
            code.label = f'{label}-old-{code.pk}'
        except NotExistent:
            pass
        orm.InstalledCode(label=label, computer=computer, filepath_executable=path, default_calc_job_plugin=plugin,
                          description=f'{executable} registered by aiida-boroglass setup').store()
    found['python'] = str(ensure_python_code(computer).filepath_executable)
    return found
