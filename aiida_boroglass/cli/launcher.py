"""The ``aiida-boroglass`` command: set up, inspect compositions, and launch every workflow.

Each launching command reads and checks its options, builds and validates every builder it
will launch (:func:`aiida_boroglass.cli.launching.validated`), and only then launches, so a
refused input is one line and stores nothing. It ends with the table and plots of
:mod:`aiida_boroglass.cli.results`, which ``verdi data boroglass table PK`` prints again later.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import click
import numpy as np
from aiida.cmdline.params import types

from aiida_boroglass.cli.aimd import aimd
from aiida_boroglass.cli.archive import export
from aiida_boroglass.cli.labelling import label
from aiida_boroglass.cli.learning import learn
from aiida_boroglass.cli.mechanics import mechanics
from aiida_boroglass.cli.datasets import dataset
from aiida_boroglass.cli.analysis_commands import analyze, medium_range, set_analysis_code, softness
from aiida_boroglass.cli.errors import OneLineGroup, Refusal, refusing
from aiida_boroglass.cli.launching import (
    LAMMPS_CODE,
    Progress,
    check_launch_options,
    count_finished,
    engine_code,
    exit_unless,
    field_vector,
    job_options,
    launch,
    launch_options,
    md_code_options,
    md_codes,
    validated,
    with_profile,
)
from aiida_boroglass.cli.overrides import read_overrides, read_yaml_mapping
from aiida_boroglass.cli.screening import composition_key
from aiida_boroglass.cli.training import train
from aiida_boroglass.glass.composition import Composition
from aiida_boroglass.glass.replicas import REPLICA_RANGE, replica_seed
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


def parse_glasses(spec: str, x_values: list[float]) -> dict[str, Composition]:
    """The composition of ``spec`` at every x, keyed by :func:`composition_key`; refuse naming ``SPEC/--x``."""
    with refusing('SPEC/--x'):
        return {composition_key(x): Composition.parse(spec, x=x) for x in x_values}


def parse_glass(spec: str) -> dict[str, Composition]:
    """The one composition of ``spec`` (no x), keyed ``glass``; refuse naming ``SPEC``."""
    with refusing('SPEC'):
        return {'glass': Composition.parse(spec)}


def _output_option(default: str):
    """``--output``: a folder (refused before the run if it is a file) for the table and the plots."""
    return click.option('--output', '-o', type=click.Path(file_okay=False, writable=True, path_type=Path),
                        default=Path(default), show_default=True, help='Folder for the table (JSON) and the plots.')


#: ``--overrides`` of the commands that melt-quench glasses.
MELT_QUENCH_OVERRIDES = click.option(
    '--overrides', type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
    help='YAML file of values replacing the protocol\'s (keys of melt_quench.yaml default_inputs).')
#: ``--atoms`` of the commands that melt-quench glasses.
ATOMS_PER_GLASS = click.option('--atoms', type=click.IntRange(min=1), default=None,
                               help='Atoms per glass (default: the protocol\'s).')


@click.group(cls=OneLineGroup)
def main():
    """Simulate and screen alkali borate, borophosphate and borosilicate glasses with AiiDA.

    Every command that launches a workflow runs it here (Ctrl-C stops it) or, with --daemon,
    submits it; `verdi data boroglass table PK` shows the results of any of them later.
    """


main.add_command(aimd)
main.add_command(analyze)
main.add_command(label)
main.add_command(dataset)
main.add_command(medium_range)
main.add_command(softness)
main.add_command(train)
main.add_command(learn)
main.add_command(export)
main.add_command(mechanics)


@main.command()
@click.option('--profile', 'profile_name', default=None, help='Profile to use or create (default: the default one).')
@click.option('--slurm', is_flag=True,
              help='Also the computer localhost-slurm and its codes: jobs through the one-node Slurm cluster of '
                   'scripts/slurm.sh (docs/cluster.md).')
def setup(profile_name, slurm):
    """Create an embedded AiiDA profile if none exists, the local computer and the engine codes."""
    import shutil

    from aiida import load_profile

    from aiida_boroglass.cli.setup import (COMPUTER_LABEL, SLURM_COMPUTER_LABEL, ensure_codes, ensure_computer,
                                           ensure_daemon_timeout, ensure_profile)

    name = ensure_profile(profile_name)
    load_profile(name, allow_switch=True)
    click.echo(f'profile: {name} (daemon.timeout {ensure_daemon_timeout(name)} s)')
    for computer_label in (COMPUTER_LABEL, SLURM_COMPUTER_LABEL) if slurm else (COMPUTER_LABEL,):
        computer = ensure_computer(label=computer_label)
        found = ensure_codes(computer)
        click.echo(f'computer: {computer.label}')
        for label, path in found.items():
            click.echo(f'code: {label}@{computer.label} -> {path}')
    if slurm and shutil.which('sinfo') is None:
        click.echo('note: Slurm is not installed here: install slurm-wlm and munge, then start it with scripts/slurm.sh',
                   err=True)
    missing = {'lmp', 'packmol'} - set(found)
    if missing:
        raise click.ClickException(f'required engines not found: {sorted(missing)}; install with pip install ".[engines]"')


@main.command()
@click.argument('spec')
@click.option('--x', 'x', type=float, default=None, help='Value of x in the composition, if it has one.')
@click.option('--atoms', type=click.IntRange(min=1), default=None, help='Report integer atom counts for this many atoms.')
@click.option('--json', 'as_json', is_flag=True, help='Print JSON instead of text.')
def composition(spec, x, atoms, as_json):
    """Parse a composition SPEC: oxide fractions, R, K, density and atom counts."""
    with refusing('SPEC/--x'):
        glass = Composition.parse(spec, x=x)
    with refusing('--atoms'):
        counts = glass.atom_counts(atoms) if atoms else None
    density = _optional(glass.density)
    data = {
        'label': glass.label, 'fractions': glass.fractions,
        'R': _optional(lambda: glass.ratio_r), 'K': _optional(lambda: glass.ratio_k),
        'density_g_cm3': density.value_g_cm3 if density else None,
        'density_source': density.source if density else 'none tabulated: pass a density',
        'density_warning': density.warning if density else None,
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
    """Value of ``getter()``, or ``None`` when the composition has no such value."""
    try:
        return getter()
    except ValueError:
        return None


# --- screen -------------------------------------------------------------------------------------


def _density_hint(option: str) -> dict[str, str]:
    """How to give ``density_g_cm3`` when a composition has no tabulated one."""
    return {'density_g_cm3': f'give it in the {option} YAML file: density_g_cm3: <g/cm3>'}


def warn_estimated_densities(glasses: Mapping[str, Composition], overrides: Mapping) -> None:
    """Print one ``warning:`` line per glass whose density the molar-volume model extrapolates.

    Nothing when ``overrides`` give ``density_g_cm3``: the user's density is used. Call it once the
    builder is validated, so that a refused launch prints its refusal alone.
    """
    if 'density_g_cm3' in overrides:
        return
    for glass in glasses.values():
        warning = glass.density().warning
        if warning:
            click.echo(f'warning: {warning}', err=True)


def melt_quench_overrides(path: Path | None, protocol: str, option: str, **options) -> dict:
    """Checked melt-quench overrides of the YAML file ``path``, updated by the command's options that were set."""
    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

    values = read_overrides(path, MeltQuenchWorkChain.get_protocol_inputs(protocol), option)
    return recursive_merge(values, {key: value for key, value in options.items() if value is not None})


