"""DFT labels of many frames gathered into one training dataset (the input of DeePMD training).

A labelling workflow (``boroglass.dft_label``) computes one label node per frame: an
``ArrayData`` with ``energy_ev`` (1,) eV, ``forces_ev_a`` (n_atoms, 3) eV/Å in the atom order
of the frame, and ``stress_gpa`` (3, 3) GPa, whichever engine computed it (see
:mod:`aiida_boroglass.workflows.ab_initio.labellers`). :func:`label_dataset` stacks the
labelled frames into one ``TrajectoryData``; its inputs are the frames and their label nodes,
so every row of the dataset leads back to the calculation that labelled it.

Sign conventions. A label node's ``stress_gpa`` is the tensor as CP2K and VASP print it, the
pressure tensor P: positive under compression, 1/3 of its trace is the pressure. The
dataset's ``stress`` is the physical stress sigma = (1/V) dE/d(strain) = -P (ASE's
convention, positive under tension); its ``virial`` is DeePMD-kit's and dpdata's,
-sigma V = P V in eV.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.functions.exit_codes import returns_exit_codes
from aiida_boroglass.functions.utils import site_symbols
from aiida_boroglass.glass.elements import GPA_PER_EV_A3

#: Units of the arrays of a label dataset.
DATASET_UNITS = {'positions': 'Å', 'cells': 'Å', 'energies': 'eV', 'forces': 'eV/Å', 'stress': 'GPa',
                 'virial': 'eV'}

#: Sign conventions of a label dataset (its ``conventions`` attribute).
DATASET_CONVENTIONS = {
    'stress': 'physical stress (1/V) dE/d(strain), positive under tension (ASE); 1/3 of its trace is minus the pressure',
    'virial': 'DeePMD-kit / dpdata virial: -stress x cell volume (eV); 1/3 of its trace is pressure x volume',
}


def frame_key(index: int) -> str:
    """Key of frame ``index`` of a trajectory, e.g. ``frame_00012``."""
    return f'frame_{index:05d}'


def frame_selection(n_frames: int, stride: int | None = None, frames: Sequence[int] | None = None) -> list[int]:
    """Indices of the trajectory frames to label: every ``stride``-th frame, or the listed ``frames``.

    Parameters
    ----------
    n_frames : int
        Frames of the trajectory.
    stride : int, optional
        Every ``stride``-th frame from the first (>= 1).
    frames : sequence of int, optional
        Frame indices in [0, n_frames), each once; not together with ``stride``.

    Returns
    -------
    list of int
        Sorted frame indices; every frame when neither is given.

    Raises
    ------
    ValueError
        Naming ``stride`` or ``frames`` and the allowed values.
    """
    if stride is not None and frames is not None:
        raise ValueError(f'stride/frames: give a stride ({stride}) or a list of frames, not both')
    if stride is not None:
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise ValueError(f'stride: must be an integer >= 1, got {stride!r}')
        return list(range(0, n_frames, stride))
    if frames is None:
        return list(range(n_frames))
    if not frames:
        raise ValueError('frames: the list of frames is empty; give at least one frame index')
    outside = [f for f in frames if isinstance(f, bool) or not isinstance(f, int) or not 0 <= f < n_frames]
    if outside:
        raise ValueError(f'frames: {outside} outside the trajectory\'s frames 0..{n_frames - 1}')
    repeated = sorted({f for f in frames if list(frames).count(f) > 1})
    if repeated:
        raise ValueError(f'frames: {repeated} given more than once; give each frame once')
    return sorted(frames)


def other_systems(symbols: Mapping[str, Sequence[str]]) -> str | None:
    """A message naming the frames whose atoms (elements in order) differ from the first frame's, or None.

    Parameters
    ----------
    symbols : Mapping
        Frame name (as the message names it, e.g. ``structures.s1``) -> element of every atom.
    """
    (first, reference), *others = symbols.items()
    different = [name for name, elements in others if list(elements) != list(reference)]
    if different:
        return f'structures: {different} hold other atoms (or another order) than {first}; a dataset holds one system'
    return None


def virial_ev(stress_gpa: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """DeePMD-kit virial of every frame from its stress and cell.

    Parameters
    ----------
    stress_gpa : np.ndarray, shape (n_frames, 3, 3)
        Physical stress, positive under tension, GPa.
    cells : np.ndarray, shape (n_frames, 3, 3)
        Cell vectors as rows, Å.

    Returns
    -------
    np.ndarray, shape (n_frames, 3, 3)
        Virial -stress x volume, eV.
    """
    volumes_a3 = np.abs(np.linalg.det(cells))
    return -np.asarray(stress_gpa) / GPA_PER_EV_A3 * volumes_a3[:, None, None]


def label_arrays(labels: orm.ArrayData, n_atoms: int, key: str) -> tuple[float, np.ndarray, np.ndarray]:
    """Energy (eV), forces (n_atoms, 3) eV/Å and pressure tensor (3, 3) GPa of one label node, shapes checked.

    Raises
    ------
    ValueError
        Naming ``labels.<key>`` and the array that is missing or has another shape.
    """
    shapes = {'energy_ev': (1,), 'forces_ev_a': (n_atoms, 3), 'stress_gpa': (3, 3)}
    for name, shape in shapes.items():
        if name not in labels.get_arraynames():
            raise ValueError(f'labels.{key}: no array {name!r}; a label node holds {sorted(shapes)}')
        if labels.get_shape(name) != shape:
            raise ValueError(f'labels.{key}: {name} has shape {labels.get_shape(name)}, expected {shape}')
    return float(labels.get_array('energy_ev')[0]), labels.get_array('forces_ev_a'), labels.get_array('stress_gpa')


@calcfunction
@returns_exit_codes
def label_dataset(selection: orm.Dict, **frames) -> orm.TrajectoryData:
    """Stack the labelled frames into one training dataset.

    Parameters
    ----------
    selection : Dict
        ``engine`` (str, the labeller), ``frame_indices`` ({key: index of the frame in the
        source}), ``skipped`` (list of ``{frame, key, pk, exit_status, message}``: frames
        whose labelling failed, with the PK, exit status and message of their process).
    **frames
        ``structures`` ({key: StructureData}) and ``labels`` ({key: ArrayData}, see
        :func:`label_arrays`), the same keys as ``selection['frame_indices']``; every frame
        with the same atoms in the same order.

    Returns
    -------
    TrajectoryData
        One row per labelled frame, in source order (``n_frames`` rows of ``n_atoms`` atoms):
        ``symbols``; ``positions`` (n_frames, n_atoms, 3) Å; ``cells`` (n_frames, 3, 3) Å, rows
        are the cell vectors; ``steps`` and ``frame_indices`` (n_frames,), the index of each
        row's frame in the source; ``energies`` (n_frames,) eV; ``forces`` (n_frames, n_atoms,
        3) eV/Å; ``stress`` (n_frames, 3, 3) GPa, positive under tension (minus the labels'
        ``stress_gpa``); ``virial`` (n_frames, 3, 3) eV = -stress x volume. Attributes
        ``engine``, ``units``, ``conventions`` (the signs), ``frame_keys`` (the key of each
        row) and ``skipped``.
    """
    record = selection.get_dict()
    structures, labels = frames.get('structures', {}), frames.get('labels', {})
    indices = record['frame_indices']
    if not indices or set(structures) != set(indices) or set(labels) != set(indices):
        raise ValueError(f'structures/labels: need one structure and one label node for each of {sorted(indices)}, '
                         f'got structures {sorted(structures)} and labels {sorted(labels)}')
    keys = sorted(indices, key=indices.get)
    elements = {key: site_symbols(structures[key]) for key in keys}
    message = other_systems(elements)
    if message:
        raise ValueError(message)
    symbols = elements[keys[0]]
    energies, forces, pressure = zip(*(label_arrays(labels[key], len(symbols), key) for key in keys))
    stress = -np.array(pressure)
    positions = np.array([[site.position for site in structures[key].sites] for key in keys])
    cells = np.array([structures[key].cell for key in keys])
    frame_indices = np.array([indices[key] for key in keys])
    dataset = orm.TrajectoryData()
    dataset.set_trajectory(symbols, positions, stepids=frame_indices, cells=cells, pbc=structures[keys[0]].pbc)
    dataset.set_array('frame_indices', frame_indices)
    dataset.set_array('energies', np.array(energies))
    dataset.set_array('forces', np.array(forces))
    dataset.set_array('stress', stress)
    dataset.set_array('virial', virial_ev(stress, cells))
    dataset.base.attributes.set_many({
        'engine': record['engine'], 'units': DATASET_UNITS, 'conventions': DATASET_CONVENTIONS,
        'frame_keys': keys, 'skipped': list(record['skipped']),
    })
    return dataset


@calcfunction
def trajectory_frames(trajectory: orm.TrajectoryData, frames: orm.List) -> dict[str, orm.StructureData]:
    """The ``frames`` (indices) of ``trajectory`` as structures keyed :func:`frame_key`, Å."""
    return {frame_key(index): trajectory.get_step_structure(index) for index in frames.get_list()}
