"""``boroglass.deformation``: uniaxial tension or compression and triaxial compression of a glass at a strain rate.

Papers 001 (uniaxial tension and compression at +-1e-3 1/ps, triaxial compression; N4, 3-rings
and the local deformation gradient F_i by atom class along the strain) and 004 (tension at
5e10 1/s = 0.05 1/ps with zero lateral stress; bond switching of the formers). Per replica and
direction one LAMMPS run (``boroglass.lammps_base``): an optional NPT equilibration at zero
pressure, then a ``deform`` stage that strains the loaded axis (all three for ``triaxial``) at
the constant engineering rate up to ``max_strain``, the other two held at zero stress
(``lateral: stress``) or at their length (``lateral: strain``), writing ``frames`` frames after
the unstrained one. Per run a calcfunction gives the binned stress-strain curve (stress
positive in tension, GPa), the strength (largest stress magnitude in the loading sense) and its
strain, the initial slope, and per frame N4, the 3-rings, the bond-switching counts of every
former against the unstrained frame and F_i averaged by atom class; a last calcfunction
averages the runs (paper 001 averages 3 replicas x 3 directions). The per-run analysis, whose
cost grows with the atoms x frames of a run, runs as a calcfunction, or as a
``boroglass.analysis`` job on the computer of ``analysis_code`` above
``job_threshold_atom_frames`` (:mod:`..analysis_jobs`).

Bond cutoffs are the first minima of the partial g(r) of each replica (``pair_distributions``,
the structure panel's calcfunction), as papers 002 and 004 take them. Directions are the axes
of the input cell, which must be orthorhombic (LAMMPS' frame is then the input frame). The
workflow is written against the potential of ``boroglass.lammps``: a classical force field
(``forcefield``) or a DeePMD ensemble (``md.lammps.models`` + ``md.lammps.deepmd``).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from aiida import orm
from aiida.engine import WorkChain, while_

from aiida_boroglass.analysis.neighbors import max_cutoff
from aiida_boroglass.calculations.lammps_inputs import (
    DEFAULT_PARAMETERS,
    DEFORM_AXES,
    LATERAL_CONDITIONS,
    MAX_STRAIN_RATE_PER_PS,
    validate_parameters,
)
from aiida_boroglass.functions.deformation import deformation_average
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.structure import pair_distributions
from aiida_boroglass.functions.utils import is_count, is_real
from aiida_boroglass.glass.replicas import replica_seed
from aiida_boroglass.workflows.analysis_jobs import (
    above_threshold,
    analysis_outputs,
    define_job_inputs,
    launch_analysis,
    size_problem,
)
from aiida_boroglass.workflows.mechanics.elastic import steps_of
from aiida_boroglass.workflows.protocols.utils import ProtocolMixin
from aiida_boroglass.workflows.replica_runs import ReplicaRunsMixin, potential_problem, replica_elements, timestep_fs

#: Loading modes and the sign of their strain rate.
MODES = {'tension': 1, 'compression': -1, 'triaxial': -1}
DEFAULTS = {'mode': 'tension', 'directions': list(DEFORM_AXES), 'strain_rate_per_ps': 0.05, 'max_strain': 0.2,
            'temperature_k': 300.0, 'lateral': 'stress', 'equilibrate_ps': 0.0, 'frames': 20}
#: Analysis settings: h of F_i (Å, paper 001), bond cutoffs that override the first minima (Å),
#: strain intervals of the curve, strain magnitude of the initial-slope fit.
ANALYSIS_DEFAULTS = {'window_a': 4.0, 'cutoffs_a': {}, 'curve_points': 20, 'modulus_strain': 0.02}
#: Name of the deform stage of every run.
DEFORM_STAGE = 'deform'


def analysis_settings(value: orm.Dict | Mapping | None) -> dict:
    """The analysis settings, defaults filled in (:data:`ANALYSIS_DEFAULTS`)."""
    return {**ANALYSIS_DEFAULTS, **(value.get_dict() if isinstance(value, orm.Dict) else value or {})}


def deform_plan(max_strain: float, rate_per_ps: float, frames: int, timestep: float) -> tuple[int, int]:
    """Steps of the deform stage and the steps between frames: ``frames`` equal intervals to about ``max_strain``.

    Parameters
    ----------
    max_strain : float
        Strain magnitude to reach, dimensionless.
    rate_per_ps : float
        Strain rate magnitude, 1/ps.
    frames : int
        Frames after the unstrained one.
    timestep : float
        MD time step, fs.
    """
    every = max(1, int(round(max_strain / (rate_per_ps * timestep * 1e-3) / frames)))
    return every * frames, every


def run_stages(mode: str, direction: str | None, lateral: str, rate_per_ps: float, temperature_k: float,
               steps: int, every: int, equilibrate_steps: int) -> list[dict]:
    """LAMMPS stages of one run: NPT at zero pressure (when ``equilibrate_steps``), then the deform stage.

    Parameters
    ----------
    mode : str
        A key of :data:`MODES`.
    direction : str or None
        Loaded axis ``x``, ``y`` or ``z``; None for ``triaxial``.
    lateral : str
        ``stress`` or ``strain`` (uniaxial modes).
    rate_per_ps : float
        Strain rate magnitude, 1/ps; its sign comes from ``mode``.
    temperature_k : float
        K.
    steps, every, equilibrate_steps : int
        Steps of the deform stage, between its frames, and of the equilibration.
    """
    deform = {'name': DEFORM_STAGE, 'type': 'deform', 'steps': steps, 'temperature_k': temperature_k,
              'strain_rate_per_ps': MODES[mode] * rate_per_ps, 'dump_every': every}
    deform.update({'triaxial': True} if mode == 'triaxial' else {'direction': direction, 'lateral': lateral})
    equilibrate = {'name': 'equilibrate', 'type': 'npt', 'steps': equilibrate_steps, 'temperature_k': temperature_k,
                   'pressure_gpa': 0.0}
    return ([equilibrate] if equilibrate_steps else []) + [deform]


def run_atom_frames(inputs: Mapping) -> int:
    """Atoms x frames of one deformation run (the unstrained frame and ``frames`` more), the size that sends
    the analyses to jobs."""
    frames = inputs['frames'].value if 'frames' in inputs else DEFAULTS['frames']
    return len(next(iter(inputs['structures'].values())).sites) * (frames + 1)


def _choice(name: str, allowed):
    """Port validator: the value is one of ``allowed``."""
    def validate(value, _):
        return None if value.value in allowed else f'{name}: must be one of {", ".join(allowed)}, got {value.value!r}'
    return validate


def _number(name: str, low: float, high: float, unit: str, low_open: bool = True):
    """Port validator: a number in (low, high] (``[low, high]`` with ``low_open=False``)."""
    def validate(value, _):
        number = value.value
        inside = is_real(number) and (low < number if low_open else low <= number) and number <= high
        bracket = '(' if low_open else '['
        return None if inside else f'{name}: must lie in {bracket}{low:g}, {high:g}] {unit}, got {number!r}'
    return validate


def validate_directions(value, _):
    """A non-empty list of distinct axes among x, y, z."""
    directions = value.get_list()
    if not directions or len(set(directions)) != len(directions) or not set(directions) <= set(DEFORM_AXES):
        return f'directions: must be a non-empty list of distinct axes among {", ".join(DEFORM_AXES)}, got {directions!r}'
    return None


def validate_frames(value, _):
    """An integer number of frames, 1 to 1000."""
    return None if is_count(value.value, 1) and value.value <= 1000 else \
        f'frames: must be an integer in [1, 1000], got {value.value!r}'


def validate_analysis(value, _):
    """Known keys; ``window_a``, ``modulus_strain`` > 0; ``curve_points`` a positive integer; ``cutoffs_a`` a mapping."""
    settings = analysis_settings(value)
    unknown = sorted(set(settings) - set(ANALYSIS_DEFAULTS))
    if unknown:
        return f'analysis: unknown keys {unknown}; allowed: {sorted(ANALYSIS_DEFAULTS)}'
    for key in ('window_a', 'modulus_strain'):
        if not (is_real(settings[key]) and settings[key] > 0):
            return f'analysis.{key}: must be a number > 0, got {settings[key]!r}'
    if not is_count(settings['curve_points'], 1):
        return f'analysis.curve_points: must be a positive integer, got {settings["curve_points"]!r}'
    if not isinstance(settings['cutoffs_a'], Mapping):
        return f'analysis.cutoffs_a: must be a mapping such as {{"B-O": 1.9}} (Å), got {settings["cutoffs_a"]!r}'
    return None


class DeformationWorkChain(ReplicaRunsMixin, ProtocolMixin, WorkChain):
    """Strain replicas of a glass at a constant rate; stress-strain curve, strength, structure along the strain."""

    _protocol_file = 'deformation.yaml'
    _protocol_open_sections = ('md', 'analysis')

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        cls.define_replica_runs(spec)
        spec.input('mode', valid_type=orm.Str, serializer=orm.to_aiida_type, default=lambda: orm.Str(DEFAULTS['mode']),
                   validator=_choice('mode', tuple(MODES)),
                   help='`tension`, `compression` (uniaxial, along each of `directions`) or `triaxial` (all three axes '
                        'compressed at the rate).')
        spec.input('directions', valid_type=orm.List, serializer=orm.to_aiida_type,
                   default=lambda: orm.List(DEFAULTS['directions']), validator=validate_directions,
                   help='Loaded axes of the uniaxial modes, each a run per replica (paper 001: x, y, z); unused by '
                        '`triaxial`.')
        spec.input('strain_rate_per_ps', valid_type=orm.Float, serializer=orm.to_aiida_type,
                   default=lambda: orm.Float(DEFAULTS['strain_rate_per_ps']),
                   validator=_number('strain_rate_per_ps', 0.0, MAX_STRAIN_RATE_PER_PS, '1/ps (a magnitude)'),
                   help='Engineering strain rate magnitude, 1/ps (paper 001: 1e-3; paper 004: 5e10 1/s = 0.05); the '
                        'mode gives its sign.')
        spec.input('max_strain', valid_type=orm.Float, serializer=orm.to_aiida_type,
                   default=lambda: orm.Float(DEFAULTS['max_strain']), validator=_number('max_strain', 0.0, 1.0, ''),
                   help='Strain magnitude at the end of the run, dimensionless.')
        spec.input('temperature_k', valid_type=orm.Float, serializer=orm.to_aiida_type,
                   default=lambda: orm.Float(DEFAULTS['temperature_k']),
                   validator=_number('temperature_k', 0.0, 5000.0, 'K'), help='Temperature, K (papers: 300).')
        spec.input('lateral', valid_type=orm.Str, serializer=orm.to_aiida_type,
                   default=lambda: orm.Str(DEFAULTS['lateral']), validator=_choice('lateral', LATERAL_CONDITIONS),
                   help='Uniaxial modes: `stress` holds the other two axes at zero stress (paper 004), `strain` at '
                        'their length.')
        spec.input('equilibrate_ps', valid_type=orm.Float, serializer=orm.to_aiida_type,
                   default=lambda: orm.Float(DEFAULTS['equilibrate_ps']),
                   validator=_number('equilibrate_ps', 0.0, 1.0e5, 'ps', low_open=False),
                   help='NPT at zero pressure and the temperature before loading, ps (paper 004: 100); 0: none.')
        spec.input('frames', valid_type=orm.Int, serializer=orm.to_aiida_type,
                   default=lambda: orm.Int(DEFAULTS['frames']), validator=validate_frames,
                   help='Frames written along the strain after the unstrained one (equal strain intervals).')
        spec.input('analysis', valid_type=orm.Dict, serializer=orm.to_aiida_type, default=lambda: orm.Dict(),
                   validator=validate_analysis,
                   help='window_a (h of F_i, Å), cutoffs_a ({"B-O": 1.9}, Å, over the g(r) first minima), '
                        'curve_points, modulus_strain; defaults `ANALYSIS_DEFAULTS`.')
        define_job_inputs(spec, counted=' of one run')
        spec.inputs.validator = cls.validate_inputs

        spec.outline(
            cls.setup,
            cls.find_cutoffs,
            while_(cls.has_pending)(cls.launch_batch, cls.inspect_batch),
            cls.launch_analyses,
            cls.analyse,
            cls.average,
        )
        spec.output_namespace('curves', valid_type=orm.ArrayData, dynamic=True,
                              help='Per run (<replica>_<axis>): binned stress-strain curve, strain and stress_gpa '
                                   '(positive in tension) with stress_error_gpa, and the thermo points.')
        spec.output_namespace('evolution', valid_type=orm.ArrayData, dynamic=True,
                              help='Per run, per frame: strain, n4, three_rings, switching_<former> counts, '
                                   'local_f_<class> and local_strain_<class> (B3r, B3n, B4r, B4n, Or, On, ...).')
        spec.output_namespace('properties', valid_type=orm.Dict, dynamic=True,
                              help='Per run: strength_gpa, strain_at_strength, initial_modulus_gpa, final_strain, '
                                   'class_atoms, cutoffs_a.')
        spec.output('average', valid_type=orm.Dict,
                    help='Mean and standard deviation (ddof 1; None for one run) over runs of the strength, its '
                         'strain and the initial slope.')
        spec.output('average_curves', valid_type=orm.ArrayData,
                    help='Mean over runs of the curves and of the structure along the strain (stress_std_gpa: '
                         'spread of the stress between runs).')
        spec.exit_code(402, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)

    @classmethod
    def validate_inputs(cls, value, _):
        """Replicas of one glass in orthorhombic cells wide enough for F_i, a potential that covers it, runnable stages."""
        first, message = replica_elements(value.get('structures', {}))
        message = message or potential_problem(value, first)
        if message:
            return message
        analysis = analysis_settings(value.get('analysis'))
        for key, structure in sorted(value['structures'].items()):
            cell = np.array(structure.cell)
            if np.abs(cell - np.diag(np.diag(cell))).max() > 1e-8 * np.abs(cell).max():
                return f'structures: {key} is not orthorhombic; the loaded axes must be its lattice vectors along x, y, z'
            if analysis['window_a'] > max_cutoff(cell):
                return (f'analysis.window_a: {analysis["window_a"]:g} Å exceeds half the smallest width of {key} '
                        f'({max_cutoff(cell):.2f} Å); use a larger glass or a smaller window')
        inputs = {key: value[key].value if key in value else default for key, default in DEFAULTS.items()
                  if key != 'directions'}
        timestep = timestep_fs(value)
        steps, every = deform_plan(inputs['max_strain'], inputs['strain_rate_per_ps'], inputs['frames'], timestep)
        stages = run_stages(inputs['mode'], DEFORM_AXES[0], inputs['lateral'], inputs['strain_rate_per_ps'],
                            inputs['temperature_k'], steps, every, steps_of(inputs['equilibrate_ps'], timestep))
        message = validate_parameters({'stages': stages})
        if message:
            return f'strain_rate_per_ps / max_strain / frames: {message}'
        md = value['md_parameters'].get_dict() if value.get('md_parameters') is not None else {}
        thermo_strain = inputs['strain_rate_per_ps'] * timestep * 1e-3 * md.get('thermo_every',
                                                                                DEFAULT_PARAMETERS['thermo_every'])
        if analysis['modulus_strain'] < 2 * thermo_strain or analysis['modulus_strain'] > inputs['max_strain']:
            return (f'analysis.modulus_strain: must lie in [{2 * thermo_strain:g}, {inputs["max_strain"]:g}] (two thermo '
                    f'lines at least, at most max_strain), got {analysis["modulus_strain"]!r}')
        return size_problem(value, run_atom_frames(value), 'each deformation run')

    @staticmethod
    def fill_protocol_inputs(builder, inputs: Mapping):
        """Mode, directions, rate, strain, temperature, lateral condition, equilibration, frames and analysis."""
        for key in (*DEFAULTS, 'analysis'):
            builder[key] = inputs[key]

    def setup(self):
        """Plan one run per replica and direction (one per replica for ``triaxial``), each with its own seed."""
        md_parameters = self.md_parameters()
        mode = self.inputs.mode.value
        rate = self.inputs.strain_rate_per_ps.value
        steps, every = deform_plan(self.inputs.max_strain.value, rate, self.inputs.frames.value,
                                   md_parameters['timestep_fs'])
        equilibrate = steps_of(self.inputs.equilibrate_ps.value, md_parameters['timestep_fs'])
        directions = [None] if mode == 'triaxial' else self.inputs.directions.get_list()
        self.ctx.replicas = sorted(self.inputs.structures)
        self.ctx.runs, self.ctx.axes, self.ctx.replica_of = {}, {}, {}
        for replica in self.ctx.replicas:
            for direction in directions:
                key = f'{replica}_{direction or "xyz"}'
                stages = run_stages(mode, direction, self.inputs.lateral.value, rate, self.inputs.temperature_k.value,
                                    steps, every, equilibrate)
                self.ctx.runs[key] = (self.inputs.structures[replica], stages,
                                      replica_seed(md_parameters['seed'], len(self.ctx.runs)))
                self.ctx.axes[key] = [DEFORM_AXES.index(direction)] if direction else [0, 1, 2]
                self.ctx.replica_of[key] = replica
        self.ctx.pending = list(self.ctx.runs)
        self.ctx.analysis_jobs = above_threshold(self.inputs, run_atom_frames(self.inputs))
        final = MODES[mode] * steps * rate * md_parameters['timestep_fs'] * 1e-3
        self.report(f'{mode} at {MODES[mode] * rate:g} 1/ps to strain {final:g} ({steps} steps, a frame every {every}): '
                    f'{len(self.ctx.runs)} LAMMPS run(s)')

    @checked_step
    def find_cutoffs(self):
        """Bond cutoffs of every replica from the first minima of its partial g(r)."""
        parameters = orm.Dict({'cutoffs_a': analysis_settings(self.inputs.analysis)['cutoffs_a']})
        self.ctx.cutoffs = {replica: run_checked(pair_distributions, self.inputs.structures[replica], parameters)['cutoffs']
                            for replica in self.ctx.replicas}

    def inspect_batch(self):
        """Stop at the first failed run."""
        return self.failed_runs()

    def launch_analyses(self):
        """Launch the curve, strength and structure along the strain of every run."""
        analysis = analysis_settings(self.inputs.analysis)
        sign = MODES[self.inputs.mode.value]
        for key in self.ctx.runs:
            outputs = self.ctx[f'run_{key}'].outputs
            settings = orm.Dict({'stage': DEFORM_STAGE, 'axes': self.ctx.axes[key], 'sign': sign,
                                 'curve_points': analysis['curve_points'], 'modulus_strain': analysis['modulus_strain'],
                                 'window_a': analysis['window_a']})
            launch_analysis(self, f'analysis_{key}', 'deformation_analysis', thermo=outputs.thermo,
                            trajectory=outputs.trajectory, cutoffs=self.ctx.cutoffs[self.ctx.replica_of[key]],
                            settings=settings)

    @checked_step
    def analyse(self):
        """Curve, strength and structure along the strain of every run."""
        for key in self.ctx.runs:
            result = analysis_outputs(self, f'analysis_{key}')
            for name, namespace in (('curve', 'curves'), ('evolution', 'evolution'), ('properties', 'properties')):
                self.out(f'{namespace}.{key}', result[name])
            properties = result['properties']
            self.report(f'{key}: strength {properties["strength_gpa"]:.2f} GPa at strain '
                        f'{properties["strain_at_strength"]:.3f}, initial slope {properties["initial_modulus_gpa"]:.1f} GPa')

    @checked_step
    def average(self):
        """Mean and spread over all runs."""
        runs = {f'{prefix}_{key}': self.outputs[namespace][key] for key in self.ctx.runs
                for prefix, namespace in (('curve', 'curves'), ('evolution', 'evolution'), ('properties', 'properties'))}
        result = run_checked(deformation_average, **runs)
        self.out('average', result['average'])
        self.out('average_curves', result['curves'])
