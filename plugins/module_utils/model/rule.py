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

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import (
    FieldError,
    format_time,
    is_ipv4,
    parse_name,
    parse_time_ms,
    rule_label,
    show,
)
from ansible_collections.antsle.antman.plugins.module_utils.model.health_check import check_health_check
from ansible_collections.antsle.antman.plugins.module_utils.model.options import merge_value, read_options
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import (
    DEFAULT_TRIES, PROTOCOL_SPECIFIC, RULE, RULE_DEFAULT_PROTOCOL, RULE_FIELDS, UPSTREAM_OVERRIDES)
from ansible_collections.antsle.antman.plugins.module_utils.model.tls import is_acme, split_content


class RuleError(ValueError):
    """One or more problems with a rule. ``problems`` holds one message per bad field."""

    def __init__(self, problems, rule_name=None):
        self.problems = list(problems)
        self.rule_name = rule_name
        prefix = rule_label(rule_name) + ": " if rule_name else ""
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
    problems.extend(check_access(rule))
    problems.extend(check_health_check(rule))
    if rule.get("redirect_http"):
        if not rule.get("tls"):
            problems.append("redirect_http: true needs tls (it redirects port 80 to this rule's https)")
        elif rule["server_port"] == 80:
            problems.append("redirect_http: true needs a server_port other than 80 (the redirect listens on 80)")
    if is_acme(rule) and rule["server_port"] == 80:
        problems.append("tls.acme: true needs a server_port other than 80 (HTTP-01 challenges are answered on port 80)")
    if is_acme(rule):
        inexact = [name for name in rule.get("server_name") or [] if "*" in name or is_ipv4(name)]
        if inexact:
            problems.append("tls.acme: true needs exact host names (HTTP-01 certificates cannot be had for %s)"
                            % ", ".join(show(name) for name in inexact))
    return problems


def check_access(rule):
    """Conflicts between the fields that decide who reaches a rule, refused by name."""
    problems = []
    if rule.get("proxy_protocol") and not rule.get("real_ip_from"):
        problems.append("proxy_protocol: true needs real_ip_from, the proxies whose PROXY protocol header gives the "
                        "client address")
    if rule["protocol"] == "tcp" and rule.get("real_ip_from") and not rule.get("proxy_protocol"):
        problems.append("real_ip_from: a tcp rule can learn the client address only from a PROXY protocol header; "
                        "it needs proxy_protocol: true")
    return problems


def in_rotation(rule):
    """(primaries, backups): the upstreams of ``rule`` that are not down."""
    upstreams = [u for u in rule.get("upstreams") or [] if not u["down"]]
    return [u for u in upstreams if not u["backup"]], [u for u in upstreams if u["backup"]]


def effective_tries(rule):
    """The ``next_upstream_tries`` nginx applies: the rule's, or when it gives none, DEFAULT_TRIES, or
    with backups every upstream in rotation (a request that meets only failed primaries still
    reaches a backup)."""
    if rule.get("next_upstream_tries") is not None:
        return rule["next_upstream_tries"]
    primaries, backups = in_rotation(rule)
    return len(primaries) + len(backups) if backups else DEFAULT_TRIES


def effective_next_upstream_timeout(rule):
    """The ``next_upstream_timeout`` nginx applies (canonical time), or None for no limit: the rule's,
    or for http rules that give none the time of one try (a request that timed out is passed to one
    more upstream, not to all: a page slower than read_timeout then costs two upstreams a failure,
    not every one, and a few such pages cannot take the rule's upstreams out together), or with
    backups the time DEFAULT_TRIES tries can take (a request still gets past hung primaries)."""
    if rule.get("next_upstream_timeout") is not None:
        return rule["next_upstream_timeout"]
    if rule["protocol"] != "http":
        return None
    one_try = parse_time_ms(rule["connect_timeout"], 0, 10 ** 9) + parse_time_ms(rule["read_timeout"], 0, 10 ** 9)
    _primaries, backups = in_rotation(rule)
    return format_time(DEFAULT_TRIES * one_try if backups else one_try)


def rule_protocol(raw):
    """The protocol of raw rule input, which decides the fields that apply (the default when it is
    not a valid one: reading the field names the bad value)."""
    if not isinstance(raw, dict) or not given(raw, "protocol"):
        return RULE_DEFAULT_PROTOCOL
    try:
        return RULE["protocol"].parse(raw["protocol"])
    except FieldError:
        return RULE_DEFAULT_PROTOCOL


def parse_rule(raw):
    """Validate raw rule input: (canonical rule, TlsContent or None); raise RuleError listing every problem.

    The canonical rule is a plain OrderedDict, read through the schema (``options.read_options``).
    Certificate and key content given in the input (never part of the rule, which holds their
    digests) is returned beside it, to be written with the rule. Fields that are absent or None take
    the defaults of the rule's protocol. Fields that do not apply to the protocol (server_name,
    keepalive, tls... for tcp and udp) are refused."""
    rule, problems = read_options(RULE_FIELDS, raw, "", rule_protocol(raw), "a mapping of rule fields")
    if rule is None:
        raise RuleError(problems)
    tls_content = None
    if rule.get("tls"):
        rule["tls"], tls_content = split_content(rule["tls"])
    for upstream in rule.get("upstreams") or []:
        # An override equal to the rule's value says nothing: canonical form has none.
        for key in UPSTREAM_OVERRIDES:
            if upstream[key] == rule.get(key):
                upstream[key] = None
    if not problems:
        problems.extend(check_upstream_roles(rule))
    if problems:
        raise RuleError(problems, rule_name_of(raw))
    return rule, tls_content


def normalize_rule(raw):
    """The canonical rule of raw input (see ``parse_rule``), without any certificate content."""
    return parse_rule(raw)[0]


def merge_rule(existing, raw, merge_upstreams_by_address=True):
    """Raw input merged over an existing canonical rule: fields the input does not give keep their
    current value, and so do the options of ``tls``, ``rate_limit`` and ``health_check`` it does not
    give (a new tls form replaces the current one, a new health_check type drops the old one's).
    Upstreams given are matched by canonical address and an upstream the input does not mention is
    kept (``lb_rules`` merged), or with ``merge_upstreams_by_address=False`` they replace the list
    (``lb_rule``, whose upstreams are the list). The result still has to be normalised."""
    merged = OrderedDict(existing)
    if raw.get("protocol") is not None and raw["protocol"] != existing.get("protocol"):
        # A new protocol: the fields that only the old one had, or whose default differs, go.
        for key in PROTOCOL_SPECIFIC:
            merged.pop(key, None)
    for key, value in raw.items():
        if value is not None:
            merged[key] = merge_value(RULE[key], merged.get(key), value, merge_upstreams_by_address) if key in RULE else value
    return merged
