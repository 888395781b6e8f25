"""Parser of ``aiida-cp2k``'s ``Cp2kCalculation`` for the ab initio workflows (entry point ``boroglass.cp2k``).

It keeps the exit codes and the ``output_parameters`` / ``output_structure`` of
:class:`aiida_cp2k.parsers.Cp2kBaseParser` and adds, in the package's units:

``output_trajectory`` (TrajectoryData)
    Positions (Å, unwrapped as CP2K writes them), cells (Å, from ``aiida-1.cell`` when
    printed, else the input cell), ``stepids`` (CP2K's step counter), ``times`` (ps, MD
    only), arrays ``energies`` (potential energy, eV) and ``forces`` (eV/Å, when
    ``aiida-frc-1.xyz`` was printed).
``thermo`` (ArrayData, MD runs)
    From the energy file ``aiida-1.ener``: ``step``, ``time_ps``, ``kinetic_ev``,
    ``temperature_k``, ``potential_ev``, ``conserved_ev``.
``labels`` (ArrayData, RUN_TYPE ENERGY_FORCE that converged)
    ``energy_ev`` (1,), ``forces_ev_a`` (n_atoms, 3) in input atom order and, when printed,
    ``stress_gpa`` (3, 3).

Exit codes beyond the base parser's: an ENERGY or ENERGY_FORCE run whose SCF did not converge
is ``ERROR_SCF_NOT_CONVERGED`` (CP2K 2023.1 only warns; its labels would be wrong); an
incomplete output of a job the scheduler stopped for wall time (exit status 120) is
``ERROR_OUT_OF_WALLTIME``; a parser bug is ``ERROR_UNEXPECTED_PARSER_EXCEPTION``, never an
excepted process.
"""
from __future__ import annotations

from pathlib import Path

import ase
import numpy as np
from aiida import common, orm
from aiida.engine import ExitCode
from aiida_cp2k import utils
from aiida_cp2k.calculations import Cp2kCalculation
from aiida_cp2k.parsers import Cp2kBaseParser

from aiida_boroglass.calculations.cp2k_inputs import ENERGY_FILE
from aiida_boroglass.glass.elements import HARTREE_BOHR_EV_A, HARTREE_EV
from aiida_boroglass.parsers.parse_raw.cp2k import (
    SCF_NOT_CONVERGED,
    parse_atomic_forces,
    parse_cell_file,
    parse_energy_file,
    parse_restart_step,
    parse_stdout,
    parse_stress,
    parse_total_energy,
    parse_xyz_frames,
)

#: run types that compute one energy: an unconverged SCF makes their result wrong
SINGLE_POINT_RUN_TYPES = ('ENERGY', 'ENERGY_FORCE')
#: exit status the scheduler's output parser sets for a job killed at its wall time
SCHEDULER_OUT_OF_WALLTIME = 120
#: files Cp2kCalculation writes: positions, forces, cells and the restart file
POSITIONS_FILE = Cp2kCalculation._DEFAULT_TRAJECT_XYZ_FILE_NAME
FORCES_FILE = Cp2kCalculation._DEFAULT_TRAJECT_FORCES_FILE_NAME
CELL_FILE = Cp2kCalculation._DEFAULT_TRAJECT_CELL_FILE_NAME
RESTART_FILE = Cp2kCalculation._DEFAULT_RESTART_FILE_NAME
TRAJECTORY_UNITS = {'positions': 'A', 'cells': 'A', 'times': 'ps', 'energies': 'eV', 'forces': 'eV/A'}
THERMO_UNITS = {'step': 'step', 'time_ps': 'ps', 'kinetic_ev': 'eV', 'temperature_k': 'K', 'potential_ev': 'eV',
                'conserved_ev': 'eV'}


