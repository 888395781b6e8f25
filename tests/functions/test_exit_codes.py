"""Calcfunctions that cannot do their work finish failed with the exit code of the reason, never excepted.

And the workflows that call them stop with their own ERROR_CALCFUNCTION_FAILED naming the step.
"""
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.functions.analysis import boron_coordination, oxygen_bridging
from aiida_boroglass.functions.exit_codes import CALCFUNCTION_EXIT_CODES, CalcfunctionError
from aiida_boroglass.functions.glass import forcefield_parameters
from aiida_boroglass.functions.hopping import network_former_units
from aiida_boroglass.functions.medium_range import persistent_homology
from aiida_boroglass.functions.structure import pair_distributions
from aiida_boroglass.functions.transport import diffusion_at_temperature, ion_rearrangement, softness_model
from aiida_boroglass.workflows.medium_range import MediumRangeWorkChain


def test_exit_code_table_one_meaning_per_number():
    statuses = [status for status, _ in CALCFUNCTION_EXIT_CODES.values()]
    assert len(set(statuses)) == len(statuses)
    assert all(300 <= status < 400 for status in statuses)
    assert all(label.startswith('ERROR_') for label in CALCFUNCTION_EXIT_CODES)
    with pytest.raises(KeyError, match='ERROR_NOT_A_CODE'):
        CalcfunctionError('ERROR_NOT_A_CODE', 'x')


def structure(cell_a, sites):
    """StructureData in a cube of edge ``cell_a`` Å from ``[(symbol, (x, y, z)), ...]`` (Å)."""
    node = orm.StructureData(cell=(np.eye(3) * cell_a).tolist())
    for symbol, position in sites:
        node.append_atom(position=position, symbols=symbol)
    return node


def trajectory(symbols, n_frames=6, times=None, cell_a=10.0, cells=True):
    """A TrajectoryData of atoms at rest on a line, frames at ``times`` (ps)."""
    node = orm.TrajectoryData()
    positions = np.broadcast_to(np.arange(len(symbols))[None, :, None] * 1.5 + 1.0, (n_frames, len(symbols), 3))
    node.set_trajectory(symbols=list(symbols), positions=np.array(positions),
                        cells=np.broadcast_to(np.eye(3) * cell_a, (n_frames, 3, 3)) if cells else None,
                        times=np.arange(n_frames) * 0.5 if times is None else np.asarray(times),
                        stepids=np.arange(n_frames), pbc=(True, True, True) if cells else None)
    return node


def failed(function, *args, **kwargs):
    """Run ``function``; return its node after checking it finished (failed), not excepted."""
    _, node = function.run_get_node(*args, **kwargs)
    assert node.is_finished and not node.is_excepted and not node.is_finished_ok
    return node


def status_of(label):
    return CALCFUNCTION_EXIT_CODES[label][0]


def test_bad_parameters_give_301(aiida_profile):
    node = failed(pair_distributions, structure(10.0, [('B', (0, 0, 0)), ('O', (1.4, 0, 0))]),
                  orm.Dict({'dr_a': -0.1}))
    assert node.exit_status == status_of('ERROR_INVALID_PARAMETERS') == 301
    assert node.exit_message == 'parameters.dr_a must be a positive number, got -0.1'


def test_trajectory_without_cells_gives_302(aiida_profile):
    node = failed(pair_distributions, trajectory(['B', 'O'], cells=False), orm.Dict())
    assert node.exit_status == 302
    assert 'trajectory: has no cells' in node.exit_message


def test_glass_outside_the_hopping_model_gives_303(aiida_profile):
    node = failed(network_former_units, CompositionData('30Li2O-10SiO2-60B2O3'), orm.Dict(), orm.Str('model'))
    assert node.exit_status == 303
    assert 'the hopping model needs one alkali oxide' in node.exit_message


def test_measured_source_without_units_gives_304(aiida_profile):
    node = failed(network_former_units, CompositionData('0.33Li2O-0.67[xB2O3-(1-x)P2O5]', x=0.5), orm.Dict(),
                  orm.Str('measured'))
    assert node.exit_status == 304
    assert "the 'measured' source needs units" in node.exit_message


