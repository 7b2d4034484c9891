import socket

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


def test_empty_and_unknown(host, run_module):
    failed, result = run_module(lb_rule_info.main, host.params(name="nope"))
    assert not failed and result["rules"] == [] and not result["changed"]
