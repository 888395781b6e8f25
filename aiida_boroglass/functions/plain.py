"""AiiDA nodes <-> the plain data of the analyses (:mod:`aiida_boroglass.analysis.job`).

An analysis that may run as a job is a pure function ``compute_<name>`` of plain data
(:class:`~aiida_boroglass.analysis.job.Frames`, :class:`~aiida_boroglass.analysis.job.ArrayContent`,
:class:`~aiida_boroglass.glass.composition.Composition`, dict, str, numbers) returning
``{output label: plain value}``. Its calcfunction ``<name>`` and the
parser of the job both turn those values into nodes with :func:`output_nodes`, so the two
routes store the same nodes.
"""
from __future__ import annotations

from typing import Any, Mapping

from aiida import orm
from aiida.engine.processes.functions import FunctionProcess

from aiida_boroglass.analysis.job import ArrayContent, Frames
from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.functions.utils import frames_of


def plain_of(node: orm.Data) -> Any:
    """The plain value of an input node: a glass (structure or trajectory) -> Frames (with the
    trajectory's ``times``, ps, where it has them), ArrayData -> ArrayContent (every array and
    the attributes other than the array shapes), Dict -> dict, Str -> str, Float / Int -> float
    / int, CompositionData -> Composition.

    Raises
    ------
    CalcfunctionError
        ``ERROR_TRAJECTORY_WITHOUT_CELLS`` for a trajectory without cells.
    TypeError
        Another node type.
    """
    if isinstance(node, orm.StructureData):
        return Frames(*frames_of(node))
    if isinstance(node, orm.TrajectoryData):
        return Frames(*frames_of(node), node.get_array('times') if 'times' in node.get_arraynames() else None)
    if isinstance(node, orm.ArrayData):
        attributes = {key: value for key, value in node.base.attributes.all.items() if not key.startswith('array|')}
        return ArrayContent({name: node.get_array(name) for name in node.get_arraynames()}, attributes)
    if isinstance(node, orm.Dict):
        return node.get_dict()
    if isinstance(node, (orm.Str, orm.Float, orm.Int)):
        return node.value
    if isinstance(node, CompositionData):
        return node.composition
    raise TypeError(f'{type(node).__name__} has no plain form for an analysis')


def plain_inputs(**nodes: orm.Data) -> dict[str, Any]:
    """``{label: plain_of(node)}``."""
    return {label: plain_of(node) for label, node in nodes.items()}


def node_of(value: Any) -> orm.Data:
    """The node of a plain output value: ArrayContent -> ArrayData, dict -> Dict."""
    if isinstance(value, ArrayContent):
        node = orm.ArrayData()
        for name, array in value.arrays.items():
            node.set_array(name, array)
        node.base.attributes.set_many(value.attributes)
        return node
    if isinstance(value, dict):
        return orm.Dict(value)
    raise TypeError(f'{type(value).__name__} is not a plain analysis output')


def output_nodes(outputs: Mapping[str, Any]) -> dict[str, orm.Data]:
    """``{label: node_of(value)}`` of the outputs of a ``compute_<name>`` function."""
    return {label: node_of(value) for label, value in outputs.items()}


def calcfunction_result(outputs: Mapping[str, Any]) -> orm.Data | dict[str, orm.Data]:
    """What a calcfunction returns for these outputs: the node itself for a lone ``result``, else the dict."""
    nodes = output_nodes(outputs)
    return nodes[FunctionProcess.SINGLE_OUTPUT_LINKNAME] if set(nodes) == {FunctionProcess.SINGLE_OUTPUT_LINKNAME} else nodes
