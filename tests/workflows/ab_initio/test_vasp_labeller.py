"""boroglass.dft_label with engine 'vasp': a real VASP run replayed by aiida-vasp's mock-vasp, and the refusals.

The recorded run (tests/fixtures/vasp/README.md) is a VASP 6.3.0 PBE single point of an 8-atom
Ti-O cell (atoms Ti3 O2 Ti3, two Ti species blocks). The test labels the frame read from its
vasprun.xml with the settings read from the same file; mock-vasp finds the case by the hash of
the INCAR, POSCAR and KPOINTS the labeller writes (strict: any other input fails the run) and
copies the recorded OUTCAR and vasprun.xml back. The expected numbers are read here again,
independently of dpdata: from vasprun.xml by pymatgen and from the OUTCAR by its printed lines.
"""
import re

import numpy as np
import pytest
from aiida import engine, orm
from pymatgen.io.vasp import Vasprun

from aiida_boroglass.workflows.ab_initio.dft_label import DftLabelWorkChain
from aiida_boroglass.workflows.ab_initio.labellers import LABELLERS, Labeller
from aiida_boroglass.workflows.ab_initio.vasp_labeller import KPOINT_TAGS, STATIC_TAGS, VaspLabeller, vasp_labels

from .conftest import VASP_FIXTURES

#: The recorded case.
CASE = VASP_FIXTURES / 'ti_o_ti_static'


def node_count() -> int:
    return orm.QueryBuilder().append(orm.Node).count()


@pytest.fixture(scope='module')
def recorded():
    """pymatgen's reading of the recorded vasprun.xml."""
    return Vasprun(str(CASE / 'out' / 'vasprun.xml'), parse_dos=False, parse_eigen=False, parse_potcar_file=False)


@pytest.fixture(scope='module')
def frame(aiida_profile, recorded):
    """The structure the recorded run started from (Ti, Ti, Ti, O, O, Ti, Ti, Ti), Å."""
    return orm.StructureData(pymatgen=recorded.initial_structure)


@pytest.fixture(scope='module')
def recorded_settings(recorded, potcar_family):
    """The VASP settings of the recorded run: its INCAR without the tags the labeller writes itself.

    NSW, IBRION and ISIF are the labeller's (the run had 0, -1, 2, the labeller's values);
    KSPACING 10 / KGAMMA F made VASP use the one k-point (0, 0, 0), which ``kpoints_mesh``
    null gives as a Γ-centred 1x1x1 KPOINTS file.
    """
    assert recorded.kpoints.kpts == [(1, 1, 1)] and np.allclose(recorded.actual_kpoints, [[0, 0, 0]])
    assert {tag: recorded.incar[tag] for tag in STATIC_TAGS} == STATIC_TAGS
    incar = {tag: value for tag, value in recorded.incar.items() if tag not in (*STATIC_TAGS, *KPOINT_TAGS)}
    return {'potential_family': potcar_family, 'potential_mapping': {'Ti': 'Ti', 'O': 'O'}, 'kpoints_mesh': None,
            'incar': incar}


def label_builder(code, frame, settings):
    """``boroglass.dft_label`` of the one frame with engine vasp, one serial job."""
    builder = DftLabelWorkChain.get_builder()
    builder.structures = {'ti_o_ti': frame}
    builder.engine = 'vasp'
    builder.code = code
    builder.dft = settings
    builder.options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1},
                       'max_wallclock_seconds': 600, 'withmpi': False}
    builder.max_concurrent = 1
    return builder


@pytest.fixture(scope='module')
def labelled(vasp_mock_code, frame, recorded_settings):
    """The labelling workflow, run on mock-vasp."""
    _, node = engine.run_get_node(label_builder(vasp_mock_code, frame, recorded_settings))
    return node


def outcar_values(text: str):
    """Free energy TOTEN (eV), TOTAL-FORCE (n, 3) eV/Å, the 'in kB' tensor (3, 3) and external + Pulay pressure (kB)."""
    energy = float(re.findall(r'free  energy   TOTEN  =\s+(\S+) eV', text)[-1])
    block = text.split('TOTAL-FORCE (eV/Angst)')[-1].split('total drift')[0]
    forces = [line.split()[3:] for line in block.splitlines() if len(line.split()) == 6]
    xx, yy, zz, xy, yz, zx = map(float, re.findall(r'in kB' + r'\s+(\S+)' * 6, text)[-1])
    external, pulay = map(float, re.findall(r'external pressure =\s+(\S+) kB\s+Pullay stress =\s+(\S+) kB', text)[-1])
    tensor = np.array([[xx, xy, zx], [xy, yy, yz], [zx, yz, zz]])
    return energy, np.array(forces, dtype=float), tensor, external + pulay


