"""Calcfunctions of the transport workflow: D(T), Arrhenius, Nernst-Einstein, field drift, D_cum.

Each wraps kernels of :mod:`aiida_boroglass.analysis.transport`,
:mod:`aiida_boroglass.analysis.diffusion` and :mod:`aiida_boroglass.analysis.rearrangement`.
Trajectories are the production frames of ``boroglass.diffusion`` (unwrapped positions, Å).
:func:`diffusion_at_temperature` and :func:`ion_rearrangement`, whose cost grows with the
frames x atoms, are calcfunctions around pure functions ``compute_<name>`` of plain data
(:mod:`aiida_boroglass.functions.plain`), which :mod:`aiida_boroglass.analysis.job` also runs as a job.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.analysis.diffusion import (
    arrhenius_diffusion,
    extrapolate,
    ion_number_density_cm3,
    nernst_einstein,
)
from aiida_boroglass.analysis.job import ArrayContent, Frames
from aiida_boroglass.analysis.rearrangement import classify_mobile, cumulative_d2min
from aiida_boroglass.analysis.transport import field_conductivity, field_mobility, species_transport
from aiida_boroglass.functions.exit_codes import CalcfunctionError, returns_exit_codes
from aiida_boroglass.functions.plain import calcfunction_result, plain_inputs
from aiida_boroglass.functions.utils import (
    check_positive_numbers,
    frames_of,
    inputs_by_role,
    parameter_error,
    with_defaults,
)

#: Analysis settings of ``boroglass.diffusion`` (units in the keys).
TRANSPORT_DEFAULTS: dict[str, Any] = {
    'species': None,            # mobile species; None: the alkali ions present
    'haven_ratio': 1.0,         # H_R = D_tracer / D_sigma in Nernst-Einstein (paper 002: 1)
    'slope_tol': 0.15,          # accepted |d ln MSD / d ln t - 1| in the diffusive window
    'min_points': 5,            # fewest lags in the diffusive window
    'max_fraction': 0.5,        # only lags up to this fraction of the run are used
    'extrapolate_to_k': 300.0,  # K, temperature D and sigma are extrapolated to
    'confidence': 0.95,         # two-sided level of the extrapolation interval
    'd2min_cutoff_a': 4.0,      # Å, neighbours of the Falk-Langer fit (paper 004)
    'd2min_interval_ps': 1.0,   # ps between the frames of each D2min increment
    'mobile_quantile': 0.7,     # ions above this quantile of D_cum are mobile (paper 004: ~30 %)
}

#: Charge number of each mobile ion in Nernst-Einstein and the field conductivity.
ION_CHARGE = {'Li': 1, 'Na': 1, 'K': 1}


def transport_settings(parameters: orm.Dict | Mapping | None) -> dict[str, Any]:
    """Settings with defaults filled in, checked.

    Raises
    ------
    CalcfunctionError
        ``ERROR_INVALID_PARAMETERS``: an unknown key or a value out of range, naming
        ``parameters.<key>``.
    """
    settings = with_defaults(parameters, TRANSPORT_DEFAULTS)
    check_positive_numbers(settings, ('haven_ratio', 'slope_tol', 'extrapolate_to_k', 'd2min_cutoff_a',
                                      'd2min_interval_ps'))
    species = settings['species']
    if species is not None and (isinstance(species, str) or not species
                                or any(element not in ION_CHARGE for element in species)):
        raise parameter_error(f'parameters.species must be a list of mobile ions from {sorted(ION_CHARGE)}, got {species!r}')
    if isinstance(settings['min_points'], bool) or not isinstance(settings['min_points'], int) or settings['min_points'] < 3:
        raise parameter_error(f'parameters.min_points must be an integer >= 3, got {settings["min_points"]!r}')
    for key, closed in (('max_fraction', True), ('confidence', False), ('mobile_quantile', True)):
        value = settings[key]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not (0.0 < value <= 1.0 if closed else 0.0 < value < 1.0):
            raise parameter_error(f'parameters.{key} must lie in (0, 1{"]" if closed else ")"}, got {value!r}')
    return settings


def mobile_species(symbols, settings: Mapping) -> list[str]:
    """The mobile species of a glass: ``settings['species']`` or the alkali ions in ``symbols``.

    Raises
    ------
    CalcfunctionError
        ``ERROR_NO_MOBILE_SPECIES``: no mobile species, or a requested one absent from the glass.
    """
    present = sorted({str(symbol) for symbol in symbols})
    species = settings['species'] or [element for element in present if element in ION_CHARGE]
    missing = sorted(set(species) - set(present))
    if missing or not species:
        raise CalcfunctionError('ERROR_NO_MOBILE_SPECIES',
                                f'parameters.species: {missing or "no alkali ion"} not in the glass ({present})')
    return list(species)


def _frames_per(interval_ps: float, dt_ps: float) -> int:
    """Whole frames covering ``interval_ps`` (at least one)."""
    return max(1, int(round(interval_ps / dt_ps)))


def d2min_lag(interval_ps: float, dt_ps: float, n_frames: int) -> int:
    """Frames between the two configurations of each D2min increment.

    Parameters
    ----------
    interval_ps : float
        ``parameters.d2min_interval_ps``, ps.
    dt_ps : float
        Time between frames, ps.
    n_frames : int
        Frames of the production run.

    Raises
    ------
    CalcfunctionError
        ``ERROR_TRAJECTORY_TOO_SHORT`` when the interval spans the whole run.
    """
    lag = _frames_per(interval_ps, dt_ps)
    if lag >= n_frames:
        raise CalcfunctionError(
            'ERROR_TRAJECTORY_TOO_SHORT',
            f'parameters.d2min_interval_ps: {interval_ps:g} ps spans the whole production run '
            f'({n_frames} frames, {(n_frames - 1) * dt_ps:g} ps); it must be shorter than the run')
    return lag


def _time_step_ps(trajectory: Frames, name: str) -> float:
    """Time between frames of a production trajectory, ps (from its ``times``); ``name`` names it in errors.

    Raises
    ------
    CalcfunctionError
        ``ERROR_UNEVEN_FRAMES``: no times, fewer than two frames, or frames not equally spaced.
    """
    steps = np.diff(trajectory.times) if trajectory.times is not None else np.zeros(0)
    if steps.size == 0 or not np.allclose(steps, steps[0], rtol=1e-6):
        raise CalcfunctionError('ERROR_UNEVEN_FRAMES', f'{name}: frames must be equally spaced in time (times, ps)')
    return float(steps[0])


def _replicas(trajectories: Mapping[str, Frames]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(positions, cells, symbols array) of each replica trajectory, in key order."""
    return [(np.asarray(trajectories[key].positions), np.asarray(trajectories[key].cells),
             np.asarray(trajectories[key].symbols)) for key in sorted(trajectories)]


