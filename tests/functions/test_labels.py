"""The label dataset: frames selected, labels stacked in source order, virial from stress, refusals by exit code."""
import numpy as np
import pytest
from aiida import orm

from aiida_boroglass.functions.labels import (
    frame_selection,
    label_dataset,
    trajectory_frames,
    virial_ev,
)
from aiida_boroglass.glass.elements import GPA_PER_EV_A3


def _labels(energy_ev, forces, stress):
    """A hand-made label node as a labeller returns it."""
    node = orm.ArrayData()
    node.set_array('energy_ev', np.array([energy_ev]))
    node.set_array('forces_ev_a', np.asarray(forces, dtype=float))
    node.set_array('stress_gpa', np.asarray(stress, dtype=float))
    return node.store()


def _moved(structure, shift_a, cell_scale=1.0):
    """A copy of ``structure`` with every atom moved by ``shift_a`` Å and the cell scaled."""
    ase = structure.get_ase()
    ase.set_cell(ase.cell * cell_scale, scale_atoms=True)
    ase.positions += shift_a
    return orm.StructureData(ase=ase).store()


@pytest.mark.parametrize('stride, frames, expected', [
    (None, None, [0, 1, 2, 3, 4, 5, 6]),
    (3, None, [0, 3, 6]),
    (10, None, [0]),
    (None, [5, 0, 2], [0, 2, 5]),
])
def test_frame_selection(stride, frames, expected):
    assert frame_selection(7, stride, frames) == expected


@pytest.mark.parametrize('stride, frames, field', [
    (0, None, 'stride'),
    (2, [1], 'stride/frames'),
    (None, [], 'frames'),
    (None, [7], 'frames'),
    (None, [-1], 'frames'),
    (None, [1, 1], 'frames'),
    (None, [1.0], 'frames'),
])
def test_frame_selection_refusals_name_the_field(stride, frames, field):
    with pytest.raises(ValueError, match=f'^{field}:'):
        frame_selection(7, stride, frames)


