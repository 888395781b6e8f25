"""Bond switching on hand-built frames: one former of each class, across the periodic boundary, in triclinic cells."""
import re

import numpy as np
import pytest

from aiida_boroglass.analysis.mechanics.bond_switching import SWITCH_CLASSES, bond_switching, switching_classes

CUTOFFS = {'B': 1.9, 'P': 2.0}
BOX = 20.0


def planar(centre, bond=1.4):
    """Three O around ``centre`` in the xy plane, 120 degrees apart, ``bond`` Å away."""
    angles = np.radians([0.0, 120.0, 240.0])
    return [np.asarray(centre) + bond * np.array([np.cos(a), np.sin(a), 0.0]) for a in angles]


def tetrahedral(centre, bond=1.55):
    """Four O at the corners of a tetrahedron around ``centre``, ``bond`` Å away."""
    corners = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3.0)
    return list(np.asarray(centre) + bond * corners)


def frames():
    """(reference, strained, species): B0 loses an O, B1 gains one, B2 swaps one, B3 (across the boundary) and P keep theirs.

    Atom order: B0 B1 B2 B3 P Li, then the oxygens.
    """
    centres = {'B0': (3.0, 3.0, 3.0), 'B1': (10.0, 3.0, 3.0), 'B2': (3.0, 10.0, 3.0), 'B3': (19.6, 10.0, 10.0),
               'P': (10.0, 10.0, 10.0), 'Li': (3.0, 3.0, 5.5)}
    species = ['B', 'B', 'B', 'B', 'P', 'Li']
    before = [np.array(c) for c in centres.values()]
    after = [np.array(c) for c in centres.values()]
    up = np.array([0.0, 0.0, 1.0])

    def add(reference, strained):
        before.append(np.asarray(reference, dtype=float))
        after.append(np.asarray(strained, dtype=float))
        species.append('O')

    o = planar(centres['B0'])  # decreased: the third O leaves to 2.6 Å
    add(o[0], o[0]), add(o[1], o[1]), add(o[2], np.asarray(centres['B0']) + 2.6 / 1.4 * (o[2] - centres['B0']))
    for position in planar(centres['B1']):  # increased: a spare O above comes in to 1.5 Å
        add(position, position)
    add(np.asarray(centres['B1']) + 3.0 * up, np.asarray(centres['B1']) + 1.5 * up)
    o = planar(centres['B2'])  # swapped: one O leaves, the spare one comes in
    add(o[0], o[0]), add(o[1], o[1]), add(o[2], np.asarray(centres['B2']) + 2.6 / 1.4 * (o[2] - centres['B2']))
    add(np.asarray(centres['B2']) + 3.0 * up, np.asarray(centres['B2']) + 1.5 * up)
    rng = np.random.default_rng(3)
    for position in planar(centres['B3']) + tetrahedral(centres['P']):  # unchanged, jiggled by 0.05 Å
        add(position, position + rng.normal(0.0, 0.05 / np.sqrt(3), 3))
    return np.array(before), np.array(after), np.array(species)


EXPECTED = {0: 'decreased', 1: 'increased', 2: 'swapped', 3: 'unchanged', 4: 'unchanged'}

SHEAR = np.array([[1.0, 0.0, 0.0], [0.08, 1.0, 0.0], [-0.05, 0.06, 1.0]])


@pytest.mark.parametrize('deformation', [np.eye(3), SHEAR], ids=['cubic', 'triclinic'])
def test_one_former_of_each_class(crystals, deformation):
    """The strained frame also sits in a cell stretched by 2 % along x (positions affine with it)."""
    before, after, species = frames()
    cell = BOX * deformation
    stretch = np.diag([1.02, 1.0, 1.0])
    ref_pos, ref_cell, pos, strained_cell, spec = crystals.read_only(before @ deformation, cell, after @ deformation @ stretch,
                                                            cell @ stretch, species)
    codes = switching_classes(ref_pos, ref_cell, pos, strained_cell, spec, CUTOFFS)
    assert {index: SWITCH_CLASSES[codes[index]] for index in EXPECTED} == EXPECTED
    assert np.all(codes[5:] == -1)  # Li and O are no formers


def test_wrapped_and_unwrapped_positions_agree():
    """B3's oxygens sit across the boundary; moving atoms by whole cell vectors changes nothing."""
    before, after, species = frames()
    cell = BOX * np.eye(3)
    shifts = np.random.default_rng(0).integers(-2, 3, size=after.shape) * BOX
    plain = switching_classes(before, cell, after, cell, species, CUTOFFS)
    shifted = switching_classes(before - shifts[::-1], cell, after + shifts, cell, species, CUTOFFS)
    assert np.array_equal(plain, shifted)
    assert before[:, 0].max() > BOX  # B3's first O lies beyond x = 20 Å, bonded across the boundary
    assert plain[3] == SWITCH_CLASSES.index('unchanged')


def test_trajectory_counts_per_element_and_frame():
    before, after, species = frames()
    result = bond_switching(np.stack([before, after, before]), BOX * np.eye(3), species, CUTOFFS)
    assert list(result.formers) == [0, 1, 2, 3, 4] and list(result.elements) == ['B', 'B', 'B', 'B', 'P']
    assert list(result.reference_coordination) == [3, 3, 3, 3, 4]
    assert set(result.counts) == {'B', 'P'}
    # columns: unchanged, decreased, increased, swapped
    assert result.counts['B'].tolist() == [[4, 0, 0, 0], [1, 1, 1, 1], [4, 0, 0, 0]]
    assert result.counts['P'].tolist() == [[1, 0, 0, 0]] * 3
    assert result.classes.shape == (3, 5)


def test_another_reference_frame_reverses_the_events():
    """Against the strained frame, the unstrained one has B0 increased and B1 decreased."""
    before, after, species = frames()
    result = bond_switching(np.stack([before, after]), BOX * np.eye(3), species, CUTOFFS, reference=1)
    assert [SWITCH_CLASSES[c] for c in result.classes[0]] == ['increased', 'decreased', 'swapped', 'unchanged',
                                                              'unchanged']
    assert list(result.reference_coordination) == [2, 4, 3, 3, 4]


@pytest.mark.parametrize(('kwargs', 'message'), [
    ({'reference': 2}, 'reference must be a frame index in [0, 1], got 2'),
    ({'reference': True}, 'reference must be a frame index'),
    ({'cutoffs': {'B': 1.9}}, "cutoffs has no entry for the network former(s) ['P']"),
    ({'cutoffs': {'B': -1.0, 'P': 2.0}}, "cutoffs['B'] must be a positive finite distance"),
])
def test_bad_arguments_are_named(kwargs, message):
    before, after, species = frames()
    arguments = {'positions': np.stack([before, after]), 'cell': BOX * np.eye(3), 'species': species,
                 'cutoffs': CUTOFFS, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        bond_switching(**arguments)


def test_frames_of_other_atoms_are_refused():
    before, after, species = frames()
    with pytest.raises(ValueError, match='the same atoms'):
        switching_classes(before, BOX * np.eye(3), after[:-1], BOX * np.eye(3), species, CUTOFFS)
