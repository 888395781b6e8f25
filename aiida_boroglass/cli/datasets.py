"""``aiida-boroglass dataset``: labelled datasets for DeePMD-kit training (import, build, show).

``import DIR`` stores a DeePMD-kit data folder as a ``FolderData`` and makes a dataset of it;
``build LABEL_PK...`` makes one of ``boroglass.dft_label`` outputs and other datasets;
``perturb PK`` makes perturbed copies of AIMD frames or a structure to label first (DP-GEN's
starting data); ``show PK`` prints a dataset's table and where its frames came from. Every input is checked
before anything is stored.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
from aiida.cmdline.params import types

from aiida_boroglass.cli.errors import Refusal, refusing
from aiida_boroglass.cli.launching import with_profile
from aiida_boroglass.cli.plotting import text_table
from aiida_boroglass.data.dataset import VALIDATION_FRACTION_RANGE

#: Table columns of a dataset, one row per system: (title, row key, format).
DATASET_COLUMNS = (
    ('system', 'name', '{}'),
    ('atoms', 'n_atoms', '{}'),
    ('train frames', 'n_frames_train', '{:d}'),
    ('validation frames', 'n_frames_validation', '{:d}'),
    ('E min (eV/atom)', 'energy_min_ev_atom', '{:.4f}'),
    ('E max (eV/atom)', 'energy_max_ev_atom', '{:.4f}'),
    ('max |F| (eV/Å)', 'force_max_ev_a', '{:.3f}'),
    ('virials', 'has_virials', '{}'),
)

#: Table columns of the frame sources: (title, row key, format).
SOURCE_COLUMNS = (
    ('system', 'system', '{}'),
    ('source', 'source', '{}'),
    ('frames', 'n_frames', '{:d}'),
    ('frame indices in the source', 'indices', '{}'),
)


def split_options(command):
    """Add ``--validation-fraction``, ``--seed`` and ``--label`` to a command that makes a dataset."""
    low, high = VALIDATION_FRACTION_RANGE
    command = click.option('--label', default=None, help='Label of the stored dataset.')(command)
    command = click.option('--seed', type=click.IntRange(min=0), default=0, show_default=True,
                           help='Seed of the train/validation split (the same seed, the same split).')(command)
    return click.option('--validation-fraction', type=click.FloatRange(low, high, min_open=True), default=0.1,
                        show_default=True,
                        help=f'Fraction of each system\'s frames held out for validation, in ({low}, {high}].')(command)


def index_ranges(indices: Sequence[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``'0-2,5,7-8'`` (sorted indices as runs)."""
    runs: list[list[int]] = []
    for index in sorted(indices):
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ','.join(f'{first}' if first == last else f'{first}-{last}' for first, last in runs)


def source_name(uuid: str) -> str:
    """``TrajectoryData<12>`` of the node ``uuid``, or its uuid when it is not in this profile."""
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    try:
        node = orm.load_node(uuid=uuid)
    except NotExistent:
        return uuid
    return f'{node.__class__.__name__}<{node.pk}>'


def source_rows(dataset) -> list[dict]:
    """One row per system and source node: how many frames of the system come from it, and which."""
    rows = []
    for record in dataset.systems:
        by_source: dict[str, list[int]] = {}
        for uuid, frame in record['sources']:
            by_source.setdefault(uuid, []).append(frame)
        rows += [{'system': record['name'], 'source': source_name(uuid), 'n_frames': len(frames),
                  'indices': index_ranges(frames)} for uuid, frames in by_source.items()]
    return rows


def dataset_table(dataset) -> str:
    """The table of a dataset: one row per system and the total, then the species and units."""
    total = dataset.summary()
    atoms = total['n_atoms_min'] if total['n_atoms_min'] == total['n_atoms_max'] \
        else f'{total["n_atoms_min"]}-{total["n_atoms_max"]}'
    rows = [dataset.system_summary(index) for index in range(len(dataset.systems))]
    rows.append({**total, 'name': 'all', 'n_atoms': atoms})
    units = ', '.join(f'{key} {unit}' for key, unit in dataset.base.attributes.get('units').items())
    return '\n'.join([text_table(DATASET_COLUMNS, rows), f'species (type map): {" ".join(total["species"])}',
                      f'units: {units}; virial = -stress x volume (DeePMD-kit sign)'])


