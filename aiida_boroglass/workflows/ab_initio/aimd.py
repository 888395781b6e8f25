"""Ab initio melt-quench of a glass with CP2K (paper 000 section 2), and its field-driven transport run.

Classical glass (or any structure) -> CP2K geometry optimisation -> NVT Born-Oppenheimer MD
along the temperature ladder (one restartable CP2K work chain per rung, each continuing the
previous one's positions, velocities and step counter) -> production -> optionally a run in
an electric field with the network held fixed. The glass is then analysed by the same
calcfunctions as a classical melt-quench.
"""
from __future__ import annotations

from collections.abc import Mapping

from aiida import orm
from aiida.common import AttributeDict
from aiida.engine import ToContext, WorkChain, if_, while_

from aiida_boroglass.calculations.cp2k_inputs import (
    continue_from_parent,
    geo_opt_parameters,
    md_parameters,
    validate_atom_count,
    validate_dft_settings,
    validate_field,
)
from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.transport import field_transport
from aiida_boroglass.functions.utils import range_validator, to_float
from aiida_boroglass.glass.elements import FIELD_AU_V_A
from aiida_boroglass.glass.schedule import aimd_stages, validate_ladder
from aiida_boroglass.workflows.ab_initio.cp2k_base import BoroglassCp2kBaseWorkChain
from aiida_boroglass.workflows.launch import submit_once
from aiida_boroglass.workflows.melt_quench import CUTOFF_BO_RANGE_A, MeltQuenchWorkChain, attach_glass, glass_properties
from aiida_boroglass.workflows.protocols.utils import ProtocolMixin

#: Inputs of the CP2K work chain that the AIMD workflow sets itself.
_CP2K_EXCLUDE = ('cp2k.structure', 'cp2k.parameters', 'cp2k.parent_calc_folder')

#: Elements held fixed by ``field.fix_network``: the network formers and oxygen.
NETWORK_ELEMENTS = ('B', 'P', 'Si', 'O')

#: Keys of the ``md`` settings, and of ``geo_opt`` and ``field``.
MD_KEYS = ('timestep_fs', 'nose_length', 'thermostat_timecon_fs', 'print_every')
GEO_OPT_KEYS = ('max_iter', 'max_force_ha_bohr')
FIELD_KEYS = ('field_au', 'fix_network', 'duration_ps')

#: CP2K runs of the geometry pre-relaxation: one run of ``geo_opt.max_iter`` steps, not continued.
GEO_OPT_RUNS = 1

#: Exit status of a CP2K work chain whose runs are spent (aiida-core's ERROR_MAXIMUM_ITERATIONS_EXCEEDED).
GEO_OPT_ITERATIONS_SPENT = BoroglassCp2kBaseWorkChain.exit_codes.ERROR_MAXIMUM_ITERATIONS_EXCEEDED.status

#: Largest AIMD time step, fs (B-O vibrations have periods near 25 fs).
MAX_TIMESTEP_FS = 2.0


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def validate_md(md: Mapping) -> str | None:
    """One line naming the first bad ``md`` setting (time step, Nose chain, time constant, print interval)."""
    unknown = sorted(set(md) - set(MD_KEYS))
    missing = sorted(set(MD_KEYS) - set(md))
    if unknown or missing:
        return f'md: unknown keys {unknown}, missing keys {missing}; expected {list(MD_KEYS)}'
    if not _positive(md['timestep_fs']) or md['timestep_fs'] > MAX_TIMESTEP_FS:
        return f'md.timestep_fs: {md["timestep_fs"]!r} is not in (0, {MAX_TIMESTEP_FS:g}] fs'
    for key in ('nose_length', 'print_every'):
        if not _count(md[key]):
            return f'md.{key}: {md[key]!r} is not an integer >= 1'
    if not _positive(md['thermostat_timecon_fs']):
        return f'md.thermostat_timecon_fs: {md["thermostat_timecon_fs"]!r} is not a time > 0 fs'
    return None


