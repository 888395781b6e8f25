"""Turn AiiDA nodes into what the kernels take: arrays of structures and trajectories, settings; Float inputs."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from aiida import orm

from aiida_boroglass.functions.exit_codes import CalcfunctionError


def is_real(value) -> bool:
    """Whether ``value`` is a finite real number given as int or float (booleans and text excluded)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def is_count(value, lowest: int = 0) -> bool:
    """Whether ``value`` is an integer of at least ``lowest`` (booleans excluded)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= lowest


def structure_of(cell, symbols, positions) -> orm.StructureData:
    """A periodic structure of one kind per element, sites in the given order.

    Kinds are appended once and then the sites (``StructureData.append_atom`` compares each new
    atom with every kind: about 4x slower, 1.2 s at 6400 atoms); the result is the same node.

    Parameters
    ----------
    cell : array_like, shape (3, 3)
        Cell vectors as rows, Å.
    symbols : sequence of str, length n
        Element of every site; it also names the site's kind.
    positions : array_like, shape (n, 3)
        Cartesian positions, Å.
    """
    from aiida.orm.nodes.data.structure import Kind, Site

    structure = orm.StructureData(cell=np.asarray(cell, dtype=float).tolist())
    for symbol in dict.fromkeys(symbols):
        structure.append_kind(Kind(symbols=symbol, name=symbol))
    for symbol, position in zip(symbols, np.asarray(positions, dtype=float).tolist()):
        structure.append_site(Site(kind_name=symbol, position=position))
    return structure


def site_symbols(structure: orm.StructureData) -> list[str]:
    """Element symbol of every site of ``structure``, in site order (kind names may differ)."""
    by_kind = {kind.name: kind.symbol for kind in structure.kinds}
    return [by_kind[name] for name in structure.get_site_kindnames()]


def glass_symbols(node: orm.StructureData | orm.TrajectoryData) -> list[str]:
    """Element of every atom of a structure or trajectory, without loading the positions."""
    return list(node.symbols) if isinstance(node, orm.TrajectoryData) else site_symbols(node)


def glass_cells(node: orm.StructureData | orm.TrajectoryData) -> np.ndarray:
    """Cells of a structure (one) or trajectory (one per frame), shape (n, 3, 3), Å, float64; (0, 3, 3) for none."""
    if isinstance(node, orm.TrajectoryData):
        cells = node.get_cells()
        return np.zeros((0, 3, 3)) if cells is None else np.asarray(cells, dtype=float)
    return np.asarray(node.cell, dtype=float)[None]


def frames_of(node: orm.StructureData | orm.TrajectoryData) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Return positions, cells and element symbols of a structure or trajectory.

    Parameters
    ----------
    node : StructureData or TrajectoryData
        The glass; a trajectory must carry cells.

    Returns
    -------
    positions : np.ndarray, shape (n_frames, n_atoms, 3)
        Cartesian positions, Å, float64 (a float32 trajectory's are converted here, once, so
        that no kernel accumulates in float32: unwrapped displacements, cumulative sums).
    cells : np.ndarray, shape (n_frames, 3, 3)
        Cell vectors as rows, Å, float64.
    symbols : list of str, length n_atoms
        Element of each atom.
    """
    if isinstance(node, orm.TrajectoryData):
        cells = node.get_cells()
        if cells is None:
            raise CalcfunctionError('ERROR_TRAJECTORY_WITHOUT_CELLS', 'trajectory: has no cells; periodic analysis needs them')
        return np.asarray(node.get_positions(), dtype=float), np.asarray(cells, dtype=float), list(node.symbols)
    positions = np.array([site.position for site in node.sites])[None]
    return positions, np.array(node.cell)[None], site_symbols(node)


def parameter_error(message: str) -> CalcfunctionError:
    """The error to raise for a bad key or value of a ``parameters`` Dict (``ERROR_INVALID_PARAMETERS``)."""
    return CalcfunctionError('ERROR_INVALID_PARAMETERS', message)


def to_float(value) -> orm.Data:
    """Serializer of Float ports: a Python number (also an int such as ``2``) becomes a ``Float``.

    ``orm.to_aiida_type`` makes an ``Int`` of ``2``, which a Float port refuses; nodes
    pass unchanged (the port's type check judges them).
    """
    if isinstance(value, orm.Data):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return orm.Float(value)
    return orm.to_aiida_type(value)


