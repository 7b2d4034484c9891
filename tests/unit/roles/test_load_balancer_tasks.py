"""The load_balancer role's tasks order work and template files; they derive nothing. Every fact they
use comes from the collection's Python (the plan of filter lb_role_plan, the role's host module
lb_host_facts, the other filters), so the role and the modules cannot disagree:

- no grammar, parsing or file layout is typed in the tasks (no regular expression, no splitting of a
  value, no path joined from parts, no /proc, no piece of the ACME layout);
- each ``_antman_lb_*`` fact is set by one task only (set_fact or register), never overwritten with
  another meaning;
- every ``_antman_lb_*`` name the tasks and templates use is set somewhere: by a task (set_fact,
  register, or the task's own ``vars``), by the role's vars files, or as the entry point's name."""
import os
import re

import yaml

from ansible_collections.antsle.antman.tests.support.schema_files import ROOT

ROLE = os.path.join(ROOT, "roles", "load_balancer")
TASKS = os.path.join(ROLE, "tasks")
FACT_RE = re.compile(r"\b_antman_lb_[a-z0-9_]+")
# What a task may not do: the model's work (Python) typed again in YAML.
DERIVED = {
    "a regular expression": re.compile(r"\bis (?:not )?(?:match|search|regex)\b|regex_|\bregex\("),
    "a value split apart": re.compile(r"\.r?split\(|\| *split\b|\.partition\("),
    "a path joined from parts": re.compile(r"\}\}/|\| *(?:dirname|basename|path_join)\b|~ *['\"]/"),
    "/proc read by the role": re.compile(r"/proc/"),
    "a piece of the ACME layout": re.compile(r"/private\b|/certs\b|/issued\b|/challenge\b|account\.key|\.well-known"),
    "an entry-point guard": re.compile(r"_antman_lb_facts_known"),
}
# Given to facts.yml by each entry point.
ENTRY = "_antman_lb_entry"


def role_vars():
    """The names the role's vars files define (its data, and conditions templated when a task asks)."""
    names = set()
    for name in os.listdir(os.path.join(ROLE, "vars")):
        with open(os.path.join(ROLE, "vars", name)) as handle:
            names.update(yaml.safe_load(handle) or {})
    return names


def task_files():
    return sorted(name for name in os.listdir(TASKS) if name.endswith(".yml"))


def tasks_of(items):
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from tasks_of(task.get(key))


def setters():
    """{fact name: ["file: task name", ...]} for every set_fact key, register and task variable of the tasks
    (an import's ``vars`` excepted: the entry point's name)."""
    found = {}
    for name in task_files():
        with open(os.path.join(TASKS, name)) as handle:
            tasks = yaml.safe_load(handle) or []
        for task in tasks_of(tasks):
            names = list(task.get("ansible.builtin.set_fact") or {}) + ([task["register"]] if "register" in task else [])
            if "ansible.builtin.import_tasks" not in task:
                names += list(task.get("vars") or {})
            for fact in names:
                found.setdefault(fact, []).append("%s: %s" % (name, task.get("name")))
    return found


def test_the_tasks_derive_no_grammar_and_no_layout():
    found = []
    for name in task_files():
        with open(os.path.join(TASKS, name)) as handle:
            for number, line in enumerate(handle, 1):
                text = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
                for what, pattern in DERIVED.items():
                    if pattern.search(text):
                        found.append("tasks/%s:%d: %s: %s" % (name, number, what, line.strip()))
    assert found == []


def test_each_fact_is_set_by_one_task():
    facts = setters()
    assert "_antman_lb_plan" in facts and "_antman_lb_host" in facts
    assert dict((fact, where) for fact, where in facts.items() if len(where) > 1) == {}
    assert [fact for fact in facts if not fact.startswith("_antman_lb_")] == []
    assert sorted(set(facts) & role_vars()) == []


def test_no_fact_is_registered_by_a_task_imported_under_a_condition():
    """An imported task skipped by its condition still registers (a skipped result): a fact set
    earlier by the same task, imported a second time under a condition, would be replaced by it.
    Such an import must be an include (skipped as a whole)."""
    found = []
    for name in task_files():
        with open(os.path.join(TASKS, name)) as handle:
            for task in tasks_of(yaml.safe_load(handle) or []):
                imported = task.get("ansible.builtin.import_tasks")
                if imported and "when" in task:
                    with open(os.path.join(TASKS, imported)) as inner:
                        found.extend("%s imports %s under a condition, which registers %s" % (name, imported, t["register"])
                                     for t in tasks_of(yaml.safe_load(inner) or []) if "register" in t)
    assert found == []


def test_every_fact_used_is_set():
    used = set()
    for directory in ("tasks", "templates", "handlers", "vars"):
        for name in os.listdir(os.path.join(ROLE, directory)):
            with open(os.path.join(ROLE, directory, name)) as handle:
                used.update(FACT_RE.findall(handle.read()))
    loop_vars = set()
    for name in task_files():
        with open(os.path.join(TASKS, name)) as handle:
            for task in tasks_of(yaml.safe_load(handle) or []):
                loop_vars.add((task.get("loop_control") or {}).get("loop_var"))
    assert sorted(used - set(setters()) - role_vars() - {ENTRY} - loop_vars) == []


def test_the_checks_above_catch_what_they_look_for():
    """Each pattern finds the kind of line the role had before its facts came from Python."""
    before = {
        "a regular expression": "      - antman_lb_rules_dir is match('^/[A-Za-z0-9._/-]+$')",
        "a value split apart": "    that: (antman_lb_status_listen.rsplit(':', 1)[1] | int) not in _antman_lb_ports",
        "a path joined from parts": "    path: \"{{ antman_lb_acme_dir }}/private/account.key\"",
        "/proc read by the role": "    path: /proc/net/if_inet6",
        "a piece of the ACME layout": "    - {path: \"{{ antman_lb_acme_dir }}/certs\", mode: \"0755\"}",
        "an entry-point guard": "  when: not _antman_lb_facts_known | default(false)",
    }
    for what, line in before.items():
        assert DERIVED[what].search(line), what
