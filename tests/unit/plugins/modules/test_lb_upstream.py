"""lb_upstream in-process against a fake host: the address changed in every rule in one reload,
check mode and diff, no-op runs, the health gate (probes scripted), the drain (connection counts
scripted), and everything refused before anything is touched."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.host import connections, probe
from ansible_collections.antsle.antman.plugins.modules import lb_rules, lb_upstream

SHOP = {"name": "shop", "server_name": "shop.local", "upstreams": [
    {"address": "10.0.0.1"}, {"address": "10.0.0.2"}, {"address": "10.0.0.3", "backup": True}]}
BLOG = {"name": "blog", "server_name": "blog.local", "server_port": 8080, "upstreams": [
    {"address": "10.0.0.1:80", "weight": 3}, {"address": "10.0.0.4"}]}
ALONE = {"name": "alone", "server_name": "alone.local", "upstreams": [{"address": "10.0.0.1"}]}
NAMED = {"name": "named", "server_name": "named.local", "upstreams": [
    {"address": "app.invalid"}, {"address": "10.0.0.4"}]}


@pytest.fixture
def world(host, run_module):
    """The fake host with SHOP and BLOG applied; ``world.files()`` / ``.reloads`` as the host's."""
    failed, result = run_module(lb_rules.main, host.params(state="merged", config=[SHOP, BLOG]))
    assert not failed, result
    del host.reloads[:]
    return host


class Counts:
    """Scripted connection counts for the drain: each count() takes the next (the last repeats)."""

    def __init__(self, monkeypatch):
        self.script = [0]
        self.made = []
        test = self

        class Counter:
            def __init__(self, master_pid, address):
                test.made.append((master_pid, address))

            def count(self):
                return test.script.pop(0) if len(test.script) > 1 else test.script[0]
        monkeypatch.setattr(connections, "ConnectionCounter", Counter)
        monkeypatch.setattr(connections, "check_readable", lambda master_pid: None)


@pytest.fixture
def counts(monkeypatch):
    return Counts(monkeypatch)


class Probes:
    """Scripted health probes: each takes the next outcome (True/False/HTTP status); records the calls."""

    def __init__(self, monkeypatch):
        self.script = []
        self.calls = []

        def tcp(address, timeout):
            self.calls.append(("tcp", address))
            ok = self.script.pop(0)
            return {"ok": ok, "status": None, "error": None if ok else "[Errno 111] Connection refused"}

        def http(address, path, statuses, timeout):
            self.calls.append(("http", address, path, statuses))
            status = self.script.pop(0)
            ok = any(low <= status <= high for low, high in statuses)
            return {"ok": ok, "status": status, "error": None if ok else "status %d" % status}
        monkeypatch.setattr(probe, "tcp_check", tcp)
        monkeypatch.setattr(probe, "http_check", http)


@pytest.fixture
def probes(monkeypatch):
    return Probes(monkeypatch)


def down_flags(host):
    """{rule file: {address: down}} as written on the fake host."""
    import json
    flags = {}
    for name, text in host.files().items():
        rule = json.loads(text.split("\n")[1][len("# antman-rule: "):])
        flags[name] = dict((u["address"], u["down"]) for u in rule["upstreams"])
    return flags


def upstream(run_module, host, check_mode=False, diff=False, **args):
    return run_module(lb_upstream.main, host.params(**args), check_mode=check_mode, diff=diff)


def test_disable_takes_it_out_of_every_rule_in_one_reload_then_is_a_no_op(world, run_module, counts):
    counts.script = [2, 1, 0]
    failed, result = upstream(run_module, world, address="10.0.0.1", state="disabled")
    assert not failed, result
    assert result["changed"] and result["rules"] == ["blog", "shop"] and result["matched"] == ["blog", "shop"]
    assert result["address"] == "10.0.0.1:80" and result["reloaded"] and len(world.reloads) == 1
    assert result["connections_left"] == 0 and result["drained_in"] >= 0.09 and result["health"] == []
    assert counts.made == [(4242, "10.0.0.1:80")]
    flags = down_flags(world)
    assert flags["shop.conf"] == {"10.0.0.1:80": True, "10.0.0.2:80": False, "10.0.0.3:80": False}
    assert flags["blog.conf"] == {"10.0.0.1:80": True, "10.0.0.4:80": False}
    assert "server 10.0.0.1:80 weight=3 max_fails=5 fail_timeout=10s down;" in world.files()["blog.conf"]
    before = world.files()
    counts.script = [1, 0]
    failed, again = upstream(run_module, world, address="10.0.0.1:80", state="disabled")
    assert not again["changed"] and again["rules"] == [] and not again["reloaded"] and len(world.reloads) == 1
    assert again["connections_left"] == 0 and len(counts.made) == 2  # a rerun waits for the drain again
    assert world.files() == before


