"""Frame selection, dataset extension and the learning report of concurrent learning, on hand-built data."""
import dpdata
import numpy as np
import pytest
from aiida import orm

from aiida_boroglass.data.dataset import LabelledDatasetData
from aiida_boroglass.functions.datasets import dataset_structure, extend_dataset
from aiida_boroglass.functions.labels import frame_key
from aiida_boroglass.functions.learning import frame_deviations, report_row, select_frames

SYMBOLS = ['B', 'B', 'O', 'O', 'O', 'O']
LEARNING = {'trust_lo_ev_a': 0.1, 'trust_hi_ev_a': 0.5, 'max_labels': 2, 'selection': 'spread'}


def trajectory(seed: int, steps, store: bool = True) -> orm.TrajectoryData:
    """Frames of six atoms in a 10 Å cube at ``steps`` (stored unless ``store`` is False)."""
    rng = np.random.default_rng(seed)
    node = orm.TrajectoryData()
    node.set_trajectory(SYMBOLS, rng.random((len(steps), len(SYMBOLS), 3)) * 10.0, stepids=np.array(steps),
                        cells=np.tile(10.0 * np.eye(3), (len(steps), 1, 1)), pbc=(True, True, True))
    return node.store() if store else node


def deviation(steps, values) -> orm.ArrayData:
    """A model deviation output with rows at ``steps``."""
    node = orm.ArrayData()
    node.set_array('steps', np.array(steps))
    node.set_array('max_devi_f', np.array(values, dtype=float))
    return node.store()


def test_frames_are_matched_to_deviation_rows_by_step():
    matched = frame_deviations(np.array([0, 10, 20, 30]), np.array([30, 0, 10]), np.array([3.0, 0.0, 1.0]))
    np.testing.assert_array_equal(matched[[0, 1, 3]], [0.0, 1.0, 3.0])
    assert np.isnan(matched[2])


@pytest.fixture(scope='module')
def selected(aiida_profile):
    """Two runs: frames at steps 0..50; run ``a`` lacks the row of step 20."""
    trajectories = {'a': trajectory(1, [0, 10, 20, 30, 40, 50]), 'b': trajectory(2, [0, 10, 20, 30, 40, 50])}
    deviations = {'a': deviation([0, 10, 30, 40, 50], [0.3, 0.05, 0.2, 0.7, 0.12]),
                  'b': deviation([0, 10, 20, 30, 40, 50], [0.3, 0.3, 0.09, 0.1, float('nan'), 0.49])}
    result, node = select_frames.run_get_node(orm.Dict(LEARNING), trajectories=trajectories, deviations=deviations)
    assert node.is_finished_ok, node.exit_message
    return result, trajectories


def test_every_frame_after_the_start_with_a_row_is_classified(selected):
    selection = selected[0]['selection'].get_dict()
    # a: steps 10, 30, 40, 50 (20 has no row); b: steps 10..50; step 0 (the start) of neither
    assert selection['n_frames'] == 9
    assert selection['counts'] == {'accurate': 2, 'candidate': 5, 'failed': 2}
    assert selection['conditions']['a'] == {'n_frames': 4, 'n_accurate': 1, 'n_candidate': 2, 'n_failed': 1,
                                            'max_devi_f_mean_ev_a': pytest.approx((0.05 + 0.2 + 0.7 + 0.12) / 4)}
    assert sum(selection['fractions'].values()) == pytest.approx(1.0)


def test_only_candidates_are_selected_within_the_cap(selected):
    result, trajectories = selected
    chosen = result['selection']['selected']
    assert len(chosen) == LEARNING['max_labels']
    candidates = {('a', 3), ('a', 5), ('b', 1), ('b', 3), ('b', 5)}  # (run, frame index) with 0.1 <= f < 0.5
    assert {(row['run'], row['frame']) for row in chosen} <= candidates
    # the spread selection starts from the most uncertain candidate: b step 50 (0.49 eV/Å)
    assert ('b', 5) in {(row['run'], row['frame']) for row in chosen}
    assert set(result['structures']) == {row['key'] for row in chosen}
    for row in chosen:
        assert row['key'] == f'{row["run"]}_{frame_key(row["frame"])}'
        structure = result['structures'][row['key']]
        np.testing.assert_allclose([site.position for site in structure.sites],
                                   trajectories[row['run']].get_positions()[row['frame']])


