"""Benchmark: AiiDA overhead of the AIMD workflow against the same CP2K runs made by hand.

``AimdWorkChain`` (protocol ``fast``, durations scaled by ``--scale``) runs the 21-atom
40K2O-60B2O3 test glass (``tests/fixtures/k_borate_21.extxyz``, a classical quench) in a
throw-away AiiDA profile (SQLite storage, ZeroMQ broker): geometry optimisation, the
temperature ladder and production, each a CP2K job of one process with ``--threads`` OpenMP
threads. The input of every CP2K job it ran is then copied from the job folders and run
again, one after the other, with exactly ``cp2k.psmp -i aiida.inp`` in a folder whose
``parent_calc`` links to the previous plain run (as the workflow links the previous job).
Printed: workflow wall time, summed plain CP2K wall time and their ratio (goal: at most 1.05
on a run of about 5 minutes), the per-job times, and the repeat spread when ``--repeats`` > 1
(workflow and plain chain interleaved).

Run it on demand (not collected by pytest), from the repository root::

    python benchmarks/aimd_overhead.py                  # about 5 min of CP2K per repeat on 2 cores
    python benchmarks/aimd_overhead.py --scale 0.3      # a quicker look
    python benchmarks/aimd_overhead.py --repeats 3 --json /tmp/aimd_overhead.json

Everything lives in one temporary folder that is removed at the end. Other load on the
machine distorts the ratio.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from lammps_overhead import executable, setup_profile  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent
GLASS = REPOSITORY / 'tests' / 'fixtures' / 'k_borate_21.extxyz'
#: Fast-protocol schedule (ps) of the benchmark before scaling: ~160 MD steps of a 21-atom glass.
SCHEDULE = {'start_temperature_k': 298.15, 'top_temperature_k': 1098.15, 'step_k': 400.0, 'step_ps': 0.03,
            'top_ps': 0.03, 'final_ps': 0.02, 'production_ps': 0.05}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line (``argv`` without the program name; default ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--scale', type=float, default=1.0, help='Multiply every stage duration by this.')
    parser.add_argument('--threads', type=int, default=2, help='OpenMP threads of each CP2K job.')
    parser.add_argument('--repeats', type=int, default=1, help='Workflow + plain chain pairs, interleaved.')
    parser.add_argument('--json', type=Path, default=None, help='Write the timings here.')
    return parser.parse_args(argv)


def run_workflow(computer, scale: float, threads: int):
    """Run the AIMD of the test glass in this interpreter; return the finished node and its wall time (s)."""
    import ase.io
    from aiida import orm
    from aiida.engine import run_get_node

    from aiida_boroglass.workflows.ab_initio.aimd import AimdWorkChain

    schedule = {key: value * scale if key.endswith('_ps') else value for key, value in SCHEDULE.items()}
    options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1, 'num_cores_per_mpiproc': threads},
               'max_wallclock_seconds': 7200, 'withmpi': False}
    builder = AimdWorkChain.get_builder_from_protocol(
        orm.load_code(f'cp2k@{computer.label}'), structure=orm.StructureData(ase=ase.io.read(GLASS)),
        protocol='fast', overrides={'schedule': schedule, 'options': options})
    start = time.perf_counter()
    node = run_get_node(builder).node
    wall_s = time.perf_counter() - start
    if not node.is_finished_ok:
        raise RuntimeError(f'AimdWorkChain<{node.pk}> failed: exit status {node.exit_status}; '
                           f'see `verdi process report {node.pk}`')
    return node, wall_s


def cp2k_jobs(workflow) -> list:
    """The CP2K CalcJobs of an AIMD workflow in the order they ran."""
    from aiida import orm

    return sorted((node for node in workflow.called_descendants if isinstance(node, orm.CalcJobNode)),
                  key=lambda node: node.ctime)


def run_plain_chain(jobs: list, root: Path, threads: int) -> list[dict]:
    """Run every job's input again with plain ``cp2k.psmp``, each linked to the previous plain run.

    Returns
    -------
    list of dict
        Per job: ``label``, ``job_wall_s`` (s, creation to sealing of the CalcJob node: upload,
        CP2K, polling, retrieval, parsing) and ``plain_wall_s`` (s).
    """
    environment = {**os.environ, 'OMP_NUM_THREADS': str(threads)}
    timings, previous = [], None
    for index, job in enumerate(jobs):
        source = Path(job.outputs.remote_folder.get_remote_path())
        folder = root / f'{index:02d}'
        folder.mkdir(parents=True)
        for name in ('aiida.inp', 'aiida.coords.xyz'):
            (folder / name).write_bytes((source / name).read_bytes())
        if previous is not None:
            (folder / 'parent_calc').symlink_to(previous)
        with open(folder / 'aiida.out', 'w') as stdout:
            start = time.perf_counter()
            result = subprocess.run([executable('cp2k.psmp'), '-i', 'aiida.inp'], cwd=folder, stdout=stdout,
                                    stderr=subprocess.STDOUT, env=environment, check=False)
            wall_s = time.perf_counter() - start
        if result.returncode:
            raise RuntimeError(f'cp2k.psmp failed in {folder} (exit {result.returncode})')
        timings.append({'label': job.caller.label, 'job_wall_s': (job.mtime - job.ctime).total_seconds(),
                        'plain_wall_s': wall_s})
        previous = folder
    return timings


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; print and return the timings."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='boroglass-aimd-bench-') as tmp:
        root = Path(tmp)
        computer = setup_profile(root)
        repeats = []
        for repeat in range(args.repeats):
            node, workflow_s = run_workflow(computer, args.scale, args.threads)
            jobs = run_plain_chain(cp2k_jobs(node), root / f'plain{repeat}', args.threads)
            plain_s = sum(job['plain_wall_s'] for job in jobs)
            repeats.append({'workflow_s': workflow_s, 'plain_s': plain_s, 'ratio': workflow_s / plain_s, 'jobs': jobs})
            print(f'repeat {repeat}: workflow {workflow_s:.1f} s, plain cp2k.psmp {plain_s:.1f} s, '
                  f'ratio {workflow_s / plain_s:.3f}')
            for job in jobs:
                print(f'  {job["label"]:>12}: job {job["job_wall_s"]:7.1f} s   plain {job["plain_wall_s"]:7.1f} s')
    ratios = [r['ratio'] for r in repeats]
    summary = {'threads': args.threads, 'scale': args.scale, 'repeats': repeats,
               'ratio_median': statistics.median(ratios),
               'ratio_spread': (max(ratios) - min(ratios)) if len(ratios) > 1 else 0.0}
    print(f'AimdWorkChain / plain cp2k.psmp: median {summary["ratio_median"]:.3f} over {len(ratios)} repeat(s), '
          f'spread {summary["ratio_spread"]:.3f} (goal <= 1.05)')
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == '__main__':
    main()
