"""Neutron and X-ray total scattering from partial pair distribution functions.

Pure numpy/scipy; no AiiDA import. The input is a set of partial g_ij(r) (e.g. from
:func:`.rdf.partial_rdf`) given on equally spaced bin centres, one row per unordered pair
of elements in the order of :func:`.rdf.species_pairs`.

Real space (Keen, J. Appl. Cryst. 34, 172 (2001); paper 004, section 4.2, eqs 2-3;
paper 000, section 2.2, eqs 3-4), sums over ORDERED pairs i, j::

    G(r)  = sum_ij c_i b_i c_j b_j (g_ij(r) - 1)                 (barn)
    D(r)  = 4 pi r rho0 G(r)                                      (barn Å^-2)
    T0(r) = 4 pi r rho0 (sum_i c_i b_i)^2                         (barn Å^-2)
    T(r)  = D(r) + T0(r)

Reciprocal space, Faber-Ziman partial structure factors (Faber & Ziman, Philos. Mag. 11,
153 (1965); paper 004, eqs 4-5) with the Lorch-type window in r::

    S_ij(Q) = 1 + rho0 int_0^rmax 4 pi r^2 (g_ij(r) - 1) sin(Qr)/(Qr) W(r) dr
    W(r)    = sin(pi r / rmax) / (pi r / rmax)
    S(Q)    = sum_ij c_i c_j w_i w_j S_ij(Q) / (sum_i c_i w_i)^2

with ``w`` the neutron lengths ``b`` or the X-ray form factors ``f(Q)``. The distinct
scattering per atom (paper 000, eq 1) is ``i(Q) = (sum_i c_i b_i)^2 (S(Q) - 1)`` and its
transform with the modification function M(Q) (Lorch, J. Phys. C 2, 229 (1969); paper
000, eq 2 without T0) gives the D(r) an experiment with a finite Q_max measures::

    D'(r) = (2 / pi) int_0^Qmax Q i(Q) M(Q) sin(rQ) dQ

Agreement between an experimental and a simulated curve: Wright's factor (A. C. Wright,
J. Non-Cryst. Solids 159, 264 (1993); used in paper 002)::

    R_chi = sqrt( sum (y_exp - y_sim)^2 / sum y_exp^2 )

Scattering data: bound coherent neutron lengths from :mod:`periodictable` (the table of
Rauch & Waschkowski 2003; natural Li there is -1.93 fm, Sears 1992 gives -1.90 fm) and
neutral-atom X-ray form factors f0 from :mod:`xraydb` (Waasmaier & Kirfel 1995).
"""

from __future__ import annotations

import os
import re
from typing import Mapping, Sequence

import numpy as np

from .neighbors import as_positive

__all__ = (
    'FM2_PER_BARN',
    'WINDOWS',
    'broadened_real_space',
    'faber_ziman_partials',
    'interference_function',
    'lorch',
    'neutron_scattering_lengths',
    'r_chi',
    'read_curve',
    'real_space_functions',
    'reciprocal_to_real',
    'weighted_total',
    'xray_form_factors',
)

#: fm^2 in one barn.
FM2_PER_BARN = 100.0

#: Allowed values of the ``window`` arguments.
WINDOWS = ('lorch', None)

#: Relative tolerance on the uniform spacing of r and on the sum of the concentrations.
_RTOL = 1e-6


