# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's request, parsed once into an explicit object, before anything on the host is read.

A ``Request`` holds the names of the rules it concerns, the canonical rules it asks for, and the
certificate and key content to write with them (never part of a rule, which carries digests).
Rules that are merged over what the host has (``lb_rules state=merged``) are completed once the
host has been read, under the lock, and still before anything is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, parse_name, rule_label, show
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, merge_rule, parse_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import check_rule_set


class Request:
    """``names``: the rules concerned, in the order given. ``rules``: {name: canonical rule, or None
    to delete}, or None while it depends on the host (merged, lb_rule's edit). ``contents``:
    {name: TlsContent}. ``every_rule``: the request concerns every managed rule (``lb_rules``
    deleted without ``config``), not only the names it lists."""

    def __init__(self, names, rules=None, contents=None, entries=None, labels=None, by_address=True, every_rule=False):
        self.names = list(names)
        self.rules = rules
        self.contents = contents or {}
        self.every_rule = every_rule
        self._entries = entries
        self._labels = labels
        self._by_address = by_address

    def merged_over(self, have):
        """{name: canonical rule} of the entries merged over the rules ``have`` ({name: rule}); the
        certificate content they give joins ``contents``."""
        rules, contents = normalize_entries(self.names, self._entries, existing=have, labels=self._labels,
                                            by_address=self._by_address)
        self.contents.update(contents)
        return rules


def config_label(index, name):
    """How problems of an ``lb_rules`` config entry are prefixed: ``config[1] (rule 'api'): ``."""
    return "config[%d] (%s): " % (index, rule_label(name))


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


def normalize_entries(names, config, existing=None, problems=(), labels=None, by_address=True):
    """({name: canonical rule}, {name: TlsContent}) for every config entry; RuleError naming every
    bad entry, after the ``problems`` already found with the names. With ``existing``, an entry is
    merged over the rule of that name if any (``merge_rule``; ``by_address``: how upstreams merge).
    ``labels(index, name)`` prefixes each problem (``config_label``); None: a single entry, whose
    RuleError names its rule."""
    rules, contents, problems = OrderedDict(), {}, list(problems)
    for index, (name, entry) in enumerate(zip(names, config)):
        if name is None:
            continue
        current = existing.get(name) if existing else None
        try:
            rules[name], content = parse_rule(merge_rule(current, entry, by_address) if current else entry)
        except RuleError as error:
            if labels is None:
                raise
            problems.extend(labels(index, name) + p for p in error.problems)
            continue
        if content is not None:
            contents[name] = content
    if problems:
        raise RuleError(problems)
    check_rule_set(rules.values())
    return rules, contents


def config_request(config, complete=True, needed=True, state=""):
    """The request of ``lb_rules``' ``config``: names checked, and with ``complete`` every entry
    turned into its canonical rule (else that waits for the host: merged). ``needed``: an empty
    config is refused (it would wipe the rule set by accident). ``config`` None (not given) is a
    request for every managed rule (state deleted); an empty list concerns no rule."""
    if needed and not config:
        raise RuleError(["config: empty; state %s needs at least one rule (use state deleted to remove rules)" % state])
    every_rule = config is None
    config = config or []
    names, problems = check_config_names(config)
    if not complete:
        if problems:
            raise RuleError(problems)
        return Request(names, entries=config, labels=config_label, every_rule=every_rule)
    rules, contents = normalize_entries(names, config, problems=problems, labels=config_label)
    return Request(names, rules, contents, every_rule=every_rule)


def rule_request(fields, present=True, replace=False):
    """The request of ``lb_rule``: one rule, or its deletion (only ``name`` is read then). ``fields``
    holds the fields given. An existing rule keeps the current value of the fields not given, and
    the upstreams given replace its list; a new one (or with ``replace``) takes the defaults, so
    that the rule is what is given. Merging waits for the host, like ``lb_rules`` merged."""
    try:
        name = parse_name(fields.get("name"))
    except FieldError as error:
        raise RuleError(["name: %s" % error])
    if not present:
        return Request([name], OrderedDict([(name, None)]))
    if not replace:
        return Request([name], entries=[fields], by_address=False)
    rule, content = parse_rule(fields)
    return Request([name], OrderedDict([(name, rule)]), {name: content} if content else {})
