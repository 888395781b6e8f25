"""Run one analysis of the package as a job: ``python -m aiida_boroglass.analysis.job`` in a folder.

The :class:`~aiida_boroglass.calculations.analysis.AnalysisCalculation` CalcJob writes the
inputs of an analysis as plain data (:func:`write_bundle`: ``inputs.json`` + ``inputs.npz``)
and runs this module on the chosen computer, where no AiiDA profile is needed. The job caps
its threads (:func:`cap_threads`), calls the same pure function the calcfunction of that
analysis calls (``compute_<name>`` beside the calcfunction ``<name>`` in the module
:data:`ANALYSES` names), and writes the plain outputs (``results.json`` + ``results.npz``) and
its exit status: 0, or the status and message the calcfunction would have returned.

Plain data: a glass is :class:`Frames`, an ``ArrayData`` is :class:`ArrayContent`, a
``Dict`` a dict, a ``Str`` a str, a ``Float`` or ``Int`` a number, a ``CompositionData`` a
:class:`~aiida_boroglass.glass.composition.Composition`. This module imports no AiiDA; the
analysis it runs may.
"""
from __future__ import annotations

import functools
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np

from aiida_boroglass.glass.composition import Composition

#: Analyses a job may run: calcfunction name -> module holding ``<name>`` and ``compute_<name>``.
ANALYSES: dict[str, str] = {
    'pair_distributions': 'aiida_boroglass.functions.structure',
    'short_range_order': 'aiida_boroglass.functions.structure',
    'bond_angle_distributions': 'aiida_boroglass.functions.structure',
    'volume_analysis': 'aiida_boroglass.functions.structure',
    'ring_analysis': 'aiida_boroglass.functions.medium_range',
    'persistent_homology': 'aiida_boroglass.functions.medium_range',
    'cavity_analysis': 'aiida_boroglass.functions.medium_range',
    'diffusion_at_temperature': 'aiida_boroglass.functions.transport',
    'ion_rearrangement': 'aiida_boroglass.functions.transport',
    'hopping_transport': 'aiida_boroglass.functions.hopping',
    'deformation_analysis': 'aiida_boroglass.functions.deformation',
    'fracture_bond_switching': 'aiida_boroglass.functions.fracture',
}

INPUTS = 'inputs'
RESULTS = 'results'
#: The job's own record (retrieved): function, threads, thread pools, exit status.
LOG_FILENAME = 'job.json'
#: Environment variables every threaded library of the kernels reads at start-up.
THREAD_VARIABLES = ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'NUMEXPR_NUM_THREADS',
                    'NUMBA_NUM_THREADS', 'TBB_NUM_THREADS')


class Frames(NamedTuple):
    """A glass as the kernels take it: positions ``(n_frames, n_atoms, 3)`` in Å, cells ``(n_frames, 3, 3)``
    in Å (vectors as rows), the element of each atom (a list of ``n_atoms`` str) and, for a
    trajectory that has them, the time of each frame ``(n_frames,)`` in ps (else None)."""

    positions: np.ndarray
    cells: np.ndarray
    symbols: list
    times: np.ndarray | None = None


class ArrayContent(NamedTuple):
    """The content of an ``ArrayData``: named arrays and attributes (JSON values)."""

    arrays: dict
    attributes: dict


def analysis_functions(name: str) -> tuple[Callable, Callable]:
    """The calcfunction ``name`` and its pure function ``compute_<name>``.

    Raises
    ------
    ValueError
        ``function``: ``name`` is not one of :data:`ANALYSES` (the message lists them).
    """
    if name not in ANALYSES:
        raise ValueError(f'function: {name!r} is not an analysis that runs as a job; allowed: {sorted(ANALYSES)}')
    module = importlib.import_module(ANALYSES[name])
    return getattr(module, name), getattr(module, f'compute_{name}')


