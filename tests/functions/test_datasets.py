"""Dataset calcfunctions: dft_label outputs, merges and DeePMD folders in; every frame's source kept; refusals."""
import numpy as np
import pytest
from aiida import orm

from aiida_boroglass.data.dataset import labelled_system
from aiida_boroglass.functions.datasets import dataset_from_labels, import_deepmd_folder, merge_datasets
from aiida_boroglass.functions.labels import label_dataset

SETTINGS = {'validation_fraction': 0.25, 'seed': 1}


def _label_output(structure, n_frames, seed, energy=None):
    """The TrajectoryData ``boroglass.dft_label`` returns: ``label_dataset`` run on moved copies of ``structure``."""
    rng = np.random.default_rng(seed)
    ase = structure.get_ase()
    structures, labels = {}, {}
    for frame in range(n_frames):
        moved = ase.copy()
        moved.positions += rng.normal(scale=0.05, size=moved.positions.shape)
        moved.set_cell(moved.cell * (1 + 0.01 * frame), scale_atoms=True)
        structures[f'f{frame}'] = orm.StructureData(ase=moved).store()
        node = orm.ArrayData()
        node.set_array('energy_ev', np.array([-100.0 - frame if energy is None else energy]))
        node.set_array('forces_ev_a', rng.normal(size=(len(moved), 3)))
        node.set_array('stress_gpa', rng.normal(size=(3, 3)))
        labels[f'f{frame}'] = node.store()
    selection = orm.Dict({'engine': 'cp2k', 'skipped': [], 'frame_indices': {f'f{k}': 2 * k for k in range(n_frames)}})
    return label_dataset(selection, structures=structures, labels=labels)


@pytest.fixture(scope='module')
def labelled(aiida_profile, k_borate_21):
    """Two label outputs of the 21-atom glass (4 and 3 frames) and one of its first 9 atoms (2 frames)."""
    small = orm.StructureData(ase=k_borate_21.get_ase()[:9])
    return _label_output(k_borate_21, 4, 1), _label_output(k_borate_21, 3, 2), _label_output(small, 2, 3)


def test_dataset_from_labels_keeps_labels_and_sources(labelled):
    """Energies, forces, virials and positions equal the label output's; sources are its uuid and row."""
    big, other, small = labelled
    dataset, node = dataset_from_labels.run_get_node(orm.Dict(SETTINGS), a=big, b=small)
    assert node.is_finished_ok, node.exit_message
    assert dataset.type_map == sorted(set(big.symbols))
    assert [(s['n_atoms'], s['n_frames'], s['has_virials']) for s in dataset.systems] == [(21, 4, True), (9, 2, True)]
    np.testing.assert_array_equal(dataset.get_array('system_0_energies'), big.get_array('energies'))
    np.testing.assert_array_equal(dataset.get_array('system_0_forces'), big.get_array('forces'))
    np.testing.assert_array_equal(dataset.get_array('system_0_virials'), big.get_array('virial'))
    np.testing.assert_array_equal(dataset.get_array('system_0_coords'), big.get_positions())
    np.testing.assert_array_equal(dataset.get_array('system_0_cells'), big.get_cells())
    assert [dataset.type_map[t] for t in dataset.get_array('system_1_atom_types')] == list(small.symbols)
    assert dataset.systems[0]['sources'] == [[big.uuid, row] for row in range(4)]
    assert dataset.systems[1]['sources'] == [[small.uuid, 0], [small.uuid, 1]]
    assert [len(s['validation']) for s in dataset.systems] == [1, 1]
    incoming = {link.link_label: link.node.uuid for link in node.base.links.get_incoming().all()}
    assert incoming['a'] == big.uuid and incoming['b'] == small.uuid


def test_merge_keeps_every_frame_and_source(labelled):
    """Merged: the two runs of the 21-atom glass are one system of 7 frames, every (uuid, row) once."""
    big, other, small = labelled
    first = dataset_from_labels(orm.Dict(SETTINGS), a=big, b=small)
    second = dataset_from_labels(orm.Dict(SETTINGS), a=other)
    merged, node = merge_datasets.run_get_node(orm.Dict({'validation_fraction': 0.5, 'seed': 4}),
                                               first=first, second=second)
    assert node.is_finished_ok, node.exit_message
    assert merged.n_frames == first.n_frames + second.n_frames == 9
    assert [(s['n_atoms'], s['n_frames']) for s in merged.systems] == [(21, 7), (9, 2)]
    sources = [tuple(source) for system in merged.systems for source in system['sources']]
    expected = [tuple(source) for dataset in (first, second) for system in dataset.systems
                for source in system['sources']]
    assert sorted(sources) == sorted(expected) and len(set(sources)) == 9
    np.testing.assert_array_equal(merged.get_array('system_0_forces'),
                                  np.concatenate([big.get_array('forces'), other.get_array('forces')]))
    assert len(merged.systems[0]['validation']) == 4  # round(0.5 x 7): the split is drawn anew


