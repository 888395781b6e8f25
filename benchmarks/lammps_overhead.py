"""Benchmark: AiiDA overhead of the LAMMPS melt-quench, and our force-field kernel against the peer input.

Two ratios, both measured in the same run on the same machine:

1. **Workflow overhead.** ``MeltQuenchWorkChain`` (protocol ``fast`` by default) runs a
   30Li2O-70B2O3 glass (``Li2O-B2O3``, x = 0.3) in a throw-away AiiDA profile (SQLite storage,
   ZeroMQ broker), as ``aiida-boroglass screen`` runs it, its LAMMPS job on 2 MPI processes
   (melt, quench, relax and production are the stages of one job; more jobs only when it was
   restarted). The input files of every LAMMPS job it ran are then copied from the job folders
   and run again, one after the other, with exactly ``mpirun -np 2 lmp -sf omp -in input.in``;
   workflow and plain runs alternate ``--workflow-repeats`` times. Printed: the first run's
   split (per job: upload, run, after; LAMMPS jobs, packmol, calcfunctions, the rest) and,
   over the repeats, the median and range of
   workflow wall time / summed plain LAMMPS wall time and of the LAMMPS CalcJobs' share of it.
   The workflow wall time also holds the packmol packing and the analysis calcfunctions, which
   the plain runs do not repeat, and the wait for the computer's job poll interval after every
   job (printed).
2. **Force-field kernel.** From the melt's final state (the restart file the job wrote at the
   end of its ``melt`` stage), replicated 1, 2 and 3 times along each axis (about 400, 3200
   and 10,700 atoms), fixed-length NVT runs at 3000 K of three inputs, interleaved
   ``--repeats`` times: the script our CalcJob generates (Deng-Du: native ``buck/coul/long`` plus the table of the repulsive cores' correction
   below r0, PPPM 1e-5 at order 7), the same at LAMMPS' default PPPM order 5, and the peer
   reference of ``PEERS.md``: a hand-written ``buck/coul/long`` with the Deng-Du Buckingham terms
   *without* the repulsive core (cation-cation pairs Coulomb only), PPPM 1e-5 at the default
   order, same cut-offs, time step and thermostat, LAMMPS' default 2 A neighbour skin. Printed:
   atom-steps/s (LAMMPS' ``Performance`` line) median and range, and the median and range of
   the per-repeat ratios ours / reference.

Run it on demand (not collected by pytest), from the repository root::

    python benchmarks/lammps_overhead.py                 # fast protocol as it is: about 20 min on 2 cores
    python benchmarks/lammps_overhead.py --quick --kernel-replicate 1 --repeats 1 --workflow-repeats 1  # 2.5 min
    python benchmarks/lammps_overhead.py --atoms 3080 --schedule-scale 0.2 --json /tmp/overhead.json

``lmp``, ``mpirun`` and ``packmol`` are taken from the running Python's environment (then PATH).
Everything (AiiDA configuration, profile, job folders, plain runs) lives in one temporary
folder that is removed at the end. Other load on the machine distorts the ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: The glass of the benchmark: ``Li2O-B2O3`` at x = 0.3 (30Li2O-70B2O3).
COMPOSITION = ('Li2O-B2O3', 0.3)
#: Schedule durations (ps) multiplied by ``--schedule-scale``; the cooling rate (K/ps) is divided by it.
SCALED_DURATIONS = ('push_off_ps', 'melt_ps', 'relax_nvt_ps', 'relax_npt_ps', 'production_ps', 'dump_every_ps')
#: Files a BoroglassLammpsCalculation writes into its job folder before LAMMPS starts.
JOB_INPUTS = ('potential.table', 'structure.data', 'restart.in.bin')
#: Temperature (K) of the fixed-length NVT run of the kernel comparison (the melt temperature).
KERNEL_TEMPERATURE_K = 3000.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    argparse.Namespace
        ``atoms``, ``protocol``, ``schedule_scale``, ``nprocs``, ``kernel_steps``, ``kernel_replicate``,
        ``repeats``, ``workflow_repeats``, ``json``.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--atoms', type=int, default=None, help="atoms of the glass (default: the protocol's)")
    parser.add_argument('--protocol', choices=('fast', 'balanced', 'stringent'), default='fast',
                        help='melt-quench protocol (default: fast)')
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument('--schedule-scale', type=float, default=1.0,
                       help='multiply every schedule duration by this and divide the cooling rate by it (default: 1)')
    scale.add_argument('--quick', dest='schedule_scale', action='store_const', const=0.1,
                       help='same as --schedule-scale 0.1')
    parser.add_argument('--nprocs', type=int, default=2, help='MPI processes of every LAMMPS run (default: 2)')
    parser.add_argument('--kernel-steps', type=int, default=2000,
                        help='MD steps of each NVT run of the kernel comparison on the glass itself; a replicated '
                             'cell runs as many atom-steps (default: 2000)')
    parser.add_argument('--kernel-replicate', type=replicas, default=(1, 2, 3),
                        help='copies of the glass along each axis of the kernel runs, comma-separated '
                             '(default: 1,2,3: about 400, 3200 and 10700 atoms)')
    parser.add_argument('--repeats', type=int, default=3,
                        help='interleaved repeats of the kernel runs (default: 3)')
    parser.add_argument('--workflow-repeats', type=int, default=3,
                        help='workflow runs, each followed by the plain runs of its inputs (default: 3)')
    parser.add_argument('--json', type=Path, default=None, help='also write the numbers to this JSON file')
    args = parser.parse_args(argv)
    if not args.schedule_scale > 0:
        parser.error(f'--schedule-scale must be > 0, got {args.schedule_scale}')
    for option in ('repeats', 'workflow_repeats'):
        if getattr(args, option) < 1:
            parser.error(f'--{option.replace("_", "-")} must be >= 1, got {getattr(args, option)}')
    return args


def replicas(text: str) -> tuple[int, ...]:
    """Parse ``--kernel-replicate``: comma-separated integers >= 1."""
    try:
        values = tuple(int(part) for part in text.split(','))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f'comma-separated integers >= 1, got {text!r}')
    return values


def executable(name: str) -> str:
    """Return the absolute path of ``name``: next to the running Python first, then on PATH.

    Raises
    ------
    FileNotFoundError
        If the executable is found in neither place.
    """
    local = Path(sys.executable).parent / name
    path = str(local) if local.is_file() else shutil.which(name)
    if path is None:
        raise FileNotFoundError(f'{name} not found next to {sys.executable} nor on PATH')
    return path


def lammps_command(nprocs: int, input_filename: str) -> list[str]:
    """Return the plain LAMMPS command line ``mpirun -np N lmp -sf omp -in INPUT``."""
    return [executable('mpirun'), '-np', str(nprocs), executable('boroglass-lmp'), '-sf', 'omp', '-in', input_filename]


def setup_profile(root: Path):
    """Create a temporary AiiDA profile under ``root`` and register the local computer and codes.

    ``AIIDA_PATH`` is pointed at ``root`` before AiiDA is imported; the profile, computer and codes
    are made by the functions behind ``aiida-boroglass setup`` (``verdi presto`` profile), with
    the computer's job folders under ``root/jobs`` instead of ``~/.aiida_run``.

    Parameters
    ----------
    root : Path
        Empty temporary folder.

    Returns
    -------
    aiida.orm.Computer
        The local computer with the codes ``lmp`` and ``packmol``.
    """
    os.environ['AIIDA_PATH'] = str(root)
    import aiida

    from aiida_boroglass.cli.setup import ensure_codes, ensure_computer, ensure_profile

    aiida.load_profile(ensure_profile(None), allow_switch=True)
    computer = ensure_computer(workdir=str(root / 'jobs'))
    missing = {'lmp', 'packmol'} - set(ensure_codes(computer))
    if missing:
        raise RuntimeError(f'engines not found: {sorted(missing)}')
    return computer


def schedule_overrides(protocol: str, scale: float, n_atoms: int | None) -> dict:
    """Return protocol overrides with every duration scaled by ``scale`` (and the atom number).

    Parameters
    ----------
    protocol : str
        Melt-quench protocol name.
    scale : float
        Factor on the durations (ps); the cooling rate (K/ps) is divided by it, so the quench
        duration scales the same way.
    n_atoms : int, optional
        Atoms of the glass; ``None`` keeps the protocol's.

    Returns
    -------
    dict
        Overrides for ``MeltQuenchWorkChain.get_builder_from_protocol``.
    """
    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

    schedule = MeltQuenchWorkChain.get_protocol_inputs(protocol)['schedule']
    overrides = {'schedule': {key: schedule[key] * scale for key in SCALED_DURATIONS}}
    overrides['schedule']['cooling_rate_k_ps'] = schedule['cooling_rate_k_ps'] / scale
    if n_atoms is not None:
        overrides['n_atoms'] = n_atoms
    return overrides


def run_workflow(computer, protocol: str, overrides: dict, nprocs: int):
    """Run the melt-quench of :data:`COMPOSITION` in this interpreter as ``aiida-boroglass`` does, and time it.

    The runner is the command line's (:func:`aiida_boroglass.cli.foreground.run_here`), whose
    in-process communicator tells a workflow at once that its child ended; aiida's plain ``run``
    has none without a broker and learns it only at the next ``runner.poll.interval`` (1 s in a
    ``verdi presto`` profile), up to a second per child.

    Parameters
    ----------
    computer : aiida.orm.Computer
        Computer holding the ``lmp`` and ``packmol`` codes.
    protocol : str
        Melt-quench protocol name.
    overrides : dict
        Protocol overrides (see :func:`schedule_overrides`).
    nprocs : int
        MPI processes of each LAMMPS job.

    Returns
    -------
    node : aiida.orm.WorkChainNode
        The finished melt-quench.
    wall_s : float
        Wall time of the run, s.
    """
    from aiida import orm

    from aiida_boroglass.cli.foreground import run_here
    from aiida_boroglass.data.composition import CompositionData
    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        orm.load_code(f'lmp@{computer.label}'), CompositionData(COMPOSITION[0], x=COMPOSITION[1]),
        protocol=protocol, overrides=overrides,
        options={'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': nprocs}},
    )
    start = time.perf_counter()
    node = run_here(builder)
    wall_s = time.perf_counter() - start
    if not node.is_finished_ok:
        raise RuntimeError(f'MeltQuenchWorkChain<{node.pk}> failed: exit status {node.exit_status}, '
                           f'{node.exit_message}; see `verdi process report {node.pk}`')
    return node, wall_s


def lammps_jobs(workflow) -> list[tuple[str, object]]:
    """Return the LAMMPS CalcJobs of a melt-quench in the order they ran.

    Parameters
    ----------
    workflow : aiida.orm.WorkChainNode
        A finished ``MeltQuenchWorkChain``.

    Returns
    -------
    list of (str, aiida.orm.CalcJobNode)
        Label and job: ``md`` for the one job of every phase, ``md_<i>`` for the jobs of a
        restarted run.
    """
    from aiida import orm

    (run,) = (n for n in workflow.called if n.process_label == 'LammpsBaseWorkChain')
    jobs = sorted((n for n in run.called if isinstance(n, orm.CalcJobNode)), key=lambda n: n.ctime)
    return [('md' if len(jobs) == 1 else f'md_{index}', job) for index, job in enumerate(jobs)]


def melt_end_restart(job) -> Path:
    """The restart file a melt-quench's first LAMMPS job wrote at the end of its ``melt`` stage, in its job folder."""
    from aiida_boroglass.calculations import lammps_inputs as li

    index = [stage['name'] for stage in job.inputs.parameters['stages']].index('melt')
    return Path(job.outputs.remote_folder.get_remote_path()) / li.STAGE_RESTART_TEMPLATE.format(index=index)