def _ion_density(replicas, element: str) -> float:
    """Number density (cm^-3) of ``element`` in the first cell of each replica, averaged."""
    return float(np.mean([ion_number_density_cm3(int(np.sum(symbols == element)), abs(np.linalg.det(cells[0])))
                          for _, cells, symbols in replicas]))


@calcfunction
@returns_exit_codes
def diffusion_at_temperature(temperature_k: orm.Float, parameters: orm.Dict, **trajectories) -> dict[str, orm.Data]:
    """MSD, non-Gaussian parameter, D and Nernst-Einstein sigma of each mobile species at one temperature:
    :func:`compute_diffusion_at_temperature`.

    Parameters
    ----------
    temperature_k : Float
        The run temperature, K.
    parameters : Dict
        Settings (:data:`TRANSPORT_DEFAULTS`).
    **trajectories : TrajectoryData
        Production runs of the independent replicas (unwrapped positions, Å; cells; times, ps).

    Returns
    -------
    dict
        ``msd``: ArrayData with ``lags_ps`` and per species ``msd_a2_<X>``,
        ``non_gaussian_<X>`` (shape (n_lags,)); ``diffusion``: Dict with per species
        ``d_cm2_s``, ``d_stderr_cm2_s``, ``window_ps`` (or None), ``diffusive``,
        ``apparent_d_cm2_s``, ``n_ions``, ``number_density_cm3``, ``sigma_ne_s_cm`` and its
        error, and ``warnings`` (list of str).
    """
    return calcfunction_result(compute_diffusion_at_temperature(
        **plain_inputs(temperature_k=temperature_k, parameters=parameters, **trajectories)))


