"""Tables and plots of stored results, one function per workflow, shared by the launcher and ``verdi data boroglass table``.

A launching command ends with :func:`show_results` of the workflows it ran, and
``verdi data boroglass table PK ...`` calls the same function on stored workflows (finished,
failed or interrupted), so a result looks the same whether it was just made or is re-read
from the database.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from aiida_boroglass.cli.errors import Refusal
from aiida_boroglass.cli.aimd import show_aimd
from aiida_boroglass.cli.labelling import show_labels
from aiida_boroglass.cli.mechanics import show_mechanics
from aiida_boroglass.cli.screening import show_screening
from aiida_boroglass.cli.study_plots import show_study


#: Workflows that make a glass and report its properties alike.
GLASS_WORKFLOWS = ('boroglass.melt_quench', 'boroglass.aimd')


def entry_point(node) -> str | None:
    """Workflow entry point of a process node (``boroglass.screening``), else None."""
    return (getattr(node, 'process_type', None) or '').rpartition(':')[2] or None


def glass_label(node) -> str:
    """The composition of a melt-quench (classical or AIMD), else the node's class and PK."""
    if entry_point(node) in GLASS_WORKFLOWS and 'composition' in node.inputs:
        return node.inputs.composition.label_text
    return f'{node.__class__.__name__}<{node.pk}>'


def finished(nodes: Sequence) -> list:
    """The nodes that finished successfully; say which did not; none: exit status 1."""
    done = [node for node in nodes if node.is_finished_ok]
    for node in nodes:
        if not node.is_finished_ok:
            state = f'exit status {node.exit_status}' if node.is_finished else node.process_state.value
            click.echo(f'{node.process_label}<{node.pk}> did not finish ({state}): see `verdi process report {node.pk}`')
    if not done:
        raise click.ClickException('no finished result to tabulate')
    return done


def show_transport(nodes: Sequence, output: Path) -> bool:
    """Table of ``boroglass.diffusion`` workflows; ``transport.json``, ``msd.png`` and ``arrhenius.png``."""
    from aiida_boroglass.cli.transport_plots import plot_transport, transport_rows, transport_table

    done = finished(nodes)
    rows = [row for node in done for row in transport_rows(node.label or f'{node.process_label}<{node.pk}>', node)]
    click.echo(transport_table(rows))
    output.mkdir(parents=True, exist_ok=True)
    (output / 'transport.json').write_text(json.dumps([row['table'] for row in rows], indent=2))
    plots = plot_transport(rows, output)
    click.echo(f'table: {output / "transport.json"}\nplots: {", ".join(str(path) for path in plots)}')
    return len(done) == len(nodes)


def show_hopping(nodes: Sequence, output: Path) -> bool:
    """Table of ``boroglass.hopping`` workflows; ``hopping.json`` and the plots (one sub-folder per workflow if several)."""
    from aiida_boroglass.cli.hopping_plots import hopping_table, plot_hopping

    done = finished(nodes)
    for node in done:
        folder = output if len(done) == 1 else output / str(node.pk)
        summary = node.outputs.summary.get_dict()
        click.echo(hopping_table(summary))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / 'hopping.json').write_text(json.dumps(summary, indent=2))
        plots = plot_hopping(summary, folder)
        click.echo(f'table: {folder / "hopping.json"}\nplots: {", ".join(str(path) for path in plots.values())}')
    return len(done) == len(nodes)


def show_medium_range(nodes: Sequence, output: Path) -> bool:
    """Table of ``boroglass.medium_range`` workflows, one row per glass; ``medium_range.json`` and comparison plots."""
    from aiida_boroglass.cli.medium_range_plots import medium_range_row, medium_range_table, plot_medium_range

    done = finished(nodes)
    labels = [node.label or glass_label(node.inputs.glass) for node in done]
    for label, node in zip(labels, done):
        click.echo(f'{label}: {node.process_label}<{node.pk}>')
    rows = [medium_range_row(label, node) for label, node in zip(labels, done)]
    click.echo(medium_range_table(rows))
    output.mkdir(parents=True, exist_ok=True)
    (output / 'medium_range.json').write_text(json.dumps([row['table'] for row in rows], indent=2))
    for path in plot_medium_range(rows, output):
        click.echo(f'plot: {path}')
    return len(done) == len(nodes)


def show_panel(nodes: Sequence, output: Path) -> bool:
    """Headline numbers and plots of ``boroglass.structure_panel`` workflows (one sub-folder per panel if several)."""
    from aiida_boroglass.cli.structure_plots import panel_summary, plot_panel

    done = finished(nodes)
    for node in done:
        glass = node.inputs.glass
        click.echo(f'structure panel of {glass.__class__.__name__}<{glass.pk}>: {node.process_label}<{node.pk}>')
        for label, value in panel_summary(node):
            click.echo(f'{label:>42}: {value}')
        for path in plot_panel(node, output if len(done) == 1 else output / str(node.pk), _experiment_curve(node)):
            click.echo(f'plot: {path}')
    return len(done) == len(nodes)


def _experiment_curve(panel):
    """The measured curve a panel was compared with, as ``(x, y)`` arrays; None if it had none."""
    if 'experiment' not in panel.inputs:
        return None
    from aiida_boroglass.analysis.scattering import read_curve

    with panel.inputs.experiment.as_path() as path:
        return read_curve(path)


#: Entry point of a workflow -> the function that tabulates and plots it.
SHOW = {
    'boroglass.screening': show_screening,
    'boroglass.diffusion': show_transport,
    'boroglass.hopping': show_hopping,
    'boroglass.medium_range': show_medium_range,
    'boroglass.structure_panel': show_panel,
    'boroglass.aimd': show_aimd,
    'boroglass.dft_label': show_labels,
    'boroglass.glass_study': show_study,
    'boroglass.elastic': show_mechanics,
    'boroglass.deformation': show_mechanics,
    'boroglass.fracture': show_mechanics,
}


def show_results(nodes: Sequence, output: Path) -> bool:
    """Tabulate and plot workflows of one kind (any of :data:`SHOW`) into ``output``.

    Returns
    -------
    bool
        Whether every workflow (every glass of a screening) finished successfully.

    Raises
    ------
    Refusal
        Naming ``NODES``: a node that is not one of those workflows, or workflows of several kinds.
    """
    kinds = {entry_point(node) for node in nodes}
    if len(kinds) != 1 or not kinds <= set(SHOW):
        given = ', '.join(f'{node.__class__.__name__}<{node.pk}> ({entry_point(node) or node.node_type})' for node in nodes)
        raise Refusal(f'give workflows of one kind, one of {", ".join(SHOW)}; got {given}', 'NODES')
    return SHOW[kinds.pop()](list(nodes), Path(output))
