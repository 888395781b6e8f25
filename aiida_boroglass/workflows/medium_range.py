"""``boroglass.medium_range``: rings, superstructural units, persistent homology and cavities of a glass.

Each analysis runs as a calcfunction, or as a ``boroglass.analysis`` job on the computer of
``analysis_code`` above ``job_threshold_atom_frames`` (:mod:`.analysis_jobs`). A step launches
one analysis and the next step, named after it, reads its results: a failed analysis ends
the workflow at the step of its name, before the next one starts.
"""
from __future__ import annotations

from aiida import orm
from aiida.engine import WorkChain

from aiida_boroglass.analysis.cavities import grid_shape
from aiida_boroglass.analysis.homology import DEFAULT_RADII_A, max_alpha
from aiida_boroglass.analysis.speciation import NETWORK_FORMERS
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step
from aiida_boroglass.functions.medium_range import medium_range_settings, panel_parameters
from aiida_boroglass.functions.utils import glass_cells, glass_symbols, require_elements
from aiida_boroglass.workflows.analysis_jobs import (
    analysis_outputs,
    define_job_inputs,
    job_route_problem,
    launch_analysis,
    runs_as_jobs,
)
from aiida_boroglass.workflows.structure_panel import settings_validator, validate_glass


def validate_inputs(inputs, _):
    """The glass holds a network (oxygen and a former), and its cell fits persistent homology and the cavity grid."""
    if 'glass' not in inputs:
        return None
    settings = medium_range_settings(inputs.get('parameters'))
    symbols = sorted(set(glass_symbols(inputs['glass'])))
    try:
        require_elements(symbols, 'the medium-range panel (rings of the network)', needed=('O',), any_of=NETWORK_FORMERS)
    except ValueError as exc:
        return str(exc)
    radii = {**DEFAULT_RADII_A, **settings['radii_a']}
    missing = sorted(set(symbols) - set(radii))
    if missing:
        return f'glass: persistent homology has no ball radius for {missing}; known: {sorted(DEFAULT_RADII_A)}'
    largest = max(radii[element] for element in symbols)
    for cell in glass_cells(inputs['glass']):
        if max_alpha(cell, largest) <= 0:
            return (f'glass: the cell is too small for persistent homology: its smallest width must exceed 4 x the '
                    f'largest ball radius ({largest:g} Å); replicate the cell')
        try:
            grid_shape(cell, settings['cavity_resolution_a'])
        except ValueError as exc:
            return f'parameters.cavity_resolution_a: {exc}'
    return job_route_problem(inputs, settings['max_frames'])


class MediumRangeWorkChain(WorkChain):
    """Bond cutoffs -> rings and superstructural units -> persistent homology -> cavities."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('glass', valid_type=(orm.StructureData, orm.TrajectoryData), validator=validate_glass,
                   help='The glass: a structure, or a trajectory with cells (the last `max_frames` frames are used).')
        spec.input('parameters', valid_type=orm.Dict, default=lambda: orm.Dict(), validator=settings_validator(medium_range_settings),
                   help='Settings; see `aiida_boroglass.functions.medium_range.MEDIUM_RANGE_DEFAULTS`.')
        define_job_inputs(spec)
        spec.inputs.validator = validate_inputs
        spec.outline(cls.setup, cls.bond_cutoffs, cls.rings, cls.homology, cls.cavities)
        spec.output('cutoffs', valid_type=orm.Dict, help='Bond cutoffs (Å) and their source.')
        spec.output('rings', valid_type=orm.Dict, help='Ring size distributions, B-coordination classes, boroxol fraction.')
        spec.output('ring_membership', valid_type=orm.Dict, help='In-ring and non-ring atoms (B3r, B3n, B4r, ...).')
        spec.output('superstructural_units', valid_type=orm.Dict, help='Boroxol, triborate, diborate, ... units.')
        spec.output('homology', valid_type=orm.ArrayData, help='Persistence diagram and APF (Å^2).')
        spec.output('cavities', valid_type=orm.Dict, help='Cavity fraction, count, volumes (Å^3), ion distances (Å).')
        spec.output('cavity_volumes', valid_type=orm.ArrayData, help='Cavity volumes and ion-cavity distances.')
        spec.exit_code(401, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)

    def setup(self):
        """Choose where the analyses run; launch g(r) for the bond cutoffs, as the structure panel finds them."""
        settings = medium_range_settings(self.inputs.parameters)
        self.ctx.analysis_jobs = runs_as_jobs(self.inputs, settings['max_frames'])
        launch_analysis(self, 'pair_distributions', 'pair_distributions', glass=self.inputs.glass,
                        parameters=orm.Dict(panel_parameters(settings)))

    @checked_step
    def bond_cutoffs(self):
        """Bond cutoffs at the first minima of g(r); launch the rings of the former + bridging-oxygen network
        and the superstructural units built of them."""
        self.ctx.cutoffs = analysis_outputs(self, 'pair_distributions')['cutoffs']
        self.out('cutoffs', self.ctx.cutoffs)
        launch_analysis(self, 'rings', 'ring_analysis', glass=self.inputs.glass, cutoffs=self.ctx.cutoffs,
                        parameters=self.inputs.parameters)

    @checked_step
    def rings(self):
        """The rings; launch the 1-dimensional persistence diagram and the APF."""
        self.out_many(analysis_outputs(self, 'rings'))
        launch_analysis(self, 'homology', 'persistent_homology', glass=self.inputs.glass,
                        parameters=self.inputs.parameters)

    @checked_step
    def homology(self):
        """The persistence diagram; launch the domain cavities and the distance of every mobile ion to the nearest one."""
        self.out('homology', analysis_outputs(self, 'homology')['result'])
        launch_analysis(self, 'cavities', 'cavity_analysis', glass=self.inputs.glass, parameters=self.inputs.parameters)

    @checked_step
    def cavities(self):
        """The cavities."""
        self.out_many(analysis_outputs(self, 'cavities'))