def test_check_mode_predicts_exactly_changes_nothing_and_does_not_wait(world, run_module, counts):
    before = world.files()
    failed, check = upstream(run_module, world, check_mode=True, diff=True, address="10.0.0.1", state="disabled")
    assert not failed and check["changed"] and check["rules"] == ["blog", "shop"] and not check["reloaded"]
    assert check["drained_in"] is None and check["connections_left"] is None and counts.made == []
    assert world.files() == before and world.reloads == []
    assert [d["after_header"] for d in check["diff"]] == [world.rules_dir + "/blog.conf", world.rules_dir + "/shop.conf"]
    failed, real = upstream(run_module, world, diff=True, address="10.0.0.1", state="disabled")
    assert real["rules"] == check["rules"] and real["diff"] == check["diff"]
    assert "10.0.0.1:80 weight=1 max_fails=5 fail_timeout=10s down;" in real["diff"][1]["after"]
    assert "down" not in real["diff"][1]["before"].split("upstream antman_shop")[1].split("}")[0]
    failed, check = upstream(run_module, world, check_mode=True, address="10.0.0.1", state="disabled")
    assert not check["changed"] and check["rules"] == []


def test_only_the_listed_rules(world, run_module, counts):
    failed, result = upstream(run_module, world, address="10.0.0.1", state="disabled", rules=["shop"], wait_drained=False)
    assert result["rules"] == ["shop"] and result["matched"] == ["shop"] and counts.made == []
    assert down_flags(world)["blog.conf"]["10.0.0.1:80"] is False


def test_enable_after_the_health_check_passes(world, run_module, counts, probes):
    upstream(run_module, world, address="10.0.0.1", state="disabled")
    probes.script = [False, True, True]
    failed, result = upstream(run_module, world, address="10.0.0.1", state="enabled", health_interval=0.1)
    assert not failed, result
    assert result["changed"] and result["rules"] == ["blog", "shop"] and len(world.reloads) == 2
    assert [p["ok"] for p in result["health"]] == [False, True, True] and probes.calls[0] == ("tcp", "10.0.0.1:80")
    assert result["drained_in"] is None and result["connections_left"] is None
    assert all(not flags["10.0.0.1:80"] for flags in down_flags(world).values())
    failed, again = upstream(run_module, world, address="10.0.0.1", state="enabled")
    assert not again["changed"] and again["health"] == [] and len(probes.calls) == 3  # nothing to gate, no probe


def test_a_failed_health_check_changes_nothing(world, run_module, counts, probes):
    upstream(run_module, world, address="10.0.0.1", state="disabled")
    before, reloads = world.files(), len(world.reloads)
    probes.script = [False, True, False, True, False, False]
    failed, result = upstream(run_module, world, address="10.0.0.1", state="enabled", timeout=0.5,
                              health_interval=0.1, healthy_after=2)
    assert failed and not result["changed"] and result["rules"] == []
    assert result["msg"] == (
        "10.0.0.1:80 did not pass the health check (TCP connect) 2 times in a row within 0.5 s: 6 probes, the last one "
        "failed ([Errno 111] Connection refused); it stays out of rotation in 'blog', 'shop', nothing was changed")
    assert [p["ok"] for p in result["health"]] == [False, True, False, True, False, False]
    assert world.files() == before and len(world.reloads) == reloads


def test_http_health_check(world, run_module, counts, probes):
    upstream(run_module, world, address="10.0.0.1", state="disabled")
    probes.script = [503, 200]
    failed, result = upstream(run_module, world, address="10.0.0.1", state="enabled", health_path="/health",
                              health_status=["200", "204"], healthy_after=1, health_interval=0.1)
    assert not failed and result["changed"]
    assert probes.calls[0] == ("http", "10.0.0.1:80", "/health", [(200, 200), (204, 204)])
    assert [(p["status"], p["ok"]) for p in result["health"]] == [(503, False), (200, True)]


def test_check_mode_enable_probes_and_predicts_the_failure(world, run_module, counts, probes):
    upstream(run_module, world, address="10.0.0.1", state="disabled")
    before = world.files()
    probes.script = [False, False]
    failed, result = upstream(run_module, world, check_mode=True, address="10.0.0.1", state="enabled", timeout=0.1,
                              health_interval=0.1)
    assert failed and "did not pass the health check" in result["msg"]
    probes.script = [True, True]
    failed, result = upstream(run_module, world, check_mode=True, address="10.0.0.1", state="enabled",
                              health_interval=0.1)
    assert not failed and result["changed"] and result["rules"] == ["blog", "shop"] and world.files() == before


