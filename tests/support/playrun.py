"""Run ansible-playbook and summarise what it did, for tests that check a run's effects.

  playrun.py [--ansible-playbook PATH] [--results TASK]... [--absent-env VAR] -- ARGS...   (ARGS as for ansible-playbook)

Runs ``ansible-playbook ARGS`` with the callback callback_plugins/antman_run_summary.py enabled and
prints one JSON object:
  rc, failed (hosts with failures or unreachable), changed (sum of every host's changed count),
  changed_tasks (names of the tasks that changed something),
  reloads (nginx reloads: reloaded=true in module results, in their nested results too),
  diffs (every diff text the run produced, in order), errors (messages of failed tasks),
  messages (the ``msg`` of tasks that succeeded with one, such as ansible.builtin.debug, in order),
  output_tail (the end of ansible-playbook's own output, when it failed),
  recap ({host: the PLAY RECAP's counts: ok, changed, skipped, failures, unreachable, rescued, ignored}),
  results (with ``--results TASK``: {TASK: [{host, status, item, and the item's return values}]}, one entry
  per host and loop item of each task of that name, in the order they ran; diffs and invocations left out);
  with ``--absent-env VAR``: ``absent`` = {"in_output": whether the value of $VAR (a secret) appears in
  ansible-playbook's output, "in_results": the tasks whose results hold it}; the value is never printed.
The exit status is 0 even when the playbook failed: the caller asserts on ``rc``.
"""
import difflib
import json
import os
import subprocess
import sys
import tempfile

CALLBACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_plugins")


def item_results(result):
    """A task result, or each item's result for a loop."""
    return result["results"] if isinstance(result.get("results"), list) else [result]


def diff_texts(result):
    """Unified diff texts of a result (modules return before/after, some a prepared text)."""
    diffs = result.get("diff") or []
    for diff in diffs if isinstance(diffs, list) else [diffs]:
        if diff.get("prepared"):
            yield diff["prepared"]
            continue
        before, after = diff.get("before", ""), diff.get("after", "")
        if not isinstance(before, str) or not isinstance(after, str):
            before, after = json.dumps(before, indent=1, sort_keys=True), json.dumps(after, indent=1, sort_keys=True)
        text = "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                            diff.get("before_header", "before"), diff.get("after_header", "after")))
        if text:
            yield text


def task_results(report, names):
    """{task name: [every host's item results, with the host and the task's status]} for the names asked."""
    found = dict((name, []) for name in names)
    for task in report.get("tasks", []):
        if task["task"] in found:
            for item in item_results(task["result"]):
                kept = dict((k, v) for k, v in item.items() if k not in ("diff", "invocation") and not k.startswith("_"))
                kept.update(host=task["host"], status=task["status"])
                found[task["task"]].append(kept)
    return found


def reloaded_count(result):
    """How many (nested) results of one module result say reloaded=true: a module that applies in
    parts (the role's lb_host_apply) reports each part's reload in that part's result."""
    if not isinstance(result, dict):
        return 0
    return (result.get("reloaded") is True) + sum(reloaded_count(value) for value in result.values())


def summarise(report):
    summary = {"changed": 0, "failed": 0, "changed_tasks": [], "reloads": 0, "diffs": [], "errors": [], "messages": [],
               "recap": report.get("stats", {})}
    for host, stats in report.get("stats", {}).items():
        summary["changed"] += stats.get("changed", 0)
        summary["failed"] += 1 if stats.get("failures", 0) or stats.get("unreachable", 0) else 0
    for task in report.get("tasks", []):
        name, result = task["task"], task["result"]
        if result.get("changed"):
            summary["changed_tasks"].append(name)
        if task["status"] in ("failed", "unreachable"):
            summary["errors"].append("%s: %s" % (name, result.get("msg", "")))
        elif result.get("msg") and not result.get("skipped"):
            summary["messages"].append(result["msg"])
        for item in item_results(result):
            summary["reloads"] += reloaded_count(item)
            summary["diffs"].extend(diff_texts(item))
    return summary


def main(argv):
    binary, names, secret_var = "ansible-playbook", [], None
    while argv[:1] in (["--ansible-playbook"], ["--results"], ["--absent-env"]):
        if argv[0] == "--ansible-playbook":
            binary = argv[1]
        elif argv[0] == "--results":
            names.append(argv[1])
        else:
            secret_var = argv[1]
        argv = argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    with tempfile.TemporaryDirectory(prefix="playrun-") as scratch:
        summary_file = os.path.join(scratch, "summary.json")
        env = dict(os.environ, ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, ANSIBLE_CALLBACKS_ENABLED="antman_run_summary",
                   ANTMAN_RUN_SUMMARY=summary_file, ANSIBLE_NOCOLOR="1",
                   # molecule sets ANSIBLE_FORCE_COLOR for its own runs, which would put colour codes into
                   # output_tail (stage 80 turns it off; a run from a terminal does not)
                   ANSIBLE_FORCE_COLOR="0")
        proc = subprocess.run([binary] + argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, env=env, check=False)
        try:
            with open(summary_file) as handle:
                report = json.load(handle)
        except (IOError, OSError, ValueError):
            report = {}
    summary = summarise(report)
    summary["rc"] = proc.returncode
    if names:
        summary["results"] = task_results(report, names)
    secret = os.environ.get(secret_var) if secret_var else None
    if secret_var:
        if not secret:
            raise SystemExit("playrun: --absent-env %s: the variable is empty" % secret_var)
        summary["absent"] = {"in_output": secret in proc.stdout,
                             "in_results": sorted(set(task["task"] for task in report.get("tasks", [])
                                                      if secret in json.dumps(task["result"], default=str)))}
    if proc.returncode:
        summary["output_tail"] = proc.stdout.strip()[-3000:]
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
