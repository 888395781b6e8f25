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
    'CM3_PER_A3',
    'cell_volume_a3',
    'mass_density_g_cm3',
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
