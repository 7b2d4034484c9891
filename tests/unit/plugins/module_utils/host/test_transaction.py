"""The transaction on a fake host: plans, check mode, and what a run killed half-way leaves."""
import os

import pytest

from ansible_collections.antsle.antman.plugins.module_utils.host.files import ABSENT, FILE, FileChange, FileState
from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import (
    ApplyError, Transaction, plan_changes, rule_text)
from ansible_collections.antsle.antman.plugins.module_utils.model.request import config_request
from ansible_collections.antsle.antman.tests.support.fake_host import FakeHost


class Died(Exception):
    """Stands for the process being killed at a step."""


def rule_set(*specs):
    raws = [{"name": name, "server_name": "%s.test" % name, "upstreams": [{"address": address}]} for name, address in specs]
    return config_request(raws, state="replaced")


def transaction(host, **kwargs):
    return Transaction(host.rules_dir, host.binary, host.conf, host.run, reload=False, **kwargs)


def apply(host, request, **kwargs):
    return transaction(host, **kwargs).run(lambda snapshot: request.rules, contents=request.contents)


def tree(path):
    result = {}
    for root, _dirs, names in os.walk(path):
        for name in names:
            with open(os.path.join(root, name), "rb") as handle:
                result[os.path.relpath(os.path.join(root, name), path)] = handle.read()
    return result


def die_at(step):
    def on_step(reached):
        if reached == step:
            raise Died(step)
    return on_step


@pytest.fixture
def host(tmp_path):
    return FakeHost(tmp_path)


@pytest.mark.parametrize("step", ["journaled", "switched", "validated"])
def test_check_mode_after_a_killed_run_predicts_what_the_real_run_does(host, step):
    apply(host, rule_set(("web", "10.0.0.1")))
    with pytest.raises(Died):
        apply(host, rule_set(("web", "10.0.0.2"), ("api", "10.0.0.3")), on_step=die_at(step))
    wanted = rule_set(("web", "10.0.0.2"))
    parent = os.path.dirname(host.rules_dir)
    disk = tree(parent)
    predicted = apply(host, wanted, check_mode=True)
    assert tree(parent) == disk, "check mode touched the host"
    done = apply(host, wanted)
    assert predicted.changed and done.changed and done.recovered and predicted.recovered
    assert [c.as_dict() for c in predicted.changes] == [c.as_dict() for c in done.changes] == [
        {"name": "web", "action": "updated"}]
    assert [c.after_text for c in predicted.changes] == [c.after_text for c in done.changes]
    assert sorted(host.files()) == ["web.conf"]
    again = apply(host, wanted, check_mode=True)
    assert not again.changed and not again.recovered


def test_nothing_is_rendered_twice_for_an_unchanged_rule(host, monkeypatch):
    request = rule_set(("web", "10.0.0.1"), ("api", "10.0.0.3"))
    apply(host, request)
    applier = transaction(host).read_host()
    snapshot = applier.host.snapshot(applier.features)
    rendered = []
    from ansible_collections.antsle.antman.plugins.module_utils.host import transaction as module
    monkeypatch.setattr(module, "render_rule", lambda rule, rules_dir, features, unhealthy: rendered.append(rule["name"]) or "")
    changed = rule_set(("web", "10.0.0.9"), ("api", "10.0.0.3"))
    changes = plan_changes(snapshot, changed.rules, host.rules_dir, applier.features)
    assert [c.name for c in changes] == ["web"] and rendered == ["web"]
    assert rule_text(snapshot.rules()["api"], snapshot.managed["api"], host.rules_dir,
                     applier.features) == snapshot.managed["api"].text


def test_nginx_refusal_restores_every_file(host):
    apply(host, rule_set(("web", "10.0.0.1")))
    before = tree(host.rules_dir)
    host.make_nginx_t_fail("nginx: [emerg] host not found in upstream in %s/api.conf:5" % host.rules_dir,
                           when_exists=os.path.join(host.rules_dir, "api.conf"))
    with pytest.raises(ApplyError, match="rule 'api'"):
        apply(host, rule_set(("web", "10.0.0.1"), ("api", "10.0.0.3")))
    assert tree(host.rules_dir) == before


def test_a_configuration_nginx_rejected_before_the_change_is_named_so_not_blamed_on_the_rules(host):
    apply(host, rule_set(("web", "10.0.0.1")))
    before = tree(host.rules_dir)
    host.make_nginx_t_fail('nginx: [emerg] unknown directive "gzip_of" in %s:3' % host.conf)
    with pytest.raises(ApplyError) as error:
        apply(host, rule_set(("web", "10.0.0.1"), ("api", "10.0.0.3")))
    message = str(error.value)
    assert message.startswith("nginx rejects its configuration without this change too: it was invalid before")
    assert 'unknown directive "gzip_of"' in message and error.value.rules == [] and tree(host.rules_dir) == before


def test_an_include_missing_from_nginx_conf_is_refused_before_anything(host):
    with open(host.conf, "w") as handle:
        handle.write("events {}\nhttp {\n}\n")
    applier = transaction(host)  # the constructor reads nothing
    with pytest.raises(ApplyError, match="is not included from the http context"):
        applier.read_host()
    with pytest.raises(ApplyError, match="is not included from the http context"):
        apply(host, rule_set(("web", "10.0.0.1")))
    assert not os.path.exists(host.rules_dir)


