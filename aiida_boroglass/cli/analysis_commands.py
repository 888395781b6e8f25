"""``aiida-boroglass analyze``, ``medium-range`` and ``softness``: analyses of glasses already made.

The workflows check the options against the glass (cutoffs and isotopes of its elements,
cells wide enough); the medium-range command also builds the persistent homology of the
last frame before launching, so that a cell too small for it is refused, not failed.
"""
from __future__ import annotations

import json
from pathlib import Path

import click
from aiida.cmdline.params import arguments, types

from aiida_boroglass.cli.errors import Refusal, refusing
from aiida_boroglass.cli.launching import (
    check_launch_options,
    exit_unless,
    launch,
    launch_options,
    validated,
    with_profile,
)
from aiida_boroglass.cli.results import GLASS_WORKFLOWS, entry_point, glass_label, show_results


def set_analysis_code(builder) -> None:
    """Give a panel's builder the Python code ``aiida-boroglass setup`` registered, for its analysis jobs, if any.

    The workflow runs its heavy analyses as jobs only above its ``job_threshold_atom_frames``.
    """
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    from aiida_boroglass.calculations.analysis import PYTHON_CODE_LABEL
    from aiida_boroglass.cli.setup import COMPUTER_LABEL

    try:
        builder.analysis_code = orm.load_code(f'{PYTHON_CODE_LABEL}@{COMPUTER_LABEL}')
    except NotExistent:
        return


def glass_of(node, field: str):
    """The glass a node stands for: a structure, a trajectory, or a (classical or AIMD) melt-quench's production.

    Raises
    ------
    Refusal
        Naming ``field``: another kind of node, or a melt-quench that did not finish.
    """
    from aiida import orm

    if isinstance(node, (orm.StructureData, orm.TrajectoryData)):
        return node
    if entry_point(node) in GLASS_WORKFLOWS:
        if not node.is_finished_ok:
            raise Refusal(f'melt-quench {node.pk} did not finish successfully (exit status {node.exit_status})', field)
        return node.outputs.trajectory
    raise Refusal(f'node {node.pk} is a {node.node_type}; give a StructureData, a TrajectoryData or one of the '
                  f'workflows {", ".join(GLASS_WORKFLOWS)}', field)


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


def _parameters(given: dict, optional: dict, settings=None) -> dict:
    """``given`` plus the ``optional`` options that were set (not None), checked by ``settings`` if given.

    Parameters
    ----------
    given : dict
        Parameters always passed.
    optional : dict
        Option values; None means "not given, keep the default".
    settings : callable, optional
        Fills the defaults and raises ValueError on a bad key or value (naming ``parameters.<key>``);
        for a calcfunction, whose inputs no workflow validates before it runs.
    """
    parameters = {**given, **{key: value for key, value in optional.items() if value is not None}}
    if settings is not None:
        with refusing():
            settings(parameters)
    return parameters


def _check_homology_fits(glass, radii: dict, label: str) -> None:
    """Refuse (naming ``NODES``) a glass whose last frame is too small for the complete periodic persistent homology.

    The workflow refuses a cell narrower than four ball radii; whether the complete filtration
    fits a wider cell is only known by building it, which is done here for the last frame.
    """
    from aiida_boroglass.analysis.homology import persistence_diagram
    from aiida_boroglass.functions.structure import selected_frames

    positions, cells, symbols = selected_frames(glass, 1)
    try:
        persistence_diagram(positions[-1], cells[-1], symbols, radii=radii)
    except (ValueError, RuntimeError):
        raise Refusal(f'{label}: its cell ({len(symbols)} atoms) is too small for the periodic persistent homology '
                      'of the medium-range panel; analyse a glass of more atoms', 'NODES') from None


@click.command()
@arguments.NODE()
@click.option('--output', '-o', type=click.Path(file_okay=False, writable=True, path_type=Path), default=None,
              help='Folder for the plots (default: structure-panel-PK).')
