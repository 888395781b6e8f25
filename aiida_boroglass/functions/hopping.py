"""Calcfunctions of the site-energy hopping model (paper 003): NFU units, transport, fits, curves.

Every function checks its inputs with the helpers below (the workflow runs the same
checks before it submits anything) and calls the pure kernels of
:mod:`aiida_boroglass.hopping`; units are in every output key or array name.
:func:`hopping_transport`, whose cost grows with the lattice, is a calcfunction around the pure
function :func:`compute_hopping_transport` of plain data (:mod:`aiida_boroglass.functions.plain`),
which :mod:`aiida_boroglass.analysis.job` also runs as a job.
"""
from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.analysis.job import ArrayContent
from aiida_boroglass.functions.exit_codes import (
    CALCFUNCTION_EXIT_CODES,
    CalcfunctionError,
    exit_code_of,
    returns_exit_codes,
)
from aiida_boroglass.functions.plain import calcfunction_result, plain_inputs
from aiida_boroglass.functions.utils import check_integers, parameter_error, with_defaults
from aiida_boroglass.glass.composition import Composition
from aiida_boroglass.hopping.conductance import DEFAULT_JUMP_ANGSTROM, DEFAULT_NU_HZ, ensemble_transport
from aiida_boroglass.hopping.fitting import arrhenius_fit, fit_v0_sigma, reduced_activation_energy
from aiida_boroglass.hopping.landscape import DEFAULT_F0, ensemble_statistics
from aiida_boroglass.hopping.units import (
    UNIT_NAMES,
    alkali_per_former,
    hierarchical_units,
    units_from_network,
    validate_units,
)

#: Where the NFU concentrations come from.
NFU_SOURCES = ('model', 'measured', 'simulated')

#: Site-percolation threshold of the simple cubic lattice (Wang et al., PRE 87, 052107 (2013)).
SC_SITE_THRESHOLD = 0.3116

#: Exit status of :func:`fit_energy_scales` when the measured E_a ratio is out of the model's reach.
FIT_FAILED = CALCFUNCTION_EXIT_CODES['ERROR_FIT_FAILED'][0]

#: Defaults of the hopping parameters; every key is documented in docs/hopping.md.
HOPPING_DEFAULTS: dict[str, Any] = {
    'size': 30,  # ion sites per axis (paper 003: 100 for E_a, 35 for sigma_dc)
    'n_landscapes': 5,  # independent landscapes averaged (paper 003: 20 for E_a, 30 for sigma_dc)
    'seed': 20211106,  # root seed; landscape k of every composition uses child k
    'v0_ev': 0.64,  # energy scale V0, eV (paper 003, Li series)
    'sigma_eps': 0.42,  # site-energy noise, units of V0 (paper 003, Li series)
    'u0_per_v0': 0.1,  # minimal barrier u0 / V0 (paper 003, section III)
    'f0': DEFAULT_F0,  # vacant fraction of the accessible ion sites
    'temperatures_k': [],  # sigma_dc at these temperatures, K; [] for E_a only
    'nu_hz': DEFAULT_NU_HZ,  # attempt frequency, Hz
    'a_angstrom': DEFAULT_JUMP_ANGSTROM,  # jump distance (lattice constant), Å
    'n4_borate': 0.5,  # 'model' source: N4 of the binary alkali borate with the same y
    'units_tolerance': 0.01,  # per former atom: sum rules of measured and simulated units
    'max_other_units': 0.05,  # 'simulated' source: largest fraction of units outside Fig. 1
    'fit_energies': False,  # fit V0 and sigma_eps to the measured E_a at x = 0 and x = 1
    'fit_nu': False,  # adapt nu per composition to the measured sigma_dc
}

_POSITIVE = ('v0_ev', 'nu_hz', 'a_angstrom', 'units_tolerance')
_FRACTIONS = ('f0', 'n4_borate', 'max_other_units')


