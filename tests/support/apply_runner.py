"""Run one apply against a harness nginx in a process of its own, for fault tests.

    python -m ansible_collections.antsle.antman.tests.support.apply_runner SPEC_JSON

SPEC: {"prefix": nginx prefix, "rules_dir": optional rules_dir (default the instance's),
       "rules": [raw rules], "override": delete managed rules not in "rules",
       "kill_at": a step of Transaction (staged, journaled, switched, validated, reloaded, finished)
                  or "mid-write" (half of a rule file written), "mid-write-key" (half of a key
                  file written, tls given as content), "mid-switch" (temporary link made,
                  not renamed), "adopting" (plain directory renamed, link not made yet),
       "pause_at": step, or "start" (before taking the lock), "ready_file": created on reaching it,
       "go_file": waited for before going on,
       "lock_timeout": seconds, "umask": octal umask for the process}
Prints one JSON line: {"changed": bool, "actions": [...]} or {"error": message}. Killed runs print
nothing and end with SIGKILL, as a module process killed by a timeout, an OOM killer or a reboot.
"""
import json
import os
import signal
import sys
import time

from ansible_collections.antsle.antman.tests.support.harness import NginxInstance, nginx_binary, parse_rules

from ansible_collections.antsle.antman.plugins.module_utils.host import rules_dir as rules_dir_module
from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import ApplyError
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def install_mid_write_kill(suffix):
    """Die with half of the first file ending in ``suffix`` written."""
    original = rules_dir_module.write_file

    def write_half_then_die(path, data, mode):
        if path.endswith(suffix):
            original(path, data[:len(data) // 2], mode)
            die()
        original(path, data, mode)
    rules_dir_module.write_file = write_half_then_die


def install_mid_switch_kill():
    original = rules_dir_module.os.symlink

    def symlink_then_die(source, link, *args, **kwargs):
        original(source, link, *args, **kwargs)
        if ".link-" in os.path.basename(link):
            die()
    rules_dir_module.os.symlink = symlink_then_die


def install_adopting_kill():
    def point_to_dies(self, generation):
        die()
    rules_dir_module.RulesDir.point_to = point_to_dies


def pause(spec):
    with open(spec["ready_file"], "w"):
        pass
    deadline = time.monotonic() + 60
    while not os.path.exists(spec["go_file"]):
        if time.monotonic() > deadline:
            raise SystemExit("go_file never came")
        time.sleep(0.01)


def main():
    spec = json.loads(sys.argv[1])
    if "umask" in spec:
        os.umask(spec["umask"])
    nginx = attach(spec["prefix"])
    if spec.get("rules_dir"):
        nginx.rules_dir = spec["rules_dir"]
    kill_at = spec.get("kill_at")
    if kill_at == "mid-write":
        install_mid_write_kill(".conf")
    elif kill_at == "mid-write-key":
        install_mid_write_kill(".key")
    elif kill_at == "mid-switch":
        install_mid_switch_kill()
    elif kill_at == "adopting":
        install_adopting_kill()

    def on_step(step):
        if step == kill_at:
            die()
        if step == spec.get("pause_at"):
            pause(spec)

    try:
        rules, contents = parse_rules(spec["rules"])
    except RuleError as error:
        print(json.dumps({"error": str(error)}))
        return

    def compute(snapshot):
        desired = dict((name, None) for name in snapshot.managed if name not in rules) if spec.get("override") else {}
        desired.update(rules)
        return desired

    applier = nginx.applier(on_step=on_step)
    applier.lock_timeout = spec.get("lock_timeout", 30)
    if spec.get("pause_at") == "start":
        pause(spec)
    try:
        outcome = applier.run(compute, contents=contents)
    except (ApplyError, RuleError) as error:
        print(json.dumps({"error": str(error)}))
        return
    print(json.dumps({"changed": outcome.changed, "recovered": outcome.recovered,
                      "actions": sorted([c.name, c.action] for c in outcome.changes)}))


def attach(prefix):
    """The harness instance of an existing prefix, without rewriting its nginx.conf."""
    nginx = NginxInstance.__new__(NginxInstance)
    nginx.prefix = prefix
    nginx.rules_dir = os.path.join(prefix, "antman.d")
    nginx.conf = os.path.join(prefix, "nginx.conf")
    nginx.pid_file = os.path.join(prefix, "nginx.pid")
    nginx.error_log = os.path.join(prefix, "error.log")
    nginx.access_log = os.path.join(prefix, "access.log")
    nginx.binary = nginx_binary()
    return nginx


if __name__ == "__main__":
    main()
