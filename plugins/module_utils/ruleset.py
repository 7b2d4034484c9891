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
    - one server name on one port in two rules: nginx only warns ("conflicting server name") and
      silently serves the first one it read.
    """
    problems = []
    by_folded_name = {}
    owners = {}
    for rule in sorted(rules, key=lambda r: (r["name"] in changing, r["name"])):
        folded = rule["name"].lower()
        if folded in by_folded_name:
            problems.append("rule '%s': name clashes with rule '%s' (rule names are case-insensitive)"
                            % (rule["name"], by_folded_name[folded]))
        by_folded_name.setdefault(folded, rule["name"])
        for server_name in rule.get("server_name") or []:
            key = (server_name, rule["server_port"])
            if key in owners and owners[key] != rule["name"]:
                problems.append("rule '%s': server_name '%s' on server_port %d is already used by rule '%s'"
                                % (rule["name"], server_name, rule["server_port"], owners[key]))
            owners.setdefault(key, rule["name"])
    if problems:
        raise RuleError(problems)
