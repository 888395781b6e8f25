"""Fracture toughness of a pre-cracked glass (paper 002, section 2.8; Brochard's method).

Pure numpy; no AiiDA import. Cells are orthorhombic (lattice vectors along x, y, z); lengths in
Å, stresses in GPa (positive in **tension**), energies per area in J/m^2, moduli in GPa, the
toughness in MPa m^0.5.

Pre-crack (:func:`precrack_geometry`, :func:`precrack_removal`)
    An elliptical cylinder through the cell along the ``through`` axis, centred in the cell:
    its width (along the ``width`` axis, the longer of the two cell sides other than the
    loading axis) is a fraction (paper 002: 1/3) of the longest cell side, its height (along
    the loading axis, normal to the crack plane) a fraction (1/5) of the width. Paper 002
    removes the cations inside, then oxygens "iteratively from the ellipse to match the
    original composition"; here:

    1. every non-O atom whose elliptical distance ``rho`` (1 on the ellipse) is below 1 goes;
    2. under fixed charges (Deng-Du), while the removed charge ``Q`` is not a whole number of O
       charges, the next cation outside in order of ``rho`` (the one nearest the crack surface)
       whose charge makes it one goes too;
    3. ``round(Q / |q_O|)`` oxygens go, those of smallest ``rho``: the ones inside the ellipse
       first, then the ones nearest its surface.

    With fixed charges the cracked cell is exactly neutral and keeps the ratio of O to cation
    charge; with an O charge set by neutrality (SHIK) ``Q / |q_O|`` is rounded and the caller
    redefines the O charge for the new composition, as paper 002 does.
Crack area (:func:`column_gaps`, :func:`crack_area`)
    The crack is found, not assumed: the cross-section normal to the loading axis is covered
    by a grid of columns; a column holds the atoms within ``probe_radius`` of its axis (in the
    plane), and every periodic gap between consecutive atoms along the axis wider than
    ``gap`` is an opening. The crack area is the number of openings times the area per column:
    one crack across the whole cell counts the cross-section once, two cracks twice.
Energy release (:func:`fracture_energy`, :func:`fracture_toughness`)
    Eq. 13: ``G_c = L_x L_y / dA_inf * integral sigma_z dL_z`` (trapezoid rule over the
    recorded steps), the work done on the cell per unit of crack area created. ``dA_inf`` is
    the crack area (one face per crack; the energy of the two faces is ``2 gamma``, so an
    ideal cleavage gives ``G_c = 2 gamma``). Eq. 14: ``K_IC = sqrt(G_c E / (1 - nu^2))``
    (plane strain).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from aiida_boroglass.analysis.neighbors import as_positions, cell_is_orthorhombic

#: Paper 002: pre-crack width / longest cell side, and height / width.
WIDTH_FRACTION = 1.0 / 3.0
HEIGHT_FRACTION = 1.0 / 5.0
#: J/m^2 per GPa Å (1e9 Pa x 1e-10 m).
J_M2_PER_GPA_A = 0.1
#: Crack detection defaults (Å): column radius, smallest opening, grid spacing.
PROBE_RADIUS_A = 2.5
GAP_A = 4.5
GRID_A = 1.0
#: Separation: the stress within +- this fraction of its maximum on the last ``SEPARATION_HOLD_STEPS``
#: steps, and an opening in at least ``SEPARATION_AREA_FRACTION`` of the columns.
SEPARATION_STRESS_FRACTION = 0.05
SEPARATION_HOLD_STEPS = 2
SEPARATION_AREA_FRACTION = 0.95
#: Charges are whole multiples of the O charge within this tolerance (e).
CHARGE_TOLERANCE_E = 1e-6
OXYGEN = 'O'


def box_lengths(cell) -> np.ndarray:
    """Side lengths of an orthorhombic cell, shape (3,), Å.

    Raises
    ------
    ValueError
        A cell that is not orthorhombic.
    """
    cell = np.asarray(cell, dtype=float)
    if not cell_is_orthorhombic(cell):
        raise ValueError('cell: fracture needs an orthorhombic cell (lattice vectors along x, y, z)')
    return np.diag(cell).copy()


def precrack_geometry(lengths, width_fraction: float = WIDTH_FRACTION, height_fraction: float = HEIGHT_FRACTION,
                      normal_axis: int = 2) -> dict:
    """Axes and size of paper 002's elliptical pre-crack in a cell loaded along ``normal_axis``.

    Parameters
    ----------
    lengths : array_like, shape (3,)
        Cell side lengths, Å.
    width_fraction : float
        Width / longest cell side (paper 002: 1/3), in (0, 1).
    height_fraction : float
        Height / width (paper 002: 1/5), > 0.
    normal_axis : int
        Loading axis, normal to the crack plane (0, 1, 2).

    Returns
    -------
    dict
        ``width_axis``, ``through_axis`` (ints), ``width_a``, ``height_a`` (Å): the full axes of
        the ellipse; the width axis is the longer of the two other sides (the first on a tie).

    Raises
    ------
    ValueError
        A pre-crack that does not fit: its width not below the width side or its height not
        below the loading side.
    """
    lengths = np.asarray(lengths, dtype=float)
    others = [axis for axis in range(3) if axis != normal_axis]
    width_axis = max(others, key=lambda axis: (lengths[axis], -axis))
    through_axis = others[0] if others[1] == width_axis else others[1]
    width = width_fraction * lengths.max()
    height = height_fraction * width
    if not 0 < width < lengths[width_axis]:
        raise ValueError(f'crack.width_fraction: the pre-crack width {width:.2f} Å must lie in (0, '
                         f'{lengths[width_axis]:.2f}) Å, the cell side along {"xyz"[width_axis]}')
    if not 0 < height < lengths[normal_axis]:
        raise ValueError(f'crack.height_fraction: the pre-crack height {height:.2f} Å must lie in (0, '
                         f'{lengths[normal_axis]:.2f}) Å, the cell side along {"xyz"[normal_axis]}')
    return {'width_axis': width_axis, 'through_axis': through_axis, 'width_a': width, 'height_a': height}


def elliptical_distance(positions, lengths, width_axis: int, normal_axis: int, width: float, height: float) -> np.ndarray:
    """``rho = sqrt((2 du / width)^2 + (2 dv / height)^2)`` from the cell centre (minimum image).

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian positions, Å.
    lengths : array_like, shape (3,)
        Orthorhombic cell side lengths, Å.
    width_axis, normal_axis : int
        Axes of the ellipse's width ``u`` and height ``v``.
    width, height : float
        Full axes of the ellipse, Å.

    Returns
    -------
    np.ndarray, shape (n_atoms,)
        Dimensionless; < 1 inside the elliptical cylinder.
    """
    lengths = np.asarray(lengths, dtype=float)
    delta = as_positions(positions) - lengths / 2.0
    delta -= lengths * np.round(delta / lengths)
    return np.hypot(2.0 * delta[:, width_axis] / width, 2.0 * delta[:, normal_axis] / height)


def precrack_removal(rho: np.ndarray, species: Sequence[str], charges: Mapping[str, float],
                     fixed_charges: bool = True) -> np.ndarray:
    """Atoms to remove for the pre-crack, composition and charge balance restored (module docstring).

    Parameters
    ----------
    rho : array_like, shape (n_atoms,)
        Elliptical distance of every atom (:func:`elliptical_distance`).
    species : sequence of str, length n_atoms
        Element of every atom; oxygen is ``'O'``.
    charges : Mapping
        Element -> charge, e (the force field's, or formal valences).
    fixed_charges : bool
        True: the O charge stays (the removed charge must be a whole number of O charges);
        False: the caller redefines it after (the O count is rounded).

    Returns
    -------
    np.ndarray of bool, shape (n_atoms,)
        True for the atoms to remove.

    Raises
    ------
    ValueError
        No cation inside the ellipse, no cation that can balance the charge, or too few O atoms.
    """
    rho = np.asarray(rho, dtype=float)
    species = np.asarray(species)
    missing = sorted(set(species.tolist()) - set(charges))
    if missing:
        raise ValueError(f'charges: none given for {missing}')
    charge = np.array([charges[symbol] for symbol in species], dtype=float)
    oxygen_charge = abs(charges.get(OXYGEN, 0.0))
    if not oxygen_charge:
        raise ValueError('charges: the O charge must be non-zero')
    is_oxygen = species == OXYGEN
    removed = ~is_oxygen & (rho < 1.0)
    if not removed.any():
        raise ValueError('crack: no cation lies inside the pre-crack; make it larger')

    def excess(mask):
        ratio = charge[mask].sum() / oxygen_charge
        return ratio - np.round(ratio)

    if fixed_charges and abs(excess(removed)) > CHARGE_TOLERANCE_E:
        outside = np.flatnonzero(~is_oxygen & ~removed)
        for index in outside[np.argsort(rho[outside], kind='stable')]:
            removed[index] = True
            if abs(excess(removed)) <= CHARGE_TOLERANCE_E:
                break
            removed[index] = False
        else:
            raise ValueError('charges: no cation can make the removed charge a whole number of O charges')
    count = int(np.round(charge[removed].sum() / oxygen_charge))
    oxygens = np.flatnonzero(is_oxygen)
    if count > oxygens.size:
        raise ValueError(f'crack: {count} O atoms must go but the cell holds {oxygens.size}')
    removed[oxygens[np.argsort(rho[oxygens], kind='stable')[:count]]] = True
    return removed


def replicate_box(positions, species: Sequence[str], lengths, repeats: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replicate an orthorhombic cell ``repeats = (n_x, n_y, n_z)`` times (paper 002: 1 x 2 x 2).

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian positions, Å.
    species : sequence of str, length n_atoms
        Element of every atom.
    lengths : array_like, shape (3,)
        Cell side lengths, Å.
    repeats : sequence of int, length 3
        Copies along x, y, z, each >= 1.

    Returns
    -------
    positions : np.ndarray, shape (n_atoms * prod(repeats), 3)
        Image after image, each in the input's atom order, Å.
    species : np.ndarray of str, shape (n_atoms * prod(repeats),)
    lengths : np.ndarray, shape (3,)
        Side lengths of the supercell, Å.
    """
    positions = as_positions(positions)
    lengths = np.asarray(lengths, dtype=float)
    shifts = np.indices(tuple(repeats)).reshape(3, -1).T * lengths
    replicated = (shifts[:, None, :] + positions[None, :, :]).reshape(-1, 3)
    return replicated, np.tile(np.asarray(species), len(shifts)), lengths * np.asarray(repeats)


def precrack_mask(positions, species: Sequence[str], lengths, charges: Mapping[str, float], fixed_charges: bool = True,
                  width_fraction: float = WIDTH_FRACTION, height_fraction: float = HEIGHT_FRACTION,
                  normal_axis: int = 2) -> tuple[np.ndarray, dict]:
    """Atoms that paper 002's pre-crack removes from a cell, and its geometry.

    :func:`precrack_geometry`, :func:`elliptical_distance` from the cell centre, then
    :func:`precrack_removal` (same parameters).

    Returns
    -------
    removed : np.ndarray of bool, shape (n_atoms,)
    geometry : dict
        :func:`precrack_geometry`.
    """
    geometry = precrack_geometry(lengths, width_fraction, height_fraction, normal_axis)
    rho = elliptical_distance(positions, lengths, geometry['width_axis'], normal_axis, geometry['width_a'],
                              geometry['height_a'])
    return precrack_removal(rho, species, charges, fixed_charges), geometry


def column_gaps(positions, lengths, normal_axis: int = 2, probe_radius: float = PROBE_RADIUS_A,
                gap: float = GAP_A, grid: float = GRID_A) -> np.ndarray:
    """Openings of every column of a grid over the cross-section normal to ``normal_axis``.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian positions, Å.
    lengths : array_like, shape (3,)
        Orthorhombic cell side lengths, Å.
    normal_axis : int
        Loading axis; the columns run along it.
    probe_radius : float
        In-plane radius of a column, Å.
    gap : float
        Smallest empty stretch along a column that counts as an opening, Å.
    grid : float
        Largest spacing of the column axes, Å (the grid divides each side evenly).

    Returns
    -------
    np.ndarray of int, shape (n_u, n_v)
        Openings per column, the in-plane axes in increasing order; a column without atoms
        counts one.
    """
    positions = as_positions(positions)
    lengths = np.asarray(lengths, dtype=float)
    u_axis, v_axis = [axis for axis in range(3) if axis != normal_axis]
    plane = lengths[[u_axis, v_axis]]
    counts = np.maximum(np.ceil(plane / grid).astype(int), 1)
    spacing = plane / counts
    # every (atom, column) pair within reach of the atom's nearest column, then those within the radius
    reach = np.ceil(probe_radius / spacing).astype(int) + 1
    in_plane = positions[:, [u_axis, v_axis]] % plane
    nearest = np.floor(in_plane / spacing).astype(int)
    offsets = np.stack(np.meshgrid(np.arange(-reach[0], reach[0] + 1), np.arange(-reach[1], reach[1] + 1),
                                   indexing='ij'), axis=-1).reshape(-1, 2)
    columns = nearest[:, None, :] + offsets[None, :, :]  # (n_atoms, n_offsets, 2)
    delta = in_plane[:, None, :] - (columns + 0.5) * spacing
    delta -= plane * np.round(delta / plane)
    atom, offset = np.nonzero((delta**2).sum(axis=-1) < probe_radius**2)
    column = np.ravel_multi_index(tuple((columns[atom, offset] % counts).T), tuple(counts))
    height = positions[atom, normal_axis] % lengths[normal_axis]
    order = np.lexsort((height, column))
    column, height = column[order], height[order]
    openings = np.zeros(counts.prod(), dtype=int)
    same = column[1:] == column[:-1]
    np.add.at(openings, column[1:][same & (np.diff(height) > gap)], 1)
    first = np.flatnonzero(np.r_[True, ~same])
    last = np.r_[first[1:] - 1, column.size - 1]
    wrap = height[first] + lengths[normal_axis] - height[last] > gap
    np.add.at(openings, column[first][wrap], 1)
    empty = np.ones(counts.prod(), dtype=bool)
    empty[column] = False
    openings[empty] = 1
    return openings.reshape(tuple(counts))


def crack_area(openings: np.ndarray, lengths, normal_axis: int = 2) -> float:
    """Crack area, Å^2: openings times the cross-section area per column (one face per crack).

    Parameters
    ----------
    openings : array_like of int, shape (n_u, n_v)
        :func:`column_gaps`.
    lengths : array_like, shape (3,)
        Cell side lengths, Å.
    normal_axis : int
        Loading axis.
    """
    openings = np.asarray(openings)
    cross_section = np.prod(np.delete(np.asarray(lengths, dtype=float), normal_axis))
    return float(openings.sum() * cross_section / openings.size)


def is_separated(stress_gpa, openings, stress_fraction: float = SEPARATION_STRESS_FRACTION,
                 hold_steps: int = SEPARATION_HOLD_STEPS, area_fraction: float = SEPARATION_AREA_FRACTION) -> bool:
    """Whether the sample has come apart.

    Both: the stress of the last ``hold_steps`` steps is within ``+-stress_fraction`` of its
    maximum (positive), and at least ``area_fraction`` of the columns of the latest frame hold an
    opening (a gap spans the cross-section). The stress must die out both ways: separated faces
    that still repel (or attract) each other are not yet apart.

    Parameters
    ----------
    stress_gpa : array_like, shape (n_steps,)
        Stress along the loading axis at every step so far, GPa, positive in tension.
    openings : array_like of int, shape (n_u, n_v)
        :func:`column_gaps` of the latest frame.
    stress_fraction, area_fraction : float
        In (0, 1).
    hold_steps : int
        >= 1.
    """
    stress = np.asarray(stress_gpa, dtype=float)
    peak = stress.max(initial=0.0)
    if peak <= 0 or stress.size < hold_steps:
        return False
    relaxed = bool(np.all(np.abs(stress[-hold_steps:]) < stress_fraction * peak))
    return relaxed and float(np.mean(np.asarray(openings) > 0)) >= area_fraction


def fracture_energy(lengths_a, stress_gpa, cross_section_a2: float, crack_area_a2: float) -> float:
    """Critical energy release rate ``G_c``, J/m^2 (paper 002, eq. 13).

    Parameters
    ----------
    lengths_a : array_like, shape (n_steps,)
        Cell length along the loading axis at every step, Å, increasing.
    stress_gpa : array_like, shape (n_steps,)
        Stress along the loading axis, GPa, positive in tension.
    cross_section_a2 : float
        ``L_x L_y``: the cell's cross-section normal to the loading axis, Å^2.
    crack_area_a2 : float
        ``dA_inf``: the crack area created, Å^2, > 0.

    Returns
    -------
    float
        ``G_c = L_x L_y / dA * integral sigma dL`` (trapezoids), J/m^2.
    """
    lengths = np.asarray(lengths_a, dtype=float)
    stress = np.asarray(stress_gpa, dtype=float)
    if lengths.shape != stress.shape or lengths.ndim != 1 or lengths.size < 2:
        raise ValueError(f'lengths and stress: need two (n_steps,) arrays, n_steps >= 2, got {lengths.shape}, {stress.shape}')
    if not crack_area_a2 > 0:
        raise ValueError(f'crack_area: must be > 0 Å^2, got {crack_area_a2}')
    work = np.sum((stress[1:] + stress[:-1]) / 2.0 * np.diff(lengths))
    return float(J_M2_PER_GPA_A * work * cross_section_a2 / crack_area_a2)


def fracture_toughness(g_c_j_m2: float, youngs_modulus_gpa: float, poisson_ratio: float) -> float:
    """``K_IC = sqrt(G_c E / (1 - nu^2))``, MPa m^0.5 (paper 002, eq. 14; plane strain).

    Parameters
    ----------
    g_c_j_m2 : float
        Critical energy release rate, J/m^2, >= 0.
    youngs_modulus_gpa : float
        Young's modulus, GPa, > 0.
    poisson_ratio : float
        In (-1, 0.5).
    """
    if not (g_c_j_m2 >= 0 and youngs_modulus_gpa > 0 and -1 < poisson_ratio < 0.5):
        raise ValueError(f'need G_c >= 0, E > 0 and nu in (-1, 0.5); got {g_c_j_m2}, {youngs_modulus_gpa}, {poisson_ratio}')
    return float(np.sqrt(g_c_j_m2 * youngs_modulus_gpa * 1e9 / (1.0 - poisson_ratio**2)) / 1e6)
