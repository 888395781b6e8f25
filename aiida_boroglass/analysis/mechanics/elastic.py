"""Elastic constants from the stresses of strained cells: the fit, isotropic averages and moduli.

Pure numpy; no AiiDA import.

Conventions
-----------
* Voigt order ``xx, yy, zz, yz, xz, xy`` (:data:`VOIGT_COMPONENTS`). A Voigt strain holds
  the engineering shears ``gamma_yz = 2 eps_yz`` etc., so that ``sigma = C gamma`` and, for an
  isotropic solid, ``C44`` is the shear modulus.
* Stress is positive in **tension**. LAMMPS (and the ``stress_gpa`` labels of this package)
  report the pressure tensor, positive in **compression**: ``sigma = -P``
  (:func:`stress_from_pressure`).
* Units: stresses, pressures and elastic constants in GPa; strains dimensionless.

Paper 002 (section 2.7) strains a glass by ``+-0.01 %`` in each Voigt component, fits the
stress-strain lines, and assumes isotropy: ``C11`` is the mean of ``C11, C22, C33``, ``C44``
the mean of ``C44, C55, C66``, ``C12 = C11 - 2 C44`` (eq. 10), then
``E = (C11 - C12)(C11 + 2 C12) / (C11 + C12)`` (eq. 11) and ``nu = C12 / (C11 + C12)`` (eq. 12).
Voigt, Reuss and Hill bounds of the bulk and shear moduli are those of Hill, Proc. Phys. Soc.
A 65, 349 (1952); the universal anisotropy index ``A^U = 5 G_V / G_R + B_V / B_R - 6`` (zero
for an isotropic solid, > 0 otherwise) is that of Ranganathan & Ostoja-Starzewski, Phys. Rev.
Lett. 101, 055504 (2008).
"""
from __future__ import annotations

import numpy as np

#: Voigt components in order, as tensor indices.
VOIGT_COMPONENTS = ('xx', 'yy', 'zz', 'yz', 'xz', 'xy')
VOIGT_INDICES = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
#: Key of the unstrained cell in :func:`strain_set`.
ZERO_STRAIN = 'zero'


def strain_tensor(voigt: np.ndarray) -> np.ndarray:
    """The symmetric strain tensor of a Voigt strain.

    Parameters
    ----------
    voigt : array_like, shape (6,)
        ``eps_xx, eps_yy, eps_zz, gamma_yz, gamma_xz, gamma_xy`` (engineering shears), dimensionless.

    Returns
    -------
    np.ndarray, shape (3, 3)
        ``eps`` with ``eps_yz = eps_zy = gamma_yz / 2`` etc.
    """
    voigt = np.asarray(voigt, dtype=float)
    if voigt.shape != (6,):
        raise ValueError(f'strain: a Voigt strain has 6 components, got shape {voigt.shape}')
    tensor = np.diag(voigt[:3])
    for (i, j), gamma in zip(VOIGT_INDICES[3:], voigt[3:]):
        tensor[i, j] = tensor[j, i] = gamma / 2.0
    return tensor


