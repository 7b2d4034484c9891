"""The transaction on a fake host: plans, check mode, and what a run killed half-way leaves."""
import os

import pytest

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
    applier = transaction(host)
    snapshot = applier.host.snapshot(applier.features)
    rendered = []
    from ansible_collections.antsle.antman.plugins.module_utils.host import transaction as module
    monkeypatch.setattr(module, "render_rule", lambda rule, rules_dir, features: rendered.append(rule["name"]) or "")
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
    with pytest.raises(ApplyError, match="is not included from the http context"):
        transaction(host)
    assert not os.path.exists(host.rules_dir)
