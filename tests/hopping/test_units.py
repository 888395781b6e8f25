"""Tests for aiida_boroglass.hopping.units: NFU table, validation and the stand-in composition model."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.hopping.units import (
    UNIT_CHARGE,
    UNIT_NAMES,
    alkali_per_former,
    hierarchical_units,
    units_from_network,
    unit_table,
    validate_units,
)


def test_unit_table_follows_fig_1():
    assert UNIT_NAMES == ('B4', 'B3', 'B2', 'P3', 'P2', 'P1', 'P0')
    fractions, charges, nbo, delocalised = unit_table({'B4': 1.0})
    np.testing.assert_array_equal(charges, [-1, 0, -1, 0, -1, -2, -3])
    np.testing.assert_array_equal(nbo, [0, 0, 1, 0, 2, 3, 4])
    np.testing.assert_array_equal(delocalised, [True] + [False] * 6)
    np.testing.assert_array_equal(fractions, [1, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize('y', [0.3, 0.33, 0.35, 0.4, 0.45])
@pytest.mark.parametrize('x', [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0])
def test_hierarchical_units_obey_the_sum_rules(x, y):
    units = hierarchical_units(x, y)
    assert validate_units(units, x, y, atol=1e-12) == units
    assert list(units) == list(UNIT_NAMES)
    assert min(units.values()) >= 0.0
    assert sum(UNIT_CHARGE[k] * v for k, v in units.items()) == pytest.approx(-y / (1 - y), abs=1e-12)


def test_hierarchical_units_end_members():
    # binary phosphate: R P(2) per P(3) -> metaphosphate at R = 1 (y = 0.5)
    r = alkali_per_former(0.35)
    phosphate = hierarchical_units(0.0, 0.35)
    assert phosphate['P2'] == pytest.approx(r)
    assert phosphate['P3'] == pytest.approx(1 - r)
    # binary borate: N4 = R up to n4_borate, the rest as B(2)
    assert hierarchical_units(1.0, 0.3)['B4'] == pytest.approx(alkali_per_former(0.3))
    borate = hierarchical_units(1.0, 0.4, n4_borate=0.5)
    assert borate['B4'] == pytest.approx(0.5)
    assert borate['B2'] == pytest.approx(alkali_per_former(0.4) - 0.5)
    # boron diluted in phosphate is all tetrahedral
    assert hierarchical_units(0.2, 0.35)['B4'] == pytest.approx(0.2)


def test_hierarchical_units_refuses_too_much_alkali():
    with pytest.raises(ValueError, match='y = 0.8'):
        hierarchical_units(1.0, 0.8)
    with pytest.raises(ValueError, match='n4_borate'):
        hierarchical_units(0.5, 0.35, n4_borate=1.5)


def good_units():
    return hierarchical_units(0.5, 0.35)


@pytest.mark.parametrize(
    'change, message',
    [
        ({'B5': 0.1}, "unknown unit 'B5'"),
        ({'P2': -0.01}, "unit 'P2'"),
        ({'P1': float('nan')}, "unit 'P1'"),
        ({'B3': 0.2}, r'B4 \+ B3 \+ B2'),
        ({'P3': 0.7}, r'P3 \+ P2 \+ P1 \+ P0'),
    ],
)
def test_validate_units_names_the_field(change, message):
    units = {**good_units(), **change}
    with pytest.raises(ValueError, match=message):
        validate_units(units, 0.5, 0.35)


def test_validate_units_checks_charge_balance():
    units = good_units()
    # move 0.1 of P(3) to P(2): totals unchanged, 0.1 extra negative charge
    units['P3'] -= 0.1
    units['P2'] += 0.1
    with pytest.raises(ValueError, match='alkali'):
        validate_units(units, 0.5, 0.35)
    assert validate_units(units, 0.5, 0.35, atol=0.2)


@pytest.mark.parametrize('x, y, field', [(-0.1, 0.3, 'x'), (1.2, 0.3, 'x'), (0.5, 0.0, 'y'), (0.5, 1.0, 'y')])
def test_validate_composition_names_the_field(x, y, field):
    with pytest.raises(ValueError, match=f'^{field} must be'):
        validate_units(good_units(), x, y)


def test_missing_units_count_as_zero():
    units = validate_units({'B4': 0.5, 'P3': 0.5}, 0.5, 1.0 / 3.0)
    assert units['B2'] == 0.0 and units['P0'] == 0.0


def test_units_from_network_maps_panel_labels_and_rescales_to_the_composition():
    # a simulated 50/50 borophosphate: 2 % B(1) defects left out, B and P rescaled to x and 1 - x
    panel = {'B(4)': 0.30, 'B(3)': 0.14, 'B(2)': 0.04, 'B(1)': 0.02, 'P(3)': 0.25, 'P(2)': 0.25}
    units = units_from_network(panel, 0.5)
    assert list(units) == list(UNIT_NAMES)
    assert units['B4'] == pytest.approx(0.30 * 0.5 / 0.48)
    assert units['B2'] == pytest.approx(0.04 * 0.5 / 0.48)
    assert sum(units[k] for k in ('B4', 'B3', 'B2')) == pytest.approx(0.5)
    assert units['P2'] == pytest.approx(0.25) and units['P1'] == 0.0


@pytest.mark.parametrize(
    'panel, x, message',
    [
        ({'B(4)': 0.4, 'B[5]': 0.06, 'P(3)': 0.54}, 0.5, r'B\[5\] 0.060'),
        ({'B(4)': 0.5, 'Si(4)': 0.5}, 0.5, 'B and P units only'),
        ({'P(3)': 1.0}, 0.2, 'needs B units'),
    ],
)
def test_units_from_network_refuses_glasses_outside_the_model(panel, x, message):
    with pytest.raises(ValueError, match=message):
        units_from_network(panel, x)
