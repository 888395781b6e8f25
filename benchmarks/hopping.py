"""Benchmark: the hopping model's Delta_c and sigma_dc against plain scipy references.

Glass 0.35 Na2O - 0.65[0.5 B2O3 - 0.5 P2O5] with the parameters paper 003 fitted for this
series (V0 = 0.76 eV, sigma_eps = 0.30, u0 = 0.1 V0, f0 = 0.05), one landscape (seed 1)
per size, measured in the same run on the same machine:

1. **Delta_c at size 100** (10^6 sites, about 3 * 10^6 links before blocking): ours
   (:func:`aiida_boroglass.hopping.percolation.bottleneck`, minimum spanning tree) against
   the reference *bisection with scipy.sparse.csgraph.connected_components* over the
   sorted barriers. Timed: the threshold search alone (barriers given).
2. **sigma_dc at sizes 35 and 100** (303 K and 563 K, the ends of the paper's Fig. 7):
   ours (:func:`aiida_boroglass.hopping.conductance.dc_conductivity`, iterative Kron
   reduction) against the reference *scipy SuperLU* (``splu`` with minimum degree on
   A + A^T in symmetric mode, a better ordering here than ``spsolve``'s default COLAMD)
   on the Dirichlet system of eq. (10). Timed: the whole sigma_dc evaluation after the
   landscape is built (Fermi level, conductances, solve).

Each measurement runs in a fresh process; printed per row: wall time, the process's peak
resident set (getrusage: everything, SuperLU's own allocations and the interpreter
included) at the end and, in brackets, before the timed step (the landscape and its
links), the value, and reference / ours for time and value. The reference solve at size
100 needs about 8 minutes and 5 GB, so it runs at 303 K only (its cost does not depend
on T); ``--reference-limit`` stops it (the ratio is then a lower bound).

Run it on demand (not collected by pytest), from the repository root::

    python benchmarks/hopping.py                        # about 10 min on 2 cores
    python benchmarks/hopping.py --reference-limit 60   # reference at size 100 cut after 60 s
"""
from __future__ import annotations

import argparse
import multiprocessing
import resource
import time

import numpy as np

#: Composition (x, y) and model parameters of the benchmark (paper 003, Na series, Fig. 6 solid line).
X, Y, V0_EV, SIGMA_EPS, SEED = 0.5, 0.35, 0.76, 0.30, 1


def landscape(size: int):
    """The benchmark landscape of ``size**3`` sites."""
    from aiida_boroglass.hopping.landscape import build_landscape

    return build_landscape(size, X, Y, V0_EV, SIGMA_EPS, seed=SEED)


def barriers(land):
    """Links, faces and eq. (8b) barriers (eV) at T -> 0."""
    from aiida_boroglass.hopping.lattice import face_sites, lattice_links
    from aiida_boroglass.hopping.percolation import fermi_level, link_barriers

    energies = land.energies_ev.ravel()
    i, j = lattice_links(land.accessible)
    source, sink = face_sites(land.accessible)
    delta = link_barriers(energies[i], energies[j], fermi_level(energies, land.n_ions), 0.1 * land.v0_ev)
    return delta, i, j, energies.size, source, sink


def bisection_delta_c(delta, i, j, n, source, sink) -> float:
    """Reference Delta_c: bisection over the sorted barriers with connected_components."""
    from scipy import sparse
    from scipy.sparse import csgraph

    values = np.unique(delta)

    def spans(limit):
        keep = delta <= limit
        graph = sparse.coo_matrix((np.ones(np.count_nonzero(keep)), (i[keep], j[keep])), shape=(n, n))
        _, label = csgraph.connected_components(graph, directed=False)
        return np.intersect1d(label[source], label[sink]).size > 0

    lo, hi = 0, values.size - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if spans(values[mid]):
            hi = mid
        else:
            lo = mid + 1
    return float(values[lo])


