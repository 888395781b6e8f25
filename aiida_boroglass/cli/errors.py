"""The one refusal path of the command line: a bad input ends in one line, exit status 2.

Every refused input, whether click rejects an option or a process specification rejects the
inputs it would be launched with, ends in one line ``Error: <field>: <allowed values>`` on
standard error and exit status 2, before anything is stored.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

#: Exit status of a refused input (click's status of a usage error).
REFUSED = 2

#: Prefixes that aiida and plumpy put before a validation message; the message names the field itself.
_VALIDATION_PREFIXES = ("Error occurred validating port 'inputs': ", 'invalid attribute value ')


def one_line(text: str) -> str:
    """``text`` with every run of white space, line breaks included, made one space."""
    return ' '.join(str(text).split())


class Refusal(click.ClickException):
    """A refused input: ``Error: <field>: <message>`` on one line, exit status 2.

    Parameters
    ----------
    message : str
        What is allowed (and what was given).
    field : str, optional
        The option, argument or input key refused; omitted when ``message`` starts with it.
    """

    exit_code = REFUSED

    def __init__(self, message: str, field: str | None = None):
        message = one_line(message)
        for prefix in _VALIDATION_PREFIXES:
            message = message.removeprefix(prefix)
        super().__init__(f'{field}: {message}' if field else message)


@contextmanager
def refusing(field: str | None = None) -> Iterator[None]:
    """Turn a ``ValueError`` raised while inputs are read or a builder is filled into a :class:`Refusal`.

    ``CompositionError`` and aiida's builder validation errors are ``ValueError`` subclasses.
    """
    try:
        yield
    except ValueError as error:
        raise Refusal(str(error), field) from None


class OneLineGroup(click.Group):
    """A command group whose usage errors are one line ``Error: ...`` (no usage text), exit status 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Run the command; in standalone mode print a refused input as one line and exit with its status."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            status = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as error:
            click.echo(f'Error: {one_line(error.format_message())}', err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo('Aborted!', err=True)
            sys.exit(1)
        sys.exit(status if isinstance(status, int) else 0)