def finished_run(function, **inputs):
    """Run a calcfunction on ``inputs``; return its result and node, or stop with its exit status and message."""
    result, node = function.run_get_node(**inputs)
    if not node.is_finished_ok:
        raise click.ClickException(f'{node.process_label}<{node.pk}> failed with exit status {node.exit_status}: '
                                   f'{node.exit_message}')
    return result, node


def made_dataset(function, settings: dict, label: str | None, **inputs):
    """Run the calcfunction that makes a dataset; label its output; print its PK and table; return it."""
    from aiida import orm

    dataset, node = finished_run(function, settings=orm.Dict(settings), **inputs)
    if label:
        dataset.label = label
    click.echo(f'{node.process_label}<{node.pk}> stored LabelledDatasetData<{dataset.pk}>: {dataset.n_frames} frames')
    click.echo(dataset_table(dataset))
    return dataset


def label_sources(nodes: Sequence) -> tuple[list, list]:
    """The ``boroglass.dft_label`` datasets and the boroglass datasets among ``nodes``; refuse naming ``LABEL_PK``.

    A finished ``boroglass.dft_label`` workflow stands for its ``dataset`` output.
    """
    from aiida import orm

    from aiida_boroglass.data.dataset import LabelledDatasetData
    from aiida_boroglass.functions.datasets import LABEL_ARRAYS

    labels, datasets = [], []
    for node in nodes:
        if isinstance(node, orm.WorkflowNode) and node.is_finished_ok and 'dataset' in node.outputs:
            node = node.outputs.dataset
        if isinstance(node, LabelledDatasetData):
            datasets.append(node)
        elif isinstance(node, orm.TrajectoryData) and set(LABEL_ARRAYS) <= set(node.get_arraynames()):
            labels.append(node)
        else:
            raise Refusal(f'node {node.pk} is of type {node.__class__.__name__}; give boroglass.dft_label datasets '
                          '(or finished dft_label workflows) or boroglass.dataset nodes', 'LABEL_PK')
    repeated = sorted({node.pk for node in labels + datasets if (labels + datasets).count(node) > 1})
    if repeated:
        raise Refusal(f'{repeated} given more than once; give each source once', 'LABEL_PK')
    return labels, datasets


@click.group('dataset')
def dataset():
    """Labelled datasets for DeePMD-kit training: import a DeePMD folder, build from DFT labels, perturb, show."""


@dataset.command('import')
@click.argument('directory', metavar='DIR', type=click.Path(exists=True, file_okay=False, path_type=Path))
@split_options
@with_profile
def import_folder(directory, validation_fraction, seed, label):
    """Import a DeePMD-kit data folder DIR (one system with type.raw, type_map.raw, set.*/, or a folder of them).

    The folder is stored as a FolderData, the source of every frame of the dataset.
    """
    from aiida import orm

    from aiida_boroglass.functions.datasets import folder_dataset, import_deepmd_folder

    with refusing('DIR'):
        folder_dataset(directory, 'not stored', validation_fraction, seed)
    folder = orm.FolderData(tree=directory.resolve())
    folder.label = directory.resolve().name
    made_dataset(import_deepmd_folder, {'validation_fraction': validation_fraction, 'seed': seed}, label,
                 folder=folder)


