"""Bond-type-resolved distances: the atom-labelling analysis of paper 000 (section 3.2.2).

Pure numpy/scipy; no AiiDA import. Boron atoms are labelled by their oxygen coordination
(``3B``, ``4B``; others ``xB``) and oxygens by the number of network formers bonded to
them (``BO`` >= 2, ``NBO`` = 1, ``free`` = 0; :func:`.speciation.network_frame`). Then

- B-O bonds split into 3B-BO, 3B-NBO, 4B-BO, 4B-NBO (paper 000 Fig. 4);
- M-O pairs within the M-O cutoff (M a modifier: Li, Na, K, ...) into M-BO, M-NBO and
  M-free;
- O-O pairs within the O-O cutoff into BO-BO, BO-NBO, NBO-NBO (and pairs with free O)
  (paper 000 Fig. 5).

For each class: its share of its family's pairs, the number per frame, the mean distance
and the first-peak position (the maximum of the distance histogram smoothed with a
Gaussian), which is how paper 000 reports bond lengths (e.g. 3B-BO 1.40 Å, 4B-BO 1.49 Å,
3B-NBO 1.35 Å in 0.4K2O-0.6B2O3 glass).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .neighbors import as_distance, as_frames, as_species, neighbor_pairs
from .speciation import NETWORK_FORMERS, network_frame

__all__ = ('OXYGEN_LABELS', 'labelled_distances', 'oxygen_labels', 'population_summary')

#: Oxygen label by number of bonded formers: 0, 1, >= 2.
OXYGEN_LABELS = ('free', 'NBO', 'BO')

#: Histogram bin width (Å) and Gaussian smoothing (bins) for the first-peak position.
PEAK_BIN_A = 0.005
PEAK_SMOOTH_BINS = 2.0


def oxygen_labels(oxygen_formers: np.ndarray) -> np.ndarray:
    """``'free'``, ``'NBO'`` or ``'BO'`` from the number of formers bonded to each oxygen.

    Parameters
    ----------
    oxygen_formers : array_like of int, shape (n,)

    Returns
    -------
    numpy.ndarray of str, shape (n,)
    """
    return np.asarray(OXYGEN_LABELS)[np.minimum(np.asarray(oxygen_formers), 2)]


def _boron_labels(former_oxygens: np.ndarray) -> np.ndarray:
    """``'3B'``, ``'4B'`` or ``'xB'`` from the oxygen coordination of each boron, shape (n,)."""
    k = np.asarray(former_oxygens)
    return np.where(k == 3, '3B', np.where(k == 4, '4B', 'xB'))


def _join(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Element-wise ``first + '-' + second`` for string arrays."""
    return np.char.add(np.char.add(first.astype(str), '-'), second.astype(str))


