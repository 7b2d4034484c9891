"""What the role asks the model about its rule set (filter lb_rule_set_facts)."""
import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.antsle.antman.plugins.filter.lb_rule_set_facts import FilterModule, lb_rule_set_facts

CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nTOPSECRET\n-----END PRIVATE KEY-----\n"
GROUPS = {"web": ["w1", "w2"]}
HOSTVARS = {"w1": {"antman_lb_address": "10.1.1.2"}, "w2": {"antman_lb_address": "10.1.1.3", "antman_lb_weight": 2}}
RULES = [
    {"name": "site", "server_name": "site.test", "server_port": 8080, "upstream_group": "web"},
    {"name": "shop", "server_name": "shop.test", "server_port": 443, "redirect_http": True, "upstream_group": "web",
     "tls": {"certificate_content": CERT, "key_content": KEY}},
    {"name": "ssh", "protocol": "tcp", "server_port": 2222, "upstream_group": "web", "upstream_port": 22},
]


def test_registered():
    assert FilterModule().filters() == {"lb_rule_set_facts": lb_rule_set_facts}


def test_ports_tls_ports_and_stream_come_from_the_model_and_hold_no_key():
    facts = lb_rule_set_facts(RULES, GROUPS, HOSTVARS, [8443])
    assert facts["http_ports"] == [80, 443, 8080, 8443] and facts["tls_ports"] == [443] and facts["stream"] is True
    assert [r["name"] for r in facts["rules"]] == ["site", "shop", "ssh"]
    assert "TOPSECRET" not in json.dumps(facts)
    assert [u["weight"] for u in facts["rules"][0]["upstreams"]] == [1, 2]
    plain = lb_rule_set_facts(RULES[:1], GROUPS, HOSTVARS)
    assert plain["http_ports"] == [8080] and plain["tls_ports"] == [] and plain["stream"] is False


def test_bad_rules_and_ports_are_named():
    with pytest.raises(AnsibleFilterError, match=r"antman_lb_rules\[0\] \(rule 'site'\): server_port"):
        lb_rule_set_facts([dict(RULES[0], server_port=0)], GROUPS, HOSTVARS)
    with pytest.raises(AnsibleFilterError, match=r"antman_lb_extra_ports\[1\]: 70000 is out of range"):
        lb_rule_set_facts(RULES[:1], GROUPS, HOSTVARS, [81, 70000])
