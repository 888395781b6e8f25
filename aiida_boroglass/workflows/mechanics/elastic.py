"""``boroglass.elastic``: elastic constants of a glass from the stresses of strained cells.

Per replica, one LAMMPS run relaxes the reference cell; then one run per strained cell (each
Voigt component at ``+-k strain``, k = 1..strain_steps, and the unstrained cell) gives its
stress; a linear fit gives the 6 x 6 constants, paper 002's isotropic averages give C11, C12,
C44, E and nu, Voigt-Reuss-Hill gives B and G. Two routes:

``static`` (screening)
    Reference: the box relaxed to zero pressure (conjugate gradients with ``fix box/relax
    aniso``), then the atoms (FIRE). Each strained cell: atoms relaxed by FIRE at fixed box,
    then a single point (the virial stress).
``nvt`` (paper 002, section 2.7)
    Reference: an NVT run of the input glass at the temperature. Each strained cell: NVT
    relaxation, then NVT with the pressure tensor (kinetic part included) averaged over every
    step. All cells of a replica start from the same positions with the same velocity seed,
    so that much of their thermal noise cancels in the stress differences.

The workflow is written against the potential of ``boroglass.lammps``: a classical force
field (``forcefield``) or a DeePMD ensemble (``md.lammps.models`` + ``md.lammps.deepmd``).
Strains are applied in the frame of the relaxed reference, which is LAMMPS' frame of the input
cell (the input cell itself when its first vector lies along x and its second in the xy plane,
e.g. an orthorhombic box); the constants are given in that frame.
"""
from __future__ import annotations

from collections.abc import Mapping

from aiida import orm
from aiida.engine import WorkChain, while_

from aiida_boroglass.analysis.mechanics.elastic import strain_set
from aiida_boroglass.calculations.lammps_inputs import validate_parameters
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.mechanics import elastic_constants, elastic_replica_average, strained_structures
from aiida_boroglass.functions.utils import is_count, is_real
from aiida_boroglass.glass.replicas import replica_seed
from aiida_boroglass.workflows.protocols.utils import ProtocolMixin
from aiida_boroglass.workflows.replica_runs import ReplicaRunsMixin, potential_problem, replica_elements, timestep_fs

ROUTES = ('static', 'nvt')
DEFAULT_ROUTE = 'static'
#: Strains accepted (the step, and the largest, step x strain_steps): beyond a few per cent the
#: response is no longer linear.
STRAIN_RANGE = (0.0, 0.05)
DEFAULT_STRAIN = 1.0e-4
DEFAULT_STRAIN_STEPS = 1
STRAIN_STEPS_RANGE = (1, 10)
#: Minimisation of the static route: LAMMPS' relative energy tolerance, the root mean square force
#: per atom at which it stops (eV/Å; LAMMPS' ``ftol`` is this times sqrt(n_atoms), the norm of all
#: forces), and the iteration limit. With PPPM the forces carry noise at about 1e-6 eV/Å per atom:
#: a tighter tolerance is never met, and FIRE, iterating on, can leave the minimum.
MINIMIZE_DEFAULTS = {'etol': 0.0, 'ftol_rms_ev_a': 2.0e-6, 'maxiter': 10000}
#: NVT route (paper 002): temperature (K), reference run, relaxation and averaging per cell (ps).
NVT_DEFAULTS = {'temperature_k': 300.0, 'reference_ps': 10.0, 'relax_ps': 1.0, 'average_ps': 1.0}


def minimize_settings(value: orm.Dict | Mapping | None) -> dict:
    """The static route's minimisation settings, defaults filled in (:data:`MINIMIZE_DEFAULTS`)."""
    return {**MINIMIZE_DEFAULTS, **(value.get_dict() if isinstance(value, orm.Dict) else value or {})}


def nvt_settings(value: orm.Dict | Mapping | None) -> dict:
    """The NVT route's settings, defaults filled in (:data:`NVT_DEFAULTS`)."""
    return {**NVT_DEFAULTS, **(value.get_dict() if isinstance(value, orm.Dict) else value or {})}


