"""What the agent probes: one probe per distinct check, shared by the rules that check an address
the same way; never a declared-down upstream, a udp rule or a rule whose check is off."""
from ansible_collections.antsle.antman.plugins.module_utils.health.targets import plan_probes
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule


def rule(name, upstreams, **fields):
    raw = {"name": name, "server_name": "%s.local" % name, "upstreams": [{"address": a} for a in upstreams]}
    raw.update(fields)
    return normalize_rule(raw)


def test_identical_checks_share_one_probe_and_each_rule_counts_for_itself():
    rules = {
        "a": rule("a", ["10.0.0.1", "10.0.0.2"], health_check={"host": "shared.local", "fails": 3}),
        "b": rule("b", ["10.0.0.1"], health_check={"host": "shared.local"}),
        "c": rule("c", ["10.0.0.1"]),  # its own Host header: another probe
    }
    specs, subscriptions = plan_probes(rules)
    assert len(specs) == 3
    assert subscriptions[("a", "10.0.0.1:80")].key == subscriptions[("b", "10.0.0.1:80")].key
    assert subscriptions[("a", "10.0.0.1:80")].fails == 3 and subscriptions[("b", "10.0.0.1:80")].fails == 2
    assert specs[subscriptions[("c", "10.0.0.1:80")].key].host == "c.local"
    assert subscriptions[("c", "10.0.0.1:80")].host_source == "server_name"


def test_declared_down_udp_and_disabled_are_never_probed():
    rules = {
        "web": normalize_rule({"name": "web", "server_name": "web.local",
                               "upstreams": [{"address": "10.0.0.1"}, {"address": "10.0.0.2", "down": True}]}),
        "off": rule("off", ["10.0.0.3"], health_check={"enabled": False}),
        "dns": normalize_rule({"name": "dns", "protocol": "udp", "server_port": 53, "upstreams": [{"address": "10.0.0.4:53"}]}),
    }
    specs, subscriptions = plan_probes(rules)
    assert list(subscriptions) == [("web", "10.0.0.1:80")]
    assert [spec.address for spec in specs.values()] == ["10.0.0.1:80"]


def test_the_request_carries_only_checked_text():
    rules = {"web": rule("web", ["[2001:db8::1]:8080"], server_name=["*.example.com"],
                         health_check={"path": "/health?full=1", "status": ["200", "204"], "interval": "500ms"})}
    (spec,) = plan_probes(rules)[0].values()
    assert spec.request() == (b"GET /health?full=1 HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n"
                              b"User-Agent: antsle.antman health check\r\nAccept: */*\r\n\r\n")
    assert (spec.interval, spec.timeout, spec.statuses) == (0.5, 1.0, ((200, 200), (204, 204)))
    assert spec.passes(204) and not spec.passes(500)
    tcp = normalize_rule({"name": "ssh", "protocol": "tcp", "server_port": 2222, "upstreams": [{"address": "10.0.0.9:22"}]})
    (spec,) = plan_probes({"ssh": tcp})[0].values()
    assert spec.kind == "tcp" and spec.describe() == "TCP connect"