def hopping_settings(parameters: orm.Dict | Mapping | None) -> dict[str, Any]:
    """Hopping parameters with the defaults filled in, checked.

    Raises
    ------
    CalcfunctionError
        ``ERROR_INVALID_PARAMETERS``: unknown key (listing the allowed ones) or a value of
        the wrong kind or range, naming ``parameters.<key>``.
    """
    settings = with_defaults(parameters, HOPPING_DEFAULTS)
    check_integers(settings, {'size': 3, 'n_landscapes': 1, 'seed': 0})
    for key in _POSITIVE + _FRACTIONS + ('sigma_eps', 'u0_per_v0'):
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
            raise parameter_error(f'parameters.{key} must be a number >= 0, got {value!r}')
    for key in _POSITIVE:
        if not settings[key] > 0:
            raise parameter_error(f'parameters.{key} must be > 0, got {settings[key]!r}')
    for key in _FRACTIONS:
        if settings[key] > 1 or (key == 'f0' and settings[key] == 1):
            raise parameter_error(f'parameters.{key} must be a fraction in [0, 1], got {settings[key]!r}')
    temperatures = settings['temperatures_k']
    if not isinstance(temperatures, (list, tuple)) or any(
        isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0 for t in temperatures
    ):
        raise parameter_error(f'parameters.temperatures_k must be a list of temperatures > 0 K, got {temperatures!r}')
    for key in ('fit_energies', 'fit_nu'):
        if not isinstance(settings[key], bool):
            raise parameter_error(f'parameters.{key} must be true or false, got {settings[key]!r}')
    settings['temperatures_k'] = sorted(float(t) for t in temperatures)
    return settings


def borophosphate_variables(composition: Composition, f0: float = DEFAULT_F0) -> tuple[str, float, float]:
    """Alkali, x and y of a glass ``y M2O - (1 - y)[x B2O3 - (1 - x) P2O5]``.

    Parameters
    ----------
    composition : Composition
    f0 : float
        Vacant fraction of the accessible ion sites (for the percolation check).

    Returns
    -------
    alkali : str
        ``'Li'``, ``'Na'`` or ``'K'``.
    x : float
        B2O3 / (B2O3 + P2O5), in [0, 1].
    y : float
        Mole fraction of M2O.

    Raises
    ------
    CalcfunctionError
        ``ERROR_COMPOSITION_OUTSIDE_MODEL``: oxides other than one alkali oxide, B2O3 and P2O5, or so little alkali that the
        accessible ion sites do not percolate (``y / ((1 - y)(1 - f0)) < 0.3116``), or so
        much that eq. (1) has no solution; the message names the composition.
    """
    fractions = dict(composition.fractions)
    alkalis = [oxide for oxide in fractions if oxide in ('Li2O', 'Na2O', 'K2O')]
    others = sorted(set(fractions) - set(alkalis) - {'B2O3', 'P2O5'})
    if len(alkalis) != 1 or others or not {'B2O3', 'P2O5'} & set(fractions):
        raise CalcfunctionError(
            'ERROR_COMPOSITION_OUTSIDE_MODEL',
            f'composition {composition.label}: the hopping model needs one alkali oxide (Li2O, Na2O or K2O) '
            f'with B2O3 and/or P2O5 only'
        )
    y = fractions[alkalis[0]]
    x = fractions.get('B2O3', 0.0) / (fractions.get('B2O3', 0.0) + fractions.get('P2O5', 0.0))
    accessible = alkali_per_former(y) / (1.0 - f0)
    if accessible < SC_SITE_THRESHOLD:
        y_min = SC_SITE_THRESHOLD * (1 - f0) / (1 + SC_SITE_THRESHOLD * (1 - f0))
        raise CalcfunctionError(
            'ERROR_COMPOSITION_OUTSIDE_MODEL',
            f'composition {composition.label}: with y = {y:.4g} only {accessible:.3f} of the ion sites are '
            f'accessible, below the site-percolation threshold {SC_SITE_THRESHOLD}; y must be >= {y_min:.4f}'
        )
    if accessible > 1.0:
        raise CalcfunctionError('ERROR_COMPOSITION_OUTSIDE_MODEL',
                                f'composition {composition.label}: y = {y:.4g} needs more ion sites than the lattice has')
    return alkalis[0][:-2], float(x), float(y)


