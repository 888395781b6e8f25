"""Calcfunctions of the fracture workflow: the pre-cracked supercell, the fracture result, and the
bond switching and softness of the network formers along the strain.

Each wraps kernels of :mod:`aiida_boroglass.analysis.mechanics.fracture`,
:mod:`~aiida_boroglass.analysis.mechanics.bond_switching` and
:mod:`~aiida_boroglass.analysis.mechanics.switching_softness`. The loading axis is z (paper 002:
the box is strained normal to the crack front along z).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.analysis.cutoffs import BOND_CUTOFF_RULES
from aiida_boroglass.analysis.job import ArrayContent, Frames
from aiida_boroglass.analysis.mechanics.bond_switching import SWITCH_CLASSES, bond_switching
from aiida_boroglass.analysis.mechanics.elastic import stress_from_pressure
from aiida_boroglass.analysis.mechanics.fracture import (
    GAP_A,
    GRID_A,
    HEIGHT_FRACTION,
    OXYGEN,
    PROBE_RADIUS_A,
    SEPARATION_AREA_FRACTION,
    SEPARATION_HOLD_STEPS,
    SEPARATION_STRESS_FRACTION,
    WIDTH_FRACTION,
    box_lengths,
    column_gaps,
    crack_area,
    fracture_energy,
    fracture_toughness,
    is_separated,
    precrack_mask,
    replicate_box,
)
from aiida_boroglass.analysis.mechanics.switching_softness import (
    ReplicaSwitching,
    first_switch,
    quantile_groups,
    strain_softness,
    switched_by_strain,
    switching_softness,
)
from aiida_boroglass.analysis.speciation import NETWORK_FORMERS
from aiida_boroglass.functions.exit_codes import CalcfunctionError, returns_exit_codes
from aiida_boroglass.functions.mechanics import pressure_tensor
from aiida_boroglass.functions.plain import calcfunction_result, plain_inputs, plain_of
from aiida_boroglass.functions.utils import (
    check_positive_numbers,
    inputs_by_role,
    parameter_error,
    site_symbols,
    structure_of,
    with_defaults,
)
from aiida_boroglass.glass.composition import OXIDES
from aiida_boroglass.glass.forcefields import build_forcefield
from aiida_boroglass.glass.replicas import replica_statistics

#: Loading axis (z), normal to the crack plane.
NORMAL_AXIS = 2
#: Pre-crack settings: fractions of paper 002; ``width_fraction`` 0 cuts no pre-crack.
CRACK_DEFAULTS = {'width_fraction': WIDTH_FRACTION, 'height_fraction': HEIGHT_FRACTION}
#: Crack detection and separation (see the kernels).
DETECTION_DEFAULTS = {'probe_radius_a': PROBE_RADIUS_A, 'gap_a': GAP_A, 'grid_a': GRID_A,
                      'stress_fraction': SEPARATION_STRESS_FRACTION, 'hold_steps': SEPARATION_HOLD_STEPS,
                      'area_fraction': SEPARATION_AREA_FRACTION}
#: Quantities averaged over the separated replicas (units in the keys).
REPLICA_FRACTURE_QUANTITIES = ('g_c_j_m2', 'k_ic_mpa_m05', 'crack_area_a2', 'peak_stress_gpa', 'strain_at_peak')
#: Force fields whose O charge is set by the neutrality of the composition: redefined after the cut.
OXYGEN_CHARGE_BY_NEUTRALITY = ('shik',)


def formal_charges(symbols: Sequence[str]) -> dict[str, float]:
    """Oxidation states (e) of the elements of an oxide glass, from their oxides (O: -2)."""
    charges = {OXYGEN: -2.0}
    for oxide in OXIDES.values():
        for element, count in oxide.items():
            if element != OXYGEN and element in symbols:
                charges[element] = 2.0 * oxide[OXYGEN] / count
    return charges


def cut_charges(forcefield: Mapping | None, symbols: Sequence[str]) -> tuple[dict[str, float], bool]:
    """Charges the pre-crack balances (e), and whether they stay fixed after the cut.

    The force field's charges; with a DeePMD ensemble (no force field) the oxidation states,
    so that the cut keeps the ratio of O to cation valence.
    """
    if forcefield is None:
        return formal_charges(symbols), True
    return dict(forcefield['charges_e']), forcefield.get('name') not in OXYGEN_CHARGE_BY_NEUTRALITY


def settings_with_defaults(value: orm.Dict | Mapping | None, defaults: Mapping) -> dict:
    """A settings input (Dict, mapping or None) over its ``defaults``."""
    return {**defaults, **(value.get_dict() if isinstance(value, orm.Dict) else value or {})}


def crack_settings(value: orm.Dict | Mapping | None) -> dict:
    """The pre-crack settings, defaults filled in (:data:`CRACK_DEFAULTS`)."""
    return settings_with_defaults(value, CRACK_DEFAULTS)


def detection_settings(value: orm.Dict | Mapping | None) -> dict:
    """The crack-detection settings, defaults filled in (:data:`DETECTION_DEFAULTS`)."""
    return settings_with_defaults(value, DETECTION_DEFAULTS)


def precrack_arrays(structure: orm.StructureData, repeats: Sequence[int], crack: Mapping,
                    forcefield: Mapping | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict | None]:
    """The replicated cell with the pre-crack cut: positions (Å), species, side lengths (Å), geometry.

    Raises
    ------
    ValueError
        A cell that is not orthorhombic, a pre-crack that does not fit or cannot be balanced.
    """
    lengths = box_lengths(structure.cell)
    positions = np.array([site.position for site in structure.sites])
    positions, species, lengths = replicate_box(positions, site_symbols(structure), lengths, repeats)
    if not crack['width_fraction']:
        return positions, species, lengths, None
    charges, fixed = cut_charges(forcefield, species)
    removed, geometry = precrack_mask(positions, species, lengths, charges, fixed, crack['width_fraction'],
                                      crack['height_fraction'], NORMAL_AXIS)
    return positions[~removed], species[~removed], lengths, {**geometry, 'removed': int(removed.sum())}


@calcfunction
@returns_exit_codes
def precracked_structure(structure: orm.StructureData, repeats: orm.List, crack: orm.Dict,
                         forcefield: orm.Dict | None = None) -> dict[str, orm.Data]:
    """Replicate a glass and cut paper 002's elliptical pre-crack (module docstring of the kernels).

    Parameters
    ----------
    structure : StructureData
        The glass, an orthorhombic cell, Å.
    repeats : List
        Copies along x, y, z (paper 002: ``[1, 2, 2]``).
    crack : Dict
        ``width_fraction`` (of the longest side; 0: no pre-crack), ``height_fraction`` (of the width).
    forcefield : Dict, optional
        The force field whose charges the cut balances; absent: oxidation states.

    Returns
    -------
    dict
        ``structure`` (the cracked supercell), ``crack`` (geometry, Å, and atoms removed) and,
        for a force field whose O charge is set by neutrality (SHIK), ``forcefield`` resolved
        again for the new composition.
    """
    ff = forcefield.get_dict() if forcefield is not None else None
    positions, species, lengths, geometry = precrack_arrays(structure, repeats.get_list(), crack_settings(crack), ff)
    result = {'structure': structure_of(np.diag(lengths), [str(symbol) for symbol in species], positions),
              'crack': orm.Dict(geometry or {'removed': 0})}
    if ff is not None and ff.get('name') in OXYGEN_CHARGE_BY_NEUTRALITY:
        counts = {str(element): int(n) for element, n in zip(*np.unique(species, return_counts=True))}
        result['forcefield'] = orm.Dict(build_forcefield(ff['name'], counts))
    return result


def elastic_moduli(elastic: Mapping) -> tuple[float, float]:
    """``(E in GPa, nu)`` of an ``elastic`` input: numbers, or a ``boroglass.elastic`` ``average`` ({'mean': ...})."""
    values = []
    for key in ('youngs_modulus_gpa', 'poisson_ratio'):
        value = elastic.get(key)
        values.append(float(value['mean'] if isinstance(value, Mapping) else value))
    return values[0], values[1]


@calcfunction
@returns_exit_codes
def fracture_result(elastic: orm.Dict, detection: orm.Dict, **steps: orm.Data) -> dict[str, orm.Data]:
    """Stress-strain curve, crack area, G_c (eq. 13) and K_IC (eq. 14) of one strained sample.

    Parameters
    ----------
    elastic : Dict
        ``youngs_modulus_gpa`` and ``poisson_ratio``: numbers, or a ``boroglass.elastic``
        ``average`` output.
    detection : Dict
        :data:`DETECTION_DEFAULTS` keys.
    **steps : StructureData or Dict
        ``structure_{k:03d}`` (the cell after step ``k``) and ``results_{k:03d}`` (its run's
        ``results``, one averaged stress) for k = 0 (unstrained) .. n.

    Returns
    -------
    dict
        ``curve`` (ArrayData: ``strain``, ``length_a``, ``stress_gpa`` along z, positive in
        tension, ``crack_area_a2`` and ``open_fraction`` of every step), ``frames``
        (TrajectoryData of the step cells), ``separated`` (Bool), ``crack_area`` (Float, Å^2:
        the area created, last step minus step 0), ``fracture`` (Dict: all of it, with E and nu)
        and, when separated, ``g_c`` (J/m^2) and ``k_ic`` (MPa m^0.5).
    """
    settings = detection_settings(detection)
    keys = sorted(key[len('structure_'):] for key in steps if key.startswith('structure_'))
    if len(keys) < 2 or any(f'results_{key}' not in steps for key in keys):
        raise ValueError(f'steps: need structure_k and results_k of at least two steps, got {sorted(steps)}')
    structures = [steps[f'structure_{key}'] for key in keys]
    lengths = np.array([box_lengths(node.cell) for node in structures])
    stress = np.array([stress_from_pressure(pressure_tensor(steps[f'results_{key}']))[NORMAL_AXIS] for key in keys])
    openings = [column_gaps(np.array([site.position for site in node.sites]), row, NORMAL_AXIS,
                            settings['probe_radius_a'], settings['gap_a'], settings['grid_a'])
                for node, row in zip(structures, lengths)]
    areas = np.array([crack_area(opening, row, NORMAL_AXIS) for opening, row in zip(openings, lengths)])
    curve = orm.ArrayData()
    curve.set_array('strain', lengths[:, NORMAL_AXIS] / lengths[0, NORMAL_AXIS] - 1.0)
    curve.set_array('length_a', lengths[:, NORMAL_AXIS])
    curve.set_array('stress_gpa', stress)
    curve.set_array('crack_area_a2', areas)
    curve.set_array('open_fraction', np.array([np.mean(opening > 0) for opening in openings]))
    separated = is_separated(stress, openings[-1], settings['stress_fraction'], settings['hold_steps'],
                             settings['area_fraction'])
    created = float(areas[-1] - areas[0])
    youngs, poisson = elastic_moduli(elastic.get_dict())
    peak = int(np.argmax(stress))
    summary = {'separated': separated, 'crack_area_a2': created, 'initial_crack_area_a2': float(areas[0]),
               'cross_section_a2': float(lengths[0, 0] * lengths[0, 1]), 'peak_stress_gpa': float(stress[peak]),
               'strain_at_peak': float(curve.get_array('strain')[peak]), 'steps': len(keys),
               'youngs_modulus_gpa': youngs, 'poisson_ratio': poisson, 'g_c_j_m2': None, 'k_ic_mpa_m05': None}
    result = {'curve': curve, 'frames': orm.TrajectoryData(structurelist=structures), 'separated': orm.Bool(separated),
              'crack_area': orm.Float(created)}
    if separated:
        if created <= 0:
            raise ValueError(f'crack_area: no crack area was created ({created:.1f} Å^2); check detection.gap_a')
        g_c = fracture_energy(lengths[:, NORMAL_AXIS], stress, summary['cross_section_a2'], created)
        k_ic = fracture_toughness(g_c, youngs, poisson)
        summary.update(g_c_j_m2=g_c, k_ic_mpa_m05=k_ic)
        result.update(g_c=orm.Float(g_c), k_ic=orm.Float(k_ic))
    result['fracture'] = orm.Dict(summary)
    return result


@calcfunction
@returns_exit_codes
def fracture_replica_average(**fracture: orm.Dict) -> orm.Dict:
    """Mean and sample standard deviation (ddof 1) of the fracture results over the separated replicas.

    Parameters
    ----------
    **fracture : Dict
        Replica key -> the ``fracture`` output of :func:`fracture_result`.

    Returns
    -------
    Dict
        ``replicas`` (the separated ones) and, for each of :data:`REPLICA_FRACTURE_QUANTITIES`,
        ``{'mean': float, 'std': float or None}``; units in the keys.
    """
    keys = sorted(key for key, node in fracture.items() if node['separated'])
    if not keys:
        raise ValueError(f'fracture: none of the replicas {sorted(fracture)} separated')
    statistics = replica_statistics([fracture[key].get_dict() for key in keys], REPLICA_FRACTURE_QUANTITIES)
    return orm.Dict({'replicas': keys, **statistics})


#: Settings of the bond switching along the strain: ``cutoffs_a`` ``{former: former-O cutoff, Å}``;
#: None takes the defaults of :data:`~aiida_boroglass.analysis.cutoffs.BOND_CUTOFF_RULES` (B-O and
#: P-O 2.0 Å, paper 004) for the formers present.
SWITCHING_DEFAULTS: dict[str, Any] = {'cutoffs_a': None}
#: Settings of the softness trained on bond switching (paper 004, sections 2.3 and 4.6); with the
#: keys of :data:`SWITCHING_DEFAULTS` they make the ``softness`` input of ``boroglass.fracture``.
SOFTNESS_DEFAULTS: dict[str, Any] = {
    'species': 'B',         # the former classified (paper 004: B)
    'test_replica': None,   # the held-out replica; None: the last; one replica: its upper half along x
    'r_max_a': 10.0,        # Å, last radial shell (Rc)
    'dr_a': 0.2,            # Å, shell spacing
    'c': 1.0,               # inverse regularisation strength of the logistic regression
    'balance': True,        # train on equally many switching and non-switching atoms
    'seed': 0,
    'quantiles': 4,         # softness groups of the switched fraction against strain (4: quartiles)
}


def switching_cutoffs(value: Mapping | None, symbols: Sequence[str]) -> dict[str, float]:
    """``{former: former-O cutoff, Å}`` for the formers in ``symbols``: ``value``, or the rule defaults.

    Raises
    ------
    CalcfunctionError
        ``ERROR_MISSING_ELEMENT`` for a glass without a former or O; ``ERROR_INVALID_PARAMETERS``
        for a cutoff that is not a positive number or a former present without one.
    """
    present = [former for former in NETWORK_FORMERS if former in symbols]
    if not present or 'O' not in symbols:
        raise CalcfunctionError('ERROR_MISSING_ELEMENT', f'frames: bond switching needs O and a network former of '
                                                         f'{list(NETWORK_FORMERS)}; the glass holds {sorted(set(symbols))}')
    if value is not None and not isinstance(value, Mapping):
        raise parameter_error(f'parameters.cutoffs_a must be {{former: former-O cutoff in Å}} or None, got {value!r}')
    cutoffs = {former: BOND_CUTOFF_RULES[f'{former}-O'][2] for former in present} if value is None else dict(value)
    check_positive_numbers({f'cutoffs_a.{key}': item for key, item in cutoffs.items()}, [f'cutoffs_a.{k}' for k in cutoffs])
    missing = sorted(set(present) - set(cutoffs))
    if missing:
        raise parameter_error(f'parameters.cutoffs_a: give a former-O cutoff (Å) for every former present; missing {missing}')
    return {former: float(cutoffs[former]) for former in present}


@calcfunction
@returns_exit_codes
def fracture_bond_switching(frames: orm.TrajectoryData, parameters: orm.Dict) -> orm.ArrayData:
    """Bond switching of every former of a fracture run against its unstrained cell (paper 004, section 4.4).

    Parameters
    ----------
    frames : TrajectoryData
        The ``frames`` output of ``boroglass.fracture`` for one replica: the cell after every
        strain step, Å, step 0 unstrained, strained along z.
    parameters : Dict
        :data:`SWITCHING_DEFAULTS`.

    Returns
    -------
    ArrayData
        ``strain`` (n_frames,) along z, and per former X: ``indices_<X>`` (atom indices),
        ``classes_<X>`` (n_frames, n_X; index into attribute ``switch_classes``),
        ``switched_<X>`` (bool: not unchanged in some frame), ``first_strain_<X>`` (strain of the
        first switch, NaN if never) and ``counts_<X>`` (n_frames, 4 classes); attribute
        ``cutoffs_a``: :func:`compute_fracture_bond_switching`.
    """
    return calcfunction_result(compute_fracture_bond_switching(**plain_inputs(frames=frames, parameters=parameters)))


def compute_fracture_bond_switching(frames: Frames, parameters: dict) -> dict[str, Any]:
    """The output of :func:`fracture_bond_switching` as plain data (``result``: ArrayContent)."""
    settings = with_defaults(parameters, SWITCHING_DEFAULTS)
    positions, cells, symbols = frames.positions, frames.cells, frames.symbols
    cutoffs = switching_cutoffs(settings['cutoffs_a'], symbols)
    normal = np.linalg.norm(cells[:, NORMAL_AXIS], axis=1)
    strain = normal / normal[0] - 1.0
    switching = bond_switching(positions, cells, symbols, cutoffs)
    switched, first_strain = first_switch(switching.classes, strain)
    arrays = {'strain': strain}
    for element in sorted(switching.counts):
        mine = switching.elements == element
        arrays.update({f'indices_{element}': switching.formers[mine], f'classes_{element}': switching.classes[:, mine],
                       f'switched_{element}': switched[mine], f'first_strain_{element}': first_strain[mine],
                       f'counts_{element}': switching.counts[element]})
    return {'result': ArrayContent(arrays, {'switch_classes': list(SWITCH_CLASSES), 'cutoffs_a': cutoffs})}


def switching_softness_settings(parameters: orm.Dict | Mapping | None) -> dict[str, Any]:
    """Softness settings (:data:`SOFTNESS_DEFAULTS` and :data:`SWITCHING_DEFAULTS`) with defaults filled in, checked
    (``parameters.<key>`` named; the cutoffs are checked against the glass by :func:`switching_cutoffs`).

    Raises
    ------
    CalcfunctionError
        ``ERROR_INVALID_PARAMETERS``.
    """
    settings = with_defaults(parameters, {**SOFTNESS_DEFAULTS, **SWITCHING_DEFAULTS})
    check_positive_numbers(settings, ('r_max_a', 'dr_a', 'c'))
    if settings['species'] not in NETWORK_FORMERS:
        raise parameter_error(f'parameters.species must be a network former of {list(NETWORK_FORMERS)}, '
                              f'got {settings["species"]!r}')
    quantiles = settings['quantiles']
    if isinstance(quantiles, bool) or not isinstance(quantiles, int) or not 1 <= quantiles <= 10:
        raise parameter_error(f'parameters.quantiles must be an integer in [1, 10], got {quantiles!r}')
    if settings['test_replica'] is not None and not isinstance(settings['test_replica'], str):
        raise parameter_error(f'parameters.test_replica must name a replica (r0, r1, ...) or be None, '
                              f'got {settings["test_replica"]!r}')
    return settings


@calcfunction
@returns_exit_codes
def fracture_softness(parameters: orm.Dict, **replicas: orm.Data) -> dict[str, orm.Data]:
    """Softness of a former trained on its bond switching during fracture; its evolution with strain (paper 004).

    The label of each atom of ``species``: whether it switched bonds at any strain step (the
    output of :func:`fracture_bond_switching` on the replica, taken as it is stored). The
    model is trained on the radial structure functions of the unstrained cells, tested on the
    held-out replica (one replica: its upper half along x; see
    :mod:`~aiida_boroglass.analysis.mechanics.switching_softness`) and applied to every strained
    frame (Fig. 6b of paper 004).

    Parameters
    ----------
    parameters : Dict
        :data:`SOFTNESS_DEFAULTS` and :data:`SWITCHING_DEFAULTS`.
    **replicas : TrajectoryData and ArrayData
        Per replica ``<r>``: ``<r>__frames``, its ``frames`` output of ``boroglass.fracture``
        (step 0 unstrained), and ``<r>__switching``, :func:`fracture_bond_switching` of those frames.

    Returns
    -------
    dict
        ``softness``: ArrayData with the model (``weights`` (n_species, n_r) in standardised
        units, ``r_a``, ``feature_mean`` and ``feature_std`` of the standardisation,
        ``confusion`` (2, 2) on the held-out atoms); per replica ``softness_<r>`` (softness of
        each labelled atom in the unstrained cell, in the order of ``indices_<X>``), ``test_<r>``
        (held out, bool), ``frame_softness_<r>`` (n_frames, n_atoms: the model applied to every
        frame), ``mean_softness_<r>`` and ``strain_<r>`` (n_frames,); pooled over the steps every
        replica reached: ``strain``, ``switched_fraction`` (n_quantiles, n_steps: share of each
        softness quantile group switched by that strain), ``switching_softness`` (mean softness of
        the atoms first switching at that strain; NaN where none), ``quantile_edges``.
        ``softness_summary``: Dict with the accuracies, what was held out, counts, the final
        switched fraction per quantile and the mean softness at the start, minimum and end.
    """
    settings = switching_softness_settings(parameters)
    grouped = inputs_by_role(replicas, ('frames', 'switching'), 'replicas')
    keys = sorted(grouped)
    test = settings['test_replica'] or keys[-1]
    if test not in keys:
        raise parameter_error(f'parameters.test_replica: {test!r} is not among the replicas {keys}')
    element = settings['species']
    samples, labels = [], []
    for key in keys:
        glass = plain_of(grouped[key]['frames'])
        node = grouped[key]['switching']
        switching = {name: node.get_array(name) for name in node.get_arraynames()}
        if f'indices_{element}' not in switching:
            raise CalcfunctionError('ERROR_MISSING_ELEMENT', f'frames.{key}: the glass holds no {element}')
        samples.append(ReplicaSwitching(glass.positions, glass.cells, np.asarray(glass.symbols),
                                        switching[f'indices_{element}'], switching[f'switched_{element}']))
        labels.append((switching['strain'], switching[f'first_strain_{element}']))
    result = strain_softness(samples, keys.index(test), settings['r_max_a'], settings['dr_a'], settings['c'],
                             settings['balance'], settings['seed'])
    model = result.model
    arrays = orm.ArrayData()
    arrays.set_array('weights', model.weights.reshape(len(result.feature_species), -1))
    for name, values in (('r_a', result.r_a), ('feature_mean', model.mean), ('feature_std', model.std),
                         ('confusion', model.confusion)):
        arrays.set_array(name, values)
    bounds = np.cumsum([0] + [len(sample.indices) for sample in samples])
    groups, edges = quantile_groups(model.softness, settings['quantiles'])
    n_common = min(len(strain) for strain, _ in labels)
    mean_softness = {}
    for index, key in enumerate(keys):
        mine = slice(bounds[index], bounds[index + 1])
        mean_softness[key] = result.frame_softness[index].mean(axis=1)
        for name, values in (('softness', model.softness[mine]), ('test', model.test_mask[mine]),
                             ('frame_softness', result.frame_softness[index]), ('mean_softness', mean_softness[key]),
                             ('strain', labels[index][0])):
            arrays.set_array(f'{name}_{key}', values)
    strain = labels[0][0][:n_common]
    first_strain = np.concatenate([first for _, first in labels])
    fraction = switched_by_strain(first_strain, strain, groups, settings['quantiles'])
    for name, values in (('strain', strain), ('switched_fraction', fraction), ('quantile_edges', edges),
                         ('switching_softness', switching_softness(model.softness, first_strain, strain))):
        arrays.set_array(name, values)
    held_out = f'replica {test}' if len(keys) > 1 else f'{test}: the {element} atoms of the upper half along x'
    summary = {
        'species': element, 'held_out': held_out, 'accuracy': model.accuracy, 'train_accuracy': model.train_accuracy,
        'intercept': model.intercept, 'feature_species': list(result.feature_species),
        'n_atoms': {key: len(sample.indices) for key, sample in zip(keys, samples)},
        'n_switched': {key: int(sample.switched.sum()) for key, sample in zip(keys, samples)},
        'n_test': int(model.test_mask.sum()), 'n_trained': int(model.train_mask.sum()),
        'final_strain': float(strain[-1]), 'final_switched_fraction': [None if np.isnan(v) else float(v) for v in fraction[:, -1]],
        'mean_softness': {key: {'initial': float(values[0]), 'minimum': float(values.min()),
                                'strain_at_minimum': float(labels[index][0][np.argmin(values)]), 'final': float(values[-1])}
                          for index, (key, values) in enumerate(mean_softness.items())},
    }
    return {'softness': arrays, 'softness_summary': orm.Dict(summary)}
