"""The load_balancer role's lb_inventory_rules on a fake host: lb_rules' writing states, and the
check mode of a run whose base configuration is not on the host yet (include_pending)."""
from ansible_collections.antsle.antman.plugins.modules import lb_rules
from ansible_collections.antsle.antman.plugins.modules.__load_balancer import lb_inventory_rules

WEB = {"name": "web", "server_name": "web.local", "upstreams": [{"address": "10.0.0.1", "weight": 3},
                                                                {"address": "10.0.0.2"}]}
API = {"name": "api", "server_name": "api.local", "server_port": 8080, "upstreams": [{"address": "10.0.0.3"}]}
KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"


def names(rules):
    return [rule["name"] for rule in rules]


def test_the_same_result_as_lb_rules(host, run_module):
    args = host.params(state="overridden", config=[WEB, API])
    failed, predicted = run_module(lb_inventory_rules.main, args, check_mode=True, diff=True)
    assert not failed and predicted["changed"] and not host.files()
    failed, result = run_module(lb_inventory_rules.main, args, diff=True)
    assert not failed and result["changed"] and result["reloaded"] and len(host.reloads) == 1
    assert result["changes"] == predicted["changes"] == [{"name": "web", "action": "created"},
                                                         {"name": "api", "action": "created"}]
    assert result["diff"] == predicted["diff"] and names(result["after"]) == ["api", "web"]
    files = host.files()
    failed, again = run_module(lb_rules.main, host.params(state="overridden", config=[WEB, API]))
    assert not failed and not again["changed"] and host.files() == files
    failed, deleted = run_module(lb_inventory_rules.main, host.params(state="deleted"))
    assert not failed and deleted["changes"] == [{"name": "api", "action": "deleted"}, {"name": "web", "action": "deleted"}]


def test_include_pending_plans_in_check_mode_a_host_whose_base_configuration_is_not_there_yet(host, run_module):
    """What the role's check mode needs on a fresh host: the rules as the real run will create them;
    a real run still needs nginx to include rules_dir."""
    with open(host.conf, "w") as handle:
        handle.write("events {}\nhttp {\n}\n")
    args = host.params(state="overridden", config=[WEB, API])
    failed, result = run_module(lb_inventory_rules.main, args, check_mode=True)
    assert failed and "is not included from the http context" in result["msg"]
    failed, result = run_module(lb_inventory_rules.main, dict(args, include_pending=True), check_mode=True, diff=True)
    assert not failed and result["changed"] and names(result["after"]) == ["api", "web"]
    assert result["changes"] == [{"name": "web", "action": "created"}, {"name": "api", "action": "created"}]
    assert [d["after_header"] for d in result["diff"]] == ["%s/web.conf" % host.rules_dir, "%s/api.conf" % host.rules_dir]
    assert not host.files() and not host.reloads
    failed, result = run_module(lb_inventory_rules.main, dict(args, include_pending=True))
    assert failed and "is not included from the http context" in result["msg"] and not host.files()


def test_rules_are_validated_and_keys_never_shown(host, run_module):
    bad = dict(WEB, upstreams=[{"address": "10.0.0.1", "wieght": 3}], tls={"certificate": "/x.crt", "key": KEY})
    failed, result = run_module(lb_inventory_rules.main, host.params(state="replaced", config=[bad]))
    assert failed and not host.files()
    assert any("wieght" in problem for problem in result["problems"]), result["problems"]
    assert "MIGHAgEAMBMG" not in str(result)
