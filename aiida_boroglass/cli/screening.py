"""Results of a screening: a table of glasses and plots of N4 and density against composition.

The rows are read from the melt-quench workflows a screening called, so that a finished,
failed or interrupted screening is tabulated alike: every glass that finished counts. A
composition made in several replicas is one row: the mean and sample standard deviation of
its glasses, which the JSON keeps one by one.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from aiida_boroglass.cli.plotting import text_table
from aiida_boroglass.glass.replicas import REPLICA_QUANTITIES, composition_of_key, replica_statistics

#: Table columns: (title, row key, format).
TABLE_COLUMNS = (
    ('composition', 'composition', '{}'),
    ('x', 'x', '{:.3f}'),
    ('atoms', 'n_atoms', '{:d}'),
    ('replicas', 'n_replicas', '{:d}'),
    ('density (g/cm3)', 'density_g_cm3', '{:.3f}'),
    ('ref. density (g/cm3)', 'reference_density_g_cm3', '{:.3f}'),
    ('N4', 'n4', '{:.3f}'),
    ('ref. N4', 'reference_n4', '{:.3f}'),
    ('NBO fraction', 'nbo_fraction', '{:.3f}'),
    ('wall time (s)', 'wall_time_s', '{:.0f}'),
)


def composition_key(x: float) -> str:
    """Identifier of a grid point used as link label, e.g. ``x0300`` for x = 0.3."""
    return f'x{int(round(x * 1000)):04d}'


def x_of_key(key: str) -> float:
    """The x of a grid point identifier: ``x0300`` -> 0.3 (inverse of :func:`composition_key`)."""
    return int(key[1:]) / 1000


def potential_label(node) -> str:
    """What drove a glass's MD: the force-field name, ``DeePMD xN`` (N models) or ``PBE/<basis>`` (AIMD)."""
    from aiida_boroglass.workflows.melt_quench import DEFAULT_FORCEFIELD

    if 'dft' in node.inputs:
        return f'PBE/{node.inputs.dft["basis_set"]}'
    models = node.inputs.md.lammps.get('models') if 'md' in node.inputs else None
    if models:
        return f'DeePMD x{len(models)}'
    return node.inputs.forcefield.value if 'forcefield' in node.inputs else DEFAULT_FORCEFIELD


def melt_quench_summary(node) -> dict:
    """Key results of a finished ``boroglass.melt_quench`` or ``boroglass.aimd`` node (units in the keys)."""
    outputs = node.outputs
    return {
        'composition': node.inputs.composition.label_text if 'composition' in node.inputs else outputs.structure.get_formula(),
        'n_atoms': len(outputs.structure.sites),
        'forcefield': potential_label(node),
        'density_g_cm3': outputs.density_g_cm3.value,
        'n4': outputs.boron['n4'],
        'mean_b_coordination': outputs.boron['mean_coordination'],
        'cutoff_bo_a': outputs.boron['cutoff_bo_a'],
        'bo_fraction': outputs.oxygen['bo_fraction'],
        'nbo_fraction': outputs.oxygen['nbo_fraction'],
        'free_o_fraction': outputs.oxygen['free_fraction'],
        'production_frames': outputs.trajectory.numsteps,
        'wall_time_s': round((node.mtime - node.ctime).total_seconds(), 1),
    }


def screening_rows(node) -> list[dict]:
    """One row per glass of a screening that finished: summary values, x, replica, reference density and N4."""
    from aiida_boroglass.workflows.screening import screening_glasses

    rows = []
    for label, glass in screening_glasses(node).items():
        if not glass.is_finished_ok:
            continue
        key, replica = composition_of_key(label)
        composition = glass.inputs.composition.composition
        reference = references(composition)
        rows.append({'key': key, 'replica': replica, 'x': x_of_key(key), 'fractions': composition.fractions,
                     **melt_quench_summary(glass), 'reference_density_g_cm3': reference['density_g_cm3'],
                     'reference_n4': reference['n4']})
    return rows


def references(composition) -> dict[str, float | None]:
    """Cited density (g/cm^3) and N4 (paper 001 Table II and others) of a ``Composition``; None where not tabulated."""
    try:
        density = composition.density().value_g_cm3
    except ValueError:  # no tabulated density: the glass was given one
        density = None
    return {'density_g_cm3': density, 'n4': (composition.reference_n4() or (None,))[0]}


