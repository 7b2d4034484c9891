"""The rule schema is the one source: the model, the argument specs and the docs all come from it."""
import yaml

from ansible_collections.antsle.antman.plugins.modules import lb_rule, lb_rules
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import normalize_rule
from ansible_collections.antsle.antman.plugins.module_utils.model.schema import (
    FIELD_ORDER, HTTP_ONLY, PROTOCOL_SPECIFIC, PROTOCOLS, RULE, RULE_FIELDS, Field, config_argument_spec,
    defaults_for, option_docs, rule_argument_spec)


def test_field_order_is_the_schema_order_and_every_field_is_described():
    assert FIELD_ORDER == tuple(field.name for field in RULE_FIELDS)
    for field in RULE_FIELDS:
        assert field.description and all(isinstance(text, str) and text for text in field.description), field.name


def test_defaults_per_protocol_come_from_the_fields():
    assert defaults_for("http")["read_timeout"] == "5s" and defaults_for("tcp")["read_timeout"] == "600s"
    assert defaults_for("udp")["read_timeout"] == "10s"
    assert "keepalive" in defaults_for("http") and "keepalive" not in defaults_for("tcp")
    for protocol in PROTOCOLS:
        rule = normalize_rule(dict({"name": "x", "protocol": protocol, "upstreams": [{"address": "10.0.0.1"}]},
                                   **({"server_name": "x.test"} if protocol == "http" else {})))
        for key, value in defaults_for(protocol).items():
            if key != "protocol":
                assert rule[key] == value, (protocol, key)


def test_http_only_and_protocol_specific_fields():
    assert set(HTTP_ONLY) == {"server_name", "retry_non_idempotent", "keepalive", "tls", "redirect_http", "websocket",
                              "websocket_timeout", "client_max_body_size", "buffering", "http2"}
    assert set(PROTOCOL_SPECIFIC) == set(HTTP_ONLY) | {"read_timeout", "rate_limit", "real_ip_from", "proxy_protocol",
                                                       "proxy_protocol_upstream", "health_check"}


def test_argument_specs_show_the_defaults_a_rule_is_created_with():
    """Every field with a default shows it (the modules read only what a task gives, so a default in
    the spec never reaches an existing rule, nor a tcp rule); a field computed from the rule has none."""
    spec = rule_argument_spec()
    assert list(spec) == list(FIELD_ORDER)
    assert spec["server_port"]["default"] == 80 and spec["read_timeout"]["default"] == "5s"
    assert spec["keepalive"]["default"] == 32 and spec["buffering"]["default"] is True
    assert spec["proxy_protocol"]["default"] is False and spec["proxy_protocol_upstream"]["default"] is False
    for computed in ("next_upstream_tries", "next_upstream_timeout", "tls", "server_name", "upstreams", "allow_from"):
        assert "default" not in spec[computed], computed
    assert spec["tls"]["options"]["protocols"]["default"] == ["TLSv1.2", "TLSv1.3"]
    assert spec["rate_limit"]["options"]["burst"]["default"] == 0
    assert spec["tls"]["options"]["key_content"]["no_log"] is True
    assert spec["upstreams"]["options"]["address"]["required"] is True
    config = config_argument_spec()["config"]["options"]
    assert config == spec


def test_docs_name_the_defaults_of_the_other_protocols_and_point_into_config():
    docs = yaml.safe_load(lb_rule.DOCUMENTATION)["options"]
    assert docs["read_timeout"]["default"] == "5s"
    assert ("The default shown is for http rules; not given, a tcp rule has V(600s) and a udp rule has V(10s)."
            in docs["read_timeout"]["description"])
    assert docs["keepalive"]["description"][0].startswith("http only.") and docs["keepalive"]["default"] == 32
    assert not any("Default" in text for text in docs["keepalive"]["description"])
    config = yaml.safe_load(lb_rules.DOCUMENTATION)["options"]["config"]["suboptions"]
    assert "O(config[].fail_timeout)" in " ".join(config["max_fails"]["description"])
    assert config["max_fails"]["default"] == 5


def test_a_new_field_reaches_specs_and_docs_without_anything_else():
    field = Field("example", "int", ["An example option."], default=7, parse=int)
    assert option_docs([field])["example"] == {"description": ["An example option."], "type": "int", "default": 7}
    assert RULE["server_port"].default_for("tcp") == 80
