"""boroglass.dft_label with real CP2K: labels equal CP2K's own numbers, a failing frame is skipped, runs throttled.

One labelling of three frames of a 21-atom K borate trajectory (SZV-MOLOPT, 200 Ry, one core
per frame, two at a time): frame 0 the quenched glass, frame 2 every atom moved by 0.05 Å,
frame 3 with two oxygens on one site, which CP2K refuses ("GEOMETRY wrong"). Frame 1 is not
selected. Then the refusals of bad inputs, before anything is stored (no CP2K).
"""
import re

import numpy as np
import pytest
from aiida import engine, orm
from aiida.common.log import configure_logging

from aiida_boroglass.calculations.cp2k_inputs import MIN_ATOMS
from aiida_boroglass.glass.elements import GPA_PER_EV_A3, HARTREE_BOHR_EV_A, HARTREE_EV
from aiida_boroglass.workflows.ab_initio.dft_label import DftLabelWorkChain

#: Frames of the test trajectory labelled by the real run; frame 3 fails.
SELECTED = [0, 2, 3]


def node_count() -> int:
    return orm.QueryBuilder().append(orm.Node).count()


@pytest.fixture(scope='module')
def trajectory(aiida_profile, k_borate_21):
    """Four frames of the 21-atom glass: as quenched, two moved by 0.05 Å (random directions), one collapsed."""
    ase = k_borate_21.get_ase()
    rng = np.random.default_rng(7)
    directions = rng.normal(size=(4, len(ase), 3))
    shifts = 0.05 * directions / np.linalg.norm(directions, axis=-1, keepdims=True)
    positions = np.array([ase.positions, ase.positions + shifts[1], ase.positions + shifts[2], ase.positions])
    positions[3, 12] = positions[3, 11]  # two O atoms on one site: CP2K stops before the SCF
    node = orm.TrajectoryData()
    node.set_trajectory(ase.get_chemical_symbols(), positions, cells=np.array([ase.cell[:]] * 4),
                        pbc=(True, True, True))
    return node.store()


def fast_builder(code, source, **overrides):
    """The fast protocol (SZV-MOLOPT, 200 Ry), one core per single point, two at a time."""
    return DftLabelWorkChain.get_builder_from_protocol(code, source, protocol='fast',
                                                      overrides={'max_concurrent': 2, **overrides},
                                                      options={'max_wallclock_seconds': 900})


@pytest.fixture(scope='module')
def labelled(cp2k_code, trajectory):
    """The real labelling of frames 0, 2 and 3 (3 single points, about a minute on two cores)."""
    configure_logging(with_orm=True)  # a `verdi` command run in-process earlier leaves reports out of the database
    builder = fast_builder(cp2k_code, trajectory)
    builder.frames = SELECTED
    _, node = engine.run_get_node(builder)
    return node


def single_points(node) -> dict:
    """The single-point workflow of every frame, by its call link label (frame_00003)."""
    return {link.link_label: link.node for link in node.base.links.get_outgoing(node_class=orm.WorkflowNode).all()}


def cp2k_stdout(single_point) -> str:
    """The retrieved ``aiida.out`` of the last CP2K job of a single-point workflow."""
    jobs = sorted(single_point.called_descendants, key=lambda n: n.ctime)
    job = [n for n in jobs if isinstance(n, orm.CalcJobNode)][-1]
    return job.outputs.retrieved.base.repository.get_object_content('aiida.out')


def printed_labels(stdout: str):
    """Energy (Hartree), forces (Hartree/Bohr) and the analytical stress tensor (GPa) as CP2K prints them."""
    energy = float(re.search(r'ENERGY\| Total FORCE_EVAL \( QS \) energy \[a\.u\.\]:\s+(\S+)', stdout).group(1))
    block = stdout.split('ATOMIC FORCES in [a.u.]')[1].split('SUM OF ATOMIC FORCES')[0]
    forces = [[float(v) for v in line.split()[3:]] for line in block.splitlines() if re.match(r'\s+\d+\s+\d+\s', line)]
    stress = re.findall(r'STRESS\|\s+[xyz]' + r'\s+([-+]?\d\.\d+E[-+]\d+)' * 3, stdout)[:3]
    return energy, np.array(forces), np.array(stress, dtype=float)


