"""Parser of :class:`~aiida_boroglass.calculations.lammps.BoroglassLammpsCalculation`."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from aiida import orm
from aiida.parsers.parser import Parser

from aiida_boroglass.calculations import lammps_inputs as li
from aiida_boroglass.calculations.lammps import DUMP_FILENAMES
from aiida_boroglass.calculations.lammps_potentials import MODEL_DEVIATION_GLOB
from aiida_boroglass.data.trajectory import trajectory_node
from aiida_boroglass.functions.utils import site_symbols, structure_of
from aiida_boroglass.parsers.parse_raw.lammps import (
    MODEL_DEVIATION_COLUMNS,
    parse_dump,
    parse_log,
    parse_model_deviation,
    parse_single_point,
    parse_stdout,
    parse_stress_averages,
)

THERMO_UNITS = {
    'step': 'step', 'time': 'ps', 'temp': 'K', 'press': 'bar', 'pe': 'eV', 'ke': 'eV', 'etotal': 'eV',
    'vol': 'A^3', 'density': 'g/cm^3', 'lx': 'A', 'ly': 'A', 'lz': 'A',
    **{column: 'bar' for column in li.STRESS_AVERAGE_COLUMNS},  # the pressure tensor of deform stages
}
_PERIODIC_RESTART = re.compile(r'^restart\.s(\d+)\.(\d+)\.bin$')
_MODEL_DEVIATION_FILE = re.compile(r'^model_devi\.s(\d+)\.out$')
#: units of the arrays of the ``model_deviation`` output
MODEL_DEVIATION_UNITS = {'steps': 'step', 'stage_index': 'index into stage_names', 'time_ps': 'ps',
                         **{f'{kind}_devi_f': 'eV/A' for kind in ('max', 'min', 'avg')},
                         **{f'{kind}_devi_v': 'eV/atom' for kind in ('max', 'min', 'avg')}}
#: LAMMPS error messages of an integration that became unstable, and their exit codes
UNSTABLE_ERRORS = {
    'Lost atoms': 'ERROR_LOST_ATOMS',
    'Out of range atoms': 'ERROR_ATOMS_OUT_OF_RANGE',
    'Pair distance < table inner cutoff': 'ERROR_PAIR_DISTANCE_BELOW_TABLE',
}
#: exit statuses the scheduler may have set before the parser runs
SCHEDULER_OUT_OF_MEMORY, SCHEDULER_OUT_OF_WALLTIME = 110, 120


def stage_progress(stages: list[dict], parsed_stages: list[dict]) -> list[int | None]:
    """Return the MD steps each stage completed, ``None`` for a stage that never started.

    Parameters
    ----------
    stages : list of dict
        The planned stages (input parameters).
    parsed_stages : list of dict
        Stages found in the log by :func:`~aiida_boroglass.parsers.parse_raw.lammps.parse_log`.

    Returns
    -------
    list of int or None
        For each planned stage, the last step of its thermo output (a finished minimisation
        counts as its planned 0 steps), or ``None`` when no end marker was printed.
    """
    done: list[int | None] = [None] * len(stages)
    for parsed in parsed_stages:
        if not parsed['finished']:
            continue
        planned = stages[parsed['index']]
        done[parsed['index']] = 0 if planned['type'] == 'minimize' else parsed['loop_steps'] or 0
    return done


def termination_exit(errors: list[str], timed_out: bool, unfinished: bool, termination: str | None,
                     scheduler_status: int | None) -> tuple[str, str] | None:
    """Name the exit code of a run from what its ranks, the launcher and the scheduler reported.

    Parameters
    ----------
    errors : list of str
        LAMMPS error messages of every rank (``log.lammps`` and stdout).
    timed_out : bool
        LAMMPS' ``timer timeout`` fired.
    unfinished : bool
        A planned stage did not reach its end marker or its step count.
    termination : str or None
        The MPI launcher's reason for an abnormal end (a rank killed by a signal, an exit code).
    scheduler_status : int or None
        Exit status the scheduler's output parser set (110 out of memory, 120 out of wall time).

    Returns
    -------
    tuple (exit code label, reason) or None
        ``None`` for a run that finished. A time-out (400) only when LAMMPS' timer or the
        scheduler said so; an unfinished run with no error and no time-out is an unexpected
        termination (305), never a time-out.
    """
    for message in errors:
        for text, label in UNSTABLE_ERRORS.items():
            if text in message:
                return label, message
    if errors:
        return 'ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR', errors[0]
    if timed_out or scheduler_status == SCHEDULER_OUT_OF_WALLTIME:
        return 'ERROR_OUT_OF_WALLTIME', 'timer timeout' if timed_out else 'the scheduler reports out of wall time'
    if scheduler_status == SCHEDULER_OUT_OF_MEMORY:
        return 'ERROR_UNEXPECTED_TERMINATION', 'the scheduler reports out of memory'
    if termination:
        return 'ERROR_UNEXPECTED_TERMINATION', f'the MPI launcher reports: {termination}'
    if unfinished:
        return 'ERROR_UNEXPECTED_TERMINATION', ('LAMMPS stopped before the end of its stages without an error message '
                                                'or a time-out (killed, a crash, or out of memory)')
    return None


def select_restart(stages: list[dict], done: list[int | None], restart_names: list[str]) -> tuple[str, int, int] | None:
    """Choose the restart file holding the most progress.

    Parameters
    ----------
    stages : list of dict
        Planned stages.
    done : list of int or None
        Steps completed per stage (from :func:`stage_progress`).
    restart_names : list of str
        Restart files present (``restart.s{k}.end.bin`` and ``restart.s{k}.{step}.bin``).

    Returns
    -------
    tuple (filename, stage index, steps of that stage done) or None
        For a complete run the end file of the last stage (its stage complete). Otherwise the
        point from which the first incomplete stage can continue; ``None`` when there is none.
        Periodic files are named by the stage's step counter, which starts at the stage's
        ``start_step``; the steps done count from there.
    """
    names = set(restart_names)
    complete = [d is not None and d >= stages[k].get('steps', 0) for k, d in enumerate(done)]
    if all(complete):
        last = len(stages) - 1
        name = li.STAGE_RESTART_TEMPLATE.format(index=last)
        return (name, last, done[last]) if name in names else None
    first = complete.index(False)
    end = li.STAGE_RESTART_TEMPLATE.format(index=first)
    if done[first] is not None and end in names:
        return end, first, done[first]
    periodic = [(int(m.group(2)), n) for n in names if (m := _PERIODIC_RESTART.match(n)) and int(m.group(1)) == first]
    if periodic:
        step, name = max(periodic)
        return name, first, step - stages[first].get('start_step', 0)
    before = li.STAGE_RESTART_TEMPLATE.format(index=first - 1)
    if first > 0 and before in names:
        return before, first, 0
    return None


class BoroglassLammpsParser(Parser):
    """Turn a multi-stage LAMMPS run into thermo arrays, final structure, trajectory and restart."""

    def parse(self, **kwargs):
        """Parse the retrieved files; an exception while parsing becomes exit code 350."""
        try:
            return self._parse(kwargs.get('retrieved_temporary_folder'))
        except Exception as exception:  # noqa: BLE001 - any parser bug must end as an exit code, never Excepted
            return self.exit_codes.ERROR_UNEXPECTED_PARSER_EXCEPTION.format(exception=f'{type(exception).__name__}: {exception}')

    def _parse(self, temporary_folder):
        """Attach what exists even when the run failed; return the exit code of the run."""
        retrieved = self.retrieved
        files = set(retrieved.base.repository.list_object_names())
        dumps = self._dumps(temporary_folder)
        if li.LOG_FILENAME not in files:
            return self.exit_codes.ERROR_LOG_MISSING
        log_text = retrieved.base.repository.get_object_content(li.LOG_FILENAME)
        log = parse_log(log_text)
        stdout = parse_stdout(''.join(retrieved.base.repository.get_object_content(name)
                                      for name in self._stdout_names() if name in files))
        stages = self.node.inputs.parameters.get_dict()['stages']
        done = stage_progress(stages, log['stages'])
        self.out('thermo', self._thermo(log['stages'], stages))

        restart = self._attach_restart(stages, done, temporary_folder)
        deviation = self._model_deviation(stages, temporary_folder)
        if deviation is not None:
            self.out('model_deviation', deviation)
        errors = list(dict.fromkeys(log['errors'] + stdout['errors']))
        results = {
            'lammps_version': log['version'], 'wall_time_s': log['wall_time_s'],
            'atom_steps_per_s': log['atom_steps_per_s'], 'warnings': log['warnings'][:20], 'errors': errors,
            'termination': stdout['termination'],
            'stage_names': [s['name'] for s in stages], 'stage_steps_done': done,
            'restart_stage': restart[1] if restart else None, 'restart_step': restart[2] if restart else None,
        }
        final_density = [s['thermo']['density'][-1] for s in log['stages'] if s['thermo']['density']]
        if final_density:
            results['final_density_g_cm3'] = final_density[-1]
        averages = parse_stress_averages(log_text)
        if averages:
            results['stress_average_gpa'] = {stages[index]['name']: self._input_frame_gpa(pressure).tolist()
                                             for index, (pressure, _) in averages.items()}
            results['stress_average_steps'] = {stages[index]['name']: steps for index, (_, steps) in averages.items()}
        self.out('results', orm.Dict(results))

        unfinished = any(d is None or d < s.get('steps', 0) for d, s in zip(done, stages))
        exit_code = termination_exit(errors, log['timeout'] or stdout['timeout'], unfinished,
                                     stdout['termination'], self.node.exit_status)
        if any(stage.get('dump_every') for stage in stages) and li.TRAJECTORY_FILENAME in dumps:
            try:
                self.out('trajectory', self._trajectory(dumps[li.TRAJECTORY_FILENAME], partial=exit_code is not None))
            except ValueError as exception:
                if exit_code is None:  # a failed run keeps its own exit code: its frames are run again anyway
                    return self.exit_codes.ERROR_TRAJECTORY_UNREADABLE.format(error=str(exception))
        if exit_code is not None:
            label, reason = exit_code
            return getattr(self.exit_codes, label).format(error=reason, reason=reason)
        if li.FINAL_DUMP_FILENAME not in dumps:
            return self.exit_codes.ERROR_FINAL_STRUCTURE_MISSING
        if any(stage.get('dump_every') for stage in stages) and 'trajectory' not in self.outputs:
            return self.exit_codes.ERROR_TRAJECTORY_UNREADABLE.format(error=f'{li.TRAJECTORY_FILENAME} was not retrieved')
        self.out('structure', self._final_structure(dumps[li.FINAL_DUMP_FILENAME]))
        if any(stage['type'] == 'single_point' for stage in stages):
            labels = self._labels(log_text, dumps.get(li.FORCES_FILENAME))
            if labels is None:
                return self.exit_codes.ERROR_SINGLE_POINT_MISSING
            self.out('labels', labels)
        return None

    @staticmethod
    def _dumps(temporary_folder) -> dict[str, Path]:
        """The dump files of the run in the temporary retrieved folder, by name (none without the folder)."""
        if temporary_folder is None:
            return {}
        return {name: Path(temporary_folder) / name for name in DUMP_FILENAMES if (Path(temporary_folder) / name).is_file()}

    def _stdout_names(self) -> list[str]:
        """Files that hold what the ranks and the MPI launcher printed (stdout, scheduler stderr)."""
        return [self.node.get_option('output_filename'), self.node.get_option('scheduler_stderr')]

    def _thermo(self, parsed_stages: list[dict], stages: list[dict]) -> orm.ArrayData:
        """Collect the thermo columns of each stage into one ArrayData."""
        thermo = orm.ArrayData()
        for parsed in parsed_stages:
            name = stages[parsed['index']]['name']
            for column, values in parsed['thermo'].items():
                thermo.set_array(f'{name}_{column}', np.asarray(values, dtype=float))
        thermo.base.attributes.set('stage_names', [s['name'] for s in stages])
        thermo.base.attributes.set('units', THERMO_UNITS)
        return thermo

    def _attach_restart(self, stages, done, temporary_folder) -> tuple[str, int, int] | None:
        """Store the restart file with the most progress as the ``restart_file`` output."""
        if temporary_folder is None:
            return None
        folder = Path(temporary_folder)
        choice = select_restart(stages, done, [p.name for p in folder.glob('restart.s*.bin')])
        if choice is not None:
            self.out('restart_file', orm.SinglefileData(folder / choice[0]))
        return choice

    def _model_deviation(self, stages: list[dict], temporary_folder) -> orm.ArrayData | None:
        """The model deviation rows of every stage's file, in stage order; ``None`` without such files.

        Times are the stage's step counter times the time step (ps), as for the trajectory.
        """
        if temporary_folder is None:
            return None
        files = {int(m.group(1)): path for path in Path(temporary_folder).glob(MODEL_DEVIATION_GLOB)
                 if (m := _MODEL_DEVIATION_FILE.match(path.name))}
        if not files:
            return None
        parsed = {index: parse_model_deviation(files[index].read_text()) for index in sorted(files)}
        timestep_ps = self.node.inputs.parameters.get_dict().get('timestep_fs', li.DEFAULT_PARAMETERS['timestep_fs']) * 1e-3
        steps = np.concatenate([rows['step'] for rows in parsed.values()])
        deviation = orm.ArrayData()
        deviation.set_array('steps', steps)
        deviation.set_array('stage_index', np.concatenate([np.full(rows['step'].size, index) for index, rows in parsed.items()]))
        deviation.set_array('time_ps', steps * timestep_ps)
        for column in MODEL_DEVIATION_COLUMNS[1:]:
            deviation.set_array(column, np.concatenate([rows[column] for rows in parsed.values()]))
        deviation.base.attributes.set('stage_names', [stage['name'] for stage in stages])
        deviation.base.attributes.set('units', MODEL_DEVIATION_UNITS)
        return deviation

    def _labels(self, log_text: str, forces_dump: Path | None) -> orm.ArrayData | None:
        """Energy, forces and pressure tensor of the ``single_point`` stage, in the input frame; ``None`` if missing.

        LAMMPS works in its lower-triangular frame ``positions @ M``
        (:func:`~aiida_boroglass.calculations.lammps_inputs.lammps_cell`): forces come back as
        ``F @ M.T`` and the pressure tensor as ``M P M.T``.
        """
        single_point = parse_single_point(log_text)
        if single_point is None or forces_dump is None:
            return None
        energy_ev, pressure_bar = single_point
        forces = parse_dump(forces_dump.read_text()).positions[-1]
        _, rotation = li.lammps_cell(np.array(self.node.inputs.structure.cell))
        labels = orm.ArrayData()
        labels.set_array('energy_ev', np.array([energy_ev]))
        labels.set_array('forces_ev_a', forces @ rotation.T)
        labels.set_array('stress_gpa', self._input_frame_gpa(pressure_bar))
        labels.base.attributes.set('units', {'energy_ev': 'eV', 'forces_ev_a': 'eV/A', 'stress_gpa': 'GPa'})
        return labels

    def _input_frame_gpa(self, pressure_bar: np.ndarray) -> np.ndarray:
        """A (3, 3) pressure tensor of the LAMMPS frame, bar, as ``M P M.T`` in the input structure's frame, GPa."""
        _, rotation = li.lammps_cell(np.array(self.node.inputs.structure.cell))
        return rotation @ pressure_bar @ rotation.T / li.BAR_PER_GPA

    def _final_structure(self, dump: Path) -> orm.StructureData:
        """Build the final structure from the sorted final dump ``dump`` (wrapped positions)."""
        frames = parse_dump(dump.read_text())
        return structure_of(frames.cells[-1], site_symbols(self.node.inputs.structure),
                            frames.positions[-1] - frames.origins[-1])

    def _trajectory(self, dump: Path, partial: bool = False) -> orm.TrajectoryData:
        """Build the trajectory (unwrapped positions) from the dump file ``dump``; ``partial``: the run stopped early.

        Times are the stage's step counter times the time step (ps), so a continued stage
        keeps the times of an uninterrupted run. Positions and cells are stored in the run's
        ``trajectory_precision`` (float32: a ``Float32TrajectoryData``), rounded once from the
        origin-shifted float64 values.
        """
        frames = parse_dump(dump.read_text(), partial=partial)
        parameters = {**li.DEFAULT_PARAMETERS, **self.node.inputs.parameters.get_dict()}
        precision = parameters['trajectory_precision']
        trajectory = trajectory_node(precision)
        trajectory.set_trajectory(
            symbols=site_symbols(self.node.inputs.structure),
            positions=(frames.positions - frames.origins[:, None, :]).astype(precision, copy=False), stepids=frames.steps,
            cells=frames.cells.astype(precision, copy=False), times=frames.steps * parameters['timestep_fs'] * 1e-3,
            pbc=(True, True, True),
        )
        trajectory.base.attributes.set('units', {'positions': 'A', 'cells': 'A', 'times': 'ps'})
        trajectory.base.attributes.set('unwrapped', True)
        return trajectory
