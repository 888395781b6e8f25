"""One iteration of concurrent learning with real CP2K labels on the 21-atom K borate glass.

Two jittered copies of the glass are labelled by CP2K (fast protocol: SZV-MOLOPT, 200 Ry, SCF
to 1e-5 Ha here), two models of 200 steps are trained on them (one frame held out), a 30-step
DeePMD NVT run at 300 K explores, and the candidate picked is labelled by CP2K and added to the
data; the second iteration trains on the three frames, each model warm-started from its
predecessor (the protocol's default), and explores once more. (After 100 steps
these models had left the glass: that frame took CP2K 87 s against 45-52 s for a jittered one.)
The accurate target of 1.0 with a lower trust level of 0 makes every frame a candidate, so the
loop ends after its two iterations, not converged.
"""
import numpy as np
import pytest
from aiida import engine, orm

from aiida_boroglass.functions.datasets import dataset_from_labels
from aiida_boroglass.workflows.ab_initio.dft_label import DftLabelWorkChain
from aiida_boroglass.workflows.learning.active_learning import ActiveLearningWorkChain

SERIAL = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, 'withmpi': False,
          'max_wallclock_seconds': 900}
#: The labels of the initial data and of the loop: the fast protocol with a looser SCF (plumbing, not physics).
LABELS = {'max_concurrent': 2, 'dft': {'eps_scf': 1.0e-5}}
LOOP = {
    'learning': {'trust_lo_ev_a': 0.0, 'trust_hi_ev_a': 1000.0, 'max_labels': 1, 'accurate_target': 1.0,
                 'max_iterations': 2},
    'exploration': {'deviation_every': 10, 'conditions': [
        {'name': 'glass_300k', 'type': 'nvt', 'temperature_k': 300.0, 'steps': 30}]},
    'training': {'models': 2, 'training': {'numb_steps': 200}},
    'labelling': {'engine': 'cp2k', **LABELS, 'options': SERIAL},
    'lammps_options': SERIAL,
}


@pytest.fixture(scope='module')
def cp2k_dataset(aiida_profile, cp2k_code, k_borate_21):
    """Two copies of the glass moved by 0.03 Å Gaussian displacements, labelled by CP2K, one held out."""
    reference = np.array([site.position for site in k_borate_21.sites])
    positions = reference[None] + np.random.default_rng(11).normal(size=(2, *reference.shape)) * 0.03
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory([site.kind_name for site in k_borate_21.sites], positions,
                              cells=np.array([k_borate_21.cell] * 2), pbc=(True, True, True))
    builder = DftLabelWorkChain.get_builder_from_protocol(cp2k_code, trajectory.store(), protocol='fast',
                                                          overrides=LABELS, options=SERIAL)
    node = engine.run_get_node(builder).node
    assert node.is_finished_ok, node.exit_message
    return dataset_from_labels(orm.Dict({'validation_fraction': 0.3, 'seed': 0}), frames=node.outputs.dataset)


@pytest.fixture(scope='module')
def loop(cp2k_dataset, lammps_code, dp_code, cp2k_code):
    builder = ActiveLearningWorkChain.get_builder_from_protocol(lammps_code, dp_code, cp2k_code, cp2k_dataset,
                                                                protocol='fast', overrides=LOOP)
    return engine.run_get_node(builder).node


def test_the_loop_ends_not_converged_with_its_report(loop):
    assert loop.exit_status == ActiveLearningWorkChain.exit_codes.ERROR_NOT_CONVERGED.status, loop.exit_message
    rows = loop.outputs.report['iterations']
    assert [row['iteration'] for row in rows] == ['iteration_00', 'iteration_01']
    assert [row['labels_added'] for row in rows] == [1, 0]  # the last iteration labels nothing: nothing trains on it
    assert [row['dataset_frames'] for row in rows] == [2, 3]
    assert all(row['candidate'] == 1.0 and row['n_explored'] == 3 for row in rows)


def test_the_added_frames_carry_the_cp2k_labels_of_the_explored_frames(loop):
    labelling = loop.base.links.get_outgoing(link_label_filter='iteration_00_labelling').one().node
    assert labelling.inputs.engine.value == 'cp2k' and labelling.is_finished_ok
    single_points = {link.link_label: link.node for link in labelling.base.links.get_outgoing(
        node_class=orm.WorkflowNode).all()}
    assert len(single_points) == 1 and all(node.is_finished_ok for node in single_points.values())
    dataset = loop.outputs.dataset
    added = dataset.part_system(0)
    energies = {key: node.outputs.labels.get_array('energy_ev')[0] for key, node in single_points.items()}
    np.testing.assert_allclose(sorted(added['energies'][2:]), sorted(energies.values()))
    exploration = loop.base.links.get_outgoing(link_label_filter='iteration_00_explore_glass_300k').one().node
    explored = exploration.outputs.trajectory.get_positions()
    for key, node in single_points.items():
        frame = int(key.rsplit('_', 1)[1])
        np.testing.assert_allclose([site.position for site in node.inputs.cp2k.structure.sites], explored[frame])
    assert dataset.systems[0]['validation'] == loop.inputs.dataset.systems[0]['validation']


def test_the_second_ensemble_starts_from_the_first(loop):
    """``warm_start``: model i of iteration 1 begins from model i of iteration 0, on the same neighbour counts."""
    first, second = (loop.base.links.get_outgoing(link_label_filter=f'iteration_0{i}_training').one().node
                     for i in (0, 1))
    assert 'init_models' not in first.inputs
    assert {key: node.uuid for key, node in second.inputs.init_models.items()} == {
        key: node.uuid for key, node in first.outputs.models.items()}
    for key, model in second.outputs.models.items():
        job = model.creator
        assert job.inputs.init_model.uuid == first.outputs.models[key].uuid
        assert model.base.attributes.get('sel') == first.outputs.models[key].base.attributes.get('sel')
