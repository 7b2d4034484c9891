import json
import os

from ansible_collections.antsle.antman.plugins.modules import lb_rule, lb_rules

CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2VydA==\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIALabc123==\n-----END PRIVATE KEY-----\n"
SHOP = {"name": "shop", "server_name": "shop.local", "server_port": 443, "redirect_http": True,
        "tls": {"certificate_content": CERT, "key_content": KEY}, "upstreams": [{"address": "10.0.0.1"}]}


def test_key_is_written_0600_beside_the_rule_and_never_returned(host, run_module):
    failed, result = run_module(lb_rule.main, host.params(**SHOP), diff=True)
    assert not failed and result["changed"]
    assert "TOPSECRET" not in json.dumps(result)
    assert sorted(host.files()) == ["shop.conf", "shop.crt", "shop.key"]
    assert os.stat(os.path.join(host.rules_dir, "shop.key")).st_mode & 0o777 == 0o600
    assert host.files()["shop.key"] == KEY
    failed, result = run_module(lb_rule.main, host.params(**SHOP))
    assert not result["changed"]


def test_new_key_content_is_a_change_and_paths_remove_the_written_files(host, run_module):
    run_module(lb_rule.main, host.params(**SHOP))
    other_key = KEY.replace("TOPSECRET", "NEWSECRET")
    failed, result = run_module(lb_rule.main, host.params(**dict(SHOP, tls={"certificate_content": CERT,
                                                                            "key_content": other_key})), diff=True)
    assert result["changed"] and "NEWSECRET" not in json.dumps(result) and host.files()["shop.key"] == other_key
    failed, result = run_module(lb_rule.main, host.params(**dict(SHOP, tls={"certificate": "/etc/ssl/a.pem",
                                                                            "key": "/etc/ssl/a.key"})))
    assert result["changed"] and sorted(host.files()) == ["shop.conf"]


def test_gathered_rules_restore_certificates_from_the_host(host, run_module):
    run_module(lb_rules.main, host.params(state="overridden", config=[SHOP]))
    original = host.files()
    failed, gathered = run_module(lb_rules.main, host.params(state="gathered"))
    assert "TOPSECRET" not in json.dumps(gathered)
    failed, result = run_module(lb_rules.main, host.params(state="overridden", config=gathered["gathered"]))
    assert not failed and not result["changed"] and host.files() == original
    run_module(lb_rules.main, host.params(state="deleted"))
    assert host.files() == {}
    failed, result = run_module(lb_rules.main, host.params(state="overridden", config=gathered["gathered"]))
    assert failed and "give certificate_content and key_content" in result["msg"]


def test_stream_rule_needs_the_stream_include(host, run_module):
    tcp = {"name": "ssh", "protocol": "tcp", "server_port": 2222, "upstreams": [{"address": "10.0.0.1:22"}]}
    failed, result = run_module(lb_rule.main, host.params(**tcp))
    assert failed and "stream context" in result["msg"] and host.files() == {}
    with open(host.conf, "a") as handle:
        handle.write("stream {\n    include %s/*.stream;\n}\n" % host.rules_dir)
    failed, result = run_module(lb_rule.main, host.params(**tcp))
    assert not failed and result["config_file"].endswith("/ssh.stream") and list(host.files()) == ["ssh.stream"]
    assert "server_name" not in result["rule"] and result["rule"]["read_timeout"] == "600s"
