"""Benchmark: DeePMD training through AiiDA against plain ``dp``, and DeePMD MD speed against the classical force field.

Everything runs on one K borate glass, 40K2O-60B2O3 (``K2O-B2O3``, x = 0.4; 42 atoms by default),
in a throw-away AiiDA profile (SQLite storage, ZeroMQ broker), every job on one process and
one thread. Two ratios, each measured against its reference in the same run:

0. **Data** (not timed). A short classical ``MeltQuenchWorkChain`` (Deng-Du, protocol ``fast``
   with the schedule :data:`GLASS_SCHEDULE`: 1 ps melt at 1500 K, quench at 2000 K/ps) makes
   the glass; ``--frames`` copies of it with Gaussian displacements of 0.02-0.10 Å are labelled
   by the same force field (``DftLabelWorkChain``, engine ``classical``: LAMMPS single points)
   and become a dataset (``dataset_from_labels``, 20 % of the frames for validation).
1. **Training overhead.** ``DeepmdTrainCalculation`` with the settings, scheduler options and
   thread environment the ``fast`` protocol of ``DeepmdEnsembleWorkChain`` gives its first
   model (``--steps`` replaces the protocol's training steps) is timed around ``run_get_node``:
   storing its inputs, writing the dataset, upload, the three ``dp`` commands, polling,
   retrieval, parsing and storing the model. Its input files (``input.json`` and the
   ``train``/``validation`` systems it names) are copied from its job folder into a fresh
   folder, where the ``dp`` command lines of its job script (``dp --tf train``, ``freeze``,
   ``test``, each writing the same log) run again one after the other with the job's
   environment variables. Printed: CalcJob wall / plain wall (goal: at most 1.05), and the part
   of the CalcJob's wall its job spent on its commands (file times in the job folder). The order
   alternates: CalcJob first on even repeats, plain first on odd ones; every plain run uses the
   files of the first CalcJob, whose inputs every repeat's CalcJob shares (same dataset,
   settings and seed).
2. **MD speed.** From the glass, ``BoroglassLammpsCalculation`` runs ``--md-steps`` NVT steps at
   300 K (the melt-quench's LAMMPS switches ``-sf omp``) with the classical force field (the
   melt-quench's resolved Deng-Du: pair table + PPPM), with the model of step 1 (``pair_style
   deepmd``), and with a two-model ensemble writing its model deviation every
   ``--deviation-every`` steps (the model of step 1 twice: both copies are evaluated at every
   step as in a real ensemble; their deviation is zero). Printed: atom-steps/s from LAMMPS'
   ``Performance`` line (the MD loop only, not the start-up nor TensorFlow's loading) and
   DeePMD / classical. The three runs go in reverse order on odd repeats.

Both ratios are printed per repeat (``--repeats``) and as mean and spread (max - min).

Run it on demand (not collected by pytest), from the repository root::

    python benchmarks/deepmd_training.py                      # 60 frames, 1500 training steps (protocol), 2000 MD steps
    python benchmarks/deepmd_training.py --quick --repeats 1  # 10 frames, 100 training steps, 500 MD steps: 9 min, 2 busy cores
    python benchmarks/deepmd_training.py --steps 5000 --repeats 3 --json /tmp/deepmd.json

``boroglass-lmp``, ``packmol`` and ``dp`` are taken from the running Python's environment (then
PATH). Everything (AiiDA configuration, profile, job folders, plain runs) lives in one temporary
folder that is removed at the end. Other load on the machine distorts the ratios. Fixed costs
dominate a ``--quick`` run: every ``dp`` process and every DeePMD LAMMPS job first loads
TensorFlow (about 25 s each on 2 busy cores), every LAMMPS job pays AiiDA's latency, so its
training ratio says little about the goal, which applies to the full run.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: This script's folder. The script's name is that of DeePMD-kit's package ``deepmd``, which dpdata
#: imports as a plugin: the folder leaves ``sys.path`` once ``lammps_overhead`` is imported.
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from lammps_overhead import setup_profile  # noqa: E402

sys.path[:] = [entry for entry in sys.path if Path(entry or '.').resolve() != HERE]

#: The glass of the benchmark: ``K2O-B2O3`` at x = 0.4 (40K2O-60B2O3, 21 atoms per formula unit).
COMPOSITION = ('K2O-B2O3', 0.4)
#: Melt-quench schedule (K, ps, K/ps) of the glass: plumbing, not physics.
GLASS_SCHEDULE = {'melt_temperature_k': 1500.0, 'push_off_ps': 0.1, 'melt_ps': 1.0, 'cooling_rate_k_ps': 2000.0,
                  'relax_nvt_ps': 0.3, 'relax_npt_ps': 0.3, 'production_ps': 0.5, 'dump_every_ps': 0.1}
#: MD settings (steps) of the melt-quench.
GLASS_MD = {'thermo_every': 50, 'restart_every': 0}
#: Smallest and largest Gaussian displacement of the labelled frames, Å.
DISPLACEMENTS_A = (0.02, 0.10)
#: Train/validation split of the dataset.
SPLIT = {'validation_fraction': 0.2, 'seed': 0}
#: Protocol of the melt-quench and of the training.
PROTOCOL = 'fast'
#: Temperature of the NVT runs of the speed comparison, K.
MD_TEMPERATURE_K = 300.0
#: Scheduler options of every labelling and MD job: one process, no MPI (threads: see :func:`serial_options`).
SERIAL_OPTIONS = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, 'withmpi': False}
#: Single points of the labelling running at the same time (each mostly start-up and AiiDA latency).
LABEL_CONCURRENCY = 4
#: Sizes of a run, by ``--quick``: frames, training steps (None: the protocol's), MD steps.
SIZES = {False: {'frames': 60, 'steps': None, 'md_steps': 2000},
         True: {'frames': 10, 'steps': 100, 'md_steps': 500}}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    argparse.Namespace
        ``atoms``, ``frames``, ``steps`` (None: the protocol's), ``md_steps``, ``deviation_every``,
        ``repeats``, ``quick``, ``json``; sizes not given take the values of :data:`SIZES`.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--atoms', type=int, default=42, help='atoms of the glass, a multiple of 21 (default: 42)')
    parser.add_argument('--frames', type=int, help='labelled frames (default: 60; --quick: 10)')
    parser.add_argument('--steps', type=int, help="training steps (default: the fast protocol's; --quick: 100)")
    parser.add_argument('--md-steps', type=int, help='NVT steps of each MD run (default: 2000; --quick: 500)')
    parser.add_argument('--deviation-every', type=int, default=10,
                        help='steps between model-deviation rows of the ensemble MD (default: 10)')
    parser.add_argument('--repeats', type=int, default=2, help='repeats of both comparisons (default: 2)')
    parser.add_argument('--quick', action='store_true', help='smaller default sizes (about 9 min on 2 busy cores)')
    parser.add_argument('--json', type=Path, default=None, help='also write the numbers to this JSON file')
    args = parser.parse_args(argv)
    for key, value in SIZES[args.quick].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for key in ('atoms', 'md_steps', 'deviation_every', 'repeats', 'steps'):
        if getattr(args, key) is not None and getattr(args, key) < 1:
            parser.error(f'--{key.replace("_", "-")} must be >= 1, got {getattr(args, key)}')
    if args.frames < 5:
        parser.error(f'--frames must be >= 5 (a fifth of them validate), got {args.frames}')
    return args


def setup_codes(root: Path) -> dict:
    """Create the throw-away profile under ``root``; return the codes of the benchmark.

    Parameters
    ----------
    root : Path
        Empty temporary folder (see ``lammps_overhead.setup_profile``).

    Returns
    -------
    dict
        ``lmp``, ``packmol`` and ``dp`` codes (``aiida.orm.InstalledCode``) of the local computer.

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
    return {label: orm.load_code(f'{label}@{computer.label}') for label in ('lmp', 'packmol', 'dp')}


