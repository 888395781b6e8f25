"""Turn AiiDA nodes into what the kernels take: arrays of structures and trajectories, settings."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from aiida import orm


def site_symbols(structure: orm.StructureData) -> list[str]:
    """Element symbol of every site of ``structure``, in site order (kind names may differ)."""
    by_kind = {kind.name: kind.symbol for kind in structure.kinds}
    return [by_kind[name] for name in structure.get_site_kindnames()]


def frames_of(node: orm.StructureData | orm.TrajectoryData) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Return positions, cells and element symbols of a structure or trajectory.

    Parameters
    ----------
    node : StructureData or TrajectoryData
        The glass; a trajectory must carry cells.

    Returns
    -------
    positions : np.ndarray, shape (n_frames, n_atoms, 3)
        Cartesian positions, Å.
    cells : np.ndarray, shape (n_frames, 3, 3)
        Cell vectors as rows, Å.
    symbols : list of str, length n_atoms
        Element of each atom.
    """
    if isinstance(node, orm.TrajectoryData):
        cells = node.get_cells()
        if cells is None:
            raise ValueError('trajectory: has no cells; periodic analysis needs them')
        return node.get_positions(), cells, list(node.symbols)
    positions = np.array([site.position for site in node.sites])[None]
    return positions, np.array(node.cell)[None], site_symbols(node)


def with_defaults(parameters: orm.Dict | Mapping | None, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` updated by ``parameters`` (a Dict, a mapping or None).

    Raises
    ------
    ValueError
        A key of ``parameters`` not in ``defaults``; the message lists the allowed keys.
    """
    given = dict(parameters.get_dict() if isinstance(parameters, orm.Dict) else parameters or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(f'parameters: unknown key(s) {unknown}; allowed: {sorted(defaults)}')
    return {**defaults, **given}


def check_integers(settings: Mapping[str, Any], lowest: Mapping[str, int]) -> None:
    """Check that ``settings[key]`` is an integer (not a bool) >= ``lowest[key]`` for every key.

    Raises
    ------
    ValueError
        Naming ``parameters.<key>`` and the allowed range.
    """
    for key, low in lowest.items():
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            allowed = 'a positive integer' if low == 1 else f'an integer >= {low}'
            raise ValueError(f'parameters.{key} must be {allowed}, got {value!r}')


def check_positive_numbers(settings: Mapping[str, Any], keys) -> None:
    """Check that ``settings[key]`` is a number (not a bool) > 0 for every key in ``keys``.

    Raises
    ------
    ValueError
        Naming ``parameters.<key>``.
    """
    for key in keys:
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f'parameters.{key} must be a positive number, got {value!r}')