def copy_job_inputs(job, target: Path) -> str:
    """Copy the LAMMPS input files of a finished job from its job folder into ``target``.

    Parameters
    ----------
    job : aiida.orm.CalcJobNode
        A ``BoroglassLammpsCalculation``.
    target : Path
        Folder to create.

    Returns
    -------
    str
        Name of the input script.
    """
    source = Path(job.outputs.remote_folder.get_remote_path())
    script = job.get_option('input_filename')
    target.mkdir(parents=True)
    for name in (script, *JOB_INPUTS):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    return script


def run_lammps(folder: Path, script: str, nprocs: int) -> float:
    """Run ``mpirun -np N lmp -sf omp -in SCRIPT`` in ``folder`` as the CalcJob does; return its wall time (s).

    Standard output goes to ``lammps.out`` and ``OMP_NUM_THREADS=1``, as in the workflow's jobs.

    Raises
    ------
    RuntimeError
        If LAMMPS exits with an error (the tail of its output is in the message).
    """
    environment = {**os.environ, 'OMP_NUM_THREADS': '1'}
    with open(folder / 'lammps.out', 'w') as stdout:
        start = time.perf_counter()
        result = subprocess.run(lammps_command(nprocs, script), cwd=folder, stdout=stdout, stderr=subprocess.STDOUT,
                                env=environment, check=False)
        wall_s = time.perf_counter() - start
    if result.returncode:
        tail = (folder / 'lammps.out').read_text().splitlines()[-15:]
        raise RuntimeError(f'LAMMPS failed in {folder} (exit {result.returncode}):\n' + '\n'.join(tail))
    return wall_s


