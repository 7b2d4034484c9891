"""The agent's metric families (health/metrics.py) from its state and events, on a stand-in
agent: health, rotation and fail open per (rule, upstream); probe and transition counters; reloads
by result; counters of what the agent no longer checks are dropped (memory stays bounded)."""
import threading

from ansible_collections.antsle.antman.plugins.module_utils.health.metrics import AgentMetrics
from ansible_collections.antsle.antman.plugins.module_utils.health.prober import Result
from ansible_collections.antsle.antman.plugins.module_utils.health.tracker import BACK, OUT, Tracker
from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import Verdict, Verdicts


class Spec:
    key = "spec-1"


class Outcome:
    reloaded = True


def rule(*addresses):
    return {"upstreams": [{"address": a, "down": False, "backup": False} for a in addresses]}


class FakeAgent:
    def __init__(self):
        self.lock = threading.Condition()
        self.rules = {"web": rule("10.0.0.1:80", "10.0.0.2:80")}
        self.trackers = dict((("web", a), Tracker(2, 2, state="healthy")) for a in ("10.0.0.1:80", "10.0.0.2:80"))
        self.readers = {"spec-1": [("web", "10.0.0.2:80")]}
        self.applied = Verdicts()
        self.ready = True
        self.started_wall = 1700000000.0
        self.traffic = None  # no access log followed

    @staticmethod
    def wall():
        return 1700000100.5


def scrape(metrics):
    found = {}
    for line in metrics.render().decode("utf-8").splitlines():
        if not line.startswith("#"):
            name, _sep, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def test_health_rotation_probes_transitions_and_reloads():
    agent = FakeAgent()
    metrics = AgentMetrics(agent)
    metrics.on_rules("/gen-1", set(agent.trackers))
    for ok in (True, False, False):
        metrics.on_probe(Spec(), Result(ok, 30.0, "x"))
    agent.trackers[("web", "10.0.0.2:80")].state = "unhealthy"
    metrics.on_transition("web", "10.0.0.2:80", None, OUT)
    agent.applied = Verdicts({"web": {"10.0.0.2:80": Verdict(1.0, "status 500")}})
    metrics.on_apply(Outcome(), 0.1, None)
    metrics.on_apply(None, 0.1, RuntimeError("nginx -t failed"))
    found = scrape(metrics)
    one, two = 'rule="web",upstream="10.0.0.1:80"', 'rule="web",upstream="10.0.0.2:80"'
    assert found["antman_lb_upstream_healthy{%s}" % one] == 1 and found["antman_lb_upstream_healthy{%s}" % two] == 0
    assert found["antman_lb_upstream_in_rotation{%s}" % one] == 1 and found["antman_lb_upstream_in_rotation{%s}" % two] == 0
    assert found['antman_lb_rule_fail_open{rule="web"}'] == 0
    assert found['antman_lb_probes_total{%s,result="failed"}' % two] == 2
    assert found['antman_lb_probes_total{%s,result="ok"}' % two] == 1
    assert found['antman_lb_probe_duration_seconds_bucket{%s,le="0.05"}' % two] == 3
    assert found['antman_lb_probe_duration_seconds_bucket{%s,le="0.025"}' % two] == 0
    assert found['antman_lb_health_transitions_total{%s,to="unhealthy"}' % two] == 1
    assert found['antman_lb_health_transitions_total{%s,to="unhealthy"}' % one] == 0
    assert found['antman_lb_reloads_total{result="success"}'] == 1
    assert found['antman_lb_reloads_total{result="failure"}'] == 1
    assert found["antman_lb_last_reload_success_timestamp_seconds"] == 1700000100.5
    assert found["antman_lb_last_reload_successful"] == 0
    assert found["antman_lb_config_generation"] == 1


def test_fail_open_when_every_upstream_fails():
    agent = FakeAgent()
    for tracker in agent.trackers.values():
        tracker.state = "unhealthy"
    agent.applied = Verdicts({"web": {"10.0.0.1:80": Verdict(1.0, "x"), "10.0.0.2:80": Verdict(1.0, "x")}})
    found = scrape(AgentMetrics(agent))
    assert found['antman_lb_rule_fail_open{rule="web"}'] == 1
    assert found['antman_lb_upstream_in_rotation{rule="web",upstream="10.0.0.1:80"}'] == 1


def test_what_the_agent_no_longer_checks_is_dropped():
    agent = FakeAgent()
    metrics = AgentMetrics(agent)
    metrics.on_rules("/gen-1", set(agent.trackers))
    for index in range(1000):  # a thousand addresses seen over time, one at a time
        address = "10.1.%d.%d:80" % (index // 250, index % 250)
        agent.rules = {"web": rule(address)}
        agent.trackers = {("web", address): Tracker(2, 2)}
        agent.readers = {"spec-1": [("web", address)]}
        metrics.on_rules("/gen-%d" % index, set(agent.trackers))
        metrics.on_probe(Spec(), Result(True, 1.0, "x"))
        metrics.on_transition("web", address, None, BACK)
    assert list(metrics.checked) == [("web", "10.1.3.249:80")]
    assert sum(1 for line in metrics.render().splitlines() if b"10.1." in line) == \
        sum(1 for line in metrics.render().splitlines() if b"10.1.3.249:80" in line)
    assert scrape(metrics)["antman_lb_config_generation"] == 1001  # /gen-1, then 1,000 more
