# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rule's ``health_check`` (its options in ``schema.HEALTH_CHECK_FIELDS``, read and merged by
``options.py`` like every field) and what the health agent's verdicts may do to a rule, as pure functions.

- ``check_health_check``: its check across fields (the type a rule's protocol allows);
- ``probe_host``: the ``Host`` header an http probe sends, and where it comes from;
- ``rotation``: fail open. Given the upstreams the agent found unhealthy, which of them the rule's
  file may mark ``down``: a rule is never left with nothing to serve.

Verdicts are observed state, never part of the canonical rule: the renderer takes them beside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import show
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import RULE

# Protocols whose rules are checked (a udp service answers nothing a probe could judge).
CHECKED_PROTOCOLS = RULE["health_check"].protocols


def check_health_check(rule):
    """Problems of a rule's health_check across fields: its type against the rule's protocol."""
    check = rule.get("health_check")
    if check and check["type"] == "http" and rule["protocol"] != "http":
        return ["health_check.type: %s is not possible for a %s rule (it has no HTTP to send); use tcp"
                % (show(check["type"]), rule["protocol"])]
    return []


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
