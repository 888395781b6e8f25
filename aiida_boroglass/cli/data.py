"""``verdi data boroglass``: show what boroglass workflows stored (launching is ``aiida-boroglass``)."""
from __future__ import annotations

from pathlib import Path

import click
from aiida.cmdline.commands.cmd_data import verdi_data
from aiida.cmdline.params import arguments

from aiida_boroglass.cli.errors import Refusal
from aiida_boroglass.cli.launching import with_profile


@verdi_data.group('boroglass')
def data_boroglass():
    """Show glasses and results stored by aiida-boroglass workflows."""


@data_boroglass.command('show')
@arguments.NODE()
@with_profile
def show(node):
    """Show the composition, density, N4 and oxygen speciation of a finished melt-quench (classical or AIMD)."""
    from aiida_boroglass.cli.results import GLASS_WORKFLOWS, entry_point
    from aiida_boroglass.cli.screening import melt_quench_summary

    if entry_point(node) not in GLASS_WORKFLOWS:
        raise Refusal(f'node {node.pk} is a {node.node_type}, not one of the workflows {", ".join(GLASS_WORKFLOWS)}',
                      'NODE')
    if not node.is_finished_ok:
        raise click.ClickException(f'melt-quench {node.pk} did not finish successfully (exit status {node.exit_status})')
    for key, value in melt_quench_summary(node).items():
        click.echo(f'{key:>22}: {value:.4f}' if isinstance(value, float) else f'{key:>22}: {value}')


@data_boroglass.command('table')
@click.argument('nodes', nargs=-1, required=True)
@click.option('--output', '-o', type=click.Path(file_okay=False, path_type=Path), default=None,
              help='Folder for the table (JSON) and the plots (default: boroglass-table-PK).')
@with_profile
def table(nodes, output):
    """Tabulate and plot stored results: screening, diffusion, hopping, medium-range, structure-panel, elastic,
    deformation or fracture workflows.

    NODES are workflows (PK, UUID or label) or the NAME of a screening's group boroglass/NAME
    (e.g. after `verdi archive import`). A screening that was interrupted or failed is
    tabulated from the glasses that finished.
    """
    from aiida_boroglass.cli.archive import resolve_workflows
    from aiida_boroglass.cli.results import show_results

    workflows = resolve_workflows(nodes)
    show_results(workflows, output or Path(f'boroglass-table-{workflows[0].pk}'))


@data_boroglass.command('model')
@arguments.NODE()
@click.option('--output', '-o', type=click.Path(file_okay=False, path_type=Path), default=None,
              help='Folder for the table (JSON) and the plots (default: boroglass-model-PK).')
@with_profile
def model(node, output):
    """RMSE table, learning curves and parity plots of a DeePMD ensemble (the workflow's PK or one model's)."""
    from aiida_boroglass.cli.training import ensemble_of, show_ensemble

    ensemble = ensemble_of(node)
    show_ensemble(ensemble, output or Path(f'boroglass-model-{ensemble.pk}'))


@data_boroglass.command('learning')
@arguments.NODE()
@click.option('--output', '-o', type=click.Path(file_okay=False, path_type=Path), default=None,
              help='Folder for the table (JSON) and the plot (default: boroglass-learning-PK).')
@with_profile
def learning(node, output):
    """Per-iteration table and plot of a concurrent-learning run: explored fractions, labels, RMSEs, wall times."""
    from aiida_boroglass.cli.learning import learning_of, show_learning

    show_learning(learning_of(node), output or Path(f'boroglass-learning-{node.pk}'))
