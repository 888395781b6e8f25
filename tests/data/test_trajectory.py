"""Float32TrajectoryData: float32 positions and cells stored and reloaded as float32; everything
aiida-core's TrajectoryData refuses is refused with its message."""
import numpy as np
import pytest
from aiida import orm
from aiida.common.exceptions import ValidationError

from aiida_boroglass.data.trajectory import Float32TrajectoryData, float64_stand_in, trajectory_node
from aiida_boroglass.functions.utils import frames_of, glass_cells

SYMBOLS = ['Li', 'B', 'O']


def frames(dtype, n_frames=2, shape_positions=None, shape_cells=None):
    """Seeded positions (n_frames, 3 atoms, 3) in [0, 10) Å and cubic 10 Å cells of ``dtype``, or of the given shapes."""
    rng = np.random.default_rng(7)
    positions = (10 * rng.random(shape_positions or (n_frames, len(SYMBOLS), 3))).astype(dtype)
    cells = np.broadcast_to(10 * np.eye(3), shape_cells or (n_frames, 3, 3)).astype(dtype)
    return positions, cells


def refusal(node_class, positions, cells):
    """(type, message) of what ``set_trajectory`` raises on ``node_class``, or None."""
    try:
        node_class().set_trajectory(SYMBOLS, positions, cells=cells, pbc=(True, True, True))
    except (TypeError, ValueError) as exception:
        return type(exception), str(exception)
    return None


def test_float32_arrays_are_stored_and_reloaded_as_float32(aiida_profile):
    positions, cells = frames(np.float32)
    node = Float32TrajectoryData()
    node.set_trajectory(SYMBOLS, positions, stepids=np.array([0, 10]), cells=cells, times=np.array([0.0, 0.01]),
                        pbc=(True, True, True))
    loaded = orm.load_node(node.store().pk)
    assert isinstance(loaded, Float32TrajectoryData)
    assert loaded.get_positions().dtype == np.float32 and loaded.get_cells().dtype == np.float32
    assert np.array_equal(loaded.get_positions(), positions) and np.array_equal(loaded.get_cells(), cells)
    assert loaded.get_stepids().tolist() == [0, 10] and loaded.symbols == SYMBOLS
    # the shared reader hands the kernels float64, equal to the stored values
    read_positions, read_cells, symbols = frames_of(loaded)
    assert read_positions.dtype == read_cells.dtype == glass_cells(loaded).dtype == np.float64
    assert np.array_equal(read_positions, positions) and symbols == SYMBOLS


def test_float64_arrays_are_kept_as_float64(aiida_profile):
    positions, cells = frames(np.float64)
    node = trajectory_node('float64')
    assert type(node) is orm.TrajectoryData  # the default precision stores what it always stored
    node = Float32TrajectoryData()
    node.set_trajectory(SYMBOLS, positions, cells=cells, pbc=(True, True, True))
    assert orm.load_node(node.store().pk).get_positions().dtype == np.float64


@pytest.mark.parametrize('positions, cells', [
    (frames(np.int64)[0], frames(np.float32)[1]),                             # integer positions
    (frames(np.float32)[0], frames(np.int64)[1]),                             # integer cells
    (frames(np.float16)[0], frames(np.float32)[1]),                           # half precision
    (frames(np.float32, shape_positions=(2, 3, 2))[0], frames(np.float32)[1]),  # (s, n, 2) positions
    (frames(np.float32, shape_positions=(2, 4, 3))[0], frames(np.float32)[1]),  # 4 atoms, 3 symbols
    (frames(np.float32)[0], frames(np.float32, shape_cells=(3, 3, 3))[1]),     # 3 cells for 2 frames
    (frames(np.float32)[0].tolist(), frames(np.float32)[1]),                  # a list, not an array
], ids=['int-positions', 'int-cells', 'float16', 'positions-2d', 'atoms', 'cells-frames', 'list'])
def test_refuses_what_the_parent_refuses_with_its_message(aiida_profile, positions, cells):
    """The same input in float64 wherever ours has float32: the parent's own refusal, word for word."""
    ours = refusal(Float32TrajectoryData, positions, cells)
    assert ours is not None
    as_parent = [a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == np.float32 else a
                 for a in (positions, cells)]
    assert ours == refusal(orm.TrajectoryData, *as_parent)


def test_refused_again_when_stored(aiida_profile):
    """An array replaced after set_trajectory is checked at store, as by the parent."""
    positions, cells = frames(np.float32)
    node = Float32TrajectoryData()
    node.set_trajectory(SYMBOLS, positions, cells=cells, pbc=(True, True, True))
    node.set_array('positions', positions.astype(np.int32))
    with pytest.raises(ValidationError, match='positions must be a numpy array of floats'):
        node.store()


def test_stand_in_allocates_nothing_and_leaves_other_input_alone():
    positions = np.zeros((1000, 500, 3), dtype=np.float32)
    stand_in = float64_stand_in(positions)
    assert stand_in.dtype == np.float64 and stand_in.shape == positions.shape and stand_in.strides == (0, 0, 0)
    integers = np.zeros((2, 3, 3), dtype=int)
    assert float64_stand_in(integers) is integers and float64_stand_in(None) is None