def nfu_units(source: str, composition: Composition, settings: Mapping, given: Mapping | None = None) -> dict:
    """Checked NFU concentrations per former atom from one of :data:`NFU_SOURCES`.

    Parameters
    ----------
    source : str
        ``'model'`` (:func:`.hopping.units.hierarchical_units` with ``n4_borate``),
        ``'measured'`` (``given`` is ``{unit: concentration per former atom}``) or
        ``'simulated'`` (``given`` is the structure panel's ``network_units`` output).
    composition : Composition
    settings : mapping
        From :func:`hopping_settings`.
    given : mapping, optional
        The units of the ``measured`` and ``simulated`` sources.

    Returns
    -------
    dict
        ``{unit: concentration}`` for every unit of :data:`UNIT_NAMES`.

    Raises
    ------
    CalcfunctionError
        ``ERROR_INVALID_UNITS``: unknown source, missing ``given``, or units that fail the checks of
        :func:`.hopping.units.validate_units` (the message names the composition).
    """
    if source not in NFU_SOURCES:
        raise CalcfunctionError('ERROR_INVALID_UNITS', f'nfu_source must be one of {list(NFU_SOURCES)}, got {source!r}')
    _, x, y = borophosphate_variables(composition, settings['f0'])
    if source != 'model' and given is None:
        raise CalcfunctionError('ERROR_INVALID_UNITS', f'composition {composition.label}: the {source!r} source needs units')
    try:
        if source == 'model':
            return hierarchical_units(x, y, settings['n4_borate'])
        if source == 'simulated':
            fractions = {label: row['fraction_of_formers'] for label, row in given.items()}
            given = units_from_network(fractions, x, settings['max_other_units'])
        return validate_units(given, x, y, atol=settings['units_tolerance'])
    except ValueError as exception:
        raise CalcfunctionError('ERROR_INVALID_UNITS', f'composition {composition.label}: {exception}') from None


@calcfunction
@returns_exit_codes
def network_former_units(composition: orm.Data, parameters: orm.Dict, source: orm.Str, units: orm.Dict | None = None):
    """NFU concentrations of one glass, checked against its composition.

    Returns a Dict with ``units`` (``{unit: concentration per former atom}`` for B4, B3,
    B2, P3, P2, P1, P0; the B units add up to x, the P units to 1 - x), ``source``, ``x``
    and ``y``.
    """
    settings = hopping_settings(parameters)
    glass = composition.composition
    found = nfu_units(source.value, glass, settings, units.get_dict() if units is not None else None)
    _, x, y = borophosphate_variables(glass, settings['f0'])
    return orm.Dict({'units': found, 'source': source.value, 'x': x, 'y': y})


def energy_scales(settings: Mapping, energies: Mapping | None) -> tuple[float, float]:
    """V0 (eV) and sigma_eps: the fitted ones when ``energies`` is given, else the parameters'."""
    if energies is not None:
        return energies['v0_ev'], energies['sigma_eps']
    return settings['v0_ev'], settings['sigma_eps']


@calcfunction
@returns_exit_codes
def hopping_transport(
    composition: orm.Data, units: orm.Dict, parameters: orm.Dict, energies: orm.Dict | None = None
) -> orm.ArrayData:
    """Delta_c (eq. 9) and sigma_dc(T) (eqs. 10-13) of every landscape of one glass.

    Returns ArrayData with ``temperatures_k`` (n_T,), ``activation_energy_ev``
    (n_landscapes,), ``sigma_s_cm`` and ``sigma_upper_s_cm`` (n_landscapes, n_T: lower and
    upper bound of the elimination); attributes with the means and sample standard
    deviations (``activation_energy_ev``, ``activation_energy_std_ev``, ``sigma_s_cm``,
    ``sigma_std_s_cm``), the Arrhenius E_a of ``T sigma`` (``arrhenius_ea_ev``, None with
    fewer than two temperatures) and the V0 (eV) and sigma_eps used: :func:`compute_hopping_transport`.
    """
    given = {'energies': energies} if energies is not None else {}
    return calcfunction_result(compute_hopping_transport(
        **plain_inputs(composition=composition, units=units, parameters=parameters, **given)))


