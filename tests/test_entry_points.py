"""Every AiiDA entry point of the package is namespaced ``boroglass.*`` and loads."""
from importlib.metadata import entry_points

import pytest

AIIDA_GROUPS = ('aiida.calculations', 'aiida.parsers', 'aiida.workflows', 'aiida.data')


def _ours():
    return [ep for group in AIIDA_GROUPS for ep in entry_points(group=group) if ep.value.startswith('aiida_boroglass')]


def test_entry_points_are_namespaced_and_present():
    names = {ep.name for ep in _ours()}
    assert names >= {'boroglass.lammps', 'boroglass.packmol', 'boroglass.melt_quench', 'boroglass.composition'}
    assert all(name.startswith('boroglass.') for name in names)


@pytest.mark.parametrize('entry_point', _ours(), ids=lambda ep: f'{ep.group}:{ep.name}')
def test_entry_point_loads(entry_point):
    assert entry_point.load() is not None


def test_verdi_data_group_is_registered():
    (ep,) = [ep for ep in entry_points(group='aiida.cmdline.data') if ep.name == 'boroglass']
    assert ep.load().name == 'boroglass'
