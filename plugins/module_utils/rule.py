# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rule model: one load-balancing rule, validated and normalised to a single canonical form.

A canonical rule is a plain dict with every field present, in a fixed order, with canonical
values (lowercase names, addresses with ports, times with units). Two inputs that mean the same
thing produce equal canonical rules, and therefore the same nginx file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.fields import (
    FieldError,
    parse_address,
    parse_bool,
    parse_choice,
    parse_int,
    parse_name,
    parse_server_names,
    parse_time,
    show,
)

METHODS = ("round_robin", "least_conn", "ip_hash")
MAX_UPSTREAMS = 128

# Defaults chosen for failover (see docs/failover.md): a crashed upstream is skipped at once
# (connection refused -> next upstream), a hung one after read_timeout, and a dropped-SYN one
# after connect_timeout; each is then avoided for fail_timeout.
RULE_DEFAULTS = OrderedDict([
    ("server_port", 80),
    ("method", "round_robin"),
    ("connect_timeout", "1s"),
    ("read_timeout", "5s"),
    ("max_fails", 1),
    ("fail_timeout", "10s"),
    ("next_upstream_tries", 3),
    ("retry_non_idempotent", False),
    ("keepalive", 32),
])

UPSTREAM_DEFAULTS = OrderedDict([
    ("weight", 1),
    ("backup", False),
    ("down", False),
    ("max_fails", None),
    ("fail_timeout", None),
])

RULE_FIELDS = ("name", "server_name", "server_port", "method", "upstreams") + tuple(
    key for key in RULE_DEFAULTS if key not in ("server_port", "method"))
UPSTREAM_FIELDS = ("address",) + tuple(UPSTREAM_DEFAULTS)


FIELD_PARSERS = {
    "server_port": lambda v: parse_int(v, 1, 65535),
    "method": lambda v: parse_choice(v, METHODS),
    "connect_timeout": lambda v: parse_time(v, 1, 75000),
    "read_timeout": lambda v: parse_time(v, 1, 3600000),
    "max_fails": lambda v: parse_int(v, 0, 1000),
    "fail_timeout": lambda v: parse_time(v, 1000, 3600000, whole_seconds=True),
    "next_upstream_tries": lambda v: parse_int(v, 0, 100),
    "retry_non_idempotent": parse_bool,
    "keepalive": lambda v: parse_int(v, 0, 1024),
}

UPSTREAM_PARSERS = {
    "address": parse_address,
    "weight": lambda v: parse_int(v, 1, 1000),
    "backup": parse_bool,
    "down": parse_bool,
    "max_fails": FIELD_PARSERS["max_fails"],
    "fail_timeout": FIELD_PARSERS["fail_timeout"],
}


class RuleError(ValueError):
    """One or more problems with a rule. ``problems`` holds one message per bad field."""

    def __init__(self, problems, rule_name=None):
        self.problems = list(problems)
        self.rule_name = rule_name
        prefix = "rule %s: " % show(rule_name) if rule_name else ""
        super(RuleError, self).__init__(prefix + "; ".join(self.problems))


def given(raw, key):
    """A field counts as given when present and not None (Ansible passes None for unset options)."""
    return raw.get(key) is not None


def rule_name_of(raw):
    """The rule's name if it is a valid one, for error messages."""
    if isinstance(raw, dict) and isinstance(raw.get("name"), str):
        try:
            return parse_name(raw["name"])
        except FieldError:
            return None
    return None


def normalize_upstream(raw, index):
    """Canonical upstream from raw input; returns (upstream, problems)."""
    where = "upstreams[%d]" % index
    if not isinstance(raw, dict):
        return None, ["%s: %s is a %s, expected a mapping with an address" % (where, show(raw), type(raw).__name__)]
    problems = ["%s: unsupported field %s" % (where, show(key)) for key in raw if key not in UPSTREAM_FIELDS]
    upstream = OrderedDict()
    if not given(raw, "address"):
        problems.append("%s.address: missing" % where)
    for key in UPSTREAM_FIELDS:
        value = raw.get(key)
        if value is None:
            upstream[key] = UPSTREAM_DEFAULTS.get(key)
            continue
        try:
            upstream[key] = UPSTREAM_PARSERS[key](value)
        except FieldError as error:
            problems.append("%s.%s: %s" % (where, key, error))
    return upstream, problems


