"""Shared fixtures: a temporary AiiDA configuration, the embedded profile and the engine codes."""
import os
import tempfile

# Never touch the user's ~/.aiida: every AiiDA configuration of the test session lives here.
os.environ['AIIDA_PATH'] = tempfile.mkdtemp(prefix='boroglass-aiida-')

import pytest  # noqa: E402

pytest_plugins = ['aiida.tools.pytest_fixtures']


@pytest.fixture(scope='session')
def aiida_profile(aiida_config, aiida_profile_factory):
    """The embedded profile of the quick start: SQLite storage and the ZeroMQ broker."""
    with aiida_profile_factory(aiida_config, storage_backend='core.sqlite_dos', broker_backend='core.zeromq') as profile:
        yield profile


@pytest.fixture(scope='session')
def local_codes(aiida_profile, tmp_path_factory):
    """Computer and codes registered exactly as ``aiida-boroglass setup`` does; LAMMPS and packmol required."""
    from aiida_boroglass.cli.setup import ensure_codes, ensure_computer

    computer = ensure_computer(workdir=str(tmp_path_factory.mktemp('aiida_run')))
    found = ensure_codes(computer)
    missing = {'lmp', 'packmol'} - set(found)
    assert not missing, f'engines {sorted(missing)} not found: install the package with the "engines" extra'
    return computer


@pytest.fixture(scope='session')
def lammps_code(local_codes):
    """The registered LAMMPS code."""
    from aiida import orm

    return orm.load_code(f'lmp@{local_codes.label}')


@pytest.fixture(scope='session')
def packmol_code(local_codes):
    """The registered packmol code."""
    from aiida import orm

    return orm.load_code(f'packmol@{local_codes.label}')


@pytest.fixture(scope='session')
def tiny_overrides():
    """Protocol overrides for a 150-atom glass made in a few ps: CLI and daemon tests, not physics."""
    return {
        'n_atoms': 150,
        'schedule': {'push_off_ps': 0.2, 'melt_ps': 1.0, 'cooling_rate_k_ps': 2000.0, 'relax_nvt_ps': 0.5,
                     'relax_npt_ps': 0.5, 'production_ps': 0.5, 'dump_every_ps': 0.1},
    }
