"""Calcfunction that joins the segments of a restarted CP2K run into the whole run."""
from __future__ import annotations

import numpy as np
from aiida import orm
from aiida.engine import calcfunction

from aiida_boroglass.analysis.segments import check_increasing, kept_before_continuation
from aiida_boroglass.functions.exit_codes import returns_exit_codes

#: arrays of the joined trajectory besides positions and cells, joined when every segment has them
TRAJECTORY_ARRAYS = ('energies', 'forces')


@calcfunction
@returns_exit_codes
def join_cp2k_segments(**segments) -> dict:
    """Join trajectory and thermo of the CalcJobs of one restarted CP2K run (continuous time, no step twice).

    A segment's frames and energy lines at or after the first step of a later segment are
    dropped (:func:`~aiida_boroglass.analysis.segments.kept_before_continuation`); the last
    segment is kept whole.

    Parameters
    ----------
    **segments : TrajectoryData, ArrayData
        ``trajectory_<i>`` and ``thermo_<i>`` of the segments ``i = 0, 1, ...`` in run order
        (a segment that wrote none of them is left out): the ``output_trajectory`` and
        ``thermo`` outputs of :class:`~aiida_boroglass.parsers.cp2k.BoroglassCp2kParser`.

    Returns
    -------
    dict
        ``output_trajectory`` (TrajectoryData: positions and cells in Å, ``times`` in ps
        when the segments have them, arrays ``energies`` in eV and ``forces`` in eV/Å when
        every segment has them) and ``thermo`` (ArrayData: ``step``, ``time_ps``,
        ``kinetic_ev``, ``temperature_k``, ``potential_ev``, ``conserved_ev``), each when any
        segment has one. The attribute ``segments`` counts the segments joined.
    """
    outputs = {}
    trajectories = _in_order(segments, 'trajectory')
    if trajectories:
        outputs['output_trajectory'] = _join_trajectories(trajectories)
    thermos = _in_order(segments, 'thermo')
    if thermos:
        outputs['thermo'] = _join_thermo(thermos)
    return outputs


def _in_order(segments: dict, prefix: str) -> list:
    """The nodes ``<prefix>_<i>`` sorted by ``i``."""
    found = {int(key.rsplit('_', 1)[1]): node for key, node in segments.items() if key.startswith(f'{prefix}_')}
    return [found[index] for index in sorted(found)]


def _join_trajectories(trajectories: list[orm.TrajectoryData]) -> orm.TrajectoryData:
    """Concatenate the kept frames of the trajectories."""
    keep = kept_before_continuation([t.get_stepids() for t in trajectories])
    stepids = np.concatenate([t.get_stepids()[k] for t, k in zip(trajectories, keep)])
    check_increasing(stepids, 'trajectory step ids')
    times = None
    if all('times' in t.get_arraynames() for t in trajectories):
        times = np.concatenate([t.get_times()[k] for t, k in zip(trajectories, keep)])
        check_increasing(times, 'trajectory')
    first = trajectories[0]
    joined = orm.TrajectoryData()
    joined.set_trajectory(
        symbols=first.symbols, stepids=stepids, times=times, pbc=first.pbc,
        positions=np.concatenate([t.get_positions()[k] for t, k in zip(trajectories, keep)]),
        cells=np.concatenate([t.get_cells()[k] for t, k in zip(trajectories, keep)]),
    )
    for name in TRAJECTORY_ARRAYS:
        if all(name in t.get_arraynames() for t in trajectories):
            joined.set_array(name, np.concatenate([t.get_array(name)[k] for t, k in zip(trajectories, keep)]))
    for key in ('units', 'unwrapped'):
        joined.base.attributes.set(key, first.base.attributes.get(key))
    joined.base.attributes.set('segments', len(trajectories))
    return joined


def _join_thermo(thermos: list[orm.ArrayData]) -> orm.ArrayData:
    """Concatenate the kept energy lines of the thermo arrays."""
    keep = kept_before_continuation([t.get_array('step') for t in thermos])
    joined = orm.ArrayData()
    for name in thermos[0].get_arraynames():
        joined.set_array(name, np.concatenate([t.get_array(name)[k] for t, k in zip(thermos, keep)]))
    check_increasing(joined.get_array('time_ps'), 'thermo')
    joined.base.attributes.set('units', thermos[0].base.attributes.get('units'))
    joined.base.attributes.set('segments', len(thermos))
    return joined
