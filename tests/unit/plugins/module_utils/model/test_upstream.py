"""lb_upstream's model: its options parsed (every problem named at once), and the plan of one
address across a rule set (matching, what changes, what is refused before anything is touched)."""
import math
from collections import OrderedDict

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.fields import FieldError
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.upstream import (
    DISABLED, ENABLED, format_status_ranges, parse_http_path, parse_request, parse_seconds, parse_status_ranges,
    plan_state, upstream_of)


def rules(*raws):
    return OrderedDict((r["name"], r) for r in sorted((normalize_rule(raw) for raw in raws), key=lambda r: r["name"]))


SHOP = {"name": "shop", "server_name": "shop.local", "upstreams": [
    {"address": "10.0.0.1"}, {"address": "10.0.0.2"}, {"address": "10.0.0.3", "backup": True}]}
BLOG = {"name": "blog", "server_name": "blog.local", "server_port": 8080, "upstreams": [
    {"address": "10.0.0.1:80", "weight": 3}, {"address": "10.0.0.4"}]}
SSH = {"name": "ssh", "protocol": "tcp", "server_port": 2222, "upstreams": [
    {"address": "10.0.0.1:22"}, {"address": "10.0.0.2:22"}]}
DNS = {"name": "dns", "protocol": "udp", "server_port": 53, "upstreams": [
    {"address": "10.0.0.1:53"}, {"address": "10.0.0.2:53"}]}
ALONE = {"name": "alone", "server_name": "alone.local", "upstreams": [
    {"address": "10.0.0.1"}, {"address": "10.0.0.5", "backup": True}]}


def request(**options):
    options.setdefault("address", "10.0.0.1")
    options.setdefault("state", DISABLED)
    return parse_request(options)


# --- options ---------------------------------------------------------------------------------------

def test_defaults_and_canonical_address():
    req = request(address="10.0.0.1")
    assert req.address == "10.0.0.1:80" and req.state == DISABLED and req.rules is None
    assert req.wait_drained is True and req.timeout == 60.0 and req.allow_missing is False
    assert req.health.kind == "tcp" and req.health.healthy_after == 2 and req.health.interval == 1.0
    assert req.health.statuses == [(200, 399)] and req.health.describe() == "TCP connect"
    assert request(address="[2001:DB8:0::1]").address == "[2001:db8::1]:80"
    assert request(address="App.Local:8080").address == "app.local:8080"


def test_http_health_check_and_no_health_check():
    req = request(state=ENABLED, health_path="/health?full=1", health_status=["200", "301-302"], healthy_after=3,
                  health_interval="0.5")
    assert req.health.kind == "http" and req.health.path == "/health?full=1"
    assert req.health.statuses == [(200, 200), (301, 302)] and req.health.interval == 0.5
    assert req.health.describe() == "HTTP GET /health?full=1 expecting 200, 301-302"
    assert request(state=ENABLED, health_check=False).health is None


def test_every_bad_option_is_named_at_once():
    with pytest.raises(RuleError) as info:
        parse_request({"address": "10.0.0.1; x", "state": "up", "rules": ["ok", "../x"], "timeout": 0,
                       "health_path": "health", "health_status": ["2xx"], "healthy_after": 0,
                       "health_interval": "fast", "wait_drained": "maybe", "allow_missing": 2, "health_check": "yes!"})
    fields = [problem.split(":")[0] for problem in info.value.problems]
    assert fields == ["address", "state", "rules", "wait_drained", "timeout", "health_check", "health_path",
                      "health_status", "healthy_after", "health_interval", "allow_missing"]
    assert 'address: "10.0.0.1; x" is not an address' in str(info.value)
    assert 'rules: [1]: "../x" is not a valid rule name' in str(info.value)
    assert "timeout: 0 is out of range (0.1-86400 seconds)" in str(info.value)


@pytest.mark.parametrize("value, expected", [
    (1, 1.0), ("2.5", 2.5), (" 3 ", 3.0), (0.1, 0.1), (86400, 86400.0)])
def test_seconds_accepted(value, expected):
    assert parse_seconds(value, 0.1, 86400) == expected


@pytest.mark.parametrize("value, error", [
    (True, "true is a boolean"), (float("nan"), "NaN is out of range"), (float("inf"), "Infinity is out of range"),
    (-1, "-1 is out of range"), (86401, "86401 is out of range"), (10 ** 400, "out of range"),
    ("1e3", '"1e3" is not a number of seconds'), ("5s", '"5s" is not a number'), ([5], "[5] is a list"),
    ("", '"" is not a number')])
def test_seconds_refused(value, error):
    with pytest.raises(FieldError) as info:
        parse_seconds(value, 0.1, 86400)
    assert error in str(info.value)


@pytest.mark.parametrize("path", ["/", "/health", "/status?full=1&x=a%20b", "/a/b-c_d.e~f!$&'()*+,;=:@"])
def test_health_paths_accepted(path):
    assert parse_http_path(path) == path


@pytest.mark.parametrize("path", ["health", "", "/a b", "/a\r\nHost: evil", "/a\n", "/caf\u00e9", "/%zz", "/a#frag",
                                  "http://evil/", "/" + "a" * 1024, "/a\x00", "/<script>", '/"x"', "/a\\b", 5])
def test_health_paths_refused(path):
    with pytest.raises(FieldError):
        parse_http_path(path)


