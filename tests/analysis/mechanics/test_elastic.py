"""Elastic-constant kernels against hand cases: strains, the fit, paper 002's isotropic formulas, Voigt-Reuss-Hill."""
import numpy as np
import pytest

from aiida_boroglass.analysis.mechanics.elastic import (
    VOIGT_COMPONENTS,
    elastic_properties,
    fit_elastic_constants,
    isotropic_constants,
    strain_cell,
    strain_set,
    strain_tensor,
    stress_from_pressure,
    symmetrise,
    universal_anisotropy,
    voigt_reuss_hill,
    youngs_modulus_poisson_ratio,
    zener_ratio,
)


def frozen(array):
    """A read-only float copy: a kernel that writes into its input fails."""
    copy = np.array(array, dtype=float)
    copy.setflags(write=False)
    return copy


def isotropic_c(c11, c12, c44):
    """(6, 6) stiffness of a cubic (or, with c44 = (c11 - c12) / 2, isotropic) solid, GPa."""
    c = np.zeros((6, 6))
    c[:3, :3] = c12
    c[np.arange(3), np.arange(3)] = c11
    c[np.arange(3, 6), np.arange(3, 6)] = c44
    return c


def test_strain_tensor_halves_the_engineering_shears():
    tensor = strain_tensor([0.01, 0.02, 0.03, 0.04, 0.06, 0.08])
    assert tensor == pytest.approx(np.array([[0.01, 0.04, 0.03], [0.04, 0.02, 0.02], [0.03, 0.02, 0.03]]))
    with pytest.raises(ValueError, match='6 components'):
        strain_tensor([0.01, 0.0, 0.0])


def test_strain_cell_by_hand():
    """Orthorhombic 10 x 20 x 30 Å: xx stretches x by 1 %; gamma_xy = 0.02 moves x by 0.01 y and y by 0.01 x."""
    positions, cell = frozen([[1.0, 2.0, 3.0]]), frozen(np.diag([10.0, 20.0, 30.0]))
    stretched, stretched_cell = strain_cell(positions, cell, [0.01, 0, 0, 0, 0, 0])
    assert stretched == pytest.approx(np.array([[1.01, 2.0, 3.0]]))
    assert stretched_cell == pytest.approx(np.diag([10.1, 20.0, 30.0]))
    sheared, sheared_cell = strain_cell(positions, cell, [0, 0, 0, 0, 0, 0.02])
    assert sheared == pytest.approx(np.array([[1.02, 2.01, 3.0]]))
    assert sheared_cell == pytest.approx(np.array([[10.0, 0.1, 0.0], [0.2, 20.0, 0.0], [0.0, 0.0, 30.0]]))


def test_strain_cell_is_affine_on_a_triclinic_cell():
    """Fractional coordinates are kept; the volume grows by det(I + eps)."""
    rng = np.random.default_rng(3)
    cell = frozen(np.diag([9.0, 10.0, 11.0]) + rng.uniform(-2, 2, (3, 3)))
    positions = frozen(rng.uniform(0, 1, (20, 3)) @ cell)
    voigt = rng.uniform(-0.02, 0.02, 6)
    new_positions, new_cell = strain_cell(positions, cell, voigt)
    assert np.linalg.solve(new_cell.T, new_positions.T).T == pytest.approx(np.linalg.solve(cell.T, positions.T).T)
    volume_ratio = np.linalg.det(new_cell) / np.linalg.det(cell)
    assert volume_ratio == pytest.approx(np.linalg.det(np.eye(3) + strain_tensor(voigt)))


def test_strain_set_names_and_values():
    cells = strain_set(1e-4, 2)
    assert len(cells) == 1 + 12 * 2
    assert cells['zero'] == pytest.approx(np.zeros(6))
    assert cells['yz_m2'] == pytest.approx([0, 0, 0, -2e-4, 0, 0])
    assert cells['xy_p1'] == pytest.approx([0, 0, 0, 0, 0, 1e-4])
    assert {key.split('_')[0] for key in cells if key != 'zero'} == set(VOIGT_COMPONENTS)
    for strain, steps, field in ((0.0, 1, 'strain'), (-1e-4, 1, 'strain'), (1e-4, 0, 'strain_steps')):
        with pytest.raises(ValueError, match=field):
            strain_set(strain, steps)


