"""The hand-written hostile options of lb_upstream (tests/support/hostile_cases.py) against its
model: each refused with the message the table gives, every problem naming its option, nothing of
a private key shown."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.model.upstream import parse_request
from ansible_collections.antsle.antman.tests.support.hostile_cases import UPSTREAM_CASES, UPSTREAM_MODULE_ONLY

OPTIONS = ("address", "state", "rules", "wait_drained", "timeout", "health_check", "health_path", "health_status",
           "healthy_after", "health_interval", "allow_missing")
MODEL_CASES = [c for c in UPSTREAM_CASES if c.id not in UPSTREAM_MODULE_ONLY]


@pytest.mark.parametrize("case", MODEL_CASES, ids=[c.id for c in MODEL_CASES])
def test_hostile_option_is_refused_naming_it(case):
    with pytest.raises(RuleError) as info:
        parse_request(case.raw())
    message = str(info.value)
    assert case.error in message
    assert all(problem.split(":")[0] in OPTIONS for problem in info.value.problems), info.value.problems
    assert all(" " <= ch <= "~" for ch in message), "unprintable message %r" % message
    if case.secret:
        assert case.secret not in message
