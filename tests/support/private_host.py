"""A Debian host of its own, for running the playbooks of README.md and docs/ exactly as written.

The documented playbooks say ``hosts: antsle``, ``become: true`` and use the default paths
(``/etc/nginx/nginx.conf``, ``/etc/nginx/antman.d``) and ports (80, 8080). ``PrivateHost`` gives
them such a host without touching this machine's own nginx: a mount namespace in which
``/etc/nginx`` is a copy of this machine's (Debian's nginx package, as installed) and ``/run``,
``/var/log/nginx`` and ``/var/lib/nginx`` are empty directories of the test's, and a network
namespace with loopback only (its ports are free, its upstreams unreachable). Ansible runs in both
(``nsenter``) with a local connection, so the role starts nginx there as it would on a host without
an init system; ``stop`` ends every process left in them and removes the directories.

``doc_block(file, first_line)`` is the fenced YAML block of a documentation file that holds that
line, read from the file each time: a test runs the text users copy, never a retyped one.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from ansible_collections.antsle.antman.plugins.module_utils.nginx.control import process_alive
from ansible_collections.antsle.antman.tests.support.harness import _die_with_parent
from ansible_collections.antsle.antman.tests.support.paths import COLLECTION, child_env, tool

# Directories of the host that the namespace replaces: /etc/nginx by a copy, the others empty.
PRIVATE_DIRS = ("/etc/nginx", "/run", "/var/log/nginx", "/var/lib/nginx")
FENCE = "```"


def doc_block(relative, first_line):
    """The text of the fenced ``yaml`` block of ``relative`` (a file of the collection) that has a
    line equal to ``first_line`` (stripped); AssertionError when there is none, or more than one."""
    with open(os.path.join(COLLECTION, relative)) as handle:
        lines = handle.read().split("\n")
    blocks, current = [], None
    for line in lines:
        if current is None and line.strip() == FENCE + "yaml":
            current = []
        elif current is not None and line.strip() == FENCE:
            blocks.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line)
    found = [block for block in blocks if first_line.strip() in [line.strip() for line in block.split("\n")]]
    assert len(found) == 1, "%s: %d yaml blocks with the line %r" % (relative, len(found), first_line)
    return found[0]


class PrivateHost:
    """The host: ``directory`` holds its private directories, playbooks and inventory."""

    def __init__(self, directory):
        self.directory = str(directory)
        self.holder = None
        self.sources = dict((path, os.path.join(self.directory, "root" + path)) for path in PRIVATE_DIRS)

    def start(self):
        try:
            for path, source in self.sources.items():
                if path == "/etc/nginx":
                    shutil.copytree(path, source, symlinks=True)
                else:
                    os.makedirs(source)
                os.chmod(source, 0o755)  # nginx's workers (www-data) reach /var/lib/nginx
            for parent in (self.directory, os.path.join(self.directory, "root")):
                os.chmod(parent, 0o755)
            self.holder = subprocess.Popen(["unshare", "--mount", "--net", "--propagation", "private", "sleep", "infinity"],
                                           preexec_fn=_die_with_parent)
            deadline = time.monotonic() + 10
            while self._namespace("net") == os.readlink("/proc/self/ns/net"):
                assert time.monotonic() < deadline and self.holder.poll() is None, "unshare did not start"
                time.sleep(0.01)
            self.run(["ip", "link", "set", "lo", "up"])
            for path, source in self.sources.items():
                self.run(["mount", "--bind", source, path])
        except Exception:
            self.stop()
            raise
        return self

    def _namespace(self, kind, pid=None):
        try:
            return os.readlink("/proc/%d/ns/%s" % (pid or self.holder.pid, kind))
        except OSError:
            return None

    def run(self, args, check=True, **kwargs):
        """Run ``args`` on the host (in its namespaces)."""
        return subprocess.run(["nsenter", "-t", str(self.holder.pid), "-m", "-n", "--"] + list(args), check=check,
                              env=child_env(), **kwargs)

    def path(self, host_path):
        """Where a file of the host's private directories is, seen from this machine."""
        for path, source in self.sources.items():
            if host_path == path or host_path.startswith(path + "/"):
                return source + host_path[len(path):]
        raise ValueError("%s is not in the host's private directories" % host_path)

    def play(self, text, name, results=(), options=()):
        """Run the playbook ``text`` (saved as ``name``.yml) against the host as the group ``antsle``
        (root, connection local): playrun's summary (rc, changed, changed_tasks, diffs, errors,
        messages; ``results``: the results of the tasks of these names), ``options`` for ansible-playbook."""
        playbook = os.path.join(self.directory, name + ".yml")
        with open(playbook, "w") as handle:
            handle.write(text)
        inventory = os.path.join(self.directory, "inventory.json")
        with open(inventory, "w") as handle:
            # Root already: become has nothing to do (this machine has no sudo).
            json.dump({"antsle": {"hosts": {"antsle-host": {
                "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                "ansible_become": False}}}}, handle)
        asked = [arg for task in results for arg in ("--results", task)]
        proc = self.run(tool("tests.support.playrun", *(asked + ["--", "-i", inventory, playbook] + list(options))),
                        stdout=subprocess.PIPE, universal_newlines=True)
        return json.loads(proc.stdout)

    def get(self, port, host_header):
        """(status, body) of GET / with that Host on the host's own loopback, or (None, why)."""
        code = ("import json\nfrom ansible_collections.antsle.antman.tests.support.harness import get\n"
                "try:\n    print(json.dumps(get(%d, %r, timeout=5.0)))\n"
                "except OSError as error:\n    print(json.dumps([None, str(error)]))\n" % (port, host_header))
        proc = self.run([sys.executable, "-c", code], stdout=subprocess.PIPE, universal_newlines=True)
        return tuple(json.loads(proc.stdout))

    def processes(self):
        """Pids of the processes in the host's mount namespace, besides the one holding it."""
        mine = self._namespace("mnt")
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != self.holder.pid and self._namespace("mnt", int(entry)) == mine:
                found.append(int(entry))
        return sorted(found)

    def stop(self):
        """Every process left on the host stopped (nginx: SIGQUIT first), the namespaces gone, the
        directories removed. Safe after a partial start."""
        if self.holder is not None and self.holder.poll() is None:
            for how, grace in ((signal.SIGQUIT, 10.0), (signal.SIGKILL, 5.0)):
                left = self.processes()
                for pid in left:
                    try:
                        os.kill(pid, how)
                    except OSError:
                        pass
                deadline = time.monotonic() + grace
                while any(process_alive(pid) for pid in left) and time.monotonic() < deadline:
                    time.sleep(0.05)
            self.holder.kill()
            self.holder.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
