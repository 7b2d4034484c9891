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
  - Given O(health) (what M(antsle.antman.lb_rule_info) returns as C(health)) and an upstream checked by the health
    agent, a HEALTH column says its state (V(healthy), V(unhealthy), V(unknown), V(stale), V(off)), C(out) when the
    agent holds it out of rotation, C(fail open) when every upstream of its rule fails and all stay in rotation, and
    the last probe's detail when it failed.
  - Given O(health), REQ/S and 5XX columns say each upstream's requests per second and the share of its answers that
    were 5xx over the last minute, from the access log the health agent follows (C(traffic) in O(health));
    V(-) in 5XX when it had no request. Without figures the cells say why - V(no agent) (the agent is not running),
    V(no access log) (C(antman_lb_access_log) is empty), V(starting) (the agent started less than 5 seconds ago).
  - The C(antsle.antman.rules) playbook prints it.
positional: health
options:
  _input:
    description: Rules in canonical form.
    type: list
    elements: dict
    required: true
  health:
    description: Each upstream's health by rule name and address (C(health) of M(antsle.antman.lb_rule_info)).
    type: dict
"""

EXAMPLES = r"""
- name: List the rules, probing the upstreams
  antsle.antman.lb_rule_info:
    probe: true
  register: lb

- name: Print them as a table
  ansible.builtin.debug:
    msg: "{{ lb.rules | antsle.antman.lb_rule_table }}"

- name: Print them with the health agent's view of each upstream
  ansible.builtin.debug:
    msg: "{{ lb.rules | antsle.antman.lb_rule_table(lb.health) }}"
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


def health_cell(upstream, health):
    """The HEALTH cell: the agent's state, whether it holds the upstream out, why it failed."""
    if not health:
        return "-"
    cell = health.get("state") or "-"
    if health.get("state") != "off" and not health.get("in_rotation") and not upstream["down"]:
        cell += " out"
    elif health.get("fail_open") and health.get("state") == "unhealthy":
        cell += " fail open"
    probe = health.get("probe") or {}
    if probe.get("ok") is False and probe.get("detail"):
        cell += ": %s" % probe["detail"]
    return cell


def traffic_cells(health):
    """The REQ/S and 5XX cells of an upstream: its requests per second and 5xx share over the last minute."""
    traffic = (health or {}).get("traffic") or {}
    if traffic.get("unavailable") or traffic.get("requests_per_second") is None:
        why = traffic.get("unavailable") or "-"
        return why, why
    share = traffic.get("errors_5xx_share")
    return "%.1f" % traffic["requests_per_second"], "-" if share is None else "%.1f%%" % (100.0 * share)


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


def table_rows(rules, health=None):
    probed = any("reachable" in u for rule in rules for u in rule.get("upstreams") or [])
    health = health or {}
    # only where an agent checks (or checked) something: a host without one keeps its table
    checked = any(h.get("state") not in (None, "off") for by_address in health.values() for h in by_address.values())
    # wherever lb_rule_info says (an agent runs, or none does: the cells say so)
    measured = any("traffic" in h for by_address in health.values() for h in by_address.values())
    rows = [HEADER + (("REACHABLE",) if probed else ()) + (("HEALTH",) if checked else ())
            + (("REQ/S", "5XX") if measured else ())]
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
            row += (reachability(upstream),) if probed else ()
            upstream_health = (health.get(rule["name"]) or {}).get(upstream["address"])
            row += (health_cell(upstream, upstream_health),) if checked else ()
            row += traffic_cells(upstream_health) if measured else ()
            rows.append(row)
    return rows


def rule_table(rules, health=None):
    """Lines of a table of ``rules`` with aligned columns (and their ``health``, lb_rule_info's)."""
    if not isinstance(rules, (list, tuple)):
        raise AnsibleFilterError("lb_rule_table expects a list of rules, got a %s" % type(rules).__name__)
    if health is not None and not (isinstance(health, dict) and all(isinstance(v, dict) for v in health.values())):
        raise AnsibleFilterError("lb_rule_table's health must be the health that lb_rule_info returns")
    if not rules:
        return ["no load-balancing rules"]
    try:
        rows = table_rows(rules, health)
    except (KeyError, TypeError) as error:
        raise AnsibleFilterError("lb_rule_table expects rules in canonical form (as lb_rule_info returns): %s" % error)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [GAP.join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


class FilterModule(object):
    def filters(self):
        return {"lb_rule_table": rule_table}