def screening_builder(label: str, glasses: dict[str, Composition], protocol: str, overrides: dict,
                      max_concurrent: int, option: str = '--overrides', ensemble: dict | None = None,
                      replicas: int = 1, codes: tuple = (None, None), options: dict | None = None,
                      group: str | None = None):
    """A validated builder of a screening that melt-quenches every composition of ``glasses`` (key -> Composition)
    in ``replicas`` independent glasses.

    ``option`` names the overrides file in the hint of a refusal for a missing density;
    ``ensemble`` (``models``, ``deepmd``) replaces the force field by a DeePMD ensemble;
    ``codes`` are the ``--lammps-code`` and ``--packmol-code`` values (:func:`md_codes`) and
    ``options`` the scheduler options of every job (:func:`job_options`); ``group`` names the
    group ``boroglass/<group>`` of the screening (``--name``).
    """
    from aiida_boroglass.data.composition import CompositionData
    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain
    from aiida_boroglass.workflows.screening import ScreeningWorkChain

    code, packmol = md_codes(*codes)
    first = next(iter(glasses.values()))
    with refusing():
        single = MeltQuenchWorkChain.get_builder_from_protocol(
            code, CompositionData(first), protocol=protocol, overrides=overrides, options=options,
            packmol_code=packmol, ensemble=ensemble)
        builder = ScreeningWorkChain.get_builder()
        builder.compositions = {key: CompositionData(glass) for key, glass in glasses.items()}
        builder.max_concurrent = max_concurrent
        builder.replicas = replicas
        builder.melt_quench = {k: v for k, v in single._inputs(prune=True).items() if k != 'composition'}
        builder.metadata.label = label
    if group is not None:
        with refusing('--name'):
            builder.group = group
    return validated(builder, hints=_density_hint(option))


