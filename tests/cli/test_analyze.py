"""``verdi data boroglass analyze``: the structure panel of any glass from one command."""
import numpy as np
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.data import data_boroglass


def bo3_sheets(crystals):
    """Stored StructureData of planar B2O3 sheets (hexagonal cell): every B three-fold, every O bridging."""
    positions, cell, species = crystals.honeycomb_b2o3()
    structure = orm.StructureData(cell=np.asarray(cell).tolist())
    for position, symbol in zip(positions, species):
        structure.append_atom(position=position.tolist(), symbols=str(symbol))
    return structure.store()


def test_analyze_structure_prints_table_and_writes_plots(aiida_profile, crystals, tmp_path):
    structure = bo3_sheets(crystals)
    output = tmp_path / 'panel'
    result = CliRunner().invoke(data_boroglass, ['analyze', str(structure.pk), '-o', str(output), '--isotope', 'B=11',
                                                 '--cutoff', 'B-O=1.8'])
    assert result.exit_code == 0, result.output
    lines = {line.split(':')[0].strip(): line.split(':', 1)[1].strip() for line in result.output.splitlines() if ':' in line}
    assert lines['N4'] == '0.0000' and lines['N3'] == '1.0000'
    assert lines['cutoff B-O (A, given)'] == '1.800'
    assert lines['unit B(3) (fraction of formers)'] == '1.0000'
    assert float(lines['angle O-[3]B-O mean (deg)']) == 120.0
    assert sorted(p.name for p in output.iterdir()) == ['angles.png', 'bonds.png', 'rdf.png', 'scattering.png']
    panel = orm.QueryBuilder().append(orm.WorkflowNode, filters={'attributes.process_label': 'StructurePanelWorkChain'},
                                      tag='wf').append(orm.StructureData, with_outgoing='wf',
                                                       filters={'id': structure.pk}).all(flat=True)
    assert panel  # the panel is linked to the analysed structure


def test_analyze_refuses_bad_options_before_running(aiida_profile, crystals, tmp_path):
    structure = bo3_sheets(crystals)
    before = orm.QueryBuilder().append(orm.ProcessNode).count()
    result = CliRunner().invoke(data_boroglass, ['analyze', str(structure.pk), '--cutoff', 'B-O'])
    assert result.exit_code != 0 and "'B-O' is not KEY=VALUE" in result.output
    result = CliRunner().invoke(data_boroglass, ['analyze', str(structure.pk), '--q-max-xray', '-3'])
    assert result.exit_code != 0 and 'parameters.q_max_xray_a must be a positive number' in result.output
    curve = tmp_path / 'x.dat'
    curve.write_text('1 2\n')
    result = CliRunner().invoke(data_boroglass, ['analyze', str(structure.pk), '--experiment', str(curve)])
    assert result.exit_code != 0 and '--experiment and --quantity must be given together' in result.output
    result = CliRunner().invoke(data_boroglass, ['analyze', str(orm.Int(3).store().pk)])
    assert result.exit_code != 0 and 'give a StructureData, a TrajectoryData or a boroglass.melt_quench' in result.output
    assert orm.QueryBuilder().append(orm.ProcessNode).count() == before
