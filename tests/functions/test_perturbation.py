"""Perturbed copies of frames (DP-GEN's perturb): strain and displacements measured back from the copies."""
import numpy as np
import pytest
from aiida import orm

from aiida_boroglass.analysis.perturbation import ball_displacements, check_perturbation, perturb_frames
from aiida_boroglass.functions.datasets import perturbed_structures
from aiida_boroglass.workflows.ab_initio.dft_label import selected_frames

#: two frames of 12 atoms in a triclinic cell of about 8 Å
RNG = np.random.default_rng(11)
CELL = np.array([[8.0, 0.0, 0.0], [1.2, 7.5, 0.0], [-0.8, 0.9, 8.3]])
FRAMES = RNG.random((2, 12, 3)) @ CELL
CELLS = np.stack([CELL, CELL * 1.02])


def fractional(positions, cells):
    """Fractional coordinates of positions (n, n_atoms, 3) in cells (n, 3, 3), rows as lattice vectors."""
    return np.einsum('naj,nji->nai', positions, np.linalg.inv(cells))


def test_strain_and_displacements_stay_within_their_bounds():
    positions, cells, source = perturb_frames(FRAMES, CELLS, 200, 0.03, 0.1, seed=4)
    assert positions.shape == (400, 12, 3) and cells.shape == (400, 3, 3)
    np.testing.assert_array_equal(source, np.repeat([0, 1], 200))
    strain = np.linalg.inv(CELLS[source]) @ cells - np.eye(3)
    np.testing.assert_allclose(strain, np.swapaxes(strain, 1, 2), atol=1e-12)  # symmetric
    diagonal, off = strain[:, [0, 1, 2], [0, 1, 2]], strain[:, [0, 0, 1], [1, 2, 2]]
    assert np.abs(diagonal).max() <= 0.03 + 1e-12 and np.abs(diagonal).max() > 0.029
    assert np.abs(off).max() <= 0.015 + 1e-12 and np.abs(off).max() > 0.014  # dpdata: half on the off-diagonal
    # displacement: the change of fractional coordinates, in the strained cell
    moved = np.einsum('nai,nij->naj', fractional(positions, cells) - fractional(FRAMES[source], CELLS[source]), cells)
    lengths = np.linalg.norm(moved, axis=-1)
    assert lengths.max() <= 0.1 + 1e-12 and lengths.max() > 0.099


def test_without_displacements_the_fractional_coordinates_are_kept():
    positions, cells, source = perturb_frames(FRAMES, CELLS, 3, 0.05, 0.0, seed=1)
    np.testing.assert_allclose(fractional(positions, cells), fractional(FRAMES[source], CELLS[source]), atol=1e-12)
    assert not np.allclose(cells, CELLS[source])


def test_displacements_are_uniform_in_the_ball():
    vectors = ball_displacements(np.random.default_rng(0), (40000,), 0.2)
    lengths = np.linalg.norm(vectors, axis=-1)
    # a uniform ball holds (r / R)^3 of its points within r; its mean vector is 0
    assert np.mean(lengths < 0.1) == pytest.approx(0.125, abs=0.01)
    assert np.mean(lengths < 0.16) == pytest.approx(0.512, abs=0.015)
    np.testing.assert_allclose(vectors.mean(axis=0), 0.0, atol=0.005)


def test_the_same_seed_makes_the_same_copies():
    first, again, other = (perturb_frames(FRAMES, CELLS, 2, 0.03, 0.1, seed) for seed in (7, 7, 8))
    for one, two in zip(first, again):
        np.testing.assert_array_equal(one, two)
    assert not np.allclose(first[0], other[0]) and not np.allclose(first[1], other[1])


@pytest.mark.parametrize(('change', 'message'), [
    ({'copies': 0}, 'copies must be an integer >= 1'),
    ({'copies': 2.0}, 'copies must be an integer >= 1'),
    ({'cell_fraction': 0.5}, 'cell_fraction must be a strain in [0, 0.5)'),
    ({'cell_fraction': -0.01}, 'cell_fraction must be a strain in [0, 0.5)'),
    ({'atom_distance_a': 1.5}, 'atom_distance_a must be a distance in [0, 1] Å'),
    ({'atom_distance_a': float('nan')}, 'atom_distance_a must be a distance in [0, 1] Å'),
    ({'seed': -1}, 'seed must be an integer >= 0'),
    ({'seed': True}, 'seed must be an integer >= 0'),
])
def test_bad_values_are_refused_in_one_line(change, message):
    values = {'copies': 2, 'cell_fraction': 0.03, 'atom_distance_a': 0.1, 'seed': 0, **change}
    with pytest.raises(ValueError) as info:
        check_perturbation(**values)
    assert str(info.value).startswith(message) and '\n' not in str(info.value)


def test_copies_of_a_structure_are_a_trajectory_to_label(aiida_profile, k_borate_21):
    copies = perturbed_structures(k_borate_21, orm.Dict({'copies': 3, 'seed': 5}))
    assert isinstance(copies, orm.TrajectoryData) and copies.numsteps == 3
    assert list(copies.symbols) == [site.kind_name for site in k_borate_21.sites]  # composition and order kept
    np.testing.assert_array_equal(copies.get_array('source_frames'), [0, 0, 0])
    assert selected_frames({'trajectory': copies}) == {f'frame_0000{i}': i for i in range(3)}
    structure = copies.get_step_structure(2)
    np.testing.assert_allclose(structure.cell, copies.get_cells()[2])
    start = np.array([site.position for site in k_borate_21.sites])
    frames = [start, *copies.get_positions()]
    assert all(not np.allclose(one, two) for k, one in enumerate(frames) for two in frames[k + 1:])


def test_every_frame_of_a_trajectory_is_copied(aiida_profile):
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(['B'] * 4 + ['O'] * 8, FRAMES, cells=CELLS, pbc=(True, True, True))
    copies = perturbed_structures(trajectory.store(), orm.Dict({'copies': 2, 'atom_distance_a': 0.0}))
    np.testing.assert_array_equal(copies.get_array('source_frames'), [0, 0, 1, 1])
    np.testing.assert_allclose(fractional(copies.get_positions(), copies.get_cells()),
                               fractional(FRAMES, CELLS)[[0, 0, 1, 1]], atol=1e-12)
    assert list(copies.symbols) == list(trajectory.symbols)


@pytest.mark.parametrize(('parameters', 'status', 'message'), [
    ({'cell_fraction': 0.7}, 301, 'parameters.cell_fraction must be a strain in [0, 0.5)'),
    ({'copy': 2}, 301, "parameters: unknown key(s) ['copy']"),
])
def test_the_calcfunction_refuses_bad_parameters(aiida_profile, k_borate_21, parameters, status, message):
    _, node = perturbed_structures.run_get_node(k_borate_21, orm.Dict(parameters))
    assert node.exit_status == status and node.exit_message.startswith(message)
    assert not node.base.links.get_outgoing().all()


def test_a_trajectory_without_cells_is_refused(aiida_profile):
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(['B'] * 12, FRAMES)
    _, node = perturbed_structures.run_get_node(trajectory.store())
    assert node.exit_status == 302 and 'cells' in node.exit_message
