"""Benchmark: the full-window MSD of a 1,000-frame x 10,000-atom trajectory, ours against pymatgen and freud.

Every number comes from the same run on the same machine. The trajectory is a seeded
Gaussian random walk in float64 (unwrapped positions in Å, about 240 MB at full size),
time step 0.1 ps. Timed: the MSD at every lag 0 .. n_frames - 1, averaged over all atoms
and all time origins, with

1. **ours**: :func:`aiida_boroglass.analysis.diffusion.msd` (FFT, float64);
2. **pymatgen-analysis-diffusion**: ``pymatgen.analysis.diffusion.analyzer._msd_from_positions_fft``,
   the FFT kernel ``DiffusionAnalyzer`` calls for its windowed (``smoothed='max'``) MSD; it takes
   (atoms, frames, 3) and returns the per-atom, per-component MSD, so the timed call is
   ``_msd_from_positions_fft(x.transpose(1, 0, 2)).sum(axis=2).mean(axis=0)`` (the transpose
   is a view; float64, exact);
3. **freud** ``freud.msd.MSD(mode='window')`` on ``x - x[0]`` (freud computes in float32 and
   loses the lag-1 MSD on absolute coordinates; the shift is done outside the timing).

Printed per method: best wall time of ``--repeat`` runs, the peak of the memory traced by
:mod:`tracemalloc` during one extra run (numpy and scipy allocations; freud's C++ buffers
are not traced), the ratio peer / ours (> 1: we are faster) and the largest relative
difference of the peer's MSD from ours over lags >= 1. Goal (issue): ours no slower than
the fastest peer and under 30 s.

Run it on demand (not collected by pytest), from the repository root::

    python benchmarks/transport.py                           # 1000 x 10,000: about a minute on 2 cores
    python benchmarks/transport.py --frames 200 --atoms 500  # quick check
"""
from __future__ import annotations

import argparse
import os
import sys
import tracemalloc
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from structure_panel import best_of  # noqa: E402  (one timing helper for all benchmarks)

from aiida_boroglass.analysis.diffusion import msd

#: Wall time (s) ours should stay under at full size.
GOAL_S = 30.0
DT_PS = 0.1


def traced_peak_mb(function: Callable[[], object]) -> float:
    """Peak memory (MB) allocated through Python's allocators during one call of ``function``."""
    tracemalloc.start()
    try:
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6


def cores() -> int:
    """Number of cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()


def trajectory(n_frames: int, n_atoms: int, seed: int = 0) -> np.ndarray:
    """Unwrapped Gaussian random walk, (n_frames, n_atoms, 3) float64 in Å, 0.1 Å steps, random start."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=0.1, size=(n_frames, n_atoms, 3))
    x[0] = rng.uniform(0.0, 40.0, size=(n_atoms, 3))
    return np.cumsum(x, axis=0, out=x)


def ours(x: np.ndarray) -> np.ndarray:
    return msd(x, DT_PS)[1]


def pymatgen_msd(x: np.ndarray) -> np.ndarray:
    from pymatgen.analysis.diffusion.analyzer import _msd_from_positions_fft

    return _msd_from_positions_fft(x.transpose(1, 0, 2)).sum(axis=2).mean(axis=0)


def freud_msd(shifted: np.ndarray) -> np.ndarray:
    import freud

    return freud.msd.MSD(mode='window').compute(shifted).msd


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--frames', type=int, default=1000, help='frames (default 1000)')
    parser.add_argument('--atoms', type=int, default=10_000, help='atoms (default 10,000)')
    parser.add_argument('--repeat', type=int, default=3, help='timed runs per method, best kept (default 3)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)

    import freud
    import pymatgen.analysis.diffusion
    import scipy

    x = trajectory(args.frames, args.atoms, args.seed)
    shifted = x - x[0]
    print(
        f'trajectory: {args.frames} frames x {args.atoms} atoms, float64 ({x.nbytes / 1e6:.0f} MB), '
        f'dt {DT_PS} ps; best of {args.repeat}; {cores()} cores'
    )
    print(
        f'numpy {np.__version__}, scipy {scipy.__version__}, freud {freud.__version__}, '
        f'pymatgen-analysis-diffusion {getattr(pymatgen.analysis.diffusion, "__version__", "?")}'
    )
    rows = [
        ('ours msd (FFT, float64)', lambda: ours(x)),
        ('pymatgen _msd_from_positions_fft', lambda: pymatgen_msd(x)),
        ("freud msd.MSD('window'), x - x[0]", lambda: freud_msd(shifted)),
    ]
    results = []
    for name, function in rows:
        wall, curve = best_of(function, args.repeat)
        results.append((name, wall, traced_peak_mb(function), np.asarray(curve, dtype=float)))
    ref_wall, ref = results[0][1], results[0][3]
    print(f'{"method":38s} {"wall s":>8s} {"peak MB":>8s} {"peer/ours":>10s} {"max rel dev":>12s}')
    for name, wall, peak, curve in results:
        dev = np.max(np.abs(curve[1:] - ref[1:]) / ref[1:])
        print(f'{name:38s} {wall:8.3f} {peak:8.0f} {wall / ref_wall:10.2f} {dev:12.2e}')
    fastest = min(wall for _, wall, _, _ in results[1:])
    ok = ref_wall <= fastest and ref_wall < GOAL_S
    print(
        f'goal: ours {ref_wall:.3f} s vs fastest peer {fastest:.3f} s and < {GOAL_S:.0f} s: '
        f'{"met" if ok else "NOT met"}'
    )


if __name__ == '__main__':
    main()
