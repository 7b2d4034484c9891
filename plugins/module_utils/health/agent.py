# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health agent: a daemon beside nginx on the antsle host that probes every upstream of the
managed rules and takes failing ones out of rotation, and puts them back, through the same
transaction as the modules. The process around it (arguments, signals, logging, the command
runner) is ``roles/load_balancer/files/antman-health``, which the role installs on the host with
this code (``health/install.py``) and runs under systemd or directly.

Threads: the main one runs the probes (``prober.py``), feeds each result to the trackers of the
rules that share it (``tracker.py``), reads the rules again whenever the rules directory switched
to a new generation, and writes the status file at once when a state changed, else every STATUS_EVERY seconds
(``status.py``); the applier thread
applies the verdicts (``writer.py``) when the ``ReloadGovernor`` lets it (``damping.py``), so a
reload never stalls a probe.

- Started, it takes the applied verdicts as its starting point (held-out upstreams stay out) and
  changes nothing until every upstream has been probed: a restart does not touch nginx.
- Stopped or killed, nginx keeps serving the last applied state (and its passive checks); readers
  see the status file age and say ``stale``. Killed in the middle of an apply, the next writer
  (the agent again, or any module) rolls the change back from the journal.
- It listens on no address but its metrics endpoint when asked (``exporter.py``). Commands are
  argument lists (nginx -t, the reload), never a shell.
