"""boroglass.diffusion end to end with real LAMMPS on a small Li borate glass; the CLI commands on top of it."""
import json
import re

import numpy as np
import pytest
import yaml
from aiida import orm
from aiida.engine import run_get_node
from click.testing import CliRunner

from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.workflows.diffusion import DiffusionWorkChain
from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

GLASS = {
    'n_atoms': 200,
    'schedule': {'push_off_ps': 0.2, 'melt_ps': 2.0, 'cooling_rate_k_ps': 1000.0, 'relax_nvt_ps': 1.0,
                 'relax_npt_ps': 1.0, 'production_ps': 0.5, 'dump_every_ps': 0.1},
}
#: Hot enough for Li to diffuse within a 6 ps run of a 200-atom glass.
TRANSPORT = {
    'temperatures_k': [1800.0, 2400.0],
    'schedule': {'equilibration_ps': 0.5, 'production_ps': 6.0, 'dump_every_ps': 0.05},
    'field': {'efield_v_a': [0.0, 0.0, 0.1], 'freeze_network': True},
    'parameters': {'d2min_interval_ps': 0.5, 'haven_ratio': 0.5, 'slope_tol': 0.2},
}
K_B_J = 1.380649e-23
E_C = 1.602176634e-19


@pytest.fixture(scope='module')
def glass(lammps_code, packmol_code):
    """A finished 200-atom melt-quench of 30Li2O-70B2O3."""
    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        lammps_code, CompositionData('Li2O-B2O3', x=0.3), protocol='fast', overrides=GLASS)
    node = run_get_node(builder).node
    assert node.is_finished_ok, node.exit_message
    return node


@pytest.fixture(scope='module')
def transport(glass, lammps_code):
    """Two temperatures x two replicas (two velocity seeds on one glass) + two field runs."""
    structure = glass.outputs.structure
    builder = DiffusionWorkChain.get_builder_from_protocol(
        lammps_code, [structure, structure], glass.outputs.forcefield, protocol='fast', overrides=TRANSPORT)
    node = run_get_node(builder).node
    assert node.is_finished_ok, node.exit_message
    return node


def lithium_count(node):
    return sum(1 for symbol in node.symbols if symbol == 'Li')


def naive_msd(r):
    """Mean over atoms and all time origins, one lag at a time."""
    return np.array([0.0] + [np.mean(np.sum((r[m:] - r[:-m]) ** 2, axis=2)) for m in range(1, r.shape[0])])


def test_every_output_is_there(transport):
    out = transport.outputs
    assert sorted(out.trajectories) == ['T1800_r0', 'T1800_r1', 'T2400_r0', 'T2400_r1', 'field_r0', 'field_r1']
    assert sorted(out.msd) == sorted(out.diffusion) == ['T1800', 'T2400']
    assert sorted(out.d_cum) == sorted(out.rearrangement) == sorted(out.trajectories)
    assert set(out.arrhenius['species']) == {'Li'} and out.arrhenius['warnings'] == []
    assert set(out.field['species']) == {'Li'}
    # 6 ps every 0.05 ps: 121 frames per run, all Li of both replicas pooled
    assert out.trajectories.T1800_r0.numsteps == 121
    assert out.diffusion.T1800['species']['Li']['n_ions'] == 2 * lithium_count(out.trajectories.T1800_r0) == 56


