"""Private keys given to the modules never come back: not in a result, a diff, an error or the
``invocation`` Ansible adds to every result, whatever the state, check mode, or where the key was
put (its own option, a wrong one, a misspelt one). Only the key file (0600) holds it."""
import json
import os

import pytest

from ansible_collections.antsle.antman.plugins.modules import lb_rule, lb_rule_info, lb_rules
from ansible_collections.antsle.antman.tests.support.hostile_cases import CASES, CERT, KEY, SECRET

SHOP = {"name": "shop", "server_name": "shop.local", "server_port": 443, "redirect_http": True,
        "tls": {"certificate_content": CERT, "key_content": KEY}, "upstreams": [{"address": "10.0.0.1"}]}
SECRET_CASES = [c for c in CASES if c.secret]


def clean(result):
    text = json.dumps(result)
    assert SECRET not in text, "key material in the module result"
    return result


def key_files(host):
    """Every file of the rules directory that holds the key: only shop.key, mode 0600."""
    holding = []
    for name, text in host.files().items():
        if SECRET in text:
            holding.append((name, os.stat(os.path.join(host.rules_dir, name)).st_mode & 0o777))
    return holding


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "apply"])
def test_lb_rule_never_returns_the_key(host, run_module, check_mode):
    failed, result = run_module(lb_rule.main, host.params(**SHOP), check_mode=check_mode, diff=True)
    assert not failed and clean(result)["changed"] and result["diff"]["after"]
    assert result["invocation"]["module_args"]["tls"]["key_content"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert key_files(host) == ([] if check_mode else [("shop.key", 0o600)])
    failed, result = run_module(lb_rule.main, host.params(**dict(SHOP, server_name="www.shop.local")), diff=True)
    assert not failed and clean(result)["changed"]
    failed, result = run_module(lb_rule.main, host.params(name="shop", state="absent"), diff=True)
    assert not failed and clean(result)["changed"] and key_files(host) == []


def test_lb_rules_never_returns_the_key_in_any_state(host, run_module):
    config = [SHOP, {"name": "web", "server_name": "web.local", "upstreams": [{"address": "10.0.0.2"}]}]
    for state in ("rendered", "merged", "replaced", "overridden"):
        for check_mode in (True, False):
            failed, result = run_module(lb_rules.main, host.params(state=state, config=config), check_mode=check_mode,
                                        diff=True)
            assert not failed, result
            clean(result)
    assert key_files(host) == [("shop.key", 0o600)]
    failed, result = run_module(lb_rules.main, host.params(state="merged", config=[
        {"name": "shop", "tls": {"certificate_content": CERT, "key_content": KEY.replace("abc", "xyz")}}]), diff=True)
    assert not failed and clean(result)["changed"]
    for module, args in ((lb_rules.main, dict(state="gathered")), (lb_rule_info.main, {})):
        failed, result = run_module(module, host.params(**args))
        assert not failed and clean(result)
    failed, result = run_module(lb_rules.main, host.params(state="deleted"), diff=True)
    assert not failed and clean(result)["changed"] and key_files(host) == []


@pytest.mark.parametrize("case", SECRET_CASES, ids=[c.id for c in SECRET_CASES])
def test_a_refused_rule_set_never_returns_the_key(host, run_module, case):
    """The hand-written cases that hold a key, as lb_rules config entries next to a valid rule
    (one without a key of its own: the key is only in the refused entry)."""
    other = {"name": "api", "server_name": "api.local", "upstreams": [{"address": "10.0.0.2"}]}
    failed, result = run_module(lb_rules.main, host.params(state="overridden", config=[other, case.raw()]), diff=True)
    assert failed and clean(result)
    assert host.files() == {}
