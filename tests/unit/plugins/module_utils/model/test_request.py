"""A request is parsed once into names, canonical rules and certificate content."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.request import config_request, rule_request
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError

CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nTOPSECRET\n-----END PRIVATE KEY-----\n"
WEB = {"name": "web", "server_name": "web.test", "upstreams": [{"address": "10.0.0.1"}]}
SHOP = {"name": "shop", "server_name": "shop.test", "server_port": 443, "upstreams": [{"address": "10.0.0.2"}],
        "tls": {"certificate_content": CERT, "key_content": KEY}}


def test_config_request_holds_rules_and_content_apart():
    request = config_request([WEB, SHOP], state="replaced")
    assert request.names == ["web", "shop"] and list(request.rules) == ["web", "shop"]
    assert "TOPSECRET" not in repr(request.rules) and request.rules["shop"]["tls"]["key_sha256"]
    assert list(request.contents) == ["shop"] and request.contents["shop"].key == KEY.encode()


def test_every_problem_is_reported_at_once_names_and_fields():
    with pytest.raises(RuleError) as error:
        config_request([WEB, dict(WEB, server_port=0), {"name": "../x"}], state="replaced")
    text = str(error.value)
    assert 'config[1].name: "web" is listed twice' in text and "config[2].name" in text


def test_an_empty_config_is_refused_where_it_would_wipe_the_rule_set():
    with pytest.raises(RuleError, match="config: empty; state overridden"):
        config_request([], state="overridden")
    assert config_request(None, complete=False, needed=False, state="deleted").names == []


def test_merged_entries_wait_for_the_host_and_are_merged_once():
    request = config_request([{"name": "web", "read_timeout": "30s"}, SHOP], complete=False, state="merged")
    assert request.rules is None and request.contents == {}
    have = {"web": config_request([WEB], state="replaced").rules["web"]}
    merged = request.merged_over(have)
    assert merged["web"]["read_timeout"] == "30s" and merged["web"]["server_name"] == ["web.test"]
    assert list(request.contents) == ["shop"]


def test_rule_request_present_and_absent():
    request = rule_request(dict(SHOP), replace=True)
    assert request.names == ["shop"] and request.contents["shop"].certificate == CERT.encode()
    # Without replace the rule waits for the host: an existing rule keeps the fields not given.
    edit = rule_request({"name": "shop", "read_timeout": "30s"})
    assert edit.rules is None
    kept = edit.merged_over({"shop": request.rules["shop"]})["shop"]
    assert kept["read_timeout"] == "30s" and kept["server_port"] == 443 and kept["tls"] == request.rules["shop"]["tls"]
    with pytest.raises(RuleError, match="^rule 'shop': server_name: missing"):
        edit.merged_over({})  # a new rule must be complete
    absent = rule_request({"name": "shop"}, present=False)
    assert absent.rules == {"shop": None}
    with pytest.raises(RuleError, match="name: "):
        rule_request({"name": "no good"}, present=False)
