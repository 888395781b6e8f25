"""Labelled datasets for DeePMD-kit training, built with provenance of every frame.

Three calcfunctions make a :class:`~aiida_boroglass.data.dataset.LabelledDatasetData`: from
``boroglass.dft_label`` datasets (:func:`dataset_from_labels`), from other datasets
(:func:`merge_datasets`), and from a user's DeePMD-kit data folder stored as a ``FolderData``
(:func:`import_deepmd_folder`). Their inputs are the sources; each frame's ``sources`` entry
names the input node (uuid) and the index of the frame in it. Every format conversion is
dpdata's. A ``settings`` Dict holds ``validation_fraction`` (in (0, 0.5], default 0.1) and
``seed`` (integer >= 0, default 0) of the train/validation split.

:func:`perturbed_structures` makes the unlabelled frames to start from: perturbed copies of
AIMD frames or structures (DP-GEN's ``perturb``), for ``boroglass.dft_label`` to label.

Refusals (nothing is stored): a bad ``settings`` key or value returns
``ERROR_INVALID_PARAMETERS`` (301); data that cannot make a dataset (no frames, NaN labels,
shapes that do not match, a folder that is not DeePMD data) returns
``ERROR_KERNEL_REFUSED_DATA`` (320), the message naming the input.
"""
from __future__ import annotations

import pathlib
import tempfile
from typing import Any

import dpdata
import numpy as np
from aiida import orm
from aiida.engine import calcfunction
from dpdata.data_type import DataError

from aiida_boroglass.analysis.perturbation import check_perturbation, perturb_frames
from aiida_boroglass.data.dataset import LabelledDatasetData, check_split, labelled_system
from aiida_boroglass.functions.exit_codes import CalcfunctionError, returns_exit_codes
from aiida_boroglass.functions.utils import glass_symbols, parameter_error, structure_of, with_defaults

#: Defaults of the ``settings`` Dict: fraction of each system's frames for validation, seed of the split.
SPLIT_DEFAULTS = {'validation_fraction': 0.1, 'seed': 0}

#: Arrays a ``boroglass.dft_label`` dataset must hold (``virial`` is used when present).
LABEL_ARRAYS = ('positions', 'cells', 'energies', 'forces')


def split_settings(settings: orm.Dict | None) -> dict[str, Any]:
    """``validation_fraction`` and ``seed`` of ``settings``, defaults filled in and checked.

    Raises
    ------
    CalcfunctionError
        ``ERROR_INVALID_PARAMETERS``: an unknown key, or a value out of range (named
        ``settings.<key>``).
    """
    values = with_defaults(settings, SPLIT_DEFAULTS)
    try:
        check_split(values['validation_fraction'], values['seed'])
    except ValueError as error:
        raise parameter_error(f'settings.{error}') from None
    return values


def label_system(key: str, labels: orm.TrajectoryData) -> dpdata.LabeledSystem:
    """One ``boroglass.dft_label`` dataset (a TrajectoryData) as a ``dpdata.LabeledSystem``.

    Parameters
    ----------
    key : str
        Input name of the dataset, for messages.
    labels : TrajectoryData
        ``symbols``; ``positions`` (n_frames, n_atoms, 3) Å; ``cells`` (n_frames, 3, 3) Å;
        ``energies`` (n_frames,) eV; ``forces`` (n_frames, n_atoms, 3) eV/Å; ``virial``
        (n_frames, 3, 3) eV, dpdata's sign, optional.

    Raises
    ------
    ValueError
        Naming ``labels.<key>`` and the array that is missing.
    """
    if not isinstance(labels, orm.TrajectoryData):
        raise ValueError(f'labels.{key}: of type {type(labels).__name__}, not a boroglass.dft_label TrajectoryData')
    missing = [name for name in LABEL_ARRAYS if name not in labels.get_arraynames()]
    if missing:
        raise ValueError(f'labels.{key}: no array(s) {missing}; a boroglass.dft_label dataset holds '
                         f'{list(LABEL_ARRAYS)}')
    type_map = sorted(set(labels.symbols))
    atom_types = np.array([type_map.index(symbol) for symbol in labels.symbols])
    frames = {'coords': labels.get_array('positions'), 'cells': labels.get_array('cells'),
              'energies': labels.get_array('energies'), 'forces': labels.get_array('forces'),
              'virials': labels.get_array('virial') if 'virial' in labels.get_arraynames() else None}
    try:
        return labelled_system(type_map, atom_types, frames)
    except DataError as error:
        raise ValueError(f'labels.{key}: {error}') from None


