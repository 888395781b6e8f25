"""DeePMD molecular dynamics in boroglass.lammps with the real LAMMPS plugin and the real ``dp``.

The two tiny models of the ``deepmd_models`` fixture drive the 21-atom K borate glass; the
model deviation that LAMMPS writes is compared with the one ``dp --tf model-devi`` computes on
the dumped frames, and a run cut by LAMMPS' timer returns the rows of every step once.
"""
import os
import subprocess

import dpdata
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_boroglass.calculations.lammps import BoroglassLammpsCalculation
from aiida_boroglass.functions.utils import site_symbols
from aiida_boroglass.workflows.lammps_base import LammpsBaseWorkChain

DEVIATION_EVERY = 10
#: LAMMPS' timer in the restart test, s
TIMER_S = 4
HOT = {'name': 'hot', 'type': 'nvt', 'steps': 60, 'temperature_k': 900.0, 'dump_every': DEVIATION_EVERY}
OPTIONS = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, 'withmpi': False,
           'environment_variables': {'OMP_NUM_THREADS': '1', 'TF_CPP_MIN_LOG_LEVEL': '3'}}


def ensemble_inputs(deepmd_models):
    """The ``models`` and ``deepmd`` inputs of the fixture's two models."""
    paths, type_map = deepmd_models
    models = {f'model_{index}': orm.SinglefileData(path) for index, path in enumerate(paths)}
    return models, orm.Dict({'type_map': type_map, 'model_deviation_every': DEVIATION_EVERY})


@pytest.fixture(scope='module')
def deepmd_run(lammps_code, k_borate_21, deepmd_models):
    """A short minimisation, then 60 NVT steps at 900 K, frames and model deviation every 10 steps."""
    builder = BoroglassLammpsCalculation.get_builder()
    builder.code = lammps_code
    builder.structure = k_borate_21
    builder.models, builder.deepmd = ensemble_inputs(deepmd_models)
    builder.parameters = orm.Dict({'stages': [{'name': 'relax', 'type': 'minimize', 'maxiter': 20}, HOT],
                                   'thermo_every': DEVIATION_EVERY})
    builder.metadata.options = OPTIONS
    return run_get_node(builder).node


