"""Tests for aiida_boroglass.analysis.cavities: pyMolDyn-style domain cavities on a periodic grid.

Tolerance of a volume. The kernel classifies every voxel centre exactly (checked against
a brute-force loop over all grid points and 27 periodic images), so a cavity volume is
off from the true volume of the region only through the voxels its boundary cuts. Each
cut voxel adds an error in ``[-v, +v]`` (``v`` its volume), at most about
``sqrt(3) A / h^2`` voxels are cut for a boundary of area ``A`` and voxel edge ``h``,
and their errors are close to independent with a variance of at most ``v^2 / 3``: the
standard deviation is at most ``h^2 sqrt(A / sqrt(3)) ~ 0.76 h^2 sqrt(A)``. Volumes are
compared at :func:`grid_tolerance` ``= 3 h^2 sqrt(A)`` (about 4 standard deviations;
observed errors stay below half of it); a Monte Carlo reference adds three of its
standard errors. A lost periodic image of an excluded sphere (an eighth of a 2 Å sphere
is 4.2 Å^3) or a wrong cutoff is far outside these tolerances.
"""

from __future__ import annotations

import itertools
from collections import deque

import numpy as np
import pytest
from scipy.spatial import cKDTree

from aiida_boroglass.analysis.cavities import (
    CavityStatistics,
    DomainCavities,
    cavity_points,
    domain_cavities,
    grid_points,
    grid_shape,
    trajectory_cavities,
    volume_histogram,
)

BCC = [[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]]
#: BCC lattice constant (Å) for a 2 Å cutoff: the deepest hole (tetrahedral site,
#: a sqrt(5) / 4 = 1.957 Å from its atoms) lies within the cutoff, so the perfect crystal
#: has no cavity space; a vacancy's nearest neighbours sit at a sqrt(3) / 2 = 3.03 Å.
BCC_A = 3.5
SKEWED_CELL = np.array([[7.1, 0.0, 0.0], [2.3, 6.6, 0.0], [-1.7, 1.9, 6.9]])


def grid_tolerance(result: DomainCavities, cell, area_a2: float) -> float:
    """Tolerance (Å^3) of a voxel-counted volume with boundary area ``area_a2`` (module docstring)."""
    h = float(np.max(np.linalg.norm(np.asarray(cell), axis=1) / np.asarray(result.grid_shape)))
    return 3.0 * h * h * np.sqrt(area_a2)


def wrapped(positions, cell):
    """Positions (Å) wrapped into the cell, computed independently of the kernel."""
    frac = np.linalg.solve(np.asarray(cell).T, np.asarray(positions).T).T
    return (frac - np.floor(frac)) @ np.asarray(cell)


def brute_force_cavity_mask(positions, cell, cutoffs, shape):
    """Cavity voxels by a plain loop over the 27 periodic images and the atoms, all grid points at once.

    27 images suffice when every cutoff is smaller than every perpendicular width of the cell.
    """
    points = grid_points(cell, shape).reshape(-1, 3)
    atoms = wrapped(positions, cell)
    excluded = np.zeros(len(points), dtype=bool)
    for shift in itertools.product((-1, 0, 1), repeat=3):
        for atom, cutoff in zip(atoms + np.array(shift) @ np.asarray(cell), cutoffs):
            excluded |= np.linalg.norm(points - atom, axis=1) < cutoff
    return ~excluded.reshape(shape)


def brute_force_components(mask, connectivity):
    """Connected components of ``mask`` on the periodic grid, by breadth-first search.

    ``connectivity`` 6: voxels sharing a face; 26: also an edge or a corner.
    """
    shape = mask.shape
    component = -np.ones(shape, dtype=int)
    largest = 1 if connectivity == 6 else 3
    steps = [s for s in itertools.product((-1, 0, 1), repeat=3) if 0 < np.abs(s).sum() <= largest]
    n = 0
    for start in zip(*np.nonzero(mask)):
        if component[start] >= 0:
            continue
        component[start] = n
        queue = deque([start])
        while queue:
            voxel = queue.popleft()
            for step in steps:
                other = tuple((v + s) % m for v, s, m in zip(voxel, step, shape))
                if mask[other] and component[other] < 0:
                    component[other] = n
                    queue.append(other)
        n += 1
    return component, n


