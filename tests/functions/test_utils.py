"""``inputs_by_role``: a calcfunction's ``<key>__<role>`` inputs grouped by key, incomplete keys named;
``structure_of``: a structure from arrays, the same node as atom by atom."""
import numpy as np
import pytest
from aiida import orm

from aiida_boroglass.functions.exit_codes import CalcfunctionError
from aiida_boroglass.functions.utils import inputs_by_role, site_symbols, structure_of


def test_inputs_are_grouped_by_key_and_role_with_double_underscores_inside_keys_kept():
    grouped = inputs_by_role({'r0__frames': 1, 'r0__switching': 2, 'a__b__frames': 3, 'a__b__switching': 4},
                             ('frames', 'switching'), 'replicas')
    assert grouped == {'r0': {'frames': 1, 'switching': 2}, 'a__b': {'frames': 3, 'switching': 4}}


@pytest.mark.parametrize(('nodes', 'incomplete'), [
    ({'r0__frames': 1, 'r0__switching': 2, 'r1__frames': 3}, "['r1']"),          # a role missing
    ({'r0__frames': 1, 'r0__switching': 2, 'r0__other': 3}, "['r0']"),            # a role not asked for
    ({}, '[]'),                                                                    # nothing at all
])
def test_a_key_without_every_role_is_named_in_one_line(nodes, incomplete):
    with pytest.raises(CalcfunctionError) as error:
        inputs_by_role(nodes, ('frames', 'switching'), 'replicas')
    assert error.value.label == 'ERROR_INCOMPLETE_GLASSES'
    assert str(error.value) == f'replicas: each needs <key>__frames and <key>__switching; incomplete: {incomplete}'


def test_structure_of_equals_the_structure_built_atom_by_atom(aiida_profile):
    """Same kinds (in order of first appearance), sites, positions and cell as ``append_atom`` gives."""
    rng = np.random.default_rng(7)
    symbols = ['O', 'B', 'O', 'Li', 'B', 'P', 'O', 'Li']
    positions = rng.random((len(symbols), 3)) * 9.0
    cell = [[9.0, 0.0, 0.0], [1.0, 8.0, 0.0], [0.5, 0.5, 7.0]]
    reference = orm.StructureData(cell=cell)
    for symbol, position in zip(symbols, positions):
        reference.append_atom(position=position.tolist(), symbols=symbol)
    structure = structure_of(np.array(cell), symbols, positions)
    assert structure.base.attributes.all == reference.base.attributes.all
    assert [kind.name for kind in structure.kinds] == ['O', 'B', 'Li', 'P']
    assert site_symbols(structure) == symbols
    np.testing.assert_array_equal(structure.get_ase().positions, positions)
