# -*- coding: utf-8 -*-
# Copyright: antsle.antman contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check what ``ansible-doc`` shows for every module and role of the collection.

Usage: python check_ansible_doc.py COLLECTION_ROOT   (the collection must be on ANSIBLE_COLLECTIONS_PATH)

``ansible-doc --list`` shows exactly the modules of plugins/modules (not the load_balancer role's own
modules in plugins/modules/__load_balancer/). For each of them, and each of the role's: every option (and suboption) has a description and a type,
list options say their elements, defaults are among the choices; check_mode and diff_mode
support is declared; the examples are YAML tasks that call the module by FQCN; every return value
has a description, a type and (at the top level) ``returned``; and the text ``ansible-doc`` prints names every
option and return value. For each role with meta/argument_specs.yml: ``ansible-doc -t role``
shows its entry points with typed, described options, and its docs/role.md names every variable of
its defaults/main.yml and argument specs.

Across all of it, two classes of documentation that says the wrong thing:
- a default stated in the text ("Default V(true)", "defaults to V(5s)", "(default 80)") that is not
  the option's structured ``default`` (ansible-doc then shows ``default: null`` beside it);
- markup that ansible-doc cuts short: a ``)`` inside ``C(...)`` (and the other markup without
  escapes) ends it early, leaving an unbalanced ``(`` in the markup and the rest as plain text.
Prints one line per problem.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys

import yaml
from antsibull_docs_parser import dom
from antsibull_docs_parser.parser import Context, parse

COLLECTION = "antsle.antman"
SUPPORT_LEVELS = ("full", "partial", "none", "N/A")


def ansible_doc(*args):
    proc = subprocess.run(["ansible-doc"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    if proc.returncode != 0:
        raise SystemExit("ansible-doc %s failed: %s" % (" ".join(args), proc.stderr.strip()))
    return proc.stdout


# A default given in words: "Default V(x)", "defaults to V(x)", "default is V(x)", "(default 80)"; not
# "nginx's own default is 60s", which says what the option replaces.
DEFAULT_TEXT_RE = re.compile(r"(?<!own )\b[Dd]efault(?:s to| is)?:? (?:V\(((?:[^)\\]|\\.)*)\)|(\d[\w.]*))")
# Markup whose content ends at the first ")", with no escapes: C(), I(), B(), M(), P(), U(), L(). (V(), O(),
# RV() and E() take "\)" for a parenthesis.)
CODE_PARTS = ("CODE", "ITALIC", "BOLD", "MODULE", "PLUGIN", "URL", "LINK")


def paragraphs(value):
    if isinstance(value, str):
        return [value]
    return [text for text in value or [] if isinstance(text, str)]


def shown_value(value):
    """An option value as the documentation writes it inside V(...)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[%s]" % ", ".join(shown_value(item) for item in value)
    return str(value)


def check_default_text(path, spec, problems):
    """A default the description states must be the structured default, which ansible-doc shows."""
    for text in paragraphs(spec.get("description")):
        for match in DEFAULT_TEXT_RE.finditer(text):
            stated = (match.group(1) if match.group(1) is not None else match.group(2)).replace("\\)", ")")
            if spec.get("default") is None:
                problems.append("%s: the text states the default %r but the option has no structured default "
                                "(ansible-doc shows default: null)" % (path, stated))
            elif stated != shown_value(spec["default"]):
                problems.append("%s: the text states the default %r, the option's default is %r"
                                % (path, stated, spec["default"]))


def check_markup(path, value, problems):
    """Markup ansible-doc renders wrong: a ")" inside C(...) and the like ends the markup early."""
    for text in paragraphs(value):
        for paragraph in parse(text, Context(), errors="message"):
            for part in paragraph:
                if part.type == dom.PartType.ERROR:
                    problems.append("%s: markup error %s in %r" % (path, part.message, text))
                    continue
                if part.type.name not in CODE_PARTS:
                    continue
                content = " ".join(str(getattr(part, key, "") or "") for key in ("text", "value", "name", "fqcn", "url"))
                if content.count("(") != content.count(")"):
                    problems.append("%s: markup cut short at a ')' (ansible-doc shows %r, then the rest as text): %r"
                                    % (path, content.strip(), text))


def check_options(where, options, problems):
    for name, spec in sorted((options or {}).items()):
        path = "%s.%s" % (where, name)
        check_default_text(path, spec, problems)
        check_markup(path, spec.get("description"), problems)
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
        check_markup(path, spec.get("description"), problems)
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
    for key in ("description", "notes"):
        check_markup("%s %s" % (fqcn, key), doc.get(key), problems)
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
        check_markup(where + " description", spec.get("description"), problems)
        check_options(where, spec.get("options"), problems)


ROLE_VARIABLE_RE = re.compile(r"`(antman_[a-z0-9_]+)`")


def check_role_variables(root, role, problems, doc="docs/role.md"):
    """Every variable of the role's defaults/main.yml and argument specs (every entry point) is
    named in ``doc`` (its table of variables), so that a user reading it finds every one."""
    with open(os.path.join(root, "roles", role, "defaults", "main.yml")) as handle:
        variables = set(yaml.safe_load(handle) or {})
    with open(os.path.join(root, "roles", role, "meta", "argument_specs.yml")) as handle:
        for entry in (yaml.safe_load(handle) or {}).get("argument_specs", {}).values():
            variables.update(entry.get("options") or {})
    with open(os.path.join(root, doc)) as handle:
        documented = set(ROLE_VARIABLE_RE.findall(handle.read()))
    for name in sorted(variables - documented):
        problems.append("%s: role %s's variable %s is not documented there" % (doc, role, name))


def main(root):
    problems = []
    modules_dir = os.path.join(root, "plugins", "modules")
    modules = sorted(os.path.splitext(name)[0] for name in os.listdir(modules_dir)
                     if name.endswith(".py") and not name.startswith("_"))
    # The load_balancer role's own modules: documented like the others, listed nowhere (ansible-doc does not
    # list a directory whose name starts with "__"), so a user reading the list sees only what is for them.
    internal = sorted("%s.%s" % (directory, os.path.splitext(name)[0])
                      for directory in os.listdir(modules_dir) if directory.startswith("__")
                      and os.path.isdir(os.path.join(modules_dir, directory))
                      for name in os.listdir(os.path.join(modules_dir, directory)) if name.endswith(".py"))
    listed = json.loads(ansible_doc("--list", "--json", "-t", "module", COLLECTION))
    public = ["%s.%s" % (COLLECTION, name) for name in modules]
    if sorted(listed) != public:
        problems.append("ansible-doc --list shows %s, not the user modules %s" % (sorted(listed), public))
    for name in modules + internal:
        check_module("%s.%s" % (COLLECTION, name), problems)
    roles_dir = os.path.join(root, "roles")
    roles = sorted(name for name in (os.listdir(roles_dir) if os.path.isdir(roles_dir) else [])
                   if os.path.isfile(os.path.join(roles_dir, name, "meta", "argument_specs.yml")))
    for name in roles:
        check_role("%s.%s" % (COLLECTION, name), problems)
        check_role_variables(root, name, problems)
    for problem in problems:
        print(problem)
    print("ansible-doc: %d module(s) (%d internal to the role), %d role(s) checked, %d problem(s)"
          % (len(modules) + len(internal), len(internal), len(roles), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
