# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state of one upstream of one rule as the health agent sees it, from the probe results it
is fed: ``unknown`` (not enough results yet, in rotation), ``healthy``, ``unhealthy`` (held out).

``fails`` failures in a row make it unhealthy, ``passes`` passes in a row healthy again, and an
upstream that was taken out more than once lately must also keep passing for the hold its
``FlapDamper`` asks (see ``damping.py``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.antsle.antman.plugins.module_utils.health.damping import FlapDamper

UNKNOWN, HEALTHY, UNHEALTHY = "unknown", "healthy", "unhealthy"
OUT, BACK, FOUND_HEALTHY = "out", "back", "found healthy"


class Tracker:
    """One (rule, upstream). ``state`` and ``since`` (epoch seconds of the last change of state),
    the ``detail`` of the result that decided it, the ``last`` result."""

    def __init__(self, fails, passes, state=UNKNOWN, since=None, detail=None):
        self.fails = fails
        self.passes = passes
        self.state = state
        self.since = since
        self.detail = detail
        self.last = None
        self.fails_in_row = 0
        self.passes_in_row = 0
        self.streak_started = None
        self.damper = FlapDamper()

    def configure(self, fails, passes):
        """The rule's check changed: new thresholds, the state and counts are kept."""
        self.fails, self.passes = fails, passes

    def feed(self, result, now):
        """Count ``result`` (a prober Result) at monotonic time ``now``; returns OUT, BACK,
        FOUND_HEALTHY (from unknown, nothing to change in nginx) or None."""
        self.last = result
        if not result.ok:
            self.passes_in_row, self.streak_started = 0, None
            self.fails_in_row += 1
            if self.state != UNHEALTHY and self.fails_in_row >= self.fails:
                self.damper.record_out(now)
                return self._become(UNHEALTHY, result, OUT)
            return None
        self.fails_in_row = 0
        if self.passes_in_row == 0:
            self.streak_started = now
        self.passes_in_row += 1
        if self.state == HEALTHY or self.passes_in_row < self.passes:
            return None
        if self.state == UNHEALTHY and now - self.streak_started < self.damper.hold(now):
            return None
        return self._become(HEALTHY, result, BACK if self.state == UNHEALTHY else FOUND_HEALTHY)

    def _become(self, state, result, transition):
        self.state, self.since, self.detail = state, result.at, result.detail
        return transition

    def as_dict(self):
        return {"state": self.state, "since": self.since, "detail": self.detail,
                "probe": self.last.as_dict() if self.last is not None else None}