def _screening_progress(glasses, replicas: int = 1) -> Progress:
    """Progress of a screening: the melt-quenches (one per glass and replica) that have finished."""
    return Progress(len(glasses) * replicas, count_finished, 'glasses')


def deepmd_potential(node, model_deviation_every: int) -> dict:
    """The DeePMD potential (``models``, ``deepmd``) of the ensemble ``node``; refuse naming ``--models`` otherwise."""
    from aiida_boroglass.cli.training import ensemble_of
    from aiida_boroglass.workflows.learning.deepmd_ensemble import ensemble_potential

    ensemble = ensemble_of(node, '--models')
    if not ensemble.is_finished_ok:  # a finished ensemble holds every model it was asked for (2 or more)
        raise Refusal(f'ensemble {ensemble.pk} did not finish with all its models trained '
                      f'(exit status {ensemble.exit_status}); train again', '--models')
    return ensemble_potential(ensemble, model_deviation_every)


@main.command()
@click.argument('spec')
@click.option('--x', 'x_text', required=True, help='x values: 0.1,0.2,0.3 or start:stop:step, e.g. 0.1:0.4:0.1.')
@click.option('--protocol', type=click.Choice(PROTOCOLS), default='fast', show_default=True)
@ATOMS_PER_GLASS
@click.option('--forcefield', type=click.Choice(('deng_du', 'shik')), default=None,
              help='Force field (default: the protocol\'s, deng_du).')
@click.option('--models', 'ensemble_node', type=types.WorkflowParamType(), default=None,
              help='A finished `aiida-boroglass train` ensemble, or an `aiida-boroglass learn` loop (its last '
                   'ensemble) (PK): DeePMD MD instead of the force field, with the model deviation every thermo step.')
@click.option('--replicas', type=click.IntRange(*REPLICA_RANGE), default=1, show_default=True,
              help='Independent glasses per composition (packing and velocity seeds shifted); the table shows '
                   'mean ± standard deviation.')
@click.option('--max-concurrent', type=click.IntRange(min=1), default=2, show_default=True,
              help='Glasses run at the same time (the next starts as soon as one ends).')
@click.option('--name', default=None,
              help='Put the screening, its glasses and its summary in the group boroglass/NAME (share it with '
                   '`aiida-boroglass export NAME`; `verdi data boroglass table NAME` tabulates it).')
@MELT_QUENCH_OVERRIDES
@md_code_options
@job_options
@launch_options
@_output_option('boroglass-results')
@with_profile
def screen(spec, x_text, protocol, atoms, forcefield, ensemble_node, replicas, max_concurrent, name, overrides,
           lammps_code, packmol_code, options, daemon, wait, output):
    """Melt-quench SPEC at every --x (in --replicas glasses each) and tabulate density, N4 and NBO fraction."""
    from aiida_boroglass.cli.results import show_results

    check_launch_options(daemon, wait)
    glasses = parse_glasses(spec, parse_x_values(x_text))
    values = melt_quench_overrides(overrides, protocol, '--overrides', n_atoms=atoms, forcefield=forcefield)
    ensemble = None
    if ensemble_node is not None:
        if forcefield is not None:
            raise Refusal('give the potential as --forcefield or as --models (a DeePMD ensemble), not both',
                          '--forcefield/--models')
        from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

        thermo_every = MeltQuenchWorkChain.get_protocol_inputs(protocol, values)['md']['thermo_every']
        ensemble = deepmd_potential(ensemble_node, thermo_every)
    builder = screening_builder(spec, glasses, protocol, values, max_concurrent, ensemble=ensemble, replicas=replicas,
                                codes=(lammps_code, packmol_code), options=options, group=name)
    warn_estimated_densities(glasses, values)
    node = launch(builder, daemon, wait, _screening_progress(glasses, replicas))
    if node is not None:
        exit_unless(show_results([node], output))


# --- study ----------------------------------------------------------------------------------------


