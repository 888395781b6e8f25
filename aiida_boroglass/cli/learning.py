"""``aiida-boroglass learn`` (concurrent learning of a glass potential), ``verdi data boroglass learning`` (report)."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import click
import numpy as np
from aiida.cmdline.params import types

from aiida_boroglass.cli.aimd import CP2K_CODE
from aiida_boroglass.cli.errors import Refusal, refusing
from aiida_boroglass.cli.launching import (
    Progress,
    check_launch_options,
    LAMMPS_CODE,
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
from aiida_boroglass.cli.overrides import read_overrides
from aiida_boroglass.cli.plotting import pyplot, save_figure, text_table
from aiida_boroglass.cli.training import DP_CODE, LEARNING_PROCESS_TYPE
from aiida_boroglass.workflows.protocols.utils import recursive_merge

#: the labeller's code when --label-code is not given
LABEL_CODES = {'cp2k': CP2K_CODE, 'classical': LAMMPS_CODE}
#: Table columns: (title, row key, format).
LEARNING_COLUMNS = (
    ('iteration', 'iteration', '{}'),
    ('frames', 'dataset_frames', '{:d}'),
    ('explored', 'n_explored', '{:d}'),
    ('trust lo (eV/Å)', 'trust_lo_ev_a', '{:.4f}'),
    ('trust hi (eV/Å)', 'trust_hi_ev_a', '{:.4f}'),
    ('accurate', 'accurate', '{:.1%}'),
    ('candidate', 'candidate', '{:.1%}'),
    ('failed', 'failed', '{:.1%}'),
    ('labels', 'labels_added', '{:d}'),
    ('F RMSE (eV/Å)', 'force_rmse_ev_a_mean', '{:.4f}'),
    ('± (eV/Å)', 'force_rmse_ev_a_std', '{:.4f}'),
    ('E RMSE (meV/atom)', 'energy_rmse_mev_per_atom', '{:.2f}'),
    ('train (s)', 'train_s', '{:.0f}'),
    ('explore (s)', 'explore_s', '{:.0f}'),
    ('select (s)', 'select_s', '{:.1f}'),
    ('label (s)', 'label_s', '{:.0f}'),
    ('AiiDA (s)', 'bookkeeping_s', '{:.1f}'),
)
#: wall-time columns of the report, in the order of the stacked bars, with their legend
STEP_TIMES = (('train_s', 'train'), ('explore_s', 'explore'), ('select_s', 'select'), ('label_s', 'label'),
              ('bookkeeping_s', 'AiiDA bookkeeping'))


def learning_rows(report: dict) -> list[dict]:
    """The report's iterations with the energy RMSE in meV/atom, for the table."""
    return [{**row, 'energy_rmse_mev_per_atom': 1e3 * row['energy_rmse_ev_per_atom_mean']}
            for row in report['iterations']]


def column(rows: Sequence[dict], key: str) -> np.ndarray:
    """The values of ``key`` in ``rows`` as floats, NaN where a row has none (reports made before the key existed)."""
    return np.array([np.nan if row.get(key) is None else row[key] for row in rows], dtype=float)


