"""Text table and plots of the ``summary`` of a site-energy hopping workflow (paper 003, Figs. 4, 5 and 7).

The ``summary`` is a plain dict (the content of the workflow's ``summary`` output): the model parameters
(``v0_ev``, ``sigma_eps``, ``nu_hz``, ...), the temperatures ``temperatures_k`` and one row per x with the
NFU concentrations (per former atom), the activation energy E_a (eV), the dc conductivities (S/cm) at
every temperature and, where a measured conductivity was given, the adapted attempt frequency and the
conductivities computed with it. An optional ``experiment`` dict holds measured values keyed by x (and
temperature) as strings. Every function here is pure: it reads the dict and writes at most one file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from aiida_boroglass.cli.plotting import pyplot, save_figure
from aiida_boroglass.functions.hopping import value_at_x
from aiida_boroglass.hopping.units import UNIT_NAMES

#: Plots written by :func:`plot_hopping` and the least number of temperatures each needs.
PLOT_NAMES = (('activation_energy', 0), ('units', 0), ('conductivity', 1), ('arrhenius', 2))


def hopping_table(summary: dict) -> str:
    """Return the results as a fixed-width text table, one line per x.

    Parameters
    ----------
    summary : dict
        Summary of a hopping workflow (layout in the module docstring).

    Returns
    -------
    str
        A title line with the label and the model parameters, the column titles, a rule and one line per
        row: x, the NFU concentrations (per former atom), E_a +- its standard deviation (eV), the
        Arrhenius E_a (eV), sigma_dc at each temperature (S/cm) and, when any row has one, the adapted
        attempt frequency (Hz). Missing values are shown as ``-``.
    """
    temperatures = summary['temperatures_k']
    rows = summary['rows']
    with_nu = any(row.get('nu_fitted_hz') is not None for row in rows)
    titles = ['x', *UNIT_NAMES, 'E_a (eV)', 'E_a Arrh. (eV)', *(f'sigma({t:g}K)' for t in temperatures)]
    titles += ['nu_fit (Hz)'] if with_nu else []
    cells = [titles]
    for row in rows:
        units = row.get('units') or {}
        sigma = row.get('sigma_s_cm') or []
        line = [f"{row['x']:.3f}", *(_cell(units.get(name), '{:.3f}') for name in UNIT_NAMES)]
        line.append(_activation_cell(row.get('activation_energy_ev'), row.get('activation_energy_std_ev')))
        line.append(_cell(row.get('arrhenius_ea_ev'), '{:.3f}'))
        line += [_cell(sigma[k] if k < len(sigma) else None, '{:.2e}') for k in range(len(temperatures))]
        line += [_cell(row.get('nu_fitted_hz'), '{:.2e}')] if with_nu else []
        cells.append(line)
    widths = [max(len(line[i]) for line in cells) for i in range(len(titles))]
    lines = ['  '.join(cell.rjust(width) for cell, width in zip(line, widths)) for line in cells]
    lines.insert(1, '  '.join('-' * width for width in widths))
    title = _title(summary, ascii_only=True) + (', sigma in S/cm' if temperatures else '')
    return '\n'.join([title, *lines])


def activation_energy_figure(summary: dict):
    """Figure of E_a(x) with its ensemble spread as error bars (paper 003, Fig. 4).

    Parameters
    ----------
    summary : dict
        Summary of a hopping workflow.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: the model E_a (eV, line with error bars), the Arrhenius E_a of the computed sigma_dc(T)
        where there is one, and the measured E_a as symbols when ``summary['experiment']`` has them.
    """
    plt = pyplot()
    rows = summary['rows']
    x = [row['x'] for row in rows]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.errorbar(x, _values(rows, 'activation_energy_ev'), yerr=_values(rows, 'activation_energy_std_ev'),
                fmt='o-', color='tab:blue', capsize=3, label='percolation (model)')
    arrhenius = [(row['x'], row['arrhenius_ea_ev']) for row in rows if row.get('arrhenius_ea_ev') is not None]
    if arrhenius:
        ax.plot(*zip(*arrhenius), '^:', color='tab:orange', label=r'Arrhenius fit of $T\sigma_{dc}(T)$')
    measured = _experiment_by_x(summary, 'activation_energy_ev')
    if measured:
        ax.plot(*zip(*measured), 's', color='k', mfc='none', label='experiment')
    ax.set(xlabel='x (B$_2$O$_3$ fraction of formers)', ylabel='activation energy $E_a$ (eV)',
           title=_title(summary), xlim=_x_limits(x))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def conductivity_figure(summary: dict):
    """Figure of log10 sigma_dc against x (paper 003, Fig. 5) and, if adapted, the attempt frequency.

    Parameters
    ----------
    summary : dict
        Summary of a hopping workflow with at least one temperature.

    Returns
    -------
    matplotlib.figure.Figure
        Left axes: log10(sigma_dc / (S/cm)) against x, one colour per temperature; dashed with the fixed
        attempt frequency, solid with the adapted one (if any row has it), measured values as symbols.
        Rows with sigma_dc = 0 (no percolating path) are left out. Right axes, only when any row has an
        adapted frequency: nu (Hz, log scale) against x with the fixed nu as a dashed horizontal line.
    """
    plt = pyplot()
    from matplotlib.lines import Line2D

    rows = summary['rows']
    x = [row['x'] for row in rows]
    fitted = [row for row in rows if row.get('nu_fitted_hz') is not None]
    with_adapted = any(row.get('sigma_fitted_s_cm') is not None for row in rows)
    fig, axes = plt.subplots(1, 2 if fitted else 1, figsize=(11 if fitted else 6, 4.5), squeeze=False)
    left = axes[0, 0]
    colours = _temperature_colours(summary)
    measured = _experiment(summary).get('sigma_s_cm', {})
    handles = []
    for k, temperature in enumerate(summary['temperatures_k']):
        colour = colours[_temperature_key(temperature)]
        left.plot(x, _log_sigma(rows, 'sigma_s_cm', k), '--', marker='.', color=colour)
        if with_adapted:
            adapted = [(row['x'], row['sigma_fitted_s_cm'][k]) for row in rows
                       if row.get('sigma_fitted_s_cm') is not None]
            left.plot(*_masked_log(adapted), '-', marker='.', color=colour)
        handles.append(Line2D([], [], color=colour, label=f'{temperature:g} K'))
    for temperature in sorted({_temperature_key(t) for by_t in measured.values() for t in by_t}):
        points = [(float(x_key), value) for x_key, by_t in measured.items() for t, value in by_t.items()
                  if _temperature_key(t) == temperature]
        left.plot(*_masked_log(sorted(points)), 'o', color=colours[temperature], mfc='none')
        if temperature not in {_temperature_key(t) for t in summary['temperatures_k']}:
            handles.append(Line2D([], [], color=colours[temperature], label=f'{temperature:g} K (measured only)'))
    handles.append(Line2D([], [], color='k', ls='--', label=f"fixed ν = {summary['nu_hz']:.2e} Hz"))
    if with_adapted:
        handles.append(Line2D([], [], color='k', ls='-', label='adapted ν'))
    if measured:
        handles.append(Line2D([], [], color='k', ls='', marker='o', mfc='none', label='experiment'))
    left.set(xlabel='x (B$_2$O$_3$ fraction of formers)', ylabel=r'log$_{10}$($\sigma_{dc}$ / S cm$^{-1}$)',
             title=_title(summary), xlim=_x_limits(x))
    left.legend(handles=handles, fontsize=8)
    left.grid(alpha=0.3)
    if fitted:
        right = axes[0, 1]
        right.plot([row['x'] for row in fitted], [row['nu_fitted_hz'] for row in fitted], 'o-', color='tab:red',
                   label='adapted to measured σ$_{dc}$')
        right.axhline(summary['nu_hz'], color='k', ls='--', label='fixed ν')
        right.set_yscale('log')
        right.set(xlabel='x (B$_2$O$_3$ fraction of formers)', ylabel='attempt frequency ν (Hz)',
                  title='attempt frequency', xlim=_x_limits(x))
        right.legend(fontsize=8)
        right.grid(alpha=0.3)
    return fig


def arrhenius_figure(summary: dict):
    """Arrhenius plot log10(T sigma_dc) against 1000/T, one line per x (paper 003, Fig. 7).

    Parameters
    ----------
    summary : dict
        Summary of a hopping workflow with at least two temperatures.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: log10(T sigma_dc / (K S/cm)) against 1000/T (1/K), lines with markers for the model
        (fixed attempt frequency; zero conductivities left out), open symbols of the same colour for
        measured values of that x; the legend gives x and the Arrhenius E_a (eV).
    """
    plt = pyplot()
    temperatures = np.asarray(summary['temperatures_k'], dtype=float)
    measured = _experiment(summary).get('sigma_s_cm', {})
    fig, ax = plt.subplots(figsize=(6, 4.5))
    rows = summary['rows']
    for k, row in enumerate(rows):
        colour = plt.cm.viridis(k / max(len(rows) - 1, 1))  # one distinct colour per x, however many
        ea = row.get('arrhenius_ea_ev')
        label = f"x = {row['x']:.2f}, E_a = " + (f'{ea:.3f} eV' if ea is not None else '-')
        ax.plot(*_masked_log(zip(1000.0 / temperatures, temperatures * np.asarray(row['sigma_s_cm'], dtype=float))),
                'o-', color=colour, label=label)
        by_t = value_at_x(measured, row['x']) or {}
        points = sorted((1000.0 / float(t), float(t) * value) for t, value in by_t.items())
        if points:
            ax.plot(*_masked_log(points), 's', color=colour, mfc='none')
    ax.set(xlabel='1000/T (K$^{-1}$)', ylabel=r'log$_{10}$($T\sigma_{dc}$ / K S cm$^{-1}$)', title=_title(summary))
    ax.legend(fontsize=7, title='open symbols: experiment' if measured else None, title_fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def units_figure(summary: dict):
    """Figure of the NFU concentrations (per network-former atom) against x.

    Parameters
    ----------
    summary : dict
        Summary of a hopping workflow.

    Returns
    -------
    matplotlib.figure.Figure
        One axes, one line per unit that is nonzero in some row: B units solid, P units dashed.
    """
    plt = pyplot()
    rows = summary['rows']
    x = [row['x'] for row in rows]
    names = list(UNIT_NAMES) + sorted({name for row in rows for name in row['units']} - set(UNIT_NAMES))
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name in names:
        values = [row['units'].get(name, 0.0) or 0.0 for row in rows]
        if any(value != 0.0 for value in values):
            ax.plot(x, values, 'o-' if name.startswith('B') else 's--', label=name)
    ax.set(xlabel='x (B$_2$O$_3$ fraction of formers)', ylabel='concentration (per former atom)',
           title=f"{summary['label']}\nnetwork-former units ({summary['nfu_source']})", xlim=_x_limits(x))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def plot_activation_energy(summary: dict, path: Path) -> Path:
    """Save :func:`activation_energy_figure` as a PNG at ``path``; return ``path``."""
    return save_figure(activation_energy_figure(summary), path)


def plot_conductivity(summary: dict, path: Path) -> Path:
    """Save :func:`conductivity_figure` as a PNG at ``path``; return ``path``."""
    return save_figure(conductivity_figure(summary), path)


def plot_arrhenius(summary: dict, path: Path) -> Path:
    """Save :func:`arrhenius_figure` as a PNG at ``path``; return ``path``."""
    return save_figure(arrhenius_figure(summary), path)


def plot_units(summary: dict, path: Path) -> Path:
    """Save :func:`units_figure` as a PNG at ``path``; return ``path``."""
    return save_figure(units_figure(summary), path)


def plot_hopping(summary: dict, folder: Path) -> dict[str, Path]:
    """Write every plot the summary supports into ``folder``.

    Parameters
    ----------
    summary : dict
        Summary of a hopping workflow.
    folder : Path
        Output folder, created if missing.

    Returns
    -------
    dict of str to Path
        ``activation_energy`` and ``units`` always; ``conductivity`` when there are temperatures and
        ``arrhenius`` when there are at least two; each mapped to its ``<name>.png``.
    """
    folder = Path(folder)
    writers = {'activation_energy': plot_activation_energy, 'units': plot_units, 'conductivity': plot_conductivity,
               'arrhenius': plot_arrhenius}
    n_temperatures = len(summary['temperatures_k'])
    return {name: writers[name](summary, folder / f'{name}.png')
            for name, needed in PLOT_NAMES if n_temperatures >= needed}


def _title(summary: dict, ascii_only: bool = False) -> str:
    """Label and model parameters; the table's title line when ``ascii_only``, else a plot title."""
    if ascii_only:
        return (f"{summary['label']}: V0 = {summary['v0_ev']:.3f} eV, sigma_eps = {summary['sigma_eps']:.3f} "
                f"({summary['parameters_source']}), nu = {summary['nu_hz']:.2e} Hz, size = {summary['size']}, "
                f"n_landscapes = {summary['n_landscapes']}, NFU concentrations: {summary['nfu_source']}")
    return (f"{summary['label']}\n$V_0$ = {summary['v0_ev']:.3f} eV, $\\sigma_\\epsilon$ = {summary['sigma_eps']:.3f} "
            f"({summary['parameters_source']})")