def test_enable_without_health_check(world, run_module, counts, probes):
    upstream(run_module, world, address="10.0.0.1", state="disabled")
    failed, result = upstream(run_module, world, address="10.0.0.1", state="enabled", health_check=False)
    assert result["changed"] and probes.calls == [] and result["health"] == []


def test_drain_timeout_is_reported_not_failed(world, run_module, counts, warnings):
    counts.script = [3]
    failed, result = upstream(run_module, world, address="10.0.0.1", state="disabled", timeout=0.3)
    assert not failed and result["changed"] and result["drained_in"] is None and result["connections_left"] == 3
    assert warnings == ["10.0.0.1:80: nginx still has 3 connections to it after 0.3 s (requests or sessions still "
                        "running; they were not cut)"]


def test_reload_false_writes_and_does_not_wait(world, run_module, counts, warnings):
    failed, result = upstream(run_module, world, address="10.0.0.1", state="disabled", reload=False)
    assert result["changed"] and not result["reloaded"] and world.reloads == [] and counts.made == []
    assert result["drained_in"] is None and any("reload: false" in w for w in warnings)


@pytest.mark.parametrize("args, message", [
    ({"address": "10.0.0.9"}, "address: 10.0.0.9:80 is not an upstream of any managed rule; set allow_missing: true"),
    ({"address": "10.0.0.1", "rules": ["nope"]}, "rules: rule 'nope' is not a managed rule"),
    ({"address": "10.0.0.2", "rules": ["blog"]}, "rules: rule 'blog' has no upstream 10.0.0.2:80"),
    ({"address": "10.0.0.1", "rules": ["shop"]}, "wait_drained: 10.0.0.1:80 stays in rotation in rule 'blog'"),
    ({"address": "10.0.0.1; return 200", "timeout": -1},
     'address: "10.0.0.1; return 200" is not an address of the form host, host:port or [ipv6]:port; '
     "timeout: -1.0 is out of range (0.1-86400 seconds)"),
])
def test_refused_before_anything_is_touched(world, run_module, counts, args, message):
    before = world.files()
    failed, result = upstream(run_module, world, state="disabled", **args)
    assert failed and message in result["msg"], result["msg"]
    assert world.files() == before and world.reloads == [] and counts.made == []


def test_the_last_upstream_in_rotation_is_never_disabled(world, run_module, counts):
    run_module(lb_rules.main, world.params(state="merged", config=[ALONE]))
    before, reloads = world.files(), len(world.reloads)
    failed, result = upstream(run_module, world, address="10.0.0.1", state="disabled")
    assert failed and result["msg"] == ("rule 'alone': disabling 10.0.0.1:80 would leave no upstream in rotation (every "
                                        "upstream is backup or down); enable another upstream of the rule first")
    assert world.files() == before and len(world.reloads) == reloads


def test_allow_missing_is_a_no_op(world, run_module, counts):
    failed, result = upstream(run_module, world, address="10.0.0.9", state="disabled", allow_missing=True)
    assert not failed and not result["changed"] and result["matched"] == [] and result["drained_in"] is None
    assert world.reloads == [] and counts.made == []


def test_a_drain_that_cannot_be_measured_fails_before_touching(world, run_module, monkeypatch):
    run_module(lb_rules.main, world.params(state="merged", config=[NAMED]))
    before, reloads = world.files(), len(world.reloads)
    failed, result = upstream(run_module, world, address="app.invalid", state="disabled")
    assert failed and result["msg"].startswith("wait_drained: cannot resolve app.invalid to find nginx's connections")
    assert result["msg"].endswith("; set wait_drained: false to not wait")

    def denied(master_pid):
        raise connections.ConnectionsError("cannot read the sockets of nginx process 4242 in /proc/4242/fd "
                                           "(run as root, become: true)")
    monkeypatch.setattr(connections, "check_readable", denied)
    failed, result = upstream(run_module, world, address="10.0.0.4", state="disabled")
    assert failed and "become: true" in result["msg"] and world.files() == before and len(world.reloads) == reloads
    failed, result = upstream(run_module, world, address="10.0.0.4", state="disabled", wait_drained=False)
    assert not failed and result["rules"] == ["blog", "named"]
