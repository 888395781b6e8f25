"""Text table and plots of the summary of a hopping workflow, on hand-made summaries."""
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from aiida_boroglass.cli.hopping_plots import (  # noqa: E402
    activation_energy_figure,
    arrhenius_figure,
    conductivity_figure,
    hopping_table,
    plot_activation_energy,
    plot_hopping,
    units_figure,
)

TEMPERATURES = [303.0, 383.0, 463.0]
UNITS = {
    0.0: {'B4': 0.0, 'B3': 0.0, 'B2': 0.0, 'P3': 0.507, 'P2': 0.493, 'P1': 0.0, 'P0': 0.0},
    0.5: {'B4': 0.3, 'B3': 0.15, 'B2': 0.05, 'P3': 0.2, 'P2': 0.3, 'P1': 0.0, 'P0': 0.0},
    1.0: {'B4': 0.4, 'B3': 0.5, 'B2': 0.1, 'P3': 0.0, 'P2': 0.0, 'P1': 0.0, 'P0': 0.0},
}
SIGMA = {0.0: [1.23e-09, 4.5e-08, 6.7e-07], 0.5: [2.0e-10, 1.0e-08, 3.0e-07], 1.0: [5.0e-11, 2.0e-09, 4.0e-08]}


def make_summary(temperatures=TEMPERATURES, experiment=True, fitted=True, zero_sigma_at=None):
    """Summary of three glasses x = 0, 0.5, 1; x = 0.5 has no Arrhenius E_a and no measured sigma."""
    n = len(temperatures)
    rows = []
    for k, x in enumerate((0.0, 0.5, 1.0)):
        sigma = [0.0] * n if x == zero_sigma_at else SIGMA[x][:n]
        has_nu = fitted and x != 0.5
        rows.append({
            'x': x, 'key': f'x{round(1000 * x):04d}', 'units': dict(UNITS[x]),
            'activation_energy_ev': 0.85 - 0.05 * k, 'activation_energy_std_ev': 0.01 + 0.005 * k,
            'arrhenius_ea_ev': None if x == 0.5 or n < 2 else 0.83 - 0.05 * k,
            'sigma_s_cm': sigma, 'sigma_std_s_cm': [0.1 * s for s in sigma],
            'nu_fitted_hz': 1.2e15 if has_nu else None,
            'sigma_fitted_s_cm': [3.0 * s for s in sigma] if has_nu else None,
        })
    summary = {
        'label': '0.33Li2O-0.67[xB2O3-(1-x)P2O5]', 'alkali': 'Li', 'y': 0.33,
        'v0_ev': 0.64, 'sigma_eps': 0.42, 'parameters_source': 'given', 'nu_hz': 4e14,
        'size': 100, 'n_landscapes': 5, 'nfu_source': 'model',
        'temperatures_k': list(temperatures), 'rows': rows,
    }
    if experiment:
        summary['experiment'] = {'activation_energy_ev': {'0.0': 0.72, '1.0': 0.70},
                                 'sigma_s_cm': {'0.0': {'303': 1e-9, '383': 5e-8}}}
    return summary


def test_table_has_title_columns_and_one_line_per_x():
    lines = hopping_table(make_summary()).splitlines()
    assert len(lines) == 3 + 3  # title, column titles, rule, one line per x
    title, columns = lines[0], lines[1].split()
    for part in ('0.33Li2O-0.67[xB2O3-(1-x)P2O5]', 'V0 = 0.640 eV', 'sigma_eps = 0.420 (given)',
                 'nu = 4.00e+14 Hz', 'size = 100', 'n_landscapes = 5', 'model'):
        assert part in title
    assert columns[:8] == ['x', 'B4', 'B3', 'B2', 'P3', 'P2', 'P1', 'P0']
    assert columns[-5:] == ['sigma(303K)', 'sigma(383K)', 'sigma(463K)', 'nu_fit', '(Hz)']
    assert title.endswith('sigma in S/cm')
    assert set(lines[2]) == {'-', ' '}
    first = lines[3].split()
    assert first == ['0.000', '0.000', '0.000', '0.000', '0.507', '0.493', '0.000', '0.000', '0.850', '+-', '0.010',
                     '0.830', '1.23e-09', '4.50e-08', '6.70e-07', '1.20e+15']
    middle = lines[4].split()
    assert middle[0] == '0.500' and middle[1:4] == ['0.300', '0.150', '0.050']
    assert middle[8:12] == ['0.800', '+-', '0.015', '-']  # no Arrhenius E_a
    assert middle[-1] == '-'  # no adapted attempt frequency
    assert len({len(line) for line in lines[1:]}) == 1  # fixed width


def test_table_without_temperatures_or_fitted_frequency():
    summary = make_summary(temperatures=[], experiment=False, fitted=False)
    lines = hopping_table(summary).splitlines()
    assert len(lines) == 6
    assert 'S/cm' not in lines[0] and 'sigma(' not in lines[1] and 'nu_fit' not in lines[1]
    assert lines[1].endswith('E_a (eV)  E_a Arrh. (eV)')
    assert [line.split()[-1] for line in lines[3:]] == ['-', '-', '-']


def test_plot_hopping_writes_every_plot(tmp_path):
    written = plot_hopping(make_summary(), tmp_path / 'plots')
    expected = {'activation_energy', 'units', 'conductivity', 'arrhenius'}
    assert set(written) == expected
    assert sorted(p.name for p in (tmp_path / 'plots').iterdir()) == sorted(f'{name}.png' for name in expected)
    for name, path in written.items():
        assert path == tmp_path / 'plots' / f'{name}.png'
        assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and path.stat().st_size > 1000


