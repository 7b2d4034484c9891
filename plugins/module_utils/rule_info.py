# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lb_rule_info: the managed rules read back from the host, optionally with upstream probes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.antsle.antman.plugins.module_utils.conf_scan import ConfScan
from ansible_collections.antsle.antman.plugins.module_utils.fields import FieldError, parse_name
from ansible_collections.antsle.antman.plugins.module_utils.nginx import NginxError
from ansible_collections.antsle.antman.plugins.module_utils.probe import probe_addresses
from ansible_collections.antsle.antman.plugins.module_utils.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.rules_dir import RulesDir
from ansible_collections.antsle.antman.plugins.module_utils.store import read_snapshot


def check_included(nginx_conf, rules_dir):
    try:
        scan = ConfScan(nginx_conf, skip_dirs=[rules_dir])
    except (IOError, OSError) as error:
        raise NginxError("cannot read nginx configuration %s: %s" % (nginx_conf, error))
    if not scan.includes_dir(rules_dir):
        raise NginxError("rules_dir %s is not included from the http context of %s: add 'include %s/*.conf;' "
                         "inside http { }" % (rules_dir, nginx_conf, rules_dir))


# UDP has no connection whose acceptance would say anything about the upstream.
UDP_NOT_PROBED = {"reachable": None, "connect_ms": None, "probe_error": "udp upstreams are not probed"}


def with_probes(rules, timeout):
    """Copies of ``rules`` whose upstreams carry reachable / connect_ms / probe_error."""
    results = probe_addresses([u["address"] for rule in rules for u in rule["upstreams"] if rule["protocol"] != "udp"],
                              timeout)
    probed = copy.deepcopy(rules)
    for rule in probed:
        for upstream in rule["upstreams"]:
            upstream.update(results.get(upstream["address"]) if rule["protocol"] != "udp" else UDP_NOT_PROBED)
    return probed


def read_managed(nginx_conf, rules_dir):
    """Snapshot of the managed rules, after checking nginx includes ``rules_dir``."""
    check_included(nginx_conf, rules_dir)
    directory = RulesDir(rules_dir)
    return read_snapshot(directory.current_dir() or directory.path, directory.path)


def gather_rules(module):
    params = module.params
    name = None
    if params["name"] is not None:
        try:
            name = parse_name(params["name"])
        except FieldError as error:
            raise RuleError(["name: %s" % error])
    snapshot = read_managed(params["nginx_conf"], params["rules_dir"])
    rules = [rule for rule_name, rule in snapshot.rules().items() if name is None or rule_name == name]
    if params["probe"]:
        rules = with_probes(rules, params["probe_timeout"])
    out_of_sync = sorted(n for n, f in snapshot.managed.items() if not f.in_sync and (name is None or n == name))
    return dict(changed=False, rules=rules, out_of_sync=out_of_sync, unmanaged=snapshot.unmanaged,
                warnings=snapshot.warnings())
