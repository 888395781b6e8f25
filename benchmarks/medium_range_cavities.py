"""Benchmark: domain cavities (pyMolDyn's definition, paper 000 Figs. 9-10) on one 10,000-atom frame.

Every number comes from the same run on the same machine:

1. **Ours.** :func:`aiida_boroglass.analysis.cavities.domain_cavities`: cavity voxels at
   least ``cutoff_a`` (2 Å) from every atom by stamping one precomputed sphere stencil per
   atom, periodic 26-connected labelling, distances of the mobile ions to the nearest
   cavity point. Goal: < 30 s per frame.
2. **Naive but vectorised reference**: a :class:`scipy.spatial.cKDTree` of the atoms
   (``boxsize`` for an orthorhombic cell, the 27 periodic images otherwise) queried with
   every voxel centre of the same grid (``distance_upper_bound = cutoff_a``, all cores),
   then the same periodic labelling. Its cavity mask must equal ours voxel for voxel
   (printed: the number of voxels that differ).
3. **ovito** ``ConstructSurfaceModifier`` (alpha shape, probe radius = ``cutoff_a``,
   ``identify_regions``, ``smoothing_level=0`` so that the mesh is the exact boundary of
   the Delaunay tetrahedra; the default smoothing moves it and puts about 1 % of our
   cavity voxels on its filled side): a different definition of empty space. Its empty regions are
   the Delaunay tetrahedra whose circumsphere (radius >= the probe radius) holds no atom,
   a polyhedral version of the space a probe sphere sweeps; a point of our cavity space
   always lies in such a tetrahedron (the containing Delaunay tetrahedron of a point at
   least ``r`` from every vertex has a circumradius of at least ``r``). Printed as a
   cross-check: ovito's empty fraction and region count next to ours, the share of a
   sample of our cavity voxels that ovito places in an empty region (expected close to
   1), and our "probe-accessible" fraction (voxels within ``cutoff_a`` of a cavity voxel,
   i.e. the union of empty probe spheres; orthorhombic cells only), which ovito's
   polyhedral empty space approximates from below.

Ratio: our time / the reference's time (< 1: we are faster). Times are wall times, the
best of ``repeat`` runs; ovito and the k-d tree use every core, ours one.

Run from the repository root (not collected by pytest)::

    python benchmarks/medium_range_cavities.py                      # packed 30Li2O-70B2O3 box, 10,000 atoms
    python benchmarks/medium_range_cavities.py --structure glass.xyz --resolution 0.2

The driver ``benchmarks/medium_range.py`` imports :func:`cavities_benchmark`.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from structure_panel import best_of  # noqa: E402  (one timing helper for all benchmarks)
from scipy.spatial import cKDTree

from aiida_boroglass.analysis.cavities import (
    DEFAULT_CUTOFF_A,
    DEFAULT_RESOLUTION_A,
    _periodic_labels,
    cavity_points,
    domain_cavities,
    grid_points,
)
from aiida_boroglass.analysis.neighbors import cell_is_orthorhombic, wrap_positions

#: Wall time (s) one frame should stay under.
GOAL_S = 30.0
#: Mobile ions whose distance to the nearest cavity is reported when present.
MOBILE_IONS = ('Li', 'Na', 'K')
#: Cavity voxels located in ovito's mesh for the cross-check (``locate_point`` takes ~8 ms each).
OVITO_SAMPLE = 300
#: Voxels sampled for the probe-accessible fraction.
PROBE_SAMPLE = 200_000


def ckdtree_cavity_mask(positions: np.ndarray, cell: np.ndarray, shape, cutoff_a: float) -> np.ndarray:
    """Cavity voxels by querying a k-d tree of the atoms with every voxel centre.

    Parameters
    ----------
    positions : numpy.ndarray, shape (n_atoms, 3)
        Cartesian coordinates in Å.
    cell : numpy.ndarray, shape (3, 3)
        Lattice vectors in Å as rows. Triclinic cells use the 27 periodic images of the
        atoms, exact while ``cutoff_a`` is below every perpendicular width.
    shape : tuple of int, length 3
        Voxels per lattice vector (the grid of :func:`domain_cavities`).
    cutoff_a : float
        Å.

    Returns
    -------
    numpy.ndarray, shape ``shape``, bool
        True where the voxel centre is at least ``cutoff_a`` from every atom.
    """
    points = grid_points(cell, shape).reshape(-1, 3)
    atoms = wrap_positions(positions, cell)
    if cell_is_orthorhombic(cell):
        box = np.diag(cell).copy()
        tree = cKDTree(atoms, boxsize=box)  # voxel centres lie strictly inside the box
    else:
        shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=float) @ cell
        tree = cKDTree((atoms[np.newaxis] + shifts[:, np.newaxis]).reshape(-1, 3))
    distance, _ = tree.query(points, distance_upper_bound=cutoff_a, workers=-1)
    return np.isinf(distance).reshape(shape)


def ckdtree_cavities(positions: np.ndarray, cell: np.ndarray, shape, cutoff_a: float) -> dict:
    """The naive reference: :func:`ckdtree_cavity_mask` plus the same periodic labelling.

    Returns
    -------
    dict
        ``mask`` (bool, shape ``shape``), ``volume_fraction``, ``n_cavities``.
    """
    mask = ckdtree_cavity_mask(positions, cell, shape, cutoff_a)
    _, n_regions = _periodic_labels(mask, 26)
    return {'mask': mask, 'volume_fraction': float(mask.mean()), 'n_cavities': n_regions}


def ovito_surface(positions: np.ndarray, cell: np.ndarray, probe_radius_a: float):
    """ovito's alpha-shape surface mesh of the frame with empty/filled regions identified.

    Parameters
    ----------
    positions : numpy.ndarray, shape (n_atoms, 3)
        Cartesian coordinates in Å.
    cell : numpy.ndarray, shape (3, 3)
        Lattice vectors in Å as rows.
    probe_radius_a : float
        Probe sphere radius, Å.

    Returns
    -------
    ovito.data.DataCollection
        With the ``ConstructSurfaceMesh.*`` attributes and ``surfaces['surface']`` (unsmoothed).
    """
    from ovito.data import DataCollection
    from ovito.modifiers import ConstructSurfaceModifier

    data = DataCollection()
    data.create_cell(np.column_stack([cell.T, np.zeros(3)]), pbc=(True, True, True))
    particles = data.create_particles(count=len(positions))
    particles.create_property('Position', data=wrap_positions(positions, cell))
    data.apply(ConstructSurfaceModifier(method=ConstructSurfaceModifier.Method.AlphaShape,
                                        radius=probe_radius_a, identify_regions=True, smoothing_level=0))
    return data


def probe_accessible_fraction(result, cell: np.ndarray, cutoff_a: float, seed: int = 0) -> float | None:
    """Share of the cell within ``cutoff_a`` of a cavity voxel (the union of empty probe spheres).

    Estimated on :data:`PROBE_SAMPLE` random voxels (standard error below 0.2 %);
    ``None`` for a triclinic cell or a frame without cavities.
    """
    if not cell_is_orthorhombic(cell) or result.n_cavities == 0:
        return None
    box = np.diag(cell).copy()
    rng = np.random.default_rng(seed)
    index = np.column_stack([rng.integers(0, n, PROBE_SAMPLE) for n in result.grid_shape])
    points = ((index + 0.5) / np.asarray(result.grid_shape)) @ cell
    tree = cKDTree(cavity_points(result, cell), boxsize=box)
    distance, _ = tree.query(points, distance_upper_bound=cutoff_a, workers=-1)
    return float(np.isfinite(distance).mean())


def ovito_cross_check(result, cell: np.ndarray, data, seed: int = 0) -> dict:
    """Values of ovito's surface next to ours: empty fraction and regions, our voxels in its empty space."""
    attributes = data.attributes
    mesh = data.surfaces['surface']
    filled = np.asarray(mesh.regions['Filled']).astype(bool)
    volumes = np.asarray(mesh.regions['Volume'])
    values = {
        'empty_fraction': float(attributes['ConstructSurfaceMesh.empty_fraction']),
        'empty_region_count': int(attributes['ConstructSurfaceMesh.empty_region_count']),
        'largest_empty_regions_a3': np.sort(volumes[~filled])[::-1][:5].round(1).tolist(),
    }
    if result.n_cavities:
        points = cavity_points(result, cell)
        rng = np.random.default_rng(seed)
        sample = points[rng.choice(len(points), min(OVITO_SAMPLE, len(points)), replace=False)]
        region = np.ma.filled(mesh.locate_point(sample), -2)
        inside = (region >= 0) & ~filled[np.clip(region, 0, None)]
        values['our_cavity_voxels_in_ovito_empty'] = float(inside.mean())
    return values


