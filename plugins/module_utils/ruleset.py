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
    - http rules on one port that disagree on TLS (the redirect of ``redirect_http`` is plain HTTP on
      port 80): nginx makes the port TLS for all of them;
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
        for port, tls, what in http_servers(rule):
            owner, owner_tls, owner_what = tls_on_port.setdefault(port, (name, tls, what))
            if owner_tls != tls:
                problems.append("rule '%s': %s is %s in rule '%s'%s; all http rules on a port must agree on tls"
                                % (name, "server_port %d" % port if what == "server_port" else "redirect_http (port 80)",
                                   "TLS" if owner_tls else "plain HTTP", owner,
                                   " (its redirect_http)" if owner_what == "redirect_http" else ""))
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
    if rule["protocol"] != "http":
        return [(rule["server_port"], "udp" if rule["protocol"] == "udp" else "tcp")]
    return [(port, "tcp") for port, _tls, _what in http_servers(rule)]


def http_servers(rule):
    """(port, tls, what) of each http server block of a rule: its own, and the plain port-80 server
    of ``redirect_http`` (nginx makes a port TLS for every server on it if one says ``ssl``)."""
    servers = [(rule["server_port"], bool(rule.get("tls")), "server_port")]
    if rule.get("redirect_http"):
        servers.append((80, False, "redirect_http"))
    return servers


def server_names(rule):
    """(port, server name) of every name each of the rule's http server blocks answers for."""
    return [(port, name) for port, _tls, _what in http_servers(rule) for name in rule["server_name"]]
