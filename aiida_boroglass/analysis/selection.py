"""Frame selection for concurrent learning (DP-GEN style exploration).

Pure numpy; no AiiDA import (see DESIGN.md, layer "analysis kernels").

An ensemble of models explores configuration space; for every explored frame the
largest deviation of the predicted atomic forces between the models,
``max_devi_f`` (eV/Å), sorts the frame into one of three classes (Zhang et al.,
Phys. Rev. Materials 3, 023804 (2019); Comput. Phys. Commun. 253, 107206 (2020)):

- ``ACCURATE``: ``max_devi_f < trust_lo``, the models agree, nothing to learn;
- ``CANDIDATE``: ``trust_lo <= max_devi_f < trust_hi``, worth labelling;
- ``FAILED``: ``max_devi_f >= trust_hi`` or not finite, an unphysical frame.

Only candidates are labelled, and at most ``max_labels`` of them per iteration. DP-GEN
takes them in frame order (``'first'``), which in an MD trajectory picks near-duplicate
consecutive frames. ``'spread'`` instead picks candidates far apart in a structural
fingerprint space (partial pair-distance histograms per atom,
:func:`frame_fingerprints`) by greedy farthest-point sampling
(:func:`farthest_point_order`), starting from the candidate of largest deviation.

Trust levels tuned by hand are the most common complaint of DP-GEN users. With an adaptive
lower level (:func:`adaptive_trust_lo`, after DPGEN2's ``adaptive-lower`` report) ``trust_hi``
stays fixed and ``trust_lo`` is set each iteration so that a target number or fraction of the
explored frames are candidates, within bounds given by the user.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .neighbors import as_frames, as_species
from .rdf import all_partial_rdfs

__all__ = (
    'ACCURATE',
    'ADAPTIVE_KEYS',
    'CANDIDATE',
    'CLASS_NAMES',
    'FAILED',
    'SELECTION_METHODS',
    'TRUST_MODES',
    'adaptive_trust_lo',
    'check_adaptive',
    'class_fractions',
    'classify_deviation',
    'farthest_point_order',
    'frame_fingerprints',
    'select_candidates',
)

#: Class codes of :func:`classify_deviation`.
ACCURATE, CANDIDATE, FAILED = 0, 1, 2

#: Names of the classes, indexed by their code.
CLASS_NAMES = ('accurate', 'candidate', 'failed')

#: Methods of :func:`select_candidates`.
SELECTION_METHODS = ('spread', 'first', 'deviation')

#: How ``trust_lo`` is set: given (``fixed``) or by :func:`adaptive_trust_lo` every iteration.
TRUST_MODES = ('fixed', 'adaptive')

#: Arguments of :func:`adaptive_trust_lo` after the deviations and ``trust_hi``, in order.
ADAPTIVE_KEYS = ('candidates', 'candidate_rate', 'trust_lo_min_ev_a', 'trust_lo_max_ev_a')


def _as_count(value, name: str) -> int:
    """Return ``value`` as an int >= 0; raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f'{name} must be an integer >= 0, got {value!r}')
    return int(value)


def _as_float(value) -> float:
    """``float(value)``, or NaN when ``value`` is not a number (the caller then raises)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float('nan')


def _as_vector(values, name: str) -> np.ndarray:
    """Return ``values`` as a one-dimensional float array; raise ``ValueError`` naming ``name``."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f'{name} must be one-dimensional, shape (n_frames,), got shape {arr.shape}')
    return arr


def _as_classes(classes) -> np.ndarray:
    """Return class codes as a one-dimensional int8 array; raise ``ValueError`` on other values."""
    arr = np.asarray(classes)
    if arr.ndim != 1:
        raise ValueError(f'classes must be one-dimensional, shape (n_frames,), got shape {arr.shape}')
    if arr.size and (arr.dtype.kind not in 'iu' or not np.all(np.isin(arr, (ACCURATE, CANDIDATE, FAILED)))):
        raise ValueError(
            f'classes must hold only the codes ACCURATE={ACCURATE}, CANDIDATE={CANDIDATE}, FAILED={FAILED}'
        )
    return arr.astype(np.int8)


