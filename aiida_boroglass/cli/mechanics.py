"""``aiida-boroglass mechanics``: elastic constants, deformation and fracture of a glass, their table and plots.

The command takes finished melt-quenches (``--glass``; several of one composition are its
replicas), builds ``boroglass.elastic``, one ``boroglass.deformation`` per loading mode and
``boroglass.fracture`` from their protocols, validates every builder before anything is
launched, runs them one after the other (or submits them; fracture takes E and nu from the
elastic run, so it follows it) and ends with :func:`show_mechanics`, which
``verdi data boroglass table PK`` calls again on stored workflows.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import click
from aiida.cmdline.params import types

from aiida_boroglass.cli.errors import Refusal, refusing
from aiida_boroglass.cli.launching import (
    LAMMPS_CODE,
    Progress,
    check_launch_options,
    code_option,
    count_finished,
    engine_code,
    exit_unless,
    job_options,
    launch,
    launch_options,
    validated,
    with_profile,
)
from aiida_boroglass.cli.overrides import checked_overrides, read_yaml_mapping
from aiida_boroglass.cli.plotting import text_table
from aiida_boroglass.cli.screening import spread_text
from aiida_boroglass.workflows.protocols.utils import recursive_merge

#: Loading modes of ``boroglass.deformation``, each a flag of the command.
DEFORMATION_MODES = ('tension', 'compression', 'triaxial')
#: Axes ``--directions`` accepts (those of the ``deform`` stage).
AXES = ('x', 'y', 'z')
#: Section of the ``--overrides`` file shared by every deformation mode (a mode's own section wins).
COMMON_DEFORMATION = 'deformation'

#: ``average`` keys of ``boroglass.elastic`` in the table, and of ``boroglass.deformation``.
ELASTIC_QUANTITIES = ('youngs_modulus_gpa', 'poisson_ratio', 'bulk_modulus_hill_gpa', 'shear_modulus_hill_gpa')
DEFORMATION_QUANTITIES = ('strength_gpa', 'strain_at_strength', 'initial_modulus_gpa')
#: ``average`` keys of ``boroglass.fracture`` -> the row's keys (its peak stress is the strength column).
FRACTURE_QUANTITIES = {'k_ic_mpa_m05': 'k_ic_mpa_m05', 'g_c_j_m2': 'g_c_j_m2', 'peak_stress_gpa': 'strength_gpa',
                       'strain_at_peak': 'strain_at_strength', 'crack_area_a2': 'crack_area_a2'}
#: E and nu that stand in for the elastic result while the fracture builder is checked, before the elastic run.
ELASTIC_STAND_IN = {'youngs_modulus_gpa': 1.0, 'poisson_ratio': 0.0}

#: Table columns: (title, row key, format); a key with a ``<key>_std`` in the row shows ``mean ± std``.
COLUMNS = (
    ('glass', 'glass', '{}'),
    ('run', 'run', '{}'),
    ('PK', 'pk', '{}'),
    ('n', 'n_runs', '{}'),
    ('E (GPa)', 'youngs_modulus_gpa', '{:.1f}'),
    ('nu', 'poisson_ratio', '{:.3f}'),
    ('B (GPa)', 'bulk_modulus_hill_gpa', '{:.1f}'),
    ('G (GPa)', 'shear_modulus_hill_gpa', '{:.1f}'),
    ('strength (GPa)', 'strength_gpa', '{:.2f}'),
    ('strain at max stress', 'strain_at_strength', '{:.3f}'),
    ('initial slope (GPa)', 'initial_modulus_gpa', '{:.1f}'),
    ('K_IC (MPa m^0.5)', 'k_ic_mpa_m05', '{:.3f}'),
    ('softness accuracy', 'softness_accuracy', '{:.2f}'),
)
#: Columns shown only when a row has their key (a fracture row; one run with ``softness``).
OPTIONAL_COLUMNS = ('k_ic_mpa_m05', 'softness_accuracy')
#: ``softness_summary`` keys of ``boroglass.fracture`` copied into its row.
SOFTNESS_KEYS = ('species', 'held_out', 'accuracy', 'train_accuracy', 'n_atoms', 'n_switched', 'final_strain',
                 'final_switched_fraction', 'mean_softness')


def parse_directions(text: str | None) -> list[str] | None:
    """``'x,z'`` -> ``['x', 'z']``: distinct axes among x, y, z; None stays None; refuse naming ``--directions``."""
    if text is None:
        return None
    directions = [token.strip() for token in text.split(',')]
    if not set(directions) <= set(AXES) or len(set(directions)) != len(directions):
        raise Refusal(f'{text!r} is not a comma-separated list of distinct axes among {", ".join(AXES)} (e.g. x,y,z)',
                      '--directions')
    return directions


def selected_runs(elastic: bool, modes: Mapping[str, bool], fracture: bool = False) -> list[str]:
    """The runs the flags ask for, in launch order: ``elastic`` (also when no flag is given, and for
    ``fracture``, which needs its E and nu), the modes set, ``fracture``."""
    chosen = [mode for mode in DEFORMATION_MODES if modes.get(mode)]
    return (['elastic'] if elastic or fracture or not chosen else []) + chosen + (['fracture'] if fracture else [])


def workflow_of(run: str):
    """The workflow class of a run: ``elastic``, ``fracture`` or a deformation mode."""
    from aiida_boroglass.workflows.mechanics.deformation import DeformationWorkChain
    from aiida_boroglass.workflows.mechanics.elastic import ElasticWorkChain
    from aiida_boroglass.workflows.mechanics.fracture import FractureWorkChain

    return {'elastic': ElasticWorkChain, 'fracture': FractureWorkChain}.get(run, DeformationWorkChain)


def protocol_references(protocol: str) -> dict[str, dict]:
    """What each section of an ``--overrides`` file may hold: the protocol inputs of its workflow."""
    deformation = workflow_of(COMMON_DEFORMATION).get_protocol_inputs(protocol)
    return {run: workflow_of(run).get_protocol_inputs(protocol) for run in ('elastic', 'fracture')} | \
        {COMMON_DEFORMATION: deformation, **{mode: deformation for mode in DEFORMATION_MODES}}


def mechanics_overrides(path: Path | None, protocol: str, runs: Sequence[str], directions: list[str] | None,
                        max_concurrent: int | None) -> dict[str, dict]:
    """Overrides of each run (``elastic``, a mode or ``fracture`` -> protocol overrides), from the file and the options.

    The YAML file ``path`` has the sections ``elastic``, ``fracture``, ``deformation`` (every
    mode) and ``tension``, ``compression``, ``triaxial`` (one mode, over ``deformation``), each checked
    against its workflow's protocol inputs. ``--directions`` and ``--max-concurrent`` replace the
    file's values; the mode of a run is its flag's, so a section may not set ``mode``.

    Raises
    ------
    Refusal
        Naming ``--overrides``: an unknown section or key, a value of the wrong kind, a ``mode``.
    """
    sections = checked_overrides(read_yaml_mapping(path, '--overrides'), protocol_references(protocol),
                                 '--overrides') if path else {}
    for name, section in sections.items():
        if 'mode' in section:
            raise Refusal(f'{name}.mode: the mode of a run is chosen by --tension, --compression or --triaxial',
                          '--overrides')
    options = {} if max_concurrent is None else {'max_concurrent': max_concurrent}
    values = {}
    for run in runs:
        if run in ('elastic', 'fracture'):
            values[run] = recursive_merge(sections.get(run, {}), options)
            continue
        mode = {'mode': run, **({'directions': directions} if directions else {})}
        values[run] = recursive_merge(recursive_merge(sections.get(COMMON_DEFORMATION, {}), sections.get(run, {})),
                                      {**options, **mode})
    return values


def replica_glass(nodes: Sequence) -> tuple[str, list]:
    """``(composition label, melt-quenches)`` of the ``--glass`` nodes: finished melt-quenches of one glass.

    Raises
    ------
    Refusal
        Naming ``--glass``: a node that is not a finished melt-quench, replicas of different
        compositions or potentials.
    """
    from aiida_boroglass.cli.launcher import _melt_quenches, _replica_groups

    groups = _replica_groups(_melt_quenches(nodes))
    if len(groups) > 1:
        given = '; '.join(f'{label}: {[node.pk for node in group]}' for label, group in groups.items())
        raise Refusal(f'the glasses must be replicas of one composition, got {given}; run the command once per glass',
                      '--glass')
    return next(iter(groups.items()))


def mechanics_builders(code, label: str, glasses: Sequence, protocol: str, overrides: Mapping[str, dict],
                       options: dict | None = None) -> dict:
    """Validated builders, run name (``elastic``, a mode, ``fracture``) -> builder, on the replicas ``glasses``.

    Nothing is stored. The fracture builder is checked with E and nu of :data:`ELASTIC_STAND_IN`:
    :func:`launch_runs` gives it the elastic run's result.

    Parameters
    ----------
    code : AbstractCode
        LAMMPS.
    label : str
        The glass, the label of every workflow.
    glasses : sequence of WorkflowNode
        Finished melt-quenches of one glass: their structures are the replicas, their
        potential (force field or DeePMD ensemble) that of every run.
    protocol : str
    overrides : Mapping
        Run name -> protocol overrides (:func:`mechanics_overrides`).
    options : dict, optional
        Scheduler options of the LAMMPS jobs.
    """
    from aiida import orm

    from aiida_boroglass.cli.analysis_commands import set_analysis_code
    from aiida_boroglass.cli.launcher import glass_potential

    forcefield, ensemble = glass_potential(glasses[0])
    structures = [node.outputs.structure for node in glasses]
    builders = {}
    for run, values in overrides.items():
        with refusing():
            builder = workflow_of(run).get_builder_from_protocol(code, structures, forcefield, protocol, values, options,
                                                                 ensemble=ensemble)
            builder.metadata.label = label
            if 'analysis_code' in builder._port_namespace:  # the workflows whose analyses may run as jobs
                set_analysis_code(builder)
            if run == 'fracture':
                builder.elastic = orm.Dict(ELASTIC_STAND_IN)
        builders[run] = validated(builder)
    return builders


def run_progress(builder) -> Progress:
    """Progress of one workflow of the command: its LAMMPS runs (for fracture, those to ``max_strain``)."""
    replicas = len(builder.structures)
    if 'strain_step' in builder:  # fracture: a relaxation and one run per strain step, per replica
        steps = int(round(builder.max_strain.value / builder.strain_step.value)) + 1
        return Progress(replicas * (1 + steps), count_finished, 'LAMMPS runs (at most)')
    if 'strain_steps' in builder:  # elastic: a reference and 12 strained cells per strain step, per replica
        return Progress(replicas * (2 + 12 * builder.strain_steps.value), count_finished, 'LAMMPS runs')
    directions = 1 if builder.mode.value == 'triaxial' else len(builder.directions.get_list())
    return Progress(replicas * directions, count_finished, 'LAMMPS runs')


def launch_runs(builders: Mapping, daemon: bool, wait: bool) -> list:
    """Launch the builders in order (:func:`launch`); the fracture run gets the elastic run's ``average``.

    Returns
    -------
    list
        The terminated nodes (None for each one submitted without ``wait``); without a
        finished elastic run the fracture run is not launched, and said so.
    """
    nodes = {}
    for run, builder in builders.items():
        if run == 'fracture':
            elastic = nodes['elastic']
            if not elastic.is_finished_ok:
                click.echo(f'fracture not launched: it needs E and nu of {elastic.process_label}<{elastic.pk}>, which '
                           f'did not finish', err=True)
                continue
            builder.elastic = elastic.outputs.average
        nodes[run] = launch(builder, daemon, wait, run_progress(builder))
    return list(nodes.values())


@click.command('mechanics')
@click.option('--glass', 'glasses', type=types.WorkflowParamType(), multiple=True, required=True,
              help='A finished melt-quench, PK, UUID or label (repeatable): several of one composition are its replicas.')
@click.option('--elastic', is_flag=True, help='Elastic constants: E, nu, B, G (boroglass.elastic); the default.')
@click.option('--tension', is_flag=True, help='Uniaxial tension (boroglass.deformation).')
@click.option('--compression', is_flag=True, help='Uniaxial compression (boroglass.deformation).')
@click.option('--triaxial', is_flag=True, help='Triaxial compression (boroglass.deformation).')
@click.option('--fracture', is_flag=True,
              help='Fracture toughness K_IC of the pre-cracked glass (boroglass.fracture); implies --elastic (E, nu).')
@click.option('--softness', is_flag=True,
              help='With the fracture run (implies --fracture): bond switching of B along the strain and its softness '
                   '(paper 004), trained on one replica and tested on another (one replica: its half along x); '
                   'settings in the fracture section of --overrides, key softness.')
@click.option('--protocol', type=click.Choice(('fast', 'balanced', 'stringent')), default='fast', show_default=True,
              help='Protocol of every workflow (docs/mechanics.md: rates, strains, sizes, costs).')
@click.option('--directions', 'directions_text', default=None,
              help='Loaded axes of tension and compression, e.g. x,y,z (default: the protocol\'s).')
@click.option('--max-concurrent', type=click.IntRange(min=1), default=None,
              help='LAMMPS runs of a workflow at the same time (default: the protocol\'s, 2).')
@click.option('--overrides', type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='YAML with sections elastic, fracture, deformation (every mode), tension, compression, triaxial, '
                   'each replacing values of its protocol (keys of elastic.yaml, fracture.yaml, deformation.yaml '
                   'default_inputs).')
@code_option('--lammps-code', 'LAMMPS', LAMMPS_CODE, 'boroglass.lammps')
@job_options
@launch_options
@click.option('--output', '-o', type=click.Path(file_okay=False, writable=True, path_type=Path),
              default=Path('boroglass-mechanics'), show_default=True, help='Folder for the table (JSON) and the plots.')
@with_profile
def mechanics(glasses, elastic, tension, compression, triaxial, fracture, softness, protocol, directions_text,
              max_concurrent, overrides, lammps_code, options, daemon, wait, output):
    """Elastic constants, tension, compression, triaxial compression and fracture toughness of a glass: table and plots.

    Every workflow is checked before the first is launched; they then run one after the other
    (or are submitted with --daemon). The table gives E, nu, B, G, per mode the strength and the
    strain at maximum stress, and K_IC, mean ± standard deviation over replicas (and directions).
    """
    check_launch_options(daemon, wait)
    fracture = fracture or softness
    if fracture and daemon and not wait:
        raise Refusal('--fracture needs E and nu of the elastic run: add --wait, or submit --elastic first', '--daemon')
    runs = selected_runs(elastic, {'tension': tension, 'compression': compression, 'triaxial': triaxial}, fracture)
    values = mechanics_overrides(overrides, protocol, runs, parse_directions(directions_text), max_concurrent)
    if softness:
        values['fracture'] = recursive_merge({'softness': {}}, values['fracture'])
    label, group = replica_glass(glasses)
    builders = mechanics_builders(engine_code(lammps_code, LAMMPS_CODE), label, group, protocol, values, options)
    nodes = launch_runs(builders, daemon, wait)
    if nodes and all(node is not None for node in nodes):
        exit_unless(show_mechanics(nodes, output))


# --- table --------------------------------------------------------------------------------------


def glass_of(node) -> tuple[str, ...]:
    """What identifies the glass of a mechanics workflow: the UUIDs of its input replicas, sorted."""
    return tuple(sorted(structure.uuid for structure in node.inputs.structures.values()))


def _statistics(average: Mapping, quantities: Sequence[str] | Mapping[str, str]) -> dict:
    """``{name: mean, name_std: std}`` of the ``{q: {mean, std}}`` entries of a workflow's ``average`` output.

    ``quantities`` are the keys ``q``, or a mapping of them to the row's ``name``; otherwise ``name = q``.
    """
    names = quantities if isinstance(quantities, Mapping) else {quantity: quantity for quantity in quantities}
    values = {}
    for quantity, name in names.items():
        values[name] = average[quantity]['mean']
        values[f'{name}_std'] = average[quantity]['std']
    return values


def mechanics_row(node) -> dict:
    """JSON-ready row of one finished ``boroglass.elastic``, ``boroglass.deformation`` or ``boroglass.fracture`` node.

    Returns
    -------
    dict
        ``glass`` (label), ``run`` (``elastic``, the mode or ``fracture``), ``pk``, ``n_runs``
        (replicas, or replicas x directions), the table quantities (GPa, MPa m^0.5, J/m^2, Å^2 or
        dimensionless, units in the keys) with ``<key>_std`` (ddof 1; None for one run), and
        ``per_run``: each replica's (run's) own values; a fracture run with ``softness`` adds
        ``softness_accuracy`` (on the held-out atoms) and ``softness`` (:data:`SOFTNESS_KEYS` of its summary).
    """
    outputs = node.outputs
    row = {'glass': node.label or node.inputs.structures[sorted(node.inputs.structures)[0]].get_formula(),
           'pk': node.pk}
    if 'elastic' in outputs:
        average = outputs.average.get_dict()
        per_run = {key: {q: outputs.elastic[key][q] for q in ELASTIC_QUANTITIES} for key in sorted(outputs.elastic)}
        return {**row, 'run': 'elastic', 'route': node.inputs.route.value, 'n_runs': len(per_run),
                **_statistics(average, ELASTIC_QUANTITIES), 'per_run': per_run}
    if 'fracture' in outputs:
        per_run = {key: {q: outputs.fracture[key][q] for q in FRACTURE_QUANTITIES} for key in sorted(outputs.fracture)}
        average = outputs.average.get_dict() if 'average' in outputs else {  # no replica separated
            quantity: {'mean': None, 'std': None} for quantity in FRACTURE_QUANTITIES}
        row = {**row, 'run': 'fracture', 'n_runs': len(per_run), 'elastic': node.inputs.elastic.get_dict(),
               **_statistics(average, FRACTURE_QUANTITIES), 'per_run': per_run}
        if 'softness_summary' in outputs:
            summary = outputs.softness_summary.get_dict()
            row.update(softness_accuracy=summary['accuracy'], softness={key: summary[key] for key in SOFTNESS_KEYS})
        return row
    average = outputs.average.get_dict()
    per_run = {key: {q: outputs.properties[key][q] for q in DEFORMATION_QUANTITIES} for key in sorted(outputs.properties)}
    return {**row, 'run': node.inputs.mode.value, 'n_runs': len(per_run),
            'strain_rate_per_ps': node.inputs.strain_rate_per_ps.value, 'temperature_k': node.inputs.temperature_k.value,
            **_statistics(average, DEFORMATION_QUANTITIES), 'per_run': per_run}


def mechanics_table(rows: Sequence[dict]) -> str:
    """Fixed-width text table of :func:`mechanics_row` rows: averaged quantities as ``mean ± std``, missing as ``-``.

    The K_IC and softness columns only when a row has them (:data:`OPTIONAL_COLUMNS`).
    """
    columns = [column for column in COLUMNS
               if column[1] not in OPTIONAL_COLUMNS or any(column[1] in row for row in rows)]
    shown = [{key: spread_text(row[key], row.get(f'{key}_std'), fmt) if key in row and fmt != '{}' else row.get(key)
              for _, key, fmt in columns} for row in rows]
    return text_table([(title, key, '{}') for title, key, _ in columns], shown)


def show_mechanics(nodes: Sequence, output: Path) -> bool:
    """Table of ``boroglass.elastic``, ``boroglass.deformation`` and ``boroglass.fracture`` workflows; ``mechanics.json``
    and the plots.

    One row per workflow; the plots of the deformation and fracture runs of each glass (the
    workflows on the same replicas) go to ``output``, or to ``output/<PK of its first workflow>``
    when there are several glasses.
    """
    from aiida_boroglass.cli.mechanics_plots import plot_deformation, plot_fracture
    from aiida_boroglass.cli.results import finished

    done = finished(nodes)
    rows = [mechanics_row(node) for node in done]
    click.echo(mechanics_table(rows))
    output.mkdir(parents=True, exist_ok=True)
    (output / 'mechanics.json').write_text(json.dumps(rows, indent=2))
    click.echo(f'table: {output / "mechanics.json"}')
    glasses: dict[tuple, list] = {}
    for node in done:
        glasses.setdefault(glass_of(node), []).append(node)
    for group in glasses.values():
        folder = output if len(glasses) == 1 else output / str(group[0].pk)
        deformation = {f'{node.inputs.mode.value} (PK {node.pk})': node for node in group if 'mode' in node.inputs}
        plots = plot_deformation(deformation, folder) if deformation else []
        plots += [path for node in group if 'k_ic' in node.outputs for path in plot_fracture(node, folder)]
        if plots:
            click.echo(f'plots: {", ".join(str(path) for path in plots)}')
    return len(done) == len(nodes)
