# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reader: managed rule files in a rules directory -> canonical rules.

A file is managed when its first line is the renderer's marker. The rule is read back from the
JSON header line, re-validated, and the file is "in sync" when it is byte for byte what the
renderer makes of that rule today (anything else, a hand edit or an older format, is drift that
the next apply rewrites). Any other file is unmanaged: reported, never touched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.render import HEADER_PREFIX, render_rule
from ansible_collections.antsle.antman.plugins.module_utils.rule import RuleError, normalize_rule

MARKER = "# Managed by antsle.antman"
RULE_SUFFIX = ".conf"


class ManagedFile:
    """One managed file: its text, the rule it holds (None if unreadable) and whether it is in sync."""

    def __init__(self, name, path, text, rule, problem=None):
        self.name = name
        self.path = path
        self.text = text
        self.rule = rule
        self.problem = problem
        self.in_sync = rule is not None and render_rule(rule) == text


class Snapshot:
    """What a rules directory holds now."""

    def __init__(self, directory, managed, unmanaged):
        self.directory = directory
        self.managed = managed
        self.unmanaged = unmanaged

    def rules(self):
        """Canonical rules by name, for files whose rule could be read."""
        return OrderedDict((name, f.rule) for name, f in self.managed.items() if f.rule is not None)

    def warnings(self):
        notes = ["%s: not managed by antsle.antman, left untouched" % os.path.join(self.directory, name)
                 for name in self.unmanaged]
        notes += ["%s: %s" % (f.path, f.problem) for f in self.managed.values() if f.problem]
        return notes


def parse_managed_text(name, text):
    """(rule, problem) from the text of a managed file."""
    lines = text.split("\n", 2)
    if len(lines) < 2 or not lines[1].startswith(HEADER_PREFIX):
        return None, "managed file without a rule header; it will be rewritten or removed"
    try:
        rule = normalize_rule(json.loads(lines[1][len(HEADER_PREFIX):], object_pairs_hook=OrderedDict))
    except (ValueError, RuleError) as error:
        return None, "unreadable rule header (%s); it will be rewritten or removed" % error
    if rule["name"] != name:
        return None, "rule header names %r, not %r; it will be rewritten or removed" % (rule["name"], name)
    return rule, None


def read_snapshot(directory):
    """Snapshot of ``directory`` (which may not exist yet: then it holds nothing)."""
    managed, unmanaged = OrderedDict(), []
    try:
        entries = sorted(os.listdir(directory))
    except OSError:
        entries = []
    for entry in entries:
        path = os.path.join(directory, entry)
        if entry.startswith(".") or not os.path.isfile(path):
            continue
        with open(path, "rb") as handle:
            data = handle.read()
        name = entry[:-len(RULE_SUFFIX)] if entry.endswith(RULE_SUFFIX) else None
        text = data.decode("utf-8", "replace")
        if name is None or not text.startswith(MARKER):
            unmanaged.append(entry)
            continue
        rule, problem = parse_managed_text(name, text)
        managed[name] = ManagedFile(name, path, text, rule, problem)
    return Snapshot(directory, managed, unmanaged)
