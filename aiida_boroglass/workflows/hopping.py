"""``boroglass.hopping``: E_a(x) and sigma_dc(x, T) of borophosphate glasses from the site-energy hopping model.

Delta_c and sigma_dc(T) of each glass (``hopping_transport``), whose cost grows with the
lattice, run as a calcfunction, or as a ``boroglass.analysis`` job on the computer of
``analysis_code`` above ``job_threshold_site_solves`` (:data:`SITE_SOLVES`, :mod:`.analysis_jobs`).
"""
from __future__ import annotations

from typing import Mapping

from aiida import orm
from aiida.engine import WorkChain, if_, while_

from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_FAILED_MESSAGE, checked_step, run_checked
from aiida_boroglass.functions.hopping import (
    FIT_FAILED,
    NFU_SOURCES,
    borophosphate_variables,
    check_experiment,
    fit_energy_scales,
    hopping_settings,
    hopping_summary,
    measured_activation_energy,
    network_former_units,
    nfu_units,
)
from aiida_boroglass.workflows.analysis_jobs import (
    JobThreshold,
    above_threshold,
    analysis_outputs,
    define_job_inputs,
    launch_analysis,
    size_problem,
)
from aiida_boroglass.workflows.protocols.utils import ProtocolMixin

#: Where ``hopping_transport`` becomes a job: lattice sites x landscapes x (1 + temperatures), one
#: percolation search and one conductance solve per temperature on every landscape. Measured here
#: (one core, docs/hopping.md): about 1 us per site for Delta_c and 8-10 us per site and temperature for
#: sigma_dc, so 2,000,000 costs 10-20 s, the fixed cost of a job.
SITE_SOLVES = JobThreshold('job_threshold_site_solves', 2_000_000,
                           'lattice sites x landscapes x (1 + temperatures)')


def site_solves(settings: Mapping) -> int:
    """The size of one glass's ``hopping_transport``: ``size^3 x n_landscapes x (1 + len(temperatures_k))``.

    Parameters
    ----------
    settings : Mapping
        Hopping settings (:func:`~aiida_boroglass.functions.hopping.hopping_settings`).
    """
    return settings['size'] ** 3 * settings['n_landscapes'] * (1 + len(settings['temperatures_k']))


def validate_inputs(inputs, _):
    """Check everything a run needs before anything is stored: parameters, glasses, units, experiment."""
    try:
        settings = hopping_settings(inputs.get('parameters'))
        source = inputs['nfu_source'].value
        compositions = {key: node.composition for key, node in inputs['compositions'].items()}
        if not compositions:
            return 'compositions: give at least one glass'
        units = {key: node.get_dict() for key, node in inputs.get('units', {}).items()}
        if source != 'model' and set(units) != set(compositions):
            return (f'units: the {source!r} source needs one Dict per composition, keys {sorted(compositions)}; '
                    f'got {sorted(units)}')
        if source == 'model' and units:
            return "units: only the 'measured' and 'simulated' sources take units"
        x_of = {}
        for key, glass in compositions.items():
            nfu_units(source, glass, settings, units.get(key))
            x_of[key] = borophosphate_variables(glass, settings['f0'])[1]
        experiment = inputs['experiment'].get_dict() if 'experiment' in inputs else {}
        check_experiment(experiment, settings['temperatures_k'])
    except ValueError as exception:
        return str(exception)
    return _check_fits(settings, experiment, x_of) or size_problem(inputs, site_solves(settings), 'each glass',
                                                                   SITE_SOLVES)


def _check_fits(settings: Mapping, experiment: Mapping, x_of: Mapping[str, float]) -> str | None:
    """The fits need their measured data: E_a of both end members, sigma_dc at computed temperatures."""
    if settings['fit_energies']:
        for end in (0.0, 1.0):
            if measured_activation_energy(experiment, end) is None or end not in x_of.values():
                return (f'parameters.fit_energies needs the glass at x = {end:g} among the compositions and its '
                        f'measured E_a in experiment.activation_energy_ev')
    if settings['fit_nu'] and not (settings['temperatures_k'] and experiment.get('sigma_s_cm')):
        return 'parameters.fit_nu needs parameters.temperatures_k and measured experiment.sigma_s_cm'
    return None


