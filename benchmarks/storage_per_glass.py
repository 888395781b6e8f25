"""Benchmark: repository bytes of one melt-quenched glass, by node type.

Melt-quenches one 30Li2O-70B2O3 glass with a protocol (``fast`` by default) in a throw-away
AiiDA profile, then sums the repository objects of every node of the profile by node class
and prints them with the glass's atoms and trajectory frames (the table of
docs/melt_quench.md, "Repository size per glass"). Run on demand, from the repository root::

    python benchmarks/storage_per_glass.py                    # about 3 min on 2 cores
    python benchmarks/storage_per_glass.py --protocol balanced
"""
from __future__ import annotations

import argparse
import collections
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from lammps_overhead import setup_profile  # noqa: E402

COMPOSITION = '30Li2O-70B2O3'


def repository_bytes(node) -> int:
    """Bytes of every file in ``node``'s repository."""
    total = 0
    for path in node.base.repository.glob():
        try:
            total += len(node.base.repository.get_object_content(path, mode='rb'))
        except IsADirectoryError:
            continue
    return total


def bytes_by_class() -> dict[str, int]:
    """Repository bytes of the profile's nodes, summed by node class (classes with none left out)."""
    from aiida import orm

    sizes = collections.Counter()
    for node in orm.QueryBuilder().append(orm.Node).all(flat=True):
        sizes[type(node).__name__] += repository_bytes(node)
    return {name: size for name, size in sizes.most_common() if size}


def main(argv: list[str] | None = None) -> dict[str, int]:
    """Make the glass and print its repository bytes by node class."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--protocol', default='fast', choices=('fast', 'balanced', 'stringent'))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='boroglass-storage-') as folder:
        computer = setup_profile(Path(folder))
        from aiida import orm
        from aiida.engine import run_get_node

        from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

        builder = MeltQuenchWorkChain.get_builder_from_protocol(
            orm.load_code(f'lmp@{computer.label}'), COMPOSITION, protocol=args.protocol,
            packmol_code=orm.load_code(f'packmol@{computer.label}'))
        _, node = run_get_node(builder)
        frames = sum(trajectory.numsteps for trajectory in orm.QueryBuilder().append(orm.TrajectoryData).all(flat=True))
        sizes = bytes_by_class()
        print(f'{COMPOSITION}, protocol {args.protocol}: finished ok {node.is_finished_ok}, '
              f'{len(node.outputs.structure.sites)} atoms, {frames} trajectory frames')
        for name, size in sizes.items():
            print(f'{name:>20}: {size / 1e3:10.1f} kB')
        print(f'{"total":>20}: {sum(sizes.values()) / 1e6:10.2f} MB')
    return sizes


if __name__ == '__main__':
    main()
