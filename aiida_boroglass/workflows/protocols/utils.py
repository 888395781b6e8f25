"""Read protocol YAML files: ``default_inputs``, ``default_protocol`` and ``protocols``."""
from __future__ import annotations

import copy
import pathlib
from collections.abc import Mapping

import yaml

PROTOCOL_DIRECTORY = pathlib.Path(__file__).parent


def recursive_merge(base: Mapping, update: Mapping) -> dict:
    """Return ``base`` updated by ``update``, merging nested mappings key by key (inputs untouched)."""
    merged = copy.deepcopy(dict(base))
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = recursive_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def unknown_override(defaults: Mapping, overrides: Mapping, open_sections=(), prefix: str = '') -> str | None:
    """A message naming the first key of ``overrides`` that ``defaults`` does not have, or None.

    Nested mappings are compared key by key, except the sections named in ``open_sections``
    (top-level keys whose contents the workflow's port validators check, e.g. ``md``) and
    those whose default is empty or None (free-form).

    Parameters
    ----------
    defaults : Mapping
        The protocol file's ``default_inputs`` (or one of its sections).
    overrides : Mapping
        The user's overrides at the same level.
    open_sections : iterable of str
        Top-level keys not compared.
    prefix : str
        Dotted path of this level, for the message.

    Returns
    -------
    str or None
        ``unknown key 'schedule.melt'; allowed in schedule: melt_ps, ...`` for the first
        unknown key, None when every key is known.
    """
    for key, value in overrides.items():
        path = f'{prefix}{key}'
        if key not in defaults:
            allowed = ', '.join(sorted(str(k) for k in defaults))
            return f'unknown key {path!r}; allowed{" in " + prefix[:-1] if prefix else ""}: {allowed}'
        default = defaults[key]
        if path in open_sections or not isinstance(value, Mapping) or not isinstance(default, Mapping) or not default:
            continue
        message = unknown_override(default, value, open_sections, f'{path}.')
        if message:
            return message
    return None


class ProtocolMixin:
    """Give a workflow ``get_protocol_inputs`` from the YAML file named by ``_protocol_file``."""

    _protocol_file: str
    #: Sections of ``default_inputs`` whose keys the port validators check (any key may be overridden there).
    _protocol_open_sections: tuple[str, ...] = ()

    @classmethod
    def _load_protocol_file(cls) -> dict:
        """Return the parsed YAML protocol file of the workflow."""
        with (PROTOCOL_DIRECTORY / cls._protocol_file).open() as handle:
            return yaml.safe_load(handle)

    @classmethod
    def get_default_protocol(cls) -> str:
        """Return the name of the default protocol."""
        return cls._load_protocol_file()['default_protocol']

    @classmethod
    def get_available_protocols(cls) -> dict[str, dict]:
        """Return each protocol's ``description`` and ``estimated_cost``."""
        return {
            name: {'description': p['description'], 'estimated_cost': p.get('estimated_cost')}
            for name, p in cls._load_protocol_file()['protocols'].items()
        }

    @classmethod
    def get_protocol_inputs(cls, protocol: str | None = None, overrides: Mapping | None = None) -> dict:
        """Return ``default_inputs`` merged with the protocol and then with ``overrides``.

        Raises
        ------
        ValueError
            If ``protocol`` is not defined in the file (the message lists the protocols), or
            ``overrides`` has a key the protocol file does not (the message names it).
        """
        data = cls._load_protocol_file()
        message = unknown_override(data['default_inputs'], overrides or {}, cls._protocol_open_sections)
        if message:
            raise ValueError(f'overrides: {message}')
        protocol = protocol or data['default_protocol']
        if protocol not in data['protocols']:
            raise ValueError(f'protocol: {protocol!r} is not one of {sorted(data["protocols"])}')
        values = {k: v for k, v in data['protocols'][protocol].items() if k not in ('description', 'estimated_cost')}
        inputs = recursive_merge(data['default_inputs'], values)
        return recursive_merge(inputs, overrides or {})