def job_phases(job) -> dict:
    """Split a finished CalcJob's wall time by the file times of its job folder (s).

    ``upload_s``: node creation to the job script written (inputs prepared and copied);
    ``run_s``: job script to the last write of ``log.lammps`` (start-up and LAMMPS); ``after_s``:
    from there to the node sealed (waiting for the next poll, retrieving, parsing, storing).
    """
    folder = Path(job.outputs.remote_folder.get_remote_path())
    written = job.ctime.timestamp()
    submitted = (folder / '_aiidasubmit.sh').stat().st_mtime
    finished = (folder / 'log.lammps').stat().st_mtime
    return {'upload_s': submitted - written, 'run_s': finished - submitted, 'after_s': job.mtime.timestamp() - finished}


def rerun_plain(jobs: list[tuple[str, object]], root: Path, nprocs: int) -> list[dict]:
    """Run the workflow's LAMMPS jobs again, plainly and one after the other.

    Parameters
    ----------
    jobs : list of (str, CalcJobNode)
        From :func:`lammps_jobs`.
    root : Path
        Folder under which one folder per job is made.
    nprocs : int
        MPI processes.

    Returns
    -------
    list of dict
        Per job: ``phase``, ``pk``, ``job_wall_s`` (s, creation to sealing of the CalcJob node in
        the workflow: upload, LAMMPS, polling, retrieval, parsing), its :func:`job_phases` and
        ``plain_wall_s`` (s).
    """
    timings = []
    for index, (phase, job) in enumerate(jobs):
        folder = root / f'{index}_{phase}'
        script = copy_job_inputs(job, folder)
        timings.append({'phase': phase, 'pk': job.pk, 'job_wall_s': (job.mtime - job.ctime).total_seconds(),
                        **job_phases(job), 'plain_wall_s': run_lammps(folder, script, nprocs)})
    return timings


