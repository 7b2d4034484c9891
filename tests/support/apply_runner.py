"""Run one apply against a harness nginx in a process of its own, for fault tests.

    python -m ansible_collections.antsle.antman.tests.support.apply_runner SPEC_JSON

SPEC: {"prefix": nginx prefix, "rules_dir": optional rules_dir (default the instance's),
       "rules": [raw rules], "override": delete managed rules not in "rules",
       "files": [{"path", "content", "mode"}], "includes": [{"path", "context"}]: a base configuration
                  run instead (the base part's plan, Transaction.run_files),
       "kill_at": a step of Transaction (staged, journaled, switched, validated, reloaded, finished)
                  or "mid-write" (half of a new .conf file written: a rule file in the staged
                  generation, or a base file's temporary beside it), "mid-write-key" (the same for a
                  .key file), "mid-switch" (rules_dir's temporary link made, not renamed),
                  "mid-apply" (the first base file renamed into place, not the others),
                  "adopting" (the plain rules directory moved aside, the link not made yet),
       "pause_at": step, or "start" (before taking the lock), "ready_file": created on reaching it,
       "go_file": waited for before going on,
       "lock_timeout": seconds, "umask": octal umask for the process}
Prints one JSON line: {"changed": bool, "recovered": bool, "actions": [[name or path, action]...]} or
{"error": message}. Killed runs print nothing and end with SIGKILL, as a module process killed by a
timeout, an OOM killer or a reboot.
"""
import json
import os
import signal
import sys
import time

from ansible_collections.antsle.antman.tests.support.harness import NginxInstance, nginx_binary, parse_rules

from ansible_collections.antsle.antman.plugins.module_utils.host import files as files_module
from ansible_collections.antsle.antman.plugins.module_utils.host import journal as journal_module
from ansible_collections.antsle.antman.plugins.module_utils.host import rules_dir as rules_dir_module
from ansible_collections.antsle.antman.plugins.module_utils.host.transaction import ApplyError
from ansible_collections.antsle.antman.plugins.module_utils.model.rule import RuleError
from ansible_collections.antsle.antman.plugins.module_utils.modules.lb_base_config import BaseRequest, plan

TEMPORARY = ".antman-new"  # files.temporary_path


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def install_mid_write_kill(suffix):
    """Die with half of the first file ending in ``suffix`` (or its temporary) written."""
    original = files_module.write_file

    def write_half_then_die(path, data, mode):
        if path.endswith(suffix) or path.endswith(suffix + TEMPORARY):
            original(path, data[:len(data) // 2], mode)
            die()
        original(path, data, mode)
    for module in (files_module, journal_module, rules_dir_module):
        module.write_file = write_half_then_die


def install_mid_switch_kill():
    original = os.symlink

    def symlink_then_die(source, link, *args, **kwargs):
        original(source, link, *args, **kwargs)
        if os.path.basename(link).endswith(TEMPORARY):
            die()
    os.symlink = symlink_then_die


def install_rename_kill(last):
    """Die right after the first rename(2) for which ``last(source, target)`` holds."""
    original = os.rename

    def rename_then_maybe_die(source, target, *args, **kwargs):
        original(source, target, *args, **kwargs)
        if last(source, target):
            die()
    os.rename = rename_then_maybe_die


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
    elif kill_at == "mid-apply":
        install_rename_kill(lambda source, target: source.endswith(TEMPORARY))
    elif kill_at == "adopting":
        install_rename_kill(lambda source, target: source == os.path.abspath(nginx.rules_dir))

    def on_step(step):
        if step == kill_at:
            die()
        if step == spec.get("pause_at"):
            pause(spec)

    applier = nginx.applier(on_step=on_step)
    applier.lock_timeout = spec.get("lock_timeout", 30)
    if spec.get("pause_at") == "start":
        pause(spec)
    try:
        if "files" in spec:
            request = BaseRequest({"files": spec["files"], "links": [], "remove_links": [], "logs": [],
                                   "includes": spec.get("includes", []), "nginx_conf": nginx.conf})
            outcome = applier.run_files(lambda view: plan(request, view, applier.host.scan, nginx.conf))
        else:
            rules, contents = parse_rules(spec["rules"])

            def compute(snapshot):
                desired = dict((name, None) for name in snapshot.managed if name not in rules) if spec.get("override") else {}
                desired.update(rules)
                return desired
            outcome = applier.run(compute, contents=contents)
    except (ApplyError, RuleError) as error:
        print(json.dumps({"error": str(error)}))
        return
    print(json.dumps({"changed": outcome.changed, "recovered": outcome.recovered,
                      "actions": sorted(list(c.as_dict().values()) for c in outcome.changes)}))


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
