"""Benchmark: does a screening keep its slots busy? Wall time of 8 glasses on 2 slots against the ideal.

One ``boroglass.screening`` of eight glasses (Li, K and mixed-alkali borates, Li and K
borosilicates, so their costs differ), ``max_concurrent`` 2, each LAMMPS job on one core, run in a
throw-away AiiDA profile (SQLite storage, ZeroMQ broker). From the stored nodes:

- each glass's wall time (its melt-quench workflow's creation to its last change);
- **ideal**: the sum of those times / slots, what a perfect packing of these glasses would take;
- **fixed batches**: the wall time the earlier scheduler (launch two, wait for both, launch the
  next two) would take with the same durations, in the same order: the sum over batches of the
  slowest glass of each batch (the reference, computed from this run's durations);
- **measured**: the screening's own wall time, first launch to last glass finished.

Printed: measured / ideal and fixed batches / ideal (1.00 is a perfect packing), and the
spread of the glasses' costs (slowest / fastest). Run on demand, from the repository root::

    python benchmarks/screening_slots.py                  # about 4 min on 2 cores
    python benchmarks/screening_slots.py --repeats 2 --json /tmp/slots.json

Other load on the machine distorts the figures.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from lammps_overhead import setup_profile  # noqa: E402

#: The eight glasses: (key, composition), Li and K borates, borosilicates and a mixed-alkali borate.
GLASSES = (
    ('lb10', '10Li2O-90B2O3'), ('lb40', '40Li2O-60B2O3'), ('kb20', '20K2O-80B2O3'), ('kb35', '35K2O-65B2O3'),
    ('lbs20', '20Li2O-40B2O3-40SiO2'), ('lbs30', '30Li2O-20B2O3-50SiO2'), ('kbs25', '25K2O-50B2O3-25SiO2'),
    ('lkb30', '15Li2O-15K2O-70B2O3'),
)
#: A short melt-quench (ps; K/ps) so the benchmark is about scheduling, not physics.
SCHEDULE = {'push_off_ps': 0.2, 'melt_ps': 1.0, 'cooling_rate_k_ps': 2000.0, 'relax_nvt_ps': 0.5,
            'relax_npt_ps': 0.5, 'production_ps': 0.5, 'dump_every_ps': 0.1}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--slots', type=int, default=2, help='max_concurrent of the screening')
    parser.add_argument('--atoms', type=int, default=150, help='atoms per glass')
    parser.add_argument('--repeats', type=int, default=1, help='screenings run one after the other')
    parser.add_argument('--json', type=Path, default=None, help='also write the figures here')
    return parser.parse_args(argv)


def fixed_batch_wall(durations: list[float], slots: int) -> float:
    """Wall time (s) of launching ``durations`` (s, launch order) ``slots`` at a time, each batch waiting for its slowest."""
    return sum(max(durations[start:start + slots]) for start in range(0, len(durations), slots))


def run_screening(slots: int, atoms: int):
    """Run one screening of :data:`GLASSES` in process, built as ``aiida-boroglass screen`` builds it; return its node."""
    from aiida.engine import run_get_node

    from aiida_boroglass.cli.launcher import screening_builder
    from aiida_boroglass.glass.composition import Composition

    glasses = {key: Composition.parse(spec) for key, spec in GLASSES}
    builder = screening_builder('slots benchmark', glasses, 'fast', {'n_atoms': atoms, 'schedule': SCHEDULE}, slots)
    _, node = run_get_node(builder)
    return node


def figures(node, slots: int) -> dict:
    """Per-glass durations (s, launch order) and the measured, ideal and fixed-batch wall times (s)."""
    from aiida_boroglass.workflows.screening import screening_glasses

    glasses = sorted(screening_glasses(node).values(), key=lambda child: child.ctime)
    durations = [(child.mtime - child.ctime).total_seconds() for child in glasses]
    measured = (max(child.mtime for child in glasses) - glasses[0].ctime).total_seconds()
    return {
        'ok': node.is_finished_ok, 'durations_s': durations, 'measured_s': measured,
        'ideal_s': sum(durations) / slots, 'fixed_batches_s': fixed_batch_wall(durations, slots),
    }


def report(runs: list[dict]) -> str:
    """The table of ratios to the ideal, median over repeats."""
    def median(key):
        return statistics.median(run[key] / run['ideal_s'] for run in runs)

    spread = statistics.median(max(run['durations_s']) / min(run['durations_s']) for run in runs)
    return '\n'.join([
        f'glasses: {len(GLASSES)}, slots: {runs[0]["slots"]}, repeats: {len(runs)}, '
        f'cost spread (slowest / fastest glass): {spread:.2f}',
        f'ideal (sum / slots):           {statistics.median(run["ideal_s"] for run in runs):8.1f} s   1.00',
        f'measured (busy slots):         {statistics.median(run["measured_s"] for run in runs):8.1f} s   '
        f'{median("measured_s"):.2f}',
        f'fixed batches (the reference): {statistics.median(run["fixed_batches_s"] for run in runs):8.1f} s   '
        f'{median("fixed_batches_s"):.2f}',
    ])


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark and print its table."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='boroglass-slots-') as folder:
        setup_profile(Path(folder))
        runs = []
        for repeat in range(args.repeats):
            started = time.perf_counter()
            node = run_screening(args.slots, args.atoms)
            runs.append({**figures(node, args.slots), 'slots': args.slots, 'total_s': time.perf_counter() - started})
            print(f'repeat {repeat}: screening {"ok" if runs[-1]["ok"] else "FAILED"} in {runs[-1]["total_s"]:.0f} s',
                  flush=True)
    print(report(runs))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    return runs


if __name__ == '__main__':
    main()
