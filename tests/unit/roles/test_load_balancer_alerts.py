"""The alerting rules shipped with the role (files/prometheus/antman-lb-alerts.yml): `promtool
check rules` accepts them and `promtool test rules` (Debian's prometheus, installed by
scripts/setup.sh) shows each going pending then firing on series as the agent exposes them,
and staying quiet when it should. docs/metrics.md's examples, copied from the file: the scrape
configuration passes `promtool check config` with the rules beside it and is the one molecule/prometheus
runs (but for its target and intervals), the group_vars pass the role's plan."""
import os
import re
import subprocess

import yaml

from ansible_collections.antsle.antman.plugins.module_utils.model.role import role_plan
from ansible_collections.antsle.antman.tests.support.paths import COLLECTION
from ansible_collections.antsle.antman.tests.support.private_host import doc_block

RULES = os.path.join(COLLECTION, "roles", "load_balancer", "files", "prometheus", "antman-lb-alerts.yml")
WEB = 'rule="web",job="antman-lb",instance="lb1:9146"'


def annotations(name, labels):
    """The annotations of alert ``name`` as Prometheus renders them for ``labels``."""
    with open(RULES) as handle:
        (rule,) = [r for group in yaml.safe_load(handle)["groups"] for r in group["rules"] if r["alert"] == name]
    rendered = {}
    for key, template in rule["annotations"].items():
        for label in re.findall(r"\{\{ \$labels\.([a-z_]+) \}\}", template):
            template = template.replace("{{ $labels.%s }}" % label, labels.get(label, ""))
        rendered[key] = template
    return rendered


def alerts(name, at, *firing):
    return {"eval_time": at, "alertname": name,
            "exp_alerts": [{"exp_labels": labels, "exp_annotations": annotations(name, labels)} for labels in firing]}


def upstream(address, healthy, checked):
    """The series of one upstream of rule web (promtool's expanding notation: "1x3 0x20")."""
    return [{"series": 'antman_lb_upstream_%s{%s,upstream="%s"}' % (name, WEB, address), "values": values}
            for name, values in (("healthy", healthy), ("checked", checked))]


def agent(up, reload_ok, nginx_up):
    """The series of the agent of lb1: the scrape's up, its last reload, nginx's status page."""
    return [{"series": '%s{job="antman-lb",instance="lb1:9146"}' % name, "values": values}
            for name, values in (("up", up), ("antman_lb_last_reload_successful", reload_ok), ("antman_lb_nginx_up", nginx_up))]


def requests(ok, errors, rule="web"):
    """antman_lb_requests_total of ``rule`` on lb1: 2xx and 5xx answers."""
    return [{"series": 'antman_lb_requests_total{rule="%s",code="%s",job="antman-lb",instance="lb1:9146"}' % (rule, code),
             "values": values} for code, values in (("2xx", ok), ("5xx", errors))]


TESTS = [
    {   # antlet .2 fails from the second minute on; .1 stays healthy; a start's unknown state alerts nothing
        "interval": "15s",
        "input_series": [
            *upstream("10.0.0.1:80", healthy="0 1x20", checked="0 1x20"),
            *upstream("10.0.0.2:80", healthy="0 1x3 0x16", checked="0 1x20"),
            *agent(up="1x20", reload_ok="1x20", nginx_up="1x20"),
        ],
        "alert_rule_test": [
            alerts("AntmanLbUpstreamUnhealthy", "0m"),  # unknown at the start: not judged
            alerts("AntmanLbUpstreamUnhealthy", "1m30s"),  # pending: unhealthy for 30 s
            alerts("AntmanLbUpstreamUnhealthy", "2m15s", {
                "alertname": "AntmanLbUpstreamUnhealthy", "severity": "warning", "rule": "web",
                "upstream": "10.0.0.2:80", "job": "antman-lb", "instance": "lb1:9146"}),
            alerts("AntmanLbRuleNoHealthyUpstream", "3m"),
            alerts("AntmanLbAgentDown", "4m"),
            alerts("AntmanLbReloadFailed", "4m"),
            alerts("AntmanLbNginxStatusDown", "4m"),
        ],
    },
    {   # every upstream fails from 1m; a reload fails at 2m; the agent stops answering at 3m
        "interval": "15s",
        "input_series": [
            *upstream("10.0.0.1:80", healthy="1x3 0x20", checked="1x23"),
            *upstream("10.0.0.2:80", healthy="1x3 0x20", checked="1x23"),
            *agent(up="1x11 0x15", reload_ok="1x7 0x15", nginx_up="1x3 0x20"),
        ],
        "alert_rule_test": [
            alerts("AntmanLbRuleNoHealthyUpstream", "1m15s"),  # pending
            alerts("AntmanLbRuleNoHealthyUpstream", "1m45s", {
                "alertname": "AntmanLbRuleNoHealthyUpstream", "severity": "critical", "rule": "web",
                "job": "antman-lb", "instance": "lb1:9146"}),
            alerts("AntmanLbReloadFailed", "2m", {
                "alertname": "AntmanLbReloadFailed", "severity": "critical", "job": "antman-lb", "instance": "lb1:9146"}),
            alerts("AntmanLbAgentDown", "4m"),  # pending: down for 1 min
            alerts("AntmanLbAgentDown", "5m15s", {
                "alertname": "AntmanLbAgentDown", "severity": "critical", "job": "antman-lb", "instance": "lb1:9146"}),
            alerts("AntmanLbNginxStatusDown", "2m15s", {
                "alertname": "AntmanLbNginxStatusDown", "severity": "warning", "job": "antman-lb", "instance": "lb1:9146"}),
        ],
    },
    {   # web: 4 requests/s, 10% of them 5xx from 2m30s on; shop: 2% 5xx; idle: every request fails but 1 a minute
        "interval": "15s",
        "input_series": [
            *requests(ok="0+60x60", errors="0x10 0+6x50"),
            *requests(ok="0+60x60", errors="0+1x60", rule="shop"),
            *requests(ok="0x60", errors="0+0.25x60", rule="idle"),
        ],
        "alert_rule_test": [
            alerts("AntmanLbRuleHigh5xxRatio", "4m"),  # 3% over the 5 minutes
            alerts("AntmanLbRuleHigh5xxRatio", "6m"),  # pending: above 5% since about 5m15s
            alerts("AntmanLbRuleHigh5xxRatio", "8m", {
                "alertname": "AntmanLbRuleHigh5xxRatio", "severity": "warning", "rule": "web", "job": "antman-lb",
                "instance": "lb1:9146"}),
        ],
    },
    {   # no target at all (the job missing from Prometheus): absent(up) fires after 2 m
        "interval": "15s",
        "input_series": [{"series": 'up{job="other",instance="x:1"}', "values": "1x20"}],
        "alert_rule_test": [
            alerts("AntmanLbAgentDown", "1m"),
            alerts("AntmanLbAgentDown", "2m30s", {"alertname": "AntmanLbAgentDown", "severity": "critical",
                                                  "job": "antman-lb"}),
        ],
    },
]