def steps_of(duration_ps: float, timestep_fs: float) -> int:
    """MD steps of ``duration_ps`` (ps) at a ``timestep_fs`` (fs) time step, rounded."""
    return int(round(duration_ps * 1000.0 / timestep_fs))


def elastic_stages(route: str, minimize: Mapping, nvt: Mapping, timestep_fs: float,
                   n_atoms: int) -> tuple[list[dict], list[dict]]:
    """LAMMPS stages of the reference run and of every strained cell's run.

    Parameters
    ----------
    route : str
        ``static`` or ``nvt``.
    minimize : Mapping
        ``etol`` (relative), ``ftol_rms_ev_a`` (eV/Å, per atom), ``maxiter`` of every minimisation
        (static route).
    nvt : Mapping
        ``temperature_k`` (K), ``reference_ps``, ``relax_ps``, ``average_ps`` (ps) (NVT route).
    timestep_fs : float
        MD time step, fs.
    n_atoms : int
        Atoms of the glass (the force tolerance of LAMMPS is a norm over all of them).

    Returns
    -------
    reference, strained : list of dict
        Stage lists for :class:`~aiida_boroglass.calculations.lammps.BoroglassLammpsCalculation`.
    """
    if route == 'static':
        tolerances = {'etol': minimize['etol'], 'ftol': minimize['ftol_rms_ev_a'] * n_atoms**0.5,
                      'maxiter': minimize['maxiter']}
        atoms = {'name': 'relax', 'type': 'minimize', 'min_style': 'fire', **tolerances}
        box = {'name': 'relax_box', 'type': 'minimize', 'pressure_gpa': 0.0, **tolerances}
        return [box, atoms], [atoms, {'name': 'stress', 'type': 'single_point'}]
    temperature = nvt['temperature_k']
    reference = {'name': 'equilibrate', 'type': 'nvt', 'temperature_k': temperature,
                 'steps': steps_of(nvt['reference_ps'], timestep_fs)}
    relax = {'name': 'relax', 'type': 'nvt', 'temperature_k': temperature, 'steps': steps_of(nvt['relax_ps'], timestep_fs)}
    average = {'name': 'average', 'type': 'nvt', 'temperature_k': temperature, 'average_stress': True,
               'steps': steps_of(nvt['average_ps'], timestep_fs)}
    return [reference], [relax, average]


def validate_route(value, _):
    """``static`` or ``nvt``."""
    return None if value.value in ROUTES else f'route: must be one of {", ".join(ROUTES)}, got {value.value!r}'


def validate_strain(value, _):
    """A strain step in (0, 0.05]."""
    low, high = STRAIN_RANGE
    if not (is_real(value.value) and low < value.value <= high):
        return f'strain: must lie in ({low:g}, {high:g}] (dimensionless; 1e-4 = 0.01 %), got {value.value!r}'
    return None


def validate_strain_steps(value, _):
    """An integer number of strain steps on each side of zero, 1 to 10."""
    low, high = STRAIN_STEPS_RANGE
    if not low <= value.value <= high:
        return f'strain_steps: must be an integer in [{low}, {high}], got {value.value}'
    return None


def validate_minimize(value, _):
    """Known keys; ``etol``, ``ftol_rms_ev_a`` >= 0; ``maxiter`` a positive integer."""
    settings = minimize_settings(value)
    unknown = sorted(set(settings) - set(MINIMIZE_DEFAULTS))
    if unknown:
        return f'minimize: unknown keys {unknown}; allowed: {sorted(MINIMIZE_DEFAULTS)}'
    for key in ('etol', 'ftol_rms_ev_a'):
        if not (is_real(settings[key]) and settings[key] >= 0):
            return f'minimize.{key}: must be a number >= 0, got {settings[key]!r}'
    if not is_count(settings['maxiter'], 1):
        return f'minimize.maxiter: must be a positive integer, got {settings["maxiter"]!r}'
    return None


