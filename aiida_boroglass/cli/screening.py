"""Results of a screening: a table of glasses and plots of N4 and density against composition."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

TABLE_COLUMNS = (
    ('composition', 'composition', '{}'),
    ('x', 'x', '{:.3f}'),
    ('n_atoms', 'atoms', '{:d}'),
    ('density_g_cm3', 'density (g/cm3)', '{:.3f}'),
    ('reference_density_g_cm3', 'ref. density (g/cm3)', '{:.3f}'),
    ('n4', 'N4', '{:.3f}'),
    ('reference_n4', 'ref. N4', '{:.3f}'),
    ('nbo_fraction', 'NBO fraction', '{:.3f}'),
    ('wall_time_s', 'wall time (s)', '{:.0f}'),
)


def format_table(rows: Sequence[dict]) -> str:
    """Return the rows as an aligned text table (missing values shown as ``-``)."""
    cells = [[title for _, title, _ in TABLE_COLUMNS]]
    for row in rows:
        cells.append([fmt.format(row[key]) if row.get(key) is not None else '-' for key, _, fmt in TABLE_COLUMNS])
    widths = [max(len(line[i]) for line in cells) for i in range(len(TABLE_COLUMNS))]
    lines = ['  '.join(cell.rjust(width) for cell, width in zip(line, widths)) for line in cells]
    lines.insert(1, '  '.join('-' * width for width in widths))
    return '\n'.join(lines)


def plot_screening(rows: Sequence[dict], path: Path, x_label: str) -> Path:
    """Plot N4 and density against x in two panels, simulated and reference; save a PNG.

    Parameters
    ----------
    rows : sequence of dict
        Table rows with ``x``, ``n4``, ``density_g_cm3`` and optional ``reference_n4`` and
        ``reference_density_g_cm3``.
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
    top.plot(x, [r['n4'] for r in rows], 'o-', color='tab:blue', label='simulated')
    _plot_reference(top, rows, 'reference_n4', 'o--', 'tab:blue', 'reference')
    top.set_ylabel('N4 (fraction of four-fold B)')
    bottom.plot(x, [r['density_g_cm3'] for r in rows], 's-', color='tab:red', label='simulated')
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