def reference_potential(ff: dict, species: list[str]) -> list[str]:
    """Return the peer reference potential: native ``buck/coul/long`` with the Deng-Du Buckingham terms.

    ``A exp(-r/rho) - C/r^6`` for every pair the force field gives a short-range term, without the
    repulsive core below r0; cation-cation pairs get ``0.0 1.0 0.0`` (Coulomb only). Same
    short-range and real-space Coulomb cut-offs and PPPM accuracy as the force field, LAMMPS'
    default PPPM order (5): the input a glass scientist writes by hand (``PEERS.md``).

    Parameters
    ----------
    ff : dict
        Resolved ``deng_du`` force field (``build_forcefield`` output).
    species : list of str
        ``species[k]`` is the element of LAMMPS atom type k + 1.

    Returns
    -------
    list of str
        ``pair_style``, ``pair_coeff`` and ``kspace_style`` lines.
    """
    from aiida_boroglass.glass.forcefields import pair_key

    coulomb = ff['coulomb']
    lines = [f'pair_style buck/coul/long {ff["cutoff_short_range_A"]:g} {coulomb["cutoff_real_space_A"]:g}']
    for i, a in enumerate(species):
        for j in range(i, len(species)):
            term = ff['pairs'].get(pair_key(a, species[j]))
            coefficients = f'{term["A_eV"]} {term["rho_A"]} {term["C_eV_A6"]}' if term else '0.0 1.0 0.0'
            lines.append(f'pair_coeff {i + 1} {j + 1} {coefficients}')
    lines.append(f'kspace_style {coulomb["kspace_style"]} {coulomb["kspace_accuracy_relative"]:g}')
    return lines