def strain_cell(positions: np.ndarray, cell: np.ndarray, voigt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deform a periodic cell and its atoms affinely by a symmetric strain.

    Every point ``r`` goes to ``(I + eps) r``: the deformation gradient is the symmetric
    ``I + eps`` (no rotation).

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian positions, Å.
    cell : array_like, shape (3, 3)
        Cell vectors as rows, Å.
    voigt : array_like, shape (6,)
        Voigt strain (engineering shears), dimensionless.

    Returns
    -------
    positions : np.ndarray, shape (n_atoms, 3)
        Strained positions, Å (new array; the inputs are not changed).
    cell : np.ndarray, shape (3, 3)
        Strained cell vectors as rows, Å.
    """
    gradient = np.eye(3) + strain_tensor(voigt)
    return np.asarray(positions, dtype=float) @ gradient.T, np.asarray(cell, dtype=float) @ gradient.T


def strain_set(strain: float, steps: int) -> dict[str, np.ndarray]:
    """The strained cells of a stress-strain fit: every Voigt component at ``+-k strain``, k = 1..steps.

    Parameters
    ----------
    strain : float
        Strain step, dimensionless (paper 002: 1e-4); > 0.
    steps : int
        Steps on each side of zero (paper 002 strains progressively); >= 1.

    Returns
    -------
    dict of str to np.ndarray of shape (6,)
        ``'zero'`` (the unstrained cell) and ``'{component}_p{k}'`` / ``'{component}_m{k}'``
        (component in :data:`VOIGT_COMPONENTS`) -> Voigt strain: ``1 + 12 steps`` cells.
    """
    if not strain > 0:
        raise ValueError(f'strain: must be > 0, got {strain}')
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f'strain_steps: must be an integer >= 1, got {steps!r}')
    cells = {ZERO_STRAIN: np.zeros(6)}
    for index, component in enumerate(VOIGT_COMPONENTS):
        for k in range(1, steps + 1):
            for sign, tag in ((1.0, 'p'), (-1.0, 'm')):
                voigt = np.zeros(6)
                voigt[index] = sign * k * strain
                cells[f'{component}_{tag}{k}'] = voigt
    return cells


def stress_from_pressure(pressure: np.ndarray) -> np.ndarray:
    """Voigt stress, positive in tension, of pressure tensors, positive in compression.

    Parameters
    ----------
    pressure : array_like, shape (..., 3, 3)
        Symmetric pressure tensors (LAMMPS' sign), GPa.

    Returns
    -------
    np.ndarray, shape (..., 6)
        ``sigma_xx, sigma_yy, sigma_zz, sigma_yz, sigma_xz, sigma_xy = -P``, GPa.
    """
    pressure = np.asarray(pressure, dtype=float)
    return -np.stack([pressure[..., i, j] for i, j in VOIGT_INDICES], axis=-1)


def fit_elastic_constants(strains: np.ndarray, stresses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``C_ij = d sigma_i / d gamma_j`` by linear regression, one strain component at a time.

    For strain component ``j`` the cells strained in ``j`` alone and the unstrained ones are
    used: each stress component ``i`` is fitted by ordinary least squares ``sigma_i = a +
    C_ij gamma_j``; the slope's standard error is ``sqrt(SSR / (n - 2) / Sxx)``.

    Parameters
    ----------
    strains : array_like, shape (n_cells, 6)
        Voigt strain of every cell, dimensionless; each row has at most one non-zero component.
    stresses : array_like, shape (n_cells, 6)
        Voigt stress of every cell, positive in tension, GPa.

    Returns
    -------
    c : np.ndarray, shape (6, 6)
        ``C_ij`` (row: stress component, column: strain component), GPa; not symmetrised.
    stderr : np.ndarray, shape (6, 6)
        Standard error of each slope, GPa.

    Raises
    ------
    ValueError
        Shapes that differ, a row strained in two components, or a component with fewer than
        three distinct strains (no standard error then).
    """
    strains = np.asarray(strains, dtype=float)
    stresses = np.asarray(stresses, dtype=float)
    if strains.ndim != 2 or strains.shape[1] != 6 or stresses.shape != strains.shape:
        raise ValueError(f'strains and stresses: need two (n_cells, 6) arrays, got {strains.shape} and {stresses.shape}')
    strained = strains != 0.0
    mixed = np.flatnonzero(strained.sum(axis=1) > 1)
    if mixed.size:
        raise ValueError(f'strains: cell {mixed[0]} is strained in more than one Voigt component')
    c, stderr = np.zeros((6, 6)), np.zeros((6, 6))
    for j, component in enumerate(VOIGT_COMPONENTS):
        rows = ~strained.any(axis=1) | strained[:, j]
        x, y = strains[rows, j], stresses[rows]
        if np.unique(x).size < 3:
            raise ValueError(f'strains: component {component} needs at least three distinct strains '
                             f'(zero included), got {np.unique(x).size}')
        dx = x - x.mean()
        sxx = dx @ dx
        slope = dx @ (y - y.mean(axis=0)) / sxx
        residuals = y - y.mean(axis=0) - np.outer(dx, slope)
        c[:, j] = slope
        stderr[:, j] = np.sqrt((residuals**2).sum(axis=0) / (x.size - 2) / sxx)
    return c, stderr


def symmetrise(c: np.ndarray, stderr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(C + C^T) / 2`` and its standard error ``sqrt(s_ij^2 + s_ji^2) / 2`` (independent slopes).

    Parameters
    ----------
    c, stderr : array_like, shape (6, 6)
        Fitted constants and their standard errors, GPa.

    Returns
    -------
    tuple of np.ndarray, shape (6, 6)
        Symmetric constants and their standard errors, GPa.
    """
    c, stderr = np.asarray(c, dtype=float), np.asarray(stderr, dtype=float)
    return (c + c.T) / 2.0, np.sqrt(stderr**2 + stderr.T**2) / 2.0


def isotropic_constants(c: np.ndarray, stderr: np.ndarray) -> dict[str, float]:
    """Paper 002's isotropic averages: ``C11``, ``C44`` and ``C12 = C11 - 2 C44`` (eq. 10).

    Parameters
    ----------
    c, stderr : array_like, shape (6, 6)
        Elastic constants and their standard errors, GPa.

    Returns
    -------
    dict
        ``c11_gpa`` (mean of C11, C22, C33), ``c44_gpa`` (mean of C44, C55, C66), ``c12_gpa``
        and their standard errors ``c11_stderr_gpa``, ``c44_stderr_gpa``, ``c12_stderr_gpa``
        (independent errors propagated), GPa.
    """
    diagonal, errors = np.diag(np.asarray(c, dtype=float)), np.diag(np.asarray(stderr, dtype=float))
    c11, c44 = diagonal[:3].mean(), diagonal[3:].mean()
    c11_err, c44_err = np.sqrt((errors[:3]**2).sum()) / 3.0, np.sqrt((errors[3:]**2).sum()) / 3.0
    return {'c11_gpa': float(c11), 'c12_gpa': float(c11 - 2.0 * c44), 'c44_gpa': float(c44),
            'c11_stderr_gpa': float(c11_err), 'c12_stderr_gpa': float(np.hypot(c11_err, 2.0 * c44_err)),
            'c44_stderr_gpa': float(c44_err)}


def youngs_modulus_poisson_ratio(c11: float, c12: float) -> tuple[float, float]:
    """Young's modulus and Poisson's ratio of an isotropic solid (paper 002 eqs. 11 and 12).

    Parameters
    ----------
    c11, c12 : float
        Isotropic elastic constants, GPa.

    Returns
    -------
    tuple of float
        ``E = (C11 - C12)(C11 + 2 C12) / (C11 + C12)``, GPa, and ``nu = C12 / (C11 + C12)``.
    """
    return (c11 - c12) * (c11 + 2.0 * c12) / (c11 + c12), c12 / (c11 + c12)


def voigt_reuss_hill(c: np.ndarray) -> dict[str, float]:
    """Voigt, Reuss and Hill bulk and shear moduli of a (6, 6) stiffness matrix.

    ``B_V = [(C11 + C22 + C33) + 2 (C12 + C13 + C23)] / 9``,
    ``G_V = [(C11 + C22 + C33) - (C12 + C13 + C23) + 3 (C44 + C55 + C66)] / 15``; with the
    compliance ``S = C^-1``: ``1 / B_R = (S11 + S22 + S33) + 2 (S12 + S13 + S23)``,
    ``15 / G_R = 4 (S11 + S22 + S33) - 4 (S12 + S13 + S23) + 3 (S44 + S55 + S66)``; Hill is the
    mean of the two bounds.

    Parameters
    ----------
    c : array_like, shape (6, 6)
        Symmetric elastic constants, GPa (Voigt order, engineering shears).

    Returns
    -------
    dict
        ``bulk_modulus_{voigt,reuss,hill}_gpa`` and ``shear_modulus_{voigt,reuss,hill}_gpa``, GPa.

    Raises
    ------
    ValueError
        For a singular ``c`` (no compliance).
    """
    c = np.asarray(c, dtype=float)
    if np.linalg.cond(c) > 1e12:
        raise ValueError('c: the elastic constants are singular; the Reuss bounds need their inverse')
    s = np.linalg.inv(c)

    def sums(m):
        """Sums of the normal diagonal, the normal off-diagonal and the shear diagonal."""
        return np.trace(m[:3, :3]), m[0, 1] + m[0, 2] + m[1, 2], np.trace(m[3:, 3:])

    (c_nn, c_no, c_ss), (s_nn, s_no, s_ss) = sums(c), sums(s)
    bulk_voigt, shear_voigt = (c_nn + 2.0 * c_no) / 9.0, (c_nn - c_no + 3.0 * c_ss) / 15.0
    bulk_reuss, shear_reuss = 1.0 / (s_nn + 2.0 * s_no), 15.0 / (4.0 * s_nn - 4.0 * s_no + 3.0 * s_ss)
    return {
        'bulk_modulus_voigt_gpa': float(bulk_voigt), 'bulk_modulus_reuss_gpa': float(bulk_reuss),
        'bulk_modulus_hill_gpa': float((bulk_voigt + bulk_reuss) / 2.0),
        'shear_modulus_voigt_gpa': float(shear_voigt), 'shear_modulus_reuss_gpa': float(shear_reuss),
        'shear_modulus_hill_gpa': float((shear_voigt + shear_reuss) / 2.0),
    }


def universal_anisotropy(moduli: dict[str, float]) -> float:
    """The universal anisotropy index ``A^U = 5 G_V / G_R + B_V / B_R - 6`` (0 when isotropic).

    Parameters
    ----------
    moduli : dict
        :func:`voigt_reuss_hill`'s result, GPa.
    """
    return (5.0 * moduli['shear_modulus_voigt_gpa'] / moduli['shear_modulus_reuss_gpa']
            + moduli['bulk_modulus_voigt_gpa'] / moduli['bulk_modulus_reuss_gpa'] - 6.0)


def zener_ratio(c: np.ndarray) -> float:
    """Zener-like ratio ``2 C44 / (C11 - C12)`` of the measured averages (1 when isotropic).

    Unlike eq. 10, which makes ``C12`` from ``C11`` and ``C44``, ``C12`` here is the mean of
    the fitted ``C12, C13, C23``, so the ratio tests the isotropy that eq. 10 assumes.

    Parameters
    ----------
    c : array_like, shape (6, 6)
        Elastic constants, GPa.
    """
    c = np.asarray(c, dtype=float)
    c11, c44 = np.trace(c[:3, :3]) / 3.0, np.trace(c[3:, 3:]) / 3.0
    c12 = (c[0, 1] + c[0, 2] + c[1, 2]) / 3.0
    return float(2.0 * c44 / (c11 - c12))


def elastic_properties(strains: np.ndarray, pressures: np.ndarray) -> dict:
    """Everything the elastic workflow reports, from the strains and pressure tensors of the cells.

    Parameters
    ----------
    strains : array_like, shape (n_cells, 6)
        Voigt strain of every cell (engineering shears), dimensionless; see
        :func:`fit_elastic_constants`.
    pressures : array_like, shape (n_cells, 3, 3)
        Pressure tensor of every cell, positive in compression (LAMMPS' sign), GPa.

    Returns
    -------
    dict
        ``c_gpa`` (6, 6) symmetrised constants, ``c_stderr_gpa`` (6, 6) their fit standard
        errors, ``c_asymmetry_gpa`` the largest ``|C_ij - C_ji|`` of the fit; the isotropic
        ``c11_gpa``, ``c12_gpa``, ``c44_gpa`` (eq. 10) with ``*_stderr_gpa``;
        ``youngs_modulus_gpa`` and ``poisson_ratio`` (eqs. 11-12); the six Voigt / Reuss /
        Hill moduli of :func:`voigt_reuss_hill`; ``universal_anisotropy`` (A^U) and
        ``zener_ratio``; ``reference_stress_gpa`` (6,), the mean Voigt stress of the
        unstrained cells (the residual stress the constants were measured at). Arrays as
        nested lists; GPa.
    """
    stresses = stress_from_pressure(pressures)
    c_fit, stderr_fit = fit_elastic_constants(strains, stresses)
    c, stderr = symmetrise(c_fit, stderr_fit)
    isotropic = isotropic_constants(c, stderr)
    youngs, poisson = youngs_modulus_poisson_ratio(isotropic['c11_gpa'], isotropic['c12_gpa'])
    moduli = voigt_reuss_hill(c)
    return {
        'c_gpa': c.tolist(), 'c_stderr_gpa': stderr.tolist(),
        'c_asymmetry_gpa': float(np.abs(c_fit - c_fit.T).max()),
        **isotropic, 'youngs_modulus_gpa': float(youngs), 'poisson_ratio': float(poisson), **moduli,
        'universal_anisotropy': float(universal_anisotropy(moduli)), 'zener_ratio': zener_ratio(c),
        'reference_stress_gpa': stresses[~np.asarray(strains, dtype=float).any(axis=1)].mean(axis=0).tolist(),
    }