def everything(root):
    """{path: (kind, mode, bytes or target)} under ``root``, but the lock (made once, empty)."""
    found = {}
    for directory, dirs, names in os.walk(root):
        for name in dirs + names:
            path = os.path.join(directory, name)
            if name.endswith(".lock"):
                continue
            mode = os.lstat(path).st_mode
            found[os.path.relpath(path, root)] = (mode, os.readlink(path) if os.path.islink(path) else (
                open(path, "rb").read() if os.path.isfile(path) else os.lstat(path).st_ino))
    return found


@pytest.mark.parametrize("rules_dir_is", ["absent", "a plain directory", "a link to the operator's directory"])
def test_a_first_change_nginx_refuses_leaves_rules_dir_exactly_as_it_was(host, rules_dir_is):
    if rules_dir_is == "a plain directory":
        os.makedirs(host.rules_dir)
        with open(os.path.join(host.rules_dir, "hand.conf"), "w") as handle:
            handle.write("# by hand\n")
    elif rules_dir_is != "absent":
        os.makedirs(os.path.join(host.root, "mine"))
        os.symlink(os.path.join(host.root, "mine"), host.rules_dir)
    host.make_nginx_t_fail("nginx: [emerg] no\n", when_exists=os.path.join(host.rules_dir, "web.conf"))
    before = everything(host.root)
    with pytest.raises(ApplyError, match="rule 'web'.*every rule file was restored"):
        apply(host, rule_set(("web", "10.0.0.1")))
    assert everything(host.root) == before


def test_the_operator_s_directory_behind_a_rules_dir_link_is_never_removed(host):
    mine = os.path.join(host.root, "mine")
    os.makedirs(mine)
    with open(os.path.join(mine, "hand.conf"), "w") as handle:
        handle.write("# by hand\n")
    os.symlink(mine, host.rules_dir)
    apply(host, rule_set(("web", "10.0.0.1")))
    apply(host, rule_set(("web", "10.0.0.2")))
    assert os.listdir(mine) == ["hand.conf"] and sorted(host.files()) == ["hand.conf", "web.conf"]


# -- a writer of its own files and rules in one change (the health agent's way) ------------------

STEPS = ["staged", "journaled", "switched", "validated", "finished"]


def state_file(host):
    return os.path.join(host.root, "health.json")


def write_state_and_rules(host, version, **kwargs):
    """A writer that keeps a state file beside nginx's configuration and renders rules from it."""
    path = state_file(host)
    data = ('{"version": %d}\n' % version).encode()

    def files(view):
        before, after = view(path), FileState(path, FILE, data, 0o600)
        return [] if before.same_as(after) else [FileChange(before, after, "created" if before.kind == ABSENT else "updated")]
    request = rule_set(*[("web", "10.0.0.%d" % version)] + [("api", "10.0.1.%d" % version)] * (version > 1))
    return transaction(host, **kwargs).run(lambda snapshot: request.rules, files=files)


def test_a_writer_changes_its_own_file_and_rules_as_one_change(host):
    first = write_state_and_rules(host, 1)
    assert [c.as_dict() for c in first.changes] == [
        {"name": "web", "action": "created"}, {"path": state_file(host), "action": "created"}]
    assert open(state_file(host), "rb").read() == b'{"version": 1}\n' and "10.0.0.1" in host.files()["web.conf"]
    assert oct(os.stat(state_file(host)).st_mode & 0o777) == "0o600"
    assert not write_state_and_rules(host, 1).changed
    host.make_nginx_t_fail("nginx: [emerg] no in %s/api.conf:3\n" % host.rules_dir,
                           when_exists=os.path.join(host.rules_dir, "api.conf"))
    before = everything(host.root)
    with pytest.raises(ApplyError, match="rule 'api': .*every file was restored and nginx keeps serving the previous rules"):
        write_state_and_rules(host, 2)
    assert everything(host.root) == before


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("next_writer", ["the same writer", "a rule module", "a base configuration run"])
def test_a_writer_killed_at_any_step_is_put_back_by_the_next_run_of_any_writer(host, step, next_writer):
    write_state_and_rules(host, 1)
    before = everything(host.root)
    with pytest.raises(Died):
        write_state_and_rules(host, 2, on_step=die_at(step))
    journaled = step in ("journaled", "switched", "validated")  # finished: the journal is gone, v2 complete
    predicted = write_state_and_rules(host, 1, check_mode=True)  # on what the recovery will leave
    assert predicted.recovered == journaled and bool(predicted.changes) == (step == "finished")
    if next_writer == "the same writer":
        outcome = write_state_and_rules(host, 1)
    elif next_writer == "a rule module":
        outcome = apply(host, rule_set(("web", "10.0.0.1")))
    else:
        outcome = transaction(host).run_files(lambda view: [])
    assert outcome.recovered == journaled
    if step != "finished":
        assert everything(host.root) == before and not outcome.changes
    assert write_state_and_rules(host, 1).changed == (step == "finished" and next_writer != "the same writer")
    assert open(state_file(host), "rb").read() == b'{"version": 1}\n' and "server 10.0.0.1:80 " in host.files()["web.conf"]
