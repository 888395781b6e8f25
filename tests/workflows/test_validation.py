"""Inputs that used to run a whole melt-quench (or all MD of a diffusion) and then fail are refused at launch.

Each bad input is made the way a user makes it (``get_builder_from_protocol`` with overrides,
or a builder), refused by the process spec with a one-line message naming the field as the
input is called, and ``aiida.engine.run`` raises before any node is stored. No LAMMPS runs.
"""
import re

import numpy as np
import pytest
from aiida import engine, orm

from aiida_boroglass.data.composition import CompositionData
from aiida_boroglass.functions.glass import resolve_forcefield
from aiida_boroglass.glass.composition import Composition
from aiida_boroglass.workflows.diffusion import DiffusionWorkChain
from aiida_boroglass.workflows.medium_range import MediumRangeWorkChain
from aiida_boroglass.workflows.melt_quench import MeltQuenchWorkChain
from aiida_boroglass.workflows.screening import ScreeningWorkChain
from aiida_boroglass.workflows.structure_panel import StructurePanelWorkChain

#: 30Li2O-70B2O3 in the notation the builders take.
LB30 = '30Li2O-70B2O3'


def node_count() -> int:
    return orm.QueryBuilder().append(orm.Node).count()


def assert_refused(process, inputs: dict, field: str, allowed: str = ''):
    """The spec refuses ``inputs`` in one line naming ``field`` (and ``allowed``); ``run`` raises, stores nothing."""
    error = process.spec().inputs.validate(inputs)
    assert error is not None, f'{field}: accepted'
    assert field in str(error) and allowed in str(error) and '\n' not in str(error), str(error)
    before = node_count()
    with pytest.raises(ValueError, match=re.escape(field)):
        engine.run(process, **inputs)
    assert node_count() == before


def melt_quench_inputs(lammps_code, composition=LB30, **overrides) -> dict:
    """The inputs of a fast melt-quench from the protocol, as a launch would pass them."""
    builder = MeltQuenchWorkChain.get_builder_from_protocol(lammps_code, composition, protocol='fast',
                                                            overrides=overrides)
    return builder._inputs(prune=True)


@pytest.mark.parametrize(('spec', 'x', 'overrides', 'field', 'allowed'), [
    ('Li2O-B2O3', 1.0, {}, 'composition', 'has no B2O3'),
    ('(Li2O)40(B2O3)30(P2O5)30', None, {'forcefield': 'shik', 'density_g_cm3': 2.3}, 'forcefield',
     "'shik' has no parameters for P"),
    ('10Al2O3-30Li2O-60B2O3', None, {}, 'density_g_cm3', 'no glass of densities.yaml holds Al2O3'),
])
def test_melt_quench_refuses_glasses_it_cannot_make_or_analyse(lammps_code, packmol_code, spec, x, overrides,
                                                               field, allowed):
    """No boron: N4 impossible after all MD; SHIK has no P: the force field fails after packing; no cited glass
    holds Al2O3: no density to pack at."""
    composition = CompositionData(spec, x=x) if x is not None else CompositionData(spec)
    assert_refused(MeltQuenchWorkChain, melt_quench_inputs(lammps_code, composition, **overrides), field, allowed)


def test_melt_quench_accepts_a_glass_whose_density_is_extrapolated(lammps_code, packmol_code):
    """80Li2O-20B2O3 lies beyond the cited densities: the model's value (with a warning) is used, not refused."""
    inputs = melt_quench_inputs(lammps_code, CompositionData('80Li2O-20B2O3'))
    assert MeltQuenchWorkChain.spec().inputs.validate(inputs) is None


def test_screening_refuses_the_composition_without_boron_by_key(lammps_code, packmol_code):
    """`screen Li2O-B2O3 --x 0.3,1.0`: the x = 1 glass (no B2O3) is named before any melt-quench starts."""
    inputs = melt_quench_inputs(lammps_code)
    inputs.pop('composition')
    screening = {'compositions': {'x0300': CompositionData('Li2O-B2O3', x=0.3),
                                  'x1000': CompositionData('Li2O-B2O3', x=1.0)}, 'melt_quench': inputs}
    assert_refused(ScreeningWorkChain, screening, 'compositions.x1000: composition: 100Li2O has no B2O3')


@pytest.mark.parametrize('replicas', [0, 51])
def test_screening_refuses_a_replica_count_out_of_range(lammps_code, packmol_code, replicas):
    inputs = melt_quench_inputs(lammps_code)
    inputs.pop('composition')
    screening = {'compositions': {'x0300': CompositionData('Li2O-B2O3', x=0.3)}, 'melt_quench': inputs,
                 'replicas': orm.Int(replicas)}
    assert_refused(ScreeningWorkChain, screening, 'replicas', '[1, 50]')


