"""AiiDA data type of a labelled dataset for DeePMD-kit training: systems of frames, type map, train/validation split.

A dataset holds one or more *systems*; a system is a run of frames with the same atoms in
the same order (cells may differ). System ``i`` is stored as the arrays

================================ =========================== =======
array                            shape                       unit
================================ =========================== =======
``system_{i}_coords``            (n_frames, n_atoms, 3)      Å
``system_{i}_cells``             (n_frames, 3, 3), rows      Å
``system_{i}_energies``          (n_frames,)                 eV
``system_{i}_forces``            (n_frames, n_atoms, 3)      eV/Å
``system_{i}_virials``           (n_frames, 3, 3), optional  eV
``system_{i}_atom_types``        (n_atoms,)                  index into ``type_map``
================================ =========================== =======

The virial is DeePMD-kit's and dpdata's: -stress x volume, 1/3 of its trace is pressure x
volume (see :data:`aiida_boroglass.functions.labels.DATASET_CONVENTIONS`). Attributes:
``type_map`` (sorted element symbols of all systems), ``systems`` (per system: ``name``,
``n_frames``, ``n_atoms``, ``has_virials``, ``validation`` -- sorted frame indices of the
validation split -- and ``sources``: per frame ``[uuid of the source node, index of the frame
in it]``), ``units`` and ``conventions``.

Every conversion to and from DeePMD-kit's format goes through ``dpdata``.
"""
from __future__ import annotations

import pathlib
from collections.abc import Sequence

import dpdata
import numpy as np
from aiida import orm
from ase.data import chemical_symbols
from dpdata.data_type import DataError

from aiida_boroglass.functions.labels import DATASET_CONVENTIONS

#: Units of the arrays of a dataset.
DATASET_UNITS = {'coords': 'Å', 'cells': 'Å', 'energies': 'eV', 'forces': 'eV/Å', 'virials': 'eV'}

#: Allowed validation fraction: (low, high], low excluded (training reports validation errors).
VALIDATION_FRACTION_RANGE = (0.0, 0.5)

#: The parts of a dataset :meth:`LabelledDatasetData.to_dpdata` and :meth:`~LabelledDatasetData.write_deepmd` give.
PARTS = ('all', 'train', 'validation')

#: Per-frame dpdata keys stored per system (dpdata key = our array suffix); ``virials`` is optional.
FRAME_KEYS = ('coords', 'cells', 'energies', 'forces', 'virials')


def check_split(validation_fraction: float, seed: int) -> None:
    """Refuse a validation fraction outside (0, 0.5] or a seed that is not an integer >= 0.

    Raises
    ------
    ValueError
        Naming ``validation_fraction`` or ``seed`` and the allowed values.
    """
    low, high = VALIDATION_FRACTION_RANGE
    if isinstance(validation_fraction, bool) or not isinstance(validation_fraction, (int, float, np.floating)) \
            or not low < validation_fraction <= high:
        raise ValueError(f'validation_fraction: must be a number in ({low}, {high}], got {validation_fraction!r}')
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f'seed: must be an integer >= 0, got {seed!r}')


def validation_frames(n_frames: int, validation_fraction: float, seed: int, system_index: int) -> list[int]:
    """Frames of one system held out for validation, drawn reproducibly.

    Parameters
    ----------
    n_frames : int
        Frames of the system.
    validation_fraction : float
        Fraction of the frames to hold out, in (0, 0.5].
    seed : int
        Seed of the split; with ``system_index`` it fixes the draw.
    system_index : int
        Index of the system in the dataset (each system is drawn from its own stream).

    Returns
    -------
    list of int
        Sorted frame indices: ``max(1, round(fraction x n_frames))`` of them when
        ``n_frames >= 2``, none for a single frame.
    """
    if n_frames < 2:
        return []
    n_validation = max(1, int(round(validation_fraction * n_frames)))
    drawn = np.random.default_rng([seed, system_index]).permutation(n_frames)[:n_validation]
    return sorted(int(frame) for frame in drawn)


