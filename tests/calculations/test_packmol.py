"""Random periodic packing with the real packmol executable."""
import re

import numpy as np
import pytest
from aiida.engine import run_get_node

from aiida_boroglass.calculations.packmol import PackmolCalculation
from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.glass.packing import box_length_a


def periodic_min_distance(positions, length):
    """Smallest minimum-image distance in a cubic box (naive O(N^2) reference), Å."""
    delta = positions[:, None, :] - positions[None, :, :]
    delta -= length * np.round(delta / length)
    distances = np.linalg.norm(delta, axis=-1)
    return distances[np.triu_indices(len(positions), 1)].min()


def test_packing_respects_counts_box_and_periodic_tolerance(packmol_code):
    composition = CompositionData('(Li2O)40(B2O3)30(P2O5)30')
    builder = PackmolCalculation.get_builder()
    builder.code = packmol_code
    builder.composition = composition
    builder.n_atoms = 300
    builder.density_g_cm3 = 2.3
    builder.tolerance_a = 1.6
    builder.seed = 7
    node = run_get_node(builder).node
    assert node.is_finished_ok, node.exit_message
    structure = node.outputs.structure
    counts = composition.composition.atom_counts(300).counts
    symbols = structure.get_site_kindnames()
    assert {el: symbols.count(el) for el in counts} == counts
    length = box_length_a(counts, 2.3)
    assert np.allclose(structure.cell, np.eye(3) * length)
    positions = np.array([site.position for site in structure.sites])
    assert positions.min() >= 0.0 and positions.max() < length
    # packmol treats the tolerance as a target; allow 2 % slack, across periodic images too
    assert periodic_min_distance(positions, length) > 0.98 * 1.6
    results = node.outputs.results.get_dict()
    assert results['seed'] == 7 and results['packmol_version']


def test_impossible_packing_is_refused_before_submission(packmol_code):
    builder = PackmolCalculation.get_builder()
    builder.code = packmol_code
    builder.composition = CompositionData('LB70')
    builder.n_atoms = 2
    builder.density_g_cm3 = 2.2
    with pytest.raises(ValueError, match='n_atoms'):
        run_get_node(builder)


@pytest.mark.parametrize(('port', 'value', 'message'), [
    ('tolerance_a', 3.5, 'tolerance_a: 3.5 Å is outside [0.5, 3.0] Å'),
    ('tolerance_a', -1.0, 'tolerance_a: -1.0 Å is outside [0.5, 3.0] Å'),
    ('density_g_cm3', 0.1, 'density_g_cm3: 0.1 g/cm^3 is outside [0.5, 10.0] g/cm^3'),
])
def test_density_and_tolerance_are_refused_outside_their_ranges(packmol_code, port, value, message):
    builder = PackmolCalculation.get_builder()
    with pytest.raises(ValueError, match=re.escape(message)):
        setattr(builder, port, value)


def test_integer_density_and_tolerance_become_floats(packmol_code):
    """``2`` would become an Int under ``to_aiida_type`` and be refused by the Float port."""
    builder = PackmolCalculation.get_builder()
    builder.density_g_cm3 = 2
    builder.tolerance_a = 2
    assert builder.density_g_cm3.value == 2.0 and builder.tolerance_a.value == 2.0
    assert type(builder.density_g_cm3).__name__ == type(builder.tolerance_a).__name__ == 'Float'
