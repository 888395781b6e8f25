"""Paper 001's study: a glass made with a machine-learnt potential beside the classical glass of the same composition.

Both potentials melt-quench the composition in independent replicas (one ``boroglass.screening``
each, replica seeds as in ``screen --replicas``); every glass then gets its bond cutoffs and
partial g(r), neutron S(Q) (structure panel) and rings (medium-range panel) from the same
calcfunctions those panels run; ``compare_potentials`` tabulates density, N4, NBO fraction,
3-rings and the boroxol fraction with their spread, the mean S(Q) of each potential with
Wright's R_chi between them, and the ensemble's force deviation along the quench, the
uncertainty of the machine-learnt glass.
"""
from __future__ import annotations

from collections.abc import Mapping

from aiida import orm
from aiida.engine import WorkChain

from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.medium_range import medium_range_settings, panel_parameters, ring_analysis
from aiida_boroglass.functions.structure import pair_distributions, scattering_functions
from aiida_boroglass.functions.study import POTENTIALS, compare_potentials
from aiida_boroglass.functions.utils import validate_max_concurrent
from aiida_boroglass.glass.replicas import composition_of_key
from aiida_boroglass.workflows.launch import submit_once
from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain
from aiida_boroglass.workflows.screening import ScreeningWorkChain, screening_glasses, validate_replicas
from aiida_boroglass.workflows.structure_panel import settings_validator

#: Key of the one composition in each screening (link labels ``glass_r0``, ``glass_r1``, ...).
GLASS_KEY = 'glass'


def uses_ensemble(melt_quench: Mapping) -> bool:
    """Whether melt-quench inputs (a port-value mapping) drive the MD with DeePMD models."""
    return bool(dict(melt_quench.get('md', {}).get('lammps', {})).get('models'))


def validate_inputs(value, _):
    """``mlp`` runs on DeePMD models, ``classical`` on a force field; both make the composition."""
    if 'composition' not in value:
        return None
    for potential, wanted in (('mlp', True), ('classical', False)):
        inputs = value.get(potential, {})
        if uses_ensemble(inputs) != wanted:
            return (f'{potential}.md.lammps.models: the machine-learnt glass needs a DeePMD ensemble'
                    if wanted else f'{potential}.md.lammps.models: the classical glass runs on its force field, '
                    'give no models')
        message = MeltQuenchWorkChain.validate_inputs({**inputs, 'composition': value['composition']}, None)
        if message:
            return f'{potential}.{message}'
    return None


