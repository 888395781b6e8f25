"""Calcfunctions that derive simulation inputs from a composition (provenance of every choice)."""
from __future__ import annotations

import math

from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.functions.exit_codes import CalcfunctionError, returns_exit_codes
from aiida_boroglass.glass.composition import Composition
from aiida_boroglass.glass.forcefields import build_forcefield


def resolve_forcefield(glass: Composition, name: str, n_atoms: int) -> dict:
    """The force field ``name`` resolved for ``n_atoms`` atoms of ``glass`` (composition-dependent B-O, O charge).

    R = [M2O]/[B2O3] and K = [SiO2]/[B2O3] come from the composition; glasses without
    B2O3 take R = K = 0 (their B-O terms are unused). The melt-quench validator calls this
    before anything is stored, :func:`forcefield_parameters` when the workflow runs.

    Parameters
    ----------
    glass : Composition
    name : str
        A force-field name of :data:`aiida_boroglass.glass.forcefields.FORCEFIELDS`.
    n_atoms : int
        Requested number of atoms (whole formula units are used).

    Returns
    -------
    dict
        :func:`aiida_boroglass.glass.forcefields.build_forcefield`'s dict.

    Raises
    ------
    CalcfunctionError
        ``ERROR_FORCEFIELD_UNAVAILABLE``: an element the force field does not cover (e.g.
        P in SHIK), a ratio out of its range, or atom counts that cannot be made; the
        message names ``forcefield`` and the composition.
    """
    try:
        counts = glass.atom_counts(n_atoms).counts
        has_boron = 'B2O3' in glass.fractions
        ratio_r = glass.ratio_r if has_boron else 0.0
        ratio_k = glass.ratio_k if has_boron else 0.0
        if not math.isfinite(ratio_r) or not math.isfinite(ratio_k):
            raise ValueError(f'R = {ratio_r}, K = {ratio_k} must be finite')
        return build_forcefield(name, counts, ratio_r=ratio_r, ratio_k=ratio_k)
    except ValueError as exception:
        raise CalcfunctionError('ERROR_FORCEFIELD_UNAVAILABLE',
                                f'forcefield: {name!r} cannot describe {glass.label}: {exception}') from None


@calcfunction
@returns_exit_codes
def forcefield_parameters(composition: CompositionData, name: orm.Str, n_atoms: orm.Int) -> orm.Dict:
    """Resolve a force field for a composition (:func:`resolve_forcefield`); exit code 310 if it cannot."""
    return orm.Dict(resolve_forcefield(composition.composition, name.value, n_atoms.value))


@calcfunction
@returns_exit_codes
def reference_density(composition: CompositionData) -> orm.Float:
    """Density of a composition from the cited table (or its documented estimate), g/cm^3.

    The node's ``source`` attribute holds the citation.
    """
    estimate = composition.composition.density()
    density = orm.Float(estimate.value_g_cm3)
    density.base.attributes.set('source', estimate.source)
    return density
