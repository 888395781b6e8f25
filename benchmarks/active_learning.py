"""Benchmark: labels the concurrent-learning loop needs for a force RMSE, our spread selection against DP-GEN's.

``ActiveLearningWorkChain`` (``boroglass.active_learning``, protocol ``fast``) runs on the
21-atom K borate glass of ``tests/fixtures/k_borate_21.extxyz`` in a throw-away AiiDA profile
(SQLite storage, ZeroMQ broker), in this interpreter (``run_get_node``), with the Deng-Du force
field as an exact oracle (labelling engine ``classical``: LAMMPS single points). What is compared:

0. **Data** (once, not compared). A classical NVT run of the glass at 600 K dumps a frame every
   100 steps; frames 1 to ``--frames`` are labelled by the oracle (``DftLabelWorkChain``,
   engine ``classical``) and become the initial dataset (``dataset_from_labels``, 30 % of the
   frames for validation: the fixed held-out set of every loop). This is the ``initial_dataset``
   fixture of ``tests/workflows/learning/test_active_learning.py``.
1. **Labels for a force RMSE.** Per repeat ``r``, the loop runs once per selection method:
   ``spread`` (ours: farthest-point sampling of the candidates in a pair-distance fingerprint
   space) and ``first`` (the reference: the first ``max_labels`` candidates in frame order,
   DP-GEN's default). Both use the test's loop settings (:data:`LOOP`: two fast models, DeePMD
   explorations of 300 NVT steps at 300 and 600 K with the model deviation every 10 steps, trust
   levels 0.6/4.0 eV/Å) except ``selection``, ``max_iterations`` = ``--iterations``,
   ``max_labels`` = ``--max-labels``, ``trust_lo_ev_a`` = ``--trust-lo``, ``accurate_target``
   = 1.0 and ``converged_iterations`` = ``--iterations`` + 1, so that the loop runs all its
   iterations (it then stops with exit status 401,
   ``ERROR_NOT_CONVERGED``, its report attached: expected). Both methods of a repeat share the
   exploration seed (1000 + 10 r) and the training seed (1 + 100 r): their first iterations are
   the same. For every iteration the report gives the validation force RMSE on the held-out
   frames (mean over the models, eV/Å) and the labels added before its training (its
   ``dataset_frames`` minus the initial frames). The target RMSE is ``--target``, else the mean
   final-iteration RMSE of the ``first`` runs; the labels a run needed are those before the
   first iteration whose RMSE is at or below the target (``>N`` when none is). Printed: every
   run's table, and labels(spread) / labels(first) per repeat and as mean and spread
   (max - min) over the repeats (goal: below 1, fewer labels for the same RMSE).
2. **AiiDA bookkeeping.** Per method, the means over every iteration of the report's wall times
   (s): training, exploration, selection (the ``select_frames`` calcfunction), labelling, the
   iteration's wall (creation of the training to the end of its last step) and its
   bookkeeping (the iteration's wall not spent in its steps), the bookkeeping's share of the
   iteration's wall, and the loop's wall outside its iterations (start, ``extend_dataset``,
   the report) per iteration.

Run it on demand (not collected by pytest), from the repository root::

    python benchmarks/active_learning.py           # 30 frames, 5 iterations, 6 labels, 2 repeats
    python benchmarks/active_learning.py --quick   # 20 frames, 3 iterations, 4 labels, 1 repeat: 12 min, 2 busy cores
    python benchmarks/active_learning.py --repeats 3 --target 0.25 --json /tmp/active_learning.json

``boroglass-lmp``, ``packmol`` and ``dp`` are taken from the running Python's environment (then
PATH). Everything (AiiDA configuration, profile, job folders) lives in one temporary folder that
is removed at the end. A DeePMD model of 1500 steps on a few tens of frames is noisy: one
repeat says little; the ratio of a single repeat can swing either way.
"""
from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