@click.option('--cutoff', multiple=True, metavar='PAIR=Å', help='Bond cutoff overriding the first minimum, e.g. B-O=1.9.')
@click.option('--isotope', multiple=True, metavar='EL=MASS', help='Neutron isotope, e.g. B=11 as paper 000 uses.')
@click.option('--q-max-neutron', type=float, default=None, help='Q_max (1/Å) of the neutron data to broaden like.')
@click.option('--q-max-xray', type=float, default=None, help='Q_max (1/Å) of the X-ray data to broaden like.')
@click.option('--max-frames', type=int, default=None, help='Use at most this many frames of a trajectory.')
@click.option('--experiment', type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='Measured curve, two columns (r in Å or Q in 1/Å).')
@click.option('--quantity', type=click.Choice(['T_neutron', 'D_neutron', 'S_neutron', 'D_xray', 'S_xray']), default=None,
              help='What --experiment holds.')
@launch_options
@with_profile
def analyze(node, output, cutoff, isotope, q_max_neutron, q_max_xray, max_frames, experiment, quantity, daemon, wait):
    """Short-range structure panel of a glass (melt-quench, structure or trajectory: PK, UUID or label): table and plots."""
    from aiida import orm

    from aiida_boroglass.workflows.structure_panel import StructurePanelWorkChain

    check_launch_options(daemon, wait)
    glass = glass_of(node, 'NODE')
    parameters = _parameters(
        {'cutoffs_a': _key_values(cutoff, '--cutoff', float), 'isotopes': _key_values(isotope, '--isotope', int)},
        {'q_max_neutron_a': q_max_neutron, 'q_max_xray_a': q_max_xray, 'max_frames': max_frames})
    builder = StructurePanelWorkChain.get_builder()
    with refusing():
        set_analysis_code(builder)
        builder.glass = glass
        builder.parameters = orm.Dict(parameters)
        builder.metadata.label = glass_label(node)
        if experiment is not None:
            builder.experiment = orm.SinglefileData(experiment.absolute())
        if quantity is not None:
            builder.experiment_quantity = orm.Str(quantity)
    panel = launch(validated(builder), daemon, wait)
    if panel is not None:
        exit_unless(show_results([panel], output or Path(f'structure-panel-{node.pk}')))


@click.command('medium-range')
@arguments.NODES(required=True)
@click.option('--output', '-o', type=click.Path(file_okay=False, writable=True, path_type=Path),
              default=Path('medium-range'), show_default=True, help='Folder for the table (JSON) and the plots.')
@click.option('--cutoff', multiple=True, metavar='PAIR=Å', help='Bond cutoff overriding the first minimum, e.g. B-O=1.9.')
@click.option('--ring-kind', type=click.Choice(['primitive', 'shortest_path']), default=None,
              help='Ring definition (default: primitive).')
@click.option('--max-ring', type=int, default=None, help='Largest ring in atoms, formers + oxygens (default 12).')
@click.option('--max-frames', type=int, default=None, help='Use at most this many frames of a trajectory (default 5).')
@click.option('--cavity-cutoff', type=float, default=None, help='Cavity cutoff radius around every atom, Å (default 2.0).')
@launch_options
@with_profile
def medium_range(nodes, output, cutoff, ring_kind, max_ring, max_frames, cavity_cutoff, daemon, wait):
    """Rings, superstructural units, persistent homology and cavities of glasses (melt-quenches, structures or
    trajectories: PK, UUID or label): one table row per glass and comparison plots."""
    from aiida import orm

    from aiida_boroglass.functions.medium_range import medium_range_settings
    from aiida_boroglass.workflows.medium_range import MediumRangeWorkChain

    check_launch_options(daemon, wait)
    parameters = _parameters(
        {'cutoffs_a': _key_values(cutoff, '--cutoff', float)},
        {'ring_kind': ring_kind, 'ring_max_atoms': max_ring, 'max_frames': max_frames, 'cavity_cutoff_a': cavity_cutoff})
    builders = []
    for node in nodes:
        glass = glass_of(node, 'NODES')
        builder = MediumRangeWorkChain.get_builder()
        with refusing():
            set_analysis_code(builder)
            builder.glass = glass
            builder.parameters = orm.Dict(parameters)
            builder.metadata.label = glass_label(node)
        builders.append(validated(builder))
        _check_homology_fits(glass, medium_range_settings(parameters)['radii_a'], glass_label(node))
    panels = [launch(builder, daemon, wait) for builder in builders]
    if all(panel is not None for panel in panels):
        exit_unless(show_results(panels, output))


