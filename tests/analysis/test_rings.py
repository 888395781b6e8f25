"""Tests for aiida_boroglass.analysis.rings: primitive / shortest-path rings of the former-BO network."""

from __future__ import annotations

import itertools
from collections import deque

import numpy as np
import pytest

from aiida_boroglass.analysis.rings import (
    RING_KINDS,
    class_counts,
    find_rings,
    frame_rings,
    network_graph,
    ring_atom_types,
    ring_classes,
    ring_membership,
    ring_statistics,
    size_counts,
)
from aiida_boroglass.analysis.neighbors import wrap_positions
from aiida_boroglass.analysis.speciation import network_frame

CUTOFFS = {'B': 2.0, 'P': 2.0, 'Si': 2.2}


# --------------------------------------------------------------------------- structures


def boroxol_sheets(bo=1.37, spacing=3.6, reps=(2, 2, 2)):
    """Planar B2O3 sheets of boroxol rings: a honeycomb whose nodes are B3O3 rings.

    Each node carries a regular B3O3 hexagon (side ``bo``) with its three B pointing to the
    three neighbouring nodes; one bridging O sits half-way between two nodes. Per
    primitive cell: 2 boroxol rings (6 B, 6 ring O, 3 bridging O) and 1 large ring of
    6 nodes (12 B + 12 O). Returns positions (Å), cell (rows, Å), species.
    """
    node_distance = 4.0 * bo  # centre -> B (bo) -> bridging O (2 bo) -> ... mirrored
    a = node_distance * np.sqrt(3.0)
    cell = np.array([[a, 0.0, 0.0], [0.5 * a, 0.5 * np.sqrt(3.0) * a, 0.0], [0.0, 0.0, spacing]])
    centre_a = np.array([0.0, 0.0, 0.0])
    centre_b = (cell[0] + cell[1]) / 3.0
    atoms, species = [], []
    for centre, sign in ((centre_a, 1.0), (centre_b, -1.0)):
        # bonds of sublattice A point towards B nodes at 30, 150, 270 degrees; B: opposite
        for k in range(3):
            angle_b = np.radians(30.0 + 120.0 * k) + (np.pi if sign < 0 else 0.0)
            angle_o = angle_b + np.radians(60.0)
            atoms.append(centre + bo * np.array([np.cos(angle_b), np.sin(angle_b), 0.0]))
            species.append('B')
            atoms.append(centre + bo * np.array([np.cos(angle_o), np.sin(angle_o), 0.0]))
            species.append('O')
            if sign > 0:
                atoms.append(centre + 2.0 * bo * np.array([np.cos(angle_b), np.sin(angle_b), 0.0]))
                species.append('O')
    frac = np.linalg.solve(cell.T, np.array(atoms).T).T % 1.0
    grid = np.array(list(itertools.product(*(range(r) for r in reps))), dtype=float)
    all_frac = (grid[:, None, :] + frac[None]).reshape(-1, 3) / np.array(reps, dtype=float)
    big = cell * np.array(reps, dtype=float)[:, None]
    out = (all_frac @ big, big, np.tile(species, len(grid)))
    for arr in out:
        arr.setflags(write=False)
    return out


def square_net(a=3.2, reps=(3, 3, 2), spacing=4.0, element='Si'):
    """Stacked square nets of formers with an O half-way along every edge: only 4-former rings."""
    frac = np.array([[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.5, 0.0]])
    cell = np.diag([a, a, spacing])
    grid = np.array(list(itertools.product(*(range(r) for r in reps))), dtype=float)
    all_frac = (grid[:, None, :] + frac[None]).reshape(-1, 3) / np.array(reps, dtype=float)
    big = cell * np.array(reps, dtype=float)[:, None]
    out = (all_frac @ big, big, np.tile([element, 'O', 'O'], len(grid)))
    for arr in out:
        arr.setflags(write=False)
    return out


