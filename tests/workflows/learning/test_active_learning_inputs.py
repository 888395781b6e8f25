"""Settings of concurrent learning: refused in one line naming the field; the convergence rule; the protocols."""
import copy

import pytest

from aiida_boroglass.workflows.learning.active_learning import (
    ActiveLearningWorkChain,
    condition_parameters,
    converged,
    validate_exploration,
    validate_learning,
)


@pytest.fixture(scope='module')
def defaults():
    return ActiveLearningWorkChain.get_protocol_inputs('balanced')


@pytest.mark.parametrize('protocol', ['fast', 'balanced', 'stringent'])
def test_every_protocol_is_valid(protocol):
    inputs = ActiveLearningWorkChain.get_protocol_inputs(protocol)
    assert validate_learning(inputs['learning']) is None
    assert validate_exploration(inputs['exploration']) is None


def test_the_balanced_protocol_explores_glass_melt_quench_and_compression(defaults):
    conditions = defaults['exploration']['conditions']
    assert defaults['learning']['trust_lo_ev_a'] == 0.05 and defaults['learning']['trust_hi_ev_a'] == 0.15
    assert any(c['temperature_k'] >= 1500 for c in conditions)
    assert any(c.get('temperature_end_k', c['temperature_k']) < c['temperature_k'] for c in conditions)
    assert any(c.get('pressure_gpa', 0) > 0 for c in conditions)


@pytest.mark.parametrize('change, field', [
    ({'trust_hi_ev_a': 0.05}, 'learning.trust_hi_ev_a'),
    ({'trust_lo_ev_a': -0.1}, 'learning.trust_lo_ev_a'),
    ({'max_labels': 0}, 'learning.max_labels'),
    ({'max_labels': 2.5}, 'learning.max_labels'),
    ({'selection': 'random'}, 'learning.selection'),
    ({'accurate_target': 1.2}, 'learning.accurate_target'),
    ({'converged_iterations': 0}, 'learning.converged_iterations'),
    ({'max_iterations': True}, 'learning.max_iterations'),
    ({'warm_start': 'yes'}, 'learning.warm_start'),
    ({'trust_low': 0.1}, "unknown keys ['trust_low']"),
])
def test_bad_learning_settings_are_named(defaults, change, field):
    message = validate_learning({**defaults['learning'], **change})
    assert message is not None and field in message


@pytest.mark.parametrize('change, field', [
    (lambda e: e.update(deviation_every=0), 'exploration.deviation_every'),
    (lambda e: e.update(conditions=[]), 'exploration.conditions'),
    (lambda e: e['conditions'].append(dict(e['conditions'][0])), 'names must be unique'),
    (lambda e: e['conditions'][1].update(type='nve'), 'exploration.conditions[1]: type'),
    (lambda e: e['conditions'][0].update(steps=5), 'exploration.conditions[0]: steps'),
    (lambda e: e['conditions'][0].update(name='300k'), 'exploration.conditions[0]: name'),
    (lambda e: e['conditions'][0].update(temperature_k=-300.0), 'exploration.conditions[0]: temperature_k'),
    (lambda e: e['conditions'][0].update(pressure=1.0), "exploration.conditions[0]: unknown keys ['pressure']"),
    (lambda e: e.pop('seed'), "missing keys ['seed']"),
])
def test_bad_exploration_settings_are_named(defaults, change, field):
    exploration = copy.deepcopy(defaults['exploration'])
    change(exploration)
    message = validate_exploration(exploration)
    assert message is not None and field in message, message


def test_an_exploration_run_is_one_dumped_stage_with_the_deviation_interval(defaults):
    exploration = defaults['exploration']
    quench = next(c for c in exploration['conditions'] if 'temperature_end_k' in c)
    parameters = condition_parameters(exploration, quench, seed=7)
    (stage,) = parameters['stages']
    assert stage['dump_every'] == exploration['deviation_every'] == parameters['thermo_every']
    assert stage['temperature_end_k'] == quench['temperature_end_k'] and parameters['seed'] == 7


@pytest.mark.parametrize('fractions, expected', [
    ([0.2, 0.95, 0.91], True),
    ([0.95, 0.5, 0.95], False),
    ([0.95], False),
    ([0.5, 0.9, 0.9], True),
])
def test_convergence_needs_consecutive_confident_iterations(fractions, expected):
    assert converged(fractions, 0.9, 2) is expected
