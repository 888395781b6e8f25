"""Replica runs in busy slots: after a run fails nothing more is launched, and the workflow ends only when
no run of it is left running, with exit status 401 naming every failed run.

The LAMMPS code here is ``/bin/false``: each ``boroglass.lammps_base`` fails at once, for real.
"""
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_boroglass.workflows.ab_initio.classical_labeller import frame_forcefield
from aiida_boroglass.workflows.lammps_base import LammpsBaseWorkChain
from aiida_boroglass.workflows.mechanics.elastic import ElasticWorkChain


@pytest.fixture(scope='module')
def failing_lammps(local_codes):
    """A LAMMPS code whose every run exits 1 without output."""
    code = orm.InstalledCode(label='lmp-false', computer=local_codes, filepath_executable='/bin/false',
                             default_calc_job_plugin='boroglass.lammps')
    return code.store()


def run_elastic(code, structure, replicas, max_concurrent):
    symbols = [site.kind_name for site in structure.sites]
    builder = ElasticWorkChain.get_builder_from_protocol(
        code, [structure] * replicas, orm.Dict(frame_forcefield(symbols, 'deng_du')), protocol='fast',
        overrides={'max_concurrent': max_concurrent})
    return run_get_node(builder).node


def lammps_runs(node):
    """The ``boroglass.lammps_base`` children of ``node`` by call-link label."""
    return {link.link_label: link.node for link in node.base.links.get_outgoing().all()
            if link.node.process_class is LammpsBaseWorkChain}


def test_no_run_is_launched_after_a_failure_and_the_workflow_waits_for_the_running_ones(failing_lammps, k_borate_21):
    node = run_elastic(failing_lammps, k_borate_21, replicas=3, max_concurrent=2)
    assert node.exit_status == ElasticWorkChain.exit_codes.ERROR_MD_FAILED.status
    runs = lammps_runs(node)
    # two slots: r0's and r1's references ran and failed; r2's, queued, was never launched
    assert sorted(runs) == ['r0_reference', 'r1_reference']
    assert all(run.is_terminated and not run.is_finished_ok for run in runs.values())
    assert all(run.mtime <= node.mtime for run in runs.values())
    assert 'r0_reference' in node.exit_message and 'r1_reference' in node.exit_message
