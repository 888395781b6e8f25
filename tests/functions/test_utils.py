"""``inputs_by_role``: a calcfunction's ``<key>__<role>`` inputs grouped by key, incomplete keys named."""
import pytest

from aiida_boroglass.functions.exit_codes import CalcfunctionError
from aiida_boroglass.functions.utils import inputs_by_role


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
