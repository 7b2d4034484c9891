#!/usr/bin/env bash
# Regenerate the files derived from the rule schema (plugins/module_utils/model/schema.py): the
# role's meta/argument_specs.yml. Run it after changing a rule field; commit the result.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh" >/dev/null
cd "$TREE" || exit 1
PYTHONPATH="$COLLECTIONS" python -m ansible_collections.antsle.antman.tests.support.schema_files --write
cp "$TREE/roles/load_balancer/meta/argument_specs.yml" "$ROOT/roles/load_balancer/meta/argument_specs.yml"
