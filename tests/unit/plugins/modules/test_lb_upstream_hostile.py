"""The hand-written hostile options of lb_upstream through its real entry point: Ansible's argument
spec converts types first, the error must still name the option, and nothing on the host may
change (no file, no reload), with any private key given masked in the whole result."""
import json

import pytest

from ansible_collections.antsle.antman.plugins.modules import lb_rules, lb_upstream
from ansible_collections.antsle.antman.tests.support.fault_tools import tree
from ansible_collections.antsle.antman.tests.support.hostile_cases import (
    ANSIBLE_UNNAMED_ERRORS, BASE, UPSTREAM_CASES, UPSTREAM_MODEL_ONLY)

MODULE_CASES = [c for c in UPSTREAM_CASES if c.id not in UPSTREAM_MODEL_ONLY]


@pytest.fixture
def populated(host, run_module):
    failed, result = run_module(lb_rules.main, host.params(state="merged", config=[
        dict(BASE, upstreams=[{"address": "10.0.0.1"}, {"address": "10.0.0.2"}])]))
    assert not failed and result["changed"]
    return host


@pytest.mark.parametrize("case", MODULE_CASES, ids=[c.id for c in MODULE_CASES])
def test_hostile_option_through_the_module_changes_nothing(populated, run_module, case):
    before, reloads = tree(populated.root), len(populated.reloads)
    args = dict((key, value) for key, value in case.raw().items() if value is not None)
    failed, result = run_module(lb_upstream.main, populated.params(**args))
    assert failed, result
    assert case.module_error in result["msg"], result["msg"]
    if case.module_error not in ANSIBLE_UNNAMED_ERRORS and case.id != "unknown-option":
        assert any(option in result["msg"] for option in case.options), result["msg"]
    if case.secret:
        assert case.secret not in json.dumps(result), "private key in the module result (invocation included)"
    assert tree(populated.root) == before and len(populated.reloads) == reloads
