"""The health agent on a real, private nginx with three antlets: a hung, broken (500) or crashed
antlet leaves rotation and comes back, fail open, restart and death of the agent, and the modules
and the agent agree (a playbook run keeps a held-out antlet out and reports no change)."""
import os
import signal
import time

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.health.status import read_status, status_path, upstream_health
from ansible_collections.antsle.antman.plugins.module_utils.host.snapshot import read_snapshot
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import process_alive
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import PORTABLE
from ansible_collections.antsle.antman.tests.support.harness import (
    Backend, NginxInstance, free_port, get)
from ansible_collections.antsle.antman.tests.support.health_agent import AgentProcess

HELD = "down;  # out of rotation: failed its health check"


class World:
    """nginx, three antlets (antlet3 a backup when asked) and one rule over them."""

    def __init__(self, directory, backup=False, health_check=None):
        self.directory = str(directory)
        self.nginx = NginxInstance(os.path.join(self.directory, "nginx")).start()
        self.antlets = [Backend("antlet%d" % i, "127.0.3.%d" % i, free_port(), broken=os.path.join(self.directory, "broken%d" % i)).start()
                        for i in (1, 2, 3)]
        self.port = free_port()
        self.raw = {"name": "web", "server_name": "web.local", "server_port": self.port,
                    "upstreams": [{"address": a.address, "backup": backup and i == 2} for i, a in enumerate(self.antlets)]}
        if health_check:
            self.raw["health_check"] = health_check
        self.nginx.apply([self.raw])
        self.agent = AgentProcess(self.nginx, self.directory)

    def close(self):
        self.agent.stop()
        for antlet in self.antlets:
            antlet.kill()
        self.nginx.stop()

    def rule_text(self):
        with open(os.path.join(self.nginx.rules_dir, "web.conf")) as handle:
            return handle.read()

    def held_out(self):
        """The addresses the rule's file marks down for the agent."""
        return set(a.address for a in self.antlets
                   if any(line.strip().startswith("server %s " % a.address) and line.endswith(HELD)
                          for line in self.rule_text().splitlines()))

    def status(self):
        return read_status(status_path(self.nginx.rules_dir)) or {}

    def applied(self):
        """The addresses the agent has applied as unhealthy (nginx reloaded when that changed a file)."""
        return set(address for rule, address in self.status().get("applied", []) if rule == "web")

    def applied_held_out(self):
        """The addresses the agent has taken out of rotation, once nginx serves it so (reloaded)."""
        return set(address for rule, address in self.status().get("held_out", []) if rule == "web")

    def wait_held_out(self, expected, within):
        """Seconds until nginx serves the rule with exactly ``expected`` out of rotation, as the agent
        says once it has reloaded nginx and the file says (fails after ``within`` seconds)."""
        started = time.monotonic()
        while self.applied_held_out() != set(expected) or self.held_out() != set(expected):
            assert time.monotonic() - started < within, "held out %s, not %s, after %s s; agent log:\n%s" % (
                sorted(self.held_out()), sorted(expected), within, self.agent.log())
            time.sleep(0.02)
        return time.monotonic() - started

    def health(self):
        snapshot = read_snapshot(self.nginx.rules_dir, self.nginx.rules_dir, PORTABLE)
        return upstream_health(snapshot.rules(), snapshot.verdicts, read_status(status_path(self.nginx.rules_dir)))["web"]

    def wait_health(self, state, within, addresses=None):
        addresses = addresses or [a.address for a in self.antlets]
        started = time.monotonic()
        while any(self.health()[a]["state"] != state for a in addresses):
            assert time.monotonic() - started < within, (self.health(), self.agent.log())
            time.sleep(0.05)

    def answers(self, count):
        """(status, antlet) of ``count`` requests through nginx, and the slowest one's seconds."""
        seen, slowest = [], 0.0
        for _request in range(count):
            began = time.monotonic()
            seen.append(get(self.port, "web.local", timeout=10))
            slowest = max(slowest, time.monotonic() - began)
        return seen, slowest

    def generation(self):
        return os.path.realpath(self.nginx.rules_dir)

    def checked(self):
        """The agent started, every antlet found healthy."""
        self.agent.start()
        self.wait_health("healthy", 10)
        return self

    def hung(self, index):
        """Antlet ``index`` hung (SIGSTOP) and out of rotation: (antlet, seconds that took)."""
        antlet = self.antlets[index]
        antlet.hang()
        return antlet, self.wait_held_out({antlet.address}, 8)


