# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One upstream address across the rule set (the lb_upstream module), as pure functions.

- ``parse_request``: the module's options, every one validated before the host is read; problems
  name the option and the value, all of them at once.
- ``plan_state``: given the managed rules ({name: canonical rule}), which rules have the address,
  which of them change, and the rules with the address taken out of rotation (``down: true``) or
  put back. Everything that would make the change unsafe or pointless is refused here, by rule
  name, before anything is touched: no rule has the address, a listed rule lacks it, disabling it
  would leave a rule with no upstream in rotation, a drain that could never finish, a TCP or HTTP
  health check of a udp-only service.

Addresses match canonically (``10.1.1.5`` is ``10.1.1.5:80``, host names in any case, IPv6 in any
spelling), by the text of the canonical address: a host name and the IP it resolves to are two
addresses, as they are two upstreams to the model.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import math
import re
from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import (
    FieldError, format_status_ranges, parse_address, parse_bool, parse_choice, parse_distinct, parse_http_path, parse_int,
    parse_name, parse_status_ranges, show)
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule

ENABLED, DISABLED = "enabled", "disabled"
STATES = (ENABLED, DISABLED)
TIMEOUT_RANGE = (0.1, 86400.0)  # seconds: what one call may wait, for the drain or the health check
INTERVAL_RANGE = (0.1, 3600.0)
HEALTHY_AFTER_RANGE = (1, 100)
# The defaults of the options that have one (the module's argument spec takes them from here).
DEFAULTS = {"wait_drained": True, "timeout": 60.0, "health_check": True, "health_status": ("200-399",),
            "healthy_after": 2, "health_interval": 1.0, "allow_missing": False}
NUMBER_RE = re.compile(r"\A[0-9]{1,9}(?:\.[0-9]{1,9})?\Z")


def parse_seconds(value, minimum, maximum):
    """A number of seconds in [minimum, maximum]: an int, a float or a decimal string (as Ansible's
    ``type: float`` accepts them); not a boolean, not NaN or infinity."""
    if isinstance(value, bool):
        raise FieldError("%s is a boolean, expected a number of seconds" % show(value))
    if isinstance(value, str):
        text = value.strip()
        if not NUMBER_RE.match(text):
            raise FieldError("%s is not a number of seconds" % show(value))
        number = float(text)
    elif isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    else:
        raise FieldError("%s is a %s, expected a number of seconds" % (show(value), type(value).__name__))
    if not minimum <= number <= maximum:  # also false for NaN
        raise FieldError("%s is out of range (%g-%g seconds)" % (show(value), minimum, maximum))
    return number


class HealthCheck:
    """How an address is probed before it is put back: a TCP connect, or (with a ``path``) an HTTP
    GET whose status must be in ``statuses``; ``healthy_after`` passes in a row, one probe every
    ``interval`` seconds."""

    def __init__(self, path, statuses, healthy_after, interval):
        self.path = path
        self.statuses = statuses
        self.healthy_after = healthy_after
        self.interval = interval

    @property
    def kind(self):
        return "http" if self.path else "tcp"

    def describe(self):
        if self.path:
            return "HTTP GET %s expecting %s" % (self.path, format_status_ranges(self.statuses))
        return "TCP connect"


class UpstreamRequest:
    """lb_upstream's request: the canonical ``address``, the ``state`` wanted, the ``rules`` it is
    limited to (None: every rule with the address), whether to wait for the drain, the ``timeout``
    of that wait and of the health check, the ``health`` check (None: none), ``allow_missing``."""

    def __init__(self, address, state, rules, wait_drained, timeout, health, allow_missing):
        self.address = address
        self.state = state
        self.rules = rules
        self.wait_drained = wait_drained
        self.timeout = timeout
        self.health = health
        self.allow_missing = allow_missing

    @property
    def down(self):
        return self.state == DISABLED


def _parse(problems, option, parse, value):
    try:
        return parse(value)
    except FieldError as error:
        problems.append("%s: %s" % (option, error))
        return None


def parse_rule_names(value):
    """``rules``: a non-empty list of distinct rule names (None: every rule with the address)."""
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise FieldError("%s is a %s, expected a list of rule names" % (show(value), type(value).__name__))
    if not items:
        raise FieldError("the list is empty; leave rules out to mean every rule that has the address")
    return parse_distinct(items, parse_name)