#: This script's folder; it leaves ``sys.path`` once ``lammps_overhead`` is imported (its
#: neighbours, e.g. ``deepmd.py``, would shadow packages of the same name).
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from lammps_overhead import setup_profile  # noqa: E402

sys.path[:] = [entry for entry in sys.path if Path(entry or '.').resolve() != HERE]

#: The glass every exploration starts from (via the initial dataset's last frame).
GLASS = HERE.parent / 'tests' / 'fixtures' / 'k_borate_21.extxyz'
#: Scheduler options of every LAMMPS job and single point: one process, no MPI.
SERIAL = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, 'withmpi': False,
          'max_wallclock_seconds': 900}
#: The oracle: the Deng-Du force field in LAMMPS.
ORACLE = {'engine': 'classical', 'dft': {'forcefield': 'deng_du'}, 'max_concurrent': 2, 'options': SERIAL}
#: Loop settings of ``tests/workflows/learning/test_active_learning.py`` (over protocol ``fast``);
#: :func:`loop_overrides` replaces the selection, limits, trust level, target and seeds.
LOOP = {
    'learning': {'trust_lo_ev_a': 0.6, 'trust_hi_ev_a': 4.0, 'max_labels': 6, 'accurate_target': 0.9,
                 'converged_iterations': 2, 'max_iterations': 6},
    'exploration': {'deviation_every': 10, 'conditions': [
        {'name': 'glass_300k', 'type': 'nvt', 'temperature_k': 300.0, 'steps': 300},
        {'name': 'warm_600k', 'type': 'nvt', 'temperature_k': 600.0, 'steps': 300}]},
    'training': {'models': 2},
    'labelling': ORACLE,
    'lammps_options': SERIAL,
}
#: Protocol of the loop, its training and its labels.
PROTOCOL = 'fast'
#: Selection methods compared; the last is the reference (DP-GEN's default).
METHODS = ('spread', 'first')
REFERENCE = 'first'
#: Temperature (K) and dump interval (steps) of the classical run of the initial frames.
INITIAL_TEMPERATURE_K = 600.0
INITIAL_DUMP_EVERY = 100
#: Train/validation split of the initial dataset; its validation frames stay the held-out set.
SPLIT = {'validation_fraction': 0.3, 'seed': 0}
#: Exit status of a loop that ran all its iterations without converging (its report attached).
NOT_CONVERGED = 401
#: Wall-time columns of the learning report, s, in the order printed.
TIMES = ('train_s', 'explore_s', 'select_s', 'label_s', 'bookkeeping_s', 'iteration_s')
#: Sizes of a run, by ``--quick``.
SIZES = {False: {'iterations': 5, 'max_labels': 6, 'frames': 30, 'repeats': 2},
         True: {'iterations': 3, 'max_labels': 4, 'frames': 20, 'repeats': 1}}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    argparse.Namespace
        ``iterations``, ``max_labels``, ``frames``, ``repeats``, ``trust_lo``, ``target`` (None:
        from the ``first`` runs), ``quick``, ``json``; sizes not given take the values of :data:`SIZES`.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--iterations', type=int, help='iterations of every loop (default: 5; --quick: 3)')
    parser.add_argument('--max-labels', type=int, help='labels per iteration, at most (default: 6; --quick: 4)')
    parser.add_argument('--frames', type=int, help='oracle-labelled initial frames, 30 %% of them held out '
                                                   '(default: 30; --quick: 20)')
    parser.add_argument('--repeats', type=int, help='pairs of loops, one per method (default: 2; --quick: 1)')
    parser.add_argument('--trust-lo', type=float, default=LOOP['learning']['trust_lo_ev_a'],
                        help=f'lower trust level, eV/Å (default: {LOOP["learning"]["trust_lo_ev_a"]}, the test\'s)')
    parser.add_argument('--target', type=float, default=None,
                        help="target validation force RMSE, eV/Å (default: the mean final RMSE of the 'first' runs)")
    parser.add_argument('--quick', action='store_true', help='smaller default sizes (see above)')
    parser.add_argument('--json', type=Path, default=None, help='also write the numbers to this JSON file')
    args = parser.parse_args(argv)
    for key, value in SIZES[args.quick].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for key in ('iterations', 'max_labels', 'repeats'):
        if getattr(args, key) < 1:
            parser.error(f'--{key.replace("_", "-")} must be >= 1, got {getattr(args, key)}')
    if args.iterations < 2:
        parser.error(f'--iterations must be >= 2 (the last iteration labels nothing), got {args.iterations}')
    if args.frames < 4:
        parser.error(f'--frames must be >= 4 (30 % of them validate), got {args.frames}')
    if not 0 <= args.trust_lo < LOOP['learning']['trust_hi_ev_a']:
        parser.error(f'--trust-lo must be in [0, {LOOP["learning"]["trust_hi_ev_a"]}), got {args.trust_lo}')
    if args.target is not None and not args.target > 0:
        parser.error(f'--target must be > 0, got {args.target}')
    return args