def neutron_scattering_lengths(elements: Sequence[str], isotopes: Mapping[str, int] | None = None) -> dict[str, float]:
    """Bound coherent neutron scattering lengths b_c.

    Parameters
    ----------
    elements : sequence of str, shape (n_elements,)
        Element symbols.
    isotopes : mapping of str to int, optional
        Element -> mass number for isotopically enriched samples, e.g. ``{'B': 11}``;
        elements not named here take the natural-abundance value.

    Returns
    -------
    dict of str to float
        b_c in fm for every element. Natural B has a complex length (absorption by
        10B); the real part is returned.

    Raises
    ------
    ValueError
        An unknown element (naming ``elements``), or an ``isotopes`` entry for an element
        not in ``elements``, an unknown isotope, or one without a tabulated length
        (naming ``isotopes``).
    """
    import periodictable

    names = _element_names(elements)
    isotopes = dict(isotopes or {})
    extra = sorted(set(isotopes) - set(names))
    if extra:
        raise ValueError(f'isotopes names elements {extra} that are not in elements {names}')
    lengths = {}
    for name in names:
        try:
            element = periodictable.elements.symbol(name)
        except ValueError as exc:
            raise ValueError(f'elements: {name!r} is not an element symbol') from exc
        if name in isotopes:
            mass = isotopes[name]
            try:
                element = element[int(mass)]
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f'isotopes[{name!r}] = {mass!r} is not a known isotope of {name}') from exc
        b_c = getattr(getattr(element, 'neutron', None), 'b_c', None)
        if b_c is None:
            field = f'isotopes[{name!r}]' if name in isotopes else 'elements'
            raise ValueError(f'{field}: no coherent neutron scattering length is tabulated for {element}')
        lengths[name] = float(np.real(b_c))
    return lengths


def xray_form_factors(elements: Sequence[str], q) -> np.ndarray:
    """Neutral-atom X-ray form factors f0(Q).

    Parameters
    ----------
    elements : sequence of str, shape (n_elements,)
        Element symbols.
    q : array_like, shape (n_q,)
        Scattering vector magnitudes Q = 4 pi sin(theta) / lambda in Å^-1, >= 0. The
        tabulated fits hold up to Q = 75 Å^-1 (sin(theta)/lambda = 6 Å^-1).

    Returns
    -------
    numpy.ndarray, shape (n_elements, n_q), float
        f0 in electrons; f0(0) = Z (to the 1e-3 accuracy of the fits).

    Raises
    ------
    ValueError
        An element without tabulated f0 (naming ``elements``), or negative or non-finite
        ``q``.
    """
    import xraydb

    names = _element_names(elements)
    q_arr = _as_1d(q, 'q')
    if np.any(q_arr < 0.0):
        raise ValueError('q must be >= 0 Å^-1')
    out = np.empty((len(names), q_arr.size))
    for k, name in enumerate(names):
        try:
            out[k] = xraydb.f0(name, q_arr / (4.0 * np.pi))
        except ValueError as exc:
            raise ValueError(f'elements: no X-ray form factor is tabulated for {name!r}') from exc
    return out


def lorch(x, x_max: float) -> np.ndarray:
    """Lorch window sin(pi x / x_max) / (pi x / x_max), zero for |x| > x_max.

    Used in r (Å, with x_max = r_max) for S(Q) and in Q (Å^-1, with x_max = Q_max) as
    the modification function M(Q).

    Parameters
    ----------
    x : array_like, shape (n,)
        Abscissae, in the unit of ``x_max``.
    x_max : float
        Positive end of the window.

    Returns
    -------
    numpy.ndarray, shape (n,), float
        1 at x = 0, 0 at and beyond |x| = x_max.
    """
    x_max = as_positive(x_max, 'x_max')
    x_arr = np.asarray(x, dtype=float)
    return np.where(np.abs(x_arr) <= x_max, np.sinc(x_arr / x_max), 0.0)


