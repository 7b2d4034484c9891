# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why the health agent does not reload nginx at every probe: the two brakes, as pure logic.

Every reload starts new nginx workers; the old ones live on while they hold connections (an
upgraded WebSocket up to the rule's ``websocket_timeout``, an hour by default), so reloads that
come often pile up worker generations and their memory.

- ``FlapDamper`` (per rule and upstream): taking an upstream out is never delayed; putting it back
  is, when it keeps failing again: after the first return within ``WINDOW``, it must pass for
  ``FIRST_HOLD`` seconds, then twice as long each time, up to ``MAX_HOLD`` (route flap damping, as
  BGP routers do). A flapping antlet then costs a few reloads, not one per flap.
- ``ReloadGovernor`` (the whole host): transitions that come together share one reload (each change
  waits ``SETTLE`` for others); a change that only returns upstreams (nothing newly taken out)
  comes at least ``MIN_GAP`` after the last reload, and also waits while nginx still has more than
  ``max_old_workers`` old workers shutting down, for up to ``MAX_DEFER``: returning an antlet can
  wait, taking out a failing one cannot (it waits only ``SETTLE``: a second antlet failing just
  after the first is not served failures for a second more). Once more than ``FREE`` reloads fell
  within ``WINDOW``, every change waits a gap that doubles for each one more (up to ``MAX_GAP``):
  however many antlets fail one after another, reloads, and the worker generations they leave,
  stay bounded.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import deque

WINDOW = 600.0
FIRST_HOLD = 10.0
MAX_HOLD = 120.0
SETTLE = 0.05
MIN_GAP = 1.0
FREE = 6
MAX_GAP = 30.0
MAX_DEFER = 120.0


class FlapDamper:
    """The hold of one upstream of one rule: how long it must keep passing before it returns."""

    def __init__(self):
        self.outs = deque()

    def record_out(self, now):
        self.outs.append(now)
        while self.outs and self.outs[0] < now - WINDOW:
            self.outs.popleft()

    def hold(self, now):
        """Seconds of passing in a row needed now (0: the passes alone decide)."""
        recent = sum(1 for out in self.outs if out >= now - WINDOW)
        if recent <= 1:
            return 0.0
        return min(MAX_HOLD, FIRST_HOLD * 2 ** (recent - 2))


class ReloadGovernor:
    """When the agent may apply what changed. ``max_old_workers``: old nginx workers beyond which a
    change that only returns upstreams waits (None: never)."""

    def __init__(self, max_old_workers=None, min_gap=MIN_GAP, settle=SETTLE):
        self.applied = deque()
        self.max_old_workers = max_old_workers
        self.min_gap = min_gap
        self.settle = settle

    def record(self, now):
        """An apply happened at ``now`` (one reload)."""
        self.applied.append(now)
        while self.applied and self.applied[0] < now - WINDOW:
            self.applied.popleft()

    def gap(self, now, urgent=False):
        recent = sum(1 for at in self.applied if at >= now - WINDOW)
        if recent <= FREE:
            return 0.0 if urgent else self.min_gap
        return min(MAX_GAP, self.min_gap * 2 ** (recent - FREE))

    def ready_at(self, now, pending_since, urgent, old_workers=0):
        """The time at which a change pending since ``pending_since`` may be applied. ``urgent``: it
        takes an upstream out. ``old_workers``: nginx's workers shutting down now."""
        at = pending_since + self.settle
        if self.applied:
            at = max(at, self.applied[-1] + self.gap(now, urgent))
        if (not urgent and self.max_old_workers is not None and old_workers > self.max_old_workers
                and now < pending_since + MAX_DEFER):
            at = max(at, min(now + 1.0, pending_since + MAX_DEFER))
        return at
