"""The world of a rolling update on this machine: antlets whose application a playbook can restart,
an inventory that points the ``antsle.antman.rolling`` playbook at a private nginx, deployment task
files, and a run of the playbook that records every task's result. Used by the functional test of
the playbook and by the rolling-update benchmark (bench/rolling.py).

Every host is this machine (``ansible_connection: local``): ``lb`` is the antsle host (its nginx
the private one), ``antlet1..N`` are the antlets, whose application is a backend.py on
127.0.<subnet>.<i> started and stopped through antlet_service.py (pid files in the world's directory).
"""
import json
import os
import socket
import subprocess
import sys
import time

from ansible_collections.antsle.antman.tests.support.harness import free_port, read_events
from ansible_collections.antsle.antman.tests.support.paths import child_env, tool

CALLBACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_plugins")
PLAYBOOK = "antsle.antman.rolling"


class Antlet:
    """One antlet: its name, address and the files of its application service."""

    def __init__(self, directory, name, host):
        self.name, self.host, self.port = name, host, free_port(host)
        self.pid_file = os.path.join(directory, "%s.pid" % name)
        self.log = os.path.join(directory, "%s.log" % name)

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def _service(self, *args):
        subprocess.run(tool("tests.support.antlet_service", *args) + ["--pid-file", self.pid_file], env=child_env(),
                       check=True)

    def restart(self, name, start_after=0.0, delay=0.0, lifetime=900):
        """What a deployment does: stop it, start ``name`` in its place (listening ``start_after`` s later)."""
        self._service("restart", name, self.host, self.port, "--log", self.log, "--delay", delay, "--start-after",
                      start_after, "--lifetime", lifetime)

    def start(self, delay=0.0, lifetime=900):
        """Its application (version 1: it answers with the antlet's name after ``delay`` s), listening
        when this returns; it exits by itself after ``lifetime`` s."""
        self._service("start", self.name, self.host, self.port, "--log", self.log, "--delay", delay,
                      "--lifetime", lifetime)
        wait_listening(self.host, self.port)
        return self

    def stop(self):
        self._service("stop")

    def events(self):
        return read_events(self.log)


def wait_listening(host, port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def make_antlets(directory, count, subnet, delay=0.0, lifetime=900):
    """``count`` antlets on 127.0.<subnet>.1..count, their applications started."""
    return [Antlet(directory, "antlet%d" % index, "127.0.%d.%d" % (subnet, index)).start(delay, lifetime)
            for index in range(1, count + 1)]


DEPLOY = """---
# The deployment of a new version: stop the application, start the new one, which takes
# {start_after} s before it listens (the health check waits for it).
- name: Restart the application as the new version, {{{{ inventory_hostname }}}}
  ansible.builtin.command:
    argv: {argv}
  changed_when: true
"""
DEPLOY_BROKEN = """---
# A deployment that breaks the application: it is stopped and never comes back.
- name: Stop the application for good, {{{{ inventory_hostname }}}}
  ansible.builtin.command:
    argv: {argv}
  changed_when: true
"""


def write_deploy_tasks(path, start_after=1.0, broken=False, delay=0.0, lifetime=900, warmup=0):
    """A deployment task file for the playbook: restart each antlet's application as NAME-v2 (each
    answer taking ``delay`` s, the first ``warmup`` answers 503), or with ``broken`` stop it for good."""
    command = tool("tests.support.antlet_service", "stop" if broken else "restart")
    if not broken:
        command += ["{{ inventory_hostname }}-v2", "{{ antlet_host }}", "{{ antlet_port }}",
                    "--log", "{{ antlet_log }}", "--start-after", str(start_after), "--delay", str(delay),
                    "--lifetime", str(lifetime), "--warmup", str(warmup)]
    command += ["--pid-file", "{{ antlet_pid_file }}"]
    with open(path, "w") as handle:
        handle.write((DEPLOY_BROKEN if broken else DEPLOY).format(argv=json.dumps(command), start_after=start_after))
    return path


def write_inventory(path, nginx, antlets, port_in_address=()):
    """The inventory: ``lb`` in group antsle (the private nginx), each antlet in group antlets,
    its address as ``antman_lb_address`` plus ``rolling_ports``, or for the antlets named in
    ``port_in_address`` as ``antman_lb_address: host:port`` alone."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    lb = dict(local, antman_lb_rules_dir=nginx.rules_dir, antman_lb_nginx_conf=nginx.conf,
              antman_lb_nginx_binary=nginx.binary)
    hosts = {}
    for a in antlets:
        where = {"antman_lb_address": a.address} if a.name in port_in_address else {
            "antman_lb_address": a.host, "rolling_ports": [a.port]}
        hosts[a.name] = dict(local, antlet_host=a.host, antlet_port=a.port, antlet_log=a.log,
                             antlet_pid_file=a.pid_file, **where)
    inventory = {"all": {"children": {"antsle": {"hosts": {"lb": lb}}, "antlets": {"hosts": hosts}}}}
    with open(path, "w") as handle:
        json.dump(inventory, handle, indent=1)
    return path


def run_rolling(directory, inventory, extra_vars, timeout=600):
    """ansible-playbook antsle.antman.rolling: (returncode, [task records], output). Each record is
    {task, host, status, result} (tests/support/callback_plugins/antman_run_summary.py)."""
    summary = os.path.join(directory, "rolling-summary.json")
    env = child_env(dict(os.environ, ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, ANSIBLE_CALLBACKS_ENABLED="antman_run_summary",
                         ANTMAN_RUN_SUMMARY=summary, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
                         ANSIBLE_PYTHON_INTERPRETER=sys.executable))
    proc = subprocess.run(["ansible-playbook", "-i", inventory, PLAYBOOK, "-e", json.dumps(extra_vars)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                          timeout=timeout, check=False)
    try:
        with open(summary) as handle:
            tasks = json.load(handle)["tasks"]
    except (IOError, OSError, ValueError, KeyError):
        tasks = []
    return proc.returncode, tasks, proc.stdout


def module_results(tasks, task_name):
    """[(antlet, item result)] of a looped task of the playbook, in the order they ran."""
    found = []
    for task in tasks:
        if task["task"] == task_name:
            for item in task["result"].get("results", [task["result"]]):
                found.append((task["host"], item))
    return found


DISABLE_TASK = "Take the antlet out of rotation and wait until nginx has no connection to it"
ENABLE_TASK = "Put the antlet back into rotation once it passes the health check"
