# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus' text exposition format, version 0.0.4, for the health agent's ``/metrics``: the few
dozen lines of it the agent needs, written here rather than taken from ``prometheus_client`` (its
registry of global metric objects, and its exporter threads, fit a one-thread epoll agent badly,
and RHEL hosts have no package of it; docs/metrics.md says more). ``promtool check metrics`` and
``prometheus_client``'s own parser check the output in the tests.

Label values are escaped as the format says (backslash, double quote, line feed); HELP text
escapes backslash and line feed. Names are the agent's own constants, checked when a Family is
made."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NAME_RE = re.compile(r"\A[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_RE = re.compile(r"\A[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = ("counter", "gauge", "histogram", "untyped")


def escape_label(value):
    value = str(value)
    if "\\" not in value and "\"" not in value and "\n" not in value:
        return value  # the usual case: a rule name, an address
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def escape_help(text):
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value):
    """A sample value as Go's ParseFloat reads it: integers without a fraction, NaN, +Inf, -Inf."""
    if type(value) is int:  # pylint: disable=unidiomatic-typecheck  # the usual case, first (bool is not)
        return str(value)
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class Family:
    """One metric family: ``name``, ``kind`` (counter, gauge, histogram), ``help`` and its samples,
    each (name suffix, label text, value); label values are escaped as they are added."""

    def __init__(self, name, kind, help_text, label_names=()):
        if not NAME_RE.match(name) or kind not in TYPES or not all(LABEL_RE.match(n) for n in label_names):
            raise ValueError("bad metric family %r (%r, labels %r)" % (name, kind, label_names))
        self.name, self.kind, self.help, self.label_names = name, kind, help_text, tuple(label_names)
        self.samples = []

    def _pairs(self, labels):
        return ",".join('%s="%s"' % (name, escape_label(value)) for name, value in zip(self.label_names, labels))

    def add(self, labels, value, suffix=""):
        """A sample; ``labels``: values in the order of ``label_names``."""
        pairs = self._pairs(labels)
        self.samples.append((suffix, "{%s}" % pairs if pairs else "", value))

    def add_histogram(self, labels, histogram):
        """The _bucket, _sum and _count samples of a ``Histogram``."""
        pairs = self._pairs(labels)
        before = pairs + "," if pairs else ""
        for le, count in zip(histogram.le_texts(), histogram.cumulative()):
            self.samples.append(("_bucket", '{%sle="%s"}' % (before, le), count))
        self.samples.append(("_sum", "{%s}" % pairs if pairs else "", histogram.sum))
        self.samples.append(("_count", "{%s}" % pairs if pairs else "", histogram.count))


class Histogram:
    """Observations counted in fixed buckets (upper bounds, ascending; +Inf added)."""

    __slots__ = ("bounds", "counts", "sum", "count")

    def __init__(self, bounds):
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def copy(self):
        twin = Histogram(self.bounds)
        twin.counts, twin.sum, twin.count = list(self.counts), self.sum, self.count
        return twin

    def observe(self, value):
        index = len(self.bounds)
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                index = i
                break
        self.counts[index] += 1
        self.sum += value
        self.count += 1

    def cumulative(self):
        total = 0
        for count in self.counts:
            total += count
            yield total

    def le_texts(self):
        """The ``le`` label values of the buckets, +Inf last."""
        return _LE_TEXTS.get(self.bounds) or _LE_TEXTS.setdefault(
            self.bounds, tuple(format_value(b) for b in self.bounds) + ("+Inf",))


_LE_TEXTS = {}


def exposition(families):
    """The text of ``families`` (bytes, UTF-8). A family without samples is left out."""
    lines = []
    for family in families:
        if not family.samples:
            continue
        lines.append("# HELP %s %s" % (family.name, escape_help(family.help)))
        lines.append("# TYPE %s %s" % (family.name, family.kind))
        for suffix, labels, value in family.samples:
            lines.append("%s%s%s %s" % (family.name, suffix, labels, format_value(value)))
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
