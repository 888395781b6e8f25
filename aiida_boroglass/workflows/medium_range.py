"""``boroglass.medium_range``: rings, superstructural units, persistent homology and cavities of a glass."""
from __future__ import annotations

from aiida import orm
from aiida.engine import WorkChain

from aiida_boroglass.functions.medium_range import (
    cavity_analysis,
    medium_range_settings,
    panel_parameters,
    persistent_homology,
    ring_analysis,
)
from aiida_boroglass.functions.structure import pair_distributions
from aiida_boroglass.workflows.structure_panel import settings_validator, validate_glass


class MediumRangeWorkChain(WorkChain):
    """Bond cutoffs -> rings and superstructural units -> persistent homology -> cavities."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('glass', valid_type=(orm.StructureData, orm.TrajectoryData), validator=validate_glass,
                   help='The glass: a structure, or a trajectory with cells (the last `max_frames` frames are used).')
        spec.input('parameters', valid_type=orm.Dict, default=lambda: orm.Dict(), validator=settings_validator(medium_range_settings),
                   help='Settings; see `aiida_boroglass.functions.medium_range.MEDIUM_RANGE_DEFAULTS`.')
        spec.outline(cls.bond_cutoffs, cls.rings, cls.homology, cls.cavities)
        spec.output('cutoffs', valid_type=orm.Dict, help='Bond cutoffs (Å) and their source.')
        spec.output('rings', valid_type=orm.Dict, help='Ring size distributions, B-coordination classes, boroxol fraction.')
        spec.output('ring_membership', valid_type=orm.Dict, help='In-ring and non-ring atoms (B3r, B3n, B4r, ...).')
        spec.output('superstructural_units', valid_type=orm.Dict, help='Boroxol, triborate, diborate, ... units.')
        spec.output('homology', valid_type=orm.ArrayData, help='Persistence diagram and APF (Å^2).')
        spec.output('cavities', valid_type=orm.Dict, help='Cavity fraction, count, volumes (Å^3), ion distances (Å).')
        spec.output('cavity_volumes', valid_type=orm.ArrayData, help='Cavity volumes and ion-cavity distances.')

    def bond_cutoffs(self):
        """Bond cutoffs at the first minima of g(r), as the structure panel finds them."""
        settings = medium_range_settings(self.inputs.parameters)
        result = pair_distributions(self.inputs.glass, orm.Dict(panel_parameters(settings)))
        self.ctx.cutoffs = result['cutoffs']
        self.out('cutoffs', self.ctx.cutoffs)

    def rings(self):
        """Rings of the former + bridging-oxygen network and the superstructural units built of them."""
        self.out_many(ring_analysis(self.inputs.glass, self.ctx.cutoffs, self.inputs.parameters))

    def homology(self):
        """The 1-dimensional persistence diagram and the APF."""
        self.out('homology', persistent_homology(self.inputs.glass, self.inputs.parameters))

    def cavities(self):
        """Domain cavities and the distance of every mobile ion to the nearest one."""
        self.out_many(cavity_analysis(self.inputs.glass, self.inputs.parameters))
