"""aiida-boroglass hopping: an in-process run with measured data, and bad input refused with the option named."""
import json

import pytest
import yaml
from aiida import orm
from click.testing import CliRunner

from aiida_boroglass.cli.launcher import main, parse_x_values

SERIES = '0.35Na2O-0.65[xB2O3-(1-x)P2O5]'


def test_x_ranges_include_the_stop():
    assert parse_x_values('0:1:0.25') == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert parse_x_values('0.1,0.3') == [0.1, 0.3]


def test_hopping_runs_prints_table_and_writes_plots(aiida_profile, tmp_path):
    experiment = tmp_path / 'measured.yaml'
    experiment.write_text(yaml.safe_dump({'activation_energy_ev': {0.5: 0.6},
                                          'sigma_s_cm': {0.5: {400: 1e-6, 600: 1e-4}}}))
    output = tmp_path / 'out'
    result = CliRunner().invoke(main, [
        'hopping', SERIES, '--x', '0:1:0.5', '--protocol', 'fast', '--size', '8', '--temperatures', '400,600',
        '--nu', '1e14', '--experiment', str(experiment), '--fit-nu', '--output', str(output)])
    assert result.exit_code == 0, result.output
    summary = json.loads((output / 'hopping.json').read_text())
    assert [row['x'] for row in summary['rows']] == [0.0, 0.5, 1.0]
    assert summary['size'] == 8 and summary['n_landscapes'] == 2 and summary['nu_hz'] == 1e14
    assert summary['rows'][1]['nu_fitted_hz'] > 0 and summary['rows'][0]['nu_fitted_hz'] is None
    table_lines = [line for line in result.output.splitlines() if line[:5] in ('0.000', '0.500', '1.000')]
    assert len(table_lines) == 3
    assert sorted(path.name for path in output.glob('*.png')) == [
        'activation_energy.png', 'arrhenius.png', 'conductivity.png', 'units.png']


def test_hopping_reads_measured_units(aiida_profile, tmp_path):
    r = 0.35 / 0.65
    units = tmp_path / 'nmr.yaml'
    units.write_text(yaml.safe_dump({1.0: {'B4': 0.45, 'B3': 1 - 0.45 - (r - 0.45), 'B2': r - 0.45}}))
    output = tmp_path / 'out'
    result = CliRunner().invoke(main, ['hopping', SERIES, '--x', '1', '--protocol', 'fast', '--size', '6',
                                       '--temperatures', '', '--units', str(units), '--output', str(output)])
    assert result.exit_code == 0, result.output
    summary = json.loads((output / 'hopping.json').read_text())
    assert summary['nfu_source'] == 'measured'
    assert summary['rows'][0]['units']['B2'] == pytest.approx(r - 0.45)
    assert sorted(path.name for path in output.glob('*.png')) == ['activation_energy.png', 'units.png']


def test_hopping_refuses_a_workflow_that_is_not_a_panel(aiida_profile):
    node = orm.WorkflowNode().store()
    result = CliRunner().invoke(main, ['hopping', SERIES, '--x', '0.5', '--from-panel', str(node.pk)])
    assert result.exit_code == 2
    assert 'is not a finished structure panel' in result.output


def test_hopping_reads_a_panel_and_checks_its_glass(aiida_profile, crystals):
    """A panel of a glass made from 33Li2O-67B2O3: refused for another composition, read for its own."""
    from aiida.engine import calcfunction, run_get_node

    from aiida_boroglass.data.composition import CompositionData
    from aiida_boroglass.workflows.structure_panel import StructurePanelWorkChain

    @calcfunction
    def quench(composition):  # stands in for a melt-quench: the glass descends from its composition
        positions, cell, species = crystals.cristobalite_bo4()
        structure = orm.StructureData(cell=cell)
        for position, symbol in zip(positions, species):
            structure.append_atom(position=position, symbols=str(symbol))
        return structure

    glass = quench(CompositionData('33Li2O-67B2O3'))
    _, panel = run_get_node(StructurePanelWorkChain, glass=glass, parameters=orm.Dict({'voronoi': False}))
    other = CliRunner().invoke(main, ['hopping', SERIES, '--x', '1', '--from-panel', str(panel.pk)])
    assert other.exit_code != 0 and 'analysed a 33Li2O-67B2O3 glass, not 35Na2O-65B2O3' in other.output
    # its own composition: read, then refused because an all-B(4) network cannot balance 33 mol% Li2O
    own = CliRunner().invoke(main, ['hopping', '0.33Li2O-0.67[xB2O3-(1-x)P2O5]', '--x', '1',
                                    '--from-panel', str(panel.pk)])
    assert own.exit_code != 0 and 'must balance the alkali ions' in own.output
