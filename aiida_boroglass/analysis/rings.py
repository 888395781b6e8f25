"""Ring statistics of the glass network: shortest-path (SP) / primitive rings up to a size limit.

Pure numpy/scipy; no AiiDA import. Built on :func:`.speciation.network_frame`.

The network (papers 002 section 2.10 and 000 section 3.2.3)
------------------------------------------------------------
Nodes are the network formers (B, P, Si, Al: the keys of ``cutoffs``) and the bridging
oxygens (BO, bonded to >= 2 formers); edges are the former-O bonds (``d < cutoffs[former]``,
Å). Modifiers (Li, Na, K, ...), non-bridging and free oxygens are left out, as paper 002
defines "the borophosphate network excluding network-modifying Li species and terminating
O atoms". Every bond carries the lattice image of its oxygen as seen from its former, so
the search runs on the infinite periodic network: a closed walk whose image shifts do not
sum to zero (a chain that percolates through the periodic boundary) is not a ring.

Ring size is counted two ways: ``n_atoms`` (formers + O, paper 000: the boroxol ring is
"six-membered") and ``n_formers`` (paper 001 section III.C: the boroxol ring is a
"three-membered ring", a "3-ring"). The network is bipartite (every bond joins a former and
an O), so ``n_atoms = 2 * n_formers`` always.

Ring definitions
----------------
- ``'shortest_path'``: Franzblau's SP rings (D. S. Franzblau, Phys. Rev. B 44, 4925
  (1991)): a ring such that for every pair of its nodes one of the two ways round the ring
  is a shortest path of the network (no shortcut). This is what
  ``matscipy.rings.ring_statistics`` counts.
- ``'primitive'``: primitive rings (Goetzke & Klein, J. Non-Cryst. Solids 127, 215 (1991);
  Yuan & Cormack, Comput. Mater. Sci. 24, 343 (2002)): a ring that is not the sum (edge
  symmetric difference) of two smaller rings; the "primitive rings" of R.I.N.G.S. (Le Roux
  & Jund, Comput. Mater. Sci. 49, 70 (2010)), the program of papers 000 and 002.

The two definitions select the SAME rings in any network, periodic ones included:

- a ring R of n nodes with a shortcut has a shortcut segment Q that meets R only at its
  ends u, v, with ``|Q| < d_R(u, v)``; the two cycles formed by Q and either arc of R are
  both shorter than n and sum to R, so R is not primitive;
- if R = C1 + C2 with ``|C1|, |C2| < n`` and R has no shortcut, replace every segment of
  C1 ∩ C2 (paths off R between two nodes of R) by the shorter arc of R between its ends:
  the two closed walks on R so obtained are no longer than C1 and C2, yet their sum is R, so
  one of them goes round R and has length >= n: a contradiction.

Both kinds are therefore computed by one criterion (below); ``Rings.kind`` records which
name was asked for. King's criterion (the shortest ring through each pair of neighbours of
a node) and strong rings are different sets and are not implemented here.

Algorithm (one frame, all in numpy)
-----------------------------------
1. The 2-core of the network: nodes of degree < 2 are peeled off repeatedly; they lie on
   no ring and on no shortcut.
2. Breadth-first search from EVERY node at once, to depth ``L = max_atoms // 2``, on the
   lifted (periodic) graph: a state is (root, node, lattice image). Because the graph is
   bipartite, a neighbour of a node at distance k is at distance k - 1 or k + 1, so each
   level only has to be checked against the previous one.
3. A ring of 2m nodes is a pair of shortest paths of length m from a node r to its
   antipode t (the same node in the same image), disjoint but for their ends. Each ring is
   generated once, from its node of smallest index (paths through smaller nodes are not
   grown), by pairing all shortest paths of length m from r that end on the same (t, image).
4. The ring has no shortcut iff every node u is at network distance m from its antipode
   (a shortcut between u and v would make u closer than m to its antipode); m - 1 look-ups
   of the distance table of step 2 per candidate.

The cost grows with the number of shortest paths of length <= L in the network, not with
the square of the atom count (matscipy builds an ``n x n`` distance matrix).
"""

from __future__ import annotations

from typing import Mapping, NamedTuple, Sequence

import numpy as np

from .neighbors import _wrapped_fractional, as_cell, as_frames, as_positions, as_species
from .speciation import NETWORK_FORMERS, network_frame

__all__ = (
    'RING_KINDS',
    'RingNetwork',
    'RingStatistics',
    'Rings',
    'class_counts',
    'find_rings',
    'frame_rings',
    'network_graph',
    'ring_atom_types',
    'ring_classes',
    'ring_membership',
    'ring_statistics',
    'size_counts',
)

