"""Stress-strain kernels by hand: strain and stress of the loaded axes, binning, strength, initial slope."""
import numpy as np
import pytest

from aiida_boroglass.analysis.mechanics.stress_strain import (
    axial_strain,
    axial_stress,
    binned_curve,
    initial_modulus,
    strength,
)


def test_axial_strain_and_stress_of_one_axis_and_of_three():
    lengths = np.array([[10.0, 20.0, 40.0], [11.0, 19.0, 38.0], [9.0, 18.0, 36.0]])
    assert axial_strain(lengths, [0]) == pytest.approx([0.0, 0.1, -0.1])
    assert axial_strain(lengths, [0, 1, 2]) == pytest.approx([0.0, (0.1 - 0.05 - 0.05) / 3, -0.1])
    pressure = np.array([[1.0, 2.0, 3.0], [-4.0, 0.0, 2.0]])  # GPa, positive in compression
    assert axial_stress(pressure, [0]) == pytest.approx([-1.0, 4.0])
    assert axial_stress(pressure, [0, 1, 2]) == pytest.approx([-2.0, 2.0 / 3])
    with pytest.raises(ValueError, match='axes must be a non-empty list of axis indices'):
        axial_strain(lengths, [3])


def test_binned_curve_by_hand():
    strain = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    stress = np.array([0.0, 2.0, 4.0, 8.0, 9.0])
    centres, mean, error = binned_curve(strain, stress, 2)  # bins [0, 0.2), [0.2, 0.4]
    assert centres == pytest.approx([0.05, 0.3])
    assert mean == pytest.approx([1.0, 7.0])
    assert error == pytest.approx([np.std([0.0, 2.0], ddof=1) / np.sqrt(2), np.std([4.0, 8.0, 9.0], ddof=1) / np.sqrt(3)])
    centres, mean, error = binned_curve(-strain, -stress, 3)  # compression, edges at 0, -0.133, -0.267, -0.4
    assert centres == pytest.approx([-0.05, -0.2, -0.35]) and mean == pytest.approx([-1.0, -4.0, -8.5])
    assert error[1] == 0.0  # one point
    centres, _, _ = binned_curve(strain, stress, 8)  # empty intervals are left out
    assert centres == pytest.approx(strain)


def test_strength_in_tension_and_compression():
    strain = np.array([0.0, 0.1, 0.2, 0.3])
    assert strength(strain, [0.0, 3.0, 5.0, 1.0]) == (5.0, 0.2)
    assert strength(-strain, [0.0, -3.0, -2.0, -4.0], sign=-1) == (4.0, -0.3)
    with pytest.raises(ValueError, match='sign must be 1'):
        strength(strain, strain, sign=0)


def test_initial_modulus_is_the_slope_of_the_linear_part():
    strain = np.linspace(0.0, 0.2, 21)
    stress = np.where(strain <= 0.05, 70.0 * strain, 3.5)
    assert initial_modulus(strain, stress, 0.05) == pytest.approx(70.0)
    assert np.isnan(initial_modulus(strain, stress, 0.001))
