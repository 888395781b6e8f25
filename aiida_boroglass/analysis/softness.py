"""Machine-learned "softness": radial structure functions and a logistic hyperplane.

Pure numpy/scipy plus scikit-learn; no AiiDA import. Built on
:func:`.neighbors.neighbor_pairs`.

Paper 004 (section 4.6, following Cubuk et al., Phys. Rev. Lett. 114, 108001 (2015),
and Liu et al., Acta Mater. 210, 116817 (2021)) describes each B or Li atom ``i`` by
its radial structure functions ("radial order parameters") ``G(i; r)``, one block per
neighbour species ``X``, on shells ``r = dr, 2 dr, ..., Rc`` with ``dr = 0.2`` Å and
``Rc = 10`` Å. The features are standardised and a logistic-regression hyperplane
(eq. 9, ``sum_r w(r) G(i; r) - b = 0``) separates mobile from immobile atoms; the
softness ``S_i`` is the signed distance of atom ``i`` from the hyperplane, positive on
the mobile side. The model is trained on some compositions and tested on a held-out one
(Li40B30P30 in the paper).

Radial structure function (Cubuk et al. 2015, eq. 1; paper 004 gives no formula)::

    G_X(i; r) = sum_{j in X, j != i} exp(-(r_ij - r)^2 / (2 L^2))

an un-normalised Gaussian of width ``L`` (Å), so that ``sum_k G_X(i; r_k) dr /
(sqrt(2 pi) L)`` counts the X neighbours of ``i`` (for ``L`` not much larger than
``dr``). Paper 004 does not state ``L``; the default here is ``L = dr``. Each Gaussian
is truncated at ``|r_ij - r| < TAIL_WIDTHS * L`` (a relative error below 4e-6), so the
neighbour search reaches ``r_max + TAIL_WIDTHS * L``.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from .neighbors import (
    _index_set,
    as_cell,
    as_distance,
    as_positions,
    as_positive,
    as_species,
    max_cutoff,
    neighbor_pairs,
)

__all__ = (
    'TAIL_WIDTHS',
    'SoftnessModel',
    'apply_softness',
    'radial_structure_functions',
    'standardise',
    'train_softness',
    'weights_by_species',
)

#: Each Gaussian of G(i; r) is cut at this many widths from its centre (exp(-12.5) = 3.7e-6).
TAIL_WIDTHS = 5.0

#: Centres per neighbour search; bounds the memory of one search.
_CENTER_CHUNK = 2048

#: Pairs per accumulation step (times the 2 m + 1 shells each pair touches).
_PAIR_CHUNK = 200_000

#: A feature column whose training standard deviation is below this times its largest
#: absolute value counts as constant (rounding noise, not signal).
_CONSTANT_RTOL = 1e-12


def radial_structure_functions(
    positions,
    cell,
    species: Sequence[str],
    centers=None,
    neighbor_species: Sequence[str] | None = None,
    r_max_a: float = 10.0,
    dr_a: float = 0.2,
    width_a: float | None = None,
):
    """Radial structure functions G_X(i; r) of the centre atoms, one block per species X.

    ``G_X(i; r) = sum_{j in X, j != i} exp(-(r_ij - r)^2 / (2 L^2))`` over the periodic
    minimum-image distances ``r_ij`` (module docstring), evaluated on the shells
    ``r = dr, 2 dr, ..., n_r dr`` with ``n_r = floor(r_max / dr)``.

    Parameters
    ----------
    positions : array_like, shape (n_atoms, 3)
        Cartesian coordinates in Å of one frame (may be unwrapped; not modified).
    cell : array_like, shape (3, 3)
        Lattice vectors in Å as rows; any non-singular (triclinic) cell.
    species : sequence of str, shape (n_atoms,)
        Element symbols.
    centers : array_like of int or bool mask, optional
        Atoms whose features are computed (default all). Indices must not repeat; the
        rows of ``features`` follow increasing atom index.
    neighbor_species : sequence of str, optional
        Neighbour species X, one block each, in sorted order (default every species in
        ``species``). A species absent from the structure gives a block of zeros, so
        structures of different compositions can share one feature layout.
    r_max_a : float
        Last shell, Å (paper 004: ``Rc = 10``). ``r_max_a + TAIL_WIDTHS * width`` must
        not exceed :func:`.neighbors.max_cutoff` of the cell.
    dr_a : float
        Shell spacing, Å (paper 004: 0.2); at most ``r_max_a``.
    width_a : float, optional
        Gaussian width ``L`` in Å; default ``dr_a``.

    Returns
    -------
    features : numpy.ndarray, shape (n_centers, n_neighbor_species * n_r), float
        ``features[c, s * n_r + k]`` is ``G_X(i; r_k)`` for centre ``c`` and
        ``X = feature_species[s]``; dimensionless.
    r_a : numpy.ndarray, shape (n_r,), float
        Shell radii in Å.
    feature_species : tuple of str, length n_neighbor_species
        The species of the blocks, sorted.

    Raises
    ------
    ValueError
        On bad shapes, indices or species, a non-positive ``r_max_a`` / ``dr_a`` /
        ``width_a``, ``dr_a > r_max_a``, or a search radius beyond the cell limit (the
        message names the argument).
    """
    pos = as_positions(positions)
    cell_arr = as_cell(cell)
    n_atoms = pos.shape[0]
    spec = as_species(species, n_atoms)
    r_max = as_distance(r_max_a, 'r_max_a')
    dr = as_distance(dr_a, 'dr_a')
    if dr > r_max:
        raise ValueError(f'dr_a = {dr:g} Å must not exceed r_max_a = {r_max:g} Å')
    width = dr if width_a is None else as_distance(width_a, 'width_a')
    tail = TAIL_WIDTHS * width
    reach = r_max + tail
    limit = max_cutoff(cell_arr)
    if reach > limit:
        raise ValueError(
            f'r_max_a + {TAIL_WIDTHS:g} * width = {reach:g} Å exceeds {limit:g} Å, half the smallest '
            'perpendicular width of the cell; use a smaller r_max_a or width_a, or a larger cell'
        )
    blocks = _neighbor_blocks(spec, neighbor_species)
    c_idx = np.arange(n_atoms, dtype=np.intp) if centers is None else _index_set(centers, n_atoms, 'centers')

    n_r = int(np.floor(r_max / dr * (1.0 + 1e-12)))
    r = dr * np.arange(1, n_r + 1)
    n_blocks = len(blocks)
    # species code of each atom in block order; -1 for atoms of no block
    code = np.full(n_atoms, -1, dtype=np.intp)
    for s, name in enumerate(blocks):
        code[spec == name] = s
    others = code >= 0
    features = np.zeros((c_idx.size, n_blocks * n_r))
    if c_idx.size == 0 or not others.any():
        return features, r, blocks

    half_window = int(np.ceil(tail / dr)) + 1
    offsets = np.arange(-half_window, half_window + 1)
    row_of = np.full(n_atoms, -1, dtype=np.intp)
    for start in range(0, c_idx.size, _CENTER_CHUNK):
        chunk = c_idx[start : start + _CENTER_CHUNK]
        row_of[chunk] = np.arange(chunk.size)  # row within this chunk
        i, j, d = neighbor_pairs(pos, cell_arr, reach, centers=chunk, others=others, sort=False)
        for p0 in range(0, i.size, _PAIR_CHUNK):
            _accumulate(
                features[start : start + chunk.size],
                row_of[i[p0 : p0 + _PAIR_CHUNK]],
                code[j[p0 : p0 + _PAIR_CHUNK]],
                d[p0 : p0 + _PAIR_CHUNK],
                offsets,
                dr,
                width,
                n_r,
            )
    return features, r, blocks


def _neighbor_blocks(spec: np.ndarray, neighbor_species) -> tuple[str, ...]:
    """Sorted neighbour species of the feature blocks."""
    if neighbor_species is None:
        return tuple(np.unique(spec).tolist())
    names = np.asarray(neighbor_species)
    if names.ndim != 1 or names.size == 0 or not all(isinstance(s, str) for s in names.tolist()):
        raise ValueError(
            f'neighbor_species must be a non-empty sequence of element symbols (str), got {neighbor_species!r}'
        )
    listed = names.tolist()
    if len(set(listed)) != len(listed):
        raise ValueError(f'neighbor_species must not repeat a species, got {listed}')
    return tuple(sorted(listed))


def _accumulate(features, rows, codes, d, offsets, dr, width, n_r) -> None:
    """Add the truncated Gaussians of pairs (rows, codes, d) to the rows ``features`` in place.

    Each pair touches the shells ``nearest + offsets``; they are accumulated into an
    array padded on both sides of the ``n_r`` shells (no masking of indices), and the
    padding is dropped at the end.
    """
    half_window = int(offsets[-1])
    shift = half_window + 1  # nearest shell >= -1 and offsets >= -half_window
    padded = n_r + 3 * half_window + 2  # nearest shell <= n_r + half_window - 1 for d < r_max + tail
    n_rows, n_blocks = features.shape[0], features.shape[1] // n_r
    shell = (np.rint(d / dr).astype(np.intp) - 1)[:, np.newaxis] + offsets[np.newaxis, :]  # shell k at (k + 1) dr
    delta = d[:, np.newaxis] - dr * (shell + 1)
    values = np.exp(-0.5 * (delta / width) ** 2)
    values[np.abs(delta) >= TAIL_WIDTHS * width] = 0.0
    flat = (rows * n_blocks + codes)[:, np.newaxis] * padded + (shell + shift)
    total = np.bincount(flat.ravel(), weights=values.ravel(), minlength=n_rows * n_blocks * padded)
    features += total.reshape(n_rows, n_blocks, padded)[:, :, shift : shift + n_r].reshape(features.shape)


def _feature_matrix(features, name: str) -> np.ndarray:
    """Validate a finite 2-D feature matrix; return it as float."""
    arr = np.asarray(features, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f'{name} must have shape (n_samples, n_features), got shape {arr.shape}')
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'{name} must contain only finite numbers')
    return arr


def _training_stats(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column mean and standard deviation (ddof 0) of the training matrix; constant columns get std 0."""
    if train.shape[0] == 0:
        raise ValueError('train must hold at least one sample')
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    scale = np.abs(train).max(axis=0)
    std[std <= _CONSTANT_RTOL * scale] = 0.0
    return mean, std


