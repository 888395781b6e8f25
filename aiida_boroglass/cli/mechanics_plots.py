"""Plots of ``boroglass.deformation`` results: stress-strain curves and the structure along the strain.

Each figure has one column per deformation workflow (a loading mode); every run (replica x
direction) is drawn thin, the mean over runs (the workflow's ``average_curves``) thick, in the
same colour.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from aiida_boroglass.cli.plotting import pyplot, save_figure

#: Line widths of one run and of the mean over runs.
RUN_WIDTH, MEAN_WIDTH = 0.7, 2.2
#: Bond-switching classes drawn (``unchanged`` is the rest of the formers).
SWITCHES = ('decreased', 'increased', 'swapped')


def deformation_series(node) -> dict:
    """Arrays of one finished ``boroglass.deformation`` node for the plots.

    Returns
    -------
    dict
        ``runs``: run key -> ``{'curve': {name: array}, 'evolution': {name: array}}`` (the
        binned curve: ``strain``, ``stress_gpa`` (GPa, positive in tension), shape (n_bins,);
        per frame: ``strain``, ``n4``, ``three_rings``, ``switching_<former>`` (n_frames, 4),
        ``local_strain_<class>`` (n_frames,)); ``mean``: ``average_curves`` (the same names, the
        frames' strain as ``frame_strain``); ``switch_classes``: the column names of the
        switching counts.
    """
    outputs = node.outputs

    def arrays(data):
        return {name: data.get_array(name) for name in data.get_arraynames()}

    runs = {key: {'curve': arrays(outputs.curves[key]), 'evolution': arrays(outputs.evolution[key])}
            for key in sorted(outputs.curves)}
    first = outputs.evolution[sorted(outputs.evolution)[0]]
    return {'runs': runs, 'mean': arrays(outputs.average_curves),
            'switch_classes': list(first.base.attributes.get('switch_classes'))}


def plot_deformation(workflows: Mapping, folder: Path) -> list[Path]:
    """Write ``stress_strain.png``, ``structure_strain.png``, ``bond_switching.png`` and ``local_strain.png``.

    Parameters
    ----------
    workflows : Mapping
        Panel title (the mode) -> finished ``boroglass.deformation`` node, of one glass.
    folder : Path
        Output folder (created if missing).

    Returns
    -------
    list of Path
    """
    plt = pyplot()
    series = {title: deformation_series(node) for title, node in workflows.items()}
    folder = Path(folder)
    return [save_figure(_stress_strain_figure(plt, series), folder / 'stress_strain.png'),
            save_figure(_structure_figure(plt, series), folder / 'structure_strain.png'),
            save_figure(_switching_figure(plt, series), folder / 'bond_switching.png'),
            save_figure(_local_strain_figure(plt, series), folder / 'local_strain.png')]


def _draw(ax, runs: list[tuple[np.ndarray, np.ndarray]], mean: tuple[np.ndarray, np.ndarray], colour, label: str):
    """Each run's ``(x, y)`` thin and the mean's thick, in ``colour``; the mean carries ``label``."""
    for x, y in runs:
        ax.plot(x, y, color=colour, lw=RUN_WIDTH, alpha=0.5)
    ax.plot(*mean, color=colour, lw=MEAN_WIDTH, label=label)


def _frame_runs(data: dict, name: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(frame strain, array name)`` of every run that holds ``name``."""
    return [(run['evolution']['strain'], run['evolution'][name]) for run in data['runs'].values()
            if name in run['evolution']]


def _stress_strain_figure(plt, series: dict):
    """Stress (GPa, positive in tension) against strain, one panel per mode."""
    fig, axes = plt.subplots(1, len(series), figsize=(4.6 * len(series), 4.0), squeeze=False)
    for ax, (title, data) in zip(axes[0], series.items()):
        runs = [(run['curve']['strain'], run['curve']['stress_gpa']) for run in data['runs'].values()]
        _draw(ax, runs, (data['mean']['strain'], data['mean']['stress_gpa']), 'tab:blue',
              f'mean of {len(runs)} run(s)')
        ax.axhline(0.0, color='k', lw=0.5)
        ax.set(xlabel='strain', ylabel='stress (GPa, > 0 in tension)', title=title)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return fig


def _structure_figure(plt, series: dict):
    """N4 (fraction of B) and 3-rings (count in the cell) against strain: two rows, one column per mode."""
    fig, axes = plt.subplots(2, len(series), figsize=(4.6 * len(series), 6.4), squeeze=False, sharex='col')
    for column, (title, data) in enumerate(series.items()):
        for row, (name, label) in enumerate((('n4', 'N4 (fraction of B)'), ('three_rings', '3-rings (in the cell)'))):
            ax = axes[row, column]
            if name in data['mean']:
                _draw(ax, _frame_runs(data, name), (data['mean']['frame_strain'], data['mean'][name]), 'tab:green',
                      'mean')
            ax.set(ylabel=label, title=title if row == 0 else None)
            ax.grid(alpha=0.3)
        axes[1, column].set_xlabel('strain')
    return fig


def _switching_figure(plt, series: dict):
    """Formers whose O shell changed against the unstrained glass (% of that former), per former and mode."""
    formers = sorted({name.removeprefix('switching_') for data in series.values() for name in data['mean']
                      if name.startswith('switching_')})
    fig, axes = plt.subplots(max(len(formers), 1), len(series), figsize=(4.6 * len(series), 3.4 * max(len(formers), 1)),
                             squeeze=False, sharex='col')
    colours = dict(zip(SWITCHES, ('tab:blue', 'tab:red', 'tab:orange')))
    for column, (title, data) in enumerate(series.items()):
        for row, former in enumerate(formers):
            ax, name = axes[row, column], f'switching_{former}'
            for switch in SWITCHES:
                index = data['switch_classes'].index(switch)
                runs = [(x, _percent(counts, index)) for x, counts in _frame_runs(data, name)]
                mean = (data['mean']['frame_strain'], _percent(data['mean'][name], index))
                _draw(ax, runs, mean, colours[switch], f'{switch} CN' if switch != 'swapped' else 'swapped O')
            ax.set(ylabel=f'{former} switched (% of {former})', title=title if row == 0 else None)
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
        axes[-1, column].set_xlabel('strain')
    return fig


def _percent(counts: np.ndarray, index: int) -> np.ndarray:
    """Column ``index`` of switching counts (n_frames, n_classes) as % of the formers counted in each frame."""
    counts = np.asarray(counts, dtype=float)
    return 100.0 * counts[:, index] / counts.sum(axis=1)


def _local_strain_figure(plt, series: dict):
    """Mean local strain F_aa - 1 along the loaded axes by atom class against the applied strain, one panel per mode."""
    fig, axes = plt.subplots(1, len(series), figsize=(4.6 * len(series), 4.0), squeeze=False)
    for ax, (title, data) in zip(axes[0], series.items()):
        classes = sorted(name.removeprefix('local_strain_') for name in data['mean'] if name.startswith('local_strain_'))
        strain = data['mean']['frame_strain']
        for colour, name in zip(plt.cm.tab10(np.arange(len(classes)) % 10), classes):
            _draw(ax, _frame_runs(data, f'local_strain_{name}'), (strain, data['mean'][f'local_strain_{name}']),
                  colour, name)
        ax.plot(strain, strain, 'k--', lw=0.8, label='applied')
        ax.set(xlabel='strain', ylabel='local strain $F_{aa} - 1$ (mean by class)', title=title)
        ax.legend(fontsize=8, ncol=2)
        ax.grid(alpha=0.3)
    return fig


#: Snapshots of the cracked cell drawn at most, evenly spaced over the strain steps.
SNAPSHOTS = 6


def plot_fracture(node, folder: Path) -> list[Path]:
    """Write ``fracture_curve.png`` (stress and crack area against strain), ``fracture_snapshots.png`` and, when the
    run has a ``softness`` output, ``fracture_softness.png`` (:func:`_softness_figure`).

    Parameters
    ----------
    node : WorkflowNode
        A finished ``boroglass.fracture``: per replica its ``curve`` (strain, stress_gpa,
        crack_area_a2 per step) and ``frames`` (the cell after every step); optionally ``softness``.
    folder : Path
        Output folder (created if missing).

    Returns
    -------
    list of Path
    """
    plt = pyplot()
    folder = Path(folder)
    curves = {key: node.outputs.curve[key] for key in sorted(node.outputs.curve)}
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.6, 6.4), sharex=True)
    for key, curve in curves.items():
        line, = top.plot(curve.get_array('strain'), curve.get_array('stress_gpa'), 'o-', ms=3, label=key)
        bottom.plot(curve.get_array('strain'), curve.get_array('crack_area_a2'), 'o-', ms=3, color=line.get_color())
    top.axhline(0.0, color='k', lw=0.5)
    top.set(ylabel='stress normal to the crack (GPa)', title=f'fracture (PK {node.pk})')
    bottom.set(xlabel='strain normal to the crack', ylabel='crack area (Å$^2$)')
    top.legend(fontsize=8)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    first = sorted(node.outputs.frames)[0]
    paths = [save_figure(fig, folder / 'fracture_curve.png'),
             save_figure(_snapshot_figure(plt, node.outputs.frames[first], curves[first].get_array('strain')),
                         folder / 'fracture_snapshots.png')]
    if 'softness' in node.outputs:
        figure = _softness_figure(plt, node.outputs.softness, node.outputs.softness_summary.get_dict(), sorted(curves))
        paths.append(save_figure(figure, folder / 'fracture_softness.png'))
    return paths


