"""The labelled dataset: dpdata in, stored arrays, deepmd/npy out and read back by dpdata, split, summary, refusals."""
import dpdata
import numpy as np
import pytest
from aiida import orm

from aiida_boroglass.data.dataset import LabelledDatasetData, labelled_system, validation_frames


def _system(names, types, n_frames, seed, virials=True):
    """A dpdata system of ``n_frames`` random frames of atoms ``types`` (indices into ``names``)."""
    rng = np.random.default_rng(seed)
    n_atoms = len(types)
    frames = {'coords': rng.uniform(0, 8, (n_frames, n_atoms, 3)),
              'cells': np.array([np.diag([8.0, 8.5, 9.0]) + 0.1 * frame for frame in range(n_frames)]),
              'energies': rng.uniform(-50, -40, n_frames), 'forces': rng.normal(size=(n_frames, n_atoms, 3)),
              'virials': rng.normal(size=(n_frames, 3, 3)) if virials else None}
    return labelled_system(names, np.array(types), frames)


def _sources(uuid, system):
    return [(uuid, frame) for frame in range(len(system))]


@pytest.fixture
def two_systems():
    """A K-O-B system whose own type order is [O, K, B], and an Li-O system without virials."""
    kob = _system(['O', 'K', 'B'], [2, 0, 1, 0, 0, 2], 6, seed=1)
    lio = _system(['Li', 'O'], [0, 0, 1], 3, seed=2, virials=False)
    return kob, lio


def test_round_trip_through_deepmd_folders(aiida_profile, two_systems, tmp_path):
    """Arrays -> stored node -> deepmd/npy folders -> dpdata: every frame back, type indices on the full map."""
    kob, lio = two_systems
    dataset = LabelledDatasetData.from_dpdata([kob, lio], [_sources('a', kob), _sources('b', lio)], 0.34, seed=3)
    dataset.store()
    dataset = orm.load_node(dataset.pk)
    assert dataset.type_map == ['B', 'K', 'Li', 'O']
    assert [system['name'] for system in dataset.systems] == ['B2K1O3', 'Li2O1']
    assert dataset.n_frames == 9
    np.testing.assert_array_equal(dataset.get_array('system_0_atom_types'), [0, 3, 1, 3, 3, 0])
    np.testing.assert_array_equal(dataset.get_array('system_1_atom_types'), [2, 2, 3])
    assert 'system_1_virials' not in dataset.get_arraynames()
    written = dataset.write_deepmd(tmp_path)
    assert written == {'train': ['train/B2K1O3', 'train/Li2O1'],
                       'validation': ['validation/B2K1O3', 'validation/Li2O1']}
    for index, original in enumerate((kob, lio)):
        record = dataset.systems[index]
        for part in ('train', 'validation'):
            folder = tmp_path / part / record['name']
            assert (folder / 'type_map.raw').read_text().split() == ['B', 'K', 'Li', 'O']
            read = dpdata.LabeledSystem(str(folder), fmt='deepmd/npy')
            frames = dataset.frames_of(index, part)
            np.testing.assert_array_equal(read['atom_types'], dataset.get_array(f'system_{index}_atom_types'))
            for key in ('coords', 'cells', 'energies', 'forces'):
                np.testing.assert_array_equal(read[key], original[key][frames])
            assert (folder / 'set.000' / 'virial.npy').exists() == original.has_virial()
            if original.has_virial():
                np.testing.assert_array_equal(read['virials'], original['virials'][frames])
    everything = dataset.to_dpdata()
    assert everything.atom_names == ['B', 'K', 'Li', 'O'] and everything.get_nframes() == 9
    np.testing.assert_array_equal(everything['B2K1Li0O3']['energies'], kob['energies'])


def test_split_is_reproducible_disjoint_and_never_empty(aiida_profile, two_systems):
    """Same seed, same split; train and validation cover every frame once; one frame of a 3-frame system at 0.1."""
    kob, lio = two_systems
    sources = [_sources('a', kob), _sources('b', lio)]
    first = LabelledDatasetData.from_dpdata([kob, lio], sources, 0.5, seed=7)
    again = LabelledDatasetData.from_dpdata([kob, lio], sources, 0.5, seed=7)
    assert [s['validation'] for s in first.systems] == [s['validation'] for s in again.systems]
    assert len(first.systems[0]['validation']) == 3  # 0.5 x 6
    for index, system in enumerate(first.systems):
        train, validation = first.frames_of(index, 'train'), first.frames_of(index, 'validation')
        assert not set(train) & set(validation)
        assert sorted(train + validation) == list(range(system['n_frames']))
    seeds = {tuple(validation_frames(20, 0.25, seed, 0)) for seed in range(10)}
    assert len(seeds) > 1  # the seed changes the draw
    assert len(validation_frames(3, 0.1, 0, 0)) == 1
    assert validation_frames(1, 0.5, 0, 0) == []
    split = LabelledDatasetData.from_dpdata([kob, lio], sources, 0.1, seed=0)
    assert [len(s['validation']) for s in split.systems] == [1, 1]
    assert split.to_dpdata('validation').get_nframes() == 2 and split.to_dpdata('train').get_nframes() == 7


