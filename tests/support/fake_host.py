"""A fake antsle host for unit tests: a temporary nginx.conf including the rules directory and a
stand-in nginx binary (a shell script) that answers -V, -v (the version in the file ``version``,
1.22.1 unless a test writes another), and -t as the test says (pass, or fail with a given
message, always or only once a given file exists). Reloads are recorded by the tests' fixtures,
never performed."""
import os
import stat
import subprocess

# The arguments are matched one by one, never as one string: a path in them (the tests' temp dirs
# are named by mktemp, e.g. antman-pytest-Vd1cWH) must not read as -V.
FAKE_NGINX = """#!/bin/sh
for arg in "$@"; do
  case "$arg" in
    -v) echo "nginx version: nginx/$(cat "%(version)s")" >&2; exit 0;;
    -V) echo "configure arguments: --prefix=/usr/share/nginx --pid-path=%(pid)s" >&2; exit 0;;
    -t) if [ -e "%(fail)s" ] && { [ ! -e "%(trigger)s" ] || [ -e "$(cat "%(trigger)s")" ]; }; then
          cat "%(fail)s" >&2; exit 1; fi; exit 0;;
  esac
done
exit 0
"""


class FakeHost:
    def __init__(self, root):
        self.root = str(root)
        self.rules_dir = os.path.join(self.root, "antman.d")
        self.conf = os.path.join(self.root, "nginx.conf")
        self.binary = os.path.join(self.root, "nginx")
        self.fail_marker = os.path.join(self.root, "nginx-t-fails")
        self.fail_trigger = os.path.join(self.root, "nginx-t-fails-when")
        self.version_file = os.path.join(self.root, "version")
        self.set_version("1.22.1")
        self.reloads = []
        with open(self.conf, "w") as handle:
            handle.write("events {}\nhttp {\n    include %s/*.conf;\n}\n" % self.rules_dir)
        with open(self.binary, "w") as handle:
            handle.write(FAKE_NGINX % {"pid": os.path.join(self.root, "nginx.pid"), "fail": self.fail_marker,
                                       "version": self.version_file, "trigger": self.fail_trigger})
        os.chmod(self.binary, stat.S_IRWXU)

    def params(self, **extra):
        params = {"rules_dir": self.rules_dir, "nginx_conf": self.conf, "nginx_binary": self.binary}
        params.update(extra)
        return params

    def set_version(self, version):
        """What ``nginx -v`` says from now on."""
        with open(self.version_file, "w") as handle:
            handle.write(version)

    def make_nginx_t_fail(self, message, when_exists=None):
        """``nginx -t`` fails with ``message`` from now on, or only while ``when_exists`` exists
        (the file a change writes: nginx refuses the change, not what was there before)."""
        with open(self.fail_marker, "w") as handle:
            handle.write(message)
        if when_exists:
            with open(self.fail_trigger, "w") as handle:
                handle.write(when_exists)

    def files(self):
        if not os.path.isdir(self.rules_dir):
            return {}
        return dict((n, open(os.path.join(self.rules_dir, n)).read()) for n in sorted(os.listdir(self.rules_dir)))

    def run(self, args):
        """A ``run`` callable for Transaction: runs the fake binary."""
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr
