"""End-to-end melt-quench with real packmol and LAMMPS on a small glass (embedded profile)."""
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain

#: A schedule of a few ps: enough to melt, quench and sample a 200-atom glass in about a minute.
TINY = {
    'n_atoms': 200,
    'schedule': {'push_off_ps': 0.2, 'melt_ps': 2.0, 'cooling_rate_k_ps': 1000.0, 'relax_nvt_ps': 1.0,
                 'relax_npt_ps': 1.0, 'production_ps': 1.0, 'dump_every_ps': 0.1},
    'md': {'restart_every': 500},
}


@pytest.fixture(scope='module')
def melt_quench(lammps_code, packmol_code):
    """A finished melt-quench of 30Li2O-70B2O3 (module-scoped: the later tests read its graph)."""
    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        lammps_code, CompositionData('Li2O-B2O3', x=0.3), protocol='fast', overrides=TINY)
    return run_get_node(builder).node


def test_melt_quench_finishes_with_physical_glass(melt_quench):
    """The glass has the composition's atoms, a condensed density and boron in 3/4-fold sites."""
    node = melt_quench
    assert node.is_finished_ok, node.exit_message
    symbols = node.outputs.structure.get_site_kindnames()
    counts = {el: symbols.count(el) for el in set(symbols)}
    assert counts['B'] / counts['Li'] == pytest.approx(0.7 / 0.3, rel=0.05)
    assert 2 * counts['O'] == counts['Li'] + 3 * counts['B']  # charge balance Li+ B3+ O2-
    assert 1.5 < node.outputs.density_g_cm3.value < 3.0
    boron = node.outputs.boron.get_dict()
    assert boron['n3'] + boron['n4'] > 0.9  # almost every boron three- or four-fold
    assert 0.0 <= boron['n4'] <= 0.6
    oxygen = node.outputs.oxygen.get_dict()
    assert oxygen['bo_fraction'] + oxygen['nbo_fraction'] + oxygen['free_fraction'] == pytest.approx(1.0)
    assert 1.6 <= boron['cutoff_bo_a'] <= 2.4


def test_trajectory_is_unwrapped_production(melt_quench):
    """Production frames every 0.1 ps over 1 ps, positions unwrapped (atoms may leave the box)."""
    trajectory = melt_quench.outputs.trajectory
    assert trajectory.numsteps == 11
    assert np.allclose(np.diff(trajectory.get_array('times')), 0.1)
    assert trajectory.base.attributes.get('unwrapped') is True


def test_density_matches_final_npt_thermo(melt_quench):
    """The analysed density equals LAMMPS' own density at the end of the NPT relaxation."""
    thermo = melt_quench.outputs.thermo
    assert melt_quench.outputs.density_g_cm3.value == pytest.approx(thermo.get_array('relax_npt_density')[-1], rel=1e-3)


def test_provenance_reads_composition_to_analyses(melt_quench):
    """composition -> packmol -> initial structure -> one MD job (melt to production) -> glass -> analyses."""
    node = melt_quench
    packing = node.base.links.get_outgoing(link_label_filter='packing').one().node
    assert packing.inputs.composition.uuid == node.inputs.composition.uuid
    initial = packing.outputs.structure
    (calc,) = node.base.links.get_outgoing(link_label_filter='md').one().node.called
    assert calc.inputs.structure.uuid == initial.uuid and 'restart_file' not in calc.inputs
    stages = [stage['name'] for stage in calc.inputs.parameters['stages']]
    assert stages == ['minimize', 'push_off', 'melt', 'quench', 'relax_nvt', 'relax_npt', 'production']
    script = calc.base.repository.get_object_content(calc.get_option('input_filename'))
    assert script.count('velocity all create') == 1  # one velocity draw: every later phase continues the motion
    thermo = node.outputs.thermo
    assert thermo.creator.uuid == calc.uuid
    for stage in stages[1:]:  # every MD stage logged to its last step
        assert thermo.get_array(f'{stage}_step')[-1] == next(
            s['steps'] for s in calc.inputs.parameters['stages'] if s['name'] == stage)
    glass = node.outputs.structure
    assert glass.creator.uuid == calc.uuid
    density_creator = node.outputs.density_g_cm3.creator
    assert density_creator.inputs.structure.uuid == glass.uuid
    assert node.outputs.boron.creator.inputs.glass.uuid == node.outputs.trajectory.uuid


def test_bad_inputs_are_refused_before_anything_is_stored(lammps_code, packmol_code):
    """Too few atoms or a bad schedule raise a message naming the field; no process node is created."""
    before = orm.QueryBuilder().append(orm.ProcessNode).count()
    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        lammps_code, CompositionData('Li2O-B2O3', x=0.3), protocol='fast', overrides={'n_atoms': 3})
    with pytest.raises(ValueError, match='n_atoms'):
        run_get_node(builder)
    bad = {**TINY, 'schedule': {**TINY['schedule'], 'melt_temperature_k': 200.0}}
    with pytest.raises(ValueError, match='melt_temperature_k'):  # the builder checks as it is filled
        MeltQuenchWorkChain.get_builder_from_protocol(
            lammps_code, CompositionData('Li2O-B2O3', x=0.3), protocol='fast', overrides=bad)
    with pytest.raises(ValueError, match='protocol'):
        MeltQuenchWorkChain.get_builder_from_protocol(lammps_code, 'LB70', protocol='quick')
    assert orm.QueryBuilder().append(orm.ProcessNode).count() == before


def test_verdi_data_boroglass_show_reports_the_glass(melt_quench):
    """`verdi data boroglass show PK` prints the composition and the stored N4 and density."""
    from aiida.cmdline.commands.cmd_data import verdi_data
    from click.testing import CliRunner

    result = CliRunner().invoke(verdi_data, ['boroglass', 'show', str(melt_quench.pk)])
    assert result.exit_code == 0, result.output
    assert '30Li2O-70B2O3' in result.output
    assert f'{melt_quench.outputs.boron["n4"]:.4f}' in result.output
    assert f'{melt_quench.outputs.density_g_cm3.value:.4f}' in result.output
    refused = CliRunner().invoke(verdi_data, ['boroglass', 'show', str(melt_quench.inputs.composition.pk)])
    assert refused.exit_code != 0 and 'not one of the workflows boroglass.melt_quench' in refused.output


def test_glass_without_density_is_refused_naming_the_field(lammps_code, packmol_code):
    """No cited glass holds Al2O3: the workflow asks for density_g_cm3 before it starts."""
    builder = MeltQuenchWorkChain.get_builder_from_protocol(lammps_code, '10Al2O3-30Li2O-60B2O3', protocol='fast',
                                                            overrides=TINY)
    with pytest.raises(ValueError, match='density_g_cm3'):
        run_get_node(builder)


def test_verdi_node_graph_draws_the_provenance(melt_quench, tmp_path):
    """`verdi node graph generate` renders the ancestry of the N4 result: packing and the MD job in it."""
    from aiida.cmdline.commands.cmd_node import verdi_graph
    from click.testing import CliRunner

    output = tmp_path / 'graph.dot'
    result = CliRunner().invoke(verdi_graph, ['generate', '-f', 'dot', '-O', str(output), str(melt_quench.outputs.boron.pk)])
    assert result.exit_code == 0, result.output
    text = output.read_text()
    assert 'PackmolCalculation' in text and 'boron_coordination' in text
    assert 'BoroglassLammpsCalculation' in text
    assert 'CompositionData' in text
