"""Benchmark: persistent homology (1-d weighted alpha persistence diagram + APF) of one glass frame.

Every number comes from the same run on the same machine:

1. **Ours**: :func:`aiida_boroglass.analysis.homology.persistence_diagram`, the exact periodic
   (3-torus) weighted alpha filtration built from the atoms plus an image shell of
   ``2 sqrt(alpha_max + r_max^2)`` around the cell, made complete (every loop that can die,
   dies), then :func:`~aiida_boroglass.analysis.homology.accumulated_persistence`. Timed: the
   whole diagram, image shell, triangulation and persistence included (best of ``repeat``).
2. **Reference**: plain gudhi on the naive 3x3x3 supercell (27 copies of the frame, open
   boundary, no quotient), computed once (it is 27 times the atoms):

   - *all pairs / 27*: its whole 1-d diagram with every count divided by 27 (the open surface
     of the 27-copy cluster adds loops of its own);
   - *central-cell pairs*: the pairs whose birth edge is anchored in the central copy (its
     vertex of smallest atom index lies there), the copy farthest from the open surface:
     per cell, and local loops as in the bulk. Its time includes gudhi's
     ``persistence_pairs`` (a Python list of every pair of every dimension).

   Printed per row: best wall time, ``ratio`` = ours / reference time (< 1: ours is faster),
   the number of finite 1-d pairs, the total persistence ``sum(d - b)`` (Å^2, the APF at its
   plateau), the APF at a few ``t`` (Å^2), and for the references the largest difference of
   their APF from ours, relative to our total persistence.

The frame of ``__main__`` is the packed random 30Li2O-70B2O3 box of
``benchmarks/structure_panel.py`` (10,000 atoms, 2.1 g/cm^3, closest approach 1.4 Å): the
atom count and density of the glass, not its bonds, so the diagram is that of a random
packing. Goal: ours < 60 s per 10,000-atom frame on 2 cores.

Run it on demand (not collected by pytest), from the repository root::

    python benchmarks/medium_range_homology.py                   # ~10,000 atoms, ~2 min, ~4 GB (reference)
    python benchmarks/medium_range_homology.py --atoms 3000 --repeat 2
    python benchmarks/medium_range_homology.py --no-reference

:func:`homology_benchmark` is what ``benchmarks/medium_range.py`` imports.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import gudhi
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from structure_panel import best_of  # noqa: E402  (one timing helper for all benchmarks)

from aiida_boroglass.analysis.homology import (
    HOMOLOGY_FIELD,
    MIN_PERSISTENCE,
    accumulated_persistence,
    atomic_radii,
    persistence_diagram,
)
from aiida_boroglass.analysis.neighbors import as_cell, as_positions, as_species, wrap_positions

#: Wall time (s) our diagram of one 10,000-atom frame should stay under.
GOAL_S = 60.0
#: Mean ages t (Å^2) at which the APF is printed.
APF_T_A2 = (0.0, 1.0, 2.0, 4.0)
#: Grid (Å^2) on which the APF of ours and of the references are compared.
APF_GRID_A2 = np.linspace(-3.0, 20.0, 2301)
#: The reference is skipped above this many atoms (27 copies of them are triangulated).
REFERENCE_MAX_ATOMS = 15_000


def diagram_values(diagram: np.ndarray, per: float = 1.0) -> dict:
    """Summary of a 1-d diagram (Å^2), every extensive number divided by ``per`` (copies of the cell)."""
    finite = diagram[np.isfinite(diagram[:, 1])]
    apf = accumulated_persistence(finite, APF_T_A2) / per
    return {
        'n_pairs': len(finite) / per,
        'total_persistence_a2': float(np.sum(finite[:, 1] - finite[:, 0])) / per,
        'max_death_a2': float(finite[:, 1].max()) if len(finite) else float('nan'),
        **{f'apf_{t:g}_a2': float(v) for t, v in zip(APF_T_A2, apf)},
    }


def supercell_reference(positions, cell, species) -> dict:
    """gudhi on the 3x3x3 supercell (open boundary): the diagram of all pairs and of the central copy's.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols (default radii of :mod:`aiida_boroglass.analysis.homology`).

    Returns
    -------
    dict
        ``all_s``, ``all`` (n, 2) Å^2 — time and 1-d diagram of the whole cluster;
        ``central_s``, ``central`` (m, 2) Å^2 — time (``all_s`` plus the pair extraction)
        and the pairs born on an edge anchored in the central copy.
    """
    pos = wrap_positions(positions, cell)
    cell_arr = as_cell(cell)
    n_atoms = pos.shape[0]
    shifts = np.array(list(np.ndindex(3, 3, 3)), dtype=float) - 1.0
    central_copy = int(np.flatnonzero(~shifts.any(axis=1))[0])
    points = (pos[np.newaxis] + (shifts @ cell_arr)[:, np.newaxis]).reshape(-1, 3)
    weights = np.tile(atomic_radii(as_species(species, n_atoms)) ** 2, 27)
    start = time.perf_counter()
    tree = gudhi.AlphaComplex(points=points, weights=weights).create_simplex_tree()
    tree.compute_persistence(homology_coeff_field=HOMOLOGY_FIELD, min_persistence=MIN_PERSISTENCE)
    everything = np.asarray(tree.persistence_intervals_in_dimension(1), dtype=float).reshape(-1, 2)
    all_s = time.perf_counter() - start
    central = []
    for birth, death in tree.persistence_pairs():
        if len(birth) != 2:
            continue
        vertices = np.asarray(birth)
        anchor = vertices[np.argmin(vertices % n_atoms)]
        if anchor // n_atoms != central_copy:
            continue
        b = tree.filtration(birth)
        d = tree.filtration(death) if death else np.inf
        if d - b > MIN_PERSISTENCE:
            central.append((b, d))
    central_s = time.perf_counter() - start
    return {'all_s': all_s, 'all': everything, 'central_s': central_s,
            'central': np.array(central, dtype=float).reshape(-1, 2)}


def homology_benchmark(
    positions,
    cell,
    species: Sequence[str],
    repeat: int = 1,
    reference: bool = True,
    reference_max_atoms: int = REFERENCE_MAX_ATOMS,
) -> list[dict]:
    """Time our 1-d persistence diagram of one frame against plain gudhi on the 3x3x3 supercell.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows (periodic frame).
    species : sequence of str, shape (n_atoms,)
        Element symbols (default ball radii).
    repeat : int
        Runs of ours; the best time counts (the reference runs once).
    reference : bool
        Run the reference at all.
    reference_max_atoms : int
        Skip the reference above this many atoms (it triangulates 27 times as many).

    Returns
    -------
    list of dict
        One row per method: ``name``; ``seconds`` (wall time, s); ``ratio`` (ours / this
        row's time; 1.0 for ours); ``values`` (dict: ``n_pairs``, ``total_persistence_a2``,
        ``max_death_a2``, ``apf_<t>_a2`` per cell; the references add
        ``max_apf_difference_rel``, max over t of |APF_ref - APF_ours| / ours' total
        persistence). Peak memory of the process is in ``values['peak_rss_mib']`` of the
        last row.
    """
    pos = as_positions(positions)
    cell_arr = as_cell(cell)
    ours_s, ours = best_of(lambda: persistence_diagram(pos, cell_arr, species), repeat)
    rows = [{'name': 'ours: periodic weighted alpha (image shell, torus)', 'seconds': ours_s, 'ratio': 1.0,
             'values': diagram_values(ours)}]
    ours_apf = accumulated_persistence(ours, APF_GRID_A2)
    total = max(float(ours_apf[-1]), np.finfo(float).tiny)
    if reference and pos.shape[0] <= reference_max_atoms:
        ref = supercell_reference(pos, cell_arr, species)
        for name, key, seconds, per in (
            ('gudhi 3x3x3 supercell: all pairs / 27', 'all', ref['all_s'], 27.0),
            ('gudhi 3x3x3 supercell: central-cell pairs', 'central', ref['central_s'], 1.0),
        ):
            values = diagram_values(ref[key], per)
            apf = accumulated_persistence(ref[key], APF_GRID_A2) / per
            values['max_apf_difference_rel'] = float(np.max(np.abs(apf - ours_apf)) / total)
            rows.append({'name': name, 'seconds': seconds, 'ratio': ours_s / seconds, 'values': values})
    rows[-1]['values']['peak_rss_mib'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return rows


def report(rows: list[dict], n_atoms: int) -> str:
    """The rows as a text table."""
    apf_keys = [f'apf_{t:g}_a2' for t in APF_T_A2]
    header = (f'{"method":<52}{"best (s)":>10}{"ours/ref":>10}{"pairs":>10}{"sum(d-b)":>11}'
              + ''.join(f'{"APF(" + format(t, "g") + ")":>10}' for t in APF_T_A2) + f'{"max dAPF":>10}')
    lines = [header]
    for row in rows:
        v = row['values']
        lines.append(
            f'{row["name"]:<52}{row["seconds"]:>10.2f}{row["ratio"]:>10.3f}{v["n_pairs"]:>10.1f}'
            f'{v["total_persistence_a2"]:>11.1f}' + ''.join(f'{v[k]:>10.1f}' for k in apf_keys)
            + (f'{v["max_apf_difference_rel"]:>10.4f}' if 'max_apf_difference_rel' in v else f'{"":>10}')
        )
    ours_s = rows[0]['seconds']
    lines += ['', f'goal: ours < {GOAL_S:g} s per 10,000-atom frame: {ours_s:.2f} s for {n_atoms} atoms '
              f'({"met" if ours_s * 10_000 / n_atoms < GOAL_S else "MISSED"}, scaled linearly)',
              'APF and sums in Å^2 per cell; max dAPF: max_t |APF_ref - APF_ours| / sum(d-b) of ours',
              f'peak memory (maxrss): {rows[-1]["values"]["peak_rss_mib"]:.0f} MiB']
    return '\n'.join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--atoms', type=int, default=10_000, help='atoms of the packed box (default: 10000)')
    parser.add_argument('--density', type=float, default=2.1, help='g/cm^3 of the packed box (default: 2.1)')
    parser.add_argument('--min-distance', type=float, default=1.4, help='Å, closest approach (default: 1.4)')
    parser.add_argument('--seed', type=int, default=12345, help='random seed of the packed box (default: 12345)')
    parser.add_argument('--repeat', type=int, default=1, help='runs of ours; the best counts (default: 1)')
    parser.add_argument('--no-reference', action='store_true', help='skip the 3x3x3 supercell reference')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict]:
    """Build the packed box, run the benchmark, print the table; return the rows."""
    args = parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from structure_panel import packed_box

    frame = packed_box(args.atoms, args.density, args.min_distance, args.seed)
    n_atoms = len(frame.species)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    print(f'frame: {frame.label}; {n_atoms} atoms, cell {np.round(np.diag(frame.cell), 3).tolist()} Å; '
          f'{cores} cores; gudhi {gudhi.__version__}, numpy {np.__version__}')
    rows = homology_benchmark(frame.positions, frame.cell, frame.species, repeat=args.repeat,
                              reference=not args.no_reference)
    print(report(rows, n_atoms))
    return rows


if __name__ == '__main__':
    main()
