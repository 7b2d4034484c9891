"""What readers make of the agent's status file, the declared rules and the applied verdicts:
each upstream's health, stale once the agent is gone, off where nothing is checked; its traffic
(requests per second, 5xx share) over the last minute, or why there is none."""
import os

from ansible_collections.antsle.antman.plugins.module_utils.health.status import (
    read_status, status_path, upstream_health, write_status)
from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import Verdict, Verdicts
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule

A, B, C = "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"
NOW = 1000000.0


def rules():
    web = normalize_rule({"name": "web", "server_name": "web.local", "upstreams": [
        {"address": A}, {"address": B}, {"address": C, "down": True}]})
    dns = normalize_rule({"name": "dns", "protocol": "udp", "server_port": 53, "upstreams": [{"address": "10.0.0.9:53"}]})
    return {"web": web, "dns": dns}


def body(pid=None, updated=NOW, traffic=None, **entries):
    probe = {"ok": False, "ms": 1000.4, "detail": "no answer within 1000 ms", "at": NOW - 1}
    seen = {"web": {A: {"state": "healthy", "since": NOW - 50, "probe": dict(probe, ok=True, detail="status 200")},
                    B: {"state": "unhealthy", "since": NOW - 10, "probe": probe}}}
    seen["web"].update(entries)
    return {"format": 1, "pid": os.getpid() if pid is None else pid, "updated": updated, "stale_after": 10.0,
            "rules": seen, "traffic": traffic}


TRAFFIC = {"log": "/var/log/nginx/antman_access.log", "open": True, "problem": None, "window": 60.0,
           "rules": {"web": {A: [12.5, 0.0], B: [2.0, 0.25]}}}


def traffic(rate, share, window=60.0, unavailable=None):
    return {"requests_per_second": rate, "errors_5xx_share": share, "window_seconds": window, "unavailable": unavailable}


HELD = Verdicts({"web": {B: Verdict(NOW - 10, "no answer within 1000 ms")}})


def test_the_path_sits_beside_the_rules_directory_hidden():
    assert status_path("/etc/nginx/antman.d/") == "/etc/nginx/.antman.d.health.json"


def test_a_running_agent_says_what_it_sees(tmp_path):
    path = str(tmp_path / "status.json")
    write_status(path, body())
    health = upstream_health(rules(), HELD, read_status(path), now=NOW + 1)
    assert health["web"][A] == {"state": "healthy", "since": "1970-01-12T13:45:50Z", "in_rotation": True,
                                "fail_open": False, "probe": {"ok": True, "ms": 1000.4, "detail": "status 200",
                                                              "at": "1970-01-12T13:46:39Z"},
                                "traffic": traffic(None, None, None, "no access log")}
    assert health["web"][B]["state"] == "unhealthy" and health["web"][B]["in_rotation"] is False
    assert health["web"][C] == {"state": "off", "since": None, "probe": None, "in_rotation": False,
                                "traffic": traffic(None, None, None, "no access log")}
    assert health["dns"]["10.0.0.9:53"]["state"] == "off" and health["dns"]["10.0.0.9:53"]["in_rotation"]


def test_a_dead_or_silent_agent_is_stale_and_nginx_keeps_what_was_applied():
    for stale in (body(pid=2 ** 22 + 7), body(updated=NOW - 60)):
        health = upstream_health(rules(), HELD, stale, now=NOW)
        assert [health["web"][a]["state"] for a in (A, B, C)] == ["stale", "stale", "off"]
        assert [health["web"][a]["in_rotation"] for a in (A, B, C)] == [True, False, False]
        assert health["web"][B]["probe"]["detail"] == "no answer within 1000 ms"


def test_without_an_agent_nothing_is_checked_unless_something_is_still_held_out():
    health = upstream_health(rules(), Verdicts(), None, now=NOW)
    assert [health["web"][a]["state"] for a in (A, B, C)] == ["off", "off", "off"]
    held = upstream_health(rules(), HELD, None, now=NOW)
    assert [held["web"][a]["state"] for a in (A, B)] == ["off", "stale"]
    assert held["web"][B]["since"] == "1970-01-12T13:46:30Z"


def test_fail_open_is_reported():
    every = Verdicts({"web": {A: Verdict(NOW, "status 500"), B: Verdict(NOW, "status 500")}})
    health = upstream_health(rules(), every, body(), now=NOW)
    assert health["web"][A]["fail_open"] and health["web"][A]["in_rotation"] and health["web"][B]["in_rotation"]


def test_odd_status_files_are_read_as_none_or_cleaned(tmp_path):
    path = tmp_path / "status.json"
    for text in ("{", "[]", '{"format": 2, "rules": {}}', '{"format": 1}'):
        path.write_text(text)
        assert read_status(str(path)) is None
    hostile = body(**{A: {"state": "pwned", "probe": {"ok": "yes", "ms": "x", "detail": "a\nb" * 200, "at": "x"}}})
    health = upstream_health(rules(), Verdicts(), hostile, now=NOW)
    assert health["web"][A]["state"] == "unknown"
    assert health["web"][A]["probe"] == {"ok": False, "ms": None, "detail": ("a?b" * 200)[:200], "at": None}


def test_the_traffic_of_the_last_minute_per_upstream():
    health = upstream_health(rules(), HELD, body(traffic=TRAFFIC), now=NOW + 1)
    assert health["web"][A]["traffic"] == traffic(12.5, 0.0)
    assert health["web"][B]["traffic"] == traffic(2.0, 0.25)
    assert health["web"][C]["traffic"] == traffic(0.0, None)  # no request: no share
    assert health["dns"]["10.0.0.9:53"]["traffic"] == traffic(0.0, None)


def test_no_traffic_figures_without_a_running_agent_or_before_its_first_window():
    for stale in (body(pid=2 ** 22 + 7, traffic=TRAFFIC), body(updated=NOW - 60, traffic=TRAFFIC), None):
        assert upstream_health(rules(), HELD, stale, now=NOW)["web"][A]["traffic"] == traffic(None, None, None, "no agent")
    starting = upstream_health(rules(), HELD, body(traffic=dict(TRAFFIC, window=0.0)), now=NOW)
    assert starting["web"][A]["traffic"] == traffic(None, None, None, "starting")


def test_odd_traffic_in_the_status_file_is_cleaned():
    odd = dict(TRAFFIC, rules={"web": {A: ["x", "y"], B: [1]}, "dns": []})
    health = upstream_health(rules(), HELD, body(traffic=odd), now=NOW)
    assert health["web"][A]["traffic"] == traffic(0.0, None)
    assert health["web"][B]["traffic"] == traffic(0.0, None)
    assert health["dns"]["10.0.0.9:53"]["traffic"] == traffic(0.0, None)
