"""YAML files of the command line: read as a mapping, and protocol overrides checked key by key.

An overrides file replaces values of a workflow's protocol (the keys of its YAML
``default_inputs``). Each key is checked against the protocol before anything is built: an
unknown key (a typo) or a value of the wrong kind is refused naming the key and what it
takes. Integers are accepted where a number is expected (``density_g_cm3: 2`` is 2.0).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import yaml

from aiida_boroglass.cli.errors import Refusal
from aiida_boroglass.workflows.protocols.utils import unknown_override


def read_yaml_mapping(path: Path, option: str) -> dict:
    """The mapping held by the YAML file ``path`` (an empty file is an empty mapping).

    Raises
    ------
    Refusal
        Naming ``option``: the file is not valid YAML (with the line and column) or does not
        hold a mapping.
    """
    try:
        data = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as error:
        mark = getattr(error, 'problem_mark', None)
        where = f' at line {mark.line + 1}, column {mark.column + 1}' if mark else ''
        raise Refusal(f'{path} is not valid YAML{where}: {getattr(error, "problem", None) or error}', option) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise Refusal(f'{path} must hold a YAML mapping of keys to values, not a {type(data).__name__}', option)
    return data


def read_overrides(path: Path | None, reference: Mapping, option: str) -> dict:
    """The overrides in ``path`` (none: empty), checked against the protocol inputs ``reference``.

    See :func:`checked_overrides`.
    """
    return checked_overrides(read_yaml_mapping(path, option), reference, option) if path else {}


def checked_overrides(values: Mapping, reference: Mapping, option: str, prefix: str = '') -> dict:
    """``values`` checked key by key against the protocol inputs ``reference``, numbers made floats.

    Parameters
    ----------
    values : Mapping
        The overrides, nested like ``reference``.
    reference : Mapping
        The protocol's inputs (``default_inputs`` merged with the protocol): the allowed
        keys, and by their values the kind each key takes. A key whose reference is
        ``null`` or an empty mapping is free-form (the workflow checks it), except that an
        integer there becomes a float (those keys are quantities in units).
    option : str
        The command-line option that gave the file, named in a refusal.
    prefix : str
        Dotted path of ``values`` inside the overrides, for messages.

    Returns
    -------
    dict
        The overrides with integers made floats where a number is expected.

    Raises
    ------
    Refusal
        An unknown key (listing the allowed ones, see
        :func:`~aiida_boroglass.workflows.protocols.utils.unknown_override`; no section is
        open here) or a value of the wrong kind (naming the dotted key and the kind it takes).
    """
    unknown = unknown_override(reference, values, prefix=prefix)
    if unknown:
        raise Refusal(unknown, option)
    return {key: _checked_value(value, reference[key], f'{prefix}{key}', option) for key, value in values.items()}


def _checked_value(value, default, name: str, option: str):
    """``value`` checked against the kind of the protocol value ``default`` (see :func:`checked_overrides`)."""
    if isinstance(default, Mapping) and default:
        if not isinstance(value, Mapping):
            raise Refusal(f'{name}: must be a mapping of {", ".join(sorted(map(str, default)))}, got {value!r}', option)
        return checked_overrides(value, default, option, f'{name}.')
    if default is None or isinstance(default, Mapping):
        return float(value) if _is_integer(value) else value
    if isinstance(default, list):
        if not isinstance(value, list):
            raise Refusal(f'{name}: must be a list, got {value!r}', option)
        return [_checked_value(item, _list_item(default), f'{name}[{k}]', option) for k, item in enumerate(value)] \
            if default else value
    return _checked_scalar(value, default, name, option)


def _list_item(default: list):
    """What an item of a protocol list may hold: the keys of all its mapping items (an item may add one, e.g. a
    quench's ``temperature_end_k``), else the kind of its first item."""
    if all(isinstance(item, Mapping) for item in default):
        return {key: value for item in default for key, value in item.items()}
    return default[0]


def _checked_scalar(value, default, name: str, option: str):
    """``value`` of the kind of ``default``: true/false, an integer, a finite number (float) or a string."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise Refusal(f'{name}: must be true or false, got {value!r}', option)
        return value
    if isinstance(default, int):
        if not _is_integer(value):
            raise Refusal(f'{name}: must be an integer, got {value!r}', option)
        return value
    if isinstance(default, float):
        if not (_is_integer(value) or isinstance(value, float)) or not math.isfinite(value):
            raise Refusal(f'{name}: must be a number, got {value!r}', option)
        return float(value)
    if not isinstance(value, type(default)):
        raise Refusal(f'{name}: must be a {type(default).__name__}, got {value!r}', option)
    return value


def _is_integer(value) -> bool:
    """Whether ``value`` is an int and not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)
