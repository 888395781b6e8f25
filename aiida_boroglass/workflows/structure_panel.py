"""``boroglass.structure_panel``: the short-range structure of a glass, every result a provenance node.

The analyses that read every atom of every analysed frame (g(r), short-range order, angles,
volumes) run as calcfunctions, or as ``boroglass.analysis`` jobs on the computer of
``analysis_code`` above ``job_threshold_atom_frames`` (:mod:`.analysis_jobs`); S(Q) and the
comparison with an experiment work on g(r) alone and stay calcfunctions.
"""
from __future__ import annotations

from aiida import orm
from aiida.engine import WorkChain, if_

from aiida_boroglass.analysis.cutoffs import split_pair_key
from aiida_boroglass.analysis.density import CATIONS_PER_OXIDE
from aiida_boroglass.analysis.scattering import neutron_scattering_lengths, read_curve
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.structure import (
    EXPERIMENT_ARRAYS,
    EXPERIMENT_QUANTITIES,
    experiment_agreement,
    panel_settings,
    scattering_functions,
)
from aiida_boroglass.functions.utils import glass_symbols, require_elements
from aiida_boroglass.workflows.analysis_jobs import (
    analysis_outputs,
    define_job_inputs,
    job_route_problem,
    launch_analysis,
    runs_as_jobs,
)


def settings_validator(settings):
    """A port validator that runs ``settings(value)`` and returns its ValueError message, if any.

    Parameters
    ----------
    settings : callable
        Fills the defaults of a parameters Dict and raises ValueError on a bad key or value.
    """

    def validate(value, _):
        """Refuse unknown keys and bad values before anything runs."""
        if value is not None:
            try:
                settings(value)
            except ValueError as exc:
                return str(exc)
        return None

    return validate


def validate_glass(value, _):
    """A trajectory must carry cells; every analysis is periodic."""
    if isinstance(value, orm.TrajectoryData) and value.get_cells() is None:
        return 'glass: the trajectory has no cells; the panel needs periodic cells'
    return None


def validate_inputs(inputs, _):
    """The glass fits the panel's settings; an experiment needs its quantity, and the other way round."""
    has_file, has_quantity = 'experiment' in inputs, 'experiment_quantity' in inputs
    if has_file != has_quantity:
        return 'experiment and experiment_quantity must be given together'
    if has_quantity and inputs['experiment_quantity'].value not in EXPERIMENT_QUANTITIES:
        return f"experiment_quantity must be one of {list(EXPERIMENT_QUANTITIES)}, got {inputs['experiment_quantity'].value!r}"
    if 'glass' not in inputs:
        return None
    settings = panel_settings(inputs.get('parameters'))
    message = panel_glass_problem(glass_symbols(inputs['glass']), settings) or job_route_problem(inputs, settings['max_frames'])
    if message or not has_file:
        return message
    try:
        with inputs['experiment'].as_path() as path:
            read_curve(path)
    except ValueError as exc:
        return f'experiment: {exc}'
    return None


def panel_glass_problem(symbols, settings: dict) -> str | None:
    """Why the panel cannot analyse a glass of these elements with these settings, or None.

    The glass needs oxygen, and an oxide formula unit (:data:`CATIONS_PER_OXIDE`) for every
    other element (molar volume); given cutoffs and isotopes must name elements of the glass.

    Parameters
    ----------
    symbols : sequence of str
        Element of every atom.
    settings : dict
        :func:`panel_settings` of the parameters.
    """
    present = sorted(set(symbols))
    try:
        require_elements(present, 'the structure panel', needed=('O',))
    except ValueError as exc:
        return str(exc)
    unknown = sorted(set(present) - {'O'} - set(CATIONS_PER_OXIDE))
    if unknown:
        return f'glass: {unknown} have no oxide formula unit for the molar volume; known: {sorted(CATIONS_PER_OXIDE)}'
    for pair in settings['cutoffs_a']:
        missing = sorted(set(split_pair_key(pair)) - set(present))
        if missing:
            return f'parameters.cutoffs_a[{pair!r}]: the glass has no {", ".join(missing)} (elements: {present})'
    try:
        neutron_scattering_lengths(present, settings['isotopes'] or None)
    except ValueError as exc:
        return f'parameters.isotopes: {exc}'
    return None