def test_msd_equals_a_double_loop_over_the_replica_trajectories(transport):
    out = transport.outputs
    for key in ('T1800', 'T2400'):
        runs = [out.trajectories[f'{key}_{r}'] for r in ('r0', 'r1')]
        li = [run.get_positions()[:, np.array(run.symbols) == 'Li'] for run in runs]
        expected = (naive_msd(li[0]) + naive_msd(li[1])) / 2
        np.testing.assert_allclose(out.msd[key].get_array('msd_a2_Li'), expected, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(out.msd[key].get_array('lags_ps'), 0.05 * np.arange(121), atol=1e-9)


def test_d_is_diffusive_grows_with_temperature_and_converts_by_hand(transport):
    out = transport.outputs
    cold, hot = (out.diffusion[key]['species']['Li'] for key in ('T1800', 'T2400'))
    assert cold['diffusive'] and hot['diffusive']
    assert 0 < cold['d_cm2_s'] < hot['d_cm2_s'] < 1e-3
    assert 0 < cold['d_stderr_cm2_s'] < cold['d_cm2_s']
    start, stop = hot['window_ps']
    assert 0 < start < stop <= 3.0  # at most half the run
    # Nernst-Einstein with H_R = 0.5: sigma = n e^2 D / (H_R k_B T), n from the cell
    cell = out.trajectories.T2400_r0.get_cells()[0]
    n_cm3 = lithium_count(out.trajectories.T2400_r0) / (abs(np.linalg.det(cell)) * 1e-24)
    assert hot['number_density_cm3'] == pytest.approx(n_cm3)
    assert hot['sigma_ne_s_cm'] == pytest.approx(n_cm3 * E_C**2 * hot['d_cm2_s'] / (0.5 * K_B_J * 2400.0), rel=1e-9)


def test_arrhenius_goes_through_both_points_and_extrapolates(transport):
    out = transport.outputs
    fit = out.arrhenius['species']['Li']
    d = {t: out.diffusion[f'T{t}']['species']['Li']['d_cm2_s'] for t in (1800, 2400)}
    # two points: the line passes through both, E_a = k_B ln(D2/D1) / (1/T1 - 1/T2)
    k_b = 8.617333262e-5
    assert fit['ea_ev'] == pytest.approx(k_b * np.log(d[2400] / d[1800]) / (1 / 1800 - 1 / 2400), rel=1e-6)
    assert fit['d_extrapolated_cm2_s'] == pytest.approx(fit['d0_cm2_s'] * np.exp(-fit['ea_ev'] / (k_b * 300)), rel=1e-6)
    low, high = fit['d_extrapolated_interval_cm2_s']
    assert low < fit['d_extrapolated_cm2_s'] < high
    assert fit['sigma_extrapolated_s_cm'] > 0 and fit['ea_stderr_ev'] > 0


def test_field_run_freezes_the_network_and_drives_li_along_the_field(transport):
    out = transport.outputs
    run = out.trajectories.field_r0
    symbols = np.array(run.symbols)
    positions = run.get_positions()
    network = symbols != 'Li'
    np.testing.assert_allclose(positions[-1, network], positions[0, network], atol=1e-6)
    li = out.field['species']['Li']
    assert out.field['frozen_elements'] == ['B', 'O'] and out.field['temperature_k'] == 2400.0
    assert li['drift_a_ps'] > 0 and li['mobility_cm2_vs'] > 0
    assert li['sigma_ne_s_cm'] == out.diffusion.T2400['species']['Li']['sigma_ne_s_cm']
    assert li['field_over_ne'] == pytest.approx(li['sigma_field_s_cm'] / li['sigma_ne_s_cm'])


def test_d_cum_marks_the_top_thirty_percent_mobile(transport):
    out = transport.outputs
    d_cum = out.d_cum.T2400_r0
    values, mobile = d_cum.get_array('d_cum_a_Li'), d_cum.get_array('mobile_Li')
    assert values.shape == mobile.shape == (28,) and np.all(values > 0)
    assert mobile.sum() == 9  # the 0.7 quantile of 28 values lies at rank 0.7 * 27 = 18.9: ranks 19-27 are above
    assert values[mobile].min() > values[~mobile].max()
    symbols = np.array(out.trajectories.T2400_r0.symbols)
    assert np.all(symbols[d_cum.get_array('indices_Li')] == 'Li')


def test_provenance_links_runs_to_results(transport, glass):
    out = transport.outputs
    creator = out.diffusion.T2400.creator
    assert {link.node.uuid for link in creator.base.links.get_incoming().all()} >= {
        out.trajectories.T2400_r0.uuid, out.trajectories.T2400_r1.uuid}
    inputs = {link.node.uuid for link in out.arrhenius.creator.base.links.get_incoming().all()}
    assert {out.diffusion.T1800.uuid, out.diffusion.T2400.uuid} <= inputs
    run = transport.base.links.get_outgoing(link_label_filter='T1800_r0').one().node
    assert run.called[0].inputs.structure.uuid == glass.outputs.structure.uuid


@pytest.mark.parametrize(('change', 'fragment'), [
    ({'temperatures_k': []}, 'temperatures_k'),
    ({'temperatures_k': [800.0, 800.4]}, 'differ by at least 1 K'),
    ({'parameters': {'haven': 1.0}}, "unknown key(s) ['haven']"),
    ({'parameters': {'species': ['Na']}}, "['Na'] not in the glass"),
    ({'field': {'efield_v_a': [0, 0, 0]}}, 'field.efield_v_a'),
    ({'field': {'efield_v_a': [0, 0, 0.1], 'temperature_k': 900.0}}, 'must be one of temperatures_k'),
])
def test_bad_inputs_are_refused_before_anything_is_stored(glass, lammps_code, change, fragment):
    before = orm.QueryBuilder().append(orm.ProcessNode).count()
    with pytest.raises(ValueError, match=re.escape(fragment)):
        builder = DiffusionWorkChain.get_builder_from_protocol(
            lammps_code, [glass.outputs.structure], glass.outputs.forcefield, protocol='fast', overrides=change)
        run_get_node(builder)
    assert orm.QueryBuilder().append(orm.ProcessNode).count() == before


def test_command_runs_table_json_and_plots_then_softness(glass, transport, tmp_path):
    """`aiida-boroglass diffusion --glass PK`, then `aiida-boroglass softness` on two transport runs."""
    from aiida_boroglass.cli.launcher import main

    overrides = tmp_path / 'transport.yaml'
    overrides.write_text(yaml.safe_dump({'schedule': TRANSPORT['schedule'], 'md': {'seed': 99},
                                         'parameters': {'slope_tol': 0.2}}))
    output = tmp_path / 'out'
    result = CliRunner().invoke(main, ['diffusion', '--glass', str(glass.pk), '--temperatures', '1800,2400',
                                       '--overrides', str(overrides), '--output', str(output)])
    assert result.exit_code == 0, result.output
    rows = json.loads((output / 'transport.json').read_text())
    assert [(row['glass'], row['species'], row['n_replicas']) for row in rows] == [('30Li2O-70B2O3', 'Li', 1)]
    assert rows[0]['ea_ev'] > 0 and rows[0]['field'] is None
    assert [p['temperature_k'] for p in rows[0]['points']] == [1800.0, 2400.0]
    assert '30Li2O-70B2O3' in result.output and 'E_a (eV)' in result.output
    assert sorted(path.name for path in output.glob('*.png')) == ['arrhenius.png', 'msd.png']
    new = orm.load_node(int(result.output.split('DiffusionWorkChain<')[1].split('>')[0]))
    assert new.inputs.structures.r0.uuid == glass.outputs.structure.uuid

    folder = tmp_path / 'soft'
    result = CliRunner().invoke(main, ['softness', str(transport.pk), str(new.pk), '--test', str(new.pk),
                                       '--r-max', '5', '--output', str(folder)])
    assert result.exit_code == 0, result.output
    summary = json.loads((folder / 'softness.json').read_text())
    assert summary['test_glass'] == f'g{new.pk}' and 0.0 <= summary['accuracy'] <= 1.0
    assert summary['n_ions'] == {f'g{transport.pk}__T1800_r0': 28, f'g{transport.pk}__T1800_r1': 28,
                                 f'g{new.pk}__T1800_r0': 28}
    assert sorted(path.name for path in folder.glob('*.png')) == ['softness.png', 'softness_weights.png']


def test_command_refuses_bad_options_naming_them(glass):
    from aiida_boroglass.cli.launcher import main

    result = CliRunner().invoke(main, ['diffusion'])
    assert result.exit_code == 2 and 'SPEC' in result.output
    result = CliRunner().invoke(main, ['diffusion', '--glass', str(glass.pk), '--field', '0,0'])
    assert result.exit_code == 2 and '--field' in result.output
    result = CliRunner().invoke(main, ['diffusion', '--glass', str(glass.pk), '--temperatures', 'hot'])
    assert result.exit_code == 2 and '--temperatures' in result.output


def test_command_makes_independent_replicas_from_a_composition(aiida_profile, lammps_code, packmol_code, tiny_overrides,
                                                               tmp_path):
    """SPEC --x --replicas 2: two melt-quenches with shifted seeds become the replicas of one transport run."""
    from aiida_boroglass.cli.launcher import main

    glass_file, transport_file = tmp_path / 'glass.yaml', tmp_path / 'transport.yaml'
    glass_file.write_text(yaml.safe_dump(tiny_overrides))
    transport_file.write_text(yaml.safe_dump({'schedule': {'equilibration_ps': 0.2, 'production_ps': 2.0,
                                                           'dump_every_ps': 0.05}}))
    output = tmp_path / 'out'
    result = CliRunner().invoke(main, ['diffusion', 'Li2O-B2O3', '--x', '0.3', '--replicas', '2', '--temperatures',
                                       '2000,2400', '--glass-overrides', str(glass_file), '--overrides',
                                       str(transport_file), '--output', str(output)])
    assert result.exit_code == 0, result.output
    (row,) = json.loads((output / 'transport.json').read_text())
    assert row['glass'] == '30Li2O-70B2O3' and row['n_replicas'] == 2
    node = orm.load_node(int(result.output.split('DiffusionWorkChain<')[1].split('>')[0]))
    first, second = (node.inputs.structures[key] for key in ('r0', 'r1'))
    assert first.get_site_kindnames() == second.get_site_kindnames()
    assert not np.allclose([site.position for site in first.sites], [site.position for site in second.sites])
    packings = [structure.creator.caller.caller.base.links.get_outgoing(link_label_filter='packing').one().node
                for structure in (first, second)]
    assert packings[1].inputs.seed.value - packings[0].inputs.seed.value == 1009
