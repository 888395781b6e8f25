"""join_lammps_segments on synthetic segments: a stage cut at step 250 and continued at half the time step."""
import numpy as np
from aiida import orm

from aiida_boroglass.calculations.lammps_inputs import THERMO_COLUMNS
from aiida_boroglass.data.trajectory import Float32TrajectoryData, trajectory_node
from aiida_boroglass.functions.segments import join_lammps_segments


def trajectory(steps, timestep_fs, offset, precision='float64'):
    """Two atoms moving along x by one Å per ps; frames at ``steps`` of a ``timestep_fs`` step."""
    times = np.asarray(steps) * timestep_fs * 1e-3
    positions = np.zeros((len(steps), 2, 3))
    positions[:, :, 0] = times[:, None] + offset
    data = trajectory_node(precision)
    data.set_trajectory(symbols=['Li', 'O'], positions=positions.astype(precision), stepids=np.asarray(steps),
                        cells=np.repeat(np.eye(3)[None] * 10, len(steps), axis=0).astype(precision), times=times)
    data.base.attributes.set('units', {'positions': 'A', 'cells': 'A', 'times': 'ps'})
    data.base.attributes.set('unwrapped', True)
    return data


def thermo(stage_steps: dict, timestep_fs):
    """Thermo arrays of each stage: time from the step, temperature = step (a row marker)."""
    data = orm.ArrayData()
    for name, steps in stage_steps.items():
        steps = np.asarray(steps, dtype=float)
        for column in THERMO_COLUMNS:
            data.set_array(f'{name}_{column}', steps * timestep_fs * 1e-3 if column == 'time' else steps)
    data.base.attributes.set('units', {'time': 'ps'})
    return data


def plan(cut_step=250, second_start=500):
    return orm.Dict({'segments': [
        {'stages': ['relax', 'prod'], 'cut_stage': 'prod', 'cut_step': cut_step, 'dump_stage': 'prod', 'timestep_fs': 1.0},
        {'stages': ['prod'], 'cut_stage': None, 'cut_step': None, 'dump_stage': 'prod', 'timestep_fs': 0.5},
    ]})


def test_joined_run_is_continuous_and_holds_no_frame_twice():
    first = trajectory([0, 100, 200, 300], 1.0, 0.0)  # frame 300 lies after the restart point: run again
    second = trajectory([600, 800, 1000], 0.5, 0.0)  # counter doubled with the halved step, from 500
    result, node = join_lammps_segments.run_get_node(
        plan=plan(), thermo_0=thermo({'relax': [0], 'prod': [0, 100, 200, 300]}, 1.0),
        thermo_1=thermo({'prod': [500, 600, 800, 1000]}, 0.5), trajectory_0=first, trajectory_1=second)
    assert node.is_finished_ok, node.exit_message
    joined = result['trajectory']
    assert np.allclose(joined.get_times(), [0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert joined.get_stepids().tolist() == [0, 200, 400, 600, 800, 1000]  # in the smallest step, 0.5 fs
    assert np.allclose(joined.get_positions()[:, 0, 0], joined.get_times())
    assert joined.base.attributes.get('unwrapped') is True
    joined_thermo = result['thermo']
    assert joined_thermo.get_array('prod_temp').tolist() == [0, 100, 200, 500, 600, 800, 1000]
    assert np.allclose(joined_thermo.get_array('prod_time'), [0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5])
    assert joined_thermo.get_array('relax_step').tolist() == [0]
    assert joined_thermo.base.attributes.get('segments') == 2
    assert joined_thermo.base.attributes.get('timesteps_fs') == [1.0, 0.5]


def test_float32_segments_join_into_a_float32_trajectory():
    """A restarted float32 run (``trajectory_precision: float32``) keeps its class and precision when joined."""
    first = trajectory([0, 100, 200, 300], 1.0, 0.0, 'float32')
    second = trajectory([600, 800, 1000], 0.5, 0.0, 'float32')
    result, node = join_lammps_segments.run_get_node(
        plan=plan(), thermo_0=thermo({'relax': [0], 'prod': [0, 100, 200, 300]}, 1.0),
        thermo_1=thermo({'prod': [500, 600, 800, 1000]}, 0.5), trajectory_0=first, trajectory_1=second)
    assert node.is_finished_ok, node.exit_message
    joined = result['trajectory']
    assert isinstance(joined, Float32TrajectoryData)
    assert joined.get_positions().dtype == np.float32 and joined.get_cells().dtype == np.float32
    assert np.array_equal(joined.get_positions()[:, 0, 0], np.float32([0.0, 0.1, 0.2, 0.3, 0.4, 0.5]))


def test_overlapping_segments_end_in_an_exit_code():
    """A cut later than where the next segment starts would repeat time: refused with a reason, not excepted."""
    _, node = join_lammps_segments.run_get_node(
        plan=plan(cut_step=350), thermo_0=thermo({'prod': [0, 100, 200, 300]}, 1.0),
        thermo_1=thermo({'prod': [500, 600]}, 0.5), trajectory_0=trajectory([0, 100, 200, 300], 1.0, 0.0),
        trajectory_1=trajectory([600], 0.5, 0.0))
    assert node.is_failed and 'overlap' in node.exit_message