def composition_rows(rows: Sequence[dict]) -> list[dict]:
    """One row per composition: the first replica's fields, each averaged quantity's mean and ``{quantity}_std``
    (None for one replica), ``n_replicas`` and ``replicas`` (the glasses' rows)."""
    grouped = []
    for key in dict.fromkeys(row['key'] for row in rows):
        group = sorted((row for row in rows if row['key'] == key), key=lambda row: row['replica'])
        stats = replica_statistics(group)
        means = {quantity: stats[quantity]['mean'] for quantity in REPLICA_QUANTITIES}
        spreads = {f'{quantity}_std': stats[quantity]['std'] for quantity in REPLICA_QUANTITIES}
        grouped.append({**group[0], **means, **spreads, 'n_replicas': len(group), 'replicas': group})
    return grouped


def show_screening(nodes: Sequence, output: Path) -> bool:
    """Print the table of screenings, write ``screening.json`` and ``screening.png``; say which glasses did not finish.

    Returns
    -------
    bool
        Whether every glass finished.
    """
    from aiida_boroglass.workflows.screening import screening_glasses

    rows = [row for node in nodes for row in composition_rows(screening_rows(node))]
    missing = [f'{glass.label or key} ({glass.process_state.value})' for node in nodes
               for key, glass in screening_glasses(node).items() if not glass.is_finished_ok]
    if rows:
        click.echo(format_table(rows))
        output.mkdir(parents=True, exist_ok=True)
        (output / 'screening.json').write_text(json.dumps(rows, indent=2))
        label = nodes[0].label
        plot = plot_screening(rows, output / 'screening.png', x_label=f'x in {label}' if label else 'x')
        click.echo(f'table: {output / "screening.json"}\nplot: {plot}')
    if missing:
        click.echo(f'not finished: {", ".join(missing)}')
    return not missing and bool(rows)


def spread_text(mean: float | None, std: float | None, fmt: str) -> str | None:
    """``mean ± std`` in the format ``fmt`` (the mean alone without a spread; None without a mean)."""
    if mean is None:
        return None
    return fmt.format(mean) if std is None else f'{fmt.format(mean)} ± {fmt.format(std)}'


def format_table(rows: Sequence[dict]) -> str:
    """Return the composition rows as an aligned text table: averaged quantities as ``mean ± std``
    over replicas, missing values as ``-``."""
    spread = [(title, key, fmt) for title, key, fmt in TABLE_COLUMNS if f'{key}_std' in rows[0]] if rows else []
    columns = [(title, key, '{}' if (title, key, fmt) in spread else fmt) for title, key, fmt in TABLE_COLUMNS]
    shown = [{**row, **{key: spread_text(row.get(key), row.get(f'{key}_std'), fmt) for _, key, fmt in spread}}
             for row in rows]
    return text_table(columns, shown)


def plot_screening(rows: Sequence[dict], path: Path, x_label: str) -> Path:
    """Plot N4 and density against x in two panels, simulated and reference; save a PNG.

    Parameters
    ----------
    rows : sequence of dict
        Composition rows with ``x``, ``n4``, ``density_g_cm3``, optional ``n4_std`` and
        ``density_g_cm3_std`` (error bars), ``reference_n4`` and ``reference_density_g_cm3``.
    path : Path
        Output PNG file.
    x_label : str
        Axis label of the composition variable.
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    rows = sorted(rows, key=lambda r: r['x'])
    x = [r['x'] for r in rows]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(5, 6), dpi=120)
    top.errorbar(x, [r['n4'] for r in rows], yerr=_spread(rows, 'n4'), fmt='o-', color='tab:blue', capsize=3,
                 label='simulated (± std over replicas)')
    _plot_reference(top, rows, 'reference_n4', 'o--', 'tab:blue', 'reference')
    top.set_ylabel('N4 (fraction of four-fold B)')
    bottom.errorbar(x, [r['density_g_cm3'] for r in rows], yerr=_spread(rows, 'density_g_cm3'), fmt='s-',
                    color='tab:red', capsize=3, label='simulated (± std over replicas)')
    _plot_reference(bottom, rows, 'reference_density_g_cm3', 's--', 'tab:red', 'reference')
    bottom.set_ylabel('density (g/cm$^3$)')
    bottom.set_xlabel(x_label)
    for axis in (top, bottom):
        axis.legend(fontsize=8)
        axis.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _plot_reference(axis, rows: Sequence[dict], key: str, style: str, color: str, label: str) -> None:
    """Draw the reference values of ``key`` (open markers, dashed) where the rows have one."""
    points = [(r['x'], r[key]) for r in rows if r.get(key) is not None]
    if points:
        axis.plot(*zip(*points), style, color=color, alpha=0.5, mfc='none', label=label)


def _spread(rows: Sequence[dict], key: str) -> list[float]:
    """Error bars of ``key``: its standard deviation over replicas, 0 for a single glass."""
    return [row.get(f'{key}_std') or 0.0 for row in rows]
