"""Tests for aiida_boroglass.analysis.superstructural: borate superstructural units (paper 000)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from aiida_boroglass.analysis.rings import find_rings, network_graph
from aiida_boroglass.analysis.speciation import network_frame, unit_labels
from aiida_boroglass.analysis.superstructural import SUPERSTRUCTURAL_UNITS, frame_units, superstructural_units

CUTOFFS = {'B': 2.0}
BOND_A = 1.4
BOX_A = 40.0


# --------------------------------------------------------------------------- molecule builder


def embed(species, bonds, seed=0):
    """3D positions (Å) realising exactly the B-O bond graph ``bonds`` at a 2.0 Å cutoff.

    Bonded B-O pairs are pulled to 1.4 Å, unbonded B-O pairs pushed beyond 2.7 Å and all
    other pairs beyond 2.2 Å by minimising a spring energy from random starts.
    """
    species = np.asarray(species)
    n = species.size
    bonded = np.zeros((n, n), dtype=bool)
    for a, b in bonds:
        bonded[a, b] = bonded[b, a] = True
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    b_o = (species[:, None] == 'B') & (species[None, :] == 'O') | (species[:, None] == 'O') & (species[None, :] == 'B')
    i_b, j_b = np.nonzero(bonded & upper)
    i_far, j_far = np.nonzero(b_o & ~bonded & upper)
    i_other, j_other = np.nonzero(~b_o & upper)

    def energy(x):
        p = x.reshape(n, 3)

        def dist(i, j):
            return np.linalg.norm(p[i] - p[j], axis=1)

        e = np.sum((dist(i_b, j_b) - BOND_A) ** 2)
        e += np.sum(np.clip(2.7 - dist(i_far, j_far), 0.0, None) ** 2)
        return e + np.sum(np.clip(2.2 - dist(i_other, j_other), 0.0, None) ** 2)

    rng = np.random.default_rng(seed)
    for _ in range(20):
        result = minimize(energy, rng.normal(scale=2.0, size=3 * n), method='L-BFGS-B')
        p = result.x.reshape(n, 3)
        d = np.linalg.norm(p[:, None] - p[None], axis=2)
        if np.all(d[bonded] < 1.6) and np.all(d[b_o & ~bonded] > 2.4) and np.all(d[~b_o & upper] > 2.0):
            return p - p.mean(axis=0)
    raise RuntimeError('could not embed the molecule')


class Molecule:
    """A B-O molecule given as species and bonds; ``add_*`` helpers grow it."""

    def __init__(self):
        self.species, self.bonds = [], []

    def atom(self, element):
        self.species.append(element)
        return len(self.species) - 1

    def bond(self, a, b):
        self.bonds.append((a, b))

    def nbo(self, boron, count=1):
        for _ in range(count):
            self.bond(boron, self.atom('O'))

    def bridge(self, a, b):
        o = self.atom('O')
        self.bond(a, o)
        self.bond(b, o)
        return o

    def ring(self, borons):
        """Close a B3O3 ring through bridging O between consecutive borons."""
        for k in range(len(borons)):
            self.bridge(borons[k], borons[(k + 1) % len(borons)])


def boroxol_with_pendant_bo3():
    """A B3O3 ring of three B(3): each ring B bridges to a pendant BO3 (a B(1) with two NBO)."""
    m = Molecule()
    ring = [m.atom('B') for _ in range(3)]
    m.ring(ring)
    for b in ring:
        outer = m.atom('B')
        m.bridge(b, outer)
        m.nbo(outer, 2)
    return m


def triborate():
    """Ring of one BO4 (two NBO) and two BO3 (one NBO each)."""
    m = Molecule()
    ring = [m.atom('B') for _ in range(3)]
    m.ring(ring)
    m.nbo(ring[0], 2)
    m.nbo(ring[1])
    m.nbo(ring[2])
    return m


def metaborate_ring():
    """B3O6: three B(2)."""
    m = Molecule()
    ring = [m.atom('B') for _ in range(3)]
    m.ring(ring)
    for b in ring:
        m.nbo(b)
    return m


def pyroborate():
    """B2O5: two BO3 sharing one O."""
    m = Molecule()
    a, b = m.atom('B'), m.atom('B')
    m.bridge(a, b)
    m.nbo(a, 2)
    m.nbo(b, 2)
    return m


def orthoborate():
    m = Molecule()
    m.nbo(m.atom('B'), 3)
    return m


def metaborate_chain(n_units=3):
    """B(1)-[B(2)]n-B(1): a chain of n B(2) units capped by two BO3 with two NBO each."""
    m = Molecule()
    chain = [m.atom('B') for _ in range(n_units + 2)]
    for a, b in zip(chain[:-1], chain[1:]):
        m.bridge(a, b)
    for b in chain[1:-1]:
        m.nbo(b)
    m.nbo(chain[0], 2)
    m.nbo(chain[-1], 2)
    return m


def diborate():
    """Two rings of one BO3 + two BO4 sharing the two BO4 and the O between them (B4O9)."""
    m = Molecule()
    t1, t2, b1, b2 = (m.atom('B') for _ in range(4))  # t: tetrahedral, b: trigonal
    m.bridge(t1, t2)
    for trig in (b1, b2):
        m.bridge(t1, trig)
        m.bridge(trig, t2)
        m.nbo(trig)
    m.nbo(t1)
    m.nbo(t2)
    return m


def edge_sharing_bo4_pair():
    """Two BO4 joined by two O (a B2O2 four-membered ring) and bridged by one BO3: two B3O3 rings
    hold both BO4 but not the same O between them, so this is no diborate group."""
    m = Molecule()
    t1, t2, trig = (m.atom('B') for _ in range(3))
    m.bridge(t1, t2)
    m.bridge(t1, t2)
    m.bridge(t1, trig)
    m.bridge(trig, t2)
    m.nbo(trig)
    m.nbo(t1)
    m.nbo(t2)
    return m


def two_triborates_sharing_a_bo4():
    """Pentaborate-like: two rings of two BO3 + one BO4 sharing the BO4."""
    m = Molecule()
    t = m.atom('B')
    for _ in range(2):
        a, b = m.atom('B'), m.atom('B')
        m.ring([t, a, b])
        m.nbo(a)
        m.nbo(b)
    return m


def in_box(molecules, seeds=None):
    """Molecules embedded and placed 10 Å apart in one big cubic box: positions, cell, species."""
    positions, species = [], []
    for k, molecule in enumerate(molecules):
        p = embed(molecule.species, molecule.bonds, seed=k if seeds is None else seeds[k])
        offset = np.array([(k % 3) * 12.0 + 6.0, (k // 3 % 3) * 12.0 + 6.0, (k // 9) * 12.0 + 6.0])
        positions.append(p + offset)
        species += molecule.species
    return np.vstack(positions), np.eye(3) * BOX_A, np.array(species)


def units_of(positions, cell, species):
    frame = network_frame(positions, cell, species, CUTOFFS)
    rings = find_rings(network_graph(positions, cell, species, CUTOFFS), 6)
    return frame_units(species, frame, rings)


def expected(**counts):
    return {name: counts.get(name, 0) for name in SUPERSTRUCTURAL_UNITS}


# --------------------------------------------------------------------------- tests


def test_units_listed():
    assert SUPERSTRUCTURAL_UNITS == ('boroxol', 'triborate', 'diborate', 'metaborate_ring', 'metaborate_chain',
                                     'pyroborate', 'orthoborate')


@pytest.mark.parametrize('builder', [boroxol_with_pendant_bo3, triborate, metaborate_ring, pyroborate, orthoborate,
                                     metaborate_chain, diborate, edge_sharing_bo4_pair,
                                     two_triborates_sharing_a_bo4])
def test_embedded_molecules_have_the_intended_bonds(builder):
    molecule = builder()
    positions, cell, species = in_box([molecule])
    frame = network_frame(positions, cell, species, CUTOFFS)
    found = {tuple(sorted(pair)) for pair in zip(frame.former.tolist(), frame.oxygen.tolist())}
    assert found == {tuple(sorted(pair)) for pair in molecule.bonds}


@pytest.mark.parametrize(
    ('builder', 'counts', 'boron'),
    [
        (boroxol_with_pendant_bo3, {'boroxol': 1}, {'boroxol': 3}),
        (triborate, {'triborate': 1}, {'triborate': 3}),
        (metaborate_ring, {'metaborate_ring': 1}, {'metaborate_ring': 3}),
        (pyroborate, {'pyroborate': 1}, {'pyroborate': 2}),
        (orthoborate, {'orthoborate': 1}, {'orthoborate': 1}),
        (metaborate_chain, {'metaborate_chain': 1}, {'metaborate_chain': 3}),
        (diborate, {'diborate': 1}, {'diborate': 4}),
        (two_triborates_sharing_a_bo4, {'triborate': 2}, {'triborate': 5}),
        (edge_sharing_bo4_pair, {}, {}),
    ],
)
def test_single_units_counted_exactly(builder, counts, boron):
    positions, cell, species = in_box([builder()])
    units = units_of(positions, cell, species)
    assert {name: u['count'] for name, u in units.items()} == expected(**counts)
    assert {name: u['boron'].size for name, u in units.items()} == expected(**boron)
    for u in units.values():
        assert np.all(species[u['boron']] == 'B')


def test_unit_labels_of_the_builders():
    """The molecules carry the boron units the definitions rely on (paper 003 / unit_labels)."""
    for builder, labels in ((metaborate_chain, ['B(1)', 'B(2)', 'B(2)', 'B(2)', 'B(1)']),
                            (pyroborate, ['B(1)', 'B(1)']), (orthoborate, ['B(0)']),
                            (diborate, ['B(4)', 'B(4)', 'B(2)', 'B(2)'])):
        positions, cell, species = in_box([builder()])
        frame = network_frame(positions, cell, species, CUTOFFS)
        assert unit_labels(species, frame)[species == 'B'].tolist() == labels


def test_mixture_in_one_box_and_trajectory_average(crystals):
    molecules = [boroxol_with_pendant_bo3(), triborate(), triborate(), metaborate_ring(), pyroborate(),
                 orthoborate(), orthoborate(), metaborate_chain(4), diborate()]
    positions, cell, species = in_box(molecules)
    n_boron = np.count_nonzero(species == 'B')
    counts = {'boroxol': 1, 'triborate': 2, 'diborate': 1, 'metaborate_ring': 1, 'metaborate_chain': 1,
              'pyroborate': 1, 'orthoborate': 2}
    boron = {'boroxol': 3, 'triborate': 6, 'diborate': 4, 'metaborate_ring': 3, 'metaborate_chain': 4,
             'pyroborate': 2, 'orthoborate': 2}
    frames = crystals.jiggle(positions, 0.01, 2)
    result = superstructural_units(frames, cell, species, CUTOFFS)
    assert list(result) == list(SUPERSTRUCTURAL_UNITS)
    for name in SUPERSTRUCTURAL_UNITS:
        assert result[name]['count'] == counts[name]
        assert result[name]['boron_fraction'] == pytest.approx(boron[name] / n_boron)


def test_periodic_metaborate_chain_and_boroxol_network(crystals):
    """An infinite -B(O)-O- chain through the boundary is one metaborate chain, not a ring."""
    bo = 1.4
    positions = []
    species = []
    for k in range(4):
        x = 2 * k * bo
        positions += [[x, 3.0, 3.0], [x + bo, 3.0, 3.0], [x, 3.0 + 1.35, 3.0]]
        species += ['B', 'O', 'O']
    positions, cell, species = np.array(positions), np.diag([8 * bo, 7.0, 7.0]), np.array(species)
    result = superstructural_units(positions, cell, species, CUTOFFS)
    assert result['metaborate_chain'] == {'count': 1.0, 'boron_fraction': 1.0}
    assert sum(r['count'] for r in result.values()) == 1.0
    # BO4 cristobalite: rings of 6 B, no superstructural unit of these kinds
    positions, cell, species = crystals.cristobalite_bo4()
    assert all(r['count'] == 0 for r in superstructural_units(positions, cell, species, CUTOFFS).values())


def test_bad_input(bo3_sheets):
    positions, cell, species = bo3_sheets
    with pytest.raises(ValueError, match='no boron'):
        superstructural_units(positions, cell, np.where(species == 'B', 'Si', species), {'Si': 2.2})
    frame = network_frame(positions, cell, species, CUTOFFS)
    rings = find_rings(network_graph(positions, cell, species, CUTOFFS), 4)
    with pytest.raises(ValueError, match='max_atoms >= 6'):
        frame_units(species, frame, rings)
    with pytest.raises(ValueError, match='species has'):
        frame_units(species[:-1], frame, find_rings(network_graph(positions, cell, species, CUTOFFS), 6))
