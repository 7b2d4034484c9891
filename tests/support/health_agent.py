"""The health agent as the role runs it, for tests and benchmarks: its code and script installed in
a directory of their own by lb_host_apply's agent part (plugins/module_utils/health/install.py),
started with the unit's command line and no PYTHONPATH (it imports the installed copy), logging to
a file."""
import os
import signal
import subprocess
import sys

from ansible_collections.antsle.antman.plugins.module_utils.health.command import SCRIPT, command
from ansible_collections.antsle.antman.plugins.module_utils.health.install import install
from ansible_collections.antsle.antman.tests.support.harness import _die_with_parent
from ansible_collections.antsle.antman.tests.support.paths import COLLECTION


class AgentProcess:
    """The agent of one private nginx (tests/support/harness.py NginxInstance) in a process of its own."""

    def __init__(self, nginx, directory, **options):
        self.nginx = nginx
        self.options = options  # command.command's: metrics_listen, metrics_allow, stub_status_url
        self.log_path = os.path.join(str(directory), "agent.log")
        self.lib_dir = os.path.join(str(directory), "antsle-antman")
        self.proc = None

    def start(self):
        with open(os.path.join(COLLECTION, "roles", "load_balancer", "files", SCRIPT), "rb") as handle:
            install(self.lib_dir, handle.read())
        env = dict((k, v) for k, v in os.environ.items() if k != "PYTHONPATH")
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(
                command(sys.executable, self.lib_dir, self.nginx.rules_dir, self.nginx.binary, self.nginx.conf, **self.options),
                env=env, stdout=subprocess.DEVNULL, stderr=log, preexec_fn=_die_with_parent)
        return self

    def stop(self, how=signal.SIGTERM):
        """Signal it (SIGTERM: a clean stop) and wait; killed if it does not stop within 30 s."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(how)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        with open(self.log_path) as handle:
            return handle.read()
