"""Calcfunction helpers of the hopping model: settings, composition variables, NFU sources, nu adaptation."""
import numpy as np
import pytest

from aiida_boroglass.functions.hopping import (
    HOPPING_DEFAULTS,
    SC_SITE_THRESHOLD,
    adapted_nu,
    borophosphate_variables,
    check_experiment,
    hopping_settings,
    nfu_units,
)
from aiida_boroglass.glass.composition import Composition
from aiida_boroglass.hopping.units import UNIT_CHARGE, hierarchical_units

SERIES = '0.33Li2O-0.67[xB2O3-(1-x)P2O5]'


def test_settings_fill_defaults_and_sort_temperatures():
    settings = hopping_settings({'size': 12, 'temperatures_k': [500, 300.0]})
    assert settings['size'] == 12
    assert settings['temperatures_k'] == [300.0, 500.0]
    assert settings['v0_ev'] == HOPPING_DEFAULTS['v0_ev']


@pytest.mark.parametrize('given, field', [
    ({'sizes': 10}, 'sizes'),
    ({'size': 2}, 'parameters.size'),
    ({'n_landscapes': 1.5}, 'parameters.n_landscapes'),
    ({'v0_ev': 0.0}, 'parameters.v0_ev'),
    ({'sigma_eps': -0.1}, 'parameters.sigma_eps'),
    ({'f0': 1.0}, 'parameters.f0'),
    ({'n4_borate': 1.2}, 'parameters.n4_borate'),
    ({'temperatures_k': [300, -4]}, 'parameters.temperatures_k'),
    ({'fit_nu': 'yes'}, 'parameters.fit_nu'),
])
def test_settings_name_the_bad_field(given, field):
    with pytest.raises(ValueError, match=field.replace('.', r'\.')):
        hopping_settings(given)


def test_borophosphate_variables_from_the_oxide_fractions():
    alkali, x, y = borophosphate_variables(Composition.parse(SERIES, x=0.3))
    assert (alkali, y) == ('Li', pytest.approx(0.33))
    assert x == pytest.approx(0.3)
    assert borophosphate_variables(Composition.parse('35Na2O-65P2O5'))[:2] == ('Na', 0.0)
    assert borophosphate_variables(Composition.parse('40K2O-60B2O3'))[:2] == ('K', 1.0)


@pytest.mark.parametrize('spec, message', [
    ('30Li2O-10SiO2-60B2O3', 'B2O3 and/or P2O5 only'),
    ('20Li2O-20Na2O-60B2O3', 'one alkali oxide'),
    ('20Li2O-80B2O3', 'site-percolation threshold'),
    ('55Li2O-45B2O3', 'more ion sites'),
])
def test_borophosphate_variables_refuse_glasses_outside_the_model(spec, message):
    with pytest.raises(ValueError, match=message):
        borophosphate_variables(Composition.parse(spec))


def test_percolation_bound_is_the_site_threshold():
    """At the smallest y allowed, y / ((1 - y)(1 - f0)) equals the simple-cubic site threshold."""
    with pytest.raises(ValueError, match='y must be >=') as info:
        borophosphate_variables(Composition.parse('20Li2O-80B2O3'))
    y_min = float(str(info.value).rsplit('>= ', 1)[1])
    assert y_min / ((1 - y_min) * 0.95) == pytest.approx(SC_SITE_THRESHOLD, abs=1e-3)


def test_nfu_sources():
    settings = hopping_settings({'n4_borate': 0.42})
    glass = Composition.parse(SERIES, x=1.0)
    model = nfu_units('model', glass, settings)
    assert model == hierarchical_units(1.0, 0.33, 0.42)
    assert model['B2'] == pytest.approx(0.33 / 0.67 - 0.42)
    # measured units off by 0.005 in charge pass the 0.01 tolerance, and come back unchanged
    measured = {**model, 'B4': model['B4'] - 0.005, 'B3': model['B3'] + 0.005}
    assert nfu_units('measured', glass, settings, measured) == pytest.approx(measured)
    with pytest.raises(ValueError, match='composition 33Li2O-67B2O3: unit charges'):
        nfu_units('measured', glass, settings, {**model, 'B4': model['B4'] - 0.05, 'B3': model['B3'] + 0.05})
    # the structure panel's network_units table: B(1) defects left out, B units rescaled to x
    panel = {'B(4)': {'fraction_of_formers': 0.40}, 'B(3)': {'fraction_of_formers': 0.495},
             'B(2)': {'fraction_of_formers': 0.075}, 'B(1)': {'fraction_of_formers': 0.03}}
    simulated = nfu_units('simulated', glass, settings, panel)
    assert simulated['B4'] == pytest.approx(0.40 / 0.97)
    assert -sum(UNIT_CHARGE[k] * v for k, v in simulated.items()) == pytest.approx(0.475 / 0.97)
    with pytest.raises(ValueError, match="source needs units"):
        nfu_units('measured', glass, settings)


def test_adapted_nu_scales_the_model_onto_the_measurement():
    """sigma is proportional to nu: a measurement 3x (at 300 K) and 12x (at 500 K) the model gives nu x 6."""
    nu = adapted_nu([1e-9, 2e-7, 4e-5], [300.0, 400.0, 500.0], {'300': 3e-9, 500: 4.8e-4}, 1e13)
    assert nu == pytest.approx(6e13)
    assert adapted_nu([0.0, 1e-7], [300.0, 400.0], {'300': 1e-9}, 1e13) is None


@pytest.mark.parametrize('experiment, message', [
    ({'ea': {}}, 'unknown key'),
    ({'activation_energy_ev': {'zero': 0.7}}, 'x must be a number'),
    ({'activation_energy_ev': {'0.2': -0.7}}, 'every value > 0'),
    ({'sigma_s_cm': {'0.2': {'350': 1e-8}}}, 'not one of parameters.temperatures_k'),
    ({'sigma_s_cm': {'0.2': 1e-8}}, 'must map temperatures'),
])
def test_check_experiment_names_the_problem(experiment, message):
    with pytest.raises(ValueError, match=message):
        check_experiment(experiment, [300.0, 400.0])
    check_experiment({'sigma_s_cm': {'0.2': {'300.2': 1e-8}}, 'activation_energy_ev': {'1': 0.6}}, [300.0, 400.0])
