"""Training settings of DeePMD-kit: refusals naming the field, and the input JSON of one model."""
import copy

import pytest

from aiida_boroglass.calculations import deepmd_inputs as di
from aiida_boroglass.workflows.learning.deepmd_ensemble import DeepmdEnsembleWorkChain


@pytest.fixture(name='settings')
def settings_fixture():
    """The fast protocol's training settings."""
    inputs = DeepmdEnsembleWorkChain.get_protocol_inputs('fast')
    return {section: inputs[section] for section in di.SETTINGS_KEYS}


@pytest.mark.parametrize('protocol', ['fast', 'balanced', 'stringent'])
def test_every_protocol_is_valid(protocol):
    inputs = DeepmdEnsembleWorkChain.get_protocol_inputs(protocol)
    assert di.validate_training_settings({s: inputs[s] for s in di.SETTINGS_KEYS}, ['B', 'K', 'O']) is None


@pytest.mark.parametrize(('path', 'value', 'field'), [
    (('descriptor', 'type'), 'se_atten', 'descriptor.type'),
    (('descriptor', 'rcut'), -1.0, 'descriptor.rcut'),
    (('descriptor', 'rcut_smth'), 7.0, 'descriptor.rcut_smth'),
    (('descriptor', 'sel'), [10, 0, 10], 'descriptor.sel'),
    (('descriptor', 'sel'), [10, 10], 'descriptor.sel'),
    (('descriptor', 'neuron'), [], 'descriptor.neuron'),
    (('descriptor', 'axis_neuron'), 99, 'descriptor.axis_neuron'),
    (('fitting_net', 'neuron'), [16, -1], 'fitting_net.neuron'),
    (('learning_rate', 'stop_lr'), 1.0, 'learning_rate'),
    (('loss', 'start_pref_f'), -1, 'loss'),
    (('training', 'numb_steps'), 0, 'training.numb_steps'),
    (('training', 'batch_size'), 'big', 'training.batch_size'),
    (('training', 'disp_freq'), 10_000, 'training.disp_freq'),
])
def test_out_of_range_values_are_refused_naming_the_field(settings, path, value, field):
    bad = copy.deepcopy(settings)
    bad[path[0]][path[1]] = value
    message = di.validate_training_settings(bad, ['B', 'K', 'O'])
    assert message is not None and message.startswith(f'{field}:')


def test_missing_and_unknown_keys_are_named(settings):
    bad = copy.deepcopy(settings)
    del bad['loss']['limit_pref_v']
    bad['training']['epochs'] = 3
    assert 'limit_pref_v' in di.validate_training_settings(bad)
    del bad['loss']
    assert di.validate_training_settings(bad).startswith('loss: missing')
    assert 'unknown sections' in di.validate_training_settings({**settings, 'model': {}})


def test_models_of_an_ensemble_differ_only_in_their_seed(settings):
    first = di.train_input(settings, ['B', 'K', 'O'], ['train/a'], ['validation/a'], seed=1, use_virial=True)
    second = di.train_input(settings, ['B', 'K', 'O'], ['train/a'], ['validation/a'], seed=2, use_virial=True)
    assert first['model']['descriptor']['seed'] == 1 and second['training']['seed'] == 2
    for content in (first, second):
        content['model']['descriptor'].pop('seed'), content['model']['fitting_net'].pop('seed')
        content['training'].pop('seed')
    assert first == second
    assert first['model']['type_map'] == ['B', 'K', 'O']
    assert first['training']['training_data']['systems'] == ['train/a']
    assert first['training']['validation_data']['systems'] == ['validation/a']


def test_without_virials_their_prefactors_are_zero(settings):
    content = di.train_input(settings, ['B', 'O'], ['t'], ['v'], seed=1, use_virial=False)
    assert content['loss']['start_pref_v'] == content['loss']['limit_pref_v'] == 0.0
    assert content['loss']['start_pref_f'] == settings['loss']['start_pref_f']
    settings['loss'].update(start_pref_v=0.02, limit_pref_v=1.0)
    with_virial = di.train_input(settings, ['B', 'O'], ['t'], ['v'], seed=1, use_virial=True)
    assert (with_virial['loss']['start_pref_v'], with_virial['loss']['limit_pref_v']) == (0.02, 1.0)


@pytest.mark.parametrize(('steps', 'expected'), [(600, 6), (1_000_000, 10_000), (50, 1)])
def test_the_learning_rate_decays_a_hundred_times_per_training(steps, expected):
    assert di.decay_steps(steps) == expected
