"""Identical inputs and seeds give bit-identical glasses; another replica's seeds give another glass.

Real packmol and LAMMPS on the settings a melt-quench runs with by default: one MPI rank, one
OpenMP thread, the ``-sf omp`` styles. Runs with other ranks, threads or styles, and restarts
inside a phase, are measured in docs/melt_quench.md ("Reproducibility"); their difference
from this run grows chaotically to the size of the glass, so it is not asserted here.
"""
import numpy as np
import pytest
from aiida.engine import run_get_node

from aiida_boroglass.calculations.lammps_inputs import DEFAULT_PARAMETERS
from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.glass.replicas import replica_seed
from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain
from aiida_boroglass.workflows.screening import replica_inputs

#: Every stage of every phase, 1 ps in all, 88 atoms: seconds of LAMMPS per glass.
SHORTEST = {
    'n_atoms': 88,
    'schedule': {'push_off_ps': 0.1, 'melt_ps': 0.3, 'cooling_rate_k_ps': 13500.0, 'relax_nvt_ps': 0.1,
                 'relax_npt_ps': 0.1, 'production_ps': 0.2, 'dump_every_ps': 0.1},
    'md': {'restart_every': 100},
}


@pytest.fixture(scope='module')
def glasses(lammps_code, packmol_code):
    """Two melt-quenches of identical inputs, and replica 1 of the same inputs (``screen --replicas``)."""
    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        lammps_code, CompositionData('Li2O-B2O3', x=0.3), protocol='fast', overrides=SHORTEST)
    first = run_get_node(builder).node
    second = run_get_node(builder).node
    replica = run_get_node(MeltQuenchWorkChain, **replica_inputs(builder._inputs(prune=True), 1)).node
    for node in (first, second, replica):
        assert node.is_finished_ok, node.exit_message
    return first, second, replica


def calc_of(node):
    """The (only) LAMMPS CalcJob of a melt-quench: every phase in one job."""
    (calc,) = node.base.links.get_outgoing(link_label_filter='md').one().node.called
    return calc


def test_identical_inputs_give_bit_identical_glasses(glasses):
    """Packing, the thermo of every stage, the restart file, the frames and the final glass agree to the last bit."""
    first, second, _ = glasses
    np.testing.assert_array_equal(first.outputs.initial_structure.get_ase().positions,
                                  second.outputs.initial_structure.get_ase().positions)
    thermo_a, thermo_b = first.outputs.thermo, second.outputs.thermo
    assert thermo_a.get_arraynames() == thermo_b.get_arraynames()
    for name in thermo_a.get_arraynames():
        np.testing.assert_array_equal(thermo_a.get_array(name), thermo_b.get_array(name), err_msg=name)
    # the binary restart holds every position, velocity and thermostat variable at full precision
    assert (calc_of(first).outputs.restart_file.get_content(mode='rb')
            == calc_of(second).outputs.restart_file.get_content(mode='rb'))
    glass_a, glass_b = first.outputs.structure.get_ase(), second.outputs.structure.get_ase()
    np.testing.assert_array_equal(glass_a.positions, glass_b.positions)
    np.testing.assert_array_equal(glass_a.cell.array, glass_b.cell.array)
    assert glass_a.get_chemical_symbols() == glass_b.get_chemical_symbols()
    np.testing.assert_array_equal(first.outputs.trajectory.get_positions(), second.outputs.trajectory.get_positions())
    assert first.outputs.density_g_cm3.value == second.outputs.density_g_cm3.value
    assert first.outputs.boron.get_dict() == second.outputs.boron.get_dict()


def test_replica_seeds_reach_packmol_and_lammps(glasses):
    """Replica 1 packs with seed 12345 + 1009 and draws its velocities with md.seed + 1009."""
    first, _, replica = glasses
    md_seed = first.inputs.md_parameters.get('seed', DEFAULT_PARAMETERS['seed'])
    packing = replica.base.links.get_outgoing(link_label_filter='packing').one().node
    assert packing.inputs.seed.value == replica_seed(first.inputs.packing.seed.value, 1)
    script = calc_of(replica).base.repository.get_object_content(calc_of(replica).get_option('input_filename'))
    assert f' {replica_seed(md_seed, 1)} dist gaussian' in script
    assert f' {md_seed} dist gaussian' not in script


def test_another_replica_gives_another_glass(glasses):
    """Other seeds: another packing and another glass of the same composition (the identity above is not trivial)."""
    first, _, replica = glasses
    assert not np.array_equal(first.outputs.initial_structure.get_ase().positions,
                              replica.outputs.initial_structure.get_ase().positions)
    glass_a, glass_r = first.outputs.structure.get_ase(), replica.outputs.structure.get_ase()
    assert glass_a.get_chemical_symbols() == glass_r.get_chemical_symbols()
    assert np.abs(glass_a.positions - glass_r.positions).max() > 1.0  # Å: not round-off, another glass
    assert not np.array_equal(first.outputs.thermo.get_array('production_pe'),
                              replica.outputs.thermo.get_array('production_pe'))
