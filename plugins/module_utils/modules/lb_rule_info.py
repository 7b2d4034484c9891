# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of the lb_rule_info module: the managed rules read back from the host (sorted by
name), optionally with upstream probes, and each upstream's health as the health agent sees it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.antsle.antman.plugins.module_utils.health.status import rules_health
from ansible_collections.antsle.antman.plugins.module_utils.host.probe import probe_addresses
from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, parse_name, rule_label
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.modules.common import host_options, read_host

MODULE_KWARGS = {}
MAX_NAMES_SHOWN = 20
# UDP has no connection whose acceptance would say anything about the upstream.
UDP_NOT_PROBED = {"reachable": None, "connect_ms": None, "probe_error": "udp upstreams are not probed"}


def argument_spec():
    spec = host_options()
    spec.update(
        name=dict(type="str"),
        probe=dict(type="bool", default=False),
        probe_timeout=dict(type="float", default=1.0),
    )
    return spec


def with_probes(rules, timeout):
    """Copies of ``rules`` whose upstreams carry reachable / connect_ms / probe_error."""
    results = probe_addresses([u["address"] for rule in rules for u in rule["upstreams"] if rule["protocol"] != "udp"],
                              timeout)
    probed = copy.deepcopy(rules)
    for rule in probed:
        for upstream in rule["upstreams"]:
            upstream.update(results.get(upstream["address"]) if rule["protocol"] != "udp" else UDP_NOT_PROBED)
    return probed


def run(module):
    params = module.params
    name = None
    if params["name"] is not None:
        try:
            name = parse_name(params["name"])
        except FieldError as error:
            raise RuleError(["name: %s" % error])
    snapshot = read_host(module)
    rules = [rule for rule_name, rule in snapshot.rules().items() if name is None or rule_name == name]
    if params["probe"]:
        rules = with_probes(rules, params["probe_timeout"])
    out_of_sync = [n for n, f in snapshot.managed.items() if not f.in_sync and (name is None or n == name)]
    warnings = snapshot.warnings()
    if name is not None and name not in snapshot.managed:
        warnings.append(missing_rule_note(name, params["rules_dir"], list(snapshot.managed)))
    health = rules_health(snapshot, params["rules_dir"], None if name is None else [name])
    return dict(changed=False, rules=rules, health=health, out_of_sync=out_of_sync, unmanaged=snapshot.unmanaged,
                warnings=warnings)


def missing_rule_note(name, rules_dir, names):
    """Why ``rules`` is empty when one name was asked for: that rule does not exist (names compare
    exactly, as they name files)."""
    shown = ", ".join(names[:MAX_NAMES_SHOWN]) + (", ..." if len(names) > MAX_NAMES_SHOWN else "")
    return "%s does not exist in %s, so rules is empty (its managed rules: %s)" % (
        rule_label(name), rules_dir, shown or "none")
