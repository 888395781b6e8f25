"""The ``aiida-boroglass`` command: set up, inspect compositions, screen composition grids."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import yaml

from aiida_boroglass.glass.composition import Composition, CompositionError

PROTOCOLS = ('fast', 'balanced', 'stringent')


def parse_x_values(text: str) -> list[float]:
    """Read ``0.1,0.2,0.3`` into floats in [0, 1]; raise ``click.BadParameter`` naming ``--x``."""
    try:
        values = [float(token) for token in text.split(',') if token.strip()]
    except ValueError:
        raise click.BadParameter(f'{text!r} is not a comma-separated list of numbers', param_hint='--x') from None
    bad = [v for v in values if not 0.0 <= v <= 1.0]
    if not values or bad:
        raise click.BadParameter(f'values must lie in [0, 1], got {bad or text!r}', param_hint='--x')
    return values


def composition_key(x: float) -> str:
    """Identifier of a grid point used as link label, e.g. ``x0300`` for x = 0.3."""
    return f'x{int(round(x * 1000)):04d}'


@click.group()
def main():
    """Simulate and screen alkali borate, borophosphate and borosilicate glasses with AiiDA."""


@main.command()
@click.option('--profile', 'profile_name', default=None, help='Profile to use or create (default: the default one).')
def setup(profile_name):
    """Create an embedded AiiDA profile if none exists, the local computer and the engine codes."""
    from aiida import load_profile

    from aiida_boroglass.cli.setup import ensure_codes, ensure_computer, ensure_profile

    name = ensure_profile(profile_name)
    load_profile(name, allow_switch=True)
    computer = ensure_computer()
    found = ensure_codes(computer)
    click.echo(f'profile: {name}')
    click.echo(f'computer: {computer.label}')
    for label, path in found.items():
        click.echo(f'code: {label}@{computer.label} -> {path}')
    missing = {'lmp', 'packmol'} - set(found)
    if missing:
        raise click.ClickException(f'required engines not found: {sorted(missing)}; install with pip install ".[engines]"')


@main.command()
@click.argument('spec')
@click.option('--x', 'x', type=float, default=None, help='Value of x in the composition, if it has one.')
@click.option('--atoms', type=int, default=None, help='Report integer atom counts for this many atoms.')
@click.option('--json', 'as_json', is_flag=True, help='Print JSON instead of text.')
def composition(spec, x, atoms, as_json):
    """Parse a composition SPEC: oxide fractions, R, K, density and atom counts."""
    try:
        glass = Composition.parse(spec, x=x)
        counts = glass.atom_counts(atoms) if atoms else None
    except CompositionError as exception:
        raise click.ClickException(str(exception)) from None
    density = _optional(glass.density)
    data = {
        'label': glass.label, 'fractions': glass.fractions,
        'R': _optional(lambda: glass.ratio_r), 'K': _optional(lambda: glass.ratio_k),
        'density_g_cm3': density.value_g_cm3 if density else None,
        'density_source': density.source if density else 'none tabulated: pass a density',
        'reference_n4': (glass.reference_n4() or (None,))[0],
    }
    if counts:
        data.update(counts=counts.counts, n_atoms=counts.n_atoms, max_fraction_deviation=counts.max_deviation)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        click.echo(f'{key:>24}: {value}')


def _optional(getter):
    """Value of ``getter()``, or ``None`` when the composition has no such ratio."""
    try:
        return getter()
    except CompositionError:
        return None


@main.command()
@click.argument('spec')
@click.option('--x', 'x_text', required=True, help='Comma-separated x values, e.g. 0.1,0.2,0.3,0.4.')
@click.option('--protocol', type=click.Choice(PROTOCOLS), default='fast', show_default=True)
@click.option('--atoms', type=int, default=None, help='Atoms per glass (default: the protocol\'s).')
@click.option('--forcefield', type=click.Choice(('deng_du', 'shik')), default=None,
              help='Force field (default: the protocol\'s, deng_du).')
@click.option('--max-concurrent', type=int, default=2, show_default=True, help='Glasses run at the same time.')
@click.option('--overrides', type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='YAML file of values replacing the protocol\'s (keys of melt_quench.yaml default_inputs).')
@click.option('--daemon', is_flag=True, help='Submit to the daemon and follow progress instead of running here.')
@click.option('--output', type=click.Path(path_type=Path), default=Path('boroglass-results'), show_default=True,
              help='Folder for the table (CSV, JSON) and the plot.')
def screen(spec, x_text, protocol, atoms, forcefield, max_concurrent, overrides, daemon, output):
    """Melt-quench SPEC at every --x and tabulate density, N4 and NBO fraction."""
    from aiida import load_profile, orm

    from aiida_boroglass.cli.screening import format_table, plot_screening
    from aiida_boroglass.data.composition import CompositionData
    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain
    from aiida_boroglass.workflows.screening import ScreeningWorkChain

    x_values = parse_x_values(x_text)
    try:
        glasses = {composition_key(x): Composition.parse(spec, x=x) for x in x_values}
    except CompositionError as exception:
        raise click.BadParameter(str(exception), param_hint='SPEC/--x') from None
    load_profile()
    overrides = yaml.safe_load(overrides.read_text()) if overrides else {}
    overrides.update({k: v for k, v in {'n_atoms': atoms, 'forcefield': forcefield}.items() if v is not None})
    code = orm.load_code('lmp@localhost')
    first = next(iter(glasses.values()))
    single = MeltQuenchWorkChain.get_builder_from_protocol(code, first, protocol=protocol, overrides=overrides)
    builder = ScreeningWorkChain.get_builder()
    builder.compositions = {key: CompositionData(glass) for key, glass in glasses.items()}
    builder.max_concurrent = max_concurrent
    builder.melt_quench = {k: v for k, v in single._inputs(prune=True).items() if k != 'composition'}
    started = time.time()
    node = _launch(builder, daemon)
    click.echo(f'{node.process_label}<{node.pk}> finished with exit status {node.exit_status} '
               f'after {time.time() - started:.0f} s')
    rows = screening_rows(node, dict(zip(map(composition_key, x_values), x_values)))
    if not rows:
        raise click.ClickException('no glass finished; see `verdi process report {}`'.format(node.pk))
    click.echo(format_table(rows))
    output.mkdir(parents=True, exist_ok=True)
    (output / 'screening.json').write_text(json.dumps(rows, indent=2))
    plot = plot_screening(rows, output / 'screening.png', x_label=f'x in {spec}')
    click.echo(f'table: {output / "screening.json"}\nplot: {plot}')
    if not node.is_finished_ok:
        sys.exit(1)


def _launch(builder, daemon: bool):
    """Run the builder here, or submit it and show a progress bar of finished MD phases."""
    from aiida.engine import run_get_node, submit

    if not daemon:
        return run_get_node(builder).node
    node = submit(builder)
    total = 4 * len(builder.compositions)
    with click.progressbar(length=total, label=f'{node.process_label}<{node.pk}> MD phases') as bar:
        done = 0
        while not node.is_terminated:
            time.sleep(5)
            finished = _finished_phases(node)
            bar.update(finished - done)
            done = finished
    return node


def _finished_phases(node) -> int:
    """Number of finished melt-quench MD phases below a screening node."""
    from aiida import orm

    query = orm.QueryBuilder()
    query.append(orm.WorkflowNode, filters={'id': node.pk}, tag='screen')
    query.append(orm.WorkflowNode, with_incoming='screen', tag='glass')
    query.append(orm.WorkflowNode, with_incoming='glass', filters={'attributes.process_state': 'finished'})
    return query.count()


def screening_rows(node, x_of_key: dict[str, float]) -> list[dict]:
    """Table rows of a finished screening: summary values, x, reference density and N4, wall time (s)."""
    if 'summary' not in node.outputs:
        return []
    children = {link.link_label: link.node for link in node.base.links.get_outgoing().all()
                if link.link_label in x_of_key}
    rows = []
    for row in node.outputs.summary['rows']:
        child = children[row['key']]
        glass = Composition.from_dict({'fractions': row['fractions'], 'label': row['composition']})
        rows.append({**row, 'x': x_of_key[row['key']],
                     'reference_density_g_cm3': getattr(_optional(glass.density), 'value_g_cm3', None),
                     'reference_n4': (glass.reference_n4() or (None,))[0],
                     'wall_time_s': (child.mtime - child.ctime).total_seconds()})
    return rows