def cavities_benchmark(
    positions,
    cell,
    species,
    *,
    cutoff_a: float = DEFAULT_CUTOFF_A,
    resolution_a: float = DEFAULT_RESOLUTION_A,
    repeat: int = 3,
    ovito: bool = True,
) -> list[dict]:
    """Time our domain cavities on one frame against the references (module docstring).

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols; Li, Na and K atoms are the mobile ions.
    cutoff_a : float
        Cutoff radius around every atom, Å (and ovito's probe radius).
    resolution_a : float
        Voxel edge, Å.
    repeat : int
        Runs per timing; the best counts.
    ovito : bool
        Include the ovito row (skipped as well when ovito does not import).

    Returns
    -------
    list of dict
        One row per method: ``name``, ``seconds`` (best wall time), ``ratio`` (our time /
        this row's time; 1 for ours) and ``values`` (a dict of the results).
    """
    pos = np.asarray(positions, dtype=float)
    cell_arr = np.asarray(cell, dtype=float)
    names = np.asarray(species).astype(str)
    ions = [e for e in MOBILE_IONS if e in set(names.tolist())]

    ours_s, ours = best_of(lambda: domain_cavities(pos, cell_arr, names, cutoff_a=cutoff_a,
                                                   resolution_a=resolution_a, mobile_ions=ions or None), repeat)
    distances = ours.ion_cavity_distance_a
    ours_values = {
        'volume_fraction': ours.volume_fraction,
        'n_cavities': ours.n_cavities,
        'cavity_volume_a3': float(ours.volumes_a3.sum()),
        'largest_cavities_a3': ours.volumes_a3[:5].round(2).tolist(),
        'cavities_above_1_a3': int(np.count_nonzero(ours.volumes_a3 > 1.0)),
        'grid_shape': list(ours.grid_shape),
        'mobile_ions': ions,
        'ion_cavity_distance_mean_a': float(distances.mean()) if distances.size else None,
        'ion_cavity_distance_median_a': float(np.median(distances)) if distances.size else None,
        'probe_accessible_fraction': probe_accessible_fraction(ours, cell_arr, cutoff_a),
    }
    rows = [{'name': 'ours: domain_cavities', 'seconds': ours_s, 'ratio': 1.0, 'values': ours_values}]

    naive_s, naive = best_of(lambda: ckdtree_cavities(pos, cell_arr, ours.grid_shape, cutoff_a), repeat)
    rows.append({
        'name': 'cKDTree on all voxels + labelling', 'seconds': naive_s, 'ratio': ours_s / naive_s,
        'values': {'volume_fraction': naive['volume_fraction'], 'n_cavities': naive['n_cavities'],
                   'voxels_differing_from_ours': int(np.count_nonzero(naive['mask'] != (ours.labels > 0)))},
    })

    if ovito:
        try:
            import ovito as ovito_module
        except ImportError:
            ovito_module = None
        if ovito_module is not None:
            ovito_s, data = best_of(lambda: ovito_surface(pos, cell_arr, cutoff_a), repeat)
            version = '.'.join(map(str, ovito_module.version))
            rows.append({
                'name': f'ovito {version} alpha shape, probe {cutoff_a:g} Å', 'seconds': ovito_s,
                'ratio': ours_s / ovito_s, 'values': ovito_cross_check(ours, cell_arr, data),
            })
    return rows


