# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health agent's command line, its systemd quoting and the directories it writes: computed on
the controller for the role's unit (filter lb_health_command) and on the host by the module that
runs the agent (health/install.py, lb_health_agent), one code for both. Kept apart from install.py,
which imports the agent's own code: the filter runs in a worker per host on every run, and needs
none of it (docs/benchmarks.md, fleet)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

SCRIPT = "antman-health"


def command(python, lib_dir, rules_dir, nginx_binary, nginx_conf, metrics_listen="", metrics_allow=(),
            stub_status_url="", access_log=""):
    """The agent's command line (argument list): the host's Python, no bytecode written (the code's
    directory is read-only to the service); the access log it follows when ``access_log`` is given,
    the metrics endpoint when ``metrics_listen`` is."""
    argv = [python, "-B", os.path.join(lib_dir, SCRIPT), "--rules-dir", rules_dir, "--nginx-conf", nginx_conf,
            "--nginx-binary", nginx_binary]
    if access_log:
        argv += ["--access-log", access_log]
    if metrics_listen:
        argv += ["--metrics-listen", metrics_listen]
        for item in metrics_allow:
            argv += ["--metrics-allow", item]
        if stub_status_url:
            argv += ["--stub-status-url", stub_status_url]
    return argv


def systemd_command_line(argv):
    """``argv`` as a unit's ExecStart= value: each argument quoted, ``%`` and ``$`` not expanded."""
    def quoted(arg):
        return '"%s"' % arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return " ".join(quoted(arg) for arg in argv)


def writable_paths(rules_dir, files):
    """The directories the agent writes in, for the unit's ReadWritePaths= (the rest of the file
    system is read-only to it): the rules directory's parent (its generations, the lock, the journal,
    the status file) and the directory of each of ``files`` (nginx's logs and pid file, which
    ``nginx -t`` opens for writing)."""
    parent = os.path.dirname(os.path.normpath(os.path.abspath(rules_dir)))
    return sorted(set([parent] + [os.path.dirname(os.path.normpath(os.path.abspath(path))) for path in files]))
