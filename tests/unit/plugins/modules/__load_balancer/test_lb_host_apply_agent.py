"""The load_balancer role's lb_host_apply, its agent part (the health agent) on a fake host: the agent's files installed exactly and
idempotently (check mode predicts), and state=absent removes them and returns every upstream the
agent held out to rotation through the one transaction, reporting a change only when something was
there. Starting a real agent where systemd does not run it: tests/functional/test_health_agent.py."""
import os

from ansible_collections.antsle.antman.plugins.module_utils.health.status import status_path
from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import Verdict, Verdicts
from ansible_collections.antsle.antman.plugins.module_utils.health.writer import VerdictWriter
from ansible_collections.antsle.antman.plugins.module_utils.model.request import config_request
from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import Transaction
from ansible_collections.antsle.antman.tests.support.paths import COLLECTION

A, B = "10.0.0.1:80", "10.0.0.2:80"
HELD = "down;  # out of rotation: failed its health check"


def script():
    with open(os.path.join(COLLECTION, "roles", "load_balancer", "files", "antman-health")) as handle:
        return handle.read()


def agent(host, run_part, check_mode=False, **options):
    params = dict(lib_dir=os.path.join(host.root, "lib"), pid_file=os.path.join(host.root, "agent.pid"))
    params.update(options)
    return run_part("agent", host.params(**params), check_mode=check_mode)


def test_present_installs_exactly_once_and_check_mode_predicts(host, run_part):
    failed, result = agent(host, run_part, check_mode=True, script=script())
    assert not failed and result["changed"] and not os.path.exists(os.path.join(host.root, "lib"))
    failed, result = agent(host, run_part, script=script(), writable=["/var/log/nginx/antman_access.log"])
    assert not failed and result["changed"] and "antman-health" in result["files"]
    assert result["command"][1:3] == ["-B", os.path.join(host.root, "lib", "antman-health")]
    assert result["exec_start"].startswith('"%s" "-B"' % result["python"])
    assert result["writable"] == sorted([host.root, "/var/log/nginx"])
    assert agent(host, run_part, check_mode=True, script=script())[1]["changed"] is False
    assert agent(host, run_part, script=script())[1]["changed"] is False


def test_present_needs_the_script(host, run_part):
    failed, result = agent(host, run_part)
    assert failed and "script" in result["msg"]


def test_absent_returns_every_held_out_upstream_and_then_changes_nothing(host, run_part):
    request = config_request([{"name": "web", "server_name": "web.test", "upstreams": [{"address": A}, {"address": B}]}],
                             state="replaced")
    Transaction(host.rules_dir, host.binary, host.conf, host.run, reload=False).run(lambda s: request.rules, contents=request.contents)
    VerdictWriter(host.rules_dir, host.binary, host.conf, host.run).apply(
        lambda rules, applied: Verdicts({"web": {A: Verdict(1000.0, "HTTP 500")}}))
    assert HELD in host.files()["web.conf"]
    agent(host, run_part, script=script())
    with open(status_path(host.rules_dir), "w") as handle:
        handle.write("{}")
    failed, result = agent(host, run_part, check_mode=True, state="absent")
    assert not failed and result["changed"] and result["back_in_rotation"] == ["web %s" % A]
    assert HELD in host.files()["web.conf"] and os.path.isdir(os.path.join(host.root, "lib"))  # check mode: nothing
    failed, result = agent(host, run_part, state="absent")
    assert not failed and result["changed"] and result["removed"] and result["back_in_rotation"] == ["web %s" % A]
    assert HELD not in host.files()["web.conf"] and not os.path.exists(os.path.join(host.root, "lib"))
    assert not os.path.exists(status_path(host.rules_dir))
    failed, result = agent(host, run_part, state="absent")
    assert not failed and not result["changed"] and result["back_in_rotation"] == []


def test_the_metrics_settings_are_on_the_command_line_and_a_direct_agent_restarts_when_they_change(
        host, run_part, monkeypatch):
    from ansible_collections.antsle.antman.plugins.module_utils.health import install
    running, started = {}, []
    monkeypatch.setattr(install, "running_pid", lambda pid_file: 4242 if running else None)
    monkeypatch.setattr(install, "running_command", lambda pid: running.get("argv"))
    monkeypatch.setattr(install, "stop", lambda pid_file: running.clear())
    monkeypatch.setattr(install, "start", lambda run, argv, pid_file, log_file: (
        started.append(argv), running.update(argv=argv + ["--daemon", "--pid-file", pid_file])))
    metrics = dict(metrics_listen="127.0.0.1:9146", metrics_allow=["127.0.0.1", "10.0.0.0/8"],
                   stub_status_url="http://127.0.0.1:8081/nginx_status")
    failed, result = agent(host, run_part, script=script(), service="direct", **metrics)
    assert not failed and result["started"] and started == [result["command"]]
    assert result["command"][-8:] == ["--metrics-listen", "127.0.0.1:9146", "--metrics-allow", "127.0.0.1",
                                      "--metrics-allow", "10.0.0.0/8", "--stub-status-url", "http://127.0.0.1:8081/nginx_status"]
    assert agent(host, run_part, script=script(), service="direct", **metrics)[1]["changed"] is False
    # Without the endpoint the command is a prefix of the running one: still a restart.
    failed, result = agent(host, run_part, script=script(), service="direct")
    assert result["changed"] and result["started"] and "--metrics-listen" not in started[-1]
    assert len(started) == 2
