import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError, merge_rule, normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import FIELD_ORDER, defaults_for
from ansible_collections.antsle.antman.plugins.module_utils.model.rule_set import check_rule_set


def rule(**fields):
    base = {"name": "web", "server_name": "web.local", "upstreams": [{"address": "10.0.0.1"}]}
    base.update(fields)
    return base


def problems_of(raw):
    with pytest.raises(RuleError) as error:
        normalize_rule(raw)
    return str(error.value)


def test_defaults_fill_every_field_in_a_fixed_order():
    canonical = normalize_rule(rule())
    assert list(canonical) == [key for key in FIELD_ORDER if key != "proxy_protocol_upstream"]  # that one is tcp only
    assert canonical["upstreams"] == [{"address": "10.0.0.1:80", "weight": 1, "backup": False, "down": False,
                                       "max_fails": None, "fail_timeout": None}]
    for key, value in defaults_for("http").items():
        assert canonical[key] == value
    assert canonical["read_timeout"] == "5s" and canonical["keepalive"] == 32 and canonical["tls"] is None


def test_equivalent_inputs_give_equal_rules():
    a = normalize_rule(rule(server_name="Example.COM", upstreams=[{"address": "10.0.0.1"}, {"address": "B.local"}]))
    b = normalize_rule(rule(server_name=["example.com"], server_port=80, read_timeout="5000ms",
                            upstreams=[{"address": "10.0.0.1:80", "weight": 1}, {"address": "b.local:80"}]))
    assert a == b


def test_upstream_order_is_kept():
    canonical = normalize_rule(rule(upstreams=[{"address": "b"}, {"address": "a"}]))
    assert [u["address"] for u in canonical["upstreams"]] == ["b:80", "a:80"]


@pytest.mark.parametrize("fields, expected", [
    ({"server_port": 0}, "server_port: 0 is out of range"),
    ({"server_port": "http"}, 'server_port: "http" is not an integer'),
    ({"upstreams": []}, "upstreams: the list is empty"),
    ({"upstreams": [{"address": "a"}, {"address": "a:80"}]}, "upstreams[1].address"),
    ({"upstreams": [{"address": "a", "backup": True}]}, "every upstream is backup or down"),
    ({"upstreams": [{"address": "a", "down": True}, {"address": "b", "backup": True}]}, "every upstream is backup or down"),
    ({"method": "ip_hash", "upstreams": [{"address": "a"}, {"address": "b", "backup": True}]}, "ip_hash"),
    ({"method": "random"}, 'method: "random" is not one of'),
    ({"upstreams": [{"address": "a", "weight": 0}]}, "upstreams[0].weight: 0 is out of range"),
    ({"upstreams": [{"address": "a", "weight": True}]}, "upstreams[0].weight: true is a boolean"),
    ({"upstreams": [{"address": "a", "wieght": 2}]}, 'upstreams[0]: unsupported field "wieght"'),
    ({"upstreams": ["10.0.0.1"]}, "upstreams[0]: \"10.0.0.1\" is a str"),
    ({"server_name": "a.com; include /etc/passwd"}, "server_name: "),
    ({"server_name": {"a": 1}}, "server_name: "),
    ({"colour": "red"}, 'unsupported field "colour"'),
    ({"name": "../etc"}, "name: "),
    ({"keepalive": -1}, "keepalive: -1 is out of range"),
    ({"connect_timeout": "90s"}, "connect_timeout: \"90s\" is out of range"),
    ({"fail_timeout": "1500ms"}, "whole number of seconds"),
])
def test_bad_rules_name_field_and_value(fields, expected):
    assert expected in problems_of(rule(**fields))


def test_every_problem_is_reported_at_once():
    message = problems_of(rule(server_port=0, keepalive=-1, upstreams=[{"address": "x y"}]))
    assert "server_port" in message and "keepalive" in message and "upstreams[0].address" in message
    assert message.startswith("rule 'web': ")


def test_missing_required_fields():
    message = problems_of({"name": "web"})
    assert "server_name: missing" in message and "upstreams: missing" in message
    assert "name: missing" in problems_of({})


def test_merge_keeps_unmentioned_fields_and_upstreams():
    existing = normalize_rule(rule(read_timeout="30s", upstreams=[{"address": "a", "weight": 3}, {"address": "b"}]))
    merged = normalize_rule(merge_rule(existing, {"name": "web", "upstreams": [{"address": "b:80", "down": True},
                                                                               {"address": "c"}]}))
    assert merged["read_timeout"] == "30s"
    assert [(u["address"], u["weight"], u["down"]) for u in merged["upstreams"]] == [
        ("a:80", 3, False), ("b:80", 1, True), ("c:80", 1, False)]


def test_rule_set_clashes():
    web = normalize_rule(rule())
    other = normalize_rule(rule(name="other", server_name=["x.local", "WEB.local"]))
    with pytest.raises(RuleError, match="server_name 'web.local' on server_port 80 is already used by rule 'web'"):
        check_rule_set([web, other], changing={"other"})
    check_rule_set([web, normalize_rule(rule(name="other", server_port=8080))])
    with pytest.raises(RuleError, match="case-insensitive"):
        check_rule_set([web, normalize_rule(rule(name="WEB", server_name="x.local"))])


def test_merged_rate_limit_keeps_the_options_not_given():
    existing = normalize_rule(rule(rate_limit={"requests_per_second": 10, "burst": 5}))
    merged = normalize_rule(merge_rule(existing, {"name": existing["name"], "rate_limit": {"burst": 20, "requests_per_second": None}}))
    assert merged["rate_limit"] == {"requests_per_second": 10, "burst": 20}
    assert normalize_rule(merge_rule(existing, {"name": existing["name"], "allow_from": ["10.0.0.0/8"]}))["allow_from"] == ["10.0.0.0/8"]


def test_a_new_protocol_replaces_the_rate_limit():
    existing = normalize_rule({"name": "ssh", "protocol": "tcp", "server_port": 2222, "rate_limit": {"connections": 2},
                               "upstreams": [{"address": "10.0.0.1:22"}]})
    merged = normalize_rule(merge_rule(existing, {"name": "ssh", "protocol": "http", "server_name": "ssh.local",
                                                  "rate_limit": {"requests_per_second": 5}}))
    assert merged["rate_limit"] == {"requests_per_second": 5, "burst": 0}