def classify_deviation(max_devi_f, lo: float, hi: float) -> np.ndarray:
    """Sort frames into accurate, candidate and failed by their maximal force deviation.

    Parameters
    ----------
    max_devi_f : array_like, shape (n_frames,)
        Largest deviation of the atomic forces between the models of the ensemble, eV/Å.
        NaN or inf (a model blew up) counts as failed.
    lo : float
        ``trust_lo`` in eV/Å, ``0 <= lo``; frames below are accurate.
    hi : float
        ``trust_hi`` in eV/Å, finite and ``> lo``; frames at or above are failed.

    Returns
    -------
    numpy.ndarray, shape (n_frames,), int8
        :data:`ACCURATE` if ``f < lo``, :data:`CANDIDATE` if ``lo <= f < hi``,
        :data:`FAILED` if ``f >= hi`` or ``f`` is not finite.

    Raises
    ------
    ValueError
        If ``max_devi_f`` is not one-dimensional, ``lo`` is not a finite number >= 0
        (message names ``trust_lo``) or ``hi`` is not finite and above ``lo`` (names
        ``trust_hi``).
    """
    f = _as_vector(max_devi_f, 'max_devi_f')
    lo_value, hi_value = _as_float(lo), _as_float(hi)
    if not np.isfinite(lo_value) or lo_value < 0.0:
        raise ValueError(f'trust_lo must be a finite number >= 0 eV/Å, got {lo!r}')
    if not np.isfinite(hi_value) or hi_value <= lo_value:
        raise ValueError(f'trust_hi must be a finite number above trust_lo = {lo_value:g} eV/Å, got {hi!r}')
    classes = np.full(f.shape, FAILED, dtype=np.int8)
    finite = np.isfinite(f)
    classes[finite & (f < hi_value)] = CANDIDATE
    classes[finite & (f < lo_value)] = ACCURATE
    return classes