def test_first_selection_takes_candidates_in_frame_order(aiida_profile):
    runs = {'a': trajectory(3, [0, 10, 20, 30])}
    result = select_frames(orm.Dict({**LEARNING, 'selection': 'first'}), trajectories=runs,
                           deviations={'a': deviation([0, 10, 20, 30], [0.2, 0.2, 0.3, 0.4])})
    assert [row['frame'] for row in result['selection']['selected']] == [1, 2]


def test_runs_without_deviations_are_refused(aiida_profile):
    _, node = select_frames.run_get_node(orm.Dict(LEARNING), trajectories={'a': trajectory(4, [0, 10])},
                                         deviations={})
    assert node.exit_status == 320 and 'trajectories/deviations' in node.exit_message


def labelled(n_frames: int, seed: int) -> dpdata.LabeledSystem:
    rng = np.random.default_rng(seed)
    return dpdata.LabeledSystem(data={
        'atom_names': ['B', 'O'], 'atom_numbs': [2, 4], 'atom_types': np.array([0, 0, 1, 1, 1, 1]),
        'orig': np.zeros(3), 'nopbc': False, 'cells': np.tile(10.0 * np.eye(3), (n_frames, 1, 1)),
        'coords': rng.random((n_frames, 6, 3)) * 10, 'energies': rng.random(n_frames),
        'forces': rng.random((n_frames, 6, 3)), 'virials': rng.random((n_frames, 3, 3)),
    })


def test_an_extended_dataset_keeps_its_held_out_frames(aiida_profile):
    initial = LabelledDatasetData.from_dpdata([labelled(10, 0)], [[('start', i) for i in range(10)]], 0.3, 5).store()
    labels = trajectory(5, [0, 10, 20], store=False)
    rng = np.random.default_rng(6)
    labels.set_array('energies', rng.random(3))
    labels.set_array('forces', rng.random((3, 6, 3)))
    labels.set_array('virial', rng.random((3, 3, 3)))
    labels.store()
    extended = extend_dataset(initial, labels)
    (before,), (after,) = initial.systems, extended.systems
    assert after['n_frames'] == 13 and after['validation'] == before['validation']
    assert after['sources'][:10] == before['sources']
    assert after['sources'][10:] == [[labels.uuid, row] for row in range(3)]
    np.testing.assert_array_equal(extended.part_system(0)['coords'][10:], labels.get_positions())
    np.testing.assert_array_equal(extended.part_system(0, 'validation')['coords'],
                                  initial.part_system(0, 'validation')['coords'])


def test_the_dataset_structure_is_the_last_frame(aiida_profile):
    dataset = LabelledDatasetData.from_dpdata([labelled(4, 1)], [[('s', i) for i in range(4)]], 0.25, 0).store()
    structure = dataset_structure(dataset, orm.Int(0))
    frames = dataset.part_system(0)
    assert [site.kind_name for site in structure.sites] == ['B', 'B', 'O', 'O', 'O', 'O']
    np.testing.assert_allclose([site.position for site in structure.sites], frames['coords'][-1])
    _, node = dataset_structure.run_get_node(dataset, orm.Int(1))
    assert node.exit_status == 320 and 'system' in node.exit_message


def test_bookkeeping_is_the_wall_time_outside_the_steps():
    selection = {'n_frames': 10, 'fractions': {'accurate': 0.5, 'candidate': 0.3, 'failed': 0.2}}
    timing = {'train_s': 50.0, 'explore_s': 30.0, 'select_s': 1.0, 'label_s': 9.0, 'iteration_s': 100.0,
              'dataset_frames': 40}
    row = report_row('iteration_00', selection, {'force_rmse_ev_a_mean': 0.3}, 4, timing)
    assert row['bookkeeping_s'] == pytest.approx(10.0)
    assert row['force_rmse_ev_a_mean'] == 0.3 and row['energy_rmse_ev_per_atom_mean'] is None
    assert (row['labels_added'], row['dataset_frames'], row['accurate']) == (4, 40, 0.5)
