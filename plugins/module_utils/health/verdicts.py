# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The applied verdicts of the health agent: which upstreams of which rule it found unhealthy, as
nginx serves them now. Observed state, kept apart from the declared rules.

They live in one file inside the rules directory's generation (``VERDICTS_FILE``, hidden from
nginx's ``*.conf`` / ``*.stream`` globs and from the rule reader), so they switch atomically with
the rule files they were rendered into: a rule file and the verdicts it was rendered with can
never disagree, whoever wrote last. A module's change links the file into its new generation
unchanged, so the modules render held-out upstreams ``down`` exactly as the agent did: no drift,
no change reported, the antlet stays out. An edit of a rule keeps them.

The file is written only by the agent (through the transaction); anything in it that is not a
rule name, a canonical address and our own short text is ignored when read (fail open: an
unreadable file holds nothing out).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import re
from collections import OrderedDict

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError, parse_address, parse_name
from ansible_collections.antsle.antman.plugins.module_utils.model.health_check import is_checked

VERDICTS_FILE = ".antman-health.json"
FORMAT = 1
MAX_DETAIL = 200
DETAIL_RE = re.compile(r"\A[ -~]*\Z")  # printable ASCII, one line


class Verdict:
    """One upstream of one rule found unhealthy: ``since`` (epoch seconds) and the ``detail`` of
    the probe that decided it."""

    def __init__(self, since, detail):
        self.since = since
        self.detail = detail

    def as_dict(self):
        return OrderedDict([("since", self.since), ("detail", self.detail)])

    def __eq__(self, other):
        return isinstance(other, Verdict) and (self.since, self.detail) == (other.since, other.detail)

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return "Verdict(%r, %r)" % (self.since, self.detail)


class Verdicts:
    """{rule name: {address: Verdict}} with the reading and writing of the file. ``problem``: why
    a file could not be read (then it holds nothing)."""

    def __init__(self, unhealthy=None, problem=None):
        self.by_rule = OrderedDict()
        for name, addresses in sorted((unhealthy or {}).items()):
            if addresses:
                self.by_rule[name] = OrderedDict(sorted(addresses.items()))
        self.problem = problem

    def unhealthy(self, name):
        """The addresses of rule ``name`` found unhealthy."""
        return frozenset(self.by_rule.get(name, ()))

    def __eq__(self, other):
        return isinstance(other, Verdicts) and self.by_rule == other.by_rule

    def __ne__(self, other):
        return not self == other

    def __bool__(self):
        return bool(self.by_rule)

    def pruned(self, rules):
        """Only the verdicts that can still matter: rules that exist and are checked, upstreams that
        they still have and that are not declared down (a declared-down upstream is not probed,
        and once put back it starts from scratch)."""
        kept = {}
        for name, addresses in self.by_rule.items():
            rule = rules.get(name)
            if rule is None or not is_checked(rule):
                continue
            live = set(u["address"] for u in rule["upstreams"] if not u["down"])
            kept[name] = dict((a, v) for a, v in addresses.items() if a in live)
        return Verdicts(kept)

    def to_bytes(self):
        body = OrderedDict([("format", FORMAT), ("unhealthy", OrderedDict(
            (name, OrderedDict((a, v.as_dict()) for a, v in addresses.items())) for name, addresses in self.by_rule.items()))])
        return (json.dumps(body, separators=(",", ":"), ensure_ascii=True) + "\n").encode("ascii")


def clean_detail(text):
    """A probe's detail as stored and shown: printable ASCII on one line, bounded."""
    text = text if isinstance(text, str) else ""
    text = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    return text[:MAX_DETAIL]


def parse_verdicts(data):
    """Verdicts from the bytes of the file (None: no file). Entries that are not a valid rule name,
    canonical address, time and detail are left out."""
    if data is None:
        return Verdicts()
    try:
        body = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        return Verdicts(problem="unreadable (%s); nothing is held out" % error)
    if not isinstance(body, dict) or body.get("format") != FORMAT or not isinstance(body.get("unhealthy"), dict):
        return Verdicts(problem="not a format %d verdicts file; nothing is held out" % FORMAT)
    unhealthy = {}
    for name, addresses in body["unhealthy"].items():
        if not _valid_name(name) or not isinstance(addresses, dict):
            continue
        for address, entry in addresses.items():
            verdict = _verdict(address, entry)
            if verdict is not None:
                unhealthy.setdefault(name, {})[address] = verdict
    return Verdicts(unhealthy)


def _valid_name(name):
    try:
        return parse_name(name) == name
    except FieldError:
        return False


def _verdict(address, entry):
    try:
        if parse_address(address) != address:
            return None
    except FieldError:
        return None
    if not isinstance(entry, dict):
        return None
    since, detail = entry.get("since"), entry.get("detail")
    if isinstance(since, bool) or not isinstance(since, (int, float)) or not isinstance(detail, str):
        return None
    if not math.isfinite(since):
        return None
    if not DETAIL_RE.match(detail) or len(detail) > MAX_DETAIL:
        detail = clean_detail(detail)
    return Verdict(float(since), detail)
