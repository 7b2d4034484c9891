"""The health agent as a writer, on a fake host: verdicts and the rule files they change in one
generation; the modules then see no drift, keep held-out upstreams out, and an edit keeps them;
a killed apply is repaired by the next writer."""
import os

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.health.verdicts import VERDICTS_FILE, Verdict, Verdicts
from ansible_collections.antsle.antman.plugins.module_utils.health.writer import VerdictWriter
from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import ApplyError, Transaction
from ansible_collections.antsle.antman.plugins.module_utils.model.request import config_request
from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import Nginx
from ansible_collections.antsle.antman.tests.support.fake_host import FakeHost

A, B, C = "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"
HELD = "down;  # out of rotation: failed its health check"


class Died(Exception):
    """Stands for the agent being killed at a step."""


@pytest.fixture
def host(tmp_path):
    return FakeHost(tmp_path)


def web(**fields):
    raw = {"name": "web", "server_name": "web.test", "upstreams": [{"address": A}, {"address": B}, {"address": C}]}
    raw.update(fields)
    return raw


def module_run(host, raws, check_mode=False):
    """What lb_rules state=replaced does with ``raws``."""
    request = config_request(raws, state="replaced")
    return Transaction(host.rules_dir, host.binary, host.conf, host.run, reload=False, check_mode=check_mode).run(
        lambda snapshot: request.rules, contents=request.contents)


def verdicts(**by_rule):
    return Verdicts(dict((name, dict((a, Verdict(1000.0, "no answer within 1000 ms")) for a in addresses))
                         for name, addresses in by_rule.items()))


def agent_apply(host, wanted, on_step=None):
    return VerdictWriter(host.rules_dir, host.binary, host.conf, host.run, on_step=on_step).apply(lambda rules, applied: wanted)


def server_lines(host, name="web"):
    return [line.strip() for line in host.files()["%s.conf" % name].splitlines() if line.strip().startswith("server ") and not line.strip().endswith("{")]


def test_verdicts_and_the_rule_files_they_change_switch_together(host):
    module_run(host, [web(), {"name": "api", "server_name": "api.test", "upstreams": [{"address": A}]}])
    api_before = host.files()["api.conf"]
    outcome = agent_apply(host, verdicts(web=[B]))
    assert outcome.rules == ["web"] and not outcome.reloaded  # the fake host's nginx does not run
    assert server_lines(host) == ["server 10.0.0.1:80 weight=1 max_fails=5 fail_timeout=10s;",
                                  "server 10.0.0.2:80 weight=1 max_fails=5 fail_timeout=10s %s" % HELD,
                                  "server 10.0.0.3:80 weight=1 max_fails=5 fail_timeout=10s;"]
    assert host.files()["api.conf"] == api_before
    assert VERDICTS_FILE in host.files() and outcome.verdicts == verdicts(web=[B])
    # the same verdicts again: nothing to do
    again = agent_apply(host, verdicts(web=[B]))
    assert not again.changed and again.rules == []


def test_a_playbook_run_keeps_a_held_out_upstream_out_and_reports_no_change(host):
    module_run(host, [web()])
    agent_apply(host, verdicts(web=[B]))
    files = host.files()
    assert not module_run(host, [web()], check_mode=True).changed
    outcome = module_run(host, [web()])
    assert not outcome.changed and host.files() == files
    # an edit of the rule keeps the verdict: the new file still holds B out
    edited = module_run(host, [web(read_timeout="30s")])
    assert edited.changed and [c.name for c in edited.changes] == ["web"]
    assert "server 10.0.0.2:80 weight=1 max_fails=5 fail_timeout=10s %s" % HELD in server_lines(host)
    assert edited.changes[0].diff()["after"] == host.files()["web.conf"]
    # the diff shows the edit, not the agent's line as a change
    before_lines = set(edited.changes[0].diff()["before"].splitlines())
    after_lines = set(edited.changes[0].diff()["after"].splitlines())
    assert [line for line in after_lines - before_lines if "server " in line] == []


def test_declared_down_wins_and_its_verdict_is_dropped_by_the_next_apply(host):
    module_run(host, [web()])
    agent_apply(host, verdicts(web=[B]))
    module_run(host, [web(upstreams=[{"address": A}, {"address": B, "down": True}, {"address": C}])])
    assert "server 10.0.0.2:80 weight=1 max_fails=5 fail_timeout=10s down;" in server_lines(host)
    outcome = agent_apply(host, verdicts(web=[B]))  # the agent still thinks so; the verdict goes
    assert outcome.rules == [] and outcome.verdicts == Verdicts() and VERDICTS_FILE not in host.files()


def test_fail_open_writes_the_verdicts_but_no_rule_file(host):
    module_run(host, [web()])
    before = host.files()["web.conf"]
    outcome = agent_apply(host, verdicts(web=[A, B, C]))
    assert outcome.rules == [] and host.files()["web.conf"] == before
    assert outcome.verdicts == verdicts(web=[A, B, C])
    # one of them passes again: the two others leave rotation
    agent_apply(host, verdicts(web=[A, B]))
    assert [HELD in line for line in server_lines(host)] == [True, True, False]


def test_verdicts_of_rules_gone_or_unchecked_are_pruned(host):
    module_run(host, [web(), {"name": "api", "server_name": "api.test", "upstreams": [{"address": A}],
                              "health_check": {"enabled": False}}])
    outcome = agent_apply(host, verdicts(web=[A], api=[A], gone=[A]))
    assert outcome.verdicts == verdicts(web=[A])


@pytest.mark.parametrize("step", ["staged", "journaled", "switched", "validated"])
def test_an_apply_killed_half_way_is_repaired_by_the_next_writer(host, step):
    module_run(host, [web()])
    before = host.files()

    def die(reached):
        if reached == step:
            raise Died(step)
    with pytest.raises(Died):
        agent_apply(host, verdicts(web=[B]), on_step=die)
    outcome = module_run(host, [web()])
    assert not outcome.changes and host.files() == before
    assert outcome.recovered == (step != "staged")


def test_nginx_refusing_the_change_leaves_every_file_as_it_was(host):
    module_run(host, [web()])
    before = host.files()
    host.make_nginx_t_fail("nginx: [emerg] something in %s/web.conf:3" % host.rules_dir,
                           when_exists=os.path.join(host.rules_dir, VERDICTS_FILE))
    with pytest.raises(ApplyError, match="rule 'web'"):
        agent_apply(host, verdicts(web=[B]))
    assert host.files() == before


def test_with_nginx_running_a_rotation_change_reloads_once_and_verdicts_alone_are_only_validated(host, monkeypatch):
    module_run(host, [web()])
    tests = []
    monkeypatch.setattr(Nginx, "master_pid", lambda self: 4242)
    monkeypatch.setattr(Nginx, "reload", lambda self, timeout=30.0: host.reloads.append(1) or "signal")
    monkeypatch.setattr(Nginx, "test", lambda self: tests.append(1))
    outcome = agent_apply(host, verdicts(web=[A, B, C]))  # fail open: the rule file as it was
    assert outcome.rules == [] and not outcome.reloaded and host.reloads == [] and len(tests) == 1
    assert VERDICTS_FILE in host.files()
    outcome = agent_apply(host, verdicts(web=[B]))  # one out: its rule file, one reload
    assert outcome.rules == ["web"] and outcome.reloaded and len(host.reloads) == 1 and len(tests) == 2
    outcome = agent_apply(host, verdicts(web=[B]))
    assert not outcome.changed and len(host.reloads) == 1 and len(tests) == 2  # nothing to validate either
