"""The role's one question to the model (filter lb_role_plan); the plan itself: model/test_role.py."""
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.antsle.antman.plugins.filter.lb_role_plan import FilterModule, lb_role_plan

GROUPS = {"web": ["w1"]}
HOSTVARS = {"w1": {"antman_lb_address": "10.1.1.2"}}
RULE = {"name": "site", "server_name": "site.test", "server_port": 8080, "upstream_group": "web"}
BASE = {"rules_dir": "/etc/nginx/antman.d", "stream_conf_path": "/etc/nginx/antman-stream.conf"}


def test_registered():
    assert FilterModule().filters() == {"lb_role_plan": lb_role_plan}


def test_the_plan_carries_the_tls_policy_of_the_catch_all_servers():
    plan = lb_role_plan([RULE], GROUPS, HOSTVARS, **BASE)
    assert plan["http_ports"] == [8080] and plan["rules"][0]["name"] == "site"
    assert any(line.startswith("ssl_protocols ") for line in plan["tls_policy"])


def test_problems_are_listed_together_naming_rules_and_variables():
    with pytest.raises(AnsibleFilterError) as caught:
        lb_role_plan([dict(RULE, server_port=0)], GROUPS, HOSTVARS, rules_dir="etc",
                     stream_conf_path=BASE["stream_conf_path"])
    message = str(caught.value)
    assert message.startswith("invalid antman_lb_rules or role variables:")
    assert 'antman_lb_rules_dir: "etc" is not an absolute path' in message
    assert "antman_lb_rules[0] (rule 'site'): server_port" in message


def test_an_unknown_option_is_an_error_not_a_traceback():
    with pytest.raises(AnsibleFilterError, match="lb_role_plan: .*unexpected keyword argument 'rules_dri'"):
        lb_role_plan([RULE], GROUPS, HOSTVARS, rules_dri="/x", stream_conf_path="/etc/nginx/s.conf")