def faber_ziman_partials(r, g, rho0: float, q, r_max: float | None = None, window: str | None = 'lorch') -> np.ndarray:
    """Faber-Ziman partial structure factors S_ij(Q) (paper 004, eq 4).

    Parameters
    ----------
    r : array_like, shape (n_r,)
        Equally spaced, increasing bin centres in Å (bins of width dr = r[1] - r[0],
        starting at r[0] - dr / 2 >= 0).
    g : array_like, shape (n_pairs, n_r)
        Partial g_ij(r), dimensionless, in :func:`.rdf.species_pairs` order.
    rho0 : float
        Total atomic number density in Å^-3.
    q : array_like, shape (n_q,)
        Q in Å^-1, >= 0.
    r_max : float, optional
        Å; upper end of the integral. Default: the upper edge of the last bin. Bins whose
        centre is at or beyond ``r_max`` are left out.
    window : {'lorch', None}
        ``'lorch'`` multiplies by sin(pi r / r_max) / (pi r / r_max) (damps the ripples of
        the truncation at r_max); ``None`` truncates sharply.

    Returns
    -------
    numpy.ndarray, shape (n_pairs, n_q), float
        S_ij(Q), dimensionless.

    Raises
    ------
    ValueError
        Unevenly spaced ``r``, mismatched shapes, non-positive ``rho0`` or ``r_max``,
        negative ``q``, or an unknown ``window``.

    Notes
    -----
    Midpoint rule over the histogram bins: each bin contributes at its centre.
    """
    r_arr, dr = _uniform_r(r)
    g_arr = _as_rows(g, r_arr.size, 'g')
    rho0 = as_positive(rho0, 'rho0')
    q_arr = _as_1d(q, 'q')
    if np.any(q_arr < 0.0):
        raise ValueError('q must be >= 0 Å^-1')
    r_max = r_arr[-1] + 0.5 * dr if r_max is None else as_positive(r_max, 'r_max')
    weight = 4.0 * np.pi * rho0 * dr * r_arr**2 * (r_arr < r_max) * _window(r_arr, r_max, window)
    kernel = np.sinc(np.outer(r_arr, q_arr) / np.pi)  # sin(Qr) / (Qr), shape (n_r, n_q)
    return 1.0 + ((g_arr - 1.0) * weight) @ kernel


def weighted_total(partials, concentrations, weights) -> np.ndarray:
    """Faber-Ziman weighted total of partial functions.

    ``sum_ij c_i c_j w_i w_j P_ij / (sum_i c_i w_i)^2`` over ORDERED pairs: each
    unordered off-diagonal pair of :func:`.rdf.species_pairs` counts twice.

    Parameters
    ----------
    partials : array_like, shape (n_pairs, n_x)
        Partial functions (e.g. S_ij(Q)) in :func:`.rdf.species_pairs` order,
        n_pairs = n_elements (n_elements + 1) / 2.
    concentrations : array_like, shape (n_elements,)
        Atom fractions c_i, >= 0, summing to 1.
    weights : array_like, shape (n_elements,) or (n_elements, n_x)
        Neutron lengths b_i (any unit, e.g. fm) or Q-dependent X-ray form factors f_i(Q)
        (electrons) on the same grid as ``partials``.

    Returns
    -------
    numpy.ndarray, shape (n_x,), float
        The total, in the unit of ``partials`` (the weights cancel).

    Raises
    ------
    ValueError
        Mismatched shapes, bad concentrations, or sum_i c_i w_i = 0 somewhere.
    """
    c = _concentrations(concentrations)
    n_el = c.size
    p = _as_rows(partials, np.shape(partials)[-1] if np.ndim(partials) else 0, 'partials', n_el)
    w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        w = w[:, np.newaxis]
    if w.ndim != 2 or w.shape[0] != n_el or w.shape[1] not in (1, p.shape[1]):
        raise ValueError(f'weights must have shape ({n_el},) or ({n_el}, {p.shape[1]}), got shape {np.shape(weights)}')
    cw = c[:, np.newaxis] * w  # (n_elements, 1 or n_x)
    norm = cw.sum(axis=0) ** 2
    if np.any(norm == 0.0):
        raise ValueError('weights: sum_i c_i w_i is zero, the total is undefined')
    return _ordered_pair_sum(p, cw) / norm


