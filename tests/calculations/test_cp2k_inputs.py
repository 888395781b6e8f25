"""CP2K inputs of the ab initio workflows: reference inputs per protocol, CP2K's own syntax check, the paper's settings."""
import os
import pathlib
import shutil
import subprocess

import pytest
from aiida_cp2k.utils import Cp2kInput

from aiida_boroglass.calculations.cp2k_inputs import (
    BASIS_SETS,
    MIN_ATOMS,
    PSEUDOPOTENTIALS,
    continue_from_parent,
    geo_opt_parameters,
    md_parameters,
    single_point_parameters,
    validate_atom_count,
    validate_dft_settings,
    validate_field,
)
from aiida_boroglass.glass.schedule import aimd_stages
from aiida_boroglass.workflows.ab_initio.aimd import AimdWorkChain

REFERENCES = pathlib.Path(__file__).parent / 'references' / 'cp2k'
PARENT_RESTART = pathlib.Path(__file__).parents[1] / 'parsers' / 'fixtures' / 'cp2k_md' / 'aiida-1.restart'
#: Set to regenerate the reference inputs after a deliberate change (then read the diff).
REGENERATE = os.environ.get('BOROGLASS_REGENERATE_REFERENCES') == '1'
ELEMENTS = ['K', 'K', 'B', 'B', 'B', 'O', 'O', 'O', 'O', 'O']


def rendered(parameters: dict) -> str:
    """The input file text aiida-cp2k writes for ``parameters`` (project name added as Cp2kCalculation does)."""
    inp = Cp2kInput(parameters)
    inp.add_keyword('GLOBAL/PROJECT', 'aiida')
    return inp.render()


def protocol_inputs(protocol: str) -> dict[str, dict]:
    """Every kind of CP2K input a protocol produces: geometry, first and continued stage, field stage, label."""
    inputs = AimdWorkChain.get_protocol_inputs(protocol)
    dft, md = inputs['dft'], inputs['md']
    stages = aimd_stages(inputs['schedule'], md['timestep_fs'])
    fixed = [i for i, element in enumerate(ELEMENTS) if element != 'K']
    return {
        'geo_opt': geo_opt_parameters(ELEMENTS, dft, inputs['geo_opt']),
        'first_stage': md_parameters(ELEMENTS, dft, stages[0]['temperature_k'], stages[0]['steps'], md),
        'top_stage': continue_from_parent(
            md_parameters(ELEMENTS, dft, stages[3]['temperature_k'], stages[3]['steps'], md), restart_thermostat=False),
        'field_stage': continue_from_parent(md_parameters(
            ELEMENTS, dft, stages[-1]['temperature_k'], 100, md, field_au=[0, 0, 0.02],
            fixed_atoms=fixed), restart_thermostat=False),
        'single_point': single_point_parameters(ELEMENTS, dft),
    }


CASES = [(protocol, kind) for protocol in ('fast', 'balanced', 'stringent')
         for kind in ('geo_opt', 'first_stage', 'top_stage', 'field_stage', 'single_point')]


@pytest.mark.parametrize('protocol,kind', CASES)
def test_input_matches_reference(protocol, kind):
    """Each protocol's inputs are exactly the reviewed reference files (file regression)."""
    text = rendered(protocol_inputs(protocol)[kind])
    path = REFERENCES / f'{protocol}_{kind}.inp'
    if REGENERATE:
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize('protocol', ['fast', 'balanced', 'stringent'])
def test_cp2k_accepts_every_reference(protocol, tmp_path):
    """CP2K 2023.1 parses every reference input of the protocol (``cp2k.psmp --check``).

    A continued stage reads ``parent_calc/aiida-1.restart`` even when only checked: the real
    restart file of the MD parser fixture stands in for the previous stage.
    """
    (tmp_path / 'parent_calc').mkdir()
    shutil.copy(PARENT_RESTART, tmp_path / 'parent_calc' / 'aiida-1.restart')
    for kind in ('geo_opt', 'first_stage', 'top_stage', 'field_stage', 'single_point'):
        path = REFERENCES / f'{protocol}_{kind}.inp'
        result = subprocess.run(['cp2k.psmp', '--check', str(path)], capture_output=True, text=True, check=False,
                                cwd=tmp_path)
        assert 'SUCCESS, the input could be parsed correctly' in result.stdout, (path.name, result.stdout[-2000:])


def test_stringent_is_paper_000():
    """PBE, DZVP-MOLOPT, GTH pseudopotentials, Nose-Hoover chain of 3, 1 fs, the 298-1398 K ladder (paper 000)."""
    inputs = AimdWorkChain.get_protocol_inputs('stringent')
    params = protocol_inputs('stringent')['first_stage']
    force_eval, md = params['FORCE_EVAL'], params['MOTION']['MD']
    assert force_eval['DFT']['XC']['XC_FUNCTIONAL']['_'] == 'PBE'
    assert {kind['_']: (kind['BASIS_SET'], kind['POTENTIAL']) for kind in force_eval['SUBSYS']['KIND']} == {
        'B': ('DZVP-MOLOPT-SR-GTH', 'GTH-PBE-q3'), 'K': ('DZVP-MOLOPT-SR-GTH', 'GTH-PBE-q9'),
        'O': ('DZVP-MOLOPT-SR-GTH', 'GTH-PBE-q6')}
    assert (md['ENSEMBLE'], md['TIMESTEP'], md['THERMOSTAT']['TYPE'], md['THERMOSTAT']['NOSE']['LENGTH']) == \
        ('NVT', 1.0, 'NOSE', 3)
    stages = aimd_stages(inputs['schedule'], 1.0)
    assert [s['temperature_k'] for s in stages] == [298.15, 698.15, 1098.15, 1398.15, 1098.15, 698.15, 298.15, 298.15]
    assert [s['steps'] for s in stages] == [10000, 10000, 10000, 20000, 10000, 10000, 20000, 20000]
    assert inputs['n_atoms'] == 400


