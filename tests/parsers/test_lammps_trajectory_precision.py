"""``trajectory_precision`` of the boroglass.lammps parser on the real run of fixtures/lammps_ok
(119 atoms, 5 frames): float32 frames equal the float64 parse to float32 rounding, and the
analyses of both agree; a bad value is refused in one line before anything runs."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from aiida import orm

from aiida_boroglass.calculations.lammps_inputs import validate_parameters
from aiida_boroglass.data.trajectory import Float32TrajectoryData
from aiida_boroglass.functions.analysis import boron_coordination
from aiida_boroglass.functions.transport import diffusion_at_temperature
from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain, validate_md_parameters

_SPEC = importlib.util.spec_from_file_location('lammps_exit_codes', Path(__file__).parent / 'test_lammps_exit_codes.py')
exit_codes = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(exit_codes)  # its fixture builders: a finished node of a fixture run, the parser as the engine runs it

#: relative rounding of a float32 (round to nearest: half its 2**-23 spacing)
FLOAT32_ROUNDING = 2.0**-24


@pytest.fixture(scope='module')
def trajectories(lammps_code, tmp_path_factory):
    """The production trajectory of fixtures/lammps_ok parsed in each precision."""
    parameters = exit_codes.fixture_inputs('ok')['parameters'].get_dict()
    parsed = {}
    for precision in ('float64', 'float32'):
        node, temporary = exit_codes.finished_lammps(lammps_code, 'ok', tmp_path_factory.mktemp(precision),
                                                     parameters={**parameters, 'trajectory_precision': precision})
        results, status, message = exit_codes.parse(node, temporary)
        assert status == 0, message
        parsed[precision] = results['trajectory']
    return parsed


def test_float32_frames_are_the_float64_frames_rounded(trajectories):
    double, single = trajectories['float64'], trajectories['float32']
    assert type(double) is orm.TrajectoryData and isinstance(single, Float32TrajectoryData)
    assert single.get_positions().dtype == single.get_cells().dtype == np.float32
    positions = double.get_positions()
    assert positions.dtype == np.float64 and np.abs(positions).max() < 100.0
    difference = np.abs(single.get_positions() - positions)
    assert (difference <= np.abs(positions) * FLOAT32_ROUNDING).all()  # each coordinate rounded once, to nearest
    assert difference.max() <= 1e-4
    assert np.abs(single.get_cells() - double.get_cells()).max() <= np.abs(double.get_cells()).max() * FLOAT32_ROUNDING
    assert single.symbols == double.symbols and single.pbc == double.pbc
    assert single.get_stepids().tolist() == double.get_stepids().tolist() == [0, 50, 100, 150, 200]
    assert single.get_times().dtype == np.float64 and np.array_equal(single.get_times(), double.get_times())
    for key in ('units', 'unwrapped'):
        assert single.base.attributes.get(key) == double.base.attributes.get(key)


def test_analyses_of_both_precisions_agree(trajectories):
    """N4 is the same (a B-O distance would have to lie within 1e-5 Å of the cutoff to change it); the Li MSD
    differs by at most its rounding bound: |d(|u|^2)| <= 2 |u| 2e + (2e)^2 for displacements u and a
    position error of at most e = sqrt(3) max|x| 2**-24 per atom."""
    double, single = trajectories['float64'], trajectories['float32']
    cutoff = orm.Float(2.0)
    assert boron_coordination(single, cutoff).get_dict() == boron_coordination(double, cutoff).get_dict()

    parameters = orm.Dict({'species': ['Li']})
    msd = {key: diffusion_at_temperature(orm.Float(1500.0), parameters, run=node)['msd'].get_array('msd_a2_Li')
           for key, node in trajectories.items()}
    positions = double.get_positions()
    largest_displacement = np.linalg.norm(positions - positions[0], axis=-1).max()
    error = np.sqrt(3) * np.abs(positions).max() * FLOAT32_ROUNDING
    assert msd['float64'][-1] > 0.1  # the ions moved: the comparison is not of zeros
    assert np.abs(msd['float32'] - msd['float64']).max() <= 4 * error * largest_displacement + 4 * error**2


@pytest.mark.parametrize('value', ['float16', 'double', 32, None])
def test_bad_precision_is_refused_in_one_line(value):
    stages = [{'name': 'prod', 'type': 'nvt', 'steps': 10, 'temperature_k': 300.0, 'dump_every': 5}]
    for message in (validate_parameters({'stages': stages, 'trajectory_precision': value}),
                    validate_md_parameters(orm.Dict({'trajectory_precision': value}), None)):
        assert message is not None and '\n' not in message
        assert 'trajectory_precision' in message and "['float64', 'float32']" in message and repr(value) in message


def test_melt_quench_takes_the_precision_from_its_md_overrides():
    """The ``md`` section of the protocol carries it (beside the run's other LAMMPS settings) and its validator accepts it."""
    md = MeltQuenchWorkChain.get_protocol_inputs('fast', {'md': {'trajectory_precision': 'float32'}})['md']
    assert md['trajectory_precision'] == 'float32'
    assert validate_md_parameters(orm.Dict(md), None) is None
    assert 'trajectory_precision' not in MeltQuenchWorkChain.get_protocol_inputs('fast')['md']  # default: float64
