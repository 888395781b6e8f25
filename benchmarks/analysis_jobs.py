"""Benchmark: the structure panel as calcfunctions against the panel as ``boroglass.analysis`` jobs.

Where ``job_threshold_atom_frames`` comes from (docs/structure_panel.md, "Analyses as jobs").
For each size, a K borate glass (the 21-atom quenched fixture of tests/fixtures, replicated
n x n x n, frames jiggled by 0.05 Å) is analysed twice in a throw-away profile: once with
every heavy analysis a calcfunction in this process (threshold above the glass), once with
each a job on the local computer (threshold 0; ``python@localhost``, one core, the
computer's default 10 s poll interval). Printed per size: atoms x frames, the wall time of
each whole panel, and the time of each heavy analysis as a calcfunction (its node's
creation to its last change) and as a job (the same for the CalcJob: upload, queue, run,
retrieve, parse). Run on demand, from the repository root::

    python benchmarks/analysis_jobs.py                      # 168 x 3 and 2625 x 20 atom-frames: ~10 min on 2 cores
    python benchmarks/analysis_jobs.py --sizes 2:3 4:10 5:20
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import ase.io
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from lammps_overhead import setup_profile  # noqa: E402

FIXTURE = Path(__file__).parents[1] / 'tests' / 'fixtures' / 'k_borate_21.extxyz'
#: Call-link labels of the panel's heavy analyses.
HEAVY = ('pair_distributions', 'volumes', 'short_range_order', 'angles')


def glass_trajectory(replicate: int, n_frames: int):
    """TrajectoryData of ``n_frames`` jiggled frames of the K borate fixture replicated ``replicate``^3 times."""
    from aiida import orm

    atoms = ase.io.read(FIXTURE).repeat(replicate)
    rng = np.random.default_rng(0)
    frames = atoms.positions[None] + rng.normal(scale=0.05, size=(n_frames, *atoms.positions.shape))
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(symbols=atoms.get_chemical_symbols(), positions=frames,
                              cells=np.repeat(np.asarray(atoms.cell)[None], n_frames, axis=0), pbc=(True, True, True))
    return trajectory.store()


def analysis_seconds(panel) -> dict[str, float]:
    """Seconds from creation to last change of each heavy analysis the panel called, by call-link label."""
    from aiida import orm
    from aiida.common.links import LinkType

    links = panel.base.links.get_outgoing(node_class=orm.CalculationNode, link_type=LinkType.CALL_CALC).all()
    return {link.link_label: (link.node.mtime - link.node.ctime).total_seconds()
            for link in links if link.link_label in HEAVY}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', nargs='+', default=['2:3', '5:20'],
                        help='REPLICATE:FRAMES pairs (atoms = 21 x REPLICATE^3)')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        computer = setup_profile(Path(folder))
        from aiida import orm
        from aiida.engine import run_get_node

        from aiida_boroglass.calculations.analysis import ensure_python_code
        from aiida_boroglass.workflows.structure_panel import StructurePanelWorkChain

        code = ensure_python_code(computer)
        print(f'{"atoms":>6} {"frames":>6} {"atom-frames":>11} {"route":>12} {"panel s":>8}  ' + '  '.join(
            f'{label:>18}' for label in HEAVY))
        for size in args.sizes:
            replicate, n_frames = (int(part) for part in size.split(':'))
            glass = glass_trajectory(replicate, n_frames)
            inputs = {'glass': glass, 'parameters': orm.Dict({'max_frames': n_frames})}
            routes = {'calcfunction': {'job_threshold_atom_frames': 10**12},
                      'job': {'job_threshold_atom_frames': 0, 'analysis_code': code}}
            for route, extra in routes.items():
                start = time.perf_counter()
                _, panel = run_get_node(StructurePanelWorkChain, **inputs, **extra)
                wall = time.perf_counter() - start
                assert panel.is_finished_ok, panel.exit_message
                seconds = analysis_seconds(panel)
                n_atoms = len(glass.symbols)
                print(f'{n_atoms:>6} {n_frames:>6} {n_atoms * n_frames:>11} {route:>12} {wall:>8.1f}  ' + '  '.join(
                    f'{seconds[label]:>18.1f}' for label in HEAVY), flush=True)


if __name__ == '__main__':
    main()
