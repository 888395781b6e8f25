"""Fracture kernels on hand-built lattices: the pre-crack, charge balance, crack area, G_c and K_IC by hand."""
import numpy as np
import pytest

from aiida_boroglass.analysis.mechanics.fracture import (
    box_lengths,
    column_gaps,
    crack_area,
    elliptical_distance,
    fracture_energy,
    fracture_toughness,
    is_separated,
    precrack_geometry,
    precrack_removal,
)

#: Deng-Du partial charges (e): 0.6 x the formal valences.
CHARGES = {'Li': 0.6, 'B': 1.8, 'O': -1.2}


def cubic_grid(side: int, spacing: float = 1.0) -> np.ndarray:
    """Sites of a simple cubic grid of ``side``^3 points, Å, read-only."""
    index = np.indices((side, side, side)).reshape(3, -1).T
    positions = (index + 0.5) * spacing
    positions.setflags(write=False)
    return positions


def li2o_grid(side: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Li2O-composition lattice: a 1 Å simple cubic grid, O where (i + j + k) % 3 == 0, Li elsewhere."""
    positions = cubic_grid(side)
    index = np.rint(positions - 0.5).astype(int)
    species = np.where(index.sum(axis=1) % 3 == 0, 'O', 'Li')
    return positions, species, np.full(3, float(side))


def test_precrack_geometry_follows_paper_002():
    """1 x 2 x 2 of a 20 Å cube: width 40/3 Å along the longer y, height width/5, through x."""
    geometry = precrack_geometry([20.0, 40.0, 40.0])
    assert geometry['width_axis'] == 1 and geometry['through_axis'] == 0
    assert geometry['width_a'] == pytest.approx(40.0 / 3) and geometry['height_a'] == pytest.approx(40.0 / 15)
    with pytest.raises(ValueError, match=r'crack.width_fraction: the pre-crack width 26.67 Å must lie in \(0, 20.00\) Å'):
        precrack_geometry([20.0, 20.0, 80.0])
    with pytest.raises(ValueError, match='crack.height_fraction'):
        precrack_geometry([40.0, 40.0, 4.0], height_fraction=1.0)
    with pytest.raises(ValueError, match='orthorhombic'):
        box_lengths([[10, 0, 0], [5, 10, 0], [0, 0, 10]])


def test_removed_cations_match_the_ellipse_area_and_charge_and_composition_are_restored():
    positions, species, lengths = li2o_grid()
    width, height = 18.0, 6.0
    rho = elliptical_distance(positions, lengths, 1, 2, width, height)
    removed = precrack_removal(rho, species, CHARGES)
    # Li inside: analytic ellipse area x length through x x Li density (2/3 per Å^3); a 1 Å lattice
    # counts the 85 Å^2 ellipse to within a fraction of its 40 Å perimeter (88 sites per slice here)
    expected = np.pi * width / 2 * height / 2 * lengths[0] * 2 / 3
    lithium_removed = (removed & (species == 'Li')).sum()
    assert lithium_removed == pytest.approx(expected, rel=0.05)
    kept = species[~removed]
    assert sum(CHARGES[s] for s in kept) == pytest.approx(0.0, abs=1e-9)
    assert (kept == 'Li').sum() == 2 * (kept == 'O').sum()  # Li2O again
    # the O removed are the innermost: none kept nearer the crack than one removed
    oxygen = species == 'O'
    assert rho[removed & oxygen].max() <= rho[~removed & oxygen].min()


def test_an_odd_removed_charge_takes_the_next_cation_outside():
    """Three Li inside (charge 1.8 = 1.5 O): the nearest Li outside goes too, then two O."""
    positions = np.array([[5.0, 5.0, 5.0], [5.5, 5.0, 5.0], [4.5, 5.0, 5.0], [7.0, 5.0, 5.0], [9.0, 5.0, 5.0],
                          [1.0, 1.0, 1.0], [5.0, 5.0, 5.2], [2.0, 8.0, 1.0], [8.0, 2.0, 8.0], [1.0, 8.0, 8.0]])
    species = np.array(['Li'] * 5 + ['B', 'O', 'O', 'O', 'O'])  # 5 Li + 1 B = 4.8 e, 4 O = -4.8 e
    lengths = np.full(3, 10.0)
    rho = elliptical_distance(positions, lengths, 0, 2, 2.4, 1.0)
    removed = precrack_removal(rho, species, CHARGES)
    # Li 0-2 inside (rho < 1), Li 3 the nearest outside (rho 1.67), then O 6 (inside) and O 8 (rho 6.5 < 6.9, 8.4)
    assert np.flatnonzero(removed).tolist() == [0, 1, 2, 3, 6, 8]
    assert sum(CHARGES[s] for s in species[~removed]) == pytest.approx(0.0, abs=1e-9)


def test_adjustable_oxygen_charge_rounds_the_oxygen_count():
    positions, species, lengths = li2o_grid(12)
    rho = elliptical_distance(positions, lengths, 1, 2, 6.0, 2.0)
    shik = {'Li': 0.5727, 'O': -1.1454}  # O charge from neutrality
    removed = precrack_removal(rho, species, shik, fixed_charges=False)
    lithium = (removed & (species == 'Li')).sum()
    assert lithium == (~(species == 'O') & (rho < 1)).sum()
    assert (removed & (species == 'O')).sum() == round(lithium / 2)


def test_refusals():
    positions, species, lengths = li2o_grid(6)
    rho = elliptical_distance(positions, lengths, 1, 2, 6.0, 2.0)
    with pytest.raises(ValueError, match=r"charges: none given for \['Li'\]"):
        precrack_removal(rho, species, {'O': -1.2})
    with pytest.raises(ValueError, match='no cation lies inside'):
        precrack_removal(np.full(rho.shape, 2.0), species, CHARGES)


def naive_column_gaps(positions, lengths, probe_radius=2.5, gap=4.5, grid=1.0):
    """Openings per column, column by column and atom by atom (z the loading axis)."""
    counts = np.maximum(np.ceil(lengths[:2] / grid).astype(int), 1)
    openings = np.zeros(counts, dtype=int)
    for i in range(counts[0]):
        for j in range(counts[1]):
            centre = (np.array([i, j]) + 0.5) * lengths[:2] / counts
            heights = []
            for position in positions:
                delta = position[:2] - centre
                delta -= lengths[:2] * np.round(delta / lengths[:2])
                if delta @ delta < probe_radius**2:
                    heights.append(position[2] % lengths[2])
            if not heights:
                openings[i, j] = 1
                continue
            z = sorted(heights) + [min(heights) + lengths[2]]
            openings[i, j] = sum(b - a > gap for a, b in zip(z[:-1], z[1:]))
    return openings


def test_column_gaps_match_a_naive_count_on_random_atoms():
    """A seeded random gas with an empty slab and a sparse region: every column as counted one by one."""
    rng = np.random.default_rng(3)
    lengths = np.array([9.0, 7.5, 20.0])
    positions = rng.uniform(0, 1, (400, 3)) * lengths
    positions = positions[(positions[:, 2] < 8.0) | (positions[:, 2] > 14.0) | (positions[:, 0] < 2.0)]
    positions[:, 0] -= 9.0 * (positions[:, 1] > 5.0)  # unwrapped coordinates
    positions.setflags(write=False)
    for probe_radius, gap, grid in ((2.5, 4.5, 1.0), (1.0, 2.0, 0.7), (1.5, 5.0, 3.0)):
        expected = naive_column_gaps(positions, lengths, probe_radius, gap, grid)
        assert (column_gaps(positions, lengths, 2, probe_radius, gap, grid) == expected).all()
        assert np.unique(expected).size > 1  # open and closed columns both present


def grid_block(side=10, spacing=2.0):
    positions = cubic_grid(side, spacing)
    return np.array(positions), np.full(3, side * spacing)


def test_an_intact_lattice_has_no_crack_and_a_separated_one_the_whole_cross_section():
    positions, lengths = grid_block()
    intact = column_gaps(positions, lengths)
    assert intact.sum() == 0 and crack_area(intact, lengths) == 0.0
    # pull the upper half 6 Å apart along z (the cell grows by as much): one crack
    upper = positions[:, 2] > lengths[2] / 2
    opened = positions.copy()
    opened[upper, 2] += 6.0
    grown = lengths + [0, 0, 6.0]
    one = column_gaps(opened, grown)
    assert (one == 1).all() and crack_area(one, grown) == pytest.approx(lengths[0] * lengths[1])
    # also open the periodic boundary: two cracks, twice the cross-section
    twice = opened.copy()
    twice[:, 2] += 3.0
    two = column_gaps(twice, grown + [0, 0, 6.0])
    assert crack_area(two, grown) == pytest.approx(2 * lengths[0] * lengths[1])
    # half the width open (x < 10 Å), the other half stretched uniformly (spacing 2.6 Å): half the cross-section
    half = positions.copy()
    left = positions[:, 0] < 10.0
    half[upper & left, 2] += 6.0
    half[~left, 2] *= grown[2] / lengths[2]
    partial = column_gaps(half, grown, probe_radius=1.5)
    assert crack_area(partial, grown) == pytest.approx(lengths[0] * lengths[1] / 2, rel=0.15)
    assert not is_separated([0.0, 2.0, 0.01, 0.01], partial)
    assert is_separated([0.0, 2.0, 0.01, 0.01], one)
    assert not is_separated([0.0, 2.0, 1.5, 0.01], one)  # the stress dropped on one step only
    assert not is_separated([0.0, 2.0, 0.01, -0.5], one)  # the faces still push each other apart


def test_fracture_energy_and_toughness_by_hand():
    # a triangle: 10 GPa peak at L = 21 Å from 20 to 22 Å -> integral 10 GPa Å = 1 J/m^2 per unit area ratio
    lengths = [20.0, 21.0, 22.0, 23.0]
    stress = [0.0, 10.0, 0.0, 0.0]
    assert fracture_energy(lengths, stress, 400.0, 400.0) == pytest.approx(1.0)
    assert fracture_energy(lengths, stress, 400.0, 200.0) == pytest.approx(2.0)
    # G_c = 4 J/m^2, E = 60 GPa, nu = 0.25: sqrt(4 * 60e9 / 0.9375) Pa m^0.5 = 0.5060 MPa m^0.5
    assert fracture_toughness(4.0, 60.0, 0.25) == pytest.approx(np.sqrt(4 * 60e9 / (1 - 0.0625)) / 1e6)
    assert fracture_toughness(4.0, 60.0, 0.25) == pytest.approx(0.50596, abs=1e-5)
    with pytest.raises(ValueError, match='crack_area'):
        fracture_energy(lengths, stress, 400.0, 0.0)
    with pytest.raises(ValueError, match='nu in'):
        fracture_toughness(4.0, 60.0, 0.5)