def test_stress_is_minus_the_pressure_in_voigt_order():
    pressure = frozen([[1.0, 6.0, 5.0], [6.0, 2.0, 4.0], [5.0, 4.0, 3.0]])
    assert stress_from_pressure(pressure) == pytest.approx([-1, -2, -3, -4, -5, -6])
    assert stress_from_pressure(np.stack([pressure, 2 * pressure])).shape == (2, 6)


def test_fit_recovers_a_random_symmetric_c_from_exact_linear_stresses():
    rng = np.random.default_rng(11)
    a = rng.normal(size=(6, 6))
    c = a @ a.T * 20.0 + np.eye(6) * 30.0  # symmetric positive definite, GPa
    prestress = rng.normal(size=6)
    cells = strain_set(1e-3, 2)
    strains = frozen(np.array(list(cells.values())))
    stresses = frozen(prestress + strains @ c.T)
    fitted, stderr = fit_elastic_constants(strains, stresses)
    assert fitted == pytest.approx(c, rel=1e-9)
    assert np.abs(stderr).max() < 1e-6 * np.abs(c).max()


def test_fit_standard_error_by_hand():
    """Strains -e, 0, +e with residuals (d, -2d, d) around the line: slope exact, stderr sqrt(3) d / e."""
    e, d, slope = 1e-3, 0.01, 70.0
    strains = np.zeros((13, 6))
    stresses = np.zeros((13, 6))
    for j in range(6):
        strains[1 + 2 * j, j], strains[2 + 2 * j, j] = e, -e
        stresses[1 + 2 * j, j], stresses[2 + 2 * j, j] = slope * e + d, -slope * e + d
    stresses[0, :] = -2 * d
    fitted, stderr = fit_elastic_constants(strains, stresses)
    assert np.diag(fitted) == pytest.approx(np.full(6, slope))
    assert np.diag(stderr) == pytest.approx(np.full(6, np.sqrt(3.0) * d / e))
    # stress xx against strain yy: -2d at zero strain, 0 at +-e, a line of slope 0
    assert fitted[0, 1] == pytest.approx(0.0, abs=1e-9)


def test_fit_refuses_mixed_strains_and_too_few_points():
    strains = np.array(list(strain_set(1e-3, 1).values()))
    stresses = np.zeros_like(strains)
    mixed = strains.copy()
    mixed[1, 3] = 1e-3
    with pytest.raises(ValueError, match='more than one Voigt component'):
        fit_elastic_constants(mixed, stresses)
    with pytest.raises(ValueError, match='component xx needs at least three'):
        fit_elastic_constants(strains[1:], stresses[1:])  # without the unstrained cell
    with pytest.raises(ValueError, match=r'\(n_cells, 6\)'):
        fit_elastic_constants(strains, stresses[:, :3])


def test_symmetrise_by_hand():
    c = np.zeros((6, 6))
    c[0, 1], c[1, 0] = 10.0, 12.0
    stderr = np.zeros((6, 6))
    stderr[0, 1], stderr[1, 0] = 3.0, 4.0
    c_sym, stderr_sym = symmetrise(frozen(c), frozen(stderr))
    assert c_sym[0, 1] == c_sym[1, 0] == pytest.approx(11.0)
    assert stderr_sym[0, 1] == stderr_sym[1, 0] == pytest.approx(2.5)


