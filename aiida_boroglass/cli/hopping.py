"""Inputs of ``aiida-boroglass hopping``: measured units, structure-panel units and experiment files."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import click
import yaml


def read_yaml_mapping(path: Path, option: str) -> dict:
    """The mapping in a YAML file; ``click.BadParameter`` naming ``option`` otherwise."""
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise click.BadParameter(f'{path} must hold a YAML mapping', param_hint=option)
    return data


def units_by_key(path: Path, x_of_key: Mapping[str, float]) -> dict[str, dict]:
    """Measured units per composition key from a YAML file ``{x: {B4: ..., P2: ...}}``.

    Raises
    ------
    click.BadParameter
        Naming ``--units`` when an x of ``--x`` has no entry.
    """
    data = {float(x): units for x, units in read_yaml_mapping(path, '--units').items()}
    missing = [x for x in x_of_key.values() if not any(abs(x - given) < 1e-6 for given in data)]
    if missing:
        raise click.BadParameter(f'{path} has no units for x = {missing}', param_hint='--units')
    return {key: next(units for given, units in data.items() if abs(x - given) < 1e-6) for key, x in x_of_key.items()}


def panel_units(text: str, labels: Mapping[str, str]):
    """The ``network_units`` Dicts of finished structure panels, one PK per composition key (in order).

    Parameters
    ----------
    text : str
        Comma-separated PKs of ``boroglass.structure_panel`` workflows.
    labels : mapping of str to str
        Composition key -> composition label, in the order of the PKs.

    Returns
    -------
    dict of str to orm.Dict

    Raises
    ------
    click.BadParameter
        Naming ``--from-panel``: wrong count, a node that is not a finished panel, or a panel
        whose glass was made for another composition.
    """
    from aiida import orm

    pks = [token.strip() for token in text.split(',') if token.strip()]
    if len(pks) != len(labels):
        raise click.BadParameter(f'give one panel per --x value ({len(labels)}), got {len(pks)}',
                                 param_hint='--from-panel')
    found = {}
    for (key, label), pk in zip(labels.items(), pks):
        node = orm.load_node(pk)
        if not (isinstance(node, orm.WorkflowNode) and node.is_finished_ok and 'network_units' in node.outputs):
            raise click.BadParameter(f'{pk} is not a finished structure panel with network_units',
                                     param_hint='--from-panel')
        made_for = _glass_composition(node)
        if made_for is not None and made_for != label:
            raise click.BadParameter(f'panel {pk} analysed a {made_for} glass, not {label}', param_hint='--from-panel')
        found[key] = node.outputs.network_units
    return found


def _glass_composition(panel) -> str | None:
    """Label of the composition the panel's glass was made from, if its provenance holds one."""
    from aiida import orm

    from aiida_boroglass.data.composition import CompositionData

    query = orm.QueryBuilder()
    query.append(orm.Node, filters={'id': panel.inputs.glass.pk}, tag='glass')
    query.append(CompositionData, with_descendants='glass', project='*')
    compositions = {node.composition.label for node, in query.iterall()}
    return compositions.pop() if len(compositions) == 1 else None
