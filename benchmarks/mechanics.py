"""Benchmark: the elastic constants of one glass by the static route against paper 002's NVT route, and the
deformation analysis against naive loops (issue 15, "Speed").

1. **Routes** (this file). One Li borate glass is melt-quenched once (``boroglass.melt_quench``,
   ``fast``, ``--atoms`` atoms, Deng-Du) in a throw-away AiiDA profile (``verdi presto``: SQLite,
   ZeroMQ), then ``boroglass.elastic`` runs on it ``--repeats`` times per route, in this
   interpreter (``run_get_node``), with ``max_concurrent`` 2:

   - ``static`` (protocol ``fast``): 0 K, the box relaxed to zero pressure, 13 cells at
     +-0.01 % relaxed by FIRE; no thermal noise, so its repeats differ only by their wall time;
   - ``nvt`` (protocol ``balanced``, the reference: paper 002's procedure at 300 K with
     +-1 % strains): each repeat draws other velocities (``md.seed`` + 1009 r).

   Printed per route: wall time, summed LAMMPS time of its runs, E and nu (mean, sample std
   over the repeats); then the time ratio nvt / static and the difference of E (GPa and %).
   ``--nvt-scale`` multiplies every NVT duration of ``balanced`` (reference, relaxation,
   average) for a quicker look; the printed header says which.
2. **Analysis** (``benchmarks/deformation_analysis.py``, run after unless ``--no-analysis``):
   local deformation gradients and bond switching of 10,000 atoms x 100 frames against naive
   per-atom loops, with ``--analysis-args`` passed on (e.g. ``"--atoms 2000 --frames 20"``).

Run it on demand (not collected by pytest), from the repository root::

    python benchmarks/mechanics.py                                  # 300 atoms, 2 repeats: about 25 min on 2 cores
    python benchmarks/mechanics.py --atoms 150 --repeats 1 --nvt-scale 0.2 --analysis-args "--atoms 2000 --frames 20"

``boroglass-lmp`` and ``packmol`` are taken from the running Python's environment (then PATH).
"""
from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from lammps_overhead import setup_profile  # noqa: E402

#: The glass: composition and the fast protocol's schedule.
SPEC, X = 'Li2O-B2O3', 0.3
ROUTES = {'static': 'fast', 'nvt': 'balanced'}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--atoms', type=int, default=300, help='atoms of the glass')
    parser.add_argument('--repeats', type=int, default=2, help='elastic runs per route')
    parser.add_argument('--nvt-scale', type=float, default=1.0, help='factor on every NVT duration of balanced')
    parser.add_argument('--no-analysis', action='store_true', help='skip benchmarks/deformation_analysis.py')
    parser.add_argument('--analysis-args', default='', help='arguments for benchmarks/deformation_analysis.py')
    return parser.parse_args(argv)


def make_glass(computer, n_atoms: int):
    """The melt-quenched glass: its finished ``boroglass.melt_quench`` node."""
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_boroglass.data.composition import CompositionData
    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

    code = orm.load_code(f'lmp@{computer.label}')
    builder = MeltQuenchWorkChain.get_builder_from_protocol(code, CompositionData(SPEC, x=X), protocol='fast',
                                                            overrides={'n_atoms': n_atoms})
    node = run_get_node(builder).node
    if not node.is_finished_ok:
        raise RuntimeError(f'the melt-quench failed: {node.exit_status} {node.exit_message}')
    return node


def nvt_overrides(scale: float) -> dict:
    """The ``nvt`` durations of ``balanced`` times ``scale`` (empty for 1)."""
    from aiida_boroglass.workflows.mechanics.elastic import ElasticWorkChain, nvt_settings

    if scale == 1.0:
        return {}
    settings = nvt_settings(ElasticWorkChain.get_protocol_inputs('balanced')['nvt'])
    return {'nvt': {key: settings[key] * scale for key in ('reference_ps', 'relax_ps', 'average_ps')}}


def run_route(computer, glass, route: str, repeat: int, scale: float) -> dict:
    """One ``boroglass.elastic`` run of ``route`` on the glass: wall and LAMMPS time (s), E (GPa), nu."""
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_boroglass.workflows.mechanics.elastic import ElasticWorkChain

    overrides = {'max_concurrent': 2, 'md': {'seed': 5923 + 1009 * repeat}}
    if route == 'nvt':
        overrides.update(nvt_overrides(scale))
    builder = ElasticWorkChain.get_builder_from_protocol(orm.load_code(f'lmp@{computer.label}'),
                                                         [glass.outputs.structure], glass.outputs.forcefield,
                                                         protocol=ROUTES[route], overrides=overrides)
    start = time.perf_counter()
    node = run_get_node(builder).node
    wall = time.perf_counter() - start
    if not node.is_finished_ok:
        raise RuntimeError(f'{route} elastic run failed: {node.exit_status} {node.exit_message}')
    lammps = sum((job.mtime - job.ctime).total_seconds() for job in node.called_descendants
                 if job.process_type == 'aiida.calculations:boroglass.lammps')
    result = node.outputs.elastic.r0
    return {'wall_s': wall, 'lammps_s': lammps, 'e_gpa': result['youngs_modulus_gpa'], 'nu': result['poisson_ratio']}


def spread(values: list[float]) -> str:
    """``mean +- sample std`` (the mean alone for one value)."""
    mean = statistics.fmean(values)
    return f'{mean:.3g} +- {statistics.stdev(values):.2g}' if len(values) > 1 else f'{mean:.3g}'


def print_routes(runs: dict[str, list[dict]], glass, args: argparse.Namespace) -> None:
    """The table of both routes, the time ratio and the difference of E."""
    from aiida_boroglass.glass.composition import Composition

    print(f'\nelastic constants of one {len(glass.outputs.structure.sites)}-atom {Composition.parse(SPEC, x=X).label} '
          f'glass, {args.repeats} '
          f'repeat(s) per route; nvt = balanced' + (f' with NVT durations x {args.nvt_scale:g}'
                                                    if args.nvt_scale != 1.0 else ''))
    print(f'{"route":>7} {"wall s":>14} {"LAMMPS s":>14} {"E (GPa)":>14} {"nu":>16}')
    for route, rows in runs.items():
        print(f'{route:>7} ' + ' '.join(f'{spread([row[key] for row in rows]):>14}'
                                       for key in ('wall_s', 'lammps_s', 'e_gpa')) +
              f' {spread([row["nu"] for row in rows]):>16}')
    mean = {route: {key: statistics.fmean(row[key] for row in rows) for key in rows[0]} for route, rows in runs.items()}
    difference = mean['nvt']['e_gpa'] - mean['static']['e_gpa']
    print(f'wall time nvt / static: {mean["nvt"]["wall_s"] / mean["static"]["wall_s"]:.1f}x; '
          f'E(nvt) - E(static): {difference:+.1f} GPa ({100 * difference / mean["static"]["e_gpa"]:+.0f} %)')


def main(argv: list[str] | None = None) -> dict:
    """Run both parts; return the routes' runs."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='boroglass-mechanics-') as folder:
        computer = setup_profile(Path(folder))
        glass = make_glass(computer, args.atoms)
        runs = {route: [run_route(computer, glass, route, repeat, args.nvt_scale) for repeat in range(args.repeats)]
                for route in ROUTES}
        print_routes(runs, glass, args)
    if not args.no_analysis:
        import deformation_analysis

        print('\nanalysis of a deformation (benchmarks/deformation_analysis.py):')
        deformation_analysis.main(shlex.split(args.analysis_args))
    return runs


if __name__ == '__main__':
    main()
