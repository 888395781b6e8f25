"""How far from experiment each melt-quench protocol lands: density and N4 of screened binary alkali borates.

Reads the ``screening.json`` of finished ``aiida-boroglass screen`` runs of xLi2O-(1-x)B2O3 and
xNa2O-(1-x)B2O3 glasses and puts, for each run and x, the simulated density and N4 (mean and
sample standard deviation over the replicas) next to measured values:

* density: the cited density of the package (``Composition.density``: Urata et al. 2024 for
  lithium borates, the SciGlass series of Kodama 1991 for sodium borates, tabulated or
  interpolated; see docs/melt_quench.md "Densities");
* N4: 11B NMR series, linearly interpolated in x between its two nearest glasses:
  :data:`MEASURED_N4`.

Make the runs first, e.g. (fast: 3 replicas of every x; balanced cooling rate on 400 atoms)::

    aiida-boroglass screen Li2O-B2O3 --x 0.1,0.2,0.3,0.4 --protocol fast --replicas 3 -o li_fast
    aiida-boroglass screen Li2O-B2O3 --x 0.2,0.4 --protocol balanced --atoms 400 -o li_balanced

then (each argument ``LABEL=FOLDER``)::

    python benchmarks/protocol_vs_experiment.py "fast=li_fast" "balanced 400 at.=li_balanced" --plot n4.png

Printed: one Markdown table row per run and x. Nothing is run or stored by this script.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

#: Measured N4 (fraction of four-fold boron) of binary borates, by alkali oxide: (x, N4) pairs and the source.
#: Read from the compilation of Curry et al., Int. J. Appl. Glass Sci. 17(3), e70043 (2026), its data file
#: ``data/boron_coord_final.xlsx`` (Sheet1, rows given) of github.com/pnnl/n4-models-multicomponent-glass at
#: commit 62824c66cf2e63deb49e6bedf6109e667cf1669d; x = mol% M2O / (mol% M2O + mol% B2O3).
MEASURED_N4 = {
    'Li2O': {
        'points': ((0.096, 0.112), (0.146, 0.177), (0.199, 0.25), (0.247, 0.329), (0.295, 0.397), (0.345, 0.429),
                   (0.399, 0.434)),
        'source': 'S. A. Feller, W. J. Dell, P. J. Bray, J. Non-Cryst. Solids 51, 21 (1982), 11B NMR '
                  '(rows 129-135 of the Curry et al. 2026 compilation)',
        'short': 'Feller 1982',
    },
    'Na2O': {
        'points': ((0.0991, 0.116), (0.1504, 0.16), (0.1701, 0.225), (0.2, 0.28), (0.22, 0.275), (0.2498, 0.38),
                   (0.2701, 0.34), (0.2898, 0.38), (0.3103, 0.42), (0.3333, 0.43), (0.4001, 0.445)),
        'source': 'Y. H. Yun, P. J. Bray, J. Non-Cryst. Solids 27, 363 (1978), 11B NMR '
                  '(the Na2O-B2O3 rows of that paper in the Curry et al. 2026 compilation)',
        'short': 'Yun 1978',
    },
}

#: Mole fraction by which x may lie outside a measured series and take its end value (0.5 mol%).
X_TOLERANCE = 5e-3


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line: ``LABEL=FOLDER`` arguments and ``--plot``."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('runs', nargs='+', metavar='LABEL=FOLDER', type=label_and_folder,
                        help='a label for the run (e.g. its protocol) and the output folder of its screening')
    parser.add_argument('--plot', type=Path, default=None, help='also draw density and N4 against x to this PNG')
    return parser.parse_args(argv)


def label_and_folder(text: str) -> tuple[str, Path]:
    """Split ``LABEL=FOLDER``; the folder must hold a ``screening.json``."""
    label, sep, folder = text.partition('=')
    path = Path(folder) / 'screening.json'
    if not sep or not label or not path.is_file():
        raise argparse.ArgumentTypeError(f'LABEL=FOLDER with FOLDER/screening.json, got {text!r}')
    return label, Path(folder)


def measured_n4(alkali: str, x: float) -> float | None:
    """N4 of :data:`MEASURED_N4` for ``alkali`` at ``x``, linear between its neighbours; None outside the series.

    Parameters
    ----------
    alkali : str
        ``'Li2O'`` or ``'Na2O'``.
    x : float
        Mole fraction of the alkali oxide in the binary borate.

    Returns
    -------
    float or None
        N4 (fraction), or None when ``x`` lies more than :data:`X_TOLERANCE` outside the measured range or the
        alkali has no series (within it, the nearest end's value).
    """
    if alkali not in MEASURED_N4:
        return None
    xs, n4 = np.array(MEASURED_N4[alkali]['points']).T
    if not xs[0] - X_TOLERANCE <= x <= xs[-1] + X_TOLERANCE:
        return None
    return float(np.interp(x, xs, n4))


def comparison_rows(label: str, rows: list[dict]) -> list[dict]:
    """One comparison per screened composition of a binary borate: simulated and measured density and N4.

    Parameters
    ----------
    label : str
        Name of the run (its protocol).
    rows : list of dict
        ``screening.json`` rows (one per composition, replica means and ``*_std``).

    Returns
    -------
    list of dict
        ``run, alkali, x, n_replicas, n_atoms, density, density_std, density_exp, density_source, n4, n4_std,
        n4_exp``; ``density_exp`` in g/cm^3 from the package's cited densities.
    """
    from aiida_boroglass.glass.composition import Composition

    out = []
    for row in sorted(rows, key=lambda r: (sorted(r['fractions']), r['x'])):
        alkali = next(oxide for oxide in row['fractions'] if oxide != 'B2O3')
        reference = Composition.parse(row['fractions']).density()
        out.append({
            'run': label, 'alkali': alkali, 'x': row['x'], 'n_replicas': row['n_replicas'], 'n_atoms': row['n_atoms'],
            'density': row['density_g_cm3'], 'density_std': row['density_g_cm3_std'],
            'density_exp': reference.value_g_cm3, 'density_source': reference.source.split(';')[0].split(': ')[0],
            'n4': row['n4'], 'n4_std': row['n4_std'], 'n4_exp': measured_n4(alkali, row['x']),
        })
    return out


def with_spread(value: float, std: float | None, digits: int) -> str:
    """``value ± std`` (``value`` alone for one replica)."""
    return f'{value:.{digits}f}' if std is None or math.isnan(std) else f'{value:.{digits}f} ± {std:.{digits}f}'


def model_mark(comparison: dict) -> str:
    """`` (model)`` where the cited density is the molar-volume model's estimate, not a measured glass."""
    return ' (model)' if comparison['density_source'].startswith('estimate') else ''


def markdown_table(comparisons: list[dict]) -> str:
    """The comparison as a Markdown table (densities in g/cm^3; deviations simulated minus cited or measured)."""
    lines = ['| run | glass | replicas x atoms | density | cited | deviation | N4 | measured | deviation |',
             '| --- | --- | --- | --- | --- | --- | --- | --- | --- |']
    for c in comparisons:
        n4_exp = '-' if c['n4_exp'] is None else f"{c['n4_exp']:.3f} ({MEASURED_N4[c['alkali']]['short']})"
        n4_dev = '-' if c['n4_exp'] is None else f"{c['n4'] - c['n4_exp']:+.3f}"
        lines.append(
            f"| {c['run']} | x = {c['x']:g} {c['alkali']} | {c['n_replicas']} x {c['n_atoms']} "
            f"| {with_spread(c['density'], c['density_std'], 3)} | {c['density_exp']:.3f}{model_mark(c)} "
            f"| {100 * (c['density'] / c['density_exp'] - 1):+.1f} % | {with_spread(c['n4'], c['n4_std'], 3)} "
            f'| {n4_exp} | {n4_dev} |')
    return '\n'.join(lines)


def plot(comparisons: list[dict], path: Path) -> None:
    """Density and N4 against x: measured lines, each run's points with their spread over replicas."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for alkali, style in zip(sorted({c['alkali'] for c in comparisons}), ('-', '--')):
        xs, n4 = np.array(MEASURED_N4[alkali]['points']).T
        axes[1].plot(xs, n4, 'k' + style, label=f'{alkali} measured ({MEASURED_N4[alkali]["short"]})')
        mine = sorted((c for c in comparisons if c['alkali'] == alkali), key=lambda c: c['x'])
        axes[0].plot([c['x'] for c in mine], [c['density_exp'] for c in mine], 'k' + style, label=f'{alkali} cited')
        for run in dict.fromkeys(c['run'] for c in mine):
            points = [c for c in mine if c['run'] == run]
            for ax, key in zip(axes, ('density', 'n4')):
                ax.errorbar([c['x'] for c in points], [c[key] for c in points],
                            yerr=[0 if c[f'{key}_std'] is None else c[f'{key}_std'] for c in points],
                            marker='o', capsize=3, linestyle='none', label=f'{alkali} {run}')
    axes[0].set(xlabel='x (mole fraction of M2O)', ylabel='density (g/cm$^3$)')
    axes[1].set(xlabel='x (mole fraction of M2O)', ylabel='N4')
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> list[dict]:
    """Tabulate (and draw) every run given; return the comparisons."""
    args = parse_args(argv)
    comparisons = []
    for label, folder in args.runs:
        comparisons += comparison_rows(label, json.loads((folder / 'screening.json').read_text()))
    print(markdown_table(comparisons))
    for alkali in sorted({c['alkali'] for c in comparisons}):
        sources = sorted({c['density_source'] for c in comparisons if c['alkali'] == alkali})
        print(f"\n{alkali}: N4 measured by {MEASURED_N4[alkali]['source']}; densities: {'; '.join(sources)}")
    if args.plot:
        plot(comparisons, args.plot)
    return comparisons


if __name__ == '__main__':
    main()
