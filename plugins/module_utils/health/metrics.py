# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the health agent's ``/metrics`` says (docs/metrics.md lists every family): the health of
each (rule, upstream) it checks and whether nginx has it in rotation, its probes (a duration
histogram, results), its transitions, its reloads and the rule set it serves, and nginx's own
connection counters (``stub_status.py``), and the traffic the access log shows (``access_log.py``).

``AgentMetrics`` is one of the agent's observers (``Agent.observers``): it counts what the agent
tells it (``on_probe``, ``on_transition``, ``on_apply``, ``on_rules``) and, when scraped, reads the
agent's state for the rest. Memory stays bounded: counters are kept per (rule, upstream) the agent
checks now, and dropped with it when the rules change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible_collections.antsle.antman.plugins.module_utils.health.exposition import Family, Histogram, exposition
from ansible_collections.antsle.antman.plugins.module_utils.health.tracker import BACK, FOUND_HEALTHY, HEALTHY, OUT, UNHEALTHY
from ansible_collections.antsle.antman.plugins.module_utils.model.health_check import rotation

# Probe durations (seconds): a healthy antlet on the host answers in a millisecond or two; the default timeout is 1 s.
PROBE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
RULE_UPSTREAM = ("rule", "upstream")


class _Checked:
    """Counters of one (rule, upstream)."""

    __slots__ = ("durations", "ok", "failed", "out", "back")

    def __init__(self):
        self.durations = Histogram(PROBE_BUCKETS)
        self.ok = self.failed = self.out = self.back = 0

    def copy(self):
        twin = _Checked()
        twin.durations = self.durations.copy()
        twin.ok, twin.failed, twin.out, twin.back = self.ok, self.failed, self.out, self.back
        return twin


