# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lb_expand_rules
short_description: Turn inventory rules (with inventory-driven upstreams) into complete, validated rules
version_added: 0.1.0
author:
  - antsle.antman developers
description:
  - Takes the rules of C(antman_lb_rules) and returns them in canonical form, the form
    M(antsle.antman.lb_rule) and M(antsle.antman.lb_rules) accept, with every field present.
  - A rule may name an inventory group in C(upstream_group) (a group name or a list of them) instead of, or
    besides, static C(upstreams). Every host of the group becomes one upstream, after the static ones, in
    inventory order. Its address is the host's C(antman_lb_address) (default C(ansible_host), default the
    inventory host name); a port in that address wins, else the rule's C(upstream_port), else 80. Its
    C(weight), C(backup) and C(down) come from the host vars C(antman_lb_weight) (default 1),
    C(antman_lb_backup) and C(antman_lb_down) (default false).
  - Every rule is validated with the collection's rule model on the controller, before anything is touched,
    and the set is checked as a whole (a name listed twice, one server name on one port in two rules).
    All problems are reported at once, each naming the rule, the field, the value and, for inventory-driven
    upstreams, the host and group it came from.
  - The role P(antsle.antman.load_balancer#role) uses it; it needs C(groups) and C(hostvars).
  - TLS content (O(antsle.antman.lb_rule#module:tls.key_content)) comes back as digests only, so that no key
    is stored in a fact; see P(antsle.antman.lb_attach_tls_content#filter).
positional: groups, hostvars
options:
  _input:
    description: The rules, as in C(antman_lb_rules).
    type: list
    elements: dict
    required: true
  groups:
    description: The inventory groups, pass C(groups).
    type: dict
    required: true
  hostvars:
    description: The inventory host variables, pass C(hostvars).
    type: dict
    required: true
"""

EXAMPLES = r"""
# group_vars/antsle.yml
# antman_lb_rules:
#   - name: shop
#     server_name: shop.example.com
#     upstream_group: web_antlets
#     upstream_port: 8080
#     upstreams:
#       - address: 10.1.1.50:8080
#         backup: true
- name: Rules with their upstreams resolved from inventory
  ansible.builtin.debug:
    msg: "{{ antman_lb_rules | antsle.antman.lb_expand_rules(groups, hostvars) }}"
"""

RETURN = r"""
_value:
  description: The rules in canonical form (every field present, upstreams expanded), in the order given.
  type: list
  elements: dict
"""

import json
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

from ansible_collections.antsle.antman.plugins.module_utils.fields import FieldError, parse_address, parse_int, show
from ansible_collections.antsle.antman.plugins.module_utils.rule import RuleError, normalize_rule, rule_name_of
from ansible_collections.antsle.antman.plugins.module_utils.ruleset import check_rule_set

INVENTORY_KEYS = ("upstream_group", "upstream_port")
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
            default_port = parse_int(rule["upstream_port"], 1, 65535)
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


def expand_rules(rules, groups, hostvars):
    """Inventory rules -> canonical rules (plain dicts, in the order given)."""
    if rules is None:
        return []
    if not is_sequence(rules):
        raise AnsibleFilterError("antman_lb_rules: %s is a %s, expected a list of rules" % (show(rules), type(rules).__name__))
    problems, expanded, first_seen = [], [], {}
    for index, raw in enumerate(rules):
        where = "antman_lb_rules[%d]" % index
        try:
            rule = expand_rule(raw, groups, hostvars)
        except RuleError as error:
            name = " (rule %s)" % show(error.rule_name) if error.rule_name else ""
            problems.extend("%s%s: %s" % (where, name, problem) for problem in error.problems)
            continue
        if rule["name"] in first_seen:
            problems.append("%s: rule %s is already listed as antman_lb_rules[%d]"
                            % (where, show(rule["name"]), first_seen[rule["name"]]))
            continue
        first_seen[rule["name"]] = index
        expanded.append(rule)
    if not problems:
        try:
            check_rule_set(expanded)
        except RuleError as error:
            problems.extend(error.problems)
    if problems:
        raise AnsibleFilterError("invalid antman_lb_rules:\n- " + "\n- ".join(problems))
    # Plain containers (no OrderedDict), the way module arguments travel.
    return json.loads(json.dumps(expanded))


class FilterModule(object):
    def filters(self):
        return {"lb_expand_rules": expand_rules}
