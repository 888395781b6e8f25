"""The one launch path of ``aiida-boroglass``: check a builder, then run it here or submit it to the daemon.

Every command checks each builder with :func:`validated` before it launches anything, so a
refused input stores no node; then :func:`launch` runs it in this process (Ctrl-C stops
it, see :mod:`aiida_boroglass.cli.foreground`), or submits it to the daemon and returns at
once, or (``--wait``) follows it with a progress bar. The code and scheduler options that
send the jobs of a command to another computer (:func:`code_option`, :func:`job_options`,
docs/cluster.md) are defined here once for every command.
"""
from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import click
from aiida.cmdline.params import types

from aiida_boroglass.cli.errors import Refusal, one_line

#: The command that tabulates and plots stored results of any launched workflow.
TABLE_COMMAND = 'verdi data boroglass table'


@dataclass(frozen=True)
class Progress:
    """What a progress bar of a followed workflow counts: ``finished(node)`` out of ``total`` ``what``."""

    total: int
    finished: Callable
    what: str


def with_profile(command):
    """Load the storage of the default AiiDA profile before ``command`` runs; refuse in one line when there is none."""

    @functools.wraps(command)
    def loaded(*args, **kwargs):
        from aiida.cmdline.utils.decorators import load_backend_if_not_loaded
        from aiida.common.exceptions import ConfigurationError, IntegrityError, LockedProfileError

        try:
            load_backend_if_not_loaded()
        except (ConfigurationError, IntegrityError, LockedProfileError) as error:
            raise Refusal(f'{one_line(error)}; create one with `aiida-boroglass setup`', 'profile') from None
        return command(*args, **kwargs)

    return loaded


def launch_options(command):
    """Add ``--daemon`` and ``--wait`` to a launching command."""
    command = click.option('--wait', is_flag=True,
                           help='With --daemon: follow the run with a progress bar and end with the table.')(command)
    return click.option('--daemon', is_flag=True,
                        help='Submit to the daemon and return at once, printing the PK.')(command)


def check_launch_options(daemon: bool, wait: bool) -> None:
    """Refuse ``--wait`` without ``--daemon``, and ``--daemon`` when the daemon of the profile is not running."""
    if wait and not daemon:
        raise Refusal('only with --daemon (a run without --daemon is followed to its end anyway)', '--wait')
    if daemon:
        from aiida.engine.daemon.client import get_daemon_client

        if not get_daemon_client().is_daemon_running:
            raise Refusal('the daemon of this profile is not running: start it with `verdi daemon start`, '
                          'or run without --daemon', '--daemon')


def field_vector(text: str | None, unit: str, example: str) -> list[float] | None:
    """``'0,0,0.05'`` -> [0.0, 0.0, 0.05] in ``unit``; None stays None; refuse naming ``--field`` otherwise.

    Three finite numbers, not all zero; ``example`` is shown in the refusal.
    """
    if text is None:
        return None
    try:
        vector = [float(token) for token in text.split(',')]
    except ValueError:
        vector = []
    if len(vector) != 3 or not all(math.isfinite(value) for value in vector) or not any(vector):
        raise Refusal(f'{text!r} is not three comma-separated finite numbers E_x,E_y,E_z in {unit}, not all zero '
                      f'(e.g. {example})', '--field')
    return vector


def load_engine_code(label: str):
    """The code ``label`` (e.g. ``lmp@localhost``); refuse naming it when it is not set up."""
    from aiida import orm
    from aiida.common.exceptions import MultipleObjectsError, NotExistent

    try:
        return orm.load_code(label)
    except (NotExistent, MultipleObjectsError) as error:
        raise Refusal(f'{error}; run `aiida-boroglass setup` first', 'code') from None


def code_option(flag: str, engine: str, default: str, entry_point: str | None = None):
    """``flag`` (e.g. ``--lammps-code``): the ``engine`` code as label@computer, PK or UUID.

    The command receives the loaded code, or None when the option is not given:
    :func:`engine_code` then loads ``default`` (shown in the help), once the profile is loaded.
    ``entry_point`` refuses a code whose default calculation plugin is another one.
    """
    return click.option(flag, type=types.CodeParamType(entry_point=entry_point), default=None, show_default=default,
                        help=f'The {engine} code (label@computer, PK or UUID), e.g. on a Slurm computer '
                             '(docs/cluster.md).')


def engine_code(code, default: str):
    """``code`` given with a :func:`code_option`, else the code labelled ``default``; refuse when it is not set up."""
    return code if code is not None else load_engine_code(default)