def setup_codes(root: Path) -> dict:
    """Create the throw-away profile under ``root``; return the ``lmp`` and ``dp`` codes of the local computer.

    Raises
    ------
    RuntimeError
        Naming the engines not found.
    """
    computer = setup_profile(root)
    from aiida import orm

    from aiida_boroglass.cli.setup import ensure_codes

    if 'dp' not in ensure_codes(computer):
        raise RuntimeError("engines not found: ['dp'] (install the package's DeePMD-kit extra)")
    return {label: orm.load_code(f'{label}@{computer.label}') for label in ('lmp', 'dp')}


def finished(node, allowed: tuple[int, ...] = (0,)):
    """Return ``node`` if its process finished with an exit status in ``allowed``.

    Raises
    ------
    RuntimeError
        Naming the process, its pk, exit status and message.
    """
    if not node.is_finished or node.exit_status not in allowed:
        state = getattr(node.process_state, 'value', node.process_state)
        raise RuntimeError(f'{node.process_label}<{node.pk}> failed: state {state}, exit status '
                           f'{node.exit_status}, {node.exit_message}')
    return node


def initial_dataset(code, n_frames: int):
    """Label ``n_frames`` frames of a classical NVT run of the glass at 600 K with the oracle.

    Parameters
    ----------
    code : aiida.orm.AbstractCode
        LAMMPS.
    n_frames : int
        Frames: those dumped after 1, 2, ..., ``n_frames`` times :data:`INITIAL_DUMP_EVERY` steps.

    Returns
    -------
    LabelledDatasetData
        Energies (eV) and forces (eV/Å) of every frame; :data:`SPLIT` of them validate.
    """
    import ase.io
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_boroglass.calculations.lammps import BoroglassLammpsCalculation
    from aiida_boroglass.functions.datasets import dataset_from_labels
    from aiida_boroglass.functions.utils import site_symbols
    from aiida_boroglass.workflows.ab_initio.classical_labeller import frame_forcefield
    from aiida_boroglass.workflows.ab_initio.dft_label import DftLabelWorkChain

    structure = orm.StructureData(ase=ase.io.read(GLASS))
    builder = BoroglassLammpsCalculation.get_builder()
    builder.code = code
    builder.structure = structure
    builder.forcefield = orm.Dict(frame_forcefield(site_symbols(structure), 'deng_du'))
    builder.parameters = orm.Dict({'stages': [
        {'name': 'warm', 'type': 'nvt', 'temperature_k': INITIAL_TEMPERATURE_K,
         'steps': INITIAL_DUMP_EVERY * n_frames, 'dump_every': INITIAL_DUMP_EVERY}]})
    builder.metadata.options = SERIAL
    run = finished(run_get_node(builder).node)
    labels = DftLabelWorkChain.get_builder()
    labels.trajectory = run.outputs.trajectory
    labels.frames = list(range(1, n_frames + 1))
    for key, value in ORACLE.items():
        setattr(labels, key, value)
    labels.code = code
    frames = finished(run_get_node(labels).node).outputs.dataset
    return finished(dataset_from_labels.run_get_node(orm.Dict(SPLIT), frames=frames)[1]).outputs.result


