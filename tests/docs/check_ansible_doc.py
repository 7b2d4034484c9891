# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check what ``ansible-doc`` shows for every module and role of the collection.

Usage: python check_ansible_doc.py COLLECTION_ROOT   (the collection must be on ANSIBLE_COLLECTIONS_PATH)

For each module in plugins/modules: every option (and suboption) has a description and a type,
list options say their elements, defaults are among the choices; check_mode and diff_mode
support is declared; the examples are YAML tasks that call the module by FQCN; every return value
has a description, a type and (at the top level) ``returned``; and the text ``ansible-doc`` prints names every
option and return value. For each role with meta/argument_specs.yml: ``ansible-doc -t role``
shows its entry points with typed, described options. Prints one line per problem.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import yaml

COLLECTION = "antsle.antman"
SUPPORT_LEVELS = ("full", "partial", "none", "N/A")


def ansible_doc(*args):
    proc = subprocess.run(["ansible-doc"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    if proc.returncode != 0:
        raise SystemExit("ansible-doc %s failed: %s" % (" ".join(args), proc.stderr.strip()))
    return proc.stdout


def check_options(where, options, problems):
    for name, spec in sorted((options or {}).items()):
        path = "%s.%s" % (where, name)
        if not spec.get("description"):
            problems.append("%s: no description" % path)
        if not spec.get("type"):
            problems.append("%s: no type" % path)
        if spec.get("type") == "list" and not spec.get("elements"):
            problems.append("%s: list without elements" % path)
        if spec.get("choices") and spec.get("default") is not None:
            defaults = spec["default"] if isinstance(spec["default"], list) else [spec["default"]]
            if any(value not in spec["choices"] for value in defaults):
                problems.append("%s: default %r is not among the choices" % (path, spec["default"]))
        check_options(path, spec.get("suboptions"), problems)


def check_returns(where, returns, problems, top_level=True):
    for name, spec in sorted((returns or {}).items()):
        path = "%s.%s" % (where, name)
        # `returned` is required for top-level values; entries of `contains` inherit it.
        for key in ("description", "returned", "type") if top_level else ("description", "type"):
            if not spec.get(key):
                problems.append("%s: no %s" % (path, key))
        check_returns(path, spec.get("contains"), problems, top_level=False)


def check_examples(fqcn, examples, problems):
    try:
        tasks = yaml.safe_load(examples or "")
    except yaml.YAMLError as error:
        problems.append("%s EXAMPLES: not YAML: %s" % (fqcn, error))
        return
    if not isinstance(tasks, list) or not tasks:
        problems.append("%s EXAMPLES: no tasks" % fqcn)
        return
    if not any(isinstance(task, dict) and fqcn in task for task in tasks):
        problems.append("%s EXAMPLES: no task calls %s by its FQCN" % (fqcn, fqcn))
    if any(isinstance(task, dict) and not task.get("name") for task in tasks):
        problems.append("%s EXAMPLES: a task without a name" % fqcn)


def check_module(fqcn, problems):
    data = json.loads(ansible_doc("--json", "-t", "module", fqcn))[fqcn]
    doc = data["doc"]
    for key in ("short_description", "description", "author", "version_added"):
        if not doc.get(key):
            problems.append("%s: no %s" % (fqcn, key))
    for attribute in ("check_mode", "diff_mode"):
        support = (doc.get("attributes") or {}).get(attribute, {}).get("support")
        if support not in SUPPORT_LEVELS:
            problems.append("%s: attribute %s does not declare its support (%r)" % (fqcn, attribute, support))
    check_options(fqcn, doc.get("options"), problems)
    check_examples(fqcn, data.get("examples"), problems)
    if not data.get("return"):
        problems.append("%s: no RETURN" % fqcn)
    check_returns(fqcn + " RETURN", data.get("return"), problems)

    text = ansible_doc("-t", "module", fqcn)
    for heading in ("OPTIONS", "ATTRIBUTES", "EXAMPLES:", "RETURN VALUES:"):
        if heading not in text:
            problems.append("%s: ansible-doc text has no %s section" % (fqcn, heading))
    for name in list(doc.get("options") or {}) + list(data.get("return") or {}):
        if name not in text:
            problems.append("%s: ansible-doc text does not show %s" % (fqcn, name))


def check_role(fqcn, problems):
    data = json.loads(ansible_doc("--json", "-t", "role", fqcn)).get(fqcn)
    if not data or not data.get("entry_points"):
        problems.append("%s: ansible-doc -t role shows no entry points" % fqcn)
        return
    for entry_point, spec in sorted(data["entry_points"].items()):
        where = "%s:%s" % (fqcn, entry_point)
        if not spec.get("short_description"):
            problems.append("%s: no short_description" % where)
        check_options(where, spec.get("options"), problems)


def main(root):
    problems = []
    modules_dir = os.path.join(root, "plugins", "modules")
    modules = sorted(os.path.splitext(name)[0] for name in os.listdir(modules_dir)
                     if name.endswith(".py") and not name.startswith("_"))
    listed = json.loads(ansible_doc("--list", "--json", "-t", "module", COLLECTION))
    for name in modules:
        fqcn = "%s.%s" % (COLLECTION, name)
        if fqcn not in listed:
            problems.append("%s: not listed by ansible-doc --list" % fqcn)
            continue
        check_module(fqcn, problems)
    roles_dir = os.path.join(root, "roles")
    roles = sorted(name for name in (os.listdir(roles_dir) if os.path.isdir(roles_dir) else [])
                   if os.path.isfile(os.path.join(roles_dir, name, "meta", "argument_specs.yml")))
    for name in roles:
        check_role("%s.%s" % (COLLECTION, name), problems)
    for problem in problems:
        print(problem)
    print("ansible-doc: %d module(s), %d role(s) checked, %d problem(s)" % (len(modules), len(roles), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