def plot_learning(rows: Sequence[dict], learning: dict, path: Path) -> Path:
    """Fractions of explored frames with the trust levels, labels, validation RMSE and step wall times per iteration."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    iterations = np.arange(len(rows))
    for name, colour in (('accurate', 'tab:green'), ('candidate', 'tab:orange'), ('failed', 'tab:red')):
        axes[0, 0].plot(iterations, [row[name] for row in rows], 'o-', color=colour, label=name)
    axes[0, 0].axhline(learning['accurate_target'], color='k', ls=':', lw=0.8, label='target')
    axes[0, 0].set_ylabel('fraction of explored frames')
    axes[0, 0].set_title(f'{learning.get("trust_mode", "fixed")} trust levels (right axis)', fontsize=9)
    axes[0, 0].legend(fontsize=7, loc='upper left')
    levels = axes[0, 0].twinx()
    levels.plot(iterations, column(rows, 'trust_lo_ev_a'), 's--', color='0.3', label='trust lo (eV/Å, right)')
    levels.plot(iterations, column(rows, 'trust_hi_ev_a'), '^:', color='0.3', label='trust hi (eV/Å, right)')
    levels.legend(fontsize=7, loc='upper right')
    axes[0, 1].bar(iterations, [row['labels_added'] for row in rows], color='tab:blue', label='labels added')
    axes[0, 1].plot(iterations, [row['dataset_frames'] for row in rows], 'ko-', label='frames trained on')
    axes[0, 1].set_ylabel('frames')
    axes[0, 1].legend(fontsize=7)
    axes[1, 0].errorbar(iterations, [row['force_rmse_ev_a_mean'] for row in rows],
                        yerr=[row['force_rmse_ev_a_std'] for row in rows], fmt='o-', capsize=3)
    axes[1, 0].set_ylabel('validation force RMSE (eV/Å)\nmean ± std over the models')
    bottom = np.zeros(len(rows))
    for key, name in STEP_TIMES:
        values = np.array([row[key] for row in rows])
        axes[1, 1].bar(iterations, values, bottom=bottom, label=name)
        bottom += values
    axes[1, 1].set_ylabel('wall time (s)')
    axes[1, 1].legend(fontsize=7)
    for axis in axes[1]:
        axis.set_xlabel('iteration')
        axis.set_xticks(iterations)
    return save_figure(fig, path)


def learning_of(node, option: str = 'PK'):
    """The terminated ``boroglass.active_learning`` workflow ``node`` with a report; refuse anything else."""
    if getattr(node, 'process_type', None) != LEARNING_PROCESS_TYPE:
        raise Refusal(f'node {node.pk} is a {node.__class__.__name__}, not a boroglass.active_learning workflow',
                      option)
    if not node.is_terminated:
        raise Refusal(f'workflow {node.pk} is still {node.process_state.value}; follow it with '
                      f'`verdi process report {node.pk}`', option)
    if 'report' not in node.outputs:
        raise Refusal(f'workflow {node.pk} ended ({node.exit_status}: {node.exit_message}) before its first '
                      f'report; see `verdi process report {node.pk}`', option)
    return node


def show_learning(node, output: Path) -> bool:
    """Print the per-iteration table and write ``learning.json`` and ``learning.png`` in ``output``."""
    report = node.outputs.report.get_dict()
    rows = learning_rows(report)
    click.echo(text_table(LEARNING_COLUMNS, rows))
    state = ('converged' if node.is_finished_ok
             else f'not converged (exit status {node.exit_status}: {node.exit_message})')
    click.echo(f'{node.process_label}<{node.pk}>: {state}; last ensemble: '
               f'{", ".join(f"{key} <{model.pk}>" for key, model in sorted(node.outputs.models.items()))}; '
               f'dataset <{node.outputs.dataset.pk}> of {node.outputs.dataset.n_frames} frames')
    output.mkdir(parents=True, exist_ok=True)
    (output / 'learning.json').write_text(json.dumps(report, indent=2))
    click.echo(f'table: {output / "learning.json"}')
    click.echo(f'plot: {plot_learning(rows, report["learning"], output / "learning.png")}')
    return node.is_finished_ok


def check_composition(spec: str, x: float | None, symbols: Sequence[str]) -> None:
    """Refuse naming SPEC/--x when the atoms to explore (``symbols``) are not a cell of that composition."""
    from aiida_boroglass.glass.composition import Composition

    with refusing('SPEC/--x'):
        composition = Composition.parse(spec, x=x)
        counts = Counter(symbols)
        expected = composition.atom_counts(len(symbols)).counts
    if {element: count for element, count in expected.items() if count} != dict(counts):
        raise Refusal(f'{spec} at x = {x} has {expected} in {len(symbols)} atoms, but the cell to explore holds '
                      f'{dict(counts)}: give the dataset of this glass, or --structure', 'SPEC/--x')


def learning_builder(codes: dict, dataset, structure, protocol: str, overrides: dict, options: dict | None = None):
    """A validated ``boroglass.active_learning`` builder; ``options``: scheduler options of every job."""
    from aiida_boroglass.workflows.learning.active_learning import ActiveLearningWorkChain

    with refusing():
        builder = ActiveLearningWorkChain.get_builder_from_protocol(
            codes['lammps'], codes['dp'], codes['label'], dataset, structure, protocol=protocol, overrides=overrides,
            options=options)
        builder.metadata.label = f'concurrent learning from dataset {dataset.pk}'
    return validated(builder)


def option_overrides(engine: str, max_iterations, max_labels, trust_lo, trust_hi, trust_mode, models) -> dict:
    """The overrides of the options that were given (None: the protocol's)."""
    learning = {key: value for key, value in (('max_iterations', max_iterations), ('max_labels', max_labels),
                                              ('trust_lo_ev_a', trust_lo), ('trust_hi_ev_a', trust_hi),
                                              ('trust_mode', trust_mode))
                if value is not None}
    overrides = {'learning': learning, 'labelling': {'engine': engine}}
    if models is not None:
        overrides['training'] = {'models': models}
    return overrides


@click.command('learn')
@click.argument('spec')
@click.option('--x', 'x_value', type=click.FloatRange(0, 1), default=None,
              help='Value of x in SPEC (one composition; checked against the exploration structure).')
@click.option('--dataset', required=True, type=types.DataParamType(sub_classes=('aiida.data:boroglass.dataset',)),
              help='Initial labelled dataset (PK, UUID or label), e.g. of AIMD frames (`aiida-boroglass dataset`).')
@click.option('--structure', type=types.DataParamType(sub_classes=('aiida.data:core.structure',)), default=None,
              help='Starting structure of the explorations (default: the last frame of the dataset\'s first system).')
@click.option('--engine', type=click.Choice(('cp2k', 'vasp', 'classical')), default='cp2k', show_default=True,
              help='Labeller of the selected frames; classical: the Deng-Du force field (an exact oracle, for tests).')
@click.option('--protocol', type=click.Choice(('fast', 'balanced', 'stringent')), default='balanced',
              show_default=True, help='Protocol of the loop, the training and the labels (active_learning.yaml).')
@click.option('--max-iterations', type=click.IntRange(min=1), default=None, help='Iterations at most.')
@click.option('--max-labels', type=click.IntRange(min=1), default=None, help='Frames labelled per iteration, at most.')
@click.option('--trust-lo', type=click.FloatRange(min=0), default=None, help='Lower trust level, eV/Å.')
@click.option('--trust-hi', type=click.FloatRange(min=0), default=None, help='Upper trust level, eV/Å.')
@click.option('--trust-mode', type=click.Choice(('fixed', 'adaptive')), default=None,
              help='fixed: --trust-lo every iteration; adaptive: the lower level set each iteration for a target of '
                   'candidates (learning.adaptive of the protocol; default: the protocol\'s mode, fixed).')
@click.option('--models', type=click.IntRange(min=2), default=None, help='Models of every ensemble.')
@code_option('--lammps-code', 'LAMMPS (with DeePMD-kit)', LAMMPS_CODE, 'boroglass.lammps')
@code_option('--dp-code', 'DeePMD-kit (dp)', DP_CODE)
@code_option('--label-code', 'labeller\'s', f'{LABEL_CODES["cp2k"]} for cp2k, {LABEL_CODES["classical"]} for classical')
@click.option('--overrides', type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='YAML file of values replacing the protocol\'s (keys of active_learning.yaml default_inputs).')
@job_options(mpi=False)
@launch_options
@click.option('--output', '-o', type=click.Path(file_okay=False, writable=True, path_type=Path),
              default=Path('boroglass-learning'), show_default=True, help='Folder for the table and the plot.')
@with_profile
def learn(spec, x_value, dataset, structure, engine, protocol, max_iterations, max_labels, trust_lo, trust_hi,
          trust_mode, models, lammps_code, dp_code, label_code, overrides, options, daemon, wait, output):
    """Learn a DeePMD potential of the glass SPEC by concurrent learning (DP-GEN's loop) from an initial dataset.

    Each iteration trains an ensemble, explores with it in LAMMPS (glass, melt, quench,
    compressed), labels the frames whose force deviation lies between the trust levels, and
    adds them to the data, until the ensemble is confident in the explored frames.
    """
    from aiida_boroglass.workflows.learning.active_learning import ActiveLearningWorkChain, exploration_symbols

    check_launch_options(daemon, wait)
    if label_code is None and engine not in LABEL_CODES:
        raise Refusal(f'required with --engine {engine}: the code of the labeller', '--label-code')
    codes = {'lammps': engine_code(lammps_code, LAMMPS_CODE), 'dp': engine_code(dp_code, DP_CODE),
             'label': engine_code(label_code, LABEL_CODES.get(engine))}
    values = read_overrides(overrides, ActiveLearningWorkChain.get_protocol_inputs(protocol), '--overrides')
    values = recursive_merge(values, option_overrides(engine, max_iterations, max_labels, trust_lo, trust_hi,
                                                      trust_mode, models))
    if values['learning'].get('trust_mode') == 'adaptive' and trust_lo is not None:
        raise Refusal('a fixed lower level, unused with the adaptive trust mode: give the bounds '
                      'learning.adaptive.trust_lo_min_ev_a / trust_lo_max_ev_a in --overrides', '--trust-lo')
    check_composition(spec, x_value, exploration_symbols({'dataset': dataset, 'structure': structure}))
    builder = learning_builder(codes, dataset, structure, protocol, values, options)
    progress = Progress(builder.learning['max_iterations'],
                        lambda node: count_finished(node, process_label='DeepmdEnsembleWorkChain'), 'iterations')
    node = launch(builder, daemon, wait, progress)
    if node is not None:
        exit_unless(show_learning(learning_of(node), output))

