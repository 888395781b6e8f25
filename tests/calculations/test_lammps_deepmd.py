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
