"""The pure parts of paper 001's comparison: quantities of a glass, the quench ramp, curve spreads, input grouping."""
import numpy as np
import pytest

from aiida_boroglass.functions.study import (
    curve_spread,
    glass_quantities,
    nominal_quench_temperature,
    split_glass_inputs,
)


def test_glass_quantities_read_the_outputs_and_count_no_3_ring_as_zero():
    boron, oxygen = {'n4': 0.41, 'mean_coordination': 3.41}, {'nbo_fraction': 0.12, 'bo_fraction': 0.88}
    rings = {'per_former_by_formers': {'4': 0.02, '6': 0.1}, 'boroxol_fraction': 0.0}
    assert glass_quantities(2.1, boron, oxygen, rings) == {
        'density_g_cm3': 2.1, 'n4': 0.41, 'nbo_fraction': 0.12, 'three_rings_per_former': 0.0,
        'boroxol_fraction': 0.0}
    rings['per_former_by_formers']['3'] = 0.25
    assert glass_quantities(2.1, boron, oxygen, rings)['three_rings_per_former'] == 0.25


def test_the_nominal_quench_ramp_is_linear_from_melt_to_final():
    """A 1500 -> 300 K ramp sampled every 50 steps from step 200 to 800: 100 K per 50 steps."""
    steps = np.arange(200, 801, 50)
    temperature = nominal_quench_temperature(steps, 1500.0, 300.0)
    assert temperature[0] == 1500.0 and temperature[-1] == 300.0
    np.testing.assert_allclose(np.diff(temperature), -100.0)
    np.testing.assert_allclose(nominal_quench_temperature(np.array([7]), 1500.0, 300.0), [1500.0])


def test_curve_spread_is_numpys_mean_and_sample_std_over_replicas():
    rng = np.random.default_rng(1)
    curves = [rng.normal(size=40) for _ in range(3)]
    mean, std = curve_spread(curves)
    np.testing.assert_allclose(mean, np.mean(curves, axis=0))
    np.testing.assert_allclose(std, np.std(curves, axis=0, ddof=1))
    mean, std = curve_spread(curves[:1])
    np.testing.assert_array_equal(std, np.zeros(40))


def test_inputs_are_grouped_by_potential_and_replica_in_order():
    keys = ['mlp_r10__density', 'mlp_r1__density', 'classical_r0__boron', 'mlp_r0__density', 'mlp_r0__deviation', 'classical_r0__density']
    grouped = split_glass_inputs({key: key for key in keys})
    assert list(grouped) == ['classical', 'mlp']
    assert list(grouped['mlp']) == ['mlp_r0', 'mlp_r1', 'mlp_r10']
    assert grouped['mlp']['mlp_r0'] == {'density': 'mlp_r0__density', 'deviation': 'mlp_r0__deviation'}
    assert grouped['classical']['classical_r0'] == {'boron': 'classical_r0__boron', 'density': 'classical_r0__density'}


@pytest.mark.parametrize('key', ['mlp__density', 'other_r0__density'])
def test_a_potential_outside_the_study_is_left_out(key):
    assert split_glass_inputs({key: 1}) == {}