def validate_geo_opt(geo_opt: Mapping) -> str | None:
    """One line naming the first bad ``geo_opt`` setting (iterations, force threshold in Hartree/Bohr)."""
    unknown = sorted(set(geo_opt) - set(GEO_OPT_KEYS))
    missing = sorted(set(GEO_OPT_KEYS) - set(geo_opt))
    if unknown or missing:
        return f'geo_opt: unknown keys {unknown}, missing keys {missing}; expected {list(GEO_OPT_KEYS)}'
    if not _count(geo_opt['max_iter']):
        return f'geo_opt.max_iter: {geo_opt["max_iter"]!r} is not an integer >= 1'
    if not _positive(geo_opt['max_force_ha_bohr']) or geo_opt['max_force_ha_bohr'] > 0.1:
        return f'geo_opt.max_force_ha_bohr: {geo_opt["max_force_ha_bohr"]!r} is not in (0, 0.1] Hartree/Bohr'
    return None


def validate_field_run(field: Mapping) -> str | None:
    """One line naming the first bad ``field`` setting: a 3-vector in a.u., a bool, a duration in ps."""
    unknown = sorted(set(field) - set(FIELD_KEYS))
    if unknown or 'field_au' not in field or 'duration_ps' not in field:
        return f'field: unknown keys {unknown}; expected field_au (3 numbers, a.u.), duration_ps, fix_network'
    message = validate_field(field['field_au'], 'field.field_au')
    if message:
        return message
    if not isinstance(field.get('fix_network', False), bool):
        return f'field.fix_network: must be true or false, got {field["fix_network"]!r}'
    if not _positive(field['duration_ps']):
        return f'field.duration_ps: {field["duration_ps"]!r} is not a time > 0 ps'
    return None


def glass_elements(inputs: Mapping) -> tuple[list[str], int] | str:
    """Elements and atom count of the glass the workflow will simulate, or a message why they cannot be known."""
    if 'structure' in inputs:
        structure = inputs['structure']
        return [site.kind_name for site in structure.sites], len(structure.sites)
    if 'composition' not in inputs or 'n_atoms' not in inputs:
        return 'structure: give a structure, or a composition and n_atoms for the classical starting glass'
    try:
        counts = inputs['composition'].composition.atom_counts(inputs['n_atoms'].value)
    except ValueError as exception:
        return f'n_atoms: {exception}'
    return list(counts.counts), counts.n_atoms


def last_geometry(workchain: orm.WorkflowNode) -> orm.StructureData | None:
    """The structure of the last CP2K calculation of ``workchain`` that wrote one, or None."""
    calculations = sorted((node for node in workchain.called if 'output_structure' in node.outputs),
                          key=lambda node: node.ctime)
    return calculations[-1].outputs.output_structure if calculations else None


def plan_stages(schedule: Mapping, md: Mapping, field: Mapping | None, symbols: list[str]) -> list[dict]:
    """The NVT stages to run: the ladder and production, then the field run if any.

    Returns
    -------
    list of dict
        :func:`aimd_stages`'s stages with ``field_au`` (None or 3 floats, a.u.) and
        ``fixed_atoms`` (0-based indices or None) added.
    """
    stages = [{**stage, 'field_au': None, 'fixed_atoms': None} for stage in aimd_stages(schedule, md['timestep_fs'])]
    if field:
        steps = int(round(field['duration_ps'] * 1000.0 / md['timestep_fs']))
        fixed = [i for i, s in enumerate(symbols) if s in NETWORK_ELEMENTS] if field.get('fix_network') else None
        stages.append({'name': 'field', 'temperature_k': stages[-1]['temperature_k'], 'steps': steps,
                       'last_step': stages[-1]['last_step'] + steps, 'field_au': list(field['field_au']),
                       'fixed_atoms': fixed})
    return stages


