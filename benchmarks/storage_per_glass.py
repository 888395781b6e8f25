"""Benchmark: repository bytes of one melt-quenched glass, by node type, per trajectory precision.

Melt-quenches the same 30Li2O-70B2O3 glass (same seeds) with a protocol (``fast`` by default)
once per trajectory precision (``md.trajectory_precision`` float64, then float32) in one
throw-away AiiDA profile, sums the repository objects of every node each glass created by node
class, and prints them with the glass's atoms and trajectory frames (the table of
docs/melt_quench.md, "Repository size per glass"). Then the largest position difference
between the two production trajectories (Å) and the density and N4 of both glasses: the runs
are the same (LAMMPS is deterministic on one process), so the difference is the float32
rounding alone. Run on demand, from the repository root::

    python benchmarks/storage_per_glass.py                    # about 6 min on 2 cores
    python benchmarks/storage_per_glass.py --protocol balanced
"""
from __future__ import annotations

import argparse
import collections
import sys
import tempfile
from pathlib import Path

import numpy as np

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


def bytes_by_class(nodes) -> dict[str, int]:
    """Repository bytes of ``nodes``, summed by node class (classes with none left out)."""
    sizes = collections.Counter()
    for node in nodes:
        sizes[type(node).__name__] += repository_bytes(node)
    return {name: size for name, size in sizes.most_common() if size}


def new_nodes(before: set[int]) -> list:
    """The profile's nodes whose pk is not in ``before``."""
    from aiida import orm

    return [node for node in orm.QueryBuilder().append(orm.Node).all(flat=True) if node.pk not in before]


def make_glass(computer, protocol: str, precision: str):
    """Melt-quench the glass with trajectories stored in ``precision``; (workflow node, the nodes it created)."""
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

    before = set(orm.QueryBuilder().append(orm.Node, project='id').all(flat=True))
    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        orm.load_code(f'lmp@{computer.label}'), COMPOSITION, protocol=protocol,
        overrides={'md': {'trajectory_precision': precision}}, packmol_code=orm.load_code(f'packmol@{computer.label}'))
    _, node = run_get_node(builder)
    return node, new_nodes(before)


def print_glass(node, nodes, protocol: str, precision: str) -> dict[str, int]:
    """Print the glass's atoms, frames and repository bytes by node class; return the bytes by class."""
    from aiida import orm

    frames = sum(n.numsteps for n in nodes if isinstance(n, orm.TrajectoryData))
    sizes = bytes_by_class(nodes)
    print(f'{COMPOSITION}, protocol {protocol}, trajectory_precision {precision}: finished ok '
          f'{node.is_finished_ok}, {len(node.outputs.structure.sites)} atoms, {frames} trajectory frames')
    for name, size in sizes.items():
        print(f'{name:>24}: {size / 1e3:10.1f} kB')
    print(f'{"total":>24}: {sum(sizes.values()) / 1e6:10.2f} MB')
    return sizes


def compare_glasses(double, single) -> None:
    """Print the largest position difference of the production trajectories (Å), density and N4 of both glasses."""
    positions = double.outputs.trajectory.get_positions()
    difference = np.abs(positions - single.outputs.trajectory.get_positions()).max()
    print(f'production trajectory: max |position float64 - float32| = {difference:.2e} Å; float32 rounding bound '
          f'2**-24 max|x| = {np.abs(positions).max() * 2.0**-24:.2e} Å (max|x| {np.abs(positions).max():.1f} Å)')
    for key, value in (('density_g_cm3', lambda n: n.outputs.density_g_cm3.value), ('N4', lambda n: n.outputs.boron['n4'])):
        print(f'{key}: float64 {value(double)!r}, float32 {value(single)!r}, identical {value(double) == value(single)}')


def main(argv: list[str] | None = None) -> dict[str, dict[str, int]]:
    """Make the glass once per trajectory precision; print the repository bytes of each by node class, and compare them."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--protocol', default='fast', choices=('fast', 'balanced', 'stringent'))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='boroglass-storage-') as folder:
        computer = setup_profile(Path(folder))
        from aiida_boroglass.data.trajectory import TRAJECTORY_PRECISIONS

        glasses = {precision: make_glass(computer, args.protocol, precision) for precision in TRAJECTORY_PRECISIONS}
        sizes = {precision: print_glass(*glasses[precision], args.protocol, precision) for precision in TRAJECTORY_PRECISIONS}
        compare_glasses(*(glasses[precision][0] for precision in TRAJECTORY_PRECISIONS))
    return sizes


if __name__ == '__main__':
    main()
