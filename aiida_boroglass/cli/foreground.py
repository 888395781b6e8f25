"""Run a workflow in this process so that Ctrl-C stops it and everything it launched.

``aiida.engine.run`` kills only the top process on SIGINT, and its handler does not stay in
place: every calcfunction a workflow runs swaps the SIGINT handler for its own and puts back
the one it found, so with glasses running side by side a stale handler is left behind and
Ctrl-C reaches a calcfunction that finished long ago (the screening carries on), or one that
is running (its glass ends Excepted). Here SIGINT and SIGTERM are blocked while the workflow
runs and a thread waits for them instead: the first kills the workflow, then every process
below it that is still running, top down (a killed parent launches nothing more); LAMMPS
jobs are cancelled through their scheduler. Later signals are ignored until that is done.
"""
from __future__ import annotations

import asyncio
import signal
import threading
import time

import click
import kiwipy

#: Signals that stop a foreground run.
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})

#: Seconds allowed for the processes below an interrupted workflow to end.
SETTLE_TIMEOUT_S = 120.0

#: Status message of every process killed by an interrupt.
KILL_MESSAGE = 'Interrupted (Ctrl-C)'


class Interrupted(Exception):
    """A foreground run was stopped by Ctrl-C (SIGINT) or SIGTERM; ``node`` is its killed workflow."""

    def __init__(self, node, alive: list[int]):
        super().__init__(f'{node.process_label}<{node.pk}> interrupted')
        self.node = node
        self.alive = alive


class _InProcessCommunicator(kiwipy.LocalCommunicator):
    """kiwipy's in-process communicator, with broadcasts that plumpy's subscribers can read.

    plumpy's broadcast filter reads the sender as the second positional argument, which
    :class:`kiwipy.LocalCommunicator` passes by keyword.
    """

    def broadcast_send(self, body, sender=None, subject=None, correlation_id=None):
        """Deliver a broadcast to every subscriber, arguments by position."""
        self._ensure_open()
        for subscriber in list(self._broadcast_subscribers.values()):
            subscriber(self, body, sender, subject, correlation_id)
        return True


def run_here(builder):
    """Run ``builder`` to its end in this process; return its node.

    Raises
    ------
    Interrupted
        On SIGINT or SIGTERM, once the workflow and the processes below it are killed.
    """
    from aiida.manage import get_manager

    runner = get_manager().create_runner(communicator=_InProcessCommunicator())
    runner.loop.set_exception_handler(_quiet_kills)
    process = runner.instantiate_process(builder)
    if threading.current_thread() is not threading.main_thread():
        runner.run_get_node(process)
        return process.node
    with _StopSignals(lambda: runner.loop.call_soon_threadsafe(process.kill, KILL_MESSAGE)) as stop:
        _run_to_end(runner, process)
        if stop.received and process.node.is_killed:
            alive = runner.loop.run_until_complete(_kill_below(runner, process.node))
            raise Interrupted(process.node, alive)
    return process.node


def _quiet_kills(loop, context: dict) -> None:
    """Loop exception handler: drop the leftover tasks a kill interrupted, report anything else as usual."""
    from plumpy.process_states import KillInterruption

    if not isinstance(context.get('exception'), KillInterruption):
        loop.default_exception_handler(context)


def _run_to_end(runner, process) -> None:
    """Run ``process``; a kill ends it quietly (the node records it)."""
    from plumpy.exceptions import KilledError

    try:
        runner.run_get_node(process)
    except KilledError:
        pass


async def _kill_below(runner, node) -> list[int]:
    """Kill every process below ``node`` that still runs, top down; return the PKs still alive at the timeout."""
    asked: set[int] = set()
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        alive = sorted(child.pk for child in node.called_descendants if not child.is_terminated)
        if not alive:
            return []
        for pk in alive:
            if pk not in asked:
                asked.add(pk)
                runner.controller.kill_process(str(pk), msg_text=KILL_MESSAGE)
        await asyncio.sleep(0.2)
    return sorted(child.pk for child in node.called_descendants if not child.is_terminated)


class _StopSignals:
    """Block SIGINT and SIGTERM in this process and call ``on_stop`` (from a thread) on the first one.

    Threads started inside the block inherit the mask, so no Python signal handler runs:
    whatever handler aiida puts in place meanwhile is never called.
    """

    def __init__(self, on_stop):
        self._on_stop = on_stop
        self._done = False
        self.received = False
        self._thread = threading.Thread(target=self._wait, name='boroglass-stop-signals', daemon=True)

    def __enter__(self):
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._done = True
        signal.pthread_kill(self._thread.ident, signal.SIGINT)
        self._thread.join()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        return False

    def _wait(self) -> None:
        """Wait for the stop signals until the block ends; act on the first, acknowledge the others."""
        while True:
            signal.sigwait(STOP_SIGNALS)
            if self._done:
                return
            if self.received:
                click.echo('Still stopping the running steps; please wait.', err=True)
                continue
            self.received = True
            click.echo('Interrupted: stopping the workflow and its running steps ...', err=True)
            self._on_stop()
