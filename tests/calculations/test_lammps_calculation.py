"""Inputs of the boroglass.lammps CalcJob are checked before anything is stored or submitted."""
import io

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_boroglass.calculations.lammps import BoroglassLammpsCalculation
from aiida_boroglass.glass.forcefields import build_forcefield

STAGES = [{'name': 'hold', 'type': 'nvt', 'steps': 10, 'temperature_k': 300.0}]


def structure_of(*symbols):
    """Atoms 2 Å apart along a 20 Å cube diagonal."""
    structure = orm.StructureData(cell=[[20.0, 0, 0], [0, 20.0, 0], [0, 0, 20.0]])
    for index, symbol in enumerate(symbols):
        structure.append_atom(position=(2.0 * index, 2.0 * index, 2.0 * index), symbols=symbol)
    return structure


def builder_for(code, structure, forcefield, stages=STAGES):
    builder = BoroglassLammpsCalculation.get_builder()
    builder.code = code
    builder.structure = structure
    builder.forcefield = orm.Dict(forcefield)
    builder.parameters = orm.Dict({'stages': stages})
    builder.metadata.options.resources = {'num_machines': 1, 'num_mpiprocs_per_machine': 1}
    return builder


DENG_DU_LI2O = build_forcefield('deng_du', {'Li': 2, 'O': 1})


@pytest.mark.parametrize('symbols, stages, message', [
    (('Li', 'O'), STAGES, 'total charge'),  # 0.6 - 1.2 e
    (('Li', 'Li', 'P'), STAGES, r"no parameters for elements \['P'\]"),
    (('Li', 'Li', 'O'), [], 'parameters.stages'),
    (('Li', 'Li', 'O'), [{**STAGES[0], 'type': 'nph'}], r'stages\[0\]: type'),
])
def test_bad_inputs_are_refused_naming_the_field(lammps_code, symbols, stages, message):
    before = orm.QueryBuilder().append(orm.CalcJobNode).count()
    with pytest.raises(ValueError, match=message):
        run_get_node(builder_for(lammps_code, structure_of(*symbols), DENG_DU_LI2O, stages))
    assert orm.QueryBuilder().append(orm.CalcJobNode).count() == before


def test_a_user_script_is_refused(lammps_code):
    builder = builder_for(lammps_code, structure_of('Li', 'Li', 'O'), DENG_DU_LI2O)
    builder.script = orm.SinglefileData(io.BytesIO(b'run 0\n'))
    with pytest.raises(ValueError, match='script: not accepted'):
        run_get_node(builder)


def test_frames_are_stored_once_as_the_trajectory_node(lammps_code):
    """The dumps are parsed from the temporary folder: the repository keeps the frames only in the TrajectoryData."""
    stages = [{**STAGES[0], 'steps': 40, 'dump_every': 10}]
    node = run_get_node(builder_for(lammps_code, structure_of('Li', 'O', 'Li'), DENG_DU_LI2O, stages)).node
    assert node.is_finished_ok, node.exit_message
    assert not [name for name in node.outputs.retrieved.base.repository.list_object_names() if name.endswith('.dump')]
    positions = node.outputs.trajectory.get_array('positions')
    assert positions.shape == (5, 3, 3)
    final = np.array([site.position for site in node.outputs.structure.sites])
    assert np.allclose(positions[-1] % 20.0, final % 20.0, atol=1e-4)


def test_a_neutral_cluster_runs_and_reports_its_stage(lammps_code):
    """Li-O-Li with Deng-Du charges passes validation and runs its 10-step stage in real LAMMPS."""
    builder = builder_for(lammps_code, structure_of('Li', 'O', 'Li'), DENG_DU_LI2O)
    node = run_get_node(builder).node
    assert node.is_finished_ok, node.exit_message
    assert node.outputs.results['stage_steps_done'] == [10]
    assert node.outputs.thermo.get_array('hold_step')[-1] == 10
    assert len(node.outputs.structure.sites) == 3


@pytest.mark.parametrize(('walltime_s', 'margin_s'), [(600, 60.0), (1200, 60.0), (3600, 180.0), (86400, 4320.0)])
def test_timeout_margin_is_a_wall_time_fraction_with_a_floor(walltime_s, margin_s):
    from aiida_boroglass.calculations.lammps import timeout_margin_s

    assert timeout_margin_s(walltime_s) == pytest.approx(margin_s)


@pytest.mark.parametrize(('seconds_per_step', 'every'), [
    (None, 1),  # not measured yet: check every step
    (0.001, 100),  # 1 ms steps: 6000 fit in a tenth of 60 s, capped at 100
    (0.5, 12),  # 6 s / 0.5 s
    (30.0, 1),  # a step longer than a tenth of the margin: every step
])
def test_timer_check_interval_from_the_measured_step_time(seconds_per_step, every):
    from aiida_boroglass.calculations.lammps import timeout_check_every

    assert timeout_check_every(60.0, seconds_per_step) == every