def real_space_functions(r, g, concentrations, b, rho0: float) -> dict[str, np.ndarray]:
    """Neutron-weighted real-space functions G, D, T0 and T from partial g_ij(r).

    Parameters
    ----------
    r : array_like, shape (n_r,)
        Distances in Å.
    g : array_like, shape (n_pairs, n_r)
        Partial g_ij(r) in :func:`.rdf.species_pairs` order, dimensionless.
    concentrations : array_like, shape (n_elements,)
        Atom fractions, summing to 1.
    b : array_like, shape (n_elements,)
        Coherent neutron scattering lengths in fm.
    rho0 : float
        Total atomic number density in Å^-3.

    Returns
    -------
    dict of str to numpy.ndarray, each shape (n_r,)
        ``'G_barn'``: G(r) in barn (1 barn = 100 fm^2); ``'D_barn_A2'``: D(r) =
        4 pi r rho0 G(r) in barn Å^-2; ``'T0_barn_A2'``: T0(r) = 4 pi r rho0 (sum c b)^2
        in barn Å^-2; ``'T_barn_A2'``: T(r) = D(r) + T0(r) in barn Å^-2.
    """
    r_arr = _as_1d(r, 'r')
    c = _concentrations(concentrations)
    g_arr = _as_rows(g, r_arr.size, 'g', c.size)
    b_arr = _lengths(b, c.size)
    rho0 = as_positive(rho0, 'rho0')
    mean_b2 = np.dot(c, b_arr) ** 2 / FM2_PER_BARN
    G = _ordered_pair_sum(g_arr - 1.0, (c * b_arr)[:, np.newaxis]) / FM2_PER_BARN
    D = 4.0 * np.pi * rho0 * r_arr * G
    T0 = 4.0 * np.pi * rho0 * r_arr * mean_b2
    return {'G_barn': G, 'D_barn_A2': D, 'T0_barn_A2': T0, 'T_barn_A2': D + T0}


def interference_function(q, s_total_neutron, concentrations, b) -> np.ndarray:
    """Distinct scattering per atom i(Q) = (sum_i c_i b_i)^2 (S(Q) - 1) (paper 000, eq 1).

    Parameters
    ----------
    q : array_like, shape (n_q,)
        Q in Å^-1 (checked against the shape of ``s_total_neutron``).
    s_total_neutron : array_like, shape (n_q,)
        Faber-Ziman total neutron S(Q), dimensionless (:func:`weighted_total`).
    concentrations : array_like, shape (n_elements,)
        Atom fractions, summing to 1.
    b : array_like, shape (n_elements,)
        Coherent neutron scattering lengths in fm.

    Returns
    -------
    numpy.ndarray, shape (n_q,), float
        i(Q) in barn.
    """
    q_arr = _as_1d(q, 'q')
    s = _as_1d(s_total_neutron, 's_total_neutron')
    if s.shape != q_arr.shape:
        raise ValueError(f's_total_neutron has shape {s.shape} but q has shape {q_arr.shape}')
    c = _concentrations(concentrations)
    return np.dot(c, _lengths(b, c.size)) ** 2 / FM2_PER_BARN * (s - 1.0)


def reciprocal_to_real(q, f_q, r, q_max: float, window: str | None = 'lorch') -> np.ndarray:
    """Sine transform (2 / pi) int_0^Qmax Q f(Q) M(Q) sin(rQ) dQ (paper 000, eq 2 without T0).

    Applied to i(Q) in barn this gives D(r) in barn Å^-2 as measured with a finite
    Q_max: the true D(r) convolved with the transform of the window (the peak function),
    i.e. broadened by about 2 pi / Q_max (more with the Lorch window, but without the
    large termination ripples).

    Parameters
    ----------
    q : array_like, shape (n_q,)
        Increasing Q in Å^-1; should start at (or near) 0, the integral begins at q[0].
    f_q : array_like, shape (n_q,)
        The function to transform, e.g. i(Q) in barn.
    r : array_like, shape (n_r,)
        Distances in Å at which to evaluate the transform.
    q_max : float
        Å^-1; upper end of the integral, at most q[-1]; points above it are ignored.
    window : {'lorch', None}
        Modification function M(Q): ``'lorch'`` = sin(pi Q / Q_max) / (pi Q / Q_max),
        ``None`` = 1 (sharp truncation).

    Returns
    -------
    numpy.ndarray, shape (n_r,), float
        In the unit of ``f_q`` times Å^-2.

    Notes
    -----
    Trapezoid rule on the given ``q`` grid (which must resolve sin(rQ) at the largest r:
    spacing well below pi / r).
    """
    q_arr = _as_1d(q, 'q')
    f_arr = _as_1d(f_q, 'f_q')
    if f_arr.shape != q_arr.shape:
        raise ValueError(f'f_q has shape {f_arr.shape} but q has shape {q_arr.shape}')
    if q_arr.size < 2 or np.any(np.diff(q_arr) <= 0.0):
        raise ValueError('q must hold at least two strictly increasing values (Å^-1)')
    r_arr = _as_1d(r, 'r')
    q_max = as_positive(q_max, 'q_max')
    if q_max > q_arr[-1] * (1.0 + _RTOL):
        raise ValueError(f'q_max = {q_max:g} Å^-1 is beyond the last q, {q_arr[-1]:g} Å^-1')
    keep = q_arr <= q_max * (1.0 + _RTOL)
    q_in = q_arr[keep]
    integrand = (q_in * f_arr[keep] * _window(q_in, q_max, window))[np.newaxis, :] * np.sin(np.outer(r_arr, q_in))
    return 2.0 / np.pi * np.trapezoid(integrand, q_in, axis=1)


