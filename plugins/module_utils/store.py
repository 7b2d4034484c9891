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

from ansible_collections.antsle.antman.plugins.module_utils.render import (
    DEFAULT_RULES_DIR, HEADER_PREFIX, HTTP_SUFFIX, STREAM_SUFFIX, render_rule, rule_file_name)
from ansible_collections.antsle.antman.plugins.module_utils.rule import RuleError, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.tls import companion_names, holds_content, sha256

MARKER = "# Managed by antsle.antman"
RULE_SUFFIXES = (HTTP_SUFFIX, STREAM_SUFFIX)


class ManagedFile:
    """One managed rule: its file's text, the rule it holds (None if unreadable), the certificate
    files written beside it ({file name: bytes}) and whether all of it is what the rule renders to."""

    def __init__(self, name, filename, path, text, rule, problem=None):
        self.name = name
        self.filename = filename
        self.path = path
        self.text = text
        self.rule = rule
        self.problem = problem
        self.companions = {}
        self.in_sync = False

    def files(self):
        """Every file of this rule, {file name: bytes}."""
        files = {self.filename: self.text.encode("utf-8")}
        files.update(self.companions)
        return files

    def check_sync(self, rules_dir):
        rule = self.rule
        self.in_sync = (rule is not None and rule_file_name(rule) == self.filename
                        and render_rule(rule, rules_dir) == self.text)
        if self.in_sync and holds_content(rule):
            certificate, key = companion_names(self.name)
            self.in_sync = (sha256(self.companions.get(certificate, b"")) == rule["tls"]["certificate_sha256"]
                            and sha256(self.companions.get(key, b"")) == rule["tls"]["key_sha256"])


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


def read_snapshot(directory, rules_dir=None):
    """Snapshot of ``directory`` (which may not exist yet: then it holds nothing). ``rules_dir`` is
    the path nginx knows the directory by (where rendered rules point for certificate files)."""
    managed, others = OrderedDict(), []
    try:
        entries = sorted(os.listdir(directory))
    except OSError:
        entries = []
    for entry in entries:
        path = os.path.join(directory, entry)
        if entry.startswith(".") or not os.path.isfile(path):
            continue
        suffix = [s for s in RULE_SUFFIXES if entry.endswith(s)]
        name = entry[:-len(suffix[0])] if suffix else None
        text = _read(path).decode("utf-8", "replace") if name else ""
        if name is None or name in managed or not text.startswith(MARKER):
            others.append(entry)
            continue
        rule, problem = parse_managed_text(name, text)
        managed[name] = ManagedFile(name, entry, path, text, rule, problem)
    unmanaged = []
    for entry in others:
        owner = _companion_owner(entry, managed)
        if owner is None:
            unmanaged.append(entry)
        else:
            owner.companions[entry] = _read(os.path.join(directory, entry))
    for managed_file in managed.values():
        managed_file.check_sync(rules_dir or DEFAULT_RULES_DIR)
    return Snapshot(directory, managed, unmanaged)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def _companion_owner(entry, managed):
    """The managed rule whose certificate or key file ``entry`` is, if any."""
    stem, dot, suffix = entry.rpartition(".")
    owner = managed.get(stem) if dot and suffix in ("crt", "key") else None
    if owner is not None and owner.rule is not None and holds_content(owner.rule):
        return owner
    return None
