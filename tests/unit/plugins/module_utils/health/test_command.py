"""The health agent's command line (health/command.py): the installed script run by the host's Python;
quoted for systemd; the directories the service may write."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.health import command


@pytest.mark.parametrize("arg, quoted", [
    ("/etc/nginx/antman.d", '"/etc/nginx/antman.d"'),
    ("/srv/my dir/50%$HOME\\\"", '"/srv/my dir/50%%$$HOME\\\\\\""'),
])
def test_the_unit_s_command_line_is_quoted_for_systemd(arg, quoted):
    assert command.systemd_command_line([arg]) == quoted


def test_the_command_runs_the_installed_script_with_the_host_s_python():
    argv = command.command("/usr/bin/python3", "/usr/local/lib/antsle-antman", "/etc/nginx/antman.d", "nginx", "/etc/nginx/nginx.conf")
    assert argv[:3] == ["/usr/bin/python3", "-B", "/usr/local/lib/antsle-antman/antman-health"]


def test_writable_paths():
    assert command.writable_paths("/etc/nginx/antman.d/", ["/var/log/nginx/antman_access.log", "/run/nginx.pid"]) == [
        "/etc/nginx", "/run", "/var/log/nginx"]
