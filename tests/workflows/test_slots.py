"""Busy slots: a queued child starts as soon as any running one ends, never more than max_concurrent at once.

Children are real CalcJobs (aiida-core's ``core.arithmetic.add`` through ``bash``) that
sleep for a set time before adding, so their costs are uneven as glasses' are.
"""
import pytest
from aiida import orm
from aiida.engine import WorkChain, run_get_node, while_
from aiida.plugins import CalculationFactory

from aiida_boroglass.workflows.launch import submit_once
from aiida_boroglass.workflows.slots import BusySlotsMixin

ArithmeticAdd = CalculationFactory('core.arithmetic.add')


class SleepersWorkChain(BusySlotsMixin, WorkChain):
    """One ``core.arithmetic.add`` per duration, each sleeping that long first."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('code', valid_type=orm.AbstractCode)
        spec.input('durations', valid_type=orm.List, help='Seconds each child sleeps.')
        spec.input('max_concurrent', valid_type=orm.Int)
        spec.outline(cls.setup, while_(cls.slots_busy)(cls.fill_slots), cls.results)
        spec.output('ended', valid_type=orm.List)

    def setup(self):
        self.setup_slots(f'c{index}' for index in range(len(self.inputs.durations)))
        self.ctx.ended = []

    def launch_child(self, key):
        index = int(key[1:])
        options = {'resources': {'num_machines': 1}, 'prepend_text': f'sleep {self.inputs.durations[index]}'}
        return submit_once(self, ArithmeticAdd, code=self.inputs.code, x=orm.Int(index), y=orm.Int(1),
                           metadata={'call_link_label': key, 'options': options})

    def child_ended(self, key, node):
        self.ctx.ended.append([key, node.outputs.sum.value])

    def results(self):
        self.out('ended', orm.List(self.ctx.ended).store())


@pytest.fixture(scope='module')
def bash_code(local_codes):
    code = orm.InstalledCode(label='bash-slots', computer=local_codes, filepath_executable='/bin/bash',
                             default_calc_job_plugin='core.arithmetic.add')
    return code.store()


def _intervals(node):
    """{call link label: (launch time, end time)} of the children, in seconds from the first launch."""
    children = {link.link_label: link.node for link in node.base.links.get_outgoing().all()
                if isinstance(link.node, orm.CalcJobNode)}
    start = min(child.ctime for child in children.values())
    return {key: ((child.ctime - start).total_seconds(), (child.mtime - start).total_seconds())
            for key, child in children.items()}


def test_queued_children_fill_the_slot_a_fast_child_frees(bash_code):
    durations = [6, 0, 0, 0]
    _, node = run_get_node(SleepersWorkChain, code=bash_code, durations=orm.List(durations),
                           max_concurrent=orm.Int(2))
    assert node.is_finished_ok, node.exit_status
    ended = node.outputs.ended.get_list()
    # every child ended once and computed its own sum
    assert sorted(ended) == [[f'c{i}', i + 1] for i in range(4)]
    spans = _intervals(node)
    slow_end = spans['c0'][1]
    # in fixed batches of two, c2 and c3 would wait for c0 (6 s); here they ran while it slept
    assert spans['c2'][0] < slow_end and spans['c3'][0] < slow_end
    # never more than two children alive at once
    for key, (launched, _) in spans.items():
        alive = [other for other, (start, end) in spans.items() if start <= launched < end]
        assert len(alive) <= 2, (key, alive)


def test_one_slot_runs_children_one_after_another(bash_code):
    _, node = run_get_node(SleepersWorkChain, code=bash_code, durations=orm.List([0, 0, 0]),
                           max_concurrent=orm.Int(1))
    assert node.is_finished_ok
    spans = _intervals(node)
    order = sorted(spans, key=lambda key: spans[key][0])
    assert order == ['c0', 'c1', 'c2']
    assert all(spans[a][1] <= spans[b][0] for a, b in zip(order, order[1:]))
