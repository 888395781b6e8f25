"""The ``aiida-boroglass`` command: set up, inspect compositions, screen composition grids."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
import numpy as np
import yaml

from aiida_boroglass.glass.composition import Composition, CompositionError
from aiida_boroglass.workflows.protocols.utils import recursive_merge

PROTOCOLS = ('fast', 'balanced', 'stringent')


def parse_x_values(text: str) -> list[float]:
    """Read ``0.1,0.2,0.3`` or ``0:1:0.25`` (start:stop:step, stop included) into floats in [0, 1].

    Raises ``click.BadParameter`` naming ``--x``.
    """
    try:
        if ':' in text:
            start, stop, step = (float(token) for token in text.split(':'))
            if not step > 0:
                raise click.BadParameter(f'the step of {text!r} must be > 0', param_hint='--x')
            values = [round(v, 10) for v in np.arange(start, stop + 0.5 * step, step)]
        else:
            values = [float(token) for token in text.split(',') if token.strip()]
    except ValueError:
        raise click.BadParameter(
            f'{text!r} is not a comma-separated list of numbers or start:stop:step', param_hint='--x'
        ) from None
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
    from aiida import load_profile

    from aiida_boroglass.cli.screening import format_table, plot_screening

    x_values = parse_x_values(x_text)
    try:
        glasses = {composition_key(x): Composition.parse(spec, x=x) for x in x_values}
    except CompositionError as exception:
        raise click.BadParameter(str(exception), param_hint='SPEC/--x') from None
    load_profile()
    overrides = yaml.safe_load(overrides.read_text()) if overrides else {}
    overrides.update({k: v for k, v in {'n_atoms': atoms, 'forcefield': forcefield}.items() if v is not None})
    node = _screen_glasses(glasses, protocol, overrides, max_concurrent, daemon)
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


def _screen_glasses(glasses: dict, protocol: str, overrides: dict, max_concurrent: int, daemon: bool):
    """Melt-quench every composition of ``glasses`` (key -> Composition) in one screening; return its node."""
    from aiida import orm

    from aiida_boroglass.data.composition import CompositionData
    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain
    from aiida_boroglass.workflows.screening import ScreeningWorkChain

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
    return node


def _launch(builder, daemon: bool, total: int | None = None, finished=None, what: str = 'MD phases'):
    """Run the builder here, or submit it and show a progress bar of ``finished(node)`` out of ``total``.

    The default counts finished melt-quench MD phases of a screening (4 per glass).
    """
    from aiida.engine import run_get_node, submit

    if not daemon:
        return run_get_node(builder).node
    node = submit(builder)
    total = 4 * len(builder.compositions) if total is None else total
    finished = finished or _finished_phases
    with click.progressbar(length=total, label=f'{node.process_label}<{node.pk}> {what}') as bar:
        done = 0
        while not node.is_terminated:
            time.sleep(5)
            count = finished(node)
            bar.update(count - done)
            done = count
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


@main.command()
@click.argument('spec')
@click.option('--x', 'x_text', required=True, help='x values: 0,0.2,0.4 or start:stop:step, e.g. 0:1:0.1.')
@click.option('--protocol', type=click.Choice(PROTOCOLS), default='balanced', show_default=True,
              help='fast: 20^3 sites, 2 landscapes; balanced: 50^3, 5; stringent (paper 003): 100^3, 20.')
@click.option('--size', type=click.IntRange(min=3), default=None, help='Ion sites per axis (default: the protocol\'s).')
@click.option('--landscapes', type=click.IntRange(min=1), default=None, help='Landscapes averaged per glass.')
@click.option('--temperatures', default=None, help='sigma_dc at these temperatures in K, e.g. 300,400,500; "" for none.')
@click.option('--v0', type=float, default=None, help='Energy scale V0 in eV (default 0.64, paper 003 Li series).')
@click.option('--sigma-eps', type=float, default=None, help='Site-energy noise in units of V0 (default 0.42).')
@click.option('--nu', type=float, default=None, help='Attempt frequency in Hz (default 1e13).')
@click.option('--n4-borate', type=float, default=None,
              help='N4 of the binary alkali borate at the same alkali content (model source; default 0.5).')
@click.option('--units', 'units_file', type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='YAML {x: {B4: .., B3: .., P2: ..}}: measured NFU concentrations per former atom.')
@click.option('--from-panel', 'panels', default=None,
              help='Comma-separated PKs of finished structure panels, one per --x value: simulated NFU units.')
@click.option('--experiment', 'experiment_file', type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help='YAML {activation_energy_ev: {x: E_a}, sigma_s_cm: {x: {T: sigma}}}.')
@click.option('--fit-energies', is_flag=True, help='Fit V0 and sigma_eps to the measured E_a at x = 0 and 1.')
@click.option('--fit-nu', is_flag=True, help='Adapt nu per glass to the measured sigma_dc.')
@click.option('--daemon', is_flag=True, help='Submit to the daemon and follow progress instead of running here.')
@click.option('--output', type=click.Path(path_type=Path), default=Path('boroglass-hopping'), show_default=True,
              help='Folder for the table (JSON) and the plots.')
def hopping(spec, x_text, protocol, size, landscapes, temperatures, v0, sigma_eps, nu, n4_borate, units_file,
            panels, experiment_file, fit_energies, fit_nu, daemon, output):
    """E_a(x) and sigma_dc(x, T) of SPEC = y M2O-(1-y)[x B2O3-(1-x) P2O5] from the site-energy hopping model."""
    from aiida import load_profile, orm

    from aiida_boroglass.cli.hopping import panel_units, read_yaml_mapping, units_by_key
    from aiida_boroglass.cli.hopping_plots import hopping_table, plot_hopping
    from aiida_boroglass.workflows.hopping import HoppingWorkChain

    x_values = parse_x_values(x_text)
    try:
        glasses = {composition_key(x): Composition.parse(spec, x=x) for x in x_values}
    except CompositionError as exception:
        raise click.BadParameter(str(exception), param_hint='SPEC/--x') from None
    if units_file and panels:
        raise click.BadParameter('give measured units or structure panels, not both', param_hint='--units/--from-panel')
    parameters = {key: value for key, value in {
        'size': size, 'n_landscapes': landscapes, 'v0_ev': v0, 'sigma_eps': sigma_eps, 'nu_hz': nu,
        'n4_borate': n4_borate, 'temperatures_k': _temperatures(temperatures),
        'fit_energies': fit_energies or None, 'fit_nu': fit_nu or None}.items() if value is not None}
    load_profile()
    units = units_by_key(units_file, dict(zip(glasses, x_values))) if units_file else None
    if panels:
        units = panel_units(panels, {key: glass.label for key, glass in glasses.items()})
    source = 'measured' if units_file else 'simulated' if panels else 'model'
    builder = HoppingWorkChain.get_builder_from_protocol(
        {key: glass.label for key, glass in glasses.items()}, protocol=protocol,
        overrides={'nfu_source': source, 'parameters': parameters})
    if units:
        builder.units = {key: value if isinstance(value, orm.Dict) else orm.Dict(value) for key, value in units.items()}
    if experiment_file:
        builder.experiment = orm.Dict(read_yaml_mapping(experiment_file, '--experiment'))
    error = HoppingWorkChain.spec().inputs.validate(builder._inputs(prune=True))
    if error:
        raise click.ClickException(str(error))
    started = time.time()
    node = _launch(builder, daemon, total=len(glasses), finished=_finished_transports, what='glasses')
    click.echo(f'{node.process_label}<{node.pk}> finished with exit status {node.exit_status} '
               f'after {time.time() - started:.0f} s')
    if 'summary' not in node.outputs:
        raise click.ClickException(f'{node.exit_message or "no summary"}; see `verdi process report {node.pk}`')
    summary = node.outputs.summary.get_dict()
    click.echo(hopping_table(summary))
    output.mkdir(parents=True, exist_ok=True)
    (output / 'hopping.json').write_text(json.dumps(summary, indent=2))
    plots = plot_hopping(summary, output)
    click.echo(f'table: {output / "hopping.json"}\nplots: {", ".join(str(path) for path in plots.values())}')


def _temperatures(text: str | None) -> list[float] | None:
    """``'300,400'`` -> [300.0, 400.0]; None keeps the protocol's; raise naming ``--temperatures``."""
    if text is None:
        return None
    try:
        return [float(token) for token in text.split(',') if token.strip()]
    except ValueError:
        raise click.BadParameter(f'{text!r} is not a comma-separated list of temperatures in K',
                                 param_hint='--temperatures') from None


