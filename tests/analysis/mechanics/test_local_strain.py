"""Local deformation gradient F_i (paper 001 eqs. 1-4): affine and rigid cases exactly, a naive loop on a random frame."""
import numpy as np
import pytest

from aiida_boroglass.analysis.mechanics.local_strain import (
    atom_classes,
    class_averages,
    deformation_gradients,
    local_neighbourhoods,
)

TRICLINIC = np.array([[11.0, 0.0, 0.0], [1.5, 10.5, 0.0], [-1.0, 0.8, 11.5]])


def random_frame(n_atoms=90, seed=1):
    """Random positions (Å) in TRICLINIC, a quarter of them Li."""
    rng = np.random.default_rng(seed)
    positions = rng.random((n_atoms, 3)) @ TRICLINIC
    species = rng.choice(['B', 'O', 'O', 'Li'], size=n_atoms)
    return positions, TRICLINIC.copy(), species


def wrap(positions, cell):
    fractional = positions @ np.linalg.inv(cell)
    return (fractional - np.floor(fractional)) @ cell


def rotation(axis, angle):
    axis = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


@pytest.mark.parametrize('applied', [
    np.diag([1.08, 0.97, 0.97]),  # uniaxial tension with lateral contraction
    np.diag([0.9, 0.9, 0.9]),  # triaxial compression
    np.array([[1.02, 0.05, -0.01], [0.0, 0.99, 0.03], [0.02, 0.0, 1.01]]),  # a general affine map
], ids=['uniaxial', 'triaxial', 'general'])
def test_uniform_deformation_gives_the_applied_gradient_for_every_atom(crystals, applied):
    """Atoms and cell mapped by x -> F x (rows: x @ F.T), the current frame wrapped into its cell."""
    positions, cell, species = random_frame()
    reference = crystals.read_only(positions, cell, species)
    nb = local_neighbourhoods(*reference)
    current = crystals.read_only(wrap(positions @ applied.T, cell @ applied.T), cell @ applied.T)
    f = deformation_gradients(nb, *current)
    network = species != 'Li'
    assert np.abs(f[network] - applied).max() < 1e-10
    assert np.all(np.isnan(f[~network]))


def test_rigid_rotation_and_translation_give_the_rotation():
    positions, cell, species = random_frame(seed=4)
    q = rotation([1.0, -2.0, 0.5], 0.7)
    nb = local_neighbourhoods(positions, cell, species)
    f = deformation_gradients(nb, (positions + [3.0, -1.0, 7.0]) @ q.T, cell @ q.T)
    network = species != 'Li'
    assert np.abs(f[network] - q).max() < 1e-10
    assert np.allclose(np.einsum('nji,njk->nik', f[network], f[network]), np.eye(3), atol=1e-10)  # F^T F = I


def naive_gradients(ref, ref_cell, current, cell, species, h, cutoff, excluded=('Li',)):
    """Eqs. 1-3 by a loop over atoms, neighbours and the 27 images; ``current`` continuous with ``ref``."""
    shifts = [np.array([a, b, c]) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)]
    result = np.full((len(ref), 3, 3), np.nan)
    for i in range(len(ref)):
        if species[i] in excluded:
            continue
        m, n = np.zeros((3, 3)), np.zeros((3, 3))
        for j in range(len(ref)):
            if j == i or species[j] in excluded:
                continue
            for shift in shifts:
                big_r = ref[j] + shift @ ref_cell - ref[i]
                if np.linalg.norm(big_r) < cutoff:
                    small_r = current[j] + shift @ cell - current[i]
                    w = np.exp(-big_r @ big_r / h**2) / (np.pi * h**2) ** 1.5
                    m += w * np.outer(big_r, big_r)
                    n += w * np.outer(small_r, big_r)
        result[i] = n @ np.linalg.inv(m)
    return result


def test_matches_a_naive_loop_on_a_random_frame():
    """Non-affine displacements of 0.3 Å on top of 5 % tension; the kernel gets wrapped positions."""
    positions, cell, species = random_frame(n_atoms=60, seed=7)
    rng = np.random.default_rng(8)
    stretch = np.diag([1.05, 0.98, 0.99])
    current = (positions + rng.normal(0.0, 0.3, positions.shape)) @ stretch.T
    expected = naive_gradients(positions, cell, current, cell @ stretch.T, species, h=4.0, cutoff=5.0)
    nb = local_neighbourhoods(positions, cell, species, window_a=4.0, cutoff_a=5.0, excluded=('Li',))
    f = deformation_gradients(nb, wrap(current, cell @ stretch.T)[None], (cell @ stretch.T)[None])[0]
    network = species != 'Li'
    assert np.abs(f[network] - expected[network]).max() < 1e-10
    assert np.abs(f[network] - stretch).max() > 0.05  # the displacements matter


def test_trajectory_shape_and_atoms_without_neighbours():
    """An atom alone within the cutoff has no F; a frame stack gives one F per frame."""
    positions, cell, species = random_frame(seed=2)
    positions[0] = [0.0, 0.0, 0.0]
    species[0] = 'B'
    nb = local_neighbourhoods(positions, cell, species, cutoff_a=0.5)
    f = deformation_gradients(nb, np.stack([positions, positions]), np.stack([cell, cell]))
    assert f.shape == (2, 90, 3, 3)
    assert np.all(np.isnan(f[:, 0]))


def test_class_averages_by_hand():
    f = np.zeros((2, 4, 3, 3))
    f[:, 0] = np.eye(3)
    f[:, 1] = 3 * np.eye(3)
    f[:, 2] = np.nan  # no F: left out
    f[:, 3] = 7 * np.eye(3)
    averages = class_averages(f, ['B3r', 'B3r', 'B3r', ''])
    assert list(averages) == ['B3r']
    assert averages['B3r'] == pytest.approx(np.broadcast_to(2 * np.eye(3), (2, 3, 3)))
    with pytest.raises(ValueError, match=r'gradients must have shape \(n_frames, 3, 3, 3\)'):
        class_averages(f, ['B3r', 'B3r', 'B3r'])


def test_atom_classes_of_a_boroxol_ring_and_a_bo4_unit():
    """A planar B3O3 ring with one NBO per B, a separate BO4 with its four O, one Li."""
    bo = 1.37
    angles = np.radians([0, 60, 120, 180, 240, 300])
    centre = np.array([5.0, 5.0, 5.0])
    ring = [centre + bo * np.array([np.cos(a), np.sin(a), 0.0]) for a in angles]  # B, O, B, O, B, O
    outer = [centre + 2 * bo * np.array([np.cos(a), np.sin(a), 0.0]) for a in angles[::2]]
    b4 = np.array([12.0, 12.0, 12.0])
    corners = [b4 + 1.47 * np.array(c) / np.sqrt(3) for c in ([1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1])]
    positions = np.array(ring + outer + [b4] + corners + [[12.0, 3.0, 3.0]])
    species = ['B', 'O'] * 3 + ['O'] * 3 + ['B'] + ['O'] * 4 + ['Li']
    classes = atom_classes(positions, 16.0 * np.eye(3), species, {'B': 1.9})
    assert classes.tolist() == ['B3r', 'Or'] * 3 + ['On'] * 3 + ['B4n'] + ['On'] * 4 + ['']


def test_bad_window_is_named():
    positions, cell, species = random_frame()
    with pytest.raises(ValueError, match='window_a must be a positive finite distance'):
        local_neighbourhoods(positions, cell, species, window_a=0.0)
    with pytest.raises(ValueError, match='cutoff = 9 Å exceeds'):
        local_neighbourhoods(positions, cell, species, cutoff_a=9.0)