def compute_diffusion_at_temperature(temperature_k: float, parameters: dict, **trajectories: Frames) -> dict[str, Any]:
    """The outputs of :func:`diffusion_at_temperature` as plain data (``msd``: ArrayContent, ``diffusion``: dict)."""
    settings = transport_settings(parameters)
    temperature = float(temperature_k)
    dt = {key: _time_step_ps(trajectories[key], f'trajectories.{key}') for key in sorted(trajectories)}
    if not np.allclose(list(dt.values()), next(iter(dt.values())), rtol=1e-6):
        raise CalcfunctionError('ERROR_UNEVEN_FRAMES', f'trajectories: the replicas have different frame intervals {dt} ps')
    dt_ps = next(iter(dt.values()))
    replicas = _replicas(trajectories)
    species = mobile_species(replicas[0][2], settings)
    arrays: dict[str, np.ndarray] = {}
    summary: dict[str, Any] = {'temperature_k': temperature, 'dt_ps': dt_ps, 'n_replicas': len(replicas),
                               'haven_ratio': settings['haven_ratio'], 'species': {}, 'warnings': []}
    for element in species:
        ions = [positions[:, symbols == element] for positions, _, symbols in replicas]
        result = species_transport(ions, dt_ps, settings['slope_tol'], settings['min_points'], settings['max_fraction'])
        density = _ion_density(replicas, element)
        diffusive = result.window is not None
        stderr = result.d_stderr_cm2_s if np.isfinite(result.d_stderr_cm2_s) else None  # None: one ion only
        ne = {'sigma_ne_s_cm': None, 'sigma_ne_stderr_s_cm': None}
        if diffusive:
            factor = nernst_einstein(1.0, density, temperature, ION_CHARGE[element], settings['haven_ratio'])
            ne = {'sigma_ne_s_cm': result.d_cm2_s * factor,
                  'sigma_ne_stderr_s_cm': None if stderr is None else stderr * factor}
        else:
            summary['warnings'].append(
                f'{element} at {temperature:g} K: the MSD never reaches the diffusive regime (slope 1 within '
                f'{settings["slope_tol"]}) in {result.lags_ps[-1]:g} ps; D is not reported, the temperature is '
                'left out of the Arrhenius fit (run longer or hotter)')
        summary['species'][element] = {
            'diffusive': diffusive,
            'd_cm2_s': result.d_cm2_s if diffusive else None,
            'd_stderr_cm2_s': stderr,
            'window_ps': [float(result.lags_ps[result.window[0]]), float(result.lags_ps[result.window[1] - 1])]
            if diffusive else None,
            'apparent_d_cm2_s': result.apparent_d_cm2_s,
            'final_msd_a2': float(result.msd_a2[-1]),
            'n_ions': result.n_ions,
            'number_density_cm3': density,
            **ne,
        }
        arrays.update({f'msd_a2_{element}': result.msd_a2, f'non_gaussian_{element}': result.non_gaussian,
                       'lags_ps': result.lags_ps})
    return {'msd': ArrayContent(arrays, {}), 'diffusion': summary}


def _arrhenius_of(points: list[Mapping], settings: Mapping, element: str) -> dict[str, Any]:
    """Arrhenius fit, extrapolated D and Nernst-Einstein sigma of one species from its diffusive temperatures."""
    temperatures = np.array([p['temperature_k'] for p in points])
    d = np.array([p['d_cm2_s'] for p in points])
    errors = np.array([p['d_stderr_cm2_s'] or np.nan for p in points], dtype=float)
    fit = arrhenius_diffusion(temperatures, d, errors if np.all(np.isfinite(errors) & (errors > 0)) else None)
    target = settings['extrapolate_to_k']
    d_t, low, high = extrapolate(fit, target, settings['confidence'])
    density = float(np.mean([p['number_density_cm3'] for p in points]))
    factor = nernst_einstein(1.0, density, target, ION_CHARGE[element], settings['haven_ratio'])
    return {
        'temperatures_k': temperatures.tolist(),
        'ea_ev': fit.ea_ev, 'ea_stderr_ev': fit.ea_stderr_ev,
        'd0_cm2_s': fit.d0_cm2_s, 'ln_d0_stderr': fit.ln_d0_stderr,
        'covariance': fit.cov.tolist(), 'dof': fit.dof, 'absolute_sigma': fit.absolute_sigma,
        'extrapolated_to_k': target, 'confidence': settings['confidence'],
        'd_extrapolated_cm2_s': d_t, 'd_extrapolated_interval_cm2_s': [low, high],
        'sigma_extrapolated_s_cm': d_t * factor, 'sigma_extrapolated_interval_s_cm': [low * factor, high * factor],
    }