def _json_value(value: Any) -> Any:
    """JSON form of a numpy scalar or array inside a Dict or attributes (``json.dump``'s ``default``)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f'{type(value).__name__} is not JSON data')


def write_bundle(folder: Path, stem: str, values: Mapping[str, Any], record: Mapping[str, Any]) -> None:
    """Write plain values to ``<stem>.json`` (kinds, dicts, strings, attributes, ``record``) and ``<stem>.npz``.

    Parameters
    ----------
    folder : Path
        Where the two files go.
    stem : str
        File name without suffix (:data:`INPUTS` or :data:`RESULTS`).
    values : mapping of str to Frames, ArrayContent, Composition, dict, str, int or float
        The plain data, by input or output label.
    record : mapping
        Extra JSON fields stored beside (function name, threads, exit status).
    """
    described, arrays = {}, {}
    for label, value in values.items():
        if isinstance(value, Frames):
            described[label] = {'kind': 'frames', 'times': value.times is not None}
            arrays.update({f'{label}/positions': value.positions, f'{label}/cells': value.cells,
                           f'{label}/symbols': np.asarray(value.symbols, dtype=str)})
            if value.times is not None:
                arrays[f'{label}/times'] = value.times
        elif isinstance(value, ArrayContent):
            described[label] = {'kind': 'arrays', 'attributes': value.attributes, 'names': list(value.arrays)}
            arrays.update({f'{label}/{name}': np.asarray(array) for name, array in value.arrays.items()})
        elif isinstance(value, Composition):
            described[label] = {'kind': 'composition', 'value': value.to_dict()}
        elif isinstance(value, (dict, str, int, float)) and not isinstance(value, bool):
            described[label] = {'kind': type(value).__name__, 'value': value}
        else:
            raise TypeError(f'{label}: {type(value).__name__} is not plain analysis data')
    with open(folder / f'{stem}.json', 'w', encoding='utf8') as handle:
        json.dump({**record, 'values': described}, handle, default=_json_value)
    np.savez(folder / f'{stem}.npz', **arrays)


def read_bundle(folder: Path, stem: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read what :func:`write_bundle` wrote: the plain values by label, and the record."""
    with open(folder / f'{stem}.json', encoding='utf8') as handle:
        record = json.load(handle)
    described = record.pop('values')
    values: dict[str, Any] = {}
    with np.load(folder / f'{stem}.npz', allow_pickle=False) as arrays:
        for label, entry in described.items():
            if entry['kind'] == 'frames':
                values[label] = Frames(arrays[f'{label}/positions'], arrays[f'{label}/cells'],
                                       arrays[f'{label}/symbols'].tolist(),
                                       arrays[f'{label}/times'] if entry['times'] else None)
            elif entry['kind'] == 'composition':
                values[label] = Composition.from_dict(entry['value'])
            elif entry['kind'] == 'arrays':
                values[label] = ArrayContent({name: arrays[f'{label}/{name}'] for name in entry['names']},
                                             entry['attributes'])
            else:
                values[label] = entry['value']
    return values, record


def cap_threads(threads: int) -> list[dict]:
    """Hold every thread pool of this process to ``threads``: environment, BLAS/OpenMP, freud.

    The environment reaches libraries loaded later; threadpoolctl the BLAS and OpenMP
    runtimes already loaded; freud (TBB) is set directly when imported.

    Returns
    -------
    list of dict
        threadpoolctl's description of the pools after the cap (``num_threads`` each).
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
    threadpool_limits(limits=threads)
    if 'freud' in sys.modules:
        sys.modules['freud'].parallel.set_num_threads(threads)
    return [{key: pool[key] for key in ('internal_api', 'num_threads')} for pool in threadpool_info()]


def run_job(folder: Path) -> int:
    """Run the analysis whose inputs :func:`write_bundle` left in ``folder``; return the exit status.

    Writes :data:`RESULTS` (the outputs, status 0; or no values and the status and message
    the calcfunction would return) and :data:`LOG_FILENAME`.
    """
    from aiida_boroglass.functions.exit_codes import returns_exit_codes

    inputs, record = read_bundle(folder, INPUTS)
    name = record['function']
    compute = analysis_functions(name)[1]
    pools = cap_threads(int(record['threads']))

    @functools.wraps(compute)
    def analysis(**values):
        return compute(**values)

    analysis.__name__ = name  # exit messages name the calcfunction, as its own run does
    outputs = returns_exit_codes(analysis)(**inputs)
    status, message = (0, '') if isinstance(outputs, dict) else (outputs.status, outputs.message)
    write_bundle(folder, RESULTS, outputs if status == 0 else {}, {'status': status, 'message': message})
    with open(folder / LOG_FILENAME, 'w', encoding='utf8') as handle:
        json.dump({'function': name, 'threads': record['threads'], 'thread_pools': pools, 'status': status,
                   'environment': {key: os.environ[key] for key in THREAD_VARIABLES}}, handle)
    return status


if __name__ == '__main__':
    # run as a script this module is ``__main__``; the analyses build the classes of the imported one
    from aiida_boroglass.analysis.job import run_job as run_imported

    run_imported(Path.cwd())