@pytest.fixture
def world(tmp_path):
    made = []

    def make(**kwargs):
        made.append(World(tmp_path / ("world%d" % len(made)), **kwargs))
        return made[-1]
    yield make
    for each in made:
        each.close()


def test_a_hung_antlet_leaves_rotation_and_returns_when_it_answers(world):
    w = world().checked()
    hung, took = w.hung(1)
    answers, slowest = w.answers(12)
    assert all(status == 200 for status, _name in answers) and "antlet2" not in [n for _s, n in answers]
    assert slowest < 1.0, "a request waited %.2f s after the hung antlet was taken out" % slowest
    assert w.health()[hung.address]["state"] == "unhealthy" and not w.health()[hung.address]["in_rotation"]
    hung.resume()
    back = w.wait_held_out(set(), 2 * 1 + 3)
    assert "antlet2" in [name for _status, name in w.answers(6)[0]]
    log = w.agent.log()
    assert "rule web: %s out of rotation" % hung.address in log and "rule web: %s back in rotation" % hung.address in log
    print("hung antlet out after %.2f s, back %.2f s after it answered" % (took, back))


def test_readers_never_see_a_rotation_the_status_file_does_not_explain(world):
    """lb_rule_info reads the rule file (in rotation or not) and the status file (the state): the
    agent writes a state before it changes the rotation, so out of rotation always reads unhealthy
    and back in rotation healthy, at any moment a reader comes."""
    w = world().checked()
    antlet = w.antlets[0]

    def watch(until_in_rotation, then_s=0.5):
        seen, ended = [], None
        while ended is None or time.monotonic() < ended + then_s:
            health = w.health()[antlet.address]
            seen.append((health["in_rotation"], health["state"]))
            if ended is None and health["in_rotation"] == until_in_rotation:
                ended = time.monotonic()
            assert len(seen) < 20000, seen[-5:]
        return seen

    antlet.break_paths()
    out = watch(False)
    antlet.repair()
    back = watch(True)
    assert set(state for in_rotation, state in out if not in_rotation) == {"unhealthy"}, out
    assert set(state for in_rotation, state in back[back.index((True, "healthy")):] if in_rotation) == {"healthy"}, back


def test_an_antlet_answering_500_leaves_rotation_and_no_500_reaches_a_client_after(world):
    w = world()
    w.checked()
    broken = w.antlets[0]
    broken.break_paths()
    w.wait_held_out({broken.address}, 8)
    answers, _slowest = w.answers(20)
    assert [status for status, _name in answers] == [200] * 20
    assert "status 500" in w.health()[broken.address]["probe"]["detail"]
    broken.repair()
    w.wait_held_out(set(), 5)


def test_a_crashed_antlet_leaves_rotation(world):
    w = world()
    w.checked()
    w.antlets[2].kill()
    w.wait_held_out({w.antlets[2].address}, 6)
    assert "connection failed: Connection refused" in w.health()[w.antlets[2].address]["probe"]["detail"]


def test_when_every_primary_fails_the_backup_serves(world):
    w = world(backup=True)
    w.checked()
    for antlet in w.antlets[:2]:
        antlet.break_paths()
    w.wait_held_out({a.address for a in w.antlets[:2]}, 8)
    answers, _slowest = w.answers(10)
    assert answers == [(200, "antlet3")] * 10