def serial_options() -> dict:
    """Scheduler options of a labelling or MD job: :data:`SERIAL_OPTIONS`, one OpenMP and one TensorFlow thread.

    The thread variables are those of a training job on one core (``thread_environment``):
    without them TensorFlow in ``pair_style deepmd`` would use every core of the machine.
    """
    from aiida_boroglass.workflows.learning.deepmd_ensemble import thread_environment

    return {**SERIAL_OPTIONS, 'environment_variables': thread_environment(SERIAL_OPTIONS)}


def finished(node):
    """Return ``node`` if its process finished with exit status 0.

    Raises
    ------
    RuntimeError
        Naming the process, its pk, exit status and message.
    """
    if not node.is_finished_ok:
        raise RuntimeError(f'{node.process_label}<{node.pk}> failed: exit status {node.exit_status}, '
                           f'{node.exit_message}; see `verdi process report {node.pk}`')
    return node


def timed_run(process, **inputs) -> tuple:
    """Run a process (class and inputs, or a builder) in this interpreter and time it.

    Returns
    -------
    node : aiida.orm.ProcessNode
        The finished process.
    wall_s : float
        Wall time of ``run_get_node``, s.

    Raises
    ------
    RuntimeError
        If the process did not finish with exit status 0 (see :func:`finished`).
    """
    from aiida.engine import run_get_node

    start = time.perf_counter()
    node = run_get_node(process, **inputs).node
    wall_s = time.perf_counter() - start
    return finished(node), wall_s