class BoroglassCp2kParser(Cp2kBaseParser):
    """CP2K parser with trajectories, MD thermodynamics and single-point labels in Å, ps, eV, GPa."""

    def parse(self, **kwargs):
        """Parse the retrieved files; an exception while parsing becomes exit code 350.

        Parameters
        ----------
        **kwargs
            ``retrieved_temporary_folder``: the folder (a path) of the files
            :class:`~aiida_boroglass.calculations.cp2k.BoroglassCp2kCalculation` retrieves
            temporarily (trajectory, forces, cells, energies); without it every file is read
            from the ``retrieved`` node.
        """
        self._stdout = self._summary = self._exit_code = None
        temporary = kwargs.get('retrieved_temporary_folder')
        self._temporary = None if temporary is None else Path(temporary)
        try:
            exit_code = super().parse(**kwargs)
            return self._parse_extras(exit_code)
        except Exception as exception:  # noqa: BLE001 - any parser bug must end as an exit code, never Excepted
            self.logger.error(f'parser exception: {type(exception).__name__}: {exception}')
            code = self.exit_codes.ERROR_UNEXPECTED_PARSER_EXCEPTION
            return code._replace(message=f'{code.message} {type(exception).__name__}: {exception}')

    def _read_stdout(self):
        """Read CP2K's standard output; ``ERROR_OUTPUT_MISSING`` when it was not retrieved."""
        name = self.node.base.attributes.get('output_filename')
        if name not in self.retrieved.base.repository.list_object_names():
            return self.exit_codes.ERROR_OUTPUT_MISSING, None
        return None, self.retrieved.base.repository.get_object_content(name)

    def _parse_stdout(self):
        """Check the standard output for errors and store ``output_parameters`` with the run summary."""
        exit_code, output_string = self._read_stdout()
        if exit_code:
            return exit_code
        self._stdout = output_string
        self._summary = parse_stdout(output_string)
        exit_code = self._check_stdout_for_errors(output_string)
        self._exit_code = exit_code
        if exit_code in self.SEVERE_ERRORS:
            return exit_code
        results = {**utils.parse_cp2k_output(output_string), **self._summary}
        restart_step = self._restart_step()
        if restart_step is not None:
            results['restart_step'] = restart_step
        self.out('output_parameters', orm.Dict(results))
        return exit_code

    def _check_stdout_for_errors(self, output_string):
        """The base parser's checks, plus an unconverged single point and the scheduler's wall-time kill."""
        exit_code = super()._check_stdout_for_errors(output_string)
        if (exit_code is None and self._summary['run_type'] in SINGLE_POINT_RUN_TYPES
                and SCF_NOT_CONVERGED in output_string):
            return self.exit_codes.ERROR_SCF_NOT_CONVERGED
        if exit_code == self.exit_codes.ERROR_OUTPUT_INCOMPLETE and self.node.exit_status == SCHEDULER_OUT_OF_WALLTIME:
            return self.exit_codes.ERROR_OUT_OF_WALLTIME
        return exit_code

    def _restart_step(self) -> int | None:
        """Step counter of the retrieved restart file (the MD step or GEO_OPT iteration it continues from)."""
        content = self._content(RESTART_FILE)
        return None if content is None else parse_restart_step(content)

    def _parse_final_structure(self):
        """The structure of the retrieved restart file's ``FORCE_EVAL/SUBSYS``.

        aiida-cp2k reads the first ``&COORD`` of the file, which in an NVT restart is the
        Nose-Hoover chain's; this reads the one of the atoms.
        """
        content = self._content(RESTART_FILE)
        if content is None:
            raise common.NotExistent(f'{RESTART_FILE} was not retrieved')
        subsys = content[content.index('&SUBSYS'):]
        return orm.StructureData(ase=ase.Atoms(**utils.parse_cp2k_trajectory('\n' + subsys)))

    def _content(self, name: str) -> str | None:
        """Text of a retrieved file (from the temporary folder, else ``retrieved``), None when it was not retrieved."""
        if self._temporary is not None and (self._temporary / name).is_file():
            return (self._temporary / name).read_text()
        if name not in self.retrieved.base.repository.list_object_names():
            return None
        return self.retrieved.base.repository.get_object_content(name)

    def _parse_trajectory(self, structure):
        """Build ``output_trajectory`` from the XYZ positions, forces and cell files.

        Frames are matched by step. A finished run whose forces or cells miss a frame of the
        positions fails (323 / 325); a failed run keeps the frames present in every file.
        """
        positions = self._content(POSITIONS_FILE)
        if positions is None:
            raise common.NotExistent(f'{POSITIONS_FILE} was not retrieved')
        failed = self._exit_code is not None
        frames = parse_xyz_frames(positions, partial=failed)
        keep = np.ones(len(frames.steps), dtype=bool)
        forces_text, cells_text = self._content(FORCES_FILE), self._content(CELL_FILE)
        forces = None
        if forces_text is not None:
            forces = parse_xyz_frames(forces_text, partial=failed)
            keep &= np.isin(frames.steps, forces.steps)
            if not failed and not keep.all():
                return self.exit_codes.ERROR_FORCES_TRAJECTORY_READ
        if cells_text is not None:
            cell_steps, cell_rows = parse_cell_file(cells_text)
            keep &= np.isin(frames.steps, cell_steps)
            if not failed and not keep.all():
                return self.exit_codes.ERROR_CELLS_TRAJECTORY_READ
        steps = frames.steps[keep]
        if cells_text is not None:
            cells = _rows_at(cell_steps, cell_rows, steps)
        else:
            cells = np.repeat(np.array(self.node.inputs.structure.cell)[None], len(steps), axis=0)
        trajectory = orm.TrajectoryData()
        trajectory.set_trajectory(
            symbols=frames.symbols, positions=frames.values[keep], stepids=steps, cells=cells,
            times=None if frames.times_fs is None else frames.times_fs[keep] * 1e-3, pbc=structure.pbc,
        )
        trajectory.set_array('energies', frames.energies_ha[keep] * HARTREE_EV)
        if forces is not None:
            trajectory.set_array('forces', _rows_at(forces.steps, forces.values, steps) * HARTREE_BOHR_EV_A)
        trajectory.base.attributes.set('units', TRAJECTORY_UNITS)
        trajectory.base.attributes.set('unwrapped', True)
        return trajectory

    def _parse_extras(self, exit_code):
        """Attach ``thermo`` (MD) and ``labels`` (a converged ENERGY_FORCE run); return the run's exit code."""
        if self._summary is None:
            return exit_code
        energies = self._content(ENERGY_FILE)
        if self._summary['run_type'] == 'MD' and energies is not None:
            thermo = orm.ArrayData()
            for name, values in parse_energy_file(energies).items():
                thermo.set_array(name, values)
            thermo.base.attributes.set('units', THERMO_UNITS)
            self.out('thermo', thermo)
        if self._summary['run_type'] == 'ENERGY_FORCE' and exit_code.status == 0:
            return self._attach_labels()
        return exit_code

    def _attach_labels(self):
        """Energy, forces and stress of a single point as the ``labels`` output; 302 when they are missing."""
        energy, forces = parse_total_energy(self._stdout), parse_atomic_forces(self._stdout)
        n_atoms = len(self.node.inputs.structure.sites)
        if energy is None or forces is None or forces.shape != (n_atoms, 3):
            return self.exit_codes.ERROR_OUTPUT_PARSE
        labels = orm.ArrayData()
        labels.set_array('energy_ev', np.array([energy]))
        labels.set_array('forces_ev_a', forces)
        units = {'energy_ev': 'eV', 'forces_ev_a': 'eV/A'}
        stress = parse_stress(self._stdout)
        if stress is not None:
            labels.set_array('stress_gpa', stress)
            units['stress_gpa'] = 'GPa'
        labels.base.attributes.set('units', units)
        self.out('labels', labels)
        return ExitCode(0)


def _rows_at(steps: np.ndarray, rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The rows of ``rows`` (one per entry of ``steps``) at the steps ``wanted`` (each present in ``steps``)."""
    index = {int(step): k for k, step in enumerate(steps)}
    return rows[[index[int(step)] for step in wanted]]
