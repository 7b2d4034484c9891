"""The load_balancer role's lb_host_apply on a fake host: its parts (base, rules, agent) composed in
one run, in order, each as its own body applies it; check mode plans the rules against the base
part's pending change; a failing rules part leaves the base part applied and its own change put
back; nginx that does not run is not reloaded; the agent's unit written only where it differs."""
import os
import stat

from ansible_collections.antsle.antman.plugins.module_utils.nginx import control as nginx_utils
from ansible_collections.antsle.antman.plugins.modules.__load_balancer import lb_host_apply
from ansible_collections.antsle.antman.tests.support.paths import COLLECTION

WEB = {"name": "web", "server_name": "web.local", "upstreams": [{"address": "10.0.0.1", "weight": 3}, {"address": "10.0.0.2"}]}
API = {"name": "api", "server_name": "api.local", "server_port": 8080, "upstreams": [{"address": "10.0.0.3"}]}
DROPIN = "# the drop-in\nlog_format x '$host';\n"


def script():
    with open(os.path.join(COLLECTION, "roles", "load_balancer", "files", "antman-health")) as handle:
        return handle.read()


def fresh(host):
    """A host whose nginx.conf does not include the rules directory yet (the base part adds it)."""
    with open(host.conf, "w") as handle:
        handle.write("events {}\nhttp {\n}\n")


def base_part(host):
    return {"files": [{"path": os.path.join(host.root, "antman.conf"), "content": DROPIN}],
            "includes": [{"path": os.path.join(host.root, "antman.conf")}, {"path": host.rules_dir + "/*.conf"}]}


def agent_part(host, **extra):
    part = {"script": script(), "lib_dir": os.path.join(host.root, "lib"), "pid_file": os.path.join(host.root, "agent.pid"),
            "unit": {"path": os.path.join(host.root, "antman-health.service"), "content": "[Service]\nExecStart=/bin/true\n"}}
    part.update(extra)
    return part


def conf_text(host):
    with open(host.conf) as handle:
        return handle.read()


def test_base_then_rules_in_one_run_check_mode_plans_the_rules_against_the_pending_base(host, run_module):
    fresh(host)
    args = host.params(base=base_part(host), rules={"state": "overridden", "config": [WEB, API]})
    conf = conf_text(host)
    failed, predicted = run_module(lb_host_apply.main, args, check_mode=True, diff=True)
    assert not failed and predicted["changed"], predicted
    assert predicted["base"]["changed"] and predicted["rules"]["changes"] == [{"name": "web", "action": "created"},
                                                                              {"name": "api", "action": "created"}]
    assert conf_text(host) == conf and not host.files() and not host.reloads
    failed, result = run_module(lb_host_apply.main, args, diff=True)
    assert not failed and result["changed"] and "agent" not in result, result
    assert result["base"]["changes"] == predicted["base"]["changes"] and result["rules"]["changes"] == predicted["rules"]["changes"]
    # One diff per file of each part, in order (Ansible prints each): the drop-in, nginx.conf, then the rules.
    assert result["diff"] == predicted["diff"] and len(result["diff"]) == 4
    assert [d["after_header"] for d in result["diff"][2:]] == ["%s/web.conf" % host.rules_dir, "%s/api.conf" % host.rules_dir]
    assert sorted(host.files()) == ["api.conf", "web.conf"] and len(host.reloads) == 2
    failed, again = run_module(lb_host_apply.main, args, check_mode=True)
    assert not failed and not again["changed"]
    failed, again = run_module(lb_host_apply.main, args)
    assert not failed and not again["changed"] and len(host.reloads) == 2


def test_without_a_pending_base_change_the_rules_part_needs_the_rules_directory_included(host, run_module):
    fresh(host)
    failed, result = run_module(lb_host_apply.main, host.params(rules={"state": "overridden", "config": [WEB]}), check_mode=True)
    assert failed and "is not included from the http context" in result["msg"]


def test_a_part_left_out_is_not_touched(host, run_module):
    failed, result = run_module(lb_host_apply.main, host.params(rules={"state": "overridden", "config": [WEB]}))
    assert not failed and result["changed"] and "base" not in result and "agent" not in result, result
    conf = conf_text(host)
    failed, result = run_module(lb_host_apply.main, host.params(rules={"state": "deleted"}))
    assert not failed and result["rules"]["changes"] == [{"name": "web", "action": "deleted"}] and conf_text(host) == conf
    failed, result = run_module(lb_host_apply.main, host.params())
    assert not failed and not result["changed"] and conf_text(host) == conf


