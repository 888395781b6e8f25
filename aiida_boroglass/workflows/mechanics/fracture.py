"""``boroglass.fracture``: fracture toughness of a pre-cracked glass (paper 002, section 2.8; Brochard's method).

Per replica:

1. the glass is replicated (paper 002: 1 x 2 x 2) and paper 002's elliptical pre-crack is cut
   (cations inside, then O until the charge balances; :mod:`aiida_boroglass.functions.fracture`);
2. one LAMMPS run minimises it with the box relaxed to zero pressure, relaxes it in NPT at zero
   pressure and equilibrates it in NVT (paper 002: 1 ns and 100 ps at 300 K);
3. step k = 0, 1, ...: the previous cell is strained affinely along z (normal to the crack plane)
   so that ``L_z = L_z0 (1 + k strain_step)``; one LAMMPS run minimises it at fixed box,
   equilibrates it in NVT, and averages the stress over every step of a second NVT stretch
   (paper 002: 1 % steps, 5 ps + 5 ps); until the sample has separated (the stress fallen below
   a fraction of its peak and a gap across the whole cross-section) or ``max_strain`` (paper 002:
   110 %);
4. G_c = L_x L_y / dA * integral sigma_z dL_z (eq. 13) with the crack area dA measured on the
   separated cell (minus what step 0 already shows open), and K_IC = sqrt(G_c E / (1 - nu^2))
   (eq. 14) with E and nu given as ``elastic``: the ``average`` output of ``boroglass.elastic`` on
   the same glass (or two numbers). The workflow does not run the elastic workflow itself: its
   route and strains are a separate choice, and one result serves many fracture runs;
5. with ``softness`` (paper 004): the bond switching of every former against step 0 in every
   step's cell, and a softness model of B trained on it (labels: switched at any step; features:
   the unstrained cell; tested on a held-out replica), applied to every strained cell.

A replica that has not separated at ``max_strain`` keeps its curve, frames and crack area; the
workflow then ends with ``ERROR_NOT_SEPARATED``. Fracture needs large cells: see docs/fracture.md.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from aiida import orm
from aiida.engine import WorkChain, if_, while_

from aiida_boroglass.analysis.mechanics.elastic import stress_from_pressure
from aiida_boroglass.analysis.mechanics.fracture import column_gaps, is_separated
from aiida_boroglass.analysis.mechanics.switching_softness import HALF_AXIS
from aiida_boroglass.analysis.softness import TAIL_WIDTHS
from aiida_boroglass.calculations.lammps_inputs import validate_parameters
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.fracture import (
    CRACK_DEFAULTS,
    DETECTION_DEFAULTS,
    NORMAL_AXIS,
    SOFTNESS_DEFAULTS,
    SWITCHING_DEFAULTS,
    crack_settings,
    detection_settings,
    elastic_moduli,
    fracture_replica_average,
    fracture_result,
    fracture_softness,
    precrack_arrays,
    precracked_structure,
    settings_with_defaults,
    switching_softness_settings,
)
from aiida_boroglass.functions.mechanics import pressure_tensor, strained_structures
from aiida_boroglass.functions.utils import is_count, is_real
from aiida_boroglass.glass.replicas import replica_seed
from aiida_boroglass.workflows.analysis_jobs import (
    above_threshold,
    analysis_outputs,
    define_job_inputs,
    launch_analysis,
    size_problem,
)
from aiida_boroglass.workflows.mechanics.elastic import minimize_settings, steps_of, validate_minimize
from aiida_boroglass.workflows.protocols.utils import ProtocolMixin
from aiida_boroglass.workflows.replica_runs import ReplicaRunsMixin, potential_problem, replica_elements, timestep_fs

#: Paper 002: the glass replicated 1 x 2 x 2.
DEFAULT_REPEATS = (1, 2, 2)
#: Smallest side of the replicated cell, Å: below it the crack faces and the ligament are a few
#: atoms wide and meet their periodic images within the force field's cutoff.
MIN_SIDE_A = 10.0
#: Strain step and largest strain (paper 002: 1 % to 110 %).
DEFAULT_STRAIN_STEP = 0.01
STRAIN_STEP_RANGE = (0.0, 0.1)
DEFAULT_MAX_STRAIN = 1.1
MAX_STRAIN_LIMIT = 3.0
#: Temperature (K) and durations (ps): NPT relaxation and NVT equilibration of the cracked cell,
#: then per strain step an NVT relaxation and the NVT stretch whose stress is averaged (paper 002).
SCHEDULE_DEFAULTS = {'temperature_k': 300.0, 'relax_ps': 1000.0, 'equilibrate_ps': 100.0, 'step_relax_ps': 5.0,
                     'step_average_ps': 5.0}


def schedule_settings(value: orm.Dict | Mapping | None) -> dict:
    """The schedule, defaults filled in (:data:`SCHEDULE_DEFAULTS`)."""
    return settings_with_defaults(value, SCHEDULE_DEFAULTS)


def unknown_keys(field: str, settings: Mapping, defaults: Mapping) -> str | None:
    """One line naming the keys of ``settings`` that ``defaults`` lacks, else None."""
    unknown = sorted(set(settings) - set(defaults))
    return f'{field}: unknown keys {unknown}; allowed: {sorted(defaults)}' if unknown else None


def fracture_stages(minimize: Mapping, schedule: Mapping, timestep: float, n_atoms: int) -> tuple[list[dict], list[dict]]:
    """LAMMPS stages of the relaxation run and of every strain step's run.

    Parameters
    ----------
    minimize : Mapping
        ``etol`` (relative), ``ftol_rms_ev_a`` (eV/Å, per atom), ``maxiter``.
    schedule : Mapping
        :data:`SCHEDULE_DEFAULTS` keys.
    timestep : float
        MD time step, fs.
    n_atoms : int
        Atoms of the cracked cell (LAMMPS' force tolerance is a norm over all of them).

    Returns
    -------
    relax, step : list of dict
        Stage lists; MD stages of zero steps are left out (not the averaging one).
    """
    tolerances = {'etol': minimize['etol'], 'ftol': minimize['ftol_rms_ev_a'] * n_atoms**0.5,
                  'maxiter': minimize['maxiter']}
    temperature = schedule['temperature_k']

    def nvt(name, key, **extra):
        return {'name': name, 'type': 'nvt', 'temperature_k': temperature,
                'steps': steps_of(schedule[key], timestep), **extra}

    relax = [{'name': 'minimize', 'type': 'minimize', 'pressure_gpa': 0.0, **tolerances},
             {'name': 'relax', 'type': 'npt', 'temperature_k': temperature, 'pressure_gpa': 0.0,
              'steps': steps_of(schedule['relax_ps'], timestep)},
             nvt('equilibrate', 'equilibrate_ps')]
    step = [{'name': 'minimize', 'type': 'minimize', 'min_style': 'fire', **tolerances}, nvt('relax', 'step_relax_ps'),
            nvt('average', 'step_average_ps', average_stress=True)]
    return ([stage for stage in relax if stage.get('steps', 1)],
            [stage for stage in step if stage.get('steps', 1) or stage['name'] == 'average'])


def validate_repeats(value, _):
    """Three integers >= 1."""
    repeats = value.get_list()
    if len(repeats) != 3 or not all(is_count(n, 1) for n in repeats):
        return f'repeats: must be three integers >= 1 (copies along x, y, z), got {repeats!r}'
    return None


def validate_strain_step(value, _):
    """A strain step in (0, 0.1]."""
    low, high = STRAIN_STEP_RANGE
    if not (is_real(value.value) and low < value.value <= high):
        return f'strain_step: must lie in ({low:g}, {high:g}] (dimensionless; 0.01 = 1 %), got {value.value!r}'
    return None


def validate_max_strain(value, _):
    """A largest strain in (0, 3]."""
    if not (is_real(value.value) and 0 < value.value <= MAX_STRAIN_LIMIT):
        return f'max_strain: must lie in (0, {MAX_STRAIN_LIMIT:g}] (paper 002: 1.1), got {value.value!r}'
    return None


def validate_crack(value, _):
    """Known keys; ``width_fraction`` in [0, 1) (0: no pre-crack), ``height_fraction`` in (0, 1]."""
    settings = crack_settings(value)
    message = unknown_keys('crack', settings, CRACK_DEFAULTS)
    if message:
        return message
    if not (is_real(settings['width_fraction']) and 0 <= settings['width_fraction'] < 1):
        return f'crack.width_fraction: must lie in [0, 1) (of the longest side; 0: no pre-crack), got {settings["width_fraction"]!r}'
    if not (is_real(settings['height_fraction']) and 0 < settings['height_fraction'] <= 1):
        return f'crack.height_fraction: must lie in (0, 1] (of the width), got {settings["height_fraction"]!r}'
    return None


def validate_detection(value, _):
    """Known keys; lengths > 0 Å, fractions in (0, 1], ``hold_steps`` >= 1."""
    settings = detection_settings(value)
    message = unknown_keys('detection', settings, DETECTION_DEFAULTS)
    if message:
        return message
    for key in ('probe_radius_a', 'gap_a', 'grid_a'):
        if not (is_real(settings[key]) and settings[key] > 0):
            return f'detection.{key}: must be a length > 0 Å, got {settings[key]!r}'
    for key in ('stress_fraction', 'area_fraction'):
        if not (is_real(settings[key]) and 0 < settings[key] <= 1):
            return f'detection.{key}: must lie in (0, 1], got {settings[key]!r}'
    if not is_count(settings['hold_steps'], 1):
        return f'detection.hold_steps: must be an integer >= 1, got {settings["hold_steps"]!r}'
    return None


def validate_schedule(value, _):
    """Known keys; a temperature in (0, 5000) K; durations >= 0 ps."""
    settings = schedule_settings(value)
    message = unknown_keys('schedule', settings, SCHEDULE_DEFAULTS)
    if message:
        return message
    if not (is_real(settings['temperature_k']) and 0 < settings['temperature_k'] < 5000):
        return f'schedule.temperature_k: must lie in (0, 5000) K, got {settings["temperature_k"]!r}'
    for key in ('relax_ps', 'equilibrate_ps', 'step_relax_ps', 'step_average_ps'):
        if not (is_real(settings[key]) and settings[key] >= 0):
            return f'schedule.{key}: must be a number of ps >= 0, got {settings[key]!r}'
    return None


def validate_softness(value, _):
    """Known keys (:data:`SOFTNESS_DEFAULTS`, :data:`SWITCHING_DEFAULTS`) with values in range."""
    settings = value.get_dict()
    message = unknown_keys('softness', settings, {**SOFTNESS_DEFAULTS, **SWITCHING_DEFAULTS})
    if message:
        return message
    cutoffs = settings.get('cutoffs_a')
    if cutoffs is not None and not (isinstance(cutoffs, Mapping) and all(is_real(v) and v > 0 for v in cutoffs.values())):
        return f'softness.cutoffs_a: must be {{former: former-O cutoff > 0 Å}} or None, got {cutoffs!r}'
    try:
        switching_softness_settings(settings)
    except ValueError as error:
        return str(error).replace('parameters.', 'softness.', 1)
    return None


def softness_problem(settings: Mapping, replicas: list[str], elements: list[str], sides, repeats) -> str | None:
    """One line naming what the ``softness`` settings ask that the replicas cannot give, else None.

    Parameters
    ----------
    settings : Mapping
        The ``softness`` input.
    replicas : list of str
        Replica keys.
    elements : list of str
        Elements of the glass.
    sides : array_like, shape (3,)
        Side lengths of the smallest replicated cell, Å (strain only lengthens z).
    repeats : sequence of int, shape (3,)
        Copies of the glass along x, y, z.
    """
    values = {**SOFTNESS_DEFAULTS, **settings}
    if values['species'] not in elements:
        return f'softness.species: {values["species"]} is not in the glass ({sorted(set(elements))})'
    if values['test_replica'] is not None and values['test_replica'] not in replicas:
        return f'softness.test_replica: {values["test_replica"]!r} is not among the replicas {replicas}'
    reach = values['r_max_a'] + TAIL_WIDTHS * values['dr_a']
    if reach > min(sides) / 2:
        return (f'softness.r_max_a: r_max_a + {TAIL_WIDTHS:g} dr_a = {reach:g} Å exceeds half the smallest side of the '
                f'cracked cell ({min(sides) / 2:.2f} Å); use a smaller r_max_a or replicate more')
    if len(replicas) == 1 and repeats[HALF_AXIS] > 1:
        return (f'softness: with one replica its upper half along x is held out, but repeats[0] = {repeats[HALF_AXIS]} '
                'makes it a periodic copy of the training half; give two replicas or repeats[0] = 1')
    return None


def validate_elastic(value, _):
    """E > 0 GPa and nu in (-1, 0.5), as numbers or ``boroglass.elastic`` ``average`` entries."""
    try:
        youngs, poisson = elastic_moduli(value.get_dict())
    except (TypeError, KeyError, ValueError):
        return ('elastic: needs youngs_modulus_gpa and poisson_ratio, numbers or {mean: ...} (the `average` '
                f'output of boroglass.elastic), got keys {sorted(value.get_dict())}')
    if not (np.isfinite(youngs) and youngs > 0 and -1 < poisson < 0.5):
        return f'elastic: need youngs_modulus_gpa > 0 and poisson_ratio in (-1, 0.5), got {youngs!r}, {poisson!r}'
    return None


class FractureWorkChain(ReplicaRunsMixin, ProtocolMixin, WorkChain):
    """Pre-crack a glass, strain it normal to the crack in steps until it separates; G_c and K_IC per replica."""

    _protocol_file = 'fracture.yaml'
    _protocol_open_sections = ('md', 'minimize', 'schedule', 'crack', 'detection')

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        cls.define_replica_runs(spec)
        spec.input('elastic', valid_type=orm.Dict, serializer=orm.to_aiida_type,
                   validator=validate_elastic,
                   help='E and nu of the same glass for eq. 14: the `average` output of boroglass.elastic, or '
                        '{youngs_modulus_gpa: GPa, poisson_ratio}.')
        spec.input('repeats', valid_type=orm.List, serializer=orm.to_aiida_type,
                   default=lambda: orm.List(list(DEFAULT_REPEATS)), validator=validate_repeats,
                   help='Copies of the glass along x, y, z (paper 002: 1 x 2 x 2).')
        spec.input('crack', valid_type=orm.Dict, serializer=orm.to_aiida_type, default=lambda: orm.Dict(),
                   validator=validate_crack,
                   help='Pre-crack: width_fraction (of the longest side; paper 002: 1/3; 0: none, e.g. a cleavage) '
                        'and height_fraction (of the width; 1/5).')
        spec.input('strain_step', valid_type=orm.Float, serializer=orm.to_aiida_type,
                   default=lambda: orm.Float(DEFAULT_STRAIN_STEP), validator=validate_strain_step,
                   help='Engineering strain added along z per step, of the relaxed length (paper 002: 0.01).')
        spec.input('max_strain', valid_type=orm.Float, serializer=orm.to_aiida_type,
                   default=lambda: orm.Float(DEFAULT_MAX_STRAIN), validator=validate_max_strain,
                   help='Largest strain along z; a sample not separated by then is reported (paper 002: 1.1).')
        spec.input('minimize', valid_type=orm.Dict, serializer=orm.to_aiida_type, default=lambda: orm.Dict(),
                   validator=validate_minimize,
                   help='etol (relative), ftol_rms_ev_a (eV/Å per atom), maxiter of every minimisation.')
        spec.input('schedule', valid_type=orm.Dict, serializer=orm.to_aiida_type, default=lambda: orm.Dict(),
                   validator=validate_schedule,
                   help='temperature_k (K), relax_ps (NPT at zero pressure), equilibrate_ps (NVT), step_relax_ps and '
                        'step_average_ps (NVT per strain step), ps; defaults `SCHEDULE_DEFAULTS` (paper 002).')
        spec.input('detection', valid_type=orm.Dict, serializer=orm.to_aiida_type, default=lambda: orm.Dict(),
                   validator=validate_detection,
                   help='Crack detection: probe_radius_a, gap_a, grid_a (Å) of the column grid; separation: '
                        'stress_fraction of the peak held for hold_steps steps, area_fraction of the columns open.')
        spec.input('softness', valid_type=orm.Dict, serializer=orm.to_aiida_type, required=False,
                   validator=validate_softness,
                   help='Bond switching along the strain and softness trained on it (paper 004); absent: not done. '
                        'Keys: species (B), test_replica (None: the last; one replica: its upper half along x), '
                        'r_max_a, dr_a (Å), c, balance, seed, quantiles, cutoffs_a ({former: Å}; None: 2.0 for B-O).')
        define_job_inputs(spec, counted=" of one replica's strain steps")
        spec.inputs.validator = cls.validate_inputs

        spec.outline(
            cls.setup,
            while_(cls.has_pending)(cls.launch_batch, cls.inspect_batch),
            while_(cls.is_straining)(
                cls.plan_step,
                while_(cls.has_pending)(cls.launch_batch, cls.inspect_batch),
                cls.inspect_step,
            ),
            cls.results,
            if_(cls.wants_softness)(cls.launch_switching, cls.analyse_softness),
            cls.finish,
        )
        for name, valid_type, text in (
                ('precracked', orm.StructureData, 'the replicated cell with its pre-crack, before relaxation (Å)'),
                ('curve', orm.ArrayData, 'strain, length_a, stress_gpa (z, positive in tension), crack_area_a2, '
                                         'open_fraction of every step'),
                ('frames', orm.TrajectoryData, 'the cell after every strain step (step 0: unstrained)'),
                ('separated', orm.Bool, 'whether the sample came apart before max_strain'),
                ('crack_area', orm.Float, 'crack area created, Å^2 (last step minus step 0, one face per crack)'),
                ('g_c', orm.Float, 'critical energy release rate, J/m^2 (eq. 13; separated samples)'),
                ('k_ic', orm.Float, 'fracture toughness, MPa m^0.5 (eq. 14; separated samples)'),
                ('fracture', orm.Dict, 'all of it, with the peak stress, the strain at the peak, E and nu used'),
                ('bond_switching', orm.ArrayData, 'with `softness`: the bond switching of every former in every '
                                                  'step against step 0 (fracture_bond_switching)')):
            spec.output_namespace(name, valid_type=valid_type, dynamic=True, help=f'Per replica: {text}.')
        spec.output('average', valid_type=orm.Dict, required=False,
                    help='Mean and standard deviation (ddof 1; None for one) over the separated replicas of G_c, '
                         'K_IC, crack area, peak stress and strain at the peak.')
        spec.output('softness', valid_type=orm.ArrayData, required=False,
                    help='With `softness`: the model, the softness of every labelled atom in every step and the '
                         'switched fraction by softness quantile against strain (fracture_softness).')
        spec.output('softness_summary', valid_type=orm.Dict, required=False,
                    help='With `softness`: accuracy on the held-out atoms, what was held out, counts, mean softness.')
        spec.exit_code(402, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)
        spec.exit_code(410, 'ERROR_NOT_SEPARATED',
                       message='Replicas {replicas} had not separated at max_strain; their curves, frames and crack '
                               'areas are output, G_c and K_IC are not.')

    @classmethod
    def validate_inputs(cls, value, _):
        """Replicas of one glass, a potential that covers it, a pre-crack that fits a large enough cell, valid stages."""
        first, message = replica_elements(value.get('structures', {}))
        message = message or potential_problem(value, first)
        if message:
            return message
        strain_step = value['strain_step'].value if 'strain_step' in value else DEFAULT_STRAIN_STEP
        max_strain = value['max_strain'].value if 'max_strain' in value else DEFAULT_MAX_STRAIN
        if max_strain < strain_step:
            return f'max_strain: {max_strain:g} is below one strain_step ({strain_step:g})'
        repeats = value['repeats'].get_list() if 'repeats' in value else list(DEFAULT_REPEATS)
        forcefield = value['forcefield'].get_dict() if 'forcefield' in value else None
        crack = crack_settings(value.get('crack'))
        for key, structure in sorted(value['structures'].items()):
            cell = np.array(structure.cell)
            sides = np.linalg.norm(cell, axis=1) * repeats
            if sides.min() < MIN_SIDE_A:
                return (f'repeats: the replicated cell of structures.{key} is {" x ".join(f"{s:.1f}" for s in sides)} Å; '
                        f'every side must be >= {MIN_SIDE_A:g} Å (replicate more or give a larger glass)')
            try:
                positions, _, _, _ = precrack_arrays(structure, repeats, crack, forcefield)
            except ValueError as error:
                return f'structures.{key}: {error}' if str(error).startswith('cell') else str(error)
            if 'softness' in value:
                message = softness_problem(value['softness'].get_dict(), sorted(value['structures']), first, sides, repeats)
                frames = int(max_strain / strain_step + 1e-9) + 1  # at most: a sample stops when it separates
                message = message or size_problem(value, len(positions) * frames,
                                                  f'the bond switching of structures.{key} (up to {frames} steps)')
                if message:
                    return message
        stages = fracture_stages(minimize_settings(value.get('minimize')), schedule_settings(value.get('schedule')),
                                 timestep_fs(value), len(positions))
        for run in stages:
            message = validate_parameters({'stages': run})
            if message:
                return f'schedule: {message}'
        if not stages[1][-1]['steps']:
            return 'schedule.step_average_ps: must cover at least one MD step'
        return None

    @staticmethod
    def fill_protocol_inputs(builder, inputs: Mapping):
        """Repeats, pre-crack, strains, minimisation, schedule, detection and (unless None) softness of the protocol."""
        for key in ('repeats', 'crack', 'strain_step', 'max_strain', 'minimize', 'schedule', 'detection'):
            builder[key] = inputs[key]
        if inputs.get('softness') is not None:
            builder.softness = inputs['softness']

    def run_forcefield(self, key: str) -> orm.Dict | None:
        """The force field of the replica's cracked cell (its O charge redefined for SHIK), else the input's."""
        replica = key.rsplit('_', 1)[0]
        return self.ctx.forcefields.get(replica, self.inputs.get('forcefield'))

    @checked_step
    def setup(self):
        """Cut the pre-crack into every replica; plan its relaxation run."""
        md_parameters = self.md_parameters()
        self.ctx.replicas = sorted(self.inputs.structures)
        self.ctx.forcefields = {}
        self.ctx.runs, self.ctx.seeds, self.ctx.steps = {}, {}, {}
        extra = {'forcefield': self.inputs.forcefield} if 'forcefield' in self.inputs else {}
        for index, replica in enumerate(self.ctx.replicas):
            cut = run_checked(precracked_structure, self.inputs.structures[replica], self.inputs.repeats,
                              self.inputs.crack, **extra)
            self.out(f'precracked.{replica}', cut['structure'])
            if 'forcefield' in cut:
                self.ctx.forcefields[replica] = cut['forcefield']
            self.ctx.seeds[replica] = replica_seed(md_parameters['seed'], index)
            self.ctx.steps[replica] = []
            self.report(f'{replica}: {len(cut["structure"].sites)} atoms after the cut ({cut["crack"]["removed"]} removed)')
        self.ctx.stages = fracture_stages(minimize_settings(self.inputs.minimize), schedule_settings(self.inputs.schedule),
                                          md_parameters['timestep_fs'], len(cut['structure'].sites))
        self.ctx.runs = {f'{replica}_relax': (self.outputs['precracked'][replica], self.ctx.stages[0],
                                              self.ctx.seeds[replica]) for replica in self.ctx.replicas}
        self.ctx.pending = list(self.ctx.runs)
        self.ctx.active = list(self.ctx.replicas)
        self.ctx.step = 0
        self.ctx.stress = {replica: [] for replica in self.ctx.replicas}

    def inspect_batch(self):
        """Stop at the first failed run."""
        return self.failed_runs()

    def is_straining(self) -> bool:
        """Whether a replica is still being strained."""
        return bool(self.ctx.active)

    @checked_step
    def plan_step(self):
        """Strain each active replica's latest cell to ``L_z0 (1 + k strain_step)``; plan its run."""
        step = self.ctx.step
        factor = (1.0 + step * self.inputs.strain_step.value) / (1.0 + (step - 1) * self.inputs.strain_step.value)
        for replica in self.ctx.active:
            previous = self.ctx[f'run_{self.ctx.steps[replica][-1]}' if step else f'run_{replica}_relax'].outputs.structure
            cell = previous
            if step:
                strain = orm.Dict({'zz': [0.0, 0.0, factor - 1.0, 0.0, 0.0, 0.0]})
                cell = run_checked(strained_structures, previous, strain)['zz']
            key = f'{replica}_step{step:03d}'
            self.ctx.runs[key] = (cell, self.ctx.stages[1], replica_seed(self.ctx.seeds[replica], step))
            self.ctx.steps[replica].append(key)
            self.ctx.pending.append(key)

    def inspect_step(self):
        """Record the stress along z; retire replicas that separated or reached ``max_strain``."""
        detection = detection_settings(self.inputs.detection)
        strain = self.ctx.step * self.inputs.strain_step.value
        for replica in list(self.ctx.active):
            run = self.ctx[f'run_{self.ctx.steps[replica][-1]}']
            self.ctx.stress[replica].append(float(stress_from_pressure(pressure_tensor(run.outputs.results))[NORMAL_AXIS]))
            structure = run.outputs.structure
            openings = column_gaps(np.array([site.position for site in structure.sites]), np.diag(structure.cell),
                                   NORMAL_AXIS, detection['probe_radius_a'], detection['gap_a'], detection['grid_a'])
            separated = is_separated(self.ctx.stress[replica], openings, detection['stress_fraction'],
                                     detection['hold_steps'], detection['area_fraction'])
            done = separated or strain >= self.inputs.max_strain.value - 1e-9
            if done:
                self.ctx.active.remove(replica)
            state = 'separated' if separated else 'not separated, max_strain reached' if done else 'straining'
            self.report(f'{replica}: strain {strain:.3f}, stress {self.ctx.stress[replica][-1]:.2f} GPa '
                        f'(peak {max(self.ctx.stress[replica]):.2f} GPa): {state}')
        self.ctx.step += 1

    @checked_step
    def results(self):
        """Curve, crack area, G_c and K_IC of every replica; the average over the separated ones."""
        failed = []
        for replica in self.ctx.replicas:
            steps = {}
            for index, key in enumerate(self.ctx.steps[replica]):
                outputs = self.ctx[f'run_{key}'].outputs
                steps[f'structure_{index:03d}'] = outputs.structure
                steps[f'results_{index:03d}'] = outputs.results
            result = run_checked(fracture_result, self.inputs.elastic, self.inputs.detection, **steps)
            for name, node in result.items():
                self.out(f'{name}.{replica}', node)
            summary = result['fracture'].get_dict()
            if summary['separated']:
                self.report(f'{replica}: G_c = {summary["g_c_j_m2"]:.2f} J/m^2 over {summary["crack_area_a2"]:.0f} Å^2, '
                            f'K_IC = {summary["k_ic_mpa_m05"]:.3f} MPa m^0.5')
            else:
                failed.append(replica)
        if len(failed) < len(self.ctx.replicas):
            self.out('average', run_checked(fracture_replica_average, **self.outputs['fracture']))
        self.ctx.not_separated = failed

    def wants_softness(self) -> bool:
        """Whether the bond switching and softness were asked for."""
        return 'softness' in self.inputs

    def launch_switching(self):
        """Launch the bond switching of every replica along its strain steps: jobs above the size threshold."""
        frames = {replica: self.outputs['frames'][replica] for replica in self.ctx.replicas}
        size = max(len(node.symbols) * node.numsteps for node in frames.values())
        self.ctx.analysis_jobs = above_threshold(self.inputs, size)
        settings = self.inputs.softness.get_dict()
        switching = orm.Dict({key: settings[key] for key in SWITCHING_DEFAULTS if key in settings})
        for replica, node in frames.items():
            launch_analysis(self, f'switching_{replica}', 'fracture_bond_switching', frames=node, parameters=switching)

    @checked_step
    def analyse_softness(self):
        """Bond switching of every replica; softness of B trained on it, applied to every step."""
        for replica in self.ctx.replicas:
            self.out(f'bond_switching.{replica}', analysis_outputs(self, f'switching_{replica}')['result'])
        replicas = {f'{replica}__{role}': self.outputs[output][replica] for replica in self.ctx.replicas
                    for role, output in (('frames', 'frames'), ('switching', 'bond_switching'))}
        result = run_checked(fracture_softness, self.inputs.softness, **replicas)
        self.out('softness', result['softness'])
        self.out('softness_summary', result['softness_summary'])
        summary = result['softness_summary'].get_dict()
        self.report(f'softness of {summary["species"]}: accuracy {summary["accuracy"]:.2f} on {summary["held_out"]} '
                    f'({summary["n_test"]} atoms), {sum(summary["n_switched"].values())} of '
                    f'{sum(summary["n_atoms"].values())} switched')

    def finish(self):
        """``ERROR_NOT_SEPARATED`` when a replica did not separate by ``max_strain``."""
        if self.ctx.not_separated:
            return self.exit_codes.ERROR_NOT_SEPARATED.format(replicas=', '.join(self.ctx.not_separated))
        return None
