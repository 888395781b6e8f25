"""AiiDA-free parsing of CP2K text output: standard output, XYZ trajectories, cell, energy and restart files.

Every function takes the text of one file and returns numbers in the package's units
(Å, ps, eV, eV/Å, GPa, K); the conversions use :mod:`aiida_boroglass.glass.elements`.
Written against CP2K 2023.1 at ``PRINT_LEVEL LOW`` (tests/parsers/fixtures/cp2k_*).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from aiida_boroglass.glass.elements import HARTREE_BOHR_EV_A, HARTREE_EV

_NUMBER = r'[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?'
_FRAME_STEP = re.compile(r'\bi\s*=\s*(\d+)')
_FRAME_TIME = re.compile(rf'\btime\s*=\s*({_NUMBER})')
_FRAME_ENERGY = re.compile(rf'\bE\s*=\s*({_NUMBER})')
_TOTAL_ENERGY = re.compile(rf'^ ENERGY\| Total FORCE_EVAL \( \w+ \) energy \[a\.u\.\]:\s+({_NUMBER})', re.MULTILINE)
_STRESS_ROW = re.compile(rf'^ STRESS\|\s+([xyz])\s+({_NUMBER})\s+({_NUMBER})\s+({_NUMBER})\s*$')
_MD_STEP = re.compile(r'^ MD\| Step number\s+(\d+)', re.MULTILINE)
_RESTART_STEP = re.compile(r'^\s*STEP_START_VAL\s+(\d+)', re.MULTILINE)
_VERSION = re.compile(r'^ CP2K\| version string:\s+CP2K version (\S+)', re.MULTILINE)
_RUN_TYPE = re.compile(r'^ GLOBAL\| Run type\s+(\S+)', re.MULTILINE)
#: what CP2K prints when GLOBAL/WALLTIME stops the SCF and the MD or geometry loop
WALLTIME_EXCEEDED = 'exceeded requested execution time'
#: the warning of an SCF that ended without reaching EPS_SCF (CP2K 2023.1 goes on; later versions abort)
SCF_NOT_CONVERGED = 'SCF run NOT converged'
#: columns of CP2K's MD energy file (``MOTION/MD/PRINT/ENERGY``) and their conversion to our units
ENERGY_COLUMNS = (('step', 1.0), ('time_ps', 1e-3), ('kinetic_ev', HARTREE_EV), ('temperature_k', 1.0),
                  ('potential_ev', HARTREE_EV), ('conserved_ev', HARTREE_EV))
#: numbers on one line of the energy file: the columns above and the CPU time of the step (s)
ENERGY_FILE_WIDTH = 7


@dataclass(frozen=True)
class XyzFrames:
    """Frames of a CP2K XYZ trajectory (``PRINT/TRAJECTORY`` or ``PRINT/FORCES``).

    Attributes
    ----------
    steps : np.ndarray of int, shape (n_frames,)
        CP2K's step counter ``i`` of each frame (MD step, or geometry-optimisation iteration).
    times_fs : np.ndarray of float, shape (n_frames,), or None
        Simulated time of each frame, fs; None for runs that print no time (GEO_OPT).
    energies_ha : np.ndarray of float, shape (n_frames,)
        Potential energy ``E`` of each frame, Hartree.
    symbols : list of str, length n_atoms
        Element (kind) names of the first frame.
    values : np.ndarray of float, shape (n_frames, n_atoms, 3)
        The three numbers of every atom line as written: positions in Å, or forces in
        Hartree/Bohr.
    """

    steps: np.ndarray
    times_fs: np.ndarray | None
    energies_ha: np.ndarray
    symbols: list[str]
    values: np.ndarray


def parse_xyz_frames(text: str, partial: bool = False) -> XyzFrames:
    """Parse a CP2K XYZ trajectory whose comment lines read ``i = <step>, [time = <fs>,] E = <Hartree>``.

    Parameters
    ----------
    text : str
        Content of ``<project>-pos-1.xyz`` or ``<project>-frc-1.xyz``.
    partial : bool
        The run stopped abnormally: a last frame cut off while it was written is dropped
        instead of refused.

    Returns
    -------
    XyzFrames

    Raises
    ------
    ValueError
        If the file holds no frame, a frame is incomplete (unless it is the last one and
        ``partial``), or frames differ in their atom count.
    """
    lines = text.splitlines()
    steps, times, energies, values, symbols = [], [], [], [], None
    index = 0
    while index < len(lines) and lines[index].strip():
        n_atoms = int(lines[index])
        rows = [line.split() for line in lines[index + 2:index + 2 + n_atoms]]
        if len(rows) < n_atoms or len(rows[-1]) < 4 or index + 1 >= len(lines):
            if partial:
                break
            raise ValueError(f'xyz: frame starting at line {index + 1} holds {len(rows)} of {n_atoms} atoms')
        comment = lines[index + 1]
        step, energy = _FRAME_STEP.search(comment), _FRAME_ENERGY.search(comment)
        if step is None or energy is None:
            raise ValueError(f'xyz: comment line {index + 2} has no step "i =" or energy "E =": {comment.strip()!r}')
        if symbols is None:
            symbols = [row[0] for row in rows]
        elif len(rows) != len(symbols):
            raise ValueError(f'xyz: frame of step {step.group(1)} has {len(rows)} atoms, expected {len(symbols)}')
        time = _FRAME_TIME.search(comment)
        steps.append(int(step.group(1)))
        times.append(float(time.group(1)) if time else None)
        energies.append(float(energy.group(1)))
        values.append([[float(v) for v in row[1:4]] for row in rows])
        index += 2 + n_atoms
    if not steps:
        raise ValueError('xyz: no frame found')
    times_fs = None if any(t is None for t in times) else np.array(times, dtype=float)
    return XyzFrames(np.array(steps, dtype=int), times_fs, np.array(energies, dtype=float), symbols,
                     np.array(values, dtype=float).reshape(len(steps), len(symbols), 3))


def parse_cell_file(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse CP2K's cell file (``MOTION/PRINT/CELL``): one line per printed step.

    Parameters
    ----------
    text : str
        Content of ``<project>-1.cell``: a ``#`` header, then ``step time Ax Ay Az Bx By Bz Cx Cy Cz volume``.

    Returns
    -------
    steps : np.ndarray of int, shape (n_rows,)
    cells : np.ndarray of float, shape (n_rows, 3, 3)
        Cell vectors as rows, Å.
    """
    rows = [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith('#')]
    rows = [row for row in rows if len(row) == 12]
    table = np.array(rows, dtype=float).reshape(-1, 12)
    return table[:, 0].astype(int), table[:, 2:11].reshape(-1, 3, 3)


