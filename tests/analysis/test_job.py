"""The plain data of an analysis job: files round trip bit for bit; the registry refuses unknown analyses."""
import json

import numpy as np
import pytest

from aiida_boroglass.analysis.job import (
    ANALYSES,
    ArrayContent,
    Frames,
    analysis_functions,
    read_bundle,
    write_bundle,
)


def test_every_kind_of_value_round_trips_exactly(tmp_path):
    rng = np.random.default_rng(0)
    frames = Frames(rng.normal(size=(2, 3, 3)).astype(np.float32), rng.normal(size=(2, 3, 3)), ['B', 'O', 'Li'])
    content = ArrayContent({'g': np.array([[np.nan, 1.0 / 3.0]]), 'counts': np.arange(3)},
                           {'pairs': ['B-O'], 'rho': np.float64(0.1), 'n': np.int64(4)})
    values = {'glass': frames, 'rdf': content, 'parameters': {'dr_a': 0.1 + 0.2, 'free': float('nan')}, 'quantity': 'T'}
    write_bundle(tmp_path, 'inputs', values, {'function': 'pair_distributions', 'threads': 2})
    back, record = read_bundle(tmp_path, 'inputs')
    assert record == {'function': 'pair_distributions', 'threads': 2}
    assert isinstance(back['glass'], Frames) and back['glass'].symbols == ['B', 'O', 'Li']
    assert back['glass'].positions.dtype == np.float32
    np.testing.assert_array_equal(back['glass'].positions, frames.positions)
    np.testing.assert_array_equal(back['glass'].cells, frames.cells)
    assert isinstance(back['rdf'], ArrayContent) and list(back['rdf'].arrays) == ['g', 'counts']
    np.testing.assert_array_equal(back['rdf'].arrays['g'], content.arrays['g'])  # NaN where it was
    assert back['rdf'].attributes == {'pairs': ['B-O'], 'rho': 0.1, 'n': 4}
    assert back['parameters']['dr_a'] == 0.1 + 0.2 and np.isnan(back['parameters']['free'])
    assert back['quantity'] == 'T'


def test_a_value_that_is_not_plain_data_is_refused(tmp_path):
    with pytest.raises(TypeError, match='glass: list is not plain analysis data'):
        write_bundle(tmp_path, 'inputs', {'glass': [1, 2]}, {})


def test_the_registry_names_a_calcfunction_and_its_compute_function():
    for name in ANALYSES:
        calcfunction, compute = analysis_functions(name)
        assert calcfunction.__name__ == name and compute.__name__ == f'compute_{name}'
    with pytest.raises(ValueError, match=r"function: 'os.system' is not an analysis that runs as a job; allowed: \["):
        analysis_functions('os.system')


def test_the_record_is_plain_json(tmp_path):
    write_bundle(tmp_path, 'results', {}, {'status': 301, 'message': 'parameters.max_frames must be ...'})
    assert json.loads((tmp_path / 'results.json').read_text()) == {
        'status': 301, 'message': 'parameters.max_frames must be ...', 'values': {}}