def dp_model_devi(paths, type_map, trajectory, folder):
    """``dp --tf model-devi`` of the models on the frames of ``trajectory``: its output table (n_frames, 7)."""
    symbols = list(trajectory.symbols)
    types = np.array([type_map.index(symbol) for symbol in symbols])
    system = dpdata.System(data={
        'atom_names': list(type_map), 'atom_numbs': [int(np.sum(types == k)) for k in range(len(type_map))],
        'atom_types': types, 'orig': np.zeros(3), 'cells': trajectory.get_cells(), 'coords': trajectory.get_positions(),
    })
    system.to('deepmd/npy', str(folder / 'frames'))
    subprocess.run(['dp', '--tf', 'model-devi', '-m', *map(str, paths), '-s', 'frames', '-o', 'model_devi.out',
                    '-f', str(DEVIATION_EVERY)], cwd=folder, check=True, capture_output=True,
                   env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3'})
    return np.loadtxt(folder / 'model_devi.out', ndmin=2)


@pytest.mark.lammps
def test_lammps_model_deviation_is_that_of_dp_on_the_same_frames(deepmd_run, deepmd_models, tmp_path):
    """Every dumped frame of the NVT stage has one row, whose force deviation dp model-devi reproduces."""
    assert deepmd_run.is_finished_ok, deepmd_run.exit_message
    deviation = deepmd_run.outputs.model_deviation
    names = deviation.base.attributes.get('stage_names')
    hot = deviation.get_array('stage_index') == names.index('hot')
    steps = deviation.get_array('steps')[hot]
    assert steps.tolist() == list(range(0, 61, DEVIATION_EVERY))
    assert np.allclose(deviation.get_array('time_ps')[hot], steps * 1e-3)
    assert not np.any(deviation.get_array('stage_index') == names.index('relax'))  # the minimisation runs on m0 alone
    trajectory = deepmd_run.outputs.trajectory
    assert trajectory.get_stepids().tolist() == steps.tolist()
    reference = dp_model_devi(*deepmd_models, trajectory, tmp_path)
    assert reference[:, 0].tolist() == steps.tolist()
    # dp's columns: step, max/min/avg_devi_v, max/min/avg_devi_f
    for column, name in enumerate(('max_devi_v', 'min_devi_v', 'avg_devi_v', 'max_devi_f', 'min_devi_f', 'avg_devi_f'), 1):
        assert deviation.get_array(name)[hot] == pytest.approx(reference[:, column], abs=1e-4), name
    assert deviation.get_array('max_devi_f')[hot].min() > 1e-3  # the models differ: the test compares something


@pytest.mark.lammps
def test_deepmd_run_is_a_glass_run(deepmd_run, k_borate_21):
    """Thermo, final structure and frames as with the force field; energies of the models' scale."""
    thermo = deepmd_run.outputs.thermo
    assert thermo.get_array('hot_step')[-1] == 60
    assert np.all(np.isfinite(thermo.get_array('hot_pe')))
    assert site_symbols(deepmd_run.outputs.structure) == site_symbols(k_borate_21)
    assert deepmd_run.outputs.trajectory.get_positions().shape == (7, 21, 3)


@pytest.mark.lammps
def test_a_run_cut_by_the_timer_returns_every_deviation_row_once(lammps_code, k_borate_21, deepmd_models, deepmd_run):
    """LAMMPS' timer stops each CalcJob after 4 s; the workflow continues from the restart files, and its
    model deviation holds the rows of steps 0, 10, 20, ... once each, on the time axis of the joined
    trajectory. The stage is five timer periods long at the speed ``deepmd_run`` measured, so that it is
    cut at least once; the speed varies tenfold with the load of a shared machine, and each segment costs
    a job's start-up on top of its 4 s, so a longer stage only adds segments (ten periods: 646 s once).
    """
    rate = deepmd_run.outputs.results['atom_steps_per_s'][-1] / len(k_borate_21.sites)  # steps/s of the NVT stage
    steps = int(np.clip(5 * TIMER_S * rate // DEVIATION_EVERY * DEVIATION_EVERY, 100, 6000))
    builder = LammpsBaseWorkChain.get_builder()
    builder.max_iterations = 60  # the stage is sized from a speed measured earlier; a loaded machine runs it slower
    builder.lammps.code = lammps_code
    builder.lammps.structure = k_borate_21
    builder.lammps.models, builder.lammps.deepmd = ensemble_inputs(deepmd_models)
    builder.lammps.parameters = orm.Dict({'stages': [{**HOT, 'steps': steps}], 'thermo_every': DEVIATION_EVERY,
                                          'timeout_s': TIMER_S})
    builder.lammps.metadata.options = OPTIONS
    node = run_get_node(builder).node
    assert node.is_finished_ok, node.exit_message
    segments = sorted((n for n in node.called if isinstance(n, orm.CalcJobNode)), key=lambda n: n.ctime)
    assert len(segments) >= 2 and segments[0].exit_status == 400
    deviation = node.outputs.model_deviation
    assert deviation.get_array('steps').tolist() == list(range(0, steps + 1, DEVIATION_EVERY))
    assert deviation.base.attributes.get('stage_names') == ['hot']
    assert len(segments[-1].outputs.model_deviation.get_array('steps')) < steps // DEVIATION_EVERY + 1  # not the run
    assert np.allclose(deviation.get_array('time_ps'), node.outputs.trajectory.get_times())
    # the rows come from the segments as LAMMPS wrote them: each row is the one of the segment that ran its step
    first = segments[0].outputs.model_deviation
    cut = segments[1].inputs.parameters['stages'][0]['start_step']
    kept = first.get_array('steps') < cut
    assert np.array_equal(deviation.get_array('max_devi_f')[:kept.sum()], first.get_array('max_devi_f')[kept])