def chain_through_boundary(bo=1.4):
    """One straight -B-O-B-O- chain along x that closes on itself only through the periodic boundary."""
    period = 4 * bo
    positions = np.array([[0.0, 1.0, 1.0], [bo, 1.0, 1.0], [2 * bo, 1.0, 1.0], [3 * bo, 1.0, 1.0]])
    return positions, np.diag([period, 6.0, 6.0]), np.array(['B', 'O', 'B', 'O'])


def boroxol_molecule(bo=1.37):
    """An isolated B3O6 ring (three B(2): one NBO each) in a 15 Å box."""
    atoms, species = [], []
    for k in range(3):
        angle = np.radians(90.0 + 120.0 * k)
        atoms.append(bo * np.array([np.cos(angle), np.sin(angle), 0.0]))
        atoms.append(bo * np.array([np.cos(angle + np.pi / 3), np.sin(angle + np.pi / 3), 0.0]))
        atoms.append(2 * bo * np.array([np.cos(angle), np.sin(angle), 0.0]))
        species += ['B', 'O', 'O']
    return np.array(atoms) + 7.5, np.eye(3) * 15.0, np.array(species)


def damaged_cristobalite(crystals, seed, n_remove=3, substitute=('Si', 'P')):
    """One cell (24 atoms) of BO4 cristobalite, some O removed, some B replaced, jiggled: a small random network."""
    positions, cell, species = crystals.cristobalite_bo4(reps=1)
    rng = np.random.default_rng(seed)
    oxygens = np.flatnonzero(species == 'O')
    keep = np.ones(species.size, dtype=bool)
    keep[rng.choice(oxygens, n_remove, replace=False)] = False
    species = species.astype('<U2')
    formers = np.flatnonzero(species == 'B')
    for element, atom in zip(substitute, rng.choice(formers, len(substitute), replace=False)):
        species[atom] = element
    positions = positions + rng.normal(scale=0.05, size=positions.shape)
    return positions[keep], cell, species[keep]


def random_network(seed, n_formers=12, n_oxygen=18, length=7.2, cutoff=2.4):
    """Random points (closest approach 1.2 Å) in a skewed periodic cell: a random former-O network."""
    rng = np.random.default_rng(seed)
    cell = np.array([[length, 0.0, 0.0], [0.3 * length, length, 0.0], [-0.2 * length, 0.1 * length, length]])
    points = []
    while len(points) < n_formers + n_oxygen:
        trial = rng.uniform(size=3) @ cell
        frac = np.linalg.solve(cell.T, (np.array(points) - trial).T).T if points else np.zeros((0, 3))
        frac -= np.rint(frac)
        if not points or np.min(np.linalg.norm(frac @ cell, axis=1)) > 1.2:
            points.append(trial)
    species = np.array(['B'] * n_formers + ['O'] * n_oxygen)
    return np.array(points), cell, species, {'B': cutoff}


# --------------------------------------------------------------------------- naive reference


def naive_graph(positions, cell, species, cutoffs):
    """Lifted former-BO graph by brute force over the 27 neighbouring images.

    Returns ``{atom: [(neighbour, image of neighbour relative to atom), ...]}`` for formers
    and bridging O (O with >= 2 bonds).
    """
    cell = np.asarray(cell, dtype=float)
    frac = np.linalg.solve(cell.T, wrap_positions(positions, cell).T).T
    bonds = []
    for f in range(len(species)):
        if species[f] not in cutoffs:
            continue
        for o in np.flatnonzero(np.asarray(species) == 'O'):
            for image in itertools.product((-1, 0, 1), repeat=3):
                d = np.linalg.norm((frac[o] + image - frac[f]) @ cell)
                if d < cutoffs[species[f]]:
                    bonds.append((f, int(o), image))
    n_bonds = {}
    for _, o, _ in bonds:
        n_bonds[o] = n_bonds.get(o, 0) + 1
    adjacency = {}
    for f, o, image in bonds:
        if n_bonds[o] < 2:
            continue
        adjacency.setdefault(f, []).append((o, image))
        adjacency.setdefault(o, []).append((f, tuple(-x for x in image)))
    return adjacency


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b))