class AimdWorkChain(ProtocolMixin, WorkChain):
    """Make a glass by ab initio MD along paper 000's temperature ladder, with CP2K."""

    _protocol_file = 'aimd.yaml'
    _protocol_open_sections = ('dft', 'md', 'geo_opt', 'options')

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.input('structure', valid_type=orm.StructureData, required=False,
                   help='Starting structure; default: a classical melt-quench of the composition.')
        spec.input('composition', valid_type=CompositionData, required=False, help='Glass composition.')
        spec.input('n_atoms', valid_type=orm.Int, serializer=orm.to_aiida_type, required=False,
                   help='Requested number of atoms of the classical starting glass (whole formula units).')
        spec.input('dft', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   help='Basis, cutoffs (Ry), SCF settings: see calculations.cp2k_inputs.')
        spec.input('geo_opt', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   validator=lambda v, _: validate_geo_opt(v.get_dict()),
                   help='max_iter, max_force_ha_bohr (Hartree/Bohr).')
        spec.input('md', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   validator=lambda v, _: validate_md(v.get_dict()),
                   help='timestep_fs (fs), nose_length, thermostat_timecon_fs (fs), print_every (steps).')
        spec.input('schedule', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   validator=lambda v, _: validate_ladder(v.get_dict()),
                   help='Temperature ladder: temperatures (K), rung (K), durations (ps).')
        spec.input('field', valid_type=orm.Dict, serializer=orm.to_aiida_type, required=False,
                   validator=lambda v, _: validate_field_run(v.get_dict()),
                   help='Field run after production: field_au (3 numbers, a.u.), fix_network, duration_ps (ps).')
        spec.input('cutoff_bo_a', valid_type=orm.Float, serializer=to_float, required=False,
                   validator=range_validator('cutoff_bo_a', CUTOFF_BO_RANGE_A, 'Å'),
                   help='B-O bond cutoff, Å; default: first minimum of g_BO(r).')
        spec.expose_inputs(MeltQuenchWorkChain, namespace='melt_quench', exclude=('composition', 'n_atoms'),
                           namespace_options={'required': False, 'populate_defaults': False,
                                              'help': 'The classical melt-quench that makes the starting glass.'})
        spec.expose_inputs(BoroglassCp2kBaseWorkChain, namespace='cp2k', exclude=_CP2K_EXCLUDE)
        spec.inputs.validator = cls.validate_inputs

        spec.outline(
            cls.setup,
            if_(cls.needs_glass)(cls.run_melt_quench, cls.inspect_melt_quench),
            cls.run_geo_opt,
            cls.inspect_geo_opt,
            while_(cls.has_next_stage)(cls.run_stage, cls.inspect_stage),
            cls.analyse,
            if_(cls.has_field)(cls.field_drift),
            cls.results,
        )
        spec.output('initial_structure', valid_type=orm.StructureData, help='The structure the DFT started from.')
        spec.output('optimised_structure', valid_type=orm.StructureData, help='After the geometry optimisation.')
        spec.output('structure', valid_type=orm.StructureData, help='The glass at the end of production.')
        spec.output('trajectory', valid_type=orm.TrajectoryData,
                    help='Production frames: unwrapped positions (Å), cells (Å), times (ps), energies (eV), '
                         'forces (eV/Å), joined across restarts.')
        spec.output_namespace('thermo', valid_type=orm.ArrayData, dynamic=True,
                              help='Temperature (K) and energies (eV) of every MD step of each stage.')
        spec.output('density_g_cm3', valid_type=orm.Float, help='Glass density, g/cm^3.')
        spec.output('rdf_bo', valid_type=orm.XyData, help='g_BO(r) of the production frames.')
        spec.output('boron', valid_type=orm.Dict, help='B coordination: n4, n3, distribution, cutoff (Å).')
        spec.output('oxygen', valid_type=orm.Dict, help='Bridging / non-bridging / free oxygen fractions.')
        spec.output('field_trajectory', valid_type=orm.TrajectoryData, required=False,
                    help='Frames of the field run (same units as trajectory).')
        spec.output('field', valid_type=orm.Dict, required=False,
                    help='Drift (Å/ps), mobility (cm^2/(V s)) and conductivity (S/cm) of each mobile ion in the field.')
        spec.exit_code(401, 'ERROR_MELT_QUENCH_FAILED',
                       message='The classical melt-quench of the starting glass failed with exit status {status}.')
        spec.exit_code(402, 'ERROR_GEO_OPT_FAILED', message='The geometry optimisation failed with exit status {status}.')
        spec.exit_code(403, 'ERROR_STAGE_FAILED', message='The MD stage {stage} failed with exit status {status}.')
        spec.exit_code(404, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)

    @classmethod
    def validate_inputs(cls, value, _):
        """Glass, DFT settings, stage lengths and the starting-glass route, checked before anything runs."""
        glass = glass_elements(value)
        if isinstance(glass, str):
            return glass
        symbols, n_atoms = glass
        message = validate_atom_count(n_atoms, 'structure' if 'structure' in value else 'n_atoms')
        message = message or validate_dft_settings(value['dft'].get_dict(), symbols)
        if message:
            return message
        if 'structure' not in value and 'code' not in value.get('melt_quench', {}).get('md', {}).get('lammps', {}):
            return 'melt_quench: the classical starting glass needs the melt_quench inputs (a LAMMPS code), or give a structure'
        md = value['md'].get_dict()
        if validate_md(md) or validate_ladder(value['schedule'].get_dict()):
            return None  # the port validators name the field
        field = value['field'].get_dict() if 'field' in value else None
        for stage in plan_stages(value['schedule'].get_dict(), md, field, symbols):
            if stage['steps'] < 1:
                return (f'schedule: stage {stage["name"]} is shorter than one time step of {md["timestep_fs"]} fs; '
                        'lengthen it')
        return None

    @classmethod
    def get_builder_from_protocol(cls, code: orm.AbstractCode, composition: CompositionData | str | None = None,
                                  structure: orm.StructureData | None = None, protocol: str | None = None,
                                  overrides: Mapping | None = None, options: Mapping | None = None,
                                  lammps_code: orm.AbstractCode | None = None,
                                  packmol_code: orm.AbstractCode | None = None):
        """Return a builder filled from a protocol.

        Parameters
        ----------
        code : AbstractCode
            CP2K code (``cp2k.psmp``).
        composition : CompositionData or str, optional
            The glass; its classical melt-quench makes the starting structure.
        structure : StructureData, optional
            Starting structure instead (no classical melt-quench).
        protocol : str, optional
            ``fast``, ``balanced`` or ``stringent``; default from the protocol file.
        overrides : Mapping, optional
            Nested values that replace the protocol's (keys of ``aimd.yaml`` ``default_inputs``).
        options : Mapping, optional
            Scheduler options of the CP2K jobs, merged over the protocol's; also those of the
            classical melt-quench's jobs.
        lammps_code, packmol_code : AbstractCode, optional
            Codes of the classical starting glass; default: ``lmp`` and ``packmol`` on the CP2K
            code's computer.
        """
        inputs = cls.get_protocol_inputs(protocol, overrides)
        builder = cls.get_builder()
        if structure is not None:
            builder.structure = structure
        if composition is not None:
            composition = composition if isinstance(composition, CompositionData) else CompositionData(composition)
            builder.composition = composition
            builder.n_atoms = inputs['n_atoms']
            if structure is None:
                lammps_code = lammps_code or orm.load_code(f'lmp@{code.computer.label}')
                classical = MeltQuenchWorkChain.get_builder_from_protocol(
                    lammps_code, composition, protocol=inputs['melt_quench_protocol'],
                    overrides={'n_atoms': inputs['n_atoms']}, options=options, packmol_code=packmol_code)
                builder.melt_quench = {k: v for k, v in classical._inputs(prune=True).items()
                                       if k not in ('composition', 'n_atoms')}
        for key in ('dft', 'geo_opt', 'md', 'schedule'):
            builder[key] = inputs[key]
        if inputs['field'] is not None:
            builder.field = inputs['field']
        builder.cp2k.cp2k.code = code
        builder.cp2k.cp2k.metadata.options = {**inputs['options'], **(options or {})}
        return builder

    def setup(self):
        """Plan the stages; start from the given structure when there is one."""
        self.ctx.stage_index = 0
        if 'structure' in self.inputs:
            self.ctx.structure = self.inputs.structure
        self.ctx.dft = self.inputs.dft.get_dict()
        self.ctx.md = self.inputs.md.get_dict()

    def needs_glass(self) -> bool:
        """Whether the starting glass has to be made by a classical melt-quench."""
        return 'structure' not in self.inputs

    def run_melt_quench(self):
        """Quench the composition classically: AIMD from random packing stalls in its first SCF."""
        inputs = AttributeDict(self.exposed_inputs(MeltQuenchWorkChain, namespace='melt_quench'))
        inputs.update(composition=self.inputs.composition, n_atoms=self.inputs.n_atoms)
        inputs.metadata = {'call_link_label': 'classical_glass'}
        self.report(f'{self.inputs.composition.label_text}: classical melt-quench of the starting glass')
        return ToContext(melt_quench=submit_once(self, MeltQuenchWorkChain, **inputs))

    def inspect_melt_quench(self):
        """Take the classical glass as the starting structure."""
        node = self.ctx.melt_quench
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_MELT_QUENCH_FAILED.format(status=node.exit_status)
        self.ctx.structure = node.outputs.structure
        return None

    def _cp2k_inputs(self, parameters: dict, label: str, parent: orm.RemoteData | None = None) -> AttributeDict:
        """Inputs of one CP2K work chain on the current structure."""
        inputs = AttributeDict(self.exposed_inputs(BoroglassCp2kBaseWorkChain, namespace='cp2k'))
        inputs.cp2k = AttributeDict(inputs.cp2k)
        inputs.cp2k.structure = self.ctx.structure
        inputs.cp2k.parameters = orm.Dict(parameters)
        if parent is not None:
            inputs.cp2k.parent_calc_folder = parent
        inputs.metadata = {'call_link_label': label, 'label': label}
        return inputs

    def _symbols(self) -> list[str]:
        return [site.kind_name for site in self.ctx.structure.sites]

    def run_geo_opt(self):
        """Optimise the starting structure with the DFT settings (fixed cell)."""
        self.out('initial_structure', self.ctx.structure)
        parameters = geo_opt_parameters(self._symbols(), self.ctx.dft, self.inputs.geo_opt.get_dict())
        self.ctx.stages = plan_stages(self.inputs.schedule.get_dict(), self.ctx.md,
                                      self.inputs.field.get_dict() if 'field' in self.inputs else None, self._symbols())
        self.report(f'{len(self.ctx.structure.sites)} atoms: geometry optimisation, then '
                    f'{len(self.ctx.stages)} NVT stages of {self.ctx.stages[-1]["last_step"]} MD steps in all')
        inputs = self._cp2k_inputs(parameters, 'geo_opt')
        inputs.max_iterations = orm.Int(GEO_OPT_RUNS)
        return ToContext(geo_opt=submit_once(self, BoroglassCp2kBaseWorkChain, **inputs))

    def inspect_geo_opt(self):
        """Take the optimised structure as the start of the first stage.

        The optimisation is a pre-relaxation of :data:`GEO_OPT_RUNS` CP2K run(s) of
        ``geo_opt.max_iter`` steps: when it is still above its force threshold, the MD starts
        from its last geometry (the first stage equilibrates it), with a report saying so.
        """
        node = self.ctx.geo_opt
        if node.is_finished_ok:
            self.ctx.structure = node.outputs.output_structure
        else:
            last = last_geometry(node)
            if node.exit_status != GEO_OPT_ITERATIONS_SPENT or last is None:
                return self.exit_codes.ERROR_GEO_OPT_FAILED.format(status=node.exit_status)
            self.report(f'geometry optimisation {node.process_label}<{node.pk}> did not reach max_force_ha_bohr = '
                        f'{self.inputs.geo_opt["max_force_ha_bohr"]} in {self.inputs.geo_opt["max_iter"]} steps; '
                        'the MD starts from its last geometry')
            self.ctx.structure = last
        self.ctx.parent = None
        self.out('optimised_structure', self.ctx.structure)
        return None

    def has_next_stage(self) -> bool:
        """Whether an MD stage remains."""
        return self.ctx.stage_index < len(self.ctx.stages)

    def run_stage(self):
        """Run the next stage, continuing the previous one's positions, velocities and step counter."""
        stage = self.ctx.stages[self.ctx.stage_index]
        parameters = md_parameters(self._symbols(), self.ctx.dft, stage['temperature_k'], stage['steps'],
                                   self.ctx.md, field_au=stage['field_au'], fixed_atoms=stage['fixed_atoms'])
        if self.ctx.parent is not None:
            previous = self.ctx.stages[self.ctx.stage_index - 1]
            parameters = continue_from_parent(parameters, restart_thermostat=previous['temperature_k'] ==
                                              stage['temperature_k'] and previous['field_au'] == stage['field_au'])
        self.report(f'stage {stage["name"]}: {stage["steps"]} steps at {stage["temperature_k"]:.2f} K'
                    + (f' in a field of {stage["field_au"]} a.u.' if stage['field_au'] else ''))
        inputs = self._cp2k_inputs(parameters, stage['name'], self.ctx.parent)
        return ToContext(stage=submit_once(self, BoroglassCp2kBaseWorkChain, **inputs))

    def inspect_stage(self):
        """Keep the stage's traces; hand its restart folder and final structure to the next stage."""
        stage = self.ctx.stages[self.ctx.stage_index]
        node = self.ctx.stage
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_STAGE_FAILED.format(stage=stage['name'], status=node.exit_status)
        self.out(f'thermo.{stage["name"]}', node.outputs.thermo)
        self.ctx.parent = node.outputs.remote_folder
        if stage['name'] == 'field':
            self.ctx.field_trajectory = node.outputs.output_trajectory
        else:
            self.ctx.structure = node.outputs.output_structure
            self.ctx.trajectory = node.outputs.output_trajectory
        self.ctx.stage_index += 1
        return None

    @checked_step
    def analyse(self):
        """Density, g_BO(r), N4 and oxygen speciation of the production frames (the classical analyses)."""
        self.ctx.properties = glass_properties(self.ctx.structure, self.ctx.trajectory, self.inputs.get('cutoff_bo_a'))

    def has_field(self) -> bool:
        """Whether a field run was made."""
        return 'field' in self.inputs

    @checked_step
    def field_drift(self):
        """Mobility and conductivity of the mobile ions from their drift in the field."""
        field = self.inputs.field.get_dict()
        settings = {'efield_v_a': [component * FIELD_AU_V_A for component in field['field_au']],
                    'frozen_elements': sorted({s for s in self._symbols() if s in NETWORK_ELEMENTS})
                    if field.get('fix_network') else [],
                    'temperature_k': self.ctx.stages[-1]['temperature_k']}
        self.out('field_trajectory', self.ctx.field_trajectory)
        self.out('field', run_checked(field_transport, orm.Dict(settings), orm.Dict(), orm.Dict({'species': {}}),
                                      field_r0=self.ctx.field_trajectory))

    def results(self):
        """Attach the glass, its production trajectory and its properties."""
        attach_glass(self)