#: The codes that ``aiida-boroglass setup`` registers on this machine: the defaults of the code options.
LAMMPS_CODE = 'lmp@localhost'
PACKMOL_CODE = 'packmol@localhost'


def md_code_options(command):
    """Add ``--lammps-code`` and ``--packmol-code`` (the engines of a melt-quench) to ``command``; see :func:`md_codes`."""
    command = code_option('--packmol-code', 'packmol', PACKMOL_CODE, 'boroglass.packmol')(command)
    return code_option('--lammps-code', 'LAMMPS', LAMMPS_CODE, 'boroglass.lammps')(command)


def md_codes(lammps_code, packmol_code) -> tuple:
    """``(LAMMPS, packmol)`` codes of :func:`md_code_options`: the given ones, else those that setup registers."""
    return engine_code(lammps_code, LAMMPS_CODE), engine_code(packmol_code, PACKMOL_CODE)


class WallTime(click.ParamType):
    """A wall time, ``3600`` (seconds) or ``1:00:00`` (hours:minutes:seconds), converted to int seconds > 0."""

    name = 'walltime'
    _CLOCK = re.compile(r'(\d+):([0-5]?\d):([0-5]?\d)')

    def convert(self, value, param, ctx) -> int:
        """Seconds of ``value``; fail naming the option unless it is a positive whole number of seconds or H:MM:SS."""
        if isinstance(value, int):
            seconds = value
        elif str(value).strip().isdigit():
            seconds = int(value)
        elif match := self._CLOCK.fullmatch(str(value).strip()):
            hours, minutes, rest = (int(group) for group in match.groups())
            seconds = 3600 * hours + 60 * minutes + rest
        else:
            seconds = 0
        if seconds <= 0:
            self.fail(f'{value!r} is not a wall time > 0: give seconds (3600) or hours:minutes:seconds (1:00:00)',
                      param, ctx)
        return seconds


def calcjob_options(walltime: int | None = None, mpi_procs: int | None = None, queue: str | None = None,
                    account: str | None = None) -> dict:
    """The CalcJob ``metadata.options`` of the given scheduler settings; {} when none is given.

    Parameters
    ----------
    walltime : int, optional
        Wall-time limit of every job, s (``max_wallclock_seconds``).
    mpi_procs : int, optional
        MPI processes of every job, on one machine (``resources``, launched with MPI: ``withmpi``).
    queue, account : str, optional
        Scheduler queue (Slurm partition) and account to charge (``queue_name``, ``account``).
    """
    options = {'max_wallclock_seconds': walltime, 'queue_name': queue, 'account': account}
    if mpi_procs is not None:
        options.update(resources={'num_machines': 1, 'num_mpiprocs_per_machine': mpi_procs}, withmpi=True)
    return {key: value for key, value in options.items() if value is not None}


#: The options of :func:`job_options`, ``--mpi-procs`` last.
_JOB_OPTIONS = (
    click.option('--walltime', type=WallTime(), default=None,
                 help='Wall-time limit of every job: seconds or H:MM:SS (default: none).'),
    click.option('--queue', default=None, help='Scheduler queue of the jobs (Slurm partition).'),
    click.option('--account', default=None, help='Scheduler account charged for the jobs (Slurm --account).'),
    click.option('--mpi-procs', type=click.IntRange(min=1), default=None,
                 help='MPI processes of every parallel job, on one machine (default: 1).'),
)


def job_options(command=None, *, mpi: bool = True):
    """Add ``--walltime``, ``--queue``, ``--account`` and (``mpi``) ``--mpi-procs``; ``command`` receives ``options``.

    ``options`` is :func:`calcjob_options` of the given values, the scheduler options of every
    job the command launches ({} keeps the local defaults). Commands whose jobs do not run
    under MPI (DeePMD-kit training) take ``mpi=False``: ``@job_options(mpi=False)``.
    """
    if command is None:
        return functools.partial(job_options, mpi=mpi)

    @functools.wraps(command)
    def with_options(*args, walltime, queue, account, mpi_procs=None, **kwargs):
        return command(*args, options=calcjob_options(walltime, mpi_procs, queue, account), **kwargs)

    for option in reversed(_JOB_OPTIONS if mpi else _JOB_OPTIONS[:-1]):
        with_options = option(with_options)
    return with_options