def test_status_ranges():
    assert parse_status_ranges("200-399") == [(200, 399)]
    assert parse_status_ranges(204) == [(204, 204)]
    assert parse_status_ranges(["200", 301, "500-599"]) == [(200, 200), (301, 301), (500, 599)]
    assert format_status_ranges([(200, 200), (301, 399)]) == "200, 301-399"
    for bad, error in [("399-200", '"399-200" is not a status range within 100-599'), ("99", '"99" is not a status'),
                       ("600", '"600" is not a status range'), ([], "[] is not a status"), ([True], "[0]: true"),
                       ("200,300", '"200,300" is not a status'), ("2xx", '"2xx" is not'), ({"a": 1}, "is not a status")]:
        with pytest.raises(FieldError) as info:
            parse_status_ranges(bad)
        assert error in str(info.value), (bad, str(info.value))


# --- the plan --------------------------------------------------------------------------------------

def test_disable_matches_every_rule_canonically_and_changes_only_the_upstream():
    have = rules(SHOP, BLOG, SSH)
    plan = plan_state(have, request(address="10.0.0.1"))
    assert plan.matched == ["blog", "shop"] and plan.changing == ["blog", "shop"]
    for name in ("blog", "shop"):
        new = plan.desired[name]
        assert upstream_of(new, "10.0.0.1:80")["down"] is True
        untouched = [u for u in new["upstreams"] if u["address"] != "10.0.0.1:80"]
        assert untouched == [u for u in have[name]["upstreams"] if u["address"] != "10.0.0.1:80"]
        assert dict(new, upstreams=None) == dict(have[name], upstreams=None)
    plan = plan_state(have, request(address="10.0.0.1:22"))
    assert plan.matched == ["ssh"] and upstream_of(plan.desired["ssh"], "10.0.0.1:22")["down"]


def test_already_in_state_is_matched_but_unchanged():
    have = rules(SHOP, dict(BLOG, upstreams=[{"address": "10.0.0.1", "down": True}, {"address": "10.0.0.4"}]))
    plan = plan_state(have, request())
    assert plan.matched == ["blog", "shop"] and plan.changing == ["shop"] and list(plan.desired) == ["shop"]
    plan = plan_state(have, request(state=ENABLED))
    assert plan.changing == ["blog"] and upstream_of(plan.desired["blog"], "10.0.0.1:80")["down"] is False


def test_rules_limit_the_match():
    plan = plan_state(rules(SHOP, BLOG), request(rules=["shop"], wait_drained=False))
    assert plan.matched == ["shop"] and plan.in_rotation_elsewhere == ["blog"]


def test_no_match_is_an_error_naming_the_address_unless_allowed():
    with pytest.raises(RuleError) as info:
        plan_state(rules(SHOP), request(address="10.0.0.9"))
    assert str(info.value) == ("address: 10.0.0.9:80 is not an upstream of any managed rule; set allow_missing: true to "
                               "make this a no-op")
    plan = plan_state(rules(SHOP), request(address="10.0.0.9", allow_missing=True))
    assert plan.matched == [] and plan.desired == {}


def test_listed_rules_must_exist_and_have_the_address():
    with pytest.raises(RuleError) as info:
        plan_state(rules(SHOP, BLOG), request(address="10.0.0.2", rules=["nope", "blog", "shop"]))
    assert info.value.problems == ["rules: rule 'nope' is not a managed rule", "rules: rule 'blog' has no upstream 10.0.0.2:80"]
    plan = plan_state(rules(SHOP, BLOG), request(address="10.0.0.2", rules=["nope", "blog", "shop"], allow_missing=True))
    assert plan.matched == ["shop"]


def test_disabling_the_last_upstream_in_rotation_is_refused_by_rule_name():
    have = rules(SHOP, ALONE)
    with pytest.raises(RuleError) as info:
        plan_state(have, request())
    assert info.value.problems == [
        "rule 'alone': disabling 10.0.0.1:80 would leave no upstream in rotation (every upstream is backup or down); "
        "enable another upstream of the rule first"]
    # the other rule alone is fine; and disabling a backup never leaves a rule without a primary
    assert plan_state(have, request(rules=["shop"], wait_drained=False)).changing == ["shop"]
    assert plan_state(have, request(address="10.0.0.5")).changing == ["alone"]


def test_a_drain_that_could_never_finish_is_refused():
    with pytest.raises(RuleError) as info:
        plan_state(rules(SHOP, BLOG), request(rules=["shop"]))
    assert info.value.problems == [
        "wait_drained: 10.0.0.1:80 stays in rotation in rule 'blog', which rules does not list, so nginx's connections "
        "to it would never drain; list it in rules too, or set wait_drained: false"]
    # down there already: nothing keeps it in rotation
    blog_down = dict(BLOG, upstreams=[{"address": "10.0.0.1", "down": True}, {"address": "10.0.0.4"}])
    assert plan_state(rules(SHOP, blog_down), request(rules=["shop"])).changing == ["shop"]


def test_a_udp_only_address_cannot_be_health_checked():
    with pytest.raises(RuleError) as info:
        plan_state(rules(dict(DNS, upstreams=[{"address": "10.0.0.1:53", "down": True}, {"address": "10.0.0.2:53"}])),
                   request(address="10.0.0.1:53", state=ENABLED))
    assert "health_check: 10.0.0.1:53 is only an upstream of udp rules (dns)" in str(info.value)
    assert plan_state(rules(dict(DNS, upstreams=[{"address": "10.0.0.1:53", "down": True}, {"address": "10.0.0.2:53"}])),
                      request(address="10.0.0.1:53", state=ENABLED, health_check=False)).changing == ["dns"]


def test_the_plan_never_changes_its_input():
    have = rules(SHOP, BLOG)
    before = repr(have)
    plan_state(have, request())
    assert repr(have) == before


def test_nan_timeout_message_is_one_line():
    with pytest.raises(RuleError) as info:
        request(timeout=math.nan)
    assert str(info.value) == "timeout: NaN is out of range (0.1-86400 seconds)"
