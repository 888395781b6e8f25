"""BoroglassCp2kCalculation: a dry run lists the trajectory dumps and the energy file for temporary retrieval.

The real CP2K MD that leaves them out of ``retrieved`` is in tests/workflows/ab_initio/test_cp2k_base.py.
"""
from pathlib import Path

from aiida import orm
from aiida.engine import run_get_node
from aiida.plugins import CalculationFactory

from aiida_boroglass.calculations import cp2k_inputs as ci
from aiida_boroglass.calculations.cp2k import BoroglassCp2kCalculation

TEMPORARY = ['aiida-pos-1.xyz', 'aiida-frc-1.xyz', 'aiida-1.cell', 'aiida-pos-1.dcd', 'aiida-1.ener']
DFT = {'basis_set': 'SZV-MOLOPT-SR-GTH', 'cutoff_ry': 200, 'rel_cutoff_ry': 30, 'eps_scf': 1.0e-5, 'max_scf': 30,
       'max_outer_scf': 5, 'scf_method': 'ot', 'ot_minimizer': 'DIIS', 'preconditioner': 'FULL_SINGLE_INVERSE',
       'mixing_alpha': 0.4, 'kpoints': None}
MD = {'timestep_fs': 1.0, 'nose_length': 3, 'thermostat_timecon_fs': 50.0, 'print_every': 1}
ELEMENTS = ['K'] * 4 + ['B'] * 6 + ['O'] * 11


def test_entry_point_and_default_parser():
    assert CalculationFactory('boroglass.cp2k') is BoroglassCp2kCalculation
    assert BoroglassCp2kCalculation.spec().inputs['metadata']['options']['parser_name'].default == 'boroglass.cp2k'


def test_dry_run_retrieves_the_trajectory_and_energies_temporarily(cp2k_code, k_borate_21, tmp_path, monkeypatch):
    """Stdout and restart file are kept; dumps and energies (also one asked for in the settings) are temporary."""
    monkeypatch.chdir(tmp_path)  # a dry run writes its folder under submit_test/ of the working directory
    builder = BoroglassCp2kCalculation.get_builder()
    builder.code = cp2k_code
    builder.structure = k_borate_21
    builder.parameters = orm.Dict(ci.md_parameters(ELEMENTS, DFT, 1000.0, 3, MD))
    builder.settings = orm.Dict({'additional_retrieve_list': ['aiida-1.xyz', ci.ENERGY_FILE]})
    builder.metadata.options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}}
    builder.metadata.dry_run = True
    builder.metadata.store_provenance = False
    node = run_get_node(builder).node
    kept = node.get_retrieve_list()  # with the scheduler's stdout and stderr
    assert {'aiida.out', 'aiida-1.restart', 'aiida-1.xyz'} <= set(kept) and set(kept).isdisjoint(TEMPORARY)
    assert sorted(node.get_retrieve_temporary_list()) == sorted(TEMPORARY)
    assert node.get_option('parser_name') == 'boroglass.cp2k'
    written = {path.name for path in Path(node.dry_run_info['folder']).iterdir()}
    assert {'aiida.inp', 'aiida.coords.xyz'} <= written  # benchmarks/aimd_overhead.py copies them