def compute_hopping_transport(composition: Composition, units: dict, parameters: dict,
                              energies: dict | None = None) -> dict[str, Any]:
    """The output of :func:`hopping_transport` as plain data: ``{'result': ArrayContent}``."""
    settings = hopping_settings(parameters)
    _, x, y = borophosphate_variables(composition, settings['f0'])
    v0_ev, sigma_eps = energy_scales(settings, energies)
    result = ensemble_transport(
        settings['size'], x, y, v0_ev, sigma_eps, settings['n_landscapes'], settings['temperatures_k'],
        seed=settings['seed'], nu_hz=settings['nu_hz'], a_angstrom=settings['a_angstrom'],
        u0_ev=settings['u0_per_v0'] * v0_ev, f0=settings['f0'], units=units['units'],
        units_atol=settings['units_tolerance'],
    )
    ea_mean, ea_std = ensemble_statistics(result.activation_energy_ev)
    sigma_mean, sigma_std = ensemble_statistics(result.sigma_s_cm)
    return {'result': ArrayContent({name: np.asarray(value) for name, value in result._asdict().items()}, {
        'x': x, 'y': y, 'v0_ev': v0_ev, 'sigma_eps': sigma_eps,
        'activation_energy_ev': _finite_or_none(ea_mean), 'activation_energy_std_ev': _finite_or_none(ea_std),
        'sigma_s_cm': sigma_mean.tolist(), 'sigma_std_s_cm': sigma_std.tolist(),
        'arrhenius_ea_ev': _arrhenius(result.temperatures_k, sigma_mean),
    })}


def _finite_or_none(value) -> float | None:
    """``float(value)``, or None for inf and nan (JSON has neither)."""
    return float(value) if np.isfinite(value) else None


def _arrhenius(temperatures_k: np.ndarray, sigma_s_cm: np.ndarray) -> float | None:
    """E_a (eV) of ``T sigma`` over the temperatures with sigma > 0; None with fewer than two."""
    positive = sigma_s_cm > 0
    if np.unique(temperatures_k[positive]).size < 2:
        return None
    return arrhenius_fit(temperatures_k[positive], sigma_s_cm[positive]).ea_ev


def measured_activation_energy(experiment: Mapping, x: float) -> float | None:
    """Measured E_a (eV) at ``x`` from ``experiment['activation_energy_ev']`` (keys: x as text)."""
    return value_at_x(experiment.get('activation_energy_ev', {}), x)


def value_at_x(table: Mapping, x: float):
    """The value of ``table`` whose key, read as a number, is within 1e-6 of ``x``."""
    for key, value in table.items():
        if abs(float(key) - x) < 1e-6:
            return value
    return None


def check_experiment(experiment: Mapping, temperatures_k) -> None:
    """Check the layout ``{'activation_energy_ev': {x: E_a}, 'sigma_s_cm': {x: {T: sigma}}}``.

    Raises
    ------
    CalcfunctionError
        ``ERROR_INVALID_EXPERIMENT``: unknown keys, x or T that are not numbers, non-positive values, or a measured
        temperature that is not one of ``temperatures_k`` (within 0.5 K).
    """
    unknown = sorted(set(experiment) - {'activation_energy_ev', 'sigma_s_cm'})
    if unknown:
        raise experiment_error(f'experiment: unknown key(s) {unknown}; allowed: activation_energy_ev, sigma_s_cm')
    for name, table in experiment.items():
        if not isinstance(table, Mapping):
            raise experiment_error(f'experiment.{name} must map x to values, got {table!r}')
        for key, value in table.items():
            values = value.values() if isinstance(value, Mapping) else [value]
            if not _is_number(key) or not all(_is_number(v) and float(v) > 0 for v in values):
                raise experiment_error(f'experiment.{name}[{key!r}]: x must be a number and every value > 0, '
                                       f'got {value!r}')
    for key, by_t in experiment.get('sigma_s_cm', {}).items():
        if not isinstance(by_t, Mapping):
            raise experiment_error(f'experiment.sigma_s_cm[{key!r}] must map temperatures (K) to S/cm, got {by_t!r}')
        for t in by_t:
            if not _is_number(t) or not any(abs(float(t) - tk) <= 0.5 for tk in temperatures_k):
                raise experiment_error(
                    f'experiment.sigma_s_cm[{key!r}]: temperature {t!r} K is not one of parameters.temperatures_k '
                    f'{list(temperatures_k)}'
                )


