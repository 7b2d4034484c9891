"""One part of the role's lb_host_apply run alone, as its own module ran before the parts were one
module: run_part(part, params, check_mode=False, diff=False) -> (failed, result), ``params`` the host
options and the part's own, ``result`` the part's result with the run's diff (a failure as it is)."""
import pytest

from ansible_collections.antsle.antman.plugins.module_utils.modules.lb_host_apply import shared_options
from ansible_collections.antsle.antman.plugins.modules.__load_balancer import lb_host_apply


@pytest.fixture
def run_part(run_module):
    def run(part, params, check_mode=False, diff=False):
        shared = dict((key, value) for key, value in params.items() if key in shared_options())
        own = dict((key, value) for key, value in params.items() if key not in shared_options())
        failed, result = run_module(lb_host_apply.main, dict(shared, **{part: own}), check_mode=check_mode, diff=diff)
        if failed:
            return failed, result
        return failed, dict(result[part], **dict((key, result[key]) for key in ("diff", "invocation") if key in result))
    return run