- Hooks (the metrics: ``metrics.py``, ``exporter.py``): ``Agent.observers`` get ``on_probe(spec,
  result)``, ``on_transition(rule, address, tracker, transition)`` (under the agent's lock),
  ``on_apply(outcome, seconds, error)`` (the applier's thread), ``on_rules(generation, keys)``
  (the rules read again; keys: every (rule, upstream) checked), ``on_tick(now)`` (each turn of
  the probe loop; True: more work waits, the loop turns again without waiting) and ``on_stop()``; ``Agent.prober.register(socket, events, callback)`` adds a
  listener to the probe loop.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import logging
import os
import threading
import time

from ansible_collections.antsle.antman.plugins.module_utils.health.access_log import AccessLogReader
from ansible_collections.antsle.antman.plugins.module_utils.health.damping import ReloadGovernor
from ansible_collections.antsle.antman.plugins.module_utils.health.prober import Prober
from ansible_collections.antsle.antman.plugins.module_utils.health.status import FORMAT, MIN_STALE_AFTER, status_path, write_status
from ansible_collections.antsle.antman.plugins.module_utils.health.targets import plan_probes
from ansible_collections.antsle.antman.plugins.module_utils.health.tracker import BACK, OUT, UNHEALTHY, UNKNOWN, Tracker
from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import Verdict, Verdicts
from ansible_collections.antsle.antman.plugins.module_utils.health.writer import VerdictWriter
from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import ApplyError
from ansible_collections.antsle.antman.plugins.module_utils.model.health_check import rotation
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import NginxError, shutting_down_workers

LOG = logging.getLogger("antman-health")
TICK = 1.0  # seconds between reads of the rules directory
STATUS_EVERY = 5.0  # seconds between writes of the status file when no state changed (its heartbeat)
RETRY_AFTER_ERROR = 5.0  # seconds before an apply that failed is tried again


def held_keys(verdicts):
    return set((name, address) for name, addresses in verdicts.by_rule.items() for address in addresses)


class Agent:
    """The agent of one rules directory and its nginx. ``run``: the command runner of the process
    (an argument list -> (rc, stdout, stderr), never a shell), as module_utils expect it.
    ``access_log``: nginx's access log in the role's format, followed for the traffic figures."""

    def __init__(self, rules_dir, run, nginx_binary="nginx", nginx_conf="/etc/nginx/nginx.conf",
                 status_file=None, max_old_workers=None, min_gap=None, clock=time.monotonic, wall=time.time,
                 access_log=None):
        self.rules_dir = rules_dir
        self.status_file = status_file or status_path(rules_dir)
        self.writer = VerdictWriter(rules_dir, nginx_binary, nginx_conf, run)
        self.governor = ReloadGovernor(max_old_workers, **({"min_gap": min_gap} if min_gap is not None else {}))
        self.clock, self.wall = clock, wall
        self.prober = Prober(self._on_result, clock=clock, wall=wall)
        self.lock = threading.Condition()
        self.observers = []
        self.rules = {}
        self.subscriptions = {}
        self.trackers = {}
        self.readers = {}  # spec key -> [(rule, address)]
        self.unprobed = set()  # (rule, address) without a result yet
        self.applied = Verdicts()
        self.generation = None
        self.pending_since = None
        self.started = clock()
        self.started_wall = wall()
        self.startup_grace = 0.0
        self.ready = False
        self.stopping = False
        self.refresh_wanted = True
        self.status_due = False  # a probe changed a state: write the status now, not at the next tick
        self.status_lock = threading.Lock()  # the main loop and the applier both write the status file
        self.applying = False
        self.last_apply = None
        self.reloads = 0
        self.read_problem = None
        self.traffic = None  # the access log's reader (access_log.py), when the agent follows one
        if access_log:
            self.observers.append(AccessLogReader(self, access_log))

    # -- the rules --------------------------------------------------------------------------------

    def refresh(self):
        """Read the rules and the applied verdicts again when the rules directory switched (or when
        asked): new checks start, gone ones stop, edited ones keep their state. Under the lock, so
        that it never reads what an apply under way has switched but not yet reloaded."""
        with self.lock:
            if self.applying:
                return  # the applier's own change: read once it is done (nginx reloaded)
            try:
                generation = os.path.realpath(self.rules_dir)
                if generation == self.generation and not self.refresh_wanted:
                    return
                rules, applied = self.writer.read()
            except (ApplyError, NginxError, OSError) as error:
                if str(error) != self.read_problem:
                    LOG.error("cannot read the rules: %s (trying again every %d s)", error, TICK)
                self.read_problem = str(error)
                return
            if self.read_problem:
                LOG.info("the rules can be read again")
            self.read_problem, self.refresh_wanted, self.generation = None, False, generation
            specs, subscriptions = plan_probes(rules)
            self.rules, self.applied, self.subscriptions = rules, applied, subscriptions
            trackers, readers = {}, {}
            for key, subscription in subscriptions.items():
                tracker = self.trackers.get(key)
                if tracker is None:
                    verdict = applied.by_rule.get(key[0], {}).get(key[1])
                    tracker = Tracker(subscription.fails, subscription.passes, UNHEALTHY if verdict else UNKNOWN,
                                      verdict.since if verdict else None, verdict.detail if verdict else None)
                tracker.configure(subscription.fails, subscription.passes)
                trackers[key] = tracker
                readers.setdefault(subscription.key, []).append(key)
            self.unprobed = set(key for key, tracker in trackers.items() if tracker.last is None)
            self.trackers, self.readers = trackers, readers
            self.startup_grace = max([3 * (s.interval + s.timeout) for s in specs.values()] + [0.0])
            self._update_pending()
            self.lock.notify_all()
            self._notify("on_rules", generation, set(trackers))
        self.prober.update(specs)

    # -- probe results ------------------------------------------------------------------------------

    def _on_result(self, spec, result):
        now = self.clock()
        with self.lock:
            changed = False
            for key in self.readers.get(spec.key, ()):
                tracker = self.trackers[key]
                self.unprobed.discard(key)
                transition = tracker.feed(result, now)
                if transition in (OUT, BACK):
                    changed = True
                    LOG.info("rule %s: %s %s (%s)", key[0], key[1],
                             "failed %d probe(s) in a row, to be taken out of rotation" % tracker.fails_in_row
                             if transition == OUT else "passed again, to return to rotation", result.detail)
                if transition is not None:
                    self.status_due = True
                    self._notify("on_transition", key[0], key[1], tracker, transition)
            if not self.ready and (not self.unprobed or now - self.started > self.startup_grace):
                self.ready = changed = True
                LOG.info("every upstream probed: %d checks of %d rules", len(self.trackers), len(self.rules))
            if changed:
                self._update_pending()
                self.lock.notify_all()
        self._notify("on_probe", spec, result)

    def desired(self):
        """The Verdicts the trackers ask for now."""
        unhealthy = {}
        for (name, address), tracker in self.trackers.items():
            if tracker.state == UNHEALTHY:
                unhealthy.setdefault(name, {})[address] = Verdict(tracker.since, tracker.detail or "")
        return Verdicts(unhealthy)

    def _update_pending(self):
        """(under the lock) Whether the desired verdicts differ from the applied ones, and since when."""
        differs = held_keys(self.desired()) != held_keys(self.applied)
        if not differs:
            self.pending_since = None
        elif self.pending_since is None:
            self.pending_since = self.clock()

    # -- applying -----------------------------------------------------------------------------------

    def _apply_loop(self):
        retry_at = 0.0
        while True:
            with self.lock:
                if self.stopping:
                    return
                now = self.clock()
                if not self.ready or self.pending_since is None or now < retry_at:
                    self.lock.wait(0.5)
                    continue
                wanted = self.desired()
                urgent = bool(held_keys(wanted) - held_keys(self.applied))
                pending_since = self.pending_since
            old = self._old_workers() if not urgent and self.governor.max_old_workers is not None else 0
            at = self.governor.ready_at(now, pending_since, urgent, old)
            if now < at:
                with self.lock:
                    self.lock.wait(at - now)
                continue
            try:
                retry_at = self._apply(wanted)
            except Exception:  # pylint: disable=broad-except  # the applier must outlive any surprise
                self.applying = False
                LOG.exception("applying the health verdicts failed unexpectedly; trying again in %d s", RETRY_AFTER_ERROR)
                retry_at = self.clock() + RETRY_AFTER_ERROR

    def _apply(self, wanted):
        """Apply ``wanted``; returns when an apply may be tried again."""
        began = self.clock()
        with self.lock:
            self.applying = True
        # The states that ask for this change reach the status file before the rule files change,
        # and the new rotation right after: a reader never sees an upstream out of rotation while
        # the status file still calls it healthy.
        self.write_status()
        try:
            outcome = self.writer.apply(lambda rules, applied: wanted)
        except ApplyError as error:
            self.applying = False
            LOG.error("applying the health verdicts failed, nothing was changed: %s", error)
            self.last_apply = {"at": self.wall(), "ok": False, "detail": str(error)[:500], "reloaded": False}
            self.write_status()
            self._notify("on_apply", None, self.clock() - began, error)
            return self.clock() + RETRY_AFTER_ERROR
        took = self.clock() - began
        self.applying = False
        if outcome.reloaded:
            self.governor.record(self.clock())
            self.reloads += 1
        with self.lock:
            before, self.applied = self.applied, outcome.verdicts
            self._update_pending()
            rules = dict(self.rules)
        self._log_rotation(rules, before, outcome.verdicts)
        LOG.info("applied: %s; %s in %.2f s", ", ".join(outcome.rules) or "verdicts only",
                 "nginx reloaded" if outcome.reloaded else "no reload needed", took)
        self.last_apply = {"at": self.wall(), "ok": True, "detail": None, "reloaded": outcome.reloaded,
                           "rules": list(outcome.rules)}
        self.write_status()
        self._notify("on_apply", outcome, took, None)
        return 0.0

    @staticmethod
    def _log_rotation(rules, before, after):
        """What an apply changed in each rule's rotation, as nginx now serves it."""
        for name in sorted(set(before.by_rule) | set(after.by_rule)):
            rule = rules.get(name)
            if rule is None:
                continue
            was, now = rotation(rule, before.unhealthy(name)), rotation(rule, after.unhealthy(name))
            for address in sorted(now.held_out - was.held_out):
                LOG.info("rule %s: %s out of rotation", name, address)
            for address in sorted(was.held_out - now.held_out):
                LOG.info("rule %s: %s back in rotation", name, address)
            if now.fail_open and not was.fail_open:
                LOG.warning("rule %s: every upstream fails its health check; all stay in rotation (fail open)", name)
            elif was.fail_open and not now.fail_open:
                LOG.info("rule %s: no longer fail open", name)

    def _old_workers(self):
        try:
            master = self.writer.transaction().nginx.master_pid()
        except (ApplyError, NginxError):
            return 0
        return len(shutting_down_workers(master)) if master else 0

    # -- status ---------------------------------------------------------------------------------------

    def status(self):
        with self.lock:
            rules = {}
            for (name, address), tracker in self.trackers.items():
                rules.setdefault(name, {})[address] = tracker.as_dict()
            slowest = max([s.interval * 3 + s.timeout for s in self.prober.specs()] + [0.0])
            return {"format": FORMAT, "pid": os.getpid(), "started": self.started_wall, "updated": self.wall(),
                    "stale_after": max(MIN_STALE_AFTER, slowest), "ready": self.ready, "rules": rules,
                    "apply": self.last_apply, "reloads": self.reloads, "probes": self.prober.probes_started,
                    "applied": sorted(list(key) for key in held_keys(self.applied)),
                    "pending": self.pending_since is not None,
                    "held_out": sorted([name, address] for name, rule in self.rules.items()
                                       for address in rotation(rule, self.applied.unhealthy(name)).held_out),
                    "problem": self.read_problem,
                    "traffic": self.traffic.status() if self.traffic is not None else None}

    def write_status(self):
        with self.status_lock:
            try:
                write_status(self.status_file, self.status())
            except (IOError, OSError) as error:
                LOG.error("cannot write the status file %s: %s", self.status_file, error)

    def _tick(self, now):
        """``on_tick`` of every observer; whether one has more work waiting (the access log's reader
        behind: the loop comes back without waiting for a probe)."""
        busy = False
        for observer in self.observers:
            method = getattr(observer, "on_tick", None)
            if method is not None and method(now):
                busy = True
        return busy

    def _notify(self, event, *args):
        for observer in self.observers:
            method = getattr(observer, event, None)
            if method is not None:
                method(*args)

    # -- the process ------------------------------------------------------------------------------------

    def stop(self, *_args):
        self.stopping = True

    def reread(self, *_args):
        self.refresh_wanted = True

    def run(self):
        """Run until ``stop``."""
        self.refresh()
        self.write_status()
        applier = threading.Thread(target=self._apply_loop, name="antman-health-applier", daemon=True)
        applier.start()
        next_tick = self.clock() + TICK
        next_status = self.clock() + STATUS_EVERY
        busy = False
        try:
            while not self.stopping:
                self.prober.step(0.0 if busy else 0.2)
                now = self.clock()
                busy = self._tick(now)
                if now >= next_tick:
                    next_tick = now + TICK
                    self.refresh()
                if now >= next_status:
                    self.status_due = True
                if self.status_due:
                    self.status_due = False
                    next_status = now + STATUS_EVERY
                    self.write_status()
        finally:
            with self.lock:
                self.stopping = True
                self.lock.notify_all()
            applier.join(60)
            self._notify("on_stop")
            self.prober.close()
            self.write_status()