def test_isotropic_solid_from_e_and_nu():
    """E = 70 GPa, nu = 0.25: lambda = mu = 28 GPa, C11 = 84, C12 = C44 = 28, B = 46.67, G = 28, isotropic."""
    c = frozen(isotropic_c(84.0, 28.0, 28.0))
    constants = isotropic_constants(c, np.zeros((6, 6)))
    assert (constants['c11_gpa'], constants['c12_gpa'], constants['c44_gpa']) == pytest.approx((84.0, 28.0, 28.0))
    assert youngs_modulus_poisson_ratio(84.0, 28.0) == pytest.approx((70.0, 0.25))
    moduli = voigt_reuss_hill(c)
    for bound in ('voigt', 'reuss', 'hill'):
        assert moduli[f'bulk_modulus_{bound}_gpa'] == pytest.approx(140.0 / 3.0)
        assert moduli[f'shear_modulus_{bound}_gpa'] == pytest.approx(28.0)
    assert universal_anisotropy(moduli) == pytest.approx(0.0, abs=1e-12)
    assert zener_ratio(c) == pytest.approx(1.0)


def test_cubic_crystal_voigt_reuss_hill_by_hand():
    """C11 = 200, C12 = 100, C44 = 100 GPa: B = 133.3 both bounds, G_V = 80, G_R = 5*100*100/(400+300) = 71.43."""
    c = frozen(isotropic_c(200.0, 100.0, 100.0))
    moduli = voigt_reuss_hill(c)
    assert moduli['bulk_modulus_voigt_gpa'] == pytest.approx(400.0 / 3.0)
    assert moduli['bulk_modulus_reuss_gpa'] == pytest.approx(400.0 / 3.0)
    assert moduli['shear_modulus_voigt_gpa'] == pytest.approx(80.0)
    assert moduli['shear_modulus_reuss_gpa'] == pytest.approx(500.0 / 7.0)
    assert moduli['shear_modulus_hill_gpa'] == pytest.approx((80.0 + 500.0 / 7.0) / 2.0)
    assert universal_anisotropy(moduli) == pytest.approx(5 * 80.0 / (500.0 / 7.0) - 5.0)  # 0.6
    assert zener_ratio(c) == pytest.approx(2.0)
    # paper 002's isotropic reading of a cubic crystal: C12 = C11 - 2 C44 = 0, so E = C11 and nu = 0
    constants = isotropic_constants(c, np.zeros((6, 6)))
    assert constants['c12_gpa'] == pytest.approx(0.0)
    assert youngs_modulus_poisson_ratio(constants['c11_gpa'], constants['c12_gpa']) == pytest.approx((200.0, 0.0))


def test_isotropic_standard_errors_propagate():
    stderr = np.diag([1.0, 2.0, 2.0, 3.0, 0.0, 0.0])
    constants = isotropic_constants(isotropic_c(84.0, 28.0, 28.0), stderr)
    assert constants['c11_stderr_gpa'] == pytest.approx(1.0)
    assert constants['c44_stderr_gpa'] == pytest.approx(1.0)
    assert constants['c12_stderr_gpa'] == pytest.approx(np.sqrt(5.0))


def test_voigt_reuss_hill_refuses_a_singular_matrix():
    with pytest.raises(ValueError, match='singular'):
        voigt_reuss_hill(np.ones((6, 6)))


def test_elastic_properties_from_lammps_pressures():
    """Pressures positive in compression: a stretched isotropic solid has a negative pressure, C comes out positive."""
    c = isotropic_c(84.0, 28.0, 28.0)
    cells = strain_set(1e-4, 1)
    strains = np.array(list(cells.values()))
    stresses = 0.5 + strains @ c.T  # 0.5 GPa pre-tension
    pressures = np.zeros((len(strains), 3, 3))
    for (i, j), column in zip(((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)), stresses.T):
        pressures[:, i, j] = pressures[:, j, i] = -column
    result = elastic_properties(frozen(strains), frozen(pressures))
    assert np.array(result['c_gpa']) == pytest.approx(c, abs=1e-6)
    assert result['youngs_modulus_gpa'] == pytest.approx(70.0)
    assert result['poisson_ratio'] == pytest.approx(0.25)
    assert result['bulk_modulus_hill_gpa'] == pytest.approx(140.0 / 3.0)
    assert result['shear_modulus_hill_gpa'] == pytest.approx(28.0)
    assert result['c_asymmetry_gpa'] < 1e-6
    assert result['universal_anisotropy'] == pytest.approx(0.0, abs=1e-9)
    assert result['reference_stress_gpa'] == pytest.approx(np.full(6, 0.5))
