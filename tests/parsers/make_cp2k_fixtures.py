"""Record the real CP2K outputs kept in ``tests/parsers/fixtures/cp2k_<case>/``.

Run from the repository root with the project's virtual environment on PATH::

    OMP_NUM_THREADS=1 python tests/parsers/make_cp2k_fixtures.py CASE [CASE ...]

Each case builds its parameters with :mod:`aiida_boroglass.calculations.cp2k_inputs` for the
21-atom K borate glass of ``tests/fixtures/k_borate_21.extxyz``, renders them as
``Cp2kCalculation`` does (``aiida_cp2k.utils.Cp2kInput``, project ``aiida``, cell and XYZ
coordinate file added), runs ``cp2k.psmp -i aiida.inp`` (stdout and stderr to ``aiida.out``,
as the CalcJob joins them) and keeps the files the CalcJob retrieves, with ``aiida.out``
trimmed by :func:`trim_stdout`. ``parameters.json`` holds the input parameters for the tests
to rebuild the node. See README_cp2k.md.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import ase.io
from aiida_cp2k.calculations import Cp2kCalculation, _atoms_to_xyz
from aiida_cp2k.utils import Cp2kInput

from aiida_boroglass.calculations import cp2k_inputs as ci

HERE = Path(__file__).parent / 'fixtures'
STRUCTURE = Path(__file__).parents[1] / 'fixtures' / 'k_borate_21.extxyz'
#: what Cp2kCalculation retrieves, plus the energy file the work chain adds for MD runs
RETRIEVED = ('aiida.out', 'aiida-1.restart', 'aiida-pos-1.xyz', 'aiida-frc-1.xyz', 'aiida-1.cell', ci.ENERGY_FILE)
DFT = {'basis_set': 'SZV-MOLOPT-SR-GTH', 'cutoff_ry': 200, 'rel_cutoff_ry': 30, 'eps_scf': 1.0e-5, 'max_scf': 30,
       'max_outer_scf': 5, 'scf_method': 'ot', 'ot_minimizer': 'DIIS', 'preconditioner': 'FULL_SINGLE_INVERSE',
       'mixing_alpha': 0.4, 'kpoints': None}
MD = {'timestep_fs': 1.0, 'nose_length': 3, 'thermostat_timecon_fs': 50.0, 'print_every': 1}


def _elements() -> list[str]:
    """Element of each atom of the test glass, in input order."""
    return ase.io.read(STRUCTURE).get_chemical_symbols()


def _without_outer_loop(parameters: dict, max_scf: int) -> dict:
    """``parameters`` with ``MAX_SCF`` set and the OT outer loop removed: the SCF ends after ``max_scf`` steps."""
    params = copy.deepcopy(parameters)
    scf = params['FORCE_EVAL']['DFT']['SCF']
    scf['MAX_SCF'] = max_scf
    scf.pop('OUTER_SCF', None)
    return params


def _with_walltime(parameters: dict, seconds: int) -> dict:
    """``parameters`` with CP2K's ``GLOBAL/WALLTIME``, s."""
    params = copy.deepcopy(parameters)
    params['GLOBAL']['WALLTIME'] = seconds
    return params


def case_parameters(case: str) -> dict:
    """The CP2K parameters of ``case``."""
    elements = _elements()
    if case == 'md':  # a normal short NVT run, every step printed
        return ci.md_parameters(elements, DFT, 1000.0, 4, MD)
    if case == 'walltime':  # GLOBAL/WALLTIME stops an NVT run of 30 steps after a few
        return _with_walltime(ci.md_parameters(elements, DFT, 1000.0, 30, MD), 50)
    if case == 'energy_force':  # a DFT label: energy, forces and analytical stress
        return ci.single_point_parameters(elements, DFT)
    if case == 'scf_ot':  # OT with DIIS, 2 inner steps and no outer loop: the SCF cannot converge
        return _without_outer_loop(ci.single_point_parameters(elements, DFT), 2)
    if case == 'scf_diagonalization':  # Broyden-mixed diagonalisation, 2 steps
        return _without_outer_loop(ci.single_point_parameters(elements, dict(DFT, scf_method='diagonalization')), 2)
    if case == 'geo_opt_max_iter':  # BFGS stopped after 3 iterations, far from the force criterion
        return ci.geo_opt_parameters(elements, DFT, {'max_iter': 3, 'max_force_ha_bohr': 1.0e-5})
    raise KeyError(case)


