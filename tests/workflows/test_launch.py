"""Launching a child once across a restart: the provenance a dead worker leaves behind, built by hand.

A worker that dies inside a step leaves the children that step submitted (started or not) linked
to the workflow under their call-link labels; the resumed step runs again. ``submit_once`` must
wait for a started child, seal a never-started one as abandoned and launch anew, and launch
normally the first time.
"""
import pytest
from aiida import orm
from aiida.common.links import LinkType
from plumpy.process_states import ProcessState

from aiida_boroglass.workflows.launch import ABANDONED, call_link_label, earlier_children, submit_once


class Step:
    """What ``submit_once`` uses of a running WorkChain: its node, ``report`` and ``submit``."""

    def __init__(self, node):
        self.node = node
        self.reports = []
        self.submitted = []

    def report(self, message):
        self.reports.append(message)

    def submit(self, process, **inputs):
        self.submitted.append((process, inputs))
        return 'new child'


def workflow_with_children(states: dict) -> orm.WorkflowNode:
    """A stored workflow node with one calculation child per ``label: process state`` (None: no state)."""
    workflow = orm.WorkflowNode().store()
    for label, state in states.items():
        child = orm.CalcJobNode()
        child.set_process_type('aiida.calculations:core.arithmetic.add')
        child.base.links.add_incoming(workflow, link_type=LinkType.CALL_CALC, link_label=label)
        child.store()
        if state is not None:
            child.set_process_state(state)
    return workflow


def metadata(label):
    return {'metadata': {'call_link_label': label}}


def test_a_first_launch_submits(aiida_profile):
    step = Step(workflow_with_children({'frame_00001': ProcessState.FINISHED}))
    assert submit_once(step, 'Process', **metadata('frame_00002')) == 'new child'
    assert step.submitted == [('Process', metadata('frame_00002'))]
    assert not step.reports


@pytest.mark.parametrize('state', [ProcessState.WAITING, ProcessState.RUNNING, ProcessState.FINISHED,
                                   ProcessState.EXCEPTED])
def test_a_child_that_started_before_the_restart_is_waited_for(aiida_profile, state):
    workflow = workflow_with_children({'frame_00001': state})
    step = Step(workflow)
    child = submit_once(step, 'Process', **metadata('frame_00001'))
    assert child.pk == earlier_children(workflow, 'frame_00001')[0].pk
    assert child.process_state == state
    assert not step.submitted
    assert f'<{child.pk}> was launched before the restart' in step.reports[0]


@pytest.mark.parametrize('state', [None, ProcessState.CREATED])
def test_a_child_that_never_started_is_abandoned_and_launched_again(aiida_profile, state):
    workflow = workflow_with_children({'frame_00001': state})
    step = Step(workflow)
    assert submit_once(step, 'Process', **metadata('frame_00001')) == 'new child'
    [stale] = earlier_children(workflow, 'frame_00001')
    assert stale.process_state == ProcessState.KILLED
    assert stale.process_status == ABANDONED
    assert stale.is_sealed
    assert len(step.submitted) == 1


def test_after_two_restarts_the_started_child_is_waited_for_and_the_abandoned_one_left_alone(aiida_profile):
    """The first restart abandoned a child that never started; the second finds its replacement running."""
    workflow = workflow_with_children({'frame_00001': None})
    [stale] = earlier_children(workflow, 'frame_00001')
    submit_once(Step(workflow), 'Process', **metadata('frame_00001'))
    replacement = orm.CalcJobNode()
    replacement.base.links.add_incoming(workflow, link_type=LinkType.CALL_CALC, link_label='frame_00001')
    replacement.store()
    replacement.set_process_state(ProcessState.RUNNING)
    step = Step(workflow)
    assert submit_once(step, 'Process', **metadata('frame_00001')).pk == replacement.pk
    assert stale.process_state == ProcessState.KILLED
    assert not step.submitted


def test_a_restart_before_the_replacement_was_created_launches_it(aiida_profile):
    """Only the abandoned child exists: it is not waited for (it will never run) and not touched again."""
    workflow = workflow_with_children({'frame_00001': ProcessState.CREATED})
    submit_once(Step(workflow), 'Process', **metadata('frame_00001'))
    step = Step(workflow)
    assert submit_once(step, 'Process', **metadata('frame_00001')) == 'new child'
    assert len(step.submitted) == 1
    assert not step.reports


@pytest.mark.parametrize('inputs', [{}, {'metadata': {}}, {'metadata': {'call_link_label': 'CALL'}}])
def test_a_child_without_its_own_label_is_refused(inputs):
    with pytest.raises(ValueError, match='call_link_label'):
        call_link_label('Process', inputs)