def kernel_steps_for(base_steps: int, base_atoms: int, atoms: int) -> int:
    """MD steps of a kernel run of ``atoms`` atoms: ``base_steps`` scaled to the same atom-steps, at least 100."""
    return max(100, round(base_steps * base_atoms / atoms))


def kernel_scripts(job, steps: int, replicate: int) -> dict[str, tuple[str, dict[str, str]]]:
    """Return the NVT scripts of the kernel comparison and the files each needs besides the restart.

    Every script reads ``restart.in.bin`` (the melt's final state), replicates the cell
    ``replicate`` times along each axis, and runs ``steps`` NVT steps at
    :data:`KERNEL_TEMPERATURE_K` with the job's time step, thermostat damping and thermo interval.

    * ``ours``: the potential our CalcJob generates (native ``buck/coul/long``, the core-correction
      table, PPPM order 7) with the job's neighbour settings;
    * ``ours_order5``: the same with LAMMPS' default PPPM order, to separate the two changes;
    * ``reference``: the peer hand input (:func:`reference_potential`, no core) with LAMMPS' default
      neighbour skin for ``units metal`` (2 A).

    Parameters
    ----------
    job : aiida.orm.CalcJobNode
        The quench job; its force field and MD parameters are used.
    steps : int
        MD steps of each run.
    replicate : int
        Copies of the cell along each axis (1: the glass itself).

    Returns
    -------
    dict
        Variant name -> (script text, {file name: text}).
    """
    from aiida_boroglass.calculations import lammps_inputs as li
    from aiida_boroglass.calculations.lammps import BoroglassLammpsCalculation
    from aiida_boroglass.glass.forcefields import lammps_potential

    ff = job.inputs.forcefield.get_dict()
    species = BoroglassLammpsCalculation.species_order(job.inputs.structure)
    parameters = {**li.DEFAULT_PARAMETERS, **job.inputs.parameters.get_dict()}
    commands, table = lammps_potential(ff, species, table_filename=BoroglassLammpsCalculation.TABLE_FILENAME)
    tables = {BoroglassLammpsCalculation.TABLE_FILENAME: table}
    potentials = {
        'ours': (commands, parameters['neighbor_skin_a'], tables),
        'ours_order5': ([c for c in commands if not c.startswith('kspace_modify')], parameters['neighbor_skin_a'], tables),
        'reference': (reference_potential(ff, species), 2.0, {}),
    }
    scripts = {}
    for name, (potential, skin, files) in potentials.items():
        lines = [
            f'# kernel benchmark, {name}', 'units metal', 'atom_style charge', 'boundary p p p',
            f'read_restart {li.RESTART_IN_FILENAME}', f'replicate {replicate} {replicate} {replicate}',
            *potential,
            f'neighbor {skin} bin', 'neigh_modify every 1 delay 0 check yes',
            f'timestep {parameters["timestep_fs"] * 1e-3}',
            f'thermo {parameters["thermo_every"]}',
            f'fix md all nvt temp {KERNEL_TEMPERATURE_K} {KERNEL_TEMPERATURE_K} {parameters["thermostat_damping_ps"]}',
            f'run {steps}',
        ]
        scripts[name] = ('\n'.join(lines) + '\n', files)
    return scripts


