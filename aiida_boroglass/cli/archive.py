"""Share a screening: its group ``boroglass/<name>`` and the AiiDA archive of it.

``aiida-boroglass screen ... --name NAME`` puts the screening, its glasses and its summary in
the group ``boroglass/NAME``; ``aiida-boroglass export NAME -o file.aiida`` writes that group
with the full provenance of its nodes; after ``verdi archive import file.aiida`` in another
profile, ``verdi data boroglass table NAME`` prints the same table and writes the same plots.
"""
from __future__ import annotations

from pathlib import Path

import click

from aiida_boroglass.cli.errors import Refusal
from aiida_boroglass.cli.launching import with_profile


def group_of(name: str):
    """The group ``boroglass/<name>`` (or the group labelled ``name``), else None."""
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    from aiida_boroglass.workflows.screening import GROUP_PREFIX

    for label in (f'{GROUP_PREFIX}{name}', name):
        try:
            return orm.Group.collection.get(label=label)
        except NotExistent:
            continue
    return None


def group_workflows(group) -> list:
    """The workflows of ``group`` that no other workflow of it called (a screening, not its glasses), by PK.

    Raises :class:`Refusal` naming ``NAME`` when the group holds no workflow.
    """
    from aiida import orm

    members = [node for node in group.nodes if isinstance(node, orm.WorkflowNode)]
    pks = {node.pk for node in members}
    tops = sorted((node for node in members if node.caller is None or node.caller.pk not in pks), key=lambda n: n.pk)
    if not tops:
        raise Refusal(f'group {group.label!r} holds no workflow', 'NAME')
    return tops


def resolve_workflows(identifiers: tuple[str, ...]) -> list:
    """Workflows named by PK, UUID or label, or every top workflow of a group ``NAME`` (``boroglass/NAME``).

    Raises :class:`Refusal` naming ``NODES`` for an identifier that is neither.
    """
    from aiida.cmdline.params.types import WorkflowParamType

    nodes = []
    for identifier in identifiers:
        group = None if identifier.isdigit() else group_of(identifier)
        if group is not None:
            nodes += group_workflows(group)
            continue
        try:
            nodes.append(WorkflowParamType().convert(identifier, None, None))
        except click.BadParameter:
            raise Refusal(f'{identifier!r} is neither a workflow (PK, UUID, label) nor a group boroglass/NAME',
                          'NODES') from None
    return nodes


@click.command('export')
@click.argument('name')
@click.option('--output', '-o', type=click.Path(dir_okay=False, path_type=Path), default=None,
              help='Archive file to write (default: NAME.aiida).')
@click.option('--force', is_flag=True, help='Overwrite the archive file if it exists.')
@with_profile
def export(name, output, force):
    """Write the group boroglass/NAME of a screening (its glasses, results, full provenance) as an AiiDA archive.

    Import it elsewhere with `verdi archive import FILE`; `verdi data boroglass table NAME` then prints the table.
    """
    from aiida.tools.archive import create_archive

    group = group_of(name)
    if group is None:
        raise Refusal(f'no group boroglass/{name}: give the --name of a screening (see `verdi group list`)', 'NAME')
    output = output or Path(f'{name}.aiida')
    if output.exists() and not force:
        raise Refusal(f'{output} exists; give another file or --force', '--output')
    create_archive([group], filename=output, overwrite=force)
    click.echo(f'wrote {output}: group {group.label} with {group.count()} nodes and their provenance')