def test_vasp_is_a_registered_labeller():
    assert isinstance(LABELLERS['vasp'], VaspLabeller) and issubclass(VaspLabeller, Labeller)
    assert not getattr(VaspLabeller, '__abstractmethods__', None)


def test_dataset_holds_the_numbers_of_the_recorded_run(labelled, frame, recorded):
    """Energy, forces and stress of the dataset are vasprun.xml's (pymatgen) in eV, eV/Å, GPa, the frame's atom order."""
    assert labelled.is_finished_ok, labelled.exit_message
    dataset = labelled.outputs.dataset
    assert dataset.base.attributes.get('engine') == 'vasp'
    assert list(dataset.symbols) == ['Ti', 'Ti', 'Ti', 'O', 'O', 'Ti', 'Ti', 'Ti']
    np.testing.assert_allclose(dataset.get_positions()[0], frame.get_ase().positions, atol=1e-12)
    last = recorded.ionic_steps[-1]
    assert dataset.get_array('energies').tolist() == [pytest.approx(last['e_fr_energy'], abs=1e-9)]
    np.testing.assert_allclose(dataset.get_array('forces')[0], last['forces'], rtol=0, atol=1e-9)
    # vasprun's stress is the pressure tensor in kBar; the dataset's is the physical stress in GPa
    np.testing.assert_allclose(dataset.get_array('stress')[0], -0.1 * np.array(last['stress']), rtol=0, atol=1e-9)


def test_labels_agree_with_the_outcar_and_its_pressure_sign(labelled):
    """The OUTCAR's TOTEN, forces and 'in kB' line; 1/3 of the label's trace is its external pressure (negative here)."""
    dataset = labelled.outputs.dataset
    energy, forces, in_kb, pressure_kb = outcar_values((CASE / 'out' / 'OUTCAR').read_text())
    assert dataset.get_array('energies')[0] == pytest.approx(energy, abs=1e-8)
    np.testing.assert_allclose(dataset.get_array('forces')[0], forces, rtol=0, atol=1e-6)
    labels = labelled.outputs.dataset.creator.inputs.labels.ti_o_ti
    np.testing.assert_allclose(labels.get_array('stress_gpa'), 0.1 * in_kb, rtol=0, atol=1e-5)
    assert pressure_kb < -100  # the recorded cell is under tension: a sign error cannot pass
    assert np.trace(labels.get_array('stress_gpa')) / 3 == pytest.approx(0.1 * pressure_kb, abs=1e-3)
    assert np.trace(dataset.get_array('stress')[0]) / 3 == pytest.approx(-0.1 * pressure_kb, abs=1e-3)


def test_the_recorded_case_was_replayed_from_the_labeller_inputs(labelled):
    """One vasp.vasp work chain, its calculation matched by input hash; the labels come from its retrieved files."""
    (run,) = [link.node for link in labelled.base.links.get_outgoing(node_class=orm.WorkflowNode).all()]
    assert run.process_label == 'VaspWorkChain' and run.is_finished_ok
    (calc,) = [node for node in run.called_descendants if isinstance(node, orm.CalcJobNode)]
    stdout = calc.outputs.retrieved.base.repository.get_object_content('vasp_output')
    assert f'Using test data in path {CASE}' in stdout
    incar = calc.base.repository.get_object_content('INCAR')
    assert re.search(r'^NSW = 0$', incar, re.M) and re.search(r'^IBRION = -1$', incar, re.M)
    assert re.search(r'^ISIF = 2$', incar, re.M) and 'KSPACING' not in incar
    assert calc.base.repository.get_object_content('KPOINTS').split()[3:8] == ['0', 'Gamma', '1', '1', '1']
    labels = labelled.outputs.dataset.creator.inputs.labels.ti_o_ti
    assert labels.creator.process_label == vasp_labels.__name__
    assert labels.creator.inputs.retrieved.uuid == calc.outputs.retrieved.uuid