CASES = ('md', 'walltime', 'energy_force', 'scf_ot', 'scf_diagonalization', 'geo_opt_max_iter')


def render_input(parameters: dict, atoms) -> str:
    """The input file ``Cp2kCalculation.prepare_for_submission`` writes for ``parameters`` and ``atoms``."""
    inp = Cp2kInput(parameters)
    inp.add_keyword('GLOBAL/PROJECT', Cp2kCalculation._DEFAULT_PROJECT_NAME)
    for i, letter in enumerate('ABC'):
        inp.add_keyword(f'FORCE_EVAL/SUBSYS/CELL/{letter}', '{:<15} {:<15} {:<15}'.format(*atoms.cell[i]),
                        override=False, conflicting_keys=['ABC', 'ALPHA_BETA_GAMMA', 'CELL_FILE_NAME'])
    inp.add_keyword('FORCE_EVAL/SUBSYS/TOPOLOGY/COORD_FILE_NAME', Cp2kCalculation._DEFAULT_COORDS_FILE_NAME,
                    override=False)
    inp.add_keyword('FORCE_EVAL/SUBSYS/TOPOLOGY/COORD_FILE_FORMAT', 'XYZ', override=False,
                    conflicting_keys=['COORDINATE'])
    return inp.render()


FULL_STARS = ' ' + '*' * 79


def trim_stdout(text: str) -> str:
    """Drop what neither the parser nor a restart handler reads: banners, logo, statistics, references, timings.

    Removed: the ``DBCSR|`` and ``MEMORY|`` tables at the top; the CP2K logo (the block that
    opens with two full lines of ``*``); everything from the DBCSR statistics to the timing
    report at the end. Each removed block leaves one line ``[trimmed N lines]``. Kept: the
    header (``CP2K|`` version, ``GLOBAL|`` run type), every SCF iteration, ``ENERGY|``, ``MD|``,
    geometry-optimisation, forces, stress, warning and error line, the warning count and the
    final ``PROGRAM ... IN`` lines.
    """
    lines = text.splitlines()
    drop = [line.startswith((' DBCSR|', ' MEMORY|')) for line in lines]
    logo = next((k for k in range(len(lines) - 1) if lines[k] == FULL_STARS == lines[k + 1]), None)
    if logo is not None:
        close = next(k for k in range(logo + 2, len(lines)) if lines[k] == FULL_STARS)
        drop[logo:close + 1] = [True] * (close + 1 - logo)
    statistics = next((k for k, line in enumerate(lines) if 'DBCSR STATISTICS' in line), None)
    warnings = next((k for k, line in enumerate(lines) if 'The number of warnings for this run' in line), None)
    if statistics is not None and warnings is not None:
        drop[statistics - 2:warnings - 1] = [True] * (warnings - 1 - (statistics - 2))
    out, run = [], 0
    for line, dropped in zip(lines, drop):
        if dropped:
            run += 1
            continue
        if run:
            out.append(f' [trimmed {run} lines]')
            run = 0
        out.append(line)
    return '\n'.join(out) + '\n'


def record(case: str) -> list[str]:
    """Run one case in a scratch folder, keep its retrieved files in ``cp2k_<case>/``; return what CP2K wrote."""
    parameters = case_parameters(case)
    atoms = ase.io.read(STRUCTURE)
    folder = HERE / f'cp2k_{case}'
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    with tempfile.TemporaryDirectory(prefix=f'cp2k_{case}_') as scratch:
        work = Path(scratch)
        (work / 'aiida.inp').write_text(render_input(parameters, atoms))
        (work / Cp2kCalculation._DEFAULT_COORDS_FILE_NAME).write_text(_atoms_to_xyz(atoms))
        with open(work / 'aiida.out', 'w') as out:
            subprocess.run(['cp2k.psmp', '-i', 'aiida.inp'], cwd=work, stdout=out, stderr=subprocess.STDOUT,
                           env=dict(os.environ, OMP_NUM_THREADS='1'), timeout=300, check=False)
        for name in RETRIEVED:
            if (work / name).exists():
                shutil.copy(work / name, folder / name)
        shutil.copy(work / 'aiida.inp', folder / 'aiida.inp')
        written = sorted(p.name for p in work.iterdir())
    (folder / 'aiida.out').write_text(trim_stdout((folder / 'aiida.out').read_text()))
    (folder / 'parameters.json').write_text(json.dumps(parameters, indent=1))
    return written


if __name__ == '__main__':
    for name in sys.argv[1:] or CASES:
        print(name, 'wrote', record(name))