@dataset.command('build')
@click.argument('nodes', metavar='LABEL_PK...', nargs=-1, required=True, type=types.NodeParamType())
@split_options
@with_profile
def build(nodes, validation_fraction, seed, label):
    """Build a dataset of boroglass.dft_label outputs (datasets or workflows) and merge in other datasets.

    Datasets of the same atoms in the same order become one system; every frame keeps its source.
    """
    from aiida_boroglass.functions.datasets import dataset_from_labels, merge_datasets

    labels, datasets = label_sources(nodes)
    settings = {'validation_fraction': validation_fraction, 'seed': seed}
    if labels:
        made = made_dataset(dataset_from_labels, settings, None if datasets else label,
                            **{f'labels_{index:04d}': node for index, node in enumerate(labels)})
        datasets.insert(0, made)
    if len(datasets) > 1 or not labels:
        made_dataset(merge_datasets, settings, label,
                     **{f'dataset_{index:04d}': node for index, node in enumerate(datasets)})


#: option of every argument of :func:`~aiida_boroglass.analysis.perturbation.check_perturbation`
PERTURB_OPTIONS = {'copies': '--copies', 'cell_fraction': '--cell-fraction', 'atom_distance_a': '--atom-distance',
                   'seed': '--seed'}


def checked_perturbation(values: dict) -> dict:
    """``values`` (keys of :data:`PERTURB_OPTIONS`) if the kernel accepts them; else refuse naming the option."""
    from aiida_boroglass.analysis.perturbation import check_perturbation

    try:
        check_perturbation(**values)
    except ValueError as error:
        name, _, allowed = str(error).partition(' must be ')
        raise Refusal(f'must be {allowed}', PERTURB_OPTIONS[name]) from None
    return values


@dataset.command('perturb')
@click.argument('source', metavar='PK', type=types.DataParamType(
    sub_classes=('aiida.data:core.structure', 'aiida.data:core.array.trajectory')))
@click.option('--copies', type=int, default=5, show_default=True, help='Perturbed copies of every frame.')
@click.option('--cell-fraction', type=float, default=0.03, show_default=True,
              help='Largest strain component of the random symmetric cell strain, in [0, 0.5).')
@click.option('--atom-distance', type=float, default=0.1, show_default=True,
              help='Largest atom displacement, Å (uniform in the ball of this radius).')
@click.option('--seed', type=int, default=0, show_default=True, help='Seed: the same seed, the same copies.')
@click.option('--label', default=None, help='Label of the stored trajectory of copies.')
@with_profile
def perturb(source, copies, cell_fraction, atom_distance, seed, label):
    """Perturbed copies of every frame of PK (a TrajectoryData of AIMD frames, or a StructureData) to label.

    Each copy's cell is strained by a random symmetric strain and each atom displaced within a
    ball (DP-GEN's perturb): starting data that hold a first DeePMD ensemble together. Label the
    copies (`aiida-boroglass label --trajectory NEW_PK`), then build the dataset for `learn`.
    """
    from aiida import orm

    from aiida_boroglass.functions.datasets import perturbed_structures

    values = checked_perturbation({'copies': copies, 'cell_fraction': cell_fraction, 'atom_distance_a': atom_distance,
                                   'seed': seed})
    if isinstance(source, orm.TrajectoryData) and source.get_cells() is None:
        raise Refusal(f'trajectory {source.pk} has no cells; a perturbation strains the cell of every frame', 'PK')
    result, node = finished_run(perturbed_structures, source=source, parameters=orm.Dict(values))
    if label:
        result.label = label
    click.echo(f'{node.process_label}<{node.pk}> stored TrajectoryData<{result.pk}>: {copies} copies of each of the '
               f'{result.numsteps // copies} frames of {source.__class__.__name__}<{source.pk}>')
    click.echo(f'label them: aiida-boroglass label --trajectory {result.pk}')


@dataset.command('show')
@click.argument('node', metavar='PK', type=types.DataParamType(sub_classes=('aiida.data:boroglass.dataset',)))
@with_profile
def show(node):
    """Show a dataset: frames, atoms, energy and force ranges per system, units, and the sources of its frames."""
    click.echo(f'LabelledDatasetData<{node.pk}> {node.label}'.rstrip())
    click.echo(dataset_table(node))
    click.echo(text_table(SOURCE_COLUMNS, source_rows(node)))