def _scaled(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(x - mean) / std column-wise, 0 where std is 0."""
    out = np.zeros(np.broadcast_shapes(x.shape, mean.shape))
    np.divide(x - mean, std, out=out, where=std > 0.0)
    return out


def standardise(train, *others) -> tuple[np.ndarray, ...]:
    """Standardise features with the mean and standard deviation of the training set.

    Each column becomes ``(x - mean_train) / std_train`` (population standard deviation,
    as :class:`sklearn.preprocessing.StandardScaler`). A column that is constant in the
    training set is 0 in every output (no division by zero). The inputs are not modified.

    Parameters
    ----------
    train : array_like, shape (n_train, n_features)
        Training features; the statistics come from these rows only.
    *others : array_like, shape (n_k, n_features)
        Further feature sets (test set, new structures) scaled with the same statistics.

    Returns
    -------
    tuple of numpy.ndarray
        ``(train_scaled, *others_scaled)``, same shapes as the inputs.

    Raises
    ------
    ValueError
        If an array is not 2-D and finite, ``train`` is empty, or the numbers of columns
        differ.
    """
    tr = _feature_matrix(train, 'train')
    mean, std = _training_stats(tr)
    result = [_scaled(tr, mean, std)]
    for k, other in enumerate(others):
        arr = _feature_matrix(other, f'others[{k}]')
        if arr.shape[1] != tr.shape[1]:
            raise ValueError(f'others[{k}] has {arr.shape[1]} feature columns but train has {tr.shape[1]}')
        result.append(_scaled(arr, mean, std))
    return tuple(result)


class SoftnessModel(NamedTuple):
    """A trained softness hyperplane and its scores (see :func:`train_softness`)."""

    #: Fraction of the held-out (test) samples classified correctly.
    accuracy: float
    #: Fraction of the samples the model was fitted on classified correctly.
    train_accuracy: float
    #: Test-set confusion matrix, int, shape (2, 2): rows true [immobile, mobile],
    #: columns predicted [immobile, mobile].
    confusion: np.ndarray
    #: Hyperplane normal w, shape (n_features,), in standardised feature units (w(r) of eq. 9).
    weights: np.ndarray
    #: Intercept b of ``S = w . z + b`` (eq. 9 of paper 004 writes ``-b`` for it).
    intercept: float
    #: Softness ``w . z + b`` of every sample (train and test), shape (n_samples,);
    #: positive on the mobile side.
    softness: np.ndarray
    #: Samples of the held-out group, bool, shape (n_samples,).
    test_mask: np.ndarray
    #: Samples the model was fitted on (after balancing), bool, shape (n_samples,).
    train_mask: np.ndarray
    #: Training feature mean used for standardisation, shape (n_features,).
    mean: np.ndarray
    #: Training feature standard deviation, shape (n_features,); 0 for constant columns.
    std: np.ndarray


def _as_labels(labels, n_samples: int) -> np.ndarray:
    """Boolean mobile labels from a bool or 0/1 array."""
    arr = np.asarray(labels)
    if arr.shape != (n_samples,):
        raise ValueError(f'labels must have shape ({n_samples},), one per sample, got {arr.shape}')
    if arr.dtype == bool:
        return arr.copy()
    if arr.dtype.kind not in 'iuf' or not np.all((arr == 0) | (arr == 1)):
        raise ValueError('labels must be boolean or 0/1 (1 = mobile, 0 = immobile)')
    return arr == 1


def train_softness(
    features,
    labels,
    groups,
    test_group,
    C: float = 1.0,
    balance: bool = True,
    seed: int = 0,
) -> SoftnessModel:
    """Fit the softness hyperplane by logistic regression, holding out one group.

    Samples whose ``groups`` entry equals ``test_group`` form the test set (paper 004:
    the Li40B30P30 composition); all others are training samples. With ``balance`` the
    larger class of the training samples is randomly subsampled to the size of the
    smaller (equal numbers of mobile and immobile atoms, as in Cubuk et al. 2015; paper
    004 does not say). The features are standardised with the statistics of the fitted
    samples (:func:`standardise`) and :class:`sklearn.linear_model.LogisticRegression`
    (L2 penalty, inverse strength ``C``) gives ``w`` and ``b``; the softness of every
    sample is ``S = w . z + b`` with ``z`` its standardised features.

    ``S`` is the decision function of the classifier (``S > 0`` predicts mobile). The
    Euclidean distance to the hyperplane in standardised feature space is
    ``S / |w|``; the two differ by one constant factor per model.

    Parameters
    ----------
    features : array_like, shape (n_samples, n_features)
        Raw features, e.g. rows of :func:`radial_structure_functions` stacked over
        structures.
    labels : array_like of bool or 0/1, shape (n_samples,)
        True / 1 for mobile (e.g. from :func:`.rearrangement.classify_mobile`).
    groups : array_like, shape (n_samples,)
        Group (composition) of each sample, any comparable labels.
    test_group : scalar
        The held-out group; must occur in ``groups``.
    C : float
        Inverse L2 regularisation strength of the logistic regression, positive.
    balance : bool
        Subsample the training set to equal class sizes.
    seed : int
        Seed of the subsampling and of the solver.

    Returns
    -------
    SoftnessModel

    Raises
    ------
    ValueError
        If ``labels`` is not boolean or 0/1, ``groups`` has the wrong length,
        ``test_group`` is not among ``groups``, no sample lies outside it, the training
        samples lack a class, or ``C`` is not positive.
    """
    from sklearn.linear_model import LogisticRegression

    x = _feature_matrix(features, 'features')
    n_samples = x.shape[0]
    y = _as_labels(labels, n_samples)
    grp = np.asarray(groups)
    if grp.shape != (n_samples,):
        raise ValueError(f'groups must have shape ({n_samples},), one per sample, got {grp.shape}')
    c_value = as_positive(C, 'C')
    test_mask = grp == test_group
    if not np.any(test_mask):
        raise ValueError(f'test_group {test_group!r} is not among groups {np.unique(grp).tolist()}')
    train_pool = np.flatnonzero(~test_mask)
    if train_pool.size == 0:
        raise ValueError(f'groups must hold samples outside test_group {test_group!r} to train on')
    n_mobile = int(y[train_pool].sum())
    if n_mobile == 0 or n_mobile == train_pool.size:
        missing = 'mobile' if n_mobile == 0 else 'immobile'
        raise ValueError(f'labels of the training samples (groups other than {test_group!r}) have no {missing} sample')

    train_idx = _balanced(train_pool, y, np.random.default_rng(seed)) if balance else train_pool
    train_mask = np.zeros(n_samples, dtype=bool)
    train_mask[train_idx] = True

    mean, std = _training_stats(x[train_mask])
    z = _scaled(x, mean, std)
    classifier = LogisticRegression(C=c_value, max_iter=10_000, random_state=seed)
    classifier.fit(z[train_mask], y[train_mask])
    weights = classifier.coef_[0].copy()
    intercept = float(classifier.intercept_[0])
    softness = z @ weights + intercept
    predicted = softness > 0.0

    truth, guess = y[test_mask].astype(np.intp), predicted[test_mask].astype(np.intp)
    confusion = np.bincount(2 * truth + guess, minlength=4).reshape(2, 2)
    return SoftnessModel(
        accuracy=float(np.mean(truth == guess)),
        train_accuracy=float(np.mean(predicted[train_mask] == y[train_mask])),
        confusion=confusion,
        weights=weights,
        intercept=intercept,
        softness=softness,
        test_mask=test_mask,
        train_mask=train_mask,
        mean=mean,
        std=std,
    )


def _balanced(pool: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sorted subset of ``pool`` with equally many mobile and immobile samples."""
    mobile, immobile = pool[y[pool]], pool[~y[pool]]
    n = min(mobile.size, immobile.size)
    chosen = np.concatenate([rng.choice(mobile, n, replace=False), rng.choice(immobile, n, replace=False)])
    return np.sort(chosen)


def apply_softness(model: SoftnessModel, features) -> np.ndarray:
    """Softness of new samples (e.g. strained structures) under a trained model.

    Parameters
    ----------
    model : SoftnessModel
        From :func:`train_softness`.
    features : array_like, shape (n_samples, n_features)
        Raw features in the layout the model was trained on.

    Returns
    -------
    numpy.ndarray, shape (n_samples,)
        ``w . z + b`` with ``z`` standardised by the model's training statistics.
    """
    x = _feature_matrix(features, 'features')
    if x.shape[1] != model.weights.size:
        raise ValueError(f'features has {x.shape[1]} columns but the model has {model.weights.size} weights')
    return _scaled(x, model.mean, model.std) @ model.weights + model.intercept


def weights_by_species(weights, r_a, feature_species: Sequence[str]) -> dict[str, np.ndarray]:
    """Split the hyperplane weights into one curve w_X(r) per neighbour species (Fig. 5c,d).

    Parameters
    ----------
    weights : array_like, shape (n_neighbor_species * n_r,)
        :attr:`SoftnessModel.weights` for features from :func:`radial_structure_functions`.
    r_a : array_like, shape (n_r,)
        Shell radii in Å returned with the features.
    feature_species : sequence of str, length n_neighbor_species
        Block species returned with the features.

    Returns
    -------
    dict of str to numpy.ndarray, each shape (n_r,)
        ``w_X(r)`` in standardised units, keyed by species in block order.
    """
    w = np.asarray(weights, dtype=float)
    n_r = np.asarray(r_a).size
    names = list(feature_species)
    if w.ndim != 1 or w.size != n_r * len(names):
        raise ValueError(
            f'weights must have shape ({len(names)} * {n_r},) = (len(feature_species) * len(r_a),), got {w.shape}'
        )
    return {name: w[s * n_r : (s + 1) * n_r].copy() for s, name in enumerate(names)}
