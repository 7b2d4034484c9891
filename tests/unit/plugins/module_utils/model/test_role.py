"""The load_balancer role's plan (model/role.py): its variables checked with the collection's
grammars, every problem named after the role variable, and the facts its tasks use."""
import json

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.role import role_plan
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError

CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nTOPSECRET\n-----END PRIVATE KEY-----\n"
GROUPS = {"web": ["w1"]}
HOSTVARS = {"w1": {"antman_lb_address": "10.1.1.2"}}
SITE = {"name": "site", "server_name": "site.test", "server_port": 8080, "upstream_group": "web"}
SHOP = {"name": "shop", "server_name": "shop.test", "server_port": 443, "upstream_group": "web",
        "tls": {"certificate_content": CERT, "key_content": KEY}}
BASE = {"rules_dir": "/etc/nginx/antman.d", "stream_conf_path": "/etc/nginx/antman-stream.conf"}
ACME = {"acme_dir": "/etc/antman/acme", "acme_email": "ops@example.com",
        "acme_directory": "https://acme.example.com/directory"}


def plan(rules, **settings):
    return role_plan(rules, GROUPS, HOSTVARS, **dict(BASE, **settings))


def problems(rules, **settings):
    with pytest.raises(RuleError) as caught:
        plan(rules, **settings)
    return caught.value.problems


def test_the_plan_holds_the_facts_the_tasks_use_and_no_key():
    facts = plan([SITE, SHOP], extra_ports=[8443], status_listen="127.0.0.1:8081")
    assert facts["http_ports"] == [443, 8080, 8443] and facts["tls_ports"] == [443] and facts["stream"] is False
    assert facts["rules_state"] == "overridden" and facts["keep_unlisted"] is False and facts["remove_links"] == []
    assert (facts["status_listen"], facts["status_port"]) == ("127.0.0.1:8081", 8081)
    assert facts["acme"] == {"rules": [], "directories": [], "account_key": None}
    assert "TOPSECRET" not in json.dumps(facts)


def test_the_plan_says_which_parts_of_the_apply_module_each_entry_point_gives():
    assert plan([SITE])["parts"] == ["base", "rules", "agent"]
    assert plan([], allow_empty=False, exclusive=False)["parts"] == ["base", "agent"]  # no rules to apply: no rules part
    assert plan([SITE], entry="configure")["parts"] == ["base"]
    assert plan([SITE], entry="rules")["parts"] == ["rules"]
    assert plan([SITE], entry="install")["parts"] == plan([SITE], entry="ha")["parts"] == []


def test_status_listen_is_parsed_by_the_model_ipv6_in_brackets():
    facts = plan([SITE], status_listen="[::1]:9000")
    assert (facts["status_listen"], facts["status_port"]) == ("[::1]:9000", 9000)
    assert plan([SITE], status_listen="")["status_port"] is None
    assert problems([SITE], status_listen="10.0.0.1:8081") == [
        'antman_lb_status_listen: "10.0.0.1:8081" is not a loopback address (only local clients may ask it)']
    assert problems([SITE], status_listen="::1:8081")[0].startswith('antman_lb_status_listen: "::1:8081" is not a loopback')
    assert "uses a port that rules" in problems([SITE], status_listen="127.0.0.1:8080")[0]


def test_only_main_and_rules_apply_the_rules():
    assert plan([], entry="configure")["keep_unlisted"] is True
    assert plan([], entry="configure")["rules_state"] is None
    assert plan([SITE], exclusive=False)["rules_state"] == "replaced"
    assert plan([], allow_empty=True)["rules_state"] == "deleted"
    assert "antman_lb_rules is empty" in problems([], entry="rules")[0]
    with pytest.raises(RuleError, match='entry "tasks" is not one of'):
        plan([SITE], entry="tasks")


def test_every_bad_variable_is_named_at_once_with_its_value():
    found = problems([SITE], rules_dir="/etc/nginx/../x", dropin_path="/etc/nginx/conf.d/antman",
                     access_log="/var/log/a b.log", log_format_name="Bad-Name", status_path="no-slash",
                     disable_default_site=True, default_site_path="relative")
    assert [problem.split(":")[0] for problem in found] == [
        "antman_lb_rules_dir", "antman_lb_dropin_path", "antman_lb_access_log", "antman_lb_log_format_name",
        "antman_lb_status_path", "antman_lb_default_site_path"]
    assert '"/etc/nginx/conf.d/antman" does not end in .conf' in found[1]
    assert plan([SITE], disable_default_site=True, default_site_path="/etc/nginx/sites-enabled/default")[
        "remove_links"] == ["/etc/nginx/sites-enabled/default"]