def random_frame(cell, n_atoms, seed, labels=('Li', 'O')):
    """Uniform random atoms, given unwrapped (integer cell shifts added), with alternating labels."""
    rng = np.random.default_rng(seed)
    cell = np.asarray(cell)
    positions = rng.uniform(0.0, 1.0, (n_atoms, 3)) @ cell + rng.integers(-2, 3, (n_atoms, 3)) @ cell
    species = np.array([labels[i % len(labels)] for i in range(n_atoms)])
    return positions, species


def bcc_with_vacancies(crystals, reps, removed):
    """BCC crystal (a = :data:`BCC_A`) with the atoms ``removed`` (indices) taken out."""
    positions, cell, species = crystals.supercell(BCC, ['X', 'X'], np.eye(3) * BCC_A, (reps,) * 3)
    keep = np.setdiff1d(np.arange(len(positions)), removed)
    return positions[keep], cell, species[keep], positions[removed]


# --- a single atom in a big box -------------------------------------------------------------

@pytest.mark.parametrize('position', [(0.0, 0.0, 0.0), (3.17, 8.41, 11.93), (-25.3, 4.0, 30.2)])
@pytest.mark.parametrize('resolution', [0.25, 0.2])
def test_single_atom_box_minus_sphere(position, resolution):
    """One cavity: the box minus the excluded sphere (split over the faces when the atom is at a corner)."""
    length, cutoff = 12.0, 2.0
    cell = np.eye(3) * length
    result = domain_cavities([position], cell, cutoff_a=cutoff, resolution_a=resolution)
    assert isinstance(result, DomainCavities)
    expected = length**3 - 4.0 / 3.0 * np.pi * cutoff**3
    assert result.n_cavities == 1
    assert result.volumes_a3.shape == (1,)
    assert result.cell_volume_a3 == pytest.approx(length**3)
    assert result.voxel_volume_a3 * np.prod(result.grid_shape) == pytest.approx(length**3)
    tolerance = grid_tolerance(result, cell, 4.0 * np.pi * cutoff**2)
    assert abs(result.volumes_a3[0] - expected) < tolerance
    assert result.volume_fraction == pytest.approx(result.volumes_a3[0] / length**3)
    assert result.labels.shape == result.grid_shape and result.labels.dtype == np.int32
    assert set(np.unique(result.labels)) == {0, 1}


def test_cavity_across_the_faces_counts_once():
    """A sealed atomic layer at z = L/2 leaves one cavity that only connects through the z faces."""
    length, spacing = 12.0, 2.0  # in-plane holes 1.41 Å from the atoms: the layer is sealed at 2 Å
    grid = np.arange(0.0, length, spacing)
    layer = np.array([(x, y, 0.5 * length) for x in grid for y in grid])
    result = domain_cavities(layer, np.eye(3) * length, cutoff_a=2.0, resolution_a=0.25)
    assert result.n_cavities == 1
    labels_along_z = result.labels[0, 0, :]
    assert labels_along_z[0] == labels_along_z[-1] == 1  # touches both z faces
    assert 0 in labels_along_z  # and is cut by the layer inside the cell

    two_layers = np.vstack([layer - [0, 0, 0.25 * length], layer + [0, 0, 0.25 * length]])
    result = domain_cavities(two_layers, np.eye(3) * length, cutoff_a=2.0, resolution_a=0.25)
    assert result.n_cavities == 2  # the slab between the layers and the one across the z faces
    assert result.volumes_a3[0] == pytest.approx(result.volumes_a3[1], rel=1e-12)


