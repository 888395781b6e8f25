"""Calcfunctions of the fracture workflow: the pre-cracked supercell and the fracture result.

Each wraps kernels of :mod:`aiida_boroglass.analysis.mechanics.fracture`. The loading axis is
z (paper 002: the box is strained normal to the crack front along z).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

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
from aiida_boroglass.functions.exit_codes import returns_exit_codes
from aiida_boroglass.functions.mechanics import pressure_tensor
from aiida_boroglass.functions.utils import site_symbols
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
    cracked = orm.StructureData(cell=np.diag(lengths).tolist())
    for symbol, position in zip(species, positions):
        cracked.append_atom(position=position.tolist(), symbols=str(symbol))
    result = {'structure': cracked, 'crack': orm.Dict(geometry or {'removed': 0})}
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
