# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules as the role's inventory gives them (``antman_lb_rules``): upstreams taken from inventory
groups (``upstream_group``, ``upstream_port`` and the hosts' ``antman_lb_*`` variables), every rule
validated by the model on the controller, and the set checked as a whole. The role's filters
(``lb_expand_rules``, ``lb_rule_set_facts``) are thin wrappers of this module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from collections import OrderedDict

from ansible.module_utils.common.collections import is_sequence

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import (
    FieldError, parse_address, parse_bool, parse_int, rule_label, show)
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule, rule_name_of
from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import (
    check_rule_set, http_ports, needs_stream, tls_ports)
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import INVENTORY_FIELDS, by_name
from ansible_collections.antsle.antman.plugins.module_utils.model.tls import acme_files, is_acme

INVENTORY = by_name(INVENTORY_FIELDS)


INVENTORY_KEYS = tuple(field.name for field in INVENTORY_FIELDS)
HOST_VARS = {"weight": "antman_lb_weight", "backup": "antman_lb_backup", "down": "antman_lb_down"}
UPSTREAM_INDEX_RE = re.compile(r"^upstreams\[(\d+)\]")


def group_names(value):
    """``upstream_group`` as a list of group names."""
    if isinstance(value, str):
        return [value]
    if is_sequence(value) and value and all(isinstance(item, str) for item in value):
        return list(value)
    raise FieldError("%s is not a group name or a list of group names" % show(value))


def host_address(host, variables, default_port):
    """The canonical address of an inventory host, as the rule's upstream."""
    for key in ("antman_lb_address", "ansible_host"):
        if variables.get(key) is not None:
            source, value = key, variables.get(key)
            break
    else:
        source, value = "inventory host name", host
    try:
        return parse_address(value, default_port=default_port), None
    except FieldError as error:
        return None, "%s: %s" % (source, error)


def group_upstreams(rule, groups, hostvars):
    """(upstreams, labels, problems) for the hosts of the rule's upstream_group(s)."""
    problems = []
    try:
        names = group_names(rule["upstream_group"])
    except FieldError as error:
        return [], [], ["upstream_group: %s" % error]
    default_port = 80
    if rule.get("upstream_port") is not None:
        try:
            default_port = INVENTORY["upstream_port"].parse(rule["upstream_port"])
        except FieldError as error:
            problems.append("upstream_port: %s" % error)
    upstreams, labels = [], []
    for group in names:
        if group not in groups:
            problems.append("upstream_group: %s is not a group of the inventory" % show(group))
            continue
        for host in groups[group]:
            variables = hostvars[host]
            label = "host %s of group %s" % (show(host), show(group))
            address, problem = host_address(host, variables, default_port)
            if problem:
                problems.append("upstream_group %s: host %s: %s" % (show(group), show(host), problem))
                continue
            upstream = {"address": address}
            for field, key in HOST_VARS.items():
                if variables.get(key) is not None:
                    upstream[field] = variables.get(key)
            upstreams.append(upstream)
            labels.append("%s, from host vars %s" % (label, "/".join(["antman_lb_address"] + list(HOST_VARS.values()))))
    if not problems and not upstreams:
        problems.append("upstream_group: %s has no hosts" % ", ".join(show(n) for n in names))
    return upstreams, labels, problems


def explain_upstream(problem, labels):
    """Add to "upstreams[i]..." which static entry or inventory host upstream i came from."""
    match = UPSTREAM_INDEX_RE.match(problem)
    if not match or int(match.group(1)) >= len(labels):
        return problem
    return "%s (%s)%s" % (match.group(0), labels[int(match.group(1))], problem[match.end():])


def expand_rule(raw, groups, hostvars):
    """One inventory rule -> canonical rule. Raises RuleError listing every problem."""
    if not isinstance(raw, dict):
        return normalize_rule(raw)  # raises the model's own "expected a mapping" error
    rule = dict((key, value) for key, value in raw.items() if key not in INVENTORY_KEYS)
    static = raw.get("upstreams")
    static = [] if static is None else static
    if not is_sequence(static):
        return normalize_rule(rule)  # the model names the bad value
    labels = ["static upstreams[%d]" % index for index in range(len(static))]
    upstreams, problems = list(static), []
    if raw.get("upstream_group") is not None:
        grouped, group_labels, problems = group_upstreams(raw, groups, hostvars)
        upstreams += grouped
        labels += group_labels
    elif raw.get("upstream_port") is not None:
        problems.append("upstream_port: %s is given without upstream_group" % show(raw["upstream_port"]))
    rule["upstreams"] = upstreams if upstreams or raw.get("upstreams") is not None else None
    try:
        canonical = normalize_rule(rule)
    except RuleError as error:
        raise RuleError(problems + [explain_upstream(p, labels) for p in error.problems], rule_name_of(raw))
    if problems:
        raise RuleError(problems, rule_name_of(raw))
    return canonical


def with_acme_dir(raw, acme_dir):
    """A rule with ``tls.acme: true`` gets the role's ``antman_lb_acme_dir`` unless it names its own."""
    tls = raw.get("tls") if isinstance(raw, dict) else None
    if not acme_dir or not isinstance(tls, dict) or tls.get("acme_dir") is not None:
        return raw
    try:
        acme = tls.get("acme") is not None and parse_bool(tls["acme"])
    except FieldError:
        return raw  # the model names the bad value
    if not acme:
        return raw
    raw = dict(raw)
    raw["tls"] = dict(tls, acme_dir=acme_dir)
    return raw


def inventory_rules(rules, groups, hostvars, acme_dir=None):
    """Inventory rules -> [(canonical rule, the rule as given)], in the order given, the set checked as
    a whole. Raises RuleError listing every problem, each naming the entry (``antman_lb_rules[i]``).
    ``acme_dir``: the directory of acme rules that do not name one (the role's antman_lb_acme_dir)."""
    if rules is None:
        return []
    if not is_sequence(rules):
        raise RuleError(["antman_lb_rules: %s is a %s, expected a list of rules" % (show(rules), type(rules).__name__)])
    problems, expanded, first_seen = [], [], {}
    for index, raw in enumerate(rules):
        where = "antman_lb_rules[%d]" % index
        raw = with_acme_dir(raw, acme_dir)
        try:
            rule = expand_rule(raw, groups, hostvars)
        except RuleError as error:
            name = " (%s)" % rule_label(error.rule_name) if error.rule_name else ""
            problems.extend("%s%s: %s" % (where, name, problem) for problem in error.problems)
            continue
        if rule["name"] in first_seen:
            problems.append("%s: %s is already listed as antman_lb_rules[%d]"
                            % (where, rule_label(rule["name"]), first_seen[rule["name"]]))
            continue
        first_seen[rule["name"]] = index
        expanded.append((rule, raw))
    if not problems:
        try:
            check_rule_set([rule for rule, _raw in expanded])
        except RuleError as error:
            problems.extend(error.problems)
    if problems:
        raise RuleError(problems)
    return expanded


def module_rules(rules, groups, hostvars, acme_dir=None):
    """Inventory rules as ``lb_rules`` takes them: complete and validated, upstreams expanded, and
    TLS content as the inventory gives it (the canonical rule has its digests only), so that the
    module writes the certificate and key. For module arguments only (``key_content`` is no_log
    there): never store the result in a fact."""
    result = []
    for rule, raw in inventory_rules(rules, groups, hostvars, acme_dir):
        tls = raw.get("tls")
        if isinstance(tls, dict) and tls.get("key_content") is not None:
            rule = OrderedDict(rule)
            rule["tls"] = tls
        result.append(rule)
    return plain(result)


def rule_set_facts(rules, groups, hostvars, extra_ports=(), acme_dir=None):
    """What the role needs to know about its rule set, asked of the model rather than re-derived in
    YAML: the canonical rules (TLS content as digests only, safe in a fact), the http ports that get
    a catch-all server (with the port-80 server of redirect_http and of tls.acme, and
    ``extra_ports``), the TLS ports among them, whether nginx's stream context is needed (tcp or udp
    rules), and the certificates the role obtains from an ACME CA (``acme``: each rule's name, its
    server names, as a certificate request names them too, and its files)."""
    canonical = [rule for rule, _raw in inventory_rules(rules, groups, hostvars, acme_dir)]
    extra = []
    for index, port in enumerate(extra_ports or []):
        try:
            extra.append(parse_int(port, 1, 65535))
        except FieldError as error:
            raise RuleError(["antman_lb_extra_ports[%d]: %s" % (index, error)])
    return plain({
        "rules": canonical,
        "http_ports": sorted(set(http_ports(canonical)) | set(extra)),
        "tls_ports": tls_ports(canonical),
        "stream": needs_stream(canonical),
        "acme": [dict(name=rule["name"], server_name=rule["server_name"], acme_dir=rule["tls"]["acme_dir"],
                      subject_alt_name=["DNS:%s" % name for name in rule["server_name"]],
                      **acme_files(rule)) for rule in canonical if is_acme(rule)],
    })


def plain(value):
    """Plain containers (no OrderedDict), the way module arguments and facts travel."""
    return json.loads(json.dumps(value))
