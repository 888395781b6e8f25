"""Plots and the text summary of a finished ``boroglass.structure_panel`` workflow."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def panel_summary(node) -> list[tuple[str, str]]:
    """Rows ``(quantity with unit, value)`` of the headline results of a finished panel."""
    out = node.outputs
    coordination = out.coordination.get_dict()
    volumes = out.volumes.get_dict()
    rows = [('density (g/cm3)', f"{volumes['density_g_cm3']:.4f}"),
            ('molar volume (cm3/mol)', f"{volumes['molar_volume_cm3_mol']:.3f}"),
            ('number density (1/A3)', f"{volumes['number_density_a3']:.5f}")]
    rows += [(f'cutoff {pair} (A, {value["source"]})', f"{value['value_a']:.3f}")
             for pair, value in out.cutoffs.get_dict().items()]
    if 'n4' in coordination:
        rows += [('N3', f"{coordination['n3']:.4f}"), ('N4', f"{coordination['n4']:.4f}")]
    rows += [(f'mean O coordination of {pair.split("-")[0]}', f"{value['mean']:.3f}")
             for pair, value in coordination.items() if isinstance(value, dict) and 'mean' in value]
    if 'oxygen' in coordination:
        rows += [(f'{kind} O fraction', f"{coordination['oxygen'][f'{kind}_fraction']:.4f}") for kind in ('bo', 'nbo', 'free')]
    if 'network_units' in out:
        rows += [(f'unit {unit} (fraction of formers)', f"{value['fraction_of_formers']:.4f}")
                 for unit, value in out.network_units.get_dict().items()]
    if 'bond_populations' in out:
        for family, classes in out.bond_populations.get_dict().items():
            rows += [(f'{name}: share, peak (A)', f"{value['fraction']:.3f}, {value['peak_a']:.3f}")
                     for name, value in classes.items()]
    rows += [(f'angle {name} mean (deg)', f"{value['mean_deg']:.1f}") for name, value in out.angle_summary.get_dict().items()]
    for element, value in volumes.get('voronoi', {}).items():
        rows.append((f'Voronoi volume {element} (A3)', f"{value['mean_a3']:.2f} +- {value['std_a3']:.2f}"))
    if 'agreement' in out:
        rows.append((f"R_chi {out.agreement['quantity']}", f"{100 * out.agreement['r_chi']:.2f} %"))
    return rows


def plot_panel(node, directory: Path, experiment: tuple[np.ndarray, np.ndarray] | None = None) -> list[Path]:
    """Write ``rdf.png``, ``scattering.png``, ``bonds.png`` and ``angles.png``; return their paths."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    out = node.outputs
    paths = []
    for name, draw in (('rdf', _draw_rdf), ('scattering', _draw_scattering), ('bonds', _draw_bonds),
                       ('angles', _draw_angles)):
        fig = draw(plt, out, node, experiment)
        if fig is None:
            continue
        fig.tight_layout()
        path = directory / f'{name}.png'
        fig.savefig(path, dpi=120)
        plt.close(fig)
        paths.append(path)
    return paths


def _draw_rdf(plt, out, node, experiment):
    """Partial g_ij(r) of every pair, offset, and running coordination numbers."""
    rdf = out.rdf
    r, g, running = rdf.get_array('r_a'), rdf.get_array('g'), rdf.get_array('running_cn')
    pairs = rdf.base.attributes.get('pairs')
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5))
    for k, pair in enumerate(pairs):
        left.plot(r, np.nan_to_num(g[k]) + 2.0 * k, label=pair)
    left.set(xlabel='r (Å)', ylabel='g_ij(r) + offset', title='partial pair distribution functions')
    left.legend(fontsize=8)
    cutoffs = out.cutoffs.get_dict()
    edges = rdf.get_array('edges_a')[1:]
    for k, pair in enumerate(pairs):
        a, b = pair.split('-')
        key = f'{a}-{b}' if f'{a}-{b}' in cutoffs else f'{b}-{a}'
        if key in cutoffs:
            centre_is_a = key.startswith(a + '-')
            right.plot(edges, running[k, 0 if centre_is_a else 1], label=f'{key.split("-")[1]} around {key.split("-")[0]}')
            right.axvline(cutoffs[key]['value_a'], color='grey', lw=0.5)
    right.set(xlabel='r (Å)', ylabel='running coordination number', ylim=(0, 12), title='running coordination')
    right.legend(fontsize=8)
    return fig


