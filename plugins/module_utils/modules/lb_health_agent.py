# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent part of the load_balancer role's apply module (``antsle.antman.__load_balancer.lb_host_apply``,
its option ``agent``; role variable ``antman_lb_health``): the health agent's code and script on the host, kept running
where systemd does not run it; or, with ``state=absent``, the agent stopped, its files removed and
every antlet it held out returned to rotation through the one transaction.

- ``present``: ``health/install.py`` makes the install directory hold exactly the agent's code and
  the script; ``service=direct``: the agent is started when it does not run, and restarted when its
  files changed. Under systemd the role's unit runs it (the role restarts it when this reports a
  change). Returns the unit's command line, the host's Python and what changed.
- ``absent`` (the role has stopped the unit first): a direct agent stopped, the install directory
  and the status file removed, the verdicts cleared (the rules it held out rendered without them,
  ``nginx -t``, reload); changed only when something was there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

from ansible_collections.antsle.antman.plugins.module_utils.health import command, install
from ansible_collections.antsle.antman.plugins.module_utils.health.status import remove_status, status_path
from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import VERDICTS_FILE, Verdicts
from ansible_collections.antsle.antman.plugins.module_utils.health.writer import VerdictWriter
from ansible_collections.antsle.antman.plugins.module_utils.model.health_check import rotation
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import host_options

MODULE_KWARGS = dict(required_if=[("state", "present", ["script"])])


def argument_spec():
    spec = host_options()
    spec.update(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        script=dict(type="str"),
        lib_dir=dict(type="path", default=install.LIB_DIR),
        service=dict(type="str", default="systemd", choices=["systemd", "direct"]),
        pid_file=dict(type="path", default="/run/antman-health.pid"),
        log_file=dict(type="path", default="/var/log/antman-health.log"),
        lock_timeout=dict(type="int", default=300),
        writable=dict(type="list", elements="path", default=[]),
        metrics_listen=dict(type="str", default=""),
        metrics_allow=dict(type="list", elements="str", default=[]),
        stub_status_url=dict(type="str", default=""),
        access_log=dict(type="str", default=""),
    )
    return spec


def present(module):
    params = module.params
    written = install.install(params["lib_dir"], params["script"].encode("utf-8"), module.check_mode)
    argv = command.command(sys.executable, params["lib_dir"], params["rules_dir"], params["nginx_binary"], params["nginx_conf"],
                           params["metrics_listen"], params["metrics_allow"], params["stub_status_url"],
                           params["access_log"])
    result = dict(changed=bool(written), files=written, python=sys.executable, command=argv,
                  exec_start=command.systemd_command_line(argv), started=False,
                  writable=command.writable_paths(params["rules_dir"], params["writable"]))
    if params["service"] == "direct":
        pid = install.running_pid(params["pid_file"])
        # its arguments changed (the metrics settings): started again, as a unit's ExecStart= change restarts it
        same = pid is not None and (install.running_command(pid) or [])[:len(argv) + 1] == argv + ["--daemon"]
        if not same or written:
            result["changed"] = result["started"] = True
            if not module.check_mode:
                install.stop(params["pid_file"])
                install.start(module.run_command, argv, params["pid_file"], params["log_file"])
    return result


def returned_to_rotation(module):
    """Clear the agent's verdicts; the "rule address" pairs it held out (nothing: none applied)."""
    params = module.params
    if not os.path.exists(os.path.join(params["rules_dir"], VERDICTS_FILE)):
        return False, []
    writer = VerdictWriter(params["rules_dir"], params["nginx_binary"], params["nginx_conf"], module.run_command,
                           lock_timeout=params["lock_timeout"], check_mode=module.check_mode)
    held = []

    def clear(rules, applied):
        for name in sorted(applied.by_rule):
            if name in rules:
                held.extend("%s %s" % (name, address) for address in sorted(rotation(rules[name], applied.unhealthy(name)).held_out))
        return Verdicts()
    outcome = writer.apply(clear)
    return outcome.changed or bool(held), held


def absent(module):
    params = module.params
    stopped = params["service"] == "direct" and install.running_pid(params["pid_file"]) is not None
    if stopped and not module.check_mode:
        install.stop(params["pid_file"])
    removed = install.uninstall(params["lib_dir"], module.check_mode)
    status = status_path(params["rules_dir"])
    had_status = os.path.exists(status)
    if had_status and not module.check_mode:
        remove_status(status)
    cleared, returned = returned_to_rotation(module)
    return dict(changed=stopped or removed or had_status or cleared, stopped=stopped, removed=removed,
                back_in_rotation=returned)


def run(module):
    if module.params["state"] == "present":
        try:
            return present(module)
        except install.InstallError as error:
            raise RuleError([str(error)])
    return absent(module)