def frame_sources(uuid: str, n_frames: int, first: int = 0) -> list[tuple[str, int]]:
    """``[(uuid, first), (uuid, first + 1), ...]``: ``n_frames`` frames of the node ``uuid`` from index ``first``."""
    return [(uuid, first + frame) for frame in range(n_frames)]


def system_dirs(root: pathlib.Path) -> list[pathlib.Path]:
    """The DeePMD system folders of ``root``: ``root`` when it holds ``type.raw``, else its subfolders that do.

    Raises
    ------
    ValueError
        Naming ``folder`` when there is no system folder.
    """
    if (root / 'type.raw').is_file():
        return [root]
    found = sorted(path for path in root.iterdir() if (path / 'type.raw').is_file())
    if not found:
        raise ValueError('folder: not a DeePMD data folder: neither it nor a subfolder holds type.raw '
                         '(with type_map.raw and set.*/ of coord/box/energy/force .npy)')
    return found


def read_deepmd_folder(root: pathlib.Path) -> list[tuple[str, dpdata.LabeledSystem]]:
    """Every DeePMD ``deepmd/npy`` system of a folder, read by dpdata, with its path relative to ``root``.

    Parameters
    ----------
    root : pathlib.Path
        One system folder (``type.raw``, ``type_map.raw``, ``set.*/``) or a folder of them.

    Returns
    -------
    list of (str, dpdata.LabeledSystem)
        Relative path (``.`` for ``root`` itself) and the labelled frames, in path order.

    Raises
    ------
    ValueError
        Naming ``folder`` (or ``folder/<system>``) and what dpdata could not read.
    """
    systems = []
    for path in system_dirs(pathlib.Path(root)):
        relative = path.relative_to(root).as_posix()
        try:
            system = dpdata.LabeledSystem(str(path), fmt='deepmd/npy')
        except (DataError, OSError, ValueError, KeyError, IndexError) as error:
            raise ValueError(f'folder/{relative}: dpdata cannot read it as deepmd/npy labelled data: {error}') from None
        if len(system) == 0:
            raise ValueError(f'folder/{relative}: no frames (no set.*/ folder with coord.npy)')
        systems.append((relative, system))
    return systems


def folder_dataset(root: pathlib.Path, uuid: str, validation_fraction: float, seed: int) -> LabelledDatasetData:
    """An unstored dataset of the DeePMD folder ``root``; frames' sources are ``uuid`` and a running frame index.

    The running index counts the frames of the system folders in path order (see
    :func:`read_deepmd_folder`), each system's frames in their set order.
    """
    systems = [system for _, system in read_deepmd_folder(root)]
    starts = np.cumsum([0] + [len(system) for system in systems])
    sources = [frame_sources(uuid, len(system), int(start)) for system, start in zip(systems, starts)]
    return LabelledDatasetData.from_dpdata(systems, sources, validation_fraction, seed)