def broadened_real_space(
    r, g, concentrations, b, rho0: float, q_max: float, dq: float = 0.01, window: str | None = 'lorch'
) -> dict[str, np.ndarray]:
    """D(r) and T(r) as an experiment with a finite Q_max would see them.

    Round trip: g_ij(r) -> S_ij(Q) (:func:`faber_ziman_partials`, no r-window) on
    ``Q = 0, dq, ..., q_max`` -> total S(Q) -> i(Q) (:func:`interference_function`) ->
    D(r) (:func:`reciprocal_to_real` with the modification function ``window``);
    T(r) = D(r) + T0(r).

    No r-window in the forward transform: the sine pair is exact on [0, r_max], so the
    result is the unbroadened D(r) of :func:`real_space_functions` convolved with the
    peak function of M(Q) alone, as in experiment. A Lorch r-window would instead scale
    D(r) down by sin(pi r / r_max) / (pi r / r_max) at every r (0.64 at r_max / 2). The
    sharp cut at r_max only disturbs the result within a few 2 pi / Q_max of r_max.

    Parameters
    ----------
    r : array_like, shape (n_r,)
        Equally spaced, increasing bin centres in Å.
    g : array_like, shape (n_pairs, n_r)
        Partial g_ij(r) in :func:`.rdf.species_pairs` order.
    concentrations : array_like, shape (n_elements,)
        Atom fractions, summing to 1.
    b : array_like, shape (n_elements,)
        Coherent neutron scattering lengths in fm.
    rho0 : float
        Total atomic number density in Å^-3.
    q_max : float
        Experimental Q_max in Å^-1.
    dq : float
        Q step in Å^-1; must resolve the structure of S(Q), of width about pi / r_max.
    window : {'lorch', None}
        Modification function M(Q) of the back transform.

    Returns
    -------
    dict of str to numpy.ndarray, each shape (n_r,)
        ``'D_barn_A2'`` and ``'T_barn_A2'`` in barn Å^-2, on ``r``.
    """
    q_max = as_positive(q_max, 'q_max')
    dq = as_positive(dq, 'dq')
    if dq >= q_max:
        raise ValueError(f'dq = {dq:g} Å^-1 must be smaller than q_max = {q_max:g} Å^-1')
    _check_window(window)
    unbroadened = real_space_functions(r, g, concentrations, b, rho0)
    q = np.linspace(0.0, q_max, int(round(q_max / dq)) + 1)
    c = _concentrations(concentrations)
    b_arr = _lengths(b, c.size)
    s = weighted_total(faber_ziman_partials(r, g, rho0, q, window=None), c, b_arr)
    D = reciprocal_to_real(q, interference_function(q, s, c, b_arr), r, q_max, window=window)
    return {'D_barn_A2': D, 'T_barn_A2': D + unbroadened['T0_barn_A2']}