def atom_steps_per_s(folder: Path) -> float:
    """Return the atom-steps/s of the last ``run`` in ``folder/log.lammps`` (LAMMPS' ``Performance`` line)."""
    from aiida_boroglass.parsers.parse_raw.lammps import parse_log

    rates = parse_log((folder / 'log.lammps').read_text())['atom_steps_per_s']
    if not rates:
        raise RuntimeError(f'no Performance line in {folder / "log.lammps"}')
    return rates[-1]


def spread(values: list[float]) -> dict:
    """Median, minimum and maximum of repeated measurements."""
    return {'median': float(np.median(values)), 'min': float(min(values)), 'max': float(max(values))}


def compare_kernels(job, root: Path, steps: int, nprocs: int, repeats: int, replicate: int) -> dict:
    """Run the kernel variants from the same restart, interleaved ``repeats`` times; compare speed.

    One repeat runs every variant once, one after the other, so slow drifts of the machine's load
    fall on all of them alike; the ratio ours / reference is taken within each repeat.

    Parameters
    ----------
    job : aiida.orm.CalcJobNode
        The melt-quench's first LAMMPS job: :func:`melt_end_restart` is the melt's final state.
    root : Path
        Folder under which one folder per variant is made.
    steps : int
        MD steps of each run.
    nprocs : int
        MPI processes.
    repeats : int
        Interleaved repeats.
    replicate : int
        Copies of the cell along each axis.

    Returns
    -------
    dict
        ``atoms``, ``steps``, ``temperature_k``, per variant its ``atom_steps_per_s`` list and
        :func:`spread`, and ``ratio`` / ``ratio_order5``: :func:`spread` of the per-repeat ratios
        ``ours / reference`` and ``ours_order5 / reference``.
    """
    from aiida_boroglass.calculations import lammps_inputs as li

    restart = melt_end_restart(job)
    scripts = kernel_scripts(job, steps, replicate)
    rates = {name: [] for name in scripts}
    for repeat in range(repeats):
        for name, (script, files) in scripts.items():
            folder = root / f'{name}_{repeat}'
            folder.mkdir(parents=True)
            shutil.copy2(restart, folder / li.RESTART_IN_FILENAME)
            for filename, text in {'input.in': script, **files}.items():
                (folder / filename).write_text(text)
            run_lammps(folder, 'input.in', nprocs)
            rates[name].append(atom_steps_per_s(folder))
    result = {'atoms': len(job.inputs.structure.sites) * replicate**3, 'steps': steps,
              'temperature_k': KERNEL_TEMPERATURE_K}
    for name, values in rates.items():
        result[name] = {'atom_steps_per_s': values, **spread(values)}
    for key, name in (('ratio', 'ours'), ('ratio_order5', 'ours_order5')):
        result[key] = spread([a / b for a, b in zip(rates[name], rates['reference'])])
    return result