def validated(builder, hints: Mapping[str, str] | None = None):
    """Return ``builder`` if its process would accept its inputs; refuse otherwise. Nothing is stored.

    The inputs are pre-processed (defaults filled in) and validated by the process
    specification exactly as a launch does, without instantiating the process.

    Parameters
    ----------
    builder : ProcessBuilder
    hints : mapping of str to str, optional
        Field -> how to give it on the command line; added to a refusal that names the field.

    Raises
    ------
    Refusal
        With the specification's message, prefixed with the input's path unless it names it.
    """
    namespace = builder._process_class.spec().inputs
    error = namespace.validate(namespace.pre_process(_copy_mappings(builder._inputs(prune=True))))
    if error is None:
        return builder
    port = error.port.removeprefix('inputs').lstrip('.')
    message = error.message if port.rpartition('.')[2] in error.message else f'{port}: {error.message}'
    raise Refusal(message + ''.join(f'; {hint}' for field, hint in (hints or {}).items() if field in message))


def _copy_mappings(value):
    """Copy the nested mappings of ``value`` (not the nodes): validation may change them in place."""
    if isinstance(value, Mapping):
        return {key: _copy_mappings(item) for key, item in value.items()}
    return value


def launch(builder, daemon: bool = False, wait: bool = False, progress: Progress | None = None):
    """Run a validated ``builder`` here, or submit it to the daemon (and follow it with ``wait``).

    Returns
    -------
    ProcessNode or None
        The terminated node; None when submitted without ``wait`` (its PK is printed).

    Raises
    ------
    click.exceptions.Exit
        Status 130 after Ctrl-C, with what to do next printed.
    """
    if not daemon:
        return _run_in_foreground(builder)
    from aiida.engine import submit

    node = submit(builder)
    if not wait:
        click.echo(f'submitted {node.process_label}<{node.pk}>; follow it with `verdi process list`, '
                   f'then see its results with `{TABLE_COMMAND} {node.pk}`')
        return None
    return follow(node, progress or Progress(1, lambda n: int(n.is_terminated), 'workflow'))


def _run_in_foreground(builder):
    """Run ``builder`` here, timed; after Ctrl-C say what was stopped and how to see what finished."""
    from aiida_boroglass.cli.foreground import Interrupted, run_here

    started = time.time()
    try:
        node = run_here(builder)
    except Interrupted as interrupt:
        node = interrupt.node
        click.echo(f'{node.process_label}<{node.pk}> was killed with its running steps; finished steps stay in the '
                   f'database. Tabulate and plot them: {TABLE_COMMAND} {node.pk}', err=True)
        if interrupt.alive:
            click.echo(f'still running: {interrupt.alive}; stop them with `verdi process kill`', err=True)
        raise click.exceptions.Exit(130) from None
    return _ended(node, started)


def follow(node, progress: Progress):
    """Show a progress bar of a submitted workflow until it ends; Ctrl-C stops following, not the workflow."""
    started = time.time()
    try:
        with click.progressbar(length=progress.total, label=f'{node.process_label}<{node.pk}> {progress.what}') as bar:
            done = 0
            while not node.is_terminated:
                time.sleep(2)
                count = progress.finished(node)
                bar.update(count - done)
                done = count
    except KeyboardInterrupt:
        click.echo(f'\nstopped following; {node.process_label}<{node.pk}> keeps running in the daemon: '
                   f'`verdi process kill {node.pk}` stops it, `{TABLE_COMMAND} {node.pk}` shows its results', err=True)
        raise click.exceptions.Exit(130) from None
    return _ended(node, started)


def _ended(node, started: float):
    """Print how ``node`` ended and its wall time since ``started``; return it."""
    state = f'exit status {node.exit_status}' if node.is_finished else node.process_state.value
    click.echo(f'{node.process_label}<{node.pk}> finished with {state} after {time.time() - started:.0f} s')
    return node


def count_finished(node, levels: int = 1, process_class=None, **attributes) -> int:
    """Number of finished processes ``levels`` calls below the workflow ``node`` (a progress count).

    Parameters
    ----------
    node : WorkflowNode
    levels : int
        1: the processes ``node`` called; 2: the processes those workflows called; ...
    process_class : type, optional
        Count only these nodes (default: workflows).
    **attributes
        Further attribute filters of the counted nodes, e.g. ``function_name='hopping_transport'``.
    """
    from aiida import orm

    query = orm.QueryBuilder().append(orm.WorkflowNode, filters={'id': node.pk}, tag='level0')
    for level in range(1, levels):
        query.append(orm.WorkflowNode, with_incoming=f'level{level - 1}', tag=f'level{level}')
    filters = {f'attributes.{key}': value for key, value in {'process_state': 'finished', **attributes}.items()}
    query.append(process_class or orm.WorkflowNode, with_incoming=f'level{levels - 1}', filters=filters)
    return query.count()


def exit_unless(ok: bool) -> None:
    """End the command with exit status 1 unless ``ok`` (every launched workflow finished successfully)."""
    if not ok:
        raise click.exceptions.Exit(1)
