"""Transport calcfunctions on synthetic trajectories: known D, Arrhenius data, drift, affine motion."""
import numpy as np
import pytest
from aiida import orm

from aiida_boroglass.functions.transport import (
    TRANSPORT_DEFAULTS,
    arrhenius_transport,
    diffusion_at_temperature,
    field_transport,
    ion_rearrangement,
    mobile_species,
    softness_settings,
    transport_settings,
)

K_B_EV = 8.617333262e-5
DT_PS = 0.1
BOX_A = 20.0


def trajectory(positions, symbols, dt_ps=DT_PS, cell=BOX_A):
    """A stored TrajectoryData with a cubic cell and equally spaced times."""
    node = orm.TrajectoryData()
    n = positions.shape[0]
    node.set_trajectory(symbols=list(symbols), positions=positions, cells=np.broadcast_to(np.eye(3) * cell, (n, 3, 3)),
                        times=dt_ps * np.arange(n), stepids=np.arange(n), pbc=(True, True, True))
    return node.store()


def glass_walk(d_a2_ps, seed, n_frames=400, n_li=40, n_o=20, drift=(0.0, 0.0, 0.0)):
    """Li walking with D (Å^2/ps) and a drift (Å/ps), O fixed on random sites."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(scale=np.sqrt(2 * d_a2_ps * DT_PS), size=(n_frames - 1, n_li, 3)) + np.asarray(drift) * DT_PS
    li = rng.uniform(0, BOX_A, (1, n_li, 3)) + np.concatenate([np.zeros((1, n_li, 3)), np.cumsum(steps, axis=0)])
    oxygen = np.broadcast_to(rng.uniform(0, BOX_A, (1, n_o, 3)), (n_frames, n_o, 3))
    return np.concatenate([li, oxygen], axis=1), ['Li'] * n_li + ['O'] * n_o


def test_settings_defaults_and_refusals():
    assert transport_settings(None) == TRANSPORT_DEFAULTS
    for given, fragment in [({'haven': 1}, 'unknown key'), ({'haven_ratio': 0}, 'parameters.haven_ratio'),
                            ({'species': 'Li'}, 'parameters.species'), ({'species': ['O']}, 'parameters.species'),
                            ({'min_points': 2}, 'parameters.min_points'), ({'confidence': 1.0}, 'parameters.confidence'),
                            ({'mobile_quantile': 0}, 'parameters.mobile_quantile')]:
        with pytest.raises(ValueError, match=fragment):
            transport_settings(given)
    with pytest.raises(ValueError, match='parameters.test_glass'):
        softness_settings({})
    with pytest.raises(ValueError, match='parameters.species'):
        softness_settings({'test_glass': 'a', 'species': 'B'})


def test_mobile_species_default_to_the_alkali_ions_present():
    assert mobile_species(['Na', 'B', 'O', 'K'], transport_settings({})) == ['K', 'Na']
    with pytest.raises(ValueError, match='no alkali ion'):
        mobile_species(['B', 'O'], transport_settings({}))


def test_diffusion_at_temperature_recovers_d_and_converts_by_hand(aiida_profile):
    d_true = 0.3  # Å^2/ps = 3e-5 cm^2/s
    runs = {f'r{k}': trajectory(*glass_walk(d_true, seed)) for k, seed in enumerate((1, 2))}
    result = diffusion_at_temperature(orm.Float(600.0), orm.Dict({'haven_ratio': 0.4}), **runs)
    li = result['diffusion']['species']['Li']
    assert li['diffusive'] and li['n_ions'] == 80
    assert abs(li['d_cm2_s'] - d_true * 1e-4) < 3 * li['d_stderr_cm2_s']
    n_cm3 = 40 / (BOX_A**3 * 1e-24)
    assert li['number_density_cm3'] == pytest.approx(n_cm3)
    # sigma = n e^2 D / (H_R k_B T) in S/cm
    expected = n_cm3 * 1.602176634e-19**2 * li['d_cm2_s'] / (0.4 * 1.380649e-23 * 600.0)
    assert li['sigma_ne_s_cm'] == pytest.approx(expected, rel=1e-9)
    assert result['diffusion']['warnings'] == []
    assert set(result['msd'].get_arraynames()) == {'lags_ps', 'msd_a2_Li', 'non_gaussian_Li'}


def test_caged_ions_give_a_warning_and_no_d(aiida_profile):
    rng = np.random.default_rng(5)
    sites = rng.uniform(0, BOX_A, (1, 30, 3))
    positions = sites + rng.normal(scale=0.3, size=(300, 30, 3))
    result = diffusion_at_temperature(orm.Float(300.0), orm.Dict(), r0=trajectory(positions, ['Li'] * 30))
    li = result['diffusion']['species']['Li']
    assert not li['diffusive'] and li['d_cm2_s'] is None and li['sigma_ne_s_cm'] is None
    assert len(result['diffusion']['warnings']) == 1 and 'never reaches the diffusive regime' in result['diffusion']['warnings'][0]


def fake_diffusion(temperature, d, error, diffusive=True):
    return orm.Dict({'temperature_k': temperature, 'warnings': [], 'species': {'Li': {
        'diffusive': diffusive, 'd_cm2_s': d if diffusive else None, 'd_stderr_cm2_s': error if diffusive else None,
        'number_density_cm3': 1e22}}})


def test_arrhenius_recovers_ea_and_d0_and_skips_non_diffusive_temperatures(aiida_profile):
    ea, d0 = 0.45, 2e-3
    temperatures = [700.0, 750.0, 800.0, 850.0]
    tables = {f'T{int(t)}': fake_diffusion(t, d0 * np.exp(-ea / (K_B_EV * t)), 0.05 * d0 * np.exp(-ea / (K_B_EV * t)))
              for t in temperatures}
    tables['T0300'] = fake_diffusion(300.0, None, None, diffusive=False)
    fit = arrhenius_transport(orm.Dict({'haven_ratio': 2.0}), **tables)['species']['Li']
    assert fit['temperatures_k'] == temperatures
    assert fit['ea_ev'] == pytest.approx(ea, rel=1e-9) and fit['d0_cm2_s'] == pytest.approx(d0, rel=1e-9)
    d300 = d0 * np.exp(-ea / (K_B_EV * 300.0))
    assert fit['d_extrapolated_cm2_s'] == pytest.approx(d300, rel=1e-9)
    low, high = fit['d_extrapolated_interval_cm2_s']
    assert low < d300 < high
    sigma = 1e22 * 1.602176634e-19**2 * d300 / (2.0 * 1.380649e-23 * 300.0)
    assert fit['sigma_extrapolated_s_cm'] == pytest.approx(sigma, rel=1e-9)


def test_arrhenius_needs_two_diffusive_temperatures(aiida_profile):
    result = arrhenius_transport(orm.Dict(), a=fake_diffusion(800.0, 1e-6, 1e-7), b=fake_diffusion(700.0, None, None, False))
    assert result['species'] == {} and 'diffusive at 1 temperature(s)' in result['warnings'][0]


def test_field_transport_mobility_by_hand(aiida_profile):
    positions, symbols = glass_walk(0.05, 9, n_li=200, drift=(0.04, 0.0, 0.0))
    field = orm.Dict({'efield_v_a': [0.2, 0.0, 0.0], 'frozen_elements': ['O'], 'temperature_k': 800.0})
    diffusion = orm.Dict({'species': {'Li': {'sigma_ne_s_cm': 0.5}}})
    li = field_transport(field, orm.Dict(), diffusion, r0=trajectory(positions, symbols))['species']['Li']
    # mu = v / E = 0.04 Å/ps / 0.2 V/Å * 1e-4 = 2e-5 cm^2/(V s); sigma = n e mu
    assert abs(li['mobility_cm2_vs'] - 2e-5) < 3 * li['mobility_stderr_cm2_vs']
    n_cm3 = 200 / (BOX_A**3 * 1e-24)
    assert li['sigma_field_s_cm'] == pytest.approx(n_cm3 * 1.602176634e-19 * li['mobility_cm2_vs'])
    assert li['field_over_ne'] == pytest.approx(li['sigma_field_s_cm'] / 0.5)


def test_rearrangement_of_an_affine_deformation_is_zero(aiida_profile):
    rng = np.random.default_rng(2)
    base = rng.uniform(0, 12.0, (60, 3))
    strain = np.array([[1.0, 0.02, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.99]])
    frames = np.array([base @ np.linalg.matrix_power(strain, k) for k in range(12)])
    node = orm.TrajectoryData()
    cells = np.array([np.eye(3) * 12.0 @ np.linalg.matrix_power(strain, k) for k in range(12)])
    node.set_trajectory(symbols=['Li', 'O'] * 30, positions=frames, cells=cells, times=0.5 * np.arange(12),
                        stepids=np.arange(12), pbc=(True, True, True))
    result = ion_rearrangement(node.store(), orm.Dict({'d2min_interval_ps': 1.0, 'd2min_cutoff_a': 3.5}))
    d_cum = result['d_cum'].get_array('d_cum_a_Li')
    assert d_cum.shape == (30,) and np.max(d_cum) < 1e-6
    assert result['rearrangement']['interval_ps'] == 1.0