@click.command('softness')
@arguments.WORKFLOWS(required=True)
@click.option('--test', 'test_glass', type=types.WorkflowParamType(), required=True,
              help='The held-out glass: one of WORKFLOWS (PK, UUID or label).')
@click.option('--temperature', type=float, default=None,
              help='Temperature (K) of the runs whose D_cum labels are learnt (default: the coldest).')
@click.option('--species', default='Li', show_default=True, help='The ions classified.')
@click.option('--r-max', type=float, default=None, help='Last radial shell, Å (default 10, paper 004).')
@click.option('--dr', type=float, default=None, help='Shell spacing, Å (default 0.2).')
@click.option('--output', '-o', type=click.Path(file_okay=False, writable=True, path_type=Path),
              default=Path('softness'), show_default=True, help='Folder for the summary (JSON) and the plots.')
@with_profile
def softness(workflows, test_glass, temperature, species, r_max, dr, output):
    """Softness of mobile ions (paper 004): train on glasses, test on a held-out one (boroglass.diffusion workflows).

    Runs here (a calcfunction), not in the daemon.
    """
    from aiida import orm

    from aiida_boroglass.cli.transport_plots import plot_softness
    from aiida_boroglass.functions.transport import softness_model, softness_settings

    if test_glass.pk not in {node.pk for node in workflows}:
        raise Refusal(f'{test_glass.pk} must be one of the given workflows {[node.pk for node in workflows]}', '--test')
    if len({node.pk for node in workflows}) < 2:
        raise Refusal('the --test glass is held out: give at least one other diffusion workflow to train on', 'WORKFLOWS')
    parameters = _parameters({'test_glass': f'g{test_glass.pk}', 'species': species},
                             {'r_max_a': r_max, 'dr_a': dr}, softness_settings)
    inputs = {}
    for node in workflows:
        inputs.update(_softness_inputs(node, temperature))
    try:
        result, calc = softness_model.run_get_node(parameters=orm.Dict(parameters), **inputs)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if not calc.is_finished_ok:
        raise click.ClickException(f'softness_model<{calc.pk}> failed (exit status {calc.exit_status}): {calc.exit_message}')
    summary = result['summary'].get_dict()
    click.echo(f'softness_model<{calc.pk}>: trained on {len(workflows) - 1} glass(es), tested on {summary["test_glass"]}')
    click.echo(f'{"test accuracy":>22}: {summary["accuracy"]:.3f}\n{"train accuracy":>22}: {summary["train_accuracy"]:.3f}')
    click.echo(f'{"confusion (true x pred)":>22}: {result["model"].get_array("confusion").tolist()}')
    output.mkdir(parents=True, exist_ok=True)
    (output / 'softness.json').write_text(json.dumps(summary, indent=2))
    for path in plot_softness(result['model'], summary, output):
        click.echo(f'plot: {path}')


def _softness_inputs(node, temperature: float | None) -> dict:
    """Trajectories and D_cum labels of a diffusion workflow's runs at ``temperature`` (default: its coldest)."""
    from aiida_boroglass.workflows.diffusion import temperature_key

    if entry_point(node) != 'boroglass.diffusion' or not node.is_finished_ok:
        raise Refusal(f'node {node.pk} is not a successfully finished boroglass.diffusion workflow', 'WORKFLOWS')
    temperatures = node.inputs.temperatures_k.get_list()
    key = temperature_key(min(temperatures) if temperature is None else temperature)
    runs = sorted(run for run in node.outputs.d_cum if run.startswith(f'{key}_'))
    if not runs:
        raise Refusal(f'diffusion {node.pk} has no runs at {temperature} K; it ran {temperatures}', '--temperature')
    inputs = {}
    for run in runs:
        inputs[f'g{node.pk}__{run}__structure'] = node.outputs.trajectories[run]
        inputs[f'g{node.pk}__{run}__labels'] = node.outputs.d_cum[run]
    return inputs
