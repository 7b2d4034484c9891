"""The README's playbooks, read from README.md and run exactly as written on a Debian host of their
own (tests/support/private_host.py: this machine's /etc/nginx package files, private mounts and
network): the first step of a user of the modules, the example that creates, edits, lists and
deletes a rule, and the host options set once for every module through the action group. Also,
statically, that the loops of every documented playbook label their items."""
import glob
import os

import pytest
import yaml

from ansible_collections.antsle.antman.tests.support.paths import COLLECTION
from ansible_collections.antsle.antman.tests.support.private_host import PrivateHost, doc_block

FIRST_STEP = "- name: Prepare nginx on the antsle hosts for the lb_* modules"
EXAMPLE = "- name: Load balancing on the antsle host"
GROUP = "- name: Rules in a directory of your choice"
BASE_TASK = "antsle.antman.load_balancer : Apply the base configuration, the rules and the health agent, each " \
            "validated as one change"


def task_names(text):
    return [task["name"] for play in yaml.safe_load(text) for task in play["tasks"]]


def only(results, name):
    (result,) = results[name]
    assert result["status"] == "ok", result
    return result


@pytest.fixture
def host(tmp_path):
    instance = PrivateHost(tmp_path / "host").start()
    yield instance
    instance.stop()


def test_the_first_step_then_the_example_as_written(host):
    """The first step makes a Debian host ready for lb_rule (rules directory included, unknown Host
    names answered with 421 on the rules' ports) and agrees with itself on a second run; the example
    then creates the rule on port 8080, edits it without giving server_port (the rule stays on 8080),
    lists it and deletes it; the first step still changes nothing afterwards."""
    first_step, example = doc_block("README.md", FIRST_STEP), doc_block("README.md", EXAMPLE)
    first = host.play(first_step, "first-step", options=["--diff"])
    assert first["rc"] == 0, first
    assert first["changed_tasks"] == [BASE_TASK, "antsle.antman.load_balancer : Start nginx directly (no init system, "
                                      "or an nginx systemd does not run)"], first["changed_tasks"]
    assert host.get(80, "unknown.example")[0] == 421 and host.get(8080, "unknown.example")[0] == 421
    assert host.play(first_step, "first-step")["changed"] == 0

    create, edit, listing, table, delete = task_names(example)
    ran = host.play(example, "example", results=[create, edit, listing, table, delete])
    assert ran["rc"] == 0, ran
    results = ran["results"]
    created, edited = only(results, create)["rule"], only(results, edit)["rule"]
    assert created["server_port"] == 8080 and created["read_timeout"] == "5s"
    assert edited == dict(created, server_name=["my-balanced-page.local", "www.example.com"], read_timeout="30s",
                          upstreams=[dict(created["upstreams"][0]), dict(created["upstreams"][1], down=True),
                                     dict(created["upstreams"][2])])
    (listed,) = only(results, listing)["rules"]
    assert listed["name"] == "my-balanced-page" and listed["server_port"] == 8080
    assert [u["reachable"] for u in listed["upstreams"]] == [False, False, False]  # no antlets on this host
    assert [item["msg"].split(" -> ")[1].split()[0] for item in results[table]] == [
        "10.1.1.102:80", "10.1.1.103:80", "10.1.1.104:80"]
    assert only(results, delete)["changed"]
    assert host.get(8080, "my-balanced-page.local")[0] == 421
    assert not os.listdir(host.path("/etc/nginx/antman.d"))
    assert host.play(first_step, "first-step")["changed"] == 0


def test_the_host_options_once_for_every_module_through_the_action_group(host):
    block = doc_block("README.md", GROUP)
    configure, rule, read = task_names(block)
    ran = host.play(block, "group", results=[rule, read])
    assert ran["rc"] == 0, ran
    assert only(ran["results"], rule)["config_file"] == "/etc/nginx/balancer.d/api.conf"
    assert [r["name"] for r in only(ran["results"], read)["rules"]] == ["api"]
    assert os.path.isfile(host.path("/etc/nginx/balancer.d/api.conf"))
    assert not os.path.exists(host.path("/etc/nginx/antman.d"))
    # Served from there: the rule proxies (its antlet is unreachable here: 502), other names get 421.
    assert host.get(8080, "api.example.com")[0] == 502
    assert host.get(8080, "unknown.example")[0] == 421


def yaml_blocks():
    """(file, text) of every fenced yaml block of README.md and docs/*.md."""
    for path in [os.path.join(COLLECTION, "README.md")] + sorted(glob.glob(os.path.join(COLLECTION, "docs", "*.md"))):
        with open(path) as handle:
            lines = handle.read().split("\n")
        current = None
        for line in lines:
            if current is None and line.strip() == "```yaml":
                current = []
            elif current is not None and line.strip() == "```":
                yield os.path.relpath(path, COLLECTION), "\n".join(current)
                current = None
            elif current is not None:
                current.append(line)


def tasks_of(data):
    """Every task (a mapping with a module or a block) in a documented playbook, task list or vars."""
    if isinstance(data, list):
        for item in data:
            yield from tasks_of(item)
    elif isinstance(data, dict):
        if "loop" in data or "with_items" in data:
            yield data
        for key in ("tasks", "block", "rescue", "always", "pre_tasks", "post_tasks", "handlers"):
            yield from tasks_of(data.get(key))


def test_every_documented_loop_labels_its_items():
    """A loop without loop_control.label prints each whole item (every rule, once per upstream)."""
    unlabelled = []
    for path, text in yaml_blocks():
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            continue  # not a playbook (docs/ha.md shows two host_vars files side by side)
        for task in tasks_of(data):
            if not (task.get("loop_control") or {}).get("label"):
                unlabelled.append("%s: %s" % (path, task.get("name")))
    assert unlabelled == []
