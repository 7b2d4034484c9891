# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Warnings about valid rules that will not fail over as the operator probably expects."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def backup_reach_warning(rule):
    """A warning when a rule's backups can be out of reach of a request.

    nginx asks a backup only after the request has tried the primaries, and ``next_upstream_tries``
    counts every try. With N primaries that fail at the same moment, a request needs N + 1 tries to
    reach a backup; with fewer it fails (502) until nginx has marked every primary failed, and again
    each time ``fail_timeout`` ends and nginx tries them all once more. Returns None when the rule
    has no backup in rotation or its tries reach one (0 means no limit)."""
    upstreams = rule.get("upstreams") or []
    primaries = [u for u in upstreams if not u["backup"] and not u["down"]]
    backups = [u for u in upstreams if u["backup"] and not u["down"]]
    tries = rule.get("next_upstream_tries")
    if not backups or not tries or tries > len(primaries):
        return None
    return ("rule '%s': next_upstream_tries %d cannot reach its backup upstreams when its %d primary "
            "upstreams fail together (a request tries the primaries first): such requests fail until "
            "nginx has marked them all failed. Set next_upstream_tries to %d (or 0, no limit) for the "
            "backups to answer them." % (rule["name"], tries, len(primaries), len(primaries) + 1))


def rule_warnings(rules):
    """Warnings for each canonical rule in ``rules`` (None entries, deletions, are skipped)."""
    notes = []
    for rule in rules:
        note = backup_reach_warning(rule) if rule is not None else None
        if note:
            notes.append(note)
    return notes