def _finished_transports(node) -> int:
    """Number of finished hopping_transport calcfunctions below a hopping workflow."""
    from aiida import orm

    query = orm.QueryBuilder()
    query.append(orm.WorkflowNode, filters={'id': node.pk}, tag='hopping')
    query.append(orm.CalcFunctionNode, with_incoming='hopping',
                 filters={'attributes.function_name': 'hopping_transport', 'attributes.process_state': 'finished'})
    return query.count()


def _field_vector(text: str | None) -> list[float] | None:
    """``'0,0,0.05'`` -> [0.0, 0.0, 0.05] (V/Å); raise naming ``--field``."""
    if text is None:
        return None
    try:
        vector = [float(token) for token in text.split(',')]
    except ValueError:
        vector = []
    if len(vector) != 3 or not any(vector):
        raise click.BadParameter(f'{text!r} is not three comma-separated numbers in V/Å, not all zero', param_hint='--field')
    return vector


def _replica_glasses(spec: str, x_values: list[float], replicas: int, protocol: str, overrides: dict,
                     max_concurrent: int, daemon: bool) -> list:
    """Melt-quench ``replicas`` independent glasses of every x (packing and velocity seeds shifted per replica)."""
    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

    try:
        glasses = {composition_key(x): Composition.parse(spec, x=x) for x in x_values}
    except CompositionError as exception:
        raise click.BadParameter(str(exception), param_hint='SPEC/--x') from None
    defaults = MeltQuenchWorkChain.get_protocol_inputs(protocol, overrides)
    nodes = []
    for replica in range(replicas):
        seeds = {'packing': {'seed': defaults['packing']['seed'] + 1009 * replica},
                 'md': {'seed': defaults['md']['seed'] + 1009 * replica}}
        screening = _screen_glasses(glasses, protocol, recursive_merge(overrides, seeds), max_concurrent, daemon)
        children = [link.node for link in screening.base.links.get_outgoing().all() if link.link_label in glasses]
        failed = [child.label for child in children if not child.is_finished_ok]
        if failed:
            raise click.ClickException(f'melt-quench failed for {failed}; see `verdi process report {screening.pk}`')
        nodes += children
    return nodes


