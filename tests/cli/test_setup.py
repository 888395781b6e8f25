"""``aiida-boroglass setup``'s computers: their transport runs commands in a non-login shell."""
from aiida import orm

from aiida_boroglass.cli.setup import configure_transport, ensure_computer


def test_setup_computer_polls_without_a_login_shell(aiida_profile, tmp_path):
    """The local computer of ``setup`` runs its commands (job polls included) with ``bash``, not ``bash -l``."""
    computer = ensure_computer(workdir=str(tmp_path))
    assert computer.get_authinfo(orm.User.collection.get_default()).get_auth_params()['use_login_shell'] is False
    with computer.get_transport() as transport:
        assert transport._bash_command_str.strip() == 'bash'


def test_a_computer_configured_with_a_login_shell_is_switched_and_keeps_its_other_settings(aiida_profile, tmp_path):
    user = orm.User.collection.get_default()
    old = orm.Computer(label='setup-test-old', hostname='localhost', transport_type='core.local',
                       scheduler_type='core.direct', workdir=str(tmp_path)).store()
    old.configure(user, use_login_shell=True, safe_interval=0.5)
    configure_transport(old)
    assert old.get_authinfo(user).get_auth_params() == {'use_login_shell': False, 'safe_interval': 0.5}
