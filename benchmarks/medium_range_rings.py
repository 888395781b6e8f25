"""Benchmark: ring statistics of one ~10,000-atom borate frame, ours against matscipy.

Timed on the same frame, the best of ``repeat`` runs each:

1. **Ours**, from positions to rings: :func:`aiida_boroglass.analysis.rings.frame_rings`
   (the former + bridging-O network, then every ring of <= ``max_atoms`` atoms), once with
   ``kind='primitive'`` and once with ``kind='shortest_path'`` (the two select the same
   rings; see the module docstring of :mod:`aiida_boroglass.analysis.rings`).
2. **matscipy** ``matscipy.rings.ring_statistics`` (Franzblau shortest-path rings, the
   peer of PEERS.md), given exactly our network: an ``ase.Atoms`` of the formers and
   bridging oxygens only, with a per-pair cutoff ``{(former, 'O'): cutoff}`` (no
   former-former or O-O bonds), ``maxlength = max_atoms + 1`` (exclusive). Building that
   input is not timed. matscipy measures network distances on the cell's own graph (an
   ``n x n`` matrix) rather than on the periodic lifted graph, so its counts can differ
   from ours in cells smaller than about twice the largest ring; in a 10,000-atom frame
   they must agree exactly, and the row says whether they do.

Ratios are ``seconds / our primitive seconds`` (> 1: slower than ours). The goal for a
10,000-atom frame with rings up to 12 atoms is < 10 s and faster than matscipy.

The frame is, by default, the randomly packed 30Li2O-70B2O3 box of
``benchmarks/structure_panel.py`` (same builder). A packed box has the atom count and
density of the glass but not its bonds, so its B-O cutoff is a choice: 2.5 Å by default,
which gives a mean B-O coordination of about 3.1 and about 5,000 rings (at 2.0 Å the box
holds under 100 rings). A quenched glass can be given with ``--structure`` (any file
``ase.io.read`` reads; replicated up to ``--atoms``), where the default B-O cutoff is
2.0 Å (:mod:`aiida_boroglass.analysis.cutoffs`).

Run it on demand (not collected by pytest), from the repository root::

    python benchmarks/medium_range_rings.py                         # packed box, 10,000 atoms
    python benchmarks/medium_range_rings.py --structure glass.xyz   # a quenched frame
    python benchmarks/medium_range_rings.py --max-atoms 16 --json /tmp/rings.json

``rings_benchmark`` is what ``benchmarks/medium_range.py`` imports.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from structure_panel import best_of  # noqa: E402  (one timing helper for all benchmarks)

from aiida_boroglass.analysis.rings import frame_rings, network_graph, size_counts

#: Wall time (s) the ring search of a 10,000-atom frame should stay under.
GOAL_S = 10.0


def _summary(counts: np.ndarray) -> str:
    """``'n4:48 n6:12 ...'``: non-zero ring counts by size in atoms (formers + O)."""
    return ' '.join(f'n{size}:{int(c)}' for size, c in enumerate(counts) if c) or 'no rings'


def matscipy_rings(positions, cell, species, cutoffs: Mapping[str, float], max_atoms: int):
    """Callable that runs ``matscipy.rings.ring_statistics`` on our former + BO network.

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
        Largest ring in atoms.

    Returns
    -------
    callable
        No arguments; returns the ring counts, shape (max_atoms + 1,), index = ring size in atoms.
    """
    import ase
    from matscipy.rings import ring_statistics

    species = np.asarray(species).astype(str)
    nodes = network_graph(positions, cell, species, cutoffs).atoms
    atoms = ase.Atoms(symbols=species[nodes].tolist(), positions=np.asarray(positions)[nodes],
                      cell=np.asarray(cell), pbc=True)
    pair_cutoffs = {(former, 'O'): float(value) for former, value in cutoffs.items() if former in set(species[nodes])}

    def run() -> np.ndarray:
        counts = np.asarray(ring_statistics(atoms, pair_cutoffs, maxlength=max_atoms + 1))
        padded = np.zeros(max_atoms + 1, dtype=int)
        padded[:min(counts.size, max_atoms + 1)] = counts[:max_atoms + 1]
        return padded

    return run


def rings_benchmark(
    positions,
    cell,
    species: Sequence[str],
    cutoffs: Mapping[str, float],
    max_atoms: int = 12,
    repeat: int = 3,
) -> list[dict]:
    """Time our ring search (primitive, shortest-path) and matscipy's on one frame.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    cutoffs : Mapping[str, float]
        ``{former element: former-O cutoff in Å}``, e.g. ``{'B': 2.0}``.
    max_atoms : int
        Largest ring in atoms (formers + O), default 12.
    repeat : int
        Runs of each timing; the best counts (default 3).

    Returns
    -------
    list of dict
        One row per method, ours first: ``name``, ``seconds`` (best wall time, s),
        ``ratio`` (``seconds`` / our primitive seconds; > 1 is slower than ours), ``summary``
        (ring counts by size in atoms, e.g. ``'n6:12 n8:172'``), ``counts`` (list, index =
        ring size in atoms), ``n_rings``, ``agrees`` (counts equal to our primitive counts).
        A method that fails gets ``seconds = nan`` and the error in ``summary``.
    """
    rows = []
    reference = None
    methods = [
        (f'ours primitive rings <= {max_atoms} atoms',
         lambda: size_counts(frame_rings(positions, cell, species, cutoffs, max_atoms, 'primitive'), 'atoms')),
        (f'ours shortest-path rings <= {max_atoms} atoms',
         lambda: size_counts(frame_rings(positions, cell, species, cutoffs, max_atoms, 'shortest_path'), 'atoms')),
    ]
    try:
        methods.append((f'matscipy {_matscipy_version()} ring_statistics, former+BO network',
                        matscipy_rings(positions, cell, species, cutoffs, max_atoms)))
    except ImportError as error:
        rows.append(_failed_row('matscipy ring_statistics', error))
    for name, function in methods:
        try:
            seconds, counts = best_of(function, repeat)
        except Exception as error:  # a peer that breaks on this frame is reported, not fatal
            rows.append(_failed_row(name, error))
            continue
        counts = np.asarray(counts, dtype=int)
        if reference is None:
            reference = (seconds, counts)
        rows.append({
            'name': name,
            'seconds': float(seconds),
            'ratio': float(seconds / reference[0]),
            'summary': _summary(counts),
            'counts': counts.tolist(),
            'n_rings': int(counts.sum()),
            'agrees': bool(np.array_equal(counts, reference[1])),
        })
    order = {name: k for k, (name, _) in enumerate(methods)}
    return sorted(rows, key=lambda row: order.get(row['name'], len(order)))


def _failed_row(name: str, error: BaseException) -> dict:
    """A result row for a method that could not run."""
    return {'name': name, 'seconds': float('nan'), 'ratio': float('nan'),
            'summary': f'failed: {type(error).__name__}: {error}', 'counts': [], 'n_rings': 0, 'agrees': False}


def _matscipy_version() -> str:
    """Installed matscipy version (raises ImportError without matscipy)."""
    import matscipy

    return matscipy.__version__


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--atoms', type=int, default=10_000,
                        help='atoms of the packed box, or the least a replicated --structure has (default: 10000)')
    parser.add_argument('--density', type=float, default=2.1, help='g/cm^3 of the packed box (default: 2.1)')
    parser.add_argument('--min-distance', type=float, default=1.4,
                        help='Å, closest approach of two atoms in the packed box (default: 1.4)')
    parser.add_argument('--seed', type=int, default=12345, help='random seed of the packed box (default: 12345)')
    parser.add_argument('--structure', type=Path, default=None,
                        help='read the frame from this file with ase instead of packing a box')
    parser.add_argument('--format', default=None, help="ase format of --structure (default: guessed)")
    parser.add_argument('--replicate', type=int, nargs=3, metavar=('NX', 'NY', 'NZ'), default=None,
                        help='repeat --structure this often along each cell vector (default: n x n x n to >= --atoms)')
    parser.add_argument('--bo-cutoff', type=float, default=None,
                        help='B-O bond cutoff, Å (default: 2.5 for the packed box, 2.0 for --structure)')
    parser.add_argument('--max-atoms', type=int, default=12, help='largest ring in atoms, formers + O (default: 12)')
    parser.add_argument('--repeat', type=int, default=3, help='runs of every timing; the best counts (default: 3)')
    parser.add_argument('--json', type=Path, default=None, help='also write the rows to this JSON file')
    args = parser.parse_args(argv)
    for name in ('atoms', 'repeat', 'max_atoms'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got {getattr(args, name)}')
    if args.bo_cutoff is not None and not args.bo_cutoff > 0:
        parser.error(f'--bo-cutoff must be > 0, got {args.bo_cutoff}')
    return args


def load_frame(args: argparse.Namespace):
    """The packed box or the ``--structure`` frame, built with ``benchmarks/structure_panel.py``'s helpers."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from structure_panel import packed_box, read_structure

    if args.structure is None:
        return packed_box(args.atoms, args.density, args.min_distance, args.seed)
    return read_structure(args.structure, args.format, args.replicate, args.atoms)