def make_glass(code, n_atoms: int):
    """Melt and quench :data:`COMPOSITION` with the classical force field.

    Parameters
    ----------
    code : aiida.orm.AbstractCode
        LAMMPS.
    n_atoms : int
        Atoms of the glass.

    Returns
    -------
    aiida.orm.WorkChainNode
        The finished ``MeltQuenchWorkChain``: ``structure`` (Å) and ``forcefield`` outputs.
    """
    from aiida_boroglass.data.composition import CompositionData
    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        code, CompositionData(COMPOSITION[0], x=COMPOSITION[1]), protocol=PROTOCOL,
        overrides={'n_atoms': n_atoms, 'schedule': GLASS_SCHEDULE, 'md': GLASS_MD})
    return timed_run(builder)[0]


def jittered_frames(structure, n_frames: int, seed: int = 3):
    """Copies of ``structure`` with Gaussian displacements growing over :data:`DISPLACEMENTS_A`, in its cell.

    Parameters
    ----------
    structure : aiida.orm.StructureData
        The glass, positions and cell in Å.
    n_frames : int
        Copies.
    seed : int
        Seed of the displacements.

    Returns
    -------
    aiida.orm.TrajectoryData
        Stored; ``positions`` (n_frames, n_atoms, 3) Å, frame i displaced by a normal deviate of
        width ``linspace(*DISPLACEMENTS_A, n_frames)[i]`` Å per coordinate; ``cells``
        (n_frames, 3, 3) Å, all the structure's cell.
    """
    import numpy as np
    from aiida import orm

    rng = np.random.default_rng(seed)
    sigmas = np.linspace(*DISPLACEMENTS_A, n_frames)
    reference = np.array([site.position for site in structure.sites])
    positions = reference[None] + rng.normal(size=(n_frames, *reference.shape)) * sigmas[:, None, None]
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory([site.kind_name for site in structure.sites], positions,
                              cells=np.repeat(np.array(structure.cell)[None], n_frames, axis=0), pbc=structure.pbc)
    return trajectory.store()