def study_builder(spec: str, composition: Composition, ensemble: dict, protocol: str, overrides: dict,
                  replicas: int, max_concurrent: int, codes: tuple = (None, None), options: dict | None = None):
    """A validated ``boroglass.glass_study`` builder of ``composition`` (MLP and classical melt-quenches).

    ``codes`` and ``options`` as :func:`screening_builder`.
    """
    from aiida_boroglass.data.composition import CompositionData
    from aiida_boroglass.workflows.learning.glass_study import GlassStudyWorkChain

    code, packmol = md_codes(*codes)
    with refusing():
        builder = GlassStudyWorkChain.get_builder_from_protocol(
            code, CompositionData(composition), ensemble, protocol=protocol, overrides=overrides,
            packmol_code=packmol, replicas=replicas, options=options)
        builder.max_concurrent = max_concurrent
        builder.metadata.label = f'{spec} study'
    return validated(builder, hints=_density_hint('--overrides'))


@main.command()
@click.argument('spec')
@click.option('--x', 'x_value', type=click.FloatRange(0, 1), default=None, help='x in SPEC (one composition).')
@click.option('--models', 'ensemble_node', type=types.WorkflowParamType(), required=True,
              help='The machine-learnt potential: a finished `aiida-boroglass train` ensemble or `learn` loop (PK).')
@click.option('--replicas', type=click.IntRange(*REPLICA_RANGE), default=3, show_default=True,
              help='Independent glasses per potential.')
@click.option('--protocol', type=click.Choice(PROTOCOLS), default='fast', show_default=True,
              help='Melt-quench protocol of both potentials (cooling rate, sizes: melt_quench.yaml).')
@ATOMS_PER_GLASS
@click.option('--forcefield', type=click.Choice(('deng_du', 'shik')), default=None,
              help='Force field of the classical glasses (default: the protocol\'s, deng_du).')
@click.option('--max-concurrent', type=click.IntRange(min=1), default=2, show_default=True,
              help='Glasses of each potential run at the same time.')
@MELT_QUENCH_OVERRIDES
@md_code_options
@job_options
@launch_options
@_output_option('boroglass-study')
@with_profile
def study(spec, x_value, ensemble_node, replicas, protocol, atoms, forcefield, max_concurrent, overrides, lammps_code,
          packmol_code, options, daemon, wait, output):
    """Paper 001's study: SPEC melt-quenched on a DeePMD ensemble and on the force field, compared.

    Both make --replicas glasses (NPT quench at the protocol's cooling rate); the table gives
    density, N4, NBO fraction, 3-rings and boroxol fraction (mean ± std) side by side, the
    R_chi between their neutron S(Q), and the ensemble's force deviation along the quench.
    """
    from aiida_boroglass.cli.results import show_results
    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

    check_launch_options(daemon, wait)
    with refusing('SPEC/--x'):
        composition = Composition.parse(spec, x=x_value)
    values = melt_quench_overrides(overrides, protocol, '--overrides', n_atoms=atoms, forcefield=forcefield)
    thermo_every = MeltQuenchWorkChain.get_protocol_inputs(protocol, values)['md']['thermo_every']
    ensemble = deepmd_potential(ensemble_node, thermo_every)
    builder = study_builder(spec, composition, ensemble, protocol, values, replicas, max_concurrent,
                            (lammps_code, packmol_code), options)
    warn_estimated_densities({'glass': composition}, values)
    progress = Progress(2 * replicas, lambda node: count_finished(node, levels=2), 'glasses')
    node = launch(builder, daemon, wait, progress)
    if node is not None:
        exit_unless(show_results([node], output))


# --- hopping ------------------------------------------------------------------------------------


def _temperatures(text: str | None) -> list[float] | None:
    """``'300,400'`` -> [300.0, 400.0]; None keeps the protocol's; raise naming ``--temperatures``."""
    if text is None:
        return None
    try:
        values = [float(token) for token in text.split(',') if token.strip()]
    except ValueError:
        values = [math.nan]
    if not all(math.isfinite(value) and value > 0 for value in values):
        raise click.BadParameter(f'{text!r} is not a comma-separated list of temperatures in K (> 0)',
                                 param_hint='--temperatures')
    return values


