"""PackmolParser on real packmol outputs (fixtures/packmol_*), and the melt-quench's retry decision on them."""
from pathlib import Path

import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType
from aiida.plugins import ParserFactory

from aiida_boroglass.calculations.packmol import PackmolCalculation
from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.workflows.melt_quench import PACKING_RETRIES, next_packing

FIXTURES = Path(__file__).parent / 'fixtures'


def finished_packmol(code, case: str, tolerance_a: float) -> orm.CalcJobNode:
    """A stored PackmolCalculation node with the inputs of the fixture ``case`` and its files as ``retrieved``.

    Every fixture was made for 30Li2O-70B2O3, n_atoms = 30, 2.2 g/cm^3, seed 12345 (see its README).
    """
    node = orm.CalcJobNode(computer=code.computer, process_type='aiida.calculations:boroglass.packmol')
    node.set_option('resources', {'num_machines': 1, 'num_mpiprocs_per_machine': 1})
    inputs = {'code': code, 'composition': CompositionData('Li2O-B2O3', x=0.3), 'n_atoms': orm.Int(30),
              'density_g_cm3': orm.Float(2.2), 'tolerance_a': orm.Float(tolerance_a), 'seed': orm.Int(12345)}
    for label, value in inputs.items():
        node.base.links.add_incoming(value.store(), link_type=LinkType.INPUT_CALC, link_label=label)
    node.store()
    retrieved = orm.FolderData()
    retrieved.base.repository.put_object_from_tree(str(FIXTURES / case))
    retrieved.base.links.add_incoming(node, link_type=LinkType.CREATE, link_label='retrieved')
    retrieved.store()
    return node


def parse(node):
    """Run the boroglass.packmol parser on a finished node: (outputs, the parse calcfunction node)."""
    return ParserFactory('boroglass.packmol').parse_from_node(node, store_provenance=False)


def test_success_gives_the_packed_periodic_structure(packmol_code):
    results, parse_node = parse(finished_packmol(packmol_code, 'packmol_success', 1.7))
    assert parse_node.is_finished_ok, parse_node.exit_message
    structure = results['structure']
    symbols = structure.get_site_kindnames()
    assert {el: symbols.count(el) for el in set(symbols)} == {'Li': 4, 'B': 10, 'O': 17}
    assert np.allclose(structure.cell, np.eye(3) * 6.752115, atol=1e-5)
    assert results['results']['packmol_version'] == '21.2.3'


def test_packing_that_ends_without_perfect_packing_is_the_recoverable_410(packmol_code):
    """packmol gave up (best point written, STOP 173): exit 410 with packmol's best function value."""
    _, parse_node = parse(finished_packmol(packmol_code, 'packmol_not_packed', 3.0))
    failed = PackmolCalculation.exit_codes.ERROR_PACKING_FAILED
    assert parse_node.exit_status == failed.status == 410
    assert 'best function value 0.4931318E+04' in parse_node.exit_message


def test_melt_quench_retries_the_failed_packing_with_the_next_seed_and_a_smaller_tolerance(packmol_code):
    """parser -> decision: the real failed packing is retried twice, then the melt-quench stops (401)."""
    node = finished_packmol(packmol_code, 'packmol_not_packed', 3.0)
    _, parse_node = parse(node)
    status = parse_node.exit_status
    first = next_packing(status, node.inputs.tolerance_a.value, node.inputs.seed.value, retries_done=0)
    assert first == {'seed': 12346, 'tolerance_a': pytest.approx(2.7)}
    second = next_packing(status, first['tolerance_a'], first['seed'], retries_done=1)
    assert second == {'seed': 12347, 'tolerance_a': pytest.approx(2.43)}
    assert next_packing(status, second['tolerance_a'], second['seed'], retries_done=PACKING_RETRIES) is None
    # the tolerance never goes below the lowest accepted one (0.5 Å): then only the seed changes
    assert next_packing(status, 0.52, 7, retries_done=0) == {'seed': 8, 'tolerance_a': 0.5}


def test_missing_output_is_not_retried(packmol_code, tmp_path):
    """A packmol that wrote nothing (exit 301) is not a packing problem: no retry."""
    (tmp_path / 'empty').mkdir()
    _, parse_node = parse(finished_packmol(packmol_code, tmp_path / 'empty', 1.7))
    assert parse_node.exit_status == PackmolCalculation.exit_codes.ERROR_OUTPUT_MISSING.status
    assert next_packing(parse_node.exit_status, 1.7, 1, retries_done=0) is None


def test_packmol_that_stops_on_its_input_is_302(packmol_code, tmp_path):
    """Real packmol output for an input it refuses (an xyz file that does not exist): 302, its ERROR in the message."""
    import subprocess

    folder = tmp_path / 'bad_input'
    folder.mkdir()
    (folder / 'packmol.inp').write_text('tolerance 2.0\nfiletype xyz\noutput packed.xyz\n'
                                        'structure Xx.xyz\n  number 3\n  inside cube 0. 0. 0. 10.\nend structure\n')
    with (folder / 'packmol.inp').open() as stdin, (folder / 'packmol.out').open('w') as stdout:
        subprocess.run([packmol_code.filepath_executable], stdin=stdin, stdout=stdout, cwd=folder, timeout=60, check=False)
    (folder / 'packmol.inp').unlink()
    _, parse_node = parse(finished_packmol(packmol_code, folder, 2.0))
    assert parse_node.exit_status == PackmolCalculation.exit_codes.ERROR_PACKMOL_STOPPED.status == 302
    assert 'ERROR: Could not open file. | Could not find file: Xx.xyz' in parse_node.exit_message
