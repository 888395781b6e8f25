"""Cell volume, number density (atoms/Å^3) and mass density (g/cm^3).

Pure numpy; no AiiDA import.

Atomic masses are IUPAC standard atomic weights 2021 (Prohaska et al., "Standard atomic
weights of the elements 2021 (IUPAC Technical Report)", Pure Appl. Chem. 94, 573
(2022)); for the elements whose standard atomic weight is an interval (Li, B, O, Si)
the conventional value of that report is used.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from aiida_boroglass.glass.elements import ATOMIC_MASSES_G_MOL, AVOGADRO_PER_MOL, CM3_PER_A3

from .neighbors import as_cell

__all__ = (
    'ATOMIC_MASSES_G_MOL',
    'AVOGADRO_PER_MOL',
    'CATIONS_PER_OXIDE',
    'CM3_PER_A3',
    'cell_volume_a3',
    'mass_density_g_cm3',
    'molar_volume_cm3_mol',
    'number_density_a3',
)



def cell_volume_a3(cell) -> float | np.ndarray:
    """Cell volume in Å^3.

    Parameters
    ----------
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows.

    Returns
    -------
    float or numpy.ndarray of shape (n_frames,)
        ``|det(cell)|`` in Å^3 (a float for one cell).
    """
    arr = np.asarray(cell, dtype=float)
    if arr.ndim == 3 and arr.shape[1:] == (3, 3):
        return np.array([abs(np.linalg.det(as_cell(c, name=f'cell[{k}]'))) for k, c in enumerate(arr)])
    return float(abs(np.linalg.det(as_cell(arr))))


def number_density_a3(n_atoms: int, cell) -> float | np.ndarray:
    """Number density in atoms/Å^3.

    Parameters
    ----------
    n_atoms : int
        Number of atoms in the cell (> 0).
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows.

    Returns
    -------
    float or numpy.ndarray of shape (n_frames,)
        atoms/Å^3.
    """
    if isinstance(n_atoms, bool) or not isinstance(n_atoms, (int, np.integer)) or n_atoms < 1:
        raise ValueError(f'n_atoms must be a positive integer, got {n_atoms!r}')
    return int(n_atoms) / cell_volume_a3(cell)


def mass_density_g_cm3(
    species: Sequence[str],
    cell,
    masses: Mapping[str, float] | None = None,
) -> float | np.ndarray:
    """Mass density in g/cm^3.

    ``rho = sum_i m_i / N_A / (V * 1e-24 cm^3/Å^3)`` with ``m_i`` in g/mol.

    Parameters
    ----------
    species : sequence of str, shape (n_atoms,)
        Element symbols of the atoms in the cell.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows.
    masses : Mapping[str, float], optional
        Atomic masses in g/mol that add to or override :data:`ATOMIC_MASSES_G_MOL`.

    Returns
    -------
    float or numpy.ndarray of shape (n_frames,)
        g/cm^3.

    Raises
    ------
    ValueError
        Empty ``species``, an element without a known mass (naming ``species`` and the
        element), a non-positive mass in ``masses``, or a bad cell.
    """
    table = dict(ATOMIC_MASSES_G_MOL)
    if masses is not None:
        for element, value in masses.items():
            if not np.isfinite(value) or value <= 0.0:
                raise ValueError(f'masses[{element!r}] must be a positive mass in g/mol, got {value!r}')
            table[str(element)] = float(value)
    symbols = np.asarray(species)
    if symbols.ndim != 1 or symbols.size == 0:
        raise ValueError(
            f'species must be a non-empty one-dimensional sequence of element symbols, got shape {symbols.shape}'
        )
    elements, counts = np.unique(symbols.astype(str), return_counts=True)
    unknown = [e for e in elements.tolist() if e not in table]
    if unknown:
        raise ValueError(
            f'species contains element(s) {unknown} with no known mass; known: {sorted(table)} '
            '(pass masses={symbol: g/mol} to add one)'
        )
    molar_mass = float(sum(table[e] * c for e, c in zip(elements.tolist(), counts.tolist())))
    return molar_mass / AVOGADRO_PER_MOL / (cell_volume_a3(cell) * CM3_PER_A3)


#: Cations per oxide formula unit: Li2O, Na2O, K2O, B2O3, P2O5, Al2O3 have 2, SiO2 has 1.
CATIONS_PER_OXIDE = {'Li': 2, 'Na': 2, 'K': 2, 'B': 2, 'P': 2, 'Al': 2, 'Si': 1}


def molar_volume_cm3_mol(species: Sequence[str], cell, oxygen: str = 'O') -> float | np.ndarray:
    """Molar volume per mole of oxide formula units, cm^3/mol (as paper 000 Table 1).

    ``V_m = V N_A / n_ox`` with ``n_ox = sum_c N_c / nu_c`` the number of oxide units
    (Li2O, B2O3, SiO2, ...) in the cell, ``nu_c`` from :data:`CATIONS_PER_OXIDE`; for
    0.3Li2O-0.7B2O3 this is the volume of 0.3 mol Li2O + 0.7 mol B2O3.

    Parameters
    ----------
    species : sequence of str, shape (n_atoms,)
        Element symbols; every non-oxygen element must be in :data:`CATIONS_PER_OXIDE`.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows.
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    float or numpy.ndarray of shape (n_frames,)
        cm^3/mol.

    Raises
    ------
    ValueError
        An element with no oxide in :data:`CATIONS_PER_OXIDE` (naming ``species``) or no
        cation at all.
    """
    elements, counts = np.unique(np.asarray(species).astype(str), return_counts=True)
    unknown = [e for e in elements.tolist() if e != oxygen and e not in CATIONS_PER_OXIDE]
    if unknown:
        raise ValueError(f'species contains {unknown} with no oxide formula unit; known cations: {sorted(CATIONS_PER_OXIDE)}')
    units = sum(c / CATIONS_PER_OXIDE[e] for e, c in zip(elements.tolist(), counts.tolist()) if e != oxygen)
    if units == 0:
        raise ValueError('species contains no cation: the molar volume per oxide unit is undefined')
    return cell_volume_a3(cell) * CM3_PER_A3 * AVOGADRO_PER_MOL / units
