"""Jump rates, link conductances and the dc conductivity of the hopping model.

Pure numpy/scipy; no AiiDA import. Paper 003, sections III-IV:

- jump rates, eq. (5): ``w_ij = nu exp(-u0 / kT) min(1, exp(-(eps_j - eps_i) / kT))``;
- link conductances (Ambegaokar-Halperin-Langer mapping), eq. (7):
  ``g_ij = (q^2 / kT) w_ij <n_i> (1 - <n_j>) = g_ji``;
- total conductance G of the network between two opposite faces held at potentials 1
  and 0, eqs. (10)-(11): ``G = sum of the elements of G_++ - G_+L G_LL^-1 G_L+`` (Kron
  reduction), and the conductivity, eqs. (12)-(13).

Units: with q = e, ``q^2 / kT = e / (kT in eV)`` in C/V, so ``g_ij = e nu exp(...) <n_i>
(1 - <n_j>) / (kT in eV)`` is in siemens (S). The conductivity of the cube of
``size**3`` ion sites with lattice constant a, electrodes on the planes ``i = 0`` and
``i = size - 1`` (distance ``(size - 1) a``) and periodic in y and z (cross-section
``(size a)^2``) is::

    sigma_dc = G (size - 1) / (size^2 a)          [S/m with G in S and a in m]

so that a uniform network of link conductance g gives ``sigma = g / a`` at every size.
The paper writes ``sigma = G / L`` with ``L = size a`` (eq. 12), which differs by the
factor ``(size - 1) / size`` (2.9 % at size 35).

Solving Kirchhoff's equations. The network is a diluted cubic lattice whose link
conductances spread over tens of decades at room temperature. Conjugate gradients with a
Jacobi preconditioner did not converge on it (200,000 iterations at size 35, 300 K), and
a fill-reducing direct factorisation (SuperLU, minimum degree) needs about 12 minutes and
8 GB at size 100. :func:`network_conductance` therefore performs the Kron reduction
itself, in the spirit of the paper's "iterative Kron reduction": both faces are merged
into two terminal nodes (all nodes of a face share one potential), rounds of independent
sets of low-degree nodes are eliminated exactly (Schur complement), and the last few
thousand nodes, by then nearly all joined to each other, are eliminated in dense blocks.
Every pivot is a sum of positive conductances and every update adds positive terms, so
nothing cancels however broad the conductance distribution; the result is the
conductance between the two terminals left at the end. Fill links weaker than
``drop_tol`` times the bottleneck conductance (the largest g such that the links with
``g_ij >= g`` connect the faces, :func:`.percolation.bottleneck`) are dropped during the
sparse rounds. Removing links from a network lowers its conductance by at most their
summed conductance (G is concave in the link conductances, with
``dG/dg_ij = (phi_i - phi_j)^2 <= 1``), so the exact G lies in
``[conductance, conductance + dropped]``, both of which are returned.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from .landscape import Landscape, landscape_ensemble
from .lattice import face_sites, lattice_links
from .percolation import DEFAULT_U0_PER_V0, K_B_EV, activation_energy, bottleneck, fermi_level

__all__ = (
    'DEFAULT_NU_HZ',
    'DEFAULT_JUMP_ANGSTROM',
    'NetworkConductance',
    'DcConductivity',
    'jump_rates',
    'log_link_conductances',
    'network_conductance',
    'kron_reduction',
    'dc_conductivity',
    'conductivity_factor',
    'EnsembleTransport',
    'ensemble_transport',
)

#: Attempt frequency in Hz (paper 003: nu of order 1e12-1e14 Hz; fitted 4e14 Hz for the Li series).
DEFAULT_NU_HZ = 1.0e13
#: Mean jump distance a in Å (paper 003, section V A).
DEFAULT_JUMP_ANGSTROM = 5.0
#: Elementary charge in C (SI 2019, exact).
ELEMENTARY_CHARGE_C = 1.602176634e-19
#: The sparse elimination hands over to the dense one at DENSE_NODES nodes or fewer, once
#: the fraction DENSE_FILL of all node pairs is linked (the fastest switch measured at
#: sizes 35 and 100; a network that stays sparse is reduced to the two terminals).
DENSE_NODES = 4000
DENSE_FILL = 0.02
#: Largest ln(g_max / g_bottleneck): exp() of more overflows float64 (the reduction itself only forms ratios <= 1).
MAX_LOG_CONTRAST = 700.0


class NetworkConductance(NamedTuple):
    """Conductance between the two faces; the exact value is in ``[conductance, conductance + dropped]``."""

    conductance: float
    dropped: float


class DcConductivity(NamedTuple):
    """dc conductivity of one landscape at one temperature.

    ``sigma_s_cm`` is a lower bound and ``sigma_upper_s_cm`` an upper bound of the exact
    value (see :func:`network_conductance`); ``mu_ev`` is the chemical potential used.
    """

    sigma_s_cm: float
    sigma_upper_s_cm: float
    mu_ev: float


def jump_rates(e_from, e_to, temperature_k: float, nu_hz: float, u0_ev: float) -> np.ndarray:
    """Jump rates without field, eq. (5).

    Parameters
    ----------
    e_from, e_to : array_like, float
        Energies of the initial and target sites in eV (broadcast together).
    temperature_k : float
        K, > 0.
    nu_hz : float
        Attempt frequency in Hz.
    u0_ev : float
        Minimal barrier u0 in eV.

    Returns
    -------
    numpy.ndarray
        ``w = nu exp(-u0 / kT) min(1, exp(-(e_to - e_from) / kT))`` in Hz.
    """
    kt = K_B_EV * temperature_k
    uphill = np.maximum(np.asarray(e_to, dtype=float) - np.asarray(e_from, dtype=float), 0.0)
    return nu_hz * np.exp(-(u0_ev + uphill) / kt)


def log_link_conductances(e_i, e_j, mu_ev: float, temperature_k: float, nu_hz: float, u0_ev: float) -> np.ndarray:
    """Natural logarithm of the link conductances of eq. (7), ``ln(g_ij / S)``.

    Parameters
    ----------
    e_i, e_j : array_like, shape (n_links,)
        Site energies at the link ends in eV (finite).
    mu_ev : float
        Chemical potential in eV (:func:`.percolation.fermi_level` at the same T).
    temperature_k : float
        K, > 0.
    nu_hz : float
        Attempt frequency in Hz.
    u0_ev : float
        Minimal barrier in eV.

    Returns
    -------
    numpy.ndarray, shape (n_links,)
        ``ln g_ij`` with g in S; symmetric in i and j (detailed balance). Logarithms
        because the conductances span more decades than a float64 holds at low T.
    """
    kt = K_B_EV * temperature_k
    e_i = np.asarray(e_i, dtype=float)
    e_j = np.asarray(e_j, dtype=float)
    return (
        np.log(ELEMENTARY_CHARGE_C * nu_hz / kt)  # q^2 / kT = e / (kT in eV) in C/V, times nu: S
        - (u0_ev + np.maximum(e_j - e_i, 0.0)) / kt
        - np.logaddexp(0.0, (e_i - mu_ev) / kt)  # ln <n_i>
        - np.logaddexp(0.0, (mu_ev - e_j) / kt)  # ln (1 - <n_j>)
    )


def _terminal_graph(n_nodes, i, j, g, source, sink) -> sparse.csr_matrix:
    """Symmetric conductance matrix with the faces merged: node 0 = source, 1 = sink, k + 2 = node k."""
    node = np.arange(n_nodes, dtype=np.int64) + 2
    node[np.asarray(source, dtype=np.int64)] = 0
    node[np.asarray(sink, dtype=np.int64)] = 1
    a = node[np.asarray(i, dtype=np.int64)]
    b = node[np.asarray(j, dtype=np.int64)]
    keep = (a != b) & (g > 0.0)
    a, b, g = a[keep], b[keep], g[keep]
    shape = (n_nodes + 2, n_nodes + 2)
    graph = sparse.csr_matrix((np.concatenate([g, g]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=shape)
    _, label = csgraph.connected_components(graph, directed=False)
    if label[0] != label[1]:
        return sparse.csr_matrix((2, 2))  # no path: G = 0
    live = np.flatnonzero(label == label[0])  # starts with 0 and 1
    return graph[live][:, live].tocsr()


def _row_min(graph: sparse.csr_matrix, values) -> np.ndarray:
    """Smallest ``values[j]`` over the neighbours j of every node (inf without neighbours)."""
    degree = np.diff(graph.indptr)
    out = np.full(graph.shape[0], np.inf)
    rows = degree > 0
    out[rows] = np.minimum.reduceat(values[graph.indices], graph.indptr[:-1][rows])
    return out


def _independent_low_degree(graph: sparse.csr_matrix, rng: np.random.Generator, passes: int = 3) -> np.ndarray:
    """Independent set of non-terminal nodes, low degrees first (Luby rounds on degree + random key)."""
    n = graph.shape[0]
    degree = np.diff(graph.indptr)
    key = degree + rng.random(n)
    key[:2] = np.inf
    chosen = np.zeros(n, dtype=bool)
    for _ in range(passes):
        pick = np.isfinite(key) & (key < _row_min(graph, key))
        if not pick.any():
            break
        chosen |= pick
        key[pick | (graph @ pick.astype(float) > 0.0)] = np.inf  # picked nodes and their neighbours
    return chosen


def _eliminate(graph: sparse.csr_matrix, chosen: np.ndarray, floor: float) -> tuple[sparse.csr_matrix, float]:
    """Kron-reduce an independent set of nodes; drop fill links below ``floor``."""
    keep = np.flatnonzero(~chosen)
    gone = np.flatnonzero(chosen)
    rows = graph[keep]
    strength = np.asarray(graph[gone].sum(axis=1)).ravel()
    strength[strength == 0.0] = 1.0  # isolated nodes: no column entries to scale
    cross = rows[:, gone]
    fill = (cross @ sparse.diags(1.0 / strength) @ cross.T).tocsr()
    reduced = (rows[:, keep] + fill).tocsr()
    row_of_entry = np.repeat(np.arange(keep.size), np.diff(reduced.indptr))
    reduced.data[reduced.indices == row_of_entry] = 0.0  # self-loops of the fill: no current
    weak = reduced.data < floor
    dropped = 0.5 * float(reduced.data[weak].sum())
    reduced.data[weak] = 0.0
    reduced.eliminate_zeros()
    return reduced, dropped


def _dense_two_terminal(graph: sparse.csr_matrix, block: int = 64) -> float:
    """Conductance between nodes 0 and 1 by blocked dense Kron reduction of all other nodes.

    Blocks of ``block`` nodes are eliminated from the end. Inside a block the pivots are
    eliminated one by one, each pivot being the sum of the positive conductances that
    still leave it (Grassmann-Taksar-Heyman form, no subtraction anywhere); the update of
    the remaining nodes is then one matrix product of non-negative factors.
    """
    w = graph.toarray()
    size = w.shape[0]
    while size > 2:
        start = max(2, size - block)
        inner = w[start:size, start:size].copy()
        outer = w[start:size, :start].copy()
        pivots = np.empty(size - start)
        for p in range(size - start):
            pivots[p] = inner[p, p + 1 :].sum() + outer[p].sum() or 1.0  # 1.0: a node cut off by dropping
            factor = inner[p + 1 :, p] / pivots[p]
            inner[p + 1 :, p + 1 :] += np.outer(factor, inner[p, p + 1 :])
            outer[p + 1 :] += np.outer(factor, outer[p])
            np.fill_diagonal(inner[p + 1 :, p + 1 :], 0.0)
        w[:start, :start] += outer.T @ (outer / pivots[:, None])
        np.fill_diagonal(w[:start, :start], 0.0)
        size = start
    return float(w[0, 1])


def network_conductance(
    n_nodes: int, i, j, g, source, sink, *, drop_tol: float = 1e-10, seed: int = 0
) -> NetworkConductance:
    """Conductance between two node sets held at fixed potentials (eqs. 10-11).

    Parameters
    ----------
    n_nodes : int
        Number of nodes.
    i, j : array_like of int, shape (n_links,)
        Link ends (each unordered pair at most once).
    g : array_like, shape (n_links,)
        Link conductances, >= 0 (any unit; the result has the same unit). Scale them to
        order 1 at the bottleneck if they could underflow.
    source, sink : array_like of int
        Disjoint node sets at potentials 1 and 0 (the faces B+ and B-).
    drop_tol : float
        Fill links weaker than ``drop_tol`` times the bottleneck conductance are dropped
        (0 keeps everything: an exact Kron reduction).
    seed : int
        Seeds the tie-breaking of the elimination order (the result does not depend on
        it beyond rounding and ``dropped``).

    Returns
    -------
    NetworkConductance
        ``conductance`` (a lower bound) and ``dropped`` (the exact value is at most
        ``conductance + dropped``); both 0 when no path joins the sets.

    Notes
    -----
    Links between two nodes of one face carry no current and are ignored; parts of the
    network not joined to both faces are discarded before the reduction.
    """
    g = np.asarray(g, dtype=float)
    if g.shape != np.shape(i) or g.shape != np.shape(j):
        raise ValueError(f'i, j and g must have one shape, got {np.shape(i)}, {np.shape(j)}, {g.shape}')
    if not np.all(np.isfinite(g)) or np.any(g < 0.0):
        raise ValueError('g must be finite and >= 0')
    if not drop_tol >= 0.0:
        raise ValueError(f'drop_tol must be >= 0, got {drop_tol!r}')
    if np.intersect1d(source, sink).size:
        raise ValueError('source and sink must be disjoint')
    graph = _terminal_graph(n_nodes, i, j, g, source, sink)
    if graph.nnz == 0:
        return NetworkConductance(0.0, 0.0)
    links = graph.tocoo()
    floor = drop_tol * -bottleneck(-links.data, links.row, links.col, graph.shape[0], [0], [1])
    rng = np.random.default_rng(seed)
    dropped = 0.0
    while graph.shape[0] > 2 and (graph.shape[0] > DENSE_NODES or graph.nnz < DENSE_FILL * graph.shape[0] ** 2):
        graph, lost = _eliminate(graph, _independent_low_degree(graph, rng), floor)
        dropped += lost
    return NetworkConductance(_dense_two_terminal(graph), dropped)


def kron_reduction(n_nodes: int, i, j, g, source, sink) -> np.ndarray:
    """Kron-reduced conductance matrix of eq. (11), dense (reference for small networks).

    Parameters
    ----------
    n_nodes, i, j, g, source, sink
        As in :func:`network_conductance`; every node outside ``source`` and ``sink``
        must be joined to one of them (``G_LL`` invertible).

    Returns
    -------
    numpy.ndarray, shape (n_source, n_source)
        ``G = G_++ - G_+L G_LL^-1 G_L+`` (nodes of ``source`` in the given order);
        with ``phi_- = 0`` the currents leaving the source nodes are ``I_+ = G phi``, so
        the total conductance is ``G.sum()`` (eqs. 12-13).
    """
    g = np.asarray(g, dtype=float)
    laplacian = np.zeros((n_nodes, n_nodes))
    np.add.at(laplacian, (i, j), -g)
    np.add.at(laplacian, (j, i), -g)
    laplacian[np.diag_indices(n_nodes)] = -laplacian.sum(axis=1)
    plus = np.asarray(source)
    inner = np.setdiff1d(np.arange(n_nodes), np.concatenate([plus, np.asarray(sink)]))
    g_pp = laplacian[np.ix_(plus, plus)]
    g_pl = laplacian[np.ix_(plus, inner)]
    g_ll = laplacian[np.ix_(inner, inner)]
    return g_pp - g_pl @ np.linalg.solve(g_ll, g_pl.T)


def conductivity_factor(size: int, a_angstrom: float) -> float:
    """Factor turning the network conductance G (S) into sigma_dc (S/cm).

    Parameters
    ----------
    size : int
        Ion sites per axis.
    a_angstrom : float
        Lattice constant (mean jump distance) in Å.

    Returns
    -------
    float
        ``(size - 1) / (size^2 a)`` in 1/cm (module docstring).
    """
    return (size - 1) / (size**2 * a_angstrom * 1e-8)


def dc_conductivity(
    landscape: Landscape,
    temperature_k: float,
    *,
    nu_hz: float = DEFAULT_NU_HZ,
    a_angstrom: float = DEFAULT_JUMP_ANGSTROM,
    u0_ev: float | None = None,
    drop_tol: float = 1e-10,
) -> DcConductivity:
    """dc conductivity of one landscape, eqs. (4), (5), (7) and (10)-(13).

    Parameters
    ----------
    landscape : Landscape
    temperature_k : float
        K, > 0.
    nu_hz : float
        Attempt frequency in Hz, > 0.
    a_angstrom : float
        Mean jump distance (lattice constant) in Å, > 0.
    u0_ev : float, optional
        Minimal barrier in eV; default ``0.1 V0``.
    drop_tol : float
        See :func:`network_conductance`.

    Returns
    -------
    DcConductivity
        sigma_dc in S/cm (lower and upper bound) and the chemical potential in eV.

    Raises
    ------
    ValueError
        Non-positive ``temperature_k``, ``nu_hz`` or ``a_angstrom``, or a temperature so
        low that the conductances span more than float64 can hold (below about 10 K for
        V0 ~ 1 eV).
    """
    for name, value in (('temperature_k', temperature_k), ('nu_hz', nu_hz), ('a_angstrom', a_angstrom)):
        if not (np.isfinite(value) and value > 0.0):
            raise ValueError(f'{name} must be positive, got {value!r}')
    u0 = DEFAULT_U0_PER_V0 * landscape.v0_ev if u0_ev is None else float(u0_ev)
    energies = landscape.energies_ev.ravel()
    mu = fermi_level(energies, landscape.n_ions, temperature_k)
    i, j = lattice_links(landscape.accessible)
    source, sink = face_sites(landscape.accessible)
    log_g = log_link_conductances(energies[i], energies[j], mu, temperature_k, nu_hz, u0)
    log_scale = -bottleneck(-log_g, i, j, energies.size, source, sink)
    if not np.isfinite(log_scale):
        return DcConductivity(0.0, 0.0, mu)
    if log_g.max() - log_scale > MAX_LOG_CONTRAST:
        raise ValueError(f'temperature_k = {temperature_k!r} is too low: the conductances overflow a float64')
    result = network_conductance(energies.size, i, j, np.exp(log_g - log_scale), source, sink, drop_tol=drop_tol)
    factor = conductivity_factor(landscape.size, a_angstrom) * float(np.exp(log_scale))
    return DcConductivity(result.conductance * factor, (result.conductance + result.dropped) * factor, mu)


class EnsembleTransport(NamedTuple):
    """Activation energy and dc conductivity of every landscape of an ensemble.

    Attributes
    ----------
    temperatures_k : numpy.ndarray, shape (n_temperatures,)
        K.
    activation_energy_ev : numpy.ndarray, shape (n_landscapes,)
        Delta_c of each landscape (eq. 9), eV.
    sigma_s_cm : numpy.ndarray, shape (n_landscapes, n_temperatures)
        sigma_dc, lower bound (:class:`DcConductivity`), S/cm.
    sigma_upper_s_cm : numpy.ndarray, shape (n_landscapes, n_temperatures)
        sigma_dc, upper bound, S/cm.
    """

    temperatures_k: np.ndarray
    activation_energy_ev: np.ndarray
    sigma_s_cm: np.ndarray
    sigma_upper_s_cm: np.ndarray


def ensemble_transport(
    size: int,
    x: float,
    y: float,
    v0_ev: float,
    sigma_eps: float,
    n_landscapes: int,
    temperatures_k=(),
    *,
    seed=None,
    nu_hz: float = DEFAULT_NU_HZ,
    a_angstrom: float = DEFAULT_JUMP_ANGSTROM,
    u0_ev: float | None = None,
    **landscape_options,
) -> EnsembleTransport:
    """Delta_c and sigma_dc(T) on the same landscapes (each built once).

    Parameters
    ----------
    size, x, y, v0_ev, sigma_eps, n_landscapes, seed
        See :func:`.landscape.landscape_ensemble` (the same landscapes as
        :func:`.percolation.activation_energies` with this seed).
    temperatures_k : array_like, shape (n_temperatures,)
        Temperatures in K for sigma_dc; empty for Delta_c only.
    nu_hz, a_angstrom, u0_ev
        See :func:`dc_conductivity`.
    **landscape_options
        ``f0`` and ``units``, passed to :func:`.landscape.build_landscape`.

    Returns
    -------
    EnsembleTransport
    """
    temperatures = np.atleast_1d(np.asarray(temperatures_k, dtype=float))
    ea = np.empty(n_landscapes)
    sigma = np.empty((2, n_landscapes, temperatures.size))
    ensemble = landscape_ensemble(size, x, y, v0_ev, sigma_eps, n_landscapes, seed=seed, **landscape_options)
    for k, land in enumerate(ensemble):
        ea[k] = activation_energy(land, u0_ev)
        for n, t in enumerate(temperatures):
            result = dc_conductivity(land, t, nu_hz=nu_hz, a_angstrom=a_angstrom, u0_ev=u0_ev)
            sigma[:, k, n] = result.sigma_s_cm, result.sigma_upper_s_cm
    return EnsembleTransport(temperatures, ea, sigma[0], sigma[1])
