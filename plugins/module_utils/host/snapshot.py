# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one reader of the host: nginx's configuration (does it include the rules directory? what
does the host's own nginx serve: ``host/layout.py``) and the managed rule files in the rules
directory, read back as canonical rules. Used by every module: ``lb_rule_info``, ``lb_host_info``,
``lb_rules state=gathered`` and the transaction.

A file is managed when its first line is the renderer's marker. The rule is read back from the
JSON header line, re-validated, and the file is "in sync" when it is byte for byte what the
renderer makes of that rule today for this host's nginx (``NginxFeatures``: version, IPv6) (anything else, a hand edit or an older format, is drift that
the next apply rewrites). Any other file is unmanaged: reported, never touched. Rules are always
in the order of their names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import VERDICTS_FILE, parse_verdicts
from ansible_collections.antsle.antman.plugins.module_utils.host.journal import Journal
from ansible_collections.antsle.antman.plugins.module_utils.host.layout import HostLayout
from ansible_collections.antsle.antman.plugins.module_utils.host.rules_dir import RulesDir
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.tls import companion_names, holds_content, sha256
from ansible_collections.antsle.antman.plugins.module_utils.nginx.config_scan import ConfScan
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import NginxError
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import (
    HEADER_PREFIX, HTTP_SUFFIX, STREAM_SUFFIX, render_rule, rule_file_name)

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
        self.rendered = None  # what the rule renders to today (rendered once, when read)

    def files(self):
        """Every file of this rule, {file name: bytes}."""
        files = {self.filename: self.text.encode("utf-8")}
        files.update(self.companions)
        return files

    def check_sync(self, rules_dir, features, unhealthy=()):
        """``unhealthy``: the addresses the health agent holds out of this rule (``health/verdicts.py``),
        which the file was rendered with."""
        rule = self.rule
        self.rendered = render_rule(rule, rules_dir, features, unhealthy) if rule is not None else None
        self.in_sync = rule is not None and rule_file_name(rule) == self.filename and self.rendered == self.text
        if self.in_sync and holds_content(rule):
            certificate, key = companion_names(self.name)
            self.in_sync = (sha256(self.companions.get(certificate, b"")) == rule["tls"]["certificate_sha256"]
                            and sha256(self.companions.get(key, b"")) == rule["tls"]["key_sha256"])


class Snapshot:
    """What a rules directory holds now; ``verdicts``: the health agent's applied verdicts in it."""

    def __init__(self, directory, managed, unmanaged, verdicts=None):
        self.directory = directory
        self.managed = managed
        self.unmanaged = unmanaged
        self.verdicts = verdicts if verdicts is not None else parse_verdicts(None)

    def unhealthy(self, name):
        """The addresses the health agent holds out of rule ``name`` (a rule rendered now gets them too)."""
        return self.verdicts.unhealthy(name)

    def rules(self):
        """Canonical rules by name, for files whose rule could be read."""
        return OrderedDict((name, f.rule) for name, f in self.managed.items() if f.rule is not None)

    def warnings(self):
        notes = ["%s: not managed by antsle.antman, left untouched" % os.path.join(self.directory, name)
                 for name in self.unmanaged]
        notes += ["%s: %s" % (f.path, f.problem) for f in self.managed.values() if f.problem]
        if self.verdicts.problem:
            notes.append("%s: %s" % (os.path.join(self.directory, VERDICTS_FILE), self.verdicts.problem))
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


def read_snapshot(directory, rules_dir, features):
    """Snapshot of ``directory`` (which may not exist yet: then it holds nothing). ``rules_dir`` is
    the path nginx knows the directory by (where rendered rules point for certificate files);
    ``features`` what the host's nginx offers (NginxFeatures), which rules are rendered for."""
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
    verdicts = parse_verdicts(_read_if_there(os.path.join(directory, VERDICTS_FILE)))
    for managed_file in managed.values():
        managed_file.check_sync(rules_dir, features, verdicts.unhealthy(managed_file.name))
    # Files were read in file-name order (web.conf before web.stream wins the name); rules are listed
    # by name ("web" before "web-2", whose file sorts first).
    return Snapshot(directory, OrderedDict(sorted(managed.items())), unmanaged, verdicts)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def _read_if_there(path):
    try:
        return _read(path)
    except (IOError, OSError):
        return None


def _companion_owner(entry, managed):
    """The managed rule whose certificate or key file ``entry`` is, if any."""
    stem, dot, suffix = entry.rpartition(".")
    owner = managed.get(stem) if dot and suffix in ("crt", "key") else None
    if owner is not None and owner.rule is not None and holds_content(owner.rule):
        return owner
    return None


# --- nginx's configuration ----------------------------------------------------------------------

def scan_config(conf, rules_dir):
    """The scan of nginx's main configuration file and what it includes, except the rules directory
    (whose files this reader already knows, so that large rule sets cost nothing here)."""
    if not os.path.isfile(conf):
        raise NginxError("nginx configuration file %s not found; set nginx_conf" % conf)
    try:
        return ConfScan(conf, skip_dirs=[rules_dir])
    except (IOError, OSError) as error:
        raise NginxError("cannot read nginx configuration %s: %s" % (conf, error))


def check_includes(scan, rules_dir, stream=False):
    """Fail unless nginx includes the rule files of ``rules_dir``: ``*.conf`` in the http context,
    and with ``stream``, ``*.stream`` in the stream context."""
    context, suffix = ("stream", ".stream") if stream else ("http", ".conf")
    if not scan.includes_dir(rules_dir, context=(context,), suffix=suffix):
        raise NginxError(
            "rules_dir %s is not included from the %s context of %s: run the antsle.antman.load_balancer role "
            "with tasks_from: configure%s once (README, \"First step\"), or add 'include %s/*%s;' inside %s { }"
            % (rules_dir, context, scan.conf_path, " and antman_lb_stream: true" if stream else "", rules_dir, suffix,
               context))


class Host:
    """What the host has: the scan of nginx's configuration (``scan``) and the rules directory.
    ``Host.read`` reads them; the constructor does no I/O."""

    def __init__(self, scan, rules_dir):
        self.scan = scan
        self.rules_dir = RulesDir(rules_dir)
        self.journal = Journal(self.rules_dir.path)

    @classmethod
    def read(cls, conf, rules_dir, rules_included=True):
        """Scan nginx's configuration ``conf``, which must include the rule files of ``rules_dir``
        (unless ``rules_included=False``: the base configuration that includes it)."""
        path = RulesDir(rules_dir).path
        scan = scan_config(conf, path)
        if rules_included:
            check_includes(scan, path)
        return cls(scan, path)

    def layout(self, removed=()):
        """The host's own part of nginx's configuration (``removed``: links about to be removed)."""
        return HostLayout(self.scan, self.rules_dir.path, removed)

    def snapshot(self, features, recovered=False):
        """The managed rules now, or with ``recovered`` as they will be once an interrupted run has
        been put back (what a check-mode run plans against); ``features``: NginxFeatures of the host."""
        saved = self.journal.saved(self.rules_dir.path) if recovered else None
        directory = self.rules_dir.directory(saved) if saved else self.rules_dir.current_dir()
        return read_snapshot(directory or self.rules_dir.path, self.rules_dir.path, features)