def labelled_dataset(code, frames):
    """Label ``frames`` with the Deng-Du force field and split them into a training dataset.

    Parameters
    ----------
    code : aiida.orm.AbstractCode
        LAMMPS.
    frames : aiida.orm.TrajectoryData
        Frames with cells, Å.

    Returns
    -------
    LabelledDatasetData
        Energies (eV), forces (eV/Å) and virials (eV) of every frame; :data:`SPLIT` of them validate.
    """
    from aiida import orm

    from aiida_boroglass.functions.datasets import dataset_from_labels
    from aiida_boroglass.workflows.ab_initio.dft_label import DftLabelWorkChain

    builder = DftLabelWorkChain.get_builder()
    builder.trajectory = frames
    builder.engine = 'classical'
    builder.code = code
    builder.dft = {'forcefield': 'deng_du'}
    builder.options = serial_options()
    builder.max_concurrent = LABEL_CONCURRENCY
    labels = timed_run(builder)[0].outputs.dataset
    return finished(dataset_from_labels.run_get_node(orm.Dict(SPLIT), frames=labels)[1]).outputs.result


def training_inputs(code, dataset, steps: int | None) -> dict:
    """Inputs of ``DeepmdTrainCalculation`` as the fast protocol of ``DeepmdEnsembleWorkChain`` sets its first model.

    Parameters
    ----------
    code : aiida.orm.AbstractCode
        DeePMD-kit's ``dp``.
    dataset : LabelledDatasetData
        The training data.
    steps : int or None
        Training steps (``numb_steps``; ``disp_freq`` is capped to it); None keeps the protocol's.

    Returns
    -------
    dict
        ``code``, ``dataset``, ``settings``, ``seed`` and ``metadata.options`` (with the thread
        environment of :func:`thread_environment`).
    """
    from aiida_boroglass.workflows.learning.deepmd_ensemble import DeepmdEnsembleWorkChain, thread_environment

    overrides = {}
    if steps is not None:
        display = DeepmdEnsembleWorkChain.get_protocol_inputs(PROTOCOL)['training']['disp_freq']
        overrides = {'training': {'numb_steps': steps, 'disp_freq': min(steps, display)}}
    ensemble = DeepmdEnsembleWorkChain.get_builder_from_protocol(code, dataset, protocol=PROTOCOL, overrides=overrides)
    options = ensemble.options.get_dict()
    options['environment_variables'] = {**thread_environment(options), **options.get('environment_variables', {})}
    return {'code': code, 'dataset': dataset, 'settings': ensemble.settings, 'seed': ensemble.seed,
            'metadata': {'options': options}}


def job_commands(job) -> list[tuple[list[str], str]]:
    """The command lines of a finished job's script that run its code, with the file of their output.

    Parameters
    ----------
    job : aiida.orm.CalcJobNode
        A job run on the local computer (its script is in its job folder).

    Returns
    -------
    list of (list of str, str)
        In script order: the arguments (the executable first) and the file that receives the
        command's standard output and error.

    Raises
    ------
    RuntimeError
        If the script runs no command of the job's code.
    """
    script = Path(job.outputs.remote_folder.get_remote_path()) / job.get_option('submit_script_filename')
    executable = str(job.inputs.code.filepath_executable)
    commands = []
    for line in script.read_text().splitlines():
        tokens = shlex.split(line) if executable in line else []
        if tokens and tokens[0] == executable and '>' in tokens:
            redirect = tokens.index('>')
            commands.append((tokens[:redirect], tokens[redirect + 1]))
    if not commands:
        raise RuntimeError(f'{script} runs no command of {executable}')
    return commands


def commands_wall_s(job, commands: list[tuple[list[str], str]]) -> float:
    """Wall time of a finished job's commands seen from its job folder, s.

    From the job script's last change (written just before submission) to the last change of
    the commands' output files: what the job spent in the scheduler and its commands, without
    AiiDA's work before submission and after the job ended.

    Parameters
    ----------
    job : aiida.orm.CalcJobNode
        A job run on the local computer.
    commands : list of (list of str, str)
        From :func:`job_commands`.
    """
    folder = Path(job.outputs.remote_folder.get_remote_path())
    start = (folder / job.get_option('submit_script_filename')).stat().st_mtime
    return max((folder / output).stat().st_mtime for _, output in commands) - start