def _melt_quenches(pks: tuple[int, ...]) -> list:
    """Load finished ``boroglass.melt_quench`` nodes; raise naming ``--glass`` otherwise."""
    from aiida import orm

    nodes = []
    for pk in pks:
        try:
            node = orm.load_node(pk)
        except Exception as exception:  # noqa: BLE001 - aiida raises several kinds
            raise click.BadParameter(f'{pk}: {exception}', param_hint='--glass') from None
        if not (node.process_type or '').endswith('boroglass.melt_quench') or not node.is_finished_ok:
            raise click.BadParameter(f'{pk} is not a successfully finished boroglass.melt_quench', param_hint='--glass')
        nodes.append(node)
    return nodes


def _replica_groups(nodes: list) -> dict[str, list]:
    """Melt-quenches grouped by composition label: the replicas of each glass, in PK order."""
    groups: dict[str, list] = {}
    for node in sorted(nodes, key=lambda n: n.pk):
        groups.setdefault(node.inputs.composition.label_text, []).append(node)
    for label, group in groups.items():
        if any(node.outputs.forcefield.get_dict() != group[0].outputs.forcefield.get_dict() for node in group):
            raise click.BadParameter(f'the replicas of {label} ({[n.pk for n in group]}) have different force fields '
                                     '(atom counts or force-field names differ)', param_hint='--glass')
    return groups


def _finished_runs(node) -> int:
    """Number of finished LAMMPS runs below a diffusion workflow."""
    from aiida import orm

    query = orm.QueryBuilder()
    query.append(orm.WorkflowNode, filters={'id': node.pk}, tag='transport')
    query.append(orm.WorkflowNode, with_incoming='transport', filters={'attributes.process_state': 'finished'})
    return query.count()


@main.command()
@click.argument('spec', required=False)
@click.option('--x', 'x_text', default=None, help='x values of SPEC: 0.38,0.45 or start:stop:step.')
@click.option('--glass', 'glass_pks', type=int, multiple=True,
              help='PK of a finished melt-quench (repeatable); several of one composition are its replicas.')
@click.option('--replicas', type=click.IntRange(min=1), default=1, show_default=True,
              help='Independent glasses made per composition of SPEC (packing and velocity seeds shifted).')
@click.option('--protocol', type=click.Choice(PROTOCOLS), default='fast', show_default=True,
              help='Transport protocol (and melt-quench protocol for SPEC): fast 50 ps, balanced 200 ps, stringent 1 ns.')
