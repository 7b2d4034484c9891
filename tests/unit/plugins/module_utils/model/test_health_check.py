"""A rule's health_check: defaults per protocol, quiet in the rule file, the merged state, the Host
a probe sends, and fail open (which unhealthy upstreams a rule may hold out)."""
import json

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.health_check import (
    health_check_warning, is_checked, probe_host, rotation)
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, merge_rule, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import rule_warnings
from ansible_collections.antsle.antman.plugins.module_utils.nginx.render import render_rule

HTTP_DEFAULT = {"enabled": True, "type": "http", "path": "/", "host": None, "status": ["200-499"], "interval": "1s",
                "timeout": "1s", "fails": 2, "passes": 2}
TCP_DEFAULT = {"enabled": True, "type": "tcp", "interval": "1s", "timeout": "1s", "fails": 2, "passes": 2}


def web(**fields):
    raw = {"name": "web", "server_name": "web.local",
           "upstreams": [{"address": "10.0.0.1"}, {"address": "10.0.0.2"}, {"address": "10.0.0.3"}]}
    raw.update(fields)
    return normalize_rule(raw)


def ssh(**fields):
    raw = {"name": "ssh", "protocol": "tcp", "server_port": 2222, "upstreams": [{"address": "10.0.0.1:22"}]}
    raw.update(fields)
    return normalize_rule(raw)


def header(rule):
    return json.loads(render_rule(rule, "/etc/nginx/antman.d").splitlines()[1].split(": ", 1)[1])


def test_checks_are_on_by_default_for_http_and_tcp_rules_and_quiet_in_the_file():
    assert web()["health_check"] == HTTP_DEFAULT and is_checked(web())
    assert ssh()["health_check"] == TCP_DEFAULT and is_checked(ssh())
    udp = normalize_rule({"name": "dns", "protocol": "udp", "server_port": 53, "upstreams": [{"address": "10.0.0.1:53"}]})
    assert "health_check" not in udp and not is_checked(udp)
    assert "health_check" not in header(web()) and "health_check" not in header(ssh())
    # two rules that differ only in a default spelled out are the same rule, and the same file
    assert web(health_check={"fails": 2, "path": "/"}) == web()
    assert render_rule(web(health_check={"interval": "1000ms"}), "/x") == render_rule(web(), "/x")


def test_options_given_are_canonical_and_kept_in_the_header():
    rule = web(health_check={"path": "/health?full=1", "host": "App.Example.COM:8080", "status": [200, "301-399", "204-204"],
                             "interval": "1.5", "timeout": "500ms", "fails": "3", "passes": 1, "enabled": "yes"})
    assert rule["health_check"] == dict(HTTP_DEFAULT, path="/health?full=1", host="app.example.com:8080",
                                        status=["200", "301-399", "204"], interval="1500ms", timeout="500ms", fails=3, passes=1)
    assert header(rule)["health_check"] == rule["health_check"]
    assert normalize_rule(header(rule)) == rule


def test_status_ranges_listed_twice_are_refused_once_canonical():
    with pytest.raises(RuleError, match=r'health_check.status\[1\]: "200-200" is listed twice'):
        web(health_check={"status": ["200", "200-200"]})


def test_an_http_rule_may_be_checked_by_tcp_and_back():
    rule = web(health_check={"type": "tcp", "fails": 5})
    assert rule["health_check"] == dict(TCP_DEFAULT, fails=5)
    back = normalize_rule(merge_rule(rule, {"health_check": {"type": "http"}}))
    assert back["health_check"] == dict(HTTP_DEFAULT, fails=5)


def test_merged_keeps_the_options_not_given():
    rule = web(health_check={"path": "/health", "fails": 4})
    merged = normalize_rule(merge_rule(rule, {"health_check": {"fails": 3}}))
    assert merged["health_check"] == dict(HTTP_DEFAULT, path="/health", fails=3)
    # a new type drops the options of the old one
    as_tcp = normalize_rule(merge_rule(rule, {"health_check": {"type": "tcp"}}))
    assert as_tcp["health_check"] == dict(TCP_DEFAULT, fails=4)
    # a new protocol starts from that protocol's check
    tcp = normalize_rule(merge_rule(rule, {"protocol": "tcp", "server_name": None, "server_port": 2222}))
    assert tcp["health_check"] == TCP_DEFAULT