def test_dataset_holds_cp2k_numbers_of_every_labelled_frame(labelled, trajectory):
    """Rows are frames 0 and 2; energies, forces and stress are CP2K's printed values in eV, eV/Å and GPa."""
    assert labelled.is_finished_ok, labelled.exit_message
    dataset = labelled.outputs.dataset
    assert dataset.get_array('frame_indices').tolist() == [0, 2]
    assert dataset.get_array('energies').shape == (2,)
    assert dataset.get_array('forces').shape == (2, 21, 3)
    assert dataset.get_array('stress').shape == dataset.get_array('virial').shape == (2, 3, 3)
    assert dataset.get_positions().shape == (2, 21, 3) and dataset.get_cells().shape == (2, 3, 3)
    np.testing.assert_allclose(dataset.get_positions(), trajectory.get_positions()[[0, 2]], atol=1e-10)
    assert list(dataset.symbols) == list(trajectory.symbols)
    assert dataset.base.attributes.get('engine') == 'cp2k'
    runs = single_points(labelled)
    for row, frame in enumerate([0, 2]):
        energy_ha, forces_au, pressure_gpa = printed_labels(cp2k_stdout(runs[f'frame_{frame:05d}']))
        assert dataset.get_array('energies')[row] == pytest.approx(energy_ha * HARTREE_EV, abs=1e-9)
        np.testing.assert_allclose(dataset.get_array('forces')[row], forces_au * HARTREE_BOHR_EV_A, rtol=0, atol=1e-9)
        # CP2K prints the pressure tensor (1/3 trace = pressure); the dataset's stress is its negative
        np.testing.assert_allclose(dataset.get_array('stress')[row], -pressure_gpa, rtol=0, atol=1e-9)
        volume = abs(np.linalg.det(trajectory.get_cells()[frame]))
        np.testing.assert_allclose(dataset.get_array('virial')[row], pressure_gpa * volume / GPA_PER_EV_A3,
                                   rtol=0, atol=1e-9)
    moved = dataset.get_array('forces')[1] - dataset.get_array('forces')[0]
    assert np.abs(moved).max() > 0.05  # 0.05 Å moves change the forces: the rows are different frames


def test_failing_frame_is_skipped_and_recorded(labelled):
    """Frame 3 (two atoms on one site) fails in CP2K; it is reported and recorded, the others are returned."""
    skipped = labelled.outputs.dataset.base.attributes.get('skipped')
    assert [entry['frame'] for entry in skipped] == [3]
    entry = skipped[0]
    failed = orm.load_node(entry['pk'])
    assert failed.exit_status == entry['exit_status'] != 0 and entry['message'] == failed.exit_message
    assert 'GEOMETRY wrong' in cp2k_stdout(failed)
    report = '\n'.join(log.message for log in orm.Log.collection.get_logs_for(labelled))
    assert f'frame 3 (frame_00003) skipped: {failed.process_label}<{failed.pk}> failed with exit status ' \
           f'{entry["exit_status"]}' in report


def test_never_more_than_max_concurrent_single_points_at_once(labelled):
    """From the single points' creation and last-change times: at most two overlap, and three ran."""
    runs = single_points(labelled).values()
    assert len(runs) == len(SELECTED)
    events = sorted([(run.ctime, 1) for run in runs] + [(run.mtime, -1) for run in runs])
    running = np.cumsum([step for _, step in events])
    assert running.max() == 2


def test_provenance_of_the_dataset(labelled, trajectory):
    """The dataset comes from a calcfunction whose inputs are the frames cut from the trajectory and the labels."""
    creator = labelled.outputs.dataset.creator
    inputs = {link.link_label: link.node for link in creator.base.links.get_incoming().all()}
    assert {label for label in inputs if label.startswith('labels__')} == {'labels__frame_00000', 'labels__frame_00002'}
    frame = inputs['structures__frame_00002']
    assert frame.creator.inputs.trajectory.uuid == trajectory.uuid
    runs = single_points(labelled)
    assert inputs['labels__frame_00002'].uuid == runs['frame_00002'].outputs.labels.uuid


def test_all_frames_failing_ends_the_workflow_with_its_exit_code(cp2k_code, trajectory):
    """Only the collapsed frame: no dataset, exit status 401 (CP2K stops at once)."""
    builder = fast_builder(cp2k_code, trajectory)
    builder.frames = [3]
    _, node = engine.run_get_node(builder)
    assert node.exit_status == DftLabelWorkChain.exit_codes.ERROR_ALL_FRAMES_FAILED.status
    assert 'dataset' not in node.outputs


@pytest.mark.parametrize(('protocol', 'basis', 'cutoffs', 'eps_scf'), [
    ('fast', 'SZV-MOLOPT-SR-GTH', (200.0, 30.0), 1e-6),
    ('balanced', 'DZVP-MOLOPT-SR-GTH', (400.0, 50.0), 1e-6),
    ('stringent', 'DZVP-MOLOPT-SR-GTH', (600.0, 60.0), 1e-7),
])
def test_every_protocol_gives_valid_inputs(cp2k_code, trajectory, protocol, basis, cutoffs, eps_scf):
    builder = DftLabelWorkChain.get_builder_from_protocol(cp2k_code, trajectory, protocol=protocol)
    assert DftLabelWorkChain.spec().inputs.validate(builder._inputs(prune=True)) is None
    dft = builder.dft.get_dict()
    assert (dft['basis_set'], (dft['cutoff_ry'], dft['rel_cutoff_ry']), dft['eps_scf']) == (basis, cutoffs, eps_scf)
    assert builder.options['withmpi'] is False and builder.max_concurrent.value == 2
    assert DftLabelWorkChain.get_available_protocols()[protocol]['estimated_cost']