def test_cavity_across_skewed_faces_counts_once(crystals):
    """The sealed-layer frame in a sheared, rotated cell: still one cavity, the same volume."""
    length, spacing = 12.0, 2.0
    grid = np.arange(0.0, length, spacing)
    layer = np.array([(x, y, 0.5 * length) for x in grid for y in grid])
    cell = np.eye(3) * length
    reference = domain_cavities(layer, cell, resolution_a=0.25)
    positions, skewed = crystals.equivalent_cell(layer, cell, seed=3)
    result = domain_cavities(positions, skewed, resolution_a=0.25)
    assert result.n_cavities == 1
    # face-only connectivity cuts the cusps above the layer's holes into one-voxel domains
    face_only = domain_cavities(positions, skewed, resolution_a=0.25, connectivity=6)
    assert face_only.n_cavities > 1 and face_only.volumes_a3[1] < 2.0 * face_only.voxel_volume_a3
    area = 2.0 * length**2 * 1.3  # two rippled sheets
    tolerance = grid_tolerance(reference, cell, area) + grid_tolerance(result, skewed, area)
    assert abs(result.volumes_a3[0] - reference.volumes_a3[0]) < tolerance


# --- crystals with vacancies --------------------------------------------------------------

def test_perfect_crystal_has_no_cavity(crystals):
    positions, cell, _, _ = bcc_with_vacancies(crystals, 3, [])
    result = domain_cavities(positions, cell, cutoff_a=2.0, resolution_a=0.15, mobile_ions=[0, 5])
    assert result.n_cavities == 0
    assert result.volume_fraction == 0.0
    assert result.volumes_a3.shape == (0,)
    assert not result.labels.any()
    np.testing.assert_array_equal(result.ion_cavity_distance_a, [np.inf, np.inf])


def monte_carlo_vacancy_volume(positions, cell, site, cutoff, n_points, seed):
    """Cavity volume around a vacancy at ``site`` (Å^3) and its standard error, by uniform sampling.

    In this BCC crystal every cavity point lies in the vacancy's Voronoi cell, inside the
    cube of edge a centred on the site (any other point is within 1.957 Å of an atom), so
    sampling that cube finds the whole cavity. The distance test is a periodic k-d tree
    (cubic cell), independent of the grid.
    """
    length = float(cell[0, 0])
    rng = np.random.default_rng(seed)
    points = site + rng.uniform(-0.5 * BCC_A, 0.5 * BCC_A, (n_points, 3))
    distance, _ = cKDTree(positions % length, boxsize=length).query(points % length)
    p = float(np.mean(distance >= cutoff))
    return BCC_A**3 * p, BCC_A**3 * np.sqrt(p * (1.0 - p) / n_points)


def test_vacancy_opens_one_cavity_of_monte_carlo_volume(crystals):
    positions, cell, _, removed = bcc_with_vacancies(crystals, 3, [13])
    shift = np.array([0.731, 1.913, 0.377])  # off the grid's symmetry, so the voxel errors are random
    volume, error = monte_carlo_vacancy_volume(positions, cell, removed[0], 2.0, 1_000_000, seed=7)
    assert volume == pytest.approx(10.39, abs=0.1)  # sanity of the reference itself
    result = domain_cavities(positions + shift, cell, cutoff_a=2.0, resolution_a=0.15)
    assert result.n_cavities == 1
    # boundary area: -dV/dr of the same Monte Carlo (about 34 Å^2); 40 Å^2 is a safe bound
    tolerance = grid_tolerance(result, cell, 40.0) + 3.0 * error
    assert abs(result.volumes_a3[0] - volume) < tolerance
    assert result.volume_fraction == pytest.approx(result.volumes_a3[0] / abs(np.linalg.det(cell)))
    # the cavity sits on the vacancy, inside the cube the Monte Carlo samples (minimum image)
    points = cavity_points(result, cell) - shift
    frac = np.linalg.solve(cell.T, (points - removed[0]).T).T
    frac -= np.round(frac)
    assert np.abs(frac @ cell).max() < 0.5 * BCC_A


