"""Element data used across the package: standard atomic weights and unit constants.

Values are the IUPAC 2021 abridged standard atomic weights (Prohaska et al.,
Pure Appl. Chem. 94, 573 (2022)), in g/mol. Lithium and boron have natural
intervals; the conventional values are used.
"""

ATOMIC_MASSES_G_MOL: dict[str, float] = {
    'Li': 6.94,  # interval [6.938, 6.997]
    'B': 10.81,  # interval [10.806, 10.821]
    'O': 15.999,  # interval [15.99903, 15.99977]
    'Na': 22.98976928,
    'Al': 26.9815384,
    'Si': 28.085,  # interval [28.084, 28.086]
    'P': 30.973761998,
    'K': 39.0983,
}

#: Avogadro constant in 1/mol (exact, SI 2019).
AVOGADRO_PER_MOL = 6.02214076e23

#: Cubic centimetres per cubic ångström (1 Å = 1e-8 cm).
CM3_PER_A3 = 1e-24

#: Hartree energy in eV (CODATA 2018).
HARTREE_EV = 27.211386245988

#: Bohr radius in Å (CODATA 2018).
BOHR_A = 0.529177210903

#: Atomic unit of force (Hartree/Bohr) in eV/Å.
HARTREE_BOHR_EV_A = HARTREE_EV / BOHR_A

#: GPa per eV/Å^3 (1 eV/Å^3 = 1.602176634e-19 J / 1e-30 m^3).
GPA_PER_EV_A3 = 160.2176634

#: Atomic unit of electric field (Hartree/(e Bohr)) in V/Å.
FIELD_AU_V_A = HARTREE_EV / BOHR_A


def atomic_mass_g_mol(element: str) -> float:
    """Return the standard atomic weight of ``element``.

    Parameters
    ----------
    element : str
        Element symbol, one of the keys of :data:`ATOMIC_MASSES_G_MOL`.

    Returns
    -------
    float
        Atomic weight in g/mol.

    Raises
    ------
    ValueError
        If the element is not one the package models.
    """
    try:
        return ATOMIC_MASSES_G_MOL[element]
    except KeyError:
        raise ValueError(
            f'species: unknown element {element!r}; allowed: {", ".join(ATOMIC_MASSES_G_MOL)}'
        ) from None
