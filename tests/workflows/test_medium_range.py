"""boroglass.medium_range on crystals: provenance, agreement with the kernels, refusal before storing, CLI."""
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node
from click.testing import CliRunner

from aiida_boroglass.analysis.cavities import trajectory_cavities
from aiida_boroglass.analysis.homology import DEFAULT_RADII_A, persistence_diagram
from aiida_boroglass.analysis.rings import ring_statistics
from aiida_boroglass.cli.launcher import main
from aiida_boroglass.workflows.medium_range import MediumRangeWorkChain


def structure_of(positions, cell, species):
    structure = orm.StructureData(cell=np.asarray(cell))
    for position, symbol in zip(positions, species):
        structure.append_atom(position=position, symbols=str(symbol))
    return structure.store()


@pytest.fixture(scope='module')
def quartz_panel(aiida_profile, crystals):
    """Alpha-quartz, 4 x 4 x 4 cells (576 atoms: wide enough for the periodic alpha complex)."""
    positions, cell, species = crystals.alpha_quartz(reps=4)
    structure = structure_of(positions, cell, species)
    _, node = run_get_node(MediumRangeWorkChain, glass=structure, parameters=orm.Dict({'cavity_resolution_a': 0.3}))
    return node, positions, cell, species


def test_rings_agree_with_the_kernel_and_quartz_has_six_rings(quartz_panel):
    node, positions, cell, species = quartz_panel
    assert node.is_finished_ok, node.exit_status
    rings = node.outputs.rings
    cutoff = node.outputs.cutoffs['Si-O']['value_a']
    reference = ring_statistics(positions, cell, species, {'Si': cutoff}, 12, 'primitive')
    assert rings['by_atoms'] == pytest.approx({str(k): v for k, v in enumerate(reference.mean_by_atoms) if v})
    # every Si of quartz lies in 6 six-membered (12-atom) primitive rings: 6 x 192 Si / 6 Si per ring
    assert rings['by_formers'] == {'6': pytest.approx(192.0)}
    assert rings['by_atoms'] == {'12': pytest.approx(192.0)}
    assert rings['boroxol_fraction'] == 0.0 and node.outputs.superstructural_units.get_dict() == {}
    assert node.outputs.ring_membership.get_dict() == {'On': 1.0, 'Sin': 1.0}  # no 3-former rings


def test_homology_and_cavities_agree_with_the_kernels(quartz_panel):
    node, positions, cell, species = quartz_panel
    homology = node.outputs.homology
    diagram = persistence_diagram(positions, cell, species)
    np.testing.assert_allclose(np.sort(homology.get_array('diagram_a2'), axis=0), np.sort(diagram, axis=0))
    apf = homology.get_array('apf_a2')
    assert np.all(np.diff(apf) >= 0)
    assert apf[-1] == pytest.approx(np.sum(diagram[:, 1] - diagram[:, 0]))  # eq. 15 reaches the total persistence
    assert homology.base.attributes.get('radii_a') == {'O': DEFAULT_RADII_A['O'], 'Si': DEFAULT_RADII_A['Si']}
    cavities = node.outputs.cavities
    reference = trajectory_cavities(positions, cell, species, cutoff_a=2.0, resolution_a=0.3)
    assert cavities['volume_fraction'] == pytest.approx(reference.mean_volume_fraction)
    assert cavities['n_cavities'] == reference.mean_n_cavities
    assert cavities['mean_ion_distance_a'] == {}  # quartz has no mobile ions


@pytest.mark.parametrize('parameters, message', [
    ({'ring_kind': 'king'}, 'parameters.ring_kind'),
    ({'ring_max_atoms': 3}, 'parameters.ring_max_atoms'),
    ({'radii_a': {'Xe': 1.0}}, 'parameters.radii_a'),
    ({'cavity_cutoff_a': -2.0}, 'parameters.cavity_cutoff_a'),
    ({'rings': 12}, 'unknown key'),
])
def test_bad_parameters_are_refused_before_anything_is_stored(aiida_profile, crystals, parameters, message):
    positions, cell, species = crystals.cristobalite_bo4()
    structure = structure_of(positions, cell, species)
    before = orm.QueryBuilder().append(orm.Node).count()
    with pytest.raises(ValueError, match=message):
        run_get_node(MediumRangeWorkChain, glass=structure, parameters=orm.Dict(parameters))
    assert orm.QueryBuilder().append(orm.Node).count() == before


def test_command_tabulates_and_plots_two_glasses(aiida_profile, crystals, tmp_path):
    """A jiggled BO4 network (every B four-fold, in 12-atom rings), twice: two table rows, four plots."""
    positions, cell, species = crystals.cristobalite_bo4(reps=3)
    bo4 = structure_of(crystals.jiggle(positions, 0.05, 1, seed=2)[0], cell, species)
    output = tmp_path / 'mr'
    result = CliRunner().invoke(main, ['medium-range', str(bo4.pk), str(bo4.pk), '-o', str(output),
                                                 '--max-frames', '1'])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith('StructureData<')]
    assert len(rows) == 4  # two "StructureData<pk>: MediumRangeWorkChain<pk>" lines and two table rows
    assert sorted(path.name for path in output.iterdir()) == [
        'apf.png', 'cavities.png', 'medium_range.json', 'persistence.png', 'rings.png']
    bad = CliRunner().invoke(main, ['medium-range', str(bo4.pk), '--max-ring', '2'])
    assert bad.exit_code != 0 and 'ring_max_atoms' in bad.output
