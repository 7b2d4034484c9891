"""Run modules in-process against a fake host (tests/support/fake_host.py): a temporary nginx.conf
and a stand-in nginx binary that only answers -V and -t. No real nginx is needed; reloads are
recorded, not performed."""
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.parameters import PASS_VARS

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    import contextlib

    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

from ansible_collections.antsle.antman.plugins.module_utils.nginx import control as nginx_utils
from ansible_collections.antsle.antman.tests.support.fake_host import FakeHost


@pytest.fixture
def host(tmp_path, monkeypatch):
    fake = FakeHost(tmp_path)
    monkeypatch.setattr(nginx_utils.Nginx, "require_running", lambda self: 4242)
    monkeypatch.setattr(nginx_utils.Nginx, "master_pid", lambda self: 4242)
    monkeypatch.setattr(nginx_utils.Nginx, "reload", lambda self, timeout=30.0: fake.reloads.append(1) or "signal")
    return fake


@pytest.fixture
def run_module(capsys):
    """run_module(main, args, check_mode=False, diff=False) -> (failed, result)."""

    def run(main, args, check_mode=False, diff=False):
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        if "inject_invocation" in PASS_VARS:
            # ansible-core 2.21 returns `invocation` only when asked (_ansible_inject_invocation);
            # 2.19 always does. The tests check what it holds, so it is asked for.
            args["_ansible_inject_invocation"] = True
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exit_info:
                main()
        result = json.loads(capsys.readouterr().out)
        return exit_info.value.code != 0, result

    return run


@pytest.fixture
def warnings(monkeypatch):
    """The warnings the modules give (module.warn). Under pytest Ansible counts as the controller,
    so warnings go to its display instead of the result; they are captured here."""
    given = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, warning, **kwargs: given.append(warning))
    return given