#: Accepted values of ``kind`` (they select the same rings, see the module docstring).
RING_KINDS = ('primitive', 'shortest_path')

#: Largest ``max_atoms`` accepted: keeps every state key of the search inside int64.
MAX_RING_ATOMS = 40


class RingNetwork(NamedTuple):
    """The former + bridging-oxygen network of one frame, with lattice images on its bonds."""

    #: Atom index of every node, ascending, shape (n_nodes,).
    atoms: np.ndarray
    #: True for formers, False for bridging oxygens, shape (n_nodes,).
    is_former: np.ndarray
    #: Node index of the former of every bond, shape (n_bonds,).
    former: np.ndarray
    #: Node index of the bridging oxygen of every bond, shape (n_bonds,).
    oxygen: np.ndarray
    #: Lattice image (integer multiples of the cell rows) of the oxygen as seen from the
    #: former, for positions wrapped into the cell (:func:`.neighbors.wrap_positions`);
    #: shape (n_bonds, 3).
    shift: np.ndarray
    #: Number of atoms of the frame.
    n_atoms: int


class Rings(NamedTuple):
    """The rings of one frame."""

    #: Atom indices of every ring in cyclic order, starting at its smallest index,
    #: formers and oxygens alternating; a tuple of (n_atoms_k,) int arrays.
    atoms: tuple
    #: Lattice image of every ring atom for positions wrapped into the cell (the first atom
    #: in image 0): ``wrap_positions(positions, cell)[atoms] + images @ cell`` (see
    #: :func:`.neighbors.wrap_positions`) draws the ring unbroken; a tuple of (n_atoms_k, 3)
    #: int arrays.
    images: tuple
    #: Network formers in each ring, shape (n_rings,).
    n_formers: np.ndarray
    #: Atoms (formers + O) in each ring, shape (n_rings,); always ``2 * n_formers``.
    n_atoms: np.ndarray
    #: ``'primitive'`` or ``'shortest_path'``.
    kind: str
    #: Largest ring searched, in atoms (formers + O).
    max_atoms: int


class RingStatistics(NamedTuple):
    """Ring-size distributions pooled over the frames of a trajectory."""

    #: ``'primitive'`` or ``'shortest_path'``.
    kind: str
    #: Largest ring searched, in atoms (formers + O).
    max_atoms: int
    #: Number of frames.
    n_frames: int
    #: Network-former atoms per frame (the per-former normalisation).
    n_former_atoms: int
    #: Rings with ``k`` formers in each frame at column ``k``, shape (n_frames, max_atoms // 2 + 1).
    counts_by_formers: np.ndarray
    #: Mean over frames of ``counts_by_formers``, shape (max_atoms // 2 + 1,).
    mean_by_formers: np.ndarray
    #: ``mean_by_formers / n_former_atoms``: rings per former atom, shape (max_atoms // 2 + 1,).
    per_former_by_formers: np.ndarray
    #: Rings with ``n`` atoms (formers + O) in each frame at column ``n``, shape (n_frames, max_atoms + 1).
    counts_by_atoms: np.ndarray
    #: Mean over frames of ``counts_by_atoms``, shape (max_atoms + 1,).
    mean_by_atoms: np.ndarray
    #: ``mean_by_atoms / n_former_atoms``, shape (max_atoms + 1,).
    per_former_by_atoms: np.ndarray
    #: ``{ring class (see ring_classes): mean number per frame}``, sorted by label.
    classes: dict


# --------------------------------------------------------------------------- arguments


def _check_kind(kind: str) -> str:
    """Return ``kind`` if it is one of :data:`RING_KINDS`, else raise ValueError naming ``kind``."""
    if kind not in RING_KINDS:
        raise ValueError(f'kind must be one of {RING_KINDS}, got {kind!r}')
    return kind


def _check_max_atoms(max_atoms) -> int:
    """Return ``max_atoms`` as an int in [4, MAX_RING_ATOMS], else raise ValueError naming it."""
    if isinstance(max_atoms, bool) or not isinstance(max_atoms, (int, np.integer)):
        raise ValueError(f'max_atoms must be an integer number of ring atoms (formers + O), got {max_atoms!r}')
    if not 4 <= int(max_atoms) <= MAX_RING_ATOMS:
        raise ValueError(
            f'max_atoms must lie in [4, {MAX_RING_ATOMS}] (the smallest ring has 2 formers + 2 O), got {max_atoms}'
        )
    return int(max_atoms)