def time_budget(workflow, wall_s: float, timings: list[dict]) -> dict:
    """Split the workflow's wall time into its parts (s).

    Parameters
    ----------
    workflow : aiida.orm.WorkChainNode
        The finished melt-quench.
    wall_s : float
        Its wall time, s.
    timings : list of dict
        From :func:`rerun_plain`.

    Returns
    -------
    dict
        ``lammps_jobs_s`` (creation to sealing of every LAMMPS CalcJob), ``packmol_s`` (the packing CalcJobs), ``calcfunctions_s`` (the
        analysis and bookkeeping calcfunctions, creation to sealing) and ``rest_s`` (the workflow's
        own steps and the waits between processes: wall minus the three process sums).
    """
    from aiida import orm

    seconds = [(node, (node.mtime - node.ctime).total_seconds()) for node in workflow.called_descendants]
    packmol_s = sum(s for node, s in seconds if isinstance(node, orm.CalcJobNode) and 'packmol' in node.process_type.lower())
    calcfunctions_s = sum(s for node, s in seconds if isinstance(node, orm.CalcFunctionNode))
    lammps_jobs_s = sum(t['job_wall_s'] for t in timings)
    return {'lammps_jobs_s': lammps_jobs_s, 'packmol_s': packmol_s, 'calcfunctions_s': calcfunctions_s,
            'rest_s': wall_s - lammps_jobs_s - packmol_s - calcfunctions_s}


def kernel_lines(kernel: dict) -> list[str]:
    """Lines of one kernel size: median [min-max] atom-steps/s per variant and the ratios."""
    def row(label: str, values: dict, digits: str) -> str:
        return f'{label:<46}{values["median"]:>12{digits}}  [{values["min"]:{digits}} - {values["max"]:{digits}}]'

    return [
        f'kernel: {kernel["atoms"]} atoms, {kernel["steps"]} NVT steps at {kernel["temperature_k"]:g} K, '
        f'{len(kernel["ours"]["atom_steps_per_s"])} interleaved repeats; atom-steps/s median [min - max]',
        row('ours (buck/coul/long + core table, order 7)', kernel['ours'], '.4g'),
        row('ours with PPPM order 5', kernel['ours_order5'], '.4g'),
        row('reference (hand buck/coul/long, no core)', kernel['reference'], '.4g'),
        row('ratio ours / reference', kernel['ratio'], '.3f'),
        row('ratio ours with order 5 / reference', kernel['ratio_order5'], '.3f'),
    ]


def overhead_run(computer, args: argparse.Namespace, overrides: dict, plain_root: Path):
    """One workflow run and the plain runs of its LAMMPS inputs right after it.

    Returns
    -------
    workflow : aiida.orm.WorkChainNode
        The finished melt-quench.
    wall_s : float
        Its wall time, s.
    timings : list of dict
        Per LAMMPS job (see :func:`rerun_plain`).
    """
    workflow, wall_s = run_workflow(computer, args.protocol, overrides, args.nprocs)
    return workflow, wall_s, rerun_plain(lammps_jobs(workflow), plain_root, args.nprocs)


def overhead_summary(wall_s: float, timings: list[dict]) -> dict:
    """Walls (s) of one workflow, its LAMMPS CalcJobs and their plain runs, and the two ratios to the plain runs."""
    plain_s = sum(t['plain_wall_s'] for t in timings)
    jobs_s = sum(t['job_wall_s'] for t in timings)
    return {'workflow_wall_s': wall_s, 'lammps_jobs_s': jobs_s, 'plain_wall_s': plain_s,
            'overhead_ratio': wall_s / plain_s, 'jobs_ratio': jobs_s / plain_s}


def spread_line(label: str, values: list[float]) -> str:
    """``label  median  [min - max]`` of ``values``."""
    return f'{label:<44}{np.median(values):>12.3f}  [{min(values):.3f} - {max(values):.3f}]'


