# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks that span several rules: what nginx would accept silently but serve wrongly."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.antsle.antman.plugins.module_utils.rule import RuleError


def check_rule_set(rules, changing=()):
    """Raise RuleError if canonical rules clash with each other.

    Rules named in ``changing`` are the ones blamed when they clash with a rule already in place.

    - two rules whose names differ only in case: nginx compares upstream names case-insensitively;
    - one server name on one port in two http rules (the redirect of ``redirect_http`` counts as
      one on port 80): nginx only warns ("conflicting server name") and serves the first it read;
    - http rules on one port that disagree on TLS: nginx makes the port TLS for all of them;
    - a TCP port used by an http rule and a tcp rule, or by two tcp rules (two udp rules likewise):
      nginx cannot listen twice.
    """
    problems = []
    by_folded_name, names_on_port, tls_on_port, ports = {}, {}, {}, {}
    for rule in sorted(rules, key=lambda r: (r["name"] in changing, r["name"])):
        name = rule["name"]
        folded = name.lower()
        if folded in by_folded_name:
            problems.append("rule '%s': name clashes with rule '%s' (rule names are case-insensitive)"
                            % (name, by_folded_name[folded]))
        by_folded_name.setdefault(folded, name)
        for port, transport in listening_ports(rule):
            owner = ports.setdefault((port, transport), (name, rule["protocol"]))
            if owner[0] != name and "stream" in (kind(owner[1]), kind(rule["protocol"])):
                problems.append("rule '%s': %s port %d is already used by rule '%s' (%s)"
                                % (name, transport, port, owner[0], owner[1]))
        if rule["protocol"] != "http":
            continue
        tls = bool(rule.get("tls"))
        owner, owner_tls = tls_on_port.setdefault(rule["server_port"], (name, tls))
        if owner_tls != tls:
            problems.append("rule '%s': server_port %d is %s in rule '%s'; all http rules on a port must agree on tls"
                            % (name, rule["server_port"], "TLS" if owner_tls else "plain HTTP", owner))
        for port, server_name in server_names(rule):
            owner = names_on_port.setdefault((server_name, port), name)
            if owner != name:
                problems.append("rule '%s': server_name '%s' on server_port %d is already used by rule '%s'"
                                % (name, server_name, port, owner))
    if problems:
        raise RuleError(problems)


def kind(protocol):
    return "http" if protocol == "http" else "stream"


def listening_ports(rule):
    """(port, 'tcp'|'udp') sockets the rule makes nginx listen on."""
    if rule["protocol"] == "udp":
        return [(rule["server_port"], "udp")]
    ports = [(rule["server_port"], "tcp")]
    if rule.get("redirect_http"):
        ports.append((80, "tcp"))
    return ports


def server_names(rule):
    pairs = [(rule["server_port"], n) for n in rule["server_name"]]
    if rule.get("redirect_http"):
        pairs += [(80, n) for n in rule["server_name"]]
    return pairs