def labelled_distances(
    positions,
    cell,
    species: Sequence[str],
    former_cutoffs: Mapping[str, float],
    pair_cutoffs: Mapping[str, float],
    oxygen: str = 'O',
) -> dict[str, dict[str, np.ndarray]]:
    """Distances of every labelled pair class, pooled over frames.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3) or (n_frames, n_atoms, 3)
        Cartesian coordinates in Å.
    cell : array_like, shape (3, 3) or (n_frames, 3, 3)
        Lattice vectors in Å as rows.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    former_cutoffs : Mapping[str, float]
        ``{former: former-O cutoff}`` in Å; defines the bonds, BO and NBO.
    pair_cutoffs : Mapping[str, float]
        ``{'Li-O': 2.6, 'O-O': 3.0, ...}`` in Å for the M-O and O-O families; a family
        without a cutoff is left out.
    oxygen : str
        Symbol of oxygen.

    Returns
    -------
    dict[str, dict[str, numpy.ndarray]]
        ``{family: {class: distances}}``, families ``'B-O'``, ``'M-O'`` for each modifier
        ``M`` present with a cutoff, and ``'O-O'``; distances in Å, shape (n_pairs,),
        all frames together.
    """
    pos, cells = as_frames(positions, cell)
    spec = as_species(species, pos.shape[1])
    modifiers = sorted(set(spec.tolist()) - set(NETWORK_FORMERS) - set(former_cutoffs) - {oxygen})
    families: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for frame_pos, frame_cell in zip(pos, cells):
        frame = network_frame(frame_pos, frame_cell, spec, former_cutoffs, oxygen)
        o_label = oxygen_labels(frame.oxygen_formers)
        boron = spec[frame.former] == 'B'
        families.setdefault('B-O', []).append(
            (_join(_boron_labels(frame.former_oxygens[frame.former[boron]]), o_label[frame.oxygen[boron]]),
             frame.distance[boron])
        )
        for metal in modifiers:
            key = f'{metal}-{oxygen}'
            if key in pair_cutoffs:
                centers = np.flatnonzero(spec == metal)
                others = np.flatnonzero(spec == oxygen)
                i, j, d = neighbor_pairs(frame_pos, frame_cell, as_distance(pair_cutoffs[key], f'cutoffs[{key!r}]'),
                                         centers=centers, others=others)
                families.setdefault(key, []).append((np.char.add(f'{metal}-', o_label[j]), d))
        key = f'{oxygen}-{oxygen}'
        if key in pair_cutoffs:
            others = np.flatnonzero(spec == oxygen)
            i, j, d = neighbor_pairs(frame_pos, frame_cell, as_distance(pair_cutoffs[key], f'cutoffs[{key!r}]'),
                                     centers=others, others=others)
            upper = i < j
            code = np.minimum(frame.oxygen_formers, 2)
            code_i, code_j = code[i[upper]], code[j[upper]]
            labels = np.asarray(OXYGEN_LABELS)
            classes = _join(labels[np.maximum(code_i, code_j)], labels[np.minimum(code_i, code_j)])
            families.setdefault(key, []).append((classes, d[upper]))
    result = {}
    for family, parts in families.items():
        classes = np.concatenate([c for c, _ in parts]).astype(str)
        distances = np.concatenate([d for _, d in parts])
        result[family] = {name: distances[classes == name] for name in np.unique(classes).tolist()}
    return result


def population_summary(distances: Mapping[str, Mapping[str, np.ndarray]], n_frames: int) -> dict[str, dict[str, dict]]:
    """Share, number per frame, mean distance and first-peak position of every class.

    Parameters
    ----------
    distances : Mapping[str, Mapping[str, numpy.ndarray]]
        Output of :func:`labelled_distances` (Å).
    n_frames : int
        Number of frames the distances were pooled from.

    Returns
    -------
    dict[str, dict[str, dict]]
        ``{family: {class: {'fraction', 'count_per_frame', 'mean_a', 'peak_a'}}}``;
        ``fraction`` is the share of the family's pairs; ``mean_a`` and ``peak_a`` in Å
        (``peak_a`` the maximum of a histogram of :data:`PEAK_BIN_A` bins smoothed over
        :data:`PEAK_SMOOTH_BINS` bins).
    """
    summary: dict[str, dict[str, dict]] = {}
    for family, classes in distances.items():
        total = sum(len(d) for d in classes.values())
        summary[family] = {
            name: {
                'fraction': len(d) / total,
                'count_per_frame': len(d) / n_frames,
                'mean_a': float(np.mean(d)),
                'peak_a': _peak_position(d),
            }
            for name, d in classes.items()
            if len(d)
        }
    return summary


def _peak_position(distances: np.ndarray) -> float:
    """Maximum of the smoothed histogram of ``distances`` (Å), shape (n,), n >= 1."""
    low = distances.min() - 4.5 * PEAK_BIN_A
    n_bins = int(np.ceil((distances.max() + 4 * PEAK_BIN_A - low) / PEAK_BIN_A))
    counts, edges = np.histogram(distances, bins=n_bins, range=(low, low + n_bins * PEAK_BIN_A))
    smooth = gaussian_filter1d(counts.astype(float), PEAK_SMOOTH_BINS, mode='constant')
    k = int(np.argmax(smooth))
    return float(0.5 * (edges[k] + edges[k + 1]))
