import os
import socket
import time

from ansible_collections.antsle.antman.plugins.module_utils.health.status import status_path, write_status
from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import VERDICTS_FILE, Verdict, Verdicts
from ansible_collections.antsle.antman.plugins.modules import lb_rule, lb_rule_info


def test_lists_rules_in_canonical_form_and_probes(host, run_module):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    rule = {"name": "web", "server_name": "web.local",
            "upstreams": [{"address": "127.0.0.1:%d" % port}, {"address": "127.0.0.1:%d" % closed_port}]}
    run_module(lb_rule.main, host.params(**rule))
    run_module(lb_rule.main, host.params(**dict(rule, name="api", server_name="api.local")))
    failed, result = run_module(lb_rule_info.main, host.params())
    assert not failed and [r["name"] for r in result["rules"]] == ["api", "web"]
    assert "reachable" not in result["rules"][0]["upstreams"][0]
    failed, result = run_module(lb_rule_info.main, host.params(name="web", probe=True))
    (web,) = result["rules"]
    assert web["upstreams"][0]["reachable"] is True and web["upstreams"][0]["connect_ms"] >= 0
    assert web["upstreams"][1]["reachable"] is False and web["upstreams"][1]["probe_error"]
    listener.close()


def test_empty_and_unknown(host, run_module, warnings):
    failed, result = run_module(lb_rule_info.main, host.params())
    assert not failed and result["rules"] == [] and not result["changed"] and warnings == []
    failed, result = run_module(lb_rule_info.main, host.params(name="nope"))
    assert not failed and result["rules"] == [] and not result["changed"]
    assert warnings == ["rule 'nope' does not exist in %s, so rules is empty (its managed rules: none)" % host.rules_dir]


def test_a_name_that_does_not_exist_is_said_with_the_names_that_do(host, run_module, warnings):
    from ansible_collections.antsle.antman.plugins.modules import lb_rules
    config = [{"name": name, "server_name": "%s.local" % name, "upstreams": [{"address": "10.0.0.1"}]}
              for name in ("web", "api")]
    run_module(lb_rules.main, host.params(config=config))
    del warnings[:]
    failed, result = run_module(lb_rule_info.main, host.params(name="Web"))
    assert not failed and result["rules"] == []
    assert warnings == ["rule 'Web' does not exist in %s, so rules is empty (its managed rules: api, web)" % host.rules_dir]


def test_every_module_reads_a_latin1_nginx_conf_and_lists_by_name(host, run_module):
    from ansible_collections.antsle.antman.plugins.modules import lb_rules
    with open(host.conf, "rb") as handle:
        text = handle.read()
    with open(host.conf, "wb") as handle:
        handle.write(b"# Konfiguration f\xfcr den Server (Latin-1)\n" + text)
    for name in ("web", "web-2"):
        rule = {"server_name": "%s.local" % name, "upstreams": [{"address": "10.0.0.1"}]}
        failed, result = run_module(lb_rule.main, host.params(name=name, **rule))
        assert not failed, result
    failed, listed = run_module(lb_rule_info.main, host.params())
    assert not failed and [r["name"] for r in listed["rules"]] == ["web", "web-2"]
    failed, gathered = run_module(lb_rules.main, host.params(state="gathered"))
    assert not failed and gathered["gathered"] == listed["rules"]
    failed, merged = run_module(lb_rules.main, host.params(state="merged", config=[{"name": "web", "read_timeout": "9s"}]))
    assert not failed and merged["changed"] and [r["name"] for r in merged["before"]] == ["web", "web-2"]


def test_health_as_the_agent_wrote_it_beside_the_rules(host, run_module):
    """A running agent (this process) holds 10.0.0.2 out of web; its status file says why."""
    rule = {"name": "web", "server_name": "web.local",
            "upstreams": [{"address": "10.0.0.1:80"}, {"address": "10.0.0.2:80"}, {"address": "10.0.0.3:80", "down": True}]}
    run_module(lb_rule.main, host.params(**rule))
    now = time.time()
    with open(os.path.join(host.rules_dir, VERDICTS_FILE), "wb") as handle:
        handle.write(Verdicts({"web": {"10.0.0.2:80": Verdict(now - 5, "status 500")}}).to_bytes())
    probe = {"ok": False, "ms": 3.5, "detail": "status 500", "at": now - 1}
    write_status(status_path(host.rules_dir), {
        "format": 1, "pid": os.getpid(), "updated": now, "stale_after": 10.0,
        "rules": {"web": {"10.0.0.1:80": {"state": "healthy", "since": now - 60, "probe": dict(probe, ok=True, detail="status 200")},
                          "10.0.0.2:80": {"state": "unhealthy", "since": now - 5, "probe": probe}}}})
    failed, result = run_module(lb_rule_info.main, host.params(name="web"))
    assert not failed and list(result["health"]) == ["web"]
    one, two, three = (result["health"]["web"][a] for a in ("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"))
    assert (one["state"], one["in_rotation"]) == ("healthy", True)
    assert (two["state"], two["in_rotation"], two["probe"]["detail"], two["probe"]["ms"]) == ("unhealthy", False, "status 500", 3.5)
    assert two["since"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 5))
    assert (three["state"], three["in_rotation"]) == ("off", False)  # declared down: never probed
    assert "health" not in result["rules"][0]["upstreams"][0]  # the rules stay as they can be fed back
    os.remove(status_path(host.rules_dir))  # the agent gone: what it held out stays out, said stale
    failed, result = run_module(lb_rule_info.main, host.params())
    assert [result["health"]["web"][a]["state"] for a in ("10.0.0.1:80", "10.0.0.2:80")] == ["off", "stale"]
