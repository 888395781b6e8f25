"""``aiida-boroglass analyze``: the structure panel of any glass from one command, shown again from the database."""
import numpy as np
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.data import data_boroglass
from aiida_boroglass.cli.launcher import main


def bo3_sheets(crystals):
    """Stored StructureData of planar B2O3 sheets (hexagonal cell): every B three-fold, every O bridging."""
    positions, cell, species = crystals.honeycomb_b2o3()
    structure = orm.StructureData(cell=np.asarray(cell).tolist())
    for position, symbol in zip(positions, species):
        structure.append_atom(position=position.tolist(), symbols=str(symbol))
    return structure.store()


def output_lines(output: str) -> dict:
    """``label: value`` lines of a command's output as a dict."""
    return {line.split(':')[0].strip(): line.split(':', 1)[1].strip() for line in output.splitlines() if ':' in line}


def test_analyze_structure_prints_table_and_writes_plots(aiida_profile, crystals, tmp_path):
    structure = bo3_sheets(crystals)
    output = tmp_path / 'panel'
    result = CliRunner().invoke(main, ['analyze', str(structure.pk), '-o', str(output), '--isotope', 'B=11',
                                       '--cutoff', 'B-O=1.8'])
    assert result.exit_code == 0, result.output
    lines = output_lines(result.output)
    assert lines['N4'] == '0.0000' and lines['N3'] == '1.0000'
    assert lines['cutoff B-O (A, given)'] == '1.800'
    assert lines['unit B(3) (fraction of formers)'] == '1.0000'
    assert float(lines['angle O-[3]B-O mean (deg)']) == 120.0
    assert sorted(p.name for p in output.iterdir()) == ['angles.png', 'bonds.png', 'rdf.png', 'scattering.png']
    (panel,) = orm.QueryBuilder().append(orm.StructureData, filters={'id': structure.pk}, tag='glass').append(
        orm.WorkflowNode, with_incoming='glass', filters={'attributes.process_label': 'StructurePanelWorkChain'}
    ).all(flat=True)  # the panel is linked to the analysed structure

    again = CliRunner().invoke(data_boroglass, ['table', panel.uuid, '-o', str(tmp_path / 'again')])
    assert again.exit_code == 0, again.output
    assert output_lines(again.output)['N4'] == '0.0000'
    assert sorted(p.name for p in (tmp_path / 'again').iterdir()) == sorted(p.name for p in output.iterdir())