def loop_overrides(args: argparse.Namespace, method: str, repeat: int) -> dict:
    """Protocol overrides of one loop: :data:`LOOP` with the method, the limits, the trust level and the seeds.

    Parameters
    ----------
    args : argparse.Namespace
        ``iterations``, ``max_labels``, ``trust_lo``.
    method : str
        ``learning.selection``.
    repeat : int
        Repeat (from 0): exploration seed 1000 + 10 repeat, training seed 1 + 100 repeat.
    """
    overrides = copy.deepcopy(LOOP)
    overrides['learning'].update(selection=method, accurate_target=1.0, trust_lo_ev_a=args.trust_lo,
                                 max_iterations=args.iterations, max_labels=args.max_labels,
                                 converged_iterations=args.iterations + 1)
    overrides['exploration']['seed'] = 1000 + 10 * repeat
    overrides['training']['seed'] = 1 + 100 * repeat
    return overrides


def run_loop(codes: dict, dataset, overrides: dict) -> dict:
    """Run one loop in this interpreter; return its numbers.

    Parameters
    ----------
    codes : dict
        ``lmp`` (explorations and the oracle) and ``dp``.
    dataset : LabelledDatasetData
        The initial dataset.
    overrides : dict
        From :func:`loop_overrides`.

    Returns
    -------
    dict
        ``pk``, ``exit_status`` (0 or :data:`NOT_CONVERGED`), ``wall_s`` (of ``run_get_node``, s)
        and ``iterations``: the rows of the loop's report, each with ``labels`` (labels added
        before its training) and ``force_rmse_ev_a`` (validation force RMSE, mean over the models, eV/Å).

    Raises
    ------
    RuntimeError
        If the loop failed otherwise, or its report has no iteration with a validation RMSE.
    """
    from aiida.engine import run_get_node

    from aiida_boroglass.workflows.learning.active_learning import ActiveLearningWorkChain

    builder = ActiveLearningWorkChain.get_builder_from_protocol(codes['lmp'], codes['dp'], codes['lmp'], dataset,
                                                                protocol=PROTOCOL, overrides=overrides)
    start = time.perf_counter()
    node = run_get_node(builder).node
    wall_s = time.perf_counter() - start
    finished(node, (0, NOT_CONVERGED))
    if 'report' not in node.outputs:
        raise RuntimeError(f'{node.process_label}<{node.pk}> finished with exit status {node.exit_status} '
                           'but has no report output')
    rows = [{**row, 'labels': row['dataset_frames'] - dataset.n_frames, 'force_rmse_ev_a': row['force_rmse_ev_a_mean']}
            for row in node.outputs.report['iterations']]
    if not rows or any(row['force_rmse_ev_a'] is None for row in rows):
        raise RuntimeError(f'{node.process_label}<{node.pk}>: an iteration of its report has no validation force '
                           f'RMSE: {[row["force_rmse_ev_a"] for row in rows]}')
    return {'pk': node.pk, 'exit_status': node.exit_status, 'wall_s': wall_s, 'iterations': rows}


def labels_needed(run: dict, target: float) -> int | None:
    """Labels added before the first iteration of ``run`` whose validation force RMSE is <= ``target`` (None: never)."""
    return next((row['labels'] for row in run['iterations'] if row['force_rmse_ev_a'] <= target), None)


def mean_and_spread(values: list[float]) -> dict[str, float] | None:
    """``mean`` and ``spread`` (max - min) of ``values`` (same units); None when empty."""
    if not values:
        return None
    return {'mean': statistics.fmean(values), 'spread': max(values) - min(values)}