def labelled_system(type_map: Sequence[str], atom_types: np.ndarray,
                    frames: dict[str, np.ndarray]) -> dpdata.LabeledSystem:
    """A ``dpdata.LabeledSystem`` of stacked frames, every element of ``type_map`` among its atom names.

    Parameters
    ----------
    type_map : sequence of str
        Element of each type index.
    atom_types : np.ndarray, shape (n_atoms,)
        Type index of every atom.
    frames : dict
        ``coords`` (n_frames, n_atoms, 3) Å, ``cells`` (n_frames, 3, 3) Å, ``energies``
        (n_frames,) eV, ``forces`` (n_frames, n_atoms, 3) eV/Å and optionally ``virials``
        (n_frames, 3, 3) eV (dpdata sign).

    Returns
    -------
    dpdata.LabeledSystem
        Periodic; dpdata checks the shapes.
    """
    atom_types = np.asarray(atom_types, dtype=int)
    data = {'atom_names': list(type_map), 'atom_types': atom_types, 'orig': np.zeros(3), 'nopbc': False,
            'atom_numbs': [int(np.sum(atom_types == index)) for index in range(len(type_map))]}
    data.update({key: np.asarray(frames[key], dtype=float) for key in FRAME_KEYS if frames.get(key) is not None})
    return dpdata.LabeledSystem(data=data)


def check_finite(field: str, frames: dict[str, np.ndarray | None]) -> None:
    """Refuse NaN or inf in the arrays of one system (dpdata checks their shapes, not their values).

    Parameters
    ----------
    field : str
        Name of the system in the message, e.g. ``systems[0]``.
    frames : dict
        The arrays of :data:`FRAME_KEYS` (a dpdata system's ``data``); ``virials`` may be absent.

    Raises
    ------
    ValueError
        ``<field>.<array>: <n> values are NaN or inf``.
    """
    for key in FRAME_KEYS:
        values = frames.get(key)
        bad = 0 if values is None else int(np.sum(~np.isfinite(values)))
        if bad:
            raise ValueError(f'{field}.{key}: {bad} values are NaN or inf')


def check_type_map(type_map: Sequence[str]) -> None:
    """Refuse type names that are not element symbols (e.g. dpdata's ``Type_0`` when a folder has no type_map.raw)."""
    unknown = [name for name in type_map if name not in chemical_symbols[1:]]
    if unknown:
        raise ValueError(f'type_map: {unknown} are not element symbols; a DeePMD folder needs type_map.raw naming them')


def joined_systems(systems: Sequence[dpdata.LabeledSystem],
                   sources: Sequence[Sequence[tuple[str, int]]]) -> list[tuple[dpdata.LabeledSystem, list]]:
    """Join the systems that hold the same atoms in the same order (and virials alike), keeping the frame sources.

    Parameters
    ----------
    systems : sequence of dpdata.LabeledSystem
        Every one already on the same type map.
    sources : sequence of sequences of (str, int)
        Per system, per frame: uuid of the source node and index of the frame in it.

    Returns
    -------
    list of (dpdata.LabeledSystem, list)
        The joined systems in order of first appearance, each with its frames' sources.
    """
    groups: dict[tuple, tuple[dpdata.LabeledSystem, list]] = {}
    for system, frame_sources in zip(systems, sources):
        key = (tuple(system['atom_types']), system.has_virial())
        if key in groups:
            groups[key][0].append(system)
            groups[key][1].extend(frame_sources)
        else:
            groups[key] = (system.copy(), list(frame_sources))
    return list(groups.values())


def unique_names(formulas: Sequence[str]) -> list[str]:
    """``formulas`` with repeats made unique by a suffix: ``B2O3``, ``B2O3-1``, ... (folder names of the systems)."""
    names = []
    for formula in formulas:
        count = sum(1 for earlier in formulas[:len(names)] if earlier == formula)
        names.append(formula if count == 0 else f'{formula}-{count}')
    return names


def label_ranges(energies: np.ndarray, forces: np.ndarray, n_atoms: int) -> dict[str, float]:
    """Energy per atom range (eV/atom) and largest force norm (eV/Å) of stacked frames.

    Parameters
    ----------
    energies : np.ndarray, shape (n_frames,)
        Total energies, eV.
    forces : np.ndarray, shape (n_frames, n_atoms, 3)
        Forces, eV/Å.
    n_atoms : int
        Atoms per frame.
    """
    per_atom = np.asarray(energies) / n_atoms
    return {'energy_min_ev_atom': float(per_atom.min()), 'energy_max_ev_atom': float(per_atom.max()),
            'force_max_ev_a': float(np.linalg.norm(forces, axis=-1).max())}


