"""The select step of concurrent learning with an adaptive lower trust level, on hand-built explored runs."""
import numpy as np
import pytest
from aiida import orm

from aiida_boroglass.functions.learning import report_row, select_frames

ADAPTIVE = {'candidates': 3, 'candidate_rate': 0.0, 'trust_lo_min_ev_a': 0.0, 'trust_lo_max_ev_a': 0.4,
            'tolerance_ev_a': 0.01, 'checked_iterations': 2}
SETTINGS = {'trust_lo_ev_a': 0.06, 'trust_hi_ev_a': 0.5, 'trust_mode': 'adaptive', 'adaptive': ADAPTIVE,
            'max_labels': 5, 'selection': 'spread'}
#: max_devi_f of the frames at steps 0, 10, 20, ... of two runs (step 0, the known start, is never classified)
RUNS = {'a': [0.3, 0.05, 0.2, 0.12, 0.45], 'b': [0.3, 0.07, 0.6, 0.09]}


def explored(values: list[float], seed: int) -> tuple[orm.TrajectoryData, orm.ArrayData]:
    """One exploration run of six atoms in a 10 Å cube, a frame and a deviation row every 10 steps."""
    steps = 10 * np.arange(len(values))
    frames = orm.TrajectoryData()
    positions = np.random.default_rng(seed).random((len(values), 6, 3)) * 10.0
    frames.set_trajectory(['B', 'B', 'O', 'O', 'O', 'O'], positions, stepids=steps,
                          cells=np.tile(10.0 * np.eye(3), (len(values), 1, 1)), pbc=(True, True, True))
    rows = orm.ArrayData()
    rows.set_array('steps', steps)
    rows.set_array('max_devi_f', np.array(values))
    return frames.store(), rows.store()


@pytest.fixture(scope='module')
def runs(aiida_profile):
    nodes = {name: explored(values, seed) for seed, (name, values) in enumerate(RUNS.items())}
    return {'trajectories': {name: pair[0] for name, pair in nodes.items()},
            'deviations': {name: pair[1] for name, pair in nodes.items()}}


def test_the_select_step_classifies_at_the_adapted_level(runs):
    result = select_frames(orm.Dict(SETTINGS), **runs)
    selection = result['selection'].get_dict()
    # below trust_hi: 0.05 0.07 0.09 0.12 0.2 0.45; the three largest start at 0.12 (not trust_lo_ev_a = 0.06)
    assert selection['trust_lo_ev_a'] == 0.12 and selection['trust_hi_ev_a'] == 0.5
    assert 'the 3 largest' in selection['trust_reason']
    assert selection['counts'] == {'accurate': 3, 'candidate': 3, 'failed': 1}
    assert {(row['run'], row['step']) for row in selection['selected']} == {('a', 20), ('a', 30), ('a', 40)}
    row = report_row('iteration_00', selection, None, 3, {})
    assert (row['trust_lo_ev_a'], row['trust_hi_ev_a']) == (0.12, 0.5)


def test_the_fixed_mode_keeps_trust_lo(runs):
    result = select_frames(orm.Dict({**SETTINGS, 'trust_mode': 'fixed'}), **runs)
    selection = result['selection'].get_dict()
    assert (selection['trust_lo_ev_a'], selection['trust_reason']) == (0.06, 'fixed')
    assert selection['counts'] == {'accurate': 1, 'candidate': 5, 'failed': 1}


def test_bad_adaptive_settings_fail_the_step_with_the_reason(runs):
    bad = {**SETTINGS, 'adaptive': {**ADAPTIVE, 'trust_lo_max_ev_a': 0.7}}
    _, node = select_frames.run_get_node(orm.Dict(bad), **runs)
    assert node.exit_status == 320 and 'trust_lo_max_ev_a must be' in node.exit_message