class AgentMetrics:
    """The agent's metrics. ``stub_status``: a StubStatus (nginx's counters), or None."""

    def __init__(self, agent, stub_status=None):
        self.agent = agent
        self.stub_status = stub_status
        self.lock = threading.Lock()
        self.checked = {}  # (rule, upstream) -> _Checked
        self.reloads = {"success": 0, "failure": 0}
        self.last_success = None  # epoch seconds of the last successful apply that reloaded nginx
        self.last_apply_ok = None
        self.generations = 0  # rule sets read since the agent started
        self.generation = None

    # -- the agent's events (on its threads) ------------------------------------------------------

    def on_rules(self, generation, keys):
        """The agent read the rules again: counters of what it no longer checks go."""
        with self.lock:
            if generation != self.generation:
                self.generation, self.generations = generation, self.generations + 1
            for key in list(self.checked):
                if key not in keys:
                    del self.checked[key]

    def on_probe(self, spec, result):
        readers = self.agent.readers.get(spec.key, ())
        with self.lock:
            for key in readers:
                checked = self.checked.get(key)
                if checked is None:
                    checked = self.checked[key] = _Checked()
                checked.durations.observe(result.ms / 1000.0)
                if result.ok:
                    checked.ok += 1
                else:
                    checked.failed += 1

    def on_transition(self, rule, address, _tracker, transition):
        if transition not in (OUT, BACK, FOUND_HEALTHY):
            return
        with self.lock:
            checked = self.checked.get((rule, address))
            if checked is None:
                checked = self.checked[(rule, address)] = _Checked()
            if transition == OUT:
                checked.out += 1
            else:
                checked.back += 1

    def on_apply(self, outcome, _seconds, error):
        with self.lock:
            self.last_apply_ok = error is None
            if error is not None:
                self.reloads["failure"] += 1
            elif outcome is not None and outcome.reloaded:
                self.reloads["success"] += 1
                self.last_success = self.agent.wall()

    # -- a scrape -------------------------------------------------------------------------------

    def families(self):
        agent = self.agent
        healthy = Family("antman_lb_upstream_healthy", "gauge",
                         "1 when the upstream passes its rule's health check, 0 when it fails it or is not judged yet "
                         "(see antman_lb_upstream_checked)", RULE_UPSTREAM)
        judged = Family("antman_lb_upstream_checked", "gauge",
                        "1 when the agent has judged the upstream (healthy or unhealthy), 0 while it is unknown "
                        "(not enough probes yet)", RULE_UPSTREAM)
        in_rotation = Family("antman_lb_upstream_in_rotation", "gauge",
                             "1 when nginx sends the rule's requests to the upstream, 0 when the agent has taken it out "
                             "(backups count as in rotation)", RULE_UPSTREAM)
        fail_open = Family("antman_lb_rule_fail_open", "gauge",
                           "1 when every checked upstream of the rule fails its health check and all stay in "
                           "rotation (fail open)", ("rule",))
        durations = Family("antman_lb_probe_duration_seconds", "histogram",
                           "How long health probes took (until judged: answered, refused or timed out)", RULE_UPSTREAM)
        probes = Family("antman_lb_probes_total", "counter", "Health probes by result",
                        RULE_UPSTREAM + ("result",))
        transitions = Family("antman_lb_health_transitions_total", "counter",
                             "Changes of health state: to=unhealthy (taken out), to=healthy (found healthy or back)",
                             RULE_UPSTREAM + ("to",))
        reloads = Family("antman_lb_reloads_total", "counter",
                         "Changes of the rotation applied by the agent: result=success (nginx reloaded), "
                         "result=failure (nginx -t or the reload failed; nothing changed)", ("result",))
        last_success = Family("antman_lb_last_reload_success_timestamp_seconds", "gauge",
                              "When the agent last reloaded nginx successfully (Unix time)")
        last_ok = Family("antman_lb_last_reload_successful", "gauge",
                         "1 when the agent's last change of the rotation succeeded, 0 when it failed")
        generation = Family("antman_lb_config_generation", "gauge",
                            "Rule sets (generations of the rules directory) the agent has read since it started")
        rules = Family("antman_lb_rules", "gauge", "Rules the agent reads, and how many it checks",
                       ("checked",))
        ready = Family("antman_lb_agent_ready", "gauge",
                       "1 once the agent has probed every upstream after its start (before, it changes nothing)")
        started = Family("antman_lb_agent_start_time_seconds", "gauge", "When the agent started (Unix time)")
        # A copy under the locks (the probe loop waits for them), the text made outside them.
        with agent.lock:
            states = sorted((key, tracker.state) for key, tracker in agent.trackers.items())
            rule_set, applied, is_ready = agent.rules, agent.applied, agent.ready
            with self.lock:
                counters = dict((key, self.checked[key].copy()) for key, _state in states if key in self.checked)
                reload_counts, last_ok_value, last_success_at = dict(self.reloads), self.last_apply_ok, self.last_success
                generations = self.generations
        held, open_rules = set(), set()
        for name, rule in rule_set.items():
            turn = rotation(rule, applied.unhealthy(name))
            held.update((name, address) for address in turn.held_out)
            if turn.fail_open:
                open_rules.add(name)
        checked_rules = sorted(set(name for (name, _address), _state in states))
        nothing = _Checked()
        for key, state in states:
            healthy.add(key, 1 if state == HEALTHY else 0)
            judged.add(key, 1 if state in (HEALTHY, UNHEALTHY) else 0)
            in_rotation.add(key, 0 if key in held else 1)
            checked = counters.get(key, nothing)
            durations.add_histogram(key, checked.durations)
            probes.add(key + ("ok",), checked.ok)
            probes.add(key + ("failed",), checked.failed)
            transitions.add(key + ("unhealthy",), checked.out)
            transitions.add(key + ("healthy",), checked.back)
        for name in checked_rules:
            fail_open.add((name,), 1 if name in open_rules else 0)
        for result in ("success", "failure"):
            reloads.add((result,), reload_counts[result])
        if last_success_at is not None:
            last_success.add((), last_success_at)
        if last_ok_value is not None:
            last_ok.add((), 1 if last_ok_value else 0)
        generation.add((), generations)
        rules.add(("false",), len(set(rule_set) - set(checked_rules)))
        rules.add(("true",), len(checked_rules))
        ready.add((), 1 if is_ready else 0)
        started.add((), agent.started_wall)
        families = [healthy, judged, in_rotation, fail_open, durations, probes, transitions, reloads, last_success,
                    last_ok, generation, rules, ready, started]
        if self.stub_status is not None:
            families.extend(self.stub_status.families())
        if agent.traffic is not None:
            families.extend(agent.traffic.counters.families())
        return families

    def render(self):
        return exposition(self.families())
