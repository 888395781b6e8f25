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


def glass_of(node):
    """The glass a node stands for: a structure, a trajectory, or a melt-quench's production trajectory."""
    from aiida import orm

    if isinstance(node, (orm.StructureData, orm.TrajectoryData)):
        return node
    if node.process_type and node.process_type.endswith('boroglass.melt_quench'):
        if not node.is_finished_ok:
            raise click.BadParameter(f'melt-quench {node.pk} did not finish successfully (exit status {node.exit_status})')
        return node.outputs.trajectory
    raise click.BadParameter(
        f'node {node.pk} is a {node.node_type}; give a StructureData, a TrajectoryData or a boroglass.melt_quench workflow'
    )


def _key_values(values: tuple[str, ...], option: str, convert) -> dict:
    """``('B-O=1.9', ...)`` -> ``{'B-O': 1.9}``; a bad item names the option."""
    result = {}
    for item in values:
        key, sep, value = item.partition('=')
        try:
            if not sep:
                raise ValueError
            result[key.strip()] = convert(value)
        except ValueError:
            raise click.BadParameter(f'{item!r} is not KEY=VALUE', param_hint=option) from None
    return result


def _checked_parameters(given: dict, optional: dict, settings) -> dict:
    """``given`` plus the ``optional`` options that were set (not None), checked by ``settings``.

    Parameters
    ----------
    given : dict
        Parameters always passed.
    optional : dict
        Option values; None means "not given, keep the default".
    settings : callable
        Fills the defaults and raises ValueError on a bad key or value; its message ends the command.
    """
    parameters = {**given, **{key: value for key, value in optional.items() if value is not None}}
    try:
        settings(parameters)
    except ValueError as exc:
        echo.echo_critical(str(exc))
    return parameters


@data_boroglass.command('analyze')
@arguments.NODE()
@click.option('--output', '-o', type=click.Path(file_okay=False), default=None,
              help='Folder for the plots (default: structure-panel-PK).')
@click.option('--cutoff', multiple=True, metavar='PAIR=Å', help='Bond cutoff overriding the first minimum, e.g. B-O=1.9.')
@click.option('--isotope', multiple=True, metavar='EL=MASS', help='Neutron isotope, e.g. B=11 as paper 000 uses.')
@click.option('--q-max-neutron', type=float, default=None, help='Q_max (1/Å) of the neutron data to broaden like.')
@click.option('--q-max-xray', type=float, default=None, help='Q_max (1/Å) of the X-ray data to broaden like.')
@click.option('--max-frames', type=int, default=None, help='Use at most this many frames of a trajectory.')
@click.option('--experiment', type=click.Path(exists=True, dir_okay=False), default=None,
              help='Measured curve, two columns (r in Å or Q in 1/Å).')
@click.option('--quantity', type=click.Choice(['T_neutron', 'D_neutron', 'S_neutron', 'D_xray', 'S_xray']), default=None,
              help='What --experiment holds.')
@decorators.with_dbenv()
def analyze(node, output, cutoff, isotope, q_max_neutron, q_max_xray, max_frames, experiment, quantity):
    """Short-range structure panel of a glass (PK of a melt-quench, structure or trajectory): table and plots."""
    from pathlib import Path

    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_boroglass.analysis.scattering import read_curve
    from aiida_boroglass.cli.structure_plots import panel_summary, plot_panel
    from aiida_boroglass.functions.structure import panel_settings
    from aiida_boroglass.workflows.structure_panel import StructurePanelWorkChain

    glass = glass_of(node)
    parameters = _checked_parameters(
        {'cutoffs_a': _key_values(cutoff, '--cutoff', float), 'isotopes': _key_values(isotope, '--isotope', int)},
        {'q_max_neutron_a': q_max_neutron, 'q_max_xray_a': q_max_xray, 'max_frames': max_frames}, panel_settings)
    if (experiment is None) != (quantity is None):
        echo.echo_critical('--experiment and --quantity must be given together')
    inputs = {'glass': glass, 'parameters': orm.Dict(parameters)}
    curve = None
    if experiment is not None:
        try:
            curve = read_curve(experiment)
        except ValueError as exc:
            echo.echo_critical(str(exc))
        inputs['experiment'] = orm.SinglefileData(Path(experiment).absolute())
        inputs['experiment_quantity'] = orm.Str(quantity)
    _, panel = run_get_node(StructurePanelWorkChain, **inputs)
    if not panel.is_finished_ok:
        echo.echo_critical(f'structure panel {panel.pk} failed (exit status {panel.exit_status})')
    click.echo(f'structure panel of {glass.__class__.__name__}<{glass.pk}>: StructurePanelWorkChain<{panel.pk}>')
    for label, value in panel_summary(panel):
        click.echo(f'{label:>42}: {value}')
    for path in plot_panel(panel, Path(output or f'structure-panel-{node.pk}')):
        click.echo(f'plot: {path}')


@data_boroglass.command('medium-range')
@arguments.NODES()
@click.option('--output', '-o', type=click.Path(file_okay=False), default='medium-range', show_default=True,
              help='Folder for the table (JSON) and the plots.')
@click.option('--cutoff', multiple=True, metavar='PAIR=Å', help='Bond cutoff overriding the first minimum, e.g. B-O=1.9.')
@click.option('--ring-kind', type=click.Choice(['primitive', 'shortest_path']), default=None,
              help='Ring definition (default: primitive).')
