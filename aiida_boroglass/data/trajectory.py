"""AiiDA data type of a trajectory whose positions and cells may be stored in float32.

aiida-core's ``TrajectoryData`` refuses positions and cells that are not float64, when they
are set and again when the node is stored. :class:`Float32TrajectoryData` accepts float32
as well and refuses everything else the parent refuses (integers, wrong shapes), with the
parent's messages: only its dtype test of positions and cells is relaxed. Half the bytes
per atom and frame (12 B instead of 24 B): a long production keeps its stride and halves
its repository size, at a rounding of at most 2**-24 of a coordinate (1e-5 Å at 100 Å).

It is a subclass, so every port and function that takes ``orm.TrajectoryData`` takes it;
a ``QueryBuilder`` search for ``orm.TrajectoryData`` does not list it (AiiDA matches plugin
types by entry point): search for ``Float32TrajectoryData`` as well. The analyses read
positions and cells through :func:`~aiida_boroglass.functions.utils.frames_of`, which
hands them to the kernels in float64.
"""
from __future__ import annotations

import numpy as np
from aiida import orm

#: Precisions a trajectory may be stored in (numpy dtype names); the first is the default.
TRAJECTORY_PRECISIONS = ('float64', 'float32')


def float64_stand_in(array):
    """A float64 stand-in of the shape of a float32 array, for the parent's dtype and shape checks.

    Parameters
    ----------
    array : np.ndarray or None or any
        Positions ``(n_frames, n_atoms, 3)`` or cells ``(n_frames, 3, 3)``, Å, or what a caller passed.

    Returns
    -------
    np.ndarray or the input
        For a float32 array: a read-only, zero-strided float64 view of its shape (no memory
        is allocated); anything else unchanged, so that the parent judges it.
    """
    if isinstance(array, np.ndarray) and array.dtype == np.float32:
        return np.broadcast_to(np.float64(0.0), array.shape)
    return array


class Float32TrajectoryData(orm.TrajectoryData):
    """A ``TrajectoryData`` whose ``positions`` and ``cells`` (Å) may be float32 as well as float64.

    Steps (integers), times (ps, float64) and velocities (float64) are checked as by the parent.
    """

    def _internal_validate(self, stepids, cells, symbols, positions, times, velocities, pbc) -> None:
        """The parent's checks, with float32 positions and cells standing in as float64 arrays of their shape.

        Raises
        ------
        TypeError, ValueError
            The parent's, for anything but float32 or float64 positions and cells, or a wrong shape.
        """
        super()._internal_validate(stepids, float64_stand_in(cells), symbols, float64_stand_in(positions), times,
                                   velocities, pbc)


def trajectory_node(precision: str) -> orm.TrajectoryData:
    """An empty trajectory node that stores arrays of ``precision``.

    Parameters
    ----------
    precision : str
        One of :data:`TRAJECTORY_PRECISIONS` (validated by the caller): ``float64`` gives
        aiida-core's ``TrajectoryData`` (what a run stores by default), ``float32`` a
        :class:`Float32TrajectoryData`.
    """
    return Float32TrajectoryData() if precision == 'float32' else orm.TrajectoryData()