def test_systems_of_the_same_atoms_are_joined_with_their_sources(aiida_profile):
    """Two runs of one system become one system (sources in order); the same formula in another order stays apart."""
    first = _system(['B', 'O'], [0, 1, 1], 2, seed=1)
    second = _system(['O', 'B'], [1, 0, 0], 3, seed=2)  # the same atoms, other type order
    shuffled = _system(['B', 'O'], [1, 0, 1], 1, seed=3)
    dataset = LabelledDatasetData.from_dpdata([first, second, shuffled],
                                              [_sources('u1', first), _sources('u2', second), [('u3', 9)]], 0.2, 0)
    assert [(s['name'], s['n_frames']) for s in dataset.systems] == [('B1O2', 5), ('B1O2-1', 1)]
    assert dataset.systems[0]['sources'] == [['u1', 0], ['u1', 1], ['u2', 0], ['u2', 1], ['u2', 2]]
    assert dataset.systems[1]['sources'] == [['u3', 9]]
    np.testing.assert_array_equal(dataset.get_array('system_0_forces'),
                                  np.concatenate([first['forces'], second['forces']]))


def test_summary_against_hand_computed_values(aiida_profile):
    """Energies -12 and -9 eV of 3 atoms and -8 eV of 2; largest force (3, 4, 0): 5 eV/Å; one system without virials."""
    forces = np.zeros((2, 3, 3))
    forces[1, 2] = [3.0, -4.0, 0.0]
    three = labelled_system(['B', 'O'], np.array([0, 1, 1]), {
        'coords': np.zeros((2, 3, 3)), 'cells': np.array([np.eye(3) * 5] * 2), 'energies': np.array([-12.0, -9.0]),
        'forces': forces, 'virials': np.zeros((2, 3, 3))})
    two = labelled_system(['K', 'O'], np.array([0, 1]), {
        'coords': np.zeros((1, 2, 3)), 'cells': np.array([np.eye(3) * 5]), 'energies': np.array([-8.0]),
        'forces': np.ones((1, 2, 3))})
    dataset = LabelledDatasetData.from_dpdata([three, two], [[('a', 0), ('a', 1)], [('b', 0)]], 0.5, 0)
    assert dataset.summary() == {
        'n_systems': 2, 'n_frames_train': 2, 'n_frames_validation': 1, 'n_atoms_min': 2, 'n_atoms_max': 3,
        'species': ['B', 'K', 'O'], 'energy_min_ev_atom': -4.0, 'energy_max_ev_atom': -3.0, 'force_max_ev_a': 5.0,
        'has_virials': False}
    assert dataset.system_summary(1)['force_max_ev_a'] == pytest.approx(np.sqrt(3.0))
    assert dataset.base.attributes.get('units') == {'coords': 'Å', 'cells': 'Å', 'energies': 'eV',
                                                    'forces': 'eV/Å', 'virials': 'eV'}


def _spoiled(key, value):
    """A valid system with ``data[key]`` replaced by ``value(data[key])`` after dpdata checked it."""
    system = _system(['B', 'O'], [0, 1, 1], 3, seed=4)
    system.data[key] = value(system.data[key])
    return system


def _with_nan(values):
    values = values.copy()
    values.flat[1] = np.nan
    return values


@pytest.mark.parametrize('systems, sources, fraction, seed, field', [
    ([], [], 0.1, 0, 'systems: no systems'),
    (lambda: [_spoiled('energies', _with_nan)], None, 0.1, 0, r'systems\[0\].energies: 1 values are NaN'),
    (lambda: [_spoiled('forces', lambda f: f * np.inf)], None, 0.1, 0, r'systems\[0\].forces: .* NaN or inf'),
    (lambda: [_spoiled('virials', _with_nan)], None, 0.1, 0, r'systems\[0\].virials'),
    (lambda: [_spoiled('forces', lambda f: f[:, :2])], None, 0.1, 0,
     r'systems\[0\]: Shape of forces is \(3, 2, 3\), but expected \(3, 3, 3\)'),
    (lambda: [_spoiled('virials', lambda v: v[:, :2])], None, 0.1, 0, r'systems\[0\]: Shape of virials'),
    (lambda: [_spoiled('atom_names', lambda n: ['Type_0', 'Type_1'])], None, 0.1, 0, 'type_map:'),
    (lambda: [dpdata.LabeledSystem()], [[]], 0.1, 0, r'systems\[0\]: no frames'),
    (lambda: [_system(['B', 'O'], [0, 1], 3, 5)], [[('a', 0)]], 0.1, 0, r'sources\[0\]: 1 entries for 3 frames'),
    (lambda: [_system(['B', 'O'], [0, 1], 3, 5)], [], 0.1, 0, 'sources: 0 lists for 1 systems'),
    (lambda: [_system(['B', 'O'], [0, 1], 3, 5)], None, 0.0, 0,
     r'validation_fraction: must be a number in \(0.0, 0.5\]'),
    (lambda: [_system(['B', 'O'], [0, 1], 3, 5)], None, 0.6, 0, 'validation_fraction'),
    (lambda: [_system(['B', 'O'], [0, 1], 3, 5)], None, 0.1, -1, 'seed: must be an integer >= 0'),
], ids=['none', 'nan-energy', 'inf-force', 'nan-virial', 'forces-shape', 'virials-shape', 'not-elements', 'empty',
        'sources-short', 'sources-missing', 'fraction-zero', 'fraction-big', 'seed'])
def test_refusals_name_the_field(aiida_profile, systems, sources, fraction, seed, field):
    systems = systems() if callable(systems) else systems
    sources = [_sources('x', system) for system in systems] if sources is None else sources
    with pytest.raises(ValueError, match=f'^{field}'):
        LabelledDatasetData.from_dpdata(systems, sources, fraction, seed)
