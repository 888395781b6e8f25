"""Launch a workflow's children once, across a restart of the worker that runs the workflow.

AiiDA checkpoints a WorkChain after each step. A worker that dies inside a step that submitted
children leaves those children alive (each has its own checkpoint and task) while the resumed
WorkChain runs the step again from its last checkpoint and would submit every child a second
time: one DFT single point per frame becomes two. :func:`submit_once` finds the child the step
submitted before under the same call-link label and waits for it instead.
"""
from typing import Any

from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import ProcessBuilder, WorkChain
from plumpy.process_states import ProcessState

CALL_LINKS = (LinkType.CALL_CALC, LinkType.CALL_WORK)
NOT_STARTED = (None, ProcessState.CREATED)
ABANDONED = 'abandoned before it started: the workflow that created it was restarted and launched it again'


def earlier_children(node: orm.WorkflowNode, label: str) -> list[orm.ProcessNode]:
    """The processes ``node`` called under the call-link ``label``, oldest first.

    Parameters
    ----------
    node : WorkflowNode
        The calling workflow.
    label : str
        The call-link label (``metadata.call_link_label`` of the child).

    Returns
    -------
    list of ProcessNode
        Length 0 for a first launch; more only after a restart.
    """
    children = node.base.links.get_outgoing(link_type=CALL_LINKS, link_label_filter=label).all_nodes()
    return sorted(children, key=lambda child: child.pk)


def started(child: orm.ProcessNode) -> bool:
    """Whether a worker ever ran ``child`` (any state past CREATED, terminal states included, but
    not a child :func:`abandon` sealed)."""
    return child.process_state not in NOT_STARTED and child.process_status != ABANDONED


def abandon(child: orm.ProcessNode) -> None:
    """Seal a child that never started as killed, so that its queued task, if any, does nothing.

    A daemon worker does not continue a process whose node is terminated.
    """
    child.set_process_state(ProcessState.KILLED)
    child.set_process_status(ABANDONED)
    child.seal()


def call_link_label(process: Any, inputs: dict) -> str:
    """The ``metadata.call_link_label`` of a builder or of keyword inputs; a child without one is refused."""
    metadata = process.metadata if isinstance(process, ProcessBuilder) else inputs.get('metadata', {})
    label = metadata.get('call_link_label') if hasattr(metadata, 'get') else None
    if not label or label == 'CALL':
        raise ValueError('submit_once needs a unique metadata.call_link_label per child')
    return label


def submit_once(workchain: WorkChain, process: Any, **inputs) -> orm.ProcessNode:
    """Submit a child of ``workchain``, or return the one an earlier run of this step already started.

    Parameters
    ----------
    workchain : WorkChain
        The running workflow (``self`` in a step).
    process : Process class or ProcessBuilder
        What :meth:`WorkChain.submit` takes; its ``metadata.call_link_label`` must be unique
        within the workflow, since it identifies the child across a restart.
    **inputs
        Inputs of ``process`` when it is a class.

    Returns
    -------
    ProcessNode
        The child to wait for. Children the earlier run created but no worker started are
        sealed as killed (:func:`abandon`) before the new one is submitted.
    """
    label = call_link_label(process, inputs)
    earlier = earlier_children(workchain.node, label)
    running = [child for child in earlier if started(child)]
    if running:
        workchain.report(f'{label}: {running[-1].process_label}<{running[-1].pk}> was launched before the restart; '
                         'waiting for it instead of launching it again')
        return running[-1]
    for child in earlier:
        if child.is_sealed:
            continue
        abandon(child)
        workchain.report(f'{label}: {child.process_label}<{child.pk}> never started; abandoned and launched again')
    return workchain.submit(process, **inputs)