def experiment_error(message: str) -> CalcfunctionError:
    """The error to raise for bad measured data (``ERROR_INVALID_EXPERIMENT``)."""
    return CalcfunctionError('ERROR_INVALID_EXPERIMENT', message)


def _is_number(value) -> bool:
    """Whether ``value`` (a number or its text) reads as a finite float."""
    try:
        return bool(np.isfinite(float(value))) and not isinstance(value, bool)
    except (TypeError, ValueError):
        return False


@calcfunction
@returns_exit_codes
def fit_energy_scales(
    parameters: orm.Dict, experiment: orm.Dict, phosphate: orm.Dict, borate: orm.Dict
) -> orm.Dict:
    """V0 and sigma_eps from the measured E_a of the pure phosphate and the pure borate (paper 003, V A).

    ``phosphate`` and ``borate`` are the NFU Dicts of the x = 0 and x = 1 glasses (outputs
    of :func:`network_former_units`). Returns a Dict with
    ``v0_ev``, ``sigma_eps`` and the measured ``ea_phosphate_ev``, ``ea_borate_ev``, or exit
    code :data:`FIT_FAILED` when no sigma_eps in [0, 1] reproduces the measured ratio.
    """
    settings = hopping_settings(parameters)
    ends = {0.0: phosphate, 1.0: borate}
    measured = {x: measured_activation_energy(experiment.get_dict(), x) for x in ends}

    def reduced(x, sigma_eps):
        node = ends[x]
        return reduced_activation_energy(
            x, node['y'], sigma_eps, size=settings['size'], n_landscapes=settings['n_landscapes'],
            seed=settings['seed'], f0=settings['f0'], units=lambda *_: node['units'], u0_per_v0=settings['u0_per_v0'],
            units_atol=settings['units_tolerance'],
        )

    try:
        v0_ev, sigma_eps = fit_v0_sigma(measured[0.0], measured[1.0], functools.lru_cache(maxsize=None)(reduced))
    except ValueError as exception:
        return exit_code_of('ERROR_FIT_FAILED', str(exception))
    return orm.Dict({'v0_ev': v0_ev, 'sigma_eps': sigma_eps, 'ea_phosphate_ev': measured[0.0],
                     'ea_borate_ev': measured[1.0]})


def adapted_nu(sigma_model_s_cm, temperatures_k, measured: Mapping, nu_hz: float) -> float | None:
    """Attempt frequency (Hz) that matches the measured sigma_dc of one glass (paper 003, Fig. 5b).

    sigma_dc is proportional to nu (eqs. 5 and 7), so ``nu' = nu * exp(mean ln(sigma_exp /
    sigma_model))`` over the measured temperatures (a least-squares fit of ln sigma).

    Parameters
    ----------
    sigma_model_s_cm : array_like, shape (n_T,)
        Model sigma_dc at ``temperatures_k`` with attempt frequency ``nu_hz``, S/cm.
    temperatures_k : array_like, shape (n_T,)
        K.
    measured : mapping
        ``{T: sigma in S/cm}`` (keys numbers or text).
    nu_hz : float
        Attempt frequency of the model values, Hz.

    Returns
    -------
    float or None
        Hz; None when no measured temperature has a model sigma > 0.
    """
    temperatures = np.asarray(temperatures_k, dtype=float)
    sigma = np.asarray(sigma_model_s_cm, dtype=float)
    ratios = []
    for t, value in measured.items():
        n = int(np.argmin(np.abs(temperatures - float(t))))
        if sigma[n] > 0:
            ratios.append(np.log(float(value) / sigma[n]))
    return float(nu_hz * np.exp(np.mean(ratios))) if ratios else None