def _as_real(value) -> float:
    """``value`` as a float when it is a real number (not a bool, not text), else NaN (the caller then raises)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return float('nan')
    return float(value)


def check_adaptive(trust_hi: float, candidates: int, candidate_rate: float, trust_lo_min_ev_a: float,
                   trust_lo_max_ev_a: float) -> None:
    """Refuse settings of :func:`adaptive_trust_lo` that cannot work, in one line naming the first bad one.

    Parameters
    ----------
    trust_hi : float
        eV/Å, finite and > 0.
    candidates : int
        Target number of candidates, >= 0.
    candidate_rate : float
        Target fraction of the explored frames that are candidates, in [0, 1]; ``candidates``
        and ``candidate_rate`` are not both 0.
    trust_lo_min_ev_a, trust_lo_max_ev_a : float
        Bounds of the adapted ``trust_lo``, eV/Å: ``0 <= trust_lo_min_ev_a <= trust_lo_max_ev_a < trust_hi``.

    Raises
    ------
    ValueError
        ``'<name> must be <allowed values>, got <value>'``.
    """
    hi, rate = _as_real(trust_hi), _as_real(candidate_rate)
    lo_min, lo_max = _as_real(trust_lo_min_ev_a), _as_real(trust_lo_max_ev_a)
    if not (np.isfinite(hi) and hi > 0):
        raise ValueError(f'trust_hi must be a finite force deviation > 0 eV/Å, got {trust_hi!r}')
    count = _as_count(candidates, 'candidates')
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f'candidate_rate must be a fraction in [0, 1], got {candidate_rate!r}')
    if count == 0 and rate == 0.0:
        raise ValueError('candidates must be above 0 where candidate_rate is 0 (a target of no candidate), got 0')
    if not (np.isfinite(lo_min) and lo_min >= 0):
        raise ValueError(f'trust_lo_min_ev_a must be a force deviation >= 0 eV/Å, got {trust_lo_min_ev_a!r}')
    if not lo_min <= lo_max < hi:
        raise ValueError(f'trust_lo_max_ev_a must be a force deviation in [trust_lo_min_ev_a = {lo_min:g}, '
                         f'trust_hi = {hi:g}) eV/Å, got {trust_lo_max_ev_a!r}')


def adaptive_trust_lo(max_devi_f, trust_hi: float, candidates: int, candidate_rate: float, trust_lo_min_ev_a: float,
                      trust_lo_max_ev_a: float) -> tuple[float, str]:
    """The lower trust level that makes a target number of the explored frames candidates.

    After DPGEN2's ``adaptive-lower`` trust level: ``trust_hi`` is fixed; of the frames whose
    deviation is finite and below ``trust_hi`` (the frames that did not fail), the ``n``
    largest deviations become candidates, ``n = min(n_target, n_below)`` with
    ``n_target = max(candidates, ceil(candidate_rate * n_frames))``: ``trust_lo`` is the
    smallest of them, the ``n``-th largest deviation below ``trust_hi``. It is then clipped to
    ``[trust_lo_min_ev_a, trust_lo_max_ev_a]``: below the lower bound the ensemble is
    confident enough and fewer frames are candidates (all of them accurate when every
    deviation is below it); the upper bound keeps a window of candidates when most frames
    deviate much. When no frame lies below ``trust_hi`` (every frame failed) the level is
    ``trust_lo_max_ev_a``. Unlike DPGEN2, the rate counts every explored frame, failed ones
    included, as the class fractions do.

    With :func:`classify_deviation` at this level exactly ``n`` frames are candidates unless
    several deviations equal the level (all of them are candidates) or the level was clipped.

    Parameters
    ----------
    max_devi_f : array_like, shape (n_frames,)
        Largest force deviation between the models of every explored frame, eV/Å; NaN or
        inf (failed) never sets the level.
    trust_hi : float
        Upper trust level, eV/Å.
    candidates : int
        Target number of candidates, >= 0.
    candidate_rate : float
        Target fraction of the ``n_frames`` frames that are candidates, in [0, 1]
        (``ceil(candidate_rate * n_frames)``, the product rounded to 1e-9 first so that
        ``0.1 * 30`` is 3).
    trust_lo_min_ev_a, trust_lo_max_ev_a : float
        Bounds of the level, eV/Å; see :func:`check_adaptive`.

    Returns
    -------
    float
        ``trust_lo``, eV/Å, in ``[trust_lo_min_ev_a, trust_lo_max_ev_a]``.
    str
        Why: the target, how many frames set the level and whether a bound clipped it.

    Raises
    ------
    ValueError
        From :func:`check_adaptive`, or if ``max_devi_f`` is not one-dimensional.
    """
    check_adaptive(trust_hi, candidates, candidate_rate, trust_lo_min_ev_a, trust_lo_max_ev_a)
    f = _as_vector(max_devi_f, 'max_devi_f')
    hi, lo_min, lo_max = float(trust_hi), float(trust_lo_min_ev_a), float(trust_lo_max_ev_a)
    below = np.sort(f[np.isfinite(f) & (f < hi)])
    if below.size == 0:
        return lo_max, f'no frame of {f.size} below trust_hi = {hi:g} eV/Å: trust_lo_max_ev_a'
    target = max(int(candidates), int(np.ceil(round(float(candidate_rate) * f.size, 9))))
    n_take = min(target, below.size)
    level = float(below[-n_take])
    reason = (f'target {target} candidates of {f.size} frames: the {n_take} largest of the {below.size} deviations '
              f'below trust_hi start at {level:.4g} eV/Å')
    if level < lo_min:
        return lo_min, f'{reason}; raised to trust_lo_min_ev_a = {lo_min:g} eV/Å (fewer candidates)'
    if level > lo_max:
        return lo_max, f'{reason}; lowered to trust_lo_max_ev_a = {lo_max:g} eV/Å (more candidates)'
    return level, reason


def class_fractions(classes) -> dict:
    """Counts and fractions of the three classes.

    Parameters
    ----------
    classes : array_like of int, shape (n_frames,)
        Codes from :func:`classify_deviation`.

    Returns
    -------
    dict
        ``{'n_accurate': int, 'n_candidate': int, 'n_failed': int, 'accurate': float,
        'candidate': float, 'failed': float}``; the fractions sum to 1, and are NaN when
        there is no frame.
    """
    codes = _as_classes(classes)
    counts = np.bincount(codes, minlength=len(CLASS_NAMES))
    total = int(codes.size)
    result = {f'n_{name}': int(count) for name, count in zip(CLASS_NAMES, counts)}
    result.update({name: (count / total if total else float('nan')) for name, count in zip(CLASS_NAMES, counts)})
    return result


def frame_fingerprints(positions, cells, species: Sequence[str], r_max: float = 5.0, n_bins: int = 25) -> np.ndarray:
    """Structural fingerprint of every frame: partial pair-distance histograms per atom.

    For each unordered element pair (elements sorted alphabetically, pairs in
    :func:`.rdf.species_pairs` order) the number of minimum-image pairs in each of
    ``n_bins`` equal-width bins on ``[0, r_max)`` (bin ``k`` holds
    ``k * dr <= d < (k + 1) * dr``, ``dr = r_max / n_bins``), divided by the number of
    atoms so that cells of different size compare. Built on :func:`.rdf.all_partial_rdfs`,
    one frame at a time.

    Parameters
    ----------
    positions : array_like, shape (n_frames, n_atoms, 3) or (n_atoms, 3)
        Cartesian coordinates in Å.
    cells : array_like, shape (n_frames, 3, 3) or (3, 3)
        Lattice vectors in Å as rows; any non-singular (triclinic) cell.
    species : sequence of str, shape (n_atoms,)
        Element symbols, the same for every frame.
    r_max : float
        Å; at most half the smallest perpendicular width of every frame's cell.
    n_bins : int
        Bins per element pair.

    Returns
    -------
    numpy.ndarray, shape (n_frames, n_pairs * n_bins), float
        Row ``f``, column ``p * n_bins + k``: pairs of element pair ``p`` in bin ``k`` of
        frame ``f``, per atom. ``n_pairs = n_elements * (n_elements + 1) / 2``.

    Raises
    ------
    ValueError
        On bad shapes, ``r_max`` above the cell limit or not positive, or ``n_bins`` < 1
        (the message names the field).
    """
    pos, cell_arr = as_frames(positions, cells)
    spec = as_species(species, pos.shape[1])
    rows = [
        all_partial_rdfs(frame_pos, frame_cell, spec, r_max, n_bins).pair_counts.ravel()
        for frame_pos, frame_cell in zip(pos, cell_arr)
    ]
    return np.asarray(rows) / spec.size


def farthest_point_order(features, k: int, first: int) -> list[int]:
    """Greedy farthest-point sampling in Euclidean feature space.

    Start from ``first``; then repeatedly add the row whose distance to the nearest
    already chosen row is largest (ties: lowest index). Identical rows are still
    distinct picks (at distance 0) once every other row is taken.

    Parameters
    ----------
    features : array_like, shape (n, n_features)
        One row per point, finite.
    k : int
        Number of points wanted, >= 0; all ``n`` if ``k >= n``.
    first : int
        Index of the first point, in ``[0, n)`` (not checked when ``n == 0``).

    Returns
    -------
    list of int, length min(k, n)
        Distinct row indices in the order chosen.

    Raises
    ------
    ValueError
        If ``features`` is not two-dimensional or not finite, ``k`` is not an integer
        >= 0, or ``first`` is out of range (the message names the field).
    """
    x = np.asarray(features, dtype=float)
    if x.ndim != 2:
        raise ValueError(f'features must have shape (n, n_features), got shape {x.shape}')
    if not np.all(np.isfinite(x)):
        raise ValueError('features must contain only finite numbers')
    n_take = min(_as_count(k, 'k'), x.shape[0])
    if x.shape[0] == 0:
        return []
    if isinstance(first, bool) or not isinstance(first, (int, np.integer)) or not 0 <= first < x.shape[0]:
        raise ValueError(f'first must be an integer index in [0, {x.shape[0] - 1}], got {first!r}')
    chosen = [int(first)] if n_take else []
    nearest = np.full(x.shape[0], np.inf)
    while len(chosen) < n_take:
        nearest = np.minimum(nearest, np.sum((x - x[chosen[-1]]) ** 2, axis=1))
        nearest[chosen[-1]] = -np.inf
        chosen.append(int(np.argmax(nearest)))
    return chosen


def select_candidates(classes, max_devi_f, features, max_labels: int, method: str = 'spread') -> np.ndarray:
    """Frames to label: at most ``max_labels`` of the CANDIDATE frames.

    Methods:

    - ``'spread'``: farthest-point sampling (:func:`farthest_point_order`) over the
      candidates' ``features``, starting from the candidate of largest ``max_devi_f``
      (ties: lowest index);
    - ``'first'``: the first ``max_labels`` candidates in frame order (DP-GEN's
      behaviour, the reference for benchmarks); ``features`` is not used;
    - ``'deviation'``: the ``max_labels`` candidates of largest ``max_devi_f`` (ties:
      lowest index); ``features`` is not used.

    Parameters
    ----------
    classes : array_like of int, shape (n_frames,)
        Codes from :func:`classify_deviation`.
    max_devi_f : array_like, shape (n_frames,)
        Maximal force deviation in eV/Å; must be finite at the candidates.
    features : array_like, shape (n_frames, n_features) or None
        Fingerprints, e.g. :func:`frame_fingerprints`; required for ``'spread'``.
    max_labels : int
        Largest number of frames returned, >= 0.
    method : str
        One of :data:`SELECTION_METHODS`.

    Returns
    -------
    numpy.ndarray, shape (n_selected,), intp
        Frame indices, ascending; ``n_selected = min(max_labels, n_candidates)``.

    Raises
    ------
    ValueError
        On a bad ``max_labels`` or ``method`` (the message gives the allowed values), or
        mismatched shapes (the message names the field).
    """
    cap = _as_count(max_labels, 'max_labels')
    if method not in SELECTION_METHODS:
        raise ValueError(f'method must be one of {SELECTION_METHODS}, got {method!r}')
    codes = _as_classes(classes)
    devi = _as_vector(max_devi_f, 'max_devi_f')
    if devi.shape != codes.shape:
        raise ValueError(f'max_devi_f has {devi.size} frames but classes has {codes.size}')
    candidates = np.flatnonzero(codes == CANDIDATE)
    if not np.all(np.isfinite(devi[candidates])):
        raise ValueError('max_devi_f must be finite at every CANDIDATE frame')
    if method == 'first':
        picked = candidates[:cap]
    elif method == 'deviation':
        picked = candidates[np.argsort(-devi[candidates], kind='stable')[:cap]]
    else:
        picked = _spread(candidates, devi, features, codes.size, cap)
    return np.sort(picked).astype(np.intp)


def _spread(candidates: np.ndarray, devi: np.ndarray, features, n_frames: int, cap: int) -> np.ndarray:
    """Farthest-point pick of ``cap`` of the ``candidates`` (frame indices) by ``features`` rows."""
    if features is None:
        raise ValueError("features must be given for method = 'spread'")
    x = np.asarray(features, dtype=float)
    if x.ndim != 2 or x.shape[0] != n_frames:
        raise ValueError(f'features must have shape ({n_frames}, n_features), one row per frame, got {x.shape}')
    if candidates.size == 0:
        return candidates
    start = int(np.argmax(devi[candidates]))
    return candidates[farthest_point_order(x[candidates], cap, start)]