class GlassStudyWorkChain(WorkChain):
    """Melt-quench one composition with a DeePMD ensemble and with the force field in replicas; compare them."""

    @classmethod
    def define(cls, spec):
        """Define the process specification."""
        super().define(spec)
        spec.input('composition', valid_type=CompositionData, help='The glass both potentials make.')
        spec.input('replicas', valid_type=orm.Int, serializer=orm.to_aiida_type, default=lambda: orm.Int(3),
                   validator=validate_replicas, help='Independent glasses per potential (paper 001: 3).')
        spec.input('max_concurrent', valid_type=orm.Int, serializer=orm.to_aiida_type, default=lambda: orm.Int(2),
                   validator=validate_max_concurrent, help='Melt-quenches running at once per potential.')
        spec.input('parameters', valid_type=orm.Dict, default=lambda: orm.Dict(),
                   validator=settings_validator(medium_range_settings),
                   help='Analysis settings (cutoffs_a, max_frames, ring_max_atoms, ring_kind): see '
                        '`aiida_boroglass.functions.medium_range.MEDIUM_RANGE_DEFAULTS`.')
        spec.expose_inputs(MeltQuenchWorkChain, namespace='mlp', exclude=('composition',),
                           namespace_options={'help': 'Melt-quench on the DeePMD ensemble (md.lammps.models).'})
        spec.expose_inputs(MeltQuenchWorkChain, namespace='classical', exclude=('composition',),
                           namespace_options={'help': 'Melt-quench on the classical force field.'})
        spec.inputs.validator = validate_inputs
        spec.outline(cls.make_glasses, cls.inspect_glasses, cls.analyse, cls.compare)
        spec.output('comparison', valid_type=orm.Dict,
                    help='Per potential: mean, std and values of density (g/cm^3), N4, NBO fraction, 3-rings per '
                         'former, boroxol fraction; R_chi of the S(Q); the quench force deviation (eV/Å).')
        spec.output('structure_factors', valid_type=orm.ArrayData, help='Neutron S(Q) per potential: mean and std.')
        spec.output('quench_deviation', valid_type=orm.ArrayData,
                    help='Ensemble force deviation (eV/Å) along the nominal quench ramp (K), every MLP replica.')
        spec.exit_code(410, 'ERROR_GLASSES_FAILED', message='the {potential} glasses failed: {message}')
        spec.exit_code(411, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)

    @classmethod
    def get_builder_from_protocol(cls, code: orm.AbstractCode, composition: CompositionData | str,
                                  ensemble: Mapping, protocol: str | None = None, overrides: Mapping | None = None,
                                  packmol_code: orm.AbstractCode | None = None, replicas: int = 3,
                                  options: Mapping | None = None):
        """A builder whose two melt-quenches share the protocol and overrides of ``boroglass.melt_quench``.

        Parameters
        ----------
        code : AbstractCode
            LAMMPS code.
        composition : CompositionData or str
            The glass.
        ensemble : Mapping
            ``models`` and ``deepmd`` of the machine-learnt glass (``ensemble_potential``).
        protocol, overrides, packmol_code
            As :meth:`MeltQuenchWorkChain.get_builder_from_protocol`; the classical glass uses
            the protocol's force field (or ``overrides['forcefield']``).
        replicas : int
            Glasses per potential.
        options : Mapping, optional
            Scheduler options of every job, as :meth:`MeltQuenchWorkChain.get_builder_from_protocol`.
        """
        builder = cls.get_builder()
        for potential, models in (('mlp', ensemble), ('classical', None)):
            single = MeltQuenchWorkChain.get_builder_from_protocol(
                code, composition, protocol=protocol, overrides=overrides, options=options, packmol_code=packmol_code,
                ensemble=models)
            builder.composition = single.composition
            builder[potential] = {key: value for key, value in single._inputs(prune=True).items()
                                  if key != 'composition'}
        builder.replicas = replicas
        return builder

    def make_glasses(self):
        """One screening per potential: ``replicas`` glasses of the composition each."""
        for potential in POTENTIALS:
            node = submit_once(self, ScreeningWorkChain, compositions={GLASS_KEY: self.inputs.composition},
                               replicas=self.inputs.replicas, max_concurrent=self.inputs.max_concurrent,
                               melt_quench=self.exposed_inputs(MeltQuenchWorkChain, potential),
                               metadata={'call_link_label': potential, 'label': f'{potential} glasses'})
            self.report(f'{potential}: {self.inputs.replicas.value} glasses as {node.process_label}<{node.pk}>')
            self.to_context(**{potential: node})

    def inspect_glasses(self):
        """Stop when a potential made no complete set of glasses."""
        for potential in POTENTIALS:
            node = self.ctx[potential]
            if not node.is_finished_ok:
                return self.exit_codes.ERROR_GLASSES_FAILED.format(
                    potential=potential, message=f'{node.process_label}<{node.pk}>: {node.exit_message}')
        return None

    @checked_step
    def analyse(self):
        """Bond cutoffs and g(r), neutron S(Q) and rings of every glass (the panels' calcfunctions)."""
        parameters = self.inputs.parameters
        panel = orm.Dict(panel_parameters(medium_range_settings(parameters)))
        self.ctx.glasses = {}
        for potential in POTENTIALS:
            for label, glass in screening_glasses(self.ctx[potential]).items():
                trajectory = glass.outputs.trajectory
                pairs = run_checked(pair_distributions, trajectory, panel)
                key = f'{potential}_r{composition_of_key(label)[1]}'
                entry = {'density': glass.outputs.density_g_cm3, 'boron': glass.outputs.boron,
                         'oxygen': glass.outputs.oxygen,
                         'neutron': run_checked(scattering_functions, pairs['rdf'], panel)['neutron'],
                         'rings': run_checked(ring_analysis, trajectory, pairs['cutoffs'], parameters)['rings']}
                if potential == 'mlp':
                    entry['deviation'] = glass.outputs.model_deviation
                self.ctx.glasses.update({f'{key}__{name}': node for name, node in entry.items()})
                self.report(f'{key}: S(Q) and rings of {glass.process_label}<{glass.pk}>')

    @checked_step
    def compare(self):
        """Tabulate both potentials side by side."""
        results = run_checked(compare_potentials, self.inputs.mlp.schedule, **self.ctx.glasses)
        self.out_many(results)
        comparison = results['comparison']
        self.report(f'N4 classical {comparison["classical"]["n4"]["mean"]:.3f}, MLP {comparison["mlp"]["n4"]["mean"]:.3f}; '
                    f'S(Q) R_chi {comparison["sq_r_chi"]:.3f}; quench force deviation '
                    f'{comparison["quench_deviation_ev_a"]["mean"]:.3f} eV/Å')