def _cell(value, fmt: str) -> str:
    """``value`` formatted, or ``-`` when it is None."""
    return '-' if value is None else fmt.format(value)


def _activation_cell(value, std) -> str:
    """E_a with its standard deviation, ``-`` when missing."""
    if value is None:
        return '-'
    return f'{value:.3f} +- {std:.3f}' if std is not None else f'{value:.3f}'


def _values(rows: list[dict], key: str) -> np.ndarray:
    """Float array of ``row[key]`` over the rows, NaN where missing."""
    return np.array([np.nan if row.get(key) is None else row[key] for row in rows], dtype=float)


def _log_sigma(rows: list[dict], key: str, k: int) -> np.ndarray:
    """log10 of the ``k``-th conductivity in ``row[key]`` of every row; NaN where missing or not positive."""
    sigma = np.array([np.nan if not row.get(key) else row[key][k] for row in rows], dtype=float)
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(sigma > 0.0, np.log10(np.where(sigma > 0.0, sigma, 1.0)), np.nan)


def _masked_log(points) -> tuple[np.ndarray, np.ndarray]:
    """Abscissas and log10 ordinates of ``(a, value)`` pairs, dropping non-positive values."""
    kept = [(a, value) for a, value in points if value is not None and value > 0.0]
    if not kept:
        return np.empty(0), np.empty(0)
    a, value = np.asarray(kept, dtype=float).T
    return a, np.log10(value)