def copy_training_inputs(job, target: Path) -> Path:
    """Copy the input files of a training job from its job folder into ``target``.

    Parameters
    ----------
    job : aiida.orm.CalcJobNode
        A finished ``DeepmdTrainCalculation``.
    target : Path
        Folder to create.

    Returns
    -------
    Path
        ``target``, holding the input JSON and the top folders (``train``, ``validation``) of the
        data systems it names.
    """
    from aiida_boroglass.calculations import deepmd_inputs as di

    source = Path(job.outputs.remote_folder.get_remote_path())
    training = json.loads((source / di.INPUT_FILE).read_text())['training']
    folders = {Path(system).parts[0] for data in ('training_data', 'validation_data')
               for system in training[data]['systems']}
    target.mkdir(parents=True)
    shutil.copy2(source / di.INPUT_FILE, target / di.INPUT_FILE)
    for folder in folders:
        shutil.copytree(source / folder, target / folder)
    return target


def run_plain(folder: Path, commands: list[tuple[list[str], str]], environment: dict[str, str]) -> float:
    """Run ``commands`` one after the other in ``folder``, as the job script does; return their wall time (s).

    Parameters
    ----------
    folder : Path
        Folder with the job's input files.
    commands : list of (list of str, str)
        From :func:`job_commands`: arguments and output file of each command.
    environment : dict of str to str
        Variables the job script exports, set over this process's environment.

    Raises
    ------
    RuntimeError
        If a command exits with an error (the tail of its output is in the message).
    """
    variables = {**os.environ, **environment}
    start = time.perf_counter()
    for arguments, output in commands:
        with open(folder / output, 'w') as stdout:
            result = subprocess.run(arguments, cwd=folder, stdout=stdout, stderr=subprocess.STDOUT, env=variables,
                                    check=False)
        if result.returncode:
            tail = (folder / output).read_text().splitlines()[-15:]
            raise RuntimeError(f'{shlex.join(arguments)} failed in {folder} (exit {result.returncode}):\n'
                               + '\n'.join(tail))
    return time.perf_counter() - start


def time_training(inputs: dict, root: Path, repeats: int) -> tuple[list[dict], object]:
    """Train with ``DeepmdTrainCalculation`` and with plain ``dp``, ``repeats`` times, alternating the order.

    Parameters
    ----------
    inputs : dict
        From :func:`training_inputs`.
    root : Path
        Folder under which one folder per plain run is made.
    repeats : int
        Pairs of runs; the CalcJob goes first on even repeats.

    Returns
    -------
    rows : list of dict
        Per repeat: ``first`` (``calcjob`` or ``plain``), ``pk``, ``calcjob_wall_s``,
        ``job_commands_s`` (of it, the job's commands: :func:`commands_wall_s`) and
        ``plain_wall_s`` (s), ``ratio`` (CalcJob / plain).
    reference : aiida.orm.CalcJobNode
        The first CalcJob, whose files every plain run used.
    """
    from aiida_boroglass.calculations.deepmd import DeepmdTrainCalculation

    jobs = []

    def calcjob(repeat: int) -> dict:
        metadata = {**inputs['metadata'], 'label': f'repeat_{repeat}'}
        job, wall_s = timed_run(DeepmdTrainCalculation, **{**inputs, 'metadata': metadata})
        jobs.append(job)
        return {'pk': job.pk, 'calcjob_wall_s': wall_s, 'job_commands_s': commands_wall_s(job, job_commands(job))}

    def plain(repeat: int) -> dict:
        folder = copy_training_inputs(jobs[0], root / f'plain_{repeat}')
        return {'plain_wall_s': run_plain(folder, job_commands(jobs[0]), jobs[0].get_option('environment_variables'))}

    rows = []
    for repeat in range(repeats):
        order = (calcjob, plain) if repeat % 2 == 0 else (plain, calcjob)
        row = {'first': order[0].__name__}
        for step in order:
            row.update(step(repeat))
        rows.append({**row, 'ratio': row['calcjob_wall_s'] / row['plain_wall_s']})
    return rows, jobs[0]


