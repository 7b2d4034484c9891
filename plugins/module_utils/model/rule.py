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
    parse_address,
    parse_name,
    parse_server_names,
    parse_time_ms,
    rule_label,
    show,
)
from ansible_collections.antsle.antman.plugins.module_utils.model.health_check import (
    CHECKED_PROTOCOLS, merge_health_check, normalize_health_check)
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import (
    DEFAULT_TRIES, FIELD_ORDER, LIMITED, MAX_UPSTREAMS, PROTOCOL_SPECIFIC, RATE_LIMIT, RULE, UPSTREAM,
    UPSTREAM_ORDER, defaults_for, health_check_default, upstream_defaults)
from ansible_collections.antsle.antman.plugins.module_utils.model.tls import COMMON, is_acme, normalize_tls

UPSTREAM_DEFAULTS = upstream_defaults()


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


def normalize_upstream(raw, index):
    """Canonical upstream from raw input; returns (upstream, problems)."""
    where = "upstreams[%d]" % index
    if not isinstance(raw, dict):
        return None, ["%s: %s is a %s, expected a mapping with an address" % (where, show(raw), type(raw).__name__)]
    problems = ["%s: unsupported field %s" % (where, show(key)) for key in raw if key not in UPSTREAM]
    upstream = OrderedDict()
    if not given(raw, "address"):
        problems.append("%s.address: missing" % where)
    for key in UPSTREAM_ORDER:
        value = raw.get(key)
        if value is None:
            upstream[key] = UPSTREAM_DEFAULTS.get(key)
            continue
        try:
            upstream[key] = parse_address(value) if key == "address" else UPSTREAM[key].parse(value)
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
    problems.extend(check_access(rule))
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


# Which rate_limit options each protocol has, and their defaults (None: required).
RATE_LIMIT_OPTIONS = {"http": (("requests_per_second", None), ("burst", 0)), "tcp": (("connections", None),)}