@calcfunction
@returns_exit_codes
def arrhenius_transport(parameters: orm.Dict, **diffusion) -> orm.Dict:
    """Arrhenius fit of D(T) of each species (paper 002 eq. 8), D and sigma extrapolated (eq. 9).

    Parameters
    ----------
    parameters : Dict
        Settings (:data:`TRANSPORT_DEFAULTS`): ``extrapolate_to_k``, ``confidence``, ``haven_ratio``.
    **diffusion : Dict
        The ``diffusion`` outputs of :func:`diffusion_at_temperature`, one per temperature.

    Returns
    -------
    Dict
        Per species: ``ea_ev`` and its standard error, ``d0_cm2_s``, the extrapolated D
        (cm^2/s) and sigma (S/cm) with their intervals, the temperatures used; and
        ``warnings`` when fewer than two temperatures were diffusive.
    """
    settings = transport_settings(parameters)
    tables = [diffusion[key].get_dict() for key in sorted(diffusion)]
    species = sorted({element for table in tables for element in table['species']})
    result: dict[str, Any] = {'species': {}, 'warnings': []}
    for element in species:
        points = [{'temperature_k': t['temperature_k'], **t['species'][element]} for t in tables
                  if t['species'].get(element, {}).get('diffusive')]
        if len({p['temperature_k'] for p in points}) < 2:
            result['warnings'].append(f'{element}: diffusive at {len(points)} temperature(s); an Arrhenius fit '
                                      'needs two (no E_a, no extrapolation)')
            continue
        try:
            result['species'][element] = _arrhenius_of(points, settings, element)
        except ValueError as exc:  # e.g. two temperatures without errors of D: no error of E_a
            result['warnings'].append(f'{element}: no Arrhenius fit: {exc}')
    return orm.Dict(result)


@calcfunction
@returns_exit_codes
def field_transport(field: orm.Dict, parameters: orm.Dict, diffusion: orm.Dict, **trajectories) -> orm.Dict:
    """Drift, mobility and conductivity of each mobile species in an applied field (paper 000).

    Parameters
    ----------
    field : Dict
        ``efield_v_a`` (3 numbers, V/Å), ``frozen_elements``, ``temperature_k`` (K).
    parameters : Dict
        Settings (:data:`TRANSPORT_DEFAULTS`).
    diffusion : Dict
        :func:`diffusion_at_temperature` at the field's temperature, for the comparison
        with Nernst-Einstein.
    **trajectories : TrajectoryData
        Production runs in the field, one per replica (unwrapped positions, Å; times, ps);
        their ions are pooled.

    Returns
    -------
    Dict
        Per species: ``drift_a_ps``, ``mobility_cm2_vs`` and ``sigma_field_s_cm`` with
        standard errors (over ions), ``sigma_ne_s_cm`` at the same temperature and the
        ratio ``sigma_field / sigma_ne``.
    """
    settings = transport_settings(parameters)
    plain = plain_inputs(**trajectories)
    replicas = _replicas(plain)
    n_frames = min(positions.shape[0] for positions, _, _ in replicas)
    first = sorted(plain)[0]
    dt_ps = _time_step_ps(plain[first], f'trajectories.{first}')
    values = field.get_dict()
    result: dict[str, Any] = {'efield_v_a': values['efield_v_a'], 'temperature_k': values['temperature_k'],
                              'frozen_elements': values.get('frozen_elements', []), 'species': {}}
    for element in mobile_species(replicas[0][2], settings):
        charge = ION_CHARGE[element]
        ions = np.concatenate([positions[:n_frames, symbols == element] for positions, _, symbols in replicas], axis=1)
        drift = field_mobility(ions, dt_ps, values['efield_v_a'], charge)
        density = _ion_density(replicas, element)
        sigma = float(field_conductivity(drift.mobility_cm2_vs, density, charge))
        sigma_err = float(field_conductivity(drift.mobility_stderr_cm2_vs, density, charge))
        ne = diffusion['species'].get(element, {}).get('sigma_ne_s_cm')
        result['species'][element] = {
            'drift_a_ps': drift.drift_a_ps, 'drift_stderr_a_ps': drift.drift_stderr_a_ps,
            'mobility_cm2_vs': drift.mobility_cm2_vs, 'mobility_stderr_cm2_vs': drift.mobility_stderr_cm2_vs,
            'sigma_field_s_cm': sigma, 'sigma_field_stderr_s_cm': sigma_err,
            'sigma_ne_s_cm': ne, 'field_over_ne': sigma / ne if ne else None,
        }
    return orm.Dict(result)