def glasses_transported(node) -> int:
    """Glasses whose transport a ``boroglass.hopping`` workflow has returned (by calcfunction or job): its progress."""
    from aiida.common.links import LinkType

    return len(node.base.links.get_outgoing(link_type=LinkType.RETURN, link_label_filter='transport__%').all())


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
@click.option('--from-panel', 'panels', type=types.WorkflowParamType(), multiple=True,
              help='A finished structure panel (PK, UUID or label) per --x value, in order (repeat the option): '
                   'simulated NFU units.')
@click.option('--experiment', 'experiment_file', type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help='YAML {activation_energy_ev: {x: E_a}, sigma_s_cm: {x: {T: sigma}}}.')
@click.option('--fit-energies', is_flag=True, help='Fit V0 and sigma_eps to the measured E_a at x = 0 and 1.')
@click.option('--fit-nu', is_flag=True, help='Adapt nu per glass to the measured sigma_dc.')
@launch_options
@_output_option('boroglass-hopping')
@with_profile
def hopping(spec, x_text, protocol, size, landscapes, temperatures, v0, sigma_eps, nu, n4_borate, units_file,
            panels, experiment_file, fit_energies, fit_nu, daemon, wait, output):
    """E_a(x) and sigma_dc(x, T) of SPEC = y M2O-(1-y)[x B2O3-(1-x) P2O5] from the site-energy hopping model."""
    from aiida import orm

    from aiida_boroglass.cli.hopping import panel_units, units_by_key
    from aiida_boroglass.cli.results import show_results
    from aiida_boroglass.workflows.hopping import HoppingWorkChain

    check_launch_options(daemon, wait)
    x_values = parse_x_values(x_text)
    glasses = parse_glasses(spec, x_values)
    if units_file and panels:
        raise Refusal('give measured units or structure panels, not both', '--units/--from-panel')
    parameters = {key: value for key, value in {
        'size': size, 'n_landscapes': landscapes, 'v0_ev': v0, 'sigma_eps': sigma_eps, 'nu_hz': nu,
        'n4_borate': n4_borate, 'temperatures_k': _temperatures(temperatures),
        'fit_energies': fit_energies or None, 'fit_nu': fit_nu or None}.items() if value is not None}
    units = units_by_key(units_file, dict(zip(glasses, x_values))) if units_file else None
    if panels:
        units = panel_units(panels, {key: glass.label for key, glass in glasses.items()})
    source = 'measured' if units_file else 'simulated' if panels else 'model'
    with refusing():
        builder = HoppingWorkChain.get_builder_from_protocol(
            {key: glass.label for key, glass in glasses.items()}, protocol=protocol,
            overrides={'nfu_source': source, 'parameters': parameters})
        set_analysis_code(builder)
        if units:
            builder.units = {key: value if isinstance(value, orm.Dict) else orm.Dict(value) for key, value in units.items()}
        if experiment_file:
            builder.experiment = orm.Dict(read_yaml_mapping(experiment_file, '--experiment'))
        builder.metadata.label = spec
    node = launch(validated(builder), daemon, wait, Progress(len(glasses), glasses_transported, 'glasses'))
    if node is not None:
        exit_unless(show_results([node], output))


# --- diffusion ----------------------------------------------------------------------------------


def _melt_quenches(nodes) -> list:
    """The given nodes, each a successfully finished ``boroglass.melt_quench``; refuse naming ``--glass`` otherwise."""
    from aiida_boroglass.cli.results import entry_point

    for node in nodes:
        if entry_point(node) != 'boroglass.melt_quench' or not node.is_finished_ok:
            raise Refusal(f'{node.pk} is not a successfully finished boroglass.melt_quench', '--glass')
    return list(nodes)


def _replica_groups(nodes: list) -> dict[str, list]:
    """Melt-quenches grouped by composition label: the replicas of each glass, in PK order."""
    groups: dict[str, list] = {}
    for node in sorted(nodes, key=lambda n: n.pk):
        groups.setdefault(node.inputs.composition.label_text, []).append(node)
    for label, group in groups.items():
        if any(potential_key(node) != potential_key(group[0]) for node in group):
            raise Refusal(f'the replicas of {label} ({[n.pk for n in group]}) have different potentials '
                          '(atom counts, force-field names or DeePMD models differ)', '--glass')
    return groups


def glass_potential(node) -> tuple:
    """``(forcefield, ensemble)`` that made the finished melt-quench ``node``: one of them, the other None.

    A classical glass gives its resolved force field (Dict); a DeePMD glass its ensemble
    (``models``: name -> model, ``deepmd``: Dict), which its transport runs reuse.
    """
    if 'forcefield' in node.outputs:
        return node.outputs.forcefield, None
    lammps = node.inputs.md.lammps
    return None, {'models': dict(lammps.models), 'deepmd': lammps.deepmd}