def report(results: dict) -> str:
    """Return the table of the results as text."""
    budget = results['budget']
    lines = [
        f'glass: {results["composition"]}, {results["n_atoms"]} atoms, protocol {results["protocol"]} '
        f'x {results["schedule_scale"]:g} durations, {results["nprocs"]} MPI processes',
        '', f'{"LAMMPS job":<20}{"CalcJob wall":>13}{"upload":>8}{"run":>8}{"after":>8}{"plain wall":>12}  (s)',
        *(f'{label:<20}{t["job_wall_s"]:>13.2f}{t["upload_s"]:>8.2f}{t["run_s"]:>8.2f}{t["after_s"]:>8.2f}'
          f'{t["plain_wall_s"]:>12.2f}' for t in results['jobs'] for label in [f'{t["phase"]} <{t["pk"]}>']),
        '',
        f'{"workflow wall (s)":<44}{results["workflow_wall_s"]:>12.2f}',
        f'{"  LAMMPS CalcJobs (s)":<44}{budget["lammps_jobs_s"]:>12.2f}',
        f'{"  packmol CalcJob (s)":<44}{budget["packmol_s"]:>12.2f}',
        f'{"  calcfunctions (s)":<44}{budget["calcfunctions_s"]:>12.2f}',
        f'{"  workflow steps and waits (s)":<44}{budget["rest_s"]:>12.2f}',
        f'{"plain lmp wall, summed (s)":<44}{results["plain_wall_s"]:>12.2f}',
        f'{"ratio workflow / plain lmp":<44}{results["workflow_wall_s"] / results["plain_wall_s"]:>12.3f}',
        f'{"ratio LAMMPS CalcJobs / plain lmp":<44}{budget["lammps_jobs_s"] / results["plain_wall_s"]:>12.3f}',
        f'{"job poll interval of the computer (s)":<44}{results["job_poll_interval_s"]:>12.2f}',
        '', f'{len(results["overhead_repeats"])} workflow runs, each then its plain runs; median [min - max]:',
        spread_line('ratio workflow / plain lmp', [r['overhead_ratio'] for r in results['overhead_repeats']]),
        spread_line('ratio LAMMPS CalcJobs / plain lmp', [r['jobs_ratio'] for r in results['overhead_repeats']]),
    ]
    for kernel in results['kernels']:
        lines += ['', *kernel_lines(kernel)]
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print the table, optionally write the JSON; return the numbers."""
    args = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix='boroglass-bench-'))
    try:
        computer = setup_profile(root)
        overrides = schedule_overrides(args.protocol, args.schedule_scale, args.atoms)
        runs = [overhead_run(computer, args, overrides, root / f'plain_{repeat}') for repeat in range(args.workflow_repeats)]
        workflow, workflow_wall_s, timings = runs[0]
        jobs = lammps_jobs(workflow)
        first_job = jobs[0][1]
        n_atoms = len(workflow.outputs.structure.sites)
        kernels = [
            compare_kernels(first_job, root / f'kernel_{replicate}',
                            kernel_steps_for(args.kernel_steps, n_atoms, n_atoms * replicate**3),
                            args.nprocs, args.repeats, replicate)
            for replicate in args.kernel_replicate
        ]
        repeats = [overhead_summary(wall_s, run_timings) for _, wall_s, run_timings in runs]
        results = {
            'composition': workflow.inputs.composition.label_text, 'n_atoms': n_atoms,
            'protocol': args.protocol, 'schedule_scale': args.schedule_scale, 'nprocs': args.nprocs,
            'job_poll_interval_s': computer.get_minimum_job_poll_interval(),
            'workflow_wall_s': workflow_wall_s, 'plain_wall_s': repeats[0]['plain_wall_s'],
            'overhead_ratio': float(np.median([r['overhead_ratio'] for r in repeats])), 'overhead_repeats': repeats,
            'jobs': timings, 'budget': time_budget(workflow, workflow_wall_s, timings), 'kernels': kernels,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + '\n')
    return results


if __name__ == '__main__':
    main()
