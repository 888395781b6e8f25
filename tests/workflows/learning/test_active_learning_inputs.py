"""Settings of concurrent learning: refused in one line naming the field; the convergence rule; the protocols."""
import copy

import pytest

from aiida_boroglass.workflows.learning.active_learning import (
    ActiveLearningWorkChain,
    condition_parameters,
    converged,
    learning_converged,
    levels_stable,
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
    ({'trust_mode': 'auto'}, "learning.trust_mode: one of ['fixed', 'adaptive']"),
    ({'adaptive': 0.1}, 'learning.adaptive: a mapping of'),
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


def test_every_protocol_keeps_fixed_trust_levels():
    for protocol in ('fast', 'balanced', 'stringent'):
        assert ActiveLearningWorkChain.get_protocol_inputs(protocol)['learning']['trust_mode'] == 'fixed'


@pytest.mark.parametrize('change, message', [
    ({'candidates': -2}, 'learning.adaptive.candidates must be an integer >= 0'),
    ({'candidate_rate': 2.0}, 'learning.adaptive.candidate_rate must be a fraction in [0, 1]'),
    ({'trust_lo_max_ev_a': 0.15}, 'learning.adaptive.trust_lo_max_ev_a must be a force deviation in [trust_lo_min'),
    ({'tolerance_ev_a': 0.0}, 'learning.adaptive.tolerance_ev_a: a change of trust_lo > 0 eV/Å'),
    ({'checked_iterations': 1}, 'learning.adaptive.checked_iterations: an integer >= 2'),
    ({'window': 3}, "learning.adaptive: missing keys [], unknown keys ['window']"),
])
def test_bad_adaptive_settings_are_named(defaults, change, message):
    learning = {**defaults['learning'], 'adaptive': {**defaults['learning']['adaptive'], **change}}
    result = validate_learning(learning)
    assert result is not None and result.startswith(message) and '\n' not in result, result


ADAPTIVE = {'trust_mode': 'adaptive', 'accurate_target': 0.9, 'converged_iterations': 2,
            'adaptive': {'tolerance_ev_a': 0.01, 'checked_iterations': 3}}


@pytest.mark.parametrize('levels, expected', [
    ([0.2, 0.105, 0.1, 0.108], True),   # the last three within 0.01 of each other in turn
    ([0.105, 0.1, 0.125], False),       # the last step moved by 0.025
    ([0.1, 0.1], False),                # fewer than three iterations checked
])
def test_adaptive_convergence_needs_stable_trust_lo_and_confident_iterations(levels, expected):
    assert levels_stable(levels, 0.01, 3) is expected
    accurate = [0.95] * len(levels)
    assert learning_converged(ADAPTIVE, accurate, levels) is expected
    assert learning_converged(ADAPTIVE, [*accurate[:-1], 0.5], levels) is False
    # in fixed mode the levels do not count
    assert learning_converged({**ADAPTIVE, 'trust_mode': 'fixed'}, accurate, levels) is True
