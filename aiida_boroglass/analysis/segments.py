"""Join the segments of a restarted MD run into the whole run (pure numpy, no AiiDA).

A run interrupted in stage ``s`` at step ``R`` of that stage continues from its restart file
at ``(s, R)``; the stages before ``s`` finished in the interrupted segment. The whole run is
then, per segment, every row of the stages before the restart stage, the rows of the
restart stage before step ``R`` (the continuation writes step ``R`` again), and nothing of
later stages; the last segment is kept whole. Steps count inside a stage from 0 (a
continued stage starts its counter at the step where it stopped), so times stay those of an
uninterrupted run.

:func:`kept_before_continuation` does the same from the step counter alone, for engines whose
continuation resumes one counter for the whole run (CP2K's ``EXT_RESTART``).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def kept_rows(steps: np.ndarray, stage: str, stages: Sequence[str], cut_stage: str | None,
              cut_step: int | None) -> np.ndarray:
    """Which rows of one stage of one segment belong to the whole run.

    Parameters
    ----------
    steps : np.ndarray, shape (n_rows,)
        Step counter of each row (thermo line or frame) of ``stage`` in this segment.
    stage : str
        Name of the stage the rows belong to.
    stages : sequence of str
        Names of the stages the segment ran, in order.
    cut_stage, cut_step : str or None, int or None
        The stage and step from which the next segment continues; ``None`` for a segment
        kept whole (the last one).

    Returns
    -------
    np.ndarray of bool, shape (n_rows,)
        True for a row kept.
    """
    steps = np.asarray(steps)
    if cut_stage is None:
        return np.ones(steps.shape, dtype=bool)
    position, cut_position = list(stages).index(stage), list(stages).index(cut_stage)
    if position != cut_position:
        return np.full(steps.shape, position < cut_position)
    return steps < cut_step


def check_increasing(times_ps: np.ndarray, what: str) -> None:
    """Refuse a joined time axis that goes back or repeats.

    Parameters
    ----------
    times_ps : np.ndarray, shape (n_rows,)
        Joined times, ps.
    what : str
        Name of the series, for the message.

    Raises
    ------
    ValueError
        If two consecutive times are not strictly increasing.
    """
    bad = np.flatnonzero(np.diff(times_ps) <= 0)
    if bad.size:
        raise ValueError(f'{what}: joined times go from {times_ps[bad[0]]} ps to {times_ps[bad[0] + 1]} ps '
                         f'at row {bad[0] + 1}; the segments overlap')


def kept_before_continuation(steps: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Which rows of each segment of a restarted run belong to the whole run, by step counter alone.

    For engines whose continuation resumes the step counter (CP2K's ``EXT_RESTART`` with
    ``RESTART_COUNTERS``): a segment's rows at or after the first step of any later segment
    were run again (or superseded) by that later segment and are dropped; the last segment
    is kept whole. Whether the continuation writes its starting step again or not, each
    step appears once.

    Parameters
    ----------
    steps : sequence of np.ndarray, each of shape (n_rows_i,)
        Step counter of the rows (frames or energy lines) of each segment, in run order.

    Returns
    -------
    list of np.ndarray of bool, each of shape (n_rows_i,)
        True for a row kept.
    """
    limit = np.inf
    kept = []
    for segment in reversed([np.asarray(s) for s in steps]):
        kept.append(segment < limit)
        if segment.size:
            limit = min(limit, segment.min())
    return kept[::-1]