def test_virial_is_minus_stress_times_volume_in_ev():
    """1 eV/Å^3 = 160.2176634 GPa; a 10 Å cube under 1 eV/Å^3 tension has virial -1000 eV on the diagonal."""
    stress = np.array([np.diag([GPA_PER_EV_A3, 2 * GPA_PER_EV_A3, 0.0]) + 0.5 * GPA_PER_EV_A3 * (1 - np.eye(3))])
    cells = np.array([[[10.0, 0, 0], [0, 10.0, 0], [5.0, 0, 10.0]]])  # sheared: volume still 1000 Å^3
    virial = virial_ev(stress, cells)
    expected = -1000.0 * np.array([[1.0, 0.5, 0.5], [0.5, 2.0, 0.5], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(virial[0], expected, rtol=0, atol=1e-9)


def test_dataset_stacks_frames_in_source_order_with_provenance(aiida_profile, k_borate_21):
    """Keys given in another order than their frame indices: rows follow the indices; virial from each own cell."""
    n_atoms = len(k_borate_21.sites)
    rng = np.random.default_rng(1)
    frames = {'b': (7, _moved(k_borate_21, 0.1, 1.02)), 'a': (2, _moved(k_borate_21, 0.0)),
              'c': (9, _moved(k_borate_21, -0.2, 0.98))}
    labels = {key: _labels(-100.0 - index, rng.normal(size=(n_atoms, 3)), rng.normal(size=(3, 3)))
              for key, (index, _) in frames.items()}
    skipped = [{'frame': 4, 'key': 'd', 'pk': 1, 'exit_status': 402, 'message': 'SCF failed'}]
    selection = orm.Dict({'engine': 'cp2k', 'skipped': skipped,
                          'frame_indices': {key: index for key, (index, _) in frames.items()}})
    dataset, node = label_dataset.run_get_node(selection, structures={k: s for k, (_, s) in frames.items()},
                                               labels=labels)
    assert node.is_finished_ok, node.exit_message
    order = ['a', 'b', 'c']
    assert dataset.get_array('frame_indices').tolist() == [2, 7, 9]
    assert dataset.get_stepids().tolist() == [2, 7, 9]
    assert dataset.base.attributes.get('frame_keys') == order
    np.testing.assert_array_equal(dataset.get_array('energies'), [-102.0, -107.0, -109.0])
    np.testing.assert_array_equal(dataset.get_array('forces'), [labels[k].get_array('forces_ev_a') for k in order])
    # labels hold the pressure tensor (as CP2K prints it); the dataset the physical stress, its negative
    np.testing.assert_array_equal(dataset.get_array('stress'), [-labels[k].get_array('stress_gpa') for k in order])
    for row, key in enumerate(order):
        structure = frames[key][1]
        np.testing.assert_allclose(dataset.get_positions()[row], [site.position for site in structure.sites])
        np.testing.assert_allclose(dataset.get_cells()[row], structure.cell)
        volume = structure.get_cell_volume()
        np.testing.assert_allclose(dataset.get_array('virial')[row],
                                   labels[key].get_array('stress_gpa') * volume / 160.2176634, rtol=0, atol=1e-9)
    assert list(dataset.symbols) == [kind for kind in k_borate_21.get_site_kindnames()]
    assert dataset.get_array('forces').shape == (3, n_atoms, 3)
    assert dataset.base.attributes.get('engine') == 'cp2k'
    assert dataset.base.attributes.get('skipped') == skipped
    assert dataset.base.attributes.get('units')['forces'] == 'eV/Å'
    incoming = {link.link_label: link.node.pk for link in node.base.links.get_incoming().all()}
    assert {incoming[f'labels__{key}'] for key in order} == {labels[key].pk for key in order}
    assert {incoming[f'structures__{key}'] for key in order} == {frames[key][1].pk for key in order}


def test_dataset_refuses_labels_of_the_wrong_shape(aiida_profile, k_borate_21):
    """Forces of 20 atoms for a 21-atom frame: the calcfunction fails with 320 naming the label, no dataset."""
    structure = k_borate_21.clone().store()
    labels = _labels(-1.0, np.zeros((20, 3)), np.zeros((3, 3)))
    selection = orm.Dict({'engine': 'cp2k', 'skipped': [], 'frame_indices': {'s0': 0}})
    _, node = label_dataset.run_get_node(selection, structures={'s0': structure}, labels={'s0': labels})
    assert node.exit_status == 320
    assert 'labels.s0: forces_ev_a has shape (20, 3), expected (21, 3)' in node.exit_message
    assert not node.base.links.get_outgoing().all()


def test_dataset_refuses_frames_of_different_systems(aiida_profile, k_borate_21):
    """A frame with two atoms swapped is another order of atoms: refused, naming it."""
    ase = k_borate_21.get_ase()
    ase.positions[[0, 10]] = ase.positions[[10, 0]]
    ase.numbers[[0, 10]] = ase.numbers[[10, 0]]
    swapped = orm.StructureData(ase=ase).store()
    n_atoms = len(ase)
    labels = {key: _labels(-1.0, np.zeros((n_atoms, 3)), np.zeros((3, 3))) for key in ('s0', 's1')}
    selection = orm.Dict({'engine': 'cp2k', 'skipped': [], 'frame_indices': {'s0': 0, 's1': 1}})
    _, node = label_dataset.run_get_node(selection, structures={'s0': k_borate_21.clone().store(), 's1': swapped},
                                         labels=labels)
    assert node.exit_status == 320
    assert "structures: ['s1'] hold other atoms" in node.exit_message


def test_trajectory_frames_are_the_selected_steps(aiida_profile, k_borate_21):
    """Frames 1 and 3 of a 4-frame trajectory, keyed frame_00001 and frame_00003, positions and cell kept."""
    ase = k_borate_21.get_ase()
    positions = np.array([ase.positions + 0.01 * step for step in range(4)])
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(ase.get_chemical_symbols(), positions, cells=np.array([ase.cell[:]] * 4), pbc=(True, True, True))
    frames = trajectory_frames(trajectory.store(), orm.List([1, 3]))
    assert sorted(frames) == ['frame_00001', 'frame_00003']
    np.testing.assert_allclose([site.position for site in frames['frame_00003'].sites], positions[3])
    np.testing.assert_allclose(frames['frame_00001'].cell, ase.cell[:])