# --- refusals before anything is stored -----------------------------------------------------


def assert_refused(builder, field: str, allowed: str = ''):
    """The spec refuses the builder's inputs in one line naming ``field``; ``run`` raises, stores nothing."""
    inputs = builder._inputs(prune=True)
    error = DftLabelWorkChain.spec().inputs.validate(inputs)
    assert error is not None, f'{field}: accepted'
    assert field in str(error) and allowed in str(error) and '\n' not in str(error), str(error)
    before = node_count()
    with pytest.raises(ValueError, match=re.escape(field)):
        engine.run(DftLabelWorkChain, **inputs)
    assert node_count() == before


def _small(k_borate_21):
    """The first MIN_ATOMS - 1 atoms of the glass in its cell."""
    ase = k_borate_21.get_ase()[:MIN_ATOMS - 1]
    return orm.StructureData(ase=ase)


@pytest.mark.parametrize(('change', 'field', 'allowed'), [
    ({'dft': {'basis_set': 'TZV2P-MOLOPT-GTH'}}, 'dft.basis_set', 'SZV-MOLOPT-SR-GTH'),
    ({'dft': {'cutof_ry': 300}}, 'dft', "unknown keys ['cutof_ry']"),
    ({'dft': {'cutoff_ry': 20}}, 'dft.cutoff_ry', '[50, 2000] Ry'),
    ({'engine': 'nwchem'}, 'engine', "'nwchem' has no labeller"),
])
def test_refused_settings(cp2k_code, trajectory, change, field, allowed):
    assert_refused(fast_builder(cp2k_code, trajectory, **change), field, allowed)


def test_refused_max_concurrent_when_the_builder_is_filled(cp2k_code, trajectory):
    before = node_count()
    with pytest.raises(ValueError, match=re.escape('max_concurrent: must be >= 1, got 0')):
        fast_builder(cp2k_code, trajectory, max_concurrent=0)
    assert node_count() == before


def test_refused_missing_dft_key(cp2k_code, trajectory):
    builder = fast_builder(cp2k_code, trajectory)
    builder.dft = {key: value for key, value in builder.dft.get_dict().items() if key != 'eps_scf'}
    assert_refused(builder, 'dft', "missing keys ['eps_scf']")


@pytest.mark.parametrize(('selection', 'field', 'allowed'), [
    ({'frames': [0, 4]}, 'frames', '[4] outside'),
    ({'frames': []}, 'frames', 'empty'),
    ({'stride': 0}, 'stride', '>= 1'),
    ({'stride': 2, 'frames': [0]}, 'stride/frames', 'not both'),
])
def test_refused_frame_selection(cp2k_code, trajectory, selection, field, allowed):
    builder = fast_builder(cp2k_code, trajectory)
    for key, value in selection.items():
        setattr(builder, key, value)
    assert_refused(builder, field, allowed)


def test_refused_sources(cp2k_code, trajectory, k_borate_21):
    """Neither or both sources; a stride for structures; a structure too small; an element without a pseudopotential."""
    builder = fast_builder(cp2k_code, trajectory)
    builder.structures = {'glass': k_borate_21}
    assert_refused(builder, 'structures/trajectory', 'both')
    builder = fast_builder(cp2k_code, [k_borate_21])
    builder.stride = 2
    assert_refused(builder, 'stride/frames', 'trajectory only')
    assert_refused(fast_builder(cp2k_code, {'small': _small(k_borate_21)}), 'structures.small', f'at least {MIN_ATOMS}')
    ase = k_borate_21.get_ase()
    ase[0].symbol = 'Ca'
    assert_refused(fast_builder(cp2k_code, {'calcium': orm.StructureData(ase=ase)}), 'dft', "pseudopotential for ['Ca']")
    swapped = k_borate_21.get_ase()
    swapped.numbers[[0, 10]] = swapped.numbers[[10, 0]]
    assert_refused(fast_builder(cp2k_code, [k_borate_21, orm.StructureData(ase=swapped)]), 'structures',
                   "['structures.frame_00001'] hold other atoms")


def test_refused_trajectory_without_cells(cp2k_code, k_borate_21):
    ase = k_borate_21.get_ase()
    node = orm.TrajectoryData()
    node.set_trajectory(ase.get_chemical_symbols(), np.array([ase.positions]))
    assert_refused(fast_builder(cp2k_code, node), 'trajectory', 'no cells')


def test_refused_empty_structures(cp2k_code):
    assert_refused(fast_builder(cp2k_code, {}), 'structures/trajectory', 'neither')
