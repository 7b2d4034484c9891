# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lb_rules: the whole rule set as one resource, with the states of Ansible's network resource
modules (merged, replaced, overridden, deleted, gathered, rendered, parsed).

``want`` is the request (validated here, before anything is touched), ``have`` is the snapshot
read under the lock, and ``desired_rules`` turns both into the {name: rule or None} that the
transaction applies in one step: one ``nginx -t`` and at most one reload, whatever the size.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.fields import FieldError, parse_name, show
from ansible_collections.antsle.antman.plugins.module_utils.render import render_rule
from ansible_collections.antsle.antman.plugins.module_utils.rule import RuleError, merge_rule, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.ruleset import check_rule_set

MERGED, REPLACED, OVERRIDDEN, DELETED = "merged", "replaced", "overridden", "deleted"
GATHERED, RENDERED, PARSED = "gathered", "rendered", "parsed"
STATES = (MERGED, REPLACED, OVERRIDDEN, DELETED, GATHERED, RENDERED, PARSED)
WRITING_STATES = (MERGED, REPLACED, OVERRIDDEN, DELETED)


def check_config_names(config):
    """(names, problems): the name of each config entry (None where missing or invalid) and what
    is wrong with the names (missing, invalid, repeated)."""
    if not isinstance(config, (list, tuple)):
        raise RuleError(["config: %s is not a list of rules" % show(config)])
    names, problems = [], []
    for index, entry in enumerate(config):
        name = None
        if not isinstance(entry, dict):
            problems.append("config[%d]: %s is not a mapping of rule fields" % (index, show(entry)))
        elif entry.get("name") is None:
            problems.append("config[%d].name: missing" % index)
        else:
            try:
                name = parse_name(entry["name"])
            except FieldError as error:
                problems.append("config[%d].name: %s" % (index, error))
        if name is not None and name in names:
            problems.append("config[%d].name: %s is listed twice" % (index, show(name)))
        names.append(name)
    return names, problems


def config_names(config):
    """Names of the config entries, in order; RuleError if one is missing, invalid or repeated."""
    names, problems = check_config_names(config)
    if problems:
        raise RuleError(problems)
    return names


def normalize_config(config, existing=None):
    """Canonical rules by name for every config entry; RuleError naming every bad entry.

    With ``existing`` (merged state), an entry is merged over the rule of that name if there is one."""
    names, problems = check_config_names(config)
    rules = OrderedDict()
    for index, (name, entry) in enumerate(zip(names, config)):
        if name is None:
            continue
        current = existing.get(name) if existing else None
        try:
            rules[name] = normalize_rule(merge_rule(current, entry) if current else entry)
        except RuleError as error:
            problems.extend("config[%d] (rule %s): %s" % (index, show(name), p) for p in error.problems)
    if problems:
        raise RuleError(problems)
    check_rule_set(rules.values())
    return rules


def validate_request(state, config):
    """Everything about the request that can be checked without the host. Returns the canonical
    rules for the states where they do not depend on the host (replaced, overridden, rendered).

    For merged, entries are merged over the rules on the host, so they are completed and validated
    once the host is read, still before anything is written."""
    if state in (MERGED, REPLACED, OVERRIDDEN) and not config:
        raise RuleError(["config: empty; state %s needs at least one rule (use state deleted to remove rules)" % state])
    if state in (REPLACED, OVERRIDDEN, RENDERED):
        return normalize_config(config or [])
    if config:
        config_names(config)
    return None


def desired_rules(state, config, want, have):
    """{name: canonical rule, or None to delete} for a writing state, given the snapshot ``have``."""
    if state == MERGED:
        return normalize_config(config, existing=have.rules())
    if state == REPLACED:
        return OrderedDict(want)
    if state == OVERRIDDEN:
        desired = OrderedDict((name, None) for name in have.managed if name not in want)
        desired.update(want)
        return desired
    if state == DELETED:
        names = config_names(config) if config else list(have.managed)
        return OrderedDict((name, None) for name in names)
    raise ValueError("not a writing state: %s" % state)


def render_config(rules, rules_dir):
    """The ``rendered`` result: the nginx file text of each rule, in the order given."""
    return [render_rule(rule, rules_dir) for rule in rules.values()]