def r_chi(x_exp, y_exp, x_sim, y_sim, x_range: tuple[float, float] | None = None) -> float:
    """Wright's agreement factor R_chi between an experimental and a simulated curve.

    ``R_chi = sqrt( sum_k (y_exp,k - y_sim(x_k))^2 / sum_k y_exp,k^2 )`` over the
    experimental points x_k inside the overlap of both x ranges (and inside ``x_range``),
    with the simulation linearly interpolated onto x_k.

    Parameters
    ----------
    x_exp, y_exp : array_like, shape (n_exp,)
        Experimental curve, x strictly increasing (e.g. r in Å and D(r)).
    x_sim, y_sim : array_like, shape (n_sim,)
        Simulated curve in the same units, x strictly increasing.
    x_range : (float, float), optional
        Closed interval of x to compare on.

    Returns
    -------
    float
        R_chi as a fraction (0.051 for 5.1 %).

    Raises
    ------
    ValueError
        Mismatched shapes, non-increasing x, no experimental point in the overlap, or
        all-zero experimental values there.
    """
    xe, ye = _curve(x_exp, y_exp, 'x_exp', 'y_exp')
    xs, ys = _curve(x_sim, y_sim, 'x_sim', 'y_sim')
    lo, hi = max(xe[0], xs[0]), min(xe[-1], xs[-1])
    if x_range is not None:
        low, high = (float(v) for v in x_range)
        if not low < high:
            raise ValueError(f'x_range must be (low, high) with low < high, got {x_range!r}')
        lo, hi = max(lo, low), min(hi, high)
    inside = (xe >= lo) & (xe <= hi)
    if not np.any(inside):
        raise ValueError(
            f'no experimental point lies in the overlap of x_exp [{xe[0]:g}, {xe[-1]:g}], '
            f'x_sim [{xs[0]:g}, {xs[-1]:g}]' + ('' if x_range is None else f' and x_range {tuple(x_range)}')
        )
    y_ref = ye[inside]
    norm = np.sum(y_ref**2)
    if norm == 0.0:
        raise ValueError('y_exp is zero everywhere in the compared range, R_chi is undefined')
    diff = y_ref - np.interp(xe[inside], xs, ys)
    return float(np.sqrt(np.sum(diff**2) / norm))


def read_curve(source: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read an (x, y) curve from a text file.

    Format: one point per line, columns separated by whitespace and/or commas; text
    after ``#`` and blank lines are ignored; columns beyond the second (e.g. an error
    column) are ignored.

    Parameters
    ----------
    source : str or os.PathLike
        Path of the file.

    Returns
    -------
    x : numpy.ndarray, shape (n,), float
        First column, strictly increasing.
    y : numpy.ndarray, shape (n,), float
        Second column.

    Raises
    ------
    ValueError
        A line with fewer than two numbers or a non-finite value (naming the file and
        line number), fewer than two points, or x not strictly increasing (naming the
        first offending line).
    OSError
        The file cannot be read.
    """
    path = os.fspath(source)
    xs, ys, lines = [], [], []
    with open(path, encoding='utf-8') as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.split('#', 1)[0].strip()
            if not text:
                continue
            fields = [f for f in re.split(r'[\s,]+', text) if f]
            try:
                x, y = (float(f) for f in fields[:2])
            except ValueError:
                x = y = None
            if len(fields) < 2 or x is None or not (np.isfinite(x) and np.isfinite(y)):
                raise ValueError(f'{path}, line {number}: expected two finite numbers (x, y), got {raw.strip()!r}')
            xs.append(x)
            ys.append(y)
            lines.append(number)
    if len(xs) < 2:
        raise ValueError(f'{path}: needs at least two data points, found {len(xs)}')
    x_arr = np.array(xs)
    bad = np.flatnonzero(np.diff(x_arr) <= 0.0)
    if bad.size:
        k = int(bad[0]) + 1
        raise ValueError(f'{path}, line {lines[k]}: x = {xs[k]:g} does not increase (previous x = {xs[k - 1]:g})')
    return x_arr, np.array(ys)


def _element_names(elements: Sequence[str]) -> list[str]:
    """Validated list of distinct element symbols."""
    if isinstance(elements, str):
        raise ValueError(f'elements must be a sequence of element symbols, got the string {elements!r}')
    names = list(elements)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f'elements must be a non-empty sequence of element symbols, got {names!r}')
    if len(set(names)) != len(names):
        raise ValueError(f'elements must not repeat a symbol, got {names}')
    return names


def _pair_indices(n_elements: int) -> list[tuple[int, int]]:
    """Index pairs (k, l), k <= l, in :func:`.rdf.species_pairs` order."""
    return [(k, l) for k in range(n_elements) for l in range(k, n_elements)]


def _as_1d(values, name: str) -> np.ndarray:
    """Finite one-dimensional float array; ValueError naming ``name`` otherwise."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f'{name} must be a non-empty one-dimensional array, got shape {arr.shape}')
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'{name} must contain only finite numbers')
    return arr


