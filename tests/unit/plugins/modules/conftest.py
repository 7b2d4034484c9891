"""Run modules in-process against a fake host: a temporary nginx.conf and a stand-in nginx binary
that only answers -V and -t. No real nginx is needed; reloads are recorded, not performed."""
import json
import os
import stat

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

from ansible_collections.antsle.antman.plugins.module_utils import nginx as nginx_utils

FAKE_NGINX = """#!/bin/sh
case "$*" in
  *-V*) echo "configure arguments: --prefix=/usr/share/nginx --pid-path=%(pid)s" >&2; exit 0;;
  *-t*) if [ -e "%(fail)s" ]; then cat "%(fail)s" >&2; exit 1; fi; exit 0;;
esac
exit 0
"""


class FakeHost:
    def __init__(self, root):
        self.root = str(root)
        self.rules_dir = os.path.join(self.root, "antman.d")
        self.conf = os.path.join(self.root, "nginx.conf")
        self.binary = os.path.join(self.root, "nginx")
        self.fail_marker = os.path.join(self.root, "nginx-t-fails")
        self.reloads = []
        with open(self.conf, "w") as handle:
            handle.write("events {}\nhttp {\n    include %s/*.conf;\n}\n" % self.rules_dir)
        with open(self.binary, "w") as handle:
            handle.write(FAKE_NGINX % {"pid": os.path.join(self.root, "nginx.pid"), "fail": self.fail_marker})
        os.chmod(self.binary, stat.S_IRWXU)

    def params(self, **extra):
        params = {"rules_dir": self.rules_dir, "nginx_conf": self.conf, "nginx_binary": self.binary}
        params.update(extra)
        return params

    def make_nginx_t_fail(self, message):
        with open(self.fail_marker, "w") as handle:
            handle.write(message)

    def files(self):
        if not os.path.isdir(self.rules_dir):
            return {}
        return dict((n, open(os.path.join(self.rules_dir, n)).read()) for n in sorted(os.listdir(self.rules_dir)))


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