def test_unevenly_spaced_frames_give_306(aiida_profile):
    node = failed(diffusion_at_temperature, orm.Float(800.0), orm.Dict(),
                  r0=trajectory(['Li', 'O'], times=[0.0, 0.5, 1.0, 1.7, 2.0, 2.5]))
    assert node.exit_status == 306
    assert 'frames must be equally spaced in time' in node.exit_message


def test_glass_without_mobile_ions_gives_307(aiida_profile):
    node = failed(diffusion_at_temperature, orm.Float(800.0), orm.Dict(), r0=trajectory(['B', 'O']))
    assert node.exit_status == 307
    assert "parameters.species: no alkali ion not in the glass (['B', 'O'])" == node.exit_message


def test_d2min_interval_longer_than_the_run_gives_308(aiida_profile):
    node = failed(ion_rearrangement, trajectory(['Li', 'O']), orm.Dict({'d2min_interval_ps': 5.0}))
    assert node.exit_status == 308
    assert node.exit_message.startswith('parameters.d2min_interval_ps: 5 ps spans the whole production run (6 frames')


def test_softness_without_labels_gives_309(aiida_profile):
    node = failed(softness_model, orm.Dict({'test_glass': 'a'}), a__structure=trajectory(['Li', 'O']))
    assert node.exit_status == 309
    assert "incomplete: ['a']" in node.exit_message


def test_force_field_without_the_glass_elements_gives_310(aiida_profile):
    node = failed(forcefield_parameters, CompositionData('(Li2O)40(B2O3)30(P2O5)30'), orm.Str('shik'), orm.Int(300))
    assert node.exit_status == 310
    assert "forcefield: 'shik' cannot describe 40Li2O-30B2O3-30P2O5" in node.exit_message


@pytest.mark.parametrize(('function', 'analysis'), [(boron_coordination, 'N4'), (oxygen_bridging, 'oxygen speciation')])
def test_boron_analyses_of_a_glass_without_boron_give_311(aiida_profile, function, analysis):
    node = failed(function, structure(10.0, [('Li', (0, 0, 0)), ('O', (2.0, 0, 0))]), orm.Float(2.0))
    assert node.exit_status == 311
    assert analysis in node.exit_message and "the glass holds ['Li', 'O']" in node.exit_message


def test_kernel_refusal_gives_320_with_the_kernel_message(aiida_profile, crystals):
    """A BO4 network in one 6.8 Å cristobalite cell: the periodic filtration cannot close."""
    positions, cell, species = crystals.cristobalite_bo4(reps=1)
    node = failed(persistent_homology, _structure_of(positions, cell, species), orm.Dict())
    assert node.exit_status == 320
    assert node.exit_message.startswith('persistent_homology: the cell is too small to hold the complete periodic')


def _structure_of(positions, cell, species):
    node = orm.StructureData(cell=np.asarray(cell).tolist())
    for position, symbol in zip(positions, species):
        node.append_atom(position=position, symbols=str(symbol))
    return node


def test_workflow_stops_with_its_own_exit_code_naming_the_step(aiida_profile, crystals):
    """The cell passes the launch check (balls fit) but the filtration cannot close: 401 at step homology."""
    positions, cell, species = crystals.cristobalite_bo4(reps=1)
    _, node = run_get_node(MediumRangeWorkChain, glass=_structure_of(positions, cell, species),
                           parameters=orm.Dict({'cavity_resolution_a': 0.3}))
    assert node.is_finished and not node.is_excepted
    assert node.exit_status == MediumRangeWorkChain.exit_codes.ERROR_CALCFUNCTION_FAILED.status == 401
    assert node.exit_message.startswith('Step homology: calcfunction persistent_homology failed with exit status 320: ')
    assert {called.process_label for called in node.called} == {'pair_distributions', 'ring_analysis',
                                                               'persistent_homology'}
