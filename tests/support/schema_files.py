"""Files generated from the rule schema (plugins/module_utils/model/schema.py), the one source of
the rule fields:

- the DOCUMENTATION of every module that takes rule fields: in any module file (``plugins/modules``,
  a role's ``library``), the lines between ``# BEGIN schema <block>`` and ``# END schema <block>``
  (at the indentation of those lines) are the options of ``BLOCKS[<block>]``, so that a reader of
  ``plugins/modules/lb_rule.py`` sees every option, as ansible-doc does;
- the role's argument specs, whose ``antman_lb_rules`` options are the rule fields plus the
  inventory ones.

(The modules' argument specs are derived from the schema at import and need no file.)

  python -m ansible_collections.antsle.antman.tests.support.schema_files --write [--root DIR]   regenerate
  python -m ansible_collections.antsle.antman.tests.support.schema_files --check [--root DIR]   exit 1 if stale

scripts/generate-schema-files.sh runs the first on the checkout; tests/unit/plugins/modules/test_documentation.py
and tests/unit/roles/test_load_balancer_specs.py fail when a committed file is not what this generates.
"""
import argparse
import glob
import os
import re
import sys

import yaml

from ansible_collections.antsle.antman.plugins.module_utils.model.schema import (
    RULE_FIELDS, option_docs, role_rule_options)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ROLE_SPECS = os.path.join("roles", "load_balancer", "meta", "argument_specs.yml")
MODULE_FILES = ("plugins/modules/*.py", "roles/*/library/*.py")
# The generated blocks of module documentation: {name: the options it holds}.
BLOCKS = {
    "rule_options": lambda: option_docs(RULE_FIELDS),  # lb_rule: the rule fields as its options
    "config_rule_options": lambda: option_docs(RULE_FIELDS, refs="config[]."),  # lb_rules: config[]'s suboptions
}
BLOCK_RE = re.compile(r"^(?P<indent> *)# BEGIN schema (?P<block>\w+)\b[^\n]*\n.*?^(?P=indent)# END schema (?P=block)\n",
                      re.MULTILINE | re.DOTALL)
BEGIN = ("%s# BEGIN schema %s: generated from plugins/module_utils/model/schema.py by "
         "scripts/generate-schema-files.sh; edit the fields there\n")
# Module files are Python: their lines stay within pep8's limit (ansible-test sanity, 160).
DOC_WIDTH = 100
HEADER = ("---\n# The options of antman_lb_rules are generated from the rule schema\n"
          "# (plugins/module_utils/model/schema.py): edit them there and run scripts/generate-schema-files.sh.\n"
          "# The role's own variables are written under main; the other entry points take main's options.\n")


class BlockDumper(yaml.SafeDumper):
    """Lists indented under their key, as the rest of the collection's YAML is written."""

    def increase_indent(self, flow=False, indentless=False):
        return super(BlockDumper, self).increase_indent(flow, False)


def plain(value):
    if isinstance(value, dict):
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


# The role's entry points besides main (tasks_from): each takes the same variables as main.
ENTRY_POINTS = {
    "install": ("Install nginx (and its stream module when rules need it) on an antsle host",
                ["The install part of P(antsle.antman.load_balancer#role) alone (C(tasks_from: install))."]),
    "configure": ("Apply the base configuration and keep nginx running",
                  ["The configure part of P(antsle.antman.load_balancer#role) alone (C(tasks_from: configure)): the "
                   "http-level drop-in, the stream context and the default site, as one validated change "
                   "(C(nginx -t), reload, every file put back if nginx refuses it), then nginx "
                   "started if it does not run.",
                   "The first step on a host for users of the modules: it never touches a rule, needs no "
                   "C(antman_lb_rules), and gives the ports of C(antman_lb_extra_ports) and of the managed rules "
                   "already there a catch-all server."]),
    "rules": ("Apply the rules from inventory",
              ["The rules part of P(antsle.antman.load_balancer#role) alone (C(tasks_from: rules)): "
               "C(antman_lb_rules) applied with M(antsle.antman.lb_rules) in one step."]),
    "ha": ("Join a highly available pair of antsle hosts (keepalived VRRP)",
           ["The highly available pair part of P(antsle.antman.load_balancer#role) alone (C(tasks_from: ha)): "
            "keepalived installed, its configuration from C(antman_lb_ha) tested with C(keepalived -t) and used, "
            "the health checks of this host's nginx. See docs/ha.md."]),
}


def role_argument_specs(text):
    """The role's argument_specs.yml: main as written, with the options of ``antman_lb_rules`` from
    the schema, and the other entry points taking main's options."""
    specs = yaml.safe_load(text)
    main = specs["argument_specs"]["main"]
    main["options"]["antman_lb_rules"]["options"] = plain(role_rule_options())
    for name, (short, description) in ENTRY_POINTS.items():
        specs["argument_specs"][name] = {"short_description": short, "description": description,
                                         "author": main["author"], "options": main["options"]}
    return HEADER + yaml.dump(plain(specs), Dumper=BlockDumper, sort_keys=False, default_flow_style=False, width=110)


def generated_block(match):
    """The text of one ``# BEGIN schema`` block, markers included, from the schema."""
    indent, block = match.group("indent"), match.group("block")
    if block not in BLOCKS:
        raise ValueError("unknown generated block %r (known: %s)" % (block, ", ".join(sorted(BLOCKS))))
    text = yaml.dump(plain(BLOCKS[block]()), Dumper=BlockDumper, sort_keys=False, default_flow_style=False,
                     width=DOC_WIDTH)
    body = "".join(indent + line + "\n" for line in text.splitlines())
    return BEGIN % (indent, block) + body + "%s# END schema %s\n" % (indent, block)


def module_documentation(text):
    """A module file's text with its generated blocks as the schema has them."""
    return BLOCK_RE.sub(generated_block, text)


def module_files(root=ROOT):
    """The module files (relative paths) that hold a generated block."""
    paths = []
    for pattern in MODULE_FILES:
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            with open(path) as handle:
                if BLOCK_RE.search(handle.read()):
                    paths.append(os.path.relpath(path, root))
    return paths


def generated(root=ROOT):
    """{relative path: text it should have}."""
    files = {}
    with open(os.path.join(root, ROLE_SPECS)) as handle:
        files[ROLE_SPECS] = role_argument_specs(handle.read())
    for path in module_files(root):
        with open(os.path.join(root, path)) as handle:
            files[path] = module_documentation(handle.read())
    return files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the generated files")
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    parser.add_argument("--root", default=ROOT, help="the collection's checkout (default: the one this file is in)")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated(args.root).items():
        with open(os.path.join(args.root, path)) as handle:
            current = handle.read()
        if current == text:
            continue
        stale.append(path)
        if args.write:
            with open(os.path.join(args.root, path), "w") as handle:
                handle.write(text)
            print("wrote %s" % path)
    if args.check and stale:
        print("stale (run scripts/generate-schema-files.sh): %s" % ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
