"""Fermi level, effective link barriers and the percolation activation energy.

Pure numpy/scipy; no AiiDA import. Paper 003, sections III-IV:

- mean occupations, eq. (4): ``<n_i> = 1 / (exp((eps_i - mu) / kT) + 1)``, with the
  chemical potential mu fixed by ``sum_i <n_i> = N`` over the accessible sites; as
  ``T -> 0`` mu is the Fermi level eps_F, halfway between the N-th and (N+1)-th lowest
  site energies;
- effective barriers of the links between neighbouring ion sites, eq. (8b):
  ``Delta_ij = u0 + (|eps_i - eps_j| + |eps_i - eps_F| + |eps_j - eps_F|) / 2``;
- activation energy, eq. (9): ``E_a = Delta_c``, the smallest Delta for which the links
  with ``Delta_ij <= Delta`` form a path between the two faces of the lattice normal to x
  (:mod:`.lattice`).

Delta_c is the minimax (bottleneck) value of the paths between the faces. It is found
exactly, without bisection, as the largest link weight on the path between the faces in
a minimum spanning tree (:func:`scipy.sparse.csgraph.minimum_spanning_tree`: Kruskal's
union-find sweep over the links sorted by Delta; the paper labels clusters with the
Hoshen-Kopelman algorithm instead, which gives the same Delta_c).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, sparse
from scipy.sparse import csgraph
from scipy.special import expit

from .landscape import Landscape, ensemble_statistics, landscape_ensemble
from .lattice import face_sites, lattice_links

__all__ = (
    'K_B_EV',
    'fermi_level',
    'occupations',
    'link_barriers',
    'bottleneck',
    'activation_energy',
    'activation_energies',
)

#: Boltzmann constant in eV/K (CODATA 2018, exact).
K_B_EV = 8.617333262e-5
#: Minimal barrier u0 in units of V0 used in paper 003 (section III).
DEFAULT_U0_PER_V0 = 0.1


def _finite_energies(energies_ev) -> np.ndarray:
    e = np.asarray(energies_ev, dtype=float).ravel()
    return e[np.isfinite(e)]


def fermi_level(energies_ev, n_ions: int, temperature_k: float = 0.0) -> float:
    """Chemical potential mu fixing the mean number of ions, eq. (4).

    Parameters
    ----------
    energies_ev : array_like, float
        Site energies in eV, any shape; non-finite entries (blocked sites) are ignored.
    n_ions : int
        Number of ions N, ``0 < N < number of finite energies``.
    temperature_k : float
        Temperature in K, >= 0. At 0 the Fermi level eps_F is returned: the midpoint
        between the N-th and (N+1)-th lowest energies.

    Returns
    -------
    float
        mu in eV; at T > 0 ``sum_i <n_i> = N`` to a relative 1e-12.

    Raises
    ------
    ValueError
        ``n_ions`` outside (0, n_sites) or negative ``temperature_k``.
    """
    e = _finite_energies(energies_ev)
    n_ions = int(n_ions)
    if not 0 < n_ions < e.size:
        raise ValueError(f'n_ions must be in (0, {e.size}) (the number of accessible sites), got {n_ions!r}')
    if not temperature_k >= 0.0:
        raise ValueError(f'temperature_k must be >= 0 K, got {temperature_k!r}')
    lower, upper = np.partition(e, [n_ions - 1, n_ions])[[n_ions - 1, n_ions]]
    if temperature_k == 0.0:
        return float(0.5 * (lower + upper))
    kt = K_B_EV * temperature_k

    def excess(mu):
        return expit((mu - e) / kt).sum() - n_ions

    return float(optimize.brentq(excess, e.min() - 50.0 * kt, e.max() + 50.0 * kt, xtol=1e-14, rtol=1e-14))


def occupations(energies_ev, mu_ev: float, temperature_k: float) -> np.ndarray:
    """Mean occupation numbers, eq. (4).

    Parameters
    ----------
    energies_ev : array_like, float
        Site energies in eV (``+inf`` gives 0).
    mu_ev : float
        Chemical potential in eV.
    temperature_k : float
        Temperature in K, > 0.

    Returns
    -------
    numpy.ndarray, float64, same shape as ``energies_ev``
        ``<n_i>`` in [0, 1].
    """
    return expit((mu_ev - np.asarray(energies_ev, dtype=float)) / (K_B_EV * temperature_k))


def link_barriers(e_i, e_j, e_fermi_ev: float, u0_ev: float) -> np.ndarray:
    """Effective barriers of links, eq. (8b).

    Parameters
    ----------
    e_i, e_j : array_like, shape (n_links,)
        Site energies at the two ends, eV.
    e_fermi_ev : float
        Fermi level eps_F in eV.
    u0_ev : float
        Minimal barrier u0 in eV.

    Returns
    -------
    numpy.ndarray, shape (n_links,)
        Delta_ij in eV, symmetric in i and j.
    """
    e_i = np.asarray(e_i, dtype=float)
    e_j = np.asarray(e_j, dtype=float)
    return u0_ev + 0.5 * (np.abs(e_i - e_j) + np.abs(e_i - e_fermi_ev) + np.abs(e_j - e_fermi_ev))


def bottleneck(weights, i, j, n_nodes: int, source, sink) -> float:
    """Smallest w such that the links with weight <= w connect ``source`` to ``sink``.

    Parameters
    ----------
    weights : array_like, shape (n_links,), float
        Link weights (e.g. Delta_ij in eV), finite.
    i, j : array_like of int, shape (n_links,)
        Node indices of the link ends, in ``[0, n_nodes)``; each unordered pair at most
        once.
    n_nodes : int
        Number of nodes.
    source, sink : array_like of int
        Disjoint node sets (the two faces).

    Returns
    -------
    float
        The critical weight (eq. 9 for ``weights = Delta``), ``inf`` when no path exists.

    Notes
    -----
    Two virtual nodes join all of ``source`` and all of ``sink`` below every weight. In a
    minimum spanning tree the tree path between two nodes minimises the largest weight,
    so that largest weight on the tree path between the virtual nodes is the answer; it is
    found by pointer doubling (O(n log depth), no loop over nodes). Weights are replaced
    by their ranks first, which keeps ties and zero weights exact.
    """
    w = np.asarray(weights, dtype=float)
    if w.size == 0 or np.size(source) == 0 or np.size(sink) == 0:
        return np.inf
    order = np.argsort(w, kind='stable')
    rank = np.empty(w.size)
    rank[order] = np.arange(1, w.size + 1)
    top, bottom = n_nodes, n_nodes + 1
    rows = np.concatenate([np.asarray(i), np.full(np.size(source), top), np.full(np.size(sink), bottom)])
    cols = np.concatenate([np.asarray(j), np.asarray(source), np.asarray(sink)])
    data = np.concatenate([rank, np.full(np.size(source) + np.size(sink), 0.5)])
    graph = sparse.csr_matrix((data, (rows, cols)), shape=(n_nodes + 2, n_nodes + 2))
    tree = csgraph.minimum_spanning_tree(graph)
    tree = (tree + tree.T).tocsr()
    _, pred = csgraph.breadth_first_order(tree, top, directed=False, return_predecessors=True)
    if pred[bottom] < 0:
        return np.inf
    nodes = np.arange(n_nodes + 2)
    reached = pred >= 0
    parent = np.where(reached, pred, nodes)
    best = np.zeros(n_nodes + 2)
    best[reached] = np.asarray(tree[nodes[reached], pred[reached]]).ravel()
    while True:
        best = np.maximum(best, best[parent])
        grand = parent[parent]
        if np.array_equal(grand, parent):
            break
        parent = grand
    return float(w[order[int(best[bottom]) - 1]])


def activation_energy(landscape: Landscape, u0_ev: float | None = None) -> float:
    """Activation energy E_a = Delta_c of one landscape, eqs. (8b) and (9), T -> 0.

    Parameters
    ----------
    landscape : Landscape
    u0_ev : float, optional
        Minimal barrier in eV; default ``0.1 V0`` (paper 003, section III).

    Returns
    -------
    float
        Delta_c in eV (``inf`` if the accessible sites do not connect the faces).
    """
    u0 = DEFAULT_U0_PER_V0 * landscape.v0_ev if u0_ev is None else float(u0_ev)
    energies = landscape.energies_ev.ravel()
    e_fermi = fermi_level(energies, landscape.n_ions)
    i, j = lattice_links(landscape.accessible)
    source, sink = face_sites(landscape.accessible)
    barriers = link_barriers(energies[i], energies[j], e_fermi, u0)
    return bottleneck(barriers, i, j, energies.size, source, sink)


def activation_energies(
    size: int,
    x: float,
    y: float,
    v0_ev: float,
    sigma_eps: float,
    n_landscapes: int,
    *,
    u0_ev: float | None = None,
    seed=None,
    **landscape_options,
) -> tuple[float, float, np.ndarray]:
    """Delta_c averaged over independent landscapes (the paper: 20 at size 100).

    Parameters
    ----------
    size, x, y, v0_ev, sigma_eps
        See :func:`.landscape.build_landscape`.
    n_landscapes : int
        Number of landscapes, >= 1.
    u0_ev : float, optional
        See :func:`activation_energy`.
    seed : int or None
        Root of a :class:`numpy.random.SeedSequence`; landscape k uses its k-th child.
    **landscape_options
        ``f0`` and ``units``, passed to :func:`.landscape.build_landscape`.

    Returns
    -------
    mean : float
        eV.
    std : float
        eV, sample standard deviation over the landscapes (ddof = 1; 0 for one).
    values : numpy.ndarray, shape (n_landscapes,)
        Delta_c of each landscape in eV.
    """
    ensemble = landscape_ensemble(size, x, y, v0_ev, sigma_eps, n_landscapes, seed=seed, **landscape_options)
    values = np.array([activation_energy(landscape, u0_ev) for landscape in ensemble])
    mean, std = ensemble_statistics(values)
    return float(mean), float(std), values
