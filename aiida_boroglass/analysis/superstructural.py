"""Borate superstructural units from rings and boron speciation (paper 000, section 3.2.3).

Pure numpy/scipy; no AiiDA import. Built on :func:`.speciation.network_frame` (bonds,
B coordination, bridging O) and :func:`.rings.find_rings` (six-membered rings).

Paper 000 (Song et al., potassium borate glass, AIMD + R.I.N.G.S.) names the units it
follows with composition but does not print their topology (its Figs. 8, S6 and S7 are not
in the text): "the main structural units present in potassium borate glass include
metaborate units, pyroborate units, orthoborate units, boroxol rings, di-borate groups and
tetraborate groups"; with more K2O "a structural transformation mainly occurs from a
boroxol ring to a six-membered ring containing a BO4-, ... further transformed into a
six-membered ring containing two BO4- tetrahedrons (Fig. S7), and the conversion process
from the boroxol ring to the diborate unit"; at x = 0.4 "metaborate chains and rings,
pyroborate units began to appear"; the chain units are "BØ2O-" (B with two bridging and
one non-bridging O). Rings are counted there as B + O atoms ("six-membered" = B3O3).
The topological definitions below are the standard ones of Krogh-Moe (Phys. Chem.
Glasses 6, 46 (1965)) and Wright (Phys. Chem. Glasses 51, 1 (2010)) that those names
refer to, written with the unit labels of :func:`.speciation.unit_labels` (³B = boron
with three O, ⁴B = boron with four O, B^(n) = ³B with n bridging O):

=====================  ======================================================================
unit                   topological definition used here
=====================  ======================================================================
``boroxol``            six-membered (B3O3) primitive ring of three ³B that are all B^(3)
                       (no NBO): "boroxol ring", three BO3 triangles (paper 001 calls any
                       B3O3 ring of ³B a boroxol ring: that is ring class ``'3B3'`` of
                       :func:`.rings.ring_classes`)
``triborate``          six-membered ring of two ³B and one ⁴B: "six-membered ring
                       containing a BO4-" (Krogh-Moe's triborate group, B3O5-)
``diborate``           two six-membered rings, each of one ³B and two ⁴B, sharing both ⁴B
                       and the oxygen that bridges them (B4O9: 2 BO3 + 2 BO4, Krogh-Moe's
                       diborate group): "six-membered ring containing two BO4-"
                       fused into the "diborate unit"; counted per pair of rings
``metaborate_ring``    six-membered ring of three ³B that are all B^(2) (one NBO each):
                       B3O6^3-
``metaborate_chain``   chain of B^(2) units (BØ2O-) that lie on no six-membered ring,
                       joined through shared bridging O; a chain is a connected group of
                       >= 2 such units (one chain counted per group)
``pyroborate``         two ³B sharing one bridging O, all their other O non-bridging: a
                       bridging O bonded to exactly two formers that are both B^(1) (B2O5^4-)
``orthoborate``        isolated BO3: a ³B with no bridging O, B^(0) (BO3^3-)
=====================  ======================================================================

Counts are numbers of units; ``boron_fraction`` is the share of all boron atoms that
belong to at least one unit of that kind (a boron on two triborate rings counts once for
``triborate``; the ⁴B of a diborate group also belong to its two ``'1B3+2B4'`` rings,
which are not triborate).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .neighbors import as_cell, as_frames, as_positions, as_species
from .rings import Rings, _graph_from_frame, find_rings
from .speciation import NetworkFrame, network_frame

__all__ = ('SUPERSTRUCTURAL_UNITS', 'frame_units', 'superstructural_units')

#: Units reported, in this order.
SUPERSTRUCTURAL_UNITS = (
    'boroxol',
    'triborate',
    'diborate',
    'metaborate_ring',
    'metaborate_chain',
    'pyroborate',
    'orthoborate',
)

#: The rings searched: B3O3 rings have 6 atoms (4-atom rings come along, unused).
_RING_ATOMS = 6


def _six_rings(rings: Rings, spec: np.ndarray, oxygen: str) -> tuple[np.ndarray, np.ndarray]:
    """Formers of every six-membered ring (3 formers + 3 O) and the oxygen opposite each of them.

    Returns
    -------
    formers : numpy.ndarray, shape (n_six_rings, 3)
        Former atoms in ring order.
    opposite : numpy.ndarray, shape (n_six_rings, 3)
        ``opposite[r, k]``: the ring oxygen across the ring from ``formers[r, k]`` (the one
        bridging the other two formers).
    """
    rows = [a for a, n in zip(rings.atoms, rings.n_atoms) if n == _RING_ATOMS]
    if not rows:
        return np.zeros((0, 3), dtype=np.intp), np.zeros((0, 3), dtype=np.intp)
    atoms = np.array(rows)
    # ring rows alternate formers and O; the first atom may be either
    start = (spec[atoms[:, 0]] == oxygen).astype(int)[:, None]
    positions = start + np.array([0, 2, 4])
    rows_index = np.arange(atoms.shape[0])[:, None]
    return atoms[rows_index, positions], atoms[rows_index, (positions + 3) % 6]


def frame_units(species: Sequence[str], frame: NetworkFrame, rings: Rings, oxygen: str = 'O') -> dict[str, dict]:
    """Superstructural units of ONE frame (definitions in the module docstring).

    Parameters
    ----------
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    frame : NetworkFrame
        Bonds and counts of the frame (:func:`.speciation.network_frame`).
    rings : Rings
        Rings of the same frame with ``max_atoms >= 6`` (:func:`.rings.find_rings`).
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    dict[str, dict]
        ``{unit: {'count': int, 'boron': numpy.ndarray of the boron atom indices in such
        units (sorted, unique)}}`` for every unit of :data:`SUPERSTRUCTURAL_UNITS`.

    Raises
    ------
    ValueError
        If ``rings`` was searched with ``max_atoms < 6`` or ``species`` does not match ``frame``.
    """
    spec = np.asarray(species).astype(str)
    if spec.shape != frame.former_oxygens.shape:
        raise ValueError(f'species has {spec.size} atoms but frame has {frame.former_oxygens.size}')
    if rings.max_atoms < _RING_ATOMS:
        raise ValueError(f'rings must be searched with max_atoms >= 6 (B3O3 rings), got {rings.max_atoms}')
    k, n_bo = frame.former_oxygens, frame.former_bridging
    boron = spec == 'B'
    three = boron & (k == 3)
    four = boron & (k == 4)
    units: dict[str, dict] = {}

    six_any, opposite = _six_rings(rings, spec, oxygen)
    all_boron = np.all(boron[six_any], axis=1)
    six, opposite = six_any[all_boron], opposite[all_boron]
    n3 = three[six].sum(axis=1)
    n4 = four[six].sum(axis=1)
    all_bridging = np.all(n_bo[six] == 3, axis=1)
    one_nbo = np.all(n_bo[six] == 2, axis=1)
    _add(units, 'boroxol', six[(n3 == 3) & all_bridging])
    _add(units, 'triborate', six[(n3 == 2) & (n4 == 1)])
    one_two = (n3 == 1) & (n4 == 2)
    _add(units, 'diborate', *_diborate_pairs(six[one_two], opposite[one_two], four))
    _add(units, 'metaborate_ring', six[(n3 == 3) & one_nbo])

    b2 = three & (n_bo == 2)
    b2[six_any.ravel()] = False  # units on a six-membered ring are not chain units
    units['metaborate_chain'] = _chains(frame, b2)

    b1 = three & (n_bo == 1)
    bridging_o = frame.oxygen_formers[frame.oxygen] >= 2
    o_of_b1 = np.bincount(frame.oxygen[bridging_o & b1[frame.former]], minlength=spec.size)
    pyro_o = np.flatnonzero((o_of_b1 == 2) & (frame.oxygen_formers == 2))
    pairs = frame.former[np.isin(frame.oxygen, pyro_o)]
    _add(units, 'pyroborate', pairs.reshape(-1, 2) if pairs.size else np.zeros((0, 2), dtype=np.intp))

    ortho = np.flatnonzero(three & (n_bo == 0))
    units['orthoborate'] = {'count': int(ortho.size), 'boron': ortho}
    return {name: units[name] for name in SUPERSTRUCTURAL_UNITS}


def _add(units: dict, name: str, members: np.ndarray, count: int | None = None) -> None:
    """Store unit ``name``: ``members`` (n_units, k) boron indices; ``count`` defaults to n_units."""
    members = np.asarray(members)
    units[name] = {
        'count': int(members.shape[0] if count is None else count),
        'boron': np.unique(members).astype(np.intp),
    }


def _diborate_pairs(rings_124: np.ndarray, opposite: np.ndarray, four: np.ndarray) -> tuple[np.ndarray, int]:
    """Diborate groups among the rings of one ³B + two ⁴B.

    Two such rings form a group when they hold the same two ⁴B and the same oxygen between
    them (the oxygen opposite their ³B), and no third ring does. Two rings whose ⁴B pair is
    joined by different oxygens sit on an edge-sharing B2O2 four-membered ring: not a group.

    Parameters
    ----------
    rings_124 : numpy.ndarray, shape (n, 3)
        Boron atoms of each ring, in ring order.
    opposite : numpy.ndarray, shape (n, 3)
        Ring oxygen opposite each of those borons.
    four : numpy.ndarray of bool, shape (n_atoms,)
        Four-coordinated boron.

    Returns
    -------
    members : numpy.ndarray, shape (n_groups, 4)
        Boron atoms of every group.
    count : int
        Number of groups.
    """
    if rings_124.shape[0] < 2:
        return np.zeros((0, 4), dtype=np.intp), 0
    is_four = four[rings_124]
    tetra = np.sort(np.where(is_four, rings_124, -1), axis=1)[:, 1:]  # the two ⁴B, ascending
    trig = np.where(is_four, -1, rings_124).max(axis=1)  # the ³B
    bridge = opposite[~is_four]  # the O between the two ⁴B, one per ring
    key = np.column_stack([tetra, bridge])
    _, inverse, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    inverse = np.ravel(inverse)
    paired = np.flatnonzero(counts[inverse] == 2)
    paired = paired[np.argsort(inverse[paired], kind='stable')].reshape(-1, 2)
    members = np.column_stack([tetra[paired[:, 0]], trig[paired[:, 0]], trig[paired[:, 1]]])
    return members, int(paired.shape[0])


def _chains(frame: NetworkFrame, units: np.ndarray) -> dict:
    """Connected groups (>= 2 members) of the atoms flagged in ``units`` linked through shared bridging O."""
    n_atoms = units.size
    bonds = units[frame.former] & (frame.oxygen_formers[frame.oxygen] >= 2)
    former, oxygen = frame.former[bonds], frame.oxygen[bonds]
    # formers sharing an oxygen: pair each bond with the next bond of the same oxygen
    order = np.argsort(oxygen, kind='stable')
    former, oxygen = former[order], oxygen[order]
    linked = np.flatnonzero(oxygen[1:] == oxygen[:-1])
    graph = coo_matrix(
        (np.ones(linked.size), (former[linked], former[linked + 1])), shape=(n_atoms, n_atoms)
    )
    _, label = connected_components(graph, directed=False)
    members = np.flatnonzero(units)
    sizes = np.bincount(label[members], minlength=label.max() + 1) if members.size else np.zeros(0, int)
    chain_labels = np.flatnonzero(sizes >= 2)
    in_chain = members[np.isin(label[members], chain_labels)]
    return {'count': int(chain_labels.size), 'boron': np.sort(in_chain).astype(np.intp)}


def superstructural_units(
    positions,
    cell,
    species: Sequence[str],
    cutoffs: Mapping[str, float],
    oxygen: str = 'O',
) -> dict[str, dict[str, float]]:
    """Superstructural units of a borate glass, averaged over frames (definitions in the module docstring).

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols; boron is ``'B'``.
    cutoffs : Mapping[str, float]
        ``{former element: former-O cutoff in Å}`` (e.g. ``{'B': 2.0}``).
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    dict[str, dict[str, float]]
        ``{unit: {'count': mean number of units per frame, 'boron_fraction': mean share of
        the boron atoms that belong to such a unit}}`` for every unit of
        :data:`SUPERSTRUCTURAL_UNITS`, in that order.

    Raises
    ------
    ValueError
        No boron in ``species``, or bad positions, cell or cutoffs (the message names the argument).
    """
    pos, cells = as_frames(positions, cell)
    spec = as_species(species, pos.shape[1])
    n_boron = int(np.count_nonzero(spec == 'B'))
    if n_boron == 0:
        raise ValueError("species contains no boron ('B'): borate superstructural units are undefined")
    totals = {name: [0.0, 0.0] for name in SUPERSTRUCTURAL_UNITS}
    for frame_pos, frame_cell in zip(pos, cells):
        frame_pos, frame_cell = as_positions(frame_pos), as_cell(frame_cell)
        frame = network_frame(frame_pos, frame_cell, spec, cutoffs, oxygen)
        rings = find_rings(_graph_from_frame(frame_pos, frame_cell, spec, frame, cutoffs), _RING_ATOMS)
        for name, unit in frame_units(spec, frame, rings, oxygen).items():
            totals[name][0] += unit['count']
            totals[name][1] += unit['boron'].size / n_boron
    n_frames = pos.shape[0]
    return {name: {'count': c / n_frames, 'boron_fraction': f / n_frames} for name, (c, f) in totals.items()}
