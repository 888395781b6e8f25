"""Random packing helpers: box size from density and the packmol input text (no AiiDA)."""
from __future__ import annotations

from collections.abc import Mapping

from aiida_boroglass.glass.elements import AVOGADRO_PER_MOL, CM3_PER_A3, atomic_mass_g_mol


def box_length_a(counts: Mapping[str, int], density_g_cm3: float) -> float:
    """Edge of the cubic box that holds ``counts`` at ``density_g_cm3``.

    Parameters
    ----------
    counts : Mapping[str, int]
        Number of atoms per element.
    density_g_cm3 : float
        Mass density, g/cm^3.

    Returns
    -------
    float
        Box edge, Å.
    """
    mass_g = sum(n * atomic_mass_g_mol(el) for el, n in counts.items()) / AVOGADRO_PER_MOL
    return (mass_g / density_g_cm3 / CM3_PER_A3) ** (1.0 / 3.0)


def packmol_input(counts: Mapping[str, int], length_a: float, tolerance_a: float, seed: int, output: str) -> str:
    """Return a packmol input that packs single atoms into a periodic cube.

    Parameters
    ----------
    counts : Mapping[str, int]
        Atoms per element; each element reads ``{element}.xyz`` (one atom).
    length_a : float
        Cube edge, Å; packmol's ``pbc`` keyword makes the box periodic.
    tolerance_a : float
        Minimum distance between atoms, Å.
    seed : int
        Random seed.
    output : str
        Name of the xyz file packmol writes.

    Returns
    -------
    str
        The packmol input text.
    """
    lines = [f'tolerance {tolerance_a}', 'filetype xyz', f'output {output}', f'seed {seed}',
             f'pbc 0. 0. 0. {length_a:.6f} {length_a:.6f} {length_a:.6f}']
    for element, number in counts.items():
        lines += [f'structure {element}.xyz', f'  number {number}', 'end structure']
    return '\n'.join(lines) + '\n'