def validate_max_concurrent(value: orm.Int, _) -> str | None:
    """Port validator of ``max_concurrent``: at least one sub-process at a time."""
    return None if value.value >= 1 else f'max_concurrent: must be >= 1, got {value.value}'


def range_validator(name: str, bounds: tuple[float, float], unit: str):
    """A port validator refusing a Float outside the closed interval ``bounds`` (in ``unit``), naming ``name``."""

    def validate(value, _):
        """Refuse a value outside the interval."""
        if value is not None and not bounds[0] <= value.value <= bounds[1]:
            return f'{name}: {value.value} {unit} is outside [{bounds[0]}, {bounds[1]}] {unit}'
        return None

    return validate


def with_defaults(parameters: orm.Dict | Mapping | None, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` updated by ``parameters`` (a Dict, a mapping or None).

    Raises
    ------
    CalcfunctionError
        ``ERROR_INVALID_PARAMETERS``: a key of ``parameters`` not in ``defaults``; the
        message lists the allowed keys.
    """
    given = dict(parameters.get_dict() if isinstance(parameters, orm.Dict) else parameters or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise parameter_error(f'parameters: unknown key(s) {unknown}; allowed: {sorted(defaults)}')
    return {**defaults, **given}


def check_integers(settings: Mapping[str, Any], lowest: Mapping[str, int]) -> None:
    """Check that ``settings[key]`` is an integer (not a bool) >= ``lowest[key]`` for every key.

    Raises
    ------
    CalcfunctionError
        ``ERROR_INVALID_PARAMETERS``, naming ``parameters.<key>`` and the allowed range.
    """
    for key, low in lowest.items():
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            allowed = 'a positive integer' if low == 1 else f'an integer >= {low}'
            raise parameter_error(f'parameters.{key} must be {allowed}, got {value!r}')


def check_positive_numbers(settings: Mapping[str, Any], keys) -> None:
    """Check that ``settings[key]`` is a number (not a bool) > 0 for every key in ``keys``.

    Raises
    ------
    CalcfunctionError
        ``ERROR_INVALID_PARAMETERS``, naming ``parameters.<key>``.
    """
    for key in keys:
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise parameter_error(f'parameters.{key} must be a positive number, got {value!r}')


def require_elements(symbols, analysis: str, needed=(), any_of=()) -> None:
    """Check that a glass holds the elements an analysis needs.

    Parameters
    ----------
    symbols : iterable of str
        Elements of the glass.
    analysis : str
        What needs them, for the message (e.g. ``'N4'``).
    needed : iterable of str
        Elements that must all be present.
    any_of : iterable of str
        Elements of which at least one must be present (e.g. the network formers).

    Raises
    ------
    CalcfunctionError
        ``ERROR_MISSING_ELEMENT``, naming the missing elements and those present.
    """
    present = sorted(set(symbols))
    missing = sorted(set(needed) - set(present))
    if any_of and not set(any_of) & set(present):
        missing.append(' or '.join(any_of))
    if missing:
        raise CalcfunctionError('ERROR_MISSING_ELEMENT',
                                f'glass: {analysis} needs {", ".join(missing)}; the glass holds {present}')


def inputs_by_role(nodes: Mapping[str, orm.Data], roles: tuple[str, ...], field: str) -> dict[str, dict[str, orm.Data]]:
    """``{'<key>__<role>': node}`` (a calcfunction's ``**`` inputs) -> ``{key: {role: node}}``; every key needs every role.

    Parameters
    ----------
    nodes : Mapping
        The inputs, labelled ``<key>__<role>``.
    roles : tuple of str
        The roles each key must have, no other.
    field : str
        The inputs' name for the message (``'glasses'``).

    Raises
    ------
    CalcfunctionError
        ``ERROR_INCOMPLETE_GLASSES`` naming the keys that lack a role or have another, or no input at all.
    """
    grouped: dict[str, dict[str, orm.Data]] = {}
    for name, node in nodes.items():
        key, _, role = name.rpartition('__')
        grouped.setdefault(key, {})[role] = node
    incomplete = sorted(key for key, found in grouped.items() if set(found) != set(roles))
    if incomplete or not grouped:
        wanted = ' and '.join(f'<key>__{role}' for role in roles)
        raise CalcfunctionError('ERROR_INCOMPLETE_GLASSES', f'{field}: each needs {wanted}; incomplete: {incomplete}')
    return grouped
