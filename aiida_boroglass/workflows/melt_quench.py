"""Classical melt-quench of a glass composition: pack, melt, quench, relax, produce, analyse."""
from __future__ import annotations

from collections.abc import Mapping

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import ToContext, WorkChain, while_

from aiida_boroglass.analysis.cutoffs import BOND_CUTOFF_RULES
from aiida_boroglass.calculations.lammps_inputs import DEFAULT_PARAMETERS, validate_md_settings
from aiida_boroglass.calculations.packmol import DENSITY_RANGE_G_CM3, TOLERANCE_RANGE_A, PackmolCalculation
from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.functions.analysis import boron_coordination, boron_oxygen_rdf, glass_density, oxygen_bridging
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.glass import forcefield_parameters, reference_density, resolve_forcefield
from aiida_boroglass.functions.learning import force_deviation_statistics
from aiida_boroglass.functions.utils import range_validator, to_float
from aiida_boroglass.glass.forcefields import FORCEFIELDS
from aiida_boroglass.glass.schedule import PHASES, melt_quench_phases, validate_schedule
from aiida_boroglass.workflows.lammps_base import LammpsBaseWorkChain, md_models, set_lammps_code, validate_md_potential
from aiida_boroglass.workflows.launch import submit_once
from aiida_boroglass.workflows.protocols.utils import ProtocolMixin

#: Inputs of the LAMMPS workflow that the melt-quench sets itself.
_MD_EXCLUDE = ('lammps.structure', 'lammps.forcefield', 'lammps.parameters', 'lammps.restart_file')

#: Force field of a melt-quench that names none.
DEFAULT_FORCEFIELD = 'deng_du'

#: B-O bond cutoffs accepted, Å: the window in which a first minimum of g_BO(r) is accepted.
CUTOFF_BO_RANGE_A = BOND_CUTOFF_RULES['B-O'][:2]

#: Packings retried after packmol ended without perfect packing, and how each retry changes the
#: inputs: the next seed, and the tolerance times ``PACKING_TOLERANCE_FACTOR`` (not below the
#: lowest tolerance accepted).
PACKING_RETRIES = 2
PACKING_TOLERANCE_FACTOR = 0.9


#: Largest MD time step of a classical oxide-glass run, fs.
MAX_TIMESTEP_FS = 5.0


def validate_md_parameters(value, _):
    """Check every MD setting shared by the runs (time step up to 5 fs, intervals, seed, damping, skin, time-out,
    trajectory precision)."""
    if value is None:
        return None
    message = validate_md_settings(value.get_dict(), prefix='md_parameters')
    timestep = value.get('timestep_fs', DEFAULT_PARAMETERS['timestep_fs'])
    if message is None and timestep > MAX_TIMESTEP_FS:
        message = f'md_parameters.timestep_fs: {timestep} fs is outside (0, {MAX_TIMESTEP_FS:g}] fs'
    return message


def next_packing(exit_status: int, tolerance_a: float, seed: int, retries_done: int) -> dict | None:
    """The packmol inputs of the retry after a failed packing, or None when a retry cannot help.

    Parameters
    ----------
    exit_status : int
        Exit status of the failed :class:`PackmolCalculation`; only ``ERROR_PACKING_FAILED``
        (packmol ended without perfect packing) is retried.
    tolerance_a : float
        Minimum distance of the failed packing, Å.
    seed : int
        Its random seed.
    retries_done : int
        Retries made so far.

    Returns
    -------
    dict or None
        ``{'seed': seed + 1, 'tolerance_a': ...}`` (Å; times :data:`PACKING_TOLERANCE_FACTOR`,
        not below the lowest tolerance accepted), or None after :data:`PACKING_RETRIES` retries
        or for another failure.
    """
    if exit_status != PackmolCalculation.exit_codes.ERROR_PACKING_FAILED.status or retries_done >= PACKING_RETRIES:
        return None
    return {'seed': seed + 1, 'tolerance_a': max(TOLERANCE_RANGE_A[0], tolerance_a * PACKING_TOLERANCE_FACTOR)}


