"""Tests for aiida_boroglass.analysis.density: volume, number density, mass density."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_boroglass.analysis.density import (
    ATOMIC_MASSES_G_MOL,
    cell_volume_a3,
    mass_density_g_cm3,
    number_density_a3,
)


def read_only(arr):
    arr = np.array(arr)
    arr.setflags(write=False)
    return arr


def test_li2o_antifluorite_by_hand():
    # Li2O, antifluorite, a = 4.61 Å: 8 Li + 4 O in the cubic cell
    a = 4.61
    cell = read_only(np.eye(3) * a)
    species = read_only(['Li'] * 8 + ['O'] * 4)
    grams = (8 * 6.94 + 4 * 15.999) / 6.02214076e23
    volume_cm3 = a**3 * 1e-24
    assert mass_density_g_cm3(species, cell) == pytest.approx(grams / volume_cm3, rel=1e-12)
    assert mass_density_g_cm3(species, cell) == pytest.approx(2.026, abs=0.001)  # Li2O, measured ~2.01
    assert number_density_a3(12, cell) == pytest.approx(12 / a**3)
    assert cell_volume_a3(cell) == pytest.approx(a**3)


def test_triclinic_volume_and_lattice_equivalent_cell():
    a, c = 4.0, 6.5
    hexagonal = np.array([[a, 0, 0], [0.5 * a, 0.5 * np.sqrt(3) * a, 0], [0, 0, c]])
    assert cell_volume_a3(hexagonal) == pytest.approx(0.5 * np.sqrt(3) * a * a * c)
    skewed = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1]]) @ hexagonal
    assert cell_volume_a3(skewed) == pytest.approx(cell_volume_a3(hexagonal))
    left_handed = hexagonal[[1, 0, 2]]
    assert cell_volume_a3(left_handed) > 0


def test_trajectory_of_cells():
    cells = read_only(np.stack([np.eye(3) * 10.0, np.eye(3) * 20.0]))
    np.testing.assert_allclose(cell_volume_a3(cells), [1000.0, 8000.0])
    rho = mass_density_g_cm3(['Na', 'O'], cells)
    assert rho.shape == (2,)
    assert rho[0] == pytest.approx(8 * rho[1])


def test_mass_table_values():
    assert ATOMIC_MASSES_G_MOL['Na'] == pytest.approx(22.98976928)
    assert ATOMIC_MASSES_G_MOL['B'] == pytest.approx(10.81)
    assert set(ATOMIC_MASSES_G_MOL) == {'Li', 'Na', 'K', 'B', 'P', 'Si', 'Al', 'O'}


def test_masses_override():
    cell = np.eye(3) * 10.0
    assert mass_density_g_cm3(['Ca', 'O'], cell, masses={'Ca': 40.078}) == pytest.approx(
        (40.078 + 15.999) / 6.02214076e23 / 1e-21
    )


@pytest.mark.parametrize(
    'call, field',
    [
        (lambda: mass_density_g_cm3(['Li', 'Xx'], np.eye(3)), 'species'),
        (lambda: mass_density_g_cm3([], np.eye(3)), 'species'),
        (lambda: mass_density_g_cm3(['Li'], np.eye(2)), 'cell'),
        (lambda: mass_density_g_cm3(['Li'], np.zeros((3, 3))), 'cell'),
        (lambda: mass_density_g_cm3(['Li'], np.eye(3), masses={'Li': -1.0}), 'masses'),
        (lambda: number_density_a3(0, np.eye(3)), 'n_atoms'),
        (lambda: cell_volume_a3(np.ones((3, 3))), 'cell'),
    ],
)
def test_bad_input_names_the_field(call, field):
    with pytest.raises(ValueError, match=field):
        call()


@pytest.mark.parametrize('x', [0.1, 0.3])
def test_molar_volume_is_mass_of_one_mole_of_oxides_over_density(x):
    """0.3Li2O-0.7B2O3 at 2.1 g/cm^3: V_m = (0.3 M(Li2O) + 0.7 M(B2O3)) / rho, by hand."""
    from aiida_boroglass.analysis.density import molar_volume_cm3_mol

    n_li, n_b = round(200 * x), round(200 * (1 - x))
    species = ['Li'] * n_li + ['B'] * n_b + ['O'] * (n_li // 2 + 3 * n_b // 2)
    cell = np.eye(3) * (mass_density_g_cm3(species, np.eye(3)) / 2.1) ** (1.0 / 3.0)
    m_li2o = 2 * 6.94 + 15.999
    m_b2o3 = 2 * 10.81 + 3 * 15.999
    assert molar_volume_cm3_mol(species, cell) == pytest.approx((x * m_li2o + (1 - x) * m_b2o3) / 2.1)


def test_molar_volume_refuses_unknown_cation():
    from aiida_boroglass.analysis.density import molar_volume_cm3_mol

    with pytest.raises(ValueError, match=r"species contains \['Cu'\] with no oxide formula unit"):
        molar_volume_cm3_mol(['Cu', 'O'], np.eye(3) * 3.0)
