"""Text parsing of DeePMD-kit's output files: learning curve and ``dp test`` details.

The model deviation (the same format from ``dp model-devi`` and LAMMPS) is read by
:func:`aiida_boroglass.parsers.parse_raw.lammps.parse_model_deviation`.

Pure functions on strings; no AiiDA. Units are DeePMD-kit's: eV, eV/Å, eV/atom.
"""
from __future__ import annotations

import io

import numpy as np

def _table(text: str, name: str) -> tuple[list[str], np.ndarray]:
    """Column names of the last ``#`` header line naming columns, and the numbers below, (n_rows, n_columns)."""
    lines = text.splitlines()
    headers = [line.lstrip('#').split() for line in lines if line.startswith('#') and 'step' in line.lower()]
    rows = [line for line in lines if line.strip() and not line.startswith('#')]
    if not headers or not rows:
        raise ValueError(f'{name}: no header line with column names, or no rows')
    values = np.loadtxt(io.StringIO('\n'.join(rows)), ndmin=2)
    if values.shape[1] != len(headers[-1]):
        raise ValueError(f'{name}: {values.shape[1]} columns but the header names {len(headers[-1])}')
    return headers[-1], values


def parse_lcurve(text: str) -> dict[str, np.ndarray]:
    """The learning curve ``lcurve.out`` of ``dp train``.

    Parameters
    ----------
    text : str
        The file's content: a header ``# step rmse_val rmse_trn rmse_e_val ... lr`` and one
        row per ``disp_freq`` steps.

    Returns
    -------
    dict of str to ndarray
        Every column by its header name, each (n_rows,): ``step`` (int), RMSEs of the
        validation (``*_val``) and training batch (``*_trn``) in eV/atom (``rmse_e_*``),
        eV/Å (``rmse_f_*``), eV/atom (``rmse_v_*``), the total loss (``rmse_val``,
        ``rmse_trn``, dimensionless) and ``lr``.
    """
    names, values = _table(text, 'lcurve.out')
    curve = {name: values[:, index] for index, name in enumerate(names)}
    curve['step'] = curve['step'].astype(int)
    return curve


def parse_test_detail(text: str, n_values: int) -> tuple[np.ndarray, np.ndarray]:
    """Reference and predicted values of a ``dp test -d`` detail file.

    Parameters
    ----------
    text : str
        Content of e.g. ``test.e_peratom.out`` (``data_e pred_e`` per frame) or
        ``test.f.out`` (``data_fx data_fy data_fz pred_fx pred_fy pred_fz`` per atom); one
        ``#`` header per system, systems appended.
    n_values : int
        Values per row of each half: 1 for energies, 3 for forces.

    Returns
    -------
    reference, predicted : ndarray
        (n_rows, n_values) each, in the file's unit (eV/atom, eV/Å).
    """
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith('#')]
    if not rows:
        raise ValueError('dp test detail file: no rows')
    values = np.loadtxt(io.StringIO('\n'.join(rows)), ndmin=2)
    if values.shape[1] != 2 * n_values:
        raise ValueError(f'dp test detail file: {values.shape[1]} columns, expected {2 * n_values}')
    return values[:, :n_values], values[:, n_values:]


def rmse(reference: np.ndarray, predicted: np.ndarray) -> float:
    """Root-mean-square difference over every element of two equal-shaped arrays (their unit)."""
    return float(np.sqrt(np.mean((np.asarray(predicted) - np.asarray(reference)) ** 2)))