def potential_key(node):
    """What two replicas must share to be one glass: the force-field parameters, or the models' files and settings."""
    forcefield, ensemble = glass_potential(node)
    if forcefield is not None:
        return forcefield.get_dict()
    return sorted(model.uuid for model in ensemble['models'].values()), ensemble['deepmd'].get_dict()


def _replica_screenings(spec: str, x_values: list[float], replicas: int, protocol: str, overrides: dict,
                        max_concurrent: int, codes: tuple, options: dict) -> list:
    """Validated screening builders of ``replicas`` independent glasses per x (packing and velocity seeds shifted).

    ``codes`` and ``options`` as :func:`screening_builder`.
    """
    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

    glasses = parse_glasses(spec, x_values)
    defaults = MeltQuenchWorkChain.get_protocol_inputs(protocol, overrides)
    builders = []
    for replica in range(replicas):
        seeds = {'packing': {'seed': replica_seed(defaults['packing']['seed'], replica)},
                 'md': {'seed': replica_seed(defaults['md']['seed'], replica)}}
        builders.append(screening_builder(spec, glasses, protocol, recursive_merge(overrides, seeds), max_concurrent,
                                          '--glass-overrides', codes=codes, options=options))
    return builders


def _made_glasses(screenings: list, daemon: bool, wait: bool) -> list:
    """Run (or submit and follow) the replica screenings; return their melt-quenches, all finished."""
    from aiida_boroglass.workflows.screening import screening_glasses

    nodes = []
    for builder in screenings:
        screening = launch(builder, daemon, wait, _screening_progress(builder.compositions))
        children = list(screening_glasses(screening).values())
        failed = [child.label for child in children if not child.is_finished_ok]
        if failed:
            raise click.ClickException(f'melt-quench failed for {failed}; see `verdi process report {screening.pk}`')
        nodes += children
    return nodes


