"""Calcfunctions that derive simulation inputs from a composition (provenance of every choice)."""
from __future__ import annotations

import math

from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.glass.forcefields import build_forcefield


@calcfunction
def forcefield_parameters(composition: CompositionData, name: orm.Str, n_atoms: orm.Int) -> orm.Dict:
    """Resolve a force field for a composition (composition-dependent B-O prefactor, O charge).

    R = [M2O]/[B2O3] and K = [SiO2]/[B2O3] come from the composition; glasses without
    B2O3 take R = K = 0 (their B-O terms are unused).
    """
    glass = composition.composition
    counts = glass.atom_counts(n_atoms.value).counts
    has_boron = 'B2O3' in glass.fractions
    ratio_r = glass.ratio_r if has_boron else 0.0
    ratio_k = glass.ratio_k if has_boron else 0.0
    if not math.isfinite(ratio_r) or not math.isfinite(ratio_k):
        raise ValueError(f'composition: R={ratio_r}, K={ratio_k} must be finite')
    return orm.Dict(build_forcefield(name.value, counts, ratio_r=ratio_r, ratio_k=ratio_k))


@calcfunction
def reference_density(composition: CompositionData) -> orm.Float:
    """Density of a composition from the cited table (or its documented estimate), g/cm^3.

    The node's ``source`` attribute holds the citation.
    """
    estimate = composition.composition.density()
    density = orm.Float(estimate.value_g_cm3)
    density.base.attributes.set('source', estimate.source)
    return density
