"""The load_balancer role's lb_host_apply, its rules part on a fake host: lb_rules' writing states,
the same result as lb_rules, rules validated and keys never shown. (Its check mode against the base
part's pending change: test_lb_host_apply.py.)"""
from ansible_collections.antsle.antman.plugins.modules import lb_rules

WEB = {"name": "web", "server_name": "web.local", "upstreams": [{"address": "10.0.0.1", "weight": 3},
                                                                {"address": "10.0.0.2"}]}
API = {"name": "api", "server_name": "api.local", "server_port": 8080, "upstreams": [{"address": "10.0.0.3"}]}
KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"


def names(rules):
    return [rule["name"] for rule in rules]


def test_the_same_result_as_lb_rules(host, run_part, run_module):
    args = host.params(state="overridden", config=[WEB, API])
    failed, predicted = run_part("rules", args, check_mode=True, diff=True)
    assert not failed and predicted["changed"] and not host.files()
    failed, result = run_part("rules", args, diff=True)
    assert not failed and result["changed"] and result["reloaded"] and len(host.reloads) == 1
    assert result["changes"] == predicted["changes"] == [{"name": "web", "action": "created"},
                                                         {"name": "api", "action": "created"}]
    assert result["diff"] == predicted["diff"] and names(result["after"]) == ["api", "web"]
    files = host.files()
    failed, again = run_module(lb_rules.main, host.params(state="overridden", config=[WEB, API]))
    assert not failed and not again["changed"] and host.files() == files
    failed, deleted = run_part("rules", host.params(state="deleted"))
    assert not failed and deleted["changes"] == [{"name": "api", "action": "deleted"}, {"name": "web", "action": "deleted"}]


def test_rules_are_validated_and_keys_never_shown(host, run_part):
    bad = dict(WEB, upstreams=[{"address": "10.0.0.1", "wieght": 3}], tls={"certificate": "/x.crt", "key": KEY})
    failed, result = run_part("rules", host.params(state="replaced", config=[bad]))
    assert failed and not host.files()
    assert any("wieght" in problem for problem in result["problems"]), result["problems"]
    assert "MIGHAgEAMBMG" not in str(result)
