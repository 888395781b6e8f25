"""boroglass.structure_panel on a crystal with known answers, and input validation before anything is stored."""
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_boroglass.analysis.scattering import read_curve
from aiida_boroglass.workflows.structure_panel import StructurePanelWorkChain


def trajectory_of(frames, cell, species):
    """TrajectoryData of ``frames`` (n_frames, n_atoms, 3) Å in a fixed cell."""
    trajectory = orm.TrajectoryData()
    trajectory.set_trajectory(symbols=[str(s) for s in species], positions=np.asarray(frames),
                              cells=np.repeat(np.asarray(cell)[None], len(frames), axis=0))
    return trajectory


@pytest.fixture(scope='module')
def bo4_panel(aiida_profile, tmp_path_factory, crystals):
    """The panel of a jiggled BO4 network (ideal cristobalite topology, every B four-fold, every O bridging)."""
    positions, cell, species = crystals.cristobalite_bo4()
    frames = crystals.jiggle(positions, 0.02, 3, seed=1)
    glass = trajectory_of(frames, cell, species)
    panel_inputs = {'glass': glass, 'parameters': orm.Dict({'q_max_neutron_a': 30.0, 'dq_a': 0.05})}
    _, first = run_get_node(StructurePanelWorkChain, **panel_inputs)
    # the measured curve: the simulated neutron T(r) scaled by 1.1 -> R_chi = 0.1 / 1.1 by hand
    neutron = first.outputs.neutron
    path = tmp_path_factory.mktemp('experiment') / 'T_exp.dat'
    np.savetxt(path, np.column_stack([neutron.get_array('r_a'), 1.1 * neutron.get_array('T_broadened_barn_A2')]),
               header='r (A)  T(r) (barn A^-2)')
    _, node = run_get_node(StructurePanelWorkChain, **panel_inputs, experiment=orm.SinglefileData(path),
                           experiment_quantity=orm.Str('T_neutron'))
    return node, glass, cell, species


def test_bo4_network_coordination_units_and_angles(bo4_panel):
    node, *_ = bo4_panel
    assert node.is_finished_ok
    out = node.outputs
    assert out.coordination['n4'] == 1.0
    assert out.coordination['oxygen']['bo_fraction'] == 1.0
    assert out.network_units.get_dict() == {'B(4)': {'count': 64.0, 'fraction_of_element': 1.0, 'fraction_of_formers': 1.0}}
    assert list(out.bond_populations['B-O']) == ['4B-BO']
    assert out.bond_populations['B-O']['4B-BO']['peak_a'] == pytest.approx(1.47, abs=0.02)
    assert out.angle_summary['O-[4]B-O']['mean_deg'] == pytest.approx(109.47, abs=0.5)
    assert out.angle_summary['B-O-B']['mean_deg'] == pytest.approx(180.0, abs=5.0)  # ideal cristobalite is straight


def test_volumes_and_scattering_shapes(bo4_panel):
    node, _, cell, species = bo4_panel
    out = node.outputs
    volume = abs(np.linalg.det(cell))
    expected_density = (64 * 10.81 + 128 * 15.999) / 6.02214076e23 / (volume * 1e-24)
    assert out.volumes['density_g_cm3'] == pytest.approx(expected_density)
    assert out.volumes['molar_volume_cm3_mol'] == pytest.approx(volume * 1e-24 * 6.02214076e23 / 32)
    voronoi = out.volumes['voronoi']
    assert voronoi['B']['total_a3'] + voronoi['O']['total_a3'] == pytest.approx(volume, rel=1e-5)
    neutron = out.neutron
    assert neutron.get_array('s_partials').shape == (3, neutron.get_array('q_a').size)
    # below the first B-O distance there are no pairs: T(r) = 0 there, so D(r) = -T0(r)
    below = neutron.get_array('r_a') < 1.2
    np.testing.assert_allclose(neutron.get_array('T_barn_A2')[below], 0.0, atol=1e-12)
    # rdf running coordination of B around O reaches 2 before the cutoff
    rdf = out.rdf
    k = rdf.base.attributes.get('pairs').index('B-O')
    edges = rdf.get_array('edges_a')[1:]
    assert rdf.get_array('running_cn')[k, 1][np.searchsorted(edges, 2.0)] == pytest.approx(2.0)
    assert rdf.get_array('running_cn')[k, 0][np.searchsorted(edges, 2.0)] == pytest.approx(4.0)


def test_agreement_against_scaled_curve_is_hand_computed(bo4_panel):
    node, *_ = bo4_panel
    assert node.outputs.agreement['r_chi'] == pytest.approx(0.1 / 1.1, rel=1e-6)
    assert node.outputs.agreement['quantity'] == 'T_neutron'


def test_provenance_links_every_result_to_the_glass(bo4_panel):
    node, glass, *_ = bo4_panel
    for label in ('rdf', 'coordination', 'network_units', 'angles', 'volumes'):
        creator = node.outputs[label].creator
        assert creator.caller.pk == node.pk
    assert node.outputs.coordination.creator.inputs.glass.uuid == glass.uuid
    assert node.outputs.neutron.creator.inputs.rdf.uuid == node.outputs.rdf.uuid


@pytest.mark.parametrize(('extra', 'message'), [
    ({'parameters': {'q_max': 3}}, r"parameters: unknown key\(s\) \['q_max'\]"),
    ({'parameters': {'dr_a': -0.1}}, 'parameters.dr_a must be a positive number'),
    ({'parameters': {'cutoffs_a': {'B-O': 'x'}}}, r"parameters.cutoffs_a\['B-O'\] must be a positive distance"),
    ({'experiment_quantity': 'T_neutron'}, 'experiment and experiment_quantity must be given together'),
    ({'experiment_quantity': 'G_magic', 'experiment': True}, 'experiment_quantity must be one of'),
])
def test_bad_inputs_are_refused_before_anything_is_stored(aiida_profile, tmp_path, extra, message):
    structure = orm.StructureData(cell=(np.eye(3) * 10.0).tolist())
    structure.append_atom(position=(0, 0, 0), symbols='B')
    structure.append_atom(position=(1.4, 0, 0), symbols='O')
    inputs = {'glass': structure}
    if 'parameters' in extra:
        inputs['parameters'] = orm.Dict(extra['parameters'])
    if 'experiment_quantity' in extra:
        inputs['experiment_quantity'] = orm.Str(extra['experiment_quantity'])
    if extra.get('experiment'):
        path = tmp_path / 'exp.dat'
        path.write_text('1 1\n2 2\n')
        inputs['experiment'] = orm.SinglefileData(path)
    before = orm.QueryBuilder().append(orm.Node).count()
    with pytest.raises(ValueError, match=message):
        run_get_node(StructurePanelWorkChain, **inputs)
    assert orm.QueryBuilder().append(orm.Node).count() == before


def test_read_curve_round_trip_of_the_experiment_file(tmp_path):
    path = tmp_path / 'curve.csv'
    path.write_text('# Q (1/A), S(Q)\n0.5, 0.9\n1.0, 1.1\n')
    x, y = read_curve(path)
    np.testing.assert_allclose(x, [0.5, 1.0])
    np.testing.assert_allclose(y, [0.9, 1.1])
