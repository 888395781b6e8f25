"""Calcfunctions of the first analyses of a glass: density, B-O cutoff, N4, oxygen speciation."""
from __future__ import annotations

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.analysis.density import mass_density_g_cm3
from aiida_boroglass.analysis.neighbors import max_cutoff
from aiida_boroglass.analysis.cutoffs import rule_cutoff
from aiida_boroglass.analysis.rdf import partial_rdf
from aiida_boroglass.analysis.speciation import NETWORK_FORMERS, coordination_distribution, oxygen_speciation
from aiida_boroglass.functions.exit_codes import returns_exit_codes
from aiida_boroglass.functions.utils import frames_of, require_elements


@calcfunction
@returns_exit_codes
def glass_density(structure: orm.StructureData) -> orm.Float:
    """Mass density of a glass structure, g/cm^3."""
    _, cells, symbols = frames_of(structure)
    return orm.Float(float(mass_density_g_cm3(symbols, cells[0])))


@calcfunction
@returns_exit_codes
def boron_oxygen_rdf(glass: orm.Data) -> dict:
    """g_BO(r) averaged over frames and the B-O bond cutoff at its first minimum.

    Returns ``rdf`` (XyData: r in Å, g dimensionless) and ``cutoff_bo_a`` (Float, Å; the
    first minimum, or 2.0 Å when there is none or it falls outside 1.6-2.4 Å: the B-O rule
    of :data:`aiida_boroglass.analysis.cutoffs.BOND_CUTOFF_RULES`).
    """
    positions, cells, symbols = frames_of(glass)
    require_elements(symbols, 'g_BO(r)', needed=('B', 'O'))
    r_max = min(6.0, 0.999 * min(max_cutoff(cell) for cell in cells))
    r, g = partial_rdf(positions, cells, symbols, 'B', 'O', r_max=r_max, n_bins=int(r_max / 0.02))
    cutoff = rule_cutoff('B-O', r, g).value_a
    rdf = orm.XyData()
    rdf.set_x(r, 'r', 'A')
    rdf.set_y(g, 'g_BO', 'dimensionless')
    return {'rdf': rdf, 'cutoff_bo_a': orm.Float(float(cutoff))}


@calcfunction
@returns_exit_codes
def boron_coordination(glass: orm.Data, cutoff_bo_a: orm.Float) -> orm.Dict:
    """Boron coordination distribution and N4 = fraction of four-fold boron (frames pooled)."""
    positions, cells, symbols = frames_of(glass)
    require_elements(symbols, 'N4', needed=('B', 'O'))
    distribution = coordination_distribution(positions, cells, symbols, 'B', 'O', cutoff_bo_a.value)
    return orm.Dict({
        'n4': float(distribution.get(4, 0.0)), 'n3': float(distribution.get(3, 0.0)),
        'distribution': {str(k): float(v) for k, v in sorted(distribution.items())},
        'mean_coordination': float(sum(k * v for k, v in distribution.items())),
        'cutoff_bo_a': cutoff_bo_a.value, 'n_frames': int(len(positions)),
    })


@calcfunction
@returns_exit_codes
def oxygen_bridging(glass: orm.Data, cutoff_bo_a: orm.Float) -> orm.Dict:
    """Bridging, non-bridging and free oxygen fractions (network formers B, P, Si, Al)."""
    positions, cells, symbols = frames_of(glass)
    require_elements(symbols, 'the oxygen speciation', needed=('O',), any_of=NETWORK_FORMERS)
    present = set(symbols)
    cutoffs = {former: cutoff_bo_a.value for former in NETWORK_FORMERS if former in present}
    result = oxygen_speciation(positions, cells, symbols, cutoffs)
    return orm.Dict({**{k: float(v) for k, v in result.items()}, 'cutoffs_a': cutoffs,
                     'n_frames': int(np.shape(positions)[0])})