def test_a_failing_rules_part_leaves_the_base_applied_and_its_own_change_put_back(host, run_module):
    fresh(host)
    host.make_nginx_t_fail("nginx: [emerg] unknown directive in %s/web.conf:3" % host.rules_dir,
                           when_exists=os.path.join(host.rules_dir, "web.conf"))
    args = host.params(base=base_part(host), rules={"state": "overridden", "config": [WEB]}, agent=agent_part(host))
    failed, result = run_module(lb_host_apply.main, args)
    assert failed and "unknown directive" in result["msg"], result
    # The base part was validated and reloaded on its own: it stays. The rules are put back (none),
    # and the agent part after them did not run.
    assert os.path.isfile(os.path.join(host.root, "antman.conf")) and host.rules_dir + "/*.conf" in conf_text(host)
    assert host.files() == {} and len(host.reloads) == 1
    assert not os.path.exists(os.path.join(host.root, "lib")) and not os.path.exists(os.path.join(host.root, "antman-health.service"))


def test_nginx_that_does_not_run_gets_the_files_and_no_reload(host, run_module, monkeypatch):
    def not_running(self):
        raise nginx_utils.NginxError("nginx is not running")
    monkeypatch.setattr(nginx_utils.Nginx, "master_pid", lambda self: None)
    monkeypatch.setattr(nginx_utils.Nginx, "require_running", not_running)
    fresh(host)
    args = host.params(base=base_part(host), rules={"state": "overridden", "config": [WEB]})
    failed, result = run_module(lb_host_apply.main, args)
    assert not failed and result["base"]["changed"] and result["rules"]["changed"], result
    assert not result["base"]["reloaded"] and not result["rules"]["reloaded"] and not host.reloads
    assert sorted(host.files()) == ["web.conf"]


def test_the_agent_s_unit_is_written_only_where_it_differs_and_removed_with_the_agent(host, run_module):
    unit = os.path.join(host.root, "antman-health.service")
    failed, predicted = run_module(lb_host_apply.main, host.params(agent=agent_part(host)), check_mode=True, diff=True)
    assert not failed and predicted["agent"]["unit_changed"] and not os.path.exists(unit)
    failed, result = run_module(lb_host_apply.main, host.params(agent=agent_part(host)), diff=True)
    assert not failed and result["changed"] and result["agent"]["unit_changed"] and "antman-health" in result["agent"]["files"]
    assert result["diff"] == predicted["diff"] and result["diff"][0]["after"] == "[Service]\nExecStart=/bin/true\n"
    assert stat.S_IMODE(os.stat(unit).st_mode) == 0o644 and open(unit).read() == "[Service]\nExecStart=/bin/true\n"
    failed, again = run_module(lb_host_apply.main, host.params(agent=agent_part(host)))
    assert not failed and not again["changed"] and not again["agent"]["unit_changed"]
    os.chmod(unit, 0o600)
    changed = agent_part(host, unit={"path": unit, "content": "[Service]\nExecStart=/bin/false\n"})
    failed, result = run_module(lb_host_apply.main, host.params(agent=changed))
    assert not failed and result["agent"]["unit_changed"] and not result["agent"]["files"]
    assert stat.S_IMODE(os.stat(unit).st_mode) == 0o644 and "/bin/false" in open(unit).read()
    gone = dict(agent_part(host, state="absent", script=None), unit={"path": unit, "content": ""})
    failed, result = run_module(lb_host_apply.main, host.params(agent=gone))
    assert not failed and result["changed"] and result["agent"]["removed"] and result["agent"]["unit_changed"]
    assert not os.path.exists(unit) and not os.path.exists(os.path.join(host.root, "lib"))
    failed, result = run_module(lb_host_apply.main, host.params(agent=gone))
    assert not failed and not result["changed"]


def test_each_part_s_options_are_its_body_s_and_named_by_their_part(host, run_module):
    failed, result = run_module(lb_host_apply.main, host.params(agent={"state": "present"}))
    assert failed and "script" in result["msg"] and "agent" in result["msg"], result
    failed, result = run_module(lb_host_apply.main, host.params(base={"files": [{"path": "relative", "content": ""}]}))
    assert failed and "files[0].path" in result["msg"], result
    failed, result = run_module(lb_host_apply.main, host.params(rules={"state": "overridden", "include_pending": True}))
    assert failed and "include_pending" in result["msg"], result