@click.option('--temperatures', default=None, help='NVT temperatures in K, e.g. 700,750,800 (default: the protocol\'s).')
@click.option('--field', 'field_text', default=None,
              help='Also run in a field (V/Å), e.g. 0,0,0.05, at the hottest temperature.')
@click.option('--freeze-network', is_flag=True,
              help='Hold the network atoms fixed in the field run (paper 000); they cage the ions at small fields.')
@click.option('--haven-ratio', type=float, default=None, help='Haven ratio in Nernst-Einstein (default 1).')
@click.option('--overrides', type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='YAML replacing the transport protocol\'s values (keys of diffusion.yaml default_inputs).')
@click.option('--glass-overrides', type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='YAML replacing the melt-quench protocol\'s values, e.g. {density_g_cm3: 2.35} for borophosphates.')
@click.option('--max-concurrent', type=click.IntRange(min=1), default=2, show_default=True,
              help='LAMMPS runs (and melt-quenches) at the same time.')
@click.option('--daemon', is_flag=True, help='Submit to the daemon and follow progress instead of running here.')
@click.option('--output', type=click.Path(path_type=Path), default=Path('boroglass-transport'), show_default=True,
              help='Folder for the table (JSON) and the plots.')
def diffusion(spec, x_text, glass_pks, replicas, protocol, temperatures, field_text, freeze_network, haven_ratio, overrides,
              glass_overrides, max_concurrent, daemon, output):
    """Ion transport of glasses: D(T), E_a, D and sigma at 300 K (Nernst-Einstein), optional field drift.

    Give SPEC with --x to melt-quench the glasses first, or --glass PKs of finished melt-quenches.
    """
    from aiida import load_profile, orm

    from aiida_boroglass.cli.transport_plots import plot_transport, transport_rows, transport_table
    from aiida_boroglass.workflows.diffusion import DiffusionWorkChain

    if bool(spec) != bool(x_text):
        raise click.BadParameter('give SPEC together with --x', param_hint='SPEC/--x')
    if not spec and not glass_pks:
        raise click.BadParameter('give SPEC and --x, or --glass PK', param_hint='SPEC/--glass')
    x_values = parse_x_values(x_text) if x_text else []
    transport = yaml.safe_load(overrides.read_text()) if overrides else {}
    parameters = {'haven_ratio': haven_ratio} if haven_ratio is not None else {}
    field = _field_vector(field_text)
    transport = recursive_merge(transport, {
        'max_concurrent': max_concurrent, 'parameters': parameters,
        **({'temperatures_k': _temperatures(temperatures)} if temperatures else {}),
        **({'field': {'efield_v_a': field, 'freeze_network': freeze_network}} if field else {}),
    })
    load_profile()
    code = orm.load_code('lmp@localhost')
    nodes = _melt_quenches(glass_pks)
    if spec:
        made = yaml.safe_load(glass_overrides.read_text()) if glass_overrides else {}
        nodes += _replica_glasses(spec, x_values, replicas, protocol, made, max_concurrent, daemon)
    rows = []
    for label, group in _replica_groups(nodes).items():
        builder = DiffusionWorkChain.get_builder_from_protocol(
            code, [node.outputs.structure for node in group], group[0].outputs.forcefield, protocol, transport)
        error = DiffusionWorkChain.spec().inputs.validate(builder._inputs(prune=True))
        if error:
            raise click.ClickException(f'{label}: {error}')
        started = time.time()
        total = len(builder.temperatures_k) * len(group) + (len(group) if field else 0)
        node = _launch(builder, daemon, total=total, finished=_finished_runs, what='LAMMPS runs')
        click.echo(f'{label}: {node.process_label}<{node.pk}> finished with exit status {node.exit_status} '
                   f'after {time.time() - started:.0f} s ({len(group)} replica(s): {[n.pk for n in group]})')
        if not node.is_finished_ok:
            raise click.ClickException(f'{node.exit_message}; see `verdi process report {node.pk}`')
        rows += transport_rows(label, node)
    click.echo(transport_table(rows))
    output.mkdir(parents=True, exist_ok=True)
    (output / 'transport.json').write_text(json.dumps([row['table'] for row in rows], indent=2))
    plots = plot_transport(rows, output)
    click.echo(f'table: {output / "transport.json"}\nplots: {", ".join(str(path) for path in plots)}')