def test_field_is_berry_phase_along_its_direction():
    """0.02 a.u. along z becomes PERIODIC_EFIELD intensity 0.02 with polarisation 0 0 1; fixed atoms 1-based."""
    dft = AimdWorkChain.get_protocol_inputs('fast')['dft']
    md = AimdWorkChain.get_protocol_inputs('fast')['md']
    params = md_parameters(ELEMENTS, dft, 300.0, 10, md, field_au=[0.0, 0.03, 0.04], fixed_atoms=[2, 3])
    field = params['FORCE_EVAL']['DFT']['PERIODIC_EFIELD']
    assert field['INTENSITY'] == pytest.approx(0.05)
    assert field['POLARISATION'] == '0 0.6 0.8'
    assert params['MOTION']['CONSTRAINT']['FIXED_ATOMS']['LIST'] == '3 4'


def test_continuation_keeps_counter_and_restarts_thermostat_only_when_asked():
    """A continued stage restarts positions, velocities and the step counter; the thermostat only on request."""
    dft = AimdWorkChain.get_protocol_inputs('fast')['dft']
    md = AimdWorkChain.get_protocol_inputs('fast')['md']
    base = md_parameters(ELEMENTS, dft, 300.0, 10, md)
    same = continue_from_parent(base, restart_thermostat=True)['EXT_RESTART']
    new = continue_from_parent(base, restart_thermostat=False)
    assert (same['RESTART_POS'], same['RESTART_VEL'], same['RESTART_COUNTERS'], same['RESTART_THERMOSTAT']) == \
        ('.TRUE.', '.TRUE.', '.TRUE.', '.TRUE.')
    assert new['EXT_RESTART']['RESTART_THERMOSTAT'] == '.FALSE.'
    assert new['FORCE_EVAL']['DFT']['SCF']['SCF_GUESS'] == 'RESTART'
    assert base['FORCE_EVAL']['DFT']['SCF']['SCF_GUESS'] == 'ATOMIC'  # the input is not modified


@pytest.mark.parametrize('change,field', [
    ({'basis_set': 'TZV2P-GTH'}, 'dft.basis_set'),
    ({'cutoff_ry': 20}, 'dft.cutoff_ry'),
    ({'eps_scf': 0.1}, 'dft.eps_scf'),
    ({'max_scf': 0}, 'dft.max_scf'),
    ({'scf_method': 'davidson'}, 'dft.scf_method'),
    ({'kpoints': [2, 2]}, 'dft.kpoints'),
    ({'smearing': True}, "dft: unknown keys ['smearing']"),
])
def test_bad_dft_setting_is_named(change, field):
    """Every bad DFT setting is refused in one line naming it and the allowed values."""
    dft = {**AimdWorkChain.get_protocol_inputs('fast')['dft'], **change}
    message = validate_dft_settings(dft, ELEMENTS)
    assert message.startswith(field) and '\n' not in message


def test_element_without_pseudopotential_is_named():
    """Al has no pseudopotential in the table: refused, naming the element and the ones covered."""
    message = validate_dft_settings(AimdWorkChain.get_protocol_inputs('fast')['dft'], ['Al', 'O'])
    assert "['Al']" in message and str(sorted(PSEUDOPOTENTIALS)) in message
    assert validate_dft_settings(AimdWorkChain.get_protocol_inputs('fast')['dft'], ['Li', 'Na', 'K', 'B', 'P', 'Si', 'O']) is None


def test_every_family_element_has_both_basis_sets_in_cp2k_data():
    """Every element of the families has each basis of BASIS_SETS and its pseudopotential in Debian's CP2K data."""
    basis = pathlib.Path('/usr/share/cp2k/BASIS_MOLOPT').read_text().split('\n')
    potentials = pathlib.Path('/usr/share/cp2k/GTH_POTENTIALS').read_text().split('\n')
    for element, potential in PSEUDOPOTENTIALS.items():
        for name in BASIS_SETS:
            assert any(line.split()[:2] == [element, name] for line in basis if line.strip()), (element, name)
        assert any(line.split()[:2] == [element, potential] for line in potentials if line.strip()), element


def test_atom_count_and_field_checks():
    """Too few atoms and malformed fields are refused; the paper's field is accepted."""
    assert validate_atom_count(MIN_ATOMS) is None
    assert f'at least {MIN_ATOMS} atoms' in validate_atom_count(MIN_ATOMS - 1)
    assert validate_field([0, 0, 0.02]) is None
    assert 'three numbers' in validate_field([0, 0.02])
    assert 'zero' in validate_field([0, 0, 0])