@pytest.mark.parametrize(('temperatures', 'expected'), [
    ([], ['activation_energy.png', 'units.png']),
    ([303.0], ['activation_energy.png', 'conductivity.png', 'units.png']),
])
def test_plot_hopping_skips_plots_without_enough_temperatures(tmp_path, temperatures, expected):
    written = plot_hopping(make_summary(temperatures=temperatures, experiment=False, fitted=False), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    assert sorted(p.name for p in written.values()) == expected


def test_zero_conductivity_is_masked(tmp_path):
    summary = make_summary(zero_sigma_at=1.0)
    written = plot_hopping(summary, tmp_path)
    assert all(path.stat().st_size > 0 for path in written.values())
    fig = conductivity_figure(summary)
    fixed = [line for line in fig.axes[0].lines if line.get_linestyle() == '--']
    assert len(fixed) == 3
    y = fixed[0].get_ydata()
    assert np.isnan(y[2]) and np.allclose(y[:2], np.log10([1.23e-09, 2.0e-10]))
    plt.close(fig)
    fig = arrhenius_figure(summary)
    assert len(fig.axes[0].lines[-1].get_xdata()) == 0  # x = 1: every T sigma is zero
    plt.close(fig)


def test_activation_energy_axes_holds_model_arrhenius_and_experiment():
    fig = activation_energy_figure(make_summary())
    ax = fig.axes[0]
    model = ax.containers[0].lines[0]  # the data line of the error bars
    assert np.allclose(ax.containers[0].lines[2][0].get_segments()[1][:, 1], [0.785, 0.815])  # 0.80 +- 0.015
    lines = {line.get_label(): line for line in ax.lines}
    arrhenius, experiment = lines[r'Arrhenius fit of $T\sigma_{dc}(T)$'], lines['experiment']
    assert list(model.get_xdata()) == [0.0, 0.5, 1.0]
    assert np.allclose(model.get_ydata(), [0.85, 0.80, 0.75])
    assert list(arrhenius.get_xdata()) == [0.0, 1.0]  # x = 0.5 has none
    assert list(experiment.get_xdata()) == [0.0, 1.0] and list(experiment.get_ydata()) == [0.72, 0.70]
    assert 'eV' in ax.get_ylabel() and 'V_0' in ax.get_title() and '0.420' in ax.get_title()
    plt.close(fig)


def test_activation_energy_without_experiment(tmp_path):
    fig = activation_energy_figure(make_summary(temperatures=[], experiment=False))
    assert [line.get_label() for line in fig.axes[0].lines if not line.get_label().startswith('_')] == []
    assert len(fig.axes[0].containers) == 1  # only the model (no Arrhenius E_a, no experiment)
    plt.close(fig)
    path = plot_activation_energy(make_summary(experiment=False), tmp_path / 'sub' / 'ea.png')
    assert path.is_file() and path.stat().st_size > 0


def test_conductivity_fixed_adapted_and_measured():
    fig = conductivity_figure(make_summary())
    left, right = fig.axes
    assert [line.get_linestyle() for line in left.lines] == ['--', '-'] * 3 + ['None', 'None']
    adapted = left.lines[1]
    assert list(adapted.get_xdata()) == [0.0, 1.0]
    assert np.allclose(adapted.get_ydata(), np.log10([3 * 1.23e-09, 3 * 5.0e-11]))
    measured_303 = left.lines[6]
    assert measured_303.get_color() == left.lines[0].get_color()  # same colour as the 303 K model line
    assert list(measured_303.get_xdata()) == [0.0] and np.allclose(measured_303.get_ydata(), [-9.0])
    assert right.get_yscale() == 'log'
    assert list(right.lines[0].get_ydata()) == [1.2e15, 1.2e15]
    assert list(right.lines[1].get_ydata()) == [4e14, 4e14]  # the fixed nu, dashed
    assert right.lines[1].get_linestyle() == '--'
    plt.close(fig)


def test_conductivity_without_fitted_frequency_has_one_panel():
    fig = conductivity_figure(make_summary(experiment=False, fitted=False))
    assert len(fig.axes) == 1
    assert [line.get_linestyle() for line in fig.axes[0].lines] == ['--'] * 3
    plt.close(fig)


def test_arrhenius_one_line_per_x_with_legend():
    summary = make_summary()
    fig = arrhenius_figure(summary)
    ax = fig.axes[0]
    model = [line for line in ax.lines if line.get_linestyle() == '-']
    assert len(model) == 3
    t = np.array(TEMPERATURES)
    assert np.allclose(model[0].get_xdata(), 1000.0 / t)
    assert np.allclose(model[0].get_ydata(), np.log10(t * np.array(SIGMA[0.0])))
    measured = [line for line in ax.lines if line.get_linestyle() == 'None']
    assert len(measured) == 1 and np.allclose(measured[0].get_xdata(), [1000 / 383, 1000 / 303])
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ['x = 0.00, E_a = 0.830 eV', 'x = 0.50, E_a = -', 'x = 1.00, E_a = 0.730 eV']
    plt.close(fig)


def test_units_only_nonzero_units_are_drawn():
    fig = units_figure(make_summary())
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ['B4', 'B3', 'B2', 'P3', 'P2']
    assert list(ax.lines[3].get_ydata()) == [0.507, 0.2, 0.0]
    assert 'per former atom' in ax.get_ylabel()
    plt.close(fig)
