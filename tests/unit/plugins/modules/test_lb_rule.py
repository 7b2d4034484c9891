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


def tries_notes(warnings):
    """The warnings about next_upstream_tries (a rule created on a port without a default server
    is warned about too, see test_lb_rule_catch_all.py)."""
    return [warning for warning in warnings if "next_upstream_tries" in warning]


def test_a_backup_out_of_reach_of_the_tries_is_warned_about(host, run_module, warnings):
    """Three primaries and a backup with next_upstream_tries 3 given: applied, with a warning that
    names the rule and the value that reaches the backup; 4, or the default, is quiet."""
    upstreams = [{"address": "10.0.0.%d" % i} for i in (1, 2, 3)] + [{"address": "10.0.0.9", "backup": True}]
    failed, result = run_module(lb_rule.main, host.params(**dict(RULE, upstreams=upstreams, next_upstream_tries=3)))
    assert not failed and result["changed"]
    assert len(tries_notes(warnings)) == 1 and "rule 'web'" in tries_notes(warnings)[0] and "set it to at least 4" in tries_notes(warnings)[0]
    failed, result = run_module(lb_rule.main, host.params(**dict(RULE, upstreams=upstreams, next_upstream_tries=4)))
    assert not failed and result["changed"] and len(tries_notes(warnings)) == 1
    failed, result = run_module(lb_rule.main, host.params(**dict(RULE, upstreams=upstreams, replace=True)))
    assert not failed and result["changed"] and len(tries_notes(warnings)) == 1 and result["rule"]["next_upstream_tries"] is None


EDGE = {"name": "edge", "server_name": "edge.local", "server_port": 18310, "read_timeout": "30s",
        "upstreams": [{"address": "10.0.0.1", "weight": 3}, {"address": "10.0.0.2"}]}


def test_an_edit_keeps_the_fields_it_does_not_give(host, run_module):
    """The README's "Edit it" on a rule of port 18310: server_port, read_timeout and method are left
    out, so they keep their values (they used to return to their defaults: listen 80). The upstreams
    given replace the list. Check mode predicts exactly that, and touches nothing."""
    run_module(lb_rule.main, host.params(**dict(EDGE, method="least_conn")))
    before = host.files()
    edit = {"name": "edge", "server_name": ["edge.local", "www.example.com"],
            "upstreams": [{"address": "10.0.0.1", "weight": 3}, {"address": "10.0.0.3", "down": True}]}
    failed, predicted = run_module(lb_rule.main, host.params(**edit), check_mode=True, diff=True)
    assert not failed and predicted["changed"] and host.files() == before
    failed, result = run_module(lb_rule.main, host.params(**edit), diff=True)
    assert not failed and result["changed"] and result["diff"] == predicted["diff"]
    assert result["rule"] == predicted["rule"]
    rule = result["rule"]
    assert (rule["server_port"], rule["read_timeout"], rule["method"]) == (18310, "30s", "least_conn")
    assert rule["server_name"] == ["edge.local", "www.example.com"]
    assert [(u["address"], u["weight"], u["down"]) for u in rule["upstreams"]] == [
        ("10.0.0.1:80", 3, False), ("10.0.0.3:80", 1, True)]
    assert "listen 18310;" in result["diff"]["after"] and "listen 80;" not in result["diff"]["after"]
    failed, again = run_module(lb_rule.main, host.params(**edit))
    assert not failed and not again["changed"]
    failed, alone = run_module(lb_rule.main, host.params(name="edge", read_timeout="45s"))
    assert not failed and alone["changed"] and alone["rule"] == dict(rule, read_timeout="45s")


def test_an_edit_keeps_tls_and_can_change_one_of_its_settings(host, run_module):
    shop = {"name": "shop", "server_name": "shop.local", "server_port": 443, "upstreams": [{"address": "10.0.0.5"}],
            "tls": {"certificate": "/etc/ssl/shop.pem", "key": "/etc/ssl/shop.key", "hsts": 600}}
    run_module(lb_rule.main, host.params(**shop))
    failed, result = run_module(lb_rule.main, host.params(name="shop", tls={"protocols": ["TLSv1.3"]}))
    assert not failed and result["changed"]
    assert result["rule"]["tls"] == {"certificate": "/etc/ssl/shop.pem", "key": "/etc/ssl/shop.key",
                                     "protocols": ["TLSv1.3"], "hsts": 600}


def test_replace_makes_the_rule_exactly_what_is_given(host, run_module):
    run_module(lb_rule.main, host.params(**dict(EDGE, next_upstream_tries=2)))
    failed, result = run_module(lb_rule.main, host.params(name="edge", server_name="edge.local", replace=True,
                                                          upstreams=[{"address": "10.0.0.1"}]))
    assert not failed and result["changed"]
    rule = result["rule"]
    assert (rule["server_port"], rule["read_timeout"], rule["next_upstream_tries"]) == (80, "5s", None)


def test_a_new_rule_takes_the_defaults_and_must_be_complete(host, run_module):
    failed, result = run_module(lb_rule.main, host.params(name="new", read_timeout="30s"))
    assert failed and result["msg"] == ("rule 'new': server_name: missing; upstreams: missing, a rule needs at least "
                                        "one upstream")
    assert host.files() == {}
    failed, result = run_module(lb_rule.main, host.params(**RULE))
    assert not failed and result["rule"]["server_port"] == 80 and result["rule"]["keepalive"] == 32


def test_a_bad_value_in_an_edit_names_the_field_and_touches_nothing(host, run_module):
    run_module(lb_rule.main, host.params(**EDGE))
    before, reloads = host.files(), len(host.reloads)
    for check_mode in (True, False):
        failed, result = run_module(lb_rule.main, host.params(name="edge", server_port=70000), check_mode=check_mode)
        assert failed and result["msg"] == "rule 'edge': server_port: 70000 is out of range (1-65535)"
    assert host.files() == before and len(host.reloads) == reloads


def test_a_rule_on_a_port_without_a_default_server_is_warned_about_once(host, run_module, warnings):
    """The fake host's nginx.conf only includes the rules (a module-only host): creating a rule on a
    port says that unknown Host names reach it, and how to add a catch-all; editing it does not
    say it again; a host with a default_server on the port (the role's catch-all) gets no warning."""
    failed, result = run_module(lb_rule.main, host.params(**RULE))
    assert not failed and len(warnings) == 1
    assert warnings[0].startswith("port 80 has no default server: nginx answers a Host name that no rule serves with "
                                  "rule 'web'") and "antman_lb_extra_ports" in warnings[0]
    run_module(lb_rule.main, host.params(name="web", read_timeout="30s"))
    assert len(warnings) == 1
    with open(host.conf, "w") as handle:
        handle.write("events {}\nhttp {\n    include %s/*.conf;\n    server { listen 8080 default_server; return 421; }\n}\n"
                     % host.rules_dir)
    run_module(lb_rule.main, host.params(**dict(RULE, name="api", server_name="api.local", server_port=8080)))
    assert len(warnings) == 1
