"""``aiida-boroglass train`` (a DeePMD model ensemble on a dataset) and ``verdi data boroglass model`` (its report)."""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import click
import numpy as np
from aiida.cmdline.params import types

from aiida_boroglass.cli.errors import Refusal, refusing
from aiida_boroglass.cli.launching import (
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
from aiida_boroglass.cli.overrides import read_overrides
from aiida_boroglass.cli.plotting import pyplot, save_figure, text_table

DP_CODE = 'dp@localhost'
ENSEMBLE_PROCESS_TYPE = 'aiida.workflows:boroglass.deepmd_ensemble'
LEARNING_PROCESS_TYPE = 'aiida.workflows:boroglass.active_learning'
TRAIN_PROCESS_TYPE = 'aiida.calculations:boroglass.deepmd_train'
#: Table columns: (title, row key, format).
MODEL_COLUMNS = (
    ('model', 'model', '{}'),
    ('PK', 'pk', '{:d}'),
    ('seed', 'seed', '{:d}'),
    ('steps', 'steps', '{:d}'),
    ('val. frames', 'frames', '{:d}'),
    ('E RMSE (meV/atom)', 'energy_rmse_mev_per_atom', '{:.2f}'),
    ('F RMSE (eV/Å)', 'force_rmse_ev_a', '{:.4f}'),
)


def model_rows(ensemble) -> list[dict]:
    """One row per trained model of a finished ``boroglass.deepmd_ensemble``: seed, steps, validation RMSEs."""
    rows = []
    for call in sorted(ensemble.called, key=lambda node: node.label):
        if call.process_type != TRAIN_PROCESS_TYPE or not call.is_finished_ok:
            continue
        validation = call.outputs.validation.get_dict()
        rows.append({
            'model': call.label, 'pk': call.outputs.model.pk, 'seed': call.inputs.seed.value,
            'steps': validation['steps'], 'frames': validation['frames'],
            'energy_rmse_mev_per_atom': 1e3 * validation['energy_rmse_ev_per_atom'],
            'force_rmse_ev_a': validation['force_rmse_ev_a'],
        })
    return rows


def plot_learning_curves(curves: Mapping[str, Mapping[str, np.ndarray]], path: Path) -> Path:
    """Force and energy RMSE (validation and training batch) against training step, one line per model, log-log."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for key, curve in sorted(curves.items()):
        for axis, name, unit in ((axes[0], 'rmse_f', 'eV/Å'), (axes[1], 'rmse_e', 'eV/atom')):
            line, = axis.loglog(np.maximum(curve['step'], 1), curve[f'{name}_val'], label=f'{key} validation')
            axis.loglog(np.maximum(curve['step'], 1), curve[f'{name}_trn'], ls=':', color=line.get_color())
            axis.set_xlabel('training step')
            axis.set_ylabel(f'{"force" if name == "rmse_f" else "energy"} RMSE ({unit})')
    axes[0].legend(fontsize=7, title='dotted: training batch', title_fontsize=7)
    return save_figure(fig, path)


def plot_parity(parity: Mapping[str, Mapping[str, np.ndarray]], path: Path) -> Path:
    """Model against DFT on the validation frames: energies (eV/atom) and force components (eV/Å), every model."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for key, values in sorted(parity.items()):
        axes[0].plot(values['energy_dft'], values['energy_model'], '.', ms=4, label=key)
        axes[1].plot(values['force_dft'].ravel(), values['force_model'].ravel(), '.', ms=2, alpha=0.5, label=key)
    for axis, what in ((axes[0], 'energy (eV/atom)'), (axes[1], 'force component (eV/Å)')):
        low, high = (min(axis.get_xlim()[0], axis.get_ylim()[0]), max(axis.get_xlim()[1], axis.get_ylim()[1]))
        axis.plot([low, high], [low, high], 'k-', lw=0.8)
        axis.set_xlabel(f'reference {what}')
        axis.set_ylabel(f'model {what}')
    axes[0].legend(fontsize=7)
    return save_figure(fig, path)


def show_ensemble(ensemble, output: Path) -> bool:
    """RMSE table, learning-curve and parity plots, ``models.json`` of a ``boroglass.deepmd_ensemble`` in ``output``."""
    rows = model_rows(ensemble)
    click.echo(text_table(MODEL_COLUMNS, rows))
    outputs = ensemble.outputs
    if 'validation' in outputs:
        table = outputs.validation.get_dict()
        click.echo(f'ensemble of {len(rows)}: force RMSE {table["force_rmse_ev_a_mean"]:.4f} ± '
                   f'{table["force_rmse_ev_a_std"]:.4f} eV/Å, energy RMSE '
                   f'{1e3 * table["energy_rmse_ev_per_atom_mean"]:.2f} ± '
                   f'{1e3 * table["energy_rmse_ev_per_atom_std"]:.2f} meV/atom (mean ± std over the models)')
    output.mkdir(parents=True, exist_ok=True)
    curves = {key: {name: node.get_array(name) for name in node.get_arraynames()}
              for key, node in outputs.learning_curves.items()} if 'learning_curves' in outputs else {}
    parity = {key: {name: node.get_array(name) for name in node.get_arraynames()}
              for key, node in outputs.parity.items()} if 'parity' in outputs else {}
    if curves:
        click.echo(f'learning curves: {plot_learning_curves(curves, output / "learning_curves.png")}')
    if parity:
        click.echo(f'parity: {plot_parity(parity, output / "parity.png")}')
    (output / 'models.json').write_text(json.dumps(rows, indent=2))
    click.echo(f'table: {output / "models.json"}')
    return ensemble.is_finished_ok


def ensemble_builder(code, dataset, protocol: str, overrides: dict, options: dict | None = None):
    """A validated ``boroglass.deepmd_ensemble`` builder; ``options``: scheduler options of the training jobs."""
    from aiida_boroglass.workflows.learning.deepmd_ensemble import DeepmdEnsembleWorkChain

    with refusing():
        builder = DeepmdEnsembleWorkChain.get_builder_from_protocol(code, dataset, protocol=protocol,
                                                                    overrides=overrides, options=options)
        builder.metadata.label = f'deepmd ensemble on dataset {dataset.pk}'
    return validated(builder, {'models': 'set it with --models'})


@click.command('train')
@click.option('--dataset', required=True, type=types.DataParamType(sub_classes=('aiida.data:boroglass.dataset',)),
              help='Labelled dataset (PK, UUID or label) from `aiida-boroglass dataset`.')
@click.option('--models', type=int, default=None, help='Models of the ensemble, 2 or more (default: the protocol\'s, 4).')
@click.option('--protocol', type=click.Choice(('fast', 'balanced', 'stringent')), default='balanced',
              show_default=True, help='fast: a tiny network in ~1 min per model (tests); balanced: exploration; '
                                      'stringent: production (1e6 steps).')
@click.option('--seed', type=int, default=None, help='Seed of the first model (default: the protocol\'s, 1).')
@code_option('--code', 'DeePMD-kit (dp)', DP_CODE)
@click.option('--overrides', type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='YAML file of values replacing the protocol\'s (keys of deepmd.yaml default_inputs).')
@job_options(mpi=False)
@launch_options
@click.option('--output', '-o', type=click.Path(file_okay=False, writable=True, path_type=Path),
              default=Path('boroglass-models'), show_default=True, help='Folder for the table and the plots.')
@with_profile
def train(dataset, models, protocol, seed, code, overrides, options, daemon, wait, output):
    """Train an ensemble of DeePMD models on a labelled dataset (TensorFlow backend, se_e2_a).

    The models differ only in their seeds; their spread is the model deviation that
    concurrent learning and `boroglass.lammps` report.
    """
    from aiida_boroglass.workflows.learning.deepmd_ensemble import DeepmdEnsembleWorkChain

    check_launch_options(daemon, wait)
    values = read_overrides(overrides, DeepmdEnsembleWorkChain.get_protocol_inputs(protocol), '--overrides')
    values.update({key: value for key, value in (('models', models), ('seed', seed)) if value is not None})
    builder = ensemble_builder(engine_code(code, DP_CODE), dataset, protocol, values, options)
    progress = Progress(builder.models.value, lambda node: count_finished(node, process_class=_calcjob()), 'models')
    node = launch(builder, daemon, wait, progress)
    if node is not None:
        exit_unless(show_ensemble(node, output))


def _calcjob():
    """The CalcJobNode class (imported late: the profile is loaded by then)."""
    from aiida import orm

    return orm.CalcJobNode


def ensemble_of(node, option: str = 'NODE'):
    """The terminated ``boroglass.deepmd_ensemble`` behind ``node`` (the workflow or one of its models); refuse others.

    A ``boroglass.active_learning`` workflow stands for its last ensemble. ``option`` names the
    command-line argument in a refusal.
    """
    from aiida.common.links import LinkType

    if getattr(node, 'process_type', None) == LEARNING_PROCESS_TYPE and 'models' in node.outputs:
        node = next(iter(node.outputs.models.values()))
    returned = [link.node for link in node.base.links.get_incoming(link_type=LinkType.RETURN).all()
                if link.node.process_type == ENSEMBLE_PROCESS_TYPE]
    ensemble = returned[0] if returned else node
    if getattr(ensemble, 'process_type', None) != ENSEMBLE_PROCESS_TYPE:
        raise Refusal(f'node {node.pk} is a {node.__class__.__name__}, not a boroglass.deepmd_ensemble workflow or one of its '
                      'models', option)
    if not ensemble.is_terminated:
        raise Refusal(f'ensemble {ensemble.pk} is still {ensemble.process_state.value}; wait for it', option)
    return ensemble
