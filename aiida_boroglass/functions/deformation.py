"""Calcfunctions of ``boroglass.deformation``: the stress-strain curve and the structure along the strain of one run,
and their average over runs.

Each wraps kernels of :mod:`aiida_boroglass.analysis.mechanics` (stress-strain, bond switching,
local deformation gradient), :mod:`~aiida_boroglass.analysis.speciation` (N4) and
:mod:`~aiida_boroglass.analysis.rings` (3-rings). The thermo and trajectory come from a LAMMPS
run whose ``deform`` stage wrote both (its thermo carries the pressure tensor in bar, positive
in compression; its frames start at the unstrained glass). Stress is reported positive in
tension, GPa; strain is the engineering strain of the loaded axes (negative in compression).
:func:`deformation_analysis`, whose cost grows with the frames x atoms, is a calcfunction around
the pure function :func:`compute_deformation_analysis` of plain data
(:mod:`aiida_boroglass.functions.plain`), which :mod:`aiida_boroglass.analysis.job` also runs as a job.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.analysis.job import ArrayContent, Frames
from aiida_boroglass.analysis.mechanics.bond_switching import SWITCH_CLASSES, bond_switching
from aiida_boroglass.analysis.mechanics.local_strain import (
    atom_classes,
    class_averages,
    deformation_gradients,
    local_neighbourhoods,
)
from aiida_boroglass.analysis.mechanics.stress_strain import (
    axial_strain,
    axial_stress,
    binned_curve,
    initial_modulus,
    strength,
)
from aiida_boroglass.analysis.rings import frame_rings, size_counts
from aiida_boroglass.analysis.speciation import coordination_numbers
from aiida_boroglass.calculations.lammps_inputs import BAR_PER_GPA
from aiida_boroglass.functions.exit_codes import returns_exit_codes
from aiida_boroglass.functions.plain import calcfunction_result, plain_inputs
from aiida_boroglass.functions.structure import bond_cutoffs_of_formers
from aiida_boroglass.glass.replicas import replica_statistics

#: Scalars of :func:`deformation_analysis`'s ``properties`` averaged over runs (units in the keys).
RUN_QUANTITIES = ('strength_gpa', 'strain_at_strength', 'initial_modulus_gpa')
#: Prefixes of the inputs of :func:`deformation_average`: ``<prefix>_<run>``.
AVERAGE_INPUTS = ('curve', 'evolution', 'properties')


def _curve(thermo: ArrayContent, settings: dict) -> tuple[ArrayContent, dict]:
    """Binned stress-strain curve of the deform stage, and its strength, strain at strength and initial slope."""
    stage, axes = settings['stage'], settings['axes']
    lengths = np.stack([thermo.arrays[f'{stage}_l{axis}'] for axis in 'xyz'], axis=1)
    pressure = np.stack([thermo.arrays[f'{stage}_p{axis}{axis}'] for axis in 'xyz'], axis=1) / BAR_PER_GPA
    strain, stress = axial_strain(lengths, axes), axial_stress(pressure, axes)
    centres, mean, error = binned_curve(strain, stress, settings['curve_points'])
    modulus = initial_modulus(strain, stress, settings['modulus_strain'])
    if not np.isfinite(modulus):
        raise ValueError(f'settings.modulus_strain = {settings["modulus_strain"]:g}: fewer than two thermo lines below it')
    peak, at = strength(centres, mean, settings['sign'])
    curve = ArrayContent({'strain': centres, 'stress_gpa': mean, 'stress_error_gpa': error, 'raw_strain': strain,
                          'raw_stress_gpa': stress},
                         {'units': {'strain': '1', 'stress_gpa': 'GPa', 'stress_error_gpa': 'GPa', 'raw_strain': '1',
                                    'raw_stress_gpa': 'GPa'}})
    return curve, {'strength_gpa': peak, 'strain_at_strength': at, 'initial_modulus_gpa': modulus,
                   'final_strain': float(strain[-1])}


def _evolution(trajectory: Frames, cutoffs: dict, settings: dict) -> tuple[ArrayContent, dict]:
    """N4, 3-rings, bond switching and local deformation by atom class in every frame (frame 0 unstrained)."""
    positions, cells, symbols = trajectory.positions, trajectory.cells, trajectory.symbols
    axes = settings['axes']
    arrays = {'strain': axial_strain(np.diagonal(cells, axis1=1, axis2=2), axes)}
    if 'B' in symbols:
        n_oxygens = coordination_numbers(positions, cells, symbols, 'B', 'O', cutoffs['B'])
        arrays['n4'] = np.mean(n_oxygens == 4, axis=1)
    arrays['three_rings'] = np.array([
        size_counts(frame_rings(p, c, symbols, cutoffs, max_atoms=6), 'formers')[3] for p, c in zip(positions, cells)])
    switching = bond_switching(positions, cells, symbols, cutoffs)
    arrays.update({f'switching_{element}': counts for element, counts in switching.counts.items()})
    neighbourhoods = local_neighbourhoods(positions[0], cells[0], symbols, settings['window_a'])
    gradients = deformation_gradients(neighbourhoods, positions, cells)
    classes = atom_classes(positions[0], cells[0], symbols, cutoffs)
    for name, mean in class_averages(gradients, classes).items():
        arrays[f'local_f_{name}'] = mean
        arrays[f'local_strain_{name}'] = np.mean(mean[:, axes, axes], axis=1) - 1.0
    names, counts = np.unique(classes[classes != ''], return_counts=True)
    class_atoms = {str(n): int(c) for n, c in zip(names, counts)}
    return ArrayContent(arrays, {'switch_classes': list(SWITCH_CLASSES)}), {'class_atoms': class_atoms}


@calcfunction
@returns_exit_codes
def deformation_analysis(thermo: orm.ArrayData, trajectory: orm.TrajectoryData, cutoffs: orm.Dict,
                         settings: orm.Dict) -> dict:
    """Stress-strain curve and structure along the strain of one constant-rate deformation run.

    Parameters
    ----------
    thermo : ArrayData
        The run's thermo (``<stage>_lx`` ... Å, ``<stage>_pxx`` ... bar).
    trajectory : TrajectoryData
        Frames of the deform stage, Å; the first is the unstrained glass.
    cutoffs : Dict
        Bond cutoffs, ``{'B-O': {'value_a': ..., 'source': ...}, ...}`` (``pair_distributions``).
    settings : Dict
        ``stage`` (name of the deform stage), ``axes`` (loaded axes, 0 1 2 for x y z), ``sign``
        (1 tension, -1 compression), ``curve_points`` (strain intervals of the curve),
        ``modulus_strain`` (strain magnitude of the linear fit), ``window_a`` (h of the local
        deformation gradient, Å).

    Returns
    -------
    dict
        ``curve`` (ArrayData: ``strain``, ``stress_gpa`` and ``stress_error_gpa`` per interval, the
        thermo points ``raw_strain``, ``raw_stress_gpa``), ``evolution`` (ArrayData per frame:
        ``strain``, ``n4``, ``three_rings``, ``switching_<former>`` (n_frames, 4) counts in the
        order of attribute ``switch_classes``, ``local_f_<class>`` (n_frames, 3, 3) and
        ``local_strain_<class>`` (F_aa - 1 along the loaded axes) for B3r, B3n, B4r, B4n, Or, On,
        ...), ``properties`` (Dict: ``strength_gpa`` (magnitude), ``strain_at_strength``,
        ``initial_modulus_gpa``, ``final_strain``, ``class_atoms``, ``cutoffs_a``):
        :func:`compute_deformation_analysis`.
    """
    return calcfunction_result(compute_deformation_analysis(
        **plain_inputs(thermo=thermo, trajectory=trajectory, cutoffs=cutoffs, settings=settings)))


def compute_deformation_analysis(thermo: ArrayContent, trajectory: Frames, cutoffs: dict,
                                 settings: dict) -> dict[str, Any]:
    """The outputs of :func:`deformation_analysis` as plain data (``curve``, ``evolution``: ArrayContent;
    ``properties``: dict)."""
    formers = bond_cutoffs_of_formers(cutoffs, trajectory.symbols)
    curve, properties = _curve(thermo, settings)
    evolution, classes = _evolution(trajectory, formers, settings)
    return {'curve': curve, 'evolution': evolution, 'properties': {**properties, **classes, 'cutoffs_a': formers}}


def _common_arrays(nodes: list[orm.ArrayData], what: str) -> dict[str, np.ndarray]:
    """``{array name: (n_runs, ...) stack}`` of the arrays every node holds; ValueError if their shapes differ."""
    names = sorted(set.intersection(*(set(node.get_arraynames()) for node in nodes)))
    stacks = {}
    for name in names:
        arrays = [node.get_array(name) for node in nodes]
        if len({a.shape for a in arrays}) > 1:
            raise ValueError(f'{what}: array {name!r} has other shapes in other runs; average runs of one protocol')
        stacks[name] = np.stack(arrays)
    return stacks


@calcfunction
@returns_exit_codes
def deformation_average(**runs: orm.Data) -> dict:
    """Mean and spread over runs (replicas x directions) of strength, curve and structure along the strain.

    Parameters
    ----------
    **runs : ArrayData or Dict
        ``curve_<run>``, ``evolution_<run>`` and ``properties_<run>`` of :func:`deformation_analysis`
        for every run, of one mode, rate and frame interval.

    Returns
    -------
    dict
        ``average`` (Dict: ``runs`` and, for each of :data:`RUN_QUANTITIES`, ``{'mean', 'std'}``,
        std with ddof 1, None for one run) and ``curves`` (ArrayData: the mean over runs of every
        array of the curves and evolutions that all runs hold, under the same names, and
        ``stress_std_gpa``, the spread of the stress between runs, 0 for one run).
    """
    keys = sorted(label.split('_', 1)[1] for label in runs if label.startswith('properties_'))
    missing = [f'{prefix}_{key}' for key in keys for prefix in AVERAGE_INPUTS if f'{prefix}_{key}' not in runs]
    if not keys or missing:
        raise ValueError(f'runs: give curve_, evolution_ and properties_ of every run; missing {missing or "all"}')
    statistics = replica_statistics([runs[f'properties_{key}'].get_dict() for key in keys], RUN_QUANTITIES)
    curves = orm.ArrayData()
    for prefix in ('curve', 'evolution'):
        for name, stack in _common_arrays([runs[f'{prefix}_{key}'] for key in keys], prefix).items():
            if name in curves.get_arraynames():
                name = f'frame_{name}'  # the frames' strain, beside the curve's
            curves.set_array(name, stack.mean(axis=0))
            if name == 'stress_gpa':
                curves.set_array('stress_std_gpa', stack.std(axis=0, ddof=1) if len(keys) > 1 else np.zeros(stack.shape[1:]))
    return {'average': orm.Dict({'runs': keys, **statistics}), 'curves': curves}