def md_potentials(forcefield, model, deviation_every: int) -> dict[str, dict]:
    """The three potentials of the speed comparison, as ``BoroglassLammpsCalculation`` inputs.

    Parameters
    ----------
    forcefield : aiida.orm.Dict
        Resolved classical force field.
    model : aiida.orm.SinglefileData
        Frozen DeePMD model with its ``type_map`` attribute.
    deviation_every : int
        Steps between model-deviation rows of the ensemble.

    Returns
    -------
    dict
        ``classical``, ``deepmd`` (the model alone) and ``deepmd_x2`` (the model twice, with a
        model deviation), each a dict of ``forcefield`` or ``models`` + ``deepmd`` inputs.
    """
    from aiida import orm

    type_map = model.base.attributes.get('type_map')
    return {
        'classical': {'forcefield': forcefield},
        'deepmd': {'models': {'model_0': model}, 'deepmd': orm.Dict({'type_map': type_map})},
        'deepmd_x2': {'models': {'model_0': model, 'model_1': model},
                      'deepmd': orm.Dict({'type_map': type_map, 'model_deviation_every': deviation_every})},
    }


def md_rate(code, structure, potential: dict, steps: int) -> tuple[float, int]:
    """Run ``steps`` NVT steps at :data:`MD_TEMPERATURE_K` from ``structure``; return LAMMPS' speed.

    Parameters
    ----------
    code : aiida.orm.AbstractCode
        LAMMPS.
    structure : aiida.orm.StructureData
        The glass, Å.
    potential : dict
        One value of :func:`md_potentials`.
    steps : int
        MD steps.

    Returns
    -------
    atom_steps_per_s : float
        Of the run's ``Performance`` line, atom-steps/s.
    pk : int
        Of the ``BoroglassLammpsCalculation``.
    """
    from aiida import orm

    from aiida_boroglass.calculations.lammps import BoroglassLammpsCalculation
    from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

    stage = {'name': 'hold', 'type': 'nvt', 'steps': steps, 'temperature_k': MD_TEMPERATURE_K}
    cmdline = MeltQuenchWorkChain.get_protocol_inputs(PROTOCOL)['lammps_cmdline']
    job, _ = timed_run(BoroglassLammpsCalculation, code=code, structure=structure, **potential,
                       parameters=orm.Dict({'stages': [stage]}), settings=orm.Dict({'cmdline': cmdline}),
                       metadata={'options': serial_options()})
    rates = job.outputs.results['atom_steps_per_s']
    if not rates:
        raise RuntimeError(f'{job.process_label}<{job.pk}>: no Performance line in its LAMMPS log')
    return rates[-1], job.pk


def time_md(code, structure, potentials: dict[str, dict], steps: int, repeats: int) -> list[dict]:
    """Measure the MD speed of every potential ``repeats`` times, in reverse order on odd repeats.

    Parameters
    ----------
    code : aiida.orm.AbstractCode
        LAMMPS.
    structure : aiida.orm.StructureData
        The glass, Å.
    potentials : dict
        From :func:`md_potentials`; ``classical`` is the reference.
    steps : int
        MD steps of each run.
    repeats : int
        Rounds of runs.

    Returns
    -------
    list of dict
        Per repeat: ``atom_steps_per_s`` and ``pk`` by potential; ``ratio`` by DeePMD potential
        (its atom-steps/s / the classical ones).
    """
    rows = []
    for repeat in range(repeats):
        names = list(potentials) if repeat % 2 == 0 else list(reversed(potentials))
        runs = {name: md_rate(code, structure, potentials[name], steps) for name in names}
        rates = {name: runs[name][0] for name in potentials}
        rows.append({'atom_steps_per_s': rates, 'pk': {name: runs[name][1] for name in potentials},
                     'ratio': {name: rates[name] / rates['classical'] for name in potentials if name != 'classical'}})
    return rows


def mean_and_spread(values: list[float]) -> dict[str, float]:
    """``mean`` and ``spread`` (max - min) of ``values`` (same units)."""
    return {'mean': statistics.fmean(values), 'spread': max(values) - min(values)}


