"""The potential of boroglass.lammps: classical inputs unchanged, a DeePMD ensemble written and refused
before anything is stored."""
import io
from pathlib import Path

import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_boroglass.calculations.lammps import BoroglassLammpsCalculation
from aiida_boroglass.calculations.lammps_executable import PLUGINS_VARIABLE
from aiida_boroglass.glass.forcefields import build_forcefield

REFERENCES = Path(__file__).parent / 'references' / 'lammps'
REFERENCE_STAGES = [{'name': 'relax', 'type': 'minimize', 'maxiter': 50},
                    {'name': 'hold', 'type': 'nvt', 'steps': 100, 'temperature_k': 300.0, 'dump_every': 10},
                    {'name': 'squeeze', 'type': 'npt', 'steps': 100, 'temperature_k': 300.0, 'pressure_gpa': 1.0}]
TYPE_MAP = ['B', 'K', 'O']


def li2o_cluster():
    """Li-O-Li 2 Å apart along the diagonal of a 20 Å cube (the reference inputs' structure)."""
    structure = orm.StructureData(cell=[[20.0, 0, 0], [0, 20.0, 0], [0, 0, 20.0]])
    for index, symbol in enumerate(('Li', 'O', 'Li')):
        structure.append_atom(position=(2.0 * index, 2.0 * index, 2.0 * index), symbols=symbol)
    return structure


def models(count):
    """``count`` model files; their bytes name them (a dry run copies them, LAMMPS never reads them)."""
    return {f'model_{index}': orm.SinglefileData(io.BytesIO(f'model {index}'.encode()), filename='graph.pb')
            for index in range(count)}


def dry_run(code, structure, parameters, **potential):
    """Prepare the CalcJob without running it; its node and the folder it wrote."""
    builder = BoroglassLammpsCalculation.get_builder()
    builder.code = code
    builder.structure = structure
    builder.parameters = orm.Dict(parameters)
    for key, value in potential.items():
        setattr(builder, key, value)
    builder.metadata.options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}}
    builder.metadata.dry_run = True
    builder.metadata.store_provenance = False
    node = run_get_node(builder).node
    return node, Path(node.dry_run_info['folder'])