def bcc_two_defects(crystals):
    """BCC 4x4x4 with a vacancy at one site and a nearest-neighbour divacancy far from it."""
    positions, cell, species = crystals.supercell(BCC, ['X', 'X'], np.eye(3) * BCC_A, (4, 4, 4))
    frac = np.linalg.solve(cell.T, positions.T).T

    def site(f):
        return int(np.argmin(np.linalg.norm((frac - f + 0.5) % 1.0 - 0.5, axis=1)))

    removed = [site([0.0, 0.0, 0.0]), site([0.5, 0.5, 0.5]), site([0.5 + 0.125, 0.5 + 0.125, 0.5 + 0.125])]
    keep = np.setdiff1d(np.arange(len(positions)), removed)
    return positions[keep], cell


def test_vacancy_and_divacancy(crystals):
    positions, cell = bcc_two_defects(crystals)
    result = domain_cavities(positions, cell, resolution_a=0.15)
    assert result.n_cavities == 2
    assert result.volumes_a3[0] > 1.5 * result.volumes_a3[1]  # the divacancy cavity is the larger one
    assert np.all(np.diff(result.volumes_a3) <= 0.0)  # largest first
    sizes = np.bincount(result.labels.reshape(-1))[1:]
    np.testing.assert_allclose(sizes * result.voxel_volume_a3, result.volumes_a3)


@pytest.mark.parametrize('seed', [0, 1])
def test_equivalent_triclinic_cell_gives_the_same_cavities(crystals, seed):
    positions, cell = bcc_two_defects(crystals)
    reference = domain_cavities(positions, cell, resolution_a=0.15)
    new_positions, new_cell = crystals.equivalent_cell(positions, cell, seed=seed)
    assert not np.allclose(new_cell, np.diag(np.diag(new_cell)))
    result = domain_cavities(new_positions, new_cell, resolution_a=0.15)
    assert result.n_cavities == reference.n_cavities == 2
    assert result.cell_volume_a3 == pytest.approx(reference.cell_volume_a3, rel=1e-12)
    area = np.array([60.0, 40.0])  # divacancy and vacancy boundaries, upper bounds in Å^2
    tolerance = np.array([grid_tolerance(reference, cell, a) + grid_tolerance(result, new_cell, a) for a in area])
    assert np.all(np.abs(result.volumes_a3 - reference.volumes_a3) < tolerance)
    assert abs(result.volume_fraction - reference.volume_fraction) < tolerance.sum() / reference.cell_volume_a3


# --- exactness against brute force ------------------------------------------------------------

@pytest.mark.parametrize('connectivity', [26, 6])
@pytest.mark.parametrize('case', ['triclinic', 'cutoff above half the cell', 'per-element cutoffs'])
def test_cavity_mask_and_domains_match_brute_force(case, connectivity):
    if case == 'triclinic':
        cell, (positions, species) = SKEWED_CELL, random_frame(SKEWED_CELL, 14, seed=3)
        cutoff, resolution, cutoffs = 1.6, 0.35, np.full(14, 1.6)
    elif case == 'cutoff above half the cell':
        cell = np.array([[3.0, 0.0, 0.0], [0.4, 2.9, 0.0], [0.3, -0.5, 3.1]])
        positions, species = random_frame(cell, 2, seed=5)
        cutoff, resolution, cutoffs = 1.9, 0.2, np.full(2, 1.9)
    else:
        cell, (positions, species) = SKEWED_CELL, random_frame(SKEWED_CELL, 14, seed=4, labels=('K', 'O', 'O'))
        cutoff = {'K': 1.2, 'O': 1.7}
        resolution = 0.35
        cutoffs = np.array([cutoff[s] for s in species])
    result = domain_cavities(positions, cell, species, cutoff_a=cutoff, resolution_a=resolution,
                             connectivity=connectivity)
    np.testing.assert_array_equal(result.cutoffs_a, cutoffs)
    expected = brute_force_cavity_mask(positions, cell, cutoffs, result.grid_shape)
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(result.labels > 0, expected)
    component, n_components = brute_force_components(expected, connectivity)
    assert result.n_cavities == n_components
    pairs = set(zip(component[expected].tolist(), result.labels[expected].tolist()))
    assert len(pairs) == n_components  # the same partition: a one-to-one map of components to labels
    sizes = np.sort(np.bincount(component[expected]))[::-1]
    np.testing.assert_allclose(result.volumes_a3, sizes * result.voxel_volume_a3)
    assert result.volume_fraction == pytest.approx(expected.mean())