@pytest.mark.parametrize("fields, message", [
    ({"health_check": {"type": "http"}}, 'health_check.type: "http" is not possible for a tcp rule'),
    ({"health_check": {"host": "a.local"}}, "health_check.host: does not apply to type tcp"),
])
def test_tcp_rules_are_checked_by_connecting_only(fields, message):
    with pytest.raises(RuleError, match=message):
        ssh(**fields)


def test_probe_host_is_the_option_the_first_exact_server_name_or_the_address():
    assert probe_host(web(health_check={"host": "app.local"}), "10.0.0.1:80") == ("app.local", "host")
    assert probe_host(web(server_name=["www.example.com", "*.example.com"]), "10.0.0.1:80") == (
        "www.example.com", "server_name")
    wildcard = web(server_name=["*.example.com", "example.com"])
    assert probe_host(wildcard, "10.0.0.1:80") == ("10.0.0.1:80", "address")
    (warning,) = [w for w in rule_warnings([wildcard]) if "health_check" in w]
    assert warning == health_check_warning(wildcard)
    assert '"*.example.com" is a wildcard' in warning and "set health_check.host" in warning
    assert health_check_warning(web(server_name="*.example.com", health_check={"host": "example.com"})) is None
    assert health_check_warning(web(server_name="*.example.com", health_check={"type": "tcp"})) is None
    assert health_check_warning(web(server_name="*.example.com", health_check={"enabled": False})) is None


def with_roles(*specs):
    """A rule from (address, role) pairs; role '' (primary), 'backup' or 'down'."""
    return web(upstreams=[{"address": address, "backup": role == "backup", "down": role == "down"}
                          for address, role in specs])


A, B, C, D = "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"


@pytest.mark.parametrize("specs, unhealthy, held, fail_open, serving", [
    ([(A, ""), (B, ""), (C, "")], {B}, {B}, False, (A, C)),
    ([(A, ""), (B, ""), (C, "")], {A, B}, {A, B}, False, (C,)),
    # every primary fails: they are held out and the backup serves (nginx 1.22 accepts it, http and stream)
    ([(A, ""), (B, ""), (C, "backup")], {A, B}, {A, B}, False, (C,)),
    ([(A, ""), (B, "backup")], {B}, {B}, False, (A,)),
    # nothing passes: everything stays in rotation (a broken health endpoint is not an outage)
    ([(A, ""), (B, ""), (C, "backup")], {A, B, C}, set(), True, (A, B)),
    ([(A, "")], {A}, set(), True, (A,)),
    # declared down: not in rotation, its verdict means nothing; the rest decide
    ([(A, ""), (B, "down"), (C, "")], {A, C}, set(), True, (A, C)),
    ([(A, ""), (B, "down"), (C, "")], {A, B}, {A}, False, (C,)),
    # verdicts of addresses the rule does not have are ignored
    ([(A, ""), (B, "")], {D}, set(), False, (A, B)),
])
def test_fail_open_never_leaves_a_rule_with_nothing_to_serve(specs, unhealthy, held, fail_open, serving):
    result = rotation(with_roles(*specs), unhealthy)
    assert (set(result.held_out), result.fail_open, result.serving) == (held, fail_open, serving)


def test_held_out_upstreams_are_rendered_down_and_nothing_else_changes():
    rule = with_roles((A, ""), (B, ""), (C, "backup"))
    plain = render_rule(rule, "/x")
    held = render_rule(rule, "/x", unhealthy={A})
    assert render_rule(rule, "/x", unhealthy=()) == plain
    changed = [(before, after) for before, after in zip(plain.splitlines(), held.splitlines()) if before != after]
    assert changed == [("    server 10.0.0.1:80 weight=1 max_fails=5 fail_timeout=10s;",
                        "    server 10.0.0.1:80 weight=1 max_fails=5 fail_timeout=10s down;"
                        "  # out of rotation: failed its health check")]
    # the header still holds the declared rule: reading the file back gives the rule, not the verdicts
    assert held.splitlines()[1] == plain.splitlines()[1]
    # fail open renders exactly what no verdict renders
    assert render_rule(rule, "/x", unhealthy={A, B, C}) == plain
