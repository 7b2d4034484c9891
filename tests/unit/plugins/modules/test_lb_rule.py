import os

from ansible_collections.antsle.antman.plugins.modules import lb_rule

RULE = {"name": "web", "server_name": "Web.Local", "upstreams": [{"address": "10.0.0.1", "weight": 3},
                                                                 {"address": "10.0.0.2"}]}


def test_create_then_idempotent(host, run_module):
    failed, result = run_module(lb_rule.main, host.params(**RULE))
    assert not failed and result["changed"] and result["reloaded"]
    assert result["rule"]["server_name"] == ["web.local"]
    assert result["config_file"] == host.rules_dir + "/web.conf"
    assert list(host.files()) == ["web.conf"]
    failed, result = run_module(lb_rule.main, host.params(**RULE))
    assert not failed and not result["changed"] and not result["reloaded"]
    assert len(host.reloads) == 1


def test_check_mode_predicts_and_changes_nothing(host, run_module):
    failed, result = run_module(lb_rule.main, host.params(**RULE), check_mode=True, diff=True)
    assert not failed and result["changed"] and not result["reloaded"]
    assert host.files() == {} and host.reloads == []
    assert "server 10.0.0.1:80 weight=3" in result["diff"]["after"] and result["diff"]["before"] == ""
    run_module(lb_rule.main, host.params(**RULE))
    failed, result = run_module(lb_rule.main, host.params(**RULE), check_mode=True)
    assert not result["changed"]


def test_edit_shows_diff_and_delete(host, run_module):
    run_module(lb_rule.main, host.params(**RULE))
    edited = dict(RULE, upstreams=[{"address": "10.0.0.1", "weight": 5}])
    failed, result = run_module(lb_rule.main, host.params(**edited), diff=True)
    assert result["changed"] and "weight=3" in result["diff"]["before"] and "weight=5" in result["diff"]["after"]
    failed, result = run_module(lb_rule.main, host.params(name="web", state="absent"), diff=True)
    assert result["changed"] and result["diff"]["after"] == "" and host.files() == {}
    failed, result = run_module(lb_rule.main, host.params(name="web", state="absent"))
    assert not result["changed"]


def test_bad_input_fails_before_touching_anything(host, run_module):
    run_module(lb_rule.main, host.params(**RULE))
    before = host.files()
    bad = dict(RULE, server_name="evil.com; return 200 pwned", upstreams=[{"address": "http://x"}])
    failed, result = run_module(lb_rule.main, host.params(**bad))
    assert failed and "server_name" in result["msg"] and "upstreams[0].address" in result["msg"]
    assert "http://x" in result["msg"]
    assert host.files() == before and len(host.reloads) == 1


def test_nginx_refusal_rolls_back_and_names_the_rule(host, run_module):
    run_module(lb_rule.main, host.params(**RULE))
    before = host.files()
    host.make_nginx_t_fail('nginx: [emerg] host not found in upstream "x.invalid:80" in %s/new.conf:5\n' % host.rules_dir,
                           when_exists=os.path.join(host.rules_dir, "new.conf"))
    failed, result = run_module(lb_rule.main, host.params(**dict(RULE, name="new", server_name="new.local")))
    assert failed and result["rules"] == ["new"] and "host not found" in result["msg"]
    assert host.files() == before


def test_duplicate_server_name_across_rules(host, run_module):
    run_module(lb_rule.main, host.params(**RULE))
    failed, result = run_module(lb_rule.main, host.params(**dict(RULE, name="other")))
    assert failed and "already used by rule 'web'" in result["msg"]


def test_rules_dir_not_included_is_refused(host, run_module):
    failed, result = run_module(lb_rule.main, host.params(rules_dir=host.root + "/elsewhere", **RULE))
    assert failed and "not included" in result["msg"]


def test_missing_nginx_binary(host, run_module):
    failed, result = run_module(lb_rule.main, dict(host.params(**RULE), nginx_binary="/nonexistent/nginx"))
    assert failed and "nginx binary" in result["msg"]


def test_a_backup_out_of_reach_of_the_tries_is_warned_about(host, run_module, warnings):
    """Three primaries and a backup with next_upstream_tries 3 given: applied, with a warning that
    names the rule and the value that reaches the backup; 4, or the default, is quiet."""
    upstreams = [{"address": "10.0.0.%d" % i} for i in (1, 2, 3)] + [{"address": "10.0.0.9", "backup": True}]
    failed, result = run_module(lb_rule.main, host.params(**dict(RULE, upstreams=upstreams, next_upstream_tries=3)))
    assert not failed and result["changed"]
    assert len(warnings) == 1 and "rule 'web'" in warnings[0] and "set it to at least 4" in warnings[0]
    failed, result = run_module(lb_rule.main, host.params(**dict(RULE, upstreams=upstreams, next_upstream_tries=4)))
    assert not failed and result["changed"] and len(warnings) == 1
    failed, result = run_module(lb_rule.main, host.params(**dict(RULE, upstreams=upstreams)))
    assert not failed and result["changed"] and len(warnings) == 1 and result["rule"]["next_upstream_tries"] is None
