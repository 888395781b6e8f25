"""``verdi data boroglass``: inspect finished boroglass workflows."""
from __future__ import annotations

import click
from aiida.cmdline.commands.cmd_data import verdi_data
from aiida.cmdline.params import arguments
from aiida.cmdline.utils import decorators, echo


@verdi_data.group('boroglass')
def data_boroglass():
    """Inspect glasses made by aiida-boroglass workflows."""


def melt_quench_summary(node) -> dict:
    """Key results of a finished ``boroglass.melt_quench`` node (units in the keys)."""
    outputs = node.outputs
    return {
        'composition': node.inputs.composition.label_text,
        'n_atoms': len(outputs.structure.sites),
        'forcefield': node.inputs.forcefield.value,
        'density_g_cm3': outputs.density_g_cm3.value,
        'n4': outputs.boron['n4'],
        'mean_b_coordination': outputs.boron['mean_coordination'],
        'cutoff_bo_a': outputs.boron['cutoff_bo_a'],
        'bo_fraction': outputs.oxygen['bo_fraction'],
        'nbo_fraction': outputs.oxygen['nbo_fraction'],
        'free_o_fraction': outputs.oxygen['free_fraction'],
        'production_frames': outputs.trajectory.numsteps,
        'wall_time_s': round((node.mtime - node.ctime).total_seconds(), 1),
    }


@data_boroglass.command('show')
@arguments.NODE()
@decorators.with_dbenv()
def show(node):
    """Show the composition, density, N4 and oxygen speciation of a finished melt-quench."""
    if node.process_type is None or not node.process_type.endswith('boroglass.melt_quench'):
        echo.echo_critical(f'node {node.pk} is a {node.node_type}, not a boroglass.melt_quench workflow')
    if not node.is_finished_ok:
        echo.echo_critical(f'melt-quench {node.pk} did not finish successfully (exit status {node.exit_status})')
    for key, value in melt_quench_summary(node).items():
        click.echo(f'{key:>22}: {value:.4f}' if isinstance(value, float) else f'{key:>22}: {value}')