def deviation_summary(deviation: orm.ArrayData) -> str:
    """One line on a DeePMD run's ensemble force deviation: mean, median and largest of ``max_devi_f``, eV/Å."""
    stats = force_deviation_statistics(deviation.get_array('max_devi_f'))
    return (f'max_devi_f mean {stats["mean_ev_a"]:.3f}, median {stats["median_ev_a"]:.3f}, '
            f'largest {stats["max_ev_a"]:.3f} eV/Å over {stats["rows"]} frames')


def glass_properties(structure: orm.StructureData, trajectory: orm.TrajectoryData,
                     cutoff_bo_a: orm.Float | None = None) -> dict[str, orm.Data]:
    """The properties every glass-making workflow reports, by the same calcfunctions for every engine.

    Parameters
    ----------
    structure : StructureData
        The final glass.
    trajectory : TrajectoryData
        Production frames (positions, Å; cells, Å).
    cutoff_bo_a : Float, optional
        B-O bond cutoff, Å; default: the first minimum of g_BO(r) of the frames (2.0 Å if unclear).

    Returns
    -------
    dict
        ``density_g_cm3`` (Float, g/cm^3), ``rdf_bo`` (XyData), ``boron`` (Dict: N4, N3, the
        coordination distribution and the cutoff in Å) and ``oxygen`` (Dict: BO / NBO / free
        O fractions).

    Raises
    ------
    CalcfunctionError
        When one of the calcfunctions fails (caught by ``checked_step``).
    """
    rdf = run_checked(boron_oxygen_rdf, trajectory)
    cutoff = cutoff_bo_a or rdf['cutoff_bo_a']
    return {
        'density_g_cm3': run_checked(glass_density, structure),
        'rdf_bo': rdf['rdf'],
        'boron': run_checked(boron_coordination, trajectory, cutoff),
        'oxygen': run_checked(oxygen_bridging, trajectory, cutoff),
    }


def attach_glass(process: WorkChain) -> None:
    """Attach ``ctx.structure``, ``ctx.trajectory`` and the :func:`glass_properties` in ``ctx.properties``; report them."""
    properties = process.ctx.properties
    process.out('structure', process.ctx.structure)
    process.out('trajectory', process.ctx.trajectory)
    for key, node in properties.items():
        process.out(key, node)
    process.report(f'glass: {properties["density_g_cm3"].value:.3f} g/cm^3, N4 = {properties["boron"]["n4"]:.3f}, '
                   f'NBO fraction = {properties["oxygen"]["nbo_fraction"]:.3f}')


