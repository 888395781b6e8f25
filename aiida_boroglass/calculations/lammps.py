"""Multi-stage LAMMPS CalcJob for glass melt-quench and production runs."""
from __future__ import annotations

from aiida import orm
from aiida.common.datastructures import CalcInfo, CodeInfo
from aiida.common.folders import Folder
from aiida_lammps.calculations.raw import LammpsRawCalculation

from aiida_boroglass.calculations import lammps_inputs as li
from aiida_boroglass.calculations import lammps_potentials as lp
from aiida_boroglass.functions.utils import site_symbols
from aiida_boroglass.glass.forcefields import lammps_potential

#: Time kept free before the scheduler's wall time so that LAMMPS can stop and write its
#: restart: this fraction of the wall time, and at least this many seconds.
TIMEOUT_MARGIN_FRACTION = 0.05
TIMEOUT_MARGIN_MIN_S = 60.0

#: Dumps the parser turns into nodes (trajectory, final structure, single-point forces): retrieved
#: temporarily, so that the repository keeps each frame once, as the node.
DUMP_FILENAMES = (li.TRAJECTORY_FILENAME, li.FINAL_DUMP_FILENAME, li.FORCES_FILENAME)


def timeout_margin_s(walltime_s: float) -> float:
    """Seconds between LAMMPS' own stop (``timer timeout``) and the scheduler's wall time.

    Parameters
    ----------
    walltime_s : float
        The job's wall time, s.

    Returns
    -------
    float
        ``max(60 s, 5 % of the wall time)``, s: a large or DeePMD system needs longer to
        finish its step and write the restart file, and gets more time on a longer job.
    """
    return max(TIMEOUT_MARGIN_MIN_S, TIMEOUT_MARGIN_FRACTION * walltime_s)


