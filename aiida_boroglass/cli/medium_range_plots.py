"""Table and comparison plots of ``boroglass.medium_range`` results for one or more glasses."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from aiida_boroglass.cli.plotting import pyplot, save_figure, text_table

#: Table columns: (title, key of the row's ``table`` dict, format).
COLUMNS = (
    ('glass', 'glass', '{}'),
    ('rings/former', 'rings_per_former', '{:.3f}'),
    ('boroxol B', 'boroxol_fraction', '{:.3f}'),
    ('B in 3-rings', 'boron_in_3_rings', '{:.3f}'),
    ('cavity fraction', 'cavity_fraction', '{:.4f}'),
    ('cavities', 'n_cavities_above_1a3', '{:.1f}'),
    ('ion-cavity (Å)', 'ion_cavity_distance_a', '{:.2f}'),
    ('persistence (Å²/atom)', 'persistence_per_atom_a2', '{:.3f}'),
)


def medium_range_row(label: str, node) -> dict:
    """Numbers of one finished ``boroglass.medium_range`` node: ``table`` (flat, JSON-ready) and the plot data.

    Parameters
    ----------
    label : str
        Name of the glass in the table and legends.
    node : WorkflowNode
        A finished medium-range workflow.

    Returns
    -------
    dict
        ``table``: glass, rings per former atom, boroxol fraction of B, share of B in
        3-former rings (B3r + B4r), cavity volume fraction, cavities above 1 Å^3 per frame,
        mean mobile-ion to cavity distance (Å), total persistence per atom (Å^2), the ring
        size distribution in atoms (per former atom) and the superstructural units;
        ``rings_by_atoms``, ``diagram_a2``, ``apf_t_a2``, ``apf_per_atom_a2`` and
        ``volumes_a3`` for the plots.
    """
    out = node.outputs
    rings, cavities, homology = out.rings.get_dict(), out.cavities.get_dict(), out.homology
    membership = out.ring_membership.get_dict()
    distances = list(cavities['mean_ion_distance_a'].values())
    n_atoms = homology.base.attributes.get('n_atoms')
    table = {
        'glass': label,
        'rings_per_former': float(sum(rings['per_former_by_atoms'].values())),
        'boroxol_fraction': rings['boroxol_fraction'],
        'boron_in_3_rings': sum(v for k, v in membership.items() if k.startswith('B') and k.endswith('r')),
        'cavity_fraction': cavities['volume_fraction'],
        'n_cavities_above_1a3': cavities['n_cavities_above_1a3'],
        'ion_cavity_distance_a': float(np.mean(distances)) if distances else None,
        'persistence_per_atom_a2': homology.base.attributes.get('total_persistence_a2') / n_atoms,
        'ring_sizes_per_former_by_atoms': rings['per_former_by_atoms'],
        'superstructural_units': out.superstructural_units.get_dict(),
    }
    return {
        'table': table, 'rings_by_atoms': rings['per_former_by_atoms'],
        'diagram_a2': homology.get_array('diagram_a2'), 'apf_t_a2': homology.get_array('apf_t_a2'),
        'apf_per_atom_a2': homology.get_array('apf_per_atom_a2'),
        'volumes_a3': out.cavity_volumes.get_array('volumes_a3'),
    }


def medium_range_table(rows: list[dict]) -> str:
    """Fixed-width text table, one line per glass (``-`` for missing values)."""
    return text_table(COLUMNS, [row['table'] for row in rows])


def plot_medium_range(rows: list[dict], folder: Path) -> list[Path]:
    """Write ``rings.png``, ``apf.png``, ``persistence.png`` and ``cavities.png`` comparing the glasses.

    Parameters
    ----------
    rows : list of dict
        From :func:`medium_range_row`.
    folder : Path
        Output folder (must exist).

    Returns
    -------
    list of Path
    """
    plt = pyplot()
    folder = Path(folder)
    return [
        save_figure(_rings_figure(plt, rows), folder / 'rings.png'),
        save_figure(_apf_figure(plt, rows), folder / 'apf.png'),
        save_figure(_diagram_figure(plt, rows), folder / 'persistence.png'),
        save_figure(_cavity_figure(plt, rows), folder / 'cavities.png'),
    ]


def _rings_figure(plt, rows: list[dict]):
    """Ring size distribution (rings per former atom against ring size in atoms), one bar group per glass."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    sizes = sorted({int(size) for row in rows for size in row['rings_by_atoms']})
    width = 0.8 / max(len(rows), 1)
    for k, row in enumerate(rows):
        values = [row['rings_by_atoms'].get(str(size), 0.0) for size in sizes]
        ax.bar(np.arange(len(sizes)) + (k - (len(rows) - 1) / 2) * width, values, width, label=row['table']['glass'])
    ax.set_xticks(np.arange(len(sizes)), [str(size) for size in sizes])
    ax.set(xlabel='ring size (atoms: formers + O)', ylabel='rings per network-former atom',
           title='ring statistics')
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis='y')
    return fig


def _apf_figure(plt, rows: list[dict]):
    """Accumulated persistence function per atom against the mean age (paper 002, Fig. 11 style)."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for row in rows:
        ax.plot(row['apf_t_a2'], row['apf_per_atom_a2'], label=row['table']['glass'])
    ax.set(xlabel='mean age $(b + d)/2$ (Å$^2$)', ylabel='APF per atom (Å$^2$)', title='accumulated persistence (1-d)')
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def _diagram_figure(plt, rows: list[dict]):
    """1-dimensional persistence diagrams, one panel per glass (log colour scale of pair density)."""
    fig, axes = plt.subplots(1, len(rows), figsize=(4.5 * len(rows), 4.2), squeeze=False)
    for ax, row in zip(axes[0], rows):
        diagram = row['diagram_a2']
        if diagram.size:
            ax.hexbin(diagram[:, 0], diagram[:, 1], gridsize=60, bins='log', mincnt=1, cmap='viridis')
            low, high = float(diagram.min()), float(diagram.max())
            ax.plot([low, high], [low, high], 'k-', lw=0.8)
        ax.set(xlabel='birth (Å$^2$)', ylabel='death (Å$^2$)', title=row['table']['glass'])
    return fig


def _cavity_figure(plt, rows: list[dict]):
    """Cumulative cavity volume against cavity size, one line per glass."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for row in rows:
        volumes = np.sort(np.asarray(row['volumes_a3'], dtype=float))
        if volumes.size:
            ax.step(volumes, np.cumsum(volumes) / volumes.sum(), where='post',
                    label=f"{row['table']['glass']} ({row['table']['cavity_fraction']:.2%} of the volume)")
    ax.set_xscale('log')
    ax.set(xlabel='cavity volume (Å$^3$)', ylabel='share of the cavity volume in cavities <= V',
           title='domain cavities')
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
