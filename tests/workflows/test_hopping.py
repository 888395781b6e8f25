"""boroglass.hopping end to end on small lattices: provenance, fits, NFU sources, refusal before storing."""
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.hopping.conductance import ensemble_transport
from aiida_boroglass.hopping.units import hierarchical_units
from aiida_boroglass.workflows.hopping import HoppingWorkChain

SERIES = '0.33Li2O-0.67[xB2O3-(1-x)P2O5]'
SMALL = {'size': 8, 'n_landscapes': 2, 'temperatures_k': [400.0, 600.0], 'seed': 3}


def glasses(*x_values):
    return {f'x{int(round(x * 1000)):04d}': CompositionData(SERIES, x=x) for x in x_values}


def n_nodes():
    return orm.QueryBuilder().append(orm.Node).count()


@pytest.fixture(scope='module')
def series(aiida_profile):
    """Three glasses from the stand-in model, with a measured conductivity to adapt nu to."""
    experiment = orm.Dict({'sigma_s_cm': {'0.5': {'400': 1e-7, '600': 1e-4}}})
    _, node = run_get_node(HoppingWorkChain, compositions=glasses(1.0, 0.0, 0.5),
                           parameters=orm.Dict({**SMALL, 'n4_borate': 0.42, 'fit_nu': True}), experiment=experiment)
    return node


def test_every_glass_has_units_and_transport_with_provenance(series):
    assert series.is_finished_ok, series.exit_message
    assert set(series.outputs.units) == set(series.outputs.transport) == {'x0000', 'x0500', 'x1000'}
    transport = series.outputs.transport.x1000
    creator = transport.creator
    assert creator.process_label == 'hopping_transport'
    assert creator.inputs.units.uuid == series.outputs.units.x1000.uuid
    assert series.outputs.units.x1000['units'] == pytest.approx(hierarchical_units(1.0, 0.33, 0.42))
    # the stored per-landscape arrays are the kernel's on the same seeds
    reference = ensemble_transport(8, 1.0, 0.33, 0.64, 0.42, 2, [400.0, 600.0], seed=3, nu_hz=1e13,
                                   u0_ev=0.064, units=hierarchical_units(1.0, 0.33, 0.42))
    np.testing.assert_allclose(transport.get_array('activation_energy_ev'), reference.activation_energy_ev)
    np.testing.assert_allclose(transport.get_array('sigma_s_cm'), reference.sigma_s_cm)


def test_summary_rows_are_sorted_and_consistent_with_the_arrays(series):
    summary = series.outputs.summary
    rows = summary['rows']
    assert [row['x'] for row in rows] == pytest.approx([0.0, 0.5, 1.0])
    for row in rows:
        arrays = series.outputs.transport[row['key']]
        assert row['activation_energy_ev'] == pytest.approx(arrays.get_array('activation_energy_ev').mean())
        assert row['sigma_s_cm'] == pytest.approx(arrays.get_array('sigma_s_cm').mean(axis=0))
    assert summary['label'] == SERIES and summary['nfu_source'] == 'model'
    curves = series.outputs.curves
    assert curves.get_array('units').shape == (3, 7)
    assert curves.get_array('sigma_s_cm').shape == (3, 2)


def test_nu_is_adapted_only_where_sigma_was_measured(series):
    rows = {row['key']: row for row in series.outputs.summary['rows']}
    assert rows['x0000']['nu_fitted_hz'] is None
    model = np.array(rows['x0500']['sigma_s_cm'])
    expected = 1e13 * np.exp(np.mean(np.log(np.array([1e-7, 1e-4]) / model)))
    assert rows['x0500']['nu_fitted_hz'] == pytest.approx(expected)
    assert rows['x0500']['sigma_fitted_s_cm'] == pytest.approx(model * expected / 1e13)


def test_energies_fitted_to_the_end_members_reproduce_them(aiida_profile):
    experiment = orm.Dict({'activation_energy_ev': {'0': 0.72, '1.0': 0.55}})
    _, node = run_get_node(HoppingWorkChain, compositions=glasses(0.0, 1.0),
                           parameters=orm.Dict({**SMALL, 'temperatures_k': [], 'fit_energies': True}),
                           experiment=experiment)
    assert node.is_finished_ok, node.exit_message
    energies = node.outputs.energies
    assert 0.0 <= energies['sigma_eps'] <= 1.0
    rows = node.outputs.summary['rows']
    # same seeds and size in the fit and in the transport: E_a equals the measurement up to the root tolerance
    assert [row['activation_energy_ev'] for row in rows] == pytest.approx([0.72, 0.55], abs=2e-3)
    assert node.outputs.summary['parameters_source'] == 'fitted'


def test_an_unreachable_ratio_fails_with_its_exit_code(aiida_profile):
    experiment = orm.Dict({'activation_energy_ev': {'0': 0.5, '1.0': 0.9}})
    _, node = run_get_node(HoppingWorkChain, compositions=glasses(0.0, 1.0),
                           parameters=orm.Dict({**SMALL, 'temperatures_k': [], 'fit_energies': True}),
                           experiment=experiment)
    assert node.exit_status == HoppingWorkChain.exit_codes.ERROR_FIT_FAILED.status
    assert 'E_a(x=0) / E_a(x=1) = 0.5556' in node.exit_message
    assert 'summary' not in node.outputs