@calcfunction
@returns_exit_codes
def ion_rearrangement(trajectory: orm.TrajectoryData, parameters: orm.Dict) -> dict[str, orm.Data]:
    """Cumulative non-affine displacement D_cum of every mobile ion, and the mobile / immobile split (paper 004):
    :func:`compute_ion_rearrangement`.

    Parameters
    ----------
    trajectory : TrajectoryData
        A production run (positions, Å; cells; times, ps).
    parameters : Dict
        Settings: ``d2min_cutoff_a`` (Å), ``d2min_interval_ps`` (ps), ``mobile_quantile``.

    Returns
    -------
    dict
        ``d_cum``: ArrayData with per species ``indices_<X>`` (atom indices),
        ``d_cum_a_<X>`` (Å) and ``mobile_<X>`` (bool); ``rearrangement``: Dict with per
        species the threshold (Å), the mobile fraction and the D_cum quartiles.
    """
    return calcfunction_result(compute_ion_rearrangement(**plain_inputs(trajectory=trajectory, parameters=parameters)))


def compute_ion_rearrangement(trajectory: Frames, parameters: dict) -> dict[str, Any]:
    """The outputs of :func:`ion_rearrangement` as plain data (``d_cum``: ArrayContent, ``rearrangement``: dict)."""
    settings = transport_settings(parameters)
    positions, cells, symbols = _replicas({'trajectory': trajectory})[0]
    dt_ps = _time_step_ps(trajectory, 'trajectory')
    lag = d2min_lag(settings['d2min_interval_ps'], dt_ps, positions.shape[0])
    arrays: dict[str, np.ndarray] = {}
    summary: dict[str, Any] = {'interval_ps': lag * dt_ps, 'cutoff_a': settings['d2min_cutoff_a'], 'species': {}}
    for element in mobile_species(symbols, settings):
        indices = np.flatnonzero(symbols == element)
        d_cum = cumulative_d2min(positions, cells, settings['d2min_cutoff_a'], lag, indices)[indices]
        mobile, threshold = classify_mobile(d_cum, quantile=settings['mobile_quantile'])
        arrays.update({f'indices_{element}': indices, f'd_cum_a_{element}': d_cum,
                       f'mobile_{element}': np.asarray(mobile, dtype=bool)})
        summary['species'][element] = {
            'threshold_a': float(threshold), 'mobile_fraction': float(np.mean(mobile)),
            'd_cum_quartiles_a': [float(q) for q in np.nanquantile(d_cum, [0.25, 0.5, 0.75])],
        }
    return {'d_cum': ArrayContent(arrays, {}), 'rearrangement': summary}


#: Settings of :func:`softness_model` (paper 004 section 4.6; units in the keys).
SOFTNESS_DEFAULTS: dict[str, Any] = {
    'test_glass': None,  # the held-out glass (required): its inputs are named <test_glass>__...
    'species': 'Li',     # the ions classified
    'r_max_a': 10.0,     # Å, last radial shell (Rc)
    'dr_a': 0.2,         # Å, shell spacing
    'c': 1.0,            # inverse regularisation strength of the logistic regression
    'balance': True,     # train on equal numbers of mobile and immobile ions
    'seed': 0,
}


def softness_settings(parameters: orm.Dict | Mapping | None) -> dict[str, Any]:
    """Softness settings with defaults filled in, checked (``parameters.<key>`` named on error)."""
    settings = with_defaults(parameters, SOFTNESS_DEFAULTS)
    check_positive_numbers(settings, ('r_max_a', 'dr_a', 'c'))
    if not isinstance(settings['test_glass'], str):
        raise parameter_error(f'parameters.test_glass must name the held-out glass, got {settings["test_glass"]!r}')
    if settings['species'] not in ION_CHARGE:
        raise parameter_error(f'parameters.species must be one of {sorted(ION_CHARGE)}, got {settings["species"]!r}')
    return settings