# --------------------------------------------------------------------------- network


def _two_core(n_nodes: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Mask of the nodes of the 2-core (nodes left after peeling degree < 2 repeatedly), shape (n_nodes,).

    Parameters
    ----------
    n_nodes : int
    u, v : numpy.ndarray of int, shape (n_edges,)
        End nodes of every edge.
    """
    alive = np.ones(n_nodes, dtype=bool)
    edge_alive = np.ones(u.size, dtype=bool)
    while True:
        degree = np.bincount(u[edge_alive], minlength=n_nodes) + np.bincount(v[edge_alive], minlength=n_nodes)
        dead = alive & (degree < 2)
        if not dead.any():
            return alive
        alive &= ~dead
        edge_alive &= alive[u] & alive[v]


def network_graph(
    positions, cell, species: Sequence[str], cutoffs: Mapping[str, float], oxygen: str = 'O'
) -> RingNetwork:
    """The network of formers and bridging oxygens of ONE frame, with bond lattice images.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å (wrapped or not).
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows; any triclinic cell.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    cutoffs : Mapping[str, float]
        ``{former element: former-O cutoff in Å}`` as for :func:`.speciation.network_frame`
        (defaults in :mod:`.cutoffs`: B-O 2.0, P-O 2.0, Si-O 2.2 Å). Its keys are the formers.
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    RingNetwork
        Nodes: every atom whose element is a key of ``cutoffs`` and every oxygen bonded to
        >= 2 formers; bonds: former-BO bonds.

    Raises
    ------
    ValueError
        Bad shapes, species or cutoffs (see :func:`.speciation.network_frame`).
    """
    pos = as_positions(positions)
    cell_arr = as_cell(cell)
    spec = as_species(species, pos.shape[0])
    frame = network_frame(pos, cell_arr, spec, cutoffs, oxygen)
    return _graph_from_frame(pos, cell_arr, spec, frame, cutoffs)


def _graph_from_frame(
    pos: np.ndarray, cell: np.ndarray, spec: np.ndarray, frame, cutoffs: Mapping[str, float]
) -> RingNetwork:
    """Build the :class:`RingNetwork` from a :class:`.speciation.NetworkFrame` of the same atoms."""
    is_former_atom = np.isin(spec, list(cutoffs))
    bridging = frame.oxygen_formers >= 2
    node_atoms = np.flatnonzero(is_former_atom | bridging)
    node_of_atom = np.full(spec.size, -1, dtype=np.intp)
    node_of_atom[node_atoms] = np.arange(node_atoms.size)
    keep = bridging[frame.oxygen]
    f_atom, o_atom = frame.former[keep], frame.oxygen[keep]
    frac = _wrapped_fractional(pos, cell)
    # the bond is shorter than half every perpendicular width, so its fractional vector lies
    # in (-1/2, 1/2) and the oxygen's image is the rounded fractional difference
    shift = np.rint(frac[f_atom] - frac[o_atom]).astype(np.int64)
    return RingNetwork(
        atoms=node_atoms,
        is_former=is_former_atom[node_atoms],
        former=node_of_atom[f_atom],
        oxygen=node_of_atom[o_atom],
        shift=shift,
        n_atoms=int(spec.size),
    )


# --------------------------------------------------------------------------- ring search


class _Lifted(NamedTuple):
    """Encoding of lifted nodes (node, lattice image) as integers ``node * n_img + image code``."""

    #: Image components are stored with this offset ...
    offset: int
    #: ... in base ``base``: code = ((x + off) * base + (y + off)) * base + (z + off).
    base: int
    #: ``base ** 3``.
    n_img: int
    #: Code of image (0, 0, 0).
    zero: int


def _lifted_codes(depth: int) -> _Lifted:
    """Image encoding wide enough for walks of ``depth`` bonds (each bond moves an image by <= 1)."""
    offset = depth + 1
    base = 2 * offset + 1
    return _Lifted(offset, base, base**3, (offset * base + offset) * base + offset)


def _adjacency(n_nodes: int, network: RingNetwork, keep: np.ndarray, enc: _Lifted):
    """Directed adjacency in CSR form over the kept nodes (renumbered 0..), with image-code steps.

    Returns
    -------
    indptr : numpy.ndarray, shape (n_kept + 1,)
    neighbours : numpy.ndarray, shape (2 * n_kept_bonds,)
    steps : numpy.ndarray, shape (2 * n_kept_bonds,)
        Image-code increment when walking along the directed bond.
    """
    renumber = np.full(n_nodes, -1, dtype=np.int64)
    renumber[keep] = np.arange(np.count_nonzero(keep))
    ok = keep[network.former] & keep[network.oxygen]
    f, o, s = renumber[network.former[ok]], renumber[network.oxygen[ok]], network.shift[ok]
    step = (s[:, 0] * enc.base + s[:, 1]) * enc.base + s[:, 2]
    src = np.concatenate([f, o])
    dst = np.concatenate([o, f])
    steps = np.concatenate([step, -step])
    order = np.argsort(src, kind='stable')
    n_kept = int(np.count_nonzero(keep))
    indptr = np.zeros(n_kept + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n_kept), out=indptr[1:])
    return indptr, dst[order], steps[order]


def _expand(last_lid: np.ndarray, indptr: np.ndarray, neighbours: np.ndarray, steps: np.ndarray, n_img: int):
    """All one-bond steps from lifted nodes ``last_lid``.

    Returns
    -------
    row : numpy.ndarray, shape (n_steps,)
        Index into ``last_lid`` of the origin of every step.
    lid : numpy.ndarray, shape (n_steps,)
        Lifted node reached.
    """
    node = last_lid // n_img
    code = last_lid - node * n_img
    start = indptr[node]
    degree = indptr[node + 1] - start
    row = np.repeat(np.arange(last_lid.size), degree)
    first = np.cumsum(degree) - degree
    edge = start[row] + (np.arange(row.size) - first[row])
    return row, neighbours[edge] * n_img + code[row] + steps[edge]


def _member(keys: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Mask of ``keys`` found in the sorted unique array ``table``."""
    if table.size == 0:
        return np.zeros(keys.shape, dtype=bool)
    idx = np.searchsorted(table, keys)
    np.minimum(idx, table.size - 1, out=idx)
    return table[idx] == keys


def _shells(n_nodes: int, indptr, neighbours, steps, enc: _Lifted, depth: int) -> list[np.ndarray]:
    """Distance shells of the breadth-first search from every node on the lifted graph.

    Returns
    -------
    list of numpy.ndarray
        ``shells[k]``: sorted keys ``root * (n_nodes * n_img) + lifted node`` of all states at
        network distance exactly k from their root (root in image 0), k = 0..depth.
    """
    span = n_nodes * enc.n_img
    roots = np.arange(n_nodes, dtype=np.int64)
    shells = [roots * span + roots * enc.n_img + enc.zero]
    previous = np.zeros(0, dtype=np.int64)
    for _ in range(depth):
        current = shells[-1]
        root = current // span
        row, lid = _expand(current - root * span, indptr, neighbours, steps, enc.n_img)
        keys = root[row] * span + lid
        keys = keys[~_member(keys, previous)]  # bipartite: the rest are one step farther
        previous = current
        shells.append(np.unique(keys))
    return shells


def _ring_candidates(n_nodes, indptr, neighbours, steps, enc: _Lifted, shells, depth: int):
    """Shortest paths from every root through nodes >= root, and the ring candidates they pair into.

    Yields
    ------
    m : int
        Half ring size (formers per ring).
    first, second : numpy.ndarray, shape (n_candidates, m + 1)
        Lifted nodes of two shortest paths from the root to the common antipode; internally
        disjoint.
    """
    span = n_nodes * enc.n_img
    roots = np.arange(n_nodes, dtype=np.int64)
    paths = (roots * enc.n_img + enc.zero)[:, None]
    for m in range(1, depth + 1):
        row, lid = _expand(paths[:, -1], indptr, neighbours, steps, enc.n_img)
        root = paths[row, 0] // enc.n_img
        ok = (lid // enc.n_img) >= root  # the root is the smallest node of its rings
        if m >= 2:  # shortest paths only: the step must not go back to distance m - 2
            ok &= ~_member(root * span + lid, shells[m - 2])
        paths = np.concatenate([paths[row[ok]], lid[ok, None]], axis=1)
        if m < 2 or paths.shape[0] < 2:
            continue
        end = paths[:, 0] // enc.n_img * span + paths[:, -1]
        order = np.argsort(end, kind='stable')
        end = end[order]
        same = np.flatnonzero(end[1:] == end[:-1])
        if same.size == 0:
            continue
        # group runs of equal ends; pair every two members of a run
        starts = np.flatnonzero(np.r_[True, end[1:] != end[:-1]])
        sizes = np.diff(np.r_[starts, end.size])
        group_start = np.repeat(starts, sizes)
        group_end = group_start + np.repeat(sizes, sizes)
        idx = np.arange(end.size)
        firsts, seconds = [], []
        for offset in range(1, int(sizes.max())):
            a = idx[idx + offset < group_end]
            firsts.append(a)
            seconds.append(a + offset)
        a = order[np.concatenate(firsts)]
        b = order[np.concatenate(seconds)]
        first, second = paths[a], paths[b]
        disjoint = np.all(first[:, 1:m] != second[:, 1:m], axis=1)
        yield m, first[disjoint], second[disjoint]


def _has_no_shortcut(
    first: np.ndarray, second: np.ndarray, m: int, n_nodes: int, enc: _Lifted, table: np.ndarray
) -> np.ndarray:
    """Mask of the candidate rings whose every node is at distance m from its antipode.

    ``table`` holds the sorted keys of all states at distance < m.
    """
    span = n_nodes * enc.n_img
    ok = np.ones(first.shape[0], dtype=bool)
    for i in range(1, m):
        u, w = first[:, i], second[:, m - i]
        u_node, w_node = u // enc.n_img, w // enc.n_img
        relative = (w - w_node * enc.n_img) - (u - u_node * enc.n_img) + enc.zero
        ok &= ~_member(u_node * span + w_node * enc.n_img + relative, table)
    return ok


def _decode_images(lids: np.ndarray, enc: _Lifted) -> np.ndarray:
    """Lattice images, shape (..., 3), of lifted node ids ``lids``."""
    code = lids % enc.n_img
    z = code % enc.base
    y = (code // enc.base) % enc.base
    x = code // (enc.base * enc.base)
    return np.stack([x, y, z], axis=-1) - enc.offset


def _canonical(cycles: np.ndarray, enc: _Lifted) -> np.ndarray:
    """Translate each ring (rows of lifted ids, first = smallest node) to a unique representative.

    Needed only for rings holding their smallest node twice (in two images), which small
    cells produce: the copy with the smallest image code of that node goes to image 0.
    Returns the sorted rows, shape (n, 2m), usable as a set key.
    """
    nodes = cycles // enc.n_img
    codes = cycles - nodes * enc.n_img
    smallest = nodes[:, :1]
    shift = np.where(nodes == smallest, codes, np.iinfo(np.int64).max).min(axis=1, keepdims=True)
    return np.sort(nodes * enc.n_img + codes - shift + enc.zero, axis=1)


def find_rings(network: RingNetwork, max_atoms: int = 12, kind: str = 'primitive') -> Rings:
    """All primitive (= shortest-path) rings of the network with at most ``max_atoms`` atoms.

    Parameters
    ----------
    network : RingNetwork
        From :func:`network_graph`.
    max_atoms : int
        Largest ring, counted as formers + oxygens (default 12: up to 6 formers). Odd values
        act as the even number below (rings alternate formers and O).
    kind : {'primitive', 'shortest_path'}
        Ring definition; both select the same rings (module docstring).

    Returns
    -------
    Rings
        Sorted by size, then by atom indices.

    Raises
    ------
    ValueError
        ``kind`` or ``max_atoms`` out of range (the message names the argument).
    """
    kind = _check_kind(kind)
    max_atoms = _check_max_atoms(max_atoms)
    depth = max_atoms // 2
    enc = _lifted_codes(depth)
    n_nodes = network.atoms.size
    keep = _two_core(n_nodes, network.former, network.oxygen)
    kept_atoms = network.atoms[keep]
    n_kept = kept_atoms.size
    if n_kept == 0:
        return _empty_rings(kind, max_atoms)
    if float(n_kept) ** 2 * enc.n_img >= 2.0**62:
        raise ValueError(
            f'network has {n_kept} ring nodes: too many for max_atoms = {max_atoms} (search keys overflow int64)'
        )
    indptr, neighbours, steps = _adjacency(n_nodes, network, keep, enc)
    shells = _shells(n_kept, indptr, neighbours, steps, enc, depth)
    rows = []
    for m, first, second in _ring_candidates(n_kept, indptr, neighbours, steps, enc, shells, depth):
        # a node and its antipode are an even distance apart in a bipartite network, so
        # "closer than m" means at distance m - 2, m - 4, ...
        closer = np.sort(np.concatenate(shells[m - 2::-2]))
        ok = _has_no_shortcut(first, second, m, n_kept, enc, closer)
        cycles = np.concatenate([first[ok], second[ok, -2:0:-1]], axis=1)  # r, a1..t, b_{m-1}..b1
        rows.append(_orient_and_unique(cycles, enc))
    return _assemble(rows, kept_atoms, enc, kind, max_atoms)


def _orient_and_unique(cycles: np.ndarray, enc: _Lifted) -> np.ndarray:
    """Drop repeated rings (smallest node present twice) and orient each ring: second node < last node."""
    if cycles.shape[0] == 0:
        return cycles
    nodes = cycles // enc.n_img
    twice = np.any(nodes[:, 1:] == nodes[:, :1], axis=1)
    if twice.any():
        doubled = cycles[twice]
        _, first = np.unique(_canonical(doubled, enc), axis=0, return_index=True)
        cycles = np.concatenate([cycles[~twice], doubled[np.sort(first)]])
        nodes = cycles // enc.n_img
    flip = nodes[:, 1] > nodes[:, -1]
    cycles[flip, 1:] = cycles[flip, :0:-1]
    return cycles


def _empty_rings(kind: str, max_atoms: int) -> Rings:
    """A :class:`Rings` without rings."""
    return Rings((), (), np.zeros(0, dtype=int), np.zeros(0, dtype=int), kind, max_atoms)


def _assemble(rows: list[np.ndarray], kept_atoms: np.ndarray, enc: _Lifted, kind: str, max_atoms: int) -> Rings:
    """Turn the per-size arrays of lifted ring nodes into a :class:`Rings` (atom indices, images)."""
    atoms, images, sizes = [], [], []
    for cycles in rows:
        if cycles.shape[0] == 0:
            continue
        atom_rows = kept_atoms[cycles // enc.n_img]
        order = np.lexsort(atom_rows.T[::-1])
        atom_rows = atom_rows[order]
        image_rows = _decode_images(cycles[order], enc)
        atoms.extend(atom_rows)
        images.extend(image_rows)
        sizes.append(np.full(atom_rows.shape[0], atom_rows.shape[1], dtype=int))
    if not atoms:
        return _empty_rings(kind, max_atoms)
    n_atoms = np.concatenate(sizes)
    return Rings(tuple(atoms), tuple(images), n_atoms // 2, n_atoms, kind, max_atoms)


def frame_rings(
    positions,
    cell,
    species: Sequence[str],
    cutoffs: Mapping[str, float],
    max_atoms: int = 12,
    kind: str = 'primitive',
    oxygen: str = 'O',
) -> Rings:
    """Rings of ONE frame: :func:`network_graph` then :func:`find_rings`.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    cutoffs : Mapping[str, float]
        ``{former element: former-O cutoff in Å}``.
    max_atoms : int
        Largest ring in atoms (formers + O), default 12.
    kind : {'primitive', 'shortest_path'}
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    Rings
    """
    _check_kind(kind)
    _check_max_atoms(max_atoms)
    return find_rings(network_graph(positions, cell, species, cutoffs, oxygen), max_atoms, kind)


# --------------------------------------------------------------------------- helpers


def size_counts(rings: Rings, by: str = 'formers') -> np.ndarray:
    """Number of rings of every size.

    Parameters
    ----------
    rings : Rings
    by : {'formers', 'atoms'}
        Size counted as network formers (``'formers'``: index 3 holds the 3-rings of paper
        001) or as all ring atoms (``'atoms'``: index 6 holds the six-membered rings of paper
        000).

    Returns
    -------
    numpy.ndarray of int, shape (max_atoms // 2 + 1,) or (max_atoms + 1,)
        Count at the index equal to the size.
    """
    if by == 'formers':
        sizes, length = rings.n_formers, rings.max_atoms // 2 + 1
    elif by == 'atoms':
        sizes, length = rings.n_atoms, rings.max_atoms + 1
    else:
        raise ValueError(f"by must be 'formers' or 'atoms', got {by!r}")
    return np.bincount(np.asarray(sizes, dtype=int), minlength=length)[:length]


def _flat(rings: Rings) -> tuple[np.ndarray, np.ndarray]:
    """All ring atoms concatenated, shape (sum n_atoms,), and the ring of each, same shape."""
    if not rings.atoms:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    return np.concatenate(rings.atoms), np.repeat(np.arange(len(rings.atoms)), rings.n_atoms)


def _check_coordination(coordination, spec: np.ndarray) -> np.ndarray:
    """Return ``coordination`` as an int array of the shape of ``spec``, else raise ValueError naming it."""
    coord = np.asarray(coordination)
    if coord.shape != spec.shape or (coord.size and coord.dtype.kind not in 'iu'):
        raise ValueError(
            f'coordination must be integers of shape {spec.shape} (oxygen neighbours of every atom), '
            f'got shape {coord.shape}'
        )
    return coord.astype(int)


def _term_order(term: str) -> tuple:
    """Sort key of a ring-class term: boron terms ``'B<k>'`` by k first, then other elements alphabetically."""
    if term.startswith('B') and term[1:].isdigit():
        return (0, int(term[1:]), term)
    return (1, 0, term)


def ring_classes(rings: Rings, species: Sequence[str], coordination, oxygen: str = 'O') -> np.ndarray:
    """Composition label of every ring by former element and boron coordination (paper 000 Fig. S7).

    Boron enters as ``'<count>B<coordination>'``: ``'3B3'`` is a ring of three BO3 (the
    boroxol ring of paper 000, the "3-ring" of paper 001), then ``'2B3+1B4'``,
    ``'1B3+2B4'``, ``'3B4'``; other formers as ``'<count><element>'`` (``'1B3+1P'``,
    ``'1B4+2Si'``). Terms are joined with ``'+'``: boron first by ascending coordination,
    then the other elements alphabetically.

    Parameters
    ----------
    rings : Rings
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    coordination : array_like of int, shape (n_atoms,)
        Oxygen neighbours of every atom (``NetworkFrame.former_oxygens``); only boron's is used.
    oxygen : str
        Symbol of oxygen (the ring atoms that are not formers).

    Returns
    -------
    numpy.ndarray of str, shape (n_rings,)
    """
    spec = np.asarray(species).astype(str)
    coord = _check_coordination(coordination, spec)
    if not rings.atoms:
        return np.zeros(0, dtype='<U1')
    flat, ring_of = _flat(rings)
    former = spec[flat] != oxygen
    flat, ring_of = flat[former], ring_of[former]
    element = spec[flat]
    term = np.where(element == 'B', np.char.add('B', coord[flat].astype(str)), element)
    names, term_index = np.unique(term, return_inverse=True)
    table = np.zeros((len(rings.atoms), names.size), dtype=int)
    np.add.at(table, (ring_of, np.ravel(term_index)), 1)
    order = sorted(range(names.size), key=lambda k: _term_order(str(names[k])))
    rows, inverse = np.unique(table, axis=0, return_inverse=True)
    labels = np.array(['+'.join(f'{row[k]}{names[k]}' for k in order if row[k]) for row in rows])
    return labels[np.ravel(inverse)]


def class_counts(labels) -> dict[str, int]:
    """``{label: number of rings}`` sorted by label, from :func:`ring_classes`.

    Parameters
    ----------
    labels : array_like of str, shape (n_rings,)
    """
    names, counts = np.unique(np.asarray(labels).astype(str), return_counts=True)
    return {str(n): int(c) for n, c in zip(names, counts)}


def _smallest(rings: Rings, n_atoms: int, sizes: np.ndarray, selected=None) -> np.ndarray:
    """Smallest value of ``sizes`` (one per ring) over the rings through each atom, 0 where none; shape (n_atoms,)."""
    flat, ring_of = _flat(rings)
    if flat.size and flat.max() >= n_atoms:
        raise ValueError(f'n_atoms = {n_atoms} is smaller than the largest ring atom index + 1 ({flat.max() + 1})')
    if selected is not None:
        keep = np.asarray(selected, dtype=bool)[ring_of]
        flat, ring_of = flat[keep], ring_of[keep]
    big = np.iinfo(np.int64).max
    smallest = np.full(n_atoms, big, dtype=np.int64)
    if flat.size:
        np.minimum.at(smallest, flat, np.asarray(sizes, dtype=np.int64)[ring_of])
    smallest[smallest == big] = 0
    return smallest.astype(int)


def ring_membership(rings: Rings, n_atoms: int, by: str = 'atoms') -> tuple[np.ndarray, np.ndarray]:
    """Whether each atom lies on a ring, and the smallest ring it lies on.

    Parameters
    ----------
    rings : Rings
    n_atoms : int
        Atoms of the frame.
    by : {'atoms', 'formers'}
        Unit of the smallest ring size.

    Returns
    -------
    in_ring : numpy.ndarray of bool, shape (n_atoms,)
    smallest : numpy.ndarray of int, shape (n_atoms,)
        Size of the smallest ring through the atom (in atoms or formers), 0 for atoms on none.
    """
    if by not in ('atoms', 'formers'):
        raise ValueError(f"by must be 'atoms' or 'formers', got {by!r}")
    smallest = _smallest(rings, int(n_atoms), rings.n_atoms if by == 'atoms' else rings.n_formers)
    return smallest > 0, smallest


def ring_atom_types(
    species: Sequence[str], coordination, rings: Rings, n_formers: int = 3, oxygen: str = 'O'
) -> np.ndarray:
    """Tag atoms as in or out of the ``n_formers``-rings (paper 001 Figs. 9 and 13).

    Boron: ``'B3r'`` / ``'B3n'`` for three-coordinated boron in / not in such a ring,
    ``'B4r'`` / ``'B4n'`` for four-coordinated (``'B<k>r'``, ``'B<k>n'`` for another
    coordination k); oxygen ``'Or'`` / ``'On'`` (NBO and free O are always ``'On'``); other
    formers ``'<element>r'`` / ``'<element>n'`` (``'Sir'``, ``'Sin'``); all other atoms ``''``.

    Parameters
    ----------
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    coordination : array_like of int, shape (n_atoms,)
        Oxygen neighbours of every atom (``NetworkFrame.former_oxygens``).
    rings : Rings
        Rings of the same frame.
    n_formers : int
        Ring size in formers that counts as "ring" (default 3: paper 001's 3-rings).
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    numpy.ndarray of str, shape (n_atoms,)
    """
    spec = np.asarray(species).astype(str)
    coord = _check_coordination(coordination, spec)
    if isinstance(n_formers, bool) or not isinstance(n_formers, (int, np.integer)) or n_formers < 2:
        raise ValueError(f'n_formers must be an integer >= 2, got {n_formers!r}')
    in_ring = _smallest(rings, spec.size, rings.n_formers, selected=rings.n_formers == n_formers) > 0
    base = np.where(spec == 'B', np.char.add('B', coord.astype(str)), spec)
    tagged = np.char.add(base, np.where(in_ring, 'r', 'n'))
    taggable = (spec == oxygen) | np.isin(spec, NETWORK_FORMERS)
    return np.where(taggable, tagged, '')


# --------------------------------------------------------------------------- trajectories


def ring_statistics(
    positions,
    cell,
    species: Sequence[str],
    cutoffs: Mapping[str, float],
    max_atoms: int = 12,
    kind: str = 'primitive',
    oxygen: str = 'O',
) -> RingStatistics:
    """Ring-size distributions and ring classes, per frame and averaged over frames.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    cutoffs : Mapping[str, float]
        ``{former element: former-O cutoff in Å}``.
    max_atoms : int
        Largest ring in atoms (formers + O), default 12.
    kind : {'primitive', 'shortest_path'}
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    RingStatistics
        Counts per frame, their means, the means per network-former atom, and the mean
        number per frame of every ring class of :func:`ring_classes`.

    Raises
    ------
    ValueError
        Bad arguments (the message names the argument).
    """
    kind = _check_kind(kind)
    max_atoms = _check_max_atoms(max_atoms)
    pos, cells = as_frames(positions, cell)
    spec = as_species(species, pos.shape[1])
    by_formers, by_atoms, labels = [], [], []
    for frame_pos, frame_cell in zip(pos, cells):
        frame = network_frame(frame_pos, frame_cell, spec, cutoffs, oxygen)
        rings = find_rings(_graph_from_frame(frame_pos, frame_cell, spec, frame, cutoffs), max_atoms, kind)
        by_formers.append(size_counts(rings, 'formers'))
        by_atoms.append(size_counts(rings, 'atoms'))
        labels.append(ring_classes(rings, spec, frame.former_oxygens, oxygen))
    n_frames = pos.shape[0]
    n_former_atoms = int(np.count_nonzero(np.isin(spec, list(cutoffs))))
    per = 1.0 / n_former_atoms if n_former_atoms else np.nan
    counts_f, counts_a = np.array(by_formers), np.array(by_atoms)
    mean_f, mean_a = counts_f.mean(axis=0), counts_a.mean(axis=0)
    pooled = class_counts(np.concatenate(labels)) if labels else {}
    return RingStatistics(
        kind=kind,
        max_atoms=max_atoms,
        n_frames=n_frames,
        n_former_atoms=n_former_atoms,
        counts_by_formers=counts_f,
        mean_by_formers=mean_f,
        per_former_by_formers=mean_f * per,
        counts_by_atoms=counts_a,
        mean_by_atoms=mean_a,
        per_former_by_atoms=mean_a * per,
        classes={k: v / n_frames for k, v in pooled.items()},
    )