def _sub(a, b):
    return tuple(x - y for x, y in zip(a, b))


def canonical_edges(edges):
    """Translate an edge set of the lifted graph so its smallest node is in image 0; frozenset of edges."""
    nodes = {n for e in edges for n in e}
    atom, image = min(nodes)
    return frozenset(frozenset((n[0], _sub(n[1], image)) for n in e) for e in edges)


def cycle_edges(nodes):
    """Edges of a cycle given as its lifted nodes in order."""
    return [frozenset((nodes[k], nodes[(k + 1) % len(nodes)])) for k in range(len(nodes))]


def naive_cycles(adjacency, max_atoms):
    """Every simple cycle of the lifted graph with <= max_atoms nodes (zero net image shift), up to translation.

    Depth-first search from every atom in image 0 through atoms with index >= the start.
    Returns ``{canonical edge set: ordered lifted nodes}``.
    """
    found = {}
    for start in adjacency:
        origin = (start, (0, 0, 0))
        stack = [[origin]]
        while stack:
            path = stack.pop()
            atom, image = path[-1]
            for neighbour, shift in adjacency[atom]:
                node = (neighbour, _add(image, shift))
                if node == origin and len(path) >= 3:
                    found.setdefault(canonical_edges(cycle_edges(path)), list(path))
                elif neighbour >= start and node not in path and len(path) < max_atoms:
                    stack.append(path + [node])
    return found


def lifted_distance(adjacency, source, target, limit):
    """Breadth-first distance on the lifted graph between lifted nodes (``limit + 1`` if farther)."""
    offset = source[1]
    source = (source[0], (0, 0, 0))
    target = (target[0], _sub(target[1], offset))
    seen = {source: 0}
    queue = deque([source])
    while queue:
        node = queue.popleft()
        if node == target:
            return seen[node]
        if seen[node] == limit:
            continue
        for neighbour, shift in adjacency[node[0]]:
            nxt = (neighbour, _add(node[1], shift))
            if nxt not in seen:
                seen[nxt] = seen[node] + 1
                queue.append(nxt)
    return limit + 1


def naive_sp(adjacency, cycles):
    """Franzblau's criterion by brute force: every pair of ring nodes is as close in the network as on the ring."""
    kept = set()
    for key, nodes in cycles.items():
        n = len(nodes)
        if all(
            lifted_distance(adjacency, nodes[i], nodes[j], n) == min(j - i, n - j + i)
            for i in range(n)
            for j in range(i + 1, n)
        ):
            kept.add(key)
    return kept