@pytest.mark.parametrize('connectivity', [26, 6])
@pytest.mark.parametrize('density', [0.25, 0.45])
def test_periodic_labelling_of_random_masks_matches_brute_force(connectivity, density):
    """The labelling step alone, on random voxel masks: every kind of wrap (face, edge, corner) occurs."""
    from aiida_boroglass.analysis.cavities import _periodic_labels

    rng = np.random.default_rng(int(density * 100) + connectivity)
    for shape in [(7, 9, 8), (5, 5, 5), (1, 6, 7)]:
        mask = rng.random(shape) < density
        labels, n_regions = _periodic_labels(mask, connectivity)
        component, n_components = brute_force_components(mask, connectivity)
        assert n_regions == n_components
        np.testing.assert_array_equal(labels > 0, mask)
        assert len(set(zip(component[mask].tolist(), labels[mask].tolist()))) == n_components
    corners = np.zeros((6, 6, 6), dtype=bool)
    corners[0, 0, 0] = corners[-1, -1, -1] = True  # touch only at a corner, across three faces at once
    assert _periodic_labels(corners, 26)[1] == 1
    assert _periodic_labels(corners, 6)[1] == 2


def brute_force_ion_distances(ions, points, cell, reach):
    """Minimum over all images with shifts up to ``reach`` (3 ints) of the ion-to-point distances (Å)."""
    best = np.full(len(ions), np.inf)
    for shift in itertools.product(*(range(-m, m + 1) for m in reach)):
        images = ions + np.array(shift) @ cell
        distance = np.linalg.norm(images[:, None, :] - points[None, :, :], axis=2).min(axis=1)
        best = np.minimum(best, distance)
    return best


#: 4 Å cubic lattice in a badly reduced basis (rows a, 3a + b, 3b + c): perpendicular
#: widths w = 0.42, 1.26 and 4 Å. Ion and cavity point both in the cell, an image shift T
#: within d of the ion needs |T_k| < 1 + d / w_k: for d < 1.5 Å up to 4, 2 and 1 cells.
SHEARED_CELL = np.array([[1, 0, 0], [3, 1, 0], [0, 3, 1]], dtype=float) @ (np.eye(3) * 4.0)


@pytest.mark.parametrize('cell, n_atoms, seed, cutoff, reach', [
    (SKEWED_CELL, 12, 11, 1.3, (2, 2, 2)),
    (SHEARED_CELL, 6, 0, 1.4, (5, 3, 2)),  # here the 27 nearest images miss the nearest cavity point of both ions
])
def test_ion_to_cavity_distance_matches_brute_force(cell, n_atoms, seed, cutoff, reach):
    positions, species = random_frame(cell, n_atoms, seed=seed, labels=('Li', 'O', 'O'))
    result = domain_cavities(positions, cell, species, cutoff_a=cutoff, resolution_a=0.3, mobile_ions='Li')
    np.testing.assert_array_equal(result.ion_indices, np.flatnonzero(species == 'Li'))
    points = cavity_points(result, cell)
    assert len(points) == np.count_nonzero(result.labels)
    expected = brute_force_ion_distances(wrapped(positions[result.ion_indices], cell), points, cell, reach)
    np.testing.assert_allclose(result.ion_cavity_distance_a, expected, rtol=1e-12)
    assert np.all(result.ion_cavity_distance_a >= cutoff)  # an ion excludes its own sphere
    assert np.all(result.ion_cavity_distance_a < 1.5)  # the bound the reach above is chosen for
    by_index = domain_cavities(positions, cell, cutoff_a=cutoff, resolution_a=0.3, mobile_ions=result.ion_indices)
    by_mask = domain_cavities(positions, cell, cutoff_a=cutoff, resolution_a=0.3, mobile_ions=species == 'Li')
    np.testing.assert_array_equal(by_index.ion_cavity_distance_a, result.ion_cavity_distance_a)
    np.testing.assert_array_equal(by_mask.ion_cavity_distance_a, result.ion_cavity_distance_a)