def _softness_figure(plt, softness, summary: Mapping, replicas: list[str]):
    """Paper 004's Fig. 6b and the propensity to switch by softness: two panels against strain.

    Left: the mean softness of the labelled atoms (B) in each strained cell, one line per
    replica. Right: the share of each softness quantile group (softness of the unstrained cell)
    that has switched bonds by each strain, over all replicas.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    for key in replicas:
        left.plot(softness.get_array(f'strain_{key}'), softness.get_array(f'mean_softness_{key}'), 'o-', ms=3, label=key)
    left.set(xlabel='strain normal to the crack', ylabel=f'mean softness of {summary["species"]}',
             title=f'accuracy {summary["accuracy"]:.2f} on {summary["held_out"]}')
    left.legend(fontsize=8)
    strain, fraction = softness.get_array('strain'), softness.get_array('switched_fraction')
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, len(fraction)))
    edges = softness.get_array('quantile_edges')
    for group, (row, colour) in enumerate(zip(fraction, colours)):
        right.plot(strain, 100.0 * row, 'o-', ms=3, color=colour, label=f'S in [{edges[group]:.2f}, {edges[group + 1]:.2f}]')
    right.set(xlabel='strain normal to the crack', ylabel=f'{summary["species"]} switched by this strain (%)',
              title='by softness of the unstrained cell')
    right.legend(fontsize=7)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return fig


def _snapshot_figure(plt, trajectory, strains: np.ndarray):
    """Atoms of up to :data:`SNAPSHOTS` frames projected on the x-z plane (z normal to the crack), coloured by element."""
    from aiida_boroglass.functions.utils import frames_of

    positions, cells, symbols = frames_of(trajectory)
    symbols = np.asarray(symbols)
    chosen = np.unique(np.linspace(0, len(positions) - 1, min(SNAPSHOTS, len(positions))).round().astype(int))
    fig, axes = plt.subplots(1, len(chosen), figsize=(2.6 * len(chosen), 4.8), squeeze=False, sharey=True)
    elements = sorted(set(symbols))
    colours = dict(zip(elements, plt.cm.tab10(np.arange(len(elements)) % 10)))
    for ax, index in zip(axes[0], chosen):
        lengths = np.diag(cells[index])
        wrapped = np.mod(positions[index], lengths)
        for element in elements:
            mine = symbols == element
            ax.scatter(wrapped[mine, 0], wrapped[mine, 2], s=4, color=colours[element], label=element)
        ax.add_patch(plt.Rectangle((0.0, 0.0), lengths[0], lengths[2], fill=False, lw=0.8))
        ax.set(xlabel='x (Å)', title=f'strain {strains[index]:.2f}', aspect='equal')
    axes[0, 0].set_ylabel('z (Å), normal to the crack')
    axes[0, -1].legend(fontsize=7, markerscale=2, loc='upper right')
    return fig