def cores() -> int:
    """Number of cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()


def report(rows: list[dict], label: str, n_atoms: int, repeat: int) -> str:
    """Return the table of ``rows`` as text."""
    ours = rows[0]
    lines = [
        f'frame: {label}, {n_atoms} atoms; best of {repeat}; {cores()} cores',
        '', f'{"method":<44}{"best (s)":>10}{"ours / ref":>12}',
        *(f'{row["name"]:<44}{row["seconds"]:>10.3f}{row["ratio"]:>12.2f}' for row in rows),
        f'{"goal (ours, per frame)":<44}{"< " + format(GOAL_S, "g"):>10}'
        f'{"met" if ours["seconds"] < GOAL_S else "MISSED":>12}', '',
    ]
    for row in rows:
        lines.append(f'{row["name"]}:')
        lines += [f'    {key}: {value}' for key, value in row['values'].items()]
    return '\n'.join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line (``--atoms``, ``--density``, ``--seed``, ``--structure``, ...)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--atoms', type=int, default=10_000, help='atoms of the packed box (default: 10000)')
    parser.add_argument('--density', type=float, default=2.1, help='g/cm^3 of the packed box (default: 2.1)')
    parser.add_argument('--min-distance', type=float, default=1.4,
                        help='Å, closest approach in the packed box (default: 1.4)')
    parser.add_argument('--seed', type=int, default=12345, help='random seed of the packed box (default: 12345)')
    parser.add_argument('--structure', type=Path, default=None, help='read the frame with ase instead')
    parser.add_argument('--format', default=None, help='ase format of --structure (default: guessed)')
    parser.add_argument('--cutoff', type=float, default=DEFAULT_CUTOFF_A, help='Å (default: 2.0)')
    parser.add_argument('--resolution', type=float, default=DEFAULT_RESOLUTION_A, help='Å (default: 0.25)')
    parser.add_argument('--repeat', type=int, default=3, help='runs per timing (default: 3)')
    parser.add_argument('--no-ovito', action='store_true', help='leave out the ovito row')
    parser.add_argument('--json', type=Path, default=None, help='also write the rows to this JSON file')
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.atoms < 1:
        parser.error('--repeat and --atoms must be >= 1')
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    """Build or read the frame, run :func:`cavities_benchmark`, print the table; return the rows."""
    try:
        from structure_panel import packed_box, read_structure
    except ImportError:  # imported as benchmarks.medium_range_cavities
        from benchmarks.structure_panel import packed_box, read_structure

    args = parse_args(argv)
    if args.structure is None:
        frame = packed_box(args.atoms, args.density, args.min_distance, args.seed)
    else:
        frame = read_structure(args.structure, args.format, None, args.atoms)
    rows = cavities_benchmark(frame.positions, frame.cell, frame.species, cutoff_a=args.cutoff,
                              resolution_a=args.resolution, repeat=args.repeat, ovito=not args.no_ovito)
    print(report(rows, frame.label, len(frame.species), args.repeat))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + '\n')
    return rows


if __name__ == '__main__':
    main()
