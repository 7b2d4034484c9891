#!/usr/bin/env bash
# runs beside the next stage
# The collection as users get it: build the tarball from the checkout, check what it contains,
# install it into an empty collections path, and run tests/install/site.yml (every module and
# role by FQCN, against a private nginx) with nothing else on the collections path.
source "$(dirname "$0")/../lib.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/antman-galaxy-XXXXXX")"
trap 'rm -rf "$work"' EXIT

log "every module and role is used by tests/install"
missing=()
for module in "$ROOT"/plugins/modules/*.py; do
  name="antsle.antman.$(basename "$module" .py)"
  grep -rqE "^\s*$name:" "$ROOT/tests/install" || missing+=("module $name")
done
for role in "$ROOT"/roles/*/; do
  [ -d "$role" ] || continue
  name="antsle.antman.$(basename "$role")"
  grep -rqF "$name" "$ROOT/tests/install" || missing+=("role $name")
done
if [ "${#missing[@]}" -gt 0 ]; then
  printf 'not used by tests/install (add tasks/<name>.yml and list it in site.yml): %s\n' "${missing[*]}" >&2
  exit 1
fi

log "ansible-galaxy collection build"
ansible-galaxy collection build "$ROOT" --output-path "$work/dist"
tarball="$(ls "$work"/dist/antsle-antman-*.tar.gz)"
tar tvzf "$tarball" > "$work/listing"
tar tzf "$tarball" > "$work/files"
echo "$(wc -l < "$work/files") entries, $(du -k "$tarball" | cut -f1) KiB"
if grep -q '^l' "$work/listing"; then
  echo "the tarball contains symlinks:" >&2; grep '^l' "$work/listing" >&2; exit 1
fi
forbidden='^(tests/output/|\.venv|build/|collections/|docs/build/|\.git/|\.ci/)|/__pycache__/|\.pyc$|(^|/)\.pytest_cache/|\.tar\.gz$'
if grep -E "$forbidden" "$work/files"; then
  echo "the tarball contains test output, venvs, build or cache files (above)" >&2; exit 1
fi
# Development tools and the tests a user does not run (galaxy.yml build_ignore; docs/development.md).
if grep -E '^(bench|scripts)/|^tests/(unit|functional|tooling|integration|install|docs)/|^tests/support/(harness|host_layouts|hostile_cases)\.py$' "$work/files"; then
  echo "the tarball contains development tools or tests a user of the collection does not run (above)" >&2; exit 1
fi
for expected in MANIFEST.json FILES.json meta/runtime.yml README.md CHANGELOG.md changelogs/changelog.yaml \
    plugins/modules/lb_rule.py plugins/module_utils/host/transaction.py plugins/doc_fragments/host.py; do
  grep -qx "$expected" "$work/files" || { echo "the tarball lacks $expected" >&2; exit 1; }
done

log "ansible-galaxy collection install into an empty collections path"
export ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
galaxy_dependencies_offline "$work/collections"
ansible-galaxy collection install --offline -p "$work/collections" "$tarball"
installed="$(ansible-doc --json -t module antsle.antman.lb_rule | python -c 'import json,sys; print(json.load(sys.stdin)["antsle.antman.lb_rule"]["doc"]["filename"])')"
case "$installed" in
  "$work/collections/"*) echo "modules load from $installed" ;;
  *) echo "antsle.antman.lb_rule loads from $installed, not from the installed tarball" >&2; exit 1 ;;
esac

log "playbook using every module and role by FQCN"
ANSIBLE_ROLES_PATH="$ROOT/tests/integration/targets" ansible-playbook -i localhost, "$ROOT/tests/install/site.yml"
