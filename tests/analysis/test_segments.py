"""Which rows of a restarted run's segments make the whole run."""
import numpy as np
import pytest

from aiida_boroglass.analysis.segments import check_increasing, kept_rows

STAGES = ['melt', 'quench', 'prod']


def test_last_segment_is_kept_whole():
    assert kept_rows(np.array([0, 10, 20]), 'prod', STAGES, None, None).all()


def test_stages_before_the_cut_are_kept_and_later_ones_dropped():
    steps = np.array([0, 100, 200])
    assert kept_rows(steps, 'melt', STAGES, 'quench', 150).all()
    assert not kept_rows(steps, 'prod', STAGES, 'quench', 150).any()


def test_cut_stage_keeps_rows_before_the_restart_step_only():
    """The continuation writes the restart step again: the interrupted segment keeps the rows before it."""
    steps = np.array([0, 50, 100, 150, 200])
    assert kept_rows(steps, 'quench', STAGES, 'quench', 150).tolist() == [True, True, True, False, False]


def test_no_restart_file_keeps_nothing_of_the_segment():
    """A segment that wrote no restart file is run again from the same start (its start step)."""
    assert not kept_rows(np.array([0, 50]), 'melt', STAGES, 'melt', 0).any()


def test_overlapping_times_are_refused():
    check_increasing(np.array([0.0, 0.1, 0.2]), 'x')
    with pytest.raises(ValueError, match='overlap'):
        check_increasing(np.array([0.0, 0.2, 0.2]), 'trajectory')