@calcfunction
@returns_exit_codes
def hopping_summary(parameters: orm.Dict, label: orm.Str, **nodes) -> dict:
    """Table and curves over the compositions: E_a(x), sigma_dc(x, T), adapted nu(x), NFU units.

    ``nodes`` holds, for every composition key k, ``units_k`` (Dict of
    :func:`network_former_units`) and ``transport_k`` (ArrayData of
    :func:`hopping_transport`), and optionally ``experiment`` (Dict, see
    :func:`check_experiment`). Returns ``summary`` (Dict, layout in docs/hopping.md) and
    ``curves`` (ArrayData: ``x``, ``units`` (n_x, 7), ``activation_energy_ev``,
    ``activation_energy_std_ev``, ``temperatures_k``, ``sigma_s_cm`` and
    ``sigma_std_s_cm`` (n_x, n_T), ``nu_hz`` (n_x: adapted, nan where not fitted)).
    """
    settings = hopping_settings(parameters)
    experiment = nodes.pop('experiment').get_dict() if 'experiment' in nodes else None
    keys = sorted((k[len('transport_'):] for k in nodes if k.startswith('transport_')),
                  key=lambda k: nodes[f'transport_{k}'].base.attributes.get('x'))
    rows = [_summary_row(key, nodes[f'units_{key}'], nodes[f'transport_{key}'], settings, experiment) for key in keys]
    first = nodes[f'transport_{keys[0]}'].base.attributes
    summary = {
        'label': label.value, 'y': first.get('y'), 'v0_ev': first.get('v0_ev'), 'sigma_eps': first.get('sigma_eps'),
        'parameters_source': 'fitted' if settings['fit_energies'] else 'given', 'nu_hz': settings['nu_hz'],
        'size': settings['size'], 'n_landscapes': settings['n_landscapes'],
        'nfu_source': nodes[f'units_{keys[0]}']['source'],
        'temperatures_k': settings['temperatures_k'], 'rows': rows,
    }
    if experiment is not None:
        summary['experiment'] = experiment
    return {'summary': orm.Dict(summary), 'curves': _curves(rows, settings['temperatures_k'])}


def _summary_row(key: str, units: orm.Dict, transport: orm.ArrayData, settings: Mapping, experiment) -> dict:
    """One row of the summary table (see :func:`hopping_summary`)."""
    attributes = transport.base.attributes
    sigma = attributes.get('sigma_s_cm')
    measured = value_at_x((experiment or {}).get('sigma_s_cm', {}), attributes.get('x'))
    nu = adapted_nu(sigma, settings['temperatures_k'], measured, settings['nu_hz']) if (
        measured and settings['fit_nu']) else None
    return {
        'x': attributes.get('x'), 'key': key, 'units': units['units'],
        'activation_energy_ev': attributes.get('activation_energy_ev'),
        'activation_energy_std_ev': attributes.get('activation_energy_std_ev'),
        'arrhenius_ea_ev': attributes.get('arrhenius_ea_ev'), 'sigma_s_cm': sigma,
        'sigma_std_s_cm': attributes.get('sigma_std_s_cm'), 'nu_fitted_hz': nu,
        'sigma_fitted_s_cm': [s * nu / settings['nu_hz'] for s in sigma] if nu else None,
    }


def _curves(rows: list[dict], temperatures_k: list[float]) -> orm.ArrayData:
    """ArrayData of the summary rows (see :func:`hopping_summary`)."""
    node = orm.ArrayData()
    node.set_array('x', np.array([row['x'] for row in rows]))
    node.set_array('units', np.array([[row['units'][name] for name in UNIT_NAMES] for row in rows]))
    for name in ('activation_energy_ev', 'activation_energy_std_ev', 'nu_fitted_hz'):
        node.set_array(name, np.array([np.nan if row[name] is None else row[name] for row in rows], dtype=float))
    node.set_array('temperatures_k', np.asarray(temperatures_k, dtype=float))
    for name in ('sigma_s_cm', 'sigma_std_s_cm'):
        node.set_array(name, np.array([row[name] for row in rows], dtype=float).reshape(len(rows), -1))
    node.base.attributes.set('unit_names', list(UNIT_NAMES))
    return node