def normalize_rate_limit(raw, protocol):
    """Canonical rate_limit of a rule of ``protocol``: (value, problems). http has
    requests_per_second and burst, tcp has connections; options of the other protocol are refused."""
    if not isinstance(raw, dict):
        return None, ["rate_limit: %s is a %s, expected a mapping such as {requests_per_second: 10, burst: 5}"
                      % (show(raw), type(raw).__name__)]
    options = OrderedDict(RATE_LIMIT_OPTIONS[protocol])
    problems = ["rate_limit: unsupported field %s" % show(key) for key in raw if key not in RATE_LIMIT]
    problems += ["rate_limit.%s: does not apply to protocol %s" % (key, protocol)
                 for key in RATE_LIMIT if key not in options and raw.get(key) is not None]
    value = OrderedDict()
    for key, default in options.items():
        if raw.get(key) is None:
            if default is None:
                problems.append("rate_limit.%s: missing" % key)
            value[key] = default
            continue
        try:
            value[key] = RATE_LIMIT[key].parse(raw[key])
        except FieldError as error:
            problems.append("rate_limit.%s: %s" % (key, error))
    return value, problems


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
    or for http rules that give none the time DEFAULT_TRIES tries can take."""
    if rule.get("next_upstream_timeout") is not None:
        return rule["next_upstream_timeout"]
    if rule["protocol"] != "http":
        return None
    one_try = parse_time_ms(rule["connect_timeout"], 0, 10 ** 9) + parse_time_ms(rule["read_timeout"], 0, 10 ** 9)
    return format_time(DEFAULT_TRIES * one_try)


def parse_rule(raw):
    """Validate raw rule input: (canonical rule, TlsContent or None); raise RuleError listing every problem.

    The canonical rule is a plain OrderedDict. Certificate and key content given in the input (never
    part of the rule, which holds their digests) is returned beside it, to be written with the rule.
    Fields that are absent or None take the defaults of the rule's protocol. Fields that do not
    apply to the protocol (server_name, keepalive, tls... for tcp and udp) are refused."""
    if not isinstance(raw, dict):
        raise RuleError(["%s is a %s, expected a mapping of rule fields" % (show(raw), type(raw).__name__)])
    name = rule_name_of(raw)
    problems = ["unsupported field %s" % show(key) for key in raw if key not in RULE]
    values = OrderedDict()
    if not given(raw, "name"):
        problems.append("name: missing")
    else:
        try:
            values["name"] = parse_name(raw["name"])
        except FieldError as error:
            problems.append("name: %s" % error)
    protocol = values["protocol"] = _parse_field(raw, "protocol", problems, RULE["protocol"].default)
    defaults = defaults_for(protocol)
    for key, protocols in LIMITED.items():
        if protocol not in protocols and given(raw, key):
            problems.append("%s: does not apply to protocol %s" % (key, protocol))
    if protocol == "http":
        if not given(raw, "server_name"):
            problems.append("server_name: missing")
        else:
            try:
                values["server_name"] = parse_server_names(raw["server_name"])
            except FieldError as error:
                problems.append("server_name%s" % _joined(error))
    if not given(raw, "upstreams"):
        problems.append("upstreams: missing, a rule needs at least one upstream")
        values["upstreams"] = []
    else:
        values["upstreams"], upstream_problems = normalize_upstreams(raw["upstreams"])
        problems.extend(upstream_problems)
    tls_content = None
    if protocol == "http" and given(raw, "tls"):
        values["tls"], tls_content, tls_problems = normalize_tls(raw["tls"])
        problems.extend(tls_problems)
    if protocol in RATE_LIMIT_OPTIONS and given(raw, "rate_limit"):
        values["rate_limit"], rate_problems = normalize_rate_limit(raw["rate_limit"], protocol)
        problems.extend(rate_problems)
    if protocol in CHECKED_PROTOCOLS:
        values["health_check"], check_problems = (normalize_health_check(raw["health_check"], protocol)
                                                  if given(raw, "health_check") else (health_check_default(protocol), []))
        problems.extend(check_problems)
    for key, default in defaults.items():
        if key not in values:
            values[key] = _parse_field(raw, key, problems, default)
    rule = OrderedDict((key, values[key]) for key in FIELD_ORDER if key in values)
    for upstream in rule["upstreams"]:
        # An override equal to the rule's value says nothing: canonical form has none.
        for key in ("max_fails", "fail_timeout"):
            if upstream[key] == rule[key]:
                upstream[key] = None
    if not problems:
        problems.extend(check_upstream_roles(rule))
    if problems:
        raise RuleError(problems, name)
    return rule, tls_content


def normalize_rule(raw):
    """The canonical rule of raw input (see ``parse_rule``), without any certificate content."""
    return parse_rule(raw)[0]


def _joined(error):
    text = str(error)
    return text if text.startswith("[") and "]: " in text else ": " + text


def _parse_field(raw, key, problems, default):
    value = raw.get(key)
    parse = RULE[key].parse
    if value is None or parse is None:
        return default
    try:
        return parse(value)
    except FieldError as error:
        # a list field names the bad item as server_name does: allow_from[1]: ...
        problems.append("%s%s" % (key, _joined(error)) if RULE[key].type == "list" else "%s: %s" % (key, error))
        return default


def merge_rule(existing, raw, merge_upstreams_by_address=True):
    """Raw input merged over an existing canonical rule: fields the input does not give keep their
    current value. Upstreams given are matched by canonical address and an upstream the input does
    not mention is kept (``lb_rules`` merged), or with ``merge_upstreams_by_address=False`` they
    replace the list (``lb_rule``, whose upstreams are the list). The result still has to be
    normalised."""
    merged = OrderedDict(existing)
    if raw.get("protocol") is not None and raw["protocol"] != existing.get("protocol"):
        # A new protocol: the fields that only the old one had, or whose default differs, go.
        for key in PROTOCOL_SPECIFIC:
            merged.pop(key, None)
    for key, value in raw.items():
        if value is not None and key not in ("upstreams", "tls"):
            merged[key] = value
    same_protocol = merged.get("protocol") == existing.get("protocol")
    if isinstance(raw.get("rate_limit"), dict) and isinstance(existing.get("rate_limit"), dict) and same_protocol:
        # {burst: 10} changes the burst and keeps the rate (a new protocol has other options: replaced)
        merged["rate_limit"] = OrderedDict(existing["rate_limit"])
        merged["rate_limit"].update((k, v) for k, v in raw["rate_limit"].items() if v is not None)
    if isinstance(raw.get("health_check"), dict) and isinstance(existing.get("health_check"), dict) and same_protocol:
        merged["health_check"] = merge_health_check(existing["health_check"], raw["health_check"])
    if isinstance(raw.get("tls"), dict) and isinstance(merged.get("tls"), dict):
        merged["tls"] = merge_tls(merged["tls"], raw["tls"])
    elif raw.get("tls") is not None:
        merged["tls"] = raw["tls"]
    if raw.get("upstreams") is not None and isinstance(raw["upstreams"], (list, tuple)) and merge_upstreams_by_address:
        merged["upstreams"] = merge_upstreams(existing["upstreams"], raw["upstreams"])
    elif raw.get("upstreams") is not None:
        merged["upstreams"] = raw["upstreams"]
    return merged


def merge_tls(existing, raw):
    """tls merged: a new form (paths, content, acme) replaces the old one; protocols and hsts kept if not given."""
    merged = OrderedDict((k, v) for k, v in existing.items())
    given = dict((k, v) for k, v in raw.items() if v is not None)
    if set(given) - set(COMMON):
        merged = OrderedDict((k, v) for k, v in merged.items() if k in COMMON)
    merged.update(given)
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
