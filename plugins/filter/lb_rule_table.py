# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lb_rule_table
short_description: The load-balancing rules as a text table, like antMan's Load Balancing page
version_added: 0.1.0
author:
  - antsle.antman developers
description:
  - Formats rules (as returned by M(antsle.antman.lb_rule_info)) as lines of a table, one line per upstream
    - rule name, server name(s):port, method, who may reach the rule, then each upstream with its weight, backup and
      down flags.
  - "The ACCESS column: V(everyone) or the O(antsle.antman.lb_rule#module:allow_from) list, then the rate limit
    (V(10/s burst 5), V(20 conns)) and the trusted proxies whose forwarded address counts
    (V(via 192.0.2.10), V(+PROXY) with PROXY protocol)."
  - When the upstreams were probed (M(antsle.antman.lb_rule_info) with O(antsle.antman.lb_rule_info#module:probe=true)),
    a REACHABLE column says whether each accepted a TCP connection and how fast.
  - The C(antsle.antman.rules) playbook prints it.
options:
  _input:
    description: Rules in canonical form.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: List the rules, probing the upstreams
  antsle.antman.lb_rule_info:
    probe: true
  register: lb

- name: Print them as a table
  ansible.builtin.debug:
    msg: "{{ lb.rules | antsle.antman.lb_rule_table }}"
"""

RETURN = r"""
_value:
  description: The table, one string per line (header first); a single line saying so when there are no rules.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

HEADER = ("RULE", "SERVER", "METHOD", "ACCESS", "UPSTREAM", "WEIGHT", "BACKUP", "DOWN")
GAP = "  "


def flag(value):
    return "yes" if value else "-"


def reachability(upstream):
    if upstream.get("reachable") is None and upstream.get("probe_error"):
        return "- (%s)" % upstream["probe_error"]
    if upstream.get("reachable"):
        return "yes (%.1f ms)" % upstream["connect_ms"] if upstream.get("connect_ms") is not None else "yes"
    return "NO: %s" % (upstream.get("probe_error") or "unreachable")


def access(rule):
    """Who may reach the rule, in one cell: the allow-list, the rate limit, the trusted proxies."""
    parts = [",".join(rule.get("allow_from") or ["everyone"])]
    limit = rule.get("rate_limit")
    if limit and "connections" in limit:
        parts.append("%d conns" % limit["connections"])
    elif limit:
        parts.append("%d/s burst %d" % (limit["requests_per_second"], limit["burst"]))
    if rule.get("real_ip_from"):
        parts.append("via %s%s" % (",".join(rule["real_ip_from"]), " +PROXY" if rule.get("proxy_protocol") else ""))
    return "; ".join(parts)


def table_rows(rules):
    probed = any("reachable" in u for rule in rules for u in rule.get("upstreams") or [])
    rows = [HEADER + (("REACHABLE",) if probed else ())]
    for rule in rules:
        if rule.get("protocol", "http") == "http":
            scheme = "https://" if rule.get("tls") else ""
            server = "%s%s:%s" % (scheme, ",".join(rule["server_name"]), rule["server_port"])
        else:
            server = "%s/%s" % (rule["protocol"], rule["server_port"])
        for index, upstream in enumerate(rule["upstreams"]):
            first = index == 0
            row = (rule["name"] if first else "", server if first else "", rule["method"] if first else "",
                   access(rule) if first else "", upstream["address"], str(upstream["weight"]), flag(upstream["backup"]), flag(upstream["down"]))
            rows.append(row + ((reachability(upstream),) if probed else ()))
    return rows


def rule_table(rules):
    """Lines of a table of ``rules`` with aligned columns."""
    if not isinstance(rules, (list, tuple)):
        raise AnsibleFilterError("lb_rule_table expects a list of rules, got a %s" % type(rules).__name__)
    if not rules:
        return ["no load-balancing rules"]
    try:
        rows = table_rows(rules)
    except (KeyError, TypeError) as error:
        raise AnsibleFilterError("lb_rule_table expects rules in canonical form (as lb_rule_info returns): %s" % error)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [GAP.join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


class FilterModule(object):
    def filters(self):
        return {"lb_rule_table": rule_table}