@calcfunction
@returns_exit_codes
def dataset_from_labels(settings: orm.Dict, **labels: orm.TrajectoryData) -> LabelledDatasetData:
    """A training dataset of one or more ``boroglass.dft_label`` datasets.

    Parameters
    ----------
    settings : Dict
        ``validation_fraction`` and ``seed`` of the split (see the module docstring).
    **labels : TrajectoryData
        The ``dataset`` outputs of ``boroglass.dft_label`` workflows, any input names; read in
        name order. Datasets of the same atoms in the same order become one system.

    Returns
    -------
    LabelledDatasetData
        Every frame of every input; its source is ``[uuid of the input, row of the frame in it]``.
    """
    split = split_settings(settings)
    if not labels:
        raise ValueError('labels: no dft_label dataset given; give at least one')
    keys = sorted(labels)
    systems = [label_system(key, labels[key]) for key in keys]
    sources = [frame_sources(labels[key].uuid, len(system)) for key, system in zip(keys, systems)]
    return LabelledDatasetData.from_dpdata(systems, sources, split['validation_fraction'], split['seed'])


@calcfunction
@returns_exit_codes
def merge_datasets(settings: orm.Dict, **datasets: LabelledDatasetData) -> LabelledDatasetData:
    """One dataset of the frames of several, every frame keeping its original source.

    Systems of the same atoms in the same order (and both or neither with virials) are
    joined into one system, whichever dataset they come from; the train/validation split is
    drawn anew from ``settings``.

    Parameters
    ----------
    settings : Dict
        ``validation_fraction`` and ``seed`` of the new split.
    **datasets : LabelledDatasetData
        The datasets, any input names; read in name order.
    """
    split = split_settings(settings)
    if not datasets:
        raise ValueError('datasets: no dataset given; give at least one')
    systems, sources = [], []
    for key in sorted(datasets):
        dataset = datasets[key]
        if not isinstance(dataset, LabelledDatasetData):
            raise ValueError(f'datasets.{key}: of type {type(dataset).__name__}, not a boroglass.dataset')
        for index, record in enumerate(dataset.systems):
            systems.append(dataset.part_system(index))
            sources.append(record['sources'])
    return LabelledDatasetData.from_dpdata(systems, sources, split['validation_fraction'], split['seed'])


@calcfunction
@returns_exit_codes
def import_deepmd_folder(settings: orm.Dict, folder: orm.FolderData) -> LabelledDatasetData:
    """A dataset of a user's DeePMD-kit data folder, read by dpdata (``deepmd/npy``).

    Parameters
    ----------
    settings : Dict
        ``validation_fraction`` and ``seed`` of the split.
    folder : FolderData
        One system folder (``type.raw``, ``type_map.raw``, ``set.*/`` with ``coord.npy``,
        ``box.npy`` Å, ``energy.npy`` eV, ``force.npy`` eV/Å, optionally ``virial.npy`` eV) or a
        folder of such system folders at its top level.

    Returns
    -------
    LabelledDatasetData
        Frame sources ``[uuid of folder, running frame index]``, see :func:`folder_dataset`.
    """
    split = split_settings(settings)
    with tempfile.TemporaryDirectory(prefix='boroglass-deepmd-') as directory:
        folder.base.repository.copy_tree(directory)
        return folder_dataset(pathlib.Path(directory), folder.uuid, split['validation_fraction'], split['seed'])


@calcfunction
@returns_exit_codes
def extend_dataset(dataset: LabelledDatasetData, labels: orm.TrajectoryData) -> LabelledDatasetData:
    """The dataset with the frames of a ``boroglass.dft_label`` dataset added as training frames.

    The held-out (validation) frames of ``dataset`` are kept, so that validation errors before
    and after compare; the new frames join the system of the same atoms in the same order (or
    make a new system, all of it for training). The split settings are those of ``dataset``.

    Parameters
    ----------
    dataset : LabelledDatasetData
        The dataset to extend.
    labels : TrajectoryData
        The new labelled frames (``positions``, ``cells`` Å, ``energies`` eV, ``forces`` eV/Å,
        ``virial`` eV); their sources are ``[uuid of labels, row]``.
    """
    systems = [dataset.part_system(index) for index in range(len(dataset.systems))]
    sources = [record['sources'] for record in dataset.systems]
    new = label_system('labels', labels)
    kept = [record['validation'] for record in dataset.systems]
    attributes = dataset.base.attributes
    return LabelledDatasetData.from_dpdata(systems + [new], sources + [frame_sources(labels.uuid, len(new))],
                                           attributes.get('validation_fraction'), attributes.get('seed'),
                                           kept_validation=kept)