def _write_folder(root, seed, n_frames=5):
    """A DeePMD folder written by dpdata: a 4-atom Li-B-O system with virials; returns the system."""
    rng = np.random.default_rng(seed)
    system = labelled_system(['Li', 'B', 'O'], np.array([0, 1, 2, 2]), {
        'coords': rng.uniform(0, 6, (n_frames, 4, 3)), 'cells': np.array([np.eye(3) * 6.0] * n_frames),
        'energies': rng.uniform(-30, -20, n_frames), 'forces': rng.normal(size=(n_frames, 4, 3)),
        'virials': rng.normal(size=(n_frames, 3, 3))})
    system.to('deepmd/npy', str(root))
    return system


def test_import_of_a_folder_written_by_dpdata(aiida_profile, tmp_path):
    """One system folder and a folder of two: labels equal dpdata's, sources are the FolderData and a running index."""
    single = _write_folder(tmp_path / 'single', seed=1)
    folder = orm.FolderData(tree=tmp_path / 'single').store()
    dataset, node = import_deepmd_folder.run_get_node(orm.Dict(SETTINGS), folder)
    assert node.is_finished_ok, node.exit_message
    assert dataset.type_map == ['B', 'Li', 'O']
    np.testing.assert_array_equal(dataset.get_array('system_0_atom_types'), [1, 0, 2, 2])
    for key in ('coords', 'cells', 'energies', 'forces', 'virials'):
        np.testing.assert_array_equal(dataset.get_array(f'system_0_{key}'), single[key])
    assert dataset.systems[0]['sources'] == [[folder.uuid, frame] for frame in range(5)]
    first = _write_folder(tmp_path / 'many' / 'a', seed=2, n_frames=2)
    second = _write_folder(tmp_path / 'many' / 'b', seed=3, n_frames=3)
    many = orm.FolderData(tree=tmp_path / 'many').store()
    dataset = import_deepmd_folder(orm.Dict(SETTINGS), many)
    assert [s['n_frames'] for s in dataset.systems] == [5]  # same atoms in the same order: one system
    assert dataset.systems[0]['sources'] == [[many.uuid, frame] for frame in range(5)]
    np.testing.assert_array_equal(dataset.get_array('system_0_energies'),
                                  np.concatenate([first['energies'], second['energies']]))


@pytest.mark.parametrize('settings, status, message', [
    ({'validation_fraction': 0.7}, 301, 'settings.validation_fraction: must be a number in (0.0, 0.5]'),
    ({'seed': -2}, 301, 'settings.seed'),
    ({'fraction': 0.1}, 301, "unknown key(s) ['fraction']"),
])
def test_bad_settings_are_refused(labelled, settings, status, message):
    _, node = dataset_from_labels.run_get_node(orm.Dict(settings), a=labelled[0])
    assert node.exit_status == status and message in node.exit_message
    assert not node.base.links.get_outgoing().all()


def test_bad_data_is_refused_and_nothing_stored(aiida_profile, k_borate_21, tmp_path):
    """A NaN energy, a folder that is not DeePMD data, a node that is not a dataset: status 320, no output."""
    nan = _label_output(orm.StructureData(ase=k_borate_21.get_ase()[:6]), 2, 5, energy=np.nan)
    (tmp_path / 'notes').mkdir()
    (tmp_path / 'notes' / 'README').write_text('not DeePMD data')
    cases = [
        (dataset_from_labels, {'a': nan}, 'systems[0].energies: 2 values are NaN or inf'),
        (import_deepmd_folder, {'folder': orm.FolderData(tree=tmp_path / 'notes').store()},
         'folder: not a DeePMD data folder'),
        (merge_datasets, {'a': nan}, 'datasets.a: of type TrajectoryData, not a boroglass.dataset'),
        (dataset_from_labels, {'a': orm.Int(1).store()}, 'labels.a: of type Int'),
    ]
    for function, inputs, message in cases:
        _, node = function.run_get_node(orm.Dict(SETTINGS), **inputs)
        assert node.exit_status == 320 and message in node.exit_message, node.exit_message
        assert not node.base.links.get_outgoing().all()
