"""Bond-switching labels along the strain and the softness trained on them, on hand-built frames."""
import re

import numpy as np
import pytest

from aiida_boroglass.analysis.job import Frames
from aiida_boroglass.analysis.mechanics.switching_softness import (
    ReplicaSwitching,
    first_switch,
    quantile_groups,
    strain_softness,
    switched_by_strain,
    switching_softness,
)
from aiida_boroglass.functions.fracture import compute_fracture_bond_switching

BOX = 12.0


def strained_frames():
    """Two planar BO3 in a 12 Å box strained along z by 0, 5, 10 and 15 %: B0 loses an O at 10 % and gets it
    back at 15 %; B1 keeps its three O; the atoms move affinely with the box.

    Atom order: B0, B1, then three O each.
    """
    centres = np.array([[3.0, 3.0, 3.0], [9.0, 9.0, 9.0]])
    angles = np.radians([0.0, 120.0, 240.0])
    bonds = 1.4 * np.stack([np.cos(angles), np.sin(angles), np.zeros(3)], axis=1)
    strains = np.array([0.0, 0.05, 0.10, 0.15])
    positions = []
    for strain in strains:
        frame = np.concatenate([centres, centres[0] + bonds, centres[1] + bonds])
        if strain == 0.10:
            frame[2] = centres[0] + bonds[0] * 2.6 / 1.4  # B0's first O leaves to 2.6 Å
        positions.append(frame * [1.0, 1.0, 1.0 + strain])
    cells = np.array([np.diag([BOX, BOX, BOX * (1.0 + strain)]) for strain in strains])
    return np.array(positions), cells, ['B', 'B'] + ['O'] * 6, strains


def test_first_switch_and_its_strain():
    classes = np.array([[0, 0, 0], [0, 3, 0], [1, 0, 0], [1, 2, 0]])
    switched, first = first_switch(classes, [0.0, 0.1, 0.2, 0.3])
    assert switched.tolist() == [True, True, False]
    assert first[:2].tolist() == [0.2, 0.1] and np.isnan(first[2])


def test_a_b_that_switches_and_one_that_does_not():
    positions, cells, symbols, strains = strained_frames()
    arrays = compute_fracture_bond_switching(Frames(positions, cells, symbols), {})['result'].arrays
    assert arrays['strain'] == pytest.approx(strains)
    assert arrays['indices_B'].tolist() == [0, 1]
    # B0 decreased at 10 % and unchanged again at 15 %: it switched, first at 10 %; B1 never
    assert arrays['classes_B'][:, 0].tolist() == [0, 0, 1, 0] and arrays['classes_B'][:, 1].tolist() == [0, 0, 0, 0]
    assert arrays['switched_B'].tolist() == [True, False]
    assert arrays['first_strain_B'][0] == pytest.approx(0.10) and np.isnan(arrays['first_strain_B'][1])
    assert arrays['counts_B'].tolist() == [[2, 0, 0, 0], [2, 0, 0, 0], [1, 1, 0, 0], [2, 0, 0, 0]]


def test_the_cutoff_decides_what_is_a_bond():
    """1.3 Å is shorter than the 1.4 Å B-O bonds: no bond in any frame, every B unchanged; 1.45 Å finds them."""
    positions, cells, symbols, _ = strained_frames()
    frames = Frames(positions, cells, symbols)
    short = compute_fracture_bond_switching(frames, {'cutoffs_a': {'B': 1.3}})['result']
    assert short.attributes['cutoffs_a'] == {'B': 1.3} and not short.arrays['switched_B'].any()
    assert compute_fracture_bond_switching(frames, {'cutoffs_a': {'B': 1.45}})['result'].arrays['switched_B'].tolist() == \
        [True, False]


@pytest.mark.parametrize(('parameters', 'message'), [
    ({'cutoffs_a': {'B': -1.0}}, 'parameters.cutoffs_a.B must be a positive number'),
    ({'cutoffs_a': {'P': 2.0}}, "parameters.cutoffs_a: give a former-O cutoff (Å) for every former present; missing ['B']"),
    ({'cutoffs_a': 2.0}, 'parameters.cutoffs_a must be {former: former-O cutoff in Å} or None'),
    ({'cutoff': 2.0}, "parameters: unknown key(s) ['cutoff']"),
])
def test_bad_switching_parameters_are_named(parameters, message):
    positions, cells, symbols, _ = strained_frames()
    with pytest.raises(ValueError, match=re.escape(message)):
        compute_fracture_bond_switching(Frames(positions, cells, symbols), parameters)


