"""Benchmark: the medium-range panel (rings, persistent homology, cavities) on one 10,000-atom frame.

Runs the three parts on the same frame in the same process and prints, for each, our time
and every reference measured in the same run, as ``reference / ours`` (above 1: ours is
faster):

- rings up to 12 atoms (primitive = shortest-path rings), against matscipy's
  ``ring_statistics`` on the same former + bridging-O network (goal < 10 s, faster than
  every peer): :mod:`medium_range_rings`;
- the periodic 1-dimensional persistence diagram, against gudhi on a 3 x 3 x 3 supercell
  with open boundaries (goal < 60 s): :mod:`medium_range_homology`;
- domain cavities with a 2 Å cutoff, against a cKDTree query of every voxel and ovito's
  alpha-shape void volume (goal < 30 s): :mod:`medium_range_cavities`.

The frame: the packed random 30Li2O-70B2O3 box of :mod:`structure_panel` (10,000 atoms,
2.1 g/cm^3), or any structure ``--structure`` names (ase reads it). The B-O cutoff of the
ring search is 2.5 Å on the packed box (random packing has few B-O contacts below 2 Å;
2.5 Å gives a mean B coordination near 3) and 2.0 Å on a read structure.

Run it on demand (not collected by pytest), from the repository root::

    pip install -e ".[benchmarks]"      # matscipy, ovito
    python benchmarks/medium_range.py   # about 2 minutes on 2 cores
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from medium_range_cavities import cavities_benchmark  # noqa: E402
from medium_range_homology import homology_benchmark  # noqa: E402
from medium_range_rings import rings_benchmark  # noqa: E402
from structure_panel import packed_box, read_structure  # noqa: E402


def report(section: str, rows: list[dict]) -> list[str]:
    """Lines of one section: time of every row and ``reference / ours`` against the first (ours)."""
    ours = rows[0]['seconds']
    lines = [f'{section}']
    for row in rows:
        ratio = row['seconds'] / ours if ours > 0 else float('nan')
        lines.append(f'  {row["name"]:<58} {row["seconds"]:>9.3f} s   reference / ours = {ratio:6.2f}')
    return lines


def main(argv: list[str] | None = None) -> None:
    """Build or read the frame, run the three benchmarks, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--structure', type=Path, default=None, help='read the frame with ase instead')
    parser.add_argument('--atoms', type=int, default=10_000, help='atoms of the packed box (default: 10000)')
    parser.add_argument('--no-reference-homology', action='store_true', help='skip the slow 27-copy gudhi reference')
    args = parser.parse_args(argv)
    if args.structure is None:
        frame, bo_cutoff = packed_box(args.atoms, 2.1, 1.4, 12345), 2.5
    else:
        frame, bo_cutoff = read_structure(args.structure, None, None, args.atoms), 2.0
    positions, cell, species = frame.positions, frame.cell, frame.species
    print(f'frame: {len(species)} atoms, cell {cell.diagonal().round(2).tolist()} Å; B-O cutoff {bo_cutoff} Å')
    lines = report('rings <= 12 atoms', rings_benchmark(positions, cell, species, {'B': bo_cutoff}))
    lines += report('persistent homology (1-d)',
                    homology_benchmark(positions, cell, species, reference=not args.no_reference_homology))
    lines += report('domain cavities, 2 Å', cavities_benchmark(positions, cell, species))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
