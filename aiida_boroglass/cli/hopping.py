"""Inputs of ``aiida-boroglass hopping``: measured units, structure-panel units and experiment files."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aiida_boroglass.cli.errors import Refusal
from aiida_boroglass.cli.overrides import read_yaml_mapping


def units_by_key(path: Path, x_of_key: Mapping[str, float]) -> dict[str, dict]:
    """Measured units per composition key from a YAML file ``{x: {B4: ..., P2: ...}}``.

    Raises
    ------
    Refusal
        Naming ``--units``: a key that is not a number, or an x of ``--x`` without an entry.
    """
    try:
        data = {float(x): units for x, units in read_yaml_mapping(path, '--units').items()}
    except (TypeError, ValueError):
        raise Refusal(f'{path} must map x values (numbers) to units', '--units') from None
    missing = [x for x in x_of_key.values() if not any(abs(x - given) < 1e-6 for given in data)]
    if missing:
        raise Refusal(f'{path} has no units for x = {missing}', '--units')
    return {key: next(units for given, units in data.items() if abs(x - given) < 1e-6) for key, x in x_of_key.items()}


def panel_units(panels: Sequence, labels: Mapping[str, str]):
    """The ``network_units`` Dicts of finished structure panels, one per composition key (in order).

    Parameters
    ----------
    panels : sequence of WorkflowNode
        ``boroglass.structure_panel`` workflows.
    labels : mapping of str to str
        Composition key -> composition label, in the order of the PKs.

    Returns
    -------
    dict of str to orm.Dict

    Raises
    ------
    Refusal
        Naming ``--from-panel``: wrong count, a node that is not a finished panel, or a panel
        whose glass was made for another composition.
    """
    if len(panels) != len(labels):
        raise Refusal(f'give one panel per --x value ({len(labels)}), got {len(panels)}', '--from-panel')
    found = {}
    for (key, label), node in zip(labels.items(), panels):
        if not (node.is_finished_ok and 'network_units' in node.outputs):
            raise Refusal(f'{node.pk} is not a finished structure panel with network_units', '--from-panel')
        made_for = _glass_composition(node)
        if made_for is not None and made_for != label:
            raise Refusal(f'panel {node.pk} analysed a {made_for} glass, not {label}', '--from-panel')
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