def _as_rows(values, n_cols: int, name: str, n_elements: int | None = None) -> np.ndarray:
    """Finite float array of shape (n_pairs, n_cols), n_pairs fixed by ``n_elements`` if given."""
    arr = np.asarray(values, dtype=float)
    n_pairs = 'n_pairs' if n_elements is None else n_elements * (n_elements + 1) // 2
    if arr.ndim != 2 or arr.shape[1] != n_cols or (n_elements is not None and arr.shape[0] != n_pairs):
        raise ValueError(f'{name} must have shape ({n_pairs}, {n_cols}) in species_pairs order, got shape {arr.shape}')
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'{name} must contain only finite numbers')
    return arr


def _uniform_r(r) -> tuple[np.ndarray, float]:
    """Bin centres in Å and their spacing; checks uniform increasing spacing from r >= 0."""
    r_arr = _as_1d(r, 'r')
    if r_arr.size < 2:
        raise ValueError('r must hold at least two bin centres (Å)')
    steps = np.diff(r_arr)
    dr = float(steps.mean())
    if dr <= 0.0 or np.any(np.abs(steps - dr) > _RTOL * dr):
        raise ValueError('r must be equally spaced, increasing bin centres (Å)')
    if r_arr[0] - 0.5 * dr < -_RTOL * dr:
        raise ValueError(f'r starts at {r_arr[0]:g} Å: the first bin would reach below r = 0')
    return r_arr, dr


def _check_window(window) -> None:
    """ValueError unless ``window`` is one of :data:`WINDOWS`."""
    if not (window is None or (isinstance(window, str) and window in WINDOWS)):
        raise ValueError(f'window must be one of {WINDOWS}, got {window!r}')


def _window(x: np.ndarray, x_max: float, window: str | None) -> np.ndarray:
    """The window named ``window`` on ``x``."""
    _check_window(window)
    return lorch(x, x_max) if window == 'lorch' else np.ones_like(x)


def _ordered_pair_sum(partials: np.ndarray, cw: np.ndarray) -> np.ndarray:
    """sum over ordered pairs of cw_k cw_l P_kl; ``cw`` shape (n_elements, 1 or n_x)."""
    total = np.zeros(partials.shape[1])
    for row, (k, l) in enumerate(_pair_indices(cw.shape[0])):
        total += (1.0 if k == l else 2.0) * cw[k] * cw[l] * partials[row]
    return total


def _concentrations(concentrations) -> np.ndarray:
    """Atom fractions: non-negative, summing to 1."""
    c = _as_1d(concentrations, 'concentrations')
    if np.any(c < 0.0) or abs(c.sum() - 1.0) > _RTOL:
        raise ValueError(f'concentrations must be non-negative atom fractions summing to 1, got {c.tolist()}')
    return c


def _lengths(b, n_elements: int) -> np.ndarray:
    """Scattering lengths, one per element."""
    b_arr = _as_1d(b, 'b')
    if b_arr.size != n_elements:
        raise ValueError(f'b must hold {n_elements} scattering lengths (fm), one per element, got {b_arr.size}')
    return b_arr


def _curve(x, y, x_name: str, y_name: str) -> tuple[np.ndarray, np.ndarray]:
    """A curve with strictly increasing x."""
    x_arr, y_arr = _as_1d(x, x_name), _as_1d(y, y_name)
    if x_arr.shape != y_arr.shape:
        raise ValueError(f'{x_name} and {y_name} must have the same shape, got {x_arr.shape} and {y_arr.shape}')
    if np.any(np.diff(x_arr) <= 0.0):
        raise ValueError(f'{x_name} must be strictly increasing')
    return x_arr, y_arr
