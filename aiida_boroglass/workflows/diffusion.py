"""``boroglass.diffusion``: ion transport of a glass from NVT runs at a ladder of temperatures.

Per temperature and replica one LAMMPS run (NVT equilibration, NVT production with
frames), optionally one run per replica in an applied field; then D(T) with its window
and error, the Arrhenius fit extrapolated to 300 K, Nernst-Einstein conductivities, the
field mobility, and the cumulative non-affine displacement of every ion.

D(T) per temperature and D_cum per run, whose cost grows with the atoms x frames of a
production run, run as calcfunctions, or as ``boroglass.analysis`` jobs on the computer of
``analysis_code`` above ``job_threshold_atom_frames`` (:mod:`.analysis_jobs`); all are
launched in one step, and each is read in the step named after it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiida import orm
from aiida.engine import WorkChain, if_, while_

from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.transport import (
    arrhenius_transport,
    d2min_lag,
    field_transport,
    mobile_species,
    transport_settings,
)
from aiida_boroglass.functions.utils import site_symbols
from aiida_boroglass.glass.schedule import transport_stages, validate_transport_schedule
from aiida_boroglass.workflows.analysis_jobs import (
    above_threshold,
    analysis_outputs,
    define_job_inputs,
    launch_analysis,
    size_problem,
)
from aiida_boroglass.workflows.lammps_base import md_models
from aiida_boroglass.workflows.protocols.utils import ProtocolMixin
from aiida_boroglass.workflows.replica_runs import ReplicaRunsMixin, potential_problem, replica_elements, timestep_fs
from aiida_boroglass.workflows.structure_panel import settings_validator

#: Keys of the ``field`` input.
FIELD_KEYS = ('efield_v_a', 'freeze_network', 'temperature_k')


def temperature_key(temperature_k: float) -> str:
    """Link label of a temperature, e.g. ``T0750`` for 750 K (rounded to 1 K)."""
    return f'T{int(round(temperature_k)):04d}'


def validate_temperatures(value, _):
    """At least one temperature, each in (0, 5000) K, no two within 1 K."""
    temperatures = value.get_list()
    if not temperatures or any(isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t < 5000
                               for t in temperatures):
        return f'temperatures_k: give one or more temperatures in (0, 5000) K, got {temperatures}'
    if len({temperature_key(t) for t in temperatures}) != len(temperatures):
        return f'temperatures_k: temperatures must differ by at least 1 K, got {temperatures}'
    return None


def validate_field(value, _):
    """``efield_v_a`` a non-zero 3-vector (V/Å), ``freeze_network`` a bool, ``temperature_k`` None or > 0."""
    if value is None:
        return None
    field = value.get_dict()
    unknown = sorted(set(field) - set(FIELD_KEYS))
    if unknown:
        return f'field: unknown keys {unknown}; allowed: {list(FIELD_KEYS)}'
    vector = field.get('efield_v_a')
    if not (isinstance(vector, Sequence) and len(vector) == 3 and all(
            isinstance(e, (int, float)) and not isinstance(e, bool) for e in vector) and any(vector)):
        return f'field.efield_v_a: must be three numbers (V/Å), not all zero, got {vector!r}'
    if not isinstance(field.get('freeze_network', False), bool):
        return f'field.freeze_network: must be true or false, got {field["freeze_network"]!r}'
    temperature = field.get('temperature_k')
    if temperature is not None and not (isinstance(temperature, (int, float)) and 0 < temperature < 5000):
        return f'field.temperature_k: must be None (the hottest temperature) or in (0, 5000) K, got {temperature!r}'
    return None


def production_frames(inputs: Mapping) -> tuple[float, int]:
    """Time between frames (ps) and number of frames of every production run, from the schedule and time step.

    Parameters
    ----------
    inputs : Mapping
        The workflow inputs: ``schedule`` (ps) and optionally ``md_parameters``
        (``timestep_fs``, fs).
    """
    step_fs = timestep_fs(inputs)
    production = transport_stages(1.0, inputs['schedule'].get_dict(), step_fs)[-1]
    return production['dump_every'] * step_fs / 1000.0, production['steps'] // production['dump_every'] + 1


def production_atom_frames(inputs: Mapping) -> int:
    """Atoms x frames of one production run, the size that sends the analyses to jobs (``inputs`` as in
    :func:`production_frames`, with ``structures``)."""
    return len(site_symbols(next(iter(inputs['structures'].values())))) * production_frames(inputs)[1]


class DiffusionWorkChain(ReplicaRunsMixin, ProtocolMixin, WorkChain):
    """NVT MD at every temperature and replica -> MSD, D(T) -> Arrhenius, Nernst-Einstein -> field, D_cum."""

    _protocol_file = 'diffusion.yaml'
    _protocol_open_sections = ('md', 'parameters', 'field')

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        cls.define_replica_runs(spec)
        spec.input('temperatures_k', valid_type=orm.List, serializer=orm.to_aiida_type, validator=validate_temperatures,
                   help='Temperatures of the NVT runs, K (paper 002: 700, 750, 800).')
        spec.input('schedule', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   validator=lambda v, _: validate_transport_schedule(v.get_dict()),
                   help='equilibration_ps, production_ps, dump_every_ps (ps).')
        spec.input('parameters', valid_type=orm.Dict, serializer=orm.to_aiida_type, default=lambda: orm.Dict(),
                   validator=settings_validator(transport_settings),
                   help='Analysis settings: see `functions.transport.TRANSPORT_DEFAULTS`.')
        spec.input('field', valid_type=orm.Dict, serializer=orm.to_aiida_type, required=False, validator=validate_field,
                   help='Applied-field run: efield_v_a (V/Å), freeze_network (bool, default false), temperature_k (None: hottest).')
        define_job_inputs(spec, counted=' of one production run')
        spec.inputs.validator = cls.validate_inputs

        spec.outline(
            cls.setup,
            while_(cls.has_pending)(cls.launch_batch, cls.inspect_batch),
            cls.launch_analyses,
            cls.diffusion,
            cls.arrhenius,
            if_(cls.has_field)(cls.field_drift),
            cls.rearrangement,
        )
        spec.output_namespace('trajectories', valid_type=orm.TrajectoryData, dynamic=True,
                              help='Production frames of every run (`T0750_r0`, `field_r0`): unwrapped, Å, ps.')
        spec.output_namespace('msd', valid_type=orm.ArrayData, dynamic=True,
                              help='Per temperature: lags (ps), MSD (Å^2) and non-Gaussian parameter of each ion.')
        spec.output_namespace('diffusion', valid_type=orm.Dict, dynamic=True,
                              help='Per temperature: D (cm^2/s) with window and error, Nernst-Einstein sigma (S/cm), warnings.')
        spec.output('arrhenius', valid_type=orm.Dict,
                    help='E_a (eV) with its error, D0, D and sigma at 300 K with intervals, warnings.')
        spec.output('field', valid_type=orm.Dict, required=False,
                    help='Drift (Å/ps), mobility (cm^2/(V s)), sigma (S/cm) in the field, against Nernst-Einstein.')
        spec.output_namespace('d_cum', valid_type=orm.ArrayData, dynamic=True,
                              help='Per run: cumulative non-affine displacement of every ion (Å), mobile flags.')
        spec.output_namespace('rearrangement', valid_type=orm.Dict, dynamic=True,
                              help='Per run: D_cum threshold (Å), mobile fraction, quartiles.')
        spec.exit_code(402, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)

    @classmethod
    def validate_inputs(cls, value, _):
        """Replicas of one composition, covered by the force field, holding a mobile ion; analysis fits the runs."""
        first, message = replica_elements(value.get('structures', {}))
        if md_models(value) and value.get('field') is not None:
            message = message or ("field: an applied field acts on the force field's ionic charges; a DeePMD ensemble "
                                  'has none, so leave field unset')
        message = message or potential_problem(value, first)
        if message:
            return message
        try:
            settings = transport_settings(value.get('parameters'))
            mobile_species(first, settings)
            d2min_lag(settings['d2min_interval_ps'], *production_frames(value))
        except ValueError as exc:
            return str(exc)
        field = value.get('field')
        temperatures = value['temperatures_k'].get_list()
        if field is not None and field.get_dict().get('temperature_k') is not None and \
                temperature_key(field['temperature_k']) not in {temperature_key(t) for t in temperatures}:
            return (f'field.temperature_k: {field["temperature_k"]} K must be one of temperatures_k {temperatures}, '
                    'so that the field conductivity can be compared with Nernst-Einstein')
        return size_problem(value, production_atom_frames(value), 'each production run')

    @staticmethod
    def fill_protocol_inputs(builder, inputs: Mapping):
        """Temperatures (K), schedule (ps), analysis settings and the optional field run of the protocol."""
        builder.temperatures_k = [float(t) for t in inputs['temperatures_k']]
        builder.schedule = inputs['schedule']
        builder.parameters = inputs['parameters']
        if inputs['field'] is not None:
            builder.field = inputs['field']

    def setup(self):
        """Plan one run per temperature and replica, plus the field runs."""
        md_parameters = self.md_parameters()
        schedule = self.inputs.schedule.get_dict()
        replicas = sorted(self.inputs.structures)
        temperatures = self.inputs.temperatures_k.get_list()
        runs = {f'{temperature_key(t)}_{r}': (r, transport_stages(t, schedule, md_parameters['timestep_fs']))
                for t in temperatures for r in replicas}
        if 'field' in self.inputs:
            field = self.field_settings()
            stages = transport_stages(field['temperature_k'], schedule, md_parameters['timestep_fs'], field)
            runs.update({f'field_{r}': (r, stages) for r in replicas})
        # run k of the plan draws its velocities with seed + k
        self.ctx.runs = {key: (self.inputs.structures[replica], stages, md_parameters['seed'] + index)
                         for index, (key, (replica, stages)) in enumerate(runs.items())}
        self.ctx.pending = list(runs)
        self.ctx.analysis_jobs = above_threshold(self.inputs, production_atom_frames(self.inputs))
        self.report(f'{len(runs)} LAMMPS runs: {len(temperatures)} temperatures x {len(replicas)} replicas'
                    + (' + field runs' if 'field' in self.inputs else ''))

    def field_settings(self) -> dict:
        """The field input with its defaults: the hottest temperature, the network moving."""
        field = self.inputs.field.get_dict()
        temperature = field.get('temperature_k') or max(self.inputs.temperatures_k.get_list())
        symbols = set(site_symbols(next(iter(self.inputs.structures.values()))))
        mobile = mobile_species(sorted(symbols), transport_settings(self.inputs.parameters))
        frozen = sorted(symbols - set(mobile)) if field.get('freeze_network', False) else []
        return {'efield_v_a': [float(e) for e in field['efield_v_a']], 'frozen_elements': frozen,
                'temperature_k': float(temperature)}

    def inspect_batch(self):
        """Stop at the first failed run; keep the trajectories."""
        failure = self.failed_runs()
        if failure:
            return failure
        for key in self.ctx.runs:
            if f'run_{key}' in self.ctx and key not in self.outputs.get('trajectories', {}):
                self.out(f'trajectories.{key}', self.ctx[f'run_{key}'].outputs.trajectory)
        return None

    def _trajectories(self, prefix: str) -> dict[str, orm.TrajectoryData]:
        """Trajectories of the runs whose key starts with ``prefix``, keyed by replica."""
        return {key.split('_', 1)[1]: self.ctx[f'run_{key}'].outputs.trajectory
                for key in self.ctx.runs if key.startswith(f'{prefix}_')}

    def launch_analyses(self):
        """Launch MSD, D and Nernst-Einstein sigma at every temperature, and D_cum of every production run."""
        for temperature in self.inputs.temperatures_k.get_list():
            key = temperature_key(temperature)
            launch_analysis(self, f'diffusion_{key}', 'diffusion_at_temperature', temperature_k=orm.Float(temperature),
                            parameters=self.inputs.parameters, **self._trajectories(key))
        for key in self.ctx.runs:
            launch_analysis(self, f'rearrangement_{key}', 'ion_rearrangement',
                            trajectory=self.ctx[f'run_{key}'].outputs.trajectory, parameters=self.inputs.parameters)

    @checked_step
    def diffusion(self):
        """MSD, D and Nernst-Einstein sigma at every temperature; warn where never diffusive."""
        for temperature in self.inputs.temperatures_k.get_list():
            key = temperature_key(temperature)
            result = analysis_outputs(self, f'diffusion_{key}')
            self.out(f'msd.{key}', result['msd'])
            self.out(f'diffusion.{key}', result['diffusion'])
            for warning in result['diffusion']['warnings']:
                self.report(f'warning: {warning}')

    @checked_step
    def arrhenius(self):
        """E_a, D0, D and sigma extrapolated to 300 K."""
        result = run_checked(arrhenius_transport, self.inputs.parameters, **self.outputs['diffusion'])
        self.out('arrhenius', result)
        for warning in result['warnings']:
            self.report(f'warning: {warning}')
        for element, fit in result['species'].items():
            self.report(f'{element}: E_a = {fit["ea_ev"]:.3f} +- {fit["ea_stderr_ev"]:.3f} eV, D({fit["extrapolated_to_k"]:g} K) '
                        f'= {fit["d_extrapolated_cm2_s"]:.3g} cm^2/s, sigma = {fit["sigma_extrapolated_s_cm"]:.3g} S/cm')

    def has_field(self) -> bool:
        """Whether field runs were requested."""
        return 'field' in self.inputs

    @checked_step
    def field_drift(self):
        """Mobility and conductivity from the drift in the field, next to Nernst-Einstein at that temperature."""
        field = self.field_settings()
        diffusion = self.outputs['diffusion'][temperature_key(field['temperature_k'])]
        self.out('field', run_checked(field_transport, orm.Dict(field), self.inputs.parameters, diffusion,
                                      **self._trajectories('field')))

    @checked_step
    def rearrangement(self):
        """D_cum of every mobile ion in every production run, and the mobile / immobile split."""
        for key in self.ctx.runs:
            result = analysis_outputs(self, f'rearrangement_{key}')
            self.out(f'd_cum.{key}', result['d_cum'])
            self.out(f'rearrangement.{key}', result['rearrangement'])