def superlu_sigma(land, temperature_k: float) -> float:
    """Reference sigma_dc (S/cm): SuperLU on the Dirichlet system of eq. (10)."""
    from scipy import sparse
    from scipy.sparse import csgraph
    from scipy.sparse import linalg as sla

    from aiida_boroglass.hopping.conductance import DEFAULT_NU_HZ, conductivity_factor, log_link_conductances
    from aiida_boroglass.hopping.lattice import face_sites, lattice_links
    from aiida_boroglass.hopping.percolation import fermi_level

    energies = land.energies_ev.ravel()
    n = energies.size
    mu = fermi_level(energies, land.n_ions, temperature_k)
    i, j = lattice_links(land.accessible)
    source, sink = face_sites(land.accessible)
    log_g = log_link_conductances(energies[i], energies[j], mu, temperature_k, DEFAULT_NU_HZ, 0.1 * land.v0_ev)
    scale = log_g.max()
    g = np.exp(log_g - scale)
    w = sparse.csr_matrix((np.concatenate([g, g]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))
    laplacian = (sparse.diags(np.asarray(w.sum(axis=1)).ravel()) - w).tocsr()
    _, label = csgraph.connected_components(w, directed=False)
    live = np.isin(label, np.intersect1d(label[source], label[sink]))
    fixed = np.zeros(n, dtype=bool)
    fixed[source] = fixed[sink] = True
    unknown = np.flatnonzero(live & ~fixed)
    phi = np.zeros(n)
    phi[source] = 1.0
    rhs = -(laplacian[unknown][:, source] @ np.ones(source.size))
    lu = sla.splu(
        laplacian[unknown][:, unknown].tocsc(),
        permc_spec='MMD_AT_PLUS_A',
        diag_pivot_thresh=0.0,
        options={'SymmetricMode': True},
    )
    phi[unknown] = lu.solve(rhs)
    # current leaving the source face; parts joined to the source face only float at potential 1
    from_source = np.isin(i, source) != np.isin(j, source)
    other = np.where(np.isin(i[from_source], source), j[from_source], i[from_source])
    carrying = live[other]
    current = float(np.sum(g[from_source][carrying] * (1.0 - phi[other[carrying]])))
    return current * np.exp(scale) * conductivity_factor(land.size, 5.0)


def measure(task: str, size: int, method: str, temperature_k: float, queue) -> None:
    """Run one measurement in this (fresh) process and put the result on ``queue``."""
    land = landscape(size)
    if task == 'delta_c':
        from aiida_boroglass.hopping.percolation import bottleneck

        args = barriers(land)
        solve = (lambda: bottleneck(*args)) if method == 'ours' else (lambda: bisection_delta_c(*args))
    else:
        from aiida_boroglass.hopping.conductance import dc_conductivity

        if method == 'ours':
            solve = lambda: dc_conductivity(land, temperature_k).sigma_s_cm  # noqa: E731
        else:
            solve = lambda: superlu_sigma(land, temperature_k)  # noqa: E731
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    start = time.perf_counter()
    value = solve()
    wall = time.perf_counter() - start
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({'value': float(value), 'wall_s': wall, 'rss_before_mb': rss_before, 'rss_mb': rss_peak})


def run(task: str, size: int, method: str, temperature_k: float = 0.0, limit_s: float | None = None) -> dict:
    """One measurement in a spawned process; ``{'timed_out': True}`` after ``limit_s``."""
    context = multiprocessing.get_context('spawn')
    queue = context.Queue()
    process = context.Process(target=measure, args=(task, size, method, temperature_k, queue))
    process.start()
    process.join(limit_s)
    if process.is_alive():
        process.kill()
        process.join()
        return {'timed_out': True, 'wall_s': limit_s}
    return queue.get()


def row(label: str, ours: dict, reference: dict | None) -> str:
    """One printed comparison (``reference`` None: ours alone)."""
    lines = []
    for name, result in (('ours', ours), ('reference', reference)):
        if result is None:
            return lines[0]
        if result.get('timed_out'):
            lines.append(f'  {label:<26} {name:<10} stopped after {result["wall_s"]:.0f} s')
            continue
        lines.append(
            f'  {label:<26} {name:<10} {result["wall_s"]:8.2f} s  peak RSS {result["rss_mb"]:6.0f} MB '
            f'(before: {result["rss_before_mb"]:4.0f} MB)  value {result["value"]:.6e}'
        )
    if reference.get('timed_out'):
        lines.append(f'  {"":<26} time reference / ours > {reference["wall_s"] / ours["wall_s"]:.1f}')
    else:
        lines.append(
            f'  {"":<26} time reference / ours = {reference["wall_s"] / ours["wall_s"]:.1f}, '
            f'value reference / ours - 1 = {reference["value"] / ours["value"] - 1.0:+.1e}'
        )
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run all measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--reference-limit', type=float, default=1800.0, help='seconds allowed to each reference run (default 1800)'
    )
    args = parser.parse_args(argv)
    print(f'glass x = {X}, y = {Y}; V0 = {V0_EV} eV, sigma_eps = {SIGMA_EPS}, seed {SEED}')
    reference = run('delta_c', 100, 'reference', 0.0, args.reference_limit)
    print(row('Delta_c, size 100', run('delta_c', 100, 'ours'), reference), flush=True)
    for size in (35, 100):
        for temperature in (303.0, 563.0):
            ours = run('sigma', size, 'ours', temperature)
            if size == 100 and temperature != 303.0:  # SuperLU's cost does not depend on T: run it once
                print(row(f'sigma_dc, size {size}, {temperature:.0f} K', ours, None), flush=True)
                continue
            reference = run('sigma', size, 'reference', temperature, args.reference_limit)
            print(row(f'sigma_dc, size {size}, {temperature:.0f} K', ours, reference), flush=True)


if __name__ == '__main__':
    main()