def report(frame, cutoffs: Mapping[str, float], rows: list[dict], repeat: int) -> str:
    """Return the table of ``rows`` as text."""
    elements, counts = np.unique(frame.species, return_counts=True)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    lines = [
        f'frame: {frame.label}',
        f'{len(frame.species)} atoms {dict(zip(elements.tolist(), counts.tolist()))}; cutoffs (Å) {dict(cutoffs)}; '
        f'best of {repeat}; {cores} cores',
        '',
        f'{"method":<56}{"best (s)":>10}{"ratio":>8}  {"agrees":<7} rings by size (atoms)',
    ]
    for row in rows:
        lines.append(f'{row["name"]:<56}{row["seconds"]:>10.3f}{row["ratio"]:>8.2f}  {str(row["agrees"]):<7} '
                     f'{row["summary"]}')
    ours = rows[0]['seconds']
    lines.append(f'{"goal":<56}{"< " + format(GOAL_S, "g"):>10}{"":>8}  '
                 f'{"met" if ours < GOAL_S and all(r["seconds"] >= ours for r in rows[2:]) else "MISSED"}'
                 ' (and faster than matscipy)')
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    """Build or read the frame, run :func:`rings_benchmark`, print the table; return the rows."""
    args = parse_args(argv)
    frame = load_frame(args)
    cutoff = args.bo_cutoff if args.bo_cutoff is not None else (2.5 if args.structure is None else 2.0)
    cutoffs = {'B': cutoff}
    for former, default in (('P', 2.0), ('Si', 2.2), ('Al', 2.2)):
        if former in set(frame.species.tolist()):
            cutoffs[former] = default
    rows = rings_benchmark(frame.positions, frame.cell, frame.species, cutoffs, args.max_atoms, args.repeat)
    print(report(frame, cutoffs, rows, args.repeat))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({'frame': frame.label, 'cutoffs': cutoffs, 'rows': rows}, indent=2) + '\n')
    return rows


if __name__ == '__main__':
    main()
