"""Calcfunctions of the elastic workflow: strained cells, elastic constants, the replica average.

Each wraps kernels of :mod:`aiida_boroglass.analysis.mechanics.elastic`. Pressure tensors
come from the LAMMPS runs of ``boroglass.elastic`` in the frame of their input structure,
GPa, positive under compression: the ``labels`` (``stress_gpa``) of a ``single_point`` stage
or the ``results`` (``stress_average_gpa``) of an ``average_stress`` stage.
"""
from __future__ import annotations

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.analysis.mechanics.elastic import elastic_properties, strain_cell
from aiida_boroglass.functions.exit_codes import returns_exit_codes
from aiida_boroglass.glass.replicas import replica_statistics

#: Quantities of ``elastic_properties`` averaged over replicas (units in the keys).
REPLICA_ELASTIC_QUANTITIES = ('youngs_modulus_gpa', 'poisson_ratio', 'bulk_modulus_hill_gpa', 'shear_modulus_hill_gpa',
                              'c11_gpa', 'c12_gpa', 'c44_gpa', 'universal_anisotropy')


def pressure_tensor(node: orm.ArrayData | orm.Dict) -> np.ndarray:
    """The pressure tensor a LAMMPS run reports, shape (3, 3), GPa, positive under compression.

    Parameters
    ----------
    node : ArrayData or Dict
        ``labels`` of a ``single_point`` stage (array ``stress_gpa``) or ``results`` of a run
        with one ``average_stress`` stage (``stress_average_gpa``: stage name -> tensor).

    Raises
    ------
    ValueError
        A node with neither, or with more than one averaged stage.
    """
    if isinstance(node, orm.ArrayData) and 'stress_gpa' in node.get_arraynames():
        return node.get_array('stress_gpa')
    averages = node.get('stress_average_gpa', {}) if isinstance(node, orm.Dict) else {}
    if len(averages) != 1:
        raise ValueError(f'pressures: {node.__class__.__name__}<{node.pk}> holds no single stress '
                         '(stress_gpa labels or one stress_average_gpa stage)')
    return np.asarray(next(iter(averages.values())), dtype=float)


@calcfunction
@returns_exit_codes
def strained_structures(structure: orm.StructureData, strains: orm.Dict) -> dict[str, orm.StructureData]:
    """The structure deformed affinely by each Voigt strain of ``strains``.

    Parameters
    ----------
    structure : StructureData
        The relaxed reference cell, Å.
    strains : Dict
        Cell key -> Voigt strain (6 numbers, engineering shears), dimensionless.

    Returns
    -------
    dict of str to StructureData
        One strained copy per key (kinds and atom order kept).
    """
    positions = np.array([site.position for site in structure.sites])
    result = {}
    for key, voigt in strains.get_dict().items():
        new_positions, new_cell = strain_cell(positions, structure.cell, voigt)
        strained = structure.clone()
        strained.reset_cell(new_cell.tolist())
        strained.reset_sites_positions(new_positions.tolist())
        result[key] = strained
    return result


@calcfunction
@returns_exit_codes
def elastic_constants(strains: orm.Dict, **pressures: orm.ArrayData | orm.Dict) -> orm.Dict:
    """Elastic constants, isotropic moduli and anisotropy of one cell from its strained copies.

    Parameters
    ----------
    strains : Dict
        Cell key -> Voigt strain (6 numbers, engineering shears), dimensionless.
    **pressures : ArrayData or Dict
        Cell key -> what its LAMMPS run reports (see :func:`pressure_tensor`); the same keys
        as ``strains``.

    Returns
    -------
    Dict
        :func:`~aiida_boroglass.analysis.mechanics.elastic.elastic_properties` (GPa; stress
        positive in tension) and ``cells`` (the keys, in fit order).
    """
    voigt = strains.get_dict()
    if set(voigt) != set(pressures):
        raise ValueError(f'pressures: keys {sorted(pressures)} differ from the strained cells {sorted(voigt)}')
    keys = sorted(voigt)
    properties = elastic_properties(np.array([voigt[key] for key in keys]),
                                    np.array([pressure_tensor(pressures[key]) for key in keys]))
    return orm.Dict({**properties, 'cells': keys})


@calcfunction
@returns_exit_codes
def elastic_replica_average(**elastic: orm.Dict) -> orm.Dict:
    """Mean and sample standard deviation (ddof 1) of the elastic moduli over replicas.

    Parameters
    ----------
    **elastic : Dict
        Replica key -> :func:`elastic_constants` output.

    Returns
    -------
    Dict
        ``replicas`` (the keys) and, for each of :data:`REPLICA_ELASTIC_QUANTITIES`,
        ``{'mean': float, 'std': float or None}`` (None for one replica); units in the keys.
    """
    keys = sorted(elastic)
    statistics = replica_statistics([elastic[key].get_dict() for key in keys], REPLICA_ELASTIC_QUANTITIES)
    return orm.Dict({'replicas': keys, **statistics})