def compare_labels(repeats: list[dict], target: float) -> list[dict]:
    """Labels needed per method and their ratio, per repeat.

    Parameters
    ----------
    repeats : list of dict
        Per repeat, a run (:func:`run_loop`) per method of :data:`METHODS`.
    target : float
        Validation force RMSE, eV/Å.

    Returns
    -------
    list of dict
        Per repeat: ``labels`` (per method, None when never reached), ``labels_total`` (per
        method, labels before the last iteration), ``ratio`` (spread / first; None when
        undefined) and ``ratio_lower_bound`` (when only ``first`` reached the target: the
        spread run's total labels / first's, a bound from below).
    """
    rows = []
    for runs in repeats:
        needed = {method: labels_needed(runs[method], target) for method in METHODS}
        total = {method: runs[method]['iterations'][-1]['labels'] for method in METHODS}
        ours, reference = needed['spread'], needed[REFERENCE]
        ratio = ours / reference if ours is not None and reference else None
        bound = total['spread'] / reference if ours is None and reference else None
        rows.append({'labels': needed, 'labels_total': total, 'ratio': ratio, 'ratio_lower_bound': bound})
    return rows


def bookkeeping(repeats: list[dict]) -> dict:
    """Mean wall times per iteration (s) of every method over its loops.

    Returns
    -------
    dict
        Per method: the mean of every column of :data:`TIMES` over all iterations of all its
        loops, ``bookkeeping_share`` (summed bookkeeping / summed iteration wall) and
        ``outside_iterations_s`` (the loops' wall not in an iteration, per iteration).
    """
    result = {}
    for method in METHODS:
        rows = [row for runs in repeats for row in runs[method]['iterations']]
        means = {key: statistics.fmean(row[key] for row in rows) for key in TIMES}
        iteration_s = sum(row['iteration_s'] for row in rows)
        outside = sum(runs[method]['wall_s'] for runs in repeats) - iteration_s
        result[method] = {**means, 'bookkeeping_share': sum(row['bookkeeping_s'] for row in rows) / iteration_s
                          if iteration_s else None, 'outside_iterations_s': outside / len(rows)}
    return result


def benchmark(args: argparse.Namespace, root: Path) -> dict:
    """Build the initial dataset, run every loop under ``root``; return the numbers (frames, eV/Å, s, ratios)."""
    codes = setup_codes(root)
    start = time.perf_counter()
    dataset = initial_dataset(codes['lmp'], args.frames)
    print(f'initial dataset: {dataset.n_frames} oracle-labelled frames, '
          f'{sum(len(system["validation"]) for system in dataset.systems)} held out '
          f'({time.perf_counter() - start:.0f} s)', flush=True)
    repeats = []
    for repeat in range(args.repeats):
        runs = {}
        for method in METHODS:
            runs[method] = run_loop(codes, dataset, loop_overrides(args, method, repeat))
            print(f'repeat {repeat}, {method}: loop <{runs[method]["pk"]}> exit status {runs[method]["exit_status"]}, '
                  f'{len(runs[method]["iterations"])} iterations, {runs[method]["wall_s"]:.0f} s', flush=True)
        repeats.append(runs)
    finals = [runs[REFERENCE]['iterations'][-1]['force_rmse_ev_a'] for runs in repeats]
    target = args.target if args.target is not None else statistics.fmean(finals)
    comparison = compare_labels(repeats, target)
    return {
        'glass': GLASS.name, 'protocol': PROTOCOL, 'initial_frames': dataset.n_frames,
        'held_out_frames': sum(len(system['validation']) for system in dataset.systems),
        'iterations': args.iterations, 'max_labels': args.max_labels, 'trust_lo_ev_a': args.trust_lo,
        'trust_hi_ev_a': LOOP['learning']['trust_hi_ev_a'],
        'target_force_rmse_ev_a': target,
        'target_source': 'given' if args.target is not None else f'mean final RMSE of the {REFERENCE!r} runs',
        'runs': repeats, 'comparison': comparison,
        'ratio': mean_and_spread([row['ratio'] for row in comparison if row['ratio'] is not None]),
        'bookkeeping': bookkeeping(repeats),
    }


def needed_text(needed: int | None, total: int) -> str:
    """Labels needed as printed: the number, or ``>N`` when the target was never reached."""
    return str(needed) if needed is not None else f'>{total}'