class LabelledDatasetData(orm.ArrayData):
    """Labelled frames for DeePMD-kit training, grouped in systems, with a type map and a train/validation split.

    Build with :meth:`from_dpdata`; read back with :meth:`to_dpdata` or :meth:`write_deepmd`.
    See the module docstring for the arrays and attributes.
    """

    @classmethod
    def from_dpdata(cls, systems: dpdata.MultiSystems | list[dpdata.LabeledSystem],
                    sources: list[list[tuple[str, int]]], validation_fraction: float,
                    seed: int, kept_validation: Sequence[Sequence[int]] = ()) -> LabelledDatasetData:
        """An unstored dataset of dpdata systems, the frames' sources and a reproducible validation split.

        Systems that hold the same atoms in the same order (and both or neither carry
        virials) are joined into one system; the type map is the sorted elements of all
        atoms, every system's type indices remapped to it.

        Parameters
        ----------
        systems : dpdata.MultiSystems or list of dpdata.LabeledSystem
            Labelled frames: energies eV, forces eV/Å, coordinates and cells Å, virials eV.
        sources : list of list of (str, int)
            Per system, per frame: uuid of the node the frame comes from and the index of the
            frame in that node.
        validation_fraction : float
            Fraction of each system's frames held out for validation, in (0, 0.5]; at least
            one frame of a system of two or more frames, none of a single frame.
        seed : int
            Seed of the split (>= 0); the same seed gives the same split.
        kept_validation : sequence of sequences of int, optional
            Validation frames of the first joined systems, kept instead of drawn (a dataset
            extended by new training frames keeps its held-out frames): entry ``i`` lists the
            held-out frame indices of joined system ``i``.

        Raises
        ------
        ValueError
            One line naming the field: no frames, NaN or inf values, shapes that do not
            match, sources that do not match the frames, type names that are not elements,
            a fraction or seed out of range.
        """
        check_split(validation_fraction, seed)
        systems = list(systems.systems.values()) if isinstance(systems, dpdata.MultiSystems) else list(systems)
        if not systems:
            raise ValueError('systems: no systems; a dataset needs at least one labelled frame')
        if len(sources) != len(systems):
            raise ValueError(f'sources: {len(sources)} lists for {len(systems)} systems; give one per system')
        for index, (system, frame_sources) in enumerate(zip(systems, sources)):
            if len(system) == 0:
                raise ValueError(f'systems[{index}]: no frames; every system needs at least one labelled frame')
            if len(frame_sources) != len(system):
                raise ValueError(f'sources[{index}]: {len(frame_sources)} entries for {len(system)} frames')
        type_map = sorted({name for system in systems
                           for name, count in zip(system['atom_names'], system['atom_numbs']) if count})
        check_type_map(type_map)
        mapped = []
        for index, system in enumerate(systems):
            try:
                system = system.copy()
            except DataError as error:  # dpdata checks the shapes of a system's arrays when it copies it
                raise ValueError(f'systems[{index}]: {error}') from None
            check_finite(f'systems[{index}]', system.data)
            system.sort_atom_names(type_map=type_map)
            mapped.append(system)
        joined = joined_systems(mapped, sources)
        names = unique_names([system.short_formula for system, _ in joined])
        dataset = cls()
        records = []
        for index, ((system, frame_sources), name) in enumerate(zip(joined, names)):
            arrays = {key: system.data.get(key) for key in FRAME_KEYS}
            arrays['atom_types'] = np.asarray(system['atom_types'], dtype=int)
            for key, values in arrays.items():
                if values is not None:
                    dataset.set_array(f'system_{index}_{key}', np.asarray(values))
            records.append({
                'name': name, 'n_frames': len(system), 'n_atoms': system.get_natoms(),
                'has_virials': system.has_virial(),
                'validation': ([int(frame) for frame in kept_validation[index]] if index < len(kept_validation)
                               else validation_frames(len(system), validation_fraction, seed, index)),
                'sources': [[str(uuid), int(frame)] for uuid, frame in frame_sources],
            })
        dataset.base.attributes.set_many({'type_map': type_map, 'systems': records, 'units': DATASET_UNITS,
                                          'conventions': {'virials': DATASET_CONVENTIONS['virial']},
                                          'validation_fraction': float(validation_fraction), 'seed': int(seed)})
        return dataset

    @property
    def type_map(self) -> list[str]:
        """Element symbol of every type index, sorted."""
        return list(self.base.attributes.get('type_map'))

    @property
    def systems(self) -> list[dict]:
        """Per system: ``name``, ``n_frames``, ``n_atoms``, ``has_virials``, ``validation``, ``sources``."""
        return list(self.base.attributes.get('systems'))

    @property
    def n_frames(self) -> int:
        """Frames of all systems."""
        return sum(system['n_frames'] for system in self.systems)

    def frames_of(self, index: int, part: str = 'all') -> list[int]:
        """Frame indices of system ``index`` in ``part`` (``all``, ``train`` or ``validation``), sorted."""
        if part not in PARTS:
            raise ValueError(f'part: must be one of {list(PARTS)}, got {part!r}')
        record = self.systems[index]
        validation = set(record['validation'])
        return [frame for frame in range(record['n_frames'])
                if part == 'all' or (frame in validation) == (part == 'validation')]

    def part_system(self, index: int, part: str = 'all') -> dpdata.LabeledSystem | None:
        """The frames of ``part`` of system ``index`` as a ``dpdata.LabeledSystem`` on the full type map, or None."""
        frames = self.frames_of(index, part)
        if not frames:
            return None
        names = self.get_arraynames()
        arrays = {key: self.get_array(f'system_{index}_{key}')[frames] for key in FRAME_KEYS
                  if f'system_{index}_{key}' in names}
        return labelled_system(self.type_map, self.get_array(f'system_{index}_atom_types'), arrays)

    def to_dpdata(self, part: str = 'all') -> dpdata.MultiSystems:
        """The frames of ``part`` (``all``, ``train`` or ``validation``) as a ``dpdata.MultiSystems`` on the type map.

        dpdata keys a ``MultiSystems`` by formula: two stored systems of one formula (atoms
        in another order) become one there, their atoms sorted by type.
        """
        systems = (self.part_system(index, part) for index in range(len(self.systems)))
        return dpdata.MultiSystems(*(system for system in systems if system is not None), type_map=self.type_map)

    def write_deepmd(self, folder: pathlib.Path) -> dict[str, list[str]]:
        """Write the train and validation frames as DeePMD-kit ``deepmd/npy`` systems, with dpdata.

        Parameters
        ----------
        folder : pathlib.Path
            Written are ``folder/train/<system name>`` and ``folder/validation/<system name>``;
            every system's ``type_map.raw`` is the dataset's full type map, so type indices
            are those of a model trained with :attr:`type_map`.

        Returns
        -------
        dict
            ``{'train': [...], 'validation': [...]}``: the system folders relative to ``folder``
            (a system of one frame has no validation folder).
        """
        written: dict[str, list[str]] = {'train': [], 'validation': []}
        for part, paths in written.items():
            for index, record in enumerate(self.systems):
                system = self.part_system(index, part)
                if system is not None:
                    relative = pathlib.Path(part) / record['name']
                    system.to('deepmd/npy', str(pathlib.Path(folder) / relative))
                    paths.append(str(relative))
        return written

    def system_summary(self, index: int) -> dict:
        """Frames (train, validation), atoms, energy per atom range (eV/atom), max |force| (eV/Å) of one system."""
        record = self.systems[index]
        return {'name': record['name'], 'n_atoms': record['n_atoms'],
                'n_frames_train': record['n_frames'] - len(record['validation']),
                'n_frames_validation': len(record['validation']), 'has_virials': record['has_virials'],
                **label_ranges(self.get_array(f'system_{index}_energies'), self.get_array(f'system_{index}_forces'),
                               record['n_atoms'])}

    def summary(self) -> dict:
        """Totals of the dataset for a table.

        Returns
        -------
        dict
            ``n_systems``; ``n_frames_train``, ``n_frames_validation``; ``n_atoms_min``,
            ``n_atoms_max`` (atoms per frame); ``species`` (the type map);
            ``energy_min_ev_atom``, ``energy_max_ev_atom`` (eV/atom); ``force_max_ev_a``
            (largest force norm, eV/Å); ``has_virials`` (every system carries virials).
        """
        rows = [self.system_summary(index) for index in range(len(self.systems))]
        return {
            'n_systems': len(rows),
            'n_frames_train': sum(row['n_frames_train'] for row in rows),
            'n_frames_validation': sum(row['n_frames_validation'] for row in rows),
            'n_atoms_min': min(row['n_atoms'] for row in rows), 'n_atoms_max': max(row['n_atoms'] for row in rows),
            'species': self.type_map,
            'energy_min_ev_atom': min(row['energy_min_ev_atom'] for row in rows),
            'energy_max_ev_atom': max(row['energy_max_ev_atom'] for row in rows),
            'force_max_ev_a': max(row['force_max_ev_a'] for row in rows),
            'has_virials': all(row['has_virials'] for row in rows),
        }
