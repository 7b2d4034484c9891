"""The hand-written hostile inputs through the real lb_rule entry point: Ansible's argument spec
converts types first (a dict given for a ``type: str`` option arrives as its repr), and the error
must still name the field, and nothing on the host may change."""
import json
import os
import re

import pytest

from ansible_collections.antsle.antman.plugins.modules import lb_rule, lb_rule_info, lb_rules
from ansible_collections.antsle.antman.tests.support.hostile_cases import (
    ANSIBLE_UNNAMED_ERRORS, BASE, CASES, CERT, KEY, MODEL_ONLY)

MODULE_CASES = [c for c in CASES if c.id not in MODEL_ONLY]
EXISTING = dict(BASE, name="existing", server_name="existing.local")


def tree(root):
    """Every path under ``root`` with its type, mode and content (or link target)."""
    state = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if os.path.islink(path):
                state[path] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                state[path] = ("dir", info.st_mode)
            else:
                with open(path, "rb") as handle:
                    state[path] = ("file", info.st_mode, handle.read())
    return state


def field_of(case):
    """The option a case's model error blames: "upstreams[0].weight: ..." -> "weight"."""
    unsupported = re.search(r'unsupported field "(\w+)"', case.error)
    if unsupported:
        return unsupported.group(1)
    return re.sub(r"\[\d+\]", "", case.error.split(":")[0]).split(".")[-1]


@pytest.fixture
def populated(host, run_module):
    failed, result = run_module(lb_rule.main, host.params(**EXISTING))
    assert not failed and result["changed"]
    return host


@pytest.mark.parametrize("case", MODULE_CASES, ids=[c.id for c in MODULE_CASES])
def test_hostile_input_through_the_module_changes_nothing(populated, run_module, case):
    before, reloads = tree(populated.root), len(populated.reloads)
    failed, result = run_module(lb_rule.main, populated.params(**case.raw()))
    assert failed, result
    assert case.module_error in result["msg"]
    if case.module_error not in ANSIBLE_UNNAMED_ERRORS:
        assert field_of(case) in result["msg"]
    if case.secret:
        assert case.secret not in json.dumps(result), "private key in the module result (invocation included)"
    assert tree(populated.root) == before and len(populated.reloads) == reloads


@pytest.mark.parametrize("name", ["../../etc/passwd", "web;", {"a": 1}, "web\nx"])
def test_hostile_names_for_absent_and_info_change_nothing(populated, run_module, name):
    before = tree(populated.root)
    failed, result = run_module(lb_rule.main, populated.params(name=name, state="absent"))
    assert failed and result["msg"].startswith("name: ")
    failed, result = run_module(lb_rule_info.main, populated.params(name=name))
    assert failed and result["msg"].startswith("name: ")
    assert tree(populated.root) == before


def test_hostile_nginx_binary_is_never_run_through_a_shell(populated, run_module, tmp_path):
    marker = tmp_path / "pwned"
    failed, result = run_module(lb_rule.main, dict(populated.params(**BASE),
                                                   nginx_binary="nginx; touch %s" % marker))
    assert failed and "nginx binary 'nginx; touch %s' not found" % marker in result["msg"]
    assert not marker.exists()


SHOP = dict(BASE, name="shop", server_name="shop.local", server_port=443,
            tls={"certificate_content": CERT, "key_content": KEY})
SSH = {"name": "ssh", "protocol": "tcp", "server_port": 2222, "upstreams": [{"address": "10.0.0.1:22"}]}


@pytest.mark.parametrize("own_file, rule", [
    ("web.conf", BASE), ("shop.key", SHOP), ("shop.crt", SHOP), ("ssh.stream", SSH)])
def test_a_file_the_collection_does_not_manage_is_never_overwritten(host, run_module, own_file, rule):
    """A file someone wrote in rules_dir (their own server, their own key) with the name a rule's
    file, certificate or key would have: the rule is refused, naming it, and nothing changes."""
    os.makedirs(host.rules_dir)
    with open(host.conf, "a") as handle:
        handle.write("stream {\n    include %s/*.stream;\n}\n" % host.rules_dir)
    with open(os.path.join(host.rules_dir, own_file), "w") as handle:
        handle.write("written by hand\n")
    before = tree(host.root)
    for module, args in ((lb_rule.main, rule), (lb_rules.main, dict(state="merged", config=[rule]))):
        for check_mode in (True, False):
            failed, result = run_module(module, host.params(**args), check_mode=check_mode)
            assert failed and "rule '%s': %s is in %s but not managed by antsle.antman" % (
                rule["name"], own_file, host.rules_dir) in result["msg"], result
            after = dict((path, state) for path, state in tree(host.root).items() if not path.endswith(".lock"))
            assert after == before and not host.reloads