def validate_nvt(value, _):
    """Known keys; a temperature in (0, 5000) K; durations >= 0 ps, the averaging > 0 ps."""
    settings = nvt_settings(value)
    unknown = sorted(set(settings) - set(NVT_DEFAULTS))
    if unknown:
        return f'nvt: unknown keys {unknown}; allowed: {sorted(NVT_DEFAULTS)}'
    if not (is_real(settings['temperature_k']) and 0 < settings['temperature_k'] < 5000):
        return f'nvt.temperature_k: must lie in (0, 5000) K, got {settings["temperature_k"]!r}'
    for key in ('reference_ps', 'relax_ps', 'average_ps'):
        if not (is_real(settings[key]) and settings[key] >= 0):
            return f'nvt.{key}: must be a number of ps >= 0, got {settings[key]!r}'
    return None


class ElasticWorkChain(ReplicaRunsMixin, ProtocolMixin, WorkChain):
    """Relax a reference cell, strain it +- in each Voigt component, fit C (6 x 6), report E, nu, B, G per replica."""

    _protocol_file = 'elastic.yaml'
    _protocol_open_sections = ('md', 'minimize', 'nvt')

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        cls.define_replica_runs(spec)
        spec.input('route', valid_type=orm.Str, serializer=orm.to_aiida_type, default=lambda: orm.Str(DEFAULT_ROUTE),
                   validator=validate_route,
                   help='`static`: energy-minimised strained cells (screening); `nvt`: paper 002, strained cells '
                        'relaxed and their stress averaged in NVT.')
        spec.input('strain', valid_type=orm.Float, serializer=orm.to_aiida_type, default=lambda: orm.Float(DEFAULT_STRAIN),
                   validator=validate_strain,
                   help='Strain step, dimensionless (paper 002: 1e-4 = 0.01 %); shears are engineering strains.')
        spec.input('strain_steps', valid_type=orm.Int, serializer=orm.to_aiida_type, default=lambda: orm.Int(DEFAULT_STRAIN_STEPS),
                   validator=validate_strain_steps,
                   help='Strained cells on each side of zero per Voigt component: +-k strain, k = 1..strain_steps.')
        spec.input('minimize', valid_type=orm.Dict, serializer=orm.to_aiida_type, default=lambda: orm.Dict(),
                   validator=validate_minimize,
                   help='Static route: etol (relative), ftol_rms_ev_a (root mean square force per atom, eV/Å), '
                        'maxiter of every minimisation; defaults `MINIMIZE_DEFAULTS`.')
        spec.input('nvt', valid_type=orm.Dict, serializer=orm.to_aiida_type, default=lambda: orm.Dict(),
                   validator=validate_nvt,
                   help='NVT route: temperature_k (K), reference_ps, relax_ps, average_ps (ps); defaults '
                        '`NVT_DEFAULTS` (paper 002: 300 K, 1 ps + 1 ps).')
        spec.inputs.validator = cls.validate_inputs

        spec.outline(
            cls.setup,
            while_(cls.has_pending)(cls.launch_batch, cls.inspect_batch),
            cls.strain_references,
            while_(cls.has_pending)(cls.launch_batch, cls.inspect_batch),
            cls.fit,
            cls.average,
        )
        spec.output_namespace('references', valid_type=orm.StructureData, dynamic=True,
                              help='Per replica: the relaxed reference cell that was strained (Å).')
        spec.output_namespace('elastic', valid_type=orm.Dict, dynamic=True,
                              help='Per replica: C (6 x 6, GPa) with fit standard errors, isotropic C11/C12/C44, E '
                                   '(GPa), nu, Voigt/Reuss/Hill B and G (GPa), anisotropy.')
        spec.output('average', valid_type=orm.Dict,
                    help='Mean and standard deviation (ddof 1; None for one replica) over replicas of E, nu, B, G, '
                         'C11, C12, C44 and the anisotropy index.')
        spec.exit_code(402, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)

    @classmethod
    def validate_inputs(cls, value, _):
        """Replicas of one glass, a potential that covers it, and LAMMPS stages that the runs accept."""
        first, message = replica_elements(value.get('structures', {}))
        message = message or potential_problem(value, first)
        if message:
            return message
        largest = (value['strain'].value if 'strain' in value else DEFAULT_STRAIN) * \
            (value['strain_steps'].value if 'strain_steps' in value else DEFAULT_STRAIN_STEPS)
        if largest > STRAIN_RANGE[1]:
            return f'strain: the largest strain, strain x strain_steps = {largest:g}, exceeds {STRAIN_RANGE[1]:g}'
        route = value['route'].value if 'route' in value else DEFAULT_ROUTE
        stages = elastic_stages(route, minimize_settings(value.get('minimize')), nvt_settings(value.get('nvt')),
                                timestep_fs(value), len(first))
        field = 'minimize' if route == 'static' else 'nvt'
        for run in stages:
            message = validate_parameters({'stages': run})
            if message:
                return f'{field}: {message}'
        if route == 'nvt' and not stages[1][1]['steps']:
            return 'nvt.average_ps: must cover at least one MD step'
        return None

    @staticmethod
    def fill_protocol_inputs(builder, inputs: Mapping):
        """Route, strain, strain steps and the minimise / NVT settings of the protocol."""
        for key in ('route', 'strain', 'strain_steps', 'minimize', 'nvt'):
            builder[key] = inputs[key]

    def setup(self):
        """Plan the reference run of every replica and the strained cells that follow."""
        md_parameters = self.md_parameters()
        route = self.inputs.route.value
        replicas = sorted(self.inputs.structures)
        self.ctx.stages = elastic_stages(route, minimize_settings(self.inputs.minimize), nvt_settings(self.inputs.nvt),
                                         md_parameters['timestep_fs'], len(self.inputs.structures[replicas[0]].sites))
        self.ctx.strains = {key: voigt.tolist() for key, voigt in
                            strain_set(self.inputs.strain.value, self.inputs.strain_steps.value).items()}
        self.ctx.replicas = replicas
        self.ctx.runs = {f'{replica}_reference': (self.inputs.structures[replica], self.ctx.stages[0],
                                                  replica_seed(md_parameters['seed'], index))
                         for index, replica in enumerate(replicas)}
        self.ctx.pending = list(self.ctx.runs)
        self.report(f'{route} route: {len(replicas)} replica(s) x (1 reference + {len(self.ctx.strains)} cells) '
                    f'LAMMPS runs, strain {self.inputs.strain.value:g} x {self.inputs.strain_steps.value} steps')

    def inspect_batch(self):
        """Stop at the first failed run."""
        return self.failed_runs()

    @checked_step
    def strain_references(self):
        """Strain each relaxed reference affinely; plan one run per strained cell, with the replica's seed."""
        strains = orm.Dict(self.ctx.strains)
        for replica in self.ctx.replicas:
            reference = self.ctx[f'run_{replica}_reference'].outputs.structure
            self.out(f'references.{replica}', reference)
            seed = self.ctx.runs[f'{replica}_reference'][2]
            cells = run_checked(strained_structures, reference, strains)
            self.ctx.runs.update({f'{replica}_{key}': (cells[key], self.ctx.stages[1], seed) for key in self.ctx.strains})
            self.ctx.pending += [f'{replica}_{key}' for key in self.ctx.strains]

    def _pressure_source(self, key: str) -> orm.Data:
        """What the run of cell ``key`` reports its stress in: single-point labels or averaged results."""
        outputs = self.ctx[f'run_{key}'].outputs
        return outputs.labels if self.inputs.route.value == 'static' else outputs.results

    @checked_step
    def fit(self):
        """Elastic constants, isotropic moduli and anisotropy of every replica."""
        strains = orm.Dict(self.ctx.strains)
        for replica in self.ctx.replicas:
            sources = {key: self._pressure_source(f'{replica}_{key}') for key in self.ctx.strains}
            result = run_checked(elastic_constants, strains, **sources)
            self.out(f'elastic.{replica}', result)
            self.report(f'{replica}: E = {result["youngs_modulus_gpa"]:.1f} GPa, nu = {result["poisson_ratio"]:.3f}, '
                        f'B = {result["bulk_modulus_hill_gpa"]:.1f} GPa, G = {result["shear_modulus_hill_gpa"]:.1f} GPa, '
                        f'A^U = {result["universal_anisotropy"]:.3f}; unstrained cell at stresses up to '
                        f'{max(map(abs, result["reference_stress_gpa"])):.2f} GPa')

    @checked_step
    def average(self):
        """Mean and spread over the replicas."""
        self.out('average', run_checked(elastic_replica_average, **self.outputs['elastic']))