def test_single_ion_distance_is_the_cutoff_to_grid_accuracy():
    """An ion alone in a box: the nearest cavity point lies just outside its own sphere."""
    result = domain_cavities([[1.0, 2.0, 3.0]], np.eye(3) * 10.0, ['Na'], resolution_a=0.2, mobile_ions='Na')
    half_diagonal = 0.5 * np.sqrt(3.0) * 0.2
    assert 2.0 <= result.ion_cavity_distance_a[0] < 2.0 + half_diagonal


# --- several frames, histogram ------------------------------------------------------------

def test_trajectory_pools_frames():
    positions, species = random_frame(SKEWED_CELL, 14, seed=3)
    single = domain_cavities(positions, SKEWED_CELL, species, cutoff_a=1.6, resolution_a=0.35, mobile_ions='Li')
    shape = np.array(single.grid_shape)
    shifted = positions + (np.array([3, -7, 11]) / shape) @ SKEWED_CELL  # a whole number of voxels: same grid
    stats = trajectory_cavities(np.stack([positions, shifted, positions]), SKEWED_CELL, species,
                                cutoff_a=1.6, resolution_a=0.35, mobile_ions='Li')
    assert isinstance(stats, CavityStatistics)
    np.testing.assert_allclose(stats.volume_fraction, single.volume_fraction, rtol=1e-12)
    np.testing.assert_array_equal(stats.n_cavities, [single.n_cavities] * 3)
    assert stats.mean_volume_fraction == pytest.approx(single.volume_fraction)
    assert stats.mean_n_cavities == single.n_cavities
    np.testing.assert_allclose(stats.volumes_a3, np.tile(single.volumes_a3, 3), rtol=1e-12)
    np.testing.assert_array_equal(stats.frame_of_volume, np.repeat([0, 1, 2], single.n_cavities))
    np.testing.assert_allclose(stats.cell_volume_a3, single.cell_volume_a3)
    assert stats.ion_cavity_distance_a.shape == (3, single.ion_indices.size)
    np.testing.assert_allclose(stats.ion_cavity_distance_a, np.tile(single.ion_cavity_distance_a, (3, 1)), rtol=1e-9)
    one = trajectory_cavities(positions, SKEWED_CELL, cutoff_a=1.6, resolution_a=0.35)
    assert one.n_cavities.shape == (1,) and one.ion_cavity_distance_a.shape == (1, 0)


def test_keep_labels_false():
    result = domain_cavities([[0.0, 0.0, 0.0]], np.eye(3) * 6.0, resolution_a=0.3, keep_labels=False)
    assert result.labels is None and result.n_cavities == 1
    with pytest.raises(ValueError, match='keep_labels'):
        cavity_points(result, np.eye(3) * 6.0)


