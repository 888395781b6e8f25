"""How the calcfunctions of this package fail, and how the workflows that call them see it.

A calcfunction that cannot do its work finishes *failed*, with an exit code that says why,
never *excepted* with a traceback. Its body refuses data by raising
:class:`CalcfunctionError` with a label of :data:`CALCFUNCTION_EXIT_CODES`; the decorator
:func:`returns_exit_codes` (placed under ``@calcfunction``) turns that into
``ExitCode(status, message)``. A ``ValueError`` of an analysis kernel (they raise it,
naming the argument, for data they cannot analyse) becomes ``ERROR_KERNEL_REFUSED_DATA``.
Other exceptions are bugs and still except.

Exit codes of the calcfunctions (each status has one meaning; numbers are never reused):

====== ================================= ===================================================================
status label                             meaning
====== ================================= ===================================================================
300    ERROR_FIT_FAILED                  no sigma_eps in [0, 1] reproduces the measured E_a ratio (hopping)
301    ERROR_INVALID_PARAMETERS          the ``parameters`` Dict has an unknown key or a value out of range
302    ERROR_TRAJECTORY_WITHOUT_CELLS    a trajectory without cells: periodic analysis is impossible
303    ERROR_COMPOSITION_OUTSIDE_MODEL   the hopping model cannot describe the composition
304    ERROR_INVALID_UNITS               network-former units missing or inconsistent with the composition
305    ERROR_INVALID_EXPERIMENT          measured data with an unknown key, a bad number or temperature
306    ERROR_UNEVEN_FRAMES               frames not equally spaced in time, or replicas with other intervals
307    ERROR_NO_MOBILE_SPECIES           the glass holds no (requested) mobile ion
308    ERROR_TRAJECTORY_TOO_SHORT        an interval of the analysis spans the whole trajectory
309    ERROR_INCOMPLETE_GLASSES          softness: a glass without structure or labels, labels of other atoms
310    ERROR_FORCEFIELD_UNAVAILABLE      the force field cannot be resolved for the composition
311    ERROR_MISSING_ELEMENT             the glass lacks an element the analysis needs (B for N4, O, formers)
320    ERROR_KERNEL_REFUSED_DATA         an analysis kernel refused the data (its message says why)
====== ================================= ===================================================================

Workflows run calcfunctions with :func:`run_checked` inside steps decorated with
:func:`checked_step`: a failed calcfunction ends the workflow with its own 4xx exit code
``ERROR_CALCFUNCTION_FAILED`` (message :data:`CALCFUNCTION_FAILED_MESSAGE`), naming the
step, the calcfunction and its exit status and message.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from aiida.engine import ExitCode

#: label -> (exit status, meaning); the table of the module docstring.
CALCFUNCTION_EXIT_CODES: dict[str, tuple[int, str]] = {
    'ERROR_FIT_FAILED': (300, 'no sigma_eps in [0, 1] reproduces the measured E_a ratio'),
    'ERROR_INVALID_PARAMETERS': (301, 'the parameters Dict has an unknown key or a value out of range'),
    'ERROR_TRAJECTORY_WITHOUT_CELLS': (302, 'a trajectory without cells: periodic analysis is impossible'),
    'ERROR_COMPOSITION_OUTSIDE_MODEL': (303, 'the hopping model cannot describe the composition'),
    'ERROR_INVALID_UNITS': (304, 'network-former units missing or inconsistent with the composition'),
    'ERROR_INVALID_EXPERIMENT': (305, 'measured data with an unknown key, a bad number or temperature'),
    'ERROR_UNEVEN_FRAMES': (306, 'frames not equally spaced in time, or replicas with other frame intervals'),
    'ERROR_NO_MOBILE_SPECIES': (307, 'the glass holds no (requested) mobile ion'),
    'ERROR_TRAJECTORY_TOO_SHORT': (308, 'an interval of the analysis spans the whole trajectory'),
    'ERROR_INCOMPLETE_GLASSES': (309, 'softness inputs: a glass without structure or labels, or mislabelled'),
    'ERROR_FORCEFIELD_UNAVAILABLE': (310, 'the force field cannot be resolved for the composition'),
    'ERROR_MISSING_ELEMENT': (311, 'the glass lacks an element the analysis needs'),
    'ERROR_KERNEL_REFUSED_DATA': (320, 'an analysis kernel refused the data'),
}

#: Message of every workflow's ``ERROR_CALCFUNCTION_FAILED`` exit code.
CALCFUNCTION_FAILED_MESSAGE = 'Step {step}: calcfunction {function} failed with exit status {status}: {message}'


class CalcfunctionError(ValueError):
    """Data a calcfunction cannot work with; the calcfunction returns the exit code of ``label``.

    A ``ValueError``, so that the input validators of the workflows, which run the same
    checks before anything is stored, turn it into their refusal message.

    Parameters
    ----------
    label : str
        A key of :data:`CALCFUNCTION_EXIT_CODES`.
    message : str
        The reason, naming the input (e.g. ``parameters.size must be ...``).
    """

    def __init__(self, label: str, message: str):
        if label not in CALCFUNCTION_EXIT_CODES:
            raise KeyError(f'{label!r} is not a calcfunction exit code: {sorted(CALCFUNCTION_EXIT_CODES)}')
        super().__init__(message)
        self.label = label

    @property
    def exit_code(self) -> ExitCode:
        """The exit code the calcfunction returns: status of the label, this message."""
        return ExitCode(CALCFUNCTION_EXIT_CODES[self.label][0], str(self))


def exit_code_of(label: str, message: str) -> ExitCode:
    """``ExitCode`` of ``label`` (a key of :data:`CALCFUNCTION_EXIT_CODES`) with ``message``."""
    return CalcfunctionError(label, message).exit_code


def returns_exit_codes(function: Callable) -> Callable:
    """Decorate a calcfunction body (under ``@calcfunction``) so that it refuses by exit code.

    A :class:`CalcfunctionError` returns its exit code; any other ``ValueError`` (an
    analysis kernel refusing the data) returns ``ERROR_KERNEL_REFUSED_DATA`` with the
    kernel's message. The process then finishes failed, with the reason, not excepted.
    """

    @functools.wraps(function)
    def refusing(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except CalcfunctionError as error:
            return error.exit_code
        except ValueError as error:
            return exit_code_of('ERROR_KERNEL_REFUSED_DATA', f'{function.__name__}: {error}')

    return refusing


class CalcfunctionFailed(Exception):
    """A calcfunction called by a workflow finished failed; :func:`checked_step` turns it into an exit code."""

    def __init__(self, node):
        super().__init__(f'{node.process_label}<{node.pk}> failed with exit status {node.exit_status}: '
                         f'{node.exit_message}')
        self.node = node


def run_checked(function: Callable, *args, **kwargs) -> Any:
    """Run a calcfunction; return its result, or raise :class:`CalcfunctionFailed` when it did not finish ok.

    Parameters
    ----------
    function : calcfunction
        Called as ``function.run_get_node(*args, **kwargs)``.

    Returns
    -------
    Data or dict
        What the calcfunction returned (one node, or a dict of nodes).
    """
    result, node = function.run_get_node(*args, **kwargs)
    if not node.is_finished_ok:
        raise CalcfunctionFailed(node)
    return result


def checked_step(step: Callable) -> Callable:
    """Decorate a WorkChain step that calls :func:`run_checked`: a failed calcfunction ends the
    workflow with its ``ERROR_CALCFUNCTION_FAILED`` exit code, naming the step."""

    @functools.wraps(step)
    def calcfunction_step(self):
        try:
            return step(self)
        except CalcfunctionFailed as failed:
            node = failed.node
            self.report(f'step {step.__name__}: {failed}')
            return self.exit_codes.ERROR_CALCFUNCTION_FAILED.format(
                step=step.__name__, function=node.process_label, status=node.exit_status, message=node.exit_message)

    return calcfunction_step
