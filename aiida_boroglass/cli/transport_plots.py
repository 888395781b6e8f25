"""Table, MSD and Arrhenius plots of ``boroglass.diffusion`` results for one or more glasses."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from aiida_boroglass.analysis.diffusion import ArrheniusDiffusionFit, extrapolate
from aiida_boroglass.cli.plotting import pyplot, save_figure, text_table

#: Table columns: (title, key of the row's ``table`` dict, format).
COLUMNS = (
    ('glass', 'glass', '{}'),
    ('ion', 'species', '{}'),
    ('replicas', 'n_replicas', '{}'),
    ('D(T) (cm2/s)', 'd_by_temperature', '{}'),
    ('E_a (eV)', 'ea', '{}'),
    ('D0 (cm2/s)', 'd0_cm2_s', '{:.2e}'),
    ('D(300 K) (cm2/s) [95 %]', 'd_300', '{}'),
    ('sigma(300 K) (S/cm) [95 %]', 'sigma_300', '{}'),
    ('field/NE', 'field_over_ne', '{:.2f}'),
)


def _pm(value: float | None, error: float | None, fmt: str = '{:.2e}') -> str | None:
    """``value ± error`` in ``fmt``, or None."""
    if value is None:
        return None
    return fmt.format(value) + ('' if error is None else ' ± ' + fmt.format(error))


def _interval(value: float, bounds: list[float]) -> str:
    """``value [low, high]`` in scientific notation."""
    return f'{value:.2e} [{bounds[0]:.1e}, {bounds[1]:.1e}]'


def transport_rows(label: str, node) -> list[dict]:
    """Numbers of one finished ``boroglass.diffusion`` node, one row per mobile species.

    Parameters
    ----------
    label : str
        Name of the glass in the table and legends.
    node : WorkflowNode
        A finished diffusion workflow.

    Returns
    -------
    list of dict
        Each with ``table`` (flat, JSON-ready: D(T) with errors, E_a ± error (eV), D0,
        D and sigma at 300 K with their 95 % intervals, field / Nernst-Einstein ratio,
        warnings), ``points`` (T, D, error) and ``curves`` (T -> (lags_ps, msd_a2)) for the plots.
    """
    out = node.outputs
    arrhenius = out.arrhenius.get_dict()
    field = out.field.get_dict()['species'] if 'field' in out else {}
    diffusion = {key: out.diffusion[key].get_dict() for key in sorted(out.diffusion)}
    species = sorted({element for table in diffusion.values() for element in table['species']})
    rows = []
    for element in species:
        points = [(t['temperature_k'], t['species'][element]['d_cm2_s'], t['species'][element]['d_stderr_cm2_s'])
                  for t in diffusion.values()]
        fit = arrhenius['species'].get(element)
        warnings = [w for t in diffusion.values() for w in t['warnings'] if w.startswith(element)]
        warnings += [w for w in arrhenius['warnings'] if w.startswith(element)]
        table = {
            'glass': label, 'species': element, 'n_replicas': next(iter(diffusion.values()))['n_replicas'],
            'd_by_temperature': ', '.join(f'{t:g} K: {_pm(d, e) or "not diffusive"}' for t, d, e in points),
            'points': [{'temperature_k': t, 'd_cm2_s': d, 'd_stderr_cm2_s': e} for t, d, e in points],
            'ea': _pm(fit['ea_ev'], fit['ea_stderr_ev'], '{:.3f}') if fit else None,
            'ea_ev': fit['ea_ev'] if fit else None, 'ea_stderr_ev': fit['ea_stderr_ev'] if fit else None,
            'd0_cm2_s': fit['d0_cm2_s'] if fit else None,
            'd_300': _interval(fit['d_extrapolated_cm2_s'], fit['d_extrapolated_interval_cm2_s']) if fit else None,
            'sigma_300': _interval(fit['sigma_extrapolated_s_cm'], fit['sigma_extrapolated_interval_s_cm']) if fit else None,
            'arrhenius': fit,
            'field': field.get(element),
            'field_over_ne': (field.get(element) or {}).get('field_over_ne'),
            'warnings': warnings,
        }
        curves = {t['temperature_k']: (out.msd[key].get_array('lags_ps'), out.msd[key].get_array(f'msd_a2_{element}'))
                  for key, t in diffusion.items()}
        rows.append({'table': table, 'points': points, 'curves': curves, 'fit': fit})
    return rows


def transport_table(rows: list[dict]) -> str:
    """Fixed-width text table, one line per glass and species, then the warnings."""
    text = text_table(COLUMNS, [row['table'] for row in rows])
    warnings = [f'warning ({row["table"]["glass"]}): {w}' for row in rows for w in row['table']['warnings']]
    return '\n'.join([text, *warnings])


def plot_transport(rows: list[dict], folder: Path) -> list[Path]:
    """Write ``msd.png`` (MSD curves, log-log, one panel per glass) and ``arrhenius.png``.

    Parameters
    ----------
    rows : list of dict
        From :func:`transport_rows`.
    folder : Path
        Output folder (created if missing).

    Returns
    -------
    list of Path
    """
    plt = pyplot()
    folder = Path(folder)
    return [save_figure(_msd_figure(plt, rows), folder / 'msd.png'),
            save_figure(_arrhenius_figure(plt, rows), folder / 'arrhenius.png')]


def _msd_figure(plt, rows: list[dict]):
    """MSD against lag time at every temperature (log-log), with the slope-1 guide of diffusion."""
    fig, axes = plt.subplots(1, len(rows), figsize=(4.8 * len(rows), 4.2), squeeze=False)
    for ax, row in zip(axes[0], rows):
        temperatures = sorted(row['curves'])
        colours = plt.cm.plasma(np.linspace(0.1, 0.85, len(temperatures)))
        for colour, temperature in zip(colours, temperatures):
            lags, curve = row['curves'][temperature]
            ax.loglog(lags[1:], curve[1:], color=colour, label=f'{temperature:g} K')
        lags, curve = row['curves'][temperatures[-1]]
        guide = curve[len(curve) // 4] * lags[1:] / lags[len(curve) // 4]
        ax.loglog(lags[1:], guide, 'k:', lw=0.8, label='slope 1')
        ax.set(xlabel='lag time (ps)', ylabel=f'MSD of {row["table"]["species"]} (Å$^2$)', title=row['table']['glass'])
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which='both')
    return fig


def _arrhenius_figure(plt, rows: list[dict]):
    """log D against 1000/T: points with errors, the fit extended to 300 K with its 95 % band."""
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    colours = plt.cm.viridis(np.linspace(0.0, 0.85, max(len(rows), 1)))
    for colour, row in zip(colours, rows):
        label = f'{row["table"]["glass"]} ({row["table"]["species"]})'
        points = [(t, d, e) for t, d, e in row['points'] if d is not None]
        if points:
            t, d, e = (np.array(v, dtype=float) for v in zip(*points))
            ax.errorbar(1000.0 / t, d, yerr=np.nan_to_num(e), fmt='o', color=colour, capsize=3)
        fit = row['fit']
        if fit:
            temperatures = np.linspace(max(fit['temperatures_k']), fit['extrapolated_to_k'], 100)
            curve, low, high = _fit_band(fit, temperatures)
            ax.plot(1000.0 / temperatures, curve, color=colour,
                    label=f'{label}: $E_a$ = {fit["ea_ev"]:.2f} ± {fit["ea_stderr_ev"]:.2f} eV')
            ax.fill_between(1000.0 / temperatures, low, high, color=colour, alpha=0.15)
        elif points:
            ax.plot([], [], 'o', color=colour, label=f'{label}: no fit')
    ax.set_yscale('log')
    ax.set(xlabel='1000 / T (1/K)', ylabel='D (cm$^2$/s)', title='Arrhenius plot, extrapolated to 300 K')
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which='both')
    return fig


def _fit_band(fit: dict, temperatures: np.ndarray):
    """D of the stored fit and its interval at ``temperatures`` (K), from E_a, ln D0 and their covariance."""
    model = ArrheniusDiffusionFit(fit['ea_ev'], fit['ea_stderr_ev'], fit['d0_cm2_s'], float(np.log(fit['d0_cm2_s'])),
                                  fit['ln_d0_stderr'], np.array(fit['covariance']), fit['dof'], fit['absolute_sigma'])
    return extrapolate(model, temperatures, fit['confidence'])


def plot_softness(model, summary: dict, folder: Path) -> list[Path]:
    """Write ``softness_weights.png`` (w_X(r) per neighbour species) and ``softness.png`` (S by class).

    Parameters
    ----------
    model : ArrayData
        The ``model`` output of :func:`aiida_boroglass.functions.transport.softness_model`.
    summary : dict
        Its ``summary`` output.
    folder : Path
        Output folder (created if missing).
    """
    plt = pyplot()
    r_a, weights = model.get_array('r_a'), model.get_array('weights')
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for element, w in zip(summary['feature_species'], weights):
        ax.plot(r_a, w, label=f'{summary["species"]}-{element}')
    ax.axhline(0.0, color='k', lw=0.6)
    ax.set(xlabel='r (Å)', ylabel='hyperplane weight w(r) (standardised)', title=f'softness of {summary["species"]}')
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    paths = [save_figure(fig, Path(folder) / 'softness_weights.png')]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    softness = np.concatenate([model.get_array(name) for name in model.get_arraynames() if name.startswith('softness_')])
    mobile = np.concatenate([model.get_array('mobile_' + name[len('softness_'):])
                             for name in model.get_arraynames() if name.startswith('softness_')])
    bins = np.linspace(softness.min(), softness.max(), 30)
    ax.hist(softness[~mobile], bins=bins, alpha=0.6, label='immobile')
    ax.hist(softness[mobile], bins=bins, alpha=0.6, label='mobile')
    ax.set(xlabel='softness S', ylabel='ions',
           title=f'test accuracy {summary["accuracy"]:.2f} (held out: {summary["test_glass"]})')
    ax.legend(fontsize=8)
    paths.append(save_figure(fig, Path(folder) / 'softness.png'))
    return paths
