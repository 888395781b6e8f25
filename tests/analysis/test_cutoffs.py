"""Bond cutoffs from the first minimum of g_ab(r), with windows, defaults and user values."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.analysis.cutoffs import BOND_CUTOFF_RULES, bond_cutoffs, pair_key, split_pair_key
from aiida_boroglass.analysis.rdf import PartialRDFs


def synthetic_rdfs(minima):
    """PartialRDFs of B, Li, O whose g_ab has one peak and a minimum at ``minima[pair]`` Å (None: flat)."""
    r = np.linspace(0.005, 7.995, 800)
    elements = ('B', 'Li', 'O')
    pairs = (('B', 'B'), ('B', 'Li'), ('B', 'O'), ('Li', 'Li'), ('Li', 'O'), ('O', 'O'))
    g = np.ones((len(pairs), r.size))
    for k, pair in enumerate(pairs):
        minimum = minima.get(pair)
        if minimum is not None:
            peak = 0.75 * minimum
            g[k] = 1.0 + 4.0 * np.exp(-((r - peak) / (0.1 * peak)) ** 2) - 0.8 * np.exp(-((r - minimum) / 0.15) ** 2)
    edges = np.linspace(0.0, 8.0, 801)
    return PartialRDFs(r, edges, elements, np.array([10, 5, 20]), pairs, g, np.zeros_like(g), 0.08)


def test_first_minimum_inside_window_is_taken():
    cutoffs = bond_cutoffs(synthetic_rdfs({('B', 'O'): 1.9, ('Li', 'O'): 2.7, ('O', 'O'): 2.95}))
    assert cutoffs['B-O'].source == 'first minimum'
    assert cutoffs['B-O'].value_a == pytest.approx(1.9, abs=0.02)
    assert cutoffs['Li-O'].value_a == pytest.approx(2.7, abs=0.02)
    assert cutoffs['O-O'].value_a == pytest.approx(2.95, abs=0.02)
    assert set(cutoffs) == {'B-O', 'Li-O', 'O-O'}  # B-B, B-Li, Li-Li have no rule


def test_minimum_outside_window_or_missing_falls_back_to_default():
    cutoffs = bond_cutoffs(synthetic_rdfs({('B', 'O'): 3.0}))
    assert cutoffs['B-O'] == (BOND_CUTOFF_RULES['B-O'][2], 'default')
    assert cutoffs['Li-O'] == (BOND_CUTOFF_RULES['Li-O'][2], 'default')


def test_given_cutoff_wins_in_either_order():
    cutoffs = bond_cutoffs(synthetic_rdfs({('B', 'O'): 1.9}), given={'O-B': 1.75, 'B-Li': 3.0})
    assert cutoffs['B-O'] == (1.75, 'given')
    assert cutoffs['B-Li'] == (3.0, 'given')


@pytest.mark.parametrize(('given', 'message'), [
    ({'B-K': 2.0}, r"cutoffs\['B-K'\]: the glass has no B-K pairs"),
    ({'B-O': -1.0}, r"cutoffs\['B-O'\] must be a positive finite distance"),
    ({'BO': 2.0}, 'must be two element symbols joined by "-"'),
])
def test_bad_given_cutoffs_name_the_field(given, message):
    with pytest.raises(ValueError, match=message):
        bond_cutoffs(synthetic_rdfs({}), given=given)


def test_pair_keys_put_oxygen_last():
    assert pair_key('O', 'B') == 'B-O'
    assert pair_key('P', 'B') == 'B-P'
    assert split_pair_key('O-Si') == ('Si', 'O')