@calcfunction
@returns_exit_codes
def softness_model(parameters: orm.Dict, **glasses) -> dict[str, orm.Data]:
    """Train the softness hyperplane on some glasses and test it on a held-out one (paper 004, 4.6).

    Parameters
    ----------
    parameters : Dict
        :data:`SOFTNESS_DEFAULTS`; ``test_glass`` names the held-out glass.
    **glasses : StructureData or TrajectoryData, ArrayData
        Per sample set (``<glass>__<replica>`` or ``<glass>``) ``<key>__structure`` (the static structure: a structure, or the first
        frame of a trajectory) and ``<key>__labels``: ArrayData with ``indices_<X>``
        (atom indices of the labelled ions of species X) and ``mobile_<X>`` (bool), e.g.
        a ``d_cum`` output of ``boroglass.diffusion``; any per-atom boolean label works.

    Returns
    -------
    dict
        ``model``: ArrayData with ``weights`` (n_species, n_r) in standardised units,
        ``r_a`` (n_r,), ``confusion`` (2, 2: rows true immobile/mobile, columns
        predicted), and per glass ``softness_<key>`` and ``mobile_<key>`` (n_ions,);
        ``summary``: Dict with accuracies, the intercept, class counts and the feature species.
    """
    from aiida_boroglass.analysis.softness import radial_structure_functions, train_softness, weights_by_species

    settings = softness_settings(parameters)
    grouped = inputs_by_role(glasses, ('structure', 'labels'), 'glasses')
    names = sorted({key.split('__')[0] for key in grouped})
    if settings['test_glass'] not in names:
        raise CalcfunctionError('ERROR_INCOMPLETE_GLASSES',
                                f'parameters.test_glass: {settings["test_glass"]!r} is not among the glasses {names}')
    frames = {key: frames_of(roles['structure']) for key, roles in grouped.items()}
    neighbours = sorted({symbol for _, _, symbols in frames.values() for symbol in symbols})
    features, labels, groups, sizes = [], [], [], {}
    for key in sorted(grouped):
        positions, cells, symbols = frames[key]
        element = settings['species']
        indices = grouped[key]['labels'].get_array(f'indices_{element}')
        if any(symbols[i] != element for i in indices):
            raise CalcfunctionError('ERROR_INCOMPLETE_GLASSES',
                                    f'glasses.{key}__labels: indices_{element} are not all {element} atoms')
        rows, r_a, feature_species = radial_structure_functions(
            positions[0], cells[0], symbols, indices, neighbours, settings['r_max_a'], settings['dr_a'])
        order = np.argsort(indices)  # the feature rows follow increasing atom index
        features.append(rows)
        labels.append(grouped[key]['labels'].get_array(f'mobile_{element}')[order])
        groups += [key.split('__')[0]] * len(indices)
        sizes[key] = len(indices)
    model = train_softness(np.concatenate(features), np.concatenate(labels), np.array(groups), settings['test_glass'],
                           C=settings['c'], balance=settings['balance'], seed=settings['seed'])
    arrays = orm.ArrayData()
    weights = weights_by_species(model.weights, r_a, feature_species)
    arrays.set_array('weights', np.array([weights[x] for x in feature_species]))
    arrays.set_array('r_a', r_a)
    arrays.set_array('confusion', model.confusion)
    start = 0
    for key, label in zip(sorted(grouped), labels):
        arrays.set_array(f'softness_{key}', model.softness[start:start + sizes[key]])
        arrays.set_array(f'mobile_{key}', np.asarray(label, dtype=bool))
        start += sizes[key]
    summary = {'test_glass': settings['test_glass'], 'species': settings['species'], 'accuracy': model.accuracy,
               'train_accuracy': model.train_accuracy, 'intercept': model.intercept,
               'feature_species': list(feature_species), 'n_ions': sizes,
               'n_mobile': {key: int(np.sum(label)) for key, label in zip(sorted(grouped), labels)}}
    return {'model': arrays, 'summary': orm.Dict(summary)}
