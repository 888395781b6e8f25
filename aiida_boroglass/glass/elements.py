"""Element data used across the package: standard atomic weights.

Values are the IUPAC 2021 abridged standard atomic weights (Prohaska et al.,
Pure Appl. Chem. 94, 573 (2022)), in g/mol. Lithium and boron have natural
intervals; the conventional values are used.
"""

ATOMIC_MASSES_G_MOL: dict[str, float] = {
    'Li': 6.94,
    'B': 10.81,
    'O': 15.999,
    'Na': 22.990,
    'Al': 26.982,
    'Si': 28.085,
    'P': 30.974,
    'K': 39.098,
}

#: Formal oxidation states, used for charge-neutrality checks (units of e).
FORMAL_CHARGES_E: dict[str, int] = {'Li': 1, 'Na': 1, 'K': 1, 'B': 3, 'Al': 3, 'Si': 4, 'P': 5, 'O': -2}


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