def test_acme_directories_include_a_rules_own_acme_dir():
    """A rule with its own tls.acme_dir has its files there: the role must make that layout too,
    not only antman_lb_acme_dir's (the account key stays under antman_lb_acme_dir)."""
    own = dict(SITE, name="own", server_port=443, tls={"acme": True, "acme_dir": "/srv/own-acme"})
    shared = dict(SITE, name="shared", server_name="shared.test", server_port=443, tls={"acme": True})
    facts = plan([own, shared], **ACME)
    rules = dict((rule["name"], rule) for rule in facts["acme"]["rules"])
    assert rules["own"]["key"] == "/srv/own-acme/private/own.key"
    assert rules["shared"]["key"] == "/etc/antman/acme/private/shared.key"
    made = [entry["path"] for entry in facts["acme"]["directories"]]
    for rule in rules.values():
        for path in (rule["key"], rule["certificate"], rule["issued"], rule["record"]):
            assert path.rsplit("/", 1)[0] in made, path
        assert rule["challenge_root"] + "/.well-known/acme-challenge" in made
    assert facts["acme"]["account_key"] == "/etc/antman/acme/private/account.key"
    assert made.index("/srv/own-acme") < made.index("/srv/own-acme/private")
    assert len(made) == len(set(made))


def test_acme_variables_are_checked_only_when_a_rule_uses_acme():
    assert plan([SITE], acme_email="", acme_directory="")["acme"]["rules"] == []
    acme = dict(SITE, server_port=443, tls={"acme": True})
    found = problems([acme], acme_dir="/etc/antman/acme", acme_email="nobody", acme_directory="http://x")
    assert [problem.split(":")[0] for problem in found] == ["antman_lb_acme_email", "antman_lb_acme_directory"]
    assert all(problem.endswith("(rules site use tls.acme)") for problem in found)


def test_the_metrics_endpoint_is_loopback_unless_an_allow_list_is_given():
    metrics = plan([SITE], metrics_listen="127.0.0.1:9146", status_listen="127.0.0.1:8081",
                   status_path="/nginx_status")["metrics"]
    assert metrics == {"listen": "127.0.0.1:9146", "allow": [],
                       "stub_status_url": "http://127.0.0.1:8081/nginx_status"}
    assert plan([SITE], metrics_listen="")["metrics"] == {"listen": "", "allow": [], "stub_status_url": ""}
    anywhere = plan([SITE], metrics_listen="[::]:9146", metrics_allow=["10.1.0.0/16", "2001:db8::1"])["metrics"]
    assert anywhere == {"listen": "[::]:9146", "allow": ["10.1.0.0/16", "2001:db8::1"], "stub_status_url": ""}
    assert problems([SITE], metrics_listen="0.0.0.0:9146") == [
        'antman_lb_metrics_listen: "0.0.0.0:9146" is not a loopback address; give antman_lb_metrics_allow (the '
        "addresses or networks of your Prometheus servers) to serve metrics there"]


@pytest.mark.parametrize("settings, problem", [
    ({"metrics_listen": "localhost:9146"}, 'antman_lb_metrics_listen: "localhost:9146" is not an ADDRESS:PORT'),
    ({"metrics_listen": "::1:9146"}, 'antman_lb_metrics_listen: "::1:9146" is not an ADDRESS:PORT'),
    ({"metrics_listen": "127.0.0.1:80"}, 'antman_lb_metrics_listen: "127.0.0.1:80" has a port below 1024'),
    ({"metrics_listen": "127.0.0.1:8080"}, 'antman_lb_metrics_listen: "127.0.0.1:8080" uses a port that rules'),
    ({"metrics_listen": "127.0.0.1:8081", "status_listen": "127.0.0.1:8081"},
     'antman_lb_metrics_listen: "127.0.0.1:8081" uses a port that rules'),
    ({"metrics_listen": "10.1.1.2:9146", "metrics_allow": ["10.1.1.7/24"]},
     'antman_lb_metrics_allow: [0]: "10.1.1.7/24" has host bits set'),
    ({"metrics_listen": "10.1.1.2:9146", "metrics_allow": "any"}, 'antman_lb_metrics_allow: [0]: "any" is not an IP address'),
])
def test_bad_metrics_settings_are_named_with_their_value(settings, problem):
    found = problems([SITE], **settings)
    assert len(found) == 1 and found[0].startswith(problem), found