def parse_request(params):
    """The request of lb_upstream from its options (module params); RuleError listing every bad option."""
    problems = []
    address = _parse(problems, "address", parse_address, params.get("address"))
    state = _parse(problems, "state", lambda v: parse_choice(v, STATES), params.get("state"))
    rules = _parse(problems, "rules", parse_rule_names, params.get("rules"))
    wait_drained = _parse(problems, "wait_drained", parse_bool, _default(params, "wait_drained"))
    timeout = _parse(problems, "timeout", lambda v: parse_seconds(v, *TIMEOUT_RANGE), _default(params, "timeout"))
    health_check = _parse(problems, "health_check", parse_bool, _default(params, "health_check"))
    path = params.get("health_path")
    path = _parse(problems, "health_path", parse_http_path, path) if path is not None else None
    statuses = _parse(problems, "health_status", parse_status_ranges, _default(params, "health_status"))
    healthy_after = _parse(problems, "healthy_after", lambda v: parse_int(v, *HEALTHY_AFTER_RANGE),
                           _default(params, "healthy_after"))
    interval = _parse(problems, "health_interval", lambda v: parse_seconds(v, *INTERVAL_RANGE),
                      _default(params, "health_interval"))
    allow_missing = _parse(problems, "allow_missing", parse_bool, _default(params, "allow_missing"))
    if problems:
        raise RuleError(problems)
    health = HealthCheck(path, statuses, healthy_after, interval) if health_check else None
    return UpstreamRequest(address, state, rules, wait_drained, timeout, health, allow_missing)


def _default(params, key):
    """The option's value, or its default when not given (None)."""
    value = params.get(key)
    if value is None:
        value = DEFAULTS[key]
    return list(value) if isinstance(value, tuple) else value


# --- the plan --------------------------------------------------------------------------------------

class UpstreamPlan:
    """What a request does to a rule set: ``matched`` (names of the rules considered that have the
    address), ``changing`` (those whose upstream changes), ``desired`` ({name: new rule}) and
    ``in_rotation_elsewhere`` (rules not considered that keep the address in rotation)."""

    def __init__(self, matched, changing, desired, in_rotation_elsewhere):
        self.matched = matched
        self.changing = changing
        self.desired = desired
        self.in_rotation_elsewhere = in_rotation_elsewhere


def upstream_of(rule, address):
    """The upstream of ``rule`` with the canonical ``address``, or None."""
    for upstream in rule["upstreams"]:
        if upstream["address"] == address:
            return upstream
    return None


def with_down(rule, address, down):
    """A copy of the canonical ``rule`` with the upstream ``address`` down (or not), validated again."""
    changed = copy.deepcopy(rule)
    upstream_of(changed, address)["down"] = down
    return normalize_rule(changed)


def plan_state(rules, request):
    """The UpstreamPlan of ``request`` over the managed ``rules`` ({name: canonical rule}, by name);
    RuleError naming the rule(s) when the request must be refused."""
    address = request.address
    problems = []
    if request.rules is None:
        considered = [name for name, rule in rules.items() if upstream_of(rule, address)]
    else:
        considered = []
        for name in request.rules:
            if name not in rules:
                if not request.allow_missing:
                    problems.append("rules: rule '%s' is not a managed rule" % name)
            elif upstream_of(rules[name], address) is None:
                if not request.allow_missing:
                    problems.append("rules: rule '%s' has no upstream %s" % (name, address))
            else:
                considered.append(name)
    if problems:
        raise RuleError(problems)
    if not considered and not request.allow_missing:
        where = "any managed rule" if request.rules is None else "the rules listed"
        raise RuleError(["address: %s is not an upstream of %s; set allow_missing: true to make this a no-op"
                         % (address, where)])
    changing = [name for name in considered if upstream_of(rules[name], address)["down"] != request.down]
    desired = OrderedDict()
    for name in changing:
        rule = rules[name]
        if request.down and not _in_rotation_without(rule, address):
            problems.append("rule '%s': disabling %s would leave no upstream in rotation (every upstream is backup "
                            "or down); enable another upstream of the rule first" % (name, address))
            continue
        try:
            desired[name] = with_down(rule, address, request.down)
        except RuleError as error:
            problems.append("rule '%s': %s" % (name, "; ".join(error.problems)))
    elsewhere = [name for name, rule in rules.items() if name not in considered
                 and upstream_of(rule, address) is not None and not upstream_of(rule, address)["down"]]
    if request.down and request.wait_drained and elsewhere and considered:
        problems.append("wait_drained: %s stays in rotation in %s, which rules does not list, so nginx's connections "
                        "to it would never drain; list %s in rules too, or set wait_drained: false"
                        % (address, _names(elsewhere), "it" if len(elsewhere) == 1 else "them"))
    if not request.down and request.health is not None and changing:
        if all(rules[name]["protocol"] == "udp" for name in changing):
            problems.append("health_check: %s is only an upstream of udp rules (%s), whose service a TCP connect or "
                            "an HTTP GET cannot check; set health_check: false" % (address, ", ".join(changing)))
    if problems:
        raise RuleError(problems)
    return UpstreamPlan(considered, changing, desired, elsewhere)


def _in_rotation_without(rule, address):
    return any(not u["backup"] and not u["down"] for u in rule["upstreams"] if u["address"] != address)


def _names(names):
    return ("rule " if len(names) == 1 else "rules ") + ", ".join("'%s'" % name for name in names)