def parse_energy_file(text: str) -> dict[str, np.ndarray]:
    """Parse CP2K's MD energy file (``MOTION/MD/PRINT/ENERGY``, ``aiida-1.ener``).

    Parameters
    ----------
    text : str
        A ``#`` header, then per step: step, time (fs), kinetic energy (Hartree),
        temperature (K), potential energy (Hartree), conserved quantity (Hartree), CPU time
        of the step (s). A last line cut off while it was written is dropped.

    Returns
    -------
    dict of str to np.ndarray, each of shape (n_steps,)
        ``step`` (int), ``time_ps`` (ps), ``kinetic_ev`` (eV), ``temperature_k`` (K),
        ``potential_ev`` (eV), ``conserved_ev`` (eV).
    """
    rows = [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith('#')]
    table = np.array([row[:len(ENERGY_COLUMNS)] for row in rows if len(row) == ENERGY_FILE_WIDTH],
                     dtype=float).reshape(-1, len(ENERGY_COLUMNS))
    columns = {name: table[:, k] * factor for k, (name, factor) in enumerate(ENERGY_COLUMNS)}
    columns['step'] = columns['step'].astype(int)
    return columns


def parse_total_energy(text: str) -> float | None:
    """The last ``ENERGY| Total FORCE_EVAL ( QS ) energy [a.u.]:`` of CP2K's standard output, eV; None if absent."""
    found = _TOTAL_ENERGY.findall(text)
    return float(found[-1]) * HARTREE_EV if found else None