def promtool(*args):
    checked = subprocess.run(["promtool"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, check=False)
    return checked.returncode, checked.stdout


def test_the_alert_rules_pass_promtool_check_rules():
    rc, out = promtool("check", "rules", RULES)
    assert rc == 0 and "SUCCESS: 6 rules found" in out, out


def test_each_alert_goes_pending_then_fires_and_stays_quiet_otherwise(tmp_path):
    tests = tmp_path / "antman-lb-alerts.test.yml"
    tests.write_text(yaml.safe_dump({"rule_files": [RULES], "evaluation_interval": "15s", "tests": TESTS}))
    rc, out = promtool("test", "rules", str(tests))
    assert rc == 0, out


def test_promtool_test_rules_fails_when_an_expectation_is_wrong(tmp_path):
    wrong = dict(TESTS[2], alert_rule_test=[alerts("AntmanLbAgentDown", "1m", {"alertname": "AntmanLbAgentDown",
                                                                               "severity": "critical", "job": "antman-lb"})])
    tests = tmp_path / "wrong.test.yml"
    tests.write_text(yaml.safe_dump({"rule_files": [RULES], "evaluation_interval": "15s", "tests": [wrong]}))
    assert promtool("test", "rules", str(tests))[0] != 0


def test_the_documented_scrape_configuration_loads_the_rules(tmp_path):
    (tmp_path / "prometheus.yml").write_text(doc_block("docs/metrics.md", "- job_name: antman-lb"))
    (tmp_path / "antman-lb-alerts.yml").write_text(open(RULES).read())
    rc, out = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert rc == 0 and "SUCCESS: 6 rules found" in out, out


def test_the_molecule_scenario_runs_the_documented_scrape_configuration():
    documented = yaml.safe_load(doc_block("docs/metrics.md", "- job_name: antman-lb"))
    with open(os.path.join(COLLECTION, "molecule", "prometheus", "prometheus.yml")) as handle:
        scenario = yaml.safe_load(handle)
    # What the scenario may change: its own antsle host as the target, 1 s instead of 15 s.
    assert scenario["global"] == {"scrape_interval": "1s", "evaluation_interval": "1s"}
    assert documented["global"] == {"scrape_interval": "15s", "evaluation_interval": "15s"}
    assert scenario["scrape_configs"][0]["static_configs"] == [{"targets": ["10.79.9.10:9146"]}]
    for config in (documented, scenario):
        del config["global"]
        config["scrape_configs"][0]["static_configs"][0]["targets"] = []
    assert scenario == documented


def test_the_documented_group_vars_pass_the_role_s_plan():
    variables = yaml.safe_load(doc_block("docs/metrics.md", "antman_lb_metrics_allow:"))
    metrics = role_plan([], {}, {}, entry="configure", rules_dir="/etc/nginx/antman.d",
                        stream_conf_path="/etc/nginx/antman-stream.conf",
                        metrics_listen=variables["antman_lb_metrics_listen"],
                        metrics_allow=variables["antman_lb_metrics_allow"])["metrics"]
    assert metrics == {"listen": "0.0.0.0:9146", "allow": ["10.1.1.50", "127.0.0.1"], "stub_status_url": ""}
