"""Fixtures of the learning tests: DeePMD-kit's ``dp`` as registered by ``aiida-boroglass setup``."""
import pytest


@pytest.fixture(scope='session')
def dp_code(local_codes):
    """The registered ``dp`` (DeePMD-kit, TensorFlow backend), TensorFlow's log quiet."""
    from aiida import orm

    code = orm.load_code(f'dp@{local_codes.label}')
    assert code.filepath_executable.name == 'dp'
    return code