def test_a_broken_health_endpoint_everywhere_is_no_outage(world):
    w = world(health_check={"path": "/health", "status": "200"})
    w.checked()
    before = w.rule_text()
    for antlet in w.antlets:
        antlet.break_paths("/health")
    w.wait_health("unhealthy", 8)
    # they fail a moment apart: the first ones may leave rotation until the last one fails too
    started = time.monotonic()
    while w.applied() != set(a.address for a in w.antlets):
        assert time.monotonic() - started < 5, w.agent.log()
        time.sleep(0.05)
    assert w.applied_held_out() == set() and w.rule_text() == before, "fail open: nothing is held out when nothing passes"
    assert all(h["fail_open"] and h["in_rotation"] for h in w.health().values())
    answers, _slowest = w.answers(9)
    assert sorted(set(name for _status, name in answers)) == ["antlet1", "antlet2", "antlet3"]
    assert "every upstream fails its health check; all stay in rotation (fail open)" in w.agent.log()
    # one endpoint works again: the other two leave rotation
    w.antlets[0].repair()
    w.wait_held_out({a.address for a in w.antlets[1:]}, 6)


def test_a_restarted_agent_touches_nothing_until_it_has_probed(world):
    w = world().checked()
    w.hung(1)
    w.agent.stop()
    generation, workers = w.generation(), w.nginx.workers()
    w.agent.start()
    # it probes (the hung antlet again fails), decides the same, and so never applies anything
    w.wait_health("unhealthy", 10, [w.antlets[1].address])
    w.wait_health("healthy", 10, [w.antlets[0].address, w.antlets[2].address])
    assert w.generation() == generation and w.nginx.workers() == workers, "the restart reloaded nginx"
    assert w.held_out() == {w.antlets[1].address}


def test_a_killed_agent_leaves_nginx_serving_and_readers_say_stale(world):
    w = world().checked()
    w.hung(1)
    w.agent.stop(signal.SIGKILL)
    health = w.health()
    assert [health[a.address]["state"] for a in w.antlets] == ["stale"] * 3
    assert [health[a.address]["in_rotation"] for a in w.antlets] == [True, False, True]
    answers, slowest = w.answers(6)
    assert all(status == 200 for status, _name in answers) and slowest < 1.0


def test_a_playbook_run_keeps_a_held_out_antlet_out_and_an_edit_keeps_it_out(world):
    w = world().checked()
    w.hung(1)
    w.agent.stop()
    assert not w.nginx.apply([w.raw], check_mode=True).changed
    assert not w.nginx.apply([w.raw]).changed
    edited = dict(w.raw, read_timeout="30s")
    outcome = w.nginx.apply([edited])
    assert outcome.changed and outcome.reloaded
    assert w.held_out() == {w.antlets[1].address}
    answers, slowest = w.answers(6)
    assert all(status == 200 for status, _name in answers) and slowest < 1.0


def test_declared_down_antlets_are_never_probed(world, tmp_path):
    w = world()
    logged = Backend("logged", "127.0.3.9", free_port(), log=tmp_path / "events").start()
    try:
        raw = dict(w.raw, upstreams=w.raw["upstreams"] + [{"address": logged.address, "down": True}])
        w.nginx.apply([raw])
        w.agent.start()
        w.wait_health("healthy", 10)
        probes = read_status(status_path(w.nginx.rules_dir))["probes"]
        started = time.monotonic()
        while read_status(status_path(w.nginx.rules_dir))["probes"] < probes + 9:
            assert time.monotonic() - started < 10
            time.sleep(0.1)
        assert logged.events() == [], "a declared-down upstream was probed"
        assert w.health()[logged.address]["state"] == "off"
    finally:
        logged.kill()


def test_a_tcp_rule_s_crashed_antlet_leaves_rotation(world):
    w = world()
    tcp_port = free_port()
    w.nginx.apply([w.raw, {"name": "raw", "protocol": "tcp", "server_port": tcp_port,
                           "upstreams": [{"address": a.address} for a in w.antlets]}])
    w.checked()
    w.antlets[0].kill()
    started = time.monotonic()
    stream = os.path.join(w.nginx.rules_dir, "raw.stream")
    while not any(line.strip().startswith("server %s " % w.antlets[0].address) and line.endswith(HELD)
                  for line in open(stream).read().splitlines()):
        assert time.monotonic() - started < 6, w.agent.log()
        time.sleep(0.02)
    assert process_alive(w.nginx.master_pid())
