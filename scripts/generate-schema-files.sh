#!/usr/bin/env bash
# Regenerate the files derived from the rule schema (plugins/module_utils/model/schema.py): the
# rule options in the DOCUMENTATION of the modules (plugins/modules/lb_rule.py, lb_rules.py) and
# the role's meta/argument_specs.yml. Run it after changing a rule field; commit the result.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh" >/dev/null
cd "$TREE" || exit 1
PYTHONPATH="$COLLECTIONS" python -m ansible_collections.antsle.antman.tests.support.schema_files --write --root "$ROOT"