class MeltQuenchWorkChain(ProtocolMixin, WorkChain):
    """Make a glass by the classical melt-quench route of papers 002 and 004.

    Outline: derive force field and density from the composition, pack atoms at random
    with packmol, run the phases melt (NVT) -> quench (NPT ramp) -> relax (NVT, NPT) ->
    production (NVT, frames) as the stages of one restartable LAMMPS workflow (one job
    while nothing fails: one queue wait, one round trip of files), then compute density,
    g_BO(r) with its first-minimum cutoff, N4 and bridging/non-bridging oxygen.
    """

    _protocol_file = 'melt_quench.yaml'
    _protocol_open_sections = ('md',)

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.input('composition', valid_type=CompositionData, help='Glass composition.')
        spec.input('n_atoms', valid_type=orm.Int, serializer=orm.to_aiida_type,
                   help='Requested number of atoms (whole formula units are used).')
        spec.input('forcefield', valid_type=orm.Str, serializer=orm.to_aiida_type, required=False,
                   validator=lambda v, _: None if v.value in FORCEFIELDS else
                   f'forcefield: {v.value!r} is not one of {FORCEFIELDS}',
                   help=f'Force field name, one of {FORCEFIELDS}; default {DEFAULT_FORCEFIELD}. Leave it unset for a '
                        'DeePMD ensemble (md.lammps.models + md.lammps.deepmd).')
        spec.input('density_g_cm3', valid_type=orm.Float, serializer=to_float, required=False,
                   validator=range_validator('density_g_cm3', DENSITY_RANGE_G_CM3, 'g/cm^3'),
                   help=f'Packing density, g/cm^3, in {list(DENSITY_RANGE_G_CM3)}; default: the cited '
                        'experimental value of the composition.')
        spec.input('schedule', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   validator=lambda v, _: validate_schedule(v.get_dict()),
                   help='Temperatures (K), durations (ps), cooling rate (K/ps): see glass.schedule.SCHEDULE_KEYS.')
        spec.input('md_parameters', valid_type=orm.Dict, serializer=orm.to_aiida_type, required=False,
                   validator=validate_md_parameters,
                   help='Time step (fs), thermo/restart intervals (steps), velocity seed, damping (ps), '
                        '`trajectory_precision` (float64 or float32: the dtype of the stored frames).')
        spec.input('cutoff_bo_a', valid_type=orm.Float, serializer=to_float, required=False,
                   validator=range_validator('cutoff_bo_a', CUTOFF_BO_RANGE_A, 'Å'),
                   help=f'B-O bond cutoff, Å, in {list(CUTOFF_BO_RANGE_A)}; default: first minimum of '
                        'g_BO(r) (2.0 Å if unclear).')
        spec.expose_inputs(PackmolCalculation, namespace='packing',
                           exclude=('composition', 'n_atoms', 'density_g_cm3'))
        spec.inputs['packing']['tolerance_a'].validator = range_validator('packing.tolerance_a', TOLERANCE_RANGE_A, 'Å')
        spec.expose_inputs(LammpsBaseWorkChain, namespace='md', exclude=_MD_EXCLUDE)
        spec.inputs.validator = cls.validate_inputs

        spec.outline(
            cls.setup,
            while_(cls.should_pack)(cls.pack, cls.inspect_packing),
            cls.run_md,
            cls.inspect_md,
            cls.analyse,
            cls.results,
        )
        spec.output('initial_structure', valid_type=orm.StructureData, help='Random packing.')
        spec.output('structure', valid_type=orm.StructureData, help='The glass at the end of production.')
        spec.output('trajectory', valid_type=orm.TrajectoryData, help='Production frames, unwrapped, Å.')
        spec.output('thermo', valid_type=orm.ArrayData,
                    help='Thermodynamics of every stage of every phase (melt, quench, relax, production): arrays '
                         '`<stage>_<column>`, LAMMPS metal units.')
        spec.output('forcefield', valid_type=orm.Dict, required=False,
                    help='Resolved force-field parameters (a classical run).')
        spec.output('model_deviation', valid_type=orm.ArrayData, required=False,
                    help='DeePMD runs: force deviation of the ensemble (eV/Å) along every stage (`stage_index` into '
                         'the `stage_names` attribute).')
        spec.output('density_g_cm3', valid_type=orm.Float, help='Glass density, g/cm^3.')
        spec.output('rdf_bo', valid_type=orm.XyData, help='g_BO(r) of the production frames.')
        spec.output('boron', valid_type=orm.Dict, help='B coordination: n4, n3, distribution, cutoff (Å).')
        spec.output('oxygen', valid_type=orm.Dict, help='Bridging / non-bridging / free oxygen fractions.')
        spec.exit_code(401, 'ERROR_PACKING_FAILED',
                       message='The packing failed after {attempts} attempt(s), last with exit status {status}.')
        spec.exit_code(402, 'ERROR_MD_FAILED',
                       message='The MD run (melt to production) failed with exit status {status}.')
        spec.exit_code(403, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)

    @classmethod
    def validate_inputs(cls, value, _):
        """Check the composition against the atom number, the analyses and the force field, before anything runs."""
        if 'composition' not in value:
            return None  # exposed in a screening, which checks every composition itself
        glass = value['composition'].composition
        try:
            glass.atom_counts(value['n_atoms'].value)
        except ValueError as exception:
            return f'n_atoms: {exception}'
        if 'B2O3' not in glass.fractions:
            return (f'composition: {glass.label} has no B2O3; the melt-quench analyses boron (g_BO(r), N4) '
                    'and needs B2O3 > 0')
        message = cls._validate_potential(value, glass)
        if message:
            return message
        if 'density_g_cm3' not in value:
            try:
                glass.density()
            except ValueError as exception:
                return f'density_g_cm3: required for {glass.label}: {exception}'
        return None

    @staticmethod
    def _validate_potential(value: Mapping, glass) -> str | None:
        """A DeePMD ensemble that knows every element, or a force field that describes the composition."""
        if md_models(value):
            return validate_md_potential(value, list(glass.atom_counts(value['n_atoms'].value).counts), 'forcefield')
        forcefield = value['forcefield'].value if 'forcefield' in value else DEFAULT_FORCEFIELD
        try:
            resolve_forcefield(glass, forcefield, value['n_atoms'].value)
        except ValueError as exception:
            return str(exception)
        return None

    @classmethod
    def get_builder_from_protocol(cls, code: orm.AbstractCode, composition: CompositionData | str,
                                  protocol: str | None = None, overrides: Mapping | None = None,
                                  options: Mapping | None = None, packmol_code: orm.AbstractCode | None = None,
                                  ensemble: Mapping | None = None):
        """Return a builder filled from a protocol.

        Parameters
        ----------
        code : AbstractCode
            LAMMPS code (``lmp``).
        composition : CompositionData or str
            The glass, or any notation ``Composition.parse`` accepts.
        protocol : str, optional
            ``fast``, ``balanced`` or ``stringent``; default from the protocol file.
        overrides : Mapping, optional
            Nested values that replace the protocol's (keys of the YAML ``default_inputs``).
        options : Mapping, optional
            Scheduler options of the LAMMPS jobs (resources, wall time in s, queue, ...); the
            packing job takes them on one process, without MPI.
        packmol_code : AbstractCode, optional
            packmol code; default: the code labelled ``packmol`` on the LAMMPS code's computer.
        ensemble : Mapping, optional
            A DeePMD ensemble instead of the protocol's force field: ``models`` (name -> frozen
            model) and ``deepmd`` (Dict: ``type_map``, ``model_deviation_every`` in steps), e.g.
            :func:`~aiida_boroglass.workflows.learning.deepmd_ensemble.ensemble_potential`.
        """
        inputs = cls.get_protocol_inputs(protocol, overrides)
        if not isinstance(composition, CompositionData):
            composition = CompositionData(composition)
        if packmol_code is None:
            packmol_code = orm.load_code(f'packmol@{code.computer.label}')
        builder = cls.get_builder()
        builder.composition = composition
        builder.n_atoms = inputs['n_atoms']
        if ensemble is None:
            builder.forcefield = inputs['forcefield']
        builder.schedule = inputs['schedule']
        builder.md_parameters = inputs['md']
        if inputs['density_g_cm3'] is not None:
            builder.density_g_cm3 = inputs['density_g_cm3']
        if inputs['analysis']['cutoff_bo_a'] is not None:
            builder.cutoff_bo_a = inputs['analysis']['cutoff_bo_a']
        builder.packing.code = packmol_code
        builder.packing.tolerance_a = inputs['packing']['tolerance_a']
        builder.packing.seed = inputs['packing']['seed']
        if options:
            builder.packing.metadata.options = {**options, 'withmpi': False,
                                                'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}}
        set_lammps_code(builder.md, code, inputs['lammps_cmdline'], options, ensemble)
        return builder

    @checked_step
    def setup(self):
        """Resolve the force field (classical runs), density and MD parameters from the inputs; plan the packing."""
        self.ctx.forcefield = None if md_models(self.inputs) else run_checked(
            forcefield_parameters, self.inputs.composition, self.inputs.get('forcefield', orm.Str(DEFAULT_FORCEFIELD)),
            self.inputs.n_atoms)
        self.ctx.density = self.inputs.get('density_g_cm3') or run_checked(reference_density, self.inputs.composition)
        self.ctx.md_parameters = {**DEFAULT_PARAMETERS,
                                  **(self.inputs.md_parameters.get_dict() if 'md_parameters' in self.inputs else {})}
        self.ctx.packing_attempts = 0
        self.ctx.packing_changes = {}
        self.report(f'{self.inputs.composition.label_text}: {self.inputs.n_atoms.value} atoms requested, '
                    f'packing at {self.ctx.density.value:.3f} g/cm^3')

    def should_pack(self) -> bool:
        """Whether no packing has succeeded yet (a failed one is retried by :func:`next_packing`)."""
        return 'structure' not in self.ctx

    def pack(self):
        """Pack the atoms at random with packmol (a retry with the seed and tolerance :func:`next_packing` chose)."""
        inputs = AttributeDict(self.exposed_inputs(PackmolCalculation, namespace='packing'))
        inputs.update(composition=self.inputs.composition, n_atoms=self.inputs.n_atoms, density_g_cm3=self.ctx.density)
        inputs.update({key: orm.to_aiida_type(value) for key, value in self.ctx.packing_changes.items()})
        attempt = self.ctx.packing_attempts
        label = 'packing' if attempt == 0 else f'packing_retry{attempt}'
        inputs.metadata = {**inputs.get('metadata', {}), 'call_link_label': label}
        self.ctx.packing_attempts += 1
        return ToContext(packing=submit_once(self, PackmolCalculation, **inputs))

    def inspect_packing(self):
        """Keep the packed structure as the starting point of the first phase, or plan a retry."""
        node = self.ctx.packing
        if node.is_finished_ok:
            self.ctx.structure = node.outputs.structure
            self.out('initial_structure', node.outputs.structure)
            if self.ctx.forcefield is not None:
                self.out('forcefield', self.ctx.forcefield)
            return None
        tolerance, seed = node.inputs.tolerance_a.value, node.inputs.seed.value
        change = next_packing(node.exit_status, tolerance, seed, self.ctx.packing_attempts - 1)
        if change is None:
            self.report(f'packing {node.process_label}<{node.pk}> failed with exit status {node.exit_status}: '
                        f'{node.exit_message}')
            return self.exit_codes.ERROR_PACKING_FAILED.format(attempts=self.ctx.packing_attempts,
                                                               status=node.exit_status)
        self.ctx.packing_changes = change
        self.report(f'packing {node.process_label}<{node.pk}> ended without perfect packing (exit status '
                    f'{node.exit_status}); retry {self.ctx.packing_attempts} of {PACKING_RETRIES} with seed '
                    f'{change["seed"]} (was {seed}) and tolerance_a {change["tolerance_a"]:.3f} Å (was {tolerance:.3f} Å)')
        return None

    def run_md(self):
        """Run the stages of every phase in one LAMMPS workflow, from the packing."""
        inputs = AttributeDict(self.exposed_inputs(LammpsBaseWorkChain, namespace='md'))
        inputs.lammps = AttributeDict(inputs.lammps)
        inputs.lammps.structure = self.ctx.structure
        if self.ctx.forcefield is not None:
            inputs.lammps.forcefield = self.ctx.forcefield
        phases = melt_quench_phases(self.inputs.schedule.get_dict(), self.ctx.md_parameters['timestep_fs'])
        stages = [stage for phase in PHASES for stage in phases[phase]]
        inputs.lammps.parameters = orm.Dict({**self.ctx.md_parameters, 'stages': stages})
        inputs.metadata = {'call_link_label': 'md', 'label': 'melt_quench'}
        self.report(f'launching the MD run: {", ".join(stage["name"] for stage in stages)}')
        return ToContext(md=submit_once(self, LammpsBaseWorkChain, **inputs))

    def inspect_md(self):
        """Check the MD run; keep its final glass and production frames, attach its thermo and model deviation."""
        node = self.ctx.md
        if not node.is_finished_ok:
            self.report(f'the MD run {node.process_label}<{node.pk}> failed with exit status {node.exit_status}')
            return self.exit_codes.ERROR_MD_FAILED.format(status=node.exit_status)
        self.ctx.structure = node.outputs.structure
        self.ctx.trajectory = node.outputs.trajectory
        self.out('thermo', node.outputs.thermo)
        if 'model_deviation' in node.outputs:
            self.out('model_deviation', node.outputs.model_deviation)
            self.report(f'ensemble force deviation {deviation_summary(node.outputs.model_deviation)}')
        return None

    @checked_step
    def analyse(self):
        """Density, g_BO(r) and its cutoff, N4 and oxygen speciation of the production frames."""
        self.ctx.properties = glass_properties(self.ctx.structure, self.ctx.trajectory, self.inputs.get('cutoff_bo_a'))

    def results(self):
        """Attach the glass and its properties."""
        attach_glass(self)