def _is_cycle(edges):
    """True if the edge set is one simple cycle."""
    if not edges:
        return False
    degree = {}
    for e in edges:
        for n in e:
            degree[n] = degree.get(n, 0) + 1
    if any(d != 2 for d in degree.values()):
        return False
    adjacency = {}
    for e in edges:
        a, b = tuple(e)
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)
    start = next(iter(degree))
    seen, queue = {start}, [start]
    while queue:
        for nxt in adjacency[queue.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return len(seen) == len(degree)


def naive_primitive(cycles):
    """Goetzke-Klein criterion by brute force: not the symmetric difference of two smaller cycles.

    Every smaller cycle is tried in every translate that puts one of its atoms on a node
    of the ring.
    """
    kept = set()
    for key, nodes in cycles.items():
        n = len(nodes)
        ring = set(key)
        decomposable = False
        for other_key, other in cycles.items():
            if len(other) >= n or decomposable:
                continue
            for node in nodes:
                for atom, image in other:
                    if atom != node[0]:
                        continue
                    shift = _sub(node[1], image)
                    moved = {frozenset((m[0], _add(m[1], shift)) for m in e) for e in other_key}
                    rest = ring ^ moved
                    if len(rest) < n and _is_cycle(rest):
                        decomposable = True
                        break
                if decomposable:
                    break
        if not decomposable:
            kept.add(key)
    return kept


def ours(rings):
    """Canonical edge sets of the rings returned by find_rings."""
    keys = set()
    for atoms, images in zip(rings.atoms, rings.images):
        nodes = [(int(a), tuple(int(x) for x in img)) for a, img in zip(atoms, images)]
        keys.add(canonical_edges(cycle_edges(nodes)))
    return keys


def atom_sets(rings):
    """Sorted multiset of the sorted atom tuples of the rings (independent of images)."""
    return sorted(tuple(sorted(a.tolist())) for a in rings.atoms)


# --------------------------------------------------------------------------- crystals


def test_kinds():
    assert RING_KINDS == ('primitive', 'shortest_path')


@pytest.mark.parametrize('kind', RING_KINDS)
def test_alpha_quartz_six_and_eight_rings(alpha_quartz, kind):
    """alpha-quartz: every Si lies on 6 six-membered and 40 eight-membered (in Si) rings, nothing smaller."""
    positions, cell, species = alpha_quartz
    n_si = np.count_nonzero(species == 'Si')
    rings = frame_rings(positions, cell, species, CUTOFFS, max_atoms=16, kind=kind)
    counts = size_counts(rings, 'formers')
    assert counts.tolist() == [0, 0, 0, 0, 0, 0, 6 * n_si // 6, 0, 40 * n_si // 8]
    _, smallest = ring_membership(rings, species.size, by='formers')
    assert np.all(smallest[species == 'Si'] == 6)
    # 12 atoms: only the six-rings
    assert size_counts(frame_rings(positions, cell, species, CUTOFFS, max_atoms=12, kind=kind), 'atoms').tolist() == [
        0] * 12 + [n_si]


def test_alpha_quartz_agrees_with_the_naive_reference(crystals):
    """A one-cell quartz (9 atoms): rings pass the same atom in several images."""
    positions, cell, species = crystals.alpha_quartz(reps=1)
    cutoffs = {'Si': 2.0}  # Si-O 1.61 Å; the 4.9 Å cell allows at most 2.13 Å
    adjacency = naive_graph(positions, cell, species, cutoffs)
    cycles = naive_cycles(adjacency, 12)
    reference = naive_sp(adjacency, cycles)
    rings = frame_rings(positions, cell, species, cutoffs, max_atoms=12)
    assert ours(rings) == reference
    assert len(reference) == 3  # 6 six-rings per Si, 3 Si
    assert any(len(set(a.tolist())) < len(a) for a in rings.atoms)


def test_cristobalite_has_only_six_former_rings(bo4_network):
    positions, cell, species = bo4_network
    rings = frame_rings(positions, cell, species, CUTOFFS, max_atoms=16)
    n_b = np.count_nonzero(species == 'B')
    # diamond net: 12 six-rings through every node, 6 nodes per ring
    assert size_counts(rings, 'formers').tolist() == [0, 0, 0, 0, 0, 0, 2 * n_b, 0, 0]
    assert set(ring_classes(rings, species, network_frame(positions, cell, species, CUTOFFS).former_oxygens)) == {'6B4'}


def test_square_net_has_only_four_rings():
    positions, cell, species = square_net()
    rings = frame_rings(positions, cell, species, CUTOFFS, max_atoms=16)
    n_si = np.count_nonzero(species == 'Si')
    assert size_counts(rings, 'formers').tolist() == [0, 0, 0, 0, n_si, 0, 0, 0, 0]
    assert np.all(rings.n_atoms == 8)


def test_boroxol_sheets():
    positions, cell, species = boroxol_sheets()
    n_cells = 8
    frame = network_frame(positions, cell, species, CUTOFFS)
    assert np.all(frame.former_oxygens[species == 'B'] == 3)
    small = frame_rings(positions, cell, species, CUTOFFS, max_atoms=12)
    assert size_counts(small, 'atoms').tolist() == [0] * 6 + [2 * n_cells] + [0] * 6
    assert class_counts(ring_classes(small, species, frame.former_oxygens)) == {'3B3': 2 * n_cells}
    big = frame_rings(positions, cell, species, CUTOFFS, max_atoms=24)
    assert size_counts(big, 'formers').tolist() == [0, 0, 0, 2 * n_cells] + [0] * 8 + [n_cells]
    # every B and every ring O lies on a boroxol ring, the bridging O between rings do not
    tags = ring_atom_types(species, frame.former_oxygens, small)
    assert set(tags[species == 'B']) == {'B3r'}
    assert np.count_nonzero(tags == 'Or') == 6 * n_cells
    assert np.count_nonzero(tags == 'On') == 3 * n_cells
    in_ring, smallest = ring_membership(big, species.size)
    assert np.all(in_ring)
    assert set(smallest[tags == 'On']) == {24}
    assert set(smallest[tags == 'Or']) == {6}


def test_isolated_boroxol_molecule():
    positions, cell, species = boroxol_molecule()
    rings = frame_rings(positions, cell, species, CUTOFFS)
    assert rings.n_atoms.tolist() == [6]
    assert sorted(rings.atoms[0].tolist()) == [0, 1, 3, 4, 6, 7]  # 3 B + 3 ring O, no NBO
    frame = network_frame(positions, cell, species, CUTOFFS)
    assert ring_classes(rings, species, frame.former_oxygens).tolist() == ['3B3']
    tags = ring_atom_types(species, frame.former_oxygens, rings)
    assert tags.tolist() == ['B3r', 'Or', 'On'] * 3


def test_cyclic_order_and_images_draw_the_ring(crystals):
    positions, cell, species = crystals.alpha_quartz(reps=1)
    rings = frame_rings(positions, cell, species, {'Si': 2.0}, max_atoms=16)
    wrapped = wrap_positions(positions, cell)
    for atoms, images in zip(rings.atoms, rings.images):
        assert atoms[0] == atoms.min() and np.all(images[0] == 0)
        drawn = wrapped[atoms] + images @ cell
        bonds = np.linalg.norm(np.roll(drawn, -1, axis=0) - drawn, axis=1)
        assert np.all((bonds > 1.5) & (bonds < 1.7))
        assert set(species[atoms[::2]]) != set(species[atoms[1::2]])  # formers and O alternate


# --------------------------------------------------------------------------- periodicity


def test_percolating_chain_is_not_a_ring():
    positions, cell, species = chain_through_boundary()
    network = network_graph(positions, cell, species, {'B': 2.0})
    assert network.former.size == 4  # the chain closes through the boundary: a 4-cycle of the cell graph
    assert find_rings(network, max_atoms=12).n_atoms.size == 0
    # doubled along the chain, the loop is still not a ring
    doubled = np.vstack([positions, positions + [4 * 1.4, 0.0, 0.0]])
    cell2 = np.diag([8 * 1.4, 6.0, 6.0])
    assert frame_rings(doubled, cell2, np.tile(species, 2), {'B': 2.0}).n_atoms.size == 0


def test_independent_of_cell_and_image_placement(crystals):
    positions, cell, species = crystals.alpha_quartz(reps=2)
    reference = frame_rings(positions, cell, species, CUTOFFS, max_atoms=16)
    new_positions, new_cell = crystals.equivalent_cell(positions, cell, seed=4)
    skewed = frame_rings(new_positions, new_cell, species, CUTOFFS, max_atoms=16)
    rng = np.random.default_rng(0)
    shifted_positions = positions + rng.integers(-3, 4, size=(species.size, 3)) @ cell
    shifted = frame_rings(shifted_positions, cell, species, CUTOFFS, max_atoms=16)
    assert atom_sets(skewed) == atom_sets(reference) == atom_sets(shifted)
    assert np.array_equal(skewed.n_atoms, reference.n_atoms)
    assert [a.tolist() for a in shifted.atoms] == [a.tolist() for a in reference.atoms]


def test_triclinic_boroxol_sheets_and_wrapping(crystals):
    positions, cell, species = boroxol_sheets()
    new_positions, new_cell = crystals.equivalent_cell(positions, cell, seed=1)
    wrapped = np.linalg.solve(new_cell.T, new_positions.T).T % 1.0 @ new_cell
    for pos in (new_positions, wrapped):
        rings = frame_rings(pos, new_cell, species, CUTOFFS, max_atoms=24)
        assert size_counts(rings, 'formers')[[3, 12]].tolist() == [16, 8]


# --------------------------------------------------------------------------- naive comparison


@pytest.mark.parametrize(('seed', 'n_remove'), [(0, 0), (1, 1), (2, 2), (3, 3)])
def test_agrees_with_naive_reference_on_damaged_cristobalite(crystals, seed, n_remove):
    """One cristobalite cell (24 atoms) with O removed: rings pass atoms in several images."""
    positions, cell, species = damaged_cristobalite(crystals, seed, n_remove=n_remove)
    adjacency = naive_graph(positions, cell, species, CUTOFFS)
    cycles = naive_cycles(adjacency, 16)
    sp, primitive = naive_sp(adjacency, cycles), naive_primitive(cycles)
    assert sp == primitive
    assert 0 < len(sp) < len(cycles)  # the criteria do reject cycles here
    for kind in RING_KINDS:
        assert ours(frame_rings(positions, cell, species, CUTOFFS, max_atoms=16, kind=kind)) == sp


@pytest.mark.parametrize('seed', [0, 1, 3, 4, 5, 7])
def test_agrees_with_naive_reference_on_random_networks(seed):
    positions, cell, species, cutoffs = random_network(seed)
    adjacency = naive_graph(positions, cell, species, cutoffs)
    cycles = naive_cycles(adjacency, 12)
    sp = naive_sp(adjacency, cycles)
    assert sp == naive_primitive(cycles)
    rings = frame_rings(positions, cell, species, cutoffs, max_atoms=12)
    assert ours(rings) == sp
    assert len(rings.atoms) == len(sp)


def test_random_networks_are_not_trivial():
    """The random networks above hold rejected cycles and rings of several sizes."""
    sizes, rejected = set(), 0
    for seed in (0, 4, 7):
        positions, cell, species, cutoffs = random_network(seed)
        adjacency = naive_graph(positions, cell, species, cutoffs)
        cycles = naive_cycles(adjacency, 12)
        sp = naive_sp(adjacency, cycles)
        rejected += len(cycles) - len(sp)
        sizes |= {len(cycles[k]) for k in sp}
    assert rejected > 0
    assert sizes == {4, 6, 8, 10}


# --------------------------------------------------------------------------- helpers


def test_ring_classes_with_mixed_formers(crystals):
    positions, cell, species = damaged_cristobalite(crystals, 0, n_remove=0, substitute=('Si', 'P', 'P'))
    frame = network_frame(positions, cell, species, CUTOFFS)
    rings = frame_rings(positions, cell, species, CUTOFFS)
    labels = ring_classes(rings, species, frame.former_oxygens)
    for atoms, label in zip(rings.atoms, labels):
        formers = species[atoms][species[atoms] != 'O']
        expected = []
        if np.any(formers == 'B'):
            expected.append(f'{np.count_nonzero(formers == "B")}B4')
        expected += [f'{np.count_nonzero(formers == e)}{e}' for e in ('P', 'Si') if np.any(formers == e)]
        assert label == '+'.join(expected)
    counts = class_counts(labels)
    assert sum(counts.values()) == len(rings.atoms)
    assert list(counts) == sorted(counts)


def test_ring_classes_order_boron_by_coordination():
    species = np.array(['B', 'O', 'B', 'O', 'B', 'O', 'P'])
    coordination = np.array([4, 2, 3, 2, 3, 2, 4])
    from aiida_boroglass.analysis.rings import Rings

    rings = Rings((np.array([0, 1, 2, 3, 4, 5]), np.array([0, 1, 6, 3])), (), np.array([3, 2]), np.array([6, 4]),
                  'primitive', 12)
    assert ring_classes(rings, species, coordination).tolist() == ['2B3+1B4', '1B4+1P']


def test_ring_statistics_pools_frames(crystals):
    positions, cell, species = crystals.alpha_quartz(reps=2)
    frames = crystals.jiggle(positions, 0.02, 3)
    stats = ring_statistics(frames, cell, species, CUTOFFS, max_atoms=16)
    n_si = np.count_nonzero(species == 'Si')
    assert stats.n_frames == 3 and stats.n_former_atoms == n_si
    assert stats.counts_by_formers.shape == (3, 9) and stats.counts_by_atoms.shape == (3, 17)
    assert np.all(stats.counts_by_formers[:, 6] == n_si) and np.all(stats.counts_by_formers[:, 8] == 5 * n_si)
    np.testing.assert_allclose(stats.per_former_by_formers[[6, 8]], [1.0, 5.0])
    np.testing.assert_allclose(stats.mean_by_atoms[[12, 16]], [n_si, 5 * n_si])
    assert stats.classes == {'6Si': n_si, '8Si': 5 * n_si}
    single = ring_statistics(positions, cell, species, CUTOFFS, max_atoms=16, kind='shortest_path')
    assert single.n_frames == 1 and single.kind == 'shortest_path'
    np.testing.assert_array_equal(single.mean_by_formers, stats.mean_by_formers)


def test_no_network_gives_no_rings(bo3_units):
    positions, cell, species = bo3_units
    rings = frame_rings(positions, cell, species, CUTOFFS)
    assert rings.n_atoms.size == 0 and rings.atoms == ()
    assert size_counts(rings).tolist() == [0] * 7
    in_ring, smallest = ring_membership(rings, species.size)
    assert not in_ring.any() and not smallest.any()
    stats = ring_statistics(positions, cell, species, CUTOFFS)
    assert stats.classes == {} and not stats.mean_by_atoms.any()


@pytest.mark.parametrize(
    ('kwargs', 'message'),
    [
        ({'kind': 'king'}, 'kind must be one of'),
        ({'max_atoms': 3}, 'max_atoms must lie in'),
        ({'max_atoms': 12.0}, 'max_atoms must be an integer'),
        ({'max_atoms': 100}, 'max_atoms must lie in'),
    ],
)
def test_bad_arguments(bo4_network, kwargs, message):
    positions, cell, species = bo4_network
    with pytest.raises(ValueError, match=message):
        frame_rings(positions, cell, species, CUTOFFS, **kwargs)
    with pytest.raises(ValueError, match=message):
        ring_statistics(positions, cell, species, CUTOFFS, **kwargs)


def test_bad_helper_arguments(bo4_network):
    positions, cell, species = bo4_network
    rings = frame_rings(positions, cell, species, CUTOFFS)
    with pytest.raises(ValueError, match='by must be'):
        size_counts(rings, by='oxygens')
    with pytest.raises(ValueError, match='coordination must be'):
        ring_classes(rings, species, np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match='n_formers must be'):
        ring_atom_types(species, np.zeros(species.size, dtype=int), rings, n_formers=1)
    with pytest.raises(ValueError, match='n_atoms'):
        ring_membership(rings, 5)
    with pytest.raises(ValueError, match='cutoffs'):
        frame_rings(positions, cell, species, {'Si': 2.2})