@click.option('--max-ring', type=int, default=None, help='Largest ring in atoms, formers + oxygens (default 12).')
@click.option('--max-frames', type=int, default=None, help='Use at most this many frames of a trajectory (default 5).')
@click.option('--cavity-cutoff', type=float, default=None, help='Cavity cutoff radius around every atom, Å (default 2.0).')
@decorators.with_dbenv()
def medium_range(nodes, output, cutoff, ring_kind, max_ring, max_frames, cavity_cutoff):
    """Rings, superstructural units, persistent homology and cavities of glasses (PKs of melt-quenches,
    structures or trajectories): one table row per glass and comparison plots."""
    import json
    from pathlib import Path

    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_boroglass.cli.medium_range_plots import medium_range_row, medium_range_table, plot_medium_range
    from aiida_boroglass.functions.medium_range import medium_range_settings
    from aiida_boroglass.workflows.medium_range import MediumRangeWorkChain

    glasses = [glass_of(node) for node in nodes]
    parameters = _checked_parameters(
        {'cutoffs_a': _key_values(cutoff, '--cutoff', float)},
        {'ring_kind': ring_kind, 'ring_max_atoms': max_ring, 'max_frames': max_frames, 'cavity_cutoff_a': cavity_cutoff},
        medium_range_settings)
    rows = []
    for node, glass in zip(nodes, glasses):
        _, panel = run_get_node(MediumRangeWorkChain, glass=glass, parameters=orm.Dict(parameters))
        if not panel.is_finished_ok:
            echo.echo_critical(f'medium-range panel {panel.pk} failed (exit status {panel.exit_status})')
        click.echo(f'{glass.__class__.__name__}<{glass.pk}>: MediumRangeWorkChain<{panel.pk}>')
        rows.append(medium_range_row(_glass_label(node), panel))
    click.echo(medium_range_table(rows))
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'medium_range.json').write_text(json.dumps([row['table'] for row in rows], indent=2))
    for path in plot_medium_range(rows, folder):
        click.echo(f'plot: {path}')


def _glass_label(node) -> str:
    """The composition of a melt-quench, else the node's class and PK."""
    if node.process_type and node.process_type.endswith('boroglass.melt_quench'):
        return node.inputs.composition.label_text
    return f'{node.__class__.__name__}<{node.pk}>'


@data_boroglass.command('softness')
@arguments.NODES()
@click.option('--test', 'test_pk', type=int, required=True, help='PK (one of NODES) of the held-out glass.')
@click.option('--temperature', type=float, default=None,
              help='Temperature (K) of the runs whose D_cum labels are learnt (default: the coldest).')
@click.option('--species', default='Li', show_default=True, help='The ions classified.')
@click.option('--r-max', type=float, default=None, help='Last radial shell, Å (default 10, paper 004).')
@click.option('--dr', type=float, default=None, help='Shell spacing, Å (default 0.2).')
@click.option('--output', '-o', type=click.Path(file_okay=False), default='softness', show_default=True,
              help='Folder for the summary (JSON) and the plots.')
@decorators.with_dbenv()
def softness(nodes, test_pk, temperature, species, r_max, dr, output):
    """Softness of mobile ions (paper 004): train on glasses, test on a held-out one (PKs of boroglass.diffusion)."""
    import json
    from pathlib import Path

    from aiida import orm

    from aiida_boroglass.cli.transport_plots import plot_softness
    from aiida_boroglass.functions.transport import softness_model, softness_settings
    from aiida_boroglass.workflows.diffusion import temperature_key

    if test_pk not in {node.pk for node in nodes}:
        echo.echo_critical(f'--test {test_pk} must be one of the given nodes {[node.pk for node in nodes]}')
    parameters = _checked_parameters({'test_glass': f'g{test_pk}', 'species': species},
                                     {'r_max_a': r_max, 'dr_a': dr}, softness_settings)
    inputs = {}
    for node in nodes:
        if not (node.process_type or '').endswith('boroglass.diffusion') or not node.is_finished_ok:
            echo.echo_critical(f'node {node.pk} is not a successfully finished boroglass.diffusion workflow')
        temperatures = node.inputs.temperatures_k.get_list()
        key = temperature_key(min(temperatures) if temperature is None else temperature)
        runs = sorted(run for run in node.outputs.d_cum if run.startswith(f'{key}_'))
        if not runs:
            echo.echo_critical(f'diffusion {node.pk} has no runs at {temperature} K; it ran {temperatures}')
        for run in runs:
            inputs[f'g{node.pk}__{run}__structure'] = node.outputs.trajectories[run]
            inputs[f'g{node.pk}__{run}__labels'] = node.outputs.d_cum[run]
    try:
        result, calc = softness_model.run_get_node(parameters=orm.Dict(parameters), **inputs)
    except ValueError as exc:
        echo.echo_critical(str(exc))
    summary = result['summary'].get_dict()
    click.echo(f'softness_model<{calc.pk}>: trained on {len(nodes) - 1} glass(es), tested on {summary["test_glass"]}')
    click.echo(f'{"test accuracy":>22}: {summary["accuracy"]:.3f}\n{"train accuracy":>22}: {summary["train_accuracy"]:.3f}')
    click.echo(f'{"confusion (true x pred)":>22}: {result["model"].get_array("confusion").tolist()}')
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'softness.json').write_text(json.dumps(summary, indent=2))
    for path in plot_softness(result['model'], summary, folder):
        click.echo(f'plot: {path}')