def benchmark(args: argparse.Namespace, root: Path) -> dict:
    """Build the data, run both comparisons under ``root``; return the numbers (s, atom-steps/s, ratios)."""
    codes = setup_codes(root)
    glass = make_glass(codes['lmp'], args.atoms)
    structure = glass.outputs.structure
    print(f'glass: {glass.process_label}<{glass.pk}>, {len(structure.sites)} atoms', flush=True)
    dataset = labelled_dataset(codes['lmp'], jittered_frames(structure, args.frames))
    print(f'dataset: {dataset.n_frames} labelled frames', flush=True)

    inputs = training_inputs(codes['dp'], dataset, args.steps)
    training, reference = time_training(inputs, root / 'plain', args.repeats)
    print(f'training: {len(training)} repeat(s) done', flush=True)
    potentials = md_potentials(glass.outputs.forcefield, reference.outputs.model, args.deviation_every)
    md = time_md(codes['lmp'], structure, potentials, args.md_steps, args.repeats)
    return {
        'composition': glass.inputs.composition.label_text, 'n_atoms': len(structure.sites),
        'frames': dataset.n_frames, 'training_steps': inputs['settings']['training']['numb_steps'],
        'md_steps': args.md_steps, 'md_temperature_k': MD_TEMPERATURE_K, 'deviation_every': args.deviation_every,
        'validation_force_rmse_ev_a': reference.outputs.validation['force_rmse_ev_a'],
        'training': training, 'training_ratio': mean_and_spread([row['ratio'] for row in training]),
        'md': md, 'md_ratio': {name: mean_and_spread([row['ratio'][name] for row in md]) for name in md[0]['ratio']},
    }


def report(results: dict) -> str:
    """Return the tables of the results as text."""
    training, md = results['training'], results['md']
    names = list(md[0]['atom_steps_per_s'])
    lines = [
        f'glass: {results["composition"]}, {results["n_atoms"]} atoms; {results["frames"]} frames labelled by Deng-Du; '
        f'validation force RMSE of the model {results["validation_force_rmse_ev_a"]:.3f} eV/Å',
        '', f'training, {results["training_steps"]} steps (dp --tf train, freeze, test):',
        f'{"repeat":<8}{"first":<10}{"CalcJob wall (s)":>18}{"its dp in job (s)":>19}{"plain wall (s)":>16}'
        f'{"ratio":>8}',
        *(f'{index:<8}{row["first"]:<10}{row["calcjob_wall_s"]:>18.2f}{row["job_commands_s"]:>19.2f}'
          f'{row["plain_wall_s"]:>16.2f}{row["ratio"]:>8.3f}' for index, row in enumerate(training)),
        f'CalcJob / plain dp: mean {results["training_ratio"]["mean"]:.3f}, '
        f'spread {results["training_ratio"]["spread"]:.3f} over {len(training)} repeat(s) (goal <= 1.05)',
        '', f'MD, {results["md_steps"]} NVT steps at {results["md_temperature_k"]:g} K, atom-steps/s '
        f'(deepmd_x2: model deviation every {results["deviation_every"]} steps):',
        f'{"repeat":<8}' + ''.join(f'{name:>14}' for name in names) + ''.join(f'{name + "/classical":>24}'
                                                                             for name in names[1:]),
        *(f'{index:<8}' + ''.join(f'{row["atom_steps_per_s"][name]:>14.4g}' for name in names)
          + ''.join(f'{row["ratio"][name]:>24.4f}' for name in names[1:]) for index, row in enumerate(md)),
        *(f'{name} / classical: mean {stats["mean"]:.4f}, spread {stats["spread"]:.4f} over {len(md)} repeat(s)'
          for name, stats in results['md_ratio'].items()),
    ]
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the tables, optionally write the JSON; return the exit code (1 on a failure)."""
    args = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix='boroglass-deepmd-bench-'))
    try:
        results = benchmark(args, root)
    except RuntimeError as error:
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