@pytest.mark.parametrize('protocol', ['fast', 'balanced', 'stringent'])
def test_every_protocol_gives_valid_settings(frame, potcar_family, protocol):
    """Paper 001: PBE POTCARs, 600 eV, the Γ point (balanced and stringent)."""
    inputs = VaspLabeller.get_protocol_inputs(protocol, {'dft': {'potential_family': potcar_family,
                                                                 'potential_mapping': {'Ti': 'Ti'}}})
    assert inputs['engine'] == 'vasp' and inputs['dft']['kpoints_mesh'] is None
    assert VaspLabeller().validate(inputs['dft'], ['Ti', 'O'], 'structures.ti_o_ti') is None
    assert inputs['dft']['incar']['ENCUT'] == (400 if protocol == 'fast' else 600)
    assert VaspLabeller.get_available_protocols()[protocol]['estimated_cost']


def test_the_labelling_builder_takes_the_vasp_protocol_for_engine_vasp(vasp_mock_code, frame, potcar_family):
    """``engine: vasp`` in the overrides fills dft_label from dft_label_vasp.yaml, not from CP2K's protocol."""
    overrides = {'engine': 'vasp', 'dft': {'potential_family': potcar_family, 'potential_mapping': {'Ti': 'Ti'}}}
    builder = DftLabelWorkChain.get_builder_from_protocol(vasp_mock_code, [frame], protocol='balanced',
                                                          overrides=overrides)
    assert builder.engine.value == 'vasp'
    assert builder.dft['incar']['ENCUT'] == 600 and 'basis_set' not in builder.dft.get_dict()
    assert DftLabelWorkChain.spec().inputs.validate(builder._inputs(prune=True)) is None


# --- refusals before anything is stored -----------------------------------------------------


def without(mapping: dict, key: str) -> dict:
    return {k: v for k, v in mapping.items() if k != key}


@pytest.mark.parametrize(('change', 'field', 'allowed'), [
    (lambda s: {**s, 'incar': without(s['incar'], 'ENCUT')}, 'dft.incar.ENCUT', 'missing; give a plane-wave cutoff'),
    (lambda s: {**s, 'incar': {**s['incar'], 'ENCUT': 20}}, 'dft.incar.ENCUT', '[100, 2000] eV'),
    (lambda s: {**s, 'incar': {**s['incar'], 'ISMEAR': -5}}, 'dft.incar.ISMEAR', 'tetrahedra need a k-mesh'),
    (lambda s: {**s, 'incar': {**s['incar'], 'nsw': 5}}, 'dft.incar.NSW', 'set by the labeller'),
    (lambda s: {**s, 'incar': {**s['incar'], 'KSPACING': 0.5}}, 'dft.incar.KSPACING', 'dft.kpoints_mesh'),
    (lambda s: {**s, 'incar': {**s['incar'], 'encut': 400}}, 'dft.incar.ENCUT', 'given twice'),
    (lambda s: {**s, 'potential_mapping': {'Ti': 'Ti'}}, 'dft.potential_mapping', "no POTCAR for ['O']"),
    (lambda s: {**s, 'potential_mapping': {'Ti': 'Ti_sv', 'O': 'O'}}, 'dft.potential_mapping', 'Ti_sv'),
    (lambda s: {**s, 'potential_family': 'PBE.54'}, 'dft.potential_family', "no POTCAR family 'PBE.54'"),
    (lambda s: {**s, 'kpoints_mesh': [2, 2]}, 'dft.kpoints_mesh', 'three positive integers'),
    (lambda s: without(s, 'kpoints_mesh'), 'dft', "missing keys ['kpoints_mesh']"),
    (lambda s: {**s, 'encut': 600}, 'dft', "unknown keys ['encut']"),
])
def test_refused_settings(vasp_mock_code, frame, recorded_settings, change, field, allowed):
    """One line naming the field and what is allowed; ``run`` raises and stores nothing."""
    builder = label_builder(vasp_mock_code, frame, change(recorded_settings))
    inputs = builder._inputs(prune=True)
    error = DftLabelWorkChain.spec().inputs.validate(inputs)
    assert error is not None and field in str(error) and allowed in str(error), str(error)
    assert '\n' not in str(error)
    before = node_count()
    with pytest.raises(ValueError, match=re.escape(field)):
        engine.run(DftLabelWorkChain, **inputs)
    assert node_count() == before
