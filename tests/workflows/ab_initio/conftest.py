"""VASP without VASP: aiida-vasp's mock-vasp replaying the recorded runs of tests/fixtures/vasp, and stand-in POTCARs."""
import pathlib

import pytest

#: The registry of recorded VASP runs (``<case>/inp``, ``<case>/out``) and the stand-in POTCARs.
VASP_FIXTURES = pathlib.Path(__file__).parents[2] / 'fixtures' / 'vasp'

#: Label of the POTCAR family the tests upload.
POTCAR_FAMILY = 'boroglass-test-potcars'


@pytest.fixture(scope='session')
def vasp_mock_code(local_codes):
    """aiida-vasp's ``mock-vasp`` (strict: a run whose INCAR, POSCAR and KPOINTS match no recorded case fails)."""
    from aiida import orm

    from aiida_boroglass.cli.setup import find_executable

    executable = find_executable('mock-vasp')
    assert executable, 'mock-vasp not found: install aiida-vasp in this environment'
    return orm.InstalledCode(
        label='mock-vasp', computer=local_codes, filepath_executable=executable,
        default_calc_job_plugin='vasp.vasp', prepend_text=f'export MOCK_VASP_REG_BASE={VASP_FIXTURES}',
    ).store()


@pytest.fixture(scope='session')
def potcar_family(aiida_profile):
    """The stand-in POTCARs of tests/fixtures/vasp/potcars uploaded as one family; its label."""
    from aiida_vasp.data.potcar import PotcarData

    PotcarData.upload_potcar_family(str(VASP_FIXTURES / 'potcars'), POTCAR_FAMILY, 'stand-in POTCARs (no data)',
                                    stop_if_existing=False)
    return POTCAR_FAMILY