def test_volume_histogram():
    volumes = np.array([0.5, 1.0, 2.0, 4.0, 8.0, 100.0])
    counts, edges = volume_histogram(volumes, n_bins=4)
    assert counts.sum() == len(volumes) and edges[0] == 0.5 and edges[-1] == 100.0
    counts, edges = volume_histogram(volumes, n_bins=5, log_bins=True, volume_weighted=True)
    assert counts.sum() == pytest.approx(volumes.sum())
    np.testing.assert_allclose(np.diff(np.log(edges)), np.log(200.0) / 5)
    counts, edges = volume_histogram(volumes, n_bins=2, range_a3=(0.0, 10.0))
    np.testing.assert_array_equal(counts, [4, 1])  # 100 Å^3 lies outside the range
    counts, edges = volume_histogram(np.array([]), n_bins=3)
    assert counts.sum() == 0 and edges.shape == (4,)


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize('kwargs, match', [
    ({'cutoff_a': -2.0}, 'cutoff_a'),
    ({'cutoff_a': 0.0}, 'cutoff_a'),
    ({'cutoff_a': float('nan')}, 'cutoff_a'),
    ({'cutoff_a': {'Li': 2.0}}, 'cutoff_a'),  # no radius for O
    ({'cutoff_a': {'Li': 2.0, 'O': -1.0}}, 'cutoff_a'),
    ({'resolution_a': 1.5}, 'resolution_a'),  # coarser than half the cutoff
    ({'resolution_a': 0.0}, 'resolution_a'),
    ({'resolution_a': -0.2}, 'resolution_a'),
    ({'resolution_a': 1e-3}, 'resolution_a'),  # 7000^3 voxels
    ({'mobile_ions': [99]}, 'mobile_ions'),
    ({'mobile_ions': [1.5]}, 'mobile_ions'),
    ({'mobile_ions': [1, 1]}, 'mobile_ions'),
    ({'connectivity': 18}, 'connectivity'),
])
def test_bad_arguments_are_named(kwargs, match):
    positions, species = random_frame(SKEWED_CELL, 6, seed=1)
    with pytest.raises(ValueError, match=match):
        domain_cavities(positions, SKEWED_CELL, species, **kwargs)


def test_bad_frames_are_named():
    cell = np.eye(3) * 8.0
    with pytest.raises(ValueError, match='positions'):
        domain_cavities(np.zeros((0, 3)), cell)
    with pytest.raises(ValueError, match='positions'):
        domain_cavities(np.zeros((4, 2)), cell)
    with pytest.raises(ValueError, match='cell'):
        domain_cavities(np.zeros((1, 3)), np.eye(3)[:2])
    with pytest.raises(ValueError, match='cell'):
        domain_cavities(np.zeros((1, 3)), [[1, 0, 0], [2, 0, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match='species'):
        domain_cavities(np.zeros((2, 3)), cell, ['Li'])
    with pytest.raises(ValueError, match='species'):
        domain_cavities(np.zeros((2, 3)), cell, mobile_ions='Li')
    with pytest.raises(ValueError, match='species'):
        domain_cavities(np.zeros((2, 3)), cell, cutoff_a={'Li': 2.0})
    with pytest.raises(ValueError, match='cell'):
        trajectory_cavities(np.zeros((2, 1, 3)), np.stack([cell] * 3))


def test_bad_helper_arguments_are_named():
    with pytest.raises(ValueError, match='resolution_a'):
        grid_shape(np.eye(3) * 10.0, -1.0)
    assert grid_shape(np.eye(3) * 10.0, 0.25) == (40, 40, 40)
    assert grid_shape(SKEWED_CELL, 0.35) == (21, 20, 22)  # |a_k| = 7.1, 6.99, 7.36 Å
    with pytest.raises(ValueError, match='shape'):
        grid_points(np.eye(3), (2, 2))
    with pytest.raises(ValueError, match='volumes_a3'):
        volume_histogram([1.0, -2.0])
    with pytest.raises(ValueError, match='n_bins'):
        volume_histogram([1.0, 2.0], n_bins=0)
    with pytest.raises(ValueError, match='range_a3'):
        volume_histogram([1.0, 2.0], range_a3=(3.0, 1.0))
    with pytest.raises(ValueError, match='range_a3'):
        volume_histogram([1.0, 2.0], range_a3=(0.0, 1.0), log_bins=True)
    result = domain_cavities([[0.0, 0.0, 0.0]], np.eye(3) * 6.0, resolution_a=0.3)
    with pytest.raises(ValueError, match='cavity'):
        cavity_points(result, np.eye(3) * 6.0, cavity=2)
    np.testing.assert_allclose(cavity_points(result, np.eye(3) * 6.0, cavity=1), cavity_points(result, np.eye(3) * 6.0))
