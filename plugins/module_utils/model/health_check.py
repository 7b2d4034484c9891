# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rule's ``health_check`` (its options in ``schema.HEALTH_CHECK_FIELDS``) and what the health
agent's verdicts may do to a rule, as pure functions.

- ``normalize_health_check``: raw input -> the canonical health_check of a rule of a protocol;
- ``merge_health_check``: the ``merged`` state's view (options not given keep their value);
- ``probe_host``: the ``Host`` header an http probe sends, and where it comes from;
- ``rotation``: fail open. Given the upstreams the agent found unhealthy, which of them the rule's
  file may mark ``down``: a rule is never left with nothing to serve.

Verdicts are observed state, never part of the canonical rule: the renderer takes them beside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, show
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import (
    HEALTH_CHECK, HEALTH_CHECK_HTTP_ONLY, health_check_default)

# Protocols whose rules are checked (a udp service answers nothing a probe could judge).
CHECKED_PROTOCOLS = ("http", "tcp")


def normalize_health_check(raw, protocol):
    """The canonical health_check of a rule of ``protocol`` from raw input (a mapping whose
    options not given take their defaults): (value, problems)."""
    if not isinstance(raw, dict):
        return None, ["health_check: %s is a %s, expected a mapping such as {path: /health}"
                      % (show(raw), type(raw).__name__)]
    problems = ["health_check: unsupported field %s" % show(key) for key in raw if key not in HEALTH_CHECK]
    value = health_check_default(protocol)
    for key in HEALTH_CHECK:
        if raw.get(key) is None:
            continue
        try:
            value[key] = HEALTH_CHECK[key].parse(raw[key])
        except FieldError as error:
            problems.append("health_check.%s%s" % (key, _joined(error)))
    if value["type"] == "http" and protocol != "http":
        problems.append("health_check.type: %s is not possible for a %s rule (it has no HTTP to send); use tcp"
                        % (show(value["type"]), protocol))
    if value["type"] == "tcp":
        for key in HEALTH_CHECK_HTTP_ONLY:
            if raw.get(key) is not None:
                problems.append("health_check.%s: does not apply to type tcp (a TCP connect sends nothing)" % key)
            value[key] = None
    elif protocol == "http":
        # an http rule checked by TCP before: its http options come back at their defaults
        default = health_check_default("http")
        for key in HEALTH_CHECK_HTTP_ONLY:
            if value[key] is None and raw.get(key) is None:
                value[key] = default[key]
    return value, problems


def _joined(error):
    text = str(error)
    return text if text.startswith("[") and "]: " in text else ": " + text


def merge_health_check(existing, raw):
    """health_check of the ``merged`` state: options ``raw`` gives replace the current ones; a new
    type drops the options of the old one (an http check's path means nothing to a tcp one)."""
    if not isinstance(raw, dict) or not isinstance(existing, dict):
        return raw
    merged = OrderedDict((key, value) for key, value in existing.items() if value is not None)
    if raw.get("type") is not None and raw["type"] != existing.get("type"):
        for key in HEALTH_CHECK_HTTP_ONLY:
            merged.pop(key, None)
    merged.update((key, value) for key, value in raw.items() if value is not None)
    return merged


def is_checked(rule):
    """Whether the agent probes this rule's upstreams."""
    check = rule.get("health_check")
    return rule["protocol"] in CHECKED_PROTOCOLS and bool(check) and check["enabled"]


def probe_host(rule, address):
    """(Host header, source) of an http probe of ``address`` for ``rule``: ``health_check.host``,
    else the rule's first server name, else (a wildcard cannot be a Host) the address itself.
    ``source`` is ``host``, ``server_name`` or ``address``."""
    check = rule["health_check"]
    if check.get("host"):
        return check["host"], "host"
    first = (rule.get("server_name") or [""])[0]
    if first and "*" not in first:
        return first, "server_name"
    return address, "address"


def health_check_warning(rule):
    """The warning a rule whose probes cannot send its server name as Host gets, or None."""
    if not is_checked(rule) or rule["health_check"]["type"] != "http" or rule["health_check"].get("host"):
        return None
    first = rule["server_name"][0]
    if "*" not in first:
        return None
    return ("rule '%s': health_check - the first server_name %s is a wildcard, which cannot be a Host header: probes "
            "send each upstream's address as Host instead; set health_check.host to the name the application "
            "answers to" % (rule["name"], show(first)))


class Rotation:
    """What a rule's file makes of the agent's verdicts: ``held_out`` (addresses marked ``down``
    besides the declared ones), ``fail_open`` (nothing in rotation passes: every one of them
    stays in), ``serving`` (addresses nginx sends traffic to, backups only when no primary is left)."""

    def __init__(self, held_out, fail_open, serving):
        self.held_out = held_out
        self.fail_open = fail_open
        self.serving = serving


def rotation(rule, unhealthy):
    """The Rotation of ``rule`` given ``unhealthy`` (addresses the agent found failing; those that
    are not upstreams of the rule, or are declared down, are ignored).

    Fail open: unhealthy primaries are held out while a healthy primary or backup remains (nginx
    then sends everything to the backups, verified on 1.22 for http and stream, round robin and
    least_conn); when every upstream in rotation is unhealthy, none is held out."""
    unhealthy = set(unhealthy or ())
    live = [u for u in rule["upstreams"] if not u["down"]]
    primaries = [u["address"] for u in live if not u["backup"]]
    backups = [u["address"] for u in live if u["backup"]]
    healthy_primaries = [a for a in primaries if a not in unhealthy]
    healthy_backups = [a for a in backups if a not in unhealthy]
    if not healthy_primaries and not healthy_backups:
        return Rotation(frozenset(), bool(live), tuple(primaries or backups))
    held = frozenset(a for a in primaries + backups if a in unhealthy)
    return Rotation(held, False, tuple(healthy_primaries or healthy_backups))
