import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.antsle.antman.plugins.filter.lb_rule_table import rule_table
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule
from ansible_collections.antsle.antman.tests.support.paths import COLLECTION


def rules(probed=False):
    rule = normalize_rule({"name": "shop", "server_name": ["shop.example.com", "www.example.com"], "server_port": 8080,
                           "upstreams": [{"address": "10.1.1.102", "weight": 3}, {"address": "10.1.1.103", "down": True},
                                         {"address": "10.1.1.104", "backup": True}]})
    if probed:
        rule["upstreams"][0].update(reachable=True, connect_ms=0.25, probe_error=None)
        rule["upstreams"][1].update(reachable=False, connect_ms=None, probe_error="[Errno 111] Connection refused")
        rule["upstreams"][2].update(reachable=True, connect_ms=None, probe_error=None)
    return [rule]


def test_one_line_per_upstream_rule_columns_on_the_first():
    lines = rule_table(rules())
    assert lines == [
        "RULE  SERVER                                 METHOD       ACCESS    UPSTREAM       WEIGHT  BACKUP  DOWN",
        "shop  shop.example.com,www.example.com:8080  round_robin  everyone  10.1.1.102:80  3       -       -",
        "                                                                    10.1.1.103:80  1       -       yes",
        "                                                                    10.1.1.104:80  1       yes     -",
    ]


def test_the_access_column_shows_who_may_reach_each_rule():
    admin = normalize_rule({"name": "admin", "server_name": "admin.local", "allow_from": ["10.1.0.0/16", "127.0.0.2"],
                            "rate_limit": {"requests_per_second": 10, "burst": 5}, "real_ip_from": ["192.0.2.10"],
                            "upstreams": [{"address": "10.1.1.102"}]})
    ssh = normalize_rule({"name": "ssh", "protocol": "tcp", "server_port": 2222, "rate_limit": {"connections": 20},
                          "real_ip_from": ["192.0.2.10"], "proxy_protocol": True, "upstreams": [{"address": "10.1.1.102:22"}]})
    lines = rule_table([admin, ssh])
    assert lines[0].split() == ["RULE", "SERVER", "METHOD", "ACCESS", "UPSTREAM", "WEIGHT", "BACKUP", "DOWN"]
    assert "  10.1.0.0/16,127.0.0.2; 10/s burst 5; via 192.0.2.10  " in lines[1]
    assert "  everyone; 20 conns; via 192.0.2.10 +PROXY  " in lines[2]


def test_probe_results_add_a_reachable_column():
    lines = rule_table(rules(probed=True))
    assert lines[0].endswith("DOWN  REACHABLE")
    assert lines[1].endswith("yes (0.2 ms)") or lines[1].endswith("yes (0.3 ms)")
    assert lines[2].endswith("NO: [Errno 111] Connection refused")
    assert lines[3].endswith("  yes")


def test_the_health_agent_s_view_adds_a_health_column():
    probe = {"ok": False, "ms": 1000.2, "detail": "no answer within 1000 ms", "at": "2026-12-06T20:01:05Z"}
    health = {"shop": {
        "10.1.1.102:80": {"state": "unhealthy", "since": None, "probe": probe, "in_rotation": False, "fail_open": False},
        "10.1.1.103:80": {"state": "off", "since": None, "probe": None, "in_rotation": False},
        "10.1.1.104:80": {"state": "healthy", "since": None, "probe": dict(probe, ok=True, detail="status 200"),
                          "in_rotation": True, "fail_open": False}}}
    lines = rule_table(rules(), health)
    assert lines[0].endswith("DOWN  HEALTH")
    assert lines[1].endswith("  unhealthy out: no answer within 1000 ms")
    assert lines[2].endswith("  yes   off") and lines[3].endswith("  healthy")
    health["shop"]["10.1.1.102:80"].update(in_rotation=True, fail_open=True)
    assert rule_table(rules(), health)[1].endswith("  unhealthy fail open: no answer within 1000 ms")
    # no agent on the host: every upstream off, the table as before
    off = {"shop": dict((a, {"state": "off", "in_rotation": True}) for a in health["shop"])}
    assert rule_table(rules(), off) == rule_table(rules())
    with pytest.raises(AnsibleFilterError, match="health must be"):
        rule_table(rules(), ["healthy"])


def traffic(rate, share, unavailable=None):
    return {"requests_per_second": rate, "errors_5xx_share": share, "window_seconds": None if unavailable else 60.0,
            "unavailable": unavailable}


def test_the_agent_s_traffic_adds_requests_per_second_and_5xx_share_columns():
    health = {"shop": {
        "10.1.1.102:80": {"state": "healthy", "in_rotation": True, "traffic": traffic(12.25, 0.031)},
        "10.1.1.103:80": {"state": "off", "in_rotation": False, "traffic": traffic(0.0, None)},
        "10.1.1.104:80": {"state": "healthy", "in_rotation": True, "traffic": traffic(0.5, 0.0)}}}
    lines = rule_table(rules(), health)
    assert lines[0].endswith("DOWN  HEALTH   REQ/S  5XX")
    assert lines[1].endswith("  healthy  12.2   3.1%") or lines[1].endswith("  healthy  12.3   3.1%")
    assert lines[2].endswith("  off      0.0    -")
    assert lines[3].endswith("  healthy  0.5    0.0%")


def test_without_traffic_figures_the_columns_say_why():
    for why in ("no agent", "no access log", "starting"):
        health = {"shop": dict((a, {"state": "off", "in_rotation": True, "traffic": traffic(None, None, why)})
                               for a in ("10.1.1.102:80", "10.1.1.103:80", "10.1.1.104:80"))}
        lines = rule_table(rules(), health)
        assert lines[0].split()[-2:] == ["REQ/S", "5XX"]
        assert all(line.endswith("  %s  %s" % (why, why)) for line in lines[1:])


def test_empty_and_wrong_input():
    assert rule_table([]) == ["no load-balancing rules"]
    with pytest.raises(AnsibleFilterError, match="expects a list of rules"):
        rule_table("shop")
    with pytest.raises(AnsibleFilterError, match="canonical form"):
        rule_table([{"name": "x"}])


def doc_text_block(relative, line):
    """The fenced block (no language) of ``relative`` that holds ``line``."""
    with open(os.path.join(COLLECTION, relative)) as handle:
        blocks = handle.read().split("\n```\n")[1::2]
    (block,) = [b for b in blocks if line in b.split("\n")]
    return block.split("\n")


def test_the_documented_table_is_what_the_filter_prints():
    shop = normalize_rule({"name": "shop", "server_name": "shop.example.com", "upstreams": [
        {"address": "10.1.1.102", "weight": 3}, {"address": "10.1.1.103", "weight": 2},
        {"address": "10.1.1.104", "backup": True}]})
    health = {"shop": {
        "10.1.1.102:80": {"state": "healthy", "in_rotation": True, "traffic": traffic(12.4, 0.0)},
        "10.1.1.103:80": {"state": "healthy", "in_rotation": True, "traffic": traffic(8.3, 0.021)},
        "10.1.1.104:80": {"state": "healthy", "in_rotation": True, "traffic": traffic(0.0, None)}}}
    lines = rule_table([shop], health)
    assert doc_text_block("docs/metrics.md", lines[0]) == lines
