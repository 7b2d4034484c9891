# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of the load_balancer role's apply module (``antsle.antman.__load_balancer.lb_host_apply``):
the role's whole change of a host in one module run (each module run costs the host and the
controller about the same CPU, whatever it does: docs/benchmarks.md, fleet), made of parts:

- ``base``: the base configuration, as ``lb_base_config`` applies it (its options, its body);
- ``rules``: the inventory's rules, as ``lb_rules`` applies them (body ``lb_inventory_rules.py``); in
  check mode planned against the base part's pending change (``include_pending``) when the base part
  would change something; reloaded only where nginx runs (on a first run the role starts nginx
  after this module, and it reads the files then);
- ``agent``: the health agent, installed or removed (body ``lb_health_agent.py``), plus its systemd unit
  (``unit``: written 0644, owned by the module's user (root), only where it differs; removed with
  ``state=absent``), its change reported (``unit_changed``) so the role reloads systemd and restarts
  the agent only then.

Parts run in that order; a part left out is not touched. Each part is its own transaction (its own
``nginx -t`` and reload): a part that fails leaves the parts before it applied (validated and
reloaded on their own) and its own change rolled back; the parts after it do not run.

No option and no step is written twice: each part's options are its body's ``argument_spec()``
without the shared host and apply options, and each part runs its body's ``run`` on a view of this
module holding the shared options and the part's own (``PartView``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.antsle.antman.plugins.module_utils.host.files import (
    ABSENT, FILE, FileState, HostFileError, read_state, remove_quietly, temporary_path, write_file)
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import Host
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.modules import lb_base_config, lb_health_agent, lb_inventory_rules
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import apply_options, host_options
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import Nginx, NginxError

MODULE_KWARGS = {}
PARTS = ("base", "rules", "agent")
UNIT_MODE = 0o644


def shared_options():
    spec = host_options()
    spec.update(apply_options())
    return spec


def part_options(body):
    """The part's own options: its body's argument spec without the shared ones."""
    spec = body.argument_spec()
    for key in shared_options():
        spec.pop(key, None)
    return spec


def argument_spec():
    agent = part_options(lb_health_agent)
    agent["unit"] = dict(type="dict", options=dict(path=dict(type="path", required=True),
                                                   content=dict(type="str", required=True)))
    spec = shared_options()
    spec.update(
        base=dict(type="dict", options=part_options(lb_base_config)),
        rules=dict(type="dict", options=part_options(lb_inventory_rules)),
        agent=dict(type="dict", options=agent, **lb_health_agent.MODULE_KWARGS),
    )
    return spec


class PartView:
    """This module as one part's body sees it: the shared options and the part's own as ``params``
    (``overrides`` last), the part's options as the task gave them (``given``), and the module's
    check mode, diff mode and command runner."""

    def __init__(self, module, part, **overrides):
        self.module = module
        self.params = dict((key, module.params[key]) for key in shared_options())
        self.params.update(module.params[part])
        self.params.update(overrides)
        self.part = part
        self.check_mode = module.check_mode
        self._diff = module._diff
        self.run_command = module.run_command

    def given(self):
        return self.module.given().get(self.part) or {}


def nginx_runs(module):
    """Whether nginx runs for this host's configuration (a live master in its pid file)."""
    params = module.params
    try:
        scan = Host.read(params["nginx_conf"], params["rules_dir"], False).scan
        return Nginx(params["nginx_binary"], params["nginx_conf"], module.run_command, scan).master_pid() is not None
    except NginxError:
        return False


def unit_state(path, content):
    return FileState(path, FILE, content.encode("utf-8"), UNIT_MODE, os.geteuid())


def apply_unit(module, unit, present):
    """The agent's unit made ``unit['content']`` (``present``) or removed; (changed, diff or None).
    Not nginx configuration: written with one rename, no journal (systemd reads it at daemon-reload)."""
    path = unit["path"]
    try:
        before = read_state(path)
    except HostFileError as error:
        raise RuleError(["agent.unit.path: %s" % error])
    after = unit_state(path, unit["content"]) if present else FileState(path, ABSENT)
    if before.kind == after.kind == ABSENT or (
            before.kind == FILE and before.same_as(after) and (not present or before.uid == after.uid)):
        return False, None
    if not module.check_mode:
        if present:
            temporary = temporary_path(path)
            remove_quietly(temporary)
            write_file(temporary, after.data, UNIT_MODE)
            os.rename(temporary, path)
        else:
            os.unlink(path)
    diff = dict(before_header=path, after_header=path, before=before.text(), after=after.text())
    return True, diff


def run_agent(module):
    view = PartView(module, "agent")
    unit = view.params.pop("unit")
    result = lb_health_agent.run(view)
    result["unit_changed"] = False
    if unit is not None:
        result["unit_changed"], diff = apply_unit(module, unit, view.params["state"] == "present")
        result["changed"] = result["changed"] or result["unit_changed"]
        if diff and module._diff:
            result["diff"] = [diff]
    return result


def run(module):
    params = module.params
    result = dict(changed=False)
    if params["base"] is not None:
        result["base"] = lb_base_config.run(PartView(module, "base"))
    if params["rules"] is not None:
        # In check mode nothing is reloaded, so nginx need not run; on a real run it is reloaded where it runs.
        reload = params["reload"] and not module.check_mode and nginx_runs(module)
        pending = "base" in result and result["base"]["changed"]
        result["rules"] = lb_inventory_rules.run(PartView(module, "rules", reload=reload, include_pending=pending))
    if params["agent"] is not None:
        result["agent"] = run_agent(module)
    diffs, warnings = [], []
    for part in PARTS:
        if part in result:
            diffs.extend(result[part].pop("diff", []))
            warnings.extend(result[part].pop("warnings", []))
            result["changed"] = result["changed"] or result[part]["changed"]
    if diffs:
        result["diff"] = diffs
    if warnings:
        result["warnings"] = warnings
    return result