def _draw_scattering(plt, out, node, experiment):
    """Neutron and X-ray S(Q), neutron T(r) with T0, X-ray D(r); the experiment on top when given."""
    neutron, xray = out.neutron, out.xray
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    q = neutron.get_array('q_a')
    axes[0, 0].plot(q, neutron.get_array('s_total'), label='neutron')
    axes[0, 0].plot(xray.get_array('q_a'), xray.get_array('s_total'), label='X-ray')
    axes[0, 0].set(xlabel='Q (Å$^{-1}$)', ylabel='S(Q)', xlim=(0, 20), title='total structure factor (Faber-Ziman)')
    for k, pair in enumerate(neutron.base.attributes.get('pairs')):
        axes[0, 1].plot(q, neutron.get_array('s_partials')[k] + k, label=pair)
    axes[0, 1].set(xlabel='Q (Å$^{-1}$)', ylabel='S_ij(Q) + offset', xlim=(0, 20), title='partial S_ij(Q), Lorch window')
    axes[0, 1].legend(fontsize=7)
    r = neutron.get_array('r_a')
    axes[1, 0].plot(r, neutron.get_array('T_barn_A2'), label='T(r)')
    axes[1, 0].plot(r, neutron.get_array('T_broadened_barn_A2'), label=f"T(r), Lorch, Q_max {neutron.base.attributes.get('q_max_a'):g}")
    axes[1, 0].plot(r, neutron.get_array('T0_barn_A2'), 'k--', lw=0.8, label='T0(r)')
    axes[1, 0].set(xlabel='r (Å)', ylabel='T(r) (barn Å$^{-2}$)', title='neutron total correlation function')
    axes[1, 1].plot(xray.get_array('r_a'), xray.get_array('D_broadened_A2'), label=f"Lorch, Q_max {xray.base.attributes.get('q_max_a'):g}")
    axes[1, 1].set(xlabel='r (Å)', ylabel='D(r) (Å$^{-2}$)', title='X-ray differential correlation function')
    if experiment is not None and 'agreement' in out:
        quantity = out.agreement['quantity']
        target = {'S_neutron': axes[0, 0], 'S_xray': axes[0, 0], 'T_neutron': axes[1, 0], 'D_neutron': axes[1, 0],
                  'D_xray': axes[1, 1]}[quantity]
        target.plot(*experiment, 'k.', ms=2, label=f"experiment ({quantity}), R_chi {100 * out.agreement['r_chi']:.1f} %")
    for ax in (axes[0, 0], axes[1, 0], axes[1, 1]):
        ax.legend(fontsize=8)
    return fig


def _draw_bonds(plt, out, node, experiment):
    """Distance distributions of the labelled bond populations, one panel per family."""
    if 'bond_distances' not in out:
        return None
    hist = out.bond_distances
    edges = hist.get_array('edges_a')
    centres = 0.5 * (edges[1:] + edges[:-1])
    classes = hist.base.attributes.get('classes')
    families = sorted({family for family, _ in classes.values()})
    fig, axes = plt.subplots(1, len(families), figsize=(4.5 * len(families), 4), squeeze=False)
    populations = out.bond_populations.get_dict()
    for ax, family in zip(axes[0], families):
        for array_name, (fam, name) in classes.items():
            if fam == family:
                share = populations[family][name]['fraction']
                ax.plot(centres, hist.get_array(array_name), label=f'{name} ({100 * share:.1f} %)')
        ax.set(xlabel='r (Å)', ylabel='pairs per frame per 0.01 Å', title=f'{family} by bond type')
        ax.legend(fontsize=8)
    return fig


def _draw_angles(plt, out, node, experiment):
    """Bond-angle distributions."""
    angles = out.angles
    families = angles.base.attributes.get('families')
    if not families:
        return None
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for array_name, label in families.items():
        ax.plot(angles.get_array('angle_deg'), angles.get_array(array_name), label=label)
    ax.set(xlabel='angle (deg)', ylabel='P(angle) (1/deg)', xlim=(60, 180), title='bond-angle distributions')
    ax.legend(fontsize=8)
    return fig