def normalize_upstreams(raw_list):
    if not isinstance(raw_list, (list, tuple)):
        return [], ["upstreams: %s is a %s, expected a list of upstreams" % (show(raw_list), type(raw_list).__name__)]
    if not raw_list:
        return [], ["upstreams: the list is empty, a rule needs at least one upstream"]
    if len(raw_list) > MAX_UPSTREAMS:
        return [], ["upstreams: %d upstreams, at most %d are supported" % (len(raw_list), MAX_UPSTREAMS)]
    upstreams, problems, seen = [], [], {}
    for index, item in enumerate(raw_list):
        upstream, item_problems = normalize_upstream(item, index)
        problems.extend(item_problems)
        if upstream is None or item_problems:
            continue
        address = upstream["address"]
        if address in seen:
            problems.append("upstreams[%d].address: %s duplicates upstreams[%d] (%s)"
                            % (index, show(item.get("address")), seen[address], address))
        seen[address] = index
        upstreams.append(upstream)
    return upstreams, problems


def check_upstream_roles(rule):
    """Cross-field checks that need the whole rule."""
    problems = []
    upstreams = rule.get("upstreams") or []
    if upstreams and not any(not u["backup"] and not u["down"] for u in upstreams):
        problems.append("upstreams: every upstream is backup or down; at least one must be a primary that is not down")
    if rule.get("method") == "ip_hash":
        backups = [u["address"] for u in upstreams if u["backup"]]
        if backups:
            problems.append("upstreams: backup upstreams (%s) cannot be used with method 'ip_hash'" % ", ".join(backups))
    return problems


def normalize_rule(raw):
    """Validate raw rule input and return the canonical rule; raise RuleError listing every problem.

    Fields that are absent or None take their defaults.
    """
    if not isinstance(raw, dict):
        raise RuleError(["%s is a %s, expected a mapping of rule fields" % (show(raw), type(raw).__name__)])
    name = rule_name_of(raw)
    problems = ["unsupported field %s" % show(key) for key in raw if key not in RULE_FIELDS]
    rule = OrderedDict()
    if not given(raw, "name"):
        problems.append("name: missing")
    else:
        try:
            rule["name"] = parse_name(raw["name"])
        except FieldError as error:
            problems.append("name: %s" % error)
    if not given(raw, "server_name"):
        problems.append("server_name: missing")
    else:
        try:
            rule["server_name"] = parse_server_names(raw["server_name"])
        except FieldError as error:
            problems.append("server_name%s" % _joined(error))
    for key in ("server_port", "method"):
        rule[key] = _parse_field(raw, key, problems)
    if not given(raw, "upstreams"):
        problems.append("upstreams: missing, a rule needs at least one upstream")
        rule["upstreams"] = []
    else:
        rule["upstreams"], upstream_problems = normalize_upstreams(raw["upstreams"])
        problems.extend(upstream_problems)
    for key in RULE_DEFAULTS:
        if key not in rule:
            rule[key] = _parse_field(raw, key, problems)
    if not problems:
        problems.extend(check_upstream_roles(rule))
    if problems:
        raise RuleError(problems, name)
    return rule


def _joined(error):
    text = str(error)
    return text if text.startswith("[") and "]: " in text else ": " + text


def _parse_field(raw, key, problems):
    value = raw.get(key)
    if value is None:
        return RULE_DEFAULTS[key]
    try:
        return FIELD_PARSERS[key](value)
    except FieldError as error:
        problems.append("%s: %s" % (key, error))
        return RULE_DEFAULTS[key]


def merge_rule(existing, raw):
    """Raw input merged over an existing canonical rule (the ``merged`` state): fields the input
    does not give keep their current value; upstreams are matched by canonical address, and an
    upstream the input does not mention is kept. The result still has to be normalised."""
    merged = OrderedDict(existing)
    for key, value in raw.items():
        if value is not None and key != "upstreams":
            merged[key] = value
    if raw.get("upstreams") is not None and isinstance(raw["upstreams"], (list, tuple)):
        merged["upstreams"] = merge_upstreams(existing["upstreams"], raw["upstreams"])
    elif raw.get("upstreams") is not None:
        merged["upstreams"] = raw["upstreams"]
    return merged


def merge_upstreams(existing, raw_list):
    by_address = OrderedDict((u["address"], OrderedDict(u)) for u in existing)
    extra, matched = [], set()
    for item in raw_list:
        address = None
        if isinstance(item, dict):
            try:
                address = parse_address(item.get("address"))
            except FieldError:
                address = None
        if address in by_address and address not in matched:
            matched.add(address)
            for key, value in item.items():
                if value is not None:
                    by_address[address][key] = value
        else:
            extra.append(item)
    return list(by_address.values()) + extra