def ratio_text(row: dict) -> str:
    """The ratio of one repeat as printed, or why there is none."""
    if row['ratio'] is not None:
        return f'{row["ratio"]:.3f}'
    if row['ratio_lower_bound'] is not None:
        return f'>{row["ratio_lower_bound"]:.3f}'
    if row['labels'][REFERENCE] == 0:
        return f'- ({REFERENCE} reached the target before any label)'
    return f'- ({REFERENCE} never reached the target)'


def report(results: dict) -> str:
    """Return the tables of the results as text."""
    lines = [
        f'glass: {results["glass"]}; initial dataset {results["initial_frames"]} frames '
        f'({results["held_out_frames"]} held out), oracle Deng-Du; protocol {results["protocol"]}, '
        f'{results["iterations"]} iterations, at most {results["max_labels"]} labels each, trust levels '
        f'{results["trust_lo_ev_a"]:g}-{results["trust_hi_ev_a"]:g} eV/Å',
    ]
    for repeat, runs in enumerate(results['runs']):
        for method in METHODS:
            run = runs[method]
            lines += ['', f'repeat {repeat}, selection {method}: loop <{run["pk"]}>, exit status {run["exit_status"]}, '
                          f'wall {run["wall_s"]:.0f} s',
                      f'{"iteration":<14}{"labels so far":>14}{"force RMSE (eV/Å)":>20}{"± std":>8}'
                      f'{"accurate":>10}{"candidate":>11}{"failed":>8}{"labelled":>10}',
                      *(f'{row["iteration"]:<14}{row["labels"]:>14}{row["force_rmse_ev_a"]:>20.4f}'
                        f'{row["force_rmse_ev_a_std"] or 0.0:>8.4f}{row["accurate"]:>10.3f}{row["candidate"]:>11.3f}'
                        f'{row["failed"]:>8.3f}{row["labels_added"]:>10}' for row in run['iterations'])]
    lines += ['', f'labels to reach a validation force RMSE of {results["target_force_rmse_ev_a"]:.4f} eV/Å '
                  f'({results["target_source"]}):',
              f'{"repeat":<8}' + ''.join(f'{method:>10}' for method in METHODS) + f'{"spread/first":>16}']
    for repeat, row in enumerate(results['comparison']):
        lines.append(f'{repeat:<8}' + ''.join(f'{needed_text(row["labels"][m], row["labels_total"][m]):>10}'
                                              for m in METHODS) + f'  {ratio_text(row):>14}')
    ratio, defined = results['ratio'], sum(row['ratio'] is not None for row in results['comparison'])
    lines.append(f'spread / first: mean {ratio["mean"]:.3f}, spread {ratio["spread"]:.3f} over {defined} of '
                 f'{len(results["comparison"])} repeat(s) (goal < 1)' if ratio else
                 'spread / first: undefined in every repeat, see the bounds above (goal < 1)')
    lines += ['', 'wall time per iteration, s (mean over every iteration of every loop of the method):',
              f'{"method":<10}' + ''.join(f'{key[:-2]:>12}' for key in TIMES) + f'{"bookkeeping %":>15}'
              f'{"outside it.":>13}']
    for method, times in results['bookkeeping'].items():
        share = f'{100 * times["bookkeeping_share"]:.1f}' if times['bookkeeping_share'] is not None else '-'
        lines.append(f'{method:<10}' + ''.join(f'{times[key]:>12.2f}' for key in TIMES)
                     + f'{share:>15}{times["outside_iterations_s"]:>13.2f}')
    lines.append('bookkeeping: the iteration wall not spent in training, exploration, selection or labelling; '
                 'outside it.: the loop\'s wall outside its iterations (start, extend_dataset, report), per iteration')
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the tables, optionally write the JSON; return the exit code (1 on a failure)."""
    args = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix='boroglass-learning-bench-'))
    try:
        results = benchmark(args, root)
    except (RuntimeError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
