"""Results of a ``boroglass.glass_study``: the MLP glass beside the classical glass, as a table and one figure."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click
import numpy as np

from aiida_boroglass.cli.plotting import pyplot, save_figure, text_table
from aiida_boroglass.cli.screening import references, spread_text

#: Rows of the table: (title, quantity of the comparison, format).
STUDY_ROWS = (
    ('density (g/cm3)', 'density_g_cm3', '{:.3f}'),
    ('N4', 'n4', '{:.3f}'),
    ('NBO fraction', 'nbo_fraction', '{:.3f}'),
    ('3-rings per former', 'three_rings_per_former', '{:.3f}'),
    ('boroxol fraction', 'boroxol_fraction', '{:.3f}'),
)
STUDY_COLUMNS = (('quantity', 'quantity', '{}'), ('classical', 'classical', '{}'), ('MLP', 'mlp', '{}'),
                 ('reference', 'reference', '{:.3f}'))
#: Potentials of a study with their colour and legend name, in table order.
POTENTIAL_STYLES = (('classical', 'tab:blue', 'classical'), ('mlp', 'tab:red', 'MLP'))
#: Quantities drawn as bars (fractions and per-atom counts on one axis).
BAR_QUANTITIES = ('n4', 'nbo_fraction', 'three_rings_per_former', 'boroxol_fraction')


def study_rows(comparison: dict, reference: dict) -> list[dict]:
    """Table rows: each quantity's ``mean ± std`` per potential, and its reference value."""
    return [{'quantity': title, 'reference': reference.get(key),
             **{potential: spread_text(comparison[potential][key]['mean'], comparison[potential][key]['std'], fmt)
                for potential, _, _ in POTENTIAL_STYLES}}
            for title, key, fmt in STUDY_ROWS]


def plot_study(node, comparison: dict, reference: dict, path: Path) -> Path:
    """Neutron S(Q) of both potentials, the force deviation along the quench, and the structural fractions."""
    plt = pyplot()
    fig, (sq, quench, bars) = plt.subplots(1, 3, figsize=(14, 4.2))
    factors = node.outputs.structure_factors
    q = factors.get_array('q_a')
    for potential, colour, name in POTENTIAL_STYLES:
        mean, std = factors.get_array(f's_{potential}_mean'), factors.get_array(f's_{potential}_std')
        sq.plot(q, mean, color=colour, label=f'{name} ({comparison[potential]["replicas"]} replicas)')
        sq.fill_between(q, mean - std, mean + std, color=colour, alpha=0.25, lw=0)
    sq.set_xlabel('Q (1/Å)')
    sq.set_ylabel('neutron S(Q)')
    sq.set_title(f'R_chi(MLP vs classical) = {comparison["sq_r_chi"]:.3f}', fontsize=9)
    sq.legend(fontsize=8)
    deviation = node.outputs.quench_deviation
    temperature, devi, replica = (deviation.get_array(name) for name in ('temperature_k', 'max_devi_f', 'replica'))
    for index in np.unique(replica):
        rows = replica == index
        quench.plot(temperature[rows], devi[rows], '.-', lw=0.8, label=f'replica {int(index)}')
    quench.invert_xaxis()
    quench.set_xlabel('nominal temperature along the quench (K)')
    quench.set_ylabel('max force deviation (eV/Å)')
    quench.legend(fontsize=8)
    positions = np.arange(len(BAR_QUANTITIES))
    for offset, (potential, colour, name) in zip((-0.2, 0.2), POTENTIAL_STYLES):
        values = [comparison[potential][key] for key in BAR_QUANTITIES]
        bars.bar(positions + offset, [v['mean'] for v in values], 0.4, yerr=[v['std'] or 0.0 for v in values],
                 capsize=3, color=colour, label=name)
    if reference.get('n4') is not None:
        bars.plot([0], [reference['n4']], 'k*', ms=10, label='reference N4')
    bars.set_xticks(positions, ['N4', 'NBO', '3-rings\nper former', 'boroxol'])
    bars.legend(fontsize=8)
    return save_figure(fig, path)


def show_study(nodes: Sequence, output: Path) -> bool:
    """Print the comparison of each finished study and write ``study.json`` and ``study.png``.

    Returns
    -------
    bool
        Whether every study finished.
    """
    done = [node for node in nodes if node.is_finished_ok]
    for node in nodes:
        if node not in done:
            click.echo(f'{node.process_label}<{node.pk}> did not finish: {node.exit_status} {node.exit_message}; '
                       f'see `verdi process report {node.pk}`')
    for node in done:
        folder = output if len(done) == 1 else output / str(node.pk)
        comparison = node.outputs.comparison.get_dict()
        reference = references(node.inputs.composition.composition)
        click.echo(f'{node.inputs.composition.label_text}: {node.process_label}<{node.pk}>')
        click.echo(text_table(STUDY_COLUMNS, study_rows(comparison, reference)))
        deviation = comparison['quench_deviation_ev_a']
        click.echo(f'neutron S(Q): R_chi(MLP vs classical) = {comparison["sq_r_chi"]:.3f}')
        click.echo(f'ensemble force deviation along the quench: mean {deviation["mean"]:.3f}, median '
                   f'{deviation["median"]:.3f}, max {deviation["max"]:.3f} eV/Å over {deviation["rows"]} frames')
        folder.mkdir(parents=True, exist_ok=True)
        (folder / 'study.json').write_text(json.dumps({**comparison, 'reference': reference}, indent=2))
        click.echo(f'table: {folder / "study.json"}')
        click.echo(f'plot: {plot_study(node, comparison, reference, folder / "study.png")}')
    return len(done) == len(nodes)
