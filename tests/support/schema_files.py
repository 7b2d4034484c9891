"""Files generated from the rule schema (plugins/module_utils/model/schema.py), the one source of
the rule fields: today the role's argument specs, whose ``antman_lb_rules`` options are the rule
fields plus the inventory ones. (The modules' argument specs and documentation are derived from the
schema at import and need no file.)

  python -m ansible_collections.antsle.antman.tests.support.schema_files --write   regenerate
  python -m ansible_collections.antsle.antman.tests.support.schema_files --check   exit 1 if stale

scripts/generate-schema-files.sh runs the first; tests/unit/roles/test_load_balancer_specs.py
fails when a committed file is not what this generates.
"""
import argparse
import os
import sys

import yaml

from ansible_collections.antsle.antman.plugins.module_utils.model.schema import role_rule_options

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ROLE_SPECS = os.path.join("roles", "load_balancer", "meta", "argument_specs.yml")
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


def generated(root=ROOT):
    """{relative path: text it should have}."""
    with open(os.path.join(root, ROLE_SPECS)) as handle:
        return {ROLE_SPECS: role_argument_specs(handle.read())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the generated files")
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        with open(os.path.join(ROOT, path)) as handle:
            current = handle.read()
        if current == text:
            continue
        stale.append(path)
        if args.write:
            with open(os.path.join(ROOT, path), "w") as handle:
                handle.write(text)
            print("wrote %s" % path)
    if args.check and stale:
        print("stale (run scripts/generate-schema-files.sh): %s" % ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