@calcfunction
@returns_exit_codes
def dataset_structure(dataset: LabelledDatasetData, system: orm.Int) -> orm.StructureData:
    """The last frame of system ``system`` of ``dataset`` as a structure (positions and cell in Å), e.g. to explore from."""
    index = system.value
    if not 0 <= index < len(dataset.systems):
        raise ValueError(f'system: {index} is not a system of the dataset (0..{len(dataset.systems) - 1})')
    frames = dataset.part_system(index)
    return structure_of(frames['cells'][-1], [frames['atom_names'][index] for index in frames['atom_types']],
                        frames['coords'][-1])


#: Defaults of :func:`perturbed_structures`' ``parameters`` (DP-GEN's usual strain and displacement).
PERTURBATION_DEFAULTS = {'copies': 5, 'cell_fraction': 0.03, 'atom_distance_a': 0.1, 'seed': 0}


def perturbation_settings(parameters: orm.Dict | None) -> dict[str, Any]:
    """:data:`PERTURBATION_DEFAULTS` updated by ``parameters`` and checked.

    Raises
    ------
    CalcfunctionError
        ``ERROR_INVALID_PARAMETERS``: an unknown key, or a value out of range (named ``parameters.<key>``).
    """
    values = with_defaults(parameters, PERTURBATION_DEFAULTS)
    try:
        check_perturbation(**values)
    except ValueError as error:
        raise parameter_error(f'parameters.{error}') from None
    return values


@calcfunction
@returns_exit_codes
def perturbed_structures(source: orm.StructureData | orm.TrajectoryData,
                         parameters: orm.Dict | None = None) -> orm.TrajectoryData:
    """Perturbed copies of every frame of ``source``, unlabelled, for ``boroglass.dft_label``.

    Every frame's cell is strained by a random symmetric strain of components at most
    ``cell_fraction`` (the positions with it), then every atom is displaced by a vector uniform
    in the ball of radius ``atom_distance_a``
    (:func:`~aiida_boroglass.analysis.perturbation.perturb_frames`, dpdata's conventions).

    Parameters
    ----------
    source : StructureData or TrajectoryData
        One structure, or the frames of a trajectory with cells (Å).
    parameters : Dict, optional
        :data:`PERTURBATION_DEFAULTS`: ``copies`` per frame (>= 1), ``cell_fraction`` (in
        [0, 0.5)), ``atom_distance_a`` (Å, in [0, 1]), ``seed`` (>= 0: the same seed, the same copies).

    Returns
    -------
    TrajectoryData
        ``n_frames * copies`` frames, copy ``c`` of frame ``i`` at index ``i * copies + c``:
        ``positions`` and ``cells`` (Å), the source's symbols and periodicity, and the array
        ``source_frames`` (index of the frame each copy was made from).
    """
    values = perturbation_settings(parameters)
    if isinstance(source, orm.StructureData):
        positions, cells = np.array([site.position for site in source.sites]), np.array(source.cell)
    elif source.get_cells() is None:
        raise CalcfunctionError('ERROR_TRAJECTORY_WITHOUT_CELLS', 'source: a trajectory without cells cannot be '
                                'strained; give the cell of every frame')
    else:
        positions, cells = source.get_positions(), source.get_cells()
    new_positions, new_cells, frames = perturb_frames(positions, cells, **values)
    copies = orm.TrajectoryData()
    copies.set_trajectory(glass_symbols(source), new_positions, stepids=np.arange(len(frames)), cells=new_cells,
                          pbc=source.pbc)
    copies.set_array('source_frames', frames)
    return copies