class StructurePanelWorkChain(WorkChain):
    """Partial RDFs, bond cutoffs, coordination, units, bond populations, angles, S(Q), T(r), volumes."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('glass', valid_type=(orm.StructureData, orm.TrajectoryData), validator=validate_glass,
                   help='The glass: a structure, or a trajectory with cells (the last `max_frames` frames are used).')
        spec.input('parameters', valid_type=orm.Dict, default=lambda: orm.Dict(), validator=settings_validator(panel_settings),
                   help='Panel settings; see `aiida_boroglass.functions.structure.PANEL_DEFAULTS`.')
        spec.input('experiment', valid_type=orm.SinglefileData, required=False,
                   help='A measured curve, two columns (x, y): r in Å or Q in Å^-1.')
        spec.input('experiment_quantity', valid_type=orm.Str, required=False,
                   help=f'What the experiment holds: one of {", ".join(EXPERIMENT_QUANTITIES)}.')
        define_job_inputs(spec)
        spec.inputs.validator = validate_inputs
        spec.exit_code(401, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)
        spec.outline(
            cls.glass_analyses,
            cls.bonded_analyses,
            cls.scattering,
            if_(cls.has_experiment)(cls.compare_with_experiment),
            cls.results,
        )
        spec.output('rdf', valid_type=orm.ArrayData, help='Partial g_ij(r) and running coordination numbers.')
        spec.output('cutoffs', valid_type=orm.Dict, help='Bond cutoffs (Å) and their source.')
        spec.output('coordination', valid_type=orm.Dict, help='Coordination distributions, N3, N4, BO/NBO/free O.')
        spec.output('network_units', valid_type=orm.Dict, required=False,
                    help='B^(n), P^(m), Q^n units: counts and fractions (the hopping model reads this).')
        spec.output('bond_populations', valid_type=orm.Dict, required=False,
                    help='3B-BO, 3B-NBO, 4B-BO, 4B-NBO, M-BO, M-NBO, BO-BO, ...: fractions and peak distances (Å).')
        spec.output('bond_distances', valid_type=orm.ArrayData, required=False,
                    help='Distance histograms of the bond populations.')
        spec.output('angles', valid_type=orm.ArrayData, help='Bond-angle distributions (1/deg).')
        spec.output('angle_summary', valid_type=orm.Dict, help='Mean and spread of every bond angle (deg).')
        spec.output('neutron', valid_type=orm.ArrayData, help='Neutron S_ij(Q), S(Q), i(Q), G(r), D(r), T(r).')
        spec.output('xray', valid_type=orm.ArrayData, help='X-ray S(Q) and D(r).')
        spec.output('agreement', valid_type=orm.Dict, required=False, help="Wright's R_chi against the experiment.")
        spec.output('volumes', valid_type=orm.Dict, help='Density, molar volume, number density, Voronoi volumes.')

    def glass_analyses(self):
        """All partial g_ij(r) with the bond cutoffs at their first minima; density, molar and Voronoi volumes."""
        self.ctx.analysis_jobs = runs_as_jobs(self.inputs, panel_settings(self.inputs.parameters)['max_frames'])
        glass, parameters = self.inputs.glass, self.inputs.parameters
        launch_analysis(self, 'pair_distributions', 'pair_distributions', glass=glass, parameters=parameters)
        launch_analysis(self, 'volumes', 'volume_analysis', glass=glass, parameters=parameters)

    @checked_step
    def bonded_analyses(self):
        """At the bond cutoffs: coordination, N4, oxygen speciation, network-former units, labelled bond
        distances, and bond-angle distributions."""
        pairs = analysis_outputs(self, 'pair_distributions')
        self.ctx.cutoffs, self.ctx.rdf = pairs['cutoffs'], pairs['rdf']
        self.out_many(pairs)
        inputs = {'glass': self.inputs.glass, 'cutoffs': self.ctx.cutoffs, 'parameters': self.inputs.parameters}
        launch_analysis(self, 'short_range_order', 'short_range_order', **inputs)
        launch_analysis(self, 'angles', 'bond_angle_distributions', **inputs)

    @checked_step
    def scattering(self):
        """Neutron and X-ray S(Q), and the real-space functions."""
        self.ctx.scattering = run_checked(scattering_functions, self.ctx.rdf, self.inputs.parameters)
        self.out_many(self.ctx.scattering)

    def has_experiment(self):
        """Whether a measured curve was given."""
        return 'experiment' in self.inputs

    @checked_step
    def compare_with_experiment(self):
        """R_chi of the simulated curve against the measured one."""
        quantity = self.inputs.experiment_quantity
        simulated = self.ctx.scattering[EXPERIMENT_ARRAYS[quantity.value][0]]
        self.out('agreement', run_checked(experiment_agreement, simulated, self.inputs.experiment, quantity))

    @checked_step
    def results(self):
        """The outputs of the short-range order, angles and volumes."""
        self.out_many(analysis_outputs(self, 'short_range_order'))
        self.out_many(analysis_outputs(self, 'angles'))
        self.out('volumes', analysis_outputs(self, 'volumes')['result'])
