"""Matplotlib on the Agg backend, and saving figures, for the plot modules of the command line."""
from __future__ import annotations

from pathlib import Path


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> Path:
    """Lay out, save as PNG (120 dpi) and close ``fig``; return ``path`` (parent folders created)."""
    import matplotlib.pyplot as plt

    path = Path(path)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def text_table(columns, tables: list[dict]) -> str:
    """Fixed-width text table, one line per dict of ``tables`` (``-`` for missing values).

    Parameters
    ----------
    columns : sequence of (str, str, str)
        Title, key into each table dict, and format string of every column.
    tables : list of dict
        The rows' values.
    """
    cells = [[title for title, _, _ in columns]]
    for values in tables:
        cells.append(['-' if values.get(key) is None else fmt.format(values[key]) for _, key, fmt in columns])
    widths = [max(len(line[k]) for line in cells) for k in range(len(columns))]
    lines = ['  '.join(cell.rjust(width) for cell, width in zip(line, widths)) for line in cells]
    lines.insert(1, '  '.join('-' * width for width in widths))
    return '\n'.join(lines)