@pytest.mark.parametrize('name', ['deng_du', 'shik'])
def test_classical_inputs_are_byte_for_byte_those_of_before(lammps_code, tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    forcefield = orm.Dict(build_forcefield(name, {'Li': 2, 'O': 1}))
    _, folder = dry_run(lammps_code, li2o_cluster(), {'stages': REFERENCE_STAGES, 'restart_every': 50},
                        forcefield=forcefield)
    assert (folder / 'input.in').read_text() == (REFERENCES / f'{name}.in').read_text()
    assert (folder / 'structure.data').read_text() == (REFERENCES / f'{name}.data').read_text()
    assert PLUGINS_VARIABLE not in (folder / '_aiidasubmit.sh').read_text()  # no TensorFlow for a classical run


def test_an_ensemble_is_reloaded_per_stage_with_its_own_deviation_file(lammps_code, k_borate_21, tmp_path, monkeypatch):
    """Two models: the minimisation on m0 alone, each MD stage with both and its own model_devi file."""
    monkeypatch.chdir(tmp_path)
    node, folder = dry_run(lammps_code, k_borate_21, {'stages': REFERENCE_STAGES}, models=models(2),
                           deepmd=orm.Dict({'type_map': TYPE_MAP, 'model_deviation_every': 10}))
    script = (folder / 'input.in').read_text().splitlines()
    assert [line for line in script if line.startswith('pair_')] == [
        'pair_style none', 'pair_style deepmd m0.pb', 'pair_coeff * * B K O',
        'pair_style none', 'pair_style deepmd m0.pb m1.pb out_file model_devi.s1.out out_freq 10', 'pair_coeff * * B K O',
        'pair_style none', 'pair_style deepmd m0.pb m1.pb out_file model_devi.s2.out out_freq 10', 'pair_coeff * * B K O',
    ]
    begin = script.index('print "BOROGLASS_STAGE_BEGIN 1 hold"')
    assert script[begin + 2:begin + 5] == ['pair_style none', 'pair_style deepmd m0.pb m1.pb out_file model_devi.s1.out '
                                           'out_freq 10', 'pair_coeff * * B K O']  # after reset_timestep, before the run
    assert not any(line.startswith(('kspace_style', 'pair_style table', 'pair_style hybrid')) for line in script)
    assert (folder / 'm0.pb').read_bytes() == b'model 0' and (folder / 'm1.pb').read_bytes() == b'model 1'
    atoms = (folder / 'structure.data').read_text().split('Atoms # charge\n\n')[1].splitlines()
    assert len(atoms) == 21 and {line.split()[2] for line in atoms} == {'0.0000000000'}
    assert 'model_devi.s*.out' in node.get_retrieve_temporary_list()
    submit = (folder / '_aiidasubmit.sh').read_text()
    assert submit.index(f'export {PLUGINS_VARIABLE}=1') < submit.index('boroglass-lmp')  # set before LAMMPS starts
    assert 'export DP_INTRA_OP_PARALLELISM_THREADS=${DP_INTRA_OP_PARALLELISM_THREADS:-1}' in submit  # one core each


def test_one_model_is_loaded_once_without_a_deviation_file(lammps_code, k_borate_21, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, folder = dry_run(lammps_code, k_borate_21, {'stages': REFERENCE_STAGES}, models=models(1),
                        deepmd=orm.Dict({'type_map': ['O', 'K', 'B', 'Li']}))
    script = (folder / 'input.in').read_text().splitlines()
    assert [line for line in script if line.startswith('pair_')] == ['pair_style deepmd m0.pb', 'pair_coeff * * B K O']
    assert script.index('pair_style deepmd m0.pb') == script.index('read_data structure.data') + 1


@pytest.mark.parametrize('potential, message', [
    ({'models': 2, 'deepmd': {'type_map': ['B', 'O'], 'model_deviation_every': 10}},
     r"deepmd.type_map: the models know \['B', 'O'\], not the elements \['K'\]"),
    ({'models': 1, 'deepmd': {'type_map': TYPE_MAP, 'model_deviation_every': 10}},
     'models: a model deviation needs at least 2 models, got 1'),
    ({'models': 2, 'deepmd': {'type_map': TYPE_MAP}}, 'deepmd.model_deviation_every: 2 models given'),
    ({'models': 2, 'deepmd': {'type_map': TYPE_MAP, 'model_deviation_every': 0}}, 'deepmd.model_deviation_every: must be'),
    ({'models': 2, 'deepmd': {'type_map': ['B', 'K', 'O', 'O'], 'model_deviation_every': 5}}, 'deepmd.type_map: must be'),
    ({'models': 2, 'deepmd': {'type_map': TYPE_MAP, 'model_deviation_every': 5, 'cutoff': 6.0}}, 'deepmd: unknown keys'),
    ({'models': 2}, 'deepmd: required with `models`'),
    ({}, 'forcefield/models: give the potential'),
    ({'models': 2, 'deepmd': {'type_map': TYPE_MAP, 'model_deviation_every': 5}, 'forcefield': True},
     'forcefield/models: give the potential'),
])
def test_bad_potentials_are_refused_naming_the_field(lammps_code, k_borate_21, potential, message):
    builder = BoroglassLammpsCalculation.get_builder()
    builder.code = lammps_code
    builder.structure = k_borate_21
    builder.parameters = orm.Dict({'stages': REFERENCE_STAGES})
    builder.metadata.options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}}
    if 'models' in potential:
        builder.models = models(potential['models'])
    if 'deepmd' in potential:
        builder.deepmd = orm.Dict(potential['deepmd'])
    if 'forcefield' in potential:
        builder.forcefield = orm.Dict(build_forcefield('deng_du', {'K': 4, 'B': 6, 'O': 11}, ratio_r=4 / 6))
    before = orm.QueryBuilder().append(orm.CalcJobNode).count()
    with pytest.raises(ValueError, match=message):
        run_get_node(builder)
    assert orm.QueryBuilder().append(orm.CalcJobNode).count() == before