def test_measured_and_simulated_sources(aiida_profile):
    measured = {'B4': 0.2, 'B3': 0.0, 'B2': 0.0, 'P3': 0.5, 'P2': 0.3, 'P1': 0.0, 'P0': 0.0}
    measured['P2'] = 0.33 / 0.67 - 0.2
    measured['P3'] = 0.8 - measured['P2']
    _, node = run_get_node(HoppingWorkChain, compositions=glasses(0.2), nfu_source=orm.Str('measured'),
                           units={'x0200': orm.Dict(measured)}, parameters=orm.Dict(SMALL))
    assert node.is_finished_ok
    assert node.outputs.units.x0200['units'] == pytest.approx(measured)
    assert node.outputs.summary['nfu_source'] == 'measured'
    panel = orm.Dict({'B(4)': {'count': 4.0, 'fraction_of_element': 1.0, 'fraction_of_formers': 0.2},
                      'P(3)': {'count': 9.75, 'fraction_of_element': 0.61, 'fraction_of_formers': 0.4875},
                      'P(2)': {'count': 5.85, 'fraction_of_element': 0.37, 'fraction_of_formers': 0.2925},
                      'P(4)': {'count': 0.8, 'fraction_of_element': 0.0, 'fraction_of_formers': 0.02}})
    _, node = run_get_node(HoppingWorkChain, compositions=glasses(0.2), nfu_source=orm.Str('simulated'),
                           units={'x0200': panel}, parameters=orm.Dict({**SMALL, 'units_tolerance': 0.05}))
    assert node.is_finished_ok, node.exit_message
    units = node.outputs.units.x0200['units']
    assert units['P2'] == pytest.approx(0.2925 * 0.8 / 0.78) and units['B4'] == pytest.approx(0.2)


def test_a_real_structure_panel_is_read_and_checked(aiida_profile, crystals):
    """The panel of an all-B(4) network is a B4-only borate: its charge cannot balance 33 mol% Li2O."""
    from aiida_boroglass.functions.structure import pair_distributions, short_range_order

    positions, cell, species = crystals.cristobalite_bo4()
    structure = orm.StructureData(cell=cell)
    for position, symbol in zip(positions, species):
        structure.append_atom(position=position, symbols=str(symbol))
    parameters = orm.Dict({'voronoi': False})
    cutoffs = pair_distributions(structure, parameters)['cutoffs']
    units = short_range_order(structure, cutoffs, parameters)['network_units']
    before = n_nodes()
    with pytest.raises(ValueError, match='must balance the alkali ions'):
        run_get_node(HoppingWorkChain, compositions=glasses(1.0), nfu_source=orm.Str('simulated'),
                     units={'x1000': units}, parameters=orm.Dict(SMALL))
    assert n_nodes() == before


@pytest.mark.parametrize('inputs, message', [
    ({'parameters': {'size': 1}}, 'parameters.size'),
    ({'nfu_source': 'nmr'}, 'nfu_source must be one of'),
    ({'nfu_source': 'measured'}, "the 'measured' source needs one Dict per composition"),
    ({'compositions': {'bs': '30Li2O-20SiO2-50B2O3'}}, 'B2O3 and/or P2O5 only'),
    ({'parameters': {'fit_energies': True}}, 'fit_energies needs the glass at x = 0'),
    ({'parameters': {'fit_nu': True}}, 'fit_nu needs'),
    ({'experiment': {'sigma_s_cm': {'0.5': {'450': 1e-7}}}}, "temperature '450' K"),
])
def test_bad_input_is_refused_before_anything_is_stored(aiida_profile, inputs, message):
    compositions = {k: CompositionData(v) for k, v in inputs.pop('compositions', {}).items()} or glasses(0.5)
    arguments = {'compositions': compositions, 'parameters': orm.Dict({**SMALL, **inputs.pop('parameters', {})})}
    if 'nfu_source' in inputs:
        arguments['nfu_source'] = orm.Str(inputs.pop('nfu_source'))
    if 'experiment' in inputs:
        arguments['experiment'] = orm.Dict(inputs.pop('experiment'))
    before = n_nodes()
    with pytest.raises(ValueError, match=message):
        run_get_node(HoppingWorkChain, **arguments)
    assert n_nodes() == before


def test_protocols_set_lattice_and_landscapes():
    builder = HoppingWorkChain.get_builder_from_protocol({'x0500': f'{SERIES}'.replace('x', '0.5')},
                                                        protocol='stringent', overrides={'parameters': {'seed': 9}})
    assert builder.parameters.get_dict() == {'size': 100, 'n_landscapes': 20, 'seed': 9,
                                             'temperatures_k': [300.0, 400.0, 500.0]}
    assert builder.nfu_source.value == 'model'
    with pytest.raises(ValueError, match='protocol'):
        HoppingWorkChain.get_builder_from_protocol({}, protocol='quick')
