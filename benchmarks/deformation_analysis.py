"""Benchmark: the structure analysis of boroglass.deformation on 10,000 atoms x 100 frames, ours against naive loops.

Timed on one synthetic deformation trajectory (issue 15, "Speed"):

1. **Local deformation gradient** F_i (paper 001 eqs. 1-4, h = 4 Å, Li excluded):
   :func:`~aiida_boroglass.analysis.mechanics.local_strain.local_neighbourhoods` once, then
   :func:`~aiida_boroglass.analysis.mechanics.local_strain.deformation_gradients` on every
   frame; against a naive reference, a Python loop over atoms (k-d tree ball query in the
   reference frame, minimum image, then per frame the weighted sums and a 3 x 3 solve),
   timed on ``--naive-atoms`` atoms and scaled to all of them.
2. **Bond switching** of B against the unstrained frame:
   :func:`~aiida_boroglass.analysis.mechanics.bond_switching.bond_switching`; against a naive
   reference that builds, frame by frame, the set of O neighbours of every B (ball queries)
   and compares sets in Python, timed on ``--naive-frames`` frames and scaled to all.

Both naive results are compared with ours on what they computed (largest |F difference|,
number of differing classes), so the table also says the two agree.

The trajectory: 10,000 atoms placed at random in a cube at the number density and atom
fractions of 30Li2O-70B2O3 (2.2 g/cm^3), stretched along x by 0.2 % per frame with a lateral
contraction of 0.3 times that, plus independent Gaussian displacements (``--noise`` Å) in
every frame, wrapped into each frame's cell. Random points have the glass's atom count and
density but not its bonds, so the B-O cutoff is 2.5 Å (as in ``medium_range_rings.py``); the
cost of both analyses depends on the neighbour counts, not on the bonds being chemical.

Run it on demand (not collected by pytest), from the repository root::

    python benchmarks/deformation_analysis.py
    python benchmarks/deformation_analysis.py --atoms 2000 --frames 20 --json /tmp/deformation.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from aiida_boroglass.analysis.mechanics.bond_switching import SWITCH_CLASSES, bond_switching
from aiida_boroglass.analysis.mechanics.local_strain import deformation_gradients, local_neighbourhoods

#: Goal: both analyses of 10,000 atoms x 100 frames within this many seconds each.
GOAL_S = 10.0
WINDOW_A = 4.0
CUTOFF_BO_A = 2.5
#: Atoms per Å^3 (30Li2O-70B2O3 at about 2.2 g/cm^3) and the atom fractions of Li, B, O.
NUMBER_DENSITY_A3 = 0.085
FRACTIONS = {'Li': 0.6 / 4.7, 'B': 1.4 / 4.7, 'O': 2.7 / 4.7}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--atoms', type=int, default=10000)
    parser.add_argument('--frames', type=int, default=100)
    parser.add_argument('--noise', type=float, default=0.1, help='non-affine displacement per frame, Å')
    parser.add_argument('--naive-atoms', type=int, default=300, help='atoms the naive F_i loop runs on')
    parser.add_argument('--naive-frames', type=int, default=5, help='frames the naive bond switching runs on')
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--seed', type=int, default=11)
    parser.add_argument('--json', type=Path)
    return parser.parse_args(argv)


def trajectory(n_atoms: int, n_frames: int, noise_a: float, seed: int):
    """Positions (n_frames, n_atoms, 3) Å wrapped, cells (n_frames, 3, 3) Å, species; frame 0 unstrained."""
    rng = np.random.default_rng(seed)
    box = np.eye(3) * (n_atoms / NUMBER_DENSITY_A3) ** (1 / 3)
    reference = rng.random((n_atoms, 3)) @ box
    species = rng.choice(list(FRACTIONS), size=n_atoms, p=list(FRACTIONS.values()))
    positions, cells = [], []
    for k in range(n_frames):
        strain = 2e-3 * k
        gradient = np.diag([1 + strain, 1 - 0.3 * strain, 1 - 0.3 * strain])
        cell = box @ gradient.T
        moved = (reference + (rng.normal(0.0, noise_a, reference.shape) if k else 0.0)) @ gradient.T
        fractional = moved @ np.linalg.inv(cell)
        positions.append((fractional - np.floor(fractional)) @ cell)
        cells.append(cell)
    return np.array(positions), np.array(cells), species


def naive_gradients(positions, cells, species, atoms):
    """F_i of ``atoms`` by a loop over atoms: ball query in frame 0, minimum image, weighted sums, solve."""
    box = np.diag(cells[0])
    kept = np.flatnonzero(species != 'Li')
    tree = cKDTree(positions[0][kept], boxsize=box)
    result = np.full((len(positions), len(atoms), 3, 3), np.nan)
    for row, i in enumerate(atoms):
        j = kept[tree.query_ball_point(positions[0][i], WINDOW_A)]
        j = j[j != i]
        big_r = positions[0][j] - positions[0][i]
        big_r -= np.round(big_r / box) * box
        keep = np.linalg.norm(big_r, axis=1) < WINDOW_A
        j, big_r = j[keep], big_r[keep]
        weight = np.exp(-np.sum(big_r**2, axis=1) / WINDOW_A**2)
        m = (weight[:, None] * big_r).T @ big_r
        for frame, (pos, cell) in enumerate(zip(positions, cells)):
            # the image of j nearest to where the cell's stretch takes R_ij (orthorhombic cells)
            step = np.diag(cell)
            small_r = pos[j] - pos[i]
            small_r -= np.round((small_r - big_r * step / box) / step) * step
            n = (weight[:, None] * small_r).T @ big_r
            result[frame, row] = n @ np.linalg.inv(m)
    return result


def naive_switching(positions, cells, species, frames):
    """Class codes (n_frames, n_boron) of B by O-neighbour sets compared in Python."""
    boron, oxygen = np.flatnonzero(species == 'B'), np.flatnonzero(species == 'O')

    def neighbour_sets(pos, cell):
        box = np.diag(cell)
        tree = cKDTree(np.mod(pos[oxygen], box), boxsize=box)
        return [set(oxygen[tree.query_ball_point(np.mod(pos[b], box), CUTOFF_BO_A)]) for b in boron]

    reference = neighbour_sets(positions[0], cells[0])
    codes = []
    for frame in frames:
        row = []
        for before, after in zip(reference, neighbour_sets(positions[frame], cells[frame])):
            if len(after) < len(before):
                row.append(SWITCH_CLASSES.index('decreased'))
            elif len(after) > len(before):
                row.append(SWITCH_CLASSES.index('increased'))
            else:
                row.append(SWITCH_CLASSES.index('unchanged' if after == before else 'swapped'))
        codes.append(row)
    return np.array(codes)


def best_of(function, repeat: int):
    """Best wall time (s) of ``repeat`` calls of ``function`` and its last result."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv=None) -> dict:
    args = parse_args(argv)
    positions, cells, species = trajectory(args.atoms, args.frames, args.noise, args.seed)

    def ours_gradients():
        return deformation_gradients(local_neighbourhoods(positions[0], cells[0], species, WINDOW_A,
                                                          excluded=('Li',)), positions, cells)

    t_f, gradients = best_of(ours_gradients, args.repeat)
    t_bs, switching = best_of(lambda: bond_switching(positions, cells, species, {'B': CUTOFF_BO_A}), args.repeat)
    atoms = np.flatnonzero(species != 'Li')[:args.naive_atoms]
    start = time.perf_counter()
    naive_f = naive_gradients(positions, cells, species, atoms)
    t_naive_f = (time.perf_counter() - start) * np.count_nonzero(species != 'Li') / len(atoms)
    frames = np.linspace(0, args.frames - 1, args.naive_frames).astype(int)
    start = time.perf_counter()
    naive_codes = naive_switching(positions, cells, species, frames)
    t_naive_bs = (time.perf_counter() - start) * args.frames / len(frames)
    result = {
        'atoms': int(len(species)), 'frames': int(args.frames), 'noise_a': args.noise,
        'local_gradient_s': t_f, 'local_gradient_naive_s_scaled': t_naive_f,
        'local_gradient_max_difference': float(np.nanmax(np.abs(gradients[:, atoms] - naive_f))),
        'bond_switching_s': t_bs, 'bond_switching_naive_s_scaled': t_naive_bs,
        'bond_switching_differing_classes': int(np.count_nonzero(switching.classes[frames] != naive_codes)),
        'boron_events_last_frame': {name: int(n) for name, n in zip(SWITCH_CLASSES, switching.counts['B'][-1])},
        'goal_s': GOAL_S,
    }
    print(f'{result["atoms"]} atoms x {result["frames"]} frames, noise {args.noise} Å per frame')
    print('| analysis | ours (s) | naive loop (s, scaled) | ratio | agreement |\n| --- | --- | --- | --- | --- |')
    print(f'| F_i, h = {WINDOW_A} Å | {t_f:.2f} | {t_naive_f:.1f} | {t_naive_f / t_f:.0f} | '
          f'max |dF| {result["local_gradient_max_difference"]:.1e} on {len(atoms)} atoms |')
    print(f'| bond switching, B-O {CUTOFF_BO_A} Å | {t_bs:.2f} | {t_naive_bs:.1f} | {t_naive_bs / t_bs:.0f} | '
          f'{result["bond_switching_differing_classes"]} classes differ on {len(frames)} frames |')
    print(f'B in the last frame: {result["boron_events_last_frame"]}; goal: each under {GOAL_S:g} s')
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == '__main__':
    main()