def parse_atomic_forces(text: str) -> np.ndarray | None:
    """The last ``ATOMIC FORCES in [a.u.]`` block of CP2K's standard output (``FORCE_EVAL/PRINT/FORCES``).

    Parameters
    ----------
    text : str
        CP2K's standard output.

    Returns
    -------
    np.ndarray of float, shape (n_atoms, 3), or None
        Forces in eV/Å, rows in the input order of the atoms (CP2K's ``# Atom`` column);
        None when no block was printed.
    """
    start = text.rfind(' ATOMIC FORCES in [a.u.]')
    if start < 0:
        return None
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith(' SUM OF ATOMIC FORCES'):
            break
        parts = line.split()
        if len(parts) == 6 and parts[0].isdigit():
            rows.append((int(parts[0]), [float(v) for v in parts[3:6]]))
    rows.sort()
    return np.array([force for _, force in rows], dtype=float).reshape(-1, 3) * HARTREE_BOHR_EV_A


def parse_stress(text: str) -> np.ndarray | None:
    """The last ``STRESS| Analytical stress tensor [GPa]`` of CP2K's standard output.

    Parameters
    ----------
    text : str
        CP2K's standard output (``FORCE_EVAL/STRESS_TENSOR ANALYTICAL`` and
        ``FORCE_EVAL/PRINT/STRESS_TENSOR``).

    Returns
    -------
    np.ndarray of float, shape (3, 3), or None
        The stress tensor in GPa as CP2K prints it (its sign convention: one third of the
        trace is the pressure, positive under compression); None when not printed.
    """
    start = text.rfind(' STRESS| Analytical stress tensor [GPa]')
    if start < 0:
        return None
    rows = {}
    for line in text[start:].splitlines()[1:5]:
        if match := _STRESS_ROW.match(line):
            rows[match.group(1)] = [float(v) for v in match.group(2, 3, 4)]
    if sorted(rows) != ['x', 'y', 'z']:
        raise ValueError('stress: the analytical stress tensor block lacks its x, y and z rows')
    return np.array([rows['x'], rows['y'], rows['z']])


def parse_restart_step(text: str) -> int | None:
    """The step counter ``STEP_START_VAL`` of a CP2K restart file (MD step or GEO_OPT iteration); None if absent."""
    match = _RESTART_STEP.search(text)
    return int(match.group(1)) if match else None


def parse_stdout(text: str) -> dict:
    """Summarise CP2K's standard output.

    Parameters
    ----------
    text : str
        CP2K's standard output.

    Returns
    -------
    dict
        ``cp2k_version`` (str or None), ``run_type`` (str or None, e.g. ``MD``,
        ``ENERGY_FORCE``, ``GEO_OPT``), ``md_first_step`` and ``md_last_step`` (the first
        and last completed MD step, from ``MD| Step number``; None without any),
        ``md_steps_done`` (int), ``scf_not_converged`` (how many SCF runs ended
        unconverged, int) and ``exceeded_walltime`` (bool, ``GLOBAL/WALLTIME`` stopped the run).
    """
    version, run_type = _VERSION.search(text), _RUN_TYPE.search(text)
    md_steps = [int(step) for step in _MD_STEP.findall(text)]
    return {
        'cp2k_version': version.group(1) if version else None,
        'run_type': run_type.group(1) if run_type else None,
        'md_first_step': md_steps[0] if md_steps else None,
        'md_last_step': md_steps[-1] if md_steps else None,
        'md_steps_done': len(md_steps),
        'scf_not_converged': text.count(SCF_NOT_CONVERGED),
        'exceeded_walltime': WALLTIME_EXCEEDED in text,
    }
