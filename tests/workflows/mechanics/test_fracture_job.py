"""The bond switching of a fracture run as a job (``boroglass.analysis``) stores what its calcfunction stores."""
import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import run_get_node

from aiida_boroglass.calculations.analysis import AnalysisCalculation, ensure_python_code
from aiida_boroglass.functions.fracture import fracture_bond_switching
from aiida_boroglass.workflows.analysis_jobs import JOB_OUTPUTS

#: One core for the job.
OPTIONS = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}}


@pytest.fixture(scope='module')
def strained(aiida_profile, k_borate_21):
    """The 21-atom K borate glass 2 x 2 x 2 (168 atoms) at 0, 10 and 20 % strain along z, atoms moving affinely and
    jiggled by 0.15 Å, so that some B switch."""
    atoms = k_borate_21.get_ase().repeat(2)
    rng = np.random.default_rng(5)
    stretch = np.array([np.diag([1.0, 1.0, 1.0 + strain]) for strain in (0.0, 0.1, 0.2)])
    positions = np.einsum('na,kab->knb', atoms.positions, stretch)
    positions[1:] += rng.normal(scale=0.15, size=positions[1:].shape)
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(symbols=atoms.get_chemical_symbols(), positions=positions,
                              cells=np.einsum('ab,kbc->kac', np.asarray(atoms.cell), stretch))
    return trajectory.store()


def created(node) -> dict:
    """The result nodes of a finished calcfunction or job, by link label (the job's own outputs left out)."""
    return {link.link_label: link.node for link in node.base.links.get_outgoing(link_type=LinkType.CREATE).all()
            if link.link_label not in JOB_OUTPUTS}


def test_the_job_gives_the_calcfunctions_bond_switching(strained, local_codes):
    parameters = orm.Dict({'cutoffs_a': {'B': 2.0}}).store()
    _, local = fracture_bond_switching.run_get_node(frames=strained, parameters=parameters)
    _, job = run_get_node(AnalysisCalculation, function='fracture_bond_switching', code=ensure_python_code(local_codes),
                          nodes={'frames': strained, 'parameters': parameters}, metadata={'options': OPTIONS})
    assert local.is_finished_ok, local.exit_message
    assert job.is_finished_ok, job.exit_message
    ours, theirs = created(local), created(job)
    assert set(ours) == set(theirs) == {'result'}
    assert ours['result'].base.attributes.all == theirs['result'].base.attributes.all
    assert sorted(ours['result'].get_arraynames()) == sorted(theirs['result'].get_arraynames())
    for name in ours['result'].get_arraynames():
        np.testing.assert_array_equal(ours['result'].get_array(name), theirs['result'].get_array(name), err_msg=name)
    switched = ours['result'].get_array('switched_B')
    assert 0 < switched.sum() < switched.size
    assert ours['result'].get_array('strain') == pytest.approx([0.0, 0.1, 0.2])