def _stand_in_glass(glass: Composition, melt_quench):
    """An unstored structure and force field standing in for a glass that ``melt_quench`` inputs will make.

    It holds the atoms of the composition (on a grid, about 12 Å^3 per atom): what the
    transport inputs are checked against before any glass is made.
    """
    from aiida import orm

    from aiida_boroglass.functions.glass import resolve_forcefield
    from aiida_boroglass.functions.utils import structure_of

    n_atoms = melt_quench.n_atoms.value
    with refusing():
        forcefield = resolve_forcefield(glass, melt_quench.forcefield.value, n_atoms)
        symbols = [symbol for symbol, count in glass.atom_counts(n_atoms).counts.items() for _ in range(count)]
    side, per_axis = (12.0 * len(symbols)) ** (1 / 3), math.ceil(len(symbols) ** (1 / 3))
    index = np.arange(len(symbols))
    grid = np.stack([index % per_axis, (index // per_axis) % per_axis, index // per_axis ** 2], axis=1)
    return structure_of(np.eye(3) * side, symbols, (grid + 0.5) * side / per_axis), orm.Dict(forcefield)


def _transport_overrides(path: Path | None, protocol: str, max_concurrent: int, haven_ratio: float | None,
                         temperatures: list[float] | None, field: list[float] | None, freeze_network: bool) -> dict:
    """Checked transport overrides of the YAML file ``path``, updated by the command's options that were set."""
    from aiida_boroglass.workflows.diffusion import DiffusionWorkChain

    options = {'max_concurrent': max_concurrent}
    if haven_ratio is not None:
        options['parameters'] = {'haven_ratio': haven_ratio}
    if temperatures:
        options['temperatures_k'] = temperatures
    if field:
        options['field'] = {'efield_v_a': field, 'freeze_network': freeze_network}
    values = read_overrides(path, DiffusionWorkChain.get_protocol_inputs(protocol), '--overrides')
    return recursive_merge(values, options)


def diffusion_builder(code, label: str, structures: list, potential: tuple, protocol: str, transport: dict,
                      options: dict | None = None):
    """A validated builder of the transport runs of one glass (its replicas), labelled ``label``.

    ``potential`` is ``(forcefield, ensemble)``, as :func:`glass_potential` gives it; ``options``
    are the scheduler options of the LAMMPS jobs.
    """
    from aiida_boroglass.workflows.diffusion import DiffusionWorkChain

    forcefield, ensemble = potential
    with refusing():
        builder = DiffusionWorkChain.get_builder_from_protocol(code, structures, forcefield, protocol, transport,
                                                               options, ensemble=ensemble)
        set_analysis_code(builder)
        builder.metadata.label = label
    return validated(builder)


def _transport_progress(builder) -> Progress:
    """Progress of a diffusion workflow: its LAMMPS runs (temperatures x replicas, plus the field runs)."""
    replicas = len(builder.structures)
    total = len(builder.temperatures_k) * replicas + (replicas if 'field' in builder else 0)
    return Progress(total, count_finished, 'LAMMPS runs')


@main.command()
@click.argument('spec', required=False)
@click.option('--x', 'x_text', default=None, help='x values of SPEC: 0.38,0.45 or start:stop:step.')
@click.option('--glass', 'glasses', type=types.WorkflowParamType(), multiple=True,
              help='A finished melt-quench, PK, UUID or label (repeatable); several of one composition are its replicas.')
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
              help='YAML replacing the melt-quench protocol\'s values, e.g. {density_g_cm3: 2.35}.')
@click.option('--max-concurrent', type=click.IntRange(min=1), default=2, show_default=True,
              help='LAMMPS runs (and melt-quenches) at the same time.')
@md_code_options
@job_options
@launch_options
@_output_option('boroglass-transport')
@with_profile
def diffusion(spec, x_text, glasses, replicas, protocol, temperatures, field_text, freeze_network, haven_ratio,
              overrides, glass_overrides, max_concurrent, lammps_code, packmol_code, options, daemon, wait, output):
    """Ion transport of glasses: D(T), E_a, D and sigma at 300 K (Nernst-Einstein), optional field drift.

    Give SPEC with --x to melt-quench the glasses first, or --glass of finished melt-quenches.
    """
    from aiida_boroglass.cli.results import show_results

    check_launch_options(daemon, wait)
    if bool(spec) != bool(x_text):
        raise Refusal('give SPEC together with --x', 'SPEC/--x')
    if not spec and not glasses:
        raise Refusal('give SPEC and --x, or --glass of a finished melt-quench', 'SPEC/--glass')
    if spec and daemon and not wait:
        raise Refusal('making the glasses of SPEC first needs --wait (or give --glass of finished melt-quenches)',
                      '--daemon')
    transport = _transport_overrides(overrides, protocol, max_concurrent, haven_ratio, _temperatures(temperatures),
                                     field_vector(field_text, 'V/Å', '0,0,0.05'), freeze_network)
    code = engine_code(lammps_code, LAMMPS_CODE)
    nodes = _melt_quenches(glasses)
    screenings = []
    if spec:
        made = melt_quench_overrides(glass_overrides, protocol, '--glass-overrides')
        screenings = _replica_screenings(spec, parse_x_values(x_text), replicas, protocol, made, max_concurrent,
                                         (code, packmol_code), options)
    for label, structures, potential in _transport_checks(screenings, nodes):
        diffusion_builder(code, label, structures, potential, protocol, transport, options)
    if screenings:
        warn_estimated_densities({key: data.composition for key, data in screenings[0].compositions.items()}, made)
    nodes += _made_glasses(screenings, daemon, wait)
    builders = [diffusion_builder(code, label, [node.outputs.structure for node in group], glass_potential(group[0]),
                                  protocol, transport, options) for label, group in _replica_groups(nodes).items()]
    runs = [launch(builder, daemon, wait, _transport_progress(builder)) for builder in builders]
    if all(run is not None for run in runs):
        exit_unless(show_results(runs, output))


def _transport_checks(screenings: list, nodes: list):
    """``(label, replicas, (forcefield, ensemble))`` of every glass to check the transport inputs against before any is made.

    Glasses still to be made by ``screenings`` (replica screening builders) are stood in for by
    :func:`_stand_in_glass`; the given melt-quenches ``nodes`` are themselves.
    """
    for composition in screenings[0].compositions.values() if screenings else ():
        structure, forcefield = _stand_in_glass(composition.composition, screenings[0].melt_quench)
        yield composition.label_text, [structure] * len(screenings), (forcefield, None)
    for label, group in _replica_groups(nodes).items():
        yield label, [node.outputs.structure for node in group], glass_potential(group[0])