def timeout_check_every(margin_s: float, seconds_per_step: float | None) -> int:
    """Steps between LAMMPS' checks of its ``timer timeout``.

    Parameters
    ----------
    margin_s : float
        Time kept free before the wall time, s (:func:`timeout_margin_s`).
    seconds_per_step : float or None
        Measured wall time of one MD step of this system, s; ``None`` before any measurement.

    Returns
    -------
    int
        The steps that take a tenth of the margin, between 1 and 100; 1 (check every step,
        the cost of one broadcast) until a step time has been measured.
    """
    if not seconds_per_step:
        return 1
    return int(min(100, max(1, 0.1 * margin_s // seconds_per_step)))


class BoroglassLammpsCalculation(LammpsRawCalculation):
    """Run a list of MD stages (minimise, push-off, NVT, NPT, ramps, production) in one LAMMPS job.

    Built on aiida-lammps' ``lammps.raw``: instead of a user script it writes the script, the
    ``atom_style charge`` data file (or takes a binary restart) and the potential from
    structured inputs: the tabulated classical force field (``forcefield``) or a DeePMD model
    ensemble (``models`` + ``deepmd``, see :mod:`~aiida_boroglass.calculations.lammps_potentials`).
    Its parser returns per-stage thermodynamics, the final structure, the production
    trajectory, the latest restart file, the ensemble's model deviation, the labels of a
    ``single_point`` stage and, in ``results``, the pressure tensor of ``average_stress`` stages.
    """

    TABLE_FILENAME = 'potential.table'

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.inputs['script'].required = False
        spec.inputs['script'].help = 'Not used: the script is generated from `parameters`.'
        spec.input('structure', valid_type=orm.StructureData,
                   help='Atoms and cell, Å; the atom order is kept in every output.')
        spec.input('forcefield', valid_type=orm.Dict, required=False,
                   help='Resolved force-field parameters from `glass.forcefields.build_forcefield`; '
                        'or give `models` instead.')
        spec.input_namespace('models', valid_type=orm.SinglefileData, dynamic=True, required=False,
                             help='Frozen DeePMD models (.pb, TensorFlow backend), any keys; written as m0.pb, '
                                  'm1.pb, ... in the order of the sorted keys. Instead of `forcefield`.')
        spec.input('deepmd', valid_type=orm.Dict, required=False, serializer=orm.to_aiida_type,
                   help='With `models`: `type_map` (the models\' element names in type order) and '
                        '`model_deviation_every` (steps between model-deviation rows; two models or more).')
        spec.input('parameters', valid_type=orm.Dict,
                   help='Run parameters: `stages` and the keys of `lammps_inputs.DEFAULT_PARAMETERS`; '
                        '`timeout_every` (steps between clock checks) when the step time is known.')
        spec.input('restart_file', valid_type=orm.SinglefileData, required=False,
                   help='Binary LAMMPS restart to continue from (positions, velocities, box).')
        spec.inputs.validator = cls.validate_all_inputs
        spec.inputs['metadata']['options']['parser_name'].default = 'boroglass.lammps'
        spec.inputs['metadata']['options']['withmpi'].default = True

        spec.output('thermo', valid_type=orm.ArrayData,
                    help='Thermodynamics of every stage: arrays `<stage>_<column>` in LAMMPS metal units.')
        spec.output('structure', valid_type=orm.StructureData, required=False,
                    help='Final structure (wrapped positions, Å).')
        spec.output('trajectory', valid_type=orm.TrajectoryData, required=False,
                    help='Frames of the stages with `dump_every`: unwrapped positions (Å), cells (Å), times (ps); '
                         'positions and cells in float32 (a `Float32TrajectoryData`) with '
                         '`parameters.trajectory_precision` float32.')
        spec.output('restart_file', valid_type=orm.SinglefileData, required=False,
                    help='Latest binary restart; `results` names its stage and step.')
        spec.output('model_deviation', valid_type=orm.ArrayData, required=False,
                    help='Model deviation of the DeePMD ensemble over the MD stages: `steps`, `stage_index` (index '
                         'into the `stage_names` attribute), `time_ps`, `max_devi_f`, `min_devi_f`, `avg_devi_f` '
                         '(eV/Å), `max_devi_v`, `min_devi_v`, `avg_devi_v` (eV per atom), all shape (n,).')
        spec.output('labels', valid_type=orm.ArrayData, required=False,
                    help='Labels of the `single_point` stage: `energy_ev` (1,) eV, `forces_ev_a` (n_atoms, 3) eV/Å '
                         'in the input atom order and orientation, `stress_gpa` (3, 3) pressure tensor in GPa.')

        spec.exit_code(301, 'ERROR_LOG_MISSING', message='The LAMMPS log file was not retrieved.')
        spec.exit_code(302, 'ERROR_FINAL_STRUCTURE_MISSING', message='The final structure dump is missing.')
        spec.exit_code(303, 'ERROR_TRAJECTORY_UNREADABLE', message='The trajectory dump could not be read: {error}')
        spec.exit_code(304, 'ERROR_SINGLE_POINT_MISSING',
                       message='The single_point stage finished but its energy line or forces dump is missing.')
        spec.exit_code(305, 'ERROR_UNEXPECTED_TERMINATION',
                       message='LAMMPS ended before its stages without a time-out: {reason}')
        spec.exit_code(350, 'ERROR_UNEXPECTED_PARSER_EXCEPTION',
                       message='The parser raised an unexpected exception: {exception}')
        spec.exit_code(400, 'ERROR_OUT_OF_WALLTIME',
                       message='LAMMPS stopped before finishing its stages ({reason}); a restart file is attached.')
        spec.exit_code(410, 'ERROR_LOST_ATOMS', message='LAMMPS lost atoms: the integration became unstable.')
        spec.exit_code(411, 'ERROR_ATOMS_OUT_OF_RANGE',
                       message='Atoms moved out of the PPPM grid range: the integration became unstable.')
        spec.exit_code(412, 'ERROR_PAIR_DISTANCE_BELOW_TABLE',
                       message='Two atoms came closer than the force-field table starts: the integration became unstable.')

    @classmethod
    def validate_all_inputs(cls, value, ctx):
        """Check that stages, structure and force field fit together before anything is submitted."""
        message = super().validate_inputs(value, ctx)
        if message:
            return message
        if 'script' in value:
            return 'script: not accepted; the script is generated from `parameters`'
        if any(key not in value for key in ('structure', 'parameters')) or 'forcefield' not in ctx:
            return None  # a wrapping workflow excluded these ports and sets them itself
        message = li.validate_parameters(value['parameters'].get_dict())
        if message:
            return message
        structure = value['structure']
        if any(len(kind.symbols) != 1 for kind in structure.kinds):
            return 'structure: every kind must be a single element'
        symbols = site_symbols(structure)
        frozen = {element for stage in value['parameters']['stages'] for element in stage.get('frozen_elements', ())}
        if frozen - set(symbols):
            return f'parameters.stages: frozen_elements {sorted(frozen - set(symbols))} are not in the structure ({sorted(set(symbols))})'
        if frozen >= set(symbols):
            return 'parameters.stages: frozen_elements would freeze every atom; leave the mobile ions out'
        if ('forcefield' in value) == bool(value.get('models')):
            return 'forcefield/models: give the potential as a force field or as DeePMD models (one of them)'
        if 'forcefield' in value:
            return cls._validate_forcefield(value['forcefield'].get_dict(), symbols)
        if 'deepmd' not in value:
            return 'deepmd: required with `models` (type_map, model_deviation_every)'
        return lp.validate_deepmd(value['deepmd'].get_dict(), len(value['models']), symbols)

    @staticmethod
    def _validate_forcefield(forcefield: dict, symbols: list[str]) -> str | None:
        """Parameters for every element and a neutral structure under the force-field charges."""
        charges = forcefield.get('charges_e', {})
        missing = sorted(set(symbols) - set(charges))
        if missing:
            return f'forcefield: no parameters for elements {missing}; it covers {sorted(charges)}'
        total = sum(charges[symbol] for symbol in symbols)
        if abs(total) > 1e-3:
            return f'structure: total charge {total:.4f} e with the force-field charges; it must be neutral'
        return None

    @staticmethod
    def species_order(structure: orm.StructureData) -> list[str]:
        """Return the elements of ``structure`` in LAMMPS type order (type k + 1 is element k)."""
        return sorted({kind.symbol for kind in structure.kinds})

    def _write_potential(self, folder: Folder, species: list[str],
                         stages: list[dict]) -> tuple[list[str], list[list[str]], dict, list[str]]:
        """Write the potential's files; return its commands, per-stage commands, atom charges (e) and file names.

        The classical force field: its table file, commands issued once, its charges. A DeePMD
        ensemble: the models as ``m{i}.pb`` (sorted keys), zero charges; with a model deviation
        its commands open every stage (:func:`lammps_potentials.deepmd_stage_commands`).
        """
        if 'forcefield' in self.inputs:
            forcefield = self.inputs.forcefield.get_dict()
            commands, table = lammps_potential(forcefield, species, table_filename=self.TABLE_FILENAME)
            with folder.open(self.TABLE_FILENAME, 'w') as handle:
                handle.write(table)
            return commands, [], forcefield['charges_e'], [self.TABLE_FILENAME]
        models = [self.inputs.models[key] for key in sorted(self.inputs.models)]
        for index, model in enumerate(models):
            with folder.open(lp.model_filename(index), 'wb') as target:
                target.write(model.get_content(mode='rb'))
        every = self.inputs.deepmd.get_dict().get('model_deviation_every')
        charges = {element: 0.0 for element in species}
        filenames = [lp.model_filename(index) for index in range(len(models))]
        if every:
            return [], lp.deepmd_stage_commands(stages, len(models), species, every), charges, filenames
        return lp.deepmd_commands(len(models), species), [], charges, filenames

    def prepare_for_submission(self, folder: Folder) -> CalcInfo:
        """Write script, data file or restart, and the potential's files; set what is retrieved."""
        structure = self.inputs.structure
        species = self.species_order(structure)
        parameters = self.inputs.parameters.get_dict()
        walltime = self.inputs.metadata.options.get('max_wallclock_seconds')
        if walltime and walltime > 2 * timeout_margin_s(walltime):
            parameters['timeout_s'] = walltime - timeout_margin_s(walltime)
        from_restart = 'restart_file' in self.inputs

        folder.get_subfolder('.', create=True)
        commands, stage_commands, charges, potential_files = self._write_potential(folder, species, parameters['stages'])
        with folder.open(self.inputs.metadata.options.input_filename, 'w') as handle:
            handle.write(li.write_script(parameters, commands, from_restart, species, stage_commands))
        if from_restart:
            with folder.open(li.RESTART_IN_FILENAME, 'wb') as target:
                target.write(self.inputs.restart_file.get_content(mode='rb'))
        else:
            positions = [site.position for site in structure.sites]
            with folder.open(li.DATA_FILENAME, 'w') as handle:
                handle.write(li.write_data_file(positions, structure.cell, site_symbols(structure), species, charges))

        settings = self.inputs.settings.get_dict() if 'settings' in self.inputs else {}
        codeinfo = CodeInfo()
        codeinfo.cmdline_params = list(settings.get('cmdline', [])) + ['-in', self.inputs.metadata.options.input_filename]
        codeinfo.code_uuid = self.inputs.code.uuid
        codeinfo.stdout_name = self.inputs.metadata.options.output_filename
        codeinfo.withmpi = self.inputs.metadata.options.withmpi

        calcinfo = CalcInfo()
        calcinfo.codes_info = [codeinfo]
        calcinfo.provenance_exclude_list = [*potential_files, li.RESTART_IN_FILENAME]
        calcinfo.retrieve_list = [
            self.inputs.metadata.options.output_filename, li.LOG_FILENAME, *settings.get('additional_retrieve_list', []),
        ]
        calcinfo.retrieve_temporary_list = ['restart.s*.bin', lp.MODEL_DEVIATION_GLOB, *DUMP_FILENAMES]
        if self.inputs.get('models'):
            calcinfo.prepend_text = lp.deepmd_job_exports(self.inputs.metadata.options.resources.get('num_cores_per_mpiproc', 1))
        return calcinfo