def validate_source(value, _):
    """The NFU source must be one of :data:`NFU_SOURCES`."""
    if value is not None and value.value not in NFU_SOURCES:
        return f'nfu_source must be one of {list(NFU_SOURCES)}, got {value.value!r}'
    return None


class HoppingWorkChain(ProtocolMixin, WorkChain):
    """NFU units -> landscapes -> Delta_c and sigma_dc for a list of glasses (paper 003, sections II-V).

    Outline: the NFU concentrations of every glass (from the stand-in composition model,
    measured values or a simulated glass's structure panel), optionally V0 and sigma_eps
    fitted to the measured E_a of the two end members, then for every glass Delta_c and
    sigma_dc(T) averaged over landscapes, and a summary with E_a(x), sigma_dc(x, T) and
    attempt frequencies adapted to measured conductivities.
    """

    _protocol_file = 'hopping.yaml'
    _protocol_open_sections = ('parameters',)

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input_namespace('compositions', valid_type=CompositionData, dynamic=True,
                             help='The glasses y M2O-(1-y)[x B2O3-(1-x) P2O5], keyed by a link label (e.g. x0300).')
        spec.input('parameters', valid_type=orm.Dict, default=lambda: orm.Dict(),
                   help='Model settings; see `aiida_boroglass.functions.hopping.HOPPING_DEFAULTS`.')
        spec.input('nfu_source', valid_type=orm.Str, default=lambda: orm.Str('model'), validator=validate_source,
                   help=f'Where the NFU concentrations come from: one of {", ".join(NFU_SOURCES)}.')
        spec.input_namespace('units', valid_type=orm.Dict, dynamic=True, required=False,
                             help="Per composition key: measured units {B4: ..., P2: ...} per former atom "
                                  "('measured'), or the structure panel's network_units output ('simulated').")
        spec.input('experiment', valid_type=orm.Dict, required=False,
                   help='Measured data: {"activation_energy_ev": {x: E_a}, "sigma_s_cm": {x: {T: sigma}}}.')
        define_job_inputs(spec, SITE_SOLVES, counted=' of a glass (one percolation search and one conductance solve '
                                                     'per temperature on every landscape)')
        spec.inputs.validator = validate_inputs
        spec.outline(
            cls.network_former_units,
            if_(cls.should_fit_energies)(cls.fit_energy_scales),
            while_(cls.glasses_left)(cls.launch_transport, cls.transport),
            cls.summarize,
        )
        spec.output_namespace('units', valid_type=orm.Dict, dynamic=True, help='NFU concentrations per glass.')
        spec.output_namespace('transport', valid_type=orm.ArrayData, dynamic=True,
                              help='Delta_c and sigma_dc(T) of every landscape, per glass.')
        spec.output('energies', valid_type=orm.Dict, required=False, help='Fitted V0 (eV) and sigma_eps.')
        spec.output('summary', valid_type=orm.Dict, help='Table of E_a(x), sigma_dc(x, T), nu(x) and units.')
        spec.output('curves', valid_type=orm.ArrayData, help='The summary as arrays over x.')
        spec.exit_code(FIT_FAILED, 'ERROR_FIT_FAILED', message='V0 and sigma_eps could not be fitted: {message}')
        spec.exit_code(401, 'ERROR_CALCFUNCTION_FAILED', message=CALCFUNCTION_FAILED_MESSAGE)

    @classmethod
    def get_builder_from_protocol(cls, compositions: Mapping[str, CompositionData | str],
                                  protocol: str | None = None, overrides: Mapping | None = None):
        """Return a builder filled from a protocol.

        Parameters
        ----------
        compositions : mapping of str to CompositionData or str
            The glasses keyed by link label; strings in any notation ``Composition.parse``
            accepts.
        protocol : str, optional
            ``fast``, ``balanced`` or ``stringent``; default from the protocol file.
        overrides : Mapping, optional
            Values replacing the protocol's (``nfu_source``, ``parameters``).
        """
        inputs = cls.get_protocol_inputs(protocol, overrides)
        builder = cls.get_builder()
        builder.compositions = {key: value if isinstance(value, CompositionData) else CompositionData(value)
                                for key, value in compositions.items()}
        builder.nfu_source = orm.Str(inputs['nfu_source'])
        builder.parameters = orm.Dict(inputs['parameters'])
        return builder

    @checked_step
    def network_former_units(self):
        """The checked NFU concentrations of every glass."""
        source = self.inputs.nfu_source
        self.ctx.analysis_jobs = above_threshold(self.inputs, site_solves(hopping_settings(self.inputs.parameters)),
                                                 SITE_SOLVES)
        self.ctx.transport = {}
        self.ctx.units = {}
        for key, composition in self.inputs.compositions.items():
            extra = {'units': self.inputs.units[key]} if source.value != 'model' else {}
            self.ctx.units[key] = run_checked(network_former_units, composition, self.inputs.parameters, source, **extra)
            self.out(f'units.{key}', self.ctx.units[key])

    def should_fit_energies(self):
        """Whether V0 and sigma_eps are fitted to the measured end-member E_a."""
        return hopping_settings(self.inputs.parameters)['fit_energies']

    def fit_energy_scales(self):
        """V0 and sigma_eps from the measured E_a of the pure phosphate and the pure borate."""
        ends = {}
        for node in self.ctx.units.values():
            ends.setdefault(node['x'], node)
        _, node = fit_energy_scales.run_get_node(self.inputs.parameters, self.inputs.experiment, ends[0.0], ends[1.0])
        if not node.is_finished_ok:
            return self.exit_codes.ERROR_FIT_FAILED.format(message=node.exit_message)
        self.ctx.energies = node.outputs.result
        self.report(f'fitted V0 = {self.ctx.energies["v0_ev"]:.4f} eV, sigma_eps = {self.ctx.energies["sigma_eps"]:.4f}')
        self.out('energies', self.ctx.energies)

    def glasses_left(self):
        """Whether a glass still needs its transport (one glass per step: a checkpoint after each)."""
        return len(self.ctx.transport) < len(self.inputs.compositions)

    def launch_transport(self):
        """Launch Delta_c and sigma_dc(T) of the next glass."""
        key = next(key for key in self.inputs.compositions if key not in self.ctx.transport)
        extra = {'energies': self.ctx.energies} if 'energies' in self.ctx else {}
        self.ctx.glass = key
        launch_analysis(self, f'transport_{key}', 'hopping_transport', composition=self.inputs.compositions[key],
                        units=self.ctx.units[key], parameters=self.inputs.parameters, **extra)

    @checked_step
    def transport(self):
        """Delta_c and sigma_dc(T) of that glass."""
        key = self.ctx.glass
        node = analysis_outputs(self, f'transport_{key}')['result']
        self.ctx.transport[key] = node
        self.out(f'transport.{key}', node)
        ea = node.base.attributes.get('activation_energy_ev')
        self.report(f'{key}: E_a = {ea if ea is None else round(ea, 4)} eV '
                    f'({len(self.ctx.transport)}/{len(self.inputs.compositions)} glasses)')

    @checked_step
    def summarize(self):
        """E_a(x), sigma_dc(x, T), adapted nu(x) and the units as one table and as arrays."""
        nodes = {f'units_{key}': node for key, node in self.ctx.units.items()}
        nodes.update({f'transport_{key}': node for key, node in self.ctx.transport.items()})
        if 'experiment' in self.inputs:
            nodes['experiment'] = self.inputs.experiment
        label = orm.Str(_series_label(self.inputs.compositions, hopping_settings(self.inputs.parameters)['f0']))
        self.out_many(run_checked(hopping_summary, self.inputs.parameters, label, **nodes))


def _series_label(compositions: Mapping[str, CompositionData], f0: float) -> str:
    """``'0.33Li2O-0.67[xB2O3-(1-x)P2O5]'`` when every glass has the same alkali and y, else the labels joined."""
    variables = [borophosphate_variables(node.composition, f0) for node in compositions.values()]
    if len({(alkali, round(y, 6)) for alkali, _, y in variables}) == 1:
        alkali, _, y = variables[0]
        return f'{y:.4g}{alkali}2O-{1 - y:.4g}[xB2O3-(1-x)P2O5]'
    return ', '.join(node.composition.label for node in compositions.values())
