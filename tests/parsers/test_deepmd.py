"""The DeePMD-kit parsers on real outputs (fixtures/deepmd_*, see README_deepmd.md)."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType
from aiida.plugins import ParserFactory

from aiida_boroglass.parsers.parse_raw.deepmd import parse_lcurve, parse_test_detail, rmse

FIXTURES = Path(__file__).parent / 'fixtures'
TRAIN = FIXTURES / 'deepmd_train'


def printed_rmse(log: str, quantity: str) -> float:
    """An RMSE as ``dp test`` prints it, e.g. ``Force  RMSE        : 1.005007e+00 eV/Å``."""
    return float(re.search(rf'{quantity}\s*:\s*(\S+)', log).group(1))


def test_learning_curve_columns_and_schedule():
    curve = parse_lcurve((TRAIN / 'lcurve.out').read_text())
    settings = json.loads((TRAIN / 'input.json').read_text())
    steps, every = settings['training']['numb_steps'], settings['training']['disp_freq']
    np.testing.assert_array_equal(curve['step'], np.arange(0, steps + 1, every))
    assert curve['lr'][0] == pytest.approx(settings['learning_rate']['start_lr'], rel=1e-2)
    assert curve['lr'][-1] == pytest.approx(settings['learning_rate']['stop_lr'], rel=5e-2)
    assert {'rmse_e_val', 'rmse_e_trn', 'rmse_f_val', 'rmse_f_trn'} <= set(curve)
    assert curve['rmse_f_trn'][-1] < curve['rmse_f_trn'][0]


def test_rmse_of_the_detail_files_is_what_dp_test_prints():
    log = (TRAIN / 'test.log').read_text()
    energy_reference, energy_model = parse_test_detail((TRAIN / 'test.e_peratom.out').read_text(), 1)
    force_reference, force_model = parse_test_detail((TRAIN / 'test.f.out').read_text(), 3)
    assert energy_reference.shape == (8, 1) and force_reference.shape == (8 * 21, 3)
    assert rmse(force_reference, force_model) == pytest.approx(printed_rmse(log, 'Force  RMSE'), rel=1e-5)
    assert rmse(energy_reference, energy_model) == pytest.approx(printed_rmse(log, 'Energy RMSE/Natoms'), rel=1e-5)


def test_a_detail_file_of_other_width_is_refused():
    with pytest.raises(ValueError, match='6 columns, expected 2'):
        parse_test_detail((TRAIN / 'test.f.out').read_text(), 1)


def test_killed_training_is_exit_300_quoting_its_log(aiida_profile, local_codes):
    """``dp train`` killed before its first learning-curve row: ERROR_TRAINING_FAILED with the log's last lines."""
    code = orm.load_code(f'dp@{local_codes.label}')
    node = orm.CalcJobNode(computer=code.computer, process_type='aiida.calculations:boroglass.deepmd_train')
    node.set_option('resources', {'num_machines': 1, 'num_mpiprocs_per_machine': 1})
    node.base.links.add_incoming(code, link_type=LinkType.INPUT_CALC, link_label='code')
    node.store()
    retrieved = orm.FolderData()
    retrieved.base.repository.put_object_from_file(str(FIXTURES / 'deepmd_killed' / 'train.log'), 'train.log')
    retrieved.base.links.add_incoming(node, link_type=LinkType.CREATE, link_label='retrieved')
    retrieved.store()
    results, calcfunction = ParserFactory('boroglass.deepmd_train').parse_from_node(node, store_provenance=False)
    assert calcfunction.exit_status == 300
    assert 'dp train wrote no learning curve' in calcfunction.exit_message
    assert 'built network' in calcfunction.exit_message
    assert not results