@pytest.mark.parametrize(('overrides', 'field', 'port', 'value', 'allowed'), [
    ({'density_g_cm3': -2.0}, 'density_g_cm3', ('density_g_cm3',), -2.0, '[0.5, 10.0] g/cm^3'),
    ({'packing': {'tolerance_a': -1.0}}, 'packing.tolerance_a', ('packing', 'tolerance_a'), -1.0, '[0.5, 3.0] Å'),
    ({'md': {'restart_every': -5}}, 'md_parameters.restart_every', ('md_parameters',), None,
     'non-negative integer number of steps'),
    ({'analysis': {'cutoff_bo_a': -1.0}}, 'cutoff_bo_a', ('cutoff_bo_a',), -1.0, '[1.6, 2.4] Å'),
])
def test_melt_quench_refuses_out_of_range_values(lammps_code, packmol_code, overrides, field, port, value, allowed):
    """The protocol builder refuses the override; a launch with the value refuses it too."""
    with pytest.raises(ValueError, match=field.replace('.', r'\.')) as refused:
        MeltQuenchWorkChain.get_builder_from_protocol(lammps_code, LB30, protocol='fast', overrides=overrides)
    assert allowed in str(refused.value)
    inputs = melt_quench_inputs(lammps_code)
    if port == ('md_parameters',):
        inputs['md_parameters'] = orm.Dict({**inputs['md_parameters'].get_dict(), 'restart_every': -5})
    elif len(port) == 2:
        inputs[port[0]] = {**inputs[port[0]], port[1]: orm.Float(value)}
    else:
        inputs[port[0]] = orm.Float(value)
    assert_refused(MeltQuenchWorkChain, inputs, field, allowed)


@pytest.mark.parametrize(('overrides', 'key'), [
    ({'schedule': {'melt_temp_k': 3000.0}}, 'schedule.melt_temp_k'),
    ({'analysis': {'cutoff_bo': 1.9}}, 'analysis.cutoff_bo'),
    ({'packing': {'tolerance': 1.5}}, 'packing.tolerance'),
    ({'n_atom': 300}, 'n_atom'),
])
def test_unknown_override_keys_are_refused_naming_the_key(lammps_code, packmol_code, overrides, key):
    """A misspelt key would be dropped silently (analysis, packing) or fail late; it is refused by name."""
    with pytest.raises(ValueError, match=f"unknown key '{key}'"):
        MeltQuenchWorkChain.get_builder_from_protocol(lammps_code, LB30, protocol='fast', overrides=overrides)


def test_unknown_schedule_key_given_directly_is_refused(lammps_code, packmol_code):
    inputs = melt_quench_inputs(lammps_code)
    inputs['schedule'] = orm.Dict({**inputs['schedule'].get_dict(), 'melt_temp_k': 3000.0})
    assert_refused(MeltQuenchWorkChain, inputs, 'schedule:', "unknown keys ['melt_temp_k']")


@pytest.mark.parametrize(('key', 'value'), [('melt_ps', 'long'), ('cooling_rate_k_ps', None)])
def test_schedule_value_that_is_no_number_is_refused_not_raised(lammps_code, packmol_code, key, value):
    inputs = melt_quench_inputs(lammps_code)
    inputs['schedule'] = orm.Dict({**inputs['schedule'].get_dict(), key: value})
    assert_refused(MeltQuenchWorkChain, inputs, f'schedule.{key}', 'must be a finite number')


def test_integer_density_and_cutoff_are_accepted_as_floats(lammps_code, packmol_code):
    """`--density 2` gives an int; the Float ports take it as 2.0 (to_aiida_type made an Int the port refused)."""
    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        lammps_code, LB30, protocol='fast', overrides={'density_g_cm3': 2, 'analysis': {'cutoff_bo_a': 2},
                                                      'packing': {'tolerance_a': 2}})
    assert isinstance(builder.density_g_cm3, orm.Float) and builder.density_g_cm3.value == 2.0
    assert isinstance(builder.cutoff_bo_a, orm.Float) and builder.cutoff_bo_a.value == 2.0
    assert isinstance(builder.packing.tolerance_a, orm.Float)
    assert MeltQuenchWorkChain.spec().inputs.validate(builder._inputs(prune=True)) is None


