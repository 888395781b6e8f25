"""AiiDA-free parsing of LAMMPS text output: log files with stage markers and custom dumps."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from aiida_boroglass.calculations.lammps_inputs import (
    DEFORM_THERMO_COLUMNS,
    SINGLE_POINT,
    SINGLE_POINT_COLUMNS,
    STAGE_BEGIN,
    STAGE_END,
    STRESS_AVERAGE,
    STRESS_AVERAGE_COLUMNS,
    THERMO_COLUMNS,
)

_ERROR = re.compile(r'^ERROR(?: on proc \d+)?: (.*)$')
_LOOP = re.compile(r'^Loop time of [\d.eE+-]+ on \d+ procs for (\d+) steps')
_WALL = re.compile(r'^Total wall time: (\d+):(\d+):(\d+)')
_PERFORMANCE = re.compile(r'^Performance: .*?([\d.]+) timesteps/s(?:, ([\d.]+) (k|M)?atom-step/s)?')
_TIMEOUT = 'Wall time limit reached'  # LAMMPS' warning when ``timer timeout`` fires
#: what MPICH's mpirun prints when a rank dies of a signal or exits with an error code
_MPI_TERMINATION = re.compile(r'^(?:YOUR APPLICATION TERMINATED WITH THE EXIT STRING: (.*)|=\s+EXIT CODE: (\d+))$')


def parse_log(text: str) -> dict:
    """Parse a LAMMPS log written by a script from :func:`write_script`.

    Parameters
    ----------
    text : str
        Content of ``log.lammps`` (or the captured standard output).

    Returns
    -------
    dict
        ``version`` (str or None); ``stages``: list of dicts with ``index``, ``name``,
        ``finished`` (end marker seen), ``loop_steps`` (steps LAMMPS reports for the stage's
        run, which may stop between thermo lines on a timeout) and ``thermo`` (column name -> list of floats, in
        LAMMPS metal units: step, ps, K, bar, eV, Å^3, g/cm^3, Å; a ``deform`` stage adds the
        pressure tensor ``pxx ... pyz``, bar); ``errors`` and
        ``warnings`` (lists of str); ``timeout`` (bool, LAMMPS' ``timer timeout`` fired);
        ``wall_time_s`` (float or None); ``atom_steps_per_s`` (list of float, one per run).
    """
    result = {'version': None, 'stages': [], 'errors': [], 'warnings': [], 'timeout': False,
              'wall_time_s': None, 'atom_steps_per_s': []}
    current = None
    columns = None
    for raw in text.splitlines():
        line = raw.strip()
        if result['version'] is None and line.startswith('LAMMPS ('):
            result['version'] = line[len('LAMMPS ('):].rstrip(')')
        if line.startswith(STAGE_BEGIN):
            _, index, name = line.split(maxsplit=2)
            current = {'index': int(index), 'name': name, 'finished': False, 'loop_steps': None,
                       'thermo': {c: [] for c in THERMO_COLUMNS}}
            result['stages'].append(current)
            continue
        if line.startswith(STAGE_END) and current is not None:
            current['finished'] = True
            continue
        if columns is not None:
            values = line.split()
            if len(values) == len(columns) and _is_number(values[0]):
                for column, value in zip(columns, values):
                    current['thermo'][column].append(float(value))
                continue
            if match := _LOOP.match(line):
                current['loop_steps'] = int(match.group(1))
                columns = None
        elif current is not None and line.split()[:2] == ['Step', 'Time']:
            # the script sets ``thermo_style custom`` with these columns, a deform stage with the pressure tensor too
            columns = DEFORM_THERMO_COLUMNS if len(line.split()) == len(DEFORM_THERMO_COLUMNS) else THERMO_COLUMNS
            for column in columns:
                current['thermo'].setdefault(column, [])
            continue
        _scan_messages(line, result)
    return result


def parse_stdout(text: str) -> dict:
    """Collect what every MPI rank and the MPI launcher printed to standard output.

    ``log.lammps`` is written by rank 0 only: an error raised on another rank ("ERROR on
    proc 1: ...") and the launcher's report of a rank killed by a signal reach only stdout.

    Parameters
    ----------
    text : str
        The captured standard output (and error) of ``mpirun ... lmp``.

    Returns
    -------
    dict
        ``errors`` (list of str, every rank, in order, without repeats); ``termination``
        (str or None): the launcher's reason for an abnormal end, e.g. ``Killed (signal 9)``
        or ``exit code 139``; ``timeout`` (bool): LAMMPS' ``timer timeout`` fired.
    """
    scanned = {'errors': [], 'warnings': [], 'timeout': False, 'wall_time_s': None, 'atom_steps_per_s': []}
    termination = None
    for raw in text.splitlines():
        line = raw.strip()
        if match := _MPI_TERMINATION.match(line):
            termination = match.group(1) or termination or f'exit code {match.group(2)}'
            continue
        _scan_messages(line, scanned)
    return {'errors': list(dict.fromkeys(scanned['errors'])), 'termination': termination,
            'timeout': scanned['timeout']}


def _scan_messages(line: str, result: dict) -> None:
    """Record errors, warnings, timeout, wall time and performance found in one log line."""
    if match := _ERROR.match(line):
        result['errors'].append(match.group(1))
    elif line.startswith('WARNING'):
        result['warnings'].append(line)
        result['timeout'] = result['timeout'] or _TIMEOUT in line
    elif match := _WALL.match(line):
        hours, minutes, seconds = map(int, match.groups())
        result['wall_time_s'] = float(hours * 3600 + minutes * 60 + seconds)
    elif match := _PERFORMANCE.match(line):
        if match.group(2):
            scale = {'k': 1e3, 'M': 1e6, None: 1.0}[match.group(3)]
            result['atom_steps_per_s'].append(float(match.group(2)) * scale)


def _is_number(token: str) -> bool:
    """Return whether ``token`` reads as a float."""
    try:
        float(token)
    except ValueError:
        return False
    return True


def _is_whole_frame(chunk: str) -> bool:
    """Whether one dump frame (the text after ``ITEM: TIMESTEP``) holds all its atom lines, each complete."""
    lines = chunk.strip('\n').split('\n')
    try:
        n_atoms = int(lines[2])
    except (IndexError, ValueError):
        return False
    rows = lines[8:]
    return len(rows) == n_atoms and len(rows[-1].split()) == len(lines[7].split()) - 2


@dataclass(frozen=True)
class DumpFrames:
    """Frames read from a LAMMPS custom dump sorted by atom id.

    Attributes
    ----------
    steps : np.ndarray, shape (n_frames,)
        Timesteps of the frames.
    cells : np.ndarray, shape (n_frames, 3, 3)
        Cell vectors as rows, Å.
    origins : np.ndarray, shape (n_frames, 3)
        Lower box corner (xlo, ylo, zlo), Å.
    types : np.ndarray, shape (n_atoms,)
        LAMMPS atom types of the first frame (1-based).
    positions : np.ndarray, shape (n_frames, n_atoms, 3)
        Positions as written (wrapped ``x y z`` or unwrapped ``xu yu zu``), Å.
    """

    steps: np.ndarray
    cells: np.ndarray
    origins: np.ndarray
    types: np.ndarray
    positions: np.ndarray


def _box_from_bounds(header: str, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (cell rows, origin) in Å from a dump's BOX BOUNDS header and its (3, 2|3) numbers."""
    if 'xy' in header.split():
        (xlo_b, xhi_b, xy), (ylo_b, yhi_b, xz), (zlo, zhi, yz) = bounds
        xlo = xlo_b - min(0.0, xy, xz, xy + xz)
        xhi = xhi_b - max(0.0, xy, xz, xy + xz)
        ylo = ylo_b - min(0.0, yz)
        yhi = yhi_b - max(0.0, yz)
    else:
        (xlo, xhi), (ylo, yhi), (zlo, zhi) = bounds[:, :2]
        xy = xz = yz = 0.0
    cell = np.array([[xhi - xlo, 0.0, 0.0], [xy, yhi - ylo, 0.0], [xz, yz, zhi - zlo]])
    return cell, np.array([xlo, ylo, zlo])


def parse_dump(text: str, partial: bool = False) -> DumpFrames:
    """Parse a LAMMPS ``dump custom`` file with columns ``id type`` and three coordinates.

    Parameters
    ----------
    text : str
        Dump file content; each frame must hold the same atoms.
    partial : bool
        The run stopped abnormally: a last frame cut off while it was written is dropped
        instead of refused.

    Returns
    -------
    DumpFrames
        Steps, cells, origins, types and positions (rows sorted by atom id).

    Raises
    ------
    ValueError
        If the file holds no frame or frames differ in their atom count.
    """
    chunks = text.split('ITEM: TIMESTEP')[1:]
    if partial and chunks and not _is_whole_frame(chunks[-1]):
        chunks = chunks[:-1]
    if not chunks:
        raise ValueError('dump: no frame found')
    steps, cells, origins, positions, types = [], [], [], [], None
    for chunk in chunks:
        lines = chunk.strip('\n').split('\n')
        n_atoms = int(lines[2])
        cell, origin = _box_from_bounds(lines[3], np.array([l.split() for l in lines[4:7]], dtype=float))
        table = np.array(' '.join(lines[8:8 + n_atoms]).split(), dtype=float).reshape(n_atoms, -1)
        table = table[np.argsort(table[:, 0])]
        if types is None:
            types = table[:, 1].astype(int)
        elif len(table) != len(types):
            raise ValueError(f'dump: frame at step {lines[0]} has {len(table)} atoms, expected {len(types)}')
        steps.append(int(lines[0]))
        cells.append(cell)
        origins.append(origin)
        positions.append(table[:, 2:5])
    return DumpFrames(np.array(steps), np.array(cells), np.array(origins), types, np.array(positions))


#: columns of a DeePMD model-deviation file written by LAMMPS ``pair_style deepmd ... out_file``
MODEL_DEVIATION_COLUMNS = ('step', 'max_devi_v', 'min_devi_v', 'avg_devi_v', 'max_devi_f', 'min_devi_f', 'avg_devi_f')


def parse_model_deviation(text: str) -> dict[str, np.ndarray]:
    """Parse the model deviation that LAMMPS' ``pair_style deepmd`` (or ``dp model-devi``) writes for an ensemble.

    Each row is one force evaluation at a step that is a multiple of ``out_freq``; ``#``
    lines (the header, absent when the file was opened after a ``read_restart``) are skipped,
    and so is a last row cut off while it was written. Extra per-atom columns
    (``atomic`` keyword) are ignored.

    Parameters
    ----------
    text : str
        Content of the ``out_file``.

    Returns
    -------
    dict of str to np.ndarray
        ``step`` (n,) int; ``max_devi_f``, ``min_devi_f``, ``avg_devi_f`` (n,) float: the largest,
        smallest and mean over atoms of the force deviation ``sqrt(<|F_i - <F_i>|^2>)`` across
        the models, eV/Å; ``max_devi_v``, ``min_devi_v``, ``avg_devi_v`` (n,) float: largest,
        smallest and root mean square over the 9 components of the deviation of the virial
        divided by the atom count, eV per atom.
    """
    rows = [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith('#')]
    width = len(MODEL_DEVIATION_COLUMNS)
    if rows and (len(rows[-1]) < width or not all(_is_number(token) for token in rows[-1][:width])):
        rows = rows[:-1]
    table = np.array([row[:width] for row in rows], dtype=float).reshape(-1, width)
    result = {column: table[:, index] for index, column in enumerate(MODEL_DEVIATION_COLUMNS)}
    result['step'] = np.rint(result['step']).astype(int)
    return result


def parse_single_point(text: str) -> tuple[float, np.ndarray] | None:
    """Energy and pressure tensor printed by a ``single_point`` stage, or ``None`` when absent.

    Parameters
    ----------
    text : str
        Content of ``log.lammps``.

    Returns
    -------
    tuple (float, np.ndarray of shape (3, 3)) or None
        Potential energy, eV, and the symmetric pressure tensor (the virial part; positive
        under compression), bar, in the LAMMPS frame.
    """
    for line in text.splitlines():
        if line.startswith(SINGLE_POINT):
            values = dict(zip(SINGLE_POINT_COLUMNS, map(float, line.split()[1:])))
            return values['pe'], _pressure_tensor(values)
    return None


def _pressure_tensor(values: dict[str, float]) -> np.ndarray:
    """The symmetric (3, 3) tensor of the components ``pxx pyy pzz pxy pxz pyz`` in ``values``."""
    xx, yy, zz, xy, xz, yz = (values[column] for column in STRESS_AVERAGE_COLUMNS)
    return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])


def parse_stress_averages(text: str) -> dict[int, tuple[np.ndarray, int]]:
    """Pressure tensors averaged by the ``average_stress`` stages of a run.

    Parameters
    ----------
    text : str
        Content of ``log.lammps``.

    Returns
    -------
    dict of int to tuple (np.ndarray of shape (3, 3), int)
        Stage index -> the symmetric pressure tensor averaged over the stage's steps (kinetic
        part included; positive under compression), bar, in the LAMMPS frame, and the number
        of steps averaged. Empty when no stage averaged.
    """
    averages = {}
    for line in text.splitlines():
        if line.startswith(STRESS_AVERAGE):
            _, index, steps, *numbers = line.split()
            averages[int(index)] = (_pressure_tensor(dict(zip(STRESS_AVERAGE_COLUMNS, map(float, numbers)))), int(steps))
    return averages