def test_quantile_groups_and_the_switched_fraction_by_strain():
    groups, edges = quantile_groups([7.0, 1.0, 5.0, 3.0, 0.0, 6.0, 2.0, 4.0], 4)
    assert groups.tolist() == [3, 0, 2, 1, 0, 3, 1, 2]
    assert edges == pytest.approx([0.0, 1.75, 3.5, 5.25, 7.0])
    first = [0.1, np.nan, 0.2, np.nan]
    fraction = switched_by_strain(first, [0.0, 0.1, 0.2], [1, 1, 0, 0], 3)
    assert fraction[:2].tolist() == [[0.0, 0.0, 0.5], [0.0, 0.5, 0.5]]
    assert np.isnan(fraction[2]).all()  # an empty group
    assert switching_softness([1.0, 5.0, 2.0, 4.0], [0.1, np.nan, 0.1, 0.2], [0.0, 0.1, 0.2]).tolist()[1:] == [1.5, 4.0]


def bo_pairs(lengths: dict, box: float = 16.0):
    """B atoms on a 2 x 2 x 2 grid 8 Å apart, each with one O along x at ``lengths[(i, j, k)]`` Å; positions, cell, symbols."""
    positions, symbols = [], []
    for (i, j, k), length in lengths.items():
        centre = np.array([4.0 + 8 * i, 4.0 + 8 * j, 4.0 + 8 * k])
        positions += [centre, centre + [length, 0.0, 0.0]]
        symbols += ['B', 'O']
    return np.array(positions), box * np.eye(3), np.array(symbols)


GRID = [(i, j, k) for i in (0, 1) for j in (0, 1) for k in (0, 1)]


def replica(soft, stretched=None) -> ReplicaSwitching:
    """A B is soft (labelled switched) when its O sits at 1.8 Å, else 1.4 Å; frame 1 uses ``stretched`` if given."""
    frames = [bo_pairs({site: 1.8 if site in soft else 1.4 for site in GRID})]
    frames.append(bo_pairs({site: 1.8 if site in (stretched or soft) else 1.4 for site in GRID}))
    positions, cell, symbols = frames[0]
    return ReplicaSwitching(np.stack([frame[0] for frame in frames]), np.stack([cell, cell]), symbols,
                            np.arange(0, 16, 2), np.array([site in soft for site in GRID]))


SETTINGS = {'r_max_a': 3.0, 'dr_a': 0.2}


def test_labels_that_follow_a_feature_are_learnt_exactly_and_held_out_by_replica():
    """The label is the B-O distance (1.8 Å soft, 1.4 Å not): accuracy 1 on the held-out replica; a frame in
    which every O sits at 1.8 Å has every B on the soft side."""
    train = replica({GRID[0], GRID[3], GRID[5], GRID[6]})
    test = replica({GRID[1], GRID[2]}, stretched=set(GRID))
    result = strain_softness([train, test], 1, **SETTINGS)
    assert result.model.accuracy == 1.0 and result.model.train_accuracy == 1.0
    assert result.model.test_mask.tolist() == [False] * 8 + [True] * 8
    assert ((result.model.softness > 0) == np.concatenate([train.switched, test.switched])).all()
    assert (result.frame_softness[1][0] > 0).tolist() == test.switched.tolist()
    assert (result.frame_softness[1][1] > 0).all()  # frame 1: every B at 1.8 Å
    assert result.frame_softness[0][1] == pytest.approx(result.frame_softness[0][0])  # unchanged frame, same softness
    assert result.feature_species == ('B', 'O') and result.r_a[-1] == pytest.approx(3.0)


def test_one_replica_holds_out_its_upper_half_along_x():
    soft = {site for site in GRID if (site[1] + site[2]) % 2 == 0}  # two soft B in each half along x
    result = strain_softness([replica(soft)], 0, **SETTINGS)
    assert result.model.test_mask.tolist() == [i == 1 for i, _, _ in GRID]
    assert result.model.accuracy == 1.0


def test_a_training_set_without_switching_atoms_is_refused():
    with pytest.raises(ValueError, match='have no mobile sample'):
        strain_softness([replica(set()), replica({GRID[0]})], 1, **SETTINGS)