@pytest.fixture
def replica():
    """A small Li borate cell (positions do not matter for validation)."""
    structure = orm.StructureData(cell=(np.eye(3) * 12.0).tolist())
    for index, symbol in enumerate(['Li'] * 6 + ['B'] * 14 + ['O'] * 24):
        structure.append_atom(position=(np.array([index % 4, index // 4 % 4, index // 16]) * 3.0).tolist(),
                              symbols=symbol)
    return structure


def test_diffusion_refuses_a_d2min_interval_longer_than_the_production_run(lammps_code, replica):
    """fast: 50 ps production; a 60 ps D2min interval failed after all NVT runs, now at launch."""
    forcefield = orm.Dict(resolve_forcefield(Composition.parse('Li2O-B2O3', x=0.3), 'deng_du', 400))
    builder = DiffusionWorkChain.get_builder_from_protocol(
        lammps_code, [replica], forcefield, protocol='fast', overrides={'parameters': {'d2min_interval_ps': 60.0}})
    inputs = builder._inputs(prune=True)
    assert_refused(DiffusionWorkChain, inputs, 'parameters.d2min_interval_ps: 60 ps',
                   'spans the whole production run (501 frames, 50 ps)')
    inputs['parameters'] = orm.Dict({'d2min_interval_ps': 49.0})
    assert DiffusionWorkChain.spec().inputs.validate(inputs) is None


@pytest.mark.parametrize(('md', 'message'), [
    ({'restart_every': -1}, 'md_parameters.restart_every: must be a non-negative integer number of steps, got -1'),
    ({'thermo_every': 10.5}, 'md_parameters.thermo_every: must be a non-negative integer number of steps'),
    ({'seed': 0}, 'md_parameters.seed: must be an integer in [1, 2147483647], got 0'),
    ({'thermostat_damping_ps': -0.1}, 'md_parameters.thermostat_damping_ps: must be a finite number > 0'),
    ({'timestep_fs': 10.0}, 'md_parameters.timestep_fs: 10.0 fs is outside (0, 5] fs'),
    ({'neighbour_skin_a': 2.0}, "md_parameters: unknown keys ['neighbour_skin_a']"),
])
def test_diffusion_refuses_md_parameters_at_launch(lammps_code, replica, md, message):
    """Every MD setting is checked when the builder is filled, not when LAMMPS is submitted."""
    forcefield = orm.Dict(resolve_forcefield(Composition.parse('Li2O-B2O3', x=0.3), 'deng_du', 400))
    with pytest.raises(ValueError, match=re.escape(message)):
        DiffusionWorkChain.get_builder_from_protocol(lammps_code, [replica], forcefield, protocol='fast',
                                                     overrides={'md': md})


def structure_of(cell_a: float, symbols):
    """A cubic cell of edge ``cell_a`` Å with ``symbols`` along its diagonal."""
    structure = orm.StructureData(cell=(np.eye(3) * cell_a).tolist())
    for index, symbol in enumerate(symbols):
        structure.append_atom(position=[(index + 0.5) * cell_a / len(symbols)] * 3, symbols=symbol)
    return structure


@pytest.mark.parametrize(('cell_a', 'symbols', 'parameters', 'field'), [
    (3.0, ['B', 'O', 'O'], {}, 'glass: the cell is too small for persistent homology'),
    (12.0, ['Li', 'O'], {}, "needs B or P or Si or Al; the glass holds ['Li', 'O']"),
    (12.0, ['B', 'O'], {'cavity_resolution_a': 1.5}, 'parameters.cavity_resolution_a must be at most 0.5 x'),
])
def test_medium_range_checks_the_glass_at_launch(aiida_profile, cell_a, symbols, parameters, field):
    """Each failed late: homology after rings, rings without a network, the cavity grid last."""
    inputs = {'glass': structure_of(cell_a, symbols), 'parameters': orm.Dict(parameters)}
    assert_refused(MediumRangeWorkChain, inputs, field)


@pytest.mark.parametrize(('symbols', 'parameters', 'field'), [
    (['B', 'B'], {}, 'glass: the structure panel needs O'),
    (['B', 'O'], {'cutoffs_a': {'P-O': 2.0}}, "parameters.cutoffs_a['P-O']: the glass has no P"),
    (['B', 'O'], {'isotopes': {'Li': 6}}, "parameters.isotopes: isotopes names elements ['Li'] that are not in"),
    (['B', 'O'], {'isotopes': {'B': 12345}}, "parameters.isotopes: isotopes['B'] = 12345 is not a known isotope"),
])
def test_structure_panel_checks_the_glass_at_launch(aiida_profile, symbols, parameters, field):
    inputs = {'glass': structure_of(12.0, symbols), 'parameters': orm.Dict(parameters)}
    assert_refused(StructurePanelWorkChain, inputs, field)


def test_structure_panel_refuses_an_unreadable_experiment(aiida_profile, tmp_path):
    path = tmp_path / 'T.dat'
    path.write_text('1.0 2.0\nnot numbers\n')
    inputs = {'glass': structure_of(12.0, ['B', 'O']), 'experiment': orm.SinglefileData(path),
              'experiment_quantity': orm.Str('T_neutron')}
    assert_refused(StructurePanelWorkChain, inputs, 'experiment: ', "expected two finite numbers (x, y), got 'not numbers'")