def _experiment(summary: dict) -> dict:
    """The measured values ``summary['experiment']``, empty when absent."""
    return summary.get('experiment') or {}


def _experiment_by_x(summary: dict, key: str) -> list[tuple[float, float]]:
    """Measured ``(x, value)`` pairs of ``summary['experiment'][key]``, sorted by x; empty if absent."""
    measured = _experiment(summary).get(key, {})
    return sorted((float(x_key), value) for x_key, value in measured.items() if value is not None)


def _temperature_key(temperature) -> float:
    """A temperature (number or string such as ``'303'``) as a float rounded to 0.1 K, for matching."""
    return round(float(temperature), 1)


def _temperature_colours(summary: dict) -> dict[float, str]:
    """Colour of every temperature: the model temperatures first, then those only measured."""
    keys = [_temperature_key(t) for t in summary['temperatures_k']]
    measured = _experiment(summary).get('sigma_s_cm', {})
    keys += sorted({_temperature_key(t) for by_t in measured.values() for t in by_t} - set(keys))
    return {key: f'C{k % 10}' for k, key in enumerate(keys)}


def _x_limits(x: list[float]) -> tuple[float, float]:
    """Axis range of x with a small margin (also for a single x)."""
    low, high = (min(x), max(x)) if x else (0.0, 1.0)
    margin = max(0.05 * (high - low), 0.02)
    return low - margin, high + margin
