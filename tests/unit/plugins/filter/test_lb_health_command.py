"""Filter lb_health_command: the health agent's unit gets the command line and the writable
directories the agent's own code computes (health/command.py), for the host's Python."""
from ansible_collections.antsle.antman.plugins.filter.lb_health_command import lb_health_command
from ansible_collections.antsle.antman.plugins.module_utils.health import command


def test_the_unit_runs_what_the_agent_s_module_would_start():
    args = ("/usr/local/lib/antsle-antman", "/etc/nginx/antman.d", "/usr/sbin/nginx", "/etc/nginx/nginx.conf")
    got = lb_health_command("/usr/bin/python3", *args, writable=["/var/log/nginx/antman_access.log", "/run/nginx.pid"],
                            metrics_listen="127.0.0.1:9146", metrics_allow=["127.0.0.1"], access_log="/var/log/nginx/a.log")
    argv = command.command("/usr/bin/python3", *args, metrics_listen="127.0.0.1:9146", metrics_allow=["127.0.0.1"],
                           access_log="/var/log/nginx/a.log")
    assert got["command"] == argv and got["exec_start"] == command.systemd_command_line(argv)
    assert got["exec_start"].startswith('"/usr/bin/python3" "-B" "/usr/local/lib/antsle-antman/antman-health"')
    assert got["writable"] == ["/etc/nginx", "/run", "/var/log/nginx"]
    assert "--metrics-listen" not in lb_health_command("/usr/bin/python3", *args)["command"]
